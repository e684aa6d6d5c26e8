/* decode.c - the decode-only baseline of bench/replay: read every event of a
 * trace through the batch reader and fold it into a checksum, so the
 * replay's cost can be compared with the cost of just reading the trace.
 * Prints "events N checksum X seconds S events_per_s R".
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "traces/trace.h"

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: bench_decode TRACE\n");
        return 2;
    }
    as_trace_reader_t *r = NULL;
    int rc = as_trace_reader_open(&r, argv[1]);
    if (rc) {
        fprintf(stderr, "%s\n", r ? as_trace_reader_error(r) : argv[1]);
        return 2;
    }
    static as_event_t ev[4096];
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    uint64_t n = 0, sum = 0;
    long got;
    while ((got = as_trace_reader_next_batch(r, ev, 4096)) > 0) {
        for (long i = 0; i < got; i++)
            sum += ev[i].object ^ ev[i].size ^ ev[i].t_ns;
        n += (uint64_t)got;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (got < 0) {
        fprintf(stderr, "%s\n", as_trace_reader_error(r));
        return 2;
    }
    double s =
        (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) * 1e-9;
    printf("events %llu checksum %llx seconds %.3f events_per_s %.0f\n",
           (unsigned long long)n, (unsigned long long)sum, s, n / s);
    as_trace_reader_close(r);
    return 0;
}

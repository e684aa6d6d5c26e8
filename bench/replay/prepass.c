/* prepass.c - the oracle's pre-pass alone (sim/oracle.c), timed with 1
 * thread and with more: `bench_prepass TRACE ROUNDS THREADS...` builds the
 * table ROUNDS times for each thread count in turn (interleaved) and
 * prints, per build, "threads T parallel P seconds S cpu_seconds C
 * events_per_s R" (P = 1 when the chunks were decoded in parallel), so
 * the ratio of two thread counts comes from one round on a shared
 * machine. The tables of every build are compared with the first: a
 * difference exits 1.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "sim/oracle.h"

static double now(clockid_t c)
{
    struct timespec t;
    clock_gettime(c, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* @return the ids whose class differs between a and b. */
static uint64_t differ(const as_oracle_t *a, const as_oracle_t *b)
{
    static as_oracle_cursor_t ca, cb;
    as_oracle_cursor_init(&ca, a);
    as_oracle_cursor_init(&cb, b);
    uint64_t d = a->n != b->n;
    for (uint64_t id = 0; id < a->n; id++)
        d += as_oracle_cursor_class(&ca, id) != as_oracle_cursor_class(&cb, id);
    return d;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: bench_prepass TRACE ROUNDS THREADS...\n");
        return 2;
    }
    as_trace_reader_t *r = NULL;
    if (as_trace_reader_open(&r, argv[1])) {
        fprintf(stderr, "%s\n", r ? as_trace_reader_error(r) : argv[1]);
        return 2;
    }
    uint64_t events = 0;
    for (size_t i = 0; i < as_trace_reader_chunk_count(r); i++)
        events += as_trace_reader_chunks(r)[i].events;
    as_classes_t c;
    as_classes_default(&c);
    as_oracle_t first;
    int have_first = 0, status = 0;
    char err[512];
    for (int round = 0; round < atoi(argv[2]); round++)
        for (int a = 3; a < argc; a++) {
            as_oracle_t o;
            double w = now(CLOCK_MONOTONIC),
                   cpu = now(CLOCK_PROCESS_CPUTIME_ID);
            if (as_oracle_build(&o, r, &c, atoi(argv[a]), err, sizeof err)) {
                fprintf(stderr, "%s\n", err);
                return 2;
            }
            w = now(CLOCK_MONOTONIC) - w;
            cpu = now(CLOCK_PROCESS_CPUTIME_ID) - cpu;
            printf("threads %s parallel %d seconds %.3f cpu_seconds %.3f "
                   "events_per_s %.0f\n",
                   argv[a], o.parallel, w, cpu, (double)events / w);
            fflush(stdout);
            if (!have_first) {
                first = o;
                have_first = 1;
                continue;
            }
            if (differ(&first, &o)) {
                fprintf(stderr, "tables differ (threads %s)\n", argv[a]);
                status = 1;
            }
            as_oracle_destroy(&o);
        }
    if (have_first) as_oracle_destroy(&first);
    as_trace_reader_close(r);
    return status;
}

/* decode.c - the decode-only baseline of bench/replay: read every event of a
 * trace through the batch reader and fold it into a checksum, so the
 * replay's cost can be compared with the cost of just reading the trace.
 * Prints "events N checksum X seconds S events_per_s R", then the same for
 * zstd alone decompressing the trace's chunk frames (read from the footer
 * index, held in memory, not timed), and the ratio of the two rates:
 * "zstd_cpu_seconds S zstd_events_per_cpu_s R decode_over_zstd Q". Both
 * are also given in CPU seconds of the process, which a machine shared
 * with other jobs disturbs far less than wall time; the ratio uses them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <zstd.h>

#include "traces/codec.h"
#include "traces/trace.h"

/* CPU seconds for zstd to decompress every chunk frame of the trace at path
 * (chunk list from r), the frames read into memory first; -1 on error. */
static double zstd_only(const char *path, as_trace_reader_t *r)
{
    size_t nc = as_trace_reader_chunk_count(r);
    const as_trace_chunk_info_t *c = as_trace_reader_chunks(r);
    FILE *f = fopen(path, "rb");
    if (!f || nc == 0) {
        if (f) fclose(f);
        return -1;
    }
    uint64_t total = 0;
    for (size_t i = 0; i < nc; i++)
        total += c[i].bytes;
    uint8_t *buf = malloc(total), *out = malloc(AS_CHUNK_MAX_RAW_BYTES);
    ZSTD_DCtx *d = ZSTD_createDCtx();
    if (!buf || !out || !d || fseek(f, (long)c[0].offset, SEEK_SET) ||
        fread(buf, 1, total, f) != total) {
        fclose(f);
        free(buf);
        free(out);
        ZSTD_freeDCtx(d);
        return -1;
    }
    fclose(f);
    struct timespec t0, t1;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t0);
    uint64_t at = 0;
    for (size_t i = 0; i < nc; at += c[i].bytes, i++) {
        size_t z = ZSTD_decompressDCtx(d, out, AS_CHUNK_MAX_RAW_BYTES,
                                       buf + at + AS_CHUNK_HEADER_BYTES,
                                       c[i].bytes - AS_CHUNK_HEADER_BYTES);
        if (ZSTD_isError(z)) at = total;
    }
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t1);
    free(buf);
    free(out);
    ZSTD_freeDCtx(d);
    return (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) * 1e-9;
}

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
    struct timespec t0, t1, c0, c1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c0);
    uint64_t n = 0, sum = 0;
    long got;
    while ((got = as_trace_reader_next_batch(r, ev, 4096)) > 0) {
        for (long i = 0; i < got; i++)
            sum += ev[i].object ^ ev[i].size ^ ev[i].t_ns;
        n += (uint64_t)got;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c1);
    if (got < 0) {
        fprintf(stderr, "%s\n", as_trace_reader_error(r));
        return 2;
    }
    double s =
        (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) * 1e-9;
    double cs =
        (double)(c1.tv_sec - c0.tv_sec) + (c1.tv_nsec - c0.tv_nsec) * 1e-9;
    printf("events %llu checksum %llx seconds %.3f events_per_s %.0f "
           "cpu_seconds %.3f events_per_cpu_s %.0f\n",
           (unsigned long long)n, (unsigned long long)sum, s, n / s, cs,
           n / cs);
    double z = zstd_only(argv[1], r);
    if (z > 0)
        printf("zstd_cpu_seconds %.3f zstd_events_per_cpu_s %.0f "
               "decode_over_zstd %.2f\n",
               z, n / z, z / cs);
    as_trace_reader_close(r);
    return 0;
}

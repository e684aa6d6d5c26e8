/* ptrmap_probes.c - how well the importers' and the collector's pointer map
 * (traces/import/ptrmap.h) spreads real allocators' pointers. Replays a
 * trace's allocations against the process's own malloc, realloc and free
 * (run it under LD_PRELOAD of jemalloc or tcmalloc to get their pointer
 * streams), keeps pointer -> object id in an as_ptrmap_t exactly as an
 * importer does (put on alloc, delete on free, both on realloc), and every
 * 4096 events measures the average number of slots a lookup of a live
 * pointer probes (1 + its distance from its home slot).
 * Prints "events N samples K mean_probes P worst_mean Q max_probe M".
 */
#include <stdio.h>
#include <stdlib.h>

#include "traces/import/ptrmap.h"
#include "traces/trace.h"

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: bench_ptrmap TRACE\n");
        return 2;
    }
    as_trace_reader_t *r = NULL;
    if (as_trace_reader_open(&r, argv[1])) {
        fprintf(stderr, "%s\n", r ? as_trace_reader_error(r) : argv[1]);
        return 2;
    }
    size_t cap = 1 << 16;
    void **live = calloc(cap, sizeof *live); /* object id -> pointer */
    as_ptrmap_t m = {0};
    static as_event_t ev[4096];
    long got;
    uint64_t n = 0, samples = 0, sampled_keys = 0, max_probe = 0;
    double sum_probes = 0, worst_mean = 0;
    while ((got = as_trace_reader_next_batch(r, ev, 4096)) > 0) {
        for (long i = 0; i < got; i++) {
            const as_event_t *e = &ev[i];
            uint64_t id = e->kind == AS_EV_REALLOC ? e->new_object : e->object;
            while (id >= cap) {
                void **p = realloc(live, 2 * cap * sizeof *p);
                if (!p) return 1;
                for (size_t k = cap; k < 2 * cap; k++)
                    p[k] = NULL;
                live = p;
                cap *= 2;
            }
            size_t size = e->size > (1u << 26) ? 1u << 26 : (size_t)e->size;
            uint64_t old;
            if (e->kind == AS_EV_ALLOC) {
                live[id] = malloc(size ? size : 1);
                if (live[id]) as_ptrmap_put(&m, (uint64_t)live[id], id);
            } else if (e->kind == AS_EV_FREE) {
                if (live[id]) as_ptrmap_del(&m, (uint64_t)live[id], &old);
                free(live[id]);
                live[id] = NULL;
            } else {
                void *q = live[e->object];
                if (q) as_ptrmap_del(&m, (uint64_t)q, &old);
                live[id] = realloc(q, size ? size : 1);
                live[e->object] = NULL;
                if (live[id]) as_ptrmap_put(&m, (uint64_t)live[id], id);
            }
        }
        n += (uint64_t)got;
        if (m.n > 0) {
            uint64_t total = 0;
            size_t worst = as_ptrmap_max_probe(&m, &total);
            double mean = 1.0 + (double)total / (double)m.n;
            sum_probes += (double)total + (double)m.n;
            sampled_keys += m.n;
            samples++;
            if (mean > worst_mean) worst_mean = mean;
            if (worst + 1 > max_probe) max_probe = worst + 1;
        }
    }
    if (got < 0) {
        fprintf(stderr, "%s\n", as_trace_reader_error(r));
        return 2;
    }
    printf("events %llu samples %llu mean_probes %.3f worst_mean %.3f "
           "max_probe %llu\n",
           (unsigned long long)n, (unsigned long long)samples,
           sampled_keys ? sum_probes / (double)sampled_keys : 0.0, worst_mean,
           (unsigned long long)max_probe);
    as_ptrmap_free(&m);
    as_trace_reader_close(r);
    return 0;
}

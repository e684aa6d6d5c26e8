/* mstats.h - the real allocator's own figures, with the simulator's metric
 * names (docs/metrics.md), written to ALLOCSIM_STATS at exit.
 *
 * Type map
 *   as_mstats_t  the sampled series of one process, kept as running sums:
 *                resident and huge-page bytes of the allocator's own
 *                mappings (from /proc/self/smaps) and live bytes, each
 *                weighted by the time to the next sample
 *
 * A sample reads /proc/self/smaps and counts, for every mapping (VMA), the
 * share of its Rss and AnonHugePages that lies in ranges the page source
 * holds (as_osmem_overlap): a VMA wholly inside them counts fully; for one
 * the kernel merged with a neighbouring mapping of someone else, the
 * resident pages of the overlap are counted one by one with mincore(2), and
 * its AnonHugePages in proportion to the overlap (the only approximation:
 * neither smaps nor mincore says which pages of a VMA are huge). Metadata
 * arenas are not heap ranges: their bytes are reported as metadata, as in
 * the simulator.
 *
 * Invariants: n_samples >= 1 after the first sample; peak_* >= last_*;
 *   Σ weights == last_t_ns - t0_ns.
 */
#ifndef AS_MALLOC_MSTATS_H
#define AS_MALLOC_MSTATS_H

#include <stdint.h>

#include "common/msg.h"
#include "malloc/osmem.h"
#include "policies/layers/stats.h"

typedef struct {
    uint64_t t0_ns, last_t_ns; /* first and latest sample time */
    uint64_t last_resident_bytes, last_huge_bytes, last_live_bytes;
    uint64_t peak_resident_bytes, peak_huge_bytes;
    double resident_ns, huge_ns, live_ns; /* Σ value × time to next sample */
    uint64_t n_samples;
    uint64_t n_ticks; /* policy ticks the background thread made (the
                         caller counts them here) */
    int smaps_failed; /* /proc/self/smaps could not be read */
} as_mstats_t;

/* as_mstats_sample: take a sample at now_ns (monotonic, >= the last one)
 * of os's ranges and the live bytes `live_bytes`. The caller holds the
 * allocator's lock (the ranges must not change meanwhile). */
void as_mstats_sample(as_mstats_t *s, const as_osmem_t *os, uint64_t now_ns,
                      uint64_t live_bytes);

/* as_mstats_stat: an as_stat_fn that appends `"policy.NAME": VALUE` to the
 * as_msg_t `arg`, after ", " unless it is empty (integral values in
 * decimal, others with six decimals): the form as_mstats_write takes in
 * `stats`. */
void as_mstats_stat(void *arg, const char *name, double value);

/* as_mstats_stat_as: what as_mstats_stat appends, with `prefix` (e.g.
 * "predictor.") in place of "policy.". */
void as_mstats_stat_as(as_msg_t *m, const char *prefix, const char *name,
                       double value);

/* as_mstats_write: write the JSON object of the run to `path` (created or
 * truncated): policy name, samples, `stats` (the layers' and the policy's
 * own statistics as as_mstats_stat wrote them, or NULL: none), and
 * `metrics` with peak_live_bytes,
 * peak_allocated_bytes, mean_live_bytes, peak_resident_bytes,
 * mean_resident_bytes, peak_huge_bytes, mean_huge_bytes,
 * hugepage_coverage_mean, peak_mapped_bytes, peak_metadata_bytes,
 * resident_bytes and metadata_bytes (at exit), ticks and duration_ns;
 * `extra` (NULL or "": none) is put in the object before `metrics` as
 * given: whole members, each followed by ",\n" (the predictor's,
 * malloc/predict.h). @return 0 or AS_EIO. */
int as_mstats_write(const as_mstats_t *s, const char *path, const char *policy,
                    const char *stats, const as_osmem_t *os,
                    const as_stats_counters_t *c, const char *extra);

/* as_mstats_json_u64: append `    "key": v` and ",\n" (or "\n" when
 * last) to m: one member of the file's nested objects. */
void as_mstats_json_u64(as_msg_t *m, const char *key, uint64_t v, int last);

#endif /* AS_MALLOC_MSTATS_H */

/* stats.h - the statistics layer: wraps any policy and counts what goes
 * through it.
 *
 * Type map
 *   as_stats_t          opaque state of one wrapped instance: the inner
 *                       policy, the live blocks (address -> requested and
 *                       usable bytes), counters and histograms
 *   as_stats_counters_t the counters, as a struct for tests and reports
 *   as_stats_class_fn   visitor of the per-size-class histogram
 *
 * Usage mirrors the checking layer (check.h):
 *
 *     as_policy_ops_t ops;  void *state;
 *     as_stats_wrap(inner, cfg, NULL, &ops, &state);
 *
 * and `ops`/`state` then behave exactly like the inner policy's (optional
 * hooks NULL where the inner's are; `ops.create` is a stub returning
 * AS_EUNSUPPORTED). To stack on another layer, wrap an existing instance
 * with as_stats_wrap_instance(): stats(check(policy)) counts what the
 * checked policy did. ops->stats reports the inner policy's statistics
 * first, then the layer's, all prefixed "stats_":
 *   stats_allocs, stats_frees, stats_reallocs, stats_failed (calls that
 *   returned an error), stats_frees_without_size (size_hint 0),
 *   stats_requested_bytes, stats_usable_bytes (totals over all allocations),
 *   stats_live_blocks, stats_live_requested_bytes, stats_live_usable_bytes,
 *   their peaks (_peak), stats_size_classes (distinct usable sizes seen),
 *   stats_rounding_overhead (usable / requested - 1 over all allocations),
 *   and, for every request-size bucket that was used, stats_hist_le_<2^k>_
 *   {allocs,requested_bytes,usable_bytes} (bucket k holds sizes in
 *   (2^(k-1), 2^k]; sizes <= 16 share the first bucket).
 * The per-size-class histogram (one row per distinct usable size: the
 * policy's size classes, as the policy rounds) is read with
 * as_stats_classes().
 *
 * Invariants: live_blocks == keys of the live map;
 *   live_requested_bytes == sum of live requested sizes (<= live_usable);
 *   allocs - frees == live_blocks + (blocks dropped by a failed realloc: 0);
 *   each class row: live <= peak_live, live <= allocs.
 * Metadata comes from `stats_mem` (NULL: cfg->ps->meta), never from libc.
 */
#ifndef AS_POLICIES_LAYERS_STATS_H
#define AS_POLICIES_LAYERS_STATS_H

#include <stdint.h>

#include "policies/policy.h"

#define AS_STATS_BUCKETS 37 /* <= 16 B ... <= 2^40 B (larger: last bucket) */

typedef struct {
    uint64_t allocs, frees, reallocs, failed, frees_without_size;
    uint64_t requested_bytes, usable_bytes; /* totals */
    uint64_t live_blocks, live_requested_bytes, live_usable_bytes;
    uint64_t peak_live_blocks, peak_live_requested_bytes,
        peak_live_usable_bytes;
    uint64_t hist_allocs[AS_STATS_BUCKETS];
    uint64_t hist_requested_bytes[AS_STATS_BUCKETS];
    uint64_t hist_usable_bytes[AS_STATS_BUCKETS];
} as_stats_counters_t;

/* One size class (a distinct usable size): allocations, live and peak live
 * blocks. */
typedef void (*as_stats_class_fn)(void *arg, uint64_t usable_bytes,
                                  uint64_t allocs, uint64_t live,
                                  uint64_t peak_live);

/* as_stats_wrap: create `inner` with cfg and wrap it. `stats_mem` supplies
 * the layer's metadata (NULL: cfg->ps->meta). `out_ops` is caller storage
 * that must outlive the instance. @return 0, AS_EINVAL (NULL argument),
 * AS_ENOMEM, or the inner create's error (nothing is left allocated). */
int as_stats_wrap(const as_policy_ops_t *inner, const as_policy_config_t *cfg,
                  const as_mem_t *stats_mem, as_policy_ops_t *out_ops,
                  void **out_state);

/* as_stats_wrap_instance: wrap an existing instance (inner_ops,
 * inner_state), which the layer then owns: its destroy destroys the inner.
 * @return 0, AS_EINVAL, AS_ENOMEM (the inner instance is left untouched). */
int as_stats_wrap_instance(const as_policy_ops_t *inner_ops, void *inner_state,
                           const as_mem_t *stats_mem, as_policy_ops_t *out_ops,
                           void **out_state);

/* as_stats_counters: copy the counters. */
void as_stats_counters(const void *state, as_stats_counters_t *out);

/* as_stats_classes: call fn once per distinct usable size, in increasing
 * size order. @return the number of classes. */
uint64_t as_stats_classes(const void *state, as_stats_class_fn fn, void *arg);

/* as_stats_inner_state: @return the wrapped instance's state. */
void *as_stats_inner_state(const void *state);

/* as_stats_bucket: @return the histogram bucket of a request of `bytes`. */
static inline unsigned as_stats_bucket(uint64_t bytes)
{
    unsigned k = 0;
    while (k + 1 < AS_STATS_BUCKETS && (16ull << k) < bytes)
        k++;
    return k;
}

#endif /* AS_POLICIES_LAYERS_STATS_H */

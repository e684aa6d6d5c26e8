/* cached.h - the `cached` predictor: a bounded prediction cache in front of
 * any other predictor, keyed as LLAMA keys its cache.
 *
 * Type map
 *   as_predictor_cached  the registry entry; wraps = 1, so the engine passes
 *                        the inner predictor in cfg->inner_ops/inner_state
 *                        ("cached:site" on the command line)
 *
 * Key: (return address, stack depth, requested size); size_key=pow2 rounds
 * the size up to a power of two, size_key=none leaves it out. The return
 * address is the innermost frame's pc (pcs[0]); traces without pcs use the
 * innermost frame id, and allocations without a stack use the stack id 0. A hit
 * answers without asking the inner predictor; a miss asks it and stores the
 * answer. The table is set-associative (4 ways, LRU within a set), so its size
 * is bounded by `capacity` entries.
 *
 * Staleness: a cached answer does not change when the inner predictor learns.
 * With refresh=1 (default) every observed outcome re-asks the inner predictor
 * for that key off the allocation path (at the free) and updates the entry.
 * Disagreement: every verify_every-th hit also asks the inner predictor and
 * counts whether the answers differ (the cached answer is still returned).
 * Statistics: cached_hit_rate, cached_disagreement_rate and their counts,
 * then the inner predictor's own statistics.
 */
#ifndef AS_PREDICTORS_CACHED_CACHED_H
#define AS_PREDICTORS_CACHED_CACHED_H

#include "predictors/predictor.h"

extern const as_predictor_ops_t as_predictor_cached;

enum {
    AS_CACHED_CAPACITY,     /* entries (rounded up to 4 x a power of two) */
    AS_CACHED_VERIFY_EVERY, /* compare with the inner answer every n-th hit */
    AS_CACHED_SIZE_KEY,     /* exact | pow2 | none */
    AS_CACHED_REFRESH,      /* re-ask the inner predictor on observe */
    AS_CACHED_NPARAMS
};

#endif /* AS_PREDICTORS_CACHED_CACHED_H */

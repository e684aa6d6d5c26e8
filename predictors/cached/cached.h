/* cached.h - the `cached` predictor: a bounded prediction cache in front of
 * any other predictor, keyed as LLAMA keys its cache.
 *
 * Type map
 *   as_predictor_cached  the registry entry; wraps = 1, so the engine passes
 *                        the inner predictor in cfg->inner_ops/inner_state
 *                        ("cached:site" on the command line)
 *
 * Key (parameter key), always with the requested size (size_key=pow2 rounds
 * it up to a power of two, size_key=none leaves it out):
 *   pc      (return address, stack depth). The return address is
 *           the innermost frame's pc (pcs[0]); traces without pcs use the
 *           innermost frame id, allocations without a stack the stack id 0.
 *   height  (default) LLAMA's key: the stack height in bytes at the allocating call
 *           (as_pred_ctx_t.stack_height, from trace format v2). When the
 *           height is 0 (unknown: v1 traces, or the recorder could not
 *           tell) the trace's stack id stands in, tagged so that a stack id
 *           never meets a height of the same value.
 *   stack   the trace's stack id (the whole interned stack: exact).
 * per_thread=1 keeps one table of `capacity` entries per thread, made at the
 * thread's first lookup, as LLAMA keeps a thread-local cache (threads from
 * 4096 up share the table of thread % 4096); per_thread=0 (default) shares
 * one table. A hit
 * answers without asking the inner predictor; a miss asks it and stores the
 * answer. The table is set-associative (4 ways of 16 bytes, one 64-byte line
 * a set, LRU within a set), so its size is bounded by `capacity` entries;
 * an entry holds the key's 64-bit hash, not the key.
 *
 * Staleness: a cached answer does not change when the inner predictor learns.
 * With refresh=1 (default) every observed outcome re-asks the inner predictor
 * for that key off the allocation path (at the free) and updates the entry.
 * The engine's outcomes do not carry the stack height, so with key=height
 * and an inner predictor that learns (has observe), the cache keeps each
 * live object's height (16 bytes an object, at most half full: the
 * statistic cached_heights_peak) from its allocation to its outcome; an
 * inner predictor that does not learn (lstm, oracle) costs nothing there.
 * Disagreement: every verify_every-th hit also asks the inner predictor and
 * counts whether the answers differ (the cached answer is still returned).
 * Statistics: cached_tables (tables made), cached_hit_rate, cached_disagreement_rate and their counts,
 * then the inner predictor's own statistics.
 */
#ifndef AS_PREDICTORS_CACHED_CACHED_H
#define AS_PREDICTORS_CACHED_CACHED_H

#include "predictors/predictor.h"

extern const as_predictor_ops_t as_predictor_cached;

/* as_cached_predict: the predict of `cached` (as_predictor_cached.predict;
 * the engine calls it through the ops table like any predictor's, the
 * tests by name): state is one made by as_predictor_cached.create. One caller at a time
 * per state. @return as as_predictor_ops_t.predict. */
int32_t as_cached_predict(void *state, const as_pred_ctx_t *ctx);

enum {
    AS_CACHED_CAPACITY,     /* entries (rounded up to 4 x a power of two) */
    AS_CACHED_VERIFY_EVERY, /* compare with the inner answer every n-th hit */
    AS_CACHED_SIZE_KEY,     /* exact | pow2 | none */
    AS_CACHED_REFRESH,      /* re-ask the inner predictor on observe */
    AS_CACHED_KEY,          /* pc | height | stack */
    AS_CACHED_PER_THREAD,   /* one table per thread */
    AS_CACHED_NPARAMS
};

#endif /* AS_PREDICTORS_CACHED_CACHED_H */

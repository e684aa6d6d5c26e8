/* tcache.h - the thread-cache layer of the simulator: wraps any policy in
 * the per-thread caches the preload build puts in front of its lock
 * (malloc/tcache.h), with the same rules (policies/layers/tcache_core.h),
 * so a replay sees the policy calls a real run with ALLOCSIM_CACHE=1 makes.
 *
 * Type map
 *   as_tcache_layer_t  opaque state of one wrapped instance: the inner
 *                      policy, one cache per trace thread (ctx->thread),
 *                      the transfer cache, and the block map (address ->
 *                      class, or class | AS_TCACHE_CACHED)
 *
 * Usage mirrors the statistics layer (stats.h):
 *
 *     as_policy_ops_t ops;  void *state;
 *     as_tcache_layer_wrap_instance(inner_ops, inner_state, mem, &ops,
 *                                   &state);
 *
 * and ops/state then serve every request of a cacheable class
 * (as_tcache_class) from the calling thread's lists; other requests, and
 * frees of blocks the map does not know, go straight to the inner policy.
 * Threads are told apart by ctx->thread; a thread's cache is made at its
 * first cacheable request and kept to the end (a trace has no thread-exit
 * events). The lists are arrays of addresses (tcache_core.h's
 * as_tcache_stack_t, grown as the preload build grows its own) out of
 * band in metadata from `mem`: the layer never touches a block. The order
 * of blocks on a list, in a transfer chain and in a give-back is the
 * preload build's (LIFO lists; a refill hands out the first block the
 * policy placed and pushes the others in order; a give-back takes blocks
 * from the head, AS_TCACHE_FLUSH_MAX to a free_batch call), so the policy
 * sees the same sequence of calls as under the preload build.
 *
 * ops->stats reports the inner policy's statistics, then the layer's
 * counters (as_tcache_report: tcache_hits, tcache_refills, ...).
 * ops->realloc is NULL (the caller allocates, copies and frees, as the
 * preload build does). ops->check verifies the layer's invariants (those
 * of tcache_core.h, list lengths, map entries of cached blocks), then the
 * inner policy's.
 *
 * Invariants: for each thread and class c, its stack c holds core.count[c]
 * blocks, and every block on it (or in a transfer chain of class c) has
 * map entry c | AS_TCACHE_CACHED; a map entry exists only for a block the
 * inner policy holds as live.
 */
#ifndef AS_POLICIES_LAYERS_TCACHE_H
#define AS_POLICIES_LAYERS_TCACHE_H

#include "common/mem.h"
#include "policies/layers/tcache_core.h"
#include "policies/policy.h"

/* as_tcache_layer_wrap_instance: wrap the instance (inner_ops,
 * inner_state), which the layer then owns (its destroy destroys the inner);
 * metadata from `mem`. `out_ops` is caller storage that must outlive the
 * instance. @return 0, AS_EINVAL (NULL argument), AS_ENOMEM (the inner
 * instance is left untouched). */
int as_tcache_layer_wrap_instance(const as_policy_ops_t *inner_ops,
                                  void *inner_state, const as_mem_t *mem,
                                  as_policy_ops_t *out_ops, void **out_state);

/* as_tcache_layer_counters: the counters summed over the threads' caches,
 * with the transfer cache's bytes. */
void as_tcache_layer_counters(const void *state, as_tcache_counters_t *out);

/* as_tcache_layer_thread: @return thread `thread`'s cache as the rules see
 * it (counts, maxima, counters), or NULL when it has none yet. */
const as_tcache_thread_t *as_tcache_layer_thread(const void *state,
                                                 uint32_t thread);

/* as_tcache_layer_entry: @return the block map's entry for addr (0: not a
 * block of the layer). */
unsigned as_tcache_layer_entry(const void *state, uintptr_t addr);

#endif /* AS_POLICIES_LAYERS_TCACHE_H */

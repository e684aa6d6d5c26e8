/* check.h - the checking layer: wraps any policy and verifies every call.
 *
 * Type map
 *   as_check_t   opaque state of one wrapped instance: the inner policy's
 *                state, a wrapped page source, the set of live blocks and
 *                the set of reserved address ranges (both ordered interval
 *                maps), violation count and last message.
 *
 * How it is used: instead of `inner->create(cfg, &state)` the caller does
 *
 *     as_policy_ops_t ops;  void *state;
 *     as_check_wrap(inner, cfg, NULL, &ops, &state);
 *
 * and from then on uses `ops` and `state` exactly as it would use the inner
 * policy's (alloc, free, realloc, usable_size, tick, stats, destroy). The
 * optional hooks of `ops` are NULL exactly where the inner policy's are, so a
 * caller that does alloc + free when realloc is NULL behaves the same with
 * and without the layer. `ops.create` is a stub returning AS_EUNSUPPORTED:
 * instances are made by as_check_wrap() only.
 *
 * What is verified (a violation makes the wrapped call return AS_ECHECK and
 * records a message, see as_check_last_error()):
 *   alloc/realloc/alloc_batch (every block of a batch, as one alloc and
 *     one operation each; the first bad one ends the batch there):
 *     addr % align == 0 (align 0 means 16), bytes >= request
 *     (>= 1 for a zero-byte request), [addr, addr+bytes) inside address space
 *     the policy reserved and not unreserved, no overlap with a live block;
 *   free/realloc/free_batch: addr is the start of a live block (catches
 *     double frees, also inside one batch, and unknown addresses; such a
 *     call is NOT forwarded to the inner policy, and it ends a batch
 *     there);
 *   page source calls made by the policy: release, unreserve and the THP hint
 *     only on reserved ranges, and never on a range that overlaps a live
 *     block (such a call is not forwarded and returns AS_ECHECK to the
 *     policy); a reservation the page source returns must not overlap one
 *     already held;
 *   the policy's own whole-heap invariants: its optional `check` hook
 *     (policy.h rule 8) once `every` alloc/free/realloc calls have passed
 *     since its last run (as_check_params row "every", default
 *     AS_CHECK_EVERY_DEFAULT; as_check_set_every) and at least
 *     AS_CHECK_LIVE_FACTOR calls per live block, and once more in
 *     as_check_close() before the inner destroy; a failure carries the
 *     policy's reason ("invariant broken: ...");
 *   as_check_close(): after the inner destroy, every reservation was returned
 *     and every metadata byte the policy took was given back.
 * Violations found inside a page-source call (which the policy may ignore)
 * or inside tick() are reported by the next wrapped call that returns int.
 *
 * Invariants of the state: live blocks are pairwise disjoint and each lies in
 * one reserved range; reserved ranges are disjoint and never adjacent
 * (adjacent reservations are merged); inner_meta_bytes == bytes the inner
 * policy holds from its metadata arena.
 *
 * Cost: O(log n) per call (two red-black trees), plus the policy's hook,
 * O(heap), every `every` calls; the layer's own metadata comes from
 * `check_mem` (NULL: the page source's arena), never from libc. The wrapped
 * table's `check` is the inner hook followed by as_check_verify().
 */
#ifndef AS_POLICIES_LAYERS_CHECK_H
#define AS_POLICIES_LAYERS_CHECK_H

#include <stdint.h>

#include "policies/policy.h"

typedef struct as_check as_check_t;

/* Default period of the policy's check hook, in alloc/free/realloc calls:
 * often enough that a broken invariant is caught near its cause in every
 * test, rarely enough that a hook walking the whole heap stays a small part
 * of a run (docs/architecture.md, "The checking layer"). */
#define AS_CHECK_EVERY_DEFAULT 4096
#define AS_CHECK_EVERY_DEFAULT_STR "4096"
/* ... and at most once per this many operations per live block, so that
 * the hook's walk over the heap stays O(1) amortized per operation. */
#define AS_CHECK_LIVE_FACTOR 16

/* The checks' parameter table ("every"): the engine offers it as
 * check.every and passes it to as_check_set_period (and to the light
 * check of sim/lightcheck.h, which keeps the same schedule). */
enum { AS_CHECK_P_EVERY, AS_CHECK_N_PARAMS };
extern const as_param_spec_t as_check_params[AS_CHECK_N_PARAMS];

/* as_check_wrap: create `inner` over a wrapped copy of cfg->ps and fill
 * *out_ops / *out_state with a table and state that behave like the inner
 * policy, checked. `check_mem` supplies the layer's own metadata; pass a
 * host-memory arena to keep the layer out of the simulated metadata counts,
 * or NULL to use cfg->ps->meta. `out_ops` is caller storage that must outlive
 * the instance (name, doc and params are the inner policy's).
 * @return 0, AS_EINVAL (NULL argument), AS_ENOMEM, or the inner create's
 * error (then nothing is left allocated). */
int as_check_wrap(const as_policy_ops_t *inner, const as_policy_config_t *cfg,
                  const as_mem_t *check_mem, as_policy_ops_t *out_ops,
                  void **out_state);

/* as_check_last_error: @return the message of the most recent violation
 * ("" when none), valid until the next call on this state. */
const char *as_check_last_error(const void *state);

/* as_check_violations: @return the number of violations found so far. */
uint64_t as_check_violations(const void *state);

/* as_check_live_blocks: @return blocks handed out and not yet freed. */
uint64_t as_check_live_blocks(const void *state);

/* as_check_reserved_bytes: @return bytes the inner policy holds reserved. */
uint64_t as_check_reserved_bytes(const void *state);

/* as_check_inner_state: @return the wrapped policy's own state (for its
 * expensive-tier checks in tests), NULL after as_check_close(). */
void *as_check_inner_state(const void *state);

/* as_check_verify: expensive tier: verify the layer's own invariants (tree
 * shapes, disjointness, containment). @return 0 or AS_ECHECK. */
int as_check_verify(const void *state);

/* as_check_set_every: run the inner check hook every `every` alloc, free
 * and realloc calls from now on, exactly (the default schedule also waits
 * AS_CHECK_LIVE_FACTOR calls per live block; this one does not); 0: only in
 * as_check_close. */
void as_check_set_every(void *state, uint64_t every);

/* as_check_set_period: the default schedule (every `every` calls and at
 * least AS_CHECK_LIVE_FACTOR per live block) with period `every`; 0: only
 * in as_check_close. */
void as_check_set_period(void *state, uint64_t every);

/* as_check_run: run the inner policy's check hook now (nothing when it has
 * none). @return 0, or AS_ECHECK with the reason in as_check_last_error(). */
int as_check_run(void *state);

/* as_check_hook_runs: @return how many times the inner hook has run. */
uint64_t as_check_hook_runs(const void *state);

/* as_check_close: destroy the inner policy now and verify it returned every
 * reservation and metadata byte. The state stays valid for
 * as_check_last_error() until ops->destroy(state), which then only frees the
 * layer. Calling it twice is harmless. @return 0 or AS_ECHECK. */
int as_check_close(void *state);

#endif /* AS_POLICIES_LAYERS_CHECK_H */

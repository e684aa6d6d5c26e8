/* lightcheck.h - the default check of a run (`--check=light`): what can be
 * verified of a policy's answers in O(1) per operation, plus its
 * whole-heap check hook at a period that keeps it O(1) amortised.
 *
 * Type map
 *   as_lightcheck_t  the live blocks' bytes (blockmap.h), the simulated
 *                    OS to ask whether a block is mapped, the hook's
 *                    schedule and the last violation's message
 *
 * What is verified, for every block a policy hands out (alloc or realloc):
 *   bytes >= the request (>= 1 for a zero-byte request); addr % align == 0
 *   (align 0 means 16); every page of [addr, addr+bytes) reserved from the
 *   simulated OS (bounds); no byte of it inside another live block
 *   (overlap, exact to the byte). The engine guarantees that frees and
 *   reallocs name live blocks (it maps object ids to blocks), so those need
 *   no check. The policy's `check` hook (policy.h rule 8) runs once `every`
 *   alloc/free/realloc calls have passed since its last run and at least
 *   AS_CHECK_LIVE_FACTOR calls per live object, and once at the end.
 * What only `--check=full` (policies/layers/check.h) verifies: the page
 * source calls a policy makes (release or unreserve of live blocks), that
 * usable_size agrees, and that destroy gives back every reservation and
 * metadata byte.
 */
#ifndef AS_SIM_LIGHTCHECK_H
#define AS_SIM_LIGHTCHECK_H

#include <stdint.h>

#include "policies/policy.h"
#include "sim/blockmap.h"
#include "sim/simos.h"

typedef struct {
    as_blockmap_t blocks; /* bytes of the live blocks */
    const as_simos_t *os; /* for the bounds test */
    const char *policy;   /* its name, for messages */
    uint64_t every;       /* hook period in operations; 0 = end only */
    uint64_t ops;         /* alloc/free/realloc calls so far */
    uint64_t ops_at_hook; /* `ops` when the hook last ran */
    uint64_t hook_runs;   /* times the hook ran */
    char msg[320];        /* the last violation */
} as_lightcheck_t;

/* as_lightcheck_init: an empty check of `policy` over os. */
void as_lightcheck_init(as_lightcheck_t *c, const as_simos_t *os,
                        const char *policy, uint64_t every);
void as_lightcheck_destroy(as_lightcheck_t *c);

/* as_lightcheck_add: verify block b handed out for a request of size bytes
 * aligned to align, and record [b->addr, b->addr + bytes) as live (bytes:
 * what the caller will pass to as_lightcheck_remove, b->bytes unless the
 * caller saturates it). @return 0; AS_ECHECK with the message in c->msg
 * ("check: POLICY: OP ..."); AS_ENOMEM. */
int as_lightcheck_add(as_lightcheck_t *c, const char *op, const as_block_t *b,
                      uint64_t bytes, uint64_t size, uint64_t align);

/* as_lightcheck_remove: the block [addr, addr+bytes) is no longer live.
 * @return 0, or AS_ECHECK when it was not recorded (a bookkeeping error). */
int as_lightcheck_remove(as_lightcheck_t *c, uint64_t addr, uint64_t bytes);

/* as_lightcheck_op: count one alloc/free/realloc call of the policy
 * (ops/state) with live_objects live; run its check hook when due.
 * @return 0, or AS_ECHECK with the policy's reason in c->msg. */
int as_lightcheck_op(as_lightcheck_t *c, const as_policy_ops_t *ops,
                     void *state, uint64_t live_objects);

/* as_lightcheck_hook: run the policy's check hook now (nothing when it has
 * none). @return 0 or AS_ECHECK as above. */
int as_lightcheck_hook(as_lightcheck_t *c, const as_policy_ops_t *ops,
                       void *state);

#endif /* AS_SIM_LIGHTCHECK_H */

/* lightcheck.c - the default, O(1)-per-operation check of a run (see
 * lightcheck.h). Owns the occupancy index of the live blocks; asks the
 * simulated OS whether a block lies in reserved pages. It never changes
 * what the policy sees: it only reads the policy's answers and, when due,
 * calls the policy's read-only check hook. Messages follow the checking
 * layer's form ("check: POLICY: what key=value ...").
 */
#include "sim/lightcheck.h"

#include "common/error.h"
#include "common/msg.h"
#include "policies/layers/check.h"

void as_lightcheck_init(as_lightcheck_t *c, const as_simos_t *os,
                        const char *policy, uint64_t every)
{
    as_blockmap_init(&c->blocks);
    c->os = os;
    c->policy = policy;
    c->every = every;
    c->ops = c->ops_at_hook = c->hook_runs = 0;
    c->msg[0] = 0;
}

void as_lightcheck_destroy(as_lightcheck_t *c)
{
    as_blockmap_destroy(&c->blocks);
}

/* c->msg = "check: POLICY: OP what block=0xB K2=V2" (V2 in hex when hex2);
 * @return AS_ECHECK. */
static int fail(as_lightcheck_t *c, const char *op, const char *what,
                uint64_t block, const char *k2, uint64_t v2, int hex2)
{
    as_msg_t m;
    as_msg_init(&m, c->msg, sizeof c->msg);
    as_msg_str(&m, "check: ");
    as_msg_str(&m, c->policy);
    as_msg_str(&m, ": ");
    as_msg_str(&m, op);
    as_msg_str(&m, " ");
    as_msg_str(&m, what);
    as_msg_str(&m, " block=");
    as_msg_u64(&m, block, 1);
    as_msg_str(&m, " ");
    as_msg_str(&m, k2);
    as_msg_str(&m, "=");
    as_msg_u64(&m, v2, hex2);
    return AS_ECHECK;
}

int as_lightcheck_add(as_lightcheck_t *c, const char *op, const as_block_t *b,
                      uint64_t bytes, uint64_t size, uint64_t align)
{
    uint64_t eff = align ? align : as_policy_default_align(size), a = b->addr;
    if (b->bytes < size || b->bytes == 0 || bytes == 0)
        return fail(c, op, "short", a, "bytes", b->bytes, 0);
    if (a % eff) return fail(c, op, "misaligned", a, "align", eff, 0);
    if (a + bytes < a || !as_simos_mapped(c->os, a, bytes))
        return fail(c, op, "outside reserved memory", a, "bytes", bytes, 0);
    uint64_t at = 0;
    int rc = as_blockmap_add(&c->blocks, a, bytes, &at);
    if (rc == AS_ECHECK)
        return fail(c, op, "overlaps a live block", a, "at", at, 1);
    return rc;
}

int as_lightcheck_remove(as_lightcheck_t *c, uint64_t addr, uint64_t bytes)
{
    if (as_blockmap_remove(&c->blocks, addr, bytes) == AS_OK) return AS_OK;
    return fail(c, "free", "of a block not recorded live", addr, "bytes", bytes,
                0);
}

int as_lightcheck_hook(as_lightcheck_t *c, const as_policy_ops_t *ops,
                       void *state)
{
    if (!ops->check) return AS_OK;
    char why[200];
    as_msg_t w;
    as_msg_init(&w, why, sizeof why);
    c->hook_runs++;
    c->ops_at_hook = c->ops;
    if (ops->check(state, &w) == 0) return AS_OK;
    as_msg_t m;
    as_msg_init(&m, c->msg, sizeof c->msg);
    as_msg_str(&m, "check: ");
    as_msg_str(&m, c->policy);
    as_msg_str(&m, ": invariant broken: ");
    as_msg_str(&m, why[0] ? why : "(no reason given)");
    as_msg_str(&m, " after_ops=");
    as_msg_u64(&m, c->ops, 0);
    return AS_ECHECK;
}

int as_lightcheck_op(as_lightcheck_t *c, const as_policy_ops_t *ops,
                     void *state, uint64_t live_objects)
{
    c->ops++;
    if (!c->every) return AS_OK;
    uint64_t since = c->ops - c->ops_at_hook;
    if (since < c->every || since < AS_CHECK_LIVE_FACTOR * live_objects)
        return AS_OK;
    return as_lightcheck_hook(c, ops, state);
}

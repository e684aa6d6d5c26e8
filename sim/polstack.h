/* polstack.h - the policy of one run as the engine calls it: the policy
 * found by name, wrapped in the checking layer, the thread-cache layer and
 * the statistics layer when asked (stats(tcache(check(policy))), the order
 * of the preload build's layers: the cache sees checked policy calls, the
 * statistics count the program's calls).
 *
 * Type map
 *   as_polstack_t         the layers and the outermost instance; ops/state
 *                         are what the engine calls, the rest is this
 *                         module's
 *   as_polstack_layers_t  which layers a run asks for
 *
 * Also the host-memory arena (as_host_mem) for what must not count as the
 * policy's metadata: the checking layer's bookkeeping, the statistics
 * layer, the shadow predictor's tables.
 */
#ifndef AS_SIM_POLSTACK_H
#define AS_SIM_POLSTACK_H

#include <stddef.h>
#include <stdint.h>

#include "common/mem.h"
#include "policies/policy.h"

typedef struct {
    const as_policy_ops_t *ops; /* call through these two */
    void *state;                /* NULL until created */
    /* private to polstack.c */
    const as_policy_ops_t *policy; /* the policy itself */
    as_policy_ops_t check_ops, tcache_ops, stats_ops;
    void *check_state; /* the checking layer's instance, or NULL */
} as_polstack_t;

typedef struct {
    int check;        /* the checking layer (policies/layers/check.h) */
    int thread_cache; /* the thread-cache layer (policies/layers/tcache.h) */
    int stats;        /* the statistics layer (policies/layers/stats.h) */
} as_polstack_layers_t;

extern const as_mem_t as_host_mem;

/* as_polstack_find: the policy `ops` (a policy outside the registry) or
 * else the one registered as `name`. @return 0, or AS_ENOTFOUND with err
 * listing the valid names. */
int as_polstack_find(as_polstack_t *p, const as_policy_ops_t *ops,
                     const char *name, char *err, size_t errcap);

/* as_polstack_create: create the policy with cfg, behind the layers
 * `layers` asks for. @return 0, or the create's error (AS_ENOMEM for a
 * layer) with err naming the policy. */
int as_polstack_create(as_polstack_t *p, const as_policy_config_t *cfg,
                       const as_polstack_layers_t *layers, char *err,
                       size_t errcap);

/* as_polstack_set_check_every: with the checking layer, run the policy's
 * check hook on the layer's schedule with period `every` operations (0:
 * only at close); nothing without the layer. */
void as_polstack_set_check_every(as_polstack_t *p, uint64_t every);

/* as_polstack_check_error: @return the checking layer's message for the
 * last AS_ECHECK ("" without the layer). */
const char *as_polstack_check_error(const as_polstack_t *p);

/* as_polstack_close: with the checking layer, destroy the policy now and
 * verify it gave back every reservation and metadata byte. @return 0, or
 * AS_ECHECK with err naming the policy and the leak. */
int as_polstack_close(as_polstack_t *p, char *err, size_t errcap);

void as_polstack_destroy(as_polstack_t *p);

#endif /* AS_SIM_POLSTACK_H */

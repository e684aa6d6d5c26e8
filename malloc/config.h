/* config.h - the real allocator's configuration from its environment.
 *
 * Type map
 *   as_malloc_config_t  the policy, its resolved parameters and the
 *                       statistics settings of one process
 *
 * The environment variables (docs/malloc.md):
 *   ALLOCSIM_POLICY  a registered policy name (default tcmalloc)
 *   ALLOCSIM_PREDICTOR  a predictor spec as `allocsim run --predictor`
 *                    reads it ("lstm", "cached:lstm"; as_predictor_resolve);
 *                    unset, "" or "none": no predictor (malloc/predict.h)
 *   ALLOCSIM_PARAM   comma-separated assignments, "part.name=value" or
 *                    "name=value", resolved through the policy's (or the
 *                    predictor's, or its inner one's) own
 *                    as_param_spec_t table with as_param_set: the same
 *                    names, units and bounds as `allocsim run --param`;
 *                    a name without a part is looked up in the policy,
 *                    the predictor and the inner predictor, in that order
 *   ALLOCSIM_STATS   path of the JSON file written at exit (unset: none)
 *   ALLOCSIM_STATS_PERIOD  how often resident memory is sampled (a duration
 *                    with a unit, default 50ms)
 *   ALLOCSIM_CHECK   N > 0: run the policy behind the checking layer
 *                    (policies/layers/check.h), its whole-heap check every
 *                    N calls (unset or 0: no checking layer)
 *   ALLOCSIM_CACHE   1: the thread-cache layer (malloc/tcache.h) in front of
 *                    the lock; 0: none; unset: the policy's default
 *                    (as_malloc_cache_default)
 *   ALLOCSIM_OFFLOAD 1: the policy runs on a server thread of its own
 *                    (malloc/offload.h); 0 or unset: inline
 * Parsing uses no libc allocation and no stdio (it runs inside malloc's
 * first call).
 */
#ifndef AS_MALLOC_CONFIG_H
#define AS_MALLOC_CONFIG_H

#include <stdint.h>

#include "common/msg.h"
#include "policies/policy.h"
#include "predictors/predictor.h"

#define AS_MALLOC_MAX_PARAMS 64   /* rows of one policy's table */
#define AS_MALLOC_PATH_BYTES 1024 /* longest ALLOCSIM_STATS path + 1 */
#define AS_MALLOC_DEFAULT_POLICY "tcmalloc"

typedef struct {
    const as_policy_ops_t *policy;                 /* never NULL after 0 */
    as_param_value_t params[AS_MALLOC_MAX_PARAMS]; /* one per spec row */
    const as_predictor_ops_t *pred;                /* NULL: no predictor */
    const as_predictor_ops_t *inner; /* pred's inner one, or NULL */
    as_param_value_t pred_params[AS_MALLOC_MAX_PARAMS];
    as_param_value_t inner_params[AS_MALLOC_MAX_PARAMS];
    char stats_path[AS_MALLOC_PATH_BYTES]; /* "" = no statistics */
    uint64_t stats_period_ns;              /* sampling period */
    uint64_t check_every;                  /* 0 = no check layer */
} as_malloc_config_t;

/* as_malloc_config: resolve the configuration from the variables' values
 * (NULL = unset). On failure `why` gets one line naming the variable and
 * what is wrong, e.g. "ALLOCSIM_POLICY=foo: unknown policy; valid: bestfit
 * hoard ...". A predictor is refused (AS_EINVAL, "ALLOCSIM_PREDICTOR=x:
 * ...") when it needs the future (needs_oracle), when it learns from
 * object outcomes (a non-wrapper with an observe hook: `site`), which the
 * real allocator does not report, or when the policy does not place by
 * lifetime (lifetime_aware = 0). The real allocator's default for
 * `cached`'s per_thread is 1 (LLAMA's thread-local cache); the other
 * defaults are the tables'. @return 0, AS_ENOTFOUND (unknown policy,
 * predictor, part or parameter), AS_EINVAL (malformed value or
 * assignment, refused predictor), AS_ERANGE (out of bounds). */
int as_malloc_config(const char *policy, const char *predictor,
                     const char *param, const char *stats,
                     const char *stats_period, const char *check,
                     as_malloc_config_t *c, as_msg_t *why);

/* as_malloc_cache_default: @return 1 when the thread-cache layer suits
 * the policy by default (tcmalloc, hoard, private-heaps: their real
 * counterparts keep per-thread or per-CPU caches of small blocks), 0 when
 * it would change what the policy is about (llama places by predicted
 * lifetime; ownership-heaps returns a block to its owner's heap; bestfit
 * and glibc model one heap whose reuse order is their point, and glibc
 * models its own tcache). docs/malloc.md gives the reasons. */
int as_malloc_cache_default(const as_policy_ops_t *policy);

/* as_malloc_cache: resolve ALLOCSIM_CACHE's value (NULL or "" = the
 * policy's default) into *on. @return 0, or AS_EINVAL with one line in
 * `why` ("ALLOCSIM_CACHE=x: must be 0 or 1"). */
int as_malloc_cache(const char *value, const as_policy_ops_t *policy, int *on,
                    as_msg_t *why);

/* as_malloc_flag: resolve a 0/1 variable `name`=`value` (NULL or "" =
 * `def`) into *on. @return 0, or AS_EINVAL with one line in `why`
 * ("NAME=x: must be 0 or 1"). */
int as_malloc_flag(const char *name, const char *value, int def, int *on,
                   as_msg_t *why);

#endif /* AS_MALLOC_CONFIG_H */

/* config.c - resolve ALLOCSIM_* into a policy and its parameters (see
 * config.h).
 *
 * The parameter grammar is the command line's: each assignment goes to
 * as_param_set over the policy's own table, so a unit, a bound or a name
 * means the same here as in `allocsim run --param`. Only the splitting at
 * commas and the part prefix are done here. No libc allocation, no stdio:
 * messages are built in an as_msg_t.
 */
#include "malloc/config.h"

#include <string.h>

#include "common/error.h"
#include "common/util.h"

static void msg_n(as_msg_t *m, const char *s, size_t n)
{
    char buf[128];
    if (n >= sizeof buf) n = sizeof buf - 1;
    memcpy(buf, s, n);
    buf[n] = 0;
    as_msg_str(m, buf);
}

static int unknown_policy(const char *name, as_msg_t *why)
{
    as_msg_str(why, "ALLOCSIM_POLICY=");
    as_msg_str(why, name);
    as_msg_str(why, ": unknown policy; valid:");
    for (size_t i = 0; i < as_policy_count(); i++) {
        as_msg_str(why, " ");
        as_msg_str(why, as_policy_at(i)->name);
    }
    return AS_ENOTFOUND;
}

/* One parameter table of the configuration: the policy's or a
 * predictor's. */
typedef struct {
    const char *name;
    const as_param_spec_t *spec;
    size_t n;
    as_param_value_t *values;
} part_t;

static size_t parts_of(as_malloc_config_t *c, part_t parts[3])
{
    size_t k = 0;
    parts[k++] = (part_t){c->policy->name, c->policy->params,
                          c->policy->n_params, c->params};
    if (c->pred)
        parts[k++] = (part_t){c->pred->name, c->pred->params, c->pred->n_params,
                              c->pred_params};
    if (c->inner)
        parts[k++] = (part_t){c->inner->name, c->inner->params,
                              c->inner->n_params, c->inner_params};
    return k;
}

/* Apply one assignment a[0..n) ("part.name=value" or "name=value"). */
static int apply_one(as_malloc_config_t *c, const char *a, size_t n,
                     as_msg_t *why)
{
    part_t parts[3];
    size_t np = parts_of(c, parts);
    char buf[256];
    if (n >= sizeof buf) {
        as_msg_str(why, "ALLOCSIM_PARAM: an assignment is longer than 255 "
                        "characters");
        return AS_EINVAL;
    }
    memcpy(buf, a, n);
    buf[n] = 0;
    char *eq = strchr(buf, '=');
    char *dot = strchr(buf, '.');
    char *assign = buf;
    as_msg_str(why, "ALLOCSIM_PARAM: '");
    as_msg_str(why, buf);
    as_msg_str(why, "': ");
    if (!eq) {
        as_msg_str(why, "expected name=value");
        return AS_EINVAL;
    }
    const part_t *p = NULL;
    size_t nlen;
    if (dot && dot < eq) {
        size_t plen = (size_t)(dot - buf);
        for (size_t i = 0; i < np && !p; i++)
            if (strlen(parts[i].name) == plen &&
                memcmp(parts[i].name, buf, plen) == 0)
                p = &parts[i];
        if (!p) {
            as_msg_str(why, "no part named '");
            msg_n(why, buf, plen);
            as_msg_str(why, np == 1 ? "' (the policy is" : "' (the parts are");
            for (size_t i = 0; i < np; i++) {
                as_msg_str(why, " ");
                as_msg_str(why, parts[i].name);
            }
            as_msg_str(why, ")");
            return AS_ENOTFOUND;
        }
        assign = dot + 1;
        nlen = (size_t)(eq - assign);
    } else {
        nlen = (size_t)(eq - assign);
        for (size_t i = 0; i < np && !p; i++)
            if (as_param_find(parts[i].spec, parts[i].n, assign, nlen) >= 0)
                p = &parts[i];
        if (!p) p = &parts[0]; /* the policy's message */
    }
    int rc = as_param_set(p->spec, p->n, p->values, assign);
    if (rc == AS_OK) {
        why->len = 0;
        why->buf[0] = 0;
        return AS_OK;
    }
    if (rc == AS_ENOTFOUND) {
        as_msg_str(why, p->name);
        as_msg_str(why, " has no parameter '");
        msg_n(why, assign, nlen);
        as_msg_str(why, "'; valid:");
        for (size_t i = 0; i < p->n; i++) {
            as_msg_str(why, " ");
            as_msg_str(why, p->spec[i].name);
        }
        return rc;
    }
    int i = as_param_find(p->spec, p->n, assign, nlen);
    char allowed[256];
    as_param_explain(&p->spec[i], allowed, sizeof allowed);
    as_msg_str(why, p->name);
    as_msg_str(why, ".");
    msg_n(why, assign, nlen);
    as_msg_str(why, " must be ");
    as_msg_str(why, allowed);
    return rc;
}

/* The predictor's part of the configuration: found, checked against what
 * a running program can give it, its parameters at their defaults. */
static int config_predictor(as_malloc_config_t *c, const char *spec,
                            as_msg_t *why)
{
    if (!spec || !*spec || as_str_eq(spec, "none")) return AS_OK;
    as_msg_str(why, "ALLOCSIM_PREDICTOR=");
    as_msg_str(why, spec);
    as_msg_str(why, ": ");
    int rc = as_predictor_resolve(spec, NULL, &c->pred, &c->inner, why);
    if (rc != AS_OK) return rc;
    const as_predictor_ops_t *two[2] = {c->pred, c->inner};
    for (int k = 0; k < 2; k++) {
        const as_predictor_ops_t *p = two[k];
        if (!p) continue;
        if (p->needs_oracle) {
            as_msg_str(why, p->name);
            as_msg_str(why, " needs each object's future lifetime, which a "
                            "running program does not have");
            rc = AS_EINVAL;
        } else if (!p->wraps && p->observe) {
            as_msg_str(why, p->name);
            as_msg_str(why, " learns from object outcomes, which the real "
                            "allocator does not report, and its tables are "
                            "keyed by a trace's stack ids or raw pcs, which "
                            "do not carry over to another process (sitetab "
                            "reads a site table built from a trace)");
            rc = AS_EINVAL;
        }
        if (rc != AS_OK) {
            as_msg_str(why, "; usable here: none, lstm, sitetab, cached:lstm, "
                            "cached:sitetab");
            return rc;
        }
    }
    if (!c->policy->lifetime_aware) {
        as_msg_str(why, "policy ");
        as_msg_str(why, c->policy->name);
        as_msg_str(why, " does not place by lifetime class (lifetime-aware "
                        "policies:");
        for (size_t i = 0; i < as_policy_count(); i++)
            if (as_policy_at(i)->lifetime_aware) {
                as_msg_str(why, " ");
                as_msg_str(why, as_policy_at(i)->name);
            }
        as_msg_str(why, ")");
        return AS_EINVAL;
    }
    for (int k = 0; k < 2; k++) {
        const as_predictor_ops_t *p = two[k];
        if (!p) continue;
        if (p->n_params > AS_MALLOC_MAX_PARAMS ||
            as_param_defaults(p->params, p->n_params,
                              k ? c->inner_params : c->pred_params) != AS_OK) {
            as_msg_str(why, "bad parameter table");
            return AS_EINVAL;
        }
    }
    /* LLAMA's thread-local cache: the real allocator's default */
    if (as_str_eq(c->pred->name, "cached") &&
        as_param_set(c->pred->params, c->pred->n_params, c->pred_params,
                     "per_thread=1") != AS_OK) {
        as_msg_str(why, "cached has no per_thread parameter");
        return AS_EINVAL;
    }
    why->len = 0;
    why->buf[0] = 0;
    return AS_OK;
}

/* Parse an optional variable `name`=`text` as `spec` says into *v (the
 * spec's default when unset). @return 0, or the parser's error with why. */
static int env_value(const as_param_spec_t *spec, const char *text,
                     as_param_value_t *v, as_msg_t *why)
{
    as_param_parse_value(spec, spec->def, strlen(spec->def), v);
    if (!text || !*text) return AS_OK;
    int rc = as_param_parse_value(spec, text, strlen(text), v);
    if (rc == AS_OK) return AS_OK;
    char allowed[256];
    as_param_explain(spec, allowed, sizeof allowed);
    as_msg_str(why, spec->name);
    as_msg_str(why, "=");
    as_msg_str(why, text);
    as_msg_str(why, ": must be ");
    as_msg_str(why, allowed);
    return rc;
}

int as_malloc_config(const char *policy, const char *predictor,
                     const char *param, const char *stats,
                     const char *stats_period, const char *check,
                     as_malloc_config_t *c, as_msg_t *why)
{
    memset(c, 0, sizeof *c);
    const char *name = policy && *policy ? policy : AS_MALLOC_DEFAULT_POLICY;
    c->policy = as_policy_find(name);
    if (!c->policy) return unknown_policy(name, why);
    if (c->policy->n_params > AS_MALLOC_MAX_PARAMS) {
        as_msg_str(why, "ALLOCSIM_POLICY: too many parameters");
        return AS_EINVAL;
    }
    int rc =
        as_param_defaults(c->policy->params, c->policy->n_params, c->params);
    if (rc != AS_OK) {
        as_msg_str(why, "ALLOCSIM_POLICY: bad default in the parameter table");
        return rc;
    }
    if ((rc = config_predictor(c, predictor, why)) != AS_OK) return rc;
    for (const char *s = param; s && *s;) {
        const char *e = strchr(s, ',');
        size_t n = e ? (size_t)(e - s) : strlen(s);
        if (n > 0 && (rc = apply_one(c, s, n, why)) != AS_OK) return rc;
        s = e ? e + 1 : s + n;
    }
    if (stats && *stats) {
        size_t n = strlen(stats);
        if (n >= sizeof c->stats_path) {
            as_msg_str(why, "ALLOCSIM_STATS: path longer than 1023 bytes");
            return AS_EINVAL;
        }
        memcpy(c->stats_path, stats, n + 1);
    }
    static const as_param_spec_t period = {
        "ALLOCSIM_STATS_PERIOD",
        AS_PARAM_NS,
        "50ms",
        1e6,
        3.6e12,
        NULL,
        "sampling period of the resident memory"};
    static const as_param_spec_t every = {
        "ALLOCSIM_CHECK",
        AS_PARAM_U64,
        "0",
        0,
        1e12,
        NULL,
        "run the policy's whole-heap check every N calls (0: no checking)"};
    as_param_value_t v;
    if ((rc = env_value(&period, stats_period, &v, why)) != AS_OK) return rc;
    c->stats_period_ns = v.u;
    if ((rc = env_value(&every, check, &v, why)) != AS_OK) return rc;
    c->check_every = v.u;
    return AS_OK;
}

int as_malloc_cache_default(const as_policy_ops_t *policy)
{
    static const char *const cached[] = {"tcmalloc", "hoard", "private-heaps"};
    for (size_t i = 0; i < sizeof cached / sizeof *cached; i++)
        if (as_policy_find(cached[i]) == policy) return 1;
    return 0;
}

int as_malloc_flag(const char *name, const char *value, int def, int *on,
                   as_msg_t *why)
{
    if (!value || !*value) {
        *on = def;
        return AS_OK;
    }
    if ((value[0] == '0' || value[0] == '1') && value[1] == 0) {
        *on = value[0] == '1';
        return AS_OK;
    }
    as_msg_str(why, name);
    as_msg_str(why, "=");
    as_msg_str(why, value);
    as_msg_str(why, ": must be 0 or 1");
    return AS_EINVAL;
}

int as_malloc_cache(const char *value, const as_policy_ops_t *policy, int *on,
                    as_msg_t *why)
{
    return as_malloc_flag("ALLOCSIM_CACHE", value,
                          as_malloc_cache_default(policy), on, why);
}

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

/* Apply one assignment a[0..n) ("part.name=value" or "name=value"). */
static int apply_one(as_malloc_config_t *c, const char *a, size_t n,
                     as_msg_t *why)
{
    const as_policy_ops_t *p = c->policy;
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
    if (dot && dot < eq) {
        size_t plen = (size_t)(dot - buf);
        if (strlen(p->name) != plen || memcmp(p->name, buf, plen) != 0) {
            as_msg_str(why, "no part named '");
            msg_n(why, buf, plen);
            as_msg_str(why, "' (the policy is ");
            as_msg_str(why, p->name);
            as_msg_str(why, ")");
            return AS_ENOTFOUND;
        }
        assign = dot + 1;
    }
    int rc = as_param_set(p->params, p->n_params, c->params, assign);
    if (rc == AS_OK) {
        why->len = 0;
        why->buf[0] = 0;
        return AS_OK;
    }
    size_t nlen = (size_t)(eq - assign);
    if (rc == AS_ENOTFOUND) {
        as_msg_str(why, p->name);
        as_msg_str(why, " has no parameter '");
        msg_n(why, assign, nlen);
        as_msg_str(why, "'; valid:");
        for (size_t i = 0; i < p->n_params; i++) {
            as_msg_str(why, " ");
            as_msg_str(why, p->params[i].name);
        }
        return rc;
    }
    int i = as_param_find(p->params, p->n_params, assign, nlen);
    char allowed[256];
    as_param_explain(&p->params[i], allowed, sizeof allowed);
    as_msg_str(why, p->name);
    as_msg_str(why, ".");
    msg_n(why, assign, nlen);
    as_msg_str(why, " must be ");
    as_msg_str(why, allowed);
    return rc;
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

int as_malloc_config(const char *policy, const char *param, const char *stats,
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

/* params.c - resolve a run's parameters (see params.h).
 *
 * Owns the resolved values of every part of one run. It only applies
 * assignments and reports errors; what a value means is up to its part, and
 * how it is written out is up to the summary (which gets typed values from
 * as_run_params_export, never text to parse back).
 */
#include "sim/params.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/error.h"

static void errf(char *err, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, cap, fmt, ap);
    va_end(ap);
}

int as_run_params_add(as_run_params_t *rp, const char *part,
                      const as_param_spec_t *specs, size_t n, int *index,
                      char *err, size_t cap)
{
    if (rp->n == AS_RUN_MAX_PARTS) {
        errf(err, cap, "%s: too many parts in one run", part);
        return AS_EINVAL;
    }
    if (n > AS_PART_MAX_PARAMS) {
        errf(err, cap, "%s: too many parameters", part);
        return AS_EINVAL;
    }
    as_param_part_t *p = &rp->parts[rp->n];
    p->part = part;
    p->specs = specs;
    p->n = n;
    if (as_param_defaults(specs, n, p->values) != AS_OK) {
        errf(err, cap, "%s: bad default in parameter table", part);
        return AS_EINVAL;
    }
    if (index) *index = (int)rp->n;
    rp->n++;
    return AS_OK;
}

static void list_params(const as_param_part_t *p, char *buf, size_t cap)
{
    size_t off = 0;
    buf[0] = 0;
    for (size_t i = 0; i < p->n && off + 2 < cap; i++)
        off += (size_t)snprintf(buf + off, cap - off, "%s%s", i ? ", " : "",
                                p->specs[i].name);
    if (p->n == 0) snprintf(buf, cap, "(none)");
}

/* The message for a failed as_param_set of `assign` (no part prefix) in
 * `target`; `a` is the assignment as the user wrote it. */
static int param_error(const as_param_part_t *target, const char *a,
                       const char *assign, int rc, char *err, size_t cap)
{
    size_t nlen = (size_t)(strchr(assign, '=') - assign);
    int i = as_param_find(target->specs, target->n, assign, nlen);
    if (rc == AS_ENOTFOUND) {
        char names[1024];
        list_params(target, names, sizeof names);
        errf(err, cap, "parameter '%s': %s has no parameter '%.*s'; valid: %s",
             a, target->part, (int)nlen, assign, names);
        return AS_ENOTFOUND;
    }
    char allowed[256];
    as_param_explain(&target->specs[i], allowed, sizeof allowed);
    errf(err, cap, "parameter '%s': %s.%.*s must be %s", a, target->part,
         (int)nlen, assign, allowed);
    return AS_EINVAL;
}

int as_run_params_target(const as_run_params_t *rp, const char *a, int *part,
                         int *row)
{
    const char *eq = strchr(a, '=');
    const char *dot = strchr(a, '.');
    if (!eq) return 0;
    size_t plen = dot && dot < eq ? (size_t)(dot - a) : 0;
    const char *name = plen ? dot + 1 : a;
    for (size_t i = 0; i < rp->n; i++) {
        const as_param_part_t *p = &rp->parts[i];
        if (plen && (strlen(p->part) != plen || strncmp(p->part, a, plen) != 0))
            continue;
        int k = as_param_find(p->specs, p->n, name, (size_t)(eq - name));
        if (k < 0) continue;
        *part = (int)i;
        *row = k;
        return 1;
    }
    return 0;
}

int as_run_params_apply(as_run_params_t *rp, const char *a, char *err,
                        size_t cap)
{
    const char *eq = strchr(a, '=');
    const char *dot = strchr(a, '.');
    if (!eq) {
        errf(err, cap, "parameter '%s': expected name=value", a);
        return AS_EINVAL;
    }
    if (dot && dot < eq) {
        size_t plen = (size_t)(dot - a);
        int found = 0;
        for (size_t i = 0; i < rp->n; i++) {
            as_param_part_t *p = &rp->parts[i];
            if (strlen(p->part) != plen || strncmp(p->part, a, plen) != 0)
                continue;
            found = 1;
            int rc = as_param_set(p->specs, p->n, p->values, dot + 1);
            if (rc != AS_OK) return param_error(p, a, dot + 1, rc, err, cap);
        }
        if (!found) {
            errf(err, cap,
                 "parameter '%s': no part named '%.*s' in this run "
                 "(the policy, a predictor or 'os')",
                 a, (int)plen, a);
            return AS_ENOTFOUND;
        }
        return AS_OK;
    }
    for (size_t i = 0; i < rp->n; i++) {
        as_param_part_t *p = &rp->parts[i];
        if (as_param_find(p->specs, p->n, a, (size_t)(eq - a)) < 0) continue;
        int rc = as_param_set(p->specs, p->n, p->values, a);
        return rc == AS_OK ? AS_OK : param_error(p, a, a, rc, err, cap);
    }
    errf(err, cap,
         "parameter '%s': no part of this run has a parameter "
         "'%.*s' (see allocsim run --help)",
         a, (int)(eq - a), a);
    return AS_ENOTFOUND;
}

int as_run_params_check(const as_run_params_t *rp, int index, char *err,
                        size_t cap)
{
    const as_param_part_t *p = &rp->parts[index];
    for (size_t i = 0; i < p->n; i++) {
        const as_param_spec_t *s = &p->specs[i];
        double v;
        switch (s->type) {
        case AS_PARAM_U64:
        case AS_PARAM_BYTES:
        case AS_PARAM_NS:
            v = (double)p->values[i].u;
            break;
        case AS_PARAM_DOUBLE:
            v = p->values[i].d;
            break;
        default:
            continue;
        }
        if (v < s->min || v > s->max) {
            errf(err, cap,
                 "parameter '%s.%s': %.15g out of range [%.15g, %.15g]",
                 p->part, s->name, v, s->min, s->max);
            return AS_ERANGE;
        }
    }
    return AS_OK;
}

const as_param_value_t *as_run_params_values(const as_run_params_t *rp,
                                             int index)
{
    return rp->parts[index].values;
}

size_t as_run_params_export(const as_run_params_t *rp, as_resolved_param_t *out,
                            size_t cap)
{
    size_t k = 0;
    for (size_t p = 0; p < rp->n; p++)
        for (size_t i = 0; i < rp->parts[p].n && k < cap; i++, k++) {
            out[k].part = rp->parts[p].part;
            out[k].spec = &rp->parts[p].specs[i];
            out[k].value = rp->parts[p].values[i];
        }
    return k;
}

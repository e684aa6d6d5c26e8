/* sweep.c - the sweep spec parser and its expansion into runs (sweep.h).
 *
 * Host code (cJSON, libc). The parser is the part that reads user input, so
 * it is strict and fuzzed (tests/fuzz/fuzz_sweep_spec.c): unknown keys,
 * wrong types, empty lists, ranges that do not end or would make more than
 * AS_SWEEP_MAX_RANGE values are errors that name the spec and the line of
 * the offending key, never a silently different sweep.
 */
#include "reports/sweep.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "reports/plot.h"
#include "reports/report.h"
#include "reports/rundir.h"
#include "traces/codec.h"

typedef struct {
    const char *text; /* the spec, NUL-terminated copy */
    const char *name;
    char *err;
    size_t errcap;
} ctx_t;

/* Line of the first occurrence of "key" in the text (1 if not found). */
static size_t line_of(const ctx_t *c, const char *key)
{
    char q[160];
    snprintf(q, sizeof q, "\"%s\"", key);
    const char *at = strstr(c->text, q);
    size_t line = 1;
    for (const char *p = c->text; at && p < at; p++)
        line += *p == '\n';
    return line;
}

static int fail(const ctx_t *c, const char *key, const char *fmt, ...)
{
    int n = snprintf(c->err, c->errcap, "%s: line %zu: \"%s\": ", c->name,
                     line_of(c, key), key);
    if (n >= 0 && (size_t)n < c->errcap) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(c->err + n, c->errcap - (size_t)n, fmt, ap);
        va_end(ap);
    }
    return AS_EFORMAT;
}

static int oom(const ctx_t *c)
{
    snprintf(c->err, c->errcap, "%s: out of memory", c->name);
    return AS_ENOMEM;
}

/* A scalar as value text: strings as they are, numbers in shortest exact
 * form, booleans as 1/0 (what --param accepts). */
static int scalar_text(const cJSON *v, char *buf, size_t cap)
{
    if (cJSON_IsString(v)) {
        if (!v->valuestring[0] || strlen(v->valuestring) >= cap) return 0;
        snprintf(buf, cap, "%s", v->valuestring);
    } else if (cJSON_IsNumber(v) && isfinite(v->valuedouble)) {
        as_run_format_number(v->valuedouble, buf, cap);
    } else if (cJSON_IsBool(v)) {
        snprintf(buf, cap, "%d", cJSON_IsTrue(v) ? 1 : 0);
    } else {
        return 0;
    }
    return 1;
}

/* A list of non-empty strings ("traces", "policies", ...). */
static int str_list(const ctx_t *c, const cJSON *v, const char *key,
                    char ***arr, size_t *n, int required)
{
    if (!v) return required ? fail(c, key, "missing (a list of names)") : 0;
    if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) == 0)
        return fail(c, key, "expected a non-empty list of strings");
    const cJSON *it;
    cJSON_ArrayForEach(it, v)
    {
        if (!cJSON_IsString(it) || !it->valuestring[0])
            return fail(c, key, "expected a non-empty list of strings");
        for (size_t i = 0; i < *n; i++)
            if (!strcmp((*arr)[i], it->valuestring))
                return fail(c, key, "'%s' is listed twice", it->valuestring);
        if (as_strv_push(arr, n, it->valuestring)) return oom(c);
    }
    return AS_OK;
}

/* The values of one grid axis: a list of scalars or a range object. */
static int axis_values(const ctx_t *c, const cJSON *v, as_sweep_axis_t *ax)
{
    char buf[256];
    if (cJSON_IsArray(v)) {
        if (cJSON_GetArraySize(v) == 0)
            return fail(c, ax->key, "empty list of values");
        const cJSON *it;
        cJSON_ArrayForEach(it, v)
        {
            if (!scalar_text(it, buf, sizeof buf))
                return fail(c, ax->key,
                            "values must be numbers, booleans "
                            "or non-empty strings");
            if (as_strv_push(&ax->values, &ax->n, buf)) return oom(c);
        }
        return AS_OK;
    }
    if (!cJSON_IsObject(v))
        return fail(c, ax->key,
                    "expected a list of values or a range "
                    "{\"from\", \"to\", \"step\" or \"times\"}");
    const cJSON *from = NULL, *to = NULL, *step = NULL, *times = NULL, *it;
    cJSON_ArrayForEach(it, v)
    {
        const char *k = it->string ? it->string : "";
        const cJSON **slot = !strcmp(k, "from")    ? &from
                             : !strcmp(k, "to")    ? &to
                             : !strcmp(k, "step")  ? &step
                             : !strcmp(k, "times") ? &times
                                                   : NULL;
        if (!slot)
            return fail(c, ax->key,
                        "unknown range member '%s' (from, to, "
                        "step, times)",
                        k);
        if (!cJSON_IsNumber(it) || !isfinite(it->valuedouble))
            return fail(c, ax->key, "range member '%s' must be a number", k);
        *slot = it;
    }
    if (!from || !to || (!step == !times))
        return fail(c, ax->key,
                    "a range needs from, to and exactly one of "
                    "step (arithmetic) or times (geometric)");
    double a = from->valuedouble, b = to->valuedouble;
    if (a > b) return fail(c, ax->key, "range from %g is above to %g", a, b);
    double vals_n;
    if (step) {
        double d = step->valuedouble;
        if (!(d > 0)) return fail(c, ax->key, "step must be above 0");
        vals_n = floor((b - a) / d * (1 + 1e-12) + 1e-9) + 1;
    } else {
        double f = times->valuedouble;
        if (!(f > 1)) return fail(c, ax->key, "times must be above 1");
        if (!(a > 0))
            return fail(c, ax->key, "a geometric range starts above 0");
        vals_n = floor(log(b / a) / log(f) * (1 + 1e-12) + 1e-9) + 1;
    }
    if (!(vals_n <= AS_SWEEP_MAX_RANGE))
        return fail(c, ax->key, "range has more than %d values",
                    AS_SWEEP_MAX_RANGE);
    for (long i = 0; i < (long)vals_n; i++) {
        double x = step ? a + (double)i * step->valuedouble
                        : a * pow(times->valuedouble, (double)i);
        /* 12 significant digits: 0.1 steps print as 0.3, not 0.30000000000000004 */
        snprintf(buf, sizeof buf, "%.12g", x);
        if (as_strv_push(&ax->values, &ax->n, buf)) return oom(c);
    }
    return AS_OK;
}

int as_sweep_parse(const char *text, size_t len, const char *name,
                   as_sweep_spec_t *s, char *err, size_t errcap)
{
    memset(s, 0, sizeof *s);
    char *copy = malloc(len + 1);
    if (!copy) {
        snprintf(err, errcap, "%s: out of memory", name);
        return AS_ENOMEM;
    }
    memcpy(copy, text, len);
    copy[len] = 0;
    ctx_t c = {copy, name, err, errcap};
    int rc = AS_OK;
    if (strlen(copy) != len) {
        size_t off = strlen(copy);
        snprintf(err, errcap, "%s: offset %zu: NUL byte in the spec", name,
                 off);
        free(copy);
        return AS_EFORMAT;
    }
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithOpts(copy, &end, 1);
    if (!root) {
        const char *at = cJSON_GetErrorPtr();
        size_t line = 1, off = 0;
        if (at && at >= copy && at <= copy + len) {
            off = (size_t)(at - copy);
            for (const char *p = copy; p < at; p++)
                line += *p == '\n';
        }
        snprintf(err, errcap, "%s: line %zu (offset %zu): not valid JSON", name,
                 line, off);
        free(copy);
        return AS_EFORMAT;
    }
    if (!cJSON_IsObject(root)) {
        snprintf(err, errcap, "%s: line 1: the spec must be a JSON object",
                 name);
        rc = AS_EFORMAT;
    }
    const cJSON *it;
    cJSON_ArrayForEach(it, root)
    {
        if (rc != AS_OK) break;
        const char *k = it->string ? it->string : "";
        for (const cJSON *prev = root->child; prev != it; prev = prev->next)
            if (prev->string && !strcmp(prev->string, k))
                rc = fail(&c, k, "given twice");
        if (rc != AS_OK) break;
        if (!strcmp(k, "traces"))
            rc = str_list(&c, it, k, &s->traces, &s->n_traces, 1);
        else if (!strcmp(k, "policies"))
            rc = str_list(&c, it, k, &s->policies, &s->n_policies, 1);
        else if (!strcmp(k, "predictors"))
            rc = str_list(&c, it, k, &s->predictors, &s->n_predictors, 1);
        else if (!strcmp(k, "run_args"))
            rc = str_list(&c, it, k, &s->run_args, &s->n_run_args, 1);
        else if (!strcmp(k, "baseline") || !strcmp(k, "title")) {
            if (!cJSON_IsString(it) || !it->valuestring[0])
                rc = fail(&c, k, "expected a non-empty string");
            else if (!(*(k[0] == 'b' ? &s->baseline : &s->title) =
                           strdup(it->valuestring)))
                rc = oom(&c);
        } else if (!strcmp(k, "params")) {
            if (!cJSON_IsObject(it)) {
                rc = fail(&c, k, "expected an object {\"PART.NAME\": values}");
                continue;
            }
            const cJSON *ax;
            cJSON_ArrayForEach(ax, it)
            {
                const char *key = ax->string ? ax->string : "";
                const char *dot = strchr(key, '.');
                if (!dot || dot == key || !dot[1] || strchr(key, '=') ||
                    strlen(key) > 120) {
                    rc = fail(&c, key,
                              "a parameter is named PART.NAME "
                              "(e.g. tcmalloc.release_rate)");
                    break;
                }
                for (size_t i = 0; i < s->n_axes; i++)
                    if (!strcmp(s->axes[i].key, key)) rc = AS_EFORMAT;
                if (rc != AS_OK) {
                    fail(&c, key, "listed twice");
                    break;
                }
                as_sweep_axis_t *a =
                    realloc(s->axes, (s->n_axes + 1) * sizeof *a);
                if (!a) {
                    rc = oom(&c);
                    break;
                }
                s->axes = a;
                a += s->n_axes++;
                memset(a, 0, sizeof *a);
                if (!(a->key = strdup(key))) {
                    rc = oom(&c);
                    break;
                }
                rc = axis_values(&c, ax, a);
                if (rc != AS_OK) break;
            }
        } else {
            rc = fail(&c, k,
                      "unknown key (traces, policies, predictors, "
                      "params, run_args, baseline, title)");
        }
    }
    if (rc == AS_OK && !s->n_traces) rc = fail(&c, "traces", "missing");
    if (rc == AS_OK && !s->n_policies) rc = fail(&c, "policies", "missing");
    if (rc == AS_OK && !s->n_predictors &&
        as_strv_push(&s->predictors, &s->n_predictors, "none"))
        rc = oom(&c);
    cJSON_Delete(root);
    free(copy);
    if (rc != AS_OK) as_sweep_free(s);
    return rc;
}

static void free_strs(char **a, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(a[i]);
    free(a);
}

void as_sweep_free(as_sweep_spec_t *s)
{
    free_strs(s->traces, s->n_traces);
    free_strs(s->policies, s->n_policies);
    free_strs(s->predictors, s->n_predictors);
    free_strs(s->run_args, s->n_run_args);
    for (size_t i = 0; i < s->n_axes; i++) {
        free(s->axes[i].key);
        free_strs(s->axes[i].values, s->axes[i].n);
    }
    free(s->axes);
    free(s->baseline);
    free(s->title);
    memset(s, 0, sizeof *s);
}

/* 1 when `part` equals name, or one of the ':'-separated parts of name. */
static int names_part(const char *name, const char *part, size_t plen)
{
    for (const char *p = name; p;) {
        const char *colon = strchr(p, ':');
        size_t l = colon ? (size_t)(colon - p) : strlen(p);
        if (l == plen && !strncmp(p, part, plen)) return 1;
        p = colon ? colon + 1 : NULL;
    }
    return 0;
}

int as_sweep_axis_applies(const as_sweep_spec_t *s, const char *key,
                          const char *policy, const char *predictor)
{
    size_t plen = (size_t)(strchr(key, '.') - key);
    for (size_t i = 0; i < s->n_policies; i++)
        if (names_part(s->policies[i], key, plen))
            return names_part(policy, key, plen);
    for (size_t i = 0; i < s->n_predictors; i++)
        if (names_part(s->predictors[i], key, plen))
            return names_part(predictor, key, plen);
    return 1;
}

void as_sweep_runs_free(as_sweep_run_t *runs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free_strs(runs[i].params, runs[i].n_params);
    free(runs);
}

/* Name: trace stem, policy, predictor, the values, then a hash of the
 * whole configuration (run_args included). */
static void run_name(const as_sweep_spec_t *s, as_sweep_run_t *r)
{
    uint64_t h = AS_FNV64_INIT;
    const char *parts[] = {r->trace, r->policy, r->predictor};
    for (size_t i = 0; i < 3; i++)
        h = as_fnv1a64(h, (const uint8_t *)parts[i], strlen(parts[i]) + 1);
    for (size_t i = 0; i < r->n_params; i++)
        h = as_fnv1a64(h, (const uint8_t *)r->params[i],
                       strlen(r->params[i]) + 1);
    for (size_t i = 0; i < s->n_run_args; i++)
        h = as_fnv1a64(h, (const uint8_t *)s->run_args[i],
                       strlen(s->run_args[i]) + 1);
    const char *slash = strrchr(r->trace, '/');
    char text[1024];
    int n = snprintf(text, sizeof text, "%s_%s_%s",
                     slash ? slash + 1 : r->trace, r->policy, r->predictor);
    for (size_t i = 0; i < r->n_params && n > 0 && (size_t)n < sizeof text;
         i++) {
        const char *eq = strchr(r->params[i], '=');
        n += snprintf(text + n, sizeof text - (size_t)n, "_%s", eq + 1);
    }
    char stem[1024];
    as_plot_stem(text, stem, sizeof stem);
    snprintf(r->name, sizeof r->name, "%.200s_%016llx", stem,
             (unsigned long long)h);
}

int as_sweep_expand(const as_sweep_spec_t *s, as_sweep_run_t **out,
                    size_t *n_out, char *err, size_t errcap)
{
    *out = NULL;
    *n_out = 0;
    /* count first: a sweep too large is refused before any allocation */
    double total = 0;
    for (size_t p = 0; p < s->n_policies; p++)
        for (size_t q = 0; q < s->n_predictors; q++) {
            double per = (double)s->n_traces;
            for (size_t a = 0; a < s->n_axes; a++)
                if (as_sweep_axis_applies(s, s->axes[a].key, s->policies[p],
                                          s->predictors[q]))
                    per *= (double)s->axes[a].n;
            total += per;
        }
    if (total > AS_SWEEP_MAX_RUNS) {
        snprintf(err, errcap, "the sweep has %.0f runs, more than %d", total,
                 AS_SWEEP_MAX_RUNS);
        return AS_ERANGE;
    }
    size_t n = 0, cap = 0;
    as_sweep_run_t *runs = NULL;
    size_t *idx = calloc(s->n_axes + 1, sizeof *idx);
    size_t *app = calloc(s->n_axes + 1, sizeof *app);
    if (!idx || !app) goto nomem;
    for (size_t t = 0; t < s->n_traces; t++)
        for (size_t p = 0; p < s->n_policies; p++)
            for (size_t q = 0; q < s->n_predictors; q++) {
                size_t na = 0;
                for (size_t a = 0; a < s->n_axes; a++)
                    if (as_sweep_axis_applies(s, s->axes[a].key, s->policies[p],
                                              s->predictors[q]))
                        app[na++] = a;
                memset(idx, 0, (s->n_axes + 1) * sizeof *idx);
                for (;;) {
                    if (n == AS_SWEEP_MAX_RUNS) {
                        snprintf(err, errcap,
                                 "the sweep has more than %d "
                                 "runs",
                                 AS_SWEEP_MAX_RUNS);
                        free(idx), free(app);
                        as_sweep_runs_free(runs, n);
                        return AS_ERANGE;
                    }
                    if (n == cap) {
                        cap = cap ? 2 * cap : 64;
                        as_sweep_run_t *r = realloc(runs, cap * sizeof *r);
                        if (!r) goto nomem;
                        runs = r;
                    }
                    as_sweep_run_t *r = &runs[n];
                    memset(r, 0, sizeof *r);
                    r->trace = s->traces[t];
                    r->policy = s->policies[p];
                    r->predictor = s->predictors[q];
                    n++;
                    r->params = calloc(na ? na : 1, sizeof *r->params);
                    if (!r->params) goto nomem;
                    for (size_t k = 0; k < na; k++) {
                        const as_sweep_axis_t *ax = &s->axes[app[k]];
                        size_t len =
                            strlen(ax->key) + strlen(ax->values[idx[k]]) + 2;
                        if (!(r->params[k] = malloc(len))) goto nomem;
                        snprintf(r->params[k], len, "%s=%s", ax->key,
                                 ax->values[idx[k]]);
                        r->n_params++;
                    }
                    run_name(s, r);
                    /* next point: the last applicable axis moves fastest */
                    size_t k = na;
                    while (k > 0 && ++idx[k - 1] == s->axes[app[k - 1]].n)
                        idx[--k] = 0;
                    if (k == 0) break;
                }
            }
    free(idx);
    free(app);
    *out = runs;
    *n_out = n;
    return AS_OK;
nomem:
    free(idx);
    free(app);
    as_sweep_runs_free(runs, n);
    snprintf(err, errcap, "out of memory expanding the sweep");
    return AS_ENOMEM;
}

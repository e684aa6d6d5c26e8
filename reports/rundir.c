/* rundir.c - load a run directory's summary.json by key name (rundir.h).
 *
 * Host code (cJSON, libc). It reads what `allocsim run` writes and nothing
 * else: it never links the engine and never recomputes a figure, so a table
 * built from run directories shows exactly the numbers the runs reported.
 */
#include "reports/rundir.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "sim/fileio.h"

char *as_run_format_number(double v, char *buf, size_t cap)
{
    if (v == floor(v) && fabs(v) < 1e18) {
        snprintf(buf, cap, "%.0f", v);
        return buf;
    }
    for (int prec = 6; prec <= 17; prec++) {
        snprintf(buf, cap, "%.*g", prec, v);
        if (strtod(buf, NULL) == v) break;
    }
    return buf;
}

/* A JSON value as parameter text; objects with "value" (typed parameters)
 * use that member, anything else its compact JSON. */
static void value_text(const cJSON *v, char *buf, size_t cap)
{
    if (cJSON_IsString(v)) {
        snprintf(buf, cap, "%s", v->valuestring);
    } else if (cJSON_IsNumber(v)) {
        as_run_format_number(v->valuedouble, buf, cap);
    } else if (cJSON_IsBool(v)) {
        snprintf(buf, cap, "%s", cJSON_IsTrue(v) ? "true" : "false");
    } else if (cJSON_IsObject(v) &&
               cJSON_GetObjectItemCaseSensitive(v, "value")) {
        value_text(cJSON_GetObjectItemCaseSensitive(v, "value"), buf, cap);
    } else {
        char *s = cJSON_PrintUnformatted(v);
        snprintf(buf, cap, "%s", s ? s : "?");
        cJSON_free(s);
    }
}

static int push_param(as_run_t *r, const char *part, const char *name,
                      const cJSON *v)
{
    as_run_param_t *p =
        realloc(r->params, (r->n_params + 1) * sizeof *r->params);
    if (!p) return AS_ENOMEM;
    r->params = p;
    p += r->n_params++;
    snprintf(p->key, sizeof p->key, "%s.%s", part, name);
    value_text(v, p->value, sizeof p->value);
    return AS_OK;
}

/* Parameters of one part: an object {name: value} or an array of
 * {name, value} objects. */
static int add_params(as_run_t *r, const char *part, const cJSON *params)
{
    const cJSON *it;
    if (!part || !*part) return AS_OK;
    cJSON_ArrayForEach(it, params)
    {
        int rc;
        if (cJSON_IsArray(params)) {
            const cJSON *n = cJSON_GetObjectItemCaseSensitive(it, "name");
            if (!cJSON_IsString(n)) continue;
            const cJSON *v = cJSON_GetObjectItemCaseSensitive(it, "value");
            rc = push_param(r, part, n->valuestring, v ? v : it);
        } else {
            if (!it->string) continue;
            rc = push_param(r, part, it->string, it);
        }
        if (rc != AS_OK) return rc;
    }
    return AS_OK;
}

static int push_metric(as_run_t *r, const char *name, double v)
{
    as_run_metric_t *m =
        realloc(r->metrics, (r->n_metrics + 1) * sizeof *r->metrics);
    if (!m) return AS_ENOMEM;
    r->metrics = m;
    m += r->n_metrics++;
    snprintf(m->name, sizeof m->name, "%s", name);
    m->value = v;
    return AS_OK;
}

/* Every number under `o`, named prefix + path joined by '.'; a typed
 * number ({"value": n, ...}) counts as n. */
static int add_metrics(as_run_t *r, const char *prefix, const cJSON *o,
                       int depth)
{
    const cJSON *it;
    if (depth > 4) return AS_OK;
    cJSON_ArrayForEach(it, o)
    {
        if (!it->string) continue;
        char name[96];
        snprintf(name, sizeof name, "%s%s%s", prefix, *prefix ? "." : "",
                 it->string);
        const cJSON *v = it;
        if (cJSON_IsObject(it) &&
            cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(it, "value")))
            v = cJSON_GetObjectItemCaseSensitive(it, "value");
        int rc = AS_OK;
        if (cJSON_IsNumber(v))
            rc = push_metric(r, name, v->valuedouble);
        else if (cJSON_IsObject(v))
            rc = add_metrics(r, name, v, depth + 1);
        if (rc != AS_OK) return rc;
    }
    return AS_OK;
}

static const cJSON *get(const cJSON *o, const char *k)
{
    return cJSON_GetObjectItemCaseSensitive(o, k);
}

static void get_str(const cJSON *o, const char *k, char *buf, size_t cap)
{
    const cJSON *v = get(o, k);
    if (cJSON_IsString(v)) snprintf(buf, cap, "%s", v->valuestring);
}

/* The command line: an array of argument strings (or a string) under
 * provenance.command_line, as sim/summary.c writes it. */
static void get_command(const cJSON *root, char *buf, size_t cap)
{
    const cJSON *c = get(get(root, "provenance"), "command_line");
    if (cJSON_IsString(c)) {
        snprintf(buf, cap, "%s", c->valuestring);
    } else if (cJSON_IsArray(c)) {
        size_t n = 0;
        const cJSON *a;
        cJSON_ArrayForEach(a, c)
        {
            if (!cJSON_IsString(a) || n + 2 >= cap) continue;
            n += (size_t)snprintf(buf + n, cap - n, "%s%s", n ? " " : "",
                                  a->valuestring);
            if (n >= cap) n = cap - 1;
        }
    }
}

int as_run_parse_summary(const char *text, const char *name, as_run_t *r,
                         char *err, size_t errcap)
{
    memset(r, 0, sizeof *r);
    cJSON *root = cJSON_Parse(text);
    if (!root) {
        const char *at = cJSON_GetErrorPtr();
        size_t off = at && at >= text ? (size_t)(at - text) : 0;
        snprintf(err, errcap, "%s: offset %zu: not valid JSON", name, off);
        return AS_EFORMAT;
    }
    int rc = AS_OK;
    const cJSON *tr = get(root, "trace"), *po = get(root, "policy"),
                *pr = get(root, "predictor"), *os = get(root, "os");
    get_str(po, "name", r->policy, sizeof r->policy);
    if (!cJSON_IsObject(root) || !r->policy[0]) {
        snprintf(err, errcap,
                 "%s: no policy.name: not a summary of "
                 "`allocsim run`",
                 name);
        cJSON_Delete(root);
        return AS_EFORMAT;
    }
    get_str(tr, "path", r->trace_path, sizeof r->trace_path);
    if (!r->trace_path[0])
        get_str(tr, "file", r->trace_path, sizeof r->trace_path);
    get_str(tr, "hash", r->trace_hash, sizeof r->trace_hash);
    r->truncated = cJSON_IsTrue(get(tr, "truncated"));
    const char *slash = strrchr(r->trace_path, '/');
    snprintf(r->trace_name, sizeof r->trace_name, "%.255s",
             r->trace_path[0] ? (slash ? slash + 1 : r->trace_path) : "?");
    char pname[64] = "none", iname[64] = "";
    get_str(pr, "name", pname, sizeof pname);
    get_str(get(pr, "inner"), "name", iname, sizeof iname);
    snprintf(r->predictor, sizeof r->predictor, "%s%s%s", pname,
             iname[0] ? ":" : "", iname);
    get_command(root, r->command, sizeof r->command);

    if (rc == AS_OK) rc = add_params(r, r->policy, get(po, "params"));
    if (rc == AS_OK) rc = add_params(r, pname, get(pr, "params"));
    if (rc == AS_OK && iname[0])
        rc = add_params(r, iname, get(get(pr, "inner"), "params"));
    if (rc == AS_OK) rc = add_params(r, "os", get(os, "params"));

    if (rc == AS_OK) rc = add_metrics(r, "", get(root, "metrics"), 0);
    const char *pk[] = {"accuracy_by_allocs", "accuracy_by_bytes"};
    for (size_t i = 0; rc == AS_OK && i < 2; i++) {
        const cJSON *v = get(get(root, "predictions"), pk[i]);
        char n[96];
        snprintf(n, sizeof n, "predictions.%s", pk[i]);
        if (cJSON_IsNumber(v)) rc = push_metric(r, n, v->valuedouble);
    }
    const cJSON *it;
    cJSON_ArrayForEach(it, os)
    {
        if (rc != AS_OK) break;
        char n[96];
        snprintf(n, sizeof n, "os.%s", it->string ? it->string : "?");
        if (it->string && cJSON_IsNumber(it))
            rc = push_metric(r, n, it->valuedouble);
    }
    const cJSON *ti = get(root, "timing");
    if (cJSON_IsNumber(get(ti, "wall_s"))) {
        r->has_timing = 1;
        r->wall_s = get(ti, "wall_s")->valuedouble;
        if (cJSON_IsNumber(get(ti, "events_per_s")))
            r->events_per_s = get(ti, "events_per_s")->valuedouble;
    }
    cJSON_Delete(root);
    if (rc != AS_OK) {
        snprintf(err, errcap, "%s: out of memory", name);
        as_run_free(r);
    }
    return rc;
}

int as_run_load(const char *dir, as_run_t *r, char *err, size_t errcap)
{
    memset(r, 0, sizeof *r);
    char path[4200];
    snprintf(path, sizeof path, "%s/summary.json", dir);
    char *text;
    size_t len;
    int rc = as_file_read_all(path, &text, &len, err, errcap);
    if (rc != AS_OK) return rc;
    rc = as_run_parse_summary(text, path, r, err, errcap);
    free(text);
    if (rc == AS_OK) {
        snprintf(r->dir, sizeof r->dir, "%s", dir);
        snprintf(r->name, sizeof r->name, "%s", dir);
    }
    return rc;
}

int as_run_metric(const as_run_t *r, const char *name, double *v)
{
    for (size_t i = 0; i < r->n_metrics; i++)
        if (strcmp(r->metrics[i].name, name) == 0) {
            *v = r->metrics[i].value;
            return 1;
        }
    return 0;
}

const char *as_run_param(const as_run_t *r, const char *key)
{
    for (size_t i = 0; i < r->n_params; i++)
        if (strcmp(r->params[i].key, key) == 0) return r->params[i].value;
    return NULL;
}

void as_run_free(as_run_t *r)
{
    free(r->params);
    free(r->metrics);
    r->params = NULL;
    r->metrics = NULL;
    r->n_params = r->n_metrics = 0;
}

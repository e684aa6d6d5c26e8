/* table.c - the comparison table across run directories (table.h).
 *
 * Host code. Every figure is copied from the runs' summaries except two,
 * computed here and documented in docs/outputs.md: wasted_bytes (time-
 * weighted resident minus live bytes, the numerator of Johnstone–Wilson #1)
 * and waste_reduction against the baseline run of the same trace. Numbers
 * are printed in the shortest exact form, so the CSV and JSON files are
 * byte-identical from one run of the same configurations to the next.
 */
#include "reports/table.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "sim/fileio.h"

/* Metric columns: summary name, column name, 1 for bytes (Markdown shows
 * them in binary units). */
static const struct {
    const char *metric, *column;
    int bytes;
} metric_cols[] = {
    {"peak_live_bytes", "peak_live_bytes", 1},
    {"peak_resident_bytes", "peak_resident_bytes", 1},
    {"mean_live_bytes", "mean_live_bytes", 1},
    {"mean_resident_bytes", "mean_resident_bytes", 1},
    {"peak_metadata_bytes", "peak_metadata_bytes", 1},
    {"fragmentation.jw1", "jw1", 0},
    {"fragmentation.jw2", "jw2", 0},
    {"fragmentation.jw3", "jw3", 0},
    {"fragmentation.jw4", "jw4", 0},
    {"hugepage_coverage_mean", "hugepage_coverage_mean", 0},
    {"hugepage_coverage_at_peak", "hugepage_coverage_at_peak", 0},
    {"predictions.accuracy_by_allocs", "accuracy_by_allocs", 0},
    {"predictions.accuracy_by_bytes", "accuracy_by_bytes", 0},
};
#define N_METRIC_COLS (sizeof metric_cols / sizeof metric_cols[0])

const char *as_units_bytes(double max_bytes, double *divisor)
{
    static const char *names[] = {"B", "KiB", "MiB", "GiB"};
    double d = 1;
    int i = 0;
    while (i < 3 && max_bytes >= 1024 * d)
        d *= 1024, i++;
    *divisor = d;
    return names[i];
}

int as_same_trace(const as_run_t *a, const as_run_t *b)
{
    if (a->trace_hash[0] && b->trace_hash[0])
        return strcmp(a->trace_hash, b->trace_hash) == 0;
    return strcmp(a->trace_path, b->trace_path) == 0;
}

static int has_varying(const as_table_t *t, const char *key)
{
    for (size_t i = 0; i < t->n_varying; i++)
        if (strcmp(t->varying[i], key) == 0) return 1;
    return 0;
}

/* Append "sep text" to buf (cap bytes), truncating. */
static void append(char *buf, size_t cap, const char *sep, const char *text)
{
    size_t n = strlen(buf);
    const char *parts[] = {n ? sep : "", text};
    for (size_t k = 0; k < 2; k++)
        for (const char *s = parts[k]; *s && n + 1 < cap; s++)
            buf[n++] = *s;
    buf[n] = 0;
}

int as_table_build(as_table_t *t, const as_run_t *runs, size_t n,
                   const char *baseline_policy, char *err, size_t errcap)
{
    memset(t, 0, sizeof *t);
    t->runs = runs;
    t->n = n;
    t->rows = calloc(n ? n : 1, sizeof *t->rows);
    size_t cap_keys = 0;
    for (size_t i = 0; i < n; i++)
        cap_keys += runs[i].n_params;
    t->varying = calloc(cap_keys ? cap_keys : 1, sizeof *t->varying);
    if (!t->rows || !t->varying) {
        as_table_free(t);
        snprintf(err, errcap, "out of memory building the table");
        return AS_ENOMEM;
    }
    int predictor_varies = 0;
    for (size_t i = 1; i < n; i++) {
        predictor_varies |= strcmp(runs[i].predictor, runs[0].predictor) != 0;
        t->trace_varies |= !as_same_trace(&runs[i], &runs[0]);
    }
    /* A key varies when two runs that have it give different values. */
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < runs[i].n_params; k++) {
            const as_run_param_t *p = &runs[i].params[k];
            if (has_varying(t, p->key)) continue;
            for (size_t j = 0; j < n; j++) {
                const char *v = as_run_param(&runs[j], p->key);
                if (v && strcmp(v, p->value) != 0) {
                    snprintf(t->varying[t->n_varying++], 128, "%s", p->key);
                    break;
                }
            }
        }
    if (baseline_policy) {
        size_t i = 0;
        while (i < n && strcmp(runs[i].policy, baseline_policy) != 0)
            i++;
        if (i == n) {
            snprintf(err, errcap, "baseline policy '%s' is not among the runs",
                     baseline_policy);
            as_table_free(t);
            return AS_ENOTFOUND;
        }
    }
    for (size_t i = 0; i < n; i++) {
        as_table_row_t *r = &t->rows[i];
        const as_run_t *a = &runs[i];
        for (size_t k = 0; k < t->n_varying; k++) {
            const char *v = as_run_param(a, t->varying[k]);
            if (!v) continue;
            char kv[400];
            snprintf(kv, sizeof kv, "%s=%s", t->varying[k], v);
            append(r->params, sizeof r->params, " ", kv);
        }
        /* the label names the policy, so its own keys drop the prefix */
        append(r->label, sizeof r->label, " ", a->policy);
        if (predictor_varies)
            append(r->label, sizeof r->label, " ", a->predictor);
        size_t pl = strlen(a->policy);
        for (size_t k = 0; k < t->n_varying; k++) {
            const char *v = as_run_param(a, t->varying[k]),
                       *key = t->varying[k];
            if (!v) continue;
            if (!strncmp(key, a->policy, pl) && key[pl] == '.') key += pl + 1;
            char kv[400];
            snprintf(kv, sizeof kv, "%s=%s", key, v);
            append(r->label, sizeof r->label, " ", kv);
        }
        double ml = 0, mr = 0;
        int ok = as_run_metric(a, "mean_live_bytes", &ml) &
                 as_run_metric(a, "mean_resident_bytes", &mr);
        r->wasted_bytes = ok ? mr - ml : NAN;
        r->baseline = -1;
        for (size_t j = 0; j < n; j++)
            if (as_same_trace(&runs[j], a) &&
                (!baseline_policy ||
                 strcmp(runs[j].policy, baseline_policy) == 0)) {
                r->baseline = (long)j;
                break;
            }
    }
    for (size_t i = 0; i < n; i++) {
        as_table_row_t *r = &t->rows[i];
        double wb = r->baseline >= 0 ? t->rows[r->baseline].wasted_bytes : NAN;
        r->waste_reduction = (isnan(wb) || wb == 0 || isnan(r->wasted_bytes))
                                 ? NAN
                                 : 1 - r->wasted_bytes / wb;
    }
    return AS_OK;
}

void as_table_free(as_table_t *t)
{
    free(t->rows);
    free(t->varying);
    t->rows = NULL;
    t->varying = NULL;
}

/* A number for CSV/JSON text: shortest exact form, "" when absent. */
static const char *num(double v, int present, char *buf, size_t cap)
{
    if (!present || isnan(v)) return "";
    return as_run_format_number(v, buf, cap);
}

/* CSV fields never hold commas or newlines in our names, but parameter
 * values are user text: replace those characters rather than quote. */
static void csv_field(FILE *f, const char *s)
{
    for (; *s; s++)
        fputc(*s == ',' || *s == '\n' || *s == '"' ? ';' : *s, f);
}

int as_table_write_csv(const as_table_t *t, FILE *f)
{
    fprintf(f, "run,trace,trace_hash,policy,predictor,params");
    for (size_t c = 0; c < N_METRIC_COLS; c++)
        fprintf(f, ",%s", metric_cols[c].column);
    fprintf(f, ",wasted_bytes,baseline,waste_reduction,truncated\n");
    for (size_t i = 0; i < t->n; i++) {
        const as_run_t *a = &t->runs[i];
        const as_table_row_t *r = &t->rows[i];
        const char *text[] = {a->name,   a->trace_name, a->trace_hash,
                              a->policy, a->predictor,  r->params};
        for (size_t k = 0; k < 6; k++) {
            if (k) fputc(',', f);
            csv_field(f, text[k]);
        }
        char b[64];
        for (size_t c = 0; c < N_METRIC_COLS; c++) {
            double v = 0;
            int has = as_run_metric(a, metric_cols[c].metric, &v);
            fprintf(f, ",%s", num(v, has, b, sizeof b));
        }
        fprintf(f, ",%s,", num(r->wasted_bytes, 1, b, sizeof b));
        if (r->baseline >= 0) csv_field(f, t->runs[r->baseline].name);
        fprintf(f, ",%s,%d\n", num(r->waste_reduction, 1, b, sizeof b),
                a->truncated);
    }
    return ferror(f) ? AS_EIO : AS_OK;
}

/* A byte count for people: "4.16 MiB". */
static void human_bytes(double v, char *buf, size_t cap)
{
    double d;
    const char *u = as_units_bytes(fabs(v), &d);
    if (d == 1)
        snprintf(buf, cap, "%.0f B", v);
    else
        snprintf(buf, cap, "%.2f %s", v / d, u);
}

/* Columns of the table for people (Markdown, HTML): the run's names, then
 * the metric columns, then the waste columns. */
enum { N_TEXT_COLS = 5 };
static const char *text_cols[N_TEXT_COLS] = {"run", "trace", "policy",
                                             "predictor", "params"};

size_t as_table_human_cols(void)
{
    return N_TEXT_COLS + N_METRIC_COLS + 2;
}

const char *as_table_human_header(size_t c)
{
    if (c < N_TEXT_COLS) return text_cols[c];
    if (c < N_TEXT_COLS + N_METRIC_COLS)
        return metric_cols[c - N_TEXT_COLS].column;
    return c == N_TEXT_COLS + N_METRIC_COLS ? "wasted_bytes"
                                            : "waste_reduction";
}

void as_table_human_cell(const as_table_t *t, size_t i, size_t c, char *buf,
                         size_t cap)
{
    const as_run_t *a = &t->runs[i];
    const as_table_row_t *r = &t->rows[i];
    const char *text[N_TEXT_COLS] = {a->name, a->trace_name, a->policy,
                                     a->predictor, r->params};
    double v = 0;
    if (c < N_TEXT_COLS) {
        /* a run of a cut trace cannot be missed: its name says so */
        snprintf(buf, cap, "%s%s", text[c],
                 c == 0 && a->truncated ? " (truncated trace)" : "");
    } else if (c < N_TEXT_COLS + N_METRIC_COLS) {
        size_t m = c - N_TEXT_COLS;
        if (!as_run_metric(a, metric_cols[m].metric, &v))
            snprintf(buf, cap, "–");
        else if (metric_cols[m].bytes)
            human_bytes(v, buf, cap);
        else
            snprintf(buf, cap, "%.3f", v);
    } else if (c == N_TEXT_COLS + N_METRIC_COLS) {
        if (isnan(r->wasted_bytes))
            snprintf(buf, cap, "–");
        else
            human_bytes(r->wasted_bytes, buf, cap);
    } else if (isnan(r->waste_reduction)) {
        snprintf(buf, cap, "–");
    } else if (r->baseline == (long)i) {
        snprintf(buf, cap, "(baseline)");
    } else {
        snprintf(buf, cap, "%.1f %%", 100 * r->waste_reduction);
    }
}

int as_table_write_md(const as_table_t *t, FILE *f)
{
    size_t nc = as_table_human_cols();
    fputc('|', f);
    for (size_t c = 0; c < nc; c++)
        fprintf(f, " %s |", as_table_human_header(c));
    fputs("\n|", f);
    for (size_t c = 0; c < nc; c++)
        fputs(c < N_TEXT_COLS ? "---|" : "---:|", f);
    fputc('\n', f);
    for (size_t i = 0; i < t->n; i++) {
        fputc('|', f);
        for (size_t c = 0; c < nc; c++) {
            char b[600];
            as_table_human_cell(t, i, c, b, sizeof b);
            fputc(' ', f);
            for (const char *s = b; *s; s++) {
                if (*s == '|') fputc('\\', f);
                fputc(*s, f);
            }
            fputs(" |", f);
        }
        fputc('\n', f);
    }
    fprintf(f, "\nwaste_reduction = 1 − wasted_bytes / wasted_bytes of the "
               "baseline run of the same trace; fragmentation jw* = "
               "resident / live − 1 (docs/outputs.md).\n");
    return ferror(f) ? AS_EIO : AS_OK;
}

static cJSON *json_num_or_null(double v)
{
    return isnan(v) ? cJSON_CreateNull() : cJSON_CreateNumber(v);
}

int as_table_write_json(const as_table_t *t, FILE *f)
{
    cJSON *root = cJSON_CreateObject();
    cJSON *vk = cJSON_AddArrayToObject(root, "varying_params");
    for (size_t k = 0; k < t->n_varying; k++)
        cJSON_AddItemToArray(vk, cJSON_CreateString(t->varying[k]));
    cJSON *rows = cJSON_AddArrayToObject(root, "rows");
    for (size_t i = 0; i < t->n; i++) {
        const as_run_t *a = &t->runs[i];
        const as_table_row_t *r = &t->rows[i];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "run", a->name);
        cJSON_AddStringToObject(o, "label", r->label);
        cJSON_AddStringToObject(o, "trace", a->trace_name);
        cJSON_AddStringToObject(o, "trace_path", a->trace_path);
        cJSON_AddStringToObject(o, "trace_hash", a->trace_hash);
        cJSON_AddStringToObject(o, "policy", a->policy);
        cJSON_AddStringToObject(o, "predictor", a->predictor);
        cJSON_AddBoolToObject(o, "truncated", a->truncated);
        cJSON *p = cJSON_AddObjectToObject(o, "params");
        for (size_t k = 0; k < a->n_params; k++)
            cJSON_AddStringToObject(p, a->params[k].key, a->params[k].value);
        cJSON *m = cJSON_AddObjectToObject(o, "metrics");
        for (size_t c = 0; c < N_METRIC_COLS; c++) {
            double v;
            if (as_run_metric(a, metric_cols[c].metric, &v))
                cJSON_AddNumberToObject(m, metric_cols[c].column, v);
        }
        cJSON_AddItemToObject(m, "wasted_bytes",
                              json_num_or_null(r->wasted_bytes));
        cJSON_AddItemToObject(
            o, "baseline",
            r->baseline >= 0 ? cJSON_CreateString(t->runs[r->baseline].name)
                             : cJSON_CreateNull());
        cJSON_AddItemToObject(m, "waste_reduction",
                              json_num_or_null(r->waste_reduction));
        cJSON_AddItemToArray(rows, o);
    }
    char *s = cJSON_Print(root);
    cJSON_Delete(root);
    if (!s) return AS_ENOMEM;
    fputs(s, f);
    fputc('\n', f);
    cJSON_free(s);
    return ferror(f) ? AS_EIO : AS_OK;
}

int as_table_write_timing(const as_table_t *t, FILE *f)
{
    fprintf(f, "run,wall_s,events_per_s\n");
    for (size_t i = 0; i < t->n; i++) {
        const as_run_t *a = &t->runs[i];
        csv_field(f, a->name);
        if (a->has_timing)
            fprintf(f, ",%.6f,%.0f\n", a->wall_s, a->events_per_s);
        else
            fprintf(f, ",,\n");
    }
    return ferror(f) ? AS_EIO : AS_OK;
}

int as_table_write_files(const as_table_t *t, const char *dir, char *err,
                         size_t errcap)
{
    static const struct {
        const char *name;
        int (*write)(const as_table_t *, FILE *);
    } files[] = {
        {"compare.csv", as_table_write_csv},
        {"compare.md", as_table_write_md},
        {"compare.json", as_table_write_json},
        {"timing.csv", as_table_write_timing},
    };
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char path[4200];
        snprintf(path, sizeof path, "%s/%s", dir, files[i].name);
        as_outfile_t o;
        int rc = as_outfile_open(&o, path, err, errcap);
        if (rc != AS_OK) return rc;
        int ok = files[i].write(t, o.f) == AS_OK;
        rc = as_outfile_close(&o, ok, err, errcap);
        if (rc == AS_OK && !ok) {
            snprintf(err, errcap, "%s: cannot write", path);
            rc = AS_EIO;
        }
        if (rc != AS_OK) return rc;
    }
    return AS_OK;
}

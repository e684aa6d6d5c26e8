/* sweepplot.c - figures of a sweep from its comparison table (sweepplot.h).
 *
 * Host code. Every value comes from the runs' summaries through the table;
 * a point's x is the parameter's value as the run's summary reports it, so
 * a figure shows what ran, not what the spec asked for.
 */
#include "reports/sweepplot.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"

static const struct {
    const char *metric, *stem, *ylabel;
    int kind; /* 0 ratio, 1 bytes, 2 percent */
} sweep_metrics[] = {
    {"fragmentation.jw1", "jw1", "JW#1 (resident / live − 1)", 0},
    {"mean_resident_bytes", "mean-resident", "mean resident", 1},
    {"peak_resident_bytes", "peak-resident", "peak resident", 1},
    {"hugepage_coverage_mean", "coverage", "huge-page coverage (%)", 2},
};

typedef struct {
    size_t run;  /* row of the table */
    size_t line; /* which line it belongs to */
    size_t xi;   /* index of its x value */
} point_t;

typedef struct {
    char **xs; /* distinct x texts, in order */
    size_t n_x;
    int numeric;     /* x is placed by value (else evenly, in order) */
    int all_numbers; /* every x is a number (sorted by value) */
    int logx;        /* numbers spanning a factor of 64 or more, all > 0 */
    char **lines;    /* line labels */
    size_t n_lines;
    int by_trace; /* lines are traces (no aggregation) */
    point_t *pts;
    size_t n_pts;
    size_t *ord; /* x indices in plotting order (x_order) */
} axis_data_t;

static void free_axis(axis_data_t *d)
{
    for (size_t i = 0; i < d->n_x; i++)
        free(d->xs[i]);
    for (size_t i = 0; i < d->n_lines; i++)
        free(d->lines[i]);
    free(d->xs);
    free(d->lines);
    free(d->pts);
    free(d->ord);
    memset(d, 0, sizeof *d);
}

/* Index of s in arr, appending it when absent; SIZE_MAX on no memory. */
static size_t intern(char ***arr, size_t *n, const char *s)
{
    for (size_t i = 0; i < *n; i++)
        if (!strcmp((*arr)[i], s)) return i;
    char **a = realloc(*arr, (*n + 1) * sizeof *a);
    if (!a) return (size_t)-1;
    *arr = a;
    if (!(a[*n] = strdup(s))) return (size_t)-1;
    return (*n)++;
}

static int is_number(const char *s, double *v)
{
    char *end;
    *v = strtod(s, &end);
    return *s && !*end && isfinite(*v);
}

/* The label of run i's line for axis `key`: what varies other than the key
 * (and other than the trace unless lines are traces). */
static void line_label(const as_table_t *t, size_t i, const char *key,
                       int with_trace, char *buf, size_t cap)
{
    const as_run_t *r = &t->runs[i];
    size_t n = 0;
    buf[0] = 0;
    int pol = 0, pred = 0;
    for (size_t j = 0; j < t->n; j++) {
        pol |= strcmp(t->runs[j].policy, r->policy) != 0;
        pred |= strcmp(t->runs[j].predictor, r->predictor) != 0;
    }
    if (with_trace)
        n += (size_t)snprintf(buf + n, cap - n, "%s ", r->trace_name);
    if (pol && n < cap)
        n += (size_t)snprintf(buf + n, cap - n, "%s ", r->policy);
    if (pred && n < cap)
        n += (size_t)snprintf(buf + n, cap - n, "%s ", r->predictor);
    for (size_t k = 0; k < t->n_varying && n < cap; k++) {
        if (!strcmp(t->varying[k], key)) continue;
        const char *v = as_run_param(r, t->varying[k]);
        const char *kk = t->varying[k];
        size_t pl = strlen(r->policy);
        if (pol && !strncmp(kk, r->policy, pl) && kk[pl] == '.') kk += pl + 1;
        if (v) n += (size_t)snprintf(buf + n, cap - n, "%s=%s ", kk, v);
    }
    if (n >= cap) n = cap - 1;
    while (n > 0 && buf[n - 1] == ' ')
        buf[--n] = 0;
    if (!buf[0]) snprintf(buf, cap, "%s", r->policy);
}

static void x_order(const axis_data_t *d, size_t *ord);

static int collect(const as_table_t *t, const char *key, axis_data_t *d)
{
    memset(d, 0, sizeof *d);
    d->pts = calloc(t->n ? t->n : 1, sizeof *d->pts);
    if (!d->pts) return AS_ENOMEM;
    /* lines are traces when nothing but the trace and the key varies */
    int others = 0, traces = 0;
    for (size_t i = 0; i < t->n; i++) {
        if (!as_run_param(&t->runs[i], key)) continue;
        char a[512], b[512];
        line_label(t, i, key, 0, a, sizeof a);
        for (size_t j = 0; j < i; j++) {
            if (!as_run_param(&t->runs[j], key)) continue;
            line_label(t, j, key, 0, b, sizeof b);
            others |= strcmp(a, b) != 0;
            traces |= !as_same_trace(&t->runs[i], &t->runs[j]);
        }
    }
    d->by_trace = traces && !others;
    d->numeric = 1;
    for (size_t i = 0; i < t->n; i++) {
        const char *v = as_run_param(&t->runs[i], key);
        if (!v) continue;
        char label[600];
        line_label(t, i, key, d->by_trace, label, sizeof label);
        if (d->by_trace) {
            const char *l = t->runs[i].trace_name;
            snprintf(label, sizeof label, "%s", l);
        }
        point_t *p = &d->pts[d->n_pts++];
        p->run = i;
        p->line = intern(&d->lines, &d->n_lines, label);
        p->xi = intern(&d->xs, &d->n_x, v);
        if (p->line == (size_t)-1 || p->xi == (size_t)-1) return AS_ENOMEM;
        double x;
        d->numeric &= is_number(v, &x);
    }
    d->all_numbers = d->numeric;
    if (d->numeric && d->n_x > 0) {
        double lo = INFINITY, hi = -INFINITY, x;
        for (size_t i = 0; i < d->n_x; i++) {
            is_number(d->xs[i], &x);
            lo = fmin(lo, x), hi = fmax(hi, x);
        }
        double lo_pos = INFINITY;
        for (size_t i = 0; i < d->n_x; i++)
            if (is_number(d->xs[i], &x) && x > 0) lo_pos = fmin(lo_pos, x);
        d->logx = lo > 0 && hi / lo >= 64;
        /* 0 among values spanning a factor of 64: evenly spaced instead */
        if (!d->logx && lo <= 0 && hi / lo_pos >= 64) d->numeric = 0;
    }
    d->ord = malloc((d->n_x ? d->n_x : 1) * sizeof *d->ord);
    if (!d->ord) return AS_ENOMEM;
    x_order(d, d->ord);
    return AS_OK;
}

/* Order of the x values: numeric ascending, else first appearance. */
static void x_order(const axis_data_t *d, size_t *ord)
{
    for (size_t i = 0; i < d->n_x; i++)
        ord[i] = i;
    if (!d->all_numbers) return;
    for (size_t i = 1; i < d->n_x; i++)
        for (size_t j = i; j > 0; j--) {
            double a = strtod(d->xs[ord[j - 1]], NULL),
                   b = strtod(d->xs[ord[j]], NULL);
            if (a <= b) break;
            size_t tmp = ord[j];
            ord[j] = ord[j - 1];
            ord[j - 1] = tmp;
        }
}

/* A value for a tick label: binary multiples as 8K, 16M, 1G. */
static void tick_text(const char *v, char *buf, size_t cap)
{
    double x;
    static const char *suf = "KMGT";
    if (is_number(v, &x) && x >= 1024 && x == floor(x)) {
        int k = -1;
        while (k < 3 && fmod(x, 1024) == 0 && x >= 1024)
            x /= 1024, k++;
        if (k >= 0) {
            snprintf(buf, cap, "%.0f%c", x, suf[k]);
            return;
        }
    }
    snprintf(buf, cap, "%s", v);
}

static void xaxis(FILE *gp, const axis_data_t *d, const char *key)
{
    fprintf(gp, "set xlabel ");
    as_plot_gp_string(gp, key);
    fprintf(gp, "\n");
    if (d->logx) fprintf(gp, "set logscale x 2\n");
    if (!d->numeric) {
        fprintf(gp, "set xrange [-0.5:%zu.5]\n", d->n_x - 1);
    } else {
        fprintf(gp, "set offsets graph 0.05, graph 0.05, 0, 0\n");
        if (d->n_x <= 12) {
            fprintf(gp, "set xtics (");
            for (size_t i = 0; i < d->n_x; i++) {
                char b[64];
                tick_text(d->xs[i], b, sizeof b);
                fprintf(gp, "%s'%s' %s", i ? ", " : "", b, d->xs[i]);
            }
            fprintf(gp, ")\n");
        }
    }
    fprintf(gp, "set key below Left reverse maxrows 3\n");
}

/* One figure: metric m against the key. */
static int fig_metric(as_plotset_t *ps, const as_table_t *t, const char *key,
                      const axis_data_t *d, size_t m, char *err, size_t errcap)
{
    char stem[200], name[160], title[320], about[320];
    as_plot_stem(key, stem, sizeof stem);
    snprintf(name, sizeof name, "sweep-%.60s-%s", stem, sweep_metrics[m].stem);
    snprintf(title, sizeof title, "%s vs %s%s%s", sweep_metrics[m].ylabel, key,
             d->by_trace || t->trace_varies ? "" : " — ",
             d->by_trace || t->trace_varies ? "" : t->runs[0].trace_name);
    int agg = t->trace_varies && !d->by_trace;
    snprintf(about, sizeof about,
             "%s of each run's summary against %s; %s. Columns: x mean min "
             "max runs x_text",
             sweep_metrics[m].metric, key,
             agg ? "one line per configuration, the mean over the traces "
                   "with a bar from their minimum to maximum"
                 : "one line per configuration");
    as_plot_file_t pf;
    int rc = as_plot_begin(ps, &pf, name, title, about, err, errcap);
    if (rc != AS_OK) return rc;
    const size_t *ord = d->ord;
    double ymax = 0;
    for (size_t l = 0; l < d->n_lines; l++) {
        fprintf(pf.dat, "# %s\n", d->lines[l]);
        for (size_t k = 0; k < d->n_x; k++) {
            size_t xi = ord[k], cnt = 0;
            double sum = 0, lo = INFINITY, hi = -INFINITY;
            for (size_t p = 0; p < d->n_pts; p++) {
                double v;
                if (d->pts[p].line != l || d->pts[p].xi != xi ||
                    !as_run_metric(&t->runs[d->pts[p].run],
                                   sweep_metrics[m].metric, &v))
                    continue;
                sum += v, cnt++;
                lo = fmin(lo, v), hi = fmax(hi, v);
            }
            if (!cnt) continue;
            ymax = fmax(ymax, hi);
            char xb[64];
            char tb[64];
            if (d->numeric)
                snprintf(xb, sizeof xb, "%s", d->xs[xi]);
            else
                snprintf(xb, sizeof xb, "%zu", k);
            tick_text(d->xs[xi], tb, sizeof tb);
            fprintf(pf.dat, "%s %.17g %.17g %.17g %zu \"%s\"\n", xb,
                    sum / (double)cnt, lo, hi, cnt, tb);
        }
        fprintf(pf.dat, "\n\n");
    }
    double div = 1;
    const char *unit = "";
    if (sweep_metrics[m].kind == 1) unit = as_units_bytes(ymax, &div);
    if (sweep_metrics[m].kind == 2) div = 0.01;
    if (sweep_metrics[m].kind == 1)
        fprintf(pf.gp, "set ylabel '%s (%s)'\n", sweep_metrics[m].ylabel, unit);
    else
        fprintf(pf.gp, "set ylabel '%s'\n", sweep_metrics[m].ylabel);
    fprintf(pf.gp, "set yrange [0:*]\nY = %g  # data units per y unit\n", div);
    xaxis(pf.gp, d, key);
    fprintf(pf.gp, "\n");
    as_plot_output_loop(&pf);
    fprintf(pf.gp, "  plot \\\n");
    for (size_t l = 0; l < d->n_lines; l++) {
        const char *x = d->numeric ? "1" : "1";
        if (agg)
            fprintf(pf.gp,
                    "    '%s.dat' index %zu using %s:($2/Y):($3/Y):($4/Y)%s "
                    "with yerrorlines lt %zu title ",
                    name, l, x, d->numeric ? "" : ":xtic(6)", l % 8 + 1);
        else
            fprintf(pf.gp,
                    "    '%s.dat' index %zu using %s:($2/Y)%s with "
                    "linespoints lt %zu title ",
                    name, l, x, d->numeric ? "" : ":xtic(6)", l % 8 + 1);
        as_plot_gp_string(pf.gp, d->lines[l]);
        fprintf(pf.gp, "%s\n", l + 1 < d->n_lines ? ", \\" : "");
    }
    return as_plot_end(ps, &pf, 1, err, errcap);
}

/* Footprint (mean resident bytes) against huge-page coverage, one curve per
 * line and trace along the key's values. */
static int fig_frontier(as_plotset_t *ps, const as_table_t *t, const char *key,
                        const axis_data_t *d, long only_trace, char *err,
                        size_t errcap)
{
    char stem[200], name[160], title[320], tstem[200] = "";
    as_plot_stem(key, stem, sizeof stem);
    if (only_trace >= 0)
        as_plot_stem(t->runs[only_trace].trace_name, tstem, sizeof tstem);
    snprintf(name, sizeof name, "frontier-%.60s%s%.60s", stem,
             tstem[0] ? "-" : "", tstem);
    const char *tn = only_trace >= 0 ? t->runs[only_trace].trace_name
                                     : t->runs[0].trace_name;
    int one = only_trace >= 0 || !t->trace_varies;
    snprintf(title, sizeof title,
             "Footprint vs huge-page coverage along %s%s%s", key,
             one ? " — " : "", one ? tn : "");
    as_plot_file_t pf;
    int rc = as_plot_begin(ps, &pf, name, title,
                           "one curve per configuration and trace, in the "
                           "order of the parameter's values. Columns: "
                           "mean_resident_bytes hugepage_coverage_mean "
                           "param_value",
                           err, errcap);
    if (rc != AS_OK) return rc;
    const size_t *ord = d->ord;
    double xmax = 0;
    char **titles = calloc(d->n_lines * (t->n ? t->n : 1) + 1, sizeof *titles);
    size_t blocks = 0;
    for (size_t l = 0; l < d->n_lines && titles; l++)
        for (size_t tr = 0; tr < t->n; tr++) {
            /* one block per (line, trace): the first run of each trace */
            int first = 1;
            for (size_t j = 0; j < tr; j++)
                first &= !as_same_trace(&t->runs[j], &t->runs[tr]);
            if (!first || (only_trace >= 0 &&
                           !as_same_trace(&t->runs[tr], &t->runs[only_trace])))
                continue;
            size_t written = 0;
            for (size_t k = 0; k < d->n_x; k++)
                for (size_t p = 0; p < d->n_pts; p++) {
                    const point_t *pt = &d->pts[p];
                    const as_run_t *r = &t->runs[pt->run];
                    double fx, cy;
                    if (pt->line != l || pt->xi != ord[k] ||
                        !as_same_trace(r, &t->runs[tr]) ||
                        !as_run_metric(r, "mean_resident_bytes", &fx) ||
                        !as_run_metric(r, "hugepage_coverage_mean", &cy))
                        continue;
                    if (!written)
                        fprintf(pf.dat, "# %s%s%s\n", d->lines[l],
                                d->by_trace ? "" : " ",
                                d->by_trace ? "" : r->trace_name);
                    fprintf(pf.dat, "%.17g %.17g \"%s\"\n", fx, cy,
                            d->xs[ord[k]]);
                    xmax = fmax(xmax, fx);
                    written++;
                }
            if (!written) continue;
            fprintf(pf.dat, "\n\n");
            char lab[700];
            if (d->by_trace || !t->trace_varies || only_trace >= 0)
                snprintf(lab, sizeof lab, "%s", d->lines[l]);
            else
                snprintf(lab, sizeof lab, "%s, %s", d->lines[l],
                         t->runs[tr].trace_name);
            titles[blocks++] = strdup(lab);
        }
    double div;
    const char *unit = as_units_bytes(xmax, &div);
    fprintf(pf.gp,
            "set xlabel 'mean resident (%s)'\nset ylabel 'huge-page coverage "
            "(%%)'\nset yrange [0:105]\nset key below Left reverse maxrows 3\n"
            "set offsets graph 0.05, graph 0.05, 0, 0\nB = %g\n\n",
            unit, div);
    as_plot_output_loop(&pf);
    fprintf(pf.gp, "  plot \\\n");
    for (size_t b = 0; b < blocks; b++) {
        fprintf(pf.gp,
                "    '%s.dat' index %zu using ($1/B):(100*$2) with "
                "linespoints lt %zu title ",
                name, b, b % 8 + 1);
        as_plot_gp_string(pf.gp, titles[b] ? titles[b] : "?");
        fprintf(pf.gp, "%s\n", b + 1 < blocks ? ", \\" : "");
    }
    for (size_t b = 0; b < blocks; b++)
        free(titles[b]);
    int ok = titles != NULL && blocks > 0;
    free(titles);
    return as_plot_end(ps, &pf, ok, err, errcap);
}

int as_plot_sweep(as_plotset_t *ps, const as_table_t *t,
                  const char *const *keys, size_t n_keys, char *err,
                  size_t errcap)
{
    int rc = AS_OK;
    for (size_t k = 0; rc == AS_OK && k < n_keys; k++) {
        axis_data_t d;
        rc = collect(t, keys[k], &d);
        if (rc == AS_ENOMEM) snprintf(err, errcap, "out of memory");
        if (rc == AS_OK && d.n_x < 2)
            as_plot_note(ps,
                         "no sweep figure for %s: the runs have one "
                         "value of it",
                         keys[k]);
        for (size_t m = 0; rc == AS_OK && d.n_x >= 2 &&
                           m < sizeof sweep_metrics / sizeof sweep_metrics[0];
             m++)
            rc = fig_metric(ps, t, keys[k], &d, m, err, errcap);
        /* one frontier per trace, unless the lines are the traces */
        for (size_t i = 0; rc == AS_OK && d.n_x >= 2 && i < t->n; i++) {
            int first = 1;
            for (size_t j = 0; j < i; j++)
                first &= !as_same_trace(&t->runs[j], &t->runs[i]);
            if (d.by_trace || !t->trace_varies) {
                if (i == 0)
                    rc = fig_frontier(ps, t, keys[k], &d, -1, err, errcap);
            } else if (first) {
                rc = fig_frontier(ps, t, keys[k], &d, (long)i, err, errcap);
            }
        }
        free_axis(&d);
    }
    return rc;
}

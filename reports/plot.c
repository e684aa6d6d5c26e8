/* plot.c - gnuplot figures from run directories (plot.h).
 *
 * Host code. It reads the CSV files that `allocsim run` writes (series.csv,
 * confusion.csv, histograms.csv, policy_series.csv) and the figures of
 * summary.json already loaded by rundir.c; it never replays a trace and
 * never links the engine. Data files keep exact units (bytes, ns) and the
 * scripts scale them, so a restyled figure cannot drift from the data.
 * gnuplot runs as a subprocess in the output directory, its messages going
 * to NAME.log, which is removed when it succeeds.
 */
#include "reports/plot.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/error.h"
#include "reports/csv.h"
#include "sim/fileio.h"

void as_plotset_init(as_plotset_t *ps, const char *dir, const char *gnuplot)
{
    memset(ps, 0, sizeof *ps);
    snprintf(ps->dir, sizeof ps->dir, "%s", dir);
    ps->gnuplot = gnuplot;
}

void as_plotset_free(as_plotset_t *ps)
{
    free(ps->plots);
    ps->plots = NULL;
    ps->n = 0;
}

void as_plot_note(as_plotset_t *ps, const char *fmt, ...)
{
    if (ps->skipped_notes >= sizeof ps->notes / sizeof ps->notes[0]) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ps->notes[ps->skipped_notes++], sizeof ps->notes[0], fmt, ap);
    va_end(ap);
}

const char *as_plot_time_unit(double span_ns, double *divisor)
{
    if (span_ns < 2e6) {
        *divisor = 1e3;
        return "µs";
    }
    if (span_ns < 2e9) {
        *divisor = 1e6;
        return "ms";
    }
    *divisor = 1e9;
    return "s";
}

char *as_plot_stem(const char *text, char *buf, size_t cap)
{
    size_t n = 0;
    for (const char *s = text; *s && n + 1 < cap; s++) {
        char c = *s;
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                 (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
        buf[n++] = ok ? c : '-';
    }
    buf[n] = 0;
    return buf;
}

void as_plot_gp_string(FILE *f, const char *s)
{
    fputc('\'', f);
    for (; *s; s++) {
        if (*s == '\'') fputc('\'', f);
        fputc(*s, f);
    }
    fputc('\'', f);
}

/* The style block at the head of every script. */
static void style(FILE *gp, const char *name, const char *title,
                  const char *about)
{
    fprintf(gp,
            "# %s\n# %s\n"
            "# Data: %s.dat. Render again (in this directory): gnuplot %s.gp\n"
            "\n# --- style: Okabe-Ito colour-blind-safe palette, one column "
            "of a two-column paper\n"
            "set encoding utf8\n"
            "set linetype 1 lc rgb '#0072B2' lw 1.5 pt 7 ps 0.6 # blue\n"
            "set linetype 2 lc rgb '#D55E00' lw 1.5 pt 5 ps 0.6 # vermillion\n"
            "set linetype 3 lc rgb '#009E73' lw 1.5 pt 9 ps 0.7 # bluish "
            "green\n"
            "set linetype 4 lc rgb '#CC79A7' lw 1.5 pt 11 ps 0.7 # reddish "
            "purple\n"
            "set linetype 5 lc rgb '#E69F00' lw 1.5 pt 13 ps 0.7 # orange\n"
            "set linetype 6 lc rgb '#56B4E9' lw 1.5 pt 4 ps 0.6 # sky blue\n"
            "set linetype 7 lc rgb '#F0E442' lw 1.5 pt 6 ps 0.6 # yellow\n"
            "set linetype 8 lc rgb '#000000' lw 1.5 pt 8 ps 0.6 # black\n"
            "set linetype cycle 8\n"
            "set border 3 lw 0.8\nset tics nomirror out scale 0.6\n"
            "set grid ytics lc rgb '#d0d0d0' lw 0.5 dt 1\n"
            "set key noenhanced Left reverse samplen 1.5 spacing 1.0\n"
            "set title noenhanced\n"
            "set title ",
            title, about, name, name);
    as_plot_gp_string(gp, title);
    fprintf(gp, "\n\n");
}

void as_plot_output_loop(as_plot_file_t *pf)
{
    fprintf(pf->gp,
            "# --- output: the same figure in the three formats\n"
            "do for [fmt in 'png svg pdf'] {\n"
            "  if (fmt eq 'png') { set terminal pngcairo size 1020,720 "
            "font 'DejaVu Sans,22' linewidth 3 noenhanced }\n"
            "  if (fmt eq 'svg') { set terminal svg size 510,360 font "
            "'DejaVu Sans,14' linewidth 1.5 noenhanced background '#ffffff' }\n"
            "  if (fmt eq 'pdf') { set terminal pdfcairo size 3.4in,2.4in "
            "font 'DejaVu Sans,8' linewidth 1 noenhanced }\n"
            "  set output '%s.'.fmt\n",
            pf->name);
}

typedef struct {
    as_outfile_t dat, gp;
} files_t;

int as_plot_begin(as_plotset_t *ps, as_plot_file_t *pf, const char *name,
                  const char *title, const char *about, char *err,
                  size_t errcap)
{
    memset(pf, 0, sizeof *pf);
    snprintf(pf->name, sizeof pf->name, "%s", name);
    snprintf(pf->title, sizeof pf->title, "%s", title);
    snprintf(pf->about, sizeof pf->about, "%s", about);
    files_t *fs = calloc(1, sizeof *fs);
    if (!fs) {
        snprintf(err, errcap, "out of memory");
        return AS_ENOMEM;
    }
    char path[4400];
    snprintf(path, sizeof path, "%s/%s.dat", ps->dir, name);
    int rc = as_outfile_open(&fs->dat, path, err, errcap);
    if (rc == AS_OK) {
        snprintf(path, sizeof path, "%s/%s.gp", ps->dir, name);
        rc = as_outfile_open(&fs->gp, path, err, errcap);
        if (rc != AS_OK) as_outfile_close(&fs->dat, 0, NULL, 0);
    }
    if (rc != AS_OK) {
        free(fs);
        return rc;
    }
    pf->priv = fs;
    pf->dat = fs->dat.f;
    pf->gp = fs->gp.f;
    fprintf(pf->dat, "# %s\n# %s\n", title, about);
    style(pf->gp, name, title, about);
    return AS_OK;
}

/* Run gnuplot NAME.gp in ps->dir; its output goes to NAME.log, kept only
 * when it fails. */
static int render(const as_plotset_t *ps, const char *name, char *err,
                  size_t errcap)
{
    char log[256], script[256];
    snprintf(log, sizeof log, "%s.log", name);
    snprintf(script, sizeof script, "%s.gp", name);
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(err, errcap, "cannot start %s: %s", ps->gnuplot,
                 strerror(errno));
        return AS_EIO;
    }
    if (pid == 0) {
        if (chdir(ps->dir) != 0) _exit(126);
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0666);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
            close(fd);
        }
        execlp(ps->gnuplot, ps->gnuplot, script, (char *)NULL);
        _exit(127);
    }
    int st;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR) break;
    char path[4400];
    snprintf(path, sizeof path, "%s/%s", ps->dir, log);
    if (WIFEXITED(st) && WEXITSTATUS(st) == 0) {
        unlink(path);
        return AS_OK;
    }
    if (WIFEXITED(st) && WEXITSTATUS(st) == 127)
        snprintf(err, errcap, "%s/%s: cannot run %s (is gnuplot installed?)",
                 ps->dir, script, ps->gnuplot);
    else
        snprintf(err, errcap, "%s/%s: gnuplot failed; its messages are in %s",
                 ps->dir, script, path);
    return AS_EIO;
}

int as_plot_end(as_plotset_t *ps, as_plot_file_t *pf, int keep, char *err,
                size_t errcap)
{
    files_t *fs = pf->priv;
    if (!fs) return AS_OK;
    if (keep) fprintf(pf->gp, "}\nset output\n");
    char e2[512];
    int rc = as_outfile_close(&fs->dat, keep, err, errcap);
    int rc2 = as_outfile_close(&fs->gp, keep && rc == AS_OK, e2, sizeof e2);
    if (rc == AS_OK && rc2 != AS_OK) {
        snprintf(err, errcap, "%s", e2);
        rc = rc2;
    }
    free(fs);
    pf->priv = NULL;
    if (!keep || rc != AS_OK) return rc;
    if (ps->gnuplot) {
        rc = render(ps, pf->name, err, errcap);
        if (rc != AS_OK) return rc;
    }
    as_plot_t *p = realloc(ps->plots, (ps->n + 1) * sizeof *p);
    if (!p) {
        snprintf(err, errcap, "out of memory");
        return AS_ENOMEM;
    }
    ps->plots = p;
    p += ps->n++;
    snprintf(p->name, sizeof p->name, "%s", pf->name);
    snprintf(p->title, sizeof p->title, "%s", pf->title);
    snprintf(p->about, sizeof p->about, "%s", pf->about);
    return AS_OK;
}

/* ------------------------------------------------------------ figures */

/* A run's CSV file, or a zeroed table with *present = 0 when absent. */
static int read_csv(const as_run_t *r, const char *file, as_csv_t *t,
                    int *present, char *err, size_t errcap)
{
    char path[4400];
    snprintf(path, sizeof path, "%s/%s", r->dir, file);
    struct stat sb;
    *present = stat(path, &sb) == 0;
    memset(t, 0, sizeof *t);
    if (!*present) return AS_OK;
    return as_csv_read(path, t, err, errcap);
}

/* Column index or an error naming the file. */
static int need_col(const as_csv_t *t, const as_run_t *r, const char *file,
                    const char *col, long *idx, char *err, size_t errcap)
{
    *idx = as_csv_col(t, col);
    if (*idx >= 0) return AS_OK;
    snprintf(err, errcap, "%s/%s: line 1: no column '%s'", r->dir, file, col);
    return AS_EFORMAT;
}

/* Write rows of the given series.csv columns as a data block; track the
 * maxima of the first (time) and of the byte columns. */
static int series_block(FILE *dat, const as_run_t *r, const char *label,
                        const char *const *cols, size_t ncols, double *max_t,
                        double *max_v, char *err, size_t errcap)
{
    as_csv_t t;
    int present;
    int rc = read_csv(r, "series.csv", &t, &present, err, errcap);
    if (rc != AS_OK) return rc;
    if (!present) {
        snprintf(err, errcap, "%s/series.csv: cannot open: no such file",
                 r->dir);
        return AS_EIO;
    }
    long idx[8];
    for (size_t c = 0; c < ncols && rc == AS_OK; c++)
        rc = need_col(&t, r, "series.csv", cols[c], &idx[c], err, errcap);
    fprintf(dat, "# %s (%s)\n#", label, r->name);
    for (size_t c = 0; c < ncols; c++)
        fprintf(dat, " %s", cols[c]);
    fputc('\n', dat);
    for (size_t i = 0; rc == AS_OK && i < t.n_rows; i++) {
        for (size_t c = 0; c < ncols; c++) {
            double v;
            if (as_csv_num(&t, i, (size_t)idx[c], &v) != AS_OK) {
                snprintf(err, errcap,
                         "%s/series.csv: line %zu: column '%s' "
                         "is not a number",
                         r->dir, i + 2, cols[c]);
                rc = AS_EFORMAT;
                break;
            }
            if (c == 0 && v > *max_t) *max_t = v;
            if (c > 0 && v > *max_v) *max_v = v;
            fprintf(dat, "%s%s", c ? " " : "",
                    as_csv_cell(&t, i, (size_t)idx[c]));
        }
        fputc('\n', dat);
    }
    fprintf(dat, "\n\n");
    as_csv_free(&t);
    return rc;
}

/* The recorded program's real RSS (series.csv's real_rss_bytes, written
 * when the trace carries memory samples: docs/metrics.md) as one more
 * data block, from run r: the rows where it is measured. *found is 1 when
 * there was at least one; an older series.csv without the column has
 * none. Tracks the time and byte maxima like series_block. */
static int real_block(FILE *dat, const as_run_t *r, int *found, double *max_t,
                      double *max_v, char *err, size_t errcap)
{
    as_csv_t t;
    int present;
    *found = 0;
    int rc = read_csv(r, "series.csv", &t, &present, err, errcap);
    if (rc != AS_OK || !present) return rc;
    long ct = as_csv_col(&t, "t_ns"), cr = as_csv_col(&t, "real_rss_bytes");
    for (size_t i = 0; ct >= 0 && cr >= 0 && i < t.n_rows; i++) {
        double tv, v;
        if (!as_csv_cell(&t, i, (size_t)cr)[0]) continue; /* not measured */
        if (as_csv_num(&t, i, (size_t)ct, &tv) != AS_OK ||
            as_csv_num(&t, i, (size_t)cr, &v) != AS_OK) {
            snprintf(err, errcap,
                     "%s/series.csv: line %zu: column 'real_rss_bytes' "
                     "is not a number",
                     r->dir, i + 2);
            rc = AS_EFORMAT;
            break;
        }
        if (!*found)
            fprintf(dat, "# real RSS of the recorded program\n"
                         "# t_ns real_rss_bytes\n");
        *found = 1;
        if (tv > *max_t) *max_t = tv;
        if (v > *max_v) *max_v = v;
        fprintf(dat, "%s %s\n", as_csv_cell(&t, i, (size_t)ct),
                as_csv_cell(&t, i, (size_t)cr));
    }
    if (*found) fprintf(dat, "\n\n");
    as_csv_free(&t);
    return rc;
}

/* A tick step of 1, 2 or 5 times a power of ten, at least `raw`. */
static double nice_step(double raw)
{
    if (!(raw > 0)) return 1;
    double p = pow(10, floor(log10(raw)));
    return raw <= p ? p : raw <= 2 * p ? 2 * p : raw <= 5 * p ? 5 * p : 10 * p;
}

/* Indices of the runs of trace `k` (runs[k]'s trace), in table order. */
static size_t runs_of_trace(const as_table_t *t, size_t k, size_t *out)
{
    size_t n = 0;
    for (size_t i = 0; i < t->n; i++)
        if (as_same_trace(&t->runs[i], &t->runs[k])) out[n++] = i;
    return n;
}

/* 1 when run i is the first of its trace. */
static int first_of_trace(const as_table_t *t, size_t i)
{
    for (size_t j = 0; j < i; j++)
        if (as_same_trace(&t->runs[j], &t->runs[i])) return 0;
    return 1;
}

static void label_of(const as_table_t *t, size_t i, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s",
             t->rows[i].label[0] ? t->rows[i].label : t->runs[i].policy);
}

/* Resident vs live bytes (kind 0) or huge-page coverage (kind 1) over time,
 * one figure per trace. */
static int fig_series(as_plotset_t *ps, const as_table_t *t, size_t k, int kind,
                      char *err, size_t errcap)
{
    size_t *idx = malloc(t->n * sizeof *idx);
    if (!idx) return AS_ENOMEM;
    size_t n = runs_of_trace(t, k, idx);
    const as_run_t *r0 = &t->runs[k];
    char stem[200], name[160], title[320], about[320];
    as_plot_stem(r0->trace_name, stem, sizeof stem);
    snprintf(name, sizeof name, "%s-%.60s", kind ? "coverage" : "memory", stem);
    if (kind)
        snprintf(title, sizeof title, "Huge-page coverage over time — %s",
                 r0->trace_name);
    else
        snprintf(title, sizeof title, "Resident vs live bytes — %s",
                 r0->trace_name);
    snprintf(about, sizeof about,
             kind ? "huge_bytes / resident_bytes of each run's series.csv, "
                    "one block per run: t_ns hugepage_coverage"
                  : "each run's series.csv, one block per run: t_ns "
                    "live_bytes resident_bytes; then, when the trace has "
                    "memory samples, t_ns real_rss_bytes");
    as_plot_file_t pf;
    int rc = as_plot_begin(ps, &pf, name, title, about, err, errcap);
    double max_t = 0, max_v = 0;
    static const char *mem_cols[] = {"t_ns", "live_bytes", "resident_bytes"};
    static const char *cov_cols[] = {"t_ns", "hugepage_coverage"};
    for (size_t j = 0; rc == AS_OK && j < n; j++) {
        char label[512];
        label_of(t, idx[j], label, sizeof label);
        rc = series_block(pf.dat, &t->runs[idx[j]], label,
                          kind ? cov_cols : mem_cols, kind ? 2 : 3, &max_t,
                          &max_v, err, errcap);
    }
    /* the real RSS, when the trace has it: the same for every run of the
     * trace, so the first run's is drawn, once */
    int real = 0;
    if (rc == AS_OK && !kind)
        rc = real_block(pf.dat, &t->runs[idx[0]], &real, &max_t, &max_v, err,
                        errcap);
    if (rc == AS_OK) {
        double td, bd;
        const char *tu = as_plot_time_unit(max_t, &td);
        const char *bu = as_units_bytes(max_v, &bd);
        fprintf(pf.gp, "set xlabel 'trace time (%s)'\n", tu);
        if (kind)
            fprintf(pf.gp, "set ylabel 'huge-page coverage (%%)'\n"
                           "set yrange [0:105]\n");
        else
            fprintf(pf.gp, "set ylabel 'bytes (%s)'\nset yrange [0:*]\n", bu);
        /* a short key beside the plot, a long one below it */
        size_t longest = 0;
        for (size_t j = 0; j < n; j++)
            longest = strlen(t->rows[idx[j]].label) > longest
                          ? strlen(t->rows[idx[j]].label)
                          : longest;
        fprintf(pf.gp, "set key %s\nset autoscale xfix\nset xtics %g\n",
                n <= 7 && longest <= 16 ? "outside right top"
                                        : "below Left reverse maxrows 4",
                nice_step(max_t / td / 5));
        fprintf(pf.gp,
                "T = %g  # ns per x unit\nB = %g  # bytes per y unit\n\n", td,
                bd);
        as_plot_output_loop(&pf);
        fprintf(pf.gp, "  plot \\\n");
        for (size_t j = 0; j < n; j++) {
            char label[512];
            label_of(t, idx[j], label, sizeof label);
            fprintf(pf.gp,
                    "    '%s.dat' index %zu using ($1/T):(%s) with "
                    "steps lt %zu title ",
                    name, j, kind ? "100*$2" : "$3/B", j % 7 + 1);
            as_plot_gp_string(pf.gp, kind ? label : label);
            fprintf(pf.gp, "%s\n", j + 1 < n || !kind ? ", \\" : "");
        }
        if (!kind)
            fprintf(pf.gp,
                    "    '%s.dat' index 0 using ($1/T):($2/B) with "
                    "steps lt 8 dt 2 title 'live'%s\n",
                    name, real ? ", \\" : "");
        if (real)
            fprintf(pf.gp,
                    "    '%s.dat' index %zu using ($1/T):($2/B) with "
                    "lines lt 8 lc rgb '#7f7f7f' lw 2.5 title 'real RSS "
                    "(recorded)'\n",
                    name, n);
    }
    free(idx);
    int rc2 = as_plot_end(ps, &pf, rc == AS_OK, err, errcap);
    return rc != AS_OK ? rc : rc2;
}

/* Johnstone–Wilson fragmentation of each run of a trace, clustered bars.
 * The overheads are negative when fewer bytes are resident than live (a
 * replay of recorded write reports: pages allocated but not yet written),
 * so the axis starts at 0 or below the lowest bar, never above it (gnuplot
 * refuses a plot whose every point is out of range). */
static int fig_fragmentation(as_plotset_t *ps, const as_table_t *t, size_t k,
                             char *err, size_t errcap)
{
    size_t *idx = malloc(t->n * sizeof *idx);
    if (!idx) return AS_ENOMEM;
    size_t n = runs_of_trace(t, k, idx);
    const as_run_t *r0 = &t->runs[k];
    char stem[200], name[160], title[320];
    as_plot_stem(r0->trace_name, stem, sizeof stem);
    snprintf(name, sizeof name, "fragmentation-%.60s", stem);
    snprintf(title, sizeof title, "Fragmentation per run — %s", r0->trace_name);
    as_plot_file_t pf;
    int rc = as_plot_begin(ps, &pf, name, title,
                           "Johnstone-Wilson measures from each summary.json "
                           "(resident / live - 1): label jw1 jw2 jw3 jw4",
                           err, errcap);
    if (rc != AS_OK) {
        free(idx);
        return rc;
    }
    fprintf(pf.dat, "# label jw1 jw2 jw3 jw4\n");
    size_t longest = 0;
    for (size_t j = 0; j < n; j++) {
        const as_run_t *r = &t->runs[idx[j]];
        char label[512];
        label_of(t, idx[j], label, sizeof label);
        if (strlen(label) > longest) longest = strlen(label);
        fprintf(pf.dat, "\"");
        for (const char *s = label; *s; s++)
            fputc(*s == '"' ? '\'' : *s, pf.dat);
        fprintf(pf.dat, "\"");
        static const char *m[] = {"fragmentation.jw1", "fragmentation.jw2",
                                  "fragmentation.jw3", "fragmentation.jw4"};
        for (size_t c = 0; c < 4; c++) {
            double v = NAN;
            as_run_metric(r, m[c], &v);
            char b[64];
            fprintf(pf.dat, " %s",
                    isnan(v) ? "NaN" : as_run_format_number(v, b, sizeof b));
        }
        fputc('\n', pf.dat);
    }
    fprintf(pf.gp,
            "set style data histograms\n"
            "set style histogram clustered gap 1\n"
            "set style fill solid 1.0 border -1\n"
            "set boxwidth 0.9\n"
            "set ylabel 'overhead (resident / live − 1)'\n"
            "# from 0, or below when resident < live (pages not yet\n"
            "# written: recorded write reports)\n"
            "set yrange [*<0:*]\nset offsets 0, 0, graph 0.35, 0\n"
            "set key inside top left horizontal maxrows 2\n"
            "# a label on two lines, split at its first space\n"
            "wrap(s) = strstrt(s, ' ') ? s[1:strstrt(s, ' ') - 1].\"\\n\"."
            "s[strstrt(s, ' ') + 1:] : s\n"
            "set xtics %s\n\n",
            n > 3 || longest > 10 ? "rotate by -30 left" : "");
    as_plot_output_loop(&pf);
    fprintf(pf.gp,
            "  plot '%s.dat' using 2:xtic(wrap(strcol(1))) lt 1 title 'JW#1 "
            "over time', "
            "\\\n"
            "       '' using 3 lt 2 title '#2 at peak live', \\\n"
            "       '' using 4 lt 3 title '#3 at peak resident', \\\n"
            "       '' using 5 lt 4 title '#4 peak/peak'\n",
            name);
    free(idx);
    return as_plot_end(ps, &pf, 1, err, errcap);
}

/* Names of the lifetime classes, from the runs' class count: LLAMA's
 * default bounds when there are seven. */
static const char *class_name(size_t c, size_t n)
{
    static const char *llama[] = {"<10ms", "<100ms", "<1s",   "<10s",
                                  "<100s", "<1000s", "longer"};
    static char buf[16][16];
    if (n == 7) return llama[c];
    snprintf(buf[c % 16], sizeof buf[0], "class %zu", c);
    return buf[c % 16];
}

/* The predictor's confusion matrix (by allocations), one figure per trace
 * and predictor; each column (actual class) is normalised to 100 %. */
static int fig_confusion(as_plotset_t *ps, const as_table_t *t, size_t i,
                         int *made, char *err, size_t errcap)
{
    const as_run_t *r = &t->runs[i];
    *made = 0;
    as_csv_t c;
    int present;
    int rc = read_csv(r, "confusion.csv", &c, &present, err, errcap);
    if (rc != AS_OK || !present) return rc;
    long cp, ca, cn, ck;
    rc = need_col(&c, r, "confusion.csv", "predicted_class", &cp, err, errcap);
    if (rc == AS_OK)
        rc = need_col(&c, r, "confusion.csv", "actual_class", &ca, err, errcap);
    if (rc == AS_OK)
        rc = need_col(&c, r, "confusion.csv", "allocs", &cn, err, errcap);
    ck = as_csv_col(&c, "predictor");
    enum { MAXC = 16 };
    double m[MAXC][MAXC] = {{0}}, col_total[MAXC] = {0}, total = 0;
    size_t ncls = 0;
    for (size_t row = 0; rc == AS_OK && row < c.n_rows; row++) {
        if (ck >= 0 && strcmp(as_csv_cell(&c, row, (size_t)ck), "predictor"))
            continue; /* shadow predictor rows */
        double p, a, v;
        if (as_csv_num(&c, row, (size_t)cp, &p) ||
            as_csv_num(&c, row, (size_t)ca, &a) ||
            as_csv_num(&c, row, (size_t)cn, &v) || p < 0 || a < 0 ||
            p >= MAXC || a >= MAXC || v < 0) {
            snprintf(err, errcap,
                     "%s/confusion.csv: line %zu: expected "
                     "classes 0..%d and a count",
                     r->dir, row + 2, MAXC - 1);
            rc = AS_EFORMAT;
            break;
        }
        m[(int)p][(int)a] += v;
        col_total[(int)a] += v;
        total += v;
        if ((size_t)p + 1 > ncls) ncls = (size_t)p + 1;
        if ((size_t)a + 1 > ncls) ncls = (size_t)a + 1;
    }
    as_csv_free(&c);
    if (rc != AS_OK || total == 0) return rc;

    char s1[200], s2[200], name[160], title[320];
    as_plot_stem(r->trace_name, s1, sizeof s1);
    as_plot_stem(r->predictor, s2, sizeof s2);
    snprintf(name, sizeof name, "confusion-%.60s-%.60s", s1, s2);
    for (size_t j = 0; j < ps->n; j++)
        if (strcmp(ps->plots[j].name, name) == 0) return AS_OK; /* made */
    snprintf(title, sizeof title,
             "Predictor %.80s: predicted vs actual — %.120s", r->predictor,
             r->trace_name);
    as_plot_file_t pf;
    rc = as_plot_begin(ps, &pf, name, title,
                       "confusion.csv by allocations; each actual class "
                       "(column) sums to 100%: actual predicted percent allocs",
                       err, errcap);
    if (rc != AS_OK) return rc;
    fprintf(pf.dat,
            "# from %s/confusion.csv\n# actual predicted percent allocs\n",
            r->name);
    for (size_t a = 0; a < ncls; a++) {
        for (size_t p = 0; p < ncls; p++)
            fprintf(pf.dat, "%zu %zu %.4f %.0f\n", a, p,
                    col_total[a] > 0 ? 100 * m[p][a] / col_total[a] : 0,
                    m[p][a]);
        fputc('\n', pf.dat);
    }
    fprintf(pf.gp,
            "set xlabel 'actual lifetime class'\n"
            "set ylabel 'predicted class'\n"
            "set cblabel '%% of the class' offset -1\n"
            "set palette defined (0 '#ffffff', 1 '#56B4E9', 2 "
            "'#0072B2', 3 '#002a4d')\n"
            "set cbrange [0:100]\nset cbtics 25\n"
            "set xrange [-0.5:%zu.5]\nset yrange [-0.5:%zu.5]\n"
            "set size ratio -1\nunset grid\nset border 15\n"
            "set tics scale 0\n",
            ncls - 1, ncls - 1);
    fprintf(pf.gp, "set xtics (");
    for (size_t a = 0; a < ncls; a++)
        fprintf(pf.gp, "%s'%s' %zu", a ? ", " : "", class_name(a, ncls), a);
    fprintf(pf.gp, ") rotate by -30 left\nset ytics (");
    for (size_t a = 0; a < ncls; a++)
        fprintf(pf.gp, "%s'%s' %zu", a ? ", " : "", class_name(a, ncls), a);
    fprintf(pf.gp, ")\n\n");
    as_plot_output_loop(&pf);
    fprintf(pf.gp,
            "  plot '%s.dat' using 1:2:3 with image notitle, \\\n"
            "       '' using 1:2:($4 > 0 && $3 < 50 ? sprintf('%%.0f', $3) : "
            "'') with labels tc rgb '#000000' notitle, \\\n"
            "       '' using 1:2:($3 >= 50 ? sprintf('%%.0f', $3) : '') with "
            "labels tc rgb '#ffffff' notitle\n",
            name);
    *made = 1;
    return as_plot_end(ps, &pf, 1, err, errcap);
}

/* TCMalloc's filler: hugepages by their free pages, at the end of the run
 * (histograms.csv) and at the sample of peak filler use (policy_series). */
static int fig_filler(as_plotset_t *ps, const as_table_t *t, size_t i,
                      int *made, char *err, size_t errcap)
{
    const as_run_t *r = &t->runs[i];
    *made = 0;
    as_csv_t h, s;
    int present, present_s;
    int rc = read_csv(r, "histograms.csv", &h, &present, err, errcap);
    if (rc != AS_OK || !present) return rc;
    enum { NB = 17 };
    double end[NB] = {0}, peak[NB] = {0};
    int have = 0;
    long ch = as_csv_col(&h, "histogram"), cb = as_csv_col(&h, "bucket"),
         cv = as_csv_col(&h, "value");
    for (size_t row = 0; ch >= 0 && cb >= 0 && cv >= 0 && row < h.n_rows;
         row++) {
        if (strcmp(as_csv_cell(&h, row, (size_t)ch),
                   "policy.filler_free_pages"))
            continue;
        double b, v;
        if (as_csv_num(&h, row, (size_t)cb, &b) ||
            as_csv_num(&h, row, (size_t)cv, &v) || b < 0 || b >= NB) {
            snprintf(err, errcap,
                     "%s/histograms.csv: line %zu: expected a "
                     "bucket 0..16 and a count",
                     r->dir, row + 2);
            as_csv_free(&h);
            return AS_EFORMAT;
        }
        end[(int)b] = v;
        have = 1;
    }
    as_csv_free(&h);
    if (!have) return AS_OK;
    rc = read_csv(r, "policy_series.csv", &s, &present_s, err, errcap);
    if (rc != AS_OK) return rc;
    int have_peak = 0;
    long cu = present_s ? as_csv_col(&s, "filler_used_bytes") : -1;
    if (cu >= 0) {
        double best = -1;
        size_t best_row = 0;
        for (size_t row = 0; row < s.n_rows; row++) {
            double v;
            if (as_csv_num(&s, row, (size_t)cu, &v) == AS_OK && v > best)
                best = v, best_row = row;
        }
        have_peak = best >= 0;
        for (int b = 0; have_peak && b < NB; b++) {
            char col[64];
            snprintf(col, sizeof col, "filler_free_pages_hist_%02d", b);
            long cc = as_csv_col(&s, col);
            if (cc < 0 || as_csv_num(&s, best_row, (size_t)cc, &peak[b]))
                have_peak = 0;
        }
    }
    as_csv_free(&s);

    char s1[200], s2[200], name[160], title[320], label[512];
    as_plot_stem(r->trace_name, s1, sizeof s1);
    label_of(t, i, label, sizeof label);
    as_plot_stem(label, s2, sizeof s2);
    snprintf(name, sizeof name, "filler-%.60s-%.60s", s1, s2);
    snprintf(title, sizeof title, "TCMalloc filler occupancy — %.120s, %.120s",
             r->trace_name, label);
    double ymax = 0;
    for (int b = 0; b < NB; b++)
        ymax = fmax(ymax, fmax(end[b], have_peak ? peak[b] : 0));
    as_plot_file_t pf;
    rc = as_plot_begin(ps, &pf, name, title,
                       "filler hugepages by free pages (bucket k: "
                       "[k/16, (k+1)/16) of the pages free; 16: all free): "
                       "bucket at_peak_use at_end",
                       err, errcap);
    if (rc != AS_OK) return rc;
    fprintf(pf.dat,
            "# from %s/histograms.csv and policy_series.csv\n"
            "# bucket hugepages_at_peak_filler_use hugepages_at_end\n",
            r->name);
    for (int b = 0; b < NB; b++) {
        if (have_peak)
            fprintf(pf.dat, "%d %.0f %.0f\n", b, peak[b], end[b]);
        else
            fprintf(pf.dat, "%d NaN %.0f\n", b, end[b]);
    }
    fprintf(pf.gp,
            "set style data histograms\n"
            "set style histogram clustered gap 1\n"
            "set style fill solid 1.0 border -1\n"
            "set xlabel 'free pages of the hugepage (sixteenths)'\n"
            "set ylabel 'hugepages'\nset yrange [0:*]\n"
            "set key top right\n%s\n",
            ymax <= 8 ? "set ytics 1\n" : "");
    as_plot_output_loop(&pf);
    fprintf(pf.gp,
            "  plot '%s.dat' using 2:xtic(int($1) %% 4 == 0 ? "
            "($1 == 16 ? 'all' : sprintf('%%d', $1)) : '') lt 1 title "
            "'at peak filler use', \\\n"
            "       '' using 3 lt 2 title 'at end of run'\n",
            name);
    *made = 1;
    return as_plot_end(ps, &pf, rc == AS_OK, err, errcap);
}

int as_plot_runs(as_plotset_t *ps, const as_table_t *t, char *err,
                 size_t errcap)
{
    int rc = AS_OK, any_conf = 0, any_filler = 0;
    size_t *idx = malloc((t->n ? t->n : 1) * sizeof *idx), n_tc = 0;
    if (!idx) {
        snprintf(err, errcap, "out of memory");
        return AS_ENOMEM;
    }
    for (size_t i = 0; i < t->n; i++)
        n_tc += strcmp(t->runs[i].policy, "tcmalloc") == 0;
    for (size_t k = 0; rc == AS_OK && k < t->n; k++) {
        if (!first_of_trace(t, k)) continue;
        size_t n = runs_of_trace(t, k, idx);
        if (n > AS_PLOT_MAX_LINES) {
            as_plot_note(ps,
                         "no per-run figures for %s: %zu runs of it are "
                         "too many lines (the sweep figures summarise "
                         "them)",
                         t->runs[k].trace_name, n);
            continue;
        }
        rc = fig_series(ps, t, k, 0, err, errcap);
        if (rc == AS_OK) rc = fig_series(ps, t, k, 1, err, errcap);
        if (rc == AS_OK) rc = fig_fragmentation(ps, t, k, err, errcap);
    }
    for (size_t i = 0; rc == AS_OK && i < t->n; i++) {
        int made = 0;
        if (strcmp(t->runs[i].predictor, "none") != 0) {
            rc = fig_confusion(ps, t, i, &made, err, errcap);
            any_conf |= made;
        }
        if (rc == AS_OK && n_tc <= AS_PLOT_MAX_LINES)
            rc = fig_filler(ps, t, i, &made, err, errcap);
        any_filler |= made;
    }
    free(idx);
    if (rc == AS_OK && !any_conf)
        as_plot_note(ps, "no confusion-matrix heat map: no run has a "
                         "predictor with predictions (confusion.csv)");
    if (rc == AS_OK && !any_filler)
        as_plot_note(ps, "no filler occupancy histogram: no run has "
                         "TCMalloc's policy.filler_free_pages histogram");
    return rc;
}

/* report.c - table, figures and index.html of a set of runs (report.h).
 *
 * Host code. It composes rundir.c (loading), table.c, plot.c and html.c,
 * and owns nothing else: the three subcommands that make reports differ
 * only in how they obtain the run directories.
 */
#include "reports/report.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/error.h"
#include "reports/html.h"
#include "reports/plot.h"
#include "reports/rundir.h"
#include "reports/sweepplot.h"
#include "reports/tracestats.h"
#include "reports/table.h"

int as_mkdirs(const char *dir, char *err, size_t errcap)
{
    char buf[4096];
    if ((size_t)snprintf(buf, sizeof buf, "%s", dir) >= sizeof buf) {
        snprintf(err, errcap, "%.200s...: path too long", dir);
        return AS_EIO;
    }
    for (char *p = buf + 1;; p++) {
        if (*p != '/' && *p) continue;
        char c = *p;
        *p = 0;
        if (mkdir(buf, 0777) != 0 && errno != EEXIST) {
            snprintf(err, errcap, "%s: cannot create: %s", buf,
                     strerror(errno));
            return AS_EIO;
        }
        *p = c;
        if (!c) break;
    }
    struct stat sb;
    if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
        snprintf(err, errcap, "%s: not a directory", dir);
        return AS_EIO;
    }
    return AS_OK;
}

static int has_summary(const char *dir)
{
    char path[4500];
    snprintf(path, sizeof path, "%s/summary.json", dir);
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISREG(sb.st_mode);
}

int as_strv_push(char ***arr, size_t *n, const char *s)
{
    char **a = realloc(*arr, (*n + 1) * sizeof *a);
    if (!a) return AS_ENOMEM;
    *arr = a;
    if (!(a[*n] = strdup(s))) return AS_ENOMEM;
    (*n)++;
    return AS_OK;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Append the run directories below dir (depth levels at most) to *dirs.
 * Temporaries of unfinished runs (NAME.tmp.*) are not runs. */
static int find_runs(const char *dir, int depth, char ***dirs, size_t *n)
{
    DIR *d = opendir(dir);
    if (!d) return AS_OK;
    struct dirent *e;
    int rc = AS_OK;
    while (rc == AS_OK && (e = readdir(d))) {
        if (e->d_name[0] == '.' || strstr(e->d_name, ".tmp.")) continue;
        char sub[4400];
        snprintf(sub, sizeof sub, "%s/%s", dir, e->d_name);
        struct stat sb;
        if (stat(sub, &sb) != 0 || !S_ISDIR(sb.st_mode)) continue;
        if (has_summary(sub))
            rc = as_strv_push(dirs, n, sub);
        else if (depth > 1)
            rc = find_runs(sub, depth - 1, dirs, n);
    }
    closedir(d);
    return rc;
}

int as_report_expand(const char *arg, char ***dirs, size_t *n, char *err,
                     size_t errcap)
{
    if (has_summary(arg)) return as_strv_push(dirs, n, arg);
    struct stat sb;
    if (stat(arg, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
        snprintf(err, errcap, "%s: not a run directory (no summary.json): %s",
                 arg,
                 stat(arg, &sb) != 0 ? strerror(errno) : "not a directory");
        return AS_ENOTFOUND;
    }
    size_t first = *n;
    int rc = find_runs(arg, 3, dirs, n);
    if (rc != AS_OK) return rc;
    if (*n == first) {
        snprintf(err, errcap,
                 "%s: not a run directory: no summary.json in it or in the "
                 "directories below it (3 levels)",
                 arg);
        return AS_ENOTFOUND;
    }
    qsort(*dirs + first, *n - first, sizeof **dirs, cmp_str);
    return AS_OK;
}

char *as_report_command_line(int argc, char **argv, char *buf, size_t cap)
{
    size_t n = 0;
    buf[0] = 0;
    for (int i = 0; i < argc && n + 4 < cap; i++) {
        const char *a = argv[i];
        int plain = *a != 0;
        for (const char *s = a; *s; s++)
            if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                        "0123456789_-.,/:=+@%",
                        *s))
                plain = 0;
        if (i) buf[n++] = ' ';
        if (!plain) buf[n++] = '\'';
        for (const char *s = a; *s && n + 6 < cap; s++) {
            if (*s == '\'') {
                memcpy(buf + n, "'\\''", 4);
                n += 4;
            } else {
                buf[n++] = *s;
            }
        }
        if (!plain) buf[n++] = '\'';
        buf[n] = 0;
    }
    return buf;
}

int as_report_write(const as_report_opts_t *o, char *const *run_dirs, size_t n,
                    char *err, size_t errcap)
{
    int rc = as_mkdirs(o->out_dir, err, errcap);
    if (rc != AS_OK) return rc;
    as_run_t *runs = calloc(n ? n : 1, sizeof *runs);
    if (!runs) {
        snprintf(err, errcap, "out of memory");
        return AS_ENOMEM;
    }
    size_t loaded = 0, ol = strlen(o->out_dir);
    for (; rc == AS_OK && loaded < n; loaded++) {
        rc = as_run_load(run_dirs[loaded], &runs[loaded], err, errcap);
        const char *d = run_dirs[loaded];
        if (rc == AS_OK && strncmp(d, o->out_dir, ol) == 0 && d[ol] == '/')
            snprintf(runs[loaded].name, sizeof runs[loaded].name, "%s",
                     d + ol + 1);
    }
    as_table_t t;
    as_plotset_t ps;
    as_plotset_init(&ps, o->out_dir, o->gnuplot);
    int have_table = 0;
    if (rc == AS_OK) rc = as_table_build(&t, runs, n, o->baseline, err, errcap);
    have_table = rc == AS_OK;
    if (rc == AS_OK) rc = as_table_write_files(&t, o->out_dir, err, errcap);
    for (size_t i = 0; rc == AS_OK && i < o->n_traces; i++) {
        as_tracestats_t *ts = malloc(sizeof *ts);
        rc = ts ? as_tracestats_compute(o->traces[i], ts, err, errcap)
                : AS_ENOMEM;
        if (rc == AS_OK) rc = as_plot_trace(&ps, ts, err, errcap);
        free(ts);
    }
    if (rc == AS_OK && !o->n_traces)
        as_plot_note(&ps, "no lifetime CDF or size histogram: they are "
                          "drawn from the trace, which `allocsim plot` does "
                          "not read (`allocsim compare` and `sweep` do)");
    if (rc == AS_OK) rc = as_plot_runs(&ps, &t, err, errcap);
    if (rc == AS_OK && o->n_sweep_keys)
        rc =
            as_plot_sweep(&ps, &t, o->sweep_keys, o->n_sweep_keys, err, errcap);
    if (rc == AS_OK) {
        as_html_page_t page = {
            o->title, o->command, &t, &ps, {o->spec_file, NULL}};
        rc = as_html_write_file(&page, o->out_dir, err, errcap);
    }
    if (have_table) as_table_free(&t);
    as_plotset_free(&ps);
    for (size_t i = 0; i < loaded; i++)
        as_run_free(&runs[i]);
    free(runs);
    return rc;
}

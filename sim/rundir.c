/* rundir.c - write one run as a run directory (see rundir.h).
 *
 * Owns the output files of a run: it opens them, hands each to the sink
 * module that writes it, runs the engine with those sinks, and keeps the
 * files only when the whole run succeeded. It writes no row itself.
 *
 * A run directory is written as a whole: into a fresh directory beside the
 * target (DIR.allocsim-XXXXXX), renamed into place only when every file is
 * complete, so DIR holds one run's files or another's, never a mix. An
 * existing DIR is replaced only when it is empty or an earlier run
 * directory (its summary.json written by allocsim, nothing but run files
 * in it); anything else is refused. A run that is killed leaves DIR as it
 * was and its DIR.allocsim-* directory behind.
 */
#include "sim/rundir.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sim/cli.h"
#include "sim/fileio.h"
#include "sim/series.h"
#include "sim/summary.h"
#include "sim/tables.h"

enum { F_SERIES, F_POLICY_SERIES, F_CONFUSION, F_HISTOGRAMS, F_SUMMARY, N_F };

static const char *const file_names[N_F] = {
    [F_SERIES] = "series.csv",       [F_POLICY_SERIES] = "policy_series.csv",
    [F_CONFUSION] = "confusion.csv", [F_HISTOGRAMS] = "histograms.csv",
    [F_SUMMARY] = "summary.json",
};

/* Close every file: keep (rename into place) or discard. @return 0 or -1
 * (message printed). */
static int close_all(as_outfile_t *out, int keep)
{
    int bad = 0;
    for (int i = 0; i < N_F; i++) {
        char err[4400];
        if (as_outfile_close(&out[i], keep, err, sizeof err) != AS_OK) {
            as_cli_err("%s", err);
            bad = -1;
            keep = 0; /* a missing file: drop the rest too */
        }
    }
    return bad;
}

/* A lifetime-aware policy (policy.h: lifetime_aware) that got no prediction
 * for any allocation placed every object by its own rule for unknown
 * objects, not by lifetime: say so, naming the rule when the policy has an
 * `unknown_class` parameter (its resolved value is in summary.json). */
static void warn_no_predictions(const as_run_config_t *cfg,
                                const as_run_result_t *res)
{
    const as_policy_ops_t *ops =
        cfg->policy_ops ? cfg->policy_ops : as_policy_find(cfg->policy);
    uint64_t asked = res->allocs + res->reallocs;
    if (!ops || !ops->lifetime_aware || asked == 0 ||
        res->unpredicted_allocs != asked)
        return;
    char rule[160] = "its rule for objects without a prediction";
    for (size_t i = 0; i < res->n_params_out; i++) {
        const as_resolved_param_t *r = &res->params[i];
        char v[64];
        if (strcmp(r->part, ops->name) == 0 &&
            strcmp(r->spec->name, "unknown_class") == 0 &&
            as_param_format(r->spec, r->value, v, sizeof v) >= 0)
            snprintf(rule, sizeof rule, "%s.unknown_class=%s", ops->name, v);
    }
    as_cli_err("warning: %s places objects by predicted lifetime, but no "
               "allocation had a prediction (--predictor %s): every object "
               "was placed by %s, not by its lifetime; give --predictor "
               "oracle (or site, cached:site) for lifetime-aware placement",
               ops->name, cfg->predictor ? cfg->predictor : "none", rule);
}

static void report(const as_run_config_t *cfg, const as_run_result_t *res,
                   const char *summary_path, as_run_brief_t *brief)
{
    warn_no_predictions(cfg, res);
    if (res->warn_truncated)
        as_cli_err("%s: %s (replayed every whole chunk; the outputs "
                   "are marked truncated%s)",
                   cfg->allow_truncated ? "warning" : "error", res->truncation,
                   cfg->allow_truncated ? ""
                                        : "; exit status 3 unless "
                                          "--allow-truncated");
    /* `run` says it; demo's many runs leave it in each summary.json */
    if (res->short_periods && !brief)
        as_cli_err("warning: %s", res->short_periods_msg);
    uint64_t warns = res->warn_unknown_free + res->warn_double_free +
                     res->warn_too_large + res->warn_policy_errors;
    if (warns)
        as_cli_err("warning: %llu bad events counted (see "
                   "warnings in %s)",
                   (unsigned long long)warns, summary_path);
    if (brief) {
        brief->metrics = res->metrics;
        brief->events_per_s =
            res->wall_s > 0 ? (double)res->events / res->wall_s : 0;
        return;
    }
    const as_metrics_summary_t *m = &res->metrics;
    printf("%s: %llu events, peak live %.2f MiB, peak resident %.2f MiB, "
           "fragmentation jw4 %.3f, huge-page coverage %.3f\n",
           cfg->policy_ops ? cfg->policy_ops->name : cfg->policy,
           (unsigned long long)res->events,
           (double)m->peak_live_bytes / 1048576.0,
           (double)m->peak_resident_bytes / 1048576.0, m->jw4,
           m->hugepage_coverage_mean);
    printf("wrote %s (and series.csv, policy_series.csv, confusion.csv, "
           "histograms.csv)\n",
           summary_path);
}

/* Is `name` one of the files a run directory holds (or a leftover
 * temporary of one)? */
static int is_run_file(const char *name)
{
    for (int i = 0; i < N_F; i++) {
        size_t n = strlen(file_names[i]);
        if (strncmp(name, file_names[i], n) == 0 &&
            (name[n] == 0 || strcmp(name + n, ".tmp") == 0))
            return 1;
    }
    return 0;
}

/* Does `path` hold a summary written by allocsim? */
static int is_summary(const char *path)
{
    char head[256];
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    size_t n = fread(head, 1, sizeof head - 1, f);
    fclose(f);
    head[n] = 0;
    return head[0] == '{' && strstr(head, "\"allocsim_version\"") != NULL;
}

/* May the run replace `dir`? It may when dir does not exist, is an empty
 * directory, or is an earlier run directory: its summary.json was written
 * by allocsim and it holds nothing but run files. *exists says whether dir
 * is there. @return an exit code, AS_EXIT_OK to go on (message printed). */
static int check_target(const char *dir, int *exists)
{
    struct stat st;
    *exists = 0;
    if (lstat(dir, &st) != 0) {
        if (errno == ENOENT) return AS_EXIT_OK;
        as_cli_err("%s: %s", dir, strerror(errno));
        return AS_EXIT_FAIL;
    }
    if (S_ISLNK(st.st_mode)) {
        as_cli_err("%s: is a symbolic link; give the run directory "
                   "itself",
                   dir);
        return AS_EXIT_USAGE;
    }
    if (!S_ISDIR(st.st_mode)) {
        as_cli_err("%s: exists and is not a directory", dir);
        return AS_EXIT_USAGE;
    }
    *exists = 1;
    DIR *d = opendir(dir);
    if (!d) {
        as_cli_err("%s: %s", dir, strerror(errno));
        return AS_EXIT_FAIL;
    }
    char stranger[256] = "";
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
        n++;
        if (!stranger[0] && !is_run_file(de->d_name))
            snprintf(stranger, sizeof stranger, "%s", de->d_name);
    }
    closedir(d);
    if (n == 0) return AS_EXIT_OK;
    char summary[4200];
    snprintf(summary, sizeof summary, "%s/summary.json", dir);
    if (stranger[0] || !is_summary(summary)) {
        as_cli_err("%s: is not an earlier run directory (%s%s%s); "
                   "refusing to replace it: choose another -o",
                   dir, stranger[0] ? "it holds '" : "no summary.json",
                   stranger[0] ? stranger : "", stranger[0] ? "'" : "");
        return AS_EXIT_USAGE;
    }
    return AS_EXIT_OK;
}

/* Remove a run directory: its run files, then the directory. */
static void remove_run_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *de;
        while ((de = readdir(d)) != NULL)
            if (is_run_file(de->d_name)) {
                char p[4400];
                snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
                remove(p);
            }
        closedir(d);
    }
    if (rmdir(dir) != 0 && errno != ENOENT)
        as_cli_err("warning: %s: left in place: %s", dir, strerror(errno));
}

/* Put the finished run directory `tmp` at `dir`, replacing the earlier
 * one (checked by check_target) when `exists`. @return 0 or -1 (message
 * printed; tmp removed). */
static int install(const char *tmp, const char *dir, int exists)
{
    if (!exists) {
        if (rename(tmp, dir) == 0) return 0;
    } else if (renameat2(AT_FDCWD, tmp, AT_FDCWD, dir, RENAME_EXCHANGE) == 0) {
        remove_run_dir(tmp); /* now the earlier run */
        return 0;
    } else if (errno == EINVAL || errno == ENOSYS) {
        /* no atomic exchange on this file system: move the old one aside */
        char aside[4400];
        snprintf(aside, sizeof aside, "%s.old", tmp);
        if (rename(dir, aside) == 0) {
            if (rename(tmp, dir) == 0) {
                remove_run_dir(aside);
                return 0;
            }
            rename(aside, dir);
        }
    }
    as_cli_err("%s: cannot put the run in place: %s", dir, strerror(errno));
    remove_run_dir(tmp);
    return -1;
}

/* A fresh directory beside `dir` (same file system, so it can be renamed
 * into place), with the permissions mkdir would give. @return 0 or -1. */
static int make_tmp_dir(const char *dir, char *tmp, size_t cap)
{
    size_t n = strlen(dir);
    while (n > 1 && dir[n - 1] == '/')
        n--;
    if ((size_t)snprintf(tmp, cap, "%.*s.allocsim-XXXXXX", (int)n, dir) >=
            cap ||
        !mkdtemp(tmp)) {
        as_cli_err("%s: cannot create a directory beside it: %s", dir,
                   strerror(errno));
        return -1;
    }
    mode_t mask = umask(0);
    umask(mask);
    chmod(tmp, 0777 & ~mask);
    return 0;
}

/* One run directory being written: its temporary directory, its files
 * and the sinks that write them. */
typedef struct {
    const char *dir;
    int exists; /* dir is there (an earlier run, to replace) */
    char tmp[4096];
    as_outfile_t out[N_F];
    as_series_t series, pseries;
    as_sink_file_t conf, hist, summary;
    as_run_sink_t sinks[N_F];
} rundir_t;

/* Check dir, make its temporary directory and open its files; the sinks
 * go to cfg. @return AS_EXIT_OK, or an exit code (message printed,
 * nothing left). */
static int rundir_open(rundir_t *d, const char *dir, as_run_config_t *cfg)
{
    memset(d, 0, sizeof *d);
    d->dir = dir;
    int rc = check_target(dir, &d->exists);
    if (rc != AS_EXIT_OK) return rc;
    if (make_tmp_dir(dir, d->tmp, sizeof d->tmp)) return AS_EXIT_FAIL;
    as_outfile_t *out = d->out;
    for (int i = 0; i < N_F; i++) {
        char path[4400], err[4400];
        snprintf(path, sizeof path, "%s/%s", d->tmp, file_names[i]);
        if (as_outfile_open(&out[i], path, err, sizeof err) != AS_OK) {
            as_cli_err("%s", err);
            close_all(out, 0);
            remove_run_dir(d->tmp);
            return AS_EXIT_FAIL;
        }
    }
    d->sinks[F_SERIES] =
        as_series_sink(&d->series, out[F_SERIES].f, out[F_SERIES].path);
    d->sinks[F_POLICY_SERIES] = as_policy_series_sink(
        &d->pseries, out[F_POLICY_SERIES].f, out[F_POLICY_SERIES].path);
    d->sinks[F_CONFUSION] =
        as_confusion_sink(&d->conf, out[F_CONFUSION].f, out[F_CONFUSION].path);
    d->sinks[F_HISTOGRAMS] = as_histograms_sink(&d->hist, out[F_HISTOGRAMS].f,
                                                out[F_HISTOGRAMS].path);
    d->sinks[F_SUMMARY] =
        as_summary_sink(&d->summary, out[F_SUMMARY].f, out[F_SUMMARY].path);
    cfg->sinks = d->sinks;
    cfg->n_sinks = N_F;
    return AS_EXIT_OK;
}

/* After the engine: keep the run directory when erc is 0 (install it at
 * dir and report), else drop it and print err. @return the exit code. */
static int rundir_close(rundir_t *d, as_run_config_t *cfg, int erc,
                        const char *err, as_run_result_t *res,
                        as_run_brief_t *brief)
{
    cfg->sinks = NULL;
    cfg->n_sinks = 0;
    if (erc != AS_OK) {
        int write_failed = 0;
        for (int i = 0; i < N_F; i++)
            write_failed |= ferror(d->out[i].f) != 0;
        close_all(d->out, 0);
        remove_run_dir(d->tmp);
        as_cli_err("%s", err);
        /* Out of memory (host, or the simulated machine's physical memory:
         * AS_ENOSPACE), a policy caught by the checks and a failed write
         * of an output are failures of the work; everything else is bad
         * input or bad usage. */
        return (erc == AS_ENOMEM || erc == AS_ENOSPACE || erc == AS_ECHECK ||
                write_failed)
                   ? AS_EXIT_FAIL
                   : AS_EXIT_USAGE;
    }
    if (close_all(d->out, 1) || install(d->tmp, d->dir, d->exists)) {
        remove_run_dir(d->tmp);
        as_run_result_free(res);
        return AS_EXIT_FAIL;
    }
    char summary_path[4200];
    snprintf(summary_path, sizeof summary_path, "%s/summary.json", d->dir);
    report(cfg, res, summary_path, brief);
    int rc = res->warn_truncated && !cfg->allow_truncated ? AS_EXIT_TRUNCATED
                                                          : AS_EXIT_OK;
    as_run_result_free(res);
    return rc;
}

int as_run_to_dir(as_run_config_t *cfg, const char *dir,
                  void (*prog)(void *, uint64_t, uint64_t),
                  as_run_brief_t *brief)
{
    rundir_t d;
    int rc = rundir_open(&d, dir, cfg);
    if (rc != AS_EXIT_OK) return rc;
    if (prog && as_cli_progress_on()) cfg->progress = prog;
    as_run_result_t res;
    char err[2048];
    int erc = as_engine_run(cfg, &res, err, sizeof err);
    if (cfg->progress) fprintf(stderr, "\r\033[K");
    return rundir_close(&d, cfg, erc, err, &res, brief);
}

int as_runs_to_dirs(as_run_config_t *cfgs, const char *const *dirs, size_t k,
                    void (*prog)(void *, uint64_t, uint64_t))
{
    rundir_t *d = calloc(k, sizeof *d);
    as_run_result_t *res = calloc(k, sizeof *res);
    const as_run_config_t **go = calloc(k, sizeof *go);
    char *errbuf = calloc(k, 2048);
    char **errs = calloc(k, sizeof *errs);
    int *xc = calloc(k, sizeof *xc), *erc = calloc(k, sizeof *erc);
    size_t *which = calloc(k, sizeof *which);
    int rc = AS_EXIT_OK;
    if (!d || !res || !go || !errbuf || !errs || !xc || !erc || !which) {
        as_cli_err("out of memory");
        rc = AS_EXIT_FAIL;
        goto out;
    }
    size_t n = 0;
    for (size_t j = 0; j < k; j++) {
        xc[j] = rundir_open(&d[j], dirs[j], &cfgs[j]);
        if (xc[j] != AS_EXIT_OK) continue;
        go[n] = &cfgs[j];
        errs[n] = errbuf + 2048 * n;
        which[n++] = j;
    }
    if (n) {
        as_run_config_t *c0 = &cfgs[which[0]];
        if (prog && as_cli_progress_on()) c0->progress = prog;
        as_engine_run_many(go, n, res, errs, 2048, erc);
        if (c0->progress) fprintf(stderr, "\r\033[K");
    }
    for (size_t i = 0; i < n; i++) {
        size_t j = which[i];
        xc[j] = rundir_close(&d[j], &cfgs[j], erc[i], errs[i], &res[i], NULL);
    }
    for (size_t j = 0; j < k && rc == AS_EXIT_OK; j++)
        rc = xc[j];
out:
    free(d);
    free(res);
    free(go);
    free(errbuf);
    free(errs);
    free(xc);
    free(erc);
    free(which);
    return rc;
}

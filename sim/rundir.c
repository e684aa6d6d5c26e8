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

int as_run_to_dir(as_run_config_t *cfg, const char *dir,
                  void (*prog)(void *, uint64_t, uint64_t),
                  as_run_brief_t *brief)
{
    int exists, rc = check_target(dir, &exists);
    if (rc != AS_EXIT_OK) return rc;
    char tmp[4096];
    if (make_tmp_dir(dir, tmp, sizeof tmp)) return AS_EXIT_FAIL;
    as_outfile_t out[N_F];
    memset(out, 0, sizeof out);
    for (int i = 0; i < N_F; i++) {
        char path[4400], err[4400];
        snprintf(path, sizeof path, "%s/%s", tmp, file_names[i]);
        if (as_outfile_open(&out[i], path, err, sizeof err) != AS_OK) {
            as_cli_err("%s", err);
            close_all(out, 0);
            remove_run_dir(tmp);
            return AS_EXIT_FAIL;
        }
    }
    as_series_t series, pseries;
    as_sink_file_t conf, hist, summary;
    as_run_sink_t sinks[N_F] = {
        [F_SERIES] =
            as_series_sink(&series, out[F_SERIES].f, out[F_SERIES].path),
        [F_POLICY_SERIES] = as_policy_series_sink(
            &pseries, out[F_POLICY_SERIES].f, out[F_POLICY_SERIES].path),
        [F_CONFUSION] =
            as_confusion_sink(&conf, out[F_CONFUSION].f, out[F_CONFUSION].path),
        [F_HISTOGRAMS] = as_histograms_sink(&hist, out[F_HISTOGRAMS].f,
                                            out[F_HISTOGRAMS].path),
        [F_SUMMARY] =
            as_summary_sink(&summary, out[F_SUMMARY].f, out[F_SUMMARY].path),
    };
    cfg->sinks = sinks;
    cfg->n_sinks = N_F;
    if (prog && as_cli_progress_on()) cfg->progress = prog;
    as_run_result_t res;
    char err[2048];
    int erc = as_engine_run(cfg, &res, err, sizeof err);
    if (cfg->progress) fprintf(stderr, "\r\033[K");
    cfg->sinks = NULL;
    cfg->n_sinks = 0;
    if (erc != AS_OK) {
        int write_failed = 0;
        for (int i = 0; i < N_F; i++)
            write_failed |= ferror(out[i].f) != 0;
        close_all(out, 0);
        remove_run_dir(tmp);
        as_cli_err("%s", err);
        /* Out of memory, a policy caught by the checks and a failed write
         * of an output are failures of the work; everything else is bad
         * input or bad usage. */
        return (erc == AS_ENOMEM || erc == AS_ECHECK || write_failed)
                   ? AS_EXIT_FAIL
                   : AS_EXIT_USAGE;
    }
    if (close_all(out, 1) || install(tmp, dir, exists)) {
        remove_run_dir(tmp);
        as_run_result_free(&res);
        return AS_EXIT_FAIL;
    }
    char summary_path[4200];
    snprintf(summary_path, sizeof summary_path, "%s/summary.json", dir);
    report(cfg, &res, summary_path, brief);
    rc = res.warn_truncated && !cfg->allow_truncated ? AS_EXIT_TRUNCATED
                                                     : AS_EXIT_OK;
    as_run_result_free(&res);
    return rc;
}

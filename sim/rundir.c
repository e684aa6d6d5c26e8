/* rundir.c - write one run as a run directory (see rundir.h).
 *
 * Owns the output files of a run: it opens them, hands each to the sink
 * module that writes it, runs the engine with those sinks, and keeps the
 * files only when the whole run succeeded. It writes no row itself.
 */
#include "sim/rundir.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

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
            fprintf(stderr, "allocsim: %s\n", err);
            bad = -1;
            keep = 0; /* a missing file: drop the rest too */
        }
    }
    return bad;
}

static void report(const as_run_config_t *cfg, const as_run_result_t *res,
                   const char *summary_path, as_run_brief_t *brief)
{
    if (res->warn_truncated)
        fprintf(stderr, "allocsim: warning: %s (replayed every whole chunk)\n",
                res->truncation);
    uint64_t warns = res->warn_unknown_free + res->warn_double_free +
                     res->warn_too_large + res->warn_policy_errors;
    if (warns)
        fprintf(stderr,
                "allocsim: warning: %llu bad events counted (see "
                "warnings in %s)\n",
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

int as_run_to_dir(as_run_config_t *cfg, const char *dir,
                  void (*prog)(void *, uint64_t, uint64_t),
                  as_run_brief_t *brief)
{
    if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "allocsim: %s: cannot create directory: %s\n", dir,
                strerror(errno));
        return AS_EXIT_FAIL;
    }
    as_outfile_t out[N_F];
    memset(out, 0, sizeof out);
    for (int i = 0; i < N_F; i++) {
        char path[4096], err[4400];
        snprintf(path, sizeof path, "%s/%s", dir, file_names[i]);
        if (as_outfile_open(&out[i], path, err, sizeof err) != AS_OK) {
            fprintf(stderr, "allocsim: %s\n", err);
            close_all(out, 0);
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
    int rc = as_engine_run(cfg, &res, err, sizeof err);
    if (cfg->progress) fprintf(stderr, "\r\033[K");
    cfg->sinks = NULL;
    cfg->n_sinks = 0;
    if (rc != AS_OK) {
        int write_failed = 0;
        for (int i = 0; i < N_F; i++)
            write_failed |= ferror(out[i].f) != 0;
        close_all(out, 0);
        fprintf(stderr, "allocsim: %s\n", err);
        /* Out of memory, a policy caught by the checks and a failed write
         * of an output are failures of the work; everything else is bad
         * input or bad usage. */
        return (rc == AS_ENOMEM || rc == AS_ECHECK || write_failed)
                   ? AS_EXIT_FAIL
                   : AS_EXIT_USAGE;
    }
    int bad = close_all(out, 1);
    if (!bad) report(cfg, &res, out[F_SUMMARY].path, brief);
    as_run_result_free(&res);
    return bad ? AS_EXIT_FAIL : AS_EXIT_OK;
}

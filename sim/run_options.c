/* run_options.c - the options that configure a replay, shared by `allocsim
 * run` and `allocsim demo` (see run_options.h): their tables and their
 * parse, then the writing of one run directory. Prints usage errors itself:
 * it is command-line code.
 */
#include "sim/run_options.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "sim/cli.h"
#include "sim/fileio.h"
#include "sim/summary.h"

enum {
    OPT_POLICY = 1,
    OPT_TRACE,
    OPT_PARAM,
    OPT_PREDICTOR,
    OPT_THP,
    OPT_CLASSES,
    OPT_SAMPLE_INTERVAL,
    OPT_NO_CHECK,
    OPT_STATS,
    OPT_SHADOW,
    OPT_PRED_LOAD,
    OPT_PRED_SAVE,
    OPT_OUTPUT,
    OPT_QUIET
};

static const as_opt_t run_only[] = {
    AS_OPT_ROW_TEXT(OPT_POLICY, "policy", 'p', "NAME",
                    "placement policy (required; below)"),
    {0},
};

static const as_opt_t demo_only[] = {
    AS_OPT_ROW_TEXT(OPT_TRACE, "trace", 0, "TRACE",
                    "the trace (or give it as the argument); default\n"
                    "data/redis.ast"),
    {0},
};

static const as_opt_t run_common[] = {
    AS_OPT_ROW_TEXT(OPT_PARAM, "param", 'P', "K=V",
                    "parameter, e.g. bestfit.trim_threshold=1M; repeatable"),
    AS_OPT_ROW_TEXT(OPT_PREDICTOR, "predictor", 0, "NAME",
                    "lifetime predictor (run: default none; demo: oracle);\n"
                    "WRAPPER:INNER for a wrapping predictor (cached:site)"),
    AS_OPT_ROW_CHOICE(OPT_THP, "thp", 0, "never|madvise|always", "MODE",
                      "always (default) | madvise | never"),
    AS_OPT_ROW_TEXT(OPT_CLASSES, "classes", 0, "LIST",
                    "lifetime class bounds, e.g. 10ms,1s,100s\n"
                    "(default LLAMA's 10ms..1000s)"),
    AS_OPT_ROW_NUM(OPT_SAMPLE_INTERVAL, "sample-interval", 0, AS_PARAM_NS, 1,
                   1e18, "T",
                   "series sampling period, e.g. 10ms (default:\n"
                   "the trace's duration / 1000)"),
    AS_OPT_ROW_FLAG(OPT_NO_CHECK, "no-check", 0,
                    "skip the checking layer (faster)"),
    AS_OPT_ROW_FLAG(OPT_STATS, "stats", 0,
                    "wrap the policy in the statistics layer"),
    AS_OPT_ROW_TEXT(OPT_SHADOW, "shadow-predictor", 0, "Q",
                    "also ask predictor Q on every allocation and\n"
                    "report its accuracy (counterfactual)"),
    AS_OPT_ROW_TEXT(OPT_PRED_LOAD, "predictor-load", 0, "F",
                    "trained table for the predictor (site)"),
    AS_OPT_ROW_TEXT(OPT_PRED_SAVE, "predictor-save", 0, "F",
                    "write the predictor's table after the run"),
    AS_OPT_ROW_TEXT(OPT_OUTPUT, "output", 'o', "DIR",
                    "output directory (run: allocsim-out; demo: demo-out)"),
    AS_OPT_ROW_FLAG(OPT_QUIET, "quiet", 'q', "no progress"),
    {0},
};

const as_opt_t *const as_cmd_run_opts[] = {run_only, run_common, NULL};
const as_opt_t *const as_cmd_demo_opts[] = {demo_only, run_common, NULL};

/* check_predictor: a wrapping predictor needs its inner one named. */
static int check_predictor(const as_opts_t *p)
{
    const as_predictor_ops_t *ops = as_predictor_find(p->text);
    if (!ops || !ops->wraps) return 0;
    as_cli_err("--%s %s: %s wraps another predictor; name it as %s:INNER, "
               "e.g. %s:site",
               p->opt->name, p->text, p->text, p->text, p->text);
    return -1;
}

int as_run_options_parse(as_run_opts_t *o, const char *cmd,
                         const as_opt_t *const *tables, int argc, char **argv,
                         void (*usage)(FILE *))
{
    memset(o, 0, sizeof *o);
    as_run_config_default(&o->cfg);
    o->out_dir = "allocsim-out";
    as_opts_t p;
    as_opts_init(&p, cmd, tables, argc, argv);
    for (int c; (c = as_opts_next(&p)) != AS_OPT_END;) {
        switch (c) {
        case AS_OPT_ERROR:
            return AS_EXIT_USAGE;
        case AS_OPT_HELP:
            usage(stdout);
            return AS_EXIT_OK;
        case OPT_POLICY:
            o->cfg.policy = p.text;
            break;
        case OPT_TRACE:
            o->trace = p.text;
            break;
        case OPT_PARAM:
            if (o->cfg.n_params == AS_MAX_PARAMS) {
                as_cli_err("too many --param (at most %d)", AS_MAX_PARAMS);
                return AS_EXIT_USAGE;
            }
            o->cfg.params[o->cfg.n_params++] = p.text;
            break;
        case OPT_PREDICTOR:
            if (check_predictor(&p)) return AS_EXIT_USAGE;
            o->cfg.predictor = p.text;
            o->predictor_given = 1;
            break;
        case OPT_SHADOW:
            if (check_predictor(&p)) return AS_EXIT_USAGE;
            o->cfg.shadow_predictor = p.text;
            break;
        case OPT_THP:
            o->cfg.os.thp = (as_thp_mode_t)p.value.u;
            break;
        case OPT_CLASSES:
            if (as_classes_parse(&o->cfg.classes, p.text)) {
                char what[128];
                snprintf(what, sizeof what,
                         "an ascending list of at most %d durations with "
                         "units, e.g. 10ms,1s,100s",
                         AS_MAX_CLASSES - 1);
                as_opts_bad_value(&p, what);
                return AS_EXIT_USAGE;
            }
            break;
        case OPT_SAMPLE_INTERVAL:
            o->cfg.sample_interval_ns = p.value.u;
            break;
        case OPT_NO_CHECK:
            o->cfg.check = 0;
            break;
        case OPT_STATS:
            o->cfg.stats_layer = 1;
            break;
        case OPT_PRED_LOAD:
            o->cfg.predictor_load_path = p.text;
            break;
        case OPT_PRED_SAVE:
            o->cfg.predictor_save_path = p.text;
            break;
        case OPT_OUTPUT:
            o->out_dir = p.text;
            o->out_given = 1;
            break;
        case OPT_QUIET:
            o->quiet = 1;
            break;
        default: /* AS_OPT_ARG */
            if (o->n_positional == AS_MAX_POSITIONAL) {
                as_cli_err("too many arguments");
                return AS_EXIT_USAGE;
            }
            o->positional[o->n_positional++] = p.text;
        }
    }
    if (as_cli_is_stdio(o->out_dir)) {
        as_cli_err("-o -: the output is a directory; name one");
        return AS_EXIT_USAGE;
    }
    return -1;
}

/* ------------------------------------------------------ run directories */

/* The run directory's files go through as_outfile_t (fileio.h): each
 * appears under its name only once the whole run has succeeded. These two
 * wrappers name the file inside the directory and print the message. */
static int out_open(as_outfile_t *o, const char *dir, const char *name)
{
    char path[4096], err[4400];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (as_outfile_open(o, path, err, sizeof err) == AS_OK) return 0;
    as_cli_err("%s", err);
    return -1;
}

/* Close; keep (rename into place) or discard. @return 0 or -1. */
static int out_close(as_outfile_t *o, int keep)
{
    char err[4400];
    if (as_outfile_close(o, keep, err, sizeof err) == AS_OK) return 0;
    as_cli_err("%s", err);
    return -1;
}

/* confusion.csv: one row per (predicted, actual) pair, plot-ready. */
static void write_confusion(FILE *f, const as_run_result_t *res)
{
    fprintf(f, "predictor,predicted_class,actual_class,allocs,bytes\n");
    for (uint32_t p = 0; p < res->n_classes; p++)
        for (uint32_t a = 0; a < res->n_classes; a++)
            fprintf(f, "predictor,%u,%u,%llu,%llu\n", p, a,
                    (unsigned long long)res->confusion_allocs[p][a],
                    (unsigned long long)res->confusion_bytes[p][a]);
    if (res->has_shadow)
        for (uint32_t p = 0; p < res->n_classes; p++)
            for (uint32_t a = 0; a < res->n_classes; a++)
                fprintf(f, "shadow,%u,%u,%llu,%llu\n", p, a,
                        (unsigned long long)res->shadow_confusion_allocs[p][a],
                        (unsigned long long)res->shadow_confusion_bytes[p][a]);
}

/* histograms.csv: every statistic named <name>_hist_<bucket> (e.g.
 * tcmalloc's filler_free_pages_hist_00..16), as name,bucket,value rows. */
static void write_histograms(FILE *f, const as_run_result_t *res)
{
    fprintf(f, "histogram,bucket,value\n");
    for (size_t i = 0; i < res->n_stats; i++) {
        const char *n = res->stats[i].name, *h = strstr(n, "_hist_");
        if (!h) continue;
        char *end;
        long b = strtol(h + 6, &end, 10);
        if (end == h + 6 || *end) continue;
        fprintf(f, "%.*s,%ld,%.17g\n", (int)(h - n), n, b, res->stats[i].value);
    }
}

int as_run_to_dir(as_run_config_t *cfg, const char *dir,
                  void (*prog)(void *, uint64_t, uint64_t),
                  as_run_brief_t *brief)
{
    if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
        as_cli_err("%s: cannot create directory: %s", dir, strerror(errno));
        return AS_EXIT_FAIL;
    }
    as_outfile_t series = {0}, pseries = {0}, conf = {0}, hist = {0};
    if (out_open(&series, dir, "series.csv") ||
        out_open(&pseries, dir, "policy_series.csv")) {
        out_close(&series, 0);
        return AS_EXIT_FAIL;
    }
    cfg->series = series.f;
    cfg->policy_series = pseries.f;
    if (prog && as_cli_progress_on()) cfg->progress = prog;
    as_run_result_t res;
    char err[2048];
    int rc = as_engine_run(cfg, &res, err, sizeof err);
    if (cfg->progress) fprintf(stderr, "\r\033[K");
    cfg->series = cfg->policy_series = NULL;
    if (rc != AS_OK) {
        out_close(&series, 0);
        out_close(&pseries, 0);
        as_cli_err("%s", err);
        /* Out of memory and a policy caught by the checks are failures of
         * the work; everything else is bad input or bad usage. */
        return (rc == AS_ENOMEM || rc == AS_ECHECK) ? AS_EXIT_FAIL
                                                    : AS_EXIT_USAGE;
    }
    int bad = out_close(&series, 1) | out_close(&pseries, 1);
    if (!out_open(&conf, dir, "confusion.csv")) {
        write_confusion(conf.f, &res);
        bad |= out_close(&conf, 1);
    } else {
        bad = -1;
    }
    if (!out_open(&hist, dir, "histograms.csv")) {
        write_histograms(hist.f, &res);
        bad |= out_close(&hist, 1);
    } else {
        bad = -1;
    }
    char summary_path[4096];
    snprintf(summary_path, sizeof summary_path, "%s/summary.json", dir);
    if (!bad &&
        as_summary_write(summary_path, cfg, &res, err, sizeof err) != AS_OK) {
        as_cli_err("%s", err);
        bad = -1;
    }
    if (bad) {
        as_run_result_free(&res);
        return AS_EXIT_FAIL;
    }
    if (res.warn_truncated)
        as_cli_err("warning: %s (replayed every whole chunk)", res.truncation);
    uint64_t warns = res.warn_unknown_free + res.warn_double_free +
                     res.warn_too_large + res.warn_policy_errors;
    if (warns)
        as_cli_err("warning: %llu bad events counted (see warnings in %s)",
                   (unsigned long long)warns, summary_path);
    if (brief) {
        brief->metrics = res.metrics;
        brief->events_per_s =
            res.wall_s > 0 ? (double)res.events / res.wall_s : 0;
    } else {
        const as_metrics_summary_t *m = &res.metrics;
        printf("%s: %llu events, peak live %.2f MiB, peak resident %.2f MiB, "
               "fragmentation jw4 %.3f, huge-page coverage %.3f\n",
               cfg->policy_ops ? cfg->policy_ops->name : cfg->policy,
               (unsigned long long)res.events,
               (double)m->peak_live_bytes / 1048576.0,
               (double)m->peak_resident_bytes / 1048576.0, m->jw4,
               m->hugepage_coverage_mean);
        printf("wrote %s (and series.csv, policy_series.csv, confusion.csv, "
               "histograms.csv)\n",
               summary_path);
    }
    as_run_result_free(&res);
    return AS_EXIT_OK;
}

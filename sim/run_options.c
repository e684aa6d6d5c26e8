/* run_options.c - parse the flags that configure a replay (see
 * run_options.h). Prints usage errors itself: it is command-line code. */
#include "sim/run_options.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "sim/cli.h"
#include "sim/fileio.h"
#include "sim/summary.h"

int as_run_options_parse(as_run_opts_t *o, int argc, char **argv,
                         void (*usage)(FILE *))
{
    static const struct option longopts[] = {
        {"policy", required_argument, 0, 'p'},
        {"param", required_argument, 0, 'P'},
        {"predictor", required_argument, 0, 'r'},
        {"thp", required_argument, 0, 't'},
        {"classes", required_argument, 0, 'c'},
        {"sample-interval", required_argument, 0, 's'},
        {"no-check", no_argument, 0, 'n'},
        {"output", required_argument, 0, 'o'},
        {"trace", required_argument, 0, 'T'},
        {"quiet", no_argument, 0, 'q'},
        {"shadow-predictor", required_argument, 0, 'S'},
        {"predictor-load", required_argument, 0, 'L'},
        {"predictor-save", required_argument, 0, 'W'},
        {"stats", no_argument, 0, 'x'},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    memset(o, 0, sizeof *o);
    as_run_config_default(&o->cfg);
    o->out_dir = "allocsim-out";
    static const as_param_spec_t thp = {
        "thp", AS_PARAM_ENUM, "always", 0, 0, "never|madvise|always", ""};
    static const as_param_spec_t dur = {
        "sample-interval", AS_PARAM_NS, "0", 1, 1e18, NULL, ""};
    as_param_value_t v;
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "p:P:o:qh", longopts, NULL)) != -1) {
        switch (c) {
        case 'p':
            o->cfg.policy = optarg;
            break;
        case 'P':
            if (o->cfg.n_params == AS_MAX_PARAMS) {
                fprintf(stderr, "%s: too many --param (max %d)\n", argv[0],
                        AS_MAX_PARAMS);
                return AS_EXIT_USAGE;
            }
            o->cfg.params[o->cfg.n_params++] = optarg;
            break;
        case 'r':
            o->cfg.predictor = optarg;
            break;
        case 't':
            if (as_param_parse_value(&thp, optarg, strlen(optarg), &v)) {
                fprintf(stderr,
                        "%s: --thp: '%s' is not always, madvise or "
                        "never\n",
                        argv[0], optarg);
                return AS_EXIT_USAGE;
            }
            o->cfg.os.thp = (as_thp_mode_t)v.u;
            break;
        case 'c':
            if (as_classes_parse(&o->cfg.classes, optarg)) {
                fprintf(stderr,
                        "%s: --classes: '%s' is not an ascending list "
                        "of durations like 10ms,1s,100s (at most %d)\n",
                        argv[0], optarg, AS_MAX_CLASSES - 1);
                return AS_EXIT_USAGE;
            }
            break;
        case 's':
            if (as_param_parse_value(&dur, optarg, strlen(optarg), &v)) {
                fprintf(stderr,
                        "%s: --sample-interval: '%s' is not a "
                        "duration like 10ms\n",
                        argv[0], optarg);
                return AS_EXIT_USAGE;
            }
            o->cfg.sample_interval_ns = v.u;
            break;
        case 'n':
            o->cfg.check = 0;
            break;
        case 'o':
            o->out_dir = optarg;
            break;
        case 'T':
            o->trace = optarg;
            break;
        case 'q':
            o->quiet = 1;
            break;
        case 'S':
            o->cfg.shadow_predictor = optarg;
            break;
        case 'L':
            o->cfg.predictor_load_path = optarg;
            break;
        case 'W':
            o->cfg.predictor_save_path = optarg;
            break;
        case 'x':
            o->cfg.stats_layer = 1;
            break;
        case 'h':
            usage(stdout);
            return AS_EXIT_OK;
        default:
            fprintf(stderr,
                    "%s: unknown or incomplete option '%s'; see "
                    "--help\n",
                    argv[0], argv[optind - 1]);
            return AS_EXIT_USAGE;
        }
    }
    for (int i = optind; i < argc; i++) {
        /* Allow "-o DIR" after the trace, as `run TRACE -o DIR`. */
        if ((strcmp(argv[i], "-o") == 0 || strcmp(argv[i], "--output") == 0) &&
            i + 1 < argc) {
            o->out_dir = argv[++i];
            continue;
        }
        if (argv[i][0] == '-' && argv[i][1]) {
            fprintf(stderr, "%s: options go before the trace: '%s'\n", argv[0],
                    argv[i]);
            return AS_EXIT_USAGE;
        }
        if (o->n_positional == AS_MAX_POSITIONAL) {
            fprintf(stderr, "%s: too many arguments\n", argv[0]);
            return AS_EXIT_USAGE;
        }
        o->positional[o->n_positional++] = argv[i];
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
    fprintf(stderr, "allocsim: %s\n", err);
    return -1;
}

/* Close; keep (rename into place) or discard. @return 0 or -1. */
static int out_close(as_outfile_t *o, int keep)
{
    char err[4400];
    if (as_outfile_close(o, keep, err, sizeof err) == AS_OK) return 0;
    fprintf(stderr, "allocsim: %s\n", err);
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
        fprintf(stderr, "allocsim: %s: cannot create directory: %s\n", dir,
                strerror(errno));
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
        fprintf(stderr, "allocsim: %s\n", err);
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
        fprintf(stderr, "allocsim: %s\n", err);
        bad = -1;
    }
    if (bad) {
        as_run_result_free(&res);
        return AS_EXIT_FAIL;
    }
    if (res.warn_truncated)
        fprintf(stderr, "allocsim: warning: %s (replayed every whole chunk)\n",
                res.truncation);
    uint64_t warns = res.warn_unknown_free + res.warn_double_free +
                     res.warn_too_large + res.warn_policy_errors;
    if (warns)
        fprintf(stderr,
                "allocsim: warning: %llu bad events counted (see "
                "warnings in %s)\n",
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

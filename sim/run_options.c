/* run_options.c - the options that configure a replay, shared by `allocsim
 * run` and `allocsim demo` (see run_options.h): their tables and their
 * parse (the run directory is written by sim/rundir.c). Prints usage
 * errors itself: it is command-line code.
 */
#include "sim/run_options.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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
    OPT_CHECK,
    OPT_STATS,
    OPT_SHADOW,
    OPT_PRED_LOAD,
    OPT_MODEL,
    OPT_PRED_SAVE,
    OPT_OUTPUT,
    OPT_QUIET,
    OPT_SKIP_BAD,
    OPT_ALLOW_TRUNCATED,
    OPT_MAX_ROWS,
    OPT_CONFIG,
    OPT_THREADS,
    OPT_REALLOC,
    OPT_START,
    OPT_THREAD_CACHE
};

static const as_opt_t run_only[] = {
    AS_OPT_ROW_TEXT(OPT_POLICY, "policy", 'p', "NAME",
                    "placement policy (required unless --config; below)"),
    AS_OPT_ROW_TEXT(OPT_CONFIG, "config", 0, "SPEC",
                    "one of several configurations replayed in one pass\n"
                    "over the trace: POLICY[,predictor=Q][,shadow=Q]\n"
                    "[,check=MODE][,thread-cache=off|on]\n"
                    "[,PART.KEY=VALUE...], written to\n"
                    "DIR/SPEC; repeatable; the other options apply to all"),
    AS_OPT_ROW_NUM(OPT_START, "start", 0, AS_PARAM_NS, 0, 1e18, "T",
                   "with several TRACEs: the program of the next TRACE\n"
                   "starts T after the machine does (default 0)"),
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
                    "WRAPPER:INNER for a wrapping predictor (cached:site).\n"
                    "With none (no prediction) a lifetime-aware policy\n"
                    "(llama) places every object by its unknown-class\n"
                    "rule (llama.unknown_class, in summary.json\n"
                    "policy.params) and run warns"),
    AS_OPT_ROW_CHOICE(OPT_THP, "thp", 0, "never|madvise|always", "MODE",
                      "always (default) | madvise | never"),
    AS_OPT_ROW_TEXT(OPT_CLASSES, "classes", 0, "LIST",
                    "lifetime class bounds, e.g. 10ms,1s,100s\n"
                    "(default LLAMA's 10ms..1000s)"),
    AS_OPT_ROW_NUM(OPT_SAMPLE_INTERVAL, "sample-interval", 0, AS_PARAM_NS,
                   AS_MIN_SAMPLE_INTERVAL_NS, 1e18, "T",
                   "series sampling period, at least 1us, e.g. 10ms\n"
                   "(default: the trace's duration / 1000)"),
    AS_OPT_ROW_NUM(OPT_MAX_ROWS, "max-rows", 0, AS_PARAM_U64, 1, 1e12, "N",
                   "most rows of series.csv (default 1M); a run that\n"
                   "needs more is refused"),
    AS_OPT_ROW_FLAG(OPT_SKIP_BAD, "skip-bad-events", 0,
                    "count and skip malformed events (bad alignment)\n"
                    "instead of stopping (exit 2)"),
    AS_OPT_ROW_FLAG(OPT_ALLOW_TRUNCATED, "allow-truncated", 0,
                    "exit 0, not 3, on a truncated trace"),
    AS_OPT_ROW_CHOICE(OPT_CHECK, "check", 0, "off|light|full", "MODE",
                      "light (default): bounds, overlap and alignment of\n"
                      "every block in O(1), the policy's own check every\n"
                      "check.every operations and at the end; full: the\n"
                      "exhaustive checking layer (slower); off: none"),
    AS_OPT_ROW_FLAG(OPT_NO_CHECK, "no-check", 0, "the same as --check=off"),
    AS_OPT_ROW_CHOICE(OPT_REALLOC, "realloc", 0, "hook|move|preload", "MODE",
                      "how a realloc is replayed. hook (default): the\n"
                      "policy's realloc hook when it has one (bestfit,\n"
                      "llama, tcmalloc), else allocate, then free the old\n"
                      "block; move: never the hook; preload: as\n"
                      "liballocsim_malloc.so does, keep the block when the\n"
                      "new size is within its usable size and at least\n"
                      "half of it, else move"),
    AS_OPT_ROW_FLAG(OPT_STATS, "stats", 0,
                    "wrap the policy in the statistics layer"),
    AS_OPT_ROW_CHOICE(OPT_THREAD_CACHE, "thread-cache", 0, "off|on", "MODE",
                      "off (default): the policy alone; on: in front of\n"
                      "it the per-thread caches of liballocsim_malloc.so\n"
                      "(its ALLOCSIM_CACHE=1), keyed by the trace's threads"),
    AS_OPT_ROW_TEXT(OPT_SHADOW, "shadow-predictor", 0, "Q",
                    "also ask predictor Q on every allocation and\n"
                    "report its accuracy (counterfactual)"),
    AS_OPT_ROW_TEXT(OPT_PRED_LOAD, "predictor-load", 0, "F",
                    "trained table or model for the predictor\n(site, lstm)"),
    AS_OPT_ROW_TEXT(OPT_MODEL, "model", 0, "F",
                    "the same as --predictor-load (an lstm model)"),
    AS_OPT_ROW_TEXT(OPT_PRED_SAVE, "predictor-save", 0, "F",
                    "write the predictor's table after the run"),
    AS_OPT_ROW_TEXT(OPT_OUTPUT, "output", 'o', "DIR",
                    "output directory (run: allocsim-out; demo: demo-out)"),
    AS_OPT_ROW_NUM(OPT_THREADS, "threads", 0, AS_PARAM_U64, 1, AS_MAX_THREADS,
                   "N",
                   "threads of the replay: 1 decodes and simulates on one\n"
                   "thread; N >= 2 decodes on a thread of its own and\n"
                   "simulates the --config configurations on up to N\n"
                   "threads (default: the online CPUs, at most 64);\n"
                   "the figures are the same for any N"),
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

int as_online_cpus(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > AS_MAX_THREADS ? AS_MAX_THREADS : (int)n;
}

/* Options that belong to one program when a run has several TRACEs. */
static int prog_option(int id)
{
    return id == OPT_POLICY || id == OPT_CONFIG || id == OPT_PARAM ||
           id == OPT_PREDICTOR || id == OPT_SHADOW || id == OPT_PRED_LOAD ||
           id == OPT_MODEL || id == OPT_START;
}

int as_run_options_parse(as_run_opts_t *o, const char *cmd,
                         const as_opt_t *const *tables, int argc, char **argv,
                         void (*usage)(FILE *))
{
    memset(o, 0, sizeof *o);
    as_run_config_default(&o->cfg);
    o->cfg.check = AS_RUN_CHECK_LIGHT;
    o->cfg.threads = as_online_cpus();
    o->out_dir = "allocsim-out";
    as_opts_t p;
    as_opts_init(&p, cmd, tables, argc, argv);
    for (int c; (c = as_opts_next(&p)) != AS_OPT_END;) {
        /* the program these options are for, when TRACEs are several */
        as_run_prog_opts_t *g = &o->progs[o->n_positional];
        if (c > 0 && !g->first && prog_option(c)) g->first = p.opt->name;
        switch (c) {
        case AS_OPT_ERROR:
            return AS_EXIT_USAGE;
        case AS_OPT_HELP:
            usage(stdout);
            return AS_EXIT_OK;
        case OPT_POLICY:
            o->cfg.policy = g->policy = p.text;
            g->n_policy++;
            break;
        case OPT_CONFIG:
            if (o->n_configs == AS_MAX_CONFIGS) {
                as_cli_err("too many --config (at most %d)", AS_MAX_CONFIGS);
                return AS_EXIT_USAGE;
            }
            o->configs[o->n_configs++] = g->config = p.text;
            g->n_config++;
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
            g->params[g->n_params++] = p.text;
            break;
        case OPT_PREDICTOR:
            if (check_predictor(&p)) return AS_EXIT_USAGE;
            o->cfg.predictor = g->predictor = p.text;
            o->predictor_given = 1;
            g->n_predictor++;
            break;
        case OPT_SHADOW:
            if (check_predictor(&p)) return AS_EXIT_USAGE;
            o->cfg.shadow_predictor = g->shadow = p.text;
            g->n_shadow++;
            break;
        case OPT_THP:
            o->cfg.os.thp = (as_thp_mode_t)p.value.u;
            o->cfg.os_given |= 1u << AS_SIMOS_P_THP;
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
            o->cfg.check = AS_RUN_CHECK_OFF;
            break;
        case OPT_CHECK: {
            static const int mode[] = {AS_RUN_CHECK_OFF, AS_RUN_CHECK_LIGHT,
                                       AS_RUN_CHECK_FULL};
            o->cfg.check = mode[p.value.u];
            break;
        }
        case OPT_REALLOC: {
            static const int mode[] = {AS_RUN_REALLOC_HOOK, AS_RUN_REALLOC_MOVE,
                                       AS_RUN_REALLOC_PRELOAD};
            o->cfg.realloc = mode[p.value.u];
            break;
        }
        case OPT_STATS:
            o->cfg.stats_layer = 1;
            break;
        case OPT_THREAD_CACHE:
            o->cfg.thread_cache = (int)p.value.u;
            break;
        case OPT_PRED_LOAD:
        case OPT_MODEL:
            o->cfg.predictor_load_path = g->pred_load = p.text;
            g->n_pred_load++;
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
        case OPT_SKIP_BAD:
            o->cfg.skip_bad_events = 1;
            break;
        case OPT_ALLOW_TRUNCATED:
            o->cfg.allow_truncated = 1;
            break;
        case OPT_MAX_ROWS:
            o->cfg.max_rows = p.value.u;
            break;
        case OPT_THREADS:
            o->cfg.threads = (int)p.value.u;
            break;
        case OPT_START:
            g->start_ns = p.value.u;
            g->n_start++;
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

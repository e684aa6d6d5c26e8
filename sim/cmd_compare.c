/* cmd_compare.c - `allocsim compare TRACE... --policies P1,P2 -o DIR`:
 * replay every trace through every policy, each run an `allocsim run`
 * subprocess (N at a time, each result renamed into place when complete),
 * then write the report of the runs (reports/report.c): the comparison
 * table, the figures and index.html. Runs already in DIR are reused, so an
 * interrupted compare, run again, does only what is missing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/error.h"
#include "policies/policy.h"
#include "reports/plot.h"
#include "reports/report.h"
#include "reports/runner.h"
#include "sim/cli.h"

enum {
    OPT_POLICIES = 1,
    OPT_PREDICTOR,
    OPT_PARAM,
    OPT_THP,
    OPT_NO_CHECK,
    OPT_BASELINE,
    OPT_OUTPUT
};

static const as_opt_t compare_opts[] = {
    AS_OPT_ROW_TEXT(OPT_POLICIES, "policies", 0, "LIST",
                    "comma-separated policies (required)"),
    AS_OPT_ROW_TEXT(OPT_PREDICTOR, "predictor", 0, "NAME",
                    "lifetime predictor of every run (default none)"),
    AS_OPT_ROW_TEXT(OPT_PARAM, "param", 'P', "K=V",
                    "parameter for every run it applies to\n"
                    "(POLICY.K=V only to that policy's runs); repeatable"),
    AS_OPT_ROW_CHOICE(OPT_THP, "thp", 0, "never|madvise|always", "MODE",
                      "transparent huge pages of every run"),
    AS_OPT_ROW_FLAG(OPT_NO_CHECK, "no-check", 0,
                    "runs skip the checking layer (faster)"),
    AS_OPT_ROW_TEXT(OPT_BASELINE, "baseline", 0, "POLICY",
                    "waste_reduction against POLICY's run of each trace\n"
                    "(default: the first policy's)"),
    AS_OPT_ROW_TEXT(OPT_OUTPUT, "output", 'o', "DIR",
                    "report directory (required)"),
    {0},
};

/* The options of every command that runs `allocsim run` in batches
 * (compare, sweep). */
const as_opt_t as_batch_opts[] = {
    AS_OPT_ROW_NUM(AS_BATCH_OPT_JOBS, "jobs", 'j', AS_PARAM_U64, 1, 4096, "N",
                   "runs at a time (default: the CPUs)"),
    AS_OPT_ROW_FLAG(AS_BATCH_OPT_NO_RENDER, "no-render", 0,
                    "write each figure's .dat and .gp, not the images"),
    AS_OPT_ROW_FLAG(AS_BATCH_OPT_QUIET, "quiet", 'q', "no progress"),
    {0},
};

const as_opt_t *const as_cmd_compare_opts[] = {compare_opts, as_batch_opts,
                                               NULL};

static void usage(FILE *f)
{
    fprintf(f,
            "usage: allocsim compare TRACE... --policies P1,P2,... -o DIR\n"
            "                        [--predictor Q] [-P K=V]... [-j N]\n\n"
            "Replay each TRACE through each policy (one `allocsim run` per\n"
            "pair, N at a time) into DIR/runs/<trace>/<policy>-<hash>/\n"
            "(the hash is of the run's arguments), then write the report:\n"
            "compare.csv, compare.md, compare.json, timing.csv, the figures\n"
            "(PNG, SVG, PDF beside .dat and .gp) and index.html. Runs\n"
            "already in DIR with the same arguments are not run again.\n"
            "Files and formulas: docs/outputs.md.\n");
    as_opts_help(f, as_cmd_compare_opts);
}

#define MAXV 256

static const char *thp_modes[] = {"never", "madvise", "always"};

typedef struct {
    const char *traces[MAXV], *policies[MAXV], *params[MAXV], *pass[8];
    size_t n_traces, n_policies, n_params, n_pass;
    const char *predictor, *out, *baseline;
    int jobs, quiet, no_render;
    char policy_buf[4096];
} opts_t;

static int parse(opts_t *o, int argc, char **argv)
{
    memset(o, 0, sizeof *o);
    o->predictor = "none";
    o->jobs = as_runner_default_jobs();
    as_opts_t p;
    int c, thp_given = 0, no_check_given = 0;
    as_opts_init(&p, "compare", as_cmd_compare_opts, argc, argv);
    while ((c = as_opts_next(&p)) != AS_OPT_END) {
        switch (c) {
        case AS_OPT_ERROR:
            return AS_EXIT_USAGE;
        case AS_OPT_HELP:
            usage(stdout);
            return AS_EXIT_OK;
        case OPT_POLICIES:
            snprintf(o->policy_buf, sizeof o->policy_buf, "%s", p.text);
            o->n_policies = 0;
            for (char *s = strtok(o->policy_buf, ",");
                 s && o->n_policies < MAXV; s = strtok(NULL, ","))
                o->policies[o->n_policies++] = s;
            break;
        case OPT_PREDICTOR:
            o->predictor = p.text;
            break;
        case OPT_PARAM:
            if (o->n_params == MAXV) {
                as_cli_err("more than %d --param", MAXV);
                return AS_EXIT_USAGE;
            }
            o->params[o->n_params++] = p.text;
            break;
        case OPT_THP:
            if (!thp_given++) {
                o->pass[o->n_pass++] = "--thp";
                o->pass[o->n_pass++] = thp_modes[p.value.u % 3];
            } else {
                o->pass[o->n_pass - 1] = thp_modes[p.value.u % 3];
            }
            break;
        case OPT_NO_CHECK:
            if (!no_check_given++) o->pass[o->n_pass++] = "--no-check";
            break;
        case OPT_BASELINE:
            o->baseline = p.text;
            break;
        case OPT_OUTPUT:
            o->out = p.text;
            break;
        case AS_BATCH_OPT_JOBS:
            o->jobs = (int)p.value.u;
            break;
        case AS_BATCH_OPT_NO_RENDER:
            o->no_render = 1;
            break;
        case AS_BATCH_OPT_QUIET:
            o->quiet = 1;
            break;
        default: /* AS_OPT_ARG */
            if (o->n_traces == MAXV) {
                as_cli_err("more than %d traces", MAXV);
                return AS_EXIT_USAGE;
            }
            o->traces[o->n_traces++] = p.text;
        }
    }
    const char *missing = !o->n_traces     ? "no trace given"
                          : !o->n_policies ? "--policies is required"
                          : !o->out        ? "-o DIR is required"
                                           : NULL;
    if (missing) {
        as_cli_err("%s (see allocsim compare --help)", missing);
        return AS_EXIT_USAGE;
    }
    for (size_t i = 0; i < o->n_policies; i++)
        if (!as_policy_find(o->policies[i])) {
            fprintf(stderr, "allocsim compare: unknown policy '%s'; valid:",
                    o->policies[i]); /* the list follows on the line */
            for (size_t k = 0; k < as_policy_count(); k++)
                fprintf(stderr, " %s", as_policy_at(k)->name);
            fprintf(stderr, "\n");
            return AS_EXIT_USAGE;
        }
    for (size_t i = 0; i < o->n_traces; i++)
        if (access(o->traces[i], R_OK) != 0) {
            as_cli_err("%s: cannot read the trace", o->traces[i]);
            return AS_EXIT_USAGE;
        }
    return -1;
}

/* 1 when param "X.k=v" names another policy of the comparison. */
static int other_policy_param(const opts_t *o, const char *param,
                              const char *policy)
{
    const char *dot = strchr(param, '.');
    if (!dot) return 0;
    size_t len = (size_t)(dot - param);
    if (strlen(policy) == len && !strncmp(param, policy, len)) return 0;
    for (size_t i = 0; i < o->n_policies; i++)
        if (strlen(o->policies[i]) == len &&
            !strncmp(param, o->policies[i], len))
            return 1;
    return 0;
}

int as_cmd_compare(int argc, char **argv)
{
    opts_t o;
    int rc = parse(&o, argc, argv);
    if (rc >= 0) return rc;
    char exe[4096], err[4600];
    if (as_runner_self_exe(exe, sizeof exe, err, sizeof err) != 0) {
        as_cli_err("%s", err);
        return AS_EXIT_FAIL;
    }
    size_t n = o.n_traces * o.n_policies;
    as_job_t *jobs = calloc(n, sizeof *jobs);
    char **argbuf = calloc(n * (o.n_params * 2 + o.n_pass + 8), sizeof *argbuf);
    char **dirs = calloc(n, sizeof *dirs);
    if (!jobs || !argbuf || !dirs) {
        as_cli_err("out of memory");
        free(jobs), free(argbuf), free(dirs);
        return AS_EXIT_FAIL;
    }
    char **ap = argbuf;
    for (size_t t = 0; t < o.n_traces; t++) {
        /* runs/<trace file name>, numbered when two traces share it */
        const char *slash = strrchr(o.traces[t], '/');
        char stem[256], name[300];
        as_plot_stem(slash ? slash + 1 : o.traces[t], stem, sizeof stem);
        snprintf(name, sizeof name, "%s", stem);
        for (size_t u = 0; u < t; u++) {
            const char *s2 = strrchr(o.traces[u], '/');
            char other[256];
            as_plot_stem(s2 ? s2 + 1 : o.traces[u], other, sizeof other);
            if (!strcmp(other, stem))
                snprintf(name, sizeof name, "%s-%zu", stem, t + 1);
        }
        for (size_t p = 0; p < o.n_policies; p++) {
            as_job_t *j = &jobs[t * o.n_policies + p];
            j->args = ap;
            *ap++ = "-p";
            *ap++ = (char *)o.policies[p];
            *ap++ = "--predictor";
            *ap++ = (char *)o.predictor;
            for (size_t k = 0; k < o.n_params; k++) {
                if (other_policy_param(&o, o.params[k], o.policies[p]))
                    continue;
                *ap++ = "-P";
                *ap++ = (char *)o.params[k];
            }
            for (size_t k = 0; k < o.n_pass; k++)
                *ap++ = (char *)o.pass[k];
            *ap++ = (char *)o.traces[t];
            *ap++ = NULL;
            /* the name carries a hash of the arguments, so a run made with
             * other options is never taken for this one */
            snprintf(j->out_dir, sizeof j->out_dir, "%s/runs/%s/%s-%08llx",
                     o.out, name, o.policies[p],
                     (unsigned long long)(as_runner_args_hash(j->args) &
                                          0xffffffffu));
        }
    }
    as_runner_opts_t ro = {exe, "compare", o.jobs,
                           !o.quiet && as_cli_progress_on()};
    long failed = as_runner_run(&ro, jobs, n, err, sizeof err);
    int status = AS_EXIT_OK;
    size_t ok = 0, usage_fail = 0;
    for (size_t i = 0; i < n; i++) {
        if (jobs[i].status == 0) dirs[ok++] = jobs[i].out_dir;
        usage_fail += jobs[i].status == AS_EXIT_USAGE;
    }
    if (failed < 0) {
        as_cli_err("%s", err);
        status = AS_EXIT_FAIL;
    } else if (failed > 0) {
        as_cli_err("%ld of %zu runs failed", failed, n);
        status = usage_fail == n ? AS_EXIT_USAGE : AS_EXIT_FAIL;
    }
    if (ok > 0 && failed >= 0) {
        char cmd[8192];
        memcpy(cmd, "allocsim ", 9);
        as_report_command_line(argc, argv, cmd + 9, sizeof cmd - 9);
        /* no --baseline: the first run of each trace, which is the first
         * policy's unless that run failed */
        as_report_opts_t ro2 = {.out_dir = o.out,
                                .title = "allocsim compare",
                                .command = cmd,
                                .baseline = o.baseline,
                                .gnuplot = o.no_render ? NULL : "gnuplot",
                                .traces = o.traces,
                                .n_traces = o.n_traces};
        if (as_report_write(&ro2, dirs, ok, err, sizeof err) != 0) {
            as_cli_err("%s", err);
            status = AS_EXIT_FAIL;
        } else {
            printf("%zu runs; report in %s/index.html\n", ok, o.out);
        }
    }
    free(jobs);
    free(argbuf);
    free(dirs);
    return status;
}

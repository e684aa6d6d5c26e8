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

static void usage(FILE *f)
{
    fprintf(f,
            "usage: allocsim compare TRACE... --policies P1,P2,... -o DIR\n"
            "                        [--predictor Q] [--param K=V]... "
            "[-j N]\n\n"
            "Replay each TRACE through each policy (one `allocsim run` per\n"
            "pair, N at a time) into DIR/runs/<trace>/<policy>/, then write\n"
            "the report: compare.csv, compare.md, compare.json, timing.csv,\n"
            "the figures (PNG, SVG, PDF beside .dat and .gp) and\n"
            "index.html. Runs already in DIR are not run again.\n\n"
            "options:\n"
            "  -p, --policies LIST  comma-separated policies (required)\n"
            "      --predictor Q    lifetime predictor of every run "
            "(default none)\n"
            "  -P, --param K=V      parameter for every run it applies to\n"
            "                       (POLICY.K=V only to that policy's runs)\n"
            "      --thp MODE       always | madvise | never\n"
            "      --no-check       runs skip the checking layer (faster)\n"
            "      --baseline P     waste_reduction against policy P "
            "(default: the first)\n"
            "  -o, --output DIR     report directory (required)\n"
            "  -j, --jobs N         runs at a time (default: the CPUs)\n"
            "      --no-render      write figures' .dat and .gp, not the "
            "images\n"
            "  -q, --quiet          no progress\n"
            "  -h, --help           this help\n\n"
            "Files and formulas: docs/outputs.md.\n");
}

#define MAXV 256

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
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        int takes = !strcmp(a, "-p") || !strcmp(a, "--policies") ||
                    !strcmp(a, "--predictor") || !strcmp(a, "-P") ||
                    !strcmp(a, "--param") || !strcmp(a, "--thp") ||
                    !strcmp(a, "--baseline") || !strcmp(a, "-o") ||
                    !strcmp(a, "--output") || !strcmp(a, "-j") ||
                    !strcmp(a, "--jobs");
        if (as_cli_is_help(a)) {
            usage(stdout);
            return AS_EXIT_OK;
        }
        if (takes && !v) {
            fprintf(stderr, "allocsim compare: %s needs a value\n", a);
            return AS_EXIT_USAGE;
        }
        if (!strcmp(a, "-p") || !strcmp(a, "--policies")) {
            snprintf(o->policy_buf, sizeof o->policy_buf, "%s", v);
            o->n_policies = 0;
            for (char *s = strtok(o->policy_buf, ",");
                 s && o->n_policies < MAXV; s = strtok(NULL, ","))
                o->policies[o->n_policies++] = s;
        } else if (!strcmp(a, "--predictor")) {
            o->predictor = v;
        } else if (!strcmp(a, "-P") || !strcmp(a, "--param")) {
            if (o->n_params < MAXV) o->params[o->n_params++] = v;
        } else if (!strcmp(a, "--thp")) {
            o->pass[o->n_pass++] = "--thp";
            o->pass[o->n_pass++] = v;
        } else if (!strcmp(a, "--baseline")) {
            o->baseline = v;
        } else if (!strcmp(a, "-o") || !strcmp(a, "--output")) {
            o->out = v;
        } else if (!strcmp(a, "-j") || !strcmp(a, "--jobs")) {
            char *end;
            long n = strtol(v, &end, 10);
            if (*end || n < 1 || n > 4096) {
                fprintf(stderr,
                        "allocsim compare: -j %s: expected a number "
                        "of runs from 1 to 4096\n",
                        v);
                return AS_EXIT_USAGE;
            }
            o->jobs = (int)n;
        } else if (!strcmp(a, "--no-check")) {
            if (o->n_pass < 7) o->pass[o->n_pass++] = "--no-check";
        } else if (!strcmp(a, "--no-render")) {
            o->no_render = 1;
        } else if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
            o->quiet = 1;
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr,
                    "allocsim compare: unknown option '%s' (see "
                    "allocsim compare --help)\n",
                    a);
            return AS_EXIT_USAGE;
        } else if (o->n_traces < MAXV) {
            o->traces[o->n_traces++] = a;
        }
        if (takes) i++;
    }
    const char *missing = !o->n_traces     ? "no trace given"
                          : !o->n_policies ? "--policies is required"
                          : !o->out        ? "-o DIR is required"
                                           : NULL;
    if (missing) {
        fprintf(stderr, "allocsim compare: %s\n", missing);
        usage(stderr);
        return AS_EXIT_USAGE;
    }
    for (size_t i = 0; i < o->n_policies; i++)
        if (!as_policy_find(o->policies[i])) {
            fprintf(stderr, "allocsim compare: unknown policy '%s'; valid:",
                    o->policies[i]);
            for (size_t k = 0; k < as_policy_count(); k++)
                fprintf(stderr, " %s", as_policy_at(k)->name);
            fprintf(stderr, "\n");
            return AS_EXIT_USAGE;
        }
    for (size_t i = 0; i < o->n_traces; i++)
        if (access(o->traces[i], R_OK) != 0) {
            fprintf(stderr, "allocsim compare: %s: cannot read the trace\n",
                    o->traces[i]);
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
        fprintf(stderr, "allocsim compare: %s\n", err);
        return AS_EXIT_FAIL;
    }
    size_t n = o.n_traces * o.n_policies;
    as_job_t *jobs = calloc(n, sizeof *jobs);
    char **argbuf = calloc(n * (o.n_params * 2 + o.n_pass + 8), sizeof *argbuf);
    char **dirs = calloc(n, sizeof *dirs);
    if (!jobs || !argbuf || !dirs) {
        fprintf(stderr, "allocsim compare: out of memory\n");
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
            snprintf(j->out_dir, sizeof j->out_dir, "%s/runs/%s/%s", o.out,
                     name, o.policies[p]);
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
        fprintf(stderr, "allocsim compare: %s\n", err);
        status = AS_EXIT_FAIL;
    } else if (failed > 0) {
        fprintf(stderr, "allocsim compare: %ld of %zu runs failed\n", failed,
                n);
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
            fprintf(stderr, "allocsim compare: %s\n", err);
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

/* cmd_sweep.c - `allocsim sweep SPEC -o DIR`: every run of a parameter
 * sweep (reports/sweep.c expands the JSON spec of docs/sweeps.md), run by
 * `allocsim run` subprocesses, N at a time, each run renamed into
 * DIR/runs/ when complete; then the report of all runs with the sweep
 * figures. The runs of one trace go through one `allocsim run --config
 * ...` process (up to 64 at a time), so the trace is decoded once for them
 * and the oracle's pre-pass made once per set of classes; a run whose
 * options cannot be spelt as a --config goes alone. Finished
 * runs are never run again, so a killed sweep, rerun, does only what is
 * missing and ends with the same files as an uninterrupted one.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/error.h"
#include "policies/policy.h"
#include "reports/emit.h"
#include "reports/report.h"
#include "reports/runner.h"
#include "reports/sweep.h"
#include "sim/cli.h"
#include "sim/fileio.h"

enum { OPT_OUTPUT = 1, OPT_LIST, OPT_EMIT, OPT_COLLECT };

static const as_opt_t sweep_opts[] = {
    AS_OPT_ROW_TEXT(OPT_OUTPUT, "output", 'o', "DIR",
                    "sweep directory (required, except with --collect)"),
    AS_OPT_ROW_FLAG(OPT_LIST, "list", 0,
                    "print each run's directory and command; run nothing"),
    AS_OPT_ROW_CHOICE(OPT_EMIT, "emit", 0, "parallel|slurm", "KIND",
                      "run nothing; write DIR/jobs.txt, one shell line per\n"
                      "run not yet done (parallel < DIR/jobs.txt), and for\n"
                      "slurm DIR/sweep.sbatch (sbatch it)"),
    AS_OPT_ROW_TEXT(OPT_COLLECT, "collect", 0, "DIR",
                    "run nothing; the report of the runs in DIR (after\n"
                    "--emit); exit 1 when some are missing"),
    {0},
};

const as_opt_t *const as_cmd_sweep_opts[] = {sweep_opts, as_batch_opts, NULL};

static void usage(FILE *f)
{
    fprintf(f,
            "usage: allocsim sweep SPEC -o DIR [-j N] [-q] [--list]\n"
            "       allocsim sweep SPEC -o DIR --emit parallel|slurm\n"
            "       allocsim sweep SPEC --collect DIR\n\n"
            "Run the parameter sweep described by the JSON file SPEC\n"
            "(traces x policies x predictors x parameter grids; format in\n"
            "docs/sweeps.md), N runs at a time, into DIR/runs/, then write\n"
            "the report: compare.csv, compare.md, compare.json, timing.csv,\n"
            "the sweep figures (a metric against each swept parameter,\n"
            "footprint vs huge-page coverage) and index.html. Runs already\n"
            "in DIR are not run again: rerun a killed sweep to finish it.\n");
    as_opts_help(f, as_cmd_sweep_opts);
}

/* Options of `allocsim run` that a sweep's run_args may hold when its runs
 * are grouped into one `run --config` pass per trace: they apply to every
 * configuration alike (cmd_run.c), as they do to each run alone. Any
 * other (a policy, predictor or parameter, --thp beside os.thp, an
 * output) keeps every run a process of its own. */
static int group_safe_args(char *const *args, size_t n)
{
    static const char *const flags[] = {"--no-check", "--stats",
                                        "--skip-bad-events",
                                        "--allow-truncated", NULL};
    static const char *const valued[] = {
        "--classes", "--sample-interval",  "--max-rows", "--check",
        "--threads", "--shadow-predictor", NULL};
    for (size_t i = 0; i < n; i++) {
        const char *a = args[i];
        int ok = 0;
        for (size_t k = 0; !ok && flags[k]; k++)
            ok = !strcmp(a, flags[k]);
        for (size_t k = 0; !ok && valued[k]; k++) {
            size_t l = strlen(valued[k]);
            if (!strncmp(a, valued[k], l) && a[l] == '=') ok = 1;
            if (!strcmp(a, valued[k]) && i + 1 < n) ok = 1, i++;
        }
        if (!ok) return 0;
    }
    return 1;
}

/* The --config SPEC of run r (POLICY,predictor=Q,KEY=VALUE...) into buf.
 * @return 1, or 0 when a value cannot be spelt in a SPEC (a ',' or '/')
 * or it is too long: the run then goes alone. */
static int config_spec(const as_sweep_run_t *r, char *buf, size_t cap)
{
    int n = snprintf(buf, cap, "%s,predictor=%s", r->policy, r->predictor);
    for (size_t k = 0; n > 0 && (size_t)n < cap && k < r->n_params; k++)
        n += snprintf(buf + n, cap - (size_t)n, ",%s", r->params[k]);
    if (n <= 0 || (size_t)n >= cap) return 0;
    const char *comma = strchr(buf, ',');
    for (size_t k = 0; k < r->n_params; k++)
        if (strchr(r->params[k], ',')) return 0;
    return !strchr(buf, '/') && !strchr(r->policy, ',') &&
           !strchr(r->predictor, ',') && comma;
}

/* --emit: DIR/spec.json, DIR/runs/, DIR/jobs.txt (and sweep.sbatch). */
static int emit_jobs(const char *kind, const char *spec, const char *out,
                     const as_job_t *jobs, size_t n, const char *text,
                     size_t len)
{
    char err[4600], exe[4096], cwd[4096], runs[4200], path[4200];
    snprintf(runs, sizeof runs, "%s/runs", out);
    int rc = as_mkdirs(runs, err, sizeof err);
    if (rc == AS_OK) {
        snprintf(path, sizeof path, "%s/spec.json", out);
        as_outfile_t of;
        rc = as_outfile_open(&of, path, err, sizeof err);
        if (rc == AS_OK)
            rc = as_outfile_close(&of, fwrite(text, 1, len, of.f) == len, err,
                                  sizeof err);
    }
    if (rc == AS_OK) rc = as_runner_self_exe(exe, sizeof exe, err, sizeof err);
    if (rc == AS_OK && !getcwd(cwd, sizeof cwd)) {
        snprintf(err, sizeof err, "cannot read the current directory");
        rc = AS_EIO;
    }
    size_t todo = 0;
    int slurm = !strcmp(kind, "slurm");
    if (rc == AS_OK)
        rc = as_emit_write(out, exe, cwd, jobs, n, slurm, &todo, err,
                           sizeof err);
    if (rc != AS_OK) {
        as_cli_err("%s", err);
        return AS_EXIT_FAIL;
    }
    if (todo == 0) {
        printf("all %zu runs are done; the report: allocsim sweep %s "
               "--collect %s\n",
               n, spec, out);
    } else if (slurm) {
        printf("%zu of %zu runs to do: sbatch %s/sweep.sbatch\nthen: "
               "allocsim sweep %s --collect %s\n",
               todo, n, out, spec, out);
    } else {
        printf("%zu of %zu runs to do: parallel < %s/jobs.txt\nthen: "
               "allocsim sweep %s --collect %s\n",
               todo, n, out, spec, out);
    }
    return AS_EXIT_OK;
}

int as_cmd_sweep(int argc, char **argv)
{
    const char *spec_path = NULL, *out = NULL;
    int jobs_n = as_runner_default_jobs(), quiet = 0, list = 0, collect = 0,
        no_render = 0;
    const char *emit = NULL;
    as_opts_t p;
    int c;
    as_opts_init(&p, "sweep", as_cmd_sweep_opts, argc, argv);
    while ((c = as_opts_next(&p)) != AS_OPT_END) {
        switch (c) {
        case AS_OPT_ERROR:
            return AS_EXIT_USAGE;
        case AS_OPT_HELP:
            usage(stdout);
            return AS_EXIT_OK;
        case OPT_OUTPUT:
            out = p.text;
            break;
        case AS_BATCH_OPT_JOBS:
            jobs_n = (int)p.value.u;
            break;
        case AS_BATCH_OPT_QUIET:
            quiet = 1;
            break;
        case AS_BATCH_OPT_NO_RENDER:
            no_render = 1;
            break;
        case OPT_LIST:
            list = 1;
            break;
        case OPT_EMIT:
            emit = p.value.u ? "slurm" : "parallel";
            break;
        case OPT_COLLECT:
            collect = 1;
            out = p.text;
            break;
        default: /* AS_OPT_ARG */
            if (spec_path) {
                as_cli_err("one SPEC only ('%s' and '%s')", spec_path, p.text);
                return AS_EXIT_USAGE;
            }
            spec_path = p.text;
        }
    }
    if (collect + !!emit + list > 1) {
        as_cli_err("--list, --emit and --collect exclude each other");
        return AS_EXIT_USAGE;
    }
    if (!spec_path || (!out && !list)) {
        as_cli_err("%s (see allocsim sweep --help)",
                   !spec_path ? "no SPEC given" : "-o DIR is required");
        return AS_EXIT_USAGE;
    }
    char err[4600], *text;
    size_t len;
    if (as_file_read_all(spec_path, &text, &len, err, sizeof err) != AS_OK) {
        as_cli_err("%s", err);
        return AS_EXIT_USAGE;
    }
    as_sweep_spec_t s;
    int rc = as_sweep_parse(text, len, spec_path, &s, err, sizeof err);
    if (rc != AS_OK) {
        as_cli_err("%s", err);
        free(text);
        return rc == AS_ENOMEM ? AS_EXIT_FAIL : AS_EXIT_USAGE;
    }
    int status = AS_EXIT_OK;
    for (size_t i = 0; status == AS_EXIT_OK && i < s.n_policies; i++)
        if (!as_policy_find(s.policies[i])) {
            fprintf(stderr, "allocsim sweep: %s: unknown policy '%s'; valid:",
                    spec_path, s.policies[i]);
            for (size_t k = 0; k < as_policy_count(); k++)
                fprintf(stderr, " %s", as_policy_at(k)->name);
            fprintf(stderr, "\n");
            status = AS_EXIT_USAGE;
        }
    for (size_t i = 0; status == AS_EXIT_OK && i < s.n_traces; i++)
        if (access(s.traces[i], R_OK) != 0) {
            as_cli_err("%s: trace %s: cannot read it", spec_path, s.traces[i]);
            status = AS_EXIT_USAGE;
        }
    as_sweep_run_t *runs = NULL;
    size_t n = 0;
    if (status == AS_EXIT_OK &&
        as_sweep_expand(&s, &runs, &n, err, sizeof err) != AS_OK) {
        as_cli_err("%s: %s", spec_path, err);
        status = AS_EXIT_USAGE;
    }
    as_job_t *jobs = calloc(n ? n : 1, sizeof *jobs);
    char ***args = calloc(n ? n : 1, sizeof *args);
    char **dirs = calloc(n ? n : 1, sizeof *dirs);
    /* Decode once, replay many: the runs of one trace go as groups of one
     * `allocsim run --config ...` each (runner.h), whose results are those
     * of the separate runs; group_args[t] = run_args, trace t. */
    char(*specs)[480] = calloc(n ? n : 1, sizeof *specs);
    char ***group_args =
        calloc(s.n_traces ? s.n_traces : 1, sizeof *group_args);
    size_t *in_group = calloc(s.n_traces ? s.n_traces : 1, sizeof *in_group);
    size_t *group_of = calloc(s.n_traces ? s.n_traces : 1, sizeof *group_of);
    size_t groups = 0;
    int grouping = group_safe_args(s.run_args, s.n_run_args);
    if (status == AS_EXIT_OK && (!jobs || !args || !dirs || !specs ||
                                 !group_args || !in_group || !group_of)) {
        as_cli_err("out of memory");
        status = AS_EXIT_FAIL;
    }
    for (size_t i = 0; status == AS_EXIT_OK && i < n; i++) {
        const as_sweep_run_t *r = &runs[i];
        char **a = calloc(2 * r->n_params + s.n_run_args + 6, sizeof *a);
        if (!a) {
            as_cli_err("out of memory");
            status = AS_EXIT_FAIL;
            break;
        }
        args[i] = a;
        *a++ = "-p";
        *a++ = (char *)r->policy;
        *a++ = "--predictor";
        *a++ = (char *)r->predictor;
        for (size_t k = 0; k < r->n_params; k++) {
            *a++ = "-P";
            *a++ = r->params[k];
        }
        for (size_t k = 0; k < s.n_run_args; k++)
            *a++ = s.run_args[k];
        *a++ = (char *)r->trace;
        jobs[i].args = args[i];
        snprintf(jobs[i].out_dir, sizeof jobs[i].out_dir, "%s/runs/%s",
                 out ? out : ".", r->name);
        size_t t = 0;
        while (t < s.n_traces && s.traces[t] != r->trace)
            t++;
        if (grouping && t < s.n_traces &&
            config_spec(r, specs[i], sizeof specs[i])) {
            if (!group_args[t]) {
                char **g = calloc(s.n_run_args + 2, sizeof *g);
                if (!g) {
                    as_cli_err("out of memory");
                    status = AS_EXIT_FAIL;
                    break;
                }
                if (s.n_run_args) /* run_args is NULL when there are none */
                    memcpy(g, s.run_args, s.n_run_args * sizeof *g);
                g[s.n_run_args] = s.traces[t];
                group_args[t] = g;
            }
            if (in_group[t] % AS_RUNNER_GROUP_MAX == 0) group_of[t] = ++groups;
            in_group[t]++;
            jobs[i].group = group_of[t];
            jobs[i].group_args = group_args[t];
            jobs[i].config = specs[i];
        }
        if (list) {
            printf("%s\tallocsim run", jobs[i].out_dir);
            for (char **w = args[i]; *w; w++)
                printf(" %s", *w);
            printf(" -o %s\n", jobs[i].out_dir);
        }
    }
    if (status == AS_EXIT_OK && emit)
        status = emit_jobs(emit, spec_path, out, jobs, n, text, len);
    if (status == AS_EXIT_OK && !list && !emit) {
        char exe[4096];
        rc = as_mkdirs(out, err, sizeof err);
        if (rc == AS_OK) {
            /* the spec beside its results, for the record */
            char path[4200];
            snprintf(path, sizeof path, "%s/spec.json", out);
            as_outfile_t of;
            rc = as_outfile_open(&of, path, err, sizeof err);
            if (rc == AS_OK)
                rc = as_outfile_close(&of, fwrite(text, 1, len, of.f) == len,
                                      err, sizeof err);
        }
        if (rc == AS_OK)
            rc = as_runner_self_exe(exe, sizeof exe, err, sizeof err);
        long failed = -1;
        if (rc == AS_OK && collect) {
            failed = 0;
            for (size_t i = 0; i < n; i++) {
                char sum[4300];
                snprintf(sum, sizeof sum, "%s/summary.json", jobs[i].out_dir);
                jobs[i].status = access(sum, R_OK) == 0 ? 0 : -1;
                failed += jobs[i].status != 0;
            }
            if (failed)
                fprintf(stderr,
                        "allocsim sweep: %ld of %zu runs are not in "
                        "%s/runs yet (not run, or failed: see "
                        "runs/*.log)\n",
                        failed, n, out);
        } else if (rc == AS_OK) {
            as_runner_opts_t ro = {exe, "sweep", jobs_n,
                                   !quiet && as_cli_progress_on()};
            failed = as_runner_run(&ro, jobs, n, err, sizeof err);
        }
        if (rc != AS_OK || failed < 0) {
            as_cli_err("%s", err);
            status = AS_EXIT_FAIL;
        }
        size_t ok = 0, usage_fail = 0;
        for (size_t i = 0; i < n; i++) {
            if (jobs[i].status == 0) dirs[ok++] = jobs[i].out_dir;
            usage_fail += jobs[i].status == AS_EXIT_USAGE;
        }
        if (failed > 0 && !collect) {
            fprintf(stderr,
                    "allocsim sweep: %ld of %zu runs failed; rerun "
                    "the same command to retry them\n",
                    failed, n);
            status = usage_fail == n ? AS_EXIT_USAGE : AS_EXIT_FAIL;
        }
        if (failed > 0 && collect) status = AS_EXIT_FAIL;
        if (status != AS_EXIT_FAIL || (failed > 0 && ok > 0)) {
            const char **keys = calloc(s.n_axes + 1, sizeof *keys);
            for (size_t k = 0; keys && k < s.n_axes; k++)
                keys[k] = s.axes[k].key;
            char cmd[8192];
            memcpy(cmd, "allocsim ", 9);
            as_report_command_line(argc, argv, cmd + 9, sizeof cmd - 9);
            as_report_opts_t o = {.out_dir = out,
                                  .title = s.title ? s.title : "allocsim sweep",
                                  .command = cmd,
                                  .baseline = s.baseline,
                                  .gnuplot = no_render ? NULL : "gnuplot",
                                  .sweep_keys = keys,
                                  .n_sweep_keys = keys ? s.n_axes : 0,
                                  .spec_file = "spec.json",
                                  .traces = (const char *const *)s.traces,
                                  .n_traces = s.n_traces};
            if (ok > 0 && as_report_write(&o, dirs, ok, err, sizeof err) != 0) {
                as_cli_err("%s", err);
                status = AS_EXIT_FAIL;
            } else if (ok > 0 && status == AS_EXIT_OK) {
                printf("%zu runs; report in %s/index.html\n", ok, out);
            }
            free(keys);
        }
    }
    for (size_t i = 0; args && i < n; i++)
        free(args[i]);
    free(args);
    for (size_t t = 0; group_args && t < s.n_traces; t++)
        free(group_args[t]);
    free(group_args);
    free(in_group);
    free(group_of);
    free(specs);
    free(jobs);
    free(dirs);
    as_sweep_runs_free(runs, n);
    as_sweep_free(&s);
    free(text);
    return status;
}

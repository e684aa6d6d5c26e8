/* cmd_demo.c - `allocsim demo`: replay one trace through every registered
 * policy (with the oracle predictor, so lifetime-aware policies show what
 * they can do, unless --predictor says otherwise) and write one run
 * directory per policy plus a comparison table, DIR/compare.csv. The
 * README's first command runs this. Options are those of `allocsim run`
 * (run_options.c) except --policy, plus --trace.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "sim/cli.h"
#include "sim/fileio.h"
#include "sim/run_options.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: allocsim demo [options] [TRACE]\n\n"
               "Replay TRACE (default data/redis.ast, recorded from Redis "
               "under\nredis-benchmark; - for standard input) through every "
               "registered policy,\nwith the oracle predictor unless "
               "--predictor names another (none included).\nWrites "
               "DIR/<policy>/summary.json and series.csv for each, and\n"
               "DIR/compare.csv; prints the table. Default DIR: demo-out.\n");
    as_opts_help(f, as_cmd_demo_opts);
}

int as_cmd_demo(int argc, char **argv)
{
    as_run_opts_t o;
    int rc =
        as_run_options_parse(&o, "demo", as_cmd_demo_opts, argc, argv, usage);
    if (rc >= 0) return rc;
    if (o.n_positional + (o.trace != NULL) > 1) {
        as_cli_err("expected at most one TRACE (--trace or an argument)");
        return AS_EXIT_USAGE;
    }
    const char *trace = o.trace          ? o.trace
                        : o.n_positional ? o.positional[0]
                                         : "data/redis.ast";
    const char *dir = o.out_given ? o.out_dir : "demo-out";
    if (!o.predictor_given) o.cfg.predictor = "oracle";
    const char *shown = trace;
    if (!(trace = as_cli_input(trace))) return AS_EXIT_FAIL;
    if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
        as_cli_err("%s: %s", dir, strerror(errno));
        return AS_EXIT_FAIL;
    }
    char cmp_path[4096], err[8400];
    snprintf(cmp_path, sizeof cmp_path, "%s/compare.csv", dir);
    /* no output may replace the input: compare.csv, nor a policy's run
     * directory (written as a whole) holding it */
    int clash = as_outfile_check_input(cmp_path, trace, err, sizeof err);
    for (size_t i = 0; i < as_policy_count() && !clash; i++) {
        char sub[4096];
        snprintf(sub, sizeof sub, "%s/%s", dir, as_policy_at(i)->name);
        clash = as_outdir_check_input(sub, trace, err, sizeof err);
    }
    if (clash) {
        fprintf(stderr, "allocsim demo: %s\n", err);
        return AS_EXIT_USAGE;
    }
    as_outfile_t out;
    if (as_outfile_open(&out, cmp_path, err, sizeof err) != AS_OK) {
        fprintf(stderr, "allocsim demo: %s\n", err);
        return AS_EXIT_FAIL;
    }
    FILE *cmp = out.f;
    fprintf(cmp, "policy,peak_live_bytes,peak_resident_bytes,"
                 "mean_resident_bytes,peak_metadata_bytes,jw1,jw4,"
                 "hugepage_coverage_mean,events_per_s\n");
    printf("trace %s, predictor %s\n\n", shown, o.cfg.predictor);
    printf("%-18s %12s %12s %12s %8s %8s %9s\n", "policy", "peak live",
           "peak resid", "mean resid", "jw1", "jw4", "hp cover");
    int status = AS_EXIT_OK;
    o.cfg.argv = as_cli_command_line(&o.cfg.argc);
    for (size_t i = 0; i < as_policy_count(); i++) {
        const char *name = as_policy_at(i)->name;
        char sub[4096];
        snprintf(sub, sizeof sub, "%s/%s", dir, name);
        as_run_config_t cfg = o.cfg;
        cfg.policy = name;
        cfg.trace_path = trace;
        /* Parameters of other policies are not errors here: keep only the
         * unprefixed ones and those for this policy or the OS/predictor. */
        cfg.n_params = 0;
        for (size_t k = 0; k < o.cfg.n_params; k++) {
            const char *a = o.cfg.params[k], *dot = strchr(a, '.'),
                       *eq = strchr(a, '=');
            int mine = 1;
            if (dot && eq && dot < eq) {
                char part[64];
                snprintf(part, sizeof part, "%.*s", (int)(dot - a), a);
                mine = strcmp(part, name) == 0 || !as_policy_find(part);
            }
            if (mine) cfg.params[cfg.n_params++] = a;
        }
        as_run_brief_t b;
        rc = as_run_to_dir(&cfg, sub, NULL, &b);
        if (rc == AS_EXIT_USAGE) {
            /* Bad input or usage is the same for every policy: stop. */
            as_outfile_close(&out, 0, err, sizeof err);
            return rc;
        }
        if (rc == AS_EXIT_TRUNCATED) {
            status = rc; /* tabulated; the exit status says truncated */
        } else if (rc != AS_EXIT_OK) {
            as_cli_err("policy %s failed", name);
            status = rc;
            continue;
        }
        const as_metrics_summary_t *m = &b.metrics;
        double pl = (double)m->peak_live_bytes,
               pr = (double)m->peak_resident_bytes, mr = m->mean_resident_bytes,
               md = (double)m->peak_metadata_bytes, j1 = m->jw1, j4 = m->jw4,
               hc = m->hugepage_coverage_mean, eps = b.events_per_s;
        printf("%-18s %10.2fMi %10.2fMi %10.2fMi %8.3f %8.3f %9.3f\n", name,
               pl / 1048576, pr / 1048576, mr / 1048576, j1, j4, hc);
        fprintf(cmp, "%s,%.0f,%.0f,%.0f,%.0f,%.6f,%.6f,%.6f,%.0f\n", name, pl,
                pr, mr, md, j1, j4, hc, eps);
    }
    if (as_outfile_close(&out, 1, err, sizeof err) != AS_OK) {
        fprintf(stderr, "allocsim demo: %s\n", err);
        return AS_EXIT_FAIL;
    }
    printf("\nper-policy results in %s/<policy>/, table in %s\n", dir,
           cmp_path);
    return status;
}

/* cmd_run.c - `allocsim run`: replay one trace through one policy and write
 * DIR/summary.json and DIR/series.csv.
 *
 * Also holds the option parsing shared with `allocsim demo` (as_run_options):
 * both commands configure a run the same way.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "sim/cli.h"
#include "sim/engine.h"
#include "sim/fileio.h"
#include "sim/run_options.h"
#include "sim/summary.h"

static void progress(void *arg, uint64_t done, uint64_t total)
{
    (void)arg;
    if (total)
        fprintf(stderr, "\rreplaying: %.1fM / %.1fM events (%.0f%%)",
                (double)done / 1e6, (double)total / 1e6,
                100.0 * (double)done / (double)total);
    else
        fprintf(stderr, "\rreplaying: %.1fM events", (double)done / 1e6);
}

static void help_policies(FILE *f)
{
    fprintf(
        f,
        "\npolicies (--policy NAME, parameters as --param NAME.KEY=VALUE):\n");
    for (size_t i = 0; i < as_policy_count(); i++) {
        const as_policy_ops_t *p = as_policy_at(i);
        fprintf(f, "  %-16s %s\n", p->name, p->doc);
        for (size_t k = 0; k < p->n_params; k++)
            fprintf(f, "      %s.%s=%s  %s\n", p->name, p->params[k].name,
                    p->params[k].def, p->params[k].doc);
    }
    fprintf(f, "\npredictors (--predictor NAME, or WRAPPER:INNER):\n");
    for (size_t i = 0; i < as_predictor_count(); i++) {
        const as_predictor_ops_t *p = as_predictor_at(i);
        fprintf(f, "  %-16s %s\n", p->name, p->doc);
        for (size_t k = 0; k < p->n_params; k++)
            fprintf(f, "      %s.%s=%s  %s\n", p->name, p->params[k].name,
                    p->params[k].def, p->params[k].doc);
    }
    fprintf(f, "\nsimulated OS (--param os.KEY=VALUE):\n"
               "      os.thp=always|madvise|never (or --thp)\n"
               "      os.khugepaged=1, os.max_ptes_none=511, "
               "os.scan_interval=10s, os.scan_regions=8\n");
}

static void usage(FILE *f)
{
    fprintf(
        f,
        "usage: allocsim run --policy NAME [options] TRACE [-o DIR]\n\n"
        "Replay TRACE through a placement policy over the simulated Linux\n"
        "memory and write DIR/summary.json and DIR/series.csv.\n\n"
        "options:\n"
        "  -p, --policy NAME        placement policy (required)\n"
        "  -P, --param K=V          parameter, e.g. "
        "bestfit.trim_threshold=1M;\n"
        "                           repeatable\n"
        "      --predictor NAME     lifetime predictor (default none);\n"
        "                           WRAPPER:INNER for wrapping predictors\n"
        "      --thp MODE           always (default) | madvise | never\n"
        "      --classes LIST       lifetime class bounds, e.g. 10ms,1s,100s\n"
        "                           (default LLAMA's 10ms..1000s)\n"
        "      --sample-interval T  series sampling (default trace/1000)\n"
        "      --no-check           skip the checking layer (faster)\n"
        "      --stats              wrap the policy in the statistics layer\n"
        "      --shadow-predictor Q also ask predictor Q on every allocation\n"
        "                           and report its accuracy (counterfactual)\n"
        "      --predictor-load F   trained table for the predictor (site)\n"
        "      --predictor-save F   write the predictor's table after the run\n"
        "  -o, --output DIR         output directory (default allocsim-out)\n"
        "  -q, --quiet              no progress\n"
        "  -h, --help               this help\n");
    help_policies(f);
}

int as_cmd_run(int argc, char **argv)
{
    as_run_opts_t o;
    int rc = as_run_options_parse(&o, argc, argv, usage);
    if (rc >= 0) return rc;
    if (o.n_positional != 1) {
        fprintf(stderr,
                "allocsim run: expected exactly one TRACE (got %zu); "
                "see --help\n",
                o.n_positional);
        return AS_EXIT_USAGE;
    }
    if (!o.cfg.policy) {
        fprintf(stderr, "allocsim run: --policy is required; valid:");
        for (size_t i = 0; i < as_policy_count(); i++)
            fprintf(stderr, " %s", as_policy_at(i)->name);
        fprintf(stderr, "\n");
        return AS_EXIT_USAGE;
    }
    o.cfg.trace_path = o.positional[0];
    char ierr[8400];
    if (as_outdir_check_input(o.out_dir, o.cfg.trace_path, ierr, sizeof ierr) ||
        as_outfile_check_input(o.cfg.predictor_save_path, o.cfg.trace_path,
                               ierr, sizeof ierr)) {
        fprintf(stderr, "allocsim run: %s\n", ierr);
        return AS_EXIT_USAGE;
    }
    return as_run_to_dir(&o.cfg, o.out_dir, o.quiet ? NULL : progress, NULL);
}

/* cmd_run.c - `allocsim run`: replay one trace through one policy and write
 * the run directory (summary.json, series.csv, policy_series.csv,
 * confusion.csv, histograms.csv; as_run_to_dir in run_options.c).
 *
 * This file holds only the help text and the checks particular to `run`
 * (one TRACE, --policy required): the options, shared with `allocsim demo`,
 * are parsed in run_options.c. TRACE `-` is standard input.
 */
#include <errno.h>
#include <stdio.h>
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

/* One line per parameter: NAME.KEY=DEFAULT, its doc, and what it accepts
 * (choices, or bounds with units). */
static void help_params(FILE *f, const char *part, const as_param_spec_t *ps,
                        size_t n)
{
    for (size_t k = 0; k < n; k++) {
        char range[96] = "";
        if (ps[k].type == AS_PARAM_ENUM)
            snprintf(range, sizeof range, "%s", ps[k].choices);
        else if (ps[k].type != AS_PARAM_BOOL)
            as_param_range(&ps[k], range, sizeof range);
        fprintf(f, "      %s.%s=%s  %s%s%s%s\n", part, ps[k].name, ps[k].def,
                ps[k].doc, range[0] ? " [" : "", range,
                range[0]
                    ? (ps[k].type == AS_PARAM_POW2 ? ", power of two]" : "]")
                    : "");
    }
}

static void help_policies(FILE *f)
{
    fprintf(
        f,
        "\npolicies (--policy NAME, parameters as --param NAME.KEY=VALUE):\n");
    for (size_t i = 0; i < as_policy_count(); i++) {
        const as_policy_ops_t *p = as_policy_at(i);
        fprintf(f, "  %-16s %s\n", p->name, p->doc);
        if (p->lifetime_aware)
            fprintf(f,
                    "  %-16s lifetime-aware: places objects by the "
                    "predictor's classes; without\n  %-16s --predictor "
                    "(none) every object follows %s.unknown_class\n",
                    "", "", p->name);
        help_params(f, p->name, p->params, p->n_params);
    }
    fprintf(f, "\npredictors (--predictor NAME; a wrapper such as cached "
               "needs its inner one:\nWRAPPER:INNER, e.g. cached:site):\n");
    for (size_t i = 0; i < as_predictor_count(); i++) {
        const as_predictor_ops_t *p = as_predictor_at(i);
        fprintf(f, "  %-16s %s\n", p->name, p->doc);
        help_params(f, p->name, p->params, p->n_params);
    }
    fprintf(f, "\nsimulated OS (--param os.KEY=VALUE; os.thp also --thp):\n");
    help_params(f, "os", as_simos_params, AS_SIMOS_N_PARAMS);
    fprintf(f, "\nTLB model (--param tlb.KEY=VALUE; off unless "
               "tlb.model=skylake):\n");
    help_params(f, "tlb", as_tlb_params, AS_TLB_N_PARAMS);
}

static void usage(FILE *f)
{
    fprintf(f, "usage: allocsim run -p NAME [options] TRACE\n"
               "       allocsim run --config SPEC [--config SPEC...] "
               "[options] TRACE -o DIR\n\n"
               "Replay TRACE (- for standard input) through a placement "
               "policy over the\nsimulated Linux memory and write "
               "DIR/summary.json, series.csv,\npolicy_series.csv, "
               "confusion.csv and histograms.csv. With --config, each "
               "configuration is\nreplayed in the same pass over TRACE "
               "(decoded once) and written to\nDIR/SPEC, exactly as a "
               "run of its own would write it.\n");
    as_opts_help(f, as_cmd_run_opts);
    fprintf(f, "\nrun also exits 3 when the trace was truncated: its whole "
               "chunks were\nreplayed and the outputs are marked "
               "(--allow-truncated makes that 0). A\nfailure of the work "
               "(exit 1) is out of memory, a policy caught by the\nchecks, "
               "or an output not written.\n");
    help_policies(f);
}

/* Apply one --config SPEC (POLICY[,KEY=VALUE...], copied into buf, which
 * must outlive cfg) to cfg, a copy of the common configuration.
 * @return 0, or -1 after printing why SPEC is bad. */
static int apply_spec(as_run_config_t *cfg, const char *spec, char *buf,
                      size_t cap)
{
    static const char *const modes[] = {"off", "light", "full"};
    static const int mode_of[] = {AS_RUN_CHECK_OFF, AS_RUN_CHECK_LIGHT,
                                  AS_RUN_CHECK_FULL};
    snprintf(buf, cap, "%s", spec);
    if (!spec[0] || strchr(spec, '/') || !strcmp(spec, ".") ||
        !strcmp(spec, "..") || strlen(spec) >= cap) {
        as_cli_err("--config '%s': names its output directory DIR/SPEC, so "
                   "it must be a file name (no '/')",
                   spec);
        return -1;
    }
    char *save = NULL;
    cfg->policy = strtok_r(buf, ",", &save);
    for (char *kv; (kv = strtok_r(NULL, ",", &save)) != NULL;) {
        char *eq = strchr(kv, '=');
        if (!eq) {
            as_cli_err("--config '%s': '%s' is not KEY=VALUE", spec, kv);
            return -1;
        }
        *eq = 0;
        const char *v = eq + 1;
        if (!strcmp(kv, "predictor") || !strcmp(kv, "shadow")) {
            const as_predictor_ops_t *ops = as_predictor_find(v);
            if (ops && ops->wraps) {
                as_cli_err("--config '%s': %s %s wraps another predictor; "
                           "name it as %s:INNER, e.g. %s:site",
                           spec, kv, v, v, v);
                return -1;
            }
            if (kv[0] == 'p')
                cfg->predictor = v;
            else
                cfg->shadow_predictor = v;
        } else if (!strcmp(kv, "check")) {
            size_t m = 0;
            while (m < 3 && strcmp(v, modes[m]))
                m++;
            if (m == 3) {
                as_cli_err("--config '%s': check '%s': must be one of off, "
                           "light, full",
                           spec, v);
                return -1;
            }
            cfg->check = mode_of[m];
        } else if (strchr(kv, '.')) {
            if (cfg->n_params == AS_MAX_PARAMS) {
                as_cli_err("--config '%s': too many parameters (at most %d "
                           "with --param)",
                           spec, AS_MAX_PARAMS);
                return -1;
            }
            *eq = '='; /* the assignment as --param takes it */
            cfg->params[cfg->n_params++] = kv;
        } else {
            as_cli_err("--config '%s': unknown key '%s' (predictor, shadow, "
                       "check, or PART.NAME=VALUE)",
                       spec, kv);
            return -1;
        }
    }
    return 0;
}

/* `allocsim run --config SPEC... TRACE -o DIR`: every configuration in
 * one pass, each written to DIR/SPEC. */
static int run_configs(as_run_opts_t *o)
{
    if (o->cfg.policy) {
        as_cli_err("--policy and --config do not mix: give the policy in "
                   "each --config");
        return AS_EXIT_USAGE;
    }
    if (o->cfg.predictor_save_path) {
        as_cli_err("--predictor-save takes one run; it does not mix with "
                   "--config");
        return AS_EXIT_USAGE;
    }
    static as_run_config_t cfgs[AS_MAX_CONFIGS];
    static char bufs[AS_MAX_CONFIGS][512], paths[AS_MAX_CONFIGS][4400];
    const char *dirs[AS_MAX_CONFIGS];
    size_t k = o->n_configs;
    for (size_t j = 0; j < k; j++) {
        for (size_t i = 0; i < j; i++)
            if (!strcmp(o->configs[i], o->configs[j])) {
                as_cli_err("--config '%s' is given twice", o->configs[j]);
                return AS_EXIT_USAGE;
            }
        cfgs[j] = o->cfg;
        if (apply_spec(&cfgs[j], o->configs[j], bufs[j], sizeof bufs[j]))
            return AS_EXIT_USAGE;
        snprintf(paths[j], sizeof paths[j], "%s/%s", o->out_dir, o->configs[j]);
        dirs[j] = paths[j];
        char ierr[8400];
        if (as_outdir_check_input(dirs[j], o->cfg.trace_path, ierr,
                                  sizeof ierr)) {
            as_cli_err("%s", ierr);
            return AS_EXIT_USAGE;
        }
    }
    if (mkdir(o->out_dir, 0777) != 0 && errno != EEXIST) {
        as_cli_err("%s: %s", o->out_dir, strerror(errno));
        return AS_EXIT_FAIL;
    }
    return as_runs_to_dirs(cfgs, dirs, k, o->quiet ? NULL : progress);
}

int as_cmd_run(int argc, char **argv)
{
    as_run_opts_t o;
    int rc =
        as_run_options_parse(&o, "run", as_cmd_run_opts, argc, argv, usage);
    if (rc >= 0) return rc;
    if (o.n_positional != 1) {
        as_cli_err("expected exactly one TRACE (got %zu); see allocsim run "
                   "--help",
                   o.n_positional);
        return AS_EXIT_USAGE;
    }
    if (o.n_configs) {
        if (!(o.cfg.trace_path = as_cli_input(o.positional[0])))
            return AS_EXIT_FAIL;
        o.cfg.argv = as_cli_command_line(&o.cfg.argc);
        return run_configs(&o);
    }
    if (!o.cfg.policy) {
        char names[512];
        size_t off = 0;
        for (size_t i = 0; i < as_policy_count() && off < sizeof names; i++)
            off += (size_t)snprintf(names + off, sizeof names - off, " %s",
                                    as_policy_at(i)->name);
        as_cli_err("--policy is required; valid:%s", names);
        return AS_EXIT_USAGE;
    }
    if (!(o.cfg.trace_path = as_cli_input(o.positional[0])))
        return AS_EXIT_FAIL;
    char ierr[8400];
    if (as_outdir_check_input(o.out_dir, o.cfg.trace_path, ierr, sizeof ierr) ||
        as_outfile_check_input(o.cfg.predictor_save_path, o.cfg.trace_path,
                               ierr, sizeof ierr)) {
        as_cli_err("%s", ierr);
        return AS_EXIT_USAGE;
    }
    o.cfg.argv = as_cli_command_line(&o.cfg.argc);
    return as_run_to_dir(&o.cfg, o.out_dir, o.quiet ? NULL : progress, NULL);
}

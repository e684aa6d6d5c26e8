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
               "[options] TRACE -o DIR\n"
               "       allocsim run -p P1 [opts] A.ast -p P2 [opts] B.ast... "
               "-o DIR\n\n"
               "Replay TRACE (- for standard input) through a placement "
               "policy over the\nsimulated Linux memory and write "
               "DIR/summary.json, series.csv,\npolicy_series.csv, "
               "confusion.csv and histograms.csv. With --config, each "
               "configuration is\nreplayed in the same pass over TRACE "
               "(decoded once) and written to\nDIR/SPEC, exactly as a "
               "run of its own would write it.\n\n"
               "With several TRACEs, each is a program of one simulated "
               "machine, replayed\ninterleaved by time: the options between "
               "the previous TRACE and a TRACE\n(-p/--policy or --config, "
               "and --param, --predictor, --shadow-predictor,\n"
               "--predictor-load, --start) are that program's; each "
               "program takes one\n--policy or --config and writes "
               "DIR/<k>-<POLICY or SPEC>; the other options\napply to "
               "every program; the machine's figures go to "
               "DIR/machine_summary.json\nand DIR/machine_series.csv. "
               "With one TRACE everything means what it always\nmeant "
               "(the last --policy wins; --config replays several "
               "configurations).\n");
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
        } else if (!strcmp(kv, "thread-cache")) {
            if (strcmp(v, "off") && strcmp(v, "on")) {
                as_cli_err("--config '%s': thread-cache '%s': must be off or "
                           "on",
                           spec, v);
                return -1;
            }
            cfg->thread_cache = v[1] == 'n';
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
                       "check, thread-cache, or PART.NAME=VALUE)",
                       spec, kv);
            return -1;
        }
    }
    return 0;
}

/* A run directory `dir` must not be the input `trace`. @return 0, or -1
 * after printing why. */
static int check_out(const char *dir, const char *trace)
{
    char ierr[8400];
    if (!as_outdir_check_input(dir, trace, ierr, sizeof ierr)) return 0;
    as_cli_err("%s", ierr);
    return -1;
}

/* The directory holding several run directories, made when missing.
 * @return 0, or -1 after printing why. */
static int make_out_dir(const char *dir)
{
    if (mkdir(dir, 0777) == 0 || errno == EEXIST) return 0;
    as_cli_err("%s: %s", dir, strerror(errno));
    return -1;
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
        if (check_out(dirs[j], o->cfg.trace_path)) return AS_EXIT_USAGE;
    }
    if (make_out_dir(o->out_dir)) return AS_EXIT_FAIL;
    return as_runs_to_dirs(cfgs, dirs, k, o->quiet ? NULL : progress);
}

/* One program's options (a run of several TRACEs) checked: one --policy
 * or --config, each other option at most once. @return 0, or -1 after
 * printing why. */
static int check_prog(const as_run_prog_opts_t *g, const char *trace)
{
    const struct {
        unsigned n;
        const char *name;
    } once[] = {{g->n_predictor, "--predictor"},
                {g->n_shadow, "--shadow-predictor"},
                {g->n_pred_load, "--predictor-load (or --model)"},
                {g->n_start, "--start"}};
    if (g->n_policy + g->n_config == 0) {
        as_cli_err("TRACE %s has no --policy (or --config) before it: with "
                   "several TRACEs, each program's options come before its "
                   "TRACE",
                   trace);
        return -1;
    }
    if (g->n_policy + g->n_config > 1) {
        as_cli_err("TRACE %s has %u --policy/--config before it: with "
                   "several TRACEs, each program takes exactly one (several "
                   "configurations of one trace take one TRACE)",
                   trace, g->n_policy + g->n_config);
        return -1;
    }
    for (size_t i = 0; i < sizeof once / sizeof once[0]; i++)
        if (once[i].n > 1) {
            as_cli_err("TRACE %s: %s is given %u times before it; a "
                       "program takes one",
                       trace, once[i].name, once[i].n);
            return -1;
        }
    return 0;
}

/* Is assignment a (NAME=VALUE) a parameter of the machine rather than of
 * one program: its physical memory, its timer, its tenants? */
static int machine_param(const char *a)
{
    return !strncmp(a, "os.phys_mem=", 12) ||
           !strncmp(a, "os.phys_interval=", 17) ||
           !strncmp(a, "os.tenant_", 10);
}

/* The machine's parameters, wherever they were given (--param or a
 * --config SPEC), go to every
 * program (after its own); the same one given twice must say the same.
 * @return 0, or -1 after printing why. */
static int share_machine_params(as_run_config_t *cfgs, size_t n)
{
    const char *mp[AS_MAX_PARAMS];
    size_t k = 0;
    for (size_t j = 0; j < n; j++)
        for (size_t i = 0; i < cfgs[j].n_params; i++) {
            const char *a = cfgs[j].params[i];
            if (!machine_param(a)) continue;
            size_t len = (size_t)(strchr(a, '=') - a);
            size_t q = 0;
            while (q < k && !(strncmp(mp[q], a, len + 1) == 0))
                q++;
            if (q < k && strcmp(mp[q], a)) {
                as_cli_err("--param %s and --param %s: the machine has one "
                           "physical memory; give its parameters once",
                           mp[q], a);
                return -1;
            }
            if (q == k) mp[k++] = a;
        }
    for (size_t j = 0; j < n; j++) {
        as_run_config_t *c = &cfgs[j];
        size_t m = 0;
        for (size_t i = 0; i < c->n_params; i++)
            if (!machine_param(c->params[i])) c->params[m++] = c->params[i];
        if (m + k > AS_MAX_PARAMS) {
            as_cli_err("too many --param for program %zu (at most %d with "
                       "the machine's)",
                       j + 1, AS_MAX_PARAMS);
            return -1;
        }
        memcpy(c->params + m, mp, k * sizeof mp[0]);
        c->n_params = m + k;
    }
    return 0;
}

/* `allocsim run -p P1 A.ast -p P2 B.ast ... -o DIR`: the programs on one
 * machine, each written to DIR/<k>-<POLICY or SPEC>, the machine to
 * DIR/machine_*. */
static int run_machine(as_run_opts_t *o)
{
    static as_run_config_t cfgs[AS_MAX_POSITIONAL];
    static char bufs[AS_MAX_POSITIONAL][512], names[AS_MAX_POSITIONAL][600];
    const char *name_of[AS_MAX_POSITIONAL];
    uint64_t start_ns[AS_MAX_POSITIONAL];
    size_t n = o->n_positional;
    const as_run_prog_opts_t *after = &o->progs[n];
    if (after->first) {
        as_cli_err("--%s after the last TRACE (%s) belongs to no program: "
                   "with several TRACEs, each program's options (--policy, "
                   "--config, --param, --predictor, --shadow-predictor, "
                   "--predictor-load, --start) come before its TRACE",
                   after->first, o->positional[n - 1]);
        return AS_EXIT_USAGE;
    }
    if (o->cfg.predictor_save_path) {
        as_cli_err("--predictor-save takes one run; it does not mix with "
                   "several TRACEs");
        return AS_EXIT_USAGE;
    }
    size_t stdin_uses = 0;
    for (size_t j = 0; j < n; j++) {
        if (check_prog(&o->progs[j], o->positional[j])) return AS_EXIT_USAGE;
        stdin_uses += as_cli_is_stdio(o->positional[j]);
    }
    if (stdin_uses > 1) {
        as_cli_err("standard input ('-') can be read only once: %zu TRACEs "
                   "are '-'",
                   stdin_uses);
        return AS_EXIT_USAGE;
    }
    as_run_config_t base = o->cfg;
    base.argv = as_cli_command_line(&base.argc);
    for (size_t j = 0; j < n; j++) {
        const as_run_prog_opts_t *g = &o->progs[j];
        as_run_config_t *c = &cfgs[j];
        *c = base;
        c->policy = g->policy;
        c->predictor = g->predictor ? g->predictor : "none";
        c->shadow_predictor = g->shadow;
        c->predictor_load_path = g->pred_load;
        c->n_params = g->n_params;
        memcpy(c->params, g->params, g->n_params * sizeof g->params[0]);
        if (g->config && apply_spec(c, g->config, bufs[j], sizeof bufs[j]))
            return AS_EXIT_USAGE;
        snprintf(names[j], sizeof names[j], "%zu-%s", j + 1,
                 g->config ? g->config : g->policy);
        if (strchr(names[j], '/')) {
            as_cli_err("--policy '%s' names its output directory "
                       "DIR/%s, so it must not hold '/'",
                       g->policy, names[j]);
            return AS_EXIT_USAGE;
        }
        name_of[j] = names[j];
        start_ns[j] = g->start_ns;
        if (!(c->trace_path = as_cli_input(o->positional[j])))
            return AS_EXIT_FAIL;
    }
    if (share_machine_params(cfgs, n)) return AS_EXIT_USAGE;
    for (size_t j = 0; j < n; j++) {
        char path[4400];
        if (snprintf(path, sizeof path, "%s/%s", o->out_dir, names[j]) >=
            (int)sizeof path) {
            as_cli_err("%s: the path is too long", o->out_dir);
            return AS_EXIT_USAGE;
        }
        for (size_t i = 0; i < n; i++)
            if (check_out(path, cfgs[i].trace_path)) return AS_EXIT_USAGE;
    }
    if (make_out_dir(o->out_dir)) return AS_EXIT_FAIL;
    as_machine_config_t m = {.sample_interval_ns = o->cfg.sample_interval_ns,
                             .max_rows = o->cfg.max_rows,
                             .threads = o->cfg.threads};
    return as_machine_to_dir(cfgs, start_ns, name_of, n, o->out_dir, &m,
                             o->quiet ? NULL : progress);
}

int as_cmd_run(int argc, char **argv)
{
    as_run_opts_t o;
    int rc =
        as_run_options_parse(&o, "run", as_cmd_run_opts, argc, argv, usage);
    if (rc >= 0) return rc;
    if (o.n_positional >= 2) return run_machine(&o);
    if (o.n_positional != 1) {
        as_cli_err("expected exactly one TRACE (got %zu); see allocsim run "
                   "--help",
                   o.n_positional);
        return AS_EXIT_USAGE;
    }
    if (o.progs[0].n_start + o.progs[1].n_start) {
        as_cli_err("--start places a program on a machine shared with "
                   "others: it needs several TRACEs");
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

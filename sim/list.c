/* list.c - `allocsim --list WHAT`: the names the shell completion offers.
 *
 * A hidden option (not in --help) for scripts: it prints one name per line,
 * read from the same registries the subcommands use, so the bash completion
 * (docs/completion/allocsim.bash) asks the binary at completion time and
 * never goes stale when a policy, predictor, workload or format is added.
 * It prints nothing else and parses no other option.
 */
#include <stdio.h>
#include <string.h>

#include "policies/policy.h"
#include "predictors/predictor.h"
#include "traces/gen/gen.h"
#include "traces/import/import.h"
#include "sim/cli.h"
#include "sim/simos.h"
#include "sim/tlb.h"

/* print_params: one "PART.KEY" line per row of a parameter table. */
static void print_params(const char *part, const as_param_spec_t *specs,
                         size_t n)
{
    for (size_t i = 0; i < n; i++)
        printf("%s.%s\n", part, specs[i].name);
}

static const as_command_t *g_commands; /* main.c's table */

static void list_commands(void)
{
    for (const as_command_t *c = g_commands; c->name; c++)
        printf("%s\n", c->name);
}

static void list_policies(void)
{
    for (size_t i = 0; i < as_policy_count(); i++)
        printf("%s\n", as_policy_at(i)->name);
}

static void list_predictors(void)
{
    for (size_t i = 0; i < as_predictor_count(); i++)
        printf("%s\n", as_predictor_at(i)->name);
}

/* Policy, predictor and simulated-OS parameters, as `--param NAME.KEY=`
 * takes them. */
static void list_params(void)
{
    for (size_t i = 0; i < as_policy_count(); i++) {
        const as_policy_ops_t *p = as_policy_at(i);
        print_params(p->name, p->params, p->n_params);
    }
    for (size_t i = 0; i < as_predictor_count(); i++) {
        const as_predictor_ops_t *p = as_predictor_at(i);
        print_params(p->name, p->params, p->n_params);
    }
    print_params("os", as_simos_params, AS_SIMOS_N_PARAMS);
    print_params("tlb", as_tlb_params, AS_TLB_N_PARAMS);
}

static void list_workloads(void)
{
    for (size_t i = 0; i < as_gen_count(); i++)
        printf("%s\n", as_gen_at(i)->name);
}

/* Workload parameters, as `gen --param WORKLOAD.KEY=` takes them. */
static void list_workload_params(void)
{
    for (size_t i = 0; i < as_gen_count(); i++) {
        const as_gen_workload_t *w = as_gen_at(i);
        print_params(w->name, w->params, w->n_params);
    }
}

static void list_formats(void)
{
    for (const as_import_format_t *f = as_import_formats; f->name; f++)
        printf("%s\n", f->name);
}

static const struct {
    const char *what;
    void (*list)(void);
} lists[] = {
    {"commands", list_commands},     {"policies", list_policies},
    {"predictors", list_predictors}, {"params", list_params},
    {"workloads", list_workloads},   {"workload-params", list_workload_params},
    {"formats", list_formats},
};

int as_cli_list(int argc, char **argv, const as_command_t *commands)
{
    size_t n = sizeof lists / sizeof lists[0];
    g_commands = commands;
    for (size_t i = 0; i < n && argc == 2; i++) {
        if (strcmp(argv[1], lists[i].what) != 0) continue;
        lists[i].list();
        return fflush(stdout) == 0 ? AS_EXIT_OK : AS_EXIT_FAIL;
    }
    fprintf(stderr, "allocsim --list: expected one of:");
    for (size_t i = 0; i < n; i++)
        fprintf(stderr, " %s", lists[i].what);
    fprintf(stderr, "\n");
    return AS_EXIT_USAGE;
}

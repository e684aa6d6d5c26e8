/* main.c - the `allocsim` command line: git-style dispatch to subcommands.
 *
 * The table below is the only list of subcommands; `allocsim --help` prints
 * it, and the option parser (sim/cliopt.c) consults every subcommand's
 * options through it to tell a user which subcommand an option belongs to.
 * Each subcommand parses its own arguments (sim/cmd_<name>.c) with that one
 * parser.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "sim/cli.h"
#include "sim/version.h"
#include "sim/fileio.h"

static const as_command_t commands[] = {
    /* AS_COMMANDS: one line per subcommand, in the order --help shows them */
    {"record", "run a program and record its allocations into a trace",
     as_cmd_record, as_cmd_record_opts},
    {"import", "convert a text, heaptrack or mtrace file into a trace",
     as_cmd_import, as_cmd_import_opts},
    {"gen", "write a synthetic workload's trace (server-mix, larson, ...)",
     as_cmd_gen, as_cmd_gen_opts},
    {"info", "print a trace's metadata and statistics", as_cmd_info,
     as_cmd_info_opts},
    {"cat", "print a trace as text (one record per line)", as_cmd_cat,
     as_cmd_cat_opts},
    {"convert", "rewrite a trace in the current format (version 3)",
     as_cmd_convert, as_cmd_convert_opts},
    {"run", "replay a trace through a policy; write summary.json, series.csv",
     as_cmd_run, as_cmd_run_opts},
    {"demo", "replay a trace through every policy and compare", as_cmd_demo,
     as_cmd_demo_opts},
    {"compare", "replay traces through several policies in parallel; report",
     as_cmd_compare, as_cmd_compare_opts},
    {"sweep", "run a parameter sweep from a JSON spec; report with figures",
     as_cmd_sweep, as_cmd_sweep_opts},
    {"plot", "tables, figures and index.html from existing run directories",
     as_cmd_plot, as_cmd_plot_opts},
    {"train", "learn an LSTM lifetime model from traces", as_cmd_train,
     as_cmd_train_opts},
    {"eval", "score a lifetime predictor on traces, next to oracle and site",
     as_cmd_eval, as_cmd_eval_opts},
    {NULL, NULL, NULL, NULL},
};

#define N_COMMANDS (sizeof commands / sizeof commands[0] - 1)

int as_cli_progress_on(void)
{
    return isatty(2);
}

static char **g_argv;
static int g_argc;

char *const *as_cli_command_line(int *argc)
{
    *argc = g_argc;
    return g_argv;
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: allocsim <command> [options]   (allocsim <command> "
            "--help for each)\n"
            "       allocsim --version\n\n"
            "Trace-driven memory-allocator simulator, version %s.\n\n"
            "commands:\n",
            ALLOCSIM_VERSION);
    for (const as_command_t *c = commands; c->name; c++)
        fprintf(f, "  %-8s %s\n", c->name, c->summary);
    fprintf(f, "\nEvery command takes options the same way (docs/cli.md): "
               "--name=VALUE or\n"
               "--name VALUE; -h help, -o output, -q quiet, -p policy, -P "
               "param, -n events,\n"
               "-f format mean the same in every command; `-` is standard "
               "input or output.\n"
               "Exit status: 0 ok, 1 the work failed, 2 bad usage or bad "
               "input.\n");
}

/* dispatch: run the command named by argv[1]. @return its exit code. */
static int dispatch(int argc, char **argv)
{
    static as_opts_owner_t owners[N_COMMANDS];
    for (size_t i = 0; i < N_COMMANDS; i++)
        owners[i] = (as_opts_owner_t){commands[i].name, commands[i].opts};
    as_opts_set_owners(owners, N_COMMANDS);
    if (argc < 2) {
        usage(stderr);
        return AS_EXIT_USAGE;
    }
    if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
        usage(stdout);
        return AS_EXIT_OK;
    }
    if (strcmp(argv[1], "--version") == 0) {
        if (argc > 2) {
            fprintf(stderr, "allocsim: --version takes no arguments\n");
            return AS_EXIT_USAGE;
        }
        printf("allocsim %s (revision %s)\n", ALLOCSIM_VERSION, as_revision);
        return fflush(stdout) == 0 && !ferror(stdout) ? AS_EXIT_OK
                                                      : AS_EXIT_FAIL;
    }
    if (strcmp(argv[1], "--list") == 0) /* hidden: for shell completion */
        return as_cli_list(argc - 1, argv + 1, commands);
    for (const as_command_t *c = commands; c->name; c++)
        if (strcmp(c->name, argv[1]) == 0) return c->run(argc - 1, argv + 1);
    fprintf(stderr, "allocsim: unknown command '%s'; commands:", argv[1]);
    for (const as_command_t *c = commands; c->name; c++)
        fprintf(stderr, " %s", c->name);
    fprintf(stderr, "\n");
    return AS_EXIT_USAGE;
}

/* Every command's standard output is checked at the end (fileio.h): output
 * lost to a full disk or a closed descriptor makes the exit code 1. */
int main(int argc, char **argv)
{
    g_argc = argc;
    g_argv = argv;
    int rc = dispatch(argc, argv);
    char who[64];
    snprintf(who, sizeof who, "allocsim%s%.40s", argc >= 2 ? " " : "",
             argc >= 2 ? argv[1] : "");
    return as_stdout_finish(who, rc);
}

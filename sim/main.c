/* main.c - the `allocsim` command line: git-style dispatch to subcommands.
 *
 * The table below is the only list of subcommands; `allocsim --help` prints
 * it. Each subcommand parses its own options (sim/cmd_<name>.c).
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "sim/cli.h"
#include "sim/fileio.h"

static const as_command_t commands[] = {
    /* AS_COMMANDS: one line per subcommand, in the order --help shows them */
    {"record", "run a program and record its allocations into a trace",
     as_cmd_record},
    {"import", "convert a text, heaptrack or mtrace file into a trace",
     as_cmd_import},
    {"gen", "write a synthetic workload's trace (server-mix, larson, ...)",
     as_cmd_gen},
    {"info", "print a trace's metadata and statistics", as_cmd_info},
    {"cat", "print a trace as text (one record per line)", as_cmd_cat},
    {"run", "replay a trace through a policy; write summary.json, series.csv",
     as_cmd_run},
    {"demo", "replay a trace through every policy and compare", as_cmd_demo},
    {NULL, NULL, NULL},
};

int as_cli_is_help(const char *arg)
{
    return strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0;
}

int as_cli_progress_on(void)
{
    return isatty(2);
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: allocsim <command> [options]   (allocsim <command> "
            "--help for each)\n\n"
            "Trace-driven memory-allocator simulator, version %s.\n\n"
            "commands:\n",
            ALLOCSIM_VERSION);
    for (const as_command_t *c = commands; c->name; c++)
        fprintf(f, "  %-8s %s\n", c->name, c->summary);
}

/* dispatch: run the command named by argv[1]. @return its exit code. */
static int dispatch(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return AS_EXIT_USAGE;
    }
    if (as_cli_is_help(argv[1])) {
        usage(stdout);
        return AS_EXIT_OK;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("allocsim %s\n", ALLOCSIM_VERSION);
        return AS_EXIT_OK;
    }
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
    int rc = dispatch(argc, argv);
    char who[64];
    snprintf(who, sizeof who, "allocsim%s%.40s", argc >= 2 ? " " : "",
             argc >= 2 ? argv[1] : "");
    return as_stdout_finish(who, rc);
}

/* cli.h - the subcommands of the `allocsim` command line.
 *
 * Each subcommand lives in sim/cmd_<name>.c and exports
 *   int as_cmd_<name>(int argc, char **argv);   (argv[0] is the subcommand)
 * returning the process exit code: 0 ok, 1 the work failed, 2 bad usage or
 * bad input. Each handles --help itself, prints errors to stderr naming the
 * file (and byte offset or line), and shows progress only on a terminal.
 * The dispatch table is in sim/main.c.
 */
#ifndef AS_SIM_CLI_H
#define AS_SIM_CLI_H

#include <stdio.h>

typedef struct {
    const char *name;
    const char *summary; /* one line for `allocsim --help` */
    int (*run)(int argc, char **argv);
} as_command_t;

/* Exit codes. 3: `run`/`demo` replayed a truncated trace (its whole chunks
 * only; the outputs are written and marked) without --allow-truncated. */
enum {
    AS_EXIT_OK = 0,
    AS_EXIT_FAIL = 1,
    AS_EXIT_USAGE = 2,
    AS_EXIT_TRUNCATED = 3
};

/* as_cli_is_help: 1 when arg is -h or --help. */
int as_cli_is_help(const char *arg);

/* as_cli_progress_on: 1 when stderr is a terminal (progress is shown). */
int as_cli_progress_on(void);

int as_cmd_info(int argc, char **argv);
int as_cmd_cat(int argc, char **argv);
int as_cmd_import(int argc, char **argv);
int as_cmd_gen(int argc, char **argv);
int as_cmd_run(int argc, char **argv);
int as_cmd_demo(int argc, char **argv);
int as_cmd_record(int argc, char **argv);

#endif /* AS_SIM_CLI_H */

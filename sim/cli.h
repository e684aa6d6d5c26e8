/* cli.h - the subcommands of the `allocsim` command line.
 *
 * Each subcommand lives in sim/cmd_<name>.c and exports
 *   int as_cmd_<name>(int argc, char **argv);   (argv[0] is the subcommand)
 *   const as_opt_t *const as_cmd_<name>_opts[]; (its option tables)
 * returning the process exit code: 0 ok, 1 the work failed, 2 bad usage or
 * bad input. Each parses its options with the one parser (sim/cliopt.h),
 * prints errors with as_cli_err ("allocsim CMD: FILE: offset N: what"), and
 * shows progress only on a terminal. The dispatch table is in sim/main.c;
 * `run` and `demo` share their tables in sim/run_options.c.
 */
#ifndef AS_SIM_CLI_H
#define AS_SIM_CLI_H

#include <stdio.h>

#include "sim/cliopt.h"
#include "sim/lstmfit.h"
#include "traces/trace.h"

typedef struct {
    const char *name;
    const char *summary; /* one line for `allocsim --help` */
    int (*run)(int argc, char **argv);
    const as_opt_t *const *opts; /* its option tables (NULL-terminated) */
} as_command_t;

/* Exit codes. 3: `run`/`demo` replayed a truncated trace (its whole chunks
 * only; the outputs are written and marked) without --allow-truncated. */
enum {
    AS_EXIT_OK = 0,
    AS_EXIT_FAIL = 1,
    AS_EXIT_USAGE = 2,
    AS_EXIT_TRUNCATED = 3
};

/* as_cli_progress_on: 1 when stderr is a terminal (progress is shown). */
int as_cli_progress_on(void);

/* as_cli_command_line: the process's whole command line (argv[0] first),
 * for the provenance of what a command writes; *argc gets its length. */
char *const *as_cli_command_line(int *argc);

/* as_cli_list: `allocsim --list WHAT` (hidden; for the shell completion):
 * print the names of WHAT (commands, policies, predictors, params, workloads,
 * workload-params, formats), one a line; argv[0] is "--list".
 * @return an exit code: 0, 1 when stdout failed, 2 for an unknown WHAT. */
int as_cli_list(int argc, char **argv, const as_command_t *commands);

int as_cmd_info(int argc, char **argv);
int as_cmd_cat(int argc, char **argv);
int as_cmd_convert(int argc, char **argv);

/* as_cli_trace_output: what a command writing a trace from input file `in`
 * does first (import, convert): refuse `-o -` on a terminal, spool `-`
 * (as_cli_input), refuse an output that is the input itself, open the
 * writer on `out` (`-` = standard output) with options o. Messages go to
 * stderr. @return 0 with *in_path the input's path and *w open, or the exit
 * status (AS_EXIT_USAGE, AS_EXIT_FAIL) with *w NULL. (sim/cmd_import.c) */
int as_cli_trace_output(const char *in, const char *out,
                        const as_trace_writer_opts_t *o, const char **in_path,
                        as_trace_writer_t **w);
int as_cmd_import(int argc, char **argv);
int as_cmd_gen(int argc, char **argv);
int as_cmd_run(int argc, char **argv);
int as_cmd_demo(int argc, char **argv);
int as_cmd_record(int argc, char **argv);
int as_cmd_plot(int argc, char **argv);
int as_cmd_compare(int argc, char **argv);
int as_cmd_sweep(int argc, char **argv);
int as_cmd_train(int argc, char **argv);
int as_cmd_eval(int argc, char **argv);

extern const as_opt_t *const as_cmd_info_opts[];
extern const as_opt_t *const as_cmd_cat_opts[];
extern const as_opt_t *const as_cmd_convert_opts[];
extern const as_opt_t *const as_cmd_import_opts[];
extern const as_opt_t *const as_cmd_gen_opts[];
extern const as_opt_t *const as_cmd_run_opts[];
extern const as_opt_t *const as_cmd_demo_opts[];
extern const as_opt_t *const as_cmd_record_opts[];
extern const as_opt_t *const as_cmd_plot_opts[];
extern const as_opt_t *const as_cmd_train_opts[];
extern const as_opt_t *const as_cmd_eval_opts[];

/* The LSTM's training options, shared by `train` and `eval` (defined in
 * sim/cmd_train.c), and their reader: @return 1 when id was one of them
 * (applied to *o or *cl), 0 when not, AS_OPT_ERROR (message printed). */
extern const as_opt_t as_lstm_train_opts[];
int as_lstm_train_opt(as_lstm_fit_opts_t *o, as_classes_t *cl,
                      const as_opts_t *p, int id);

/* Options shared by the commands that run batches of `allocsim run`
 * (compare, sweep; defined in sim/cmd_compare.c). Their ids are above any
 * command's own. */
enum { AS_BATCH_OPT_JOBS = 100, AS_BATCH_OPT_NO_RENDER, AS_BATCH_OPT_QUIET };
extern const as_opt_t as_batch_opts[];
extern const as_opt_t *const as_cmd_compare_opts[];
extern const as_opt_t *const as_cmd_sweep_opts[];

#endif /* AS_SIM_CLI_H */

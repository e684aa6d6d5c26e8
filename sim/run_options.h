/* run_options.h - the options that configure a run, shared by `allocsim
 * run` and `allocsim demo` so both accept the same flags (their tables,
 * as_cmd_run_opts and as_cmd_demo_opts, are in run_options.c), and the
 * writing of one run directory. */
#ifndef AS_SIM_RUN_OPTIONS_H
#define AS_SIM_RUN_OPTIONS_H

#include <stdio.h>

#include "sim/cliopt.h"
#include "sim/engine.h"
#include "sim/rundir.h" /* as_run_to_dir, which run and demo call */

#define AS_MAX_POSITIONAL 64
#define AS_MAX_CONFIGS 64 /* --config of one `allocsim run` */

/* The options of one program of a run of several traces (`run -p P1
 * A.ast -p P2 B.ast`): those given after the previous TRACE and before
 * its own (docs/cli.md, "Several programs on one machine"). */
typedef struct {
    const char *policy, *config, *predictor, *shadow, *pred_load;
    const char *params[AS_MAX_PARAMS];
    size_t n_params;
    uint64_t start_ns;
    /* how often each was given, and the first one given (for messages) */
    unsigned n_policy, n_config, n_predictor, n_shadow, n_pred_load, n_start;
    const char *first;
} as_run_prog_opts_t;

typedef struct {
    as_run_config_t cfg;
    const char *out_dir; /* -o; default "allocsim-out" */
    const char *trace;   /* --trace (demo) */
    int out_given;       /* -o was given */
    int predictor_given; /* --predictor was given */
    int quiet;
    const char *configs[AS_MAX_CONFIGS]; /* --config SPEC (run) */
    size_t n_configs;
    const char *positional[AS_MAX_POSITIONAL];
    size_t n_positional;
    /* progs[j]: the program options before positional[j];
     * progs[n_positional]: those after the last (none is right with
     * several TRACEs). With one TRACE they are ignored: cfg has them. */
    as_run_prog_opts_t progs[AS_MAX_POSITIONAL + 1];
} as_run_opts_t;

/* as_online_cpus: @return the CPUs online (sysconf), 1 to
 * AS_MAX_THREADS: the default of --threads. */
int as_online_cpus(void);

/* as_run_options_parse: parse argv of subcommand `cmd` against `tables`
 * (as_cmd_run_opts or as_cmd_demo_opts). @return -1 when the caller should
 * go on, or an exit code (0 after --help, 2 on bad usage, message printed).
 * A wrapping predictor without its inner one (--predictor cached) is bad
 * usage. */
int as_run_options_parse(as_run_opts_t *o, const char *cmd,
                         const as_opt_t *const *tables, int argc, char **argv,
                         void (*usage)(FILE *));

#endif /* AS_SIM_RUN_OPTIONS_H */

/* runner.h - run `allocsim run` once per configuration, N processes at a
 * time, each result written atomically: the run writes into
 * OUT.tmp.<pid> and that directory is renamed to OUT only when the run
 * succeeded, so OUT either holds a whole result or does not exist. A job
 * whose OUT/summary.json already exists is not run again (a killed batch,
 * rerun, does only what is missing).
 *
 * Map of the type: jobs[i].args are the arguments after `allocsim run`
 * (the runner appends -q -o TMP); status is filled in.
 *
 * Groups (decode once, replay many): jobs with the same non-zero `group`
 * that are not done run as one `allocsim run --config SPEC...` process
 * (sim/cmd_run.c): the group's common arguments (`group_args` of its first
 * job still to do), then --config with each member's `config`, -q -o TMP;
 * member m's result TMP/config is renamed to its out_dir. A member whose
 * result is missing failed: it gets the process's exit status (1 if that
 * was 0) and a copy of the process's messages as OUT.log. A group with one
 * member left to do runs that job alone, with its own args.
 */
#ifndef AS_REPORTS_RUNNER_H
#define AS_REPORTS_RUNNER_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    char **args;        /* arguments after "run", NULL-terminated */
    char out_dir[4096]; /* final run directory */
    int status;         /* after as_runner_run: 0 ok (run or already
                           there), else the exit status or 128+signal */
    int reused;         /* 1 when OUT/summary.json was already there */
    size_t group;       /* 0: a run of its own; else its group (above) */
    char **group_args;  /* with group: the arguments common to the group,
                           NULL-terminated (no policy, predictor or -P) */
    const char *config; /* with group: this job's --config SPEC (a file
                           name: no '/'), unique within the group */
} as_job_t;

#define AS_RUNNER_GROUP_MAX                                                    \
    64 /* members of one group process at most
                                  (`allocsim run` takes 64 --config) */

typedef struct {
    const char *exe;  /* the allocsim binary (e.g. /proc/self/exe's target) */
    const char *what; /* "compare", "sweep": prefix of messages */
    int jobs;         /* processes at a time, >= 1 */
    int progress;     /* 1: done/total, failures and ETA on stderr */
} as_runner_opts_t;

/* as_runner_run: run every job not already done. A failed job leaves
 * OUT.log (the run's messages) and no OUT; its first error line is printed
 * on stderr. @return the number of failed jobs (0 when all succeeded), or
 * a negative AS_E* code when the runner itself could not work (err). */
long as_runner_run(const as_runner_opts_t *o, as_job_t *jobs, size_t n,
                   char *err, size_t errcap);

/* as_runner_args_hash: FNV-1a 64 of the NULL-terminated argument list
 * (each argument with its terminating NUL), for naming a run after its
 * configuration. @return the hash. */
uint64_t as_runner_args_hash(char *const *args);

/* as_runner_default_jobs: the number of online CPUs (at least 1). */
int as_runner_default_jobs(void);

/* as_runner_self_exe: the path of the running program, for re-executing
 * it. @return 0, AS_EIO (err). */
int as_runner_self_exe(char *buf, size_t cap, char *err, size_t errcap);

/* as_remove_tree: remove a directory tree (or a file).
 * @return 0, AS_EIO. */
int as_remove_tree(const char *path);

#endif /* AS_REPORTS_RUNNER_H */

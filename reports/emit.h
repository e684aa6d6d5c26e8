/* emit.h - a sweep's runs as jobs for another engine: a GNU parallel job
 * list and a Slurm array job. Each job is one shell line that does what
 * reports/runner.c does for a local run: `allocsim run` into a temporary
 * directory, renamed to the run directory only when the run succeeded, its
 * messages kept in RUN.log only when it failed. Jobs start with `cd` into
 * the directory the sweep was emitted from, so relative trace paths, run
 * names and summaries are those of a local sweep, and the results are
 * merged by `allocsim sweep SPEC --collect DIR`.
 */
#ifndef AS_REPORTS_EMIT_H
#define AS_REPORTS_EMIT_H

#include <stddef.h>
#include <stdio.h>

#include "reports/runner.h"

/* as_emit_job_line: the shell line of one job (newline-terminated).
 * exe and cwd should be absolute. @return 0, AS_EIO. */
int as_emit_job_line(FILE *f, const char *exe, const char *cwd,
                     const as_job_t *job);

/* as_emit_write: DIR/jobs.txt with the line of every job in jobs[0..n)
 * whose run directory has no summary.json yet, and, when slurm is set,
 * DIR/sweep.sbatch: an array job running line SLURM_ARRAY_TASK_ID of
 * jobs.txt. *todo receives the number of lines.
 * @return 0, AS_EIO (message in err). */
int as_emit_write(const char *dir, const char *exe, const char *cwd,
                  const as_job_t *jobs, size_t n, int slurm, size_t *todo,
                  char *err, size_t errcap);

#endif /* AS_REPORTS_EMIT_H */

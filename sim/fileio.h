/* fileio.h - the simulator's file idioms, written once: an output file that
 * appears under its name only when complete (created by traces/outfile.c's
 * rules: a temporary renamed into place, devices and FIFOs written in place,
 * symlinks followed, "-" for standard output), the check that an output is
 * not one of the command's inputs, checked writes to standard output, and
 * reading a whole small file.
 */
#ifndef AS_SIM_FILEIO_H
#define AS_SIM_FILEIO_H

#include <stddef.h>
#include <stdio.h>

#include "traces/outfile.h"

typedef struct {
    as_output_t out; /* where the bytes go (traces/outfile.h) */
    char path[4096]; /* the name given, for messages */
    FILE *f;         /* stdio stream on out.fd; NULL when closed or never
                        opened (stdout itself for "-") */
} as_outfile_t;

/* as_outfile_open: start writing `path` (rules in traces/outfile.h).
 * @return 0, or AS_EIO / AS_EINVAL with "path: why" in err. */
int as_outfile_open(as_outfile_t *o, const char *path, char *err,
                    size_t errcap);

/* as_outfile_close: keep != 0: flush, close and move into place; keep ==
 * 0: discard. Safe on a never-opened (zeroed) or already closed file.
 * @return 0, or AS_EIO with "path: why" in err (nothing was replaced). */
int as_outfile_close(as_outfile_t *o, int keep, char *err, size_t errcap);

/* as_outfile_check_input: refuse to write `out` when it is the same file as
 * the input `in` (device and inode, so through symlinks and hard links) --
 * the output would destroy the input. A NULL or nonexistent either is fine.
 * @return 0, or AS_EINVAL with "out: is the input in; ..." in err. */
int as_outfile_check_input(const char *out, const char *in, char *err,
                           size_t errcap);

/* as_outdir_check_input: refuse an output directory `dir` that holds the
 * input `in` at any depth (a run directory is replaced as a whole).
 * @return 0, or AS_EINVAL with the reason in err. */
int as_outdir_check_input(const char *dir, const char *in, char *err,
                          size_t errcap);

/* as_stdout_flush: flush standard output and check it for write errors.
 * A write error is reported once on stderr as "WHO: standard output: why"
 * (WHO is e.g. "allocsim cat"), except a broken pipe (the reader went away,
 * as `| head` does when SIGPIPE is ignored), which is silent. Call it as
 * soon as a write fails, so that errno still says why.
 * @return 0, or 1 (the exit code of a failed command). */
int as_stdout_flush(const char *who);

/* as_stdout_finish: the end of every command (sim/main.c): flush and close
 * standard output; a failure turns exit code `rc` 0 into 1.
 * @return the exit code to use. */
int as_stdout_finish(const char *who, int rc);

/* as_file_read_all: the whole file, NUL-terminated, in *buf (free() it).
 * @return 0, AS_EIO ("path: why" in err), AS_ENOMEM. */
int as_file_read_all(const char *path, char **buf, size_t *len, char *err,
                     size_t errcap);

#endif /* AS_SIM_FILEIO_H */

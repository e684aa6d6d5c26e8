/* fileio.h - the simulator's two file idioms, written once: an output file
 * that appears under its name only when complete (NAME.tmp, renamed on
 * success, removed on failure, so a failed run never leaves half a file and
 * never replaces an earlier good one), and reading a whole small file.
 */
#ifndef AS_SIM_FILEIO_H
#define AS_SIM_FILEIO_H

#include <stddef.h>
#include <stdio.h>

typedef struct {
    char path[4096]; /* final name */
    char tmp[4200];  /* path + ".tmp", written meanwhile */
    FILE *f;         /* open on tmp; NULL when closed or never opened */
} as_outfile_t;

/* as_outfile_open: start writing `path` (through path.tmp).
 * @return 0, or AS_EIO / AS_EINVAL with "path: why" in err. */
int as_outfile_open(as_outfile_t *o, const char *path, char *err,
                    size_t errcap);

/* as_outfile_close: keep != 0: close and rename into place; keep == 0:
 * discard. Safe on a never-opened (zeroed) or already closed file.
 * @return 0, or AS_EIO with "path: why" in err (the tmp file is removed). */
int as_outfile_close(as_outfile_t *o, int keep, char *err, size_t errcap);

/* as_file_read_all: the whole file, NUL-terminated, in *buf (free() it).
 * @return 0, AS_EIO ("path: why" in err), AS_ENOMEM. */
int as_file_read_all(const char *path, char **buf, size_t *len, char *err,
                     size_t errcap);

#endif /* AS_SIM_FILEIO_H */

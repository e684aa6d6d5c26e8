/* outfile.h - how allocsim creates an output file: the one place that
 * decides (docs/architecture.md, "Output files").
 *
 * Type map
 *   as_output_t  one output being written: where the bytes go now (fd),
 *                where they end up (target), and how (replace or direct)
 *
 * Rules, for every output of every subcommand (trace writer, summaries,
 * CSV series, plots):
 *   - "-" is standard output, written directly (nothing renamed).
 *   - A symbolic link is followed (up to 40 links) to its final target; the
 *     link itself is never replaced.
 *   - A regular file, or a name that does not exist yet, is written into a
 *     fresh temporary file beside the target (same directory, created with
 *     O_EXCL) and renamed onto the target only on commit, so the target is
 *     either its old contents or the complete new ones. An existing
 *     target's permission bits are kept.
 *   - A character device or a FIFO (/dev/null, a named pipe) is opened and
 *     written directly: it is never replaced by a regular file.
 *   - A directory, a block device or a socket is refused.
 * Invariant: direct == (tmp[0] == 0); fd >= 0 between open and commit or
 * discard.
 */
#ifndef AS_TRACES_OUTFILE_H
#define AS_TRACES_OUTFILE_H

#include <stddef.h>

typedef struct {
    char path[4096];   /* the name given (for messages) */
    char target[4096]; /* the file written on commit (links resolved) */
    char tmp[4200];    /* temporary beside target; "" when direct */
    int fd;            /* open for writing; -1 when closed */
    int direct;        /* 1: fd writes straight into the output */
    int own_fd;        /* 1: fd is closed at commit/discard (not stdout) */
} as_output_t;

/* as_output_open: start writing `path` under the rules above.
 * @return 0, AS_EINVAL (refused: a directory, block device, socket, a loop
 * of links, a name too long) or AS_EIO (cannot create), with "path: why" in
 * err. On error o->fd is -1 and nothing was created. */
int as_output_open(as_output_t *o, const char *path, char *err, size_t errcap);

/* as_output_commit: close and move the temporary onto the target (direct:
 * close the fd unless it is standard output). On failure the temporary is
 * removed and the target left as it was.
 * @return 0, or AS_EIO with "path: why" in err. */
int as_output_commit(as_output_t *o, char *err, size_t errcap);

/* as_output_discard: close and remove the temporary (direct: just close);
 * the target is untouched. Safe on a zeroed, failed or finished output. */
void as_output_discard(as_output_t *o);

#endif /* AS_TRACES_OUTFILE_H */

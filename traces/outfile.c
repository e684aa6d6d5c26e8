/* outfile.c - the one function that decides how an output file is created
 * (rules in outfile.h). Every writer of a named output goes through it: the
 * trace writer's path mode here in traces/, and sim/fileio.c's stdio files
 * for summaries, series and plots. It lives in traces/ because traces/ may
 * depend on nothing but common/, and the trace writer needs it.
 *
 * What it must never do: replace anything that is not a regular file (a
 * device node, a FIFO, a symbolic link), truncate the target before the new
 * contents are complete, or follow a name into a file it did not create
 * (the temporary is made with O_EXCL).
 */
#include "traces/outfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/error.h"

#define AS_OUTPUT_MAX_LINKS 40

static const char *kind_of(mode_t m)
{
    if (S_ISDIR(m)) return "a directory";
    if (S_ISBLK(m)) return "a block device";
    if (S_ISSOCK(m)) return "a socket";
    if (S_ISCHR(m)) return "a character device";
    if (S_ISFIFO(m)) return "a FIFO";
    return "not a regular file";
}

/* resolve: follow `path` through symbolic links to the name that will be
 * written. *exists says whether that name exists (then *st describes it).
 * @return 0, AS_EINVAL (link loop, name too long), AS_EIO. */
static int resolve(as_output_t *o, struct stat *st, int *exists, char *err,
                   size_t errcap)
{
    char cur[4096], link[4096];
    snprintf(cur, sizeof cur, "%s", o->path);
    for (int hops = 0;; hops++) {
        if (lstat(cur, st) != 0) {
            if (errno != ENOENT) {
                snprintf(err, errcap, "%s: cannot write: %s", o->path,
                         strerror(errno));
                return AS_EIO;
            }
            *exists = 0;
            break;
        }
        if (!S_ISLNK(st->st_mode)) {
            *exists = 1;
            break;
        }
        if (hops == AS_OUTPUT_MAX_LINKS) {
            snprintf(err, errcap,
                     "%s: cannot write: too many levels of symbolic links",
                     o->path);
            return AS_EINVAL;
        }
        ssize_t n = readlink(cur, link, sizeof link - 1);
        if (n < 0) {
            snprintf(err, errcap, "%s: cannot write: %s", o->path,
                     strerror(errno));
            return AS_EIO;
        }
        link[n] = 0;
        char next[4096], *slash = strrchr(cur, '/');
        int k = link[0] == '/' || !slash
                    ? snprintf(next, sizeof next, "%s", link)
                    : snprintf(next, sizeof next, "%.*s/%s", (int)(slash - cur),
                               cur, link);
        if (k < 0 || (size_t)k >= sizeof next) {
            snprintf(err, errcap, "%s: cannot write: link target too long",
                     o->path);
            return AS_EINVAL;
        }
        memcpy(cur, next, (size_t)k + 1);
    }
    snprintf(o->target, sizeof o->target, "%s", cur);
    return AS_OK;
}

/* open_direct: a character device or FIFO, written in place. */
static int open_direct(as_output_t *o, char *err, size_t errcap)
{
    int fd = open(o->target, O_WRONLY | O_CLOEXEC | O_NOCTTY);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        snprintf(err, errcap, "%s: cannot write: %s", o->path, strerror(errno));
        if (fd >= 0) close(fd);
        return AS_EIO;
    }
    if (!S_ISCHR(st.st_mode) && !S_ISFIFO(st.st_mode)) { /* swapped */
        close(fd);
        snprintf(err, errcap, "%s: changed while being opened; not written",
                 o->path);
        return AS_EIO;
    }
    o->fd = fd;
    o->direct = 1;
    o->own_fd = 1;
    return AS_OK;
}

int as_output_open(as_output_t *o, const char *path, char *err, size_t errcap)
{
    memset(o, 0, sizeof *o);
    o->fd = -1;
    if ((size_t)snprintf(o->path, sizeof o->path, "%s", path) >=
        sizeof o->path) {
        snprintf(err, errcap, "%.200s...: path too long", path);
        return AS_EINVAL;
    }
    if (!path[0]) {
        snprintf(err, errcap, "an empty output name");
        return AS_EINVAL;
    }
    if (strcmp(path, "-") == 0) {
        snprintf(o->path, sizeof o->path, "standard output");
        o->fd = STDOUT_FILENO;
        o->direct = 1;
        return AS_OK;
    }
    struct stat st;
    int exists = 0;
    int rc = resolve(o, &st, &exists, err, errcap);
    if (rc) return rc;
    if (exists && (S_ISCHR(st.st_mode) || S_ISFIFO(st.st_mode)))
        return open_direct(o, err, errcap);
    if (exists && !S_ISREG(st.st_mode)) {
        snprintf(err, errcap,
                 "%s: cannot write: %s (outputs are regular files, "
                 "character devices or FIFOs)",
                 o->path, kind_of(st.st_mode));
        return AS_EINVAL;
    }
    if ((size_t)snprintf(o->tmp, sizeof o->tmp, "%s.XXXXXX.tmp", o->target) >=
        sizeof o->tmp) {
        o->tmp[0] = 0;
        snprintf(err, errcap, "%s: path too long", o->path);
        return AS_EINVAL;
    }
    int fd = mkostemps(o->tmp, 4, O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errcap, "%s: cannot create %s: %s", o->path, o->tmp,
                 strerror(errno));
        o->tmp[0] = 0;
        return AS_EIO;
    }
    mode_t mode;
    if (exists) {
        mode = st.st_mode & 07777;
        if (geteuid() == 0 && fchown(fd, st.st_uid, st.st_gid) != 0) {
            /* keep root's ownership rather than fail the run */
        }
    } else {
        mode_t mask = umask(0);
        umask(mask);
        mode = 0666 & ~mask;
    }
    if (fchmod(fd, mode) != 0) { /* a temporary with 0600 is still correct */
    }
    o->fd = fd;
    o->own_fd = 1;
    return AS_OK;
}

int as_output_commit(as_output_t *o, char *err, size_t errcap)
{
    if (o->fd < 0) return AS_OK;
    int rc = AS_OK;
    if (o->own_fd && close(o->fd) != 0) {
        snprintf(err, errcap, "%s: write error: %s", o->path, strerror(errno));
        rc = AS_EIO;
    }
    o->fd = -1;
    if (o->tmp[0]) {
        if (!rc && rename(o->tmp, o->target) != 0) {
            snprintf(err, errcap, "%s: cannot move %s into place: %s", o->path,
                     o->tmp, strerror(errno));
            rc = AS_EIO;
        }
        if (rc) unlink(o->tmp);
        o->tmp[0] = 0;
    }
    return rc;
}

void as_output_discard(as_output_t *o)
{
    if (o->fd >= 0 && o->own_fd) close(o->fd);
    o->fd = -1;
    if (o->tmp[0]) unlink(o->tmp);
    o->tmp[0] = 0;
}

/* fileio.c - complete-or-absent output files, the output-is-not-an-input
 * check, checked standard output and whole-file reads for the simulator and
 * its command line (see fileio.h). How an output file is created is decided
 * by traces/outfile.c alone; this file puts stdio on top of it. Host code:
 * uses stdio.
 */
#include "sim/fileio.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/error.h"

int as_outfile_open(as_outfile_t *o, const char *path, char *err, size_t errcap)
{
    memset(o, 0, sizeof *o);
    snprintf(o->path, sizeof o->path, "%s", path);
    int rc = as_output_open(&o->out, path, err, errcap);
    if (rc) return rc;
    if (o->out.fd == STDOUT_FILENO && !o->out.own_fd) {
        o->f = stdout;
        return AS_OK;
    }
    o->f = fdopen(o->out.fd, "w");
    if (!o->f) {
        snprintf(err, errcap, "%s: cannot write: %s", path, strerror(errno));
        as_output_discard(&o->out);
        return AS_EIO;
    }
    o->out.own_fd = 0; /* fclose closes it */
    return AS_OK;
}

int as_outfile_close(as_outfile_t *o, int keep, char *err, size_t errcap)
{
    if (!o->f) return AS_OK;
    FILE *f = o->f;
    o->f = NULL;
    errno = 0;
    int ok = fflush(f) == 0 && !ferror(f);
    if (f != stdout) ok = (fclose(f) == 0) && ok;
    int e = errno;
    if (!keep) {
        as_output_discard(&o->out);
        return AS_OK;
    }
    if (!ok) {
        snprintf(err, errcap, "%s: write error: %s", o->path,
                 e ? strerror(e) : "unknown");
        as_output_discard(&o->out);
        return AS_EIO;
    }
    return as_output_commit(&o->out, err, errcap);
}

int as_outfile_check_input(const char *out, const char *in, char *err,
                           size_t errcap)
{
    struct stat so, si;
    if (!out || !in || strcmp(out, "-") == 0 || strcmp(in, "-") == 0)
        return AS_OK;
    if (stat(out, &so) != 0 || stat(in, &si) != 0) return AS_OK;
    if (so.st_dev != si.st_dev || so.st_ino != si.st_ino) return AS_OK;
    if (S_ISCHR(so.st_mode) || S_ISFIFO(so.st_mode)) return AS_OK;
    snprintf(err, errcap,
             "%s: is the input %s (the same file); writing it would "
             "destroy the input: choose another output",
             out, in);
    return AS_EINVAL;
}

int as_outdir_check_input(const char *dir, const char *in, char *err,
                          size_t errcap)
{
    struct stat sd, sp;
    char p[PATH_MAX];
    if (!dir || !in || stat(dir, &sd) != 0 || !realpath(in, p)) return AS_OK;
    for (;;) {
        if (stat(p, &sp) == 0 && sp.st_dev == sd.st_dev &&
            sp.st_ino == sd.st_ino) {
            snprintf(err, errcap,
                     "%s: holds the input %s; a run directory is written as "
                     "a whole, which would destroy it: choose another "
                     "output directory",
                     dir, in);
            return AS_EINVAL;
        }
        char *slash = strrchr(p, '/');
        if (!slash || slash == p) break;
        *slash = 0;
    }
    if (stat("/", &sp) == 0 && sp.st_dev == sd.st_dev &&
        sp.st_ino == sd.st_ino) {
        snprintf(err, errcap,
                 "%s: holds the input %s: choose another output "
                 "directory",
                 dir, in);
        return AS_EINVAL;
    }
    return AS_OK;
}

static int stdout_reported; /* a write error was already reported */

int as_stdout_flush(const char *who)
{
    int e0 = errno; /* a caller that just saw a write fail calls at once */
    errno = 0;
    if (fflush(stdout) == 0 && !ferror(stdout)) return 0;
    int e = errno ? errno : e0;
    if (!stdout_reported && e != EPIPE)
        fprintf(stderr, "%s: standard output: %s\n", who,
                e ? strerror(e) : "write error");
    stdout_reported = 1;
    return 1;
}

int as_stdout_finish(const char *who, int rc)
{
    int bad = as_stdout_flush(who);
    errno = 0;
    if (fclose(stdout) != 0 && !bad) {
        int e = errno;
        if (e != EPIPE)
            fprintf(stderr, "%s: standard output: %s\n", who,
                    e ? strerror(e) : "write error");
        bad = 1;
    }
    return bad && rc == 0 ? 1 : rc;
}

int as_file_read_all(const char *path, char **buf, size_t *len, char *err,
                     size_t errcap)
{
    *buf = NULL;
    *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errcap, "%s: cannot open: %s", path, strerror(errno));
        return AS_EIO;
    }
    size_t cap = 1 << 16, n = 0, got;
    char *b = malloc(cap + 1);
    while (b && (got = fread(b + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            char *nb = realloc(b, cap * 2 + 1);
            if (!nb) {
                free(b);
                b = NULL;
                break;
            }
            b = nb;
            cap *= 2;
        }
    }
    int ioerr = ferror(f);
    fclose(f);
    if (!b) {
        snprintf(err, errcap, "%s: out of memory reading it", path);
        return AS_ENOMEM;
    }
    if (ioerr) {
        free(b);
        snprintf(err, errcap, "%s: read error", path);
        return AS_EIO;
    }
    b[n] = 0;
    *buf = b;
    *len = n;
    return AS_OK;
}

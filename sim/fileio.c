/* fileio.c - complete-or-absent output files and whole-file reads for the
 * simulator and its command line (see fileio.h). Host code: uses stdio. */
#include "sim/fileio.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"

int as_outfile_open(as_outfile_t *o, const char *path, char *err, size_t errcap)
{
    memset(o, 0, sizeof *o);
    if ((size_t)snprintf(o->path, sizeof o->path, "%s", path) >=
        sizeof o->path) {
        snprintf(err, errcap, "%s: path too long", path);
        return AS_EINVAL;
    }
    snprintf(o->tmp, sizeof o->tmp, "%s.tmp", o->path);
    o->f = fopen(o->tmp, "w");
    if (!o->f) {
        snprintf(err, errcap, "%s: cannot write: %s", o->tmp, strerror(errno));
        return AS_EIO;
    }
    return AS_OK;
}

int as_outfile_close(as_outfile_t *o, int keep, char *err, size_t errcap)
{
    if (!o->f) return AS_OK;
    int ok = !ferror(o->f);
    ok = (fclose(o->f) == 0) && ok;
    o->f = NULL;
    if (!keep) {
        remove(o->tmp);
        return AS_OK;
    }
    if (ok && rename(o->tmp, o->path) == 0) return AS_OK;
    snprintf(err, errcap, "%s: cannot write: %s", o->path,
             errno ? strerror(errno) : "write error");
    remove(o->tmp);
    return AS_EIO;
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

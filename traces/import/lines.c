/* lines.c - line reader over plain, zstd and gzip text (see lines.h).
 *
 * It owns one input (a FILE, or the pipe from a `gzip -dc` child) and a
 * growing line buffer. It never interprets the lines; the importers do.
 */
#include "traces/import/lines.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zstd.h>

#include "common/error.h"
#include "common/escape.h"

enum { SRC_PLAIN, SRC_ZSTD, SRC_GZIP };

struct as_lines {
    const char *path;
    int kind;
    FILE *f; /* the file, or the pipe from gzip */
    pid_t gzip_pid;
    ZSTD_DStream *zd;
    uint8_t *zin; /* compressed input buffer */
    ZSTD_inBuffer in;
    size_t zin_cap;
    int zframe_open; /* inside a zstd frame (EOF there = truncated) */
    /* decoded bytes not yet split into lines: buf[pos, end) */
    char *buf;
    size_t cap, pos, end;
    int eof;
    uint64_t lineno;
    uint64_t decoded_bytes; /* bytes of text read so far */
};

static void errf(char *err, size_t cap, const char *path, const char *what)
{
    if (err && cap) snprintf(err, cap, "%s: %s", path, what);
}

int as_lines_open(as_lines_t **out, const char *path, char *err, size_t errcap)
{
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) {
        errf(err, errcap, path, strerror(errno));
        return AS_EIO;
    }
    uint8_t magic[4] = {0};
    size_t got = fread(magic, 1, 4, f);
    rewind(f);
    as_lines_t *l = calloc(1, sizeof *l);
    if (!l) {
        fclose(f);
        return AS_ENOMEM;
    }
    l->path = path;
    l->f = f;
    l->cap = 1 << 16;
    l->buf = malloc(l->cap);
    if (!l->buf) {
        as_lines_close(l);
        return AS_ENOMEM;
    }
    if (got == 4 && magic[0] == 0x28 && magic[1] == 0xb5 && magic[2] == 0x2f &&
        magic[3] == 0xfd) {
        l->kind = SRC_ZSTD;
        l->zd = ZSTD_createDStream();
        l->zin_cap = ZSTD_DStreamInSize();
        l->zin = malloc(l->zin_cap);
        if (!l->zd || !l->zin) {
            as_lines_close(l);
            return AS_ENOMEM;
        }
        ZSTD_initDStream(l->zd);
        l->in.src = l->zin;
        l->in.size = l->in.pos = 0;
    } else if (got >= 2 && magic[0] == 0x1f && magic[1] == 0x8b) {
        /* gzip: let gzip(1) decode; we read its stdout */
        int fds[2];
        if (pipe(fds) != 0) {
            errf(err, errcap, path, strerror(errno));
            as_lines_close(l);
            return AS_EIO;
        }
        pid_t pid = fork();
        if (pid < 0) {
            errf(err, errcap, path, strerror(errno));
            close(fds[0]);
            close(fds[1]);
            as_lines_close(l);
            return AS_EIO;
        }
        if (pid == 0) {
            int null = open("/dev/null", O_WRONLY);
            dup2(fds[1], 1);
            if (null >= 0) dup2(null, 2); /* our own message names the file */
            close(fds[0]);
            close(fds[1]);
            execlp("gzip", "gzip", "-dc", "--", path, (char *)NULL);
            _exit(127);
        }
        close(fds[1]);
        fclose(l->f);
        l->f = fdopen(fds[0], "rb");
        l->gzip_pid = pid;
        l->kind = SRC_GZIP;
        if (!l->f) {
            close(fds[0]);
            as_lines_close(l);
            return AS_ENOMEM;
        }
    }
    *out = l;
    return AS_OK;
}

const char *as_lines_compression(const as_lines_t *l)
{
    return l->kind == SRC_ZSTD ? "zstd" : l->kind == SRC_GZIP ? "gzip" : "none";
}

uint64_t as_lines_lineno(const as_lines_t *l)
{
    return l->lineno;
}

/* fill: append decoded bytes to buf[end..]. @return bytes (0 at EOF) or
 * a negative error. */
static long fill(as_lines_t *l, char *err, size_t errcap)
{
    if (l->cap - l->end < 4096) {
        if (l->pos > 0) { /* slide */
            memmove(l->buf, l->buf + l->pos, l->end - l->pos);
            l->end -= l->pos;
            l->pos = 0;
        }
        if (l->cap - l->end < 4096) {
            char *nb = realloc(l->buf, l->cap * 2);
            if (!nb) return AS_ENOMEM;
            l->buf = nb;
            l->cap *= 2;
        }
    }
    if (l->kind != SRC_ZSTD) {
        size_t n = fread(l->buf + l->end, 1, l->cap - l->end, l->f);
        if (n == 0 && ferror(l->f)) {
            errf(err, errcap, l->path, strerror(errno));
            return AS_EIO;
        }
        l->end += n;
        l->decoded_bytes += n;
        return (long)n;
    }
    for (;;) {
        if (l->in.pos == l->in.size) {
            size_t n = fread(l->zin, 1, l->zin_cap, l->f);
            if (n == 0) {
                if (ferror(l->f)) {
                    errf(err, errcap, l->path, strerror(errno));
                    return AS_EIO;
                }
                if (l->zframe_open) {
                    errf(err, errcap, l->path,
                         "expected more zstd data: the file is truncated");
                    return AS_ECORRUPT;
                }
                return 0;
            }
            l->in.size = n;
            l->in.pos = 0;
        }
        ZSTD_outBuffer o = {l->buf + l->end, l->cap - l->end, 0};
        size_t r = ZSTD_decompressStream(l->zd, &o, &l->in);
        if (ZSTD_isError(r)) {
            char what[160];
            snprintf(what, sizeof what, "expected valid zstd data: %s",
                     ZSTD_getErrorName(r));
            errf(err, errcap, l->path, what);
            return AS_ECORRUPT;
        }
        l->zframe_open = r != 0;
        l->end += o.pos;
        l->decoded_bytes += o.pos;
        if (o.pos > 0) return (long)o.pos;
    }
}

int as_lines_next(as_lines_t *l, char **line, size_t *len, char *err,
                  size_t errcap)
{
    size_t scan = l->pos;
    for (;;) {
        char *nl = memchr(l->buf + scan, '\n', l->end - scan);
        if (nl) {
            *nl = 0;
            *line = l->buf + l->pos;
            *len = (size_t)(nl - (l->buf + l->pos));
            l->pos = (size_t)(nl - l->buf) + 1;
            l->lineno++;
            return 1;
        }
        if (l->eof) {
            if (l->pos == l->end) return 0;
            /* Every tool we read ends each line with '\n': a last line
             * without one means the file was cut mid-line. */
            if (err && errcap)
                snprintf(err, errcap,
                         "%s:%" PRIu64 ": expected a line ending in a "
                         "newline, found the end of the %s at byte %" PRIu64
                         " after %zu bytes of the line (the file is cut "
                         "short)",
                         l->path, l->lineno + 1,
                         l->kind == SRC_PLAIN ? "file" : "decompressed data",
                         l->decoded_bytes, l->end - l->pos);
            return AS_ETRUNCATED;
        }
        size_t before = l->pos;
        long n = fill(l, err, errcap);
        if (n < 0) return (int)n;
        if (n == 0) l->eof = 1;
        scan = l->end - (size_t)(n > 0 ? n : 0);
        if (scan < l->pos) scan = l->pos;
        (void)before;
    }
}

int as_lines_close(as_lines_t *l)
{
    int rc = AS_OK;
    if (!l) return rc;
    if (l->f) fclose(l->f);
    if (l->gzip_pid > 0) {
        int st;
        while (waitpid(l->gzip_pid, &st, 0) < 0 && errno == EINTR) {
        }
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) rc = AS_ECORRUPT;
    }
    if (l->zd) ZSTD_freeDStream(l->zd);
    free(l->zin);
    free(l->buf);
    free(l);
    return rc;
}

int as_lines_error(char *err, size_t errcap, const char *path, uint64_t line,
                   const char *fmt, ...)
{
    char what[200], safe[4 * sizeof what];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    /* WHAT may quote bytes of the input line: escape them */
    size_t wl = n < 0 ? 0 : (size_t)n < sizeof what ? (size_t)n : strlen(what);
    as_escape(safe, sizeof safe, what, wl);
    snprintf(err, errcap, "%s:%" PRIu64 ": expected %s", path, line, safe);
    return AS_EFORMAT;
}

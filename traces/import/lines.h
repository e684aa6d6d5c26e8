/* lines.h - read a text file line by line, zstd- or gzip-compressed or
 * plain (internal to traces/import/: the heaptrack and mtrace importers).
 *
 * The compression is found from the first bytes (zstd magic 28 b5 2f fd,
 * gzip 1f 8b). zstd is decoded in process with libzstd (already a
 * dependency); gzip by running `gzip -dc FILE` and reading its output, so
 * the build takes no zlib dependency. A decoding failure is an error (never
 * a silently short file).
 */
#ifndef AS_TRACES_IMPORT_LINES_H
#define AS_TRACES_IMPORT_LINES_H

#include <stddef.h>
#include <stdint.h>

typedef struct as_lines as_lines_t;

/* as_lines_open: @return 0, AS_EIO (cannot open; err says why), AS_ENOMEM. */
int as_lines_open(as_lines_t **l, const char *path, char *err, size_t errcap);

/* as_lines_next: the next line without its '\n' (NUL-terminated, valid
 * until the next call). @return 1 line, 0 end of input, AS_ETRUNCATED (the
 * input ends inside a line, without its '\n': a file cut short; err says
 * "PATH:LINE: ..." and the byte offset), AS_ECORRUPT (decompression
 * failed; err says where), AS_EIO, AS_ENOMEM. */
int as_lines_next(as_lines_t *l, char **line, size_t *len, char *err,
                  size_t errcap);

/* as_lines_lineno: 1-based number of the line last returned. */
uint64_t as_lines_lineno(const as_lines_t *l);

/* as_lines_compression: "zstd", "gzip" or "none". */
const char *as_lines_compression(const as_lines_t *l);

/* as_lines_error: write "PATH:LINE: expected WHAT" (printf-style WHAT,
 * passed through as_escape because it may quote bytes of the input) into
 * err. @return AS_EFORMAT, for `return as_lines_error(...)`. */
int as_lines_error(char *err, size_t errcap, const char *path, uint64_t line,
                   const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* as_lines_close: @return 0, or AS_ECORRUPT when `gzip -dc` failed. */
int as_lines_close(as_lines_t *l);

#endif /* AS_TRACES_IMPORT_LINES_H */

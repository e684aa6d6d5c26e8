/* import.h - the registry of trace import formats (`allocsim import`).
 *
 * An importer reads a foreign file (a text trace, a heaptrack file, glibc
 * mtrace output, ...) and replays it into an open trace writer. All formats
 * live in one table, as_import_formats[] in import.c, one line per format;
 * `allocsim import --format X` finds X there and lists the table when X is
 * unknown. Importers are library code: they never print; they fill `err`
 * with "FILE:LINE: expected ..." (or "FILE: offset N: ...") and return an
 * AS_E* code. The caller owns the writer: on error it aborts it, so no
 * output file is left behind.
 */
#ifndef AS_TRACES_IMPORT_IMPORT_H
#define AS_TRACES_IMPORT_IMPORT_H

#include <stddef.h>
#include <stdint.h>

#include "traces/trace.h"

typedef struct {
    uint64_t max_events; /* stop after this many events; 0 = no limit */
    int match_lifo;      /* heaptrack interpreted files: a free takes the
                            newest live object of its (size, stack) pair
                            (LIFO) instead of the oldest (FIFO, 0) */
    /* out: set by an importer that imported every whole record but found
     * the input without the records its producer writes last (a heaptrack
     * raw file without its closing 'c'/'R' pair): the input is probably cut
     * short. The reason is in `warning`; the trace is marked with the
     * metadata key import.truncated. */
    int truncated;
    char warning[512];
} as_import_opts_t;

/* An import function: read in_path, write events and definitions to w.
 * @return 0; AS_EFORMAT (bad input; err says where), AS_EIO (cannot read
 * in_path), AS_ENOMEM, or the writer's error. */
typedef int (*as_import_fn_t)(const char *in_path, as_trace_writer_t *w,
                              as_import_opts_t *opts, char *err, size_t errcap);

typedef struct {
    const char *name;   /* --format name */
    const char *doc;    /* one line for --help */
    as_import_fn_t run; /* the importer */
} as_import_format_t;

/* The table, terminated by a {NULL, NULL, NULL} entry. */
extern const as_import_format_t as_import_formats[];

/* as_import_find: @return the format called `name`, or NULL. */
const as_import_format_t *as_import_find(const char *name);

/* Importers (one declaration per format, in table order). */
int as_import_text(const char *in_path, as_trace_writer_t *w,
                   as_import_opts_t *opts, char *err, size_t errcap);
int as_import_heaptrack(const char *in_path, as_trace_writer_t *w,
                        as_import_opts_t *opts, char *err, size_t errcap);
int as_import_mtrace(const char *in_path, as_trace_writer_t *w,
                     as_import_opts_t *opts, char *err, size_t errcap);

#endif /* AS_TRACES_IMPORT_IMPORT_H */

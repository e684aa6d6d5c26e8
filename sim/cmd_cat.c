/* cmd_cat.c - `allocsim cat TRACE`: print a trace in the text form.
 *
 * Prints the header metadata first, then every record in file order
 * (definitions where they occur, so they precede their first use), one per
 * line, in the canonical spelling of traces/textform.c; `allocsim import
 * --format text` reads it back to a trace that prints identically. A
 * truncated trace is printed up to its last whole chunk with a warning on
 * stderr; a corrupt one stops at the error (exit 2).
 */
#include <stdio.h>
#include <string.h>

#include "common/error.h"
#include "traces/textform.h"
#include "traces/trace.h"
#include "sim/cli.h"
#include "sim/fileio.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: allocsim cat TRACE\n\n"
               "Print TRACE as text: header metadata, then one record per "
               "line:\n"
               "  meta KEY VALUE\n"
               "  frame ID 0xPC 0xOFFSET MODULE SYMBOL\n"
               "  stack ID FRAME...\n"
               "  a T_NS THREAD CPU ID SIZE ALIGN STACK\n"
               "  f T_NS THREAD CPU ID\n"
               "  r T_NS THREAD CPU OLD NEW SIZE ALIGN STACK\n"
               "Strings are escaped (%%XX for space, control bytes and %%; "
               "'-' for empty).\n"
               "See docs/trace-format.md. `allocsim import --format text` "
               "reads it back.\n");
}

int as_cmd_cat(int argc, char **argv)
{
    const char *path = NULL;
    for (int i = 1; i < argc; i++) {
        if (as_cli_is_help(argv[i])) {
            usage(stdout);
            return AS_EXIT_OK;
        }
        if (argv[i][0] == '-' && argv[i][1]) {
            fprintf(stderr, "allocsim cat: unknown option '%s'\n", argv[i]);
            usage(stderr);
            return AS_EXIT_USAGE;
        }
        if (path) {
            fprintf(stderr,
                    "allocsim cat: expected one TRACE, found '%s' "
                    "too\n",
                    argv[i]);
            return AS_EXIT_USAGE;
        }
        path = argv[i];
    }
    if (!path) {
        usage(stderr);
        return AS_EXIT_USAGE;
    }
    as_trace_reader_t *r;
    int rc = as_trace_reader_open(&r, path);
    if (rc) {
        fprintf(stderr, "allocsim cat: %s\n",
                r ? as_trace_reader_error(r) : as_strerror(rc));
        as_trace_reader_close(r);
        return rc == AS_ENOMEM ? AS_EXIT_FAIL : AS_EXIT_USAGE;
    }
    static char obuf[1 << 16];
    setvbuf(stdout, obuf, _IOFBF, sizeof obuf);
    as_textbuf_t b = {0};
    const char *k, *v;
    for (size_t i = 0; as_trace_reader_meta_at(r, i, &k, &v) == 0; i++)
        if (as_text_format_meta(&b, k, v)) rc = AS_ENOMEM;
    as_trace_record_t rec;
    while (!rc && (rc = as_trace_reader_next_record(r, &rec)) == 1) {
        rc = as_text_format_record(&b, &rec);
        if (!rc && b.len >= (1 << 16)) {
            fwrite(b.p, 1, b.len, stdout);
            b.len = 0;
            if (ferror(stdout)) break; /* full disk, closed pipe: stop */
        }
    }
    if (b.len) fwrite(b.p, 1, b.len, stdout);
    as_textbuf_free(&b);
    int exit_code = AS_EXIT_OK;
    if (as_stdout_flush("allocsim cat")) {
        exit_code = AS_EXIT_FAIL;
    } else if (rc < 0) {
        fprintf(stderr, "allocsim cat: %s\n",
                rc == AS_ENOMEM ? "out of memory" : as_trace_reader_error(r));
        exit_code = rc == AS_ENOMEM ? AS_EXIT_FAIL : AS_EXIT_USAGE;
    } else if (as_trace_reader_truncated(r)) {
        fprintf(stderr, "allocsim cat: warning: %s\n",
                as_trace_reader_error(r));
    }
    as_trace_reader_close(r);
    return exit_code;
}

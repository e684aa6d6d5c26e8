/* cmd_cat.c - `allocsim cat TRACE`: print a trace in the text form.
 *
 * Prints the header metadata first, then every record in file order
 * (definitions where they occur, so they precede their first use), one per
 * line, in the canonical spelling of traces/textform.c; `allocsim import
 * --format text` reads it back to a trace that prints identically. A
 * truncated trace is printed up to its last whole chunk with a warning on
 * stderr; a corrupt one stops at the error (exit 2). TRACE `-` is standard
 * input.
 */
#include <stdio.h>
#include <string.h>

#include "common/error.h"
#include "traces/textform.h"
#include "traces/trace.h"
#include "sim/cli.h"
#include "sim/fileio.h"

static const as_opt_t cat_opts[] = {{0}};

const as_opt_t *const as_cmd_cat_opts[] = {cat_opts, NULL};

static void usage(FILE *f)
{
    fprintf(f, "usage: allocsim cat TRACE   (TRACE - is standard input)\n\n"
               "Print TRACE as text: header metadata, then one record per "
               "line:\n"
               "  meta KEY VALUE\n"
               "  frame ID 0xPC 0xOFFSET MODULE SYMBOL\n"
               "  stack ID FRAME...\n"
               "  a T_NS THREAD CPU ID SIZE ALIGN STACK [HEIGHT]\n"
               "  f T_NS THREAD CPU ID\n"
               "  r T_NS THREAD CPU OLD NEW SIZE ALIGN STACK [HEIGHT]\n"
               "  s T_NS RSS_BYTES ANON_HUGE_BYTES   (a real-memory sample; "
               "- = not measured)\n"
               "HEIGHT, the stack height in bytes, is printed when the "
               "trace has it.\n"
               "Strings are escaped (%%XX for space, control bytes and %%; "
               "'-' for empty).\n"
               "See docs/trace-format.md. `allocsim import --format text` "
               "reads it back.\n");
    as_opts_help(f, as_cmd_cat_opts);
}

int as_cmd_cat(int argc, char **argv)
{
    const char *path = NULL;
    as_opts_t p;
    as_opts_init(&p, "cat", as_cmd_cat_opts, argc, argv);
    for (int c; (c = as_opts_next(&p)) != AS_OPT_END;) {
        if (c == AS_OPT_ERROR) return AS_EXIT_USAGE;
        if (c == AS_OPT_HELP) {
            usage(stdout);
            return AS_EXIT_OK;
        }
        if (path) {
            as_cli_err("expected one TRACE, found '%s' too", p.text);
            return AS_EXIT_USAGE;
        }
        path = p.text;
    }
    if (!path) {
        as_cli_err("expected a TRACE (see allocsim cat --help)");
        return AS_EXIT_USAGE;
    }
    if (!(path = as_cli_input(path))) return AS_EXIT_FAIL;
    as_trace_reader_t *r;
    int rc = as_trace_reader_open(&r, path);
    if (rc) {
        as_cli_err("%s", r ? as_trace_reader_error(r) : as_strerror(rc));
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
        as_cli_err("%s", rc == AS_ENOMEM ? "out of memory"
                                         : as_trace_reader_error(r));
        exit_code = rc == AS_ENOMEM ? AS_EXIT_FAIL : AS_EXIT_USAGE;
    } else if (as_trace_reader_truncated(r)) {
        as_cli_err("warning: %s", as_trace_reader_error(r));
    }
    as_trace_reader_close(r);
    return exit_code;
}

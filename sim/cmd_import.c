/* cmd_import.c - `allocsim import -f FORMAT FILE -o TRACE`.
 *
 * Finds F in the import registry (traces/import/import.h), opens a trace
 * writer on TRACE (written to TRACE.tmp and renamed on success) and lets the
 * importer fill it. On any error the writer is aborted, so no output file is
 * left behind, and the importer's "FILE:LINE: expected ..." message goes to
 * stderr with exit status 2 (bad input) or 1 (the work failed). FILE `-`
 * is standard input (spooled, see as_cli_input); `-o -` streams the trace to
 * standard output.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/error.h"
#include "traces/import/import.h"
#include "traces/trace.h"
#include "sim/cli.h"
#include "sim/fileio.h"

enum {
    OPT_FORMAT = 1,
    OPT_OUTPUT,
    OPT_CHUNK_EVENTS,
    OPT_MAX_EVENTS,
    OPT_MATCH,
    OPT_ALLOW_TRUNCATED
};

static const as_opt_t import_opts[] = {
    AS_OPT_ROW_TEXT(OPT_FORMAT, "format", 'f', "FORMAT",
                    "input format (required; below)"),
    AS_OPT_ROW_TEXT(OPT_OUTPUT, "output", 'o', "TRACE",
                    "output trace (required; written atomically);\n"
                    "- for standard output"),
    AS_OPT_ROW_NUM(OPT_CHUNK_EVENTS, "chunk-events", 0, AS_PARAM_U64, 1,
                   4294967295.0, "N", "events per chunk (default 64K = 65536)"),
    AS_OPT_ROW_NUM(OPT_MAX_EVENTS, "max-events", 0, AS_PARAM_U64, 1,
                   18446744073709551615.0, "N",
                   "stop after N events (default: all)"),
    AS_OPT_ROW_CHOICE(OPT_MATCH, "match", 0, "fifo|lifo", "fifo|lifo",
                      "heaptrack interpreted files: free the oldest (fifo,\n"
                      "default) or newest (lifo) live object of a pair"),
    AS_OPT_ROW_FLAG(OPT_ALLOW_TRUNCATED, "allow-truncated", 0,
                    "exit 0, not 3, when FILE looks cut short (a heaptrack\n"
                    "raw file without its closing records)"),
    {0},
};

const as_opt_t *const as_cmd_import_opts[] = {import_opts, NULL};

static void list_formats(FILE *f)
{
    for (const as_import_format_t *x = as_import_formats; x->name; x++)
        fprintf(f, "  %-10s %s\n", x->name, x->doc);
}

static void usage(FILE *f)
{
    fprintf(f, "usage: allocsim import -f FORMAT FILE -o TRACE [options]\n\n"
               "Convert FILE into an allocsim trace; FILE - is standard "
               "input.\n");
    as_opts_help(f, as_cmd_import_opts);
    fprintf(f, "\nformats:\n");
    list_formats(f);
    fprintf(f, "\nimport also exits 3 when FILE looks cut short: the trace "
               "holds every whole\nrecord and is marked import.truncated "
               "(--allow-truncated makes that 0).\n");
}

int as_cli_trace_output(const char *in, const char *out,
                        const as_trace_writer_opts_t *o, const char **in_path,
                        as_trace_writer_t **w)
{
    *w = NULL;
    if (as_cli_is_stdio(out) && isatty(1)) {
        as_cli_err("-o -: standard output is a terminal; a trace is binary");
        return AS_EXIT_USAGE;
    }
    if (!(*in_path = as_cli_input(in))) return AS_EXIT_FAIL;
    char ierr[8400];
    if (!as_cli_is_stdio(out) &&
        as_outfile_check_input(out, *in_path, ierr, sizeof ierr)) {
        as_cli_err("%s", ierr);
        return AS_EXIT_USAGE;
    }
    int rc = as_cli_is_stdio(out) ? as_trace_writer_open_fd(w, 1, o)
                                  : as_trace_writer_open(w, out, o);
    if (rc) {
        as_cli_err("%s", *w ? as_trace_writer_error(*w) : as_strerror(rc));
        as_trace_writer_abort(*w);
        *w = NULL;
        return rc == AS_EINVAL ? AS_EXIT_USAGE : AS_EXIT_FAIL;
    }
    return 0;
}

int as_cmd_import(int argc, char **argv)
{
    const char *format = NULL, *in = NULL, *out = NULL;
    as_import_opts_t opts = {0};
    int allow_truncated = 0;
    as_trace_writer_opts_t wopts = {0, 0, 0};
    as_opts_t p;
    as_opts_init(&p, "import", as_cmd_import_opts, argc, argv);
    for (int c; (c = as_opts_next(&p)) != AS_OPT_END;) {
        switch (c) {
        case AS_OPT_ERROR:
            return AS_EXIT_USAGE;
        case AS_OPT_HELP:
            usage(stdout);
            return AS_EXIT_OK;
        case OPT_FORMAT:
            format = p.text;
            break;
        case OPT_OUTPUT:
            out = p.text;
            break;
        case OPT_CHUNK_EVENTS:
            wopts.chunk_events = (uint32_t)p.value.u;
            break;
        case OPT_MAX_EVENTS:
            opts.max_events = p.value.u;
            break;
        case OPT_MATCH:
            opts.match_lifo = p.value.u == 1;
            break;
        case OPT_ALLOW_TRUNCATED:
            allow_truncated = 1;
            break;
        default: /* AS_OPT_ARG */
            if (in) {
                as_cli_err("expected one input FILE, found '%s' too", p.text);
                return AS_EXIT_USAGE;
            }
            in = p.text;
        }
    }
    if (!format || !in || !out) {
        as_cli_err("expected -f FORMAT, FILE and -o TRACE (see allocsim "
                   "import --help)");
        return AS_EXIT_USAGE;
    }
    const as_import_format_t *fmt = as_import_find(format);
    if (!fmt) {
        as_cli_err("unknown format '%s'; formats:", format);
        list_formats(stderr);
        return AS_EXIT_USAGE;
    }
    const char *in_path;
    as_trace_writer_t *w;
    int rc = as_cli_trace_output(in, out, &wopts, &in_path, &w);
    if (rc) return rc;
    char err[1024] = "";
    rc = fmt->run(in_path, w, &opts, err, sizeof err);
    if (rc) {
        as_cli_err("%s", err[0] ? err : as_strerror(rc));
        as_trace_writer_abort(w);
        return rc == AS_ENOMEM ? AS_EXIT_FAIL : AS_EXIT_USAGE;
    }
    char cerr[1024];
    rc = as_trace_writer_close_err(w, cerr, sizeof cerr);
    if (rc) {
        fprintf(stderr, "allocsim import: cannot finish the trace: %s\n", cerr);
        return AS_EXIT_FAIL;
    }
    if (opts.truncated) {
        as_cli_err("warning: %s", opts.warning);
        if (!allow_truncated) return AS_EXIT_TRUNCATED;
    }
    return AS_EXIT_OK;
}

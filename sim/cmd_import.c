/* cmd_import.c - `allocsim import --format F FILE -o TRACE`.
 *
 * Finds F in the import registry (traces/import/import.h), opens a trace
 * writer on TRACE (written to TRACE.tmp and renamed on success) and lets the
 * importer fill it. On any error the writer is aborted, so no output file is
 * left behind, and the importer's "FILE:LINE: expected ..." message goes to
 * stderr with exit status 2 (bad input) or 1 (the work failed).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "traces/import/import.h"
#include "traces/trace.h"
#include "sim/cli.h"
#include "sim/fileio.h"

static void list_formats(FILE *f)
{
    for (const as_import_format_t *x = as_import_formats; x->name; x++)
        fprintf(f, "  %-10s %s\n", x->name, x->doc);
}

static void usage(FILE *f)
{
    fprintf(f, "usage: allocsim import --format FORMAT FILE -o TRACE "
               "[options]\n\n"
               "Convert FILE into an allocsim trace.\n\n"
               "options:\n"
               "  --format F         input format (below)\n"
               "  -o, --output TRACE output trace (written atomically)\n"
               "  --chunk-events N   events per chunk (default 65536)\n"
               "  --max-events N     stop after N events\n"
               "  --match fifo|lifo  heaptrack interpreted files: free the "
               "oldest (fifo,\n"
               "                     default) or newest (lifo) live object "
               "of a pair\n\n"
               "formats:\n");
    list_formats(f);
}

static int parse_u64(const char *s, uint64_t *v)
{
    char *end;
    if (!*s || *s == '-') return -1;
    unsigned long long x = strtoull(s, &end, 10);
    if (*end) return -1;
    *v = x;
    return 0;
}

int as_cmd_import(int argc, char **argv)
{
    const char *format = NULL, *in = NULL, *out = NULL;
    as_import_opts_t opts = {0};
    as_trace_writer_opts_t wopts = {0, 0};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (as_cli_is_help(a)) {
            usage(stdout);
            return AS_EXIT_OK;
        }
        int has_val = i + 1 < argc;
        uint64_t v;
        if (strcmp(a, "--format") == 0 && has_val) {
            format = argv[++i];
        } else if ((strcmp(a, "-o") == 0 || strcmp(a, "--output") == 0) &&
                   has_val) {
            out = argv[++i];
        } else if (strcmp(a, "--chunk-events") == 0 && has_val) {
            if (parse_u64(argv[++i], &v) || v == 0 || v > UINT32_MAX) {
                fprintf(stderr,
                        "allocsim import: --chunk-events: expected "
                        "1..%u, found '%s'\n",
                        UINT32_MAX, argv[i]);
                return AS_EXIT_USAGE;
            }
            wopts.chunk_events = (uint32_t)v;
        } else if (strcmp(a, "--max-events") == 0 && has_val) {
            if (parse_u64(argv[++i], &v)) {
                fprintf(stderr,
                        "allocsim import: --max-events: expected a "
                        "number, found '%s'\n",
                        argv[i]);
                return AS_EXIT_USAGE;
            }
            opts.max_events = v;
        } else if (strcmp(a, "--match") == 0 && has_val) {
            const char *m = argv[++i];
            if (strcmp(m, "fifo") && strcmp(m, "lifo")) {
                fprintf(stderr,
                        "allocsim import: --match: expected fifo or "
                        "lifo, found '%s'\n",
                        m);
                return AS_EXIT_USAGE;
            }
            opts.match_lifo = strcmp(m, "lifo") == 0;
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr,
                    "allocsim import: unknown option or missing "
                    "value: '%s'\n",
                    a);
            usage(stderr);
            return AS_EXIT_USAGE;
        } else if (!in) {
            in = a;
        } else {
            fprintf(stderr,
                    "allocsim import: expected one input FILE, found "
                    "'%s' too\n",
                    a);
            return AS_EXIT_USAGE;
        }
    }
    if (!format || !in || !out) {
        fprintf(stderr, "allocsim import: expected --format, FILE and -o "
                        "TRACE\n");
        usage(stderr);
        return AS_EXIT_USAGE;
    }
    const as_import_format_t *fmt = as_import_find(format);
    if (!fmt) {
        fprintf(stderr, "allocsim import: unknown format '%s'; formats:\n",
                format);
        list_formats(stderr);
        return AS_EXIT_USAGE;
    }
    char ierr[8400];
    if (as_outfile_check_input(out, in, ierr, sizeof ierr)) {
        fprintf(stderr, "allocsim import: %s\n", ierr);
        return AS_EXIT_USAGE;
    }
    as_trace_writer_t *w;
    int rc = as_trace_writer_open(&w, out, &wopts);
    if (rc) {
        fprintf(stderr, "allocsim import: %s\n",
                w ? as_trace_writer_error(w) : as_strerror(rc));
        as_trace_writer_abort(w);
        return rc == AS_EINVAL ? AS_EXIT_USAGE : AS_EXIT_FAIL;
    }
    char err[1024] = "";
    rc = fmt->run(in, w, &opts, err, sizeof err);
    if (rc) {
        fprintf(stderr, "allocsim import: %s\n",
                err[0] ? err : as_strerror(rc));
        as_trace_writer_abort(w);
        return rc == AS_ENOMEM ? AS_EXIT_FAIL : AS_EXIT_USAGE;
    }
    char cerr[1024];
    rc = as_trace_writer_close_err(w, cerr, sizeof cerr);
    if (rc) {
        fprintf(stderr, "allocsim import: cannot finish the trace: %s\n", cerr);
        return AS_EXIT_FAIL;
    }
    return AS_EXIT_OK;
}

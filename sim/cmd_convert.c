/* cmd_convert.c - `allocsim convert IN -o OUT`: rewrite a trace in the
 * current format.
 *
 * Reads IN (any version the reader knows: 1, 2 or 3) record by record and
 * writes every record, in the same order, through the trace writer: header
 * metadata into the new header, then events, definitions, stream metadata
 * memory samples and write reports where they occur (a trace with write
 * reports cannot be written as format 2, which has no record for them:
 * that fails with the writer's message rather than dropping them). Object ids are implicit in every
 * version, so the events keep their ids (checked as they are written); the
 * converted trace replays to the same figures. The output goes through the
 * writer's output rules (traces/outfile.c: a temporary renamed on success,
 * nothing left behind on failure) and may not be IN itself. A truncated IN
 * converts its whole chunks, with a warning, and exits 3 (as import does).
 */
#include <stdio.h>
#include <string.h>

#include "common/error.h"
#include "traces/trace.h"
#include "sim/cli.h"
#include "sim/fileio.h"

enum { OPT_OUTPUT = 1, OPT_CHUNK_EVENTS, OPT_FORMAT_VERSION };

static const as_opt_t convert_opts[] = {
    AS_OPT_ROW_TEXT(OPT_OUTPUT, "output", 'o', "TRACE",
                    "output trace (required; written atomically; not the\n"
                    "input); - for standard output"),
    AS_OPT_ROW_NUM(OPT_CHUNK_EVENTS, "chunk-events", 0, AS_PARAM_U64, 1,
                   4294967295.0, "N", "events per chunk (default 64K = 65536)"),
    AS_OPT_ROW_NUM(OPT_FORMAT_VERSION, "format-version", 0, AS_PARAM_U64, 2, 3,
                   "V",
                   "format version to write: 3 (default, columnar\n"
                   "chunks) or 2"),
    {0},
};

const as_opt_t *const as_cmd_convert_opts[] = {convert_opts, NULL};

static void usage(FILE *f)
{
    fprintf(f, "usage: allocsim convert TRACE -o OUT [options]\n\n"
               "Rewrite TRACE (format version 1, 2 or 3) in format version "
               "3, the same\nrecords in the same order; TRACE - is standard "
               "input.\n");
    as_opts_help(f, as_cmd_convert_opts);
}

/* copy: every record of r into w. @return 0, or a reader error (< 0,
 * message from r) with *werr 0, or a writer error with *werr 1. */
static int copy(as_trace_reader_t *r, as_trace_writer_t *w, int *werr)
{
    const char *k, *v;
    int rc = 0;
    *werr = 1;
    for (size_t i = 0; !rc && as_trace_reader_meta_at(r, i, &k, &v) == 0; i++)
        rc = as_trace_writer_meta(w, k, v);
    as_trace_record_t rec;
    while (!rc) {
        int got = as_trace_reader_next_record(r, &rec);
        if (got <= 0) {
            *werr = 0;
            return got;
        }
        switch (rec.kind) {
        case AS_TRACE_REC_EVENT: {
            as_event_t ev = rec.event;
            rc = as_trace_writer_event(w, &ev);
            /* the writer numbers objects as the reader did */
            if (!rc && (ev.object != rec.event.object ||
                        ev.new_object != rec.event.new_object))
                return AS_EINVAL;
            break;
        }
        case AS_TRACE_REC_FRAME:
            rc = as_trace_writer_frame(w, rec.id, &rec.frame);
            break;
        case AS_TRACE_REC_STACK:
            rc = as_trace_writer_stack(w, rec.id, rec.frames, rec.depth);
            break;
        case AS_TRACE_REC_META:
            rc = as_trace_writer_meta(w, rec.key, rec.value);
            break;
        case AS_TRACE_REC_SAMPLE:
            rc = as_trace_writer_sample(w, &rec.sample);
            break;
        case AS_TRACE_REC_WRITE:
            /* format 2 cannot hold it: the writer refuses, naming why */
            rc = as_trace_writer_write(w, &rec.write);
            break;
        default:
            rc = AS_EINVAL;
        }
        /* samples and reports were copied as their records came */
        as_trace_reader_drop_kept(r);
    }
    return rc;
}

int as_cmd_convert(int argc, char **argv)
{
    const char *in = NULL, *out = NULL;
    as_trace_writer_opts_t wopts = {0, 0, 0};
    as_opts_t p;
    as_opts_init(&p, "convert", as_cmd_convert_opts, argc, argv);
    for (int c; (c = as_opts_next(&p)) != AS_OPT_END;) {
        switch (c) {
        case AS_OPT_ERROR:
            return AS_EXIT_USAGE;
        case AS_OPT_HELP:
            usage(stdout);
            return AS_EXIT_OK;
        case OPT_OUTPUT:
            out = p.text;
            break;
        case OPT_CHUNK_EVENTS:
            wopts.chunk_events = (uint32_t)p.value.u;
            break;
        case OPT_FORMAT_VERSION:
            wopts.version = (uint32_t)p.value.u;
            break;
        default: /* AS_OPT_ARG */
            if (in) {
                as_cli_err("expected one input TRACE, found '%s' too", p.text);
                return AS_EXIT_USAGE;
            }
            in = p.text;
        }
    }
    if (!in || !out) {
        as_cli_err("expected TRACE and -o OUT (see allocsim convert --help)");
        return AS_EXIT_USAGE;
    }
    const char *in_path;
    as_trace_writer_t *w;
    int rc = as_cli_trace_output(in, out, &wopts, &in_path, &w);
    if (rc) return rc;
    as_trace_reader_t *r;
    rc = as_trace_reader_open(&r, in_path);
    if (rc) {
        as_cli_err("%s", r ? as_trace_reader_error(r) : as_strerror(rc));
        as_trace_reader_close(r);
        as_trace_writer_abort(w);
        return rc == AS_ENOMEM ? AS_EXIT_FAIL : AS_EXIT_USAGE;
    }
    int werr;
    rc = copy(r, w, &werr);
    if (rc) {
        if (werr)
            as_cli_err("%s", rc == AS_EINVAL && !as_trace_writer_error(w)[0]
                                 ? "the writer numbered an object differently"
                                 : as_trace_writer_error(w));
        else
            as_cli_err("%s", as_trace_reader_error(r));
        as_trace_writer_abort(w);
        as_trace_reader_close(r);
        return rc == AS_ENOMEM || rc == AS_EIO ? AS_EXIT_FAIL : AS_EXIT_USAGE;
    }
    char err[1024];
    if (as_trace_writer_close_err(w, err, sizeof err)) {
        as_cli_err("%s", err);
        as_trace_reader_close(r);
        return AS_EXIT_FAIL;
    }
    int exit_code = AS_EXIT_OK;
    if (as_trace_reader_truncated(r)) {
        as_cli_err("warning: %s (the whole chunks were converted)",
                   as_trace_reader_error(r));
        exit_code = AS_EXIT_TRUNCATED;
    }
    as_trace_reader_close(r);
    return exit_code;
}

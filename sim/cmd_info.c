/* cmd_info.c - `allocsim info [--json] TRACE`: what a trace holds.
 *
 * Prints the header metadata and the figures of as_trace_stats()
 * (traces/info.h): event and object counts, duration, peak live bytes and
 * objects, threads, CPUs, chunks and compressed bytes per event, frees of
 * ids that were not live. Text by default, one JSON object with --json.
 * A truncated trace is summarised up to its last whole chunk, with a
 * warning; a corrupt one is an error (exit 2). TRACE `-` is standard input.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/escape.h"
#include "traces/info.h"
#include "traces/trace.h"
#include "sim/cli.h"

enum { OPT_JSON = 1 };

static const as_opt_t info_opts[] = {
    AS_OPT_ROW_FLAG(OPT_JSON, "json", 0, "one JSON object instead of text"),
    {0},
};

const as_opt_t *const as_cmd_info_opts[] = {info_opts, NULL};

static void usage(FILE *f)
{
    fprintf(f, "usage: allocsim info [--json] TRACE\n\n"
               "Print TRACE's header metadata and statistics: events, "
               "objects, duration,\n"
               "peak live bytes and objects, threads, CPUs, chunks, bytes "
               "per event.\n"
               "TRACE - reads the trace from standard input.\n");
    as_opts_help(f, as_cmd_info_opts);
}

/* put_safe: print untrusted s through as_escape (as a JSON string when
 * json), so no escape sequence or invalid UTF-8 reaches the terminal. */
static void json_str(FILE *f, const char *s);
static void put_safe(FILE *f, const char *s, int json)
{
    size_t n = strlen(s), need = as_escape(NULL, 0, s, n) + 1;
    char *e = malloc(need);
    if (e) as_escape(e, need, s, n);
    if (json)
        json_str(f, e ? e : "?");
    else
        fputs(e ? e : "?", f);
    free(e);
}

static void json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(f, "\\%c", *p);
        else if (*p < 0x20)
            fprintf(f, "\\u%04x", *p);
        else
            fputc(*p, f);
    }
    fputc('"', f);
}

int as_cmd_info(int argc, char **argv)
{
    const char *path = NULL;
    int json = 0, c;
    as_opts_t p;
    as_opts_init(&p, "info", as_cmd_info_opts, argc, argv);
    while ((c = as_opts_next(&p)) != AS_OPT_END) {
        if (c == AS_OPT_ERROR) return AS_EXIT_USAGE;
        if (c == AS_OPT_HELP) {
            usage(stdout);
            return AS_EXIT_OK;
        }
        if (c == OPT_JSON) {
            json = 1;
        } else if (path) {
            as_cli_err("expected one TRACE, found '%s' too", p.text);
            return AS_EXIT_USAGE;
        } else {
            path = p.text;
        }
    }
    if (!path) {
        as_cli_err("expected a TRACE (see allocsim info --help)");
        return AS_EXIT_USAGE;
    }
    const char *open_path = as_cli_input(path);
    if (!open_path) return AS_EXIT_FAIL;
    as_trace_reader_t *r;
    int rc = as_trace_reader_open(&r, open_path);
    if (rc) {
        as_cli_err("%s", r ? as_trace_reader_error(r) : as_strerror(rc));
        as_trace_reader_close(r);
        return rc == AS_ENOMEM ? AS_EXIT_FAIL : AS_EXIT_USAGE;
    }
    size_t header_meta = as_trace_reader_meta_count(r);
    as_trace_stats_t s;
    char hash[17];
    rc = as_trace_stats(r, &s);
    if (rc) {
        as_cli_err("%s", rc == AS_ENOMEM ? "out of memory"
                                         : as_trace_reader_error(r));
        as_trace_reader_close(r);
        return rc == AS_ENOMEM ? AS_EXIT_FAIL : AS_EXIT_USAGE;
    }
    if (as_trace_reader_hash(r, hash)) strcpy(hash, "?");
    const char *k, *v;
    if (json) {
        printf("{\"path\": ");
        put_safe(stdout, path, 1);
        printf(", \"format_version\": %u, \"hash\": \"%s\", \"meta\": {",
               s.version, hash);
        for (size_t i = 0; as_trace_reader_meta_at(r, i, &k, &v) == 0; i++) {
            printf(i ? ", " : "");
            put_safe(stdout, k, 1);
            printf(": ");
            put_safe(stdout, v, 1);
        }
        printf(
            "}, \"events\": %" PRIu64 ", \"allocs\": %" PRIu64
            ", \"frees\": %" PRIu64 ", \"reallocs\": %" PRIu64
            ", \"objects\": %" PRIu64 ", \"first_t_ns\": %" PRIu64
            ", \"last_t_ns\": %" PRIu64 ", \"duration_ns\": %" PRIu64
            ", \"requested_bytes\": %" PRIu64 ", \"peak_live_bytes\": %" PRIu64
            ", \"peak_live_objects\": %" PRIu64 ", \"peak_live_t_ns\": %" PRIu64
            ", \"end_live_bytes\": %" PRIu64 ", \"end_live_objects\": %" PRIu64
            ", \"unknown_frees\": %" PRIu64 ", \"threads\": %" PRIu32
            ", \"cpus\": %" PRIu32 ", \"stacks\": %" PRIu32
            ", \"frames\": %" PRIu32 ", \"chunks\": %" PRIu64
            ", \"indexed\": %s, \"file_bytes\": %" PRIu64
            ", \"bytes_per_event\": %.4f, \"truncated\": %s",
            s.events, s.allocs, s.frees, s.reallocs, s.objects, s.first_t_ns,
            s.last_t_ns, s.duration_ns, s.requested_bytes, s.peak_live_bytes,
            s.peak_live_objects, s.peak_live_t_ns, s.end_live_bytes,
            s.end_live_objects, s.unknown_frees, s.threads, s.cpus, s.stacks,
            s.frames, s.chunks, as_trace_reader_has_index(r) ? "true" : "false",
            s.file_bytes, s.bytes_per_event, s.truncated ? "true" : "false");
        printf(
            ", \"height_allocs\": %" PRIu64 ", \"max_stack_height\": %" PRIu64
            ", \"samples\": %" PRIu64 ", \"rss_samples\": %" PRIu64
            ", \"huge_samples\": %" PRIu64 ", \"first_sample_t_ns\": %" PRIu64
            ", \"last_sample_t_ns\": %" PRIu64 ", \"peak_rss_bytes\": %" PRIu64
            ", \"peak_anon_huge_bytes\": %" PRIu64
            ", \"mallinfo_samples\": %" PRIu64
            ", \"peak_mallinfo_heap_bytes\": %" PRIu64
            ", \"peak_mallinfo_arena_bytes\": %" PRIu64
            ", \"peak_mallinfo_hblkhd_bytes\": %" PRIu64
            ", \"peak_mallinfo_inuse_bytes\": %" PRIu64 ", \"writes\": %" PRIu64
            ", \"write_bytes\": %" PRIu64 "}\n",
            s.height_allocs, s.max_stack_height, s.samples, s.rss_samples,
            s.huge_samples, s.first_sample_t_ns, s.last_sample_t_ns,
            s.peak_rss_bytes, s.peak_anon_huge_bytes, s.mallinfo_samples,
            s.peak_mallinfo_heap_bytes, s.peak_mallinfo_arena_bytes,
            s.peak_mallinfo_hblkhd_bytes, s.peak_mallinfo_inuse_bytes, s.writes,
            s.write_bytes);
    } else {
        printf("trace             ");
        put_safe(stdout, path, 0);
        printf("\n");
        printf("format            allocsim trace v%u, hash %s (FNV-1a 64)\n",
               s.version, hash);
        for (size_t i = 0; as_trace_reader_meta_at(r, i, &k, &v) == 0; i++) {
            printf("meta%-14s", i < header_meta ? "" : " (stream)");
            put_safe(stdout, k, 0);
            printf(" = ");
            put_safe(stdout, v, 0);
            printf("\n");
        }
        printf("events            %" PRIu64 " (%" PRIu64 " allocs, %" PRIu64
               " frees, %" PRIu64 " reallocs)\n",
               s.events, s.allocs, s.frees, s.reallocs);
        printf("objects           %" PRIu64 "\n", s.objects);
        printf("duration          %" PRIu64 " ns (%.6f s), t %" PRIu64
               "..%" PRIu64 "\n",
               s.duration_ns, s.duration_ns / 1e9, s.first_t_ns, s.last_t_ns);
        printf("requested bytes   %" PRIu64 "\n", s.requested_bytes);
        printf("peak live bytes   %" PRIu64 " (first at t=%" PRIu64 ")\n",
               s.peak_live_bytes, s.peak_live_t_ns);
        printf("peak live objects %" PRIu64 "\n", s.peak_live_objects);
        printf("live at end       %" PRIu64 " bytes, %" PRIu64 " objects\n",
               s.end_live_bytes, s.end_live_objects);
        printf("unknown frees     %" PRIu64 "\n", s.unknown_frees);
        printf("threads           %" PRIu32 "\n", s.threads);
        printf("cpus              %" PRIu32 "\n", s.cpus);
        printf("stacks, frames    %" PRIu32 ", %" PRIu32 "\n", s.stacks,
               s.frames);
        printf("chunks            %" PRIu64 "%s\n", s.chunks,
               as_trace_reader_has_index(r) ? "" : " (no footer index)");
        printf("file bytes        %" PRIu64 "\n", s.file_bytes);
        printf("bytes/event       %.3f\n", s.bytes_per_event);
        if (s.height_allocs)
            printf("stack heights     %" PRIu64 " allocations, largest %" PRIu64
                   " bytes\n",
                   s.height_allocs, s.max_stack_height);
        if (s.samples) {
            printf("memory samples    %" PRIu64 " (t %" PRIu64 "..%" PRIu64
                   ", %.3f ms apart on average)\n",
                   s.samples, s.first_sample_t_ns, s.last_sample_t_ns,
                   s.samples > 1
                       ? (double)(s.last_sample_t_ns - s.first_sample_t_ns) /
                             1e6 / (double)(s.samples - 1)
                       : 0.0);
            printf("peak real RSS     %" PRIu64 " bytes (%" PRIu64
                   " samples)\n",
                   s.peak_rss_bytes, s.rss_samples);
            printf("peak AnonHugePages %" PRIu64 " bytes (%" PRIu64
                   " samples)\n",
                   s.peak_anon_huge_bytes, s.huge_samples);
            if (s.mallinfo_samples)
                printf("peak mallinfo2    %" PRIu64
                       " bytes arena+hblkhd (arena %" PRIu64 ", hblkhd %" PRIu64
                       ", in use %" PRIu64 "; %" PRIu64 " samples)\n",
                       s.peak_mallinfo_heap_bytes, s.peak_mallinfo_arena_bytes,
                       s.peak_mallinfo_hblkhd_bytes,
                       s.peak_mallinfo_inuse_bytes, s.mallinfo_samples);
        }
        if (s.writes)
            printf("write reports     %" PRIu64 " (%" PRIu64
                   " bytes reported, repeats counted)\n",
                   s.writes, s.write_bytes);
    }
    if (s.truncated) as_cli_err("warning: %s", as_trace_reader_error(r));
    as_trace_reader_close(r);
    return AS_EXIT_OK;
}

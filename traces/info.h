/* info.h - whole-trace statistics (what `allocsim info` prints).
 *
 * as_trace_stats() reads every event of an open trace once and computes
 * counts, duration, peak live bytes/objects (with its own live map: an
 * open-addressing hash from object id to size), distinct threads and CPUs,
 * and the file's size per event. The reader itself does not track liveness;
 * here a free or realloc of an id that is not live (a double free, or an id
 * freed before) is counted in unknown_frees and otherwise ignored.
 */
#ifndef AS_TRACES_INFO_H
#define AS_TRACES_INFO_H

#include <stdint.h>

#include "traces/trace.h"

typedef struct {
    uint64_t events; /* allocs + frees + reallocs */
    uint64_t allocs, frees, reallocs;
    uint64_t objects;           /* ids assigned: allocs + reallocs */
    uint64_t first_t_ns;        /* t of the first event (0 if none) */
    uint64_t last_t_ns;         /* t of the last event */
    uint64_t duration_ns;       /* last_t_ns - first_t_ns */
    uint64_t requested_bytes;   /* sum of sizes of allocs and reallocs */
    uint64_t peak_live_bytes;   /* max over time of the sum of live sizes */
    uint64_t peak_live_objects; /* max over time of live objects */
    uint64_t peak_live_t_ns;    /* first time peak_live_bytes was reached */
    uint64_t end_live_bytes, end_live_objects; /* never freed */
    uint64_t unknown_frees;  /* free/realloc of an id not live */
    uint32_t threads, cpus;  /* distinct values seen */
    uint32_t stacks, frames; /* highest stack / frame id defined */
    uint64_t chunks;         /* whole chunks read */
    uint64_t file_bytes;
    double bytes_per_event; /* file_bytes / events (0 if none) */
    int truncated;          /* as_trace_reader_truncated() after the pass */
    uint32_t version;       /* the file's format version */
    /* format v2: stack heights and real-memory samples */
    uint64_t height_allocs;             /* allocs + reallocs with a height */
    uint64_t max_stack_height;          /* largest stack height */
    uint64_t samples;                   /* real-memory samples */
    uint64_t first_sample_t_ns;         /* time of the first sample */
    uint64_t last_sample_t_ns;          /* time of the last sample */
    uint64_t peak_rss_bytes;            /* largest measured RSS */
    uint64_t peak_anon_huge_bytes;      /* largest measured AnonHugePages */
    uint64_t rss_samples, huge_samples; /* samples measuring each */
    /* samples with glibc's mallinfo2 (record --mallinfo-interval): the
     * largest heap (arena + hblkhd: bytes glibc has from the system), and
     * the largest arena, hblkhd and in-use bytes (uordblks + hblkhd) */
    uint64_t mallinfo_samples;
    uint64_t peak_mallinfo_heap_bytes, peak_mallinfo_arena_bytes;
    uint64_t peak_mallinfo_hblkhd_bytes, peak_mallinfo_inuse_bytes;
    /* format v3: write reports (tag 0x11) and the bytes they report, each
     * report counted whole (reports are cumulative: a range reported again
     * counts again) */
    uint64_t writes, write_bytes;
} as_trace_stats_t;

/* as_trace_stats: rewind `r`, read all of it, fill *s.
 * @return 0, or the reader's error (message in as_trace_reader_error). */
int as_trace_stats(as_trace_reader_t *r, as_trace_stats_t *s);

#endif /* AS_TRACES_INFO_H */

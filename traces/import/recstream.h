/* recstream.h - turn the recorder's byte stream into a trace.
 *
 * The preload recorder (traces/record/record.c) ships records in the layout
 * of traces/record/protocol.h; `allocsim record` feeds whatever bytes arrive
 * on its socket to as_recstream_feed() and calls as_recstream_finish() at
 * end of stream. This is the collector half of the recorder: it restores the
 * global order (records carry a sequence number), maps addresses to object
 * ids, defines stacks and frames, and writes events through a trace writer.
 *
 * Type map
 *   as_recstream_t        collector state (opaque)
 *   as_recstream_stats_t  counts reported at the end
 *
 * Rules (docs/recording.md): a free of an address that is not live in the
 * trace (allocated before recording started, or not sampled) is dropped and
 * counted; time is made non-decreasing (a record stamped a few ns before the
 * previous one in seq order gets the previous time); a new program image
 * (exec) frees every object still live in the old one; a record cut off by
 * the end of the stream is dropped and counted; records the program
 * numbered but never shipped are counted (record.lost_records), and an
 * image that ended without saying so (record.end = cut off) is reported.
 */
#ifndef AS_TRACES_IMPORT_RECSTREAM_H
#define AS_TRACES_IMPORT_RECSTREAM_H

#include <stddef.h>
#include <stdint.h>

#include "traces/trace.h"

typedef struct as_recstream as_recstream_t;

typedef struct {
    uint64_t events; /* events written */
    uint64_t allocs, frees, reallocs;
    uint64_t unmatched_frees; /* frees of addresses not live in the trace */
    uint64_t reused_live;     /* allocations at an address still live */
    uint64_t seq_gaps;        /* records numbered but never received */
    uint64_t partial_bytes;   /* bytes of a cut-off last record */
    uint64_t images;          /* program images (1 + successful execs) */
    uint64_t stacks, frames, symbols;
    uint64_t mem_samples;           /* real-memory samples written */
    uint64_t writes;                /* write records written */
    uint64_t writes_dropped;        /* WRITEs whose object was gone or small */
    uint64_t writes_missing_images; /* images without write reports in a
                                       trace that has them */
    /* lost_records: numbered records the program made that are not in the
     * trace: seq_gaps plus the tail after the last one received, known from
     * each image's MARK (protocol.h). Exact when cut_off == 0; a lower
     * bound otherwise. */
    uint64_t lost_records;
    uint64_t cut_off;    /* images whose stream ended without a MARK */
    int end;             /* how the last image ended: AS_RECSTREAM_END_* */
    uint32_t end_signal; /* AS_RECSTREAM_END_SIGNAL: the signal */
} as_recstream_stats_t;

enum {
    AS_RECSTREAM_END_NONE = 0,   /* no image ever said HELLO */
    AS_RECSTREAM_END_CUT = 1,    /* stream ended without a final MARK */
    AS_RECSTREAM_END_EXIT = 2,   /* exit / _exit */
    AS_RECSTREAM_END_SIGNAL = 3, /* a fatal signal, caught and re-raised */
    AS_RECSTREAM_END_EXEC = 4    /* exec'd an image that never said HELLO */
};

/* as_recstream_open: collect into writer `w` (not owned). @return 0 or
 * AS_ENOMEM. */
int as_recstream_open(as_recstream_t **s, as_trace_writer_t *w);

/* as_recstream_set_resolution: round event times down to a multiple of
 * `ns` (>= 1; 1 = exact, the default). Coarser times compress far better
 * (docs/recording.md has figures). Call before the first feed. */
void as_recstream_set_resolution(as_recstream_t *s, uint64_t ns);

/* as_recstream_feed: consume `len` bytes of the stream (any split).
 * @return 0, AS_EFORMAT (not a recorder stream; as_recstream_error says
 * where), AS_ENOMEM, or the writer's error. */
int as_recstream_feed(as_recstream_t *s, const void *buf, size_t len);

/* as_recstream_finish: end of stream: emit everything still held, apply the
 * symbols, store counts in *st (may be NULL) and as trace metadata
 * (record.lost_records, record.end, ...; docs/recording.md). Does not close
 * the writer. @return 0 or error. */
int as_recstream_finish(as_recstream_t *s, as_recstream_stats_t *st);

/* as_recstream_events: events written so far (for progress output). */
uint64_t as_recstream_events(const as_recstream_t *s);

/* as_recstream_error: message of the last error. */
const char *as_recstream_error(const as_recstream_t *s);

void as_recstream_free(as_recstream_t *s);

#endif /* AS_TRACES_IMPORT_RECSTREAM_H */

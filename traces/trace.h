/* trace.h - allocsim trace format v3 (reads v1 and v2 too): events, real-memory
 * samples, writer, reader.
 *
 * Type map
 *   as_event_t         one logical event: alloc, free or realloc
 *   as_mem_sample_t    one sample of the program's real memory (RSS, anon
 *                      huge-page bytes) at a time of the trace (v2)
 *   as_frame_t         one stack frame definition (pc, module, offset, symbol)
 *   as_trace_writer_t  streaming writer: header, definitions, events -> file
 *   as_trace_reader_t  streaming reader: file -> header, definitions, events
 *   as_trace_chunk_info_t  one entry of the footer index
 *
 * The byte layout is specified in docs/trace-format.md. In short: a file
 * header with key/value metadata, then independently decodable zstd chunks
 * (all deltas restart per chunk), then a footer index of the chunks.
 *
 * Object ids are dense: the n-th allocation (counting realloc's new object)
 * in a trace gets id n, starting at 0. A free names an id, never an address.
 * Stack ids start at 1; 0 means "no stack". Frame ids start at 1.
 * Invariant of a valid trace: every free/realloc names an id that is live,
 * and timestamps never decrease.
 *
 * traces/ is data: it depends on no other part of the tree (only common/).
 */
#ifndef AS_TRACES_TRACE_H
#define AS_TRACES_TRACE_H

#include <stddef.h>
#include <stdint.h>

#define AS_TRACE_VERSION 3u     /* what the writer writes by default */
#define AS_TRACE_VERSION_MIN 1u /* oldest version the reader reads */

typedef enum {
    AS_EV_ALLOC = 1,  /* object (new id) of size/align allocated */
    AS_EV_FREE = 2,   /* object freed */
    AS_EV_REALLOC = 3 /* object freed and new_object (new id) allocated */
} as_event_kind_t;

typedef struct {
    uint8_t kind;          /* as_event_kind_t */
    uint32_t thread;       /* recorder's thread number (dense, from 0) */
    uint32_t cpu;          /* CPU the event ran on */
    uint32_t stack;        /* alloc/realloc: stack id, 0 = none */
    uint64_t t_ns;         /* monotonic nanoseconds since trace start */
    uint64_t object;       /* alloc: the new id; free/realloc: the old id */
    uint64_t new_object;   /* realloc only: the new id */
    uint64_t size;         /* alloc/realloc: requested bytes (0 allowed) */
    uint64_t align;        /* alloc/realloc: requested alignment, 0 = default */
    uint64_t stack_height; /* alloc/realloc: bytes from the top of the
                              thread's stack to the allocating call (what
                              LLAMA keys its cache on); 0 = unknown (always
                              0 in v1 traces) */
} as_event_t;

/* Which fields of a real-memory sample were measured. */
#define AS_SAMPLE_HAS_RSS 0x1u      /* rss_bytes */
#define AS_SAMPLE_HAS_HUGE 0x2u     /* anon_huge_bytes */
#define AS_SAMPLE_HAS_MALLINFO 0x4u /* mallinfo (the real glibc's figures) */
#define AS_SAMPLE_KNOWN                                                        \
    (AS_SAMPLE_HAS_RSS | AS_SAMPLE_HAS_HUGE | AS_SAMPLE_HAS_MALLINFO)

/* glibc's mallinfo2() as the recorded program's allocator reported it: the
 * ten fields in glibc's order (struct mallinfo2, malloc.h), indexed by
 * as_mallinfo_field_t. */
typedef enum {
    AS_MI_ARENA,    /* bytes from the system: heaps and the break */
    AS_MI_ORDBLKS,  /* free chunks (binned, plus one top per arena) */
    AS_MI_SMBLKS,   /* fastbin chunks */
    AS_MI_HBLKS,    /* mmapped chunks */
    AS_MI_HBLKHD,   /* bytes of mmapped chunks */
    AS_MI_USMBLKS,  /* always 0 in glibc */
    AS_MI_FSMBLKS,  /* bytes in fastbin chunks */
    AS_MI_UORDBLKS, /* bytes in use (tcache chunks count as in use) */
    AS_MI_FORDBLKS, /* free bytes (top, fastbins, bins) */
    AS_MI_KEEPCOST, /* the main arena's top */
    AS_MALLINFO_FIELDS
} as_mallinfo_field_t;
typedef struct {
    uint64_t f[AS_MALLINFO_FIELDS];
} as_mallinfo_t;

/* A sample of the recorded program's real memory (format v2), taken at
 * t_ns on the events' clock. In a trace samples never go back in time, and
 * they sit among the events in time order: every event before a sample is
 * at or before its t_ns, every event after it at or after. */
typedef struct {
    uint64_t t_ns;            /* when it was read (trace time) */
    uint64_t rss_bytes;       /* resident set size (AS_SAMPLE_HAS_RSS) */
    uint64_t anon_huge_bytes; /* anonymous memory on huge pages
                                 (AS_SAMPLE_HAS_HUGE: AnonHugePages) */
    uint32_t has;             /* AS_SAMPLE_* bits; others are 0 */
    uint64_t events_before;   /* reader: events of the trace before it */
    as_mallinfo_t mallinfo;   /* AS_SAMPLE_HAS_MALLINFO */
} as_mem_sample_t;

typedef struct {
    uint64_t pc;        /* absolute program counter */
    uint64_t offset;    /* pc - module load base (0 if unknown) */
    const char *module; /* module path, "" if unknown */
    const char *symbol; /* demangled symbol, "" if unknown */
} as_frame_t;

typedef struct {
    uint64_t offset;       /* byte offset of the chunk in the file */
    uint64_t bytes;        /* chunk size on disk, header included */
    uint64_t events;       /* events in the chunk */
    uint64_t first_object; /* id the chunk's first allocation gets */
    uint64_t first_t_ns;   /* timestamp of its first event */
    uint64_t last_t_ns;    /* timestamp of its last event */
} as_trace_chunk_info_t;

/* A write report (tag 0x11 in the definition stream; added to format 3
 * without a version bump: a trace without them is byte for byte what it
 * was; an older reader rejects one by its tag): bytes [offset, offset +
 * bytes) of object `object` were written by t_ns (the recorder saw its
 * pages resident). Reports are cumulative and may repeat a range. Sits
 * among the events in time order like a sample. Format 2 cannot carry
 * them (its tag 0x11 is an alloc): the writer refuses them there. */
typedef struct {
    uint64_t t_ns;          /* when it was seen (trace time) */
    uint64_t object;        /* id of an object live at that point */
    uint64_t offset;        /* first byte, from the object's start */
    uint64_t bytes;         /* > 0; offset + bytes <= the object's size */
    uint64_t events_before; /* reader: events of the trace before it */
} as_write_t;

/* ---------------------------------------------------------------- writer */

typedef struct as_trace_writer as_trace_writer_t;

typedef struct {
    uint32_t chunk_events; /* events per chunk; 0 = default (65536) */
    int zstd_level;        /* 0 = default (3) */
    uint32_t version;      /* format to write: 0 = AS_TRACE_VERSION (3, the
                              columnar chunk); 2 = the version-2 streams
                              (tests, `convert --format-version 2`) */
} as_trace_writer_opts_t;

/* as_trace_writer_open: write `path` as traces/outfile.h decides: "-" is
 * standard output; a regular file (symlinks followed) is written to a
 * temporary beside it and renamed onto it on close, so a failed run never
 * leaves a half-written output and never replaces an earlier good one; a
 * character device or FIFO is written in place; anything else is refused.
 * `opts` may be NULL. @return 0, AS_EINVAL (refused), AS_EIO (message
 * names the path; *w is set and must be aborted), AS_ENOMEM. */
int as_trace_writer_open(as_trace_writer_t **w, const char *path,
                         const as_trace_writer_opts_t *opts);

/* as_trace_writer_open_fd: stream to an open fd (the recorder's case: no
 * rename; every completed chunk is written and flushed immediately, so a
 * killed process leaves a readable prefix). The fd is not closed. */
int as_trace_writer_open_fd(as_trace_writer_t **w, int fd,
                            const as_trace_writer_opts_t *opts);

/* as_trace_writer_meta: add header metadata. Before the first event it goes
 * into the file header; later, into the stream (the reader merges both; a
 * later value for a key replaces an earlier one). @return 0 or error. */
int as_trace_writer_meta(as_trace_writer_t *w, const char *key,
                         const char *value);

/* as_trace_writer_frame: define (or redefine, e.g. once symbolized) frame
 * `id` (>= 1). @return 0 or error. */
int as_trace_writer_frame(as_trace_writer_t *w, uint32_t id,
                          const as_frame_t *frame);

/* as_trace_writer_stack: define stack `id` (>= 1) as `depth` frame ids,
 * innermost first. Must precede the first event that names it. */
int as_trace_writer_stack(as_trace_writer_t *w, uint32_t id,
                          const uint32_t *frames, uint32_t depth);

/* as_trace_writer_event: append an event. For ALLOC and REALLOC the writer
 * assigns the new id and stores it into ev->object / ev->new_object (the
 * caller's values there are ignored). @return 0, AS_EINVAL (time went
 * backwards, unknown kind), AS_EIO. */
int as_trace_writer_event(as_trace_writer_t *w, as_event_t *ev);

/* as_trace_writer_sample: append a real-memory sample (format v2). Its
 * time must not be before the last event or sample written; events after
 * it must not be before it. s->events_before is ignored. @return 0,
 * AS_EINVAL (time went backwards, unknown bits in s->has), AS_EIO. */
int as_trace_writer_sample(as_trace_writer_t *w, const as_mem_sample_t *s);

/* as_trace_writer_write: append a write report (format 3 only). Like
 * _sample: its time must not be before the last event, sample or write
 * written, and events after it must not be before it; wr->events_before is
 * ignored. Whether the object is still live and the range within its size
 * is not checked here (the writer does not track sizes; the engine does).
 * @return 0, AS_EINVAL (time went backwards, bytes == 0, offset + bytes
 * past 2^64, object >= the ids assigned so far, a version-2 writer),
 * AS_EIO. */
int as_trace_writer_write(as_trace_writer_t *w, const as_write_t *wr);

/* as_trace_writer_flush: end the current chunk now (recorder: on signal). */
int as_trace_writer_flush(as_trace_writer_t *w);

/* as_trace_writer_close: flush, write the footer index, rename into place
 * (path mode), free `w`. @return 0 or the first error seen. */
int as_trace_writer_close(as_trace_writer_t *w);

/* as_trace_writer_close_err: as_trace_writer_close, and on failure copy the
 * writer's message ("path: what") into err (errcap bytes) before `w` is
 * freed. */
int as_trace_writer_close_err(as_trace_writer_t *w, char *err, size_t errcap);

/* as_trace_writer_abort: discard (path mode: remove the temporary, leave the
 * target as it was); free w. */
void as_trace_writer_abort(as_trace_writer_t *w);

/* as_trace_writer_error: message of the last error ("path: what"). */
const char *as_trace_writer_error(const as_trace_writer_t *w);

/* ---------------------------------------------------------------- reader */

typedef struct as_trace_reader as_trace_reader_t;

/* as_trace_reader_open: open and validate the file header; load the footer
 * index if present. A file without a valid footer (truncated) still opens:
 * its chunks are found by scanning, and as_trace_reader_truncated() says so
 * once the last whole chunk has been read.
 * @return 0, AS_EIO, AS_EFORMAT, AS_EVERSION, AS_ETRUNCATED (even the header
 * is incomplete). On error *r is still set when non-NULL so that
 * as_trace_reader_error() can be read; close it. */
int as_trace_reader_open(as_trace_reader_t **r, const char *path);

/* as_trace_reader_next: the next event, in file order. Definition records met
 * on the way are absorbed (see _stack, _frame, _meta).
 * @return 1 (event stored), 0 (end of trace), or a negative error (message
 * names file and byte offset). After a truncated tail the reader returns 0 and
 * sets the truncated flag: whole chunks are never lost. */
int as_trace_reader_next(as_trace_reader_t *r, as_event_t *ev);

/* as_trace_reader_next_batch: up to `cap` events at once (the replay hot
 * path). @return count (>0), 0 at end, or a negative error. */
long as_trace_reader_next_batch(as_trace_reader_t *r, as_event_t *evs,
                                size_t cap);

/* as_trace_reader_rewind: start again at the first event (definitions already
 * absorbed are kept). */
int as_trace_reader_rewind(as_trace_reader_t *r);

/* Metadata: number of keys, and the i-th key/value (merged header+stream). */
size_t as_trace_reader_meta_count(const as_trace_reader_t *r);
int as_trace_reader_meta_at(const as_trace_reader_t *r, size_t i,
                            const char **key, const char **value);
/* @return the value of `key`, or NULL. */
const char *as_trace_reader_meta(const as_trace_reader_t *r, const char *key);

/* as_trace_reader_stack: frames of stack `id` (frame ids, innermost first).
 * Valid once the definition has been read. @return 0 or AS_ENOTFOUND. */
int as_trace_reader_stack(const as_trace_reader_t *r, uint32_t id,
                          const uint32_t **frames, uint32_t *depth);
/* as_trace_reader_frame: definition of frame `id`. @return 0 or AS_ENOTFOUND.
 */
int as_trace_reader_frame(const as_trace_reader_t *r, uint32_t id,
                          as_frame_t *frame);
/* Highest stack id / frame id defined so far. */
uint32_t as_trace_reader_max_stack(const as_trace_reader_t *r);
uint32_t as_trace_reader_max_frame(const as_trace_reader_t *r);

/* Footer index (or the chunks found by scanning, once read). */
size_t as_trace_reader_chunk_count(const as_trace_reader_t *r);
const as_trace_chunk_info_t *as_trace_reader_chunks(const as_trace_reader_t *r);

/* 1 when the footer was missing or bad and the trace ended in a partial
 * chunk; as_trace_reader_error() then describes the truncation point. */
int as_trace_reader_truncated(const as_trace_reader_t *r);

/* as_trace_reader_indexed: @return 1 when the footer index was loaded at
 * open (the file is whole), 0 when its chunks are found by scanning: such a
 * trace ends truncated (as_trace_reader_truncated) unless an error comes
 * first. Known at open, so a replay can say so before its first row. */
int as_trace_reader_indexed(const as_trace_reader_t *r);

uint64_t as_trace_reader_file_bytes(const as_trace_reader_t *r);
const char *as_trace_reader_path(const as_trace_reader_t *r);
/* 64-bit content hash of the whole file as 16 hex digits (algorithm in
 * docs/trace-format.md); reads the file once more. */
int as_trace_reader_hash(as_trace_reader_t *r, char out[17]);

/* as_trace_reader_error: "path: offset N: what was expected". */
const char *as_trace_reader_error(const as_trace_reader_t *r);

void as_trace_reader_close(as_trace_reader_t *r);

/* ------------------------------------------------- additions (traces/, v1)
 * Record-level reading (for `allocsim cat`, which prints definitions where
 * they occur in the stream), reading from memory (fuzzing, tests), and a few
 * accessors. Added after the original declarations; nothing above changed. */

typedef enum {
    AS_TRACE_REC_EVENT = 1,  /* rec->event */
    AS_TRACE_REC_FRAME = 2,  /* rec->id, rec->frame */
    AS_TRACE_REC_STACK = 3,  /* rec->id, rec->frames[0..depth) */
    AS_TRACE_REC_META = 4,   /* rec->key, rec->value (a stream meta record) */
    AS_TRACE_REC_SAMPLE = 5, /* rec->sample (format v2) */
    AS_TRACE_REC_WRITE = 6   /* rec->write (format v3) */
} as_trace_record_kind_t;

typedef struct {
    int kind;                /* as_trace_record_kind_t */
    as_event_t event;        /* AS_TRACE_REC_EVENT */
    uint32_t id;             /* FRAME / STACK: the id defined */
    as_frame_t frame;        /* AS_TRACE_REC_FRAME */
    const uint32_t *frames;  /* AS_TRACE_REC_STACK: frame ids, innermost 1st */
    uint32_t depth;          /* AS_TRACE_REC_STACK */
    const char *key, *value; /* AS_TRACE_REC_META */
    as_mem_sample_t sample;  /* AS_TRACE_REC_SAMPLE */
    as_write_t write;        /* AS_TRACE_REC_WRITE */
} as_trace_record_t;

/* as_trace_reader_next_record: the next record in file order: an event or a
 * definition (which is also absorbed, as _next does). Header metadata is not
 * returned (read it with _meta_at right after open). Pointers in *rec stay
 * valid until the next call. @return 1, 0 at end, or a negative error. */
int as_trace_reader_next_record(as_trace_reader_t *r, as_trace_record_t *rec);

/* as_trace_reader_next_span: up to cap events in file order, stopping
 * after the first definition record that follows them (`cat` prints a
 * trace a batch at a time this way). *def is 1 when such a record ended
 * the span (it has been absorbed, as _next_record does;
 * as_trace_reader_last_def describes it), else 0. The same records in the
 * same order as _next_record gives. @return the events stored (0 with
 * *def = 1: a definition came first; 0 with *def = 0: the end), or a
 * negative error. */
long as_trace_reader_next_span(as_trace_reader_t *r, as_event_t *evs,
                               size_t cap, int *def);

/* as_trace_reader_last_def: the definition record that ended the last
 * span (or _next_record's), as _next_record returns it; pointers valid
 * until the next call on r. */
void as_trace_reader_last_def(const as_trace_reader_t *r,
                              as_trace_record_t *rec);

/* as_trace_reader_open_mem: like _open, over `size` bytes at `data` (kept,
 * not copied; must outlive the reader). `name` is used in messages. */
int as_trace_reader_open_mem(as_trace_reader_t **r, const char *name,
                             const void *data, size_t size);

/* 1 when a valid footer index was found at open. */
int as_trace_reader_has_index(const as_trace_reader_t *r);

/* Objects allocated by the events read so far (the next id). */
uint64_t as_trace_reader_objects(const as_trace_reader_t *r);

/* ------------------------------------------------- chunks in parallel
 * A second reader of the same file can decode any chunk of an indexed
 * trace on its own (every chunk restarts its deltas and ids come from the
 * index), detached from the chunks before it: the checks that need their
 * records are the caller's, from as_trace_detached_t (sim/oracle.c does
 * them in chunk order and, on any doubt, reads the trace from the start
 * as before). */

typedef struct {
    uint64_t stack_defs, frame_defs;    /* definitions read since the seek */
    int64_t stack_excess, frame_excess; /* largest id - (2 * definitions
                                           of its kind since the seek +
                                           AS_TRACE_ID_SLACK) over them,
                                           INT64_MIN when none: valid when
                                           <= 2 * those before the seek */
    uint32_t max_stack_def; /* highest stack id defined since the seek */
    uint32_t pending_stack; /* (internal) */
    uint64_t stack_need;    /* highest stack id an event named before it
                                was defined since the seek (0 none): valid
                                when <= the highest defined before it */
    uint64_t samples;       /* real-memory samples read since the seek */
    uint64_t first_sample_t, last_sample_t;
    uint64_t events_before_first_sample; /* events since the seek */
    uint64_t writes;                     /* write reports read since the seek */
    uint64_t first_write_t, last_write_t;
    uint64_t events_before_first_write; /* events since the seek */
} as_trace_detached_t;

/* as_trace_reader_clone: a second reader of r's file (reopened by path,
 * or the same memory), at its start. @return as as_trace_reader_open. */
int as_trace_reader_clone(const as_trace_reader_t *r, as_trace_reader_t **out);

/* as_trace_reader_seek_chunk: read chunks [k, k + count) of an indexed
 * trace (then the end), detached: events are checked against the chunk
 * headers and the index as always, but stack ids, definition id bounds
 * and times after earlier chunks' samples are not checked; definitions
 * are counted into as_trace_reader_detached() and not kept (stack and
 * frame lookups answer nothing). @return 0, AS_EINVAL (no index, k past
 * the end), or the reader's sticky error. */
int as_trace_reader_seek_chunk(as_trace_reader_t *r, size_t k, size_t count);

/* as_trace_reader_detached: what the caller must check of the chunks read
 * since the last seek (above). */
const as_trace_detached_t *as_trace_reader_detached(const as_trace_reader_t *r);

/* ------------------------------------------------- additions (format v2)
 * The file's version, and the real-memory samples met so far. */

/* as_trace_reader_version: the format version of the open file (1..3). */
uint32_t as_trace_reader_version(const as_trace_reader_t *r);

/* as_trace_reader_samples: the real-memory samples read and not yet
 * dropped, oldest first, in trace order; *n their count. Reading events
 * (any of the _next calls) absorbs the samples met on the way, so after a
 * batch ends at event k every sample placed before event k is here. Valid
 * until the next call on r. A rewind drops them all. */
const as_mem_sample_t *as_trace_reader_samples(const as_trace_reader_t *r,
                                               size_t *n);

/* as_trace_reader_drop_samples: forget the oldest n samples (a consumer
 * that has used them; keeps the reader's memory bounded on long traces). */
void as_trace_reader_drop_samples(as_trace_reader_t *r, size_t n);

/* as_trace_reader_sample_count: samples read since the start (or rewind),
 * dropped ones included. */
uint64_t as_trace_reader_sample_count(const as_trace_reader_t *r);

/* ------------------------------------------------- additions (write reports)
 * The write reports met so far (as_write_t above), kept and dropped exactly
 * as samples are. */

/* as_trace_reader_writes: the write reports read and not yet dropped,
 * oldest first, in trace order, each with the number of events before it
 * (events_before); *n their count. Reading events absorbs the reports met
 * on the way, so after a batch ends at event k every report placed before
 * event k is here. Valid until the next call on r. A rewind drops them. */
const as_write_t *as_trace_reader_writes(const as_trace_reader_t *r, size_t *n);

/* as_trace_reader_drop_writes: forget the oldest n write reports. */
void as_trace_reader_drop_writes(as_trace_reader_t *r, size_t n);

/* as_trace_reader_write_count: write reports read since the start (or
 * rewind), dropped ones included. */
uint64_t as_trace_reader_write_count(const as_trace_reader_t *r);

/* as_trace_reader_drop_kept: forget every sample and write report the
 * reader keeps (a consumer that reads only events, or that has used
 * them): its memory stays bounded however many a trace holds. */
void as_trace_reader_drop_kept(as_trace_reader_t *r);

#endif /* AS_TRACES_TRACE_H */

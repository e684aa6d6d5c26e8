/* protocol.h - the byte stream from the preload recorder to `allocsim record`.
 *
 * The recorder (record.c, inside the recorded program) never compresses and
 * never writes the trace file: it ships fixed-layout binary records through a
 * socket to the collector (traces/import/recstream.c, inside the `allocsim
 * record` process), which orders them, turns addresses into object ids and
 * writes the trace. Keeping the file in the parent means a program killed by
 * any signal still leaves a complete, footed trace of every record that
 * reached the socket.
 *
 * Type map
 *   as_rec_head_t   the 32-byte header every record starts with
 *   as_rec_*_t      one layout per record type (header + payload)
 *
 * Stream: records back to back, host byte order (both ends are the same
 * machine), each `len` bytes long (len >= sizeof(as_rec_head_t), a multiple
 * of 8). A stream may end inside a record (the program was killed while a
 * write was in flight): the collector drops that partial record.
 *
 * Ordering: records that carry a sequence number (`seq`, from one global
 * counter in the program) are replayed by the collector in seq order; the
 * others (HELLO, SYM, META, SYNC, MARK) apply at once. Seq numbers are taken so that a
 * free's seq is larger than its allocation's (see record.c, "causal order").
 * A WRITE's seq is taken after the pagemap it reports was read: before the
 * FREE/RBEGIN of its object when a hook sends it, after the ALLOC/REALLOC
 * that made the object otherwise.
 */
#ifndef AS_TRACES_RECORD_PROTOCOL_H
#define AS_TRACES_RECORD_PROTOCOL_H

#include <stdint.h>

#include "traces/trace.h"

enum {
    AS_REC_HELLO = 1,   /* a program image starts recording (no seq) */
    AS_REC_ALLOC = 2,   /* malloc & co returned ptr (seq after the call) */
    AS_REC_FREE = 3,    /* free(ptr) is about to run (seq before the call) */
    AS_REC_RBEGIN = 4,  /* realloc(ptr, ...) is about to run (seq before) */
    AS_REC_REALLOC = 5, /* that realloc returned ptr (seq after) */
    AS_REC_STACK = 6,   /* stack id defined as a list of pcs (seq) */
    AS_REC_SYM = 7,     /* symbol of one pc, sent at exit (no seq) */
    AS_REC_META = 8,    /* key/value metadata (no seq) */
    AS_REC_SYNC = 9,    /* a (tsc, ns) clock pair (no seq) */
    AS_REC_MARK = 10,   /* how far the image numbered its records (no seq) */
    AS_REC_MEM = 11,    /* a sample of the process's real memory (seq) */
    AS_REC_WRITE = 12   /* resident pages of a live large object (seq) */
};

/* Flags of ALLOC/REALLOC. */
#define AS_REC_F_SAMPLED 0x01u /* the allocation is in the trace (sampling) */
#define AS_REC_F_FAILED 0x02u  /* realloc returned NULL with size > 0 */
#define AS_REC_F_TSC 0x04u     /* HELLO: event times are TSC ticks */

typedef struct {
    uint8_t type;    /* AS_REC_* */
    uint8_t flags;   /* AS_REC_F_* */
    uint16_t len;    /* whole record, bytes, multiple of 8 */
    uint32_t thread; /* recorder thread number, dense from 0 */
    uint64_t seq;    /* global order; 0 for records without one */
    uint64_t t_ns;   /* CLOCK_MONOTONIC ns; TSC ticks when the image's HELLO
                        has AS_REC_F_TSC (the collector converts) */
    uint32_t cpu;    /* sched_getcpu() */
    uint32_t stack;  /* ALLOC/REALLOC: stack id (0 none); STACK: its id */
} as_rec_head_t;

/* ALLOC: ptr is the returned address (never NULL: failed calls are not
 * recorded); align is the requested alignment, 0 for malloc's default;
 * height the stack height of the call: bytes from the top of the thread's
 * stack to the hook's frame (0 when the stack's bounds are unknown). */
typedef struct {
    as_rec_head_t h;
    uint64_t ptr, size, align, height;
} as_rec_alloc_t;

/* FREE and RBEGIN: the address being freed / reallocated (never NULL). */
typedef struct {
    as_rec_head_t h;
    uint64_t ptr;
} as_rec_ptr_t;

/* REALLOC: follows an RBEGIN of the same thread. ptr is the new address
 * (NULL when size == 0 freed the object, or when the call failed). */
typedef struct {
    as_rec_head_t h;
    uint64_t ptr, size, height; /* height as ALLOC's */
} as_rec_realloc_t;

/* MEM: the process's resident memory, read by the drainer thread from
 * /proc/self/smaps_rollup (Rss, AnonHugePages) or, when that cannot be
 * read, /proc/self/statm (resident pages; no huge-page figure), and/or
 * glibc's mallinfo2() (--mallinfo-interval). `has`
 * holds the trace's AS_SAMPLE_* bits (traces/trace.h) of what was read.
 * Numbered like events, so it lands among them in time order. */
typedef struct {
    as_rec_head_t h;
    uint64_t rss_bytes, anon_huge_bytes;
    uint32_t has, pad;
    uint64_t mallinfo[AS_MALLINFO_FIELDS]; /* AS_SAMPLE_HAS_MALLINFO: glibc's
                                              mallinfo2(), in its order */
} as_rec_mem_t;

/* STACK: `depth` pcs follow, innermost first (the caller of malloc first). */
typedef struct {
    as_rec_head_t h;
    uint32_t depth, pad;
    /* uint64_t pcs[depth]; */
} as_rec_stack_t;

/* HELLO: pid of the image and the trace's time origin candidate (h.t_ns,
 * in ns). With AS_REC_F_TSC in h.flags, event times of this image are TSC
 * ticks and `tsc` was read together with h.t_ns. */
typedef struct {
    as_rec_head_t h;
    uint64_t pid;
    uint64_t max_depth;
    uint64_t sample_bytes; /* 0 = every allocation */
    uint64_t tsc;
    uint64_t writes_min; /* objects of this size and up get WRITE records;
                            0 = none (--writes off, or no pagemap) */
} as_rec_hello_t;

/* WRITE: the pages of the object at `ptr` that the recorder saw written
 * (in /proc/self/pagemap: present and exclusively mapped, or swapped), as
 * `runs` runs of page-aligned addresses [start, end), ascending, that
 * follow the record (uint64_t start, end each). Not clipped to the object:
 * the collector clips to its requested size. `alloc_seq` is the seq of
 * the ALLOC or REALLOC record that made the object: the collector drops
 * the record unless the object live at ptr at this seq is that one (a
 * periodic scan may race with a free and a reuse of the address); 0 = the
 * object live at ptr (a hook's report about an object it could not find
 * in its table). `why` says what sent it (AS_REC_WRITE_*). */
typedef struct {
    as_rec_head_t h;
    uint64_t ptr, alloc_seq;
    uint32_t runs, why;
    /* uint64_t run[runs][2]; */
} as_rec_write_t;

enum {
    AS_REC_WRITE_FREE = 1,     /* before the real free */
    AS_REC_WRITE_REALLOC = 2,  /* before the real realloc (old block) */
    AS_REC_WRITE_ALLOC = 3,    /* after calloc or realloc (new block) */
    AS_REC_WRITE_PERIODIC = 4, /* the drainer's periodic scan */
    AS_REC_WRITE_EXIT = 5      /* the end of the image */
};

/* SYNC: TSC ticks and CLOCK_MONOTONIC ns read together; sent before every
 * batch of rings, so each batch's events lie between two pairs (or just
 * after the last one) and convert by linear interpolation. */
typedef struct {
    as_rec_head_t h; /* h.t_ns: the ns of the pair */
    uint64_t tsc;
} as_rec_sync_t;

/* MARK: sent after the rings were shipped at the end of an image (exit,
 * _exit, a fatal signal) or before an exec: every seq below `seq_end` was
 * handed out, so the collector can count the numbered records it never
 * received, including those at the tail. An image whose stream ends
 * without a final MARK (SIGKILL, a socket closed behind the recorder's
 * back) has lost an unknown number of records. */
typedef struct {
    as_rec_head_t h;
    uint64_t seq_end; /* the next seq that would have been handed out */
    uint32_t why;     /* AS_REC_MARK_* */
    uint32_t signal;  /* AS_REC_MARK_SIGNAL: the signal number */
} as_rec_mark_t;

enum {
    AS_REC_MARK_EXIT = 1,   /* exit, return from main, _exit, _Exit */
    AS_REC_MARK_SIGNAL = 2, /* a fatal signal; the handler re-raises it */
    AS_REC_MARK_EXEC = 3    /* about to exec; a HELLO follows if it works */
};

/* SYM: pc -> (module offset, module path, symbol). Strings follow,
 * NUL-terminated, module first; record padded to a multiple of 8. */
typedef struct {
    as_rec_head_t h;
    uint64_t pc, offset;
    uint32_t module_len, symbol_len; /* without the NULs */
    /* char module[module_len + 1]; char symbol[symbol_len + 1]; */
} as_rec_sym_t;

/* META: key and value strings follow like SYM's. */
typedef struct {
    as_rec_head_t h;
    uint32_t key_len, value_len;
} as_rec_meta_t;

#define AS_REC_MAX_DEPTH 128u
#define AS_REC_MAX_LEN 8192u          /* no record is longer */
#define AS_REC_MAX_THREADS (1u << 20) /* thread numbers are below this */
#define AS_REC_MAX_STACKS (1u << 21)  /* stack ids are below this */

#endif /* AS_TRACES_RECORD_PROTOCOL_H */

/* test_traces_columns.c - trace format v3, the columnar chunk: the exact
 * payload bytes of a hand-made trace (computed by hand from
 * docs/trace-format.md), exact round trips of hand-made event sequences
 * (threads interleaving on colliding time slots, one thread's deltas
 * shrinking while another's grow, 2^64-1 in every 64-bit field and
 * 2^32-1 in every 32-bit one), the per-thread delta-of-delta code chosen
 * where it is smaller, v2 and v3 files of the same events decoding alike,
 * and bad v3 payloads rejected with the record named. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "common/error.h"
#include "tests/trace_header.h"
#include "tests/unit/testutil.h"
#include "traces/codec.h"
#include "traces/trace.h"

/* write: events ev[0..n) (ids assigned by the writer) as format `version`
 * with one stack defined, chunks of chunk_events. */
static void write_trace(const char *path, uint32_t version,
                        uint32_t chunk_events, as_event_t *ev, size_t n)
{
    as_trace_writer_opts_t o = {chunk_events, 0, version};
    as_trace_writer_t *w;
    CU_ASSERT_EQUAL_FATAL(as_trace_writer_open(&w, path, &o), 0);
    uint32_t fr = 1;
    as_frame_t f = {0x1000, 0x10, "m", "s"};
    CU_ASSERT_EQUAL(as_trace_writer_frame(w, 1, &f), 0);
    CU_ASSERT_EQUAL(as_trace_writer_stack(w, 1, &fr, 1), 0);
    for (size_t i = 0; i < n; i++)
        CU_ASSERT_EQUAL(as_trace_writer_event(w, &ev[i]), 0);
    CU_ASSERT_EQUAL(as_trace_writer_close(w), 0);
}

/* read back every event of path and compare with ev[0..n) field by field;
 * @return mismatches. */
static size_t read_compare(const char *path, uint32_t version,
                           const as_event_t *ev, size_t n)
{
    as_trace_reader_t *r;
    CU_ASSERT_EQUAL_FATAL(as_trace_reader_open(&r, path), 0);
    CU_ASSERT_EQUAL(as_trace_reader_version(r), version);
    as_event_t b[7];
    size_t i = 0, bad = 0;
    long got;
    while ((got = as_trace_reader_next_batch(r, b, 7)) > 0)
        for (long k = 0; k < got; k++, i++) {
            const as_event_t *e = &ev[i < n ? i : 0];
            if (i >= n || b[k].kind != e->kind || b[k].t_ns != e->t_ns ||
                b[k].thread != e->thread || b[k].cpu != e->cpu ||
                b[k].object != e->object || b[k].new_object != e->new_object ||
                b[k].size != e->size || b[k].align != e->align ||
                b[k].stack != e->stack || b[k].stack_height != e->stack_height)
                bad++;
        }
    CU_ASSERT_EQUAL(got, 0);
    CU_ASSERT_EQUAL(i, n);
    as_trace_reader_close(r);
    return bad + (i != n);
}

static as_event_t mk(uint8_t kind, uint64_t t, uint32_t th, uint32_t cpu,
                     uint64_t obj, uint64_t size, uint64_t align,
                     uint32_t stack, uint64_t height)
{
    as_event_t e = {0};
    e.kind = kind;
    e.t_ns = t;
    e.thread = th;
    e.cpu = cpu;
    e.object = obj;
    e.size = size;
    e.align = align;
    e.stack = stack;
    e.stack_height = height;
    return e;
}

/* The example of docs/trace-format.md ("Version 3"), byte for byte. */
static void test_exact_payload(void)
{
    const char *path = as_test_tmpfile("col", ".ast");
    as_trace_writer_opts_t o = {0, 0, 0};
    as_trace_writer_t *w;
    CU_ASSERT_EQUAL_FATAL(as_trace_writer_open(&w, path, &o), 0);
    CU_ASSERT_EQUAL(as_trace_writer_meta(w, "k", "v"), 0);
    as_frame_t f = {0x4005d0, 0x5d0, "/bin/a b", "main"};
    uint32_t fr = 1;
    CU_ASSERT_EQUAL(as_trace_writer_frame(w, 1, &f), 0);
    CU_ASSERT_EQUAL(as_trace_writer_stack(w, 1, &fr, 1), 0);
    as_event_t ev[4] = {
        mk(AS_EV_ALLOC, 10, 1, 2, 0, 16, 0, 1, 0),
        mk(AS_EV_ALLOC, 10, 1, 2, 0, 32, 64, 1, 0),
        mk(AS_EV_FREE, 15, 0, 3, 0, 0, 0, 0, 0),
        mk(AS_EV_REALLOC, 20, 0, 3, 1, 100, 0, 0, 0),
    };
    for (int i = 0; i < 4; i++)
        CU_ASSERT_EQUAL(as_trace_writer_event(w, &ev[i]), 0);
    CU_ASSERT_EQUAL(as_trace_writer_close(w), 0);
    static const uint8_t want[] = {
        0x00,                                     /* time code: delta */
        0x00, 0x01, 0x00, 0x01, 0x02, 0x01, 0x00, /* time, thread, cpu, */
        0x01, 0x10, 0x01, 0x00, 0x01, 0x00, 0x01, /* back, size, align, */
        0x00, 0x00,                               /* stack, height */
        0x06, 0x18,                               /* tag, defs lengths */
        0x04, 0x08, 0x01, 0x01, 0x02, 0x03,       /* tags */
        0x01, 0xd0, 0x8b, 0x80, 0x02, 0xd0, 0x0b, 0x08, '/', 'b', 'i',
        'n',  '/',  'a',  ' ',  'b',  0x04, 'm',  'a',  'i', 'n', /* frame 1 */
        0x01, 0x01, 0x01,       /* stack 1 = [1] */
        0x00, 0x00, 0x05, 0x05, /* time deltas */
        0x01, 0x01, 0x00, 0x00, /* threads */
        0x00, 0x00, 0x01, 0x01, /* cpus - 2 */
        0x01, 0x00,             /* back-references */
        0x00, 0x10, 0x54,       /* sizes - 16 */
        0x00, 0x40, 0x00,       /* alignments */
        0x01, 0x01, 0x00,       /* stacks */
    };
    size_t n;
    uint8_t *file = as_test_slurp(path, &n);
    CU_ASSERT_FATAL(file != NULL && n > 38 + AS_CHUNK_HEADER_BYTES);
    CU_ASSERT_EQUAL(as_get_u32(file + 8), 3);
    /* header: 24 + meta block of 4 + (4 + 1) * 2 bytes */
    as_chunk_header_t h;
    CU_ASSERT_EQUAL_FATAL(as_chunk_header_decode(file + 38, &h), 0);
    CU_ASSERT_EQUAL(h.events, 4);
    CU_ASSERT_EQUAL(h.allocs, 3);
    CU_ASSERT_EQUAL(h.raw_bytes, sizeof want);
    uint8_t raw[256];
    size_t got =
        ZSTD_decompress(raw, sizeof raw, file + 38 + 48, h.compressed_bytes);
    CU_ASSERT_EQUAL(got, sizeof want);
    CU_ASSERT(got == sizeof want && memcmp(raw, want, sizeof want) == 0);
    free(file);
    ev[2].object = 0;
    ev[3].object = 1;
    CU_ASSERT_EQUAL(read_compare(path, 3, ev, 4), 0);
}

/* Hand-made interleavings and extremes, in chunks of several sizes, as v3
 * and as v2: both decode to exactly the events written. */
static void test_roundtrip_extremes(void)
{
    const uint64_t M = UINT64_MAX;
    const uint32_t M32 = UINT32_MAX;
    as_event_t ev[] = {
        /* threads 5 and 69 share time slot 5; thread 2^32-1 slot 63 */
        mk(AS_EV_ALLOC, 0, 5, 0, 0, 0, 0, 0, 0),
        mk(AS_EV_ALLOC, 0, 69, 1, 0, M, M, 1, M),
        mk(AS_EV_ALLOC, 1000, 5, M32, 0, 1, 0, 0, 0),
        mk(AS_EV_FREE, 1000, M32, 7, 0, 0, 0, 0, 0),
        /* thread 5's deltas shrink (1000, 10, 1) while 69's grow */
        mk(AS_EV_ALLOC, 1010, 5, 0, 0, 24, 16, 1, 4096),
        mk(AS_EV_ALLOC, 1011, 69, 0, 0, 24, 16, 1, 4096),
        mk(AS_EV_REALLOC, 1011, 5, 0, 2, M, 0, 0, 1),
        mk(AS_EV_FREE, 50000, 69, M32, 4, 0, 0, 0, 0),
        mk(AS_EV_ALLOC, 50001, 0, 0, 0, 8, 0, 1, 0),
        /* the largest time, then more events at it */
        mk(AS_EV_ALLOC, M, 3, 3, 0, 8, 0, 1, M),
        mk(AS_EV_FREE, M, 69, 3, 1, 0, 0, 0, 0),
        mk(AS_EV_REALLOC, M, M32, M32, 7, 0, M, 1, M),
    };
    size_t n = sizeof ev / sizeof ev[0];
    /* the ids the writer gives: in order of allocation */
    uint64_t next = 0;
    for (size_t i = 0; i < n; i++) {
        if (ev[i].kind == AS_EV_ALLOC) ev[i].object = next++;
        if (ev[i].kind == AS_EV_REALLOC) ev[i].new_object = next++;
    }
    as_event_t copy[sizeof ev / sizeof ev[0]];
    static const uint32_t chunks[] = {1, 2, 3, 5, 65536};
    for (size_t c = 0; c < sizeof chunks / sizeof chunks[0]; c++)
        for (uint32_t version = 2; version <= 3; version++) {
            const char *path = as_test_tmpfile("col", ".ast");
            memcpy(copy, ev, sizeof ev);
            write_trace(path, version, chunks[c], copy, n);
            CU_ASSERT_EQUAL(read_compare(path, version, ev, n), 0);
        }
}

/* Two threads, each allocating at its own steady period, interleaved: the
 * global deltas alternate, each thread's delta of deltas is 0, so the
 * writer picks the per-thread code; the events come back exactly. */
static void test_dod_chosen(void)
{
    enum { N = 4000 };
    as_event_t *ev = calloc(N, sizeof *ev);
    uint64_t t0 = 1000, t1 = 1337;
    for (size_t i = 0; i < N; i++) {
        int th = (int)(i % 2);
        uint64_t t = th ? t1 : t0;
        if (i > 0 && t < ev[i - 1].t_ns) t = ev[i - 1].t_ns;
        ev[i] = mk(AS_EV_ALLOC, t, (uint32_t)th, (uint32_t)th, i, 64, 0, 1, 0);
        if (th)
            t1 += 1000003;
        else
            t0 += 999983;
    }
    /* keep times non-decreasing: thread 1 runs 337 ns behind thread 0 */
    for (size_t i = 1; i < N; i++)
        CU_ASSERT_FATAL(ev[i].t_ns >= ev[i - 1].t_ns);
    const char *path = as_test_tmpfile("col", ".ast");
    as_event_t *copy = malloc(N * sizeof *copy);
    memcpy(copy, ev, N * sizeof *ev);
    write_trace(path, 3, 0, copy, N);
    size_t n;
    uint8_t *file = as_test_slurp(path, &n);
    as_chunk_header_t h;
    /* header of 28 bytes (no metadata) */
    CU_ASSERT_EQUAL_FATAL(as_chunk_header_decode(file + 28, &h), 0);
    uint8_t *raw = malloc(h.raw_bytes);
    CU_ASSERT_EQUAL(
        ZSTD_decompress(raw, h.raw_bytes, file + 28 + 48, h.compressed_bytes),
        h.raw_bytes);
    CU_ASSERT_EQUAL(raw[0], AS_TIME_DOD);
    CU_ASSERT_EQUAL(read_compare(path, 3, ev, N), 0);
    free(raw);
    free(file);
    free(copy);
    free(ev);
}

/* expect: decoding a v3 file over raw fails with `code` and `msg`. */
static void expect(const uint8_t *raw, size_t n, uint32_t events,
                   uint32_t allocs, uint64_t t0, uint64_t t1, int code,
                   const char *msg)
{
    uint8_t file[1024];
    size_t len =
        as_test_one_chunk_file(file, 3, raw, n, events, allocs, t0, t1);
    as_trace_reader_t *r;
    CU_ASSERT_EQUAL_FATAL(as_trace_reader_open_mem(&r, "c.ast", file, len), 0);
    as_event_t ev[8];
    long got = as_trace_reader_next_batch(r, ev, 8);
    CU_ASSERT_EQUAL(got, code);
    if (!strstr(as_trace_reader_error(r), msg))
        fprintf(stderr, "\n  got: %s\n  want: %s\n", as_trace_reader_error(r),
                msg);
    CU_ASSERT_PTR_NOT_NULL(strstr(as_trace_reader_error(r), msg));
    as_trace_reader_close(r);
}

/* Bad v3 payloads: every check names what it expected. Base payload: two
 * allocs at t = 5 and 7 (delta code), thread 0, cpu 0, sizes 8 and 9. */
static void test_bad_payloads(void)
{
    /* code, 8 x (base, width), tag len, defs len, tags, columns */
    const uint8_t good[] = {0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
                            0x00, 0x00, 0x08, 0x01, 0x00, 0x00, 0x00,
                            0x00, 0x00, 0x00, 0x02, 0x00, 0x01, 0x01,
                            0x00, 0x02, 0x00, 0x01};
    uint8_t b[sizeof good];
    uint8_t file[1024];
    size_t len = as_test_one_chunk_file(file, 3, good, sizeof good, 2, 2, 5, 7);
    as_trace_reader_t *r;
    CU_ASSERT_EQUAL_FATAL(as_trace_reader_open_mem(&r, "c.ast", file, len), 0);
    as_event_t ev[4];
    CU_ASSERT_EQUAL(as_trace_reader_next_batch(r, ev, 4), 2);
    CU_ASSERT_EQUAL(ev[0].t_ns, 5);
    CU_ASSERT_EQUAL(ev[1].t_ns, 7);
    CU_ASSERT_EQUAL(ev[0].size, 8);
    CU_ASSERT_EQUAL(ev[1].size, 9);
    CU_ASSERT_EQUAL(ev[1].object, 1);
    CU_ASSERT_EQUAL(as_trace_reader_next_batch(r, ev, 4), 0);
    as_trace_reader_close(r);

    memcpy(b, good, sizeof b);
    b[0] = 2; /* no such time code */
    expect(b, sizeof b, 2, 2, 5, 7, AS_EFORMAT, "expected the time code");
    memcpy(b, good, sizeof b);
    b[2] = 9; /* time width 9 */
    expect(b, sizeof b, 2, 2, 5, 7, AS_EFORMAT,
           "width (0..8 bytes) of "
           "column 0");
    memcpy(b, good, sizeof b);
    b[20] = 0x05; /* an event tag with a flag bit */
    expect(b, sizeof b, 2, 2, 5, 7, AS_EFORMAT,
           "chunk 0, record 1: expected an event tag 0x01..0x03");
    memcpy(b, good, sizeof b);
    b[20] = 0x02; /* a free: the back column is missing */
    expect(b, sizeof b, 2, 1, 5, 7, AS_EFORMAT, "expected columns of");
    /* the header says t = 5..7, the columns give 5 then 5 + 3 */
    memcpy(b, good, sizeof b);
    b[22] = 3;
    expect(b, sizeof b, 2, 2, 5, 7, AS_EFORMAT,
           "chunk 0, record 1: expected a time in [5, 7]");
    /* first event not at the header's first time */
    memcpy(b, good, sizeof b);
    b[21] = 1;
    expect(b, sizeof b, 2, 2, 5, 7, AS_EFORMAT,
           "record 0: expected the chunk's first event at t=5");
    /* a stack id that was never defined */
    memcpy(b, good, sizeof b);
    b[13] = 0x03; /* stack base 3 */
    expect(b, sizeof b, 2, 2, 5, 7, AS_EFORMAT,
           "record 0: expected a defined stack id (0..0), found 3");
}

int main(void)
{
    static const as_test_t tests[] = {
        {"exact_payload", test_exact_payload},
        {"roundtrip_extremes", test_roundtrip_extremes},
        {"dod_chosen", test_dod_chosen},
        {"bad_payloads", test_bad_payloads},
        {NULL, NULL},
    };
    return as_test_main("traces_columns", tests);
}

/* test_traces_writes.c - write reports (tag 0x11, format 3): written by
 * as_trace_writer_write and read back with exact values and exact
 * placement among the events (events_before), through every reading path
 * (batches, records, spans, a rewind, a detached chunk reader); each
 * refusal of the writer and of the reader with its message. The reader's
 * refusals use hand-built payloads, since the writer refuses to write
 * them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "tests/trace_header.h"
#include "tests/unit/testutil.h"
#include "traces/codec.h"
#include "traces/trace.h"

static as_event_t alloc_at(uint64_t t, uint64_t size)
{
    return (as_event_t){.kind = AS_EV_ALLOC, .t_ns = t, .size = size};
}

static as_event_t free_at(uint64_t t, uint64_t id)
{
    return (as_event_t){.kind = AS_EV_FREE, .t_ns = t, .object = id};
}

/* The trace of the round trip (5 events), two events a chunk:
 *   alloc 0 (1 MiB) t=1, alloc 1 (64) t=2 | write(0, 0, 4096) t=10,
 *   free 1 t=10, write(0, 8192, 8192) t=20, write(0, 8192, 4096) t=20,
 *   alloc 2 (16) t=25 | free 0 t=30, sample t=30, write(2, 0, 16) t=31
 * The write reports sit before events 2, 3, 3 and 5. */
static const as_write_t want_w[4] = {
    {10, 0, 0, 4096, 2},
    {20, 0, 8192, 8192, 3},
    {20, 0, 8192, 4096, 3},
    {31, 2, 0, 16, 5},
};

static void write_rt(const char *path)
{
    as_trace_writer_t *w;
    as_trace_writer_opts_t o = {.chunk_events = 2};
    CU_ASSERT_FATAL(as_trace_writer_open(&w, path, &o) == 0);
    CU_ASSERT_FATAL(as_trace_writer_meta(w, "record.writes", "pagemap") == 0);
    as_event_t e = alloc_at(1, 1u << 20);
    CU_ASSERT_FATAL(as_trace_writer_event(w, &e) == 0);
    e = alloc_at(2, 64);
    CU_ASSERT_FATAL(as_trace_writer_event(w, &e) == 0);
    CU_ASSERT_FATAL(as_trace_writer_write(w, &want_w[0]) == 0);
    e = free_at(10, 1);
    CU_ASSERT_FATAL(as_trace_writer_event(w, &e) == 0);
    CU_ASSERT_FATAL(as_trace_writer_write(w, &want_w[1]) == 0);
    CU_ASSERT_FATAL(as_trace_writer_write(w, &want_w[2]) == 0);
    e = alloc_at(25, 16);
    CU_ASSERT_FATAL(as_trace_writer_event(w, &e) == 0);
    e = free_at(30, 0);
    CU_ASSERT_FATAL(as_trace_writer_event(w, &e) == 0);
    as_mem_sample_t s = {
        .t_ns = 30, .rss_bytes = 4096, .has = AS_SAMPLE_HAS_RSS};
    CU_ASSERT_FATAL(as_trace_writer_sample(w, &s) == 0);
    CU_ASSERT_FATAL(as_trace_writer_write(w, &want_w[3]) == 0);
    CU_ASSERT_FATAL(as_trace_writer_close(w) == 0);
}

static int w_eq(const as_write_t *a, const as_write_t *b)
{
    return a->t_ns == b->t_ns && a->object == b->object &&
           a->offset == b->offset && a->bytes == b->bytes &&
           a->events_before == b->events_before;
}

/* The round trip's trace written to a fresh scratch file, opened. */
static as_trace_reader_t *open_rt(void)
{
    char path[512];
    snprintf(path, sizeof path, "%s", as_test_scratch("wr", ".ast"));
    write_rt(path);
    as_trace_reader_t *r;
    CU_ASSERT_EQUAL_FATAL(as_trace_reader_open(&r, path), 0);
    return r;
}

static void test_roundtrip(void)
{
    as_trace_reader_t *r = open_rt();
    CU_ASSERT_EQUAL(as_trace_reader_version(r), 3);
    CU_ASSERT_STRING_EQUAL(as_trace_reader_meta(r, "record.writes"), "pagemap");
    CU_ASSERT_EQUAL(as_trace_reader_chunk_count(r), 3);
    /* one event at a time: after event k, the reports before event k */
    as_event_t ev;
    size_t n, seen = 0;
    for (int k = 0; k < 5; k++) {
        CU_ASSERT_EQUAL_FATAL(as_trace_reader_next(r, &ev), 1);
        const as_write_t *wr = as_trace_reader_writes(r, &n);
        /* events before report j <= k: all of those are here */
        size_t want = 0;
        for (size_t j = 0; j < 4; j++)
            want += want_w[j].events_before <= (uint64_t)k;
        CU_ASSERT_EQUAL(seen + n, want);
        for (size_t j = 0; j < n; j++)
            CU_ASSERT(w_eq(&wr[j], &want_w[seen + j]));
        as_trace_reader_drop_writes(r, n);
        seen += n;
    }
    CU_ASSERT_EQUAL(as_trace_reader_next(r, &ev), 0);
    const as_write_t *wr = as_trace_reader_writes(r, &n);
    CU_ASSERT_EQUAL_FATAL(n, 1); /* the last one follows the last event */
    CU_ASSERT(w_eq(&wr[0], &want_w[3]));
    CU_ASSERT_EQUAL(as_trace_reader_write_count(r), 4);
    CU_ASSERT_EQUAL(as_trace_reader_sample_count(r), 1);

    /* a rewind starts them over; one batch holds all four */
    CU_ASSERT_EQUAL(as_trace_reader_rewind(r), 0);
    CU_ASSERT_EQUAL(as_trace_reader_write_count(r), 0);
    as_event_t b[16];
    CU_ASSERT_EQUAL(as_trace_reader_next_batch(r, b, 16), 5);
    wr = as_trace_reader_writes(r, &n);
    CU_ASSERT_EQUAL_FATAL(n, 4);
    for (size_t j = 0; j < 4; j++)
        CU_ASSERT(w_eq(&wr[j], &want_w[j]));
    as_trace_reader_drop_writes(r, 3);
    wr = as_trace_reader_writes(r, &n);
    CU_ASSERT(n == 1 && w_eq(&wr[0], &want_w[3]));

    /* records in file order: the kinds and the reports in their places */
    CU_ASSERT_EQUAL(as_trace_reader_rewind(r), 0);
    static const int kinds[] = {AS_TRACE_REC_EVENT,  AS_TRACE_REC_EVENT,
                                AS_TRACE_REC_WRITE,  AS_TRACE_REC_EVENT,
                                AS_TRACE_REC_WRITE,  AS_TRACE_REC_WRITE,
                                AS_TRACE_REC_EVENT,  AS_TRACE_REC_EVENT,
                                AS_TRACE_REC_SAMPLE, AS_TRACE_REC_WRITE};
    as_trace_record_t rec;
    size_t i = 0, wi = 0;
    int rc;
    while ((rc = as_trace_reader_next_record(r, &rec)) == 1 && i < 10) {
        CU_ASSERT_EQUAL(rec.kind, kinds[i]);
        if (rec.kind == AS_TRACE_REC_WRITE)
            CU_ASSERT(wi < 4 && w_eq(&rec.write, &want_w[wi++]));
        i++;
    }
    CU_ASSERT_EQUAL(rc, 0);
    CU_ASSERT_EQUAL(i, 10);
    CU_ASSERT_EQUAL(wi, 4);

    /* spans stop after each report, as after any definition */
    CU_ASSERT_EQUAL(as_trace_reader_rewind(r), 0);
    int def;
    CU_ASSERT_EQUAL(as_trace_reader_next_span(r, b, 16, &def), 2);
    CU_ASSERT_EQUAL(def, 1);
    as_trace_reader_last_def(r, &rec);
    CU_ASSERT_EQUAL(rec.kind, AS_TRACE_REC_WRITE);
    CU_ASSERT(w_eq(&rec.write, &want_w[0]));
    as_trace_reader_close(r);
}

/* A second reader of chunk 1 alone counts its reports for the caller. */
static void test_detached(void)
{
    as_trace_reader_t *r = open_rt();
    CU_ASSERT_EQUAL_FATAL(as_trace_reader_seek_chunk(r, 1, 1), 0);
    as_event_t b[16];
    CU_ASSERT_EQUAL(as_trace_reader_next_batch(r, b, 16), 2);
    size_t n;
    const as_write_t *wr = as_trace_reader_writes(r, &n);
    CU_ASSERT_EQUAL_FATAL(n, 3);
    for (size_t j = 0; j < 3; j++)
        CU_ASSERT(w_eq(&wr[j], &want_w[j]));
    const as_trace_detached_t *d = as_trace_reader_detached(r);
    CU_ASSERT_EQUAL(d->writes, 3);
    CU_ASSERT_EQUAL(d->first_write_t, 10);
    CU_ASSERT_EQUAL(d->last_write_t, 20);
    CU_ASSERT_EQUAL(d->events_before_first_write, 0);
    CU_ASSERT_EQUAL(d->samples, 0);
    as_trace_reader_close(r);
}

/* The writer refuses what would make an invalid trace, with its reason. */
static void test_writer_refusals(void)
{
    char path[512];
    snprintf(path, sizeof path, "%s", as_test_tmpfile("wx", ".ast"));
    as_trace_writer_t *w;
    CU_ASSERT_FATAL(as_trace_writer_open(&w, path, NULL) == 0);
    as_event_t e = alloc_at(100, 4096);
    CU_ASSERT_FATAL(as_trace_writer_event(w, &e) == 0);
    struct {
        as_write_t wr;
        const char *msg;
    } bad[] = {
        {{99, 0, 0, 1, 0},
         "write report at t=99 ns: before the last event, sample or write "
         "report (t=100 ns)"},
        {{100, 0, 0, 0, 0}, "write report at t=100 ns: 0 bytes"},
        {{100, 0, UINT64_MAX, 1, 0},
         "write report at t=100 ns: offset 18446744073709551615 + 1 bytes "
         "passes 2^64"},
        {{100, 1, 0, 1, 0},
         "write report at t=100 ns: object 1, but only 1 objects were "
         "allocated"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CU_ASSERT_EQUAL(as_trace_writer_write(w, &bad[i].wr), AS_EINVAL);
        const char *m = as_trace_writer_error(w);
        if (!strstr(m, bad[i].msg)) fprintf(stderr, "\n  got: %s\n", m);
        CU_ASSERT_PTR_NOT_NULL(strstr(m, bad[i].msg));
    }
    /* a refusal is not sticky: a good report still goes in, and then an
     * event before it is refused */
    as_write_t ok = {150, 0, 0, 4096, 0};
    CU_ASSERT_EQUAL(as_trace_writer_write(w, &ok), 0);
    e = alloc_at(149, 8);
    CU_ASSERT_EQUAL(as_trace_writer_event(w, &e), AS_EINVAL);
    as_trace_writer_abort(w);

    /* format 2 cannot hold them */
    as_trace_writer_opts_t o = {.version = 2};
    CU_ASSERT_FATAL(as_trace_writer_open(&w, path, &o) == 0);
    e = alloc_at(1, 4096);
    CU_ASSERT_FATAL(as_trace_writer_event(w, &e) == 0);
    CU_ASSERT_EQUAL(as_trace_writer_write(w, &ok), AS_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(as_trace_writer_error(w),
                                  "format version 2 cannot hold write "
                                  "reports (they need version 3)"));
    as_trace_writer_abort(w);
}

/* A one-chunk v3 file: two allocs (sizes 8, 9) at t = 5 and 7, tags
 * `tags` (ntags of them, 0x01 the allocs, 0x11 a report), definitions
 * defs[0..ndefs), the second alloc's time delta dt2. Decoding it: the
 * first error's code, its message in msg. */
static long decode(const uint8_t *tags, size_t ntags, const uint8_t *defs,
                   size_t ndefs, uint8_t dt2, char *msg, size_t cap,
                   as_write_t *got, size_t *ngot)
{
    uint8_t raw[128], file[1024];
    size_t n = 0;
    static const uint8_t cols[] = {0x00, 0x00, 0x01, 0x00, 0x00, 0x00,
                                   0x00, 0x00, 0x00, 0x08, 0x01, 0x00,
                                   0x00, 0x00, 0x00, 0x00, 0x00};
    memcpy(raw, cols, sizeof cols); /* code, (base, width) x 8 */
    n = sizeof cols;
    raw[n++] = (uint8_t)ntags;
    raw[n++] = (uint8_t)ndefs;
    memcpy(raw + n, tags, ntags);
    n += ntags;
    memcpy(raw + n, defs, ndefs);
    n += ndefs;
    raw[n++] = 0; /* time column: 0, dt2 */
    raw[n++] = dt2;
    raw[n++] = 0; /* size column: 8 + 0, 8 + 1 */
    raw[n++] = 1;
    size_t len = as_test_one_chunk_file(file, 3, raw, n, 2, 2, 5, 5 + dt2);
    as_trace_reader_t *r;
    CU_ASSERT_EQUAL_FATAL(as_trace_reader_open_mem(&r, "w.ast", file, len), 0);
    as_event_t ev[4];
    long rc = as_trace_reader_next_batch(r, ev, 4);
    if (rc >= 0) rc = as_trace_reader_next_batch(r, ev, 4);
    snprintf(msg, cap, "%s", as_trace_reader_error(r));
    const as_write_t *w = as_trace_reader_writes(r, ngot);
    if (*ngot) *got = w[0];
    as_trace_reader_close(r);
    return rc;
}

static void expect_bad(const uint8_t *tags, size_t ntags, const uint8_t *defs,
                       size_t ndefs, uint8_t dt2, const char *want)
{
    char msg[700];
    as_write_t got;
    size_t n;
    long rc = decode(tags, ntags, defs, ndefs, dt2, msg, sizeof msg, &got, &n);
    CU_ASSERT_EQUAL(rc, AS_EFORMAT);
    if (!strstr(msg, want))
        fprintf(stderr, "\n  got: %s\n  want: %s\n", msg, want);
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, want));
}

static void test_reader_refusals(void)
{
    const uint8_t tags_end[] = {0x01, 0x01, 0x11};
    const uint8_t tags_mid[] = {0x01, 0x11, 0x01};
    char msg[700];
    as_write_t got;
    size_t n;
    /* the good one: report (t=7, object 1, offset 2, 5 bytes) last */
    const uint8_t good[] = {7, 1, 2, 5};
    CU_ASSERT_EQUAL(decode(tags_end, 3, good, 4, 2, msg, sizeof msg, &got, &n),
                    0);
    CU_ASSERT_EQUAL_FATAL(n, 1);
    CU_ASSERT(got.t_ns == 7 && got.object == 1 && got.offset == 2 &&
              got.bytes == 5 && got.events_before == 2);
    /* between the two allocs: before event 1 */
    const uint8_t mid[] = {6, 0, 0, 1};
    CU_ASSERT_EQUAL(decode(tags_mid, 3, mid, 4, 2, msg, sizeof msg, &got, &n),
                    0);
    CU_ASSERT(n == 1 && got.t_ns == 6 && got.events_before == 1);

    const uint8_t zero[] = {7, 1, 2, 0};
    expect_bad(tags_end, 3, zero, 4, 2,
               "w.ast: offset 28: chunk 0, record 2: expected a write report "
               "of at least 1 byte, found 0 bytes");
    const uint8_t wrap[] = {7,    1,    0xff, 0xff, 0xff, 0xff, 0xff,
                            0xff, 0xff, 0xff, 0xff, 0x01, 1};
    expect_bad(tags_end, 3, wrap, sizeof wrap, 2,
               "chunk 0, record 2: expected a write report's offset + bytes "
               "below 2^64, found offset 18446744073709551615 and 1 bytes");
    const uint8_t ghost[] = {7, 2, 0, 1};
    expect_bad(tags_end, 3, ghost, 4, 2,
               "chunk 0, record 2: expected a write report on an object id "
               "below 2 (the next unallocated id), found object 2");
    const uint8_t ghost_mid[] = {5, 1, 0, 1}; /* only id 0 so far */
    expect_bad(tags_mid, 3, ghost_mid, 4, 2,
               "chunk 0, record 1: expected a write report on an object id "
               "below 1 (the next unallocated id), found object 1");
    const uint8_t back[] = {6, 1, 0, 1}; /* the last event was at 7 */
    expect_bad(tags_end, 3, back, 4, 2,
               "chunk 0, record 2: expected a write report at t >= 7 (the "
               "last event, sample or write report before it), found t=6");
    /* an event after a report must not be before it */
    const uint8_t late[] = {8, 0, 0, 1};
    expect_bad(tags_mid, 3, late, 4, 2, "chunk 0, record 2: expected a time");
    const uint8_t cut[] = {7, 1, 2};
    expect_bad(tags_end, 3, cut, 3, 2,
               "chunk 0, record 2: expected a write report's time, object, "
               "offset and bytes, found the end of the definition stream");
}

int main(void)
{
    static const as_test_t tests[] = {
        {"roundtrip", test_roundtrip},
        {"detached", test_detached},
        {"writer_refusals", test_writer_refusals},
        {"reader_refusals", test_reader_refusals},
        {NULL, NULL},
    };
    return as_test_main("traces_writes", tests);
}

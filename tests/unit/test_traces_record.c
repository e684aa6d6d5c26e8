/* test_traces_record.c - the recorder: the collector on hand-built record
 * streams, and `allocsim record` on tests/record_target.c end to end.
 *
 * The collector tests feed protocol records (traces/record/protocol.h) in
 * the order rings would deliver them -- threads out of order, byte by byte
 * -- and assert the trace event by event. The end-to-end tests need the
 * preload library; a build without it (ALLOCSIM_RECORDER=OFF, the ASan
 * build) runs only the collector tests, and says so.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/error.h"
#include "tests/unit/testutil.h"
#include "traces/import/recstream.h"
#include "traces/record/protocol.h"
#include "traces/hostthp.h"
#include "traces/trace.h"

/* ------------------------------------------------------------ helpers */

#define MAXEV 32768

typedef struct {
    as_event_t ev[MAXEV];
    size_t n;
    as_trace_reader_t *r;
} loaded_t;

static loaded_t L;

/* load: read every event of `path` into L (definitions absorbed). */
static int load(const char *path)
{
    if (L.r) as_trace_reader_close(L.r);
    L.r = NULL;
    L.n = 0;
    if (as_trace_reader_open(&L.r, path) != 0) return -1;
    as_event_t e;
    int rc;
    while ((rc = as_trace_reader_next(L.r, &e)) == 1)
        if (L.n < MAXEV) L.ev[L.n++] = e;
    return rc;
}

/* frame_of: frame k (0 = innermost) of `stack` in L, or an empty frame. */
static as_frame_t frame_of(uint32_t stack, uint32_t k)
{
    as_frame_t f = {0, 0, "", ""};
    const uint32_t *ids;
    uint32_t depth;
    if (stack && as_trace_reader_stack(L.r, stack, &ids, &depth) == 0 &&
        k < depth)
        as_trace_reader_frame(L.r, ids[k], &f);
    return f;
}

static uint32_t depth_of(uint32_t stack)
{
    const uint32_t *ids;
    uint32_t depth = 0;
    if (stack) as_trace_reader_stack(L.r, stack, &ids, &depth);
    return depth;
}

/* A stream under construction. */
typedef struct {
    uint8_t b[1 << 16];
    size_t n;
} stream_t;

static void put(stream_t *s, const void *rec, size_t len)
{
    memcpy(s->b + s->n, rec, len);
    s->n += len;
}

static as_rec_head_t head(int type, size_t len, uint32_t thread, uint64_t seq,
                          uint64_t t)
{
    as_rec_head_t h;
    memset(&h, 0, sizeof h);
    h.type = (uint8_t)type;
    h.len = (uint16_t)len;
    h.thread = thread;
    h.seq = seq;
    h.t_ns = t;
    h.cpu = thread + 10;
    return h;
}

static void put_hello(stream_t *s, uint64_t t)
{
    as_rec_hello_t r;
    memset(&r, 0, sizeof r);
    r.h = head(AS_REC_HELLO, sizeof r, 0, 0, t);
    r.pid = 42;
    put(s, &r, sizeof r);
}

static void put_alloc(stream_t *s, uint32_t th, uint64_t seq, uint64_t t,
                      uint64_t ptr, uint64_t size, uint64_t align,
                      uint32_t stack)
{
    as_rec_alloc_t r;
    memset(&r, 0, sizeof r);
    r.h = head(AS_REC_ALLOC, sizeof r, th, seq, t);
    r.h.flags = AS_REC_F_SAMPLED;
    r.h.stack = stack;
    r.ptr = ptr, r.size = size, r.align = align;
    put(s, &r, sizeof r);
}

static void put_ptr(stream_t *s, int type, uint32_t th, uint64_t seq,
                    uint64_t t, uint64_t ptr)
{
    as_rec_ptr_t r;
    r.h = head(type, sizeof r, th, seq, t);
    r.ptr = ptr;
    put(s, &r, sizeof r);
}

static void put_realloc(stream_t *s, uint32_t th, uint64_t seq, uint64_t t,
                        uint64_t ptr, uint64_t size, int flags)
{
    as_rec_realloc_t r;
    memset(&r, 0, sizeof r);
    r.h = head(AS_REC_REALLOC, sizeof r, th, seq, t);
    r.h.flags = (uint8_t)flags;
    r.ptr = ptr, r.size = size;
    put(s, &r, sizeof r);
}

static void put_stack(stream_t *s, uint32_t th, uint64_t seq, uint32_t id,
                      const uint64_t *pcs, uint32_t depth)
{
    uint64_t buf[64];
    as_rec_stack_t *r = (as_rec_stack_t *)buf;
    memset(r, 0, sizeof *r);
    r->h = head(AS_REC_STACK, sizeof *r + 8 * depth, th, seq, 0);
    r->h.stack = id;
    r->depth = depth;
    memcpy(buf + sizeof *r / 8, pcs, 8 * depth);
    put(s, buf, r->h.len);
}

static void put_sym(stream_t *s, uint64_t pc, uint64_t off, const char *mod,
                    const char *sym)
{
    uint64_t buf[64];
    memset(buf, 0, sizeof buf);
    as_rec_sym_t *r = (as_rec_sym_t *)buf;
    size_t ml = strlen(mod), sl = strlen(sym);
    size_t len = (sizeof *r + ml + sl + 2 + 7) & ~(size_t)7;
    r->h = head(AS_REC_SYM, len, 0, 0, 0);
    r->pc = pc, r->offset = off;
    r->module_len = (uint32_t)ml, r->symbol_len = (uint32_t)sl;
    memcpy((char *)(r + 1), mod, ml);
    memcpy((char *)(r + 1) + ml + 1, sym, sl);
    put(s, buf, len);
}

/* collect: feed `s` in pieces of `step` bytes into a fresh trace at `path`.
 * @return the collector's first error (0 when all went well). */
static uint64_t resolution_ns = 1;

static int collect(const stream_t *s, size_t step, const char *path,
                   as_recstream_stats_t *st)
{
    as_trace_writer_t *w;
    as_recstream_t *c;
    if (as_trace_writer_open(&w, path, NULL) != 0) return -100;
    as_recstream_open(&c, w);
    as_recstream_set_resolution(c, resolution_ns);
    int rc = 0;
    for (size_t off = 0; off < s->n && !rc; off += step) {
        size_t k = s->n - off < step ? s->n - off : step;
        rc = as_recstream_feed(c, s->b + off, k);
    }
    if (!rc) rc = as_recstream_finish(c, st);
    as_recstream_free(c);
    if (rc) {
        as_trace_writer_abort(w);
        return rc;
    }
    return as_trace_writer_close(w);
}

static void expect_ev(size_t i, int kind, uint32_t thread, uint64_t t,
                      uint64_t object, uint64_t new_object, uint64_t size)
{
    CU_ASSERT_FATAL(i < L.n);
    const as_event_t *e = &L.ev[i];
    CU_ASSERT_EQUAL(e->kind, kind);
    CU_ASSERT_EQUAL(e->thread, thread);
    CU_ASSERT_EQUAL(e->t_ns, t);
    CU_ASSERT_EQUAL(e->object, object);
    if (kind == AS_EV_REALLOC) CU_ASSERT_EQUAL(e->new_object, new_object);
    if (kind != AS_EV_FREE) CU_ASSERT_EQUAL(e->size, size);
}

static void put_mem(stream_t *s, uint64_t seq, uint64_t t, uint64_t rss,
                    uint64_t huge, uint32_t has)
{
    as_rec_mem_t r;
    memset(&r, 0, sizeof r);
    r.h = head(AS_REC_MEM, sizeof r, 0, seq, t);
    r.rss_bytes = rss, r.anon_huge_bytes = huge, r.has = has;
    put(s, &r, sizeof r);
}

/* ------------------------------------------------------- collector tests */

/* put_write: a WRITE record for ptr with `runs` runs of [start, end). */
static void put_write(stream_t *s, uint64_t seq, uint64_t t, uint64_t ptr,
                      uint64_t aseq, const uint64_t *runs, uint32_t nruns)
{
    uint64_t buf[64];
    as_rec_write_t *r = (as_rec_write_t *)buf;
    memset(r, 0, sizeof *r);
    r->h = head(AS_REC_WRITE, sizeof *r + 16 * nruns, 0, seq, t);
    r->ptr = ptr, r->alloc_seq = aseq, r->runs = nruns;
    r->why = AS_REC_WRITE_PERIODIC;
    memcpy(buf + sizeof *r / 8, runs, 16 * nruns);
    put(s, buf, r->h.len);
}

static void put_hello_writes(stream_t *s, uint64_t t, uint64_t writes_min)
{
    put_hello(s, t);
    ((as_rec_hello_t *)(s->b + s->n - sizeof(as_rec_hello_t)))->writes_min =
        writes_min;
}

/* WRITE records: runs clipped to the object live at ptr and made
 * object-relative; a report whose alloc_seq names an object that was
 * freed (a periodic scan racing with a free and a reuse of the address),
 * of an address not live, or of an object below the bound is dropped and
 * counted; a failed realloc keeps the old object reportable, a moved one
 * is reportable at its new address only. */
static void test_collect_writes(void)
{
    stream_t *s = calloc(1, sizeof *s);
    put_hello_writes(s, 1000, 8192);
    put_alloc(s, 0, 1, 1001, 0x10000, 20000, 0, 0); /* object 0 */
    put_alloc(s, 0, 2, 1002, 0x40000, 100, 0, 0);   /* 1: small */
    const uint64_t r3[] = {0xf000, 0x11000, 0x14000, 0x16000};
    put_write(s, 3, 1003, 0x10000, 1, r3, 2);
    put_ptr(s, AS_REC_FREE, 0, 4, 1004, 0x10000);
    put_alloc(s, 0, 5, 1005, 0x10000, 30000, 0, 0); /* 2: same address */
    const uint64_t r6[] = {0x10000, 0x12000};
    put_write(s, 6, 1006, 0x10000, 1, r6, 1); /* object 0's: stale */
    const uint64_t r7[] = {0x10000, 0x11000};
    put_write(s, 7, 1007, 0x10000, 0, r7, 1); /* a hook's: object 2 */
    put_write(s, 8, 1008, 0x40000, 2, r7, 1); /* small: dropped */
    put_ptr(s, AS_REC_RBEGIN, 0, 9, 1009, 0x10000);
    put_realloc(s, 0, 10, 1010, 0, 1 << 30, AS_REC_F_FAILED);
    put_write(s, 11, 1011, 0x10000, 5, r7, 1); /* still object 2 */
    put_write(s, 12, 1012, 0x99000, 0, r7, 1); /* nothing there */
    put_ptr(s, AS_REC_RBEGIN, 0, 13, 1013, 0x10000);
    put_realloc(s, 0, 14, 1014, 0x80000, 50000, AS_REC_F_SAMPLED); /* 3 */
    const uint64_t r15[] = {0x80000, 0x82000};
    put_write(s, 15, 1015, 0x80000, 14, r15, 1);
    put_write(s, 16, 1016, 0x10000, 5, r7, 1); /* moved away: dropped */
    /* the periodic report of seq 6 arrives late, from the drainer */
    stream_t *t = calloc(1, sizeof *t);
    put(t, s->b, s->n);
    const char *path = as_test_tmpfile("collect-writes", ".ast");
    as_recstream_stats_t st;
    CU_ASSERT_EQUAL_FATAL(collect(t, 5, path, &st), 0);
    CU_ASSERT_EQUAL(st.writes, 5);
    CU_ASSERT_EQUAL(st.writes_dropped, 4);
    CU_ASSERT_EQUAL_FATAL(load(path), 0);
    CU_ASSERT_EQUAL_FATAL(L.n, 5); /* a a f a r */
    CU_ASSERT_STRING_EQUAL(as_trace_reader_meta(L.r, "record.writes"),
                           "pagemap");
    CU_ASSERT_STRING_EQUAL(as_trace_reader_meta(L.r, "record.writes_min_bytes"),
                           "8192");
    CU_ASSERT_STRING_EQUAL(as_trace_reader_meta(L.r, "record.writes_dropped"),
                           "4");
    size_t n;
    const as_write_t *w = as_trace_reader_writes(L.r, &n);
    CU_ASSERT_EQUAL_FATAL(n, 5);
    const uint64_t want[5][5] = {/* t, object, offset, bytes, events before */
                                 {3, 0, 0, 0x1000, 2},
                                 {3, 0, 0x4000, 20000 - 0x4000, 2},
                                 {7, 2, 0, 0x1000, 4},
                                 {11, 2, 0, 0x1000, 4},
                                 {15, 3, 0, 0x2000, 5}};
    for (size_t i = 0; i < n; i++) {
        CU_ASSERT_EQUAL(w[i].t_ns, want[i][0]);
        CU_ASSERT_EQUAL(w[i].object, want[i][1]);
        CU_ASSERT_EQUAL(w[i].offset, want[i][2]);
        CU_ASSERT_EQUAL(w[i].bytes, want[i][3]);
        CU_ASSERT_EQUAL(w[i].events_before, want[i][4]);
    }
    remove(path);

    /* a recorder without reports: no metadata, any WRITE dropped */
    s->n = 0;
    put_hello_writes(s, 1000, 0);
    put_alloc(s, 0, 1, 1001, 0x10000, 20000, 0, 0);
    put_write(s, 2, 1002, 0x10000, 1, r7, 1);
    CU_ASSERT_EQUAL_FATAL(collect(s, 64, path, &st), 0);
    CU_ASSERT_EQUAL(st.writes, 0);
    CU_ASSERT_EQUAL_FATAL(load(path), 0);
    CU_ASSERT_PTR_NULL(as_trace_reader_meta(L.r, "record.writes"));
    CU_ASSERT_PTR_NULL(as_trace_reader_meta(L.r, "record.writes_dropped"));
    as_trace_reader_writes(L.r, &n);
    CU_ASSERT_EQUAL(n, 0);
    remove(path);

    /* malformed runs: empty, out of order, overrunning the record */
    const uint64_t bad[3][4] = {{0x2000, 0x2000, 0, 0},
                                {0x3000, 0x4000, 0x1000, 0x2000},
                                {0x1000, 0x2000, 0, 0}};
    for (int k = 0; k < 3; k++) {
        s->n = 0;
        put_hello_writes(s, 1000, 8192);
        put_alloc(s, 0, 1, 1001, 0x10000, 20000, 0, 0);
        put_write(s, 2, 1002, 0x10000, 1, bad[k], k == 1 ? 2 : 1);
        if (k == 2) /* says 2 runs, carries 1 */
            ((as_rec_write_t *)(s->b + s->n - sizeof(as_rec_write_t) - 16))
                ->runs = 2;
        CU_ASSERT_EQUAL(collect(s, 64, path, &st), AS_EFORMAT);
    }
    free(t);
    free(s);
}

/* Stack heights ride on ALLOC/REALLOC; MEM records are numbered like
 * events and land among them in seq order, their times made
 * non-decreasing like the events'. */
static void test_collect_memory_and_heights(void)
{
    stream_t *s = calloc(1, sizeof *s);
    put_hello(s, 1000);
    put_alloc(s, 0, 1, 1100, 0xa0, 16, 0, 0);
    ((as_rec_alloc_t *)(s->b + s->n - sizeof(as_rec_alloc_t)))->height = 512;
    put_mem(s, 3, 1300, 8192, 2097152, 3); /* arrives before seq 2 */
    put_alloc(s, 1, 2, 1200, 0xb0, 32, 0, 0);
    ((as_rec_alloc_t *)(s->b + s->n - sizeof(as_rec_alloc_t)))->height = 640;
    put_mem(s, 4, 1250, 12288, 0, 1); /* stamped earlier than seq 3 */
    put_ptr(s, AS_REC_FREE, 0, 5, 1400, 0xa0);
    const char *path = as_test_tmpfile("collect-mem", ".ast");
    as_recstream_stats_t st;
    CU_ASSERT_EQUAL_FATAL(collect(s, 7, path, &st), 0);
    CU_ASSERT_EQUAL(st.mem_samples, 2);
    CU_ASSERT_EQUAL_FATAL(load(path), 0);
    CU_ASSERT_EQUAL_FATAL(L.n, 3);
    expect_ev(0, AS_EV_ALLOC, 0, 100, 0, 0, 16);
    expect_ev(1, AS_EV_ALLOC, 1, 200, 1, 0, 32);
    expect_ev(2, AS_EV_FREE, 0, 400, 0, 0, 0);
    CU_ASSERT_EQUAL(L.ev[0].stack_height, 512);
    CU_ASSERT_EQUAL(L.ev[1].stack_height, 640);
    size_t n;
    const as_mem_sample_t *m = as_trace_reader_samples(L.r, &n);
    CU_ASSERT_EQUAL_FATAL(n, 2);
    CU_ASSERT(m[0].t_ns == 300 && m[0].rss_bytes == 8192 &&
              m[0].anon_huge_bytes == 2097152 && m[0].has == 3 &&
              m[0].events_before == 2);
    CU_ASSERT(m[1].t_ns == 300 && m[1].rss_bytes == 12288 &&
              m[1].has == AS_SAMPLE_HAS_RSS && m[1].events_before == 2);
    remove(path);
    free(s);
}

/* Thread 1's ring arrives before thread 0's: the collector must hold the
 * free (seq 5) until the allocation (seq 1) and the realloc's RBEGIN (seq 2)
 * have been seen, and map the reused address p to the new object. */
static void test_collect_reorder_and_realloc_race(void)
{
    stream_t s = {.n = 0};
    const uint64_t p = 0x1000, q = 0x2000;
    put_hello(&s, 1000);
    /* thread 1's ring: another thread got p right after realloc freed it */
    put_alloc(&s, 1, 3, 1300, p, 20, 0, 0);
    put_ptr(&s, AS_REC_FREE, 1, 5, 1500, p);
    /* thread 0's ring */
    put_alloc(&s, 0, 1, 1100, p, 10, 16, 0);
    put_ptr(&s, AS_REC_RBEGIN, 0, 2, 1200, p);
    put_realloc(&s, 0, 4, 1400, q, 30, AS_REC_F_SAMPLED);
    put_ptr(&s, AS_REC_FREE, 0, 6, 1600, q);
    const char *path = as_test_tmpfile("rec-reorder", ".ast");
    as_recstream_stats_t st;
    const size_t steps[] = {1, 7, s.n};
    for (size_t si = 0; si < 3; si++) {
        size_t step = steps[si];
        CU_ASSERT_EQUAL_FATAL(collect(&s, step, path, &st), 0);
        CU_ASSERT_EQUAL_FATAL(load(path), 0);
        CU_ASSERT_EQUAL(L.n, 5);
        expect_ev(0, AS_EV_ALLOC, 0, 100, 0, 0, 10);
        CU_ASSERT_EQUAL(L.ev[0].align, 16);
        CU_ASSERT_EQUAL(L.ev[0].cpu, 10);
        expect_ev(1, AS_EV_ALLOC, 1, 300, 1, 0, 20);
        expect_ev(2, AS_EV_REALLOC, 0, 400, 0, 2, 30);
        expect_ev(3, AS_EV_FREE, 1, 500, 1, 0, 0);
        expect_ev(4, AS_EV_FREE, 0, 600, 2, 0, 0);
        CU_ASSERT_EQUAL(st.unmatched_frees, 0);
        CU_ASSERT_EQUAL(st.reused_live, 0);
        CU_ASSERT_EQUAL(st.allocs, 2);
        CU_ASSERT_EQUAL(st.reallocs, 1);
        CU_ASSERT_EQUAL(st.frees, 2);
        remove(path);
    }
}

/* Unknown frees are dropped and counted; a failed realloc keeps the old
 * object; realloc to size 0 frees; a realloc of an unknown address is an
 * allocation; a non-sampled realloc frees the old object; time never goes
 * back (seq 6 is stamped before the last event written). */
static void test_collect_edge_cases(void)
{
    stream_t s = {.n = 0};
    put_hello(&s, 0);
    put_alloc(&s, 0, 1, 10, 0xa0, 8, 0, 0);     /* obj 0 */
    put_ptr(&s, AS_REC_FREE, 0, 2, 20, 0xdead); /* unknown: dropped */
    put_ptr(&s, AS_REC_RBEGIN, 0, 3, 30, 0xa0);
    put_realloc(&s, 0, 4, 40, 0, 1u << 30, AS_REC_F_FAILED); /* keeps 0 */
    put_ptr(&s, AS_REC_RBEGIN, 0, 5, 50, 0xa0);
    put_realloc(&s, 0, 6, 5, 0, 0, 0);                     /* size 0: free 0 */
    put_ptr(&s, AS_REC_RBEGIN, 0, 7, 60, 0xb0);            /* unknown old */
    put_realloc(&s, 0, 8, 70, 0xc0, 24, AS_REC_F_SAMPLED); /* alloc 1 */
    put_ptr(&s, AS_REC_RBEGIN, 0, 9, 80, 0xc0);
    put_realloc(&s, 0, 10, 90, 0xd0, 48, 0);    /* not sampled: free 1 */
    put_ptr(&s, AS_REC_FREE, 0, 11, 100, 0xd0); /* unknown: dropped */
    const char *path = as_test_tmpfile("rec-edge", ".ast");
    as_recstream_stats_t st;
    CU_ASSERT_EQUAL_FATAL(collect(&s, 13, path, &st), 0);
    CU_ASSERT_EQUAL_FATAL(load(path), 0);
    CU_ASSERT_EQUAL(L.n, 4);
    expect_ev(0, AS_EV_ALLOC, 0, 10, 0, 0, 8);
    expect_ev(1, AS_EV_FREE, 0, 10, 0, 0, 0); /* stamped 5, clamped to 10 */
    expect_ev(2, AS_EV_ALLOC, 0, 70, 1, 0, 24);
    expect_ev(3, AS_EV_FREE, 0, 90, 1, 0, 0);
    CU_ASSERT_EQUAL(st.unmatched_frees, 3); /* 0xdead, 0xb0, 0xd0 */
    CU_ASSERT_STRING_EQUAL(as_trace_reader_meta(L.r, "record.unmatched_frees"),
                           "3");
    CU_ASSERT_STRING_EQUAL(as_trace_reader_meta(L.r, "pid"), "42");
    remove(path);
}

/* Stacks: pcs become frames (shared between stacks), symbols known before
 * the stack is released are in the first definition, a late symbol
 * redefines the frame. */
static void test_collect_stacks_and_symbols(void)
{
    stream_t s = {.n = 0};
    const uint64_t a[] = {0x401010, 0x402020}, b[] = {0x403030, 0x402020};
    put_hello(&s, 0);
    put_sym(&s, 0x401010, 0x1010, "/bin/prog", "leaf");
    put_stack(&s, 0, 1, 7, a, 2);
    put_alloc(&s, 0, 2, 5, 0x10, 64, 0, 7);
    put_stack(&s, 0, 3, 8, b, 2);
    put_alloc(&s, 0, 4, 6, 0x20, 32, 0, 8);
    put_sym(&s, 0x402020, 0x2020, "/bin/prog", "main");
    const char *path = as_test_tmpfile("rec-stacks", ".ast");
    as_recstream_stats_t st;
    CU_ASSERT_EQUAL_FATAL(collect(&s, 64, path, &st), 0);
    CU_ASSERT_EQUAL_FATAL(load(path), 0);
    CU_ASSERT_EQUAL_FATAL(L.n, 2);
    CU_ASSERT_EQUAL(st.stacks, 2);
    CU_ASSERT_EQUAL(st.frames, 3);
    CU_ASSERT_EQUAL(L.ev[0].stack, 1); /* image stack 7 -> trace stack 1 */
    CU_ASSERT_EQUAL(L.ev[1].stack, 2);
    CU_ASSERT_EQUAL(depth_of(1), 2);
    as_frame_t f = frame_of(1, 0);
    CU_ASSERT_EQUAL(f.pc, 0x401010);
    CU_ASSERT_EQUAL(f.offset, 0x1010);
    CU_ASSERT_STRING_EQUAL(f.module, "/bin/prog");
    CU_ASSERT_STRING_EQUAL(f.symbol, "leaf");
    f = frame_of(2, 1); /* the shared frame, symbolized late */
    CU_ASSERT_EQUAL(f.pc, 0x402020);
    CU_ASSERT_STRING_EQUAL(f.symbol, "main");
    f = frame_of(2, 0); /* never symbolized */
    CU_ASSERT_EQUAL(f.pc, 0x403030);
    CU_ASSERT_STRING_EQUAL(f.symbol, "");
    remove(path);
}

/* A second HELLO (exec) frees the old image's live objects; its stack ids
 * start again; a record cut off at the end and a seq gap are counted. */
static void test_collect_exec_gap_and_cut(void)
{
    stream_t s = {.n = 0};
    const uint64_t a[] = {0x1111}, b[] = {0x2222};
    put_hello(&s, 0);
    put_stack(&s, 0, 1, 1, a, 1);
    put_alloc(&s, 0, 2, 10, 0x10, 100, 0, 1); /* obj 0, lives to the exec */
    put_alloc(&s, 0, 4, 30, 0x20, 200, 0, 1); /* seq 3 never arrives */
    put_hello(&s, 50);
    put_stack(&s, 0, 1, 1, b, 1);
    put_alloc(&s, 0, 2, 60, 0x10, 300, 0, 1); /* same address, new image */
    put_alloc(&s, 0, 3, 70, 0x30, 400, 0, 1);
    s.n -= 8; /* the last record is cut off */
    const char *path = as_test_tmpfile("rec-exec", ".ast");
    as_recstream_stats_t st;
    CU_ASSERT_EQUAL_FATAL(collect(&s, 1000, path, &st), 0);
    CU_ASSERT_EQUAL_FATAL(load(path), 0);
    CU_ASSERT_EQUAL_FATAL(L.n, 5);
    expect_ev(0, AS_EV_ALLOC, 0, 10, 0, 0, 100);
    expect_ev(1, AS_EV_ALLOC, 0, 30, 1, 0, 200);
    /* the exec frees 0 and 1 (hash order) at the last time seen */
    CU_ASSERT_EQUAL(L.ev[2].kind, AS_EV_FREE);
    CU_ASSERT_EQUAL(L.ev[3].kind, AS_EV_FREE);
    CU_ASSERT_EQUAL(L.ev[2].object + L.ev[3].object, 1);
    CU_ASSERT_EQUAL(L.ev[3].t_ns, 30);
    expect_ev(4, AS_EV_ALLOC, 0, 60, 2, 0, 300);
    CU_ASSERT_EQUAL(L.ev[4].stack, 2);
    CU_ASSERT_EQUAL(frame_of(2, 0).pc, 0x2222);
    CU_ASSERT_EQUAL(st.images, 2);
    CU_ASSERT_EQUAL(st.seq_gaps, 1);
    CU_ASSERT_EQUAL(st.partial_bytes, sizeof(as_rec_alloc_t) - 8);
    remove(path);
}

static void put_mark(stream_t *s, uint64_t seq_end, uint32_t why, uint32_t sig)
{
    as_rec_mark_t r;
    memset(&r, 0, sizeof r);
    r.h = head(AS_REC_MARK, sizeof r, 0, 0, 0);
    r.seq_end = seq_end, r.why = why, r.signal = sig;
    put(s, &r, sizeof r);
}

/* hello_alloc_mark: a fresh stream: HELLO, one allocation (seq 1), and a
 * MARK of kind `why` saying seq 1 was the last number handed out. */
static void hello_alloc_mark(stream_t *s, uint32_t why)
{
    s->n = 0;
    put_hello(s, 0);
    put_alloc(s, 0, 1, 10, 0x10, 100, 0, 0);
    put_mark(s, 2, why, 0);
}

/* MARKs count what never arrived: image 1 numbered 1..6 (MARK exec, 7),
 * seq 3 is a gap and 5, 6 the tail: 3 lost; image 2 numbered 1..4 and
 * died by signal 6 (MARK 5) with 3, 4 unshipped: 2 more. Without a final
 * MARK the loss is unknown: record.end says "cut off". */
static void test_collect_marks(void)
{
    stream_t s = {.n = 0};
    const uint64_t a[] = {0x1111};
    put_hello(&s, 0);
    put_stack(&s, 0, 1, 1, a, 1);
    put_alloc(&s, 0, 2, 10, 0x10, 100, 0, 1);
    put_alloc(&s, 0, 4, 30, 0x20, 200, 0, 1);
    put_mark(&s, 7, AS_REC_MARK_EXEC, 0);
    put_hello(&s, 50);
    put_stack(&s, 0, 1, 1, a, 1);
    put_alloc(&s, 0, 2, 60, 0x10, 300, 0, 1);
    put_mark(&s, 5, AS_REC_MARK_SIGNAL, 6);
    const char *path = as_test_tmpfile("rec-mark", ".ast");
    as_recstream_stats_t st;
    CU_ASSERT_EQUAL_FATAL(collect(&s, 7, path, &st), 0);
    CU_ASSERT_EQUAL(st.seq_gaps, 1);
    CU_ASSERT_EQUAL(st.lost_records, 5);
    CU_ASSERT_EQUAL(st.cut_off, 0);
    CU_ASSERT_EQUAL(st.end, AS_RECSTREAM_END_SIGNAL);
    CU_ASSERT_EQUAL_FATAL(load(path), 0);
    CU_ASSERT_STRING_EQUAL(as_trace_reader_meta(L.r, "record.lost_records"),
                           "5");
    CU_ASSERT_STRING_EQUAL(as_trace_reader_meta(L.r, "record.end"), "signal 6");
    remove(path);

    /* a MARK followed by more records (a failed exec) is not the end; the
     * stream then stops without one: cut off, loss unknown */
    hello_alloc_mark(&s, AS_REC_MARK_EXEC);
    put_alloc(&s, 0, 2, 20, 0x20, 100, 0, 0);
    CU_ASSERT_EQUAL_FATAL(collect(&s, 1000, path, &st), 0);
    CU_ASSERT_EQUAL(st.end, AS_RECSTREAM_END_CUT);
    CU_ASSERT_EQUAL(st.cut_off, 1);
    CU_ASSERT_EQUAL(st.lost_records, 0);
    CU_ASSERT_EQUAL_FATAL(load(path), 0);
    CU_ASSERT_STRING_EQUAL(as_trace_reader_meta(L.r, "record.end"), "cut off");
    remove(path);

    /* an exit MARK with nothing lost; a MARK before HELLO is malformed */
    hello_alloc_mark(&s, AS_REC_MARK_EXIT);
    CU_ASSERT_EQUAL_FATAL(collect(&s, 1000, path, &st), 0);
    CU_ASSERT_EQUAL(st.end, AS_RECSTREAM_END_EXIT);
    CU_ASSERT_EQUAL(st.lost_records, 0);
    s.n = 0;
    put_mark(&s, 2, AS_REC_MARK_EXIT, 0);
    CU_ASSERT_EQUAL(collect(&s, 1000, path, &st), AS_EFORMAT);
    remove(path);
}

/* --time-resolution 100: times round down to multiples of 100 ns (relative
 * to the HELLO), and still never go back. */
static void test_collect_time_resolution(void)
{
    stream_t s = {.n = 0};
    put_hello(&s, 1000);
    put_alloc(&s, 0, 1, 1150, 0x10, 1, 0, 0); /* 150 -> 100 */
    put_alloc(&s, 0, 2, 1299, 0x20, 2, 0, 0); /* 299 -> 200 */
    put_alloc(&s, 0, 3, 1210, 0x30, 3, 0, 0); /* 210 -> 200 */
    put_alloc(&s, 0, 4, 1199, 0x40, 4, 0, 0); /* 199 -> 100 -> 200 */
    const char *path = as_test_tmpfile("rec-res", ".ast");
    resolution_ns = 100;
    int rc = collect(&s, 64, path, NULL);
    resolution_ns = 1;
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    CU_ASSERT_EQUAL_FATAL(load(path), 0);
    CU_ASSERT_EQUAL_FATAL(L.n, 4);
    expect_ev(0, AS_EV_ALLOC, 0, 100, 0, 0, 1);
    expect_ev(1, AS_EV_ALLOC, 0, 200, 1, 0, 2);
    expect_ev(2, AS_EV_ALLOC, 0, 200, 2, 0, 3);
    expect_ev(3, AS_EV_ALLOC, 0, 200, 3, 0, 4);
    remove(path);
}

static void put_sync(stream_t *s, uint64_t tsc, uint64_t ns)
{
    as_rec_sync_t r;
    memset(&r, 0, sizeof r);
    r.h = head(AS_REC_SYNC, sizeof r, 0, 0, ns);
    r.tsc = tsc;
    put(s, &r, sizeof r);
}

/* TSC images: event times are ticks, converted with the last two clock
 * pairs. HELLO (tsc 1000, ns 5000), SYNC (3000, 6000): 0.5 ns per tick, so
 * tick 2000 is 5500 ns (500 after the origin); SYNC (5000, 7000): tick 6000
 * is 7500 ns (2500); a SYNC that does not move on is ignored. */
static void test_collect_tsc(void)
{
    stream_t s = {.n = 0};
    as_rec_hello_t hello;
    memset(&hello, 0, sizeof hello);
    hello.h = head(AS_REC_HELLO, sizeof hello, 0, 0, 5000);
    hello.h.flags = AS_REC_F_TSC;
    hello.tsc = 1000;
    put(&s, &hello, sizeof hello);
    put_sync(&s, 3000, 6000);
    put_alloc(&s, 0, 1, 2000, 0x10, 1, 0, 0);
    put_sync(&s, 5000, 7000);
    put_sync(&s, 5000, 7000);
    put_alloc(&s, 0, 2, 6000, 0x20, 2, 0, 0);
    const char *path = as_test_tmpfile("rec-tsc", ".ast");
    CU_ASSERT_EQUAL_FATAL(collect(&s, 64, path, NULL), 0);
    CU_ASSERT_EQUAL_FATAL(load(path), 0);
    CU_ASSERT_EQUAL_FATAL(L.n, 2);
    expect_ev(0, AS_EV_ALLOC, 0, 500, 0, 0, 1);
    expect_ev(1, AS_EV_ALLOC, 0, 2500, 1, 0, 2);
    remove(path);
}

static void test_collect_rejects_garbage(void)
{
    stream_t s = {.n = 0};
    put_alloc(&s, 0, 1, 10, 0x10, 1, 0, 0); /* event before HELLO */
    const char *path = as_test_tmpfile("rec-bad", ".ast");
    CU_ASSERT_EQUAL(collect(&s, 64, path, NULL), AS_EFORMAT);
    stream_t t = {.n = 0};
    put_hello(&t, 0);
    as_rec_head_t h = head(AS_REC_FREE, 12, 0, 1, 0); /* len not x8 */
    put(&t, &h, sizeof h);
    CU_ASSERT_EQUAL(collect(&t, 64, path, NULL), AS_EFORMAT);
    CU_ASSERT_EQUAL(access(path, F_OK), -1); /* aborted: nothing left */
}

/* ---------------------------------------------------- end-to-end tests */

static char lib_path[1024], target[1024], allocsim[1024];

static int have_recorder(void)
{
    snprintf(lib_path, sizeof lib_path,
             AS_BINARY_DIR "/traces/record/liballocsim_record.so");
    snprintf(target, sizeof target,
             AS_BINARY_DIR "/traces/record/record_target");
    snprintf(allocsim, sizeof allocsim, AS_BINARY_DIR "/allocsim");
    if (access(lib_path, R_OK) == 0 && access(target, X_OK) == 0) return 1;
    printf("\n  (recorder not built: end-to-end test skipped) ");
    return 0;
}

/* record: run `allocsim record [extra] -o out -- record_target args`
 * (extra: a flag such as "--stack-cache", or a --sample-bytes value),
 * stdout to `out_fd` (or /dev/null). @return its wait status. */
static int record(const char *out, const char *extra, const char *mode,
                  const char *arg, pid_t *pid_out, int out_fd)
{
    pid_t pid = fork();
    if (pid == 0) {
        int null = open("/dev/null", O_WRONLY);
        dup2(out_fd >= 0 ? out_fd : null, 1);
        dup2(null, 2);
        char *argv[12];
        int k = 0;
        argv[k++] = allocsim;
        argv[k++] = "record";
        if (extra && extra[0] == '-') { /* a flag */
            argv[k++] = (char *)extra;
        } else if (extra) {
            argv[k++] = "--sample-bytes";
            argv[k++] = (char *)extra;
        }
        argv[k++] = "-o";
        argv[k++] = (char *)out;
        argv[k++] = "--";
        argv[k++] = target;
        argv[k++] = (char *)mode;
        if (arg) argv[k++] = (char *)arg;
        argv[k] = NULL;
        execv(allocsim, argv);
        _exit(126);
    }
    if (pid_out) {
        *pid_out = pid;
        return 0;
    }
    int st;
    waitpid(pid, &st, 0);
    return st;
}

static int ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

/* mine: the events made by record_target's own code (innermost frame in
 * its module), frees included when their object is one of those. */
static size_t mine(as_event_t *out, size_t cap)
{
    static unsigned char keep[1 << 16];
    size_t n = 0;
    memset(keep, 0, sizeof keep);
    for (size_t i = 0; i < L.n; i++) {
        const as_event_t *e = &L.ev[i];
        int k;
        if (e->kind == AS_EV_FREE) {
            k = e->object < sizeof keep && keep[e->object];
        } else {
            k = ends_with(frame_of(e->stack, 0).module, "/record_target");
            if (e->kind == AS_EV_REALLOC && e->object < sizeof keep)
                k = k || keep[e->object];
            uint64_t id = e->kind == AS_EV_REALLOC ? e->new_object : e->object;
            if (k && id < sizeof keep) keep[id] = 1;
        }
        if (k && n < cap) out[n++] = *e;
    }
    return n;
}

static void check_alloc(const as_event_t *e, int kind, uint64_t size,
                        uint64_t align, const char *fn)
{
    CU_ASSERT_EQUAL(e->kind, kind);
    CU_ASSERT_EQUAL(e->size, size);
    CU_ASSERT_EQUAL(e->align, align);
    CU_ASSERT_STRING_EQUAL(frame_of(e->stack, 0).symbol, fn);
}

static void test_record_basic(void)
{
    if (!have_recorder()) return;
    const char *out = as_test_tmpfile("rec-basic", ".ast");
    int st = record(out, NULL, "basic", NULL, NULL, -1);
    CU_ASSERT_FATAL(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    CU_ASSERT_EQUAL_FATAL(load(out), 0);
    as_event_t m[64];
    size_t n = mine(m, 64);
    CU_ASSERT_EQUAL_FATAL(n, 29);
    /* main thread: sizes and alignments */
    check_alloc(&m[0], AS_EV_ALLOC, 100, 0, "mode_basic");
    check_alloc(&m[1], AS_EV_ALLOC, 200, 0, "mode_basic"); /* calloc 10x20 */
    check_alloc(&m[2], AS_EV_ALLOC, 300, 64, "mode_basic");
    check_alloc(&m[3], AS_EV_ALLOC, 512, 256, "mode_basic");
    check_alloc(&m[4], AS_EV_ALLOC, 1000, 128, "mode_basic");
    check_alloc(&m[5], AS_EV_ALLOC, 5000, 4096, "mode_basic");
    /* the second frame is main: the frame-pointer walk got past the leaf */
    CU_ASSERT(depth_of(m[0].stack) >= 2);
    CU_ASSERT_STRING_EQUAL(frame_of(m[0].stack, 1).symbol, "main");
    /* realloc chain 16 -> 32 -> 64 -> 4096, freed */
    check_alloc(&m[6], AS_EV_ALLOC, 16, 0, "mode_basic");
    check_alloc(&m[7], AS_EV_REALLOC, 32, 0, "mode_basic");
    check_alloc(&m[8], AS_EV_REALLOC, 64, 0, "mode_basic");
    check_alloc(&m[9], AS_EV_REALLOC, 4096, 0, "mode_basic");
    CU_ASSERT_EQUAL(m[7].object, m[6].object);
    CU_ASSERT_EQUAL(m[8].object, m[7].new_object);
    CU_ASSERT_EQUAL(m[9].object, m[8].new_object);
    CU_ASSERT_EQUAL(m[10].kind, AS_EV_FREE);
    CU_ASSERT_EQUAL(m[10].object, m[9].new_object);
    /* free order p3 p1 p5 p2 p4 p6 */
    const int order[] = {2, 0, 4, 1, 3, 5};
    for (int i = 0; i < 6; i++) {
        CU_ASSERT_EQUAL(m[11 + i].kind, AS_EV_FREE);
        CU_ASSERT_EQUAL(m[11 + i].object, m[order[i]].object);
    }
    for (int i = 0; i <= 16; i++)
        CU_ASSERT_EQUAL(m[i].thread, m[0].thread);
    /* thread 1: 1000..1004 allocated, freed in reverse */
    uint32_t t1 = m[17].thread;
    CU_ASSERT(t1 != m[0].thread);
    for (int i = 0; i < 5; i++) {
        check_alloc(&m[17 + i], AS_EV_ALLOC, 1000 + (uint64_t)i, 0,
                    "alloc_thread");
        CU_ASSERT_EQUAL(m[17 + i].thread, t1);
        CU_ASSERT_EQUAL(m[22 + i].kind, AS_EV_FREE);
        CU_ASSERT_EQUAL(m[22 + i].object, m[21 - i].object);
        CU_ASSERT_EQUAL(m[22 + i].thread, t1);
    }
    /* main allocates 777, a third thread frees it */
    check_alloc(&m[27], AS_EV_ALLOC, 777, 0, "mode_basic");
    CU_ASSERT_EQUAL(m[27].thread, m[0].thread);
    CU_ASSERT_EQUAL(m[28].kind, AS_EV_FREE);
    CU_ASSERT_EQUAL(m[28].object, m[27].object);
    CU_ASSERT(m[28].thread != m[0].thread && m[28].thread != t1);
    for (size_t i = 1; i < L.n; i++)
        CU_ASSERT(L.ev[i].t_ns >= L.ev[i - 1].t_ns);
    long ncpu = sysconf(_SC_NPROCESSORS_CONF);
    for (size_t i = 0; i < n; i++)
        CU_ASSERT(m[i].cpu < (uint64_t)ncpu);
    CU_ASSERT_STRING_EQUAL(as_trace_reader_meta(L.r, "sampling"), "none");
    CU_ASSERT_STRING_EQUAL(as_trace_reader_meta(L.r, "exit_status"), "exit 0");
    remove(out);
}

/* The samples with `bit` (RSS or mallinfo2) keep to their schedule: the
 * first (the drainer's start) is the grid's origin, the last is taken at
 * exit, and each one between is the first wakeup of the drainer after a
 * grid point (origin + k x period_ns), the grid points it woke too late
 * for being counted in the trace's metadata `missed_key` (absent: 0).
 * So, whatever the machine's load:
 *   - never faster than the period: the i-th is at least i - 1/2 periods
 *     after the first (half a period for the clock's conversion and the
 *     readings' own cost, which each sample's time includes);
 *   - none lost: the periodic samples plus the missed periods are the
 *     grid points up to the last periodic sample, (last - first) / period,
 *     which is that count plus how late the last one was (0 to 1 period),
 *     give or take half a period again.
 * A sampler that samples at another period than it says, or loses or
 * drops samples, fails one of the two. @return the samples with `bit`. */
static size_t check_sample_grid(const as_mem_sample_t *m, size_t n,
                                unsigned bit, uint64_t period_ns,
                                const char *missed_key)
{
    const char *mv = as_trace_reader_meta(L.r, missed_key);
    uint64_t missed = mv ? strtoull(mv, NULL, 10) : 0;
    uint64_t *t = malloc((n ? n : 1) * sizeof *t);
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    size_t c = 0, fast = 0;
    for (size_t i = 0; i < n; i++)
        if (m[i].has & bit) t[c++] = m[i].t_ns;
    CU_ASSERT_FATAL(c >= 3);
    /* the k-th periodic one (k = 1 .. c - 2): not before k - 1/2 periods */
    for (size_t k = 1; k + 1 < c; k++)
        if ((t[k] - t[0]) * 2 < (2 * k - 1) * period_ns) fast++;
    CU_ASSERT_EQUAL(fast, 0);
    /* 2 (last - first) / period = 2 (periodic + missed) + 2 (lateness of
     * the last, 0..1) + 2 (offsets, -1/2..1/2): rounded down, -1..2 more */
    uint64_t span = t[c - 2] - t[0];
    int64_t more =
        (int64_t)(span * 2 / period_ns) - 2 * (int64_t)(c - 2 + missed);
    if (fast || more < -1 || more > 2)
        printf("\n  %zu samples (%zu periodic, %zu too early), %" PRIu64
               " periods missed, %" PRIu64 " ns from the first to the last "
               "periodic one (period %" PRIu64 " ns)\n",
               c, c - 2, fast, missed, span, period_ns);
    CU_ASSERT(more >= -1 && more <= 2);
    free(t);
    return c;
}

/* live_blocks: record_target memory's 1 MiB blocks allocated and not yet
 * freed in the first `before` events of L (a sample's events_before: what
 * the program had done when it was read, give or take the one call in
 * flight). */
static uint64_t live_blocks(uint64_t before)
{
    static unsigned char big[1 << 16];
    uint64_t live = 0;
    memset(big, 0, sizeof big);
    for (size_t i = 0; i < L.n && i < before; i++) {
        const as_event_t *e = &L.ev[i];
        if (e->object >= sizeof big) continue;
        if (e->kind == AS_EV_ALLOC && e->size == 1 << 20) {
            big[e->object] = 1;
            live++;
        } else if (e->kind == AS_EV_FREE && big[e->object]) {
            big[e->object] = 0;
            live--;
        }
    }
    return live;
}

/* record_target memory: the recorder's samples of real memory come every
 * 10 ms on one grid, none lost (check_sample_grid; the periods a loaded
 * machine made the drainer miss are counted in the trace), each with a
 * resident size and (smaps_rollup) an
 * AnonHugePages figure, and they see the program's 60 MiB of written
 * blocks; every allocation carries its stack height, equal for calls from
 * one frame and larger one call deeper; the host's THP settings are in the
 * header as sysfs shows them. */
static void test_record_memory(void)
{
    if (!have_recorder()) return;
    const char *out = as_test_tmpfile("rec-mem", ".ast");
    int st = record(out, NULL, "memory", NULL, NULL, -1);
    CU_ASSERT_FATAL(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    CU_ASSERT_EQUAL_FATAL(load(out), 0);
    size_t n;
    const as_mem_sample_t *m = as_trace_reader_samples(L.r, &n);
    CU_ASSERT_FATAL(n >= 10);
    uint64_t lo = UINT64_MAX, hi = 0;
    int rollup = access("/proc/self/smaps_rollup", R_OK) == 0;
    size_t bad = 0, full = 0, under = 0;
    uint64_t most = 0; /* the most blocks live at a sample */
    for (size_t i = 0; i < n; i++) {
        if (!(m[i].has & AS_SAMPLE_HAS_RSS) || m[i].rss_bytes == 0) bad++;
        /* every block written before the sample is resident (the last
         * one allocated may still be being written) */
        uint64_t k = live_blocks(m[i].events_before);
        if (k && m[i].rss_bytes < (k - 1) << 20) under++;
        if (k > most) most = k;
        /* the huge-page figure (smaps_rollup) within the CPU budget: in
         * the first and the last sample at least */
        full += (m[i].has & AS_SAMPLE_HAS_HUGE) != 0;
        if (m[i].rss_bytes < lo) lo = m[i].rss_bytes;
        if (m[i].rss_bytes > hi) hi = m[i].rss_bytes;
    }
    CU_ASSERT_EQUAL(bad, 0);
    if (rollup) {
        CU_ASSERT(full >= 2);
        CU_ASSERT(m[0].has & AS_SAMPLE_HAS_HUGE);
        CU_ASSERT(m[n - 1].has & AS_SAMPLE_HAS_HUGE);
    }
    /* the samples see the blocks written, then freed: the one at exit
     * is below the highest by the most blocks a sample saw live, give or
     * take one. How many that is depends on when the drainer woke (on a
     * loaded machine it can sleep through the last blocks), so it is
     * counted from the trace, not assumed to be 60; some sample comes
     * while they are live (~300 ms) */
    CU_ASSERT_EQUAL(under, 0);
    CU_ASSERT_FATAL(most >= 2 && most <= 60);
    CU_ASSERT(m[n - 1].rss_bytes + ((most - 2) << 20) <= hi);
    CU_ASSERT_STRING_EQUAL(as_trace_reader_meta(L.r, "mem_sampling"),
                           "every 10000000 ns (smaps_rollup, else statm)");
    CU_ASSERT_EQUAL(check_sample_grid(m, n, AS_SAMPLE_HAS_RSS, 10000000,
                                      "record.mem_periods_missed"),
                    n);
    /* heights: mode_memory's two small blocks share one, memory_deeper's
     * two another, larger one */
    as_event_t e[64];
    size_t k = mine(e, 64), small = 0;
    as_event_t sm[4];
    for (size_t i = 0; i < k; i++) {
        CU_ASSERT(e[i].kind == AS_EV_FREE || e[i].stack_height > 0);
        if (e[i].kind == AS_EV_ALLOC && e[i].size == 16 && small < 4)
            sm[small++] = e[i];
    }
    CU_ASSERT_EQUAL_FATAL(small, 4);
    CU_ASSERT_EQUAL(sm[0].stack_height, sm[1].stack_height);
    CU_ASSERT_EQUAL(sm[2].stack_height, sm[3].stack_height);
    CU_ASSERT(sm[2].stack_height > sm[0].stack_height + 256);
    CU_ASSERT_STRING_EQUAL(frame_of(sm[2].stack, 0).symbol, "memory_deeper");
    char thp[AS_THP_N][AS_THP_VALUE_MAX];
    as_host_thp_read(AS_THP_DIR, thp);
    for (int i = 0; i < AS_THP_N; i++)
        CU_ASSERT_STRING_EQUAL(as_trace_reader_meta(L.r, as_thp_meta_key[i]),
                               thp[i]);
    remove(out);
}

/* record_target memory with --mallinfo-interval=20ms: glibc's own
 * mallinfo2 figures ride with the RSS samples, every other one (both on
 * one grid, check_sample_grid). Each of the 60 blocks of
 * 1 MiB is above glibc's initial mmap threshold (128 KiB), so it is an
 * mmapped chunk of 1048576 + 16 + 8 bytes rounded up to pages, 1052672;
 * at each sample hblks is the number of blocks the trace has live before
 * it (give or take the call in flight), hblkhd exactly hblks such chunks,
 * and the one at exit (after the frees) none; the small blocks live in
 * the main arena (arena > 0). */
static void test_record_mallinfo(void)
{
    if (!have_recorder()) return;
    const char *out = as_test_tmpfile("rec-mi", ".ast");
    int st = record(out, "--mallinfo-interval=20ms", "memory", NULL, NULL, -1);
    CU_ASSERT_FATAL(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    CU_ASSERT_EQUAL_FATAL(load(out), 0);
    CU_ASSERT_STRING_EQUAL(as_trace_reader_meta(L.r, "mallinfo_sampling"),
                           "every 20000000 ns (glibc mallinfo2)");
    size_t n, with = 0, alone = 0, bad = 0, off = 0;
    uint64_t most = 0;
    const as_mem_sample_t *m = as_trace_reader_samples(L.r, &n);
    uint64_t max_hblks = 0, max_hblkhd = 0, last_hblks = 99, arena = 0;
    for (size_t i = 0; i < n; i++) {
        if (!(m[i].has & AS_SAMPLE_HAS_MALLINFO)) continue;
        alone += (m[i].has & AS_SAMPLE_HAS_RSS) == 0;
        const uint64_t *f = m[i].mallinfo.f;
        with++;
        if (f[AS_MI_HBLKHD] != f[AS_MI_HBLKS] * 1052672) bad++;
        /* the blocks live at the sample, give or take the one call in
         * flight while it was read */
        uint64_t k = live_blocks(m[i].events_before);
        if (f[AS_MI_HBLKS] + 1 < k || f[AS_MI_HBLKS] > k + 1) off++;
        if (k > most) most = k;
        if (f[AS_MI_HBLKS] > max_hblks) max_hblks = f[AS_MI_HBLKS];
        if (f[AS_MI_HBLKHD] > max_hblkhd) max_hblkhd = f[AS_MI_HBLKHD];
        if (f[AS_MI_ARENA] > arena) arena = f[AS_MI_ARENA];
        last_hblks = f[AS_MI_HBLKS];
    }
    /* mallinfo2 every 20 ms and RSS still every 10 ms, on one grid: every
     * mallinfo2 reading is also an RSS one */
    CU_ASSERT_EQUAL(check_sample_grid(m, n, AS_SAMPLE_HAS_MALLINFO, 20000000,
                                      "record.mallinfo_periods_missed"),
                    with);
    check_sample_grid(m, n, AS_SAMPLE_HAS_RSS, 10000000,
                      "record.mem_periods_missed");
    CU_ASSERT_EQUAL(alone, 0);
    CU_ASSERT_EQUAL(bad, 0);
    CU_ASSERT_EQUAL(off, 0);
    /* how many blocks a sample saw depends on when the drainer woke (see
     * test_record_memory); the most it saw is what hblks reached */
    CU_ASSERT(most >= 2 && max_hblks + 1 >= most && max_hblks <= 60);
    CU_ASSERT_EQUAL(max_hblkhd, max_hblks * 1052672);
    CU_ASSERT_EQUAL(last_hblks, 0);
    CU_ASSERT(arena > 0);
    CU_ASSERT(m[n - 1].has & AS_SAMPLE_HAS_MALLINFO); /* the one at exit */
    remove(out);
}

/* Producer/consumer on two threads: every free is of an object allocated
 * earlier in the trace (a free that overtook its allocation would be
 * dropped as unmatched and leave the object live). */
static void test_record_cross_thread_order(void)
{
    if (!have_recorder()) return;
    const char *out = as_test_tmpfile("rec-stress", ".ast");
    int st = record(out, NULL, "stress", "2000", NULL, -1);
    CU_ASSERT_FATAL(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    CU_ASSERT_EQUAL_FATAL(load(out), 0);
    static as_event_t m[MAXEV];
    size_t n = mine(m, MAXEV);
    size_t allocs = 0, frees = 0;
    uint32_t producer = UINT32_MAX, consumer = UINT32_MAX;
    for (size_t i = 0; i < n; i++) {
        if (m[i].kind == AS_EV_ALLOC) {
            CU_ASSERT_EQUAL(m[i].size, 16 + (allocs % 7) * 16);
            CU_ASSERT_STRING_EQUAL(frame_of(m[i].stack, 0).symbol,
                                   "produce_one");
            if (producer == UINT32_MAX) producer = m[i].thread;
            CU_ASSERT_EQUAL(m[i].thread, producer);
            allocs++;
        } else if (m[i].kind == AS_EV_FREE) {
            if (consumer == UINT32_MAX) consumer = m[i].thread;
            CU_ASSERT_EQUAL(m[i].thread, consumer);
            frees++;
        }
    }
    CU_ASSERT_EQUAL(allocs, 2000);
    CU_ASSERT_EQUAL(frees, 2000);
    CU_ASSERT(producer != consumer);
    remove(out);
}

/* --sample-bytes 4096 on 2000 allocations of 16..112 bytes (128,000 bytes):
 * about 31 samples; the recorder's generator is seeded per thread, so the
 * count is fixed for a given allocation sequence, but libc's own
 * allocations on the thread vary with the environment: a wide band. */
static void test_record_sampling(void)
{
    if (!have_recorder()) return;
    const char *out = as_test_tmpfile("rec-sample", ".ast");
    int st = record(out, "4096", "stress", "2000", NULL, -1);
    CU_ASSERT_FATAL(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    CU_ASSERT_EQUAL_FATAL(load(out), 0);
    static as_event_t m[MAXEV];
    size_t n = mine(m, MAXEV), allocs = 0, frees = 0;
    for (size_t i = 0; i < n; i++)
        allocs += m[i].kind == AS_EV_ALLOC, frees += m[i].kind == AS_EV_FREE;
    CU_ASSERT(allocs >= 10 && allocs <= 70);
    CU_ASSERT_EQUAL(frees, allocs); /* every sampled object's free is kept */
    CU_ASSERT_STRING_EQUAL(as_trace_reader_meta(L.r, "sampling"), "bytes:4096");
    remove(out);
}

/* _exit(3): the exit status passes through and the 5 objects are there. */
static void test_record_exit_fork_exec(void)
{
    if (!have_recorder()) return;
    static as_event_t m[MAXEV];
    const char *out = as_test_tmpfile("rec-exit", ".ast");
    int st = record(out, NULL, "exit", NULL, NULL, -1);
    CU_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 3);
    CU_ASSERT_EQUAL_FATAL(load(out), 0);
    size_t n = mine(m, MAXEV);
    CU_ASSERT_EQUAL(n, 5);
    for (size_t i = 0; i < n; i++)
        check_alloc(&m[i], AS_EV_ALLOC, 555, 0, "alloc_n");
    remove(out);

    /* fork: the child's 50 allocations of 4242 bytes are not recorded */
    out = as_test_tmpfile("rec-fork", ".ast");
    st = record(out, NULL, "fork", NULL, NULL, -1);
    CU_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    CU_ASSERT_EQUAL_FATAL(load(out), 0);
    n = mine(m, MAXEV);
    CU_ASSERT_EQUAL_FATAL(n, 2);
    CU_ASSERT_EQUAL(m[0].size, 4141);
    CU_ASSERT_EQUAL(m[1].size, 4343);
    remove(out);

    /* exec (execv, then execl): 1111 allocated, freed at the exec, then
     * the new image's 2222 */
    const char *modes[] = {"exec", "execl"};
    for (int k = 0; k < 2; k++) {
        out = as_test_tmpfile("rec-exec", ".ast");
        st = record(out, NULL, modes[k], NULL, NULL, -1);
        CU_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
        CU_ASSERT_EQUAL_FATAL(load(out), 0);
        n = mine(m, MAXEV);
        CU_ASSERT_EQUAL_FATAL(n, 3);
        check_alloc(&m[0], AS_EV_ALLOC, 1111, 0, "alloc_n");
        CU_ASSERT_EQUAL(m[1].kind, AS_EV_FREE);
        CU_ASSERT_EQUAL(m[1].object, m[0].object);
        check_alloc(&m[2], AS_EV_ALLOC, 2222, 0, "alloc_n");
        CU_ASSERT_STRING_EQUAL(as_trace_reader_meta(L.r, "record.images"), "2");
        remove(out);
    }
}

/* A function without frame pointers between the program and malloc: the
 * walk must not skip its caller (auto mode calibrates the call site against
 * libunwind): frames are frameless_alloc, mode_frameless, main, for all
 * three objects. */
static void test_record_frameless_caller(void)
{
    if (!have_recorder()) return;
    const char *out = as_test_tmpfile("rec-frameless", ".ast");
    int st = record(out, NULL, "frameless", NULL, NULL, -1);
    CU_ASSERT_FATAL(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    CU_ASSERT_EQUAL_FATAL(load(out), 0);
    static as_event_t m[MAXEV];
    size_t n = mine(m, MAXEV), k = 0;
    for (size_t i = 0; i < n; i++) {
        if (m[i].kind != AS_EV_ALLOC || m[i].size != 8080) continue;
        k++;
        CU_ASSERT_STRING_EQUAL(frame_of(m[i].stack, 0).symbol,
                               "frameless_alloc");
        CU_ASSERT_STRING_EQUAL(frame_of(m[i].stack, 1).symbol,
                               "mode_frameless");
        CU_ASSERT_STRING_EQUAL(frame_of(m[i].stack, 2).symbol, "main");
    }
    CU_ASSERT_EQUAL(k, 3);
    remove(out);
}

/* --stack-cache: every call site of record_target's basic mode is a
 * distinct return address, so the cached stacks are the exact ones. */
static void test_record_stack_cache(void)
{
    if (!have_recorder()) return;
    const char *out = as_test_tmpfile("rec-scache", ".ast");
    int st = record(out, "--stack-cache", "basic", NULL, NULL, -1);
    CU_ASSERT_FATAL(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    CU_ASSERT_EQUAL_FATAL(load(out), 0);
    as_event_t m[64];
    size_t n = mine(m, 64);
    CU_ASSERT_EQUAL_FATAL(n, 29);
    check_alloc(&m[0], AS_EV_ALLOC, 100, 0, "mode_basic");
    check_alloc(&m[9], AS_EV_REALLOC, 4096, 0, "mode_basic");
    for (int i = 0; i < 5; i++)
        check_alloc(&m[17 + i], AS_EV_ALLOC, 1000 + (uint64_t)i, 0,
                    "alloc_thread");
    CU_ASSERT_STRING_EQUAL(frame_of(m[0].stack, 1).symbol, "main");
    CU_ASSERT_STRING_EQUAL(as_trace_reader_meta(L.r, "stack_cache"),
                           "ra+height");
    remove(out);
}

/* --follow-forks: the child's 50 objects of 4242 bytes go to TRACE.fork1.ast
 * (its own ids, thread 0, its own pid), the parent's two to TRACE. */
static void test_record_follow_forks(void)
{
    if (!have_recorder()) return;
    char out[512], child[600];
    snprintf(out, sizeof out, "%s", as_test_tmpfile("rec-follow", ".ast"));
    snprintf(child, sizeof child, "%.*s.fork1.ast", (int)strlen(out) - 4, out);
    int st = record(out, "--follow-forks", "fork", NULL, NULL, -1);
    CU_ASSERT_FATAL(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    static as_event_t m[MAXEV];
    CU_ASSERT_EQUAL_FATAL(load(out), 0);
    size_t n = mine(m, MAXEV);
    CU_ASSERT_EQUAL_FATAL(n, 2);
    CU_ASSERT_EQUAL(m[0].size, 4141);
    CU_ASSERT_EQUAL(m[1].size, 4343);
    char parent_pid[32];
    snprintf(parent_pid, sizeof parent_pid, "%s",
             as_trace_reader_meta(L.r, "pid"));
    CU_ASSERT_EQUAL_FATAL(load(child), 0);
    n = mine(m, MAXEV);
    CU_ASSERT_EQUAL_FATAL(n, 50);
    for (size_t i = 0; i < n; i++) {
        check_alloc(&m[i], AS_EV_ALLOC, 4242, 0, "alloc_n");
        CU_ASSERT_EQUAL(m[i].thread, 0);
    }
    CU_ASSERT_STRING_EQUAL(as_trace_reader_meta(L.r, "forked"), "yes");
    CU_ASSERT(strcmp(as_trace_reader_meta(L.r, "pid"), parent_pid) != 0);
    remove(out);
    remove(child);
}

/* --follow-forks and exec'd descendants: a child started by posix_spawn or
 * vfork + execv never runs fork handlers; its new image connects to the
 * listener itself, so its 30 objects of 5252 bytes go to TRACE.fork1.ast,
 * named by record.exec_image. A forked child that execs gives two traces:
 * fork1 ends complete at the exec (none of this file's allocations), fork2
 * is the exec'd image. The parent's two objects stay in TRACE. Without
 * --follow-forks no child trace is written. */
static void test_record_follow_exec(void)
{
    if (!have_recorder()) return;
    static const char *const modes[] = {"spawn", "vfork", "forkexec"};
    static as_event_t m[MAXEV];
    for (size_t k = 0; k < 3; k++) {
        char out[512], f1[600], f2[600], f3[600];
        snprintf(out, sizeof out, "%s", as_test_tmpfile("rec-fexec", ".ast"));
        int base = (int)strlen(out) - 4;
        snprintf(f1, sizeof f1, "%.*s.fork1.ast", base, out);
        snprintf(f2, sizeof f2, "%.*s.fork2.ast", base, out);
        snprintf(f3, sizeof f3, "%.*s.fork3.ast", base, out);
        int st = record(out, "--follow-forks", modes[k], NULL, NULL, -1);
        CU_ASSERT_FATAL(WIFEXITED(st) && WEXITSTATUS(st) == 0);
        CU_ASSERT_EQUAL_FATAL(load(out), 0);
        size_t n = mine(m, MAXEV);
        CU_ASSERT_EQUAL_FATAL(n, 2);
        CU_ASSERT_EQUAL(m[0].size, 5151);
        CU_ASSERT_EQUAL(m[1].size, 5353);
        const char *img = f1;
        if (k == 2) { /* the forked image before its exec */
            CU_ASSERT_EQUAL_FATAL(load(f1), 0);
            CU_ASSERT_EQUAL(mine(m, MAXEV), 0);
            CU_ASSERT_STRING_EQUAL(as_trace_reader_meta(L.r, "forked"), "yes");
            img = f2;
        }
        CU_ASSERT_EQUAL_FATAL(load(img), 0);
        n = mine(m, MAXEV);
        CU_ASSERT_EQUAL(n, 30);
        for (size_t i = 0; i < n; i++)
            check_alloc(&m[i], AS_EV_ALLOC, 5252, 0, "alloc_n");
        const char *exe = as_trace_reader_meta(L.r, "record.exec_image");
        CU_ASSERT_PTR_NOT_NULL_FATAL(exe);
        CU_ASSERT(ends_with(exe, "/record_target"));
        CU_ASSERT_EQUAL(access(k == 2 ? f3 : f2, F_OK), -1); /* no more */
        remove(out);
        remove(f1);
        remove(f2);
    }
    char out[512], f1[600];
    snprintf(out, sizeof out, "%s", as_test_tmpfile("rec-nofollow", ".ast"));
    snprintf(f1, sizeof f1, "%.*s.fork1.ast", (int)strlen(out) - 4, out);
    int st = record(out, NULL, "spawn", NULL, NULL, -1);
    CU_ASSERT_FATAL(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    CU_ASSERT_EQUAL_FATAL(load(out), 0);
    CU_ASSERT_EQUAL(mine(m, MAXEV), 2);
    CU_ASSERT_EQUAL(access(f1, F_OK), -1);
    remove(out);
}

/* symbols_of: "module-basename+offset symbol" of every frame of every
 * event of this file's (mine), joined in event order, into out. */
static void symbols_of(char *out, size_t cap)
{
    static as_event_t m[MAXEV];
    size_t n = mine(m, MAXEV), used = 0;
    out[0] = 0;
    for (size_t i = 0; i < n; i++) {
        if (m[i].kind == AS_EV_FREE) continue;
        for (uint32_t k = 0; k < depth_of(m[i].stack) && k < 3; k++) {
            as_frame_t f = frame_of(m[i].stack, k);
            const char *b = strrchr(f.module, '/');
            int w = snprintf(out + used, cap - used, "%s+%llx %s;",
                             b ? b + 1 : f.module, (unsigned long long)f.offset,
                             f.symbol);
            if (w < 0 || (size_t)w >= cap - used) return;
            used += (size_t)w;
        }
    }
}

/* The symbolizer thread (default) names every frame exactly as a lookup in
 * the program's threads does (ALLOCSIM_RECORD_SYMBOLIZE=inline): the same
 * module, offset and symbol for every frame of the basic mode's events,
 * with none left unsymbolized. */
static void test_record_symbolizer(void)
{
    if (!have_recorder()) return;
    static char a[1 << 16], b[1 << 16];
    const char *out = as_test_tmpfile("rec-sym", ".ast");
    for (int inl = 0; inl < 2; inl++) {
        if (inl) setenv("ALLOCSIM_RECORD_SYMBOLIZE", "inline", 1);
        int st = record(out, NULL, "basic", NULL, NULL, -1);
        unsetenv("ALLOCSIM_RECORD_SYMBOLIZE");
        CU_ASSERT_FATAL(WIFEXITED(st) && WEXITSTATUS(st) == 0);
        CU_ASSERT_EQUAL_FATAL(load(out), 0);
        CU_ASSERT_PTR_NULL(
            as_trace_reader_meta(L.r, "record.unsymbolized_pcs"));
        symbols_of(inl ? b : a, sizeof a);
    }
    CU_ASSERT(strstr(a, "record_target+") != NULL);
    CU_ASSERT(strstr(a, " alloc_") != NULL || strstr(a, " mode_basic") != NULL);
    CU_ASSERT_STRING_EQUAL(a, b);
    remove(out);
}

/* Bad usage exits 2; a program that cannot be run exits 127 and leaves no
 * trace behind. */
static void test_record_usage_errors(void)
{
    if (!have_recorder()) return;
    char cmd[2048];
    const char *out = as_test_tmpfile("rec-usage", ".ast");
    snprintf(cmd, sizeof cmd, "%s record -o %s 2>/dev/null", allocsim, out);
    int st = system(cmd);
    CU_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 2); /* no command */
    snprintf(cmd, sizeof cmd,
             "%s record --max-depth 500 -o %s -- true "
             "2>/dev/null",
             allocsim, out);
    st = system(cmd);
    CU_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 2);
    snprintf(cmd, sizeof cmd,
             "%s record -o %s -- /nonexistent/program "
             "2>/dev/null",
             allocsim, out);
    st = system(cmd);
    CU_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 127);
    CU_ASSERT_EQUAL(access(out, F_OK), -1);
}

/* 64 short-lived threads, 8 at a time: each thread's 100 objects carry its
 * size (7000 + index) and one thread number of its own, distinct from every
 * other thread's, though rings are reused. */
static void test_record_many_threads(void)
{
    if (!have_recorder()) return;
    const char *out = as_test_tmpfile("rec-threads", ".ast");
    int st = record(out, NULL, "threads", NULL, NULL, -1);
    CU_ASSERT_FATAL(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    CU_ASSERT_EQUAL_FATAL(load(out), 0);
    static as_event_t m[MAXEV];
    size_t n = mine(m, MAXEV);
    uint32_t thread_of[64];
    size_t allocs[64] = {0}, frees = 0;
    for (size_t i = 0; i < n; i++) {
        if (m[i].kind == AS_EV_FREE) {
            frees++;
            continue;
        }
        CU_ASSERT_FATAL(m[i].size >= 7000 && m[i].size < 7064);
        size_t k = m[i].size - 7000;
        if (allocs[k]++ == 0) thread_of[k] = m[i].thread;
        CU_ASSERT_EQUAL(m[i].thread, thread_of[k]);
    }
    for (size_t k = 0; k < 64; k++) {
        CU_ASSERT_EQUAL(allocs[k], 100);
        for (size_t j = 0; j < k; j++)
            CU_ASSERT(thread_of[j] != thread_of[k]);
    }
    CU_ASSERT_EQUAL(frees, 6400);
    remove(out);
}

/* A program that closes every descriptor (3..1023) and makes sockets of
 * its own: the close of the recorder's socket is ignored (counted in
 * record.kept_closes), nothing arrives on the program's sockets, it exits
 * 0, and the trace holds everything: the 6161-byte object allocated before
 * the closes and the 100 of 6262 bytes after. */
static void test_record_closed_descriptors(void)
{
    if (!have_recorder()) return;
    const char *out = as_test_tmpfile("rec-close", ".ast");
    int st = record(out, NULL, "closefds", NULL, NULL, -1);
    CU_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    CU_ASSERT_EQUAL_FATAL(load(out), 0);
    static as_event_t m[MAXEV];
    size_t n = mine(m, MAXEV), first = 0, after = 0;
    for (size_t i = 0; i < n; i++) {
        first += m[i].kind == AS_EV_ALLOC && m[i].size == 6161;
        after += m[i].kind == AS_EV_ALLOC && m[i].size == 6262;
    }
    CU_ASSERT_EQUAL(first, 1);
    CU_ASSERT_EQUAL(after, 100);
    CU_ASSERT_STRING_EQUAL(as_trace_reader_meta(L.r, "record.kept_closes"),
                           "1");
    CU_ASSERT_STRING_EQUAL(as_trace_reader_meta(L.r, "record.end"), "exit");
    CU_ASSERT_STRING_EQUAL(as_trace_reader_meta(L.r, "record.lost_records"),
                           "0");
    remove(out);
}

/* SIGTERM mid-run: `allocsim record` exits 128+15 and the trace holds the
 * 1000 objects allocated before "ready", complete and footed. */
static void test_record_sigterm(void)
{
    if (!have_recorder()) return;
    const char *out = as_test_tmpfile("rec-term", ".ast");
    int fds[2];
    CU_ASSERT_FATAL(pipe(fds) == 0);
    pid_t rec;
    record(out, NULL, "sigterm", NULL, &rec, fds[1]);
    close(fds[1]);
    char line[64] = "";
    size_t k = 0;
    while (k + 1 < sizeof line && read(fds[0], line + k, 1) == 1 &&
           line[k] != '\n')
        k++;
    line[k] = 0;
    close(fds[0]);
    long pid = 0;
    CU_ASSERT_FATAL(sscanf(line, "ready %ld", &pid) == 1 && pid > 0);
    CU_ASSERT_EQUAL(kill((pid_t)pid, SIGTERM), 0);
    int st;
    waitpid(rec, &st, 0);
    CU_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 128 + SIGTERM);
    CU_ASSERT_EQUAL_FATAL(load(out), 0);
    CU_ASSERT_EQUAL(as_trace_reader_truncated(L.r), 0);
    /* Every event, not mine()'s: mine() keeps events whose innermost frame
     * is named record_target, and a signal handler cannot name frames, so
     * when the symbolizer thread had not yet reached alloc_n's pc (a loaded
     * machine) all 1000 would be left out. No other code allocates 3000
     * bytes here (the recorder's own allocations are not recorded). */
    size_t big = 0;
    for (size_t i = 0; i < L.n; i++)
        big += L.ev[i].kind == AS_EV_ALLOC && L.ev[i].size == 3000;
    CU_ASSERT_EQUAL(big, 1000);
    CU_ASSERT_STRING_EQUAL(as_trace_reader_meta(L.r, "exit_status"),
                           "signal 15");
    remove(out);
}

int main(void)
{
    static const as_test_t tests[] = {
        {"collect: memory samples and stack heights",
         test_collect_memory_and_heights},
        {"collect: write reports clipped, stale ones dropped",
         test_collect_writes},
        {"collect: reorder across threads, realloc race",
         test_collect_reorder_and_realloc_race},
        {"collect: unknown frees, failed/zero/unsampled realloc, time clamp",
         test_collect_edge_cases},
        {"collect: stacks, frames, early and late symbols",
         test_collect_stacks_and_symbols},
        {"collect: exec frees the old image, gaps, cut record",
         test_collect_exec_gap_and_cut},
        {"collect: MARKs count lost records, cut-off streams",
         test_collect_marks},
        {"collect: time resolution", test_collect_time_resolution},
        {"collect: TSC ticks converted by clock pairs", test_collect_tsc},
        {"collect: garbage rejected, output aborted",
         test_collect_rejects_garbage},
        {"record: record_target basic, event by event", test_record_basic},
        {"record: real memory every 10 ms, stack heights, host THP",
         test_record_memory},
        {"record: mallinfo2 with the RSS samples (--mallinfo-interval)",
         test_record_mallinfo},
        {"record: producer/consumer keeps causal order",
         test_record_cross_thread_order},
        {"record: byte sampling", test_record_sampling},
        {"record: _exit, fork, exec", test_record_exit_fork_exec},
        {"record: SIGTERM mid-run leaves a whole trace", test_record_sigterm},
        {"record: 64 short-lived threads", test_record_many_threads},
        {"record: usage errors and a missing program",
         test_record_usage_errors},
        {"record: --stack-cache", test_record_stack_cache},
        {"record: --follow-forks", test_record_follow_forks},
        {"record: --follow-forks, exec'd descendants", test_record_follow_exec},
        {"record: symbols from the symbolizer thread", test_record_symbolizer},
        {"record: a frameless function's caller is kept",
         test_record_frameless_caller},
        {"record: descriptors closed and reused by the program",
         test_record_closed_descriptors},
        {NULL, NULL},
    };
    int rc = as_test_main("traces_record", tests);
    if (L.r) as_trace_reader_close(L.r);
    return rc;
}

/* test_sim_batchring.c - the decoded batches of a replay (sim/batchring.c,
 * sim/stackdefs.c): a decode thread hands every consumer the same events
 * and memory samples, in the same order, as decoding on the caller's
 * thread; every stack an event names is in its batch's copies, with the
 * frame ids and pcs the trace defines; the last batch says so.
 *
 * The trace (written here): frames 1..3 with pcs 0x100, 0x200, 0x300;
 * stack 1 = [1, 2], stack 2 = [3], stack 3 = [2, 3, 1] defined only before
 * the 20,000th event; 30,000 events: allocation k (stack 1 + k % 2, or
 * stack 3 after event 20,000), each freed right after; a memory sample
 * (rss = its number in MiB) every 1,000 events: 30 samples.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "sim/batchring.h"
#include "tests/unit/testutil.h"

#define EVENTS 30000

static const char *write_trace(void)
{
    const char *path = as_test_scratch("batchring", ".ast");
    as_trace_writer_t *w;
    CU_ASSERT_FATAL(as_trace_writer_open(&w, path, NULL) == 0);
    for (uint32_t f = 1; f <= 3; f++) {
        as_frame_t fr = {.pc = 0x100 * f, .module = "m", .symbol = "s"};
        CU_ASSERT_FATAL(as_trace_writer_frame(w, f, &fr) == 0);
    }
    static const uint32_t s1[] = {1, 2}, s2[] = {3}, s3[] = {2, 3, 1};
    CU_ASSERT_FATAL(as_trace_writer_stack(w, 1, s1, 2) == 0);
    CU_ASSERT_FATAL(as_trace_writer_stack(w, 2, s2, 1) == 0);
    uint64_t id = 0;
    for (uint64_t k = 0; k < EVENTS; k++) {
        if (k % 1000 == 0) {
            as_mem_sample_t s = {.t_ns = k * 10,
                                 .rss_bytes = (k / 1000 + 1) << 20,
                                 .has = AS_SAMPLE_HAS_RSS};
            CU_ASSERT_FATAL(as_trace_writer_sample(w, &s) == 0);
        }
        if (k == 20000)
            CU_ASSERT_FATAL(as_trace_writer_stack(w, 3, s3, 3) == 0);
        as_event_t e = {.t_ns = k * 10, .size = 16};
        if (k % 2 == 0) {
            e.kind = AS_EV_ALLOC;
            e.stack = k >= 20000 ? 3 : 1 + (uint32_t)(k / 2 % 2);
        } else {
            e.kind = AS_EV_FREE;
            e.object = id++;
        }
        CU_ASSERT_FATAL(as_trace_writer_event(w, &e) == 0);
    }
    CU_ASSERT_FATAL(as_trace_writer_close(w) == 0);
    return path;
}

typedef struct {
    as_batchring_t *ring;
    size_t consumer;
    as_event_t *ev; /* EVENTS */
    size_t n, n_samples, batches, bad_stacks;
    uint32_t max_view; /* the largest stacks view a batch carried */
    uint64_t rss[64];
    int lasts;
} take_t;

/* Take every batch as consumer t->consumer; check its stacks. */
static void *take_all(void *arg)
{
    take_t *t = arg;
    for (int last = 0; !last;) {
        const as_batch_t *b = as_batchring_next(t->ring, t->consumer);
        for (size_t i = 0; i < b->n && t->n < EVENTS; i++) {
            const as_event_t *e = &b->ev[i];
            t->ev[t->n++] = *e;
            if (e->kind != AS_EV_ALLOC) continue;
            const as_stackdef_t *d = as_stackdefs_get(&b->stacks, e->stack);
            uint32_t want_depth = e->stack == 3 ? 3 : e->stack == 1 ? 2 : 1;
            uint64_t want_pc0 = e->stack == 3   ? 0x200
                                : e->stack == 1 ? 0x100
                                                : 0x300;
            if (!d || d->depth != want_depth || d->pcs[0] != want_pc0 ||
                d->frames[d->depth - 1] != (e->stack == 3   ? 1u
                                            : e->stack == 1 ? 2u
                                                            : 3u))
                t->bad_stacks++;
        }
        if (b->stacks.n > t->max_view) t->max_view = b->stacks.n;
        for (size_t i = 0; i < b->n_samples && t->n_samples < 64; i++)
            t->rss[t->n_samples++] = b->samples[i].rss_bytes;
        t->batches++;
        t->lasts += b->last;
        last = b->last;
        CU_ASSERT_EQUAL(b->status, 0);
        as_batchring_release(t->ring, t->consumer);
    }
    return NULL;
}

/* Field by field (the struct's padding is not part of an event). */
static int same_event(const as_event_t *a, const as_event_t *b)
{
    return a->kind == b->kind && a->thread == b->thread && a->cpu == b->cpu &&
           a->stack == b->stack && a->t_ns == b->t_ns &&
           a->object == b->object && a->new_object == b->new_object &&
           a->size == b->size && a->align == b->align &&
           a->stack_height == b->stack_height;
}

static void check_one(const take_t *t, const take_t *ref)
{
    CU_ASSERT_EQUAL(t->n, EVENTS);
    CU_ASSERT_EQUAL(t->bad_stacks, 0);
    CU_ASSERT_EQUAL(t->lasts, 1);
    CU_ASSERT_EQUAL(t->n_samples, 30);
    for (size_t i = 0; i < t->n_samples; i++)
        CU_ASSERT_EQUAL(t->rss[i], (uint64_t)(i + 1) << 20);
    if (ref) {
        size_t differ = 0;
        for (size_t i = 0; i < EVENTS; i++)
            differ += !same_event(&t->ev[i], &ref->ev[i]);
        CU_ASSERT_EQUAL(differ, 0);
        CU_ASSERT_EQUAL(t->n_samples, ref->n_samples);
    }
}

/* A reader of the trace above, written afresh. */
static as_trace_reader_t *open_trace(void)
{
    as_trace_reader_t *rd;
    CU_ASSERT_FATAL(as_trace_reader_open(&rd, write_trace()) == 0);
    return rd;
}

/* One consumer takes every batch of a ring over rd (from its start) into
 * *t, whose events it allocates (the caller frees t->ev). */
static void take_ring(as_trace_reader_t *rd, size_t batch_events,
                      unsigned flags, take_t *t)
{
    CU_ASSERT_FATAL(as_trace_reader_rewind(rd) == 0);
    *t = (take_t){.ev = malloc(EVENTS * sizeof(as_event_t))};
    CU_ASSERT_FATAL(t->ev != NULL);
    CU_ASSERT_FATAL(
        as_batchring_create(&t->ring, rd, batch_events, flags, 3, 1) == 0);
    take_all(t);
    as_batchring_destroy(t->ring);
}

static void test_threads_same(void)
{
    as_trace_reader_t *rd = open_trace();
    /* on the caller's thread, batches of one reader call: 8 (7 full and
     * 1,328 events) */
    take_t inl;
    take_ring(rd, AS_BATCH_READ, 0, &inl);
    check_one(&inl, NULL);
    CU_ASSERT_EQUAL(inl.batches, 8);
    /* a decode thread, two consumers (one on a thread of its own), 3
     * slots of two reader calls: 4 batches each */
    CU_ASSERT_FATAL(as_trace_reader_rewind(rd) == 0);
    as_batchring_t *q;
    CU_ASSERT_FATAL(as_batchring_create(&q, rd, 2 * AS_BATCH_READ,
                                        AS_BATCHRING_THREADED, 3, 2) == 0);
    take_t a = {
        .ring = q, .consumer = 0, .ev = malloc(EVENTS * sizeof(as_event_t))};
    take_t b = {
        .ring = q, .consumer = 1, .ev = malloc(EVENTS * sizeof(as_event_t))};
    CU_ASSERT_FATAL(a.ev && b.ev);
    pthread_t th;
    CU_ASSERT_FATAL(pthread_create(&th, NULL, take_all, &b) == 0);
    take_all(&a);
    pthread_join(th, NULL);
    as_batchring_destroy(q);
    check_one(&a, &inl);
    check_one(&b, &inl);
    CU_ASSERT_EQUAL(a.batches, 4);
    CU_ASSERT_EQUAL(b.batches, 4);
    free(inl.ev);
    free(a.ev);
    free(b.ev);
    as_trace_reader_close(rd);
}

/* AS_BATCHRING_NO_STACKS (the oracle's pre-pass): the same events and
 * samples, threaded or not, and not one stack copied: every batch's view
 * is empty, so each of the 15,000 allocations finds no copy. */
static void test_no_stacks(void)
{
    as_trace_reader_t *rd = open_trace();
    take_t ref;
    take_ring(rd, AS_BATCH_READ, 0, &ref);
    CU_ASSERT_EQUAL(ref.max_view, 256); /* the first directory: 256 ids */
    for (unsigned threaded = 0; threaded <= 1; threaded++) {
        take_t t;
        take_ring(rd, AS_BATCH_READ,
                  AS_BATCHRING_NO_STACKS |
                      (threaded ? AS_BATCHRING_THREADED : 0),
                  &t);
        CU_ASSERT_EQUAL(t.max_view, 0);
        CU_ASSERT_EQUAL(t.bad_stacks, EVENTS / 2);
        t.bad_stacks = 0; /* the rest as with the copies */
        check_one(&t, &ref);
        free(t.ev);
    }
    free(ref.ev);
    as_trace_reader_close(rd);
}

int main(void)
{
    static const as_test_t tests[] = {
        {"a decode thread = the caller's thread", test_threads_same},
        {"no stack copies: the same events and samples", test_no_stacks},
        {NULL, NULL}};
    return as_test_main("sim_batchring", tests);
}

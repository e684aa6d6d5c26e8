/* test_sim_oracle.c - the oracle's pre-pass (sim/oracle.c): the true class
 * of every object of a hand-made trace, whether the table stays in memory
 * or goes to the temporary file through a tiny window with late frees
 * patched in, with the decoding on the caller's thread or its own; and on
 * a generated trace, the file's table equals the in-memory one for every
 * id, read forwards and backwards. With chunks decoded in parallel
 * (two and three workers, chunks of 3 and 997 events, so objects live
 * across chunks and a realloc frees one from an earlier chunk) the classes
 * are the same, and a damaged middle chunk gives the sequential pass's
 * error word for word. Figures by hand in the comments.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/oracle.h"
#include "tests/unit/testutil.h"

/* Classes 10 us, 100 us, never. Allocations i = 0..11 at t = i ns; then
 * objects i % 3 == 0 are freed 5 us after their allocation (class 0),
 * objects 4, 7, 10 50 us after (class 1), object 1 is reallocated at 60
 * us (59,999 ns: class 1) into id 12, never freed (class 2), objects
 * i % 3 == 2 are never freed (class 2); id 13 lives 1 ns (class 0). */
static const int32_t want[14] = {0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2, 2, 0};

static const char *hand_trace(void)
{
    as_event_t e[64];
    size_t n = 0;
    for (uint64_t i = 0; i < 12; i++)
        e[n++] = (as_event_t){.kind = AS_EV_ALLOC, .t_ns = i, .size = 16};
    for (uint64_t i = 0; i < 12; i += 3)
        e[n++] =
            (as_event_t){.kind = AS_EV_FREE, .t_ns = i + 5000, .object = i};
    for (uint64_t i = 4; i < 12; i += 3)
        e[n++] =
            (as_event_t){.kind = AS_EV_FREE, .t_ns = i + 50000, .object = i};
    e[n++] = (as_event_t){
        .kind = AS_EV_REALLOC, .t_ns = 60000, .object = 1, .size = 32};
    e[n++] = (as_event_t){.kind = AS_EV_ALLOC, .t_ns = 70000, .size = 8};
    e[n++] = (as_event_t){.kind = AS_EV_FREE, .t_ns = 70001, .object = 13};
    return as_test_write_trace("oracle", e, n);
}

/* Copy trace src to dst in chunks of chunk_events (definitions, samples
 * and events in the same order). */
static const char *rechunk(const char *src, const char *name,
                           uint32_t chunk_events)
{
    const char *dst = as_test_scratch(name, ".ast");
    as_trace_reader_t *r;
    CU_ASSERT_FATAL(as_trace_reader_open(&r, src) == 0);
    as_trace_writer_opts_t wo = {chunk_events, 0, 0};
    as_trace_writer_t *w;
    CU_ASSERT_FATAL(as_trace_writer_open(&w, dst, &wo) == 0);
    as_trace_record_t rec;
    int rc;
    while ((rc = as_trace_reader_next_record(r, &rec)) == 1) {
        if (rec.kind == AS_TRACE_REC_EVENT)
            CU_ASSERT_FATAL(as_trace_writer_event(w, &rec.event) == 0);
        if (rec.kind == AS_TRACE_REC_FRAME)
            CU_ASSERT_FATAL(as_trace_writer_frame(w, rec.id, &rec.frame) == 0);
        if (rec.kind == AS_TRACE_REC_STACK)
            CU_ASSERT_FATAL(
                as_trace_writer_stack(w, rec.id, rec.frames, rec.depth) == 0);
        if (rec.kind == AS_TRACE_REC_SAMPLE)
            CU_ASSERT_FATAL(as_trace_writer_sample(w, &rec.sample) == 0);
    }
    CU_ASSERT_EQUAL(rc, 0);
    CU_ASSERT_FATAL(as_trace_writer_close(w) == 0);
    as_trace_reader_close(r);
    return dst;
}

static void check_hand_at(const char *path, size_t window, size_t patches,
                          int threads, int file)
{
    as_trace_reader_t *rd;
    CU_ASSERT_FATAL(as_trace_reader_open(&rd, path) == 0);
    as_classes_t c;
    CU_ASSERT_FATAL(as_classes_parse(&c, "10us,100us") == 0);
    as_oracle_t o;
    char err[256] = "";
    CU_ASSERT_FATAL(as_oracle_build_sized(&o, rd, &c, threads, window, patches,
                                          err, sizeof err) == 0);
    CU_ASSERT_EQUAL(o.n, 14);
    CU_ASSERT_EQUAL(o.fd >= 0, file);
    CU_ASSERT_EQUAL(o.parallel,
                    threads > 1 && as_trace_reader_chunk_count(rd) > 1);
    as_oracle_cursor_t *cur = malloc(sizeof *cur);
    CU_ASSERT_FATAL(cur != NULL);
    as_oracle_cursor_init(cur, &o);
    for (uint64_t id = 0; id < 14; id++)
        CU_ASSERT_EQUAL(as_oracle_cursor_class(cur, id), want[id]);
    CU_ASSERT_EQUAL(as_oracle_cursor_class(cur, 14), 2); /* beyond: last */
    CU_ASSERT_EQUAL(as_oracle_cursor_class(cur, 3), 0);  /* back again */
    CU_ASSERT_EQUAL(cur->err, 0);
    /* the reader is rewound: the first event again */
    as_event_t ev;
    CU_ASSERT_EQUAL(as_trace_reader_next(rd, &ev), 1);
    CU_ASSERT_EQUAL(ev.kind, AS_EV_ALLOC);
    CU_ASSERT_EQUAL(ev.object, 0);
    free(cur);
    as_oracle_destroy(&o);
    as_trace_reader_close(rd);
}

static void check_hand(size_t window, size_t patches, int threads, int file)
{
    check_hand_at(hand_trace(), window, patches, threads, file);
}

/* The hand trace (22 events) in chunks of 3 events (8 chunks): chunks decoded in
 * parallel by 2 and 3 workers give the same classes, in memory and
 * through the file. */
static void test_hand_chunks(void)
{
    const char *path = rechunk(hand_trace(), "oracle-chunks", 3);
    as_trace_reader_t *rd;
    CU_ASSERT_FATAL(as_trace_reader_open(&rd, path) == 0);
    CU_ASSERT_EQUAL(as_trace_reader_chunk_count(rd), 8);
    as_trace_reader_close(rd);
    for (int th = 1; th <= 3; th++) {
        check_hand_at(path, AS_ORACLE_WINDOW_BYTES, AS_ORACLE_PATCHES, th, 0);
        check_hand_at(path, 1, 2, th, 1);
    }
}

/* 14 ids fit the default window: no file. */
static void test_hand_memory(void)
{
    check_hand(AS_ORACLE_WINDOW_BYTES, AS_ORACLE_PATCHES, 1, 0);
    check_hand(AS_ORACLE_WINDOW_BYTES, AS_ORACLE_PATCHES, 2, 0);
}

/* A window of 2 bytes (4 ids): ids 0..9 go to the file while 10..13 are
 * allocated, every free but id 13's is a patch, applied 2 at a time. */
static void test_hand_file(void)
{
    check_hand(1, 2, 1, 1);
    check_hand(1, 2, 2, 1);
    check_hand(1, 1000, 2, 1); /* patches applied only at the end */
}

/* server-mix, 60,000 events: the file's classes are the memory's. */
static void test_generated(void)
{
    const char *path = as_test_scratch("oracle-gen", ".ast");
    as_test_gen(path, "server-mix", 60000, 3, NULL);
    as_trace_reader_t *rd;
    CU_ASSERT_FATAL(as_trace_reader_open(&rd, path) == 0);
    as_classes_t c;
    as_classes_default(&c);
    as_oracle_t mem, file;
    char err[256] = "";
    CU_ASSERT_FATAL(as_oracle_build(&mem, rd, &c, 1, err, sizeof err) == 0);
    CU_ASSERT_FATAL(
        as_oracle_build_sized(&file, rd, &c, 2, 64, 100, err, sizeof err) == 0);
    CU_ASSERT(mem.fd < 0);
    CU_ASSERT(file.fd >= 0);
    CU_ASSERT_EQUAL(mem.n, file.n);
    CU_ASSERT(mem.n > 20000);
    as_oracle_cursor_t *a = malloc(sizeof *a), *b = malloc(sizeof *b);
    CU_ASSERT_FATAL(a && b);
    as_oracle_cursor_init(a, &mem);
    as_oracle_cursor_init(b, &file);
    uint64_t bad = 0, per[AS_MAX_CLASSES] = {0};
    for (uint64_t id = 0; id < mem.n; id++) {
        int32_t x = as_oracle_cursor_class(a, id);
        bad += x != as_oracle_cursor_class(b, id);
        per[x]++;
    }
    for (uint64_t id = mem.n; id-- > 0;)
        bad += as_oracle_cursor_class(a, id) != as_oracle_cursor_class(b, id);
    CU_ASSERT_EQUAL(bad, 0);
    CU_ASSERT(per[0] > 0); /* the classes are not all one */
    CU_ASSERT(per[0] < mem.n);
    CU_ASSERT_EQUAL(b->err, 0);
    free(a);
    free(b);
    as_oracle_destroy(&mem);
    as_oracle_destroy(&file);
    as_trace_reader_close(rd);
}

/* Every id's class of two tables. @return the ids that differ. */
static uint64_t diff_tables(const as_oracle_t *x, const as_oracle_t *y)
{
    as_oracle_cursor_t *a = malloc(sizeof *a), *b = malloc(sizeof *b);
    CU_ASSERT_FATAL(a && b);
    as_oracle_cursor_init(a, x);
    as_oracle_cursor_init(b, y);
    uint64_t bad = x->n != y->n;
    for (uint64_t id = 0; id < x->n; id++)
        bad += as_oracle_cursor_class(a, id) != as_oracle_cursor_class(b, id);
    CU_ASSERT_EQUAL(a->err + b->err, 0);
    free(a);
    free(b);
    return bad;
}

/* server-mix, 60,000 events in chunks of 997 (61 chunks, stacks defined
 * along the way): 2 and 3 workers give the sequential table, in memory
 * and through the file; with one chunk's frame damaged, the same error. */
static void test_generated_chunks(void)
{
    const char *gen = as_test_scratch("oracle-gen2", ".ast");
    as_test_gen(gen, "server-mix", 60000, 4, NULL);
    const char *path = rechunk(gen, "oracle-gen-chunks", 997);
    as_trace_reader_t *rd;
    CU_ASSERT_FATAL(as_trace_reader_open(&rd, path) == 0);
    CU_ASSERT_EQUAL(as_trace_reader_chunk_count(rd), 61);
    as_classes_t c;
    as_classes_default(&c);
    as_oracle_t seq, par;
    char err[256] = "";
    CU_ASSERT_FATAL(as_oracle_build(&seq, rd, &c, 1, err, sizeof err) == 0);
    CU_ASSERT_EQUAL(seq.parallel, 0);
    for (int th = 2; th <= 3; th++) {
        CU_ASSERT_FATAL(as_oracle_build(&par, rd, &c, th, err, sizeof err) ==
                        0);
        CU_ASSERT_EQUAL(diff_tables(&seq, &par), 0);
        CU_ASSERT_EQUAL(par.parallel, 1);
        as_oracle_destroy(&par);
        CU_ASSERT_FATAL(as_oracle_build_sized(&par, rd, &c, th, 64, 100, err,
                                              sizeof err) == 0);
        CU_ASSERT(par.fd >= 0);
        CU_ASSERT_EQUAL(par.parallel, 1);
        CU_ASSERT_EQUAL(diff_tables(&seq, &par), 0);
        as_oracle_destroy(&par);
    }
    /* damage the middle of chunk 30's zstd frame */
    const as_trace_chunk_info_t *ci = as_trace_reader_chunks(rd);
    uint64_t off = ci[30].offset + 48 + (ci[30].bytes - 48) / 2;
    as_trace_reader_close(rd);
    FILE *f = fopen(path, "r+b");
    CU_ASSERT_FATAL(f != NULL);
    fseek(f, (long)off, SEEK_SET);
    int ch = fgetc(f);
    fseek(f, (long)off, SEEK_SET);
    fputc(ch ^ 0x5a, f);
    fclose(f);
    char e1[256] = "", e2[256] = "";
    CU_ASSERT_FATAL(as_trace_reader_open(&rd, path) == 0);
    CU_ASSERT_NOT_EQUAL(as_oracle_build(&par, rd, &c, 1, e1, sizeof e1), 0);
    CU_ASSERT_FATAL(as_trace_reader_rewind(rd) == 0);
    CU_ASSERT_NOT_EQUAL(as_oracle_build(&par, rd, &c, 2, e2, sizeof e2), 0);
    CU_ASSERT_STRING_EQUAL(e1, e2);
    CU_ASSERT_PTR_NOT_NULL(strstr(e1, "offset"));
    as_trace_reader_close(rd);
    as_oracle_destroy(&seq);
}

int main(void)
{
    static const as_test_t tests[] = {
        {"hand trace, in memory", test_hand_memory},
        {"hand trace, through the file", test_hand_file},
        {"generated trace, file = memory", test_generated},
        {"hand trace in 8 chunks, in parallel", test_hand_chunks},
        {"generated trace in 61 chunks, in parallel", test_generated_chunks},
        {NULL, NULL}};
    return as_test_main("sim_oracle", tests);
}

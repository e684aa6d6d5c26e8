/* test_sim_oracle.c - the oracle's pre-pass (sim/oracle.c): the true class
 * of every object of a hand-made trace, whether the table stays in memory
 * or goes to the temporary file through a tiny window with late frees
 * patched in, with the decoding on the caller's thread or its own; and on
 * a generated trace, the file's table equals the in-memory one for every
 * id, read forwards and backwards. Figures by hand in the comments.
 */
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

static void check_hand(size_t window, size_t patches, int threads, int file)
{
    const char *path = hand_trace();
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

int main(void)
{
    static const as_test_t tests[] = {
        {"hand trace, in memory", test_hand_memory},
        {"hand trace, through the file", test_hand_file},
        {"generated trace, file = memory", test_generated},
        {NULL, NULL}};
    return as_test_main("sim_oracle", tests);
}

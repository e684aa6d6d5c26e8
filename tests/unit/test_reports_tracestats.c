/* test_reports_tracestats.c - reports/tracestats.c on a four-event trace
 * whose size buckets and lifetime bins are worked out by hand, and on a
 * file that is not a trace (an error naming it).
 */
#include <string.h>

#include "common/error.h"
#include "reports/tracestats.h"
#include "tests/unit/testutil.h"
#include "traces/trace.h"

/* t=0 alloc #0, 100 B; t=10 alloc #1, 3000 B; t=1010 free #0 (lifetime
 * 1010 ns: bin floor(10 log10 1010) = 30); t=2000000 realloc #1 -> #2,
 * 5000 B (lifetime of #1: 1999990 ns, bin floor(63.01) = 63); #2 is never
 * freed. Sizes: 100 in [64, 128): bucket 6; 3000 in [2048, 4096): 11;
 * 5000 in [4096, 8192): 12. */
static void test_hand_trace(void)
{
    const char *path = as_test_tmpfile("tracestats", ".ast");
    as_trace_writer_t *w = NULL;
    CU_ASSERT_EQUAL_FATAL(as_trace_writer_open(&w, path, NULL), 0);
    as_event_t ev[4] = {
        {.kind = AS_EV_ALLOC, .t_ns = 0, .size = 100},
        {.kind = AS_EV_ALLOC, .t_ns = 10, .size = 3000},
        {.kind = AS_EV_FREE, .t_ns = 1010, .object = 0},
        {.kind = AS_EV_REALLOC, .t_ns = 2000000, .object = 1, .size = 5000},
    };
    for (int i = 0; i < 4; i++)
        CU_ASSERT_EQUAL_FATAL(as_trace_writer_event(w, &ev[i]), 0);
    CU_ASSERT_EQUAL_FATAL(as_trace_writer_close(w), 0);

    as_tracestats_t s;
    char err[512];
    CU_ASSERT_EQUAL_FATAL(as_tracestats_compute(path, &s, err, sizeof err), 0);
    CU_ASSERT_EQUAL(s.allocs, 3);
    CU_ASSERT_EQUAL(s.bytes, 8100);
    CU_ASSERT_EQUAL(s.size_allocs[6], 1);
    CU_ASSERT_EQUAL(s.size_bytes[11], 3000);
    CU_ASSERT_EQUAL(s.size_bytes[12], 5000);
    CU_ASSERT_EQUAL(s.life_allocs[30], 1);
    CU_ASSERT_EQUAL(s.life_bytes[30], 100);
    CU_ASSERT_EQUAL(s.life_allocs[63], 1);
    CU_ASSERT_EQUAL(s.life_bytes[63], 3000);
    CU_ASSERT_EQUAL(s.never_allocs, 1);
    CU_ASSERT_EQUAL(s.never_bytes, 5000);
    CU_ASSERT_EQUAL(s.unknown_frees, 0);
    uint64_t total = 0;
    for (size_t k = 0; k < AS_TS_LIFE_BINS; k++)
        total += s.life_allocs[k];
    CU_ASSERT_EQUAL(total, 2);
    CU_ASSERT_EQUAL(as_tracestats_lifetime_bin(0), 0);
    CU_ASSERT_EQUAL(as_tracestats_lifetime_bin(1), 0);
    CU_ASSERT_EQUAL(as_tracestats_lifetime_bin(10), 10);
    CU_ASSERT_EQUAL(as_tracestats_lifetime_bin(1000000), 60);
    CU_ASSERT_EQUAL(as_tracestats_lifetime_bin(UINT64_MAX),
                    AS_TS_LIFE_BINS - 1);
    remove(path);

    /* not a trace */
    const char *bad = as_test_tmpfile("tracestats", ".txt");
    FILE *f = fopen(bad, "w");
    fputs("hello, not a trace\n", f);
    fclose(f);
    CU_ASSERT_NOT_EQUAL(as_tracestats_compute(bad, &s, err, sizeof err), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, bad));
    remove(bad);
}

int main(void)
{
    static const as_test_t tests[] = {
        {"sizes and lifetimes by hand", test_hand_trace},
        {NULL, NULL},
    };
    return as_test_main("reports_tracestats", tests);
}

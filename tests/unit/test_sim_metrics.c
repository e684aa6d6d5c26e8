/* test_sim_metrics.c - sim/metrics.c against a hand-made sequence of
 * samples whose peaks, time-weighted means, Johnstone & Wilson measures and
 * huge-page coverage are worked out by hand below (docs/metrics.md gives
 * the definitions).
 */
#include <string.h>

#include "sim/metrics.h"
#include "tests/unit/testutil.h"

#define EPS 1e-9

static as_sample_t S(uint64_t t, uint64_t live, uint64_t objs, uint64_t alloc,
                     uint64_t res, uint64_t mapped, uint64_t huge,
                     uint64_t meta)
{
    as_sample_t s;
    memset(&s, 0, sizeof s);
    s.t_ns = t;
    s.live_bytes = live;
    s.live_objects = objs;
    s.allocated_bytes = alloc;
    s.resident_bytes = res;
    s.mapped_bytes = mapped;
    s.huge_bytes = huge;
    s.meta_bytes = meta;
    return s;
}

/* The sequence (t in ns):
 *        t   live objs alloc    res  mapped  huge meta
 *   A    0    100   1   112    4096    8192     0   10
 *   B   10    300   3   320   12288   16384  8192   20   same instant as C
 *   C   10    250   2   256    8192   16384  4096   20
 *   D   30    200   2   208   12288   16384  8192   15
 *   E   40    280   3   300   16384   16384  8192   15
 *   F   45    300   3   320   16384   16384  8192   15   ties both peaks
 *   end 50
 * A state holds until the next update, so B lasts 0 ns: it counts for the
 * peaks, not for the means. Intervals: A [0,10), C [10,30), D [30,40),
 * E [40,45), F [45,50); duration 50.
 *   ∫live  = 100*10 + 250*20 + 200*10 + 280*5 + 300*5 = 10900    mean 218
 *   ∫res   = 4096*10 + 8192*20 + 12288*10 + 16384*5 + 16384*5
 *          = 40960 + 163840 + 122880 + 81920 + 81920 = 491520     mean 9830.4
 *   ∫huge  = 0 + 4096*20 + 8192*10 + 8192*5 + 8192*5 = 245760     mean 4915.2
 *   ∫alloc = 1120 + 5120 + 2080 + 1500 + 1600 = 11420             mean 228.4
 * Peaks (ties keep the first instant): live 300 at B (resident 12288, huge
 * 8192; F's tie does not move it), resident 16384 at E (live 280; F's tie
 * does not move it), objects 3, allocated 320, mapped 16384, metadata 20,
 * huge 8192.
 *   jw1 = 9830.4 / 218 - 1     jw2 = 12288 / 300 - 1 = 39.96
 *   jw3 = 16384 / 280 - 1      jw4 = 16384 / 300 - 1
 *   coverage mean = 4915.2 / 9830.4 = 0.5; at peak = 8192 / 12288 = 2/3. */
static void feed(as_metrics_t *m)
{
    as_sample_t seq[] = {
        S(0, 100, 1, 112, 4096, 8192, 0, 10),
        S(10, 300, 3, 320, 12288, 16384, 8192, 20),
        S(10, 250, 2, 256, 8192, 16384, 4096, 20),
        S(30, 200, 2, 208, 12288, 16384, 8192, 15),
        S(40, 280, 3, 300, 16384, 16384, 8192, 15),
        S(45, 300, 3, 320, 16384, 16384, 8192, 15),
    };
    as_metrics_init(m);
    for (size_t i = 0; i < sizeof seq / sizeof seq[0]; i++)
        as_metrics_update(m, &seq[i]);
}

static void test_hand_sequence(void)
{
    as_metrics_t m;
    as_metrics_summary_t s;
    feed(&m);
    as_metrics_finish(&m, 50, &s);
    CU_ASSERT_EQUAL(s.duration_ns, 50);
    CU_ASSERT_EQUAL(s.peak_live_bytes, 300);
    CU_ASSERT_EQUAL(s.peak_live_objects, 3);
    CU_ASSERT_EQUAL(s.peak_allocated_bytes, 320);
    CU_ASSERT_EQUAL(s.peak_resident_bytes, 16384);
    CU_ASSERT_EQUAL(s.peak_mapped_bytes, 16384);
    CU_ASSERT_EQUAL(s.peak_metadata_bytes, 20);
    CU_ASSERT_EQUAL(s.peak_huge_bytes, 8192);
    CU_ASSERT_EQUAL(s.resident_at_peak_live_bytes, 12288);
    CU_ASSERT_EQUAL(s.live_at_peak_resident_bytes, 280);
    CU_ASSERT_EQUAL(s.huge_at_peak_live_bytes, 8192);
    CU_ASSERT_DOUBLE_EQUAL(s.mean_live_bytes, 218.0, EPS);
    CU_ASSERT_DOUBLE_EQUAL(s.mean_resident_bytes, 9830.4, EPS);
    CU_ASSERT_DOUBLE_EQUAL(s.mean_huge_bytes, 4915.2, EPS);
    CU_ASSERT_DOUBLE_EQUAL(s.mean_allocated_bytes, 228.4, EPS);
    CU_ASSERT_DOUBLE_EQUAL(s.jw1, 9830.4 / 218.0 - 1.0, EPS);
    CU_ASSERT_DOUBLE_EQUAL(s.jw2, 39.96, EPS);
    CU_ASSERT_DOUBLE_EQUAL(s.jw3, 16384.0 / 280.0 - 1.0, EPS);
    CU_ASSERT_DOUBLE_EQUAL(s.jw4, 16384.0 / 300.0 - 1.0, EPS);
    CU_ASSERT_DOUBLE_EQUAL(s.hugepage_coverage_mean, 0.5, EPS);
    CU_ASSERT_DOUBLE_EQUAL(s.hugepage_coverage_at_peak, 2.0 / 3.0, EPS);

    /* Finishing again at the same end gives the same summary. */
    as_metrics_summary_t s2;
    as_metrics_finish(&m, 50, &s2);
    CU_ASSERT_EQUAL(memcmp(&s, &s2, sizeof s), 0);
}

/* The clock need not start at 0: duration and means run from the first
 * sample (10^12 ns here), not from 0. */
static void test_shifted_start(void)
{
    as_metrics_t m;
    as_metrics_summary_t b;
    as_metrics_init(&m);
    as_sample_t s1 = S(1000000000000ull, 100, 1, 100, 4096, 4096, 0, 0);
    as_sample_t s2 = S(1000000000030ull, 400, 2, 400, 8192, 8192, 0, 0);
    as_metrics_update(&m, &s1);
    as_metrics_update(&m, &s2);
    /* 100 for 30 ns, 400 for 10 ns: (3000 + 4000) / 40 = 175. */
    as_metrics_finish(&m, 1000000000040ull, &b);
    CU_ASSERT_EQUAL(b.duration_ns, 40);
    CU_ASSERT_DOUBLE_EQUAL(b.mean_live_bytes, 175.0, EPS);
    /* (4096*30 + 8192*10) / 40 = 5120; jw1 = 5120 / 175 - 1. */
    CU_ASSERT_DOUBLE_EQUAL(b.mean_resident_bytes, 5120.0, EPS);
    CU_ASSERT_DOUBLE_EQUAL(b.jw1, 5120.0 / 175.0 - 1.0, EPS);
    CU_ASSERT_DOUBLE_EQUAL(b.hugepage_coverage_mean, 0.0, EPS);
}

/* An end before the last sample does not shorten the run: duration runs to
 * the last sample, and the last state holds for 0 ns. */
static void test_end_before_last_sample(void)
{
    as_metrics_t m;
    as_metrics_summary_t s;
    as_metrics_init(&m);
    as_sample_t a = S(0, 10, 1, 16, 4096, 4096, 0, 0);
    as_sample_t b = S(20, 30, 2, 32, 8192, 8192, 0, 0);
    as_metrics_update(&m, &a);
    as_metrics_update(&m, &b);
    as_metrics_finish(&m, 5, &s);
    /* only [0,20) with live 10 and resident 4096 */
    CU_ASSERT_EQUAL(s.duration_ns, 20);
    CU_ASSERT_DOUBLE_EQUAL(s.mean_live_bytes, 10.0, EPS);
    CU_ASSERT_DOUBLE_EQUAL(s.mean_resident_bytes, 4096.0, EPS);
    CU_ASSERT_EQUAL(s.peak_live_bytes, 30);
    /* jw2 = jw4 = 8192 / 30 - 1; jw3 the same (live 30 at peak resident) */
    CU_ASSERT_DOUBLE_EQUAL(s.jw2, 8192.0 / 30.0 - 1.0, EPS);
    CU_ASSERT_DOUBLE_EQUAL(s.jw3, 8192.0 / 30.0 - 1.0, EPS);
    CU_ASSERT_DOUBLE_EQUAL(s.jw4, 8192.0 / 30.0 - 1.0, EPS);
}

/* A trace without duration: the final state is the only state. */
static void test_zero_duration(void)
{
    as_metrics_t m;
    as_metrics_summary_t s;
    as_metrics_init(&m);
    as_sample_t a = S(7, 50, 1, 64, 4096, 4096, 0, 8);
    as_sample_t b = S(7, 100, 2, 128, 2097152, 2097152, 2097152, 8);
    as_metrics_update(&m, &a);
    as_metrics_update(&m, &b);
    as_metrics_finish(&m, 7, &s);
    CU_ASSERT_EQUAL(s.duration_ns, 0);
    CU_ASSERT_DOUBLE_EQUAL(s.mean_live_bytes, 100.0, EPS);
    CU_ASSERT_DOUBLE_EQUAL(s.mean_resident_bytes, 2097152.0, EPS);
    /* 2097152 / 100 - 1 = 20970.52 */
    CU_ASSERT_DOUBLE_EQUAL(s.jw1, 20970.52, EPS);
    CU_ASSERT_DOUBLE_EQUAL(s.hugepage_coverage_mean, 1.0, EPS);
    CU_ASSERT_DOUBLE_EQUAL(s.hugepage_coverage_at_peak, 1.0, EPS);
}

/* No samples, or nothing live: every ratio with a zero denominator is 0. */
static void test_empty(void)
{
    as_metrics_t m;
    as_metrics_summary_t s;
    as_metrics_init(&m);
    as_metrics_finish(&m, 100, &s);
    CU_ASSERT_EQUAL(s.duration_ns, 0);
    CU_ASSERT_EQUAL(s.peak_live_bytes, 0);
    CU_ASSERT_EQUAL(s.peak_resident_bytes, 0);
    CU_ASSERT_DOUBLE_EQUAL(s.mean_live_bytes, 0.0, EPS);
    CU_ASSERT_DOUBLE_EQUAL(s.jw1 + s.jw2 + s.jw3 + s.jw4, 0.0, EPS);
    CU_ASSERT_DOUBLE_EQUAL(s.hugepage_coverage_mean, 0.0, EPS);

    /* Resident memory but nothing live (a heap emptied at once): the
     * overheads have no meaning and are 0; coverage still counts. */
    as_metrics_init(&m);
    as_sample_t a = S(0, 0, 0, 0, 2097152, 2097152, 2097152, 0);
    as_metrics_update(&m, &a);
    as_metrics_finish(&m, 10, &s);
    CU_ASSERT_EQUAL(s.peak_resident_bytes, 2097152);
    CU_ASSERT_EQUAL(s.live_at_peak_resident_bytes, 0);
    CU_ASSERT_DOUBLE_EQUAL(s.jw1 + s.jw2 + s.jw3 + s.jw4, 0.0, EPS);
    CU_ASSERT_DOUBLE_EQUAL(s.hugepage_coverage_mean, 1.0, EPS);
    /* live never rose above 0, so "at peak live" was never recorded */
    CU_ASSERT_DOUBLE_EQUAL(s.hugepage_coverage_at_peak, 0.0, EPS);
}

/* Byte-times beyond 2^64 stay exact: 2^40 bytes live for 2^30 ns then
 * 2^41 bytes for 2^30 ns: mean 1.5 * 2^40 exactly. */
static void test_large_integrals(void)
{
    as_metrics_t m;
    as_metrics_summary_t s;
    uint64_t T = 1ull << 30, B = 1ull << 40;
    as_metrics_init(&m);
    as_sample_t a = S(0, B, 1, B, B, B, 0, 0);
    as_sample_t b = S(T, 2 * B, 2, 2 * B, 2 * B, 2 * B, 0, 0);
    as_metrics_update(&m, &a);
    as_metrics_update(&m, &b);
    as_metrics_finish(&m, 2 * T, &s);
    CU_ASSERT_DOUBLE_EQUAL(s.mean_live_bytes, 1.5 * (double)B, 0.5);
    CU_ASSERT_DOUBLE_EQUAL(s.jw1, 0.0, EPS);
}

int main(void)
{
    static const as_test_t tests[] = {
        {"hand_sequence", test_hand_sequence},
        {"shifted_start", test_shifted_start},
        {"end_before_last_sample", test_end_before_last_sample},
        {"zero_duration", test_zero_duration},
        {"empty", test_empty},
        {"large_integrals", test_large_integrals},
        {NULL, NULL}};
    return as_test_main("sim_metrics", tests);
}

/* test_sim_tlb.c - the data-TLB reach model (sim/tlb.c) against answers
 * computed by hand: exact LRU set-associative hits, misses and walks on a
 * hand-built sequence, 2 MiB versus 4 KiB translation through a simulated
 * OS with a known huge region, the live-byte sampler's proportionality
 * (every byte number maps to its object: counts equal the sizes), the
 * sampler tree against a brute-force list under random adds and removes,
 * and the parameter checks.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/rng.h"
#include "sim/engine.h"
#include "sim/simos.h"
#include "sim/summary.h"
#include "sim/tlb.h"
#include "tests/unit/testutil.h"

#define PAGE ((uint64_t)4096)
#define HUGE ((uint64_t)2 * 1024 * 1024)

static as_tlb_t *mk(as_tlb_geom_t l1_4k, as_tlb_geom_t l1_2m, as_tlb_geom_t l2,
                    uint64_t accesses)
{
    as_tlb_config_t cfg;
    as_tlb_config_default(&cfg);
    cfg.model = AS_TLB_SKYLAKE;
    cfg.l1_4k = l1_4k;
    cfg.l1_2m = l1_2m;
    cfg.l2 = l2;
    cfg.accesses = accesses;
    as_tlb_t *t = NULL;
    CU_ASSERT_FATAL(as_tlb_create(&cfg, &t) == 0);
    return t;
}

static void test_defaults_skylake(void)
{
    as_tlb_config_t cfg;
    as_tlb_config_default(&cfg);
    CU_ASSERT_EQUAL(cfg.model, AS_TLB_OFF);
    CU_ASSERT_EQUAL(cfg.l1_4k.entries, 64);
    CU_ASSERT_EQUAL(cfg.l1_4k.ways, 4);
    CU_ASSERT_EQUAL(cfg.l1_2m.entries, 32);
    CU_ASSERT_EQUAL(cfg.l1_2m.ways, 4);
    CU_ASSERT_EQUAL(cfg.l2.entries, 1536);
    CU_ASSERT_EQUAL(cfg.l2.ways, 12);
    char err[256] = "";
    CU_ASSERT_EQUAL(as_tlb_config_check(&cfg, err, sizeof err), 0);
    cfg.l2.entries = 1000; /* not a multiple of 12 */
    CU_ASSERT_EQUAL(as_tlb_config_check(&cfg, err, sizeof err), AS_EINVAL);
    CU_ASSERT(strstr(err, "tlb.l2_entries=1000") != NULL);
    as_tlb_t *t = (as_tlb_t *)1;
    CU_ASSERT_EQUAL(as_tlb_create(&cfg, &t), AS_EINVAL);
    CU_ASSERT_PTR_NULL(t);
}

/* L1 4K: 2 entries, 2 ways (one set); L1 2M: 2 entries, 1 way (two
 * sets); L2: 4 entries, 2 ways (sets by page number mod 2). Pages are
 * 4 KiB page numbers unless marked h (2 MiB page numbers). Worked out by
 * hand, L1 and L2 set contents most recent first:
 *   0  walk  L1 [0]      L2 s0 [0]
 *   1  walk  L1 [1 0]    L2 s1 [1]
 *   0  hit   L1 [0 1]
 *   2  walk  L1 [2 0]    L2 s0 [2 0]
 *   1  L2    L1 [1 2]    L2 s1 [1]
 *   0  L2    L1 [0 1]    L2 s0 [0 2]
 *   4  walk  L1 [4 0]    L2 s0 [4 0]
 *   2  walk  L1 [2 4]    L2 s0 [2 4]
 *   0  walk  L1 [0 2]    L2 s0 [0 2]
 *   1  L2    L1 [1 0]    L2 s1 [1]
 *   1h walk  L1h s1 [1h] L2 s1 [1h 1]  (a 2 MiB key differs from a 4 KiB one)
 *   0h walk  L1h s0 [0h] L2 s0 [0h 0]
 *   0h hit   (address 0x1000 lies in 2 MiB page 0)
 *   1  hit   (L1 4K still [1 0])
 * Totals: 14 accesses, 3 huge, 3 L1 hits, 11 L1 misses, 8 walks. */
static void test_lru_sequence(void)
{
    as_tlb_t *t = mk((as_tlb_geom_t){2, 2}, (as_tlb_geom_t){2, 1},
                     (as_tlb_geom_t){4, 2}, 1);
    static const struct {
        uint64_t addr;
        int huge;
        as_tlb_outcome_t want;
    } seq[] = {
        {0 * PAGE, 0, AS_TLB_WALK},   {1 * PAGE, 0, AS_TLB_WALK},
        {0 * PAGE, 0, AS_TLB_L1_HIT}, {2 * PAGE, 0, AS_TLB_WALK},
        {1 * PAGE, 0, AS_TLB_L2_HIT}, {0 * PAGE, 0, AS_TLB_L2_HIT},
        {4 * PAGE, 0, AS_TLB_WALK},   {2 * PAGE, 0, AS_TLB_WALK},
        {0 * PAGE, 0, AS_TLB_WALK},   {1 * PAGE, 0, AS_TLB_L2_HIT},
        {1 * HUGE, 1, AS_TLB_WALK},   {0, 1, AS_TLB_WALK},
        {0x1000, 1, AS_TLB_L1_HIT},   {1 * PAGE + 17, 0, AS_TLB_L1_HIT},
    };
    for (size_t i = 0; i < sizeof seq / sizeof seq[0]; i++) {
        as_tlb_outcome_t got =
            as_tlb_lookup(t, (uintptr_t)seq[i].addr, seq[i].huge);
        if (got != seq[i].want)
            CU_FAIL("lookup outcome differs from the hand-worked sequence");
    }
    const as_tlb_counters_t *c = as_tlb_counters(t);
    CU_ASSERT_EQUAL(c->accesses, 14);
    CU_ASSERT_EQUAL(c->huge_accesses, 3);
    CU_ASSERT_EQUAL(c->l1_misses, 11);
    CU_ASSERT_EQUAL(c->walks, 8);
    as_tlb_rates_t q;
    as_tlb_rates(c, &q);
    CU_ASSERT_DOUBLE_EQUAL(q.l1_misses_per_1000, 11000.0 / 14, 1e-9);
    CU_ASSERT_DOUBLE_EQUAL(q.walks_per_1000, 8000.0 / 14, 1e-9);
    CU_ASSERT_DOUBLE_EQUAL(q.huge_share, 3.0 / 14, 1e-12);
    as_tlb_destroy(t);
}

/* Three objects of 100, 300 and 600 bytes: byte numbers 0..999 map to
 * them in address order, so over every u exactly 100, 300 and 600 land
 * on each: a uniform u picks an object with probability bytes / 1000. */
static void test_sampler_proportional(void)
{
    as_tlb_t *t = mk((as_tlb_geom_t){64, 4}, (as_tlb_geom_t){32, 4},
                     (as_tlb_geom_t){1536, 12}, 1);
    /* added out of address order */
    CU_ASSERT(as_tlb_live_add(t, 0x9000, 600) == 0);
    CU_ASSERT(as_tlb_live_add(t, 0x1000, 100) == 0);
    CU_ASSERT(as_tlb_live_add(t, 0x5000, 300) == 0);
    CU_ASSERT(as_tlb_live_add(t, 0x7000, 0) == 0);   /* empty: ignored */
    CU_ASSERT(as_tlb_live_add(t, 0x5000, 999) == 0); /* present: ignored */
    CU_ASSERT_EQUAL(as_tlb_live_bytes(t), 1000);
    CU_ASSERT(as_tlb_check(t) == 0);
    uint64_t n[3] = {0, 0, 0};
    for (uint64_t u = 0; u < 1000; u++) {
        uintptr_t a = as_tlb_live_pick(t, u);
        if (a >= 0x1000 && a < 0x1000 + 100)
            n[0]++;
        else if (a >= 0x5000 && a < 0x5000 + 300)
            n[1]++;
        else if (a >= 0x9000 && a < 0x9000 + 600)
            n[2]++;
    }
    CU_ASSERT_EQUAL(n[0], 100);
    CU_ASSERT_EQUAL(n[1], 300);
    CU_ASSERT_EQUAL(n[2], 600);
    CU_ASSERT_EQUAL(as_tlb_live_pick(t, 0), 0x1000);
    CU_ASSERT_EQUAL(as_tlb_live_pick(t, 99), 0x1000 + 99);
    CU_ASSERT_EQUAL(as_tlb_live_pick(t, 100), 0x5000);
    CU_ASSERT_EQUAL(as_tlb_live_pick(t, 399), 0x5000 + 299);
    CU_ASSERT_EQUAL(as_tlb_live_pick(t, 400), 0x9000);
    CU_ASSERT_EQUAL(as_tlb_live_pick(t, 999), 0x9000 + 599);
    CU_ASSERT_EQUAL(as_tlb_live_pick(t, 1000), 0); /* out of range */
    as_tlb_live_remove(t, 0x5000);
    as_tlb_live_remove(t, 0x4000); /* absent: no-op */
    CU_ASSERT_EQUAL(as_tlb_live_bytes(t), 700);
    CU_ASSERT_EQUAL(as_tlb_live_pick(t, 100), 0x9000);
    CU_ASSERT(as_tlb_check(t) == 0);
    as_tlb_destroy(t);
}

/* 2000 random adds and removes against a list: after each, the total and
 * the object every 97th byte number maps to agree with a linear scan of
 * the list sorted by address. */
static void test_sampler_random(void)
{
    enum { N = 64 };
    as_tlb_t *t = mk((as_tlb_geom_t){64, 4}, (as_tlb_geom_t){32, 4},
                     (as_tlb_geom_t){1536, 12}, 1);
    uint64_t size[N] = {0}; /* object i lives at (i+1) * 0x10000 */
    as_rng_t r;
    as_rng_seed(&r, 42);
    for (int step = 0; step < 2000; step++) {
        int i = (int)as_rng_below(&r, N);
        uintptr_t a = (uintptr_t)(i + 1) * 0x10000;
        if (size[i]) {
            as_tlb_live_remove(t, a);
            size[i] = 0;
        } else {
            size[i] = 1 + as_rng_below(&r, 5000);
            CU_ASSERT_FATAL(as_tlb_live_add(t, a, size[i]) == 0);
        }
        uint64_t total = 0;
        for (int k = 0; k < N; k++)
            total += size[k];
        CU_ASSERT_EQUAL_FATAL(as_tlb_live_bytes(t), total);
        CU_ASSERT_FATAL(as_tlb_check(t) == 0);
        for (uint64_t u = 0; u < total; u += 97) {
            uint64_t left = u;
            uintptr_t want = 0;
            for (int k = 0; k < N; k++) {
                if (left < size[k]) {
                    want = (uintptr_t)(k + 1) * 0x10000 + left;
                    break;
                }
                left -= size[k];
            }
            if (as_tlb_live_pick(t, u) != want) {
                CU_FAIL_FATAL("pick differs from the linear scan");
            }
        }
    }
    as_tlb_destroy(t);
}

/* A simulated OS with R0 = [a, a+2M) a huge page (faulted in by a touch)
 * and R1 = [a+2M, a+4M) split into 4 KiB pages (touched, then page 0
 * released). An object of 8192 bytes at a+4096 (huge) is the only live
 * one: every access is to 2 MiB page a/2M, so 1000 accesses make exactly
 * one walk (the first) and 999 L1 hits. Then that object leaves and one of
 * 8192 bytes at R1 + 4096 (pages 1 and 2 of R1, 4 KiB) is the only one:
 * 1000 more accesses, none huge, each page walks once (the seed draws
 * both within 1000 accesses: the chance of missing one is 2^-999) and
 * then hits in the 64-entry L1. */
static void test_translation_through_simos(void)
{
    as_simos_t *os = NULL;
    CU_ASSERT_FATAL(as_simos_create(NULL, &os) == 0);
    uintptr_t a = 0;
    CU_ASSERT_FATAL(
        as_ps_reserve(as_simos_pagesource(os), 0, 2 * HUGE, HUGE, &a) == 0);
    CU_ASSERT(as_simos_touch(os, a, 2 * HUGE) == 0);
    CU_ASSERT(as_ps_release(as_simos_pagesource(os), a + HUGE, PAGE) == 0);
    int h0 = -1, h1 = -1;
    CU_ASSERT(as_simos_region(os, a, NULL, NULL, &h0) == 0);
    CU_ASSERT(as_simos_region(os, a + HUGE, NULL, NULL, &h1) == 0);
    CU_ASSERT_EQUAL(h0, 1);
    CU_ASSERT_EQUAL(h1, 0);

    as_tlb_t *t = mk((as_tlb_geom_t){64, 4}, (as_tlb_geom_t){32, 4},
                     (as_tlb_geom_t){1536, 12}, 1000);
    as_tlb_draw(t, os); /* empty set: counted, no access */
    CU_ASSERT_EQUAL(as_tlb_counters(t)->draws, 1);
    CU_ASSERT_EQUAL(as_tlb_counters(t)->accesses, 0);
    CU_ASSERT(as_tlb_live_add(t, a + PAGE, 2 * PAGE) == 0);
    as_tlb_draw(t, os);
    const as_tlb_counters_t *c = as_tlb_counters(t);
    CU_ASSERT_EQUAL(c->accesses, 1000);
    CU_ASSERT_EQUAL(c->huge_accesses, 1000);
    CU_ASSERT_EQUAL(c->walks, 1);
    CU_ASSERT_EQUAL(c->l1_misses, 1);
    as_tlb_live_remove(t, a + PAGE);
    CU_ASSERT(as_tlb_live_add(t, a + HUGE + PAGE, 2 * PAGE) == 0);
    as_tlb_draw(t, os);
    CU_ASSERT_EQUAL(c->draws, 3);
    CU_ASSERT_EQUAL(c->accesses, 2000);
    CU_ASSERT_EQUAL(c->huge_accesses, 1000);
    CU_ASSERT_EQUAL(c->walks, 3);
    CU_ASSERT_EQUAL(c->l1_misses, 3);
    as_tlb_destroy(t);
    as_simos_destroy(os);
}

/* The engine drives the model: one object of 8192 bytes allocated at t = 0
 * and freed at t = 1 s; draws every 100 ms of 10 accesses each fire at
 * 100, 200, ..., 1000 ms (a timer due at an event's time fires first, so
 * the draw at 1 s still sees the object): 10 draws, 100 accesses. The
 * object spans at most 2 pages (a 2 MiB page or two 4 KiB pages), so at
 * most 2 walks and at least 1. With the model off (the default) the
 * result has no TLB figures, summary.json no "tlb" key, and every other
 * figure is the same. */
static void test_engine_run(void)
{
    static const as_event_t ev[] = {
        {.kind = AS_EV_ALLOC, .t_ns = 0, .object = 0, .size = 8192},
        {.kind = AS_EV_FREE, .t_ns = 1000000000ull, .object = 0},
    };
    const char *path = as_test_write_trace("tlb", ev, 2);
    as_run_result_t on, off;
    char err[1024] = "";
    as_run_config_t cfg;
    as_run_config_default(&cfg);
    cfg.trace_path = path;
    cfg.policy = "bestfit";
    cfg.params[0] = "tlb.model=skylake";
    cfg.params[1] = "tlb.interval=100ms";
    cfg.params[2] = "tlb.accesses=10";
    cfg.n_params = 3;
    CU_ASSERT_FATAL(as_engine_run(&cfg, &on, err, sizeof err) == 0);
    CU_ASSERT_EQUAL(on.tlb_on, 1);
    CU_ASSERT_EQUAL(on.tlb.draws, 10);
    CU_ASSERT_EQUAL(on.tlb.accesses, 100);
    CU_ASSERT(on.tlb.walks >= 1 && on.tlb.walks <= 2);
    CU_ASSERT_EQUAL(on.tlb.l1_misses, on.tlb.walks);
    char *js = as_summary_json(&cfg, &on);
    CU_ASSERT_PTR_NOT_NULL_FATAL(js);
    CU_ASSERT(strstr(js, "\"walks_per_1000\"") != NULL);
    free(js);

    cfg.n_params = 0;
    CU_ASSERT_FATAL(as_engine_run(&cfg, &off, err, sizeof err) == 0);
    CU_ASSERT_EQUAL(off.tlb_on, 0);
    CU_ASSERT_EQUAL(off.tlb.accesses, 0);
    js = as_summary_json(&cfg, &off);
    CU_ASSERT_PTR_NOT_NULL_FATAL(js);
    CU_ASSERT(strstr(js, "\"tlb\"") == NULL);
    free(js);
    CU_ASSERT_EQUAL(on.metrics.peak_resident_bytes,
                    off.metrics.peak_resident_bytes);
    CU_ASSERT_EQUAL(on.os.huge_faults, off.os.huge_faults);
    CU_ASSERT_EQUAL(on.os.page_faults, off.os.page_faults);
    as_run_result_free(&on);
    as_run_result_free(&off);

    /* a geometry that does not divide: refused before the replay */
    cfg.params[0] = "tlb.model=skylake";
    cfg.params[1] = "tlb.l1_4k_entries=10";
    cfg.n_params = 2;
    CU_ASSERT_EQUAL(as_engine_run(&cfg, &on, err, sizeof err), AS_EINVAL);
    CU_ASSERT(strstr(err, "tlb.l1_4k_entries=10") != NULL);
}

int main(void)
{
    static const as_test_t tests[] = {
        {"defaults_skylake", test_defaults_skylake},
        {"lru_sequence", test_lru_sequence},
        {"sampler_proportional", test_sampler_proportional},
        {"sampler_random", test_sampler_random},
        {"translation_through_simos", test_translation_through_simos},
        {"engine_run", test_engine_run},
        {NULL, NULL}};
    return as_test_main("sim_tlb", tests);
}

/* test_policies_tcmalloc_frontend.c - known answers for the tcmalloc
 * policy's front end as google/tcmalloc's current source has it: the legacy
 * size-class table row by row, the 8-byte class under the checking layer,
 * per-CPU capacity growth and refill counts (cpu_cache.h UpdateCapacity,
 * TargetOverflowRefillCount), the class resize and the cross-CPU shuffle,
 * and the transfer cache's capacity, plunder and resize
 * (transfer_cache_internals.h). Every figure is worked out by hand in the
 * comments from the rules in docs/policies/tcmalloc.md.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "policies/layers/check.h"
#include "policies/tcmalloc/tc_internal.h"
#include "policies/tcmalloc/tcmalloc.h"
#include "sim/simos.h"
#include "tests/unit/testutil.h"

#define KiB 1024ull
#define SEC 1000000000ull

typedef struct {
    as_simos_t *os;
    as_param_value_t params[TC_P_COUNT];
    tc_t *t;
} fixture_t;

static void setup(fixture_t *fx, const char *const *assign)
{
    memset(fx, 0, sizeof *fx);
    as_simos_config_t oc;
    as_simos_config_default(&oc);
    oc.khugepaged = 0;
    CU_ASSERT_EQUAL_FATAL(as_simos_create(&oc, &fx->os), 0);
    CU_ASSERT_EQUAL_FATAL(
        as_param_defaults(as_tc_params, TC_P_COUNT, fx->params), 0);
    for (; assign && *assign; assign++)
        CU_ASSERT_EQUAL_FATAL(
            as_param_set(as_tc_params, TC_P_COUNT, fx->params, *assign), 0);
    as_policy_config_t cfg = {as_simos_pagesource(fx->os), fx->params, 1, NULL,
                              NULL};
    void *st = NULL;
    CU_ASSERT_EQUAL_FATAL(as_policy_tcmalloc.create(&cfg, &st), 0);
    fx->t = st;
}

static void teardown(fixture_t *fx)
{
    CU_ASSERT_EQUAL(as_tc_check(fx->t, NULL), 0);
    as_policy_tcmalloc.destroy(fx->t);
    as_simos_destroy(fx->os);
}

static uintptr_t A(fixture_t *fx, uint32_t cpu, size_t size)
{
    as_ctx_t c = {0, 0, cpu, AS_CLASS_NONE, 0};
    as_block_t b = {0, 0};
    CU_ASSERT_EQUAL(as_policy_tcmalloc.alloc(fx->t, &c, size, 0, &b), 0);
    return b.addr;
}

static void F(fixture_t *fx, uint32_t cpu, uintptr_t addr)
{
    as_ctx_t c = {0, 0, cpu, AS_CLASS_NONE, 0};
    CU_ASSERT_EQUAL(as_policy_tcmalloc.free(fx->t, &c, addr, 0), 0);
}

static void tick_at(fixture_t *fx, uint64_t ns)
{
    as_ctx_t c = {ns, 0, 0, AS_CLASS_NONE, 0};
    as_policy_tcmalloc.tick(fx->t, &c);
}

/* ------------------------------------------------------------ size classes */

/* legacy_size_classes.cc, TCMALLOC_PAGE_SHIFT 13, 16-byte default
 * alignment (lines 416-500 at google/tcmalloc fce3f55): bytes, span_bytes /
 * 8 KiB, batch */
static const uint32_t legacy_rows[85][3] = {
    {8, 1, 32},      {16, 1, 32},     {32, 1, 32},     {48, 1, 32},
    {64, 1, 32},     {80, 1, 32},     {96, 1, 32},     {112, 1, 32},
    {128, 1, 32},    {144, 1, 32},    {160, 1, 32},    {176, 1, 32},
    {192, 1, 32},    {208, 1, 32},    {224, 1, 32},    {240, 1, 32},
    {256, 1, 32},    {272, 1, 32},    {288, 1, 32},    {304, 1, 32},
    {320, 1, 32},    {352, 1, 32},    {368, 1, 32},    {384, 1, 32},
    {400, 1, 32},    {416, 1, 32},    {448, 1, 32},    {480, 1, 32},
    {512, 1, 32},    {576, 1, 32},    {640, 1, 32},    {704, 1, 32},
    {768, 1, 32},    {896, 1, 32},    {1024, 1, 32},   {1152, 2, 32},
    {1280, 2, 32},   {1408, 2, 32},   {1536, 2, 32},   {1792, 2, 32},
    {2048, 1, 32},   {2304, 2, 28},   {2688, 2, 24},   {2816, 3, 23},
    {3200, 2, 20},   {3456, 3, 18},   {3584, 4, 18},   {4096, 1, 16},
    {4736, 3, 13},   {5376, 2, 12},   {6144, 3, 10},   {6528, 4, 10},
    {7168, 7, 9},    {8192, 1, 8},    {9472, 5, 6},    {10240, 4, 6},
    {12288, 3, 5},   {13568, 5, 4},   {14336, 7, 4},   {16384, 2, 4},
    {20480, 5, 3},   {24576, 3, 2},   {28672, 7, 2},   {32768, 4, 2},
    {40960, 5, 2},   {49152, 6, 2},   {57344, 7, 2},   {65536, 8, 2},
    {73728, 9, 2},   {81920, 10, 2},  {90112, 11, 2},  {98304, 12, 2},
    {106496, 13, 2}, {114688, 14, 2}, {122880, 15, 2}, {131072, 16, 2},
    {139264, 17, 2}, {147456, 18, 2}, {155648, 19, 2}, {172032, 21, 2},
    {188416, 23, 2}, {204800, 25, 2}, {221184, 27, 2}, {245760, 30, 2},
    {262144, 32, 2}};

static void test_legacy_every_row(void)
{
    CU_ASSERT_EQUAL_FATAL(as_tc_legacy_nclasses, 85);
    for (size_t i = 0; i < 85; i++) {
        const tc_class_row_t *r = &as_tc_legacy_classes[i];
        CU_ASSERT_EQUAL(r->bytes, legacy_rows[i][0]);
        CU_ASSERT_EQUAL(r->pages, legacy_rows[i][1]);
        CU_ASSERT_EQUAL(r->batch, legacy_rows[i][2]);
        if (r->bytes != legacy_rows[i][0] || r->pages != legacy_rows[i][1] ||
            r->batch != legacy_rows[i][2])
            printf("\nlegacy row %zu: %u %u %u, published %u %u %u\n", i + 1,
                   r->bytes, r->pages, r->batch, legacy_rows[i][0],
                   legacy_rows[i][1], legacy_rows[i][2]);
    }
    /* the eight rows that differed before: no 336 and 6784 classes, 2048,
     * 4096 and 8192 in one page, and 114688, 147456, 172032, 188416,
     * 245760 B classes */
    const char *assign[] = {"size_classes=legacy", NULL};
    fixture_t fx;
    setup(&fx, assign);
    tc_t *t = fx.t;
    CU_ASSERT_EQUAL(t->cls[as_tc_class_of(t, 330)].bytes, 352);
    CU_ASSERT_EQUAL(t->cls[as_tc_class_of(t, 6700)].bytes, 7168);
    CU_ASSERT_EQUAL(t->cls[as_tc_class_of(t, 2048)].pages, 1);
    CU_ASSERT_EQUAL(t->cls[as_tc_class_of(t, 100000)].bytes, 106496);
    CU_ASSERT_EQUAL(t->cls[as_tc_class_of(t, 110000)].bytes, 114688);
    CU_ASSERT_EQUAL(t->cls[as_tc_class_of(t, 240000)].bytes, 245760);
    CU_ASSERT_EQUAL(t->cls[as_tc_class_of(t, 240000)].objects, 1);
    teardown(&fx);
}

/* ------------------------------------------------------------ 8-byte class */

static void test_small_align8_checked(void)
{
    as_simos_t *os;
    CU_ASSERT_EQUAL_FATAL(as_simos_create(NULL, &os), 0);
    as_param_value_t p[TC_P_COUNT];
    CU_ASSERT_EQUAL_FATAL(as_param_defaults(as_tc_params, TC_P_COUNT, p), 0);
    CU_ASSERT_EQUAL_FATAL(
        as_param_set(as_tc_params, TC_P_COUNT, p, "small_align8=on"), 0);
    as_policy_config_t cfg = {as_simos_pagesource(os), p, 1, NULL, NULL};
    as_policy_ops_t ops;
    void *st;
    CU_ASSERT_EQUAL_FATAL(
        as_check_wrap(&as_policy_tcmalloc, &cfg, NULL, &ops, &st), 0);
    as_ctx_t c = {0, 0, 0, AS_CLASS_NONE, 0};
    /* 0..8 bytes of default alignment: the 8-byte class, 8-aligned, and
     * the checking layer accepts them (it demanded 16 before); two in a
     * row are 8 bytes apart, so one of them is not 16-aligned */
    as_block_t b[10];
    for (size_t n = 0; n <= 8; n++) {
        CU_ASSERT_EQUAL(ops.alloc(st, &c, n, 0, &b[n]), 0);
        CU_ASSERT_EQUAL(b[n].bytes, 8);
        CU_ASSERT_EQUAL(b[n].addr % 8, 0);
    }
    CU_ASSERT(b[0].addr % 16 == 8 || b[1].addr % 16 == 8);
    /* 9 bytes: the 16-byte class */
    CU_ASSERT_EQUAL(ops.alloc(st, &c, 9, 0, &b[9]), 0);
    CU_ASSERT_EQUAL(b[9].bytes, 16);
    CU_ASSERT_EQUAL(b[9].addr % 16, 0);
    /* realloc of an 8-byte block to 5 bytes stays in place */
    as_block_t r;
    CU_ASSERT_EQUAL(ops.realloc(st, &c, b[8].addr, 8, 5, 0, &r), 0);
    CU_ASSERT_EQUAL(r.addr, b[8].addr);
    b[8] = r;
    for (int i = 0; i < 10; i++)
        CU_ASSERT_EQUAL(ops.free(st, &c, b[i].addr, 0), 0);
    CU_ASSERT_EQUAL(as_check_verify(st), 0);
    ops.destroy(st);
    as_simos_destroy(os);
}

/* ------------------------------------------------------------ per-CPU */

static void test_refill_count(void)
{
    /* min((cap+1)/2 + 1, 2^min(successive,10) x batch); 1 at cap 1 until
     * the third miss in a row */
    CU_ASSERT_EQUAL(as_tc_refill_count(1, 32, 0), 1);
    CU_ASSERT_EQUAL(as_tc_refill_count(1, 32, 2), 1);
    CU_ASSERT_EQUAL(as_tc_refill_count(1, 32, 3), 2);
    CU_ASSERT_EQUAL(as_tc_refill_count(2, 32, 1), 2);
    CU_ASSERT_EQUAL(as_tc_refill_count(3, 32, 0), 3);
    CU_ASSERT_EQUAL(as_tc_refill_count(32, 32, 1), 17);
    CU_ASSERT_EQUAL(as_tc_refill_count(64, 32, 0), 32); /* one batch */
    CU_ASSERT_EQUAL(as_tc_refill_count(66, 32, 1), 34);
    CU_ASSERT_EQUAL(as_tc_refill_count(2000, 32, 2), 128); /* 4 batches */
    CU_ASSERT_EQUAL(as_tc_refill_count(2000, 32, 10), 1001);
    CU_ASSERT_EQUAL(as_tc_refill_count(2000, 2, 30), 1001); /* 2^10 x 2 */
}

static void test_capacity_growth(void)
{
    fixture_t fx;
    setup(&fx, NULL);
    tc_t *t = fx.t;
    uint32_t cls = as_tc_class_of(t, 64); /* batch 32 */
    CU_ASSERT_EQUAL(t->cls[cls].batch, 32);
    static uintptr_t live[128];
    int n = 0;
    /* first underflow: capacity 0 -> one batch (32); successive 1, so
     * fetch min(33/2 + 1, 2 x 32) = 17 from the central list: 16 cached */
    live[n++] = A(&fx, 0, 64);
    tc_cpu_class_t *cc = &t->cpus[0]->cls[cls];
    CU_ASSERT_EQUAL(cc->cap, 32);
    CU_ASSERT_EQUAL(cc->count, 16);
    for (int i = 0; i < 16; i++)
        live[n++] = A(&fx, 0, 64);
    CU_ASSERT_EQUAL(cc->count, 0);
    /* second underflow: below 2 x batch, grow by one (33); fetch
     * min(34/2 + 1, 4 x 32) = 18: 17 cached */
    live[n++] = A(&fx, 0, 64);
    CU_ASSERT_EQUAL(cc->cap, 33);
    CU_ASSERT_EQUAL(cc->count, 17);
    /* 16 frees fill it (33); the 17th overflows: grow by one (34),
     * successive 0 after an underflow, so min(35/2 + 1, 32) = 18 go to the
     * transfer cache: the freed one and 17 from the top, leaving 16 */
    for (int i = 0; i < 17; i++)
        F(&fx, 0, live[--n]);
    CU_ASSERT_EQUAL(cc->cap, 34);
    CU_ASSERT_EQUAL(cc->count, 16);
    CU_ASSERT_EQUAL(t->transfer[cls].count, 18);
    CU_ASSERT_EQUAL(t->cpu_overflows, 1);
    /* empty it; the underflow that follows the overflow grows by a batch
     * (66) and asks for min(67/2 + 1, 1 x 32) = 32: the transfer cache
     * holds 18 and gives just those (no central fall-through): 17 cached */
    for (int i = 0; i < 16; i++)
        live[n++] = A(&fx, 0, 64);
    live[n++] = A(&fx, 0, 64);
    CU_ASSERT_EQUAL(cc->cap, 66);
    CU_ASSERT_EQUAL(cc->count, 17);
    CU_ASSERT_EQUAL(t->transfer[cls].count, 0);
    /* at 66 >= 2 x batch, an underflow after an underflow does not grow;
     * it fetches min(67/2 + 1, 2 x 32) = 34: 33 cached */
    for (int i = 0; i < 17; i++)
        live[n++] = A(&fx, 0, 64);
    live[n++] = A(&fx, 0, 64);
    CU_ASSERT_EQUAL(cc->cap, 66);
    CU_ASSERT_EQUAL(cc->count, 33);
    CU_ASSERT_EQUAL(t->cpu_misses, 4);
    while (n)
        F(&fx, 0, live[--n]);
    teardown(&fx);
}

static void test_overflow_from_empty(void)
{
    fixture_t fx;
    setup(&fx, NULL);
    tc_t *t = fx.t;
    uint32_t cls = as_tc_class_of(t, 64);
    uintptr_t o[8];
    for (int i = 0; i < 8; i++)
        o[i] = A(&fx, 1, 64);
    uint32_t tr0 = t->transfer[cls].count;
    /* CPU 0 never allocated: its first free overflows, capacity 0 -> 1,
     * and at capacity 1 only the freed object moves (target 1) */
    F(&fx, 0, o[0]);
    tc_cpu_class_t *cc = &t->cpus[0]->cls[cls];
    CU_ASSERT_EQUAL(cc->cap, 1);
    CU_ASSERT_EQUAL(cc->count, 0);
    CU_ASSERT_EQUAL(t->transfer[cls].count, tr0 + 1);
    F(&fx, 0, o[1]); /* fits */
    CU_ASSERT_EQUAL(cc->count, 1);
    /* overflow: capacity 2, successive 1: min(3/2 + 1, 2 x 32) = 2 move */
    F(&fx, 0, o[2]);
    CU_ASSERT_EQUAL(cc->cap, 2);
    CU_ASSERT_EQUAL(cc->count, 0);
    CU_ASSERT_EQUAL(t->transfer[cls].count, tr0 + 3);
    F(&fx, 0, o[3]);
    F(&fx, 0, o[4]);
    /* overflow: capacity 3, min(4/2 + 1, 4 x 32) = 3 move, none left */
    F(&fx, 0, o[5]);
    CU_ASSERT_EQUAL(cc->cap, 3);
    CU_ASSERT_EQUAL(cc->count, 0);
    CU_ASSERT_EQUAL(t->transfer[cls].count, tr0 + 6);
    F(&fx, 0, o[6]);
    F(&fx, 0, o[7]);
    teardown(&fx);
}

static void test_cpu_resize_classes(void)
{
    /* 40 KiB per CPU: 1 KiB class (batch 32) takes 32 KiB, the 512 B
     * class gets only 8 KiB = 16 of the 32 it asks: a capacity miss */
    const char *assign[] = {"cpu_cache_bytes=40K", NULL};
    fixture_t fx;
    setup(&fx, assign);
    tc_t *t = fx.t;
    uint32_t c1k = as_tc_class_of(t, 1024), c512 = as_tc_class_of(t, 512);
    static uintptr_t live[32];
    int n = 0;
    live[n++] = A(&fx, 0, 1024);
    tc_cpu_t *cpu = t->cpus[0];
    CU_ASSERT_EQUAL(cpu->cls[c1k].cap, 32);
    CU_ASSERT_EQUAL(cpu->cls[c1k].count, 16);
    /* 512 B: capacity 16, fetch min(17/2 + 1, 64) = 9: 8 cached; 8 hits */
    for (int i = 0; i < 9; i++)
        live[n++] = A(&fx, 0, 512);
    CU_ASSERT_EQUAL(cpu->cls[c512].cap, 16);
    CU_ASSERT_EQUAL(cpu->cls[c512].count, 0);
    CU_ASSERT_EQUAL(cpu->cls[c512].cap_misses, 1);
    CU_ASSERT_EQUAL(cpu->cap_bytes, 40 * KiB);
    /* 2 s: the 512 B class missed; it wants a batch (16 KiB), nothing is
     * available, and the steal clock finds the 1 KiB class just grown
     * (quiescent 0 < score 1 for 145..1024 B, not full, not in
     * [batch, 2 batch)): no capacity moves, the clock passes it once */
    tick_at(&fx, 2 * SEC);
    CU_ASSERT_EQUAL(cpu->cls[c512].cap, 16);
    CU_ASSERT_EQUAL(cpu->cls[c1k].cap, 32);
    CU_ASSERT_EQUAL(cpu->cls[c1k].quiescent, 1);
    CU_ASSERT_EQUAL(t->cpu_class_resizes, 1);
    /* another underflow of 512 B: growing to a batch gets nothing (a
     * second capacity miss); fetch 9 again: 8 cached */
    live[n++] = A(&fx, 0, 512);
    CU_ASSERT_EQUAL(cpu->cls[c512].cap_misses, 2);
    CU_ASSERT_EQUAL(cpu->cls[c512].count, 8);
    /* 4 s: now the clock takes one object of capacity from the 1 KiB class
     * (ticks 1 >= score 1), 1 KiB available, which buys two 512 B slots */
    tick_at(&fx, 4 * SEC);
    CU_ASSERT_EQUAL(cpu->cls[c1k].cap, 31);
    CU_ASSERT_EQUAL(cpu->cls[c512].cap, 18);
    CU_ASSERT_EQUAL(cpu->cap_bytes, 40 * KiB);
    CU_ASSERT_EQUAL(t->cpu_class_resizes, 2);
    while (n)
        F(&fx, 0, live[--n]);
    teardown(&fx);
}

static void test_cpu_shuffle(void)
{
    /* 64 KiB per CPU; CPU 0 misses twice (64 B and 128 B), CPU 1 once.
     * At 5 s CPU 0 (most misses, 58 KiB available < kMaxSize) takes 5% of
     * 64 KiB = 3276 bytes from CPU 1 (limit >= 20%, 1 underflow <= 0.8 x 2,
     * 0 overflows <= 0.8 x 0), out of CPU 1's available bytes. CPU 1 then
     * finds no CPU to take from (CPU 0 is a destination). */
    const char *assign[] = {"cpu_cache_bytes=64K", NULL};
    fixture_t fx;
    setup(&fx, assign);
    tc_t *t = fx.t;
    uintptr_t a = A(&fx, 0, 64), b = A(&fx, 0, 128), c = A(&fx, 1, 64);
    tick_at(&fx, 5 * SEC);
    CU_ASSERT_EQUAL(t->cpus[0]->limit_bytes, 64 * KiB + 3276);
    CU_ASSERT_EQUAL(t->cpus[1]->limit_bytes, 64 * KiB - 3276);
    CU_ASSERT_EQUAL(t->cpu_shuffled_bytes, 3276);
    CU_ASSERT_EQUAL(t->next_cpu_steal, 2);
    /* no misses in the next interval: nothing moves at 10 s */
    tick_at(&fx, 10 * SEC);
    CU_ASSERT_EQUAL(t->cpu_shuffled_bytes, 3276);
    F(&fx, 0, a);
    F(&fx, 0, b);
    F(&fx, 1, c);
    teardown(&fx);
}

/* ------------------------------------------------------------ transfer */

static void test_transfer_capacity(void)
{
    fixture_t fx;
    setup(&fx, NULL);
    tc_t *t = fx.t;
    /* CapacityNeeded: max = min(64 batches, max(1, floor(1 MiB / (size x
     * batch))) batches), start at min(16 batches, max) */
    const struct {
        size_t bytes;
        uint32_t cap, max;
    } want[] = {
        {8, 512, 2048},    /* 1 MiB / 256 B = 4096 batches > 64 */
        {1024, 512, 1024}, /* 1 MiB / 32 KiB = 32 batches */
        {4736, 208, 221},  /* batch 13: 1 MiB / 61568 = 17 batches */
        {9472, 96, 108},   /* batch 6: 1 MiB / 56832 = 18 batches */
        {262144, 4, 4},    /* batch 2: 1 MiB / 512 KiB = 2 batches */
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        uint32_t cls = as_tc_class_of(t, want[i].bytes);
        CU_ASSERT_EQUAL(t->cls[cls].bytes, want[i].bytes);
        CU_ASSERT_EQUAL(t->transfer[cls].cap, want[i].cap);
        CU_ASSERT_EQUAL(t->transfer[cls].max_cap, want[i].max);
    }
    teardown(&fx);
}

static void test_transfer_plunder(void)
{
    /* no per-CPU caches: every alloc and free goes to the transfer cache */
    const char *assign[] = {"per_cpu_caches=off", "transfer_resize_interval=0",
                            NULL};
    fixture_t fx;
    setup(&fx, assign);
    tc_t *t = fx.t;
    uint32_t cls = as_tc_class_of(t, 64);
    tc_transfer_t *tr = &t->transfer[cls];
    uintptr_t o[40];
    for (int i = 0; i < 40; i++)
        o[i] = A(&fx, 0, 64);
    for (int i = 0; i < 40; i++)
        F(&fx, 0, o[i]);
    CU_ASSERT_EQUAL(tr->count, 40);
    /* 5 s: the low-water mark is 0 (it was empty): nothing goes; the mark
     * becomes 40 */
    tick_at(&fx, 5 * SEC);
    CU_ASSERT_EQUAL(tr->count, 40);
    CU_ASSERT_EQUAL(tr->low_water, 40);
    /* 10 allocations take it to 30 (the low water), 5 frees back to 35;
     * at 10 s the 30 untouched objects go to the central list in one batch
     * (min(batch 32, 35, 30)) */
    for (int i = 0; i < 10; i++)
        o[i] = A(&fx, 0, 64);
    CU_ASSERT_EQUAL(tr->low_water, 30);
    for (int i = 0; i < 5; i++)
        F(&fx, 0, o[i]);
    tick_at(&fx, 10 * SEC);
    CU_ASSERT_EQUAL(tr->count, 5);
    CU_ASSERT_EQUAL(tr->low_water, 5);
    CU_ASSERT_EQUAL(t->transfer_plundered, 30);
    for (int i = 5; i < 10; i++)
        F(&fx, 0, o[i]);
    teardown(&fx);
}

static void test_transfer_resize(void)
{
    const char *assign[] = {"per_cpu_caches=off", "transfer_plunder_interval=0",
                            NULL};
    fixture_t fx;
    setup(&fx, assign);
    tc_t *t = fx.t;
    uint32_t c64 = as_tc_class_of(t, 64), clast = t->nclasses;
    CU_ASSERT_EQUAL(c64, 5);
    uintptr_t o[40];
    for (int i = 0; i < 40; i++)
        o[i] = A(&fx, 0, 64); /* 40 remove misses */
    /* 2 s: 64 B has the most misses and grows by a batch (512 -> 544);
     * the shrink walks up from the least-missing end (86 slots: the empty
     * ones past the table cannot shrink) to the 256 KiB class, 4 -> 2.
     * The next candidate (class 0, no misses) stops it. */
    tick_at(&fx, 2 * SEC);
    CU_ASSERT_EQUAL(t->transfer[c64].cap, 544);
    CU_ASSERT_EQUAL(t->transfer[clast].cap, 2);
    CU_ASSERT_EQUAL(t->transfer_resizes, 1);
    /* no misses since: nothing moves at 4 s */
    tick_at(&fx, 4 * SEC);
    CU_ASSERT_EQUAL(t->transfer[c64].cap, 544);
    CU_ASSERT_EQUAL(t->transfer_resizes, 1);
    for (int i = 0; i < 40; i++)
        F(&fx, 0, o[i]);
    teardown(&fx);
}

int main(void)
{
    static const as_test_t tests[] = {
        {"legacy size classes: every published row", test_legacy_every_row},
        {"small_align8: the 8-byte class passes the checking layer",
         test_small_align8_checked},
        {"refill/overflow count: about half the capacity", test_refill_count},
        {"per-CPU capacity: by one to 2 batches, by a batch after an overflow",
         test_capacity_growth},
        {"overflow from an empty CPU cache", test_overflow_from_empty},
        {"class resize: steal clock within a CPU", test_cpu_resize_classes},
        {"shuffle: capacity to the CPU that missed most", test_cpu_shuffle},
        {"transfer cache: 16 of at most 64 batches, 1 MiB",
         test_transfer_capacity},
        {"transfer cache: plunder below the low-water mark",
         test_transfer_plunder},
        {"transfer cache: resize by misses", test_transfer_resize},
        {NULL, NULL}};
    return as_test_main("policies_tcmalloc_frontend", tests);
}

/* test_policies_tcmalloc.c - known answers for the `tcmalloc` policy.
 *
 * Every figure is computed by hand from the rules in
 * docs/policies/tcmalloc.md, over the simulated OS (sim/simos.h: 4 KiB
 * pages, 2 MiB huge pages, THP always) with TCMalloc's 8 KiB pages, so a
 * hugepage holds 256 TCMalloc pages. Internals are reached through
 * policies/tcmalloc/tc_internal.h.
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
#define MiB (1024ull * 1024)
#define PG (8 * KiB) /* TCMalloc page */

typedef struct {
    as_simos_t *os;
    const as_pagesource_t *ps;
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
    fx->ps = as_simos_pagesource(fx->os);
    CU_ASSERT_EQUAL_FATAL(
        as_param_defaults(as_tc_params, TC_P_COUNT, fx->params), 0);
    for (; assign && *assign; assign++)
        CU_ASSERT_EQUAL_FATAL(
            as_param_set(as_tc_params, TC_P_COUNT, fx->params, *assign), 0);
    as_policy_config_t cfg = {fx->ps, fx->params, 1, NULL, NULL};
    void *st = NULL;
    CU_ASSERT_EQUAL_FATAL(as_policy_tcmalloc.create(&cfg, &st), 0);
    fx->t = st;
}

static void teardown(fixture_t *fx)
{
    CU_ASSERT_EQUAL(as_tc_check(fx->t, NULL), 0);
    as_policy_tcmalloc.destroy(fx->t);
    const as_simos_counters_t *c = as_simos_counters(fx->os);
    CU_ASSERT_EQUAL(c->mapped_bytes, 0);
    CU_ASSERT_EQUAL(c->meta_bytes, 0);
    as_simos_destroy(fx->os);
}

static as_ctx_t ctx_cpu(uint32_t cpu)
{
    as_ctx_t c = {0, 0, cpu, AS_CLASS_NONE, 0};
    return c;
}

static as_block_t A(fixture_t *fx, size_t size, size_t align)
{
    as_ctx_t c = ctx_cpu(0);
    as_block_t b = {0, 0};
    CU_ASSERT_EQUAL(as_policy_tcmalloc.alloc(fx->t, &c, size, align, &b), 0);
    return b;
}

static void F(fixture_t *fx, uintptr_t addr)
{
    as_ctx_t c = ctx_cpu(0);
    CU_ASSERT_EQUAL(as_policy_tcmalloc.free(fx->t, &c, addr, 0), 0);
}

/* a stat by name */
typedef struct {
    const char *name;
    double value;
    int found;
} stat_q_t;

static void stat_cb(void *arg, const char *name, double v)
{
    stat_q_t *q = arg;
    if (strcmp(q->name, name) == 0) {
        q->value = v;
        q->found = 1;
    }
}

static double stat(fixture_t *fx, const char *name)
{
    stat_q_t q = {name, 0, 0};
    as_policy_tcmalloc.stats(fx->t, stat_cb, &q);
    CU_ASSERT(q.found);
    return q.value;
}

/* ------------------------------------------------------------ size classes */

static void check_row(const tc_class_row_t *r, uint32_t bytes, uint32_t pages,
                      uint32_t batch)
{
    CU_ASSERT_EQUAL(r->bytes, bytes);
    CU_ASSERT_EQUAL(r->pages, pages);
    CU_ASSERT_EQUAL(r->batch, batch);
}

static void test_tables(void)
{
    CU_ASSERT_EQUAL(as_tc_default_nclasses, 48);
    CU_ASSERT_EQUAL(as_tc_legacy_nclasses, 85); /* + class 0 = 86 entries */
    for (size_t i = 1; i < as_tc_default_nclasses; i++)
        CU_ASSERT(as_tc_default_classes[i].bytes >
                  as_tc_default_classes[i - 1].bytes);
    for (size_t i = 1; i < as_tc_legacy_nclasses; i++)
        CU_ASSERT(as_tc_legacy_classes[i].bytes >
                  as_tc_legacy_classes[i - 1].bytes);
    /* Rows of the published tables (8 KiB pages, 16-byte alignment), among
     * them every row where the earlier derivation by rule was wrong. */
    const tc_class_row_t *d = as_tc_default_classes;
    check_row(&d[0], 8, 1, 32);
    check_row(&d[20], 1024, 1, 32);
    check_row(&d[21], 1152, 2, 32);
    check_row(&d[24], 2048, 1, 32);
    check_row(&d[25], 2304, 2, 28);
    check_row(&d[28], 4096, 1, 16);
    check_row(&d[29], 4736, 3, 13);
    check_row(&d[31], 8192, 1, 8);
    check_row(&d[32], 9472, 5, 6); /* 40 KiB span of 4 objects */
    check_row(&d[36], 28672, 7, 2);
    check_row(&d[37], 32768, 4, 2);
    check_row(&d[47], 262144, 32, 2);
    /* every legacy row: test_policies_tcmalloc_frontend.c */
    /* The rules that build tables for other page sizes agree with the
     * published rows on, e.g., 9472 B and 1152 B. */
    CU_ASSERT_EQUAL(as_tc_span_pages_for(9472, 8192), 5);
    CU_ASSERT_EQUAL(as_tc_span_pages_for(1152, 8192), 2);
    CU_ASSERT_EQUAL(as_tc_batch_for(2304), 28);
}

static void boundaries(const char *table, const tc_class_row_t *rows, size_t n)
{
    const char *assign[] = {table, NULL};
    fixture_t fx;
    setup(&fx, assign);
    for (size_t i = 0; i < n; i++) {
        /* n -> class i (align 8 lets the 8-byte class serve) */
        as_block_t b = A(&fx, rows[i].bytes, 8);
        CU_ASSERT_EQUAL(b.bytes, rows[i].bytes);
        CU_ASSERT_EQUAL(b.addr % 8, 0);
        F(&fx, b.addr);
        /* n+1 -> the next class, or whole pages past the last one */
        b = A(&fx, rows[i].bytes + 1, 8);
        size_t want = i + 1 < n ? rows[i + 1].bytes : 33 * PG;
        CU_ASSERT_EQUAL(b.bytes, want);
        if (b.bytes != want)
            printf("\n%s: %u+1 -> %zu, want %zu\n", table, rows[i].bytes,
                   b.bytes, want);
        F(&fx, b.addr);
    }
    /* default alignment is 16: 1..8 bytes come from the 16-byte class */
    as_block_t b = A(&fx, 8, 0);
    CU_ASSERT_EQUAL(b.bytes, 16);
    CU_ASSERT_EQUAL(b.addr % 16, 0);
    F(&fx, b.addr);
    b = A(&fx, 0, 0);
    CU_ASSERT_EQUAL(b.bytes, 16);
    F(&fx, b.addr);
    teardown(&fx);
}

static void test_boundaries_default(void)
{
    boundaries("size_classes=default", as_tc_default_classes,
               as_tc_default_nclasses);
}

static void test_boundaries_legacy(void)
{
    boundaries("size_classes=legacy", as_tc_legacy_classes,
               as_tc_legacy_nclasses);
}

static void test_aligned_classes(void)
{
    fixture_t fx;
    setup(&fx, NULL);
    /* 100 B aligned to 64: first class >= 100 that is a multiple of 64 is 128
     */
    as_block_t b = A(&fx, 100, 64);
    CU_ASSERT_EQUAL(b.bytes, 128);
    CU_ASSERT_EQUAL(b.addr % 64, 0);
    F(&fx, b.addr);
    /* 100 B aligned to 4 KiB: the 4096 class */
    b = A(&fx, 100, 4096);
    CU_ASSERT_EQUAL(b.bytes, 4096);
    CU_ASSERT_EQUAL(b.addr % 4096, 0);
    F(&fx, b.addr);
    /* 100 B aligned to 64 KiB: larger than a page, raw hugepage (aligned) */
    b = A(&fx, 100, 64 * KiB);
    CU_ASSERT_EQUAL(b.addr % (64 * KiB), 0);
    CU_ASSERT_EQUAL(b.bytes, PG);
    F(&fx, b.addr);
    teardown(&fx);
}

/* ------------------------------------------------------------ filler */

static void test_filler_placement(void)
{
    fixture_t fx;
    setup(&fx, NULL);
    tc_t *t = fx.t;
    uintptr_t a, b, c, d;
    tc_hugepage_t *h1, *h2, *h;
    /* h1: one 192-page span -> longest free 64, nallocs 1 */
    CU_ASSERT_EQUAL(as_tc_pageheap_filler_get(t, 192, 0, &a, &h1), 0);
    CU_ASSERT_EQUAL(a, h1->addr);
    CU_ASSERT_EQUAL(h1->longest_free, 64);
    /* 96 pages do not fit in h1 (64): a second hugepage */
    CU_ASSERT_EQUAL(as_tc_pageheap_filler_get(t, 96, 0, &b, &h2), 0);
    CU_ASSERT(h2 != h1);
    CU_ASSERT_EQUAL(t->filler.hps, 2);
    /* another 96: only h2 (longest 160) fits */
    CU_ASSERT_EQUAL(as_tc_pageheap_filler_get(t, 96, 0, &c, &h), 0);
    CU_ASSERT_PTR_EQUAL(h, h2);
    CU_ASSERT_EQUAL(c, h2->addr + 96 * PG);
    /* both now have longest free 64; h1 has 1 allocation, h2 has 2:
     * sparse index = 64*8 + chunk, chunk(1) = 7, chunk(2) = 6 */
    CU_ASSERT_EQUAL(as_tc_filler_index(&t->env, h1), 64 * 8 + 7);
    CU_ASSERT_EQUAL(as_tc_filler_index(&t->env, h2), 64 * 8 + 6);
    /* the tie on longest free range goes to the one with more allocations,
     * although h1 has the lower address */
    CU_ASSERT(h1->addr < h2->addr);
    CU_ASSERT_EQUAL(as_tc_pageheap_filler_get(t, 10, 0, &d, &h), 0);
    CU_ASSERT_PTR_EQUAL(h, h2);
    CU_ASSERT_EQUAL(d, h2->addr + 192 * PG);
    /* h2 now has longest 54 < h1's 64: 54 pages go to h2 (smallest fit) */
    CU_ASSERT_EQUAL(h2->longest_free, 54);
    CU_ASSERT_EQUAL(as_tc_pageheap_filler_get(t, 54, 0, &d, &h), 0);
    CU_ASSERT_PTR_EQUAL(h, h2);
    CU_ASSERT_EQUAL(d, h2->addr + 202 * PG);
    CU_ASSERT_EQUAL(h2->used_pages, 256);
    /* 30 pages: h2 is full, h1 takes them at its first free page */
    CU_ASSERT_EQUAL(as_tc_pageheap_filler_get(t, 30, 0, &d, &h), 0);
    CU_ASSERT_PTR_EQUAL(h, h1);
    CU_ASSERT_EQUAL(d, h1->addr + 192 * PG);
    /* a dense span never shares a hugepage with sparse ones */
    tc_hugepage_t *h3;
    CU_ASSERT_EQUAL(as_tc_pageheap_filler_get(t, 1, 1, &d, &h3), 0);
    CU_ASSERT(h3 != h1 && h3 != h2);
    CU_ASSERT_EQUAL(t->filler.hps, 3);
    /* freeing the 30-page span restores h1's 64-page free range */
    as_tc_pageheap_filler_put(t, h1, h1->addr + 192 * PG, 30);
    CU_ASSERT_EQUAL(h1->longest_free, 64);
    CU_ASSERT_EQUAL(as_tc_filler_check(&t->env, &t->filler, NULL), 0);
    /* free everything: trackers vanish, hugepages go to the HugeCache */
    as_tc_pageheap_filler_put(t, h1, h1->addr, 192);
    CU_ASSERT_EQUAL(t->filler.hps, 2);
    CU_ASSERT_EQUAL(t->cache.backed.hps, 1);
    teardown(&fx);
}

static void test_subrelease_emptiest(void)
{
    fixture_t fx;
    setup(&fx, NULL);
    tc_t *t = fx.t;
    uintptr_t a;
    tc_hugepage_t *hA, *hB, *hC, *h;
    /* three sparse hugepages: hA used 200, hB 250, hC 100 (free 56, 6, 156) */
    CU_ASSERT_EQUAL(as_tc_pageheap_filler_get(t, 128, 0, &a, &hA), 0);
    CU_ASSERT_EQUAL(as_tc_pageheap_filler_get(t, 72, 0, &a, &h), 0);
    CU_ASSERT_PTR_EQUAL(h, hA);
    CU_ASSERT_EQUAL(as_tc_pageheap_filler_get(t, 128, 0, &a, &hB), 0);
    CU_ASSERT(hB != hA);
    CU_ASSERT_EQUAL(as_tc_pageheap_filler_get(t, 122, 0, &a, &h), 0);
    CU_ASSERT_PTR_EQUAL(h, hB);
    CU_ASSERT_EQUAL(as_tc_pageheap_filler_get(t, 100, 0, &a, &hC), 0);
    CU_ASSERT(hC != hA && hC != hB);
    CU_ASSERT_EQUAL(hA->used_pages, 200);
    CU_ASSERT_EQUAL(hB->used_pages, 250);
    CU_ASSERT_EQUAL(hC->used_pages, 100);
    /* the program touches all three hugepages: three huge faults */
    tc_hugepage_t *all[3] = {hA, hB, hC};
    for (int i = 0; i < 3; i++)
        CU_ASSERT_EQUAL(as_simos_touch(fx.os, all[i]->addr, 2 * MiB), 0);
    const as_simos_counters_t *c = as_simos_counters(fx.os);
    CU_ASSERT_EQUAL(c->huge_bytes, 6 * MiB);
    CU_ASSERT_EQUAL(stat(&fx, "hugepageable_used_ratio"), 1.0);
    /* asking for one page releases every free page of the emptiest (hC) */
    CU_ASSERT_EQUAL(as_tc_filler_subrelease(&t->env, &t->filler, 1), 156);
    CU_ASSERT_EQUAL(hC->released_pages, 156);
    CU_ASSERT_EQUAL(hA->released_pages, 0);
    CU_ASSERT_EQUAL(hB->released_pages, 0);
    CU_ASSERT_EQUAL(t->filler.hugepages_broken, 1);
    CU_ASSERT_EQUAL(c->resident_bytes, 6 * MiB - 156 * PG);
    CU_ASSERT_EQUAL(c->huge_bytes, 4 * MiB);
    CU_ASSERT_EQUAL(c->splits, 1);
    /* used 450 of 550 pages sit on unbroken hugepages */
    CU_ASSERT_DOUBLE_EQUAL(stat(&fx, "hugepageable_used_ratio"), 450.0 / 550.0,
                           1e-12);
    /* next: hA (used 200) before hB (used 250); 57 pages need both */
    CU_ASSERT_EQUAL(as_tc_filler_subrelease(&t->env, &t->filler, 57), 56 + 6);
    CU_ASSERT_EQUAL(t->filler.pages_subreleased, 156 + 62);
    CU_ASSERT_EQUAL(t->filler.hugepages_broken, 3);
    CU_ASSERT_EQUAL(stat(&fx, "filler_hugepages_released"), 3);
    CU_ASSERT_EQUAL(stat(&fx, "filler_unmapped_bytes"), 218 * PG);
    CU_ASSERT_EQUAL(stat(&fx, "hugepageable_used_ratio"), 0.0);
    /* histogram of free pages (16ths of 256): 100 free -> 6, 56 -> 3, 6 -> 0 */
    CU_ASSERT_EQUAL(stat(&fx, "filler_free_pages_hist_09"), 1);
    CU_ASSERT_EQUAL(stat(&fx, "filler_free_pages_hist_03"), 1);
    CU_ASSERT_EQUAL(stat(&fx, "filler_free_pages_hist_00"), 1);
    /* a 6-page span takes the smallest fitting range (hB's) and re-backs it */
    CU_ASSERT_EQUAL(as_tc_pageheap_filler_get(t, 6, 0, &a, &h), 0);
    CU_ASSERT_PTR_EQUAL(h, hB);
    CU_ASSERT_EQUAL(hB->released_pages, 0);
    CU_ASSERT_EQUAL(t->filler.reused_released, 1);
    CU_ASSERT_EQUAL(as_tc_filler_check(&t->env, &t->filler, NULL), 0);
    teardown(&fx);
}

/* ------------------------------------------------------------ per-CPU */

static void test_cpu_cache_limit(void)
{
    const char *assign[] = {"cpu_cache_bytes=64K", NULL};
    fixture_t fx;
    setup(&fx, assign);
    tc_t *t = fx.t;
    enum { N = 4096 };
    static uintptr_t obj[N];
    as_ctx_t c1 = ctx_cpu(1), c0 = ctx_cpu(0);
    for (int i = 0; i < N; i++) {
        as_block_t b;
        CU_ASSERT_EQUAL_FATAL(as_policy_tcmalloc.alloc(t, &c1, 1024, 0, &b), 0);
        CU_ASSERT_EQUAL(b.bytes, 1024);
        obj[i] = b.addr;
        CU_ASSERT(t->cpus[1]->cap_bytes <= 64 * KiB);
    }
    uint32_t cls = as_tc_class_of(t, 1024);
    CU_ASSERT_EQUAL(cls, 21);
    CU_ASSERT_EQUAL(t->cls[cls].max_depth, 144);
    /* 16 batches, at most min(64 batches, 1 MiB / (1 KiB x 32) batches) */
    CU_ASSERT_EQUAL(t->transfer[cls].cap, 512);
    CU_ASSERT_EQUAL(t->transfer[cls].max_cap, 1024);
    for (int i = 0; i < N; i++) {
        CU_ASSERT_EQUAL(as_policy_tcmalloc.free(t, &c0, obj[i], 0), 0);
        const tc_cpu_class_t *cc = &t->cpus[0]->cls[cls];
        CU_ASSERT(cc->count <= cc->cap);
        CU_ASSERT(t->cpus[0]->cap_bytes <= 64 * KiB);
        if (t->cpus[0]->cap_bytes > 64 * KiB) break;
    }
    /* every overflow below twice the batch grew the capacity by one, so
     * it reached 64 (= 64 KiB) and stayed; the transfer cache filled its
     * starting capacity of 16 batches and the central list took the rest */
    const tc_cpu_class_t *cc = &t->cpus[0]->cls[cls];
    CU_ASSERT_EQUAL(cc->cap, 64);
    CU_ASSERT_EQUAL(t->cpus[0]->cap_bytes, 64 * KiB);
    CU_ASSERT_EQUAL(t->transfer[cls].count, 512);
    teardown(&fx);
}

/* ------------------------------------------------------------ free */

static void test_free_without_size(void)
{
    fixture_t fx;
    setup(&fx, NULL);
    tc_t *t = fx.t;
    size_t sizes[] = {1,         17,        1000,    5000,
                      100 * KiB, 300 * KiB, 3 * MiB, 9 * MiB};
    as_block_t b[8];
    for (int i = 0; i < 8; i++)
        b[i] = A(&fx, sizes[i], 0);
    for (int i = 0; i < 8; i++)
        CU_ASSERT_EQUAL(as_policy_tcmalloc.usable_size(t, b[i].addr),
                        b[i].bytes);
    as_ctx_t c = ctx_cpu(0);
    /* an interior pointer of a large block and of a small one */
    CU_ASSERT_EQUAL(as_policy_tcmalloc.free(t, &c, b[6].addr + PG, 0),
                    AS_EINVAL);
    CU_ASSERT_EQUAL(as_policy_tcmalloc.free(t, &c, b[2].addr + 8, 0),
                    AS_EINVAL);
    CU_ASSERT_EQUAL(as_policy_tcmalloc.free(t, &c, 0x1000, 0), AS_EINVAL);
    for (int i = 0; i < 8; i++)
        F(&fx, b[i].addr);
    CU_ASSERT_EQUAL(t->in_use_bytes, 0);
    /* a large block freed twice: the second is not a live block */
    CU_ASSERT_EQUAL(as_policy_tcmalloc.free(t, &c, b[7].addr, 0), AS_EINVAL);
    teardown(&fx);
}

/* ------------------------------------------------------------ large */

static void test_large_donation(void)
{
    fixture_t fx;
    setup(&fx, NULL);
    tc_t *t = fx.t;
    /* 2 MiB + 56 KiB = 263 pages: 2 hugepages, tail slack 512-263 = 249 */
    as_block_t big = A(&fx, 2 * MiB + 56 * KiB, 0);
    CU_ASSERT_EQUAL(big.bytes, 263 * PG);
    CU_ASSERT_EQUAL(big.addr % (2 * MiB), 0);
    CU_ASSERT_EQUAL(t->ph.raw_hps, 1);
    CU_ASSERT_EQUAL(t->filler.hps, 1);
    CU_ASSERT_EQUAL(t->ph.slack_pages, 249);
    CU_ASSERT_EQUAL(t->ph.small_pages, 0);
    CU_ASSERT_EQUAL(stat(&fx, "filler_hugepages_donated"), 1);
    CU_ASSERT_EQUAL(t->filler.used_pages, 7);
    /* sparse spans (20480 B class: 5 pages, 2 objects) land on the donated
     * tail right after the large block's 7 pages. The CPU-cache miss
     * fetches a batch of 3: two from the span at page 7, one from a second
     * span at page 12, and returns the last one fetched */
    as_block_t s = A(&fx, 20000, 0);
    CU_ASSERT_EQUAL(s.bytes, 20480);
    CU_ASSERT_EQUAL(s.addr, big.addr + 2 * MiB + 12 * PG);
    CU_ASSERT_EQUAL(t->filler.used_pages, 7 + 5 + 5);
    CU_ASSERT_EQUAL(t->filler.hps, 1);
    CU_ASSERT_EQUAL(t->ph.small_pages, 5 + 5);
    /* used by other spans, the tail is a regular hugepage now
     * (AddToFillerList clears the donated flag) */
    CU_ASSERT_EQUAL(stat(&fx, "filler_hugepages_donated"), 0);
    CU_ASSERT_EQUAL(t->filler.n_in_set[TC_SET_REGULAR], 1);
    /* a dense span (64 B, 128 objects) does not use donated hugepages */
    as_block_t d = A(&fx, 64, 0);
    CU_ASSERT(d.addr < big.addr || d.addr >= big.addr + 4 * MiB);
    /* free the large block: the first hugepage goes to the HugeCache, the
     * tail stays in the filler (it holds the sparse span), undonated */
    F(&fx, big.addr);
    CU_ASSERT_EQUAL(t->ph.raw_hps, 0);
    CU_ASSERT_EQUAL(t->cache.backed.hps, 1);
    CU_ASSERT_EQUAL(t->ph.slack_pages, 0);
    /* the large block's 7 pages on the tail are abandoned until the tail
     * empties */
    CU_ASSERT_EQUAL(t->filler.abandoned_pages, 7);
    CU_ASSERT_EQUAL(stat(&fx, "abandoned_bytes"), 7 * PG);
    CU_ASSERT_EQUAL(stat(&fx, "filler_hugepages_donated"), 0);
    /* an exact hugepage multiple: raw, nothing donated */
    as_block_t four = A(&fx, 4 * MiB, 0);
    CU_ASSERT_EQUAL(four.bytes, 4 * MiB);
    CU_ASSERT_EQUAL(t->ph.slack_pages, 0);
    CU_ASSERT_EQUAL(t->ph.donations, 1);
    F(&fx, four.addr);
    F(&fx, s.addr);
    F(&fx, d.addr);
    teardown(&fx);
}

static void test_large_region(void)
{
    /* with no slack threshold, a 193-page request that the (empty) filler
     * cannot take opens a HugeRegion and lands at its start */
    const char *assign[] = {"region_slack_bytes=0", NULL};
    fixture_t fx;
    setup(&fx, assign);
    tc_t *t = fx.t;
    as_block_t b = A(&fx, 1536 * KiB + PG, 0);
    CU_ASSERT_EQUAL(b.bytes, 193 * PG);
    CU_ASSERT_EQUAL(t->regions.created, 1);
    CU_ASSERT_EQUAL(b.addr, t->regions.list->base);
    CU_ASSERT_EQUAL(stat(&fx, "region_used_bytes"), 193 * PG);
    /* best fit in the region: a second one follows at page 193 */
    as_block_t b2 = A(&fx, 1536 * KiB + PG, 0);
    CU_ASSERT_EQUAL(b2.addr, t->regions.list->base + 193 * PG);
    CU_ASSERT_EQUAL(t->regions.backed_hps, 2);
    F(&fx, b.addr);
    /* page 193..255 of hugepage 0 still used by b2: stays backed */
    CU_ASSERT_EQUAL(t->regions.backed_hps, 2);
    F(&fx, b2.addr);
    CU_ASSERT_EQUAL(t->regions.used_pages, 0);
    /* region_more_often (the default): the two empty hugepages stay backed
     * until a release, which takes a tenth of the free-backed pages,
     * truncated, in whole hugepages from the lowest address:
     * 2 x 256 / 10 = 51 pages -> hugepage 0; then 256 / 10 = 25 -> 1 */
    CU_ASSERT_EQUAL(t->regions.backed_hps, 2);
    CU_ASSERT_EQUAL(t->regions.free_backed_hps, 2);
    CU_ASSERT_EQUAL(stat(&fx, "region_free_backed_bytes"), 4 * MiB);
    CU_ASSERT_EQUAL(as_tc_release(t, 0), 256);
    CU_ASSERT_EQUAL(t->regions.list->backed[0], 0);
    CU_ASSERT_EQUAL(t->regions.list->backed[1], 1);
    CU_ASSERT_EQUAL(as_tc_check(t, NULL), 0);
    CU_ASSERT_EQUAL(as_tc_release(t, 0), 256);
    CU_ASSERT_EQUAL(t->regions.backed_hps, 0);
    CU_ASSERT_EQUAL(as_tc_release(t, 0), 0);
    CU_ASSERT_EQUAL(stat(&fx, "region_released_hugepages"), 2);
    teardown(&fx);

    /* kDefault (region_more_often=off): released as soon as they empty */
    const char *dflt[] = {"region_slack_bytes=0", "region_more_often=off",
                          NULL};
    setup(&fx, dflt);
    t = fx.t;
    b = A(&fx, 1536 * KiB + PG, 0);
    CU_ASSERT_EQUAL(t->regions.created, 1);
    CU_ASSERT_EQUAL(t->regions.backed_hps, 1);
    F(&fx, b.addr);
    CU_ASSERT_EQUAL(t->regions.backed_hps, 0);
    CU_ASSERT_EQUAL(t->regions.free_backed_hps, 0);
    teardown(&fx);
}

/* ------------------------------------------------------------ release */

static void test_tick_release(void)
{
    /* 1 MiB/s = 128 pages per second; skip-subrelease off */
    const char *assign[] = {"release_rate=1M", "skip_subrelease_short=0",
                            "skip_subrelease_long=0", NULL};
    fixture_t fx;
    setup(&fx, assign);
    tc_t *t = fx.t;
    uintptr_t a;
    tc_hugepage_t *h1, *h2;
    CU_ASSERT_EQUAL(as_tc_pageheap_filler_get(t, 56, 0, &a, &h1),
                    0); /* free 200 */
    CU_ASSERT_EQUAL(as_tc_pageheap_filler_get(t, 128, 0, &a, &h2),
                    0); /* h1 too */
    CU_ASSERT_PTR_EQUAL(h2, h1);
    CU_ASSERT_EQUAL(as_tc_pageheap_filler_get(t, 128, 0, &a, &h2), 0); /* new */
    CU_ASSERT(h2 != h1);
    as_ctx_t c = ctx_cpu(0);
    c.now_ns = 0;
    CU_ASSERT_EQUAL(as_policy_tcmalloc.tick(t, &c), 1000000000ull);
    CU_ASSERT_EQUAL(t->filler.pages_subreleased, 0);
    /* one second later: 1 MiB / 8 KiB = 128 pages are due */
    c.now_ns = 1000000000ull;
    as_policy_tcmalloc.tick(t, &c);
    /* h1 used 184 (free 72), h2 used 128 (free 128): emptiest is h2 */
    CU_ASSERT_EQUAL(h2->released_pages, 128);
    CU_ASSERT_EQUAL(h1->released_pages, 0);
    CU_ASSERT_EQUAL(t->filler.pages_subreleased, 128);
    /* subrelease off: nothing more from the filler */
    t->env.p[TC_P_SUBRELEASE].u = 0;
    c.now_ns = 2000000000ull;
    as_policy_tcmalloc.tick(t, &c);
    CU_ASSERT_EQUAL(t->filler.pages_subreleased, 128);
    teardown(&fx);
}

static void test_skip_subrelease(void)
{
    fixture_t fx;
    setup(&fx, NULL);
    tc_t *t = fx.t;
    uintptr_t a, b;
    tc_hugepage_t *h1, *h2;
    /* epoch 0: demand (filler used pages) climbs 0 -> 128 -> 200 -> 300 */
    CU_ASSERT_EQUAL(as_tc_pageheap_filler_get(t, 128, 0, &a, &h1), 0);
    CU_ASSERT_EQUAL(as_tc_pageheap_filler_get(t, 72, 0, &a, &h1), 0);
    CU_ASSERT_EQUAL(as_tc_pageheap_filler_get(t, 100, 0, &b, &h2), 0);
    CU_ASSERT(h1 != h2);
    /* 2 s later h2 empties (to the HugeCache): demand 200. Epoch 1 is
     * filled with the last demand (300). Over the 60 s short window the
     * largest fluctuation is 300 (epoch 0), over the 300 s long window the
     * largest minimum is 300 (epoch 1): 600, capped by the 600 s peak 300 */
    t->now_ns = 2000000000ull;
    as_tc_pageheap_filler_put(t, h2, b, 100);
    CU_ASSERT_EQUAL(t->filler.hps, 1);
    CU_ASSERT_EQUAL(t->cache.backed.hps, 1);
    CU_ASSERT_EQUAL(as_tc_demand_requirement(t), 300);
    /* releasing 1000 pages: the cached hugepage (256 pages) goes first; the
     * filler holds 256 backed pages < 300 required, so none of the 744
     * still wanted go; the skipped count is capped by the free pages
     * (GetDesiredSubreleasePages): 56 */
    CU_ASSERT_EQUAL(as_tc_release(t, 1000), 256);
    CU_ASSERT_EQUAL(t->filler.pages_subreleased, 0);
    CU_ASSERT_EQUAL(t->skip_subrelease_pages, 56);
    /* with skip-subrelease off, h1's 56 free pages go */
    t->env.p[TC_P_SKIP_SHORT].u = 0;
    t->env.p[TC_P_SKIP_LONG].u = 0;
    CU_ASSERT_EQUAL(as_tc_demand_requirement(t), 0);
    CU_ASSERT_EQUAL(as_tc_release(t, 1), 56);
    CU_ASSERT_EQUAL(t->filler.pages_subreleased, 56);
    teardown(&fx);
}

static void test_realloc(void)
{
    fixture_t fx;
    setup(&fx, NULL);
    tc_t *t = fx.t;
    as_ctx_t c = ctx_cpu(0);
    as_block_t b = A(&fx, 1000, 0), r;
    CU_ASSERT_EQUAL(b.bytes, 1024);
    /* 600 fits in 1024 and is >= 512: the same block */
    CU_ASSERT_EQUAL(as_policy_tcmalloc.realloc(t, &c, b.addr, 1000, 600, 0, &r),
                    0);
    CU_ASSERT_EQUAL(r.addr, b.addr);
    CU_ASSERT_EQUAL(r.bytes, 1024);
    /* 500 < 512: moves to the 512 class */
    CU_ASSERT_EQUAL(as_policy_tcmalloc.realloc(t, &c, r.addr, 600, 500, 0, &r),
                    0);
    CU_ASSERT(r.addr != b.addr);
    CU_ASSERT_EQUAL(r.bytes, 512);
    /* growing past the block: 1152 class */
    CU_ASSERT_EQUAL(as_policy_tcmalloc.realloc(t, &c, r.addr, 500, 1025, 0, &r),
                    0);
    CU_ASSERT_EQUAL(r.bytes, 1152);
    CU_ASSERT_EQUAL(t->realloc_in_place, 1);
    CU_ASSERT_EQUAL(t->in_use_bytes, 1152);
    /* large: 300 KiB = 38 pages; 200 KiB still fits in place */
    as_block_t l = A(&fx, 300 * KiB, 0);
    CU_ASSERT_EQUAL(l.bytes, 38 * PG);
    CU_ASSERT_EQUAL(
        as_policy_tcmalloc.realloc(t, &c, l.addr, 300 * KiB, 200 * KiB, 0, &r),
        0);
    CU_ASSERT_EQUAL(r.addr, l.addr);
    F(&fx, r.addr);
    /* an address that is not a block */
    CU_ASSERT_EQUAL(as_policy_tcmalloc.realloc(t, &c, 0x1000, 1, 2, 0, &r),
                    AS_EINVAL);
    teardown(&fx);
}

static void test_cpu_reclaim(void)
{
    fixture_t fx;
    setup(&fx, NULL);
    tc_t *t = fx.t;
    as_ctx_t c = ctx_cpu(3);
    as_block_t b;
    CU_ASSERT_EQUAL(as_policy_tcmalloc.alloc(t, &c, 64, 0, &b), 0);
    CU_ASSERT_EQUAL(as_policy_tcmalloc.free(t, &c, b.addr, 0), 0);
    uint32_t cls = as_tc_class_of(t, 64);
    tc_cpu_t *cpu = t->cpus[3];
    /* the miss grew the capacity to a batch (32) and fetched half of it
     * plus one (17): 16 cached, then the free made 17 */
    CU_ASSERT_EQUAL(cpu->cls[cls].count, 17);
    CU_ASSERT_EQUAL(cpu->cap_bytes, 32 * 64);
    /* ticks at 0 s (too early), 30 s (CPU 3 missed since the start:
     * remember its 17 x 64 bytes), 60 s (same bytes, no miss: drained to
     * the transfer cache) */
    c.now_ns = 0;
    as_policy_tcmalloc.tick(t, &c);
    c.now_ns = 30000000000ull;
    as_policy_tcmalloc.tick(t, &c);
    CU_ASSERT_EQUAL(cpu->cls[cls].count, 17);
    c.now_ns = 60000000000ull;
    as_policy_tcmalloc.tick(t, &c);
    CU_ASSERT_EQUAL(cpu->cls[cls].count, 0);
    CU_ASSERT_EQUAL(cpu->cls[cls].cap, 0);
    CU_ASSERT_EQUAL(cpu->cap_bytes, 0);
    CU_ASSERT_EQUAL(t->transfer[cls].count, 17);
    CU_ASSERT_EQUAL(stat(&fx, "cpu_cache_reclaims"), 1);
    teardown(&fx);
}

/* ------------------------------------------------------------ stress */

static uint64_t rng_state = 88172645463325252ull;
static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static void stress(const char *const *assign)
{
    as_simos_config_t oc;
    as_simos_config_default(&oc);
    as_simos_t *os;
    CU_ASSERT_EQUAL_FATAL(as_simos_create(&oc, &os), 0);
    as_param_value_t params[TC_P_COUNT];
    CU_ASSERT_EQUAL_FATAL(as_param_defaults(as_tc_params, TC_P_COUNT, params),
                          0);
    for (; assign && *assign; assign++)
        CU_ASSERT_EQUAL_FATAL(
            as_param_set(as_tc_params, TC_P_COUNT, params, *assign), 0);
    as_policy_config_t cfg = {as_simos_pagesource(os), params, 1, NULL, NULL};
    as_policy_ops_t ops;
    void *st;
    CU_ASSERT_EQUAL_FATAL(
        as_check_wrap(&as_policy_tcmalloc, &cfg, NULL, &ops, &st), 0);
    enum { LIVE = 3000, STEPS = 60000 };
    static uintptr_t addr[LIVE];
    static size_t size[LIVE];
    memset(addr, 0, sizeof addr);
    as_ctx_t c = {0, 0, 0, AS_CLASS_NONE, 0};
    uint64_t next_tick = 0;
    for (int step = 0; step < STEPS; step++) {
        c.now_ns = (uint64_t)step * 1000000ull; /* 1 ms per step */
        c.cpu = (uint32_t)(rnd() % 4);
        if (c.now_ns >= next_tick) next_tick = c.now_ns + ops.tick(st, &c);
        int i = (int)(rnd() % LIVE);
        if (addr[i] && rnd() % 8 == 0) {
            size_t ns = (size_t)(rnd() % (size[i] * 2 + 64));
            as_block_t b;
            int rc = ops.realloc(st, &c, addr[i], size[i], ns, 0, &b);
            CU_ASSERT_EQUAL(rc, 0);
            if (rc) printf("\nrealloc: %s\n", as_check_last_error(st));
            if (rc) break;
            CU_ASSERT_EQUAL(as_simos_touch(os, b.addr, ns ? ns : 1), 0);
            addr[i] = b.addr;
            size[i] = ns;
            continue;
        }
        if (addr[i]) {
            int rc = ops.free(st, &c, addr[i], (rnd() & 1) ? size[i] : 0);
            CU_ASSERT_EQUAL(rc, 0);
            if (rc) printf("\nfree: %s\n", as_check_last_error(st));
            addr[i] = 0;
            continue;
        }
        uint64_t r = rnd();
        size_t s = (r % 100) < 80   ? (size_t)(rnd() % 2048)
                   : (r % 100) < 97 ? (size_t)(rnd() % (300 * KiB))
                                    : (size_t)(rnd() % (5 * MiB));
        size_t al = (r % 23 == 0) ? ((size_t)1 << (rnd() % 17)) : 0;
        as_block_t b;
        int rc = ops.alloc(st, &c, s, al, &b);
        CU_ASSERT_EQUAL(rc, 0);
        if (rc) {
            printf("\nalloc %zu/%zu: %s\n", s, al, as_check_last_error(st));
            break;
        }
        CU_ASSERT_EQUAL(as_simos_touch(os, b.addr, s ? s : 1), 0);
        addr[i] = b.addr;
        size[i] = s;
        if (step % 20000 == 0) {
            CU_ASSERT_EQUAL(as_tc_check(as_check_inner_state(st), NULL), 0);
            CU_ASSERT_EQUAL(as_check_verify(st), 0);
        }
    }
    CU_ASSERT_EQUAL(as_tc_check(as_check_inner_state(st), NULL), 0);
    CU_ASSERT_EQUAL(as_check_violations(st), 0);
    for (int i = 0; i < LIVE; i++)
        if (addr[i]) CU_ASSERT_EQUAL(ops.free(st, &c, addr[i], 0), 0);
    CU_ASSERT_EQUAL(as_tc_check(as_check_inner_state(st), NULL), 0);
    CU_ASSERT_EQUAL(as_check_close(st), 0);
    if (as_check_violations(st))
        printf("\nclose: %s\n", as_check_last_error(st));
    ops.destroy(st);
    CU_ASSERT_EQUAL(as_simos_check(os), 0);
    as_simos_destroy(os);
}

/* The check hook names each broken invariant: a state with a filler page,
 * a region span, raw hugepages and a cache passes; each corruption below
 * (undone before the next) fails with its component's reason. */
static void expect_broken(tc_t *t, const char *needle)
{
    char why[200];
    as_msg_t m;
    as_msg_init(&m, why, sizeof why);
    CU_ASSERT_EQUAL(as_tc_check(t, &m), AS_ECHECK);
    CU_ASSERT_PTR_NOT_NULL(strstr(why, needle));
    if (!strstr(why, needle))
        fprintf(stderr, "want '%s', got '%s'\n", needle, why);
}

static void test_check_names_invariant(void)
{
    fixture_t fx;
    const char *assign[] = {"region_slack_bytes=0", NULL};
    setup(&fx, assign);
    tc_t *t = fx.t;
    as_block_t small = A(&fx, 100, 0);
    as_block_t raw = A(&fx, 4 * MiB, 0);             /* two raw hugepages */
    as_block_t odd = A(&fx, 2 * MiB + 100 * KiB, 0); /* raw + donated tail */
    as_block_t reg = A(&fx, 2 * MiB + 100 * KiB, 0); /* a region now */
    F(&fx, raw.addr); /* two hugepages into the cache */
    CU_ASSERT_EQUAL(t->regions.created, 1);
    CU_ASSERT_EQUAL(t->cache.backed.hps, 2);
    CU_ASSERT_EQUAL(as_tc_check(t, NULL), 0);

    t->filler.used_pages++;
    expect_broken(t, "filler: used_pages != sum over trackers");
    t->filler.used_pages--;

    tc_hugepage_t *hp = as_tc_leaf(t, small.addr)->tracker;
    hp->longest_free--;
    expect_broken(t, "filler: tracker longest_free");
    hp->longest_free++;

    t->regions.list->hp_used[0]++;
    expect_broken(t, "regions: hp_used != used pages of its hugepage");
    t->regions.list->hp_used[0]--;

    uint64_t limit = t->cache.limit_hps;
    t->cache.limit_hps = 1;
    expect_broken(t, "cache: holds more hugepages than its limit");
    t->cache.limit_hps = limit;

    t->cache.backed.hps++;
    expect_broken(t, "cache: hps != sum over its ranges");
    t->cache.backed.hps--;

    t->ph.raw_hps++;
    expect_broken(t, "hugepages from the OS");
    t->ph.raw_hps--;

    t->cache.usage_hps++;
    expect_broken(t, "cache: usage != filler + raw hugepages");
    t->cache.usage_hps--;

    t->filler.abandoned_pages++;
    expect_broken(t, "filler: abandoned_pages != sum");
    t->filler.abandoned_pages--;

    t->regions.list->free_backed_hps++;
    expect_broken(t, "regions: backed_hps or free_backed_hps");
    t->regions.list->free_backed_hps--;

    CU_ASSERT_EQUAL(as_tc_check(t, NULL), 0);
    F(&fx, small.addr);
    F(&fx, odd.addr);
    F(&fx, reg.addr);
    teardown(&fx);
}

/* ------------------------------------------------- back end (issue 10) */

#define MS 1000000ull /* ns */

static as_block_t A_at(fixture_t *fx, uint64_t now_ns, size_t size)
{
    as_ctx_t c = ctx_cpu(0);
    c.now_ns = now_ns;
    as_block_t b = {0, 0};
    CU_ASSERT_EQUAL(as_policy_tcmalloc.alloc(fx->t, &c, size, 0, &b), 0);
    return b;
}

static void F_at(fixture_t *fx, uint64_t now_ns, uintptr_t addr)
{
    as_ctx_t c = ctx_cpu(0);
    c.now_ns = now_ns;
    CU_ASSERT_EQUAL(as_policy_tcmalloc.free(fx->t, &c, addr, 0), 0);
}

/* MinMaxTracker over 2 s in 16 epochs of 125 ms: reports at 0 (5),
 * 100 ms (1), 130 ms (8), 1 s (4) fill epochs 0, 0, 1, 8. Over 1 s (8
 * epochs) the slots of epochs 8 (delta 7) and 1 (delta 1) count: min 4,
 * max 8; over 2 s epoch 0 counts too: min 1. A report at 3 s (epoch 24,
 * delta 16) alone covers 2 s. */
static void test_minmax_tracker(void)
{
    tc_minmax_t m;
    as_tc_minmax_init(&m, 2000 * MS);
    CU_ASSERT_EQUAL(as_tc_minmax_over(&m, 1000 * MS, 0), 0); /* empty */
    as_tc_minmax_report(&m, 0, 5);
    as_tc_minmax_report(&m, 100 * MS, 1);
    as_tc_minmax_report(&m, 130 * MS, 8);
    as_tc_minmax_report(&m, 1000 * MS, 4);
    CU_ASSERT_EQUAL(as_tc_minmax_over(&m, 1000 * MS, 0), 4);
    CU_ASSERT_EQUAL(as_tc_minmax_over(&m, 1000 * MS, 1), 8);
    CU_ASSERT_EQUAL(as_tc_minmax_over(&m, 2000 * MS, 0), 1);
    CU_ASSERT_EQUAL(as_tc_minmax_over(&m, 2000 * MS, 1), 8);
    as_tc_minmax_report(&m, 3000 * MS, 6);
    CU_ASSERT_EQUAL(as_tc_minmax_over(&m, 2000 * MS, 0), 6);
    CU_ASSERT_EQUAL(as_tc_minmax_over(&m, 2000 * MS, 1), 6);
}

/* The HugeCache limit follows demand dips (MaybeGrowCacheLimit) and
 * shrinks by half of the smallest recent size (MaybeShrinkCacheLimit),
 * with 40 MiB (20 hugepage) raw allocations:
 *   0 ms   get 20: a miss, no dip yet (usage 0 -> 20): limit stays 10
 *   100 ms put 20: usage 0, off-peak 20; the cache keeps 10 (its limit)
 *   200 ms get 20: the 10 cached are too few: a miss; dip = min(off-peak
 *          max 20, usage 20 - min 0) = 20: limit 20 + 2 = 22
 *          (the old rule grew by every miss: 10 + 20 + 20 = 50)
 *   3 s    put 20: 2.8 s since the limit changed: the smallest size seen
 *          over the last 2 s of records is 10 >= 22/5, so the limit drops
 *          by 10/2 = 5 to 17 and the cache (30) is cut to 17
 *   4 s    tick at release_rate 0: the release runs anyway
 *          (release_pages_from_huge_region); smallest size 17 >= 17/5:
 *          limit 17 - 8 = 9, floored at 10: 7 hugepages released
 *   5 s    tick: smallest 10 >= 2: limit 10 - 5, floored at 10: none */
static void test_hugecache_limit(void)
{
    for (int off = 0; off < 2; off++) {
        const char *assign[] = {off ? "release_pages_from_huge_region=off"
                                    : "release_pages_from_huge_region=on",
                                NULL};
        fixture_t fx;
        setup(&fx, assign);
        tc_t *t = fx.t;
        as_block_t b = A_at(&fx, 0, 40 * MiB);
        CU_ASSERT_EQUAL(t->cache.limit_hps, 10);
        CU_ASSERT_EQUAL(t->cache.usage_hps, 20);
        F_at(&fx, 100 * MS, b.addr);
        CU_ASSERT_EQUAL(t->cache.backed.hps, 10);
        CU_ASSERT_EQUAL(t->cache.released_hps, 10);
        b = A_at(&fx, 200 * MS, 40 * MiB);
        CU_ASSERT_EQUAL(t->cache.misses, 2);
        CU_ASSERT_EQUAL(t->cache.limit_hps, 22);
        CU_ASSERT_EQUAL(stat(&fx, "hugecache_limit_grows"), 1);
        F_at(&fx, 3000 * MS, b.addr);
        CU_ASSERT_EQUAL(t->cache.limit_hps, 17);
        CU_ASSERT_EQUAL(t->cache.backed.hps, 17);
        CU_ASSERT_EQUAL(t->cache.released_hps, 23);
        as_ctx_t c = ctx_cpu(0);
        c.now_ns = 4000 * MS;
        as_policy_tcmalloc.tick(t, &c);
        CU_ASSERT_EQUAL(t->cache.limit_hps, off ? 17 : 10);
        CU_ASSERT_EQUAL(t->cache.backed.hps, off ? 17 : 10);
        c.now_ns = 5000 * MS;
        as_policy_tcmalloc.tick(t, &c);
        CU_ASSERT_EQUAL(t->cache.limit_hps, off ? 17 : 10);
        CU_ASSERT_EQUAL(t->cache.backed.hps, off ? 17 : 10);
        teardown(&fx);
    }
}

/* When a region is made (AllocLarge), with region_slack_bytes=2M (256
 * pages) and 456-page (3.5625 MiB) requests: 2 hugepages each, slack 56,
 * a donated tail holding 200 of the request's pages.
 * region_more_often=on: X1 goes raw (nothing yet); a 5-page span lands
 * on its tail; freeing X1 abandons its 200 tail pages. X2: slack 0 +
 * abandoned 200 < 256: raw. X3: slack 56 + 200 = 256: a region.
 * Without the span on the tail nothing is abandoned: X3 sees 56, raw.
 * region_more_often=off: five raw requests make slack 5 x 56 = 280 >=
 * 256, so the sixth takes a region -- unless 3 x 1 MiB (384 small pages)
 * are live, as slack must also be >= small. */
static void test_region_condition(void)
{
    for (int variant = 0; variant < 2; variant++) {
        const char *assign[] = {"region_slack_bytes=2M", NULL};
        fixture_t fx;
        setup(&fx, assign);
        tc_t *t = fx.t;
        as_block_t x1 = A(&fx, 456 * PG, 0);
        CU_ASSERT_EQUAL(t->ph.slack_pages, 56);
        uintptr_t a = 0;
        tc_hugepage_t *hp = NULL;
        if (variant == 0) {
            CU_ASSERT_EQUAL(as_tc_pageheap_filler_get(t, 5, 0, &a, &hp), 0);
            CU_ASSERT_EQUAL(a, x1.addr + 2 * MiB + 200 * PG);
        }
        F(&fx, x1.addr);
        CU_ASSERT_EQUAL(t->filler.abandoned_pages, variant == 0 ? 200 : 0);
        as_block_t x2 = A(&fx, 456 * PG, 0);
        CU_ASSERT_EQUAL(t->regions.created, 0);
        as_block_t x3 = A(&fx, 456 * PG, 0);
        CU_ASSERT_EQUAL(t->regions.created, variant == 0 ? 1 : 0);
        F(&fx, x2.addr);
        F(&fx, x3.addr);
        if (variant == 0) as_tc_pageheap_filler_put(t, hp, a, 5);
        CU_ASSERT_EQUAL(t->filler.abandoned_pages, 0);
        teardown(&fx);
    }
    for (int small = 0; small < 2; small++) {
        const char *assign[] = {"region_slack_bytes=2M",
                                "region_more_often=off", NULL};
        fixture_t fx;
        setup(&fx, assign);
        tc_t *t = fx.t;
        as_block_t s[3], x[6];
        for (int i = 0; small && i < 3; i++)
            s[i] = A(&fx, 1 * MiB, 0);
        CU_ASSERT_EQUAL(t->ph.small_pages, small ? 384 : 0);
        for (int i = 0; i < 6; i++)
            x[i] = A(&fx, 456 * PG, 0);
        CU_ASSERT_EQUAL(t->ph.slack_pages, 6 * 56);
        CU_ASSERT_EQUAL(t->regions.created, small ? 0 : 1);
        for (int i = 0; i < 6; i++)
            F(&fx, x[i].addr);
        for (int i = 0; small && i < 3; i++)
            F(&fx, s[i].addr);
        CU_ASSERT_EQUAL(t->ph.slack_pages, 0);
        CU_ASSERT_EQUAL(t->ph.small_pages, 0);
        teardown(&fx);
    }
}

/* Subrelease drains partly released hugepages before breaking others,
 * even emptier ones (skip-subrelease off). H1 (sparse): 128 + 100 used.
 * H2 (sparse): 64 + 64. H3 (dense): 40 + 160. A 1-page release takes the
 * emptiest, H2 (128 free pages). Freeing H2's first span makes it partly
 * released (64 used, 128 released, 64 free). Freeing H3's 160 leaves H3
 * with 40 used, the emptiest -- yet the next 1-page release takes H2's 64
 * free pages, and H3 stays whole. */
static void test_subrelease_partial_first(void)
{
    const char *assign[] = {"skip_subrelease_short=0", "skip_subrelease_long=0",
                            NULL};
    fixture_t fx;
    setup(&fx, assign);
    tc_t *t = fx.t;
    uintptr_t a, h2a, h3b;
    tc_hugepage_t *h1, *h2, *h3, *x;
    CU_ASSERT_EQUAL(as_tc_pageheap_filler_get(t, 128, 0, &a, &h1), 0);
    CU_ASSERT_EQUAL(as_tc_pageheap_filler_get(t, 100, 0, &a, &x), 0);
    CU_ASSERT_PTR_EQUAL(x, h1);
    CU_ASSERT_EQUAL(as_tc_pageheap_filler_get(t, 64, 0, &h2a, &h2), 0);
    CU_ASSERT_EQUAL(as_tc_pageheap_filler_get(t, 64, 0, &a, &x), 0);
    CU_ASSERT_PTR_EQUAL(x, h2);
    CU_ASSERT_EQUAL(as_tc_pageheap_filler_get(t, 40, 1, &a, &h3), 0);
    CU_ASSERT_EQUAL(as_tc_pageheap_filler_get(t, 160, 1, &h3b, &x), 0);
    CU_ASSERT_PTR_EQUAL(x, h3);
    CU_ASSERT(h1 != h2 && h2 != h3 && h1 != h3);
    CU_ASSERT_EQUAL(as_tc_release(t, 1), 128);
    CU_ASSERT_EQUAL(h2->released_pages, 128);
    as_tc_pageheap_filler_put(t, h2, h2a, 64);
    CU_ASSERT_EQUAL(h2->set, TC_SET_PARTIAL);
    as_tc_pageheap_filler_put(t, h3, h3b, 160);
    CU_ASSERT_EQUAL(h3->used_pages, 40);
    CU_ASSERT_EQUAL(as_tc_filler_partial_free(&t->env, &t->filler), 64);
    CU_ASSERT_EQUAL(as_tc_release(t, 1), 64);
    CU_ASSERT_EQUAL(h2->released_pages, 192);
    CU_ASSERT_EQUAL(h3->released_pages, 0);
    CU_ASSERT_EQUAL(h1->released_pages, 0);
    CU_ASSERT_EQUAL(stat(&fx, "partial_alloc_pages_subreleased"), 64);
    CU_ASSERT_EQUAL(t->filler.hugepages_broken, 1);
    /* then the regular ones, emptiest first: H3 (40 used, 216 free) */
    CU_ASSERT_EQUAL(as_tc_release(t, 1), 216);
    CU_ASSERT_EQUAL(h3->released_pages, 216);
    CU_ASSERT_EQUAL(t->filler.hugepages_broken, 2);
    teardown(&fx);
}

/* release_partial_alloc_pages raises a release to a tenth of the free
 * pages on partly released hugepages. Eleven hugepages hold spans A
 * [0,123) and B [123,246); releasing everything takes their 10 free pages
 * each; freeing every A leaves 11 x 123 = 1353 free pages on partly
 * released hugepages. A 1-page release then wants 135 with the option
 * (two hugepages, 246 pages) and 1 without it (one hugepage, 123). */
static void test_release_partial_alloc_pages(void)
{
    for (int on = 0; on < 2; on++) {
        const char *assign[] = {"skip_subrelease_short=0",
                                "skip_subrelease_long=0",
                                on ? "release_partial_alloc_pages=on"
                                   : "release_partial_alloc_pages=off",
                                NULL};
        fixture_t fx;
        setup(&fx, assign);
        tc_t *t = fx.t;
        uintptr_t sa[11], b;
        tc_hugepage_t *hp[11], *x;
        for (int i = 0; i < 11; i++) {
            CU_ASSERT_EQUAL(
                as_tc_pageheap_filler_get(t, 123, 0, &sa[i], &hp[i]), 0);
            CU_ASSERT_EQUAL(as_tc_pageheap_filler_get(t, 123, 0, &b, &x), 0);
            CU_ASSERT_PTR_EQUAL(x, hp[i]);
        }
        CU_ASSERT_EQUAL(t->filler.hps, 11);
        CU_ASSERT_EQUAL(as_tc_release(t, 10000), 110);
        for (int i = 0; i < 11; i++)
            as_tc_pageheap_filler_put(t, hp[i], sa[i], 123);
        CU_ASSERT_EQUAL(as_tc_filler_partial_free(&t->env, &t->filler), 1353);
        CU_ASSERT_EQUAL(as_tc_release(t, 1), on ? 246 : 123);
        teardown(&fx);
    }
}

/* A hugepage that empties after a subrelease is unbacked whole; the next
 * release counts those pages first (unmapping_unaccounted_). H1: 128 +
 * 100 used; a release takes its 28 free pages; freeing both spans
 * unbacks the other 228. A 5-page release is then met by those 228, and
 * the new hugepage H2 is left whole. */
static void test_release_claims_unbacked(void)
{
    const char *assign[] = {"skip_subrelease_short=0", "skip_subrelease_long=0",
                            NULL};
    fixture_t fx;
    setup(&fx, assign);
    tc_t *t = fx.t;
    uintptr_t a1, a2, a3;
    tc_hugepage_t *h1, *h2;
    CU_ASSERT_EQUAL(as_tc_pageheap_filler_get(t, 128, 0, &a1, &h1), 0);
    CU_ASSERT_EQUAL(as_tc_pageheap_filler_get(t, 100, 0, &a2, &h2), 0);
    CU_ASSERT_EQUAL(as_tc_release(t, 1), 28);
    as_tc_pageheap_filler_put(t, h1, a2, 100);
    as_tc_pageheap_filler_put(t, h1, a1, 128);
    CU_ASSERT_EQUAL(t->filler.hps, 0);
    CU_ASSERT_EQUAL(t->filler.unaccounted_pages, 228);
    CU_ASSERT_EQUAL(as_tc_pageheap_filler_get(t, 10, 0, &a3, &h2), 0);
    CU_ASSERT_EQUAL(as_tc_release(t, 5), 228);
    CU_ASSERT_EQUAL(h2->released_pages, 0);
    CU_ASSERT_EQUAL(t->filler.pages_subreleased, 256);
    CU_ASSERT_EQUAL(t->filler.unaccounted_pages, 0);
    as_tc_pageheap_filler_put(t, h2, a3, 10);
    teardown(&fx);
}

static void test_stress_default(void)
{
    stress(NULL);
}

static void test_stress_release(void)
{
    const char *assign[] = {
        "release_rate=64M",        "skip_subrelease_short=1s",
        "skip_subrelease_long=2s", "region_slack_bytes=0",
        "size_classes=legacy",     "cpu_cache_bytes=256K",
        "small_align8=on",         NULL};
    stress(assign);
}

static void test_stress_pages(void)
{
    const char *assign[] = {"page_size=4K", "release_rate=16M",
                            "per_cpu_caches=off", NULL};
    stress(assign);
    const char *assign2[] = {"page_size=32K", "release_rate=16M",
                             "separate_dense=off", NULL};
    stress(assign2);
    const char *assign3[] = {"page_size=256K", "release_rate=16M", NULL};
    stress(assign3);
}

int main(void)
{
    static const as_test_t tests[] = {
        {"size-class tables follow the rules and the notes", test_tables},
        {"every class boundary, default table", test_boundaries_default},
        {"every class boundary, legacy table", test_boundaries_legacy},
        {"aligned requests pick aligned classes", test_aligned_classes},
        {"filler: smallest fitting range, ties to more allocations",
         test_filler_placement},
        {"subrelease picks the emptiest hugepage", test_subrelease_emptiest},
        {"per-CPU byte limit holds; overflow goes to the transfer cache",
         test_cpu_cache_limit},
        {"free with size_hint 0", test_free_without_size},
        {"large: raw hugepages with a donated tail", test_large_donation},
        {"large: HugeRegion best fit, backed on use", test_large_region},
        {"tick releases at the configured rate", test_tick_release},
        {"skip-subrelease keeps the demand requirement", test_skip_subrelease},
        {"realloc in place when it fits and is at least half", test_realloc},
        {"idle per-CPU caches are drained", test_cpu_reclaim},
        {"the check hook names the broken invariant",
         test_check_names_invariant},
        {"back end: min/max tracker windows", test_minmax_tracker},
        {"back end: HugeCache limit from demand dips", test_hugecache_limit},
        {"back end: when a HugeRegion is made", test_region_condition},
        {"back end: subrelease drains partly released hugepages first",
         test_subrelease_partial_first},
        {"back end: release_partial_alloc_pages",
         test_release_partial_alloc_pages},
        {"back end: a release claims pages unbacked on emptying",
         test_release_claims_unbacked},
        {"stress under the checking layer (defaults)", test_stress_default},
        {"stress under the checking layer (release, legacy, regions)",
         test_stress_release},
        {"stress under the checking layer (4K, 32K and 256K pages)",
         test_stress_pages},
        {NULL, NULL}};
    return as_test_main("policies_tcmalloc", tests);
}

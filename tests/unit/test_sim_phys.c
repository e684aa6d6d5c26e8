/* test_sim_phys.c - the simulated physical memory (sim/phys.c), the
 * tenants (sim/tenants.c) and a simos attached to them, against answers
 * worked out by hand: buddy splits and merges with exact free counts per
 * order, an order-9 block found or not, a THP fault falling back to 4 KiB
 * pages, compaction of a known layout (which frames move where), a deferred
 * split freed under pressure, the vmstat indexes on a hand-built free list,
 * the five defrag modes, tenants' determinism, and a seeded random sequence
 * checked after every step.
 *
 * Sizes: a frame is 4 KiB; a pageblock (and a huge page) 512 frames = 2 MiB;
 * an order-10 block 1024 frames = 4 MiB.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/rng.h"
#include "sim/phys.h"
#include "sim/simos.h"
#include "sim/tenants.h"
#include "tests/unit/testutil.h"

#define MIB ((uint64_t)1024 * 1024)
#define PAGE ((uint64_t)4096)
#define HUGE (2 * MIB)

static as_phys_t *mkphys(uint64_t bytes)
{
    as_phys_config_t pc = {.mem_bytes = bytes};
    as_phys_t *p = NULL;
    CU_ASSERT_FATAL(as_phys_create(&pc, &p) == 0);
    return p;
}

static uint32_t owner(as_phys_t *p, const as_phys_owner_ops_t *ops)
{
    uint32_t id = 0;
    CU_ASSERT_FATAL(as_phys_owner_add(p, ops, &id) == 0);
    return id;
}

static uint64_t alloc(as_phys_t *p, uint32_t o, unsigned order,
                      as_migratetype_t mt, uint64_t tag)
{
    uint64_t f = UINT64_MAX;
    CU_ASSERT_FATAL(as_phys_alloc(p, o, order, mt, tag, &f) == 0);
    return f;
}

/* free counts per order equal want[0..10] */
static void expect_blocks(as_phys_t *p, const uint64_t *want)
{
    uint64_t n[AS_PHYS_ORDERS];
    CU_ASSERT(as_phys_check(p) == 0);
    as_phys_free_blocks(p, n);
    for (unsigned o = 0; o < AS_PHYS_ORDERS; o++) {
        if (n[o] != want[o])
            fprintf(stderr, "order %u: %llu free blocks, want %llu\n", o,
                    (unsigned long long)n[o], (unsigned long long)want[o]);
        CU_ASSERT_EQUAL(n[o], want[o]);
    }
}

static void test_create_bounds(void)
{
    as_phys_config_t pc = {.mem_bytes = 0};
    as_phys_t *p = NULL;
    CU_ASSERT_EQUAL(as_phys_create(&pc, &p), AS_EINVAL);
    pc.mem_bytes = 6 * MIB; /* not a multiple of 4 MiB */
    CU_ASSERT_EQUAL(as_phys_create(&pc, &p), AS_EINVAL);
    pc.mem_bytes = AS_PHYS_MAX_BYTES + 4 * MIB;
    CU_ASSERT_EQUAL(as_phys_create(&pc, &p), AS_EINVAL);
    p = mkphys(16 * MIB);
    const uint64_t want[11] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4};
    expect_blocks(p, want);
    CU_ASSERT_EQUAL(as_phys_counters(p)->total_pages, 4096);
    CU_ASSERT_EQUAL(as_phys_counters(p)->free_pages, 4096);
    uint32_t o = owner(p, NULL);
    uint64_t f;
    CU_ASSERT_EQUAL(as_phys_alloc(p, o, 11, AS_MT_MOVABLE, 0, &f), AS_EINVAL);
    CU_ASSERT_EQUAL(as_phys_alloc(p, o + 1, 0, AS_MT_MOVABLE, 0, &f),
                    AS_EINVAL);
    as_phys_destroy(p);
}

/* 4 MiB = one order-10 block. Allocating frame 0 splits it down: one free
 * block of each order 0..9 (frames 1, 2, 4, ..., 512). */
static void test_buddy_split_merge(void)
{
    as_phys_t *p = mkphys(4 * MIB);
    uint32_t o = owner(p, NULL);
    CU_ASSERT_EQUAL(alloc(p, o, 0, AS_MT_MOVABLE, 0), 0);
    const uint64_t a[11] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0};
    expect_blocks(p, a);
    CU_ASSERT_EQUAL(alloc(p, o, 0, AS_MT_MOVABLE, 1), 1);
    const uint64_t b[11] = {0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0};
    expect_blocks(p, b);
    /* order 2: the free block at 4 */
    CU_ASSERT_EQUAL(alloc(p, o, 2, AS_MT_MOVABLE, 2), 4);
    const uint64_t c[11] = {0, 1, 0, 1, 1, 1, 1, 1, 1, 1, 0};
    expect_blocks(p, c);
    CU_ASSERT_EQUAL(as_phys_counters(p)->free_pages, 1024 - 6);
    uint32_t who;
    uint64_t tag;
    CU_ASSERT(as_phys_frame_owner(p, 6, &who, &tag) && who == o && tag == 4);
    /* frame 0 back: its buddy 1 is in use, so an order-0 block */
    as_phys_free(p, 0, 0);
    const uint64_t d[11] = {1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 0};
    expect_blocks(p, d);
    /* frame 1 back: merges with 0, then with 2..3 into order 2 at 0; the
     * buddy 4..7 is in use */
    as_phys_free(p, 1, 0);
    const uint64_t e[11] = {0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 0};
    expect_blocks(p, e);
    /* 4..7 back: everything merges into the order-10 block */
    as_phys_free(p, 4, 2);
    const uint64_t g[11] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    expect_blocks(p, g);
    CU_ASSERT_EQUAL(as_phys_owner_frames(p, o), 0);
    CU_ASSERT_EQUAL(as_phys_owner_remove(p, o), 0);
    as_phys_destroy(p);
}

/* Leave exactly one pinned (unmovable) frame at the start of each of the
 * n pageblocks [pb0, pb0 + n): an unmovable order-9 block each, all but
 * its first frame freed. */
static void pin_first_frames(as_phys_t *p, uint32_t o, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        uint64_t f = alloc(p, o, 9, AS_MT_UNMOVABLE, 100000 + 512 * i);
        CU_ASSERT_EQUAL(f % 512, 0);
        for (uint64_t j = 1; j < 512; j++)
            as_phys_free(p, f + j, 0);
    }
}

/* 4 MiB, one pinned frame in each pageblock: no order-9 block anywhere.
 * Free: in each pageblock orders 0..8 once (1 + 2 + ... + 256 = 511). */
static void test_order9_found_or_not(void)
{
    as_phys_t *p = mkphys(4 * MIB);
    uint32_t o = owner(p, NULL);
    pin_first_frames(p, o, 2);
    const uint64_t a[11] = {2, 2, 2, 2, 2, 2, 2, 2, 2, 0, 0};
    expect_blocks(p, a);
    uint64_t f;
    CU_ASSERT_EQUAL(as_phys_alloc(p, o, 9, AS_MT_MOVABLE, 0, &f), AS_ENOMEM);
    CU_ASSERT_EQUAL(as_phys_counters(p)->alloc_failures, 1);
    /* vmstat: 1022 free pages, none in a block of order >= 9:
     * unusable = 1022 * 1000 / 1022 = 1000; fragmentation =
     * 1000 - (1000 + 1022 * 1000 / 512) / 18 = 1000 - 2996 / 18 = 834 */
    CU_ASSERT_EQUAL(as_phys_unusable_index(p, 9), 1000);
    CU_ASSERT_EQUAL(as_phys_fragmentation_index(p, 9), 834);
    /* order 0: every free page is usable; a block is free: -1000 */
    CU_ASSERT_EQUAL(as_phys_unusable_index(p, 0), 0);
    CU_ASSERT_EQUAL(as_phys_fragmentation_index(p, 0), -1000);
    /* unpin frame 0: pageblock 0 merges into one order-9 block (its
     * neighbour, pageblock 1, still has a pinned frame) */
    as_phys_free(p, 0, 0);
    const uint64_t b[11] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0};
    expect_blocks(p, b);
    /* unusable = (1023 - 512) * 1000 / 1023 = 499 (511000 / 1023) */
    CU_ASSERT_EQUAL(as_phys_unusable_index(p, 9), 499);
    CU_ASSERT_EQUAL(as_phys_fragmentation_index(p, 9), -1000);
    CU_ASSERT_EQUAL(alloc(p, o, 9, AS_MT_MOVABLE, 0), 0);
    as_phys_destroy(p);
}

/* Nothing free: unusable 1000 (all free memory unusable), fragmentation 0. */
static void test_indexes_when_full(void)
{
    as_phys_t *p = mkphys(4 * MIB);
    uint32_t o = owner(p, NULL);
    alloc(p, o, 10, AS_MT_MOVABLE, 0);
    CU_ASSERT_EQUAL(as_phys_unusable_index(p, 9), 1000);
    CU_ASSERT_EQUAL(as_phys_fragmentation_index(p, 9), 0);
    uint64_t f;
    CU_ASSERT_EQUAL(as_phys_alloc(p, o, 0, AS_MT_MOVABLE, 0, &f), AS_ENOMEM);
    CU_ASSERT(as_phys_check(p) == 0);
    as_phys_destroy(p);
}

/* An unmovable request with only movable memory free steals: from an
 * order-10 block both pageblocks change type. */
static void test_fallback_steals(void)
{
    as_phys_t *p = mkphys(8 * MIB);
    uint32_t o = owner(p, NULL);
    CU_ASSERT_EQUAL(alloc(p, o, 0, AS_MT_UNMOVABLE, 0), 0);
    const as_phys_counters_t *c = as_phys_counters(p);
    CU_ASSERT_EQUAL(c->fallbacks, 1);
    CU_ASSERT_EQUAL(c->steals, 2);
    CU_ASSERT_EQUAL(as_phys_pageblock_type(p, 0), AS_MT_UNMOVABLE);
    CU_ASSERT_EQUAL(as_phys_pageblock_type(p, 512), AS_MT_UNMOVABLE);
    CU_ASSERT_EQUAL(as_phys_pageblock_type(p, 1024), AS_MT_MOVABLE);
    /* a movable order-0 now comes from the movable order-10 block */
    CU_ASSERT_EQUAL(alloc(p, o, 0, AS_MT_MOVABLE, 1), 1024);
    CU_ASSERT_EQUAL(c->fallbacks, 1);
    uint64_t um[11], mv[11];
    as_phys_free_blocks_mt(p, AS_MT_UNMOVABLE, um);
    as_phys_free_blocks_mt(p, AS_MT_MOVABLE, mv);
    CU_ASSERT_EQUAL(um[9], 1); /* 512..1023 */
    CU_ASSERT_EQUAL(mv[9], 1); /* 1536..2047 */
    CU_ASSERT_EQUAL(um[0] + mv[0], 2);
    CU_ASSERT(as_phys_check(p) == 0);
    as_phys_destroy(p);
}

typedef struct {
    uint64_t tag[16], to[16];
    unsigned n;
} moves_t;

static void record_move(void *state, uint64_t tag, uint64_t to)
{
    moves_t *m = state;
    if (m->n < 16) {
        m->tag[m->n] = tag;
        m->to[m->n] = to;
    }
    m->n++;
}

/* 8 MiB = 4 pageblocks. Owner M holds frames 0..3 of pageblock 0 and
 * frames 512, 600, 1000 of pageblock 1 (movable, tags 1000 + frame); U
 * pins the first frame of pageblocks 2 and 3. No order-9 block is free.
 * Compaction picks pageblock 1 (3 movable, fewer than pageblock 0's 4;
 * 2 and 3 are pinned) and moves its frames, in address order, to the
 * smallest free movable blocks of pageblock 0:
 *   512 -> 4 (order-2 block 4..7 split: 6..7 and 5 stay free)
 *   600 -> 5, 1000 -> 6 (order-1 block 6..7 split: 7 stays free).
 * Then pageblock 1 is one free order-9 block. */
static void test_compaction_known_layout(void)
{
    as_phys_t *p = mkphys(8 * MIB);
    moves_t mv = {0};
    as_phys_owner_ops_t ops = {record_move, NULL, &mv};
    uint32_t m = owner(p, &ops), u = owner(p, NULL);
    CU_ASSERT_EQUAL(alloc(p, m, 10, AS_MT_MOVABLE, 1000), 0);
    pin_first_frames(p, u, 2); /* pageblocks 2 and 3 */
    for (uint64_t f = 4; f < 1024; f++)
        if (f != 512 && f != 600 && f != 1000) as_phys_free(p, f, 0);
    /* before: pageblock 0: orders 2..8 (4, 8, ..., 256); pageblock 1 with
     * frames 512, 600, 1000 used; pageblocks 2, 3: orders 0..8 each */
    uint64_t n[11];
    as_phys_free_blocks(p, n);
    CU_ASSERT_EQUAL(n[9], 0);
    CU_ASSERT_EQUAL(n[10], 0);
    CU_ASSERT_EQUAL(as_phys_counters(p)->free_pages, 2048 - 4 - 3 - 2);
    CU_ASSERT(as_phys_check(p) == 0);

    CU_ASSERT_EQUAL(as_phys_compact(p, 9), 1);
    const as_phys_counters_t *c = as_phys_counters(p);
    CU_ASSERT_EQUAL(c->compactions, 1);
    CU_ASSERT_EQUAL(c->compact_successes, 1);
    CU_ASSERT_EQUAL(c->pages_migrated, 3);
    CU_ASSERT_EQUAL(mv.n, 3);
    CU_ASSERT(mv.tag[0] == 1512 && mv.to[0] == 4);
    CU_ASSERT(mv.tag[1] == 1600 && mv.to[1] == 5);
    CU_ASSERT(mv.tag[2] == 2000 && mv.to[2] == 6);
    uint32_t who;
    uint64_t tag;
    CU_ASSERT(as_phys_frame_owner(p, 5, &who, &tag) && who == m && tag == 1600);
    CU_ASSERT(!as_phys_frame_owner(p, 600, NULL, NULL));
    /* after: pageblock 0 used 0..6: free 7 (order 0), 8 (3), 16..256
     * (4..8); pageblock 1: one order-9 block; 2, 3: orders 0..8 each */
    const uint64_t want[11] = {3, 2, 2, 3, 3, 3, 3, 3, 3, 1, 0};
    expect_blocks(p, want);
    CU_ASSERT_EQUAL(c->free_pages, 2048 - 7 - 2);
    /* a free block exists: a second call does nothing */
    CU_ASSERT_EQUAL(as_phys_compact(p, 9), 1);
    CU_ASSERT_EQUAL(c->compactions, 1);
    as_phys_destroy(p);
}

/* Compaction cannot help when every pageblock holds a pinned frame. */
static void test_compaction_impossible(void)
{
    as_phys_t *p = mkphys(4 * MIB);
    uint32_t u = owner(p, NULL);
    pin_first_frames(p, u, 2);
    CU_ASSERT_EQUAL(as_phys_compact(p, 9), 0);
    CU_ASSERT_EQUAL(as_phys_counters(p)->compactions, 1);
    CU_ASSERT_EQUAL(as_phys_counters(p)->pages_migrated, 0);
    CU_ASSERT(as_phys_check(p) == 0);
    as_phys_destroy(p);
}

static as_simos_t *mkos(as_phys_t *p, as_defrag_t defrag)
{
    as_simos_config_t cfg;
    as_simos_config_default(&cfg);
    cfg.phys = p;
    cfg.defrag = defrag;
    as_simos_t *os = NULL;
    CU_ASSERT_FATAL(as_simos_create(&cfg, &os) == 0);
    return os;
}

static const as_simos_counters_t *C(as_simos_t *os)
{
    CU_ASSERT(as_simos_check(os) == 0);
    return as_simos_counters(os);
}

static uintptr_t reserve2m(as_simos_t *os, uint64_t bytes)
{
    uintptr_t a = 0;
    CU_ASSERT_FATAL(
        as_ps_reserve(as_simos_pagesource(os), 0, bytes, HUGE, &a) == 0);
    return a;
}

/* A THP fault when no order-9 block is free falls back to one 4 KiB page
 * (defrag never: no compaction); with defrag always it compacts first,
 * which cannot help here either. */
static void test_thp_fault_fallback(void)
{
    as_defrag_t modes[2] = {AS_DEFRAG_NEVER, AS_DEFRAG_ALWAYS};
    for (int i = 0; i < 2; i++) {
        as_phys_t *p = mkphys(4 * MIB);
        uint32_t u = owner(p, NULL);
        pin_first_frames(p, u, 2);
        as_simos_t *os = mkos(p, modes[i]);
        uintptr_t a = reserve2m(os, HUGE);
        CU_ASSERT_EQUAL(as_simos_touch(os, a + 100, 8), 0);
        const as_simos_counters_t *c = C(os);
        CU_ASSERT_EQUAL(c->huge_faults, 0);
        CU_ASSERT_EQUAL(c->thp_fault_fallbacks, 1);
        CU_ASSERT_EQUAL(c->page_faults, 1);
        CU_ASSERT_EQUAL(c->resident_bytes, PAGE);
        CU_ASSERT_EQUAL(c->frames, 1);
        CU_ASSERT_EQUAL(c->compact_stalls, (uint64_t)i);
        CU_ASSERT_EQUAL(as_phys_counters(p)->compactions, (uint64_t)i);
        CU_ASSERT_EQUAL(as_phys_counters(p)->free_pages, 1024 - 2 - 1);
        CU_ASSERT(as_phys_check(p) == 0);
        /* a second touch in the region: no new huge attempt (a page is
         * resident), one more page */
        CU_ASSERT_EQUAL(as_simos_touch(os, a + 3 * PAGE, 8), 0);
        CU_ASSERT_EQUAL(C(os)->thp_fault_fallbacks, 1);
        CU_ASSERT_EQUAL(C(os)->frames, 2);
        as_simos_destroy(os);
        CU_ASSERT_EQUAL(as_phys_counters(p)->free_pages, 1024 - 2);
        CU_ASSERT(as_phys_check(p) == 0);
        as_phys_destroy(p);
    }
}

/* With memory free, a THP fault takes an order-9 block: 512 frames. */
static void test_thp_fault_huge(void)
{
    as_phys_t *p = mkphys(4 * MIB);
    as_simos_t *os = mkos(p, AS_DEFRAG_MADVISE);
    uintptr_t a = reserve2m(os, HUGE);
    CU_ASSERT_EQUAL(as_simos_touch(os, a, 1), 0);
    const as_simos_counters_t *c = C(os);
    CU_ASSERT_EQUAL(c->huge_faults, 1);
    CU_ASSERT_EQUAL(c->frames, 512);
    CU_ASSERT_EQUAL(as_phys_counters(p)->free_pages, 512);
    /* the whole huge page released: the block is free again */
    CU_ASSERT_EQUAL(as_ps_release(as_simos_pagesource(os), a, HUGE), 0);
    CU_ASSERT_EQUAL(C(os)->frames, 0);
    const uint64_t all[11] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    expect_blocks(p, all);
    as_simos_destroy(os);
    as_phys_destroy(p);
}

/* 4 MiB. A huge page at frames 0..511; releasing its upper 1 MiB drops the
 * process's resident bytes at once, but the 256 frames stay allocated on
 * the deferred split queue. A NOHUGEPAGE region then takes the other 512
 * frames; the next page finds none free, the shrinker frees the 256
 * deferred frames, and the fault succeeds. */
static void test_deferred_split_under_pressure(void)
{
    as_phys_t *p = mkphys(4 * MIB);
    as_simos_t *os = mkos(p, AS_DEFRAG_NEVER);
    const as_pagesource_t *ps = as_simos_pagesource(os);
    uintptr_t a = reserve2m(os, 3 * HUGE);
    CU_ASSERT_EQUAL(as_ps_hugepage_hint(ps, a + HUGE, 2 * HUGE, 0), 0);
    CU_ASSERT_EQUAL(as_simos_touch(os, a, 1), 0);
    CU_ASSERT_EQUAL(C(os)->huge_faults, 1);
    CU_ASSERT_EQUAL(as_ps_release(ps, a + MIB, MIB), 0);
    const as_simos_counters_t *c = C(os);
    CU_ASSERT_EQUAL(c->resident_bytes, MIB);
    CU_ASSERT_EQUAL(c->huge_bytes, 0);
    CU_ASSERT_EQUAL(c->splits, 1);
    CU_ASSERT_EQUAL(c->frames, 256);
    const as_phys_counters_t *pc = as_phys_counters(p);
    CU_ASSERT_EQUAL(pc->deferred_split_bytes, MIB);
    CU_ASSERT_EQUAL(pc->deferred_splits, 1);
    CU_ASSERT_EQUAL(pc->free_pages, 512); /* nothing freed yet */
    CU_ASSERT(as_phys_check(p) == 0);
    /* fill the other pageblock with 4 KiB pages */
    CU_ASSERT_EQUAL(as_simos_touch(os, a + HUGE, HUGE), 0);
    CU_ASSERT_EQUAL(pc->free_pages, 0);
    CU_ASSERT_EQUAL(C(os)->frames, 256 + 512);
    /* pressure: the deferred frames are freed, one is used */
    CU_ASSERT_EQUAL(as_simos_touch(os, a + 2 * HUGE, 1), 0);
    CU_ASSERT_EQUAL(pc->deferred_split_bytes, 0);
    CU_ASSERT_EQUAL(pc->deferred_split_freed_bytes, MIB);
    CU_ASSERT_EQUAL(pc->free_pages, 255);
    CU_ASSERT_EQUAL(C(os)->frames, 256 + 512 + 1);
    CU_ASSERT_EQUAL(C(os)->resident_bytes, (256 + 512 + 1) * PAGE);
    CU_ASSERT(as_phys_check(p) == 0);
    /* 255 more pages fit; the page after them does not */
    CU_ASSERT_EQUAL(as_simos_touch(os, a + 2 * HUGE + PAGE, 255 * PAGE), 0);
    CU_ASSERT_EQUAL(pc->free_pages, 0);
    CU_ASSERT_EQUAL(as_simos_touch(os, a + 2 * HUGE + 256 * PAGE, 1),
                    AS_ENOSPACE);
    CU_ASSERT_EQUAL(C(os)->frames, 1024);
    CU_ASSERT(as_phys_check(p) == 0);
    as_simos_destroy(os);
    const uint64_t all[11] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    expect_blocks(p, all);
    as_phys_destroy(p);
}

/* Releasing the rest of a deferred huge page frees the whole block. */
static void test_deferred_split_last_frame(void)
{
    as_phys_t *p = mkphys(4 * MIB);
    as_simos_t *os = mkos(p, AS_DEFRAG_NEVER);
    const as_pagesource_t *ps = as_simos_pagesource(os);
    uintptr_t a = reserve2m(os, HUGE);
    CU_ASSERT_EQUAL(as_simos_touch(os, a, 1), 0);
    CU_ASSERT_EQUAL(as_ps_release(ps, a, PAGE), 0);
    CU_ASSERT_EQUAL(as_phys_counters(p)->deferred_split_bytes, PAGE);
    CU_ASSERT_EQUAL(as_ps_release(ps, a + PAGE, HUGE - PAGE), 0);
    CU_ASSERT_EQUAL(as_phys_counters(p)->deferred_split_bytes, 0);
    CU_ASSERT_EQUAL(as_phys_counters(p)->free_pages, 1024);
    CU_ASSERT_EQUAL(C(os)->frames, 0);
    CU_ASSERT(as_phys_check(p) == 0);
    as_simos_destroy(os);
    as_phys_destroy(p);
}

/* 8 MiB, a movable frame at the start of every pageblock (compaction can
 * empty pageblock 0 by moving one frame). One THP fault per mode, in a
 * region advised MADV_HUGEPAGE or not:
 *   always: compacts; defer: falls back, wakes kcompactd;
 *   defer+madvise: compacts if advised, else as defer;
 *   madvise: compacts if advised, else falls back silently; never: falls
 *   back. */
static void test_defrag_modes(void)
{
    static const struct {
        as_defrag_t mode;
        int advised, direct, woken;
    } cases[] = {
        {AS_DEFRAG_ALWAYS, 0, 1, 0},        {AS_DEFRAG_DEFER, 0, 0, 1},
        {AS_DEFRAG_DEFER, 1, 0, 1},         {AS_DEFRAG_DEFER_MADVISE, 1, 1, 0},
        {AS_DEFRAG_DEFER_MADVISE, 0, 0, 1}, {AS_DEFRAG_MADVISE, 1, 1, 0},
        {AS_DEFRAG_MADVISE, 0, 0, 0},       {AS_DEFRAG_NEVER, 1, 0, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        as_phys_t *p = mkphys(8 * MIB);
        uint32_t t = owner(p, NULL);
        alloc(p, t, 10, AS_MT_MOVABLE, 0);
        alloc(p, t, 10, AS_MT_MOVABLE, 1024);
        for (uint64_t f = 0; f < 2048; f++)
            if (f % 512) as_phys_free(p, f, 0);
        as_simos_t *os = mkos(p, cases[i].mode);
        uintptr_t a = reserve2m(os, HUGE);
        if (cases[i].advised)
            CU_ASSERT_EQUAL(
                as_ps_hugepage_hint(as_simos_pagesource(os), a, HUGE, 1), 0);
        CU_ASSERT_EQUAL(as_simos_touch(os, a, 1), 0);
        const as_simos_counters_t *c = C(os);
        const as_phys_counters_t *pc = as_phys_counters(p);
        CU_ASSERT_EQUAL(c->compact_stalls, (uint64_t)cases[i].direct);
        CU_ASSERT_EQUAL(c->huge_faults, (uint64_t)cases[i].direct);
        CU_ASSERT_EQUAL(c->thp_fault_fallbacks, (uint64_t)!cases[i].direct);
        CU_ASSERT_EQUAL(pc->pages_migrated, (uint64_t)cases[i].direct);
        /* kcompactd works only when woken */
        CU_ASSERT_EQUAL(as_phys_kcompactd(p), cases[i].woken);
        CU_ASSERT_EQUAL(pc->kcompactd_runs, (uint64_t)cases[i].woken);
        CU_ASSERT_EQUAL(as_phys_kcompactd(p), 0);
        CU_ASSERT(as_phys_check(p) == 0);
        CU_ASSERT(as_simos_check(os) == 0);
        as_simos_destroy(os);
        as_phys_destroy(p);
    }
}

/* khugepaged needs an order-9 block too: none free and nothing to compact
 * means no collapse. */
static void test_collapse_needs_block(void)
{
    as_phys_t *p = mkphys(4 * MIB);
    uint32_t u = owner(p, NULL);
    pin_first_frames(p, u, 1); /* pageblock 0 */
    as_simos_t *os = mkos(p, AS_DEFRAG_NEVER);
    const as_pagesource_t *ps = as_simos_pagesource(os);
    uintptr_t a = reserve2m(os, HUGE);
    /* a non-huge region: advised off for the fault, on for khugepaged */
    CU_ASSERT_EQUAL(as_ps_hugepage_hint(ps, a, HUGE, 0), 0);
    CU_ASSERT_EQUAL(as_simos_touch(os, a, 1), 0);
    CU_ASSERT_EQUAL(as_ps_hugepage_hint(ps, a, HUGE, 1), 0);
    /* pageblock 1 is free: the collapse takes it, the old frame is freed */
    CU_ASSERT_EQUAL(as_simos_khugepaged_scan(os), 1);
    CU_ASSERT_EQUAL(C(os)->frames, 512);
    CU_ASSERT_EQUAL(as_phys_counters(p)->free_pages, 511);
    /* second region: no block left */
    as_simos_destroy(os);
    os = mkos(p, AS_DEFRAG_NEVER);
    ps = as_simos_pagesource(os);
    as_phys_free(p, 0, 0); /* pageblock 0 free, then fill it with pages */
    a = reserve2m(os, 2 * HUGE);
    CU_ASSERT_EQUAL(as_ps_hugepage_hint(ps, a, 2 * HUGE, 0), 0);
    CU_ASSERT_EQUAL(as_simos_touch(os, a, 1), 0);
    CU_ASSERT_EQUAL(as_simos_touch(os, a + HUGE, 1), 0);
    pin_first_frames(p, u, 0);
    uint64_t f;
    while (as_phys_alloc(p, u, 0, AS_MT_UNMOVABLE, 7, &f) == 0) {
    }
    CU_ASSERT_EQUAL(as_ps_hugepage_hint(ps, a, 2 * HUGE, 1), 0);
    CU_ASSERT_EQUAL(as_simos_khugepaged_scan(os), 0);
    CU_ASSERT_EQUAL(C(os)->collapse_failures, 2);
    CU_ASSERT_EQUAL(C(os)->collapses, 0);
    CU_ASSERT(as_phys_check(p) == 0);
    as_simos_destroy(os);
    as_phys_destroy(p);
}

static void test_tenants(void)
{
    as_tenants_config_t tc = {.cache_bytes = 1000 * PAGE,
                              .unmovable_bytes = 100 * PAGE,
                              .swing_pct = 50,
                              .period_ns = 4000000000ull,
                              .churn_permille = 100,
                              .seed = 7};
    as_phys_t *p1 = mkphys(16 * MIB), *p2 = mkphys(16 * MIB),
              *p3 = mkphys(16 * MIB);
    as_tenants_t *t1, *t2, *t3;
    CU_ASSERT_FATAL(as_tenants_create(&tc, p1, &t1) == 0);
    CU_ASSERT_FATAL(as_tenants_create(&tc, p2, &t2) == 0);
    tc.seed = 8;
    CU_ASSERT_FATAL(as_tenants_create(&tc, p3, &t3) == 0);
    /* triangle wave: x1 at 0 and P/2, x1.5 at P/4, x0.5 at 3P/4 */
    CU_ASSERT_EQUAL(as_tenants_target(t1, AS_MT_MOVABLE, 0), 1000);
    CU_ASSERT_EQUAL(as_tenants_target(t1, AS_MT_MOVABLE, 1000000000ull), 1500);
    CU_ASSERT_EQUAL(as_tenants_target(t1, AS_MT_MOVABLE, 2000000000ull), 1000);
    CU_ASSERT_EQUAL(as_tenants_target(t1, AS_MT_MOVABLE, 3000000000ull), 500);
    CU_ASSERT_EQUAL(as_tenants_target(t1, AS_MT_UNMOVABLE, 500000000ull), 125);
    int differs = 0;
    for (uint64_t s = 0; s < 40; s++) {
        uint64_t t = s * 100000000ull;
        CU_ASSERT(as_tenants_step(t1, t) == 0);
        CU_ASSERT(as_tenants_step(t2, t) == 0);
        CU_ASSERT(as_tenants_step(t3, t) == 0);
        for (unsigned m = 0; m < 2; m++) {
            uint64_t want = as_tenants_target(t1, (as_migratetype_t)m, t);
            CU_ASSERT_EQUAL(as_tenants_counters(t1)->pages[m], want);
            for (uint64_t i = 0; i < want; i++) {
                uint64_t f = as_tenants_frame(t1, (as_migratetype_t)m, i);
                CU_ASSERT_EQUAL(f,
                                as_tenants_frame(t2, (as_migratetype_t)m, i));
                differs |= f != as_tenants_frame(t3, (as_migratetype_t)m, i);
            }
        }
        CU_ASSERT(as_phys_check(p1) == 0);
    }
    CU_ASSERT(differs);
    CU_ASSERT_EQUAL(as_tenants_counters(t1)->peak_pages[AS_MT_MOVABLE], 1500);
    /* reclaim drops page cache only */
    uint64_t cache = as_tenants_counters(t1)->pages[AS_MT_MOVABLE];
    CU_ASSERT_EQUAL(as_phys_reclaim(p1, 10), 10);
    CU_ASSERT_EQUAL(as_tenants_counters(t1)->pages[AS_MT_MOVABLE], cache - 10);
    CU_ASSERT_EQUAL(as_tenants_counters(t1)->reclaimed_pages, 10);
    CU_ASSERT(as_phys_check(p1) == 0);
    as_tenants_destroy(t1);
    as_tenants_destroy(t2);
    as_tenants_destroy(t3);
    CU_ASSERT_EQUAL(as_phys_counters(p1)->free_pages, 4096);
    as_phys_destroy(p1);
    as_phys_destroy(p2);
    as_phys_destroy(p3);
}

/* Seeded random operations on two processes and tenants sharing 32 MiB,
 * with compaction, kcompactd and khugepaged, every invariant checked after
 * every step. */
static void test_random_ops(void)
{
    as_phys_t *p = mkphys(32 * MIB);
    as_tenants_config_t tc = {.cache_bytes = 8 * MIB,
                              .unmovable_bytes = 2 * MIB,
                              .swing_pct = 60,
                              .period_ns = 1000000000ull,
                              .churn_permille = 50,
                              .seed = 3};
    as_tenants_t *t;
    CU_ASSERT_FATAL(as_tenants_create(&tc, p, &t) == 0);
    as_simos_t *os[2] = {mkos(p, AS_DEFRAG_ALWAYS), mkos(p, AS_DEFRAG_DEFER)};
    as_rng_t rng;
    as_rng_seed(&rng, 42);
    uintptr_t res[2][16];
    uint64_t len[2][16];
    unsigned nres[2] = {0, 0};
    int failed = 0;
    for (int step = 0; step < 3000 && !failed; step++) {
        unsigned w = (unsigned)as_rng_below(&rng, 2);
        as_simos_t *o = os[w];
        const as_pagesource_t *ps = as_simos_pagesource(o);
        uint64_t k = as_rng_below(&rng, 10);
        if (k == 0 && nres[w] < 16) {
            uint64_t bytes = (1 + as_rng_below(&rng, 1024)) * PAGE;
            uintptr_t a;
            if (as_ps_reserve(ps, 0, bytes, as_rng_below(&rng, 2) ? HUGE : PAGE,
                              &a) == 0) {
                res[w][nres[w]] = a;
                len[w][nres[w]++] = bytes;
            }
        } else if (nres[w] && k <= 4) {
            unsigned i = (unsigned)as_rng_below(&rng, nres[w]);
            uint64_t off = as_rng_below(&rng, len[w][i]);
            uint64_t n = 1 + as_rng_below(&rng, len[w][i] - off);
            int rc = as_simos_touch(o, res[w][i] + off, n);
            CU_ASSERT(rc == 0 || rc == AS_ENOSPACE);
        } else if (nres[w] && k <= 6) {
            unsigned i = (unsigned)as_rng_below(&rng, nres[w]);
            uint64_t pages = len[w][i] / PAGE;
            uint64_t p0 = as_rng_below(&rng, pages);
            uint64_t n = 1 + as_rng_below(&rng, pages - p0);
            CU_ASSERT(as_ps_release(ps, res[w][i] + p0 * PAGE, n * PAGE) == 0);
        } else if (nres[w] && k == 7) {
            unsigned i = (unsigned)as_rng_below(&rng, nres[w]);
            CU_ASSERT(as_ps_unreserve(ps, res[w][i], len[w][i]) == 0);
            res[w][i] = res[w][nres[w] - 1];
            len[w][i] = len[w][--nres[w]];
        } else if (k == 8) {
            as_simos_khugepaged_scan(o);
            as_phys_kcompactd(p);
        } else {
            CU_ASSERT(as_tenants_step(t, (uint64_t)step * 10000000ull) == 0);
        }
        if (as_phys_check(p) || as_simos_check(os[0]) ||
            as_simos_check(os[1])) {
            fprintf(stderr, "invariant broken at step %d (op %llu)\n", step,
                    (unsigned long long)k);
            failed = 1;
        }
    }
    CU_ASSERT(!failed);
    const as_phys_counters_t *pc = as_phys_counters(p);
    /* the sequence exercised the machinery it is meant to */
    CU_ASSERT(pc->deferred_splits > 0);
    CU_ASSERT(pc->fallbacks > 0);
    as_simos_destroy(os[0]);
    as_simos_destroy(os[1]);
    as_tenants_destroy(t);
    CU_ASSERT_EQUAL(pc->free_pages, 8192);
    CU_ASSERT(as_phys_check(p) == 0);
    as_phys_destroy(p);
}

/* Without a phys, the new counters stay 0 and nothing else changes. */
static void test_no_phys(void)
{
    as_simos_config_t cfg;
    as_simos_config_default(&cfg);
    CU_ASSERT_PTR_NULL(cfg.phys);
    CU_ASSERT_EQUAL(cfg.defrag, AS_DEFRAG_MADVISE);
    CU_ASSERT_EQUAL(cfg.phys_mem_bytes, 0);
    as_simos_t *os = NULL;
    CU_ASSERT_FATAL(as_simos_create(&cfg, &os) == 0);
    uintptr_t a = reserve2m(os, HUGE);
    CU_ASSERT_EQUAL(as_simos_touch(os, a, 1), 0);
    CU_ASSERT_EQUAL(C(os)->huge_faults, 1);
    CU_ASSERT_EQUAL(C(os)->frames, 0);
    CU_ASSERT_EQUAL(C(os)->thp_fault_fallbacks, 0);
    as_simos_destroy(os);
}

int main(void)
{
    static const as_test_t tests[] = {
        {"create_bounds", test_create_bounds},
        {"buddy_split_merge", test_buddy_split_merge},
        {"order9_found_or_not", test_order9_found_or_not},
        {"indexes_when_full", test_indexes_when_full},
        {"fallback_steals", test_fallback_steals},
        {"compaction_known_layout", test_compaction_known_layout},
        {"compaction_impossible", test_compaction_impossible},
        {"thp_fault_fallback", test_thp_fault_fallback},
        {"thp_fault_huge", test_thp_fault_huge},
        {"deferred_split_under_pressure", test_deferred_split_under_pressure},
        {"deferred_split_last_frame", test_deferred_split_last_frame},
        {"defrag_modes", test_defrag_modes},
        {"collapse_needs_block", test_collapse_needs_block},
        {"tenants", test_tenants},
        {"random_ops", test_random_ops},
        {"no_phys", test_no_phys},
        {NULL, NULL}};
    return as_test_main("sim_phys", tests);
}

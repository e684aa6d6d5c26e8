/* test_sim_simos.c - the simulated Linux memory (sim/simos.c) against answers
 * computed by hand: THP never / madvise / always, huge faults, splits by a
 * partial release or unmap, khugepaged collapses, address-space placement
 * and reuse, errors, the metadata arena, and a seeded 10k-operation random
 * sequence checked after every step (invariants plus an independent model
 * of which pages are mapped and where first fit must place a reservation).
 *
 * Units used in the arithmetic: K = 4096-byte page count is written out,
 * 1 MiB = 1048576, 2 MiB = 2097152 = 512 pages.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "sim/simos.h"
#include "tests/unit/testutil.h"

#define KIB ((uint64_t)1024)
#define MIB ((uint64_t)1024 * 1024)
#define PAGE ((uint64_t)4096)
#define HUGE (2 * MIB)
#define BASE ((uintptr_t)0x100000000000ull)

/* The placement rule the tests run under: the suite runs once with each
 * (main); the tests that assert addresses are written for one layout. */
static as_mmap_layout_t layout = AS_MMAP_BOTTOMUP;

static void cfg_default(as_simos_config_t *cfg)
{
    as_simos_config_default(cfg);
    cfg->mmap_layout = layout;
}

static as_simos_t *mk(as_thp_mode_t thp)
{
    as_simos_config_t cfg;
    cfg_default(&cfg);
    cfg.thp = thp;
    as_simos_t *os = NULL;
    CU_ASSERT_FATAL(as_simos_create(&cfg, &os) == 0);
    return os;
}

static const as_simos_counters_t *C(as_simos_t *os)
{
    CU_ASSERT(as_simos_check(os) == 0);
    return as_simos_counters(os);
}

static uintptr_t reserve(as_simos_t *os, uintptr_t hint, uint64_t bytes,
                         uint64_t align)
{
    uintptr_t a = 0;
    CU_ASSERT_FATAL(
        as_ps_reserve(as_simos_pagesource(os), hint, bytes, align, &a) == 0);
    return a;
}

static void test_defaults(void)
{
    as_simos_config_t cfg;
    as_simos_config_default(&cfg);
    CU_ASSERT_EQUAL(cfg.thp, AS_THP_ALWAYS);
    CU_ASSERT_EQUAL(cfg.khugepaged, 1);
    CU_ASSERT_EQUAL(cfg.max_ptes_none, 511);
    CU_ASSERT_EQUAL(cfg.scan_interval_ns, 10000000000ull);
    CU_ASSERT_EQUAL(cfg.scan_regions, 8);
    CU_ASSERT_EQUAL(cfg.base, BASE);
    CU_ASSERT_EQUAL(cfg.mmap_layout, AS_MMAP_TOPDOWN);
    as_simos_t *os = mk(AS_THP_ALWAYS);
    const as_pagesource_t *ps = as_simos_pagesource(os);
    CU_ASSERT_EQUAL(ps->page_bytes, 4096);
    CU_ASSERT_EQUAL(ps->hugepage_bytes, 2097152);
    CU_ASSERT_PTR_NOT_NULL(ps->ops->hugepage_hint);
    const as_simos_counters_t *c = C(os);
    CU_ASSERT_EQUAL(c->mapped_bytes + c->resident_bytes + c->huge_bytes, 0);
    as_simos_destroy(os);

    /* A base that is not 2 MiB aligned is refused, and an unknown layout. */
    cfg.base = BASE + PAGE;
    os = (as_simos_t *)1;
    CU_ASSERT_EQUAL(as_simos_create(&cfg, &os), AS_EINVAL);
    CU_ASSERT_PTR_NULL(os);
    cfg.base = BASE;
    cfg.mmap_layout = (as_mmap_layout_t)2;
    CU_ASSERT_EQUAL(as_simos_create(&cfg, &os), AS_EINVAL);
}

/* The top-down layout (Linux's default on x86-64), by hand. mmap_base
 * M = 0x7ffff7fff000 (TASK_SIZE 0x7ffffffff000 - 128 MiB) is the top of the
 * simulated address space: the stack and its gap above it are not modelled,
 * so a hint at or above M is refused like a taken range (in a process the
 * address above the first mappings holds the libraries). Each line: the
 * call, the highest free range that fits, and the address. */
static void test_topdown_placement(void)
{
    layout = AS_MMAP_TOPDOWN;
    as_simos_t *os = mk(AS_THP_NEVER);
    const as_pagesource_t *ps = as_simos_pagesource(os);
    const uintptr_t M = 0x7ffff7fff000ull;
    uintptr_t a;
    CU_ASSERT_EQUAL(AS_SIMOS_MMAP_BASE, M);
    /* 128 KiB, no hint: [base, M) -> M - 128K. */
    uintptr_t a1 = reserve(os, 0, 128 * KIB, PAGE);
    CU_ASSERT_EQUAL(a1, 0x7ffff7fdf000ull);
    /* Hint right after it (M, outside the space): right under a1, as
     * bestfit's "grow in place" hint fares in a real process. */
    CU_ASSERT_EQUAL(reserve(os, a1 + 128 * KIB, 128 * KIB, PAGE),
                    0x7ffff7fbf000ull);
    /* Hint occupied (a1): the highest fit, right under the last one. */
    uintptr_t a3 = reserve(os, a1, 64 * KIB, PAGE);
    CU_ASSERT_EQUAL(a3, 0x7ffff7faf000ull);
    /* 2 MiB at the page, no hint: a multiple of 2 MiB is placed 2 MiB
     * aligned when bytes + 2 MiB fit: align_down(0x7ffff7faf000 - 2M, 2M)
     * = 0x7ffff7c00000 (not 0x7ffff7daf000). */
    CU_ASSERT_EQUAL(reserve(os, 0, HUGE, PAGE), 0x7ffff7c00000ull);
    /* 1 MiB: the hole [0x7ffff7e00000, 0x7ffff7faf000) left above it, at its
     * top: 0x7ffff7faf000 - 1M. */
    uintptr_t a5 = reserve(os, 0, MIB, PAGE);
    CU_ASSERT_EQUAL(a5, 0x7ffff7eaf000ull);
    /* 2 MiB aligned to 2 MiB needs a range of 4 MiB - 4 KiB (the real page
     * source maps that and trims it): the hole (700 KiB) is skipped; below
     * 0x7ffff7c00000: align_down(0x7ffff7c00000 - 2M) = 0x7ffff7a00000. */
    CU_ASSERT_EQUAL(reserve(os, 0, HUGE, HUGE), 0x7ffff7a00000ull);
    /* Unreserve the 1 MiB: the hole is whole again and is the highest
     * gap, so the next mapping goes to its top, as Linux reuses it. */
    CU_ASSERT_EQUAL(as_ps_unreserve(ps, a5, MIB), 0);
    CU_ASSERT_EQUAL(reserve(os, 0, 64 * KIB, PAGE), 0x7ffff7f9f000ull);
    /* Unreserve a3: a 64 KiB hole [0x7ffff7faf000, 0x7ffff7fbf000) between
     * two mappings. 128 KiB does not fit in it: the next range below,
     * [0x7ffff7e00000, 0x7ffff7f9f000), at its top; 64 KiB fits the hole;
     * a free hint is honoured wherever it is. */
    CU_ASSERT_EQUAL(as_ps_unreserve(ps, a3, 64 * KIB), 0);
    CU_ASSERT_EQUAL(reserve(os, 0, 128 * KIB, PAGE), 0x7ffff7f7f000ull);
    CU_ASSERT_EQUAL(reserve(os, 0, 64 * KIB, PAGE), 0x7ffff7faf000ull);
    CU_ASSERT_EQUAL(reserve(os, BASE, PAGE, PAGE), BASE);
    CU_ASSERT_EQUAL(C(os)->reserves, 10);
    CU_ASSERT_EQUAL(C(os)->mapped_bytes, 512 * KIB + 2 * HUGE + PAGE);
    as_simos_destroy(os);

    /* A space of 4 MiB - 4 KiB below M: [0x7ffff7c00000, M). After one
     * page at its top, 2 MiB aligned to 2 MiB has no 4 MiB - 4 KiB range;
     * the fallback (bottom-up, the kernel's when top-down fails) still
     * places it at the lowest aligned address. 8 MiB fits nowhere. A base
     * at or above M leaves no space and is refused. */
    as_simos_config_t cfg;
    cfg_default(&cfg);
    cfg.base = 0x7ffff7c00000ull;
    CU_ASSERT_FATAL(as_simos_create(&cfg, &os) == 0);
    CU_ASSERT_EQUAL(reserve(os, 0, PAGE, PAGE), M - PAGE);
    CU_ASSERT_EQUAL(reserve(os, 0, HUGE, HUGE), 0x7ffff7c00000ull);
    CU_ASSERT_EQUAL(
        as_ps_reserve(as_simos_pagesource(os), 0, 8 * MIB, PAGE, &a),
        AS_ENOSPACE);
    as_simos_destroy(os);
    cfg.base = 0x7ffff8000000ull;
    CU_ASSERT_EQUAL(as_simos_create(&cfg, &os), AS_EINVAL);
    layout = AS_MMAP_BOTTOMUP;
}

/* A 2 MiB-aligned 4 MiB reservation; the program writes 8 bytes at +100.
 * always: region 0 (512 pages, fully mapped, eligible, nothing resident yet)
 *   faults in as one huge page: resident = huge = 2097152, coverage 1.
 * never: one 4 KiB page: resident = 4096, huge = 0, coverage 0. */
static void test_thp_always_vs_never(void)
{
    as_simos_t *os = mk(AS_THP_ALWAYS);
    uintptr_t a = reserve(os, 0, 4 * MIB, HUGE);
    CU_ASSERT_EQUAL(a, BASE);
    CU_ASSERT_EQUAL(C(os)->mapped_bytes, 4194304);
    CU_ASSERT_EQUAL(as_simos_touch(os, a + 100, 8), 0);
    const as_simos_counters_t *c = C(os);
    CU_ASSERT_EQUAL(c->resident_bytes, 2097152);
    CU_ASSERT_EQUAL(c->huge_bytes, 2097152);
    CU_ASSERT_EQUAL(c->huge_faults, 1);
    CU_ASSERT_EQUAL(c->page_faults, 0);
    uint32_t m, r;
    int h;
    CU_ASSERT_EQUAL(as_simos_region(os, a, &m, &r, &h), 0);
    CU_ASSERT(m == 512 && r == 512 && h == 1);
    CU_ASSERT_EQUAL(as_simos_region(os, a + HUGE, &m, &r, &h), 0);
    CU_ASSERT(m == 512 && r == 0 && h == 0);
    /* A second touch in the huge page changes nothing. */
    CU_ASSERT_EQUAL(as_simos_touch(os, a + HUGE - 1, 1), 0);
    CU_ASSERT_EQUAL(C(os)->resident_bytes, 2097152);
    CU_ASSERT_EQUAL(C(os)->huge_faults, 1);
    as_simos_destroy(os);

    os = mk(AS_THP_NEVER);
    a = reserve(os, 0, 4 * MIB, HUGE);
    CU_ASSERT_EQUAL(as_simos_touch(os, a + 100, 8), 0);
    c = C(os);
    CU_ASSERT_EQUAL(c->resident_bytes, 4096);
    CU_ASSERT_EQUAL(c->huge_bytes, 0);
    CU_ASSERT_EQUAL(c->huge_faults, 0);
    CU_ASSERT_EQUAL(c->page_faults, 1);
    /* 8 bytes across the region boundary (+2 MiB - 4): pages 511 and 512,
     * two more faults: 4096 + 2 * 4096 = 12288. */
    CU_ASSERT_EQUAL(as_simos_touch(os, a + HUGE - 4, 8), 0);
    CU_ASSERT_EQUAL(C(os)->resident_bytes, 12288);
    CU_ASSERT_EQUAL(C(os)->page_faults, 3);
    /* 1 MiB from +1 MiB: pages 256..511, of which 511 is resident:
     * 255 new pages, 12288 + 255 * 4096 = 1056768. */
    CU_ASSERT_EQUAL(as_simos_touch(os, a + MIB, MIB), 0);
    CU_ASSERT_EQUAL(C(os)->resident_bytes, 1056768);
    CU_ASSERT_EQUAL(C(os)->page_faults, 258);
    as_simos_destroy(os);
}

/* madvise: only a region hinted with MADV_HUGEPAGE over its whole 2 MiB
 * gets a huge page. */
static void test_thp_madvise(void)
{
    /* Without a hint: 4 KiB. */
    as_simos_t *os = mk(AS_THP_MADVISE);
    uintptr_t a = reserve(os, 0, 4 * MIB, HUGE);
    CU_ASSERT_EQUAL(as_simos_touch(os, a, 1), 0);
    CU_ASSERT_EQUAL(C(os)->resident_bytes, 4096);
    CU_ASSERT_EQUAL(C(os)->huge_bytes, 0);
    as_simos_destroy(os);

    /* Hint on the whole 4 MiB: a touch in region 1 faults in 2 MiB. */
    os = mk(AS_THP_MADVISE);
    const as_pagesource_t *ps = as_simos_pagesource(os);
    a = reserve(os, 0, 4 * MIB, HUGE);
    CU_ASSERT_EQUAL(as_ps_hugepage_hint(ps, a, 4 * MIB, 1), 0);
    CU_ASSERT_EQUAL(as_simos_touch(os, a + 3 * MIB, 16), 0);
    CU_ASSERT_EQUAL(C(os)->resident_bytes, 2097152);
    CU_ASSERT_EQUAL(C(os)->huge_bytes, 2097152);
    CU_ASSERT_EQUAL(C(os)->huge_faults, 1);
    as_simos_destroy(os);

    /* Hint on 1 MiB only: no region is wholly advised, so 4 KiB. */
    os = mk(AS_THP_MADVISE);
    ps = as_simos_pagesource(os);
    a = reserve(os, 0, 4 * MIB, HUGE);
    CU_ASSERT_EQUAL(as_ps_hugepage_hint(ps, a, MIB, 1), 0);
    CU_ASSERT_EQUAL(as_simos_touch(os, a, 1), 0);
    CU_ASSERT_EQUAL(C(os)->resident_bytes, 4096);
    CU_ASSERT_EQUAL(C(os)->huge_bytes, 0);
    as_simos_destroy(os);

    /* An advised region half unmapped and mapped again by a new, unadvised
     * reservation is covered by two mappings: no longer eligible, 4 KiB. */
    os = mk(AS_THP_MADVISE);
    ps = as_simos_pagesource(os);
    a = reserve(os, 0, HUGE, HUGE);
    CU_ASSERT_EQUAL(as_ps_hugepage_hint(ps, a, HUGE, 1), 0);
    CU_ASSERT_EQUAL(as_ps_unreserve(ps, a, MIB), 0);
    CU_ASSERT_EQUAL(reserve(os, 0, MIB, PAGE), a);
    CU_ASSERT_EQUAL(as_simos_touch(os, a, 1), 0);
    CU_ASSERT_EQUAL(C(os)->resident_bytes, 4096);
    CU_ASSERT_EQUAL(C(os)->huge_faults, 0);
    /* Advising the whole region again makes it eligible: the region already
     * has a resident page, so the next fault is still 4 KiB (8192), and
     * khugepaged collapses it (2 resident, 510 none <= 511). */
    CU_ASSERT_EQUAL(as_ps_hugepage_hint(ps, a, HUGE, 1), 0);
    CU_ASSERT_EQUAL(as_simos_touch(os, a + MIB, 1), 0);
    CU_ASSERT_EQUAL(C(os)->resident_bytes, 8192);
    CU_ASSERT_EQUAL(as_simos_khugepaged_scan(os), 1);
    CU_ASSERT_EQUAL(C(os)->huge_bytes, 2097152);
    as_simos_destroy(os);

    /* always with MADV_NOHUGEPAGE on one page of region 0: the region's
     * pages now carry different advice (two mappings in Linux), so it can
     * never be huge: 4 KiB there; region 1 is untouched by the advice and
     * faults in a huge page: 4096 + 2097152. */
    os = mk(AS_THP_ALWAYS);
    ps = as_simos_pagesource(os);
    a = reserve(os, 0, 4 * MIB, HUGE);
    CU_ASSERT_EQUAL(as_ps_hugepage_hint(ps, a, PAGE, 0), 0);
    CU_ASSERT_EQUAL(as_simos_touch(os, a + 2 * PAGE, 1), 0);
    CU_ASSERT_EQUAL(C(os)->resident_bytes, 4096);
    CU_ASSERT_EQUAL(as_simos_touch(os, a + HUGE, 1), 0);
    CU_ASSERT_EQUAL(C(os)->resident_bytes, 4096 + 2097152);
    CU_ASSERT_EQUAL(C(os)->huge_bytes, 2097152);
    as_simos_destroy(os);

    /* always with MADV_HUGEPAGE on [+1 MiB, +3 MiB): region 0 is half
     * advised (mixed: 4 KiB), region 1 half advised too (4 KiB), even
     * though unadvised and advised regions are both eligible under always.
     * Advising all of region 1 afterwards makes it whole again: the next
     * fault in it is still 4 KiB (it has a resident page) but khugepaged
     * collapses it (2 resident, 510 none <= 511). */
    os = mk(AS_THP_ALWAYS);
    ps = as_simos_pagesource(os);
    a = reserve(os, 0, 4 * MIB, HUGE);
    CU_ASSERT_EQUAL(as_ps_hugepage_hint(ps, a + MIB, HUGE, 1), 0);
    CU_ASSERT_EQUAL(as_simos_touch(os, a, 1), 0);
    CU_ASSERT_EQUAL(as_simos_touch(os, a + HUGE, 1), 0);
    CU_ASSERT_EQUAL(C(os)->resident_bytes, 8192);
    CU_ASSERT_EQUAL(C(os)->huge_faults, 0);
    CU_ASSERT_EQUAL(as_simos_khugepaged_scan(os), 0);
    CU_ASSERT_EQUAL(as_ps_hugepage_hint(ps, a + HUGE, HUGE, 1), 0);
    CU_ASSERT_EQUAL(as_simos_touch(os, a + HUGE + MIB, 1), 0);
    CU_ASSERT_EQUAL(C(os)->resident_bytes, 12288);
    CU_ASSERT_EQUAL(as_simos_khugepaged_scan(os), 1);
    CU_ASSERT_EQUAL(C(os)->resident_bytes, 4096 + 2097152);
    CU_ASSERT_EQUAL(C(os)->huge_bytes, 2097152);
    as_simos_destroy(os);
}

/* A region that is not fully mapped never faults in a huge page: a 1 MiB
 * reservation under always gives 4 KiB pages. Two adjacent unadvised
 * reservations that together fill a region do get one (Linux merges them
 * into one mapping). */
static void test_partial_region_not_huge(void)
{
    as_simos_t *os = mk(AS_THP_ALWAYS);
    uintptr_t a = reserve(os, 0, MIB, HUGE);
    CU_ASSERT_EQUAL(as_simos_touch(os, a, 4096 + 1), 0); /* pages 0, 1 */
    CU_ASSERT_EQUAL(C(os)->resident_bytes, 8192);
    CU_ASSERT_EQUAL(C(os)->huge_bytes, 0);
    CU_ASSERT_EQUAL(C(os)->page_faults, 2);
    /* Fill region 1 with two 1 MiB reservations: +2 MiB and +3 MiB. */
    CU_ASSERT_EQUAL(reserve(os, 0, MIB, HUGE), a + HUGE);
    CU_ASSERT_EQUAL(reserve(os, 0, MIB, PAGE), a + MIB); /* hole first */
    CU_ASSERT_EQUAL(reserve(os, 0, MIB, PAGE), a + 3 * MIB);
    /* Region 0 is fully mapped now but already has resident pages: 4 KiB.
     * Region 1 has none: a huge page. 8192 + 4096 + 2097152 = 2109440. */
    CU_ASSERT_EQUAL(as_simos_touch(os, a + MIB, 1), 0);
    CU_ASSERT_EQUAL(as_simos_touch(os, a + 3 * MIB, 1), 0);
    CU_ASSERT_EQUAL(C(os)->resident_bytes, 2109440);
    CU_ASSERT_EQUAL(C(os)->huge_bytes, 2097152);
    CU_ASSERT_EQUAL(C(os)->huge_faults, 1);
    as_simos_destroy(os);
}

/* Huge page at region 0, then release 64 KiB (16 pages) at +64 KiB:
 * resident 2097152 - 65536 = 2031616, huge 0, one split, 65536 released.
 * A later touch of a released page is a 4 KiB fault (the region has resident
 * pages, so no huge fault): 2031616 + 4096 = 2035712. */
static void test_partial_release_splits(void)
{
    as_simos_t *os = mk(AS_THP_ALWAYS);
    const as_pagesource_t *ps = as_simos_pagesource(os);
    uintptr_t a = reserve(os, 0, 4 * MIB, HUGE);
    CU_ASSERT_EQUAL(as_simos_touch(os, a, 64), 0);
    CU_ASSERT_EQUAL(as_ps_release(ps, a + 64 * KIB, 64 * KIB), 0);
    const as_simos_counters_t *c = C(os);
    CU_ASSERT_EQUAL(c->resident_bytes, 2031616);
    CU_ASSERT_EQUAL(c->huge_bytes, 0);
    CU_ASSERT_EQUAL(c->splits, 1);
    CU_ASSERT_EQUAL(c->released_bytes, 65536);
    CU_ASSERT_EQUAL(c->releases, 1);
    CU_ASSERT_EQUAL(c->mapped_bytes, 4194304);
    uint32_t m, r;
    int h;
    CU_ASSERT_EQUAL(as_simos_region(os, a, &m, &r, &h), 0);
    CU_ASSERT(m == 512 && r == 496 && h == 0);
    CU_ASSERT_EQUAL(as_simos_touch(os, a + 64 * KIB, 1), 0);
    CU_ASSERT_EQUAL(C(os)->resident_bytes, 2035712);
    CU_ASSERT_EQUAL(C(os)->huge_faults, 1);
    CU_ASSERT_EQUAL(C(os)->page_faults, 1);
    /* Releasing the same range again drops only the one page touched since:
     * 65536 + 4096 = 69632 released in all. */
    CU_ASSERT_EQUAL(as_ps_release(ps, a + 64 * KIB, 64 * KIB), 0);
    CU_ASSERT_EQUAL(C(os)->released_bytes, 69632);
    CU_ASSERT_EQUAL(C(os)->splits, 1);
    as_simos_destroy(os);
}

/* Releasing the whole 2 MiB of a huge page frees it without a split; the
 * next touch faults a huge page in again. */
static void test_full_release_no_split(void)
{
    as_simos_t *os = mk(AS_THP_ALWAYS);
    const as_pagesource_t *ps = as_simos_pagesource(os);
    uintptr_t a = reserve(os, 0, 4 * MIB, HUGE);
    CU_ASSERT_EQUAL(as_simos_touch(os, a, 1), 0);
    /* release 3 MiB: all of region 0 (huge) and half of the empty region 1. */
    CU_ASSERT_EQUAL(as_ps_release(ps, a, 3 * MIB), 0);
    const as_simos_counters_t *c = C(os);
    CU_ASSERT_EQUAL(c->resident_bytes, 0);
    CU_ASSERT_EQUAL(c->huge_bytes, 0);
    CU_ASSERT_EQUAL(c->splits, 0);
    CU_ASSERT_EQUAL(c->released_bytes, 2097152);
    CU_ASSERT_EQUAL(as_simos_touch(os, a + 5, 1), 0);
    CU_ASSERT_EQUAL(C(os)->huge_faults, 2);
    CU_ASSERT_EQUAL(C(os)->huge_bytes, 2097152);
    as_simos_destroy(os);
}

/* 4 MiB, both regions huge (4194304 resident). Unmap [+1 MiB, +3 MiB):
 * half of each huge page, two splits; resident and mapped both drop by
 * 2097152 to 2097152; released_bytes counts release() only, so stays 0. */
static void test_unreserve_part(void)
{
    as_simos_t *os = mk(AS_THP_ALWAYS);
    const as_pagesource_t *ps = as_simos_pagesource(os);
    uintptr_t a = reserve(os, 0, 4 * MIB, HUGE);
    CU_ASSERT_EQUAL(as_simos_touch(os, a, 1), 0);
    CU_ASSERT_EQUAL(as_simos_touch(os, a + HUGE, 1), 0);
    CU_ASSERT_EQUAL(C(os)->resident_bytes, 4194304);
    CU_ASSERT_EQUAL(as_ps_unreserve(ps, a + MIB, 2 * MIB), 0);
    const as_simos_counters_t *c = C(os);
    CU_ASSERT_EQUAL(c->mapped_bytes, 2097152);
    CU_ASSERT_EQUAL(c->resident_bytes, 2097152);
    CU_ASSERT_EQUAL(c->huge_bytes, 0);
    CU_ASSERT_EQUAL(c->splits, 2);
    CU_ASSERT_EQUAL(c->released_bytes, 0);
    CU_ASSERT_EQUAL(c->unreserves, 1);
    uint32_t m, r;
    int h;
    CU_ASSERT_EQUAL(as_simos_region(os, a, &m, &r, &h), 0);
    CU_ASSERT(m == 256 && r == 256 && h == 0);
    CU_ASSERT_EQUAL(as_simos_touch(os, a + MIB, 1), AS_EINVAL);
    CU_ASSERT_EQUAL(as_simos_touch(os, a + 3 * MIB - 1, 2), AS_EINVAL);
    CU_ASSERT_EQUAL(as_simos_touch(os, a + 3 * MIB, 1), 0);
    /* Reuse: the hole [+1 MiB, +3 MiB) is the lowest free space. 1 MiB at
     * page alignment lands at +1 MiB; then 2 MiB aligned to 2 MiB does not
     * fit in the 1 MiB left at +2 MiB and goes to +4 MiB. */
    CU_ASSERT_EQUAL(reserve(os, 0, MIB, PAGE), a + MIB);
    CU_ASSERT_EQUAL(reserve(os, 0, 2 * MIB, HUGE), a + 4 * MIB);
    CU_ASSERT_EQUAL(reserve(os, 0, MIB, PAGE), a + 2 * MIB);
    /* Everything unmapped again: mapped 0 and the space is one free range
     * (checked by as_simos_check through C()). */
    CU_ASSERT_EQUAL(as_ps_unreserve(ps, a, 6 * MIB), 0);
    CU_ASSERT_EQUAL(C(os)->mapped_bytes, 0);
    CU_ASSERT_EQUAL(C(os)->resident_bytes, 0);
    CU_ASSERT_EQUAL(reserve(os, 0, PAGE, PAGE), a);
    as_simos_destroy(os);
}

/* madvise mode; 3 pages touched at 4 KiB (12288 resident), then the region
 * is hinted. A collapse needs non-resident pages 512 - 3 = 509 <=
 * max_ptes_none: 511 and 509 collapse, 508 and 0 do not. A collapse raises
 * resident to 2097152 (+2084864) and huge to 2097152. */
static void collapse_case(uint32_t max_ptes_none, int expect)
{
    as_simos_config_t cfg;
    cfg_default(&cfg);
    cfg.thp = AS_THP_MADVISE;
    cfg.max_ptes_none = max_ptes_none;
    as_simos_t *os;
    CU_ASSERT_FATAL(as_simos_create(&cfg, &os) == 0);
    const as_pagesource_t *ps = as_simos_pagesource(os);
    uintptr_t a = reserve(os, 0, HUGE, HUGE);
    CU_ASSERT_EQUAL(as_simos_touch(os, a, 3 * PAGE), 0);
    CU_ASSERT_EQUAL(C(os)->resident_bytes, 12288);
    /* Not hinted yet: not a candidate. */
    CU_ASSERT_EQUAL(as_simos_khugepaged_scan(os), 0);
    CU_ASSERT_EQUAL(as_ps_hugepage_hint(ps, a, HUGE, 1), 0);
    CU_ASSERT_EQUAL(as_simos_khugepaged_scan(os), (uint32_t)expect);
    const as_simos_counters_t *c = C(os);
    CU_ASSERT_EQUAL(c->collapses, (uint64_t)expect);
    CU_ASSERT_EQUAL(c->resident_bytes, expect ? 2097152 : 12288);
    CU_ASSERT_EQUAL(c->huge_bytes, expect ? 2097152 : 0);
    CU_ASSERT_EQUAL(c->huge_faults, 0);
    /* A second scan finds nothing new to do. */
    CU_ASSERT_EQUAL(as_simos_khugepaged_scan(os), 0);
    as_simos_destroy(os);
}

static void test_khugepaged_collapse(void)
{
    collapse_case(511, 1);
    collapse_case(509, 1);
    collapse_case(508, 0);
    collapse_case(0, 0);
}

/* always mode, max_ptes_none = 0: a split huge page with one page released
 * (511 resident) does not collapse; once the page is touched again (512
 * resident, 0 none) it does. */
static void test_khugepaged_after_split(void)
{
    as_simos_config_t cfg;
    cfg_default(&cfg);
    cfg.max_ptes_none = 0;
    as_simos_t *os;
    CU_ASSERT_FATAL(as_simos_create(&cfg, &os) == 0);
    const as_pagesource_t *ps = as_simos_pagesource(os);
    uintptr_t a = reserve(os, 0, HUGE, HUGE);
    CU_ASSERT_EQUAL(as_simos_touch(os, a, 1), 0);
    CU_ASSERT_EQUAL(as_ps_release(ps, a + 100 * PAGE, PAGE), 0);
    CU_ASSERT_EQUAL(C(os)->resident_bytes, 2093056); /* 511 pages */
    CU_ASSERT_EQUAL(as_simos_khugepaged_scan(os), 0);
    CU_ASSERT_EQUAL(as_simos_touch(os, a + 100 * PAGE, 1), 0);
    CU_ASSERT_EQUAL(C(os)->huge_bytes, 0);
    CU_ASSERT_EQUAL(as_simos_khugepaged_scan(os), 1);
    CU_ASSERT_EQUAL(C(os)->huge_bytes, 2097152);
    CU_ASSERT_EQUAL(C(os)->resident_bytes, 2097152);
    CU_ASSERT_EQUAL(C(os)->splits, 1);
    CU_ASSERT_EQUAL(C(os)->collapses, 1);
    as_simos_destroy(os);
}

/* Round robin by address, scan_regions = 1: three hinted regions with one
 * resident page each collapse one per wake-up, lowest address first. A
 * 1 MiB reservation between them (not fully mapped) is skipped for free. */
static void test_khugepaged_round_robin(void)
{
    as_simos_config_t cfg;
    cfg_default(&cfg);
    cfg.thp = AS_THP_MADVISE;
    cfg.scan_regions = 1;
    as_simos_t *os;
    CU_ASSERT_FATAL(as_simos_create(&cfg, &os) == 0);
    const as_pagesource_t *ps = as_simos_pagesource(os);
    uintptr_t a = reserve(os, 0, 6 * MIB, HUGE);
    uintptr_t b = reserve(os, 0, MIB, HUGE); /* region 3, half mapped */
    CU_ASSERT_EQUAL(b, a + 6 * MIB);
    CU_ASSERT_EQUAL(as_simos_touch(os, b, 1), 0);
    for (int i = 0; i < 3; i++)
        CU_ASSERT_EQUAL(as_simos_touch(os, a + (uint64_t)i * HUGE, 1), 0);
    CU_ASSERT_EQUAL(as_ps_hugepage_hint(ps, a, 6 * MIB, 1), 0);
    CU_ASSERT_EQUAL(as_ps_hugepage_hint(ps, b, MIB, 1), 0);
    int h;
    for (int i = 0; i < 3; i++) {
        CU_ASSERT_EQUAL(as_simos_khugepaged_scan(os), 1);
        for (int j = 0; j < 3; j++) {
            CU_ASSERT_EQUAL(
                as_simos_region(os, a + (uint64_t)j * HUGE, NULL, NULL, &h), 0);
            CU_ASSERT_EQUAL(h, j <= i);
        }
    }
    CU_ASSERT_EQUAL(as_simos_khugepaged_scan(os), 0);
    /* 3 huge + 1 page in region 3: 3 * 2097152 + 4096 = 6295552. */
    CU_ASSERT_EQUAL(C(os)->resident_bytes, 6295552);
    CU_ASSERT_EQUAL(C(os)->collapses, 3);
    as_simos_destroy(os);

    /* khugepaged off: no collapses whatever the state. */
    cfg.khugepaged = 0;
    cfg.scan_regions = 8;
    CU_ASSERT_FATAL(as_simos_create(&cfg, &os) == 0);
    ps = as_simos_pagesource(os);
    a = reserve(os, 0, HUGE, HUGE);
    CU_ASSERT_EQUAL(as_simos_touch(os, a, 1), 0);
    CU_ASSERT_EQUAL(as_ps_hugepage_hint(ps, a, HUGE, 1), 0);
    CU_ASSERT_EQUAL(as_simos_khugepaged_scan(os), 0);
    as_simos_destroy(os);
}

static void test_reserve_hint(void)
{
    as_simos_t *os = mk(AS_THP_NEVER);
    uintptr_t a;
    CU_ASSERT_EQUAL(reserve(os, 0, HUGE, HUGE), BASE);
    /* Honoured: the range at +10 MiB is free. */
    CU_ASSERT_EQUAL(reserve(os, BASE + 10 * MIB, HUGE, HUGE), BASE + 10 * MIB);
    /* Regions 1..4 have descriptors now but were never mapped. */
    CU_ASSERT_EQUAL(as_simos_region(os, BASE + 4 * MIB, NULL, NULL, NULL),
                    AS_EINVAL);
    CU_ASSERT_EQUAL(as_simos_region(os, BASE + 10 * MIB, NULL, NULL, NULL), 0);
    /* Refused (taken): lowest first fit, +2 MiB. */
    CU_ASSERT_EQUAL(reserve(os, BASE, HUGE, HUGE), BASE + 2 * MIB);
    /* Refused (overlaps [+10, +12) MiB at its end): first fit +4 MiB. */
    CU_ASSERT_EQUAL(reserve(os, BASE + 9 * MIB, HUGE, PAGE), BASE + 4 * MIB);
    /* Refused (hint not aligned to align): first fit +6 MiB. */
    CU_ASSERT_EQUAL(reserve(os, BASE + 8 * MIB + PAGE, HUGE, HUGE),
                    BASE + 6 * MIB);
    /* Hint below base: ignored, first fit +8 MiB. */
    CU_ASSERT_EQUAL(reserve(os, PAGE, HUGE, HUGE), BASE + 8 * MIB);
    /* Honoured exactly between two mappings: [+12, +13) MiB. */
    CU_ASSERT_EQUAL(reserve(os, BASE + 12 * MIB, MIB, PAGE), BASE + 12 * MIB);
    CU_ASSERT_EQUAL(C(os)->reserves, 7);
    CU_ASSERT_EQUAL(C(os)->mapped_bytes, 6 * HUGE + MIB);
    /* Too big for the address space: AS_ENOSPACE, nothing changes. */
    CU_ASSERT_EQUAL(
        as_ps_reserve(as_simos_pagesource(os), 0, (size_t)1 << 62, PAGE, &a),
        AS_ENOSPACE);
    CU_ASSERT_EQUAL(C(os)->reserves, 7);
    as_simos_destroy(os);
}

/* Two address spaces given the same calls hand out the same addresses;
 * after an unreserve the freed range is reused first. */
static void run_reuse(uintptr_t out[6])
{
    as_simos_t *os = mk(AS_THP_ALWAYS);
    const as_pagesource_t *ps = as_simos_pagesource(os);
    out[0] = reserve(os, 0, 3 * PAGE, PAGE);
    out[1] = reserve(os, 0, 5 * PAGE, PAGE);
    out[2] = reserve(os, 0, HUGE, HUGE);
    CU_ASSERT_EQUAL(as_ps_unreserve(ps, out[0], 3 * PAGE), 0);
    out[3] = reserve(os, 0, 2 * PAGE, PAGE); /* reuses out[0] */
    out[4] = reserve(os, 0, 2 * PAGE, PAGE); /* out[0]+8K..: only 1 left */
    out[5] = reserve(os, 0, PAGE, PAGE);     /* the page left at out[0]+8K */
    CU_ASSERT(as_simos_check(os) == 0);
    as_simos_destroy(os);
}

static void test_reuse_deterministic(void)
{
    uintptr_t x[6], y[6];
    run_reuse(x);
    run_reuse(y);
    CU_ASSERT_EQUAL(memcmp(x, y, sizeof x), 0);
    CU_ASSERT_EQUAL(x[0], BASE);
    CU_ASSERT_EQUAL(x[1], BASE + 3 * PAGE);
    CU_ASSERT_EQUAL(x[2], BASE + HUGE);
    CU_ASSERT_EQUAL(x[3], BASE);
    CU_ASSERT_EQUAL(x[4], BASE + 8 * PAGE);
    CU_ASSERT_EQUAL(x[5], BASE + 2 * PAGE);
}

static void test_errors(void)
{
    as_simos_t *os = mk(AS_THP_ALWAYS);
    const as_pagesource_t *ps = as_simos_pagesource(os);
    uintptr_t a, b;
    /* Nothing mapped: every access is refused. */
    CU_ASSERT_EQUAL(as_simos_touch(os, BASE, 1), AS_EINVAL);
    CU_ASSERT_EQUAL(as_simos_region(os, BASE, NULL, NULL, NULL), AS_EINVAL);
    a = reserve(os, 0, 4 * PAGE, PAGE);
    CU_ASSERT_EQUAL(as_simos_touch(os, a - 1, 1), AS_EINVAL); /* below */
    CU_ASSERT_EQUAL(as_simos_touch(os, a, 4 * PAGE + 1), AS_EINVAL);
    CU_ASSERT_EQUAL(as_simos_touch(os, a + 64 * MIB, 1), AS_EINVAL);
    CU_ASSERT_EQUAL(as_simos_touch(os, a, SIZE_MAX), AS_EINVAL);
    CU_ASSERT_EQUAL(as_simos_touch(os, a + 5, 0), 0); /* empty: no-op */
    CU_ASSERT_EQUAL(C(os)->resident_bytes, 0);
    /* Sizes and addresses not page multiples. */
    CU_ASSERT_EQUAL(as_ps_reserve(ps, 0, 100, PAGE, &b), AS_EINVAL);
    CU_ASSERT_EQUAL(as_ps_reserve(ps, 0, 0, PAGE, &b), AS_EINVAL);
    CU_ASSERT_EQUAL(as_ps_reserve(ps, 0, PAGE, 3 * PAGE, &b), AS_EINVAL);
    CU_ASSERT_EQUAL(as_ps_release(ps, a, 100), AS_EINVAL);
    CU_ASSERT_EQUAL(as_ps_release(ps, a + 1, PAGE), AS_EINVAL);
    CU_ASSERT_EQUAL(as_ps_unreserve(ps, a, PAGE + 1), AS_EINVAL);
    CU_ASSERT_EQUAL(as_ps_unreserve(ps, a, 0), AS_EINVAL);
    /* Ranges running past the mapping: refused, state unchanged. */
    CU_ASSERT_EQUAL(as_simos_touch(os, a, PAGE), 0);
    CU_ASSERT_EQUAL(as_ps_release(ps, a, 5 * PAGE), AS_EINVAL);
    CU_ASSERT_EQUAL(as_ps_unreserve(ps, a + PAGE, 4 * PAGE), AS_EINVAL);
    CU_ASSERT_EQUAL(as_ps_hugepage_hint(ps, a, 8 * PAGE, 1), AS_EINVAL);
    CU_ASSERT_EQUAL(as_ps_release(ps, 0, PAGE), AS_EINVAL);
    CU_ASSERT_EQUAL(as_ps_unreserve(ps, UINTPTR_MAX - PAGE + 1, PAGE),
                    AS_EINVAL);
    const as_simos_counters_t *c = C(os);
    CU_ASSERT_EQUAL(c->mapped_bytes, 16384);
    CU_ASSERT_EQUAL(c->resident_bytes, 4096);
    CU_ASSERT_EQUAL(c->releases + c->unreserves, 0);
    /* Double unreserve: the second is refused. */
    CU_ASSERT_EQUAL(as_ps_unreserve(ps, a, 4 * PAGE), 0);
    CU_ASSERT_EQUAL(as_ps_unreserve(ps, a, 4 * PAGE), AS_EINVAL);
    CU_ASSERT_EQUAL(as_simos_touch(os, a, 1), AS_EINVAL);
    /* No page of the region is mapped any more: its state is gone (page
     * state is kept only for mapped regions), so the view refuses it. */
    uint32_t m = 9, r = 9;
    CU_ASSERT_EQUAL(as_simos_region(os, a, &m, &r, NULL), AS_EINVAL);
    CU_ASSERT(m == 9 && r == 9);
    CU_ASSERT_EQUAL(C(os)->mapped_bytes, 0);
    /* and its host memory is back to the empty space's: one free range */
    CU_ASSERT_EQUAL(as_simos_check(os), 0);
    as_simos_destroy(os);
}

/* The metadata arena counts live bytes exactly and its peak; memory is
 * zeroed and 16-byte aligned. */
static void test_meta_arena(void)
{
    as_simos_t *os = mk(AS_THP_ALWAYS);
    const as_mem_t *m = &as_simos_pagesource(os)->meta;
    unsigned char *p = as_mem_alloc(m, 100);
    unsigned char *q = as_mem_alloc(m, 200);
    CU_ASSERT_FATAL(p && q);
    CU_ASSERT_EQUAL((uintptr_t)p % 16, 0);
    CU_ASSERT_EQUAL((uintptr_t)q % 16, 0);
    int zero = 1;
    for (int i = 0; i < 200; i++)
        zero &= q[i] == 0;
    CU_ASSERT(zero);
    CU_ASSERT_EQUAL(C(os)->meta_bytes, 300);
    as_mem_free(m, p, 100);
    CU_ASSERT_EQUAL(C(os)->meta_bytes, 200);
    void *r = as_mem_alloc(m, 50);
    CU_ASSERT_EQUAL(C(os)->meta_bytes, 250);
    CU_ASSERT_EQUAL(C(os)->peak_meta_bytes, 300);
    as_mem_free(m, q, 200);
    as_mem_free(m, r, 50);
    as_mem_free(m, NULL, 7);
    CU_ASSERT_EQUAL(C(os)->meta_bytes, 0);
    CU_ASSERT_EQUAL(C(os)->peak_meta_bytes, 300);
    CU_ASSERT_EQUAL(C(os)->mapped_bytes, 0);
    as_simos_destroy(os);
}

/* ---- randomized sequence ---------------------------------------------- */

#define MODEL_PAGES (1u << 17) /* 512 MiB of address space above base */

static uint64_t rng_state;
static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

typedef struct {
    uint64_t first, pages; /* relative page index and length */
} span_t;

/* Lowest page index p, aligned to align_pages, with pages free in model. */
static uint64_t model_first_fit(const uint8_t *mapped, uint64_t pages,
                                uint64_t align_pages)
{
    for (uint64_t p = 0; p + pages <= MODEL_PAGES; p += align_pages) {
        uint64_t k = 0;
        while (k < pages && !mapped[p + k])
            k++;
        if (k == pages) return p;
    }
    return UINT64_MAX;
}

/* Highest page index p, aligned to align_pages, with pages free in model
 * below it ending at the top of a free run of at least need pages (the
 * top-down layout: the highest gap of need pages, the mapping at its top,
 * aligned down). UINT64_MAX when no run is long enough. */
static uint64_t model_top_fit(const uint8_t *mapped, uint64_t pages,
                              uint64_t align_pages, uint64_t need)
{
    uint64_t end = MODEL_PAGES;
    while (end > 0) {
        while (end > 0 && mapped[end - 1])
            end--;
        uint64_t start = end;
        while (start > 0 && !mapped[start - 1])
            start--;
        if (end - start >= need)
            return (end - pages) / align_pages * align_pages;
        end = start;
    }
    return UINT64_MAX;
}

/* Where the layout under test puts a reservation without a free hint. */
static uint64_t model_fit(const uint8_t *mapped, uint64_t pages,
                          uint64_t align_pages)
{
    if (layout == AS_MMAP_BOTTOMUP)
        return model_first_fit(mapped, pages, align_pages);
    uint64_t p = UINT64_MAX;
    if (align_pages == 1 && pages % 512 == 0) /* THP-aligned when it fits */
        p = model_top_fit(mapped, pages, 512, pages + 512);
    if (p == UINT64_MAX)
        p = model_top_fit(mapped, pages, align_pages, pages + align_pages - 1);
    return p;
}

/* Random reserve/release/unreserve/touch/hint/scan, checked after every
 * step: as_simos_check (counters against bitmaps, free ranges against
 * mapped pages), the mapped page count of every region against a byte-per-
 * page model, and first-fit placement against a brute-force search.
 * @return a digest of all addresses and final counters. */
static uint64_t random_run(uint64_t seed, as_thp_mode_t thp)
{
    as_simos_config_t cfg;
    cfg_default(&cfg);
    cfg.thp = thp;
    cfg.max_ptes_none = 256;
    cfg.scan_regions = 2;
    as_simos_t *os;
    CU_ASSERT_FATAL(as_simos_create(&cfg, &os) == 0);
    const as_pagesource_t *ps = as_simos_pagesource(os);
    uint8_t *model = calloc(MODEL_PAGES, 1);
    span_t live[256];
    size_t n_live = 0;
    uint64_t digest = 0, bad = 0, einval = 0;
    rng_state = seed;
    /* The model's window: 512 MiB from BASE upward, or under top-down the
     * 512 MiB below mmap_base rounded down to 2 MiB, with the pages between
     * that and mmap_base mapped first so that the window's top is the
     * highest free address below mmap_base. */
    uintptr_t org = BASE, top = AS_SIMOS_MMAP_BASE & ~(uintptr_t)(HUGE - 1);
    uint64_t sliver = AS_SIMOS_MMAP_BASE - top;
    if (layout == AS_MMAP_TOPDOWN) {
        org = top - (uintptr_t)MODEL_PAGES * PAGE;
        CU_ASSERT_EQUAL(reserve(os, top, sliver, PAGE), top);
    } else {
        sliver = 0;
    }

    for (int step = 0; step < 10000; step++) {
        unsigned op = (unsigned)(rnd() % 100);
        if ((op < 20 && n_live < 256) || n_live == 0) {
            /* two draws in sequence (operand order is unspecified in C) */
            uint64_t big = rnd() % 4 == 0;
            uint64_t pages = 1 + rnd() % (big ? 1200 : 64);
            uint64_t align_pages = rnd() % 3 ? 1 : 512;
            uintptr_t hint = 0;
            uint64_t hpage = rnd() % (MODEL_PAGES / align_pages) * align_pages;
            if (rnd() % 4 == 0 && hpage + pages <= MODEL_PAGES)
                hint = org + hpage * PAGE;
            uint64_t expect;
            uint64_t hp = hint ? (hint - org) / PAGE : 0;
            int hint_ok = hint && hp + pages <= MODEL_PAGES;
            for (uint64_t k = 0; hint_ok && k < pages; k++)
                if (model[hp + k]) hint_ok = 0;
            expect = hint_ok ? hp : model_fit(model, pages, align_pages);
            CU_ASSERT_FATAL(expect != UINT64_MAX);
            uintptr_t a;
            int rc =
                as_ps_reserve(ps, hint, pages * PAGE, align_pages * PAGE, &a);
            CU_ASSERT_FATAL(rc == 0);
            if (a != org + expect * PAGE) bad++;
            memset(model + expect, 1, pages);
            live[n_live++] = (span_t){expect, pages};
            digest = digest * 31 + a;
        } else if (op < 70) {
            /* touch a random byte range inside a live span, sometimes just
             * past its end (refused unless the next page is mapped) */
            span_t s = live[rnd() % n_live];
            uint64_t off = rnd() % (s.pages * PAGE);
            uint64_t longer = rnd() % 8 == 0;
            uint64_t len = 1 + rnd() % (longer ? 3 * PAGE : 256);
            int over = off + len > s.pages * PAGE;
            int rc = as_simos_touch(os, org + s.first * PAGE + off, len);
            if (!over) {
                CU_ASSERT(rc == 0);
            } else {
                /* (past the window's top: the sliver, mapped under
                 * top-down, at most 3 pages past) */
                uint64_t lastp = s.first + (off + len - 1) / PAGE;
                int all = 1;
                for (uint64_t p = s.first + s.pages; p <= lastp; p++)
                    all &= p < MODEL_PAGES ? model[p] : sliver > 0;
                CU_ASSERT(rc == (all ? 0 : AS_EINVAL));
                einval += rc != 0;
            }
        } else if (op < 80) {
            span_t s = live[rnd() % n_live];
            uint64_t f = s.first + rnd() % s.pages;
            uint64_t n = 1 + rnd() % (s.first + s.pages - f);
            CU_ASSERT(as_ps_release(ps, org + f * PAGE, n * PAGE) == 0);
        } else if (op < 90) {
            /* unreserve a head, tail, middle or all of a live span */
            size_t i = rnd() % n_live;
            span_t s = live[i];
            uint64_t f = s.first + rnd() % s.pages;
            uint64_t n = 1 + rnd() % (s.first + s.pages - f);
            if (rnd() % 3 == 0) f = s.first, n = s.pages;
            CU_ASSERT(as_ps_unreserve(ps, org + f * PAGE, n * PAGE) == 0);
            memset(model + f, 0, n);
            live[i] = live[--n_live];
            if (f > s.first && n_live < 256)
                live[n_live++] = (span_t){s.first, f - s.first};
            /* (a piece that does not fit in the list stays mapped, unused) */
            if (f + n < s.first + s.pages && n_live < 256)
                live[n_live++] = (span_t){f + n, s.first + s.pages - f - n};
        } else if (op < 95) {
            span_t s = live[rnd() % n_live];
            CU_ASSERT(as_ps_hugepage_hint(ps, org + s.first * PAGE,
                                          s.pages * PAGE,
                                          (int)(rnd() % 4 != 0)) == 0);
        } else if (op < 98) {
            as_simos_khugepaged_scan(os);
        } else {
            /* unmapped access: an address in a model-free page */
            uint64_t p = rnd() % MODEL_PAGES;
            if (!model[p]) {
                CU_ASSERT(as_simos_touch(os, org + p * PAGE, 1) == AS_EINVAL);
                CU_ASSERT(as_ps_release(ps, org + p * PAGE, PAGE) == AS_EINVAL);
                CU_ASSERT(as_ps_unreserve(ps, org + p * PAGE, PAGE) ==
                          AS_EINVAL);
            }
        }
        if (as_simos_check(os) != 0) bad++;
        /* mapped pages per region against the model, where touched */
        if (step % 64 == 0) {
            for (uint64_t r = 0; r < MODEL_PAGES / 512; r++) {
                uint32_t m = 0, want = 0;
                for (uint64_t k = 0; k < 512; k++)
                    want += model[r * 512 + k];
                if (as_simos_region(os, org + r * HUGE, &m, NULL, NULL) != 0)
                    m = 0;
                if (m != want) bad++;
            }
        }
    }
    CU_ASSERT_EQUAL(bad, 0);
    const as_simos_counters_t *c = as_simos_counters(os);
    uint64_t mapped_model = 0;
    for (uint64_t p = 0; p < MODEL_PAGES; p++)
        mapped_model += model[p];
    CU_ASSERT_EQUAL(c->mapped_bytes, mapped_model * PAGE + sliver);
    /* The sequence must have exercised the interesting paths. */
    CU_ASSERT(c->releases > 500 && c->unreserves > 500);
    CU_ASSERT(einval > 0);
    if (thp != AS_THP_NEVER) {
        CU_ASSERT(c->huge_faults > 0);
        CU_ASSERT(c->splits > 0);
        CU_ASSERT(c->collapses > 0);
    } else {
        CU_ASSERT_EQUAL(c->huge_faults + c->collapses + c->splits, 0);
    }
    if (getenv("AS_TEST_VERBOSE"))
        fprintf(stderr,
                "thp %d: res %llu huge %llu hf %llu pf %llu splits %llu "
                "coll %llu rel %llu unres %llu einval %llu\n",
                (int)thp, (unsigned long long)c->resident_bytes,
                (unsigned long long)c->huge_bytes,
                (unsigned long long)c->huge_faults,
                (unsigned long long)c->page_faults,
                (unsigned long long)c->splits, (unsigned long long)c->collapses,
                (unsigned long long)c->releases,
                (unsigned long long)c->unreserves, (unsigned long long)einval);
    digest = digest * 31 + c->resident_bytes;
    digest = digest * 31 + c->huge_bytes;
    digest = digest * 31 + c->splits;
    digest = digest * 31 + c->collapses;
    digest = digest * 31 + c->page_faults;
    free(model);
    as_simos_destroy(os);
    return digest;
}

static void test_random_sequence(void)
{
    uint64_t a = random_run(0x9e3779b97f4a7c15ull, AS_THP_ALWAYS);
    uint64_t b = random_run(0x9e3779b97f4a7c15ull, AS_THP_ALWAYS);
    CU_ASSERT_EQUAL(a, b); /* deterministic */
    random_run(12345, AS_THP_MADVISE);
    random_run(777, AS_THP_NEVER);
}

/* The tests whose figures do not depend on where a reservation lands, run
 * again under the top-down layout. */
#define TOPDOWN(fn)                                                            \
    static void fn##_topdown(void)                                             \
    {                                                                          \
        layout = AS_MMAP_TOPDOWN;                                              \
        fn();                                                                  \
        layout = AS_MMAP_BOTTOMUP;                                             \
    }
TOPDOWN(test_partial_release_splits)
TOPDOWN(test_full_release_no_split)
TOPDOWN(test_khugepaged_collapse)
TOPDOWN(test_khugepaged_after_split)
TOPDOWN(test_errors)
TOPDOWN(test_meta_arena)
TOPDOWN(test_random_sequence)

int main(void)
{
    static const as_test_t tests[] = {
        {"defaults", test_defaults},
        {"thp_always_vs_never", test_thp_always_vs_never},
        {"thp_madvise", test_thp_madvise},
        {"partial_region_not_huge", test_partial_region_not_huge},
        {"partial_release_splits", test_partial_release_splits},
        {"full_release_no_split", test_full_release_no_split},
        {"unreserve_part", test_unreserve_part},
        {"khugepaged_collapse", test_khugepaged_collapse},
        {"khugepaged_after_split", test_khugepaged_after_split},
        {"khugepaged_round_robin", test_khugepaged_round_robin},
        {"reserve_hint", test_reserve_hint},
        {"reuse_deterministic", test_reuse_deterministic},
        {"errors", test_errors},
        {"meta_arena", test_meta_arena},
        {"random_sequence", test_random_sequence},
        {"topdown_placement", test_topdown_placement},
        {"partial_release_splits_topdown", test_partial_release_splits_topdown},
        {"full_release_no_split_topdown", test_full_release_no_split_topdown},
        {"khugepaged_collapse_topdown", test_khugepaged_collapse_topdown},
        {"khugepaged_after_split_topdown", test_khugepaged_after_split_topdown},
        {"errors_topdown", test_errors_topdown},
        {"meta_arena_topdown", test_meta_arena_topdown},
        {"random_sequence_topdown", test_random_sequence_topdown},
        {NULL, NULL}};
    return as_test_main("sim_simos", tests);
}

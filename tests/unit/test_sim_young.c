/* test_sim_young.c - khugepaged's access-bit rule (sim/simos.c) against
 * answers computed by hand: a region collapses only with a young page
 * (os.khugepaged_referenced, Linux's SCAN_LACK_REFERENCED_PAGE), a young
 * page that is released stops counting, young_clear=scan clears the bits
 * of every region a wake-up examines without collapsing it (huge ones
 * included, so a cold huge page that is split leaves old pages), and with
 * young_clear=never (the default) the rule decides as "one resident page"
 * did before it existed.
 *
 * Layout of every case: 4 MiB reserved at a 2 MiB boundary, regions R0 =
 * [a, a+2M) and R1 = [a+2M, a+4M); THP always, max_ptes_none 511,
 * scan_regions 8 (each wake-up examines both regions once).
 */
#include <stdint.h>

#include "common/error.h"
#include "sim/phys.h"
#include "sim/simos.h"
#include "tests/unit/testutil.h"

#define PAGE ((uint64_t)4096)
#define HUGE ((uint64_t)2 * 1024 * 1024)

/* A simos with the rule on or off, `clear`, and the machine ph (NULL:
 * unlimited physical memory). */
static as_simos_t *mk_on(int referenced, as_young_clear_t clear, as_phys_t *ph)
{
    as_simos_config_t cfg;
    as_simos_config_default(&cfg);
    cfg.khugepaged_referenced = referenced;
    cfg.young_clear = clear;
    cfg.phys = ph;
    as_simos_t *os = NULL;
    CU_ASSERT_FATAL(as_simos_create(&cfg, &os) == 0);
    return os;
}

static as_simos_t *mk(int referenced, as_young_clear_t clear)
{
    return mk_on(referenced, clear, NULL);
}

static uint32_t young(as_simos_t *os, uintptr_t addr)
{
    uint32_t y = 9999;
    CU_ASSERT(as_simos_check(os) == 0);
    CU_ASSERT_FATAL(as_simos_region_young(os, addr, &y) == 0);
    return y;
}

static uint32_t resident(as_simos_t *os, uintptr_t addr)
{
    uint32_t r = 9999;
    CU_ASSERT_FATAL(as_simos_region(os, addr, NULL, &r, NULL) == 0);
    return r;
}

static int huge(as_simos_t *os, uintptr_t addr)
{
    int h = -1;
    CU_ASSERT_FATAL(as_simos_region(os, addr, NULL, NULL, &h) == 0);
    return h;
}

static void release(as_simos_t *os, uintptr_t addr, uint64_t bytes)
{
    CU_ASSERT_FATAL(as_ps_release(as_simos_pagesource(os), addr, bytes) == 0);
}

/* Both regions faulted in huge, one wake-up (which clears the bits with
 * young_clear=scan), R1 touched again, then page 0 of each released (two
 * splits). @return a. */
static uintptr_t cold_and_hot(as_simos_t *os)
{
    uintptr_t a = 0;
    CU_ASSERT_FATAL(
        as_ps_reserve(as_simos_pagesource(os), 0, 2 * HUGE, HUGE, &a) == 0);
    CU_ASSERT(as_simos_touch(os, a, 8) == 0);
    CU_ASSERT(as_simos_touch(os, a + HUGE, 8) == 0);
    CU_ASSERT_EQUAL(as_simos_counters(os)->huge_faults, 2);
    CU_ASSERT_EQUAL(young(os, a), 512);
    CU_ASSERT_EQUAL(young(os, a + HUGE), 512);
    /* both huge: nothing to collapse */
    CU_ASSERT_EQUAL(as_simos_khugepaged_scan(os), 0);
    /* R1 touched at one byte: its pmd is young again, all 512 bits */
    CU_ASSERT(as_simos_touch(os, a + HUGE + 100, 1) == 0);
    CU_ASSERT_EQUAL(young(os, a + HUGE), 512);
    release(os, a, PAGE);
    release(os, a + HUGE, PAGE);
    CU_ASSERT_EQUAL(as_simos_counters(os)->splits, 2);
    CU_ASSERT_EQUAL(resident(os, a), 511);
    CU_ASSERT_EQUAL(resident(os, a + HUGE), 511);
    return a;
}

/* young_clear=scan, rule on: the wake-up cleared both huge regions' bits;
 * R1 was touched since, R0 was not. After the splits R0 has 511 old pages
 * (skipped), R1 511 young ones (collapsed). */
static void test_cold_region_skipped(void)
{
    as_simos_t *os = mk(1, AS_YOUNG_CLEAR_SCAN);
    uintptr_t a = cold_and_hot(os);
    CU_ASSERT_EQUAL(young(os, a), 0);
    CU_ASSERT_EQUAL(young(os, a + HUGE), 511);
    CU_ASSERT_EQUAL(as_simos_khugepaged_scan(os), 1);
    CU_ASSERT_EQUAL(huge(os, a), 0);
    CU_ASSERT_EQUAL(huge(os, a + HUGE), 1);
    CU_ASSERT_EQUAL(resident(os, a), 511);
    CU_ASSERT_EQUAL(as_simos_counters(os)->collapses, 1);
    /* R0: a page touched and then released leaves no young page: still
     * skipped (the pte is none, its bit gone with it) */
    CU_ASSERT(as_simos_touch(os, a + PAGE, 8) == 0);
    CU_ASSERT_EQUAL(young(os, a), 1);
    release(os, a + PAGE, PAGE);
    CU_ASSERT_EQUAL(young(os, a), 0);
    CU_ASSERT_EQUAL(resident(os, a), 510);
    CU_ASSERT_EQUAL(as_simos_khugepaged_scan(os), 0);
    CU_ASSERT_EQUAL(huge(os, a), 0);
    /* one resident page touched: referenced = 1, collapsed (filling the 2
     * none pages: 510 -> 512 resident) */
    CU_ASSERT(as_simos_touch(os, a + 2 * PAGE, 8) == 0);
    CU_ASSERT_EQUAL(young(os, a), 1);
    CU_ASSERT_EQUAL(as_simos_khugepaged_scan(os), 1);
    CU_ASSERT_EQUAL(huge(os, a), 1);
    CU_ASSERT_EQUAL(resident(os, a), 512);
    CU_ASSERT_EQUAL(young(os, a), 512);
    CU_ASSERT_EQUAL(as_simos_counters(os)->collapses, 2);
    CU_ASSERT_EQUAL(as_simos_counters(os)->resident_bytes, 1024 * PAGE);
    as_simos_destroy(os);
}

/* The same calls with the rule off: both split regions collapse at the
 * second wake-up (one resident page is enough). */
static void test_rule_off_collapses_both(void)
{
    as_simos_t *os = mk(0, AS_YOUNG_CLEAR_SCAN);
    uintptr_t a = cold_and_hot(os);
    CU_ASSERT_EQUAL(young(os, a), 0);
    CU_ASSERT_EQUAL(as_simos_khugepaged_scan(os), 2);
    CU_ASSERT_EQUAL(huge(os, a), 1);
    CU_ASSERT_EQUAL(huge(os, a + HUGE), 1);
    CU_ASSERT_EQUAL(as_simos_counters(os)->collapses, 2);
    as_simos_destroy(os);
}

/* The defaults (rule on, young_clear never): nothing clears a bit, so
 * every resident page is young and both regions collapse, as before the
 * rule existed. */
static void test_default_never_clears(void)
{
    as_simos_config_t cfg;
    as_simos_config_default(&cfg);
    CU_ASSERT_EQUAL(cfg.khugepaged_referenced, 1);
    CU_ASSERT_EQUAL(cfg.young_clear, AS_YOUNG_CLEAR_NEVER);
    as_simos_t *os = mk(1, AS_YOUNG_CLEAR_NEVER);
    uintptr_t a = cold_and_hot(os);
    CU_ASSERT_EQUAL(young(os, a), 511);
    CU_ASSERT_EQUAL(young(os, a + HUGE), 511);
    CU_ASSERT_EQUAL(as_simos_khugepaged_scan(os), 2);
    CU_ASSERT_EQUAL(as_simos_counters(os)->collapses, 2);
    as_simos_destroy(os);
}

/* Touches over an extent of several regions that the scan aged: the bits
 * come back region by region and the extents stay consistent. 8 regions
 * reserved (16 MiB), all faulted huge; one wake-up ages all 8; a touch of
 * regions 2 and 5 makes exactly those young again. */
static void test_aging_splits_extents(void)
{
    as_simos_t *os = mk(1, AS_YOUNG_CLEAR_SCAN);
    uintptr_t a = 0;
    CU_ASSERT_FATAL(
        as_ps_reserve(as_simos_pagesource(os), 0, 8 * HUGE, HUGE, &a) == 0);
    CU_ASSERT(as_simos_touch(os, a, 8 * HUGE) == 0);
    CU_ASSERT_EQUAL(as_simos_counters(os)->huge_faults, 8);
    CU_ASSERT_EQUAL(as_simos_khugepaged_scan(os), 0);
    for (int i = 0; i < 8; i++)
        CU_ASSERT_EQUAL(young(os, a + (uint64_t)i * HUGE), 0);
    CU_ASSERT(as_simos_touch(os, a + 2 * HUGE + 5, 1) == 0);
    CU_ASSERT(as_simos_touch(os, a + 5 * HUGE + 7, 1) == 0);
    for (int i = 0; i < 8; i++)
        CU_ASSERT_EQUAL(young(os, a + (uint64_t)i * HUGE),
                        i == 2 || i == 5 ? 512u : 0u);
    as_simos_destroy(os);
}

/* The same as cold_region_skipped on a machine of 16 MiB (os.phys_mem):
 * the touch goes through the machine's fault path, which must set the
 * accessed bits as the plain one does. Both regions fault huge (free
 * order-9 blocks exist), one wake-up ages them, R1 is touched again, the
 * splits leave R0 old and R1 young: one collapse (R1), R0 skipped. */
static void test_with_phys(void)
{
    as_phys_config_t pc = {.mem_bytes = 16 * 1024 * 1024};
    as_phys_t *ph = NULL;
    CU_ASSERT_FATAL(as_phys_create(&pc, &ph) == 0);
    as_simos_t *os = mk_on(1, AS_YOUNG_CLEAR_SCAN, ph);
    uintptr_t a = cold_and_hot(os);
    CU_ASSERT_EQUAL(young(os, a), 0);
    CU_ASSERT_EQUAL(young(os, a + HUGE), 511);
    CU_ASSERT_EQUAL(as_simos_khugepaged_scan(os), 1);
    CU_ASSERT_EQUAL(huge(os, a), 0);
    CU_ASSERT_EQUAL(huge(os, a + HUGE), 1);
    /* a 4 KiB touch in the split region marks that page young */
    CU_ASSERT(as_simos_touch(os, a + PAGE, 8) == 0);
    CU_ASSERT_EQUAL(young(os, a), 1);
    as_simos_destroy(os);
    as_phys_destroy(ph);
}

int main(void)
{
    static const as_test_t tests[] = {
        {"cold_region_skipped", test_cold_region_skipped},
        {"rule_off_collapses_both", test_rule_off_collapses_both},
        {"default_never_clears", test_default_never_clears},
        {"aging_splits_extents", test_aging_splits_extents},
        {"with_phys", test_with_phys},
        {NULL, NULL}};
    return as_test_main("sim_young", tests);
}

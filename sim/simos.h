/* simos.h - the simulated Linux memory below a policy.
 *
 * Type map
 *   as_simos_t         one simulated process address space
 *   as_simos_config_t  THP mode, khugepaged knobs, address-space base
 *   as_simos_counters_t exact byte counts and event counts
 *
 * Model (docs/metrics.md and docs/simos.md hold the full statement):
 *   - reserve maps fresh non-resident 4 KiB pages; release makes pages
 *     non-resident (MADV_DONTNEED) but keeps them mapped; unreserve unmaps.
 *   - A page becomes resident when the program touches it: the engine calls
 *     as_simos_touch() for the bytes of every allocation.
 *   - THP: on a first touch inside an aligned 2 MiB region that is fully
 *     mapped and THP-eligible (mode always, or madvise and the region hinted),
 *     the whole region faults in as one huge page (all 512 pages resident).
 *   - Releasing or unmapping part of a huge page splits it: it is no longer
 *     huge, the untouched rest stays resident as 4 KiB pages.
 *   - Every resident page has an accessed (young) bit: set by a touch and
 *     by a huge fault or collapse (a huge region's 512 bits move together,
 *     as its pmd's one bit), gone with the page; cleared by nothing
 *     (young_clear never) or by a khugepaged visit that does not collapse
 *     (scan).
 *   - khugepaged (as_simos_khugepaged_scan, driven by an engine timer) scans
 *     `scan_regions` regions per wake-up, round robin by address, and
 *     collapses an eligible, fully mapped, non-huge region with at least one
 *     young page (khugepaged_referenced; else one resident page) and at
 *     most max_ptes_none non-resident pages into a huge page (making all
 *     its pages resident).
 *   - Metadata from the policy's arena (as_pagesource_t.meta) is real host
 *     memory; its bytes are counted separately.
 * Invariants: huge_bytes <= resident_bytes <= mapped_bytes;
 *   huge_bytes == 2 MiB * (number of regions whose flag is huge).
 *   - A reservation goes to its hint when that range is free, otherwise
 *     where Linux's mmap layout puts it (os.mmap_layout): by default
 *     top-down, the highest fit below mmap_base, which is the top of the
 *     simulated space; or bottom-up, the lowest fit above base.
 * Everything is deterministic: addresses depend only on the call sequence.
 */
#ifndef AS_SIM_SIMOS_H
#define AS_SIM_SIMOS_H

#include <stddef.h>
#include <stdint.h>

#include "common/param.h"
#include "policies/pagesource.h"
#include "sim/phys.h"
#include "sim/tenants.h"

typedef enum {
    AS_THP_NEVER = 0,
    AS_THP_MADVISE = 1,
    AS_THP_ALWAYS = 2
} as_thp_mode_t;

/* /sys/kernel/mm/transparent_hugepage/defrag: what a THP fault does when
 * no free order-9 block exists (only with a phys attached). */
typedef enum {
    AS_DEFRAG_ALWAYS = 0,        /* direct compaction, for every region */
    AS_DEFRAG_DEFER = 1,         /* fall back now, wake kcompactd */
    AS_DEFRAG_DEFER_MADVISE = 2, /* direct for MADV_HUGEPAGE, else defer */
    AS_DEFRAG_MADVISE = 3,       /* direct for MADV_HUGEPAGE, else fall back */
    AS_DEFRAG_NEVER = 4          /* fall back, no compaction */
} as_defrag_t;
/* What clears the accessed (young) bits khugepaged reads. Linux's
 * khugepaged only tests them; reclaim's LRU aging, idle-page tracking and
 * DAMON clear them. */
typedef enum {
    AS_YOUNG_CLEAR_NEVER = 0, /* nothing: a page stays young while resident
                                 (Linux with no memory pressure) */
    AS_YOUNG_CLEAR_SCAN = 1   /* each khugepaged visit of a region that it
                                 does not collapse */
} as_young_clear_t;

/* Where reserve places a mapping that has no (free) hint: Linux x86-64's
 * two layouts (arch/x86/mm/mmap.c, arch_pick_mmap_layout; docs/simos.md,
 * "Address space"). */
typedef enum {
    AS_MMAP_TOPDOWN = 0, /* the highest fit below mmap_base (Linux's
                            default); falls back to bottom-up */
    AS_MMAP_BOTTOMUP = 1 /* the lowest fit above base (the legacy layout) */
} as_mmap_layout_t;

/* Which bytes of an allocation the replayed program writes (os.writes;
 * docs/simos.md, "Written pages"). Read by the engine, not the simos. */
typedef enum {
    AS_WRITES_AUTO = 0,    /* RECORDED when the trace's meta says
                              record.writes=pagemap, else ALLOC */
    AS_WRITES_ALLOC = 1,   /* every byte, at allocation (and the part a
                              realloc grows or copies) */
    AS_WRITES_RECORDED = 2 /* objects of size >= record.writes_min_bytes:
                              the trace's write reports, where they are;
                              smaller objects: as ALLOC */
} as_writes_mode_t;

/* mmap_base of the top-down layout: x86-64 Linux's with ASLR off and a
 * stack limit below 127 MiB, TASK_SIZE (2^47 - 4 KiB) - 128 MiB. */
#define AS_SIMOS_MMAP_BASE ((uintptr_t)0x7ffff7fff000ull)

typedef struct {
    as_thp_mode_t thp;            /* default AS_THP_ALWAYS */
    int khugepaged;               /* 1 = model khugepaged (default 1) */
    uint32_t max_ptes_none;       /* default 511, as Linux */
    uint64_t scan_interval_ns;    /* default 10 s (scan_sleep_millisecs) */
    uint32_t scan_regions;        /* regions per wake-up; default 8 (4096
                                  pages_to_scan / 512) */
    int khugepaged_referenced;    /* 1 = collapse needs a young page (default
                                  1, as Linux) */
    as_young_clear_t young_clear; /* default AS_YOUNG_CLEAR_NEVER */
    as_mmap_layout_t mmap_layout; /* default AS_MMAP_TOPDOWN */
    uintptr_t base;               /* lowest address handed out; default
                                  0x100000000000 (2 MiB aligned) */
    /* Physical memory below this process (several simos may share one), or
     * NULL: unlimited physical memory, every fault succeeds (the default). */
    as_phys_t *phys;
    as_defrag_t defrag;    /* default AS_DEFRAG_MADVISE, as Linux */
    int khugepaged_defrag; /* 1: a collapse may compact (default, as Linux) */
    /* Read by the engine, not by the simos: the size of the as_phys_t the
     * engine creates (0 = none, the default), the period of the machine's
     * timer (kcompactd and the tenants' steps) and the tenants. */
    uint64_t phys_mem_bytes;
    uint64_t phys_interval_ns;   /* default 100 ms */
    as_tenants_config_t tenants; /* default: none (both levels 0) */
    as_writes_mode_t writes;     /* default AS_WRITES_AUTO (engine's) */
} as_simos_config_t;

typedef struct {
    uint64_t mapped_bytes;   /* reserved and not unreserved */
    uint64_t resident_bytes; /* touched and not released (heap only) */
    uint64_t huge_bytes;     /* resident bytes backed by huge pages */
    uint64_t meta_bytes;     /* live metadata-arena bytes */
    uint64_t peak_meta_bytes;
    uint64_t reserves, releases, unreserves; /* calls */
    uint64_t released_bytes; /* resident bytes dropped by release */
    uint64_t huge_faults;    /* huge pages faulted in on first touch */
    uint64_t splits;         /* huge pages split by a partial release/unmap */
    uint64_t collapses;      /* khugepaged collapses */
    uint64_t page_faults;    /* 4 KiB pages faulted in individually */
    /* with a phys attached (all 0 otherwise): */
    uint64_t thp_fault_fallbacks; /* huge faults served by 4 KiB pages */
    uint64_t compact_stalls;      /* direct compactions by a fault/collapse */
    uint64_t collapse_failures;   /* khugepaged found no order-9 block */
    uint64_t frames;              /* frames this process holds */
    uint64_t host_bytes;          /* host memory the simulated OS holds for its
                                own page state and free ranges (not the
                                policy's metadata; not a figure) */
} as_simos_counters_t;

typedef struct as_simos as_simos_t;

void as_simos_config_default(as_simos_config_t *cfg);

/* The simulated OS's parameters as a run sets them (`--param os.NAME=V`), in
 * the table order of as_simos_params: thp, khugepaged, max_ptes_none,
 * scan_interval, scan_regions, then the machine below (docs/simos.md,
 * "Physical memory"): phys_mem, defrag, khugepaged_defrag, phys_interval,
 * tenant_cache, tenant_unmovable, tenant_swing, tenant_period,
 * tenant_churn, tenant_seed, then khugepaged's access-bit rule:
 * khugepaged_referenced, young_clear, then the placement of mappings:
 * mmap_layout, then which bytes the program writes: writes (read by the
 * engine, docs/simos.md "Written pages"). The base address and the phys pointer are not parameters. */
enum {
    AS_SIMOS_P_THP,
    AS_SIMOS_P_KHUGEPAGED,
    AS_SIMOS_P_MAX_PTES_NONE,
    AS_SIMOS_P_SCAN_INTERVAL,
    AS_SIMOS_P_SCAN_REGIONS,
    AS_SIMOS_P_PHYS_MEM,
    AS_SIMOS_P_DEFRAG,
    AS_SIMOS_P_KHUGEPAGED_DEFRAG,
    AS_SIMOS_P_PHYS_INTERVAL,
    AS_SIMOS_P_TENANT_CACHE,
    AS_SIMOS_P_TENANT_UNMOVABLE,
    AS_SIMOS_P_TENANT_SWING,
    AS_SIMOS_P_TENANT_PERIOD,
    AS_SIMOS_P_TENANT_CHURN,
    AS_SIMOS_P_TENANT_SEED,
    AS_SIMOS_P_KHUGEPAGED_REFERENCED,
    AS_SIMOS_P_YOUNG_CLEAR,
    AS_SIMOS_P_MMAP_LAYOUT,
    AS_SIMOS_P_WRITES,
    AS_SIMOS_N_PARAMS
};
extern const as_param_spec_t as_simos_params[AS_SIMOS_N_PARAMS];

/* as_simos_params_of: the parameter values that describe cfg. */
void as_simos_params_of(const as_simos_config_t *cfg, as_param_value_t *values);

/* as_simos_config_apply: set cfg's parameters from resolved values (the
 * base address is kept). */
void as_simos_config_apply(as_simos_config_t *cfg,
                           const as_param_value_t *values);

/* as_simos_create: @return 0 or AS_ENOMEM. */
int as_simos_create(const as_simos_config_t *cfg, as_simos_t **os);
void as_simos_destroy(as_simos_t *os);

/* The page source a policy is given; valid for the simos's lifetime. */
const as_pagesource_t *as_simos_pagesource(as_simos_t *os);

/* as_simos_touch: the program writes [addr, addr+bytes). Faults pages in
 * (with a phys: takes frames, reclaiming the deferred split queue and the
 * tenants' page cache when short).
 * @return 0, AS_EINVAL when part of the range is not mapped (a policy bug:
 * the engine reports it), AS_ENOSPACE when physical memory is exhausted
 * even after reclaim (the pages before the one that failed are resident),
 * AS_ENOMEM (host memory). */
int as_simos_touch(as_simos_t *os, uintptr_t addr, size_t bytes);

/* as_simos_mapped: @return 1 when every page of [addr, addr+bytes) is
 * reserved (mapped), 0 otherwise (bytes 0: 1). O(1) for a range inside one
 * 2 MiB region of the last touched extent. */
int as_simos_mapped(const as_simos_t *os, uintptr_t addr, size_t bytes);

/* as_simos_khugepaged_scan: one khugepaged wake-up. @return collapses made. */
uint32_t as_simos_khugepaged_scan(as_simos_t *os);

const as_simos_counters_t *as_simos_counters(const as_simos_t *os);

/* as_simos_check: expensive whole-state invariant check (tests).
 * @return 0 or AS_ECHECK. */
int as_simos_check(const as_simos_t *os);

/* Per-region view for tests and the occupancy plots: for the 2 MiB region
 * containing addr, the number of mapped and resident 4 KiB pages and whether
 * it is a huge page. @return 0, or AS_EINVAL if no page of the region is
 * mapped. */
int as_simos_region(const as_simos_t *os, uintptr_t addr, uint32_t *mapped,
                    uint32_t *resident, int *huge);

/* as_simos_region_young: the number of young (accessed) 4 KiB pages of the
 * 2 MiB region containing addr, in *young. @return 0, or AS_EINVAL if no
 * page of the region is mapped. */
int as_simos_region_young(const as_simos_t *os, uintptr_t addr,
                          uint32_t *young);

#endif /* AS_SIM_SIMOS_H */

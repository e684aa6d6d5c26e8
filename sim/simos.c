/* simos.c - the simulated Linux anonymous memory below a policy.
 *
 * This file owns one simulated address space: which 4 KiB pages are mapped
 * (reserved), which are resident (touched and not released), which 2 MiB
 * regions are backed by a huge page, the THP hint of each region, the
 * khugepaged scanner, and the metadata arena a policy allocates from. It
 * implements sim/simos.h exactly; docs/simos.md states the model in prose.
 *
 * The address space is [cfg.base, AS_SIMOS_TOP). Free address space is a
 * sorted array of disjoint, non-adjacent ranges; reserve takes the hinted
 * range when it is wholly free, otherwise the lowest-address first fit. Every
 * 2 MiB region from base up to the highest region ever mapped has a dense
 * descriptor (two 512-bit bitmaps and counts), so touch() finds a page's
 * state with one subtraction, two shifts and one bit test.
 *
 * This file never dereferences a simulated address, never prints, and never
 * reads a clock: addresses and counters depend only on the call sequence.
 * The host memory it uses (descriptors, free-range array, metadata arena)
 * comes from libc, which is fine in sim/ (policies must not do this).
 */
#include "sim/simos.h"

#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/util.h"

#define PAGE_SHIFT 12
#define PAGE_BYTES ((uint64_t)1 << PAGE_SHIFT)
#define REGION_SHIFT 21
#define REGION_BYTES ((uint64_t)1 << REGION_SHIFT)
#define PAGES_PER_REGION 512u
#define WORDS_PER_REGION 8u

/* The top of the simulated user address space (47 bits, as x86-64 Linux). */
#define AS_SIMOS_TOP ((uintptr_t)0x800000000000ull)

/* THP advice of a region: the madvise flags of the mappings covering it.
 * Linux gives a huge page only to an aligned 2 MiB range inside one mapping
 * (VMA); adjacent mappings with equal flags merge into one, mappings with
 * different flags do not. So a region whose pages carry one advice behaves
 * like that advice, and a region whose pages carry different advice (MIXED)
 * can never be huge, whatever the THP mode. */
enum { HINT_NONE = 0, HINT_HUGE = 1, HINT_NOHUGE = 2, HINT_MIXED = 3 };

/* One aligned 2 MiB region of the address space.
 * Invariants: n_mapped == popcount(mapped); n_resident == popcount(resident);
 *   resident ⊆ mapped; huge ⇒ n_mapped == n_resident == 512;
 *   n_mapped == 0 ⇒ hint == HINT_NONE. */
typedef struct {
    uint64_t mapped[WORDS_PER_REGION];   /* bit p: page p is reserved */
    uint64_t resident[WORDS_PER_REGION]; /* bit p: page p is resident */
    uint16_t n_mapped;                   /* mapped pages, 0..512 */
    uint16_t n_resident;                 /* resident pages, 0..512 */
    uint8_t huge;                        /* 1: backed by one huge page */
    uint8_t hint;                        /* HINT_NONE/HUGE/NOHUGE/MIXED */
    uint8_t ever_mapped;                 /* 1 once any page was reserved */
} as_region_t;

/* A free range of address space [start, end), both page aligned. */
typedef struct {
    uintptr_t start, end;
} as_range_t;

/* Invariants: free[0..n_free) sorted by start, disjoint and non-adjacent;
 *   free ranges ∪ mapped pages == [base, AS_SIMOS_TOP), disjointly;
 *   mapped_bytes == 4096 * Σ n_mapped; resident_bytes == 4096 * Σ n_resident;
 *   huge_bytes == 2 MiB * #{regions with huge}. */
struct as_simos {
    as_simos_config_t cfg;
    uintptr_t base;
    as_region_t *regions; /* dense, index (addr - base) >> 21 */
    size_t n_regions;     /* descriptors in use (all zero-initialized) */
    size_t cap_regions;
    as_range_t *free; /* free address ranges, sorted */
    size_t n_free, cap_free;
    size_t scan_cursor; /* next region khugepaged looks at */
    as_simos_counters_t c;
    as_pagesource_ops_t ops;
    as_pagesource_t ps;
};

/* ---- bitmap helpers (bit indices lo..hi inclusive, within one region) -- */

static inline uint64_t word_mask(unsigned w, unsigned lo, unsigned hi)
{
    uint64_t m = ~(uint64_t)0;
    if (w == lo >> 6) m &= ~(uint64_t)0 << (lo & 63);
    if (w == hi >> 6) m &= ~(uint64_t)0 >> (63 - (hi & 63));
    return m;
}

/* 1 when every bit lo..hi of bm is set. */
static int bits_all_set(const uint64_t *bm, unsigned lo, unsigned hi)
{
    for (unsigned w = lo >> 6; w <= hi >> 6; w++) {
        uint64_t m = word_mask(w, lo, hi);
        if ((bm[w] & m) != m) return 0;
    }
    return 1;
}

/* Set bits lo..hi; @return how many were newly set. */
static unsigned bits_set(uint64_t *bm, unsigned lo, unsigned hi)
{
    unsigned n = 0;
    for (unsigned w = lo >> 6; w <= hi >> 6; w++) {
        uint64_t m = word_mask(w, lo, hi);
        n += (unsigned)__builtin_popcountll(m & ~bm[w]);
        bm[w] |= m;
    }
    return n;
}

/* Clear bits lo..hi; @return how many were set before. */
static unsigned bits_clear(uint64_t *bm, unsigned lo, unsigned hi)
{
    unsigned n = 0;
    for (unsigned w = lo >> 6; w <= hi >> 6; w++) {
        uint64_t m = word_mask(w, lo, hi);
        n += (unsigned)__builtin_popcountll(m & bm[w]);
        bm[w] &= ~m;
    }
    return n;
}

static unsigned bits_count(const uint64_t *bm)
{
    unsigned n = 0;
    for (unsigned w = 0; w < WORDS_PER_REGION; w++)
        n += (unsigned)__builtin_popcountll(bm[w]);
    return n;
}

/* ---- ranges ------------------------------------------------------------ */

/* Page span of [addr, addr+bytes) relative to base, validated: page aligned,
 * non-empty, no overflow, inside the descriptor array.
 * @return 0 or AS_EINVAL. */
static int page_span(const as_simos_t *os, uintptr_t addr, size_t bytes,
                     uint64_t *p0, uint64_t *p1)
{
    if (bytes == 0 || (addr & (PAGE_BYTES - 1)) || (bytes & (PAGE_BYTES - 1)) ||
        addr < os->base || addr + bytes < addr)
        return AS_EINVAL;
    uint64_t first = (addr - os->base) >> PAGE_SHIFT;
    uint64_t last = first + (bytes >> PAGE_SHIFT) - 1;
    if ((last >> 9) >= os->n_regions) return AS_EINVAL;
    *p0 = first;
    *p1 = last;
    return 0;
}

/* The bits lo..hi of region r that pages p0..p1 cover (p0 >> 9 <= r <=
 * p1 >> 9). */
static inline void region_bits(uint64_t p0, uint64_t p1, uint64_t r,
                               unsigned *lo, unsigned *hi)
{
    *lo = r == p0 >> 9 ? (unsigned)(p0 & 511) : 0;
    *hi = r == p1 >> 9 ? (unsigned)(p1 & 511) : 511;
}

static int span_mapped(const as_simos_t *os, uint64_t p0, uint64_t p1)
{
    for (uint64_t r = p0 >> 9; r <= p1 >> 9; r++) {
        unsigned lo, hi;
        region_bits(p0, p1, r, &lo, &hi);
        const as_region_t *g = &os->regions[r];
        if (lo == 0 && hi == 511) {
            if (g->n_mapped != PAGES_PER_REGION) return 0;
        } else if (!bits_all_set(g->mapped, lo, hi)) {
            return 0;
        }
    }
    return 1;
}

static int ensure_regions(as_simos_t *os, size_t n)
{
    if (n <= os->n_regions) return 0;
    if (n > os->cap_regions) {
        size_t cap = os->cap_regions ? os->cap_regions : 64;
        while (cap < n)
            cap *= 2;
        as_region_t *g = realloc(os->regions, cap * sizeof *g);
        if (!g) return AS_ENOMEM;
        os->regions = g;
        os->cap_regions = cap;
    }
    memset(&os->regions[os->n_regions], 0,
           (n - os->n_regions) * sizeof *os->regions);
    os->n_regions = n;
    return 0;
}

static int ensure_free_cap(as_simos_t *os, size_t n)
{
    if (n <= os->cap_free) return 0;
    size_t cap = os->cap_free ? os->cap_free * 2 : 16;
    while (cap < n)
        cap *= 2;
    as_range_t *f = realloc(os->free, cap * sizeof *f);
    if (!f) return AS_ENOMEM;
    os->free = f;
    os->cap_free = cap;
    return 0;
}

/* Index of the last free range with start <= a, or -1. */
static long free_find(const as_simos_t *os, uintptr_t a)
{
    long lo = 0, hi = (long)os->n_free - 1, ans = -1;
    while (lo <= hi) {
        long mid = lo + (hi - lo) / 2;
        if (os->free[mid].start <= a) {
            ans = mid;
            lo = mid + 1;
        } else {
            hi = mid - 1;
        }
    }
    return ans;
}

/* Take [a, a+bytes) out of free range i, which contains it. Capacity for one
 * more range must be ensured by the caller. */
static void free_take(as_simos_t *os, size_t i, uintptr_t a, size_t bytes)
{
    as_range_t f = os->free[i];
    uintptr_t e = a + bytes;
    int left = a > f.start, right = e < f.end;
    if (left && right) {
        memmove(&os->free[i + 2], &os->free[i + 1],
                (os->n_free - i - 1) * sizeof *os->free);
        os->free[i].end = a;
        os->free[i + 1].start = e;
        os->free[i + 1].end = f.end;
        os->n_free++;
    } else if (left) {
        os->free[i].end = a;
    } else if (right) {
        os->free[i].start = e;
    } else {
        memmove(&os->free[i], &os->free[i + 1],
                (os->n_free - i - 1) * sizeof *os->free);
        os->n_free--;
    }
}

/* Give [a, e) back to the free set, merging with neighbours. The range is
 * known not to overlap any free range. Capacity must be ensured. */
static void free_put(as_simos_t *os, uintptr_t a, uintptr_t e)
{
    long i = free_find(os, a); /* range before a, or -1 */
    int merge_left = i >= 0 && os->free[i].end == a;
    int merge_right =
        (size_t)(i + 1) < os->n_free && os->free[i + 1].start == e;
    if (merge_left && merge_right) {
        os->free[i].end = os->free[i + 1].end;
        memmove(&os->free[i + 1], &os->free[i + 2],
                (os->n_free - (size_t)i - 2) * sizeof *os->free);
        os->n_free--;
    } else if (merge_left) {
        os->free[i].end = e;
    } else if (merge_right) {
        os->free[i + 1].start = a;
    } else {
        size_t at = (size_t)(i + 1);
        memmove(&os->free[at + 1], &os->free[at],
                (os->n_free - at) * sizeof *os->free);
        os->free[at].start = a;
        os->free[at].end = e;
        os->n_free++;
    }
}

/* ---- regions ----------------------------------------------------------- */

static int region_eligible(const as_simos_t *os, const as_region_t *g)
{
    switch (os->cfg.thp) {
    case AS_THP_ALWAYS:
        return g->hint == HINT_NONE || g->hint == HINT_HUGE;
    case AS_THP_MADVISE:
        return g->hint == HINT_HUGE;
    default:
        return 0;
    }
}

/* Pages lo..hi of region g stop being resident (release or unmap). A huge
 * region loses its huge page: a split unless the whole region is covered. */
static uint64_t region_drop(as_simos_t *os, as_region_t *g, unsigned lo,
                            unsigned hi)
{
    if (g->huge) {
        g->huge = 0;
        os->c.huge_bytes -= REGION_BYTES;
        if (!(lo == 0 && hi == 511)) os->c.splits++;
    }
    unsigned n = bits_clear(g->resident, lo, hi);
    g->n_resident = (uint16_t)(g->n_resident - n);
    os->c.resident_bytes -= (uint64_t)n << PAGE_SHIFT;
    return (uint64_t)n << PAGE_SHIFT;
}

/* Make every page of g resident as one huge page (fault or collapse).
 * @return pages that became resident. */
static unsigned region_make_huge(as_simos_t *os, as_region_t *g)
{
    unsigned n = PAGES_PER_REGION - g->n_resident;
    for (unsigned w = 0; w < WORDS_PER_REGION; w++)
        g->resident[w] = ~0ull;
    g->n_resident = PAGES_PER_REGION;
    g->huge = 1;
    os->c.resident_bytes += (uint64_t)n << PAGE_SHIFT;
    os->c.huge_bytes += REGION_BYTES;
    return n;
}

/* ---- page-source operations -------------------------------------------- */

static int simos_reserve(void *state, uintptr_t hint, size_t bytes,
                         size_t align, uintptr_t *addr)
{
    as_simos_t *os = state;
    if (bytes == 0 || (bytes & (PAGE_BYTES - 1))) return AS_EINVAL;
    if (align == 0) align = PAGE_BYTES;
    if (!as_is_pow2(align)) return AS_EINVAL;
    if (align < PAGE_BYTES) align = PAGE_BYTES;
    if (ensure_free_cap(os, os->n_free + 1)) return AS_ENOMEM;

    long at = -1;
    uintptr_t a = 0;
    if (hint && !(hint & (align - 1)) && hint >= os->base &&
        hint + bytes > hint) {
        long i = free_find(os, hint);
        if (i >= 0 && hint + bytes <= os->free[i].end) {
            at = i;
            a = hint;
        }
    }
    for (size_t i = 0; at < 0 && i < os->n_free; i++) {
        uintptr_t c = (uintptr_t)as_align_up(os->free[i].start, align);
        if (c >= os->free[i].start && c < os->free[i].end &&
            os->free[i].end - c >= bytes) {
            at = (long)i;
            a = c;
        }
    }
    if (at < 0) return AS_ENOSPACE;

    uint64_t p0 = (a - os->base) >> PAGE_SHIFT;
    uint64_t p1 = p0 + (bytes >> PAGE_SHIFT) - 1;
    if (ensure_regions(os, (size_t)(p1 >> 9) + 1)) return AS_ENOMEM;
    free_take(os, (size_t)at, a, bytes);
    for (uint64_t r = p0 >> 9; r <= p1 >> 9; r++) {
        unsigned lo, hi;
        region_bits(p0, p1, r, &lo, &hi);
        as_region_t *g = &os->regions[r];
        /* New pages carry no advice: a region already holding advised pages
         * now mixes two kinds of mapping. */
        if (g->n_mapped && g->hint != HINT_NONE) g->hint = HINT_MIXED;
        g->ever_mapped = 1;
        g->n_mapped = (uint16_t)(g->n_mapped + bits_set(g->mapped, lo, hi));
    }
    os->c.mapped_bytes += bytes;
    os->c.reserves++;
    *addr = a;
    return 0;
}

static int simos_release(void *state, uintptr_t addr, size_t bytes)
{
    as_simos_t *os = state;
    uint64_t p0, p1;
    if (page_span(os, addr, bytes, &p0, &p1) || !span_mapped(os, p0, p1))
        return AS_EINVAL;
    for (uint64_t r = p0 >> 9; r <= p1 >> 9; r++) {
        unsigned lo, hi;
        region_bits(p0, p1, r, &lo, &hi);
        as_region_t *g = &os->regions[r];
        if (g->n_resident) os->c.released_bytes += region_drop(os, g, lo, hi);
    }
    os->c.releases++;
    return 0;
}

static int simos_unreserve(void *state, uintptr_t addr, size_t bytes)
{
    as_simos_t *os = state;
    uint64_t p0, p1;
    if (page_span(os, addr, bytes, &p0, &p1) || !span_mapped(os, p0, p1))
        return AS_EINVAL;
    if (ensure_free_cap(os, os->n_free + 1)) return AS_ENOMEM;
    for (uint64_t r = p0 >> 9; r <= p1 >> 9; r++) {
        unsigned lo, hi;
        region_bits(p0, p1, r, &lo, &hi);
        as_region_t *g = &os->regions[r];
        if (g->n_resident) region_drop(os, g, lo, hi);
        g->n_mapped = (uint16_t)(g->n_mapped - bits_clear(g->mapped, lo, hi));
        if (g->n_mapped == 0) g->hint = HINT_NONE;
    }
    free_put(os, addr, addr + bytes);
    os->c.mapped_bytes -= bytes;
    os->c.unreserves++;
    return 0;
}

/* MADV_HUGEPAGE / MADV_NOHUGEPAGE: a region the range covers completely
 * takes the advice; a region it covers in part keeps it only if it already
 * had that advice, and is MIXED otherwise. Residency does not change (an
 * existing huge page stays huge, as in Linux). */
static int simos_hugepage_hint(void *state, uintptr_t addr, size_t bytes,
                               int enable)
{
    as_simos_t *os = state;
    uint64_t p0, p1;
    if (page_span(os, addr, bytes, &p0, &p1) || !span_mapped(os, p0, p1))
        return AS_EINVAL;
    for (uint64_t r = p0 >> 9; r <= p1 >> 9; r++) {
        unsigned lo, hi;
        region_bits(p0, p1, r, &lo, &hi);
        as_region_t *g = &os->regions[r];
        uint8_t want = enable ? HINT_HUGE : HINT_NOHUGE;
        if ((lo == 0 && hi == 511) || g->hint == want)
            g->hint = want;
        else
            g->hint = HINT_MIXED;
    }
    return 0;
}

/* ---- metadata arena ---------------------------------------------------- */

static void *meta_alloc(void *state, size_t bytes)
{
    as_simos_t *os = state;
    /* glibc's calloc returns 16-byte aligned blocks on 64-bit hosts. */
    void *p = calloc(1, bytes ? bytes : 1);
    if (!p) return NULL;
    os->c.meta_bytes += bytes;
    if (os->c.meta_bytes > os->c.peak_meta_bytes)
        os->c.peak_meta_bytes = os->c.meta_bytes;
    return p;
}

static void meta_free(void *state, void *p, size_t bytes)
{
    as_simos_t *os = state;
    if (!p) return;
    os->c.meta_bytes -= bytes;
    free(p);
}

/* ---- public ------------------------------------------------------------ */

const as_param_spec_t as_simos_params[AS_SIMOS_N_PARAMS] = {
    [AS_SIMOS_P_THP] = {"thp", AS_PARAM_ENUM, "always", 0, 0,
                        "never|madvise|always", "transparent huge pages mode"},
    [AS_SIMOS_P_KHUGEPAGED] = {"khugepaged", AS_PARAM_BOOL, "1", 0, 1, NULL,
                               "model khugepaged collapsing regions"},
    [AS_SIMOS_P_MAX_PTES_NONE] =
        {"max_ptes_none", AS_PARAM_U64, "511", 0, 511, NULL,
         "khugepaged: most non-resident pages a collapse fills"},
    /* Bounds: Linux's scan_sleep_millisecs counts whole milliseconds; at
     * most ~11.6 days. At most every 2 MiB region of the 47-bit address
     * space per wake-up (a wake-up visits each region at most once). */
    [AS_SIMOS_P_SCAN_INTERVAL] = {"scan_interval", AS_PARAM_NS, "10s", 1e6,
                                  1e15, NULL,
                                  "khugepaged: time between wake-ups "
                                  "(1ms..1e15ns)"},
    [AS_SIMOS_P_SCAN_REGIONS] = {"scan_regions", AS_PARAM_U64, "8", 1, 67108864,
                                 NULL,
                                 "khugepaged: 2 MiB regions scanned per "
                                 "wake-up (1..2^26)"},
};

void as_simos_params_of(const as_simos_config_t *cfg, as_param_value_t *v)
{
    v[AS_SIMOS_P_THP].u = (uint64_t)cfg->thp;
    v[AS_SIMOS_P_KHUGEPAGED].u = (uint64_t)cfg->khugepaged;
    v[AS_SIMOS_P_MAX_PTES_NONE].u = cfg->max_ptes_none;
    v[AS_SIMOS_P_SCAN_INTERVAL].u = cfg->scan_interval_ns;
    v[AS_SIMOS_P_SCAN_REGIONS].u = cfg->scan_regions;
}

void as_simos_config_apply(as_simos_config_t *cfg, const as_param_value_t *v)
{
    cfg->thp = (as_thp_mode_t)v[AS_SIMOS_P_THP].u;
    cfg->khugepaged = (int)v[AS_SIMOS_P_KHUGEPAGED].u;
    cfg->max_ptes_none = (uint32_t)v[AS_SIMOS_P_MAX_PTES_NONE].u;
    cfg->scan_interval_ns = v[AS_SIMOS_P_SCAN_INTERVAL].u;
    cfg->scan_regions = (uint32_t)v[AS_SIMOS_P_SCAN_REGIONS].u;
}

void as_simos_config_default(as_simos_config_t *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->thp = AS_THP_ALWAYS;
    cfg->khugepaged = 1;
    cfg->max_ptes_none = 511;
    cfg->scan_interval_ns = 10ull * 1000 * 1000 * 1000;
    cfg->scan_regions = 8;
    cfg->base = (uintptr_t)0x100000000000ull;
}

int as_simos_create(const as_simos_config_t *cfg, as_simos_t **out)
{
    as_simos_config_t def;
    if (!cfg) {
        as_simos_config_default(&def);
        cfg = &def;
    }
    *out = NULL;
    if ((cfg->base & (REGION_BYTES - 1)) || cfg->base >= AS_SIMOS_TOP ||
        cfg->thp > AS_THP_ALWAYS)
        return AS_EINVAL;
    as_simos_t *os = calloc(1, sizeof *os);
    if (!os) return AS_ENOMEM;
    os->cfg = *cfg;
    if (os->cfg.max_ptes_none > PAGES_PER_REGION - 1)
        os->cfg.max_ptes_none = PAGES_PER_REGION - 1;
    os->base = cfg->base;
    if (ensure_free_cap(os, 16)) {
        free(os);
        return AS_ENOMEM;
    }
    os->free[0].start = os->base;
    os->free[0].end = AS_SIMOS_TOP;
    os->n_free = 1;
    os->ops.reserve = simos_reserve;
    os->ops.release = simos_release;
    os->ops.unreserve = simos_unreserve;
    os->ops.hugepage_hint = simos_hugepage_hint;
    os->ps.ops = &os->ops;
    os->ps.state = os;
    os->ps.meta.alloc = meta_alloc;
    os->ps.meta.free = meta_free;
    os->ps.meta.state = os;
    os->ps.page_bytes = PAGE_BYTES;
    os->ps.hugepage_bytes = REGION_BYTES;
    *out = os;
    return 0;
}

void as_simos_destroy(as_simos_t *os)
{
    if (!os) return;
    free(os->regions);
    free(os->free);
    free(os);
}

const as_pagesource_t *as_simos_pagesource(as_simos_t *os)
{
    return &os->ps;
}

__attribute__((noinline)) static int touch_slow(as_simos_t *os, uintptr_t addr,
                                                size_t bytes)
{
    if (bytes == 0) return 0;
    if (addr < os->base || addr + bytes < addr) return AS_EINVAL;
    uint64_t p0 = (addr - os->base) >> PAGE_SHIFT;
    uint64_t p1 = (addr - os->base + bytes - 1) >> PAGE_SHIFT;
    if ((p1 >> 9) >= os->n_regions || !span_mapped(os, p0, p1))
        return AS_EINVAL;
    for (uint64_t r = p0 >> 9; r <= p1 >> 9; r++) {
        unsigned lo, hi;
        region_bits(p0, p1, r, &lo, &hi);
        as_region_t *g = &os->regions[r];
        if (g->n_resident == PAGES_PER_REGION) continue;
        if (g->n_resident == 0 && g->n_mapped == PAGES_PER_REGION &&
            region_eligible(os, g)) {
            region_make_huge(os, g);
            os->c.huge_faults++;
            continue;
        }
        unsigned n = bits_set(g->resident, lo, hi);
        g->n_resident = (uint16_t)(g->n_resident + n);
        os->c.resident_bytes += (uint64_t)n << PAGE_SHIFT;
        os->c.page_faults += n;
    }
    return 0;
}

int as_simos_touch(as_simos_t *os, uintptr_t addr, size_t bytes)
{
    /* Fast path: the range lies in one page that is already resident. An
     * address below base wraps to a huge offset and fails the bound test. */
    uint64_t off = (uint64_t)(addr - os->base);
    uint64_t page = off >> PAGE_SHIFT;
    if (bytes - 1 < PAGE_BYTES && page == (off + bytes - 1) >> PAGE_SHIFT &&
        (page >> 9) < os->n_regions &&
        (os->regions[page >> 9].resident[(page >> 6) & 7] >> (page & 63) & 1))
        return 0;
    return touch_slow(os, addr, bytes);
}

uint32_t as_simos_khugepaged_scan(as_simos_t *os)
{
    if (!os->cfg.khugepaged || os->cfg.thp == AS_THP_NEVER ||
        os->n_regions == 0)
        return 0;
    uint32_t collapsed = 0, scanned = 0;
    size_t i = os->scan_cursor % os->n_regions;
    /* Visit each region at most once per wake-up; only candidate regions
     * (eligible and fully mapped) count against scan_regions. */
    for (size_t seen = 0;
         seen < os->n_regions && scanned < os->cfg.scan_regions; seen++) {
        as_region_t *g = &os->regions[i];
        if (++i == os->n_regions) i = 0;
        if (g->n_mapped != PAGES_PER_REGION || !region_eligible(os, g))
            continue;
        scanned++;
        if (g->huge || g->n_resident == 0) continue;
        if (PAGES_PER_REGION - g->n_resident > os->cfg.max_ptes_none) continue;
        region_make_huge(os, g);
        os->c.collapses++;
        collapsed++;
    }
    os->scan_cursor = i;
    return collapsed;
}

const as_simos_counters_t *as_simos_counters(const as_simos_t *os)
{
    return &os->c;
}

int as_simos_check(const as_simos_t *os)
{
    uint64_t mapped = 0, resident = 0, huge = 0;
    for (size_t r = 0; r < os->n_regions; r++) {
        const as_region_t *g = &os->regions[r];
        unsigned m = bits_count(g->mapped), s = bits_count(g->resident);
        if (m != g->n_mapped || s != g->n_resident) return AS_ECHECK;
        for (unsigned w = 0; w < WORDS_PER_REGION; w++)
            if (g->resident[w] & ~g->mapped[w]) return AS_ECHECK;
        if (g->huge && (m != PAGES_PER_REGION || s != PAGES_PER_REGION))
            return AS_ECHECK;
        if (g->hint > HINT_MIXED || (m == 0 && g->hint != HINT_NONE) ||
            (m && !g->ever_mapped))
            return AS_ECHECK;
        mapped += m;
        resident += s;
        huge += g->huge;
    }
    const as_simos_counters_t *c = &os->c;
    if (c->mapped_bytes != mapped << PAGE_SHIFT ||
        c->resident_bytes != resident << PAGE_SHIFT ||
        c->huge_bytes != huge << REGION_SHIFT ||
        c->huge_bytes > c->resident_bytes ||
        c->resident_bytes > c->mapped_bytes ||
        c->meta_bytes > c->peak_meta_bytes)
        return AS_ECHECK;

    /* Free ranges: sorted, page aligned, non-adjacent, inside the address
     * space, made of unmapped pages, and with the mapped pages they tile the
     * whole space. */
    uint64_t free_bytes = 0;
    for (size_t i = 0; i < os->n_free; i++) {
        as_range_t f = os->free[i];
        if (f.start >= f.end || f.start < os->base || f.end > AS_SIMOS_TOP ||
            ((f.start | f.end) & (PAGE_BYTES - 1)))
            return AS_ECHECK;
        if (i > 0 && os->free[i - 1].end >= f.start) return AS_ECHECK;
        free_bytes += f.end - f.start;
        uint64_t p0 = (f.start - os->base) >> PAGE_SHIFT;
        uint64_t p1 = ((f.end - os->base) >> PAGE_SHIFT) - 1;
        uint64_t limit = (uint64_t)os->n_regions * PAGES_PER_REGION;
        if (p0 >= limit) continue;
        if (p1 >= limit) p1 = limit - 1;
        for (uint64_t r = p0 >> 9; r <= p1 >> 9; r++) {
            unsigned lo, hi;
            region_bits(p0, p1, r, &lo, &hi);
            const uint64_t *bm = os->regions[r].mapped;
            for (unsigned w = lo >> 6; w <= hi >> 6; w++)
                if (bm[w] & word_mask(w, lo, hi)) return AS_ECHECK;
        }
    }
    if (free_bytes + c->mapped_bytes != AS_SIMOS_TOP - os->base)
        return AS_ECHECK;
    return 0;
}

int as_simos_region(const as_simos_t *os, uintptr_t addr, uint32_t *mapped,
                    uint32_t *resident, int *huge)
{
    if (addr < os->base) return AS_EINVAL;
    uint64_t r = (uint64_t)(addr - os->base) >> REGION_SHIFT;
    if (r >= os->n_regions) return AS_EINVAL;
    const as_region_t *g = &os->regions[r];
    if (!g->ever_mapped) return AS_EINVAL;
    if (mapped) *mapped = g->n_mapped;
    if (resident) *resident = g->n_resident;
    if (huge) *huge = g->huge;
    return 0;
}

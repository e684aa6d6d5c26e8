/* tc_internal.h - the TCMalloc-like policy's data structures, shared by the
 * files of policies/tcmalloc/ and by its unit tests (nothing else includes it).
 *
 * Type map (front end -> back end, as in TCMalloc's design.md/temeraire.md)
 *   tc_class_t       one size class: object bytes, span pages, batch size
 *   tc_cpu_t         one CPU's cache: a bounded stack of objects per class
 *   tc_transfer_t    per-class transfer cache: a bounded array of objects
 *   tc_central_t     per-class central free list: non-full spans in 8 lists
 *                    by allocated count (most-allocated first)
 *   tc_span_t        a run of TCMalloc pages: small-object span (carved into
 *                    objects of one class) or one large allocation
 *   tc_hugepage_t    HugePageFiller tracker of one 2 MiB hugepage: page
 *                    bitmap, released bitmap, nallocs, longest free range
 *   tc_filler_t      the HugePageFiller: trackers in lists keyed like
 *                    TCMalloc's (sparse: longest free range, then nallocs;
 *                    dense: nallocs), four sets by release state
 *   tc_region_t      a HugeRegion: a large run of hugepages, best-fit pages,
 *                    hugepages backed on use and unbacked when empty
 *   tc_rangeset_t    hugepage ranges ordered by address (HugeCache: backed;
 *                    HugeAllocator: unbacked) with coalescing
 *   tc_leaf_t        pagemap leaf of one hugepage: page -> span and class
 *   tc_t             one policy instance
 *
 * Units: a "page" is a TCMalloc page (param page_size, 8 KiB by default),
 * never the OS's 4 KiB page; pph = pages per hugepage (256 at 8 KiB).
 *
 * Invariants (checked by as_tc_check, the expensive tier):
 *   span:     0 <= allocated <= objects; allocated == slots.used;
 *             listed in central list index(allocated) iff 0 < allocated <
 * objects cpu:      count[c] <= cap[c] <= max_depth[c]; cap_bytes == sum_c
 * cap[c] * bytes[c] <= cpu_cache_bytes transfer: count <= cap tracker:
 * used_pages == popcount(used); released & used == 0; released_pages ==
 * popcount(released); longest_free == longest run of zero bits of `used`;
 *             nallocs >= 1 while the tracker is in the filler
 *   filler:   filler_used_pages == sum of used_pages over trackers
 *   backed:   backed_pages == (filler_hps*pph - filler_released_pages)
 *             + (cache_hps + raw_hps + region_backed_hps) * pph
 */
#ifndef AS_POLICIES_TCMALLOC_TC_INTERNAL_H
#define AS_POLICIES_TCMALLOC_TC_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "policies/blocks/freelist.h"
#include "policies/blocks/rbtree.h"
#include "policies/policy.h"

#define TC_MAX_CLASSES 96  /* class 0 is "none"; tables have <= 85 rows */
#define TC_CENTRAL_LISTS 8 /* kNumLists */
#define TC_MAX_PPH 512     /* pages per hugepage at 4 KiB pages */
#define TC_PPH_WORDS (TC_MAX_PPH / 64)
#define TC_FILLER_SETS 4     /* regular, donated, partial, released */
#define TC_HIST_BUCKETS 17   /* free pages per hugepage, 16ths + "all" */
#define TC_MAX_BATCH 128     /* kMaxObjectsToMove */
#define TC_DEMAND_SLOTS 3600 /* 1 s epochs of skip-subrelease history */

/* Parameter indices: rows of as_tc_params[] (policy.c), in order. */
enum {
    TC_P_PAGE_SIZE,
    TC_P_SIZE_CLASSES,
    TC_P_SMALL_ALIGN8,
    TC_P_PER_CPU,
    TC_P_MAX_CPUS,
    TC_P_CPU_CACHE_BYTES,
    TC_P_SMALL_DEPTH,
    TC_P_LARGE_DEPTH,
    TC_P_SMALL_DEPTH_CLASSES,
    TC_P_TRANSFER_BATCHES,
    TC_P_TRANSFER_BYTES,
    TC_P_DENSE_MIN_OBJECTS,
    TC_P_SEPARATE_DENSE,
    TC_P_FILLER_MAX_SPAN,
    TC_P_USE_REGIONS,
    TC_P_REGION_BYTES,
    TC_P_REGION_SLACK,
    TC_P_HUGECACHE_MIN,
    TC_P_HUGECACHE_MAX,
    TC_P_HUGECACHE_RELEASE_FRACTION,
    TC_P_RESERVE_BYTES,
    TC_P_RELEASE_RATE,
    TC_P_SUBRELEASE,
    TC_P_SKIP_SHORT,
    TC_P_SKIP_LONG,
    TC_P_SKIP_CAP,
    TC_P_TICK_INTERVAL,
    TC_P_MADVISE_HUGEPAGE,
    TC_P_CPU_RECLAIM,
    TC_P_REALLOC_SHRINK,
    TC_P_COUNT
};

extern const as_param_spec_t as_tc_params[TC_P_COUNT];

/* ------------------------------------------------------------ size classes */

typedef struct {
    uint32_t bytes; /* object size */
    uint16_t pages; /* span length in 8 KiB pages */
    uint16_t batch; /* objects moved per transfer (num_objects_to_move) */
} tc_class_row_t;

/* The two tables for 8 KiB pages (sizeclass.c); row i is class i+1. */
extern const tc_class_row_t as_tc_default_classes[];
extern const size_t as_tc_default_nclasses; /* 48 */
extern const tc_class_row_t as_tc_legacy_classes[];
extern const size_t as_tc_legacy_nclasses; /* 85 (86 with class 0) */

/* as_tc_batch_for: num_objects_to_move of an object size: 64 KiB / bytes,
 * clamped to [2, 32]. */
uint32_t as_tc_batch_for(uint32_t bytes);
/* as_tc_span_pages_for: span length for an object size and page size: the
 * fewest pages whose tail waste is <= 1/8 of the span and that hold at least
 * batch/4 objects (the legacy generator's rule). */
uint32_t as_tc_span_pages_for(uint32_t bytes, uint32_t page_bytes);

typedef struct {
    uint32_t bytes;     /* object size */
    uint32_t pages;     /* span pages at this instance's page size */
    uint32_t batch;     /* objects per transfer */
    uint32_t objects;   /* objects per span = pages*page / bytes */
    uint32_t max_depth; /* per-CPU depth limit */
    uint64_t div_magic; /* ceil(2^64 / bytes): n % bytes == 0 iff
                           n * div_magic <= div_magic - 1 (n < 2^32) */
    uint8_t dense;      /* objects > dense_min_objects */
} tc_class_t;

/* ------------------------------------------------------------ spans */

enum { TC_ORIGIN_FILLER = 1, TC_ORIGIN_REGION = 2, TC_ORIGIN_RAW = 3 };

typedef struct tc_span {
    uintptr_t start;             /* first byte (page aligned) */
    uint32_t npages;             /* length in pages */
    uint16_t cls;                /* size class, 0 = large allocation */
    uint8_t origin;              /* TC_ORIGIN_* */
    uint8_t list;                /* central list index, 0xff = not listed */
    as_slotmap_t slots;          /* small spans: object slots, 1 = allocated */
    struct tc_span *prev, *next; /* central list links */
    struct tc_hugepage *tail;    /* raw large: donated tail tracker or NULL */
    uint32_t tail_pages;         /* raw large: pages of the span on `tail` */
    uint32_t nhps;               /* raw large: hugepages (incl. the tail) */
    struct tc_region *region;    /* region spans: owner */
} tc_span_t;

/* ------------------------------------------------------------ filler */

enum {
    TC_SET_REGULAR = 0, /* never released */
    TC_SET_DONATED = 1, /* tail of a large allocation */
    TC_SET_PARTIAL = 2, /* some free pages released, some backed */
    TC_SET_RELEASED = 3 /* every free page released */
};

typedef struct tc_hugepage {
    uintptr_t addr;                  /* hugepage start */
    uint64_t used[TC_PPH_WORDS];     /* 1 = page allocated */
    uint64_t released[TC_PPH_WORDS]; /* 1 = free page given back to the OS */
    uint16_t used_pages;             /* popcount(used) */
    uint16_t released_pages;         /* popcount(released) */
    uint16_t longest_free;           /* longest run of free pages */
    uint16_t nallocs;                /* spans placed here */
    uint8_t dense;                   /* holds dense spans */
    uint8_t donated;                 /* tail of a live large allocation */
    uint8_t was_released;            /* reused after a subrelease */
    uint8_t set;                     /* TC_SET_* it is listed in */
    uint16_t list;                   /* list index within the set */
    struct tc_hugepage *prev, *next; /* list links */
} tc_hugepage_t;

typedef struct {
    tc_hugepage_t **head; /* [TC_FILLER_SETS*2][nlists] list heads */
    uint64_t *nonempty;   /* bitmap per (set, dense) of non-empty lists */
    uint32_t nlists;      /* (pph + 1) * 8 */
    uint32_t nwords;      /* words per bitmap */
    uint64_t hps;         /* trackers in the filler */
    uint64_t used_pages, released_pages;
    uint64_t n_in_set[TC_FILLER_SETS];
} tc_filler_t;

/* ------------------------------------------------------------ hugepage sets */

typedef struct {
    as_rb_node_t node; /* ordered by start */
    uintptr_t start;   /* first byte */
    uint64_t nhps;     /* hugepages */
} tc_range_t;

typedef struct {
    as_rb_tree_t tree;
    uint64_t hps; /* total hugepages held */
} tc_rangeset_t;

/* ------------------------------------------------------------ regions */

typedef struct tc_region {
    uintptr_t base;
    uint32_t npages, nhps;
    uint32_t used_pages;
    uint32_t backed_hps; /* hugepages with at least one used page */
    uint64_t *used;      /* page bitmap, 1 = allocated */
    uint16_t *hp_used;   /* used pages per hugepage */
    struct tc_region *next;
} tc_region_t;

/* ------------------------------------------------------------ pagemap */

typedef struct {
    tc_hugepage_t *tracker; /* filler tracker of this hugepage, or NULL */
    tc_span_t **span;       /* [pph] span owning the page (all pages of
                               small spans; first page of large ones) */
    uint8_t *cls;           /* [pph] size class of small-span pages */
} tc_leaf_t;

typedef struct {
    uint64_t key;         /* address >> window_shift */
    tc_leaf_t *leaf[512]; /* per hugepage of the window */
} tc_window_t;

/* ------------------------------------------------------------ front end */

typedef struct {
    uintptr_t *slots; /* [max_depth] objects, LIFO */
    uint32_t count;   /* objects held */
    uint32_t cap;     /* current capacity (<= max_depth) */
} tc_cpu_class_t;

typedef struct {
    tc_cpu_class_t cls[TC_MAX_CLASSES];
    uint64_t cap_bytes;      /* sum cap * bytes, <= cpu_cache_bytes */
    uint32_t steal_cursor;   /* next class to steal capacity from */
    uint64_t ops;            /* allocations + frees served (hits and misses) */
    uint64_t ops_at_reclaim; /* `ops` at the last idle check */
} tc_cpu_t;

typedef struct {
    uintptr_t *slots; /* [cap] */
    uint32_t count, cap;
} tc_transfer_t;

typedef struct {
    tc_span_t *list[TC_CENTRAL_LISTS]; /* non-full spans; 0 = most allocated */
    uint32_t nonempty;                 /* bit i: list i non-empty */
    uint64_t spans;                    /* live spans of this class */
} tc_central_t;

/* ------------------------------------------------------------ metadata */

typedef struct tc_meta_hdr {
    struct tc_meta_hdr *prev, *next;
    size_t bytes; /* including this header */
    size_t pad;
} tc_meta_hdr_t;

typedef struct {
    size_t obj_bytes; /* rounded to 16 */
    void *free;       /* free objects, linked through their first word */
    uint64_t live;
} tc_pool_t;

typedef struct tc_reservation {
    uintptr_t addr;
    size_t bytes;
    struct tc_reservation *next;
} tc_reservation_t;

typedef struct {
    uint64_t epoch;    /* 1 s epoch number */
    uint64_t min, max; /* filler demand (used pages) seen in it */
} tc_demand_slot_t;

/* ------------------------------------------------------------ instance */

typedef struct tc {
    const as_pagesource_t *ps;
    as_param_value_t p[TC_P_COUNT];

    /* geometry */
    uint32_t page_bytes, page_shift;
    uint32_t hp_bytes, hp_shift, pph; /* pages per hugepage */
    uint32_t window_shift;            /* hp_shift + 9 */
    uint32_t filler_max_pages;        /* largest span the filler takes */

    /* size classes */
    uint32_t nclasses; /* classes 1..nclasses */
    tc_class_t cls[TC_MAX_CLASSES];
    uint8_t small_lookup[129];  /* (size+7)>>3 for size <= 1024 */
    uint8_t large_lookup[2049]; /* (size+127)>>7 for size <= 256 KiB */
    uint32_t max_small;         /* largest class size */

    /* front end */
    tc_cpu_t **cpus; /* [max_cpus], lazily created */
    uint32_t ncpus;
    tc_transfer_t transfer[TC_MAX_CLASSES];
    tc_central_t central[TC_MAX_CLASSES];

    /* back end */
    tc_filler_t filler;
    tc_rangeset_t cache;    /* HugeCache: backed free hugepages */
    tc_rangeset_t unbacked; /* HugeAllocator: unbacked hugepages */
    tc_region_t *regions;
    tc_reservation_t *reservations;
    uint64_t cache_limit_hps;      /* current HugeCache limit */
    uint64_t cache_min_since_tick; /* smallest cache size since last tick */
    uint64_t raw_hps;              /* hugepages of live raw allocations
                                      (donated tails excluded) */
    uint64_t region_backed_hps, region_used_pages, region_pages;
    uint64_t donated_slack_pages; /* free tail pages of live raw allocs */

    /* pagemap */
    tc_window_t **windows; /* open-addressing hash by key */
    uint32_t win_cap, win_n;
    tc_window_t *last_win;

    /* metadata */
    tc_meta_hdr_t meta_list; /* every tracked allocation */
    uint64_t meta_bytes;
    tc_pool_t span_pool, hp_pool, range_pool, leaf_pool, resv_pool;
    void *bitmap_free[TC_MAX_CLASSES]; /* recycled slot bitmaps per class */
    tc_hugepage_t **scratch;           /* subrelease candidates */
    uint64_t scratch_cap;

    /* time and release */
    uint64_t now_ns; /* of the latest request (ctx) */
    uint64_t last_tick_ns;
    int ticked;
    double release_budget_pages;
    tc_demand_slot_t demand[TC_DEMAND_SLOTS];
    uint64_t demand_epoch; /* epoch of the newest slot */
    uint64_t demand_last;  /* filler used pages at the last record */
    int demand_started;

    /* statistics */
    uint64_t in_use_bytes, peak_in_use_bytes, backed_at_peak_bytes;
    uint64_t pages_subreleased, hugepages_broken, subrelease_calls;
    uint64_t cache_released_hps, cache_hits, cache_misses;
    uint64_t hps_from_os, regions_created, donations;
    uint64_t cpu_hits, cpu_misses, cpu_overflows, transfer_hits,
        transfer_misses, central_spans_created, large_allocs;
    uint64_t skip_subrelease_pages;  /* pages skip-subrelease kept */
    uint64_t filler_reused_released; /* was_released transitions */
    uint64_t last_reclaim_ns;        /* last idle per-CPU cache check */
    uint64_t cpu_reclaims;           /* idle CPU caches drained */
    uint64_t realloc_in_place;       /* reallocs that kept their block */
} tc_t;

/* ------------------------------------------------------------ functions */

/* meta.c: tracked metadata; every byte is returned by as_tc_meta_release. */
void *as_tc_meta_alloc(tc_t *t, size_t bytes);
void as_tc_meta_free(tc_t *t, void *p);
void as_tc_meta_release_all(tc_t *t);
void as_tc_pool_init(tc_pool_t *pool, size_t obj_bytes);
void *as_tc_pool_get(tc_t *t, tc_pool_t *pool); /* zeroed, or NULL */
void as_tc_pool_put(tc_pool_t *pool, void *obj);

/* pagemap.c */
tc_leaf_t *as_tc_leaf(tc_t *t, uintptr_t addr);      /* NULL if none */
tc_leaf_t *as_tc_leaf_make(tc_t *t, uintptr_t addr); /* NULL: ENOMEM */
int as_tc_pagemap_set(tc_t *t, tc_span_t *s, int all_pages);
void as_tc_pagemap_clear(tc_t *t, tc_span_t *s, int all_pages);
static inline uint32_t as_tc_page_in_hp(const tc_t *t, uintptr_t addr)
{
    return (uint32_t)((addr >> t->page_shift) & (t->pph - 1));
}

/* rangeset (hugealloc.c) */
void as_tc_rangeset_init(tc_rangeset_t *r);
int as_tc_rangeset_put(tc_t *t, tc_rangeset_t *r, uintptr_t start,
                       uint64_t nhps);
int as_tc_rangeset_take(tc_t *t, tc_rangeset_t *r, uint64_t nhps,
                        uint64_t align, uintptr_t *start);
int as_tc_rangeset_take_last(tc_t *t, tc_rangeset_t *r, uint64_t max_hps,
                             uintptr_t *start, uint64_t *nhps);

/* hugealloc.c: whole hugepages (cache, then unbacked, then the OS) */
int as_tc_hp_get(tc_t *t, uint64_t nhps, uint64_t align, uintptr_t *start);
void as_tc_hp_put_backed(tc_t *t, uintptr_t start, uint64_t nhps);
void as_tc_hp_put_unbacked(tc_t *t, uintptr_t start, uint64_t nhps);
uint64_t as_tc_cache_release(tc_t *t, uint64_t max_hps);
void as_tc_cache_enforce_limit(tc_t *t);
void as_tc_cache_tick(tc_t *t);

/* filler.c */
int as_tc_filler_init(tc_t *t);
/* try_get: place n pages on an existing tracker (no growth). @return the
 * address, 0 when nothing fits. */
uintptr_t as_tc_filler_try_get(tc_t *t, uint32_t n, int dense,
                               tc_hugepage_t **where);
/* get: try_get, else add a hugepage. @return 0, AS_ENOMEM. */
int as_tc_filler_get(tc_t *t, uint32_t n, int dense, uintptr_t *addr,
                     tc_hugepage_t **where);
/* put: free pages [addr, addr+n) on tracker hp; empties return the
 * hugepage. */
void as_tc_filler_put(tc_t *t, tc_hugepage_t *hp, uintptr_t addr, uint32_t n);
/* contribute: add a donated tail: pages [0, used) of the hugepage at addr
 * belong to a large allocation. @return the tracker or NULL (ENOMEM). */
tc_hugepage_t *as_tc_filler_donate(tc_t *t, uintptr_t addr, uint32_t used);
void as_tc_filler_undonate(tc_t *t, tc_hugepage_t *hp);
/* subrelease up to `pages` free pages, emptiest hugepages first.
 * @return pages released. */
uint64_t as_tc_filler_subrelease(tc_t *t, uint64_t pages);
void as_tc_filler_histogram(const tc_t *t, uint64_t hist[TC_HIST_BUCKETS]);
uint64_t as_tc_filler_hugepageable_used(const tc_t *t);
/* hugepages that are full, partly used and never released, or released */
void as_tc_filler_counts(const tc_t *t, uint64_t *full, uint64_t *partial,
                         uint64_t *released);
int as_tc_filler_check(const tc_t *t);
/* list index a tracker would get (exposed for tests) */
uint32_t as_tc_filler_index(const tc_t *t, const tc_hugepage_t *hp);
/* as_tc_best_fit: smallest run of zero bits of length >= n in
 * used[0..nbits), lowest address on ties; *longest (if not NULL) gets the
 * longest run. @return the run's start, or UINT32_MAX when none fits. */
uint32_t as_tc_best_fit(const uint64_t *used, uint32_t nbits, uint32_t n,
                        uint32_t *longest);

/* region (hugealloc.c) */
uintptr_t as_tc_region_try_get(tc_t *t, uint32_t n, tc_region_t **where);
int as_tc_region_create(tc_t *t);
void as_tc_region_put(tc_t *t, tc_region_t *r, uintptr_t addr, uint32_t n);

/* pageheap.c: the front door. */
/* pageheap_alloc: a span of npages for size class cls (0 = large: only the
 * first page goes in the pagemap), dense or sparse, aligned to `align`
 * (0 = page). @return the span, NULL when the OS or metadata refused. */
tc_span_t *as_tc_pageheap_alloc(tc_t *t, uint32_t npages, int dense,
                                uint64_t align, uint32_t cls);
void as_tc_pageheap_free(tc_t *t, tc_span_t *s);
uint64_t as_tc_backed_pages(const tc_t *t);
void as_tc_demand_record(tc_t *t);
uint64_t as_tc_demand_requirement(const tc_t *t);
uint64_t as_tc_release(tc_t *t, uint64_t pages);

/* frontend.c */
int as_tc_classes_init(tc_t *t);
static inline uint32_t as_tc_class_of(const tc_t *t, size_t size)
{
    if (size <= 1024) return t->small_lookup[(size + 7) >> 3];
    if (size <= t->max_small) return t->large_lookup[(size + 127) >> 7];
    return 0;
}
int as_tc_small_alloc(tc_t *t, uint32_t cpu, uint32_t cls, uintptr_t *addr);
int as_tc_small_free(tc_t *t, uint32_t cpu, uint32_t cls, uintptr_t addr);
uint32_t as_tc_central_remove(tc_t *t, uint32_t cls, uintptr_t *out,
                              uint32_t n);
int as_tc_central_insert(tc_t *t, uint32_t cls, const uintptr_t *objs,
                         uint32_t n);
uint32_t as_tc_central_index(uint32_t objects, uint32_t allocated);
/* reclaim: drain every CPU cache that served nothing since the last call
 * to the transfer cache and drop its capacity to 0. @return CPUs drained. */
uint32_t as_tc_cpu_reclaim_idle(tc_t *t);
void as_tc_frontend_bytes(const tc_t *t, uint64_t *cpu, uint64_t *transfer,
                          uint64_t *central);

/* policy.c */
int as_tc_create(const as_policy_config_t *cfg, void **state);
void as_tc_destroy(void *state);
int as_tc_check(const tc_t *t);
int as_tc_check_hook(const void *state, as_msg_t *why);

#endif /* AS_POLICIES_TCMALLOC_TC_INTERNAL_H */

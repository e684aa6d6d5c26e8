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
 *   tc_regions_t     the HugeRegionSet: every region and their totals
 *   tc_rangeset_t    hugepage ranges ordered by address with coalescing
 *   tc_hugealloc_t   the HugeAllocator: unbacked hugepages and the
 *                    reservations they came from
 *   tc_cache_t       the HugeCache: backed free hugepages under a limit
 *   tc_pageheap_t    the page heap (HugePageAwareAllocator): span records,
 *                    raw hugepage counts, donations, the demand history
 *   tc_meta_t        tracked metadata: every arena byte the policy holds
 *   tc_env_t         page source, parameters, geometry and tracked metadata:
 *                    what every component reads
 *   tc_leaf_t        pagemap leaf of one hugepage: page -> span and class
 *   tc_t             one policy instance: geometry, front end, the four
 *                    back-end components and the page heap, the pagemap
 *
 * Who calls whom in the back end (docs/policies/tcmalloc.md draws it): the
 * page heap alone decides where a span goes and when to grow; it calls the
 * filler (place on an existing hugepage, take a new hugepage it hands over,
 * give pages back), the region set, the cache (whole backed hugepages) and
 * the allocator (unbacked hugepages, address space from the OS). The cache
 * calls the allocator on a miss and when it releases. Filler, regions and
 * allocator call no other component; each owns its state struct and takes
 * the shared tc_env_t (page source, parameters, geometry, tracked metadata)
 * and its own struct, never the instance.
 *
 * Units: a "page" is a TCMalloc page (param page_size, 8 KiB by default),
 * never the OS's 4 KiB page; pph = pages per hugepage (256 at 8 KiB).
 *
 * Invariants (checked by as_tc_check, the policy's check hook):
 *   span:     0 <= allocated <= objects; allocated == slots.used;
 *             listed in central list index(allocated)
 *             iff 0 < allocated < objects
 *   cpu:      count[c] <= cap[c] <= max_depth[c];
 *             cap_bytes == sum_c cap[c] * bytes[c] <= limit_bytes;
 *             sum over CPUs of limit_bytes == CPUs * cpu_cache_bytes
 *   transfer: low_water <= count <= cap <= max_cap
 *   tracker:  used_pages == popcount(used); released & used == 0;
 *             released_pages == popcount(released);
 *             longest_free == longest run of zero bits of `used`;
 *             nallocs >= 1 while the tracker is in the filler;
 *             listed in the set and list its state gives
 *   filler:   filler.used_pages == sum of used_pages over trackers
 *   regions:  used_pages == popcount(used); hp_used[h] == used pages of
 *             hugepage h; hp_used[h] > 0 => backed[h];
 *             backed_hps == count(backed); free_backed_hps ==
 *             count(backed && hp_used == 0), 0 unless region_more_often
 *   donation: filler.abandoned_pages == sum of abandoned_count over
 *             abandoned trackers; a tracker in the donated set has
 *             nallocs == 1 and no released page
 *   cache:    usage_hps == filler.hps + ph.raw_hps (hugepages the cache
 *             handed out: filler hugepages, raw allocations with tails)
 *   sets:     hps == sum of nhps over the ranges; ranges disjoint and not
 *             adjacent (coalesced); cache.backed.hps <= cache.limit_hps
 *   hugepages: every hugepage taken from the OS is in exactly one place:
 *             alloc.hps_from_os == filler.hps + cache.backed.hps
 *             + alloc.unbacked.hps + ph.raw_hps + regions.pages / pph
 *   backed:   backed_pages == (filler.hps*pph - filler.released_pages)
 *             + (cache.backed.hps + ph.raw_hps + regions.backed_hps) * pph
 */
#ifndef AS_POLICIES_TCMALLOC_TC_INTERNAL_H
#define AS_POLICIES_TCMALLOC_TC_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "policies/blocks/freelist.h"
#include "policies/blocks/objpool.h"
#include "policies/blocks/rbtree.h"
#include "common/msg.h"
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
    /* back end as in TCMalloc's current source (issue 10) */
    TC_P_HUGECACHE_TIME,
    TC_P_REGION_MORE_OFTEN,
    TC_P_RELEASE_FROM_REGIONS,
    TC_P_RELEASE_PARTIAL,
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
    /* front end as in the source (issue 10) */
    TC_P_TRANSFER_INITIAL_BATCHES,
    TC_P_TRANSFER_PLUNDER_INTERVAL,
    TC_P_TRANSFER_RESIZE_INTERVAL,
    TC_P_CPU_RESIZE_INTERVAL,
    TC_P_CPU_SHUFFLE_INTERVAL,
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
    /* donation (TCMalloc's abandoned pages): a donated tail keeps the
     * large allocation's page count; once that allocation is freed while
     * other spans still use the hugepage, those pages are "abandoned" */
    uint16_t abandoned_count; /* pages of the large allocation here */
    uint8_t abandoned;        /* abandoned_count counted in abandoned_pages */
} tc_hugepage_t;

typedef struct {
    as_objlist_t trackers; /* tc_hugepage_t records */
    tc_hugepage_t **head;  /* [TC_FILLER_SETS*2][nlists] list heads */
    uint64_t *nonempty;    /* bitmap per (set, dense) of non-empty lists */
    uint32_t nlists;       /* (pph + 1) * 8 */
    uint32_t nwords;       /* words per bitmap */
    uint64_t hps;          /* trackers in the filler */
    uint64_t used_pages, released_pages;
    uint64_t n_in_set[TC_FILLER_SETS];
    tc_hugepage_t **scratch; /* subrelease candidates */
    uint64_t scratch_cap;
    /* statistics */
    uint64_t pages_subreleased, hugepages_broken, subrelease_calls;
    uint64_t reused_released; /* was_released transitions */
    /* TCMalloc's release bookkeeping (issue 10) */
    uint64_t abandoned_pages;   /* sum of abandoned_count over abandoned
                                    trackers still in the filler */
    uint64_t unaccounted_pages; /* free pages unbacked when a released
                                    hugepage emptied, not yet claimed by a
                                    release (unmapping_unaccounted_) */
    uint64_t partial_released;  /* pages released from partly released
                                    hugepages (first phase of subrelease) */
} tc_filler_t;

/* ------------------------------------------------------------ hugepage sets */

typedef struct {
    as_rb_node_t node; /* ordered by start */
    uintptr_t start;   /* first byte */
    uint64_t nhps;     /* hugepages */
} tc_range_t;

typedef struct {
    as_rb_tree_t tree; /* tc_range_t by start */
    uint64_t hps;      /* total hugepages held */
} tc_rangeset_t;

typedef struct tc_reservation {
    uintptr_t addr;
    size_t bytes;
    struct tc_reservation *next;
} tc_reservation_t;

/* The HugeAllocator: unbacked hugepages, address space from the OS. */
typedef struct {
    tc_rangeset_t unbacked;  /* free, unbacked hugepages */
    as_objlist_t range_pool; /* nodes of unbacked and of the cache's set */
    as_objlist_t resv_pool;  /* tc_reservation_t records */
    tc_reservation_t *reservations;
    uint64_t hps_from_os; /* hugepages reserved so far */
} tc_hugealloc_t;

/* Extremes of a value over a sliding window of TC_MINMAX_SLOTS epochs
 * (TCMalloc's MinMaxTracker over its TimeSeriesTracker): each slot holds
 * the min and max reported in one epoch and how many epochs passed since
 * the slot before it, so a quiet stretch takes one slot. */
#define TC_MINMAX_SLOTS 16
typedef struct {
    struct {
        uint64_t min, max; /* UINT64_MAX, 0 when nothing was reported */
        uint64_t delta;    /* epochs since the previous slot */
    } slot[TC_MINMAX_SLOTS];
    uint64_t epoch_ns;   /* window / TC_MINMAX_SLOTS */
    uint64_t last_epoch; /* epoch of the current slot */
    uint64_t covered;    /* sum of delta over the slots */
    uint32_t cur;        /* current slot */
    int started;         /* first report seen */
} tc_minmax_t;

/* The HugeCache: backed free hugepages under a limit that grows to the
 * largest recent demand dip on a miss and shrinks by half of the smallest
 * recent size when the cache stayed large (huge_cache.cc). */
typedef struct {
    tc_rangeset_t backed;          /* free, backed hugepages */
    uint64_t limit_hps;            /* current limit */
    uint64_t usage_hps;            /* hugepages handed out, not yet back */
    uint64_t now_ns;               /* clock, set by the page heap */
    uint64_t last_limit_change_ns; /* last grow or shrink decision */
    int clock_started;
    tc_minmax_t usage;    /* usage_hps over 2 x hugecache_time */
    tc_minmax_t off_peak; /* recent max usage - usage, reported on frees */
    tc_minmax_t size;     /* backed.hps */
    uint64_t hits, misses, released_hps;
    uint64_t limit_grows, limit_shrinks;
} tc_cache_t;

/* ------------------------------------------------------------ regions */

typedef struct tc_region {
    uintptr_t base;
    uint32_t npages, nhps;
    uint32_t used_pages;
    uint32_t backed_hps;      /* hugepages backed (used, or free-backed) */
    uint32_t free_backed_hps; /* backed hugepages with no used page */
    uint64_t *used;           /* page bitmap, 1 = allocated */
    uint16_t *hp_used;        /* used pages per hugepage */
    uint8_t *backed;          /* per hugepage: 1 = backed */
    struct tc_region *next;
} tc_region_t;

/* The HugeRegionSet: every region and their totals. With
 * region_more_often on (TCMalloc's kUseForAllLargeAllocs) a hugepage whose
 * last page is freed stays backed (free_backed) until a release. */
typedef struct {
    tc_region_t *list;
    uint64_t backed_hps, used_pages, pages; /* sums over the regions */
    uint64_t free_backed_hps;               /* sum over the regions */
    uint64_t created;
    uint64_t released_hps; /* free-backed hugepages released (statistic) */
} tc_regions_t;

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
    uintptr_t *slots;      /* [max_depth] objects, LIFO */
    uint32_t count;        /* objects held */
    uint32_t cap;          /* current capacity (<= max_depth) */
    uint16_t successive;   /* misses of the same kind in a row (16 bits, as
                              TCMalloc's PerClassResizeInfo) */
    uint16_t quiescent;    /* steal-clock passes since the last grow (15
                              bits) */
    uint8_t last_overflow; /* the last miss was an overflow */
    uint64_t cap_misses;   /* grows that got less than asked
                              (kCapacityTotal) */
    uint64_t cap_misses_at_resize; /* cap_misses at the last class resize */
} tc_cpu_class_t;

typedef struct {
    tc_cpu_class_t cls[TC_MAX_CLASSES];
    uint64_t cap_bytes;   /* allocated: sum cap * bytes, <= limit_bytes */
    uint64_t limit_bytes; /* this CPU's capacity: cpu_cache_bytes, moved
                             between CPUs by the shuffle */
    uint32_t next_steal;  /* next class the steal clock looks at (1-based) */
    uint64_t underflows, overflows;             /* misses so far */
    uint64_t under_at_shuffle, over_at_shuffle; /* at the last shuffle */
    uint64_t under_at_drain, over_at_drain;     /* at the last idle check */
    uint64_t drain_used_bytes; /* cached bytes at the last idle check */
} tc_cpu_t;

typedef struct {
    uintptr_t *slots;   /* [max_cap] */
    uint32_t count;     /* objects held (TCMalloc's `used`) */
    uint32_t cap;       /* current capacity, a multiple of the batch */
    uint32_t max_cap;   /* upper bound of cap */
    uint32_t low_water; /* lowest count since the last plunder */
    uint64_t misses;    /* objects that went past it to or from the central
                           list (insert + remove object misses) */
    uint64_t misses_at_resize; /* misses at the last resize */
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

/* Tracked metadata: every allocation from the page source's arena is linked
 * here so destroy can return all of it. */
typedef struct {
    tc_meta_hdr_t list; /* every tracked allocation */
    uint64_t bytes;     /* held, headers included */
} tc_meta_t;

/* Pool objects (as_objlist_t, policies/blocks/objpool.h) come in slabs of
 * this many, carved from tracked metadata. */
#define TC_POOL_SLAB 64

/* What every component reads: the page source, the parameters, the
 * geometry; and the tracked metadata they all allocate from. Components
 * take it as their first argument and keep no copy of it. */
typedef struct {
    const as_pagesource_t *ps;
    as_param_value_t p[TC_P_COUNT];
    tc_meta_t meta;
    uint32_t page_bytes, page_shift;
    uint32_t hp_bytes, hp_shift, pph; /* pages per hugepage */
    uint32_t window_shift;            /* hp_shift + 9 */
} tc_env_t;

typedef struct {
    uint64_t epoch;    /* 1 s epoch number */
    uint64_t min, max; /* filler demand (used pages) seen in it */
} tc_demand_slot_t;

/* The page heap: routes spans and owns what is not a component's. */
typedef struct {
    as_objlist_t span_pool; /* tc_span_t records */
    uint64_t raw_hps;       /* hugepages of live raw allocations
                               (donated tails excluded) */
    uint64_t donations;     /* tails donated to the filler */
    /* TCMalloc's PageAllocInfo over live spans: small_pages sums spans of
     * at most 1 MiB, slack_pages sums (hugepage round-up - length) of the
     * longer ones, wherever they were placed */
    uint64_t small_pages, slack_pages;
    tc_demand_slot_t demand[TC_DEMAND_SLOTS];
    uint64_t demand_epoch; /* epoch of the newest slot */
    uint64_t demand_last;  /* filler used pages at the last record */
    int demand_started;
} tc_pageheap_t;

/* ------------------------------------------------------------ instance */

typedef struct tc {
    tc_env_t env;              /* page source, parameters, metadata, geometry */
    uint32_t filler_max_pages; /* largest span the filler takes */

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

    /* back end: four components and the page heap that drives them */
    tc_filler_t filler;   /* HugePageFiller (filler.c) */
    tc_regions_t regions; /* HugeRegionSet (region.c) */
    tc_cache_t cache;     /* HugeCache (hugecache.c) */
    tc_hugealloc_t alloc; /* HugeAllocator (hugealloc.c) */
    tc_pageheap_t ph;     /* page heap (pageheap.c) */

    /* pagemap */
    tc_window_t **windows; /* open-addressing hash by key */
    uint32_t win_cap, win_n;
    tc_window_t *last_win;
    as_objlist_t leaf_pool; /* leaves with their per-page arrays */

    /* metadata (the tracked arena is env.meta) */
    void *bitmap_free[TC_MAX_CLASSES]; /* recycled slot bitmaps per class */

    /* time and release */
    uint64_t now_ns; /* of the latest request (ctx) */
    uint64_t last_tick_ns;
    int ticked;
    uint64_t release_credit_bytes; /* released beyond what was due */

    /* statistics */
    uint64_t in_use_bytes, peak_in_use_bytes, backed_at_peak_bytes;
    uint64_t cpu_hits, cpu_misses, cpu_overflows, transfer_hits,
        transfer_misses, central_spans_created, large_allocs;
    uint64_t skip_subrelease_pages; /* pages skip-subrelease kept */
    uint64_t last_reclaim_ns;       /* last idle per-CPU cache check */
    uint64_t cpu_reclaims;          /* idle CPU caches drained */
    uint64_t realloc_in_place;      /* reallocs that kept their block */

    /* front end's background actions (frontend.c, as_tc_frontend_tick) */
    uint64_t last_shuffle_ns, last_cpu_resize_ns; /* per-CPU caches */
    uint64_t last_plunder_ns, last_tc_resize_ns;  /* transfer caches */
    uint32_t next_cpu_steal;     /* shuffle: next CPU to steal from */
    uint32_t last_cpu_resized;   /* class resize: CPU it ended at */
    uint64_t cpu_class_resizes;  /* classes grown by the class resize */
    uint64_t cpu_shuffled_bytes; /* capacity moved between CPUs */
    uint64_t transfer_plundered; /* objects plundered to central lists */
    uint64_t transfer_resizes;   /* transfer caches grown by a batch */
} tc_t;

/* ------------------------------------------------------------ functions */

/* meta.c: tracked metadata; every byte is returned by as_tc_meta_release. */
void as_tc_meta_init(tc_meta_t *m);
void *as_tc_meta_alloc(tc_env_t *e, size_t bytes); /* zeroed, or NULL */
void as_tc_meta_free(tc_env_t *e, void *p);
void as_tc_meta_release_all(tc_env_t *e);
/* pool_get: an object of l, carving a TC_POOL_SLAB slab of tracked
 * metadata when l is empty. @return it zeroed, or NULL. */
void *as_tc_pool_get(tc_env_t *e, as_objlist_t *l);

/* pagemap.c */
tc_leaf_t *as_tc_leaf(tc_t *t, uintptr_t addr);      /* NULL if none */
tc_leaf_t *as_tc_leaf_make(tc_t *t, uintptr_t addr); /* NULL: ENOMEM */
int as_tc_pagemap_set(tc_t *t, tc_span_t *s, int all_pages);
void as_tc_pagemap_clear(tc_t *t, tc_span_t *s, int all_pages);
static inline uint32_t as_tc_page_in_hp(const tc_t *t, uintptr_t addr)
{
    return (uint32_t)((addr >> t->env.page_shift) & (t->env.pph - 1));
}

/* bitmap.c: page bitmaps of the filler and the regions */
void as_tc_bits_set(uint64_t *b, uint32_t start, uint32_t n);
void as_tc_bits_clear(uint64_t *b, uint32_t start, uint32_t n);
uint32_t as_tc_bits_count(const uint64_t *b, uint32_t start, uint32_t n);
/* as_tc_best_fit: smallest run of zero bits of length >= n in
 * used[0..nbits), lowest address on ties; *longest (if not NULL) gets the
 * longest run. @return the run's start, or UINT32_MAX when none fits. */
uint32_t as_tc_best_fit(const uint64_t *used, uint32_t nbits, uint32_t n,
                        uint32_t *longest);

/* hugealloc.c: hugepage range sets (nodes from the allocator's range_pool)
 * and the HugeAllocator */
void as_tc_rangeset_init(tc_rangeset_t *r);
int as_tc_rangeset_put(tc_env_t *e, tc_hugealloc_t *a, tc_rangeset_t *r,
                       uintptr_t start, uint64_t nhps);
int as_tc_rangeset_take(tc_env_t *e, tc_hugealloc_t *a, tc_rangeset_t *r,
                        uint64_t nhps, uint64_t align, uintptr_t *start);
/* check: tree shape, hps == sum, ranges disjoint and coalesced */
int as_tc_rangeset_check(const tc_env_t *e, const tc_rangeset_t *r,
                         as_msg_t *why, const char *name);
void as_tc_hugealloc_init(tc_hugealloc_t *a);
/* get: nhps unbacked hugepages aligned to align (0 = hugepage), reserving
 * reserve_bytes more address space when none fit. @return 0, AS_ENOMEM. */
int as_tc_hugealloc_get(tc_env_t *e, tc_hugealloc_t *a, uint64_t nhps,
                        uint64_t align, uintptr_t *start);
/* put: nhps hugepages, already unbacked, become free again. */
void as_tc_hugealloc_put(tc_env_t *e, tc_hugealloc_t *a, uintptr_t start,
                         uint64_t nhps);
/* unreserve_all: return every reservation to the OS (destroy). */
void as_tc_hugealloc_unreserve_all(tc_env_t *e, tc_hugealloc_t *a);

/* hugecache.c: the HugeCache (huge_cache.cc); misses and releases go to
 * the allocator a. Every call reads the clock c->now_ns, which the page
 * heap sets with as_tc_cache_set_time first. */
void as_tc_cache_init(tc_env_t *e, tc_cache_t *c);
void as_tc_cache_set_time(tc_cache_t *c, uint64_t now_ns);
/* get: from the cache, else (a miss: the limit may grow to the recent
 * demand dip) from a. @return 0, AS_ENOMEM. */
int as_tc_cache_get(tc_env_t *e, tc_cache_t *c, tc_hugealloc_t *a,
                    uint64_t nhps, uint64_t align, uintptr_t *start);
/* put: backed hugepages come back (HugeCache::Release): the limit may
 * shrink, then the cache is cut to it. */
void as_tc_cache_put(tc_env_t *e, tc_cache_t *c, tc_hugealloc_t *a,
                     uintptr_t start, uint64_t nhps);
/* put_unbacked: hugepages already unbacked come back (ReleaseUnbacked):
 * they go straight to a. */
void as_tc_cache_put_unbacked(tc_env_t *e, tc_cache_t *c, tc_hugealloc_t *a,
                              uintptr_t start, uint64_t nhps);
/* release (ReleaseCachedPages): shrink the limit if the cache stayed
 * large, then release at least max_hps hugepages if the cache has them.
 * @return hugepages released. */
uint64_t as_tc_cache_release(tc_env_t *e, tc_cache_t *c, tc_hugealloc_t *a,
                             uint64_t max_hps);
/* minmax (exposed for tests): report v at now_ns; the min or max over the
 * last window_ns as TCMalloc's MinOverTime/MaxOverTime count it. */
void as_tc_minmax_init(tc_minmax_t *m, uint64_t window_ns);
void as_tc_minmax_report(tc_minmax_t *m, uint64_t now_ns, uint64_t v);
uint64_t as_tc_minmax_over(const tc_minmax_t *m, uint64_t window_ns,
                           int want_max);

/* filler.c: the HugePageFiller; it only places pages on the hugepages it
 * holds and never grows or shrinks by itself. */
int as_tc_filler_init(tc_env_t *e, tc_filler_t *f);
/* try_get: place n pages on a hugepage the filler holds. @return the
 * address, 0 when nothing fits. */
uintptr_t as_tc_filler_try_get(tc_env_t *e, tc_filler_t *f, uint32_t n,
                               int dense, tc_hugepage_t **where);
/* add: take over the empty, backed hugepage at addr. @return its tracker,
 * NULL when out of metadata. */
tc_hugepage_t *as_tc_filler_add(tc_env_t *e, tc_filler_t *f, uintptr_t addr,
                                int dense);
/* place: n pages on tracker hp (which must fit them). @return the address */
uintptr_t as_tc_filler_place(tc_env_t *e, tc_filler_t *f, tc_hugepage_t *hp,
                             uint32_t n);
enum { TC_FILLER_KEPT, TC_FILLER_EMPTY_BACKED, TC_FILLER_EMPTY_UNBACKED };
/* put: free pages [addr, addr+n) on tracker hp. When the hugepage empties
 * its tracker is dropped and the caller gets the hugepage back.
 * @return TC_FILLER_KEPT, or TC_FILLER_EMPTY_BACKED / _UNBACKED (some pages
 * were released: the rest are released now and it is wholly unbacked). */
int as_tc_filler_put(tc_env_t *e, tc_filler_t *f, tc_hugepage_t *hp,
                     uintptr_t addr, uint32_t n);
/* donate: pages [0, used) of the hugepage at addr belong to a large
 * allocation; the rest is the filler's. @return the tracker or NULL. */
tc_hugepage_t *as_tc_filler_donate(tc_env_t *e, tc_filler_t *f, uintptr_t addr,
                                   uint32_t used);
/* abandon: the large allocation of donated tail hp was freed while other
 * spans still use it: its pages count as abandoned until hp empties. */
void as_tc_filler_abandon(tc_filler_t *f, tc_hugepage_t *hp);
/* free, still backed pages on partly released hugepages
 * (FreePagesInPartialAllocs) */
uint64_t as_tc_filler_partial_free(const tc_env_t *e, const tc_filler_t *f);
/* take_unaccounted: claim the pages unbacked when released hugepages
 * emptied since the last call. @return them. */
uint64_t as_tc_filler_take_unaccounted(tc_filler_t *f);
/* subrelease at least `pages` free pages if there are: first from partly
 * released hugepages, then from regular and donated ones, in rounds of at
 * most pph candidates, emptiest first (HugePageFiller::ReleasePages).
 * @return pages released. */
uint64_t as_tc_filler_subrelease(tc_env_t *e, tc_filler_t *f, uint64_t pages);
void as_tc_filler_histogram(const tc_env_t *e, const tc_filler_t *f,
                            uint64_t hist[TC_HIST_BUCKETS]);
uint64_t as_tc_filler_hugepageable_used(const tc_env_t *e,
                                        const tc_filler_t *f);
/* hugepages that are full, partly used and never released, or released */
void as_tc_filler_counts(const tc_env_t *e, const tc_filler_t *f,
                         uint64_t *full, uint64_t *partial, uint64_t *released);
int as_tc_filler_check(const tc_env_t *e, const tc_filler_t *f, as_msg_t *why);
/* list index a tracker would get (exposed for tests) */
uint32_t as_tc_filler_index(const tc_env_t *e, const tc_hugepage_t *hp);

/* region.c: the HugeRegionSet */
void as_tc_regions_init(tc_regions_t *rs);
uintptr_t as_tc_regions_try_get(tc_env_t *e, tc_regions_t *rs, uint32_t n,
                                tc_region_t **where);
/* new: records of a region of nhps hugepages, not yet placed. @return it
 * or NULL (out of metadata). */
tc_region_t *as_tc_regions_new(tc_env_t *e, uint64_t nhps);
/* place: the region's address space starts at base; it joins the set. */
void as_tc_regions_place(tc_regions_t *rs, tc_region_t *r, uintptr_t base);
/* discard: free the records of a region that was never placed. */
void as_tc_regions_discard(tc_env_t *e, tc_region_t *r);
/* put: free pages; an emptied hugepage is released unless
 * region_more_often keeps it backed until as_tc_regions_release */
void as_tc_regions_put(tc_env_t *e, tc_regions_t *rs, tc_region_t *r,
                       uintptr_t addr, uint32_t n);
/* release: a tenth of the free-backed region hugepages (at least one when
 * any), lowest address first (HugeRegionSet::ReleasePages). @return pages
 * released. */
uint64_t as_tc_regions_release(tc_env_t *e, tc_regions_t *rs);
int as_tc_regions_check(const tc_env_t *e, const tc_regions_t *rs,
                        as_msg_t *why);

/* pageheap.c: the page heap, the only caller of the components above. */
void as_tc_pageheap_init(tc_t *t);
/* pageheap_alloc: a span of npages for size class cls (0 = large: only the
 * first page goes in the pagemap), dense or sparse, aligned to `align`
 * (0 = page). @return the span, NULL when the OS or metadata refused. */
tc_span_t *as_tc_pageheap_alloc(tc_t *t, uint32_t npages, int dense,
                                uint64_t align, uint32_t cls);
void as_tc_pageheap_free(tc_t *t, tc_span_t *s);
/* filler_get: n pages from the filler, growing it by a hugepage from the
 * cache when nothing fits (exposed for tests). @return 0, AS_ENOMEM. */
int as_tc_pageheap_filler_get(tc_t *t, uint32_t n, int dense, uintptr_t *addr,
                              tc_hugepage_t **where);
/* filler_put: give pages back to the filler; an emptied hugepage goes to
 * the cache (backed) or the allocator (unbacked). */
void as_tc_pageheap_filler_put(tc_t *t, tc_hugepage_t *hp, uintptr_t addr,
                               uint32_t n);
uint64_t as_tc_backed_pages(const tc_t *t);
void as_tc_demand_record(tc_t *t);
uint64_t as_tc_demand_requirement(const tc_t *t);
uint64_t as_tc_release(tc_t *t, uint64_t pages);
int as_tc_pageheap_check(const tc_t *t, as_msg_t *why);

/* frontend.c */
int as_tc_classes_init(tc_t *t);
static inline uint32_t as_tc_class_of(const tc_t *t, size_t size)
{
    if (size <= 1024) return t->small_lookup[(size + 7) >> 3];
    if (size <= t->max_small) return t->large_lookup[(size + 127) >> 7];
    return 0;
}
int as_tc_small_alloc(tc_t *t, uint32_t cpu, uint32_t cls, uintptr_t *addr);
/* as_tc_cpu_take: up to n objects of class cls from the top of CPU cpu's
 * cache, in the order n hits of as_tc_small_alloc would give them, each
 * counted as a hit; never refills. @return how many (0 when the cache is
 * empty, per-CPU caches are off, or the CPU's record cannot be made). */
uint32_t as_tc_cpu_take(tc_t *t, uint32_t cpu, uint32_t cls, uintptr_t *out,
                        uint32_t n);
int as_tc_small_free(tc_t *t, uint32_t cpu, uint32_t cls, uintptr_t addr);
/* as_tc_cpu_put: push in[0..n) (blocks of class cls, in that order) onto
 * CPU cpu's cache while it has room, as that many frees that find room
 * would; never overflows. @return how many (0 when the cache is full,
 * per-CPU caches are off, or the CPU's record cannot be made). */
uint32_t as_tc_cpu_put(tc_t *t, uint32_t cpu, uint32_t cls, const uintptr_t *in,
                       uint32_t n);
uint32_t as_tc_central_remove(tc_t *t, uint32_t cls, uintptr_t *out,
                              uint32_t n);
int as_tc_central_insert(tc_t *t, uint32_t cls, const uintptr_t *objs,
                         uint32_t n);
uint32_t as_tc_central_index(uint32_t objects, uint32_t allocated);
/* reclaim: drain every CPU cache whose cached bytes are unchanged and that
 * had no miss since the last call (TryDrainingCaches): its objects go to the
 * transfer caches and its capacity to 0. @return CPUs drained. */
uint32_t as_tc_cpu_reclaim_idle(tc_t *t);
/* resize_classes: ResizeSizeClasses: for up to TC_CPU_RESIZE_CPUS CPUs
 * after the last one resized, grow the classes with the most capacity
 * misses since the last resize by a batch, stealing from other classes of
 * the same CPU. */
void as_tc_cpu_resize_classes(tc_t *t);
/* shuffle: ShuffleCpuCaches: the (up to 5) CPUs with the most misses since
 * the last shuffle each take 5% of cpu_cache_bytes of capacity from CPUs
 * with fewer misses. */
void as_tc_cpu_shuffle(tc_t *t);
/* plunder: TryPlunder: every transfer cache returns its low-water mark of
 * objects to the central list. @return objects returned. */
uint64_t as_tc_transfer_plunder(tc_t *t);
/* transfer_resize: ResizeCaches: transfer caches with the most misses grow
 * by a batch, those with the fewest shrink by one. */
void as_tc_transfer_resize(tc_t *t);
/* frontend_tick: the front end's background actions due at now_ns, in
 * TCMalloc's order (drain, shuffle, class resize, plunder, resize). */
void as_tc_frontend_tick(tc_t *t, uint64_t now_ns);
/* refill_count: TargetOverflowRefillCount: objects an underflow fetches or
 * an overflow returns, the caller's one included: min((cap+1)/2 + 1,
 * 2^min(successive,10) batches), and 1 when cap is 1 and successive < 3. */
uint32_t as_tc_refill_count(uint32_t cap, uint32_t batch, uint32_t successive);
/* frontend_check: the front end's invariants. @return 0 or AS_ECHECK. */
int as_tc_frontend_check(const tc_t *t, as_msg_t *why);
void as_tc_frontend_bytes(const tc_t *t, uint64_t *cpu, uint64_t *transfer,
                          uint64_t *central);

/* policy.c */
int as_tc_create(const as_policy_config_t *cfg, void **state);
void as_tc_destroy(void *state);
/* as_tc_check: the policy's check hook: every invariant above, each
 * component's own first. @return 0, or AS_ECHECK with the reason in why
 * (may be NULL). */
int as_tc_check(const void *state, as_msg_t *why);

#endif /* AS_POLICIES_TCMALLOC_TC_INTERNAL_H */

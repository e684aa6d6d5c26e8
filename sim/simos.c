/* simos.c - the simulated Linux anonymous memory below a policy.
 *
 * This file owns one simulated address space: which 4 KiB pages are mapped
 * (reserved), which are resident (touched and not released), which 2 MiB
 * regions are backed by a huge page, the THP hint of each region, the
 * khugepaged scanner, and the metadata arena a policy allocates from. It
 * implements sim/simos.h exactly; docs/simos.md states the model in prose.
 *
 * The address space is [cfg.base, top): top is AS_SIMOS_TOP under the
 * bottom-up layout and AS_SIMOS_MMAP_BASE under the top-down one (what lies
 * above mmap_base in a process, its stack and the stack's gap, is not
 * modelled; docs/simos.md, "Address space"). Both structures are sized
 * by live state, never by the span of the address space or of a request:
 *   - Free address space is a red-black tree of disjoint, non-adjacent
 *     ranges ordered by address, each node also holding the largest range
 *     of its subtree, so the lowest-address first fit, and its mirror the
 *     highest fit, are found in O(log n). reserve takes the hinted range
 *     when it is wholly free, otherwise the highest fit below mmap_base
 *     (the top-down layout, Linux's default) or the first fit (bottom-up),
 *     per os.mmap_layout.
 *   - Page state is a red-black tree of *extents*: runs of consecutive 2 MiB
 *     regions whose state (mapped and resident bitmaps, huge flag, THP
 *     hint) is identical. A region with no mapped page has no extent. An
 *     operation on a page span splits the extents at its ends, changes each
 *     extent inside once (counters move by the extent's length), and merges
 *     equal neighbours again, so a 64 TiB reservation is one extent and a
 *     touch, release or khugepaged pass over it costs O(log n). Each extent
 *     also records whether it is a khugepaged candidate (fully mapped and
 *     THP-eligible), summarised per subtree, so a scan jumps straight to the
 *     next candidate.
 * touch() keeps the last extent it used and finds a resident page in it with
 * one subtraction, two shifts and one bit test.
 *
 * This file never dereferences a simulated address, never prints, and never
 * reads a clock: addresses and counters depend only on the call sequence.
 * The host memory it uses (tree nodes, metadata arena) comes from libc,
 * which is fine in sim/ (policies must not do this); its own node bytes are
 * counted in as_simos_counters_t.host_bytes.
 */
#include "sim/simos.h"

#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/util.h"
#include "policies/blocks/rbtree.h"

#define PAGE_SHIFT 12
#define PAGE_BYTES ((uint64_t)1 << PAGE_SHIFT)
#define REGION_SHIFT 21
#define REGION_BYTES ((uint64_t)1 << REGION_SHIFT)
#define PAGES_PER_REGION 512u
#define WORDS_PER_REGION 8u
#define SPARE_NODES 12u /* nodes an operation may need, taken beforehand */
#define SPARE_KEEP 256u /* free nodes kept for reuse; more go back to libc */

/* The top of the simulated user address space (47 bits, as x86-64 Linux). */
#define AS_SIMOS_TOP ((uintptr_t)0x800000000000ull)

/* THP advice of a region: the madvise flags of the mappings covering it.
 * Linux gives a huge page only to an aligned 2 MiB range inside one mapping
 * (VMA); adjacent mappings with equal flags merge into one, mappings with
 * different flags do not. So a region whose pages carry one advice behaves
 * like that advice, and a region whose pages carry different advice (MIXED)
 * can never be huge, whatever the THP mode. */
enum { HINT_NONE = 0, HINT_HUGE = 1, HINT_NOHUGE = 2, HINT_MIXED = 3 };

/* The state of one aligned 2 MiB region.
 * Invariants: n_mapped == popcount(mapped); n_resident == popcount(resident);
 *   young ⊆ resident ⊆ mapped; huge ⇒ n_mapped == n_resident == 512 and
 *   every page young or none (the pmd's one bit). */
typedef struct {
    uint64_t mapped[WORDS_PER_REGION];   /* bit p: page p is reserved */
    uint64_t resident[WORDS_PER_REGION]; /* bit p: page p is resident */
    uint64_t young[WORDS_PER_REGION];    /* bit p: page p's accessed bit */
    uint16_t n_mapped;                   /* mapped pages, 0..512 */
    uint16_t n_resident;                 /* resident pages, 0..512 */
    uint8_t huge;                        /* 1: backed by one huge page */
    uint8_t hint;                        /* HINT_NONE/HUGE/NOHUGE/MIXED */
} as_region_t;

/* Regions [r0, r0 + len) (indices from base), each in state g.
 * Invariants: len >= 1; g.n_mapped >= 1 (between operations);
 *   cand == (g.n_mapped == 512 && eligible(g)); sub_cand == cand or a
 *   child's sub_cand. */
typedef struct {
    as_rb_node_t node;
    uint64_t r0, len;
    as_region_t g;
    uint8_t cand, sub_cand;
} as_extent_t;

/* A free range of address space [start, end), both page aligned; max_bytes
 * is the largest end - start in its subtree. */
typedef struct {
    as_rb_node_t node;
    uintptr_t start, end;
    uint64_t max_bytes;
} as_range_t;

/* A spare tree node of either kind (free list link in its first word). */
typedef union spare {
    union spare *next;
    as_extent_t e;
    as_range_t f;
} as_spare_t;

/* Invariants: free ranges sorted, disjoint and non-adjacent; extents sorted
 *   and disjoint; free ranges ∪ mapped pages == [base, top),
 *   disjointly; mapped_bytes == 4096 * Σ len * n_mapped; likewise
 *   resident_bytes; huge_bytes == 2 MiB * Σ len * huge; n_regions > every
 *   extent's last region. */
struct as_simos {
    as_simos_config_t cfg;
    uintptr_t base;
    uintptr_t top;         /* end of the address space (layout dependent) */
    as_rb_atree_t extents; /* by r0 */
    as_rb_atree_t free;    /* free ranges by start */
    uint64_t n_regions;    /* 1 + highest region index ever mapped */
    as_extent_t *hot;      /* extent of the last touch, or NULL */
    as_spare_t *spare;     /* free nodes */
    uint32_t n_spare;
    uint64_t scan_cursor; /* next region khugepaged looks at */
    /* With cfg.phys only (docs/simos.md, "Physical memory"): this process's
     * owner id there, and the frame of every resident page, an open-address
     * hash of (virtual page << 28 | frame) words (EMPTY: free slot). */
    uint32_t owner;
    uint64_t *vmap;
    uint64_t vmap_cap, vmap_n; /* slots (a power of two), entries */
    int phys_err;              /* an operation ran out of physical memory */
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

/* 1 when some bit lo..hi of bm is set. */
static int bits_any_set(const uint64_t *bm, unsigned lo, unsigned hi)
{
    for (unsigned w = lo >> 6; w <= hi >> 6; w++)
        if (bm[w] & word_mask(w, lo, hi)) return 1;
    return 0;
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

static int region_eq(const as_region_t *a, const as_region_t *b)
{
    return a->n_mapped == b->n_mapped && a->n_resident == b->n_resident &&
           a->huge == b->huge && a->hint == b->hint &&
           !memcmp(a->mapped, b->mapped, sizeof a->mapped) &&
           !memcmp(a->resident, b->resident, sizeof a->resident) &&
           !memcmp(a->young, b->young, sizeof a->young);
}

/* ---- nodes -------------------------------------------------------------- */

/* Make sure SPARE_NODES nodes are at hand, so the operation that follows
 * cannot fail half done. @return 0 or AS_ENOMEM. */
static int spare_fill(as_simos_t *os)
{
    while (os->n_spare < SPARE_NODES) {
        as_spare_t *n = malloc(sizeof *n);
        if (!n) return AS_ENOMEM;
        n->next = os->spare;
        os->spare = n;
        os->n_spare++;
        os->c.host_bytes += sizeof *n;
    }
    return 0;
}

static void *node_get(as_simos_t *os)
{
    as_spare_t *n = os->spare; /* non-NULL: spare_fill ran */
    os->spare = n->next;
    os->n_spare--;
    memset(n, 0, sizeof *n);
    return n;
}

static void node_put(as_simos_t *os, void *p)
{
    as_spare_t *n = p;
    if (os->n_spare >= SPARE_KEEP) {
        free(n);
        os->c.host_bytes -= sizeof *n;
        return;
    }
    n->next = os->spare;
    os->spare = n;
    os->n_spare++;
}

/* ---- free ranges ---------------------------------------------------------- */

static as_range_t *range_of(const as_rb_node_t *n)
{
    return n ? AS_RB_ENTRY(n, as_range_t, node) : NULL;
}

static int range_augment(as_rb_node_t *n)
{
    as_range_t *f = range_of(n);
    uint64_t m = f->end - f->start, old = f->max_bytes;
    for (int d = 0; d < 2; d++)
        if (n->child[d] && range_of(n->child[d])->max_bytes > m)
            m = range_of(n->child[d])->max_bytes;
    f->max_bytes = m;
    return m != old;
}

static int range_key(const void *key, const as_rb_node_t *n)
{
    uintptr_t a = *(const uintptr_t *)key, s = range_of(n)->start;
    return a < s ? -1 : a > s;
}

static int range_cmp(const as_rb_node_t *a, const as_rb_node_t *b)
{
    return range_key(&range_of(a)->start, b);
}

static int range_fits(const as_rb_node_t *n, const void *bytes)
{
    return range_of(n)->end - range_of(n)->start >= *(const uint64_t *)bytes;
}

static int range_sub_fits(const as_rb_node_t *n, const void *bytes)
{
    return range_of(n)->max_bytes >= *(const uint64_t *)bytes;
}

/* The free range with the greatest start <= a, or NULL. */
static as_range_t *free_floor(const as_simos_t *os, uintptr_t a)
{
    return range_of(as_rb_floor(&os->free.tree, &a, range_key));
}

static void free_insert(as_simos_t *os, uintptr_t a, uintptr_t e)
{
    as_range_t *f = node_get(os);
    f->start = a;
    f->end = e;
    as_rb_ainsert(&os->free, &f->node, range_cmp);
}

/* Take [a, a+bytes) out of free range f, which contains it. */
static void free_take(as_simos_t *os, as_range_t *f, uintptr_t a, size_t bytes)
{
    uintptr_t e = a + bytes, fe = f->end;
    int left = a > f->start, right = e < f->end;
    if (left) {
        f->end = a;
        as_rb_propagate(&os->free, &f->node);
    } else if (right) {
        f->start = e;
        as_rb_propagate(&os->free, &f->node);
        return;
    } else {
        as_rb_aerase(&os->free, &f->node);
        node_put(os, f);
    }
    if (left && right) free_insert(os, e, fe);
}

/* Give [a, e) back to the free set, merging with neighbours. The range is
 * known not to overlap any free range. */
static void free_put(as_simos_t *os, uintptr_t a, uintptr_t e)
{
    as_range_t *l = free_floor(os, a);
    as_range_t *r =
        range_of(l ? as_rb_next(&l->node) : as_rb_first(&os->free.tree));
    int merge_left = l && l->end == a, merge_right = r && r->start == e;
    if (merge_left && merge_right) {
        /* Erase first: a node's own value changes only between structural
         * operations, then propagates (as_rb_propagate stops early). */
        uintptr_t end = r->end;
        as_rb_aerase(&os->free, &r->node);
        node_put(os, r);
        l->end = end;
        as_rb_propagate(&os->free, &l->node);
    } else if (merge_left) {
        l->end = e;
        as_rb_propagate(&os->free, &l->node);
    } else if (merge_right) {
        r->start = a;
        as_rb_propagate(&os->free, &r->node);
    } else {
        free_insert(os, a, e);
    }
}

/* ---- extents -------------------------------------------------------------- */

static as_extent_t *ext_of(const as_rb_node_t *n)
{
    return n ? AS_RB_ENTRY(n, as_extent_t, node) : NULL;
}

static int ext_augment(as_rb_node_t *n)
{
    as_extent_t *x = ext_of(n);
    uint8_t old = x->sub_cand;
    x->sub_cand = x->cand;
    for (int d = 0; d < 2; d++)
        if (n->child[d] && ext_of(n->child[d])->sub_cand) x->sub_cand = 1;
    return x->sub_cand != old;
}

static int ext_key(const void *key, const as_rb_node_t *n)
{
    uint64_t r = *(const uint64_t *)key, s = ext_of(n)->r0;
    return r < s ? -1 : r > s;
}

static int ext_cmp(const as_rb_node_t *a, const as_rb_node_t *b)
{
    return ext_key(&ext_of(a)->r0, b);
}

static int ext_is_cand(const as_rb_node_t *n, const void *arg)
{
    (void)arg;
    return ext_of(n)->cand;
}

static int ext_sub_cand(const as_rb_node_t *n, const void *arg)
{
    (void)arg;
    return ext_of(n)->sub_cand;
}

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

/* After x's state changed in place: refresh its candidate flag and the
 * subtree summaries above it. */
static void ext_changed(as_simos_t *os, as_extent_t *x)
{
    x->cand = x->g.n_mapped == PAGES_PER_REGION && region_eligible(os, &x->g);
    as_rb_propagate(&os->extents, &x->node);
}

static void ext_erase(as_simos_t *os, as_extent_t *x)
{
    if (os->hot == x) os->hot = NULL;
    as_rb_aerase(&os->extents, &x->node);
    node_put(os, x);
}

/* The extent holding region r, or NULL. */
static as_extent_t *ext_at(const as_simos_t *os, uint64_t r)
{
    as_extent_t *x = ext_of(as_rb_floor(&os->extents.tree, &r, ext_key));
    return x && r - x->r0 < x->len ? x : NULL;
}

/* The first extent holding a region >= r, or NULL. */
static as_extent_t *ext_from(const as_simos_t *os, uint64_t r)
{
    as_extent_t *x = ext_at(os, r);
    return x ? x : ext_of(as_rb_lower_bound(&os->extents.tree, &r, ext_key));
}

static as_extent_t *ext_next(const as_extent_t *x)
{
    return ext_of(as_rb_next(&x->node));
}

/* Make region r the first of an extent when an extent covers it past its
 * start. Uses one spare node. */
static void ext_cut(as_simos_t *os, uint64_t r)
{
    as_extent_t *x = ext_at(os, r);
    if (!x || x->r0 == r) return;
    as_extent_t *y = node_get(os);
    y->r0 = r;
    y->len = x->len - (r - x->r0);
    y->g = x->g;
    y->cand = x->cand;
    x->len = r - x->r0;
    as_rb_ainsert(&os->extents, &y->node, ext_cmp);
}

/* A new extent for regions [r0, r0+len), all unmapped so far. */
static as_extent_t *ext_new(as_simos_t *os, uint64_t r0, uint64_t len)
{
    as_extent_t *x = node_get(os);
    x->r0 = r0;
    x->len = len;
    as_rb_ainsert(&os->extents, &x->node, ext_cmp);
    return x;
}

/* Merge equal neighbours and drop unmapped extents among the extents
 * holding regions a..b (and the neighbour on each side). */
static void ext_tidy(as_simos_t *os, uint64_t a, uint64_t b)
{
    as_extent_t *x = ext_from(os, a > 0 ? a - 1 : 0);
    while (x && x->r0 <= b + 1) {
        as_extent_t *y = ext_next(x);
        if (x->g.n_mapped == 0) {
            ext_erase(os, x);
        } else if (y && y->r0 == x->r0 + x->len && y->r0 <= b + 1 &&
                   y->g.n_mapped && region_eq(&x->g, &y->g)) {
            x->len += y->len;
            ext_erase(os, y);
            continue; /* x may absorb the next one too */
        }
        x = y;
    }
}

/* One operation on the regions of a page span: called once per extent,
 * with the bit range lo..hi it covers in each of its regions. */
typedef void (*ext_op_fn)(as_simos_t *os, as_extent_t *x, unsigned lo,
                          unsigned hi);

/* Apply op to the pages p0..p1 (indices from base). The regions are cut so
 * that every extent inside is covered the same way in each of its regions
 * (a partly covered end region stands alone); with `create`, unmapped
 * regions get new extents first (reserve). Needs SPARE_NODES spare nodes. */
/* Inlined into each caller, so each gets its op as a constant (the touch
 * path's speed depends on op_touch being inlined). */
__attribute__((always_inline)) static inline void
span_apply(as_simos_t *os, uint64_t p0, uint64_t p1, int create, ext_op_fn op)
{
    uint64_t r0 = p0 >> 9, r1 = p1 >> 9;
    unsigned lo0 = (unsigned)(p0 & 511), hi1 = (unsigned)(p1 & 511);
    /* segments: [r0] partial, [a, b] full, [r1] partial */
    uint64_t cuts[4] = {r0, r1 + 1, r0 + 1, r1};
    for (int i = 0; i < 4; i++)
        ext_cut(os, cuts[i]);
    for (uint64_t r = r0; r <= r1;) {
        as_extent_t *x = ext_at(os, r);
        if (!x) {
            /* a gap, only when create: up to the next extent or r1, and a
             * partial end region on its own */
            as_extent_t *n = ext_from(os, r);
            uint64_t end = n && n->r0 <= r1 ? n->r0 - 1 : r1;
            if (r == r0 && end > r0) end = r0;
            if (end == r1 && r < r1) end = r1 - 1;
            if (!create) break; /* callers check span_mapped first */
            x = ext_new(os, r, end - r + 1);
        }
        unsigned lo = x->r0 == r0 ? lo0 : 0;
        unsigned hi = x->r0 + x->len - 1 == r1 ? hi1 : 511;
        op(os, x, lo, hi);
        ext_changed(os, x);
        r = x->r0 + x->len;
    }
    ext_tidy(os, r0, r1);
}

/* ---- page spans ------------------------------------------------------------ */

/* Page span of [addr, addr+bytes) relative to base, validated: page aligned,
 * non-empty, no overflow, below the highest region ever mapped.
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

/* 1 when the pages of region q (of extent x) that p0..p1 cover are mapped. */
static int region_covered(const as_extent_t *x, uint64_t q, uint64_t p0,
                          uint64_t p1)
{
    unsigned lo = q == p0 >> 9 ? (unsigned)(p0 & 511) : 0;
    unsigned hi = q == p1 >> 9 ? (unsigned)(p1 & 511) : 511;
    if (lo == 0 && hi == 511) return x->g.n_mapped == PAGES_PER_REGION;
    return bits_all_set(x->g.mapped, lo, hi);
}

/* 1 when every page p0..p1 is mapped. All regions of an extent share one
 * state, so its first, second and last covered regions stand for all of
 * them: O(extents in the span + log n). */
static int span_mapped(const as_simos_t *os, uint64_t p0, uint64_t p1)
{
    uint64_t r1 = p1 >> 9, r = p0 >> 9;
    for (as_extent_t *x = ext_at(os, r); r <= r1; x = ext_next(x)) {
        if (!x || x->r0 > r) return 0;
        uint64_t end = x->r0 + x->len - 1;
        if (end > r1) end = r1;
        if (!region_covered(x, r, p0, p1) || !region_covered(x, end, p0, p1) ||
            (end - r >= 2 && !region_covered(x, r + 1, p0, p1)))
            return 0;
        r = end + 1;
    }
    return 1;
}

/* ---- region operations (applied to every region of an extent) ------------- */

/* Physical-memory hooks, defined below (only called with cfg.phys; kept
 * out of line so the paths without a phys compile as before). */
#define PHYS_HOOK __attribute__((noinline, cold))
PHYS_HOOK static void phys_drop(as_simos_t *os, as_extent_t *x, unsigned lo,
                                unsigned hi);
PHYS_HOOK static void phys_touch(as_simos_t *os, as_extent_t *x, unsigned lo,
                                 unsigned hi);
PHYS_HOOK static int phys_collapse(as_simos_t *os, uint64_t r);
static int phys_attach(as_simos_t *os);
static void phys_detach(as_simos_t *os);
static int phys_check(const as_simos_t *os);

/* Pages lo..hi of each region of x stop being resident (release or unmap).
 * A huge region loses its huge page: a split unless the whole region is
 * covered. @return bytes dropped per region. */
__attribute__((always_inline)) static inline uint64_t
region_drop(as_simos_t *os, as_extent_t *x, unsigned lo, unsigned hi)
{
    as_region_t *g = &x->g;
    if (g->huge) {
        g->huge = 0;
        os->c.huge_bytes -= REGION_BYTES * x->len;
        if (!(lo == 0 && hi == 511)) os->c.splits += x->len;
    }
    unsigned n = bits_clear(g->resident, lo, hi);
    bits_clear(g->young, lo, hi); /* the ptes are none now */
    g->n_resident = (uint16_t)(g->n_resident - n);
    os->c.resident_bytes -= ((uint64_t)n << PAGE_SHIFT) * x->len;
    return (uint64_t)n << PAGE_SHIFT;
}

/* Make every page of x's regions resident as huge pages (fault or
 * collapse). */
static void region_make_huge(as_simos_t *os, as_extent_t *x)
{
    as_region_t *g = &x->g;
    unsigned n = PAGES_PER_REGION - g->n_resident;
    for (unsigned w = 0; w < WORDS_PER_REGION; w++)
        g->resident[w] = g->young[w] = ~0ull;
    g->n_resident = PAGES_PER_REGION;
    g->huge = 1;
    os->c.resident_bytes += ((uint64_t)n << PAGE_SHIFT) * x->len;
    os->c.huge_bytes += REGION_BYTES * x->len;
}

static void op_reserve(as_simos_t *os, as_extent_t *x, unsigned lo, unsigned hi)
{
    (void)os;
    as_region_t *g = &x->g;
    /* New pages carry no advice: a region already holding advised pages
     * now mixes two kinds of mapping. */
    if (g->n_mapped && g->hint != HINT_NONE) g->hint = HINT_MIXED;
    g->n_mapped = (uint16_t)(g->n_mapped + bits_set(g->mapped, lo, hi));
}

static void op_release(as_simos_t *os, as_extent_t *x, unsigned lo, unsigned hi)
{
    if (!x->g.n_resident) return;
    if (os->cfg.phys) phys_drop(os, x, lo, hi);
    os->c.released_bytes += region_drop(os, x, lo, hi) * x->len;
}

static void op_unreserve(as_simos_t *os, as_extent_t *x, unsigned lo,
                         unsigned hi)
{
    as_region_t *g = &x->g;
    if (g->n_resident) {
        if (os->cfg.phys) phys_drop(os, x, lo, hi);
        region_drop(os, x, lo, hi);
    }
    g->n_mapped = (uint16_t)(g->n_mapped - bits_clear(g->mapped, lo, hi));
    if (g->n_mapped == 0) g->hint = HINT_NONE;
}

static void op_hint_on(as_simos_t *os, as_extent_t *x, unsigned lo, unsigned hi)
{
    (void)os;
    if ((lo == 0 && hi == 511) || x->g.hint == HINT_HUGE)
        x->g.hint = HINT_HUGE;
    else
        x->g.hint = HINT_MIXED;
}

static void op_hint_off(as_simos_t *os, as_extent_t *x, unsigned lo,
                        unsigned hi)
{
    (void)os;
    if ((lo == 0 && hi == 511) || x->g.hint == HINT_NOHUGE)
        x->g.hint = HINT_NOHUGE;
    else
        x->g.hint = HINT_MIXED;
}

/* The accessed bits of pages lo..hi of x's regions after a touch made them
 * resident: a huge page has one bit, in its pmd, standing for all 512;
 * a page the touch could not fault in (out of physical memory) stays old. */
static inline void mark_young(as_region_t *g, unsigned lo, unsigned hi)
{
    if (g->huge) {
        bits_set(g->young, 0, PAGES_PER_REGION - 1);
        return;
    }
    for (unsigned w = lo >> 6; w <= hi >> 6; w++)
        g->young[w] |= word_mask(w, lo, hi) & g->resident[w];
}

static inline void touch_fault(as_simos_t *os, as_extent_t *x, unsigned lo,
                               unsigned hi)
{
    as_region_t *g = &x->g;
    if (g->n_resident == PAGES_PER_REGION) return;
    if (g->n_resident == 0 && g->n_mapped == PAGES_PER_REGION &&
        region_eligible(os, g)) {
        region_make_huge(os, x);
        os->c.huge_faults += x->len;
        return;
    }
    unsigned n = bits_set(g->resident, lo, hi);
    g->n_resident = (uint16_t)(g->n_resident + n);
    os->c.resident_bytes += ((uint64_t)n << PAGE_SHIFT) * x->len;
    os->c.page_faults += (uint64_t)n * x->len;
}

static void op_touch(as_simos_t *os, as_extent_t *x, unsigned lo, unsigned hi)
{
    touch_fault(os, x, lo, hi);
    mark_young(&x->g, lo, hi);
}

/* ---- page-source operations -------------------------------------------- */

/* The lowest free range at or after f (in address order) where `bytes` fit
 * at `align`, and the address in it. @return NULL when none. */
static as_range_t *first_fit(const as_simos_t *os, size_t bytes, size_t align,
                             uintptr_t *at)
{
    uint64_t need = bytes;
    for (as_rb_node_t *n = as_rb_first_match(&os->free.tree, range_fits,
                                             range_sub_fits, &need);
         n; n = as_rb_next_match(n, range_fits, range_sub_fits, &need)) {
        /* Every range of `bytes` or more is visited in address order; one
         * too short after alignment is skipped (a cost only for alignments
         * above the page, paid per such range). */
        as_range_t *f = range_of(n);
        uintptr_t c = (uintptr_t)as_align_up(f->start, align);
        if (c >= f->start && c < f->end && f->end - c >= bytes) {
            *at = c;
            return f;
        }
    }
    return NULL;
}

/* [f->start, e) holds `need` bytes (e <= f->end): the highest address
 * there that is a multiple of `align` and leaves `bytes` below e, in *at.
 * need >= bytes + align - page makes that address >= f->start.
 * @return 1, or 0 when the range is too short. */
static int fits_below(const as_range_t *f, uintptr_t e, uint64_t need,
                      size_t bytes, size_t align, uintptr_t *at)
{
    if (e <= f->start || e - f->start < need) return 0;
    *at = (e - bytes) & ~(uintptr_t)(align - 1);
    return 1;
}

/* The top-down layout's search (mm/mmap.c unmapped_area_topdown, under
 * arch_get_unmapped_area_topdown): the highest free range below `limit`
 * (mmap_base) that holds bytes + pad (the length the kernel is asked for:
 * the real page source maps bytes + align - page and trims it to the
 * alignment, malloc/osmem.c), and in *at the highest `align`-aligned
 * address in it with `bytes` below its top (where that trim leaves the
 * mapping). The range holding limit is cut at limit; every range before it
 * ends below limit, so the subtree maxima apply unchanged to them.
 * @return NULL when none. */
static as_range_t *top_fit(const as_simos_t *os, uintptr_t limit, size_t bytes,
                           size_t align, uint64_t pad, uintptr_t *at)
{
    uint64_t need = (uint64_t)bytes + pad;
    if (need < bytes || limit <= os->base) return NULL;
    as_range_t *f = free_floor(os, limit - 1);
    if (!f) return NULL;
    if (fits_below(f, f->end < limit ? f->end : limit, need, bytes, align, at))
        return f;
    as_range_t *g =
        range_of(as_rb_prev_match(&f->node, range_fits, range_sub_fits, &need));
    if (g && fits_below(g, g->end, need, bytes, align, at)) return g;
    return NULL;
}

/* Where a reservation without a usable hint goes under the top-down layout
 * (the address space ends at mmap_base then, so no range is cut):
 * a length that is a multiple of 2 MiB with no further alignment is first
 * placed 2 MiB aligned (mm/mmap.c __get_unmapped_area, "larger anonymous
 * mappings are THP aligned", by thp_get_unmapped_area_vmflags with the
 * length padded by 2 MiB, mm/huge_memory.c), then at the page, then
 * bottom-up over the whole space (the kernel's fallback). */
static as_range_t *topdown_fit(const as_simos_t *os, size_t bytes, size_t align,
                               uintptr_t *at)
{
    as_range_t *f = NULL;
    if (align == PAGE_BYTES && !(bytes & (REGION_BYTES - 1)))
        f = top_fit(os, os->top, bytes, REGION_BYTES, REGION_BYTES, at);
    if (!f) f = top_fit(os, os->top, bytes, align, align - PAGE_BYTES, at);
    if (!f) f = first_fit(os, bytes, align, at);
    return f;
}

static int simos_reserve(void *state, uintptr_t hint, size_t bytes,
                         size_t align, uintptr_t *addr)
{
    as_simos_t *os = state;
    if (bytes == 0 || (bytes & (PAGE_BYTES - 1))) return AS_EINVAL;
    if (align == 0) align = PAGE_BYTES;
    if (!as_is_pow2(align)) return AS_EINVAL;
    if (align < PAGE_BYTES) align = PAGE_BYTES;
    if (spare_fill(os)) return AS_ENOMEM;

    as_range_t *f = NULL;
    uintptr_t a = 0;
    if (hint && !(hint & (align - 1)) && hint >= os->base &&
        hint + bytes > hint) {
        as_range_t *h = free_floor(os, hint);
        if (h && hint + bytes <= h->end) {
            f = h;
            a = hint;
        }
    }
    if (!f)
        f = os->cfg.mmap_layout == AS_MMAP_TOPDOWN
                ? topdown_fit(os, bytes, align, &a)
                : first_fit(os, bytes, align, &a);
    if (!f) return AS_ENOSPACE;

    uint64_t p0 = (a - os->base) >> PAGE_SHIFT;
    uint64_t p1 = p0 + (bytes >> PAGE_SHIFT) - 1;
    free_take(os, f, a, bytes);
    if ((p1 >> 9) + 1 > os->n_regions) os->n_regions = (p1 >> 9) + 1;
    span_apply(os, p0, p1, 1, op_reserve);
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
    if (spare_fill(os)) return AS_ENOMEM;
    span_apply(os, p0, p1, 0, op_release);
    os->c.releases++;
    return 0;
}

static int simos_unreserve(void *state, uintptr_t addr, size_t bytes)
{
    as_simos_t *os = state;
    uint64_t p0, p1;
    if (page_span(os, addr, bytes, &p0, &p1) || !span_mapped(os, p0, p1))
        return AS_EINVAL;
    if (spare_fill(os)) return AS_ENOMEM;
    span_apply(os, p0, p1, 0, op_unreserve);
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
    if (spare_fill(os)) return AS_ENOMEM;
    span_apply(os, p0, p1, 0, enable ? op_hint_on : op_hint_off);
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
    /* The machine below (docs/simos.md, "Physical memory"). */
    [AS_SIMOS_P_PHYS_MEM] = {"phys_mem", AS_PARAM_BYTES, "0", 0,
                             1099511627776.0, NULL,
                             "physical memory, a multiple of 4M up to 1T "
                             "(0: unlimited, no buddy allocator)"},
    [AS_SIMOS_P_DEFRAG] = {"defrag", AS_PARAM_ENUM, "madvise", 0, 0,
                           "always|defer|defer+madvise|madvise|never",
                           "THP fault without a free 2 MiB block: compact "
                           "or fall back (transparent_hugepage/defrag)"},
    [AS_SIMOS_P_KHUGEPAGED_DEFRAG] = {"khugepaged_defrag", AS_PARAM_BOOL, "1",
                                      0, 1, NULL,
                                      "khugepaged may compact for a collapse"},
    [AS_SIMOS_P_PHYS_INTERVAL] = {"phys_interval", AS_PARAM_NS, "100ms", 1e6,
                                  1e15, NULL,
                                  "period of kcompactd and the tenants' steps "
                                  "(1ms..1e15ns)"},
    [AS_SIMOS_P_TENANT_CACHE] = {"tenant_cache", AS_PARAM_BYTES, "0", 0,
                                 1099511627776.0, NULL,
                                 "background page cache (movable, "
                                 "reclaimable)"},
    [AS_SIMOS_P_TENANT_UNMOVABLE] = {"tenant_unmovable", AS_PARAM_BYTES, "0", 0,
                                     1099511627776.0, NULL,
                                     "background slab and other programs "
                                     "(unmovable)"},
    [AS_SIMOS_P_TENANT_SWING] = {"tenant_swing", AS_PARAM_U64, "0", 0, 100,
                                 NULL,
                                 "percent the tenants' levels vary (triangle "
                                 "wave)"},
    [AS_SIMOS_P_TENANT_PERIOD] = {"tenant_period", AS_PARAM_NS, "60s", 0, 1e18,
                                  NULL, "period of the tenants' variation"},
    [AS_SIMOS_P_TENANT_CHURN] = {"tenant_churn", AS_PARAM_U64, "10", 0, 1000,
                                 NULL,
                                 "per mille of tenant pages freed and retaken "
                                 "per step"},
    [AS_SIMOS_P_TENANT_SEED] = {"tenant_seed", AS_PARAM_U64, "1", 0,
                                18446744073709551615.0, NULL,
                                "seed of the tenants' choices"},
    [AS_SIMOS_P_KHUGEPAGED_REFERENCED] =
        {"khugepaged_referenced", AS_PARAM_BOOL, "1", 0, 1, NULL,
         "khugepaged: collapse only a region with a young (accessed) page, "
         "as Linux"},
    [AS_SIMOS_P_YOUNG_CLEAR] = {"young_clear", AS_PARAM_ENUM, "never", 0, 0,
                                "never|scan",
                                "what clears accessed bits: never (no "
                                "reclaim aging, as an unpressured Linux) or "
                                "each khugepaged visit"},
    [AS_SIMOS_P_MMAP_LAYOUT] = {"mmap_layout", AS_PARAM_ENUM, "topdown", 0, 0,
                                "topdown|bottomup",
                                "where a mapping without a free hint goes: "
                                "the highest fit below mmap_base (Linux's "
                                "default) or the lowest above base"},
    [AS_SIMOS_P_WRITES] = {"writes", AS_PARAM_ENUM, "auto", 0, 0,
                           "auto|alloc|recorded",
                           "which bytes the program writes: every byte at "
                           "allocation (alloc), the trace's write reports "
                           "for objects >= record.writes_min_bytes "
                           "(recorded), or recorded when the trace has "
                           "them (auto)"},
};

void as_simos_params_of(const as_simos_config_t *cfg, as_param_value_t *v)
{
    v[AS_SIMOS_P_THP].u = (uint64_t)cfg->thp;
    v[AS_SIMOS_P_KHUGEPAGED].u = (uint64_t)cfg->khugepaged;
    v[AS_SIMOS_P_MAX_PTES_NONE].u = cfg->max_ptes_none;
    v[AS_SIMOS_P_SCAN_INTERVAL].u = cfg->scan_interval_ns;
    v[AS_SIMOS_P_SCAN_REGIONS].u = cfg->scan_regions;
    v[AS_SIMOS_P_PHYS_MEM].u = cfg->phys_mem_bytes;
    v[AS_SIMOS_P_DEFRAG].u = (uint64_t)cfg->defrag;
    v[AS_SIMOS_P_KHUGEPAGED_DEFRAG].u = (uint64_t)cfg->khugepaged_defrag;
    v[AS_SIMOS_P_PHYS_INTERVAL].u = cfg->phys_interval_ns;
    v[AS_SIMOS_P_TENANT_CACHE].u = cfg->tenants.cache_bytes;
    v[AS_SIMOS_P_TENANT_UNMOVABLE].u = cfg->tenants.unmovable_bytes;
    v[AS_SIMOS_P_TENANT_SWING].u = cfg->tenants.swing_pct;
    v[AS_SIMOS_P_TENANT_PERIOD].u = cfg->tenants.period_ns;
    v[AS_SIMOS_P_TENANT_CHURN].u = cfg->tenants.churn_permille;
    v[AS_SIMOS_P_TENANT_SEED].u = cfg->tenants.seed;
    v[AS_SIMOS_P_KHUGEPAGED_REFERENCED].u =
        (uint64_t)cfg->khugepaged_referenced;
    v[AS_SIMOS_P_YOUNG_CLEAR].u = (uint64_t)cfg->young_clear;
    v[AS_SIMOS_P_MMAP_LAYOUT].u = (uint64_t)cfg->mmap_layout;
    v[AS_SIMOS_P_WRITES].u = (uint64_t)cfg->writes;
}

void as_simos_config_apply(as_simos_config_t *cfg, const as_param_value_t *v)
{
    cfg->thp = (as_thp_mode_t)v[AS_SIMOS_P_THP].u;
    cfg->khugepaged = (int)v[AS_SIMOS_P_KHUGEPAGED].u;
    cfg->max_ptes_none = (uint32_t)v[AS_SIMOS_P_MAX_PTES_NONE].u;
    cfg->scan_interval_ns = v[AS_SIMOS_P_SCAN_INTERVAL].u;
    cfg->scan_regions = (uint32_t)v[AS_SIMOS_P_SCAN_REGIONS].u;
    cfg->phys_mem_bytes = v[AS_SIMOS_P_PHYS_MEM].u;
    cfg->defrag = (as_defrag_t)v[AS_SIMOS_P_DEFRAG].u;
    cfg->khugepaged_defrag = (int)v[AS_SIMOS_P_KHUGEPAGED_DEFRAG].u;
    cfg->phys_interval_ns = v[AS_SIMOS_P_PHYS_INTERVAL].u;
    cfg->tenants.cache_bytes = v[AS_SIMOS_P_TENANT_CACHE].u;
    cfg->tenants.unmovable_bytes = v[AS_SIMOS_P_TENANT_UNMOVABLE].u;
    cfg->tenants.swing_pct = (uint32_t)v[AS_SIMOS_P_TENANT_SWING].u;
    cfg->tenants.period_ns = v[AS_SIMOS_P_TENANT_PERIOD].u;
    cfg->tenants.churn_permille = (uint32_t)v[AS_SIMOS_P_TENANT_CHURN].u;
    cfg->tenants.seed = v[AS_SIMOS_P_TENANT_SEED].u;
    cfg->khugepaged_referenced = (int)v[AS_SIMOS_P_KHUGEPAGED_REFERENCED].u;
    cfg->young_clear = (as_young_clear_t)v[AS_SIMOS_P_YOUNG_CLEAR].u;
    cfg->mmap_layout = (as_mmap_layout_t)v[AS_SIMOS_P_MMAP_LAYOUT].u;
    cfg->writes = (as_writes_mode_t)v[AS_SIMOS_P_WRITES].u;
}

void as_simos_config_default(as_simos_config_t *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->thp = AS_THP_ALWAYS;
    cfg->khugepaged = 1;
    cfg->max_ptes_none = 511;
    cfg->scan_interval_ns = 10ull * 1000 * 1000 * 1000;
    cfg->scan_regions = 8;
    cfg->khugepaged_referenced = 1;
    cfg->young_clear = AS_YOUNG_CLEAR_NEVER;
    cfg->mmap_layout = AS_MMAP_TOPDOWN;
    cfg->writes = AS_WRITES_AUTO;
    cfg->base = (uintptr_t)0x100000000000ull;
    cfg->defrag = AS_DEFRAG_MADVISE;
    cfg->khugepaged_defrag = 1;
    cfg->phys_interval_ns = 100ull * 1000 * 1000;
    cfg->tenants.period_ns = 60ull * 1000 * 1000 * 1000;
    cfg->tenants.churn_permille = 10;
    cfg->tenants.seed = 1;
}

int as_simos_create(const as_simos_config_t *cfg, as_simos_t **out)
{
    as_simos_config_t def;
    if (!cfg) {
        as_simos_config_default(&def);
        cfg = &def;
    }
    *out = NULL;
    uintptr_t top =
        cfg->mmap_layout == AS_MMAP_TOPDOWN ? AS_SIMOS_MMAP_BASE : AS_SIMOS_TOP;
    if ((cfg->base & (REGION_BYTES - 1)) || cfg->base >= top ||
        cfg->thp > AS_THP_ALWAYS || cfg->defrag > AS_DEFRAG_NEVER ||
        cfg->young_clear > AS_YOUNG_CLEAR_SCAN ||
        cfg->mmap_layout > AS_MMAP_BOTTOMUP)
        return AS_EINVAL;
    as_simos_t *os = calloc(1, sizeof *os);
    if (!os) return AS_ENOMEM;
    os->cfg = *cfg;
    if (os->cfg.max_ptes_none > PAGES_PER_REGION - 1)
        os->cfg.max_ptes_none = PAGES_PER_REGION - 1;
    os->base = cfg->base;
    as_rb_ainit(&os->extents, ext_augment);
    as_rb_ainit(&os->free, range_augment);
    if (spare_fill(os)) {
        as_simos_destroy(os);
        return AS_ENOMEM;
    }
    os->top = top;
    free_insert(os, os->base, os->top);
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
    int rc;
    if (os->cfg.phys && (rc = phys_attach(os)) != 0) {
        as_simos_destroy(os);
        return rc;
    }
    *out = os;
    return 0;
}

/* Free every node of the subtree at n. */
static void free_subtree(as_rb_node_t *n)
{
    while (n) {
        free_subtree(n->child[0]);
        as_rb_node_t *r = n->child[1];
        free(n); /* the node is the first member of its extent or range */
        n = r;
    }
}

void as_simos_destroy(as_simos_t *os)
{
    if (!os) return;
    if (os->cfg.phys) phys_detach(os);
    free_subtree(os->extents.tree.root);
    free_subtree(os->free.tree.root);
    while (os->spare) {
        as_spare_t *n = os->spare;
        os->spare = n->next;
        free(n);
    }
    free(os);
}

const as_pagesource_t *as_simos_pagesource(as_simos_t *os)
{
    return &os->ps;
}

/* ---- physical memory (only with cfg.phys) --------------------------------
 *
 * Every resident page of this process holds a frame of cfg.phys, found
 * through vmap; a huge region holds one order-9 block (its 512 pages map to
 * consecutive frames). These functions are the only ones that allocate,
 * free or look up frames; without a phys none of them runs. */

#define VMAP_EMPTY UINT64_MAX
#define VMAP_FRAME_BITS 28 /* frames of 1 TiB (AS_PHYS_MAX_BYTES) */
#define VMAP_FRAME_MASK ((1ull << VMAP_FRAME_BITS) - 1)

static uint64_t vmap_slot(const as_simos_t *os, uint64_t vpage)
{
    return (vpage * 0x9e3779b97f4a7c15ull) >> 17 & (os->vmap_cap - 1);
}

/* The frame of resident page vpage, or VMAP_EMPTY. */
static uint64_t vmap_get(const as_simos_t *os, uint64_t vpage)
{
    for (uint64_t i = vmap_slot(os, vpage);; i = (i + 1) & (os->vmap_cap - 1)) {
        uint64_t w = os->vmap[i];
        if (w == VMAP_EMPTY) return VMAP_EMPTY;
        if (w >> VMAP_FRAME_BITS == vpage) return w & VMAP_FRAME_MASK;
    }
}

static int vmap_grow(as_simos_t *os)
{
    uint64_t cap = os->vmap_cap * 2, *old = os->vmap, n = os->vmap_cap;
    uint64_t *t = malloc(cap * sizeof *t);
    if (!t) return AS_ENOMEM;
    memset(t, 0xff, cap * sizeof *t);
    os->vmap = t;
    os->vmap_cap = cap;
    for (uint64_t j = 0; j < n; j++) {
        if (old[j] == VMAP_EMPTY) continue;
        uint64_t i = vmap_slot(os, old[j] >> VMAP_FRAME_BITS);
        while (t[i] != VMAP_EMPTY)
            i = (i + 1) & (cap - 1);
        t[i] = old[j];
    }
    free(old);
    os->c.host_bytes += n * sizeof *t;
    return 0;
}

/* Map vpage to frame (insert or replace). @return 0 or AS_ENOMEM. */
static int vmap_put(as_simos_t *os, uint64_t vpage, uint64_t frame)
{
    if (2 * (os->vmap_n + 1) > os->vmap_cap && vmap_grow(os)) return AS_ENOMEM;
    uint64_t i = vmap_slot(os, vpage);
    while (os->vmap[i] != VMAP_EMPTY && os->vmap[i] >> VMAP_FRAME_BITS != vpage)
        i = (i + 1) & (os->vmap_cap - 1);
    if (os->vmap[i] == VMAP_EMPTY) os->vmap_n++;
    os->vmap[i] = vpage << VMAP_FRAME_BITS | frame;
    return 0;
}

/* Remove vpage; @return its frame (it must be there). Backward-shift
 * deletion keeps every probe sequence unbroken. */
static uint64_t vmap_del(as_simos_t *os, uint64_t vpage)
{
    uint64_t mask = os->vmap_cap - 1, i = vmap_slot(os, vpage);
    while (os->vmap[i] >> VMAP_FRAME_BITS != vpage)
        i = (i + 1) & mask;
    uint64_t frame = os->vmap[i] & VMAP_FRAME_MASK;
    for (uint64_t j = (i + 1) & mask; os->vmap[j] != VMAP_EMPTY;
         j = (j + 1) & mask) {
        uint64_t h = vmap_slot(os, os->vmap[j] >> VMAP_FRAME_BITS);
        /* j's entry may move to the hole at i when its home is not in
         * the cyclic interval (i, j] */
        if (((j - h) & mask) >= ((j - i) & mask)) {
            os->vmap[i] = os->vmap[j];
            i = j;
        }
    }
    os->vmap[i] = VMAP_EMPTY;
    os->vmap_n--;
    return frame;
}

/* phys callback: compaction moved the frame of vpage. */
static void phys_migrated(void *state, uint64_t vpage, uint64_t frame)
{
    as_simos_t *os = state;
    vmap_put(os, vpage, frame); /* replaces: never grows */
}

/* One 4 KiB frame for vpage, reclaiming when memory is short.
 * @return 0, AS_ENOSPACE (physical memory exhausted) or AS_ENOMEM. */
static int phys_page(as_simos_t *os, uint64_t vpage)
{
    uint64_t f;
    if (as_phys_alloc(os->cfg.phys, os->owner, 0, AS_MT_MOVABLE, vpage, &f) &&
        (as_phys_reclaim(os->cfg.phys, 32) == 0 ||
         as_phys_alloc(os->cfg.phys, os->owner, 0, AS_MT_MOVABLE, vpage, &f)))
        return AS_ENOSPACE;
    if (vmap_put(os, vpage, f)) {
        as_phys_free(os->cfg.phys, f, 0);
        return AS_ENOMEM;
    }
    return 0;
}

/* An order-9 block for region r, compacting first when `direct`; its 512
 * pages map to it. @return 1 with the block in *block, 0 when none. */
static int phys_huge(as_simos_t *os, uint64_t r, int direct, uint64_t *block)
{
    as_phys_t *ph = os->cfg.phys;
    uint64_t f, vp = r * PAGES_PER_REGION;
    if (as_phys_alloc(ph, os->owner, AS_PHYS_PAGEBLOCK_ORDER, AS_MT_MOVABLE, vp,
                      &f)) {
        if (!direct) return 0;
        os->c.compact_stalls++;
        if (!as_phys_compact(ph, AS_PHYS_PAGEBLOCK_ORDER) ||
            as_phys_alloc(ph, os->owner, AS_PHYS_PAGEBLOCK_ORDER, AS_MT_MOVABLE,
                          vp, &f))
            return 0;
    }
    *block = f;
    return 1;
}

/* Map the 512 pages of region r to block; pages already mapped to frames
 * give theirs back (a collapse copies them into the block). */
static int phys_map_block(as_simos_t *os, uint64_t r, uint64_t block)
{
    uint64_t vp = r * PAGES_PER_REGION;
    for (uint64_t i = 0; i < PAGES_PER_REGION; i++) {
        uint64_t old = vmap_get(os, vp + i);
        if (old != VMAP_EMPTY) as_phys_free(os->cfg.phys, old, 0);
        if (vmap_put(os, vp + i, block + i)) return AS_ENOMEM;
    }
    return 0;
}

/* The THP fault policy of /sys/kernel/mm/transparent_hugepage/defrag for a
 * fault in a region with advice `hint`: 1 = compact directly; 0 = fall
 * back now (waking kcompactd in the defer modes). */
static int defrag_direct(as_simos_t *os, int hint)
{
    int advised = hint == HINT_HUGE;
    switch (os->cfg.defrag) {
    case AS_DEFRAG_ALWAYS:
        return 1;
    case AS_DEFRAG_DEFER:
        as_phys_wake_kcompactd(os->cfg.phys);
        return 0;
    case AS_DEFRAG_DEFER_MADVISE:
        if (advised) return 1;
        as_phys_wake_kcompactd(os->cfg.phys);
        return 0;
    case AS_DEFRAG_MADVISE:
        return advised;
    default:
        return 0;
    }
}

/* op_touch with a phys, for extent x of one region (phys_touch_span cuts
 * them so; it applies this op instead of op_touch): nothing when all pages
 * are resident, else a huge fault when an order-9 block is to be had (after direct
 * compaction if defrag says so), else 4 KiB frames for the pages lo..hi.
 * Out of memory stops it with os->phys_err set. */
static void phys_touch(as_simos_t *os, as_extent_t *x, unsigned lo, unsigned hi)
{
    as_region_t *g = &x->g;
    uint64_t r = x->r0, block;
    if (g->n_resident == PAGES_PER_REGION) return;
    if (g->n_resident == 0 && g->n_mapped == PAGES_PER_REGION &&
        region_eligible(os, g)) {
        if (phys_huge(os, r, defrag_direct(os, g->hint), &block)) {
            os->c.frames += PAGES_PER_REGION;
            if (phys_map_block(os, r, block)) os->phys_err = AS_ENOMEM;
            region_make_huge(os, x);
            os->c.huge_faults++;
            return;
        }
        os->c.thp_fault_fallbacks++;
    }
    for (unsigned p = lo; p <= hi; p++) {
        if (g->resident[p >> 6] >> (p & 63) & 1) continue;
        int rc = phys_page(os, r * PAGES_PER_REGION + p);
        if (rc) {
            os->phys_err = rc;
            break;
        }
        g->resident[p >> 6] |= 1ull << (p & 63);
        g->n_resident++;
        os->c.resident_bytes += PAGE_BYTES;
        os->c.page_faults++;
        os->c.frames++;
    }
}

/* The op a touch applies with a phys: the fault, then the accessed bits
 * of the pages it made resident. */
static void phys_op_touch(as_simos_t *os, as_extent_t *x, unsigned lo,
                          unsigned hi)
{
    phys_touch(os, x, lo, hi);
    mark_young(&x->g, lo, hi);
}

/* touch with a phys: one region at a time, so each region's outcome (huge
 * or not) can differ. @return 0, AS_ENOSPACE (out of physical memory) or
 * AS_ENOMEM. */
PHYS_HOOK static int phys_touch_span(as_simos_t *os, uint64_t p0, uint64_t p1)
{
    os->phys_err = 0;
    for (uint64_t r = p0 >> 9; r <= p1 >> 9 && !os->phys_err; r++) {
        const as_extent_t *x = ext_at(os, r);
        /* all young: all resident, nothing to change */
        if (x && bits_all_set(x->g.young, 0, PAGES_PER_REGION - 1)) continue;
        uint64_t a = r << 9 > p0 ? r << 9 : p0;
        uint64_t b = (r << 9) + 511 < p1 ? (r << 9) + 511 : p1;
        if (spare_fill(os)) return AS_ENOMEM;
        span_apply(os, a, b, 0, phys_op_touch);
    }
    os->hot = ext_at(os, p0 >> 9);
    return os->phys_err;
}

/* region_drop with a phys: pages lo..hi of each region of x give their
 * frames back; a huge page covered in part goes on the deferred split
 * queue with those frames (called before the region's state changes). */
static void phys_drop(as_simos_t *os, as_extent_t *x, unsigned lo, unsigned hi)
{
    as_region_t *g = &x->g;
    if (!g->n_resident) return;
    for (uint64_t r = x->r0; r < x->r0 + x->len; r++) {
        uint64_t vp = r * PAGES_PER_REGION;
        if (g->huge) {
            uint64_t block = vmap_get(os, vp);
            uint64_t bm[WORDS_PER_REGION] = {0};
            bits_set(bm, lo, hi);
            for (unsigned p = lo; p <= hi; p++)
                vmap_del(os, vp + p);
            if (lo == 0 && hi == PAGES_PER_REGION - 1)
                as_phys_free(os->cfg.phys, block, AS_PHYS_PAGEBLOCK_ORDER);
            else
                as_phys_defer_split(os->cfg.phys, block, bm);
            os->c.frames -= hi - lo + 1;
            continue;
        }
        for (unsigned p = lo; p <= hi; p++) {
            if (!(g->resident[p >> 6] >> (p & 63) & 1)) continue;
            as_phys_free(os->cfg.phys, vmap_del(os, vp + p), 0);
            os->c.frames--;
        }
    }
}

/* khugepaged with a phys: an order-9 block for region r (compacting when
 * khugepaged_defrag), into which its resident pages are copied.
 * @return 1 when collapsed frames are in place, 0 when no block. */
static int phys_collapse(as_simos_t *os, uint64_t r)
{
    uint64_t block;
    if (!phys_huge(os, r, os->cfg.khugepaged_defrag, &block)) {
        os->c.collapse_failures++;
        return 0;
    }
    const as_extent_t *x = ext_at(os, r);
    os->c.frames += PAGES_PER_REGION - x->g.n_resident;
    if (phys_map_block(os, r, block)) os->phys_err = AS_ENOMEM;
    return 1;
}

/* Attach to cfg.phys: an owner id and an empty vmap. @return 0 or an
 * error of as_phys_owner_add / AS_ENOMEM. */
static int phys_attach(as_simos_t *os)
{
    as_phys_owner_ops_t ops = {phys_migrated, NULL, os};
    int rc = as_phys_owner_add(os->cfg.phys, &ops, &os->owner);
    if (rc) return rc;
    os->vmap_cap = 1024;
    os->vmap = malloc(os->vmap_cap * sizeof *os->vmap);
    if (!os->vmap) {
        as_phys_owner_remove(os->cfg.phys, os->owner);
        os->cfg.phys = NULL;
        return AS_ENOMEM;
    }
    memset(os->vmap, 0xff, os->vmap_cap * sizeof *os->vmap);
    os->c.host_bytes += os->vmap_cap * sizeof *os->vmap;
    return 0;
}

/* Give every frame back and leave cfg.phys. */
static void phys_detach(as_simos_t *os)
{
    if (!os->vmap) return;
    for (as_rb_node_t *n = as_rb_first(&os->extents.tree); n;
         n = as_rb_next(n)) {
        as_extent_t *x = ext_of(n);
        phys_drop(os, x, 0, PAGES_PER_REGION - 1);
    }
    as_phys_owner_remove(os->cfg.phys, os->owner);
    free(os->vmap);
    os->vmap = NULL;
}

/* as_simos_check's part for a phys: every resident page has a frame this
 * process owns under that page's tag, huge regions map to one aligned
 * block, and nothing else is in vmap. */
static int phys_check(const as_simos_t *os)
{
    uint64_t n = 0;
    for (as_rb_node_t *q = as_rb_first(&os->extents.tree); q;
         q = as_rb_next(q)) {
        const as_extent_t *x = ext_of(q);
        for (uint64_t r = x->r0; r < x->r0 + x->len; r++)
            for (unsigned p = 0; p < PAGES_PER_REGION; p++) {
                if (!(x->g.resident[p >> 6] >> (p & 63) & 1)) continue;
                uint64_t vp = r * PAGES_PER_REGION + p, tag;
                uint64_t f = vmap_get(os, vp), f0 = vmap_get(os, vp - p);
                uint32_t owner;
                if (f == VMAP_EMPTY ||
                    !as_phys_frame_owner(os->cfg.phys, f, &owner, &tag) ||
                    owner != os->owner || tag != vp ||
                    (x->g.huge && (f != f0 + p || f0 % PAGES_PER_REGION)))
                    return AS_ECHECK;
                n++;
            }
    }
    if (n != os->vmap_n || n != os->c.frames ||
        as_phys_owner_frames(os->cfg.phys, os->owner) != n)
        return AS_ECHECK;
    return 0;
}

__attribute__((noinline)) static int touch_slow(as_simos_t *os, uintptr_t addr,
                                                size_t bytes)
{
    if (bytes == 0) return 0;
    if (addr < os->base || addr + bytes < addr) return AS_EINVAL;
    uint64_t p0 = (addr - os->base) >> PAGE_SHIFT;
    uint64_t p1 = (addr - os->base + bytes - 1) >> PAGE_SHIFT;
    if ((p1 >> 9) >= os->n_regions) return AS_EINVAL;
    /* Already young in one extent (young pages are resident and mapped):
     * nothing changes; that extent serves the fast path next. */
    as_extent_t *x = ext_at(os, p0 >> 9);
    if (x && (p1 >> 9) - x->r0 < x->len &&
        (bits_all_set(x->g.young, 0, PAGES_PER_REGION - 1) ||
         (p0 >> 9 == p1 >> 9 && bits_all_set(x->g.young, (unsigned)(p0 & 511),
                                             (unsigned)(p1 & 511))))) {
        os->hot = x;
        return 0;
    }
    if (!span_mapped(os, p0, p1)) return AS_EINVAL;
    if (os->cfg.phys) return phys_touch_span(os, p0, p1);
    if (spare_fill(os)) return AS_ENOMEM;
    span_apply(os, p0, p1, 0, op_touch);
    os->hot = ext_at(os, p0 >> 9);
    return 0;
}

int as_simos_touch(as_simos_t *os, uintptr_t addr, size_t bytes)
{
    /* Fast path: the range lies in one page that is already resident and
     * young (young pages are resident), in the extent of the last touch. An
     * address below base wraps to a huge offset and fails the bound test. */
    uint64_t off = (uint64_t)(addr - os->base);
    uint64_t page = off >> PAGE_SHIFT;
    const as_extent_t *x = os->hot;
    if (x && bytes - 1 < PAGE_BYTES &&
        page == (off + bytes - 1) >> PAGE_SHIFT &&
        (page >> 9) - x->r0 < x->len &&
        (x->g.young[(page >> 6) & 7] >> (page & 63) & 1))
        return 0;
    return touch_slow(os, addr, bytes);
}

int as_simos_mapped(const as_simos_t *os, uintptr_t addr, size_t bytes)
{
    if (bytes == 0) return 1;
    if (addr < os->base || addr + bytes < addr) return 0;
    uint64_t p0 = (addr - os->base) >> PAGE_SHIFT;
    uint64_t p1 = (addr - os->base + bytes - 1) >> PAGE_SHIFT;
    if ((p1 >> 9) >= os->n_regions) return 0;
    /* Fast path: one region of the extent the last touch used. */
    const as_extent_t *x = os->hot;
    if (x && p0 >> 9 == p1 >> 9 && (p0 >> 9) - x->r0 < x->len)
        return bits_all_set(x->g.mapped, (unsigned)(p0 & 511),
                            (unsigned)(p1 & 511));
    return span_mapped(os, p0, p1);
}

/* 1 when khugepaged's access-bit rule lets region g collapse: with
 * khugepaged_referenced, at least one young page (Linux's
 * hpage_collapse_scan_pmd answers SCAN_LACK_REFERENCED_PAGE when
 * `referenced` is 0; with no swap its `unmapped && referenced < 256`
 * clause never applies); without it, one resident page. */
static int region_referenced(const as_simos_t *os, const as_region_t *g)
{
    if (!os->cfg.khugepaged_referenced) return g->n_resident > 0;
    return bits_any_set(g->young, 0, PAGES_PER_REGION - 1);
}

/* The scan has examined regions [s, s+m) of extent x and collapsed none
 * (young_clear = scan): their accessed bits are cleared, so the next
 * wake-up sees only pages touched since this one. A huge region's bits
 * stand for its pmd's one bit: a split later leaves its pages old unless
 * the region was touched since, as Linux's split copies the pmd's bit into
 * every pte. */
static void scan_age(as_simos_t *os, as_extent_t *x, uint64_t s, uint64_t m)
{
    if (!bits_any_set(x->g.young, 0, PAGES_PER_REGION - 1) || spare_fill(os))
        return;
    ext_cut(os, s);
    ext_cut(os, s + m);
    x = ext_at(os, s);
    memset(x->g.young, 0, sizeof x->g.young);
    ext_changed(os, x);
    ext_tidy(os, s, s + m - 1);
}

uint32_t as_simos_khugepaged_scan(as_simos_t *os)
{
    if (!os->cfg.khugepaged || os->cfg.thp == AS_THP_NEVER ||
        os->n_regions == 0)
        return 0;
    /* One lap at most, from the cursor round to it: [i0, n) then [0, i0).
     * Only candidate regions (eligible and fully mapped) are visited, an
     * extent's worth at a time; each counts against scan_regions. */
    uint64_t n = os->n_regions, i0 = os->scan_cursor % n;
    uint64_t budget = os->cfg.scan_regions, scanned = 0, cursor = i0;
    uint32_t collapsed = 0;
    for (int lap = 0; lap < 2 && scanned < budget; lap++) {
        uint64_t r = lap ? 0 : i0, stop = lap ? i0 : n;
        while (r < stop && scanned < budget) {
            as_extent_t *x = ext_from(os, r);
            if (x && !x->cand)
                x = ext_of(as_rb_next_match(&x->node, ext_is_cand, ext_sub_cand,
                                            NULL));
            if (!x || x->r0 >= stop) break;
            uint64_t s = x->r0 > r ? x->r0 : r, e = x->r0 + x->len;
            if (e > stop) e = stop;
            uint64_t m = e - s;
            if (m > budget - scanned) m = budget - scanned;
            if (os->cfg.phys && m > 1) m = 1; /* a frame block per region */
            scanned += m;
            const as_region_t *g = &x->g;
            if (!g->huge && region_referenced(os, g) &&
                PAGES_PER_REGION - g->n_resident <= os->cfg.max_ptes_none &&
                spare_fill(os) == 0 &&
                (!os->cfg.phys || phys_collapse(os, s))) {
                ext_cut(os, s);
                ext_cut(os, s + m);
                x = ext_at(os, s);
                region_make_huge(os, x);
                ext_changed(os, x);
                os->c.collapses += m;
                collapsed += (uint32_t)m;
                ext_tidy(os, s, s + m - 1);
            } else if (os->cfg.young_clear == AS_YOUNG_CLEAR_SCAN) {
                scan_age(os, x, s, m);
            }
            r = s + m;
            if (scanned == budget) cursor = r == n ? 0 : r;
        }
    }
    os->scan_cursor = cursor;
    return collapsed;
}

const as_simos_counters_t *as_simos_counters(const as_simos_t *os)
{
    return &os->c;
}

/* 1 when the augmented summaries of the subtree at n are exact. */
static int check_ext_sub(const as_rb_node_t *n, int *sub)
{
    if (!n) {
        *sub = 0;
        return 1;
    }
    int l, r;
    if (!check_ext_sub(n->child[0], &l) || !check_ext_sub(n->child[1], &r))
        return 0;
    const as_extent_t *x = ext_of(n);
    *sub = x->cand || l || r;
    return x->sub_cand == *sub;
}

static int check_range_sub(const as_rb_node_t *n, uint64_t *max)
{
    if (!n) {
        *max = 0;
        return 1;
    }
    uint64_t l, r;
    if (!check_range_sub(n->child[0], &l) || !check_range_sub(n->child[1], &r))
        return 0;
    const as_range_t *f = range_of(n);
    *max = f->end - f->start;
    if (l > *max) *max = l;
    if (r > *max) *max = r;
    return f->max_bytes == *max;
}

int as_simos_check(const as_simos_t *os)
{
    uint64_t mapped = 0, resident = 0, huge = 0, nodes = os->n_spare;
    int sub;
    uint64_t maxf;
    if (as_rb_check(&os->extents.tree, ext_cmp) ||
        as_rb_check(&os->free.tree, range_cmp) ||
        !check_ext_sub(os->extents.tree.root, &sub) ||
        !check_range_sub(os->free.tree.root, &maxf))
        return AS_ECHECK;
    const as_extent_t *prev = NULL;
    for (as_rb_node_t *n = as_rb_first(&os->extents.tree); n;
         n = as_rb_next(n)) {
        const as_extent_t *x = ext_of(n);
        const as_region_t *g = &x->g;
        unsigned m = bits_count(g->mapped), s = bits_count(g->resident);
        if (x->len == 0 || x->r0 + x->len > os->n_regions ||
            (prev && prev->r0 + prev->len > x->r0))
            return AS_ECHECK;
        if (m != g->n_mapped || s != g->n_resident || m == 0) return AS_ECHECK;
        for (unsigned w = 0; w < WORDS_PER_REGION; w++)
            if ((g->resident[w] & ~g->mapped[w]) ||
                (g->young[w] & ~g->resident[w]))
                return AS_ECHECK;
        unsigned y = bits_count(g->young);
        if (g->huge && (m != PAGES_PER_REGION || s != PAGES_PER_REGION ||
                        (y != 0 && y != PAGES_PER_REGION)))
            return AS_ECHECK;
        if (g->hint > HINT_MIXED ||
            x->cand != (m == PAGES_PER_REGION && region_eligible(os, g)))
            return AS_ECHECK;
        mapped += (uint64_t)m * x->len;
        resident += (uint64_t)s * x->len;
        huge += g->huge * x->len;
        nodes++;
        prev = x;
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
    const as_range_t *pf = NULL;
    /* extents walked alongside the free ranges, both in address order */
    const as_extent_t *xc = ext_of(as_rb_first(&os->extents.tree));
    for (as_rb_node_t *n = as_rb_first(&os->free.tree); n; n = as_rb_next(n)) {
        const as_range_t *f = range_of(n);
        if (f->start >= f->end || f->start < os->base || f->end > os->top ||
            ((f->start | f->end) & (PAGE_BYTES - 1)))
            return AS_ECHECK;
        if (pf && pf->end >= f->start) return AS_ECHECK;
        pf = f;
        nodes++;
        free_bytes += f->end - f->start;
        uint64_t p0 = (f->start - os->base) >> PAGE_SHIFT;
        uint64_t p1 = ((f->end - os->base) >> PAGE_SHIFT) - 1;
        /* every extent overlapping the range: no page of it mapped there */
        while (xc && xc->r0 + xc->len - 1 < p0 >> 9)
            xc = ext_next(xc);
        for (const as_extent_t *x = xc; x && x->r0 <= p1 >> 9;
             x = ext_next(x)) {
            uint64_t a = x->r0 > p0 >> 9 ? x->r0 : p0 >> 9;
            uint64_t b = x->r0 + x->len - 1;
            if (b > p1 >> 9) b = p1 >> 9;
            for (uint64_t q = a; q <= b;
                 q = q < b && b - q > 2 ? b - 1 : q + 1) {
                unsigned lo = q == p0 >> 9 ? (unsigned)(p0 & 511) : 0;
                unsigned hi = q == p1 >> 9 ? (unsigned)(p1 & 511) : 511;
                if (bits_any_set(x->g.mapped, lo, hi)) return AS_ECHECK;
            }
        }
    }
    if (free_bytes + c->mapped_bytes != os->top - os->base ||
        c->host_bytes != nodes * sizeof(as_spare_t) +
                             (os->vmap ? os->vmap_cap * sizeof *os->vmap : 0))
        return AS_ECHECK;
    return os->cfg.phys ? phys_check(os) : 0;
}

int as_simos_region(const as_simos_t *os, uintptr_t addr, uint32_t *mapped,
                    uint32_t *resident, int *huge)
{
    if (addr < os->base) return AS_EINVAL;
    const as_extent_t *x =
        ext_at(os, (uint64_t)(addr - os->base) >> REGION_SHIFT);
    if (!x) return AS_EINVAL;
    if (mapped) *mapped = x->g.n_mapped;
    if (resident) *resident = x->g.n_resident;
    if (huge) *huge = x->g.huge;
    return 0;
}

int as_simos_region_young(const as_simos_t *os, uintptr_t addr, uint32_t *young)
{
    if (addr < os->base) return AS_EINVAL;
    const as_extent_t *x =
        ext_at(os, (uint64_t)(addr - os->base) >> REGION_SHIFT);
    if (!x) return AS_EINVAL;
    *young = bits_count(x->g.young);
    return 0;
}

/* bestfit.c - the `bestfit` policy: address-ordered best fit with immediate
 * coalescing over a heap grown and trimmed in pages.
 *
 * This file owns one heap: a set of segments (address ranges reserved from
 * the page source; the heap grows a segment in place by reserving with the
 * segment's end as hint, and starts a new segment only when that address is
 * taken), the free blocks inside them and the table of allocated blocks. All
 * of it is out of band (policy rule 1): free blocks are pool objects indexed
 * by a red-black tree ordered by (bytes, start) for best fit and by a hash
 * map of their edges (start, and end|1) for coalescing in O(1); allocated
 * blocks are a hash map start -> bytes, so free(addr, 0) works (rule 5).
 * Every operation is O(log free blocks) expected.
 *
 * Invariants (bf_check verifies them):
 *   free blocks and allocated blocks are 16-byte aligned multiples of 16 and
 *   tile every segment exactly; no two free blocks are adjacent inside one
 *   segment (immediate coalescing); no block crosses a segment boundary;
 *   free_bytes == sum of free block sizes; heap_bytes == sum of segment
 *   sizes == free_bytes + allocated_bytes.
 * It never reads or writes heap memory, never calls libc allocation, and
 * returns every reservation and metadata byte in destroy.
 */
#include "policies/bestfit/bestfit.h"

#include "common/u64map.h"
#include "common/util.h"
#include "policies/blocks/objpool.h"
#include "policies/blocks/rbtree.h"

#define MIN_BLOCK 16

static const as_param_spec_t bf_params[AS_BESTFIT_N_PARAMS] = {
    {"grow_bytes", AS_PARAM_BYTES, "128K", 4096, 1073741824.0, NULL,
     "heap growth granularity (rounded up to pages)"},
    {"trim_threshold", AS_PARAM_BYTES, "128K", 0, 1099511627776.0, NULL,
     "unreserve a segment's top free block when larger than this"},
    {"top_pad", AS_PARAM_BYTES, "0", 0, 1073741824.0, NULL,
     "bytes of the top free block kept when trimming"},
    {"release", AS_PARAM_BOOL, "off", 0, 1, NULL,
     "release the whole pages inside big free blocks (MADV_DONTNEED)"},
    {"release_threshold", AS_PARAM_BYTES, "256K", 4096, 1099511627776.0, NULL,
     "smallest free block whose pages are released"},
};

/* A free block [start, start + bytes). */
typedef struct {
    as_rb_node_t by_size; /* in bf_t.by_size, ordered (bytes, start) */
    uintptr_t start;      /* 16-byte aligned */
    uint64_t bytes;       /* multiple of 16, > 0 */
} bf_free_t;

/* A segment: one contiguous run of reserved pages [start, end). */
typedef struct {
    as_rb_node_t node; /* in bf_t.segs, ordered by start */
    uintptr_t start;   /* page aligned */
    uintptr_t end;     /* page aligned, > start */
} bf_seg_t;

typedef struct {
    const as_pagesource_t *ps;
    uint64_t page;           /* ps->page_bytes */
    uint64_t grow_bytes;     /* growth granularity, whole pages */
    uint64_t trim_threshold; /* see bf_params */
    uint64_t top_pad;
    int release;
    uint64_t release_threshold;

    as_pool_t free_pool;  /* bf_free_t objects */
    as_pool_t seg_pool;   /* bf_seg_t objects */
    as_rb_tree_t by_size; /* free blocks by (bytes, start) */
    as_rb_tree_t segs;    /* segments by start */
    as_u64map_t edges;    /* start -> bf_free_t*, (end | 1) -> same */
    as_u64map_t allocs;   /* allocated start -> bytes */
    bf_free_t *spare[2];  /* nodes kept ready so no step fails midway */
    int n_spare;
    bf_seg_t *top;  /* segment grown last (heap end), or NULL */
    uintptr_t hint; /* where to ask when there is no segment */

    uint64_t heap_bytes;      /* sum of segment sizes */
    uint64_t free_bytes;      /* sum of free block sizes */
    uint64_t allocated_bytes; /* sum of allocated block sizes */
    uint64_t n_reserves, n_trims, trimmed_bytes, n_releases, released_bytes;
} bf_t;

/* ---- free blocks ---- */

static inline bf_free_t *free_of(as_rb_node_t *n)
{
    return n ? AS_RB_ENTRY(n, bf_free_t, by_size) : NULL;
}

/* Make sure the next alloc/free cannot run out of metadata halfway.
 * @return 0 or AS_ENOMEM (nothing changed). */
static int prepare(bf_t *st)
{
    while (st->n_spare < 2) {
        bf_free_t *f = as_pool_alloc(&st->free_pool);
        if (!f) return AS_ENOMEM;
        st->spare[st->n_spare++] = f;
    }
    if (as_u64map_reserve(&st->edges, 4)) return AS_ENOMEM;
    if (as_u64map_reserve(&st->allocs, 1)) return AS_ENOMEM;
    return 0;
}

static bf_free_t *edge_get(const bf_t *st, uint64_t key)
{
    uint64_t v;
    return as_u64map_get(&st->edges, key, &v) ? (bf_free_t *)(uintptr_t)v
                                              : NULL;
}

/* (bytes, start) order of the size tree. */
static inline int free_less(const bf_free_t *a, const bf_free_t *b)
{
    return a->bytes < b->bytes || (a->bytes == b->bytes && a->start < b->start);
}

static void size_insert(bf_t *st, bf_free_t *f)
{
    as_rb_node_t *parent = NULL, *cur = st->by_size.root;
    int dir = 0;
    while (cur) {
        dir = free_less(free_of(cur), f);
        parent = cur;
        cur = cur->child[dir];
    }
    as_rb_link(&st->by_size, &f->by_size, parent, dir);
}

/* f's (bytes, start) key just grew (grew = 1) or shrank: move it in the size
 * tree unless its neighbour on that side shows it is still in order (the
 * common case for the top block, which is usually the largest). */
static void resort(bf_t *st, bf_free_t *f, int grew)
{
    as_rb_node_t *nb = grew ? as_rb_next(&f->by_size) : as_rb_prev(&f->by_size);
    if (!nb || (grew ? free_less(f, free_of(nb)) : free_less(free_of(nb), f)))
        return;
    as_rb_erase(&st->by_size, &f->by_size);
    size_insert(st, f);
}

static bf_free_t *node_get(bf_t *st)
{
    /* prepare() guarantees a spare for the at most two adds of a step */
    return st->n_spare ? st->spare[--st->n_spare]
                       : as_pool_alloc(&st->free_pool);
}

static void node_put(bf_t *st, bf_free_t *f)
{
    if (st->n_spare < 2)
        st->spare[st->n_spare++] = f;
    else
        as_pool_free(&st->free_pool, f);
}

/* Add free block [start, start+bytes); its neighbours must not be free.
 * Byte accounting (free_bytes) is the caller's. */
static bf_free_t *free_add(bf_t *st, uintptr_t start, uint64_t bytes)
{
    bf_free_t *f = node_get(st);
    f->start = start;
    f->bytes = bytes;
    size_insert(st, f);
    as_u64map_put(&st->edges, start, (uintptr_t)f);
    as_u64map_put(&st->edges, (start + bytes) | 1, (uintptr_t)f);
    return f;
}

static void free_remove(bf_t *st, bf_free_t *f)
{
    as_rb_erase(&st->by_size, &f->by_size);
    as_u64map_remove(&st->edges, f->start, NULL);
    as_u64map_remove(&st->edges, (f->start + f->bytes) | 1, NULL);
    node_put(st, f);
}

/* The first free block with bytes >= need (lowest start among equals). */
static bf_free_t *lower_bound(const bf_t *st, uint64_t need)
{
    as_rb_node_t *cur = st->by_size.root, *best = NULL;
    while (cur) {
        if (free_of(cur)->bytes >= need) {
            best = cur;
            cur = cur->child[0];
        } else {
            cur = cur->child[1];
        }
    }
    return free_of(best);
}

/* Best fit for `need` bytes at `align`: *addr gets the aligned start. With
 * alignment > 16 the search looks at up to 16 blocks in best-fit order and
 * then takes the best block that fits whatever its alignment gap. */
static bf_free_t *find_fit(const bf_t *st, uint64_t need, uint64_t align,
                           uintptr_t *addr)
{
    bf_free_t *f = lower_bound(st, need);
    if (align <= MIN_BLOCK || !f) {
        if (f) *addr = f->start;
        return f;
    }
    for (int i = 0; i < 16 && f; i++) {
        uintptr_t a = as_align_up(f->start, align);
        if (a + need <= f->start + f->bytes) {
            *addr = a;
            return f;
        }
        f = free_of(as_rb_next(&f->by_size));
    }
    f = lower_bound(st, need + align - MIN_BLOCK);
    if (f) *addr = as_align_up(f->start, align);
    return f;
}

/* ---- segments ---- */

static int seg_key(const void *key, const as_rb_node_t *n)
{
    uintptr_t a = *(const uintptr_t *)key;
    uintptr_t s = AS_RB_ENTRY(n, bf_seg_t, node)->start;
    return a < s ? -1 : a > s;
}

static int seg_cmp(const as_rb_node_t *a, const as_rb_node_t *b)
{
    return seg_key(&AS_RB_ENTRY(a, bf_seg_t, node)->start, b);
}

/* The segment holding addr (which must lie in one). */
static bf_seg_t *seg_of(const bf_t *st, uintptr_t addr)
{
    if (st->top && addr >= st->top->start && addr < st->top->end)
        return st->top;
    as_rb_node_t *n = as_rb_floor(&st->segs, &addr, seg_key);
    return n ? AS_RB_ENTRY(n, bf_seg_t, node) : NULL;
}

/* Return the free range [s, e) of seg to the heap: merge with the free
 * neighbours inside the segment, then (when `settle`) trim or release. */
static void give_back(bf_t *st, bf_seg_t *seg, uintptr_t s, uintptr_t e,
                      int settle);

/* Grow the heap so that `need` bytes at `align` fit: *fit gets the free
 * block that now holds them at *addr_out (the grown top block, or the block
 * of a new segment). @return 0, AS_ENOMEM. */
static int grow(bf_t *st, uint64_t need, uint64_t align, bf_free_t **fit,
                uintptr_t *addr_out)
{
    uint64_t page = st->page;
    bf_seg_t *seg = st->top;
    uintptr_t addr;
    if (seg) {
        bf_free_t *tb = edge_get(st, seg->end | 1);
        uintptr_t base = tb ? tb->start : seg->end;
        uintptr_t a = as_align_up(base, align);
        uint64_t want = a + need > seg->end ? a + need - seg->end : 0;
        uint64_t bytes =
            as_align_up(want > st->grow_bytes ? want : st->grow_bytes, page);
        if (as_ps_reserve(st->ps, seg->end, bytes, page, &addr) == 0) {
            st->n_reserves++;
            if (addr == seg->end) {
                seg->end += bytes;
                st->heap_bytes += bytes;
                give_back(st, seg, addr, addr + bytes, 0);
                *fit = edge_get(st, seg->end | 1); /* starts at base */
                *addr_out = as_align_up((*fit)->start, align);
                return 0;
            }
            as_ps_unreserve(st->ps, addr, bytes); /* not where we asked */
        }
    }
    bf_seg_t *ns = as_pool_alloc(&st->seg_pool);
    if (!ns) return AS_ENOMEM;
    uint64_t ralign = align > page ? align : page;
    uint64_t bytes =
        as_align_up(need > st->grow_bytes ? need : st->grow_bytes, page);
    uintptr_t hint = seg ? seg->end : st->hint;
    if (hint % ralign) hint = 0;
    if (as_ps_reserve(st->ps, hint, bytes, ralign, &addr)) {
        as_pool_free(&st->seg_pool, ns);
        return AS_ENOMEM;
    }
    st->n_reserves++;
    ns->start = addr;
    ns->end = addr + bytes;
    as_rb_insert(&st->segs, &ns->node, seg_cmp);
    st->top = ns;
    st->heap_bytes += bytes;
    st->free_bytes += bytes;
    *fit = free_add(st, addr, bytes);
    *addr_out = addr; /* aligned to ralign >= align */
    return 0;
}

/* Unreserve the top of `seg` when its top free block f is too big. */
static void trim(bf_t *st, bf_seg_t *seg, bf_free_t *f)
{
    uintptr_t cut = as_align_up(f->start + st->top_pad, st->page);
    if (cut >= seg->end) return;
    if (cut == seg->start) { /* the whole segment is free */
        uint64_t bytes = seg->end - seg->start;
        if (as_ps_unreserve(st->ps, seg->start, bytes)) return;
        free_remove(st, f);
        st->free_bytes -= bytes;
        as_rb_erase(&st->segs, &seg->node);
        if (st->top == seg) {
            as_rb_node_t *last = as_rb_last(&st->segs);
            st->top = last ? AS_RB_ENTRY(last, bf_seg_t, node) : NULL;
            st->hint = seg->start;
        }
        as_pool_free(&st->seg_pool, seg);
        st->heap_bytes -= bytes;
        st->trimmed_bytes += bytes;
    } else {
        uint64_t bytes = seg->end - cut;
        if (as_ps_unreserve(st->ps, cut, bytes)) return;
        uintptr_t s = f->start;
        free_remove(st, f);
        if (cut > s) free_add(st, s, cut - s);
        st->free_bytes -= bytes;
        seg->end = cut;
        st->heap_bytes -= bytes;
        st->trimmed_bytes += bytes;
    }
    st->n_trims++;
}

static void give_back(bf_t *st, bf_seg_t *seg, uintptr_t s, uintptr_t e,
                      int settle)
{
    st->free_bytes += e - s;
    bf_free_t *n = e < seg->end ? edge_get(st, e) : NULL;
    bf_free_t *p = s > seg->start ? edge_get(st, s | 1) : NULL;
    bf_free_t *f;
    if (p) { /* p grows to the end of the range (or of n): its start key stays
              */
        uintptr_t ne = e;
        if (n) {
            ne = n->start + n->bytes;
            as_rb_erase(&st->by_size, &n->by_size);
            as_u64map_remove(&st->edges, e, NULL);
            node_put(st, n); /* n's end key is overwritten below */
        }
        as_u64map_remove(&st->edges, s | 1, NULL);
        p->bytes = ne - p->start;
        as_u64map_put(&st->edges, ne | 1, (uintptr_t)p);
        resort(st, p, 1);
        f = p;
    } else if (n) { /* n grows downwards: its end key stays */
        as_u64map_remove(&st->edges, e, NULL);
        n->bytes += e - s;
        n->start = s;
        as_u64map_put(&st->edges, s, (uintptr_t)n);
        resort(st, n, 1);
        f = n;
    } else {
        f = free_add(st, s, e - s);
    }
    if (!settle) return;
    uintptr_t fe = f->start + f->bytes;
    if (fe == seg->end && f->bytes > st->trim_threshold) {
        trim(st, seg, f);
    } else if (st->release && f->bytes >= st->release_threshold) {
        uintptr_t a = as_align_up(f->start, st->page),
                  b = as_align_down(fe, st->page);
        if (b > a && as_ps_release(st->ps, a, b - a) == 0) {
            st->n_releases++;
            st->released_bytes += b - a;
        }
    }
}

/* Take [a, a+need) out of free block f; the gaps stay free. */
static void carve(bf_t *st, bf_free_t *f, uintptr_t a, uint64_t need)
{
    uintptr_t s = f->start, e = f->start + f->bytes;
    st->free_bytes -= need;
    if (a == s && need == f->bytes) {
        free_remove(st, f);
    } else if (a == s) { /* f keeps the tail: its end key stays */
        as_u64map_remove(&st->edges, s, NULL);
        f->start = s + need;
        f->bytes -= need;
        as_u64map_put(&st->edges, f->start, (uintptr_t)f);
        resort(st, f, 0);
    } else { /* f keeps the leading gap; the tail, if any, is a new block */
        as_u64map_remove(&st->edges, e | 1, NULL);
        f->bytes = a - s;
        as_u64map_put(&st->edges, a | 1, (uintptr_t)f);
        resort(st, f, 0);
        if (a + need < e) free_add(st, a + need, e - a - need);
    }
    as_u64map_put(&st->allocs, a, need);
    st->allocated_bytes += need;
}

/* ---- the policy ---- */

static int bf_create(const as_policy_config_t *cfg, void **state)
{
    if (!cfg || !cfg->ps || !as_is_pow2(cfg->ps->page_bytes)) return AS_EINVAL;
    as_param_value_t defv[AS_BESTFIT_N_PARAMS];
    const as_param_value_t *v = cfg->params;
    if (!v) {
        int rc = as_param_defaults(bf_params, AS_BESTFIT_N_PARAMS, defv);
        if (rc) return rc;
        v = defv;
    }
    bf_t *st = as_mem_alloc(&cfg->ps->meta, sizeof *st);
    if (!st) return AS_ENOMEM;
    st->ps = cfg->ps;
    st->page = cfg->ps->page_bytes;
    st->grow_bytes = as_align_up(v[AS_BESTFIT_GROW_BYTES].u, st->page);
    st->trim_threshold = v[AS_BESTFIT_TRIM_THRESHOLD].u;
    st->top_pad = v[AS_BESTFIT_TOP_PAD].u;
    st->release = (int)v[AS_BESTFIT_RELEASE].u;
    st->release_threshold = v[AS_BESTFIT_RELEASE_THRESHOLD].u;
    as_pool_init(&st->free_pool, &cfg->ps->meta, sizeof(bf_free_t));
    as_pool_init(&st->seg_pool, &cfg->ps->meta, sizeof(bf_seg_t));
    as_rb_init(&st->by_size);
    as_rb_init(&st->segs);
    as_u64map_init(&st->edges, &cfg->ps->meta);
    as_u64map_init_dense(&st->allocs, &cfg->ps->meta); /* one per block */
    *state = st;
    return 0;
}

static int bf_alloc(void *state, const as_ctx_t *ctx, size_t size, size_t align,
                    as_block_t *out)
{
    bf_t *st = state;
    (void)ctx;
    if (align == 0) align = MIN_BLOCK;
    if (!as_is_pow2(align)) return AS_EINVAL;
    if (align < MIN_BLOCK) align = MIN_BLOCK;
    if (size > AS_BESTFIT_MAX_REQUEST || align > AS_BESTFIT_MAX_ALIGN)
        return AS_ETOO_LARGE;
    uint64_t need = size ? as_align_up(size, MIN_BLOCK) : MIN_BLOCK;
    int rc = prepare(st);
    if (rc) return rc;
    uintptr_t a = 0;
    bf_free_t *f = find_fit(st, need, align, &a);
    if (!f) {
        if ((rc = grow(st, need, align, &f, &a)) != 0) return rc;
        if ((rc = prepare(st)) != 0) return rc;
    }
    carve(st, f, a, need);
    out->addr = a;
    out->bytes = need;
    return 0;
}

static int bf_free(void *state, const as_ctx_t *ctx, uintptr_t addr,
                   size_t size_hint)
{
    bf_t *st = state;
    (void)ctx;
    (void)size_hint;
    uint64_t bytes;
    int rc = prepare(st);
    if (rc) return rc;
    if (!as_u64map_remove(&st->allocs, addr, &bytes)) return AS_EINVAL;
    st->allocated_bytes -= bytes;
    give_back(st, seg_of(st, addr), addr, addr + bytes, 1);
    return 0;
}

static int bf_realloc(void *state, const as_ctx_t *ctx, uintptr_t addr,
                      size_t old_size, size_t new_size, size_t align,
                      as_block_t *out)
{
    bf_t *st = state;
    (void)old_size;
    uint64_t bytes;
    if (!as_u64map_get(&st->allocs, addr, &bytes)) return AS_EINVAL;
    if (align == 0) align = MIN_BLOCK;
    if (!as_is_pow2(align)) return AS_EINVAL;
    if (new_size > AS_BESTFIT_MAX_REQUEST || align > AS_BESTFIT_MAX_ALIGN)
        return AS_ETOO_LARGE;
    uint64_t need = new_size ? as_align_up(new_size, MIN_BLOCK) : MIN_BLOCK;
    if (addr % align == 0) {
        int rc = prepare(st);
        if (rc) return rc;
        bf_seg_t *seg = seg_of(st, addr);
        if (need <= bytes) { /* shrink in place */
            if (need < bytes) {
                as_u64map_put(&st->allocs, addr, need);
                st->allocated_bytes -= bytes - need;
                give_back(st, seg, addr + need, addr + bytes, 1);
            }
            out->addr = addr;
            out->bytes = need;
            return 0;
        }
        uintptr_t e = addr + bytes;
        bf_free_t *n = e < seg->end ? edge_get(st, e) : NULL;
        if (n && n->bytes >= need - bytes) { /* grow into the next block */
            uintptr_t ne = n->start + n->bytes;
            free_remove(st, n);
            if (addr + need < ne) free_add(st, addr + need, ne - addr - need);
            st->free_bytes -= need - bytes;
            as_u64map_put(&st->allocs, addr, need);
            st->allocated_bytes += need - bytes;
            out->addr = addr;
            out->bytes = need;
            return 0;
        }
    }
    int rc = bf_alloc(st, ctx, new_size, align, out);
    if (rc) return rc;
    return bf_free(st, ctx, addr, 0);
}

static size_t bf_usable_size(void *state, uintptr_t addr)
{
    uint64_t bytes;
    return as_u64map_get(&((bf_t *)state)->allocs, addr, &bytes) ? bytes : 0;
}

static void bf_stats(void *state, as_stat_fn fn, void *arg)
{
    bf_t *st = state;
    bf_free_t *largest = free_of(as_rb_last(&st->by_size));
    fn(arg, "segments", (double)st->segs.count);
    fn(arg, "heap_bytes", (double)st->heap_bytes);
    fn(arg, "free_blocks", (double)st->by_size.count);
    fn(arg, "free_bytes", (double)st->free_bytes);
    fn(arg, "largest_free_block_bytes", largest ? (double)largest->bytes : 0);
    fn(arg, "live_blocks", (double)as_u64map_count(&st->allocs));
    fn(arg, "allocated_bytes", (double)st->allocated_bytes);
    fn(arg, "reserves", (double)st->n_reserves);
    fn(arg, "trims", (double)st->n_trims);
    fn(arg, "trimmed_bytes", (double)st->trimmed_bytes);
    fn(arg, "releases", (double)st->n_releases);
    fn(arg, "released_bytes", (double)st->released_bytes);
}

static void bf_destroy(void *state)
{
    bf_t *st = state;
    if (!st) return;
    for (as_rb_node_t *n = as_rb_first(&st->segs); n; n = as_rb_next(n)) {
        bf_seg_t *seg = AS_RB_ENTRY(n, bf_seg_t, node);
        as_ps_unreserve(st->ps, seg->start, seg->end - seg->start);
    }
    as_pool_fini(&st->free_pool);
    as_pool_fini(&st->seg_pool);
    as_u64map_fini(&st->edges);
    as_u64map_fini(&st->allocs);
    const as_pagesource_t *ps = st->ps;
    as_mem_free(&ps->meta, st, sizeof *st);
}

static int free_cmp(const as_rb_node_t *a, const as_rb_node_t *b)
{
    const bf_free_t *x = free_of((as_rb_node_t *)a);
    const bf_free_t *y = free_of((as_rb_node_t *)b);
    if (x->bytes != y->bytes) return x->bytes < y->bytes ? -1 : 1;
    return x->start < y->start ? -1 : x->start > y->start;
}

/* The check hook: every invariant of the header comment, each failure
 * named. */
static int bf_check(const void *state, as_msg_t *why)
{
    const bf_t *st = state;
    if (as_rb_check(&st->by_size, free_cmp))
        return as_msg_fail(why, "bestfit: size tree of free blocks malformed",
                           NULL, 0);
    if (as_rb_check(&st->segs, seg_cmp))
        return as_msg_fail(why, "bestfit: segment tree malformed", NULL, 0);
    if (as_u64map_check(&st->edges) || as_u64map_check(&st->allocs))
        return as_msg_fail(why, "bestfit: edge or block map malformed", NULL,
                           0);
    uint64_t heap = 0, free_b = 0, alloc_b = 0, n_free = 0, n_alloc = 0;
    uintptr_t prev_end = 0;
    for (as_rb_node_t *n = as_rb_first(&st->segs); n; n = as_rb_next(n)) {
        const bf_seg_t *seg = AS_RB_ENTRY(n, bf_seg_t, node);
        if (seg->end <= seg->start || seg->start < prev_end ||
            seg->start % st->page || seg->end % st->page)
            return as_msg_fail(why,
                               "bestfit: segment empty, overlapping or not "
                               "page aligned",
                               "segment_addr", seg->start);
        prev_end = seg->end;
        heap += seg->end - seg->start;
        int prev_free = 0;
        for (uintptr_t p = seg->start; p < seg->end;) {
            uint64_t bytes;
            const bf_free_t *f = edge_get(st, p);
            if (f) {
                if (prev_free)
                    return as_msg_fail(why, "bestfit: two adjacent free blocks",
                                       "block_addr", p);
                if (f->start != p || f->bytes == 0 || f->bytes % MIN_BLOCK ||
                    edge_get(st, (p + f->bytes) | 1) != f)
                    return as_msg_fail(why,
                                       "bestfit: free block's edges or size "
                                       "inconsistent",
                                       "block_addr", p);
                if (as_u64map_get(&st->allocs, p, NULL))
                    return as_msg_fail(why, "bestfit: block both free and live",
                                       "block_addr", p);
                bytes = f->bytes;
                free_b += bytes;
                n_free++;
                prev_free = 1;
            } else if (as_u64map_get(&st->allocs, p, &bytes)) {
                if (bytes == 0 || bytes % MIN_BLOCK)
                    return as_msg_fail(why, "bestfit: live block of bad size",
                                       "block_addr", p);
                alloc_b += bytes;
                n_alloc++;
                prev_free = 0;
            } else {
                return as_msg_fail(why, "bestfit: hole in a segment's tiling",
                                   "at_addr", p);
            }
            if (p + bytes > seg->end)
                return as_msg_fail(why,
                                   "bestfit: block crosses its segment end",
                                   "block_addr", p);
            p += bytes;
        }
    }
    if (heap != st->heap_bytes || heap != free_b + alloc_b)
        return as_msg_fail(why, "bestfit: heap_bytes != sum of segments",
                           "heap_bytes", st->heap_bytes);
    if (free_b != st->free_bytes || n_free != st->by_size.count ||
        2 * n_free != as_u64map_count(&st->edges))
        return as_msg_fail(why,
                           "bestfit: free_bytes or free-block count != walk",
                           "free_bytes", st->free_bytes);
    if (alloc_b != st->allocated_bytes ||
        n_alloc != as_u64map_count(&st->allocs))
        return as_msg_fail(why,
                           "bestfit: allocated_bytes != sum of live blocks",
                           "allocated_bytes", st->allocated_bytes);
    return 0;
}

int as_bestfit_check(const void *state)
{
    return bf_check(state, NULL);
}

int as_bestfit_debug_corrupt(void *state)
{
    bf_t *st = state;
    st->free_bytes += MIN_BLOCK;
    return 0;
}

const as_policy_ops_t as_policy_bestfit = {
    .name = "bestfit",
    .doc = "address-ordered best fit, immediate coalescing, heap grown and "
           "trimmed in pages (Johnstone & Wilson's baseline)",
    .params = bf_params,
    .n_params = AS_BESTFIT_N_PARAMS,
    .create = bf_create,
    .alloc = bf_alloc,
    .free = bf_free,
    .realloc = bf_realloc,
    .usable_size = bf_usable_size,
    .tick = NULL,
    .stats = bf_stats,
    .destroy = bf_destroy,
    .check = bf_check,
};

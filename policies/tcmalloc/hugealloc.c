/* hugealloc.c - whole hugepages: the HugeAllocator (unbacked address space),
 * the HugeCache (backed free hugepages) and HugeRegions.
 *
 * Follows TCMalloc's huge_allocator.h, huge_cache.h and huge_region.h:
 * address space is reserved from the page source in large chunks
 * (reserve_bytes, 1 GiB) so VSS >> RSS; free hugepage ranges live in two
 * address-ordered sets that merge neighbours, one for backed hugepages (the
 * cache, whose limit starts at hugecache_min_hugepages, grows on misses and
 * shrinks by a fraction of its idle size every tick) and one for unbacked
 * ones. A region is a region_bytes run of hugepages carved best-fit into
 * page runs for large allocations; its hugepages are backed on use and
 * released when they empty. Owns the ranges, regions and reservations;
 * never touches user memory.
 */
#include "policies/tcmalloc/tc_internal.h"

#include "common/util.h"

/* ---------------------------------------------------------- rangesets */

static int range_key(const void *key, const as_rb_node_t *n)
{
    uintptr_t k = *(const uintptr_t *)key;
    uintptr_t s = AS_RB_ENTRY(n, tc_range_t, node)->start;
    return k < s ? -1 : k > s;
}

static int range_cmp(const as_rb_node_t *a, const as_rb_node_t *b)
{
    uintptr_t x = AS_RB_ENTRY(a, tc_range_t, node)->start;
    uintptr_t y = AS_RB_ENTRY(b, tc_range_t, node)->start;
    return x < y ? -1 : x > y;
}

void as_tc_rangeset_init(tc_rangeset_t *r)
{
    as_rb_init(&r->tree);
    r->hps = 0;
}

int as_tc_rangeset_put(tc_t *t, tc_rangeset_t *r, uintptr_t start,
                       uint64_t nhps)
{
    uintptr_t end = start + (nhps << t->hp_shift);
    as_rb_node_t *pn = as_rb_floor(&r->tree, &start, range_key);
    tc_range_t *prev = pn ? AS_RB_ENTRY(pn, tc_range_t, node) : NULL;
    as_rb_node_t *nn =
        pn ? as_rb_next(pn) : as_rb_lower_bound(&r->tree, &start, range_key);
    tc_range_t *next = nn ? AS_RB_ENTRY(nn, tc_range_t, node) : NULL;
    r->hps += nhps;
    if (prev && prev->start + (prev->nhps << t->hp_shift) == start) {
        prev->nhps += nhps;
        if (next && next->start == end) {
            prev->nhps += next->nhps;
            as_rb_erase(&r->tree, &next->node);
            as_tc_pool_put(&t->range_pool, next);
        }
        return AS_OK;
    }
    if (next && next->start == end) {
        /* the node keeps its place in the order: nothing lies between */
        next->start = start;
        next->nhps += nhps;
        return AS_OK;
    }
    tc_range_t *x = as_tc_pool_get(t, &t->range_pool);
    if (!x) {
        r->hps -= nhps;
        return AS_ENOMEM;
    }
    x->start = start;
    x->nhps = nhps;
    as_rb_insert(&r->tree, &x->node, range_cmp);
    return AS_OK;
}

static void carve(tc_t *t, tc_rangeset_t *r, tc_range_t *x, uintptr_t a,
                  uint64_t nhps)
{
    uintptr_t end = x->start + (x->nhps << t->hp_shift);
    uintptr_t aend = a + (nhps << t->hp_shift);
    r->hps -= nhps;
    if (a == x->start) {
        x->start = aend;
        x->nhps -= nhps;
        if (!x->nhps) {
            as_rb_erase(&r->tree, &x->node);
            as_tc_pool_put(&t->range_pool, x);
        }
        return;
    }
    x->nhps = (a - x->start) >> t->hp_shift;
    if (aend < end) {
        uint64_t back = (end - aend) >> t->hp_shift;
        r->hps -= back; /* put adds it back */
        if (as_tc_rangeset_put(t, r, aend, back) != AS_OK) {
            /* out of metadata: leak the back part's address space only */
        }
    }
}

int as_tc_rangeset_take(tc_t *t, tc_rangeset_t *r, uint64_t nhps,
                        uint64_t align, uintptr_t *start)
{
    tc_range_t *best = NULL;
    uintptr_t best_a = 0;
    for (as_rb_node_t *n = as_rb_first(&r->tree); n; n = as_rb_next(n)) {
        tc_range_t *x = AS_RB_ENTRY(n, tc_range_t, node);
        uintptr_t a =
            align > t->hp_bytes ? as_align_up(x->start, align) : x->start;
        uintptr_t end = x->start + (x->nhps << t->hp_shift);
        if (a + (nhps << t->hp_shift) > end) continue;
        if (!best || x->nhps < best->nhps) {
            best = x;
            best_a = a;
            if (x->nhps == nhps) break;
        }
    }
    if (!best) return AS_ENOMEM;
    carve(t, r, best, best_a, nhps);
    *start = best_a;
    return AS_OK;
}

int as_tc_rangeset_take_last(tc_t *t, tc_rangeset_t *r, uint64_t max_hps,
                             uintptr_t *start, uint64_t *nhps)
{
    as_rb_node_t *n = as_rb_last(&r->tree);
    if (!n || !max_hps) return AS_ENOMEM;
    tc_range_t *x = AS_RB_ENTRY(n, tc_range_t, node);
    uint64_t k = x->nhps < max_hps ? x->nhps : max_hps;
    uintptr_t a = x->start + ((x->nhps - k) << t->hp_shift);
    carve(t, r, x, a, k);
    *start = a;
    *nhps = k;
    return AS_OK;
}

/* ---------------------------------------------------------- hugepages */

static int reserve_more(tc_t *t, uint64_t nhps, uint64_t align)
{
    uint64_t bytes = t->p[TC_P_RESERVE_BYTES].u;
    if (bytes < (nhps << t->hp_shift)) bytes = nhps << t->hp_shift;
    bytes = as_align_up(bytes, t->hp_bytes);
    if (align < t->hp_bytes) align = t->hp_bytes;
    tc_reservation_t *rv = as_tc_pool_get(t, &t->resv_pool);
    if (!rv) return AS_ENOMEM;
    uintptr_t addr;
    int rc = as_ps_reserve(t->ps, 0, bytes, align, &addr);
    if (rc != AS_OK) {
        as_tc_pool_put(&t->resv_pool, rv);
        return AS_ENOMEM;
    }
    if (t->p[TC_P_MADVISE_HUGEPAGE].u)
        as_ps_hugepage_hint(t->ps, addr, bytes, 1);
    rv->addr = addr;
    rv->bytes = bytes;
    rv->next = t->reservations;
    t->reservations = rv;
    t->hps_from_os += bytes >> t->hp_shift;
    return as_tc_rangeset_put(t, &t->unbacked, addr, bytes >> t->hp_shift);
}

static void cache_note_size(tc_t *t)
{
    if (t->cache.hps < t->cache_min_since_tick)
        t->cache_min_since_tick = t->cache.hps;
}

int as_tc_hp_get(tc_t *t, uint64_t nhps, uint64_t align, uintptr_t *start)
{
    if (as_tc_rangeset_take(t, &t->cache, nhps, align, start) == AS_OK) {
        t->cache_hits++;
        cache_note_size(t);
        return AS_OK;
    }
    t->cache_misses++;
    uint64_t max = t->p[TC_P_HUGECACHE_MAX].u;
    t->cache_limit_hps =
        t->cache_limit_hps + nhps < max ? t->cache_limit_hps + nhps : max;
    if (as_tc_rangeset_take(t, &t->unbacked, nhps, align, start) == AS_OK)
        return AS_OK;
    int rc = reserve_more(t, nhps, align);
    if (rc != AS_OK) return rc;
    return as_tc_rangeset_take(t, &t->unbacked, nhps, align, start);
}

void as_tc_hp_put_unbacked(tc_t *t, uintptr_t start, uint64_t nhps)
{
    as_tc_rangeset_put(t, &t->unbacked, start, nhps);
}

void as_tc_hp_put_backed(tc_t *t, uintptr_t start, uint64_t nhps)
{
    if (as_tc_rangeset_put(t, &t->cache, start, nhps) != AS_OK) {
        as_ps_release(t->ps, start, nhps << t->hp_shift);
        as_tc_hp_put_unbacked(t, start, nhps);
        return;
    }
    as_tc_cache_enforce_limit(t);
}

uint64_t as_tc_cache_release(tc_t *t, uint64_t max_hps)
{
    uint64_t done = 0;
    while (done < max_hps) {
        uintptr_t a;
        uint64_t k;
        if (as_tc_rangeset_take_last(t, &t->cache, max_hps - done, &a, &k) !=
            AS_OK)
            break;
        as_ps_release(t->ps, a, k << t->hp_shift);
        as_tc_hp_put_unbacked(t, a, k);
        done += k;
    }
    t->cache_released_hps += done;
    cache_note_size(t);
    return done;
}

void as_tc_cache_enforce_limit(tc_t *t)
{
    if (t->cache.hps > t->cache_limit_hps)
        as_tc_cache_release(t, t->cache.hps - t->cache_limit_hps);
}

void as_tc_cache_tick(tc_t *t)
{
    /* the cache stayed at least this large for a whole tick: it is oversized;
     * shrink the limit by a fraction of the idle part (kFractionToRelease) */
    uint64_t idle = t->cache_min_since_tick;
    if (idle > t->cache.hps) idle = t->cache.hps;
    if (idle) {
        double f = t->p[TC_P_HUGECACHE_RELEASE_FRACTION].d;
        uint64_t cut = (uint64_t)(f * (double)idle + 0.999999);
        uint64_t min = t->p[TC_P_HUGECACHE_MIN].u;
        t->cache_limit_hps =
            t->cache_limit_hps > min + cut ? t->cache_limit_hps - cut : min;
        as_tc_cache_enforce_limit(t);
    }
    t->cache_min_since_tick = t->cache.hps;
}

/* ---------------------------------------------------------- regions */

int as_tc_region_create(tc_t *t)
{
    uint64_t nhps = t->p[TC_P_REGION_BYTES].u >> t->hp_shift;
    if (!nhps) return AS_EINVAL;
    tc_region_t *r = as_tc_meta_alloc(t, sizeof *r);
    if (!r) return AS_ENOMEM;
    r->nhps = (uint32_t)nhps;
    r->npages = (uint32_t)(nhps * t->pph);
    r->used = as_tc_meta_alloc(t, ((r->npages + 63) / 64) * 8ull);
    r->hp_used = as_tc_meta_alloc(t, nhps * sizeof(uint16_t));
    uintptr_t base;
    if (!r->used || !r->hp_used ||
        as_tc_rangeset_take(t, &t->unbacked, nhps, 0, &base) != AS_OK) {
        if (!r->used || !r->hp_used || reserve_more(t, nhps, 0) != AS_OK ||
            as_tc_rangeset_take(t, &t->unbacked, nhps, 0, &base) != AS_OK) {
            as_tc_meta_free(t, r->used);
            as_tc_meta_free(t, r->hp_used);
            as_tc_meta_free(t, r);
            return AS_ENOMEM;
        }
    }
    r->base = base;
    r->next = t->regions;
    t->regions = r;
    t->regions_created++;
    t->region_pages += r->npages;
    return AS_OK;
}

static void region_mark(tc_t *t, tc_region_t *r, uint32_t pos, uint32_t n,
                        int use)
{
    for (uint32_t i = pos; i < pos + n; i++) {
        uint32_t h = i / t->pph;
        if (use) {
            r->used[i >> 6] |= 1ull << (i & 63);
            if (r->hp_used[h]++ == 0) {
                r->backed_hps++;
                t->region_backed_hps++;
            }
        } else {
            r->used[i >> 6] &= ~(1ull << (i & 63));
            if (--r->hp_used[h] == 0) {
                r->backed_hps--;
                t->region_backed_hps--;
                as_ps_release(t->ps, r->base + ((uintptr_t)h << t->hp_shift),
                              t->hp_bytes);
            }
        }
    }
    if (use) {
        r->used_pages += n;
        t->region_used_pages += n;
    } else {
        r->used_pages -= n;
        t->region_used_pages -= n;
    }
}

uintptr_t as_tc_region_try_get(tc_t *t, uint32_t n, tc_region_t **where)
{
    for (tc_region_t *r = t->regions; r; r = r->next) {
        if (r->npages - r->used_pages < n) continue;
        uint32_t pos = as_tc_best_fit(r->used, r->npages, n, NULL);
        if (pos == UINT32_MAX) continue;
        region_mark(t, r, pos, n, 1);
        *where = r;
        return r->base + ((uintptr_t)pos << t->page_shift);
    }
    return 0;
}

void as_tc_region_put(tc_t *t, tc_region_t *r, uintptr_t addr, uint32_t n)
{
    region_mark(t, r, (uint32_t)((addr - r->base) >> t->page_shift), n, 0);
}

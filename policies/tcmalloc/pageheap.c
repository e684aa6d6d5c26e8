/* pageheap.c - the page heap's front door (TCMalloc's HugePageAwareAllocator)
 * and the release machinery driven by the policy's tick.
 *
 * Routing by span length n in pages, as in temeraire.md: n <= filler max
 * (128 pages at 8 KiB, half a hugepage) goes to the HugePageFiller, which
 * grows by a hugepage when nothing fits; an exact hugepage multiple goes to
 * raw hugepages; anything else first tries the filler without growing it,
 * then existing HugeRegions, then a new region when the donated slack is at
 * least region_slack_bytes and at least the filler's used pages, and
 * finally raw hugepages whose tail slack is donated to the filler as one
 * allocation. Release (release_rate bytes/s) empties the HugeCache first,
 * then subreleases the filler's emptiest hugepages, but never below the
 * skip-subrelease demand requirement (short-term fluctuation over
 * skip_subrelease_short + long-term trend over skip_subrelease_long, capped
 * by the peak over skip_subrelease_cap), tracked in 1 s epochs.
 *
 * It is the only part that calls the back-end components (filler.c,
 * region.c, hugecache.c, hugealloc.c): they never call it or each other,
 * except the cache, which hands misses and releases to the allocator. It
 * alone decides to grow the filler (a hugepage from the cache, handed over
 * with as_tc_filler_add) and to make a region (records from the region set,
 * address space from the allocator), and it takes back what the filler
 * empties. It keeps the pagemap's tracker links and the demand history.
 * Owns tc_pageheap_t and the span records; never touches user memory.
 */
#include "policies/tcmalloc/tc_internal.h"

#include "common/util.h"

void as_tc_pageheap_init(tc_t *t)
{
    as_objlist_init(&t->ph.span_pool, sizeof(tc_span_t));
    as_tc_hugealloc_init(&t->alloc);
    as_tc_cache_init(&t->env, &t->cache);
    as_tc_regions_init(&t->regions);
}

int as_tc_pageheap_filler_get(tc_t *t, uint32_t n, int dense, uintptr_t *addr,
                              tc_hugepage_t **where)
{
    uintptr_t a = as_tc_filler_try_get(&t->env, &t->filler, n, dense, where);
    if (!a) {
        /* nothing fits: grow the filler by one hugepage */
        uintptr_t start;
        int rc = as_tc_cache_get(&t->env, &t->cache, &t->alloc, 1, 0, &start);
        if (rc != AS_OK) return rc;
        tc_leaf_t *leaf = as_tc_leaf_make(t, start);
        tc_hugepage_t *hp =
            leaf ? as_tc_filler_add(&t->env, &t->filler, start, dense) : NULL;
        if (!hp) {
            as_tc_cache_put(&t->env, &t->cache, &t->alloc, start, 1);
            return AS_ENOMEM;
        }
        leaf->tracker = hp;
        if (where) *where = hp;
        a = as_tc_filler_place(&t->env, &t->filler, hp, n);
    }
    as_tc_demand_record(t);
    *addr = a;
    return AS_OK;
}

void as_tc_pageheap_filler_put(tc_t *t, tc_hugepage_t *hp, uintptr_t addr,
                               uint32_t n)
{
    uintptr_t start = hp->addr;
    int rc = as_tc_filler_put(&t->env, &t->filler, hp, addr, n);
    as_tc_demand_record(t);
    if (rc == TC_FILLER_KEPT) return;
    tc_leaf_t *leaf = as_tc_leaf(t, start);
    if (leaf) leaf->tracker = NULL;
    if (rc == TC_FILLER_EMPTY_UNBACKED)
        as_tc_hugealloc_put(&t->env, &t->alloc, start, 1);
    else
        as_tc_cache_put(&t->env, &t->cache, &t->alloc, start, 1);
}

/* The tail hugepage of a raw allocation goes to the filler: pages [0, used)
 * are the allocation's. @return the tracker or NULL (out of metadata). */
static tc_hugepage_t *donate(tc_t *t, uintptr_t tail, uint32_t used)
{
    tc_leaf_t *leaf = as_tc_leaf_make(t, tail);
    if (!leaf) return NULL;
    tc_hugepage_t *hp = as_tc_filler_donate(&t->env, &t->filler, tail, used);
    if (!hp) return NULL;
    leaf->tracker = hp;
    t->ph.donations++;
    as_tc_demand_record(t);
    return hp;
}

static int raw_alloc(tc_t *t, tc_span_t *s, uint64_t align)
{
    tc_pageheap_t *ph = &t->ph;
    uint64_t nhps = (s->npages + t->env.pph - 1) / t->env.pph;
    uintptr_t start;
    int rc =
        as_tc_cache_get(&t->env, &t->cache, &t->alloc, nhps, align, &start);
    if (rc != AS_OK) return rc;
    s->start = start;
    s->origin = TC_ORIGIN_RAW;
    s->nhps = (uint32_t)nhps;
    ph->raw_hps += nhps;
    uint32_t slack = (uint32_t)(nhps * t->env.pph - s->npages);
    if (slack) {
        uintptr_t tail = start + ((uintptr_t)(nhps - 1) << t->env.hp_shift);
        uint32_t used = t->env.pph - slack;
        tc_hugepage_t *hp = donate(t, tail, used);
        if (hp) {
            ph->raw_hps--;
            s->tail = hp;
            s->tail_pages = used;
            ph->donated_slack_pages += slack;
        }
    }
    return AS_OK;
}

static void raw_free(tc_t *t, tc_span_t *s)
{
    tc_pageheap_t *ph = &t->ph;
    uint64_t full = s->nhps - (s->tail ? 1 : 0);
    ph->raw_hps -= full;
    if (full) as_tc_cache_put(&t->env, &t->cache, &t->alloc, s->start, full);
    if (s->tail) {
        ph->donated_slack_pages -= t->env.pph - s->tail_pages;
        as_tc_filler_undonate(&t->env, &t->filler, s->tail);
        as_tc_pageheap_filler_put(t, s->tail, s->tail->addr, s->tail_pages);
    }
}

static int region_wanted(const tc_t *t)
{
    if (!t->env.p[TC_P_USE_REGIONS].u) return 0;
    uint64_t slack_bytes = t->ph.donated_slack_pages << t->env.page_shift;
    return slack_bytes >= t->env.p[TC_P_REGION_SLACK].u &&
           t->ph.donated_slack_pages >= t->filler.used_pages;
}

/* A new region of region_bytes: records first, then address space from the
 * allocator. @return 0, AS_EINVAL (region smaller than a hugepage),
 * AS_ENOMEM. */
static int region_create(tc_t *t)
{
    uint64_t nhps = t->env.p[TC_P_REGION_BYTES].u >> t->env.hp_shift;
    if (!nhps) return AS_EINVAL;
    tc_region_t *r = as_tc_regions_new(&t->env, nhps);
    if (!r) return AS_ENOMEM;
    uintptr_t base;
    if (as_tc_hugealloc_get(&t->env, &t->alloc, nhps, 0, &base) != AS_OK) {
        as_tc_regions_discard(&t->env, r);
        return AS_ENOMEM;
    }
    as_tc_regions_place(&t->regions, r, base);
    return AS_OK;
}

tc_span_t *as_tc_pageheap_alloc(tc_t *t, uint32_t npages, int dense,
                                uint64_t align, uint32_t cls)
{
    tc_span_t *s = as_tc_pool_get(&t->env, &t->ph.span_pool);
    if (!s) return NULL;
    s->npages = npages;
    s->cls = (uint16_t)cls;
    s->list = 0xff;
    int rc = AS_OK;
    if (align > t->env.page_bytes) {
        rc = raw_alloc(t, s, align);
    } else if (npages <= t->filler_max_pages) {
        tc_hugepage_t *hp;
        rc = as_tc_pageheap_filler_get(t, npages, dense, &s->start, &hp);
        s->origin = TC_ORIGIN_FILLER;
    } else if (npages % t->env.pph == 0) {
        rc = raw_alloc(t, s, 0);
    } else {
        uintptr_t a = 0;
        if (npages < t->env.pph) {
            tc_hugepage_t *hp;
            a = as_tc_filler_try_get(&t->env, &t->filler, npages, 0, &hp);
            if (a) as_tc_demand_record(t);
            s->origin = TC_ORIGIN_FILLER;
        }
        if (!a && t->env.p[TC_P_USE_REGIONS].u) {
            a = as_tc_regions_try_get(&t->env, &t->regions, npages, &s->region);
            if (!a && region_wanted(t) && region_create(t) == AS_OK)
                a = as_tc_regions_try_get(&t->env, &t->regions, npages,
                                          &s->region);
            s->origin = TC_ORIGIN_REGION;
        }
        if (a)
            s->start = a;
        else
            rc = raw_alloc(t, s, 0);
    }
    if (rc != AS_OK) {
        as_objlist_push(&t->ph.span_pool, s);
        return NULL;
    }
    if (as_tc_pagemap_set(t, s, cls != 0) != AS_OK) {
        as_tc_pagemap_clear(t, s, cls != 0);
        as_tc_pageheap_free(t, s);
        return NULL;
    }
    return s;
}

/* frees the pages and the record; the caller cleared the pagemap */
void as_tc_pageheap_free(tc_t *t, tc_span_t *s)
{
    switch (s->origin) {
    case TC_ORIGIN_FILLER: {
        tc_leaf_t *l = as_tc_leaf(t, s->start);
        as_tc_pageheap_filler_put(t, l->tracker, s->start, s->npages);
        break;
    }
    case TC_ORIGIN_REGION:
        as_tc_regions_put(&t->env, &t->regions, s->region, s->start, s->npages);
        break;
    default:
        raw_free(t, s);
        break;
    }
    as_objlist_push(&t->ph.span_pool, s);
}

uint64_t as_tc_backed_pages(const tc_t *t)
{
    return t->filler.hps * t->env.pph - t->filler.released_pages +
           (t->cache.backed.hps + t->ph.raw_hps + t->regions.backed_hps) *
               t->env.pph;
}

/* ---------------------------------------------------------- demand */

#define TC_EPOCH_NS 1000000000ull

void as_tc_demand_record(tc_t *t)
{
    tc_pageheap_t *ph = &t->ph;
    uint64_t e = t->now_ns / TC_EPOCH_NS;
    uint64_t d = t->filler.used_pages;
    if (!ph->demand_started) {
        ph->demand_started = 1;
        ph->demand_epoch = e;
        tc_demand_slot_t *s = &ph->demand[e % TC_DEMAND_SLOTS];
        s->epoch = e;
        s->min = s->max = ph->demand_last;
    }
    if (e > ph->demand_epoch) {
        uint64_t from = ph->demand_epoch + 1;
        if (e - from >= TC_DEMAND_SLOTS) from = e - TC_DEMAND_SLOTS + 1;
        for (uint64_t k = from; k <= e; k++) {
            tc_demand_slot_t *s = &ph->demand[k % TC_DEMAND_SLOTS];
            s->epoch = k;
            s->min = s->max = ph->demand_last;
        }
        ph->demand_epoch = e;
    }
    tc_demand_slot_t *s = &ph->demand[ph->demand_epoch % TC_DEMAND_SLOTS];
    if (d < s->min) s->min = d;
    if (d > s->max) s->max = d;
    ph->demand_last = d;
}

uint64_t as_tc_demand_requirement(const tc_t *t)
{
    const tc_pageheap_t *ph = &t->ph;
    uint64_t sh = t->env.p[TC_P_SKIP_SHORT].u / TC_EPOCH_NS;
    uint64_t lo = t->env.p[TC_P_SKIP_LONG].u / TC_EPOCH_NS;
    uint64_t cap = t->env.p[TC_P_SKIP_CAP].u / TC_EPOCH_NS;
    if (!ph->demand_started || (sh == 0 && lo == 0)) return 0;
    uint64_t span = sh > lo ? sh : lo;
    if (cap > span) span = cap;
    if (span > TC_DEMAND_SLOTS) span = TC_DEMAND_SLOTS;
    uint64_t fluct = 0, trend = 0, peak = 0;
    for (uint64_t k = 0; k < span && k <= ph->demand_epoch; k++) {
        const tc_demand_slot_t *s =
            &ph->demand[(ph->demand_epoch - k) % TC_DEMAND_SLOTS];
        if (s->epoch != ph->demand_epoch - k) break;
        if (k < sh && s->max - s->min > fluct) fluct = s->max - s->min;
        if (k < lo && s->min > trend) trend = s->min;
        if (k < cap && s->max > peak) peak = s->max;
    }
    uint64_t req = fluct + trend;
    if (cap && req > peak) req = peak;
    return req;
}

uint64_t as_tc_release(tc_t *t, uint64_t pages)
{
    uint64_t released = 0;
    uint64_t hps = (pages + t->env.pph - 1) / t->env.pph;
    released +=
        as_tc_cache_release(&t->env, &t->cache, &t->alloc, hps) * t->env.pph;
    if (released >= pages || !t->env.p[TC_P_SUBRELEASE].u) return released;
    uint64_t want = pages - released;
    uint64_t req = as_tc_demand_requirement(t);
    uint64_t current = t->filler.hps * t->env.pph - t->filler.released_pages;
    uint64_t allowed = current > req ? current - req : 0;
    if (want > allowed) {
        t->skip_subrelease_pages += want - allowed;
        want = allowed;
    }
    released += as_tc_filler_subrelease(&t->env, &t->filler, want);
    return released;
}

int as_tc_pageheap_check(const tc_t *t, as_msg_t *why)
{
    int rc = as_tc_filler_check(&t->env, &t->filler, why);
    if (!rc) rc = as_tc_regions_check(&t->env, &t->regions, why);
    if (!rc) rc = as_tc_rangeset_check(&t->env, &t->cache.backed, why, "cache");
    if (!rc)
        rc =
            as_tc_rangeset_check(&t->env, &t->alloc.unbacked, why, "allocator");
    if (rc) return rc;
    if (t->cache.backed.hps > t->cache.limit_hps)
        return as_msg_fail(why, "cache: holds more hugepages than its limit",
                           "hps", t->cache.backed.hps);
    uint64_t reserved = 0;
    for (const tc_reservation_t *r = t->alloc.reservations; r; r = r->next)
        reserved += r->bytes >> t->env.hp_shift;
    if (reserved != t->alloc.hps_from_os)
        return as_msg_fail(why, "allocator: hps_from_os != sum of reservations",
                           "hps_from_os", t->alloc.hps_from_os);
    /* every hugepage taken from the OS is in exactly one place */
    uint64_t placed = t->filler.hps + t->cache.backed.hps +
                      t->alloc.unbacked.hps + t->ph.raw_hps +
                      t->regions.pages / t->env.pph;
    if (placed != t->alloc.hps_from_os)
        return as_msg_fail(why,
                           "pageheap: filler + cache + unbacked + raw + region "
                           "hugepages != hugepages from the OS",
                           "placed_hps", placed);
    if (t->ph.donated_slack_pages >
        t->filler.n_in_set[TC_SET_DONATED] * (uint64_t)t->env.pph)
        return as_msg_fail(why,
                           "pageheap: donated slack exceeds the donated "
                           "hugepages",
                           "donated_slack_pages", t->ph.donated_slack_pages);
    return AS_OK;
}

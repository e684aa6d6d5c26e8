/* pageheap.c - the page heap's front door (TCMalloc's HugePageAwareAllocator)
 * and the release machinery driven by the policy's tick.
 *
 * Routing by span length n in pages, as in temeraire.md: n <= filler max
 * (128 pages at 8 KiB, half a hugepage) goes to the HugePageFiller, which
 * grows by a hugepage when nothing fits; an exact hugepage multiple goes to
 * raw hugepages; anything else first tries the filler without growing it,
 * then existing HugeRegions, then a new region, and finally raw hugepages
 * whose tail slack is donated to the filler as one allocation. A new
 * region is made (HugePageAwareAllocator::AllocLarge) when the slack of
 * every live allocation over 1 MiB -- plus, with region_more_often (the
 * default, kUseForAllLargeAllocs), the pages abandoned on donated tails --
 * reaches region_slack_bytes (64 MiB), and, without region_more_often,
 * the slack is also at least the pages of live allocations up to 1 MiB.
 * Release (ReleaseAtLeastNPages, every tick) shrinks and empties the
 * HugeCache first, then releases a tenth of the free-backed region
 * hugepages (region_more_often), then, if that is still short of the
 * request, subreleases filler pages; release_partial_alloc_pages raises
 * that request to a tenth of the free pages on partly released hugepages,
 * and skip-subrelease never takes the filler below the demand requirement
 * (short-term fluctuation over skip_subrelease_short + long-term trend
 * over skip_subrelease_long, capped by the peak over skip_subrelease_cap),
 * tracked in 1 s epochs.
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
    as_tc_cache_set_time(&t->cache, t->now_ns);
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
    as_tc_cache_set_time(&t->cache, t->now_ns);
    int rc = as_tc_filler_put(&t->env, &t->filler, hp, addr, n);
    as_tc_demand_record(t);
    if (rc == TC_FILLER_KEPT) return;
    tc_leaf_t *leaf = as_tc_leaf(t, start);
    if (leaf) leaf->tracker = NULL;
    if (rc == TC_FILLER_EMPTY_UNBACKED)
        as_tc_cache_put_unbacked(&t->env, &t->cache, &t->alloc, start, 1);
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
        }
    }
    return AS_OK;
}

/* As HugePageAwareAllocator::Delete for a raw allocation: the tail goes
 * back to the filler first. If other spans still use it, its pages are
 * abandoned and the tail stays; if it emptied backed, it returns to the
 * cache with the rest of the range in one put; if it had been
 * subreleased, it is returned unbacked on its own. */
static void raw_free(tc_t *t, tc_span_t *s)
{
    tc_pageheap_t *ph = &t->ph;
    uint64_t full = s->nhps - (s->tail ? 1 : 0);
    ph->raw_hps -= full;
    if (s->tail) {
        tc_hugepage_t *hp = s->tail;
        uintptr_t tail = hp->addr;
        int rc = as_tc_filler_put(&t->env, &t->filler, hp, tail, s->tail_pages);
        as_tc_demand_record(t);
        if (rc == TC_FILLER_KEPT) {
            as_tc_filler_abandon(&t->filler, hp);
        } else {
            tc_leaf_t *leaf = as_tc_leaf(t, tail);
            if (leaf) leaf->tracker = NULL;
            if (rc == TC_FILLER_EMPTY_BACKED)
                full++; /* the tail joins the range */
            else
                as_tc_cache_put_unbacked(&t->env, &t->cache, &t->alloc, tail,
                                         1);
        }
    }
    if (full) as_tc_cache_put(&t->env, &t->cache, &t->alloc, s->start, full);
}

/* A new region for a request of npages (AllocLarge): slack (plus abandoned
 * pages with region_more_often) of at least region_slack_bytes, and
 * without region_more_often slack >= small as well. */
static int region_wanted(const tc_t *t, uint32_t npages)
{
    if (!t->env.p[TC_P_USE_REGIONS].u) return 0;
    if ((uint64_t)npages << t->env.page_shift > t->env.p[TC_P_REGION_BYTES].u)
        return 0; /* AllocEnormous: straight to raw hugepages */
    int often = (int)t->env.p[TC_P_REGION_MORE_OFTEN].u;
    uint64_t donated = t->ph.slack_pages;
    if (often) donated += t->filler.abandoned_pages;
    if ((donated << t->env.page_shift) < t->env.p[TC_P_REGION_SLACK].u)
        return 0;
    return often || t->ph.slack_pages >= t->ph.small_pages;
}

/* PageAllocInfo::RecordAlloc/RecordFree: spans up to 1 MiB count as small,
 * longer ones by their slack to the next hugepage multiple. */
static void record_span(tc_t *t, uint32_t npages, int alloc)
{
    uint64_t small_max = (1u << 20) >> t->env.page_shift; /* kMaxPages */
    uint64_t *sum = &t->ph.small_pages, n = npages;
    if (npages > small_max) {
        sum = &t->ph.slack_pages;
        n = (t->env.pph - npages % t->env.pph) % t->env.pph;
    }
    if (alloc)
        *sum += n;
    else
        *sum -= n;
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
    as_tc_cache_set_time(&t->cache, t->now_ns);
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
            if (!a && region_wanted(t, npages) && region_create(t) == AS_OK)
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
    record_span(t, npages, 1);
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
    as_tc_cache_set_time(&t->cache, t->now_ns);
    record_span(t, s->npages, 0);
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

/* GetDesiredSubreleasePages: never release filler pages below the demand
 * requirement; `got` pages were released already. @return the new target */
static uint64_t skip_subrelease(tc_t *t, uint64_t desired, uint64_t got)
{
    uint64_t req = as_tc_demand_requirement(t);
    if (!req) return desired;
    const tc_filler_t *f = &t->filler;
    uint64_t current = f->hps * t->env.pph - f->released_pages;
    uint64_t target = req >= current ? got : got + (current - req);
    if (target >= desired) return desired;
    uint64_t free = current - f->used_pages;
    uint64_t releasable = target - got < free ? target - got : free;
    uint64_t skipped = desired - target < free - releasable ? desired - target
                                                            : free - releasable;
    t->skip_subrelease_pages += skipped;
    return target;
}

uint64_t as_tc_release(tc_t *t, uint64_t pages)
{
    tc_env_t *e = &t->env;
    as_tc_cache_set_time(&t->cache, t->now_ns);
    uint64_t hps = (pages + e->pph - 1) / e->pph;
    uint64_t released =
        as_tc_cache_release(e, &t->cache, &t->alloc, hps) * e->pph;
    if (e->p[TC_P_REGION_MORE_OFTEN].u)
        released += as_tc_regions_release(e, &t->regions);
    if (released >= pages || !e->p[TC_P_SUBRELEASE].u) return released;
    /* HugePageFiller::ReleasePages */
    tc_filler_t *f = &t->filler;
    uint64_t desired = pages - released;
    if (e->p[TC_P_RELEASE_PARTIAL].u) {
        /* kPartialAllocPagesRelease: a tenth of the free pages on partly
         * released hugepages, truncated */
        uint64_t partial = as_tc_filler_partial_free(e, f) / 10;
        if (partial > desired) desired = partial;
    }
    uint64_t got = as_tc_filler_take_unaccounted(f);
    f->pages_subreleased += got;
    if (got < desired) {
        desired = skip_subrelease(t, desired, got);
        if (desired > got) got += as_tc_filler_subrelease(e, f, desired - got);
    }
    return released + got;
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
    if (t->cache.usage_hps != t->filler.hps + t->ph.raw_hps)
        return as_msg_fail(why,
                           "cache: usage != filler + raw hugepages it handed "
                           "out",
                           "usage_hps", t->cache.usage_hps);
    return AS_OK;
}

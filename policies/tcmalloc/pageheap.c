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
 * Owns span records; never touches user memory.
 */
#include "policies/tcmalloc/tc_internal.h"

static void raw_free(tc_t *t, tc_span_t *s);

static int raw_alloc(tc_t *t, tc_span_t *s, uint64_t align)
{
    uint64_t nhps = (s->npages + t->pph - 1) / t->pph;
    uintptr_t start;
    int rc = as_tc_hp_get(t, nhps, align, &start);
    if (rc != AS_OK) return rc;
    s->start = start;
    s->origin = TC_ORIGIN_RAW;
    s->nhps = (uint32_t)nhps;
    t->raw_hps += nhps;
    uint32_t slack = (uint32_t)(nhps * t->pph - s->npages);
    if (slack) {
        uintptr_t tail = start + ((uintptr_t)(nhps - 1) << t->hp_shift);
        uint32_t used = t->pph - slack;
        tc_hugepage_t *hp = as_tc_filler_donate(t, tail, used);
        if (hp) {
            t->raw_hps--;
            s->tail = hp;
            s->tail_pages = used;
            t->donated_slack_pages += slack;
        }
    }
    return AS_OK;
}

static void raw_free(tc_t *t, tc_span_t *s)
{
    uint64_t full = s->nhps - (s->tail ? 1 : 0);
    t->raw_hps -= full;
    if (full) as_tc_hp_put_backed(t, s->start, full);
    if (s->tail) {
        t->donated_slack_pages -= t->pph - s->tail_pages;
        as_tc_filler_undonate(t, s->tail);
        as_tc_filler_put(t, s->tail, s->tail->addr, s->tail_pages);
    }
}

static int region_wanted(const tc_t *t)
{
    if (!t->p[TC_P_USE_REGIONS].u) return 0;
    uint64_t slack_bytes = t->donated_slack_pages << t->page_shift;
    return slack_bytes >= t->p[TC_P_REGION_SLACK].u &&
           t->donated_slack_pages >= t->filler.used_pages;
}

tc_span_t *as_tc_pageheap_alloc(tc_t *t, uint32_t npages, int dense,
                                uint64_t align, uint32_t cls)
{
    tc_span_t *s = as_tc_pool_get(t, &t->span_pool);
    if (!s) return NULL;
    s->npages = npages;
    s->cls = (uint16_t)cls;
    s->list = 0xff;
    int rc = AS_OK;
    if (align > t->page_bytes) {
        rc = raw_alloc(t, s, align);
    } else if (npages <= t->filler_max_pages) {
        tc_hugepage_t *hp;
        rc = as_tc_filler_get(t, npages, dense, &s->start, &hp);
        s->origin = TC_ORIGIN_FILLER;
    } else if (npages % t->pph == 0) {
        rc = raw_alloc(t, s, 0);
    } else {
        uintptr_t a = 0;
        if (npages < t->pph) {
            tc_hugepage_t *hp;
            a = as_tc_filler_try_get(t, npages, 0, &hp);
            s->origin = TC_ORIGIN_FILLER;
        }
        if (!a && t->p[TC_P_USE_REGIONS].u) {
            a = as_tc_region_try_get(t, npages, &s->region);
            if (!a && region_wanted(t) && as_tc_region_create(t) == AS_OK)
                a = as_tc_region_try_get(t, npages, &s->region);
            s->origin = TC_ORIGIN_REGION;
        }
        if (a)
            s->start = a;
        else
            rc = raw_alloc(t, s, 0);
    }
    if (rc != AS_OK) {
        as_tc_pool_put(&t->span_pool, s);
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
        as_tc_filler_put(t, l->tracker, s->start, s->npages);
        break;
    }
    case TC_ORIGIN_REGION:
        as_tc_region_put(t, s->region, s->start, s->npages);
        break;
    default:
        raw_free(t, s);
        break;
    }
    as_tc_pool_put(&t->span_pool, s);
}

uint64_t as_tc_backed_pages(const tc_t *t)
{
    return t->filler.hps * t->pph - t->filler.released_pages +
           (t->cache.hps + t->raw_hps + t->region_backed_hps) * t->pph;
}

/* ---------------------------------------------------------- demand */

#define TC_EPOCH_NS 1000000000ull

void as_tc_demand_record(tc_t *t)
{
    uint64_t e = t->now_ns / TC_EPOCH_NS;
    uint64_t d = t->filler.used_pages;
    if (!t->demand_started) {
        t->demand_started = 1;
        t->demand_epoch = e;
        tc_demand_slot_t *s = &t->demand[e % TC_DEMAND_SLOTS];
        s->epoch = e;
        s->min = s->max = t->demand_last;
    }
    if (e > t->demand_epoch) {
        uint64_t from = t->demand_epoch + 1;
        if (e - from >= TC_DEMAND_SLOTS) from = e - TC_DEMAND_SLOTS + 1;
        for (uint64_t k = from; k <= e; k++) {
            tc_demand_slot_t *s = &t->demand[k % TC_DEMAND_SLOTS];
            s->epoch = k;
            s->min = s->max = t->demand_last;
        }
        t->demand_epoch = e;
    }
    tc_demand_slot_t *s = &t->demand[t->demand_epoch % TC_DEMAND_SLOTS];
    if (d < s->min) s->min = d;
    if (d > s->max) s->max = d;
    t->demand_last = d;
}

uint64_t as_tc_demand_requirement(const tc_t *t)
{
    uint64_t sh = t->p[TC_P_SKIP_SHORT].u / TC_EPOCH_NS;
    uint64_t lo = t->p[TC_P_SKIP_LONG].u / TC_EPOCH_NS;
    uint64_t cap = t->p[TC_P_SKIP_CAP].u / TC_EPOCH_NS;
    if (!t->demand_started || (sh == 0 && lo == 0)) return 0;
    uint64_t span = sh > lo ? sh : lo;
    if (cap > span) span = cap;
    if (span > TC_DEMAND_SLOTS) span = TC_DEMAND_SLOTS;
    uint64_t fluct = 0, trend = 0, peak = 0;
    for (uint64_t k = 0; k < span && k <= t->demand_epoch; k++) {
        const tc_demand_slot_t *s =
            &t->demand[(t->demand_epoch - k) % TC_DEMAND_SLOTS];
        if (s->epoch != t->demand_epoch - k) break;
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
    uint64_t hps = (pages + t->pph - 1) / t->pph;
    released += as_tc_cache_release(t, hps) * t->pph;
    if (released >= pages || !t->p[TC_P_SUBRELEASE].u) return released;
    uint64_t want = pages - released;
    uint64_t req = as_tc_demand_requirement(t);
    uint64_t current = t->filler.hps * t->pph - t->filler.released_pages;
    uint64_t allowed = current > req ? current - req : 0;
    if (want > allowed) {
        t->skip_subrelease_pages += want - allowed;
        want = allowed;
    }
    released += as_tc_filler_subrelease(t, want);
    return released;
}

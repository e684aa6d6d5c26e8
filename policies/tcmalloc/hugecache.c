/* hugecache.c - the HugeCache: free hugepages kept backed so the next
 * request for whole hugepages costs no page faults.
 *
 * Follows TCMalloc's huge_cache.h: the backed free hugepages live in an
 * address-ordered range set; a hit takes the best fit from it, a miss goes
 * to the HugeAllocator and raises the limit (from hugecache_min_hugepages
 * up to hugecache_max_hugepages); a put that pushes the cache over its
 * limit releases the highest hugepages to the OS and hands them, unbacked,
 * to the allocator; every tick the limit shrinks by a fraction of the size
 * the cache kept idle since the last tick. Owns tc_cache_t; calls only the
 * HugeAllocator. Never touches user memory.
 */
#include "policies/tcmalloc/tc_internal.h"

void as_tc_cache_init(tc_env_t *e, tc_cache_t *c)
{
    as_tc_rangeset_init(&c->backed);
    c->limit_hps = e->p[TC_P_HUGECACHE_MIN].u;
    c->min_since_tick = 0;
    c->hits = c->misses = c->released_hps = 0;
}

static void note_size(tc_cache_t *c)
{
    if (c->backed.hps < c->min_since_tick) c->min_since_tick = c->backed.hps;
}

int as_tc_cache_get(tc_env_t *e, tc_cache_t *c, tc_hugealloc_t *a,
                    uint64_t nhps, uint64_t align, uintptr_t *start)
{
    if (as_tc_rangeset_take(e, a, &c->backed, nhps, align, start) == AS_OK) {
        c->hits++;
        note_size(c);
        return AS_OK;
    }
    c->misses++;
    uint64_t max = e->p[TC_P_HUGECACHE_MAX].u;
    c->limit_hps = c->limit_hps + nhps < max ? c->limit_hps + nhps : max;
    return as_tc_hugealloc_get(e, a, nhps, align, start);
}

uint64_t as_tc_cache_release(tc_env_t *e, tc_cache_t *c, tc_hugealloc_t *a,
                             uint64_t max_hps)
{
    uint64_t done = 0;
    while (done < max_hps) {
        uintptr_t s;
        uint64_t k;
        if (as_tc_rangeset_take_last(e, a, &c->backed, max_hps - done, &s,
                                     &k) != AS_OK)
            break;
        as_ps_release(e->ps, s, k << e->hp_shift);
        as_tc_hugealloc_put(e, a, s, k);
        done += k;
    }
    c->released_hps += done;
    note_size(c);
    return done;
}

static void enforce_limit(tc_env_t *e, tc_cache_t *c, tc_hugealloc_t *a)
{
    if (c->backed.hps > c->limit_hps)
        as_tc_cache_release(e, c, a, c->backed.hps - c->limit_hps);
}

void as_tc_cache_put(tc_env_t *e, tc_cache_t *c, tc_hugealloc_t *a,
                     uintptr_t start, uint64_t nhps)
{
    if (as_tc_rangeset_put(e, a, &c->backed, start, nhps) != AS_OK) {
        as_ps_release(e->ps, start, nhps << e->hp_shift);
        as_tc_hugealloc_put(e, a, start, nhps);
        return;
    }
    enforce_limit(e, c, a);
}

void as_tc_cache_tick(tc_env_t *e, tc_cache_t *c, tc_hugealloc_t *a)
{
    /* the cache stayed at least this large for a whole tick: it is oversized;
     * shrink the limit by a fraction of the idle part (kFractionToRelease) */
    uint64_t idle = c->min_since_tick;
    if (idle > c->backed.hps) idle = c->backed.hps;
    if (idle) {
        double f = e->p[TC_P_HUGECACHE_RELEASE_FRACTION].d;
        uint64_t cut = (uint64_t)(f * (double)idle + 0.999999);
        uint64_t min = e->p[TC_P_HUGECACHE_MIN].u;
        c->limit_hps = c->limit_hps > min + cut ? c->limit_hps - cut : min;
        enforce_limit(e, c, a);
    }
    c->min_since_tick = c->backed.hps;
}

/* hugecache.c - the HugeCache: free hugepages kept backed so the next
 * request for whole hugepages costs no page faults.
 *
 * Follows TCMalloc's huge_cache.h/huge_cache.cc: the backed free hugepages
 * live in an address-ordered range set; a hit takes the best fit from it, a
 * miss goes to the HugeAllocator. The limit starts at
 * hugecache_min_hugepages and follows demand: on a miss it grows to the
 * largest recent "dip" (usage fell and came back within hugecache_time)
 * plus a tenth; when the cache's smallest size over 2 x hugecache_time
 * stayed at least a fifth of the limit, the limit drops by half that size,
 * not below the floor. That shrink check runs on a put at most once per
 * 2 x hugecache_time, and on every release call (the background tick).
 * Hugepages above the limit are released to the OS, from the smallest free
 * range first, and handed, unbacked, to the allocator. The usage, off-peak and size histories are min/max
 * trackers of 16 epochs over 2 x hugecache_time (MinMaxTracker).
 *
 * Owns tc_cache_t; calls only the HugeAllocator. Reads the time from
 * c->now_ns, set by the page heap; never touches user memory.
 */
#include "policies/tcmalloc/tc_internal.h"

/* ---------------------------------------------------------- min/max */

static void mm_clear_slot(tc_minmax_t *m, uint32_t i, uint64_t delta)
{
    m->slot[i].min = UINT64_MAX;
    m->slot[i].max = 0;
    m->slot[i].delta = delta;
}

void as_tc_minmax_init(tc_minmax_t *m, uint64_t window_ns)
{
    m->epoch_ns = window_ns / TC_MINMAX_SLOTS ? window_ns / TC_MINMAX_SLOTS : 1;
    m->started = 0;
    m->cur = 0;
    m->covered = 0;
    m->last_epoch = 0;
    for (uint32_t i = 0; i < TC_MINMAX_SLOTS; i++)
        mm_clear_slot(m, i, 0);
}

/* Advance to now's epoch: a new slot records how many epochs passed. The
 * first call starts the series with one empty epoch (InitTracker). */
static void mm_clock(tc_minmax_t *m, uint64_t now_ns)
{
    uint64_t ep = now_ns / m->epoch_ns;
    if (!m->started) {
        m->started = 1;
        m->cur = 0;
        m->slot[0].delta = 1;
        m->covered = 1;
        m->last_epoch = ep;
        return;
    }
    if (ep <= m->last_epoch) return;
    uint64_t delta = ep - m->last_epoch;
    m->last_epoch = ep;
    m->cur = (m->cur + 1) % TC_MINMAX_SLOTS;
    m->covered -= m->slot[m->cur].delta;
    mm_clear_slot(m, m->cur, delta);
    m->covered += delta;
}

void as_tc_minmax_report(tc_minmax_t *m, uint64_t now_ns, uint64_t v)
{
    mm_clock(m, now_ns);
    if (v < m->slot[m->cur].min) m->slot[m->cur].min = v;
    if (v > m->slot[m->cur].max) m->slot[m->cur].max = v;
}

uint64_t as_tc_minmax_over(const tc_minmax_t *m, uint64_t window_ns,
                           int want_max)
{
    if (!m->started || window_ns == 0) return 0;
    uint64_t epochs = (window_ns + m->epoch_ns - 1) / m->epoch_ns;
    if (epochs > m->covered) epochs = m->covered;
    uint64_t res = want_max ? 0 : UINT64_MAX, done = 0;
    uint32_t j = m->cur;
    for (uint32_t k = 0; k < TC_MINMAX_SLOTS && k < epochs; k++) {
        if (want_max && m->slot[j].max > res) res = m->slot[j].max;
        if (!want_max && m->slot[j].min < res) res = m->slot[j].min;
        done += m->slot[j].delta;
        if (done >= epochs) break;
        j = j ? j - 1 : TC_MINMAX_SLOTS - 1;
    }
    return res == UINT64_MAX ? 0 : res;
}

/* ---------------------------------------------------------- the cache */

static uint64_t cache_time(const tc_env_t *e)
{
    return e->p[TC_P_HUGECACHE_TIME].u;
}

void as_tc_cache_init(tc_env_t *e, tc_cache_t *c)
{
    as_tc_rangeset_init(&c->backed);
    c->limit_hps = e->p[TC_P_HUGECACHE_MIN].u;
    c->usage_hps = 0;
    c->now_ns = 0;
    c->last_limit_change_ns = 0;
    c->clock_started = 0;
    as_tc_minmax_init(&c->usage, 2 * cache_time(e));
    as_tc_minmax_init(&c->off_peak, 2 * cache_time(e));
    as_tc_minmax_init(&c->size, 2 * cache_time(e));
    c->hits = c->misses = c->released_hps = 0;
    c->limit_grows = c->limit_shrinks = 0;
}

void as_tc_cache_set_time(tc_cache_t *c, uint64_t now_ns)
{
    if (!c->clock_started) {
        /* TCMalloc starts its clock when the cache is made; ours starts
         * with the first request the page heap serves */
        c->clock_started = 1;
        c->last_limit_change_ns = now_ns;
    }
    if (now_ns > c->now_ns) c->now_ns = now_ns;
}

static void note_size(tc_cache_t *c)
{
    as_tc_minmax_report(&c->size, c->now_ns, c->backed.hps);
}

static void inc_usage(tc_cache_t *c, uint64_t n)
{
    c->usage_hps += n;
    as_tc_minmax_report(&c->usage, c->now_ns, c->usage_hps);
    as_tc_minmax_report(&c->off_peak, c->now_ns, 0);
}

static void dec_usage(const tc_env_t *e, tc_cache_t *c, uint64_t n)
{
    c->usage_hps -= n;
    as_tc_minmax_report(&c->usage, c->now_ns, c->usage_hps);
    uint64_t max = as_tc_minmax_over(&c->usage, cache_time(e), 1);
    as_tc_minmax_report(&c->off_peak, c->now_ns,
                        max > c->usage_hps ? max - c->usage_hps : 0);
}

/* MaybeGrowCacheLimit: the limit becomes the largest brief dip (usage fell
 * by `shrink` and came back up by `grow` within cache_time) plus 10%. */
static void maybe_grow(const tc_env_t *e, tc_cache_t *c)
{
    uint64_t shrink = as_tc_minmax_over(&c->off_peak, cache_time(e), 1);
    uint64_t low = as_tc_minmax_over(&c->usage, cache_time(e), 0);
    uint64_t grow = c->usage_hps > low ? c->usage_hps - low : 0;
    uint64_t dip = shrink < grow ? shrink : grow;
    uint64_t lim = dip + dip / 10;
    uint64_t max = e->p[TC_P_HUGECACHE_MAX].u;
    if (lim > max) lim = max;
    if (lim > c->limit_hps) {
        c->last_limit_change_ns = c->now_ns;
        c->limit_hps = lim;
        c->limit_grows++;
    }
}

/* ShrinkCache: release hugepages until the cache holds at most target,
 * from the smallest range first and from its start, as TCMalloc removes
 * "smallest-ish nodes" (Find(1)) and splits off only what it needs.
 * @return hugepages released. */
static uint64_t shrink_to(tc_env_t *e, tc_cache_t *c, tc_hugealloc_t *a,
                          uint64_t target)
{
    uint64_t done = 0;
    while (c->backed.hps > target) {
        uintptr_t s;
        if (as_tc_rangeset_take(e, a, &c->backed, 1, 0, &s) != AS_OK) break;
        as_ps_release(e->ps, s, e->hp_bytes);
        as_tc_hugealloc_put(e, a, s, 1);
        done++;
    }
    c->released_hps += done;
    return done;
}

/* MaybeShrinkCacheLimit: when the smallest size over 2 x cache_time is at
 * least a fifth of the limit, drop the limit by half of it (at least one
 * hugepage, not below the floor) and cut the cache to it. @return
 * hugepages released. */
static uint64_t maybe_shrink(tc_env_t *e, tc_cache_t *c, tc_hugealloc_t *a)
{
    c->last_limit_change_ns = c->now_ns;
    uint64_t min = as_tc_minmax_over(&c->size, 2 * cache_time(e), 0);
    if (min < c->limit_hps / 5) return 0;
    uint64_t drop = min / 2 ? min / 2 : 1;
    uint64_t floor = e->p[TC_P_HUGECACHE_MIN].u;
    uint64_t lim = c->limit_hps > drop ? c->limit_hps - drop : 0;
    c->limit_hps = lim > floor ? lim : floor;
    c->limit_shrinks++;
    return shrink_to(e, c, a, c->limit_hps);
}

int as_tc_cache_get(tc_env_t *e, tc_cache_t *c, tc_hugealloc_t *a,
                    uint64_t nhps, uint64_t align, uintptr_t *start)
{
    if (as_tc_rangeset_take(e, a, &c->backed, nhps, align, start) == AS_OK) {
        c->hits++;
        note_size(c);
        inc_usage(c, nhps);
        return AS_OK;
    }
    c->misses++;
    int rc = as_tc_hugealloc_get(e, a, nhps, align, start);
    if (rc != AS_OK) return rc;
    inc_usage(c, nhps);
    maybe_grow(e, c);
    return AS_OK;
}

void as_tc_cache_put(tc_env_t *e, tc_cache_t *c, tc_hugealloc_t *a,
                     uintptr_t start, uint64_t nhps)
{
    dec_usage(e, c, nhps);
    if (as_tc_rangeset_put(e, a, &c->backed, start, nhps) != AS_OK) {
        /* no metadata for the range: release it instead of caching it */
        as_ps_release(e->ps, start, nhps << e->hp_shift);
        as_tc_hugealloc_put(e, a, start, nhps);
        note_size(c);
        return;
    }
    if (c->now_ns - c->last_limit_change_ns > 2 * cache_time(e))
        maybe_shrink(e, c, a);
    shrink_to(e, c, a, c->limit_hps);
    note_size(c);
}

void as_tc_cache_put_unbacked(tc_env_t *e, tc_cache_t *c, tc_hugealloc_t *a,
                              uintptr_t start, uint64_t nhps)
{
    dec_usage(e, c, nhps);
    as_tc_hugealloc_put(e, a, start, nhps);
}

uint64_t as_tc_cache_release(tc_env_t *e, tc_cache_t *c, tc_hugealloc_t *a,
                             uint64_t max_hps)
{
    uint64_t done = maybe_shrink(e, c, a);
    if (done < max_hps) {
        uint64_t n = max_hps - done;
        uint64_t target = n > c->backed.hps ? 0 : c->backed.hps - n;
        done += shrink_to(e, c, a, target);
    }
    note_size(c);
    return done;
}

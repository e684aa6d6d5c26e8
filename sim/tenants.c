/* tenants.c - background tenants on a simulated machine (see tenants.h).
 *
 * Owns the frames of the page cache and of the unmovable tenants of one
 * as_phys_t: per kind an array of frames, slot i tagged (kind << 40 | i) in
 * phys, so a migration or a swap-remove updates one slot. Randomness comes
 * only from the seeded generator of common/rng.h. Never prints, never reads
 * a clock.
 */
#include "sim/tenants.h"

#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/rng.h"

#define KIND_SHIFT 40

typedef struct {
    uint64_t *frame; /* frame of each slot */
    uint64_t n, cap;
} kind_t;

struct as_tenants {
    as_tenants_config_t cfg;
    as_phys_t *phys;
    uint32_t owner;
    as_rng_t rng;
    kind_t k[AS_MT_COUNT];
    as_tenants_counters_t c;
};

static void migrated(void *state, uint64_t tag, uint64_t to)
{
    as_tenants_t *t = state;
    t->k[tag >> KIND_SHIFT].frame[tag & ((1ull << KIND_SHIFT) - 1)] = to;
}

/* Free slot i of kind m: the last slot moves into it. */
static void drop(as_tenants_t *t, unsigned m, uint64_t i)
{
    kind_t *k = &t->k[m];
    as_phys_free(t->phys, k->frame[i], 0);
    k->frame[i] = k->frame[--k->n];
    if (i < k->n)
        as_phys_retag(t->phys, k->frame[i], (uint64_t)m << KIND_SHIFT | i);
    t->c.pages[m] = k->n;
}

static void drop_random(as_tenants_t *t, unsigned m, uint64_t n)
{
    for (uint64_t j = 0; j < n && t->k[m].n; j++)
        drop(t, m, as_rng_below(&t->rng, t->k[m].n));
}

static uint64_t reclaim(void *state, uint64_t pages)
{
    as_tenants_t *t = state;
    uint64_t before = t->k[AS_MT_MOVABLE].n;
    drop_random(t, AS_MT_MOVABLE, pages);
    uint64_t n = before - t->k[AS_MT_MOVABLE].n;
    t->c.reclaimed_pages += n;
    return n;
}

int as_tenants_create(const as_tenants_config_t *cfg, as_phys_t *phys,
                      as_tenants_t **out)
{
    *out = NULL;
    if (cfg->swing_pct > 100 || cfg->churn_permille > 1000) return AS_EINVAL;
    as_tenants_t *t = calloc(1, sizeof *t);
    if (!t) return AS_ENOMEM;
    t->cfg = *cfg;
    t->phys = phys;
    as_rng_seed(&t->rng, cfg->seed);
    as_phys_owner_ops_t ops = {migrated, reclaim, t};
    int rc = as_phys_owner_add(phys, &ops, &t->owner);
    if (rc) {
        free(t);
        return rc;
    }
    t->c.host_bytes = sizeof *t;
    *out = t;
    return 0;
}

void as_tenants_destroy(as_tenants_t *t)
{
    if (!t) return;
    for (unsigned m = 0; m < AS_MT_COUNT; m++) {
        while (t->k[m].n)
            drop(t, m, t->k[m].n - 1);
        free(t->k[m].frame);
    }
    as_phys_owner_remove(t->phys, t->owner);
    free(t);
}

/* Triangle wave in thousandths: 0 at 0, 1000 at P/4, -1000 at 3P/4. */
static int64_t wave(uint64_t period, uint64_t t_ns)
{
    if (!period) return 0;
    uint64_t q = t_ns % period;
    /* 4000 * q / period in [0, 4000) without overflow for q < 2^52 */
    int64_t x = (int64_t)((unsigned __int128)q * 4000 / period);
    if (x < 1000) return x;
    if (x < 3000) return 2000 - x;
    return x - 4000;
}

uint64_t as_tenants_target(const as_tenants_t *t, as_migratetype_t mt,
                           uint64_t t_ns)
{
    uint64_t level =
        (mt == AS_MT_MOVABLE ? t->cfg.cache_bytes : t->cfg.unmovable_bytes) /
        AS_PHYS_PAGE_BYTES;
    int64_t f =
        100000 + (int64_t)t->cfg.swing_pct * wave(t->cfg.period_ns, t_ns);
    return (uint64_t)((unsigned __int128)level * (uint64_t)f / 100000);
}

static int grow(as_tenants_t *t, unsigned m, uint64_t target)
{
    kind_t *k = &t->k[m];
    while (k->n < target) {
        if (k->n == k->cap) {
            uint64_t cap = k->cap ? 2 * k->cap : 1024;
            uint64_t *a = realloc(k->frame, cap * sizeof *a);
            if (!a) return AS_ENOMEM;
            t->c.host_bytes += (cap - k->cap) * sizeof *a;
            k->frame = a;
            k->cap = cap;
        }
        uint64_t f;
        if (as_phys_alloc(t->phys, t->owner, 0, (as_migratetype_t)m,
                          (uint64_t)m << KIND_SHIFT | k->n, &f)) {
            t->c.shortfalls++;
            break;
        }
        k->frame[k->n++] = f;
    }
    t->c.pages[m] = k->n;
    if (k->n > t->c.peak_pages[m]) t->c.peak_pages[m] = k->n;
    return 0;
}

int as_tenants_step(as_tenants_t *t, uint64_t t_ns)
{
    t->c.steps++;
    /* unmovable first: slab grows before the cache refills */
    static const unsigned order[AS_MT_COUNT] = {AS_MT_UNMOVABLE, AS_MT_MOVABLE};
    for (unsigned j = 0; j < AS_MT_COUNT; j++) {
        unsigned m = order[j];
        uint64_t target = as_tenants_target(t, (as_migratetype_t)m, t_ns);
        drop_random(t, m, t->k[m].n * t->cfg.churn_permille / 1000);
        if (t->k[m].n > target) drop_random(t, m, t->k[m].n - target);
        int rc = grow(t, m, target);
        if (rc) return rc;
    }
    return 0;
}

uint64_t as_tenants_frame(const as_tenants_t *t, as_migratetype_t mt,
                          uint64_t i)
{
    return i < t->k[mt].n ? t->k[mt].frame[i] : UINT64_MAX;
}

const as_tenants_counters_t *as_tenants_counters(const as_tenants_t *t)
{
    return &t->c;
}

/* cached.c - the `cached` predictor: LLAMA's prediction cache around any
 * predictor.
 *
 * Owns a set-associative table of (return address, depth, size) -> class
 * from the configuration's as_mem_t, and the hit/verification counters. It
 * does not own the inner predictor (the engine creates and destroys it) and
 * must never read true_class itself: only the inner predictor may, when it is
 * an oracle. No libc, no clock, deterministic.
 */
#include "predictors/cached/cached.h"

#include "common/util.h"

#define WAYS 4

static const as_param_spec_t cached_params[] = {
    [AS_CACHED_CAPACITY] = {"capacity", AS_PARAM_U64, "4096", WAYS, 1 << 24,
                            NULL,
                            "entries (4-way sets; rounded up to 4 x 2^k)"},
    [AS_CACHED_VERIFY_EVERY] = {"verify_every", AS_PARAM_U64, "64", 0, 1e9,
                                NULL,
                                "ask the inner predictor on every n-th hit "
                                "to count disagreements (0: never)"},
    [AS_CACHED_SIZE_KEY] = {"size_key", AS_PARAM_ENUM, "exact", 0, 0,
                            "exact|pow2|none",
                            "size in the key: exact bytes (LLAMA), rounded "
                            "up to a power of two, or left out"},
    [AS_CACHED_REFRESH] = {"refresh", AS_PARAM_BOOL, "1", 0, 1, NULL,
                           "on each observed outcome, re-ask the inner "
                           "predictor and update that key's entry"},
};

/* One cached answer. valid == 0: empty way. */
typedef struct {
    uint64_t ret;   /* return address (pcs[0], or frame/stack id) */
    uint64_t size;  /* requested bytes, as size_key keeps them */
    uint64_t used;  /* LRU stamp within the set */
    uint32_t depth; /* stack depth */
    int32_t cls;    /* the inner predictor's answer */
    uint32_t valid;
} cache_entry_t;

/* Invariants: sets * WAYS == entries; hits + misses == lookups;
 * disagreements <= verified <= hits. */
typedef struct {
    as_mem_t mem;
    const as_predictor_ops_t *inner;
    void *inner_state;
    cache_entry_t *e;
    uint32_t sets, entries;
    uint64_t verify_every;
    int refresh, size_key;
    uint64_t clock; /* LRU stamps */
    uint64_t lookups, hits, misses, evictions;
    uint64_t verified, disagreements, refreshes, refresh_changes;
} cached_state_t;

static uint64_t ret_addr(const as_pred_ctx_t *c)
{
    if (c->depth && c->pcs) return c->pcs[0];
    if (c->depth && c->frames) return c->frames[0];
    return c->stack;
}

enum { SIZE_EXACT, SIZE_POW2, SIZE_NONE };

/* The size component of the key. */
static uint64_t size_part(const cached_state_t *s, uint64_t size)
{
    if (s->size_key == SIZE_NONE) return 0;
    if (s->size_key == SIZE_EXACT || size <= 1) return size;
    uint64_t p = 1;
    while (p < size && p < (1ull << 63))
        p <<= 1;
    return p;
}

static cache_entry_t *set_of(cached_state_t *s, uint64_t ret, uint32_t depth,
                             uint64_t size)
{
    uint64_t h = as_hash64(ret ^ as_hash64(size ^ ((uint64_t)depth << 48)));
    return &s->e[(h & (s->sets - 1)) * WAYS];
}

static cache_entry_t *lookup(cached_state_t *s, const as_pred_ctx_t *c)
{
    uint64_t ret = ret_addr(c), size = size_part(s, c->size);
    cache_entry_t *set = set_of(s, ret, c->depth, size);
    for (int w = 0; w < WAYS; w++)
        if (set[w].valid && set[w].ret == ret && set[w].depth == c->depth &&
            set[w].size == size)
            return &set[w];
    return NULL;
}

static int cached_create(const as_predictor_config_t *cfg, void **state)
{
    if (!cfg->inner_ops || !cfg->inner_state) return AS_EINVAL;
    cached_state_t *s = as_mem_alloc(cfg->mem, sizeof *s);
    if (!s) return AS_ENOMEM;
    s->mem = *cfg->mem;
    s->inner = cfg->inner_ops;
    s->inner_state = cfg->inner_state;
    uint64_t want = cfg->params[AS_CACHED_CAPACITY].u;
    s->sets = 1;
    while ((uint64_t)s->sets * WAYS < want)
        s->sets <<= 1;
    s->entries = s->sets * WAYS;
    s->verify_every = cfg->params[AS_CACHED_VERIFY_EVERY].u;
    s->refresh = (int)cfg->params[AS_CACHED_REFRESH].u;
    s->size_key = (int)cfg->params[AS_CACHED_SIZE_KEY].u;
    s->e = as_mem_alloc(&s->mem, (size_t)s->entries * sizeof *s->e);
    if (!s->e) {
        as_mem_t mem = s->mem;
        as_mem_free(&mem, s, sizeof *s);
        return AS_ENOMEM;
    }
    *state = s;
    return AS_OK;
}

static int32_t cached_predict(void *state, const as_pred_ctx_t *ctx)
{
    cached_state_t *s = state;
    s->lookups++;
    s->clock++;
    cache_entry_t *x = lookup(s, ctx);
    if (x) {
        s->hits++;
        x->used = s->clock;
        if (s->verify_every && s->hits % s->verify_every == 0) {
            s->verified++;
            if (s->inner->predict(s->inner_state, ctx) != x->cls)
                s->disagreements++;
        }
        return x->cls;
    }
    s->misses++;
    int32_t cls = s->inner->predict(s->inner_state, ctx);
    uint64_t ret = ret_addr(ctx), size = size_part(s, ctx->size);
    cache_entry_t *set = set_of(s, ret, ctx->depth, size);
    cache_entry_t *victim = &set[0];
    for (int w = 0; w < WAYS; w++) {
        if (!set[w].valid) {
            victim = &set[w];
            break;
        }
        if (set[w].used < victim->used) victim = &set[w];
    }
    if (victim->valid) s->evictions++;
    *victim = (cache_entry_t){.ret = ret,
                              .size = size,
                              .used = s->clock,
                              .depth = ctx->depth,
                              .cls = cls,
                              .valid = 1};
    return cls;
}

static void cached_observe(void *state, const as_pred_ctx_t *ctx,
                           const as_pred_outcome_t *out)
{
    cached_state_t *s = state;
    if (s->inner->observe) s->inner->observe(s->inner_state, ctx, out);
    if (!s->refresh || !s->inner->observe) return;
    cache_entry_t *x = lookup(s, ctx);
    if (!x) return;
    int32_t cls = s->inner->predict(s->inner_state, ctx);
    s->refreshes++;
    if (cls != x->cls) s->refresh_changes++;
    x->cls = cls;
}

static void cached_stats(void *state, as_pred_stat_fn fn, void *arg)
{
    const cached_state_t *s = state;
    fn(arg, "cached_entries", (double)s->entries);
    fn(arg, "cached_lookups", (double)s->lookups);
    fn(arg, "cached_hits", (double)s->hits);
    fn(arg, "cached_misses", (double)s->misses);
    fn(arg, "cached_evictions", (double)s->evictions);
    fn(arg, "cached_hit_rate",
       s->lookups ? (double)s->hits / (double)s->lookups : 0.0);
    fn(arg, "cached_verified", (double)s->verified);
    fn(arg, "cached_disagreements", (double)s->disagreements);
    fn(arg, "cached_disagreement_rate",
       s->verified ? (double)s->disagreements / (double)s->verified : 0.0);
    fn(arg, "cached_refreshes", (double)s->refreshes);
    fn(arg, "cached_refresh_changes", (double)s->refresh_changes);
    if (s->inner->stats) s->inner->stats(s->inner_state, fn, arg);
}

static void cached_destroy(void *state)
{
    cached_state_t *s = state;
    as_mem_t mem = s->mem;
    as_mem_free(&mem, s->e, (size_t)s->entries * sizeof *s->e);
    as_mem_free(&mem, s, sizeof *s);
}

const as_predictor_ops_t as_predictor_cached = {
    .name = "cached",
    .doc = "LLAMA's prediction cache keyed on (return address, depth, size) "
           "around an inner predictor (cached:INNER)",
    .params = cached_params,
    .n_params = AS_CACHED_NPARAMS,
    .wraps = 1,
    .create = cached_create,
    .predict = cached_predict,
    .observe = cached_observe,
    .stats = cached_stats,
    .destroy = cached_destroy,
};

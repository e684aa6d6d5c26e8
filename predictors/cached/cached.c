/* cached.c - the `cached` predictor: LLAMA's prediction cache around any
 * predictor.
 *
 * Owns set-associative tables of key -> class (one, or one per thread with
 * per_thread=1, made at a thread's first lookup) from the configuration's
 * as_mem_t, and the hit/verification counters. It
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
                           "predictor and update that key's entry "
                           "(key=pc and key=stack only)"},
    [AS_CACHED_KEY] = {"key", AS_PARAM_ENUM, "pc", 0, 0, "pc|height|stack",
                       "what identifies a context with the size: "
                       "innermost pc and depth; the stack height in bytes "
                       "(LLAMA; the stack id when the trace has no "
                       "height); the trace's stack id"},
    [AS_CACHED_PER_THREAD] = {"per_thread", AS_PARAM_BOOL, "0", 0, 1, NULL,
                              "one table of `capacity` entries per thread "
                              "(LLAMA's thread-local cache) instead of one "
                              "shared table"},
};

/* Threads with a table of their own; higher thread numbers share the
 * table of (thread % MAX_TABLES). */
#define MAX_TABLES 4096

/* One cached answer. valid == 0: empty way. */
typedef struct {
    uint64_t ret;   /* key=pc: return address (pcs[0], or frame/stack id);
                       key=height: the height, or the stack id; key=stack:
                       the stack id */
    uint64_t size;  /* requested bytes, as size_key keeps them */
    uint64_t used;  /* LRU stamp within the set */
    uint32_t depth; /* key=pc: stack depth; else a tag (HEIGHT, STACK) */
    int32_t cls;    /* the inner predictor's answer */
    uint32_t valid;
} cache_entry_t;

/* Invariants: sets * WAYS == entries (per table); hits + misses ==
 * lookups; disagreements <= verified <= hits; n_tables <= tables_cap. */
typedef struct {
    as_mem_t mem;
    const as_predictor_ops_t *inner;
    void *inner_state;
    cache_entry_t **tables; /* tables_cap slots, NULL until first use */
    uint32_t tables_cap, n_tables;
    uint32_t sets, entries;
    uint64_t verify_every;
    int refresh, size_key, key, per_thread;
    uint64_t clock; /* LRU stamps */
    uint64_t lookups, hits, misses, evictions;
    uint64_t verified, disagreements, refreshes, refresh_changes;
} cached_state_t;

enum { SIZE_EXACT, SIZE_POW2, SIZE_NONE };
enum { KEY_PC, KEY_HEIGHT, KEY_STACK };
/* depth tags of key=height and key=stack entries (key=pc keeps the real
 * depth there; the tables of one instance use one key kind) */
#define TAG_HEIGHT 0xffffffffu
#define TAG_STACK 0xfffffffeu

typedef struct {
    uint64_t ret, size;
    uint32_t depth;
} key_t_;

static uint64_t ret_addr(const as_pred_ctx_t *c)
{
    if (c->depth && c->pcs) return c->pcs[0];
    if (c->depth && c->frames) return c->frames[0];
    return c->stack;
}

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

/* The key of a context. key=height falls back to the stack id (tagged
 * apart) when the height is 0, i.e. unknown (v1 traces). */
static key_t_ key_of(const cached_state_t *s, const as_pred_ctx_t *c)
{
    key_t_ k = {.size = size_part(s, c->size)};
    if (s->key == KEY_PC) {
        as_pred_ctx_frames(c);
        k.ret = ret_addr(c);
        k.depth = c->depth;
    } else if (s->key == KEY_HEIGHT && c->stack_height) {
        k.ret = c->stack_height;
        k.depth = TAG_HEIGHT;
    } else {
        k.ret = c->stack;
        k.depth = TAG_STACK;
    }
    return k;
}

/* The table of c's thread, made on first use; NULL when out of memory. */
static cache_entry_t *table_of(cached_state_t *s, const as_pred_ctx_t *c)
{
    uint32_t t = s->per_thread ? c->thread % MAX_TABLES : 0;
    if (t < s->tables_cap && s->tables[t]) return s->tables[t];
    if (t >= s->tables_cap) {
        uint32_t cap = s->tables_cap;
        while (cap <= t)
            cap *= 2;
        cache_entry_t **n = as_mem_alloc(&s->mem, cap * sizeof *n);
        if (!n) return NULL;
        for (uint32_t i = 0; i < s->tables_cap; i++)
            n[i] = s->tables[i];
        as_mem_free(&s->mem, s->tables, s->tables_cap * sizeof *n);
        s->tables = n;
        s->tables_cap = cap;
    }
    s->tables[t] =
        as_mem_alloc(&s->mem, (size_t)s->entries * sizeof(**s->tables));
    if (s->tables[t]) s->n_tables++;
    return s->tables[t];
}

static cache_entry_t *set_of(const cached_state_t *s, cache_entry_t *table,
                             const key_t_ *k)
{
    uint64_t h =
        as_hash64(k->ret ^ as_hash64(k->size ^ ((uint64_t)k->depth << 48)));
    return &table[(h & (s->sets - 1)) * WAYS];
}

static cache_entry_t *find(cache_entry_t *set, const key_t_ *k)
{
    for (int w = 0; w < WAYS; w++)
        if (set[w].valid && set[w].ret == k->ret && set[w].depth == k->depth &&
            set[w].size == k->size)
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
    s->key = (int)cfg->params[AS_CACHED_KEY].u;
    s->per_thread = (int)cfg->params[AS_CACHED_PER_THREAD].u;
    s->tables_cap = 1;
    s->tables = as_mem_alloc(&s->mem, sizeof *s->tables);
    /* the shared table (or thread 0's) up front: a capacity that does not
     * fit fails at create, not at the first allocation */
    as_pred_ctx_t t0 = {0};
    if (!s->tables || !table_of(s, &t0)) {
        as_mem_t mem = s->mem;
        as_mem_free(&mem, s->tables, sizeof *s->tables);
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
    cache_entry_t *table = table_of(s, ctx);
    if (!table) { /* out of memory for this thread's table: uncached */
        s->misses++;
        return s->inner->predict(s->inner_state, ctx);
    }
    key_t_ k = key_of(s, ctx);
    cache_entry_t *set = set_of(s, table, &k);
    cache_entry_t *x = find(set, &k);
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
    cache_entry_t *victim = &set[0];
    for (int w = 0; w < WAYS; w++) {
        if (!set[w].valid) {
            victim = &set[w];
            break;
        }
        if (set[w].used < victim->used) victim = &set[w];
    }
    if (victim->valid) s->evictions++;
    *victim = (cache_entry_t){.ret = k.ret,
                              .size = k.size,
                              .used = s->clock,
                              .depth = k.depth,
                              .cls = cls,
                              .valid = 1};
    return cls;
}

static void cached_observe(void *state, const as_pred_ctx_t *ctx,
                           const as_pred_outcome_t *out)
{
    cached_state_t *s = state;
    if (s->inner->observe) s->inner->observe(s->inner_state, ctx, out);
    /* key=height: the outcome's context carries no height (the engine
     * does not keep it per live object), so its key is unknown here */
    if (!s->refresh || !s->inner->observe || s->key == KEY_HEIGHT) return;
    uint32_t t = s->per_thread ? ctx->thread % MAX_TABLES : 0;
    if (t >= s->tables_cap || !s->tables[t]) return;
    key_t_ k = key_of(s, ctx);
    cache_entry_t *x = find(set_of(s, s->tables[t], &k), &k);
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
    fn(arg, "cached_tables", (double)s->n_tables);
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
    for (uint32_t t = 0; t < s->tables_cap; t++)
        as_mem_free(&mem, s->tables[t],
                    (size_t)s->entries * sizeof(**s->tables));
    as_mem_free(&mem, s->tables, s->tables_cap * sizeof *s->tables);
    as_mem_free(&mem, s, sizeof *s);
}

const as_predictor_ops_t as_predictor_cached = {
    .name = "cached",
    .doc = "LLAMA's prediction cache keyed on (return address, depth, size), "
           "or (stack height, size), per thread or shared, around an inner "
           "predictor (cached:INNER)",
    .params = cached_params,
    .n_params = AS_CACHED_NPARAMS,
    .wraps = 1,
    .create = cached_create,
    .predict = cached_predict,
    .observe = cached_observe,
    .stats = cached_stats,
    .destroy = cached_destroy,
};

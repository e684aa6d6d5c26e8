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

#include "common/u64map.h"
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
                           "(key=height keeps each live object's height "
                           "for it when the inner predictor learns)"},
    [AS_CACHED_KEY] = {"key", AS_PARAM_ENUM, "height", 0, 0, "pc|height|stack",
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

/* One cached answer: 16 bytes, so a set of WAYS is one 64-byte line. The
 * key is kept as its 64-bit hash (two different keys with the same hash
 * would share an entry; at 2^-64 per pair this does not happen in
 * practice, and LLAMA's own table is indexed by a hash too). Within a set
 * the ways are in order of use, most recent first (exact LRU without a
 * stamp); the valid ways are always the first ones. tag == 0: empty. */
typedef struct {
    uint64_t tag; /* hash of the key; never 0 for a valid entry */
    int32_t cls;  /* the inner predictor's answer */
    uint32_t unused;
} cache_entry_t;
_Static_assert(sizeof(cache_entry_t) == 16, "a set of 4 ways is 64 bytes");

/* Invariants: sets * WAYS == entries (per table); hits + misses ==
 * lookups; disagreements <= verified <= hits; n_tables <= tables_cap;
 * heights_peak >= as_u64map_count(&heights).
 * The state is metadata of the run (allocated from the configuration's
 * as_mem_t, counted in its bytes), so it is kept small: the switches are
 * bytes, and the arena is kept once, in the heights map (mem_of). */
typedef struct {
    const as_predictor_ops_t *inner;
    void *inner_state;
    cache_entry_t **tables; /* tables_cap slots, NULL until first use */
    uint32_t tables_cap, n_tables;
    uint32_t sets, entries;
    uint64_t verify_every;
    uint8_t refresh, size_key, key, per_thread;
    uint8_t keep_heights; /* key=height, refresh and an inner that learns */
    uint64_t hits, misses, evictions;
    uint64_t verified, disagreements, refreshes, refresh_changes;
    /* keep_heights: the objects whose outcome must find their entry
     * again, object id + 1 -> stack height (+ 1 keeps key 0, which the map
     * holds outside its table, unused, so the table grows as it did when
     * it was the predictor's own). Always initialised: its copy of the
     * as_mem_t is the one the whole state allocates from. */
    as_u64map_t heights;
    uint64_t heights_peak;
    uint64_t heights_lost; /* outcomes whose height could not be kept */
} cached_state_t;

/* The arena every table of s comes from. */
static as_mem_t *mem_of(cached_state_t *s)
{
    return &s->heights.mem;
}

enum { SIZE_EXACT, SIZE_POW2, SIZE_NONE };
enum { KEY_PC, KEY_HEIGHT, KEY_STACK };
/* depth tags of key=height and key=stack entries (key=pc keeps the real
 * depth there; the tables of one instance use one key kind) */
#define TAG_HEIGHT 0xffffffffu
#define TAG_STACK 0xfffffffeu

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

/* The hash of a context's key (ret, size, depth or tag): it picks the set
 * (low bits) and is the tag stored in the entry. key=height falls back to
 * the stack id (tagged apart) when the height is 0, i.e. unknown (v1
 * traces). */
static uint64_t key_hash(const cached_state_t *s, const as_pred_ctx_t *c)
{
    uint64_t ret, size = size_part(s, c->size);
    uint32_t depth;
    if (s->key == KEY_PC) {
        as_pred_ctx_frames(c);
        ret = ret_addr(c);
        depth = c->depth;
    } else if (s->key == KEY_HEIGHT && c->stack_height) {
        ret = c->stack_height;
        depth = TAG_HEIGHT;
    } else {
        ret = c->stack;
        depth = TAG_STACK;
    }
    return as_hash64(ret ^ as_hash64(size ^ ((uint64_t)depth << 48)));
}

/* The table of thread t (0 when shared), made on first use; NULL when out
 * of memory. */
static cache_entry_t *table_make(cached_state_t *s, uint32_t t)
{
    if (t >= s->tables_cap) {
        uint32_t cap = s->tables_cap;
        while (cap <= t)
            cap *= 2;
        cache_entry_t **n = as_mem_alloc(mem_of(s), cap * sizeof *n);
        if (!n) return NULL;
        for (uint32_t i = 0; i < s->tables_cap; i++)
            n[i] = s->tables[i];
        as_mem_free(mem_of(s), s->tables, s->tables_cap * sizeof *n);
        s->tables = n;
        s->tables_cap = cap;
    }
    s->tables[t] =
        as_mem_alloc(mem_of(s), (size_t)s->entries * sizeof(**s->tables));
    if (s->tables[t]) s->n_tables++;
    return s->tables[t];
}

static uint32_t table_index(const cached_state_t *s, const as_pred_ctx_t *c)
{
    return s->per_thread ? c->thread % MAX_TABLES : 0;
}

static cache_entry_t *set_of(const cached_state_t *s, cache_entry_t *table,
                             uint64_t h)
{
    return &table[(h & (s->sets - 1)) * WAYS];
}

static uint64_t tag_of(uint64_t h)
{
    return h ? h : 1;
}

/* ------------------------------------------------ heights of live objects */

/* Remember obj's height (key=height with refresh: its outcome will need
 * it). Growing the index may fail: the object is then counted lost and
 * its outcome refreshes nothing. */
static void height_put(cached_state_t *s, uint64_t obj, uint64_t height)
{
    if (obj == UINT64_MAX) return;
    if (as_u64map_put(&s->heights, obj + 1, height) != AS_OK) {
        s->heights_lost++;
        return;
    }
    uint64_t n = as_u64map_count(&s->heights);
    if (n > s->heights_peak) s->heights_peak = n;
}

/* Take obj's height out of the index. @return it, or 0 (unknown). */
static uint64_t height_take(cached_state_t *s, uint64_t obj)
{
    uint64_t height;
    if (obj == UINT64_MAX || !as_u64map_remove(&s->heights, obj + 1, &height))
        return 0;
    return height;
}

static int cached_create(const as_predictor_config_t *cfg, void **state)
{
    if (!cfg->inner_ops || !cfg->inner_state) return AS_EINVAL;
    cached_state_t *s = as_mem_alloc(cfg->mem, sizeof *s);
    if (!s) return AS_ENOMEM;
    as_u64map_init(&s->heights, cfg->mem);
    s->inner = cfg->inner_ops;
    s->inner_state = cfg->inner_state;
    uint64_t want = cfg->params[AS_CACHED_CAPACITY].u;
    s->sets = 1;
    while ((uint64_t)s->sets * WAYS < want)
        s->sets <<= 1;
    s->entries = s->sets * WAYS;
    s->verify_every = cfg->params[AS_CACHED_VERIFY_EVERY].u;
    s->refresh = (uint8_t)cfg->params[AS_CACHED_REFRESH].u;
    s->size_key = (uint8_t)cfg->params[AS_CACHED_SIZE_KEY].u;
    s->key = (uint8_t)cfg->params[AS_CACHED_KEY].u;
    s->per_thread = (uint8_t)cfg->params[AS_CACHED_PER_THREAD].u;
    s->keep_heights =
        s->key == KEY_HEIGHT && s->refresh && s->inner->observe != NULL;
    s->tables_cap = 1;
    s->tables = as_mem_alloc(mem_of(s), sizeof *s->tables);
    /* the heights index starts at 64 slots (room for 32 objects), made
     * here as the shared table is */
    int heights_rc = s->keep_heights ? as_u64map_reserve(&s->heights, 32) : 0;
    /* the shared table (or thread 0's) up front: a capacity that does not
     * fit fails at create, not at the first allocation */
    if (!s->tables || heights_rc != AS_OK || !table_make(s, 0)) {
        as_mem_t mem = *mem_of(s);
        as_u64map_fini(&s->heights);
        as_mem_free(&mem, s->tables, sizeof *s->tables);
        as_mem_free(&mem, s, sizeof *s);
        return AS_ENOMEM;
    }
    *state = s;
    return AS_OK;
}

/* A miss (or no table): ask the inner predictor and, with a table, put
 * its answer first in the set, the least recently used way making room. */
static int32_t miss(cached_state_t *s, cache_entry_t *set, uint64_t h,
                    const as_pred_ctx_t *ctx)
{
    s->misses++;
    int32_t cls = s->inner->predict(s->inner_state, ctx);
    if (!set) return cls;
    if (set[WAYS - 1].tag) s->evictions++;
    for (int w = WAYS - 1; w > 0; w--)
        set[w] = set[w - 1];
    set[0] = (cache_entry_t){.tag = tag_of(h), .cls = cls};
    return cls;
}

int32_t as_cached_predict(void *state, const as_pred_ctx_t *ctx)
{
    cached_state_t *s = state;
    if (s->keep_heights && ctx->stack_height)
        height_put(s, ctx->object, ctx->stack_height);
    uint32_t t = table_index(s, ctx);
    cache_entry_t *table = t < s->tables_cap ? s->tables[t] : NULL;
    if (!table && !(table = table_make(s, t))) /* no memory: uncached */
        return miss(s, NULL, 0, ctx);
    uint64_t h = key_hash(s, ctx), tag = tag_of(h);
    cache_entry_t *set = set_of(s, table, h);
    int w = 0;
    while (w < WAYS && set[w].tag != tag)
        w++;
    if (w == WAYS) return miss(s, set, h, ctx);
    cache_entry_t x = set[w]; /* a hit: move it to the front */
    for (; w > 0; w--)
        set[w] = set[w - 1];
    set[0] = x;
    s->hits++;
    if (s->verify_every && s->hits % s->verify_every == 0) {
        s->verified++;
        if (s->inner->predict(s->inner_state, ctx) != x.cls) s->disagreements++;
    }
    return x.cls;
}

static void cached_observe(void *state, const as_pred_ctx_t *ctx,
                           const as_pred_outcome_t *out)
{
    cached_state_t *s = state;
    if (s->inner->observe) s->inner->observe(s->inner_state, ctx, out);
    if (!s->refresh || !s->inner->observe) return;
    /* key=height: the outcome's context carries no height (the engine
     * does not keep it per live object); the one recorded at the
     * allocation stands in */
    as_pred_ctx_t c = *ctx;
    if (s->keep_heights) c.stack_height = height_take(s, ctx->object);
    uint32_t t = table_index(s, &c);
    if (t >= s->tables_cap || !s->tables[t]) return;
    uint64_t h = key_hash(s, &c), tag = tag_of(h);
    cache_entry_t *set = set_of(s, s->tables[t], h);
    for (int w = 0; w < WAYS; w++) {
        if (set[w].tag != tag) continue;
        int32_t cls = s->inner->predict(s->inner_state, &c);
        s->refreshes++;
        if (cls != set[w].cls) s->refresh_changes++;
        set[w].cls = cls;
        return;
    }
}

static void cached_stats(void *state, as_pred_stat_fn fn, void *arg)
{
    const cached_state_t *s = state;
    uint64_t lookups = s->hits + s->misses;
    fn(arg, "cached_entries", (double)s->entries);
    fn(arg, "cached_tables", (double)s->n_tables);
    fn(arg, "cached_lookups", (double)lookups);
    fn(arg, "cached_hits", (double)s->hits);
    fn(arg, "cached_misses", (double)s->misses);
    fn(arg, "cached_evictions", (double)s->evictions);
    fn(arg, "cached_hit_rate",
       lookups ? (double)s->hits / (double)lookups : 0.0);
    fn(arg, "cached_verified", (double)s->verified);
    fn(arg, "cached_disagreements", (double)s->disagreements);
    fn(arg, "cached_disagreement_rate",
       s->verified ? (double)s->disagreements / (double)s->verified : 0.0);
    fn(arg, "cached_refreshes", (double)s->refreshes);
    fn(arg, "cached_refresh_changes", (double)s->refresh_changes);
    if (s->keep_heights) {
        fn(arg, "cached_heights_peak", (double)s->heights_peak);
        fn(arg, "cached_heights_lost", (double)s->heights_lost);
    }
    if (s->inner->stats) s->inner->stats(s->inner_state, fn, arg);
}

static void cached_destroy(void *state)
{
    cached_state_t *s = state;
    as_mem_t mem = *mem_of(s);
    for (uint32_t t = 0; t < s->tables_cap; t++)
        as_mem_free(&mem, s->tables[t],
                    (size_t)s->entries * sizeof(**s->tables));
    as_mem_free(&mem, s->tables, s->tables_cap * sizeof *s->tables);
    as_u64map_fini(&s->heights);
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
    .predict = as_cached_predict,
    .observe = cached_observe,
    .stats = cached_stats,
    .destroy = cached_destroy,
};

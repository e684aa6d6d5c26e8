/* stats.c - the statistics layer: counts calls, bytes requested versus
 * usable, and histograms by request size and by size class, for any policy.
 *
 * It owns only its counters and two indexes: the live blocks (address ->
 * requested size and class, so a free without a size still knows what it
 * frees) and the classes seen (usable size -> counts, also in an ordered
 * tree for reporting). It never changes what the inner policy answers, never
 * touches the blocks, and takes its metadata from an as_mem_t, never from
 * libc (it is a policy layer and obeys policy.h's rules).
 */
#include "policies/layers/stats.h"

#include "common/u64map.h"
#include "policies/blocks/objpool.h"
#include "policies/blocks/rbtree.h"

typedef struct {
    as_rb_node_t node; /* in classes_by_size */
    uint64_t usable;   /* the class: a distinct usable size */
    uint64_t allocs, live, peak_live;
} sclass_t;

typedef struct {
    uint64_t requested; /* bytes asked for */
    sclass_t *cls;      /* usable size and its counts */
} live_t;

struct as_stats {
    const as_policy_ops_t *inner;
    void *inner_state;
    as_mem_t mem;
    as_pool_t live_pool;  /* live_t */
    as_pool_t class_pool; /* sclass_t */
    as_u64map_t live;     /* block address -> live_t * */
    as_u64map_t classes;  /* usable bytes -> sclass_t * */
    as_rb_tree_t classes_by_size;
    as_stats_counters_t c;
};
typedef struct as_stats as_stats_t;

/* Static names, one row per bucket: "<= 2^(k+4) bytes". */
#define AS_B(n)                                                                \
    {                                                                          \
        "stats_hist_le_" #n "_allocs", "stats_hist_le_" #n "_requested_bytes", \
            "stats_hist_le_" #n "_usable_bytes"                                \
    }
static const char *const bucket_names[AS_STATS_BUCKETS][3] = {
    AS_B(16),   AS_B(32),   AS_B(64),   AS_B(128),  AS_B(256),  AS_B(512),
    AS_B(1K),   AS_B(2K),   AS_B(4K),   AS_B(8K),   AS_B(16K),  AS_B(32K),
    AS_B(64K),  AS_B(128K), AS_B(256K), AS_B(512K), AS_B(1M),   AS_B(2M),
    AS_B(4M),   AS_B(8M),   AS_B(16M),  AS_B(32M),  AS_B(64M),  AS_B(128M),
    AS_B(256M), AS_B(512M), AS_B(1G),   AS_B(2G),   AS_B(4G),   AS_B(8G),
    AS_B(16G),  AS_B(32G),  AS_B(64G),  AS_B(128G), AS_B(256G), AS_B(512G),
    AS_B(1T)};
#undef AS_B

static int class_cmp(const as_rb_node_t *a, const as_rb_node_t *b)
{
    uint64_t x = AS_RB_ENTRY(a, sclass_t, node)->usable;
    uint64_t y = AS_RB_ENTRY(b, sclass_t, node)->usable;
    return x < y ? -1 : x > y;
}

static sclass_t *class_of(as_stats_t *s, uint64_t usable)
{
    uint64_t v;
    if (as_u64map_get(&s->classes, usable, &v)) return (sclass_t *)(uintptr_t)v;
    if (as_u64map_reserve(&s->classes, 1) != AS_OK) return 0;
    sclass_t *k = as_pool_alloc(&s->class_pool);
    if (!k) return 0;
    k->usable = usable;
    k->allocs = k->live = k->peak_live = 0;
    as_u64map_put(&s->classes, usable, (uint64_t)(uintptr_t)k);
    as_rb_insert(&s->classes_by_size, &k->node, class_cmp);
    return k;
}

static void peak(uint64_t *p, uint64_t v)
{
    if (v > *p) *p = v;
}

/* Record a block handed out. Counting failures (arena full) lose the block's
 * entry but never the inner policy's answer. */
static void note_alloc(as_stats_t *s, uint64_t requested, const as_block_t *b)
{
    as_stats_counters_t *c = &s->c;
    unsigned k = as_stats_bucket(requested);
    c->hist_allocs[k]++;
    c->hist_requested_bytes[k] += requested;
    c->hist_usable_bytes[k] += b->bytes;
    c->requested_bytes += requested;
    c->usable_bytes += b->bytes;
    sclass_t *cls = class_of(s, b->bytes);
    if (!cls || as_u64map_reserve(&s->live, 1) != AS_OK) return;
    live_t *l = as_pool_alloc(&s->live_pool);
    if (!l) return;
    l->requested = requested;
    l->cls = cls;
    as_u64map_put(&s->live, b->addr, (uint64_t)(uintptr_t)l);
    cls->allocs++;
    cls->live++;
    peak(&cls->peak_live, cls->live);
    c->live_blocks++;
    c->live_requested_bytes += requested;
    c->live_usable_bytes += b->bytes;
    peak(&c->peak_live_blocks, c->live_blocks);
    peak(&c->peak_live_requested_bytes, c->live_requested_bytes);
    peak(&c->peak_live_usable_bytes, c->live_usable_bytes);
}

static void note_free(as_stats_t *s, uintptr_t addr)
{
    uint64_t v;
    if (!as_u64map_remove(&s->live, addr, &v)) return;
    live_t *l = (live_t *)(uintptr_t)v;
    s->c.live_blocks--;
    s->c.live_requested_bytes -= l->requested;
    s->c.live_usable_bytes -= l->cls->usable;
    l->cls->live--;
    as_pool_free(&s->live_pool, l);
}

/* ------------------------------------------------------------ the ops */

static int s_create(const as_policy_config_t *cfg, void **state)
{
    (void)cfg;
    (void)state;
    return AS_EUNSUPPORTED;
}

static int s_alloc(void *st, const as_ctx_t *ctx, size_t size, size_t align,
                   as_block_t *out)
{
    as_stats_t *s = st;
    int rc = s->inner->alloc(s->inner_state, ctx, size, align, out);
    s->c.allocs++;
    if (rc != AS_OK)
        s->c.failed++;
    else
        note_alloc(s, size, out);
    return rc;
}

/* Counted as the singles it stands for (policy.h rule 9): one alloc per
 * block placed, plus the failed one if the batch stopped short. */
static int s_alloc_batch(void *st, const as_ctx_t *ctx, size_t size,
                         size_t align, unsigned n, as_block_t *out,
                         unsigned *got)
{
    as_stats_t *s = st;
    int rc = as_policy_alloc_batch(s->inner, s->inner_state, ctx, size, align,
                                   n, out, got);
    s->c.allocs += *got;
    for (unsigned i = 0; i < *got; i++)
        note_alloc(s, size, &out[i]);
    if (rc != AS_OK) {
        s->c.allocs++;
        s->c.failed++;
    }
    return rc;
}

static int s_free(void *st, const as_ctx_t *ctx, uintptr_t addr,
                  size_t size_hint)
{
    as_stats_t *s = st;
    int rc = s->inner->free(s->inner_state, ctx, addr, size_hint);
    s->c.frees++;
    if (size_hint == 0) s->c.frees_without_size++;
    if (rc != AS_OK)
        s->c.failed++;
    else
        note_free(s, addr);
    return rc;
}

/* Counted as the singles it stands for (policy.h rule 9): one free without
 * a size per block freed, plus the failed one if the batch stopped short. */
static int s_free_batch(void *st, const as_ctx_t *ctx, const uintptr_t *addrs,
                        unsigned n, unsigned *done)
{
    as_stats_t *s = st;
    int rc =
        as_policy_free_batch(s->inner, s->inner_state, ctx, addrs, n, done);
    unsigned calls = *done + (rc != AS_OK);
    s->c.frees += calls;
    s->c.frees_without_size += calls;
    for (unsigned i = 0; i < *done; i++)
        note_free(s, addrs[i]);
    if (rc != AS_OK) s->c.failed++;
    return rc;
}

static int s_realloc(void *st, const as_ctx_t *ctx, uintptr_t addr,
                     size_t old_size, size_t new_size, size_t align,
                     as_block_t *out)
{
    as_stats_t *s = st;
    int rc = s->inner->realloc(s->inner_state, ctx, addr, old_size, new_size,
                               align, out);
    s->c.reallocs++;
    if (rc != AS_OK) {
        s->c.failed++;
        return rc;
    }
    note_free(s, addr);
    note_alloc(s, new_size, out);
    return rc;
}

static size_t s_usable_size(void *st, uintptr_t addr)
{
    as_stats_t *s = st;
    return s->inner->usable_size(s->inner_state, addr);
}

static uint64_t s_tick(void *st, const as_ctx_t *ctx)
{
    as_stats_t *s = st;
    return s->inner->tick(s->inner_state, ctx);
}

static void s_stats(void *st, as_stat_fn fn, void *arg)
{
    as_stats_t *s = st;
    const as_stats_counters_t *c = &s->c;
    if (s->inner->stats) s->inner->stats(s->inner_state, fn, arg);
    fn(arg, "stats_allocs", (double)c->allocs);
    fn(arg, "stats_frees", (double)c->frees);
    fn(arg, "stats_reallocs", (double)c->reallocs);
    fn(arg, "stats_failed", (double)c->failed);
    fn(arg, "stats_frees_without_size", (double)c->frees_without_size);
    fn(arg, "stats_requested_bytes", (double)c->requested_bytes);
    fn(arg, "stats_usable_bytes", (double)c->usable_bytes);
    fn(arg, "stats_rounding_overhead",
       c->requested_bytes
           ? (double)c->usable_bytes / (double)c->requested_bytes - 1
           : 0);
    fn(arg, "stats_live_blocks", (double)c->live_blocks);
    fn(arg, "stats_live_requested_bytes", (double)c->live_requested_bytes);
    fn(arg, "stats_live_usable_bytes", (double)c->live_usable_bytes);
    fn(arg, "stats_live_blocks_peak", (double)c->peak_live_blocks);
    fn(arg, "stats_live_requested_bytes_peak",
       (double)c->peak_live_requested_bytes);
    fn(arg, "stats_live_usable_bytes_peak", (double)c->peak_live_usable_bytes);
    fn(arg, "stats_size_classes", (double)s->classes_by_size.count);
    for (unsigned k = 0; k < AS_STATS_BUCKETS; k++) {
        if (!c->hist_allocs[k]) continue;
        fn(arg, bucket_names[k][0], (double)c->hist_allocs[k]);
        fn(arg, bucket_names[k][1], (double)c->hist_requested_bytes[k]);
        fn(arg, bucket_names[k][2], (double)c->hist_usable_bytes[k]);
    }
}

/* The inner policy's check hook, on the inner state (the layer keeps no
 * whole-heap state of its own to verify beyond its maps). */
static int s_check(const void *st, as_msg_t *why)
{
    const as_stats_t *s = st;
    return s->inner->check(s->inner_state, why);
}

static void s_destroy(void *st)
{
    as_stats_t *s = st;
    if (!s) return;
    s->inner->destroy(s->inner_state);
    as_u64map_fini(&s->live);
    as_u64map_fini(&s->classes);
    as_pool_fini(&s->live_pool);
    as_pool_fini(&s->class_pool);
    as_mem_t mem = s->mem;
    as_mem_free(&mem, s, sizeof *s);
}

int as_stats_wrap_instance(const as_policy_ops_t *inner_ops, void *inner_state,
                           const as_mem_t *stats_mem, as_policy_ops_t *out_ops,
                           void **out_state)
{
    if (!inner_ops || !stats_mem || !out_ops || !out_state) return AS_EINVAL;
    as_stats_t *s = as_mem_alloc(stats_mem, sizeof *s);
    if (!s) return AS_ENOMEM;
    s->inner = inner_ops;
    s->inner_state = inner_state;
    s->mem = *stats_mem;
    as_pool_init(&s->live_pool, stats_mem, sizeof(live_t));
    as_pool_init(&s->class_pool, stats_mem, sizeof(sclass_t));
    as_u64map_init(&s->live, stats_mem);
    as_u64map_init(&s->classes, stats_mem);
    as_rb_init(&s->classes_by_size);
    as_stats_counters_t zero = {0};
    s->c = zero;
    as_policy_ops_t ops =
        as_policy_layer_ops(inner_ops, (as_policy_ops_t){
                                           .create = s_create,
                                           .alloc = s_alloc,
                                           .alloc_batch = s_alloc_batch,
                                           .free = s_free,
                                           .free_batch = s_free_batch,
                                           .realloc = s_realloc,
                                           .usable_size = s_usable_size,
                                           .tick = s_tick,
                                           .destroy = s_destroy,
                                           .check = s_check,
                                       });
    ops.stats = s_stats; /* the layer always has figures of its own */
    *out_ops = ops;
    *out_state = s;
    return AS_OK;
}

int as_stats_wrap(const as_policy_ops_t *inner, const as_policy_config_t *cfg,
                  const as_mem_t *stats_mem, as_policy_ops_t *out_ops,
                  void **out_state)
{
    if (!inner || !cfg || !cfg->ps || !out_ops || !out_state) return AS_EINVAL;
    void *inner_state;
    int rc = inner->create(cfg, &inner_state);
    if (rc != AS_OK) return rc;
    rc = as_stats_wrap_instance(inner, inner_state,
                                stats_mem ? stats_mem : &cfg->ps->meta, out_ops,
                                out_state);
    if (rc != AS_OK) inner->destroy(inner_state);
    return rc;
}

void as_stats_counters(const void *state, as_stats_counters_t *out)
{
    *out = ((const as_stats_t *)state)->c;
}

uint64_t as_stats_classes(const void *state, as_stats_class_fn fn, void *arg)
{
    const as_stats_t *s = state;
    uint64_t n = 0;
    for (as_rb_node_t *x = as_rb_first(&s->classes_by_size); x;
         x = as_rb_next(x), n++) {
        const sclass_t *k = AS_RB_ENTRY(x, sclass_t, node);
        fn(arg, k->usable, k->allocs, k->live, k->peak_live);
    }
    return n;
}

void *as_stats_inner_state(const void *state)
{
    return ((const as_stats_t *)state)->inner_state;
}

/* tcache.c - the simulator's thread-cache layer (see tcache.h).
 *
 * Owns, in metadata from an as_mem_t: one record per trace thread (the
 * rules' counts in an as_tcache_thread_t and a LIFO list per class, an
 * array of addresses grown as the preload build grows its own), the
 * transfer cache's arrays of chains and the block map (address -> class |
 * AS_TCACHE_CACHED). Every decision, and the order of the blocks on every
 * list and chain, is tcache_core's; this file moves addresses between
 * arrays as the preload build (malloc/tcache.c) moves blocks, so that a
 * replay makes the policy calls a real run makes. It never touches a
 * block's memory, takes no lock (the engine calls one hook at a time) and
 * never calls libc (a policy layer: policy.h's rules).
 */
#include "policies/layers/tcache.h"

#include "common/error.h"
#include "common/u64map.h"

typedef struct tthread {
    as_tcache_thread_t core;                        /* the rules' view */
    as_tcache_stack_t stack[AS_TCACHE_CLASSES + 1]; /* free blocks of c */
    uint32_t id;                                    /* ctx->thread */
    struct tthread *next; /* the layer's list, in creation order */
} tthread_t;

typedef struct {
    const as_policy_ops_t *inner;
    void *inner_state;
    as_mem_t mem;
    as_u64map_t threads;      /* thread -> tthread_t * */
    tthread_t *first, **last; /* every record */
    as_u64map_t map;          /* block -> class [| CACHED] */
    as_tcache_xfer_t xfer;    /* the rules' view of chains */
    as_tcache_stack_t xstack[AS_TCACHE_CLASSES + 1]; /* chains of class c */
} layer_t;

/* --- records and the map ------------------------------------------------ */

/* The cache of ctx->thread, made on first use. @return NULL when the
 * metadata arena refuses (the caller then bypasses the cache). */
static tthread_t *thread_of(layer_t *s, uint32_t id)
{
    uint64_t v;
    if (as_u64map_get(&s->threads, id, &v)) return (tthread_t *)(uintptr_t)v;
    if (as_u64map_reserve(&s->threads, 1) != AS_OK) return NULL;
    tthread_t *t = as_mem_alloc(&s->mem, sizeof *t);
    if (!t) return NULL;
    as_tcache_thread_init(&t->core);
    if (as_tcache_stacks_init(&t->core, t->stack, &s->mem) != AS_OK) {
        as_mem_free(&s->mem, t, sizeof *t);
        return NULL;
    }
    t->id = id;
    as_u64map_put(&s->threads, id, (uint64_t)(uintptr_t)t);
    *s->last = t;
    s->last = &t->next;
    return t;
}

static unsigned entry(const layer_t *s, uintptr_t addr)
{
    uint64_t v;
    return as_u64map_get(&s->map, addr, &v) ? (unsigned)v : 0;
}

/* @return 0, or AS_ENOMEM when the map cannot take the entry. */
static int set_entry(layer_t *s, uintptr_t addr, unsigned v)
{
    if (as_u64map_reserve(&s->map, 1) != AS_OK) return AS_ENOMEM;
    return as_u64map_put(&s->map, addr, v);
}

/* A block goes onto t's list c. @return 0, or AS_ENOMEM (no room on the
 * stack or no map entry: the block is not cached and the caller gives it
 * back). */
static int push(layer_t *s, tthread_t *t, uintptr_t addr, unsigned c)
{
    if (t->core.count[c] >= t->stack[c].cap ||
        set_entry(s, addr, c | AS_TCACHE_CACHED) != AS_OK)
        return AS_ENOMEM;
    t->stack[c].slot[t->core.count[c]] = addr;
    as_tcache_pushed(&t->core, c);
    return AS_OK;
}

/* One block leaves the layer for the inner policy (its entry first). */
static int give(layer_t *s, const as_ctx_t *ctx, uintptr_t addr)
{
    as_u64map_remove(&s->map, addr, NULL);
    return s->inner->free(s->inner_state, ctx, addr, 0);
}

/* Give n blocks of t's list c back to the policy, from the head, in
 * batches of AS_TCACHE_FLUSH_MAX (as the preload build does: one free_batch
 * call each). */
static int flush(layer_t *s, tthread_t *t, unsigned c, unsigned n,
                 const as_ctx_t *ctx)
{
    int first = AS_OK;
    while (n > 0) {
        uintptr_t a[AS_TCACHE_FLUSH_MAX];
        unsigned k = n < AS_TCACHE_FLUSH_MAX ? n : AS_TCACHE_FLUSH_MAX;
        as_tcache_take_run(&t->stack[c], t->core.count[c], k, a);
        for (unsigned i = 0; i < k; i++)
            as_u64map_remove(&s->map, a[i], NULL);
        as_tcache_removed(&t->core, c, k);
        n -= k;
        int rc = as_policy_free_all(s->inner, s->inner_state, ctx, a, k);
        if (rc != AS_OK && first == AS_OK) first = rc;
    }
    return first;
}

/* Every list gives back half its blocks (the thread's byte limit). */
static void halve(layer_t *s, tthread_t *t, const as_ctx_t *ctx)
{
    uint32_t n[AS_TCACHE_CLASSES + 1];
    as_tcache_trim_all(&t->core, 1, 2, n);
    for (unsigned c = 1; c <= AS_TCACHE_CLASSES; c++)
        if (n[c]) flush(s, t, c, n[c], ctx);
}

/* Move batch(c) blocks of t's list c, as one chain, to the transfer cache
 * when the rules say so and its stack has room. @return 1 when moved. */
static int xfer_put(layer_t *s, tthread_t *t, unsigned c)
{
    unsigned k = as_tcache_batch(c);
    uint32_t n = t->core.count[c], xn = s->xfer.chains[c] * k;
    as_tcache_stack_t *x = &s->xstack[c];
    if (as_tcache_stack_grow(x, xn, xn + k, as_tcache_xfer_limit(c), &s->mem) !=
            AS_OK ||
        !as_tcache_xfer_put(&s->xfer, &t->core, c))
        return 0;
    as_tcache_chain_put(x, xn, &t->stack[c], n, k);
    return 1;
}

/* The refill's one call to the policy: up to `want` blocks of `bytes`
 * (default alignment) into out[], through the policy's batch op where it
 * has one (policy.h rule 9: the same blocks as `want` singles, which the
 * fallback makes), stopping at the first refusal. @return how many (0: *rc
 * says why). */
static unsigned refill_from_policy(layer_t *s, const as_ctx_t *ctx,
                                   size_t bytes, unsigned want, as_block_t *out,
                                   int *rc)
{
    unsigned got = 0;
    *rc = as_policy_alloc_batch(s->inner, s->inner_state, ctx, bytes, 0, want,
                                out, &got);
    return got;
}

/* --- the hooks ----------------------------------------------------------- */

static int l_create(const as_policy_config_t *cfg, void **state)
{
    (void)cfg;
    (void)state;
    return AS_EUNSUPPORTED; /* made by as_tcache_layer_wrap_instance only */
}

static int l_alloc(void *st, const as_ctx_t *ctx, size_t size, size_t align,
                   as_block_t *out)
{
    layer_t *s = st;
    unsigned c = as_tcache_class(size, align);
    tthread_t *t = c ? thread_of(s, ctx->thread) : NULL;
    if (!t) return s->inner->alloc(s->inner_state, ctx, size, align, out);
    size_t bytes = as_tcache_class_bytes(c);
    uint32_t n = t->core.count[c];
    if (n) { /* a hit */
        uintptr_t a = t->stack[c].slot[n - 1];
        as_tcache_popped(&t->core, c);
        *out = (as_block_t){a, bytes};
        set_entry(s, a, c); /* the entry exists: no allocation */
        return AS_OK;
    }
    if (as_tcache_xfer_take(&s->xfer, &t->core, c)) {
        /* a whole batch another thread gave back: the first block to the
         * caller, the others onto the list in chain order */
        unsigned k = as_tcache_batch(c);
        uintptr_t a = as_tcache_chain_take(
            &s->xstack[c], (s->xfer.chains[c] + 1) * k, &t->stack[c], 0, k);
        as_tcache_refilled(&t->core, c);
        as_tcache_pushed_n(&t->core, c, k - 1);
        as_tcache_stack_fit(&t->core, t->stack, c, &s->mem);
        *out = (as_block_t){a, bytes};
        set_entry(s, a, c);
        return AS_OK;
    }
    as_block_t a[AS_TCACHE_BATCH_MAX];
    int rc;
    unsigned got =
        refill_from_policy(s, ctx, bytes, as_tcache_batch(c), a, &rc);
    if (got == 0) return rc;
    as_tcache_refilled(&t->core, c);
    as_tcache_stack_fit(&t->core, t->stack, c, &s->mem);
    if (set_entry(s, a[0].addr, c) != AS_OK)
        as_u64map_remove(&s->map, a[0].addr, NULL); /* served uncached */
    for (unsigned i = 1; i < got; i++)
        if (push(s, t, a[i].addr, c) != AS_OK)
            s->inner->free(s->inner_state, ctx, a[i].addr,
                           0); /* cannot cache */
    *out = (as_block_t){a[0].addr, bytes};
    return AS_OK;
}

static int l_free(void *st, const as_ctx_t *ctx, uintptr_t addr,
                  size_t size_hint)
{
    layer_t *s = st;
    unsigned v = entry(s, addr);
    if (v == 0) return s->inner->free(s->inner_state, ctx, addr, size_hint);
    if (v & AS_TCACHE_CACHED) return AS_EINVAL; /* a double free */
    tthread_t *t = thread_of(s, ctx->thread);
    if (!t) return give(s, ctx, addr);
    int rc = AS_OK;
    as_tcache_free_plan_t plan = as_tcache_free_plan(&t->core, v);
    if (plan.give_back && !xfer_put(s, t, v))
        rc = flush(s, t, v, plan.give_back, ctx);
    if (plan.halve) halve(s, t, ctx);
    as_tcache_stack_fit(&t->core, t->stack, v, &s->mem);
    if (push(s, t, addr, v) != AS_OK) {
        int grc = give(s, ctx, addr);
        if (rc == AS_OK) rc = grc;
    }
    return rc;
}

static size_t l_usable_size(void *st, uintptr_t addr)
{
    layer_t *s = st;
    unsigned v = entry(s, addr);
    if (v & AS_TCACHE_CACHED) return 0; /* free */
    if (v) return as_tcache_class_bytes(v);
    return s->inner->usable_size ? s->inner->usable_size(s->inner_state, addr)
                                 : 0;
}

static uint64_t l_tick(void *st, const as_ctx_t *ctx)
{
    layer_t *s = st;
    return s->inner->tick(s->inner_state, ctx);
}

static void l_stats(void *st, as_stat_fn fn, void *arg)
{
    layer_t *s = st;
    if (s->inner->stats) s->inner->stats(s->inner_state, fn, arg);
    as_tcache_counters_t c;
    as_tcache_layer_counters(s, &c);
    as_tcache_report(&c, fn, arg);
}

static unsigned entry_at(const void *s, uintptr_t addr)
{
    return entry(s, addr);
}

static int l_check(const void *st, as_msg_t *why)
{
    const layer_t *s = st;
    int rc = AS_OK;
    for (const tthread_t *t = s->first; t && rc == AS_OK; t = t->next)
        rc = as_tcache_check_thread(&t->core, t->stack, entry_at, s, why);
    if (rc == AS_OK)
        rc = as_tcache_check_xfer(&s->xfer, s->xstack, entry_at, s, why);
    if (rc == AS_OK && s->inner->check)
        rc = s->inner->check(s->inner_state, why);
    return rc;
}

static void l_destroy(void *st)
{
    layer_t *s = st;
    if (!s) return;
    s->inner->destroy(s->inner_state);
    for (tthread_t *t = s->first, *n; t; t = n) {
        n = t->next;
        as_tcache_stacks_free(t->stack, &s->mem);
        as_mem_free(&s->mem, t, sizeof *t);
    }
    as_tcache_stacks_free(s->xstack, &s->mem);
    as_u64map_fini(&s->threads);
    as_u64map_fini(&s->map);
    as_mem_t mem = s->mem;
    as_mem_free(&mem, s, sizeof *s);
}

int as_tcache_layer_wrap_instance(const as_policy_ops_t *inner_ops,
                                  void *inner_state, const as_mem_t *mem,
                                  as_policy_ops_t *out_ops, void **out_state)
{
    if (!inner_ops || !mem || !out_ops || !out_state) return AS_EINVAL;
    layer_t *s = as_mem_alloc(mem, sizeof *s);
    if (!s) return AS_ENOMEM;
    s->inner = inner_ops;
    s->inner_state = inner_state;
    s->mem = *mem;
    as_u64map_init(&s->threads, mem);
    as_u64map_init(&s->map, mem);
    s->last = &s->first;
    as_policy_ops_t ops = as_policy_layer_ops(
        inner_ops, (as_policy_ops_t){.create = l_create,
                                     .alloc = l_alloc,
                                     .free = l_free,
                                     .realloc = NULL,
                                     .usable_size = l_usable_size,
                                     .tick = l_tick,
                                     .destroy = l_destroy});
    ops.stats = l_stats; /* the layer always has counters */
    ops.check = l_check; /* and invariants */
    ops.usable_size = l_usable_size;
    *out_ops = ops;
    *out_state = s;
    return AS_OK;
}

void as_tcache_layer_counters(const void *state, as_tcache_counters_t *out)
{
    const layer_t *s = state;
    *out = (as_tcache_counters_t){0};
    for (const tthread_t *t = s->first; t; t = t->next)
        as_tcache_counters_add(out, &t->core);
    out->xfer_bytes = s->xfer.bytes;
}

const as_tcache_thread_t *as_tcache_layer_thread(const void *state,
                                                 uint32_t thread)
{
    const layer_t *s = state;
    uint64_t v;
    return as_u64map_get(&s->threads, thread, &v)
               ? &((const tthread_t *)(uintptr_t)v)->core
               : NULL;
}

unsigned as_tcache_layer_entry(const void *state, uintptr_t addr)
{
    return entry(state, addr);
}

/* tcache.c - the thread-cache layer (see tcache.h).
 *
 * Owns the per-thread caches, their records (carved from mmap'd chunks and
 * reused after a thread exits), the arrays of their lists and of the
 * transfer cache (from the layer's arena) and the block map. The common
 * paths,
 * as_tcache_alloc_fast and as_tcache_free, touch only the calling
 * thread's cache and one map byte, never the block's memory: no lock, no
 * atomic read-modify-write.
 * Everything that reaches the policy goes through the lock layer's batch
 * calls. Every decision is the rules module's (policies/layers/
 * tcache_core.h): this file moves blocks where it says. The map's entries
 * are relaxed atomics: a block changes hands between threads only through
 * the program's own synchronisation, which orders them.
 *
 * Must never call libc's allocator or stdio (it runs inside malloc).
 */
#include "malloc/tcache.h"

#include <string.h>
#include <sys/mman.h>

#include "common/error.h"

#define MID_SLOTS ((size_t)1 << 14)     /* 16 GiB of address each */
#define LEAF_SLOTS ((size_t)1 << 16)    /* 1 MiB of address each */
#define ADDRESS_BITS 48                 /* user addresses below 2^48 */
#define RECORDS_BYTES ((size_t)1 << 16) /* records mapped at a time */

enum { T_NONE, T_CREATING, T_DEAD };

static __thread as_tcache_local_t *t_local;
static __thread int t_state;

typedef _Atomic(void *) slot_t;
typedef _Atomic unsigned char entry_t;

/* --- the block map ----------------------------------------------------- */

/* The node in *s, mapped and installed if absent and `create`. */
static __attribute__((noinline)) void *node(slot_t *s, size_t bytes, int create)
{
    void *n = atomic_load_explicit(s, memory_order_acquire);
    if (n || !create) return n;
    void *m = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (m == MAP_FAILED) return NULL;
    void *expect = NULL;
    if (atomic_compare_exchange_strong_explicit(
            s, &expect, m, memory_order_acq_rel, memory_order_acquire))
        return m;
    munmap(m, bytes); /* another thread installed one first */
    return expect;
}

/* @return the map entry of address a: in the flat part when a is in its
 * span (one load of the struct's fields, which stay in the first cache
 * line, then the entry), else in the general map, or NULL when there is
 * none there (and create is 0, or the node could not be mapped, or a is
 * out of range). Inlined: it is most of the common paths' work. */
static inline __attribute__((always_inline)) entry_t *
entry_of(const as_tcache_t *tc, uintptr_t a, int create)
{
    uintptr_t off = a - tc->flat_start; /* wraps when a is below it */
    if (__builtin_expect(off < tc->flat_bytes, 1)) /* the common case */
        return &tc->flat[off / AS_TCACHE_GRANULE_BYTES];
    if (a >> ADDRESS_BITS) return NULL;
    uintptr_t g = a / AS_TCACHE_GRANULE_BYTES;
    slot_t *top = (slot_t *)&tc->top[g / (MID_SLOTS * LEAF_SLOTS)];
    slot_t *mid = atomic_load_explicit(top, memory_order_acquire);
    if (!mid && !(mid = node(top, MID_SLOTS * sizeof(slot_t), create)))
        return NULL;
    slot_t *ls = &mid[(g / LEAF_SLOTS) % MID_SLOTS];
    entry_t *leaf = atomic_load_explicit(ls, memory_order_acquire);
    if (!leaf && !(leaf = node(ls, LEAF_SLOTS * sizeof(entry_t), create)))
        return NULL;
    return &leaf[g % LEAF_SLOTS];
}

static unsigned get(const entry_t *e)
{
    return atomic_load_explicit(e, memory_order_relaxed);
}

static void set(entry_t *e, unsigned v)
{
    atomic_store_explicit(e, (unsigned char)v, memory_order_relaxed);
}

int as_tcache_flat(as_tcache_t *tc, uintptr_t start, size_t bytes)
{
    if (tc->flat || bytes == 0 || start % AS_TCACHE_GRANULE_BYTES ||
        bytes % AS_TCACHE_GRANULE_BYTES || start + bytes < start)
        return AS_EINVAL;
    size_t len = bytes / AS_TCACHE_GRANULE_BYTES;
    void *m = mmap(NULL, len, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (m == MAP_FAILED) return AS_ENOMEM;
    tc->flat = m;
    tc->flat_start = start;
    tc->flat_bytes = bytes;
    return AS_OK;
}

unsigned as_tcache_entry(const as_tcache_t *tc, const void *p)
{
    if ((uintptr_t)p % AS_TCACHE_GRANULE_BYTES) return 0;
    entry_t *e = entry_of(tc, (uintptr_t)p, 0);
    return e ? get(e) : 0;
}

/* --- the arrays' memory ------------------------------------------------ */

/* The layer's arena under its own mutex: the as_mem_t (tc->mem) that the
 * rules module's stack functions grow the arrays with, from any thread. */
static void *arena_alloc(void *st, size_t bytes)
{
    as_tcache_t *tc = st;
    pthread_mutex_lock(&tc->arena_mutex);
    void *p = as_mem_alloc(&tc->arena_mem, bytes);
    pthread_mutex_unlock(&tc->arena_mutex);
    return p;
}

static void arena_free(void *st, void *p, size_t bytes)
{
    as_tcache_t *tc = st;
    pthread_mutex_lock(&tc->arena_mutex);
    as_mem_free(&tc->arena_mem, p, bytes);
    pthread_mutex_unlock(&tc->arena_mutex);
}

/* After a rule that may have grown max[c] (as_tcache_stack_fit). */
static void fit(as_tcache_t *tc, as_tcache_local_t *l, unsigned c)
{
    as_tcache_stack_fit(&l->core, l->stack, c, &tc->mem);
}

/* --- the caches -------------------------------------------------------- */

/* A record for a new thread: an exited thread's (its stacks kept, empty),
 * or a fresh one whose stacks get batch(c) entries each. Called with
 * tc->mutex held. @return NULL when no memory. */
static as_tcache_local_t *new_record(as_tcache_t *tc)
{
    as_tcache_local_t *l = tc->spare;
    if (l) {
        tc->spare = l->next;
    } else {
        if ((size_t)(tc->pool_end - tc->pool) < sizeof *l) {
            void *m = mmap(NULL, RECORDS_BYTES, PROT_READ | PROT_WRITE,
                           MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            if (m == MAP_FAILED) return NULL;
            tc->pool = m;
            tc->pool_end = tc->pool + RECORDS_BYTES;
        }
        l = (as_tcache_local_t *)tc->pool;
        memset(l, 0, sizeof *l);
        as_tcache_thread_init(&l->core);
        if (as_tcache_stacks_init(&l->core, l->stack, &tc->mem) != AS_OK)
            return NULL; /* the record stays in the pool for a retry */
        tc->pool += (sizeof *l + 63) & ~(size_t)63;
    }
    as_tcache_thread_init(&l->core); /* its stacks hold what it may push */
    l->prev = NULL;
    l->next = tc->live;
    if (tc->live) tc->live->prev = l;
    tc->live = l;
    return l;
}

/* This thread's cache, made on first use. @return NULL while it is being
 * made (a re-entrant call) or after the thread's destructor ran. */
static as_tcache_local_t *local(as_tcache_t *tc)
{
    if (t_local) return t_local;
    if (t_state != T_NONE) return NULL;
    t_state = T_CREATING;
    pthread_mutex_lock(&tc->mutex);
    as_tcache_local_t *l = new_record(tc);
    pthread_mutex_unlock(&tc->mutex);
    if (l) pthread_setspecific(tc->key, l); /* may re-enter malloc */
    t_local = l;
    t_state = l ? T_NONE : T_DEAD;
    return l;
}

/* Give n blocks of class c (n <= count[c]) back to the policy, from the
 * head, AS_TCACHE_FLUSH_MAX at a time through the lock layer's free_batch
 * (one hold of its mutex, one call into the policy where it batches). */
static int flush(as_tcache_t *tc, as_tcache_local_t *l, unsigned c, unsigned n,
                 const as_ctx_t *ctx)
{
    int first = AS_OK;
    while (n > 0) {
        uintptr_t a[AS_TCACHE_FLUSH_MAX];
        unsigned k = n < AS_TCACHE_FLUSH_MAX ? n : AS_TCACHE_FLUSH_MAX;
        as_tcache_take_run(&l->stack[c], l->core.count[c], k, a);
        for (unsigned i = 0; i < k; i++)
            set(entry_of(tc, a[i], 0), 0); /* before the policy has it */
        as_tcache_removed(&l->core, c, k);
        n -= k;
        int rc = as_policy_free_all(&tc->lock->ops, tc->lock, ctx, a, k);
        if (rc != AS_OK && first == AS_OK) first = rc;
    }
    return first;
}

/* --- the transfer cache ---------------------------------------------- */

/* Move batch(c) blocks of l's list c, as one chain, to the transfer cache
 * when the rules say so (as_tcache_xfer_put) and its stack has room (grown
 * on demand up to as_tcache_xfer_limit(c)). The blocks stay marked
 * cached; their addresses are copied, their memory is not touched.
 * @return 1 when moved, 0 when the caller must flush to the policy. */
static int xfer_put(as_tcache_t *tc, as_tcache_local_t *l, unsigned c)
{
    unsigned k = as_tcache_batch(c);
    uint32_t n = l->core.count[c];
    pthread_mutex_lock(&tc->xfer_mutex);
    as_tcache_stack_t *x = &tc->xfer[c];
    uint32_t xn = tc->xfer_core.chains[c] * k;
    int moved = as_tcache_stack_grow(x, xn, xn + k, as_tcache_xfer_limit(c),
                                     &tc->mem) == AS_OK &&
                as_tcache_xfer_put(&tc->xfer_core, &l->core, c);
    if (moved) as_tcache_chain_put(x, xn, &l->stack[c], n, k);
    pthread_mutex_unlock(&tc->xfer_mutex);
    return moved;
}

/* A refill of l's (empty) list c from a chain of the transfer cache: its
 * head into *out (marked allocated), the rest onto the list.
 * @return 1, or 0 (a miss, counted in l). */
static int xfer_take(as_tcache_t *tc, as_tcache_local_t *l, unsigned c,
                     uintptr_t *out)
{
    if (!__atomic_load_n(&tc->xfer_core.chains[c], __ATOMIC_RELAXED)) {
        as_tcache_xfer_missed(&l->core); /* a hint; no lock taken */
        return 0;
    }
    unsigned k = as_tcache_batch(c);
    pthread_mutex_lock(&tc->xfer_mutex);
    int took = as_tcache_xfer_take(&tc->xfer_core, &l->core, c);
    if (took)
        *out = as_tcache_chain_take(&tc->xfer[c],
                                    (tc->xfer_core.chains[c] + 1) * k,
                                    &l->stack[c], l->core.count[c], k);
    pthread_mutex_unlock(&tc->xfer_mutex);
    if (!took) return 0;
    as_tcache_refilled(&l->core, c);
    as_tcache_pushed_n(&l->core, c, k - 1);
    fit(tc, l, c);
    set(entry_of(tc, *out, 0), c);
    return 1;
}

/* Every list keeps keep_num / keep_den of its blocks (the rules' trim). */
static void flush_all(as_tcache_t *tc, as_tcache_local_t *l, unsigned keep_num,
                      unsigned keep_den, const as_ctx_t *ctx)
{
    uint32_t n[AS_TCACHE_CLASSES + 1];
    as_tcache_trim_all(&l->core, keep_num, keep_den, n);
    for (unsigned c = 1; c <= AS_TCACHE_CLASSES; c++)
        if (n[c]) flush(tc, l, c, n[c], ctx);
}

/* p (class c) onto l's list: the rules allowed it, so the stack has room. */
static inline __attribute__((always_inline)) void
push(as_tcache_local_t *l, entry_t *e, void *p, unsigned c)
{
    set(e, c | AS_TCACHE_CACHED);
    l->stack[c].slot[l->core.count[c]] = (uintptr_t)p;
    as_tcache_pushed(&l->core, c);
}

/* The one layer of the process (the key's destructor gets only the
 * record). */
static as_tcache_t *g_current;

static void thread_exit(void *arg)
{
    as_tcache_local_t *l = arg;
    as_tcache_t *tc = g_current;
    t_state = T_DEAD; /* calls from here on bypass the cache */
    t_local = NULL;
    if (!l || !tc) return;
    as_ctx_t ctx;
    tc->ctx_fn(&ctx);
    flush_all(tc, l, 0, 1, &ctx);
    pthread_mutex_lock(&tc->mutex);
    as_tcache_counters_add(&tc->retired, &l->core);
    if (l->prev)
        l->prev->next = l->next;
    else
        tc->live = l->next;
    if (l->next) l->next->prev = l->prev;
    l->next = tc->spare;
    tc->spare = l;
    pthread_mutex_unlock(&tc->mutex);
}

/* --- the common paths -------------------------------------------------- */

/* A hit: the head of l's list c (c >= 1), marked allocated; NULL when the
 * list is empty. Reads l's stack, never the block. */
static inline __attribute__((always_inline)) void *
pop(as_tcache_t *tc, as_tcache_local_t *l, unsigned c)
{
    uint32_t n = l->core.count[c];
    if (!n) return NULL;
    void *p = (void *)l->stack[c].slot[n - 1];
    as_tcache_popped(&l->core, c);
    set(entry_of(tc, (uintptr_t)p, 0), c);
    return p;
}

void *as_tcache_alloc_fast(as_tcache_t *tc, size_t size)
{
    as_tcache_local_t *l = t_local;
    unsigned c = as_tcache_class(size, 0); /* 0: not cached (the rules') */
    if (!c || !l) return NULL;
    return pop(tc, l, c);
}

/* The free of the block at addr whose map entry e holds v (class, not
 * cached) when the fast path declined: no cache on this thread, or the
 * rules' plan (give back on overflow, halve on the byte limit) first. */
static __attribute__((noinline)) int free_slow(as_tcache_t *tc, entry_t *e,
                                               unsigned v, uintptr_t addr,
                                               const as_ctx_t *ctx)
{
    as_tcache_local_t *l = local(tc);
    if (!l) { /* no cache on this thread: straight to the policy */
        set(e, 0);
        return tc->lock->ops.free(tc->lock, ctx, addr, 0);
    }
    int rc = AS_OK;
    as_tcache_free_plan_t plan = as_tcache_free_plan(&l->core, v);
    if (plan.give_back && !xfer_put(tc, l, v))
        rc = flush(tc, l, v, plan.give_back, ctx);
    if (plan.halve) flush_all(tc, l, 1, 2, ctx);
    fit(tc, l, v);
    if (l->core.count[v] < l->stack[v].cap) {
        push(l, e, (void *)addr, v);
        return rc;
    }
    set(e, 0); /* no stack memory: not cached */
    int frc = tc->lock->ops.free(tc->lock, ctx, addr, 0);
    return rc != AS_OK ? rc : frc;
}

/* free_slow with the context of now (a call that carries none). */
static __attribute__((noinline)) int free_slow_now(as_tcache_t *tc, entry_t *e,
                                                   unsigned v, void *p)
{
    as_ctx_t ctx;
    tc->ctx_fn(&ctx);
    if (!v) return tc->lock->ops.free(tc->lock, &ctx, (uintptr_t)p, 0);
    return free_slow(tc, e, v, (uintptr_t)p, &ctx);
}

int as_tcache_free(as_tcache_t *tc, void *p)
{
    entry_t *e = (uintptr_t)p % AS_TCACHE_GRANULE_BYTES
                     ? NULL
                     : entry_of(tc, (uintptr_t)p, 0);
    unsigned v = e ? get(e) : 0;
    if (v & AS_TCACHE_CACHED) return AS_EINVAL; /* a double free */
    as_tcache_local_t *l = t_local;
    if (v && l && as_tcache_may_push(&l->core, v)) {
        push(l, e, p, v);
        return AS_OK;
    }
    return free_slow_now(tc, e, v, p);
}

/* --- the layer's hooks ------------------------------------------------- */

/* A refill's blocks from the policy: `want` (<= AS_TCACHE_BATCH_MAX) blocks
 * of `bytes` (default alignment) in one batch call through the lock layer,
 * so under one hold of its mutex and, where the policy has alloc_batch, in
 * one call into the policy (TCMalloc's ThreadCache::FetchFromTransferCache
 * takes its batch with one RemoveRange). Stops at the first refusal. @return
 * the blocks placed in out[]; when 0, *rc holds the refusal. */
static unsigned refill_from_policy(as_tcache_t *tc, const as_ctx_t *ctx,
                                   size_t bytes, unsigned want, as_block_t *out,
                                   int *rc)
{
    unsigned got = 0;
    *rc = as_policy_alloc_batch(&tc->lock->ops, tc->lock, ctx, bytes, 0, want,
                                out, &got);
    return got;
}

static int tc_create(const as_policy_config_t *cfg, void **state)
{
    (void)cfg;
    (void)state;
    return AS_EUNSUPPORTED; /* made by as_tcache_wrap only */
}

static int tc_alloc(void *st, const as_ctx_t *ctx, size_t size, size_t align,
                    as_block_t *out)
{
    as_tcache_t *tc = st;
    unsigned c = as_tcache_class(size, align);
    if (!c) return tc->lock->ops.alloc(tc->lock, ctx, size, align, out);
    size_t bytes = as_tcache_class_bytes(c);
    as_tcache_local_t *l = local(tc);
    if (l) {
        void *p = pop(tc, l, c); /* c is known: no second as_tcache_class */
        uintptr_t a;
        if (p || xfer_take(tc, l, c, &a)) {
            /* a hit, or a whole batch another thread gave back */
            *out = (as_block_t){p ? (uintptr_t)p : a, bytes};
            return AS_OK;
        }
    }
    as_block_t b[AS_TCACHE_BATCH_MAX];
    int rc;
    unsigned want = l ? as_tcache_batch(c) : 1;
    unsigned got = refill_from_policy(tc, ctx, bytes, want, b, &rc);
    if (got == 0) return rc;
    if (l) {
        as_tcache_refilled(&l->core, c);
        fit(tc, l, c);
    }
    entry_t *e = entry_of(tc, b[0].addr, 1);
    if (e) set(e, c); /* unmapped entry: served uncached, freed directly */
    uintptr_t back[AS_TCACHE_BATCH_MAX];
    unsigned nback = 0;
    for (unsigned i = 1; i < got; i++) {
        e = entry_of(tc, b[i].addr, 1);
        if (e)
            push(l, e, (void *)b[i].addr, c);
        else
            back[nback++] = b[i].addr; /* cannot be cached: give it back */
    }
    if (nback) as_policy_free_all(&tc->lock->ops, tc->lock, ctx, back, nback);
    *out = (as_block_t){b[0].addr, bytes};
    return AS_OK;
}

static int tc_free(void *st, const as_ctx_t *ctx, uintptr_t addr,
                   size_t size_hint)
{
    as_tcache_t *tc = st;
    entry_t *e = addr % AS_TCACHE_GRANULE_BYTES ? NULL : entry_of(tc, addr, 0);
    unsigned v = e ? get(e) : 0;
    if (v == 0) return tc->lock->ops.free(tc->lock, ctx, addr, size_hint);
    if (v & AS_TCACHE_CACHED) return AS_EINVAL; /* a double free */
    return free_slow(tc, e, v, addr, ctx);
}

static size_t tc_usable_size(void *st, uintptr_t addr)
{
    as_tcache_t *tc = st;
    unsigned v = as_tcache_entry(tc, (void *)addr);
    if (v & AS_TCACHE_CACHED) return 0; /* free */
    if (v) return as_tcache_class_bytes(v);
    return tc->lock->ops.usable_size ? tc->lock->ops.usable_size(tc->lock, addr)
                                     : 0;
}

static uint64_t tc_tick(void *st, const as_ctx_t *ctx)
{
    as_tcache_t *tc = st;
    return tc->lock->ops.tick(tc->lock, ctx);
}

static void tc_stats(void *st, as_stat_fn fn, void *arg)
{
    as_tcache_t *tc = st;
    if (tc->lock->ops.stats) tc->lock->ops.stats(tc->lock, fn, arg);
    as_tcache_counters_t c;
    as_tcache_counters(tc, &c);
    as_tcache_report(&c, fn, arg);
}

static void tc_destroy(void *st)
{
    as_tcache_t *tc = st;
    tc->lock->ops.destroy(tc->lock);
}

static int tc_check(const void *st, as_msg_t *why)
{
    as_tcache_t *tc = (as_tcache_t *)st;
    int rc = as_tcache_check(tc, why);
    if (rc == AS_OK && tc->lock->ops.check)
        rc = tc->lock->ops.check(tc->lock, why);
    return rc;
}

int as_tcache_wrap(as_tcache_t *tc, as_lock_t *lock, as_tcache_ctx_fn ctx_fn)
{
    memset(tc, 0, sizeof *tc);
    tc->lock = lock;
    tc->ctx_fn = ctx_fn;
    pthread_mutex_init(&tc->mutex, NULL);
    pthread_mutex_init(&tc->xfer_mutex, NULL);
    pthread_mutex_init(&tc->arena_mutex, NULL);
    tc->arena_mem = as_osarena_mem(&tc->arena);
    tc->mem = (as_mem_t){arena_alloc, arena_free, tc};
    if (pthread_key_create(&tc->key, thread_exit) != 0) return AS_ENOMEM;
    g_current = tc;
    const as_policy_ops_t *in = &lock->ops;
    tc->ops = (as_policy_ops_t){
        .name = in->name,
        .doc = in->doc,
        .params = in->params,
        .n_params = in->n_params,
        .create = tc_create,
        .alloc = tc_alloc,
        .free = tc_free,
        .realloc = NULL, /* the caller allocates, copies and frees */
        .usable_size = tc_usable_size,
        .tick = in->tick ? tc_tick : NULL,
        .stats = tc_stats,
        .destroy = tc_destroy,
        .check = tc_check,
        .lifetime_aware = in->lifetime_aware,
        .class_periods = in->class_periods,
    };
    return AS_OK;
}

void as_tcache_flush_thread(as_tcache_t *tc)
{
    if (!t_local) return;
    as_ctx_t ctx;
    tc->ctx_fn(&ctx);
    flush_all(tc, t_local, 0, 1, &ctx);
}

void as_tcache_counters(as_tcache_t *tc, as_tcache_counters_t *out)
{
    pthread_mutex_lock(&tc->mutex);
    *out = tc->retired;
    out->caches = 0; /* exited threads' records hold nothing */
    for (as_tcache_local_t *l = tc->live; l; l = l->next)
        as_tcache_counters_add(out, &l->core);
    pthread_mutex_unlock(&tc->mutex);
    pthread_mutex_lock(&tc->xfer_mutex);
    out->xfer_bytes = tc->xfer_core.bytes;
    pthread_mutex_unlock(&tc->xfer_mutex);
}

/* The map entry of addr, for the rules' checks. */
static unsigned entry_at(const void *tc, uintptr_t addr)
{
    return as_tcache_entry(tc, (const void *)addr);
}

int as_tcache_check(as_tcache_t *tc, as_msg_t *why)
{
    int rc = AS_OK;
    pthread_mutex_lock(&tc->mutex);
    for (as_tcache_local_t *l = tc->live; l && rc == AS_OK; l = l->next)
        rc = as_tcache_check_thread(&l->core, l->stack, entry_at, tc, why);
    pthread_mutex_unlock(&tc->mutex);
    if (rc != AS_OK) return rc;
    pthread_mutex_lock(&tc->xfer_mutex);
    rc = as_tcache_check_xfer(&tc->xfer_core, tc->xfer, entry_at, tc, why);
    pthread_mutex_unlock(&tc->xfer_mutex);
    return rc;
}

void as_tcache_prefork(as_tcache_t *tc)
{
    pthread_mutex_lock(&tc->mutex);
    pthread_mutex_lock(&tc->xfer_mutex);
    pthread_mutex_lock(&tc->arena_mutex);
}

void as_tcache_postfork_parent(as_tcache_t *tc)
{
    pthread_mutex_unlock(&tc->arena_mutex);
    pthread_mutex_unlock(&tc->xfer_mutex);
    pthread_mutex_unlock(&tc->mutex);
}

void as_tcache_postfork_child(as_tcache_t *tc)
{
    pthread_mutex_init(&tc->mutex, NULL);
    pthread_mutex_init(&tc->xfer_mutex, NULL);
    pthread_mutex_init(&tc->arena_mutex, NULL);
    /* only the forking thread lives on: its cache stays, the others'
     * records (and their blocks) are dropped */
    tc->live = t_local;
    if (t_local) t_local->prev = t_local->next = NULL;
}

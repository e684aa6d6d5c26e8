/* offload.c - the offload layer (see offload.h).
 *
 * Owns the rings, the server thread and its sleep word. A client thread
 * writes a request into its own ring and publishes it by advancing head;
 * the server, the only reader, serves requests through the lock layer and
 * advances tail; a synchronous request's answer is published by storing
 * its sequence number in `answered`. The server sleeps on a futex when it
 * has found nothing to do for a while; publishing and the sleep flag are
 * sequentially consistent on both sides (each stores, then loads the
 * other's), so a request published as the server goes to sleep is seen by
 * one of them, and the sleep has a timeout as well.
 *
 * Must never call libc's allocator or stdio (it runs inside malloc).
 */
#include "malloc/offload.h"

#include <linux/futex.h>
#include <sched.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "common/error.h"

enum { OFF_ALLOC = 1, OFF_FREE };
enum { T_NONE, T_CLAIMING, T_DEAD };

#define SPINS_BEFORE_SLEEP 4000
#define SPINS_BEFORE_YIELD 200
#define SLEEP_NS 10000000 /* the server's sleep at most: 10 ms */

static __thread as_offload_ring_t *t_ring;
static __thread int t_state;

static void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

static void wake(as_offload_t *off)
{
    if (atomic_exchange(&off->sleeping, 0))
        syscall(SYS_futex, &off->sleeping, FUTEX_WAKE_PRIVATE, 1, NULL, NULL,
                0);
}

/* --- the server -------------------------------------------------------- */

static int serve_ring(as_offload_t *off, as_offload_ring_t *r)
{
    uint64_t t = atomic_load_explicit(&r->tail, memory_order_relaxed);
    uint64_t h = atomic_load(&r->head);
    if (t == h) return 0;
    for (; t < h; t++) {
        as_offload_req_t *q = &r->slot[t % AS_OFFLOAD_RING_SLOTS];
        if (q->op == OFF_ALLOC) {
            r->rc = off->lock->ops.alloc(off->lock, &q->ctx, q->size, q->align,
                                         &r->block);
            atomic_store_explicit(&r->answered, t + 1, memory_order_release);
        } else if (off->lock->ops.free(off->lock, &q->ctx, q->addr, 0) !=
                   AS_OK) {
            off->invalid(q->addr);
        }
        off->served++;
        atomic_store_explicit(&r->tail, t + 1, memory_order_release);
    }
    return 1;
}

static int any_pending(as_offload_t *off)
{
    for (as_offload_ring_t *r = atomic_load(&off->rings); r; r = r->next)
        if (atomic_load(&r->head) != atomic_load(&r->tail)) return 1;
    return 0;
}

static void *server_main(void *arg)
{
    as_offload_t *off = arg;
    unsigned idle = 0;
    for (;;) {
        int did = 0;
        for (as_offload_ring_t *r = atomic_load(&off->rings); r; r = r->next)
            did |= serve_ring(off, r);
        if (did) {
            idle = 0;
            continue;
        }
        if (++idle < SPINS_BEFORE_SLEEP) {
            cpu_relax();
            continue;
        }
        atomic_store(&off->sleeping, 1);
        if (!any_pending(off)) {
            struct timespec ts = {0, SLEEP_NS};
            syscall(SYS_futex, &off->sleeping, FUTEX_WAIT_PRIVATE, 1, &ts, NULL,
                    0);
        }
        atomic_store(&off->sleeping, 0);
        idle = 0;
    }
    return NULL;
}

/* --- the clients ------------------------------------------------------- */

static void ring_exit(void *arg)
{
    as_offload_ring_t *r = arg;
    t_state = T_DEAD; /* later calls are served inline */
    t_ring = NULL;
    if (r) atomic_store_explicit(&r->owned, 0, memory_order_release);
}

/* This thread's ring: a free one reused, or a new one. @return NULL while
 * it is being claimed (a re-entrant call), after the thread's exit began,
 * or when no memory can be mapped. */
static as_offload_ring_t *ring(as_offload_t *off)
{
    if (t_ring) return t_ring;
    if (t_state != T_NONE) return NULL;
    t_state = T_CLAIMING;
    as_offload_ring_t *r = atomic_load(&off->rings);
    for (; r; r = r->next) {
        int expect = 0;
        if (atomic_load(&r->head) == atomic_load(&r->tail) &&
            atomic_compare_exchange_strong(&r->owned, &expect, 1))
            break;
    }
    if (!r) {
        void *m = mmap(NULL, sizeof *r, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (m == MAP_FAILED) {
            t_state = T_NONE;
            return NULL;
        }
        r = m; /* zeroed: head == tail == 0 */
        atomic_store(&r->owned, 1);
        as_offload_ring_t *first = atomic_load(&off->rings);
        do
            r->next = first;
        while (!atomic_compare_exchange_weak(&off->rings, &first, r));
    }
    pthread_setspecific(off->key, r); /* may re-enter malloc: inline */
    t_ring = r;
    t_state = T_NONE;
    return r;
}

/* Queue *q on r. @return its sequence number (head after it). */
static uint64_t submit(as_offload_t *off, as_offload_ring_t *r,
                       const as_offload_req_t *q)
{
    uint64_t h = atomic_load_explicit(&r->head, memory_order_relaxed);
    while (h - atomic_load_explicit(&r->tail, memory_order_acquire) >=
           AS_OFFLOAD_RING_SLOTS) {
        wake(off);
        sched_yield(); /* full: the server is behind */
    }
    r->slot[h % AS_OFFLOAD_RING_SLOTS] = *q;
    atomic_store(&r->head, h + 1);
    if (atomic_load(&off->sleeping)) wake(off);
    return h + 1;
}

static void await(as_offload_ring_t *r, uint64_t seq)
{
    for (unsigned i = 0;
         atomic_load_explicit(&r->answered, memory_order_acquire) < seq; i++)
        if (i < SPINS_BEFORE_YIELD)
            cpu_relax();
        else
            sched_yield();
}

/* --- the layer's hooks ------------------------------------------------- */

static int off_create(const as_policy_config_t *cfg, void **state)
{
    (void)cfg;
    (void)state;
    return AS_EUNSUPPORTED; /* made by as_offload_start only */
}

static int off_alloc(void *st, const as_ctx_t *ctx, size_t size, size_t align,
                     as_block_t *out)
{
    as_offload_t *off = st;
    as_offload_ring_t *r = atomic_load(&off->active) ? ring(off) : NULL;
    if (!r) return off->lock->ops.alloc(off->lock, ctx, size, align, out);
    as_offload_req_t q = {
        .op = OFF_ALLOC, .size = size, .align = align, .ctx = *ctx};
    await(r, submit(off, r, &q));
    *out = r->block;
    return r->rc;
}

static int off_free(void *st, const as_ctx_t *ctx, uintptr_t addr,
                    size_t size_hint)
{
    as_offload_t *off = st;
    as_offload_ring_t *r = atomic_load(&off->active) ? ring(off) : NULL;
    if (!r) return off->lock->ops.free(off->lock, ctx, addr, size_hint);
    as_offload_req_t q = {.op = OFF_FREE, .addr = addr, .ctx = *ctx};
    submit(off, r, &q);
    return AS_OK; /* the server reports a refused free */
}

static size_t off_usable_size(void *st, uintptr_t addr)
{
    as_offload_t *off = st;
    return off->lock->ops.usable_size(off->lock, addr);
}

static uint64_t off_tick(void *st, const as_ctx_t *ctx)
{
    as_offload_t *off = st;
    return off->lock->ops.tick(off->lock, ctx);
}

static void off_stats(void *st, as_stat_fn fn, void *arg)
{
    as_offload_t *off = st;
    off->lock->ops.stats(off->lock, fn, arg);
}

static void off_destroy(void *st)
{
    as_offload_t *off = st;
    off->lock->ops.destroy(off->lock);
}

static int off_check(const void *st, as_msg_t *why)
{
    const as_offload_t *off = st;
    return off->lock->ops.check(off->lock, why);
}

static int pin_cpu(pthread_t th)
{
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) != 0) return -1;
    int last = -1;
    for (int c = 0; c < CPU_SETSIZE; c++)
        if (CPU_ISSET(c, &set)) last = c;
    if (last < 0) return -1;
    CPU_ZERO(&set);
    CPU_SET(last, &set);
    return pthread_setaffinity_np(th, sizeof set, &set) == 0 ? last : -1;
}

int as_offload_start(as_offload_t *off, as_lock_t *lock,
                     as_offload_invalid_fn invalid)
{
    const as_policy_ops_t *in = &lock->ops;
    off->lock = lock;
    off->invalid = invalid;
    off->ops = (as_policy_ops_t){
        .name = in->name,
        .doc = in->doc,
        .params = in->params,
        .n_params = in->n_params,
        .create = off_create,
        .alloc = off_alloc,
        .free = off_free,
        .realloc = NULL, /* the caller allocates, copies and frees */
        .usable_size = in->usable_size ? off_usable_size : NULL,
        .tick = in->tick ? off_tick : NULL,
        .stats = in->stats ? off_stats : NULL,
        .destroy = off_destroy,
        .check = in->check ? off_check : NULL,
        .lifetime_aware = in->lifetime_aware,
        .class_periods = in->class_periods,
    };
    if (pthread_key_create(&off->key, ring_exit) != 0) return AS_ENOMEM;
    pthread_attr_t attr;
    pthread_t th;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    int rc = pthread_create(&th, &attr, server_main, off);
    pthread_attr_destroy(&attr);
    if (rc != 0) return AS_ENOMEM;
    off->server_cpu = pin_cpu(th);
    atomic_store(&off->active, 1);
    return AS_OK;
}

void as_offload_drain(as_offload_t *off)
{
    if (!atomic_load(&off->active)) return;
    for (as_offload_ring_t *r = atomic_load(&off->rings); r; r = r->next) {
        uint64_t h = atomic_load(&r->head);
        while (atomic_load(&r->tail) < h) {
            wake(off);
            sched_yield();
        }
    }
}

void as_offload_postfork_child(as_offload_t *off)
{
    atomic_store(&off->active, 0);
}

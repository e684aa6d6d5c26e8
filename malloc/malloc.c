/* malloc.c - the real allocator: the C allocation API over a registered
 * policy, for LD_PRELOAD (liballocsim_malloc.so).
 *
 * The policy is the same object code `allocsim run` replays (libas_policies),
 * stacked in the Heap Layers manner as
 * lock(stats(tcache(lock(check(policy))))): the inner lock layer
 * (malloc/lock.h) serialises every hook of the policy; the thread-cache
 * layer (malloc/tcache.h, for the policies it suits, ALLOCSIM_CACHE) serves
 * small blocks from per-thread lists and reaches the lock in batches; the
 * statistics layer (policies/layers/stats.h, only with ALLOCSIM_STATS)
 * counts the program's live bytes above the cache, behind a lock of its
 * own, so its figures do not count cached blocks as live; the checking
 * layer (policies/layers/check.h, only with ALLOCSIM_CHECK) sits right
 * above the policy; the page source below is the operating system
 * (malloc/osmem.h). Without statistics, malloc and free try the cache's
 * lock-free paths before anything else. A policy
 * never touches the memory it hands out, so no header is kept next to a
 * block: free asks the policy (size_hint 0, policy.h rule 5) and
 * malloc_usable_size asks its usable_size hook.
 *
 * What this file owns: the API entry points; the first-call initialisation
 * (configuration from the environment, malloc/config.h; an unknown policy or
 * a bad parameter prints one line and aborts, since running a different
 * allocator than the one asked for would give silently wrong figures); the
 * bootstrap arena that serves the calls made while initialising (pthread_atfork
 * may allocate) from a static buffer; the fork handlers; the background
 * thread that calls the policy's tick at the periods it asks for and samples
 * resident memory for ALLOCSIM_STATS; and the statistics file at exit.
 *
 * It never calls libc's allocator or stdio (tests/check_malloc_libc_refs.sh
 * checks the library's undefined symbols). Requests above PTRDIFF_MAX fail
 * here with ENOMEM, before any policy's size arithmetic could overflow.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/error.h"
#include "common/lifetime.h"
#include "common/msg.h"
#include "common/util.h"
#include "malloc/config.h"
#include "malloc/lock.h"
#include "malloc/mstats.h"
#include "malloc/offload.h"
#include "malloc/osmem.h"
#include "malloc/predict.h"
#include "malloc/tcache.h"
#include "policies/layers/check.h"
#include "policies/layers/stats.h"

#define API __attribute__((visibility("default")))
#define BOOT_BYTES ((size_t)256 << 10)
#define MAX_REQUEST ((size_t)PTRDIFF_MAX)

enum { ST_NONE, ST_READY };

static _Atomic int g_state;
static pthread_mutex_t g_init_mutex = PTHREAD_MUTEX_INITIALIZER;
/* this thread's calls are the allocator's own (it initialises, or starts
 * the background thread): served by the bootstrap arena */
static __thread int t_boot;
static __thread uint32_t t_thread;
static _Atomic uint32_t g_next_thread;

static as_malloc_config_t g_cfg;
static as_osmem_t g_os;
static as_pagesource_t g_ps;
static as_osarena_t g_layer_arena; /* the statistics layer's own metadata */
static as_mem_t g_layer_mem;
static as_classes_t g_classes;
static as_lock_t g_lock; /* around the policy */
static as_tcache_t g_tc; /* the thread caches, when g_cached */
static int g_cached;     /* the thread-cache layer is in */
static int g_fast;       /* malloc/free try g_tc's fast paths */
static int g_offloaded;  /* ALLOCSIM_OFFLOAD: the policy on g_off's server */
static as_offload_t g_off;
static as_lock_t g_stats_lock;       /* around the statistics layer */
static const as_policy_ops_t *g_top; /* the outermost layer */
static void *g_top_state;
static as_policy_ops_t g_stats_ops;
static void *g_stats_state; /* NULL without ALLOCSIM_STATS */
static as_policy_ops_t g_check_ops;
static void *g_check_state; /* NULL without ALLOCSIM_CHECK */
static as_mstats_t g_mstats;
static uint64_t g_t0_ns;
static int g_predicting;         /* ALLOCSIM_PREDICTOR: ask malloc/predict.h */
static _Atomic int g_ticker;     /* 0 none, 1 running or starting, 2 failed */
static _Atomic uint64_t g_ticks; /* policy ticks made */

/* The bootstrap arena: a bump allocator over a static buffer; each block
 * is preceded by its size. Never reused (it serves a handful of calls). */
static alignas(4096) char g_boot[BOOT_BYTES];
static _Atomic size_t g_boot_used;

/* --- small helpers ---------------------------------------------------- */

static void say(const char *s)
{
    size_t n = strlen(s);
    while (n > 0) {
        ssize_t w = write(2, s, n);
        if (w <= 0) return;
        s += w;
        n -= (size_t)w;
    }
}

static _Noreturn void die(const char *what)
{
    say("allocsim: ");
    say(what);
    say("\n");
    abort();
}

/* The checking layer's message for its last violation (ALLOCSIM_CHECK);
 * the caller holds no lock, so another thread's call may have replaced it:
 * it is a diagnosis printed before abort, not a figure. */
static void say_check_error(void)
{
    if (!g_check_state) return;
    const char *e = as_check_last_error(g_check_state);
    if (!*e) return;
    say("allocsim: checking layer: ");
    say(e);
    say("\n");
}

static _Noreturn void invalid_pointer(const char *fn, const void *p)
{
    say_check_error();
    char buf[96];
    as_msg_t m;
    as_msg_init(&m, buf, sizeof buf);
    as_msg_str(&m, fn);
    as_msg_str(&m, "(): invalid pointer ");
    as_msg_u64(&m, (uint64_t)(uintptr_t)p, 1);
    die(buf);
}

static uint64_t clock_ns(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Precise time, for the background thread and the samples. */
static uint64_t mono_ns(void)
{
    return clock_ns(CLOCK_MONOTONIC);
}

/* The time a request carries: the coarse clock (a few ms resolution, the
 * kernel tick). The precise clock cost a third of a malloc's time on a
 * machine whose clock source has no vDSO fast path (a VM's kvm-clock or
 * none); lifetimes are classed from 10 ms up and tcmalloc's epochs are
 * longer, so the policies lose nothing they use. Both clocks count from
 * the same origin. */
static uint64_t request_ns(void)
{
    return clock_ns(CLOCK_MONOTONIC_COARSE);
}

static void ctx_fill(as_ctx_t *ctx)
{
    if (!t_thread) t_thread = atomic_fetch_add(&g_next_thread, 1) + 1;
    int cpu = sched_getcpu();
    uint64_t t = request_ns();
    ctx->now_ns = t > g_t0_ns ? t - g_t0_ns : 0;
    ctx->thread = t_thread;
    ctx->cpu = cpu < 0 ? 0 : (uint32_t)cpu;
    ctx->lifetime_class = AS_CLASS_NONE;
    ctx->stack = 0;
}

static int in_boot(const void *p)
{
    return (const char *)p >= g_boot && (const char *)p < g_boot + BOOT_BYTES;
}

static void *boot_alloc(size_t size, size_t align)
{
    if (align < 16) align = 16;
    if (size > BOOT_BYTES || align > BOOT_BYTES) return NULL;
    size_t need = (size_t)as_align_up(size ? size : 1, 16) + align + 16;
    size_t at = atomic_fetch_add(&g_boot_used, need);
    if (at + need > BOOT_BYTES) {
        errno = ENOMEM;
        return NULL;
    }
    char *p = (char *)as_align_up((uintptr_t)(g_boot + at + 16), align);
    ((size_t *)p)[-1] = size;
    return p;
}

static size_t boot_size(const void *p)
{
    return ((const size_t *)p)[-1];
}

/* --- initialisation and fork ------------------------------------------ */

/* The offload server found a free the policy refused. */
static _Noreturn void offload_invalid(uintptr_t addr)
{
    invalid_pointer("free", (void *)addr);
}

/* Lock order: predictor, statistics lock, policy lock, the caches' list
 * (a prediction is made before the layers are called, and what the
 * predictor allocates goes through them). */
static void at_prefork(void)
{
    if (atomic_load(&g_state) != ST_READY) return;
    if (g_offloaded) as_offload_drain(&g_off); /* queued frees first */
    if (g_predicting) as_mpred_prefork();
    if (g_stats_state) as_lock_prefork(&g_stats_lock);
    as_lock_prefork(&g_lock);
    if (g_cached) as_tcache_prefork(&g_tc);
}

static void at_postfork_parent(void)
{
    if (atomic_load(&g_state) != ST_READY) return;
    if (g_cached) as_tcache_postfork_parent(&g_tc);
    as_lock_postfork_parent(&g_lock);
    if (g_stats_state) as_lock_postfork_parent(&g_stats_lock);
    if (g_predicting) as_mpred_postfork_parent();
}

static void at_postfork_child(void)
{
    if (atomic_load(&g_state) != ST_READY) return;
    if (g_cached) as_tcache_postfork_child(&g_tc);
    if (g_offloaded) as_offload_postfork_child(&g_off); /* no server */
    as_lock_postfork_child(&g_lock);
    if (g_stats_state) as_lock_postfork_child(&g_stats_lock);
    if (g_predicting) as_mpred_postfork_child();
    /* the background thread did not survive the fork: start a new one on
     * the child's next allocation */
    atomic_store(&g_ticker, 0);
}

static void init_locked(void)
{
    char whybuf[2048];
    as_msg_t why;
    as_msg_init(&why, whybuf, sizeof whybuf);
    if (as_malloc_config(getenv("ALLOCSIM_POLICY"),
                         getenv("ALLOCSIM_PREDICTOR"), getenv("ALLOCSIM_PARAM"),
                         getenv("ALLOCSIM_STATS"),
                         getenv("ALLOCSIM_STATS_PERIOD"),
                         getenv("ALLOCSIM_CHECK"), &g_cfg, &why) != AS_OK ||
        as_malloc_cache(getenv("ALLOCSIM_CACHE"), g_cfg.policy, &g_cached,
                        &why) != AS_OK ||
        as_malloc_flag("ALLOCSIM_OFFLOAD", getenv("ALLOCSIM_OFFLOAD"), 0,
                       &g_offloaded, &why) != AS_OK)
        die(whybuf);
    if (g_offloaded) g_cached = 0; /* the server is the whole allocator */
    as_osmem_init(&g_os, &g_ps);
    /* the thread caches' flat block map covers the heap window, so the
     * policy's reservations go there (without one: the general map) */
    if (g_cached) (void)as_osmem_window(&g_os, AS_OSMEM_WINDOW_BYTES);
    g_layer_mem = as_osarena_mem(&g_layer_arena);
    as_classes_default(&g_classes);
    as_policy_config_t pc = {.ps = &g_ps,
                             .params = g_cfg.params,
                             .n_classes = g_classes.n,
                             .class_bounds_ns = g_classes.bound_ns,
                             .why = &why};
    const as_policy_ops_t *pol = g_cfg.policy;
    void *st = NULL;
    int rc;
    if (g_cfg.check_every) {
        rc = as_check_wrap(pol, &pc, &g_layer_mem, &g_check_ops, &st);
        if (rc == AS_OK) {
            as_check_set_every(st, g_cfg.check_every);
            g_check_state = st;
            pol = &g_check_ops;
        }
    } else {
        rc = pol->create(&pc, &st);
    }
    if (rc != AS_OK) {
        as_msg_t m;
        char buf[2200];
        as_msg_init(&m, buf, sizeof buf);
        as_msg_str(&m, "policy ");
        as_msg_str(&m, pol->name);
        as_msg_str(&m, ": ");
        as_msg_str(&m, why.len ? whybuf : as_strerror(rc));
        die(buf);
    }
    if (g_cfg.pred) {
        as_msg_init(&why, whybuf, sizeof whybuf);
        if (as_mpred_init(&g_cfg, &g_classes, getenv("ALLOCSIM_MODEL"), &why) !=
            AS_OK)
            die(whybuf);
        g_predicting = 1;
    }
    as_lock_wrap(&g_lock, pol, st);
    g_top = &g_lock.ops;
    g_top_state = &g_lock;
    if (g_offloaded) {
        /* pthread_create's allocations come from the bootstrap arena */
        if (as_offload_start(&g_off, &g_lock, offload_invalid) != AS_OK)
            die("ALLOCSIM_OFFLOAD: cannot start the server thread");
        g_top = &g_off.ops;
        g_top_state = &g_off;
    }
    if (g_cached) {
        if (as_tcache_wrap(&g_tc, &g_lock, ctx_fill) != AS_OK)
            die("ALLOCSIM_CACHE: no thread key for the thread caches");
        if (g_os.win_end)
            (void)as_tcache_flat(&g_tc, g_os.win_start,
                                 g_os.win_end - g_os.win_start);
        g_top = &g_tc.ops;
        g_top_state = &g_tc;
    }
    if (g_cfg.stats_path[0]) {
        if (as_stats_wrap_instance(g_top, g_top_state, &g_layer_mem,
                                   &g_stats_ops, &g_stats_state) != AS_OK)
            die("ALLOCSIM_STATS: no memory for the statistics layer");
        as_lock_wrap(&g_stats_lock, &g_stats_ops, g_stats_state);
        g_top = &g_stats_lock.ops;
        g_top_state = &g_stats_lock;
    }
    g_fast = g_cached && !g_stats_state;
    g_t0_ns = request_ns(); /* <= mono_ns(): coarse lags */
    if (g_stats_state) as_mstats_sample(&g_mstats, &g_os, 0, 0);
    /* may allocate: served by the bootstrap arena (t_boot) */
    pthread_atfork(at_prefork, at_postfork_parent, at_postfork_child);
    atomic_store_explicit(&g_state, ST_READY, memory_order_release);
}

static __attribute__((noinline)) void init_now(void);

/* Initialise the allocator unless it is ready. The caller has checked
 * t_boot: the initialising thread's own calls never come here. */
static inline void ensure_init(void)
{
    if (atomic_load_explicit(&g_state, memory_order_acquire) != ST_READY)
        init_now();
}

/* ensure_init's part before the allocator is ready (kept out of line, so
 * the common paths that inline ensure_init stay small). */
static void init_now(void)
{
    pthread_mutex_lock(&g_init_mutex);
    if (atomic_load(&g_state) != ST_READY) {
        t_boot = 1;
        init_locked();
        t_boot = 0;
    }
    pthread_mutex_unlock(&g_init_mutex);
}

/* --- background work -------------------------------------------------- */

static uint64_t live_bytes_locked(void)
{
    as_stats_counters_t c;
    as_stats_counters(g_stats_state, &c);
    return c.live_requested_bytes;
}

/* Hold both locks (statistics, then policy) around a sample. */
static void sample_now(void)
{
    as_lock_acquire(&g_stats_lock);
    as_lock_acquire(&g_lock);
    as_mstats_sample(&g_mstats, &g_os, mono_ns() - g_t0_ns,
                     live_bytes_locked());
    as_lock_release(&g_lock);
    as_lock_release(&g_stats_lock);
}

static void *ticker_main(void *arg)
{
    (void)arg;
    const as_policy_ops_t *ops = &g_lock.ops;
    int ticking = ops->tick != NULL, sampling = g_stats_state != NULL;
    uint64_t next_tick = 0, next_sample = g_cfg.stats_period_ns;
    while (ticking || sampling) {
        uint64_t now = mono_ns() - g_t0_ns;
        if (ticking && now >= next_tick) { /* ctx: the requests' clock */
            as_ctx_t ctx;
            ctx_fill(&ctx);
            uint64_t d = ops->tick(&g_lock, &ctx);
            atomic_fetch_add(&g_ticks, 1);
            if (d == 0)
                ticking = 0;
            else
                next_tick = now + d;
        }
        if (sampling && now >= next_sample) {
            sample_now();
            next_sample = now + g_cfg.stats_period_ns;
        }
        uint64_t wake = UINT64_MAX;
        if (ticking) wake = next_tick;
        if (sampling && next_sample < wake) wake = next_sample;
        if (wake == UINT64_MAX) break;
        now = mono_ns() - g_t0_ns;
        if (wake > now) {
            uint64_t d = wake - now;
            struct timespec ts = {(time_t)(d / 1000000000u),
                                  (long)(d % 1000000000u)};
            nanosleep(&ts, NULL);
        }
    }
    return NULL;
}

/* Start the background thread once (again in a forked child). Called with
 * no lock held: pthread_create allocates. */
static void maybe_start_ticker(void)
{
    if (atomic_load_explicit(&g_ticker, memory_order_relaxed)) return;
    if (!g_lock.ops.tick && !g_stats_state) {
        atomic_store(&g_ticker, 2);
        return;
    }
    int expect = 0;
    if (!atomic_compare_exchange_strong(&g_ticker, &expect, 1)) return;
    pthread_attr_t attr;
    pthread_t th;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    /* what pthread_create allocates (the new thread's TLS vector) is the
     * allocator's, not the program's: from the bootstrap arena, so the
     * policy's heap holds exactly the program's calls (a trace of the
     * program replays into the same heap) */
    t_boot = 1;
    if (pthread_create(&th, &attr, ticker_main, NULL) != 0)
        atomic_store(&g_ticker, 2); /* no background work; say nothing */
    t_boot = 0;
    pthread_attr_destroy(&attr);
}

/* The statistics file, at exit (the policy is never destroyed: other
 * destructors may still free). "%p" in the path becomes the process id. */
__attribute__((destructor)) static void write_stats(void)
{
    if (atomic_load(&g_state) != ST_READY || !g_stats_state) return;
    char path[AS_MALLOC_PATH_BYTES + 24];
    as_msg_t m;
    as_msg_init(&m, path, sizeof path);
    for (const char *s = g_cfg.stats_path; *s; s++) {
        if (s[0] == '%' && s[1] == 'p') {
            as_msg_u64(&m, (uint64_t)getpid(), 0);
            s++;
        } else {
            char one[2] = {*s, 0};
            as_msg_str(&m, one);
        }
    }
    as_stats_counters_t c;
    if (g_offloaded) as_offload_drain(&g_off);
    /* the predictor's figures first: its mutex comes before the others */
    static char extra[8192], pstats[4096];
    as_msg_t em, pm;
    as_msg_init(&em, extra, sizeof extra);
    as_msg_init(&pm, pstats, sizeof pstats);
    if (g_predicting) {
        as_mpred_json(&em);
        as_mpred_stats(&pm);
        if (pm.len + 1 >= pm.cap) pstats[0] = 0; /* cut: none, not half */
    }
    as_lock_acquire(&g_stats_lock);
    /* the layers', the policy's and the predictor's statistics in one
     * object, as summary.json's "stats" (the policy's lock layer takes
     * g_lock itself) */
    static char stats[24576];
    as_msg_t sm;
    as_msg_init(&sm, stats, sizeof stats);
    if (g_stats_ops.stats)
        g_stats_ops.stats(g_stats_state, as_mstats_stat, &sm);
    if (pstats[0]) {
        if (sm.len) as_msg_str(&sm, ", ");
        as_msg_str(&sm, pstats);
    }
    if (sm.len + 1 >= sm.cap) stats[0] = 0; /* cut: none rather than half */
    as_lock_acquire(&g_lock);
    as_mstats_sample(&g_mstats, &g_os, mono_ns() - g_t0_ns,
                     live_bytes_locked());
    as_stats_counters(g_stats_state, &c);
    g_mstats.n_ticks = atomic_load(&g_ticks);
    int rc = as_mstats_write(&g_mstats, path, g_cfg.policy->name, stats, &g_os,
                             &c, extra);
    as_lock_release(&g_lock);
    as_lock_release(&g_stats_lock);
    if (rc != AS_OK) {
        say("allocsim: ALLOCSIM_STATS=");
        say(path);
        say(": cannot write\n");
    }
}

/* --- the API ---------------------------------------------------------- */

static void *alloc_slow(size_t size, size_t align, uintptr_t ra, void *frame);

/* Allocate size bytes aligned to align (a power of two; <= 16 = default),
 * for the API function whose frame is `frame`, called from return address
 * `ra` (the predictor's context). */
static inline void *do_alloc_at(size_t size, size_t align, uintptr_t ra,
                                void *frame)
{
    if (size > MAX_REQUEST || align > MAX_REQUEST - size) {
        errno = ENOMEM;
        return NULL;
    }
    if (t_boot) return boot_alloc(size, align);
    ensure_init();
    if (g_fast && align <= 16) {
        void *p = as_tcache_alloc_fast(&g_tc, size);
        if (p) return p;
    }
    return alloc_slow(size, align, ra, frame);
}

/* do_alloc_at past the thread cache's fast path: the policy through the
 * layers, with the context of now. Out of line, so that the fast path
 * needs no stack frame for the context. */
static __attribute__((noinline)) void *alloc_slow(size_t size, size_t align,
                                                  uintptr_t ra, void *frame)
{
    as_ctx_t ctx;
    ctx_fill(&ctx);
    if (g_predicting)
        ctx.lifetime_class = as_mpred_predict(&ctx, size, ra, frame);
    as_block_t b;
    int rc = g_top->alloc(g_top_state, &ctx, size, align <= 16 ? 0 : align, &b);
    if (rc != AS_OK) {
        errno = ENOMEM;
        return NULL;
    }
    maybe_start_ticker();
    return (void *)b.addr;
}

/* do_alloc: do_alloc_at for the API function it is expanded in. */
#define do_alloc(size, align)                                                  \
    do_alloc_at((size), (align), (uintptr_t)__builtin_return_address(0),       \
                __builtin_frame_address(0))

/* do_free without the thread cache: the policy through the layers. */
static __attribute__((noinline)) void free_slow(const char *fn, void *p)
{
    as_ctx_t ctx;
    ctx_fill(&ctx);
    if (g_top->free(g_top_state, &ctx, (uintptr_t)p, 0) != AS_OK)
        invalid_pointer(fn, p);
}

static inline void do_free(const char *fn, void *p)
{
    if (!p || in_boot(p)) return;
    if (atomic_load_explicit(&g_state, memory_order_acquire) != ST_READY)
        invalid_pointer(fn, p);
    if (g_fast) {
        if (as_tcache_free(&g_tc, p) != AS_OK) invalid_pointer(fn, p);
        return;
    }
    free_slow(fn, p);
}

/* Usable bytes of a live block; 0 when the policy does not know p. */
static size_t usable(void *p)
{
    if (in_boot(p)) return boot_size(p);
    if (atomic_load_explicit(&g_state, memory_order_acquire) != ST_READY)
        return 0;
    return g_top->usable_size(g_top_state, (uintptr_t)p);
}

API void *malloc(size_t size)
{
    return do_alloc(size, 0);
}

API void free(void *p)
{
    do_free("free", p);
}

API void free_sized(void *p, size_t size)
{
    (void)size;
    do_free("free_sized", p);
}

API void free_aligned_sized(void *p, size_t align, size_t size)
{
    (void)align;
    (void)size;
    do_free("free_aligned_sized", p);
}

API void *calloc(size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size) {
        errno = ENOMEM;
        return NULL;
    }
    void *p = do_alloc(n * size, 0);
    if (p) memset(p, 0, n * size); /* recycled blocks are not zero */
    return p;
}

/* realloc never uses the policy's realloc hook: a policy that moves a block
 * frees the old one inside the hook, and may release or unmap its pages
 * before the caller could copy them. A block that still fits (and is not
 * shrunk below half) stays where it is. */
API void *realloc(void *p, size_t size)
{
    if (!p) return do_alloc(size, 0);
    if (size == 0) { /* glibc: free and return NULL */
        do_free("realloc", p);
        return NULL;
    }
    size_t old = usable(p);
    if (old == 0) invalid_pointer("realloc", p);
    if (size <= old && size >= old / 2) return p;
    void *q = do_alloc(size, 0);
    if (!q) return NULL;
    memcpy(q, p, old < size ? old : size);
    do_free("realloc", p);
    return q;
}

API void *reallocarray(void *p, size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size) {
        errno = ENOMEM;
        return NULL;
    }
    return realloc(p, n * size);
}

API int posix_memalign(void **out, size_t align, size_t size)
{
    if (align < sizeof(void *) || !as_is_pow2(align)) return EINVAL;
    int saved = errno;
    void *p = do_alloc(size, align);
    errno = saved;
    if (!p) return ENOMEM;
    *out = p;
    return 0;
}

API void *aligned_alloc(size_t align, size_t size)
{
    if (!as_is_pow2(align)) {
        errno = EINVAL;
        return NULL;
    }
    return do_alloc(size, align);
}

API void *memalign(size_t align, size_t size)
{
    if (align > MAX_REQUEST / 2 + 1) {
        errno = EINVAL;
        return NULL;
    }
    size_t a = 1;
    while (a < align) /* glibc rounds up to a power of two */
        a <<= 1;
    return do_alloc(size, a);
}

API void *valloc(size_t size)
{
    return do_alloc(size, (size_t)sysconf(_SC_PAGESIZE));
}

API void *pvalloc(size_t size)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    if (size > MAX_REQUEST) {
        errno = ENOMEM;
        return NULL;
    }
    return do_alloc(size ? (size_t)as_align_up(size, page) : page, page);
}

API size_t malloc_usable_size(void *p)
{
    return p ? usable(p) : 0;
}

/* test_malloc_tcache_sim.c - one set of rules for both builds: the same
 * single-threaded malloc/free sequence (the first events of
 * data/sqlite.ast; a realloc is a malloc of the new size, then a free of
 * the old block, as the preload build does it when the block moves) goes
 * through the preload build's thread cache (malloc/tcache.h: lock layer,
 * lists linked through the blocks, fast paths first as malloc.c calls
 * them) over one instance of a policy, and through the simulator's layer
 * (policies/layers/tcache.h) over another instance of the same policy.
 * A thin recording layer right above each policy logs every call (alloc:
 * size and the address placed; free: the address); both instances take
 * pages from a page source that places reservations one after another in
 * a real mapping of its own, so an address is compared as its offset from
 * that mapping. The two logs and the addresses the program got must be
 * identical, for tcmalloc and for hoard.
 */
#include <CUnit/CUnit.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "common/error.h"
#include "common/lifetime.h"
#include "malloc/lock.h"
#include "malloc/tcache.h"
#include "policies/layers/tcache.h"
#include "sim/polstack.h"
#include "tests/unit/tcache_testutil.h"
#include "tests/unit/testutil.h"
#include "traces/trace.h"

#define EVENTS 30000
#define REGION_BYTES ((size_t)1 << 36) /* address space, never resident */

/* --- a page source over one mapping, placing reservations in order ------ */

typedef struct {
    uintptr_t base, next, end;
} bump_t;

static int b_reserve(void *st, uintptr_t hint, size_t bytes, size_t align,
                     uintptr_t *addr)
{
    (void)hint;
    bump_t *b = st;
    if (align < 4096) align = 4096;
    uintptr_t a = (b->next + align - 1) & ~(uintptr_t)(align - 1);
    if (a + bytes > b->end) return AS_ENOMEM;
    b->next = a + bytes;
    *addr = a;
    return AS_OK;
}

static int b_release(void *st, uintptr_t addr, size_t bytes)
{
    (void)st;
    return madvise((void *)addr, bytes, MADV_DONTNEED) ? AS_EIO : AS_OK;
}

static int b_unreserve(void *st, uintptr_t addr, size_t bytes)
{
    return b_release(st, addr, bytes); /* never placed again */
}

static const as_pagesource_ops_t bump_ops = {
    .reserve = b_reserve, .release = b_release, .unreserve = b_unreserve};

static void bump_open(bump_t *b, as_pagesource_t *ps)
{
    void *m = mmap(NULL, REGION_BYTES, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    CU_ASSERT_FATAL(m != MAP_FAILED);
    b->base = b->next = (uintptr_t)m;
    b->end = b->base + REGION_BYTES;
    *ps = (as_pagesource_t){.ops = &bump_ops,
                            .state = b,
                            .meta = as_host_mem,
                            .page_bytes = 4096,
                            .hugepage_bytes = 2 << 20};
}

/* --- a recording layer ---------------------------------------------------- */

typedef struct {
    uint8_t op; /* 'a' or 'f' */
    uint64_t size, offset;
} call_t;

typedef struct {
    const as_policy_ops_t *inner;
    void *inner_state;
    uintptr_t base;
    call_t *log;
    size_t n, cap;
    int on;
} rec_t;

static void note(rec_t *r, uint8_t op, uint64_t size, uintptr_t addr)
{
    if (!r->on) return;
    if (r->n == r->cap) {
        r->cap = r->cap ? 2 * r->cap : 4096;
        r->log = realloc(r->log, r->cap * sizeof *r->log);
    }
    r->log[r->n++] = (call_t){op, size, addr - r->base};
}

static int r_alloc(void *st, const as_ctx_t *ctx, size_t size, size_t align,
                   as_block_t *out)
{
    rec_t *r = st;
    int rc = r->inner->alloc(r->inner_state, ctx, size, align, out);
    if (rc == AS_OK) note(r, 'a', size, out->addr);
    return rc;
}

static int r_free(void *st, const as_ctx_t *ctx, uintptr_t addr, size_t hint)
{
    rec_t *r = st;
    note(r, 'f', hint, addr);
    return r->inner->free(r->inner_state, ctx, addr, hint);
}

static void r_destroy(void *st)
{
    rec_t *r = st;
    r->inner->destroy(r->inner_state);
}

static const as_policy_ops_t rec_ops = {
    .name = "rec", .alloc = r_alloc, .free = r_free, .destroy = r_destroy};

/* --- the sequence ---------------------------------------------------------- */

typedef struct {
    uint8_t kind;
    uint64_t object, new_object, size;
} step_t;

static step_t steps[EVENTS];
static size_t n_steps;
static uint64_t max_object;

static void load_steps(void)
{
    if (n_steps) return;
    as_trace_reader_t *rd = NULL;
    CU_ASSERT_FATAL(
        as_trace_reader_open(&rd, as_test_srcpath("data/sqlite.ast")) == 0);
    as_event_t e;
    while (n_steps < EVENTS && as_trace_reader_next(rd, &e) == 1) {
        if (e.kind != AS_EV_ALLOC && e.kind != AS_EV_FREE &&
            e.kind != AS_EV_REALLOC)
            continue;
        steps[n_steps++] = (step_t){e.kind, e.object, e.new_object, e.size};
        uint64_t hi = e.kind == AS_EV_REALLOC ? e.new_object : e.object;
        if (hi > max_object) max_object = hi;
    }
    as_trace_reader_close(rd);
    CU_ASSERT_FATAL(n_steps == EVENTS);
}

/* One side: a policy instance behind the recording layer, and the way the
 * program's calls reach it. */
typedef struct side {
    bump_t bump;
    as_pagesource_t ps;
    as_param_value_t params[64];
    rec_t rec;
    uintptr_t *addr_of; /* object -> block */
    uint64_t *got;      /* offsets the program got, in order */
    size_t n_got;
    int (*alloc)(struct side *, size_t, uintptr_t *);
    int (*free)(struct side *, uintptr_t);
    /* the preload build's stack */
    as_lock_t lock;
    as_tcache_t tc;
    /* the simulator's */
    as_policy_ops_t layer_ops;
    void *layer_state;
} side_t;

static void open_side(side_t *s, const char *policy)
{
    memset(s, 0, sizeof *s);
    bump_open(&s->bump, &s->ps);
    const as_policy_ops_t *pol = as_policy_find(policy);
    CU_ASSERT_FATAL(pol != NULL && pol->n_params <= 64);
    CU_ASSERT_FATAL(as_param_defaults(pol->params, pol->n_params, s->params) ==
                    AS_OK);
    as_classes_t classes;
    as_classes_default(&classes);
    as_policy_config_t pc = {.ps = &s->ps,
                             .params = s->params,
                             .n_classes = classes.n,
                             .class_bounds_ns = classes.bound_ns};
    s->rec.inner = pol;
    s->rec.base = s->bump.base;
    s->rec.on = 1;
    CU_ASSERT_FATAL(pol->create(&pc, &s->rec.inner_state) == AS_OK);
    s->addr_of = calloc(max_object + 1, sizeof *s->addr_of);
    s->got = calloc(2 * EVENTS, sizeof *s->got);
}

static int real_alloc(side_t *s, size_t n, uintptr_t *p)
{
    void *q = as_tcache_alloc_fast(&s->tc, n);
    if (q) {
        *p = (uintptr_t)q;
        return AS_OK;
    }
    as_ctx_t ctx;
    as_test_ctx_zero(&ctx);
    as_block_t b;
    int rc = s->tc.ops.alloc(&s->tc, &ctx, n, 0, &b);
    *p = b.addr;
    return rc;
}

static int real_free(side_t *s, uintptr_t p)
{
    return as_tcache_free(&s->tc, (void *)p);
}

static int sim_alloc(side_t *s, size_t n, uintptr_t *p)
{
    as_ctx_t ctx;
    as_test_ctx_zero(&ctx);
    as_block_t b;
    int rc = s->layer_ops.alloc(s->layer_state, &ctx, n, 0, &b);
    *p = b.addr;
    return rc;
}

static int sim_free(side_t *s, uintptr_t p)
{
    as_ctx_t ctx;
    as_test_ctx_zero(&ctx);
    return s->layer_ops.free(s->layer_state, &ctx, p, 0);
}

static void *drive(void *arg)
{
    side_t *s = arg;
    int ok = 1;
    for (size_t i = 0; i < n_steps && ok; i++) {
        const step_t *e = &steps[i];
        uintptr_t p = 0;
        if (e->kind != AS_EV_FREE) {
            uint64_t id = e->kind == AS_EV_REALLOC ? e->new_object : e->object;
            ok = s->alloc(s, e->size, &p) == AS_OK;
            s->addr_of[id] = p;
            s->got[s->n_got++] = p - s->bump.base;
        }
        if (e->kind != AS_EV_ALLOC && s->addr_of[e->object]) {
            ok = ok && s->free(s, s->addr_of[e->object]) == AS_OK;
            s->addr_of[e->object] = 0;
        }
    }
    s->rec.on = 0; /* the thread's exit flushes its cache: not compared */
    return (void *)(uintptr_t)ok;
}

/* Free what open_side made; `ops`/`state` is the outermost instance. */
static void close_side(side_t *s, const as_policy_ops_t *ops, void *state)
{
    ops->destroy(state);
    free(s->addr_of);
    free(s->got);
    free(s->rec.log);
    munmap((void *)s->bump.base, REGION_BYTES);
}

static void compare(const char *policy)
{
    load_steps();
    static side_t real, sim;
    /* the preload build's layers, on a thread of their own (the layer
     * keeps the thread's cache in a thread-local variable) */
    open_side(&real, policy);
    as_lock_wrap(&real.lock, &rec_ops, &real.rec);
    CU_ASSERT_FATAL(as_tcache_wrap(&real.tc, &real.lock, as_test_ctx_zero) ==
                    AS_OK);
    real.alloc = real_alloc;
    real.free = real_free;
    pthread_t th;
    void *ok = NULL;
    CU_ASSERT_FATAL(pthread_create(&th, NULL, drive, &real) == 0);
    pthread_join(th, &ok);
    CU_ASSERT_TRUE(ok != NULL);

    open_side(&sim, policy);
    CU_ASSERT_FATAL(as_tcache_layer_wrap_instance(&rec_ops, &sim.rec,
                                                  &as_host_mem, &sim.layer_ops,
                                                  &sim.layer_state) == AS_OK);
    sim.alloc = sim_alloc;
    sim.free = sim_free;
    CU_ASSERT_TRUE(drive(&sim) != NULL);

    /* the program got the same blocks */
    CU_ASSERT_EQUAL(real.n_got, sim.n_got);
    size_t first_diff = real.n_got;
    for (size_t i = 0; i < real.n_got && i < sim.n_got; i++)
        if (real.got[i] != sim.got[i]) {
            first_diff = i;
            break;
        }
    CU_ASSERT_EQUAL(first_diff, real.n_got);
    /* the policy saw the same calls */
    CU_ASSERT_EQUAL(real.rec.n, sim.rec.n);
    size_t n = real.rec.n < sim.rec.n ? real.rec.n : sim.rec.n, diff = n;
    for (size_t i = 0; i < n; i++)
        if (real.rec.log[i].op != sim.rec.log[i].op ||
            real.rec.log[i].size != sim.rec.log[i].size ||
            real.rec.log[i].offset != sim.rec.log[i].offset) {
            diff = i;
            break;
        }
    CU_ASSERT_EQUAL(diff, n);
    /* and the cache worked: most calls never reached the policy, and
     * some blocks went back to it */
    size_t frees = 0;
    for (size_t i = 0; i < n; i++)
        frees += sim.rec.log[i].op == 'f';
    CU_ASSERT(n < real.n_got / 2);
    CU_ASSERT(frees > 0);
    as_tcache_counters_t a, b;
    as_tcache_counters(&real.tc, &a);
    as_tcache_layer_counters(sim.layer_state, &b);
    /* the real cache's counters also count the thread's exit flush */
    CU_ASSERT_EQUAL(a.hits, b.hits);
    CU_ASSERT_EQUAL(a.refills, b.refills);
    CU_ASSERT(b.hits > 0 && b.refills > 0);
    close_side(&real, &rec_ops, &real.rec); /* the preload build's layers
                                               hold no memory of their own
                                               but mmap'd records */
    close_side(&sim, &sim.layer_ops, sim.layer_state);
}

static void test_tcmalloc(void)
{
    compare("tcmalloc");
}

static void test_hoard(void)
{
    compare("hoard");
}

int main(void)
{
    static const as_test_t tests[] = {
        {"tcmalloc", test_tcmalloc}, {"hoard", test_hoard}, {NULL, NULL}};
    return as_test_main("malloc_tcache_sim", tests);
}

/* test_policies_tcache.c - the thread cache's rules (policies/layers/
 * tcache_core.h) on their own, and the simulator's layer (policies/layers/
 * tcache.h) over a counting policy that places blocks one after another.
 *
 * Every figure follows from the rules: class c = ceil(size / 16) up to
 * 2032 B and alignment 16, batch(c) = clamp(8192 / (16 c), 2, 32),
 * max[c] = batch(c) at first and + batch(c) per refill, an overflow gives
 * batch(c) blocks back (to the transfer cache while it has room) and its
 * fourth in a row past batch(c) shrinks max[c] by batch(c), a thread's
 * lists hold at most 2 MiB and are halved past it.
 */
#include <CUnit/CUnit.h>
#include <stdint.h>
#include <string.h>

#include "common/error.h"
#include "common/lifetime.h"
#include "policies/layers/tcache.h"
#include "policies/layers/tcache_core.h"
#include "sim/polstack.h"
#include "tests/unit/testutil.h"

/* --- the rules ----------------------------------------------------------- */

static void test_classes(void)
{
    CU_ASSERT_EQUAL(as_tcache_class(0, 0), 1);
    CU_ASSERT_EQUAL(as_tcache_class(1, 0), 1);
    CU_ASSERT_EQUAL(as_tcache_class(16, 0), 1);
    CU_ASSERT_EQUAL(as_tcache_class(17, 0), 2);
    CU_ASSERT_EQUAL(as_tcache_class(100, 0), 7);
    CU_ASSERT_EQUAL(as_tcache_class(2032, 0), 127);
    CU_ASSERT_EQUAL(as_tcache_class(2033, 0), 0); /* too large */
    CU_ASSERT_EQUAL(as_tcache_class(64, 8), 4);
    CU_ASSERT_EQUAL(as_tcache_class(64, 16), 4);
    CU_ASSERT_EQUAL(as_tcache_class(64, 32), 0); /* over-aligned */
    CU_ASSERT_EQUAL(as_tcache_class(0, 4096), 0);
    CU_ASSERT_EQUAL(as_tcache_class_bytes(7), 112);
    CU_ASSERT_EQUAL(as_tcache_class_bytes(127), 2032);
    CU_ASSERT_EQUAL(as_tcache_batch(1), 32);  /* 512 -> 32 */
    CU_ASSERT_EQUAL(as_tcache_batch(16), 32); /* 8192 / 256 = 32 */
    CU_ASSERT_EQUAL(as_tcache_batch(17), 30); /* 8192 / 272 = 30.1 */
    CU_ASSERT_EQUAL(as_tcache_batch(64), 8);  /* 8192 / 1024 */
    CU_ASSERT_EQUAL(as_tcache_batch(127), 4); /* 8192 / 2032 = 4.03 */
}

static void test_slow_start_and_trim(void)
{
    static as_tcache_thread_t t;
    as_tcache_thread_init(&t);
    CU_ASSERT_EQUAL(t.max[1], 32);
    CU_ASSERT_EQUAL(t.max[127], 4);
    as_tcache_refilled(&t, 127);
    as_tcache_refilled(&t, 127);
    CU_ASSERT_EQUAL(t.max[127], 12);
    CU_ASSERT_EQUAL(t.refills, 2);
    for (int i = 0; i < 600; i++)
        as_tcache_refilled(&t, 1); /* 32 + 600 * 32 > 16384 */
    CU_ASSERT_EQUAL(t.max[1], AS_TCACHE_MAX_COUNT);

    /* trim: keep half the blocks (rounded down) and half the max, never
     * below batch(c) */
    for (int i = 0; i < 10; i++)
        as_tcache_pushed(&t, 127);
    CU_ASSERT_EQUAL(t.bytes, 10 * 2032);
    CU_ASSERT_EQUAL(as_tcache_trim(&t, 127, 1, 2), 5);
    CU_ASSERT_EQUAL(t.max[127], 6); /* 12 / 2 */
    as_tcache_removed(&t, 127, 5);
    CU_ASSERT_EQUAL(t.count[127], 5);
    CU_ASSERT_EQUAL(t.flushes, 1);
    CU_ASSERT_EQUAL(as_tcache_trim(&t, 127, 1, 2), 3); /* 5 - 5 / 2 */
    CU_ASSERT_EQUAL(t.max[127], 4);                    /* 3 < batch 4 */
    as_tcache_removed(&t, 127, 3);
    CU_ASSERT_EQUAL(as_tcache_trim(&t, 127, 0, 1), 2); /* thread exit */
    as_tcache_removed(&t, 127, 2);
    CU_ASSERT_EQUAL(t.count[127], 0);
    CU_ASSERT_EQUAL(t.bytes, 0);
    /* a give-back counts one flush per 32 blocks or part of it */
    as_tcache_thread_t u;
    as_tcache_thread_init(&u);
    u.count[1] = 100;
    u.bytes = 1600;
    as_tcache_removed(&u, 1, 33);
    CU_ASSERT_EQUAL(u.flushes, 2);
    as_tcache_removed(&u, 1, 32);
    CU_ASSERT_EQUAL(u.flushes, 3);
    as_tcache_removed(&u, 1, 1);
    CU_ASSERT_EQUAL(u.flushes, 4);
    CU_ASSERT_EQUAL(u.count[1], 34);
    CU_ASSERT_EQUAL(u.bytes, 34 * 16);
}

static void test_free_plan(void)
{
    static as_tcache_thread_t t;
    as_tcache_thread_init(&t);
    /* room: nothing to do */
    as_tcache_free_plan_t p = as_tcache_free_plan(&t, 1);
    CU_ASSERT_EQUAL(p.give_back, 0);
    CU_ASSERT_EQUAL(p.halve, 0);
    CU_ASSERT_TRUE(as_tcache_may_push(&t, 1));
    /* exactly at the byte limit after the push: allowed */
    t.bytes = AS_TCACHE_THREAD_BYTES - 16;
    CU_ASSERT_TRUE(as_tcache_may_push(&t, 1));
    p = as_tcache_free_plan(&t, 1);
    CU_ASSERT_EQUAL(p.halve, 0);
    /* one byte more: halve */
    t.bytes = AS_TCACHE_THREAD_BYTES - 15;
    CU_ASSERT_FALSE(as_tcache_may_push(&t, 1));
    p = as_tcache_free_plan(&t, 1);
    CU_ASSERT_EQUAL(p.give_back, 0);
    CU_ASSERT_EQUAL(p.halve, 1);
    CU_ASSERT_EQUAL(t.max[1], 32); /* no overflow: max unchanged */
    /* a full list gives batch(c) back first (max stays: it is batch(c));
     * the limit is then judged on what is left: 2 MiB - 32 * 16 + 16 <=
     * 2 MiB */
    t.count[1] = 32;
    t.bytes = AS_TCACHE_THREAD_BYTES;
    CU_ASSERT_FALSE(as_tcache_may_push(&t, 1));
    p = as_tcache_free_plan(&t, 1);
    CU_ASSERT_EQUAL(p.give_back, 32);
    CU_ASSERT_EQUAL(p.halve, 0);
    CU_ASSERT_EQUAL(t.max[1], 32);
    CU_ASSERT_EQUAL(t.overages[1], 0);
    /* a full list of 2032-byte blocks: 2 MiB + 1 - 4 * 2032 + 2032 is past
     * the limit, so it also halves */
    as_tcache_thread_init(&t);
    t.count[127] = 4;
    t.bytes = AS_TCACHE_THREAD_BYTES + 4 * 2032 - 2032 + 1;
    p = as_tcache_free_plan(&t, 127);
    CU_ASSERT_EQUAL(p.give_back, 4);
    CU_ASSERT_EQUAL(p.halve, 1);
    CU_ASSERT_EQUAL(t.max[127], 4);
}

/* TCMalloc's ListTooLong: a list whose max grew past batch(c) shrinks by
 * batch(c) at every fourth overflow, down to batch(c) */
static void test_overages(void)
{
    static as_tcache_thread_t t;
    as_tcache_thread_init(&t);
    as_tcache_refilled(&t, 1);
    as_tcache_refilled(&t, 1);
    CU_ASSERT_EQUAL(t.max[1], 96);
    uint32_t want[9] = {96, 96, 96, 64, 64, 64, 64, 32, 32};
    for (int i = 0; i < 9; i++) {
        t.count[1] = t.max[1]; /* full */
        t.bytes = t.count[1] * 16;
        as_tcache_free_plan_t p = as_tcache_free_plan(&t, 1);
        CU_ASSERT_EQUAL(p.give_back, 32);
        CU_ASSERT_EQUAL(p.halve, 0);
        CU_ASSERT_EQUAL(t.max[1], want[i]);
    }
    CU_ASSERT_EQUAL(t.overages[1], 0); /* none counted at batch(c) */
    /* never below what the list keeps: a list one past its max (the push
     * after a halving) that shrinks keeps max >= count - batch(c) */
    as_tcache_thread_init(&t);
    for (int i = 0; i < 4; i++)
        as_tcache_refilled(&t, 127); /* max 20 */
    t.overages[127] = AS_TCACHE_MAX_OVERAGES;
    t.count[127] = 21;
    t.bytes = 21 * 2032;
    as_tcache_free_plan_t p = as_tcache_free_plan(&t, 127);
    CU_ASSERT_EQUAL(p.give_back, 4);
    CU_ASSERT_EQUAL(t.max[127], 17); /* not 16: 21 - 4 blocks stay */
    CU_ASSERT_EQUAL(t.overages[127], 0);
}

static void test_transfer_rules(void)
{
    static as_tcache_thread_t t;
    static as_tcache_xfer_t x;
    as_tcache_thread_init(&t);
    memset(&x, 0, sizeof x);
    /* fewer blocks than a batch: nothing moves */
    for (int i = 0; i < 3; i++)
        as_tcache_pushed(&t, 127);
    CU_ASSERT_EQUAL(as_tcache_xfer_put(&x, &t, 127), 0);
    as_tcache_pushed(&t, 127);
    as_tcache_pushed(&t, 127);
    /* room for exactly one more chain of 4 * 2032 bytes */
    x.bytes = AS_TCACHE_XFER_BYTES - 4 * 2032;
    CU_ASSERT_EQUAL(as_tcache_xfer_put(&x, &t, 127), 1);
    CU_ASSERT_EQUAL(x.bytes, AS_TCACHE_XFER_BYTES);
    CU_ASSERT_EQUAL(x.chains[127], 1);
    CU_ASSERT_EQUAL(t.count[127], 1);
    CU_ASSERT_EQUAL(t.flushes, 1);
    for (int i = 0; i < 3; i++)
        as_tcache_pushed(&t, 127);
    CU_ASSERT_EQUAL(as_tcache_xfer_put(&x, &t, 127), 0); /* full */
    CU_ASSERT_EQUAL(t.count[127], 4);
    /* a refill takes the chain, then misses */
    CU_ASSERT_EQUAL(as_tcache_xfer_take(&x, &t, 127), 1);
    CU_ASSERT_EQUAL(x.bytes, AS_TCACHE_XFER_BYTES - 4 * 2032);
    CU_ASSERT_EQUAL(as_tcache_xfer_take(&x, &t, 127), 0);
    CU_ASSERT_EQUAL(as_tcache_xfer_take(&x, &t, 1), 0);
    CU_ASSERT_EQUAL(t.xfer_hits, 1);
    CU_ASSERT_EQUAL(t.xfer_misses, 2);
}

/* --- the layer over a counting policy ------------------------------------ */

/* Places each block at the next multiple of 4096 (so addresses are hand
 * computable: the n-th block placed is at base + 4096 n) and counts calls. */
typedef struct {
    uintptr_t next;
    uint64_t allocs, frees, hinted_frees;
    uintptr_t last_freed;
    size_t last_size;
} counter_t;

static int c_alloc(void *st, const as_ctx_t *ctx, size_t size, size_t align,
                   as_block_t *out)
{
    (void)ctx;
    (void)align;
    counter_t *k = st;
    k->allocs++;
    k->last_size = size;
    *out = (as_block_t){k->next, size};
    k->next += 4096;
    return AS_OK;
}

static int c_free(void *st, const as_ctx_t *ctx, uintptr_t addr, size_t hint)
{
    (void)ctx;
    counter_t *k = st;
    k->frees++;
    if (hint) k->hinted_frees++;
    k->last_freed = addr;
    return AS_OK;
}

static void c_destroy(void *st)
{
    (void)st;
}

static const as_policy_ops_t counter_ops = {
    .name = "counter", .alloc = c_alloc, .free = c_free, .destroy = c_destroy};

#define BASE ((uintptr_t)1 << 32)

typedef struct {
    counter_t k;
    as_policy_ops_t ops;
    void *st;
} fixture_t;

static void open_layer(fixture_t *f)
{
    memset(f, 0, sizeof *f);
    f->k.next = BASE;
    CU_ASSERT_FATAL(as_tcache_layer_wrap_instance(&counter_ops, &f->k,
                                                  &as_host_mem, &f->ops,
                                                  &f->st) == AS_OK);
}

static uintptr_t alloc_on(fixture_t *f, uint32_t thread, size_t size)
{
    as_ctx_t ctx = {.thread = thread, .lifetime_class = AS_CLASS_NONE};
    as_block_t b = {0, 0};
    CU_ASSERT_EQUAL(f->ops.alloc(f->st, &ctx, size, 0, &b), AS_OK);
    return b.addr;
}

static int free_on(fixture_t *f, uint32_t thread, uintptr_t addr)
{
    as_ctx_t ctx = {.thread = thread, .lifetime_class = AS_CLASS_NONE};
    return f->ops.free(f->st, &ctx, addr, 100);
}

static void check_layer(fixture_t *f)
{
    char buf[256];
    as_msg_t why;
    as_msg_init(&why, buf, sizeof buf);
    int rc = f->ops.check(f->st, &why);
    CU_ASSERT_EQUAL(rc, AS_OK);
    if (rc != AS_OK) CU_FAIL(buf);
}

/* A producer (thread 1) allocates, a consumer (thread 2) frees: class 127
 * (2032 B, batch 4). */
static void test_layer_producer_consumer(void)
{
    static fixture_t f;
    open_layer(&f);
    uintptr_t p[12];
    /* 12 allocations: refills at the 1st, 5th and 9th, 4 blocks each; the
     * first block of each refill goes to the caller, the other three onto
     * the list and come back last placed first */
    for (int i = 0; i < 12; i++)
        p[i] = alloc_on(&f, 1, 2020); /* class 127 */
    CU_ASSERT_EQUAL(f.k.allocs, 12);
    CU_ASSERT_EQUAL(f.k.last_size, 2032);
    CU_ASSERT_EQUAL(p[0], BASE);
    CU_ASSERT_EQUAL(p[1], BASE + 3 * 4096);
    CU_ASSERT_EQUAL(p[2], BASE + 2 * 4096);
    CU_ASSERT_EQUAL(p[3], BASE + 1 * 4096);
    CU_ASSERT_EQUAL(p[4], BASE + 4 * 4096);
    const as_tcache_thread_t *t1 = as_tcache_layer_thread(f.st, 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(t1);
    CU_ASSERT_EQUAL(t1->refills, 3);
    CU_ASSERT_EQUAL(t1->hits, 9);
    CU_ASSERT_EQUAL(t1->xfer_misses, 3);
    CU_ASSERT_EQUAL(t1->max[127], 4 + 3 * 4);
    CU_ASSERT_EQUAL(t1->count[127], 0);
    CU_ASSERT_EQUAL(as_tcache_layer_entry(f.st, p[5]), 127);

    /* thread 2 frees all 12: its list (max 4) fills with p0..p3; the 5th
     * free overflows: p3, p2, p1, p0 go to the transfer cache as one chain
     * (max stays 4: it is batch(127)); p4..p7 fill the list again, the 9th
     * free sends p7, p6, p5, p4 as a second chain, p8..p11 stay */
    for (int i = 0; i < 12; i++)
        CU_ASSERT_EQUAL(free_on(&f, 2, p[i]), AS_OK);
    CU_ASSERT_EQUAL(f.k.frees, 0);
    const as_tcache_thread_t *t2 = as_tcache_layer_thread(f.st, 2);
    CU_ASSERT_PTR_NOT_NULL_FATAL(t2);
    CU_ASSERT_EQUAL(t2->count[127], 4);
    CU_ASSERT_EQUAL(t2->max[127], 4);
    CU_ASSERT_EQUAL(t2->flushes, 2);
    CU_ASSERT_EQUAL(as_tcache_layer_entry(f.st, p[0]), 127 | AS_TCACHE_CACHED);
    as_tcache_counters_t c;
    as_tcache_layer_counters(f.st, &c);
    CU_ASSERT_EQUAL(c.xfer_bytes, 2 * 4 * 2032);
    CU_ASSERT_EQUAL(c.cached_blocks, 4);
    CU_ASSERT_EQUAL(c.caches, 2);
    check_layer(&f);

    /* a double free is refused, and changes nothing */
    CU_ASSERT_EQUAL(free_on(&f, 2, p[0]), AS_EINVAL);
    CU_ASSERT_EQUAL(free_on(&f, 1, p[11]), AS_EINVAL);

    /* thread 1's next refill takes the newest chain: p7 to the caller,
     * then p4, p5, p6 from the list, without the policy; the one after
     * takes the older chain the same way */
    CU_ASSERT_EQUAL(alloc_on(&f, 1, 2032), p[7]);
    CU_ASSERT_EQUAL(alloc_on(&f, 1, 2032), p[4]);
    CU_ASSERT_EQUAL(alloc_on(&f, 1, 2032), p[5]);
    CU_ASSERT_EQUAL(alloc_on(&f, 1, 2032), p[6]);
    CU_ASSERT_EQUAL(f.k.allocs, 12);
    CU_ASSERT_EQUAL(t1->xfer_hits, 1);
    CU_ASSERT_EQUAL(t1->refills, 4);
    CU_ASSERT_EQUAL(t1->max[127], 20);
    CU_ASSERT_EQUAL(as_tcache_layer_entry(f.st, p[7]), 127);
    CU_ASSERT_EQUAL(alloc_on(&f, 1, 2032), p[3]);
    CU_ASSERT_EQUAL(alloc_on(&f, 1, 2032), p[0]);
    CU_ASSERT_EQUAL(alloc_on(&f, 1, 2032), p[1]);
    CU_ASSERT_EQUAL(alloc_on(&f, 1, 2032), p[2]);
    CU_ASSERT_EQUAL(t1->xfer_hits, 2);
    CU_ASSERT_EQUAL(t1->refills, 5);
    CU_ASSERT_EQUAL(t1->max[127], 24);
    CU_ASSERT_EQUAL(f.k.allocs, 12);
    /* the next one misses and asks the policy for a batch */
    CU_ASSERT_EQUAL(alloc_on(&f, 1, 2032), BASE + 12 * 4096);
    CU_ASSERT_EQUAL(f.k.allocs, 16);
    CU_ASSERT_EQUAL(t1->xfer_misses, 4);
    check_layer(&f);

    /* the counters as summary.json gets them */
    as_tcache_layer_counters(f.st, &c);
    CU_ASSERT_EQUAL(c.hits, 9 + 3 + 3);
    CU_ASSERT_EQUAL(c.refills, 6);
    CU_ASSERT_EQUAL(c.flushes, 2);
    CU_ASSERT_EQUAL(c.xfer_hits, 2);
    CU_ASSERT_EQUAL(c.xfer_misses, 4);
    CU_ASSERT_EQUAL(c.xfer_bytes, 0);
    CU_ASSERT_EQUAL(c.cached_blocks, 4 + 3);
    CU_ASSERT_EQUAL(c.cached_bytes, 7 * 2032);
    f.ops.destroy(f.st);
}

/* Give-backs to the transfer cache up to its bound, then to the policy;
 * and at the thread's byte limit. Class 127 again: a chain is 4 blocks of
 * 2032 B (8128 B), so 4 MiB holds 516 chains and not 517; 2 MiB is 1032
 * blocks (2097024 B) and not 1033. */
static void test_layer_give_back(void)
{
    static fixture_t f;
    open_layer(&f);
    /* thread 1 allocates N blocks, 518 refills of 4 from the policy */
    enum { N = 2072, M = 1040 };
    static uintptr_t p[N];
    for (int i = 0; i < N; i++)
        p[i] = alloc_on(&f, 1, 2032);
    CU_ASSERT_EQUAL(f.k.allocs, N);
    CU_ASSERT_EQUAL(as_tcache_layer_thread(f.st, 1)->refills, 518);
    /* thread 2 frees them. Its list stays at max 4 = batch(127): the k-th
     * overflow comes at free 4k + 1 and sends 4 blocks on as a chain. The
     * 517th (free 2069) finds the transfer cache full: its 4 blocks go to
     * the policy in one call; frees 2070-2072 fill the list to 4. */
    for (int i = 0; i < N; i++)
        CU_ASSERT_EQUAL(free_on(&f, 2, p[i]), AS_OK);
    const as_tcache_thread_t *t2 = as_tcache_layer_thread(f.st, 2);
    as_tcache_counters_t c;
    as_tcache_layer_counters(f.st, &c);
    CU_ASSERT_EQUAL(f.k.frees, 4);
    CU_ASSERT_EQUAL(t2->count[127], 4);
    CU_ASSERT_EQUAL(t2->max[127], 4);
    CU_ASSERT_EQUAL(t2->flushes, 517);
    CU_ASSERT_EQUAL(c.xfer_bytes, 516 * 4 * 2032);
    /* every block is on the list, in the transfer cache or back */
    CU_ASSERT_EQUAL(4 + 516 * 4 + f.k.frees, N);
    CU_ASSERT_EQUAL(f.k.hinted_frees, 0); /* the cache's frees carry no size */
    check_layer(&f);

    /* thread 3 takes M blocks: 260 refills, each a chain from the transfer
     * cache (max 4 + 260 * 4 = 1044), then frees them itself. Frees 1-1032
     * fill its list to 2 MiB; free 1033 would pass it: every list is
     * halved, 516 blocks go to the policy (17 calls of at most 32), max
     * 522, and the block goes on (517). Frees 1034-1038 make 522; free
     * 1039 overflows: 4 blocks go on as a chain (the transfer cache has
     * room again), max stays 522 (a first overage); free 1040 makes 520. */
    for (int i = 0; i < M; i++)
        p[i] = alloc_on(&f, 3, 2032);
    const as_tcache_thread_t *t3 = as_tcache_layer_thread(f.st, 3);
    CU_ASSERT_EQUAL(t3->refills, 260);
    CU_ASSERT_EQUAL(t3->xfer_hits, 260);
    CU_ASSERT_EQUAL(t3->max[127], 1044);
    CU_ASSERT_EQUAL(f.k.allocs, N);
    for (int i = 0; i < M; i++)
        CU_ASSERT_EQUAL(free_on(&f, 3, p[i]), AS_OK);
    as_tcache_layer_counters(f.st, &c);
    CU_ASSERT_EQUAL(f.k.frees, 4 + 516);
    CU_ASSERT_EQUAL(t3->count[127], 520);
    CU_ASSERT_EQUAL(t3->max[127], 522);
    CU_ASSERT_EQUAL(t3->overages[127], 1);
    CU_ASSERT_EQUAL(t3->bytes, 520 * 2032);
    CU_ASSERT_EQUAL(t3->flushes, 17 + 1);
    CU_ASSERT_EQUAL(c.xfer_bytes, (516 - 260 + 1) * 4 * 2032);
    CU_ASSERT_EQUAL(t3->max[1], 32); /* halved, but never below batch(1) */
    uint64_t frees = f.k.frees;
    check_layer(&f);

    /* a block the cache does not know goes straight to the policy, with
     * its size */
    uintptr_t big = alloc_on(&f, 1, 4096);
    CU_ASSERT_EQUAL(as_tcache_layer_entry(f.st, big), 0);
    CU_ASSERT_EQUAL(f.k.last_size, 4096);
    CU_ASSERT_EQUAL(free_on(&f, 1, big), AS_OK);
    CU_ASSERT_EQUAL(f.k.frees, frees + 1);
    CU_ASSERT_EQUAL(f.k.hinted_frees, 1);
    CU_ASSERT_EQUAL(f.k.last_freed, big);
    f.ops.destroy(f.st);
}

int main(void)
{
    static const as_test_t tests[] = {
        {"classes", test_classes},
        {"slow_start_and_trim", test_slow_start_and_trim},
        {"free_plan", test_free_plan},
        {"overages", test_overages},
        {"transfer_rules", test_transfer_rules},
        {"layer_producer_consumer", test_layer_producer_consumer},
        {"layer_give_back", test_layer_give_back},
        {NULL, NULL}};
    return as_test_main("policies_tcache", tests);
}

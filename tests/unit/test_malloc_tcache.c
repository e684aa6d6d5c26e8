/* test_malloc_tcache.c - the thread-cache layer (malloc/tcache.h) over the
 * tcmalloc policy on the mmap page source, with a statistics layer right
 * above the policy to count what reaches it: refills and flushes come in
 * batches of the sizes the header states, a freed block comes back first,
 * a double free is refused, a thread's exit gives every cached block back
 * (to the policy, or as whole batches to the transfer cache, from which
 * another thread's refill takes them without the policy),
 * the per-thread byte bound holds, and the check finds a listed block
 * the program holds and a count past its array.
 * Every figure follows from batch(c) = clamp(8192 / (16 c), 2, 32) and the
 * slow start max[c] = batch(c) + batch(c) per refill.
 */
#include <CUnit/CUnit.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "common/error.h"
#include "common/lifetime.h"
#include "malloc/lock.h"
#include "malloc/osmem.h"
#include "malloc/tcache.h"
#include "policies/layers/stats.h"
#include "tests/unit/tcache_testutil.h"
#include "tests/unit/testutil.h"

static as_osmem_t os;
static as_pagesource_t ps;
static as_policy_ops_t stats_ops;
static void *stats_state;
static as_lock_t lock;
static as_tcache_t tc; /* one layer per process */

static void setup(void)
{
    static int done;
    if (done) return;
    done = 1;
    as_osmem_init(&os, &ps);
    const as_policy_ops_t *pol = as_policy_find("tcmalloc");
    static as_param_value_t params[64];
    CU_ASSERT_FATAL(pol != NULL && pol->n_params <= 64);
    CU_ASSERT_EQUAL(as_param_defaults(pol->params, pol->n_params, params),
                    AS_OK);
    as_classes_t classes;
    as_classes_default(&classes);
    as_policy_config_t pc = {.ps = &ps,
                             .params = params,
                             .n_classes = classes.n,
                             .class_bounds_ns = classes.bound_ns};
    CU_ASSERT_FATAL(as_stats_wrap(pol, &pc, NULL, &stats_ops, &stats_state) ==
                    AS_OK);
    as_lock_wrap(&lock, &stats_ops, stats_state);
    CU_ASSERT_FATAL(as_tcache_wrap(&tc, &lock, as_test_ctx_zero) == AS_OK);
}

static as_stats_counters_t policy_counts(void)
{
    as_stats_counters_t c;
    as_stats_counters(stats_state, &c);
    return c;
}

/* malloc as malloc.c does it: the fast path, then the layer's hook */
static void *xmalloc(size_t n)
{
    return as_test_tcache_malloc(&tc, n);
}

static int xfree(void *p)
{
    return as_tcache_free(&tc, p);
}

static void check_ok(void)
{
    char buf[256];
    as_msg_t why;
    as_msg_init(&why, buf, sizeof buf);
    int rc = as_tcache_check(&tc, &why);
    CU_ASSERT_EQUAL(rc, AS_OK);
    if (rc != AS_OK) CU_FAIL(buf);
}

static void test_batches(void)
{
    setup();
    CU_ASSERT_EQUAL(as_tcache_batch(1), 32);
    CU_ASSERT_EQUAL(as_tcache_batch(7), 32);  /* 8192 / 112 = 73 -> 32 */
    CU_ASSERT_EQUAL(as_tcache_batch(32), 16); /* 8192 / 512 */
    CU_ASSERT_EQUAL(as_tcache_batch(127), 4); /* 8192 / 2032 = 4 */
    as_stats_counters_t before = policy_counts();

    /* 100 blocks of 100 B (class 7, 112 B): refills at the 1st, 33rd, 65th
     * and 97th: 128 blocks from the policy, 28 left cached */
    static void *p[100];
    for (int i = 0; i < 100; i++) {
        p[i] = xmalloc(100);
        CU_ASSERT_PTR_NOT_NULL_FATAL(p[i]);
        CU_ASSERT_EQUAL(as_tcache_entry(&tc, p[i]), 7);
        memset(p[i], 0xa5, 100);
    }
    as_stats_counters_t c = policy_counts();
    CU_ASSERT_EQUAL(c.allocs - before.allocs, 128);
    CU_ASSERT_EQUAL(c.frees - before.frees, 0);
    CU_ASSERT_EQUAL(c.live_requested_bytes - before.live_requested_bytes,
                    128 * 112);
    CU_ASSERT_EQUAL(tc.ops.usable_size(&tc, (uintptr_t)p[0]), 112);
    as_tcache_counters_t k;
    as_tcache_counters(&tc, &k);
    CU_ASSERT_EQUAL(k.caches, 1);
    CU_ASSERT_EQUAL(k.cached_blocks, 28);
    CU_ASSERT_EQUAL(k.cached_bytes, 28 * 112);
    CU_ASSERT_EQUAL(k.refills, 4);
    CU_ASSERT_EQUAL(k.hits, 96);
    CU_ASSERT_EQUAL(tc.live->core.max[7], 32 + 4 * 32);
    check_ok();

    /* free them all: 128 cached <= max 160, nothing reaches the policy */
    for (int i = 0; i < 100; i++)
        CU_ASSERT_EQUAL(xfree(p[i]), AS_OK);
    CU_ASSERT_EQUAL(as_tcache_entry(&tc, p[99]), 7 | AS_TCACHE_CACHED);
    CU_ASSERT_EQUAL(tc.ops.usable_size(&tc, (uintptr_t)p[99]), 0);
    CU_ASSERT_EQUAL(policy_counts().frees - before.frees, 0);
    as_tcache_counters(&tc, &k);
    CU_ASSERT_EQUAL(k.cached_blocks, 128);
    check_ok();

    /* a double free is refused, and leaves the cache as it was */
    CU_ASSERT_EQUAL(xfree(p[99]), AS_EINVAL);
    as_tcache_counters(&tc, &k);
    CU_ASSERT_EQUAL(k.cached_blocks, 128);

    /* LIFO: the last block freed is the next one handed out */
    void *q = xmalloc(97); /* class 7 too */
    CU_ASSERT_PTR_EQUAL(q, p[99]);
    CU_ASSERT_EQUAL(as_tcache_entry(&tc, q), 7);
    CU_ASSERT_EQUAL(xfree(q), AS_OK);

    /* the check finds a block on a list that the program holds (its map
     * entry says allocated), and a count over the list's capacity */
    void *held = xmalloc(97);
    CU_ASSERT_EQUAL(tc.live->core.count[7], 127);
    uintptr_t *slot = tc.live->stack[7].slot, keep = slot[0];
    slot[0] = (uintptr_t)held;
    char buf[256];
    as_msg_t why;
    as_msg_init(&why, buf, sizeof buf);
    CU_ASSERT_EQUAL(as_tcache_check(&tc, &why), AS_ECHECK);
    CU_ASSERT(strstr(buf, "a block of class 7 in a list has map entry 7") !=
              NULL);
    slot[0] = keep;
    uint32_t count = tc.live->core.count[7], max = tc.live->core.max[7];
    tc.live->core.count[7] = tc.live->core.max[7] = tc.live->stack[7].cap + 1;
    as_msg_init(&why, buf, sizeof buf);
    CU_ASSERT_EQUAL(as_tcache_check(&tc, &why), AS_ECHECK);
    CU_ASSERT(strstr(buf, "list of class 7 holds") != NULL);
    tc.live->core.count[7] = count;
    tc.live->core.max[7] = max;
    CU_ASSERT_EQUAL(xfree(held), AS_OK);
    check_ok();

    /* flushing the thread gives all 128 back, in batches of 32 */
    as_tcache_flush_thread(&tc);
    c = policy_counts();
    CU_ASSERT_EQUAL(c.frees - before.frees, 128);
    CU_ASSERT_EQUAL(c.live_requested_bytes, before.live_requested_bytes);
    CU_ASSERT_EQUAL(as_tcache_entry(&tc, p[0]), 0);
    as_tcache_counters(&tc, &k);
    CU_ASSERT_EQUAL(k.cached_blocks, 0);
    CU_ASSERT_EQUAL(k.flushes, 4);
    check_ok();
    CU_ASSERT_EQUAL(tc.live->core.max[7], 32); /* slow start again */
}

/* Large and over-aligned requests bypass the cache; so do frees of
 * addresses it does not know. */
static void test_bypass(void)
{
    setup();
    as_stats_counters_t before = policy_counts();
    void *big = xmalloc(AS_TCACHE_MAX_BYTES + 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(big);
    CU_ASSERT_EQUAL(as_tcache_entry(&tc, big), 0);
    as_ctx_t ctx;
    as_test_ctx_zero(&ctx);
    as_block_t b;
    CU_ASSERT_EQUAL(tc.ops.alloc(&tc, &ctx, 64, 4096, &b), AS_OK);
    CU_ASSERT_EQUAL(b.addr % 4096, 0);
    CU_ASSERT_EQUAL(as_tcache_entry(&tc, (void *)b.addr), 0);
    CU_ASSERT_EQUAL(policy_counts().allocs - before.allocs, 2);
    CU_ASSERT_EQUAL(xfree(big), AS_OK);
    CU_ASSERT_EQUAL(xfree((void *)b.addr), AS_OK);
    CU_ASSERT_EQUAL(policy_counts().frees - before.frees, 2);
    static char not_a_block[64];
    CU_ASSERT_EQUAL(xfree(not_a_block + 16), AS_EINVAL); /* the policy's */
}

/* A thread that frees what it allocated: its exit returns every block. */
static void *worker(void *arg)
{
    size_t n = (size_t)(uintptr_t)arg;
    void *p[3000];
    for (int i = 0; i < 3000; i++)
        p[i] = xmalloc(n);
    for (int i = 0; i < 3000; i++)
        xfree(p[i]);
    as_tcache_counters_t k;
    as_tcache_counters(&tc, &k);
    char buf[256];
    as_msg_t why;
    as_msg_init(&why, buf, sizeof buf);
    /* the main thread's cache is empty: these are the worker's bytes */
    return (void *)(uintptr_t)(k.cached_bytes > 0 &&
                               k.cached_bytes <= AS_TCACHE_THREAD_BYTES &&
                               as_tcache_check(&tc, &why) == AS_OK);
}

static void test_thread_exit(void)
{
    setup();
    as_tcache_flush_thread(&tc);
    as_stats_counters_t before = policy_counts();
    /* 3000 blocks of 2032 B (6 MB) overflow the 2 MiB bound: half of every
     * list goes back whenever a free would pass it */
    pthread_t th;
    CU_ASSERT_EQUAL(pthread_create(&th, NULL, worker, (void *)(uintptr_t)2032),
                    0);
    void *ok = NULL;
    pthread_join(th, &ok);
    CU_ASSERT_PTR_EQUAL(ok, (void *)1);
    as_stats_counters_t c = policy_counts();
    CU_ASSERT(c.allocs - before.allocs >= 3000);
    as_tcache_counters_t k;
    as_tcache_counters(&tc, &k);
    CU_ASSERT_EQUAL(k.caches, 1); /* the worker's record is spare again */
    CU_ASSERT_EQUAL(k.cached_blocks, 0);
    /* what the policy still holds is exactly the transfer cache: chains of
     * batch(127) = 4 blocks that overflowing lists gave back */
    uint64_t held = (c.allocs - before.allocs) - (c.frees - before.frees);
    CU_ASSERT(k.xfer_bytes > 0 && k.xfer_bytes <= AS_TCACHE_XFER_BYTES);
    CU_ASSERT_EQUAL(k.xfer_bytes, held * 2032);
    CU_ASSERT_EQUAL(held % 4, 0);
    CU_ASSERT_EQUAL(c.live_blocks, before.live_blocks + held);
    check_ok();

    /* another thread's refill takes a whole chain: no policy call */
    void *p = xmalloc(2032);
    CU_ASSERT_PTR_NOT_NULL(p);
    CU_ASSERT_EQUAL(policy_counts().allocs, c.allocs);
    as_tcache_counters(&tc, &k);
    CU_ASSERT_EQUAL(k.xfer_bytes, (held - 4) * 2032);
    CU_ASSERT_EQUAL(k.cached_blocks, 3);
    CU_ASSERT_EQUAL(as_tcache_entry(&tc, p), 127);
    check_ok();
    CU_ASSERT_EQUAL(xfree(p), AS_OK);
}

int main(void)
{
    static const as_test_t tests[] = {{"batches", test_batches},
                                      {"bypass", test_bypass},
                                      {"thread_exit", test_thread_exit},
                                      {NULL, NULL}};
    return as_test_main("malloc_tcache", tests);
}

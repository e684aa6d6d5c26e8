/* test_malloc_flatmap.c - the thread-cache layer's flat block map
 * (as_tcache_flat, malloc/tcache.h) at its edges. A scripted policy below
 * the lock layer hands out the addresses the test chooses, in order: the
 * first and the last granule of the flat span, the granules just past its
 * end and just before its start (both in the general map), then granules
 * inside the span. The cache never touches a block's memory, so the span
 * is a PROT_NONE reservation of the test's own. Asserted exactly: where
 * each entry lives (the flat array's bytes are counted directly), the
 * class and cached mark of each, that a double free of a block in either
 * part is refused before the policy, that frees of foreign and misaligned
 * addresses (in the span and outside it) reach the policy, which refuses
 * them, and that a flush clears every entry. batch(1) = 32 (tcache_core.h:
 * clamp(8192 / 16, 2, 32)), so a 16-byte malloc on an empty list takes 32
 * blocks from the policy: the first to the program, 31 onto the list.
 */
#include <CUnit/CUnit.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

#include "common/error.h"
#include "common/lifetime.h"
#include "malloc/lock.h"
#include "malloc/tcache.h"
#include "tests/unit/tcache_testutil.h"
#include "tests/unit/testutil.h"

#define SPAN_BYTES ((size_t)256 << 10) /* the flat part: 16384 entries */
#define AREA_BYTES ((size_t)1 << 20)   /* the test's reservation */
#define SCRIPT_N 32

/* --- the scripted policy ---------------------------------------------- */

typedef struct {
    uintptr_t addr[SCRIPT_N]; /* handed out in this order */
    int live[SCRIPT_N];       /* held by the layer or the program */
    unsigned next;            /* the next address to hand out */
    unsigned allocs, frees, refused;
} script_t;

static script_t script;

static int sp_alloc(void *st, const as_ctx_t *ctx, size_t size, size_t align,
                    as_block_t *out)
{
    script_t *s = st;
    (void)ctx;
    (void)align;
    if (s->next == SCRIPT_N) return AS_ENOMEM;
    s->live[s->next] = 1;
    s->allocs++;
    *out = (as_block_t){s->addr[s->next++], size};
    return AS_OK;
}

static int sp_free(void *st, const as_ctx_t *ctx, uintptr_t addr,
                   size_t size_hint)
{
    script_t *s = st;
    (void)ctx;
    (void)size_hint;
    for (unsigned i = 0; i < s->next; i++)
        if (s->addr[i] == addr && s->live[i]) {
            s->live[i] = 0;
            s->frees++;
            return AS_OK;
        }
    s->refused++;
    return AS_EINVAL;
}

static size_t sp_usable(void *st, uintptr_t addr)
{
    (void)st;
    (void)addr;
    return 0;
}

static uint64_t sp_tick(void *st, const as_ctx_t *ctx)
{
    (void)st;
    (void)ctx;
    return 0;
}

static void sp_stats(void *st, as_stat_fn fn, void *arg)
{
    (void)st;
    (void)fn;
    (void)arg;
}

static void sp_destroy(void *st)
{
    (void)st;
}

static int sp_check(const void *st, as_msg_t *why)
{
    (void)st;
    (void)why;
    return AS_OK;
}

static const as_policy_ops_t script_ops = {
    .name = "script",
    .doc = "hands out the test's addresses",
    .alloc = sp_alloc,
    .free = sp_free,
    .usable_size = sp_usable,
    .tick = sp_tick,
    .stats = sp_stats,
    .destroy = sp_destroy,
    .check = sp_check,
};

/* --- the layer ----------------------------------------------------------- */

static as_lock_t lock;
static as_tcache_t tc; /* one layer per process */

static void *xmalloc(size_t n)
{
    return as_test_tcache_malloc(&tc, n);
}

/* Non-zero bytes of the flat array: the entries of blocks in the span. */
static unsigned flat_entries(void)
{
    unsigned n = 0;
    for (size_t i = 0; i < SPAN_BYTES / AS_TCACHE_GRANULE_BYTES; i++)
        n += tc.flat[i] != 0;
    return n;
}

static void test_edges(void)
{
    const uintptr_t g = AS_TCACHE_GRANULE_BYTES;
    void *area = mmap(NULL, AREA_BYTES, PROT_NONE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    CU_ASSERT_FATAL(area != MAP_FAILED);
    /* the span: 256 KiB from 64 KiB into the area, so both neighbours of
     * it are the test's address space too */
    uintptr_t s = (uintptr_t)area + ((size_t)64 << 10);
    uintptr_t e = s + SPAN_BYTES;

    as_lock_wrap(&lock, &script_ops, &script);
    CU_ASSERT_FATAL(as_tcache_wrap(&tc, &lock, as_test_ctx_zero) == AS_OK);
    CU_ASSERT_EQUAL(as_tcache_flat(&tc, s + 8, SPAN_BYTES), AS_EINVAL);
    CU_ASSERT_EQUAL(as_tcache_flat(&tc, s, SPAN_BYTES - 8), AS_EINVAL);
    CU_ASSERT_EQUAL(as_tcache_flat(&tc, s, 0), AS_EINVAL);
    CU_ASSERT_PTR_NULL(tc.flat);
    CU_ASSERT_EQUAL_FATAL(as_tcache_flat(&tc, s, SPAN_BYTES), AS_OK);
    CU_ASSERT_EQUAL(tc.flat_start, s);
    CU_ASSERT_EQUAL(tc.flat_bytes, SPAN_BYTES);
    CU_ASSERT_EQUAL(as_tcache_flat(&tc, s, SPAN_BYTES), AS_EINVAL); /* once */

    /* the script: first and last granule of the span, the granule at its
     * end and the one before its start, then 28 granules from s + 1 KiB */
    script.addr[0] = s;
    script.addr[1] = e - g;
    script.addr[2] = e;
    script.addr[3] = s - g;
    for (unsigned i = 4; i < SCRIPT_N; i++)
        script.addr[i] = s + 1024 + (i - 4) * g;

    /* one 16-byte malloc: a refill of 32 blocks, the first to the program */
    void *p = xmalloc(16);
    CU_ASSERT_EQUAL(script.allocs, 32);
    CU_ASSERT_PTR_EQUAL(p, (void *)s);
    const unsigned cached = 1 | AS_TCACHE_CACHED;
    CU_ASSERT_EQUAL(as_tcache_entry(&tc, (void *)s), 1);
    CU_ASSERT_EQUAL(as_tcache_entry(&tc, (void *)(e - g)), cached);
    CU_ASSERT_EQUAL(as_tcache_entry(&tc, (void *)e), cached);
    CU_ASSERT_EQUAL(as_tcache_entry(&tc, (void *)(s - g)), cached);
    CU_ASSERT_EQUAL(as_tcache_entry(&tc, (void *)(s + 1024)), cached);
    CU_ASSERT_EQUAL(as_tcache_entry(&tc, (void *)(s + g)), 0); /* none */
    CU_ASSERT_EQUAL(as_tcache_entry(&tc, (void *)(s + 8)), 0); /* not a start */
    /* the span's 30 blocks are in the flat array, at their indices; e and
     * s - g, outside it, are found in the general map */
    CU_ASSERT_EQUAL(tc.flat[0], 1);
    CU_ASSERT_EQUAL(tc.flat[SPAN_BYTES / g - 1], cached);
    CU_ASSERT_EQUAL(tc.flat[1024 / g], cached);
    CU_ASSERT_EQUAL(flat_entries(), 30);
    CU_ASSERT_EQUAL(tc.ops.usable_size(&tc, s), 16);
    CU_ASSERT_EQUAL(tc.ops.usable_size(&tc, e), 0); /* cached: free */

    /* a double free of a cached block, in the span (both edges) or out of
     * it: refused by the map, the policy never sees it */
    CU_ASSERT_EQUAL(as_tcache_free(&tc, (void *)(e - g)), AS_EINVAL);
    CU_ASSERT_EQUAL(as_tcache_free(&tc, (void *)e), AS_EINVAL);
    CU_ASSERT_EQUAL(as_tcache_free(&tc, (void *)(s - g)), AS_EINVAL);
    CU_ASSERT_EQUAL(script.frees + script.refused, 0);
    /* the program's block, freed twice: the second is refused */
    CU_ASSERT_EQUAL(as_tcache_free(&tc, p), AS_OK);
    CU_ASSERT_EQUAL(tc.flat[0], cached);
    CU_ASSERT_EQUAL(as_tcache_free(&tc, p), AS_EINVAL);
    CU_ASSERT_EQUAL(script.frees + script.refused, 0);

    /* foreign addresses: a granule of the span that is no block, a
     * misaligned one, one past the span and one past the area's general-
     * map leaf: each goes to the policy, which refuses it */
    CU_ASSERT_EQUAL(as_tcache_free(&tc, (void *)(s + g)), AS_EINVAL);
    CU_ASSERT_EQUAL(as_tcache_free(&tc, (void *)(s + 8)), AS_EINVAL);
    CU_ASSERT_EQUAL(as_tcache_free(&tc, (void *)(e + g)), AS_EINVAL);
    CU_ASSERT_EQUAL(as_tcache_free(&tc, (void *)((uintptr_t)area + 4096)),
                    AS_EINVAL);
    CU_ASSERT_EQUAL(script.refused, 4);
    CU_ASSERT_EQUAL(script.frees, 0);
    CU_ASSERT_EQUAL(flat_entries(), 30); /* nothing written */

    /* the list's top is the last block pushed (s + 1024 + 27 g) and the
     * head of the refill comes back first after its free: pop 32 and
     * every entry reads "held", in both parts */
    void *got[32];
    for (unsigned i = 0; i < 32; i++)
        got[i] = xmalloc(16);
    CU_ASSERT_EQUAL(script.allocs, 32); /* all from the list */
    CU_ASSERT_PTR_EQUAL(got[0], (void *)s);
    CU_ASSERT_PTR_EQUAL(got[1], (void *)(s + 1024 + 27 * g));
    CU_ASSERT_PTR_EQUAL(got[31], (void *)(e - g));
    CU_ASSERT_PTR_EQUAL(got[30], (void *)e);
    CU_ASSERT_PTR_EQUAL(got[29], (void *)(s - g));
    CU_ASSERT_EQUAL(as_tcache_entry(&tc, (void *)e), 1);
    CU_ASSERT_EQUAL(as_tcache_entry(&tc, (void *)(s - g)), 1);
    CU_ASSERT_EQUAL(tc.flat[SPAN_BYTES / g - 1], 1);

    /* free them all and flush: every block back to the policy, every
     * entry cleared */
    for (unsigned i = 0; i < 32; i++)
        CU_ASSERT_EQUAL(as_tcache_free(&tc, got[i]), AS_OK);
    CU_ASSERT_EQUAL(as_tcache_entry(&tc, (void *)e), cached);
    as_tcache_flush_thread(&tc);
    CU_ASSERT_EQUAL(script.frees, 32);
    CU_ASSERT_EQUAL(script.refused, 4);
    CU_ASSERT_EQUAL(flat_entries(), 0);
    CU_ASSERT_EQUAL(as_tcache_entry(&tc, (void *)e), 0);
    CU_ASSERT_EQUAL(as_tcache_entry(&tc, (void *)(s - g)), 0);
    /* a block the policy has back is foreign to the cache now */
    CU_ASSERT_EQUAL(as_tcache_free(&tc, (void *)e), AS_EINVAL);
    CU_ASSERT_EQUAL(script.refused, 5);
}

int main(void)
{
    static const as_test_t tests[] = {{"edges", test_edges}, {NULL, NULL}};
    return as_test_main("malloc_flatmap", tests);
}

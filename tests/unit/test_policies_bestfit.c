/* test_policies_bestfit.c - known answers for the `bestfit` policy.
 *
 * Every address below is computed by hand from the policy's rules (see
 * docs/policies/bestfit.md) over a tiny fake page source: a bump-pointer
 * address space starting at FAKE_BASE that grants a hint only when it equals
 * the bump pointer (optionally never; a refused hint leaves a one-page gap),
 * and calloc'd metadata with a byte count. Blocks are rounded to 16 bytes;
 * default growth and trim threshold are 128 KiB; pages are 4 KiB.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policies/bestfit/bestfit.h"
#include "policies/layers/check.h"
#include "sim/simos.h"
#include "common/rng.h"
#include "tests/unit/testutil.h"

#define FAKE_BASE ((uintptr_t)0x10000000)
#define K 1024u

typedef struct {
    uintptr_t bump;        /* next free address */
    int deny_hints;        /* 1: never grant a hint */
    uint64_t mapped, meta; /* bytes */
    uint64_t reserves, unreserves, releases;
    uintptr_t last_unreserve, last_release;
    size_t last_unreserve_bytes, last_release_bytes;
} fake_t;

static int fake_reserve(void *s, uintptr_t hint, size_t bytes, size_t align,
                        uintptr_t *addr)
{
    fake_t *f = s;
    uintptr_t at = hint ? f->bump + 4096 : f->bump; /* refused: skip a page */
    uintptr_t a = (hint && hint == f->bump && !f->deny_hints)
                      ? hint
                      : ((at + align - 1) & ~(uintptr_t)(align - 1));
    f->bump = a + bytes;
    f->mapped += bytes;
    f->reserves++;
    *addr = a;
    return 0;
}

static int fake_release(void *s, uintptr_t addr, size_t bytes)
{
    fake_t *f = s;
    f->releases++;
    f->last_release = addr;
    f->last_release_bytes = bytes;
    return 0;
}

static int fake_unreserve(void *s, uintptr_t addr, size_t bytes)
{
    fake_t *f = s;
    f->mapped -= bytes;
    f->unreserves++;
    f->last_unreserve = addr;
    f->last_unreserve_bytes = bytes;
    return 0;
}

static void *fake_meta_alloc(void *s, size_t bytes)
{
    ((fake_t *)s)->meta += bytes;
    return calloc(1, bytes);
}

static void fake_meta_free(void *s, void *p, size_t bytes)
{
    ((fake_t *)s)->meta -= bytes;
    free(p);
}

static const as_pagesource_ops_t fake_ops = {fake_reserve, fake_release,
                                             fake_unreserve, NULL};

typedef struct {
    fake_t os;
    as_pagesource_t ps;
    as_param_value_t params[AS_BESTFIT_N_PARAMS];
    void *st;
} fixture_t;

/* Set up the fake OS and a bestfit instance with `assign` ("name=value"
 * strings, NULL-terminated, may be NULL). */
static void setup(fixture_t *fx, const char *const *assign)
{
    memset(fx, 0, sizeof *fx);
    fx->os.bump = FAKE_BASE;
    fx->ps = (as_pagesource_t){&fake_ops,
                               &fx->os,
                               {fake_meta_alloc, fake_meta_free, &fx->os},
                               4096,
                               2 * 1024 * 1024};
    const as_policy_ops_t *p = &as_policy_bestfit;
    CU_ASSERT_EQUAL_FATAL(as_param_defaults(p->params, p->n_params, fx->params),
                          0);
    for (; assign && *assign; assign++)
        CU_ASSERT_EQUAL_FATAL(
            as_param_set(p->params, p->n_params, fx->params, *assign), 0);
    as_policy_config_t cfg = {&fx->ps, fx->params, 1, NULL, NULL};
    CU_ASSERT_EQUAL_FATAL(p->create(&cfg, &fx->st), 0);
}

static void teardown(fixture_t *fx)
{
    CU_ASSERT_EQUAL(as_bestfit_check(fx->st), 0);
    as_policy_bestfit.destroy(fx->st);
    CU_ASSERT_EQUAL(fx->os.mapped, 0);
    CU_ASSERT_EQUAL(fx->os.meta, 0);
}

static const as_ctx_t ctx0 = {0, 0, 0, AS_CLASS_NONE, 0};

static uintptr_t A(fixture_t *fx, size_t size, size_t align)
{
    as_block_t b = {0, 0};
    CU_ASSERT_EQUAL(as_policy_bestfit.alloc(fx->st, &ctx0, size, align, &b), 0);
    CU_ASSERT_EQUAL(as_bestfit_check(fx->st), 0);
    return b.addr;
}

static void F(fixture_t *fx, uintptr_t addr, size_t hint)
{
    CU_ASSERT_EQUAL(as_policy_bestfit.free(fx->st, &ctx0, addr, hint), 0);
    CU_ASSERT_EQUAL(as_bestfit_check(fx->st), 0);
}

typedef struct {
    double segments, heap_bytes, free_blocks, free_bytes, largest, trims,
        releases;
} stats_t;

static void stat_sink(void *arg, const char *name, double v)
{
    stats_t *s = arg;
    if (!strcmp(name, "segments")) s->segments = v;
    if (!strcmp(name, "heap_bytes")) s->heap_bytes = v;
    if (!strcmp(name, "free_blocks")) s->free_blocks = v;
    if (!strcmp(name, "free_bytes")) s->free_bytes = v;
    if (!strcmp(name, "largest_free_block_bytes")) s->largest = v;
    if (!strcmp(name, "trims")) s->trims = v;
    if (!strcmp(name, "releases")) s->releases = v;
}

static stats_t stats(fixture_t *fx)
{
    stats_t s;
    memset(&s, 0, sizeof s);
    as_policy_bestfit.stats(fx->st, stat_sink, &s);
    return s;
}

/* The map of allocated blocks (start -> bytes) costs a 16-byte slot per
 * block in a table filled to 3/4 before it doubles: after the first
 * 16-byte block, 1199 more carved from the same free block (1200 keys:
 * above 768 = 3/4 of 1024 slots, within 1536 = 3/4 of 2048) take a
 * 2048-slot table in place of the first 16-slot one, (2048 - 16) x 16 =
 * 32512 bytes more, and nothing else grows. Half full, it would need 4096
 * slots: 65280 bytes more. */
static void test_alloc_map_bytes(void)
{
    fixture_t fx;
    setup(&fx, NULL);
    uintptr_t first = A(&fx, 16, 0);
    uint64_t m1 = fx.os.meta;
    for (uintptr_t i = 1; i < 1200; i++)
        CU_ASSERT_EQUAL(A(&fx, 16, 0), first + 16 * i);
    CU_ASSERT_EQUAL(fx.os.meta - m1, (2048 - 16) * 16);
    CU_ASSERT_EQUAL(fx.os.reserves, 1);
    for (uintptr_t i = 0; i < 1200; i++)
        F(&fx, first + 16 * i, 16);
    teardown(&fx);
}

/* Three allocations, free the middle one: a smaller request reuses its
 * address, and the rest of the hole stays free. */
static void test_reuse_middle(void)
{
    fixture_t fx;
    setup(&fx, NULL);
    uintptr_t a = A(&fx, 100, 0), b = A(&fx, 200, 0), c = A(&fx, 300, 0);
    CU_ASSERT_EQUAL(a, FAKE_BASE);
    CU_ASSERT_EQUAL(b, FAKE_BASE + 112);       /* 100 -> 112 */
    CU_ASSERT_EQUAL(c, FAKE_BASE + 112 + 208); /* 200 -> 208 */
    stats_t s = stats(&fx);
    CU_ASSERT_EQUAL(s.heap_bytes, 128 * K);
    CU_ASSERT_EQUAL(s.free_blocks, 1);
    CU_ASSERT_EQUAL(s.free_bytes, 128 * K - 112 - 208 - 304);
    F(&fx, b, 200);
    uintptr_t d = A(&fx, 150, 0); /* 160 bytes: the 208-byte hole fits best */
    CU_ASSERT_EQUAL(d, b);
    s = stats(&fx);
    CU_ASSERT_EQUAL(s.free_blocks, 2); /* [b+160, 48) and the top */
    CU_ASSERT_EQUAL(s.free_bytes, 128 * K - 112 - 160 - 304);
    CU_ASSERT_EQUAL(as_policy_bestfit.usable_size(fx.st, d), 160);
    uintptr_t e = A(&fx, 40, 0); /* 48 bytes: exactly the rest of the hole */
    CU_ASSERT_EQUAL(e, b + 160);
    CU_ASSERT_EQUAL(stats(&fx).free_blocks, 1);
    teardown(&fx);
}

/* Three adjacent frees coalesce into one block, whichever order. */
static void test_coalesce_three(void)
{
    fixture_t fx;
    setup(&fx, NULL);
    uintptr_t a = A(&fx, 64, 0), b = A(&fx, 64, 0), c = A(&fx, 64, 0);
    uintptr_t d = A(&fx, 64, 0);
    CU_ASSERT_EQUAL(d, FAKE_BASE + 192);
    F(&fx, a, 0); /* size_hint 0: the policy knows the size */
    F(&fx, c, 64);
    CU_ASSERT_EQUAL(stats(&fx).free_blocks, 3); /* a, c, top */
    F(&fx, b, 0); /* joins a (before) and c (after) */
    stats_t s = stats(&fx);
    CU_ASSERT_EQUAL(s.free_blocks, 2);
    CU_ASSERT_EQUAL(s.free_bytes, 128 * K - 64);
    /* a 192-byte request fits the merged block exactly, not the top */
    CU_ASSERT_EQUAL(A(&fx, 192, 0), FAKE_BASE);
    CU_ASSERT_EQUAL(stats(&fx).free_blocks, 1);
    /* freeing d joins the top block: the heap is one free block again */
    F(&fx, d, 0);
    F(&fx, FAKE_BASE, 0);
    s = stats(&fx);
    CU_ASSERT_EQUAL(s.free_blocks, 1);
    CU_ASSERT_EQUAL(s.free_bytes, 128 * K);
    CU_ASSERT_EQUAL(s.largest, 128 * K);
    teardown(&fx);
}

/* Best fit takes the smallest block that fits, not the first. */
static void test_best_not_first(void)
{
    fixture_t fx;
    setup(&fx, NULL);
    uintptr_t x1 = A(&fx, 512, 0);
    A(&fx, 16, 0);
    uintptr_t x2 = A(&fx, 128, 0);
    A(&fx, 16, 0);
    uintptr_t x3 = A(&fx, 256, 0);
    A(&fx, 16, 0);
    CU_ASSERT_EQUAL(x2, FAKE_BASE + 528);
    CU_ASSERT_EQUAL(x3, FAKE_BASE + 672);
    F(&fx, x1, 0);
    F(&fx, x2, 0);
    F(&fx, x3, 0);
    /* free: 512 @0, 128 @528, 256 @672, top. First fit would give 0. */
    CU_ASSERT_EQUAL(A(&fx, 200, 0), x3); /* 208 <= 256 */
    CU_ASSERT_EQUAL(A(&fx, 100, 0), x2); /* 112 <= 128 */
    /* left: 512 @0, 16 @640, 48 @880: 16 bytes go to the 16-byte block */
    CU_ASSERT_EQUAL(A(&fx, 1, 0), FAKE_BASE + 640);
    CU_ASSERT_EQUAL(A(&fx, 33, 0), FAKE_BASE + 880);
    CU_ASSERT_EQUAL(A(&fx, 300, 0), FAKE_BASE); /* only the 512 fits below */
    teardown(&fx);
}

/* Among equal sizes the lowest address wins, whatever the free order. */
static void test_lowest_address_among_equals(void)
{
    fixture_t fx;
    setup(&fx, NULL);
    uintptr_t p[6];
    for (int i = 0; i < 6; i++)
        p[i] = A(&fx, 64, 0);
    F(&fx, p[4], 0);
    F(&fx, p[0], 0);
    F(&fx, p[2], 0);
    CU_ASSERT_EQUAL(A(&fx, 64, 0), p[0]);
    CU_ASSERT_EQUAL(A(&fx, 48, 0), p[2]);
    CU_ASSERT_EQUAL(A(&fx, 64, 0), p[4]);
    teardown(&fx);
}

/* The heap grows in place with the old end as hint; a big free at the top
 * gives whole pages back once it exceeds the trim threshold. */
static void test_grow_and_trim(void)
{
    fixture_t fx;
    setup(&fx, NULL);
    uintptr_t a = A(&fx, 100 * K, 0);
    CU_ASSERT_EQUAL(a, FAKE_BASE);
    uintptr_t b = A(&fx, 200 * K, 0); /* top has 28K: grow by 172K */
    CU_ASSERT_EQUAL(b, FAKE_BASE + 100 * K);
    stats_t s = stats(&fx);
    CU_ASSERT_EQUAL(s.segments, 1);
    CU_ASSERT_EQUAL(s.heap_bytes, 300 * K);
    CU_ASSERT_EQUAL(s.free_blocks, 0);
    CU_ASSERT_EQUAL(fx.os.reserves, 2);
    F(&fx, b, 0); /* top block 200K > 128K: unreserve it */
    CU_ASSERT_EQUAL(fx.os.unreserves, 1);
    CU_ASSERT_EQUAL(fx.os.last_unreserve, FAKE_BASE + 100 * K);
    CU_ASSERT_EQUAL(fx.os.last_unreserve_bytes, 200 * K);
    s = stats(&fx);
    CU_ASSERT_EQUAL(s.heap_bytes, 100 * K);
    CU_ASSERT_EQUAL(s.trims, 1);
    CU_ASSERT_EQUAL(s.free_blocks, 0);
    CU_ASSERT_EQUAL(fx.os.mapped, 100 * K);
    F(&fx, a, 0); /* 100K free: below the threshold, kept */
    CU_ASSERT_EQUAL(fx.os.unreserves, 1);
    CU_ASSERT_EQUAL(stats(&fx).heap_bytes, 100 * K);
    teardown(&fx);

    /* Threshold 64K: the whole segment goes back, and the next request
     * reserves again at the same place. */
    const char *low[] = {"trim_threshold=64K", NULL};
    setup(&fx, low);
    a = A(&fx, 100 * K, 0);
    F(&fx, a, 0);
    CU_ASSERT_EQUAL(fx.os.last_unreserve, FAKE_BASE);
    CU_ASSERT_EQUAL(fx.os.last_unreserve_bytes, 128 * K);
    CU_ASSERT_EQUAL(stats(&fx).segments, 0);
    CU_ASSERT_EQUAL(fx.os.mapped, 0);
    teardown(&fx);

    /* Trim keeps the partial page below the cut and top_pad bytes. */
    const char *pad[] = {"top_pad=8K", NULL};
    setup(&fx, pad);
    a = A(&fx, 1000, 0); /* 1008 bytes */
    b = A(&fx, 200 * K, 0);
    CU_ASSERT_EQUAL(b, FAKE_BASE + 1008);
    F(&fx, b, 0); /* free [1008, end): cut at align_up(1008 + 8K) = 12K */
    CU_ASSERT_EQUAL(fx.os.last_unreserve, FAKE_BASE + 12 * K);
    s = stats(&fx);
    CU_ASSERT_EQUAL(s.heap_bytes, 12 * K);
    CU_ASSERT_EQUAL(s.free_bytes, 12 * K - 1008);
    teardown(&fx);
}

/* When the page source refuses the hint, the heap gets a second segment and
 * blocks never coalesce across segments. */
static void test_segments(void)
{
    fixture_t fx;
    setup(&fx, NULL);
    fx.os.deny_hints = 1;
    uintptr_t a = A(&fx, 100 * K, 0);
    CU_ASSERT_EQUAL(a, FAKE_BASE);
    uintptr_t b = A(&fx, 100 * K, 0);
    /* first try (hint refused) is returned, then a fresh 128K segment */
    CU_ASSERT_EQUAL(fx.os.unreserves, 1);
    /* 128K first segment, 4K gap + 128K refused try (returned), 4K gap */
    CU_ASSERT_EQUAL(b, FAKE_BASE + 2 * 4096 + 256 * K);
    stats_t s = stats(&fx);
    CU_ASSERT_EQUAL(s.segments, 2);
    CU_ASSERT_EQUAL(s.heap_bytes, 256 * K);
    F(&fx, a, 0);
    F(&fx, b, 0);
    s = stats(&fx);
    CU_ASSERT_EQUAL(s.free_blocks, 2); /* one per segment, not merged */
    CU_ASSERT_EQUAL(s.free_bytes, 256 * K);
    CU_ASSERT_EQUAL(s.largest, 128 * K);
    teardown(&fx);
}

/* bestfit over the simulated OS in each mmap layout, 200 KiB requests
 * (defaults: growth 128 KiB, so each segment is exactly one block; trim
 * threshold 128 KiB). M = mmap_base = 0x7ffff7fff000, the top of the
 * top-down space, so a hint at a segment's end is never free unless that
 * segment's upper neighbour was unmapped:
 *   a: S1 = [M-200K, M)
 *   b: hint M refused -> the try lands at M-400K and is returned; new
 *      segment S2 = [M-400K, M-200K)
 *   c: the same below: S3 = [M-600K, M-400K)          3 segments
 *   free b: S2 is one free block of 200K > 128K: unmapped  2 segments
 *   d: S3's hint (its end, M-400K) is free now: S3 grows in place to
 *      [M-600K, M-200K), d = M-400K                     2 segments
 * Bottom-up (from base B): every hint is granted, one segment [B, B+600K)
 * throughout; freeing b leaves a free block in its middle, not trimmed. */
static void run_layout(as_mmap_layout_t layout, double segs[5],
                       uintptr_t addr[4], uint64_t mapped[5])
{
    as_simos_config_t oc;
    as_simos_config_default(&oc);
    oc.thp = AS_THP_NEVER;
    oc.mmap_layout = layout;
    as_simos_t *os = NULL;
    CU_ASSERT_FATAL(as_simos_create(&oc, &os) == 0);
    fixture_t fx;
    memset(&fx, 0, sizeof fx);
    const as_policy_ops_t *p = &as_policy_bestfit;
    CU_ASSERT_EQUAL_FATAL(as_param_defaults(p->params, p->n_params, fx.params),
                          0);
    as_policy_config_t cfg = {as_simos_pagesource(os), fx.params, 1, NULL,
                              NULL};
    CU_ASSERT_EQUAL_FATAL(p->create(&cfg, &fx.st), 0);
    addr[0] = A(&fx, 200 * K, 0);
    segs[0] = stats(&fx).segments;
    mapped[0] = as_simos_counters(os)->mapped_bytes;
    addr[1] = A(&fx, 200 * K, 0);
    segs[1] = stats(&fx).segments;
    mapped[1] = as_simos_counters(os)->mapped_bytes;
    addr[2] = A(&fx, 200 * K, 0);
    segs[2] = stats(&fx).segments;
    mapped[2] = as_simos_counters(os)->mapped_bytes;
    F(&fx, addr[1], 0);
    segs[3] = stats(&fx).segments;
    mapped[3] = as_simos_counters(os)->mapped_bytes;
    addr[3] = A(&fx, 200 * K, 0);
    segs[4] = stats(&fx).segments;
    mapped[4] = as_simos_counters(os)->mapped_bytes;
    p->destroy(fx.st);
    CU_ASSERT_EQUAL(as_simos_counters(os)->mapped_bytes, 0);
    as_simos_destroy(os);
}

static void test_mmap_layouts(void)
{
    const uintptr_t M = 0x7ffff7fff000ull, B = 0x100000000000ull;
    double s[5];
    uintptr_t a[4];
    uint64_t m[5];
    run_layout(AS_MMAP_TOPDOWN, s, a, m);
    CU_ASSERT_EQUAL(a[0], M - 200 * K);
    CU_ASSERT_EQUAL(a[1], M - 400 * K);
    CU_ASSERT_EQUAL(a[2], M - 600 * K);
    CU_ASSERT_EQUAL(a[3], M - 400 * K);
    CU_ASSERT_EQUAL(s[0], 1);
    CU_ASSERT_EQUAL(s[1], 2);
    CU_ASSERT_EQUAL(s[2], 3);
    CU_ASSERT_EQUAL(s[3], 2);
    CU_ASSERT_EQUAL(s[4], 2);
    CU_ASSERT_EQUAL(m[2], 600 * K);
    CU_ASSERT_EQUAL(m[3], 400 * K);
    CU_ASSERT_EQUAL(m[4], 600 * K);
    run_layout(AS_MMAP_BOTTOMUP, s, a, m);
    CU_ASSERT_EQUAL(a[0], B);
    CU_ASSERT_EQUAL(a[1], B + 200 * K);
    CU_ASSERT_EQUAL(a[2], B + 400 * K);
    CU_ASSERT_EQUAL(a[3], B + 200 * K);
    for (int i = 0; i < 5; i++)
        CU_ASSERT_EQUAL(s[i], 1);
    CU_ASSERT_EQUAL(m[3], 600 * K);
    CU_ASSERT_EQUAL(m[4], 600 * K);
}

/* Alignment: the leading gap becomes a free block that later requests use. */
static void test_alignment(void)
{
    fixture_t fx;
    setup(&fx, NULL);
    CU_ASSERT_EQUAL(A(&fx, 16, 0), FAKE_BASE);
    uintptr_t p = A(&fx, 100, 4096);
    CU_ASSERT_EQUAL(p, FAKE_BASE + 4096);
    stats_t s = stats(&fx);
    CU_ASSERT_EQUAL(s.free_blocks, 2); /* gap [16, 4096) and the top */
    CU_ASSERT_EQUAL(A(&fx, 4000, 0), FAKE_BASE + 16); /* 4000 <= 4080 */
    /* 64 KiB alignment: the 80-byte rest of the gap cannot hold it, the
     * top block can, at 64K */
    uintptr_t q = A(&fx, 1, 65536);
    CU_ASSERT_EQUAL(q % 65536, 0);
    CU_ASSERT_EQUAL(q, FAKE_BASE + 65536);
    /* an alignment of 8 is served at 16 */
    CU_ASSERT_EQUAL(A(&fx, 8, 8) % 16, 0);
    teardown(&fx);
}

/* Zero-byte and impossible requests; free of an unknown address. */
static void test_edge_requests(void)
{
    fixture_t fx;
    setup(&fx, NULL);
    uintptr_t z1 = A(&fx, 0, 0), z2 = A(&fx, 0, 0);
    CU_ASSERT_NOT_EQUAL(z1, z2);
    CU_ASSERT_EQUAL(as_policy_bestfit.usable_size(fx.st, z1), 16);
    as_block_t b;
    CU_ASSERT_EQUAL(
        as_policy_bestfit.alloc(fx.st, &ctx0, (size_t)1 << 63, 0, &b),
        AS_ETOO_LARGE);
    CU_ASSERT_EQUAL(as_policy_bestfit.alloc(fx.st, &ctx0, SIZE_MAX, 0, &b),
                    AS_ETOO_LARGE);
    CU_ASSERT_EQUAL(as_policy_bestfit.alloc(fx.st, &ctx0, 16, 48, &b),
                    AS_EINVAL); /* not a power of two */
    CU_ASSERT_EQUAL(as_policy_bestfit.free(fx.st, &ctx0, z1 + 16 * 100, 0),
                    AS_EINVAL);
    F(&fx, z1, 0);
    CU_ASSERT_EQUAL(as_policy_bestfit.free(fx.st, &ctx0, z1, 0), AS_EINVAL);
    CU_ASSERT_EQUAL(as_policy_bestfit.usable_size(fx.st, z1), 0);
    teardown(&fx);
}

/* realloc shrinks and grows in place when it can, and moves otherwise. */
static void test_realloc(void)
{
    fixture_t fx;
    setup(&fx, NULL);
    uintptr_t a = A(&fx, 100, 0), b = A(&fx, 100, 0);
    as_block_t out;
    CU_ASSERT_EQUAL(
        as_policy_bestfit.realloc(fx.st, &ctx0, a, 100, 50, 0, &out), 0);
    CU_ASSERT_EQUAL(out.addr, a);
    CU_ASSERT_EQUAL(out.bytes, 64);
    CU_ASSERT_EQUAL(stats(&fx).free_blocks, 2); /* [64, 112) and the top */
    CU_ASSERT_EQUAL(
        as_policy_bestfit.realloc(fx.st, &ctx0, a, 50, 100, 0, &out), 0);
    CU_ASSERT_EQUAL(out.addr, a);
    CU_ASSERT_EQUAL(out.bytes, 112);
    CU_ASSERT_EQUAL(stats(&fx).free_blocks, 1);
    CU_ASSERT_EQUAL(
        as_policy_bestfit.realloc(fx.st, &ctx0, a, 100, 1000, 0, &out), 0);
    CU_ASSERT_EQUAL(out.addr, FAKE_BASE + 224); /* b is in the way: move */
    CU_ASSERT_EQUAL(out.bytes, 1008);
    CU_ASSERT_EQUAL(as_policy_bestfit.usable_size(fx.st, a), 0);
    /* shrinking b leaves a 16-byte free tail before the moved block */
    CU_ASSERT_EQUAL(
        as_policy_bestfit.realloc(fx.st, &ctx0, b, 100, 90, 0, &out), 0);
    CU_ASSERT_EQUAL(out.addr, b);
    CU_ASSERT_EQUAL(out.bytes, 96);
    CU_ASSERT_EQUAL(as_bestfit_check(fx.st), 0);
    teardown(&fx);
}

/* release=on: the whole pages inside a big free block are released. */
static void test_release(void)
{
    fixture_t fx;
    const char *rel[] = {"release=on", "release_threshold=16K", NULL};
    setup(&fx, rel);
    A(&fx, 100, 0); /* [0, 112) */
    uintptr_t big = A(&fx, 40 * K, 0);
    A(&fx, 16, 0); /* keeps big away from the top */
    F(&fx, big, 0);
    CU_ASSERT_EQUAL(fx.os.releases, 1);
    CU_ASSERT_EQUAL(fx.os.last_release, FAKE_BASE + 4096);
    /* [112, 112 + 40K): whole pages from 4K to 40K */
    CU_ASSERT_EQUAL(fx.os.last_release_bytes, 36 * K);
    CU_ASSERT_EQUAL(stats(&fx).releases, 1);
    teardown(&fx);
}

/* 100k random operations under the checking layer (which sees every block
 * and page-source call), the whole-heap check every 1000 operations.
 * `assign`: parameters; `deny`: chance the fake refuses hints from then on
 * (toggled as the run goes, so segments come and go). */
static void random_checked(uint64_t seed, const char *const *assign,
                           double deny)
{
    fixture_t fx;
    memset(&fx, 0, sizeof fx);
    fx.os.bump = FAKE_BASE;
    fx.ps = (as_pagesource_t){&fake_ops,
                              &fx.os,
                              {fake_meta_alloc, fake_meta_free, &fx.os},
                              4096,
                              2 * 1024 * 1024};
    const as_policy_ops_t *p = &as_policy_bestfit;
    CU_ASSERT_EQUAL_FATAL(as_param_defaults(p->params, p->n_params, fx.params),
                          0);
    for (; assign && *assign; assign++)
        CU_ASSERT_EQUAL_FATAL(
            as_param_set(p->params, p->n_params, fx.params, *assign), 0);
    as_policy_config_t cfg = {&fx.ps, fx.params, 1, NULL, NULL};
    as_policy_ops_t ops;
    void *st;
    CU_ASSERT_EQUAL_FATAL(as_check_wrap(p, &cfg, NULL, &ops, &st), 0);
    enum { N = 2000 };
    static uintptr_t live[N];
    memset(live, 0, sizeof live);
    as_rng_t r;
    as_rng_seed(&r, seed);
    int bad = 0;
    double max_segments = 0;
    for (int i = 0; i < 100000 && !bad; i++) {
        if (as_rng_chance(&r, 0.01)) fx.os.deny_hints = as_rng_chance(&r, deny);
        int k = (int)as_rng_below(&r, N);
        as_block_t b;
        size_t align =
            as_rng_chance(&r, 0.05) ? (size_t)16 << as_rng_below(&r, 9) : 0;
        if (live[k]) {
            uint64_t op = as_rng_below(&r, 4);
            if (op == 0) {
                size_t ns = (size_t)as_rng_below(&r, 4096);
                if (ops.realloc(st, &ctx0, live[k], 0, ns, align, &b))
                    bad = 1;
                else
                    live[k] = b.addr;
            } else {
                if (ops.free(st, &ctx0, live[k], 0)) bad = 1;
                live[k] = 0;
            }
        } else {
            size_t size = as_rng_chance(&r, 0.01)
                              ? (size_t)as_rng_below(&r, 1 << 20)
                              : (size_t)as_rng_below(&r, 512);
            if (ops.alloc(st, &ctx0, size, align, &b)) bad = 1;
            live[k] = b.addr;
        }
        if (i % 1000 == 0) {
            if (as_check_verify(st) ||
                as_bestfit_check(as_check_inner_state(st)))
                bad = 2;
            double seg =
                stats(&(fixture_t){.st = as_check_inner_state(st)}).segments;
            if (seg > max_segments) max_segments = seg;
        }
    }
    CU_ASSERT_EQUAL(bad, 0);
    if (bad) fprintf(stderr, "%s\n", as_check_last_error(st));
    if (deny > 0) CU_ASSERT(max_segments >= 2);
    stats_t end = stats(&(fixture_t){.st = as_check_inner_state(st)});
    if (assign) CU_ASSERT(end.trims > 20); /* trim_threshold=0 runs */
    if (getenv("AS_TEST_VERBOSE"))
        fprintf(stderr, "segments max %.0f, trims %.0f, releases %.0f\n",
                max_segments, end.trims, end.releases);
    for (int k = 0; k < N; k++)
        if (live[k]) CU_ASSERT_EQUAL(ops.free(st, &ctx0, live[k], 0), 0);
    CU_ASSERT_EQUAL(as_check_live_blocks(st), 0);
    CU_ASSERT_EQUAL(as_bestfit_check(as_check_inner_state(st)), 0);
    CU_ASSERT_EQUAL(as_check_close(st), 0);
    ops.destroy(st);
    CU_ASSERT_EQUAL(fx.os.mapped, 0);
    CU_ASSERT_EQUAL(fx.os.meta, 0);
}

static void test_random_checked(void)
{
    random_checked(42, NULL, 0);
}

/* Small growth, trim at every chance, padding, release on, hints refused
 * half the time: every growth, trim and segment path runs thousands of
 * times. */
static void test_random_aggressive(void)
{
    static const char *const agg[] = {
        "grow_bytes=4K", "trim_threshold=0",     "top_pad=4K",
        "release=on",    "release_threshold=4K", NULL};
    random_checked(7, agg, 0.5);
    static const char *const none[] = {"trim_threshold=0", NULL};
    random_checked(8, none, 1.0);
}

int main(void)
{
    static const as_test_t tests[] = {
        {"reuse_middle", test_reuse_middle},
        {"alloc_map_bytes", test_alloc_map_bytes},
        {"coalesce_three", test_coalesce_three},
        {"best_not_first", test_best_not_first},
        {"lowest_address_among_equals", test_lowest_address_among_equals},
        {"grow_and_trim", test_grow_and_trim},
        {"segments", test_segments},
        {"mmap_layouts", test_mmap_layouts},
        {"alignment", test_alignment},
        {"edge_requests", test_edge_requests},
        {"realloc", test_realloc},
        {"release", test_release},
        {"random_checked", test_random_checked},
        {"random_aggressive", test_random_aggressive},
        {NULL, NULL},
    };
    return as_test_main("policies_bestfit", tests);
}

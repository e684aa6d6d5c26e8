/* test_policies_glibc.c - known answers for the `glibc` policy.
 *
 * Every address and figure below is worked out by hand from glibc 2.36's
 * rules (docs/policies/glibc.md) over a fake page source: the program break
 * starts at GL_BRK_HINT and grows while the hint is its end; other
 * reservations (mmapped chunks, 64 MiB heaps) bump upwards from FAKE_BASE.
 * B below is the break's start; the first chunk of the main heap is always
 * the 656-byte tcache_perthread_struct (640 bytes requested), so the first
 * user chunk is at B + 656 and its memory at B + 672. The first sbrk asks
 * for 656 + top_pad (128 KiB) + MINSIZE (32) rounded to pages = 135168.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/rng.h"
#include "policies/glibc/gl_internal.h"
#include "policies/glibc/glibc.h"
#include "policies/layers/check.h"
#include "tests/unit/testutil.h"

#define FAKE_BASE ((uintptr_t)0x100000000000ull)
#define B GL_BRK_HINT
#define K 1024u

typedef struct {
    uintptr_t bump, brk; /* next free address; end of the break region */
    uint64_t mapped, meta, released, deny_brk;
} fake_t;

static int fake_reserve(void *s, uintptr_t hint, size_t bytes, size_t align,
                        uintptr_t *addr)
{
    fake_t *f = s;
    if (hint && !f->deny_brk && (hint == f->brk || (!f->brk && hint == B))) {
        *addr = hint;
        f->brk = hint + bytes;
    } else if (hint && hint == f->bump) {
        *addr = hint;
        f->bump += bytes;
    } else {
        uintptr_t a = (f->bump + align - 1) & ~(uintptr_t)(align - 1);
        f->bump = a + bytes;
        *addr = a;
    }
    f->mapped += bytes;
    return 0;
}
static int fake_release(void *s, uintptr_t a, size_t bytes)
{
    (void)a;
    ((fake_t *)s)->released += bytes;
    return 0;
}
static int fake_unreserve(void *s, uintptr_t a, size_t bytes)
{
    fake_t *f = s;
    f->mapped -= bytes;
    if (a + bytes == f->brk) f->brk = a; /* the break moves down */
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
    as_param_value_t params[AS_GLIBC_N_PARAMS];
    void *st;
    as_ctx_t ctx;
} fx_t;

static void setup(fx_t *fx, const char *const *assign)
{
    memset(fx, 0, sizeof *fx);
    fx->os.bump = FAKE_BASE;
    fx->ps = (as_pagesource_t){&fake_ops,
                               &fx->os,
                               {fake_meta_alloc, fake_meta_free, &fx->os},
                               4096,
                               2u << 20};
    const as_policy_ops_t *p = &as_policy_glibc;
    CU_ASSERT_EQUAL_FATAL(as_param_defaults(p->params, p->n_params, fx->params),
                          0);
    for (; assign && *assign; assign++)
        CU_ASSERT_EQUAL_FATAL(
            as_param_set(p->params, p->n_params, fx->params, *assign), 0);
    as_policy_config_t cfg = {&fx->ps, fx->params, 1, NULL, NULL};
    CU_ASSERT_EQUAL_FATAL(p->create(&cfg, &fx->st), 0);
    fx->ctx = (as_ctx_t){0, 0, 0, AS_CLASS_NONE, 0};
}

static void teardown(fx_t *fx)
{
    CU_ASSERT_EQUAL(as_policy_glibc.check(fx->st, NULL), 0);
    as_policy_glibc.destroy(fx->st);
    CU_ASSERT_EQUAL(fx->os.mapped, 0);
    CU_ASSERT_EQUAL(fx->os.meta, 0);
}

static uintptr_t A(fx_t *fx, size_t size, size_t align)
{
    as_block_t b = {0, 0};
    CU_ASSERT_EQUAL(as_policy_glibc.alloc(fx->st, &fx->ctx, size, align, &b),
                    0);
    CU_ASSERT_EQUAL(as_policy_glibc.check(fx->st, NULL), 0);
    return b.addr;
}

static void F(fx_t *fx, uintptr_t addr)
{
    CU_ASSERT_EQUAL(as_policy_glibc.free(fx->st, &fx->ctx, addr, 0), 0);
    CU_ASSERT_EQUAL(as_policy_glibc.check(fx->st, NULL), 0);
}

static as_glibc_mallinfo_t MI(fx_t *fx)
{
    as_glibc_mallinfo_t m;
    as_glibc_mallinfo(fx->st, &m);
    return m;
}

typedef struct {
    const char *name;
    double v;
} stat_q_t;

static void stat_sink(void *arg, const char *n, double v)
{
    stat_q_t *q = arg;
    if (!strcmp(n, q->name)) q->v = v;
}

static double stat_of(fx_t *fx, const char *name)
{
    stat_q_t q = {name, -1};
    as_policy_glibc.stats(fx->st, stat_sink, &q);
    return q.v;
}

/* Chunk sizes (request2size) and usable sizes; the first heap's layout. */
static void test_chunks_and_first_heap(void)
{
    fx_t fx;
    setup(&fx, NULL);
    CU_ASSERT_EQUAL(gl_request2size(0), 32);
    CU_ASSERT_EQUAL(gl_request2size(24), 32);
    CU_ASSERT_EQUAL(gl_request2size(25), 48);
    CU_ASSERT_EQUAL(gl_request2size(1032), 1040);
    CU_ASSERT_EQUAL(gl_csize2tidx(1040), 63); /* last tcache bin */
    CU_ASSERT_EQUAL(gl_largebin_index(1024), 64);
    CU_ASSERT_EQUAL(gl_largebin_index(3136), 97); /* 3136 >> 6 = 49 > 48 */
    uintptr_t a = A(&fx, 100, 0);
    CU_ASSERT_EQUAL(a, B + 672);
    CU_ASSERT_EQUAL(as_policy_glibc.usable_size(fx.st, a), 104); /* 112 - 8 */
    uintptr_t b = A(&fx, 24, 0), c = A(&fx, 25, 0);
    CU_ASSERT_EQUAL(b, a + 112);
    CU_ASSERT_EQUAL(c, b + 32);
    CU_ASSERT_EQUAL(as_policy_glibc.usable_size(fx.st, c), 40);
    as_glibc_mallinfo_t m = MI(&fx);
    CU_ASSERT_EQUAL(m.arena, 135168);
    CU_ASSERT_EQUAL(m.ordblks, 1); /* the top */
    CU_ASSERT_EQUAL(m.uordblks, 656 + 112 + 32 + 48);
    CU_ASSERT_EQUAL(m.fordblks, 135168 - 848);
    CU_ASSERT_EQUAL(m.keepcost, 135168 - 848);
    /* zero bytes: a unique minimum chunk */
    uintptr_t z = A(&fx, 0, 0);
    CU_ASSERT_EQUAL(z, c + 48);
    CU_ASSERT_EQUAL(as_policy_glibc.usable_size(fx.st, z), 24);
    teardown(&fx);
}

/* tcache: 7 entries per bin, LIFO; the 8th and 9th frees go to the fastbin;
 * a fastbin hit stashes the rest of that fastbin into the tcache. */
static void test_tcache_and_fastbins(void)
{
    fx_t fx;
    setup(&fx, NULL);
    uintptr_t p[9];
    for (int i = 0; i < 9; i++)
        p[i] = A(&fx, 40, 0); /* 48-byte chunks, tcache bin 1 */
    A(&fx, 40, 0);            /* guard against the top */
    for (int i = 0; i < 9; i++)
        F(&fx, p[i]);
    as_glibc_mallinfo_t m = MI(&fx);
    CU_ASSERT_EQUAL(m.smblks, 2); /* p[7], p[8] */
    CU_ASSERT_EQUAL(m.fsmblks, 96);
    CU_ASSERT_EQUAL(stat_of(&fx, "tcache_chunks"), 7);
    for (int i = 6; i >= 0; i--)
        CU_ASSERT_EQUAL(A(&fx, 40, 0), p[i]); /* tcache, newest first */
    CU_ASSERT_EQUAL(A(&fx, 33, 0), p[8]);     /* fastbin head; p[7] stashed */
    CU_ASSERT_EQUAL(MI(&fx).smblks, 0);
    CU_ASSERT_EQUAL(stat_of(&fx, "tcache_chunks"), 1);
    CU_ASSERT_EQUAL(A(&fx, 40, 0), p[7]);
    /* the tcache holds requests up to 1032 bytes, not 1033 */
    uintptr_t big = A(&fx, 1032, 0), bigger = A(&fx, 1033, 0);
    A(&fx, 40, 0);
    F(&fx, big);
    F(&fx, bigger);
    CU_ASSERT_EQUAL(stat_of(&fx, "tcache_chunks"), 1);
    CU_ASSERT_EQUAL(MI(&fx).ordblks, 2); /* top + the 1056-byte chunk */
    teardown(&fx);
}

/* A large request consolidates the fastbins first (malloc_consolidate):
 * two adjacent fastbin chunks merge, land in the unsorted bin, then in
 * small bin 14; a later request takes that bin whole (exhaust). */
static void test_consolidate(void)
{
    static const char *const no_tcache[] = {"tcache_count=0", NULL};
    fx_t fx;
    setup(&fx, no_tcache);
    uintptr_t a = A(&fx, 100, 0), b = A(&fx, 100, 0), c = A(&fx, 100, 0);
    CU_ASSERT_EQUAL(b, a + 112);
    (void)c;
    F(&fx, a);
    F(&fx, b);
    CU_ASSERT_EQUAL(MI(&fx).smblks, 2);
    CU_ASSERT_EQUAL(MI(&fx).fsmblks, 224);
    A(&fx, 2000, 0); /* 2016 >= 1024: consolidate, then the top */
    as_glibc_mallinfo_t m = MI(&fx);
    CU_ASSERT_EQUAL(m.smblks, 0);
    CU_ASSERT_EQUAL(m.ordblks, 2); /* top + [a, a + 224) */
    CU_ASSERT_EQUAL(stat_of(&fx, "consolidations"), 1);
    uintptr_t d = A(&fx, 200, 0); /* 208 fits bin 14's 224 (rest 16) */
    CU_ASSERT_EQUAL(d, a);
    CU_ASSERT_EQUAL(as_policy_glibc.usable_size(fx.st, d), 216);
    CU_ASSERT_EQUAL(MI(&fx).ordblks, 1);
    teardown(&fx);
}

/* Bins: the unsorted bin is sorted into small bins (FIFO) and large bins
 * (by size, equal sizes in second position); a large request takes the
 * second chunk of the best size; best fit goes through the binmap. */
static void test_bins_order_and_best_fit(void)
{
    static const char *const plain[] = {"tcache_count=0", "mxfast=0", NULL};
    fx_t fx;
    setup(&fx, plain);
    uintptr_t l1 = A(&fx, 1500, 0); /* chunk 1520, large bin 71 */
    A(&fx, 10, 0);
    uintptr_t l2 = A(&fx, 1400, 0); /* 1408, large bin 70 */
    A(&fx, 10, 0);
    uintptr_t l3 = A(&fx, 1500, 0); /* 1520, bin 71 */
    A(&fx, 10, 0);
    uintptr_t s1 = A(&fx, 200, 0); /* 208, small bin 13 */
    A(&fx, 10, 0);
    uintptr_t s2 = A(&fx, 200, 0);
    A(&fx, 10, 0);
    F(&fx, l1);
    F(&fx, l2);
    F(&fx, l3);
    F(&fx, s1);
    F(&fx, s2);
    CU_ASSERT_EQUAL(MI(&fx).ordblks, 6);
    A(&fx, 3000, 0); /* bins everything (nothing fits), takes the top */
    /* bin 71 holds l1 then l3; 1488 bytes: the second 1520, l3 */
    CU_ASSERT_EQUAL(A(&fx, 1480, 0), l3);
    /* 1312 (bin 68): best fit through the binmap is bin 70's l2; the
     * 32-byte remainder of l3 went to small bin 2 on the way */
    CU_ASSERT_EQUAL(A(&fx, 1300, 0), l2);
    /* small bin 13 is FIFO: s1 was binned first */
    CU_ASSERT_EQUAL(A(&fx, 200, 0), s1);
    CU_ASSERT_EQUAL(A(&fx, 200, 0), s2);
    CU_ASSERT_EQUAL(A(&fx, 1500, 0), l1);
    teardown(&fx);
}

/* The top grows by sbrk (nb + top_pad + MINSIZE - old top, in pages) and
 * is trimmed to top_pad when it passes M_TRIM_THRESHOLD. */
static void test_top_growth_and_trim(void)
{
    fx_t fx;
    setup(&fx, NULL);
    uintptr_t a = A(&fx, 100000, 0); /* 100016 + 8 -> chunk 100016 */
    CU_ASSERT_EQUAL(a, B + 672);
    uintptr_t top;
    uint64_t top_size;
    as_glibc_top(fx.st, &top, &top_size);
    CU_ASSERT_EQUAL(top_size, 134512 - 100016);
    uintptr_t b = A(&fx, 100000, 0); /* sbrk(100016 + 131072 + 32 - 34496) */
    CU_ASSERT_EQUAL(b, a + 100016);
    CU_ASSERT_EQUAL(MI(&fx).arena, 135168 + 200704);
    as_glibc_top(fx.st, &top, &top_size);
    CU_ASSERT_EQUAL(top_size, 34496 + 200704 - 100016);
    F(&fx, b); /* merges with the top: 235200 >= 128K: systrim */
    /* top_area 235200 - 33 - top_pad 131072 = 104095 -> 102400 released */
    CU_ASSERT_EQUAL(MI(&fx).arena, 135168 + 200704 - 102400);
    CU_ASSERT_EQUAL(MI(&fx).keepcost, 235200 - 102400);
    CU_ASSERT_EQUAL(stat_of(&fx, "systrims"), 1);
    CU_ASSERT_EQUAL(fx.os.brk, B + 233472);
    teardown(&fx);
}

/* mmapped chunks: page rounding (nb + 8), the dynamic threshold raised to
 * a freed chunk's size (trim threshold twice that), never past 32 MiB. */
static void test_mmap_threshold(void)
{
    fx_t fx;
    setup(&fx, NULL);
    uintptr_t a = A(&fx, 200000, 0); /* nb 200016 -> 200704 mapped */
    CU_ASSERT_EQUAL(a, FAKE_BASE + 16);
    CU_ASSERT_EQUAL(as_policy_glibc.usable_size(fx.st, a), 200704 - 16);
    CU_ASSERT_EQUAL(MI(&fx).hblks, 1);
    CU_ASSERT_EQUAL(MI(&fx).hblkhd, 200704);
    F(&fx, a);
    CU_ASSERT_EQUAL(MI(&fx).hblks, 0);
    CU_ASSERT_EQUAL(stat_of(&fx, "mmap_threshold"), 200704);
    CU_ASSERT_EQUAL(stat_of(&fx, "trim_threshold"), 401408);
    uintptr_t b = A(&fx, 200000, 0); /* below the threshold now: the heap */
    CU_ASSERT_EQUAL(MI(&fx).hblks, 0);
    CU_ASSERT(b >= B && b < B + (1u << 20));
    uintptr_t c = A(&fx, 40u << 20, 0); /* 40 MiB: mmapped, too big to count */
    CU_ASSERT_EQUAL(MI(&fx).hblks, 1);
    F(&fx, c);
    CU_ASSERT_EQUAL(stat_of(&fx, "mmap_threshold"), 200704);
    /* realloc of an mmapped chunk stays mmapped: mremap to 303104 */
    uintptr_t d = A(&fx, 300000, 0);
    as_block_t nb;
    CU_ASSERT_EQUAL(
        as_policy_glibc.realloc(fx.st, &fx.ctx, d, 0, 400000, 0, &nb), 0);
    CU_ASSERT_EQUAL(MI(&fx).hblkhd, 401408); /* 400016 + 8 in pages */
    CU_ASSERT_EQUAL(nb.bytes, 401408 - 16);
    teardown(&fx);
}

/* realloc grows into the top in place, and shrinks in place. */
static void test_realloc_in_place(void)
{
    fx_t fx;
    setup(&fx, NULL);
    uintptr_t a = A(&fx, 100, 0);
    as_block_t b;
    CU_ASSERT_EQUAL(
        as_policy_glibc.realloc(fx.st, &fx.ctx, a, 100, 1000, 0, &b), 0);
    CU_ASSERT_EQUAL(b.addr, a);
    CU_ASSERT_EQUAL(b.bytes, 1000); /* 1008 - 8 */
    CU_ASSERT_EQUAL(
        as_policy_glibc.realloc(fx.st, &fx.ctx, a, 1000, 300, 0, &b), 0);
    CU_ASSERT_EQUAL(b.addr, a);
    CU_ASSERT_EQUAL(b.bytes, 320 - 8);
    /* the 688-byte tail went to the tcache (bin 41) */
    CU_ASSERT_EQUAL(stat_of(&fx, "tcache_bytes"), 688);
    teardown(&fx);
}

/* Arenas: the first thread has main_arena; a second thread's first call
 * creates an arena in a 64 MiB heap (135168 bytes in use: 2904 + top_pad
 * in pages), whose top starts after heap_info and malloc_state at +2256;
 * with arena_max=2 later threads share the arenas round robin. */
static void test_arenas(void)
{
    static const char *const two[] = {"arena_max=2", NULL};
    fx_t fx;
    setup(&fx, two);
    uintptr_t a0 = A(&fx, 100, 0);
    CU_ASSERT_EQUAL(a0, B + 672);
    fx.ctx.thread = 1;
    uintptr_t a1 = A(&fx, 100, 0);
    uintptr_t heap = FAKE_BASE; /* first 64 MiB-aligned address */
    CU_ASSERT_EQUAL(a1, heap + 2256 + 656 + 16);
    CU_ASSERT_EQUAL(MI(&fx).arena, 135168 + 135168);
    CU_ASSERT_EQUAL(stat_of(&fx, "arenas"), 2);
    CU_ASSERT_EQUAL(stat_of(&fx, "heaps"), 1);
    fx.ctx.thread = 2; /* the limit is reached: reused_arena, main first */
    uintptr_t a2 = A(&fx, 100, 0);
    CU_ASSERT(a2 >= B && a2 < B + 135168);
    fx.ctx.thread = 3; /* then main_arena.next, the new arena */
    uintptr_t a3 = A(&fx, 100, 0);
    CU_ASSERT(a3 >= heap && a3 < heap + 135168);
    CU_ASSERT_EQUAL(stat_of(&fx, "arenas"), 2);
    /* a chunk freed by another thread goes to that thread's tcache */
    fx.ctx.thread = 0;
    F(&fx, a1);
    CU_ASSERT_EQUAL(A(&fx, 100, 0), a1);
    teardown(&fx);
}

/* A non-main arena grows its heap up to 64 MiB, then continues in a new
 * heap (the old top fenced); freeing everything deletes the newer heap
 * again (heap_trim) and shrinks the first one to top_pad. (With the tcache
 * on, the fenced leftover of the first heap's top would sit in the tcache
 * and keep the first heap from shrinking: glibc does that too.) */
static void test_heaps_grow_and_go(void)
{
    static const char *const big[] = {"mmap_threshold=32M", "tcache_count=0",
                                      NULL};
    fx_t fx;
    setup(&fx, big);
    A(&fx, 100, 0);
    fx.ctx.thread = 1;
    uintptr_t p[70];
    for (int i = 0; i < 70; i++)
        p[i] = A(&fx, 1u << 20, 0); /* 1 MiB + 16 each */
    CU_ASSERT_EQUAL(stat_of(&fx, "heaps"), 2);
    /* 63 chunks of 1048592 fit the first heap (64 MiB - 2256 - 656) */
    CU_ASSERT_EQUAL(p[62] >> 26, p[0] >> 26);
    CU_ASSERT_NOT_EQUAL(p[63] >> 26, p[0] >> 26);
    for (int i = 69; i >= 0; i--)
        F(&fx, p[i]);
    CU_ASSERT_EQUAL(stat_of(&fx, "heaps"), 1);
    /* the first heap keeps 2912 bytes of header and tcache struct and a top
     * of top_area - top_pad rounded: the least page multiple >= 2912 + 33 +
     * 131072 = 134017, 135168 bytes in use again */
    CU_ASSERT_EQUAL(MI(&fx).arena, 135168 + 135168);
    CU_ASSERT_EQUAL(stat_of(&fx, "heap_trims") > 0, 1);
    teardown(&fx);
}

/* Without arena_max, arenas are created freely until there are more than
 * arena_test (8); the limit 8 x cores applies from then on, so with one
 * core 9 arenas exist. */
static void test_arena_limit(void)
{
    static const char *const one[] = {"cores=1", NULL};
    fx_t fx;
    setup(&fx, one);
    for (uint32_t t = 0; t < 12; t++) {
        fx.ctx.thread = t;
        A(&fx, 64, 0);
    }
    CU_ASSERT_EQUAL(stat_of(&fx, "arenas"), 9);
    teardown(&fx);
    static const char *const two[] = {"cores=2", NULL};
    setup(&fx, two);
    for (uint32_t t = 0; t < 20; t++) {
        fx.ctx.thread = t;
        A(&fx, 64, 0);
    }
    CU_ASSERT_EQUAL(stat_of(&fx, "arenas"), 16);
    teardown(&fx);
}

/* malloc_trim(0): consolidate, MADV_DONTNEED the whole pages of free
 * chunks (keeping their first 48 bytes), shrink the top to the minimum. */
static void test_malloc_trim(void)
{
    static const char *const no_tcache[] = {"tcache_count=0", NULL};
    fx_t fx;
    setup(&fx, no_tcache);
    uintptr_t a = A(&fx, 100000, 0); /* chunk [B + 656, +100016) */
    A(&fx, 100, 0);                  /* guard: the top is 34384 */
    F(&fx, a);
    CU_ASSERT_EQUAL(as_glibc_malloc_trim(fx.st, 0), 1);
    /* pages from B + 4096 to the chunk's end (B + 100672): 23 pages */
    CU_ASSERT_EQUAL(fx.os.released, 94208);
    /* top 34384 - 33 = 34351 -> 32768 returned, the top keeps 1616 */
    CU_ASSERT_EQUAL(MI(&fx).arena, 135168 - 32768);
    CU_ASSERT_EQUAL(MI(&fx).keepcost, 1616);
    teardown(&fx);
}

/* When the break cannot grow (something sits at its end), glibc maps 1 MiB
 * elsewhere, fences the old top and frees what it can of it. */
static void test_sbrk_failure_fallback(void)
{
    fx_t fx;
    setup(&fx, NULL);
    A(&fx, 100, 0);
    fx.os.deny_brk = 1;
    uintptr_t b = A(&fx, 120000, 0);     /* does not fit the 134400-byte top? */
    CU_ASSERT(b >= B && b < B + 135168); /* it does: no growth yet */
    uintptr_t c = A(&fx, 120000, 0);     /* now the break must grow: refused */
    CU_ASSERT(c >= FAKE_BASE && c < FAKE_BASE + (1u << 20));
    CU_ASSERT_EQUAL(stat_of(&fx, "mmap_fallbacks"), 1);
    CU_ASSERT_EQUAL(MI(&fx).arena, 135168 + (1u << 20));
    teardown(&fx);
}

/* Random operations from several threads, every size class, aligned
 * requests and reallocs, with the whole-heap check after each call. */
static void test_random_checked(void)
{
    static const char *const cfgs[][4] = {
        {NULL},
        {"tcache_count=0", "mxfast=0", NULL},
        {"trim_threshold=0", "top_pad=0", "arena_max=3", NULL},
    };
    for (int k = 0; k < 3; k++) {
        fx_t fx;
        setup(&fx, cfgs[k]);
        as_rng_t rng;
        as_rng_seed(&rng, 100 + k);
        uintptr_t live[512] = {0};
        for (int i = 0; i < 8000; i++) {
            int s = (int)(as_rng_u64(&rng) % 512);
            fx.ctx.thread = (uint32_t)(as_rng_u64(&rng) % 5);
            fx.ctx.cpu = fx.ctx.thread;
            uint64_t r = as_rng_u64(&rng) % 100;
            size_t size = r < 60   ? as_rng_u64(&rng) % 300
                          : r < 90 ? as_rng_u64(&rng) % 5000
                                   : as_rng_u64(&rng) % 300000;
            if (!live[s]) {
                size_t al = r % 10 == 0 ? (size_t)32 << (r % 7) : 0;
                live[s] = A(&fx, size, al);
            } else if (r < 70) {
                F(&fx, live[s]);
                live[s] = 0;
            } else {
                as_block_t b;
                CU_ASSERT_EQUAL(as_policy_glibc.realloc(fx.st, &fx.ctx, live[s],
                                                        0, size, 0, &b),
                                0);
                live[s] = b.addr;
                CU_ASSERT_EQUAL(as_policy_glibc.check(fx.st, NULL), 0);
            }
        }
        as_glibc_malloc_trim(fx.st, 0);
        CU_ASSERT_EQUAL(as_policy_glibc.check(fx.st, NULL), 0);
        teardown(&fx);
    }
}

/* The metadata of in-use chunks: no record each, only the chunks map's
 * 16-byte slot, in a table filled to 3/4 before it doubles. After the
 * first malloc the map holds the tcache struct's chunk and the user chunk
 * (2 keys; gl_prepare keeps room for 8 more: 10 <= 12 of 16 slots). 1199
 * more chunks of 32 bytes make 1201 keys, 1209 with the room: above 1024
 * (3/4 of 1024 slots is 768), within 1536 (3/4 of 2048), so the table has
 * 2048 slots: exactly (2048 - 16) x 16 = 32512 more bytes, and the record
 * pool keeps its first 32 records (the transient ones of each call). With
 * the 64-byte record per chunk and a half-full map it was (4096 - 16) x 16
 * + a pool of 2016 records. */
static void test_metadata_per_chunk(void)
{
    fx_t fx;
    setup(&fx, NULL);
    gl_t *st = fx.st;
    enum { N = 1200 };
    static uintptr_t p[N];
    p[0] = A(&fx, 24, 0);
    CU_ASSERT_EQUAL(p[0], B + 672);
    CU_ASSERT_EQUAL(st->chunks.cap, 16);
    CU_ASSERT_EQUAL(st->chunk_pool.capacity, 32);
    uint64_t m1 = fx.os.meta;
    for (int i = 1; i < N; i++) {
        as_block_t b = {0, 0};
        CU_ASSERT_EQUAL(as_policy_glibc.alloc(st, &fx.ctx, 24, 0, &b), 0);
        p[i] = b.addr;
        CU_ASSERT_EQUAL(b.addr, B + 672 + 32 * (uint64_t)i); /* from the top */
    }
    CU_ASSERT_EQUAL(as_policy_glibc.check(st, NULL), 0);
    CU_ASSERT_EQUAL(as_u64map_count(&st->chunks), N + 1);
    CU_ASSERT_EQUAL(st->chunks.cap, 2048);
    CU_ASSERT_EQUAL(st->chunk_pool.capacity, 32);
    CU_ASSERT_EQUAL(fx.os.meta - m1, (2048 - 16) * 16);
    CU_ASSERT_EQUAL(as_policy_glibc.usable_size(st, p[5]), 24);
    /* a packed chunk is checked like a record: an unknown arena fails */
    uint64_t v = 0;
    CU_ASSERT_EQUAL(as_u64map_get(&st->chunks, p[5] - GL_HDR, &v), 1);
    CU_ASSERT_EQUAL(v, 32 | GL_PACKED); /* size 32, arena 0 */
    as_u64map_replace(&st->chunks, p[5] - GL_HDR, v | (uint64_t)3 << 48);
    CU_ASSERT_EQUAL(as_policy_glibc.check(st, NULL), AS_ECHECK);
    as_u64map_replace(&st->chunks, p[5] - GL_HDR, v);
    CU_ASSERT_EQUAL(as_policy_glibc.check(st, NULL), 0);
    /* freed chunks are on lists again and have records: 7 in the tcache,
     * the rest in the 32-byte fastbin (the map keeps its keys) */
    for (int i = 0; i < N; i++)
        F(&fx, p[i]);
    CU_ASSERT_EQUAL(stat_of(&fx, "tcache_chunks"), 7);
    CU_ASSERT_EQUAL(MI(&fx).smblks, N - 7);
    CU_ASSERT_EQUAL(as_u64map_count(&st->chunks), N + 1);
    CU_ASSERT(st->chunk_pool.capacity >= N);
    teardown(&fx);
}

int main(void)
{
    static const as_test_t tests[] = {
        {"chunks_and_first_heap", test_chunks_and_first_heap},
        {"tcache_and_fastbins", test_tcache_and_fastbins},
        {"consolidate", test_consolidate},
        {"bins_order_and_best_fit", test_bins_order_and_best_fit},
        {"top_growth_and_trim", test_top_growth_and_trim},
        {"mmap_threshold", test_mmap_threshold},
        {"realloc_in_place", test_realloc_in_place},
        {"arenas", test_arenas},
        {"arena_limit", test_arena_limit},
        {"heaps_grow_and_go", test_heaps_grow_and_go},
        {"malloc_trim", test_malloc_trim},
        {"sbrk_failure_fallback", test_sbrk_failure_fallback},
        {"metadata_per_chunk", test_metadata_per_chunk},
        {"random_checked", test_random_checked},
        {NULL, NULL},
    };
    return as_test_main("policies_glibc", tests);
}

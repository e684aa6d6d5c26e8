/* test_policies_llama.c - the LLAMA policy on a small fake page source, with
 * every address and counter worked out by hand.
 *
 * Lifetime classes here: 10 ms, 1 s, unbounded (0, 1, 2). Geometry: 2 MiB
 * huge pages, 8 KiB blocks (256 per page), 128 B lines (64 per block). The
 * fake page source hands out address space by bumping from BASE, never
 * reusing it, so the n-th reserved huge page is at BASE + n * 2 MiB.
 */
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "policies/llama/llama.h"
#include "tests/unit/testutil.h"

#define BASE ((uintptr_t)0x40000000)
#define HP ((uintptr_t)2 << 20)
#define BLK ((uintptr_t)8192)
#define MS 1000000ull

/* ------------------------------------------------------ fake page source */

#define MAXR 4096
typedef struct {
    uintptr_t next;
    int reserves, unreserves, releases, hints;
    uintptr_t last_unreserve, last_release;
    size_t last_unreserve_bytes, last_release_bytes;
    long meta_bytes;
    /* live reservations, for the overlap and containment checks */
    uintptr_t r_addr[MAXR];
    size_t r_len[MAXR];
    int nr;
} fake_t;

static int f_reserve(void *st, uintptr_t hint, size_t bytes, size_t align,
                     uintptr_t *addr)
{
    fake_t *f = st;
    (void)hint;
    f->next = (uintptr_t)as_align_up(f->next, align);
    *addr = f->next;
    f->next += bytes;
    f->reserves++;
    CU_ASSERT_FATAL(f->nr < MAXR);
    f->r_addr[f->nr] = *addr;
    f->r_len[f->nr++] = bytes;
    return AS_OK;
}

static int f_unreserve(void *st, uintptr_t addr, size_t bytes)
{
    fake_t *f = st;
    f->unreserves++;
    f->last_unreserve = addr;
    f->last_unreserve_bytes = bytes;
    for (int i = 0; i < f->nr; i++)
        if (f->r_addr[i] == addr && f->r_len[i] == bytes) {
            f->r_addr[i] = f->r_addr[--f->nr];
            f->r_len[i] = f->r_len[f->nr];
            return AS_OK;
        }
    CU_FAIL("unreserve of a range that is not one reservation");
    return AS_EINVAL;
}

static int f_release(void *st, uintptr_t addr, size_t bytes)
{
    fake_t *f = st;
    f->releases++;
    f->last_release = addr;
    f->last_release_bytes = bytes;
    return AS_OK;
}

static int f_hint(void *st, uintptr_t addr, size_t bytes, int enable)
{
    (void)addr, (void)bytes, (void)enable;
    ((fake_t *)st)->hints++;
    return AS_OK;
}

static void *m_alloc(void *st, size_t n)
{
    ((fake_t *)st)->meta_bytes += (long)n;
    return calloc(1, n);
}

static void m_free(void *st, void *p, size_t n)
{
    ((fake_t *)st)->meta_bytes -= (long)n;
    free(p);
}

static const as_pagesource_ops_t fake_ops = {f_reserve, f_release, f_unreserve,
                                             f_hint};

static fake_t fk;
static as_pagesource_t ps;
static const uint64_t bounds[3] = {10 * MS, 1000 * MS, UINT64_MAX};
static as_param_value_t vals[AS_LLAMA_NPARAMS];
static const as_policy_ops_t *P = &as_policy_llama;

static void *mk(const char **assign)
{
    memset(&fk, 0, sizeof fk);
    fk.next = BASE;
    ps = (as_pagesource_t){&fake_ops, &fk, {m_alloc, m_free, &fk}, 4096, HP};
    CU_ASSERT_EQUAL_FATAL(as_param_defaults(P->params, P->n_params, vals), 0);
    for (; assign && *assign; assign++)
        CU_ASSERT_EQUAL_FATAL(
            as_param_set(P->params, P->n_params, vals, *assign), 0);
    as_policy_config_t cfg = {&ps, vals, 3, bounds, NULL};
    void *st = NULL;
    CU_ASSERT_EQUAL_FATAL(P->create(&cfg, &st), 0);
    return st;
}

/* Parameters valid one by one but not together are refused with a message
 * naming both, as the user writes them (policy.h: as_policy_config_t.why);
 * the specs cannot express line_size <= block_size, so create checks it. */
static void test_refuses_with_names(void)
{
    P->destroy(mk(NULL)); /* vals: the defaults; ps: the fake page source */
    as_param_value_t v[AS_LLAMA_NPARAMS];
    memcpy(v, vals, sizeof v);
    v[AS_LLAMA_LINE_SIZE].u = 8192;
    v[AS_LLAMA_BLOCK_SIZE].u = 4096;
    char buf[128];
    as_msg_t why;
    as_msg_init(&why, buf, sizeof buf);
    as_policy_config_t cfg = {&ps, v, 3, bounds, &why};
    void *st = NULL;
    CU_ASSERT_EQUAL(P->create(&cfg, &st), AS_EINVAL);
    CU_ASSERT_STRING_EQUAL(
        buf, "llama.line_size 8192 exceeds llama.block_size 4096");
    CU_ASSERT_PTR_NULL(st);
    /* 1 KiB blocks are below the page size */
    as_msg_init(&why, buf, sizeof buf);
    v[AS_LLAMA_LINE_SIZE].u = 256;
    v[AS_LLAMA_BLOCK_SIZE].u = 1024;
    CU_ASSERT_EQUAL(P->create(&cfg, &st), AS_EINVAL);
    CU_ASSERT_STRING_EQUAL(
        buf, "llama.block_size 1024 is below the OS page size 4096");
    /* without a message buffer, the same refusal */
    cfg.why = NULL;
    CU_ASSERT_EQUAL(P->create(&cfg, &st), AS_EINVAL);
}

static uintptr_t al(void *st, int cls, size_t size, uint64_t t)
{
    as_ctx_t ctx = {.now_ns = t, .lifetime_class = cls};
    as_block_t b = {0};
    CU_ASSERT_EQUAL_FATAL(P->alloc(st, &ctx, size, 0, &b), 0);
    CU_ASSERT(b.bytes >= size);
    return b.addr;
}

static int fr(void *st, uintptr_t a, uint64_t t)
{
    as_ctx_t ctx = {.now_ns = t, .lifetime_class = AS_CLASS_NONE};
    return P->free(st, &ctx, a, 0);
}

static void tk(void *st, uint64_t t)
{
    as_ctx_t ctx = {.now_ns = t, .lifetime_class = AS_CLASS_NONE};
    CU_ASSERT_EQUAL(P->tick(st, &ctx), 10 * MS);
}

static const char *want;
static double got;
static void grab(void *arg, const char *name, double v)
{
    (void)arg;
    if (strcmp(name, want) == 0) got = v;
}
static double st_(void *st, const char *name)
{
    want = name;
    got = -1;
    P->stats(st, grab, NULL);
    return got;
}

static void done(void *st)
{
    P->destroy(st);
    CU_ASSERT_EQUAL(fk.meta_bytes, 0);
    CU_ASSERT_EQUAL(fk.nr, 0); /* every reservation returned */
}

/* ------------------------------------------------------------ the tests */

/* The paper's rule (the default, recycle_open=never): a shorter-lived block
 * goes onto a longer-lived page only once that page is *active*, i.e. no
 * longer open for its own class. A long-lived object opens P0 (class 2) in
 * block 0; a short-lived 16 KiB object then finds P0 still open, so it opens
 * its own page P1 (class 0). A class-2 object of 255 blocks fills P0; the
 * next class-2 object opens P2, and P0 becomes active. After the 255-block
 * object dies, the next short-lived 16 KiB object recycles blocks 1-2 of P0
 * (P2, open, is passed over although it is first in the class's order). */
static void test_recycling_onto_active_page(void)
{
    void *s = mk(NULL);
    CU_ASSERT_EQUAL(al(s, 2, 64, 0), BASE);
    CU_ASSERT_EQUAL(al(s, 0, 16384, 1 * MS), BASE + HP);
    CU_ASSERT_EQUAL(st_(s, "llama_recycled_units"), 0);
    uintptr_t big = al(s, 2, 255 * BLK, 2 * MS);
    CU_ASSERT_EQUAL(big, BASE + BLK);
    CU_ASSERT_EQUAL(al(s, 2, 16384, 3 * MS), BASE + 2 * HP);
    CU_ASSERT_EQUAL(st_(s, "llama_pages_open"), 2);   /* P1, P2 */
    CU_ASSERT_EQUAL(st_(s, "llama_pages_active"), 1); /* P0 */
    CU_ASSERT_EQUAL(fr(s, big, 4 * MS), 0);
    CU_ASSERT_EQUAL(al(s, 0, 16384, 5 * MS), BASE + BLK);
    CU_ASSERT_EQUAL(st_(s, "llama_recycled_units"), 1);
    CU_ASSERT_EQUAL(as_llama_page_class(s, BASE + BLK), 2);
    CU_ASSERT_EQUAL(fk.reserves, 3);
    done(s);
}

/* The per-class census of the stats (read-only): the pages of the test
 * above at its end. Class 2 has P0 (active) and P2 (open): P0 uses block 0
 * (a small block holding one 64 B object: 1 line of 64 used, so it is partly
 * free) and blocks 1-2 (the recycled 16 KiB class-0 run), P2 blocks 0-1 (a
 * 16 KiB run): 5 used blocks, 2 of them recycled, 1 partly free, 128 + 3 x
 * 16384 - 16384 = 128 + 32768 bytes of used lines and runs. Class 0 has P1
 * with its 16 KiB run: 2 blocks, 16384 bytes. Class 1 has nothing. */
static void test_census(void)
{
    void *s = mk(NULL);
    al(s, 2, 64, 0);
    al(s, 0, 16384, 1 * MS);
    uintptr_t big = al(s, 2, 255 * BLK, 2 * MS);
    al(s, 2, 16384, 3 * MS);
    CU_ASSERT_EQUAL(st_(s, "llama_used_blocks_class_2"), 1 + 255 + 2);
    CU_ASSERT_EQUAL(st_(s, "llama_used_line_bytes_class_2"),
                    128 + 255 * 8192 + 16384);
    CU_ASSERT_EQUAL(fr(s, big, 4 * MS), 0);
    al(s, 0, 16384, 5 * MS);
    CU_ASSERT_EQUAL(st_(s, "llama_used_blocks_class_2"), 5);
    CU_ASSERT_EQUAL(st_(s, "llama_recycled_blocks_class_2"), 2);
    CU_ASSERT_EQUAL(st_(s, "llama_partial_blocks_class_2"), 1);
    CU_ASSERT_EQUAL(st_(s, "llama_used_line_bytes_class_2"), 128 + 32768);
    CU_ASSERT_EQUAL(st_(s, "llama_used_blocks_class_0"), 2);
    CU_ASSERT_EQUAL(st_(s, "llama_recycled_blocks_class_0"), 0);
    CU_ASSERT_EQUAL(st_(s, "llama_partial_blocks_class_0"), 0);
    CU_ASSERT_EQUAL(st_(s, "llama_used_line_bytes_class_0"), 16384);
    CU_ASSERT_EQUAL(st_(s, "llama_used_blocks_class_1"), 0);
    CU_ASSERT_EQUAL(st_(s, "llama_used_line_bytes_class_1"), 0);
    CU_ASSERT_EQUAL(st_(s, "llama_used_blocks_class_3"), -1); /* 3 classes */
    done(s);
}

/* recycle_open=bottom (not from the paper): a page still open for a longer
 * class is recycled too. A long-lived object opens page P0 (class 2) in
 * block 0. A short-lived object then needs a block: block 1 of P0 (first
 * fit), and blocks 2-3 for a 16 KiB one. After both die the next 16 KiB
 * short-lived object takes the first free run of two, blocks 1-2. The page
 * never empties (the residual long-lived block keeps it) and only one huge
 * page is ever reserved. */
static void test_recycling_onto_open_page(void)
{
    const char *bot[] = {"recycle_open=bottom", NULL};
    void *s = mk(bot);
    uintptr_t a = al(s, 2, 64, 0);
    CU_ASSERT_EQUAL(a, BASE);
    uintptr_t b = al(s, 0, 64, 1 * MS);
    CU_ASSERT_EQUAL(b, BASE + 1 * BLK);
    uintptr_t m = al(s, 0, 16384, 2 * MS);
    CU_ASSERT_EQUAL(m, BASE + 2 * BLK);
    CU_ASSERT_EQUAL(st_(s, "llama_recycled_units"), 2);
    CU_ASSERT_EQUAL(fr(s, m, 5 * MS), 0);
    CU_ASSERT_EQUAL(fr(s, b, 6 * MS), 0);
    CU_ASSERT_EQUAL(al(s, 0, 16384, 7 * MS), BASE + 1 * BLK);
    CU_ASSERT_EQUAL(st_(s, "llama_recycled_units"), 3);
    CU_ASSERT_EQUAL(fk.reserves, 1);
    CU_ASSERT_EQUAL(st_(s, "llama_pages_returned"), 0);
    CU_ASSERT_EQUAL(as_llama_page_class(s, BASE + 1 * BLK), 2);
    done(s);

    /* recycle_open=top: P0 is still open for class 2, so recycled blocks
     * come from its top end: block 255, blocks 253-254, then 254-255; the
     * long-lived class keeps filling P0 from the bottom. */
    const char *top[] = {"recycle_open=top", NULL};
    s = mk(top);
    CU_ASSERT_EQUAL(al(s, 2, 64, 0), BASE);
    b = al(s, 0, 64, 1 * MS);
    CU_ASSERT_EQUAL(b, BASE + 255 * BLK);
    m = al(s, 0, 16384, 2 * MS);
    CU_ASSERT_EQUAL(m, BASE + 253 * BLK);
    CU_ASSERT_EQUAL(fr(s, m, 5 * MS), 0);
    CU_ASSERT_EQUAL(fr(s, b, 6 * MS), 0);
    CU_ASSERT_EQUAL(al(s, 0, 16384, 7 * MS), BASE + 254 * BLK);
    CU_ASSERT_EQUAL(al(s, 2, 8192, 8 * MS), BASE + BLK);
    done(s);

    /* Never the other way: a long-lived object does not go onto a
     * short-lived page. */
    s = mk(NULL);
    CU_ASSERT_EQUAL(al(s, 0, 64, 0), BASE);
    CU_ASSERT_EQUAL(al(s, 2, 64, 0), BASE + HP);
    CU_ASSERT_EQUAL(fk.reserves, 2);
    done(s);

    /* recycle=0: the short-lived object opens its own page. */
    const char *off[] = {"recycle=0", "recycle_open=bottom", NULL};
    s = mk(off);
    CU_ASSERT_EQUAL(al(s, 2, 64, 0), BASE);
    CU_ASSERT_EQUAL(al(s, 0, 64, 0), BASE + HP);
    CU_ASSERT_EQUAL(st_(s, "llama_recycled_units"), 0);
    done(s);
}

/* With deadline_multiplier=1: a class-0 object (10 ms) allocated at t=0
 * opens P0 with deadline 10 ms.
 * A tick at 5 ms changes nothing; at 11 ms the object has outlived its
 * deadline: P0 is promoted to class 1 with deadline 11 ms + 1 s. A new
 * class-0 object then recycles block 1 of P0 (longer-lived now, and no longer
 * open, so first fit); when it outlives its own deadline (12 ms + 10 ms) the
 * tick at 23 ms promotes that block alone. At 1.015 s the page's own objects
 * have outlived 1.011 s: promotion to class 2, the unbounded class, which is
 * never promoted. */
static void test_deadline_promotion(void)
{
    const char *m1[] = {"deadline_multiplier=1", NULL};
    void *s = mk(m1);
    uintptr_t a = al(s, 0, 64, 0);
    CU_ASSERT_EQUAL(a, BASE);
    tk(s, 5 * MS);
    CU_ASSERT_EQUAL(st_(s, "llama_promotions"), 0);
    CU_ASSERT_EQUAL(as_llama_page_class(s, a), 0);
    tk(s, 11 * MS);
    CU_ASSERT_EQUAL(st_(s, "llama_promotions"), 1);
    CU_ASSERT_EQUAL(as_llama_page_class(s, a), 1);
    CU_ASSERT_EQUAL(st_(s, "pages_in_class_1"), 1);
    CU_ASSERT_EQUAL(st_(s, "pages_in_class_0"), 0);
    uintptr_t b = al(s, 0, 64, 12 * MS);
    CU_ASSERT_EQUAL(b, BASE + BLK);
    CU_ASSERT_EQUAL(st_(s, "llama_recycled_units"), 1);
    tk(s, 21 * MS);
    CU_ASSERT_EQUAL(st_(s, "llama_block_promotions"), 0);
    tk(s, 23 * MS);
    CU_ASSERT_EQUAL(st_(s, "llama_block_promotions"), 1);
    CU_ASSERT_EQUAL(st_(s, "llama_promotions"), 1);
    tk(s, 1010 * MS);
    CU_ASSERT_EQUAL(st_(s, "llama_promotions"), 1);
    tk(s, 1015 * MS);
    CU_ASSERT_EQUAL(st_(s, "llama_promotions"), 2);
    CU_ASSERT_EQUAL(as_llama_page_class(s, a), 2);
    tk(s, 5000000 * MS);
    CU_ASSERT_EQUAL(st_(s, "llama_promotions"), 2);
    CU_ASSERT_EQUAL(fk.reserves, 1);
    CU_ASSERT_EQUAL(fr(s, a, 5000001 * MS), 0);
    CU_ASSERT_EQUAL(fr(s, b, 5000001 * MS), 0);
    CU_ASSERT_EQUAL(fk.unreserves, 1);
    done(s);
}

/* A busy block still expires: its deadline counts from the allocation that
 * opened it, deadline_multiplier x its class bound later, and later
 * allocations never extend it. A class-0 (10 ms) object opens block 0 of P0
 * at t=0; every 5 ms a new 64-byte object goes into the same block (at
 * offset 64 k) and the previous one dies, so each object lives 5 ms (a
 * correct prediction) and the block always holds one. With the default
 * multiplier 2 the deadline is 20 ms: a tick at 20 ms changes nothing (the
 * deadline must be passed), the tick at 21 ms promotes P0 to class 1,
 * although the last allocation was at 20 ms. With multiplier 1 the same
 * happens at 11 ms, with 4 at 41 ms (the old rule, deadline = last
 * allocation + bound, would never have fired while allocations go on). */
static void busy_block_expires(const char *mult, uint64_t deadline)
{
    const char *assign[] = {mult, NULL};
    void *s = mk(mult ? assign : NULL);
    uintptr_t prev = al(s, 0, 64, 0);
    CU_ASSERT_EQUAL(prev, BASE);
    uint64_t t = 5 * MS;
    for (int k = 1; t <= deadline; k++, t += 5 * MS) {
        uintptr_t a = al(s, 0, 64, t);
        CU_ASSERT_EQUAL(a, BASE + 64 * (uintptr_t)k);
        CU_ASSERT_EQUAL(fr(s, prev, t), 0);
        prev = a;
        tk(s, t);
        CU_ASSERT_EQUAL(st_(s, "llama_promotions"), 0);
    }
    tk(s, deadline);
    CU_ASSERT_EQUAL(st_(s, "llama_promotions"), 0);
    CU_ASSERT_EQUAL(as_llama_page_class(s, BASE), 0);
    tk(s, deadline + 1 * MS);
    CU_ASSERT_EQUAL(st_(s, "llama_promotions"), 1);
    CU_ASSERT_EQUAL(as_llama_page_class(s, BASE), 1);
    CU_ASSERT_EQUAL(st_(s, "llama_demotions"), 0);
    done(s);
}

static void test_busy_block_expires(void)
{
    busy_block_expires(NULL, 20 * MS);
    busy_block_expires("deadline_multiplier=1", 10 * MS);
    busy_block_expires("deadline_multiplier=4", 40 * MS);
}

/* Demotion only for objects that die below their class's lower bound (for
 * class 1, 10 ms: class 1 holds lifetimes in (10 ms, 1 s]). A class-1 object
 * opens P0 at t=0 in block 0; a class-1 object of 255 blocks fills P0; the
 * next class-1 object opens P1, so P0 is active. The big object dies at 1 ms
 * (P0 keeps block 0 of its class). A class-0 16 KiB object recycles blocks
 * 1-2 of P0 at 2 ms. When the class-1 object of block 0 dies, the page holds
 * only the class-0 unit:
 *   - at 10 ms (every class-1 object on P0 lived <= 10 ms): demoted to 0;
 *   - at 11 ms (it lived 11 ms, inside its class): no demotion;
 *   - at 100 ms: no demotion either (the rule before demoted any page whose
 *     own objects died more than half a bound, 500 ms, before its
 *     deadline). */
static uint64_t demotion_case(uint64_t death)
{
    void *s = mk(NULL);
    uintptr_t a = al(s, 1, 64, 0);
    CU_ASSERT_EQUAL(a, BASE);
    uintptr_t big = al(s, 1, 255 * BLK, 0);
    CU_ASSERT_EQUAL(al(s, 1, 16384, 0), BASE + HP);
    CU_ASSERT_EQUAL(fr(s, big, 1 * MS), 0);
    CU_ASSERT_EQUAL(st_(s, "llama_demotions"), 0);
    uintptr_t b = al(s, 0, 16384, 2 * MS);
    CU_ASSERT_EQUAL(b, BASE + BLK);
    CU_ASSERT_EQUAL(fr(s, a, death), 0);
    uint64_t d = (uint64_t)st_(s, "llama_demotions");
    CU_ASSERT_EQUAL(as_llama_page_class(s, b), d ? 0 : 1);
    done(s);
    return d;
}

static void test_demotion(void)
{
    CU_ASSERT_EQUAL(demotion_case(10 * MS), 1);
    CU_ASSERT_EQUAL(demotion_case(11 * MS), 0);
    CU_ASSERT_EQUAL(demotion_case(100 * MS), 0);
}

static uintptr_t al_cpu(void *st, uint32_t cpu, size_t size)
{
    as_ctx_t ctx = {.now_ns = 0, .cpu = cpu, .lifetime_class = 0};
    as_block_t b = {0};
    CU_ASSERT_EQUAL_FATAL(P->alloc(st, &ctx, size, 0, &b), 0);
    return b.addr;
}

/* open_blocks=per_cpu (the default): each CPU bump-allocates class-0 small
 * objects in its own open block. CPU 0 takes block 0 of P0, CPU 1 block 1,
 * CPU 0 again continues in block 0 at 64, CPU 1 in block 1 at 64. With
 * max_cpus=2, CPU 3 is folded onto CPU 1's slot: block 1 at 128. With
 * open_blocks=shared all four objects share block 0. */
static void test_per_cpu_open_blocks(void)
{
    const char *two[] = {"max_cpus=2", NULL};
    void *s = mk(two);
    CU_ASSERT_EQUAL(al_cpu(s, 0, 64), BASE);
    CU_ASSERT_EQUAL(al_cpu(s, 1, 64), BASE + BLK);
    CU_ASSERT_EQUAL(al_cpu(s, 0, 64), BASE + 64);
    CU_ASSERT_EQUAL(al_cpu(s, 1, 64), BASE + BLK + 64);
    CU_ASSERT_EQUAL(al_cpu(s, 3, 64), BASE + BLK + 128);
    CU_ASSERT_EQUAL(st_(s, "llama_cpus_with_open_blocks"), 2);
    done(s);

    const char *shared[] = {"open_blocks=shared", NULL};
    s = mk(shared);
    CU_ASSERT_EQUAL(al_cpu(s, 0, 64), BASE);
    CU_ASSERT_EQUAL(al_cpu(s, 1, 64), BASE + 64);
    CU_ASSERT_EQUAL(al_cpu(s, 0, 64), BASE + 128);
    CU_ASSERT_EQUAL(al_cpu(s, 3, 64), BASE + 192);
    CU_ASSERT_EQUAL(st_(s, "llama_cpus_with_open_blocks"), 1);
    done(s);
}

/* Three class-0 objects (two small, one 20000-byte run of 3 blocks) on P0;
 * when the last dies the whole huge page goes back with one unreserve of
 * exactly [BASE, BASE + 2 MiB) and nothing smaller is ever released. It
 * emptied at 1 ms, before its 10 ms deadline. With return=release the page
 * is released whole (MADV_DONTNEED) and the next allocation reuses it
 * without a new reservation. With subrelease=1 a freed run is released
 * even though the page stays. */
static void test_whole_page_returned(void)
{
    void *s = mk(NULL);
    uintptr_t x = al(s, 0, 64, 0), y = al(s, 0, 64, 0), m = al(s, 0, 20000, 0);
    CU_ASSERT_EQUAL(y, BASE + 64);
    CU_ASSERT_EQUAL(m, BASE + BLK);
    CU_ASSERT_EQUAL(fr(s, x, 1 * MS), 0);
    CU_ASSERT_EQUAL(fr(s, m, 1 * MS), 0);
    CU_ASSERT_EQUAL(fk.unreserves, 0);
    CU_ASSERT_EQUAL(fr(s, y, 1 * MS), 0);
    CU_ASSERT_EQUAL(fk.unreserves, 1);
    CU_ASSERT_EQUAL(fk.last_unreserve, BASE);
    CU_ASSERT_EQUAL(fk.last_unreserve_bytes, HP);
    CU_ASSERT_EQUAL(fk.releases, 0);
    CU_ASSERT_EQUAL(st_(s, "llama_pages_returned"), 1);
    CU_ASSERT_EQUAL(st_(s, "llama_pages_emptied_early"), 1);
    CU_ASSERT_EQUAL(as_llama_page_class(s, BASE), -1);
    CU_ASSERT_EQUAL(fr(s, y, 2 * MS), AS_EINVAL); /* double free */
    done(s);

    const char *rel[] = {"return=release", NULL};
    s = mk(rel);
    x = al(s, 0, 64, 0);
    CU_ASSERT_EQUAL(fr(s, x, 1 * MS), 0);
    CU_ASSERT_EQUAL(fk.releases, 1);
    CU_ASSERT_EQUAL(fk.last_release, BASE);
    CU_ASSERT_EQUAL(fk.last_release_bytes, HP);
    CU_ASSERT_EQUAL(fk.unreserves, 0);
    CU_ASSERT_EQUAL(st_(s, "llama_pages_free_kept"), 1);
    CU_ASSERT_EQUAL(al(s, 2, 64, 2 * MS), BASE);
    CU_ASSERT_EQUAL(fk.reserves, 1);
    CU_ASSERT_EQUAL(as_llama_page_class(s, BASE), 2);
    done(s);

    const char *sub[] = {"subrelease=1", NULL};
    s = mk(sub);
    x = al(s, 0, 64, 0);
    m = al(s, 0, 16384, 0);
    CU_ASSERT_EQUAL(fr(s, m, 1 * MS), 0);
    CU_ASSERT_EQUAL(fk.releases, 1);
    CU_ASSERT_EQUAL(fk.last_release, BASE + BLK);
    CU_ASSERT_EQUAL(fk.last_release_bytes, 2 * BLK);
    done(s);
}

/* Small objects are bump-allocated 16-byte aligned within lines; a block
 * whose first 8 lines are freed (8 >= partial_min_lines) is reused for its
 * class once the bump block is full. */
static void test_lines_and_partial_blocks(void)
{
    void *s = mk(NULL);
    CU_ASSERT_EQUAL(al(s, 0, 16, 0), BASE);
    CU_ASSERT_EQUAL(al(s, 0, 1, 0), BASE + 16);
    CU_ASSERT_EQUAL(al(s, 0, 100, 0), BASE + 32);
    CU_ASSERT_EQUAL(P->usable_size(s, BASE + 32), 112);
    CU_ASSERT_EQUAL(al(s, 0, 16, 0), BASE + 144);
    done(s);

    s = mk(NULL);
    uintptr_t a[128];
    for (int i = 0; i < 128; i++)
        a[i] = al(s, 0, 128, 0);
    CU_ASSERT_EQUAL(a[63], BASE + 63 * 128);
    CU_ASSERT_EQUAL(a[64], BASE + BLK);
    for (int i = 0; i < 8; i++)
        CU_ASSERT_EQUAL(fr(s, a[i], 1 * MS), 0);
    for (int i = 0; i < 8; i++)
        CU_ASSERT_EQUAL(al(s, 0, 128, 2 * MS), BASE + (uintptr_t)i * 128);
    CU_ASSERT_EQUAL(al(s, 0, 128, 2 * MS), BASE + 2 * BLK);
    CU_ASSERT_EQUAL(fk.reserves, 1);
    done(s);
}

/* The map of live small objects (address -> size, for free without a
 * size) costs a 16-byte slot per object in a table filled to 3/4 before it
 * doubles, and nothing else grows with the objects of one page: after the
 * first 16-byte object the page, its descriptor and a 16-slot map exist;
 * 1199 more (1200 keys: above 768 = 3/4 of 1024 slots, within 1536 = 3/4 of
 * 2048) leave them and take a 2048-slot table: (2048 - 16) x 16 = 32512
 * bytes more. A half-full map would need 4096 slots: 65280 bytes more. */
static void test_object_map_bytes(void)
{
    void *s = mk(NULL);
    CU_ASSERT_EQUAL(al(s, 0, 16, 0), BASE);
    long m1 = fk.meta_bytes;
    for (int i = 1; i < 1200; i++)
        CU_ASSERT_EQUAL(al(s, 0, 16, 0), BASE + 16 * (uintptr_t)i);
    CU_ASSERT_EQUAL(st_(s, "llama_live_small_objects"), 1200);
    CU_ASSERT_EQUAL(fk.meta_bytes - m1, (2048 - 16) * 16);
    CU_ASSERT_EQUAL(fk.reserves, 1);
    CU_ASSERT_EQUAL(P->check(s, NULL), 0);
    for (int i = 0; i < 1200; i++)
        CU_ASSERT_EQUAL(fr(s, BASE + 16 * (uintptr_t)i, 1 * MS), 0);
    CU_ASSERT_EQUAL(st_(s, "llama_live_small_objects"), 0);
    CU_ASSERT_EQUAL(P->check(s, NULL), 0);
    done(s);
}

/* Objects above medium_max (2 MiB) get whole huge pages: 3 MiB -> two
 * huge pages, returned together. Medium runs honour large alignments. */
static void test_large_and_aligned(void)
{
    void *s = mk(NULL);
    as_ctx_t ctx = {.now_ns = 0, .lifetime_class = 0};
    as_block_t b;
    CU_ASSERT_EQUAL(P->alloc(s, &ctx, 3u << 20, 0, &b), 0);
    CU_ASSERT_EQUAL(b.addr, BASE);
    CU_ASSERT_EQUAL(b.bytes, 4u << 20);
    CU_ASSERT_EQUAL(P->usable_size(s, BASE), 4u << 20);
    CU_ASSERT_EQUAL(fr(s, BASE, 1), 0);
    CU_ASSERT_EQUAL(fk.last_unreserve, BASE);
    CU_ASSERT_EQUAL(fk.last_unreserve_bytes, 4u << 20);
    CU_ASSERT_EQUAL(al(s, 0, 64, 2), BASE + (4u << 20));
    CU_ASSERT_EQUAL(P->alloc(s, &ctx, 10000, 65536, &b), 0);
    CU_ASSERT_EQUAL(b.addr, BASE + (4u << 20) + 65536);
    CU_ASSERT_EQUAL(b.bytes, 2 * BLK);
    CU_ASSERT_EQUAL(fr(s, b.addr + 16, 3), AS_EINVAL); /* not a block start */
    done(s);
}

/* Random allocations, frees and ticks with random classes: no two live
 * blocks overlap, every block lies in a live reservation, and once all is
 * freed every huge page has gone back, with no release below 2 MiB. */
static void test_random_consistency(void)
{
    enum { N = 6000, LIVE = 700 };
    static uintptr_t addr[LIVE];
    static size_t len[LIVE];
    int n = 0;
    void *s = mk(NULL);
    uint64_t rng = 12345, t = 0, next_tick = 0;
    for (int i = 0; i < N; i++) {
        rng = as_hash64(rng + (uint64_t)i);
        t += rng % (2 * MS);
        if (t >= next_tick) {
            tk(s, t);
            next_tick = t + 10 * MS;
        }
        if (n == LIVE || (n > 0 && rng % 5 < 2)) {
            int k = (int)((rng >> 20) % (uint64_t)n);
            CU_ASSERT_EQUAL_FATAL(fr(s, addr[k], t), 0);
            addr[k] = addr[--n];
            len[k] = len[n];
            continue;
        }
        uint64_t r = rng >> 8;
        size_t size = r % 100 < 80   ? 1 + r % 1000
                      : r % 100 < 97 ? 1000 + (r >> 8) % 70000
                      : r % 100 < 99 ? 100000 + (r >> 8) % 1500000
                                     : (2u << 20) + (r >> 8) % (1u << 20);
        as_ctx_t ctx = {.now_ns = t, .lifetime_class = (int32_t)(r % 4) - 1};
        as_block_t b;
        CU_ASSERT_EQUAL_FATAL(P->alloc(s, &ctx, size, 0, &b), 0);
        CU_ASSERT(b.addr % 16 == 0);
        CU_ASSERT(b.bytes >= size);
        int inside = 0;
        for (int j = 0; j < fk.nr; j++)
            inside |= b.addr >= fk.r_addr[j] &&
                      b.addr + b.bytes <= fk.r_addr[j] + fk.r_len[j];
        CU_ASSERT_FATAL(inside);
        for (int j = 0; j < n; j++)
            CU_ASSERT_FATAL(b.addr + size <= addr[j] ||
                            addr[j] + len[j] <= b.addr);
        addr[n] = b.addr;
        len[n++] = size;
    }
    while (n > 0)
        CU_ASSERT_EQUAL_FATAL(fr(s, addr[--n], t), 0);
    CU_ASSERT_EQUAL(fk.nr, 0);
    CU_ASSERT_EQUAL(fk.releases, 0);
    CU_ASSERT_EQUAL(st_(s, "llama_live_small_objects"), 0);
    CU_ASSERT(st_(s, "llama_promotions") > 0);
    done(s);
}

static void test_registered(void)
{
    CU_ASSERT_EQUAL(as_policy_find("llama"), &as_policy_llama);
}

int main(void)
{
    static const as_test_t tests[] = {
        {"recycling onto an active longer-lived page",
         test_recycling_onto_active_page},
        {"recycling onto an open page (option)", test_recycling_onto_open_page},
        {"per-class census of the resident pages", test_census},
        {"a busy block still expires", test_busy_block_expires},
        {"per-CPU open blocks", test_per_cpu_open_blocks},
        {"deadline promotion", test_deadline_promotion},
        {"demotion", test_demotion},
        {"whole page returned", test_whole_page_returned},
        {"lines and partial blocks", test_lines_and_partial_blocks},
        {"object map bytes", test_object_map_bytes},
        {"large and aligned", test_large_and_aligned},
        {"random consistency", test_random_consistency},
        {"registered", test_registered},
        {"refuses joint parameters by name", test_refuses_with_names},
        {NULL, NULL}};
    return as_test_main("policies_llama", tests);
}

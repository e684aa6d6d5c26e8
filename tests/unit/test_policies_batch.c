/* test_policies_batch.c - the optional batch op (policy.h rule 9) for every
 * registered policy, and the layers that pass it through.
 *
 *   batch_equals_singles: for each policy of the registry, two instances
 *     stacked as stats(check(policy)) over fresh simulated OSes run the same
 *     seeded random requests in lockstep; instance A makes each request of n
 *     blocks (n 1..40, small, zero-byte, over-aligned and large sizes, CPUs
 *     and threads varying) as one batch through as_policy_alloc_batch,
 *     instance B as n single allocs. Frees, ticks and the final teardown are
 *     the same calls on both. Asserts: every block has the same address and
 *     usable bytes, both return the same codes, every statistic (the
 *     policy's and the statistics layer's) is equal at the end, no
 *     checking-layer violation, nothing leaked. A policy without its own
 *     batch is covered through the fallback.
 *     The same for frees: a run of blocks placed together (in order or
 *     reversed) is freed as one batch through as_policy_free_batch on A
 *     and as single frees on B (size_hint 0 on both).
 *   fallback_stops_at_refusal: as_policy_alloc_batch over a policy without
 *     alloc_batch makes single calls and stops at the first refusal, which
 *     the statistics layer counts as one failed alloc.
 *   check_catches_bad_batch: a policy whose batch returns a block that
 *     overlaps the one before it: the checking layer reports the overlap
 *     with AS_ECHECK, keeps the good block and hands back only it.
 *   check_catches_double_free_in_batch: free_batch of {b0, b1, b0}: the
 *     checking layer frees b0 and b1, reports the second b0 with AS_ECHECK
 *     (*done == 2, the policy never sees it), and the statistics layer
 *     counts three frees, one failed.
 *   free_all_goes_past_refusal: a policy that refuses the free of its second
 *     block: free_batch of three stops there (*done == 1, the policy's
 *     error), the checking layer keeps the third block live, and
 *     as_policy_free_all then frees it too and returns that first error.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "common/error.h"
#include "common/rng.h"
#include "policies/layers/check.h"
#include "policies/layers/stats.h"
#include "policies/policy.h"
#include "sim/simos.h"
#include "tests/unit/testutil.h"

/* ---- one instance: stats(check(policy)) over its own simos ---- */

typedef struct {
    as_simos_t *os;
    as_param_value_t params[128];
    as_policy_config_t cfg;
    as_policy_ops_t check_ops, ops; /* ops: the statistics layer's table */
    void *check_st, *st;
} inst_t;

static int inst_open(inst_t *in, const as_policy_ops_t *p)
{
    memset(in, 0, sizeof *in);
    as_simos_config_t oc;
    as_simos_config_default(&oc);
    if (as_simos_create(&oc, &in->os)) return -1;
    if (as_test_policy_config(p, as_simos_pagesource(in->os), in->params, 128,
                              &in->cfg))
        return -2;
    if (as_check_wrap(p, &in->cfg, NULL, &in->check_ops, &in->check_st))
        return -3;
    as_check_set_every(in->check_st, 997);
    if (as_stats_wrap_instance(&in->check_ops, in->check_st, &as_test_mem,
                               &in->ops, &in->st))
        return -4;
    return 0;
}

static void inst_close(inst_t *in, const char *name)
{
    int rc = as_check_close(in->check_st);
    CU_ASSERT_EQUAL(rc, 0);
    if (rc)
        fprintf(stderr, "%s: %s\n", name, as_check_last_error(in->check_st));
    in->ops.destroy(in->st);
    const as_simos_counters_t *c = as_simos_counters(in->os);
    CU_ASSERT_EQUAL(c->mapped_bytes, 0);
    CU_ASSERT_EQUAL(c->meta_bytes, 0);
    as_simos_destroy(in->os);
}

/* every statistic of an instance, in report order */
typedef struct {
    const char *name[512];
    double value[512];
    unsigned n;
} statlist_t;

static void collect(void *arg, const char *name, double value)
{
    statlist_t *s = arg;
    if (s->n < 512) {
        s->name[s->n] = name;
        s->value[s->n] = value;
    }
    s->n++;
}

/* ---- the lockstep workload ---- */

#define MAX_LIVE 6000
#define MAX_N 40

typedef struct {
    uintptr_t addr;
    size_t size;
} live_t;

static size_t draw_size(as_rng_t *r)
{
    unsigned k = (unsigned)as_rng_below(r, 100);
    if (k < 10) return as_rng_below(r, 9);                /* 0..8 B */
    if (k < 70) return 16 * as_rng_range(r, 1, 127);      /* cache classes */
    if (k < 90) return as_rng_range(r, 1, 4096);          /* any small */
    if (k < 97) return as_rng_range(r, 4097, 300 * 1024); /* medium */
    return as_rng_range(r, 300 * 1024, 3 * 1024 * 1024);  /* large */
}

static size_t draw_align(as_rng_t *r)
{
    return as_rng_chance(r, 0.85) ? 0 : (size_t)16 << as_rng_below(r, 9);
}

/* @return 0 when A and B stayed identical, else the step that diverged */
static unsigned lockstep(const as_policy_ops_t *p, uint64_t seed,
                         uint64_t *batches, uint64_t *free_batches)
{
    inst_t a, b;
    CU_ASSERT_EQUAL_FATAL(inst_open(&a, p), 0);
    CU_ASSERT_EQUAL_FATAL(inst_open(&b, p), 0);
    static live_t live[MAX_LIVE];
    size_t n_live = 0;
    as_rng_t r;
    as_rng_seed(&r, seed);
    as_ctx_t ctx = {0, 0, 0, AS_CLASS_NONE, 0};
    unsigned bad = 0;
    if (p->tick) {
        a.ops.tick(a.st, &ctx);
        b.ops.tick(b.st, &ctx);
    }
    for (unsigned step = 1; step <= 1500 && !bad; step++) {
        ctx.now_ns += as_rng_range(&r, 1000, 2000000);
        ctx.cpu = (uint32_t)as_rng_below(&r, 4);
        ctx.thread = (uint32_t)as_rng_below(&r, 4);
        ctx.lifetime_class = as_rng_chance(&r, 0.3)
                                 ? AS_CLASS_NONE
                                 : (int32_t)as_rng_below(&r, 7);
        ctx.stack = (uint32_t)as_rng_below(&r, 50);
        unsigned kind = (unsigned)as_rng_below(&r, 100);
        if (kind < 55 && n_live + MAX_N <= MAX_LIVE) {
            unsigned n = (unsigned)as_rng_range(&r, 1, MAX_N);
            size_t size = draw_size(&r), align = draw_align(&r);
            as_block_t ba[MAX_N], bb[MAX_N];
            unsigned got_a = 0, got_b = 0;
            int rc_a = as_policy_alloc_batch(&a.ops, a.st, &ctx, size, align, n,
                                             ba, &got_a);
            int rc_b = 0;
            for (; got_b < n; got_b++) {
                rc_b = b.ops.alloc(b.st, &ctx, size, align, &bb[got_b]);
                if (rc_b) break;
            }
            (*batches)++;
            if (rc_a != rc_b || got_a != got_b) bad = step;
            for (unsigned i = 0; i < got_a && !bad; i++) {
                if (ba[i].addr != bb[i].addr || ba[i].bytes != bb[i].bytes)
                    bad = step;
                live[n_live++] = (live_t){ba[i].addr, size};
            }
        } else if (kind < 76 && n_live) {
            /* a run of blocks placed together, freed as one batch (A) and
             * as singles (B), both without sizes, in order or reversed */
            unsigned n = (unsigned)as_rng_range(&r, 1, MAX_N);
            size_t j = as_rng_below(&r, n_live);
            if (n > n_live - j) n = (unsigned)(n_live - j);
            int reverse = as_rng_chance(&r, 0.5);
            uintptr_t addrs[MAX_N];
            for (unsigned i = 0; i < n; i++)
                addrs[i] = live[j + (reverse ? n - 1 - i : i)].addr;
            memmove(&live[j], &live[j + n], (n_live - j - n) * sizeof *live);
            n_live -= n;
            unsigned done = 0;
            int rc_a =
                as_policy_free_batch(&a.ops, a.st, &ctx, addrs, n, &done);
            int rc_b = 0;
            for (unsigned i = 0; i < n && !rc_b; i++)
                rc_b = b.ops.free(b.st, &ctx, addrs[i], 0);
            (*free_batches)++;
            if (rc_a || rc_b || done != n) bad = step;
        } else if (kind < 97 && n_live) {
            unsigned n = (unsigned)as_rng_range(&r, 1, MAX_N);
            for (unsigned i = 0; i < n && n_live && !bad; i++) {
                size_t j = as_rng_below(&r, n_live);
                size_t hint = as_rng_chance(&r, 0.5) ? live[j].size : 0;
                int rc_a = a.ops.free(a.st, &ctx, live[j].addr, hint);
                int rc_b = b.ops.free(b.st, &ctx, live[j].addr, hint);
                if (rc_a || rc_b) bad = step;
                live[j] = live[--n_live];
            }
        } else if (p->tick) {
            ctx.now_ns += as_rng_range(&r, 100000000, 3000000000ull);
            a.ops.tick(a.st, &ctx);
            b.ops.tick(b.st, &ctx);
        }
    }
    while (n_live && !bad) {
        n_live--;
        if (a.ops.free(a.st, &ctx, live[n_live].addr, 0) ||
            b.ops.free(b.st, &ctx, live[n_live].addr, 0))
            bad = 1;
    }
    static statlist_t sa, sb;
    sa.n = sb.n = 0;
    a.ops.stats(a.st, collect, &sa);
    b.ops.stats(b.st, collect, &sb);
    CU_ASSERT(sa.n > 0 && sa.n <= 512);
    if (!bad && sa.n != sb.n) bad = 1;
    for (unsigned i = 0; i < sa.n && i < 512 && !bad; i++)
        if (strcmp(sa.name[i], sb.name[i]) || sa.value[i] != sb.value[i]) {
            fprintf(stderr, "%s: statistic %s: batch %.17g, singles %.17g\n",
                    p->name, sa.name[i], sa.value[i], sb.value[i]);
            bad = 1;
        }
    CU_ASSERT_EQUAL(as_check_violations(a.check_st), 0);
    CU_ASSERT_EQUAL(as_check_violations(b.check_st), 0);
    inst_close(&a, p->name);
    inst_close(&b, p->name);
    return bad;
}

static void test_batch_equals_singles(void)
{
    CU_ASSERT(as_policy_count() >= 1);
    for (size_t i = 0; i < as_policy_count(); i++) {
        const as_policy_ops_t *p = as_policy_at(i);
        uint64_t batches = 0, free_batches = 0;
        for (uint64_t seed = 1; seed <= 2; seed++) {
            unsigned bad = lockstep(p, 0xba7c0000u + 16 * i + seed, &batches,
                                    &free_batches);
            CU_ASSERT_EQUAL(bad, 0);
            if (bad)
                fprintf(stderr,
                        "%s (seed %llu): batch and singles differ at "
                        "step %u\n",
                        p->name, (unsigned long long)seed, bad);
        }
        CU_ASSERT(batches > 500);      /* the workload did batch */
        CU_ASSERT(free_batches > 300); /* and gave back in batches */
    }
    /* the policies the thread cache suits have a batch of their own */
    CU_ASSERT_PTR_NOT_NULL(as_policy_find("tcmalloc")->alloc_batch);
    CU_ASSERT_PTR_NOT_NULL(as_policy_find("tcmalloc")->free_batch);
    CU_ASSERT_PTR_NOT_NULL(as_policy_find("hoard")->alloc_batch);
}

/* ---- test policies: a bump allocator over one 1 MiB reservation ---- */

typedef struct {
    const as_pagesource_t *ps;
    uintptr_t base, next;
    unsigned budget;  /* allocs left before refusing (fallback test) */
    unsigned batches; /* alloc_batch calls */
    unsigned frees;   /* free calls that reached the policy */
    uintptr_t refuse; /* a free of this address fails (0: none) */
} bump_t;

static int bump_create(const as_policy_config_t *cfg, void **state)
{
    bump_t *b = as_mem_alloc(&cfg->ps->meta, sizeof *b);
    if (!b) return AS_ENOMEM;
    memset(b, 0, sizeof *b);
    b->ps = cfg->ps;
    b->budget = 3;
    int rc = as_ps_reserve(cfg->ps, 0, 1 << 20, 4096, &b->base);
    if (rc) {
        as_mem_free(&cfg->ps->meta, b, sizeof *b);
        return rc;
    }
    b->next = b->base;
    *state = b;
    return AS_OK;
}

static int bump_alloc(void *st, const as_ctx_t *ctx, size_t size, size_t align,
                      as_block_t *out)
{
    (void)ctx;
    (void)align;
    bump_t *b = st;
    if (!b->budget) return AS_ENOMEM;
    b->budget--;
    size_t bytes = (size + 15) & ~(size_t)15;
    *out = (as_block_t){b->next, bytes};
    b->next += bytes;
    return AS_OK;
}

/* a batch whose second block overlaps the first */
static int overlap_batch(void *st, const as_ctx_t *ctx, size_t size,
                         size_t align, unsigned n, as_block_t *out,
                         unsigned *got)
{
    bump_t *b = st;
    b->batches++;
    b->budget = 100;
    for (*got = 0; *got < n; ++*got) {
        bump_alloc(b, ctx, size, align, &out[*got]);
        if (*got == 1) out[1].addr -= 16;
    }
    return AS_OK;
}

static int bump_free(void *st, const as_ctx_t *ctx, uintptr_t addr, size_t hint)
{
    (void)ctx;
    (void)hint;
    bump_t *b = st;
    b->frees++;
    return addr == b->refuse ? AS_EINVAL : AS_OK;
}

static void bump_destroy(void *st)
{
    bump_t *b = st;
    as_ps_unreserve(b->ps, b->base, 1 << 20);
    as_mem_free(&b->ps->meta, b, sizeof *b);
}

static const as_policy_ops_t bump_ops = {.name = "bump",
                                         .doc = "test",
                                         .create = bump_create,
                                         .alloc = bump_alloc,
                                         .free = bump_free,
                                         .destroy = bump_destroy};

static const as_policy_ops_t overlap_ops = {.name = "overlap",
                                            .doc = "test",
                                            .create = bump_create,
                                            .alloc = bump_alloc,
                                            .alloc_batch = overlap_batch,
                                            .free = bump_free,
                                            .destroy = bump_destroy};

static void test_fallback_stops_at_refusal(void)
{
    inst_t in;
    CU_ASSERT_EQUAL_FATAL(inst_open(&in, &bump_ops), 0);
    CU_ASSERT_PTR_NULL(bump_ops.alloc_batch);
    /* the layers offer a batch of their own over a policy without one */
    CU_ASSERT_PTR_NOT_NULL(in.ops.alloc_batch);
    CU_ASSERT_PTR_NOT_NULL(in.check_ops.alloc_batch);
    as_ctx_t ctx = {0, 0, 0, AS_CLASS_NONE, 0};
    as_block_t out[5];
    unsigned got = 99;
    /* budget 3: three 24 -> 32-byte blocks in a row, then AS_ENOMEM */
    int rc = as_policy_alloc_batch(&in.ops, in.st, &ctx, 24, 0, 5, out, &got);
    CU_ASSERT_EQUAL(rc, AS_ENOMEM);
    CU_ASSERT_EQUAL(got, 3);
    uintptr_t base = ((bump_t *)as_check_inner_state(in.check_st))->base;
    for (unsigned i = 0; i < 3; i++) {
        CU_ASSERT_EQUAL(out[i].addr, base + 32 * i);
        CU_ASSERT_EQUAL(out[i].bytes, 32);
    }
    as_stats_counters_t c;
    as_stats_counters(in.st, &c);
    CU_ASSERT_EQUAL(c.allocs, 4); /* three placed, one refused */
    CU_ASSERT_EQUAL(c.failed, 1);
    CU_ASSERT_EQUAL(c.live_blocks, 3);
    CU_ASSERT_EQUAL(c.requested_bytes, 3 * 24);
    CU_ASSERT_EQUAL(c.usable_bytes, 3 * 32);
    CU_ASSERT_EQUAL(as_check_live_blocks(in.check_st), 3);
    CU_ASSERT_EQUAL(as_check_violations(in.check_st), 0);
    for (unsigned i = 0; i < 3; i++)
        CU_ASSERT_EQUAL(in.ops.free(in.st, &ctx, out[i].addr, 24), AS_OK);
    inst_close(&in, "bump");
}

static void test_check_catches_bad_batch(void)
{
    inst_t in;
    CU_ASSERT_EQUAL_FATAL(inst_open(&in, &overlap_ops), 0);
    as_ctx_t ctx = {0, 0, 0, AS_CLASS_NONE, 0};
    as_block_t out[4];
    unsigned got = 99;
    int rc = as_policy_alloc_batch(&in.ops, in.st, &ctx, 32, 0, 4, out, &got);
    bump_t *b = as_check_inner_state(in.check_st);
    CU_ASSERT_EQUAL(b->batches, 1); /* one call into the policy */
    CU_ASSERT_EQUAL(rc, AS_ECHECK);
    CU_ASSERT_EQUAL(got, 1); /* only the block before the bad one */
    CU_ASSERT_EQUAL(out[0].addr, b->base);
    CU_ASSERT_EQUAL(as_check_violations(in.check_st), 1);
    CU_ASSERT_EQUAL(as_check_live_blocks(in.check_st), 1);
    CU_ASSERT(strstr(as_check_last_error(in.check_st), "overlaps_live") !=
              NULL);
    as_stats_counters_t c;
    as_stats_counters(in.st, &c);
    CU_ASSERT_EQUAL(c.live_blocks, 1);
    CU_ASSERT_EQUAL(c.failed, 1);
    CU_ASSERT_EQUAL(in.ops.free(in.st, &ctx, out[0].addr, 32), AS_OK);
    /* close reports the violation once more; the simos is still emptied */
    as_check_close(in.check_st);
    in.ops.destroy(in.st);
    CU_ASSERT_EQUAL(as_simos_counters(in.os)->mapped_bytes, 0);
    as_simos_destroy(in.os);
}

/* stats(check(bump)) with its three blocks of 32 B placed in out[];
 * @return the bump policy's state */
static bump_t *open_three(inst_t *in, const as_ctx_t *ctx, as_block_t *out)
{
    CU_ASSERT_EQUAL_FATAL(inst_open(in, &bump_ops), 0);
    unsigned got = 0;
    CU_ASSERT_EQUAL(
        as_policy_alloc_batch(&in->ops, in->st, ctx, 32, 0, 3, out, &got), 0);
    CU_ASSERT_EQUAL_FATAL(got, 3);
    return as_check_inner_state(in->check_st);
}

static void test_check_catches_double_free_in_batch(void)
{
    inst_t in;
    as_ctx_t ctx = {0, 0, 0, AS_CLASS_NONE, 0};
    as_block_t out[3];
    bump_t *b = open_three(&in, &ctx, out);
    CU_ASSERT_PTR_NOT_NULL(in.ops.free_batch);
    CU_ASSERT_PTR_NOT_NULL(in.check_ops.free_batch);
    uintptr_t addrs[3] = {out[0].addr, out[1].addr, out[0].addr};
    unsigned done = 99;
    int rc = as_policy_free_batch(&in.ops, in.st, &ctx, addrs, 3, &done);
    CU_ASSERT_EQUAL(rc, AS_ECHECK);
    CU_ASSERT_EQUAL(done, 2);
    CU_ASSERT_EQUAL(b->frees, 2); /* the second b0 never reached it */
    CU_ASSERT_EQUAL(as_check_violations(in.check_st), 1);
    CU_ASSERT(strstr(as_check_last_error(in.check_st), "not a live block") !=
              NULL);
    CU_ASSERT_EQUAL(as_check_live_blocks(in.check_st), 1);
    as_stats_counters_t c;
    as_stats_counters(in.st, &c);
    CU_ASSERT_EQUAL(c.frees, 3);
    CU_ASSERT_EQUAL(c.frees_without_size, 3);
    CU_ASSERT_EQUAL(c.failed, 1);
    CU_ASSERT_EQUAL(c.live_blocks, 1);
    CU_ASSERT_EQUAL(in.ops.free(in.st, &ctx, out[2].addr, 32), AS_OK);
    as_check_close(in.check_st); /* reports the violation once more */
    in.ops.destroy(in.st);
    as_simos_destroy(in.os);
}

static void test_free_all_goes_past_refusal(void)
{
    inst_t in;
    as_ctx_t ctx = {0, 0, 0, AS_CLASS_NONE, 0};
    as_block_t out[3];
    bump_t *b = open_three(&in, &ctx, out);
    b->refuse = out[1].addr;
    uintptr_t addrs[3] = {out[0].addr, out[1].addr, out[2].addr};
    unsigned done = 99;
    /* the checking layer's own inner batch stops at the refusal */
    int rc =
        as_policy_free_batch(&in.check_ops, in.check_st, &ctx, addrs, 3, &done);
    CU_ASSERT_EQUAL(rc, AS_ECHECK);
    CU_ASSERT_EQUAL(done, 1);
    CU_ASSERT_EQUAL(b->frees, 2);
    CU_ASSERT_EQUAL(as_check_live_blocks(in.check_st), 1); /* out[2] */
    CU_ASSERT(strstr(as_check_last_error(in.check_st), "refused") != NULL);
    /* free_all goes on past it: out[2] is freed as well */
    CU_ASSERT_EQUAL(
        as_policy_free_all(&in.check_ops, in.check_st, &ctx, addrs + 2, 1),
        AS_OK);
    CU_ASSERT_EQUAL(b->frees, 3);
    CU_ASSERT_EQUAL(as_check_live_blocks(in.check_st), 0);
    /* and over the singles fallback: the first error, every block tried */
    b->frees = 0;
    CU_ASSERT_EQUAL(as_policy_free_all(&bump_ops, b, &ctx, addrs, 3),
                    AS_EINVAL);
    CU_ASSERT_EQUAL(b->frees, 3);
    CU_ASSERT_EQUAL(as_check_violations(in.check_st), 1);
    as_check_close(in.check_st);
    in.ops.destroy(in.st);
    as_simos_destroy(in.os);
}

int main(void)
{
    static const as_test_t tests[] = {
        {"batch_equals_singles", test_batch_equals_singles},
        {"fallback_stops_at_refusal", test_fallback_stops_at_refusal},
        {"check_catches_bad_batch", test_check_catches_bad_batch},
        {"check_catches_double_free_in_batch",
         test_check_catches_double_free_in_batch},
        {"free_all_goes_past_refusal", test_free_all_goes_past_refusal},
        {NULL, NULL}};
    return as_test_main("policies_batch", tests);
}

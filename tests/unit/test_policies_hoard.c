/* test_policies_hoard.c - Hoard and its building blocks, with answers
 * computed by hand.
 *
 * The f/K rule tests build one heap's state step by step with S = 8 KiB and
 * the 64-byte class (128 blocks per superblock, no tail waste), so every
 * threshold is an exact block count:
 *   six full superblocks: a = 6 * 8192 = 49152, u = 768 * 64 = 49152.
 *   K = 4, f = 1/4: u < 0.75 a = 36864 and u < a - 4S = 16384
 *       -> the first move comes when 255 blocks are left (513th free);
 *          then a = 40960: u < 30720 and u < 8192 -> 127 blocks left
 *          (641st free).
 *   K = 0, f = 1/4: u < 36864 -> 575 blocks left (193rd free);
 *          then a = 40960: u < 30720 -> 479 left (289th free).
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "common/param.h"
#include "policies/blocks/freelist.h"
#include "policies/blocks/sizeclass.h"
#include "policies/hoard/hoard.h"
#include "policies/layers/check.h"
#include "policies/layers/stats.h"
#include "policies/policy.h"
#include "sim/simos.h"
#include "tests/unit/testutil.h"

/* ------------------------------------------------------------ fixtures */

typedef struct {
    as_simos_t *os;
    const as_policy_ops_t *ops;
    as_param_value_t params[32];
    void *st;
} fx_t;

/* Make a policy `name` over a fresh simos with "k=v" assignments. */
static void fx_open(fx_t *fx, const char *name, const char *const *assign)
{
    as_simos_config_t oc;
    as_simos_config_default(&oc);
    CU_ASSERT_FATAL(as_simos_create(&oc, &fx->os) == AS_OK);
    fx->ops = as_policy_find(name);
    CU_ASSERT_FATAL(fx->ops != NULL);
    CU_ASSERT_FATAL(as_param_defaults(fx->ops->params, fx->ops->n_params,
                                      fx->params) == AS_OK);
    for (; assign && *assign; assign++)
        CU_ASSERT_FATAL(as_param_set(fx->ops->params, fx->ops->n_params,
                                     fx->params, *assign) == AS_OK);
    as_policy_config_t cfg = {.ps = as_simos_pagesource(fx->os),
                              .params = fx->params};
    CU_ASSERT_FATAL(fx->ops->create(&cfg, &fx->st) == AS_OK);
}

static void fx_close(fx_t *fx)
{
    fx->ops->destroy(fx->st);
    const as_simos_counters_t *c = as_simos_counters(fx->os);
    CU_ASSERT_EQUAL(c->mapped_bytes, 0);
    CU_ASSERT_EQUAL(c->meta_bytes, 0);
    as_simos_destroy(fx->os);
}

static uintptr_t xalloc(fx_t *fx, uint32_t cpu, size_t size)
{
    as_ctx_t ctx = {.cpu = cpu, .thread = cpu, .lifetime_class = AS_CLASS_NONE};
    as_block_t b = {0, 0};
    CU_ASSERT_FATAL(fx->ops->alloc(fx->st, &ctx, size, 0, &b) == AS_OK);
    return b.addr;
}

static void xfree(fx_t *fx, uint32_t cpu, uintptr_t addr, size_t hint)
{
    as_ctx_t ctx = {.cpu = cpu, .thread = cpu, .lifetime_class = AS_CLASS_NONE};
    CU_ASSERT_FATAL(fx->ops->free(fx->st, &ctx, addr, hint) == AS_OK);
}

static as_hoard_figures_t figs(fx_t *fx)
{
    as_hoard_figures_t f;
    as_hoard_figures(fx->st, &f);
    return f;
}

#define SB 8192u
#define NBLK 768 /* six superblocks of 128 64-byte blocks */

/* Fill heap 1 (cpu 0) with six full superblocks of 64-byte blocks. */
static void fill_six(fx_t *fx, uintptr_t *addr)
{
    for (int j = 0; j < NBLK; j++) {
        addr[j] = xalloc(fx, 0, 64);
        uintptr_t base = addr[j / 128 * 128];
        CU_ASSERT_EQUAL_FATAL(base % SB, 0);
        CU_ASSERT_EQUAL_FATAL(addr[j] - base, (uintptr_t)(j % 128) * 64);
    }
    uint64_t a, u;
    CU_ASSERT_EQUAL(as_hoard_heap_usage(fx->st, 1, &a, &u), AS_OK);
    CU_ASSERT_EQUAL(a, 49152);
    CU_ASSERT_EQUAL(u, 49152);
    CU_ASSERT_EQUAL(figs(fx).superblocks_from_os, 6);
    CU_ASSERT_EQUAL(figs(fx).global_superblocks, 0);
}

/* ------------------------------------------------------------ classes */

static void test_sizeclass_geometric(void)
{
    as_simos_t *os;
    as_simos_config_t oc;
    as_simos_config_default(&oc);
    CU_ASSERT_FATAL(as_simos_create(&oc, &os) == AS_OK);
    const as_pagesource_t *ps = as_simos_pagesource(os);
    as_sizeclass_map_t m;
    CU_ASSERT_FATAL(as_sizeclass_init(&m, &ps->meta, AS_SIZECLASS_GEOMETRIC,
                                      1.2, 4096) == AS_OK);
    /* by hand: 16 +16 +16 +16 (64*1.2=76.8->80) 96 (115.2->128) 160 192
     * (230.4->240) 288 (345.6->352) (422.4->432) (518.4->528) (633.6->640)
     * 768 (921.6->928) (1113.6->1152) (1382.4->1408) (1689.6->1792)
     * (2150.4->2176) (2611.2->2688) (3225.6->3328) 3993.6->4096 */
    static const uint32_t want[] = {
        16,  32,  48,  64,  80,  96,   128,  160,  192,  240,  288,  352,
        432, 528, 640, 768, 928, 1152, 1408, 1792, 2176, 2688, 3328, 4096};
    CU_ASSERT_EQUAL_FATAL(m.n, sizeof want / sizeof want[0]);
    for (uint32_t i = 0; i < m.n; i++)
        CU_ASSERT_EQUAL(m.size[i], want[i]);
    CU_ASSERT_EQUAL(as_sizeclass_check(&m), AS_OK);
    CU_ASSERT_EQUAL(as_sizeclass_of(&m, 0), 0);
    CU_ASSERT_EQUAL(as_sizeclass_of(&m, 1), 0);
    CU_ASSERT_EQUAL(as_sizeclass_of(&m, 17), 1);
    CU_ASSERT_EQUAL(as_sizeclass_of(&m, 64), 3);
    CU_ASSERT_EQUAL(as_sizeclass_of(&m, 65), 4);
    CU_ASSERT_EQUAL(as_sizeclass_of(&m, 1025), 17); /* 1152 */
    CU_ASSERT_EQUAL(as_sizeclass_of(&m, 4096), 23);
    CU_ASSERT_EQUAL(as_sizeclass_of(&m, 4097), -1);
    /* 64-byte alignment: 96 is not a multiple of 64, 128 is */
    CU_ASSERT_EQUAL(as_sizeclass_of_aligned(&m, 81, 64), 6);
    as_sizeclass_fini(&m);

    CU_ASSERT_FATAL(
        as_sizeclass_init(&m, &ps->meta, AS_SIZECLASS_POW2, 0, 32768) == AS_OK);
    CU_ASSERT_EQUAL(m.n, 12); /* 16 .. 32 KiB, as today's Hoard source */
    CU_ASSERT_EQUAL(m.size[11], 32768);
    CU_ASSERT_EQUAL(as_sizeclass_check(&m), AS_OK);
    CU_ASSERT_EQUAL(as_sizeclass_of(&m, 2049), 8); /* 4096 */
    as_sizeclass_fini(&m);
    CU_ASSERT_EQUAL(as_simos_counters(os)->meta_bytes, 0);
    as_simos_destroy(os);
}

static void test_slotmap(void)
{
    uint64_t bits[3];
    as_slotmap_t s;
    as_slotmap_reset(&s, bits, 130);
    for (int i = 0; i < 130; i++)
        CU_ASSERT_EQUAL(as_slotmap_take(&s), i);
    CU_ASSERT_EQUAL(as_slotmap_take(&s), -1);
    CU_ASSERT_EQUAL(as_slotmap_put(&s, 70), AS_OK);
    CU_ASSERT_EQUAL(as_slotmap_put(&s, 70), AS_EINVAL); /* double free */
    CU_ASSERT_EQUAL(as_slotmap_put(&s, 3), AS_OK);
    CU_ASSERT_EQUAL(as_slotmap_put(&s, 130), AS_EINVAL);
    CU_ASSERT_EQUAL(s.used, 128);
    CU_ASSERT_EQUAL(as_slotmap_check(&s), AS_OK);
    CU_ASSERT_EQUAL(as_slotmap_take(&s), 3); /* lowest free first */
    CU_ASSERT_EQUAL(as_slotmap_take(&s), 70);
    CU_ASSERT_EQUAL(as_slotmap_check(&s), AS_OK);
}

/* ------------------------------------------------------------ the f/K rule */

/* K = 4 binds: the first superblock moves at the 513th free, not the 512th;
 * the second at the 641st, not the 640th. */
static void test_rule_k_binds(void)
{
    static const char *const p[] = {"superblock=8K", "heaps=2",
                                    "empty_fraction=0.25", "k_superblocks=4",
                                    NULL};
    fx_t fx;
    fx_open(&fx, "hoard", p);
    static uintptr_t addr[NBLK];
    fill_six(&fx, addr);
    /* free superblocks 0..3 completely, in order: 512 frees */
    for (int j = 0; j < 512; j++) {
        xfree(&fx, 1, addr[j], j % 2 ? 64 : 0); /* half without a size */
        CU_ASSERT_EQUAL_FATAL(figs(&fx).global_superblocks, 0);
    }
    uint64_t a, u;
    as_hoard_heap_usage(fx.st, 1, &a, &u);
    CU_ASSERT_EQUAL(a, 49152);
    CU_ASSERT_EQUAL(u, 16384); /* 256 blocks: not < a - 4S = 16384 */
    /* the 513th free crosses: the most recently emptied superblock (3) goes */
    xfree(&fx, 0, addr[512], 64);
    CU_ASSERT_EQUAL(figs(&fx).global_superblocks, 1);
    CU_ASSERT_EQUAL(figs(&fx).to_global, 1);
    CU_ASSERT_EQUAL(as_hoard_owner_of(fx.st, addr[384]), 0);
    CU_ASSERT_EQUAL(as_hoard_owner_of(fx.st, addr[0]), 1);
    as_hoard_heap_usage(fx.st, 1, &a, &u);
    CU_ASSERT_EQUAL(a, 40960);
    CU_ASSERT_EQUAL(u, 16320);
    /* next threshold: u < 40960 - 32768 = 8192, i.e. 127 blocks left */
    for (int j = 513; j < 640; j++) {
        xfree(&fx, 0, addr[j], 0);
        CU_ASSERT_EQUAL_FATAL(figs(&fx).global_superblocks, 1);
    }
    xfree(&fx, 0, addr[640], 0); /* 641st free: 127 blocks left */
    CU_ASSERT_EQUAL(figs(&fx).global_superblocks, 2);
    CU_ASSERT_EQUAL(as_hoard_owner_of(fx.st, addr[512]), 0); /* sb 4, empty */
    CU_ASSERT_EQUAL(as_hoard_verify(fx.st), AS_OK);

    /* Reuse: heap 2 (cpu 1) asks for a 1000-byte block (another class). The
     * global heap has no 1000-byte superblock, so its empty head (sb 4, the
     * last moved) is recycled: the block is its first slot. */
    uintptr_t b = xalloc(&fx, 1, 1000);
    CU_ASSERT_EQUAL(b, addr[512]);
    CU_ASSERT_EQUAL(as_hoard_owner_of(fx.st, b), 2);
    CU_ASSERT_EQUAL(figs(&fx).superblocks_from_os, 6);
    CU_ASSERT_EQUAL(figs(&fx).reformats, 1);
    CU_ASSERT_EQUAL(figs(&fx).from_global, 1);
    CU_ASSERT_EQUAL(fx.ops->usable_size(fx.st, b), 1152); /* 928 < 1000 */
    as_hoard_heap_usage(fx.st, 2, &a, &u);
    CU_ASSERT_EQUAL(a, 8192);
    CU_ASSERT_EQUAL(u, 1152);
    /* and the next one, a 64-byte block on cpu 1, takes sb 3 */
    CU_ASSERT_EQUAL(xalloc(&fx, 1, 64), addr[384]);
    CU_ASSERT_EQUAL(figs(&fx).global_superblocks, 0);
    CU_ASSERT_EQUAL(figs(&fx).superblocks_from_os, 6);
    CU_ASSERT_EQUAL(as_hoard_verify(fx.st), AS_OK);
    fx_close(&fx);
}

/* K = 0, f = 1/4 binds: 193rd and 289th frees. */
static void test_rule_f_binds(void)
{
    static const char *const p[] = {"superblock=8K", "heaps=2",
                                    "empty_fraction=0.25", "k_superblocks=0",
                                    NULL};
    fx_t fx;
    fx_open(&fx, "hoard", p);
    static uintptr_t addr[NBLK];
    fill_six(&fx, addr);
    for (int j = 0; j < 192; j++) {
        xfree(&fx, 0, addr[j], 0);
        CU_ASSERT_EQUAL_FATAL(figs(&fx).global_superblocks, 0);
    }
    xfree(&fx, 0, addr[192], 0); /* 575 left: 36800 < 36864 */
    CU_ASSERT_EQUAL(figs(&fx).global_superblocks, 1);
    CU_ASSERT_EQUAL(as_hoard_owner_of(fx.st, addr[0]), 0);   /* empty sb 0 */
    CU_ASSERT_EQUAL(as_hoard_owner_of(fx.st, addr[128]), 1); /* 63 used */
    for (int j = 193; j < 288; j++) {
        xfree(&fx, 0, addr[j], 0);
        CU_ASSERT_EQUAL_FATAL(figs(&fx).global_superblocks, 1);
    }
    xfree(&fx, 0, addr[288], 0); /* 479 left: 30656 < 30720 */
    CU_ASSERT_EQUAL(figs(&fx).global_superblocks, 2);
    CU_ASSERT_EQUAL(as_hoard_owner_of(fx.st, addr[128]), 0); /* sb 1 empty */
    CU_ASSERT_EQUAL(as_hoard_owner_of(fx.st, addr[256]), 1); /* 95 used */
    CU_ASSERT_EQUAL(as_hoard_verify(fx.st), AS_OK);
    fx_close(&fx);
}

/* No superblock empty: the emptiest by used/capacity moves, and another heap
 * reuses it for the same class, from its lowest free slot. */
static void test_rule_moves_emptiest(void)
{
    static const char *const p[] = {"superblock=8K", "heaps=2",
                                    "empty_fraction=0.25", "k_superblocks=0",
                                    NULL};
    fx_t fx;
    fx_open(&fx, "hoard", p);
    static uintptr_t addr[NBLK];
    fill_six(&fx, addr);
    int n = 0;
    /* 50 from sb 0, 60 from sb 1, 70 from sb 2, then sb 5: 193rd crosses */
    static const int from[4] = {0, 1, 2, 5}, count[4] = {50, 60, 70, 13};
    for (int k = 0; k < 4; k++) {
        for (int i = 0; i < count[k]; i++) {
            CU_ASSERT_EQUAL_FATAL(figs(&fx).global_superblocks, 0);
            xfree(&fx, 1, addr[from[k] * 128 + i], 64);
            n++;
        }
    }
    CU_ASSERT_EQUAL(n, 193);
    CU_ASSERT_EQUAL(figs(&fx).global_superblocks, 1);
    CU_ASSERT_EQUAL(as_hoard_owner_of(fx.st, addr[256]), 0); /* sb 2: 58/128 */
    for (int k = 0; k < 6; k++)
        if (k != 2) CU_ASSERT_EQUAL(as_hoard_owner_of(fx.st, addr[k * 128]), 1);
    /* heap 2 allocates 64 bytes: the global heap's class-64 superblock */
    uintptr_t b = xalloc(&fx, 1, 50);
    CU_ASSERT_EQUAL(b, addr[256]); /* slot 0 of sb 2 was freed first */
    CU_ASSERT_EQUAL(as_hoard_owner_of(fx.st, b), 2);
    uint64_t a, u;
    as_hoard_heap_usage(fx.st, 2, &a, &u);
    CU_ASSERT_EQUAL(a, 8192);
    CU_ASSERT_EQUAL(u, 59 * 64);
    CU_ASSERT_EQUAL(figs(&fx).reformats, 0);
    /* a block freed on cpu 0 that lives in sb 2 returns to heap 2, whose
     * u = 58*64 = 3712 < 0.75 * 8192 and < 8192 - 0: with K = 0 the rule
     * sends sb 2 straight back to the global heap */
    xfree(&fx, 0, addr[256 + 100], 0);
    as_hoard_heap_usage(fx.st, 2, &a, &u);
    CU_ASSERT_EQUAL(a, 0);
    CU_ASSERT_EQUAL(u, 0);
    as_hoard_heap_usage(fx.st, 0, &a, &u);
    CU_ASSERT_EQUAL(a, 8192);
    CU_ASSERT_EQUAL(u, 58 * 64);
    CU_ASSERT_EQUAL(figs(&fx).to_global, 2);
    CU_ASSERT_EQUAL(as_hoard_verify(fx.st), AS_OK);
    fx_close(&fx);
}

/* Rule scope: heap 1 holds six full 64-byte superblocks and four full
 * 128-byte ones (a = 10 S = 81920). Freeing 64-byte blocks in order:
 *   scope=class: u_64 < 0.75 * 6S = 36864 -> the 193rd free moves sb 0;
 *   scope=heap:  u < 0.75 * 81920 = 61440 -> u drops by 64 per free from
 *                81920, so the 321st free (u = 61376) moves sb 1 (the most
 *                recently emptied; sb 0 and sb 1 are empty by then). */
static void rule_scope_case(int per_class)
{
    const char *p[] = {"superblock=8K",
                       "heaps=2",
                       "empty_fraction=0.25",
                       "k_superblocks=0",
                       per_class ? "rule_scope=class" : "rule_scope=heap",
                       NULL};
    fx_t fx;
    fx_open(&fx, "hoard", p);
    static uintptr_t addr[NBLK];
    fill_six(&fx, addr);
    for (int j = 0; j < 256; j++)
        xalloc(&fx, 0, 128);
    uint64_t a, u;
    as_hoard_heap_usage(fx.st, 1, &a, &u);
    CU_ASSERT_EQUAL(a, 81920);
    CU_ASSERT_EQUAL(u, 81920);
    int moved_at = 0;
    for (int j = 0; j < 400 && !moved_at; j++) {
        xfree(&fx, 0, addr[j], 0);
        if (figs(&fx).global_superblocks) moved_at = j + 1;
    }
    CU_ASSERT_EQUAL(moved_at, per_class ? 193 : 321);
    CU_ASSERT_EQUAL(as_hoard_owner_of(fx.st, addr[per_class ? 0 : 128]), 0);
    CU_ASSERT_EQUAL(figs(&fx).global_superblocks, 1);
    CU_ASSERT_EQUAL(as_hoard_verify(fx.st), AS_OK);
    fx_close(&fx);
}

static void test_rule_scope(void)
{
    rule_scope_case(1);
    rule_scope_case(0);
}

/* Objects above S/2 are page runs; bad frees are refused. */
static void test_large_and_errors(void)
{
    fx_t fx;
    fx_open(&fx, "hoard", NULL);
    const as_simos_counters_t *c = as_simos_counters(fx.os);
    uintptr_t s = xalloc(&fx, 0, 4096); /* the largest class, S/2 */
    CU_ASSERT_EQUAL(fx.ops->usable_size(fx.st, s), 4096);
    CU_ASSERT_EQUAL(c->mapped_bytes, 8192);
    uintptr_t l = xalloc(&fx, 0, 4097);
    CU_ASSERT_EQUAL(l % 4096, 0);
    CU_ASSERT_EQUAL(fx.ops->usable_size(fx.st, l), 8192);
    CU_ASSERT_EQUAL(c->mapped_bytes, 16384);
    CU_ASSERT_EQUAL(figs(&fx).large_allocs, 1);
    CU_ASSERT_EQUAL(figs(&fx).in_use_bytes, 4096 + 8192);
    as_ctx_t ctx = {.cpu = 0};
    CU_ASSERT_EQUAL(fx.ops->free(fx.st, &ctx, s + 16, 0), AS_EINVAL);
    xfree(&fx, 0, l, 0);
    CU_ASSERT_EQUAL(c->mapped_bytes, 8192);
    CU_ASSERT_EQUAL(fx.ops->free(fx.st, &ctx, l, 0), AS_EINVAL);
    xfree(&fx, 0, s, 4096);
    CU_ASSERT_EQUAL(fx.ops->free(fx.st, &ctx, s, 0), AS_EINVAL); /* double */
    /* aligned small request: 64-byte alignment for 81 bytes -> 128 class */
    as_block_t b;
    CU_ASSERT_EQUAL(fx.ops->alloc(fx.st, &ctx, 81, 64, &b), AS_OK);
    CU_ASSERT_EQUAL(b.addr % 64, 0);
    CU_ASSERT_EQUAL(b.bytes, 128);
    CU_ASSERT_EQUAL(fx.ops->alloc(fx.st, &ctx, 100, 8192, &b), AS_OK);
    CU_ASSERT_EQUAL(b.addr % 8192, 0);
    CU_ASSERT_EQUAL(figs(&fx).peak_footprint_bytes, 16384);
    CU_ASSERT_EQUAL(as_hoard_verify(fx.st), AS_OK);
    fx_close(&fx); /* live blocks are returned by destroy */
}

/* ------------------------------------------------------------ stats layer */

typedef struct {
    uint64_t usable[8], allocs[8], live[8], peak[8];
    int n;
} class_rows_t;

static void collect_class(void *arg, uint64_t usable, uint64_t allocs,
                          uint64_t live, uint64_t peak_live)
{
    class_rows_t *r = arg;
    if (r->n < 8) {
        r->usable[r->n] = usable;
        r->allocs[r->n] = allocs;
        r->live[r->n] = live;
        r->peak[r->n] = peak_live;
    }
    r->n++;
}

typedef struct {
    int n, saw_hoard, saw_le_8k;
    double le_8k_usable;
} stat_seen_t;

static void see_stat(void *arg, const char *name, double value)
{
    stat_seen_t *s = arg;
    s->n++;
    if (strcmp(name, "superblocks_from_os") == 0) s->saw_hoard = 1;
    if (strcmp(name, "stats_hist_le_8K_usable_bytes") == 0) {
        s->saw_le_8k = 1;
        s->le_8k_usable = value;
    }
}

/* Requests 1, 17, 100, 5000, 64, 64 through hoard (S = 8K, b = 1.2):
 * usable 16, 32, 128, 8192 (a page run: 5000 > S/2), 64, 64. */
static void test_stats_layer(void)
{
    as_simos_t *os;
    as_simos_config_t oc;
    as_simos_config_default(&oc);
    CU_ASSERT_FATAL(as_simos_create(&oc, &os) == AS_OK);
    const as_policy_ops_t *hoard = as_policy_find("hoard");
    as_param_value_t pv[16];
    as_param_defaults(hoard->params, hoard->n_params, pv);
    as_policy_config_t cfg = {.ps = as_simos_pagesource(os), .params = pv};
    as_policy_ops_t ops;
    void *st;
    CU_ASSERT_FATAL(as_stats_wrap(hoard, &cfg, NULL, &ops, &st) == AS_OK);
    CU_ASSERT_PTR_NULL(ops.realloc);
    CU_ASSERT_EQUAL(ops.create(&cfg, &st), AS_EUNSUPPORTED);
    as_ctx_t ctx = {.cpu = 0};
    static const size_t req[6] = {1, 17, 100, 5000, 64, 64};
    static const size_t want[6] = {16, 32, 128, 8192, 64, 64};
    uintptr_t a[6];
    for (int i = 0; i < 6; i++) {
        as_block_t b;
        CU_ASSERT_FATAL(ops.alloc(st, &ctx, req[i], 0, &b) == AS_OK);
        CU_ASSERT_EQUAL(b.bytes, want[i]);
        a[i] = b.addr;
    }
    CU_ASSERT_EQUAL(ops.free(st, &ctx, a[3], 0), AS_OK);
    CU_ASSERT_EQUAL(ops.free(st, &ctx, a[3], 0), AS_EINVAL);
    as_stats_counters_t c;
    as_stats_counters(st, &c);
    CU_ASSERT_EQUAL(c.allocs, 6);
    CU_ASSERT_EQUAL(c.frees, 2);
    CU_ASSERT_EQUAL(c.failed, 1);
    CU_ASSERT_EQUAL(c.frees_without_size, 2);
    CU_ASSERT_EQUAL(c.requested_bytes, 5246);
    CU_ASSERT_EQUAL(c.usable_bytes, 8496);
    CU_ASSERT_EQUAL(c.live_blocks, 5);
    CU_ASSERT_EQUAL(c.live_requested_bytes, 246);
    CU_ASSERT_EQUAL(c.live_usable_bytes, 304);
    CU_ASSERT_EQUAL(c.peak_live_requested_bytes, 5246);
    CU_ASSERT_EQUAL(c.peak_live_usable_bytes, 8496);
    CU_ASSERT_EQUAL(c.hist_allocs[0], 1); /* <= 16 */
    CU_ASSERT_EQUAL(c.hist_allocs[1], 1); /* 17 */
    CU_ASSERT_EQUAL(c.hist_allocs[2], 2); /* 64, 64 */
    CU_ASSERT_EQUAL(c.hist_allocs[3], 1); /* 100 */
    CU_ASSERT_EQUAL(c.hist_allocs[9], 1); /* 5000 <= 8K */
    CU_ASSERT_EQUAL(c.hist_usable_bytes[9], 8192);
    class_rows_t rows = {.n = 0};
    CU_ASSERT_EQUAL(as_stats_classes(st, collect_class, &rows), 5);
    static const uint64_t cls[5] = {16, 32, 64, 128, 8192};
    for (int i = 0; i < 5; i++)
        CU_ASSERT_EQUAL(rows.usable[i], cls[i]);
    CU_ASSERT_EQUAL(rows.allocs[2], 2);
    CU_ASSERT_EQUAL(rows.live[2], 2);
    CU_ASSERT_EQUAL(rows.live[4], 0);
    CU_ASSERT_EQUAL(rows.peak[4], 1);
    stat_seen_t seen = {0};
    ops.stats(st, see_stat, &seen);
    CU_ASSERT(seen.saw_hoard);
    CU_ASSERT(seen.saw_le_8k);
    CU_ASSERT_EQUAL(seen.le_8k_usable, 8192);
    ops.destroy(st);
    CU_ASSERT_EQUAL(as_simos_counters(os)->mapped_bytes, 0);
    CU_ASSERT_EQUAL(as_simos_counters(os)->meta_bytes, 0);
    as_simos_destroy(os);
}

/* ------------------------------------------------------------ checked run */

static uint64_t rng_next(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* A seeded random workload through stats(check(policy)) for the three
 * policies of this part: allocations on random CPUs, frees on other random
 * CPUs (half without a size), sizes up to 20 KB and a few 100 KB, some
 * aligned up to 8 KiB. No check violation; the layers agree on live blocks;
 * destroy returns every byte. */
static void run_checked(const char *name, const char *const *assign)
{
    as_simos_t *os;
    as_simos_config_t oc;
    as_simos_config_default(&oc);
    CU_ASSERT_FATAL(as_simos_create(&oc, &os) == AS_OK);
    const as_policy_ops_t *pol = as_policy_find(name);
    CU_ASSERT_FATAL(pol != NULL);
    as_param_value_t pv[16];
    CU_ASSERT_FATAL(as_param_defaults(pol->params, pol->n_params, pv) == AS_OK);
    for (; assign && *assign; assign++)
        CU_ASSERT_FATAL(as_param_set(pol->params, pol->n_params, pv, *assign) ==
                        AS_OK);
    as_policy_config_t cfg = {.ps = as_simos_pagesource(os), .params = pv};
    as_policy_ops_t cops, sops;
    void *cst, *sst;
    CU_ASSERT_FATAL(as_check_wrap(pol, &cfg, NULL, &cops, &cst) == AS_OK);
    CU_ASSERT_FATAL(as_stats_wrap_instance(&cops, cst, &cfg.ps->meta, &sops,
                                           &sst) == AS_OK);
    enum { SLOTS = 2000, OPS = 60000 };
    static uintptr_t addr[SLOTS];
    static size_t size[SLOTS];
    memset(addr, 0, sizeof addr);
    uint64_t seed = 0x9e3779b97f4a7c15ull, live = 0;
    int violations = 0;
    for (int i = 0; i < OPS; i++) {
        uint64_t r = rng_next(&seed);
        int slot = (int)(r % SLOTS);
        as_ctx_t ctx = {.cpu = (uint32_t)(r >> 32) % 6,
                        .thread = (uint32_t)(r >> 40) % 6};
        if (addr[slot]) {
            size_t hint = (r >> 50) & 1 ? size[slot] : 0;
            if (sops.free(sst, &ctx, addr[slot], hint) != AS_OK) violations++;
            addr[slot] = 0;
            live--;
            continue;
        }
        uint64_t q = rng_next(&seed);
        size_t sz = q % 100 < 70   ? q % 600
                    : q % 100 < 97 ? q % 20000
                                   : 100000 + q % 7;
        size_t align = q % 13 == 0 ? (size_t)16 << ((q >> 20) % 10) : 0;
        as_block_t b;
        if (sops.alloc(sst, &ctx, sz, align, &b) != AS_OK) {
            violations++;
            continue;
        }
        addr[slot] = b.addr;
        size[slot] = sz;
        live++;
        if (i % 5000 == 0 && strcmp(name, "private-heaps") != 0)
            CU_ASSERT_EQUAL(as_hoard_verify(as_check_inner_state(cst)), AS_OK);
    }
    if (violations) fprintf(stderr, "%s: %s\n", name, as_check_last_error(cst));
    CU_ASSERT_EQUAL(violations, 0);
    CU_ASSERT_EQUAL(as_check_violations(cst), 0);
    CU_ASSERT_EQUAL(as_check_verify(cst), AS_OK);
    as_stats_counters_t c;
    as_stats_counters(sst, &c);
    CU_ASSERT_EQUAL(c.live_blocks, live);
    CU_ASSERT_EQUAL(as_check_live_blocks(cst), live);
    CU_ASSERT_EQUAL(c.allocs - c.frees, live);
    CU_ASSERT(c.usable_bytes >= c.requested_bytes);
    /* free half of what is left, then let destroy take the rest */
    for (int s = 0; s < SLOTS; s += 2) {
        if (!addr[s]) continue;
        as_ctx_t ctx = {.cpu = (uint32_t)s % 6};
        CU_ASSERT_EQUAL(sops.free(sst, &ctx, addr[s], 0), AS_OK);
    }
    CU_ASSERT_EQUAL(as_check_close(cst), AS_OK);
    sops.destroy(sst);
    CU_ASSERT_EQUAL(as_simos_counters(os)->mapped_bytes, 0);
    CU_ASSERT_EQUAL(as_simos_counters(os)->meta_bytes, 0);
    as_simos_destroy(os);
}

static void test_checked_random(void)
{
    static const char *const paper[] = {NULL};
    static const char *const source[] = {
        "superblock=256K",    "classes=pow2",     "empty_fraction=0.125",
        "k_superblocks=2",    "heaps=128",        "large_threshold=32K",
        "heap_select=thread", "rule_scope=class", NULL};
    static const char *const small[] = {"superblock=4K", "heaps=3",
                                        "k_superblocks=0", NULL};
    run_checked("hoard", paper);
    run_checked("hoard", source);
    run_checked("hoard", small);
    run_checked("ownership-heaps", paper);
    run_checked("private-heaps", paper);
    static const char *const psrc[] = {"superblock=64K", "classes=pow2",
                                       "heap_select=thread", NULL};
    run_checked("private-heaps", psrc);
}

static const as_test_t tests[] = {
    {"sizeclass_geometric", test_sizeclass_geometric},
    {"slotmap", test_slotmap},
    {"rule_k_binds", test_rule_k_binds},
    {"rule_f_binds", test_rule_f_binds},
    {"rule_moves_emptiest", test_rule_moves_emptiest},
    {"rule_scope", test_rule_scope},
    {"large_and_errors", test_large_and_errors},
    {"stats_layer", test_stats_layer},
    {"checked_random", test_checked_random},
    {NULL, NULL},
};

int main(void)
{
    return as_test_main("policies_hoard", tests);
}

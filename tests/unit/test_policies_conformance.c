/* test_policies_conformance.c - every registered policy, behind the checking
 * layer, over the simulated OS.
 *
 * For each policy of the registry (as_policy_count / as_policy_at), so a new
 * policy is tested the moment it is registered:
 *   workload: a seeded random mix of allocs, frees and reallocs, sizes 0 B to
 *     4 MiB, alignments 16 B to 64 KiB, half the frees with size_hint 0,
 *     lifetime classes and CPUs varying, ticks interleaved; every block is
 *     touched in the simulated OS. Asserts: no check violation, every block
 *     freed, the policy's state checks (as_check_verify), and after destroy
 *     the simos holds no mapping and no metadata; run twice, the workload
 *     gets the same addresses (rule 4: determinism). The policy's own check
 *     hook runs every 500 operations and at close (any failure turns the
 *     next call into AS_ECHECK); a third run goes over a page source that
 *     places every reservation without a hint at a scattered address, not
 *     the lowest free one (rule 7: nothing may depend on lowest-first).
 *   edges: zero-byte requests give distinct blocks; 2^63 and SIZE_MAX bytes
 *     are refused with AS_ETOO_LARGE or AS_ENOMEM, not a crash or violation.
 * The first tests prove the checking layer itself catches each kind of bug,
 * with a deliberately broken policy defined here.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/rng.h"
#include "policies/bestfit/bestfit.h"
#include "policies/glibc/glibc.h"
#include "policies/heaps/private_heaps.h"
#include "policies/hoard/hoard.h"
#include "policies/layers/check.h"
#include "policies/llama/llama.h"
#include "policies/policy.h"
#include "policies/tcmalloc/tc_internal.h"
#include "sim/simos.h"
#include "tests/unit/testutil.h"

typedef struct {
    as_simos_t *os;
    as_param_value_t params[128];
    as_policy_config_t cfg;
    as_policy_ops_t ops;     /* the checked table */
    void *st;                /* the checking layer's state */
    as_pagesource_t scatter; /* simos with scattered placement */
    uint64_t scatter_draws;  /* reservations placed so far */
    const as_pagesource_t *os_ps;
} harness_t;

/* The scattering page source: a reservation without a hint asks the simos
 * for a pseudo-random aligned address in a 64 GiB window (granted when that
 * range is free, as mmap grants a hint), so consecutive reservations are
 * neither adjacent nor ascending. Everything else goes straight through. */
static int scatter_reserve(void *st, uintptr_t hint, size_t bytes, size_t align,
                           uintptr_t *addr)
{
    harness_t *h = st;
    if (!hint) {
        uint64_t x = ++h->scatter_draws * 0x9e3779b97f4a7c15ull;
        x ^= x >> 29;
        hint = (uintptr_t)0x100000000000ull + (x % (1ull << 36));
        hint &= ~(uintptr_t)(align - 1);
    }
    return as_ps_reserve(h->os_ps, hint, bytes, align, addr);
}

static int scatter_release(void *st, uintptr_t a, size_t bytes)
{
    return as_ps_release(((harness_t *)st)->os_ps, a, bytes);
}

static int scatter_unreserve(void *st, uintptr_t a, size_t bytes)
{
    return as_ps_unreserve(((harness_t *)st)->os_ps, a, bytes);
}

static int scatter_hint(void *st, uintptr_t a, size_t bytes, int enable)
{
    return as_ps_hugepage_hint(((harness_t *)st)->os_ps, a, bytes, enable);
}

static const as_pagesource_ops_t scatter_ops = {
    scatter_reserve, scatter_release, scatter_unreserve, scatter_hint};

/* Create `p` behind the checking layer over a fresh simos (THP always),
 * seen through the scattering page source when `scatter`. */
static int harness_open_ps(harness_t *h, const as_policy_ops_t *p, int scatter)
{
    memset(h, 0, sizeof *h);
    as_simos_config_t oc;
    as_simos_config_default(&oc);
    if (as_simos_create(&oc, &h->os)) return -1;
    h->os_ps = as_simos_pagesource(h->os);
    h->scatter = *h->os_ps;
    h->scatter.ops = &scatter_ops;
    h->scatter.state = h;
    if (as_test_policy_config(p, scatter ? &h->scatter : h->os_ps, h->params,
                              128, &h->cfg))
        return -2;
    return as_check_wrap(p, &h->cfg, NULL, &h->ops, &h->st);
}

static int harness_open(harness_t *h, const as_policy_ops_t *p)
{
    return harness_open_ps(h, p, 0);
}

/* Close the instance and assert the simos is empty again. */
static void harness_close(harness_t *h, const char *name)
{
    int rc = as_check_close(h->st);
    CU_ASSERT_EQUAL(rc, 0);
    if (rc) fprintf(stderr, "%s: %s\n", name, as_check_last_error(h->st));
    h->ops.destroy(h->st);
    const as_simos_counters_t *c = as_simos_counters(h->os);
    CU_ASSERT_EQUAL(c->mapped_bytes, 0);
    CU_ASSERT_EQUAL(c->meta_bytes, 0);
    if (c->mapped_bytes || c->meta_bytes)
        fprintf(stderr, "%s: leaked %llu mapped, %llu metadata bytes\n", name,
                (unsigned long long)c->mapped_bytes,
                (unsigned long long)c->meta_bytes);
    CU_ASSERT_EQUAL(as_simos_check(h->os), 0);
    as_simos_destroy(h->os);
}

/* ---- the checking layer catches a broken policy ---- */

/* "evil": a bump allocator whose bugs are switched on by `mode`. */
enum {
    EVIL_OK,
    EVIL_OVERLAP,   /* every block at the same address */
    EVIL_MISALIGN,  /* blocks 8 bytes off the asked alignment */
    EVIL_SHORT,     /* blocks one byte short */
    EVIL_OUTSIDE,   /* blocks past the reservation */
    EVIL_UNRESERVE, /* free() unreserves the heap with live blocks in it */
    EVIL_LEAK_MAP,  /* destroy keeps its reservation */
    EVIL_LEAK_META, /* destroy keeps its metadata */
};
static int evil_mode;

typedef struct {
    const as_pagesource_t *ps;
    uintptr_t base, next;
    void *meta;
} evil_t;

static int evil_create(const as_policy_config_t *cfg, void **state)
{
    evil_t *e = as_mem_alloc(&cfg->ps->meta, sizeof *e);
    if (!e) return AS_ENOMEM;
    e->ps = cfg->ps;
    if (as_ps_reserve(cfg->ps, 0, 1 << 20, 4096, &e->base)) return AS_ENOMEM;
    e->next = e->base;
    *state = e;
    return 0;
}

static int evil_alloc(void *s, const as_ctx_t *ctx, size_t size, size_t align,
                      as_block_t *out)
{
    evil_t *e = s;
    (void)ctx;
    if (!align) align = 16;
    size_t bytes = size ? (size + 15) & ~(size_t)15 : 16;
    e->next = (e->next + align - 1) & ~(uintptr_t)(align - 1);
    out->addr = e->next;
    out->bytes = bytes;
    if (evil_mode != EVIL_OVERLAP) e->next += bytes;
    if (evil_mode == EVIL_MISALIGN) out->addr += 8;
    if (evil_mode == EVIL_SHORT) out->bytes = size - 1;
    if (evil_mode == EVIL_OUTSIDE) out->addr += 1 << 20;
    return 0;
}

static int evil_free(void *s, const as_ctx_t *ctx, uintptr_t addr, size_t hint)
{
    evil_t *e = s;
    (void)ctx, (void)addr, (void)hint;
    if (evil_mode == EVIL_UNRESERVE) {
        as_ps_unreserve(e->ps, e->base, 1 << 20); /* result ignored */
        evil_mode = EVIL_OK;
    }
    return 0;
}

static evil_t *evil_leaked; /* the state EVIL_LEAK_META left behind */

static void evil_destroy(void *s)
{
    evil_t *e = s;
    if (evil_mode != EVIL_LEAK_MAP) as_ps_unreserve(e->ps, e->base, 1 << 20);
    if (evil_mode != EVIL_LEAK_META)
        as_mem_free(&e->ps->meta, e, sizeof *e);
    else
        evil_leaked = e;
}

static const as_policy_ops_t evil_ops = {
    .name = "evil",
    .doc = "test policy with switchable bugs",
    .create = evil_create,
    .alloc = evil_alloc,
    .free = evil_free,
    .destroy = evil_destroy,
};

static const as_ctx_t ctx0 = {0, 0, 0, AS_CLASS_NONE, 0};

/* Open evil in `mode`, make two allocations and free the first; @return the
 * first AS_ECHECK seen (or 0) and leave the message in msg. */
static int evil_run(int mode, char *msg, size_t cap)
{
    harness_t h;
    evil_mode = EVIL_OK;
    CU_ASSERT_EQUAL_FATAL(harness_open(&h, &evil_ops), 0);
    evil_mode = mode;
    as_block_t a, b;
    int rc = h.ops.alloc(h.st, &ctx0, 100, 64, &a);
    if (!rc) rc = h.ops.alloc(h.st, &ctx0, 100, 64, &b);
    if (!rc) rc = h.ops.free(h.st, &ctx0, a.addr, 0);
    if (!rc) rc = h.ops.free(h.st, &ctx0, b.addr, 0);
    if (!rc) rc = as_check_close(h.st);
    snprintf(msg, cap, "%s", as_check_last_error(h.st));
    uint64_t v = as_check_violations(h.st);
    h.ops.destroy(h.st);
    if (evil_leaked) { /* give the planted leak back, so ASan stays quiet */
        as_mem_free(&as_simos_pagesource(h.os)->meta, evil_leaked,
                    sizeof *evil_leaked);
        evil_leaked = NULL;
    }
    as_simos_destroy(h.os); /* a leaked reservation goes with the simos */
    CU_ASSERT_EQUAL(rc == AS_ECHECK, v > 0);
    evil_mode = EVIL_OK;
    return rc;
}

static void test_check_catches(void)
{
    char msg[400];
    CU_ASSERT_EQUAL(evil_run(EVIL_OK, msg, sizeof msg), 0);
    CU_ASSERT_STRING_EQUAL(msg, "");
    static const struct {
        int mode;
        const char *needle;
    } cases[] = {
        {EVIL_OVERLAP, "overlaps_live"},
        {EVIL_MISALIGN, "misaligned_block"},
        {EVIL_SHORT, "short_block"},
        {EVIL_OUTSIDE, "unreserved_block"},
        {EVIL_UNRESERVE, "unreserve of unreserved memory or of a live block"},
        {EVIL_LEAK_MAP, "destroy left address space reserved"},
        {EVIL_LEAK_META, "destroy left metadata allocated"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int rc = evil_run(cases[i].mode, msg, sizeof msg);
        CU_ASSERT_EQUAL(rc, AS_ECHECK);
        CU_ASSERT_PTR_NOT_NULL(strstr(msg, cases[i].needle));
        if (rc != AS_ECHECK || !strstr(msg, cases[i].needle))
            fprintf(stderr, "mode %d: rc %d msg '%s'\n", cases[i].mode, rc,
                    msg);
    }
}

/* Double free and free of an unknown address are caught before the policy
 * sees them; the message names the address. */
static void test_check_double_free(void)
{
    harness_t h;
    evil_mode = EVIL_OK;
    CU_ASSERT_EQUAL_FATAL(harness_open(&h, &evil_ops), 0);
    as_block_t a;
    CU_ASSERT_EQUAL(h.ops.alloc(h.st, &ctx0, 32, 0, &a), 0);
    CU_ASSERT_EQUAL(as_check_live_blocks(h.st), 1);
    CU_ASSERT_EQUAL(h.ops.free(h.st, &ctx0, a.addr, 32), 0);
    CU_ASSERT_EQUAL(h.ops.free(h.st, &ctx0, a.addr, 32), AS_ECHECK);
    char want[64];
    snprintf(want, sizeof want, "addr=0x%llx", (unsigned long long)a.addr);
    CU_ASSERT_PTR_NOT_NULL(strstr(as_check_last_error(h.st), "double free"));
    CU_ASSERT_PTR_NOT_NULL(strstr(as_check_last_error(h.st), want));
    CU_ASSERT_EQUAL(h.ops.free(h.st, &ctx0, 12345, 0), AS_ECHECK);
    CU_ASSERT_EQUAL(as_check_violations(h.st), 2);
    /* later good calls succeed again */
    CU_ASSERT_EQUAL(h.ops.alloc(h.st, &ctx0, 32, 0, &a), 0);
    CU_ASSERT_EQUAL(h.ops.free(h.st, &ctx0, a.addr, 0), 0);
    CU_ASSERT_EQUAL(as_check_verify(h.st), 0);
    CU_ASSERT_EQUAL(as_check_reserved_bytes(h.st), 1 << 20);
    harness_close(&h, "evil");
}

/* ---- each policy's check hook catches a corrupted state ---- */

static int tc_corrupt(void *state)
{
    ((tc_t *)state)->filler.used_pages++; /* no tracker holds that page */
    return 0;
}

/* For every policy: a few live blocks of each size range, the hook passes;
 * the test-only corruption entry skews one invariant; the hook (run by the
 * layer) fails naming it; close reports it again and still frees all. */
static void test_check_hook_catches(void)
{
    static const struct {
        const char *policy;
        int (*corrupt)(void *state);
        const char *needle;
    } cases[] = {
        {"bestfit", as_bestfit_debug_corrupt, "free_bytes"},
        {"hoard", as_hoard_debug_corrupt, "heap=1"},
        {"ownership-heaps", as_hoard_debug_corrupt, "heap=1"},
        {"llama", as_llama_debug_corrupt, "freemap"},
        {"private-heaps", as_private_heaps_debug_corrupt, "free_list_bytes"},
        {"tcmalloc", tc_corrupt, "filler"},
        {"glibc", as_glibc_debug_corrupt, "binned counters"},
    };
    size_t n = sizeof cases / sizeof cases[0];
    CU_ASSERT_EQUAL(n, as_policy_count()); /* a new policy needs a case */
    for (size_t i = 0; i < n; i++) {
        harness_t h;
        const as_policy_ops_t *p = as_policy_find(cases[i].policy);
        CU_ASSERT_PTR_NOT_NULL_FATAL(p);
        CU_ASSERT_EQUAL_FATAL(harness_open(&h, p), 0);
        as_check_set_every(h.st, 0);
        static const size_t sizes[] = {24, 24, 100, 3000, 40000, 300000};
        as_block_t b[6];
        for (int k = 0; k < 6; k++)
            CU_ASSERT_EQUAL(h.ops.alloc(h.st, &ctx0, sizes[k], 0, &b[k]), 0);
        CU_ASSERT_EQUAL(h.ops.free(h.st, &ctx0, b[1].addr, 0), 0);
        CU_ASSERT_EQUAL(as_check_run(h.st), 0);
        CU_ASSERT_EQUAL(h.ops.check(h.st, NULL), 0);
        CU_ASSERT_EQUAL(cases[i].corrupt(as_check_inner_state(h.st)), 0);
        CU_ASSERT_EQUAL(as_check_run(h.st), AS_ECHECK);
        const char *msg = as_check_last_error(h.st);
        CU_ASSERT_PTR_NOT_NULL(strstr(msg, "invariant broken"));
        CU_ASSERT_PTR_NOT_NULL(strstr(msg, cases[i].needle));
        if (!strstr(msg, cases[i].needle))
            fprintf(stderr, "%s: '%s'\n", cases[i].policy, msg);
        char why[200];
        as_msg_t m;
        as_msg_init(&m, why, sizeof why);
        CU_ASSERT_EQUAL(h.ops.check(h.st, &m), AS_ECHECK);
        CU_ASSERT_PTR_NOT_NULL(strstr(why, cases[i].needle));
        /* every N operations: the next counted call reports it */
        as_check_set_every(h.st, 1);
        CU_ASSERT_EQUAL(h.ops.free(h.st, &ctx0, b[0].addr, 0), AS_ECHECK);
        CU_ASSERT_EQUAL(as_check_close(h.st), AS_ECHECK);
        h.ops.destroy(h.st);
        const as_simos_counters_t *c = as_simos_counters(h.os);
        CU_ASSERT_EQUAL(c->mapped_bytes, 0);
        CU_ASSERT_EQUAL(c->meta_bytes, 0);
        as_simos_destroy(h.os);
    }
}

/* ---- every registered policy ---- */

#define MAX_LIVE 2048

typedef struct {
    uintptr_t addr;
    size_t size;
    int live;
} obj_t;

/* FNV-1a over every address the policy hands out: rule 4 (determinism). */
static uint64_t addr_hash;

static void hash_addr(uintptr_t a)
{
    for (int i = 0; i < 8; i++) {
        addr_hash ^= (a >> (8 * i)) & 0xff;
        addr_hash *= 0x100000001b3ull;
    }
}

static size_t draw_size(as_rng_t *r)
{
    uint64_t u = as_rng_below(r, 100);
    if (u < 3) return 0;
    if (u < 70) return (size_t)as_rng_range(r, 1, 256);
    if (u < 90) return (size_t)as_rng_range(r, 257, 64 << 10);
    if (u < 98) return (size_t)as_rng_range(r, (64 << 10) + 1, 1 << 20);
    return (size_t)as_rng_range(r, (1 << 20) + 1, 4 << 20);
}

static size_t draw_align(as_rng_t *r)
{
    if (as_rng_chance(r, 0.8)) return 0;
    return (size_t)16 << as_rng_below(r, 13); /* 16 B .. 64 KiB */
}

/* Place a block and touch its bytes; @return 0 or the failing code. */
static int do_alloc(harness_t *h, as_ctx_t *ctx, obj_t *o, size_t size,
                    size_t align)
{
    as_block_t b;
    int rc = h->ops.alloc(h->st, ctx, size, align, &b);
    if (rc) return rc;
    o->addr = b.addr;
    o->size = size;
    o->live = 1;
    hash_addr(b.addr);
    return as_simos_touch(h->os, b.addr, size ? size : 1);
}

static int do_free(harness_t *h, as_ctx_t *ctx, obj_t *o, int hint)
{
    o->live = 0;
    return h->ops.free(h->st, ctx, o->addr, hint ? o->size : 0);
}

static int do_realloc(harness_t *h, as_ctx_t *ctx, obj_t *o, size_t size)
{
    if (!h->ops.realloc) { /* the engine's fallback: alloc + free */
        obj_t n;
        int rc = do_alloc(h, ctx, &n, size, 0);
        if (rc) return rc;
        rc = do_free(h, ctx, o, 1);
        *o = n;
        return rc;
    }
    as_block_t b;
    int rc = h->ops.realloc(h->st, ctx, o->addr, o->size, size, 0, &b);
    if (rc) return rc;
    o->addr = b.addr;
    o->size = size;
    hash_addr(b.addr);
    return as_simos_touch(h->os, b.addr, size ? size : 1);
}

static void stat_name_check(void *arg, const char *name, double v)
{
    (void)v;
    int ok = name && *name;
    for (const char *c = name; ok && *c; c++)
        ok = (*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') ||
             *c == '_' || *c == '.';
    if (!ok) ++*(int *)arg;
}

/* @return the hash of every address handed out. */
static uint64_t run_workload(const as_policy_ops_t *p, uint64_t seed,
                             int scatter)
{
    addr_hash = 0xcbf29ce484222325ull;
    harness_t h;
    int rc = harness_open_ps(&h, p, scatter);
    CU_ASSERT_EQUAL(rc, 0);
    if (rc) return 0;
    as_check_set_every(h.st, 500);
    static obj_t objs[MAX_LIVE];
    memset(objs, 0, sizeof objs);
    as_rng_t r;
    as_rng_seed(&r, seed);
    as_ctx_t ctx = {0, 0, 0, AS_CLASS_NONE, 0};
    uint64_t next_tick = 0, n_ops[3] = {0, 0, 0}, peak_mapped = 0;
    int failed = 0;
    for (int i = 0; i < 30000 && !failed; i++) {
        ctx.now_ns += as_rng_range(&r, 1, 2000000); /* up to 2 ms apart */
        ctx.thread = (uint32_t)as_rng_below(&r, 4);
        ctx.cpu = (uint32_t)as_rng_below(&r, 8);
        ctx.lifetime_class = (int32_t)as_rng_below(&r, 8) - 1; /* -1 .. 6 */
        ctx.stack = (uint32_t)as_rng_below(&r, 64);
        if (h.ops.tick && ctx.now_ns >= next_tick) {
            uint64_t dt = h.ops.tick(h.st, &ctx);
            next_tick = dt ? ctx.now_ns + dt : UINT64_MAX;
        }
        obj_t *o = &objs[as_rng_below(&r, MAX_LIVE)];
        const char *what;
        if (!o->live) {
            what = "alloc";
            rc = do_alloc(&h, &ctx, o, draw_size(&r), draw_align(&r));
            n_ops[0]++;
        } else if (as_rng_chance(&r, 0.15)) {
            what = "realloc";
            rc = do_realloc(&h, &ctx, o, draw_size(&r));
            n_ops[1]++;
        } else {
            what = "free";
            rc = do_free(&h, &ctx, o, as_rng_chance(&r, 0.5));
            n_ops[2]++;
        }
        if (rc) {
            fprintf(stderr, "%s: op %d (%s) failed: %s; check: %s\n", p->name,
                    i, what, as_strerror(rc), as_check_last_error(h.st));
            failed = 1;
        }
        if (i % 5000 == 0 && as_check_verify(h.st)) failed = 2;
        uint64_t m = as_simos_counters(h.os)->mapped_bytes;
        if (m > peak_mapped) peak_mapped = m;
    }
    /* the mix really happened (seeded, so these hold for every policy) */
    CU_ASSERT(n_ops[0] > 10000 && n_ops[1] > 1000 && n_ops[2] > 5000);
    CU_ASSERT(peak_mapped > (64u << 20)); /* a few hundred MiB live */
    if (getenv("AS_TEST_VERBOSE"))
        fprintf(stderr,
                "%s: %llu allocs %llu reallocs %llu frees, peak "
                "mapped %llu\n",
                p->name, (unsigned long long)n_ops[0],
                (unsigned long long)n_ops[1], (unsigned long long)n_ops[2],
                (unsigned long long)peak_mapped);
    CU_ASSERT_EQUAL(failed, 0);
    CU_ASSERT_EQUAL(as_check_violations(h.st), 0);
    for (int k = 0; k < MAX_LIVE; k++)
        if (objs[k].live)
            CU_ASSERT_EQUAL(do_free(&h, &ctx, &objs[k], k & 1), 0);
    CU_ASSERT_EQUAL(as_check_live_blocks(h.st), 0);
    CU_ASSERT_EQUAL(as_check_verify(h.st), 0);
    /* the hook ran every 500 operations (about 30000 of them) and passed */
    CU_ASSERT(as_check_hook_runs(h.st) >= 60);
    CU_ASSERT_EQUAL(h.ops.check(h.st, NULL), 0);
    if (scatter) CU_ASSERT(h.scatter_draws > 0);
    if (h.ops.stats) { /* names are snake_case; values are the policy's */
        int bad_names = 0;
        h.ops.stats(h.st, stat_name_check, &bad_names);
        CU_ASSERT_EQUAL(bad_names, 0);
    }
    harness_close(&h, p->name);
    return addr_hash;
}

static void run_edges(const as_policy_ops_t *p)
{
    harness_t h;
    CU_ASSERT_EQUAL_FATAL(harness_open(&h, p), 0);
    as_block_t a, b, c;
    CU_ASSERT_EQUAL(h.ops.alloc(h.st, &ctx0, 0, 0, &a), 0);
    CU_ASSERT_EQUAL(h.ops.alloc(h.st, &ctx0, 0, 0, &b), 0);
    CU_ASSERT_NOT_EQUAL(a.addr, b.addr);
    CU_ASSERT(a.bytes >= 1 && b.bytes >= 1);
    int rc = h.ops.alloc(h.st, &ctx0, (size_t)1 << 63, 0, &c);
    CU_ASSERT(rc == AS_ETOO_LARGE || rc == AS_ENOMEM);
    rc = h.ops.alloc(h.st, &ctx0, SIZE_MAX, 0, &c);
    CU_ASSERT(rc == AS_ETOO_LARGE || rc == AS_ENOMEM);
    rc = h.ops.alloc(h.st, &ctx0, ((size_t)1 << 63) + 1, 65536, &c);
    CU_ASSERT(rc == AS_ETOO_LARGE || rc == AS_ENOMEM);
    CU_ASSERT_EQUAL(as_check_violations(h.st), 0);
    if (as_check_violations(h.st))
        fprintf(stderr, "%s: %s\n", p->name, as_check_last_error(h.st));
    CU_ASSERT_EQUAL(h.ops.free(h.st, &ctx0, a.addr, 0), 0);
    CU_ASSERT_EQUAL(h.ops.free(h.st, &ctx0, b.addr, 0), 0);
    harness_close(&h, p->name);
}

/* One CUnit test per registered policy, so a failure names the policy. */
#define MAX_POLICIES 32
static size_t n_policy_tests;

#define SLOT(i)                                                                \
    static void slot_##i(void)                                                 \
    {                                                                          \
        const as_policy_ops_t *p = as_policy_at(i);                            \
        CU_ASSERT_PTR_NOT_NULL_FATAL(p);                                       \
        run_edges(p);                                                          \
        uint64_t h1 = run_workload(p, 0x5eed0000u + i, 0);                     \
        uint64_t h2 = run_workload(p, 0x5eed0000u + i, 0); /* rule 4 */        \
        CU_ASSERT_EQUAL(h1, h2);                                               \
        uint64_t h3 = run_workload(p, 0x5eed0000u + i, 1); /* rule 7 */        \
        CU_ASSERT_NOT_EQUAL(h1, h3);                                           \
    }
/* clang-format off */
SLOT(0) SLOT(1) SLOT(2) SLOT(3) SLOT(4) SLOT(5) SLOT(6) SLOT(7)
SLOT(8) SLOT(9) SLOT(10) SLOT(11) SLOT(12) SLOT(13) SLOT(14) SLOT(15)
SLOT(16) SLOT(17) SLOT(18) SLOT(19) SLOT(20) SLOT(21) SLOT(22) SLOT(23)
SLOT(24) SLOT(25) SLOT(26) SLOT(27) SLOT(28) SLOT(29) SLOT(30) SLOT(31)
    /* clang-format on */
    static void (*const slots[MAX_POLICIES])(void) = {
        slot_0,  slot_1,  slot_2,  slot_3,  slot_4,  slot_5,  slot_6,  slot_7,
        slot_8,  slot_9,  slot_10, slot_11, slot_12, slot_13, slot_14, slot_15,
        slot_16, slot_17, slot_18, slot_19, slot_20, slot_21, slot_22, slot_23,
        slot_24, slot_25, slot_26, slot_27, slot_28, slot_29, slot_30, slot_31};

static void test_registry(void)
{
    /* the registry is non-empty, names are unique and found by name, and
     * every policy has the mandatory hooks */
    CU_ASSERT(as_policy_count() >= 1);
    CU_ASSERT(as_policy_count() <= MAX_POLICIES);
    CU_ASSERT_PTR_NOT_NULL(as_policy_find("bestfit"));
    CU_ASSERT_PTR_NULL(as_policy_find("no-such-policy"));
    CU_ASSERT_PTR_NULL(as_policy_at(as_policy_count()));
    for (size_t i = 0; i < as_policy_count(); i++) {
        const as_policy_ops_t *p = as_policy_at(i);
        CU_ASSERT_PTR_EQUAL(as_policy_find(p->name), p);
        CU_ASSERT(p->create && p->alloc && p->free && p->destroy && p->doc);
        CU_ASSERT_PTR_NOT_NULL(p->check); /* every policy has its hook */
        CU_ASSERT(p->n_params == 0 || p->params);
    }
    CU_ASSERT_EQUAL(n_policy_tests, as_policy_count());
}

int main(void)
{
    static as_test_t tests[5 + MAX_POLICIES + 1];
    static char names[MAX_POLICIES][80];
    size_t n = 0;
    tests[n++] = (as_test_t){"check_catches_broken_policy", test_check_catches};
    tests[n++] = (as_test_t){"check_double_free", test_check_double_free};
    tests[n++] = (as_test_t){"registry", test_registry};
    tests[n++] =
        (as_test_t){"check_hook_catches_corruption", test_check_hook_catches};
    for (size_t i = 0; i < as_policy_count() && i < MAX_POLICIES; i++) {
        snprintf(names[i], sizeof names[i], "policy_%s", as_policy_at(i)->name);
        tests[n++] = (as_test_t){names[i], slots[i]};
        n_policy_tests++;
    }
    tests[n] = (as_test_t){NULL, NULL};
    return as_test_main("policies_conformance", tests);
}

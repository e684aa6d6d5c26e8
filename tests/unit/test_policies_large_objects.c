/* test_policies_large_objects.c - every policy on many large objects and on
 * one huge request, over the simulated OS, with the figures worked out by
 * hand.
 *
 * many_large: N allocations of 64 KiB (each touched, as the engine does),
 *   every other one freed, then N/2 allocations of 128 KiB, none of which
 *   fits a freed hole. A policy that scans its holes or pages per request is
 *   quadratic here (llama's page lists and the simulated OS's free-range
 *   array were); with O(log n) structures N = 200,000 takes seconds. The
 *   ASan build runs N = 64,000 (same figures, scaled) to stay well inside
 *   the test time budget. Figures asserted per policy:
 *     hoard, ownership-heaps, private-heaps: both sizes are above S/2, so
 *       each object is its own page run: 3N/2 reservations, N/2
 *       unreservations, N/2 x 192 KiB mapped at the end, and the first
 *       128 KiB run lies below all 64 KiB runs (M - N x 64 KiB - 128 KiB,
 *       M = mmap_base: the OS places runs top-down, each right below the
 *       previous one, and every freed hole is too short);
 *     llama: 64 KiB is 8 blocks of 8 KiB, 32 per 2 MiB page, so the first
 *       phase fills N/32 pages exactly; a freed object leaves a run of 8
 *       free blocks, too short for 16, so the 128 KiB objects open N/32 new
 *       pages (16 per page): N/16 pages of 2 MiB mapped, placed downward
 *       from T = M rounded down to 2 MiB (the 511 pages between T and M
 *       are too short for an aligned 2 MiB reservation, which needs
 *       4 MiB - 4 KiB free): page k at T - (k + 1) x 2 MiB, the first
 *       128 KiB object at the start of page N/32;
 *     bestfit: the heap grows by 128 KiB exactly as two 64 KiB objects, the
 *       holes of 64 KiB never fit 128 KiB and never coalesce, so the heap is
 *       N x 64 KiB + N/2 x 128 KiB = 2N x 64 KiB mapped; each growth's
 *       hint (the newest segment's end) is taken by the segment above it,
 *       so every 128 KiB is a segment of its own, placed downward, and the
 *       first 128 KiB object is at M - N x 64 KiB - 128 KiB;
 *     glibc: see test_glibc;
 *     every policy: live bytes N/2 x 192 KiB at the end; after destroy no
 *       mapping and no metadata remain; the OS's invariants hold.
 * huge_request: one 64 TiB allocation, touched and freed, through each
 *   policy: the policy's metadata and the OS's own node memory stay below
 *   64 KiB (they grew with the request before: 4.4 GB), or the policy
 *   refuses the size outright (bestfit above 1 TiB, tcmalloc above 2^31
 *   pages) with AS_ETOO_LARGE.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "common/error.h"
#include "policies/policy.h"
#include "sim/simos.h"
#include "tests/unit/testutil.h"

#define KIB ((uint64_t)1024)
#define MIB (KIB * KIB)
#define TIB (MIB * MIB)
#define M ((uintptr_t)0x7ffff7fff000ull) /* mmap_base, top of the space */
#define T ((uintptr_t)0x7ffff7e00000ull) /* M rounded down to 2 MiB */

/* A multiple of 32, so the first phase fills whole llama pages. */
#if defined(__SANITIZE_ADDRESS__)
#define N_OBJECTS 64000u
#else
#define N_OBJECTS 200000u
#endif

typedef struct {
    as_simos_t *os;
    as_param_value_t params[128];
    as_policy_config_t cfg;
    const as_policy_ops_t *ops;
    void *st;
} h_t;

static int h_open(h_t *h, const char *name)
{
    memset(h, 0, sizeof *h);
    h->ops = as_policy_find(name);
    if (!h->ops || as_simos_create(NULL, &h->os)) return -1;
    if (h->ops->n_params > 128 ||
        (h->ops->n_params &&
         as_param_defaults(h->ops->params, h->ops->n_params, h->params)))
        return -2;
    h->cfg.ps = as_simos_pagesource(h->os);
    h->cfg.params = h->params;
    return h->ops->create(&h->cfg, &h->st);
}

static void h_close(h_t *h)
{
    h->ops->destroy(h->st);
    const as_simos_counters_t *c = as_simos_counters(h->os);
    CU_ASSERT_EQUAL(c->mapped_bytes, 0);
    CU_ASSERT_EQUAL(c->meta_bytes, 0);
    CU_ASSERT_EQUAL(as_simos_check(h->os), 0);
    as_simos_destroy(h->os);
}

/* The repro pattern through policy `name`; @return the first 128 KiB
 * block's address, with the OS counters at the end in *end. */
static uintptr_t many_large(const char *name, as_simos_counters_t *end)
{
    static uintptr_t addr[N_OBJECTS];
    const uint32_t n = N_OBJECTS;
    h_t h;
    CU_ASSERT_FATAL(h_open(&h, name) == 0);
    as_ctx_t ctx = {.lifetime_class = AS_CLASS_NONE};
    as_block_t b;
    int bad = 0;
    uint64_t live = 0;
    for (uint32_t i = 0; i < n; i++, ctx.now_ns++) {
        if (h.ops->alloc(h.st, &ctx, 64 * KIB, 0, &b) || b.bytes < 64 * KIB ||
            as_simos_touch(h.os, b.addr, 64 * KIB))
            bad++;
        addr[i] = b.addr;
        live += 64 * KIB;
    }
    for (uint32_t i = 0; i < n; i += 2, ctx.now_ns++) {
        if (h.ops->free(h.st, &ctx, addr[i], 64 * KIB)) bad++;
        live -= 64 * KIB;
    }
    uintptr_t first = 0;
    for (uint32_t i = 0; i < n / 2; i++, ctx.now_ns++) {
        if (h.ops->alloc(h.st, &ctx, 128 * KIB, 0, &b) || b.bytes < 128 * KIB ||
            as_simos_touch(h.os, b.addr, 128 * KIB))
            bad++;
        if (i == 0) first = b.addr;
        live += 128 * KIB;
    }
    CU_ASSERT_EQUAL(bad, 0);
    CU_ASSERT_EQUAL(live, (uint64_t)n / 2 * 192 * KIB);
    CU_ASSERT_EQUAL(as_simos_check(h.os), 0);
    *end = *as_simos_counters(h.os);
    h_close(&h);
    return first;
}

static void test_page_runs(const char *name)
{
    const uint64_t n = N_OBJECTS;
    as_simos_counters_t c;
    uintptr_t first = many_large(name, &c);
    CU_ASSERT_EQUAL(first, M - n * 64 * KIB - 128 * KIB);
    CU_ASSERT_EQUAL(c.reserves, n + n / 2);
    CU_ASSERT_EQUAL(c.unreserves, n / 2);
    CU_ASSERT_EQUAL(c.mapped_bytes, n / 2 * 192 * KIB);
    CU_ASSERT_EQUAL(c.resident_bytes, n / 2 * 192 * KIB);
}

static void test_hoard(void)
{
    test_page_runs("hoard");
}

static void test_ownership_heaps(void)
{
    test_page_runs("ownership-heaps");
}

static void test_private_heaps(void)
{
    test_page_runs("private-heaps");
}

static void test_llama(void)
{
    const uint64_t n = N_OBJECTS;
    as_simos_counters_t c;
    uintptr_t first = many_large("llama", &c);
    CU_ASSERT_EQUAL(first, T - (n / 32 + 1) * 2 * MIB);
    CU_ASSERT_EQUAL(c.reserves, n / 16);
    CU_ASSERT_EQUAL(c.unreserves, 0);
    CU_ASSERT_EQUAL(c.mapped_bytes, n / 16 * 2 * MIB);
}

static void test_bestfit(void)
{
    const uint64_t n = N_OBJECTS;
    as_simos_counters_t c;
    uintptr_t first = many_large("bestfit", &c);
    CU_ASSERT_EQUAL(first, M - n * 64 * KIB - 128 * KIB);
    CU_ASSERT_EQUAL(c.mapped_bytes, 2 * n * 64 * KIB);
}

/* glibc: 64 KiB (chunk 65552) is below the mmap threshold: the break
 * (at 0x600000000000) holds the 656-byte tcache struct, the N chunks and a
 * top, which after the last sbrk (nb + 128 KiB + 32 - top, in pages) is
 * 131104 to 135199 bytes; the freed chunks never merge (their neighbours
 * are live). The first 128 KiB request (chunk 131088) finds no bin but the
 * top, which holds it when it has 131120 bytes (true for both N here);
 * later ones are above the mmap threshold with the top too small: mappings
 * of 131096 rounded to 135168 bytes, until M_MMAP_MAX (65536) are mapped;
 * the rest grow the break. So the break is the N chunks, the tcache
 * struct, every 128 KiB chunk not mapped and a final top of 32 to 135199
 * bytes. */
static void test_glibc(void)
{
    const uint64_t n = N_OBJECTS;
    as_simos_counters_t c;
    uintptr_t first = many_large("glibc", &c);
    uint64_t used = 656 + n * 65552;
    CU_ASSERT_EQUAL(first, (uintptr_t)0x600000000000ull + used + 16);
    uint64_t mapped = n / 2 - 1 < 65536 ? n / 2 - 1 : 65536;
    uint64_t in_brk = n / 2 - mapped; /* 128 KiB chunks in the break */
    uint64_t brk = c.mapped_bytes - mapped * 135168;
    CU_ASSERT_EQUAL(brk % 4096, 0);
    CU_ASSERT(brk >= used + in_brk * 131088 + 32 &&
              brk <= used + in_brk * 131088 + 135199);
    CU_ASSERT_EQUAL(c.unreserves, 0);
}

static void test_tcmalloc(void)
{
    as_simos_counters_t c;
    many_large("tcmalloc", &c);
    /* placement through its size classes and page heap: only bounds */
    CU_ASSERT(c.mapped_bytes >= (uint64_t)N_OBJECTS / 2 * 192 * KIB);
}

/* One 64 TiB request through `name`: refused with AS_ETOO_LARGE when
 * `refused`, else allocated, touched and freed; either way metadata stays
 * below 64 KiB above what the empty policy holds. */
static void huge_request(const char *name, int refused)
{
    h_t h;
    CU_ASSERT_FATAL(h_open(&h, name) == 0);
    const as_simos_counters_t *c = as_simos_counters(h.os);
    uint64_t meta0 = c->meta_bytes, host0 = c->host_bytes;
    as_ctx_t ctx = {.lifetime_class = AS_CLASS_NONE};
    as_block_t b;
    int rc = h.ops->alloc(h.st, &ctx, 64 * TIB, 0, &b);
    if (refused) {
        CU_ASSERT_EQUAL(rc, AS_ETOO_LARGE);
        CU_ASSERT_EQUAL(c->mapped_bytes, 0);
    } else {
        CU_ASSERT_EQUAL_FATAL(rc, 0);
        CU_ASSERT(b.bytes >= 64 * TIB);
        CU_ASSERT_EQUAL(as_simos_touch(h.os, b.addr, 64 * TIB), 0);
        CU_ASSERT_EQUAL(c->mapped_bytes, 64 * TIB);
        CU_ASSERT_EQUAL(c->resident_bytes, 64 * TIB);
        CU_ASSERT_EQUAL(c->huge_bytes, 64 * TIB); /* one aligned run */
        CU_ASSERT(c->meta_bytes - meta0 < 64 * KIB);
        CU_ASSERT(c->host_bytes - host0 < 64 * KIB);
        CU_ASSERT_EQUAL(as_simos_check(h.os), 0);
        CU_ASSERT_EQUAL(h.ops->free(h.st, &ctx, b.addr, 0), 0);
        CU_ASSERT_EQUAL(c->mapped_bytes, 0);
    }
    CU_ASSERT(c->peak_meta_bytes - meta0 < 64 * KIB);
    CU_ASSERT(c->host_bytes - host0 < 64 * KIB);
    h_close(&h);
}

/* glibc maps 64 TiB + 16 + 8 rounded to pages: 64 TiB + 4 KiB, besides the
 * 135168-byte break of its tcache struct (at 0x600000000000); the block
 * starts 16 bytes in. The space above the break (to M, about 32 TiB) is
 * too short, so the mapping takes the top of the one below it:
 * 0x600000000000 - (64 TiB + 4 KiB). */
static void huge_request_glibc(void)
{
    h_t h;
    CU_ASSERT_FATAL(h_open(&h, "glibc") == 0);
    const as_simos_counters_t *c = as_simos_counters(h.os);
    uint64_t meta0 = c->meta_bytes;
    as_ctx_t ctx = {.lifetime_class = AS_CLASS_NONE};
    as_block_t b;
    CU_ASSERT_EQUAL_FATAL(h.ops->alloc(h.st, &ctx, 64 * TIB, 0, &b), 0);
    CU_ASSERT_EQUAL(b.bytes, 64 * TIB + 4096 - 16);
    CU_ASSERT_EQUAL(b.addr, 0x600000000000ull - 64 * TIB - 4096 + 16);
    CU_ASSERT_EQUAL(c->mapped_bytes, 135168 + 64 * TIB + 4096);
    CU_ASSERT_EQUAL(as_simos_touch(h.os, b.addr, 64 * TIB), 0);
    CU_ASSERT_EQUAL(c->resident_bytes, 64 * TIB + 4096);
    CU_ASSERT(c->meta_bytes - meta0 < 64 * KIB);
    CU_ASSERT_EQUAL(h.ops->free(h.st, &ctx, b.addr, 0), 0);
    CU_ASSERT_EQUAL(c->mapped_bytes, 135168);
    CU_ASSERT(c->peak_meta_bytes - meta0 < 64 * KIB);
    h_close(&h);
}

static void test_huge_request(void)
{
    /* every registered policy is listed here and in main() */
    CU_ASSERT_EQUAL(as_policy_count(), 7);
    huge_request_glibc();
    huge_request("hoard", 0);
    huge_request("ownership-heaps", 0);
    huge_request("private-heaps", 0);
    huge_request("llama", 0);
    huge_request("bestfit", 1);
    huge_request("tcmalloc", 1);
}

int main(void)
{
    static const as_test_t tests[] = {
        {"many_large_hoard", test_hoard},
        {"many_large_ownership_heaps", test_ownership_heaps},
        {"many_large_private_heaps", test_private_heaps},
        {"many_large_llama", test_llama},
        {"many_large_bestfit", test_bestfit},
        {"many_large_tcmalloc", test_tcmalloc},
        {"many_large_glibc", test_glibc},
        {"huge_request", test_huge_request},
        {NULL, NULL},
    };
    return as_test_main("policies_large_objects", tests);
}

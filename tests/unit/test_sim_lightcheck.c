/* test_sim_lightcheck.c - the default (light) check: the occupancy index
 * exact to the byte (hand-made cases and a differential test against a
 * byte array), and the engine catching planted faults with --check=light
 * as the full layer does: a block overlapping a live one, a misaligned
 * block, a block reaching past its reservation, and a broken invariant
 * reported by the policy's own hook, whose schedule (check.every) is
 * counted exactly.
 */
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "sim/blockmap.h"
#include "sim/engine.h"
#include "sim/summary.h"
#include "tests/unit/testutil.h"

/* ---------------------------------------------------------- blockmap */

static void test_blockmap_cases(void)
{
    as_blockmap_t m;
    as_blockmap_init(&m);
    uint64_t at = 0;
    CU_ASSERT_EQUAL(as_blockmap_add(&m, 0x1000, 16, &at), 0);
    CU_ASSERT_EQUAL(as_blockmap_add(&m, 0x1010, 16, &at), 0);
    /* [0x1008, 0x1018) covers bytes of both */
    CU_ASSERT_EQUAL(as_blockmap_add(&m, 0x1008, 16, &at), AS_ECHECK);
    CU_ASSERT_EQUAL(at, 0x1008);
    /* the last byte of a block against the first of the next */
    CU_ASSERT_EQUAL(as_blockmap_add(&m, 0x0ff0, 17, &at), AS_ECHECK);
    CU_ASSERT_EQUAL(at, 0x1000);
    CU_ASSERT_EQUAL(as_blockmap_add(&m, 0x0ff0, 16, &at), 0);
    /* two blocks sharing the granule 0x2000..0x2007 */
    CU_ASSERT_EQUAL(as_blockmap_add(&m, 0x2000, 3, &at), 0);
    CU_ASSERT_EQUAL(as_blockmap_add(&m, 0x2003, 5, &at), 0);
    CU_ASSERT_EQUAL(as_blockmap_add(&m, 0x2002, 2, &at), AS_ECHECK);
    CU_ASSERT_EQUAL(at, 0x2000);
    CU_ASSERT_EQUAL(as_blockmap_remove(&m, 0x2000, 3), 0);
    CU_ASSERT_EQUAL(as_blockmap_add(&m, 0x2001, 2, &at), 0);
    CU_ASSERT_EQUAL(as_blockmap_add(&m, 0x2000, 1, &at), 0);
    CU_ASSERT_EQUAL(as_blockmap_add(&m, 0x2000, 1, &at), AS_ECHECK);
    /* removing what is not live is refused, and changes nothing */
    CU_ASSERT_EQUAL(as_blockmap_remove(&m, 0x3000, 8), AS_ECHECK);
    CU_ASSERT_EQUAL(as_blockmap_remove(&m, 0x1000, 32), 0);
    CU_ASSERT_EQUAL(as_blockmap_remove(&m, 0x1000, 16), AS_ECHECK);
    /* pages 0x0 (0x0ff0 block), 0x2 (the shared granule) */
    CU_ASSERT_EQUAL(as_blockmap_pages(&m), 2);
    /* a block over four pages, then a one-byte block inside its last page */
    uint64_t big = 0x100000, big_bytes = 3 * 4096 + 5;
    CU_ASSERT_EQUAL(as_blockmap_add(&m, big, big_bytes, &at), 0);
    CU_ASSERT_EQUAL(as_blockmap_pages(&m), 6);
    CU_ASSERT_EQUAL(as_blockmap_add(&m, big + 3 * 4096 + 4, 1, &at), AS_ECHECK);
    CU_ASSERT_EQUAL(as_blockmap_add(&m, big + 3 * 4096 + 5, 1, &at), 0);
    CU_ASSERT_EQUAL(as_blockmap_add(&m, big - 8, 4096, &at), AS_ECHECK);
    CU_ASSERT_EQUAL(at, big);
    CU_ASSERT_EQUAL(as_blockmap_remove(&m, big, big_bytes), 0);
    CU_ASSERT_EQUAL(as_blockmap_remove(&m, big + 3 * 4096 + 5, 1), 0);
    CU_ASSERT_EQUAL(as_blockmap_remove(&m, 0x0ff0, 16), 0);
    CU_ASSERT_EQUAL(as_blockmap_remove(&m, 0x2000, 8), 0);
    CU_ASSERT_EQUAL(as_blockmap_pages(&m), 0);
    as_blockmap_destroy(&m);
}

/* Blocks of 1 MiB and more are kept whole: a 1 TiB block costs nothing
 * per page, and overlaps with small and big blocks are still exact. */
static void test_blockmap_big(void)
{
    as_blockmap_t m;
    as_blockmap_init(&m);
    uint64_t at = 0, tib = 1ull << 40, base = 1ull << 44;
    CU_ASSERT_EQUAL(as_blockmap_add(&m, base - 16, 16, &at), 0);
    CU_ASSERT_EQUAL(as_blockmap_add(&m, base, tib, &at), 0);
    CU_ASSERT_EQUAL(as_blockmap_pages(&m), 1); /* the small block's page */
    CU_ASSERT(as_blockmap_bytes(&m) < 1 << 20);
    /* a small block inside, at its last byte, and just after it */
    CU_ASSERT_EQUAL(as_blockmap_add(&m, base + 4096, 8, &at), AS_ECHECK);
    CU_ASSERT_EQUAL(at, base + 4096);
    CU_ASSERT_EQUAL(as_blockmap_add(&m, base + tib - 1, 1, &at), AS_ECHECK);
    CU_ASSERT_EQUAL(as_blockmap_add(&m, base + tib, 1, &at), 0);
    /* big blocks against small ones (by probing and by walking) and big */
    CU_ASSERT_EQUAL(as_blockmap_add(&m, base - (2 << 20), 2 << 20, &at),
                    AS_ECHECK);
    CU_ASSERT_EQUAL(at, base - 16);
    CU_ASSERT_EQUAL(as_blockmap_add(&m, base + tib - (1 << 20), 2 << 20, &at),
                    AS_ECHECK);
    CU_ASSERT_EQUAL(at, base + tib - (1 << 20));
    CU_ASSERT_EQUAL(as_blockmap_add(&m, base + tib + 8, tib, &at), 0);
    CU_ASSERT_EQUAL(as_blockmap_add(&m, 1ull << 43, tib * 2, &at), 0);
    CU_ASSERT_EQUAL(as_blockmap_add(&m, (1ull << 43) - 8, tib, &at), AS_ECHECK);
    CU_ASSERT_EQUAL(at, 1ull << 43);
    /* removal names the whole block */
    CU_ASSERT_EQUAL(as_blockmap_remove(&m, base, tib - 8), AS_ECHECK);
    CU_ASSERT_EQUAL(as_blockmap_remove(&m, base, tib), 0);
    CU_ASSERT_EQUAL(as_blockmap_add(&m, base + 4096, 8, &at), 0);
    as_blockmap_destroy(&m);
}

/* Random blocks of 1..300 bytes at any byte in a 64 KiB window, added
 * and removed; every answer is compared with a byte array. */
static void test_blockmap_differential(void)
{
    enum { WIN = 65536, MAXB = 512 };
    static unsigned char owner[WIN];
    static uint64_t start[MAXB], len[MAXB];
    memset(owner, 0, sizeof owner);
    size_t n = 0;
    as_blockmap_t m;
    as_blockmap_init(&m);
    uint64_t x = 88172645463325252ull, base = 0x7000000;
    int mismatches = 0;
    for (int step = 0; step < 200000; step++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        if (n && (x % 3 == 0 || n == MAXB)) {
            size_t k = (size_t)(x >> 8) % n;
            mismatches += as_blockmap_remove(&m, base + start[k], len[k]) != 0;
            memset(owner + start[k], 0, len[k]);
            start[k] = start[--n];
            len[k] = len[n];
            continue;
        }
        uint64_t l = 1 + (x >> 20) % 300, s = (x >> 40) % (WIN - l);
        int busy = 0;
        for (uint64_t i = s; i < s + l; i++)
            busy |= owner[i];
        uint64_t at = 0;
        int rc = as_blockmap_add(&m, base + s, l, &at);
        if (busy) {
            mismatches += rc != AS_ECHECK;
            /* the granule named holds a byte of both */
            int hit = 0;
            for (uint64_t i = at - base; i < at - base + 8 && i < WIN; i++)
                hit |= owner[i] && i >= s && i < s + l;
            mismatches += !hit;
        } else {
            mismatches += rc != 0;
            memset(owner + s, 1, l);
            start[n] = s;
            len[n++] = l;
        }
    }
    CU_ASSERT_EQUAL(mismatches, 0);
    while (n--)
        CU_ASSERT_EQUAL(as_blockmap_remove(&m, base + start[n], len[n]), 0);
    CU_ASSERT_EQUAL(as_blockmap_pages(&m), 0);
    as_blockmap_destroy(&m);
}

/* ------------------------------------------------ a policy with faults */

enum { FAULT_NONE, FAULT_OVERLAP, FAULT_MISALIGN, FAULT_OUTSIDE };
static int g_fault, g_fail_hook;
static uint64_t g_hook_calls;

#define CHUNK (2u << 20)

typedef struct {
    const as_pagesource_t *ps;
    uintptr_t chunk, next, last;
    uint64_t allocs;
} faulty_t;

static int fy_create(const as_policy_config_t *cfg, void **state)
{
    faulty_t *p = as_mem_alloc(&cfg->ps->meta, sizeof *p);
    if (!p) return AS_ENOMEM;
    memset(p, 0, sizeof *p);
    p->ps = cfg->ps;
    int rc = as_ps_reserve(p->ps, 0, CHUNK, CHUNK, &p->chunk);
    if (rc) {
        as_mem_t mm = cfg->ps->meta;
        as_mem_free(&mm, p, sizeof *p);
        return rc;
    }
    p->next = p->chunk;
    *state = p;
    return AS_OK;
}

/* Bump allocation in 64-byte steps; the third allocation is the faulty
 * one: 48 bytes into the second block, 8 bytes off the alignment, or at
 * the chunk's end reaching 48 bytes past it. */
static int fy_alloc(void *state, const as_ctx_t *ctx, size_t size, size_t align,
                    as_block_t *out)
{
    (void)ctx;
    (void)align;
    faulty_t *p = state;
    if (size > 64) return AS_ETOO_LARGE;
    p->allocs++;
    out->addr = p->next;
    out->bytes = 64;
    if (p->allocs == 3 && g_fault == FAULT_OVERLAP) out->addr = p->last + 48;
    if (p->allocs == 3 && g_fault == FAULT_MISALIGN) out->addr = p->next + 8;
    if (p->allocs == 3 && g_fault == FAULT_OUTSIDE)
        out->addr = p->chunk + CHUNK - 16;
    else
        p->last = p->next, p->next += 64;
    return AS_OK;
}

static int fy_free(void *state, const as_ctx_t *ctx, uintptr_t addr,
                   size_t hint)
{
    (void)state;
    (void)ctx;
    (void)addr;
    (void)hint;
    return AS_OK;
}

static int fy_check(const void *state, as_msg_t *why)
{
    (void)state;
    g_hook_calls++;
    if (g_fail_hook && g_hook_calls == (uint64_t)g_fail_hook)
        return as_msg_fail(why, "planted failure", "call", g_hook_calls);
    return 0;
}

static void fy_destroy(void *state)
{
    faulty_t *p = state;
    as_ps_unreserve(p->ps, p->chunk, CHUNK);
    as_mem_t mm = p->ps->meta;
    as_mem_free(&mm, p, sizeof *p);
}

static const as_policy_ops_t faulty = {
    .name = "faulty",
    .doc = "test policy: bump allocation with one planted fault",
    .create = fy_create,
    .alloc = fy_alloc,
    .free = fy_free,
    .check = fy_check,
    .destroy = fy_destroy,
};

/* Five objects of 16 bytes, each freed before the next is allocated
 * except the first two, which stay live: A0 A1 A2 F2 A3 F3 A4 F4 F0 F1. */
static const char *five_objects(void)
{
    static const char *path;
    if (path) return path;
    as_event_t ev[10];
    size_t n = 0;
    uint64_t t = 0;
    for (uint64_t id = 0; id < 5; id++) {
        ev[n++] = (as_event_t){
            .kind = AS_EV_ALLOC, .t_ns = t++, .object = id, .size = 16};
        if (id >= 2)
            ev[n++] =
                (as_event_t){.kind = AS_EV_FREE, .t_ns = t++, .object = id};
    }
    ev[n++] = (as_event_t){.kind = AS_EV_FREE, .t_ns = t++, .object = 0};
    ev[n++] = (as_event_t){.kind = AS_EV_FREE, .t_ns = t++, .object = 1};
    path = as_test_write_trace("lightcheck", ev, n);
    return path;
}

static int run_faulty(int check, const char *every, char *err, size_t cap)
{
    as_run_config_t cfg;
    as_run_config_default(&cfg);
    cfg.trace_path = five_objects();
    cfg.policy_ops = &faulty;
    cfg.check = check;
    if (every) cfg.params[cfg.n_params++] = every;
    as_run_result_t res;
    g_hook_calls = 0;
    err[0] = 0;
    int rc = as_engine_run(&cfg, &res, err, cap);
    if (rc == AS_OK) as_run_result_free(&res);
    return rc;
}

static void expect_caught(int fault, const char *light_says,
                          const char *full_says)
{
    char err[1024];
    g_fault = fault;
    g_fail_hook = 0;
    /* unchecked, the fault goes unnoticed */
    CU_ASSERT_EQUAL(run_faulty(AS_RUN_CHECK_OFF, NULL, err, sizeof err), AS_OK);
    CU_ASSERT_EQUAL(run_faulty(AS_RUN_CHECK_LIGHT, NULL, err, sizeof err),
                    AS_ECHECK);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "failed the check on alloc of object "
                                       "2"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, light_says));
    if (!strstr(err, light_says)) fprintf(stderr, "light: %s\n", err);
    CU_ASSERT_EQUAL(run_faulty(AS_RUN_CHECK_FULL, NULL, err, sizeof err),
                    AS_ECHECK);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, full_says));
    if (!strstr(err, full_says)) fprintf(stderr, "full: %s\n", err);
    g_fault = FAULT_NONE;
}

static void test_overlap_caught(void)
{
    /* block 1 is [c+64, c+128); the third block starts at c+112 */
    expect_caught(FAULT_OVERLAP, "overlaps a live block block=0x", "overlaps");
}

static void test_misaligned_caught(void)
{
    expect_caught(FAULT_MISALIGN, "misaligned block=0x", "misaligned_block");
}

static void test_outside_caught(void)
{
    /* only its first 16 bytes (the request, touched) are mapped */
    expect_caught(FAULT_OUTSIDE, "outside reserved memory", "unreserved_block");
}

/* The hook's schedule: 10 policy calls (5 allocs, 5 frees); it runs when
 * check.every calls have passed since its last run and at least 16 per
 * live object. The engine counts a call after taking a freed object out
 * and before inserting an allocated one, so the live counts seen are
 * A0 0, A1 1, then 2 for A2..F4 (calls 3-8), F0 1, F1 0. With
 * check.every=2: call 2 has 2 < 16 x 1, calls 3-8 fewer than 32, call 9
 * (F0) 9 < 16, call 10 (F1) 10 >= max(2, 0): one run, plus one at the end
 * = 2. check.every=0: only the end = 1. */
static void test_hook_schedule(void)
{
    char err[1024];
    g_fault = FAULT_NONE;
    g_fail_hook = 0;
    CU_ASSERT_EQUAL(
        run_faulty(AS_RUN_CHECK_LIGHT, "check.every=2", err, sizeof err),
        AS_OK);
    CU_ASSERT_EQUAL(g_hook_calls, 2);
    CU_ASSERT_EQUAL(
        run_faulty(AS_RUN_CHECK_LIGHT, "check.every=0", err, sizeof err),
        AS_OK);
    CU_ASSERT_EQUAL(g_hook_calls, 1);
    /* a broken invariant found by the last hook stops the run */
    g_fail_hook = 1;
    CU_ASSERT_EQUAL(
        run_faulty(AS_RUN_CHECK_LIGHT, "check.every=0", err, sizeof err),
        AS_ECHECK);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "invariant broken: planted failure"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "after_ops=10"));
    /* ... and one found mid-run, at call 10 */
    g_fail_hook = 1;
    CU_ASSERT_EQUAL(
        run_faulty(AS_RUN_CHECK_LIGHT, "check.every=2", err, sizeof err),
        AS_ECHECK);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "failed the check on free of object 1"));
    g_fail_hook = 0;
}

/* Every registered policy passes the light check on a real trace (with
 * reallocs, in place and moved) and its figures are those of the full
 * layer's run: the summaries agree byte for byte up to "timing" (both
 * rendered with the same check mode, the one field that differs). */
static void test_light_agrees_with_full(void)
{
    for (size_t i = 0; i < as_policy_count(); i++) {
        as_run_config_t cfg;
        as_run_config_default(&cfg);
        cfg.trace_path = as_test_srcpath("data/sqlite.ast");
        cfg.policy = as_policy_at(i)->name;
        cfg.predictor = "oracle";
        as_run_result_t light, full;
        char err[1024];
        cfg.check = AS_RUN_CHECK_LIGHT;
        int rc = as_engine_run(&cfg, &light, err, sizeof err);
        if (rc) fprintf(stderr, "%s light: %s\n", cfg.policy, err);
        CU_ASSERT_FATAL(rc == 0);
        cfg.check = AS_RUN_CHECK_FULL;
        rc = as_engine_run(&cfg, &full, err, sizeof err);
        CU_ASSERT_FATAL(rc == 0);
        CU_ASSERT_EQUAL(light.reallocs, 66);
        char *j1 = as_summary_json(&cfg, &light);
        char *j2 = as_summary_json(&cfg, &full);
        *strstr(j1, "\"timing\"") = 0;
        *strstr(j2, "\"timing\"") = 0;
        CU_ASSERT_STRING_EQUAL(j1, j2);
        free(j1);
        free(j2);
        as_run_result_free(&light);
        as_run_result_free(&full);
    }
}

int main(void)
{
    static const as_test_t tests[] = {
        {"blockmap: exact cases", test_blockmap_cases},
        {"blockmap: against a byte array", test_blockmap_differential},
        {"blockmap: big blocks kept whole", test_blockmap_big},
        {"light check catches an overlapping block", test_overlap_caught},
        {"light check catches a misaligned block", test_misaligned_caught},
        {"light check catches a block past its reservation",
         test_outside_caught},
        {"check.every: the hook's schedule, exactly", test_hook_schedule},
        {"light and full give the same figures", test_light_agrees_with_full},
        {NULL, NULL},
    };
    return as_test_main("sim_lightcheck", tests);
}

/* test_sim_engine.c - the replay engine on small hand-written traces whose
 * figures are computed by hand in the comments.
 *
 * The traces are written with the trace writer; the policy is `pagebump`, a
 * test-only policy with placement simple enough to follow on paper: it
 * reserves 2 MiB-aligned 2 MiB chunks, hands out whole 4 KiB pages in
 * address order (bump pointer), and releases an object's pages the moment it
 * is freed. Timestamps are whole seconds so that time-weighted means are easy
 * to compute.
 */
#include <stdlib.h>
#include <string.h>

#include "sim/engine.h"
#include "sim/summary.h"
#include "traces/trace.h"
#include "tests/unit/testutil.h"

#define KiB 1024ull
#define MiB (1024ull * 1024ull)
#define SEC 1000000000ull

/* ------------------------------------------------------ the test policy */

typedef struct {
    const as_pagesource_t *ps;
    uintptr_t chunk, next; /* current 2 MiB chunk and bump pointer */
    uintptr_t chunks[64];
    int n_chunks;
    /* block sizes by page index within the chunks (for free without size) */
    uintptr_t addr[256];
    size_t bytes[256];
    int n;
} pagebump_t;

static int pb_create(const as_policy_config_t *cfg, void **state)
{
    pagebump_t *p = as_mem_alloc(&cfg->ps->meta, sizeof *p);
    if (!p) return AS_ENOMEM;
    p->ps = cfg->ps;
    *state = p;
    return AS_OK;
}

static int pb_alloc(void *state, const as_ctx_t *ctx, size_t size, size_t align,
                    as_block_t *out)
{
    (void)ctx;
    (void)align;
    pagebump_t *p = state;
    if (size > 2 * MiB) return AS_ETOO_LARGE;
    size_t bytes = size ? (size + 4095) & ~(size_t)4095 : 4096;
    if (!p->chunk || p->next + bytes > p->chunk + 2 * MiB) {
        if (p->n_chunks == 64) return AS_ENOMEM;
        int rc = as_ps_reserve(p->ps, 0, 2 * MiB, 2 * MiB, &p->chunk);
        if (rc) return rc;
        p->chunks[p->n_chunks++] = p->chunk;
        p->next = p->chunk;
    }
    if (p->n == 256) return AS_ENOMEM;
    out->addr = p->next;
    out->bytes = bytes;
    p->addr[p->n] = p->next;
    p->bytes[p->n++] = bytes;
    p->next += bytes;
    return AS_OK;
}

static int pb_free(void *state, const as_ctx_t *ctx, uintptr_t addr,
                   size_t hint)
{
    (void)ctx;
    (void)hint;
    pagebump_t *p = state;
    for (int i = 0; i < p->n; i++)
        if (p->addr[i] == addr && p->bytes[i]) {
            size_t b = p->bytes[i];
            p->bytes[i] = 0;
            return as_ps_release(p->ps, addr, b);
        }
    return AS_EINVAL;
}

static void pb_destroy(void *state)
{
    pagebump_t *p = state;
    for (int i = 0; i < p->n_chunks; i++)
        as_ps_unreserve(p->ps, p->chunks[i], 2 * MiB);
    as_mem_t m = p->ps->meta;
    as_mem_free(&m, p, sizeof *p);
}

/* pagebump's realloc: stays in place while the new size fits the block's
 * pages, otherwise moves (allocate, then free the old block). */
static int pb_realloc(void *state, const as_ctx_t *ctx, uintptr_t addr,
                      size_t old_size, size_t new_size, size_t align,
                      as_block_t *out)
{
    (void)old_size;
    pagebump_t *p = state;
    for (int i = 0; i < p->n; i++)
        if (p->addr[i] == addr && p->bytes[i]) {
            if (new_size && new_size <= p->bytes[i]) {
                out->addr = addr;
                out->bytes = p->bytes[i];
                return AS_OK;
            }
            int rc = pb_alloc(state, ctx, new_size, align, out);
            return rc ? rc : pb_free(state, ctx, addr, 0);
        }
    return AS_EINVAL;
}

static const as_policy_ops_t pagebump = {
    .name = "pagebump",
    .doc = "test policy: page-granular bump allocation, release on free",
    .create = pb_create,
    .alloc = pb_alloc,
    .free = pb_free,
    .destroy = pb_destroy,
};

static const as_policy_ops_t pagebump_realloc = {
    .name = "pagebump-realloc",
    .doc = "test policy: pagebump with an in-place realloc",
    .create = pb_create,
    .alloc = pb_alloc,
    .free = pb_free,
    .realloc = pb_realloc,
    .destroy = pb_destroy,
};

/* ------------------------------------------------------------- helpers */

static const char *write_trace(const as_event_t *evs, size_t n)
{
    return as_test_write_trace("engine", evs, n);
}

static int run_with(const as_policy_ops_t *pol, const char *path,
                    as_thp_mode_t thp, int khugepaged, uint32_t max_ptes_none,
                    as_run_result_t *res)
{
    as_run_config_t cfg;
    as_run_config_default(&cfg);
    cfg.trace_path = path;
    cfg.policy_ops = pol;
    cfg.os.thp = thp;
    cfg.os.khugepaged = khugepaged;
    cfg.os.max_ptes_none = max_ptes_none;
    cfg.os.scan_interval_ns = SEC;
    char err[1024];
    int rc = as_engine_run(&cfg, res, err, sizeof err);
    if (rc) fprintf(stderr, "engine: %s\n", err);
    return rc;
}

#define A(t, id, sz)                                                           \
    {                                                                          \
        .kind = AS_EV_ALLOC, .t_ns = (t), .object = (id), .size = (sz)         \
    }
#define F(t, id)                                                               \
    {                                                                          \
        .kind = AS_EV_FREE, .t_ns = (t), .object = (id)                        \
    }

static int run(const char *path, as_thp_mode_t thp, int khugepaged,
               uint32_t max_ptes_none, as_run_result_t *res)
{
    return run_with(&pagebump, path, thp, khugepaged, max_ptes_none, res);
}

/* A: 100 B at 0 s; B: 8 KiB at 1 s; free A at 2 s; free B at 3 s.
 * pagebump puts A on page 0 and B on pages 1-2 of one 2 MiB chunk. */
static const as_event_t small_trace[] = {
    A(0, 0, 100),
    A(1 * SEC, 1, 8192),
    F(2 * SEC, 0),
    F(3 * SEC, 1),
};

static void test_thp_never(void)
{
    as_run_result_t r;
    const char *p = write_trace(small_trace, 4);
    CU_ASSERT_FATAL(run(p, AS_THP_NEVER, 0, 511, &r) == 0);
    const as_metrics_summary_t *m = &r.metrics;
    /* states: [0,1): live 100, res 4K; [1,2): live 8292, res 12K;
     *         [2,3): live 8192, res 8K; at 3 s B is freed (res 0). */
    CU_ASSERT_EQUAL(r.events, 4);
    CU_ASSERT_EQUAL(m->peak_live_bytes, 8292);
    CU_ASSERT_EQUAL(m->peak_resident_bytes, 12288);
    CU_ASSERT_EQUAL(m->resident_at_peak_live_bytes, 12288);
    CU_ASSERT_EQUAL(m->peak_huge_bytes, 0);
    CU_ASSERT_DOUBLE_EQUAL(m->mean_live_bytes, (100 + 8292 + 8192) / 3.0, 1e-6);
    CU_ASSERT_DOUBLE_EQUAL(m->mean_resident_bytes, (4096 + 12288 + 8192) / 3.0,
                           1e-6);
    CU_ASSERT_DOUBLE_EQUAL(m->jw1, 8192.0 / (16584.0 / 3.0) - 1, 1e-9);
    CU_ASSERT_DOUBLE_EQUAL(m->jw2, 12288.0 / 8292.0 - 1, 1e-9);
    CU_ASSERT_DOUBLE_EQUAL(m->jw3, 12288.0 / 8292.0 - 1, 1e-9);
    CU_ASSERT_DOUBLE_EQUAL(m->jw4, 12288.0 / 8292.0 - 1, 1e-9);
    CU_ASSERT_DOUBLE_EQUAL(m->hugepage_coverage_mean, 0, 1e-12);
    CU_ASSERT_EQUAL(r.os.splits, 0);
    CU_ASSERT_EQUAL(r.os.page_faults, 3);
    as_run_result_free(&r);
}

static void test_thp_always_split(void)
{
    as_run_result_t r;
    const char *p = write_trace(small_trace, 4);
    CU_ASSERT_FATAL(run(p, AS_THP_ALWAYS, 0, 511, &r) == 0);
    const as_metrics_summary_t *m = &r.metrics;
    /* A's first touch faults the whole aligned 2 MiB chunk in as one huge
     * page. [0,2): res = huge = 2 MiB. Freeing A releases page 0: the huge
     * page splits; [2,3): res = 2 MiB - 4 KiB, huge 0. */
    CU_ASSERT_EQUAL(r.os.huge_faults, 1);
    CU_ASSERT_EQUAL(r.os.splits, 1);
    CU_ASSERT_EQUAL(m->peak_resident_bytes, 2 * MiB);
    CU_ASSERT_EQUAL(m->resident_at_peak_live_bytes, 2 * MiB);
    CU_ASSERT_DOUBLE_EQUAL(m->mean_resident_bytes,
                           (2.0 * MiB * 2 + (2.0 * MiB - 4096)) / 3.0, 1e-6);
    CU_ASSERT_DOUBLE_EQUAL(m->mean_huge_bytes, 2.0 * MiB * 2 / 3.0, 1e-6);
    CU_ASSERT_DOUBLE_EQUAL(m->hugepage_coverage_mean,
                           (4.0 * MiB) / (6.0 * MiB - 4096), 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(m->hugepage_coverage_at_peak, 1.0, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(m->jw4, 2.0 * MiB / 8292.0 - 1, 1e-9);
    as_run_result_free(&r);
}

/* khugepaged wakes every second from the first event (t = 1, 2, 3 s), and a
 * wake-up due at an event's time runs before the event. At 1 s and 2 s the
 * chunk is still a huge page. At 3 s it has 511 resident pages after the
 * split: with max_ptes_none = 511 it collapses (resident back to 2 MiB), then
 * freeing B releases pages 1-2 and splits it again. With max_ptes_none = 0 a
 * collapse needs every page resident: none happens. */
static void test_khugepaged_collapse(void)
{
    as_run_result_t r;
    const char *p = write_trace(small_trace, 4);
    CU_ASSERT_FATAL(run(p, AS_THP_ALWAYS, 1, 511, &r) == 0);
    CU_ASSERT_EQUAL(r.os.collapses, 1);
    CU_ASSERT_EQUAL(r.os.splits, 2);
    as_run_result_free(&r);

    CU_ASSERT_FATAL(run(p, AS_THP_ALWAYS, 1, 0, &r) == 0);
    CU_ASSERT_EQUAL(r.os.collapses, 0);
    CU_ASSERT_EQUAL(r.os.splits, 1);
    as_run_result_free(&r);
}

/* Bad events are counted, not fatal: a double free, a zero-size request
 * (served as one page here, but a program writes no byte of it, so nothing
 * becomes resident), a 2^63-byte request (refused; its free is consumed
 * silently). */
static void test_warnings(void)
{
    const as_event_t evs[] = {
        A(0, 0, 0), A(1, 1, 1ull << 63), F(2, 0), F(3, 0), F(4, 1),
    };
    as_run_result_t r;
    const char *p = write_trace(evs, 5);
    CU_ASSERT_FATAL(run(p, AS_THP_NEVER, 0, 511, &r) == 0);
    CU_ASSERT_EQUAL(r.warn_zero_size, 1);
    CU_ASSERT_EQUAL(r.warn_too_large, 1);
    CU_ASSERT_EQUAL(r.warn_double_free, 1);
    CU_ASSERT_EQUAL(r.warn_unknown_free, 0);
    CU_ASSERT_EQUAL(r.metrics.peak_resident_bytes, 0);
    CU_ASSERT_EQUAL(r.metrics.peak_mapped_bytes, 2 * MiB);
    as_run_result_free(&r);
}

/* The oracle's classes: lifetimes 1 s (class 2: <= 1 s), 2 s (class 3) and
 * one object never freed (class 6). With the oracle every prediction is
 * right; `none` predicts nothing; with none.class=6 (always the last class)
 * only the never-freed object is right. */
static void test_oracle_confusion(void)
{
    const as_event_t evs[] = {
        A(0, 0, 10), A(0, 1, 20), A(0, 2, 30), F(1 * SEC, 0), F(2 * SEC, 1),
    };
    const char *p = write_trace(evs, 5);
    as_run_config_t cfg;
    as_run_config_default(&cfg);
    cfg.trace_path = p;
    cfg.policy_ops = &pagebump;
    cfg.predictor = "oracle";
    as_run_result_t r;
    char err[512];
    CU_ASSERT_FATAL(as_engine_run(&cfg, &r, err, sizeof err) == 0);
    CU_ASSERT_EQUAL(r.confusion_allocs[2][2], 1);
    CU_ASSERT_EQUAL(r.confusion_allocs[3][3], 1);
    CU_ASSERT_EQUAL(r.confusion_allocs[6][6], 1);
    CU_ASSERT_DOUBLE_EQUAL(r.accuracy_by_allocs, 1.0, 1e-12);
    as_run_result_free(&r);

    /* `none` makes no prediction: nothing enters the matrix. */
    cfg.predictor = "none";
    CU_ASSERT_FATAL(as_engine_run(&cfg, &r, err, sizeof err) == 0);
    CU_ASSERT_EQUAL(r.unpredicted_allocs, 3);
    uint64_t sum = 0;
    for (int pc = 0; pc < AS_MAX_CLASSES; pc++)
        for (int a = 0; a < AS_MAX_CLASSES; a++)
            sum += r.confusion_allocs[pc][a];
    CU_ASSERT_EQUAL(sum, 0);
    CU_ASSERT_DOUBLE_EQUAL(r.accuracy_by_allocs, 0, 1e-12);
    as_run_result_free(&r);

    /* none.class=6 puts every object in the last class. */
    cfg.params[0] = "none.class=6";
    cfg.n_params = 1;
    CU_ASSERT_FATAL(as_engine_run(&cfg, &r, err, sizeof err) == 0);
    CU_ASSERT_EQUAL(r.unpredicted_allocs, 0);
    CU_ASSERT_EQUAL(r.confusion_allocs[6][2], 1);
    CU_ASSERT_EQUAL(r.confusion_allocs[6][3], 1);
    CU_ASSERT_EQUAL(r.confusion_allocs[6][6], 1);
    CU_ASSERT_DOUBLE_EQUAL(r.accuracy_by_allocs, 1.0 / 3, 1e-12);
    /* by bytes: only the 30-byte object is right: 30 / 60 */
    CU_ASSERT_DOUBLE_EQUAL(r.accuracy_by_bytes, 0.5, 1e-12);
    as_run_result_free(&r);
}

/* Realloc, THP never. A = 100 B on page 0; at 1 s it grows to 3000 B, at
 * 2 s to 6000 B.
 * With the policy's realloc: 3000 B still fits page 0, so only bytes
 * [100, 3000) are written, on the resident page 0: no fault. 6000 B moves to
 * pages 1-2 (two faults) and page 0 is released. Faults 3, resident 8 KiB.
 * Without one (pagebump): each realloc allocates a new block before freeing
 * the old, as a copy needs both: 3000 B on page 1 (fault), 6000 B on pages
 * 2-3 (two faults). Faults 4, resident 8 KiB. */
static void test_realloc(void)
{
    as_event_t evs[] = {
        A(0, 0, 100),
        {.kind = AS_EV_REALLOC, .t_ns = 1 * SEC, .object = 0, .size = 3000},
        {.kind = AS_EV_REALLOC, .t_ns = 2 * SEC, .object = 1, .size = 6000},
    };
    const char *p = write_trace(evs, 3);
    as_run_result_t r;
    CU_ASSERT_FATAL(run_with(&pagebump_realloc, p, AS_THP_NEVER, 0, 511, &r) ==
                    0);
    CU_ASSERT_EQUAL(r.reallocs, 2);
    CU_ASSERT_EQUAL(r.os.page_faults, 3);
    /* the policy frees page 0 inside its realloc, before the engine
     * touches pages 1-2: resident never exceeds 8 KiB */
    CU_ASSERT_EQUAL(r.metrics.peak_resident_bytes, 8192);
    CU_ASSERT_EQUAL(r.metrics.peak_live_bytes, 6000);
    CU_ASSERT_EQUAL(r.warn_unknown_free + r.warn_double_free, 0);
    as_run_result_free(&r);

    CU_ASSERT_FATAL(run(p, AS_THP_NEVER, 0, 511, &r) == 0);
    CU_ASSERT_EQUAL(r.os.page_faults, 4);
    CU_ASSERT_EQUAL(r.metrics.peak_resident_bytes, 8192);
    as_run_result_free(&r);
}

/* cfg.realloc on pagebump-realloc (THP never): A 100 B at 0 s, realloc to
 * 3000 B at 1 s, to 6000 B at 2 s, down to 1000 B at 3 s. Resident is
 * sampled after each event taken as a whole, so it peaks at 8 KiB (pages
 * 1-2 or 2-3 holding 6000 B) in every mode.
 *   hook: 3000 stays on page 0 (no fault); 6000 moves to pages 1-2 (two
 *     faults; the hook frees page 0); 1000 stays there. Faults 3, released
 *     4 KiB (page 0).
 *   move: 3000 to page 1 (fault; page 0 freed), 6000 to pages 2-3 (two
 *     faults; page 1 freed), 1000 to page 4 (fault; pages 2-3 freed).
 *     Faults 5, released 16 KiB.
 *   preload (liballocsim_malloc.so's rule, usable = the block's 4096 or
 *     8192 bytes): 3000 is within [2048, 4096]: kept, no policy call, no
 *     fault; 6000 > 4096 moves to pages 1-2 (two faults; page 0 freed);
 *     1000 < 8192 / 2 moves to page 3 (fault; pages 1-2 freed). Faults 4,
 *     released 12 KiB.
 * Live bytes are the same in every mode. */
static void test_realloc_modes(void)
{
    as_event_t evs[] = {
        A(0, 0, 100),
        {.kind = AS_EV_REALLOC, .t_ns = 1 * SEC, .object = 0, .size = 3000},
        {.kind = AS_EV_REALLOC, .t_ns = 2 * SEC, .object = 1, .size = 6000},
        {.kind = AS_EV_REALLOC, .t_ns = 3 * SEC, .object = 2, .size = 1000},
    };
    const char *p = write_trace(evs, 4);
    static const struct {
        int mode;
        uint64_t faults, peak, released;
    } want[] = {
        {AS_RUN_REALLOC_HOOK, 3, 8192, 4096},
        {AS_RUN_REALLOC_MOVE, 5, 8192, 16384},
        {AS_RUN_REALLOC_PRELOAD, 4, 8192, 12288},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        as_run_config_t cfg;
        as_run_config_default(&cfg);
        CU_ASSERT_EQUAL(cfg.realloc, AS_RUN_REALLOC_HOOK);
        cfg.trace_path = p;
        cfg.policy_ops = &pagebump_realloc;
        cfg.os.thp = AS_THP_NEVER;
        cfg.os.khugepaged = 0;
        cfg.realloc = want[i].mode;
        cfg.check = AS_RUN_CHECK_LIGHT;
        as_run_result_t r;
        char err[1024];
        int rc = as_engine_run(&cfg, &r, err, sizeof err);
        if (rc) fprintf(stderr, "engine: %s\n", err);
        CU_ASSERT_FATAL(rc == 0);
        CU_ASSERT_EQUAL(r.reallocs, 3);
        CU_ASSERT_EQUAL(r.os.page_faults, want[i].faults);
        CU_ASSERT_EQUAL(r.metrics.peak_resident_bytes, want[i].peak);
        CU_ASSERT_EQUAL(r.os.released_bytes, want[i].released);
        CU_ASSERT_EQUAL(r.metrics.peak_live_bytes, 6000);
        CU_ASSERT_EQUAL(
            r.warn_unknown_free + r.warn_double_free + r.warn_policy_errors, 0);
        as_run_result_free(&r);
    }
}

/* Configuration errors name what is wrong and list the valid names. */
static void test_config_errors(void)
{
    const char *p = write_trace(small_trace, 4);
    as_run_config_t cfg;
    as_run_config_default(&cfg);
    cfg.trace_path = p;
    as_run_result_t r;
    char err[2048];
    cfg.policy = "no-such-policy";
    CU_ASSERT_EQUAL(as_engine_run(&cfg, &r, err, sizeof err), AS_ENOTFOUND);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "no-such-policy"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "valid:"));
    cfg.policy_ops = &pagebump;
    cfg.predictor = "psychic";
    CU_ASSERT_EQUAL(as_engine_run(&cfg, &r, err, sizeof err), AS_ENOTFOUND);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "oracle"));
    cfg.predictor = "none";
    cfg.params[0] = "os.thp=sometimes";
    cfg.n_params = 1;
    CU_ASSERT_EQUAL(as_engine_run(&cfg, &r, err, sizeof err), AS_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(
        strstr(err, "os.thp must be one of never, madvise, always"));
    cfg.params[0] = "os.max_ptes_none=512";
    CU_ASSERT_EQUAL(as_engine_run(&cfg, &r, err, sizeof err), AS_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "os.max_ptes_none must be a whole "
                                       "number (K, M, G, T: x1000) from 0 "
                                       "to 511"));
    cfg.params[0] = "os.thp=never";
    CU_ASSERT_EQUAL(as_engine_run(&cfg, &r, err, sizeof err), 0);
    CU_ASSERT_EQUAL(r.os.huge_faults, 0);
    as_run_result_free(&r);
    cfg.trace_path = "/nonexistent/trace.ast";
    CU_ASSERT_NOT_EQUAL(as_engine_run(&cfg, &r, err, sizeof err), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "/nonexistent/trace.ast"));
}

/* Same trace, same parameters: the same summary byte for byte, timing
 * aside. A random trace of 20k events through every registered policy. */
static char *strip_timing(char *json)
{
    char *t = strstr(json, "\"timing\"");
    if (t) *t = 0;
    return json;
}

static void test_determinism(void)
{
    enum { N = 20000 };
    as_event_t *evs = calloc(N, sizeof *evs);
    uint64_t live[512], nlive = 0, next = 0, x = 12345;
    size_t n = 0;
    for (uint64_t t = 0; n < N; t += 1000) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        if (nlive && ((x >> 33) % 2 == 0 || nlive == 512)) {
            uint64_t k = (x >> 40) % nlive;
            evs[n++] = (as_event_t)F(t, live[k]);
            live[k] = live[--nlive];
        } else {
            uint64_t sz =
                1 + ((x >> 20) % 3 ? (x >> 44) % 512 : (x >> 30) % 300000);
            evs[n++] = (as_event_t){.kind = AS_EV_ALLOC,
                                    .t_ns = t,
                                    .object = next,
                                    .size = sz,
                                    .thread = (uint32_t)(x % 4),
                                    .cpu = (uint32_t)((x >> 8) % 4)};
            live[nlive++] = next++;
        }
    }
    const char *p = write_trace(evs, n);
    free(evs);
    CU_ASSERT_FATAL(as_policy_count() > 0);
    for (size_t i = 0; i < as_policy_count(); i++) {
        as_run_config_t cfg;
        as_run_config_default(&cfg);
        cfg.trace_path = p;
        cfg.policy = as_policy_at(i)->name;
        cfg.predictor = "oracle";
        as_run_result_t r1, r2;
        char err[1024];
        int rc = as_engine_run(&cfg, &r1, err, sizeof err);
        if (rc) fprintf(stderr, "%s: %s\n", cfg.policy, err);
        CU_ASSERT_FATAL(rc == 0);
        CU_ASSERT_FATAL(as_engine_run(&cfg, &r2, err, sizeof err) == 0);
        char *j1 = strip_timing(as_summary_json(&cfg, &r1));
        char *j2 = strip_timing(as_summary_json(&cfg, &r2));
        CU_ASSERT_STRING_EQUAL(j1, j2);
        CU_ASSERT_EQUAL(r1.events, N);
        free(j1);
        free(j2);
        as_run_result_free(&r1);
        as_run_result_free(&r2);
    }
}

/* ------------------------------------------- write reports (os.writes) */

/* A trace with the recorder's header keys (`how`, `min`: record.writes and
 * record.writes_min_bytes, either NULL for none), events evs[0..n) and
 * write reports ws[0..nw), each written before event ws[j].events_before
 * (n: after the last). @return its scratch path. */
static const char *writes_trace(const char *how, const char *min,
                                const as_event_t *evs, size_t n,
                                const as_write_t *ws, size_t nw)
{
    const char *path = as_test_scratch("writes", ".ast");
    as_trace_writer_t *w;
    CU_ASSERT_FATAL(as_trace_writer_open(&w, path, NULL) == 0);
    if (how)
        CU_ASSERT_FATAL(as_trace_writer_meta(w, "record.writes", how) == 0);
    if (min)
        CU_ASSERT_FATAL(
            as_trace_writer_meta(w, "record.writes_min_bytes", min) == 0);
    size_t j = 0;
    for (size_t i = 0; i <= n; i++) {
        while (j < nw && ws[j].events_before == i)
            CU_ASSERT_FATAL(as_trace_writer_write(w, &ws[j++]) == 0);
        as_event_t e;
        if (i < n && (e = evs[i], as_trace_writer_event(w, &e) != 0))
            CU_FAIL_FATAL("writer refused an event");
    }
    CU_ASSERT_FATAL(as_trace_writer_close(w) == 0);
    return path;
}

/* Run `path` on pagebump with THP `thp`, no khugepaged, and the
 * parameter `param` (NULL: none). @return the engine's code; err kept
 * (and printed when verbose_fail: a run expected to succeed). */
static int verbose_fail = 1;
static int run_writes(const char *path, as_thp_mode_t thp, const char *param,
                      as_run_result_t *r, char *err, size_t errcap)
{
    as_run_config_t cfg;
    as_run_config_default(&cfg);
    cfg.trace_path = path;
    cfg.policy_ops = &pagebump;
    cfg.os.thp = thp;
    cfg.os.khugepaged = 0;
    if (param) cfg.params[cfg.n_params++] = param;
    int rc = as_engine_run(&cfg, r, err, errcap);
    if (rc && verbose_fail) fprintf(stderr, "engine: %s\n", err);
    return rc;
}

/* The recorded trace (record.writes=pagemap, writes_min_bytes 8192):
 *   e0  t=0   alloc 0, 1 MiB     >= 8192: not touched (pages 0-255)
 *   e1  t=1s  alloc 1, 100 B     < 8192: touched (page 256)      4 KiB
 *   w0  t=10s object 0 [0, 8K)   pages 0-1                       12 KiB
 *   w1  t=20s object 0 [512K, +4K) page 128                      16 KiB
 *   w2  t=20s object 0 [0, 4K)   a repeat: nothing new           16 KiB
 *   e2  t=25s free 1             pagebump releases page 256      12 KiB
 *   e3  t=30s free 0                                             0
 * Object 0 peaks at exactly 3 pages; the run at 16 KiB with 4 faults.
 * Sampled every 5 s (a sample due with a report or event is taken before
 * it): 0, 4, 4, 12, 12, 16, 12 KiB at 0..30 s, then 0 at the end.
 * Time-weighted mean resident: (4K * 9 + 12K * 10 + 16K * 5 + 12K * 5) /
 * 30 = 303104 / 30 bytes. With os.writes=alloc the reports are ignored
 * and object 0 is written whole at allocation: peak 1 MiB + 4 KiB, 257
 * faults. THP never: pagebump's chunks are whole aligned 2 MiB regions, so
 * with THP always the first touch in one (object 1's, at 1 s, in either
 * mode) faults all of it: 2 MiB whatever the writes. */
static const as_event_t w_events[] = {
    A(0, 0, MiB),
    A(1 * SEC, 1, 100),
    F(25 * SEC, 1),
    F(30 * SEC, 0),
};
static const as_write_t w_reports[] = {
    {10 * SEC, 0, 0, 8192, 2},
    {20 * SEC, 0, 512 * KiB, 4096, 2},
    {20 * SEC, 0, 0, 4096, 2},
};

/* A sink that keeps the resident bytes of every sample (at most 16). */
typedef struct {
    uint64_t t[16], resident[16];
    size_t n;
} rows_t;

static int keep_row(void *arg, uint64_t t_rel_ns, const as_sample_t *smp,
                    const as_simos_counters_t *os, char *err, size_t errcap)
{
    (void)os;
    (void)err;
    (void)errcap;
    rows_t *rows = arg;
    if (rows->n < 16) {
        rows->t[rows->n] = t_rel_ns;
        rows->resident[rows->n++] = smp->resident_bytes;
    }
    return 0;
}

static void test_writes_recorded(void)
{
    const char *p = writes_trace("pagemap", "8192", w_events, 4, w_reports, 3);
    as_run_result_t r;
    char err[1024];
    int rc;
    CU_ASSERT_FATAL(run_writes(p, AS_THP_NEVER, NULL, &r, err, sizeof err) ==
                    0);
    CU_ASSERT_EQUAL(r.writes_recorded, 1); /* auto: the header says so */
    CU_ASSERT_EQUAL(r.writes_min_bytes, 8192);
    CU_ASSERT_EQUAL(r.write_reports, 3);
    CU_ASSERT_EQUAL(r.write_report_bytes, 8192 + 4096 + 4096);
    CU_ASSERT_EQUAL(r.metrics.peak_resident_bytes, 16384);
    CU_ASSERT_EQUAL(r.os.page_faults, 4);
    CU_ASSERT_DOUBLE_EQUAL(r.metrics.mean_resident_bytes, 303104.0 / 30, 1e-6);
    CU_ASSERT_EQUAL(r.metrics.peak_live_bytes, MiB + 100);
    as_run_result_free(&r);

    rc = run_writes(p, AS_THP_NEVER, "os.writes=recorded", &r, err, sizeof err);
    CU_ASSERT_FATAL(rc == 0);
    CU_ASSERT_EQUAL(r.metrics.peak_resident_bytes, 16384);
    as_run_result_free(&r);

    rc = run_writes(p, AS_THP_NEVER, "os.writes=alloc", &r, err, sizeof err);
    CU_ASSERT_FATAL(rc == 0);
    CU_ASSERT_EQUAL(r.writes_recorded, 0);
    CU_ASSERT_EQUAL(r.write_reports, 0);
    CU_ASSERT_EQUAL(r.metrics.peak_resident_bytes, MiB + 4096);
    CU_ASSERT_EQUAL(r.os.page_faults, 257);
    as_run_result_free(&r);

    for (int mode = 0; mode < 2; mode++) {
        rc = run_writes(p, AS_THP_ALWAYS, mode ? "os.writes=alloc" : NULL, &r,
                        err, sizeof err);
        CU_ASSERT_FATAL(rc == 0);
        CU_ASSERT_EQUAL(r.metrics.peak_resident_bytes, 2 * MiB);
        CU_ASSERT_EQUAL(r.os.huge_faults, 1);
        as_run_result_free(&r);
    }

    /* the series every 5 s: resident at 0, 5, ..., 30 s and at the end */
    as_run_config_t cfg;
    as_run_config_default(&cfg);
    cfg.trace_path = p;
    cfg.policy_ops = &pagebump;
    cfg.os.thp = AS_THP_NEVER;
    cfg.os.khugepaged = 0;
    cfg.sample_interval_ns = 5 * SEC;
    rows_t rows = {.n = 0};
    as_run_sink_t sink = {.arg = &rows, .on_sample = keep_row};
    cfg.sinks = &sink;
    cfg.n_sinks = 1;
    CU_ASSERT_FATAL(as_engine_run(&cfg, &r, err, sizeof err) == 0);
    /* a sample due at the time of a report or event is taken before it;
     * the end sample after the last event */
    static const uint64_t want[8] = {0,     4096,  4096,  12288,
                                     12288, 16384, 12288, 0};
    CU_ASSERT_EQUAL_FATAL(rows.n, 8);
    for (size_t i = 0; i < 8; i++) {
        CU_ASSERT_EQUAL(rows.t[i], (i < 7 ? i : 6) * 5 * SEC);
        CU_ASSERT_EQUAL(rows.resident[i], want[i]);
    }
    as_run_result_free(&r);
}

/* A realloc of a large object (pagebump has no realloc hook: a new block,
 * then the old one freed), recorded:
 *   e0  t=0   alloc 0, 1 MiB              not touched
 *   w0  t=1s  object 0 [0, 4K)            4 KiB
 *   e1  t=2s  realloc 0 -> 1, 1.5 MiB     new block (a second chunk) not
 *                                          touched; old released: 0
 *   w1  t=3s  object 1 [0, 8K) (the copy) 8 KiB
 *   e2  t=4s  free 1                      0
 * Peak 8 KiB, 3 faults. With os.writes=alloc: 1 MiB, then the new block
 * written whole before the old one is freed; resident is sampled after an
 * event as a whole: peak 1.5 MiB, 256 + 384 faults. */
static const as_event_t r_events[] = {
    A(0, 0, MiB),
    {.kind = AS_EV_REALLOC, .t_ns = 2 * SEC, .object = 0, .size = 3 * MiB / 2},
    F(4 * SEC, 1),
};
static const as_write_t r_reports[] = {
    {1 * SEC, 0, 0, 4096, 1},
    {3 * SEC, 1, 0, 8192, 2},
};

static void test_writes_realloc(void)
{
    const char *p = writes_trace("pagemap", "8K", r_events, 3, r_reports, 2);
    as_run_result_t r;
    char err[1024];
    int rc;
    CU_ASSERT_FATAL(run_writes(p, AS_THP_NEVER, NULL, &r, err, sizeof err) ==
                    0);
    CU_ASSERT_EQUAL(r.writes_min_bytes, 8192); /* "8K" as a byte size */
    CU_ASSERT_EQUAL(r.metrics.peak_resident_bytes, 8192);
    CU_ASSERT_EQUAL(r.os.page_faults, 3);
    as_run_result_free(&r);
    rc = run_writes(p, AS_THP_NEVER, "os.writes=alloc", &r, err, sizeof err);
    CU_ASSERT_FATAL(rc == 0);
    CU_ASSERT_EQUAL(r.metrics.peak_resident_bytes, 3 * MiB / 2);
    CU_ASSERT_EQUAL(r.os.page_faults, 256 + 384);
    as_run_result_free(&r);
}

/* expect_fail: the run of `path` (parameter `param`) fails with `code` and
 * a message that starts with the trace's path and contains `want`. */
static void expect_fail(const char *path, const char *param, int code,
                        const char *want)
{
    as_run_result_t r;
    char err[1024], full[1200];
    verbose_fail = 0;
    int rc = run_writes(path, AS_THP_NEVER, param, &r, err, sizeof err);
    verbose_fail = 1;
    snprintf(full, sizeof full, "%s: %s", path, want);
    if (rc != code || strcmp(err, full) != 0)
        fprintf(stderr, "\n  rc %d, got: %s\n  want: %s\n", rc, err, full);
    CU_ASSERT_EQUAL(rc, code);
    CU_ASSERT_STRING_EQUAL(err, full);
}

/* Bad write reports and headers: input errors naming the file and the
 * report (exit 2 from the command line: AS_EFORMAT, AS_EINVAL). */
static void test_writes_errors(void)
{
    const as_event_t freed[] = {A(0, 0, 16384), F(1 * SEC, 0),
                                A(3 * SEC, 1, 8)};
    const as_write_t late[] = {{2 * SEC, 0, 0, 4096, 2}};
    expect_fail(writes_trace("pagemap", "8192", freed, 3, late, 1), NULL,
                AS_EFORMAT,
                "write record 0 (before event 2): object 0 is not live");
    /* after the last event too */
    expect_fail(writes_trace("pagemap", "8192", freed, 2, late, 1), NULL,
                AS_EFORMAT,
                "write record 0 (before event 2): object 0 is not live");
    const as_event_t one[] = {A(0, 0, 16384), F(2 * SEC, 0)};
    const as_write_t past[] = {{1 * SEC, 0, 4096, 4096, 1},
                               {1 * SEC, 0, 12288, 8192, 1}};
    expect_fail(writes_trace("pagemap", "8192", one, 2, past, 2), NULL,
                AS_EFORMAT,
                "write record 1 (before event 1): bytes [12288, 20480) of "
                "object 0 are past its size, 16384 bytes");
    expect_fail(writes_trace("pagemap", NULL, one, 2, past, 1), NULL,
                AS_EFORMAT,
                "record.writes=pagemap, but record.writes_min_bytes is "
                "missing (expected the size in bytes from which objects "
                "have write reports)");
    expect_fail(writes_trace("pagemap", "lots", one, 2, past, 1), NULL,
                AS_EFORMAT,
                "record.writes=pagemap, but record.writes_min_bytes is "
                "'lots' (expected the size in bytes from which objects "
                "have write reports)");
    expect_fail(writes_trace(NULL, NULL, one, 2, NULL, 0), "os.writes=recorded",
                AS_EINVAL,
                "os.writes=recorded, but the trace has no write reports (its "
                "header has no record.writes=pagemap)");
    /* a trace without the keys replays as before: every byte written */
    as_run_result_t r;
    char err[1024];
    CU_ASSERT_FATAL(run_writes(writes_trace(NULL, NULL, one, 2, past, 1),
                               AS_THP_NEVER, NULL, &r, err, sizeof err) == 0);
    CU_ASSERT_EQUAL(r.writes_recorded, 0);
    CU_ASSERT_EQUAL(r.metrics.peak_resident_bytes, 16384);
    as_run_result_free(&r);
}

/* The figures a path must agree on. */
static void same_figures(const as_run_result_t *a, const as_run_result_t *b)
{
    CU_ASSERT_EQUAL(a->metrics.peak_resident_bytes,
                    b->metrics.peak_resident_bytes);
    CU_ASSERT_DOUBLE_EQUAL(a->metrics.mean_resident_bytes,
                           b->metrics.mean_resident_bytes, 1e-9);
    CU_ASSERT_EQUAL(a->os.page_faults, b->os.page_faults);
    CU_ASSERT_EQUAL(a->write_reports, b->write_reports);
    CU_ASSERT_EQUAL(a->write_report_bytes, b->write_report_bytes);
    CU_ASSERT_EQUAL(a->events, b->events);
}

/* Every path of the engine replays the reports alike: several
 * configurations in one pass (recorded and alloc), the decode thread, and
 * two programs on one machine (the machine's resident sum peaks at 16 KiB:
 * the first program's 16 KiB at 20-25 s, when the second has ended). */
static void test_writes_paths(void)
{
    const char *p1 = writes_trace("pagemap", "8192", w_events, 4, w_reports, 3);
    const char *p2 = writes_trace("pagemap", "8192", r_events, 3, r_reports, 2);
    char err[1024];
    as_run_result_t single[3];
    const char *params[3] = {NULL, "os.writes=alloc", NULL};
    const char *paths[3] = {p1, p1, p2};
    for (int i = 0; i < 3; i++)
        CU_ASSERT_FATAL(run_writes(paths[i], AS_THP_NEVER, params[i],
                                   &single[i], err, sizeof err) == 0);
    as_run_config_t cfg[3];
    for (int i = 0; i < 3; i++) {
        as_run_config_default(&cfg[i]);
        cfg[i].trace_path = paths[i];
        cfg[i].policy_ops = &pagebump;
        cfg[i].os.thp = AS_THP_NEVER;
        cfg[i].os.khugepaged = 0;
        if (params[i]) cfg[i].params[cfg[i].n_params++] = params[i];
    }
    /* one pass, two configurations; then each with the decode thread */
    const as_run_config_t *two[2] = {&cfg[0], &cfg[1]};
    as_run_result_t res[3];
    char e0[1024], e1[1024], e2[1024];
    char *errs[3] = {e0, e1, e2};
    int rcs[3];
    CU_ASSERT_FATAL(as_engine_run_many(two, 2, res, errs, 1024, rcs) == 0);
    same_figures(&res[0], &single[0]);
    same_figures(&res[1], &single[1]);
    as_run_result_free(&res[0]);
    as_run_result_free(&res[1]);
    for (int i = 0; i < 3; i++) {
        cfg[i].threads = 2;
        CU_ASSERT_FATAL(as_engine_run(&cfg[i], &res[0], err, sizeof err) == 0);
        CU_ASSERT(res[0].threads >= 2);
        same_figures(&res[0], &single[i]);
        as_run_result_free(&res[0]);
        cfg[i].threads = 1;
    }
    /* two programs on one machine, both starting at machine time 0 */
    as_machine_prog_t progs[2] = {{&cfg[0], 0}, {&cfg[2], 0}};
    as_machine_config_t m = {.progs = progs, .n_progs = 2};
    as_machine_result_t mres;
    char merr[1024];
    int rc = as_engine_run_machine(&m, res, errs, 1024, rcs, &mres, merr,
                                   sizeof merr);
    if (rc) fprintf(stderr, "machine: %s / %s / %s\n", merr, e0, e1);
    CU_ASSERT_FATAL(rc == 0);
    same_figures(&res[0], &single[0]);
    same_figures(&res[1], &single[2]);
    CU_ASSERT_EQUAL(mres.peak_resident_bytes, 16384);
    as_run_result_free(&res[0]);
    as_run_result_free(&res[1]);
    as_machine_result_free(&mres);
    for (int i = 0; i < 3; i++)
        as_run_result_free(&single[i]);
}

int main(void)
{
    static const as_test_t tests[] = {
        {"thp never: exact resident, fragmentation", test_thp_never},
        {"thp always: huge fault, partial release splits",
         test_thp_always_split},
        {"khugepaged collapse, max_ptes_none", test_khugepaged_collapse},
        {"bad events are counted warnings", test_warnings},
        {"oracle and none: confusion matrix", test_oracle_confusion},
        {"realloc in place and by copy", test_realloc},
        {"realloc modes: hook, move, preload", test_realloc_modes},
        {"configuration errors", test_config_errors},
        {"determinism across every policy", test_determinism},
        {"write reports: recorded, alloc, THP", test_writes_recorded},
        {"write reports: realloc of a large object", test_writes_realloc},
        {"write reports: bad reports and headers", test_writes_errors},
        {"write reports: every engine path", test_writes_paths},
        {NULL, NULL},
    };
    int rc = as_test_main("sim_engine", tests);
    return rc;
}

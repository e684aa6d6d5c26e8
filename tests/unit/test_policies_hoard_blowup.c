/* test_policies_hoard_blowup.c - Berger's blowup argument, replayed.
 *
 * Generates `producer-consumer` traces (traces/gen) and replays them with
 * the engine (checking layer on) through hoard and the two strawmen.
 *
 * Workload: 4 CPUs, the producer makes 8000 messages (64-byte header and a
 * 16..1024-byte payload) on one CPU and moves to the next (round robin); the
 * consumer on CPU 1 frees each message after ~300 us (FIFO). Peak live is
 * about 1.8 MB, i.e. roughly the messages of the last few hundred
 * microseconds, all made on one or two CPUs.
 *   - private-heaps: a free lands on the consumer's heap; the producer on
 *     CPUs 0, 2 and 3 never sees those blocks again and carves fresh
 *     superblocks, so the footprint grows with the number of messages:
 *     doubling the trace must (nearly) double the footprint; we assert
 *     more than 1.5 times.
 *   - ownership-heaps: each heap keeps the memory of its own peak, which is
 *     about the whole live peak (a rotation lasts ~8 ms, far longer than a
 *     message lives), and never gives it back: footprint ~ P x peak live.
 *     We assert P x [0.85, 1.15] of peak live.
 *   - hoard: emptied superblocks move to the global heap and are reused by
 *     the next CPU: footprint <= its bound U/(1-f) + P K S (reported by
 *     stats), which here is 1.5 U + 4*4*8K ~ 1.6 x live. Hence the ratio
 *     ownership / hoard lies in [P / 1.6, P] = [2.5, 4]: we assert it.
 */
#include <stdio.h>
#include <string.h>

#include "policies/layers/stats.h"
#include "sim/engine.h"
#include "tests/unit/testutil.h"
#include "traces/gen/gen.h"
#include "traces/trace.h"

#define P 4

static void gen_pc(const char *path, uint64_t events)
{
    static const char *const set[] = {"cpus=4",         "mode=rr",
                                      "rotate=8000",    "latency=300us",
                                      "consumer_cpu=1", NULL};
    as_test_gen(path, "producer-consumer", events, 1, set);
}

typedef struct {
    uint64_t peak_live, peak_resident;
    double footprint, in_use, bound, blowup;
} outcome_t;

static outcome_t replay(const char *trace, const char *policy)
{
    as_run_config_t cfg;
    as_run_config_default(&cfg);
    cfg.trace_path = trace;
    cfg.policy = policy;
    cfg.check = 1;
    static char heaps[64];
    snprintf(heaps, sizeof heaps, "%s.heaps=%d", policy, P);
    cfg.params[cfg.n_params++] = heaps;
    as_run_result_t res;
    char err[512] = "";
    int rc = as_engine_run(&cfg, &res, err, sizeof err);
    if (rc != AS_OK) fprintf(stderr, "%s: %s\n", policy, err);
    CU_ASSERT_FATAL(rc == AS_OK);
    CU_ASSERT_EQUAL(res.warn_policy_errors, 0);
    outcome_t o = {
        .peak_live = res.metrics.peak_live_bytes,
        .peak_resident = res.metrics.peak_resident_bytes,
        .footprint = as_test_stat(&res, "policy.footprint_bytes_peak"),
        .in_use = as_test_stat(&res, "policy.in_use_bytes_peak"),
        .bound = as_test_stat(&res, "policy.bound_bytes"),
        .blowup = as_test_stat(&res, "policy.blowup"),
    };
    as_run_result_free(&res);
    CU_ASSERT(o.footprint > 0);
    /* the policy's own footprint is what the simulated OS saw resident, at
     * most (pages of a superblock are touched only when handed out) */
    CU_ASSERT(o.peak_resident <= (uint64_t)o.footprint);
    fprintf(stderr,
            "  %-16s peak live %9llu  resident %9llu  footprint %9.0f"
            "  in use %9.0f  bound %9.0f\n",
            policy, (unsigned long long)o.peak_live,
            (unsigned long long)o.peak_resident, o.footprint, o.in_use,
            o.bound);
    return o;
}

static void test_private_heaps_grow(void)
{
    char a[512], b[512];
    snprintf(a, sizeof a, "%s", as_test_tmpfile("pc-short", ".ast"));
    snprintf(b, sizeof b, "%s", as_test_tmpfile("pc-long", ".ast"));
    gen_pc(a, 150000);
    gen_pc(b, 300000);
    outcome_t s = replay(a, "private-heaps");
    outcome_t l = replay(b, "private-heaps");
    /* same live peak (a steady state), twice the messages */
    CU_ASSERT(l.peak_live < s.peak_live * 1.25);
    CU_ASSERT(l.footprint > 1.5 * s.footprint);
    CU_ASSERT(l.peak_resident > 1.5 * s.peak_resident);
    CU_ASSERT(s.footprint > 4.0 * s.peak_live);
    /* hoard, on the same two traces, does not grow by more than the
     * difference in live peak plus a superblock per heap and class */
    outcome_t hs = replay(a, "hoard");
    outcome_t hl = replay(b, "hoard");
    CU_ASSERT(hl.footprint < 1.25 * hs.footprint);
    remove(a);
    remove(b);
}

static void test_ownership_p_fold(void)
{
    char a[512];
    snprintf(a, sizeof a, "%s", as_test_tmpfile("pc-rr", ".ast"));
    gen_pc(a, 300000);
    outcome_t own = replay(a, "ownership-heaps");
    outcome_t hoard = replay(a, "hoard");
    double own_blowup = own.footprint / (double)own.peak_live;
    double ratio = own.footprint / hoard.footprint;
    fprintf(stderr, "  ownership blowup %.2f, ownership/hoard %.2f\n",
            own_blowup, ratio);
    CU_ASSERT(own_blowup >= 0.85 * P && own_blowup <= 1.15 * P);
    CU_ASSERT(ratio >= P / 1.6 && ratio <= P);
    /* hoard stays within its bound (U/(1-f) + P K S, U = peak in use) */
    CU_ASSERT(hoard.bound > 0);
    CU_ASSERT(hoard.footprint <= hoard.bound);
    CU_ASSERT((double)hoard.peak_resident <= hoard.bound);
    remove(a);
}

/* ------------------------------------------------------------ stats layer */

/* `hoard` wrapped in the statistics layer, as a policy the engine can run
 * (one instance at a time: the wrapped table lives in g_ops). */
static as_policy_ops_t g_ops;
static as_stats_counters_t g_counters;
static double g_policy_in_use_peak;

static int sh_create(const as_policy_config_t *cfg, void **state)
{
    return as_stats_wrap(as_policy_find("hoard"), cfg, NULL, &g_ops, state);
}
static int sh_alloc(void *st, const as_ctx_t *ctx, size_t size, size_t align,
                    as_block_t *out)
{
    return g_ops.alloc(st, ctx, size, align, out);
}
static int sh_free(void *st, const as_ctx_t *ctx, uintptr_t addr,
                   size_t size_hint)
{
    return g_ops.free(st, ctx, addr, size_hint);
}
static size_t sh_usable(void *st, uintptr_t addr)
{
    return g_ops.usable_size(st, addr);
}
static void grab(void *arg, const char *name, double value)
{
    (void)arg;
    if (strcmp(name, "in_use_bytes_peak") == 0) g_policy_in_use_peak = value;
}
static void sh_stats(void *st, as_stat_fn fn, void *arg)
{
    as_stats_counters(st, &g_counters);
    g_ops.stats(st, grab, NULL);
    g_ops.stats(st, fn, arg);
}
static void sh_destroy(void *st)
{
    g_ops.destroy(st);
}
static int sh_check(const void *st, as_msg_t *why)
{
    return g_ops.check(st, why);
}

/* Replaying the rr trace through stats(hoard) under the checking layer: the
 * layer's counts match the engine's event counts, its peak of live requested
 * bytes is the engine's peak live, and its peak of live usable bytes is
 * hoard's own peak of in-use bytes (two independent computations). */
static void test_stats_layer_replay(void)
{
    char a[512];
    snprintf(a, sizeof a, "%s", as_test_tmpfile("pc-stats", ".ast"));
    gen_pc(a, 100000);
    const as_policy_ops_t *hoard = as_policy_find("hoard");
    as_policy_ops_t ops = *hoard;
    ops.name = "stats-hoard";
    ops.create = sh_create;
    ops.alloc = sh_alloc;
    ops.free = sh_free;
    ops.usable_size = sh_usable;
    ops.stats = sh_stats;
    ops.destroy = sh_destroy;
    ops.check = sh_check; /* every hook of the copied table is replaced */
    as_run_config_t cfg;
    as_run_config_default(&cfg);
    cfg.trace_path = a;
    cfg.policy_ops = &ops;
    cfg.check = 1;
    as_run_result_t res;
    char err[512] = "";
    int rc = as_engine_run(&cfg, &res, err, sizeof err);
    if (rc) fprintf(stderr, "%s\n", err);
    CU_ASSERT_FATAL(rc == AS_OK);
    CU_ASSERT_EQUAL(res.warn_zero_size, 0);
    CU_ASSERT_EQUAL(g_counters.allocs, res.allocs + res.reallocs);
    CU_ASSERT_EQUAL(g_counters.frees, res.frees + res.reallocs);
    CU_ASSERT_EQUAL(g_counters.failed, 0);
    CU_ASSERT_EQUAL(g_counters.peak_live_requested_bytes,
                    res.metrics.peak_live_bytes);
    CU_ASSERT_EQUAL((double)g_counters.peak_live_usable_bytes,
                    g_policy_in_use_peak);
    CU_ASSERT(g_counters.allocs > 40000);
    uint64_t n = 0;
    for (unsigned k = 0; k < AS_STATS_BUCKETS; k++)
        n += g_counters.hist_allocs[k];
    CU_ASSERT_EQUAL(n, g_counters.allocs);
    /* headers are 64 bytes: the <= 64 bucket holds at least half */
    CU_ASSERT(2 * g_counters.hist_allocs[2] >= g_counters.allocs);
    as_run_result_free(&res);
    remove(a);
}

static const as_test_t tests[] = {
    {"private_heaps_grow", test_private_heaps_grow},
    {"ownership_p_fold", test_ownership_p_fold},
    {"stats_layer_replay", test_stats_layer_replay},
    {NULL, NULL},
};

int main(void)
{
    return as_test_main("policies_hoard_blowup", tests);
}

/* test_policies_llama_servermix.c - LLAMA end to end on the server-mix
 * workload (1,000,000 events, seed 1, default parameters), replayed by the
 * engine over the simulated OS (THP always) with the checking layer on.
 *
 * What must hold (docs/policies/llama.md, "What the tests assert"):
 *   - llama + oracle: no demotion (a perfect oracle never lets an object
 *     die below its class's lower bound), a lower time-weighted mean
 *     resident than tcmalloc, peak resident within the bounds below (with
 *     the paper's recycling rule the peak is not below tcmalloc's: 1.158x
 *     at da1b1e4), huge-page coverage >= 95% (mean and at peak);
 *   - llama + adversarial (every object predicted 10 ms): pages are promoted,
 *     and fragmentation stays bounded: peak resident <= 2 x peak live
 *     (jw4 <= 1) and <= 1.35 x tcmalloc's peak resident (1.316x at
 *     da1b1e4);
 *   - llama + none (no prediction: objects start in the shortest class,
 *     llama.unknown_class=shortest): pages are promoted as they age, and
 *     the same bounds hold; with unknown_class=longest nothing can be
 *     promoted (already the unbounded class) and the bounds still hold.
 * The figures measured when this was written are in docs/benchmarks.md.
 */
#include <stdio.h>
#include <string.h>

#include "sim/engine.h"
#include "traces/gen/gen.h"
#include "tests/unit/testutil.h"

static char trace[512];

static void make_trace(void)
{
    if (trace[0]) return;
    snprintf(trace, sizeof trace, "%s",
             as_test_tmpfile("llama-servermix", ".ast"));
    as_test_gen(trace, "server-mix", 1000000, 1, NULL);
}

typedef struct {
    as_run_result_t r;
    double promotions;
} outcome_t;

static void run_p(const char *policy, const char *predictor, const char *param,
                  outcome_t *o)
{
    make_trace();
    as_run_config_t cfg;
    as_run_config_default(&cfg);
    cfg.trace_path = trace;
    cfg.policy = policy;
    cfg.predictor = predictor;
    if (param) cfg.params[cfg.n_params++] = param;
    char err[512] = "";
    memset(o, 0, sizeof *o);
    int rc = as_engine_run(&cfg, &o->r, err, sizeof err);
    if (rc) fprintf(stderr, "%s/%s: %s\n", policy, predictor, err);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    o->promotions = as_test_stat(&o->r, "policy.llama_promotions");
    const as_metrics_summary_t *m = &o->r.metrics;
    fprintf(stderr,
            "\n  %-8s %-11s peak_resident %llu mean_resident %.0f "
            "peak_live %llu jw4 %.3f coverage %.3f/%.3f promotions %.0f "
            "demotions %.0f",
            policy, predictor, (unsigned long long)m->peak_resident_bytes,
            m->mean_resident_bytes, (unsigned long long)m->peak_live_bytes,
            m->jw4, m->hugepage_coverage_mean, m->hugepage_coverage_at_peak,
            o->promotions, as_test_stat(&o->r, "policy.llama_demotions"));
}

static void run(const char *policy, const char *predictor, outcome_t *o)
{
    run_p(policy, predictor, NULL, o);
}

static outcome_t tc, oracle, adversarial, none, none_longest;

static void bounded(const outcome_t *o);

static void test_oracle_against_tcmalloc(void)
{
    run("tcmalloc", "none", &tc);
    run("llama", "oracle", &oracle);
    const as_metrics_summary_t *t = &tc.r.metrics, *l = &oracle.r.metrics;
    CU_ASSERT_EQUAL(l->peak_live_bytes, t->peak_live_bytes);
    CU_ASSERT(l->mean_resident_bytes < t->mean_resident_bytes);
    bounded(&oracle);
    CU_ASSERT(l->hugepage_coverage_at_peak >= 0.95);
    CU_ASSERT_DOUBLE_EQUAL(oracle.r.accuracy_by_allocs, 1.0, 1e-12);
    /* Every object dies inside its class, so none below its lower bound.
     * (Promotions can happen: a block that keeps receiving objects for
     * longer than its deadline expires, docs/policies/llama.md.) */
    CU_ASSERT_EQUAL(as_test_stat(&oracle.r, "policy.llama_demotions"), 0);
    fprintf(stderr, "\n  llama+oracle / tcmalloc: peak %.3f mean %.3f\n",
            (double)l->peak_resident_bytes / (double)t->peak_resident_bytes,
            l->mean_resident_bytes / t->mean_resident_bytes);
}

static void bounded(const outcome_t *o)
{
    const as_metrics_summary_t *m = &o->r.metrics;
    CU_ASSERT(m->jw4 <= 1.0);
    /* within 1.35x tcmalloc's peak: a bad predictor's 52,428,800 is 1.19x
     * the 44,040,192 tcmalloc had before its front end followed the source
     * (issue 10) and 1.32x the 39,845,888 it has now */
    CU_ASSERT((double)m->peak_resident_bytes <=
              1.35 * (double)tc.r.metrics.peak_resident_bytes);
    CU_ASSERT(m->hugepage_coverage_mean >= 0.95);
}

static void test_adversarial_promotes_and_stays_bounded(void)
{
    run("llama", "adversarial", &adversarial);
    CU_ASSERT(adversarial.promotions > 0);
    CU_ASSERT(as_test_stat(&adversarial.r, "policy.llama_block_promotions") >
              0);
    bounded(&adversarial);
    fprintf(stderr, "\n");
}

static void test_none_stays_bounded(void)
{
    run("llama", "none", &none);
    CU_ASSERT(none.promotions > 0);
    CU_ASSERT_EQUAL(none.r.unpredicted_allocs, none.r.allocs + none.r.reallocs);
    bounded(&none);
    run_p("llama", "none", "llama.unknown_class=longest", &none_longest);
    CU_ASSERT_EQUAL(none_longest.promotions, 0); /* already unbounded */
    bounded(&none_longest);
    fprintf(stderr, "\n");
}

static void test_cleanup(void)
{
    as_run_result_free(&tc.r);
    as_run_result_free(&oracle.r);
    as_run_result_free(&none_longest.r);
    as_run_result_free(&adversarial.r);
    as_run_result_free(&none.r);
    CU_ASSERT_EQUAL(remove(trace), 0);
}

int main(void)
{
    static const as_test_t tests[] = {
        {"oracle against tcmalloc", test_oracle_against_tcmalloc},
        {"adversarial promotes, bounded",
         test_adversarial_promotes_and_stays_bounded},
        {"none bounded", test_none_stays_bounded},
        {"cleanup", test_cleanup},
        {NULL, NULL}};
    return as_test_main("policies_llama_servermix", tests);
}

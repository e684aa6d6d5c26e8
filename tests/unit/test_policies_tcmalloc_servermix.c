/* test_policies_tcmalloc_servermix.c - subrelease on vs off, end to end.
 *
 * The server-mix workload (1,000,000 events, seed 1, default parameters) is
 * replayed by the engine over the simulated OS (THP always, khugepaged on)
 * with the checking layer on, through `tcmalloc` with a background release
 * rate of 4 MiB/s (TCMalloc's OSS default is 0, which releases nothing) and
 * default skip-subrelease windows, once with subrelease on and once off.
 *
 * What must hold (docs/policies/tcmalloc.md, "Subrelease on vs off"):
 *   - with subrelease on the filler gives free pages of partly used
 *     hugepages back: peak and time-weighted mean resident bytes go DOWN;
 *   - those hugepages are broken into 4 KiB pages: huge-page coverage (mean
 *     and at peak) goes DOWN;
 *   - with subrelease off no page is subreleased and no hugepage broken.
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
             as_test_tmpfile("tcmalloc-servermix", ".ast"));
    as_test_gen(trace, "server-mix", 1000000, 1, NULL);
}

static void run(const char *subrelease, as_run_result_t *r)
{
    make_trace();
    as_run_config_t cfg;
    as_run_config_default(&cfg);
    cfg.trace_path = trace;
    cfg.policy = "tcmalloc";
    cfg.params[cfg.n_params++] = "tcmalloc.release_rate=4M";
    cfg.params[cfg.n_params++] = subrelease;
    char err[512] = "";
    memset(r, 0, sizeof *r);
    int rc = as_engine_run(&cfg, r, err, sizeof err);
    if (rc) fprintf(stderr, "%s: %s\n", subrelease, err);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    const as_metrics_summary_t *m = &r->metrics;
    fprintf(stderr,
            "\n  %-22s peak_resident %llu mean_resident %.0f coverage "
            "%.3f/%.3f subreleased %.0f pages, %.0f hugepages broken",
            subrelease, (unsigned long long)m->peak_resident_bytes,
            m->mean_resident_bytes, m->hugepage_coverage_mean,
            m->hugepage_coverage_at_peak,
            as_test_stat(r, "policy.pages_subreleased"),
            as_test_stat(r, "policy.hugepages_broken"));
}

static void test_subrelease_on_vs_off(void)
{
    as_run_result_t on, off;
    run("tcmalloc.subrelease=on", &on);
    run("tcmalloc.subrelease=off", &off);
    CU_ASSERT_EQUAL(on.warn_policy_errors, 0);
    CU_ASSERT_EQUAL(off.warn_policy_errors, 0);
    /* the same trace: the same live bytes */
    CU_ASSERT_EQUAL(on.metrics.peak_live_bytes, off.metrics.peak_live_bytes);
    /* footprint goes down */
    CU_ASSERT(on.metrics.peak_resident_bytes < off.metrics.peak_resident_bytes);
    CU_ASSERT(on.metrics.mean_resident_bytes < off.metrics.mean_resident_bytes);
    /* huge-page coverage goes down */
    CU_ASSERT(on.metrics.hugepage_coverage_mean <
              off.metrics.hugepage_coverage_mean);
    CU_ASSERT(on.metrics.hugepage_coverage_at_peak <
              off.metrics.hugepage_coverage_at_peak);
    /* and the policy says why */
    CU_ASSERT(as_test_stat(&on, "policy.pages_subreleased") > 0);
    CU_ASSERT(as_test_stat(&on, "policy.hugepages_broken") > 0);
    CU_ASSERT(as_test_stat(&on, "policy.hugepageable_used_ratio") < 1.0);
    CU_ASSERT_EQUAL(as_test_stat(&off, "policy.pages_subreleased"), 0);
    CU_ASSERT_EQUAL(as_test_stat(&off, "policy.hugepages_broken"), 0);
    as_run_result_free(&on);
    as_run_result_free(&off);
}

int main(void)
{
    static const as_test_t tests[] = {
        {"server-mix: subrelease lowers footprint and coverage",
         test_subrelease_on_vs_off},
        {NULL, NULL}};
    int rc = as_test_main("policies_tcmalloc_servermix", tests);
    if (trace[0]) remove(trace);
    return rc;
}

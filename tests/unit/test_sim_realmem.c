/* test_sim_realmem.c - a run over a trace that carries its recording
 * host's THP settings and samples of the program's real memory: the
 * simulated OS defaults to the host's settings unless an option or a
 * --param names them (and says where each value came from), every series
 * row carries the latest sample at or before its time that precedes the
 * row's event in the trace, and a trace shorter than a period the run
 * depends on is warned about. Figures by hand in the comments.
 */
#include <stdlib.h>
#include <string.h>

#include "sim/engine.h"
#include "sim/summary.h"
#include "traces/hostthp.h"
#include "traces/trace.h"
#include "tests/unit/testutil.h"

#define MS 1000000ull

typedef struct {
    uint64_t t[16];
    uint32_t has[16];
    uint64_t rss[16], huge[16];
    size_t n;
} rows_t;

static int on_row(void *arg, uint64_t t, const as_sample_t *s,
                  const as_simos_counters_t *os, char *err, size_t cap)
{
    (void)os, (void)err, (void)cap;
    rows_t *r = arg;
    if (r->n < 16) {
        r->t[r->n] = t;
        r->has[r->n] = s->real_has;
        r->rss[r->n] = s->real_rss_bytes;
        r->huge[r->n] = s->real_huge_bytes;
        r->n++;
    }
    return 0;
}

/* Host: THP never, max_ptes_none 64, scan every 500 ms, 2048 pages (4
 * regions) a scan. Records (ms):
 *   s 0 rss 1000 | a 0 | a 10 | s 15 rss 2000 huge 4096 | a 20 |
 *   s 30 rss 3000 | f 40 | s 50 rss 9999 (after the last event) */
static const char *write_host_trace(void)
{
    const char *path = as_test_tmpfile("realmem", ".ast");
    as_trace_writer_t *w;
    CU_ASSERT_FATAL(as_trace_writer_open(&w, path, NULL) == 0);
    const char *v[AS_THP_N] = {"never", "madvise", "64", "500", "2048"};
    for (int i = 0; i < AS_THP_N; i++)
        CU_ASSERT(as_trace_writer_meta(w, as_thp_meta_key[i], v[i]) == 0);
    as_mem_sample_t s0 = {.t_ns = 0,
                          .rss_bytes = 1000,
                          .anon_huge_bytes = 0,
                          .has = AS_SAMPLE_HAS_RSS};
    as_mem_sample_t s1 = {.t_ns = 15 * MS,
                          .rss_bytes = 2000,
                          .anon_huge_bytes = 4096,
                          .has = AS_SAMPLE_HAS_RSS | AS_SAMPLE_HAS_HUGE};
    as_mem_sample_t s2 = {.t_ns = 30 * MS,
                          .rss_bytes = 3000,
                          .anon_huge_bytes = 0,
                          .has = AS_SAMPLE_HAS_RSS};
    as_mem_sample_t s3 = {.t_ns = 50 * MS,
                          .rss_bytes = 9999,
                          .anon_huge_bytes = 0,
                          .has = AS_SAMPLE_HAS_RSS};
    as_event_t e[4] = {
        {.kind = AS_EV_ALLOC, .t_ns = 0, .size = 100},
        {.kind = AS_EV_ALLOC, .t_ns = 10 * MS, .size = 100},
        {.kind = AS_EV_ALLOC, .t_ns = 20 * MS, .size = 100},
        {.kind = AS_EV_FREE, .t_ns = 40 * MS, .object = 0},
    };
    CU_ASSERT(as_trace_writer_sample(w, &s0) == 0);
    CU_ASSERT(as_trace_writer_event(w, &e[0]) == 0);
    CU_ASSERT(as_trace_writer_event(w, &e[1]) == 0);
    CU_ASSERT(as_trace_writer_sample(w, &s1) == 0);
    CU_ASSERT(as_trace_writer_event(w, &e[2]) == 0);
    CU_ASSERT(as_trace_writer_sample(w, &s2) == 0);
    CU_ASSERT(as_trace_writer_event(w, &e[3]) == 0);
    CU_ASSERT(as_trace_writer_sample(w, &s3) == 0);
    CU_ASSERT_FATAL(as_trace_writer_close(w) == 0);
    return path;
}

static const as_resolved_param_t *param(const as_run_result_t *res,
                                        const char *part, const char *name)
{
    for (size_t i = 0; i < res->n_params_out; i++)
        if (!strcmp(res->params[i].part, part) &&
            !strcmp(res->params[i].spec->name, name))
            return &res->params[i];
    return NULL;
}

static int run(const char *path, const char *policy, const as_policy_ops_t *ops,
               unsigned given, as_thp_mode_t thp, const char *assign,
               rows_t *rows, as_run_result_t *res)
{
    as_run_config_t cfg;
    as_run_config_default(&cfg);
    cfg.trace_path = path;
    cfg.policy = policy;
    cfg.policy_ops = ops;
    cfg.os_given = given;
    cfg.os.thp = thp;
    cfg.sample_interval_ns = 10 * MS;
    if (assign) cfg.params[cfg.n_params++] = assign;
    as_run_sink_t sink = {.arg = rows, .on_sample = on_row};
    cfg.sinks = &sink;
    cfg.n_sinks = 1;
    memset(rows, 0, sizeof *rows);
    char err[1024];
    int rc = as_engine_run(&cfg, res, err, sizeof err);
    if (rc) fprintf(stderr, "engine: %s\n", err);
    return rc;
}

/* Rows every 10 ms from 0 to 40 ms, then the closing row at 40 ms:
 *   0: before a@0; s@0 precedes it -> 1000 (no huge figure)
 *  10: s@15 is later -> still 1000
 *  20: before a@20; s@15 precedes it -> 2000, huge 4096
 *  30, 40, 40: s@30 -> 3000 with no huge figure of its own: the latest
 *              one measured (4096) stays; s@50 is after every row */
static void test_real_rows_and_host(void)
{
    const char *path = write_host_trace();
    rows_t rows;
    as_run_result_t res;
    CU_ASSERT_EQUAL_FATAL(
        run(path, "bestfit", NULL, 0, AS_THP_ALWAYS, NULL, &rows, &res), 0);
    static const uint64_t t[] = {0, 10, 20, 30, 40, 40};
    static const uint64_t rss[] = {1000, 1000, 2000, 3000, 3000, 3000};
    CU_ASSERT_EQUAL_FATAL(rows.n, 6);
    for (size_t i = 0; i < 6; i++) {
        CU_ASSERT_EQUAL(rows.t[i], t[i] * MS);
        CU_ASSERT_EQUAL(rows.rss[i], rss[i]);
        CU_ASSERT_EQUAL(rows.has[i],
                        i >= 2 ? (AS_SAMPLE_HAS_RSS | AS_SAMPLE_HAS_HUGE)
                               : AS_SAMPLE_HAS_RSS);
        if (i >= 2) CU_ASSERT_EQUAL(rows.huge[i], 4096);
    }
    CU_ASSERT_EQUAL(res.real_samples, 4);
    CU_ASSERT_EQUAL(res.real_peak_rss_bytes, 9999);
    CU_ASSERT_EQUAL(res.real_peak_huge_bytes, 4096);
    /* the host's settings, each from the recording host */
    CU_ASSERT_EQUAL(param(&res, "os", "thp")->value.u, AS_THP_NEVER);
    CU_ASSERT_EQUAL(param(&res, "os", "max_ptes_none")->value.u, 64);
    CU_ASSERT_EQUAL(param(&res, "os", "scan_interval")->value.u, 500 * MS);
    CU_ASSERT_EQUAL(param(&res, "os", "scan_regions")->value.u, 4);
    CU_ASSERT_STRING_EQUAL(res.host.source[AS_SIMOS_P_THP], "recording host");
    CU_ASSERT_STRING_EQUAL(res.host.source[AS_SIMOS_P_KHUGEPAGED], "default");
    CU_ASSERT_STRING_EQUAL(res.host.value[AS_THP_DEFRAG], "madvise");
    /* thp never: no khugepaged period; bestfit has no durations */
    CU_ASSERT_EQUAL(res.short_periods, 0);
    /* summary.json says where each value came from */
    as_run_config_t cfg;
    as_run_config_default(&cfg);
    cfg.trace_path = path;
    cfg.policy = "bestfit";
    char *json = as_summary_json(&cfg, &res);
    CU_ASSERT_PTR_NOT_NULL(strstr(json, "\"param_sources\""));
    CU_ASSERT_PTR_NOT_NULL(strstr(json, "\"thp\":\t\"recording host\""));
    CU_ASSERT_PTR_NOT_NULL(strstr(json, "\"defrag\":\t\"madvise\""));
    CU_ASSERT_PTR_NOT_NULL(strstr(json, "\"peak_rss_bytes\":\t9999"));
    free(json);
    as_run_result_free(&res);

    /* --thp and --param win; the rest stays the host's */
    CU_ASSERT_EQUAL_FATAL(run(path, "bestfit", NULL, 1u << AS_SIMOS_P_THP,
                              AS_THP_ALWAYS, "os.max_ptes_none=7", &rows, &res),
                          0);
    CU_ASSERT_EQUAL(param(&res, "os", "thp")->value.u, AS_THP_ALWAYS);
    CU_ASSERT_EQUAL(param(&res, "os", "max_ptes_none")->value.u, 7);
    CU_ASSERT_EQUAL(param(&res, "os", "scan_interval")->value.u, 500 * MS);
    CU_ASSERT_STRING_EQUAL(res.host.source[AS_SIMOS_P_THP], "--thp");
    CU_ASSERT_STRING_EQUAL(res.host.source[AS_SIMOS_P_MAX_PTES_NONE],
                           "--param");
    CU_ASSERT_STRING_EQUAL(res.host.source[AS_SIMOS_P_SCAN_INTERVAL],
                           "recording host");
    /* thp always now: khugepaged's 0.5 s scan is longer than the 40 ms
     * trace */
    CU_ASSERT_EQUAL(res.short_periods, 1);
    CU_ASSERT_STRING_EQUAL(res.short_periods_msg,
                           "trace lasts 0.04 s, shorter than periods the "
                           "run depends on (mechanisms on them act rarely "
                           "or never): os.scan_interval = 0.5 s");
    as_run_result_free(&res);
    remove(path);
}

/* The periods: a policy's duration parameters (tcmalloc's 1 s tick among
 * them), and the class bounds above the trace's 40 ms for a policy that
 * sets class_periods (10 ms is shorter: not listed; 100 ms is). A trace
 * without host settings keeps the model's defaults and says nothing about
 * sources. */
static void test_short_periods(void)
{
    as_event_t e[2] = {{.kind = AS_EV_ALLOC, .t_ns = 0, .size = 64},
                       {.kind = AS_EV_FREE, .t_ns = 40 * MS, .object = 0}};
    const char *path = as_test_write_trace("periods", e, 2);
    rows_t rows;
    as_run_result_t res;
    CU_ASSERT_EQUAL_FATAL(
        run(path, "tcmalloc", NULL, 0, AS_THP_NEVER, NULL, &rows, &res), 0);
    CU_ASSERT(res.short_periods >= 2);
    CU_ASSERT_PTR_NOT_NULL(
        strstr(res.short_periods_msg, "trace lasts 0.04 s, shorter than"));
    CU_ASSERT_PTR_NOT_NULL(
        strstr(res.short_periods_msg, "tcmalloc.tick_interval = 1 s"));
    CU_ASSERT_PTR_NOT_NULL(
        strstr(res.short_periods_msg, "tcmalloc.skip_subrelease_long = 300 s"));
    CU_ASSERT_PTR_NULL(strstr(res.short_periods_msg, "os."));
    CU_ASSERT_EQUAL(res.host.has, 0);
    CU_ASSERT_EQUAL(param(&res, "os", "thp")->value.u, AS_THP_NEVER);
    CU_ASSERT_EQUAL(rows.has[0], 0); /* no samples: no real figure */
    as_run_result_free(&res);

    as_policy_ops_t timed = *as_policy_find("bestfit");
    timed.class_periods = 1;
    CU_ASSERT_EQUAL_FATAL(
        run(path, NULL, &timed, 0, AS_THP_NEVER, NULL, &rows, &res), 0);
    CU_ASSERT_EQUAL(res.short_periods, 5); /* 100 ms .. 1000 s */
    CU_ASSERT_PTR_NOT_NULL(
        strstr(res.short_periods_msg,
               ": classes.class_bound[1] = 0.1 s, classes.class_bound[2] = "
               "1 s, classes.class_bound[3] = 10 s"));
    CU_ASSERT_PTR_NULL(strstr(res.short_periods_msg, "class_bound[0]"));
    as_run_result_free(&res);
    remove(path);
}

int main(void)
{
    static const as_test_t tests[] = {
        {"real memory rows, host THP defaults and sources",
         test_real_rows_and_host},
        {"periods longer than the trace", test_short_periods},
        {NULL, NULL},
    };
    return as_test_main("sim_realmem", tests);
}

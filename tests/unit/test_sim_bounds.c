/* test_sim_bounds.c - the engine's bounds on hostile and careless input:
 * timers near the end of time, the timer budget, the row cap, malformed
 * events, requests above the address-space limit, parameter bounds, the
 * truncation notice to sinks, and typed parameters in summary.json.
 *
 * Traces are written by hand with the trace writer; every expected figure
 * is worked out in the comment above its assertion. The policy is bestfit
 * (registered, no tick) unless a test says otherwise.
 */
#include <stdlib.h>
#include <string.h>

#include "common/limits.h"
#include "sim/engine.h"
#include "sim/summary.h"
#include "tests/unit/testutil.h"
#include "traces/trace.h"

#define MS 1000000ull
#define SEC 1000000000ull
#define END UINT64_MAX /* the last representable trace time */

static const char *write_trace(const as_event_t *evs, size_t n)
{
    return as_test_write_trace("bounds", evs, n);
}

#define A(t, id, sz, al)                                                       \
    {                                                                          \
        .kind = AS_EV_ALLOC, .t_ns = (t), .object = (id), .size = (sz),        \
        .align = (al)                                                          \
    }
#define F(t, id)                                                               \
    {                                                                          \
        .kind = AS_EV_FREE, .t_ns = (t), .object = (id)                        \
    }

/* A sink that counts what the engine hands it. */
typedef struct {
    uint64_t samples, last_t_rel, starts, ends;
    int truncated;
} counter_t;

static int count_start(void *arg, const as_run_start_t *info, char *err,
                       size_t cap)
{
    (void)err;
    (void)cap;
    counter_t *c = arg;
    c->starts++;
    c->truncated = info->truncated;
    return 0;
}

static int count_sample(void *arg, uint64_t t, const as_sample_t *s,
                        const as_simos_counters_t *os, char *err, size_t cap)
{
    (void)s;
    (void)os;
    (void)err;
    (void)cap;
    counter_t *c = arg;
    c->samples++;
    c->last_t_rel = t;
    return 0;
}

static int count_end(void *arg, const as_run_config_t *cfg,
                     const as_run_result_t *res, char *err, size_t cap)
{
    (void)cfg;
    (void)res;
    (void)err;
    (void)cap;
    ((counter_t *)arg)->ends++;
    return 0;
}

/* One run: its configuration (defaults until a test changes them), the
 * counting sink, the result and the error message. */
typedef struct {
    as_run_config_t cfg;
    counter_t c;
    as_run_sink_t sink;
    as_run_result_t r;
    char err[1024];
} fixture_t;

static void fx_init(fixture_t *x)
{
    memset(x, 0, sizeof *x);
    as_run_config_default(&x->cfg);
}

/* Run `path` through `policy` with the counting sink. @return the engine's
 * code; on 0 the caller frees x->r. */
static int fx_run(fixture_t *x, const char *policy, const char *path)
{
    memset(&x->c, 0, sizeof x->c);
    x->sink = (as_run_sink_t){.arg = &x->c,
                              .on_start = count_start,
                              .on_sample = count_sample,
                              .on_end = count_end};
    x->cfg.trace_path = path;
    x->cfg.policy = policy;
    x->cfg.sinks = &x->sink;
    x->cfg.n_sinks = 1;
    return as_engine_run(&x->cfg, &x->r, x->err, sizeof x->err);
}

/* Two events 5 ms apart ending at 2^64-1. Default sampling is span/1000 =
 * 5000 ns: samples at t0 + k*5000 for k = 0..999 (k = 1000 would be due at
 * 2^64-1 itself, which is the end of time: that timer is off), plus the
 * final sample: 1001. khugepaged (every 10 s) never fires. Every policy
 * finishes (before the fix the timers wrapped and looped forever). */
static void test_end_of_time(void)
{
    const as_event_t evs[] = {A(END - 5 * MS, 0, 64, 0), A(END, 1, 64, 0),
                              F(END, 0)};
    const char *p = write_trace(evs, 3);
    for (size_t i = 0; i < as_policy_count(); i++) {
        fixture_t x;
        fx_init(&x);
        int rc = fx_run(&x, as_policy_at(i)->name, p);
        if (rc) fprintf(stderr, "%s: %s\n", as_policy_at(i)->name, x.err);
        CU_ASSERT_EQUAL_FATAL(rc, 0);
        CU_ASSERT_EQUAL(x.r.events, 3);
        CU_ASSERT_EQUAL(x.c.samples, 1001);
        CU_ASSERT_EQUAL(x.c.last_t_rel, 5 * MS);
        CU_ASSERT_EQUAL(x.c.ends, 1);
        CU_ASSERT_EQUAL(x.r.os.collapses, 0);
        as_run_result_free(&x.r);
    }
}

/* One event alone at 2^64-1: the first sample would be due at the end of
 * time (off), so the only sample is the final one. */
static void test_single_event_at_end(void)
{
    const as_event_t evs[] = {A(END, 0, 64, 0)};
    const char *p = write_trace(evs, 1);
    fixture_t x;
    fx_init(&x);
    CU_ASSERT_EQUAL_FATAL(fx_run(&x, "llama", p), 0);
    CU_ASSERT_EQUAL(x.c.samples, 1);
    as_run_result_free(&x.r);
}

/* Two events 10^19 ns apart. khugepaged alone would wake 10^9 times, over
 * the budget of 2^25 + 64 * 2 firings: refused before the replay, naming
 * the rule. With THP never (no khugepaged) bestfit has no timer but the
 * 1002 samples: it runs. llama ticks every 10 ms: 10^12 ticks, refused when
 * the count passes the budget. */
static void test_timer_budget(void)
{
    const as_event_t evs[] = {A(0, 0, 64, 0),
                              A(10000000000000000000ull, 1, 64, 0)};
    const char *p = write_trace(evs, 2);
    fixture_t x;
    fx_init(&x);
    CU_ASSERT_EQUAL(fx_run(&x, "bestfit", p), AS_ERANGE);
    CU_ASSERT_PTR_NOT_NULL(strstr(x.err, "timer firings"));
    CU_ASSERT_PTR_NOT_NULL(strstr(x.err, "33554560"));
    CU_ASSERT_EQUAL(x.c.samples, 0);
    x.cfg.os.thp = AS_THP_NEVER;
    CU_ASSERT_EQUAL_FATAL(fx_run(&x, "bestfit", p), 0);
    CU_ASSERT_EQUAL(x.c.samples, 1002);
    as_run_result_free(&x.r);
    CU_ASSERT_EQUAL(fx_run(&x, "llama", p), AS_ERANGE);
    CU_ASSERT_PTR_NOT_NULL(strstr(x.err, "timer firings"));
    CU_ASSERT_EQUAL(x.c.ends, 0);
}

/* 1 s of trace sampled every 100 ms: samples at 0, 100, ..., 1000 ms (11)
 * plus the final one = 12 rows. A cap of 12 passes, 11 is refused before
 * the first row; a sample interval under 1 us is refused. */
static void test_row_cap(void)
{
    const as_event_t evs[] = {A(0, 0, 64, 0), F(1 * SEC, 0)};
    const char *p = write_trace(evs, 2);
    fixture_t x;
    fx_init(&x);
    x.cfg.sample_interval_ns = 100 * MS;
    x.cfg.max_rows = 12;
    CU_ASSERT_EQUAL_FATAL(fx_run(&x, "bestfit", p), 0);
    CU_ASSERT_EQUAL(x.c.samples, 12);
    as_run_result_free(&x.r);
    x.cfg.max_rows = 11;
    CU_ASSERT_EQUAL(fx_run(&x, "bestfit", p), AS_ERANGE);
    CU_ASSERT_PTR_NOT_NULL(strstr(x.err, "takes 12 rows"));
    CU_ASSERT_PTR_NOT_NULL(strstr(x.err, "row cap of 11"));
    CU_ASSERT_EQUAL(x.c.samples, 0);
    x.cfg.max_rows = 0;
    x.cfg.sample_interval_ns = 999;
    CU_ASSERT_EQUAL(fx_run(&x, "bestfit", p), AS_ERANGE);
    CU_ASSERT_PTR_NOT_NULL(strstr(x.err, "below the minimum of 1000 ns"));
}

/* Alignment 3 at event 1 stops every policy the same way, with the event's
 * number, before any policy sees it (llama behind --no-check too). With
 * skip_bad_events it is counted; its free (event 2) is consumed without a
 * warning; the good object (64 B) stays the only live one. */
static void test_bad_alignment(void)
{
    const as_event_t evs[] = {A(0, 0, 64, 0), A(1, 1, 10, 3), F(2, 1)};
    const char *p = write_trace(evs, 3);
    for (size_t i = 0; i < as_policy_count(); i++)
        for (int check = 0; check < 2; check++) {
            fixture_t x;
            fx_init(&x);
            x.cfg.check = check;
            const char *pol = as_policy_at(i)->name;
            CU_ASSERT_EQUAL(fx_run(&x, pol, p), AS_EFORMAT);
            CU_ASSERT_PTR_NOT_NULL(
                strstr(x.err, "event 1: alignment 3 is not a power of two"));
            CU_ASSERT_PTR_NOT_NULL(strstr(x.err, p));
            x.cfg.skip_bad_events = 1;
            int rc = fx_run(&x, pol, p);
            if (rc) fprintf(stderr, "%s: %s\n", pol, x.err);
            CU_ASSERT_EQUAL_FATAL(rc, 0);
            CU_ASSERT_EQUAL(x.r.bad_events_skipped, 1);
            CU_ASSERT_EQUAL(x.r.warn_double_free + x.r.warn_unknown_free, 0);
            CU_ASSERT_EQUAL(x.r.warn_policy_errors, 0);
            CU_ASSERT_EQUAL(x.r.metrics.peak_live_bytes, 64);
            CU_ASSERT_EQUAL(x.r.allocs, 1);
            as_run_result_free(&x.r);
        }
}

/* A realloc with a bad alignment, skipped, leaves the old object as it was
 * (a failed realloc): 100 B stay live to the end; the new id holds nothing,
 * so its free is consumed. An alignment of 2 GiB is above the 1 GiB
 * bound. */
static void test_bad_realloc_and_huge_align(void)
{
    const as_event_t evs[] = {
        A(0, 0, 100, 0),
        {.kind = AS_EV_REALLOC,
         .t_ns = 1,
         .object = 0,
         .size = 200,
         .align = 48},
        F(2, 1),
    };
    const char *p = write_trace(evs, 3);
    fixture_t x;
    fx_init(&x);
    x.cfg.skip_bad_events = 1;
    CU_ASSERT_EQUAL_FATAL(fx_run(&x, "tcmalloc", p), 0);
    CU_ASSERT_EQUAL(x.r.bad_events_skipped, 1);
    CU_ASSERT_EQUAL(x.r.warn_double_free + x.r.warn_unknown_free, 0);
    CU_ASSERT_EQUAL(x.r.metrics.peak_live_bytes, 100);
    /* the old object is still live at the end: never freed, last class */
    CU_ASSERT_EQUAL(x.r.objects, 2);
    as_run_result_free(&x.r);

    const as_event_t big[] = {A(0, 0, 64, AS_MAX_ALIGN_BYTES * 2)};
    p = write_trace(big, 1);
    x.cfg.skip_bad_events = 0;
    CU_ASSERT_EQUAL(fx_run(&x, "hoard", p), AS_EFORMAT);
    CU_ASSERT_PTR_NOT_NULL(
        strstr(x.err, "alignment 2147483648 is above 1 GiB"));
}

/* A request above AS_MAX_REQUEST_BYTES (1 TiB) fails as malloc would,
 * decided by the engine for every policy: counted as too_large, nothing
 * mapped, its free consumed. */
static void test_request_limit(void)
{
    const as_event_t evs[] = {A(0, 0, AS_MAX_REQUEST_BYTES + 1, 0), F(1, 0)};
    const char *p = write_trace(evs, 2);
    for (size_t i = 0; i < as_policy_count(); i++) {
        fixture_t x;
        fx_init(&x);
        CU_ASSERT_EQUAL_FATAL(fx_run(&x, as_policy_at(i)->name, p), 0);
        CU_ASSERT_EQUAL(x.r.warn_too_large, 1);
        CU_ASSERT_EQUAL(x.r.warn_double_free + x.r.warn_unknown_free, 0);
        CU_ASSERT_EQUAL(x.r.metrics.peak_live_bytes, 0);
        CU_ASSERT_EQUAL(x.r.metrics.peak_resident_bytes, 0);
        as_run_result_free(&x.r);
    }
}

/* The simulated OS's parameters have bounds whether they come from
 * --param or from the configuration struct. */
static void test_os_param_bounds(void)
{
    const as_event_t evs[] = {A(0, 0, 64, 0)};
    const char *p = write_trace(evs, 1);
    fixture_t x;
    fx_init(&x);
    x.cfg.params[0] = "os.scan_interval=1";
    x.cfg.n_params = 1;
    CU_ASSERT_EQUAL(fx_run(&x, "bestfit", p), AS_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(
        strstr(x.err, "os.scan_interval must be a duration with a unit (ns, "
                      "us, ms, s, min, h) from 1ms to 1000000s"));
    x.cfg.params[0] = "os.scan_regions=1000000000";
    CU_ASSERT_EQUAL(fx_run(&x, "bestfit", p), AS_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(
        strstr(x.err, "os.scan_regions must be a whole number"));
    x.cfg.n_params = 0;
    x.cfg.os.scan_interval_ns = 1;
    CU_ASSERT_EQUAL(fx_run(&x, "bestfit", p), AS_ERANGE);
    CU_ASSERT_PTR_NOT_NULL(strstr(x.err, "'os.scan_interval': 1 out of range"));
}

/* A trace cut after its last chunk (no footer) replays its whole chunks;
 * sinks are told before the first sample, and the result says so. */
static void test_truncated_notice(void)
{
    const as_event_t evs[] = {A(0, 0, 64, 0), F(SEC, 0)};
    const char *p = write_trace(evs, 2);
    fixture_t x;
    fx_init(&x);
    CU_ASSERT_EQUAL_FATAL(fx_run(&x, "bestfit", p), 0);
    CU_ASSERT_EQUAL(x.c.starts, 1);
    CU_ASSERT_EQUAL(x.c.truncated, 0);
    CU_ASSERT_EQUAL(x.r.warn_truncated, 0);
    as_run_result_free(&x.r);
    /* Cut the file right after its one chunk (before the footer index):
     * a trace cut at a chunk boundary. */
    as_trace_reader_t *rd = NULL;
    CU_ASSERT_FATAL(as_trace_reader_open(&rd, p) == 0);
    CU_ASSERT_FATAL(as_trace_reader_chunk_count(rd) == 1);
    CU_ASSERT_EQUAL(as_trace_reader_indexed(rd), 1);
    const as_trace_chunk_info_t *ch = as_trace_reader_chunks(rd);
    uint64_t cut = ch[0].offset + ch[0].bytes;
    as_trace_reader_close(rd);
    char *buf = malloc(cut);
    FILE *f = fopen(p, "rb");
    CU_ASSERT_FATAL(f && fread(buf, 1, cut, f) == cut);
    fclose(f);
    const char *q = as_test_scratch("bounds", ".ast");
    f = fopen(q, "wb");
    CU_ASSERT_FATAL(f && fwrite(buf, 1, cut, f) == cut);
    fclose(f);
    free(buf);
    CU_ASSERT_EQUAL_FATAL(fx_run(&x, "bestfit", q), 0);
    CU_ASSERT_EQUAL(x.r.events, 2);
    CU_ASSERT_EQUAL(x.c.truncated, 1);
    CU_ASSERT_EQUAL(x.r.warn_truncated, 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(x.r.truncation, "truncated trace"));
    as_run_result_free(&x.r);
}

/* summary.json carries parameters as typed values: a switch as a boolean,
 * a choice by name, a duration as a number of ns, a byte size as bytes. */
static void test_typed_params(void)
{
    const as_event_t evs[] = {A(0, 0, 64, 0)};
    const char *p = write_trace(evs, 1);
    fixture_t x;
    fx_init(&x);
    x.cfg.params[0] = "bestfit.trim_threshold=1M";
    x.cfg.n_params = 1;
    CU_ASSERT_EQUAL_FATAL(fx_run(&x, "bestfit", p), 0);
    char *j = as_summary_json(&x.cfg, &x.r);
    CU_ASSERT_PTR_NOT_NULL(strstr(j, "\"khugepaged\":\ttrue"));
    CU_ASSERT_PTR_NOT_NULL(strstr(j, "\"thp\":\t\"always\""));
    CU_ASSERT_PTR_NOT_NULL(strstr(j, "\"scan_interval\":\t10000000000"));
    CU_ASSERT_PTR_NOT_NULL(strstr(j, "\"trim_threshold\":\t1048576"));
    CU_ASSERT_PTR_NULL(strstr(j, "bad_events_skipped"));
    free(j);
    as_run_result_free(&x.r);
}

int main(void)
{
    static const as_test_t tests[] = {
        {"timers stop at the end of time", test_end_of_time},
        {"one event at 2^64-1", test_single_event_at_end},
        {"timer budget refuses a sparse trace", test_timer_budget},
        {"row cap and sample interval bounds", test_row_cap},
        {"alignment 3: one treatment for every policy", test_bad_alignment},
        {"skipped realloc, alignment above 1 GiB",
         test_bad_realloc_and_huge_align},
        {"requests above 1 TiB fail as malloc would", test_request_limit},
        {"os parameter bounds", test_os_param_bounds},
        {"truncated trace: sinks told at start", test_truncated_notice},
        {"typed parameters in summary.json", test_typed_params},
        {NULL, NULL},
    };
    int rc = as_test_main("sim_bounds", tests);
    return rc;
}

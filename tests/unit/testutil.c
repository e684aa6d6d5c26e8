/* testutil.c - CUnit harness shared by the unit-test executables. */
#include "tests/unit/testutil.h"

#include <CUnit/Basic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/trace_header.h"
#include "traces/codec.h"
#include "traces/gen/gen.h"
#include "traces/trace.h"

static long test_mem_held;

static void *test_mem_alloc(void *st, size_t n)
{
    (void)st;
    test_mem_held += (long)n;
    return calloc(1, n);
}

static void test_mem_free(void *st, void *p, size_t n)
{
    (void)st;
    test_mem_held -= (long)n;
    free(p);
}

const as_mem_t as_test_mem = {test_mem_alloc, test_mem_free, NULL};

long as_test_mem_held(void)
{
    return test_mem_held;
}

int as_test_main(const char *suite, const as_test_t *tests)
{
    if (CU_initialize_registry() != CUE_SUCCESS) return 2;
    CU_pSuite s = CU_add_suite(suite, NULL, NULL);
    if (!s) return 2;
    for (const as_test_t *t = tests; t->name; t++)
        if (!CU_add_test(s, t->name, t->fn)) return 2;
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned failed =
        CU_get_number_of_failures() + CU_get_number_of_tests_failed();
    unsigned ran = CU_get_number_of_tests_run();
    CU_cleanup_registry();
    return (failed || ran == 0) ? 1 : 0;
}

const char *as_test_tmpfile(const char *prefix, const char *suffix)
{
    static char buf[512];
    static unsigned n;
    snprintf(buf, sizeof buf, "%s-%ld-%u%s", prefix, (long)getpid(), n++,
             suffix ? suffix : "");
    return buf;
}

static char scratch[256][512]; /* as_test_scratch's paths */
static int n_scratch;

static void remove_scratch(void)
{
    for (int i = 0; i < n_scratch; i++)
        remove(scratch[i]);
}

const char *as_test_scratch(const char *prefix, const char *suffix)
{
    CU_ASSERT_FATAL(n_scratch < 256);
    if (n_scratch == 0) atexit(remove_scratch);
    char *path = scratch[n_scratch++];
    snprintf(path, sizeof scratch[0], "%s", as_test_tmpfile(prefix, suffix));
    return path;
}

const char *as_test_write_trace(const char *prefix, const as_event_t *evs,
                                size_t n)
{
    const char *path = as_test_scratch(prefix, ".ast");
    as_trace_writer_t *w = NULL;
    CU_ASSERT_FATAL(as_trace_writer_open(&w, path, NULL) == 0);
    for (size_t i = 0; i < n; i++) {
        as_event_t e = evs[i];
        CU_ASSERT_FATAL(as_trace_writer_event(w, &e) == 0);
    }
    CU_ASSERT_FATAL(as_trace_writer_close(w) == 0);
    return path;
}

uint8_t *as_test_slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long sz = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = sz >= 0 ? malloc((size_t)sz + 1) : NULL;
    *n = b ? fread(b, 1, (size_t)sz, f) : 0;
    fclose(f);
    return b;
}

const char *as_test_srcpath(const char *rel)
{
    static char buf[1024];
    snprintf(buf, sizeof buf, "%s/%s", AS_SOURCE_DIR, rel);
    return buf;
}

void as_test_gen(const char *path, const char *workload, uint64_t events,
                 uint64_t seed, const char *const *params)
{
    const as_gen_workload_t *wl = as_gen_find(workload);
    CU_ASSERT_PTR_NOT_NULL_FATAL(wl);
    as_param_value_t v[64];
    CU_ASSERT_FATAL(wl->n_params <= 64);
    CU_ASSERT_EQUAL_FATAL(as_param_defaults(wl->params, wl->n_params, v), 0);
    for (const char *const *p = params; p && *p; p++)
        CU_ASSERT_EQUAL_FATAL(as_param_set(wl->params, wl->n_params, v, *p), 0);
    as_trace_writer_t *w = NULL;
    CU_ASSERT_EQUAL_FATAL(as_trace_writer_open(&w, path, NULL), 0);
    as_gen_sink_t sink;
    as_gen_writer_sink(w, &sink);
    as_gen_config_t gc = {.events = events, .seed = seed};
    CU_ASSERT_EQUAL_FATAL(as_gen_run(wl, &gc, v, &sink), 0);
    CU_ASSERT_EQUAL_FATAL(as_trace_writer_close(w), 0);
}

double as_test_stat(const as_run_result_t *r, const char *name)
{
    for (size_t i = 0; i < r->n_stats; i++)
        if (strcmp(r->stats[i].name, name) == 0) return r->stats[i].value;
    return -1;
}

int as_test_policy_config(const as_policy_ops_t *p, const as_pagesource_t *ps,
                          as_param_value_t *params, size_t cap,
                          as_policy_config_t *cfg)
{
    static const uint64_t bounds[7] = {
        10000000ull,     100000000ull,     1000000000ull, 10000000000ull,
        100000000000ull, 1000000000000ull, UINT64_MAX};
    if (p->n_params > cap ||
        (p->n_params && as_param_defaults(p->params, p->n_params, params)))
        return -1;
    memset(cfg, 0, sizeof *cfg);
    cfg->ps = ps;
    cfg->params = params;
    cfg->n_classes = 7;
    cfg->class_bounds_ns = bounds;
    return 0;
}

size_t as_test_one_chunk_file(uint8_t *file, uint32_t version,
                              const uint8_t *raw, size_t n, uint32_t events,
                              uint32_t allocs, uint64_t first_t,
                              uint64_t last_t)
{
    as_chunk_header_t h = {.events = events,
                           .allocs = allocs,
                           .first_t_ns = first_t,
                           .last_t_ns = last_t};
    uint8_t *chunk = NULL;
    size_t cap = 0, len = 0;
    CU_ASSERT_EQUAL_FATAL(
        as_chunk_seal(NULL, 1, raw, n, &h, &chunk, &cap, &len), 0);
    size_t off = as_test_put_trace_header(file, version);
    memcpy(file + off, chunk, len);
    free(chunk);
    return off + len;
}

/* test_reports_sweep.c - reports/sweep.c: a spec whose expansion is counted
 * by hand (lists, arithmetic and geometric ranges, axes that apply to one
 * policy or to all), stable content-derived run names, and specs that are
 * refused with the line of the offending key.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "reports/sweep.h"
#include "tests/unit/testutil.h"

/* Per trace: policy a has axes a.x (2 values) and os.t (0, 0.1, 0.2,
 * 0.3): 8 runs; policy b has os.t and b.y (8, 16, 32, 64): 16 runs. Two
 * traces: 48. */
static const char *spec =
    "{\n"
    "  \"traces\": [\"d/one.ast\", \"two.ast\"],\n"
    "  \"policies\": [\"a\", \"b\"],\n"
    "  \"params\": {\n"
    "    \"a.x\": [1, \"2K\"],\n"
    "    \"os.t\": {\"from\": 0, \"to\": 0.3, \"step\": 0.1},\n"
    "    \"b.y\": {\"from\": 8, \"to\": 64, \"times\": 2}\n"
    "  },\n"
    "  \"run_args\": [\"--no-check\"],\n"
    "  \"baseline\": \"b\"\n"
    "}\n";

static void test_expand(void)
{
    as_sweep_spec_t s;
    char err[512];
    CU_ASSERT_EQUAL_FATAL(
        as_sweep_parse(spec, strlen(spec), "s.json", &s, err, sizeof err), 0);
    CU_ASSERT_EQUAL(s.n_predictors, 1);
    CU_ASSERT_STRING_EQUAL(s.predictors[0], "none");
    CU_ASSERT_STRING_EQUAL(s.baseline, "b");
    CU_ASSERT_EQUAL_FATAL(s.n_axes, 3);
    /* 0, 0.1, 0.2, 0.3 (0.30000000000000004 would be a wrong name) */
    CU_ASSERT_EQUAL_FATAL(s.axes[1].n, 4);
    CU_ASSERT_STRING_EQUAL(s.axes[1].values[1], "0.1");
    CU_ASSERT_STRING_EQUAL(s.axes[1].values[3], "0.3");
    CU_ASSERT_EQUAL_FATAL(s.axes[2].n, 4);
    CU_ASSERT_STRING_EQUAL(s.axes[2].values[3], "64");
    CU_ASSERT_STRING_EQUAL(s.axes[0].values[1], "2K");
    CU_ASSERT(as_sweep_axis_applies(&s, "a.x", "a", "none"));
    CU_ASSERT(!as_sweep_axis_applies(&s, "a.x", "b", "none"));
    CU_ASSERT(as_sweep_axis_applies(&s, "os.t", "b", "none"));

    as_sweep_run_t *r;
    size_t n;
    CU_ASSERT_EQUAL_FATAL(as_sweep_expand(&s, &r, &n, err, sizeof err), 0);
    /* per trace: a: 2 x 4 = 8, b: 4 x 4 = 16 -> 24; two traces -> 48 */
    CU_ASSERT_EQUAL_FATAL(n, 48);
    CU_ASSERT_STRING_EQUAL(r[0].trace, "d/one.ast");
    CU_ASSERT_STRING_EQUAL(r[0].policy, "a");
    CU_ASSERT_EQUAL(r[0].n_params, 2);
    CU_ASSERT_STRING_EQUAL(r[0].params[0], "a.x=1");
    CU_ASSERT_STRING_EQUAL(r[0].params[1], "os.t=0");
    /* the last axis moves fastest */
    CU_ASSERT_STRING_EQUAL(r[1].params[1], "os.t=0.1");
    CU_ASSERT_STRING_EQUAL(r[4].params[0], "a.x=2K");
    CU_ASSERT_STRING_EQUAL(r[8].policy, "b");
    CU_ASSERT_STRING_EQUAL(r[8].params[0], "os.t=0");
    CU_ASSERT_STRING_EQUAL(r[8].params[1], "b.y=8");
    CU_ASSERT_STRING_EQUAL(r[9].params[1], "b.y=16");
    CU_ASSERT_STRING_EQUAL(r[24].trace, "two.ast");
    CU_ASSERT_EQUAL(strncmp(r[0].name, "one.ast_a_none_1_0_", 19), 0);
    /* names are unique */
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++)
            CU_ASSERT(strcmp(r[i].name, r[j].name) != 0);
    char name0[256];
    snprintf(name0, sizeof name0, "%s", r[0].name);
    as_sweep_runs_free(r, n);
    as_sweep_free(&s);

    /* the same run in an edited spec (b dropped, a value added) keeps its
     * name; another run_args changes every name */
    const char *edited =
        "{\"policies\": [\"a\"], \"traces\": [\"d/one.ast\"], \"params\": "
        "{\"a.x\": [1, 7], \"os.t\": [0, 5]}, \"run_args\": [\"--no-check\"]}";
    CU_ASSERT_EQUAL_FATAL(
        as_sweep_parse(edited, strlen(edited), "e", &s, err, sizeof err), 0);
    CU_ASSERT_EQUAL_FATAL(as_sweep_expand(&s, &r, &n, err, sizeof err), 0);
    CU_ASSERT_EQUAL(n, 4);
    CU_ASSERT_STRING_EQUAL(r[0].name, name0);
    as_sweep_runs_free(r, n);
    as_sweep_free(&s);
    const char *other =
        "{\"policies\": [\"a\"], \"traces\": [\"d/one.ast\"], \"params\": "
        "{\"a.x\": [1], \"os.t\": [0]}}";
    CU_ASSERT_EQUAL_FATAL(
        as_sweep_parse(other, strlen(other), "o", &s, err, sizeof err), 0);
    CU_ASSERT_EQUAL_FATAL(as_sweep_expand(&s, &r, &n, err, sizeof err), 0);
    CU_ASSERT_EQUAL(n, 1);
    CU_ASSERT(strcmp(r[0].name, name0) != 0);
    as_sweep_runs_free(r, n);
    as_sweep_free(&s);
}

/* The spec must be refused with this message. */
static void refused(const char *text, const char *want)
{
    as_sweep_spec_t s;
    char err[512] = "";
    int rc = as_sweep_parse(text, strlen(text), "s.json", &s, err, sizeof err);
    CU_ASSERT_EQUAL(rc, AS_EFORMAT);
    if (!strstr(err, want)) {
        fprintf(stderr, "\n  spec %s\n  error '%s'\n  wanted '%s'\n", text, err,
                want);
        CU_FAIL("wrong message");
    }
}

static void test_errors(void)
{
    refused("{\"traces\": [\"t\"],\n \"policies\": [\"a\"],\n \"polcies\": 1}",
            "s.json: line 3: \"polcies\": unknown key");
    refused("{\"traces\": [\"t\"]}", "\"policies\": missing");
    refused("{\"policies\": [\"a\"]}", "\"traces\": missing");
    refused("{\"traces\": [], \"policies\": [\"a\"]}", "non-empty list");
    refused("{\"traces\": [\"t\", \"t\"], \"policies\": [\"a\"]}",
            "'t' is listed twice");
    refused("{\"traces\": [\"t\"],\n\"policies\": [\"a\"], \n\"params\": "
            "{\"a.x\": {\"from\": 4, \"to\": 1, \"step\": 1}}}",
            "line 3: \"a.x\": range from 4 is above to 1");
    refused("{\"traces\": [\"t\"], \"policies\": [\"a\"], \"params\": "
            "{\"a.x\": {\"from\": 0, \"to\": 1, \"step\": 0}}}",
            "step must be above 0");
    refused("{\"traces\": [\"t\"], \"policies\": [\"a\"], \"params\": "
            "{\"a.x\": {\"from\": 0, \"to\": 8, \"times\": 2}}}",
            "a geometric range starts above 0");
    refused("{\"traces\": [\"t\"], \"policies\": [\"a\"], \"params\": "
            "{\"a.x\": {\"from\": 1, \"to\": 8, \"times\": 1}}}",
            "times must be above 1");
    refused("{\"traces\": [\"t\"], \"policies\": [\"a\"], \"params\": "
            "{\"a.x\": {\"from\": 0, \"to\": 1e9, \"step\": 1}}}",
            "range has more than 1000 values");
    refused("{\"traces\": [\"t\"], \"policies\": [\"a\"], \"params\": "
            "{\"a.x\": {\"from\": 0, \"to\": 1, \"step\": 1, \"times\": 2}}}",
            "exactly one of step");
    refused("{\"traces\": [\"t\"], \"policies\": [\"a\"], \"params\": "
            "{\"ax\": [1]}}",
            "\"ax\": a parameter is named PART.NAME");
    refused("{\"traces\": [\"t\"], \"policies\": [\"a\"], \"params\": "
            "{\"a.x\": []}}",
            "empty list of values");
    refused("{\"traces\": [\"t\"], \"policies\": [\"a\"], \"params\": "
            "{\"a.x\": [[1]]}}",
            "values must be numbers, booleans or non-empty strings");
    refused("{\"traces\": [\"t\"],\n \"policies\": [\"a\"", "s.json: line 2");
    refused("[1]", "the spec must be a JSON object");
    refused("{\"traces\": [\"t\"], \"policies\": [\"a\"], \"title\": \"x\", "
            "\"title\": \"y\"}",
            "\"title\": given twice");
    as_sweep_spec_t s;
    char err[256];
    CU_ASSERT_EQUAL(as_sweep_parse("{}\0{}", 5, "s.json", &s, err, sizeof err),
                    AS_EFORMAT);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "offset 2: NUL byte"));
}

static void test_too_many_runs(void)
{
    /* 400 x 400 = 160000 runs > AS_SWEEP_MAX_RUNS */
    const char *big =
        "{\"traces\": [\"t\"], \"policies\": [\"a\"], \"params\": "
        "{\"a.x\": {\"from\": 1, \"to\": 400, \"step\": 1}, "
        "\"a.y\": {\"from\": 1, \"to\": 400, \"step\": 1}}}";
    as_sweep_spec_t s;
    char err[256];
    CU_ASSERT_EQUAL_FATAL(
        as_sweep_parse(big, strlen(big), "s", &s, err, sizeof err), 0);
    as_sweep_run_t *r;
    size_t n;
    CU_ASSERT_EQUAL(as_sweep_expand(&s, &r, &n, err, sizeof err), AS_ERANGE);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "160000 runs, more than 100000"));
    as_sweep_free(&s);
}

int main(void)
{
    static const as_test_t tests[] = {
        {"expansion counted by hand", test_expand},
        {"refused specs name the line", test_errors},
        {"too many runs", test_too_many_runs},
        {NULL, NULL},
    };
    return as_test_main("reports_sweep", tests);
}

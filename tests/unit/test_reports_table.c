/* test_reports_table.c - reports/: the CSV reader, the summary reader
 * (string, number and typed parameters) and the comparison table, against
 * summaries written by hand whose wasted bytes and reductions are worked
 * out below (docs/outputs.md gives the formulas).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "reports/csv.h"
#include "reports/rundir.h"
#include "reports/table.h"
#include "tests/unit/testutil.h"

/* Three runs. A and B replay trace "aa", C trace "bb".
 *   A: p1, mean live 400, mean resident 1000 -> waste 600
 *   B: p2, mean live 400, mean resident  600 -> waste 200
 *   C: p1, mean live 100, mean resident  150 -> waste  50
 * Baseline = first run of the trace: A for A and B, C for C.
 *   reduction(B) = 1 - 200/600 = 2/3; A and C: their own baseline, 0.
 * With --baseline p2: A's baseline is B: 1 - 600/200 = -2; B: 0; C has
 * no p2 run of its trace: none. */
static const char *sum_a =
    "{\"allocsim_version\":\"0.1.0\",\"trace\":{\"path\":\"/d/t1.ast\","
    "\"hash\":\"aa\"},\"policy\":{\"name\":\"p1\",\"params\":{\"rate\":"
    "{\"value\":0.5,\"unit\":\"1/s\"},\"mode\":\"fast\",\"big\":1048576,"
    "\"on\":true}},\"predictor\":{\"name\":\"none\",\"params\":{}},"
    "\"os\":{\"params\":{\"thp\":\"always\"},\"releases\":3},"
    "\"metrics\":{\"peak_live_bytes\":1000,\"mean_live_bytes\":400,"
    "\"mean_resident_bytes\":1000,\"fragmentation\":{\"jw1\":1.5,"
    "\"jw4\":0.125}},\"timing\":{\"wall_s\":0.25,\"events_per_s\":100},"
    "\"provenance\":{\"command_line\":[\"allocsim\",\"run\",\"x\"]}}";
static const char *sum_b =
    "{\"trace\":{\"path\":\"t1.ast\",\"hash\":\"aa\"},\"policy\":{\"name\":"
    "\"p2\",\"params\":[{\"name\":\"k\",\"value\":\"8K\"}]},\"predictor\":"
    "{\"name\":\"oracle\"},\"os\":{\"params\":{\"thp\":\"never\"}},"
    "\"metrics\":{\"mean_live_bytes\":400,\"mean_resident_bytes\":600}}";
static const char *sum_c =
    "{\"trace\":{\"path\":\"t2.ast\",\"hash\":\"bb\",\"truncated\":true},"
    "\"policy\":{\"name\":"
    "\"p1\",\"params\":{\"rate\":\"0.5\",\"mode\":\"slow\"}},"
    "\"os\":{\"params\":{\"thp\":\"always\"}},"
    "\"metrics\":{\"mean_live_bytes\":100,\"mean_resident_bytes\":150}}";

static void load3(as_run_t r[3])
{
    char err[256];
    const char *texts[] = {sum_a, sum_b, sum_c};
    const char *names[] = {"runs/a", "runs/b", "runs/c"};
    for (int i = 0; i < 3; i++) {
        CU_ASSERT_EQUAL_FATAL(
            as_run_parse_summary(texts[i], "x", &r[i], err, sizeof err), 0);
        snprintf(r[i].name, sizeof r[i].name, "%s", names[i]);
    }
}

static void free3(as_run_t r[3])
{
    for (int i = 0; i < 3; i++)
        as_run_free(&r[i]);
}

static void test_summary_fields(void)
{
    as_run_t r[3];
    load3(r);
    CU_ASSERT_STRING_EQUAL(r[0].policy, "p1");
    CU_ASSERT_STRING_EQUAL(r[0].trace_name, "t1.ast");
    CU_ASSERT_STRING_EQUAL(r[0].trace_hash, "aa");
    CU_ASSERT_STRING_EQUAL(r[0].predictor, "none");
    CU_ASSERT_STRING_EQUAL(r[2].predictor, "none"); /* absent: none */
    CU_ASSERT_STRING_EQUAL(r[0].command, "allocsim run x");
    CU_ASSERT_EQUAL(r[0].truncated, 0);
    CU_ASSERT_EQUAL(r[2].truncated, 1); /* C's trace was cut */
    /* typed, string, integer and boolean parameters all read as text */
    CU_ASSERT_STRING_EQUAL(as_run_param(&r[0], "p1.rate"), "0.5");
    CU_ASSERT_STRING_EQUAL(as_run_param(&r[0], "p1.mode"), "fast");
    CU_ASSERT_STRING_EQUAL(as_run_param(&r[0], "p1.big"), "1048576");
    CU_ASSERT_STRING_EQUAL(as_run_param(&r[0], "p1.on"), "true");
    CU_ASSERT_STRING_EQUAL(as_run_param(&r[0], "os.thp"), "always");
    /* an array of {name, value} parameters */
    CU_ASSERT_STRING_EQUAL(as_run_param(&r[1], "p2.k"), "8K");
    CU_ASSERT_PTR_NULL(as_run_param(&r[0], "p1.nothing"));
    double v = 0;
    CU_ASSERT(as_run_metric(&r[0], "fragmentation.jw1", &v) && v == 1.5);
    CU_ASSERT(as_run_metric(&r[0], "os.releases", &v) && v == 3);
    CU_ASSERT(!as_run_metric(&r[1], "fragmentation.jw1", &v));
    CU_ASSERT(r[0].has_timing && r[0].wall_s == 0.25);
    CU_ASSERT(!r[1].has_timing);
    free3(r);
}

static void test_summary_errors(void)
{
    as_run_t r;
    char err[256];
    CU_ASSERT_EQUAL(as_run_parse_summary("{\"policy\": {\"na", "s.json", &r,
                                         err, sizeof err),
                    AS_EFORMAT);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "s.json: offset "));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "not valid JSON"));
    CU_ASSERT_EQUAL(
        as_run_parse_summary("{\"trace\":{}}", "s.json", &r, err, sizeof err),
        AS_EFORMAT);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "no policy.name"));
    CU_ASSERT_EQUAL(
        as_run_parse_summary("[1,2]", "s.json", &r, err, sizeof err),
        AS_EFORMAT);
    CU_ASSERT_EQUAL(as_run_load("/nonexistent-dir", &r, err, sizeof err),
                    AS_EIO);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "/nonexistent-dir/summary.json"));
}

static char *csv_of(const as_table_t *t)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    CU_ASSERT_EQUAL(as_table_write_csv(t, f), 0);
    fclose(f);
    return buf;
}

static void test_table_reduction(void)
{
    as_run_t r[3];
    load3(r);
    as_table_t t;
    char err[256];
    CU_ASSERT_EQUAL_FATAL(as_table_build(&t, r, 3, NULL, err, sizeof err), 0);
    CU_ASSERT_EQUAL(t.rows[0].wasted_bytes, 600);
    CU_ASSERT_EQUAL(t.rows[1].wasted_bytes, 200);
    CU_ASSERT_EQUAL(t.rows[2].wasted_bytes, 50);
    CU_ASSERT_EQUAL(t.rows[0].baseline, 0);
    CU_ASSERT_EQUAL(t.rows[1].baseline, 0);
    CU_ASSERT_EQUAL(t.rows[2].baseline, 2);
    CU_ASSERT_DOUBLE_EQUAL(t.rows[1].waste_reduction, 2.0 / 3, 1e-15);
    CU_ASSERT_EQUAL(t.rows[0].waste_reduction, 0);
    CU_ASSERT_EQUAL(t.rows[2].waste_reduction, 0);
    /* p1.mode differs between A and C; os.thp between A and B; p1.rate is
     * 0.5 in both (typed and string) and p1.big only in A: not varying */
    CU_ASSERT_EQUAL(t.n_varying, 2);
    CU_ASSERT_STRING_EQUAL(t.rows[0].params, "p1.mode=fast os.thp=always");
    CU_ASSERT_STRING_EQUAL(t.rows[1].params, "os.thp=never");
    CU_ASSERT_STRING_EQUAL(t.rows[1].label, "p2 oracle os.thp=never");
    char *csv = csv_of(&t);
    const char *row_b =
        "\nruns/b,t1.ast,aa,p2,oracle,os.thp=never,,,400,600,,,,,,,,,,200,"
        "runs/a,0.6666666666666667,0\n";
    CU_ASSERT_PTR_NOT_NULL(strstr(csv, row_b));
    CU_ASSERT_EQUAL(strncmp(csv,
                            "run,trace,trace_hash,policy,predictor,"
                            "params,peak_live_bytes,",
                            44),
                    0);
    free(csv);
    as_table_free(&t);

    CU_ASSERT_EQUAL_FATAL(as_table_build(&t, r, 3, "p2", err, sizeof err), 0);
    CU_ASSERT_EQUAL(t.rows[0].baseline, 1);
    CU_ASSERT_EQUAL(t.rows[0].waste_reduction, -2);
    CU_ASSERT_EQUAL(t.rows[1].waste_reduction, 0);
    CU_ASSERT_EQUAL(t.rows[2].baseline, -1);
    CU_ASSERT(isnan(t.rows[2].waste_reduction));
    as_table_free(&t);

    CU_ASSERT_EQUAL(as_table_build(&t, r, 3, "p9", err, sizeof err),
                    AS_ENOTFOUND);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "'p9'"));
    free3(r);
}

static void test_table_deterministic_md(void)
{
    as_run_t r[3];
    load3(r);
    as_table_t t;
    char err[256], b[128];
    CU_ASSERT_EQUAL_FATAL(as_table_build(&t, r, 3, NULL, err, sizeof err), 0);
    /* human cells: bytes in binary units, reduction in percent */
    size_t nc = as_table_human_cols(), wr = nc - 1, wb = nc - 2;
    as_table_human_cell(&t, 1, wr, b, sizeof b);
    CU_ASSERT_STRING_EQUAL(b, "66.7 %");
    as_table_human_cell(&t, 0, wr, b, sizeof b);
    CU_ASSERT_STRING_EQUAL(b, "(baseline)");
    as_table_human_cell(&t, 0, wb, b, sizeof b);
    CU_ASSERT_STRING_EQUAL(b, "600 B");
    /* a run of a cut trace is marked where people read it, and in CSV */
    as_table_human_cell(&t, 2, 0, b, sizeof b);
    CU_ASSERT_STRING_EQUAL(b, "runs/c (truncated trace)");
    as_table_human_cell(&t, 0, 0, b, sizeof b);
    CU_ASSERT_STRING_EQUAL(b, "runs/a");
    /* timing is not in the table, only in the timing file */
    char *csv = csv_of(&t);
    CU_ASSERT_PTR_NULL(strstr(csv, "0.25"));
    CU_ASSERT_PTR_NOT_NULL(strstr(csv, ",waste_reduction,truncated\n"));
    size_t len = strlen(csv);
    CU_ASSERT(len > 3 && strcmp(csv + len - 3, ",1\n") == 0); /* row C */
    free(csv);
    as_table_free(&t);
    free3(r);
    double d;
    CU_ASSERT_STRING_EQUAL(as_units_bytes(1023, &d), "B");
    CU_ASSERT_STRING_EQUAL(as_units_bytes(1024, &d), "KiB");
    CU_ASSERT_STRING_EQUAL(as_units_bytes(5 * 1048576.0, &d), "MiB");
    CU_ASSERT_EQUAL(d, 1048576);
    CU_ASSERT_STRING_EQUAL(as_units_bytes(3e12, &d), "GiB");
}

static void test_csv(void)
{
    as_csv_t t;
    char err[256];
    CU_ASSERT_EQUAL_FATAL(as_csv_parse(strdup("a,b,c\n1,2,3\n\n4,x,6\r\n"),
                                       "f.csv", &t, err, sizeof err),
                          0);
    CU_ASSERT_EQUAL(t.n_cols, 3);
    CU_ASSERT_EQUAL(t.n_rows, 2);
    CU_ASSERT_EQUAL(as_csv_col(&t, "c"), 2);
    CU_ASSERT_EQUAL(as_csv_col(&t, "d"), -1);
    double v = 0;
    CU_ASSERT(as_csv_num(&t, 1, 2, &v) == 0 && v == 6);
    CU_ASSERT_EQUAL(as_csv_num(&t, 1, 1, &v), AS_EFORMAT);
    CU_ASSERT_STRING_EQUAL(as_csv_cell(&t, 1, 1), "x");
    as_csv_free(&t);
    CU_ASSERT_EQUAL(as_csv_parse(strdup("a,b,c\n1,2,3\n1,2\n"), "f.csv", &t,
                                 err, sizeof err),
                    AS_EFORMAT);
    CU_ASSERT_STRING_EQUAL(err, "f.csv: line 3: 2 fields, the header has 3");
    CU_ASSERT_EQUAL(
        as_csv_parse(strdup("a,b\n\"1\",2\n"), "f.csv", &t, err, sizeof err),
        AS_EFORMAT);
    CU_ASSERT_STRING_EQUAL(err, "f.csv: line 2: quoted fields are not "
                                "supported");
    CU_ASSERT_EQUAL(as_csv_parse(strdup(""), "f.csv", &t, err, sizeof err),
                    AS_EFORMAT);
    CU_ASSERT_EQUAL(
        as_csv_parse(strdup("a,,b\n"), "f.csv", &t, err, sizeof err),
        AS_EFORMAT);
}

int main(void)
{
    static const as_test_t tests[] = {
        {"summary fields, typed parameters", test_summary_fields},
        {"summary errors name the file", test_summary_errors},
        {"waste reduction against a baseline", test_table_reduction},
        {"human cells and no timing in the table", test_table_deterministic_md},
        {"csv reader", test_csv},
        {NULL, NULL},
    };
    return as_test_main("reports_table", tests);
}

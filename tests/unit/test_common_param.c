/* test_common_param.c - the one number parser (common/param.c) and its
 * error descriptions (as_param_explain, as_param_range).
 *
 * Every case is a literal string with its value or error worked out by
 * hand: units (counts x1000, bytes x1024, durations), exact fractions,
 * refusals (signs, blanks, empty, overflow before and after the unit, a
 * fraction where a whole number is needed, a duration without a unit, not a
 * power of two), bounds, and the text of as_param_explain(). The last cases
 * check that every registered table's defaults parse under these rules and
 * that every registered parameter refuses hostile text.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "common/error.h"
#include "common/param.h"
#include "policies/policy.h"
#include "predictors/predictor.h"
#include "traces/gen/gen.h"
#include "tests/unit/testutil.h"

static const as_param_spec_t count = {"n",    AS_PARAM_U64, "1",    0,
                                      1.9e19, NULL,         "count"};
static const as_param_spec_t bytes = {"b",    AS_PARAM_BYTES, "1",    0,
                                      1.9e19, NULL,           "bytes"};
static const as_param_spec_t dur = {"t",    AS_PARAM_NS, "1ns", 0,
                                    1.9e19, NULL,        "time"};
static const as_param_spec_t pow2 = {"p",   AS_PARAM_POW2, "8K",   4096,
                                     65536, NULL,          "block"};
static const as_param_spec_t real = {"d",  AS_PARAM_DOUBLE, "0.5", 0, 1,
                                     NULL, "fraction"};

/* parse: rc of as_param_parse_value; *v the value on success. */
static int parse(const as_param_spec_t *s, const char *text, uint64_t *v)
{
    as_param_value_t out = {.u = 12345};
    int rc = as_param_parse_value(s, text, strlen(text), &out);
    if (v) *v = out.u;
    return rc;
}

#define OK(spec, text, want)                                                   \
    do {                                                                       \
        uint64_t v_ = 0;                                                       \
        CU_ASSERT_EQUAL(parse(&(spec), text, &v_), AS_OK);                     \
        CU_ASSERT_EQUAL(v_, (uint64_t)(want));                                 \
    } while (0)
#define BAD(spec, text, err) CU_ASSERT_EQUAL(parse(&(spec), text, NULL), err)

static void test_counts(void)
{
    OK(count, "0", 0);
    OK(count, "42", 42);
    OK(count, "1K", 1000);
    OK(count, "1k", 1000);
    OK(count, "1M", 1000000);
    OK(count, "1.5M", 1500000);
    OK(count, "2G", 2000000000ull);
    OK(count, "3T", 3000000000000ull);
    OK(count, "0x10", 16);
    OK(count, "1.0", 1);
    OK(count, "18446744073709551615", UINT64_MAX);
    BAD(count, "18446744073709551616", AS_ERANGE); /* 2^64 */
    BAD(count, "18446744073709552K", AS_ERANGE);   /* overflows after K */
    BAD(count, "0x10000000000000000", AS_ERANGE);
    BAD(count, "1.5", AS_EINVAL); /* a fraction where a whole is needed */
    BAD(count, "1.0001K", AS_EINVAL);
    BAD(count, " -5", AS_EINVAL); /* issue 16: was 2^64 - 5 */
    BAD(count, "-5", AS_EINVAL);
    BAD(count, "+5", AS_EINVAL);
    BAD(count, " 5", AS_EINVAL);
    BAD(count, "5 ", AS_EINVAL);
    BAD(count, "", AS_EINVAL);
    BAD(count, "1Ki", AS_EINVAL); /* binary units are for bytes */
    BAD(count, "1.", AS_EINVAL);
    BAD(count, ".5K", AS_EINVAL);
    BAD(count, "0x", AS_EINVAL);
    BAD(count, "0x1K", AS_EINVAL); /* hex takes no unit */
    BAD(count, "1e3", AS_EINVAL);
}

static void test_bytes(void)
{
    OK(bytes, "4096", 4096);
    OK(bytes, "64K", 65536);
    OK(bytes, "64KiB", 65536);
    OK(bytes, "1M", 1048576);
    OK(bytes, "1G", 1073741824ull);
    OK(bytes, "1.5K", 1536);
    OK(bytes, "0.5M", 524288);
    OK(bytes, "16B", 16);
    OK(bytes, "1T", 1099511627776ull);
    OK(bytes, "16777215T", 16777215ull << 40);
    BAD(bytes, "16777216T", AS_ERANGE); /* 2^64 exactly */
    BAD(bytes, "99999999999999999999T", AS_ERANGE);
    BAD(bytes, "1.1", AS_EINVAL);
    BAD(bytes, "0.0001K", AS_EINVAL); /* 0.1024 bytes */
    BAD(bytes, "1X", AS_EINVAL);
    BAD(bytes, "-1K", AS_EINVAL);
}

static void test_durations(void)
{
    OK(dur, "10ms", 10000000);
    OK(dur, "1.5s", 1500000000);
    OK(dur, "2h", 7200000000000ull);
    OK(dur, "1min", 60000000000ull);
    OK(dur, "0.5min", 30000000000ull);
    OK(dur, "250ns", 250);
    OK(dur, "1.5us", 1500);
    OK(dur, "0", 0); /* zero needs no unit */
    OK(dur, "0.000000001s", 1);
    BAD(dur, "1000", AS_EINVAL); /* a bare time is an error, not ns */
    BAD(dur, "1.5ns", AS_EINVAL);
    BAD(dur, "1m", AS_EINVAL); /* minutes are "min" */
    BAD(dur, "0x10ms", AS_EINVAL);
    BAD(dur, "5124096h", AS_ERANGE); /* > 2^64 ns */
    BAD(dur, "-1s", AS_EINVAL);
    BAD(dur, "1 s", AS_EINVAL);
}

static void test_pow2_and_bounds(void)
{
    OK(pow2, "4K", 4096);
    OK(pow2, "64K", 65536);
    BAD(pow2, "3000", AS_EINVAL); /* not a power of two */
    BAD(pow2, "12K", AS_EINVAL);
    BAD(pow2, "2K", AS_ERANGE); /* a power of two, below 4K */
    BAD(pow2, "128K", AS_ERANGE);
    as_param_value_t v;
    CU_ASSERT_EQUAL(as_param_parse_value(&real, "0.25", 4, &v), AS_OK);
    CU_ASSERT_DOUBLE_EQUAL(v.d, 0.25, 0);
    CU_ASSERT_EQUAL(as_param_parse_value(&real, "-0.25", 5, &v), AS_ERANGE);
    CU_ASSERT_EQUAL(as_param_parse_value(&real, "+0.25", 5, &v), AS_EINVAL);
    CU_ASSERT_EQUAL(as_param_parse_value(&real, " 0.25", 5, &v), AS_EINVAL);
    CU_ASSERT_EQUAL(as_param_parse_value(&real, "1e999", 5, &v), AS_ERANGE);
    CU_ASSERT_EQUAL(as_param_parse_value(&real, "", 0, &v), AS_EINVAL);
}

static void test_explain(void)
{
    char b[160];
    as_param_explain(&pow2, b, sizeof b);
    CU_ASSERT_STRING_EQUAL(
        b, "a power of two in bytes (K, M, G, T: x1024) from 4K to 64K");
    static const as_param_spec_t t = {"t",  AS_PARAM_NS, "1s", 1000,
                                      1e15, NULL,        ""};
    as_param_explain(&t, b, sizeof b);
    CU_ASSERT_STRING_EQUAL(b, "a duration with a unit (ns, us, ms, s, min, "
                              "h) from 1us to 1000000s");
    static const as_param_spec_t h = {"t",    AS_PARAM_NS, "1s", 1,
                                      3.6e12, NULL,        ""};
    as_param_explain(&h, b, sizeof b);
    CU_ASSERT_STRING_EQUAL(b, "a duration with a unit (ns, us, ms, s, min, "
                              "h) from 1ns to 1h");
    static const as_param_spec_t n = {"n",  AS_PARAM_U64, "1", 1,
                                      1e12, NULL,         ""};
    as_param_explain(&n, b, sizeof b);
    CU_ASSERT_STRING_EQUAL(
        b, "a whole number (K, M, G, T: x1000) from 1 to 1000000000000");
    static const as_param_spec_t e = {"e", AS_PARAM_ENUM,          "a", 0,
                                      0,   "never|madvise|always", ""};
    as_param_explain(&e, b, sizeof b);
    CU_ASSERT_STRING_EQUAL(b, "one of never, madvise, always");
    as_param_explain(&real, b, sizeof b);
    CU_ASSERT_STRING_EQUAL(b, "a number from 0 to 1");
    as_param_explain(&bytes, b, sizeof b);
    CU_ASSERT_STRING_EQUAL(b, "a size in bytes (K, M, G, T: x1024) from 0 "
                              "to 18446744073709551615");
    as_param_range(&pow2, b, sizeof b);
    CU_ASSERT_STRING_EQUAL(b, "4K..64K");
    as_param_range(&t, b, sizeof b);
    CU_ASSERT_STRING_EQUAL(b, "1us..1000000s");
    static const as_param_spec_t g = {"g",     AS_PARAM_BYTES, "1", 1,
                                      1 << 30, NULL,           ""};
    as_param_range(&g, b, sizeof b);
    CU_ASSERT_STRING_EQUAL(b, "1..1G");
    char small[8];
    CU_ASSERT_EQUAL(as_param_explain(&e, small, sizeof small), 7);
    CU_ASSERT_STRING_EQUAL(small, "one of ");
}

/* Every table default is written with its unit and lies in its bounds. */
static void test_registered_defaults(void)
{
    as_param_value_t v[128];
    for (size_t i = 0; i < as_policy_count(); i++) {
        const as_policy_ops_t *p = as_policy_at(i);
        CU_ASSERT_FATAL(p->n_params <= 128);
        CU_ASSERT_EQUAL(as_param_defaults(p->params, p->n_params, v), AS_OK);
    }
    for (size_t i = 0; i < as_predictor_count(); i++) {
        const as_predictor_ops_t *p = as_predictor_at(i);
        CU_ASSERT_FATAL(p->n_params <= 128);
        CU_ASSERT_EQUAL(as_param_defaults(p->params, p->n_params, v), AS_OK);
    }
    for (size_t i = 0; i < as_gen_count(); i++) {
        const as_gen_workload_t *w = as_gen_at(i);
        CU_ASSERT_FATAL(w->n_params <= 128);
        CU_ASSERT_EQUAL(as_param_defaults(w->params, w->n_params, v), AS_OK);
    }
}

/* hostile: every hostile text is refused by spec, whatever its type. */
static void hostile(const as_param_spec_t *sp)
{
    static const char *const all[] = {
        "", " 1", "1 ", "+1", " -5", "nan", "18446744073709551616", "1,5"};
    static const char *const ints[] = {"-1",
                                       "1.5",
                                       "99999999999999T",
                                       "0x10000000000000000",
                                       "18446744073709551616ns",
                                       "99999999999h"};
    as_param_value_t v;
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        int rc = as_param_parse_value(sp, all[i], strlen(all[i]), &v);
        /* a DOUBLE may hold 2^64; every other text is refused */
        if (sp->type == AS_PARAM_DOUBLE && i == 6 && sp->max >= 1.9e19)
            continue;
        if (rc == AS_OK) printf("\n  %s accepted '%s' ", sp->name, all[i]);
        CU_ASSERT(rc == AS_EINVAL || rc == AS_ERANGE);
    }
    if (sp->type == AS_PARAM_BOOL || sp->type == AS_PARAM_ENUM ||
        sp->type == AS_PARAM_DOUBLE)
        return;
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++) {
        int rc = as_param_parse_value(sp, ints[i], strlen(ints[i]), &v);
        if (rc == AS_OK) printf("\n  %s accepted '%s' ", sp->name, ints[i]);
        CU_ASSERT(rc == AS_EINVAL || rc == AS_ERANGE);
    }
}

/* Every registered parameter refuses signs, blanks, empty text, overflow,
 * a huge value with a unit and (integers) a fraction. */
static void test_registered_hostile(void)
{
    for (size_t i = 0; i < as_policy_count(); i++)
        for (size_t k = 0; k < as_policy_at(i)->n_params; k++)
            hostile(&as_policy_at(i)->params[k]);
    for (size_t i = 0; i < as_predictor_count(); i++)
        for (size_t k = 0; k < as_predictor_at(i)->n_params; k++)
            hostile(&as_predictor_at(i)->params[k]);
    for (size_t i = 0; i < as_gen_count(); i++)
        for (size_t k = 0; k < as_gen_at(i)->n_params; k++)
            hostile(&as_gen_at(i)->params[k]);
}

int main(void)
{
    static const as_test_t tests[] = {
        {"counts: K/M/G x1000, refusals", test_counts},
        {"bytes: K/M/G x1024, exact fractions", test_bytes},
        {"durations: unit required, exact", test_durations},
        {"powers of two and bounds", test_pow2_and_bounds},
        {"as_param_explain texts", test_explain},
        {"registered defaults parse", test_registered_defaults},
        {"registered parameters refuse hostile text", test_registered_hostile},
        {NULL, NULL},
    };
    return as_test_main("common_param", tests);
}

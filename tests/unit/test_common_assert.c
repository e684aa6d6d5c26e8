/* test_common_assert.c - the assertion tiers of common/assert.h and the
 * message builder of common/msg.h.
 *
 * With a handler installed (so a failure is observed instead of trapping):
 * a true assertion of any tier never calls it; a false AS_ASSERT always
 * does, with its expression, file and line; a false AS_ASSERT_INTERNAL does
 * exactly when AS_DEBUG >= 1 and AS_ASSERT_EXPENSIVE exactly when
 * AS_DEBUG >= 2 (this file is compiled at the build's level, so the test
 * asserts what that level promises); a disabled tier does not evaluate its
 * condition. as_msg_* writes decimal and hex, cuts at capacity, and
 * as_msg_fail returns AS_ECHECK.
 */
#include <string.h>

#include "common/assert.h"
#include "common/msg.h"
#include "tests/unit/testutil.h"

static int fired;
static char last_expr[64];
static int last_line;

static void handler(const char *expr, const char *file, int line)
{
    fired++;
    strncpy(last_expr, expr, sizeof last_expr - 1);
    last_line = line;
    CU_ASSERT_PTR_NOT_NULL(strstr(file, "test_common_assert.c"));
}

static int evaluated;
static int side_effect(int v)
{
    evaluated++;
    return v;
}

static void test_tiers(void)
{
    CU_ASSERT_PTR_NULL(as_assert_set_handler(handler));
    fired = 0;
    AS_ASSERT(1 + 1 == 2);
    AS_ASSERT_INTERNAL(1);
    AS_ASSERT_EXPENSIVE(1);
    CU_ASSERT_EQUAL(fired, 0);

    int line = __LINE__ + 1;
    AS_ASSERT(2 < 1);
    CU_ASSERT_EQUAL(fired, 1);
    CU_ASSERT_STRING_EQUAL(last_expr, "2 < 1");
    CU_ASSERT_EQUAL(last_line, line);

    fired = evaluated = 0;
    AS_ASSERT_INTERNAL(side_effect(0));
    CU_ASSERT_EQUAL(fired, AS_DEBUG >= 1 ? 1 : 0);
    CU_ASSERT_EQUAL(evaluated, AS_DEBUG >= 1 ? 1 : 0);

    fired = evaluated = 0;
    AS_ASSERT_EXPENSIVE(side_effect(0));
    CU_ASSERT_EQUAL(fired, AS_DEBUG >= 2 ? 1 : 0);
    CU_ASSERT_EQUAL(evaluated, AS_DEBUG >= 2 ? 1 : 0);

    CU_ASSERT_PTR_EQUAL(as_assert_set_handler(NULL), handler);
}

static void test_msg(void)
{
    char buf[24];
    as_msg_t m;
    as_msg_init(&m, buf, sizeof buf);
    as_msg_str(&m, "n=");
    as_msg_u64(&m, 1234, 0);
    as_msg_str(&m, " a=");
    as_msg_u64(&m, 0xbeef, 1);
    CU_ASSERT_STRING_EQUAL(buf, "n=1234 a=0xbeef");
    as_msg_str(&m, " and more than fits");
    CU_ASSERT_EQUAL(strlen(buf), sizeof buf - 1);
    CU_ASSERT_STRING_EQUAL(buf, "n=1234 a=0xbeef and mor");

    char why[64];
    as_msg_init(&m, why, sizeof why);
    CU_ASSERT_EQUAL(as_msg_fail(&m, "x broken", "block_addr", 4096), AS_ECHECK);
    CU_ASSERT_STRING_EQUAL(why, "x broken block_addr=0x1000");
    as_msg_init(&m, why, sizeof why);
    as_msg_fail(&m, "y", "bytes", 4096);
    CU_ASSERT_STRING_EQUAL(why, "y bytes=4096");
    CU_ASSERT_EQUAL(as_msg_fail(NULL, "z", NULL, 0), AS_ECHECK);
}

int main(void)
{
    static const as_test_t tests[] = {
        {"tiers", test_tiers}, {"msg", test_msg}, {NULL, NULL}};
    return as_test_main("common_assert", tests);
}

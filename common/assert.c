/* assert.c - the failure path of the tiered assertions (see assert.h).
 *
 * Owns one process-wide handler pointer. The default path is
 * __builtin_trap(), which is neither libc's abort nor printf, so the objects
 * that link this file stay inside the rules of
 * tests/check_policy_libc_refs.sh. It never allocates and never prints.
 */
#include "common/assert.h"

static as_assert_handler_fn assert_handler;

as_assert_handler_fn as_assert_set_handler(as_assert_handler_fn fn)
{
    as_assert_handler_fn old = assert_handler;
    assert_handler = fn;
    return old;
}

void as_assert_fail(const char *expr, const char *file, int line)
{
    if (assert_handler) {
        assert_handler(expr, file, line);
        return;
    }
    __builtin_trap();
}

/* test_common_escape.c - as_escape, the terminal-safe spelling of untrusted
 * strings: every class of byte against its hand-written spelling, the
 * snprintf-like length, and cuts that never split an escape. */
#include <string.h>

#include "common/escape.h"
#include "tests/unit/testutil.h"

/* esc: escape n bytes of s into a large buffer; check the returned length
 * equals what was written. */
static const char *esc(const char *s, size_t n)
{
    static char out[256];
    size_t need = as_escape(out, sizeof out, s, n);
    CU_ASSERT_EQUAL(need, strlen(out));
    return out;
}

static void test_classes(void)
{
    CU_ASSERT_STRING_EQUAL(esc("plain text 1+1=2", 16), "plain text 1+1=2");
    CU_ASSERT_STRING_EQUAL(esc("", 0), "");
    /* control bytes, ESC, DEL and NUL */
    CU_ASSERT_STRING_EQUAL(esc("a\nb\tc\x1b[2J\x7f", 10),
                           "a\\x0ab\\x09c\\x1b[2J\\x7f");
    CU_ASSERT_STRING_EQUAL(esc("x\0y", 3), "x\\x00y");
    CU_ASSERT_STRING_EQUAL(esc("back\\slash", 10), "back\\\\slash");
    /* well-formed UTF-8 is copied: e-acute (2 bytes), euro (3), U+1F600 (4) */
    CU_ASSERT_STRING_EQUAL(esc("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 14),
                           "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
    /* C1 control U+009B (CSI) in UTF-8, and a raw 0x9b byte */
    CU_ASSERT_STRING_EQUAL(esc("\xc2\x9b"
                               "1m",
                               4),
                           "\\xc2\\x9b1m");
    CU_ASSERT_STRING_EQUAL(esc("\x9b"
                               "1m",
                               3),
                           "\\x9b1m");
    /* invalid UTF-8: lone continuation, overlong '/', surrogate U+D800,
     * above U+10FFFF, a sequence cut by the end, 0xff */
    CU_ASSERT_STRING_EQUAL(esc("\x80", 1), "\\x80");
    CU_ASSERT_STRING_EQUAL(esc("\xc0\xaf", 2), "\\xc0\\xaf");
    CU_ASSERT_STRING_EQUAL(esc("\xe0\x80\xaf", 3), "\\xe0\\x80\\xaf");
    CU_ASSERT_STRING_EQUAL(esc("\xed\xa0\x80", 3), "\\xed\\xa0\\x80");
    CU_ASSERT_STRING_EQUAL(esc("\xf4\x90\x80\x80", 4), "\\xf4\\x90\\x80\\x80");
    CU_ASSERT_STRING_EQUAL(esc("\xe2\x82", 2), "\\xe2\\x82");
    CU_ASSERT_STRING_EQUAL(esc("\xff", 1), "\\xff");
}

static void test_lengths_and_cuts(void)
{
    char out[8];
    /* "ab\x1b" needs 2 + 4 = 6 bytes */
    CU_ASSERT_EQUAL(as_escape(NULL, 0, "ab\x1b", 3), 6);
    CU_ASSERT_EQUAL(as_escape(out, sizeof out, "ab\x1b", 3), 6);
    CU_ASSERT_STRING_EQUAL(out, "ab\\x1b");
    /* room for 5 characters: the escape does not fit and is left out whole */
    CU_ASSERT_EQUAL(as_escape(out, 6, "ab\x1bz", 4), 7);
    CU_ASSERT_STRING_EQUAL(out, "ab");
    /* nor is anything after it written */
    CU_ASSERT_EQUAL(as_escape(out, 4, "a\x01zz", 4), 7);
    CU_ASSERT_STRING_EQUAL(out, "a");
    /* a UTF-8 sequence is not split either */
    CU_ASSERT_EQUAL(as_escape(out, 3, "a\xc3\xa9", 3), 3);
    CU_ASSERT_STRING_EQUAL(out, "a");
    CU_ASSERT_EQUAL(as_escape(out, 1, "abc", 3), 3);
    CU_ASSERT_STRING_EQUAL(out, "");
}

int main(void)
{
    static const as_test_t tests[] = {
        {"every byte class", test_classes},
        {"lengths; cuts never split an escape", test_lengths_and_cuts},
        {NULL, NULL},
    };
    return as_test_main("common_escape", tests);
}

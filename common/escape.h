/* escape.h - make an untrusted string safe to print on a terminal.
 *
 * Strings that come from input files (trace metadata, module and symbol
 * names, fragments of a malformed line quoted in an error) may hold escape
 * sequences that a terminal would obey. Everything that prints such a
 * string passes it through as_escape() first, in one spelling:
 *   - printable ASCII (0x20..0x7e) except '\' is copied;
 *   - '\' becomes "\\";
 *   - bytes below 0x20 and 0x7f (DEL) become \xNN (lower-case hex);
 *   - well-formed UTF-8 sequences (no overlong forms, no surrogates, at most
 *     U+10FFFF) are copied, except the C1 controls U+0080..U+009F, whose two
 *     bytes become \xc2\xNN (some terminals obey them too);
 *   - every other byte (invalid UTF-8) becomes \xNN.
 * The result is printable, valid UTF-8, and tells the reader exactly which
 * bytes were there. Like everything in common/, it never allocates and never
 * prints.
 */
#ifndef AS_COMMON_ESCAPE_H
#define AS_COMMON_ESCAPE_H

#include <stddef.h>

/* as_escape: write the escaped form of the n bytes at s into out (cap bytes,
 * always NUL-terminated when cap > 0; an escape is never cut in half: when
 * out is too small it ends before the first unit that does not fit).
 * @return the length the whole escaped form needs, NUL excluded (like
 * snprintf: the result is complete when the return value < cap). s may hold
 * NUL bytes (they become \x00). */
size_t as_escape(char *out, size_t cap, const char *s, size_t n);

#endif /* AS_COMMON_ESCAPE_H */

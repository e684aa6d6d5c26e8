/* escape.c - the terminal-safe spelling of untrusted strings (escape.h).
 *
 * One pass over the input: each unit (an ASCII byte, a whole UTF-8 sequence,
 * or one invalid byte) is either copied or spelled as escapes. It owns no
 * state, never allocates and never calls libc.
 */
#include "common/escape.h"

#include <stdint.h>

/* utf8_len: the length of the well-formed UTF-8 sequence at s[0..n) (2..4)
 * that is not a C1 control, or 0 when s does not start one. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    size_t len;
    uint32_t cp;
    if (c >= 0xc2 && c <= 0xdf) {
        len = 2;
        cp = c & 0x1fu;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3;
        cp = c & 0x0fu;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;
        cp = c & 0x07u;
    } else {
        return 0;
    }
    if (len > n) return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80) return 0;
        cp = cp << 6 | (s[i] & 0x3fu);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
        (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff || cp < 0xa0)
        return 0; /* overlong, surrogate, too large, or a C1 control */
    return len;
}

size_t as_escape(char *out, size_t cap, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)s;
    size_t need = 0, o = 0;
    int full = 0; /* out has no room for the next unit */
    for (size_t i = 0; i < n;) {
        char unit[4];
        const unsigned char *src;
        size_t ulen, step;
        unsigned char c = p[i];
        size_t ul = c >= 0x80 ? utf8_len(p + i, n - i) : 0;
        if (ul) {
            src = p + i;
            ulen = step = ul;
        } else if (c == '\\') {
            unit[0] = unit[1] = '\\';
            src = (const unsigned char *)unit;
            ulen = 2;
            step = 1;
        } else if (c < 0x20 || c >= 0x7f) {
            unit[0] = '\\';
            unit[1] = 'x';
            unit[2] = hex[c >> 4];
            unit[3] = hex[c & 15];
            src = (const unsigned char *)unit;
            ulen = 4;
            step = 1;
        } else {
            src = p + i;
            ulen = step = 1;
        }
        if (!full && cap > 0 && o + ulen < cap) {
            for (size_t k = 0; k < ulen; k++)
                out[o++] = (char)src[k];
        } else {
            full = 1;
        }
        need += ulen;
        i += step;
    }
    if (cap > 0) out[o] = '\0';
    return need;
}

/* msg.h - messages built without stdio, for code that may run inside malloc.
 *
 * An as_msg_t is a caller-owned, NUL-terminated text buffer that grows by
 * appending strings and numbers; what does not fit is cut off silently. The
 * checking layer and every policy's `check` hook write their reasons into one
 * (policies/policy.h): they may not call snprintf (rule 1 of policy.h).
 *
 * Type map
 *   as_msg_t   buf[0..len) holds the text, buf[len] == 0, len < cap
 */
#ifndef AS_COMMON_MSG_H
#define AS_COMMON_MSG_H

#include <stddef.h>
#include <stdint.h>

#include "common/error.h"

typedef struct {
    char *buf;  /* caller storage of cap bytes */
    size_t cap; /* >= 1 */
    size_t len; /* characters written, < cap */
} as_msg_t;

/* as_msg_init: an empty message over buf[cap] (cap >= 1). */
static inline void as_msg_init(as_msg_t *m, char *buf, size_t cap)
{
    m->buf = buf;
    m->cap = cap;
    m->len = 0;
    buf[0] = 0;
}

/* as_msg_str: append s (NULL m is ignored). */
static inline void as_msg_str(as_msg_t *m, const char *s)
{
    if (!m) return;
    while (*s && m->len + 1 < m->cap)
        m->buf[m->len++] = *s++;
    m->buf[m->len] = 0;
}

/* as_msg_u64: append v in decimal, or in hex with a 0x prefix. */
static inline void as_msg_u64(as_msg_t *m, uint64_t v, int hex)
{
    char d[24];
    int n = 0;
    unsigned base = hex ? 16 : 10;
    do {
        d[n++] = "0123456789abcdef"[v % base];
        v /= base;
    } while (v);
    char s[24];
    for (int i = 0; i < n; i++)
        s[i] = d[n - 1 - i];
    s[n] = 0;
    if (hex) as_msg_str(m, "0x");
    as_msg_str(m, s);
}

/* as_msg_fail: the one form of a failed invariant, "what key=value" (key
 * NULL: no value; keys ending in "addr" print in hex).
 * @return AS_ECHECK, so a check can `return as_msg_fail(...)`. */
static inline int as_msg_fail(as_msg_t *m, const char *what, const char *key,
                              uint64_t value)
{
    if (!m) return AS_ECHECK;
    as_msg_str(m, what);
    if (key) {
        size_t n = 0;
        while (key[n])
            n++;
        int hex = n >= 4 && key[n - 4] == 'a' && key[n - 3] == 'd' &&
                  key[n - 2] == 'd' && key[n - 1] == 'r';
        as_msg_str(m, " ");
        as_msg_str(m, key);
        as_msg_str(m, "=");
        as_msg_u64(m, value, hex);
    }
    return AS_ECHECK;
}

/* as_msg_refuse: the one form of a refused configuration, "a va rel b vb"
 * ("llama.line_size 4096 exceeds llama.block_size 2048"; b NULL: "a va rel
 * vb"), for a policy's create (policy.h, as_policy_config_t.why).
 * @return AS_EINVAL, so create can `return as_msg_refuse(...)`. */
static inline int as_msg_refuse(as_msg_t *m, const char *a, uint64_t va,
                                const char *rel, const char *b, uint64_t vb)
{
    if (!m) return AS_EINVAL;
    as_msg_str(m, a);
    as_msg_str(m, " ");
    as_msg_u64(m, va, 0);
    as_msg_str(m, " ");
    as_msg_str(m, rel);
    as_msg_str(m, " ");
    if (b) {
        as_msg_str(m, b);
        as_msg_str(m, " ");
    }
    as_msg_u64(m, vb, 0);
    return AS_EINVAL;
}

#endif /* AS_COMMON_MSG_H */

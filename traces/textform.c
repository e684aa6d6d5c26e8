/* textform.c - formatting trace records as the line-oriented text form.
 *
 * This file owns the canonical spelling of every record (field order,
 * decimal and hex numbers, string escaping); the `text` importer parses
 * exactly this spelling back, which is what makes text -> trace -> text
 * byte-identical. It formats into a caller's buffer and never prints.
 */
#include "traces/textform.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"

static int reserve(as_textbuf_t *b, size_t extra)
{
    if (b->len + extra + 1 <= b->cap) return 0;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + extra + 1)
        cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p) return AS_ENOMEM;
    b->p = p;
    b->cap = cap;
    return 0;
}

static int putf(as_textbuf_t *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static int putf(as_textbuf_t *b, const char *fmt, ...)
{
    va_list ap;
    if (reserve(b, 128)) return AS_ENOMEM;
    va_start(ap, fmt);
    int n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
    va_end(ap);
    if (n < 0) return AS_EINVAL;
    if ((size_t)n >= b->cap - b->len) {
        if (reserve(b, (size_t)n)) return AS_ENOMEM;
        va_start(ap, fmt);
        vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
        va_end(ap);
    }
    b->len += (size_t)n;
    return 0;
}

/* Append the decimal numbers v[0..n), each after a space, to the line
 * starting with `lead` (a record's letter): the events are most of a
 * trace, and this is several times faster than vsnprintf for them. */
static int put_u64s(as_textbuf_t *b, const char *lead, const uint64_t *v, int n)
{
    if (reserve(b, 8 + 21 * (size_t)n)) return AS_ENOMEM;
    char *o = b->p + b->len;
    while (*lead)
        *o++ = *lead++;
    static const char pairs[201] = "00010203040506070809"
                                   "10111213141516171819"
                                   "20212223242526272829"
                                   "30313233343536373839"
                                   "40414243444546474849"
                                   "50515253545556575859"
                                   "60616263646566676869"
                                   "70717273747576777879"
                                   "80818283848586878889"
                                   "90919293949596979899";
    for (int i = 0; i < n; i++) {
        char d[20];
        int k = 20; /* d[k..20) holds the digits */
        uint64_t x = v[i];
        while (x >= 100) { /* two digits per division */
            unsigned r = (unsigned)(x % 100);
            x /= 100;
            d[--k] = pairs[2 * r + 1];
            d[--k] = pairs[2 * r];
        }
        if (x >= 10) {
            d[--k] = pairs[2 * x + 1];
            d[--k] = pairs[2 * x];
        } else {
            d[--k] = (char)('0' + x);
        }
        *o++ = ' ';
        memcpy(o, d + k, (size_t)(20 - k));
        o += 20 - k;
    }
    b->len = (size_t)(o - b->p);
    b->p[b->len] = '\0';
    return 0;
}

/* Append ' ' and the escaped form of s. */
static int put_str(as_textbuf_t *b, const char *s)
{
    size_t n = strlen(s);
    if (reserve(b, 4 + 3 * n)) return AS_ENOMEM;
    char *o = b->p + b->len;
    *o++ = ' ';
    if (n == 0) {
        *o++ = '-';
    } else if (n == 1 && s[0] == '-') {
        memcpy(o, "%2D", 3);
        o += 3;
    } else {
        static const char hex[] = "0123456789ABCDEF";
        for (size_t i = 0; i < n; i++) {
            unsigned char c = (unsigned char)s[i];
            if (c <= 0x20 || c >= 0x7f || c == '%') {
                *o++ = '%';
                *o++ = hex[c >> 4];
                *o++ = hex[c & 15];
            } else {
                *o++ = (char)c;
            }
        }
    }
    b->len = (size_t)(o - b->p);
    b->p[b->len] = '\0';
    return 0;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

long as_text_unescape(const char *s, size_t n, char *out)
{
    if (n == 1 && s[0] == '-') {
        out[0] = '\0';
        return 0;
    }
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] != '%') {
            out[o++] = s[i];
            continue;
        }
        if (i + 2 >= n) return -1;
        int h = hexval(s[i + 1]), l = hexval(s[i + 2]);
        if (h < 0 || l < 0 || (h == 0 && l == 0)) return -1;
        out[o++] = (char)(h << 4 | l);
        i += 2;
    }
    out[o] = '\0';
    return (long)o;
}

int as_text_format_meta(as_textbuf_t *b, const char *key, const char *value)
{
    if (putf(b, "meta") || put_str(b, key) || put_str(b, value) ||
        putf(b, "\n"))
        return AS_ENOMEM;
    return 0;
}

int as_text_format_record(as_textbuf_t *b, const as_trace_record_t *rec)
{
    const as_event_t *e = &rec->event;
    int rc = 0;
    switch (rec->kind) {
    case AS_TRACE_REC_META:
        return as_text_format_meta(b, rec->key, rec->value);
    case AS_TRACE_REC_FRAME:
        if (putf(b, "frame %" PRIu32 " 0x%" PRIx64 " 0x%" PRIx64, rec->id,
                 rec->frame.pc, rec->frame.offset) ||
            put_str(b, rec->frame.module) || put_str(b, rec->frame.symbol))
            return AS_ENOMEM;
        break;
    case AS_TRACE_REC_STACK:
        if (putf(b, "stack %" PRIu32, rec->id)) return AS_ENOMEM;
        for (uint32_t i = 0; i < rec->depth; i++)
            if (putf(b, " %" PRIu32, rec->frames[i])) return AS_ENOMEM;
        break;
    case AS_TRACE_REC_SAMPLE: {
        const as_mem_sample_t *m = &rec->sample;
        char rss[24] = "-", huge[24] = "-";
        if (m->has & AS_SAMPLE_HAS_RSS)
            snprintf(rss, sizeof rss, "%" PRIu64, m->rss_bytes);
        if (m->has & AS_SAMPLE_HAS_HUGE)
            snprintf(huge, sizeof huge, "%" PRIu64, m->anon_huge_bytes);
        if (putf(b, "s %" PRIu64 " %s %s", m->t_ns, rss, huge))
            return AS_ENOMEM;
        if (m->has & AS_SAMPLE_HAS_MALLINFO) {
            if (putf(b, " mi")) return AS_ENOMEM;
            for (int i = 0; i < AS_MALLINFO_FIELDS; i++)
                if (putf(b, " %" PRIu64, m->mallinfo.f[i])) return AS_ENOMEM;
        }
        break;
    }
    case AS_TRACE_REC_EVENT: {
        /* a T THREAD CPU OBJECT SIZE ALIGN STACK [HEIGHT]; f T THREAD CPU
         * OBJECT; r T THREAD CPU OBJECT NEW_OBJECT SIZE ALIGN STACK [HEIGHT].
         * The stack height only when known: v1-era text stays as it was. */
        uint64_t v[9] = {e->t_ns, e->thread, e->cpu, e->object};
        int n;
        const char *tag;
        if (e->kind == AS_EV_ALLOC) {
            v[4] = e->size, v[5] = e->align, v[6] = e->stack;
            tag = "a", n = 7;
        } else if (e->kind == AS_EV_FREE) {
            tag = "f", n = 4;
        } else {
            v[4] = e->new_object, v[5] = e->size, v[6] = e->align;
            v[7] = e->stack;
            tag = "r", n = 8;
        }
        if (e->kind != AS_EV_FREE && e->stack_height) v[n++] = e->stack_height;
        rc = put_u64s(b, tag, v, n);
        if (rc) return rc;
        break;
    }
    default:
        return AS_EINVAL;
    }
    if (reserve(b, 1)) return AS_ENOMEM;
    b->p[b->len++] = '\n';
    b->p[b->len] = '\0';
    return 0;
}

void as_textbuf_free(as_textbuf_t *b)
{
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

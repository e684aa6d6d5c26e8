/* textform.c - formatting trace records as the line-oriented text form.
 *
 * This file owns the canonical spelling of every record (field order,
 * decimal and hex numbers, string escaping); the `text` importer parses
 * exactly this spelling back, which is what makes text -> trace -> text
 * byte-identical. It formats into a caller's buffer and never prints.
 */
#include "traces/textform.h"

#include <inttypes.h>
#include <stdint.h>
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

/* Write exactly 8 digits of x (< 10^8, leading zeros kept) at o, with
 * 32-bit arithmetic, two digits per step. */
static inline void put_dec8(char *o, uint32_t x)
{
    uint32_t hi = x / 10000, lo = x % 10000;
    memcpy(o, pairs + 2 * (hi / 100), 2);
    memcpy(o + 2, pairs + 2 * (hi % 100), 2);
    memcpy(o + 4, pairs + 2 * (lo / 100), 2);
    memcpy(o + 6, pairs + 2 * (lo % 100), 2);
}

/* Write x (< 10^8) in decimal at o without leading zeros; writes up to 8
 * bytes whatever the length. @return the end. */
static inline __attribute__((always_inline)) char *put_dec_small(char *o,
                                                                 uint32_t x)
{
    if (x < 10) {
        *o = (char)('0' + x);
        return o + 1;
    }
    if (x < 100) {
        memcpy(o, pairs + 2 * x, 2);
        return o + 2;
    }
    char d[16];
    put_dec8(d, x);
    memset(d + 8, 0, 8);
    unsigned n = 3u + (x >= 1000) + (x >= 10000) + (x >= 100000) +
                 (x >= 1000000) + (x >= 10000000);
    memcpy(o, d + 8 - n, 8);
    return o + n;
}

/* Write ' ' and x in decimal at o: the events are most of a trace, and
 * this is several times faster than vsnprintf for them (blocks of eight
 * digits in 32-bit arithmetic). o must have room for 21 + 8 bytes.
 * @return the end. */
static inline __attribute__((always_inline)) char *put_dec(char *o, uint64_t x)
{
    *o++ = ' ';
    if (x < 100000000u) return put_dec_small(o, (uint32_t)x);
    uint64_t hi = x / 100000000u;
    uint32_t lo = (uint32_t)(x % 100000000u);
    if (hi < 100000000u) {
        o = put_dec_small(o, (uint32_t)hi);
    } else {
        o = put_dec_small(o, (uint32_t)(hi / 100000000u));
        put_dec8(o, (uint32_t)(hi % 100000000u));
        o += 8;
    }
    put_dec8(o, lo);
    return o + 8;
}

/* Append the line of event e (with its newline) at o; room for
 * AS_EVENT_LINE_MAX bytes. @return the end. */
static inline char *put_event(char *o, const as_event_t *e)
{
    *o = e->kind == AS_EV_ALLOC ? 'a' : e->kind == AS_EV_FREE ? 'f' : 'r';
    o = put_dec(o + 1, e->t_ns);
    o = put_dec(o, e->thread);
    o = put_dec(o, e->cpu);
    o = put_dec(o, e->object);
    if (e->kind != AS_EV_FREE) {
        if (e->kind != AS_EV_ALLOC) o = put_dec(o, e->new_object);
        o = put_dec(o, e->size);
        o = put_dec(o, e->align);
        o = put_dec(o, e->stack);
        if (e->stack_height) o = put_dec(o, e->stack_height);
    }
    *o++ = '\n';
    return o;
}

#define AS_EVENT_LINE_MAX (2 + 9 * 21 + 8) /* put_event's longest, scratch */

int as_text_format_events(as_textbuf_t *b, const as_event_t *ev, size_t n)
{
    if (n > SIZE_MAX / AS_EVENT_LINE_MAX || reserve(b, n * AS_EVENT_LINE_MAX))
        return AS_ENOMEM;
    char *o = b->p + b->len;
    for (size_t i = 0; i < n; i++)
        o = put_event(o, &ev[i]);
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

int as_text_append(as_textbuf_t *b, const char *p, size_t n)
{
    if (reserve(b, n)) return AS_ENOMEM;
    memcpy(b->p + b->len, p, n);
    b->len += n;
    b->p[b->len] = '\0';
    return 0;
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
    case AS_TRACE_REC_WRITE:
        /* w T OBJECT OFFSET BYTES */
        if (putf(b, "w %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64,
                 rec->write.t_ns, rec->write.object, rec->write.offset,
                 rec->write.bytes))
            return AS_ENOMEM;
        break;
    case AS_TRACE_REC_EVENT:
        /* a T THREAD CPU OBJECT SIZE ALIGN STACK [HEIGHT]; f T THREAD CPU
         * OBJECT; r T THREAD CPU OBJECT NEW_OBJECT SIZE ALIGN STACK [HEIGHT].
         * The stack height only when known: v1-era text stays as it was. */
        return as_text_format_events(b, e, 1);
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

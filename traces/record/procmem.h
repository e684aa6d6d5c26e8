/* procmem.h - reading a process's real memory from /proc, for the
 * recorder's periodic samples (traces/record/record.c) and its tests.
 *
 * Header-only parsers over text already read into a buffer: they allocate
 * nothing and call nothing from libc, so the recorder can run them on its
 * drainer thread or in a signal handler. /proc/PID/smaps_rollup lists
 * "Rss:   N kB" and "AnonHugePages:   N kB" among other lines;
 * /proc/PID/statm is "size resident shared text lib data dt" in pages.
 */
#ifndef AS_TRACES_RECORD_PROCMEM_H
#define AS_TRACES_RECORD_PROCMEM_H

#include <stddef.h>
#include <stdint.h>

#include "traces/trace.h"

/* as_procmem_decimal: the decimal number at p[*i..n) (at most 15
 * digits), *i moved past it. @return 1, or 0 when there is none. */
static inline int as_procmem_decimal(const char *p, size_t n, size_t *i,
                                     uint64_t *v)
{
    size_t d = 0;
    *v = 0;
    for (; *i < n && p[*i] >= '0' && p[*i] <= '9' && d < 16; (*i)++, d++)
        *v = *v * 10 + (uint64_t)(p[*i] - '0');
    return d > 0 && d < 16;
}

/* as_procmem_kb_field: when line p[0..n) starts with `name` (e.g. "Rss:"),
 * parse the decimal kB after it into *bytes. @return 1 when parsed. */
static inline int as_procmem_kb_field(const char *p, size_t n, const char *name,
                                      uint64_t *bytes)
{
    size_t i = 0;
    for (; name[i]; i++)
        if (i >= n || p[i] != name[i]) return 0;
    while (i < n && p[i] == ' ')
        i++;
    uint64_t v;
    if (!as_procmem_decimal(p, n, &i, &v)) return 0;
    *bytes = v * 1024;
    return 1;
}

/* as_procmem_parse_rollup: Rss and AnonHugePages from the text of
 * smaps_rollup. @return the AS_SAMPLE_* bits of the fields found. */
static inline uint32_t as_procmem_parse_rollup(const char *buf, size_t n,
                                               uint64_t *rss, uint64_t *huge)
{
    uint32_t has = 0;
    size_t i = 0;
    while (i < n) {
        size_t e = i;
        while (e < n && buf[e] != '\n')
            e++;
        if (as_procmem_kb_field(buf + i, e - i, "Rss:", rss))
            has |= AS_SAMPLE_HAS_RSS;
        else if (as_procmem_kb_field(buf + i, e - i, "AnonHugePages:", huge))
            has |= AS_SAMPLE_HAS_HUGE;
        i = e + 1;
    }
    return has;
}

/* as_procmem_parse_statm: resident pages (the second field) times
 * page_bytes. @return AS_SAMPLE_HAS_RSS, or 0 when the text is not
 * statm's. */
static inline uint32_t as_procmem_parse_statm(const char *buf, size_t n,
                                              uint64_t page_bytes,
                                              uint64_t *rss)
{
    size_t i = 0;
    uint64_t v;
    if (!as_procmem_decimal(buf, n, &i, &v) || i >= n || buf[i] != ' ')
        return 0; /* the size field */
    i++;
    if (!as_procmem_decimal(buf, n, &i, &v)) return 0;
    *rss = v * page_bytes;
    return AS_SAMPLE_HAS_RSS;
}

#endif /* AS_TRACES_RECORD_PROCMEM_H */

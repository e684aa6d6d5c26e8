/* mstats.c - sampling /proc/self/smaps and writing the figures (see
 * mstats.h).
 *
 * Runs inside malloc: reads with open/read into a static buffer and writes
 * with write(2); no stdio, no libc allocation. The smaps parser keeps only
 * what it needs: the range of each VMA header line and its "Rss:" and
 * "AnonHugePages:" lines (in kB).
 *
 * A VMA that lies partly in the page source's ranges (the kernel merged a
 * heap mapping with a neighbouring anonymous mapping of equal flags, e.g.
 * the recorder's rings, which are MAP_NORESERVE too) has its resident bytes
 * counted exactly, page by page with mincore(2) over the overlap, rather
 * than in proportion to the overlap: a 1 MiB ring that is fully resident
 * merged with a 64 KiB heap mapping would otherwise add up to ~1 MiB to the
 * heap. Its AnonHugePages are still shared in proportion (mincore does
 * not tell huge pages apart).
 */
#include "malloc/mstats.h"

#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common/error.h"
#include "common/msg.h"

typedef struct {
    const as_osmem_t *os;
    uintptr_t start, end;   /* current VMA */
    uint64_t overlap_bytes; /* of the current VMA in os's ranges */
    uint64_t resident_bytes, huge_bytes;
} smaps_acc_t;

/* Resident bytes of [lo, hi) (page aligned, mapped) by mincore. */
static uint64_t mincore_bytes(uintptr_t lo, uintptr_t hi, size_t page)
{
    static unsigned char vec[4096];
    uint64_t bytes = 0;
    while (lo < hi) {
        size_t n = (size_t)((hi - lo) / page);
        if (n > sizeof vec) n = sizeof vec;
        if (mincore((void *)lo, n * page, vec) != 0) return bytes;
        for (size_t i = 0; i < n; i++)
            bytes += (vec[i] & 1) * (uint64_t)page;
        lo += n * page;
    }
    return bytes;
}

/* Resident bytes of the part of [start, end) inside os's ranges. */
static uint64_t overlap_resident(const as_osmem_t *os, uintptr_t start,
                                 uintptr_t end)
{
    uint64_t bytes = 0;
    size_t lo_j = 0, hi_j = os->n_ranges; /* first range ending after start */
    while (lo_j < hi_j) {
        size_t mid = lo_j + (hi_j - lo_j) / 2;
        if (os->ranges[mid].end <= start)
            lo_j = mid + 1;
        else
            hi_j = mid;
    }
    for (size_t j = lo_j; j < os->n_ranges && os->ranges[j].start < end; j++) {
        uintptr_t lo =
            os->ranges[j].start > start ? os->ranges[j].start : start;
        uintptr_t hi = os->ranges[j].end < end ? os->ranges[j].end : end;
        if (lo < hi) bytes += mincore_bytes(lo, hi, os->page_bytes);
    }
    return bytes;
}

static int hexval(char ch)
{
    if (ch >= '0' && ch <= '9') return ch - '0';
    if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
    return -1;
}

static uint64_t parse_dec(const char *s, const char *e)
{
    uint64_t v = 0;
    while (s < e && *s == ' ')
        s++;
    while (s < e && *s >= '0' && *s <= '9')
        v = v * 10 + (uint64_t)(*s++ - '0');
    return v;
}

/* Scale kB of the current VMA by its overlap with our ranges. */
static uint64_t share(const smaps_acc_t *a, uint64_t kb)
{
    uint64_t len = a->end - a->start;
    if (!a->overlap_bytes || !len) return 0;
    if (a->overlap_bytes == len) return kb * 1024;
    return (uint64_t)((double)kb * 1024.0 * (double)a->overlap_bytes /
                      (double)len);
}

static void smaps_line(smaps_acc_t *a, const char *s, const char *e)
{
    if (hexval(s[0]) >= 0) { /* "start-end perms ..." or a field? */
        uintptr_t lo = 0, hi = 0;
        const char *p = s;
        int d;
        while (p < e && (d = hexval(*p)) >= 0)
            lo = lo * 16 + (uintptr_t)d, p++;
        if (p < e && *p == '-') {
            p++;
            while (p < e && (d = hexval(*p)) >= 0)
                hi = hi * 16 + (uintptr_t)d, p++;
            a->start = lo;
            a->end = hi;
            a->overlap_bytes = as_osmem_overlap(a->os, lo, hi);
            return;
        }
    }
    if (e - s > 4 && memcmp(s, "Rss:", 4) == 0)
        a->resident_bytes +=
            a->overlap_bytes && a->overlap_bytes != a->end - a->start
                ? overlap_resident(a->os, a->start, a->end)
                : share(a, parse_dec(s + 4, e));
    else if (e - s > 14 && memcmp(s, "AnonHugePages:", 14) == 0)
        a->huge_bytes += share(a, parse_dec(s + 14, e));
}

/* Read smaps into acc. @return 0 or AS_EIO. */
static int smaps_read(smaps_acc_t *acc)
{
    static char buf[1 << 16];
    int fd = open("/proc/self/smaps", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return AS_EIO;
    size_t have = 0;
    for (;;) {
        ssize_t n = read(fd, buf + have, sizeof buf - have);
        if (n < 0) {
            close(fd);
            return AS_EIO;
        }
        have += (size_t)n;
        char *s = buf, *end = buf + have, *nl;
        while ((nl = memchr(s, '\n', (size_t)(end - s)))) {
            smaps_line(acc, s, nl);
            s = nl + 1;
        }
        have = (size_t)(end - s);
        if (s == buf && have == sizeof buf) have = 0; /* absurd line: drop */
        memmove(buf, s, have);
        if (n == 0) break;
    }
    close(fd);
    return AS_OK;
}

void as_mstats_sample(as_mstats_t *s, const as_osmem_t *os, uint64_t now_ns,
                      uint64_t live_bytes)
{
    smaps_acc_t acc = {.os = os};
    if (smaps_read(&acc) != AS_OK) s->smaps_failed = 1;
    if (s->n_samples == 0) {
        s->t0_ns = now_ns;
    } else {
        double d = (double)(now_ns - s->last_t_ns);
        s->resident_ns += (double)s->last_resident_bytes * d;
        s->huge_ns += (double)s->last_huge_bytes * d;
        s->live_ns += (double)s->last_live_bytes * d;
    }
    s->last_t_ns = now_ns;
    s->last_resident_bytes = acc.resident_bytes;
    s->last_huge_bytes = acc.huge_bytes;
    s->last_live_bytes = live_bytes;
    if (acc.resident_bytes > s->peak_resident_bytes)
        s->peak_resident_bytes = acc.resident_bytes;
    if (acc.huge_bytes > s->peak_huge_bytes)
        s->peak_huge_bytes = acc.huge_bytes;
    s->n_samples++;
}

void as_mstats_json_u64(as_msg_t *m, const char *key, uint64_t v, int last)
{
    as_msg_str(m, "    \"");
    as_msg_str(m, key);
    as_msg_str(m, "\": ");
    as_msg_u64(m, v, 0);
    as_msg_str(m, last ? "\n" : ",\n");
}

/* A ratio in [0, 1] with six decimals (no printf). */
static void json_ratio(as_msg_t *m, const char *key, double num, double den)
{
    uint64_t micro = den > 0 ? (uint64_t)(num / den * 1e6 + 0.5) : 0;
    char frac[8];
    uint64_t f = micro % 1000000;
    for (int i = 5; i >= 0; i--, f /= 10)
        frac[i] = (char)('0' + f % 10);
    frac[6] = 0;
    as_msg_str(m, "    \"");
    as_msg_str(m, key);
    as_msg_str(m, "\": ");
    as_msg_u64(m, micro / 1000000, 0);
    as_msg_str(m, ".");
    as_msg_str(m, frac);
    as_msg_str(m, ",\n");
}

void as_mstats_stat(void *arg, const char *name, double value)
{
    as_mstats_stat_as(arg, "policy.", name, value);
}

void as_mstats_stat_as(as_msg_t *m, const char *prefix, const char *name,
                       double value)
{
    as_msg_str(m, m->len ? ", \"" : "\"");
    as_msg_str(m, prefix);
    as_msg_str(m, name); /* names are identifiers: nothing to escape */
    as_msg_str(m, "\": ");
    if (value != value) value = 0; /* NaN is not JSON */
    if (value < 0) {
        as_msg_str(m, "-");
        value = -value;
    }
    if (value >= 1.8e19) value = 1.8e19;
    uint64_t whole = (uint64_t)value;
    as_msg_u64(m, whole, 0);
    uint64_t micro = (uint64_t)((value - (double)whole) * 1e6 + 0.5);
    if (micro > 0 && micro < 1000000) {
        char frac[8];
        for (int i = 5; i >= 0; i--, micro /= 10)
            frac[i] = (char)('0' + micro % 10);
        frac[6] = 0;
        as_msg_str(m, ".");
        as_msg_str(m, frac);
    }
}

int as_mstats_write(const as_mstats_t *s, const char *path, const char *policy,
                    const char *stats, const as_osmem_t *os,
                    const as_stats_counters_t *c, const char *extra)
{
    static char buf[1 << 16];
    as_msg_t m;
    as_msg_init(&m, buf, sizeof buf);
    double dur = (double)(s->last_t_ns - s->t0_ns);
    double mean_res =
        dur > 0 ? s->resident_ns / dur : (double)s->last_resident_bytes;
    double mean_huge = dur > 0 ? s->huge_ns / dur : (double)s->last_huge_bytes;
    double mean_live = dur > 0 ? s->live_ns / dur : (double)s->last_live_bytes;
    as_msg_str(&m, "{\n  \"policy\": \"");
    as_msg_str(&m, policy); /* registry names are plain identifiers */
    as_msg_str(&m, "\",\n  \"samples\": ");
    as_msg_u64(&m, s->n_samples, 0);
    as_msg_str(&m, ",\n  \"smaps_readable\": ");
    as_msg_str(&m, s->smaps_failed ? "false" : "true");
    if (stats && *stats) {
        as_msg_str(&m, ",\n  \"stats\": {");
        as_msg_str(&m, stats);
        as_msg_str(&m, "}");
    }
    as_msg_str(&m, ",\n");
    if (extra) as_msg_str(&m, extra);
    as_msg_str(&m, "  \"metrics\": {\n");
    as_mstats_json_u64(&m, "peak_live_bytes", c->peak_live_requested_bytes, 0);
    as_mstats_json_u64(&m, "peak_live_objects", c->peak_live_blocks, 0);
    as_mstats_json_u64(&m, "peak_allocated_bytes", c->peak_live_usable_bytes,
                       0);
    as_mstats_json_u64(&m, "mean_live_bytes", (uint64_t)(mean_live + 0.5), 0);
    as_mstats_json_u64(&m, "peak_resident_bytes", s->peak_resident_bytes, 0);
    as_mstats_json_u64(&m, "mean_resident_bytes", (uint64_t)(mean_res + 0.5),
                       0);
    as_mstats_json_u64(&m, "peak_huge_bytes", s->peak_huge_bytes, 0);
    as_mstats_json_u64(&m, "mean_huge_bytes", (uint64_t)(mean_huge + 0.5), 0);
    json_ratio(&m, "hugepage_coverage_mean", mean_huge, mean_res);
    as_mstats_json_u64(&m, "peak_mapped_bytes", os->peak_mapped_bytes, 0);
    as_mstats_json_u64(&m, "peak_metadata_bytes",
                       os->meta_arena.peak_live_bytes, 0);
    as_mstats_json_u64(&m, "resident_bytes", s->last_resident_bytes, 0);
    as_mstats_json_u64(&m, "metadata_bytes", os->meta_arena.live_bytes, 0);
    as_mstats_json_u64(&m, "ticks", s->n_ticks, 0);
    as_mstats_json_u64(&m, "allocs", c->allocs, 0);
    as_mstats_json_u64(&m, "frees", c->frees, 0);
    as_mstats_json_u64(&m, "duration_ns", s->last_t_ns - s->t0_ns, 1);
    as_msg_str(&m, "  }\n}\n");
    if (m.len + 1 >= m.cap) return AS_EIO; /* cut: never write half a file */
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return AS_EIO;
    size_t off = 0;
    while (off < m.len) {
        ssize_t n = write(fd, buf + off, m.len - off);
        if (n <= 0) {
            close(fd);
            return AS_EIO;
        }
        off += (size_t)n;
    }
    return close(fd) == 0 ? AS_OK : AS_EIO;
}

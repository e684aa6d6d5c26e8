/* text.c - the `text` importer: allocsim's line-oriented text form back
 * into a trace.
 *
 * It parses exactly the spelling traces/textform.c produces (see
 * textform.h and docs/trace-format.md), plus blank lines and `#` comments,
 * and checks every line before handing it to the writer: known keyword,
 * field count, numbers in range, times never decreasing, allocation ids
 * dense and in order, frees and write reports naming ids already
 * allocated, stacks defined before use. Any failure is reported as "FILE:LINE: expected ..., found
 * ..." with AS_EFORMAT; it never prints and never writes past the first bad
 * line (the caller aborts the writer, so no output file is left).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/escape.h"
#include "traces/codec.h"
#include "traces/textform.h"
#include "traces/import/import.h"

typedef struct {
    const char *s;
    size_t n;
} tok_t;

typedef struct {
    const char *path;
    unsigned long line;
    char *err;
    size_t errcap;
    uint64_t next_id, last_t;
    uint32_t max_stack;
} ctx_t;

/* bad: "FILE:LINE: " and the message, which may quote bytes of the line:
 * they are passed through as_escape. @return AS_EFORMAT. */
static int bad(ctx_t *c, const char *fmt, ...)
{
    char what[256], safe[4 * sizeof what];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    size_t wl = n < 0 ? 0 : (size_t)n < sizeof what ? (size_t)n : strlen(what);
    as_escape(safe, sizeof safe, what, wl);
    snprintf(c->err, c->errcap, "%s:%lu: %s", c->path, c->line, safe);
    return AS_EFORMAT;
}

/* Strict decimal (or, with hex, "0x" + hex digits) into *v. @return 0/-1. */
static int parse_num(const tok_t *t, int hex, uint64_t max, uint64_t *v)
{
    const char *s = t->s;
    size_t n = t->n, i = 0;
    unsigned base = 10;
    if (hex) {
        if (n < 3 || s[0] != '0' || (s[1] != 'x' && s[1] != 'X')) return -1;
        i = 2;
        base = 16;
    }
    if (i >= n || n - i > 20) return -1;
    uint64_t x = 0;
    for (; i < n; i++) {
        unsigned d;
        char ch = s[i];
        if (ch >= '0' && ch <= '9')
            d = (unsigned)(ch - '0');
        else if (base == 16 && ch >= 'a' && ch <= 'f')
            d = (unsigned)(ch - 'a' + 10);
        else if (base == 16 && ch >= 'A' && ch <= 'F')
            d = (unsigned)(ch - 'A' + 10);
        else
            return -1;
        if (x > (UINT64_MAX - d) / base) return -1;
        x = x * base + d;
    }
    if (x > max) return -1;
    *v = x;
    return 0;
}

#define NUM(i, hex, max, out, what)                                            \
    do {                                                                       \
        if (parse_num(&tk[i], hex, max, &(out)))                               \
            return bad(c, "expected %s, found '%.*s'", what,                   \
                       (int)(tk[i].n > 40 ? 40 : tk[i].n), tk[i].s);           \
    } while (0)

static int writer_err(ctx_t *c, as_trace_writer_t *w, int rc)
{
    int n = snprintf(c->err, c->errcap, "%s:%lu: %s", c->path, c->line,
                     as_trace_writer_error(w));
    (void)n;
    return rc;
}

/* One event line: a / f / r. */
static int do_event(ctx_t *c, as_trace_writer_t *w, const tok_t *tk, size_t nt)
{
    char k = tk[0].s[0];
    size_t want = k == 'a' ? 8 : k == 'f' ? 5 : 9;
    /* a and r may end with the stack height */
    if (nt != want && !(k != 'f' && nt == want + 1))
        return bad(c, "expected %zu fields after '%c' (%s), found %zu",
                   want - 1, k,
                   k == 'a'   ? "t_ns thread cpu id size align stack [height]"
                   : k == 'f' ? "t_ns thread cpu id"
                              : "t_ns thread cpu old new size align stack "
                                "[height]",
                   nt - 1);
    as_event_t e = {0};
    uint64_t v;
    e.kind = k == 'a' ? AS_EV_ALLOC : k == 'f' ? AS_EV_FREE : AS_EV_REALLOC;
    NUM(1, 0, UINT64_MAX, e.t_ns, "a time in ns (decimal)");
    NUM(2, 0, UINT32_MAX, v, "a thread number (32-bit decimal)");
    e.thread = (uint32_t)v;
    NUM(3, 0, UINT32_MAX, v, "a cpu number (32-bit decimal)");
    e.cpu = (uint32_t)v;
    if (e.t_ns < c->last_t)
        return bad(c,
                   "expected t_ns >= %llu (times never decrease), found "
                   "%llu",
                   (unsigned long long)c->last_t, (unsigned long long)e.t_ns);
    uint64_t id;
    NUM(4, 0, UINT64_MAX, id, "an object id (decimal)");
    if (k == 'a') {
        if (id != c->next_id)
            return bad(c,
                       "expected id %llu (ids are dense, given in order "
                       "of allocation), found %llu",
                       (unsigned long long)c->next_id, (unsigned long long)id);
    } else if (id >= c->next_id) {
        return bad(c,
                   "expected an id below %llu (the ids allocated so far), "
                   "found %llu",
                   (unsigned long long)c->next_id, (unsigned long long)id);
    }
    e.object = id;
    size_t f = 5;
    if (k == 'r') {
        NUM(5, 0, UINT64_MAX, v, "the new object id (decimal)");
        if (v != c->next_id)
            return bad(c,
                       "expected new id %llu (ids are dense, given in "
                       "order of allocation), found %llu",
                       (unsigned long long)c->next_id, (unsigned long long)v);
        f = 6;
    }
    if (k != 'f') {
        NUM(f, 0, UINT64_MAX, e.size, "a size in bytes (decimal)");
        NUM(f + 1, 0, UINT64_MAX, e.align,
            "an alignment (decimal, 0 = "
            "default)");
        NUM(f + 2, 0, UINT32_MAX, v, "a stack id (32-bit decimal)");
        if (v > c->max_stack)
            return bad(c,
                       "expected a stack id defined earlier (0..%u), found "
                       "%llu",
                       c->max_stack, (unsigned long long)v);
        e.stack = (uint32_t)v;
        if (nt == want + 1)
            NUM(f + 3, 0, UINT64_MAX, e.stack_height,
                "a stack height in bytes (decimal)");
    }
    int rc = as_trace_writer_event(w, &e);
    if (rc) return writer_err(c, w, rc);
    if (k != 'f') c->next_id++;
    c->last_t = e.t_ns;
    return 0;
}

/* The time of a sample or write report line (field 1) into *t: a number
 * not below the time of the line before. @return 0 or AS_EFORMAT. */
static int take_time(ctx_t *c, const tok_t *tk, uint64_t *t)
{
    NUM(1, 0, UINT64_MAX, *t, "a time in ns (decimal)");
    if (*t < c->last_t)
        return bad(c,
                   "expected t_ns >= %llu (times never decrease), found "
                   "%llu",
                   (unsigned long long)c->last_t, (unsigned long long)*t);
    return 0;
}

/* A real-memory sample line: s T_NS RSS HUGE ("-" = not measured),
 * optionally followed by "mi" and the ten mallinfo fields. */
static int do_sample(ctx_t *c, as_trace_writer_t *w, const tok_t *tk, size_t nt)
{
    if (nt != 4 && nt != 5 + AS_MALLINFO_FIELDS)
        return bad(c,
                   "expected 3 fields after 's' (t_ns rss_bytes "
                   "anon_huge_bytes), or 3 then 'mi' and %d mallinfo "
                   "fields, found %zu",
                   AS_MALLINFO_FIELDS, nt - 1);
    if (nt > 4 && !(tk[4].n == 2 && tk[4].s[0] == 'm' && tk[4].s[1] == 'i'))
        return bad(c, "expected 'mi' after the sample's 3 fields, found '%.*s'",
                   (int)(tk[4].n > 40 ? 40 : tk[4].n), tk[4].s);
    as_mem_sample_t m = {0};
    int rc = take_time(c, tk, &m.t_ns);
    if (rc) return rc;
    if (!(tk[2].n == 1 && tk[2].s[0] == '-')) {
        NUM(2, 0, UINT64_MAX, m.rss_bytes, "RSS bytes (decimal) or -");
        m.has |= AS_SAMPLE_HAS_RSS;
    }
    if (!(tk[3].n == 1 && tk[3].s[0] == '-')) {
        NUM(3, 0, UINT64_MAX, m.anon_huge_bytes,
            "anonymous huge-page bytes (decimal) or -");
        m.has |= AS_SAMPLE_HAS_HUGE;
    }
    if (nt > 4) {
        for (int i = 0; i < AS_MALLINFO_FIELDS; i++)
            NUM(5 + i, 0, UINT64_MAX, m.mallinfo.f[i],
                "a mallinfo field (decimal)");
        m.has |= AS_SAMPLE_HAS_MALLINFO;
    }
    rc = as_trace_writer_sample(w, &m);
    if (rc) return writer_err(c, w, rc);
    c->last_t = m.t_ns;
    return 0;
}

/* A write report line: w T_NS OBJECT OFFSET BYTES (format 3 only; the
 * writer refuses it in a version-2 output). */
static int do_write(ctx_t *c, as_trace_writer_t *w, const tok_t *tk, size_t nt)
{
    if (nt != 5)
        return bad(c,
                   "expected 4 fields after 'w' (t_ns object offset bytes), "
                   "found %zu",
                   nt - 1);
    as_write_t wr = {0};
    int rc = take_time(c, tk, &wr.t_ns);
    if (rc) return rc;
    NUM(2, 0, UINT64_MAX, wr.object, "an object id (decimal)");
    if (wr.object >= c->next_id)
        return bad(c,
                   "expected an object id below %llu (one allocated "
                   "earlier), found %llu",
                   (unsigned long long)c->next_id,
                   (unsigned long long)wr.object);
    NUM(3, 0, UINT64_MAX, wr.offset, "an offset in bytes (decimal)");
    NUM(4, 0, UINT64_MAX, wr.bytes, "a byte count (decimal)");
    if (wr.bytes == 0) return bad(c, "expected a byte count >= 1, found 0");
    if (wr.offset + wr.bytes < wr.offset)
        return bad(c, "expected offset + bytes below 2^64, found %llu + %llu",
                   (unsigned long long)wr.offset, (unsigned long long)wr.bytes);
    rc = as_trace_writer_write(w, &wr);
    if (rc) return writer_err(c, w, rc);
    c->last_t = wr.t_ns;
    return 0;
}

static int do_line(ctx_t *c, as_trace_writer_t *w, tok_t *tk, size_t nt,
                   char *scratch, int *is_event)
{
    const tok_t *k = &tk[0];
    uint64_t v;
    *is_event = 0;
    if (k->n == 1 && (k->s[0] == 'a' || k->s[0] == 'f' || k->s[0] == 'r')) {
        *is_event = 1;
        return do_event(c, w, tk, nt);
    }
    if (k->n == 1 && k->s[0] == 's') return do_sample(c, w, tk, nt);
    if (k->n == 1 && k->s[0] == 'w') return do_write(c, w, tk, nt);
    if (k->n == 4 && memcmp(k->s, "meta", 4) == 0) {
        if (nt != 3)
            return bad(c,
                       "expected 2 fields after 'meta' (key value), found "
                       "%zu",
                       nt - 1);
        char *key = scratch, *val;
        long kl = as_text_unescape(tk[1].s, tk[1].n, key);
        if (kl < 0)
            return bad(c,
                       "expected an escaped key (%%XX), found "
                       "'%.*s'",
                       (int)tk[1].n, tk[1].s);
        val = key + kl + 1;
        if (as_text_unescape(tk[2].s, tk[2].n, val) < 0)
            return bad(c, "expected an escaped value (%%XX), found '%.*s'",
                       (int)(tk[2].n > 40 ? 40 : tk[2].n), tk[2].s);
        int rc = as_trace_writer_meta(w, key, val);
        return rc ? writer_err(c, w, rc) : 0;
    }
    if (k->n == 5 && memcmp(k->s, "frame", 5) == 0) {
        if (nt != 6)
            return bad(c,
                       "expected 5 fields after 'frame' (id pc offset "
                       "module symbol), found %zu",
                       nt - 1);
        as_frame_t f;
        NUM(1, 0, UINT32_MAX, v, "a frame id (32-bit decimal)");
        if (v == 0) return bad(c, "expected a frame id >= 1, found 0");
        NUM(2, 1, UINT64_MAX, f.pc, "a pc (0x hex)");
        NUM(3, 1, UINT64_MAX, f.offset, "an offset (0x hex)");
        char *mod = scratch, *sym;
        long ml = as_text_unescape(tk[4].s, tk[4].n, mod);
        if (ml < 0)
            return bad(c,
                       "expected an escaped module (%%XX), found "
                       "'%.*s'",
                       (int)(tk[4].n > 40 ? 40 : tk[4].n), tk[4].s);
        sym = mod + ml + 1;
        if (as_text_unescape(tk[5].s, tk[5].n, sym) < 0)
            return bad(c, "expected an escaped symbol (%%XX), found '%.*s'",
                       (int)(tk[5].n > 40 ? 40 : tk[5].n), tk[5].s);
        f.module = mod;
        f.symbol = sym;
        int rc = as_trace_writer_frame(w, (uint32_t)v, &f);
        return rc ? writer_err(c, w, rc) : 0;
    }
    if (k->n == 5 && memcmp(k->s, "stack", 5) == 0) {
        if (nt < 2) return bad(c, "expected a stack id after 'stack'");
        NUM(1, 0, UINT32_MAX, v, "a stack id (32-bit decimal)");
        if (v == 0) return bad(c, "expected a stack id >= 1, found 0");
        if (nt - 2 > AS_TRACE_MAX_DEPTH)
            return bad(c, "expected at most %u frames, found %zu",
                       AS_TRACE_MAX_DEPTH, nt - 2);
        uint32_t *fr = malloc((nt - 1) * sizeof *fr);
        if (!fr) return AS_ENOMEM;
        for (size_t i = 2; i < nt; i++) {
            uint64_t x;
            if (parse_num(&tk[i], 0, UINT32_MAX, &x)) {
                free(fr);
                return bad(c,
                           "expected a frame id (32-bit decimal), found "
                           "'%.*s'",
                           (int)(tk[i].n > 40 ? 40 : tk[i].n), tk[i].s);
            }
            fr[i - 2] = (uint32_t)x;
        }
        int rc = as_trace_writer_stack(w, (uint32_t)v, fr, (uint32_t)(nt - 2));
        free(fr);
        if (rc) return writer_err(c, w, rc);
        if (v > c->max_stack) c->max_stack = (uint32_t)v;
        return 0;
    }
    return bad(c,
               "expected a record (meta, frame, stack, a, f, r, s, w) or a "
               "# comment, found '%.*s'",
               (int)(k->n > 40 ? 40 : k->n), k->s);
}

int as_import_text(const char *in_path, as_trace_writer_t *w,
                   as_import_opts_t *opts, char *err, size_t errcap)
{
    ctx_t c = {in_path, 0, err, errcap, 0, 0, 0};
    FILE *f = fopen(in_path, "r");
    if (!f) {
        snprintf(err, errcap, "%s: cannot open: %s", in_path, strerror(errno));
        return AS_EIO;
    }
    char *line = NULL, *scratch = NULL;
    size_t cap = 0, scap = 0, tcap = 0;
    tok_t *tk = NULL;
    uint64_t events = 0, max = opts ? opts->max_events : 0;
    ssize_t len;
    int rc = 0;
    while ((len = getline(&line, &cap, f)) >= 0) {
        c.line++;
        size_t n = (size_t)len;
        if (memchr(line, 0, n)) {
            rc = bad(&c, "expected text, found a NUL byte");
            break;
        }
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            n--;
        if (n + 2 > scap) {
            char *s = realloc(scratch, n + 2);
            if (!s) {
                rc = AS_ENOMEM;
                break;
            }
            scratch = s;
            scap = n + 2;
        }
        size_t nt = 0, i = 0;
        while (i < n && (line[i] == ' ' || line[i] == '\t'))
            i++;
        if (i == n || line[i] == '#') continue;
        while (i < n) {
            size_t s = i;
            while (i < n && line[i] != ' ' && line[i] != '\t')
                i++;
            if (nt == tcap) {
                size_t nc = tcap ? 2 * tcap : 16;
                tok_t *t = realloc(tk, nc * sizeof *t);
                if (!t) {
                    rc = AS_ENOMEM;
                    break;
                }
                tk = t;
                tcap = nc;
            }
            tk[nt].s = line + s;
            tk[nt].n = i - s;
            nt++;
            while (i < n && (line[i] == ' ' || line[i] == '\t'))
                i++;
        }
        if (rc) break;
        int is_event;
        rc = do_line(&c, w, tk, nt, scratch, &is_event);
        if (rc) break;
        if (is_event && ++events == max) break;
    }
    if (!rc && ferror(f)) {
        snprintf(err, errcap, "%s:%lu: read failed: %s", in_path, c.line,
                 strerror(errno));
        rc = AS_EIO;
    }
    if (rc == AS_ENOMEM) snprintf(err, errcap, "%s: out of memory", in_path);
    free(tk);
    free(line);
    free(scratch);
    fclose(f);
    return rc;
}

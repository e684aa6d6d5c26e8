/* mtrace.c - import glibc mtrace() output (MALLOC_TRACE) into a trace.
 *
 * glibc writes one line per call, optionally prefixed by the caller:
 *   @ CALLER + PTR SIZE     malloc/calloc/memalign/realloc(NULL, n)
 *   @ CALLER - PTR          free, realloc(p, 0)
 *   @ CALLER < OLD          realloc: the old block ...
 *   @ CALLER > NEW SIZE     ... and the new one (one realloc event)
 *   @ CALLER ! OLD SIZE     realloc failed (the old block stays)
 *   = Start / = End         brackets
 * CALLER is "module:(symbol+0xoff)[0xaddr]", "module:[0xoffset]" or
 * "[0xaddr]"; each distinct caller becomes a one-frame stack. Numbers are
 * 0x hex. mtrace has no clock, threads, CPUs or alignments: event i gets
 * t = i ns, thread 0, CPU 0, alignment 0 (docs/importers.md).
 *
 * Library code: never prints; a malformed line is AS_EFORMAT with
 * "FILE:LINE: expected ..." in err.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "traces/import/import.h"
#include "traces/import/lines.h"
#include "traces/import/ptrmap.h"

typedef struct {
    const char *path;
    as_trace_writer_t *w;
    const as_import_opts_t *opts;
    char *err;
    size_t errcap;
    uint64_t lineno, events, unmatched;
    uint64_t null_allocs; /* '+ (nil)': failed allocations, not imported */
    as_ptrmap_t live;     /* pointer -> object id */
    char **callers;       /* caller text of stack id i+1 */
    uint32_t *same_hash;  /* stack id of the next caller with the same hash
                             as stack id i+1, 0 = none: a chain per hash, so
                             colliding texts cost a walk over the colliders
                             only, never over every caller */
    size_t ncallers, callers_cap;
    as_ptrmap_t caller_ix; /* hash of caller text -> newest stack id */
    int have_old;          /* a '<' waits for its '>' */
    uint64_t old_ptr, old_obj;
    int old_known;
    int stop;
} mt_t;

/* bad: "PATH:LINE: expected ..." for the line being read. */
#define bad(st, ...)                                                           \
    as_lines_error((st)->err, (st)->errcap, (st)->path, (st)->lineno,          \
                   __VA_ARGS__)

static int wbad(mt_t *m, int rc)
{
    snprintf(m->err, m->errcap, "%s", as_trace_writer_error(m->w));
    return rc;
}

/* hex_digits: parse the hex digits at p into *v, setting *end after them.
 * @return 1, 0 when there is no digit, -1 when the value needs more than
 * 64 bits. */
static int hex_digits(const char *p, const char **end, uint64_t *v)
{
    uint64_t x = 0;
    const char *q = p;
    for (;; q++) {
        unsigned d;
        if (*q >= '0' && *q <= '9')
            d = (unsigned)(*q - '0');
        else if (*q >= 'a' && *q <= 'f')
            d = (unsigned)(*q - 'a' + 10);
        else if (*q >= 'A' && *q <= 'F')
            d = (unsigned)(*q - 'A' + 10);
        else
            break;
        if (x >> 60) return -1;
        x = x << 4 | d;
    }
    *end = q;
    *v = x;
    return q > p;
}

/* num: "0x..." hex (glibc's %p and %#lx), or "(nil)" as 0. @return 1, 0
 * (not a number), -1 (more than 64 bits). */
static int num(char **s, uint64_t *v)
{
    char *p = *s;
    while (*p == ' ')
        p++;
    if (strncmp(p, "(nil)", 5) == 0) {
        *v = 0;
        *s = p + 5;
        return 1;
    }
    if (p[0] != '0' || (p[1] != 'x' && p[1] != 'X')) return 0;
    const char *end;
    int r = hex_digits(p + 2, &end, v);
    if (r <= 0) return r;
    if (*end && *end != ' ') return 0;
    *s = (char *)end;
    return 1;
}

/* NUM_OR: parse the fields of one record; a value over 64 bits is its own
 * error, anything else malformed says what the record looks like. */
#define NUM_OR(m, p, v, what)                                                  \
    do {                                                                       \
        int r_ = num(&(p), &(v));                                              \
        if (r_ < 0) return bad(m, "a hex number below 2^64 in %s", what);      \
        if (r_ == 0) return bad(m, "%s", what);                                \
    } while (0)

static int at_end(const char *s)
{
    while (*s == ' ')
        s++;
    return *s == 0;
}

/* stack_of: the one-frame stack of caller text `c` (defined on first use). */
static int stack_of(mt_t *m, const char *c, uint32_t *out)
{
    uint64_t key = 1469598103934665603ull, sid;
    for (const char *q = c; *q; q++)
        key = (key ^ (unsigned char)*q) * 1099511628211ull;
    uint64_t head = 0;
    if (as_ptrmap_get(&m->caller_ix, key, &head))
        for (sid = head; sid != 0; sid = m->same_hash[sid - 1])
            if (strcmp(m->callers[sid - 1], c) == 0) {
                *out = (uint32_t)sid;
                return AS_OK;
            }
    /* parse module:(symbol+off)[addr] | module:[off] | [addr] */
    as_frame_t f = {0, 0, "", ""};
    char module[1024] = "", symbol[1024] = "";
    const char *lb = strrchr(c, '[');
    if (!lb || c[strlen(c) - 1] != ']')
        return bad(m, "a caller 'module:[0xoff]' or '[0xaddr]', found '%s'", c);
    const char *e;
    const char *hx = lb + 1;
    if (hx[0] == '0' && (hx[1] == 'x' || hx[1] == 'X')) hx += 2;
    uint64_t v;
    if (hex_digits(hx, &e, &v) != 1 || *e != ']')
        return bad(m, "a hex address below 2^64 in the caller's [ ]");
    const char *colon = memchr(c, ':', (size_t)(lb - c));
    const char *paren = colon && colon[1] == '(' ? colon + 1 : NULL;
    if (colon) snprintf(module, sizeof module, "%.*s", (int)(colon - c), c);
    if (paren) {
        const char *plus = strrchr(paren, '+'), *close = strrchr(paren, ')');
        const char *endsym = plus && plus < close ? plus : close;
        if (!close || close > lb) return bad(m, "'(symbol+0xoff)' in caller");
        snprintf(symbol, sizeof symbol, "%.*s", (int)(endsym - paren - 1),
                 paren + 1);
        f.pc = v;
    } else if (colon) {
        f.pc = v; /* module-relative: glibc printed the offset */
        f.offset = v;
    } else {
        f.pc = v;
    }
    f.module = module;
    f.symbol = symbol;
    uint32_t id = (uint32_t)m->ncallers + 1;
    int rc;
    if ((rc = as_trace_writer_frame(m->w, id, &f))) return wbad(m, rc);
    if ((rc = as_trace_writer_stack(m->w, id, &id, 1))) return wbad(m, rc);
    if (m->ncallers == m->callers_cap) {
        size_t nc = m->callers_cap ? 2 * m->callers_cap : 64;
        char **n = realloc(m->callers, nc * sizeof *n);
        if (!n) return AS_ENOMEM;
        m->callers = n;
        uint32_t *sh = realloc(m->same_hash, nc * sizeof *sh);
        if (!sh) return AS_ENOMEM;
        m->same_hash = sh;
        m->callers_cap = nc;
    }
    if (!(m->callers[m->ncallers] = strdup(c))) return AS_ENOMEM;
    m->same_hash[m->ncallers] = (uint32_t)head;
    m->ncallers++;
    if ((rc = as_ptrmap_put(&m->caller_ix, key, id)) < 0) return rc;
    *out = id;
    return AS_OK;
}

static int emit(mt_t *m, as_event_t *ev)
{
    ev->t_ns = m->events;
    int rc = as_trace_writer_event(m->w, ev);
    if (rc) return wbad(m, rc);
    m->events++;
    if (m->opts && m->opts->max_events && m->events >= m->opts->max_events)
        m->stop = 1;
    return AS_OK;
}

static int line(mt_t *m, char *s)
{
    int rc;
    uint32_t stack = 0;
    if (s[0] == 0) return AS_OK;
    if (s[0] == '=') return AS_OK; /* = Start, = End */
    if (s[0] == '@') {
        if (s[1] != ' ') return bad(m, "'@ CALLER' with a space after '@'");
        char *c = s + 2, *sp = strchr(c, ' ');
        if (!sp) return bad(m, "an operation (+ - < > !) after the caller");
        *sp = 0;
        if ((rc = stack_of(m, c, &stack))) return rc;
        s = sp + 1;
    }
    char op = s[0];
    char *p = s + 1;
    uint64_t ptr, size;
    if (op == 0 || (p[0] != ' '))
        return bad(m, "one of + - < > ! then a space");
    if (m->have_old && op != '>')
        return bad(m, "'>' (the new block) after the realloc's '<'");
    as_event_t ev = {0};
    switch (op) {
    case '+':
        NUM_OR(m, p, ptr, "'+ 0xPTR 0xSIZE'");
        NUM_OR(m, p, size, "'+ 0xPTR 0xSIZE'");
        if (!at_end(p)) return bad(m, "'+ 0xPTR 0xSIZE'");
        if (ptr == 0) { /* the allocation failed: nothing to import */
            m->null_allocs++;
            return AS_OK;
        }
        ev.kind = AS_EV_ALLOC;
        ev.size = size;
        ev.stack = stack;
        if ((rc = emit(m, &ev))) return rc;
        rc = as_ptrmap_put(&m->live, ptr, ev.object);
        return rc < 0 ? rc : AS_OK;
    case '-': {
        NUM_OR(m, p, ptr, "'- 0xPTR'");
        if (!at_end(p)) return bad(m, "'- 0xPTR'");
        if (ptr == 0) return AS_OK; /* free(NULL) is a no-op */
        uint64_t obj;
        if (!as_ptrmap_del(&m->live, ptr, &obj)) {
            m->unmatched++;
            return AS_OK;
        }
        ev.kind = AS_EV_FREE;
        ev.object = obj;
        return emit(m, &ev);
    }
    case '<':
        NUM_OR(m, p, ptr, "'< 0xOLDPTR'");
        if (!at_end(p)) return bad(m, "'< 0xOLDPTR'");
        m->have_old = 1;
        m->old_ptr = ptr;
        m->old_known = as_ptrmap_del(&m->live, ptr, &m->old_obj);
        if (!m->old_known) m->unmatched++;
        return AS_OK;
    case '>':
        if (!m->have_old) return bad(m, "a '<' line before '>'");
        NUM_OR(m, p, ptr, "'> 0xNEWPTR 0xSIZE'");
        NUM_OR(m, p, size, "'> 0xNEWPTR 0xSIZE'");
        if (!at_end(p)) return bad(m, "'> 0xNEWPTR 0xSIZE'");
        m->have_old = 0;
        ev.size = size;
        ev.stack = stack;
        if (m->old_known) {
            ev.kind = AS_EV_REALLOC;
            ev.object = m->old_obj;
            if ((rc = emit(m, &ev))) return rc;
            rc = as_ptrmap_put(&m->live, ptr, ev.new_object);
        } else {
            ev.kind = AS_EV_ALLOC;
            if ((rc = emit(m, &ev))) return rc;
            rc = as_ptrmap_put(&m->live, ptr, ev.object);
        }
        return rc < 0 ? rc : AS_OK;
    case '!':
        NUM_OR(m, p, ptr, "'! 0xOLDPTR 0xSIZE'");
        NUM_OR(m, p, size, "'! 0xOLDPTR 0xSIZE'");
        if (!at_end(p)) return bad(m, "'! 0xOLDPTR 0xSIZE'");
        return AS_OK; /* failed realloc: nothing changed */
    default:
        return bad(m, "one of + - < > !, found '%c'", op);
    }
}

int as_import_mtrace(const char *in_path, as_trace_writer_t *w,
                     as_import_opts_t *opts, char *err, size_t errcap)
{
    mt_t m;
    memset(&m, 0, sizeof m);
    m.path = in_path;
    m.w = w;
    m.opts = opts;
    m.err = err;
    m.errcap = errcap;
    as_lines_t *l;
    int rc = as_lines_open(&l, in_path, err, errcap);
    if (rc) return rc;
    char *s;
    size_t len;
    while (!m.stop && (rc = as_lines_next(l, &s, &len, err, errcap)) == 1) {
        m.lineno = as_lines_lineno(l);
        if ((rc = line(&m, s))) break;
    }
    if (rc == 0 && m.have_old && !m.stop)
        rc = bad(&m, "'>' after the last '<' (file ends inside a realloc)");
    int crc = as_lines_close(l);
    if (rc == 0 && crc) {
        snprintf(err, errcap,
                 "%s: expected a valid gzip stream (gzip -dc "
                 "failed)",
                 in_path);
        rc = crc;
    }
    if (rc == 0) rc = as_trace_writer_meta(w, "source", "glibc mtrace");
    if (rc == 0)
        rc = as_trace_writer_meta(w, "clock",
                                  "none in mtrace: t = event "
                                  "number in ns");
    if (rc == 0) {
        char v[32];
        snprintf(v, sizeof v, "%" PRIu64, m.unmatched);
        rc = as_trace_writer_meta(w, "import.unmatched_frees", v);
        snprintf(v, sizeof v, "%" PRIu64, m.null_allocs);
        if (rc == 0 && m.null_allocs)
            rc = as_trace_writer_meta(w, "import.null_allocs", v);
    }
    as_ptrmap_free(&m.live);
    as_ptrmap_free(&m.caller_ix);
    for (size_t i = 0; i < m.ncallers; i++)
        free(m.callers[i]);
    free(m.callers);
    free(m.same_hash);
    return rc;
}

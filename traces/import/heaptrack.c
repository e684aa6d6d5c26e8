/* heaptrack.c - import heaptrack files (raw and interpreted) into a trace.
 *
 * heaptrack writes one record per line, `<type> <args>`, numbers in
 * lowercase hex; in file format 3 strings are "sized" (`<hexlen> <bytes>`).
 * Two kinds of file exist (docs/importers.md has the full table):
 *   raw (`heaptrack --raw`, *.raw.zst): modules (`m`), a trace tree of
 *     instruction pointers (`t ip parent`), `+ size trace ptr`, `- ptr`;
 *     frees name the pointer, so objects are matched exactly.
 *   interpreted (the default output): a string table (`s`), instruction
 *     pointers with module and function (`i`), the trace tree over them
 *     (`t ipIndex parent`), allocation infos (`a size trace`), and
 *     `+ info` / `- info`: a free names only a (size, stack) pair, so which
 *     live object of that pair died is a choice: oldest first (FIFO,
 *     the default) or newest first (LIFO, as_import_opts_t.match_lifo).
 * Both carry time only as `c <ms>` ticks every 10 ms: the n events between
 * ticks at Ta and Tb get Ta + (j+1)(Tb-Ta)/(n+1) ns, evenly spaced strictly
 * inside the interval; events after the last tick get the 10 ms that would
 * have followed it. `R <pages>` (RSS, read by heaptrack's timer right
 * after its tick) becomes a real-memory sample at the last tick's time.
 * realloc is written by heaptrack as `-` then `+`, and is
 * imported as a free and an allocation. No thread, CPU or alignment exists
 * in heaptrack files: all are 0.
 *
 * This file never prints; a malformed line is AS_EFORMAT with
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

#define HT_MAX_DEPTH 256u
#define HT_TICK_NS 10000000ull /* heaptrack's timer period, 10 ms */
/* Modules loaded at once ('m 1 -' clears them). Each new code address is
 * looked up in the list, so the cap keeps that lookup bounded on hostile
 * files; real processes load hundreds. */
#define HT_MAX_MODULES 16384u

typedef struct {
    char kind;    /* '+' or '-' */
    uint64_t a;   /* raw: size (+) or ptr (-); interpreted: info index */
    uint64_t ptr; /* raw '+': pointer */
    uint32_t stack;
} ht_op_t;

typedef struct {
    uint64_t ip;
    uint32_t parent;
    uint32_t stack; /* trace stack id once defined, 0 before */
} ht_node_t;

typedef struct {
    uint64_t base;   /* load address */
    uint64_t lo, hi; /* covering range of its segments (absolute) */
    char *name;
} ht_module_t;

typedef struct {
    uint64_t size;
    uint32_t stack;      /* trace stack id */
    uint64_t *live;      /* live object ids of this (size, stack) */
    size_t head, n, cap; /* live[head .. head+n) */
} ht_info_t;

typedef struct {
    const char *path;
    as_trace_writer_t *w;
    const as_import_opts_t *opts;
    char *err;
    size_t errcap;
    uint64_t lineno;
    int mode; /* 0 unknown, 'r' raw, 'i' interpreted */
    int file_version;
    char *exe; /* raw `x` */
    /* strings (interpreted, 1-based) */
    char **strs;
    size_t nstrs, strs_cap;
    /* instruction pointers (interpreted, 1-based): ip, module, symbol */
    uint64_t *ips;
    uint32_t *ip_module, *ip_func, *ip_frame;
    size_t nips, ips_cap;
    /* trace tree, 1-based; node 0 is the root */
    ht_node_t *nodes;
    size_t nnodes, nodes_cap;
    /* modules (raw) */
    ht_module_t *mods;
    size_t nmods, mods_cap;
    as_ptrmap_t frame_of_pc; /* raw: pc -> frame id */
    uint32_t next_frame, next_stack;
    /* allocation infos (interpreted, 0-based) */
    ht_info_t *infos;
    size_t ninfos, infos_cap;
    /* events waiting for the next tick */
    ht_op_t *ops;
    size_t nops, ops_cap;
    uint64_t last_tick_ns;
    uint64_t page_bytes;  /* 'I' page size (4096 until one is read) */
    uint64_t rss_samples; /* 'R' records imported as memory samples */
    int seen_tick;
    char last_type;   /* the type of the last record (not a comment) */
    as_ptrmap_t live; /* raw: pointer -> object id */
    uint64_t events, unmatched, reused;
    uint64_t null_allocs; /* raw '+' of pointer 0: failed, not imported */
    /* interpreted files end with "# strings: N" and "# ips: N" (N = the
     * counts of 's' and 'i' records); a file without them was cut short */
    int seen_strings, seen_ips;
    uint64_t trailer_strings, trailer_ips;
    int stop;
} ht_t;

/* bad: "PATH:LINE: expected ..." for the line being read. */
#define bad(st, ...)                                                           \
    as_lines_error((st)->err, (st)->errcap, (st)->path, (st)->lineno,          \
                   __VA_ARGS__)

static int wbad(ht_t *h, int rc)
{
    snprintf(h->err, h->errcap, "%s", as_trace_writer_error(h->w));
    return rc;
}

static int grow(void **p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap) return AS_OK;
    size_t nc = *cap ? *cap : 64;
    while (nc < need)
        nc *= 2;
    void *np = realloc(*p, nc * elem);
    if (!np) return AS_ENOMEM;
    memset((char *)np + *cap * elem, 0, (nc - *cap) * elem);
    *p = np;
    *cap = nc;
    return AS_OK;
}

/* hex: parse one hex number at *s (skipping spaces). @return 1 or 0. */
static int hex(char **s, uint64_t *v)
{
    char *p = *s;
    while (*p == ' ')
        p++;
    uint64_t x = 0;
    int n = 0;
    for (;; p++, n++) {
        int d;
        if (*p >= '0' && *p <= '9')
            d = *p - '0';
        else if (*p >= 'a' && *p <= 'f')
            d = *p - 'a' + 10;
        else if (*p >= 'A' && *p <= 'F')
            d = *p - 'A' + 10;
        else
            break;
        if (n >= 16) return 0;
        x = x * 16 + (uint64_t)d;
    }
    if (n == 0 || (*p && *p != ' ')) return 0;
    *s = p;
    *v = x;
    return 1;
}

static int at_end(char *s)
{
    while (*s == ' ')
        s++;
    return *s == 0;
}

/* string: a sized string (v3: "<hexlen> <bytes>") or, before v3, the next
 * word (rest_of_line: the rest of the line). Returns a malloc'd copy. */
static int string(ht_t *h, char **s, int rest_of_line, char **out)
{
    char *p = *s;
    while (*p == ' ')
        p++;
    if (h->file_version >= 3) {
        uint64_t n;
        if (!hex(&p, &n)) return bad(h, "a sized string (hex length, text)");
        if (*p == ' ') p++;
        if (strlen(p) < n)
            return bad(h, "a string of %" PRIu64 " bytes, found %zu", n,
                       strlen(p));
        *out = strndup(p, n);
        *s = p + n;
    } else {
        size_t n = rest_of_line ? strlen(p) : strcspn(p, " ");
        *out = strndup(p, n);
        *s = p + n;
    }
    return *out ? AS_OK : AS_ENOMEM;
}

/* ---------------------------------------------------------------- frames */

static const char *str_at(const ht_t *h, uint64_t i)
{
    return i >= 1 && i <= h->nstrs ? h->strs[i - 1] : "";
}

static uint32_t raw_frame(ht_t *h, uint64_t ip, int *rc)
{
    uint64_t fid;
    *rc = AS_OK;
    if (as_ptrmap_get(&h->frame_of_pc, ip, &fid)) return (uint32_t)fid;
    as_frame_t f = {ip, 0, "", ""};
    for (size_t i = 0; i < h->nmods; i++) {
        const ht_module_t *m = &h->mods[i];
        if (ip >= m->lo && ip < m->hi) {
            f.offset = ip - m->base;
            f.module = strcmp(m->name, "x") == 0 && h->exe ? h->exe : m->name;
            break;
        }
    }
    if (h->next_frame == UINT32_MAX) {
        *rc = bad(h, "at most %u distinct code addresses", UINT32_MAX - 1);
        return 0;
    }
    fid = h->next_frame++;
    if ((*rc = as_trace_writer_frame(h->w, (uint32_t)fid, &f))) {
        *rc = wbad(h, *rc);
        return 0;
    }
    if ((*rc = as_ptrmap_put(&h->frame_of_pc, ip, fid)) < 0) return 0;
    *rc = AS_OK;
    return (uint32_t)fid;
}

static uint32_t interp_frame(ht_t *h, uint64_t ip_index, int *rc)
{
    *rc = AS_OK;
    if (ip_index < 1 || ip_index > h->nips) {
        *rc = bad(h, "an instruction pointer index in 1..%zu, found %" PRIu64,
                  h->nips, ip_index);
        return 0;
    }
    size_t k = ip_index - 1;
    if (h->ip_frame[k]) return h->ip_frame[k];
    as_frame_t f = {h->ips[k], 0, str_at(h, h->ip_module[k]),
                    str_at(h, h->ip_func[k])};
    if (h->next_frame == UINT32_MAX) {
        *rc = bad(h, "at most %u instruction pointers", UINT32_MAX - 1);
        return 0;
    }
    uint32_t fid = h->next_frame++;
    if ((*rc = as_trace_writer_frame(h->w, fid, &f))) {
        *rc = wbad(h, *rc);
        return 0;
    }
    h->ip_frame[k] = fid;
    return fid;
}

/* stack_of: trace stack id for trace-tree node `idx` (defined on first
 * use: the node's ip innermost, then its parents up to the root). */
static int stack_of(ht_t *h, uint64_t idx, uint32_t *out)
{
    *out = 0;
    if (idx == 0) return AS_OK;
    if (idx > h->nnodes)
        return bad(h, "a trace index in 0..%zu, found %" PRIu64, h->nnodes,
                   idx);
    ht_node_t *n = &h->nodes[idx - 1];
    if (n->stack) {
        *out = n->stack;
        return AS_OK;
    }
    uint32_t frames[HT_MAX_DEPTH], depth = 0;
    int rc;
    for (uint64_t k = idx; k != 0 && depth < HT_MAX_DEPTH;
         k = h->nodes[k - 1].parent) {
        uint64_t ip = h->nodes[k - 1].ip;
        frames[depth++] =
            h->mode == 'r' ? raw_frame(h, ip, &rc) : interp_frame(h, ip, &rc);
        if (rc) return rc;
    }
    if (h->next_stack == UINT32_MAX)
        return bad(h, "at most %u distinct stacks", UINT32_MAX - 1);
    uint32_t id = h->next_stack++;
    if ((rc = as_trace_writer_stack(h->w, id, frames, depth)))
        return wbad(h, rc);
    n->stack = id;
    *out = id;
    return AS_OK;
}

/* ---------------------------------------------------------------- events */

static int push_live(ht_info_t *a, uint64_t id)
{
    if (a->head + a->n == a->cap) {
        if (a->head > 0 && a->head >= a->n) { /* compact */
            memmove(a->live, a->live + a->head, a->n * sizeof *a->live);
            a->head = 0;
        } else {
            size_t nc = a->cap ? 2 * a->cap : 4;
            uint64_t *nl = realloc(a->live, nc * sizeof *nl);
            if (!nl) return AS_ENOMEM;
            a->live = nl;
            a->cap = nc;
        }
    }
    a->live[a->head + a->n++] = id;
    return AS_OK;
}

static int emit(ht_t *h, as_event_t *ev)
{
    if (h->stop) return AS_OK;
    int rc = as_trace_writer_event(h->w, ev);
    if (rc) return wbad(h, rc);
    h->events++;
    if (h->opts && h->opts->max_events && h->events >= h->opts->max_events)
        h->stop = 1;
    return AS_OK;
}

static int apply(ht_t *h, const ht_op_t *op, uint64_t t)
{
    as_event_t ev = {0};
    ev.t_ns = t;
    int rc;
    if (h->mode == 'r') {
        if (op->kind == '+') {
            if (op->ptr == 0) { /* malloc returned NULL: nothing allocated */
                h->null_allocs++;
                return AS_OK;
            }
            ev.kind = AS_EV_ALLOC;
            ev.size = op->a;
            ev.stack = op->stack;
            if ((rc = emit(h, &ev))) return rc;
            if (h->stop) return AS_OK;
            rc = as_ptrmap_put(&h->live, op->ptr, ev.object);
            if (rc < 0) return rc;
            h->reused += rc == 1;
        } else {
            uint64_t obj;
            if (op->a == 0) return AS_OK; /* free(NULL) is a no-op */
            if (!as_ptrmap_del(&h->live, op->a, &obj)) {
                h->unmatched++;
                return AS_OK;
            }
            ev.kind = AS_EV_FREE;
            ev.object = obj;
            return emit(h, &ev);
        }
        return AS_OK;
    }
    ht_info_t *a = &h->infos[op->a];
    if (op->kind == '+') {
        ev.kind = AS_EV_ALLOC;
        ev.size = a->size;
        ev.stack = a->stack;
        if ((rc = emit(h, &ev))) return rc;
        return h->stop ? AS_OK : push_live(a, ev.object);
    }
    if (a->n == 0) {
        h->unmatched++;
        return AS_OK;
    }
    uint64_t obj;
    if (h->opts && h->opts->match_lifo) {
        obj = a->live[a->head + a->n - 1];
    } else {
        obj = a->live[a->head++];
    }
    a->n--;
    if (a->n == 0) a->head = 0;
    ev.kind = AS_EV_FREE;
    ev.object = obj;
    return emit(h, &ev);
}

/* flush: the held events happened between the tick at last_tick_ns and the
 * one at `until_ns`: spread them evenly strictly inside. */
static int flush(ht_t *h, uint64_t until_ns)
{
    uint64_t t0 = h->last_tick_ns, span = until_ns - t0, n = h->nops;
    for (size_t j = 0; j < h->nops; j++) {
        uint64_t t =
            t0 + (uint64_t)((unsigned __int128)span * (j + 1) / (n + 1));
        int rc = apply(h, &h->ops[j], t);
        if (rc) return rc;
    }
    h->nops = 0;
    return AS_OK;
}

static int hold(ht_t *h, const ht_op_t *op)
{
    int rc = grow((void **)&h->ops, &h->ops_cap, h->nops + 1, sizeof *op);
    if (rc) return rc;
    h->ops[h->nops++] = *op;
    return AS_OK;
}

/* ---------------------------------------------------------------- lines */

static int set_mode(ht_t *h, int mode, char type)
{
    if (h->mode && h->mode != mode)
        return bad(h,
                   "%s records only, found '%c' (raw and interpreted "
                   "records mixed)",
                   h->mode == 'r' ? "raw" : "interpreted", type);
    h->mode = mode;
    return AS_OK;
}

static int meta(ht_t *h, const char *k, const char *v)
{
    int rc = as_trace_writer_meta(h->w, k, v);
    return rc ? wbad(h, rc) : AS_OK;
}

/* comment: '#' lines are ignored, except the trailer of an interpreted
 * file, "# strings: N" and "# ips: N" (decimal), remembered for the check
 * at the end of the file. */
static int comment(ht_t *h, const char *s)
{
    const char *prefix = strncmp(s, "# strings: ", 11) == 0 ? "# strings: "
                         : strncmp(s, "# ips: ", 7) == 0    ? "# ips: "
                                                            : NULL;
    if (!prefix) return AS_OK;
    const char *p = s + strlen(prefix);
    uint64_t v = 0;
    if (*p < '0' || *p > '9')
        return bad(h, "a decimal count after '%s'", prefix);
    for (; *p >= '0' && *p <= '9'; p++) {
        if (v > (UINT64_MAX - (uint64_t)(*p - '0')) / 10)
            return bad(h, "a count below 2^64 after '%s'", prefix);
        v = v * 10 + (uint64_t)(*p - '0');
    }
    if (*p) return bad(h, "only a decimal count after '%s'", prefix);
    if (prefix[2] == 's') {
        h->seen_strings = 1;
        h->trailer_strings = v;
    } else {
        h->seen_ips = 1;
        h->trailer_ips = v;
    }
    return AS_OK;
}

/* check_trailer: a file must hold records of one kind, and an interpreted
 * file must end with its "# strings: N" and "# ips: N" lines, the counts
 * matching the 's' and 'i' records read. */
static int check_trailer(ht_t *h)
{
    if (h->mode == 0) /* real files always have modules or strings */
        return bad(h, "heaptrack records (x m t + - or s i t a + -), found "
                      "none (the file is cut short or not from heaptrack)");
    if (h->mode != 'i') return AS_OK;
    if (!h->seen_strings || !h->seen_ips)
        return bad(h, "the closing '# strings: N' and '# ips: N' lines of an "
                      "interpreted heaptrack file, found the end of the file "
                      "(the file is cut short)");
    if (h->trailer_strings != h->nstrs || h->trailer_ips != h->nips)
        return bad(h,
                   "%zu strings and %zu ips as read, found a trailer "
                   "claiming %" PRIu64 " and %" PRIu64 " (lines are missing)",
                   h->nstrs, h->nips, h->trailer_strings, h->trailer_ips);
    return AS_OK;
}

static int line(ht_t *h, char *s)
{
    char type = s[0];
    int rc;
    uint64_t a, b, c;
    if (type == 0) return AS_OK;
    if (type == '#') return comment(h, s);
    h->seen_strings = h->seen_ips = 0; /* a trailer must come last */
    h->last_type = type;
    if (s[1] != ' ' && s[1] != 0)
        return bad(h, "a record type followed by a space, found '%.20s'", s);
    char *p = s + 1;
    switch (type) {
    case 'v': {
        if (!hex(&p, &a)) return bad(h, "'v' heaptrack version in hex");
        if (hex(&p, &b)) {
            if (b > 0xffff)
                return bad(h, "'v' file version at most ffff, found %" PRIx64,
                           b);
            h->file_version = (int)b;
        }
        char v[64];
        snprintf(v, sizeof v, "%" PRIu64 ".%" PRIu64 ".%" PRIu64, a >> 16,
                 (a >> 8) & 0xff, a & 0xff);
        if ((rc = meta(h, "heaptrack.version", v))) return rc;
        snprintf(v, sizeof v, "%d", h->file_version);
        return meta(h, "heaptrack.file_version", v);
    }
    case 'X':
        while (*p == ' ')
            p++;
        if ((rc = meta(h, "arguments", p))) return rc;
        {
            char prog[4096];
            snprintf(prog, sizeof prog, "%.*s", (int)strcspn(p, " "), p);
            return meta(h, "program", prog);
        }
    case 'x':
        if ((rc = set_mode(h, 'r', type))) return rc;
        free(h->exe);
        h->exe = NULL;
        return string(h, &p, 1, &h->exe);
    case 'I': {
        if (!hex(&p, &a) || !hex(&p, &b))
            return bad(h, "'I' page size and physical pages in hex");
        char v[32];
        snprintf(v, sizeof v, "%" PRIu64, a);
        if (a < 1 || a > (1u << 30))
            return bad(h, "'I' page size in 1..40000000 (hex), found %" PRIx64,
                       a);
        h->page_bytes = a;
        return meta(h, "page_size", v);
    }
    case 'c': {
        uint64_t t_ns;
        if (!hex(&p, &a) || !at_end(p))
            return bad(h, "'c' elapsed milliseconds in hex");
        /* the tick in ns, plus the 10 ms given to events after the last
         * tick, must fit 64 bits */
        if (a > (UINT64_MAX - HT_TICK_NS) / 1000000u)
            return bad(h,
                       "'c' elapsed milliseconds at most %" PRIx64
                       " (hex; the time in ns must fit 64 bits), found "
                       "%" PRIx64,
                       (uint64_t)((UINT64_MAX - HT_TICK_NS) / 1000000u), a);
        t_ns = a * 1000000u;
        if (t_ns < h->last_tick_ns)
            return bad(h, "a time tick >= the previous one (%" PRIu64 " ms)",
                       (uint64_t)(h->last_tick_ns / 1000000u));
        if ((rc = flush(h, t_ns))) return rc;
        h->last_tick_ns = t_ns;
        h->seen_tick = 1;
        return AS_OK;
    }
    case 'R': {
        /* RSS in pages, read by heaptrack's timer right after its 'c'
         * tick: a real-memory sample at the last tick's time */
        if (!hex(&p, &a) || !at_end(p))
            return bad(h, "'R' resident pages in hex");
        if (a > UINT64_MAX / h->page_bytes)
            return bad(h,
                       "'R' resident pages whose bytes fit 64 bits, found "
                       "%" PRIx64,
                       a);
        as_mem_sample_t m = {.t_ns = h->last_tick_ns,
                             .rss_bytes = a * h->page_bytes,
                             .has = AS_SAMPLE_HAS_RSS};
        if ((rc = as_trace_writer_sample(h->w, &m))) return wbad(h, rc);
        h->rss_samples++;
        return AS_OK;
    }
    case 'A':
    case 'S':
        return AS_OK;
    case 's': {
        if ((rc = set_mode(h, 'i', type))) return rc;
        char *str;
        if ((rc = string(h, &p, 1, &str))) return rc;
        if ((rc = grow((void **)&h->strs, &h->strs_cap, h->nstrs + 1,
                       sizeof *h->strs))) {
            free(str);
            return rc;
        }
        h->strs[h->nstrs++] = str;
        return AS_OK;
    }
    case 'i': {
        if ((rc = set_mode(h, 'i', type))) return rc;
        uint64_t mod, fn = 0;
        if (!hex(&p, &a) || !hex(&p, &mod))
            return bad(h, "'i' instruction pointer and module index in hex");
        if (!at_end(p) && !hex(&p, &fn))
            return bad(h, "'i' function index in hex");
        /* file, line and inlined frames may follow: not imported */
        if (mod > h->nstrs || fn > h->nstrs)
            return bad(h, "string indices in 0..%zu", h->nstrs);
        size_t need = h->nips + 1, cap = h->ips_cap;
        if ((rc = grow((void **)&h->ips, &cap, need, sizeof *h->ips)))
            return rc;
        cap = h->ips_cap;
        if ((rc = grow((void **)&h->ip_module, &cap, need, sizeof(uint32_t))))
            return rc;
        cap = h->ips_cap;
        if ((rc = grow((void **)&h->ip_func, &cap, need, sizeof(uint32_t))))
            return rc;
        cap = h->ips_cap;
        if ((rc = grow((void **)&h->ip_frame, &cap, need, sizeof(uint32_t))))
            return rc;
        h->ips_cap = cap;
        h->ips[h->nips] = a;
        h->ip_module[h->nips] = (uint32_t)mod;
        h->ip_func[h->nips] = (uint32_t)fn;
        h->ip_frame[h->nips] = 0;
        h->nips++;
        return AS_OK;
    }
    case 'm': {
        if ((rc = set_mode(h, 'r', type))) return rc;
        char *name;
        if ((rc = string(h, &p, 0, &name))) return rc;
        if (strcmp(name, "-") == 0) { /* module cache cleared */
            free(name);
            for (size_t i = 0; i < h->nmods; i++)
                free(h->mods[i].name);
            h->nmods = 0;
            return AS_OK;
        }
        if (!hex(&p, &a)) {
            free(name);
            return bad(h, "'m' module load address in hex");
        }
        uint64_t lo = UINT64_MAX, hi = 0;
        while (!at_end(p)) {
            if (!hex(&p, &b) || !hex(&p, &c)) {
                free(name);
                return bad(h, "'m' segment address and size pairs in hex");
            }
            if (b > UINT64_MAX - a || c > UINT64_MAX - (a + b)) {
                free(name);
                return bad(h,
                           "'m' segments inside the 64-bit address space, "
                           "found load address %" PRIx64 " + segment %" PRIx64
                           " + size %" PRIx64,
                           a, b, c);
            }
            if (a + b < lo) lo = a + b;
            if (a + b + c > hi) hi = a + b + c;
        }
        if (h->nmods == HT_MAX_MODULES) {
            free(name);
            return bad(h,
                       "at most %u modules loaded at once (an 'm 1 -' line "
                       "clears them)",
                       HT_MAX_MODULES);
        }
        if ((rc = grow((void **)&h->mods, &h->mods_cap, h->nmods + 1,
                       sizeof *h->mods))) {
            free(name);
            return rc;
        }
        h->mods[h->nmods++] = (ht_module_t){a, lo, hi, name};
        return AS_OK;
    }
    case 't': {
        if (!h->mode) return bad(h, "'m', 'x', 's' or 'i' records before 't'");
        if (!hex(&p, &a) || !hex(&p, &b) || !at_end(p))
            return bad(h, "'t' %s and parent index in hex",
                       h->mode == 'r' ? "instruction pointer" : "ip index");
        if (b > h->nnodes)
            return bad(h, "a parent index in 0..%zu, found %" PRIu64, h->nnodes,
                       b);
        if (h->mode == 'i' && (a < 1 || a > h->nips))
            return bad(h, "an ip index in 1..%zu, found %" PRIu64, h->nips, a);
        if ((rc = grow((void **)&h->nodes, &h->nodes_cap, h->nnodes + 1,
                       sizeof *h->nodes)))
            return rc;
        h->nodes[h->nnodes++] = (ht_node_t){a, (uint32_t)b, 0};
        return AS_OK;
    }
    case 'a': {
        if ((rc = set_mode(h, 'i', type))) return rc;
        if (!hex(&p, &a) || !hex(&p, &b) || !at_end(p))
            return bad(h, "'a' size and trace index in hex");
        uint32_t st;
        if ((rc = stack_of(h, b, &st))) return rc;
        if ((rc = grow((void **)&h->infos, &h->infos_cap, h->ninfos + 1,
                       sizeof *h->infos)))
            return rc;
        h->infos[h->ninfos++] = (ht_info_t){a, st, NULL, 0, 0, 0};
        return AS_OK;
    }
    case '+':
    case '-': {
        ht_op_t op = {type, 0, 0, 0};
        if (!hex(&p, &a)) return bad(h, "'%c' arguments in hex", type);
        if (!h->mode) { /* raw '+' has three fields, interpreted one */
            char *q = p;
            h->mode = (type == '+' && hex(&q, &b)) ? 'r' : 'i';
        }
        if (h->mode == 'i') {
            if (!at_end(p)) return bad(h, "'%c' allocation index only", type);
            if (a >= h->ninfos)
                return bad(h, "an allocation index in 0..%zu, found %" PRIu64,
                           h->ninfos ? h->ninfos - 1 : 0, a);
            op.a = a;
        } else if (type == '+') {
            if (!hex(&p, &b) || !hex(&p, &c) || !at_end(p))
                return bad(h, "'+' size, trace index and pointer in hex");
            op.a = a;
            op.ptr = c;
            if ((rc = stack_of(h, b, &op.stack))) return rc;
        } else {
            if (!at_end(p)) return bad(h, "'-' pointer only");
            op.a = a;
        }
        return hold(h, &op);
    }
    default:
        return bad(h,
                   "a heaptrack record (v x X I m t + - c R s i a #), "
                   "found '%c'",
                   type);
    }
}

static void ht_free(ht_t *h)
{
    free(h->exe);
    for (size_t i = 0; i < h->nstrs; i++)
        free(h->strs[i]);
    free(h->strs);
    free(h->ips);
    free(h->ip_module);
    free(h->ip_func);
    free(h->ip_frame);
    free(h->nodes);
    for (size_t i = 0; i < h->nmods; i++)
        free(h->mods[i].name);
    free(h->mods);
    for (size_t i = 0; i < h->ninfos; i++)
        free(h->infos[i].live);
    free(h->infos);
    free(h->ops);
    as_ptrmap_free(&h->frame_of_pc);
    as_ptrmap_free(&h->live);
}

int as_import_heaptrack(const char *in_path, as_trace_writer_t *w,
                        as_import_opts_t *opts, char *err, size_t errcap)
{
    ht_t h;
    memset(&h, 0, sizeof h);
    h.path = in_path;
    h.w = w;
    h.opts = opts;
    h.err = err;
    h.errcap = errcap;
    h.file_version = 3;
    h.page_bytes = 4096;
    h.next_frame = h.next_stack = 1;
    as_lines_t *l;
    int rc = as_lines_open(&l, in_path, err, errcap);
    if (rc) return rc;
    char *s;
    size_t len;
    while ((rc = as_lines_next(l, &s, &len, err, errcap)) == 1) {
        h.lineno = as_lines_lineno(l);
        if ((rc = line(&h, s))) break;
        if (h.stop) break;
    }
    if (rc == 0 && !h.stop) rc = check_trailer(&h);
    /* heaptrack's shutdown writes a last 'c' tick and an 'R' RSS sample (the
     * 'R' only where /proc/self/statm is readable), so a raw file that ends
     * on another record was cut short: SIGKILL, a full disk, a copy cut at
     * a line boundary, or a program that left by _exit without exit
     * handlers. Import what is there, and say so. */
    if (rc == 0 && !h.stop && h.mode == 'r' && h.last_type != 'c' &&
        h.last_type != 'R' && opts) {
        opts->truncated = 1;
        snprintf(opts->warning, sizeof opts->warning,
                 "%s:%" PRIu64
                 ": expected the closing 'c' and 'R' records heaptrack "
                 "writes at exit, found '%c' as the last record (the file is "
                 "cut short, or the program ended without exit handlers); "
                 "every record before it was imported",
                 in_path, h.lineno, h.last_type ? h.last_type : '?');
        rc = meta(&h, "import.truncated",
                  "no closing c/R records: the file may be cut short");
    }
    if (rc == 0 && !h.stop) {
        /* events after the last tick: the 10 ms that would have followed */
        rc = flush(&h, h.last_tick_ns + HT_TICK_NS);
    }
    int crc = as_lines_close(l);
    if (rc == 0 && crc) {
        snprintf(err, errcap,
                 "%s: expected a valid gzip stream (gzip -dc "
                 "failed)",
                 in_path);
        rc = crc;
    }
    if (rc == 0) {
        char v[64];
        struct {
            const char *k, *v;
        } m[] = {{"source", h.mode == 'r' ? "heaptrack raw" : "heaptrack"},
                 {"clock", "heaptrack 10 ms ticks; events spread evenly "
                           "between ticks"},
                 {"heaptrack.match",
                  h.mode == 'r'
                      ? "pointer"
                      : (opts && opts->match_lifo ? "lifo" : "fifo")}};
        for (size_t i = 0; i < 3 && !rc; i++)
            rc = meta(&h, m[i].k, m[i].v);
        snprintf(v, sizeof v, "%" PRIu64, h.unmatched);
        if (!rc) rc = meta(&h, "import.unmatched_frees", v);
        snprintf(v, sizeof v, "%" PRIu64, h.null_allocs);
        if (!rc && h.null_allocs) rc = meta(&h, "import.null_allocs", v);
    }
    ht_free(&h);
    return rc;
}

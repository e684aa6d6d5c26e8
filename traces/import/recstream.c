/* recstream.c - the collector half of the recorder: recorder stream -> trace.
 *
 * Records arrive ring by ring, so records of different threads interleave
 * out of order; each ordered record carries the number it took from the
 * program's one global counter. This file holds records in a min-heap keyed
 * by that number and releases them strictly in order (next expected seq),
 * which restores the causal order the recorder guarantees: an allocation
 * before any free of it, a stack definition before any event naming it.
 * Only at the end of an image (EOF or exec) are gaps skipped: numbers taken
 * by threads that were cut off before shipping their record.
 *
 * It owns the address -> object id map (ids come from the writer), the
 * per-image stack-id and pc -> frame-id maps (an exec'd image numbers its
 * stacks from 1 again), and the pending realloc of each thread. It never
 * prints: counts go to the stats and to the trace's metadata.
 */
#include "traces/import/recstream.h"

#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "traces/record/protocol.h"
#include "traces/import/ptrmap.h"

typedef struct {
    uint64_t seq;
    as_rec_head_t *rec; /* malloc'd copy */
} as_rs_item_t;

/* A live object of at least writes_min bytes: what a WRITE needs. */
typedef struct {
    uint64_t object, size, alloc_seq;
} as_rs_big_t;

/* A pending realloc: RBEGIN seen, REALLOC not yet. */
typedef struct {
    int active;
    int known; /* old address was live: `object` is its id */
    uint64_t ptr;
    uint64_t object;
    int big_known; /* the old object was large: `big` is it */
    as_rs_big_t big;
} as_rs_pending_t;

typedef struct {
    uint64_t pc, offset;
    char *module, *symbol;
} as_rs_sym_t;

struct as_recstream {
    as_trace_writer_t *w;
    /* partial record carried between feeds */
    uint8_t carry[AS_REC_MAX_LEN];
    size_t carry_len;
    uint64_t stream_off; /* bytes consumed so far, for errors */
    /* reorder heap */
    as_rs_item_t *heap;
    size_t heap_n, heap_cap;
    uint64_t next_seq;
    /* current image */
    int have_image;
    as_ptrmap_t live;    /* address -> object id */
    as_ptrmap_t frames;  /* pc -> frame id */
    as_ptrmap_t sym_of;  /* pc -> index in syms */
    uint32_t *stack_map; /* image stack id -> trace stack id */
    size_t stack_map_cap;
    as_rs_pending_t *pending;
    size_t pending_cap;
    as_rs_sym_t *syms;
    size_t syms_n, syms_cap;
    /* write reports: the trace's bound (0 = none), and the image's live
     * objects of at least that size: address -> index into bigs */
    uint64_t writes_min;
    int writes_image; /* the current image sends them */
    as_ptrmap_t big_of;
    as_rs_big_t *bigs;
    uint64_t *big_free; /* free indices into bigs */
    size_t bigs_n, bigs_cap, big_free_n;
    /* whole trace */
    int have_t0;
    uint64_t t0, last_t;
    uint64_t resolution_ns; /* times are multiples of this (>= 1) */
    /* TSC images: event times are ticks, converted with the last two
     * (tsc, ns) pairs: ns = ns1 + (tsc - tsc1) * (ns1 - ns0) / (tsc1 - tsc0) */
    int tsc;
    int have_pair0;
    uint64_t tsc0, ns0, tsc1, ns1;
    uint32_t next_frame, next_stack;
    /* the current image's latest MARK: seq_end, and why while it is the
     * image's last word (0 once a numbered record followed it) */
    uint64_t mark_seq;
    uint32_t mark_why, mark_sig;
    uint64_t tail_lost; /* numbers after the last received, per MARKs */
    as_recstream_stats_t st;
    char err[256];
};

static int fail(as_recstream_t *s, int code, const char *what)
{
    snprintf(s->err, sizeof s->err, "recorder stream: byte %" PRIu64 ": %s",
             s->stream_off, what);
    return code;
}

static int wfail(as_recstream_t *s, int code)
{
    snprintf(s->err, sizeof s->err, "%s", as_trace_writer_error(s->w));
    return code;
}

int as_recstream_open(as_recstream_t **out, as_trace_writer_t *w)
{
    as_recstream_t *s = calloc(1, sizeof *s);
    *out = s;
    if (!s) return AS_ENOMEM;
    s->w = w;
    s->next_seq = 1;
    s->next_frame = 1;
    s->next_stack = 1;
    s->resolution_ns = 1;
    return AS_OK;
}

void as_recstream_set_resolution(as_recstream_t *s, uint64_t ns)
{
    s->resolution_ns = ns ? ns : 1;
}

uint64_t as_recstream_events(const as_recstream_t *s)
{
    return s->st.events;
}

const char *as_recstream_error(const as_recstream_t *s)
{
    return s->err[0] ? s->err : "no error";
}

static void syms_clear(as_recstream_t *s)
{
    for (size_t i = 0; i < s->syms_n; i++) {
        free(s->syms[i].module);
        free(s->syms[i].symbol);
    }
    s->syms_n = 0;
    as_ptrmap_free(&s->sym_of);
}

void as_recstream_free(as_recstream_t *s)
{
    if (!s) return;
    for (size_t i = 0; i < s->heap_n; i++)
        free(s->heap[i].rec);
    free(s->heap);
    as_ptrmap_free(&s->live);
    as_ptrmap_free(&s->frames);
    as_ptrmap_free(&s->big_of);
    free(s->bigs);
    free(s->big_free);
    free(s->stack_map);
    free(s->pending);
    syms_clear(s);
    free(s->syms);
    free(s);
}

/* ---------------------------------------------------------------- bigs */

/* big_put: object `b` is live at ptr. @return 0 or AS_ENOMEM. */
static int big_put(as_recstream_t *s, uint64_t ptr, as_rs_big_t b)
{
    uint64_t i;
    if (s->big_free_n) {
        i = s->big_free[--s->big_free_n];
    } else {
        if (s->bigs_n == s->bigs_cap) {
            size_t nc = s->bigs_cap ? 2 * s->bigs_cap : 256;
            as_rs_big_t *nb = realloc(s->bigs, nc * sizeof *nb);
            if (!nb) return AS_ENOMEM;
            uint64_t *nf = realloc(s->big_free, nc * sizeof *nf);
            if (!nf) {
                s->bigs = nb;
                return AS_ENOMEM;
            }
            s->bigs = nb, s->big_free = nf, s->bigs_cap = nc;
        }
        i = s->bigs_n++;
    }
    s->bigs[i] = b;
    uint64_t old;
    if (as_ptrmap_get(&s->big_of, ptr, &old)) /* reused while live */
        s->big_free[s->big_free_n++] = old;
    int rc = as_ptrmap_put(&s->big_of, ptr, i);
    return rc < 0 ? rc : AS_OK;
}

/* big_del: the object at ptr is gone. @return 1 with it in *b when it was
 * a large one, else 0. */
static int big_del(as_recstream_t *s, uint64_t ptr, as_rs_big_t *b)
{
    uint64_t i;
    if (!s->big_of.n || !as_ptrmap_del(&s->big_of, ptr, &i)) return 0;
    if (b) *b = s->bigs[i];
    s->big_free[s->big_free_n++] = i;
    return 1;
}

static void bigs_clear(as_recstream_t *s)
{
    as_ptrmap_free(&s->big_of);
    s->bigs_n = s->big_free_n = 0;
}

/* write_report: a WRITE record: the runs of written pages, clipped to the
 * object live at its address, as write records of the trace. A report
 * whose object is gone (a periodic scan that raced with a free) or not
 * large is dropped and counted. */
static int write_report(as_recstream_t *s, const as_rec_write_t *r,
                        uint64_t t_ns)
{
    uint64_t i;
    if (!s->writes_image || !as_ptrmap_get(&s->big_of, r->ptr, &i) ||
        (r->alloc_seq && r->alloc_seq != s->bigs[i].alloc_seq)) {
        s->st.writes_dropped++;
        return AS_OK;
    }
    const as_rs_big_t *b = &s->bigs[i];
    const uint64_t *run = (const uint64_t *)(r + 1);
    for (uint32_t k = 0; k < r->runs; k++, run += 2) {
        uint64_t lo = run[0] > r->ptr ? run[0] - r->ptr : 0;
        uint64_t hi = run[1] > r->ptr ? run[1] - r->ptr : 0;
        if (hi > b->size) hi = b->size;
        if (lo >= hi) continue;
        as_write_t w = {
            .t_ns = t_ns, .object = b->object, .offset = lo, .bytes = hi - lo};
        int rc = as_trace_writer_write(s->w, &w);
        if (rc) return wfail(s, rc);
        s->st.writes++;
    }
    return AS_OK;
}

/* ---------------------------------------------------------------- heap */

static int heap_push(as_recstream_t *s, as_rec_head_t *rec)
{
    if (s->heap_n == s->heap_cap) {
        size_t nc = s->heap_cap ? 2 * s->heap_cap : 1024;
        as_rs_item_t *nh = realloc(s->heap, nc * sizeof *nh);
        if (!nh) return AS_ENOMEM;
        s->heap = nh;
        s->heap_cap = nc;
    }
    size_t i = s->heap_n++;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (s->heap[p].seq <= rec->seq) break;
        s->heap[i] = s->heap[p];
        i = p;
    }
    s->heap[i].seq = rec->seq;
    s->heap[i].rec = rec;
    return AS_OK;
}

static as_rec_head_t *heap_pop(as_recstream_t *s)
{
    as_rec_head_t *top = s->heap[0].rec;
    as_rs_item_t last = s->heap[--s->heap_n];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= s->heap_n) break;
        if (c + 1 < s->heap_n && s->heap[c + 1].seq < s->heap[c].seq) c++;
        if (last.seq <= s->heap[c].seq) break;
        s->heap[i] = s->heap[c];
        i = c;
    }
    if (s->heap_n) s->heap[i] = last;
    return top;
}

/* ---------------------------------------------------------------- emit */

static uint64_t rel_time(as_recstream_t *s, uint64_t t_ns)
{
    uint64_t t = t_ns > s->t0 ? t_ns - s->t0 : 0;
    t -= t % s->resolution_ns;
    if (t < s->last_t) t = s->last_t;
    s->last_t = t;
    return t;
}

static int emit(as_recstream_t *s, as_event_t *ev)
{
    int rc = as_trace_writer_event(s->w, ev);
    if (rc) return wfail(s, rc);
    s->st.events++;
    return AS_OK;
}

static as_rs_pending_t *pending_of(as_recstream_t *s, uint32_t thread)
{
    if (thread >= s->pending_cap) {
        size_t nc = s->pending_cap ? s->pending_cap : 16;
        while (nc <= thread)
            nc *= 2;
        as_rs_pending_t *np = realloc(s->pending, nc * sizeof *np);
        if (!np) return NULL;
        memset(np + s->pending_cap, 0, (nc - s->pending_cap) * sizeof *np);
        s->pending = np;
        s->pending_cap = nc;
    }
    return &s->pending[thread];
}

static uint32_t trace_stack(const as_recstream_t *s, uint32_t image_stack)
{
    return image_stack < s->stack_map_cap ? s->stack_map[image_stack] : 0;
}

static int define_stack(as_recstream_t *s, const as_rec_stack_t *r)
{
    uint32_t depth = r->depth;
    const uint64_t *pcs = (const uint64_t *)(r + 1);
    uint32_t fids[AS_REC_MAX_DEPTH];
    int rc;
    for (uint32_t i = 0; i < depth; i++) {
        uint64_t fid;
        if (!as_ptrmap_get(&s->frames, pcs[i], &fid)) {
            fid = s->next_frame++;
            as_frame_t f = {pcs[i], 0, "", ""};
            uint64_t si;
            if (as_ptrmap_get(&s->sym_of, pcs[i], &si)) {
                f.offset = s->syms[si].offset;
                f.module = s->syms[si].module;
                f.symbol = s->syms[si].symbol;
                s->st.symbols++;
            }
            if ((rc = as_trace_writer_frame(s->w, (uint32_t)fid, &f)))
                return wfail(s, rc);
            if ((rc = as_ptrmap_put(&s->frames, pcs[i], fid)) < 0) return rc;
            s->st.frames++;
        }
        fids[i] = (uint32_t)fid;
    }
    uint32_t id = s->next_stack++;
    if ((rc = as_trace_writer_stack(s->w, id, fids, depth)))
        return wfail(s, rc);
    uint32_t img = r->h.stack;
    if (img >= s->stack_map_cap) {
        size_t nc = s->stack_map_cap ? s->stack_map_cap : 1024;
        while (nc <= img)
            nc *= 2;
        uint32_t *nm = realloc(s->stack_map, nc * sizeof *nm);
        if (!nm) return AS_ENOMEM;
        memset(nm + s->stack_map_cap, 0, (nc - s->stack_map_cap) * sizeof *nm);
        s->stack_map = nm;
        s->stack_map_cap = nc;
    }
    s->stack_map[img] = id;
    s->st.stacks++;
    return AS_OK;
}

static int emit_alloc(as_recstream_t *s, const as_rec_head_t *h, uint64_t ptr,
                      uint64_t size, uint64_t align, uint64_t height)
{
    as_event_t ev = {0};
    ev.kind = AS_EV_ALLOC;
    ev.stack_height = height;
    ev.thread = h->thread;
    ev.cpu = h->cpu;
    ev.stack = trace_stack(s, h->stack);
    ev.t_ns = rel_time(s, h->t_ns);
    ev.size = size;
    ev.align = align;
    int rc = emit(s, &ev);
    if (rc) return rc;
    rc = as_ptrmap_put(&s->live, ptr, ev.object);
    if (rc < 0) return rc;
    if (rc == 1) s->st.reused_live++;
    s->st.allocs++;
    if (s->writes_image && size >= s->writes_min)
        return big_put(s, ptr, (as_rs_big_t){ev.object, size, h->seq});
    if (s->big_of.n) big_del(s, ptr, NULL); /* a small one reuses it */
    return AS_OK;
}

static int emit_free(as_recstream_t *s, const as_rec_head_t *h, uint64_t object)
{
    as_event_t ev = {0};
    ev.kind = AS_EV_FREE;
    ev.thread = h->thread;
    ev.cpu = h->cpu;
    ev.t_ns = rel_time(s, h->t_ns);
    ev.object = object;
    s->st.frees++;
    return emit(s, &ev);
}

/* process: apply one ordered record. */
static int process(as_recstream_t *s, const as_rec_head_t *h)
{
    switch (h->type) {
    case AS_REC_STACK:
        return define_stack(s, (const as_rec_stack_t *)h);
    case AS_REC_ALLOC: {
        const as_rec_alloc_t *r = (const as_rec_alloc_t *)h;
        return emit_alloc(s, h, r->ptr, r->size, r->align, r->height);
    }
    case AS_REC_MEM: {
        const as_rec_mem_t *r = (const as_rec_mem_t *)h;
        as_mem_sample_t m = {.t_ns = rel_time(s, h->t_ns),
                             .rss_bytes = r->rss_bytes,
                             .anon_huge_bytes = r->anon_huge_bytes,
                             .has = r->has & AS_SAMPLE_KNOWN};
        if (m.has & AS_SAMPLE_HAS_MALLINFO)
            memcpy(m.mallinfo.f, r->mallinfo, sizeof m.mallinfo.f);
        int rc = as_trace_writer_sample(s->w, &m);
        if (rc) return wfail(s, rc);
        s->st.mem_samples++;
        return AS_OK;
    }
    case AS_REC_WRITE:
        return write_report(s, (const as_rec_write_t *)h, rel_time(s, h->t_ns));
    case AS_REC_FREE: {
        const as_rec_ptr_t *r = (const as_rec_ptr_t *)h;
        uint64_t obj;
        big_del(s, r->ptr, NULL);
        if (!as_ptrmap_del(&s->live, r->ptr, &obj)) {
            s->st.unmatched_frees++;
            return AS_OK;
        }
        return emit_free(s, h, obj);
    }
    case AS_REC_RBEGIN: {
        const as_rec_ptr_t *r = (const as_rec_ptr_t *)h;
        as_rs_pending_t *p = pending_of(s, h->thread);
        if (!p) return AS_ENOMEM;
        p->active = 1;
        p->ptr = r->ptr;
        p->known = as_ptrmap_del(&s->live, r->ptr, &p->object);
        p->big_known = big_del(s, r->ptr, &p->big);
        return AS_OK;
    }
    case AS_REC_REALLOC: {
        const as_rec_realloc_t *r = (const as_rec_realloc_t *)h;
        as_rs_pending_t *p = pending_of(s, h->thread);
        if (!p) return AS_ENOMEM;
        int known = p->active && p->known;
        uint64_t old = p->object;
        if (p->active && !p->known) s->st.unmatched_frees++;
        p->active = 0;
        if (h->flags & AS_REC_F_FAILED) { /* the old block is still live */
            if (known) {
                int rc = as_ptrmap_put(&s->live, p->ptr, old);
                if (rc < 0) return rc;
            }
            if (known && p->big_known) return big_put(s, p->ptr, p->big);
            return AS_OK;
        }
        if (r->ptr && (h->flags & AS_REC_F_SAMPLED)) {
            if (!known) return emit_alloc(s, h, r->ptr, r->size, 0, r->height);
            as_event_t ev = {0};
            ev.kind = AS_EV_REALLOC;
            ev.thread = h->thread;
            ev.cpu = h->cpu;
            ev.stack = trace_stack(s, h->stack);
            ev.t_ns = rel_time(s, h->t_ns);
            ev.object = old;
            ev.size = r->size;
            ev.stack_height = r->height;
            int rc = emit(s, &ev);
            if (rc) return rc;
            rc = as_ptrmap_put(&s->live, r->ptr, ev.new_object);
            if (rc < 0) return rc;
            if (rc == 1) s->st.reused_live++;
            s->st.reallocs++;
            if (s->writes_image && r->size >= s->writes_min)
                return big_put(s, r->ptr,
                               (as_rs_big_t){ev.new_object, r->size, h->seq});
            if (s->big_of.n) big_del(s, r->ptr, NULL);
            return AS_OK;
        }
        /* freed (size 0) or the new block is not sampled */
        return known ? emit_free(s, h, old) : AS_OK;
    }
    default:
        return fail(s, AS_EFORMAT, "unexpected ordered record");
    }
}

/* release: emit every held record whose turn has come; with `all`, skip
 * gaps too (end of an image). */
static int release(as_recstream_t *s, int all)
{
    while (s->heap_n && (all || s->heap[0].seq <= s->next_seq)) {
        uint64_t seq = s->heap[0].seq;
        as_rec_head_t *r = heap_pop(s);
        if (seq > s->next_seq) s->st.seq_gaps += seq - s->next_seq;
        int rc = process(s, r);
        free(r);
        if (rc) return rc;
        if (seq >= s->next_seq) s->next_seq = seq + 1;
    }
    return AS_OK;
}

/* end_image: everything of the current image is out; objects still live
 * die with it when `free_live` (exec) and stay live at EOF. */
static int end_image(as_recstream_t *s, int free_live)
{
    int rc = release(s, 1);
    if (rc) return rc;
    /* numbers [1, next_seq) are received or counted as gaps; a MARK says
     * how many more were handed out */
    if (!s->mark_why)
        s->st.cut_off++;
    else if (s->mark_seq > s->next_seq)
        s->tail_lost += s->mark_seq - s->next_seq;
    s->st.end = !s->mark_why                        ? AS_RECSTREAM_END_CUT
                : s->mark_why == AS_REC_MARK_EXIT   ? AS_RECSTREAM_END_EXIT
                : s->mark_why == AS_REC_MARK_SIGNAL ? AS_RECSTREAM_END_SIGNAL
                                                    : AS_RECSTREAM_END_EXEC;
    s->st.end_signal = s->mark_sig;
    s->mark_seq = 0;
    s->mark_why = s->mark_sig = 0;
    if (free_live && s->live.n) {
        as_rec_head_t h = {0};
        h.t_ns = s->t0 + s->last_t;
        for (size_t i = 0; i < s->live.cap; i++) {
            if (!s->live.slots[i].key) continue;
            if ((rc = emit_free(s, &h, s->live.slots[i].val))) return rc;
        }
    }
    syms_clear(s);
    as_ptrmap_free(&s->live);
    as_ptrmap_free(&s->frames);
    bigs_clear(s);
    if (s->stack_map)
        memset(s->stack_map, 0, s->stack_map_cap * sizeof *s->stack_map);
    if (s->pending) memset(s->pending, 0, s->pending_cap * sizeof *s->pending);
    s->next_seq = 1;
    return AS_OK;
}

static char *dup_n(const char *p, size_t n)
{
    char *d = malloc(n + 1);
    if (d) {
        memcpy(d, p, n);
        d[n] = 0;
    }
    return d;
}

/* tsc_to_ns: an event time of a TSC image, in CLOCK_MONOTONIC ns. */
static uint64_t tsc_to_ns(const as_recstream_t *s, uint64_t tsc)
{
    if (!s->have_pair0 || s->tsc1 <= s->tsc0) return s->ns1;
    __int128 d = (__int128)(int64_t)(tsc - s->tsc1) *
                 (__int128)(int64_t)(s->ns1 - s->ns0) /
                 (__int128)(int64_t)(s->tsc1 - s->tsc0);
    __int128 ns = (__int128)s->ns1 + d;
    return ns < 0 ? 0 : (uint64_t)ns;
}

/* record: one whole record, in stream order. `h` points into the caller's
 * private copy: a TSC time is converted in place. */
static int record(as_recstream_t *s, const as_rec_head_t *h)
{
    int rc;
    switch (h->type) {
    case AS_REC_HELLO: {
        const as_rec_hello_t *r = (const as_rec_hello_t *)h;
        /* a HELLO without writes_min (before write reports) is one */
        if (h->len < offsetof(as_rec_hello_t, writes_min))
            return fail(s, AS_EFORMAT, "short HELLO");
        uint64_t writes_min = h->len >= sizeof *r ? r->writes_min : 0;
        if (s->have_image && (rc = end_image(s, 1))) return rc;
        s->have_image = 1;
        s->tsc = (h->flags & AS_REC_F_TSC) != 0;
        s->have_pair0 = 0;
        s->tsc1 = r->tsc;
        s->ns1 = r->h.t_ns;
        s->st.images++;
        if (!s->have_t0) {
            s->have_t0 = 1;
            s->t0 = r->h.t_ns;
        }
        char v[32];
        snprintf(v, sizeof v, "%" PRIu64, r->pid);
        if ((rc = as_trace_writer_meta(s->w, "pid", v))) return wfail(s, rc);
        /* write reports: the first image decides for the trace (its
         * metadata goes into the header); a later image with another
         * bound sends none that count */
        if (s->st.images == 1 && writes_min) {
            s->writes_min = writes_min;
            snprintf(v, sizeof v, "%" PRIu64, writes_min);
            if ((rc = as_trace_writer_meta(s->w, "record.writes", "pagemap")) ||
                (rc = as_trace_writer_meta(s->w, "record.writes_min_bytes", v)))
                return wfail(s, rc);
        }
        s->writes_image = s->writes_min && writes_min == s->writes_min;
        if (s->writes_min && !s->writes_image) s->st.writes_missing_images++;
        return AS_OK;
    }
    case AS_REC_SYNC: {
        const as_rec_sync_t *r = (const as_rec_sync_t *)h;
        if (h->len < sizeof *r) return fail(s, AS_EFORMAT, "short SYNC");
        if (!s->have_image) return fail(s, AS_EFORMAT, "SYNC before HELLO");
        if (r->tsc > s->tsc1) { /* keep the pair only if time moved on */
            s->tsc0 = s->tsc1, s->ns0 = s->ns1;
            s->tsc1 = r->tsc, s->ns1 = r->h.t_ns;
            s->have_pair0 = 1;
        }
        return AS_OK;
    }
    case AS_REC_MARK: {
        const as_rec_mark_t *r = (const as_rec_mark_t *)h;
        if (h->len < sizeof *r) return fail(s, AS_EFORMAT, "short MARK");
        if (!s->have_image) return fail(s, AS_EFORMAT, "MARK before HELLO");
        if (r->why < AS_REC_MARK_EXIT || r->why > AS_REC_MARK_EXEC)
            return fail(s, AS_EFORMAT, "MARK of unknown kind");
        if (r->seq_end > s->mark_seq) s->mark_seq = r->seq_end;
        s->mark_why = r->why;
        s->mark_sig = r->why == AS_REC_MARK_SIGNAL ? r->signal : 0;
        return AS_OK;
    }
    case AS_REC_META: {
        const as_rec_meta_t *r = (const as_rec_meta_t *)h;
        if (sizeof *r + (size_t)r->key_len + r->value_len + 2 > h->len)
            return fail(s, AS_EFORMAT, "META strings overrun the record");
        const char *k = (const char *)(r + 1);
        char *key = dup_n(k, r->key_len),
             *val = dup_n(k + r->key_len + 1, r->value_len);
        rc = (key && val) ? as_trace_writer_meta(s->w, key, val) : AS_ENOMEM;
        free(key);
        free(val);
        return rc == AS_ENOMEM ? rc : rc ? wfail(s, rc) : AS_OK;
    }
    case AS_REC_SYM: {
        const as_rec_sym_t *r = (const as_rec_sym_t *)h;
        if (h->len < sizeof *r ||
            sizeof *r + (size_t)r->module_len + r->symbol_len + 2 > h->len)
            return fail(s, AS_EFORMAT, "SYM strings overrun the record");
        if (s->syms_n == s->syms_cap) {
            size_t nc = s->syms_cap ? 2 * s->syms_cap : 256;
            as_rs_sym_t *ns = realloc(s->syms, nc * sizeof *ns);
            if (!ns) return AS_ENOMEM;
            s->syms = ns;
            s->syms_cap = nc;
        }
        const char *p = (const char *)(r + 1);
        as_rs_sym_t *y = &s->syms[s->syms_n];
        y->pc = r->pc;
        y->offset = r->offset;
        y->module = dup_n(p, r->module_len);
        y->symbol = dup_n(p + r->module_len + 1, r->symbol_len);
        if (!y->module || !y->symbol) {
            free(y->module);
            free(y->symbol);
            return AS_ENOMEM;
        }
        uint64_t fid;
        if ((rc = as_ptrmap_put(&s->sym_of, r->pc, s->syms_n)) < 0) return rc;
        s->syms_n++;
        if (as_ptrmap_get(&s->frames, r->pc, &fid)) { /* late: redefine */
            as_frame_t f = {y->pc, y->offset, y->module, y->symbol};
            if ((rc = as_trace_writer_frame(s->w, (uint32_t)fid, &f)))
                return wfail(s, rc);
            s->st.symbols++;
        }
        return AS_OK;
    }
    case AS_REC_ALLOC:
    case AS_REC_FREE:
    case AS_REC_RBEGIN:
    case AS_REC_REALLOC:
    case AS_REC_STACK:
    case AS_REC_MEM:
    case AS_REC_WRITE: {
        static const uint16_t min_len[] = {0,
                                           0,
                                           sizeof(as_rec_alloc_t),
                                           sizeof(as_rec_ptr_t),
                                           sizeof(as_rec_ptr_t),
                                           sizeof(as_rec_realloc_t),
                                           sizeof(as_rec_stack_t),
                                           0,
                                           0,
                                           0,
                                           0,
                                           sizeof(as_rec_mem_t),
                                           sizeof(as_rec_write_t)};
        if (h->len < min_len[h->type])
            return fail(s, AS_EFORMAT, "record shorter than its type");
        if (h->thread >= AS_REC_MAX_THREADS)
            return fail(s, AS_EFORMAT, "thread number out of range");
        if (h->type == AS_REC_STACK) {
            const as_rec_stack_t *r = (const as_rec_stack_t *)h;
            if (h->stack == 0 || h->stack >= AS_REC_MAX_STACKS)
                return fail(s, AS_EFORMAT, "stack id out of range");
            if (r->depth > AS_REC_MAX_DEPTH ||
                sizeof *r + 8ull * r->depth > h->len)
                return fail(s, AS_EFORMAT, "STACK depth overruns the record");
        }
        if (h->type == AS_REC_WRITE) {
            const as_rec_write_t *r = (const as_rec_write_t *)h;
            const uint64_t *run = (const uint64_t *)(r + 1);
            if (sizeof *r + 16ull * r->runs > h->len)
                return fail(s, AS_EFORMAT, "WRITE runs overrun the record");
            for (uint32_t k = 0; k < r->runs; k++)
                if (run[2 * k] >= run[2 * k + 1] ||
                    (k && run[2 * k] < run[2 * k - 1]))
                    return fail(s, AS_EFORMAT,
                                "WRITE runs empty or out of order");
        }
        if (!s->have_image) return fail(s, AS_EFORMAT, "event before HELLO");
        s->mark_why = 0; /* the image went on after its MARK */
        if (s->tsc)      /* ticks -> ns (h is the caller's own copy) */
            ((as_rec_head_t *)h)->t_ns = tsc_to_ns(s, h->t_ns);
        if (h->seq < s->next_seq)
            return fail(s, AS_EFORMAT, "sequence number repeats");
        if (h->seq == s->next_seq) { /* its turn: no need to hold it */
            if ((rc = process(s, h))) return rc;
            s->next_seq++;
            return release(s, 0);
        }
        as_rec_head_t *copy = malloc(h->len);
        if (!copy) return AS_ENOMEM;
        memcpy(copy, h, h->len);
        if ((rc = heap_push(s, copy))) {
            free(copy);
            return rc;
        }
        return release(s, 0);
    }
    default:
        return fail(s, AS_EFORMAT, "unknown record type");
    }
}

int as_recstream_feed(as_recstream_t *s, const void *buf, size_t len)
{
    const uint8_t *p = buf;
    while (len > 0) {
        /* complete a carried partial record first */
        const as_rec_head_t *h;
        uint64_t aligned[AS_REC_MAX_LEN / 8];
        size_t need;
        if (s->carry_len || len < sizeof(as_rec_head_t)) {
            if (s->carry_len < sizeof(as_rec_head_t)) {
                size_t k = sizeof(as_rec_head_t) - s->carry_len;
                if (k > len) k = len;
                memcpy(s->carry + s->carry_len, p, k);
                s->carry_len += k, p += k, len -= k;
                if (s->carry_len < sizeof(as_rec_head_t)) return AS_OK;
            }
            uint16_t rl = ((const as_rec_head_t *)(const void *)s->carry)->len;
            if (rl < sizeof(as_rec_head_t) || rl > AS_REC_MAX_LEN || (rl & 7))
                return fail(s, AS_EFORMAT, "bad record length");
            size_t k = rl - s->carry_len;
            if (k > len) k = len;
            memcpy(s->carry + s->carry_len, p, k);
            s->carry_len += k, p += k, len -= k;
            if (s->carry_len < rl) return AS_OK;
            memcpy(aligned, s->carry, rl);
            s->carry_len = 0;
            h = (const as_rec_head_t *)aligned;
            need = 0;
        } else {
            memcpy(aligned, p, sizeof(as_rec_head_t));
            uint16_t rl = ((const as_rec_head_t *)aligned)->len;
            if (rl < sizeof(as_rec_head_t) || rl > AS_REC_MAX_LEN || (rl & 7))
                return fail(s, AS_EFORMAT, "bad record length");
            if (rl > len) { /* carry the partial record */
                memcpy(s->carry, p, len);
                s->carry_len = len;
                return AS_OK;
            }
            memcpy(aligned, p, rl);
            h = (const as_rec_head_t *)aligned;
            need = rl;
        }
        int rc = record(s, h);
        if (rc) return rc;
        s->stream_off += need ? need : h->len;
        p += need, len -= need;
    }
    return AS_OK;
}

int as_recstream_finish(as_recstream_t *s, as_recstream_stats_t *st)
{
    s->st.partial_bytes = s->carry_len;
    s->carry_len = 0;
    int rc = s->have_image ? end_image(s, 0) : AS_OK;
    if (rc) return rc;
    s->st.lost_records = s->st.seq_gaps + s->tail_lost;
    char v[32];
    struct {
        const char *key;
        uint64_t v;
    } m[] = {{"record.unmatched_frees", s->st.unmatched_frees},
             {"record.seq_gaps", s->st.seq_gaps},
             {"record.lost_records", s->st.lost_records},
             {"record.partial_bytes", s->st.partial_bytes},
             {"record.images", s->st.images},
             {"record.cut_off_images", s->st.cut_off}};
    for (size_t i = 0; i < sizeof m / sizeof m[0]; i++) {
        snprintf(v, sizeof v, "%" PRIu64, m[i].v);
        if ((rc = as_trace_writer_meta(s->w, m[i].key, v))) return wfail(s, rc);
    }
    static const char *const ends[] = {"none", "cut off", "exit", "signal",
                                       "exec"};
    if (s->st.end == AS_RECSTREAM_END_SIGNAL)
        snprintf(v, sizeof v, "signal %" PRIu32, s->st.end_signal);
    else
        snprintf(v, sizeof v, "%s", ends[s->st.end]);
    if ((rc = as_trace_writer_meta(s->w, "record.end", v))) return wfail(s, rc);
    if (s->writes_min) {
        struct {
            const char *key;
            uint64_t v;
        } wm[] = {
            {"record.writes_reports", s->st.writes},
            {"record.writes_dropped", s->st.writes_dropped},
            {"record.writes_missing_images", s->st.writes_missing_images}};
        for (size_t i = 0; i < sizeof wm / sizeof wm[0]; i++) {
            snprintf(v, sizeof v, "%" PRIu64, wm[i].v);
            if ((rc = as_trace_writer_meta(s->w, wm[i].key, v)))
                return wfail(s, rc);
        }
    }
    if (st) *st = s->st;
    return AS_OK;
}

/* lifewalk.c - a trace's allocations with their outcomes (see lifewalk.h).
 *
 * Owns, during one walk, the trace reader, the table of live objects and the
 * buffers of one context's pcs and frame names. Reports allocations in the
 * order of their deaths; holds nothing afterwards.
 */
#include "sim/lifewalk.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "sim/livemap.h"

#define BATCH 4096

typedef struct {
    as_trace_reader_t *r;
    const as_classes_t *cl;
    as_lifewalk_fn fn;
    void *arg;
    uint64_t *pcs;
    const char **names; /* symbols, then modules: 2 * cap */
    uint64_t *offsets;  /* the frames' offsets: cap */
    uint32_t cap;
} walk_t;

static int report(walk_t *w, const as_live_t *b, uint64_t life)
{
    as_lifewalk_alloc_t a;
    memset(&a, 0, sizeof a);
    a.ctx.object = b->id;
    a.ctx.now_ns = b->t_alloc_ns;
    a.ctx.size = b->size;
    a.ctx.thread = b->thread;
    a.ctx.stack = b->stack;
    a.ctx.stack_height = b->usable_extra; /* see the insert below */
    a.lifetime_ns = life;
    a.cls = as_classes_of(w->cl, life);
    a.ctx.true_class = (int32_t)a.cls;
    const uint32_t *frames = NULL;
    uint32_t depth = 0;
    if (b->stack &&
        as_trace_reader_stack(w->r, b->stack, &frames, &depth) == AS_OK &&
        depth) {
        if (depth > w->cap) {
            uint64_t *np = realloc(w->pcs, depth * sizeof *np);
            if (np) w->pcs = np;
            const char **nn = realloc(w->names, 2 * depth * sizeof *nn);
            if (nn) w->names = nn;
            uint64_t *no = realloc(w->offsets, depth * sizeof *no);
            if (no) w->offsets = no;
            if (!np || !nn || !no) return AS_ENOMEM;
            w->cap = depth;
        }
        for (uint32_t i = 0; i < depth; i++) {
            as_frame_t f;
            int ok = as_trace_reader_frame(w->r, frames[i], &f) == AS_OK;
            w->pcs[i] = ok ? f.pc : 0;
            w->names[i] = ok ? f.symbol : "";
            w->names[depth + i] = ok ? f.module : "";
            w->offsets[i] = ok ? f.offset : 0;
        }
        a.ctx.frames = frames;
        a.ctx.depth = depth;
        a.ctx.pcs = w->pcs;
        a.ctx.symbols = w->names;
        a.ctx.modules = w->names + depth;
        a.ctx.offsets = w->offsets;
    }
    w->fn(w->arg, &a);
    return AS_OK;
}

static int by_id(const void *a, const void *b)
{
    uint64_t x = ((const as_live_t *)a)->id, y = ((const as_live_t *)b)->id;
    return (x > y) - (x < y);
}

int as_lifewalk_trace(const char *path, const as_classes_t *cl,
                      as_lifewalk_fn fn, void *arg, char *err, size_t errcap)
{
    walk_t w = {.cl = cl, .fn = fn, .arg = arg};
    int rc = as_trace_reader_open(&w.r, path);
    if (rc != AS_OK) {
        snprintf(err, errcap, "%s",
                 w.r ? as_trace_reader_error(w.r) : "cannot open");
        as_trace_reader_close(w.r);
        return rc;
    }
    as_livemap_t live;
    as_event_t *ev = malloc(BATCH * sizeof *ev);
    if (!ev || as_livemap_init(&live, 1024) != AS_OK) {
        free(ev);
        as_trace_reader_close(w.r);
        return AS_ENOMEM;
    }
    long got;
    while (rc == AS_OK &&
           (got = as_trace_reader_next_batch(w.r, ev, BATCH)) != 0) {
        as_trace_reader_drop_kept(w.r); /* events only */
        if (got < 0) {
            rc = (int)got;
            snprintf(err, errcap, "%s", as_trace_reader_error(w.r));
            break;
        }
        for (long i = 0; i < got && rc == AS_OK; i++) {
            const as_event_t *e = &ev[i];
            if (e->kind == AS_EV_FREE || e->kind == AS_EV_REALLOC) {
                as_live_t b;
                if (as_livemap_take(&live, e->object, &b))
                    rc = report(&w, &b, e->t_ns - b.t_alloc_ns);
            }
            if (rc == AS_OK &&
                (e->kind == AS_EV_ALLOC || e->kind == AS_EV_REALLOC)) {
                as_live_t b;
                memset(&b, 0, sizeof b);
                b.id = e->kind == AS_EV_ALLOC ? e->object : e->new_object;
                b.size = e->size;
                b.t_alloc_ns = e->t_ns;
                b.stack = e->stack;
                b.thread = e->thread;
                /* No block here, so no usable bytes: the field carries
                 * the stack height (saturated to 32 bits) to report(). */
                b.usable_extra = e->stack_height > UINT32_MAX
                                     ? UINT32_MAX
                                     : (uint32_t)e->stack_height;
                if (as_livemap_insert(&live, &b) != AS_OK) rc = AS_ENOMEM;
            }
        }
    }
    /* Objects never freed, in id order (deterministic). */
    if (rc == AS_OK && live.count) {
        uint64_t n = live.count, k = 0;
        as_live_t *left = malloc(n * sizeof *left);
        if (!left) rc = AS_ENOMEM;
        as_live_t o;
        for (uint64_t cur = 0;
             left && k < n && as_livemap_next(&live, &cur, &o);)
            left[k++] = o;
        if (left) qsort(left, k, sizeof *left, by_id);
        for (uint64_t j = 0; left && j < k && rc == AS_OK; j++)
            rc = report(&w, &left[j], AS_LIFETIME_INF);
        free(left);
    }
    free(ev);
    free(w.pcs);
    free(w.names);
    free(w.offsets);
    as_livemap_destroy(&live);
    as_trace_reader_close(w.r);
    return rc;
}

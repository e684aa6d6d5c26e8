/* gen.c - the emitter shared by all synthetic workloads, and their registry.
 *
 * A workload (server_mix.c, producer_consumer.c, larson.c) decides what is
 * allocated, when, by whom and when it dies; this file turns those decisions
 * into a valid event stream. It owns the pending-op min-heap (frees and
 * reallocs ordered by time, then object id), assigns object ids exactly as
 * the trace writer does, keeps the event budget exact in both end modes, and
 * writes the trace metadata. It never reads a clock and never prints: output
 * goes to an as_gen_sink_t, errors come back as AS_E* codes.
 */
#include "traces/gen/gen.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/util.h"

/* ------------------------------------------------------------- the heap */

static int op_before(const as_gen_op_t *a, const as_gen_op_t *b)
{
    return a->t_ns < b->t_ns || (a->t_ns == b->t_ns && a->object < b->object);
}

static void heap_sift_down(as_gen_op_t *h, size_t n, size_t i)
{
    as_gen_op_t x = h[i];
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n) break;
        if (c + 1 < n && op_before(&h[c + 1], &h[c])) c++;
        if (!op_before(&h[c], &x)) break;
        h[i] = h[c];
        i = c;
    }
    h[i] = x;
}

static int heap_push(as_gen_t *g, const as_gen_op_t *op)
{
    if (g->heap_len == g->heap_cap) {
        size_t cap = g->heap_cap ? 2 * g->heap_cap : 1024;
        as_gen_op_t *h = realloc(g->heap, cap * sizeof *h);
        if (!h) return g->err = AS_ENOMEM;
        g->heap = h;
        g->heap_cap = cap;
    }
    size_t i = g->heap_len++;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!op_before(op, &g->heap[p])) break;
        g->heap[i] = g->heap[p];
        i = p;
    }
    g->heap[i] = *op;
    return 0;
}

static as_gen_op_t heap_pop(as_gen_t *g)
{
    as_gen_op_t top = g->heap[0];
    g->heap[0] = g->heap[--g->heap_len];
    if (g->heap_len) heap_sift_down(g->heap, g->heap_len, 0);
    return top;
}

/* ------------------------------------------------------- raw emission */

static int fail(as_gen_t *g, int code)
{
    if (!g->err) g->err = code;
    return g->err;
}

static int emit(as_gen_t *g, as_event_t *ev)
{
    if (g->err) return g->err;
    if (ev->t_ns < g->now_ns) return fail(g, AS_ECHECK);
    int rc = g->sink->event(g->sink->arg, ev);
    if (rc < 0) return fail(g, rc);
    g->events++;
    g->now_ns = ev->t_ns;
    return 0;
}

static uint64_t emit_alloc(as_gen_t *g, uint64_t t, uint32_t thread,
                           uint32_t cpu, uint32_t stack, uint64_t size,
                           uint64_t align)
{
    as_event_t ev = {.kind = AS_EV_ALLOC,
                     .thread = thread,
                     .cpu = cpu,
                     .stack = stack,
                     .t_ns = t,
                     .object = g->next_object,
                     .size = size,
                     .align = align};
    if (emit(g, &ev)) return AS_GEN_NONE;
    if (ev.object != g->next_object) {
        fail(g, AS_ECHECK);
        return AS_GEN_NONE;
    }
    g->live++;
    return g->next_object++;
}

static int emit_free(as_gen_t *g, uint64_t t, uint32_t thread, uint32_t cpu,
                     uint64_t object)
{
    as_event_t ev = {.kind = AS_EV_FREE,
                     .thread = thread,
                     .cpu = cpu,
                     .t_ns = t,
                     .object = object};
    int rc = emit(g, &ev);
    if (rc) return rc;
    g->live--;
    return 0;
}

static uint64_t emit_realloc(as_gen_t *g, uint64_t t, uint32_t thread,
                             uint32_t cpu, uint64_t object, uint64_t size,
                             uint32_t stack)
{
    as_event_t ev = {.kind = AS_EV_REALLOC,
                     .thread = thread,
                     .cpu = cpu,
                     .stack = stack,
                     .t_ns = t,
                     .object = object,
                     .new_object = g->next_object,
                     .size = size};
    if (emit(g, &ev)) return AS_GEN_NONE;
    if (ev.new_object != g->next_object) {
        fail(g, AS_ECHECK);
        return AS_GEN_NONE;
    }
    return g->next_object++;
}

/* ------------------------------------------------------- the budget */

uint64_t as_gen_room(const as_gen_t *g)
{
    uint64_t used = g->events + (g->drain ? g->owed : 0);
    return used >= g->cfg->events ? 0 : g->cfg->events - used;
}

/* Carry out one popped op. NEVER ops (drain at the end) happen "now". */
static int do_op(as_gen_t *g, const as_gen_op_t *op)
{
    uint64_t t = op->t_ns == AS_GEN_NEVER ? g->now_ns : op->t_ns;
    if (op->kind == AS_EV_FREE) {
        int rc = emit_free(g, t, op->thread, op->cpu, op->object);
        if (rc) return rc;
        if (g->drain) g->owed--;
        return 0;
    }
    uint64_t id = emit_realloc(g, t, op->thread, op->cpu, op->object, op->size,
                               op->stack);
    if (id == AS_GEN_NONE) return g->err;
    if (g->drain) g->owed--;
    if (op->then_ns == AS_GEN_NEVER && !g->drain) return 0;
    as_gen_op_t next = {.t_ns = op->then_ns < t ? t : op->then_ns,
                        .object = id,
                        .thread = op->thread,
                        .cpu = op->cpu,
                        .kind = AS_EV_FREE,
                        .stack = op->stack,
                        .size = op->size};
    return heap_push(g, &next);
}

/* Emit the ops due at or before t. @return 0, 1 when the budget ran out
 * (live mode: each op costs an event), or an error. */
static int flush(as_gen_t *g, uint64_t t)
{
    while (g->heap_len && g->heap[0].t_ns <= t) {
        if (!g->drain && as_gen_room(g) == 0) {
            g->full = 1;
            return 1;
        }
        as_gen_op_t op = heap_pop(g);
        int rc = do_op(g, &op);
        if (rc) return rc;
    }
    return 0;
}

uint64_t as_gen_alloc(as_gen_t *g, const as_gen_alloc_t *a)
{
    if (!as_gen_more(g)) return AS_GEN_NONE;
    int realloc_too = a->has_realloc;
    if (a->t_ns < g->now_ns || a->free_ns < a->t_ns ||
        (realloc_too &&
         (a->free_ns == AS_GEN_MANUAL || a->realloc_ns < a->t_ns ||
          a->realloc_ns > a->free_ns))) {
        fail(g, AS_ECHECK);
        return AS_GEN_NONE;
    }
    if (flush(g, a->t_ns)) return AS_GEN_NONE;
    uint64_t room = as_gen_room(g);
    uint64_t cost = g->drain ? 2u + (realloc_too ? 1u : 0u) : 1u;
    /* Drain mode: never leave room == 1, which no alloc+free fits; add a
     * realloc just before the free, or drop the requested one. */
    int parity_fix = 0;
    if (g->drain && room >= cost && room - cost == 1 &&
        a->free_ns != AS_GEN_MANUAL) {
        if (realloc_too) {
            realloc_too = 0;
            cost--;
        } else {
            parity_fix = 1;
            cost++;
        }
    }
    if (room < cost && realloc_too && room + 1 >= cost) {
        realloc_too = 0;
        cost--;
    }
    if (room < cost) {
        g->full = 1;
        return AS_GEN_NONE;
    }
    uint64_t id =
        emit_alloc(g, a->t_ns, a->thread, a->cpu, a->stack, a->size, a->align);
    if (id == AS_GEN_NONE) return id;

    as_gen_op_t op = {.t_ns = a->free_ns,
                      .object = id,
                      .thread = a->free_thread,
                      .cpu = a->free_cpu,
                      .kind = AS_EV_FREE,
                      .stack = a->stack,
                      .size = a->size};
    if (realloc_too || parity_fix) {
        op.kind = AS_EV_REALLOC;
        op.then_ns = a->free_ns;
        if (realloc_too) {
            op.t_ns = a->realloc_ns;
            op.stack = a->realloc_stack;
            op.size = a->realloc_size;
        }
        if (g->drain) g->owed += 2;
    } else if (a->free_ns == AS_GEN_MANUAL) {
        if (g->drain) g->owed++;
        return id;
    } else if (a->free_ns == AS_GEN_NEVER && !g->drain) {
        return id;
    } else if (g->drain) {
        g->owed++;
    }
    if (heap_push(g, &op)) return AS_GEN_NONE;
    return id;
}

int as_gen_free(as_gen_t *g, uint64_t t_ns, uint32_t thread, uint32_t cpu,
                uint64_t object)
{
    if (g->err) return g->err;
    if (t_ns < g->now_ns || object >= g->next_object) return fail(g, AS_ECHECK);
    int rc = flush(g, t_ns);
    if (rc) return rc;
    if (!g->drain && as_gen_room(g) == 0) {
        g->full = 1;
        return 1;
    }
    rc = emit_free(g, t_ns, thread, cpu, object);
    if (rc) return rc;
    if (g->drain) g->owed--;
    return 0;
}

uint64_t as_gen_realloc(as_gen_t *g, uint64_t t_ns, uint32_t thread,
                        uint32_t cpu, uint64_t object, uint64_t size,
                        uint32_t stack)
{
    if (g->err) return AS_GEN_NONE;
    if (t_ns < g->now_ns || object >= g->next_object) {
        fail(g, AS_ECHECK);
        return AS_GEN_NONE;
    }
    if (flush(g, t_ns)) return AS_GEN_NONE;
    if (as_gen_room(g) == 0) {
        g->full = 1;
        return AS_GEN_NONE;
    }
    return emit_realloc(g, t_ns, thread, cpu, object, size, stack);
}

#define GEN_TEARDOWN_NS 10 /* spacing of the frees at the end (end=free) */

/* End of run. Drain mode: settle a leftover odd event, then emit every
 * pending op at the end. Live mode: pending ops stay pending (objects
 * stay live). */
static int finish(as_gen_t *g)
{
    if (g->err) return g->err;
    if (!g->drain) return 0;
    if (as_gen_room(g) == 1) {
        if (g->heap_len) {
            /* Reallocate the next object due; its op follows the new id. */
            as_gen_op_t *top = &g->heap[0];
            uint64_t id = emit_realloc(g, g->now_ns, top->thread, top->cpu,
                                       top->object, top->size, top->stack);
            if (id == AS_GEN_NONE) return g->err;
            top->object = id;
            heap_sift_down(g->heap, g->heap_len, 0);
        } else {
            /* Nothing live to work with (N == 1): one object left live. */
            if (emit_alloc(g, g->now_ns, 0, 0, 0, 1, 0) == AS_GEN_NONE)
                return g->err;
        }
    }
    /* Teardown: what is still pending dies now, in the order it was due,
     * one op every GEN_TEARDOWN_NS (a heavy-tailed lifetime must not push
     * the end of the trace years ahead). */
    while (g->heap_len) {
        as_gen_op_t op = heap_pop(g);
        op.t_ns = g->now_ns + GEN_TEARDOWN_NS;
        int rc = do_op(g, &op);
        if (rc) return rc;
    }
    return 0;
}

/* ------------------------------------------------------ draws and sites */

uint64_t as_gen_draw(as_rng_t *r, const as_gen_dist_t *d)
{
    double x;
    switch (d->kind) {
    case AS_GEN_UNIFORM: {
        uint64_t v = as_rng_range(r, (uint64_t)d->a, (uint64_t)d->b);
        if (v < d->lo) v = d->lo;
        if (d->hi && v > d->hi) v = d->hi;
        return v;
    }
    case AS_GEN_EXP:
        x = as_rng_exp(r, d->a);
        break;
    case AS_GEN_LOGNORMAL:
        x = as_rng_lognormal(r, d->a, d->b);
        break;
    case AS_GEN_PARETO:
        x = as_rng_pareto(r, d->a, d->b);
        break;
    case AS_GEN_CONST:
    default:
        x = d->a;
        break;
    }
    if (!(x >= 0)) x = 0;
    if (x > 1.8e19) x = 1.8e19;
    uint64_t v = (uint64_t)x;
    if (v < d->lo) v = d->lo;
    if (d->hi && v > d->hi) v = d->hi;
    return v;
}

size_t as_gen_pick(as_rng_t *r, const double *weights, size_t n)
{
    double sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += weights[i];
    double x = as_rng_double(r) * sum;
    for (size_t i = 0; i < n; i++) {
        if (x < weights[i]) return i;
        x -= weights[i];
    }
    return n - 1;
}

#define GEN_MODULE_BASE 0x400000ull /* made-up load base of every module */

int as_gen_define_sites(as_gen_t *g, const char *module,
                        const as_gen_site_t *sites, size_t n, uint32_t *stacks)
{
    const char **names = calloc(n * AS_GEN_MAX_DEPTH + 1, sizeof *names);
    uint32_t *ids = calloc(n * AS_GEN_MAX_DEPTH + 1, sizeof *ids);
    size_t n_names = 0;
    int rc = 0;
    if (!names || !ids) {
        rc = fail(g, AS_ENOMEM);
        goto out;
    }
    for (size_t s = 0; s < n && !rc; s++) {
        uint32_t frames[AS_GEN_MAX_DEPTH];
        uint32_t depth = 0;
        for (; depth < AS_GEN_MAX_DEPTH && sites[s].frames[depth]; depth++) {
            const char *sym = sites[s].frames[depth];
            size_t k = 0;
            while (k < n_names && strcmp(names[k], sym) != 0)
                k++;
            if (k == n_names) {
                names[n_names] = sym;
                ids[n_names++] = g->next_frame++;
                uint64_t off = 0x1000 + 0x80ull * ids[k];
                as_frame_t f = {.pc = GEN_MODULE_BASE + off,
                                .offset = off,
                                .module = module,
                                .symbol = sym};
                if (g->sink->frame)
                    rc = g->sink->frame(g->sink->arg, ids[k], &f);
                if (rc) break;
            }
            frames[depth] = ids[k];
        }
        if (rc) break;
        stacks[s] = g->next_stack++;
        if (g->sink->stack)
            rc = g->sink->stack(g->sink->arg, stacks[s], frames, depth);
    }
    if (rc) fail(g, rc);
out:
    free(names);
    free(ids);
    return rc;
}

/* ---------------------------------------------------- writer as a sink */

static int w_meta(void *arg, const char *key, const char *value)
{
    return as_trace_writer_meta(arg, key, value);
}

static int w_frame(void *arg, uint32_t id, const as_frame_t *frame)
{
    return as_trace_writer_frame(arg, id, frame);
}

static int w_stack(void *arg, uint32_t id, const uint32_t *frames,
                   uint32_t depth)
{
    return as_trace_writer_stack(arg, id, frames, depth);
}

static int w_event(void *arg, as_event_t *ev)
{
    return as_trace_writer_event(arg, ev);
}

void as_gen_writer_sink(as_trace_writer_t *w, as_gen_sink_t *out)
{
    out->arg = w;
    out->meta = w_meta;
    out->frame = w_frame;
    out->stack = w_stack;
    out->event = w_event;
}

/* ------------------------------------------------------------ registry */

static const as_gen_workload_t *const registry[] = {
    &as_gen_server_mix,
    &as_gen_producer_consumer,
    &as_gen_larson,
};

size_t as_gen_count(void)
{
    return sizeof registry / sizeof registry[0];
}

const as_gen_workload_t *as_gen_at(size_t i)
{
    return i < as_gen_count() ? registry[i] : NULL;
}

const as_gen_workload_t *as_gen_find(const char *name)
{
    for (size_t i = 0; i < as_gen_count(); i++)
        if (as_str_eq(registry[i]->name, name)) return registry[i];
    return NULL;
}

static int put_meta(const as_gen_sink_t *sink, const char *k, const char *v)
{
    return sink->meta ? sink->meta(sink->arg, k, v) : 0;
}

/* "name=value,name=value" for every parameter, in table order. */
static int format_params(const as_gen_workload_t *wl,
                         const as_param_value_t *values, char *buf, size_t cap)
{
    size_t p = 0;
    buf[0] = 0;
    for (size_t i = 0; i < wl->n_params; i++) {
        char v[64];
        int n = as_param_format(&wl->params[i], values[i], v, sizeof v);
        if (n < 0) return n;
        int m = snprintf(buf + p, cap - p, "%s%s=%s", i ? "," : "",
                         wl->params[i].name, v);
        if (m < 0 || (size_t)m >= cap - p) return AS_EINVAL;
        p += (size_t)m;
    }
    return 0;
}

int as_gen_run(const as_gen_workload_t *wl, const as_gen_config_t *cfg,
               const as_param_value_t *values, const as_gen_sink_t *sink)
{
    if (!wl || !cfg || !values || !sink || !sink->event) return AS_EINVAL;
    char params[2048], num[32];
    int rc = format_params(wl, values, params, sizeof params);
    if (rc) return rc;
    if (!rc) rc = put_meta(sink, "program", "allocsim-gen");
    if (!rc) rc = put_meta(sink, "workload", wl->name);
    snprintf(num, sizeof num, "%llu", (unsigned long long)cfg->seed);
    if (!rc) rc = put_meta(sink, "seed", num);
    snprintf(num, sizeof num, "%llu", (unsigned long long)cfg->events);
    if (!rc) rc = put_meta(sink, "events", num);
    if (!rc) rc = put_meta(sink, "params", params);
    if (rc) return rc;

    as_gen_t g;
    memset(&g, 0, sizeof g);
    as_rng_seed(&g.rng, cfg->seed);
    g.cfg = cfg;
    g.sink = sink;
    g.drain = values[AS_GEN_PARAM_END].u == 1;
    g.next_frame = 1;
    g.next_stack = 1;
    rc = wl->run(&g, values);
    if (!rc) rc = g.err;
    if (!rc) rc = finish(&g);
    if (!rc && g.events != cfg->events) rc = AS_ECHECK;
    free(g.heap);
    return rc;
}

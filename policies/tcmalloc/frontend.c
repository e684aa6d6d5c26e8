/* frontend.c - size classes, per-CPU caches, transfer caches and central
 * free lists: everything between a small request and the page heap.
 *
 * Follows TCMalloc's design.md: a request is rounded to a size class; the
 * CPU named by ctx->cpu serves it from its cache (a bounded stack per class:
 * the O(1), allocation-free fast path). A miss or an overflow moves a batch
 * (num_objects_to_move) to or from the class's transfer cache, which in turn
 * falls back to the central free list. The central list keeps non-full spans
 * in 8 lists by allocated count and allocates from the most-allocated span
 * first, so sparse spans drain and go back to the page heap. Per-CPU
 * capacity grows on misses and overflows up to the per-class depth limit and
 * the per-CPU byte limit, stealing unused capacity from other classes when
 * the byte limit is reached. Objects are tracked by address in metadata
 * arrays and span slot bitmaps (policies/blocks/freelist.h); user memory is
 * never touched.
 */
#include "policies/tcmalloc/tc_internal.h"

int as_tc_classes_init(tc_t *t)
{
    const tc_class_row_t *rows = t->env.p[TC_P_SIZE_CLASSES].u
                                     ? as_tc_legacy_classes
                                     : as_tc_default_classes;
    size_t n = t->env.p[TC_P_SIZE_CLASSES].u ? as_tc_legacy_nclasses
                                             : as_tc_default_nclasses;
    if (n + 1 > TC_MAX_CLASSES) return AS_EINVAL;
    t->nclasses = (uint32_t)n;
    for (size_t i = 0; i < n; i++) {
        tc_class_t *c = &t->cls[i + 1];
        c->bytes = rows[i].bytes;
        c->pages = t->env.page_bytes == 8192
                       ? rows[i].pages
                       : as_tc_span_pages_for(rows[i].bytes, t->env.page_bytes);
        c->batch = rows[i].batch;
        c->objects =
            (uint32_t)(((uint64_t)c->pages << t->env.page_shift) / c->bytes);
        c->max_depth = (uint32_t)(i + 1 <= t->env.p[TC_P_SMALL_DEPTH_CLASSES].u
                                      ? t->env.p[TC_P_SMALL_DEPTH].u
                                      : t->env.p[TC_P_LARGE_DEPTH].u);
        c->dense = c->objects > t->env.p[TC_P_DENSE_MIN_OBJECTS].u;
        c->div_magic = UINT64_MAX / c->bytes + 1;
        tc_transfer_t *tr = &t->transfer[i + 1];
        uint64_t cap = t->env.p[TC_P_TRANSFER_BATCHES].u * c->batch;
        uint64_t by_bytes = t->env.p[TC_P_TRANSFER_BYTES].u / c->bytes;
        if (by_bytes < c->batch) by_bytes = c->batch;
        tr->cap = (uint32_t)(cap < by_bytes ? cap : by_bytes);
    }
    t->max_small = t->cls[n].bytes;
    uint32_t c = 1;
    for (uint32_t i = 0; i <= 128; i++) {
        uint32_t s = i ? i * 8 : 1;
        while (c <= n && t->cls[c].bytes < s)
            c++;
        t->small_lookup[i] = (uint8_t)c;
    }
    c = 1;
    for (uint32_t i = 0; i <= 2048; i++) {
        uint64_t s = (uint64_t)i * 128;
        while (c <= n && t->cls[c].bytes < s)
            c++;
        t->large_lookup[i] = (uint8_t)(c <= n ? c : 0);
    }
    return AS_OK;
}

/* ---------------------------------------------------------- central */

uint32_t as_tc_central_index(uint32_t objects, uint32_t allocated)
{
    if (objects <= 16) return allocated >= 8 ? 0 : 8 - allocated;
    uint32_t bw = allocated ? 32 - (uint32_t)__builtin_clz(allocated) : 0;
    return bw >= 8 ? 0 : 8 - bw;
}

static void span_unlist(tc_central_t *ce, tc_span_t *s)
{
    if (s->list == 0xff) return;
    if (s->prev)
        s->prev->next = s->next;
    else
        ce->list[s->list] = s->next;
    if (s->next) s->next->prev = s->prev;
    if (!ce->list[s->list]) ce->nonempty &= ~(1u << s->list);
    s->prev = s->next = NULL;
    s->list = 0xff;
}

static void span_relist(tc_t *t, tc_central_t *ce, tc_span_t *s)
{
    const tc_class_t *c = &t->cls[s->cls];
    span_unlist(ce, s);
    if (s->slots.used == 0 || s->slots.used >= c->objects) return;
    uint32_t i = as_tc_central_index(c->objects, s->slots.used);
    s->list = (uint8_t)i;
    s->prev = NULL;
    s->next = ce->list[i];
    if (s->next) s->next->prev = s;
    ce->list[i] = s;
    ce->nonempty |= 1u << i;
}

static tc_span_t *span_new(tc_t *t, uint32_t cls)
{
    const tc_class_t *c = &t->cls[cls];
    uint64_t *bits = t->bitmap_free[cls];
    if (bits) {
        t->bitmap_free[cls] = *(void **)bits;
    } else {
        bits = as_tc_meta_alloc(&t->env, as_slotmap_words(c->objects) * 8ull);
        if (!bits) return NULL;
    }
    tc_span_t *s = as_tc_pageheap_alloc(t, c->pages, c->dense, 0, cls);
    if (!s) {
        *(void **)bits = t->bitmap_free[cls];
        t->bitmap_free[cls] = bits;
        return NULL;
    }
    as_slotmap_reset(&s->slots, bits, c->objects);
    t->central[cls].spans++;
    t->central_spans_created++;
    return s;
}

static void span_delete(tc_t *t, tc_span_t *s)
{
    uint32_t cls = s->cls;
    *(void **)s->slots.bits = t->bitmap_free[cls];
    t->bitmap_free[cls] = s->slots.bits;
    t->central[cls].spans--;
    as_tc_pagemap_clear(t, s, 1);
    as_tc_pageheap_free(t, s);
}

uint32_t as_tc_central_remove(tc_t *t, uint32_t cls, uintptr_t *out, uint32_t n)
{
    tc_central_t *ce = &t->central[cls];
    const tc_class_t *c = &t->cls[cls];
    uint32_t got = 0;
    while (got < n) {
        tc_span_t *s;
        if (ce->nonempty) {
            s = ce->list[__builtin_ctz(ce->nonempty)];
        } else {
            s = span_new(t, cls);
            if (!s) break;
        }
        while (got < n && s->slots.used < c->objects) {
            int64_t i = as_slotmap_take(&s->slots);
            if (i < 0) break;
            out[got++] = s->start + (uintptr_t)i * c->bytes;
        }
        span_relist(t, ce, s);
    }
    return got;
}

int as_tc_central_insert(tc_t *t, uint32_t cls, const uintptr_t *objs,
                         uint32_t n)
{
    tc_central_t *ce = &t->central[cls];
    const tc_class_t *c = &t->cls[cls];
    int rc = AS_OK;
    for (uint32_t k = 0; k < n; k++) {
        tc_leaf_t *l = as_tc_leaf(t, objs[k]);
        tc_span_t *s = l ? l->span[as_tc_page_in_hp(t, objs[k])] : NULL;
        if (!s || s->cls != cls) {
            rc = AS_EINVAL;
            continue;
        }
        uint32_t i = (uint32_t)((objs[k] - s->start) / c->bytes);
        if (as_slotmap_put(&s->slots, i) != AS_OK) {
            rc = AS_EINVAL;
            continue;
        }
        if (s->slots.used == 0) {
            span_unlist(ce, s);
            span_delete(t, s);
        } else {
            span_relist(t, ce, s);
        }
    }
    return rc;
}

/* ---------------------------------------------------------- transfer */

static uint32_t transfer_remove(tc_t *t, uint32_t cls, uintptr_t *out,
                                uint32_t n)
{
    tc_transfer_t *tr = &t->transfer[cls];
    uint32_t k = tr->count < n ? tr->count : n;
    for (uint32_t i = 0; i < k; i++)
        out[i] = tr->slots[--tr->count];
    if (k == n) {
        t->transfer_hits++;
        return k;
    }
    t->transfer_misses++;
    return k + as_tc_central_remove(t, cls, out + k, n - k);
}

static int transfer_insert(tc_t *t, uint32_t cls, const uintptr_t *objs,
                           uint32_t n)
{
    tc_transfer_t *tr = &t->transfer[cls];
    if (!tr->slots && tr->cap) {
        tr->slots =
            as_tc_meta_alloc(&t->env, (size_t)tr->cap * sizeof(uintptr_t));
        if (!tr->slots) return as_tc_central_insert(t, cls, objs, n);
    }
    uint32_t room = tr->cap - tr->count;
    uint32_t k = room < n ? room : n;
    for (uint32_t i = 0; i < k; i++)
        tr->slots[tr->count++] = objs[i];
    if (k < n) return as_tc_central_insert(t, cls, objs + k, n - k);
    return AS_OK;
}

/* ---------------------------------------------------------- per-CPU */

static tc_cpu_t *cpu_get(tc_t *t, uint32_t cpu)
{
    if (cpu >= t->ncpus) cpu %= t->ncpus;
    tc_cpu_t *c = t->cpus[cpu];
    if (!c) {
        c = as_tc_meta_alloc(&t->env, sizeof *c);
        t->cpus[cpu] = c;
    }
    return c;
}

/* take up to `need` bytes of unused capacity from other classes, looking
 * at no more than TC_STEAL_SCAN classes per call (round robin) so an
 * overflow at the byte limit stays O(1) */
#define TC_STEAL_SCAN 8

static void cpu_steal(tc_t *t, tc_cpu_t *c, uint32_t cls, uint64_t need)
{
    uint32_t scan = t->nclasses < TC_STEAL_SCAN ? t->nclasses : TC_STEAL_SCAN;
    for (uint32_t step = 0; step < scan && need; step++) {
        uint32_t j = 1 + c->steal_cursor % t->nclasses;
        c->steal_cursor = j % t->nclasses;
        if (j == cls) continue;
        tc_cpu_class_t *o = &c->cls[j];
        uint32_t spare = o->cap - o->count;
        if (!spare) continue;
        uint64_t bj = t->cls[j].bytes;
        uint64_t k = (need + bj - 1) / bj;
        if (k > spare) k = spare;
        o->cap -= (uint32_t)k;
        c->cap_bytes -= k * bj;
        need = need > k * bj ? need - k * bj : 0;
    }
}

/* grow class cls's capacity by up to `want`, within both limits */
static void cpu_grow(tc_t *t, tc_cpu_t *c, uint32_t cls, uint32_t want)
{
    tc_cpu_class_t *cc = &c->cls[cls];
    const tc_class_t *k = &t->cls[cls];
    if (cc->cap >= k->max_depth) return;
    uint32_t inc =
        k->max_depth - cc->cap < want ? k->max_depth - cc->cap : want;
    uint64_t limit = t->env.p[TC_P_CPU_CACHE_BYTES].u;
    uint64_t need = (uint64_t)inc * k->bytes;
    if (c->cap_bytes + need > limit)
        cpu_steal(t, c, cls, c->cap_bytes + need - limit);
    uint64_t avail = limit > c->cap_bytes ? limit - c->cap_bytes : 0;
    if ((uint64_t)inc * k->bytes > avail) inc = (uint32_t)(avail / k->bytes);
    if (!inc) return;
    if (!cc->slots) {
        cc->slots =
            as_tc_meta_alloc(&t->env, (size_t)k->max_depth * sizeof(uintptr_t));
        if (!cc->slots) return;
    }
    cc->cap += inc;
    c->cap_bytes += (uint64_t)inc * k->bytes;
}

int as_tc_small_alloc(tc_t *t, uint32_t cpu, uint32_t cls, uintptr_t *addr)
{
    uintptr_t buf[TC_MAX_BATCH];
    const tc_class_t *k = &t->cls[cls];
    if (!t->env.p[TC_P_PER_CPU].u) {
        if (transfer_remove(t, cls, buf, 1) != 1) return AS_ENOMEM;
        *addr = buf[0];
        return AS_OK;
    }
    tc_cpu_t *c = cpu_get(t, cpu);
    if (!c) return AS_ENOMEM;
    c->ops++;
    tc_cpu_class_t *cc = &c->cls[cls];
    if (cc->count) {
        *addr = cc->slots[--cc->count];
        t->cpu_hits++;
        return AS_OK;
    }
    t->cpu_misses++;
    cpu_grow(t, c, cls, k->batch);
    uint32_t want = cc->cap ? (cc->cap < k->batch ? cc->cap : k->batch) : 1;
    uint32_t got = transfer_remove(t, cls, buf, want);
    if (!got) return AS_ENOMEM;
    *addr = buf[--got];
    uint32_t room = cc->cap - cc->count;
    uint32_t keep = got < room ? got : room;
    for (uint32_t i = 0; i < keep; i++)
        cc->slots[cc->count++] = buf[i];
    if (keep < got) transfer_insert(t, cls, buf + keep, got - keep);
    return AS_OK;
}

int as_tc_small_free(tc_t *t, uint32_t cpu, uint32_t cls, uintptr_t addr)
{
    if (!t->env.p[TC_P_PER_CPU].u) return transfer_insert(t, cls, &addr, 1);
    tc_cpu_t *c = cpu_get(t, cpu);
    if (!c) return transfer_insert(t, cls, &addr, 1);
    c->ops++;
    tc_cpu_class_t *cc = &c->cls[cls];
    if (cc->count < cc->cap) {
        cc->slots[cc->count++] = addr;
        return AS_OK;
    }
    t->cpu_overflows++;
    const tc_class_t *k = &t->cls[cls];
    cpu_grow(t, c, cls, k->batch);
    if (cc->count < cc->cap) {
        cc->slots[cc->count++] = addr;
        return AS_OK;
    }
    if (!cc->cap) return transfer_insert(t, cls, &addr, 1);
    /* full: move a batch from the top to the transfer cache */
    uint32_t n = cc->count < k->batch ? cc->count : k->batch;
    cc->count -= n;
    int rc = transfer_insert(t, cls, cc->slots + cc->count, n);
    cc->slots[cc->count++] = addr;
    return rc;
}

uint32_t as_tc_cpu_reclaim_idle(tc_t *t)
{
    uint32_t drained = 0;
    for (uint32_t i = 0; i < t->ncpus; i++) {
        tc_cpu_t *c = t->cpus[i];
        if (!c) continue;
        if (c->ops != c->ops_at_reclaim || !c->cap_bytes) {
            c->ops_at_reclaim = c->ops;
            continue;
        }
        for (uint32_t k = 1; k <= t->nclasses; k++) {
            tc_cpu_class_t *cc = &c->cls[k];
            uint32_t batch = t->cls[k].batch;
            while (cc->count) {
                uint32_t n = cc->count < batch ? cc->count : batch;
                cc->count -= n;
                transfer_insert(t, k, cc->slots + cc->count, n);
            }
            cc->cap = 0;
        }
        c->cap_bytes = 0;
        drained++;
    }
    t->cpu_reclaims += drained;
    return drained;
}

void as_tc_frontend_bytes(const tc_t *t, uint64_t *cpu, uint64_t *transfer,
                          uint64_t *central)
{
    *cpu = *transfer = *central = 0;
    for (uint32_t i = 0; i < t->ncpus; i++) {
        const tc_cpu_t *c = t->cpus[i];
        if (!c) continue;
        for (uint32_t k = 1; k <= t->nclasses; k++)
            *cpu += (uint64_t)c->cls[k].count * t->cls[k].bytes;
    }
    for (uint32_t k = 1; k <= t->nclasses; k++) {
        *transfer += (uint64_t)t->transfer[k].count * t->cls[k].bytes;
        for (int l = 0; l < TC_CENTRAL_LISTS; l++)
            for (const tc_span_t *s = t->central[k].list[l]; s; s = s->next)
                *central += (uint64_t)(t->cls[k].objects - s->slots.used) *
                            t->cls[k].bytes;
    }
}

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

/* Constants of google/tcmalloc's front end (cited in
 * docs/policies/tcmalloc.md, "Front end as in the source"). */
#define TC_BASE_CLASSES 86 /* kNumBaseClasses at 8 KiB pages */
/* kMaxSizeClassesToResize = kNumClasses (86 x 2 partitions + 86 expanded)
 * x kFractionClassesToResize 0.1 */
#define TC_TRANSFER_RESIZE_CLASSES 25
#define TC_CPU_RESIZE_CLASSES 5          /* size_classes_to_resize */
#define TC_CPU_RESIZE_CPUS 10            /* kNumCpuCachesToResize */
#define TC_SHUFFLE_CPUS 5                /* kMaxNumStealCpus */
#define TC_SHUFFLE_FRACTION 0.05         /* kBytesToStealPercent 5.0 */
#define TC_CACHE_CAPACITY_THRESHOLD 0.20 /* kCacheCapacityThreshold */
#define TC_CACHE_MISS_THRESHOLD 0.80     /* kCacheMissThreshold */
#define TC_MAX_SIZE_BYTES 262144         /* kMaxSize */

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
        /* TransferCache::CapacityNeeded: max = min(64 batches, whole
         * batches in 1 MiB, at least one); start at 16 batches */
        tc_transfer_t *tr = &t->transfer[i + 1];
        uint64_t max = t->env.p[TC_P_TRANSFER_BATCHES].u * c->batch;
        uint64_t by_bytes = t->env.p[TC_P_TRANSFER_BYTES].u /
                            ((uint64_t)c->bytes * c->batch) * c->batch;
        if (by_bytes < c->batch) by_bytes = c->batch;
        if (max > by_bytes) max = by_bytes;
        uint64_t cap = t->env.p[TC_P_TRANSFER_INITIAL_BATCHES].u * c->batch;
        tr->max_cap = (uint32_t)max;
        tr->cap = (uint32_t)(cap < max ? cap : max);
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

/* TransferCache::RemoveRange: when the cache holds objects it gives up to n
 * of them (its top, in order) and no more; only an empty cache goes to the
 * central list for all n. */
static uint32_t transfer_remove(tc_t *t, uint32_t cls, uintptr_t *out,
                                uint32_t n)
{
    tc_transfer_t *tr = &t->transfer[cls];
    if (tr->count) {
        uint32_t k = tr->count < n ? tr->count : n;
        tr->count -= k;
        for (uint32_t i = 0; i < k; i++)
            out[i] = tr->slots[tr->count + i];
        if (tr->count < tr->low_water) tr->low_water = tr->count;
        t->transfer_hits++;
        return k;
    }
    t->transfer_misses++;
    tr->misses += n;
    return as_tc_central_remove(t, cls, out, n);
}

/* TransferCache::InsertRange: as many as fit under the current capacity
 * (never grown here), the rest to the central list. */
static int transfer_insert(tc_t *t, uint32_t cls, const uintptr_t *objs,
                           uint32_t n)
{
    tc_transfer_t *tr = &t->transfer[cls];
    if (!tr->slots && tr->max_cap) {
        tr->slots =
            as_tc_meta_alloc(&t->env, (size_t)tr->max_cap * sizeof(uintptr_t));
        if (!tr->slots) return as_tc_central_insert(t, cls, objs, n);
    }
    uint32_t room = tr->cap - tr->count;
    uint32_t k = room < n ? room : n;
    for (uint32_t i = 0; i < k; i++)
        tr->slots[tr->count++] = objs[i];
    if (k == n) return AS_OK;
    tr->misses += n - k;
    return as_tc_central_insert(t, cls, objs + k, n - k);
}

uint64_t as_tc_transfer_plunder(tc_t *t)
{
    uint64_t moved = 0;
    for (uint32_t k = 1; k <= t->nclasses; k++) {
        tc_transfer_t *tr = &t->transfer[k];
        if (!tr->max_cap) continue;
        uint32_t to_return = tr->low_water;
        uint32_t b = t->cls[k].batch;
        tr->low_water = tr->count;
        while (to_return && tr->count) {
            uint32_t n = b < tr->count ? b : tr->count;
            if (n > to_return) n = to_return;
            tr->count -= n;
            to_return -= n;
            tr->low_water = tr->count;
            as_tc_central_insert(t, k, tr->slots + tr->count, n);
            moved += n;
        }
    }
    t->transfer_plundered += moved;
    return moved;
}

/* TransferCache::ShrinkCache: one batch less capacity; objects above the
 * new capacity go to the central list. @return 1 if it shrank. */
static int transfer_shrink(tc_t *t, uint32_t cls)
{
    tc_transfer_t *tr = &t->transfer[cls];
    uint32_t n = t->cls[cls].batch;
    if (cls == 0 || cls > t->nclasses || tr->cap <= n) return 0;
    uint32_t unused = tr->cap - tr->count;
    tr->cap -= n;
    if (n <= unused) return 1;
    uint32_t spill = n - unused;
    tr->count -= spill;
    if (tr->count < tr->low_water) tr->low_water = tr->count;
    as_tc_central_insert(t, cls, tr->slots + tr->count, spill);
    return 1;
}

/* TransferCache::IncreaseCacheCapacity. Slots without a class (0 and past
 * the table, TCMalloc's empty classes) "grow" by nothing and succeed, as
 * there. @return 1 if it grew. */
static int transfer_grow(tc_t *t, uint32_t cls)
{
    if (cls == 0 || cls > t->nclasses) return 1;
    tc_transfer_t *tr = &t->transfer[cls];
    uint32_t n = t->cls[cls].batch;
    if (tr->cap + n > tr->max_cap) return 0;
    tr->cap += n;
    t->transfer_resizes++;
    return 1;
}

static int transfer_can_grow(const tc_t *t, uint32_t cls)
{
    if (cls == 0 || cls > t->nclasses) return 1;
    const tc_transfer_t *tr = &t->transfer[cls];
    return tr->max_cap - tr->cap >= t->cls[cls].batch;
}

typedef struct {
    uint32_t id;     /* class or CPU */
    uint64_t misses; /* in the last interval */
} tc_miss_t;

/* most misses first, ties to the smaller id (TCMalloc's comparators) */
static int miss_before(const tc_miss_t *a, const tc_miss_t *b)
{
    return a->misses != b->misses ? a->misses > b->misses : a->id < b->id;
}

static void miss_sort(tc_miss_t *m, uint32_t n)
{
    for (uint32_t i = 1; i < n; i++) {
        tc_miss_t x = m[i];
        uint32_t j = i;
        for (; j > 0 && miss_before(&x, &m[j - 1]); j--)
            m[j] = m[j - 1];
        m[j] = x;
    }
}

void as_tc_transfer_resize(tc_t *t)
{
    /* the kNumBaseClasses (86 at 8 KiB pages) slots TCMalloc sorts,
     * class 0 and the slots past our table being empty classes */
    tc_miss_t m[TC_BASE_CLASSES];
    uint32_t n =
        t->nclasses + 1 > TC_BASE_CLASSES ? t->nclasses + 1 : TC_BASE_CLASSES;
    if (n > TC_BASE_CLASSES) n = TC_BASE_CLASSES;
    for (uint32_t i = 0; i < n; i++) {
        uint64_t mi = 0;
        if (i >= 1 && i <= t->nclasses) {
            tc_transfer_t *tr = &t->transfer[i];
            mi = tr->misses - tr->misses_at_resize;
            tr->misses_at_resize = tr->misses;
        }
        m[i] = (tc_miss_t){i, mi};
    }
    miss_sort(m, n);
    int grown = 0, shrunk = 0;
    for (int g = 0, s = (int)n - 1; g < s; ++g, --s) {
        if (grown == TC_TRANSFER_RESIZE_CLASSES) break;
        if (!transfer_can_grow(t, m[g].id)) {
            ++s;
            continue;
        }
        if (m[g].misses == 0) break;
        for (; g < s; --s)
            if (transfer_shrink(t, m[s].id)) {
                ++shrunk;
                break;
            }
        for (; g < s; ++g)
            if (transfer_grow(t, m[g].id)) {
                ++grown;
                break;
            }
    }
    while (grown < shrunk) {
        for (uint32_t i = 0; i < n; i++)
            if (transfer_grow(t, m[i].id)) {
                ++grown;
                break;
            }
    }
}

/* ---------------------------------------------------------- per-CPU */

static tc_cpu_t *cpu_get(tc_t *t, uint32_t cpu)
{
    if (cpu >= t->ncpus) cpu %= t->ncpus;
    tc_cpu_t *c = t->cpus[cpu];
    if (!c) {
        c = as_tc_meta_alloc(&t->env, sizeof *c);
        if (!c) return NULL;
        c->limit_bytes = t->env.p[TC_P_CPU_CACHE_BYTES].u;
        c->next_steal = 1;
        t->cpus[cpu] = c;
    }
    return c;
}

/* CpuCache::Grow: up to `want` more capacity for class cls out of the
 * CPU's available bytes (at least one object's worth or nothing); a grow
 * that gets less than asked is a capacity miss. @return the increase. */
static uint32_t cpu_grow(tc_t *t, tc_cpu_t *c, uint32_t cls, uint32_t want)
{
    tc_cpu_class_t *cc = &c->cls[cls];
    const tc_class_t *k = &t->cls[cls];
    uint64_t avail = c->limit_bytes - c->cap_bytes;
    uint64_t desired = (uint64_t)want * k->bytes;
    uint64_t got = avail < k->bytes ? 0 : (avail < desired ? avail : desired);
    if (got < desired) cc->cap_misses++;
    uint32_t inc = (uint32_t)(got / k->bytes);
    if (inc > k->max_depth - cc->cap) inc = k->max_depth - cc->cap;
    if (!inc) return 0;
    if (!cc->slots) {
        cc->slots =
            as_tc_meta_alloc(&t->env, (size_t)k->max_depth * sizeof(uintptr_t));
        if (!cc->slots) return 0;
    }
    cc->cap += inc;
    c->cap_bytes += (uint64_t)inc * k->bytes;
    return inc;
}

/* TargetOverflowRefillCount: objects to move on a miss: about half the
 * capacity plus the one the caller gets or gives, at most 2^successive
 * batches; 1 for a capacity of 1 until the third miss in a row. */
uint32_t as_tc_refill_count(uint32_t cap, uint32_t batch, uint32_t successive)
{
    uint64_t max = ((uint64_t)1 << (successive < 10 ? successive : 10)) * batch;
    uint64_t target = (uint64_t)(cap + 1) / 2 + 1;
    if (target > max) target = max;
    if (cap == 1 && successive < 3) target = 1;
    return (uint32_t)target;
}

/* CpuCache::UpdateCapacity on an underflow or overflow of class cls: grow
 * by one object below twice the batch (an underflow below one batch grows
 * to it), by a batch only when an underflow follows an overflow.
 * @return the objects to move (as_tc_refill_count). */
static uint32_t cpu_update_capacity(tc_t *t, tc_cpu_t *c, uint32_t cls,
                                    int overflow)
{
    tc_cpu_class_t *cc = &c->cls[cls];
    const tc_class_t *k = &t->cls[cls];
    uint32_t batch = k->batch, maxc = k->max_depth;
    int grow_by_one = cc->cap < 2 * batch;
    int grow_by_batch = !overflow && cc->last_overflow;
    if (grow_by_one || grow_by_batch) cc->quiescent = 0;
    cc->successive = (uint16_t)((overflow != 0) == (cc->last_overflow != 0)
                                    ? cc->successive + 1
                                    : 0);
    cc->last_overflow = (uint8_t)(overflow != 0);
    if ((grow_by_one || grow_by_batch) && cc->cap != maxc) {
        uint32_t inc = 1;
        if (grow_by_batch)
            inc = batch < maxc - cc->cap ? batch : maxc - cc->cap;
        else if (!overflow && cc->cap < batch)
            inc = batch - cc->cap;
        cpu_grow(t, c, cls, inc);
    }
    return as_tc_refill_count(cc->cap, batch, cc->successive);
}

uint32_t as_tc_cpu_take(tc_t *t, uint32_t cpu, uint32_t cls, uintptr_t *out,
                        uint32_t n)
{
    if (!t->env.p[TC_P_PER_CPU].u) return 0;
    tc_cpu_t *c = cpu_get(t, cpu);
    if (!c) return 0;
    tc_cpu_class_t *cc = &c->cls[cls];
    uint32_t k = cc->count < n ? cc->count : n;
    for (uint32_t i = 0; i < k; i++)
        out[i] = cc->slots[cc->count - 1 - i];
    cc->count -= k;
    t->cpu_hits += k;
    return k;
}

uint32_t as_tc_cpu_put(tc_t *t, uint32_t cpu, uint32_t cls, const uintptr_t *in,
                       uint32_t n)
{
    if (!t->env.p[TC_P_PER_CPU].u) return 0;
    tc_cpu_t *c = cpu_get(t, cpu);
    if (!c) return 0;
    tc_cpu_class_t *cc = &c->cls[cls];
    uint32_t room = cc->cap - cc->count, k = n < room ? n : room;
    for (uint32_t i = 0; i < k; i++)
        cc->slots[cc->count + i] = in[i];
    cc->count += k;
    return k;
}

int as_tc_small_alloc(tc_t *t, uint32_t cpu, uint32_t cls, uintptr_t *addr)
{
    uintptr_t buf[TC_MAX_BATCH];
    if (!t->env.p[TC_P_PER_CPU].u) {
        if (transfer_remove(t, cls, buf, 1) != 1) return AS_ENOMEM;
        *addr = buf[0];
        return AS_OK;
    }
    tc_cpu_t *c = cpu_get(t, cpu);
    if (!c) return AS_ENOMEM;
    tc_cpu_class_t *cc = &c->cls[cls];
    if (cc->count) {
        *addr = cc->slots[--cc->count];
        t->cpu_hits++;
        return AS_OK;
    }
    /* CpuCache::Refill */
    t->cpu_misses++;
    c->underflows++;
    uint32_t target = cpu_update_capacity(t, c, cls, 0);
    uint32_t total = 0, got, left;
    int have = 0;
    do {
        uint32_t want =
            target - total < TC_MAX_BATCH ? target - total : TC_MAX_BATCH;
        got = transfer_remove(t, cls, buf, want);
        if (!got) break;
        total += got;
        left = got;
        if (!have) {
            *addr = buf[--left];
            have = 1;
        }
        uint32_t room = cc->cap - cc->count;
        uint32_t keep = left < room ? left : room;
        for (uint32_t i = 0; i < keep; i++)
            cc->slots[cc->count++] = buf[i];
        if (keep < left) transfer_insert(t, cls, buf + keep, left - keep);
        left -= keep;
    } while (got == TC_MAX_BATCH && left == 0 && total < target);
    return have ? AS_OK : AS_ENOMEM;
}

int as_tc_small_free(tc_t *t, uint32_t cpu, uint32_t cls, uintptr_t addr)
{
    if (!t->env.p[TC_P_PER_CPU].u) return transfer_insert(t, cls, &addr, 1);
    tc_cpu_t *c = cpu_get(t, cpu);
    if (!c) return transfer_insert(t, cls, &addr, 1);
    tc_cpu_class_t *cc = &c->cls[cls];
    if (cc->count < cc->cap) {
        cc->slots[cc->count++] = addr;
        return AS_OK;
    }
    /* CpuCache::DeallocateSlow: the freed object and up to target - 1 from
     * the top of the stack go to the transfer cache, even when the
     * capacity just grew */
    t->cpu_overflows++;
    c->overflows++;
    uint32_t target = cpu_update_capacity(t, c, cls, 1);
    uintptr_t buf[TC_MAX_BATCH];
    uint32_t total = 0, count = 1;
    int rc = AS_OK;
    buf[0] = addr;
    do {
        uint32_t want =
            target - total < TC_MAX_BATCH ? target - total : TC_MAX_BATCH;
        if (count < want) {
            uint32_t n = want - count < cc->count ? want - count : cc->count;
            cc->count -= n;
            for (uint32_t i = 0; i < n; i++)
                buf[count + i] = cc->slots[cc->count + i];
            count += n;
        }
        if (!count) break;
        total += count;
        int r = transfer_insert(t, cls, buf, count);
        if (r != AS_OK) rc = r;
        if (count != TC_MAX_BATCH) break;
        count = 0;
    } while (total < target);
    return rc;
}

/* move every object of class k on c to the transfer cache, in batches */
static void cpu_drain_class(tc_t *t, tc_cpu_class_t *cc, uint32_t k)
{
    uint32_t batch = t->cls[k].batch;
    while (cc->count) {
        uint32_t n = cc->count < batch ? cc->count : batch;
        cc->count -= n;
        transfer_insert(t, k, cc->slots + cc->count, n);
    }
}

static uint64_t cpu_used_bytes(const tc_t *t, const tc_cpu_t *c)
{
    uint64_t b = 0;
    for (uint32_t k = 1; k <= t->nclasses; k++)
        b += (uint64_t)c->cls[k].count * t->cls[k].bytes;
    return b;
}

uint32_t as_tc_cpu_reclaim_idle(tc_t *t)
{
    uint32_t drained = 0;
    for (uint32_t i = 0; i < t->ncpus; i++) {
        tc_cpu_t *c = t->cpus[i];
        if (!c) continue;
        uint64_t used = cpu_used_bytes(t, c);
        uint64_t misses = (c->underflows - c->under_at_drain) +
                          (c->overflows - c->over_at_drain);
        c->under_at_drain = c->underflows;
        c->over_at_drain = c->overflows;
        if (used && used == c->drain_used_bytes && misses == 0) {
            for (uint32_t k = 1; k <= t->nclasses; k++) {
                cpu_drain_class(t, &c->cls[k], k);
                c->cls[k].cap = 0;
            }
            c->cap_bytes = 0;
            drained++;
            used = 0;
        }
        c->drain_used_bytes = used;
    }
    t->cpu_reclaims += drained;
    return drained;
}

/* CpuCache::ShrinkOtherCache: the steal clock. Class cls of c gives up one
 * object of capacity (its top object goes to the transfer cache when the
 * stack is full) once it has been passed at least `score` times since it
 * last grew; small, full or just-above-a-batch classes score higher.
 * @return bytes of capacity freed (0 or the class size). */
static uint64_t cpu_shrink_one(tc_t *t, tc_cpu_t *c, uint32_t cls)
{
    tc_cpu_class_t *cc = &c->cls[cls];
    if (!cc->cap) return 0;
    uint32_t len = cc->count, cap = cc->cap, batch = t->cls[cls].batch;
    uint64_t size = t->cls[cls].bytes;
    uint32_t full = len >= cap, mid = len >= batch && len < 2 * batch;
    uint32_t score = 0;
    if (size <= 144)
        score = 2 + full + mid;
    else if (size <= 1024)
        score = 1 + full + mid;
    else if (size <= 65536)
        score = full;
    uint32_t ticks = cc->quiescent;
    cc->quiescent = (uint16_t)((cc->quiescent + 1) & 0x7fff);
    if (ticks < score) return 0;
    if (full) {
        cc->count--;
        transfer_insert(t, cls, cc->slots + cc->count, 1);
    }
    cc->cap--;
    c->cap_bytes -= size;
    return size;
}

/* StealCapacityForSizeClassWithinCpu: walk the classes of c round robin
 * from next_steal, skipping the classes to grow (dest with misses), until
 * `bytes` are freed or every class was passed once. @return bytes freed. */
static uint64_t cpu_steal_within(tc_t *t, tc_cpu_t *c, const tc_miss_t *dest,
                                 uint32_t ndest, uint64_t bytes)
{
    uint64_t got = 0;
    uint32_t k = c->next_steal;
    for (uint32_t i = 0; i < t->nclasses; i++, k++) {
        if (k > t->nclasses) k = 1;
        int skip = 0;
        for (uint32_t d = 0; d < ndest; d++)
            if (dest[d].id == k && dest[d].misses) skip = 1;
        if (skip) continue;
        got += cpu_shrink_one(t, c, k);
        if (got >= bytes) break;
    }
    c->next_steal = k > t->nclasses ? 1 : k;
    return got;
}

/* ResizeCpuSizeClasses for one CPU */
static void cpu_resize_one(tc_t *t, tc_cpu_t *c)
{
    if (c->limit_bytes - c->cap_bytes >= t->env.p[TC_P_CPU_CACHE_BYTES].u)
        return; /* nothing allocated: every class can grow as it likes */
    tc_miss_t m[TC_MAX_CLASSES];
    uint32_t n = t->nclasses;
    for (uint32_t k = 1; k <= n; k++)
        m[k - 1] = (tc_miss_t){k, c->cls[k].cap_misses -
                                      c->cls[k].cap_misses_at_resize};
    miss_sort(m, n);
    uint64_t avail = c->limit_bytes - c->cap_bytes;
    c->cap_bytes = c->limit_bytes; /* available taken out, as exchange(0) */
    uint32_t to_resize = TC_CPU_RESIZE_CLASSES;
    for (uint32_t i = 0; i < to_resize && i < n; i++) {
        if (m[i].misses == 0) break;
        uint32_t cls = m[i].id;
        tc_cpu_class_t *cc = &c->cls[cls];
        const tc_class_t *k = &t->cls[cls];
        uint32_t can_grow = k->max_depth - cc->cap;
        if (!can_grow) {
            if (to_resize < n) to_resize++;
            continue;
        }
        t->cpu_class_resizes++;
        uint64_t need =
            (uint64_t)(can_grow < k->batch ? can_grow : k->batch) * k->bytes;
        if (need > avail) {
            uint64_t before = c->cap_bytes;
            cpu_steal_within(t, c, m, to_resize < n ? to_resize : n,
                             need - avail);
            /* what the steal freed became available */
            avail += before - c->cap_bytes;
            c->cap_bytes = before;
        }
        uint64_t acq = avail / k->bytes;
        if (acq > can_grow) acq = can_grow;
        if (acq) {
            if (!cc->slots) {
                cc->slots = as_tc_meta_alloc(&t->env, (size_t)k->max_depth *
                                                          sizeof(uintptr_t));
                if (!cc->slots) continue;
            }
            cc->cap += (uint32_t)acq;
            avail -= acq * k->bytes;
        }
    }
    c->cap_bytes = c->limit_bytes - avail;
}

void as_tc_cpu_resize_classes(tc_t *t)
{
    uint32_t cpu = t->last_cpu_resized, resized = 0;
    for (uint32_t off = 0; off < t->ncpus; off++) {
        if (++cpu >= t->ncpus) cpu = 0;
        tc_cpu_t *c = t->cpus[cpu];
        if (!c) continue;
        cpu_resize_one(t, c);
        for (uint32_t k = 1; k <= t->nclasses; k++)
            c->cls[k].cap_misses_at_resize = c->cls[k].cap_misses;
        if (++resized >= TC_CPU_RESIZE_CPUS) break;
    }
    t->last_cpu_resized = cpu;
}

/* StealFromOtherCache: capacity for CPU dst from other populated CPUs with
 * at least 20% of the limit and fewer than 0.8x dst's underflows and
 * overflows: first their available bytes, then the steal clock. */
static void cpu_steal_other(tc_t *t, uint32_t dst, uint32_t max_cpu,
                            const tc_miss_t *skip, uint32_t nskip,
                            uint64_t bytes)
{
    tc_cpu_t *d = t->cpus[dst];
    uint64_t limit = t->env.p[TC_P_CPU_CACHE_BYTES].u;
    if (d->limit_bytes - d->cap_bytes >= TC_MAX_SIZE_BYTES) return;
    uint64_t du = d->underflows - d->under_at_shuffle;
    uint64_t dov = d->overflows - d->over_at_shuffle;
    uint64_t acquired = 0;
    uint32_t src = t->next_cpu_steal;
    for (uint32_t i = 0; i <= max_cpu && acquired < bytes; ++i, ++src) {
        if (src > max_cpu) src = 0;
        int skipped = 0;
        for (uint32_t j = 0; j < nskip; j++)
            if (skip[j].id == src) skipped = 1;
        tc_cpu_t *s = t->cpus[src];
        if (skipped || !s) continue;
        if ((double)s->limit_bytes <
            TC_CACHE_CAPACITY_THRESHOLD * (double)limit)
            continue;
        if ((double)(s->underflows - s->under_at_shuffle) >
                TC_CACHE_MISS_THRESHOLD * (double)du ||
            (double)(s->overflows - s->over_at_shuffle) >
                TC_CACHE_MISS_THRESHOLD * (double)dov)
            continue;
        uint64_t avail = s->limit_bytes - s->cap_bytes;
        uint64_t take = avail < bytes - acquired ? avail : bytes - acquired;
        s->limit_bytes -= take;
        acquired += take;
        if (acquired >= bytes) continue;
        uint32_t k = s->next_steal;
        for (uint32_t n = 0; n < t->nclasses; n++, k++) {
            if (k > t->nclasses) k = 1;
            uint64_t got = cpu_shrink_one(t, s, k);
            s->limit_bytes -= got;
            acquired += got;
            if (acquired >= bytes) break;
        }
        s->next_steal = k > t->nclasses ? 1 : k;
    }
    t->next_cpu_steal = src;
    d->limit_bytes += acquired;
    t->cpu_shuffled_bytes += acquired;
}

void as_tc_cpu_shuffle(tc_t *t)
{
    uint32_t n = 0, max_cpu = 0;
    int any = 0;
    for (uint32_t i = 0; i < t->ncpus; i++)
        if (t->cpus[i]) n++;
    if (!n) return;
    tc_miss_t *m = as_tc_meta_alloc(&t->env, n * sizeof *m);
    if (!m) return;
    n = 0;
    for (uint32_t i = 0; i < t->ncpus; i++) {
        tc_cpu_t *c = t->cpus[i];
        if (!c) continue;
        m[n++] = (tc_miss_t){i, (c->underflows - c->under_at_shuffle) +
                                    (c->overflows - c->over_at_shuffle)};
        max_cpu = i;
        any = 1;
    }
    uint32_t ndest = n < TC_SHUFFLE_CPUS ? n : TC_SHUFFLE_CPUS;
    /* partial sort: the ndest CPUs with the most misses first */
    for (uint32_t i = 0; i < ndest; i++) {
        uint32_t best = i;
        for (uint32_t j = i + 1; j < n; j++)
            if (miss_before(&m[j], &m[best])) best = j;
        tc_miss_t x = m[i];
        m[i] = m[best];
        m[best] = x;
    }
    uint64_t to_steal = (uint64_t)(TC_SHUFFLE_FRACTION *
                                   (double)t->env.p[TC_P_CPU_CACHE_BYTES].u);
    for (uint32_t i = 0; any && i < ndest; i++) {
        if (m[i].misses == 0) break;
        cpu_steal_other(t, m[i].id, max_cpu, m, i + 1, to_steal);
    }
    as_tc_meta_free(&t->env, m);
    for (uint32_t i = 0; i < t->ncpus; i++) {
        tc_cpu_t *c = t->cpus[i];
        if (!c) continue;
        c->under_at_shuffle = c->underflows;
        c->over_at_shuffle = c->overflows;
    }
}

/* one background action: run `fn` when `period` has passed since *last */
static int due(uint64_t now, uint64_t *last, uint64_t period)
{
    if (!period || now - *last < period) return 0;
    *last = now;
    return 1;
}

void as_tc_frontend_tick(tc_t *t, uint64_t now)
{
    if (t->env.p[TC_P_PER_CPU].u) {
        if (due(now, &t->last_reclaim_ns, t->env.p[TC_P_CPU_RECLAIM].u))
            as_tc_cpu_reclaim_idle(t);
        if (due(now, &t->last_shuffle_ns,
                t->env.p[TC_P_CPU_SHUFFLE_INTERVAL].u))
            as_tc_cpu_shuffle(t);
        if (due(now, &t->last_cpu_resize_ns,
                t->env.p[TC_P_CPU_RESIZE_INTERVAL].u))
            as_tc_cpu_resize_classes(t);
    }
    if (due(now, &t->last_plunder_ns,
            t->env.p[TC_P_TRANSFER_PLUNDER_INTERVAL].u))
        as_tc_transfer_plunder(t);
    if (due(now, &t->last_tc_resize_ns,
            t->env.p[TC_P_TRANSFER_RESIZE_INTERVAL].u))
        as_tc_transfer_resize(t);
}

/* The front end's invariants (tc_internal.h): per-CPU caches within their
 * capacities and the CPUs' limits summing to CPUs x cpu_cache_bytes,
 * transfer caches within theirs, central lists by fill. */
int as_tc_frontend_check(const tc_t *t, as_msg_t *why)
{
    uint64_t limit = t->env.p[TC_P_CPU_CACHE_BYTES].u, limits = 0, ncpu = 0;
    for (uint32_t i = 0; i < t->ncpus; i++) {
        const tc_cpu_t *c = t->cpus[i];
        if (!c) continue;
        uint64_t bytes = 0;
        for (uint32_t k = 1; k <= t->nclasses; k++) {
            const tc_cpu_class_t *cc = &c->cls[k];
            if (cc->count > cc->cap || cc->cap > t->cls[k].max_depth)
                return as_msg_fail(
                    why, "cpu cache: count > cap or cap > max_depth", "cpu", i);
            bytes += (uint64_t)cc->cap * t->cls[k].bytes;
        }
        if (bytes != c->cap_bytes || bytes > c->limit_bytes)
            return as_msg_fail(why,
                               "cpu cache: cap_bytes != sum of capacities or "
                               "above the CPU's limit_bytes",
                               "cpu", i);
        limits += c->limit_bytes;
        ncpu++;
    }
    if (limits != ncpu * limit)
        return as_msg_fail(why,
                           "cpu cache: limits do not sum to CPUs x "
                           "cpu_cache_bytes",
                           "sum", limits);
    for (uint32_t k = 1; k <= t->nclasses; k++) {
        const tc_transfer_t *tr = &t->transfer[k];
        if (tr->low_water > tr->count || tr->count > tr->cap ||
            tr->cap > tr->max_cap)
            return as_msg_fail(why,
                               "transfer cache: not low_water <= count <= "
                               "cap <= max_cap",
                               "class", k);
        for (uint32_t l = 0; l < TC_CENTRAL_LISTS; l++)
            for (const tc_span_t *s = t->central[k].list[l]; s; s = s->next) {
                if (s->cls != k || s->list != l || s->slots.used == 0 ||
                    s->slots.used >= t->cls[k].objects ||
                    as_tc_central_index(t->cls[k].objects, s->slots.used) !=
                        l ||
                    as_slotmap_check(&s->slots) != AS_OK)
                    return as_msg_fail(why,
                                       "central list: span of another class, "
                                       "fill or list, or slot count wrong",
                                       "span_addr", s->start);
            }
    }
    return AS_OK;
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

/* info.c - one pass over a trace computing as_trace_stats_t.
 *
 * Owns two small open-addressing tables that live only during the pass: the
 * live map (object id -> requested size, linear probing with backward-shift
 * deletion, so no tombstones) and a set of distinct thread/cpu numbers. The
 * figures are defined in info.h; this file never prints.
 */
#include "traces/info.h"

#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/util.h"

/* Invariant: every key is stored at or after its home slot (mod cap) with
 * no empty slot in between; key 0 marks an empty slot (ids stored + 1). */
typedef struct {
    uint64_t *key; /* id + 1, or 0 when empty */
    uint64_t *val; /* size */
    size_t cap;    /* power of two */
    size_t n;      /* occupied slots; n <= cap / 2 */
} livemap_t;

static int lm_grow(livemap_t *m)
{
    size_t cap = m->cap ? m->cap * 2 : 1024;
    uint64_t *k = calloc(cap, sizeof *k), *v = malloc(cap * sizeof *v);
    if (!k || !v) {
        free(k);
        free(v);
        return AS_ENOMEM;
    }
    for (size_t i = 0; i < m->cap; i++) {
        if (!m->key[i]) continue;
        size_t j = as_hash64(m->key[i]) & (cap - 1);
        while (k[j])
            j = (j + 1) & (cap - 1);
        k[j] = m->key[i];
        v[j] = m->val[i];
    }
    free(m->key);
    free(m->val);
    m->key = k;
    m->val = v;
    m->cap = cap;
    return 0;
}

static int lm_put(livemap_t *m, uint64_t id, uint64_t size)
{
    if (2 * (m->n + 1) > m->cap && lm_grow(m)) return AS_ENOMEM;
    uint64_t key = id + 1;
    size_t j = as_hash64(key) & (m->cap - 1);
    while (m->key[j] && m->key[j] != key)
        j = (j + 1) & (m->cap - 1);
    if (!m->key[j]) m->n++;
    m->key[j] = key;
    m->val[j] = size;
    return 0;
}

/* Remove id; @return 1 and its size in *size, or 0 when not present. */
static int lm_del(livemap_t *m, uint64_t id, uint64_t *size)
{
    if (!m->cap) return 0;
    uint64_t key = id + 1;
    size_t mask = m->cap - 1, j = as_hash64(key) & mask;
    while (m->key[j] != key) {
        if (!m->key[j]) return 0;
        j = (j + 1) & mask;
    }
    *size = m->val[j];
    /* backward shift: move later entries of the run into the hole */
    size_t hole = j;
    for (size_t i = (j + 1) & mask; m->key[i]; i = (i + 1) & mask) {
        size_t home = as_hash64(m->key[i]) & mask;
        /* may move if home is not in (hole, i] cyclically */
        if (((i - home) & mask) >= ((i - hole) & mask)) {
            m->key[hole] = m->key[i];
            m->val[hole] = m->val[i];
            hole = i;
        }
    }
    m->key[hole] = 0;
    m->n--;
    return 1;
}

/* A set of uint32 values (thread or cpu numbers). */
typedef struct {
    uint64_t *slot; /* value + 1, 0 = empty */
    size_t cap, n;
} set_t;

static int set_add(set_t *s, uint32_t v)
{
    if (2 * (s->n + 1) > s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 64;
        uint64_t *p = calloc(cap, sizeof *p);
        if (!p) return AS_ENOMEM;
        for (size_t i = 0; i < s->cap; i++) {
            if (!s->slot[i]) continue;
            size_t j = as_hash64(s->slot[i]) & (cap - 1);
            while (p[j])
                j = (j + 1) & (cap - 1);
            p[j] = s->slot[i];
        }
        free(s->slot);
        s->slot = p;
        s->cap = cap;
    }
    uint64_t key = (uint64_t)v + 1;
    size_t j = as_hash64(key) & (s->cap - 1);
    while (s->slot[j] && s->slot[j] != key)
        j = (j + 1) & (s->cap - 1);
    if (!s->slot[j]) {
        s->slot[j] = key;
        s->n++;
    }
    return 0;
}

static void max_to(uint64_t *peak, uint64_t v)
{
    if (v > *peak) *peak = v;
}

/* Fold the samples and write reports the reader absorbed into s, and
 * drop them. */
static void take_samples(as_trace_reader_t *r, as_trace_stats_t *s)
{
    size_t n;
    const as_mem_sample_t *m = as_trace_reader_samples(r, &n);
    for (size_t i = 0; i < n; i++) {
        if (s->samples++ == 0) s->first_sample_t_ns = m[i].t_ns;
        s->last_sample_t_ns = m[i].t_ns;
        if (m[i].has & AS_SAMPLE_HAS_RSS) {
            s->rss_samples++;
            if (m[i].rss_bytes > s->peak_rss_bytes)
                s->peak_rss_bytes = m[i].rss_bytes;
        }
        if (m[i].has & AS_SAMPLE_HAS_HUGE) {
            s->huge_samples++;
            if (m[i].anon_huge_bytes > s->peak_anon_huge_bytes)
                s->peak_anon_huge_bytes = m[i].anon_huge_bytes;
        }
        if (m[i].has & AS_SAMPLE_HAS_MALLINFO) {
            const uint64_t *f = m[i].mallinfo.f;
            s->mallinfo_samples++;
            max_to(&s->peak_mallinfo_heap_bytes,
                   f[AS_MI_ARENA] + f[AS_MI_HBLKHD]);
            max_to(&s->peak_mallinfo_arena_bytes, f[AS_MI_ARENA]);
            max_to(&s->peak_mallinfo_hblkhd_bytes, f[AS_MI_HBLKHD]);
            max_to(&s->peak_mallinfo_inuse_bytes,
                   f[AS_MI_UORDBLKS] + f[AS_MI_HBLKHD]);
        }
    }
    as_trace_reader_drop_samples(r, n);
    const as_write_t *w = as_trace_reader_writes(r, &n);
    for (size_t i = 0; i < n; i++) {
        s->writes++;
        s->write_bytes = s->write_bytes + w[i].bytes < s->write_bytes
                             ? UINT64_MAX /* saturates: never wraps */
                             : s->write_bytes + w[i].bytes;
    }
    as_trace_reader_drop_writes(r, n);
}

int as_trace_stats(as_trace_reader_t *r, as_trace_stats_t *s)
{
    memset(s, 0, sizeof *s);
    int rc = as_trace_reader_rewind(r);
    if (rc) return rc;
    livemap_t live = {0};
    set_t threads = {0}, cpus = {0};
    uint64_t live_bytes = 0, last_thread = UINT64_MAX, last_cpu = UINT64_MAX;
    enum { BATCH = 1024 };
    as_event_t *evs = malloc(BATCH * sizeof *evs);
    if (!evs) return AS_ENOMEM;
    long n;
    while ((n = as_trace_reader_next_batch(r, evs, BATCH)) > 0) {
        if (s->events == 0) s->first_t_ns = evs[0].t_ns;
        for (long i = 0; i < n && !rc; i++) {
            const as_event_t *e = &evs[i];
            uint64_t size;
            if (e->thread != last_thread) {
                rc = set_add(&threads, e->thread);
                last_thread = e->thread;
            }
            if (!rc && e->cpu != last_cpu) {
                rc = set_add(&cpus, e->cpu);
                last_cpu = e->cpu;
            }
            if (e->kind != AS_EV_ALLOC) {
                if (lm_del(&live, e->object, &size))
                    live_bytes -= size;
                else
                    s->unknown_frees++;
            }
            if (e->kind != AS_EV_FREE) {
                uint64_t id =
                    e->kind == AS_EV_ALLOC ? e->object : e->new_object;
                if (!rc) rc = lm_put(&live, id, e->size);
                live_bytes += e->size;
                s->requested_bytes += e->size;
                if (live_bytes > s->peak_live_bytes) {
                    s->peak_live_bytes = live_bytes;
                    s->peak_live_t_ns = e->t_ns;
                }
                if (live.n > s->peak_live_objects)
                    s->peak_live_objects = live.n;
                if (e->stack_height) {
                    s->height_allocs++;
                    if (e->stack_height > s->max_stack_height)
                        s->max_stack_height = e->stack_height;
                }
            }
            s->allocs += e->kind == AS_EV_ALLOC;
            s->frees += e->kind == AS_EV_FREE;
            s->reallocs += e->kind == AS_EV_REALLOC;
        }
        if (rc) break;
        s->events += (uint64_t)n;
        s->last_t_ns = evs[n - 1].t_ns;
        take_samples(r, s);
    }
    if (!rc && n < 0) rc = (int)n;
    take_samples(r, s); /* those after the last event */
    s->version = as_trace_reader_version(r);
    s->objects = s->allocs + s->reallocs;
    s->duration_ns = s->last_t_ns - s->first_t_ns;
    s->end_live_bytes = live_bytes;
    s->end_live_objects = live.n;
    s->threads = (uint32_t)threads.n;
    s->cpus = (uint32_t)cpus.n;
    s->stacks = as_trace_reader_max_stack(r);
    s->frames = as_trace_reader_max_frame(r);
    s->chunks = as_trace_reader_chunk_count(r);
    s->file_bytes = as_trace_reader_file_bytes(r);
    s->bytes_per_event = s->events ? (double)s->file_bytes / s->events : 0;
    s->truncated = as_trace_reader_truncated(r);
    free(evs);
    free(live.key);
    free(live.val);
    free(threads.slot);
    free(cpus.slot);
    return rc;
}

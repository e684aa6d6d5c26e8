/* livemap.c - the table of live objects (see livemap.h): packed entries in
 * a slab, found through an open-addressing index of slab positions; the
 * rare entry that does not pack lives whole in a small wide table. Owns
 * its memory (host memory: this is the simulator, not a policy). Never
 * shrinks; its size tracks the peak of live objects.
 */
#include "sim/livemap.h"

#include <stdlib.h>
#include <string.h>

#include "common/error.h"

#define CHUNK_SHIFT 12 /* 4096 entries (128 KiB) per slab chunk */
#define CHUNK_ENTRIES (1u << CHUNK_SHIFT)
#define LOW40 ((1ull << 40) - 1)
#define LOW48 ((1ull << 48) - 1)

/* Packed fields:
 *   w[0] id (40 bits) | stack << 40 (24)
 *   w[1] t_alloc_ns - t_base (48) | thread << 48 (16)
 *   w[2] addr (48) | (predicted + 1) << 48 (4) | (shadow + 1) << 52 (4)
 *        | flags << 56 (8)
 *   w[3] size (40) | usable_extra << 40 (24); on the free list: next + 1 */

static int packs(const as_livemap_t *m, const as_live_t *e)
{
    return e->id <= LOW40 && e->stack < (1u << 24) &&
           e->t_alloc_ns >= m->t_base && e->t_alloc_ns - m->t_base <= LOW48 &&
           e->thread < (1u << 16) && e->addr <= LOW48 && e->predicted >= -1 &&
           e->predicted <= 14 && e->shadow >= -1 && e->shadow <= 14 &&
           e->size <= LOW40 && e->usable_extra < (1u << 24);
}

static void pack(const as_livemap_t *m, const as_live_t *e, as_live_packed_t *p)
{
    p->w[0] = e->id | (uint64_t)e->stack << 40;
    p->w[1] = (e->t_alloc_ns - m->t_base) | (uint64_t)e->thread << 48;
    p->w[2] = e->addr | (uint64_t)(e->predicted + 1) << 48 |
              (uint64_t)(e->shadow + 1) << 52 | (uint64_t)e->flags << 56;
    p->w[3] = e->size | (uint64_t)e->usable_extra << 40;
}

static void unpack(const as_livemap_t *m, const as_live_packed_t *p,
                   as_live_t *e)
{
    e->id = p->w[0] & LOW40;
    e->stack = (uint32_t)(p->w[0] >> 40);
    e->t_alloc_ns = (p->w[1] & LOW48) + m->t_base;
    e->thread = (uint32_t)(p->w[1] >> 48);
    e->addr = p->w[2] & LOW48;
    e->predicted = (int8_t)((p->w[2] >> 48 & 15) - 1);
    e->shadow = (int8_t)((p->w[2] >> 52 & 15) - 1);
    e->flags = (uint8_t)(p->w[2] >> 56);
    e->used = 1;
    e->size = p->w[3] & LOW40;
    e->usable_extra = (uint32_t)(p->w[3] >> 40);
}

static inline as_live_packed_t *slab_at(const as_livemap_t *m, uint64_t pos)
{
    return &m->chunks[pos >> CHUNK_SHIFT][pos & (CHUNK_ENTRIES - 1)];
}

/* ---- the wide table: whole entries, linear probing ---- */

static inline uint64_t wide_home(const as_livemap_t *m, uint64_t id)
{
    return as_hash64(id) & m->wide_mask;
}

static void wide_place(as_live_t *slots, uint64_t mask, const as_live_t *e)
{
    uint64_t i = as_hash64(e->id) & mask;
    while (slots[i].used)
        i = (i + 1) & mask;
    slots[i] = *e;
    slots[i].used = 1;
}

static int wide_insert(as_livemap_t *m, const as_live_t *e)
{
    if (!m->wide || (m->wide_count + 1) * 4 > (m->wide_mask + 1) * 3) {
        uint64_t cap = m->wide ? (m->wide_mask + 1) * 2 : 64;
        as_live_t *n = calloc(cap, sizeof *n);
        if (!n) return AS_ENOMEM;
        for (uint64_t i = 0; m->wide && i <= m->wide_mask; i++)
            if (m->wide[i].used) wide_place(n, cap - 1, &m->wide[i]);
        free(m->wide);
        m->wide = n;
        m->wide_mask = cap - 1;
    }
    wide_place(m->wide, m->wide_mask, e);
    m->wide_count++;
    return AS_OK;
}

/* Backward-shift deletion in a linear-probing table: may the entry at j,
 * whose home slot is h, move back into the hole (is h outside the cyclic
 * run (hole, j])? */
static inline int shifts_back(uint64_t hole, uint64_t j, uint64_t h)
{
    return hole <= j ? (h <= hole || h > j) : (h <= hole && h > j);
}

/* The wide table's slot holding id, or UINT64_MAX when none does. */
static uint64_t wide_find(const as_livemap_t *m, uint64_t id)
{
    for (uint64_t i = wide_home(m, id);; i = (i + 1) & m->wide_mask) {
        if (!m->wide[i].used) return UINT64_MAX;
        if (m->wide[i].id == id) return i;
    }
}

static int wide_take(as_livemap_t *m, uint64_t id, as_live_t *out)
{
    uint64_t i = wide_find(m, id);
    if (i == UINT64_MAX) return 0;
    *out = m->wide[i];
    uint64_t hole = i, j = i;
    for (;;) {
        j = (j + 1) & m->wide_mask;
        if (!m->wide[j].used) break;
        if (shifts_back(hole, j, wide_home(m, m->wide[j].id))) {
            m->wide[hole] = m->wide[j];
            hole = j;
        }
    }
    m->wide[hole].used = 0;
    m->wide_count--;
    return 1;
}

/* ---- the index ---- */

static void index_place(uint32_t *index, const as_livemap_t *m, uint64_t id,
                        uint32_t slot)
{
    uint64_t i = as_livemap_home(m, id);
    while (index[i])
        if (++i == m->cap) i = 0;
    index[i] = slot;
}

/* Grow the index by 1.5x (at least 1024 slots). @return 0 or AS_ENOMEM. */
static int index_grow(as_livemap_t *m, uint64_t want)
{
    uint64_t cap = m->cap ? m->cap + m->cap / 2 : 1024;
    while (cap < want)
        cap += cap / 2;
    uint32_t *n = calloc(cap, sizeof *n);
    if (!n) return AS_ENOMEM;
    uint32_t *old = m->index;
    uint64_t old_cap = m->cap;
    m->index = n;
    m->cap = cap;
    for (uint64_t i = 0; i < old_cap; i++)
        if (old[i])
            index_place(n, m, slab_at(m, old[i] - 1)->w[0] & LOW40, old[i]);
    free(old);
    return AS_OK;
}

int as_livemap_init(as_livemap_t *m, uint64_t capacity_hint)
{
    memset(m, 0, sizeof *m);
    return index_grow(m, capacity_hint + capacity_hint / 4);
}

void as_livemap_destroy(as_livemap_t *m)
{
    for (uint64_t i = 0; i < m->n_chunks; i++)
        free(m->chunks[i]);
    free(m->chunks);
    free(m->index);
    free(m->wide);
    memset(m, 0, sizeof *m);
}

/* A free slab position (+ 1), taking a new chunk when needed; 0 when out
 * of memory or past 2^32 - 1 positions. */
static uint32_t slab_alloc(as_livemap_t *m)
{
    if (m->free_head) {
        uint64_t pos = m->free_head - 1;
        m->free_head = slab_at(m, pos)->w[3];
        return (uint32_t)(pos + 1);
    }
    if (m->slab_used >= UINT32_MAX - 1) return 0;
    if (m->slab_used == m->n_chunks * CHUNK_ENTRIES) {
        if (m->n_chunks == m->chunks_cap) {
            uint64_t nc = m->chunks_cap ? m->chunks_cap * 2 : 16;
            as_live_packed_t **n = realloc(m->chunks, nc * sizeof *n);
            if (!n) return 0;
            m->chunks = n;
            m->chunks_cap = nc;
        }
        m->chunks[m->n_chunks] =
            malloc(CHUNK_ENTRIES * sizeof(as_live_packed_t));
        if (!m->chunks[m->n_chunks]) return 0;
        m->n_chunks++;
    }
    return (uint32_t)(++m->slab_used);
}

int as_livemap_insert(as_livemap_t *m, const as_live_t *e)
{
    if (!m->have_base) {
        m->t_base = e->t_alloc_ns;
        m->have_base = 1;
    }
    if (!packs(m, e)) {
        int rc = wide_insert(m, e);
        if (rc == AS_OK) m->count++;
        return rc;
    }
    if ((m->n_index + 1) * 5 > m->cap * 4 &&
        index_grow(m, (m->n_index + 1) * 5 / 4 + 1) != AS_OK)
        return AS_ENOMEM;
    uint32_t slot = slab_alloc(m);
    if (!slot)
        return wide_insert(m, e) == AS_OK ? (m->count++, AS_OK) : AS_ENOMEM;
    pack(m, e, slab_at(m, slot - 1));
    index_place(m->index, m, e->id, slot);
    m->n_index++;
    m->count++;
    return AS_OK;
}

/* The index slot holding packed id, or m->cap when none does. */
static uint64_t index_find(const as_livemap_t *m, uint64_t id)
{
    for (uint64_t i = as_livemap_home(m, id);;) {
        uint32_t s = m->index[i];
        if (!s) return m->cap;
        if ((slab_at(m, s - 1)->w[0] & LOW40) == id) return i;
        if (++i == m->cap) i = 0;
    }
}

/* Empty index slot i by backward-shift deletion. */
static void index_erase(as_livemap_t *m, uint64_t i)
{
    uint64_t hole = i, j = i;
    for (;;) {
        if (++j == m->cap) j = 0;
        uint32_t t = m->index[j];
        if (!t) break;
        uint64_t h = as_livemap_home(m, slab_at(m, t - 1)->w[0] & LOW40);
        if (shifts_back(hole, j, h)) {
            m->index[hole] = t;
            hole = j;
        }
    }
    m->index[hole] = 0;
    m->n_index--;
}

int as_livemap_take(as_livemap_t *m, uint64_t id, as_live_t *out)
{
    uint64_t i = m->n_index && id <= LOW40 ? index_find(m, id) : m->cap;
    if (i < m->cap) {
        uint32_t s = m->index[i];
        as_live_packed_t *p = slab_at(m, s - 1);
        unpack(m, p, out);
        p->w[3] = m->free_head; /* the slab position is free again */
        m->free_head = s;
        index_erase(m, i);
        m->count--;
        return 1;
    }
    if (m->wide_count && wide_take(m, id, out)) {
        m->count--;
        return 1;
    }
    return 0;
}

int as_livemap_get(const as_livemap_t *m, uint64_t id, as_live_t *out)
{
    uint64_t i = m->n_index && id <= LOW40 ? index_find(m, id) : m->cap;
    if (i < m->cap) {
        unpack(m, slab_at(m, m->index[i] - 1), out);
        return 1;
    }
    if (!m->wide_count || (i = wide_find(m, id)) == UINT64_MAX) return 0;
    *out = m->wide[i];
    return 1;
}

int as_livemap_next(const as_livemap_t *m, uint64_t *cursor, as_live_t *out)
{
    /* index slots in order, then the wide table's */
    while (*cursor < m->cap) {
        uint32_t s = m->index[(*cursor)++];
        if (s) {
            unpack(m, slab_at(m, s - 1), out);
            return 1;
        }
    }
    while (*cursor - m->cap <= m->wide_mask && m->wide) {
        const as_live_t *w = &m->wide[*cursor - m->cap];
        (*cursor)++;
        if (w->used) {
            *out = *w;
            return 1;
        }
    }
    return 0;
}

uint64_t as_livemap_bytes(const as_livemap_t *m)
{
    return m->cap * sizeof *m->index +
           m->n_chunks * CHUNK_ENTRIES * sizeof(as_live_packed_t) +
           m->chunks_cap * sizeof *m->chunks +
           (m->wide ? (m->wide_mask + 1) * sizeof *m->wide : 0);
}

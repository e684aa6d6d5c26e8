/* livemap.h - the engine's table of live objects, keyed by object id.
 *
 * Type map
 *   as_live_t     one live object as the engine reads and writes it
 *   as_livemap_t  the table: a slab of packed 32-byte entries and an
 *                 open-addressing index of 4-byte slab positions, plus a
 *                 wide table for the rare entry that does not pack
 *
 * Layout and cost. An entry packs into 32 bytes when its id < 2^40, stack
 * < 2^24, thread < 2^16, address and t_alloc - (the first entry's time)
 * < 2^48, size < 2^40, usable_extra < 2^24 and its classes in -1..14;
 * others go whole (48 bytes) to the wide table, which stays empty on
 * every trace we have. Slab entries are allocated in chunks of 4096 and
 * reused through a free list, so the slab holds the peak of live objects;
 * the index (linear probing, backward-shift deletion, home slot by
 * multiply-shift of a 64-bit mix of the id) grows by 1.5x at 0.8 load, so
 * it holds 0.53 to 0.8 entries per slot: 5 to 7.5 bytes per live object.
 * In all 37 to 40 bytes per live object (64 to 128 before).
 *
 * Invariants: count == index entries + wide entries; every index slot
 * holds a slab position + 1 (0 = empty) inside the probe run of its id's
 * home slot; a slab position is either in the index or on the free list.
 */
#ifndef AS_SIM_LIVEMAP_H
#define AS_SIM_LIVEMAP_H

#include <stdint.h>

#include "common/util.h"

#define AS_LIVE_FAILED 0x1u /* the policy refused the allocation */

typedef struct {
    uint64_t id;           /* object id */
    uint64_t addr;         /* block address (0 when FAILED) */
    uint64_t size;         /* requested bytes */
    uint64_t t_alloc_ns;   /* allocation time */
    uint32_t usable_extra; /* usable bytes - size (rounding), saturated */
    uint32_t stack;        /* allocation site */
    uint32_t thread;       /* allocating thread */
    int8_t predicted;      /* predicted class, or -1 */
    uint8_t flags;         /* AS_LIVE_* */
    uint8_t used;          /* slot occupied (wide table) */
    int8_t shadow;         /* the shadow predictor's class, or -1 */
} as_live_t;

typedef struct {
    uint64_t w[4]; /* packed fields (livemap.c) */
} as_live_packed_t;

typedef struct {
    /* the index */
    uint32_t *index; /* slab position + 1, 0 = empty */
    uint64_t cap;    /* index slots */
    uint64_t n_index;
    /* the slab */
    as_live_packed_t **chunks;
    uint64_t n_chunks, chunks_cap;
    uint64_t slab_used; /* positions ever handed out */
    uint64_t free_head; /* first free position + 1, 0 = none */
    uint64_t t_base;    /* t_alloc of packed entries is relative to this */
    int have_base;
    /* entries that do not pack */
    as_live_t *wide;
    uint64_t wide_mask, wide_count;
    uint64_t count; /* live entries in all */
} as_livemap_t;

/* @return 0 or AS_ENOMEM. */
int as_livemap_init(as_livemap_t *m, uint64_t capacity_hint);
void as_livemap_destroy(as_livemap_t *m);

/* as_livemap_insert: add a fresh entry for e->id (must not be present).
 * @return 0 or AS_ENOMEM. */
int as_livemap_insert(as_livemap_t *m, const as_live_t *e);

/* as_livemap_take: remove id and copy its entry to *out.
 * @return 1 if it was present, 0 if not. */
int as_livemap_take(as_livemap_t *m, uint64_t id, as_live_t *out);

/* as_livemap_get: copy id's entry to *out, leaving the table as it was
 * (a write report's lookup). @return 1 if it is present, 0 if not. */
int as_livemap_get(const as_livemap_t *m, uint64_t id, as_live_t *out);

/* as_livemap_next: iterate over every live entry: start with *cursor = 0;
 * each call copies one entry to *out and @return 1, or @return 0 when
 * there are no more. The order (index order, then the wide table's) is a
 * function of the ids inserted and taken, in their order, and of nothing
 * else. The table must not change during the iteration. */
int as_livemap_next(const as_livemap_t *m, uint64_t *cursor, as_live_t *out);

/* as_livemap_bytes: @return host bytes the table holds. */
uint64_t as_livemap_bytes(const as_livemap_t *m);

/* The index slot where `id` lives or will be placed. */
static inline uint64_t as_livemap_home(const as_livemap_t *m, uint64_t id)
{
    return (uint64_t)(((unsigned __int128)as_hash64(id) * m->cap) >> 64);
}

/* as_livemap_prefetch: start loading the index slot of `id`. The replay
 * loop calls it a few events ahead (with a live set larger than the cache,
 * each insert and take is otherwise a full memory miss), then
 * as_livemap_prefetch_entry a few events later for the entry itself. */
static inline void as_livemap_prefetch(const as_livemap_t *m, uint64_t id)
{
    if (m->cap) __builtin_prefetch(&m->index[as_livemap_home(m, id)], 1, 3);
}

static inline void as_livemap_prefetch_entry(const as_livemap_t *m, uint64_t id)
{
    if (!m->cap) return;
    uint32_t s = m->index[as_livemap_home(m, id)];
    if (s) __builtin_prefetch(&m->chunks[(s - 1) >> 12][(s - 1) & 4095], 1, 3);
}

#endif /* AS_SIM_LIVEMAP_H */

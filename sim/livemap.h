/* livemap.h - the engine's table of live objects, keyed by object id.
 *
 * Open addressing with linear probing and backward-shift deletion; the table
 * doubles at 3/4 load, so it costs at most 64 bytes per live object (48-byte
 * entries) and is sized by the peak of live objects, never by the trace's
 * total. Ids are dense and increasing; the hash is a full 64-bit mix.
 *
 * Invariant: count == number of slots with used != 0; every entry sits in the
 * probe run that starts at its home slot.
 */
#ifndef AS_SIM_LIVEMAP_H
#define AS_SIM_LIVEMAP_H

#include <stdint.h>

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
    uint8_t used;          /* slot occupied */
    int8_t shadow;         /* the shadow predictor's class, or -1 */
} as_live_t;

typedef struct {
    as_live_t *slots;
    uint64_t mask; /* capacity - 1 (capacity a power of two) */
    uint64_t count;
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

/* as_livemap_prefetch: start loading the slot where `id` lives or will be
 * placed. The replay loop calls it a few events ahead: with a live set larger
 * than the cache, each insert and take is otherwise a full memory miss. */
static inline void as_livemap_prefetch(const as_livemap_t *m, uint64_t id)
{
    uint64_t x = id;
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebull;
    x ^= x >> 31;
    __builtin_prefetch(&m->slots[x & m->mask], 1, 3);
}

/* Iterate: for (i = 0; i <= mask; i++) if (slots[i].used) ... */

#endif /* AS_SIM_LIVEMAP_H */

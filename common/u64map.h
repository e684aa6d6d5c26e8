/* u64map.h - an open-addressing hash map from uint64_t to uint64_t.
 *
 * Type map
 *   as_u64map_slot_t  one (key, value) pair of the table
 *   as_u64map_t       the table, its metadata arena and counts
 *
 * Linear probing with backward-shift deletion (no tombstones). A key's home
 * slot is Fibonacci hashing: the top log2(cap) bits of key * 2^64/phi, one
 * multiply and one shift (addresses and ids, the keys policies use, are
 * arithmetic-progression-like, which this spreads evenly). Key 0 marks an empty
 * slot, so the key 0 itself is kept outside the table (has_zero, zero_value).
 * The table doubles when it would pass 1/2 full (3/4 for a map made by
 * as_u64map_init_dense: half the bytes for the same keys, for maps whose
 * size matters more than the cost of longer probe runs); its memory comes
 * from the as_mem_t given at init, never from libc.
 *
 * Invariants (checked by as_u64map_check):
 *   cap is 0 or a power of two >= 16; count == occupied slots + has_zero;
 *   occupied slots <= as_u64map_max_used (cap / 2, or cap - cap / 4 dense);
 *   for every occupied slot i with home h = hash(key) & (cap-1), every slot
 *   from h up to i (cyclically) is occupied (the probe sequence has no gap);
 *   keys are unique.
 * Expected O(1) per operation.
 */
#ifndef AS_COMMON_U64MAP_H
#define AS_COMMON_U64MAP_H

#include <stddef.h>
#include <stdint.h>

#include "common/util.h"
#include "common/mem.h"

typedef struct {
    uint64_t key; /* 0 = empty */
    uint64_t value;
} as_u64map_slot_t;

typedef struct {
    as_u64map_slot_t *slots; /* cap slots, NULL until the first insert */
    size_t cap;              /* power of two, or 0 */
    size_t used;             /* occupied slots (excluding key 0) */
    int has_zero;            /* key 0 present */
    uint32_t dense;          /* 1: fill to 3/4 before doubling, 0: to 1/2 */
    uint64_t zero_value;     /* its value */
    as_mem_t mem;            /* where slots come from */
} as_u64map_t;

/* as_u64map_home: the home slot of key in a table of cap (> 0) slots. */
static inline size_t as_u64map_home(size_t cap, uint64_t key)
{
    return (size_t)((key * 0x9e3779b97f4a7c15ull) >>
                    (64 - __builtin_ctzll((unsigned long long)cap)));
}

/* as_u64map_init: empty map allocating from `mem` (copied). Allocates
 * nothing until the first insert. */
void as_u64map_init(as_u64map_t *m, const as_mem_t *mem);

/* as_u64map_init_dense: as as_u64map_init, for a map that fills its table
 * to 3/4 before doubling (linear probing's expected probes per hit go from
 * 1.5 to 2.5, per miss from 2.5 to 8.5). */
void as_u64map_init_dense(as_u64map_t *m, const as_mem_t *mem);

/* as_u64map_max_used: @return the most occupied slots a table of m->cap
 * slots may hold before it doubles. */
static inline size_t as_u64map_max_used(const as_u64map_t *m)
{
    return m->dense ? m->cap - m->cap / 4 : m->cap / 2;
}

/* as_u64map_fini: free the table; the map is empty afterwards. */
void as_u64map_fini(as_u64map_t *m);

/* as_u64map_count: @return the number of keys. */
static inline size_t as_u64map_count(const as_u64map_t *m)
{
    return m->used + (size_t)m->has_zero;
}

/* as_u64map_reserve: make room so that `n` more inserts cannot fail.
 * @return 0 or AS_ENOMEM (the map is unchanged). */
int as_u64map_reserve_slow(as_u64map_t *m, size_t n);
static inline int as_u64map_reserve(as_u64map_t *m, size_t n)
{
    if (m->cap && m->used + n <= as_u64map_max_used(m)) return 0; /* common */
    return as_u64map_reserve_slow(m, n);
}

/* as_u64map_put: set key -> value (insert or overwrite).
 * @return 0 or AS_ENOMEM (the map is unchanged). */
int as_u64map_put(as_u64map_t *m, uint64_t key, uint64_t value);

/* as_u64map_get: @return 1 and *value when key is present, else 0. value may
 * be NULL. Inline: it is on every policy's hot path. */
static inline int as_u64map_get(const as_u64map_t *m, uint64_t key,
                                uint64_t *value)
{
    if (key == 0) {
        if (m->has_zero && value) *value = m->zero_value;
        return m->has_zero;
    }
    if (!m->cap) return 0;
    size_t mask = m->cap - 1, i = as_u64map_home(m->cap, key);
    for (;;) {
        const as_u64map_slot_t *s = &m->slots[i];
        if (s->key == key) {
            if (value) *value = s->value;
            return 1;
        }
        if (!s->key) return 0;
        i = (i + 1) & mask;
    }
}

/* as_u64map_replace: overwrite the value of a key already present; never
 * allocates or grows the table (as_u64map_put may grow it early).
 * @return 1 when key was present (its value is now `value`), else 0. */
int as_u64map_replace(as_u64map_t *m, uint64_t key, uint64_t value);

/* as_u64map_remove: @return 1 (and the old *value if value != NULL) when key
 * was present and is now gone, else 0. */
int as_u64map_remove(as_u64map_t *m, uint64_t key, uint64_t *value);

/* as_u64map_next: iterate. Start with *it = 0; @return 1 with the next pair,
 * 0 at the end. Order is unspecified; do not modify the map while iterating. */
int as_u64map_next(const as_u64map_t *m, size_t *it, uint64_t *key,
                   uint64_t *value);

/* as_u64map_bytes: @return metadata bytes the table holds. */
static inline size_t as_u64map_bytes(const as_u64map_t *m)
{
    return m->cap * sizeof(as_u64map_slot_t);
}

/* as_u64map_check: expensive tier: verify the invariants above, O(cap).
 * @return 0 or AS_ECHECK. */
int as_u64map_check(const as_u64map_t *m);

#endif /* AS_COMMON_U64MAP_H */

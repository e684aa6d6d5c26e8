/* u64map.c - linear-probing hash map uint64_t -> uint64_t (see u64map.h).
 *
 * Owns the slot array and nothing else. All memory comes from the map's
 * as_mem_t (zero-filled, so a fresh table is all empty slots); it must never
 * call libc allocation or print. Deletion shifts later members of the probe
 * run back instead of leaving tombstones, so lookups stay short however many
 * removals a long replay makes.
 */
#include "common/u64map.h"

#include "common/error.h"
#include "common/util.h"

#define MIN_CAP 16

/* Most occupied slots a table of cap slots may hold: half by default.
 * Linear probing's expected miss cost grows like 1/(1-load)^2, so 3/4 costs
 * about 4x the probes of 1/2; removals (backward shift walks the whole run)
 * suffer most. Dense maps accept that for half the bytes. */
static inline size_t max_used(const as_u64map_t *m, size_t cap)
{
    return m->dense ? cap - cap / 4 : cap / 2;
}

static inline size_t home(const as_u64map_t *m, uint64_t key)
{
    return as_u64map_home(m->cap, key);
}

void as_u64map_init(as_u64map_t *m, const as_mem_t *mem)
{
    m->slots = NULL;
    m->cap = 0;
    m->used = 0;
    m->has_zero = 0;
    m->dense = 0;
    m->zero_value = 0;
    m->mem = *mem;
}

void as_u64map_init_dense(as_u64map_t *m, const as_mem_t *mem)
{
    as_u64map_init(m, mem);
    m->dense = 1;
}

void as_u64map_fini(as_u64map_t *m)
{
    if (m->slots) as_mem_free(&m->mem, m->slots, as_u64map_bytes(m));
    m->slots = NULL;
    m->cap = 0;
    m->used = 0;
    m->has_zero = 0;
}

/* Place a key known to be absent into a table with room. */
static void place(as_u64map_slot_t *slots, size_t cap, uint64_t key,
                  uint64_t value)
{
    size_t i = as_u64map_home(cap, key);
    while (slots[i].key)
        i = (i + 1) & (cap - 1);
    slots[i].key = key;
    slots[i].value = value;
}

static int resize(as_u64map_t *m, size_t cap)
{
    as_u64map_slot_t *s = as_mem_alloc(&m->mem, cap * sizeof *s);
    if (!s) return AS_ENOMEM;
    for (size_t i = 0; i < m->cap; i++)
        if (m->slots[i].key) place(s, cap, m->slots[i].key, m->slots[i].value);
    if (m->slots) as_mem_free(&m->mem, m->slots, as_u64map_bytes(m));
    m->slots = s;
    m->cap = cap;
    return 0;
}

int as_u64map_reserve_slow(as_u64map_t *m, size_t n)
{
    size_t want = m->used + n;
    if (m->cap && want <= max_used(m, m->cap)) return 0;
    size_t cap = m->cap ? m->cap : MIN_CAP;
    while (want > max_used(m, cap)) {
        if (cap > ((size_t)-1) / 2 / sizeof(as_u64map_slot_t)) return AS_ENOMEM;
        cap *= 2;
    }
    return cap == m->cap ? 0 : resize(m, cap);
}

static inline as_u64map_slot_t *lookup(const as_u64map_t *m, uint64_t key)
{
    if (!m->cap) return NULL;
    size_t mask = m->cap - 1, i = home(m, key);
    for (;;) {
        as_u64map_slot_t *s = &m->slots[i];
        if (s->key == key) return s;
        if (!s->key) return NULL;
        i = (i + 1) & mask;
    }
}

int as_u64map_put(as_u64map_t *m, uint64_t key, uint64_t value)
{
    if (key == 0) {
        m->has_zero = 1;
        m->zero_value = value;
        return 0;
    }
    /* Room first (an overwrite may not need it, but growing early is
     * harmless), then one probe that stops at the key or an empty slot. */
    int rc = as_u64map_reserve(m, 1);
    if (rc) return rc;
    size_t mask = m->cap - 1, i = home(m, key);
    for (;;) {
        as_u64map_slot_t *s = &m->slots[i];
        if (s->key == key) {
            s->value = value;
            return 0;
        }
        if (!s->key) {
            s->key = key;
            s->value = value;
            m->used++;
            return 0;
        }
        i = (i + 1) & mask;
    }
}

int as_u64map_replace(as_u64map_t *m, uint64_t key, uint64_t value)
{
    if (key == 0) {
        if (m->has_zero) m->zero_value = value;
        return m->has_zero;
    }
    as_u64map_slot_t *s = lookup(m, key);
    if (s) s->value = value;
    return s != NULL;
}

int as_u64map_remove(as_u64map_t *m, uint64_t key, uint64_t *value)
{
    if (key == 0) {
        if (!m->has_zero) return 0;
        if (value) *value = m->zero_value;
        m->has_zero = 0;
        return 1;
    }
    as_u64map_slot_t *s = lookup(m, key);
    if (!s) return 0;
    if (value) *value = s->value;
    size_t mask = m->cap - 1, hole = (size_t)(s - m->slots);
    size_t i = (hole + 1) & mask;
    /* Backward shift: move each later member of the run whose home is not
     * cyclically in (hole, i] into the hole. */
    while (m->slots[i].key) {
        size_t h = home(m, m->slots[i].key);
        if (((i - h) & mask) >= ((i - hole) & mask)) {
            m->slots[hole] = m->slots[i];
            hole = i;
        }
        i = (i + 1) & mask;
    }
    m->slots[hole].key = 0;
    m->slots[hole].value = 0;
    m->used--;
    return 1;
}

int as_u64map_next(const as_u64map_t *m, size_t *it, uint64_t *key,
                   uint64_t *value)
{
    /* Position 0 stands for key 0; slot i is position i + 1. */
    if (*it == 0) {
        *it = 1;
        if (m->has_zero) {
            *key = 0;
            *value = m->zero_value;
            return 1;
        }
    }
    while (*it - 1 < m->cap) {
        const as_u64map_slot_t *s = &m->slots[*it - 1];
        (*it)++;
        if (s->key) {
            *key = s->key;
            *value = s->value;
            return 1;
        }
    }
    return 0;
}

int as_u64map_check(const as_u64map_t *m)
{
    if (m->cap == 0) return (m->used == 0 && !m->slots) ? 0 : AS_ECHECK;
    if (!as_is_pow2(m->cap) || m->cap < MIN_CAP) return AS_ECHECK;
    size_t mask = m->cap - 1, used = 0;
    for (size_t i = 0; i < m->cap; i++) {
        uint64_t k = m->slots[i].key;
        if (!k) continue;
        used++;
        /* every slot from home to i is occupied, and no earlier slot of the
         * run holds the same key */
        for (size_t j = home(m, k); j != i; j = (j + 1) & mask)
            if (!m->slots[j].key || m->slots[j].key == k) return AS_ECHECK;
    }
    if (used != m->used || used > max_used(m, m->cap)) return AS_ECHECK;
    return 0;
}

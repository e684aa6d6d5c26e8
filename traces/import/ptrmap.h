/* ptrmap.h - address -> object id map shared by the importers and the
 * recorder's collector (internal to traces/import/).
 *
 * Open addressing with linear probing and backward-shift deletion (no
 * tombstones, so a long run of alloc/free keeps probes short). Key 0 marks
 * an empty slot, so the key 0 itself (a null pointer, a pc of 0 in a hostile
 * file) is kept outside the table, in has0/val0: every uint64_t is a valid
 * key.
 * Invariant: n == occupied slots + has0; occupied slots <= cap / 2; every
 * key sits at or after its home slot with no empty slot between home and it
 * (cyclically).
 */
#ifndef AS_TRACES_IMPORT_PTRMAP_H
#define AS_TRACES_IMPORT_PTRMAP_H

#include <stdint.h>
#include <stdlib.h>

#include "common/error.h"
#include "common/util.h"

/* One slot: key and value side by side, so a probe touches one line. */
typedef struct {
    uint64_t key; /* 0 = empty */
    uint64_t val;
} as_ptrmap_slot_t;

typedef struct {
    as_ptrmap_slot_t *slots;
    size_t cap;    /* power of two, or 0 before the first put */
    size_t n;      /* keys stored (has0 included) */
    int has0;      /* key 0 is present ... */
    uint64_t val0; /* ... with this value */
} as_ptrmap_t;

/* Home slot: every bit of the key mixed (splitmix64 finalizer). Keys from
 * input files are addresses and pcs that are often dense (pcs one byte
 * apart, objects 16 bytes apart); a home that keeps any low bits unmixed
 * gives such keys long shared probe runs and quadratic time. */
static inline size_t as_ptrmap_home(const as_ptrmap_t *m, uint64_t k)
{
    return (size_t)as_hash64(k) & (m->cap - 1);
}

static inline void as_ptrmap_free(as_ptrmap_t *m)
{
    free(m->slots);
    m->slots = NULL;
    m->cap = m->n = 0;
    m->has0 = 0;
}

static inline int as_ptrmap_grow(as_ptrmap_t *m)
{
    size_t ncap = m->cap ? m->cap * 2 : 1024;
    as_ptrmap_slot_t *ns = calloc(ncap, sizeof *ns);
    if (!ns) return AS_ENOMEM;
    for (size_t i = 0; i < m->cap; i++) {
        if (!m->slots[i].key) continue;
        as_ptrmap_t nm = {ns, ncap, 0, 0, 0};
        size_t j = as_ptrmap_home(&nm, m->slots[i].key);
        while (ns[j].key)
            j = (j + 1) & (ncap - 1);
        ns[j] = m->slots[i];
    }
    free(m->slots);
    m->slots = ns;
    m->cap = ncap;
    return AS_OK;
}

/* as_ptrmap_get: @return 1 and *v when k is present, else 0. */
static inline int as_ptrmap_get(const as_ptrmap_t *m, uint64_t k, uint64_t *v)
{
    if (k == 0) {
        if (m->has0 && v) *v = m->val0;
        return m->has0;
    }
    if (!m->cap) return 0;
    for (size_t i = as_ptrmap_home(m, k);; i = (i + 1) & (m->cap - 1)) {
        if (m->slots[i].key == k) {
            if (v) *v = m->slots[i].val;
            return 1;
        }
        if (!m->slots[i].key) return 0;
    }
}

/* as_ptrmap_put: set k -> v. @return 1 when k was present (value replaced),
 * 0 when added, AS_ENOMEM. */
static inline int as_ptrmap_put(as_ptrmap_t *m, uint64_t k, uint64_t v)
{
    if (k == 0) {
        int had = m->has0;
        m->val0 = v;
        m->has0 = 1;
        m->n += !had;
        return had;
    }
    if (2 * (m->n + 1) > m->cap) {
        int rc = as_ptrmap_grow(m);
        if (rc) return rc;
    }
    for (size_t i = as_ptrmap_home(m, k);; i = (i + 1) & (m->cap - 1)) {
        if (m->slots[i].key == k) {
            m->slots[i].val = v;
            return 1;
        }
        if (!m->slots[i].key) {
            m->slots[i].key = k;
            m->slots[i].val = v;
            m->n++;
            return 0;
        }
    }
}

/* as_ptrmap_del: remove k. @return 1 and *v when it was present, else 0. */
static inline int as_ptrmap_del(as_ptrmap_t *m, uint64_t k, uint64_t *v)
{
    if (k == 0) {
        if (!m->has0) return 0;
        if (v) *v = m->val0;
        m->has0 = 0;
        m->n--;
        return 1;
    }
    if (!m->cap) return 0;
    size_t mask = m->cap - 1, i = as_ptrmap_home(m, k);
    while (m->slots[i].key != k) {
        if (!m->slots[i].key) return 0;
        i = (i + 1) & mask;
    }
    if (v) *v = m->slots[i].val;
    m->n--;
    /* backward shift: pull later members of the run into the hole */
    for (size_t j = (i + 1) & mask; m->slots[j].key; j = (j + 1) & mask) {
        size_t h = as_ptrmap_home(m, m->slots[j].key);
        /* move j to i when its home is not cyclically in (i, j] */
        if (((j - h) & mask) >= ((j - i) & mask)) {
            m->slots[i] = m->slots[j];
            i = j;
        }
    }
    m->slots[i].key = 0;
    return 1;
}

/* as_ptrmap_max_probe: the longest distance (in slots) of a key from its
 * home slot, and in *total the sum of all distances (a probe costs distance
 * + 1 slots). For tests of the hash's spread; O(cap). */
static inline size_t as_ptrmap_max_probe(const as_ptrmap_t *m, uint64_t *total)
{
    size_t worst = 0;
    uint64_t sum = 0;
    for (size_t i = 0; i < m->cap; i++) {
        if (!m->slots[i].key) continue;
        size_t d = (i - as_ptrmap_home(m, m->slots[i].key)) & (m->cap - 1);
        sum += d;
        if (d > worst) worst = d;
    }
    if (total) *total = sum;
    return worst;
}

#endif /* AS_TRACES_IMPORT_PTRMAP_H */

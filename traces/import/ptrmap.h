/* ptrmap.h - address -> object id map shared by the importers and the
 * recorder's collector (internal to traces/import/).
 *
 * Open addressing with linear probing and backward-shift deletion (no
 * tombstones, so a long run of alloc/free keeps probes short). Key 0 is the
 * empty slot: callers never store address 0.
 * Invariant: n <= cap / 2; every key sits at or after its home slot with no
 * empty slot between home and it (cyclically).
 */
#ifndef AS_TRACES_IMPORT_PTRMAP_H
#define AS_TRACES_IMPORT_PTRMAP_H

#include <stdint.h>
#include <stdlib.h>

#include "../../common/error.h"
#include "../../common/util.h"

typedef struct {
    uint64_t *keys; /* 0 = empty */
    uint64_t *vals;
    size_t cap;     /* power of two, or 0 before the first put */
    size_t n;       /* keys stored */
} as_ptrmap_t;

static inline size_t as_ptrmap_home(const as_ptrmap_t *m, uint64_t k)
{
    return (size_t)as_hash64(k) & (m->cap - 1);
}

static inline void as_ptrmap_free(as_ptrmap_t *m)
{
    free(m->keys);
    free(m->vals);
    m->keys = m->vals = NULL;
    m->cap = m->n = 0;
}

static inline int as_ptrmap_grow(as_ptrmap_t *m)
{
    size_t ncap = m->cap ? m->cap * 2 : 1024;
    uint64_t *nk = calloc(ncap, sizeof *nk), *nv = malloc(ncap * sizeof *nv);
    if (!nk || !nv) {
        free(nk);
        free(nv);
        return AS_ENOMEM;
    }
    for (size_t i = 0; i < m->cap; i++) {
        if (!m->keys[i]) continue;
        size_t j = (size_t)as_hash64(m->keys[i]) & (ncap - 1);
        while (nk[j]) j = (j + 1) & (ncap - 1);
        nk[j] = m->keys[i];
        nv[j] = m->vals[i];
    }
    free(m->keys);
    free(m->vals);
    m->keys = nk;
    m->vals = nv;
    m->cap = ncap;
    return AS_OK;
}

/* as_ptrmap_get: @return 1 and *v when k is present, else 0. */
static inline int as_ptrmap_get(const as_ptrmap_t *m, uint64_t k, uint64_t *v)
{
    if (!m->cap) return 0;
    for (size_t i = as_ptrmap_home(m, k);; i = (i + 1) & (m->cap - 1)) {
        if (m->keys[i] == k) {
            if (v) *v = m->vals[i];
            return 1;
        }
        if (!m->keys[i]) return 0;
    }
}

/* as_ptrmap_put: set k -> v. @return 1 when k was present (value replaced),
 * 0 when added, AS_ENOMEM. */
static inline int as_ptrmap_put(as_ptrmap_t *m, uint64_t k, uint64_t v)
{
    if (2 * (m->n + 1) > m->cap) {
        int rc = as_ptrmap_grow(m);
        if (rc) return rc;
    }
    for (size_t i = as_ptrmap_home(m, k);; i = (i + 1) & (m->cap - 1)) {
        if (m->keys[i] == k) {
            m->vals[i] = v;
            return 1;
        }
        if (!m->keys[i]) {
            m->keys[i] = k;
            m->vals[i] = v;
            m->n++;
            return 0;
        }
    }
}

/* as_ptrmap_del: remove k. @return 1 and *v when it was present, else 0. */
static inline int as_ptrmap_del(as_ptrmap_t *m, uint64_t k, uint64_t *v)
{
    if (!m->cap) return 0;
    size_t mask = m->cap - 1, i = as_ptrmap_home(m, k);
    while (m->keys[i] != k) {
        if (!m->keys[i]) return 0;
        i = (i + 1) & mask;
    }
    if (v) *v = m->vals[i];
    m->n--;
    /* backward shift: pull later members of the run into the hole */
    for (size_t j = (i + 1) & mask; m->keys[j]; j = (j + 1) & mask) {
        size_t h = as_ptrmap_home(m, m->keys[j]);
        /* move j to i when its home is not cyclically in (i, j] */
        if (((j - h) & mask) >= ((j - i) & mask)) {
            m->keys[i] = m->keys[j];
            m->vals[i] = m->vals[j];
            i = j;
        }
    }
    m->keys[i] = 0;
    return 1;
}

#endif /* AS_TRACES_IMPORT_PTRMAP_H */

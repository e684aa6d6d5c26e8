/* livemap.c - open-addressing map from object id to the engine's record of a
 * live object. Owns its slot array (host memory: this is the simulator, not a
 * policy). Never shrinks; the table's size tracks the peak of live objects.
 */
#include "sim/livemap.h"

#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/util.h"

/* A full 64-bit mix: ids are sequential, and a multiplicative hash's middle
 * bits clustered them into long probe runs. */
static inline uint64_t home(const as_livemap_t *m, uint64_t id)
{
    return as_hash64(id) & m->mask; /* as_livemap_prefetch must agree */
}

int as_livemap_init(as_livemap_t *m, uint64_t capacity_hint)
{
    uint64_t cap = 1024;
    while (cap < capacity_hint)
        cap <<= 1;
    m->slots = calloc(cap, sizeof *m->slots);
    if (!m->slots) return AS_ENOMEM;
    m->mask = cap - 1;
    m->count = 0;
    return AS_OK;
}

void as_livemap_destroy(as_livemap_t *m)
{
    free(m->slots);
    memset(m, 0, sizeof *m);
}

static void place(as_livemap_t *m, const as_live_t *e)
{
    uint64_t i = home(m, e->id);
    while (m->slots[i].used)
        i = (i + 1) & m->mask;
    m->slots[i] = *e;
    m->slots[i].used = 1;
}

static int grow(as_livemap_t *m)
{
    as_livemap_t n;
    if (as_livemap_init(&n, (m->mask + 1) * 2) != AS_OK) return AS_ENOMEM;
    for (uint64_t i = 0; i <= m->mask; i++)
        if (m->slots[i].used) place(&n, &m->slots[i]);
    n.count = m->count;
    free(m->slots);
    *m = n;
    return AS_OK;
}

int as_livemap_insert(as_livemap_t *m, const as_live_t *e)
{
    if ((m->count + 1) * 4 > (m->mask + 1) * 3 && grow(m) != AS_OK)
        return AS_ENOMEM;
    place(m, e);
    m->count++;
    return AS_OK;
}

int as_livemap_take(as_livemap_t *m, uint64_t id, as_live_t *out)
{
    uint64_t i = home(m, id);
    for (;;) {
        as_live_t *s = &m->slots[i];
        if (!s->used) return 0;
        if (s->id == id) break;
        i = (i + 1) & m->mask;
    }
    *out = m->slots[i];
    /* Backward-shift deletion: pull later members of the run into the hole
     * when the hole lies between their home and their slot. */
    uint64_t hole = i, j = i;
    for (;;) {
        j = (j + 1) & m->mask;
        if (!m->slots[j].used) break;
        uint64_t h = home(m, m->slots[j].id);
        int movable = hole <= j ? (h <= hole || h > j) : (h <= hole && h > j);
        if (movable) {
            m->slots[hole] = m->slots[j];
            hole = j;
        }
    }
    m->slots[hole].used = 0;
    m->count--;
    return 1;
}

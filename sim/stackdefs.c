/* stackdefs.c - copies of the trace's stack definitions (see stackdefs.h).
 *
 * Written only by the decoding side, read by the simulations through
 * views. Nothing published is ever changed or moved: a copy is one block
 * (the record, then the pcs, then the frame ids), and a directory that
 * must grow is copied into a larger one and the old one kept until
 * destroy, since a simulation may still hold a view of it.
 */
#include "sim/stackdefs.h"

#include <stdlib.h>
#include <string.h>

#include "common/error.h"

/* Make dir hold id: a larger copy, the old one retired. */
static int grow(as_stackdefs_t *d, uint32_t id)
{
    uint64_t cap = d->cap ? d->cap : 256;
    while (cap <= id)
        cap *= 2;
    if (cap > UINT32_MAX) cap = UINT32_MAX;
    if (d->n_retired == d->retired_cap) {
        size_t rc = d->retired_cap ? d->retired_cap * 2 : 8;
        void **nr = realloc(d->retired, rc * sizeof *nr);
        if (!nr) return AS_ENOMEM;
        d->retired = nr;
        d->retired_cap = rc;
    }
    as_stackdef_t **nd = calloc(cap, sizeof *nd);
    if (!nd) return AS_ENOMEM;
    if (d->cap) memcpy(nd, d->dir, d->cap * sizeof *nd);
    if (d->dir) d->retired[d->n_retired++] = d->dir;
    d->dir = nd;
    d->cap = (uint32_t)cap;
    return AS_OK;
}

/* Copy stack id as the reader defines it now. */
static int copy_one(as_stackdefs_t *d, const as_trace_reader_t *rd, uint32_t id)
{
    const uint32_t *frames = NULL;
    uint32_t depth = 0;
    int defined = as_trace_reader_stack(rd, id, &frames, &depth) == AS_OK;
    if (!defined) depth = 0;
    as_stackdef_t *s = malloc(
        sizeof *s + (size_t)depth * (sizeof(uint64_t) + sizeof(uint32_t)));
    if (!s) return AS_ENOMEM;
    uint64_t *pcs = (uint64_t *)(s + 1);
    uint32_t *fr = (uint32_t *)(pcs + depth);
    for (uint32_t i = 0; i < depth; i++) {
        as_frame_t f;
        fr[i] = frames[i];
        pcs[i] = as_trace_reader_frame(rd, frames[i], &f) == AS_OK ? f.pc : 0;
    }
    s->depth = depth;
    s->frames = defined ? fr : NULL;
    s->pcs = depth ? pcs : NULL;
    d->dir[id] = s;
    return AS_OK;
}

int as_stackdefs_absorb(as_stackdefs_t *d, const as_trace_reader_t *rd,
                        const as_event_t *ev, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint32_t id = ev[i].stack;
        if (!id || ev[i].kind == AS_EV_FREE) continue;
        if (id < d->cap && d->dir[id]) continue;
        int rc = id >= d->cap ? grow(d, id) : AS_OK;
        if (rc == AS_OK) rc = copy_one(d, rd, id);
        if (rc != AS_OK) return rc;
    }
    return AS_OK;
}

as_stackdefs_view_t as_stackdefs_view(const as_stackdefs_t *d)
{
    return (as_stackdefs_view_t){.dir = d->dir, .n = d->cap};
}

void as_stackdefs_destroy(as_stackdefs_t *d)
{
    for (uint32_t i = 0; i < d->cap; i++)
        free(d->dir[i]);
    free(d->dir);
    for (size_t i = 0; i < d->n_retired; i++)
        free(d->retired[i]);
    free(d->retired);
    memset(d, 0, sizeof *d);
}

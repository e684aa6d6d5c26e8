/* stackdefs.h - the engine's own copy of the trace's stack definitions,
 * made on the decoding side so that the simulation never reads the
 * reader's tables (which the reader grows and replaces as it decodes, on
 * another thread when the replay has two).
 *
 * Type map
 *   as_stackdef_t        one stack: its frame ids and their pcs
 *   as_stackdefs_t       the copies, owned by the decoding side
 *   as_stackdefs_view_t  what a simulation reads: a directory of copies
 *                        that never changes once published
 *
 * A stack is copied after the reader's batch in which an event first
 * names it, as the reader defines it then: the state a one-thread replay
 * saw when it first asked the reader for that stack, whatever the decode
 * runs ahead. Copies are immutable. When the directory must grow the old
 * one is kept (retired) until destroy, so a view taken earlier stays
 * valid: a view is (dir, n) with dir[id] the copy of stack id for id < n,
 * NULL for a stack not yet named.
 */
#ifndef AS_SIM_STACKDEFS_H
#define AS_SIM_STACKDEFS_H

#include <stddef.h>
#include <stdint.h>

#include "traces/trace.h"

typedef struct {
    uint32_t depth;         /* frames */
    const uint32_t *frames; /* frame ids, innermost first; NULL when the
                               reader had no definition */
    const uint64_t *pcs;    /* the frames' pcs; NULL when depth is 0 */
} as_stackdef_t;

typedef struct {
    as_stackdef_t *const *dir; /* dir[id], id < n; NULL = not named yet */
    uint32_t n;
} as_stackdefs_view_t;

typedef struct {
    as_stackdef_t **dir; /* copies by stack id; dir[0] unused */
    uint32_t cap;        /* entries of dir */
    void **retired;      /* directories replaced by a larger one */
    size_t n_retired, retired_cap;
} as_stackdefs_t;

/* as_stackdefs_absorb: copy from the reader every stack that an
 * allocation or realloc of ev[0..n) names and that has no copy yet.
 * @return 0 or AS_ENOMEM. */
int as_stackdefs_absorb(as_stackdefs_t *d, const as_trace_reader_t *rd,
                        const as_event_t *ev, size_t n);

/* as_stackdefs_view: the copies made so far (valid until destroy). */
as_stackdefs_view_t as_stackdefs_view(const as_stackdefs_t *d);

/* as_stackdefs_get: the copy of stack id in v, or NULL (id 0, or a stack
 * no event of the view named). */
static inline const as_stackdef_t *
as_stackdefs_get(const as_stackdefs_view_t *v, uint32_t id)
{
    return id < v->n ? v->dir[id] : NULL;
}

void as_stackdefs_destroy(as_stackdefs_t *d);

#endif /* AS_SIM_STACKDEFS_H */

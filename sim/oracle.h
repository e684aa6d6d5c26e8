/* oracle.h - the true lifetime class of every object of a trace, learnt by
 * a pre-pass over the whole trace before the replay, for the predictors
 * that need it (`oracle`, and a shadow or inner oracle).
 *
 * Type map
 *   as_oracle_t  the classes, packed two 4-bit classes per byte (half a
 *                byte per object of the trace; AS_MAX_CLASSES is 16)
 *
 * An object never freed is in the last class; an id the pre-pass never
 * met (beyond the trace) too. One table serves every configuration of a
 * replay that uses the same classes (as_engine_run_many builds one per
 * distinct set of classes).
 */
#ifndef AS_SIM_ORACLE_H
#define AS_SIM_ORACLE_H

#include <stddef.h>
#include <stdint.h>

#include "common/lifetime.h"
#include "traces/trace.h"

typedef struct {
    as_classes_t classes; /* what the table was built for */
    uint8_t *cls;         /* class of id i: nibble i & 1 of cls[i / 2] */
    uint64_t n;           /* ids below n have an entry */
} as_oracle_t;

/* as_oracle_build: read rd from its current place to the end, learning
 * the class of every object, then rewind it. With threads >= 2 the
 * decoding runs on a thread of its own, ahead of the classification (the
 * table is the same). @return 0; a trace error (err from the reader);
 * AS_ENOMEM. On failure *o holds nothing. */
int as_oracle_build(as_oracle_t *o, as_trace_reader_t *rd,
                    const as_classes_t *classes, int threads, char *err,
                    size_t errcap);

/* as_oracle_class: @return the true class of object id. */
static inline int32_t as_oracle_class(const as_oracle_t *o, uint64_t id)
{
    return id < o->n ? (int32_t)((o->cls[id >> 1] >> ((id & 1) * 4)) & 0x0f)
                     : (int32_t)o->classes.n - 1;
}

/* as_oracle_same_classes: @return 1 when a and b are the same classes. */
int as_oracle_same_classes(const as_classes_t *a, const as_classes_t *b);

void as_oracle_destroy(as_oracle_t *o);

#endif /* AS_SIM_ORACLE_H */

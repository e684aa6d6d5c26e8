/* oracle.h - the true lifetime class of every object of a trace, learnt by
 * a pre-pass over the whole trace before the replay, for the predictors
 * that need it (`oracle`, and a shadow or inner oracle).
 *
 * Type map
 *   as_oracle_t         the classes of every object id, two 4-bit classes
 *                       per byte (AS_MAX_CLASSES is 16): in memory while
 *                       they fit the pre-pass's window, else in an
 *                       unlinked temporary file (half a byte per object on
 *                       disk)
 *   as_oracle_cursor_t  one replay's reader of the classes, in id order
 *
 * An object never freed is in the last class; an id the pre-pass never
 * met (beyond the trace) too. The replay asks for classes at allocation,
 * in increasing id order, so a cursor reads the file sequentially through
 * a small buffer of its own; memory is O(live) in the pre-pass (the live
 * objects' allocation times) and O(1) in the replay. One table serves
 * every configuration of a replay that uses the same classes, each with
 * its own cursor.
 */
#ifndef AS_SIM_ORACLE_H
#define AS_SIM_ORACLE_H

#include <stddef.h>
#include <stdint.h>

#include "common/lifetime.h"
#include "traces/trace.h"

#define AS_ORACLE_WINDOW_BYTES (1u << 20) /* the pre-pass's window */
#define AS_ORACLE_CURSOR_BYTES (1u << 16) /* a cursor's buffer */
#define AS_ORACLE_PATCHES                                                      \
    65536 /* late frees queued before they are
                                   written to the file */

typedef struct {
    as_classes_t classes; /* what the table was built for */
    uint64_t n;           /* ids below n have an entry */
    uint8_t *mem;         /* the whole table when it stayed in memory
                             (fd < 0): class of id i is nibble i & 1 of
                             mem[i / 2] */
    int fd;               /* else the temporary file, same layout */
    int built;            /* the pre-pass succeeded */
    int parallel;         /* its chunks were decoded in parallel */
} as_oracle_t;

typedef struct {
    const as_oracle_t *o;
    uint8_t buf[AS_ORACLE_CURSOR_BYTES];
    uint64_t lo, hi; /* ids [lo, hi) are in buf */
    int err;         /* a read of the file failed (AS_EIO) */
} as_oracle_cursor_t;

/* as_oracle_build: read rd from its current place to the end, learning
 * the class of every object, then rewind it. With threads >= 2 and a
 * trace whose footer indexes several chunks, read from its start,
 * `threads` workers decode and classify whole chunks in parallel, each
 * with a reader of its own (o->parallel = 1); otherwise, with threads >=
 * 2, the decoding runs on a thread of its own, ahead of the
 * classification. The table is the same every way. The temporary file goes to $TMPDIR (default /tmp).
 * @return 0; a trace error (err from the reader); AS_EIO (err names the
 * temporary file); AS_ENOMEM. On failure *o holds nothing. */
int as_oracle_build(as_oracle_t *o, as_trace_reader_t *rd,
                    const as_classes_t *classes, int threads, char *err,
                    size_t errcap);

/* as_oracle_build_sized: as_oracle_build with a window of 2 *
 * window_bytes bytes (4 * window_bytes ids) and `patches` late frees
 * queued (tests make both small to exercise the file). */
int as_oracle_build_sized(as_oracle_t *o, as_trace_reader_t *rd,
                          const as_classes_t *classes, int threads,
                          size_t window_bytes, size_t patches, char *err,
                          size_t errcap);

/* as_oracle_cursor_init: a cursor at the first id. */
void as_oracle_cursor_init(as_oracle_cursor_t *c, const as_oracle_t *o);

/* as_oracle_cursor_fill: read the part of the file that holds id into c
 * (as_oracle_cursor_class's slow path). @return the class of id. */
int32_t as_oracle_cursor_fill(as_oracle_cursor_t *c, uint64_t id);

/* as_oracle_cursor_class: @return the true class of object id (fast for
 * ids that do not go back far; any id works). A failed read sets c->err
 * and answers the last class. */
static inline int32_t as_oracle_cursor_class(as_oracle_cursor_t *c, uint64_t id)
{
    const as_oracle_t *o = c->o;
    if (id >= o->n) return (int32_t)o->classes.n - 1;
    if (o->fd < 0) return (int32_t)((o->mem[id >> 1] >> ((id & 1) * 4)) & 0x0f);
    if (id - c->lo >= c->hi - c->lo) return as_oracle_cursor_fill(c, id);
    uint64_t i = id - c->lo;
    return (int32_t)((c->buf[i >> 1] >> ((i & 1) * 4)) & 0x0f);
}

/* as_oracle_same_classes: @return 1 when a and b are the same classes. */
int as_oracle_same_classes(const as_classes_t *a, const as_classes_t *b);

void as_oracle_destroy(as_oracle_t *o);

#endif /* AS_SIM_ORACLE_H */

/* sizeclass.h - size-class maps: which block size serves a request.
 *
 * Type map
 *   as_sizeclass_map_t  the classes of one policy instance and an O(1)
 *                       request -> class lookup table
 *
 * A map holds n classes with strictly increasing block sizes
 *   size[0] = min_bytes < size[1] < ... < size[n-1] == max_bytes
 * built either geometrically (size[i+1] ~ b * size[i], Hoard's spacing, so a
 * block wastes at most a factor b of its request) or as powers of two.
 * Invariants (checked by as_sizeclass_check):
 *   every size is a multiple of 16;
 *   sizes above 1024 bytes are multiples of 128 (this makes the two-granule
 *   lookup below exact);
 *   as_sizeclass_of(m, s) is the smallest class whose size >= s, for every
 *   1 <= s <= max_bytes.
 * Lookup: a request s <= 1024 indexes the table at ceil(s/16); a larger one
 * at 64 + ceil((s-1024)/128). The table is one uint16_t per granule, from the
 * metadata arena (max_bytes = 128 KiB needs 1088 entries, 2 KiB).
 */
#ifndef AS_POLICIES_BLOCKS_SIZECLASS_H
#define AS_POLICIES_BLOCKS_SIZECLASS_H

#include <stddef.h>
#include <stdint.h>

#include "policies/pagesource.h"

#define AS_SIZECLASS_MAX 256    /* most classes a map may hold */
#define AS_SIZECLASS_QUANTUM 16 /* every class size is a multiple */

typedef enum {
    AS_SIZECLASS_GEOMETRIC = 0, /* size[i+1] = round_up(b * size[i]) */
    AS_SIZECLASS_POW2 = 1       /* 16, 32, 64, ... */
} as_sizeclass_kind_t;

typedef struct {
    uint32_t n;                      /* number of classes */
    uint64_t max_bytes;              /* size of the largest class */
    uint32_t size[AS_SIZECLASS_MAX]; /* block bytes of class i */
    uint16_t *lookup;                /* granule -> class (meta arena) */
    uint32_t n_lookup;               /* entries in lookup */
    const as_mem_t *mem;             /* where lookup came from */
} as_sizeclass_map_t;

/* as_sizeclass_init: build classes from 16 bytes up to max_bytes (rounded up
 * to the granule: 16 up to 1 KiB, 128 above), spaced by `kind` (factor b
 * for GEOMETRIC; b must be > 1). Each geometric step grows by at least one
 * granule, so small classes are 16, 32, 48, ... until b*size outgrows 16.
 * @return 0, AS_EINVAL (bad b or max_bytes < 16), AS_ERANGE (more than
 * AS_SIZECLASS_MAX classes or max_bytes > 1 GiB), AS_ENOMEM. */
int as_sizeclass_init(as_sizeclass_map_t *m, const as_mem_t *mem,
                      as_sizeclass_kind_t kind, double b, uint64_t max_bytes);

/* as_sizeclass_fini: return the lookup table to the arena. */
void as_sizeclass_fini(as_sizeclass_map_t *m);

/* as_sizeclass_of: @return the smallest class serving `bytes` (0 is served as
 * 1), or -1 when bytes > max_bytes. O(1). */
static inline int as_sizeclass_of(const as_sizeclass_map_t *m, uint64_t bytes)
{
    if (bytes > m->max_bytes) return -1;
    if (bytes == 0) bytes = 1;
    uint64_t g =
        bytes <= 1024 ? (bytes + 15) >> 4 : 64 + ((bytes - 1024 + 127) >> 7);
    return m->lookup[g];
}

/* as_sizeclass_bytes: @return the block size of class c. */
static inline uint32_t as_sizeclass_bytes(const as_sizeclass_map_t *m, int c)
{
    return m->size[c];
}

/* as_sizeclass_of_aligned: the smallest class serving `bytes` whose block
 * size is a multiple of `align` (a power of two), so blocks carved at
 * multiples of the size from an aligned base are aligned.
 * @return the class, or -1 when none fits. O(n) only when align > 16. */
int as_sizeclass_of_aligned(const as_sizeclass_map_t *m, uint64_t bytes,
                            uint64_t align);

/* as_sizeclass_check: verify the invariants above for every size.
 * @return 0 or AS_ECHECK. Expensive (max_bytes steps); for tests. */
int as_sizeclass_check(const as_sizeclass_map_t *m);

#endif /* AS_POLICIES_BLOCKS_SIZECLASS_H */

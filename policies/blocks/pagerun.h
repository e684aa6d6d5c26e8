/* pagerun.h - runs of pages for large objects, straight from the page source.
 *
 * Type map
 *   as_pageruns_t  the large objects of one policy instance: a map from a
 *                  run's first address to its length, and byte totals
 *
 * A run is one reservation of whole pages (length = request rounded up to
 * the page, aligned to max(page, align)) handed out as one block and
 * unreserved when freed, as Hoard does for objects above S/2 with mmap and
 * munmap. Usable bytes are the whole run.
 *
 * Invariants: count == keys in `runs`; bytes == sum of the runs' lengths;
 * peak_bytes >= bytes; every run is a live reservation of the page source.
 */
#ifndef AS_POLICIES_BLOCKS_PAGERUN_H
#define AS_POLICIES_BLOCKS_PAGERUN_H

#include <stddef.h>
#include <stdint.h>

#include "common/u64map.h"
#include "policies/pagesource.h"

typedef struct {
    const as_pagesource_t *ps;
    as_u64map_t runs;    /* first address -> run bytes */
    uint64_t count;      /* live runs */
    uint64_t bytes;      /* bytes of live runs */
    uint64_t peak_bytes; /* largest `bytes` seen */
    uint64_t allocs;     /* runs handed out so far */
} as_pageruns_t;

/* as_pageruns_init: no runs; metadata from ps->meta. */
void as_pageruns_init(as_pageruns_t *r, const as_pagesource_t *ps);

/* as_pageruns_alloc: reserve a run for `size` bytes aligned to `align` (0 =
 * page). @return 0 with *addr and *bytes (usable = run length), AS_ENOMEM or
 * AS_ENOSPACE (page source or arena refused), AS_ETOO_LARGE (size would
 * overflow when rounded). */
int as_pageruns_alloc(as_pageruns_t *r, uint64_t size, uint64_t align,
                      uintptr_t *addr, uint64_t *bytes);

/* as_pageruns_free: unreserve the run starting at addr.
 * @return 0 (and its length in *bytes when bytes != NULL), or AS_EINVAL when
 * no run starts at addr. */
int as_pageruns_free(as_pageruns_t *r, uintptr_t addr, uint64_t *bytes);

/* as_pageruns_size: @return the length of the run starting at addr, or 0. */
uint64_t as_pageruns_size(const as_pageruns_t *r, uintptr_t addr);

/* as_pageruns_fini: unreserve every live run and free the map. */
void as_pageruns_fini(as_pageruns_t *r);

#endif /* AS_POLICIES_BLOCKS_PAGERUN_H */

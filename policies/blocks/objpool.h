/* objpool.h - a pool of fixed-size objects carved from metadata chunks.
 *
 * Type map
 *   as_pool_t  the pool: object size, free list, chunk list, counts
 *
 * Chunks come from the as_mem_t given at init (never libc); their size
 * doubles from 32 objects up to 8192 objects, so a small heap wastes little
 * and a big one makes few arena calls. Freed objects go on an intrusive free
 * list (the first word of a free object links to the next); memory is given
 * back to the arena only by as_pool_fini.
 *
 * Invariants: live + |free list| == capacity == sum of chunk object counts;
 * obj_bytes is a multiple of 16 and >= 16, so objects are 16-byte aligned.
 */
#ifndef AS_POLICIES_BLOCKS_OBJPOOL_H
#define AS_POLICIES_BLOCKS_OBJPOOL_H

#include <stddef.h>

#include "policies/pagesource.h"

typedef struct {
    size_t obj_bytes; /* object size rounded up to 16 */
    size_t next_objs; /* objects in the next chunk (32 .. 8192) */
    void *free_list;  /* free objects, linked through their first word */
    void *chunks;     /* chunk list, linked through each chunk's header */
    size_t live;      /* objects handed out and not freed */
    size_t capacity;  /* objects in all chunks */
    size_t bytes;     /* arena bytes held by the chunks */
    as_mem_t mem;     /* where chunks come from */
} as_pool_t;

/* as_pool_init: an empty pool of objects of `obj_bytes`; allocates nothing. */
void as_pool_init(as_pool_t *p, const as_mem_t *mem, size_t obj_bytes);

/* as_pool_alloc: @return a zero-filled, 16-byte aligned object, or NULL when
 * the arena refuses a new chunk. */
void *as_pool_alloc(as_pool_t *p);

/* as_pool_free: give back an object from this pool (NULL is ignored). */
void as_pool_free(as_pool_t *p, void *obj);

/* as_pool_fini: return every chunk to the arena (live objects included). */
void as_pool_fini(as_pool_t *p);

/* as_pool_check: expensive tier: free-list length == capacity - live and
 * every free object lies inside a chunk. @return 0 or AS_ECHECK. */
int as_pool_check(const as_pool_t *p);

#endif /* AS_POLICIES_BLOCKS_OBJPOOL_H */

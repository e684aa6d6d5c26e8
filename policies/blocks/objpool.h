/* objpool.h - a pool of fixed-size objects carved from metadata chunks.
 *
 * Type map
 *   as_objlist_t  the core: object size, intrusive free list, live count;
 *                 knows nothing of where its memory comes from
 *   as_pool_t     the pool: an as_objlist_t that grows itself with chunks
 *                 from an as_mem_t and keeps a chunk list to give them back
 *
 * A component that already tracks its metadata (the TCMalloc policy frees
 * every byte at once) uses the core alone and carves the chunks it
 * allocates with as_objlist_carve; everyone else uses as_pool_t.
 *
 * Chunks come from the as_mem_t given at init (never libc); their size
 * doubles from 32 objects up to 8192 objects, so a small heap wastes little
 * and a big one makes few arena calls. Freed objects go on an intrusive free
 * list (the first word of a free object links to the next); memory is given
 * back to the arena only by as_pool_fini.
 *
 * Invariants: objs.live + |objs.free_list| == capacity == sum of chunk
 * object counts; obj_bytes is a multiple of 16 and >= 16, so objects are
 * 16-byte aligned.
 */
#ifndef AS_POLICIES_BLOCKS_OBJPOOL_H
#define AS_POLICIES_BLOCKS_OBJPOOL_H

#include <stddef.h>

#include "common/mem.h"

/* Invariant of an as_objlist_t: every object on free_list is free, and
 * live counts the objects handed out by pop and not pushed back. */
typedef struct {
    size_t obj_bytes; /* object size rounded up to 16 (>= 16) */
    void *free_list;  /* free objects, linked through their first word */
    size_t live;      /* objects handed out and not freed */
} as_objlist_t;

/* as_objlist_init: an empty list of objects of obj_bytes (rounded up). */
static inline void as_objlist_init(as_objlist_t *l, size_t obj_bytes)
{
    if (obj_bytes < 16) obj_bytes = 16;
    l->obj_bytes = (obj_bytes + 15) & ~(size_t)15;
    l->free_list = NULL;
    l->live = 0;
}

/* as_objlist_carve: put the n objects of chunk (n * obj_bytes bytes) on the
 * free list, lowest address first out. */
static inline void as_objlist_carve(as_objlist_t *l, void *chunk, size_t n)
{
    char *base = chunk;
    for (size_t i = n; i-- > 0;) {
        void **obj = (void **)(void *)(base + i * l->obj_bytes);
        *obj = l->free_list;
        l->free_list = obj;
    }
}

/* as_objlist_pop: @return a zero-filled free object, NULL when none. */
void *as_objlist_pop(as_objlist_t *l);

/* as_objlist_push: give back an object of this list (NULL is ignored). */
static inline void as_objlist_push(as_objlist_t *l, void *obj)
{
    if (!obj) return;
    *(void **)obj = l->free_list;
    l->free_list = obj;
    l->live--;
}

typedef struct {
    as_objlist_t objs; /* objects: size, free list, live count */
    size_t next_objs;  /* objects in the next chunk (32 .. 8192) */
    void *chunks;      /* chunk list, linked through each chunk's header */
    size_t capacity;   /* objects in all chunks */
    size_t bytes;      /* arena bytes held by the chunks */
    as_mem_t mem;      /* where chunks come from */
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

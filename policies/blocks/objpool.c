/* objpool.c - fixed-size object pool over a metadata arena (see objpool.h).
 *
 * Owns its chunks. It never touches libc allocation: chunks come from the
 * pool's as_mem_t and go back only in as_pool_fini. A chunk starts with a
 * 16-byte header (next chunk, object count) followed by its objects.
 */
#include "policies/blocks/objpool.h"

#include <string.h>

#include "common/error.h"

#define MIN_OBJS 32
#define MAX_OBJS 8192

typedef struct chunk {
    struct chunk *next; /* next chunk of the pool */
    size_t n_objs;      /* objects in this chunk */
} chunk_t;

#define HEADER_BYTES 16

void *as_objlist_pop(as_objlist_t *l)
{
    void **obj = l->free_list;
    if (!obj) return NULL;
    l->free_list = *obj;
    memset(obj, 0, l->obj_bytes);
    l->live++;
    return obj;
}

void as_pool_init(as_pool_t *p, const as_mem_t *mem, size_t obj_bytes)
{
    as_objlist_init(&p->objs, obj_bytes);
    p->next_objs = MIN_OBJS;
    p->chunks = NULL;
    p->capacity = 0;
    p->bytes = 0;
    p->mem = *mem;
}

static size_t chunk_bytes(const as_pool_t *p, size_t n_objs)
{
    return HEADER_BYTES + n_objs * p->objs.obj_bytes;
}

static int grow(as_pool_t *p)
{
    size_t n = p->next_objs;
    chunk_t *c = as_mem_alloc(&p->mem, chunk_bytes(p, n));
    if (!c) return AS_ENOMEM;
    c->next = p->chunks;
    c->n_objs = n;
    p->chunks = c;
    p->bytes += chunk_bytes(p, n);
    p->capacity += n;
    as_objlist_carve(&p->objs, (char *)c + HEADER_BYTES, n);
    if (p->next_objs < MAX_OBJS) p->next_objs *= 2;
    return 0;
}

void *as_pool_alloc(as_pool_t *p)
{
    if (!p->objs.free_list && grow(p)) return NULL;
    return as_objlist_pop(&p->objs);
}

void as_pool_free(as_pool_t *p, void *obj)
{
    as_objlist_push(&p->objs, obj);
}

void as_pool_fini(as_pool_t *p)
{
    chunk_t *c = p->chunks;
    while (c) {
        chunk_t *next = c->next;
        as_mem_free(&p->mem, c, chunk_bytes(p, c->n_objs));
        c = next;
    }
    p->chunks = NULL;
    p->objs.free_list = NULL;
    p->objs.live = p->capacity = p->bytes = 0;
    p->next_objs = MIN_OBJS;
}

int as_pool_check(const as_pool_t *p)
{
    size_t cap = 0, n_free = 0;
    for (const chunk_t *c = p->chunks; c; c = c->next)
        cap += c->n_objs;
    if (cap != p->capacity) return AS_ECHECK;
    for (void *const *o = p->objs.free_list; o; o = *o) {
        if (++n_free > cap) return AS_ECHECK;
        int inside = 0;
        for (const chunk_t *c = p->chunks; c && !inside; c = c->next) {
            const char *b = (const char *)c + HEADER_BYTES;
            const char *e = b + c->n_objs * p->objs.obj_bytes;
            inside = (const char *)o >= b && (const char *)o < e &&
                     ((size_t)((const char *)o - b) % p->objs.obj_bytes) == 0;
        }
        if (!inside) return AS_ECHECK;
    }
    return n_free + p->objs.live == cap ? 0 : AS_ECHECK;
}

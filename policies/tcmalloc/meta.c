/* meta.c - the TCMalloc policy's out-of-band metadata: tracked allocations
 * from the page source's arena and fixed-size object pools over them.
 *
 * Every metadata byte the policy holds comes from as_tc_meta_alloc, which
 * links a small header into one list so destroy can give everything back
 * (the checking layer verifies that). Pools carve spans, hugepage trackers,
 * ranges and pagemap leaves out of 64-object slabs and recycle them through
 * a free list threaded through the (metadata, never user) objects. Nothing
 * here calls libc.
 */
#include "policies/tcmalloc/tc_internal.h"

void *as_tc_meta_alloc(tc_t *t, size_t bytes)
{
    size_t total = sizeof(tc_meta_hdr_t) + ((bytes + 15) & ~(size_t)15);
    tc_meta_hdr_t *h = as_mem_alloc(&t->ps->meta, total);
    if (!h) return NULL;
    h->bytes = total;
    h->prev = &t->meta_list;
    h->next = t->meta_list.next;
    if (h->next) h->next->prev = h;
    t->meta_list.next = h;
    t->meta_bytes += total;
    return h + 1;
}

void as_tc_meta_free(tc_t *t, void *p)
{
    if (!p) return;
    tc_meta_hdr_t *h = (tc_meta_hdr_t *)p - 1;
    h->prev->next = h->next;
    if (h->next) h->next->prev = h->prev;
    t->meta_bytes -= h->bytes;
    as_mem_free(&t->ps->meta, h, h->bytes);
}

void as_tc_meta_release_all(tc_t *t)
{
    tc_meta_hdr_t *h = t->meta_list.next;
    while (h) {
        tc_meta_hdr_t *next = h->next;
        t->meta_bytes -= h->bytes;
        as_mem_free(&t->ps->meta, h, h->bytes);
        h = next;
    }
    t->meta_list.next = NULL;
}

#define TC_POOL_SLAB 64

void as_tc_pool_init(tc_pool_t *pool, size_t obj_bytes)
{
    if (obj_bytes < sizeof(void *)) obj_bytes = sizeof(void *);
    pool->obj_bytes = (obj_bytes + 15) & ~(size_t)15;
    pool->free = NULL;
    pool->live = 0;
}

void *as_tc_pool_get(tc_t *t, tc_pool_t *pool)
{
    if (!pool->free) {
        char *slab = as_tc_meta_alloc(t, pool->obj_bytes * TC_POOL_SLAB);
        if (!slab) return NULL;
        for (size_t i = TC_POOL_SLAB; i-- > 0;) {
            void **o = (void **)(slab + i * pool->obj_bytes);
            *o = pool->free;
            pool->free = o;
        }
    }
    void **o = pool->free;
    pool->free = *o;
    /* slabs arrive zeroed; recycled objects are cleared here */
    uint64_t *w = (uint64_t *)o;
    for (size_t i = 0; i < pool->obj_bytes / 8; i++)
        w[i] = 0;
    pool->live++;
    return o;
}

void as_tc_pool_put(tc_pool_t *pool, void *obj)
{
    void **o = obj;
    *o = pool->free;
    pool->free = o;
    pool->live--;
}

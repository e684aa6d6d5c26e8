/* meta.c - the TCMalloc policy's out-of-band metadata: tracked allocations
 * from the page source's arena, and object pools carved from them.
 *
 * Every metadata byte the policy holds comes from as_tc_meta_alloc, which
 * links a small header into one list (tc_meta_t, in the instance's tc_env_t)
 * so destroy can give everything back (the checking layer verifies that).
 * Spans, hugepage trackers, ranges, reservations and pagemap leaves come
 * from the shared object free list of policies/blocks/objpool.h
 * (as_objlist_t); when one runs dry, a slab of TC_POOL_SLAB objects is taken
 * from the tracked arena and carved into it. Slabs are never returned
 * before destroy. Nothing here calls libc.
 */
#include "policies/tcmalloc/tc_internal.h"

void as_tc_meta_init(tc_meta_t *m)
{
    m->list.prev = m->list.next = NULL;
    m->bytes = 0;
}

void *as_tc_meta_alloc(tc_env_t *e, size_t bytes)
{
    tc_meta_t *m = &e->meta;
    size_t total = sizeof(tc_meta_hdr_t) + ((bytes + 15) & ~(size_t)15);
    tc_meta_hdr_t *h = as_mem_alloc(&e->ps->meta, total);
    if (!h) return NULL;
    h->bytes = total;
    h->prev = &m->list;
    h->next = m->list.next;
    if (h->next) h->next->prev = h;
    m->list.next = h;
    m->bytes += total;
    return h + 1;
}

void as_tc_meta_free(tc_env_t *e, void *p)
{
    if (!p) return;
    tc_meta_hdr_t *h = (tc_meta_hdr_t *)p - 1;
    h->prev->next = h->next;
    if (h->next) h->next->prev = h->prev;
    e->meta.bytes -= h->bytes;
    as_mem_free(&e->ps->meta, h, h->bytes);
}

void as_tc_meta_release_all(tc_env_t *e)
{
    tc_meta_hdr_t *h = e->meta.list.next;
    while (h) {
        tc_meta_hdr_t *next = h->next;
        e->meta.bytes -= h->bytes;
        as_mem_free(&e->ps->meta, h, h->bytes);
        h = next;
    }
    e->meta.list.next = NULL;
}

void *as_tc_pool_get(tc_env_t *e, as_objlist_t *l)
{
    if (!l->free_list) {
        void *slab = as_tc_meta_alloc(e, l->obj_bytes * TC_POOL_SLAB);
        if (!slab) return NULL;
        as_objlist_carve(l, slab, TC_POOL_SLAB);
    }
    return as_objlist_pop(l);
}

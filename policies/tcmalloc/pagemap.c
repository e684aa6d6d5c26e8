/* pagemap.c - address -> span lookup, so free() works without a size.
 *
 * TCMalloc keeps a radix tree from page number to span; here a hash table of
 * windows (one per 2^window_shift bytes, 1 GiB at 2 MiB hugepages) holds a
 * leaf pointer per hugepage, and a leaf maps each page of that hugepage to
 * its span and size class (TCMalloc's sizeclass cache) and names the filler
 * tracker that owns the hugepage. Small-object spans map every page, large
 * spans their first page only (free gets the start address). A one-entry
 * cache of the last window keeps the common lookup to two loads. Leaves and
 * windows live in metadata and are kept until destroy.
 */
#include "policies/tcmalloc/tc_internal.h"

#include "common/util.h"

static uint32_t win_slot(uint64_t key, uint32_t cap)
{
    return (uint32_t)(as_hash64(key) & (cap - 1));
}

static tc_window_t *window_find(tc_t *t, uint64_t key)
{
    if (!t->win_cap) return NULL;
    for (uint32_t i = win_slot(key, t->win_cap);;
         i = (i + 1) & (t->win_cap - 1)) {
        tc_window_t *w = t->windows[i];
        if (!w) return NULL;
        if (w->key == key) return w;
    }
}

static int window_grow(tc_t *t)
{
    uint32_t cap = t->win_cap ? t->win_cap * 2 : 16;
    tc_window_t **tab = as_tc_meta_alloc(&t->env, cap * sizeof *tab);
    if (!tab) return AS_ENOMEM;
    for (uint32_t j = 0; j < t->win_cap; j++) {
        tc_window_t *w = t->windows[j];
        if (!w) continue;
        uint32_t i = win_slot(w->key, cap);
        while (tab[i])
            i = (i + 1) & (cap - 1);
        tab[i] = w;
    }
    as_tc_meta_free(&t->env, t->windows);
    t->windows = tab;
    t->win_cap = cap;
    return AS_OK;
}

static tc_window_t *window_make(tc_t *t, uint64_t key)
{
    tc_window_t *w = window_find(t, key);
    if (w) return w;
    if ((t->win_n + 1) * 2 > t->win_cap && window_grow(t) != AS_OK) return NULL;
    w = as_tc_meta_alloc(&t->env, sizeof *w);
    if (!w) return NULL;
    w->key = key;
    uint32_t i = win_slot(key, t->win_cap);
    while (t->windows[i])
        i = (i + 1) & (t->win_cap - 1);
    t->windows[i] = w;
    t->win_n++;
    return w;
}

tc_leaf_t *as_tc_leaf(tc_t *t, uintptr_t addr)
{
    uint64_t key = (uint64_t)addr >> t->env.window_shift;
    tc_window_t *w = t->last_win;
    if (!w || w->key != key) {
        w = window_find(t, key);
        if (!w) return NULL;
        t->last_win = w;
    }
    return w->leaf[(addr >> t->env.hp_shift) & 511];
}

tc_leaf_t *as_tc_leaf_make(tc_t *t, uintptr_t addr)
{
    tc_window_t *w = window_make(t, (uint64_t)addr >> t->env.window_shift);
    if (!w) return NULL;
    tc_leaf_t **slot = &w->leaf[(addr >> t->env.hp_shift) & 511];
    if (!*slot) {
        char *mem = as_tc_pool_get(&t->env, &t->leaf_pool);
        if (!mem) return NULL;
        tc_leaf_t *l = (tc_leaf_t *)mem;
        l->span = (tc_span_t **)(mem + ((sizeof *l + 15) & ~(size_t)15));
        l->cls = (uint8_t *)(l->span + t->env.pph);
        *slot = l;
    }
    return *slot;
}

int as_tc_pagemap_set(tc_t *t, tc_span_t *s, int all_pages)
{
    uint32_t n = all_pages ? s->npages : 1;
    uintptr_t a = s->start;
    for (uint32_t i = 0; i < n; i++, a += t->env.page_bytes) {
        tc_leaf_t *l = as_tc_leaf_make(t, a);
        if (!l) return AS_ENOMEM;
        uint32_t pi = as_tc_page_in_hp(t, a);
        l->span[pi] = s;
        l->cls[pi] = (uint8_t)s->cls;
    }
    return AS_OK;
}

void as_tc_pagemap_clear(tc_t *t, tc_span_t *s, int all_pages)
{
    uint32_t n = all_pages ? s->npages : 1;
    uintptr_t a = s->start;
    for (uint32_t i = 0; i < n; i++, a += t->env.page_bytes) {
        tc_leaf_t *l = as_tc_leaf(t, a);
        if (!l) continue;
        uint32_t pi = as_tc_page_in_hp(t, a);
        if (l->span[pi] == s) {
            l->span[pi] = NULL;
            l->cls[pi] = 0;
        }
    }
}

/* core.c - the glibc model's arena code: _int_malloc, _int_free,
 * malloc_consolidate, _int_realloc, _int_memalign, and the system layer
 * below them (sysmalloc with its sbrk-like main heap and mmapped chunks,
 * systrim, non-main heaps with grow_heap / heap_trim, mtrim).
 *
 * Each routine follows the glibc 2.36 routine of the same name step by step
 * (docs/policies/glibc.md gives the line ranges), on out-of-band chunk
 * nodes: a chunk's header, boundary tag and list links live in a gl_chunk_t,
 * found by address in gl_t.chunks; a free chunk's footer is its entry in
 * gl_t.foot. The program break is a run of page-source reservations grown
 * with the current end as hint (a refused hint is a failed sbrk, and glibc's
 * mmap fallback follows); a non-main heap is a 64 MiB reservation aligned
 * to 64 MiB whose used part grows and shrinks (shrinking releases pages).
 * It never reads or writes the simulated memory and never calls libc.
 */
#include "common/error.h"
#include "common/util.h"
#include "policies/glibc/gl_internal.h"

/* ---- nodes ---- */

int gl_prepare(gl_t *st)
{
    if (as_u64map_reserve(&st->chunks, 8) || as_u64map_reserve(&st->foot, 8))
        return AS_ENOMEM;
    /* a pool object costs nothing until used; make sure 8 can be had */
    void *keep[8];
    int n = 0, rc = 0;
    for (; n < 8; n++) {
        keep[n] = as_pool_alloc(&st->chunk_pool);
        if (!keep[n]) {
            rc = AS_ENOMEM;
            break;
        }
    }
    while (n > 0)
        as_pool_free(&st->chunk_pool, keep[--n]);
    return rc;
}

gl_chunk_t *gl_node(gl_t *st, uintptr_t addr, uint64_t size, int state,
                    uint32_t arena)
{
    gl_chunk_t *c = as_pool_alloc(&st->chunk_pool); /* gl_prepare'd */
    c->addr = addr;
    c->size = size;
    c->state = (uint16_t)state;
    c->arena = (uint16_t)arena;
    as_u64map_put(&st->chunks, addr, (uintptr_t)c);
    return c;
}

void gl_node_drop(gl_t *st, gl_chunk_t *c)
{
    as_u64map_remove(&st->chunks, c->addr, NULL);
    as_pool_free(&st->chunk_pool, c);
}

void gl_pack(gl_t *st, gl_chunk_t *c)
{
    if (c->state != GL_INUSE || (c->size & ~GL_PACKED_SIZE)) return;
    uint64_t v =
        c->size | (uint64_t)c->arena << GL_PACKED_ARENA_SHIFT | GL_PACKED;
    as_u64map_replace(&st->chunks, c->addr, v);
    as_pool_free(&st->chunk_pool, c);
}

gl_chunk_t *gl_unpack(gl_t *st, uintptr_t addr)
{
    uint64_t v;
    if (!as_u64map_get(&st->chunks, addr, &v)) return NULL;
    if (!gl_packed(v)) return (gl_chunk_t *)(uintptr_t)v;
    gl_chunk_t *c = as_pool_alloc(&st->chunk_pool); /* gl_prepare'd */
    c->addr = addr;
    c->size = gl_packed_size(v);
    c->state = GL_INUSE;
    c->arena = (uint16_t)gl_packed_arena(v);
    as_u64map_replace(&st->chunks, addr, (uintptr_t)c);
    return c;
}

/* The record of the chunk at addr, or NULL when none starts there or it is
 * a packed INUSE chunk (the callers look for FENCE and BINNED chunks). */
static gl_chunk_t *chunk_at(const gl_t *st, uintptr_t addr)
{
    uint64_t v;
    return as_u64map_get(&st->chunks, addr, &v) && !gl_packed(v)
               ? (gl_chunk_t *)(uintptr_t)v
               : NULL;
}

static int is_main(const gl_arena_t *av)
{
    return av->index == 0;
}

/* ---- coalescing (the shared tail of _int_free and malloc_consolidate) ---- */

/* Merge p with a free neighbour below, then with the top or a free
 * neighbour above; put the result in the unsorted bin or make it the top.
 * @return the merged size. */
static uint64_t coalesce(gl_t *st, gl_arena_t *av, gl_chunk_t *p)
{
    uint64_t v;
    if (as_u64map_get(&st->foot, p->addr, &v)) { /* !prev_inuse (p) */
        gl_chunk_t *prev = (gl_chunk_t *)(uintptr_t)v;
        gl_unlink(st, av, prev);
        prev->size += p->size;
        gl_node_drop(st, p);
        p = prev;
    }
    uintptr_t next = p->addr + p->size;
    if (next == av->top) {
        av->top = p->addr;
        av->top_size += p->size;
        gl_node_drop(st, p);
        return av->top_size;
    }
    gl_chunk_t *n = chunk_at(st, next);
    if (n && n->state == GL_BINNED) {
        gl_unlink(st, av, n);
        p->size += n->size;
        gl_node_drop(st, n);
    }
    gl_unsorted_push(st, av, p);
    return p->size;
}

void gl_malloc_consolidate(gl_t *st, gl_arena_t *av)
{
    av->have_fastchunks = 0;
    st->n_consolidate++;
    for (unsigned i = 0; i < GL_NFASTBINS; i++) {
        gl_chunk_t *p = av->fast[i];
        av->fast[i] = NULL;
        while (p) {
            gl_chunk_t *nextp = p->fd;
            av->n_fast--;
            av->fast_bytes -= p->size;
            coalesce(st, av, p);
            p = nextp;
        }
    }
}

/* ---- the system layer ---- */

static int sbrk_grow(gl_t *st, uint64_t size, uintptr_t *brk);

static int systrim(gl_t *st, gl_arena_t *av, uint64_t pad)
{
    /* glibc compares the signed top_area with the unsigned pad, so a top of
     * MINSIZE (top_area -1) passes the test and `extra` comes out as minus
     * one page: sbrk(-extra) then *grows* the heap by a page (reachable
     * only with trim_threshold < 33; the real glibc does it too). */
    uint64_t top_area = av->top_size - GL_MINSIZE - 1;
    if (top_area <= pad) return 0;
    uint64_t extra = as_align_down(top_area - pad, st->page);
    if (extra == 0) return 0;
    if (st->brk_end != av->top + av->top_size) return 0; /* foreign brk */
    if ((int64_t)extra < 0) {
        uintptr_t brk;
        if (sbrk_grow(st, -extra, &brk)) return 0;
        av->system_mem += -extra;
        av->top_size += -extra;
        return 1;
    }
    if (as_ps_unreserve(st->ps, st->brk_end - extra, extra)) return 0;
    st->brk_end -= extra;
    av->system_mem -= extra;
    av->top_size -= extra;
    st->n_systrim++;
    st->trimmed_bytes += extra;
    return 1;
}

/* sysmalloc_mmap: a chunk of its own mapping, size rounded to pages. */
static gl_chunk_t *mmap_chunk(gl_t *st, gl_arena_t *av, uint64_t nb, int *rc)
{
    uint64_t size = as_align_up(nb + GL_SIZE_SZ, st->page);
    if (size <= nb) return NULL;
    uintptr_t a;
    if ((*rc = as_ps_reserve(st->ps, 0, size, st->page, &a)) != 0) {
        *rc = AS_ENOMEM;
        return NULL;
    }
    gl_chunk_t *c = gl_node(st, a, size, GL_MMAPPED, av ? av->index : 0);
    c->mm_off = 0;
    st->n_mmaps++;
    st->mmapped_mem += size;
    return c;
}

/* The old top [old, old + old_size) can no longer grow: fencepost its end
 * and free the rest (sysmalloc's two fencepost blocks, malloc.c 2640-2666
 * for heaps and 2895-2928 for the main arena). */
static void fence_old_top(gl_t *st, gl_arena_t *av, uintptr_t old,
                          uint64_t old_size)
{
    if (old_size == 0) return;
    uint64_t keep = (old_size - 2 * GL_HDR) & ~(uint64_t)(GL_ALIGN - 1);
    uintptr_t fence = keep >= GL_MINSIZE ? old + keep : old;
    gl_node(st, fence, old + old_size - fence, GL_FENCE, av->index);
    if (keep >= GL_MINSIZE)
        gl_int_free(st, av, gl_node(st, old, keep, GL_INUSE, av->index));
}

static gl_seg_t *seg_new(gl_t *st, gl_arena_t *av, uintptr_t base,
                         uintptr_t first, uint64_t size)
{
    gl_seg_t *s = as_pool_alloc(&st->seg_pool);
    if (!s) return NULL;
    s->base = base;
    s->first = first;
    s->size = size;
    s->prev = av->segs;
    av->segs = s;
    return s;
}

/* new_heap (arena.c 481-580): a HEAP_MAX_SIZE reservation aligned to its
 * size, of which `size + top_pad` (at least HEAP_MIN_SIZE) is in use. */
static gl_seg_t *new_heap(gl_t *st, gl_arena_t *av, uint64_t size,
                          uint64_t top_pad)
{
    if (size + top_pad < GL_HEAP_MIN)
        size = GL_HEAP_MIN;
    else if (size + top_pad <= GL_HEAP_MAX)
        size += top_pad;
    else if (size > GL_HEAP_MAX)
        return NULL;
    else
        size = GL_HEAP_MAX;
    size = as_align_up(size, st->page);
    uintptr_t a;
    if (as_ps_reserve(st->ps, 0, GL_HEAP_MAX, GL_HEAP_MAX, &a)) return NULL;
    /* glibc maps the heap PROT_NONE and mprotects the part in use, so the
     * kernel sees two mappings and backs no huge page across their border;
     * a reservation of the whole 64 MiB would let the simulated THP
     * `always` fault a 2 MiB page at the first touch of a 132 KiB heap.
     * MADV_NOHUGEPAGE on the whole heap keeps it on base pages (what the
     * real heap gets under THP `madvise`, as glibc never advises it). */
    as_ps_hugepage_hint(st->ps, a, GL_HEAP_MAX, 0);
    gl_seg_t *s = seg_new(st, av, a, a + GL_HEAP_INFO, size);
    if (!s) {
        as_ps_unreserve(st->ps, a, GL_HEAP_MAX);
        return NULL;
    }
    st->n_heaps++;
    return s;
}

/* sbrk(size) over the page source: @return 0 with *brk the old break. */
static int sbrk_grow(gl_t *st, uint64_t size, uintptr_t *brk)
{
    uintptr_t a, hint = st->brk_end ? st->brk_end : GL_BRK_HINT;
    if (as_ps_reserve(st->ps, hint, size, st->page, &a)) return AS_ENOMEM;
    if (st->brk_end && a != st->brk_end) { /* something sits at the break */
        as_ps_unreserve(st->ps, a, size);
        return AS_ENOMEM;
    }
    if (!st->brk_end) st->brk_base = a;
    *brk = a;
    st->brk_end = a + size;
    st->n_sbrk++;
    return 0;
}

static gl_chunk_t *sysmalloc(gl_t *st, gl_arena_t *av, uint64_t nb, int *rc)
{
    int tried_mmap = 0;
    if (nb >= st->mmap_threshold && st->n_mmaps < st->mmap_max) {
        gl_chunk_t *c = mmap_chunk(st, av, nb, rc);
        if (c) return c;
        tried_mmap = 1;
        *rc = 0;
    }
    uintptr_t old_top = av->top;
    uint64_t old_size = av->top_size;
    uintptr_t old_end = old_top + old_size;
    if (!is_main(av)) {
        gl_seg_t *h = av->segs;
        uint64_t diff = as_align_up(GL_MINSIZE + nb - old_size, st->page);
        if ((int64_t)(GL_MINSIZE + nb - old_size) > 0 &&
            h->size + diff <= GL_HEAP_MAX) { /* grow_heap */
            h->size += diff;
            av->system_mem += diff;
            av->top_size = h->base + h->size - av->top;
        } else {
            gl_seg_t *nh =
                new_heap(st, av, nb + GL_MINSIZE + GL_HEAP_INFO, st->top_pad);
            if (nh) {
                av->system_mem += nh->size;
                av->top = nh->first;
                av->top_size = nh->size - GL_HEAP_INFO;
                fence_old_top(st, av, old_top, old_size);
            } else if (!tried_mmap) {
                gl_chunk_t *c = mmap_chunk(st, av, nb, rc);
                if (c) return c;
            }
        }
    } else {
        uint64_t size = nb + st->top_pad + GL_MINSIZE;
        if (av->contiguous) size -= old_size;
        size = as_align_up(size, st->page);
        uintptr_t brk = 0;
        int got = 0, mmapped = 0;
        if ((int64_t)size > 0 && sbrk_grow(st, size, &brk) == 0) got = 1;
        if (!got) { /* sysmalloc_mmap_fallback */
            uint64_t msize = size;
            if (av->contiguous) msize = as_align_up(size + old_size, st->page);
            if (msize < GL_MORECORE_MIN) msize = GL_MORECORE_MIN;
            if (msize > nb &&
                as_ps_reserve(st->ps, 0, msize, st->page, &brk) == 0) {
                if (!seg_new(st, av, brk, brk, msize)) {
                    as_ps_unreserve(st->ps, brk, msize);
                } else {
                    av->contiguous = 0;
                    size = msize;
                    got = mmapped = 1;
                    st->n_mmap_fallback++;
                }
            }
        }
        if (got) {
            av->system_mem += size;
            if (brk == old_end && !mmapped) {
                av->top_size += size;
            } else {
                /* first call, or the new space is not after the top: it
                 * becomes the top and the old top is fenced and freed */
                av->top = brk;
                av->top_size = size;
                fence_old_top(st, av, old_top, old_size);
            }
        }
    }
    if (av->system_mem > av->max_system_mem)
        av->max_system_mem = av->system_mem;
    if (av->top_size >= nb + GL_MINSIZE) {
        gl_chunk_t *c = gl_node(st, av->top, nb, GL_INUSE, av->index);
        av->top += nb;
        av->top_size -= nb;
        *rc = 0;
        return c;
    }
    if (!*rc) *rc = AS_ENOMEM;
    return NULL;
}

/* heap_trim (arena.c 641-733) for the heap that holds av's top. */
static void heap_trim(gl_t *st, gl_arena_t *av, uint64_t pad)
{
    gl_seg_t *h = av->segs;
    while (av->top == h->first && h->prev) { /* can the heap go away? */
        gl_seg_t *ph = h->prev;
        uintptr_t pend = ph->base + ph->size;
        uint64_t v;
        gl_chunk_t *fence = NULL;
        /* the fencepost node ends the previous heap */
        for (uintptr_t a = pend - GL_MINSIZE; a >= pend - 3 * GL_HDR; a -= 16)
            if ((fence = chunk_at(st, a)) && fence->state == GL_FENCE) break;
        if (!fence || fence->state != GL_FENCE) break;
        uint64_t new_size = fence->size;
        gl_chunk_t *before = NULL;
        if (as_u64map_get(&st->foot, fence->addr, &v)) {
            before = (gl_chunk_t *)(uintptr_t)v;
            new_size += before->size;
        }
        if (new_size + (GL_HEAP_MAX - ph->size) < pad + GL_MINSIZE + st->page)
            break;
        av->system_mem -= h->size;
        as_ps_unreserve(st->ps, h->base, GL_HEAP_MAX);
        av->segs = ph;
        as_pool_free(&st->seg_pool, h);
        st->n_heaps--;
        h = ph;
        uintptr_t ntop = fence->addr;
        gl_node_drop(st, fence);
        if (before) {
            ntop = before->addr;
            gl_unlink(st, av, before);
            gl_node_drop(st, before);
        }
        av->top = ntop;
        av->top_size = new_size;
    }
    if (av->top_size < st->trim_threshold) return;
    int64_t top_area = (int64_t)av->top_size - GL_MINSIZE - 1;
    if (top_area < 0 || (uint64_t)top_area <= pad) return;
    uint64_t extra = as_align_down((uint64_t)top_area - pad, st->page);
    if (extra == 0 || h->size - extra < GL_HEAP_INFO) return;
    /* shrink_heap: MADV_DONTNEED the tail, keep the mapping */
    as_ps_release(st->ps, h->base + h->size - extra, extra);
    h->size -= extra;
    av->system_mem -= extra;
    av->top_size -= extra;
    st->n_heap_trim++;
}

int gl_new_arena(gl_t *st, uint64_t size)
{
    if (st->n_arenas == st->cap_arenas) {
        uint32_t cap = st->cap_arenas ? 2 * st->cap_arenas : 8;
        gl_arena_t **na = as_mem_alloc(&st->ps->meta, cap * sizeof *na);
        if (!na) return -1;
        for (uint32_t i = 0; i < st->n_arenas; i++)
            na[i] = st->arenas[i];
        as_mem_free(&st->ps->meta, st->arenas, st->cap_arenas * sizeof *na);
        st->arenas = na;
        st->cap_arenas = cap;
    }
    gl_arena_t *a = as_mem_alloc(&st->ps->meta, sizeof *a);
    if (!a) return -1;
    a->index = st->n_arenas;
    gl_bins_init(a);
    uint64_t fixed = GL_HEAP_INFO + GL_MSTATE + GL_ALIGN;
    gl_seg_t *h = new_heap(st, a, size + fixed, st->top_pad);
    if (!h) h = new_heap(st, a, fixed, st->top_pad);
    if (!h) {
        as_mem_free(&st->ps->meta, a, sizeof *a);
        return -1;
    }
    /* the malloc_state follows heap_info; the top starts aligned after it */
    uintptr_t ptr = h->base + GL_HEAP_INFO + GL_MSTATE;
    uint64_t mis = (ptr + GL_HDR) & (GL_ALIGN - 1);
    if (mis) ptr += GL_ALIGN - mis;
    h->first = ptr;
    a->top = ptr;
    a->top_size = h->base + h->size - ptr;
    a->system_mem = a->max_system_mem = h->size;
    a->contiguous = 0;
    /* a->next = main_arena.next; main_arena.next = a */
    a->next = st->arenas[0]->next;
    st->arenas[0]->next = a->index;
    st->arenas[st->n_arenas++] = a;
    return (int)a->index;
}

/* ---- _int_malloc ---- */

static void fast_push(gl_arena_t *av, gl_chunk_t *c)
{
    unsigned idx = gl_fastbin_index(c->size);
    c->state = GL_FAST;
    c->fd = av->fast[idx];
    av->fast[idx] = c;
    av->n_fast++;
    av->fast_bytes += c->size;
}

static gl_chunk_t *fast_pop(gl_arena_t *av, unsigned idx)
{
    gl_chunk_t *c = av->fast[idx];
    av->fast[idx] = c->fd;
    c->fd = NULL;
    av->n_fast--;
    av->fast_bytes -= c->size;
    c->state = GL_INUSE;
    return c;
}

/* Split `nb` off the front of c (just unlinked); the rest goes to the
 * unsorted bin. @return c, now in use. */
static gl_chunk_t *split_rest(gl_t *st, gl_arena_t *av, gl_chunk_t *c,
                              uint64_t nb, int advertise)
{
    uint64_t rest = c->size - nb;
    c->state = GL_INUSE;
    if (rest < GL_MINSIZE) return c; /* exhaust */
    c->size = nb;
    gl_chunk_t *r = gl_node(st, c->addr + nb, rest, GL_BINNED, av->index);
    gl_unsorted_push(st, av, r);
    if (advertise) av->last_remainder = r->addr;
    return c;
}

gl_chunk_t *gl_int_malloc(gl_t *st, gl_arena_t *av, uint64_t bytes, int *rc)
{
    *rc = 0;
    if (bytes > (uint64_t)INT64_MAX) {
        *rc = AS_ETOO_LARGE;
        return NULL;
    }
    uint64_t nb = gl_request2size(bytes);
    gl_thread_t *t = st->cur;
    int tc_on = t && t->tcache_on;
    uint64_t tc_idx = gl_csize2tidx(nb);

    if (nb <= st->max_fast) {
        unsigned idx = gl_fastbin_index(nb);
        if (av->fast[idx]) {
            gl_chunk_t *victim = fast_pop(av, idx);
            if (tc_on && tc_idx < st->tcache_bins)
                while (t->counts[tc_idx] < st->tcache_count && av->fast[idx])
                    gl_tcache_put(st, fast_pop(av, idx), tc_idx);
            return victim;
        }
    }
    unsigned idx;
    if (gl_in_smallbin(nb)) {
        idx = gl_smallbin_index(nb);
        gl_chunk_t *bin = &av->bins[idx];
        if (bin->bk != bin) {
            gl_chunk_t *victim = bin->bk;
            gl_unlink(st, av, victim);
            victim->state = GL_INUSE;
            if (tc_on && tc_idx < st->tcache_bins)
                while (t->counts[tc_idx] < st->tcache_count && bin->bk != bin) {
                    gl_chunk_t *c = bin->bk;
                    gl_unlink(st, av, c);
                    gl_tcache_put(st, c, tc_idx);
                }
            return victim;
        }
    } else {
        idx = gl_largebin_index(nb);
        if (av->have_fastchunks) gl_malloc_consolidate(st, av);
    }

    uint64_t tcache_nb = tc_on && tc_idx < st->tcache_bins ? nb : 0;
    int return_cached = 0;
    uint64_t tcache_unsorted_count = 0;
    gl_chunk_t *unsorted = &av->bins[1];
    for (;;) {
        unsigned iters = 0;
        while (unsorted->bk != unsorted) {
            gl_chunk_t *victim = unsorted->bk;
            uint64_t size = victim->size;
            if (gl_in_smallbin(nb) && victim->bk == unsorted &&
                victim->addr == av->last_remainder && size > nb + GL_MINSIZE) {
                gl_unlink(st, av, victim);
                gl_chunk_t *r = gl_node(st, victim->addr + nb, size - nb,
                                        GL_BINNED, av->index);
                victim->size = nb;
                victim->state = GL_INUSE;
                gl_unsorted_push(st, av, r);
                av->last_remainder = r->addr;
                return victim;
            }
            gl_unlink(st, av, victim);
            if (size == nb) {
                if (tcache_nb && t->counts[tc_idx] < st->tcache_count) {
                    gl_tcache_put(st, victim, tc_idx);
                    return_cached = 1;
                    continue;
                }
                victim->state = GL_INUSE;
                return victim;
            }
            gl_binned_in(st, av, victim); /* it stays free, in its bin */
            gl_bin_place(st, av, victim);
            ++tcache_unsorted_count;
            if (return_cached && st->tcache_unsorted_limit > 0 &&
                tcache_unsorted_count > st->tcache_unsorted_limit)
                return gl_tcache_get(st, tc_idx);
            if (++iters >= GL_MAX_ITERS) break;
        }
        if (return_cached) return gl_tcache_get(st, tc_idx);

        if (!gl_in_smallbin(nb)) {
            gl_chunk_t *bin = &av->bins[idx], *victim = bin->fd;
            if (victim != bin && victim->size >= nb) {
                victim = victim->bk_nextsize;
                while (victim->size < nb)
                    victim = victim->bk_nextsize;
                if (victim != bin->bk && victim->size == victim->fd->size)
                    victim = victim->fd;
                gl_unlink(st, av, victim);
                return split_rest(st, av, victim, nb, 0);
            }
        }

        /* best fit through the binmap, from the next bin up */
        unsigned i = idx + 1;
        gl_chunk_t *found = NULL;
        while (i < GL_NBINS) {
            uint32_t map = av->binmap[i >> 5] >> (i & 31);
            if (!map) {
                i = (i | 31) + 1;
                continue;
            }
            i += (unsigned)__builtin_ctz(map);
            gl_chunk_t *bin = &av->bins[i];
            if (bin->bk == bin) { /* false alarm: clear the bit */
                av->binmap[i >> 5] &= ~(1u << (i & 31));
                i++;
                continue;
            }
            found = bin->bk;
            break;
        }
        if (found) {
            gl_unlink(st, av, found);
            return split_rest(st, av, found, nb, gl_in_smallbin(nb));
        }

        /* use_top */
        if (av->top_size >= nb + GL_MINSIZE && av->top) {
            gl_chunk_t *c = gl_node(st, av->top, nb, GL_INUSE, av->index);
            av->top += nb;
            av->top_size -= nb;
            return c;
        } else if (av->have_fastchunks) {
            gl_malloc_consolidate(st, av);
            idx = gl_in_smallbin(nb) ? gl_smallbin_index(nb)
                                     : gl_largebin_index(nb);
        } else {
            return sysmalloc(st, av, nb, rc);
        }
    }
}

/* ---- _int_free ---- */

void gl_int_free(gl_t *st, gl_arena_t *av, gl_chunk_t *p)
{
    gl_thread_t *t = st->cur;
    uint64_t size = p->size;
    uint64_t tc_idx = gl_csize2tidx(size);
    if (t && t->tcache_on && tc_idx < st->tcache_bins &&
        t->counts[tc_idx] < st->tcache_count) {
        gl_tcache_put(st, p, tc_idx);
        return;
    }
    if (size <= st->max_fast) {
        fast_push(av, p);
        av->have_fastchunks = 1;
        return;
    }
    size = coalesce(st, av, p);
    if (size >= GL_FASTBIN_CONSOLIDATION) {
        if (av->have_fastchunks) gl_malloc_consolidate(st, av);
        if (is_main(av)) {
            if (av->top_size >= st->trim_threshold)
                systrim(st, av, st->top_pad);
        } else {
            heap_trim(st, av, st->top_pad);
        }
    }
}

void gl_free_mmapped(gl_t *st, gl_chunk_t *c)
{
    uint64_t nomask = c->size | 2; /* chunksize_nomask: IS_MMAPPED set */
    if (st->dyn_threshold && nomask > st->mmap_threshold &&
        nomask <= GL_MMAP_THRESHOLD_MAX) {
        st->mmap_threshold = c->size;
        st->trim_threshold = 2 * c->size;
    }
    uint64_t total = c->mm_off + c->size;
    as_ps_unreserve(st->ps, c->addr - c->mm_off, total);
    st->n_mmaps--;
    st->mmapped_mem -= total;
    gl_node_drop(st, c);
}

gl_chunk_t *gl_mremap_chunk(gl_t *st, gl_chunk_t *c, uint64_t nb, int *rc)
{
    uint64_t off = c->mm_off, total = off + c->size;
    uintptr_t block = c->addr - off;
    uint64_t want = as_align_up(nb + off + GL_SIZE_SZ, st->page);
    *rc = 0;
    if (want == total) return c;
    uintptr_t a = block;
    if (want < total) {
        as_ps_unreserve(st->ps, block + want, total - want);
    } else {
        uintptr_t b;
        if (as_ps_reserve(st->ps, block + total, want - total, st->page, &b)) {
            *rc = AS_ENOMEM;
            return NULL;
        }
        if (b != block + total) { /* MREMAP_MAYMOVE: a new mapping */
            as_ps_unreserve(st->ps, b, want - total);
            if (as_ps_reserve(st->ps, 0, want, st->page, &a)) {
                *rc = AS_ENOMEM;
                return NULL;
            }
            as_ps_unreserve(st->ps, block, total);
        }
    }
    st->mmapped_mem += want - total;
    uint32_t arena = c->arena;
    gl_node_drop(st, c);
    gl_chunk_t *n = gl_node(st, a + off, want - off, GL_MMAPPED, arena);
    n->mm_off = off;
    return n;
}

/* ---- _int_realloc and _int_memalign ---- */

/* Give the tail [c + nb, c + size) back with _int_free. */
static void free_tail(gl_t *st, gl_arena_t *av, gl_chunk_t *c, uint64_t nb)
{
    uint64_t rest = c->size - nb;
    if (rest < GL_MINSIZE) return;
    c->size = nb;
    gl_int_free(st, av, gl_node(st, c->addr + nb, rest, GL_INUSE, av->index));
}

gl_chunk_t *gl_int_realloc(gl_t *st, gl_arena_t *av, gl_chunk_t *old,
                           uint64_t nb, int *rc)
{
    *rc = 0;
    uintptr_t next = old->addr + old->size;
    if (old->size < nb) {
        if (next == av->top && old->size + av->top_size >= nb + GL_MINSIZE) {
            uint64_t grow = nb - old->size;
            old->size = nb;
            av->top += grow;
            av->top_size -= grow;
            return old;
        }
        gl_chunk_t *n = next == av->top ? NULL : chunk_at(st, next);
        if (n && n->state == GL_BINNED && old->size + n->size >= nb) {
            gl_unlink(st, av, n);
            old->size += n->size;
            gl_node_drop(st, n);
        } else {
            gl_chunk_t *nc = gl_int_malloc(st, av, nb - (GL_ALIGN - 1), rc);
            if (!nc) return NULL;
            if (nc->addr == next) { /* the next chunk: no copy */
                old->size += nc->size;
                gl_node_drop(st, nc);
            } else {
                gl_int_free(st, av, old);
                return nc;
            }
        }
    }
    free_tail(st, av, old, nb);
    return old;
}

gl_chunk_t *gl_int_memalign(gl_t *st, gl_arena_t *av, uint64_t alignment,
                            uint64_t bytes, int *rc)
{
    uint64_t nb = gl_request2size(bytes);
    gl_chunk_t *p = gl_int_malloc(st, av, nb + alignment + GL_MINSIZE, rc);
    if (!p) return NULL;
    uintptr_t m = p->addr + GL_HDR;
    if (m % alignment) {
        uintptr_t brk =
            ((m + alignment - 1) & ~(uintptr_t)(alignment - 1)) - GL_HDR;
        if (brk - p->addr < GL_MINSIZE) brk += alignment;
        uint64_t lead = brk - p->addr, newsize = p->size - lead;
        if (p->state == GL_MMAPPED) {
            uint64_t off = p->mm_off + lead;
            uint32_t arena = p->arena;
            gl_node_drop(st, p);
            p = gl_node(st, brk, newsize, GL_MMAPPED, arena);
            p->mm_off = off;
            return p;
        }
        gl_chunk_t *np = gl_node(st, brk, newsize, GL_INUSE, av->index);
        p->size = lead;
        gl_int_free(st, av, p);
        p = np;
    }
    if (p->state != GL_MMAPPED && p->size > nb + GL_MINSIZE)
        free_tail(st, av, p, nb);
    return p;
}

/* ---- malloc_trim ---- */

int gl_mtrim(gl_t *st, gl_arena_t *av, uint64_t pad)
{
    gl_malloc_consolidate(st, av);
    unsigned psindex = gl_bin_index(st->page);
    int result = 0;
    for (unsigned i = 1; i < GL_NBINS; i++) {
        if (i != 1 && i < psindex) continue;
        gl_chunk_t *bin = &av->bins[i];
        for (gl_chunk_t *p = bin->bk; p != bin; p = p->bk) {
            uint64_t size = p->size;
            if (size <= st->page - 1 + 48) continue; /* sizeof malloc_chunk */
            uintptr_t pm =
                (p->addr + 48 + st->page - 1) & ~(uintptr_t)(st->page - 1);
            size -= pm - p->addr;
            if (size > st->page - 1) {
                uint64_t len = size & ~(uint64_t)(st->page - 1);
                if (as_ps_release(st->ps, pm, len) == 0) {
                    st->n_madvised++;
                    st->madvised_bytes += len;
                }
                result = 1;
            }
        }
    }
    return result | (is_main(av) ? systrim(st, av, pad) : 0);
}

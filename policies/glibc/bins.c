/* bins.c - the glibc model's free lists: the unsorted, small and large bins
 * with their binmap, and the per-thread tcache.
 *
 * These are glibc's lists kept out of band: every bin is a circular doubly
 * linked list through a sentinel (bin_at), new chunks enter at the head
 * (fd side) and malloc takes from the tail (bk side), so the unsorted bin
 * and the small bins are FIFO. A large bin is sorted by size, largest at
 * the head; the first chunk of each size is on a second list (fd_nextsize /
 * bk_nextsize) that skips the others of its size, and a chunk of a size
 * already present goes in second position (malloc.c 4084-4127). The binmap
 * has a bit per bin, set when a chunk is placed and cleared lazily by the
 * search (malloc.c 4237-4242). The tcache is a LIFO per size class with a
 * count (tcache_put / tcache_get, malloc.c 3169-3194).
 * This file moves list links and the mallinfo counters only: it never
 * allocates and never calls the page source.
 */
#include "policies/glibc/gl_internal.h"

void gl_bins_init(gl_arena_t *av)
{
    for (unsigned i = 0; i < GL_NBINS; i++) {
        gl_chunk_t *b = &av->bins[i];
        b->fd = b->bk = b;
        /* glibc's sentinels overlay the next bin's links, never NULL: the
         * skip-list repair of unlink_chunk relies on it */
        b->fd_nextsize = b->bk_nextsize = b;
    }
}

void gl_binned_in(gl_t *st, gl_arena_t *av, gl_chunk_t *c)
{
    c->state = GL_BINNED;
    av->n_binned++;
    av->binned_bytes += c->size;
    as_u64map_put(&st->foot, c->addr + c->size, (uintptr_t)c);
}

void gl_binned_out(gl_t *st, gl_arena_t *av, gl_chunk_t *c)
{
    av->n_binned--;
    av->binned_bytes -= c->size;
    as_u64map_remove(&st->foot, c->addr + c->size, NULL);
}

void gl_unsorted_push(gl_t *st, gl_arena_t *av, gl_chunk_t *c)
{
    gl_chunk_t *bck = &av->bins[1], *fwd = bck->fd;
    c->fd = fwd;
    c->bk = bck;
    c->fd_nextsize = c->bk_nextsize = NULL;
    bck->fd = c;
    fwd->bk = c;
    gl_binned_in(st, av, c);
}

void gl_unlink(gl_t *st, gl_arena_t *av, gl_chunk_t *p)
{
    gl_chunk_t *fd = p->fd, *bk = p->bk;
    fd->bk = bk;
    bk->fd = fd;
    if (!gl_in_smallbin(p->size) && p->fd_nextsize) {
        if (!fd->fd_nextsize) { /* fd inherits p's place in the skip list */
            if (p->fd_nextsize == p) {
                fd->fd_nextsize = fd->bk_nextsize = fd;
            } else {
                fd->fd_nextsize = p->fd_nextsize;
                fd->bk_nextsize = p->bk_nextsize;
                p->fd_nextsize->bk_nextsize = fd;
                p->bk_nextsize->fd_nextsize = fd;
            }
        } else {
            p->fd_nextsize->bk_nextsize = p->bk_nextsize;
            p->bk_nextsize->fd_nextsize = p->fd_nextsize;
        }
    }
    p->fd_nextsize = p->bk_nextsize = NULL;
    gl_binned_out(st, av, p);
}

void gl_bin_place(gl_t *st, gl_arena_t *av, gl_chunk_t *c)
{
    unsigned idx;
    gl_chunk_t *bck, *fwd;
    (void)st;
    if (gl_in_smallbin(c->size)) {
        idx = gl_smallbin_index(c->size);
        bck = &av->bins[idx];
        fwd = bck->fd;
    } else {
        idx = gl_largebin_index(c->size);
        bck = &av->bins[idx];
        fwd = bck->fd;
        if (fwd != bck) {
            if (c->size < bck->bk->size) { /* smaller than the smallest */
                fwd = bck;
                bck = bck->bk;
                c->fd_nextsize = fwd->fd;
                c->bk_nextsize = fwd->fd->bk_nextsize;
                fwd->fd->bk_nextsize = c;
                c->bk_nextsize->fd_nextsize = c;
            } else {
                while (c->size < fwd->size)
                    fwd = fwd->fd_nextsize;
                if (c->size == fwd->size) {
                    fwd = fwd->fd; /* second position: skip list unchanged */
                } else {
                    c->fd_nextsize = fwd;
                    c->bk_nextsize = fwd->bk_nextsize;
                    fwd->bk_nextsize = c;
                    c->bk_nextsize->fd_nextsize = c;
                }
                bck = fwd->bk;
            }
        } else {
            c->fd_nextsize = c->bk_nextsize = c;
        }
    }
    av->binmap[idx >> 5] |= 1u << (idx & 31);
    c->bk = bck;
    c->fd = fwd;
    fwd->bk = c;
    bck->fd = c;
}

void gl_tcache_put(gl_t *st, gl_chunk_t *c, uint64_t tc_idx)
{
    gl_thread_t *t = st->cur;
    c->state = GL_TCACHE;
    c->fd = t->entries[tc_idx];
    t->entries[tc_idx] = c;
    t->counts[tc_idx]++;
    st->n_tcache++;
    st->tcache_bytes += c->size;
}

gl_chunk_t *gl_tcache_get(gl_t *st, uint64_t tc_idx)
{
    gl_thread_t *t = st->cur;
    gl_chunk_t *c = t->entries[tc_idx];
    t->entries[tc_idx] = c->fd;
    t->counts[tc_idx]--;
    c->fd = NULL;
    c->state = GL_INUSE;
    st->n_tcache--;
    st->tcache_bytes -= c->size;
    return c;
}

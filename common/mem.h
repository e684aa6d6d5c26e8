/* mem.h - out-of-band metadata memory, shared by policies and predictors.
 *
 * An as_mem_t hands out real host memory for a component's own bookkeeping:
 * zero-filled, 16-byte aligned, never from libc malloc. The simulator backs it
 * with the simulated page source's metadata arena (so the bytes are counted),
 * tests and layers with host memory, and the real allocator with mmap. The
 * caller frees with the size it allocated, so an arena need keep no headers.
 */
#ifndef AS_COMMON_MEM_H
#define AS_COMMON_MEM_H

#include <stddef.h>

typedef struct {
    void *(*alloc)(void *state, size_t bytes);        /* NULL on failure */
    void (*free)(void *state, void *p, size_t bytes); /* bytes as allocated */
    void *state;
} as_mem_t;

/* as_mem_alloc: @return zeroed memory of `bytes`, or NULL when exhausted. */
static inline void *as_mem_alloc(const as_mem_t *m, size_t bytes)
{
    return m->alloc(m->state, bytes);
}

/* as_mem_free: return p (NULL is ignored); `bytes` as given to alloc. */
static inline void as_mem_free(const as_mem_t *m, void *p, size_t bytes)
{
    if (p) m->free(m->state, p, bytes);
}

#endif /* AS_COMMON_MEM_H */

/* pagesource.h - the operating system below a policy.
 *
 * A policy obtains memory only through an as_pagesource_t: address space
 * (reserve/unreserve, like mmap/munmap), giving pages back while keeping the
 * range (release, like madvise(MADV_DONTNEED)), a THP hint (like
 * madvise(MADV_HUGEPAGE)), and its own out-of-band metadata (meta_alloc).
 *
 * Implementations: the simulated Linux in sim/simos.h; the real one (mmap,
 * madvise, munmap) in the preload allocator, malloc/osmem.h.
 * Addresses are uintptr_t values in the page source's address space:
 * in the simulator they are never dereferenced. Metadata pointers, in
 * contrast, are real host memory that the policy reads and writes.
 *
 * Rules for callers: sizes and addresses passed to reserve/release/unreserve
 * are multiples of page_bytes; align is a power of two >= page_bytes.
 */
#ifndef AS_POLICIES_PAGESOURCE_H
#define AS_POLICIES_PAGESOURCE_H

#include <stddef.h>
#include <stdint.h>

#include "common/mem.h"

typedef struct {
    /* reserve: map `bytes` of fresh, zero, non-resident address space aligned
     * to `align`. `hint` (0 = none) asks for that exact address, granted when
     * the whole range there is free (like an mmap hint); otherwise any free
     * range that fits may be returned (the simulated OS places it as Linux
     * does, by default the highest fit below mmap_base, deterministically;
     * policy.h rule 7 says no policy may depend on where).
     * @return 0, AS_ENOSPACE. */
    int (*reserve)(void *state, uintptr_t hint, size_t bytes, size_t align,
                   uintptr_t *addr);
    /* release: the pages of [addr, addr+bytes) stop being resident but stay
     * mapped (MADV_DONTNEED); releasing part of a huge page splits it.
     * @return 0, AS_EINVAL (range not mapped). */
    int (*release)(void *state, uintptr_t addr, size_t bytes);
    /* unreserve: return [addr, addr+bytes) to the OS (munmap); any part of a
     * reservation may be returned. @return 0, AS_EINVAL (not mapped). */
    int (*unreserve)(void *state, uintptr_t addr, size_t bytes);
    /* hugepage_hint: MADV_HUGEPAGE (enable=1) / MADV_NOHUGEPAGE (0) on a
     * mapped range. Optional (NULL). @return 0 or AS_EINVAL. */
    int (*hugepage_hint)(void *state, uintptr_t addr, size_t bytes, int enable);
} as_pagesource_ops_t;

typedef struct {
    const as_pagesource_ops_t *ops;
    void *state;
    as_mem_t meta;         /* the metadata arena of this page source */
    size_t page_bytes;     /* base page, 4096 */
    size_t hugepage_bytes; /* huge page, 2 MiB */
} as_pagesource_t;

static inline int as_ps_reserve(const as_pagesource_t *ps, uintptr_t hint,
                                size_t bytes, size_t align, uintptr_t *addr)
{
    return ps->ops->reserve(ps->state, hint, bytes, align, addr);
}
static inline int as_ps_release(const as_pagesource_t *ps, uintptr_t addr,
                                size_t bytes)
{
    return ps->ops->release(ps->state, addr, bytes);
}
static inline int as_ps_unreserve(const as_pagesource_t *ps, uintptr_t addr,
                                  size_t bytes)
{
    return ps->ops->unreserve(ps->state, addr, bytes);
}
static inline int as_ps_hugepage_hint(const as_pagesource_t *ps, uintptr_t addr,
                                      size_t bytes, int enable)
{
    return ps->ops->hugepage_hint
               ? ps->ops->hugepage_hint(ps->state, addr, bytes, enable)
               : 0;
}

#endif /* AS_POLICIES_PAGESOURCE_H */

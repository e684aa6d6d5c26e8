/* osmem.h - the operating system below the real allocator: an as_pagesource_t
 * over mmap, madvise and munmap, and metadata arenas (as_mem_t) over mmap.
 *
 * Type map
 *   as_osrange_t  one mapped range [start, end) of a page source
 *   as_osmem_t    a page source's state: the ranges it holds (sorted,
 *                 disjoint, never adjacent), its counters, the metadata
 *                 arena the policy gets as ps.meta and, optionally, the
 *                 heap window
 *   as_osarena_t  a metadata arena: power-of-two size classes from 16 B to
 *                 64 KiB carved from 1 MiB mmap'd chunks, each class with a
 *                 free list threaded through the free chunks; larger requests
 *                 are mapped one by one, and on free their pages are
 *                 dropped but their address range stays reserved (a
 *                 PROT_NONE placeholder, reused first fit by the arena's
 *                 next large request). Every metadata mapping (chunks,
 *                 large requests, the range table) is carved from one
 *                 per-process address-space window, so none lies among the
 *                 heap's reservations or leaves a hole there
 *                 (docs/malloc.md, "Metadata stays out of the heap's way")
 *
 * The heap window (as_osmem_window) is one span of address space reserved
 * up front with PROT_NONE (no memory, no commitment) in which the page
 * source places its reservations: a reservation without a usable hint is
 * cut from the window's top down (as Linux places mmaps), then from the
 * highest gap that fits, and mapped over the window with MAP_FIXED; an
 * unreservation inside the window maps PROT_NONE back instead of
 * unmapping, so no other mapping of the process ever lands in the window.
 * What does not fit goes to mmap as without a window. The thread-cache
 * layer (malloc/tcache.h) keeps a flat block map over exactly this span.
 *
 * Invariants: osmem.mapped_bytes == Σ (end - start) over ranges;
 *   arena.live_bytes == Σ bytes of the allocations not yet freed (as the
 *   caller asked, not rounded; the simulator's meta_bytes counts the same);
 *   ranges[0..n_ranges) sorted by start, ranges[i].end < ranges[i+1].start;
 *   with a window: win_start <= win_next <= win_end, and every byte of
 *   [win_start, win_end) outside the held ranges is mapped PROT_NONE.
 *
 * Nothing here calls libc's allocator or stdio: the memory of the range
 * table and of the arenas comes from mmap directly (from the metadata
 * window, a 64 GiB PROT_NONE reservation made by the first as_osmem_init;
 * when it is used up or cannot be made, from anywhere). Not thread-safe: the
 * lock layer (malloc/lock.h) serialises every call, as policy.h rule 6
 * requires of the policy itself.
 */
#ifndef AS_MALLOC_OSMEM_H
#define AS_MALLOC_OSMEM_H

#include <stddef.h>
#include <stdint.h>

#include "common/mem.h"
#include "policies/pagesource.h"

#define AS_OSARENA_CLASSES 13 /* 16 B .. 64 KiB */
#define AS_OSARENA_SPARES 64  /* placeholders an arena keeps */

/* A retired metadata range: PROT_NONE, no memory behind it. */
typedef struct {
    uintptr_t start;
    size_t bytes;
} as_osspare_t;

/* The heap window the preload build asks for when thread caches are on:
 * 16 GiB of address space (16 of the tcmalloc policy's 1 GiB
 * reservations); its flat block map is 1/16 of that, 1 GiB, touched
 * only where blocks are. */
#define AS_OSMEM_WINDOW_BYTES ((size_t)16 << 30)

typedef struct {
    void *free_list[AS_OSARENA_CLASSES]; /* first free chunk of each class */
    char *bump, *bump_end;               /* unused tail of the current chunk */
    uint64_t live_bytes;                 /* bytes handed out, not freed */
    uint64_t peak_live_bytes;            /* max live_bytes */
    uint64_t mapped_bytes;               /* bytes mmap'd for the arena */
    as_osspare_t spare[AS_OSARENA_SPARES]; /* retired ranges, for reuse */
    size_t n_spare;
    uint64_t spare_bytes; /* Σ spare[].bytes: address space, no memory */
} as_osarena_t;

typedef struct {
    uintptr_t start, end;
} as_osrange_t;

typedef struct {
    as_osrange_t *ranges; /* mmap'd table, cap entries */
    size_t n_ranges, cap;
    uint64_t mapped_bytes; /* address space reserved and not returned */
    uint64_t peak_mapped_bytes;
    uint64_t n_reserves, n_releases, n_unreserves, n_hints;
    as_osarena_t meta_arena; /* the policy's metadata */
    size_t page_bytes;
    uintptr_t win_start, win_end; /* the heap window (0, 0: none) */
    uintptr_t win_next;           /* the window's unused part is below */
    uint64_t n_window_misses;     /* reservations placed outside it */
} as_osmem_t;

/* as_osarena_mem: an as_mem_t that allocates from arena `a` (zeroed,
 * 16-byte aligned; NULL when mmap fails). */
as_mem_t as_osarena_mem(as_osarena_t *a);

/* as_osmem_init: make `ps` a page source over mmap backed by `os` (which
 * must stay at its address while ps is used); ps->meta allocates from
 * os->meta_arena. page_bytes is the system's page size, hugepage_bytes 2 MiB.
 * The first call in a process also reserves the metadata window (above).
 */
void as_osmem_init(as_osmem_t *os, as_pagesource_t *ps);

/* as_osmem_window: reserve the heap window, `bytes` (rounded up to pages)
 * of address space mapped PROT_NONE, in which os places its reservations
 * from then on (see above). Call once, before the first reservation.
 * @return 0, AS_EINVAL when os already has a window or bytes is 0,
 * AS_ENOMEM when the address space cannot be had (os then works without
 * one, as before). */
int as_osmem_window(as_osmem_t *os, size_t bytes);

/* as_osmem_overlap: @return the bytes of [start, end) that lie inside the
 * ranges os holds (for attributing /proc/self/smaps entries). */
uint64_t as_osmem_overlap(const as_osmem_t *os, uintptr_t start, uintptr_t end);

#endif /* AS_MALLOC_OSMEM_H */

/* glibc.h - a model of glibc's malloc (ptmalloc2) as Debian 12 ships it
 * (glibc 2.36, x86-64).
 *
 * The baseline most production programs run: 16-byte chunk headers with
 * boundary tags, a per-thread tcache (64 bins of 7 chunks, requests up to
 * 1032 bytes), fastbins (chunks up to 128 bytes), the unsorted bin, 62 small
 * and 63 large bins with glibc's exact ordering and best-fit search through
 * the binmap, a top chunk grown like sbrk and trimmed at M_TRIM_THRESHOLD,
 * mmapped chunks above the dynamic mmap threshold, and per-thread arenas in
 * 64 MiB heaps up to 8 x cores. docs/policies/glibc.md states every rule
 * with its line in glibc 2.36's malloc/malloc.c and malloc/arena.c, and what
 * is simplified.
 *
 * Parameters (--param glibc.NAME=VALUE), glibc's defaults:
 *   trim_threshold   M_TRIM_THRESHOLD 128K      top_pad     M_TOP_PAD 128K
 *   mmap_threshold   M_MMAP_THRESHOLD 128K      mmap_max    M_MMAP_MAX 65536
 *   dyn_threshold    auto (dynamic unless one of the four above is set)
 *   mxfast           M_MXFAST 128               tcache_count 7
 *   tcache_max       1032                       tcache_unsorted_limit 0
 *   arena_max        M_ARENA_MAX 0 (unset)      arena_test  M_ARENA_TEST 8
 *   cores            0 = highest CPU number seen + 1
 *   trim_interval    0 = never call malloc_trim(0) (a model option)
 *
 * Statistics: the mallinfo2 fields (arena, ordblks, smblks, hblks, hblkhd,
 * fsmblks, uordblks, fordblks, keepcost) and arenas, heaps, threads,
 * tcache_chunks, tcache_bytes, mmap_threshold, trim_threshold, sbrk_bytes,
 * sbrk_calls, systrims, trimmed_bytes, consolidations, heap_trims,
 * mmap_fallbacks, madvised_bytes.
 */
#ifndef AS_POLICIES_GLIBC_GLIBC_H
#define AS_POLICIES_GLIBC_GLIBC_H

#include "policies/policy.h"

/* Indices of the parameter table (values[] order). */
enum {
    AS_GLIBC_TRIM_THRESHOLD = 0,
    AS_GLIBC_TOP_PAD,
    AS_GLIBC_MMAP_THRESHOLD,
    AS_GLIBC_MMAP_MAX,
    AS_GLIBC_DYN_THRESHOLD,
    AS_GLIBC_MXFAST,
    AS_GLIBC_TCACHE_COUNT,
    AS_GLIBC_TCACHE_MAX,
    AS_GLIBC_TCACHE_UNSORTED_LIMIT,
    AS_GLIBC_ARENA_MAX,
    AS_GLIBC_ARENA_TEST,
    AS_GLIBC_CORES,
    AS_GLIBC_TRIM_INTERVAL,
    AS_GLIBC_N_PARAMS
};

extern const as_policy_ops_t as_policy_glibc;

typedef struct gl gl_t;

/* The figures of glibc's mallinfo2() (malloc.c int_mallinfo), summed over
 * every arena as __libc_mallinfo2 does. */
typedef struct {
    uint64_t arena, ordblks, smblks, hblks, hblkhd, usmblks, fsmblks;
    uint64_t uordblks, fordblks, keepcost;
} as_glibc_mallinfo_t;

/* as_glibc_mallinfo: fill *m as mallinfo2() would. */
void as_glibc_mallinfo(const void *state, as_glibc_mallinfo_t *m);

/* as_glibc_malloc_trim: malloc_trim(pad) over every arena (consolidate,
 * MADV_DONTNEED the whole pages of free chunks, shrink the main arena's
 * top). @return 1 when memory was released, else 0. */
int as_glibc_malloc_trim(void *state, uint64_t pad);

/* as_glibc_top: the main arena's top chunk (address, size). */
void as_glibc_top(const void *state, uintptr_t *addr, uint64_t *size);

/* as_glibc_debug_corrupt: for tests of the check hook only: skew the main
 * arena's free-byte counter. @return 0. */
int as_glibc_debug_corrupt(void *state);

#endif /* AS_POLICIES_GLIBC_GLIBC_H */

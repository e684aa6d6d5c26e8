/* gl_internal.h - the glibc model's state, shared by its three files.
 *
 * Type map
 *   gl_chunk_t   one chunk of an arena heap, an mmapped chunk or a
 *                fencepost: its address, size, where it is (state) and the
 *                list links glibc keeps inside the chunk (here out of band)
 *   gl_seg_t     one contiguous piece of an arena: the sbrk region of the
 *                main arena, an mmap fallback region, or a non-main heap
 *   gl_arena_t   one malloc_state: bins, fastbins, binmap, top, segments
 *   gl_thread_t  what glibc keeps per thread: its arena and its tcache
 *   gl_t         the policy instance (malloc_par + every arena + threads)
 * Layers (tests/check_policy_call_graph.sh): glibc.c -> core.c -> bins.c.
 *
 * Every size and constant below is x86-64 glibc 2.36 (SIZE_SZ 8,
 * MALLOC_ALIGNMENT 16); docs/policies/glibc.md cites each with its line in
 * malloc/malloc.c or malloc/arena.c.
 *
 * Chunk states and their invariants (gl_check verifies them):
 *   INUSE    handed out; in gl_t.chunks only
 *   TCACHE   in a thread's tcache list (glibc counts it as in use)
 *   FAST     in a fastbin (in use for coalescing, free for mallinfo)
 *   BINNED   in the unsorted bin or a small/large bin; also in gl_t.foot
 *            under its end address (glibc's prev_size footer + clear
 *            PREV_INUSE of the next chunk)
 *   MMAPPED  its own mapping [addr - mm_off, addr + size)
 *   FENCE    fencepost bytes at the end of a segment the top left
 * Within a segment, chunks and the top tile [first, end) exactly; no two
 * BINNED chunks are adjacent; the chunk before the top is never BINNED.
 *
 * Records: a chunk on a list (TCACHE, FAST, BINNED) needs its links, and an
 * MMAPPED chunk its mm_off, so each has a gl_chunk_t and gl_t.chunks maps its
 * address to that record. An INUSE chunk between calls needs only its size
 * and arena (what glibc keeps in its 8-byte size field and the
 * NON_MAIN_ARENA bit), so glibc.c packs it into the map's value itself
 * (gl_pack: size | arena << 48 | GL_PACKED) and frees the record; the
 * routines of core.c always work on records, and glibc.c turns a packed
 * chunk back into one (gl_unpack) before handing it to them. A record is
 * 16-byte aligned, so bit 0 of a value tells the two apart. An INUSE chunk
 * with a record is valid too (one of 2^48 bytes or more, or one whose call
 * failed after gl_unpack); only the metadata bytes differ.
 */
#ifndef AS_POLICIES_GLIBC_GL_INTERNAL_H
#define AS_POLICIES_GLIBC_GL_INTERNAL_H

#include <stdint.h>

#include "policies/blocks/objpool.h"
#include "common/u64map.h"
#include "policies/glibc/glibc.h"

#define GL_SIZE_SZ 8u
#define GL_HDR 16u                       /* CHUNK_HDR_SZ */
#define GL_ALIGN 16u                     /* MALLOC_ALIGNMENT */
#define GL_MINSIZE 32u                   /* MINSIZE (MIN_CHUNK_SIZE rounded) */
#define GL_NBINS 128u                    /* NBINS */
#define GL_MIN_LARGE 1024u               /* MIN_LARGE_SIZE */
#define GL_NFASTBINS 10u                 /* NFASTBINS */
#define GL_TCACHE_BINS 64u               /* TCACHE_MAX_BINS */
#define GL_TCACHE_STRUCT 640u            /* sizeof (tcache_perthread_struct) */
#define GL_HEAP_INFO 48u                 /* sizeof (heap_info) */
#define GL_MSTATE 2200u                  /* sizeof (struct malloc_state) */
#define GL_HEAP_MIN (32u << 10)          /* HEAP_MIN_SIZE */
#define GL_HEAP_MAX ((uint64_t)64 << 20) /* HEAP_MAX_SIZE */
#define GL_MMAP_THRESHOLD_MAX ((uint64_t)32 << 20) /* DEFAULT_..._MAX */
#define GL_FASTBIN_CONSOLIDATION (64u << 10)       /* ..._THRESHOLD */
#define GL_MORECORE_MIN ((uint64_t)1 << 20)        /* MMAP_AS_MORECORE_SIZE */
#define GL_MAX_ITERS 10000u                        /* unsorted scan bound */
#define GL_BRK_HINT ((uintptr_t)0x600000000000ull) /* where brk starts */

enum { GL_INUSE = 1, GL_TCACHE, GL_FAST, GL_BINNED, GL_MMAPPED, GL_FENCE };

typedef struct gl_chunk {
    uintptr_t addr;                             /* chunk start; user mem + 16 */
    uint64_t size;                              /* chunksize, multiple of 16 */
    struct gl_chunk *fd, *bk;                   /* bin list (fd only: LIFOs) */
    struct gl_chunk *fd_nextsize, *bk_nextsize; /* large-bin skip list */
    uint64_t mm_off;                            /* MMAPPED: prev_size offset */
    uint16_t state;                             /* GL_INUSE .. GL_FENCE */
    uint16_t arena;                             /* owning arena's index */
    uint32_t pad;
} gl_chunk_t;

typedef struct gl_seg {
    uintptr_t base;      /* reservation start (heap_info for heaps) */
    uintptr_t first;     /* first chunk */
    uint64_t size;       /* heap->size: bytes in use from base */
    struct gl_seg *prev; /* older segment of the arena */
} gl_seg_t;

typedef struct {
    gl_chunk_t bins[GL_NBINS]; /* sentinels; bin 1 is the unsorted bin */
    gl_chunk_t *fast[GL_NFASTBINS];
    uint32_t binmap[GL_NBINS / 32];
    int have_fastchunks;
    int contiguous; /* main arena: sbrk space is one run */
    uintptr_t top;  /* top chunk address (0 = initial top) */
    uint64_t top_size;
    uintptr_t last_remainder; /* an address, compared as glibc does */
    uint64_t system_mem, max_system_mem;
    gl_seg_t *segs;       /* newest first (non-main: heap_for_ptr(top)) */
    uint32_t index, next; /* this arena, next in main_arena's list */
    uint64_t n_binned, binned_bytes, n_fast, fast_bytes; /* mallinfo */
} gl_arena_t;

typedef struct {
    uint64_t id;   /* trace thread number */
    int32_t arena; /* thread_arena, -1 until arena_get */
    int tcache_on; /* tcache_init succeeded */
    uint16_t counts[GL_TCACHE_BINS];
    gl_chunk_t *entries[GL_TCACHE_BINS];
} gl_thread_t;

struct gl {
    const as_pagesource_t *ps;
    uint64_t page;
    /* malloc_par */
    uint64_t trim_threshold, top_pad, mmap_threshold, mmap_max;
    int dyn_threshold;
    uint64_t max_fast; /* global_max_fast */
    uint64_t tcache_count, tcache_bins, tcache_unsorted_limit;
    uint64_t arena_max, arena_test, cores, narenas_limit, trim_interval_ns;
    uint64_t n_mmaps, mmapped_mem, max_cpu_seen;
    uintptr_t brk_base, brk_end; /* the simulated program break */

    gl_arena_t **arenas; /* arenas[0] is main_arena */
    uint32_t n_arenas, cap_arenas, next_to_use;
    as_u64map_t threads; /* thread id -> gl_thread_t* */
    gl_thread_t *cur;    /* the thread of the current call */
    as_pool_t chunk_pool, seg_pool, thread_pool;
    as_u64map_t chunks; /* chunk addr -> gl_chunk_t* (all but the tops) */
    as_u64map_t foot;   /* end addr -> BINNED chunk ending there */
    uint64_t n_tcache, tcache_bytes;
    uint64_t n_sbrk, n_systrim, trimmed_bytes, n_consolidate, n_heaps;
    uint64_t n_heap_trim, n_mmap_fallback, n_madvised, madvised_bytes;
};

/* ---- packed in-use chunks (see "Records" above) ---- */

#define GL_PACKED 1u                         /* bit 0 of a packed value */
#define GL_PACKED_SIZE 0x0000fffffffffff0ull /* size: bits 4..47 */
#define GL_PACKED_ARENA_SHIFT 48             /* arena: bits 48..63 */

/* gl_packed: @return 1 when a chunks-map value is a packed INUSE chunk. */
static inline int gl_packed(uint64_t v)
{
    return (int)(v & GL_PACKED);
}
static inline uint64_t gl_packed_size(uint64_t v)
{
    return v & GL_PACKED_SIZE;
}
static inline uint32_t gl_packed_arena(uint64_t v)
{
    return (uint32_t)(v >> GL_PACKED_ARENA_SHIFT);
}

/* ---- sizes and bin indices (malloc.c 1326, 1576-1615, 1741, 316) ---- */

static inline uint64_t gl_request2size(uint64_t req)
{
    return req + GL_SIZE_SZ + GL_ALIGN - 1 < GL_MINSIZE
               ? GL_MINSIZE
               : (req + GL_SIZE_SZ + GL_ALIGN - 1) & ~(uint64_t)(GL_ALIGN - 1);
}
static inline int gl_in_smallbin(uint64_t sz)
{
    return sz < GL_MIN_LARGE;
}
static inline unsigned gl_smallbin_index(uint64_t sz)
{
    return (unsigned)(sz >> 4);
}
static inline unsigned gl_largebin_index(uint64_t sz)
{
    if ((sz >> 6) <= 48) return 48 + (unsigned)(sz >> 6);
    if ((sz >> 9) <= 20) return 91 + (unsigned)(sz >> 9);
    if ((sz >> 12) <= 10) return 110 + (unsigned)(sz >> 12);
    if ((sz >> 15) <= 4) return 119 + (unsigned)(sz >> 15);
    if ((sz >> 18) <= 2) return 124 + (unsigned)(sz >> 18);
    return 126;
}
static inline unsigned gl_bin_index(uint64_t sz)
{
    return gl_in_smallbin(sz) ? gl_smallbin_index(sz) : gl_largebin_index(sz);
}
static inline unsigned gl_fastbin_index(uint64_t sz)
{
    return (unsigned)(sz >> 4) - 2;
}
static inline uint64_t gl_csize2tidx(uint64_t sz)
{
    return (sz - GL_MINSIZE + GL_ALIGN - 1) / GL_ALIGN;
}

/* ---- bins.c: the lists (no allocation, no page source) ---- */

/* gl_bins_init: empty circular bins (malloc_init_state). */
void gl_bins_init(gl_arena_t *av);
/* gl_unsorted_push: put c at the head of the unsorted bin (free, consolidate,
 * split remainders). */
void gl_unsorted_push(gl_t *st, gl_arena_t *av, gl_chunk_t *c);
/* gl_unlink: take BINNED chunk c off its list (unlink_chunk). */
void gl_unlink(gl_t *st, gl_arena_t *av, gl_chunk_t *c);
/* gl_bin_place: put c (just taken from the unsorted bin) into its small or
 * large bin in glibc's order, and mark the binmap. */
void gl_bin_place(gl_t *st, gl_arena_t *av, gl_chunk_t *c);
/* gl_bin_mark_binned: account c as BINNED with its footer. @return 0. */
void gl_binned_in(gl_t *st, gl_arena_t *av, gl_chunk_t *c);
void gl_binned_out(gl_t *st, gl_arena_t *av, gl_chunk_t *c);
/* tcache_put / tcache_get on the current thread. */
void gl_tcache_put(gl_t *st, gl_chunk_t *c, uint64_t tc_idx);
gl_chunk_t *gl_tcache_get(gl_t *st, uint64_t tc_idx);

/* ---- core.c: _int_malloc, _int_free and the system layer ---- */

/* gl_node: a fresh chunk node (the caller makes sure the pool can give one:
 * gl_prepare). */
gl_chunk_t *gl_node(gl_t *st, uintptr_t addr, uint64_t size, int state,
                    uint32_t arena);
void gl_node_drop(gl_t *st, gl_chunk_t *c);
/* gl_pack: an INUSE chunk's record becomes its packed map value and the
 * record goes back to the pool; other states (and sizes of 2^48 or more)
 * keep their record. */
void gl_pack(gl_t *st, gl_chunk_t *c);
/* gl_unpack: @return the record of the chunk at addr, making one for a
 * packed INUSE chunk (the pool must be gl_prepare'd), or NULL when no chunk
 * starts there. */
gl_chunk_t *gl_unpack(gl_t *st, uintptr_t addr);
/* gl_prepare: reserve metadata so that the next operation cannot fail half
 * way. @return 0 or AS_ENOMEM. */
int gl_prepare(gl_t *st);
/* gl_int_malloc: _int_malloc(av, bytes). @return the chunk or NULL (the page
 * source refused: *rc says why). */
gl_chunk_t *gl_int_malloc(gl_t *st, gl_arena_t *av, uint64_t bytes, int *rc);
/* gl_int_free: _int_free(av, c) with the tcache of st->cur. */
void gl_int_free(gl_t *st, gl_arena_t *av, gl_chunk_t *c);
/* gl_int_realloc / gl_int_memalign: the glibc routines of those names. */
gl_chunk_t *gl_int_realloc(gl_t *st, gl_arena_t *av, gl_chunk_t *old,
                           uint64_t nb, int *rc);
gl_chunk_t *gl_int_memalign(gl_t *st, gl_arena_t *av, uint64_t alignment,
                            uint64_t bytes, int *rc);
/* gl_munmap_chunk: free an mmapped chunk (with the dynamic threshold
 * update of __libc_free). */
void gl_free_mmapped(gl_t *st, gl_chunk_t *c);
/* gl_mremap_chunk: resize an mmapped chunk (mremap_chunk). @return the chunk
 * (maybe moved) or NULL with *rc. */
gl_chunk_t *gl_mremap_chunk(gl_t *st, gl_chunk_t *c, uint64_t nb, int *rc);
/* gl_new_arena: _int_new_arena(size). @return its index or -1. */
int gl_new_arena(gl_t *st, uint64_t size);
/* gl_malloc_consolidate / gl_mtrim: the glibc routines. */
void gl_malloc_consolidate(gl_t *st, gl_arena_t *av);
int gl_mtrim(gl_t *st, gl_arena_t *av, uint64_t pad);

#endif /* AS_POLICIES_GLIBC_GL_INTERNAL_H */

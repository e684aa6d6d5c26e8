/* tcache.h - the thread-cache layer: small mallocs and frees served from
 * per-thread free lists, in front of the lock layer (malloc/lock.h).
 *
 * Type map
 *   as_tcache_local_t  one thread's cache: a LIFO free list per size class,
 *                      linked through the first word of each free block
 *   as_tcache_t        the layer: the locked instance below, every thread's
 *                      cache, and the block map (address -> class) that
 *                      lets a free find a block's class without the policy
 *   as_tcache_counters_t  what the caches hold and how often they went to
 *                      the policy, for tests and reports
 *
 * In the Heap Layers manner the layer has the policy interface's shape
 * (tc->ops with state tc) and wraps a locked instance, so the policy below
 * is unchanged: the cache only decides when the policy sees an allocation
 * or a free. A request of at most AS_TCACHE_MAX_BYTES with the default
 * alignment is in class c = ceil(size / 16) (size 0: class 1) and is
 * served with a block of c * 16 bytes, the size the policy was asked for
 * when the block was placed. An empty list is refilled with batch(c)
 * blocks from the policy under one hold of its lock; a list that reaches
 * its longest length max[c] on a free first gives batch(c) blocks back
 * under one hold; max[c] starts at batch(c) and grows by batch(c) at each
 * refill and each such overflow, up to AS_TCACHE_MAX_COUNT; a thread whose
 * cache would exceed AS_TCACHE_THREAD_BYTES gives back half of every list
 * and halves every max. batch(c) = clamp(8 KiB / (c * 16), 2, 32).
 * A batch given back on overflow goes first, as one chain, to the transfer
 * cache (TCMalloc's name), bounded by AS_TCACHE_XFER_BYTES, and a refill
 * takes a whole chain from there before it asks the policy: a block that
 * one thread frees and another allocates (producer-consumer) then moves
 * between threads without the policy.
 * Larger or over-aligned requests, and frees of blocks the map does not
 * know, go to the locked instance as before.
 *
 * The block map has one byte per 16-byte granule of the address space
 * (three levels, nodes mapped on demand with MAP_NORESERVE, never freed):
 * 0 = not a block of this layer; c = a block of class c that the program
 * holds; c | AS_TCACHE_CACHED = a block of class c in some thread's cache.
 * Only a block's first granule is written.
 *
 * Invariants (as_tcache_check, with every thread quiescent):
 *   for each cache and class c: count[c] == length of head[c]'s list,
 *     count[c] <= max[c] <= AS_TCACHE_MAX_COUNT, and every block b on it has
 *     map[b] == c | AS_TCACHE_CACHED;
 *   bytes == sum over c of count[c] * c * 16 <= AS_TCACHE_THREAD_BYTES;
 *   every transfer chain of class c has batch(c) blocks, each with
 *     map == c | AS_TCACHE_CACHED; xfer_chains[c] counts them;
 *   xfer_bytes == sum of their bytes <= AS_TCACHE_XFER_BYTES;
 *   map[b] != 0 only for blocks the policy holds as live (entries are
 *     cleared before a block goes back to the policy and set after it
 *     came from it).
 *
 * Free of a block whose entry has AS_TCACHE_CACHED set is a double free:
 * reported (AS_EINVAL), never cached twice. A thread's cache is returned to
 * the policy when the thread exits (a pthread key destructor). After fork
 * the child keeps the forking thread's cache; the other threads' cached
 * blocks are lost to the child (they may have been half-way through a push
 * at the instant of the fork, so they cannot be given back safely).
 *
 * One layer per process: the thread's cache pointer is a thread-local
 * variable of this module. Nothing here calls libc's allocator; cache
 * records come from mmap. pthread_setspecific may allocate (keys past the
 * 32nd), which re-enters malloc: that call bypasses the cache.
 */
#ifndef AS_MALLOC_TCACHE_H
#define AS_MALLOC_TCACHE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "malloc/lock.h"
#include "policies/policy.h"

#define AS_TCACHE_GRANULE_BYTES 16
#define AS_TCACHE_CLASSES                                                      \
    127 /* 16 B .. 2032 B in 16-byte steps (the map
                               * entry keeps the top bit for AS_TCACHE_CACHED) */
#define AS_TCACHE_MAX_BYTES (AS_TCACHE_CLASSES * AS_TCACHE_GRANULE_BYTES)
#define AS_TCACHE_THREAD_BYTES ((uint64_t)2 << 20)
#define AS_TCACHE_MAX_COUNT 16384                /* longest list of one class */
#define AS_TCACHE_XFER_BYTES ((uint64_t)4 << 20) /* transfer cache bound */
#define AS_TCACHE_CACHED 0x80 /* map entry flag: in a thread's cache */
#define AS_TCACHE_TOP_SLOTS ((size_t)1 << 14)

/* Fills the context of a request (time, thread, CPU) for refills and
 * flushes, which happen outside any call that carries one (thread exit). */
typedef void (*as_tcache_ctx_fn)(as_ctx_t *ctx);

typedef struct as_tcache_local {
    void *head[AS_TCACHE_CLASSES + 1];     /* free blocks of class c */
    uint32_t count[AS_TCACHE_CLASSES + 1]; /* length of head[c]'s list */
    uint32_t max[AS_TCACHE_CLASSES + 1];   /* longest it may get */
    uint64_t bytes;                        /* bytes on all the lists */
    uint64_t hits, refills, flushes;       /* served here; batches */
    struct as_tcache_local *prev, *next;   /* the layer's list of caches */
} as_tcache_local_t;

typedef struct {
    uint64_t caches;        /* thread caches in use */
    uint64_t cached_blocks; /* blocks on their lists */
    uint64_t cached_bytes;  /* their bytes (class sizes) */
    uint64_t hits;          /* mallocs served from a list */
    uint64_t refills;       /* batches taken from the policy */
    uint64_t flushes;       /* batches given back (policy or transfer) */
    uint64_t xfer_bytes;    /* bytes in the transfer cache */
} as_tcache_counters_t;

typedef struct as_tcache {
    as_lock_t *lock;              /* the locked instance below */
    as_tcache_ctx_fn ctx_fn;      /* context for refills and flushes */
    as_policy_ops_t ops;          /* the layer's table (state: this struct) */
    pthread_mutex_t mutex;        /* guards live, spare, pool, retired */
    pthread_key_t key;            /* its destructor returns a thread's cache */
    as_tcache_local_t *live;      /* caches of running threads */
    as_tcache_local_t *spare;     /* records of exited threads, for reuse */
    char *pool, *pool_end;        /* unused part of the records' mapping */
    as_tcache_counters_t retired; /* hits/refills/flushes of exited ones */
    pthread_mutex_t xfer_mutex;   /* guards the transfer cache */
    void *xfer[AS_TCACHE_CLASSES + 1];           /* chains of batch(c) blocks */
    uint32_t xfer_chains[AS_TCACHE_CLASSES + 1]; /* chains per class */
    uint64_t xfer_bytes;                         /* bytes in all chains */
    _Atomic(void *) top[AS_TCACHE_TOP_SLOTS];    /* the block map's root */
} as_tcache_t;

/* as_tcache_wrap: make `tc` (caller storage, zeroed or not, that outlives
 * the process's use of it) a cache layer over the locked instance `lock`;
 * ctx_fn fills the context of its batches. From then on call tc->ops with
 * state tc. @return 0, or AS_ENOMEM when the thread key cannot be made. */
int as_tcache_wrap(as_tcache_t *tc, as_lock_t *lock, as_tcache_ctx_fn ctx_fn);

/* as_tcache_alloc_fast: the common path of malloc: a block for `size`
 * (default alignment) from this thread's list, without a lock or a
 * context. @return the block, or NULL when the caller must take the slow
 * path (tc->ops.alloc): too large, no cache yet, or the list is empty. */
void *as_tcache_alloc_fast(as_tcache_t *tc, size_t size);

/* as_tcache_free_fast: the common path of free. @return 1 when p went onto
 * this thread's list, 0 when the caller must take the slow path
 * (tc->ops.free: not a block of the cache, no cache yet, or the list is
 * full), AS_EINVAL when p is already in a cache (a double free). */
int as_tcache_free_fast(as_tcache_t *tc, void *p);

/* as_tcache_entry: @return the block map's entry for address p (0 when
 * none: also for any address that is not a block's start). */
unsigned as_tcache_entry(const as_tcache_t *tc, const void *p);

/* as_tcache_flush_thread: give this thread's cached blocks back to the
 * policy (as at thread exit; the cache stays usable). */
void as_tcache_flush_thread(as_tcache_t *tc);

/* as_tcache_counters: sum the counters over every cache. Exact only when
 * the threads are quiescent (other threads' lists are read unlocked). */
void as_tcache_counters(as_tcache_t *tc, as_tcache_counters_t *out);

/* as_tcache_check: verify the invariants above over every cache (threads
 * quiescent). @return 0, or AS_ECHECK with one line in `why`. */
int as_tcache_check(as_tcache_t *tc, as_msg_t *why);

/* as_tcache_batch: @return batch(c) for class c (1..AS_TCACHE_CLASSES). */
unsigned as_tcache_batch(unsigned c);

/* Fork handlers (pthread_atfork order: prefork, then one of the others);
 * the lock layer's own handlers are separate. */
void as_tcache_prefork(as_tcache_t *tc);
void as_tcache_postfork_parent(as_tcache_t *tc);
void as_tcache_postfork_child(as_tcache_t *tc);

#endif /* AS_MALLOC_TCACHE_H */

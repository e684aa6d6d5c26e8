/* tcache.h - the thread-cache layer: small mallocs and frees served from
 * per-thread free lists, in front of the lock layer (malloc/lock.h).
 *
 * Type map
 *   as_tcache_local_t  one thread's cache: a LIFO free list per size class,
 *                      an array of the blocks' addresses (as_tcache_stack_t)
 *   as_tcache_t        the layer: the locked instance below, every thread's
 *                      cache, and the block map (address -> class) that
 *                      lets a free find a block's class without the policy
 *   as_tcache_counters_t  what the caches hold and how often they went to
 *                      the policy, for tests and reports
 *
 * In the Heap Layers manner the layer has the policy interface's shape
 * (tc->ops with state tc) and wraps a locked instance, so the policy below
 * is unchanged: the cache only decides when the policy sees an allocation
 * or a free. Every decision (class of a request, batch(c), the slow start
 * of max[c], overflow give-backs, the per-thread byte limit and its
 * halving, the transfer cache's bound and when a refill takes a chain, the
 * counters) is policies/layers/tcache_core.h's, the same rules the
 * simulator's layer (policies/layers/tcache.h) follows, and so is the
 * order of the blocks on a list (arrays of addresses, the head on top:
 * tcache_core.h's moves); this module keeps the mechanism: the arrays'
 * memory, the block map, threads, locks. A refill asks the policy for
 * batch(c) blocks of c * 16 bytes under one hold of its lock (alloc_batch);
 * a give-back returns them under one hold (free_batch). The transfer
 * cache (TCMalloc's name) holds chains of batch(c) blocks given back on
 * overflow, as arrays of addresses too: a block that one thread frees and
 * another allocates (producer-consumer) moves between threads without the
 * policy, and without either thread touching its memory (a list linked
 * through the blocks made the consumer write, and the producer read, a
 * word of each block the other core had last written).
 *
 * The arrays come from the layer's own metadata arena (as_osarena_t over
 * mmap, guarded by arena_mutex): a new cache gets batch(c) + 1 entries per
 * class, and a list's array doubles when the rules let it grow
 * (as_tcache_stack_need), up to the most the thread byte limit allows; the
 * transfer cache's array of class c grows the same way up to whole chains
 * within its bound. Exited threads' records keep their arrays for the next
 * thread.
 * Larger or over-aligned requests, and frees of blocks the map does not
 * know, go to the locked instance as before.
 *
 * The block map has one byte per 16-byte granule of the address space:
 * 0 = not a block of this layer; c = a block of class c that the program
 * holds; c | AS_TCACHE_CACHED = a block of class c in some thread's cache.
 * Only a block's first granule is written. Two parts hold the bytes: a
 * flat array over one span of address space given by as_tcache_flat (the
 * page source's heap window, malloc/osmem.h, where the policy's
 * reservations are placed), indexed by (address - start) / 16, one load
 * from the layer's struct to the entry; and, for every address outside
 * that span, the general map (three levels: root in the struct, nodes
 * mapped on demand; three dependent loads to the entry). Both are mapped
 * with MAP_NORESERVE, touched only where blocks are, and never freed.
 *
 * Invariants (as_tcache_check, with every thread quiescent):
 *   for each cache and class c: stack[c] holds core.count[c] blocks,
 *     each with map[b] == c | AS_TCACHE_CACHED; the core's own
 *     invariants (tcache_core.h) hold;
 *   xfer[c] holds xfer_core.chains[c] * batch(c) blocks, each with
 *     map == c | AS_TCACHE_CACHED, and the core's invariants on xfer_core
 *     hold (one check, as_tcache_check_thread / as_tcache_check_xfer, for
 *     both builds);
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
 * records and arrays come from mmap. pthread_setspecific may allocate (keys past the
 * 32nd), which re-enters malloc: that call bypasses the cache.
 */
#ifndef AS_MALLOC_TCACHE_H
#define AS_MALLOC_TCACHE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "malloc/lock.h"
#include "malloc/osmem.h"
#include "policies/layers/tcache_core.h"
#include "policies/policy.h"

#define AS_TCACHE_TOP_SLOTS ((size_t)1 << 14)

/* Fills the context of a request (time, thread, CPU) for refills and
 * flushes, which happen outside any call that carries one (thread exit). */
typedef void (*as_tcache_ctx_fn)(as_ctx_t *ctx);

typedef struct as_tcache_local {
    as_tcache_thread_t core; /* counts, maxima, counters */
    as_tcache_stack_t stack[AS_TCACHE_CLASSES + 1]; /* free blocks of c */
    struct as_tcache_local *prev, *next; /* the layer's list of caches */
} as_tcache_local_t;

typedef struct as_tcache {
    _Atomic unsigned char *flat;  /* the flat map (NULL: none) */
    uintptr_t flat_start;         /* the address of flat[0]'s granule */
    size_t flat_bytes;            /* address bytes it covers (0: none) */
    as_lock_t *lock;              /* the locked instance below */
    as_tcache_ctx_fn ctx_fn;      /* context for refills and flushes */
    as_policy_ops_t ops;          /* the layer's table (state: this struct) */
    pthread_mutex_t mutex;        /* guards live, spare, pool, retired */
    pthread_key_t key;            /* its destructor returns a thread's cache */
    as_tcache_local_t *live;      /* caches of running threads */
    as_tcache_local_t *spare;     /* records of exited threads, for reuse */
    char *pool, *pool_end;        /* unused part of the records' mapping */
    as_tcache_counters_t retired; /* counters of exited ones (caches 0) */
    pthread_mutex_t xfer_mutex;   /* guards the transfer cache */
    as_tcache_stack_t xfer[AS_TCACHE_CLASSES + 1]; /* chains of class c */
    as_tcache_xfer_t xfer_core;                    /* chains per class, bytes */
    pthread_mutex_t arena_mutex;                   /* guards arena */
    as_osarena_t arena;                            /* the arrays' memory */
    as_mem_t arena_mem; /* allocates from arena (unlocked) */
    as_mem_t mem;       /* arena_mem under arena_mutex: the arrays' */
    _Atomic(void *) top[AS_TCACHE_TOP_SLOTS]; /* the block map's root */
} as_tcache_t;

/* as_tcache_wrap: make `tc` (caller storage, zeroed or not, that outlives
 * the process's use of it) a cache layer over the locked instance `lock`;
 * ctx_fn fills the context of its batches. From then on call tc->ops with
 * state tc. @return 0, or AS_ENOMEM when the thread key cannot be made. */
int as_tcache_wrap(as_tcache_t *tc, as_lock_t *lock, as_tcache_ctx_fn ctx_fn);

/* as_tcache_flat: give the block map a flat part over [start, start +
 * bytes) (start and bytes multiples of 16; the page source's heap window),
 * after as_tcache_wrap and before the first block is cached; entries of
 * addresses outside it stay
 * in the general map. @return 0, AS_EINVAL when a flat part exists or the
 * span is empty or misaligned, AS_ENOMEM when its bytes / 16 of map cannot
 * be mapped (the layer then keeps the general map only). */
int as_tcache_flat(as_tcache_t *tc, uintptr_t start, size_t bytes);

/* as_tcache_alloc_fast: the common path of malloc: a block for `size`
 * (default alignment) from this thread's list, without a lock or a
 * context. @return the block, or NULL when the caller must take the slow
 * path (tc->ops.alloc): too large, no cache yet, or the list is empty. */
void *as_tcache_alloc_fast(as_tcache_t *tc, size_t size);

/* as_tcache_free: free as malloc's free does it through the layer: the
 * common path (p onto this thread's list, no lock, no context, one map
 * lookup), else the slow path with the map entry already found and the
 * context of now (ctx_fn): the rules' plan when the list is full, the
 * policy for a block the cache does not know. Same effect as tc->ops.free.
 * @return 0, AS_EINVAL when p is already in a cache (a double free), or
 * the policy's error for a block it does not know. */
int as_tcache_free(as_tcache_t *tc, void *p);

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

/* Fork handlers (pthread_atfork order: prefork, then one of the others);
 * the lock layer's own handlers are separate. */
void as_tcache_prefork(as_tcache_t *tc);
void as_tcache_postfork_parent(as_tcache_t *tc);
void as_tcache_postfork_child(as_tcache_t *tc);

#endif /* AS_MALLOC_TCACHE_H */

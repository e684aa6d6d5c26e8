/* offload.h - the offload layer (NextGen-Malloc, HotOS'23): the policy runs
 * on a dedicated server thread pinned to its own CPU; the program's threads
 * send it requests through per-thread single-producer rings.
 *
 * Type map
 *   as_offload_ring_t  one client thread's ring: requests in order, and the
 *                      answer to its last synchronous request
 *   as_offload_t       the layer: the locked instance it serves, the list
 *                      of rings, the server thread and its sleep word
 *
 * A layer of the policy interface's shape (off->ops, state off) over the
 * lock layer. alloc and usable_size wait for the server's answer; free is
 * asynchronous: it is queued and returns. The server takes requests from
 * every ring in turn, in each ring's order, so one thread's free and its
 * next malloc reach the policy in program order; a free the policy refuses
 * (an invalid pointer) is reported by the server, through `invalid`, after
 * the freeing thread has moved on. When every ring stays empty for a while
 * the server sleeps on a futex and the next request wakes it.
 *
 * Invariants: per ring, tail <= head <= tail + AS_OFFLOAD_RING_SLOTS
 *   (the client writes slots [tail, head) only ahead of tail, the server
 *   reads them and then advances tail); a ring is owned by one thread at a
 *   time (its owner's exit frees it for the next thread once it is empty).
 *
 * Fork: the child has no server; as_offload_postfork_child turns the layer
 * into a pass-through to the lock layer (requests still queued by other
 * threads at the fork are lost to the child). Nothing here calls libc's
 * allocator; rings come from mmap.
 */
#ifndef AS_MALLOC_OFFLOAD_H
#define AS_MALLOC_OFFLOAD_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "malloc/lock.h"
#include "policies/policy.h"

#define AS_OFFLOAD_RING_SLOTS 256 /* requests queued per thread */

typedef struct {
    uint32_t op;    /* OFF_ALLOC, OFF_FREE, OFF_USABLE */
    size_t size;    /* alloc: bytes */
    size_t align;   /* alloc: alignment (0 = default) */
    uintptr_t addr; /* free, usable: the block */
    as_ctx_t ctx;   /* the request's context, filled by the client */
} as_offload_req_t;

typedef struct as_offload_ring {
    _Alignas(64) _Atomic uint64_t head; /* next slot the client writes */
    _Alignas(64) _Atomic uint64_t tail; /* next slot the server reads */
    _Atomic uint64_t answered;          /* sequence (head) of last answer */
    int rc;                             /* its result code */
    as_block_t block;                   /* alloc: the block */
    size_t usable;                      /* usable: the bytes */
    _Atomic int owned;                  /* 1 while a thread uses it */
    struct as_offload_ring *next;       /* the layer's list (append-only) */
    as_offload_req_t slot[AS_OFFLOAD_RING_SLOTS];
} as_offload_ring_t;

/* Called by the server for a free the policy refused (never returns). */
typedef void (*as_offload_invalid_fn)(uintptr_t addr);

typedef struct {
    as_lock_t *lock; /* the locked instance served */
    as_offload_invalid_fn invalid;
    as_policy_ops_t ops; /* the layer's table (state: this struct) */
    _Atomic(as_offload_ring_t *) rings; /* every ring ever made */
    _Atomic int sleeping; /* futex word: 1 while the server sleeps */
    _Atomic int active;   /* 0 after fork in the child: pass-through */
    int server_cpu;       /* CPU the server is pinned to, -1 none */
    pthread_key_t key;    /* its destructor frees a thread's ring */
    uint64_t served;      /* requests the server has handled */
} as_offload_t;

/* as_offload_start: make `off` (caller storage that outlives the process's
 * use of it) an offload layer over `lock`, start the server thread and pin
 * it to the last CPU the process may run on. Call with no lock held
 * (pthread_create allocates: those calls must be served inline, which the
 * caller arranges by not routing to off->ops before this returns).
 * @return 0, AS_ENOMEM (no thread or key). */
int as_offload_start(as_offload_t *off, as_lock_t *lock,
                     as_offload_invalid_fn invalid);

/* as_offload_drain: wait until the server has handled every request queued
 * so far by any thread (before a fork, or to read exact statistics). */
void as_offload_drain(as_offload_t *off);

/* as_offload_postfork_child: in a forked child, serve every request inline
 * through the lock layer from now on. */
void as_offload_postfork_child(as_offload_t *off);

#endif /* AS_MALLOC_OFFLOAD_H */

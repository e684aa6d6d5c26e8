/* lock.h - the lock layer: makes any policy safe to call from many threads.
 *
 * Type map
 *   as_lock_t  one wrapped instance: the inner policy (ops, state) and the
 *              mutex every hook holds while it runs
 *
 * Policies take no lock of their own (policy.h rule 6: one caller at a
 * time). This layer, in the Heap Layers manner, wraps an instance in a
 * table of the same shape whose every hook takes the mutex, calls the inner
 * hook and releases it; optional hooks stay NULL where the inner's are. It
 * is one global lock: every thread serialises on it; the thread-cache
 * layer (malloc/tcache.h) sits in front of it for the policies it suits
 * and reaches it in batches: the layer's alloc_batch and free_batch
 * (always present: one hold of the mutex around the inner's batch, or
 * around its single calls when it has none, policy.h rule 9). It
 * also keeps time in order: a thread reads the clock before it takes the
 * lock, so the layer raises a context's now_ns to the latest time it
 * passed on, and the policy never sees time go backwards (as in a trace,
 * policy.h rule 3).
 *
 * Fork: as_lock_prefork takes the mutex (so no hook is half-way through in
 * the child's copy of the heap), as_lock_postfork_parent releases it and
 * as_lock_postfork_child makes a fresh one (the child has one thread).
 * The caller's own sections that must see the heap still (statistics
 * sampling) use as_lock_acquire / as_lock_release.
 */
#ifndef AS_MALLOC_LOCK_H
#define AS_MALLOC_LOCK_H

#include <pthread.h>

#include "policies/policy.h"

typedef struct {
    const as_policy_ops_t *inner; /* the wrapped policy's hooks */
    void *inner_state;            /* its instance */
    pthread_mutex_t mutex;        /* held by every hook of the layer */
    uint64_t last_now_ns;         /* latest ctx time passed on */
    as_policy_ops_t ops;          /* the layer's table (call through it) */
} as_lock_t;

/* as_lock_wrap: wrap the instance (inner, inner_state) in `l` (caller
 * storage that outlives it); from then on call l->ops with state `l`. */
void as_lock_wrap(as_lock_t *l, const as_policy_ops_t *inner,
                  void *inner_state);

/* as_lock_acquire / as_lock_release: hold the layer's mutex around code of
 * the caller's that must not run concurrently with a hook. */
void as_lock_acquire(as_lock_t *l);
void as_lock_release(as_lock_t *l);

/* Fork handlers (pthread_atfork order: prefork, then one of the others). */
void as_lock_prefork(as_lock_t *l);
void as_lock_postfork_parent(as_lock_t *l);
void as_lock_postfork_child(as_lock_t *l);

#endif /* AS_MALLOC_LOCK_H */

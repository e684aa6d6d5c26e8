/* policy.h - the placement-policy interface and its registry.
 *
 * Type map
 *   as_ctx_t            everything besides the request: time, thread, CPU,
 *                       predicted lifetime class, allocation site (rule 3)
 *   as_block_t          what an allocation returns: address and usable bytes
 *   as_policy_config_t  what create gets: page source, resolved parameters,
 *                       the predictor's lifetime classes
 *   as_policy_ops_t     a policy: name, parameter table, function table
 *   as_stat_fn          sink for a policy's named statistics
 * An instance is the pair (ops, state): `state` is the opaque pointer that
 * create returns and every other hook takes.
 *
 * The contract: what the simulator and the real allocator (the preload
 * library in malloc/) rely on, so that one policy source serves both.
 *   1. No libc allocation and no stdio: a policy never reads or writes the
 *      memory it hands out; all its metadata is out of band, from
 *      cfg->ps->meta (an as_mem_t, common/mem.h).
 *      tests/check_policy_libc_refs.sh checks this on the compiled objects.
 *   2. Addresses are uintptr_t values in the page source's address space.
 *   3. Every input other than the request arrives in as_ctx_t; no clock, no
 *      globals, no randomness except a seeded generator in its own state.
 *   4. Deterministic: the same calls give the same addresses and statistics.
 *   5. free() works with size_hint == 0 (the real free(p) knows no size);
 *      the simulator passes the requested size, the conformance suite both.
 *   6. One caller at a time. A policy is not thread-safe by itself: no two
 *      hooks of one instance ever run at once. The real allocator makes it
 *      safe with a layer (a lock around the instance, or one instance per
 *      CPU or thread); a policy takes no lock of its own.
 *   7. A reservation may land at any free range of the address space. The
 *      page source honours a hint only when that exact range is free, and
 *      otherwise may return any range (an mmap page source cannot promise
 *      a particular one). The simulated page source places it as Linux
 *      does, deterministically (os.mmap_layout: by default the highest fit
 *      below mmap_base, docs/simos.md); no policy may depend on where
 *      (the conformance suite also runs every policy over a page source
 *      that scatters reservations).
 *   8. Optional whole-heap check: `check` verifies the invariants the
 *      policy's header or source states, reads the state only, and says
 *      which one is broken. The checking layer (policies/layers/check.h)
 *      calls it every N operations and before destroy; tests call it
 *      directly. It is the expensive tier of the assertions in common/assert.h.
 *   9. Optional batches: alloc_batch(n) is the same as n allocs in a row
 *      (same blocks, addresses, state and statistics), and free_batch(n)
 *      the same as n frees in that order (same state and statistics), only
 *      cheaper; a caller may use either, so no figure depends on which it
 *      chose. Both stop at the first call that fails. The simulator's
 *      engine never batches; the thread caches of both builds refill
 *      through alloc_batch and give back through free_batch
 *      (tests/unit/test_policies_batch.c checks every policy against
 *      singles).
 */
#ifndef AS_POLICIES_POLICY_H
#define AS_POLICIES_POLICY_H

#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "common/lifetime.h"
#include "common/msg.h"
#include "common/param.h"
#include "policies/pagesource.h"

typedef struct {
    uint64_t now_ns;        /* trace time of the request */
    uint32_t thread;        /* thread number */
    uint32_t cpu;           /* CPU the request runs on */
    int32_t lifetime_class; /* predicted class 0..n-1, or AS_CLASS_NONE */
    uint32_t stack;         /* allocation site (stack id), 0 = unknown */
} as_ctx_t;

typedef struct {
    uintptr_t addr; /* start of the block, aligned as requested */
    size_t bytes;   /* usable bytes (>= request): size-class rounding */
} as_block_t;

/* A statistic: name (static string, snake_case, no spaces) and value. */
typedef void (*as_stat_fn)(void *arg, const char *name, double value);

typedef struct {
    const as_pagesource_t *ps;       /* the OS below; outlives the policy */
    const as_param_value_t *params;  /* resolved values, one per spec row */
    uint32_t n_classes;              /* lifetime classes the predictor emits */
    const uint64_t *class_bounds_ns; /* upper bound of each class; last is
                                        UINT64_MAX (unbounded) */
    /* Where create says why it refused a configuration with AS_EINVAL
     * (NULL = nowhere): parameters valid one by one but not together, named
     * as the user writes them, e.g. "llama.line_size 4096 exceeds
     * llama.block_size 2048" (common/msg.h; no stdio, rule 1). */
    as_msg_t *why;
} as_policy_config_t;

/* as_policy_default_align: the alignment a request of `size` bytes with
 * align 0 must get: 16, but only 8 for requests of at most 8 bytes, which
 * hold no object needing more (C's rule; TCMalloc's operator new serves
 * them from its 8-byte class, tcmalloc.small_align8). A policy may give
 * more; the checking layers demand this much. @return 8 or 16. */
static inline size_t as_policy_default_align(size_t size)
{
    return size <= 8 ? 8 : 16;
}

typedef struct as_policy_ops {
    const char *name;              /* registry name, e.g. "bestfit" */
    const char *doc;               /* one line for --help */
    const as_param_spec_t *params; /* parameter table (may be NULL) */
    size_t n_params;

    /* create: build an instance. @return 0, AS_ENOMEM, AS_EINVAL. */
    int (*create)(const as_policy_config_t *cfg, void **state);
    /* alloc: place `size` bytes aligned to `align` (power of two; 0 means the
     * default, as_policy_default_align(size): 16, or 8 for at most 8 bytes).
     * size 0 returns a unique block of >= 1 byte.
     * @return 0, AS_ENOMEM (page source refused), AS_ETOO_LARGE. */
    int (*alloc)(void *state, const as_ctx_t *ctx, size_t size, size_t align,
                 as_block_t *out);
    /* free: give back the block starting at `addr` (size_hint = requested
     * size, or 0 when unknown). @return 0, or AS_EINVAL if addr is not a live
     * block (a policy may not detect every such case; the checking layer
     * does). */
    int (*free)(void *state, const as_ctx_t *ctx, uintptr_t addr,
                size_t size_hint);
    /* alloc_batch: optional (NULL: not provided; call it only through
     * as_policy_alloc_batch, which then makes n alloc calls). Place n blocks
     * of `size` bytes aligned to `align`, all with `ctx`: out[0..*got) get
     * the blocks. The contract (rule 9): exactly the blocks, addresses and
     * policy state (statistics included) that n alloc calls in a row with
     * the same arguments would give, stopping at the first call that would
     * fail (its effects on the state included). A batch only saves the
     * per-call work: the size-class lookup, the search for where to place,
     * the hops through the layers and the lock. @return 0 with *got == n,
     * or the error of the call that failed (block *got), as alloc. */
    int (*alloc_batch)(void *state, const as_ctx_t *ctx, size_t size,
                       size_t align, unsigned n, as_block_t *out,
                       unsigned *got);
    /* free_batch: optional (NULL: not provided; call it only through
     * as_policy_free_batch, which then makes n free calls). Give back the
     * blocks at addrs[0..n), in that order, all with `ctx` and size_hint 0
     * (a batch comes from a cache, which knows no request sizes). The
     * contract (rule 9): exactly the policy state (statistics included)
     * that n free calls in a row would give, stopping at the first call
     * that would fail (its effects on the state included). A batch only
     * saves the per-call work: the hops through the layers, the lock, the
     * lookups a run of one size class shares. @return 0 with *done == n, or
     * the error of the free of addrs[*done] (the ones before it are freed,
     * the ones after it untouched), as free. */
    int (*free_batch)(void *state, const as_ctx_t *ctx, const uintptr_t *addrs,
                      unsigned n, unsigned *done);
    /* realloc: optional (NULL: the caller does alloc + free). May return the
     * same address. */
    int (*realloc)(void *state, const as_ctx_t *ctx, uintptr_t addr,
                   size_t old_size, size_t new_size, size_t align,
                   as_block_t *out);
    /* usable_size: optional: usable bytes of the live block at addr, 0 if
     * none (malloc_usable_size in the real allocator). */
    size_t (*usable_size)(void *state, uintptr_t addr);
    /* tick: optional periodic work (release, cache resizing). Called first at
     * the trace's start; @return ns until the next desired call, 0 = never. */
    uint64_t (*tick)(void *state, const as_ctx_t *ctx);
    /* stats: optional: report named counters/gauges through fn. */
    void (*stats)(void *state, as_stat_fn fn, void *arg);
    /* destroy: return every reservation and metadata byte. */
    void (*destroy)(void *state);
    /* check: optional: verify the instance's whole-heap invariants (O(heap);
     * never changes the state, so calling it cannot move a figure). On
     * failure it appends one line naming the broken invariant to `why`
     * (NULL: no message). @return 0, or AS_ECHECK. */
    int (*check)(const void *state, as_msg_t *why);
    /* lifetime_aware: 1 when placement depends on ctx->lifetime_class, so a
     * run without predictions changes what the policy does (`allocsim run`
     * then warns); 0 when the policy ignores the class. Optional, like
     * class_periods below: a table that omits it leaves it 0. */
    int lifetime_aware;
    /* class_periods: optional (0 = no): 1 when the policy times its blocks
     * by the lifetime classes' bounds (they expire or are recycled after
     * them, as in LLAMA), so that a trace shorter than a bound never
     * exercises that class. With the policy's duration parameters
     * (AS_PARAM_NS: by convention the periods and windows it acts on) it
     * tells `allocsim run` which periods to warn about (sim/periods.h). */
    int class_periods;
} as_policy_ops_t;

/* as_policy_layer_ops: the ops of a layer (checking, statistics, locking)
 * over `inner`: the layer's hooks in `layer`, with inner's identity (name,
 * doc, params) and properties (lifetime_aware, class_periods), and each
 * optional hook kept only where inner has it. One place, so that a layer
 * never drops what the policy under it says of itself. */
static inline as_policy_ops_t as_policy_layer_ops(const as_policy_ops_t *inner,
                                                  as_policy_ops_t layer)
{
    layer.name = inner->name;
    layer.doc = inner->doc;
    layer.params = inner->params;
    layer.n_params = inner->n_params;
    layer.lifetime_aware = inner->lifetime_aware;
    layer.class_periods = inner->class_periods;
    if (!inner->realloc) layer.realloc = NULL;
    if (!inner->usable_size) layer.usable_size = NULL;
    if (!inner->tick) layer.tick = NULL;
    if (!inner->stats) layer.stats = NULL;
    if (!inner->check) layer.check = NULL;
    /* alloc_batch and free_batch stay: a layer's batch goes through
     * as_policy_alloc_batch / as_policy_free_batch on inner, which make
     * single calls when inner has none, and is still one call of the layer
     * (one hold of the lock layer's mutex) */
    return layer;
}

/* as_policy_alloc_singles: n calls of `alloc` (an alloc hook) in a row with
 * the same arguments, stopping at the first failure: the fallback of
 * as_policy_alloc_batch, and what a policy's alloc_batch does with the
 * requests it does not batch. out[0..*got) get the blocks.
 * @return 0 with *got == n, or the error of block *got. */
static inline int as_policy_alloc_singles(
    int (*alloc)(void *, const as_ctx_t *, size_t, size_t, as_block_t *),
    void *state, const as_ctx_t *ctx, size_t size, size_t align, unsigned n,
    as_block_t *out, unsigned *got)
{
    for (*got = 0; *got < n; ++*got) {
        int rc = alloc(state, ctx, size, align, &out[*got]);
        if (rc != 0) return rc;
    }
    return 0;
}

/* as_policy_alloc_batch: place n blocks of `size` bytes aligned to `align`
 * with the policy (ops, state): its alloc_batch when it has one, else n
 * alloc calls in a row (as_policy_alloc_singles). The one place that
 * falls back; every caller of a batch goes through it. out[0..*got) get
 * the blocks. @return 0 with *got == n, or the error of block *got. */
static inline int as_policy_alloc_batch(const as_policy_ops_t *ops, void *state,
                                        const as_ctx_t *ctx, size_t size,
                                        size_t align, unsigned n,
                                        as_block_t *out, unsigned *got)
{
    if (ops->alloc_batch)
        return ops->alloc_batch(state, ctx, size, align, n, out, got);
    return as_policy_alloc_singles(ops->alloc, state, ctx, size, align, n, out,
                                   got);
}

/* as_policy_free_singles: n calls of `free` (a free hook) for addrs[0..n)
 * in that order with size_hint 0, stopping at the first failure: the
 * fallback of as_policy_free_batch, and what a policy's free_batch does
 * with the blocks it does not batch. @return 0 with *done == n, or the
 * error of the free of addrs[*done]. */
static inline int as_policy_free_singles(
    int (*free_fn)(void *, const as_ctx_t *, uintptr_t, size_t), void *state,
    const as_ctx_t *ctx, const uintptr_t *addrs, unsigned n, unsigned *done)
{
    for (*done = 0; *done < n; ++*done) {
        int rc = free_fn(state, ctx, addrs[*done], 0);
        if (rc != 0) return rc;
    }
    return 0;
}

/* as_policy_free_batch: give back the blocks at addrs[0..n) with the policy
 * (ops, state): its free_batch when it has one, else n free calls in a row
 * (as_policy_free_singles). The one place that falls back; every caller of
 * a batch goes through it (or through as_policy_free_all).
 * @return 0 with *done == n, or the error of the free of addrs[*done]. */
static inline int as_policy_free_batch(const as_policy_ops_t *ops, void *state,
                                       const as_ctx_t *ctx,
                                       const uintptr_t *addrs, unsigned n,
                                       unsigned *done)
{
    if (ops->free_batch) return ops->free_batch(state, ctx, addrs, n, done);
    return as_policy_free_singles(ops->free, state, ctx, addrs, n, done);
}

/* as_policy_free_all: give back every block at addrs[0..n), going on past
 * a free that fails (a new batch after it), as a cache's give-back must:
 * the blocks are not the caller's any more either way.
 * @return 0, or the first error. */
static inline int as_policy_free_all(const as_policy_ops_t *ops, void *state,
                                     const as_ctx_t *ctx,
                                     const uintptr_t *addrs, unsigned n)
{
    int first = 0;
    while (n > 0) {
        unsigned done = 0;
        int rc = as_policy_free_batch(ops, state, ctx, addrs, n, &done);
        if (first == 0) first = rc;
        if (rc == 0 || done >= n) break;
        addrs += done + 1; /* past the one that failed */
        n -= done + 1;
    }
    return first;
}

/* The registry: one static table in policies/registry.c. */

/* as_policy_find: @return the policy registered under `name`, or NULL. */
const as_policy_ops_t *as_policy_find(const char *name);

/* as_policy_count: @return how many policies are registered. */
size_t as_policy_count(void);

/* as_policy_at: @return the i-th registered policy (registry order), or NULL
 * when i >= as_policy_count(). */
const as_policy_ops_t *as_policy_at(size_t i);

#endif /* AS_POLICIES_POLICY_H */

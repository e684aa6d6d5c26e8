/* tcache_core.h - the thread cache's rules, once, for both builds: the
 * preload allocator's lock-free layer (malloc/tcache.h) and the
 * simulator's layer (policies/layers/tcache.h) ask this module for every
 * decision and keep only the mechanism (where a list's blocks are linked,
 * how threads are told apart, what locks guard the transfer cache).
 *
 * Type map
 *   as_tcache_thread_t    one thread's cache as the rules see it: the
 *                         length and longest length of each class's list,
 *                         the bytes on all of them, the thread's counters
 *   as_tcache_xfer_t      the transfer cache as the rules see it: chains
 *                         per class and their bytes
 *   as_tcache_free_plan_t what a free the fast path declined must do
 *   as_tcache_counters_t  the counters summed over threads (reports)
 *   as_tcache_stack_t     one class's cached blocks: an array of addresses
 *
 * The rules (docs/malloc.md, "The thread cache"):
 *   class: a request of at most AS_TCACHE_MAX_BYTES with alignment at most
 *     AS_TCACHE_GRANULE_BYTES (0 = default) is in class
 *     c = ceil(size / 16), size 0 in class 1, and is served with a block
 *     of c * 16 bytes; any other request is not cached (class 0).
 *   batch(c) = clamp(8 KiB / (c * 16), 2, 32): blocks per refill and per
 *     give-back on overflow.
 *   A free may go onto the list when count[c] < max[c] and the thread's
 *     bytes stay within AS_TCACHE_THREAD_BYTES (as_tcache_may_push).
 *   Otherwise (as_tcache_free_plan): a full list (count[c] >= max[c])
 *     first gives batch(c) blocks back (to the transfer cache as one chain
 *     when it has room, else to the policy); when max[c] > batch(c) that
 *     is an overage, and at the AS_TCACHE_MAX_OVERAGES + 1-th overage
 *     max[c] shrinks by batch(c) (never below batch(c), nor below what
 *     the list keeps) and the overages start again from 0
 *     (TCMalloc's ThreadCache::ListTooLong): a list that only frees
 *     converges on batch(c) and hands everything else on in whole
 *     batches. Then, if the block would still take the thread past its
 *     byte limit, every list gives half its blocks back and every max is
 *     halved (never below batch(c)).
 *   max[c] starts at batch(c) and grows by batch(c) at every refill, up to
 *     AS_TCACHE_MAX_COUNT (slow start, TCMalloc's
 *     ThreadCache::FetchFromTransferCache).
 *   An empty list is refilled first with a whole chain from the transfer
 *     cache (as_tcache_xfer_take), else with batch(c) blocks from the
 *     policy; either way one block goes to the caller and the rest onto
 *     the list, and that is one refill (as_tcache_refilled).
 *   The transfer cache takes a chain of batch(c) blocks only while its
 *     bytes stay within AS_TCACHE_XFER_BYTES (as_tcache_xfer_put).
 *   A give-back to the policy counts one flush per AS_TCACHE_FLUSH_MAX
 *     blocks (a batch call of the preload build carries at most that many).
 *
 * The blocks themselves (as_tcache_stack_t, the moves below): both builds
 * keep a class's cached blocks as an array of addresses, the list's head
 * on top, never linked through the blocks (TCMalloc's per-CPU slabs and
 * transfer caches are arrays of pointers too), so moving a block between
 * caches never touches its memory. A thread's list c is a stack of
 * count[c] entries whose capacity grows on demand (as_tcache_stack_need:
 * never below what the rules may push, at most as_tcache_class_limit(c));
 * the transfer cache's class c is one stack of chains[c] * batch(c)
 * entries, a chain being batch(c) entries as they lay on the list that
 * gave them. The order blocks are handed out in is the rules' LIFO order:
 * a give-back takes blocks from the head (as_tcache_take_run), a chain
 * taken hands its head to the caller and pushes the rest in chain order
 * (as_tcache_chain_take).
 *
 * Invariants (as_tcache_check_thread, as_tcache_check_xfer):
 *   count[c] <= max[c] + 1 (the free that halves pushes its block even
 *     when halving left count[c] == max[c]), max[c] <= AS_TCACHE_MAX_COUNT,
 *     max[c] >= batch(c);
 *   count[c] <= the stack's capacity, and each of its count[c] entries
 *     has map entry c | AS_TCACHE_CACHED;
 *   bytes == sum over c of count[c] * c * 16 <= AS_TCACHE_THREAD_BYTES;
 *   xfer bytes == sum over c of chains[c] * batch(c) * c * 16
 *     <= AS_TCACHE_XFER_BYTES, and every entry of its stacks has map
 *     entry c | AS_TCACHE_CACHED.
 *
 * No threads, no atomics, no memory access to blocks, no libc allocation
 * (the stacks' arrays come from the as_mem_t the mechanism passes, which
 * takes its own lock if it needs one): the caller holds whatever lock the
 * mechanism needs around a call.
 */
#ifndef AS_POLICIES_LAYERS_TCACHE_CORE_H
#define AS_POLICIES_LAYERS_TCACHE_CORE_H

#include <stddef.h>
#include <stdint.h>

#include "common/mem.h"
#include "common/msg.h"
#include "policies/policy.h"

#define AS_TCACHE_GRANULE_BYTES 16
/* 16 B .. 2032 B in 16-byte steps (the preload build's block map keeps the
 * top bit of its one-byte entry for AS_TCACHE_CACHED) */
#define AS_TCACHE_CLASSES 127
#define AS_TCACHE_MAX_BYTES (AS_TCACHE_CLASSES * AS_TCACHE_GRANULE_BYTES)
#define AS_TCACHE_THREAD_BYTES ((uint64_t)2 << 20) /* one thread's lists */
#define AS_TCACHE_MAX_COUNT 16384                  /* longest list */
#define AS_TCACHE_XFER_BYTES ((uint64_t)4 << 20)   /* transfer cache bound */
#define AS_TCACHE_FLUSH_MAX 32   /* blocks per give-back call to the policy */
#define AS_TCACHE_BATCH_MAX 32   /* most blocks of a batch(c) */
#define AS_TCACHE_MAX_OVERAGES 3 /* overflows before max[c] shrinks */
#define AS_TCACHE_CACHED 0x80    /* block map entry flag: in a cache */

typedef struct {
    uint32_t count[AS_TCACHE_CLASSES + 1];   /* blocks on class c's list */
    uint32_t max[AS_TCACHE_CLASSES + 1];     /* longest it may get */
    uint8_t overages[AS_TCACHE_CLASSES + 1]; /* overflows past batch(c) */
    uint64_t bytes;                          /* bytes on all the lists */
    uint64_t hits;                           /* mallocs served from a list */
    uint64_t refills;     /* lists refilled (transfer cache or policy) */
    uint64_t flushes;     /* give-backs (transfer chains, policy calls) */
    uint64_t xfer_hits;   /* refills served by a transfer chain */
    uint64_t xfer_misses; /* refills that found no chain */
} as_tcache_thread_t;

typedef struct {
    uint32_t chains[AS_TCACHE_CLASSES + 1]; /* chains of batch(c) blocks */
    uint64_t bytes;                         /* bytes in all chains */
} as_tcache_xfer_t;

typedef struct {
    unsigned give_back; /* blocks to give back first (0 or batch(c)) */
    int halve;          /* then halve every list (thread byte limit) */
} as_tcache_free_plan_t;

typedef struct {
    uint64_t caches;        /* thread caches in use */
    uint64_t cached_blocks; /* blocks on their lists */
    uint64_t cached_bytes;  /* their bytes (class sizes) */
    uint64_t hits;          /* mallocs served from a list */
    uint64_t refills;       /* refills (transfer cache or policy) */
    uint64_t flushes;       /* give-backs (transfer cache or policy) */
    uint64_t xfer_hits;     /* refills served by a transfer chain */
    uint64_t xfer_misses;   /* refills that found none */
    uint64_t xfer_bytes;    /* bytes in the transfer cache */
} as_tcache_counters_t;

typedef struct {
    uintptr_t *slot; /* cached blocks; the list's head is the top entry */
    uint32_t cap;    /* entries slot[] holds */
} as_tcache_stack_t;

/* Reads the map entry of the block at addr (the mechanism's map). */
typedef unsigned (*as_tcache_entry_fn)(const void *arg, uintptr_t addr);

/* as_tcache_class: @return the class of a request of `size` bytes aligned
 * to `align` (0: default), or 0 when the cache does not serve it. */
static inline unsigned as_tcache_class(size_t size, size_t align)
{
    if (size > AS_TCACHE_MAX_BYTES || align > AS_TCACHE_GRANULE_BYTES) return 0;
    return size ? (unsigned)((size + AS_TCACHE_GRANULE_BYTES - 1) /
                             AS_TCACHE_GRANULE_BYTES)
                : 1;
}

/* as_tcache_class_bytes: @return the block size of class c. */
static inline size_t as_tcache_class_bytes(unsigned c)
{
    return (size_t)c * AS_TCACHE_GRANULE_BYTES;
}

/* as_tcache_batch: @return batch(c) for class c (1..AS_TCACHE_CLASSES). */
unsigned as_tcache_batch(unsigned c);

/* as_tcache_thread_init: an empty cache (every max[c] = batch(c)). */
void as_tcache_thread_init(as_tcache_thread_t *t);

/* as_tcache_may_push: @return 1 when a freed block of class c may go onto
 * t's list without anything given back first. */
static inline int as_tcache_may_push(const as_tcache_thread_t *t, unsigned c)
{
    return t->count[c] < t->max[c] &&
           t->bytes + as_tcache_class_bytes(c) <= AS_TCACHE_THREAD_BYTES;
}

/* as_tcache_pushed: a block of class c went onto t's list. */
static inline void as_tcache_pushed(as_tcache_thread_t *t, unsigned c)
{
    t->count[c]++;
    t->bytes += as_tcache_class_bytes(c);
}

/* as_tcache_popped: a malloc was served from t's list c (a hit). */
static inline void as_tcache_popped(as_tcache_thread_t *t, unsigned c)
{
    t->count[c]--;
    t->bytes -= as_tcache_class_bytes(c);
    t->hits++;
}

/* as_tcache_pushed_n: k blocks of class c went onto t's list at once (the
 * rest of a chain taken from the transfer cache). */
static inline void as_tcache_pushed_n(as_tcache_thread_t *t, unsigned c,
                                      unsigned k)
{
    t->count[c] += k;
    t->bytes += (uint64_t)k * as_tcache_class_bytes(c);
}

/* as_tcache_removed: k blocks left t's list c in one give-back (to the
 * policy or as a transfer chain); counts ceil(k / AS_TCACHE_FLUSH_MAX)
 * flushes (at least one). */
void as_tcache_removed(as_tcache_thread_t *t, unsigned c, unsigned k);

/* as_tcache_refilled: list c was refilled (from a chain or the policy):
 * counts it and grows max[c]. */
void as_tcache_refilled(as_tcache_thread_t *t, unsigned c);

/* as_tcache_free_plan: what a free of class c must do before its block
 * goes onto t's list (give back on overflow, halve on the byte limit);
 * counts the overage and shrinks max[c] when it gives back (the rules
 * above). Then the caller pushes the block. @return the plan. */
as_tcache_free_plan_t as_tcache_free_plan(as_tcache_thread_t *t, unsigned c);

/* as_tcache_trim: list c keeps keep_num / keep_den of its blocks and of its
 * max (max never below batch(c)): halving (1, 2), thread exit (0, 1).
 * @return the blocks to give back (the caller then calls
 * as_tcache_removed for them). */
unsigned as_tcache_trim(as_tcache_thread_t *t, unsigned c, unsigned keep_num,
                        unsigned keep_den);

/* as_tcache_trim_all: every list keeps keep_num / keep_den of its blocks
 * and of its max (as_tcache_trim); n[c] (AS_TCACHE_CLASSES + 1 entries)
 * gets what list c must give back, which the caller then gives from the
 * head, in class order, calling as_tcache_removed. */
void as_tcache_trim_all(as_tcache_thread_t *t, unsigned keep_num,
                        unsigned keep_den, uint32_t *n);

/* as_tcache_xfer_put: whether batch(c) blocks of t's list c go to the
 * transfer cache as one chain (room left and enough blocks); when they do
 * the chain is counted and the blocks leave t's list (as_tcache_removed).
 * @return 1 (the caller moves the chain), 0 (give them to the policy). */
int as_tcache_xfer_put(as_tcache_xfer_t *x, as_tcache_thread_t *t, unsigned c);

/* as_tcache_xfer_take: a refill of class c asks for a chain: counts a
 * transfer hit and takes the chain off x when there is one, else counts a
 * miss. @return 1 (the caller takes its chain), 0. */
int as_tcache_xfer_take(as_tcache_xfer_t *x, as_tcache_thread_t *t, unsigned c);

/* as_tcache_xfer_missed: a refill of class c found no chain without asking
 * (a mechanism's unlocked look saw none): counts the miss. */
void as_tcache_xfer_missed(as_tcache_thread_t *t);

/* as_tcache_class_limit: @return the most blocks list c can ever hold
 * (the thread byte limit's, at most AS_TCACHE_MAX_COUNT). */
uint32_t as_tcache_class_limit(unsigned c);

/* as_tcache_xfer_limit: @return the most entries the transfer cache can
 * ever hold of class c (whole chains within AS_TCACHE_XFER_BYTES). */
uint32_t as_tcache_xfer_limit(unsigned c);

/* as_tcache_stack_need: @return the capacity list c's stack must have for
 * what the rules may push onto it now: max[c] + 1 (the push that follows
 * a halving may go one past max[c]), but no more than
 * as_tcache_class_limit(c). A mechanism grows its stack to it (at least)
 * when it makes a cache and after every call that may grow max[c]
 * (as_tcache_refilled, as_tcache_free_plan). */
static inline uint32_t as_tcache_stack_need(const as_tcache_thread_t *t,
                                            unsigned c)
{
    uint32_t lim = as_tcache_class_limit(c);
    return t->max[c] < lim ? t->max[c] + 1 : lim;
}

/* as_tcache_grown_cap: @return the capacity to grow a stack of `cap`
 * entries to, so that it holds `need` (<= limit): twice cap or need,
 * whichever is more, at most `limit` (so growths are rare). */
uint32_t as_tcache_grown_cap(uint32_t cap, uint32_t need, uint32_t limit);

/* as_tcache_stack_failed: list c's stack could not grow past `cap` entries
 * (no metadata memory; cap > batch(c), what a new cache's stacks hold):
 * max[c] drops to cap - 1, so the rules never push more than it holds. */
void as_tcache_stack_failed(as_tcache_thread_t *t, unsigned c, uint32_t cap);

/* as_tcache_stack_grow: make stack s, which holds n entries, hold `need`
 * (<= limit): a new array of as_tcache_grown_cap's capacity from `mem`,
 * the n entries copied, the old one freed. The caller holds whatever lock
 * guards s (and mem's own, inside mem). @return 0, or AS_ENOMEM (s
 * unchanged). */
int as_tcache_stack_grow(as_tcache_stack_t *s, uint32_t n, uint32_t need,
                         uint32_t limit, const as_mem_t *mem);

/* as_tcache_stack_fit: after a rule that may have grown max[c], grow
 * stacks[c] (t's list c) to as_tcache_stack_need, or, when `mem` refuses,
 * drop max[c] to what it holds (as_tcache_stack_failed). */
void as_tcache_stack_fit(as_tcache_thread_t *t, as_tcache_stack_t *stacks,
                         unsigned c, const as_mem_t *mem);

/* as_tcache_stacks_init: give each of stacks[1..AS_TCACHE_CLASSES] (all
 * empty) the capacity a new cache t needs (as_tcache_stack_need).
 * @return 0, or AS_ENOMEM (then every stack is freed again). */
int as_tcache_stacks_init(const as_tcache_thread_t *t,
                          as_tcache_stack_t *stacks, const as_mem_t *mem);

/* as_tcache_stacks_free: return the arrays of stacks[1..AS_TCACHE_CLASSES]
 * to `mem` (each then empty, capacity 0). */
void as_tcache_stacks_free(as_tcache_stack_t *stacks, const as_mem_t *mem);

/* as_tcache_take_run: copy the k blocks on top of stack s (which holds n),
 * head first, into out[]: the order a give-back frees them in. The caller
 * then drops them (as_tcache_removed, or a chain's count). */
static inline void as_tcache_take_run(const as_tcache_stack_t *s, uint32_t n,
                                      unsigned k, uintptr_t *out)
{
    for (unsigned i = 0; i < k; i++)
        out[i] = s->slot[n - 1 - i];
}

/* as_tcache_chain_put: the k blocks on top of list l (which holds n) go on
 * top of the transfer stack x (which holds xn; room for k more) as one
 * chain, as they lie. */
static inline void as_tcache_chain_put(as_tcache_stack_t *x, uint32_t xn,
                                       const as_tcache_stack_t *l, uint32_t n,
                                       unsigned k)
{
    for (unsigned i = 0; i < k; i++)
        x->slot[xn + i] = l->slot[n - k + i];
}

/* as_tcache_chain_take: the chain of k blocks on top of the transfer stack
 * x (which holds xn) for a refill of list l (which holds n; room for k - 1
 * more): its head (the block that was the giving list's head) is the
 * caller's, the others are pushed in chain order, so the chain's last
 * block becomes l's head. @return the caller's block. */
static inline uintptr_t as_tcache_chain_take(const as_tcache_stack_t *x,
                                             uint32_t xn, as_tcache_stack_t *l,
                                             uint32_t n, unsigned k)
{
    const uintptr_t *ch = x->slot + xn - k;
    for (unsigned i = 0; i + 1 < k; i++)
        l->slot[n + i] = ch[k - 2 - i];
    return ch[k - 1];
}

/* as_tcache_counters_add: add t's counters and contents to `out` (one more
 * cache). */
void as_tcache_counters_add(as_tcache_counters_t *out,
                            const as_tcache_thread_t *t);

/* as_tcache_report: the counters under their statistics names
 * (tcache_cached_bytes, tcache_transfer_bytes, tcache_hits,
 * tcache_refills, tcache_flushes, tcache_transfer_hits,
 * tcache_transfer_misses, tcache_caches). */
void as_tcache_report(const as_tcache_counters_t *c, as_stat_fn fn, void *arg);

/* as_tcache_check_thread: t's invariants and its stacks' (stacks[c] holds
 * list c's count[c] blocks), each block's map entry read with
 * entry(arg, addr). @return 0, or AS_ECHECK with one line in `why`. */
int as_tcache_check_thread(const as_tcache_thread_t *t,
                           const as_tcache_stack_t *stacks,
                           as_tcache_entry_fn entry, const void *arg,
                           as_msg_t *why);

/* as_tcache_check_xfer: x's invariants and its stacks' (stacks[c] holds
 * chains[c] * batch(c) blocks). @return 0, or AS_ECHECK with one line. */
int as_tcache_check_xfer(const as_tcache_xfer_t *x,
                         const as_tcache_stack_t *stacks,
                         as_tcache_entry_fn entry, const void *arg,
                         as_msg_t *why);

#endif /* AS_POLICIES_LAYERS_TCACHE_CORE_H */

/* hoard.h - Hoard (Berger et al., ASPLOS 2000): per-processor heaps of
 * superblocks with a global heap that bounds blowup.
 *
 * Type map
 *   as_hoard_config_t  the knobs of the multi-heap engine below, filled from
 *                      the `hoard` parameter table or by `ownership-heaps`
 *   (instance)         an opaque `void *state`, as every policy's
 *   as_hoard_figures_t the counters and peaks a test or report reads
 *
 * Algorithm (docs/policies/hoard.md has the full statement and the choices):
 *   - P per-processor heaps (1..P) and a global heap (0), each a set of
 *     S-byte, S-aligned superblocks binned by fullness per size class.
 *   - malloc(s <= large threshold): heap i = 1 + cpu % P (or a thread hash);
 *     take a block from the fullest superblock of s's class in heap i; else
 *     reuse one of heap i's empty superblocks (any class; reformatted); else
 *     move the fullest class-s superblock of the global heap to heap i; else
 *     an empty one of the global heap (recycled to any class); else S fresh
 *     bytes from the page source.
 *   - free: the block returns to the heap that owns its superblock (found by
 *     masking the address with S and a map superblock -> descriptor). If that
 *     heap is a per-processor heap and now
 *         u_i < (1 - f) * a_i   and   u_i < a_i - K * S
 *     its emptiest superblock (lowest used/capacity) moves to the global
 *     heap: one superblock per free, as in the paper. With rule_scope=class
 *     u and a are those of the freed block's size class in heap i, and the
 *     emptiest superblock of that class moves (today's Hoard source).
 *   - objects larger than the threshold (S/2 by default) are page runs taken
 *     straight from the page source and returned on free.
 * a_i = S * superblocks held by heap i; u_i = bytes of the blocks in use in
 * them (class sizes). The global heap never gives memory back to the page
 * source (as in Hoard); destroy returns everything.
 */
#ifndef AS_POLICIES_HOARD_HOARD_H
#define AS_POLICIES_HOARD_HOARD_H

#include <stdint.h>

#include "policies/blocks/sizeclass.h"
#include "policies/policy.h"

extern const as_policy_ops_t as_policy_hoard;

typedef struct {
    uint64_t sb_bytes;           /* S: power of two >= page size */
    as_sizeclass_kind_t classes; /* geometric (factor b) or pow2 */
    double growth;               /* b */
    uint32_t heaps;              /* P per-processor heaps */
    double empty_fraction;       /* f in [0, 1]; 1 disables the rule */
    uint64_t k_superblocks;      /* K */
    uint64_t large_bytes;        /* objects above this are page runs;
                                    0 = S/2 */
    int heap_by_thread;          /* 0: heap from ctx->cpu; 1: thread hash */
    int use_global;              /* 0: no global heap and no emptiness
                                    rule (the ownership-heaps strawman) */
    int rule_per_class;          /* 1: apply the rule to the freed block's
                                    size class (u_c, a_c; today's source)
                                    instead of the whole heap (paper) */
    const char *name;            /* the policy's name in messages */
} as_hoard_config_t;

typedef struct {
    uint64_t superblocks;         /* held now, all heaps */
    uint64_t global_superblocks;  /* held now by the global heap */
    uint64_t superblocks_from_os; /* reserved from the page source */
    uint64_t to_global;           /* moves heap -> global (the f/K rule) */
    uint64_t from_global;         /* moves global -> heap */
    uint64_t reformats;           /* empty superblocks given a new class */
    uint64_t large_allocs;        /* objects served as page runs */
    uint64_t footprint_bytes;     /* S * superblocks + large run bytes */
    uint64_t in_use_bytes;        /* block bytes in use + large bytes */
    uint64_t heap_bytes;          /* sum of a_i over heaps 1..P */
    uint64_t peak_footprint_bytes;
    uint64_t peak_in_use_bytes;
    uint64_t peak_heap_bytes;
    /* largest excess seen of sum_i a_i over sum_i u_i/(1-f) + P*K*S (the
     * per-heap invariant summed over heaps 1..P; P*C*K*S with the rule per
     * class); 0 while it held */
    double invariant_excess_bytes;
} as_hoard_figures_t;

/* as_hoard_create: an instance over cfg->ps with the knobs in hc.
 * @return 0, AS_EINVAL (S not a power of two >= page, bad b), AS_ENOMEM. */
int as_hoard_create(const as_policy_config_t *cfg, const as_hoard_config_t *hc,
                    void **state);

/* as_hoard_figures: copy the current figures of a hoard or ownership-heaps
 * instance. */
void as_hoard_figures(const void *state, as_hoard_figures_t *out);

/* as_hoard_heap_usage: a_i and u_i of heap i (0 = global).
 * @return 0, or AS_EINVAL when i > P. */
int as_hoard_heap_usage(const void *state, uint32_t i, uint64_t *a_bytes,
                        uint64_t *u_bytes);

/* as_hoard_owner_of: @return the heap owning the superblock of addr, or -1
 * when addr is not in a superblock. */
int as_hoard_owner_of(const void *state, uintptr_t addr);

/* as_hoard_verify: expensive: every heap's invariants (superblock.h: bins
 * match fullness, u/a sums), superblock counts against the figures and the
 * superblock map, an empty global heap without use_global, and the size
 * classes. @return 0 or AS_ECHECK. */
int as_hoard_verify(const void *state);

/* as_hoard_check: the `check` hook of hoard and ownership-heaps: all of
 * as_hoard_verify, then the figures against the heaps: in_use_bytes == sum
 * of u_i + large-object bytes, heap_bytes == sum of a_i over heaps 1..P,
 * peaks >= current values, and (global heap on, f < 1) the current excess
 * of sum a_i over sum u_i/(1-f) + slack is at most the recorded
 * invariant_excess_bytes. The per-heap rule itself is not an instantaneous
 * invariant: a malloc that fetches a superblock may break it until the next
 * free. @return 0, or AS_ECHECK with the reason in why. */
int as_hoard_check(const void *state, as_msg_t *why);

/* as_hoard_debug_corrupt: for tests of the check hook only: skew heap 1's
 * u_bytes by 16 bytes. @return 0. */
int as_hoard_debug_corrupt(void *state);

/* The policy table's functions, shared with ownership-heaps. */
int as_hoard_alloc(void *state, const as_ctx_t *ctx, size_t size, size_t align,
                   as_block_t *out);
/* as_hoard_alloc_batch: the policy's alloc_batch (policy.h rule 9): as n
 * as_hoard_alloc calls, carving each superblock while it has room. */
int as_hoard_alloc_batch(void *state, const as_ctx_t *ctx, size_t size,
                         size_t align, unsigned n, as_block_t *out,
                         unsigned *got);
int as_hoard_free(void *state, const as_ctx_t *ctx, uintptr_t addr,
                  size_t size_hint);
size_t as_hoard_usable_size(void *state, uintptr_t addr);
void as_hoard_stats(void *state, as_stat_fn fn, void *arg);
void as_hoard_destroy(void *state);

#endif /* AS_POLICIES_HOARD_HOARD_H */

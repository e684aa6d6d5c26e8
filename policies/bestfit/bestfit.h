/* bestfit.h - address-ordered best fit with immediate coalescing.
 *
 * The classical baseline that Johnstone & Wilson ("The memory fragmentation
 * problem: solved?", ISMM 1998) found near-optimal on real programs: every
 * request takes the smallest free block that fits (the lowest-addressed one
 * among equals), every free merges at once with both free neighbours, and the
 * heap grows and shrinks in whole pages at its top. docs/policies/bestfit.md
 * states the rules, the parameters and their defaults.
 *
 * Parameters (--param bestfit.NAME=VALUE):
 *   grow_bytes         heap growth granularity (default 128K)
 *   trim_threshold     trim a segment's top free block larger than this
 *                      (default 128K, as glibc's M_TRIM_THRESHOLD)
 *   top_pad            bytes of the top free block kept when trimming (0)
 *   release            release the whole pages inside big free blocks (off)
 *   release_threshold  smallest free block whose pages are released (256K)
 *
 * Statistics: segments, heap_bytes, free_blocks, free_bytes,
 * largest_free_block_bytes, live_blocks, allocated_bytes, reserves, trims,
 * trimmed_bytes, releases, released_bytes.
 */
#ifndef AS_POLICIES_BESTFIT_BESTFIT_H
#define AS_POLICIES_BESTFIT_BESTFIT_H

#include "policies/policy.h"

/* Indices of the parameter table (values[] order). */
enum {
    AS_BESTFIT_GROW_BYTES = 0,
    AS_BESTFIT_TRIM_THRESHOLD,
    AS_BESTFIT_TOP_PAD,
    AS_BESTFIT_RELEASE,
    AS_BESTFIT_RELEASE_THRESHOLD,
    AS_BESTFIT_N_PARAMS
};

/* Largest request served (bytes); larger ones get AS_ETOO_LARGE. */
#define AS_BESTFIT_MAX_REQUEST ((size_t)1 << 40)
/* Largest alignment served; larger ones get AS_ETOO_LARGE. */
#define AS_BESTFIT_MAX_ALIGN ((size_t)1 << 30)

extern const as_policy_ops_t as_policy_bestfit;

/* as_bestfit_check: expensive tier (the policy's `check` hook without a
 * message): walk every segment block by block and verify the invariants of
 * bestfit.c (exact tiling, no adjacent free blocks, consistent indexes and
 * byte counts) on a bestfit state. O(blocks). @return 0 or AS_ECHECK. */
int as_bestfit_check(const void *state);

/* as_bestfit_debug_corrupt: for tests of the check hook only: make the
 * state inconsistent (free_bytes off by one block) without touching any
 * structure. @return 0. */
int as_bestfit_debug_corrupt(void *state);

#endif /* AS_POLICIES_BESTFIT_BESTFIT_H */

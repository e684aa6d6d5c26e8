/* private_heaps.h - the "pure private heaps" strawman (Berger's Hoard talk;
 * the STL pthread allocator and Cilk's allocator behave this way).
 *
 * P per-processor heaps, each with one free list per size class. A block is
 * carved from a superblock the allocating heap got from the page source; a
 * free pushes the block onto the FREEING processor's list, wherever the
 * block lives, and that heap reuses it for its own next request of the same
 * class. Nothing ever flows back: under producer-consumer (allocate on CPU
 * i, free on CPU j) the producer keeps asking the page source for fresh
 * superblocks while the consumer's lists grow, so the footprint grows
 * without bound in the length of the run.
 *
 * Invariants: every block of every superblock is exactly one of: in use
 * (its slot bit set), on exactly one heap's free list of the superblock's
 * class, or not carved yet (slot >= the carving cursor);
 * (in_use_bytes - large-run bytes) + free_list_bytes + uncarved bytes ==
 * sum over superblocks of capacity * block size (S minus each superblock's
 * tail); checked by the policy's `check` hook.
 */
#ifndef AS_POLICIES_HEAPS_PRIVATE_HEAPS_H
#define AS_POLICIES_HEAPS_PRIVATE_HEAPS_H

#include "policies/policy.h"

extern const as_policy_ops_t as_policy_private_heaps;

/* as_private_heaps_debug_corrupt: for tests of the check hook only: skew
 * free_list_bytes by 16 bytes. @return 0. */
int as_private_heaps_debug_corrupt(void *state);

#endif /* AS_POLICIES_HEAPS_PRIVATE_HEAPS_H */

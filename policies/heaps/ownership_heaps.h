/* ownership_heaps.h - the "private heaps with ownership" strawman (Berger's
 * Hoard talk; ptmalloc's arenas behave this way).
 *
 * P per-processor heaps of superblocks, exactly as in Hoard (same size
 * classes, same fullness bins, same large-object path), except that there is
 * no global heap: a free returns the block to the heap that owns its
 * superblock, and a heap never gives a superblock away, however empty.
 * On a round-robin producer-consumer workload every heap ends up holding
 * the peak of live memory once: P-fold blowup. The engine is hoard.c's with
 * use_global = 0.
 */
#ifndef AS_POLICIES_HEAPS_OWNERSHIP_HEAPS_H
#define AS_POLICIES_HEAPS_OWNERSHIP_HEAPS_H

#include "policies/policy.h"

extern const as_policy_ops_t as_policy_ownership_heaps;

#endif /* AS_POLICIES_HEAPS_OWNERSHIP_HEAPS_H */

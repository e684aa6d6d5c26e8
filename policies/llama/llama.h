/* llama.h - LLAMA, the learned lifetime-aware huge-page allocator (Maas et
 * al., ASPLOS'20), as a placement policy.
 *
 * Type map (the structures themselves are private to llama.c)
 *   huge page   2 MiB, state open / active / free, one lifetime class (LC)
 *               fixed by its first allocation, a deadline, a block bitmap
 *   block       block_size bytes (8 KiB); a unit of placement: either a
 *               small-object block (lines) or part of a medium object's run;
 *               carries its own LC and deadline
 *   line        line_size bytes (128 B); a live-object count per line, so a
 *               line is reusable once every object touching it has died
 *   class state per LC: the blocks with free lines, the pages with free
 *               blocks, the open page; per LC and CPU (open_blocks=per_cpu,
 *               the default) or per LC (shared): the open (bump) block
 *
 * Sizes: requests <= small_max go into lines of a block (bump allocation in
 * holes of free lines, Immix style); requests <= medium_max get a run of
 * whole blocks inside one huge page; larger ones get whole huge pages.
 * Where a block comes from, for LC c: free blocks on *active* pages of a
 * longer LC (recycling, nearest longer LC first; pages still open for their
 * own LC only with recycle_open=top|bottom, not from the paper), then pages
 * of LC c, then a new page opened for c. Deadlines: a unit's deadline is the
 * time of the allocation that opened it plus deadline_multiplier x its LC
 * bound, never extended by later allocations; tick() promotes a page whose
 * own-LC units outlive their deadlines to the next longer LC, and a recycled
 * unit of a shorter LC on its own. A page whose own-LC units all died no
 * older than the LC's lower bound (the bound of the LC below), while
 * shorter-lived recycled units remain, is demoted to the longest LC still
 * live on it. Whole free huge pages go back to the page source; nothing
 * smaller is released unless subrelease=1.
 * docs/policies/llama.md explains the algorithm and every parameter.
 */
#ifndef AS_POLICIES_LLAMA_LLAMA_H
#define AS_POLICIES_LLAMA_LLAMA_H

#include "policies/policy.h"

extern const as_policy_ops_t as_policy_llama;

/* Parameter rows of as_policy_llama.params, in order. */
enum {
    AS_LLAMA_BLOCK_SIZE,
    AS_LLAMA_LINE_SIZE,
    AS_LLAMA_SMALL_MAX,
    AS_LLAMA_MEDIUM_MAX,
    AS_LLAMA_PARTIAL_MIN_LINES,
    AS_LLAMA_TICK_INTERVAL,
    AS_LLAMA_DEADLINE_MULTIPLIER,
    AS_LLAMA_RECYCLE,
    AS_LLAMA_RECYCLE_OPEN,
    AS_LLAMA_RECYCLE_ORDER,
    AS_LLAMA_RETURN,
    AS_LLAMA_SUBRELEASE,
    AS_LLAMA_HUGEPAGE_HINT,
    AS_LLAMA_UNKNOWN_CLASS,
    AS_LLAMA_OPEN_BLOCKS,
    AS_LLAMA_MAX_CPUS,
    AS_LLAMA_NPARAMS
};

/* as_llama_page_class: for tests and plots: the lifetime class of the huge
 * page holding addr. @return the class, or -1 when addr is on no page. */
int as_llama_page_class(void *state, uintptr_t addr);

/* as_llama_debug_corrupt: for tests of the check hook only: flip the
 * freemap bit of block 0 of the first block-structured page.
 * @return 0, or AS_EINVAL when there is no such page. */
int as_llama_debug_corrupt(void *state);

#endif /* AS_POLICIES_LLAMA_LLAMA_H */

/* phys.h - simulated physical memory: a buddy allocator below the simulated
 * processes.
 *
 * Type map
 *   as_phys_t           one machine's physical memory, shared by every
 *                       simulated process (as_simos_t) and background tenant
 *                       attached to it
 *   as_phys_config_t    its size
 *   as_phys_counters_t  exact counts: free pages, fallbacks, compaction,
 *                       deferred split, reclaim
 *   as_phys_owner_ops_t what an owner of frames (a simos, the tenants) lets
 *                       the machine do to them: migrate, reclaim
 *
 * Model (docs/simos.md, "Physical memory", holds the full statement):
 *   - Memory is an array of 4 KiB frames managed by a buddy allocator with
 *     orders 0..10 (AS_PHYS_MAX_ORDER). Every aligned block of 2^9 frames
 *     (a pageblock) carries a migrate type, movable or unmovable; a free
 *     block sits on the free list of its order and of its pageblock's type.
 *   - An allocation of order k and type t takes the smallest free block of
 *     order >= k of type t, splitting it; when type t has none it falls back
 *     to the other type's largest free block and may steal the pageblock
 *     (change its type), as Linux's mm/page_alloc.c does.
 *   - Every allocated frame records its owner and a 64-bit tag the owner
 *     chose (a simos: the virtual page; the tenants: a slot), so compaction
 *     can migrate a movable frame and tell its owner where it went.
 *   - Compaction (as_phys_compact) empties one pageblock by migrating its
 *     movable frames into free frames elsewhere, to make a free order-9
 *     block; its cost is counted in pages migrated.
 *   - The deferred split queue holds huge pages (order-9 blocks) that a
 *     process mapped only in part after a partial unmap: their unmapped
 *     frames stay allocated until pressure (an allocation that fails) makes
 *     the shrinker free them, as Linux's deferred_split_scan does.
 *   - The unusable-free-space index and the fragmentation index of an order
 *     are computed from the free counts exactly as mm/vmstat.c does, in
 *     thousandths.
 * Everything is deterministic: no clock, no randomness, no host address.
 */
#ifndef AS_SIM_PHYS_H
#define AS_SIM_PHYS_H

#include <stddef.h>
#include <stdint.h>

#define AS_PHYS_MAX_ORDER 10u      /* orders 0..10, as MAX_ORDER in Linux */
#define AS_PHYS_ORDERS 11u         /* number of orders */
#define AS_PHYS_PAGEBLOCK_ORDER 9u /* a pageblock (and a huge page): 2 MiB */
#define AS_PHYS_PAGE_BYTES 4096u   /* one frame */
#define AS_PHYS_MAX_OWNERS 255u    /* owners attached at once */
#define AS_PHYS_MAX_BYTES (1ull << 40) /* largest memory: 1 TiB */

typedef enum {
    AS_MT_UNMOVABLE = 0, /* slab, other kernels' data: never migrated */
    AS_MT_MOVABLE = 1,   /* anonymous memory, page cache: can migrate */
    AS_MT_COUNT = 2
} as_migratetype_t;

typedef struct {
    /* Size of physical memory; a non-zero multiple of 4 MiB (one order-10
     * block), at most AS_PHYS_MAX_BYTES. */
    uint64_t mem_bytes;
} as_phys_config_t;

typedef struct {
    uint64_t total_pages;             /* frames */
    uint64_t free_pages;              /* frames on a free list */
    uint64_t used_pages[AS_MT_COUNT]; /* allocated frames, by type asked */
    uint64_t allocs;                  /* successful allocations (any order) */
    uint64_t alloc_failures;          /* allocations that found no block */
    uint64_t fallbacks;               /* served from the other type's lists */
    uint64_t steals;                  /* pageblocks whose type changed */
    uint64_t compactions;             /* as_phys_compact runs */
    uint64_t compact_successes;       /* runs that produced a free block */
    uint64_t pages_migrated;          /* frames moved by compaction */
    uint64_t deferred_split_bytes;    /* unmapped bytes held on the queue now */
    uint64_t peak_deferred_split_bytes;
    uint64_t deferred_split_freed_bytes; /* freed by the shrinker, in all */
    uint64_t deferred_splits;            /* huge pages put on the queue */
    uint64_t reclaimed_pages;            /* freed by owners' reclaim hooks */
    uint64_t kcompactd_runs;             /* wake-ups of kcompactd that worked */
    uint64_t host_bytes;                 /* host memory of this model (frame
                                          table, pageblock table, owners) */
} as_phys_counters_t;

/* What an owner lets the machine do with its frames. Either hook may be
 * NULL. Called only from inside as_phys_* functions. */
typedef struct {
    /* The movable frame the owner holds under `tag` now lives at new_frame
     * (compaction moved its content). */
    void (*migrated)(void *state, uint64_t tag, uint64_t new_frame);
    /* Free up to `pages` frames the owner can drop (page cache);
     * @return frames freed. */
    uint64_t (*reclaim)(void *state, uint64_t pages);
    void *state;
} as_phys_owner_ops_t;

typedef struct as_phys as_phys_t;

/* as_phys_create: all memory free, every pageblock movable.
 * @return 0, AS_EINVAL (size 0, not a multiple of 4 MiB, above 1 TiB) or
 * AS_ENOMEM. */
int as_phys_create(const as_phys_config_t *cfg, as_phys_t **phys);

/* as_phys_destroy: frees the model (owners must not use it afterwards). */
void as_phys_destroy(as_phys_t *phys);

/* as_phys_owner_add: register an owner of frames (a simos, the tenants).
 * @return 0 with *id set, AS_ENOSPACE when AS_PHYS_MAX_OWNERS are attached,
 * AS_ENOMEM. */
int as_phys_owner_add(as_phys_t *phys, const as_phys_owner_ops_t *ops,
                      uint32_t *id);

/* as_phys_owner_remove: the owner's frames must all be freed already.
 * @return 0, or AS_EINVAL when it still holds frames. */
int as_phys_owner_remove(as_phys_t *phys, uint32_t id);

/* as_phys_owner_frames: @return the frames owner id holds (frames of a huge
 * page on the deferred split queue that it unmapped are not its any more). */
uint64_t as_phys_owner_frames(const as_phys_t *phys, uint32_t id);

/* as_phys_alloc: one block of 2^order frames of migrate type mt for owner,
 * frame i of it tagged tag + i. No reclaim, no compaction (the caller
 * decides: as_phys_reclaim, as_phys_compact).
 * @return 0 with *frame = first frame, AS_ENOMEM when no block is free,
 * AS_EINVAL on a bad order, type or owner. */
int as_phys_alloc(as_phys_t *phys, uint32_t owner, unsigned order,
                  as_migratetype_t mt, uint64_t tag, uint64_t *frame);

/* as_phys_free: give back frames [frame, frame + 2^order), all allocated.
 * Buddies merge. Freeing some frames (order < 9) of an unsplit huge page
 * puts it on the deferred split queue (if not there yet) and marks them
 * unused; the whole huge page is freed when its last frame is. */
void as_phys_free(as_phys_t *phys, uint64_t frame, unsigned order);

/* as_phys_retag: the allocated frame now stands for `tag` (its owner mapped
 * it elsewhere; used when a huge page is split). */
void as_phys_retag(as_phys_t *phys, uint64_t frame, uint64_t tag);

/* as_phys_compound_split: frames [frame, frame + 512) were allocated as one
 * huge page and become independent 4 KiB frames (each can now be freed or
 * migrated alone). */
void as_phys_compound_split(as_phys_t *phys, uint64_t frame);

/* as_phys_defer_split: the huge page at frame (order 9, allocated, compound)
 * was partly unmapped; its frames listed in `unmapped` (a 512-bit map, bit
 * i = frame + i) are no longer used by their owner but stay allocated on the
 * deferred split queue until pressure. The others stay with the owner as
 * 4 KiB frames. */
void as_phys_defer_split(as_phys_t *phys, uint64_t frame,
                         const uint64_t unmapped[8]);

/* as_phys_reclaim: free at least `pages` frames if the model can: first the
 * deferred split queue (oldest first), then the owners' reclaim hooks.
 * @return frames freed. */
uint64_t as_phys_reclaim(as_phys_t *phys, uint64_t pages);

/* as_phys_compact: direct compaction for one free block of `order`: when
 * none is free, pick the pageblock with the fewest movable frames and no
 * pinned frame (unmovable, or part of a huge page) whose movable frames fit
 * in the free frames elsewhere (the lowest on ties), and migrate them out,
 * so the pageblock becomes one free order-9 block. Order 10 is not
 * compacted for. @return 1 when a free block of that order exists
 * afterwards, 0 otherwise (nothing moved when no pageblock qualified). */
int as_phys_compact(as_phys_t *phys, unsigned order);

/* as_phys_wake_kcompactd: a deferred fault asks for background compaction
 * of an order-9 block. */
void as_phys_wake_kcompactd(as_phys_t *phys);

/* as_phys_kcompactd: one kcompactd wake-up (an engine timer): when woken,
 * compact for one order-9 block. @return 1 when it compacted. */
int as_phys_kcompactd(as_phys_t *phys);

/* as_phys_free_blocks: /proc/buddyinfo: free blocks of each order (both
 * types together) into counts[AS_PHYS_ORDERS]. */
void as_phys_free_blocks(const as_phys_t *phys, uint64_t *counts);

/* as_phys_free_blocks_mt: the same for one migrate type
 * (/proc/pagetypeinfo). */
void as_phys_free_blocks_mt(const as_phys_t *phys, as_migratetype_t mt,
                            uint64_t *counts);

/* as_phys_unusable_index: mm/vmstat.c unusable_free_index for `order`, in
 * thousandths (0..1000): the share of free memory in blocks smaller than
 * 2^order; 1000 when nothing is free. */
int as_phys_unusable_index(const as_phys_t *phys, unsigned order);

/* as_phys_fragmentation_index: mm/vmstat.c __fragmentation_index for
 * `order`, in thousandths: -1000 when a block of that order is free, 0 when
 * nothing is free, otherwise toward 0 a failure from lack of memory and
 * toward 1000 a failure from fragmentation. */
int as_phys_fragmentation_index(const as_phys_t *phys, unsigned order);

/* as_phys_pageblock_type: the migrate type of the pageblock holding frame. */
as_migratetype_t as_phys_pageblock_type(const as_phys_t *phys, uint64_t frame);

/* as_phys_frame_owner: for tests: 1 and owner/tag when frame is allocated,
 * 0 when free. */
int as_phys_frame_owner(const as_phys_t *phys, uint64_t frame, uint32_t *owner,
                        uint64_t *tag);

const as_phys_counters_t *as_phys_counters(const as_phys_t *phys);

/* as_phys_check: whole-state invariant check (tests): free lists agree with
 * the frame table, buddies of free blocks are never both free, counters
 * equal recounts, the deferred queue's frames are allocated.
 * @return 0 or AS_ECHECK. */
int as_phys_check(const as_phys_t *phys);

#endif /* AS_SIM_PHYS_H */

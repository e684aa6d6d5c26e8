/* superblock.h - superblock descriptors and heaps of superblocks.
 *
 * Type map
 *   as_superblock_t  one S-byte, S-aligned piece of address space carved into
 *                    equal blocks of one size class. The descriptor lives in
 *                    metadata, never inside the superblock (policy rule 1).
 *   as_sbheap_t      the superblocks one heap owns, sorted into fullness
 *                    bins per size class, plus one list of empty superblocks
 *                    of any class (an empty superblock may be reformatted).
 *
 * Fullness bins (as in Hoard's source): bin 0 = empty (the heap's `empty`
 * list, shared by all classes), bins 1..AS_SB_BINS-2 = partly used,
 * by used/capacity in equal steps, bin AS_SB_BINS-1 = full.
 *   bin(sb) = 0                                  if used == 0
 *           = AS_SB_BINS-1                       if used == capacity
 *           = 1 + used*(AS_SB_BINS-2)/capacity   otherwise
 * A superblock is the head of its bin right after it enters it, so within a
 * bin the most recently touched superblock is found first.
 *
 * Invariants of an as_sbheap_t h (checked by as_sbheap_check):
 *   every superblock sb on h's lists has sb->owner == h->id and sits in
 *   the list of bin(sb) of class sb->sclass (or in h->empty when used == 0);
 *   h->n_superblocks == number of superblocks on its lists;
 *   h->a_bytes == h->n_superblocks * h->sb_bytes            (Hoard's a_i)
 *   h->u_bytes == sum over its superblocks of used * block_bytes  (u_i)
 *   per class c: cls[c].n_superblocks and cls[c].u_bytes count the same
 *   over the superblocks of class c (empty ones included), so the sums over
 *   c equal h->n_superblocks - (unformatted ones: none) and h->u_bytes.
 *   for every superblock: used == popcount(slots) <= capacity
 *                         == sb_bytes / block_bytes.
 *   cls[c].partial holds exactly the superblocks of bins 1..AS_SB_BINS-2 of
 *   class c, ordered by base, each with the least `used` of its subtree.
 * Cost: take, put, insert, remove O(log n) (the partial tree); fullest
 * O(bins); emptiest O(classes); emptiest_of O(empty superblocks of other
 * classes ahead on h->empty).
 */
#ifndef AS_POLICIES_BLOCKS_SUPERBLOCK_H
#define AS_POLICIES_BLOCKS_SUPERBLOCK_H

#include <stddef.h>
#include <stdint.h>

#include "policies/pagesource.h"
#include "policies/blocks/freelist.h"
#include "policies/blocks/rbtree.h"

#define AS_SB_BINS 10
#define AS_SB_NO_CLASS (-1)

typedef struct as_superblock {
    uintptr_t base;             /* first byte; a multiple of sb_bytes */
    int32_t owner;              /* id of the heap holding it */
    int32_t sclass;             /* size class, AS_SB_NO_CLASS before the
                                   first format */
    uint32_t block_bytes;       /* size of each block (class size) */
    uint32_t bin;               /* current fullness bin (see above) */
    as_slotmap_t slots;         /* capacity and in-use bitmap */
    struct as_superblock *prev; /* neighbours in its bin list */
    struct as_superblock *next;
    as_rb_node_t pnode;    /* in its class's `partial` tree while partly used */
    uint32_t sub_min_used; /* least `used` of its subtree there */
    uint64_t bits[];       /* slot words: sb_bytes/16/64 of them */
} as_superblock_t;

/* Bytes of metadata one descriptor takes for superblocks of sb_bytes. */
static inline size_t as_superblock_meta_bytes(uint64_t sb_bytes)
{
    return sizeof(as_superblock_t) + (size_t)((sb_bytes / 16 + 63) / 64) * 8;
}

/* as_superblock_new: a descriptor for [base, base+sb_bytes), unformatted,
 * owned by nobody (owner -1). @return it, or NULL (arena exhausted). */
as_superblock_t *as_superblock_new(const as_mem_t *mem, uintptr_t base,
                                   uint64_t sb_bytes);

/* as_superblock_delete: return the descriptor to the arena. */
void as_superblock_delete(const as_mem_t *mem, as_superblock_t *sb,
                          uint64_t sb_bytes);

/* as_superblock_slot_of: @return the slot index holding addr (any address
 * inside the block), or -1 when addr lies beyond the last whole block. */
static inline int64_t as_superblock_slot_of(const as_superblock_t *sb,
                                            uintptr_t addr)
{
    uint64_t i = (addr - sb->base) / sb->block_bytes;
    return i < sb->slots.capacity ? (int64_t)i : -1;
}

typedef struct {
    as_superblock_t *bins[AS_SB_BINS]; /* bins[0] unused: see h->empty */
    as_rb_atree_t partial;  /* bins 1..AS_SB_BINS-2 by base, augmented with
                              the least `used` of each subtree */
    uint64_t n_superblocks; /* of this class, empty ones included */
    uint64_t u_bytes;       /* block bytes in use in them */
} as_sbclass_t;

typedef struct {
    int32_t id; /* heap number, stored in sb->owner */
    uint32_t n_classes;
    uint64_t sb_bytes;      /* S */
    as_sbclass_t *cls;      /* n_classes entries (arena) */
    as_superblock_t *empty; /* superblocks with used == 0, any class */
    uint64_t n_superblocks; /* on all lists */
    uint64_t n_empty;       /* on the empty list */
    uint64_t a_bytes;       /* n_superblocks * sb_bytes */
    uint64_t u_bytes;       /* block bytes in use */
    const as_mem_t *mem;
} as_sbheap_t;

/* as_sbheap_init: an empty heap. @return 0 or AS_ENOMEM. */
int as_sbheap_init(as_sbheap_t *h, const as_mem_t *mem, int32_t id,
                   uint32_t n_classes, uint64_t sb_bytes);

/* as_sbheap_fini: free the class table (not the superblocks: the caller
 * owns their descriptors and memory). */
void as_sbheap_fini(as_sbheap_t *h);

/* as_sbheap_insert: sb joins h (owner = h->id) in the bin its use says;
 * a_bytes and u_bytes grow by its share. */
void as_sbheap_insert(as_sbheap_t *h, as_superblock_t *sb);

/* as_sbheap_remove: sb leaves h (owner = -1). */
void as_sbheap_remove(as_sbheap_t *h, as_superblock_t *sb);

/* as_superblock_format: give the empty superblock sb (not on any list) size
 * class c with blocks of block_bytes: capacity = sb_bytes / block_bytes,
 * all slots free. */
void as_superblock_format(as_superblock_t *sb, uint64_t sb_bytes, int32_t c,
                          uint32_t block_bytes);

/* as_sbheap_take_block: take the lowest free block of sb, which h owns and
 * which is not full. @return its address. */
uintptr_t as_sbheap_take_block(as_sbheap_t *h, as_superblock_t *sb);

/* as_sbheap_put_block: free the block at addr in sb (owned by h).
 * @return 0, or AS_EINVAL when addr is not the start of a block in use. */
int as_sbheap_put_block(as_sbheap_t *h, as_superblock_t *sb, uintptr_t addr);

/* as_sbheap_fullest: @return the head of the fullest non-empty bin of class c
 * that still has a free block (bins AS_SB_BINS-2 down to 1), or NULL. */
as_superblock_t *as_sbheap_fullest(const as_sbheap_t *h, int32_t c);

/* as_sbheap_any_empty: @return an empty superblock (the head of h->empty) or
 * NULL. */
static inline as_superblock_t *as_sbheap_any_empty(const as_sbheap_t *h)
{
    return h->empty;
}

/* as_sbheap_emptiest: @return the superblock with the smallest used/capacity
 * (ties: lowest base address) among those not full, or NULL. An empty
 * superblock wins at once. Compares each class's emptiest, the lowest-base
 * superblock of least `used` in its partial tree (one capacity per class,
 * so that is the least used/capacity). */
as_superblock_t *as_sbheap_emptiest(const as_sbheap_t *h);

/* as_sbheap_emptiest_of: like as_sbheap_emptiest, among the superblocks of
 * class c only (an empty one of class c first, found on h->empty). */
as_superblock_t *as_sbheap_emptiest_of(const as_sbheap_t *h, int32_t c);

/* as_sbheap_check: verify every invariant above. @return 0 or AS_ECHECK. */
int as_sbheap_check(const as_sbheap_t *h);

#endif /* AS_POLICIES_BLOCKS_SUPERBLOCK_H */

/* freelist.h - out-of-band free lists: slot bitmaps and address stacks.
 *
 * Type map
 *   as_slotmap_t   one bit per slot of a superblock or span: 1 = in use.
 *                  Used to hand out the lowest free slot and to catch double
 *                  frees. Its words live wherever the owner puts them (the
 *                  superblock descriptor allocates them from the arena).
 *   as_addrstack_t a LIFO of free block addresses kept in metadata chunks,
 *                  for allocators whose free lists are not tied to one
 *                  superblock (pure private heaps: a block freed on CPU j
 *                  joins CPU j's list wherever it lives).
 *
 * Policy rule 1 says a policy never writes into memory it hands out, so none
 * of these lists is intrusive: a real allocator would thread the list through
 * the free blocks; here every link lives in the metadata arena.
 *
 * Invariants
 *   slotmap:   used == popcount(bits[0..words)), 0 <= used <= capacity,
 *              bits at positions >= capacity are 0.
 *   addrstack: n == sum of entries over its chunks; pop returns the most
 *              recently pushed address (LIFO, as an intrusive list would).
 */
#ifndef AS_POLICIES_BLOCKS_FREELIST_H
#define AS_POLICIES_BLOCKS_FREELIST_H

#include <stddef.h>
#include <stdint.h>

#include "policies/pagesource.h"

typedef struct {
    uint64_t *bits;    /* ceil(capacity/64) words, 1 = slot in use */
    uint32_t capacity; /* slots */
    uint32_t used;     /* slots whose bit is 1 */
    uint32_t hint;     /* no free slot below word `hint` */
} as_slotmap_t;

/* as_slotmap_words: @return the words a slotmap of `capacity` slots needs. */
static inline uint32_t as_slotmap_words(uint32_t capacity)
{
    return (capacity + 63) / 64;
}

/* as_slotmap_reset: all `capacity` slots free. `bits` must hold
 * as_slotmap_words(capacity) words. */
void as_slotmap_reset(as_slotmap_t *s, uint64_t *bits, uint32_t capacity);

/* as_slotmap_take: mark the lowest free slot used.
 * @return its index, or -1 when all slots are in use. */
int64_t as_slotmap_take(as_slotmap_t *s);

/* as_slotmap_set: mark slot i used. @return 0, or AS_EINVAL if already used
 * or out of range. */
int as_slotmap_set(as_slotmap_t *s, uint32_t i);

/* as_slotmap_put: mark slot i free. @return 0, or AS_EINVAL when slot i was
 * not in use (double free) or is out of range. */
int as_slotmap_put(as_slotmap_t *s, uint32_t i);

/* as_slotmap_test: @return 1 when slot i is in use. */
static inline int as_slotmap_test(const as_slotmap_t *s, uint32_t i)
{
    return i < s->capacity && (s->bits[i >> 6] >> (i & 63)) & 1;
}

/* as_slotmap_check: recount the bits. @return 0 or AS_ECHECK. */
int as_slotmap_check(const as_slotmap_t *s);

/* ------------------------------------------------------------ addrstack */

typedef struct as_addrchunk as_addrchunk_t;

typedef struct {
    as_addrchunk_t *top;   /* chunk holding the newest entries */
    as_addrchunk_t *spare; /* one empty chunk kept to avoid churn */
    uint64_t n;            /* addresses held */
    const as_mem_t *mem;
} as_addrstack_t;

void as_addrstack_init(as_addrstack_t *st, const as_mem_t *mem);

/* as_addrstack_push: @return 0 or AS_ENOMEM. */
int as_addrstack_push(as_addrstack_t *st, uintptr_t addr);

/* as_addrstack_pop: @return 1 and the newest address in *addr, or 0 when
 * empty. */
int as_addrstack_pop(as_addrstack_t *st, uintptr_t *addr);

/* as_addrstack_fini: return every chunk to the arena. */
void as_addrstack_fini(as_addrstack_t *st);

#endif /* AS_POLICIES_BLOCKS_FREELIST_H */

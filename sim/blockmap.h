/* blockmap.h - which bytes of the simulated address space live blocks
 * occupy: the index behind the default (light) check's overlap test.
 *
 * Type map
 *   as_blockmap_t  a hashed, page-granular occupancy index: for every 4 KiB
 *                  page holding a byte of a live block, one bit per 8-byte
 *                  granule (a 64-byte bitmap); for the rare granule that
 *                  live blocks cover only in part, the exact byte mask
 *
 * Invariants
 *   - granule g's bit is set  <=>  some byte of g lies in a live block;
 *   - g has a partial entry   <=>  its bit is set and the bytes in live
 *     blocks are not all 8 (the entry holds which ones: mask != 0, != 0xFF);
 *   - a page has an entry     <=>  some bit of it is set.
 * So the index is exact to the byte: two blocks may share a granule, and
 * only bytes covered twice are an overlap. Policies that keep 8-byte
 * granularity (all the registered ones) never create a partial entry.
 *
 * Cost: adding or removing a block of n < 1 MiB bytes touches
 * ceil(n / 4 KiB) pages (one hash probe each, usually one cache line) and
 * at most two partial entries, plus a binary search of the big blocks
 * (none in most runs). A block of 1 MiB or more is kept whole in a sorted
 * array of big blocks (O(big) to insert, few of them live at once) and is
 * checked against the pages by probing the pages of its range or, when
 * the range holds more pages than the table, by one walk of the table: a
 * 1 TiB block costs no more than the live small blocks. Memory: ~72 bytes
 * per page holding live bytes of small blocks (about 2% of them when pages
 * are full), 16 bytes per big block, host memory.
 */
#ifndef AS_SIM_BLOCKMAP_H
#define AS_SIM_BLOCKMAP_H

#include <stddef.h>
#include <stdint.h>

/* One open-addressing table: entries of `stride` bytes whose first 8 bytes
 * are the key + 1 (0 marks an empty slot). Private to blockmap.c. */
typedef struct {
    unsigned char *slots;
    size_t stride;  /* bytes per entry */
    uint64_t mask;  /* capacity - 1 (a power of two), or 0 when empty */
    uint64_t count; /* occupied slots */
} as_bm_table_t;

/* Blocks of at least this many bytes are kept whole in `big` (a sorted
 * array of disjoint intervals) instead of page by page. */
#define AS_BLOCKMAP_BIG_BYTES (1ull << 20)

typedef struct {
    uint64_t start, end; /* [start, end) */
} as_bm_interval_t;

typedef struct {
    as_bm_table_t pages;   /* page number -> 512-bit granule bitmap */
    as_bm_table_t partial; /* granule number -> byte mask */
    as_bm_interval_t *big; /* blocks >= AS_BLOCKMAP_BIG_BYTES, by start */
    size_t n_big, cap_big;
} as_blockmap_t;

/* as_blockmap_init: an empty index (allocates nothing yet). */
void as_blockmap_init(as_blockmap_t *m);
void as_blockmap_destroy(as_blockmap_t *m);

/* as_blockmap_add: record [addr, addr + bytes) as live (bytes >= 1, no
 * wrap-around). @return 0; AS_ECHECK when some byte of it is already live
 * (nothing is recorded then, and *overlap_addr, when not NULL, receives
 * the first such byte's granule address); AS_ENOMEM. */
int as_blockmap_add(as_blockmap_t *m, uint64_t addr, uint64_t bytes,
                    uint64_t *overlap_addr);

/* as_blockmap_remove: forget [addr, addr + bytes), added before as one
 * block or a union of blocks. @return 0, or AS_ECHECK when a granule of
 * it holds no live byte (a caller's bookkeeping error; the index is then
 * left as it was for that granule). */
int as_blockmap_remove(as_blockmap_t *m, uint64_t addr, uint64_t bytes);

/* as_blockmap_pages: @return pages holding live bytes (tests). */
uint64_t as_blockmap_pages(const as_blockmap_t *m);

/* as_blockmap_bytes: @return host bytes the index holds (tables). */
uint64_t as_blockmap_bytes(const as_blockmap_t *m);

#endif /* AS_SIM_BLOCKMAP_H */

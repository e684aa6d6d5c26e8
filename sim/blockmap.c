/* blockmap.c - the occupancy index of live blocks (see blockmap.h).
 *
 * Owns two open-addressing tables in host memory (this is the simulator's
 * bookkeeping, not a policy's metadata): pages, keyed by page number, each
 * holding a 512-bit bitmap of 8-byte granules; and partial, keyed by
 * granule number, holding the byte mask of a granule live blocks cover in
 * part. Both use linear probing with backward-shift deletion and double at
 * 3/4 load. Every operation first verifies, then changes, so a refused add
 * or remove leaves the index as it was.
 */
#include "sim/blockmap.h"

#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/util.h"

#define GRANULE_SHIFT 3      /* 8-byte granules */
#define PAGE_GRANULE_SHIFT 9 /* 512 granules per 4 KiB page */
#define FULL 0xFFu

typedef struct {
    uint64_t key; /* page number + 1 */
    uint64_t bits[8];
} page_t;

typedef struct {
    uint64_t key;  /* granule number + 1 */
    uint64_t mask; /* bytes of the granule in live blocks */
} partial_t;

/* ---- one open-addressing table ---- */

static inline uint64_t slot_key(const as_bm_table_t *t, uint64_t i)
{
    uint64_t k;
    memcpy(&k, t->slots + i * t->stride, sizeof k);
    return k;
}

static void *tbl_find(const as_bm_table_t *t, uint64_t key)
{
    if (!t->count) return NULL;
    uint64_t i = as_hash64(key) & t->mask;
    for (;;) {
        uint64_t k = slot_key(t, i);
        if (k == key + 1) return t->slots + i * t->stride;
        if (!k) return NULL;
        i = (i + 1) & t->mask;
    }
}

static void *tbl_place(as_bm_table_t *t, uint64_t key)
{
    uint64_t i = as_hash64(key) & t->mask;
    while (slot_key(t, i))
        i = (i + 1) & t->mask;
    unsigned char *s = t->slots + i * t->stride;
    uint64_t k = key + 1;
    memcpy(s, &k, sizeof k);
    return s;
}

static int tbl_grow(as_bm_table_t *t)
{
    uint64_t cap = t->slots ? (t->mask + 1) * 2 : 64;
    as_bm_table_t n = {calloc(cap, t->stride), t->stride, cap - 1, t->count};
    if (!n.slots) return AS_ENOMEM;
    for (uint64_t i = 0; t->slots && i <= t->mask; i++) {
        uint64_t k = slot_key(t, i);
        if (k)
            memcpy(tbl_place(&n, k - 1), t->slots + i * t->stride, t->stride);
    }
    free(t->slots);
    *t = n;
    return AS_OK;
}

/* The entry of key, inserted zeroed when absent; NULL when out of memory. */
static void *tbl_get(as_bm_table_t *t, uint64_t key)
{
    void *s = tbl_find(t, key);
    if (s) return s;
    if ((!t->slots || (t->count + 1) * 4 > (t->mask + 1) * 3) &&
        tbl_grow(t) != AS_OK)
        return NULL;
    t->count++;
    return tbl_place(t, key);
}

/* Remove the entry at s (from tbl_find or tbl_get). */
static void tbl_erase(as_bm_table_t *t, void *s)
{
    uint64_t hole = (uint64_t)((unsigned char *)s - t->slots) / t->stride;
    uint64_t j = hole;
    for (;;) {
        j = (j + 1) & t->mask;
        uint64_t k = slot_key(t, j);
        if (!k) break;
        uint64_t h = as_hash64(k - 1) & t->mask;
        int movable = hole <= j ? (h <= hole || h > j) : (h <= hole && h > j);
        if (movable) {
            memcpy(t->slots + hole * t->stride, t->slots + j * t->stride,
                   t->stride);
            hole = j;
        }
    }
    memset(t->slots + hole * t->stride, 0, t->stride);
    t->count--;
}

/* ---- granules ---- */

void as_blockmap_init(as_blockmap_t *m)
{
    memset(m, 0, sizeof *m);
    m->pages.stride = sizeof(page_t);
    m->partial.stride = sizeof(partial_t);
}

void as_blockmap_destroy(as_blockmap_t *m)
{
    free(m->pages.slots);
    free(m->partial.slots);
    free(m->big);
    as_blockmap_init(m);
}

/* The bytes of granule g inside [a, e), as a mask (bit i: byte i). */
static unsigned gmask(uint64_t g, uint64_t a, uint64_t e)
{
    uint64_t gs = g << GRANULE_SHIFT;
    unsigned lo = a > gs ? (unsigned)(a - gs) : 0;
    unsigned hi = e < gs + 8 ? (unsigned)(e - gs) : 8;
    return (FULL >> (8 - hi)) & ~((1u << lo) - 1) & FULL;
}

/* The bytes of granule g that live blocks occupy. */
static unsigned occupied(const as_blockmap_t *m, uint64_t g)
{
    const page_t *p = tbl_find(&m->pages, g >> PAGE_GRANULE_SHIFT);
    if (!p || !(p->bits[(g >> 6) & 7] >> (g & 63) & 1)) return 0;
    const partial_t *q = tbl_find(&m->partial, g);
    return q ? (unsigned)q->mask : FULL;
}

/* Set granule g's occupied bytes to `bytes` (0..0xFF). @return 0 or
 * AS_ENOMEM. */
static int set_occupied(as_blockmap_t *m, uint64_t g, unsigned bytes)
{
    page_t *p = tbl_get(&m->pages, g >> PAGE_GRANULE_SHIFT);
    if (!p) return AS_ENOMEM;
    uint64_t bit = 1ull << (g & 63);
    partial_t *q = tbl_find(&m->partial, g);
    if (bytes == 0 || bytes == FULL) {
        if (q) tbl_erase(&m->partial, q);
    } else {
        if (!q && !(q = tbl_get(&m->partial, g))) return AS_ENOMEM;
        q->mask = bytes;
    }
    if (bytes) {
        p->bits[(g >> 6) & 7] |= bit;
    } else {
        p->bits[(g >> 6) & 7] &= ~bit;
        uint64_t any = 0;
        for (int w = 0; w < 8; w++)
            any |= p->bits[w];
        if (!any) tbl_erase(&m->pages, p);
    }
    return AS_OK;
}

enum { OP_ANY_SET, OP_ALL_SET, OP_SET, OP_CLEAR };

/* Apply op to the whole granules [g0, g1] page by page. OP_ANY_SET:
 * @return 1 and the first set granule in *first when one is set; OP_ALL_SET:
 * @return 1 when every one is set; OP_SET/OP_CLEAR: @return 0 or AS_ENOMEM. */
static int range_op(as_blockmap_t *m, uint64_t g0, uint64_t g1, int op,
                    uint64_t *first)
{
    for (uint64_t g = g0; g <= g1;) {
        uint64_t page = g >> PAGE_GRANULE_SHIFT;
        uint64_t end = ((page + 1) << PAGE_GRANULE_SHIFT) - 1;
        if (end > g1) end = g1;
        page_t *p =
            op == OP_SET ? tbl_get(&m->pages, page) : tbl_find(&m->pages, page);
        if (!p) {
            if (op == OP_SET) return AS_ENOMEM;
            if (op == OP_ALL_SET) return 0;
            g = end + 1;
            continue;
        }
        for (uint64_t w = g >> 6; w <= end >> 6; w++) {
            unsigned lo = w == g >> 6 ? (unsigned)(g & 63) : 0;
            unsigned hi = w == end >> 6 ? (unsigned)(end & 63) : 63;
            uint64_t wm = (~0ull >> (63 - hi)) & (~0ull << lo);
            uint64_t *word = &p->bits[w & 7];
            if (op == OP_ANY_SET && (*word & wm)) {
                *first = (w << 6) + (uint64_t)__builtin_ctzll(*word & wm);
                return 1;
            }
            if (op == OP_ALL_SET && (*word & wm) != wm) return 0;
            if (op == OP_SET) *word |= wm;
            if (op == OP_CLEAR) *word &= ~wm;
        }
        if (op == OP_CLEAR) {
            uint64_t any = 0;
            for (int w = 0; w < 8; w++)
                any |= p->bits[w];
            if (!any) tbl_erase(&m->pages, p);
        }
        if (end == UINT64_MAX) break;
        g = end + 1;
    }
    return op == OP_ALL_SET ? 1 : 0;
}

/* The block's granules: edges (granules it covers in part, at most two)
 * and the whole ones between them (*w0 > *w1 when none). */
typedef struct {
    uint64_t g[2];
    unsigned mask[2];
    int n;
    uint64_t w0, w1;
} shape_t;

static void shape_of(uint64_t a, uint64_t e, shape_t *s)
{
    uint64_t ga = a >> GRANULE_SHIFT, gb = (e - 1) >> GRANULE_SHIFT;
    unsigned ma = gmask(ga, a, e), mb = gmask(gb, a, e);
    s->n = 0;
    s->w0 = ga;
    s->w1 = gb;
    if (ma != FULL) {
        s->g[s->n] = ga;
        s->mask[s->n++] = ma;
        s->w0 = ga + 1;
    }
    if (gb != ga && mb != FULL) {
        s->g[s->n] = gb;
        s->mask[s->n++] = mb;
        s->w1 = gb - 1;
    } else if (gb == ga && ma != FULL) {
        s->w1 = ga; /* w0 = ga + 1: no whole granule */
    }
}

/* Look the block's edge granules up once: their occupancy in occ[].
 * @return 1 (the first clash's granule address in *overlap_addr) when an
 * edge already holds a byte the block covers. */
static int edges_clash(const as_blockmap_t *m, const shape_t *s,
                       unsigned occ[2], uint64_t *overlap_addr)
{
    for (int i = 0; i < s->n; i++) {
        occ[i] = occupied(m, s->g[i]);
        if (occ[i] & s->mask[i]) {
            if (overlap_addr) *overlap_addr = s->g[i] << GRANULE_SHIFT;
            return 1;
        }
    }
    return 0;
}

static int add_small(as_blockmap_t *m, uint64_t addr, uint64_t bytes,
                     uint64_t *overlap_addr);

/* ---- big blocks ---- */

/* The first big block that ends after a (n_big when none). */
static size_t big_after(const as_blockmap_t *m, uint64_t a)
{
    size_t lo = 0, hi = m->n_big;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (m->big[mid].end <= a)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* 1 when a big block holds a byte of [a, e); its first such byte in *at. */
static int big_overlaps(const as_blockmap_t *m, uint64_t a, uint64_t e,
                        uint64_t *at)
{
    if (!m->n_big) return 0;
    size_t i = big_after(m, a);
    if (i == m->n_big || m->big[i].start >= e) return 0;
    *at = m->big[i].start > a ? m->big[i].start : a;
    return 1;
}

/* A set granule of small blocks in the whole granules [g0, g1]: by probing
 * each page of the range, or by one walk of the table when the range has
 * more pages than the table holds. @return 1 with the lowest in *first. */
static int pages_any_set(as_blockmap_t *m, uint64_t g0, uint64_t g1,
                         uint64_t *first)
{
    uint64_t p0 = g0 >> PAGE_GRANULE_SHIFT, p1 = g1 >> PAGE_GRANULE_SHIFT;
    if (p1 - p0 < m->pages.count || !m->pages.count)
        return m->pages.count ? range_op(m, g0, g1, OP_ANY_SET, first) : 0;
    int found = 0;
    for (uint64_t i = 0; i <= m->pages.mask; i++) {
        const page_t *p = (const page_t *)(m->pages.slots + i * sizeof *p);
        if (!p->key || p->key - 1 < p0 || p->key - 1 > p1) continue;
        uint64_t base = (p->key - 1) << PAGE_GRANULE_SHIFT;
        for (uint64_t w = 0; w < 8; w++) {
            uint64_t bits = p->bits[w];
            while (bits) {
                uint64_t g = base + w * 64 + (uint64_t)__builtin_ctzll(bits);
                bits &= bits - 1;
                if (g >= g0 && g <= g1 && (!found || g < *first)) {
                    *first = g;
                    found = 1;
                }
            }
        }
    }
    return found;
}

int as_blockmap_add(as_blockmap_t *m, uint64_t addr, uint64_t bytes,
                    uint64_t *overlap_addr)
{
    uint64_t e0 = addr + bytes, at = 0;
    if (bytes == 0 || e0 < addr) return AS_EINVAL;
    if (big_overlaps(m, addr, e0, &at)) {
        if (overlap_addr) *overlap_addr = at & ~7ull;
        return AS_ECHECK;
    }
    if (bytes < AS_BLOCKMAP_BIG_BYTES)
        return add_small(m, addr, bytes, overlap_addr);
    shape_t s;
    unsigned occ[2];
    shape_of(addr, e0, &s);
    if (edges_clash(m, &s, occ, overlap_addr)) return AS_ECHECK;
    if (s.w0 <= s.w1 && pages_any_set(m, s.w0, s.w1, &at)) {
        if (overlap_addr) *overlap_addr = at << GRANULE_SHIFT;
        return AS_ECHECK;
    }
    if (m->n_big == m->cap_big) {
        size_t nc = m->cap_big ? m->cap_big * 2 : 16;
        as_bm_interval_t *n = realloc(m->big, nc * sizeof *n);
        if (!n) return AS_ENOMEM;
        m->big = n;
        m->cap_big = nc;
    }
    size_t i = big_after(m, addr);
    memmove(&m->big[i + 1], &m->big[i], (m->n_big - i) * sizeof *m->big);
    m->big[i] = (as_bm_interval_t){addr, e0};
    m->n_big++;
    return AS_OK;
}

/* Add a block below AS_BLOCKMAP_BIG_BYTES, page by page. */
static int add_small(as_blockmap_t *m, uint64_t addr, uint64_t bytes,
                     uint64_t *overlap_addr)
{
    uint64_t first = 0;
    shape_t s;
    unsigned occ[2];
    shape_of(addr, addr + bytes, &s);
    if (edges_clash(m, &s, occ, overlap_addr)) return AS_ECHECK;
    if (s.w0 <= s.w1 && range_op(m, s.w0, s.w1, OP_ANY_SET, &first)) {
        if (overlap_addr) *overlap_addr = first << GRANULE_SHIFT;
        return AS_ECHECK;
    }
    if (s.w0 <= s.w1 && range_op(m, s.w0, s.w1, OP_SET, NULL) != AS_OK)
        return AS_ENOMEM;
    for (int i = 0; i < s.n; i++) /* the whole granules left occ as it was */
        if (set_occupied(m, s.g[i], occ[i] | s.mask[i]) != AS_OK)
            return AS_ENOMEM;
    return AS_OK;
}

int as_blockmap_remove(as_blockmap_t *m, uint64_t addr, uint64_t bytes)
{
    uint64_t e = addr + bytes;
    if (bytes == 0 || e < addr) return AS_EINVAL;
    if (bytes >= AS_BLOCKMAP_BIG_BYTES) {
        size_t i = big_after(m, addr);
        if (i == m->n_big || m->big[i].start != addr || m->big[i].end != e)
            return AS_ECHECK;
        memmove(&m->big[i], &m->big[i + 1],
                (m->n_big - i - 1) * sizeof *m->big);
        m->n_big--;
        return AS_OK;
    }
    shape_t s;
    unsigned occ[2];
    shape_of(addr, e, &s);
    for (int i = 0; i < s.n; i++)
        if (((occ[i] = occupied(m, s.g[i])) & s.mask[i]) != s.mask[i])
            return AS_ECHECK;
    if (s.w0 <= s.w1 && !range_op(m, s.w0, s.w1, OP_ALL_SET, NULL))
        return AS_ECHECK;
    if (s.w0 <= s.w1) range_op(m, s.w0, s.w1, OP_CLEAR, NULL);
    for (int i = 0; i < s.n; i++)
        if (set_occupied(m, s.g[i], occ[i] & ~s.mask[i]) != AS_OK)
            return AS_ENOMEM;
    return AS_OK;
}

uint64_t as_blockmap_pages(const as_blockmap_t *m)
{
    return m->pages.count;
}

uint64_t as_blockmap_bytes(const as_blockmap_t *m)
{
    uint64_t b = 0;
    if (m->pages.slots) b += (m->pages.mask + 1) * m->pages.stride;
    if (m->partial.slots) b += (m->partial.mask + 1) * m->partial.stride;
    b += m->cap_big * sizeof *m->big;
    return b;
}

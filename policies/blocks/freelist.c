/* freelist.c - slot bitmaps and out-of-band address stacks.
 *
 * Owns the bit twiddling behind "give me a free slot of this superblock" and
 * the chunked LIFO of addresses used by pure private heaps. Every byte it
 * keeps comes from the caller's as_mem_t; it never reads or writes the blocks
 * whose slots it tracks, and it calls nothing from libc.
 */
#include "policies/blocks/freelist.h"

#include "common/error.h"

void as_slotmap_reset(as_slotmap_t *s, uint64_t *bits, uint32_t capacity)
{
    uint32_t w = as_slotmap_words(capacity);
    for (uint32_t i = 0; i < w; i++)
        bits[i] = 0;
    s->bits = bits;
    s->capacity = capacity;
    s->used = 0;
    s->hint = 0;
}

static int lowest_zero(uint64_t w)
{
    /* index of the lowest 0 bit of w (w != ~0) */
    return __builtin_ctzll(~w);
}

int64_t as_slotmap_take(as_slotmap_t *s)
{
    if (s->used >= s->capacity) return -1;
    uint32_t words = as_slotmap_words(s->capacity);
    for (uint32_t w = s->hint; w < words; w++) {
        if (s->bits[w] == ~0ull) continue;
        uint32_t i = w * 64 + (uint32_t)lowest_zero(s->bits[w]);
        if (i >= s->capacity) break;
        s->bits[w] |= 1ull << (i & 63);
        s->used++;
        s->hint = w;
        return i;
    }
    return -1; /* unreachable while used < capacity */
}

int as_slotmap_set(as_slotmap_t *s, uint32_t i)
{
    if (i >= s->capacity || as_slotmap_test(s, i)) return AS_EINVAL;
    s->bits[i >> 6] |= 1ull << (i & 63);
    s->used++;
    return AS_OK;
}

int as_slotmap_put(as_slotmap_t *s, uint32_t i)
{
    if (!as_slotmap_test(s, i)) return AS_EINVAL;
    s->bits[i >> 6] &= ~(1ull << (i & 63));
    s->used--;
    if ((i >> 6) < s->hint) s->hint = i >> 6;
    return AS_OK;
}

int as_slotmap_check(const as_slotmap_t *s)
{
    uint32_t words = as_slotmap_words(s->capacity), n = 0;
    for (uint32_t w = 0; w < words; w++) {
        for (uint64_t b = s->bits[w]; b; b &= b - 1)
            n++;
        if (w < s->hint && s->bits[w] != ~0ull) return AS_ECHECK;
    }
    if (s->capacity % 64 && (s->bits[words - 1] >> (s->capacity % 64)))
        return AS_ECHECK;
    return n == s->used && n <= s->capacity ? AS_OK : AS_ECHECK;
}

/* ------------------------------------------------------------ addrstack */

#define AS_ADDRCHUNK_ENTRIES 510 /* 4 KiB chunks */

struct as_addrchunk {
    as_addrchunk_t *next; /* older chunk */
    uint64_t n;           /* entries used in addr[] */
    uintptr_t addr[AS_ADDRCHUNK_ENTRIES];
};

void as_addrstack_init(as_addrstack_t *st, const as_mem_t *mem)
{
    st->top = 0;
    st->spare = 0;
    st->n = 0;
    st->mem = mem;
}

int as_addrstack_push(as_addrstack_t *st, uintptr_t addr)
{
    if (!st->top || st->top->n == AS_ADDRCHUNK_ENTRIES) {
        as_addrchunk_t *c = st->spare;
        if (c)
            st->spare = 0;
        else if (!(c = as_mem_alloc(st->mem, sizeof *c)))
            return AS_ENOMEM;
        c->n = 0;
        c->next = st->top;
        st->top = c;
    }
    st->top->addr[st->top->n++] = addr;
    st->n++;
    return AS_OK;
}

int as_addrstack_pop(as_addrstack_t *st, uintptr_t *addr)
{
    as_addrchunk_t *c = st->top;
    if (!c) return 0;
    *addr = c->addr[--c->n];
    st->n--;
    if (c->n == 0) {
        st->top = c->next;
        if (st->spare) as_mem_free(st->mem, st->spare, sizeof *c);
        st->spare = c;
    }
    return 1;
}

void as_addrstack_fini(as_addrstack_t *st)
{
    while (st->top) {
        as_addrchunk_t *c = st->top;
        st->top = c->next;
        as_mem_free(st->mem, c, sizeof *c);
    }
    if (st->spare) as_mem_free(st->mem, st->spare, sizeof *st->spare);
    st->spare = 0;
    st->n = 0;
}

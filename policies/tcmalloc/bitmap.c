/* bitmap.c - page bitmaps shared by the HugePageFiller and the HugeRegions:
 * set, clear and count runs of bits, and the best-fit search both use to
 * place a run of pages (1 = page in use).
 *
 * Owns nothing; pure functions over caller words. Never touches user memory.
 */
#include "policies/tcmalloc/tc_internal.h"

void as_tc_bits_set(uint64_t *b, uint32_t start, uint32_t n)
{
    for (uint32_t i = start; i < start + n; i++)
        b[i >> 6] |= 1ull << (i & 63);
}

void as_tc_bits_clear(uint64_t *b, uint32_t start, uint32_t n)
{
    for (uint32_t i = start; i < start + n; i++)
        b[i >> 6] &= ~(1ull << (i & 63));
}

uint32_t as_tc_bits_count(const uint64_t *b, uint32_t start, uint32_t n)
{
    uint32_t c = 0;
    for (uint32_t i = start; i < start + n; i++)
        c += (b[i >> 6] >> (i & 63)) & 1;
    return c;
}

uint32_t as_tc_best_fit(const uint64_t *used, uint32_t nbits, uint32_t n,
                        uint32_t *longest)
{
    uint32_t best = UINT32_MAX, best_len = UINT32_MAX, lng = 0, i = 0;
    while (i < nbits) {
        uint32_t b = i & 63;
        uint64_t word = used[i >> 6] >> b;
        if (word & 1) {
            uint64_t inv = ~word;
            i += inv ? (uint32_t)__builtin_ctzll(inv) : 64 - b;
            continue;
        }
        uint32_t start = i;
        while (i < nbits) {
            b = i & 63;
            word = used[i >> 6] >> b;
            if (word == 0) {
                i += 64 - b;
                continue;
            }
            i += (uint32_t)__builtin_ctzll(word);
            break;
        }
        if (i > nbits) i = nbits;
        uint32_t len = i - start;
        if (len > lng) lng = len;
        if (len >= n && len < best_len) {
            best = start;
            best_len = len;
        }
    }
    if (longest) *longest = lng;
    return best;
}

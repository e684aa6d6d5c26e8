/* util.h - tiny libc-free helpers shared by every part (string compare,
 * power-of-two arithmetic). Header-only so policies and the real allocator
 * stay free of libc. */
#ifndef AS_COMMON_UTIL_H
#define AS_COMMON_UTIL_H

#include <stddef.h>
#include <stdint.h>

static inline int as_str_eq(const char *a, const char *b)
{
    while (*a && *a == *b)
        a++, b++;
    return *a == *b;
}

static inline int as_is_pow2(uint64_t x)
{
    return x && !(x & (x - 1));
}

/* Round x up to a multiple of the power of two a. */
static inline uint64_t as_align_up(uint64_t x, uint64_t a)
{
    return (x + a - 1) & ~(a - 1);
}

static inline uint64_t as_align_down(uint64_t x, uint64_t a)
{
    return x & ~(a - 1);
}

/* 64-bit mix (splitmix64 finalizer): hashing ids and addresses. */
static inline uint64_t as_hash64(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebull;
    x ^= x >> 31;
    return x;
}

#endif /* AS_COMMON_UTIL_H */

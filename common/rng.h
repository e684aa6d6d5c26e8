/* rng.h - a small deterministic pseudo-random number generator and the
 * distributions the synthetic workloads draw from.
 *
 * The generator is xoshiro256** (Blackman & Vigna), seeded by running
 * splitmix64 over one 64-bit seed, so the same seed gives the same stream on
 * every machine. It is header-only and keeps its whole state in an as_rng_t
 * the caller owns: no globals, no clock. Integer draws are exact and portable;
 * the real-valued draws (exponential, lognormal, pareto) use libm's log, exp,
 * pow, sqrt and cos, which glibc computes identically on every x86-64 and
 * arm64 host we know of.
 *
 * Nothing here allocates. Policies may use it for a seeded generator in their
 * own state (policy.h rule 3).
 */
#ifndef AS_COMMON_RNG_H
#define AS_COMMON_RNG_H

#include <math.h>
#include <stdint.h>

/* The generator's state. Invariant: s[0..3] are not all zero (seeding through
 * splitmix64 guarantees it). */
typedef struct {
    uint64_t s[4]; /* xoshiro256** state */
} as_rng_t;

/* as_rng_splitmix64: advance *x and return the next splitmix64 output. */
static inline uint64_t as_rng_splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* as_rng_seed: initialise r from one 64-bit seed (any value, 0 included). */
static inline void as_rng_seed(as_rng_t *r, uint64_t seed)
{
    uint64_t x = seed;
    for (int i = 0; i < 4; i++)
        r->s[i] = as_rng_splitmix64(&x);
}

static inline uint64_t as_rng_rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

/* as_rng_u64: @return the next 64 uniformly random bits. */
static inline uint64_t as_rng_u64(as_rng_t *r)
{
    uint64_t *s = r->s;
    uint64_t result = as_rng_rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = as_rng_rotl(s[3], 45);
    return result;
}

/* as_rng_double: @return a uniform double in [0, 1) with 53 random bits. */
static inline double as_rng_double(as_rng_t *r)
{
    return (double)(as_rng_u64(r) >> 11) * 0x1.0p-53;
}

/* as_rng_open01: @return a uniform double in (0, 1]: safe to take the log. */
static inline double as_rng_open01(as_rng_t *r)
{
    return ((double)(as_rng_u64(r) >> 11) + 1.0) * 0x1.0p-53;
}

/* as_rng_below: @return a uniform integer in [0, n); 0 when n == 0.
 * Lemire's multiply-and-reject method: exact, no modulo bias. */
static inline uint64_t as_rng_below(as_rng_t *r, uint64_t n)
{
    if (n == 0) return 0;
    __uint128_t m = (__uint128_t)as_rng_u64(r) * n;
    uint64_t lo = (uint64_t)m;
    if (lo < n) {
        uint64_t threshold = -n % n;
        while (lo < threshold) {
            m = (__uint128_t)as_rng_u64(r) * n;
            lo = (uint64_t)m;
        }
    }
    return (uint64_t)(m >> 64);
}

/* as_rng_range: @return a uniform integer in [lo, hi] (inclusive); lo when
 * hi <= lo. */
static inline uint64_t as_rng_range(as_rng_t *r, uint64_t lo, uint64_t hi)
{
    if (hi <= lo) return lo;
    if (hi - lo == UINT64_MAX) return as_rng_u64(r);
    return lo + as_rng_below(r, hi - lo + 1);
}

/* as_rng_chance: @return 1 with probability p (p <= 0: never, p >= 1:
 * always), else 0. */
static inline int as_rng_chance(as_rng_t *r, double p)
{
    return as_rng_double(r) < p;
}

/* as_rng_uniform: @return a uniform real in [a, b). */
static inline double as_rng_uniform(as_rng_t *r, double a, double b)
{
    return a + (b - a) * as_rng_double(r);
}

/* as_rng_exp: @return an exponential draw with the given mean (> 0). */
static inline double as_rng_exp(as_rng_t *r, double mean)
{
    return -mean * log(as_rng_open01(r));
}

/* as_rng_normal: @return a standard normal draw (Box-Muller, one of the pair
 * kept so that the state advances by exactly two words per draw). */
static inline double as_rng_normal(as_rng_t *r)
{
    double u = as_rng_open01(r), v = as_rng_double(r);
    return sqrt(-2.0 * log(u)) * cos(6.283185307179586 * v);
}

/* as_rng_lognormal: @return median * exp(sigma * N(0,1)); the median, not
 * the mean, is the natural knob for sizes and lifetimes. */
static inline double as_rng_lognormal(as_rng_t *r, double median, double sigma)
{
    return median * exp(sigma * as_rng_normal(r));
}

/* as_rng_pareto: @return a Pareto draw with scale xm (the minimum) and shape
 * alpha (> 0): P(X > x) = (xm / x)^alpha. */
static inline double as_rng_pareto(as_rng_t *r, double xm, double alpha)
{
    return xm * pow(as_rng_open01(r), -1.0 / alpha);
}

/* as_rng_geometric: @return the number of failures before the first success
 * of a Bernoulli(p) sequence (support 0, 1, 2, ...; mean (1-p)/p).
 * p >= 1 gives 0; p <= 0 gives UINT64_MAX. */
static inline uint64_t as_rng_geometric(as_rng_t *r, double p)
{
    if (p >= 1.0) return 0;
    if (p <= 0.0) return UINT64_MAX;
    double k = floor(log(as_rng_open01(r)) / log1p(-p));
    return k >= 1.8e19 ? UINT64_MAX : (uint64_t)k;
}

#endif /* AS_COMMON_RNG_H */

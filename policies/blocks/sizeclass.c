/* sizeclass.c - building size-class maps and their lookup tables.
 *
 * This file owns the arithmetic that turns a spacing rule (a geometric factor
 * b, as in the Hoard paper, or powers of two, as in today's Hoard source)
 * into a list of block sizes, and the table that answers "which class serves
 * n bytes" in O(1). It allocates only the lookup table, from the policy's
 * metadata arena, and never touches libc (no libm either: the one ceiling
 * below is done by hand).
 */
#include "policies/blocks/sizeclass.h"

#include "common/error.h"

static uint64_t granule_at(uint64_t bytes)
{
    return bytes <= 1024 ? 16 : 128;
}

static uint64_t round_granule(uint64_t bytes)
{
    uint64_t g = granule_at(bytes);
    uint64_t r = (bytes + g - 1) / g * g;
    /* a size just above 1024 rounds with the coarse granule */
    if (r > 1024 && r % 128) r = (r + 127) / 128 * 128;
    return r;
}

/* ceil(x) for 0 <= x < 2^63, with a tolerance of 1e-6 so that 80 * 1.2
 * (96.00000000000001 in binary) counts as 96. */
static uint64_t ceil_tol(double x)
{
    x -= 1e-6;
    if (x < 0) return 0;
    uint64_t v = (uint64_t)x;
    if ((double)v < x) v++;
    return v;
}

int as_sizeclass_init(as_sizeclass_map_t *m, const as_mem_t *mem,
                      as_sizeclass_kind_t kind, double b, uint64_t max_bytes)
{
    m->n = 0;
    m->lookup = 0;
    m->mem = mem;
    if (max_bytes < 16) return AS_EINVAL;
    if (max_bytes > (1ull << 30)) return AS_ERANGE;
    if (kind == AS_SIZECLASS_GEOMETRIC && !(b > 1.0)) return AS_EINVAL;
    max_bytes = round_granule(max_bytes);
    m->max_bytes = max_bytes;

    uint64_t s = 16;
    for (;;) {
        if (m->n == AS_SIZECLASS_MAX) return AS_ERANGE;
        m->size[m->n++] = (uint32_t)s;
        if (s >= max_bytes) break;
        uint64_t next =
            kind == AS_SIZECLASS_POW2 ? s * 2 : ceil_tol((double)s * b);
        next = round_granule(next);
        if (next < s + granule_at(s + 1))
            next = round_granule(s + granule_at(s + 1));
        if (next > max_bytes) next = max_bytes;
        s = next;
    }

    m->n_lookup =
        (uint32_t)(max_bytes <= 1024 ? (max_bytes >> 4) + 1
                                     : 64 + ((max_bytes - 1024) >> 7) + 1);
    m->lookup = as_mem_alloc(mem, (size_t)m->n_lookup * sizeof(uint16_t));
    if (!m->lookup) return AS_ENOMEM;
    /* Walk the granules in order; the class pointer only moves forward. */
    uint32_t c = 0;
    for (uint32_t g = 0; g < m->n_lookup; g++) {
        uint64_t top =
            g <= 64 ? (uint64_t)g * 16 : 1024 + (uint64_t)(g - 64) * 128;
        while (m->size[c] < top)
            c++;
        m->lookup[g] = (uint16_t)c;
    }
    return AS_OK;
}

void as_sizeclass_fini(as_sizeclass_map_t *m)
{
    if (m->lookup)
        as_mem_free(m->mem, m->lookup, (size_t)m->n_lookup * sizeof(uint16_t));
    m->lookup = 0;
    m->n = 0;
}

int as_sizeclass_of_aligned(const as_sizeclass_map_t *m, uint64_t bytes,
                            uint64_t align)
{
    int c = as_sizeclass_of(m, bytes);
    if (c < 0 || align <= AS_SIZECLASS_QUANTUM) return c;
    for (; (uint32_t)c < m->n; c++)
        if (m->size[c] % align == 0) return c;
    return -1;
}

int as_sizeclass_check(const as_sizeclass_map_t *m)
{
    for (uint32_t i = 0; i < m->n; i++) {
        if (m->size[i] % 16) return AS_ECHECK;
        if (m->size[i] > 1024 && m->size[i] % 128) return AS_ECHECK;
        if (i && m->size[i] <= m->size[i - 1]) return AS_ECHECK;
    }
    if (m->size[m->n - 1] != m->max_bytes) return AS_ECHECK;
    uint32_t c = 0;
    for (uint64_t s = 1; s <= m->max_bytes; s++) {
        while (m->size[c] < s)
            c++;
        if (as_sizeclass_of(m, s) != (int)c) return AS_ECHECK;
    }
    return AS_OK;
}

/* test_sim_livemap.c - the live-object table: every field survives the
 * packing (and the wide table for values that do not pack), inserts and
 * takes agree with a plain array over a random history, and the table
 * costs at most 40 bytes per live object at the peaks measured (98,544
 * live objects: the 50 M-event server-mix's peak; one million).
 */
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "sim/livemap.h"
#include "tests/unit/testutil.h"

static as_live_t entry(uint64_t id, uint64_t x)
{
    return (as_live_t){.id = id,
                       .addr = 0x100000000000ull + (x % 100000) * 16,
                       .size = 1 + x % 5000,
                       .t_alloc_ns = 1000000000ull * 3600 * 24 * 30 + x,
                       .usable_extra = (uint32_t)(x % 17),
                       .stack = (uint32_t)(x % 70000),
                       .thread = (uint32_t)(x % 9),
                       .predicted = (int8_t)((int)(x % 16) - 1),
                       .shadow = (int8_t)((int)(x % 7) - 1),
                       .flags = (uint8_t)(x % 3 == 0)};
}

static int same(const as_live_t *a, const as_live_t *b)
{
    return a->id == b->id && a->addr == b->addr && a->size == b->size &&
           a->t_alloc_ns == b->t_alloc_ns &&
           a->usable_extra == b->usable_extra && a->stack == b->stack &&
           a->thread == b->thread && a->predicted == b->predicted &&
           a->shadow == b->shadow && a->flags == b->flags;
}

/* Entries at the edges of the packing, and past them (wide table). */
static void test_fields(void)
{
    as_livemap_t m;
    CU_ASSERT_FATAL(as_livemap_init(&m, 16) == AS_OK);
    as_live_t v[] = {
        {.id = 5, .t_alloc_ns = 1000},
        {.id = (1ull << 40) - 1,
         .addr = (1ull << 48) - 1,
         .size = (1ull << 40) - 1,
         .t_alloc_ns = 1000 + (1ull << 48) - 1,
         .usable_extra = (1u << 24) - 1,
         .stack = (1u << 24) - 1,
         .thread = 65535,
         .predicted = 14,
         .shadow = 14,
         .flags = 255},
        {.id = 1ull << 40, .t_alloc_ns = 1000},            /* wide */
        {.id = 7, .addr = 1ull << 48, .t_alloc_ns = 1000}, /* wide */
        {.id = 8, .size = 1ull << 40, .t_alloc_ns = 1000}, /* wide */
        {.id = 9, .t_alloc_ns = 999},                      /* wide */
        {.id = 10, .stack = 1u << 24, .t_alloc_ns = 1000}, /* wide */
        {.id = 11, .thread = 65536, .t_alloc_ns = 1000},   /* wide */
        {.id = 12, .usable_extra = UINT32_MAX, .t_alloc_ns = 2000},
        {.id = 13, .predicted = 15, .t_alloc_ns = 2000}, /* wide */
        {.id = UINT64_MAX, .predicted = -1, .shadow = -1, .t_alloc_ns = 5},
    };
    size_t n = sizeof v / sizeof v[0];
    for (size_t i = 0; i < n; i++)
        CU_ASSERT_EQUAL(as_livemap_insert(&m, &v[i]), AS_OK);
    CU_ASSERT_EQUAL(m.count, n);
    CU_ASSERT_EQUAL(m.wide_count, 9);
    as_live_t o;
    uint64_t cur = 0, seen = 0;
    while (as_livemap_next(&m, &cur, &o))
        seen++;
    CU_ASSERT_EQUAL(seen, n);
    for (size_t i = n; i-- > 0;) {
        CU_ASSERT_EQUAL(as_livemap_take(&m, v[i].id, &o), 1);
        CU_ASSERT(same(&o, &v[i]));
        CU_ASSERT_EQUAL(as_livemap_take(&m, v[i].id, &o), 0);
    }
    CU_ASSERT_EQUAL(m.count, 0);
    as_livemap_destroy(&m);
}

/* A random history of 2M operations against an array indexed by id. */
static void test_random_history(void)
{
    enum { IDS = 300000 };
    as_live_t *ref = calloc(IDS, sizeof *ref);
    uint64_t *live = malloc(IDS * sizeof *live);
    uint64_t nlive = 0, next = 0, x = 99991, bad = 0;
    as_livemap_t m;
    CU_ASSERT_FATAL(ref && live && as_livemap_init(&m, 1024) == AS_OK);
    for (int step = 0; step < 2000000; step++) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        int grow_phase = (step / 200000) % 2 == 0;
        if (next < IDS && (!nlive || (x >> 60) < (grow_phase ? 11u : 5u))) {
            ref[next] = entry(next, x >> 16);
            ref[next].used = 1;
            bad += as_livemap_insert(&m, &ref[next]) != AS_OK;
            live[nlive++] = next++;
        } else if (nlive) {
            uint64_t k = (x >> 20) % nlive, id = live[k];
            as_live_t o;
            bad += as_livemap_take(&m, id, &o) != 1 || !same(&o, &ref[id]);
            bad += as_livemap_take(&m, id, &o) != 0;
            live[k] = live[--nlive];
        }
        bad += m.count != nlive;
    }
    CU_ASSERT_EQUAL(bad, 0);
    /* what is left, once each */
    as_live_t o;
    uint64_t cur = 0, seen = 0;
    while (as_livemap_next(&m, &cur, &o)) {
        seen++;
        bad += !same(&o, &ref[o.id]);
    }
    CU_ASSERT_EQUAL(seen, nlive);
    CU_ASSERT_EQUAL(bad, 0);
    as_livemap_destroy(&m);
    free(ref);
    free(live);
}

/* Bytes per live object at a peak of n (inserted from empty, as a replay
 * does): slab 32 B per entry (chunks of 4096) plus the index at a load of
 * 0.53-0.8. */
static double bytes_per_object(uint64_t n)
{
    as_livemap_t m;
    CU_ASSERT_FATAL(as_livemap_init(&m, 1024) == AS_OK);
    for (uint64_t i = 0; i < n; i++) {
        as_live_t e = entry(i, i * 7919);
        CU_ASSERT_FATAL(as_livemap_insert(&m, &e) == AS_OK);
    }
    double b = (double)as_livemap_bytes(&m) / (double)n;
    as_livemap_destroy(&m);
    return b;
}

static void test_bytes_per_object(void)
{
    double a = bytes_per_object(98544), b = bytes_per_object(1000000);
    /* 98,544: 25 chunks (3,276,800 B) + 132,859 slots (531,436 B) + the
     * chunk pointers (32 x 8): 38.64 B */
    CU_ASSERT_DOUBLE_EQUAL(a, (3276800.0 + 531436 + 256) / 98544, 1e-9);
    CU_ASSERT(a <= 40);
    CU_ASSERT(b <= 40);
    fprintf(stderr, "livemap: %.2f B per live object at 98,544, %.2f at 1M\n",
            a, b);
}

int main(void)
{
    static const as_test_t tests[] = {
        {"every field packs or goes wide", test_fields},
        {"random history against an array", test_random_history},
        {"at most 40 bytes per live object", test_bytes_per_object},
        {NULL, NULL},
    };
    return as_test_main("sim_livemap", tests);
}

/* test_policies_blocks.c - the generic policy building blocks: red-black
 * tree, object pool, and the u64 hash map they are used with
 * (common/u64map.h, in common/ since predictors use it too).
 *
 * Each structure runs 100k seeded random operations against a plain array
 * model, with its whole invariant check (as_rb_check, as_u64map_check,
 * as_pool_check) after every operation, plus small cases with answers known
 * by hand. Memory comes from a counting calloc arena, which must be back to
 * zero at the end of every test.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/rng.h"
#include "common/u64map.h"
#include "policies/blocks/objpool.h"
#include "policies/blocks/rbtree.h"
#include "tests/unit/testutil.h"

static int64_t arena_bytes;
static int arena_fail; /* 1: the next allocation fails */

static void *arena_alloc(void *s, size_t bytes)
{
    (void)s;
    if (arena_fail) {
        arena_fail = 0;
        return NULL;
    }
    arena_bytes += (int64_t)bytes;
    return calloc(1, bytes);
}

static void arena_free(void *s, void *p, size_t bytes)
{
    (void)s;
    arena_bytes -= (int64_t)bytes;
    free(p);
}

static const as_mem_t arena = {arena_alloc, arena_free, NULL};

/* ---- red-black tree ---- */

typedef struct {
    as_rb_node_t node;
    uint32_t key;
    int in_tree;
} item_t;

static int item_cmp(const as_rb_node_t *a, const as_rb_node_t *b)
{
    uint32_t x = AS_RB_ENTRY(a, item_t, node)->key;
    uint32_t y = AS_RB_ENTRY(b, item_t, node)->key;
    return x < y ? -1 : x > y;
}

static int item_key(const void *k, const as_rb_node_t *n)
{
    uint32_t x = *(const uint32_t *)k, y = AS_RB_ENTRY(n, item_t, node)->key;
    return x < y ? -1 : x > y;
}

static uint32_t key_of(const as_rb_node_t *n)
{
    return AS_RB_ENTRY(n, item_t, node)->key;
}

static void test_rb_small(void)
{
    item_t it[7];
    as_rb_tree_t t;
    as_rb_init(&t);
    const uint32_t keys[7] = {50, 20, 80, 10, 30, 70, 90};
    for (int i = 0; i < 7; i++) {
        it[i].key = keys[i];
        CU_ASSERT_PTR_NULL(as_rb_insert(&t, &it[i].node, item_cmp));
        CU_ASSERT_EQUAL(as_rb_check(&t, item_cmp), 0);
    }
    item_t dup = {.key = 30};
    CU_ASSERT_PTR_EQUAL(as_rb_insert(&t, &dup.node, item_cmp), &it[4].node);
    CU_ASSERT_EQUAL(t.count, 7);
    CU_ASSERT_EQUAL(key_of(as_rb_first(&t)), 10);
    CU_ASSERT_EQUAL(key_of(as_rb_last(&t)), 90);
    uint32_t k = 55;
    CU_ASSERT_EQUAL(key_of(as_rb_lower_bound(&t, &k, item_key)), 70);
    CU_ASSERT_EQUAL(key_of(as_rb_floor(&t, &k, item_key)), 50);
    k = 5;
    CU_ASSERT_PTR_NULL(as_rb_floor(&t, &k, item_key));
    k = 95;
    CU_ASSERT_PTR_NULL(as_rb_lower_bound(&t, &k, item_key));
    k = 70;
    CU_ASSERT_PTR_EQUAL(as_rb_find(&t, &k, item_key), &it[5].node);
    /* in-order walk both ways */
    uint32_t fw[7], bw[7];
    int n = 0;
    for (as_rb_node_t *p = as_rb_first(&t); p; p = as_rb_next(p))
        fw[n++] = key_of(p);
    CU_ASSERT_EQUAL(n, 7);
    n = 0;
    for (as_rb_node_t *p = as_rb_last(&t); p; p = as_rb_prev(p))
        bw[n++] = key_of(p);
    const uint32_t sorted[7] = {10, 20, 30, 50, 70, 80, 90};
    for (int i = 0; i < 7; i++) {
        CU_ASSERT_EQUAL(fw[i], sorted[i]);
        CU_ASSERT_EQUAL(bw[6 - i], sorted[i]);
    }
    /* replace keeps the shape */
    item_t r = {.key = 50};
    as_rb_replace(&t, &it[0].node, &r.node);
    CU_ASSERT_EQUAL(as_rb_check(&t, item_cmp), 0);
    k = 50;
    CU_ASSERT_PTR_EQUAL(as_rb_find(&t, &k, item_key), &r.node);
    as_rb_erase(&t, &r.node);
    CU_ASSERT_EQUAL(as_rb_check(&t, item_cmp), 0);
    CU_ASSERT_EQUAL(t.count, 6);
    /* the check detects a broken order */
    it[3].key = 100; /* 10 -> 100 breaks the order at the first node */
    CU_ASSERT_EQUAL(as_rb_check(&t, item_cmp), AS_ECHECK);
}

/* 100k random inserts/erases/searches over 1024 keys, checked after
 * every operation against a membership array. */
static void test_rb_random(void)
{
    enum { NKEYS = 1024 };
    static item_t items[NKEYS];
    memset(items, 0, sizeof items);
    for (uint32_t i = 0; i < NKEYS; i++)
        items[i].key = i * 2 + 1; /* odd */
    as_rb_tree_t t;
    as_rb_init(&t);
    as_rng_t r;
    as_rng_seed(&r, 7);
    size_t live = 0;
    int bad = 0;
    for (int op = 0; op < 100000 && !bad; op++) {
        /* erase half the hits: the tree settles near 2/3 of the keys */
        uint32_t i = (uint32_t)as_rng_below(&r, NKEYS);
        item_t *it = &items[i];
        if (it->in_tree && as_rng_chance(&r, 0.5)) {
            as_rb_erase(&t, &it->node);
            it->in_tree = 0;
            live--;
        } else if (!it->in_tree) {
            if (as_rb_insert(&t, &it->node, item_cmp)) bad = 1;
            it->in_tree = 1;
            live++;
        }
        /* a search for an even key: floor and lower bound are the odd keys
         * around it that are in the tree */
        uint32_t q = (uint32_t)as_rng_below(&r, 2 * NKEYS + 2) & ~1u;
        as_rb_node_t *fl = as_rb_floor(&t, &q, item_key);
        as_rb_node_t *lb = as_rb_lower_bound(&t, &q, item_key);
        int32_t want_fl = -1, want_lb = -1;
        for (int32_t j = (int32_t)q / 2 - 1; j >= 0; j--)
            if (items[j].in_tree) {
                want_fl = j;
                break;
            }
        for (uint32_t j = q / 2; j < NKEYS; j++)
            if (items[j].in_tree) {
                want_lb = (int32_t)j;
                break;
            }
        if ((want_fl < 0) != (fl == NULL) || (want_lb < 0) != (lb == NULL))
            bad = 2;
        if (fl && key_of(fl) != items[want_fl].key) bad = 3;
        if (lb && key_of(lb) != items[want_lb].key) bad = 4;
        if (t.count != live || as_rb_check(&t, item_cmp)) bad = 5;
    }
    CU_ASSERT_EQUAL(bad, 0);
    CU_ASSERT(live > 0);
}

/* An augmented tree: each item carries a weight, each node the largest
 * weight of its subtree. After random inserts, erases and in-place weight
 * changes, every node's summary equals a recomputation, and first_match /
 * next_match (weight >= w) agree with a scan of the keys in order, and
 * prev_match, from the last node, with a scan in reverse order. */
typedef struct {
    as_rb_node_t node;
    uint32_t key, weight, max_weight;
    int in_tree;
} witem_t;

static int witem_augment(as_rb_node_t *n)
{
    witem_t *w = AS_RB_ENTRY(n, witem_t, node);
    uint32_t old = w->max_weight;
    w->max_weight = w->weight;
    for (int d = 0; d < 2; d++)
        if (n->child[d]) {
            uint32_t m = AS_RB_ENTRY(n->child[d], witem_t, node)->max_weight;
            if (m > w->max_weight) w->max_weight = m;
        }
    return w->max_weight != old;
}

static int witem_cmp(const as_rb_node_t *a, const as_rb_node_t *b)
{
    uint32_t x = AS_RB_ENTRY(a, witem_t, node)->key;
    uint32_t y = AS_RB_ENTRY(b, witem_t, node)->key;
    return x < y ? -1 : x > y;
}

static int witem_ok(const as_rb_node_t *n, const void *arg)
{
    return AS_RB_ENTRY(n, witem_t, node)->weight >= *(const uint32_t *)arg;
}

static int witem_sub_ok(const as_rb_node_t *n, const void *arg)
{
    return AS_RB_ENTRY(n, witem_t, node)->max_weight >= *(const uint32_t *)arg;
}

/* 1 when every node's max_weight is the maximum of its subtree. */
static uint32_t witem_verify(const as_rb_node_t *n, int *bad)
{
    if (!n) return 0;
    const witem_t *w = AS_RB_ENTRY(n, witem_t, node);
    uint32_t m = w->weight, l = witem_verify(n->child[0], bad),
             r = witem_verify(n->child[1], bad);
    if (l > m) m = l;
    if (r > m) m = r;
    if (m != w->max_weight) *bad = 1;
    return m;
}

static void test_rb_augmented(void)
{
    enum { NKEYS = 512 };
    static witem_t items[NKEYS];
    memset(items, 0, sizeof items);
    as_rb_atree_t at;
    as_rb_ainit(&at, witem_augment);
    as_rb_tree_t *t = &at.tree;
    as_rng_t r;
    as_rng_seed(&r, 11);
    int bad = 0;
    for (uint32_t i = 0; i < NKEYS; i++)
        items[i].key = i;
    for (int op = 0; op < 8000 && !bad; op++) {
        witem_t *it = &items[as_rng_below(&r, NKEYS)];
        uint64_t what = as_rng_below(&r, 3);
        if (!it->in_tree) {
            it->weight = (uint32_t)as_rng_below(&r, 1000);
            if (as_rb_ainsert(&at, &it->node, witem_cmp)) bad = 1;
            it->in_tree = 1;
        } else if (what == 0) {
            as_rb_aerase(&at, &it->node);
            it->in_tree = 0;
        } else {
            it->weight = (uint32_t)as_rng_below(&r, 1000);
            as_rb_propagate(&at, &it->node);
        }
        int vb = 0;
        witem_verify(t->root, &vb);
        if (vb || as_rb_check(t, witem_cmp)) bad = 2;
        uint32_t w = (uint32_t)as_rng_below(&r, 1000);
        /* every match in order, against a scan */
        as_rb_node_t *n = as_rb_first_match(t, witem_ok, witem_sub_ok, &w);
        for (uint32_t j = 0; j < NKEYS && !bad; j++) {
            if (!items[j].in_tree || items[j].weight < w) continue;
            if (n != &items[j].node) bad = 3;
            n = as_rb_next_match(n, witem_ok, witem_sub_ok, &w);
        }
        if (n) bad = 4;
        /* and in reverse with prev_match, from the last node as the
         * top-down search starts from a floor: it, if it matches, then
         * prev_match */
        n = as_rb_last(t);
        if (n && !witem_ok(n, &w))
            n = as_rb_prev_match(n, witem_ok, witem_sub_ok, &w);
        for (uint32_t j = NKEYS; j-- > 0 && !bad;) {
            if (!items[j].in_tree || items[j].weight < w) continue;
            if (n != &items[j].node) bad = 5;
            n = as_rb_prev_match(n, witem_ok, witem_sub_ok, &w);
        }
        if (n) bad = 6;
    }
    CU_ASSERT_EQUAL(bad, 0);
}

/* ---- hash map ---- */

static void test_map_small(void)
{
    as_u64map_t m;
    as_u64map_init(&m, &arena);
    uint64_t v = 0;
    CU_ASSERT_EQUAL(as_u64map_get(&m, 5, &v), 0);
    CU_ASSERT_EQUAL(as_u64map_put(&m, 5, 50), 0);
    CU_ASSERT_EQUAL(as_u64map_put(&m, 0, 7), 0);  /* key 0 is a real key */
    CU_ASSERT_EQUAL(as_u64map_put(&m, 5, 51), 0); /* overwrite */
    CU_ASSERT_EQUAL(as_u64map_count(&m), 2);
    CU_ASSERT_EQUAL(as_u64map_get(&m, 5, &v), 1);
    CU_ASSERT_EQUAL(v, 51);
    CU_ASSERT_EQUAL(as_u64map_get(&m, 0, &v), 1);
    CU_ASSERT_EQUAL(v, 7);
    CU_ASSERT_EQUAL(as_u64map_bytes(&m), 16 * 16); /* first table: 16 slots */
    /* 8 keys fit in 16 slots (1/2); the 9th doubles the table */
    for (uint64_t k = 100; k < 107; k++)
        CU_ASSERT_EQUAL(as_u64map_put(&m, k, k), 0);
    CU_ASSERT_EQUAL(m.cap, 16);
    CU_ASSERT_EQUAL(as_u64map_put(&m, 107, 107), 0);
    CU_ASSERT_EQUAL(m.cap, 32);
    CU_ASSERT_EQUAL(as_u64map_check(&m), 0);
    /* a failing arena leaves the map unchanged */
    for (uint64_t k = 200; k < 207; k++)
        as_u64map_put(&m, k, k);
    CU_ASSERT_EQUAL(m.cap, 32);
    CU_ASSERT_EQUAL(m.used, 16);
    arena_fail = 1;
    CU_ASSERT_EQUAL(as_u64map_put(&m, 999, 1), AS_ENOMEM);
    CU_ASSERT_EQUAL(m.cap, 32);
    CU_ASSERT_EQUAL(as_u64map_get(&m, 999, NULL), 0);
    CU_ASSERT_EQUAL(as_u64map_check(&m), 0);
    /* iteration visits every key once */
    size_t it = 0, n = 0;
    uint64_t k, sum = 0;
    while (as_u64map_next(&m, &it, &k, &v)) {
        n++;
        sum += k;
    }
    CU_ASSERT_EQUAL(n, as_u64map_count(&m));
    CU_ASSERT_EQUAL(sum, 5 + 0 + (100 + 107) * 8 / 2 + (200 + 206) * 7 / 2);
    CU_ASSERT_EQUAL(as_u64map_remove(&m, 0, &v), 1);
    CU_ASSERT_EQUAL(v, 7);
    CU_ASSERT_EQUAL(as_u64map_remove(&m, 0, &v), 0);
    CU_ASSERT_EQUAL(as_u64map_remove(&m, 105, NULL), 1);
    CU_ASSERT_EQUAL(as_u64map_get(&m, 105, NULL), 0);
    CU_ASSERT_EQUAL(as_u64map_check(&m), 0);
    as_u64map_fini(&m);
    CU_ASSERT_EQUAL(arena_bytes, 0);
}

/* A dense map fills 16 slots with 12 keys (3/4) and doubles at the 13th;
 * replace overwrites a present key only and never grows the table. */
static void test_map_dense(void)
{
    as_u64map_t m;
    as_u64map_init_dense(&m, &arena);
    uint64_t v = 0;
    CU_ASSERT_EQUAL(as_u64map_replace(&m, 5, 1), 0); /* absent: no table */
    CU_ASSERT_EQUAL(m.cap, 0);
    CU_ASSERT_EQUAL(as_u64map_get(&m, 5, NULL), 0);
    for (uint64_t k = 1; k <= 12; k++)
        CU_ASSERT_EQUAL(as_u64map_put(&m, k * 4096, k), 0);
    CU_ASSERT_EQUAL(m.cap, 16);
    CU_ASSERT_EQUAL(as_u64map_bytes(&m), 16 * 16);
    CU_ASSERT_EQUAL(as_u64map_max_used(&m), 12);
    CU_ASSERT_EQUAL(as_u64map_check(&m), 0);
    /* replace at a full table: no growth, value changed */
    CU_ASSERT_EQUAL(as_u64map_replace(&m, 7 * 4096, 70), 1);
    CU_ASSERT_EQUAL(as_u64map_replace(&m, 13 * 4096, 130), 0);
    CU_ASSERT_EQUAL(m.cap, 16);
    CU_ASSERT_EQUAL(as_u64map_get(&m, 7 * 4096, &v), 1);
    CU_ASSERT_EQUAL(v, 70);
    CU_ASSERT_EQUAL(as_u64map_get(&m, 13 * 4096, NULL), 0);
    /* the same table read as a half-full map breaks its invariant */
    m.dense = 0;
    CU_ASSERT_EQUAL(as_u64map_check(&m), AS_ECHECK);
    m.dense = 1;
    CU_ASSERT_EQUAL(as_u64map_put(&m, 13 * 4096, 13), 0);
    CU_ASSERT_EQUAL(m.cap, 32);
    CU_ASSERT_EQUAL(as_u64map_max_used(&m), 24);
    CU_ASSERT_EQUAL(as_u64map_check(&m), 0);
    /* key 0 is replaceable only when present */
    CU_ASSERT_EQUAL(as_u64map_replace(&m, 0, 9), 0);
    CU_ASSERT_EQUAL(as_u64map_put(&m, 0, 8), 0);
    CU_ASSERT_EQUAL(as_u64map_replace(&m, 0, 9), 1);
    CU_ASSERT_EQUAL(as_u64map_get(&m, 0, &v), 1);
    CU_ASSERT_EQUAL(v, 9);
    as_u64map_fini(&m);
    CU_ASSERT_EQUAL(arena_bytes, 0);
}

/* 100k random puts/removes/gets over 1000 keys (heavy collisions: keys are
 * multiples of 4096, like page addresses), checked after every operation;
 * for the default and the dense map. */
static void map_random(int dense)
{
    enum { NKEYS = 1000 };
    static uint64_t model[NKEYS];
    static uint8_t present[NKEYS];
    memset(present, 0, sizeof present);
    as_u64map_t m;
    if (dense)
        as_u64map_init_dense(&m, &arena);
    else
        as_u64map_init(&m, &arena);
    as_rng_t r;
    as_rng_seed(&r, 99);
    size_t live = 0;
    int bad = 0;
    for (int op = 0; op < 100000 && !bad; op++) {
        uint32_t i = (uint32_t)as_rng_below(&r, NKEYS);
        uint64_t key = (uint64_t)i * 4096; /* includes key 0 */
        uint64_t v;
        switch (as_rng_below(&r, 3)) {
        case 0:
            model[i] = as_rng_u64(&r);
            if (as_u64map_put(&m, key, model[i])) bad = 1;
            if (!present[i]) live++;
            present[i] = 1;
            break;
        case 1:
            if (as_u64map_remove(&m, key, &v) != present[i]) bad = 2;
            if (present[i] && v != model[i]) bad = 3;
            if (present[i]) live--;
            present[i] = 0;
            break;
        default:
            if (as_u64map_get(&m, key, &v) != present[i]) bad = 4;
            if (present[i] && v != model[i]) bad = 5;
        }
        if (as_u64map_count(&m) != live || as_u64map_check(&m)) bad = 6;
    }
    CU_ASSERT_EQUAL(bad, 0);
    if (bad) fprintf(stderr, "map_random: failure %d\n", bad);
    CU_ASSERT(live > 300);
    as_u64map_fini(&m);
    CU_ASSERT_EQUAL(arena_bytes, 0);
}

static void test_map_random(void)
{
    map_random(0);
    map_random(1);
}

/* ---- object pool ---- */

static void test_pool(void)
{
    as_pool_t p;
    as_pool_init(&p, &arena, 40); /* rounded to 48 */
    CU_ASSERT_EQUAL(p.objs.obj_bytes, 48);
    enum { N = 5000 };
    static char *objs[N];
    as_rng_t r;
    as_rng_seed(&r, 3);
    int bad = 0;
    size_t live = 0;
    memset(objs, 0, sizeof objs);
    for (int op = 0; op < 100000 && !bad; op++) {
        uint32_t i = (uint32_t)as_rng_below(&r, N);
        if (objs[i]) {
            for (int b = 0; b < 48; b++)
                if (objs[i][b] != (char)i) bad = 1; /* nobody overwrote it */
            as_pool_free(&p, objs[i]);
            objs[i] = NULL;
            live--;
        } else {
            objs[i] = as_pool_alloc(&p);
            if (!objs[i] || ((uintptr_t)objs[i] & 15)) {
                bad = 2;
                break;
            }
            for (int b = 0; b < 48; b++)
                if (objs[i][b]) bad = 3; /* zero-filled */
            memset(objs[i], (char)i, 48);
            live++;
        }
        if (p.objs.live != live || (op % 64 == 0 && as_pool_check(&p))) bad = 4;
    }
    CU_ASSERT_EQUAL(bad, 0);
    CU_ASSERT_EQUAL(as_pool_check(&p), 0);
    /* chunks double from 32 objects: capacity is 32 * (2^k - 1) */
    size_t cap = p.capacity;
    CU_ASSERT_EQUAL((cap / 32 + 1) & (cap / 32), 0);
    CU_ASSERT(cap >= p.objs.live);
    /* ... and each of the k = popcount(cap / 32) chunks has a 16-byte head */
    CU_ASSERT_EQUAL(p.bytes,
                    cap * 48 + 16 * (size_t)__builtin_popcountll(cap / 32));
    as_pool_fini(&p);
    CU_ASSERT_EQUAL(arena_bytes, 0);

    /* an empty pool whose arena fails returns NULL and holds nothing */
    as_pool_init(&p, &arena, 16);
    arena_fail = 1;
    CU_ASSERT_PTR_NULL(as_pool_alloc(&p));
    CU_ASSERT_EQUAL(p.capacity, 0);
    void *a = as_pool_alloc(&p), *b = as_pool_alloc(&p);
    CU_ASSERT_EQUAL((char *)b - (char *)a, 16); /* lowest address first */
    CU_ASSERT_EQUAL(p.bytes, 16 + 32 * 16);
    as_pool_fini(&p);
    CU_ASSERT_EQUAL(arena_bytes, 0);
}

int main(void)
{
    static const as_test_t tests[] = {
        {"rb_small", test_rb_small},
        {"rb_random_100k", test_rb_random},
        {"rb_augmented", test_rb_augmented},
        {"map_small", test_map_small},
        {"map_dense", test_map_dense},
        {"map_random_100k", test_map_random},
        {"pool_random_100k", test_pool},
        {NULL, NULL},
    };
    return as_test_main("policies_blocks", tests);
}

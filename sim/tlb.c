/* tlb.c - the data-TLB reach model of sim/tlb.h.
 *
 * Three set-associative arrays hold translations: an L1 for 4 KiB pages,
 * an L1 for 2 MiB pages and a second level (Intel's STLB) shared by both
 * sizes. Each set is a small array of keys kept in recency order (most
 * recent first): a hit moves its key to the front, a fill shifts the set
 * down by one and drops the least recent key, which is exact LRU at a cost
 * of `ways` word moves. A key is the page number shifted left by one with
 * the huge flag in bit 0, plus one (0 marks an empty way); the set is the
 * page number modulo the number of sets. The shared level keys both sizes
 * in one array, so a 4 KiB and a 2 MiB translation of one address are two
 * different keys.
 *
 * The live-byte sampler is a red-black tree of the live objects by address
 * (policies/blocks/rbtree.h) whose nodes carry the byte sum of their
 * subtree: byte u (in address order) is found by one descent, comparing u
 * with the left subtree's sum at each node, so a draw, an add and a remove
 * cost O(log n) and nothing here is proportional to the live set.
 *
 * This file never reads a clock and never prints; its host memory (tree
 * nodes, arrays) comes from libc, which sim/ may use.
 */
#include "sim/tlb.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/rng.h"
#include "policies/blocks/rbtree.h"

#define PAGE_SHIFT 12
#define HUGE_SHIFT 21
#define MAX_WAYS 64u
#define MAX_ENTRIES 1048576u

/* One array: sets x ways keys, recency order within a set. */
typedef struct {
    uint64_t *keys;
    uint32_t sets, ways;
} tlb_array_t;

/* A live object in the sampler: [addr, addr + bytes); sum = bytes of the
 * subtree rooted here. */
typedef struct {
    as_rb_node_t node;
    uintptr_t addr;
    uint64_t bytes, sum;
} live_node_t;

struct as_tlb {
    as_tlb_config_t cfg;
    tlb_array_t l1_4k, l1_2m, l2;
    as_rb_atree_t live; /* live_node_t by addr */
    live_node_t *spare; /* free nodes, linked through node.child[0] */
    as_rng_t rng;
    as_tlb_counters_t c;
};

/* ---- parameters ------------------------------------------------------- */

/* Defaults: Intel Skylake (client and SP share the data TLB), Intel 64 and
 * IA-32 Architectures Optimization Reference Manual (248966-045), table
 * 2-15. */
const as_param_spec_t as_tlb_params[AS_TLB_N_PARAMS] = {
    [AS_TLB_P_MODEL] = {"model", AS_PARAM_ENUM, "off", 0, 0, "off|skylake",
                        "data-TLB model: off, or on with the geometry below "
                        "(defaults: Skylake)"},
    [AS_TLB_P_L1_4K_ENTRIES] = {"l1_4k_entries", AS_PARAM_U64, "64", 1,
                                MAX_ENTRIES, NULL,
                                "L1 dTLB entries for 4 KiB pages"},
    [AS_TLB_P_L1_4K_WAYS] = {"l1_4k_ways", AS_PARAM_U64, "4", 1, MAX_WAYS, NULL,
                             "L1 dTLB 4 KiB ways (1..64)"},
    [AS_TLB_P_L1_2M_ENTRIES] = {"l1_2m_entries", AS_PARAM_U64, "32", 1,
                                MAX_ENTRIES, NULL,
                                "L1 dTLB entries for 2 MiB pages"},
    [AS_TLB_P_L1_2M_WAYS] = {"l1_2m_ways", AS_PARAM_U64, "4", 1, MAX_WAYS, NULL,
                             "L1 dTLB 2 MiB ways (1..64)"},
    [AS_TLB_P_L2_ENTRIES] = {"l2_entries", AS_PARAM_U64, "1536", 1, MAX_ENTRIES,
                             NULL,
                             "second-level TLB entries (4 KiB and 2 MiB)"},
    [AS_TLB_P_L2_WAYS] = {"l2_ways", AS_PARAM_U64, "12", 1, MAX_WAYS, NULL,
                          "second-level TLB ways (1..64)"},
    [AS_TLB_P_INTERVAL] = {"interval", AS_PARAM_NS, "100ms", 1e3, 1e15, NULL,
                           "trace time between draws of accesses "
                           "(1us..1e15ns)"},
    [AS_TLB_P_ACCESSES] = {"accesses", AS_PARAM_U64, "1000", 1, 1e6, NULL,
                           "accesses per draw (1..10^6)"},
    [AS_TLB_P_SEED] = {"seed", AS_PARAM_U64, "1", 0, 18446744073709551615.0,
                       NULL, "seed of the access stream's generator"},
};

void as_tlb_config_default(as_tlb_config_t *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->model = AS_TLB_OFF;
    cfg->l1_4k = (as_tlb_geom_t){64, 4};
    cfg->l1_2m = (as_tlb_geom_t){32, 4};
    cfg->l2 = (as_tlb_geom_t){1536, 12};
    cfg->interval_ns = 100ull * 1000 * 1000;
    cfg->accesses = 1000;
    cfg->seed = 1;
}

void as_tlb_config_apply(as_tlb_config_t *cfg, const as_param_value_t *v)
{
    cfg->model = (as_tlb_model_t)v[AS_TLB_P_MODEL].u;
    cfg->l1_4k.entries = (uint32_t)v[AS_TLB_P_L1_4K_ENTRIES].u;
    cfg->l1_4k.ways = (uint32_t)v[AS_TLB_P_L1_4K_WAYS].u;
    cfg->l1_2m.entries = (uint32_t)v[AS_TLB_P_L1_2M_ENTRIES].u;
    cfg->l1_2m.ways = (uint32_t)v[AS_TLB_P_L1_2M_WAYS].u;
    cfg->l2.entries = (uint32_t)v[AS_TLB_P_L2_ENTRIES].u;
    cfg->l2.ways = (uint32_t)v[AS_TLB_P_L2_WAYS].u;
    cfg->interval_ns = v[AS_TLB_P_INTERVAL].u;
    cfg->accesses = v[AS_TLB_P_ACCESSES].u;
    cfg->seed = v[AS_TLB_P_SEED].u;
}

int as_tlb_config_check(const as_tlb_config_t *cfg, char *err, size_t cap)
{
    static const char *const name[3] = {"l1_4k", "l1_2m", "l2"};
    const as_tlb_geom_t *g[3] = {&cfg->l1_4k, &cfg->l1_2m, &cfg->l2};
    for (int i = 0; i < 3; i++) {
        if (g[i]->ways == 0 || g[i]->ways > MAX_WAYS || g[i]->entries == 0 ||
            g[i]->entries > MAX_ENTRIES || g[i]->entries % g[i]->ways) {
            if (err)
                snprintf(err, cap,
                         "tlb.%s_entries=%u is not a multiple of "
                         "tlb.%s_ways=%u (1..%u ways, 1..%u entries)",
                         name[i], g[i]->entries, name[i], g[i]->ways, MAX_WAYS,
                         MAX_ENTRIES);
            return AS_EINVAL;
        }
    }
    return 0;
}

/* ---- set-associative arrays -------------------------------------------- */

static int array_init(tlb_array_t *a, const as_tlb_geom_t *g)
{
    a->ways = g->ways;
    a->sets = g->entries / g->ways;
    a->keys = calloc(g->entries, sizeof *a->keys);
    return a->keys ? 0 : AS_ENOMEM;
}

/* Look `key` up in its set: a hit moves it to the front and @return 1; a
 * miss @return 0 and changes nothing. */
static int array_hit(tlb_array_t *a, uint64_t page, uint64_t key)
{
    uint64_t *set = a->keys + (size_t)(page % a->sets) * a->ways;
    for (uint32_t i = 0; i < a->ways; i++) {
        if (set[i] == key) {
            memmove(set + 1, set, i * sizeof *set);
            set[0] = key;
            return 1;
        }
        if (set[i] == 0) return 0; /* empty ways come last */
    }
    return 0;
}

/* Fill `key` (known absent) at the front of its set, evicting the least
 * recently used key when the set is full. */
static void array_fill(tlb_array_t *a, uint64_t page, uint64_t key)
{
    uint64_t *set = a->keys + (size_t)(page % a->sets) * a->ways;
    memmove(set + 1, set, (a->ways - 1) * sizeof *set);
    set[0] = key;
}

as_tlb_outcome_t as_tlb_lookup(as_tlb_t *tlb, uintptr_t addr, int huge)
{
    uint64_t page = (uint64_t)addr >> (huge ? HUGE_SHIFT : PAGE_SHIFT);
    uint64_t key = ((page << 1) | (huge ? 1u : 0u)) + 1;
    tlb_array_t *l1 = huge ? &tlb->l1_2m : &tlb->l1_4k;
    tlb->c.accesses++;
    tlb->c.huge_accesses += huge ? 1 : 0;
    if (array_hit(l1, page, key)) return AS_TLB_L1_HIT;
    tlb->c.l1_misses++;
    int l2 = array_hit(&tlb->l2, page, key);
    if (!l2) {
        tlb->c.walks++;
        array_fill(&tlb->l2, page, key);
    }
    array_fill(l1, page, key);
    return l2 ? AS_TLB_L2_HIT : AS_TLB_WALK;
}

/* ---- live-byte sampler -------------------------------------------------- */

static live_node_t *live_of(const as_rb_node_t *n)
{
    return n ? AS_RB_ENTRY(n, live_node_t, node) : NULL;
}

static uint64_t sum_of(const as_rb_node_t *n)
{
    return n ? live_of(n)->sum : 0;
}

static int live_augment(as_rb_node_t *n)
{
    live_node_t *x = live_of(n);
    uint64_t s = x->bytes + sum_of(n->child[0]) + sum_of(n->child[1]);
    int changed = s != x->sum;
    x->sum = s;
    return changed;
}

static int live_key(const void *key, const as_rb_node_t *n)
{
    uintptr_t a = *(const uintptr_t *)key, b = live_of(n)->addr;
    return a < b ? -1 : a > b;
}

static int live_cmp(const as_rb_node_t *a, const as_rb_node_t *b)
{
    return live_key(&live_of(a)->addr, b);
}

int as_tlb_live_add(as_tlb_t *tlb, uintptr_t addr, uint64_t bytes)
{
    if (bytes == 0) return 0;
    live_node_t *x = tlb->spare;
    if (x)
        tlb->spare = live_of(x->node.child[0]);
    else if (!(x = malloc(sizeof *x)))
        return AS_ENOMEM;
    memset(x, 0, sizeof *x);
    x->addr = addr;
    x->bytes = x->sum = bytes;
    if (as_rb_ainsert(&tlb->live, &x->node, live_cmp)) { /* already there */
        x->node.child[0] = tlb->spare ? &tlb->spare->node : NULL;
        tlb->spare = x;
    }
    return 0;
}

void as_tlb_live_remove(as_tlb_t *tlb, uintptr_t addr)
{
    live_node_t *x = live_of(as_rb_find(&tlb->live.tree, &addr, live_key));
    if (!x) return;
    as_rb_aerase(&tlb->live, &x->node);
    x->node.child[0] = tlb->spare ? &tlb->spare->node : NULL;
    tlb->spare = x;
}

uint64_t as_tlb_live_bytes(const as_tlb_t *tlb)
{
    return sum_of(tlb->live.tree.root);
}

uintptr_t as_tlb_live_pick(const as_tlb_t *tlb, uint64_t u)
{
    const as_rb_node_t *n = tlb->live.tree.root;
    while (n) {
        uint64_t left = sum_of(n->child[0]);
        const live_node_t *x = live_of(n);
        if (u < left) {
            n = n->child[0];
        } else if (u - left < x->bytes) {
            return x->addr + (uintptr_t)(u - left);
        } else {
            u -= left + x->bytes;
            n = n->child[1];
        }
    }
    return 0;
}

void as_tlb_draw(as_tlb_t *tlb, const as_simos_t *os)
{
    tlb->c.draws++;
    uint64_t total = as_tlb_live_bytes(tlb);
    if (total == 0) return;
    for (uint64_t i = 0; i < tlb->cfg.accesses; i++) {
        uintptr_t a = as_tlb_live_pick(tlb, as_rng_below(&tlb->rng, total));
        int huge = 0;
        if (as_simos_region(os, a, NULL, NULL, &huge) != 0) huge = 0;
        as_tlb_lookup(tlb, a, huge);
    }
}

/* ---- lifetime ------------------------------------------------------------ */

int as_tlb_create(const as_tlb_config_t *cfg, as_tlb_t **out)
{
    *out = NULL;
    if (as_tlb_config_check(cfg, NULL, 0)) return AS_EINVAL;
    as_tlb_t *t = calloc(1, sizeof *t);
    if (!t) return AS_ENOMEM;
    t->cfg = *cfg;
    as_rb_ainit(&t->live, live_augment);
    as_rng_seed(&t->rng, cfg->seed);
    if (array_init(&t->l1_4k, &cfg->l1_4k) ||
        array_init(&t->l1_2m, &cfg->l1_2m) || array_init(&t->l2, &cfg->l2)) {
        as_tlb_destroy(t);
        return AS_ENOMEM;
    }
    *out = t;
    return 0;
}

static void free_nodes(as_rb_node_t *n)
{
    while (n) {
        free_nodes(n->child[0]);
        as_rb_node_t *r = n->child[1];
        free(live_of(n));
        n = r;
    }
}

void as_tlb_destroy(as_tlb_t *tlb)
{
    if (!tlb) return;
    free_nodes(tlb->live.tree.root);
    while (tlb->spare) {
        live_node_t *x = tlb->spare;
        tlb->spare = live_of(x->node.child[0]);
        free(x);
    }
    free(tlb->l1_4k.keys);
    free(tlb->l1_2m.keys);
    free(tlb->l2.keys);
    free(tlb);
}

const as_tlb_counters_t *as_tlb_counters(const as_tlb_t *tlb)
{
    return &tlb->c;
}

void as_tlb_rates(const as_tlb_counters_t *c, as_tlb_rates_t *q)
{
    double n = (double)c->accesses;
    q->l1_misses_per_1000 = n > 0 ? 1000.0 * (double)c->l1_misses / n : 0;
    q->walks_per_1000 = n > 0 ? 1000.0 * (double)c->walks / n : 0;
    q->huge_share = n > 0 ? (double)c->huge_accesses / n : 0;
}

/* 1 when every node's sum is its bytes plus its children's sums. */
static int check_sums(const as_rb_node_t *n)
{
    if (!n) return 1;
    const live_node_t *x = live_of(n);
    return x->sum == x->bytes + sum_of(n->child[0]) + sum_of(n->child[1]) &&
           check_sums(n->child[0]) && check_sums(n->child[1]);
}

int as_tlb_check(const as_tlb_t *tlb)
{
    if (as_rb_check(&tlb->live.tree, live_cmp) ||
        !check_sums(tlb->live.tree.root))
        return AS_ECHECK;
    return 0;
}

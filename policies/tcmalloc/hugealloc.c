/* hugealloc.c - the HugeAllocator: unbacked hugepages and the address
 * space they come from, and the hugepage range sets it shares with the
 * HugeCache.
 *
 * Follows TCMalloc's huge_allocator.h: address space is reserved from the
 * page source in large chunks (reserve_bytes, 1 GiB) so VSS >> RSS; free
 * hugepage ranges live in an address-ordered set that merges neighbours
 * (the HugeCache keeps its backed hugepages in a second set of the same
 * kind, hugecache.c). Owns tc_hugealloc_t: the unbacked set, the range and
 * reservation records, the reservations. Calls no other component; never
 * touches user memory.
 */
#include "policies/tcmalloc/tc_internal.h"

#include "common/util.h"

/* ---------------------------------------------------------- rangesets */

static int range_key(const void *key, const as_rb_node_t *n)
{
    uintptr_t k = *(const uintptr_t *)key;
    uintptr_t s = AS_RB_ENTRY(n, tc_range_t, node)->start;
    return k < s ? -1 : k > s;
}

static int range_cmp(const as_rb_node_t *a, const as_rb_node_t *b)
{
    uintptr_t x = AS_RB_ENTRY(a, tc_range_t, node)->start;
    uintptr_t y = AS_RB_ENTRY(b, tc_range_t, node)->start;
    return x < y ? -1 : x > y;
}

void as_tc_rangeset_init(tc_rangeset_t *r)
{
    as_rb_init(&r->tree);
    r->hps = 0;
}

int as_tc_rangeset_put(tc_env_t *e, tc_hugealloc_t *a, tc_rangeset_t *r,
                       uintptr_t start, uint64_t nhps)
{
    uintptr_t end = start + (nhps << e->hp_shift);
    as_rb_node_t *pn = as_rb_floor(&r->tree, &start, range_key);
    tc_range_t *prev = pn ? AS_RB_ENTRY(pn, tc_range_t, node) : NULL;
    as_rb_node_t *nn =
        pn ? as_rb_next(pn) : as_rb_lower_bound(&r->tree, &start, range_key);
    tc_range_t *next = nn ? AS_RB_ENTRY(nn, tc_range_t, node) : NULL;
    r->hps += nhps;
    if (prev && prev->start + (prev->nhps << e->hp_shift) == start) {
        prev->nhps += nhps;
        if (next && next->start == end) {
            prev->nhps += next->nhps;
            as_rb_erase(&r->tree, &next->node);
            as_objlist_push(&a->range_pool, next);
        }
        return AS_OK;
    }
    if (next && next->start == end) {
        /* the node keeps its place in the order: nothing lies between */
        next->start = start;
        next->nhps += nhps;
        return AS_OK;
    }
    tc_range_t *x = as_tc_pool_get(e, &a->range_pool);
    if (!x) {
        r->hps -= nhps;
        return AS_ENOMEM;
    }
    x->start = start;
    x->nhps = nhps;
    as_rb_insert(&r->tree, &x->node, range_cmp);
    return AS_OK;
}

static void carve(tc_env_t *e, tc_hugealloc_t *al, tc_rangeset_t *r,
                  tc_range_t *x, uintptr_t a, uint64_t nhps)
{
    uintptr_t end = x->start + (x->nhps << e->hp_shift);
    uintptr_t aend = a + (nhps << e->hp_shift);
    r->hps -= nhps;
    if (a == x->start) {
        x->start = aend;
        x->nhps -= nhps;
        if (!x->nhps) {
            as_rb_erase(&r->tree, &x->node);
            as_objlist_push(&al->range_pool, x);
        }
        return;
    }
    x->nhps = (a - x->start) >> e->hp_shift;
    if (aend < end) {
        uint64_t back = (end - aend) >> e->hp_shift;
        r->hps -= back; /* put adds it back */
        if (as_tc_rangeset_put(e, al, r, aend, back) != AS_OK) {
            /* out of metadata: leak the back part's address space only */
        }
    }
}

int as_tc_rangeset_take(tc_env_t *e, tc_hugealloc_t *al, tc_rangeset_t *r,
                        uint64_t nhps, uint64_t align, uintptr_t *start)
{
    tc_range_t *best = NULL;
    uintptr_t best_a = 0;
    uint64_t hp_bytes = e->hp_bytes;
    for (as_rb_node_t *n = as_rb_first(&r->tree); n; n = as_rb_next(n)) {
        tc_range_t *x = AS_RB_ENTRY(n, tc_range_t, node);
        uintptr_t a =
            align > hp_bytes ? as_align_up(x->start, align) : x->start;
        uintptr_t end = x->start + (x->nhps << e->hp_shift);
        if (a + (nhps << e->hp_shift) > end) continue;
        if (!best || x->nhps < best->nhps) {
            best = x;
            best_a = a;
            if (x->nhps == nhps) break;
        }
    }
    if (!best) return AS_ENOMEM;
    carve(e, al, r, best, best_a, nhps);
    *start = best_a;
    return AS_OK;
}

int as_tc_rangeset_check(const tc_env_t *e, const tc_rangeset_t *r,
                         as_msg_t *why, const char *name)
{
    if (as_rb_check(&r->tree, range_cmp)) {
        as_msg_str(why, name);
        return as_msg_fail(why, ": range tree malformed", NULL, 0);
    }
    uint64_t sum = 0;
    uintptr_t prev_end = 0;
    for (as_rb_node_t *n = as_rb_first(&r->tree); n; n = as_rb_next(n)) {
        const tc_range_t *x = AS_RB_ENTRY(n, tc_range_t, node);
        if (x->nhps == 0 || (prev_end && x->start <= prev_end)) {
            as_msg_str(why, name);
            return as_msg_fail(why, ": empty, overlapping or uncoalesced range",
                               "range_addr", x->start);
        }
        prev_end = x->start + (x->nhps << e->hp_shift);
        sum += x->nhps;
    }
    if (sum != r->hps) {
        as_msg_str(why, name);
        return as_msg_fail(why, ": hps != sum over its ranges", "hps", r->hps);
    }
    return AS_OK;
}

/* ---------------------------------------------------------- allocator */

void as_tc_hugealloc_init(tc_hugealloc_t *a)
{
    as_objlist_init(&a->range_pool, sizeof(tc_range_t));
    as_objlist_init(&a->resv_pool, sizeof(tc_reservation_t));
    as_tc_rangeset_init(&a->unbacked);
    a->reservations = NULL;
    a->hps_from_os = 0;
}

static int reserve_more(tc_env_t *e, tc_hugealloc_t *a, uint64_t nhps,
                        uint64_t align)
{
    uint64_t bytes = e->p[TC_P_RESERVE_BYTES].u;
    if (bytes < (nhps << e->hp_shift)) bytes = nhps << e->hp_shift;
    bytes = as_align_up(bytes, e->hp_bytes);
    if (align < e->hp_bytes) align = e->hp_bytes;
    tc_reservation_t *rv = as_tc_pool_get(e, &a->resv_pool);
    if (!rv) return AS_ENOMEM;
    uintptr_t addr;
    int rc = as_ps_reserve(e->ps, 0, bytes, align, &addr);
    if (rc != AS_OK) {
        as_objlist_push(&a->resv_pool, rv);
        return AS_ENOMEM;
    }
    if (e->p[TC_P_MADVISE_HUGEPAGE].u)
        as_ps_hugepage_hint(e->ps, addr, bytes, 1);
    rv->addr = addr;
    rv->bytes = bytes;
    rv->next = a->reservations;
    a->reservations = rv;
    a->hps_from_os += bytes >> e->hp_shift;
    return as_tc_rangeset_put(e, a, &a->unbacked, addr, bytes >> e->hp_shift);
}

int as_tc_hugealloc_get(tc_env_t *e, tc_hugealloc_t *a, uint64_t nhps,
                        uint64_t align, uintptr_t *start)
{
    if (as_tc_rangeset_take(e, a, &a->unbacked, nhps, align, start) == AS_OK)
        return AS_OK;
    int rc = reserve_more(e, a, nhps, align);
    if (rc != AS_OK) return rc;
    return as_tc_rangeset_take(e, a, &a->unbacked, nhps, align, start);
}

void as_tc_hugealloc_put(tc_env_t *e, tc_hugealloc_t *a, uintptr_t start,
                         uint64_t nhps)
{
    as_tc_rangeset_put(e, a, &a->unbacked, start, nhps);
}

void as_tc_hugealloc_unreserve_all(tc_env_t *e, tc_hugealloc_t *a)
{
    for (tc_reservation_t *r = a->reservations; r; r = r->next)
        as_ps_unreserve(e->ps, r->addr, r->bytes);
    a->reservations = NULL;
}

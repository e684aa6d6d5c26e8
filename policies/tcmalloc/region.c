/* region.c - the HugeRegionSet: large allocations that are not a whole
 * number of hugepages, packed best-fit into big runs of hugepages.
 *
 * Follows TCMalloc's huge_region.h: a region is region_bytes of address
 * space (1 GiB) with a page bitmap; a request takes the best-fitting free
 * run of pages (lowest address on ties) in the first region that has one;
 * a hugepage becomes backed when its first page is used. When its last
 * page is freed it is released at once in TCMalloc's kDefault mode
 * (region_more_often=off); in the current default, kUseForAllLargeAllocs
 * (region_more_often=on), it stays backed and free until a background
 * release returns a tenth of the free-backed hugepages, lowest address
 * first (HugeRegionSet::ReleasePages, HugeRegion::Release with adaptive
 * release off). Owns tc_regions_t and the region
 * records; the page heap gives it the address space (as_tc_regions_place)
 * and decides when a new region is worth making. Calls no other component;
 * never touches user memory.
 */
#include "policies/tcmalloc/tc_internal.h"

void as_tc_regions_init(tc_regions_t *rs)
{
    rs->list = NULL;
    rs->backed_hps = rs->used_pages = rs->pages = rs->created = 0;
    rs->free_backed_hps = rs->released_hps = 0;
}

tc_region_t *as_tc_regions_new(tc_env_t *e, uint64_t nhps)
{
    tc_region_t *r = as_tc_meta_alloc(e, sizeof *r);
    if (!r) return NULL;
    r->nhps = (uint32_t)nhps;
    r->npages = (uint32_t)(nhps * e->pph);
    r->used = as_tc_meta_alloc(e, ((r->npages + 63) / 64) * 8ull);
    r->hp_used = as_tc_meta_alloc(e, nhps * sizeof(uint16_t));
    r->backed = as_tc_meta_alloc(e, nhps);
    if (!r->used || !r->hp_used || !r->backed) {
        as_tc_regions_discard(e, r);
        return NULL;
    }
    return r;
}

void as_tc_regions_discard(tc_env_t *e, tc_region_t *r)
{
    as_tc_meta_free(e, r->used);
    as_tc_meta_free(e, r->hp_used);
    as_tc_meta_free(e, r->backed);
    as_tc_meta_free(e, r);
}

void as_tc_regions_place(tc_regions_t *rs, tc_region_t *r, uintptr_t base)
{
    r->base = base;
    r->next = rs->list;
    rs->list = r;
    rs->created++;
    rs->pages += r->npages;
}

static void unback(tc_env_t *e, tc_regions_t *rs, tc_region_t *r, uint32_t h)
{
    r->backed[h] = 0;
    r->backed_hps--;
    rs->backed_hps--;
    as_ps_release(e->ps, r->base + ((uintptr_t)h << e->hp_shift), e->hp_bytes);
}

/* Mark pages [pos, pos+n) used or free, keeping the per-hugepage counts
 * (HugeRegion::Inc and Dec). */
static void region_mark(tc_env_t *e, tc_regions_t *rs, tc_region_t *r,
                        uint32_t pos, uint32_t n, int use)
{
    int keep = (int)e->p[TC_P_REGION_MORE_OFTEN].u;
    for (uint32_t i = pos; i < pos + n; i++) {
        uint32_t h = i / e->pph;
        if (use) {
            r->used[i >> 6] |= 1ull << (i & 63);
            if (r->hp_used[h]++ == 0) {
                if (r->backed[h]) {
                    r->free_backed_hps--;
                    rs->free_backed_hps--;
                } else {
                    r->backed[h] = 1;
                    r->backed_hps++;
                    rs->backed_hps++;
                }
            }
        } else {
            r->used[i >> 6] &= ~(1ull << (i & 63));
            if (--r->hp_used[h] == 0) {
                if (keep) {
                    r->free_backed_hps++;
                    rs->free_backed_hps++;
                } else {
                    unback(e, rs, r, h);
                }
            }
        }
    }
    if (use) {
        r->used_pages += n;
        rs->used_pages += n;
    } else {
        r->used_pages -= n;
        rs->used_pages -= n;
    }
}

uintptr_t as_tc_regions_try_get(tc_env_t *e, tc_regions_t *rs, uint32_t n,
                                tc_region_t **where)
{
    for (tc_region_t *r = rs->list; r; r = r->next) {
        if (r->npages - r->used_pages < n) continue;
        uint32_t pos = as_tc_best_fit(r->used, r->npages, n, NULL);
        if (pos == UINT32_MAX) continue;
        region_mark(e, rs, r, pos, n, 1);
        *where = r;
        return r->base + ((uintptr_t)pos << e->page_shift);
    }
    return 0;
}

void as_tc_regions_put(tc_env_t *e, tc_regions_t *rs, tc_region_t *r,
                       uintptr_t addr, uint32_t n)
{
    region_mark(e, rs, r, (uint32_t)((addr - r->base) >> e->page_shift), n, 0);
}

uint64_t as_tc_regions_release(tc_env_t *e, tc_regions_t *rs)
{
    /* kFractionToReleaseFromRegion = 0.1 of the free-backed pages,
     * truncated; each region then releases whole hugepages, lowest address
     * first, until it has covered its share */
    uint64_t to_release = rs->free_backed_hps * e->pph / 10;
    uint64_t released = 0;
    for (tc_region_t *r = rs->list; r && released < to_release; r = r->next) {
        uint64_t want = to_release - released;
        uint64_t have = (uint64_t)r->free_backed_hps * e->pph;
        if (want > have) want = have;
        uint64_t got = 0;
        for (uint32_t h = 0; h < r->nhps && got < want; h++) {
            if (!r->backed[h] || r->hp_used[h]) continue;
            unback(e, rs, r, h);
            r->free_backed_hps--;
            rs->free_backed_hps--;
            rs->released_hps++;
            got += e->pph;
        }
        released += got;
    }
    return released;
}

int as_tc_regions_check(const tc_env_t *e, const tc_regions_t *rs,
                        as_msg_t *why)
{
    uint64_t backed = 0, free_backed = 0, used = 0, pages = 0, n = 0;
    for (const tc_region_t *r = rs->list; r; r = r->next) {
        uint32_t r_backed = 0;
        if (++n > rs->created)
            return as_msg_fail(why, "regions: list longer than regions made",
                               "created", rs->created);
        if (r->npages != r->nhps * e->pph ||
            as_tc_bits_count(r->used, 0, r->npages) != r->used_pages)
            return as_msg_fail(why,
                               "regions: used_pages != popcount(used), or "
                               "pages != hugepages * pph",
                               "region_addr", r->base);
        uint32_t r_free_backed = 0;
        for (uint32_t h = 0; h < r->nhps; h++) {
            if (as_tc_bits_count(r->used, h * e->pph, e->pph) !=
                    r->hp_used[h] ||
                (r->hp_used[h] && !r->backed[h]))
                return as_msg_fail(why,
                                   "regions: hp_used != used pages of its "
                                   "hugepage, or a used hugepage unbacked",
                                   "hugepage_addr",
                                   r->base + ((uintptr_t)h << e->hp_shift));
            r_backed += r->backed[h] != 0;
            r_free_backed += r->backed[h] && !r->hp_used[h];
        }
        if (r_backed != r->backed_hps || r_free_backed != r->free_backed_hps ||
            (r_free_backed && !e->p[TC_P_REGION_MORE_OFTEN].u))
            return as_msg_fail(why,
                               "regions: backed_hps or free_backed_hps != "
                               "their count (free-backed hugepages need "
                               "region_more_often)",
                               "region_addr", r->base);
        backed += r_backed;
        free_backed += r_free_backed;
        used += r->used_pages;
        pages += r->npages;
    }
    if (backed != rs->backed_hps || free_backed != rs->free_backed_hps ||
        used != rs->used_pages || pages != rs->pages || n != rs->created)
        return as_msg_fail(why, "regions: set totals != sums over its regions",
                           "regions", n);
    return AS_OK;
}

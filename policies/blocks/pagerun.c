/* pagerun.c - large objects as whole runs of pages.
 *
 * Owns the reservations of objects too big for any size class: one page
 * source reservation per object, recorded in a u64map by address so that a
 * free without a size (policy rule 5) finds its length. It never touches the
 * run's memory and uses no libc; the map lives in the metadata arena.
 */
#include "policies/blocks/pagerun.h"

#include "common/error.h"
#include "common/util.h"

void as_pageruns_init(as_pageruns_t *r, const as_pagesource_t *ps)
{
    r->ps = ps;
    as_u64map_init(&r->runs, &ps->meta);
    r->count = r->bytes = r->peak_bytes = r->allocs = 0;
}

int as_pageruns_alloc(as_pageruns_t *r, uint64_t size, uint64_t align,
                      uintptr_t *addr, uint64_t *bytes)
{
    uint64_t page = r->ps->page_bytes;
    if (align < page) align = page;
    if (size == 0) size = 1;
    if (size > UINT64_MAX / 2 || !as_is_pow2(align)) return AS_ETOO_LARGE;
    uint64_t len = as_align_up(size, page);
    if (len > (uint64_t)SIZE_MAX) return AS_ETOO_LARGE;
    int rc = as_u64map_reserve(&r->runs, 1);
    if (rc != AS_OK) return rc;
    uintptr_t a;
    rc = as_ps_reserve(r->ps, 0, (size_t)len, (size_t)align, &a);
    if (rc != AS_OK) return rc;
    as_u64map_put(&r->runs, a, len); /* cannot fail after reserve(1) */
    r->count++;
    r->allocs++;
    r->bytes += len;
    if (r->bytes > r->peak_bytes) r->peak_bytes = r->bytes;
    *addr = a;
    *bytes = len;
    return AS_OK;
}

int as_pageruns_free(as_pageruns_t *r, uintptr_t addr, uint64_t *bytes)
{
    uint64_t len;
    if (!as_u64map_remove(&r->runs, addr, &len)) return AS_EINVAL;
    as_ps_unreserve(r->ps, addr, (size_t)len);
    r->count--;
    r->bytes -= len;
    if (bytes) *bytes = len;
    return AS_OK;
}

uint64_t as_pageruns_size(const as_pageruns_t *r, uintptr_t addr)
{
    uint64_t len = 0;
    return as_u64map_get(&r->runs, addr, &len) ? len : 0;
}

void as_pageruns_fini(as_pageruns_t *r)
{
    size_t it = 0;
    uint64_t a, len;
    while (as_u64map_next(&r->runs, &it, &a, &len))
        as_ps_unreserve(r->ps, (uintptr_t)a, (size_t)len);
    as_u64map_fini(&r->runs);
    r->count = r->bytes = 0;
}

/* private_heaps.c - the `private-heaps` policy: per-processor heaps where a
 * free goes to the freeing processor's heap.
 *
 * This file owns the strawman's two rules only (allocate from my free list
 * or carve from my superblock; free onto my free list); size classes,
 * superblock descriptors, out-of-band free lists and large page runs come
 * from policies/blocks/. The free lists hold addresses in metadata chunks
 * because a policy never writes into the blocks it hands out (policy rule
 * 1); a real implementation would thread them through the free blocks. All
 * metadata comes from the page source's arena; no libc.
 */
#include "policies/heaps/private_heaps.h"

#include "common/u64map.h"
#include "common/util.h"
#include "policies/blocks/freelist.h"
#include "policies/blocks/pagerun.h"
#include "policies/blocks/sizeclass.h"
#include "policies/blocks/superblock.h"

enum {
    P_SUPERBLOCK,
    P_CLASSES,
    P_GROWTH,
    P_HEAPS,
    P_LARGE,
    P_HEAP_SELECT,
    P_COUNT
};

static const as_param_spec_t private_params[P_COUNT] = {
    [P_SUPERBLOCK] = {"superblock", AS_PARAM_POW2, "8K", 4096, 1 << 30, 0,
                      "bytes carved at a time per heap and class, a power of "
                      "two"},
    [P_CLASSES] = {"classes", AS_PARAM_ENUM, "geometric", 0, 0,
                   "geometric|pow2", "size-class spacing"},
    [P_GROWTH] = {"growth", AS_PARAM_DOUBLE, "1.2", 1.01, 4, 0,
                  "geometric size-class factor b"},
    [P_HEAPS] = {"heaps", AS_PARAM_U64, "8", 1, 4096, 0,
                 "per-processor heaps P"},
    [P_LARGE] = {"large_threshold", AS_PARAM_BYTES, "0", 0, 1 << 30, 0,
                 "objects above this go straight to the page source "
                 "(0 = S/2)"},
    [P_HEAP_SELECT] = {"heap_select", AS_PARAM_ENUM, "cpu", 0, 0, "cpu|thread",
                       "heap of a request (and of a free): cpu mod P, or a "
                       "hash of the thread"},
};

/* One size class of one heap. */
typedef struct {
    as_addrstack_t free;    /* blocks freed on this heap, any superblock */
    as_superblock_t *carve; /* superblock being carved, or NULL */
    uint32_t next_slot;     /* first uncarved slot of `carve` */
} pclass_t;

typedef struct {
    const as_pagesource_t *ps;
    const as_mem_t *mem;
    uint64_t sb_bytes, large_bytes;
    uint32_t sb_shift, n_heaps;
    int by_thread;
    as_sizeclass_map_t classes;
    pclass_t *cls;     /* n_heaps * classes.n, heap-major */
    as_u64map_t sbmap; /* superblock base >> shift -> descriptor */
    as_pageruns_t large;
    /* figures */
    uint64_t superblocks, in_use_bytes, free_list_bytes;
    uint64_t footprint_bytes, peak_footprint_bytes, peak_in_use_bytes;
    uint64_t remote_frees; /* frees on a heap other than the carver */
} pheaps_t;

static uint32_t heap_of(const pheaps_t *h, const as_ctx_t *ctx)
{
    uint64_t key = h->by_thread ? as_hash64(ctx->thread) : ctx->cpu;
    return (uint32_t)(key % h->n_heaps);
}

static void note_peaks(pheaps_t *h)
{
    h->footprint_bytes = h->superblocks * h->sb_bytes + h->large.bytes;
    if (h->footprint_bytes > h->peak_footprint_bytes)
        h->peak_footprint_bytes = h->footprint_bytes;
    if (h->in_use_bytes > h->peak_in_use_bytes)
        h->peak_in_use_bytes = h->in_use_bytes;
}

static as_superblock_t *sb_of(const pheaps_t *h, uintptr_t addr)
{
    uint64_t v;
    if (!as_u64map_get(&h->sbmap, addr >> h->sb_shift, &v)) return 0;
    return (as_superblock_t *)(uintptr_t)v;
}

static int private_create(const as_policy_config_t *cfg, void **state)
{
    const as_param_value_t *v = cfg->params;
    const as_pagesource_t *ps = cfg->ps;
    uint64_t S = v[P_SUPERBLOCK].u;
    as_msg_t *why = cfg->why;
    if (!as_is_pow2(S)) return AS_EINVAL; /* the spec ensures */
    if (S < ps->page_bytes)
        return as_msg_refuse(why, "private-heaps.superblock", S,
                             "is below the OS page size", NULL, ps->page_bytes);
    uint64_t large = v[P_LARGE].u ? v[P_LARGE].u : S / 2;
    if (large > S) large = S;
    if (large < 16)
        return as_msg_refuse(why, "private-heaps.large_threshold", large,
                             "is below the smallest size class", NULL, 16);

    pheaps_t *h = as_mem_alloc(&ps->meta, sizeof *h);
    if (!h) return AS_ENOMEM;
    *h = (pheaps_t){0};
    h->ps = ps;
    h->mem = &ps->meta;
    h->sb_bytes = S;
    h->large_bytes = large;
    h->sb_shift = (uint32_t)__builtin_ctzll(S);
    h->n_heaps = (uint32_t)v[P_HEAPS].u;
    h->by_thread = v[P_HEAP_SELECT].u == 1;
    as_u64map_init(&h->sbmap, h->mem);
    as_pageruns_init(&h->large, ps);
    int rc = as_sizeclass_init(&h->classes, h->mem,
                               v[P_CLASSES].u ? AS_SIZECLASS_POW2
                                              : AS_SIZECLASS_GEOMETRIC,
                               v[P_GROWTH].d, large);
    if (rc == AS_OK && h->classes.max_bytes > S)
        rc = as_msg_refuse(why, "private-heaps.superblock", S,
                           "cannot hold the largest size class", NULL,
                           h->classes.max_bytes);
    else if (rc == AS_ERANGE)
        as_msg_refuse(why, "private-heaps.large_threshold", large,
                      "needs, at this growth, more size classes than the most,",
                      NULL, AS_SIZECLASS_MAX);
    if (rc == AS_OK) {
        size_t n = (size_t)h->n_heaps * h->classes.n;
        h->cls = as_mem_alloc(h->mem, n * sizeof *h->cls);
        if (!h->cls) rc = AS_ENOMEM;
        for (size_t i = 0; rc == AS_OK && i < n; i++) {
            as_addrstack_init(&h->cls[i].free, h->mem);
            h->cls[i].carve = 0;
            h->cls[i].next_slot = 0;
        }
    }
    if (rc != AS_OK) {
        as_sizeclass_fini(&h->classes);
        as_mem_free(h->mem, h, sizeof *h);
        return rc;
    }
    *state = h;
    return AS_OK;
}

static int private_alloc(void *state, const as_ctx_t *ctx, size_t size,
                         size_t align, as_block_t *out)
{
    pheaps_t *h = state;
    if (align == 0) align = 16;
    if (!as_is_pow2(align)) return AS_EINVAL;
    int c = size <= h->large_bytes
                ? as_sizeclass_of_aligned(&h->classes, size, align)
                : -1;
    if (c < 0) {
        uintptr_t a;
        uint64_t bytes;
        int rc = as_pageruns_alloc(&h->large, size, align, &a, &bytes);
        if (rc != AS_OK) return rc;
        h->in_use_bytes += bytes;
        note_peaks(h);
        out->addr = a;
        out->bytes = (size_t)bytes;
        return AS_OK;
    }
    pclass_t *pc = &h->cls[(size_t)heap_of(h, ctx) * h->classes.n + (size_t)c];
    uintptr_t addr;
    as_superblock_t *sb;
    if (as_addrstack_pop(&pc->free, &addr)) {
        sb = sb_of(h, addr);
        h->free_list_bytes -= sb->block_bytes;
    } else {
        if (!pc->carve || pc->next_slot == pc->carve->slots.capacity) {
            int rc = as_u64map_reserve(&h->sbmap, 1);
            if (rc != AS_OK) return rc;
            sb = as_superblock_new(h->mem, 0, h->sb_bytes);
            if (!sb) return AS_ENOMEM;
            uintptr_t base;
            rc = as_ps_reserve(h->ps, 0, h->sb_bytes, h->sb_bytes, &base);
            if (rc != AS_OK) {
                as_superblock_delete(h->mem, sb, h->sb_bytes);
                return rc;
            }
            sb->base = base;
            sb->owner = (int32_t)heap_of(h, ctx);
            as_superblock_format(sb, h->sb_bytes, c,
                                 as_sizeclass_bytes(&h->classes, c));
            as_u64map_put(&h->sbmap, base >> h->sb_shift,
                          (uint64_t)(uintptr_t)sb);
            h->superblocks++;
            pc->carve = sb;
            pc->next_slot = 0;
        }
        sb = pc->carve;
        addr = sb->base + (uintptr_t)pc->next_slot++ * sb->block_bytes;
    }
    as_slotmap_set(&sb->slots, (uint32_t)as_superblock_slot_of(sb, addr));
    h->in_use_bytes += sb->block_bytes;
    note_peaks(h);
    out->addr = addr;
    out->bytes = sb->block_bytes;
    return AS_OK;
}

static int private_free(void *state, const as_ctx_t *ctx, uintptr_t addr,
                        size_t size_hint)
{
    pheaps_t *h = state;
    as_superblock_t *sb = sb_of(h, addr);
    if (!sb) {
        uint64_t bytes;
        int rc = as_pageruns_free(&h->large, addr, &bytes);
        if (rc != AS_OK) return rc;
        h->in_use_bytes -= bytes;
        note_peaks(h);
        return AS_OK;
    }
    if ((addr - sb->base) % sb->block_bytes) return AS_EINVAL;
    int64_t slot = as_superblock_slot_of(sb, addr);
    if (slot < 0 || as_slotmap_put(&sb->slots, (uint32_t)slot) != AS_OK)
        return AS_EINVAL;
    uint32_t heap = heap_of(h, ctx);
    pclass_t *pc = &h->cls[(size_t)heap * h->classes.n + (size_t)sb->sclass];
    int rc = as_addrstack_push(&pc->free, addr);
    if (rc != AS_OK) {
        as_slotmap_set(&sb->slots, (uint32_t)slot);
        return rc;
    }
    if ((int32_t)heap != sb->owner) h->remote_frees++;
    h->in_use_bytes -= sb->block_bytes;
    h->free_list_bytes += sb->block_bytes;
    note_peaks(h);
    return AS_OK;
}

static size_t private_usable_size(void *state, uintptr_t addr)
{
    pheaps_t *h = state;
    as_superblock_t *sb = sb_of(h, addr);
    if (!sb) return (size_t)as_pageruns_size(&h->large, addr);
    if ((addr - sb->base) % sb->block_bytes) return 0;
    int64_t i = as_superblock_slot_of(sb, addr);
    return i >= 0 && as_slotmap_test(&sb->slots, (uint32_t)i) ? sb->block_bytes
                                                              : 0;
}

static void private_stats(void *state, as_stat_fn fn, void *arg)
{
    pheaps_t *h = state;
    double peak_u = (double)h->peak_in_use_bytes;
    fn(arg, "superblocks", (double)h->superblocks);
    fn(arg, "large_bytes_peak", (double)h->large.peak_bytes);
    fn(arg, "free_list_bytes", (double)h->free_list_bytes);
    fn(arg, "remote_frees", (double)h->remote_frees);
    fn(arg, "footprint_bytes_peak", (double)h->peak_footprint_bytes);
    fn(arg, "in_use_bytes_peak", peak_u);
    fn(arg, "blowup",
       peak_u > 0 ? (double)h->peak_footprint_bytes / peak_u : 0);
}

static void private_destroy(void *state)
{
    pheaps_t *h = state;
    size_t it = 0;
    uint64_t key, v;
    while (as_u64map_next(&h->sbmap, &it, &key, &v)) {
        as_superblock_t *sb = (as_superblock_t *)(uintptr_t)v;
        as_ps_unreserve(h->ps, sb->base, h->sb_bytes);
        as_superblock_delete(h->mem, sb, h->sb_bytes);
    }
    size_t n = (size_t)h->n_heaps * h->classes.n;
    for (size_t i = 0; i < n; i++)
        as_addrstack_fini(&h->cls[i].free);
    as_mem_free(h->mem, h->cls, n * sizeof *h->cls);
    as_pageruns_fini(&h->large);
    as_u64map_fini(&h->sbmap);
    as_sizeclass_fini(&h->classes);
    as_mem_free(h->mem, h, sizeof *h);
}

/* The check hook: the block partition of the header comment. Counted in
 * bytes: sum over superblocks of capacity * block size == bytes in use in
 * superblocks + bytes on free lists + bytes not carved yet. */
static int private_check(const void *state, as_msg_t *why)
{
    const pheaps_t *h = state;
    size_t it = 0;
    uint64_t key, v, n_sb = 0, cap_bytes = 0, used_bytes = 0;
    while (as_u64map_next(&h->sbmap, &it, &key, &v)) {
        const as_superblock_t *sb = (const as_superblock_t *)(uintptr_t)v;
        n_sb++;
        if (sb->base >> h->sb_shift != key || sb->owner < 0 ||
            (uint32_t)sb->owner >= h->n_heaps || sb->sclass < 0 ||
            (uint32_t)sb->sclass >= h->classes.n ||
            sb->block_bytes != as_sizeclass_bytes(&h->classes, sb->sclass))
            return as_msg_fail(why,
                               "private-heaps: superblock has a bad base, "
                               "owner or class",
                               "superblock_addr", sb->base);
        if (as_slotmap_check(&sb->slots) != AS_OK)
            return as_msg_fail(why,
                               "private-heaps: slot count != popcount of the "
                               "slot bitmap",
                               "superblock_addr", sb->base);
        cap_bytes += (uint64_t)sb->slots.capacity * sb->block_bytes;
        used_bytes += (uint64_t)sb->slots.used * sb->block_bytes;
    }
    if (n_sb != h->superblocks)
        return as_msg_fail(why, "private-heaps: superblocks != map entries",
                           "superblocks", h->superblocks);
    uint64_t free_bytes = 0, uncarved_bytes = 0;
    for (size_t i = 0; i < (size_t)h->n_heaps * h->classes.n; i++) {
        const pclass_t *pc = &h->cls[i];
        int32_t c = (int32_t)(i % h->classes.n);
        free_bytes += pc->free.n * as_sizeclass_bytes(&h->classes, c);
        if (!pc->carve) continue;
        const as_superblock_t *sb = pc->carve;
        if (sb->sclass != c || pc->next_slot > sb->slots.capacity)
            return as_msg_fail(why,
                               "private-heaps: carving superblock of another "
                               "class or cursor past its end",
                               "superblock_addr", sb->base);
        for (uint32_t k = pc->next_slot; k < sb->slots.capacity; k++)
            if (as_slotmap_test(&sb->slots, k))
                return as_msg_fail(why,
                                   "private-heaps: an uncarved slot is in use",
                                   "superblock_addr", sb->base);
        uncarved_bytes +=
            (uint64_t)(sb->slots.capacity - pc->next_slot) * sb->block_bytes;
    }
    if (free_bytes != h->free_list_bytes)
        return as_msg_fail(why,
                           "private-heaps: free_list_bytes != bytes on the "
                           "free lists",
                           "free_list_bytes", h->free_list_bytes);
    if (used_bytes + h->large.bytes != h->in_use_bytes)
        return as_msg_fail(why,
                           "private-heaps: in_use_bytes != used slots + large "
                           "runs",
                           "in_use_bytes", h->in_use_bytes);
    if (used_bytes + free_bytes + uncarved_bytes != cap_bytes)
        return as_msg_fail(why,
                           "private-heaps: in use + free lists + uncarved != "
                           "superblock capacity (a block lost or counted "
                           "twice)",
                           "capacity_bytes", cap_bytes);
    if (h->footprint_bytes != h->superblocks * h->sb_bytes + h->large.bytes ||
        h->peak_footprint_bytes < h->footprint_bytes ||
        h->peak_in_use_bytes < h->in_use_bytes)
        return as_msg_fail(why,
                           "private-heaps: footprint or a peak inconsistent",
                           "footprint_bytes", h->footprint_bytes);
    return 0;
}

int as_private_heaps_debug_corrupt(void *state)
{
    ((pheaps_t *)state)->free_list_bytes += 16;
    return 0;
}

const as_policy_ops_t as_policy_private_heaps = {
    .name = "private-heaps",
    .doc = "strawman: per-CPU heaps, a free goes to the freeing CPU's heap "
           "(unbounded blowup under producer-consumer)",
    .params = private_params,
    .n_params = P_COUNT,
    .create = private_create,
    .alloc = private_alloc,
    .free = private_free,
    .realloc = 0,
    .usable_size = private_usable_size,
    .tick = 0,
    .stats = private_stats,
    .destroy = private_destroy,
    .check = private_check,
};

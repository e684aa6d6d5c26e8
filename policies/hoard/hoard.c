/* hoard.c - the Hoard allocator (Berger, McKinley, Blumofe, Wilson, ASPLOS
 * 2000) as a placement policy, and the multi-heap engine it shares with the
 * `ownership-heaps` strawman.
 *
 * This file owns the policy decisions only: which heap serves a request,
 * where a superblock comes from, and when a heap hands a superblock to the
 * global heap (the f/K emptiness rule that bounds blowup). Size classes,
 * superblock descriptors with their fullness bins, and page runs for large
 * objects are the shared building blocks in policies/blocks/. All metadata
 * comes from the page source's arena; the policy never reads or writes the
 * memory it hands out and calls nothing from libc (policy.h, rules 1-5).
 * Heap 0 is the global heap; heaps 1..P are the per-processor heaps.
 */
#include "policies/hoard/hoard.h"

#include "common/u64map.h"
#include "common/util.h"
#include "policies/blocks/pagerun.h"
#include "policies/blocks/superblock.h"

typedef struct {
    as_hoard_config_t hc;
    const as_pagesource_t *ps;
    const as_mem_t *mem;
    as_sizeclass_map_t classes;
    as_sbheap_t *heaps;  /* P + 1; heaps[0] is the global heap */
    uint32_t n_heaps;    /* P + 1 */
    as_u64map_t sbmap;   /* superblock base -> as_superblock_t * */
    as_pageruns_t large; /* objects above hc.large_bytes */
    uint64_t sb_shift;   /* log2 S */
    double inv_keep;     /* 1 / (1 - f), when f < 1 */
    double slack;        /* slack_bytes(), fixed at create */
    as_hoard_figures_t fig;
} hoard_t;

/* ------------------------------------------------------------ parameters */

enum {
    P_SUPERBLOCK,
    P_CLASSES,
    P_GROWTH,
    P_HEAPS,
    P_EMPTY_FRACTION,
    P_K,
    P_LARGE,
    P_HEAP_SELECT,
    P_RULE_SCOPE,
    P_COUNT
};

static const as_param_spec_t hoard_params[P_COUNT] = {
    [P_SUPERBLOCK] = {"superblock", AS_PARAM_POW2, "8K", 4096, 1 << 30, 0,
                      "superblock bytes S, a power of two (paper 8K, "
                      "today's source 256K)"},
    [P_CLASSES] = {"classes", AS_PARAM_ENUM, "geometric", 0, 0,
                   "geometric|pow2",
                   "size-class spacing: factor `growth` (paper) or powers "
                   "of two (today's source)"},
    [P_GROWTH] = {"growth", AS_PARAM_DOUBLE, "1.2", 1.01, 4, 0,
                  "geometric size-class factor b"},
    [P_HEAPS] = {"heaps", AS_PARAM_U64, "8", 1, 4096, 0,
                 "per-processor heaps P (the paper used 2x processors)"},
    [P_EMPTY_FRACTION] = {"empty_fraction", AS_PARAM_DOUBLE, "0.25", 0, 1, 0,
                          "f: a heap with u < (1-f)a and u < a-KS gives a "
                          "superblock to the global heap"},
    [P_K] = {"k_superblocks", AS_PARAM_U64, "4", 0, 1 << 20, 0,
             "K: superblocks of slack a heap may keep"},
    [P_LARGE] = {"large_threshold", AS_PARAM_BYTES, "0", 0, 1 << 30, 0,
                 "objects above this go straight to the page source "
                 "(0 = S/2)"},
    [P_HEAP_SELECT] = {"heap_select", AS_PARAM_ENUM, "cpu", 0, 0, "cpu|thread",
                       "heap of a request: 1 + cpu mod P, or a hash of the "
                       "thread"},
    [P_RULE_SCOPE] = {"rule_scope", AS_PARAM_ENUM, "heap", 0, 0, "heap|class",
                      "u and a of the emptiness rule: the whole heap (paper) "
                      "or the freed block's size class (today's source)"},
};

/* ------------------------------------------------------------ figures */

/* The K*S slack the rule lets each per-processor heap keep, summed over
 * heaps: P K S, or P C K S when the rule is applied per size class (each of
 * the C classes of a heap keeps its own K superblocks). */
static double slack_bytes(const hoard_t *h)
{
    double per_heap = (double)h->hc.k_superblocks * (double)h->hc.sb_bytes;
    if (h->hc.rule_per_class) per_heap *= (double)h->classes.n;
    return (double)h->hc.heaps * per_heap;
}

/* Refresh the footprint figures after a call; in_use_bytes is kept up to
 * date by alloc and free. */
static void note_peaks(hoard_t *h)
{
    as_hoard_figures_t *f = &h->fig;
    uint64_t heap_u = f->in_use_bytes - h->large.bytes - h->heaps[0].u_bytes;
    f->footprint_bytes = f->superblocks * h->hc.sb_bytes + h->large.bytes;
    f->heap_bytes = (f->superblocks - f->global_superblocks) * h->hc.sb_bytes;
    if (f->footprint_bytes > f->peak_footprint_bytes)
        f->peak_footprint_bytes = f->footprint_bytes;
    if (f->in_use_bytes > f->peak_in_use_bytes)
        f->peak_in_use_bytes = f->in_use_bytes;
    if (f->heap_bytes > f->peak_heap_bytes) f->peak_heap_bytes = f->heap_bytes;
    if (h->hc.use_global && h->hc.empty_fraction < 1) {
        double bound = (double)heap_u * h->inv_keep + h->slack;
        double excess = (double)f->heap_bytes - bound;
        if (excess > f->invariant_excess_bytes)
            f->invariant_excess_bytes = excess;
    }
}

/* ------------------------------------------------------------ heaps */

static as_sbheap_t *heap_of(hoard_t *h, const as_ctx_t *ctx)
{
    uint64_t key = h->hc.heap_by_thread ? as_hash64(ctx->thread) : ctx->cpu;
    return &h->heaps[1 + key % h->hc.heaps];
}

static void move_sb(hoard_t *h, as_superblock_t *sb, as_sbheap_t *to)
{
    as_sbheap_t *from = &h->heaps[sb->owner];
    as_sbheap_remove(from, sb);
    as_sbheap_insert(to, sb);
    if (from->id == 0) h->fig.global_superblocks--;
    if (to->id == 0) h->fig.global_superblocks++;
}

/* Give the empty superblock sb (held by heap) class c if it has another. */
static void ensure_class(hoard_t *h, as_sbheap_t *heap, as_superblock_t *sb,
                         int c)
{
    if (sb->sclass == c) return;
    as_sbheap_remove(heap, sb);
    as_superblock_format(sb, h->hc.sb_bytes, c,
                         as_sizeclass_bytes(&h->classes, c));
    as_sbheap_insert(heap, sb);
    h->fig.reformats++;
}

/* A superblock of class c with a free block for `heap`, from (in order) the
 * heap's own empty superblocks, the global heap's class-c superblocks, the
 * global heap's empty ones, or the page source. */
static int get_superblock(hoard_t *h, as_sbheap_t *heap, int c,
                          as_superblock_t **out)
{
    as_sbheap_t *global = &h->heaps[0];
    as_superblock_t *sb = as_sbheap_any_empty(heap);
    if (!sb && h->hc.use_global) {
        sb = as_sbheap_fullest(global, c);
        if (!sb) sb = as_sbheap_any_empty(global);
        if (sb) {
            move_sb(h, sb, heap);
            h->fig.from_global++;
        }
    }
    if (!sb) {
        uintptr_t base;
        int rc = as_u64map_reserve(&h->sbmap, 1);
        if (rc != AS_OK) return rc;
        sb = as_superblock_new(h->mem, 0, h->hc.sb_bytes);
        if (!sb) return AS_ENOMEM;
        rc = as_ps_reserve(h->ps, 0, h->hc.sb_bytes, h->hc.sb_bytes, &base);
        if (rc != AS_OK) {
            as_superblock_delete(h->mem, sb, h->hc.sb_bytes);
            return rc;
        }
        sb->base = base;
        as_u64map_put(&h->sbmap, base >> h->sb_shift, (uint64_t)(uintptr_t)sb);
        as_superblock_format(sb, h->hc.sb_bytes, c,
                             as_sizeclass_bytes(&h->classes, c));
        as_sbheap_insert(heap, sb);
        h->fig.superblocks++;
        h->fig.superblocks_from_os++;
    }
    ensure_class(h, heap, sb, c);
    *out = sb;
    return AS_OK;
}

static as_superblock_t *sb_of(const hoard_t *h, uintptr_t addr)
{
    uint64_t v;
    if (!as_u64map_get(&h->sbmap, addr >> h->sb_shift, &v)) return 0;
    return (as_superblock_t *)(uintptr_t)v;
}

/* Hoard's emptiness rule: u < (1-f) a and u < a - K S. */
static int too_empty(const hoard_t *h, uint64_t u_bytes, uint64_t a_bytes)
{
    return (double)u_bytes < (1 - h->hc.empty_fraction) * (double)a_bytes &&
           u_bytes + h->hc.k_superblocks * h->hc.sb_bytes < a_bytes;
}

/* After a free into `heap` (a per-processor heap) of a class-c block: the
 * superblock the rule gives to the global heap, or NULL. */
static as_superblock_t *rule_victim(const hoard_t *h, const as_sbheap_t *heap,
                                    int32_t c)
{
    if (h->hc.rule_per_class) {
        const as_sbclass_t *k = &heap->cls[c];
        return too_empty(h, k->u_bytes, k->n_superblocks * h->hc.sb_bytes)
                   ? as_sbheap_emptiest_of(heap, c)
                   : 0;
    }
    return too_empty(h, heap->u_bytes, heap->a_bytes) ? as_sbheap_emptiest(heap)
                                                      : 0;
}

/* ------------------------------------------------------------ the policy */

int as_hoard_create(const as_policy_config_t *cfg, const as_hoard_config_t *hc,
                    void **state)
{
    const as_pagesource_t *ps = cfg->ps;
    uint64_t S = hc->sb_bytes;
    as_msg_t *why = cfg->why;
    const char *name = hc->name ? hc->name : "hoard";
    if (!as_is_pow2(S) || hc->heaps == 0) return AS_EINVAL; /* specs ensure */
    if (S < ps->page_bytes) {
        as_msg_str(why, name);
        return as_msg_refuse(why, ".superblock", S, "is below the OS page size",
                             NULL, ps->page_bytes);
    }
    uint64_t large = hc->large_bytes ? hc->large_bytes : S / 2;
    if (large > S) large = S;
    if (large < 16) {
        as_msg_str(why, name);
        return as_msg_refuse(why, ".large_threshold", large,
                             "is below the smallest size class", NULL, 16);
    }

    hoard_t *h = as_mem_alloc(&ps->meta, sizeof *h);
    if (!h) return AS_ENOMEM;
    h->hc = *hc;
    h->hc.large_bytes = large;
    h->ps = ps;
    h->mem = &ps->meta;
    h->sb_shift = (uint64_t)__builtin_ctzll(S);
    h->n_heaps = hc->heaps + 1;
    as_u64map_init(&h->sbmap, h->mem);
    as_pageruns_init(&h->large, ps);
    h->heaps = 0;
    int rc =
        as_sizeclass_init(&h->classes, h->mem, hc->classes, hc->growth, large);
    if (rc == AS_OK && h->classes.max_bytes > large) {
        /* the last class may round up past the threshold (requests above
         * the threshold still become page runs); it must fit a superblock */
        if (h->classes.max_bytes > S) {
            as_msg_str(why, name);
            rc = as_msg_refuse(why, ".superblock", S,
                               "cannot hold the largest size class", NULL,
                               h->classes.max_bytes);
        }
    } else if (rc == AS_ERANGE) {
        as_msg_str(why, name);
        as_msg_refuse(why, ".large_threshold", large,
                      "needs, at this growth, more size classes than the most,",
                      NULL, AS_SIZECLASS_MAX);
    }
    if (rc == AS_OK) {
        h->heaps = as_mem_alloc(h->mem, h->n_heaps * sizeof *h->heaps);
        if (!h->heaps) rc = AS_ENOMEM;
    }
    for (uint32_t i = 0; rc == AS_OK && i < h->n_heaps; i++) {
        rc = as_sbheap_init(&h->heaps[i], h->mem, (int32_t)i, h->classes.n, S);
        if (rc != AS_OK) {
            while (i--)
                as_sbheap_fini(&h->heaps[i]);
        }
    }
    if (rc != AS_OK) {
        if (h->heaps)
            as_mem_free(h->mem, h->heaps, h->n_heaps * sizeof *h->heaps);
        as_sizeclass_fini(&h->classes);
        as_mem_free(h->mem, h, sizeof *h);
        return rc;
    }
    h->inv_keep = hc->empty_fraction < 1 ? 1 / (1 - hc->empty_fraction) : 0;
    h->slack = slack_bytes(h);
    *state = h;
    return AS_OK;
}

int as_hoard_alloc(void *state, const as_ctx_t *ctx, size_t size, size_t align,
                   as_block_t *out)
{
    hoard_t *h = state;
    if (align == 0) align = 16;
    if (!as_is_pow2(align)) return AS_EINVAL;
    int c = size <= h->hc.large_bytes
                ? as_sizeclass_of_aligned(&h->classes, size, align)
                : -1;
    if (c < 0) {
        uintptr_t a;
        uint64_t bytes;
        int rc = as_pageruns_alloc(&h->large, size, align, &a, &bytes);
        if (rc != AS_OK) return rc;
        h->fig.large_allocs++;
        h->fig.in_use_bytes += bytes;
        note_peaks(h);
        out->addr = a;
        out->bytes = (size_t)bytes;
        return AS_OK;
    }
    as_sbheap_t *heap = heap_of(h, ctx);
    as_superblock_t *sb = as_sbheap_fullest(heap, c);
    if (!sb) {
        int rc = get_superblock(h, heap, c, &sb);
        if (rc != AS_OK) return rc;
    }
    out->addr = as_sbheap_take_block(heap, sb);
    out->bytes = sb->block_bytes;
    h->fig.in_use_bytes += sb->block_bytes;
    note_peaks(h);
    return AS_OK;
}

/* alloc_batch (policy.h rule 9): one class lookup and one heap for the
 * batch, and a superblock is carved while it has free blocks: after a
 * take it is still its class's fullest partly used superblock (it stays
 * the head of its bin or enters a fuller bin at the head), so the next of
 * n single calls would pick it too. The peaks are refreshed after the
 * first block of each superblock (the f/K excess is largest there: the
 * heap's a is fixed and its u grows) and after the last (the in-use peak):
 * what a refresh after every block would record. Large requests are n
 * single calls. */
int as_hoard_alloc_batch(void *state, const as_ctx_t *ctx, size_t size,
                         size_t align, unsigned n, as_block_t *out,
                         unsigned *got)
{
    hoard_t *h = state;
    size_t a = align ? align : 16;
    int c = as_is_pow2(a) && size <= h->hc.large_bytes
                ? as_sizeclass_of_aligned(&h->classes, size, a)
                : -1;
    if (c < 0)
        return as_policy_alloc_singles(as_hoard_alloc, h, ctx, size, align, n,
                                       out, got);
    *got = 0;
    as_sbheap_t *heap = heap_of(h, ctx);
    while (*got < n) {
        as_superblock_t *sb = as_sbheap_fullest(heap, c);
        if (!sb) {
            int rc = get_superblock(h, heap, c, &sb);
            if (rc != AS_OK) return rc;
        }
        unsigned first = *got;
        do {
            out[*got] =
                (as_block_t){as_sbheap_take_block(heap, sb), sb->block_bytes};
            h->fig.in_use_bytes += sb->block_bytes;
            if (++*got == first + 1) note_peaks(h);
        } while (*got < n && sb->slots.used < sb->slots.capacity);
        if (*got > first + 1) note_peaks(h);
    }
    return AS_OK;
}

int as_hoard_free(void *state, const as_ctx_t *ctx, uintptr_t addr,
                  size_t size_hint)
{
    hoard_t *h = state;
    as_superblock_t *sb = sb_of(h, addr);
    if (!sb) {
        uint64_t bytes;
        int rc = as_pageruns_free(&h->large, addr, &bytes);
        if (rc != AS_OK) return rc;
        h->fig.in_use_bytes -= bytes;
        note_peaks(h);
        return AS_OK;
    }
    as_sbheap_t *heap = &h->heaps[sb->owner];
    int rc = as_sbheap_put_block(heap, sb, addr);
    if (rc != AS_OK) return rc;
    h->fig.in_use_bytes -= sb->block_bytes;
    if (h->hc.use_global && heap->id != 0) {
        as_superblock_t *victim = rule_victim(h, heap, sb->sclass);
        if (victim) {
            move_sb(h, victim, &h->heaps[0]);
            h->fig.to_global++;
        }
    }
    note_peaks(h);
    return AS_OK;
}

size_t as_hoard_usable_size(void *state, uintptr_t addr)
{
    hoard_t *h = state;
    as_superblock_t *sb = sb_of(h, addr);
    if (!sb) return (size_t)as_pageruns_size(&h->large, addr);
    if (sb->block_bytes == 0 || (addr - sb->base) % sb->block_bytes) return 0;
    int64_t i = as_superblock_slot_of(sb, addr);
    return i >= 0 && as_slotmap_test(&sb->slots, (uint32_t)i) ? sb->block_bytes
                                                              : 0;
}

void as_hoard_figures(const void *state, as_hoard_figures_t *out)
{
    *out = ((const hoard_t *)state)->fig;
}

int as_hoard_heap_usage(const void *state, uint32_t i, uint64_t *a_bytes,
                        uint64_t *u_bytes)
{
    const hoard_t *h = state;
    if (i >= h->n_heaps) return AS_EINVAL;
    *a_bytes = h->heaps[i].a_bytes;
    *u_bytes = h->heaps[i].u_bytes;
    return AS_OK;
}

int as_hoard_owner_of(const void *state, uintptr_t addr)
{
    const as_superblock_t *sb = sb_of(state, addr);
    return sb ? sb->owner : -1;
}

int as_hoard_verify(const void *state)
{
    const hoard_t *h = state;
    uint64_t n = 0;
    for (uint32_t i = 0; i < h->n_heaps; i++) {
        if (as_sbheap_check(&h->heaps[i]) != AS_OK) return AS_ECHECK;
        n += h->heaps[i].n_superblocks;
    }
    if (n != h->fig.superblocks || n != as_u64map_count(&h->sbmap))
        return AS_ECHECK;
    if (h->heaps[0].n_superblocks != h->fig.global_superblocks)
        return AS_ECHECK;
    if (!h->hc.use_global && h->heaps[0].n_superblocks) return AS_ECHECK;
    return as_sizeclass_check(&h->classes);
}

void as_hoard_stats(void *state, as_stat_fn fn, void *arg)
{
    hoard_t *h = state;
    const as_hoard_figures_t *f = &h->fig;
    double peak_u = (double)f->peak_in_use_bytes;
    fn(arg, "superblocks", (double)f->superblocks);
    fn(arg, "global_superblocks", (double)f->global_superblocks);
    fn(arg, "superblocks_from_os", (double)f->superblocks_from_os);
    fn(arg, "superblocks_to_global", (double)f->to_global);
    fn(arg, "superblocks_from_global", (double)f->from_global);
    fn(arg, "superblock_reformats", (double)f->reformats);
    fn(arg, "large_allocs", (double)f->large_allocs);
    fn(arg, "large_bytes_peak", (double)h->large.peak_bytes);
    fn(arg, "size_classes", (double)h->classes.n);
    fn(arg, "footprint_bytes_peak", (double)f->peak_footprint_bytes);
    fn(arg, "in_use_bytes_peak", (double)f->peak_in_use_bytes);
    fn(arg, "heap_bytes_peak", (double)f->peak_heap_bytes);
    fn(arg, "blowup",
       peak_u > 0 ? (double)f->peak_footprint_bytes / peak_u : 0);
    if (h->hc.use_global) {
        /* The paper's bound, A <= U/(1-f) + P K S for the per-processor heaps
         * (proved for one size class; see docs/policies/hoard.md), with U the
         * peak in-use bytes of the run; P C K S with rule_scope=class. */
        double bound =
            h->hc.empty_fraction < 1
                ? peak_u / (1 - h->hc.empty_fraction) + slack_bytes(h)
                : 0;
        fn(arg, "bound_bytes", bound);
        fn(arg, "bound_blowup", peak_u > 0 ? bound / peak_u : 0);
        fn(arg, "invariant_excess_bytes", f->invariant_excess_bytes);
    }
}

void as_hoard_destroy(void *state)
{
    hoard_t *h = state;
    size_t it = 0;
    uint64_t key, v;
    while (as_u64map_next(&h->sbmap, &it, &key, &v)) {
        as_superblock_t *sb = (as_superblock_t *)(uintptr_t)v;
        as_ps_unreserve(h->ps, sb->base, h->hc.sb_bytes);
        as_superblock_delete(h->mem, sb, h->hc.sb_bytes);
    }
    for (uint32_t i = 0; i < h->n_heaps; i++)
        as_sbheap_fini(&h->heaps[i]);
    as_mem_free(h->mem, h->heaps, h->n_heaps * sizeof *h->heaps);
    as_pageruns_fini(&h->large);
    as_u64map_fini(&h->sbmap);
    as_sizeclass_fini(&h->classes);
    as_mem_free(h->mem, h, sizeof *h);
}

/* ------------------------------------------------------------ check */

/* The policy's check hook (policy.h rule 8), shared with ownership-heaps: as_hoard_verify (every heap's
 * fullness bins and u/a sums, superblock counts, size classes), then the
 * figures against the heaps, each failure named. Uses the figures for the
 * large-object bytes (footprint - S * superblocks), so it does not depend on
 * how large objects are stored. */
int as_hoard_check(const void *state, as_msg_t *why)
{
    const hoard_t *h = state;
    const as_hoard_figures_t *f = &h->fig;
    uint64_t S = h->hc.sb_bytes, u_sum = 0, a_heaps = 0, u_heaps = 0;
    for (uint32_t i = 0; i < h->n_heaps; i++) {
        const as_sbheap_t *hp = &h->heaps[i];
        if (hp->id != (int32_t)i || as_sbheap_check(hp) != AS_OK)
            return as_msg_fail(why,
                               "hoard: a heap's fullness bins, owners or u/a "
                               "sums are inconsistent",
                               "heap", i);
        u_sum += hp->u_bytes;
        if (i) a_heaps += hp->a_bytes, u_heaps += hp->u_bytes;
    }
    if (as_hoard_verify(state) != AS_OK)
        return as_msg_fail(why,
                           "hoard: superblock totals != heaps (or the global "
                           "heap holds superblocks without use_global)",
                           "superblocks", f->superblocks);
    size_t it = 0;
    uint64_t key, v;
    while (as_u64map_next(&h->sbmap, &it, &key, &v)) {
        const as_superblock_t *sb = (const as_superblock_t *)(uintptr_t)v;
        if (sb->base >> h->sb_shift != key || sb->owner < 0 ||
            (uint32_t)sb->owner >= h->n_heaps)
            return as_msg_fail(why,
                               "hoard: superblock map entry names another "
                               "base or no heap",
                               "superblock_addr", sb->base);
    }
    if (f->footprint_bytes < f->superblocks * S)
        return as_msg_fail(why, "hoard: footprint < S * superblocks",
                           "footprint_bytes", f->footprint_bytes);
    uint64_t large = f->footprint_bytes - f->superblocks * S;
    if (u_sum + large != f->in_use_bytes)
        return as_msg_fail(why,
                           "hoard: in_use_bytes != sum of heap u + large "
                           "objects",
                           "in_use_bytes", f->in_use_bytes);
    if (a_heaps != f->heap_bytes)
        return as_msg_fail(why,
                           "hoard: heap_bytes != sum of a_i over heaps 1..P",
                           "heap_bytes", f->heap_bytes);
    if (f->peak_footprint_bytes < f->footprint_bytes ||
        f->peak_in_use_bytes < f->in_use_bytes ||
        f->peak_heap_bytes < f->heap_bytes)
        return as_msg_fail(why, "hoard: a peak is below its current value",
                           NULL, 0);
    if (h->hc.use_global && h->hc.empty_fraction < 1) {
        /* The f/K bound sum a_i <= sum u_i / (1-f) + slack need not hold at
         * every instant (a malloc may fetch a superblock), but its worst
         * excess is a recorded figure: the current excess may not exceed it. */
        double excess =
            (double)a_heaps - ((double)u_heaps * h->inv_keep + h->slack);
        if (excess > f->invariant_excess_bytes + 0.5)
            return as_msg_fail(why,
                               "hoard: f/K bound exceeded by more than the "
                               "recorded invariant_excess_bytes",
                               "excess_bytes", (uint64_t)excess);
    }
    return 0;
}

int as_hoard_debug_corrupt(void *state)
{
    hoard_t *h = state;
    h->heaps[h->n_heaps > 1 ? 1 : 0].u_bytes += 16;
    return 0;
}

/* ------------------------------------------------------------ registry */

static int hoard_create(const as_policy_config_t *cfg, void **state)
{
    const as_param_value_t *v = cfg->params;
    as_hoard_config_t hc = {
        .sb_bytes = v[P_SUPERBLOCK].u,
        .classes = v[P_CLASSES].u ? AS_SIZECLASS_POW2 : AS_SIZECLASS_GEOMETRIC,
        .growth = v[P_GROWTH].d,
        .heaps = (uint32_t)v[P_HEAPS].u,
        .empty_fraction = v[P_EMPTY_FRACTION].d,
        .k_superblocks = v[P_K].u,
        .large_bytes = v[P_LARGE].u,
        .heap_by_thread = v[P_HEAP_SELECT].u == 1,
        .use_global = 1,
        .rule_per_class = v[P_RULE_SCOPE].u == 1,
        .name = "hoard",
    };
    return as_hoard_create(cfg, &hc, state);
}

const as_policy_ops_t as_policy_hoard = {
    .name = "hoard",
    .doc = "Hoard: per-CPU heaps of S-byte superblocks, a global heap and the "
           "f/K emptiness rule that bounds blowup",
    .params = hoard_params,
    .n_params = P_COUNT,
    .create = hoard_create,
    .alloc = as_hoard_alloc,
    .alloc_batch = as_hoard_alloc_batch,
    .free = as_hoard_free,
    .realloc = 0,
    .usable_size = as_hoard_usable_size,
    .tick = 0,
    .stats = as_hoard_stats,
    .destroy = as_hoard_destroy,
    .check = as_hoard_check,
};

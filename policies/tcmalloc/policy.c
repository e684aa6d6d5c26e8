/* policy.c - the "tcmalloc" policy: parameter table, the policy interface
 * (create, alloc, free, usable_size, tick, stats, destroy) and the
 * whole-state invariant check.
 *
 * This file wires the front end (frontend.c) to the hugepage-aware page heap
 * (pageheap.c, which alone drives filler.c, region.c, hugecache.c and
 * hugealloc.c) and owns the instance's lifetime: every reservation is
 * recorded so destroy can unreserve it, every metadata byte comes from the
 * page source's arena through meta.c and is returned. All
 * inputs other than the request come from as_ctx_t (CPU, time); there is no
 * clock and no global state, so runs are deterministic. It never reads or
 * writes the memory it hands out.
 */
#include "policies/tcmalloc/tcmalloc.h"

#include "common/util.h"
#include "policies/tcmalloc/tc_internal.h"

const as_param_spec_t as_tc_params[TC_P_COUNT] = {
    [TC_P_PAGE_SIZE] =
        {"page_size", AS_PARAM_POW2, "8K", 4096, 262144, NULL,
         "TCMalloc page (kPageShift 13 = 8 KiB; 4K/32K/256K builds exist)"},
    [TC_P_SIZE_CLASSES] =
        {"size_classes", AS_PARAM_ENUM, "default", 0, 0, "default|legacy",
         "default = 48-class ReuseRelaxedBelow64, legacy = 85-class table"},
    [TC_P_SMALL_ALIGN8] = {"small_align8", AS_PARAM_BOOL, "off", 0, 0, NULL,
                           "serve <= 8 B requests of default alignment from "
                           "the 8 B class (8-aligned, as TCMalloc's operator "
                           "new); off: the 16 B class, as its malloc"},
    [TC_P_PER_CPU] =
        {"per_cpu_caches", AS_PARAM_BOOL, "on", 0, 0, NULL,
         "per-CPU caches on (off: straight to the transfer cache)"},
    [TC_P_MAX_CPUS] = {"max_cpus", AS_PARAM_U64, "256", 1, 65536, NULL,
                       "CPU ids are taken modulo this"},
    [TC_P_CPU_CACHE_BYTES] =
        {"cpu_cache_bytes", AS_PARAM_BYTES, "1536K", 0, 1099511627776.0, NULL,
         "per-CPU capacity limit in bytes (kMaxCpuCacheSize 1.5 MiB)"},
    [TC_P_SMALL_DEPTH] = {"small_object_depth", AS_PARAM_U64, "2000", 0, 1e7,
                          NULL,
                          "max objects per class per CPU for the small classes "
                          "(kSmallObjectDepth)"},
    [TC_P_LARGE_DEPTH] =
        {"large_object_depth", AS_PARAM_U64, "144", 0, 1e7, NULL,
         "max objects per class per CPU for the others (kLargeObjectDepth)"},
    [TC_P_SMALL_DEPTH_CLASSES] = {"small_depth_classes", AS_PARAM_U64, "10", 0,
                                  96, NULL,
                                  "classes 1..N get small_object_depth"},
    [TC_P_TRANSFER_BATCHES] = {"transfer_cache_batches", AS_PARAM_U64, "64", 0,
                               1e6, NULL,
                               "transfer cache capacity per class in batches"},
    [TC_P_TRANSFER_BYTES] =
        {"transfer_cache_bytes", AS_PARAM_BYTES, "1M", 0, 1099511627776.0, NULL,
         "transfer cache capacity per class in bytes (at least one batch)"},
    [TC_P_DENSE_MIN_OBJECTS] = {"dense_min_objects", AS_PARAM_U64, "16", 0, 1e9,
                                NULL,
                                "spans with more objects than this are dense "
                                "(kFewObjectsAllocMaxLimit)"},
    [TC_P_SEPARATE_DENSE] =
        {"separate_dense", AS_PARAM_BOOL, "on", 0, 0, NULL,
         "keep dense and sparse spans on separate hugepages"},
    [TC_P_FILLER_MAX_SPAN] = {"filler_max_span_bytes", AS_PARAM_BYTES, "1M",
                              4096, 2097152, NULL,
                              "largest span the HugePageFiller takes "
                              "(kSmallAllocPages, half a hugepage)"},
    [TC_P_USE_REGIONS] = {"use_regions", AS_PARAM_BOOL, "on", 0, 0, NULL,
                          "allow HugeRegions for large allocations"},
    [TC_P_REGION_BYTES] = {"region_bytes", AS_PARAM_BYTES, "1G", 2097152,
                           1099511627776.0, NULL, "size of one HugeRegion"},
    [TC_P_REGION_SLACK] = {"region_slack_bytes", AS_PARAM_BYTES, "64M", 0,
                           1099511627776.0, NULL,
                           "donated slack needed before a new region is made"},
    [TC_P_HUGECACHE_MIN] = {"hugecache_min_hugepages", AS_PARAM_U64, "10", 0,
                            1e9, NULL, "HugeCache limit floor (MinCacheLimit)"},
    [TC_P_HUGECACHE_MAX] = {"hugecache_max_hugepages", AS_PARAM_U64, "524288",
                            0, 1e12, NULL, "HugeCache limit ceiling"},
    /* back end as in TCMalloc's current source (issue 10) */
    [TC_P_HUGECACHE_TIME] = {"hugecache_time", AS_PARAM_NS, "1s", 1000000,
                             3.6e12, NULL,
                             "HugeCache cache_time: demand dips shorter than "
                             "this size the cache (HPAA passes 1 s)"},
    [TC_P_REGION_MORE_OFTEN] =
        {"region_more_often", AS_PARAM_BOOL, "on", 0, 0, NULL,
         "regions once slack + abandoned pages >= region_slack_bytes, empty "
         "region hugepages kept until release (kUseForAllLargeAllocs)"},
    [TC_P_RELEASE_FROM_REGIONS] =
        {"release_pages_from_huge_region", AS_PARAM_BOOL, "on", 0, 0, NULL,
         "run the release every tick even at release_rate 0, so free region "
         "hugepages and the HugeCache shrink"},
    [TC_P_RELEASE_PARTIAL] =
        {"release_partial_alloc_pages", AS_PARAM_BOOL, "on", 0, 0, NULL,
         "subrelease at least a tenth of the free pages on partly released "
         "hugepages"},
    [TC_P_RESERVE_BYTES] = {"reserve_bytes", AS_PARAM_BYTES, "1G", 2097152,
                            1099511627776.0, NULL,
                            "address space reserved from the OS at a time"},
    [TC_P_RELEASE_RATE] =
        {"release_rate", AS_PARAM_BYTES, "0", 0, 1099511627776.0, NULL,
         "background release in bytes/s (TCMalloc's OSS default 0)"},
    [TC_P_SUBRELEASE] = {"subrelease", AS_PARAM_BOOL, "on", 0, 0, NULL,
                         "release free pages of partly used hugepages"},
    [TC_P_SKIP_SHORT] = {"skip_subrelease_short", AS_PARAM_NS, "60s", 0, 3.6e12,
                         NULL,
                         "skip-subrelease short-term fluctuation window (0 "
                         "with long=0 disables)"},
    [TC_P_SKIP_LONG] = {"skip_subrelease_long", AS_PARAM_NS, "300s", 0, 3.6e12,
                        NULL, "skip-subrelease long-term trend window"},
    [TC_P_SKIP_CAP] =
        {"skip_subrelease_cap", AS_PARAM_NS, "600s", 0, 3.6e12, NULL,
         "the requirement is capped by the peak demand over this window"},
    [TC_P_TICK_INTERVAL] =
        {"tick_interval", AS_PARAM_NS, "1s", 1000000, 3.6e12, NULL,
         "period of background actions (release, cache shrinking)"},
    [TC_P_CPU_RECLAIM] =
        {"cpu_reclaim_interval", AS_PARAM_NS, "30s", 0, 3.6e12, NULL,
         "drain per-CPU caches idle for this long (0 = never)"},
    [TC_P_REALLOC_SHRINK] = {"realloc_in_place", AS_PARAM_BOOL, "on", 0, 0,
                             NULL,
                             "realloc keeps the block when the new size fits "
                             "and is at least half of it"},
    /* front end as in the source (issue 10) */
    [TC_P_TRANSFER_INITIAL_BATCHES] =
        {"transfer_cache_initial_batches", AS_PARAM_U64, "16", 0, 1e6, NULL,
         "transfer cache starting capacity in batches "
         "(kInitialCapacityInBatches)"},
    [TC_P_TRANSFER_PLUNDER_INTERVAL] =
        {"transfer_plunder_interval", AS_PARAM_NS, "5s", 0, 3.6e12, NULL,
         "return transfer-cache objects below the low-water mark this often "
         "(5 x sleep; 0 = never)"},
    [TC_P_TRANSFER_RESIZE_INTERVAL] =
        {"transfer_resize_interval", AS_PARAM_NS, "2s", 0, 3.6e12, NULL,
         "move transfer-cache capacity to the classes that missed "
         "(2 x sleep; 0 = never)"},
    [TC_P_CPU_RESIZE_INTERVAL] =
        {"cpu_resize_interval", AS_PARAM_NS, "2s", 0, 3.6e12, NULL,
         "grow the per-CPU classes that missed, stealing within the CPU "
         "(2 x sleep; 0 = never)"},
    [TC_P_CPU_SHUFFLE_INTERVAL] =
        {"cpu_shuffle_interval", AS_PARAM_NS, "5s", 0, 3.6e12, NULL,
         "move per-CPU capacity to the CPUs that missed most "
         "(5 x sleep; 0 = never)"},
    [TC_P_MADVISE_HUGEPAGE] =
        {"madvise_hugepage", AS_PARAM_BOOL, "off", 0, 0, NULL,
         "MADV_HUGEPAGE on reserved address space (for THP madvise mode)"},
};

static uint32_t log2u(uint64_t x)
{
    uint32_t l = 0;
    while ((1ull << l) < x)
        l++;
    return l;
}

int as_tc_create(const as_policy_config_t *cfg, void **state)
{
    const as_pagesource_t *ps = cfg->ps;
    as_param_value_t p[TC_P_COUNT];
    if (cfg->params) {
        for (int i = 0; i < TC_P_COUNT; i++)
            p[i] = cfg->params[i];
    } else if (as_param_defaults(as_tc_params, TC_P_COUNT, p) != AS_OK) {
        return AS_EINVAL;
    }
    uint64_t page = p[TC_P_PAGE_SIZE].u;
    uint64_t hp = ps->hugepage_bytes;
    if (!as_is_pow2(page) || !as_is_pow2(hp))
        return AS_EINVAL; /* the spec and the page source ensure */
    if (page < ps->page_bytes)
        return as_msg_refuse(cfg->why, "tcmalloc.page_size", page,
                             "is below the OS page size", NULL, ps->page_bytes);
    if (hp / page < 8)
        return as_msg_refuse(cfg->why, "tcmalloc.page_size", page,
                             "leaves fewer than 8 pages per huge page of", NULL,
                             hp);
    if (hp / page > TC_MAX_PPH)
        return as_msg_refuse(cfg->why, "tcmalloc.page_size", page,
                             "makes too many pages per huge page; the most is",
                             NULL, TC_MAX_PPH);
    tc_t *t = as_mem_alloc(&ps->meta, sizeof *t);
    if (!t) return AS_ENOMEM;
    t->env.ps = ps;
    for (int i = 0; i < TC_P_COUNT; i++)
        t->env.p[i] = p[i];
    t->env.page_bytes = (uint32_t)page;
    t->env.page_shift = log2u(page);
    t->env.hp_bytes = (uint32_t)hp;
    t->env.hp_shift = log2u(hp);
    t->env.pph = (uint32_t)(hp / page);
    t->env.window_shift = t->env.hp_shift + 9;
    uint64_t fmax = p[TC_P_FILLER_MAX_SPAN].u / page;
    if (fmax < 1) fmax = 1;
    if (fmax > t->env.pph) fmax = t->env.pph;
    t->filler_max_pages = (uint32_t)fmax;
    as_tc_meta_init(&t->env.meta);
    as_objlist_init(&t->leaf_pool, ((sizeof(tc_leaf_t) + 15) & ~(size_t)15) +
                                       t->env.pph * (sizeof(tc_span_t *) + 1));
    as_tc_pageheap_init(t);
    t->ncpus = (uint32_t)p[TC_P_MAX_CPUS].u;
    int rc = as_tc_classes_init(t);
    if (rc == AS_OK) rc = as_tc_filler_init(&t->env, &t->filler);
    if (rc == AS_OK) {
        t->cpus = as_tc_meta_alloc(&t->env, t->ncpus * sizeof(tc_cpu_t *));
        if (!t->cpus) rc = AS_ENOMEM;
    }
    if (rc != AS_OK) {
        as_tc_destroy(t);
        return rc;
    }
    *state = t;
    return AS_OK;
}

void as_tc_destroy(void *state)
{
    tc_t *t = state;
    if (!t) return;
    as_tc_hugealloc_unreserve_all(&t->env, &t->alloc);
    as_tc_meta_release_all(&t->env);
    as_mem_free(&t->env.ps->meta, t, sizeof *t);
}

/* the alignment a request gets: `align`, else 8 for <= 8 bytes with
 * small_align8 (TCMalloc's 8-byte class, as its operator new), else 16 (as
 * its malloc, which asks alignof(max_align_t)) */
static size_t tc_eff_align(const tc_t *t, size_t size, size_t align)
{
    if (align) return align;
    return size <= 8 && t->env.p[TC_P_SMALL_ALIGN8].u ? 8 : 16;
}

static inline void note_alloc(tc_t *t, uint64_t bytes)
{
    t->in_use_bytes += bytes;
    if (t->in_use_bytes > t->peak_in_use_bytes) {
        t->peak_in_use_bytes = t->in_use_bytes;
        t->backed_at_peak_bytes = as_tc_backed_pages(t) << t->env.page_shift;
    }
}

/* The size class serving `size` bytes (>= 1) at alignment `align` (0 =
 * default): the request's class, or the next whose objects keep the
 * alignment. @return it, or 0 when a span of pages must serve it. */
static uint32_t small_class(const tc_t *t, size_t size, size_t align)
{
    size_t eff = tc_eff_align(t, size, align);
    if (size > t->max_small || eff > t->env.page_bytes) return 0;
    uint32_t cls = as_tc_class_of(t, size);
    if (eff > 8)
        while (cls && cls <= t->nclasses && (t->cls[cls].bytes & (eff - 1)))
            cls++;
    return cls <= t->nclasses ? cls : 0;
}

static int tc_alloc(void *state, const as_ctx_t *ctx, size_t size, size_t align,
                    as_block_t *out)
{
    tc_t *t = state;
    t->now_ns = ctx->now_ns;
    if (align & (align - 1)) return AS_EINVAL;
    if (size == 0) size = 1;
    uint32_t cls = small_class(t, size, align);
    if (cls) {
        uintptr_t a;
        int rc = as_tc_small_alloc(t, ctx->cpu, cls, &a);
        if (rc != AS_OK) return rc;
        out->addr = a;
        out->bytes = t->cls[cls].bytes;
        note_alloc(t, out->bytes);
        return AS_OK;
    }
    size_t eff = tc_eff_align(t, size, align);
    if (size > ((uint64_t)1 << 46) || eff > ((uint64_t)1 << 40))
        return AS_ETOO_LARGE;
    uint64_t npages = (size + t->env.page_bytes - 1) >> t->env.page_shift;
    if (npages > UINT32_MAX / 2) return AS_ETOO_LARGE;
    tc_span_t *s = as_tc_pageheap_alloc(t, (uint32_t)npages, 0,
                                        eff > t->env.page_bytes ? eff : 0, 0);
    if (!s) return AS_ENOMEM;
    t->large_allocs++;
    out->addr = s->start;
    out->bytes = (size_t)npages << t->env.page_shift;
    note_alloc(t, out->bytes);
    return AS_OK;
}

/* alloc_batch (policy.h rule 9): one class lookup for the batch; the
 * per-CPU cache gives a run of hits from its top at once
 * (as_tc_cpu_take), and where it is empty the miss is the single path
 * (as_tc_small_alloc: CpuCache::Refill, which moves a range from the
 * transfer cache or the central list as TransferCache::RemoveRange and
 * CentralFreeList::RemoveRange do), exactly where n single calls would
 * miss. note_alloc over a run of hits at once equals one per hit: the
 * page heap does not change during the run, so backed_at_peak is the
 * same. Large requests are n single calls. */
static int tc_alloc_batch(void *state, const as_ctx_t *ctx, size_t size,
                          size_t align, unsigned n, as_block_t *out,
                          unsigned *got)
{
    tc_t *t = state;
    uint32_t cls =
        align & (align - 1) ? 0 : small_class(t, size ? size : 1, align);
    if (!cls)
        return as_policy_alloc_singles(tc_alloc, t, ctx, size, align, n, out,
                                       got);
    t->now_ns = ctx->now_ns;
    uint32_t bytes = t->cls[cls].bytes;
    uintptr_t a[TC_MAX_BATCH];
    unsigned k = 0;
    while (k < n) {
        uint32_t want = n - k < TC_MAX_BATCH ? n - k : TC_MAX_BATCH;
        uint32_t hits = as_tc_cpu_take(t, ctx->cpu, cls, a, want);
        for (uint32_t i = 0; i < hits; i++)
            out[k + i] = (as_block_t){a[i], bytes};
        if (hits) note_alloc(t, (uint64_t)hits * bytes);
        k += hits;
        if (k == n) break;
        if (hits == want) continue; /* the run went on past TC_MAX_BATCH */
        int rc = as_tc_small_alloc(t, ctx->cpu, cls, &a[0]);
        if (rc != AS_OK) {
            *got = k;
            return rc;
        }
        out[k++] = (as_block_t){a[0], bytes};
        note_alloc(t, bytes);
    }
    *got = k;
    return AS_OK;
}

/* The block at addr as a free finds it: its span in *sp and its class in
 * *cls (0: a span of its own, which must start at addr).
 * @return AS_OK, or AS_EINVAL when addr is not a block's start. */
static int find_block(tc_t *t, uintptr_t addr, tc_span_t **sp, uint32_t *cls)
{
    tc_leaf_t *l = as_tc_leaf(t, addr);
    if (!l) return AS_EINVAL;
    uint32_t pi = as_tc_page_in_hp(t, addr);
    tc_span_t *s = l->span[pi];
    if (!s) return AS_EINVAL;
    *sp = s;
    *cls = l->cls[pi];
    if (*cls) {
        const tc_class_t *c = &t->cls[*cls];
        uint64_t off = (uint64_t)(addr - s->start);
        if (off >> 32 || off * c->div_magic > c->div_magic - 1)
            return AS_EINVAL;
        return AS_OK;
    }
    return s->start != addr || s->cls ? AS_EINVAL : AS_OK;
}

static int tc_free(void *state, const as_ctx_t *ctx, uintptr_t addr,
                   size_t size_hint)
{
    (void)size_hint;
    tc_t *t = state;
    t->now_ns = ctx->now_ns;
    tc_span_t *s;
    uint32_t cls;
    if (find_block(t, addr, &s, &cls) != AS_OK) return AS_EINVAL;
    if (cls) {
        t->in_use_bytes -= t->cls[cls].bytes;
        return as_tc_small_free(t, ctx->cpu, cls, addr);
    }
    t->in_use_bytes -= (uint64_t)s->npages << t->env.page_shift;
    as_tc_pagemap_clear(t, s, 0);
    as_tc_pageheap_free(t, s);
    return AS_OK;
}

/* free_batch (policy.h rule 9): a run of blocks of one class goes onto the
 * CPU's stack at once (as_tc_cpu_put: TCMalloc's per-CPU caches take a
 * range with one push) while the stack has room; the block that finds it
 * full is the single path (as_tc_small_free: CpuCache::DeallocateSlow,
 * which moves a range to the transfer cache as TransferCache::InsertRange
 * does), exactly where n single calls would overflow. Pushes change no
 * page map entry, so the run's lookups, made before it is pushed, stay
 * right; after a single call they are made again. Large blocks and
 * addresses that are not blocks are single calls. */
static int tc_free_batch(void *state, const as_ctx_t *ctx,
                         const uintptr_t *addrs, unsigned n, unsigned *done)
{
    tc_t *t = state;
    t->now_ns = ctx->now_ns;
    *done = 0;
    while (*done < n) {
        const uintptr_t *a = addrs + *done;
        tc_span_t *s;
        uint32_t cls = 0, next = 0;
        unsigned k = 0, m = n - *done < TC_MAX_BATCH ? n - *done : TC_MAX_BATCH;
        if (find_block(t, a[0], &s, &cls) == AS_OK && cls)
            for (k = 1; k < m && find_block(t, a[k], &s, &next) == AS_OK &&
                        next == cls;
                 k++)
                ;
        uint32_t put = k ? as_tc_cpu_put(t, ctx->cpu, cls, a, k) : 0;
        if (put) t->in_use_bytes -= (uint64_t)put * t->cls[cls].bytes;
        *done += put;
        if (put == k && k) continue; /* the run ended: look again */
        int rc = tc_free(t, ctx, a[put], 0);
        if (rc != AS_OK) return rc;
        ++*done;
    }
    return AS_OK;
}

static size_t tc_usable_size(void *state, uintptr_t addr)
{
    tc_t *t = state;
    tc_leaf_t *l = as_tc_leaf(t, addr);
    if (!l) return 0;
    uint32_t pi = as_tc_page_in_hp(t, addr);
    tc_span_t *s = l->span[pi];
    if (!s) return 0;
    if (l->cls[pi]) {
        uint32_t bytes = t->cls[l->cls[pi]].bytes;
        return (addr - s->start) % bytes ? 0 : bytes;
    }
    return s->start == addr ? (size_t)s->npages << t->env.page_shift : 0;
}

/* TCMalloc's realloc: keep the block when the new size fits in it and is
 * at least half of it; otherwise allocate, and free the old block */
static int tc_realloc(void *state, const as_ctx_t *ctx, uintptr_t addr,
                      size_t old_size, size_t new_size, size_t align,
                      as_block_t *out)
{
    tc_t *t = state;
    size_t usable = tc_usable_size(t, addr);
    if (!usable) return AS_EINVAL;
    if (align & (align - 1)) return AS_EINVAL;
    size_t want = new_size ? new_size : 1;
    size_t eff = tc_eff_align(t, want, align);
    if (t->env.p[TC_P_REALLOC_SHRINK].u && want <= usable &&
        want >= usable / 2 && (addr & (eff - 1)) == 0) {
        t->now_ns = ctx->now_ns;
        out->addr = addr;
        out->bytes = usable;
        t->realloc_in_place++;
        return AS_OK;
    }
    int rc = tc_alloc(t, ctx, new_size, align, out);
    if (rc != AS_OK) return rc;
    return tc_free(t, ctx, addr, old_size);
}

static uint64_t tc_tick(void *state, const as_ctx_t *ctx)
{
    tc_t *t = state;
    uint64_t now = ctx->now_ns;
    uint64_t dt =
        t->ticked && now > t->last_tick_ns ? now - t->last_tick_ns : 0;
    t->ticked = 1;
    t->last_tick_ns = now;
    t->now_ns = now;
    as_tc_demand_record(t);
    as_tc_frontend_tick(t, now);
    /* the background thread's release (background.cc) through TCMalloc's
     * ConstantRatePageAllocatorReleaser: rate x dt bytes are due; pages a
     * release gave beyond what was due are credit against the next call
     * only; a shortfall is not carried. The release runs even when nothing
     * is due while release_pages_from_huge_region is on, so the HugeCache
     * limit and free region hugepages shrink every tick. */
    uint64_t rate = t->env.p[TC_P_RELEASE_RATE].u;
    uint64_t due = rate && dt ? (uint64_t)((double)rate * ((double)dt / 1e9))
                              : 0; /* bytes */
    if (due || t->env.p[TC_P_RELEASE_FROM_REGIONS].u) {
        uint64_t pb = t->env.page_bytes, want = due;
        if (want <= t->release_credit_bytes)
            want = 0;
        else
            want -= t->release_credit_bytes;
        uint64_t got = as_tc_release(t, (want + pb - 1) / pb) * pb;
        t->release_credit_bytes = got > want ? got - want : 0;
    }
    return t->env.p[TC_P_TICK_INTERVAL].u;
}

static const char *const hist_names[TC_HIST_BUCKETS] = {
    "filler_free_pages_hist_00", "filler_free_pages_hist_01",
    "filler_free_pages_hist_02", "filler_free_pages_hist_03",
    "filler_free_pages_hist_04", "filler_free_pages_hist_05",
    "filler_free_pages_hist_06", "filler_free_pages_hist_07",
    "filler_free_pages_hist_08", "filler_free_pages_hist_09",
    "filler_free_pages_hist_10", "filler_free_pages_hist_11",
    "filler_free_pages_hist_12", "filler_free_pages_hist_13",
    "filler_free_pages_hist_14", "filler_free_pages_hist_15",
    "filler_free_pages_hist_16"};

static void tc_stats(void *state, as_stat_fn fn, void *arg)
{
    tc_t *t = state;
    uint64_t pb = t->env.page_bytes, hpb = t->env.hp_bytes;
    uint64_t cpu, transfer, central;
    as_tc_frontend_bytes(t, &cpu, &transfer, &central);
    uint64_t filler_total = t->filler.hps * t->env.pph;
    uint64_t full, partial, released;
    as_tc_filler_counts(&t->env, &t->filler, &full, &partial, &released);
    uint64_t hugeable = as_tc_filler_hugepageable_used(&t->env, &t->filler);
    uint64_t backed = as_tc_backed_pages(t) * pb;

    fn(arg, "in_use_bytes", (double)t->in_use_bytes);
    fn(arg, "peak_in_use_bytes", (double)t->peak_in_use_bytes);
    fn(arg, "backed_bytes", (double)backed);
    fn(arg, "backed_at_peak_bytes", (double)t->backed_at_peak_bytes);
    fn(arg, "realized_fragmentation",
       t->peak_in_use_bytes
           ? (double)t->backed_at_peak_bytes / (double)t->peak_in_use_bytes -
                 1.0
           : 0.0);
    fn(arg, "metadata_bytes", (double)t->env.meta.bytes);
    fn(arg, "cpu_cache_free_bytes", (double)cpu);
    fn(arg, "transfer_cache_free_bytes", (double)transfer);
    fn(arg, "central_free_bytes", (double)central);
    fn(arg, "filler_used_bytes", (double)(t->filler.used_pages * pb));
    fn(arg, "filler_free_bytes",
       (double)((filler_total - t->filler.used_pages -
                 t->filler.released_pages) *
                pb));
    fn(arg, "filler_unmapped_bytes", (double)(t->filler.released_pages * pb));
    fn(arg, "region_used_bytes", (double)(t->regions.used_pages * pb));
    fn(arg, "region_free_bytes",
       (double)((t->regions.backed_hps * t->env.pph - t->regions.used_pages) *
                pb));
    fn(arg, "region_unmapped_bytes",
       (double)((t->regions.pages - t->regions.backed_hps * t->env.pph) * pb));
    fn(arg, "hugecache_free_bytes", (double)(t->cache.backed.hps * hpb));
    fn(arg, "hugecache_limit_bytes", (double)(t->cache.limit_hps * hpb));
    fn(arg, "hugeallocator_unmapped_bytes",
       (double)(t->alloc.unbacked.hps * hpb));
    fn(arg, "raw_hugepage_used_bytes", (double)(t->ph.raw_hps * hpb));
    fn(arg, "filler_hugepages", (double)t->filler.hps);
    fn(arg, "filler_hugepages_full", (double)full);
    fn(arg, "filler_hugepages_partial", (double)partial);
    fn(arg, "filler_hugepages_released", (double)released);
    fn(arg, "filler_hugepages_donated",
       (double)t->filler.n_in_set[TC_SET_DONATED]);
    fn(arg, "hugepageable_used_ratio",
       t->filler.used_pages ? (double)hugeable / (double)t->filler.used_pages
                            : 1.0);
    fn(arg, "pages_subreleased", (double)t->filler.pages_subreleased);
    fn(arg, "bytes_subreleased", (double)(t->filler.pages_subreleased * pb));
    fn(arg, "hugepages_broken", (double)t->filler.hugepages_broken);
    fn(arg, "skip_subrelease_pages", (double)t->skip_subrelease_pages);
    fn(arg, "filler_reused_released", (double)t->filler.reused_released);
    fn(arg, "abandoned_bytes", (double)(t->filler.abandoned_pages * pb));
    fn(arg, "partial_alloc_pages_subreleased",
       (double)t->filler.partial_released);
    fn(arg, "region_free_backed_bytes",
       (double)(t->regions.free_backed_hps * hpb));
    fn(arg, "region_released_hugepages", (double)t->regions.released_hps);
    fn(arg, "hugecache_usage_bytes", (double)(t->cache.usage_hps * hpb));
    fn(arg, "hugecache_limit_grows", (double)t->cache.limit_grows);
    fn(arg, "hugecache_limit_shrinks", (double)t->cache.limit_shrinks);
    fn(arg, "hugecache_hits", (double)t->cache.hits);
    fn(arg, "hugecache_misses", (double)t->cache.misses);
    fn(arg, "hugecache_released_hugepages", (double)t->cache.released_hps);
    fn(arg, "regions", (double)t->regions.created);
    fn(arg, "donations", (double)t->ph.donations);
    fn(arg, "cpu_cache_hits", (double)t->cpu_hits);
    fn(arg, "cpu_cache_misses", (double)t->cpu_misses);
    fn(arg, "cpu_cache_overflows", (double)t->cpu_overflows);
    fn(arg, "transfer_cache_hits", (double)t->transfer_hits);
    fn(arg, "transfer_cache_misses", (double)t->transfer_misses);
    fn(arg, "spans_created", (double)t->central_spans_created);
    fn(arg, "large_allocs", (double)t->large_allocs);
    fn(arg, "cpu_cache_reclaims", (double)t->cpu_reclaims);
    fn(arg, "realloc_in_place", (double)t->realloc_in_place);
    fn(arg, "reserved_bytes", (double)(t->alloc.hps_from_os * hpb));
    fn(arg, "cpu_cache_class_resizes", (double)t->cpu_class_resizes);
    fn(arg, "cpu_cache_shuffled_bytes", (double)t->cpu_shuffled_bytes);
    fn(arg, "transfer_cache_plundered", (double)t->transfer_plundered);
    fn(arg, "transfer_cache_resizes", (double)t->transfer_resizes);
    uint64_t hist[TC_HIST_BUCKETS];
    as_tc_filler_histogram(&t->env, &t->filler, hist);
    for (int i = 0; i < TC_HIST_BUCKETS; i++)
        fn(arg, hist_names[i], (double)hist[i]);
}

int as_tc_check(const void *state, as_msg_t *why)
{
    const tc_t *t = state;
    int rc = as_tc_pageheap_check(t, why);
    if (!rc) rc = as_tc_frontend_check(t, why);
    return rc;
}

const as_policy_ops_t as_policy_tcmalloc = {
    .name = "tcmalloc",
    .doc = "TCMalloc: per-CPU caches, transfer caches, central lists over a "
           "hugepage-aware page heap (Temeraire filler, regions, cache)",
    .params = as_tc_params,
    .n_params = TC_P_COUNT,
    .create = as_tc_create,
    .alloc = tc_alloc,
    .alloc_batch = tc_alloc_batch,
    .free = tc_free,
    .free_batch = tc_free_batch,
    .realloc = tc_realloc,
    .usable_size = tc_usable_size,
    .tick = tc_tick,
    .stats = tc_stats,
    .destroy = as_tc_destroy,
    .check = as_tc_check,
};

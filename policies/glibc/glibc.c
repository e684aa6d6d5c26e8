/* glibc.c - the `glibc` policy: glibc 2.36's malloc entry points over the
 * arena code of core.c.
 *
 * This file owns what lies above the arenas: the parameters (malloc_par),
 * the threads (each with its thread_arena and its tcache), the assignment of
 * arenas to threads (arena_get2 / reused_arena), the public routines
 * (__libc_malloc, __libc_free, __libc_realloc, _mid_memalign,
 * malloc_usable_size, mallinfo2, malloc_trim), the statistics and the
 * whole-heap check. Threads never exit in the model (a trace records no
 * thread exit): their arenas never go to the free list and their tcaches
 * are never flushed. docs/policies/glibc.md has the rules and citations.
 * It never reads or writes simulated memory, never calls libc, and returns
 * every reservation and metadata byte in destroy.
 */
#include "policies/glibc/glibc.h"

#include "common/util.h"
#include "policies/glibc/gl_internal.h"

static const as_param_spec_t gl_params[AS_GLIBC_N_PARAMS] = {
    {"trim_threshold", AS_PARAM_BYTES, "128K", 0, 1099511627776.0, NULL,
     "M_TRIM_THRESHOLD: trim the top chunk above this (dynamic)"},
    {"top_pad", AS_PARAM_BYTES, "128K", 0, 1073741824.0, NULL,
     "M_TOP_PAD: extra bytes asked of sbrk and kept by trims"},
    {"mmap_threshold", AS_PARAM_BYTES, "128K", 0, 33554432.0, NULL,
     "M_MMAP_THRESHOLD: chunks this large get their own mapping (dynamic)"},
    {"mmap_max", AS_PARAM_U64, "65536", 0, 2147483647.0, NULL,
     "M_MMAP_MAX: most mmapped chunks at once (0: never mmap)"},
    {"dyn_threshold", AS_PARAM_ENUM, "auto", 0, 0, "auto|on|off",
     "raise mmap/trim thresholds on free of mmapped chunks (auto: unless "
     "one of the four above differs from its default; glibc's mallopt "
     "turns it off even for the default value: use off for that)"},
    {"mxfast", AS_PARAM_BYTES, "128", 0, 160, NULL,
     "M_MXFAST: largest request size served by fastbins"},
    {"tcache_count", AS_PARAM_U64, "7", 0, 65535, NULL,
     "glibc.malloc.tcache_count: chunks per tcache bin (0: no caching)"},
    {"tcache_max", AS_PARAM_BYTES, "1032", 0, 1032, NULL,
     "glibc.malloc.tcache_max: largest request cached"},
    {"tcache_unsorted_limit", AS_PARAM_U64, "0", 0, 1e12, NULL,
     "glibc.malloc.tcache_unsorted_limit (0: no limit)"},
    {"arena_max", AS_PARAM_U64, "0", 0, 65535, NULL,
     "M_ARENA_MAX: most arenas (0: 8 x cores once arena_test is passed)"},
    {"arena_test", AS_PARAM_U64, "8", 1, 65535, NULL,
     "M_ARENA_TEST: arenas created before the limit is computed"},
    {"cores", AS_PARAM_U64, "0", 0, 8191, NULL,
     "CPUs for the arena limit (0: highest CPU number seen + 1)"},
    {"trim_interval", AS_PARAM_NS, "0", 0, 1e15, NULL,
     "call malloc_trim(0) this often (0: never; not glibc's own behaviour)"},
};

static gl_arena_t *arena_of(const gl_t *st, const gl_chunk_t *c)
{
    return st->arenas[c->arena];
}

/* What gl_t.chunks says of one address, record or packed. */
typedef struct {
    int state;             /* GL_INUSE .. GL_FENCE; 0: no chunk starts here */
    uint32_t arena;        /* owning arena's index */
    uint64_t size;         /* chunksize */
    const gl_chunk_t *rec; /* the record; NULL for a packed INUSE chunk */
} chunk_view_t;

static chunk_view_t chunk_view(const gl_t *st, uintptr_t addr)
{
    chunk_view_t w = {0, 0, 0, NULL};
    uint64_t v;
    if (!as_u64map_get(&st->chunks, addr, &v)) return w;
    if (gl_packed(v)) {
        w.state = GL_INUSE;
        w.arena = gl_packed_arena(v);
        w.size = gl_packed_size(v);
        return w;
    }
    w.rec = (const gl_chunk_t *)(uintptr_t)v;
    w.state = w.rec->state;
    w.arena = w.rec->arena;
    w.size = w.rec->size;
    return w;
}

/* A chunk free() and realloc() accept: in use or mmapped. */
static int is_live(const chunk_view_t *w)
{
    return w->state == GL_INUSE || w->state == GL_MMAPPED;
}

/* ---- threads and arenas ---- */

static gl_thread_t *thread_of(gl_t *st, const as_ctx_t *ctx)
{
    uint64_t id = ctx ? (uint64_t)ctx->thread + 1 : 1, v;
    if (ctx && ctx->cpu + 1ull > st->max_cpu_seen)
        st->max_cpu_seen = ctx->cpu + 1ull;
    if (st->cur && st->cur->id == id) return st->cur;
    if (as_u64map_get(&st->threads, id, &v))
        return st->cur = (gl_thread_t *)(uintptr_t)v;
    if (as_u64map_reserve(&st->threads, 1)) return NULL;
    gl_thread_t *t = as_pool_alloc(&st->thread_pool);
    if (!t) return NULL;
    t->id = id;
    /* ptmalloc_init gives main_arena to the thread that calls it first */
    t->arena = as_u64map_count(&st->threads) == 0 ? 0 : -1;
    as_u64map_put(&st->threads, id, (uintptr_t)t);
    return st->cur = t;
}

/* arena_get2 (arena.c 924-970) without a free list, and reused_arena
 * (863-921) with every trylock succeeding (a trace shows no contention). */
static gl_arena_t *arena_get(gl_t *st, gl_thread_t *t, uint64_t size)
{
    if (t->arena >= 0) return st->arenas[t->arena];
    if (st->narenas_limit == 0) {
        if (st->arena_max)
            st->narenas_limit = st->arena_max;
        else if (st->n_arenas > st->arena_test) {
            uint64_t n = st->cores ? st->cores : st->max_cpu_seen;
            st->narenas_limit = 8 * (n ? n : 2);
        }
    }
    if ((uint64_t)st->n_arenas <= st->narenas_limit - 1) {
        int a = gl_new_arena(st, size);
        t->arena = a >= 0 ? a : 0; /* glibc would fall back to mmap */
    } else {
        uint32_t r = st->next_to_use;
        t->arena = (int32_t)r;
        st->next_to_use = st->arenas[r]->next;
    }
    return st->arenas[t->arena];
}

/* tcache_init: the tcache_perthread_struct is a chunk of the thread's
 * arena; failing, the thread tries again at its next call. */
static void tcache_init(gl_t *st, gl_thread_t *t)
{
    if (t->tcache_on) return;
    int rc;
    gl_arena_t *av = arena_get(st, t, GL_TCACHE_STRUCT);
    gl_chunk_t *c = gl_int_malloc(st, av, GL_TCACHE_STRUCT, &rc);
    if (c) {
        t->tcache_on = 1;
        gl_pack(st, c);
    }
}

/* ---- the policy ---- */

static int gl_create(const as_policy_config_t *cfg, void **state)
{
    if (!cfg || !cfg->ps || cfg->ps->page_bytes != 4096) return AS_EINVAL;
    as_param_value_t defv[AS_GLIBC_N_PARAMS];
    const as_param_value_t *v = cfg->params;
    if (as_param_defaults(gl_params, AS_GLIBC_N_PARAMS, defv)) return AS_EINVAL;
    if (!v) v = defv;
    gl_t *st = as_mem_alloc(&cfg->ps->meta, sizeof *st);
    if (!st) return AS_ENOMEM;
    st->ps = cfg->ps;
    st->page = cfg->ps->page_bytes;
    st->trim_threshold = v[AS_GLIBC_TRIM_THRESHOLD].u;
    st->top_pad = v[AS_GLIBC_TOP_PAD].u;
    st->mmap_threshold = v[AS_GLIBC_MMAP_THRESHOLD].u;
    st->mmap_max = v[AS_GLIBC_MMAP_MAX].u;
    int set = 0;
    for (int i = AS_GLIBC_TRIM_THRESHOLD; i <= AS_GLIBC_MMAP_MAX; i++)
        set |= v[i].u != defv[i].u;
    st->dyn_threshold = v[AS_GLIBC_DYN_THRESHOLD].u == 0   ? !set
                        : v[AS_GLIBC_DYN_THRESHOLD].u == 1 ? 1
                                                           : 0;
    uint64_t mx = v[AS_GLIBC_MXFAST].u; /* set_max_fast */
    st->max_fast = mx <= GL_ALIGN - 1 - GL_SIZE_SZ
                       ? GL_MINSIZE / 2
                       : (mx + GL_SIZE_SZ) & ~(uint64_t)(GL_ALIGN - 1);
    st->tcache_count = v[AS_GLIBC_TCACHE_COUNT].u;
    st->tcache_bins =
        gl_csize2tidx(gl_request2size(v[AS_GLIBC_TCACHE_MAX].u)) + 1;
    st->tcache_unsorted_limit = v[AS_GLIBC_TCACHE_UNSORTED_LIMIT].u;
    st->arena_max = v[AS_GLIBC_ARENA_MAX].u;
    st->arena_test = v[AS_GLIBC_ARENA_TEST].u;
    st->cores = v[AS_GLIBC_CORES].u;
    st->trim_interval_ns = v[AS_GLIBC_TRIM_INTERVAL].u;
    as_pool_init(&st->chunk_pool, &cfg->ps->meta, sizeof(gl_chunk_t));
    as_pool_init(&st->seg_pool, &cfg->ps->meta, sizeof(gl_seg_t));
    as_pool_init(&st->thread_pool, &cfg->ps->meta, sizeof(gl_thread_t));
    as_u64map_init_dense(&st->chunks, &cfg->ps->meta); /* one per chunk */
    as_u64map_init(&st->foot, &cfg->ps->meta);
    as_u64map_init(&st->threads, &cfg->ps->meta);
    st->cap_arenas = 8;
    st->arenas = as_mem_alloc(&cfg->ps->meta, 8 * sizeof *st->arenas);
    gl_arena_t *m = as_mem_alloc(&cfg->ps->meta, sizeof *m);
    if (!st->arenas || !m) {
        as_mem_free(&cfg->ps->meta, m, sizeof *m);
        as_mem_free(&cfg->ps->meta, st->arenas, 8 * sizeof *st->arenas);
        as_mem_free(&cfg->ps->meta, st, sizeof *st);
        return AS_ENOMEM;
    }
    gl_bins_init(m); /* malloc_init_state (main_arena) */
    m->contiguous = 1;
    m->index = m->next = 0;
    st->arenas[0] = m;
    st->n_arenas = 1;
    *state = st;
    return 0;
}

static size_t usable(int state, uint64_t size)
{
    return state == GL_MMAPPED ? size - GL_HDR : size - GL_SIZE_SZ;
}

/* The block of chunk c (NULL: the call failed with rc); an INUSE chunk's
 * record is packed away. */
static int finish(gl_t *st, gl_chunk_t *c, int rc, as_block_t *out)
{
    if (!c) return rc ? rc : AS_ENOMEM;
    out->addr = c->addr + GL_HDR;
    out->bytes = usable(c->state, c->size);
    gl_pack(st, c);
    return 0;
}

/* __libc_malloc (malloc.c 3280-3341) and _mid_memalign (3524-3580). */
static int gl_alloc(void *state, const as_ctx_t *ctx, size_t size, size_t align,
                    as_block_t *out)
{
    gl_t *st = state;
    if (align && !as_is_pow2(align)) return AS_EINVAL;
    if (size > (uint64_t)INT64_MAX || align > ((uint64_t)1 << 40))
        return AS_ETOO_LARGE;
    gl_thread_t *t = thread_of(st, ctx);
    if (!t || gl_prepare(st)) return AS_ENOMEM;
    int rc = 0;
    gl_chunk_t *c;
    if (align <= GL_ALIGN) {
        uint64_t tc_idx = gl_csize2tidx(gl_request2size(size));
        tcache_init(st, t);
        if (gl_prepare(st)) return AS_ENOMEM;
        if (tc_idx < st->tcache_bins && t->tcache_on && t->counts[tc_idx])
            return finish(st, gl_tcache_get(st, tc_idx), 0, out);
        gl_arena_t *av = arena_get(st, t, size);
        c = gl_int_malloc(st, av, size, &rc);
        if (!c && rc != AS_ETOO_LARGE && av->index != 0) /* arena_get_retry */
            c = gl_int_malloc(st, st->arenas[0], size, &rc);
    } else {
        uint64_t alignment = align < GL_MINSIZE ? GL_MINSIZE : align;
        gl_arena_t *av = arena_get(st, t, size + alignment + GL_MINSIZE);
        c = gl_int_memalign(st, av, alignment, size, &rc);
    }
    return finish(st, c, rc, out);
}

/* __libc_free (malloc.c 3345-3390). */
static int gl_free(void *state, const as_ctx_t *ctx, uintptr_t addr,
                   size_t size_hint)
{
    gl_t *st = state;
    (void)size_hint;
    chunk_view_t w = chunk_view(st, addr - GL_HDR);
    if (!is_live(&w)) return AS_EINVAL;
    gl_thread_t *t = thread_of(st, ctx);
    if (!t || gl_prepare(st)) return AS_ENOMEM;
    gl_chunk_t *c = gl_unpack(st, addr - GL_HDR);
    if (c->state == GL_MMAPPED) {
        gl_free_mmapped(st, c);
        return 0;
    }
    tcache_init(st, t);
    if (gl_prepare(st)) {
        gl_pack(st, c);
        return AS_ENOMEM;
    }
    gl_int_free(st, arena_of(st, c), c);
    return 0;
}

/* __libc_realloc (malloc.c 3393-3500); realloc(p, 0) is served as a
 * request of 0 bytes (glibc frees and returns NULL, which a replay cannot
 * express), and alignment above 16 as allocate + free. */
static int gl_realloc(void *state, const as_ctx_t *ctx, uintptr_t addr,
                      size_t old_size, size_t new_size, size_t align,
                      as_block_t *out)
{
    gl_t *st = state;
    (void)old_size;
    chunk_view_t w = chunk_view(st, addr - GL_HDR);
    if (!is_live(&w)) return AS_EINVAL;
    if (align && !as_is_pow2(align)) return AS_EINVAL;
    if (new_size > (uint64_t)INT64_MAX) return AS_ETOO_LARGE;
    if (align > GL_ALIGN) {
        int rc = gl_alloc(st, ctx, new_size, align, out);
        return rc ? rc : gl_free(st, ctx, addr, 0);
    }
    gl_thread_t *t = thread_of(st, ctx);
    if (!t || gl_prepare(st)) return AS_ENOMEM;
    gl_chunk_t *c = gl_unpack(st, addr - GL_HDR);
    uint64_t nb = gl_request2size(new_size);
    int rc = 0;
    if (c->state == GL_MMAPPED) {
        gl_chunk_t *n = gl_mremap_chunk(st, c, nb, &rc);
        if (n) return finish(st, n, 0, out);
        if (c->size - GL_SIZE_SZ >= nb) return finish(st, c, 0, out);
        if ((rc = gl_alloc(st, ctx, new_size, 0, out)) != 0) return rc;
        gl_free_mmapped(st, c);
        return 0;
    }
    tcache_init(st, t);
    if (gl_prepare(st)) {
        gl_pack(st, c);
        return AS_ENOMEM;
    }
    gl_chunk_t *n = gl_int_realloc(st, arena_of(st, c), c, nb, &rc);
    if (!n) gl_pack(st, c); /* unchanged, still in use */
    return finish(st, n, rc, out);
}

static size_t gl_usable_size(void *state, uintptr_t addr)
{
    chunk_view_t w = chunk_view(state, addr - GL_HDR);
    return is_live(&w) ? usable(w.state, w.size) : 0;
}

int as_glibc_malloc_trim(void *state, uint64_t pad)
{
    gl_t *st = state;
    int r = 0;
    if (gl_prepare(st)) return 0;
    uint32_t i = 0; /* main_arena, then its list */
    do {
        r |= gl_mtrim(st, st->arenas[i], pad);
        i = st->arenas[i]->next;
    } while (i != 0);
    return r;
}

static uint64_t gl_tick(void *state, const as_ctx_t *ctx)
{
    gl_t *st = state;
    (void)ctx;
    if (!st->trim_interval_ns) return 0;
    as_glibc_malloc_trim(st, 0);
    return st->trim_interval_ns;
}

void as_glibc_mallinfo(const void *state, as_glibc_mallinfo_t *m)
{
    const gl_t *st = state;
    *m = (as_glibc_mallinfo_t){0};
    for (uint32_t i = 0; i < st->n_arenas; i++) {
        const gl_arena_t *av = st->arenas[i];
        uint64_t avail = av->top_size + av->fast_bytes + av->binned_bytes;
        m->smblks += av->n_fast;
        m->ordblks += 1 + av->n_binned;
        m->fordblks += avail;
        m->uordblks += av->system_mem - avail;
        m->arena += av->system_mem;
        m->fsmblks += av->fast_bytes;
    }
    m->hblks = st->n_mmaps;
    m->hblkhd = st->mmapped_mem;
    m->keepcost = st->arenas[0]->top_size;
}

void as_glibc_top(const void *state, uintptr_t *addr, uint64_t *size)
{
    const gl_t *st = state;
    *addr = st->arenas[0]->top;
    *size = st->arenas[0]->top_size;
}

static void gl_stats(void *state, as_stat_fn fn, void *arg)
{
    gl_t *st = state;
    as_glibc_mallinfo_t m;
    as_glibc_mallinfo(st, &m);
    fn(arg, "arena", (double)m.arena);
    fn(arg, "ordblks", (double)m.ordblks);
    fn(arg, "smblks", (double)m.smblks);
    fn(arg, "hblks", (double)m.hblks);
    fn(arg, "hblkhd", (double)m.hblkhd);
    fn(arg, "fsmblks", (double)m.fsmblks);
    fn(arg, "uordblks", (double)m.uordblks);
    fn(arg, "fordblks", (double)m.fordblks);
    fn(arg, "keepcost", (double)m.keepcost);
    fn(arg, "arenas", (double)st->n_arenas);
    fn(arg, "heaps", (double)st->n_heaps);
    fn(arg, "threads", (double)as_u64map_count(&st->threads));
    fn(arg, "tcache_chunks", (double)st->n_tcache);
    fn(arg, "tcache_bytes", (double)st->tcache_bytes);
    fn(arg, "mmap_threshold", (double)st->mmap_threshold);
    fn(arg, "trim_threshold", (double)st->trim_threshold);
    fn(arg, "sbrk_bytes", (double)(st->brk_end - st->brk_base));
    fn(arg, "sbrk_calls", (double)st->n_sbrk);
    fn(arg, "systrims", (double)st->n_systrim);
    fn(arg, "trimmed_bytes", (double)st->trimmed_bytes);
    fn(arg, "consolidations", (double)st->n_consolidate);
    fn(arg, "heap_trims", (double)st->n_heap_trim);
    fn(arg, "mmap_fallbacks", (double)st->n_mmap_fallback);
    fn(arg, "madvised_bytes", (double)st->madvised_bytes);
}

static void gl_destroy(void *state)
{
    gl_t *st = state;
    if (!st) return;
    const as_pagesource_t *ps = st->ps;
    size_t it = 0;
    uint64_t k, v;
    while (as_u64map_next(&st->chunks, &it, &k, &v)) {
        const gl_chunk_t *c = (const gl_chunk_t *)(uintptr_t)v;
        if (!gl_packed(v) && c->state == GL_MMAPPED)
            as_ps_unreserve(ps, c->addr - c->mm_off, c->mm_off + c->size);
    }
    if (st->brk_end > st->brk_base)
        as_ps_unreserve(ps, st->brk_base, st->brk_end - st->brk_base);
    for (uint32_t i = 0; i < st->n_arenas; i++) {
        gl_arena_t *av = st->arenas[i];
        for (gl_seg_t *s = av->segs; s; s = s->prev)
            as_ps_unreserve(ps, s->base, i == 0 ? s->size : GL_HEAP_MAX);
        as_mem_free(&ps->meta, av, sizeof *av);
    }
    as_mem_free(&ps->meta, st->arenas, st->cap_arenas * sizeof *st->arenas);
    as_pool_fini(&st->chunk_pool);
    as_pool_fini(&st->seg_pool);
    as_pool_fini(&st->thread_pool);
    as_u64map_fini(&st->chunks);
    as_u64map_fini(&st->foot);
    as_u64map_fini(&st->threads);
    as_mem_free(&ps->meta, st, sizeof *st);
}

/* ---- the check hook ---- */

#define FAIL(what, key, val) return as_msg_fail(why, "glibc: " what, key, val)

/* Walk [first, end) of one segment of av: chunks and the top tile it. */
static int walk_seg(const gl_t *st, const gl_arena_t *av, uintptr_t first,
                    uintptr_t end, uint64_t *n_binned, uint64_t *binned_b,
                    as_msg_t *why)
{
    int prev_binned = 0;
    for (uintptr_t p = first; p < end;) {
        if (p == av->top) {
            if (prev_binned) FAIL("free chunk before the top", "chunk_addr", p);
            p += av->top_size;
            prev_binned = 0;
            continue;
        }
        chunk_view_t c = chunk_view(st, p);
        if (!c.state) FAIL("hole in an arena's chunk tiling", "at_addr", p);
        if (c.arena != av->index || c.state == GL_MMAPPED)
            FAIL("chunk of another arena inside a heap", "chunk_addr", p);
        if (c.state != GL_FENCE && (c.size < GL_MINSIZE || c.size % 16))
            FAIL("chunk size not a multiple of 16 >= 32", "chunk_addr", p);
        if (c.state == GL_BINNED) {
            if (prev_binned) FAIL("two adjacent free chunks", "chunk_addr", p);
            uint64_t v;
            if (!as_u64map_get(&st->foot, p + c.size, &v) ||
                (const gl_chunk_t *)(uintptr_t)v != c.rec)
                FAIL("free chunk without its footer", "chunk_addr", p);
            (*n_binned)++;
            *binned_b += c.size;
        }
        prev_binned = c.state == GL_BINNED;
        uintptr_t at = p;
        p += c.size;
        if (p > end) FAIL("chunk crosses its segment end", "chunk_addr", at);
    }
    return 0;
}

static int check_arena(const gl_t *st, const gl_arena_t *av, as_msg_t *why)
{
    uint64_t nb = 0, bb = 0, mem = 0;
    int top_seen = 0;
    if (av->index == 0) {
        if (st->brk_end > st->brk_base) {
            if (walk_seg(st, av, st->brk_base, st->brk_end, &nb, &bb, why))
                return AS_ECHECK;
            mem += st->brk_end - st->brk_base;
            top_seen |= av->top >= st->brk_base && av->top < st->brk_end;
        }
        for (const gl_seg_t *s = av->segs; s; s = s->prev) {
            if (walk_seg(st, av, s->first, s->base + s->size, &nb, &bb, why))
                return AS_ECHECK;
            mem += s->size;
            top_seen |= av->top >= s->first && av->top < s->base + s->size;
        }
        if (!st->brk_end && !av->segs) top_seen = av->top == 0;
    } else {
        for (const gl_seg_t *s = av->segs; s; s = s->prev) {
            if (s->base % GL_HEAP_MAX || s->size > GL_HEAP_MAX)
                FAIL("heap not aligned to or larger than HEAP_MAX_SIZE",
                     "heap_addr", s->base);
            if (walk_seg(st, av, s->first, s->base + s->size, &nb, &bb, why))
                return AS_ECHECK;
            mem += s->size;
        }
        top_seen = av->segs && av->top >= av->segs->first &&
                   av->top + av->top_size == av->segs->base + av->segs->size;
    }
    if (!top_seen) FAIL("top chunk outside the arena", "top_addr", av->top);
    if (mem != av->system_mem)
        FAIL("system_mem != bytes of the arena's segments", "system_mem",
             av->system_mem);
    if (nb != av->n_binned || bb != av->binned_bytes)
        FAIL("free chunks in the heap != binned counters", "binned_bytes",
             av->binned_bytes);
    /* the bins: linked, sized, sorted; binmap covers every nonempty bin */
    uint64_t lnb = 0, lbb = 0;
    for (unsigned i = 1; i < GL_NBINS; i++) {
        const gl_chunk_t *bin = &av->bins[i];
        uint64_t prev_size = UINT64_MAX;
        for (const gl_chunk_t *c = bin->fd; c != bin; c = c->fd) {
            if (c->fd->bk != c || c->state != GL_BINNED ||
                c->arena != av->index)
                FAIL("bin list broken", "bin", i);
            if (i > 1 && gl_bin_index(c->size) != i)
                FAIL("chunk in the wrong bin", "chunk_addr", c->addr);
            if (i >= 64) {
                if (c->size > prev_size)
                    FAIL("large bin not sorted by size", "chunk_addr", c->addr);
                int head = prev_size != c->size;
                if (head != (c->fd_nextsize != NULL))
                    FAIL("large bin skip list wrong", "chunk_addr", c->addr);
                if (head && (c->fd_nextsize->bk_nextsize != c ||
                             c->bk_nextsize->fd_nextsize != c))
                    FAIL("large bin skip list unlinked", "chunk_addr", c->addr);
                prev_size = c->size;
            }
            lnb++;
            lbb += c->size;
            if (lnb > nb)
                FAIL("bin lists longer than the free chunks", "bin", i);
        }
        if (i > 1 && bin->fd != bin && !(av->binmap[i >> 5] & (1u << (i & 31))))
            FAIL("nonempty bin not in the binmap", "bin", i);
    }
    if (lnb != nb || lbb != bb)
        FAIL("bins do not hold every free chunk", "binned_bytes", bb);
    uint64_t nf = 0, fb = 0;
    for (unsigned i = 0; i < GL_NFASTBINS; i++)
        for (const gl_chunk_t *c = av->fast[i]; c; c = c->fd) {
            if (c->state != GL_FAST || gl_fastbin_index(c->size) != i ||
                c->arena != av->index)
                FAIL("fastbin chunk of wrong size or state", "chunk_addr",
                     c->addr);
            if (++nf > av->n_fast)
                FAIL("fastbin longer than counted", "bin", i);
            fb += c->size;
        }
    if (nf != av->n_fast || fb != av->fast_bytes)
        FAIL("fastbin counters != lists", "fast_bytes", av->fast_bytes);
    if (nf && !av->have_fastchunks)
        FAIL("fastbin chunks with have_fastchunks clear", "fast_chunks", nf);
    return 0;
}

static int gl_check(const void *state, as_msg_t *why)
{
    const gl_t *st = state;
    if (as_u64map_check(&st->chunks) || as_u64map_check(&st->foot))
        FAIL("chunk or footer map malformed", NULL, 0);
    for (uint32_t i = 0; i < st->n_arenas; i++)
        if (check_arena(st, st->arenas[i], why)) return AS_ECHECK;
    /* tcaches: counts <= tcache_count, lists as counted, sizes right */
    uint64_t ntc = 0, tcb = 0;
    size_t it = 0;
    uint64_t k, v;
    while (as_u64map_next(&st->threads, &it, &k, &v)) {
        const gl_thread_t *t = (const gl_thread_t *)(uintptr_t)v;
        for (unsigned b = 0; b < GL_TCACHE_BINS; b++) {
            uint64_t n = 0;
            if (t->counts[b] > st->tcache_count ||
                (t->counts[b] && b >= st->tcache_bins))
                FAIL("tcache bin over its count", "count", t->counts[b]);
            for (const gl_chunk_t *c = t->entries[b]; c; c = c->fd) {
                if (c->state != GL_TCACHE || gl_csize2tidx(c->size) != b)
                    FAIL("tcache chunk of wrong size or state", "chunk_addr",
                         c->addr);
                if (++n > t->counts[b]) break;
                tcb += c->size;
            }
            if (n != t->counts[b])
                FAIL("tcache count != list length", "count", t->counts[b]);
            ntc += n;
        }
    }
    if (ntc != st->n_tcache || tcb != st->tcache_bytes)
        FAIL("tcache totals != lists", "tcache_chunks", st->n_tcache);
    /* mmapped chunks: count and bytes as mallinfo's hblks / hblkhd */
    uint64_t nm = 0, mb = 0, nfence = 0;
    it = 0;
    while (as_u64map_next(&st->chunks, &it, &k, &v)) {
        const gl_chunk_t *c = (const gl_chunk_t *)(uintptr_t)v;
        if (gl_packed(v)) { /* an INUSE chunk: walk_seg checked its tiling */
            if (gl_packed_arena(v) >= st->n_arenas || k % GL_ALIGN)
                FAIL("packed chunk of no arena or misaligned", "chunk_addr", k);
            continue;
        }
        if (c->addr != k)
            FAIL("chunk map key != chunk address", "chunk_addr", k);
        if (c->state == GL_MMAPPED) {
            if ((c->addr - c->mm_off) % st->page ||
                (c->mm_off + c->size) % st->page)
                FAIL("mmapped chunk not page rounded", "chunk_addr", c->addr);
            nm++;
            mb += c->mm_off + c->size;
        }
        nfence += c->state == GL_FENCE;
    }
    if (nm != st->n_mmaps || mb != st->mmapped_mem)
        FAIL("mmapped chunks != hblks/hblkhd", "hblkhd", st->mmapped_mem);
    return 0;
}

int as_glibc_debug_corrupt(void *state)
{
    ((gl_t *)state)->arenas[0]->binned_bytes += 16;
    return 0;
}

const as_policy_ops_t as_policy_glibc = {
    .name = "glibc",
    .doc = "model of glibc 2.36 malloc (ptmalloc2: tcache, fastbins, "
           "unsorted/small/large bins, sbrk top, mmap threshold, arenas)",
    .params = gl_params,
    .n_params = AS_GLIBC_N_PARAMS,
    .create = gl_create,
    .alloc = gl_alloc,
    .free = gl_free,
    .realloc = gl_realloc,
    .usable_size = gl_usable_size,
    .tick = gl_tick,
    .stats = gl_stats,
    .destroy = gl_destroy,
    .check = gl_check,
};

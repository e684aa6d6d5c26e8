/* llama.c - LLAMA: huge pages organised by predicted object lifetime.
 *
 * This file owns every LLAMA structure: the huge-page descriptors (one per
 * 2 MiB page, with a block bitmap, per-block records and per-line live
 * counts), the per-lifetime-class allocation state, a map from huge page to
 * descriptor and a map from small-object address to its size (so free works
 * without a size, rule 5). All of it lives in the page source's metadata
 * arena. It never touches the memory it hands out, never calls libc, keeps no
 * clock (time comes from as_ctx_t.now_ns) and makes every choice in a fixed
 * order, so a run is reproducible address for address.
 *
 * The algorithm, its sources and the choices made where the paper is silent
 * are in docs/policies/llama.md; the summary is in llama.h.
 */
#include "policies/llama/llama.h"

#include "common/u64map.h"
#include "common/util.h"
#include "policies/blocks/rbtree.h"

#define NIL UINT32_MAX
#define MAX_CLASSES 16
#define MAX_PER 512 /* blocks per huge page, lines per block */
#define PARTIAL_TRIES 8

static const as_param_spec_t llama_params[] = {
    [AS_LLAMA_BLOCK_SIZE] = {"block_size", AS_PARAM_POW2, "8K", 4096, 65536,
                             NULL, "block: unit of recycling (power of two)"},
    [AS_LLAMA_LINE_SIZE] = {"line_size", AS_PARAM_POW2, "128", 16, 2048, NULL,
                            "line: unit of reuse inside a block (power "
                            "of two)"},
    [AS_LLAMA_SMALL_MAX] = {"small_max", AS_PARAM_BYTES, "8K", 16, 65536, NULL,
                            "largest request placed in lines (clamped "
                            "to block_size)"},
    [AS_LLAMA_MEDIUM_MAX] = {"medium_max", AS_PARAM_BYTES, "2M", 16, 1 << 21,
                             NULL,
                             "largest request placed as a run of blocks;"
                             " larger ones get whole huge pages"},
    [AS_LLAMA_PARTIAL_MIN_LINES] = {"partial_min_lines", AS_PARAM_U64, "8", 1,
                                    MAX_PER, NULL,
                                    "free lines a block needs to be reused "
                                    "for small objects of its class"},
    [AS_LLAMA_TICK_INTERVAL] = {"tick_interval", AS_PARAM_NS, "10ms", 1000,
                                1e15, NULL, "period of deadline checks"},
    [AS_LLAMA_DEADLINE_MULTIPLIER] = {"deadline_multiplier", AS_PARAM_DOUBLE,
                                      "2", 1, 1000, NULL,
                                      "a unit's deadline is its opening "
                                      "allocation + this x its class bound "
                                      "(not fixed by the paper)"},
    [AS_LLAMA_RECYCLE] = {"recycle", AS_PARAM_BOOL, "1", 0, 1, NULL,
                          "place shorter-lived blocks on longer-lived pages"},
    [AS_LLAMA_RECYCLE_OPEN] = {"recycle_open", AS_PARAM_ENUM, "never", 0, 0,
                               "never|top|bottom",
                               "recycle also onto longer-lived pages still "
                               "open for their class (top: from the top end; "
                               "bottom: first fit); not from the paper, "
                               "which recycles onto active pages only "
                               "(never)"},
    [AS_LLAMA_RECYCLE_ORDER] = {"recycle_order", AS_PARAM_ENUM, "nearest", 0, 0,
                                "nearest|longest",
                                "which longer class to recycle from first"},
    [AS_LLAMA_RETURN] = {"return", AS_PARAM_ENUM, "unreserve", 0, 0,
                         "unreserve|release|keep",
                         "what happens to an empty huge page: munmap, "
                         "MADV_DONTNEED and reuse, or keep resident"},
    [AS_LLAMA_SUBRELEASE] = {"subrelease", AS_PARAM_BOOL, "0", 0, 1, NULL,
                             "release free blocks below 2 MiB (splits huge "
                             "pages)"},
    [AS_LLAMA_HUGEPAGE_HINT] = {"hugepage_hint", AS_PARAM_BOOL, "1", 0, 1, NULL,
                                "MADV_HUGEPAGE every huge page"},
    [AS_LLAMA_UNKNOWN_CLASS] = {"unknown_class", AS_PARAM_ENUM, "shortest", 0,
                                0, "shortest|longest",
                                "class of an object with no prediction: "
                                "shortest (pages are promoted as they age) "
                                "or longest (no lifetime segregation)"},
    [AS_LLAMA_OPEN_BLOCKS] = {"open_blocks", AS_PARAM_ENUM, "per_cpu", 0, 0,
                              "per_cpu|shared",
                              "each CPU bump-allocates small objects in its "
                              "own open block per class, as a drop-in "
                              "TCMalloc replacement must (per_cpu), or one "
                              "open block per class for all (shared)"},
    [AS_LLAMA_MAX_CPUS] = {"max_cpus", AS_PARAM_U64, "256", 1, 4096, NULL,
                           "CPUs with their own open blocks (open_blocks="
                           "per_cpu); a higher CPU number is folded modulo "
                           "this, as tcmalloc.max_cpus"},
};

enum { B_FREE, B_SMALL, B_MED_HEAD, B_MED_TAIL };
enum { P_OPEN, P_ACTIVE, P_FREE, P_LARGE };
enum { RET_UNRESERVE, RET_RELEASE, RET_KEEP };
enum { RECYCLE_NEVER, RECYCLE_TOP, RECYCLE_BOTTOM };

/* A block. A *unit* is a B_SMALL block or a B_MED_HEAD (with its tails): the
 * thing that has a lifetime class and a deadline. */
typedef struct {
    uint64_t deadline_ns; /* unit: opening allocation + span(lc), saturating;
                             reset only when the unit changes class */
    uint64_t born_ns;     /* unit: time of the allocation that opened it */
    uint32_t prev, next;  /* B_SMALL: partial list of class lc (block ids) */
    uint16_t live;        /* B_SMALL: live objects; B_MED_HEAD: run length */
    uint16_t free_lines;  /* B_SMALL: lines whose count is 0 */
    uint16_t cur_cpu1;    /* B_SMALL: 1 + the CPU whose open (bump) block of
                             class lc it is; 0 = nobody's */
    uint8_t state;        /* B_* */
    uint8_t lc;           /* lifetime class of its objects */
    uint8_t on_list;      /* on the partial list of lc */
} blk_t;

/* A huge page (or, P_LARGE, a run of whole huge pages for one object).
 * Invariants (not P_LARGE):
 *   free_blocks + used_blocks == bpp; free_blocks == popcount(freemap);
 *   units == B_SMALL + B_MED_HEAD blocks; resid == units with lc == page lc;
 *   every unit's lc <= page lc;
 *   on_avail == (free_blocks > 0 && state is P_OPEN or P_ACTIVE);
 *   longest == the longest run of free blocks (1 bits of freemap);
 *   sub_longest == max longest over its subtree of llama_t.avail;
 *   min_deadline_ns <= every unit's deadline (a lower bound, made exact by
 *   each scan);
 *   in llama_t.ticking (by slot) iff state is P_OPEN or P_ACTIVE, with
 *   sub_min_deadline_ns the least min_deadline_ns of its subtree there. */
typedef struct {
    uintptr_t base;
    uint32_t slot;    /* index in llama_t.slots */
    uint8_t state;    /* P_* */
    uint8_t lc;       /* the page's lifetime class */
    uint8_t on_avail; /* in llama_t.avail (has free blocks) */
    uint8_t own_aged; /* an own-class unit died at an age >= the lower bound
                         of the page's class (since the page took it) */
    uint32_t free_blocks, used_blocks, units, resid;
    union {
        uint32_t large_pages; /* P_LARGE: huge pages in the run */
        uint32_t keep_next;   /* P_FREE: next kept page's slot, or NIL */
    };
    uint16_t longest, sub_longest; /* free-run summary (above) */
    uint64_t deadline_ns;          /* max over own-class units' deadlines */
    uint64_t min_deadline_ns;
    as_rb_node_t anode; /* in llama_t.avail while on_avail */
    as_rb_node_t tnode; /* in llama_t.ticking while open or active */
    uint64_t sub_min_deadline_ns;
    uint64_t avail_seq; /* when it last entered llama_t.avail */
    uint64_t *freemap;  /* 1 bit per block, 1 = free */
    blk_t *blk;         /* bpp blocks */
    uint8_t *lines;     /* bpp * lpb live-object counts */
} page_t;

/* The open (bump) block of one class on one CPU (or of the class, with
 * open_blocks=shared). */
typedef struct {
    uint32_t cur;           /* bump block id, or NIL */
    uint32_t cursor, limit; /* the free hole [cursor, limit) in cur */
} bump_t;

/* Allocation state of one lifetime class, shared by every CPU. */
typedef struct {
    uint32_t part_head, part_tail; /* small blocks with free lines */
    uint32_t open;                 /* the open page's slot, or NIL */
} lclass_t;

typedef struct {
    const as_pagesource_t *ps;
    as_mem_t mem;
    uint32_t n;                  /* lifetime classes */
    uint64_t bound[MAX_CLASSES]; /* class bounds; last = UINT64_MAX */
    size_t hp, block, line;
    uint32_t bpp, lpb, words; /* blocks/page, lines/block, map words */
    size_t small_max, medium_max;
    uint32_t partial_min;
    uint64_t tick_ns;
    uint64_t span[MAX_CLASSES];  /* deadline_multiplier x bound, saturating */
    uint64_t lower[MAX_CLASSES]; /* lower bound of each class (0 for 0) */
    uint32_t ncpus;              /* CPUs with own open blocks (1 = shared) */
    bump_t **bumps;              /* [ncpus], each [n], made on first use */
    size_t bump_bytes;           /* bytes of bumps and its arrays */
    int recycle, recycle_open, recycle_longest, ret_mode, subrelease, hint;
    uint32_t unknown_class; /* class of objects without a prediction */
    page_t **slots;         /* descriptors by slot, NULL = unused */
    uint32_t nslots, cap_slots;
    uint32_t *free_slots, n_free_slots;
    as_u64map_t pages; /* base / hp -> slot */
    as_u64map_t objs;  /* small object address -> bytes */
    lclass_t cls[MAX_CLASSES];
    uint64_t cpus_used; /* CPUs whose open blocks were made */
    /* Pages with free blocks (open or active), ordered by (class, avail_seq):
     * each class's pages in the order they last gained a free block, as the
     * per-class lists this replaces. Augmented with the longest free run. */
    as_rb_atree_t avail;
    uint64_t avail_seq; /* the last sequence number given */
    /* Open and active pages by slot (the order the tick visits them),
     * augmented with the least min_deadline_ns, so a tick visits only the
     * pages with a deadline behind it. */
    as_rb_atree_t ticking;
    uint32_t keep_head; /* kept free pages (return=release|keep) */
    size_t meta_bytes;  /* descriptors, slot arrays and bumps */
    /* statistics (cumulative unless noted) */
    uint64_t pages_opened, pages_returned, pages_emptied_early;
    uint64_t promotions, block_promotions, demotions, recycled_units;
    uint64_t small_allocs, medium_allocs, large_allocs;
} llama_t;

static uint64_t sat_add(uint64_t a, uint64_t b)
{
    return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

static void *meta_alloc(llama_t *L, size_t n)
{
    void *p = as_mem_alloc(&L->mem, n);
    if (p) L->meta_bytes += n;
    return p;
}

static void meta_free(llama_t *L, void *p, size_t n)
{
    if (!p) return;
    as_mem_free(&L->mem, p, n);
    L->meta_bytes -= n;
}

/* ------------------------------------------------------------ descriptors */

static int slot_get(llama_t *L, uint32_t *out)
{
    if (L->n_free_slots) {
        *out = L->free_slots[--L->n_free_slots];
        return AS_OK;
    }
    if (L->nslots == L->cap_slots) {
        uint32_t cap = L->cap_slots ? 2 * L->cap_slots : 64;
        if ((uint64_t)cap * L->bpp >= NIL) return AS_ENOMEM;
        page_t **s = meta_alloc(L, cap * sizeof *s);
        uint32_t *f = meta_alloc(L, cap * sizeof *f);
        if (!s || !f) {
            meta_free(L, s, cap * sizeof *s);
            meta_free(L, f, cap * sizeof *f);
            return AS_ENOMEM;
        }
        for (uint32_t i = 0; i < L->nslots; i++)
            s[i] = L->slots[i];
        for (uint32_t i = 0; i < L->n_free_slots; i++)
            f[i] = L->free_slots[i];
        meta_free(L, L->slots, L->cap_slots * sizeof *s);
        meta_free(L, L->free_slots, L->cap_slots * sizeof *f);
        L->slots = s;
        L->free_slots = f;
        L->cap_slots = cap;
    }
    *out = L->nslots++;
    return AS_OK;
}

/* Bytes of a descriptor; `full` adds the block arrays. */
static size_t page_bytes(const llama_t *L, int full)
{
    size_t head = as_align_up(sizeof(page_t), 16);
    size_t map = (size_t)L->words * 8, blk = (size_t)L->bpp * sizeof(blk_t);
    return head + (full ? map + blk + (size_t)L->bpp * L->lpb : 0);
}

/* A descriptor for the huge page(s) at base; `full` adds the block arrays. */
static page_t *page_new(llama_t *L, uintptr_t base, int full)
{
    size_t head = as_align_up(sizeof(page_t), 16);
    size_t map = (size_t)L->words * 8, blk = (size_t)L->bpp * sizeof(blk_t);
    size_t bytes = page_bytes(L, full);
    uint32_t slot;
    if (slot_get(L, &slot) != AS_OK) return NULL;
    char *raw = meta_alloc(L, bytes);
    if (!raw || as_u64map_put(&L->pages, base / L->hp, slot) != AS_OK) {
        meta_free(L, raw, bytes);
        L->free_slots[L->n_free_slots++] = slot;
        return NULL;
    }
    page_t *p = (page_t *)raw;
    p->base = base;
    p->slot = slot;
    p->keep_next = NIL;
    if (full) {
        p->freemap = (uint64_t *)(raw + head);
        p->blk = (blk_t *)(raw + head + map);
        p->lines = (uint8_t *)(raw + head + map + blk);
    }
    L->slots[slot] = p;
    return p;
}

static void page_delete(llama_t *L, page_t *p)
{
    as_u64map_remove(&L->pages, p->base / L->hp, NULL);
    L->slots[p->slot] = NULL;
    L->free_slots[L->n_free_slots++] = p->slot;
    meta_free(L, p, page_bytes(L, p->state != P_LARGE));
}

static page_t *page_of(const llama_t *L, uintptr_t addr)
{
    uint64_t slot;
    if (!as_u64map_get(&L->pages, addr / L->hp, &slot)) return NULL;
    return L->slots[slot];
}

static blk_t *blk_of(const llama_t *L, uint32_t id, page_t **pp)
{
    page_t *p = L->slots[id / L->bpp];
    if (pp) *pp = p;
    return &p->blk[id % L->bpp];
}

/* The open block state of class c on CPU slot `cpu` (which exists). */
static bump_t *bump_at(const llama_t *L, uint32_t cpu, uint32_t c)
{
    return &L->bumps[cpu][c];
}

/* The open block state of class c for the CPU a request runs on, made on
 * the CPU's first request. @return it, or NULL when out of metadata. */
static bump_t *bump_get(llama_t *L, uint32_t cpu, uint32_t c)
{
    if (!L->bumps[cpu]) {
        bump_t *b = meta_alloc(L, L->n * sizeof *b);
        if (!b) return NULL;
        L->bump_bytes += L->n * sizeof *b;
        for (uint32_t i = 0; i < L->n; i++)
            b[i] = (bump_t){NIL, 0, 0};
        L->bumps[cpu] = b;
        L->cpus_used++;
    }
    return bump_at(L, cpu, c);
}

/* Block x stops being an open block. */
static void uncur(llama_t *L, blk_t *x)
{
    if (!x->cur_cpu1) return;
    bump_at(L, x->cur_cpu1 - 1u, x->lc)->cur = NIL;
    x->cur_cpu1 = 0;
}

/* ------------------------------------------------------------ lists */

static page_t *page_of_anode(const as_rb_node_t *n)
{
    return n ? AS_RB_ENTRY(n, page_t, anode) : NULL;
}

static int avail_augment(as_rb_node_t *n)
{
    page_t *p = page_of_anode(n);
    uint16_t m = p->longest, old = p->sub_longest;
    for (int d = 0; d < 2; d++)
        if (n->child[d] && page_of_anode(n->child[d])->sub_longest > m)
            m = page_of_anode(n->child[d])->sub_longest;
    p->sub_longest = m;
    return m != old;
}

/* Order of llama_t.avail: class, then sequence. */
static int avail_cmp(const as_rb_node_t *a, const as_rb_node_t *b)
{
    const page_t *x = page_of_anode(a), *y = page_of_anode(b);
    if (x->lc != y->lc) return x->lc < y->lc ? -1 : 1;
    return x->avail_seq < y->avail_seq ? -1 : x->avail_seq > y->avail_seq;
}

/* Key: the class (a uint32_t); orders before every page of that class. */
static int avail_class_key(const void *key, const as_rb_node_t *n)
{
    uint32_t c = *(const uint32_t *)key;
    return c <= page_of_anode(n)->lc ? -1 : 1;
}

static int avail_fits(const as_rb_node_t *n, const void *nb)
{
    return page_of_anode(n)->longest >= *(const uint32_t *)nb;
}

static int avail_sub_fits(const as_rb_node_t *n, const void *nb)
{
    return page_of_anode(n)->sub_longest >= *(const uint32_t *)nb;
}

/* The next page of class c after `from` (NULL: the first) in avail order
 * whose longest free run is nb blocks or more, or NULL. O(log n). */
static page_t *avail_next(const llama_t *L, uint32_t c, const page_t *from,
                          uint32_t nb)
{
    const as_rb_node_t *n;
    if (from) {
        n = as_rb_next_match(&from->anode, avail_fits, avail_sub_fits, &nb);
    } else {
        n = as_rb_lower_bound(&L->avail.tree, &c, avail_class_key);
        if (n && !avail_fits(n, &nb))
            n = as_rb_next_match(n, avail_fits, avail_sub_fits, &nb);
    }
    const page_t *p = page_of_anode(n);
    return p && p->lc == c ? (page_t *)p : NULL;
}

/* Recompute p's longest free run after its freemap changed. */
static void update_longest(llama_t *L, page_t *p)
{
    uint32_t best = 0, cur = 0;
    for (uint32_t i = 0; i < L->bpp;) {
        uint64_t w = p->freemap[i >> 6] >> (i & 63);
        uint32_t avail = 64 - (i & 63), n;
        if (avail > L->bpp - i) avail = L->bpp - i;
        if (w & 1) {
            n = ~w ? (uint32_t)__builtin_ctzll(~w) : 64;
            if (n > avail) n = avail;
            cur += n;
        } else {
            n = w ? (uint32_t)__builtin_ctzll(w) : avail;
            if (n > avail) n = avail;
            if (cur > best) best = cur;
            cur = 0;
        }
        i += n;
    }
    if (cur > best) best = cur;
    p->longest = (uint16_t)best;
    if (p->on_avail) as_rb_propagate(&L->avail, &p->anode);
}

static page_t *page_of_tnode(const as_rb_node_t *n)
{
    return n ? AS_RB_ENTRY(n, page_t, tnode) : NULL;
}

static int ticking_augment(as_rb_node_t *n)
{
    page_t *p = page_of_tnode(n);
    uint64_t m = p->min_deadline_ns, old = p->sub_min_deadline_ns;
    for (int d = 0; d < 2; d++)
        if (n->child[d] && page_of_tnode(n->child[d])->sub_min_deadline_ns < m)
            m = page_of_tnode(n->child[d])->sub_min_deadline_ns;
    p->sub_min_deadline_ns = m;
    return m != old;
}

static int ticking_cmp(const as_rb_node_t *a, const as_rb_node_t *b)
{
    uint32_t x = page_of_tnode(a)->slot, y = page_of_tnode(b)->slot;
    return x < y ? -1 : x > y;
}

static int ticking_due(const as_rb_node_t *n, const void *now)
{
    return page_of_tnode(n)->min_deadline_ns < *(const uint64_t *)now;
}

static int ticking_sub_due(const as_rb_node_t *n, const void *now)
{
    return page_of_tnode(n)->sub_min_deadline_ns < *(const uint64_t *)now;
}

/* p's min_deadline_ns changed. */
static void set_min_deadline(llama_t *L, page_t *p, uint64_t d)
{
    p->min_deadline_ns = d;
    as_rb_propagate(&L->ticking, &p->tnode);
}

static void avail_add(llama_t *L, page_t *p)
{
    p->avail_seq = ++L->avail_seq;
    as_rb_ainsert(&L->avail, &p->anode, avail_cmp);
    p->on_avail = 1;
}

static void avail_del(llama_t *L, page_t *p)
{
    as_rb_aerase(&L->avail, &p->anode);
    p->on_avail = 0;
}

static void part_add(llama_t *L, uint32_t id)
{
    blk_t *b = blk_of(L, id, NULL);
    lclass_t *k = &L->cls[b->lc];
    b->prev = k->part_tail;
    b->next = NIL;
    if (k->part_tail != NIL)
        blk_of(L, k->part_tail, NULL)->next = id;
    else
        k->part_head = id;
    k->part_tail = id;
    b->on_list = 1;
}

static void part_del(llama_t *L, uint32_t id)
{
    blk_t *b = blk_of(L, id, NULL);
    lclass_t *k = &L->cls[b->lc];
    if (b->prev != NIL)
        blk_of(L, b->prev, NULL)->next = b->next;
    else
        k->part_head = b->next;
    if (b->next != NIL)
        blk_of(L, b->next, NULL)->prev = b->prev;
    else
        k->part_tail = b->prev;
    b->prev = b->next = NIL;
    b->on_list = 0;
}

/* ------------------------------------------------------------ blocks */

static int blk_is_free(const page_t *p, uint32_t i)
{
    return (p->freemap[i >> 6] >> (i & 63)) & 1;
}

/* First run of nb free blocks starting at a multiple of ab, or -1. */
static int64_t find_run(const llama_t *L, const page_t *p, uint32_t nb,
                        uint32_t ab)
{
    uint32_t run = 0, start = 0;
    for (uint32_t i = 0; i < L->bpp; i++) {
        if (run == 0 && (i & 63) == 0 && p->freemap[i >> 6] == 0) {
            i += 63;
            continue;
        }
        if (!blk_is_free(p, i)) {
            run = 0;
            continue;
        }
        if (run == 0) {
            if (i % ab) continue;
            start = i;
        }
        if (++run == nb) return start;
    }
    return -1;
}

/* Highest run of nb free blocks starting at a multiple of ab, or -1. */
static int64_t find_run_top(const llama_t *L, const page_t *p, uint32_t nb,
                            uint32_t ab)
{
    uint32_t run = 0;
    for (uint32_t i = L->bpp; i-- > 0;) {
        if (!blk_is_free(p, i)) {
            run = 0;
            continue;
        }
        if (++run >= nb && i % ab == 0) return i;
    }
    return -1;
}

static void take_blocks(llama_t *L, page_t *p, uint32_t start, uint32_t nb)
{
    for (uint32_t i = start; i < start + nb; i++)
        p->freemap[i >> 6] &= ~(1ull << (i & 63));
    p->free_blocks -= nb;
    p->used_blocks += nb;
    update_longest(L, p);
    if (!p->free_blocks && p->on_avail) avail_del(L, p);
}

static void open_page_retire(llama_t *L, page_t *p)
{
    lclass_t *k = &L->cls[p->lc];
    if (k->open == p->slot) k->open = NIL;
    if (p->state == P_OPEN) p->state = P_ACTIVE;
}

/* Give an empty huge page back (return=unreserve) or keep it for reuse. */
static void page_empty(llama_t *L, page_t *p, uint64_t now)
{
    if (now < p->deadline_ns) L->pages_emptied_early++;
    if (p->on_avail) avail_del(L, p);
    open_page_retire(L, p);
    L->pages_returned++;
    as_rb_aerase(&L->ticking, &p->tnode);
    if (L->ret_mode == RET_UNRESERVE) {
        as_ps_unreserve(L->ps, p->base, L->hp);
        page_delete(L, p);
        return;
    }
    if (L->ret_mode == RET_RELEASE) as_ps_release(L->ps, p->base, L->hp);
    p->state = P_FREE;
    p->keep_next = L->keep_head;
    L->keep_head = p->slot;
}

static int open_page(llama_t *L, uint32_t c, uint64_t now, page_t **out)
{
    page_t *p;
    if (L->keep_head != NIL) {
        p = L->slots[L->keep_head];
        L->keep_head = p->keep_next;
    } else {
        uintptr_t addr;
        int rc = as_ps_reserve(L->ps, 0, L->hp, L->hp, &addr);
        if (rc != AS_OK) return rc;
        p = page_new(L, addr, 1);
        if (!p) {
            as_ps_unreserve(L->ps, addr, L->hp);
            return AS_ENOMEM;
        }
        if (L->hint) as_ps_hugepage_hint(L->ps, addr, L->hp, 1);
        for (uint32_t w = 0; w < L->words; w++) {
            uint32_t bits = L->bpp - w * 64;
            p->freemap[w] = bits >= 64 ? ~0ull : ((1ull << bits) - 1);
        }
    }
    p->keep_next = NIL;
    p->free_blocks = L->bpp;
    p->longest = (uint16_t)L->bpp;
    p->used_blocks = p->units = p->resid = 0;
    p->lc = (uint8_t)c;
    p->deadline_ns = sat_add(now, L->span[c]);
    p->min_deadline_ns = UINT64_MAX;
    p->own_aged = 0;
    as_rb_ainsert(&L->ticking, &p->tnode, ticking_cmp);
    lclass_t *k = &L->cls[c];
    if (k->open != NIL) open_page_retire(L, L->slots[k->open]);
    p->state = P_OPEN;
    k->open = p->slot;
    avail_add(L, p);
    L->pages_opened++;
    *out = p;
    return AS_OK;
}

static int try_page(llama_t *L, page_t *p, uint32_t nb, uint32_t ab, int top,
                    uint32_t *start)
{
    if (p->free_blocks < nb) return 0;
    int64_t s = top ? find_run_top(L, p, nb, ab) : find_run(L, p, nb, ab);
    if (s < 0) return 0;
    *start = (uint32_t)s;
    take_blocks(L, p, *start, nb);
    return 1;
}

/* nb contiguous blocks (first aligned to ab blocks) for class c: recycled
 * from a longer-lived page (longest class first), else from a page of class
 * c, else from a newly opened page. */
static int get_blocks(llama_t *L, uint32_t c, uint32_t nb, uint32_t ab,
                      uint64_t now, page_t **pp, uint32_t *start)
{
    for (uint32_t i = 1; L->recycle && c + i < L->n; i++) {
        uint32_t k = L->recycle_longest ? L->n - i : c + i;
        for (page_t *p = avail_next(L, k, NULL, nb); p;
             p = avail_next(L, k, p, nb)) {
            int open = p->state == P_OPEN;
            if (open && L->recycle_open == RECYCLE_NEVER) continue;
            if (try_page(L, p, nb, ab, open && L->recycle_open == RECYCLE_TOP,
                         start)) {
                L->recycled_units++;
                *pp = p;
                return AS_OK;
            }
        }
    }
    for (page_t *p = avail_next(L, c, NULL, nb); p;
         p = avail_next(L, c, p, nb)) {
        if (try_page(L, p, nb, ab, 0, start)) {
            *pp = p;
            return AS_OK;
        }
    }
    page_t *p;
    int rc = open_page(L, c, now, &p);
    if (rc != AS_OK) return rc;
    if (!try_page(L, p, nb, ab, 0, start)) return AS_ETOO_LARGE;
    *pp = p;
    return AS_OK;
}

/* Make blocks [b, b+nb) of p a unit of class c. */
static void new_unit(llama_t *L, page_t *p, uint32_t b, uint32_t nb, uint32_t c,
                     int state, uint64_t now)
{
    blk_t *x = &p->blk[b];
    *x = (blk_t){.deadline_ns = sat_add(now, L->span[c]),
                 .born_ns = now,
                 .prev = NIL,
                 .next = NIL,
                 .state = (uint8_t)state,
                 .lc = (uint8_t)c};
    if (state == B_SMALL)
        x->free_lines = (uint16_t)L->lpb;
    else
        x->live = (uint16_t)nb;
    for (uint32_t i = 1; i < nb; i++)
        p->blk[b + i] = (blk_t){
            .prev = NIL, .next = NIL, .state = B_MED_TAIL, .lc = (uint8_t)c};
    p->units++;
    if (c == p->lc) {
        p->resid++;
        if (x->deadline_ns > p->deadline_ns) p->deadline_ns = x->deadline_ns;
    }
    if (x->deadline_ns < p->min_deadline_ns)
        set_min_deadline(L, p, x->deadline_ns);
}

static void maybe_demote(llama_t *L, page_t *p, uint64_t now);

/* Unit b of p has no live object left: its blocks become free. */
static void free_unit(llama_t *L, page_t *p, uint32_t b, uint64_t now)
{
    blk_t *x = &p->blk[b];
    uint32_t id = p->slot * L->bpp + b;
    uint32_t nb = x->state == B_MED_HEAD ? x->live : 1, lc = x->lc;
    if (x->on_list) part_del(L, id);
    uncur(L, x);
    /* The unit held its objects at most now - born: if that reached the
     * lower bound of the page's class, the page's class was not too long
     * for all of its own objects (maybe_demote). */
    if (lc == p->lc && now - x->born_ns > L->lower[lc]) p->own_aged = 1;
    for (uint32_t i = b; i < b + nb; i++) {
        p->blk[i] = (blk_t){.prev = NIL, .next = NIL, .state = B_FREE};
        p->freemap[i >> 6] |= 1ull << (i & 63);
    }
    p->free_blocks += nb;
    p->used_blocks -= nb;
    p->units--;
    update_longest(L, p);
    if (L->subrelease)
        as_ps_release(L->ps, p->base + (uintptr_t)b * L->block,
                      (size_t)nb * L->block);
    if (!p->on_avail && p->state != P_FREE) avail_add(L, p);
    if (lc == p->lc) p->resid--;
    if (p->used_blocks == 0) {
        page_empty(L, p, now);
        return;
    }
    if (lc == p->lc && p->resid == 0) maybe_demote(L, p, now);
}

/* Move unit b of p to class c (promotion or with its page). */
static void unit_set_class(llama_t *L, page_t *p, uint32_t b, uint32_t c,
                           uint64_t now)
{
    blk_t *x = &p->blk[b];
    uint32_t id = p->slot * L->bpp + b;
    if (x->state == B_SMALL) {
        uncur(L, x);
        if (x->on_list) part_del(L, id);
    }
    x->lc = (uint8_t)c;
    x->deadline_ns = sat_add(now, L->span[c]);
    if (x->state == B_SMALL && x->free_lines >= L->partial_min) part_add(L, id);
}

/* Change the class of page p (its units keep theirs unless `carry`: then
 * units of the old page class move with it). */
static void page_set_class(llama_t *L, page_t *p, uint32_t c, int carry,
                           uint64_t now)
{
    uint32_t old = p->lc;
    open_page_retire(L, p);
    if (p->on_avail) avail_del(L, p);
    p->lc = (uint8_t)c;
    p->resid = 0;
    p->deadline_ns = carry ? sat_add(now, L->span[c]) : 0;
    p->own_aged = 0;
    for (uint32_t b = 0; b < L->bpp; b++) {
        blk_t *x = &p->blk[b];
        if (x->state != B_SMALL && x->state != B_MED_HEAD) continue;
        if (carry && x->lc == old) unit_set_class(L, p, b, c, now);
        if (x->lc == c) {
            p->resid++;
            if (x->deadline_ns > p->deadline_ns)
                p->deadline_ns = x->deadline_ns;
        }
    }
    if (p->free_blocks) avail_add(L, p);
}

/* The page's own-class units have all died while shorter-lived units
 * remain. If every own-class unit died at an age (since the allocation that
 * opened it) no greater than the lower bound of the page's class (the bound
 * of the class below; the class holds lifetimes above it), every object of
 * that class on the page died outside it, below: over-predicted, the page
 * takes the longest class still live on it. A unit's age bounds the age of
 * each of its objects, so a correct prediction never demotes. */
static void maybe_demote(llama_t *L, page_t *p, uint64_t now)
{
    if (p->lc == 0 || p->units == 0 || p->own_aged) return;
    uint32_t c = 0;
    for (uint32_t b = 0; b < L->bpp; b++) {
        const blk_t *x = &p->blk[b];
        if ((x->state == B_SMALL || x->state == B_MED_HEAD) && x->lc > c)
            c = x->lc;
    }
    page_set_class(L, p, c, 0, now);
    L->demotions++;
}

/* Deadline check of one page at `now`. */
static void scan_page(llama_t *L, page_t *p, uint64_t now)
{
    if (p->lc + 1u < L->n) {
        for (uint32_t b = 0; b < L->bpp; b++) {
            const blk_t *x = &p->blk[b];
            if ((x->state == B_SMALL || x->state == B_MED_HEAD) &&
                x->lc == p->lc && x->deadline_ns < now) {
                page_set_class(L, p, p->lc + 1u, 1, now);
                L->promotions++;
                break;
            }
        }
    }
    uint64_t min = UINT64_MAX;
    for (uint32_t b = 0; b < L->bpp; b++) {
        blk_t *x = &p->blk[b];
        if (x->state != B_SMALL && x->state != B_MED_HEAD) continue;
        if (x->lc < p->lc && x->deadline_ns < now) {
            unit_set_class(L, p, b, x->lc + 1u, now);
            if (x->lc == p->lc) {
                p->resid++;
                if (x->deadline_ns > p->deadline_ns)
                    p->deadline_ns = x->deadline_ns;
            }
            L->block_promotions++;
        }
        if (x->deadline_ns < min) min = x->deadline_ns;
    }
    set_min_deadline(L, p, min);
}

/* ------------------------------------------------------------ small */

/* A hole of free lines in block id, at or after byte `from`, that fits
 * `bytes` at alignment `align`. @return 1 with [*pos, *lim). */
static int find_hole(const llama_t *L, uint32_t id, uint32_t from, size_t bytes,
                     size_t align, uint32_t *pos, uint32_t *lim)
{
    page_t *p;
    blk_of(L, id, &p);
    const uint8_t *cnt = &p->lines[(size_t)(id % L->bpp) * L->lpb];
    uint32_t l = (uint32_t)((from + L->line - 1) / L->line);
    while (l < L->lpb) {
        while (l < L->lpb && cnt[l])
            l++;
        uint32_t l0 = l;
        while (l < L->lpb && !cnt[l])
            l++;
        if (l == l0) break;
        uint64_t start = as_align_up((uint64_t)l0 * L->line, align);
        if (start + bytes <= (uint64_t)l * L->line) {
            *pos = (uint32_t)start;
            *lim = (uint32_t)(l * L->line);
            return 1;
        }
    }
    return 0;
}

/* Block id becomes CPU slot cpu's open block k, its hole [pos, lim). */
static void make_cur(llama_t *L, bump_t *k, uint32_t cpu, uint32_t id,
                     uint32_t pos, uint32_t lim)
{
    k->cur = id;
    k->cursor = pos;
    k->limit = lim;
    blk_of(L, id, NULL)->cur_cpu1 = (uint16_t)(cpu + 1u);
}

/* A small object of class c for CPU slot cpu: in the CPU's open block of
 * the class, else a partial block of the class (shared by every CPU), else
 * a new block. */
static int alloc_small(llama_t *L, uint32_t cpu, uint32_t c, size_t bytes,
                       size_t align, uint64_t now, uintptr_t *addr)
{
    bump_t *k = bump_get(L, cpu, c);
    if (!k) return AS_ENOMEM;
    lclass_t *kc = &L->cls[c];
    uint32_t pos = 0, lim = 0;
    int found = 0;
    if (k->cur != NIL) {
        uint64_t at = as_align_up(k->cursor, align);
        if (at + bytes <= k->limit) {
            pos = (uint32_t)at;
            lim = k->limit;
            found = 1;
        } else if (find_hole(L, k->cur, k->limit, bytes, align, &pos, &lim)) {
            found = 1;
        } else {
            uint32_t id = k->cur;
            blk_t *x = blk_of(L, id, NULL);
            uncur(L, x);
            if (x->free_lines >= L->partial_min) part_add(L, id);
        }
    }
    for (int t = 0; !found && t < PARTIAL_TRIES && kc->part_head != NIL; t++) {
        uint32_t id = kc->part_head;
        part_del(L, id);
        if (find_hole(L, id, 0, bytes, align, &pos, &lim)) {
            make_cur(L, k, cpu, id, pos, lim);
            found = 1;
        } else {
            part_add(L, id); /* to the tail */
        }
    }
    if (!found) {
        page_t *p;
        uint32_t b;
        int rc = get_blocks(L, c, 1, 1, now, &p, &b);
        if (rc != AS_OK) return rc;
        new_unit(L, p, b, 1, c, B_SMALL, now);
        make_cur(L, k, cpu, p->slot * L->bpp + b, 0, (uint32_t)L->block);
        pos = 0;
        lim = (uint32_t)L->block;
    }
    page_t *p;
    blk_t *x = blk_of(L, k->cur, &p);
    uint32_t b = k->cur % L->bpp;
    uint8_t *cnt = &p->lines[(size_t)b * L->lpb];
    for (size_t l = pos / L->line; l <= (pos + bytes - 1) / L->line; l++)
        if (cnt[l]++ == 0) x->free_lines--;
    x->live++;
    k->cursor = (uint32_t)(pos + bytes);
    k->limit = lim;
    *addr = p->base + (uintptr_t)b * L->block + pos;
    if (as_u64map_put(&L->objs, *addr, bytes) != AS_OK) {
        /* Undo: the object never existed. */
        for (size_t l = pos / L->line; l <= (pos + bytes - 1) / L->line; l++)
            if (--cnt[l] == 0) x->free_lines++;
        if (--x->live == 0) free_unit(L, p, b, now);
        return AS_ENOMEM;
    }
    L->small_allocs++;
    return AS_OK;
}

/* ------------------------------------------------------------ interface */

static int llama_create(const as_policy_config_t *cfg, void **state)
{
    const as_param_value_t *v = cfg->params;
    const as_pagesource_t *ps = cfg->ps;
    size_t block = v[AS_LLAMA_BLOCK_SIZE].u, line = v[AS_LLAMA_LINE_SIZE].u;
    size_t hp = ps->hugepage_bytes;
    as_msg_t *why = cfg->why;
    if (!as_is_pow2(block) || !as_is_pow2(line) || !as_is_pow2(hp))
        return AS_EINVAL; /* the parameter specs and the page source ensure */
    if (line > block)
        return as_msg_refuse(why, "llama.line_size", line, "exceeds",
                             "llama.block_size", block);
    if (block < ps->page_bytes)
        return as_msg_refuse(why, "llama.block_size", block,
                             "is below the OS page size", NULL, ps->page_bytes);
    if (hp % block)
        return as_msg_refuse(why, "llama.block_size", block,
                             "does not divide the huge page size", NULL, hp);
    if (hp / block > MAX_PER)
        return as_msg_refuse(why, "llama.block_size", block,
                             "makes too many blocks per huge page; the most is",
                             NULL, MAX_PER);
    if (block / line > MAX_PER)
        return as_msg_refuse(why, "llama.line_size", line,
                             "makes too many lines per block; the most is",
                             NULL, MAX_PER);
    if (cfg->n_classes > MAX_CLASSES)
        return as_msg_refuse(why, "lifetime classes", cfg->n_classes,
                             "exceed what llama supports:", NULL, MAX_CLASSES);
    llama_t *L = as_mem_alloc(&ps->meta, sizeof *L);
    if (!L) return AS_ENOMEM;
    L->ps = ps;
    L->mem = ps->meta;
    L->n = cfg->n_classes ? cfg->n_classes : 1;
    for (uint32_t i = 0; i < L->n; i++)
        L->bound[i] = cfg->n_classes && cfg->class_bounds_ns
                          ? cfg->class_bounds_ns[i]
                          : UINT64_MAX;
    L->bound[L->n - 1] = UINT64_MAX;
    L->hp = hp;
    L->block = block;
    L->line = line;
    L->bpp = (uint32_t)(hp / block);
    L->lpb = (uint32_t)(block / line);
    L->words = (L->bpp + 63) / 64;
    L->small_max = v[AS_LLAMA_SMALL_MAX].u;
    if (L->small_max > block) L->small_max = block;
    L->medium_max = v[AS_LLAMA_MEDIUM_MAX].u;
    if (L->medium_max > hp) L->medium_max = hp;
    L->partial_min = (uint32_t)v[AS_LLAMA_PARTIAL_MIN_LINES].u;
    L->tick_ns = v[AS_LLAMA_TICK_INTERVAL].u;
    double mult = v[AS_LLAMA_DEADLINE_MULTIPLIER].d;
    for (uint32_t i = 0; i < L->n; i++) {
        double span = mult * (double)L->bound[i];
        L->span[i] = L->bound[i] == UINT64_MAX || span >= 0x1p64
                         ? UINT64_MAX
                         : (uint64_t)span;
        L->lower[i] = i ? L->bound[i - 1] : 0;
    }
    L->ncpus =
        v[AS_LLAMA_OPEN_BLOCKS].u == 0 ? (uint32_t)v[AS_LLAMA_MAX_CPUS].u : 1;
    L->recycle = (int)v[AS_LLAMA_RECYCLE].u;
    L->recycle_open = (int)v[AS_LLAMA_RECYCLE_OPEN].u;
    L->recycle_longest = (int)v[AS_LLAMA_RECYCLE_ORDER].u;
    L->ret_mode = (int)v[AS_LLAMA_RETURN].u;
    L->subrelease = (int)v[AS_LLAMA_SUBRELEASE].u;
    L->hint = (int)v[AS_LLAMA_HUGEPAGE_HINT].u;
    L->unknown_class = v[AS_LLAMA_UNKNOWN_CLASS].u == 0 ? 0 : L->n - 1;
    L->bumps = meta_alloc(L, L->ncpus * sizeof *L->bumps);
    if (!L->bumps) {
        as_mem_free(&L->mem, L, sizeof *L);
        return AS_ENOMEM;
    }
    L->bump_bytes = L->ncpus * sizeof *L->bumps;
    as_u64map_init(&L->pages, &L->mem);
    as_u64map_init_dense(&L->objs, &L->mem); /* one per small object */
    for (uint32_t c = 0; c < MAX_CLASSES; c++)
        L->cls[c] = (lclass_t){NIL, NIL, NIL};
    as_rb_ainit(&L->avail, avail_augment);
    as_rb_ainit(&L->ticking, ticking_augment);
    L->keep_head = NIL;
    *state = L;
    return AS_OK;
}

static int llama_alloc(void *state, const as_ctx_t *ctx, size_t size,
                       size_t align, as_block_t *out)
{
    llama_t *L = state;
    uint32_t c =
        ctx->lifetime_class == AS_CLASS_NONE ? L->unknown_class
        : ctx->lifetime_class < 0 || (uint32_t)ctx->lifetime_class >= L->n
            ? L->n - 1
            : (uint32_t)ctx->lifetime_class;
    uint64_t now = ctx->now_ns;
    if (!size) size = 1;
    if (align < 16) align = 16;
    if (!as_is_pow2(align)) return AS_EINVAL;
    if (size > ((size_t)1 << 47)) return AS_ETOO_LARGE;
    size_t bytes = as_align_up(size, 16);
    if (bytes <= L->small_max && align <= L->block) {
        uint32_t cpu = L->ncpus > 1 ? ctx->cpu % L->ncpus : 0;
        int rc = alloc_small(L, cpu, c, bytes, align, now, &out->addr);
        out->bytes = bytes;
        return rc;
    }
    if (bytes <= L->medium_max && align <= L->hp) {
        uint32_t nb = (uint32_t)((bytes + L->block - 1) / L->block);
        uint32_t ab = align > L->block ? (uint32_t)(align / L->block) : 1;
        page_t *p;
        uint32_t b;
        int rc = get_blocks(L, c, nb, ab, now, &p, &b);
        if (rc != AS_OK) return rc;
        new_unit(L, p, b, nb, c, B_MED_HEAD, now);
        out->addr = p->base + (uintptr_t)b * L->block;
        out->bytes = (size_t)nb * L->block;
        L->medium_allocs++;
        return AS_OK;
    }
    size_t span = as_align_up(bytes, L->hp);
    uintptr_t addr;
    int rc =
        as_ps_reserve(L->ps, 0, span, align > L->hp ? align : L->hp, &addr);
    if (rc != AS_OK) return rc;
    page_t *p = page_new(L, addr, 0);
    if (!p) {
        as_ps_unreserve(L->ps, addr, span);
        return AS_ENOMEM;
    }
    if (L->hint) as_ps_hugepage_hint(L->ps, addr, span, 1);
    p->state = P_LARGE;
    p->lc = (uint8_t)c;
    p->large_pages = (uint32_t)(span / L->hp);
    out->addr = addr;
    out->bytes = span;
    L->large_allocs++;
    return AS_OK;
}

static int llama_free(void *state, const as_ctx_t *ctx, uintptr_t addr,
                      size_t size_hint)
{
    llama_t *L = state;
    (void)size_hint; /* the object map knows; rule 5 */
    page_t *p = page_of(L, addr);
    if (!p || p->state == P_FREE) return AS_EINVAL;
    if (p->state == P_LARGE) {
        if (addr != p->base) return AS_EINVAL;
        as_ps_unreserve(L->ps, p->base, (size_t)p->large_pages * L->hp);
        page_delete(L, p);
        return AS_OK;
    }
    uint32_t b = (uint32_t)((addr - p->base) / L->block);
    blk_t *x = &p->blk[b];
    uintptr_t bbase = p->base + (uintptr_t)b * L->block;
    if (x->state == B_MED_HEAD) {
        if (addr != bbase) return AS_EINVAL;
        free_unit(L, p, b, ctx->now_ns);
        return AS_OK;
    }
    uint64_t bytes;
    if (x->state != B_SMALL || !as_u64map_remove(&L->objs, addr, &bytes))
        return AS_EINVAL;
    size_t pos = addr - bbase;
    uint8_t *cnt = &p->lines[(size_t)b * L->lpb];
    for (size_t l = pos / L->line; l <= (pos + bytes - 1) / L->line; l++)
        if (--cnt[l] == 0) x->free_lines++;
    if (--x->live == 0) {
        free_unit(L, p, b, ctx->now_ns);
    } else if (!x->cur_cpu1 && !x->on_list && x->free_lines >= L->partial_min) {
        part_add(L, p->slot * L->bpp + b);
    }
    return AS_OK;
}

static size_t llama_usable_size(void *state, uintptr_t addr)
{
    llama_t *L = state;
    page_t *p = page_of(L, addr);
    if (!p || p->state == P_FREE) return 0;
    if (p->state == P_LARGE)
        return addr == p->base ? (size_t)p->large_pages * L->hp : 0;
    uint32_t b = (uint32_t)((addr - p->base) / L->block);
    const blk_t *x = &p->blk[b];
    if (x->state == B_MED_HEAD)
        return addr == p->base + (uintptr_t)b * L->block
                   ? (size_t)x->live * L->block
                   : 0;
    uint64_t bytes;
    if (x->state == B_SMALL && as_u64map_get(&L->objs, addr, &bytes))
        return (size_t)bytes;
    return 0;
}

static uint64_t llama_tick(void *state, const as_ctx_t *ctx)
{
    llama_t *L = state;
    uint64_t now = ctx->now_ns;
    for (as_rb_node_t *n = as_rb_first_match(&L->ticking.tree, ticking_due,
                                             ticking_sub_due, &now);
         n; n = as_rb_next_match(n, ticking_due, ticking_sub_due, &now))
        scan_page(L, page_of_tnode(n), now);
    return L->tick_ns;
}

/* Census names: one per class (at most MAX_CLASSES) for each measure. */
#define LL_CLASS_NAMES(pre)                                                    \
    {                                                                          \
        pre "0", pre "1", pre "2", pre "3", pre "4", pre "5", pre "6",         \
            pre "7", pre "8", pre "9", pre "10", pre "11", pre "12", pre "13", \
            pre "14", pre "15"                                                 \
    }

/* The census of the open and active pages of each class, read-only: used
 * blocks, the part of them held by units of shorter classes (recycled), the
 * small blocks that are partly free (some lines free, some used) and the
 * bytes of used lines and medium runs. It tells how full the resident pages
 * of a class are (docs/benchmarks.md, headline section, uses it). */
static void llama_census(const llama_t *L, as_stat_fn fn, void *arg)
{
    static const char *const used_names[MAX_CLASSES] =
        LL_CLASS_NAMES("llama_used_blocks_class_");
    static const char *const recycled_names[MAX_CLASSES] =
        LL_CLASS_NAMES("llama_recycled_blocks_class_");
    static const char *const partial_names[MAX_CLASSES] =
        LL_CLASS_NAMES("llama_partial_blocks_class_");
    static const char *const bytes_names[MAX_CLASSES] =
        LL_CLASS_NAMES("llama_used_line_bytes_class_");
    uint64_t used[MAX_CLASSES] = {0}, recycled[MAX_CLASSES] = {0};
    uint64_t partial[MAX_CLASSES] = {0}, bytes[MAX_CLASSES] = {0};
    for (uint32_t s = 0; s < L->nslots; s++) {
        const page_t *p = L->slots[s];
        if (!p || (p->state != P_OPEN && p->state != P_ACTIVE)) continue;
        used[p->lc] += p->used_blocks;
        for (uint32_t b = 0; b < L->bpp; b++) {
            const blk_t *x = &p->blk[b];
            uint64_t nb;
            if (x->state == B_SMALL) {
                nb = 1;
                bytes[p->lc] += (uint64_t)(L->lpb - x->free_lines) * L->line;
                if (x->free_lines > 0) partial[p->lc]++;
            } else if (x->state == B_MED_HEAD) {
                nb = x->live;
                bytes[p->lc] += nb * L->block;
            } else {
                continue;
            }
            if (x->lc < p->lc) recycled[p->lc] += nb;
        }
    }
    for (uint32_t c = 0; c < L->n; c++) {
        fn(arg, used_names[c], (double)used[c]);
        fn(arg, recycled_names[c], (double)recycled[c]);
        fn(arg, partial_names[c], (double)partial[c]);
        fn(arg, bytes_names[c], (double)bytes[c]);
    }
}

static void llama_stats(void *state, as_stat_fn fn, void *arg)
{
    static const char *const class_names[MAX_CLASSES] = {
        "pages_in_class_0",  "pages_in_class_1",  "pages_in_class_2",
        "pages_in_class_3",  "pages_in_class_4",  "pages_in_class_5",
        "pages_in_class_6",  "pages_in_class_7",  "pages_in_class_8",
        "pages_in_class_9",  "pages_in_class_10", "pages_in_class_11",
        "pages_in_class_12", "pages_in_class_13", "pages_in_class_14",
        "pages_in_class_15"};
    const llama_t *L = state;
    uint64_t open = 0, active = 0, kept = 0, large = 0, large_pages = 0;
    uint64_t per[MAX_CLASSES] = {0};
    for (uint32_t s = 0; s < L->nslots; s++) {
        const page_t *p = L->slots[s];
        if (!p) continue;
        if (p->state == P_OPEN) open++;
        if (p->state == P_ACTIVE) active++;
        if (p->state == P_FREE) kept++;
        if (p->state == P_LARGE) large++, large_pages += p->large_pages;
        if (p->state == P_OPEN || p->state == P_ACTIVE) per[p->lc]++;
    }
    fn(arg, "llama_pages_open", (double)open);
    fn(arg, "llama_pages_active", (double)active);
    fn(arg, "llama_pages_free_kept", (double)kept);
    fn(arg, "llama_large_objects", (double)large);
    fn(arg, "llama_large_hugepages", (double)large_pages);
    fn(arg, "llama_pages_opened", (double)L->pages_opened);
    fn(arg, "llama_pages_returned", (double)L->pages_returned);
    fn(arg, "llama_pages_emptied_early", (double)L->pages_emptied_early);
    fn(arg, "llama_promotions", (double)L->promotions);
    fn(arg, "llama_block_promotions", (double)L->block_promotions);
    fn(arg, "llama_demotions", (double)L->demotions);
    fn(arg, "llama_recycled_units", (double)L->recycled_units);
    fn(arg, "llama_small_allocs", (double)L->small_allocs);
    fn(arg, "llama_medium_allocs", (double)L->medium_allocs);
    fn(arg, "llama_large_allocs", (double)L->large_allocs);
    fn(arg, "llama_live_small_objects", (double)as_u64map_count(&L->objs));
    fn(arg, "llama_cpus_with_open_blocks", (double)L->cpus_used);
    fn(arg, "llama_metadata_bytes",
       (double)(L->meta_bytes + as_u64map_bytes(&L->objs) +
                as_u64map_bytes(&L->pages) + sizeof *L));
    for (uint32_t c = 0; c < L->n; c++)
        fn(arg, class_names[c], (double)per[c]);
    llama_census(L, fn, arg);
}

static void llama_destroy(void *state)
{
    llama_t *L = state;
    for (uint32_t s = 0; s < L->nslots; s++) {
        page_t *p = L->slots[s];
        if (!p) continue;
        size_t span =
            p->state == P_LARGE ? (size_t)p->large_pages * L->hp : L->hp;
        as_ps_unreserve(L->ps, p->base, span);
        meta_free(L, p, page_bytes(L, p->state != P_LARGE));
    }
    meta_free(L, L->slots, L->cap_slots * sizeof *L->slots);
    meta_free(L, L->free_slots, L->cap_slots * sizeof *L->free_slots);
    for (uint32_t i = 0; i < L->ncpus; i++)
        meta_free(L, L->bumps[i], L->n * sizeof *L->bumps[i]);
    meta_free(L, L->bumps, L->ncpus * sizeof *L->bumps);
    as_u64map_fini(&L->pages);
    as_u64map_fini(&L->objs);
    as_mem_t mem = L->mem;
    as_mem_free(&mem, L, sizeof *L);
}

int as_llama_page_class(void *state, uintptr_t addr)
{
    page_t *p = page_of(state, addr);
    return p && p->state != P_FREE ? p->lc : -1;
}

/* ------------------------------------------------------------ check */

/* Invariants of one block-structured page (page_t's comment), its blocks
 * (blk_t's) and its line counts. Counts the page's B_SMALL objects' line
 * touches into *line_sum and its small blocks' live objects into *live_sum
 * for the object-map cross-check. */
static int check_page(const llama_t *L, const page_t *p, as_msg_t *why,
                      uint64_t *line_sum, uint64_t *live_sum)
{
    uint32_t pop = 0, units = 0, resid = 0;
    uint64_t min_dl = UINT64_MAX;
    for (uint32_t w = 0; w < L->words; w++)
        pop += (uint32_t)__builtin_popcountll(p->freemap[w]);
    if (pop != p->free_blocks || p->free_blocks + p->used_blocks != L->bpp)
        return as_msg_fail(why,
                           "llama: free_blocks != popcount(freemap) or "
                           "free + used != blocks per page",
                           "page_addr", p->base);
    if (p->state == P_FREE) {
        if (p->used_blocks || p->on_avail)
            return as_msg_fail(why, "llama: a kept free page has used blocks",
                               "page_addr", p->base);
        return 0;
    }
    int avail = p->free_blocks > 0;
    if (p->on_avail != avail)
        return as_msg_fail(why,
                           "llama: on_avail != (free blocks > 0) on an open "
                           "or active page",
                           "page_addr", p->base);
    for (uint32_t b = 0; b < L->bpp; b++) {
        const blk_t *x = &p->blk[b];
        if ((x->state == B_FREE) != blk_is_free(p, b))
            return as_msg_fail(why, "llama: block state disagrees with freemap",
                               "block_addr", p->base + (uintptr_t)b * L->block);
        if (x->state == B_MED_TAIL)
            return as_msg_fail(why, "llama: run tail without its head",
                               "block_addr", p->base + (uintptr_t)b * L->block);
        if (x->state == B_FREE) continue;
        units++;
        if (x->lc > p->lc)
            return as_msg_fail(why,
                               "llama: unit of a longer class than its page",
                               "block_addr", p->base + (uintptr_t)b * L->block);
        if (x->lc == p->lc) resid++;
        if (x->deadline_ns < min_dl) min_dl = x->deadline_ns;
        if (x->state == B_MED_HEAD) {
            if (x->live == 0 || b + x->live > L->bpp)
                return as_msg_fail(why, "llama: run length out of the page",
                                   "block_addr",
                                   p->base + (uintptr_t)b * L->block);
            for (uint32_t i = 1; i < x->live; i++) {
                const blk_t *t = &p->blk[b + i];
                if (t->state != B_MED_TAIL || blk_is_free(p, b + i))
                    return as_msg_fail(why,
                                       "llama: run block after its head is "
                                       "not a used tail",
                                       "block_addr",
                                       p->base + (uintptr_t)(b + i) * L->block);
            }
            b += x->live - 1u;
            continue;
        }
        /* B_SMALL: free_lines == lines with count 0; at least one object. */
        const uint8_t *cnt = &p->lines[(size_t)b * L->lpb];
        uint32_t zero = 0;
        for (uint32_t l = 0; l < L->lpb; l++) {
            zero += cnt[l] == 0;
            *line_sum += cnt[l];
        }
        if (zero != x->free_lines || x->live == 0)
            return as_msg_fail(why,
                               "llama: small block's free_lines != lines with "
                               "no live object, or no live object",
                               "block_addr", p->base + (uintptr_t)b * L->block);
        *live_sum += x->live;
    }
    if (units != p->units || resid != p->resid)
        return as_msg_fail(why,
                           "llama: page units or resid != its blocks' count",
                           "page_addr", p->base);
    if (units && p->min_deadline_ns > min_dl)
        return as_msg_fail(why,
                           "llama: page min_deadline_ns above a unit's "
                           "deadline",
                           "page_addr", p->base);
    return 0;
}

/* The lists of class c: the CPUs' open (bump) blocks, partial blocks, open
 * page; *n_part counts the partial blocks, *n_cur the open blocks. */
static int check_class(const llama_t *L, uint32_t c, as_msg_t *why,
                       uint64_t *n_part, uint64_t *n_cur)
{
    const lclass_t *k = &L->cls[c];
    for (uint32_t cpu = 0; c < L->n && cpu < L->ncpus; cpu++) {
        if (!L->bumps[cpu]) continue;
        const bump_t *u = bump_at(L, cpu, c);
        if (u->cur == NIL) continue;
        const page_t *p =
            u->cur / L->bpp < L->nslots ? L->slots[u->cur / L->bpp] : NULL;
        const blk_t *x =
            p && p->state != P_LARGE ? &p->blk[u->cur % L->bpp] : NULL;
        if (!x || x->state != B_SMALL || x->lc != c ||
            x->cur_cpu1 != cpu + 1u || x->on_list || u->cursor > u->limit ||
            u->limit > L->block)
            return as_msg_fail(why,
                               "llama: an open (bump) block is not a small "
                               "block of its class and CPU, or its hole is "
                               "out of the block",
                               "class", c);
        ++*n_cur;
    }
    uint32_t prev = NIL;
    for (uint32_t id = k->part_head; id != NIL;) {
        page_t *p;
        const blk_t *x = blk_of(L, id, &p);
        if (!p || x->state != B_SMALL || x->lc != c || !x->on_list ||
            x->cur_cpu1 || x->prev != prev)
            return as_msg_fail(why,
                               "llama: partial list holds a block of another "
                               "class, state or link",
                               "class", c);
        if (++*n_part > (uint64_t)L->nslots * L->bpp)
            return as_msg_fail(why, "llama: partial list loops", "class", c);
        prev = id;
        id = x->next;
    }
    if (prev != k->part_tail)
        return as_msg_fail(why, "llama: partial list tail is wrong", "class",
                           c);
    if (k->open != NIL) {
        const page_t *p = k->open < L->nslots ? L->slots[k->open] : NULL;
        if (!p || p->state != P_OPEN || p->lc != c)
            return as_msg_fail(why,
                               "llama: open page of a class is not open for it",
                               "class", c);
    }
    return 0;
}

/* Longest run of 1 bits (free blocks) in a page's freemap. */
static uint32_t check_longest_run(const llama_t *L, const page_t *p)
{
    uint32_t best = 0, run = 0;
    for (uint32_t b = 0; b < L->bpp; b++) {
        run = (p->freemap[b / 64] >> (b % 64)) & 1 ? run + 1 : 0;
        if (run > best) best = run;
    }
    return best;
}

/* The two page trees: llama_t.avail holds exactly the pages marked on_avail,
 * open or active, in (class, avail_seq) order, each with its true longest
 * free run and subtree maximum; llama_t.ticking holds exactly the open and
 * active pages, by slot, each with its subtree's least deadline.
 * *n_avail counts avail's members. */
static int check_trees(const llama_t *L, as_msg_t *why, uint64_t *n_avail)
{
    const page_t *prev = NULL;
    for (const as_rb_node_t *n = as_rb_first(&L->avail.tree); n;
         n = as_rb_next(n)) {
        const page_t *p = page_of_anode(n);
        if (!p->on_avail || (p->state != P_OPEN && p->state != P_ACTIVE) ||
            p->free_blocks == 0)
            return as_msg_fail(why,
                               "llama: avail tree holds a page that is not "
                               "open or active with free blocks",
                               "page_addr", p->base);
        if (prev && (prev->lc > p->lc ||
                     (prev->lc == p->lc && prev->avail_seq >= p->avail_seq)))
            return as_msg_fail(why,
                               "llama: avail tree out of (class, sequence) "
                               "order",
                               "page_addr", p->base);
        uint16_t sub = p->longest;
        for (int d = 0; d < 2; d++)
            if (n->child[d] && page_of_anode(n->child[d])->sub_longest > sub)
                sub = page_of_anode(n->child[d])->sub_longest;
        if (p->longest != check_longest_run(L, p) || p->sub_longest != sub)
            return as_msg_fail(why,
                               "llama: page's longest free run or its subtree "
                               "summary is stale",
                               "page_addr", p->base);
        if (++*n_avail > L->nslots)
            return as_msg_fail(why, "llama: avail tree loops", "slots",
                               L->nslots);
        prev = p;
    }
    uint64_t n_tick = 0, live_pages = 0;
    for (uint32_t sl = 0; sl < L->nslots; sl++) {
        const page_t *p = L->slots[sl];
        live_pages += p && (p->state == P_OPEN || p->state == P_ACTIVE);
    }
    prev = NULL;
    for (const as_rb_node_t *n = as_rb_first(&L->ticking.tree); n;
         n = as_rb_next(n)) {
        const page_t *p = page_of_tnode(n);
        uint64_t m = p->min_deadline_ns;
        for (int d = 0; d < 2; d++)
            if (n->child[d] &&
                page_of_tnode(n->child[d])->sub_min_deadline_ns < m)
                m = page_of_tnode(n->child[d])->sub_min_deadline_ns;
        if ((p->state != P_OPEN && p->state != P_ACTIVE) ||
            (prev && prev->slot >= p->slot) || p->sub_min_deadline_ns != m)
            return as_msg_fail(why,
                               "llama: ticking tree holds a page that is not "
                               "open or active, out of slot order, or with a "
                               "stale deadline summary",
                               "page_addr", p->base);
        if (++n_tick > L->nslots)
            return as_msg_fail(why, "llama: ticking tree loops", "slots",
                               L->nslots);
        prev = p;
    }
    if (n_tick != live_pages)
        return as_msg_fail(why,
                           "llama: an open or active page is not in the "
                           "ticking tree",
                           "pages", live_pages);
    return 0;
}

/* The policy's check hook (policy.h rule 8): page states consistent with
 * their block and line counts, free counts, classes and lists; descriptors,
 * slots and maps consistent; the object map consistent with the lines. */
static int llama_check(const void *state, as_msg_t *why)
{
    const llama_t *L = state;
    uint64_t used_slots = 0, kept = 0, open = 0, on_part = 0, avail = 0;
    uint64_t line_sum = 0, live_sum = 0, cur = 0;
    size_t desc_bytes = 0;
    for (uint32_t sl = 0; sl < L->nslots; sl++) {
        const page_t *p = L->slots[sl];
        if (!p) continue;
        used_slots++;
        desc_bytes += page_bytes(L, p->state != P_LARGE);
        if (p->slot != sl || page_of(L, p->base) != p)
            return as_msg_fail(why,
                               "llama: descriptor slot or page map entry is "
                               "wrong",
                               "page_addr", p->base);
        if (p->lc >= L->n)
            return as_msg_fail(why, "llama: page of an unknown class",
                               "page_addr", p->base);
        if (p->state == P_LARGE) {
            if (p->large_pages == 0 || p->on_avail)
                return as_msg_fail(why,
                                   "llama: large object descriptor without "
                                   "huge pages or on a list",
                                   "page_addr", p->base);
            continue;
        }
        kept += p->state == P_FREE;
        open += p->state == P_OPEN;
        avail += p->on_avail;
        int rc = check_page(L, p, why, &line_sum, &live_sum);
        if (rc) return rc;
        for (uint32_t b = 0; b < L->bpp; b++)
            cur += p->blk[b].cur_cpu1 != 0;
        for (uint32_t b = 0; b < L->bpp; b++)
            on_part += p->blk[b].on_list;
    }
    if (used_slots + L->n_free_slots != L->nslots ||
        used_slots != as_u64map_count(&L->pages))
        return as_msg_fail(why,
                           "llama: used + free slots != slots, or page map "
                           "size != descriptors",
                           "slots", L->nslots);
    for (uint32_t i = 0; i < L->n_free_slots; i++)
        if (L->free_slots[i] >= L->nslots || L->slots[L->free_slots[i]])
            return as_msg_fail(why, "llama: a free slot holds a descriptor",
                               "slot", L->free_slots[i]);
    uint64_t n_kept = 0;
    for (uint32_t sl = L->keep_head; sl != NIL; sl = L->slots[sl]->keep_next) {
        if (sl >= L->nslots || !L->slots[sl] || L->slots[sl]->state != P_FREE ||
            ++n_kept > kept)
            return as_msg_fail(why,
                               "llama: kept-page list holds a page that is not "
                               "free, or loops",
                               "slot", sl);
    }
    if (n_kept != kept)
        return as_msg_fail(why, "llama: a free page is not on the kept list",
                           "free_pages", kept);
    uint64_t n_part = 0, n_avail = 0, n_open = 0, n_cur = 0;
    for (uint32_t c = 0; c < MAX_CLASSES; c++) {
        int rc = check_class(L, c, why, &n_part, &n_cur);
        if (rc) return rc;
        n_open += L->cls[c].open != NIL;
    }
    int rc = check_trees(L, why, &n_avail);
    if (rc) return rc;
    if (n_part != on_part || n_cur != cur || n_avail != avail || n_open != open)
        return as_msg_fail(
            why,
            "llama: blocks or pages marked as on a list (partial, "
            "bump, available, open) != the lists' members",
            "on_list_blocks", on_part);
    /* Every small object lies in a small block and holds its lines. */
    uint64_t obj_lines = 0;
    size_t it = 0;
    uint64_t addr, bytes;
    while (as_u64map_next(&L->objs, &it, &addr, &bytes)) {
        const page_t *p = page_of(L, (uintptr_t)addr);
        uint32_t b = p ? (uint32_t)((addr - p->base) / L->block) : 0;
        size_t pos = p ? (size_t)(addr - p->base) % L->block : 0;
        if (!p || p->state == P_LARGE || p->state == P_FREE ||
            p->blk[b].state != B_SMALL || bytes == 0 || pos + bytes > L->block)
            return as_msg_fail(why, "llama: small object outside a small block",
                               "object_addr", addr);
        obj_lines += (pos + bytes - 1) / L->line - pos / L->line + 1;
    }
    if (obj_lines != line_sum || as_u64map_count(&L->objs) != live_sum)
        return as_msg_fail(why,
                           "llama: line counts or live counts != the small "
                           "objects that touch them",
                           "objects", as_u64map_count(&L->objs));
    size_t slot_bytes =
        L->cap_slots * (sizeof *L->slots + sizeof *L->free_slots);
    if (L->meta_bytes != desc_bytes + slot_bytes + L->bump_bytes)
        return as_msg_fail(why,
                           "llama: meta_bytes != descriptors + slot arrays "
                           "+ open-block arrays",
                           "meta_bytes", L->meta_bytes);
    return 0;
}

int as_llama_debug_corrupt(void *state)
{
    llama_t *L = state;
    for (uint32_t sl = 0; sl < L->nslots; sl++) {
        page_t *p = L->slots[sl];
        if (p && p->state != P_LARGE) {
            p->freemap[0] ^= 1; /* block 0's bit now disagrees */
            return 0;
        }
    }
    return AS_EINVAL;
}

const as_policy_ops_t as_policy_llama = {
    .name = "llama",
    .doc = "LLAMA: huge pages by predicted lifetime class, block recycling, "
           "deadline promotion/demotion (Maas et al. ASPLOS'20)",
    .params = llama_params,
    .n_params = AS_LLAMA_NPARAMS,
    .create = llama_create,
    .alloc = llama_alloc,
    .free = llama_free,
    .usable_size = llama_usable_size,
    .tick = llama_tick,
    .stats = llama_stats,
    .destroy = llama_destroy,
    .check = llama_check,
    .lifetime_aware = 1,
    .class_periods = 1,
};

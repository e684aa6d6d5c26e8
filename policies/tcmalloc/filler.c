/* filler.c - the HugePageFiller: packs spans of at most filler_max_span_bytes
 * onto 2 MiB hugepages so that as many hugepages as possible stay full and
 * the rest can be emptied and returned whole.
 *
 * Follows TCMalloc's huge_page_filler.h: each hugepage has a tracker (page
 * bitmap with best-fit, low-address placement); trackers sit in lists keyed
 * by longest free range and then by allocation count (sparse), or by
 * allocation count only (dense), in four sets searched in order: regular,
 * donated (tails of large allocations), partially released, fully released.
 * A request takes the first non-empty list that can fit it: the hugepage
 * with the smallest longest-free-range that fits, ties to the one with the
 * most allocations. A donated tail that gets any other use, or is
 * subreleased, becomes a regular hugepage (AddToFillerList clears the
 * flag). Subrelease returns free pages to the OS (as_ps_release), breaking
 * hugepages into 4 KiB pages: first from partly released hugepages, and
 * only when those are drained from regular and donated ones, each round
 * taking the pph emptiest candidates (HugePageFiller::ReleasePages).
 * It owns the trackers and the filler lists (tc_filler_t) and calls no other
 * component: it only places pages on the hugepages it holds. The page heap
 * decides to grow it (as_tc_filler_add hands over a hugepage) and takes back
 * a hugepage that as_tc_filler_put reports empty. Never touches user memory.
 */
#include "policies/tcmalloc/tc_internal.h"

#include "common/assert.h"

static uint32_t longest_free(const tc_env_t *e, const tc_hugepage_t *hp)
{
    uint32_t lng = 0;
    as_tc_best_fit(hp->used, e->pph, UINT32_MAX, &lng);
    return lng;
}

/* ---------------------------------------------------------- lists */

static uint32_t ceil_log2(uint32_t x)
{
    uint32_t l = 0;
    while ((1u << l) < x)
        l++;
    return l;
}

uint32_t as_tc_filler_index(const tc_env_t *e, const tc_hugepage_t *hp)
{
    if (hp->dense && e->p[TC_P_SEPARATE_DENSE].u) {
        if (hp->longest_free == 0) return 0;
        uint32_t nallocs = hp->nallocs < e->pph ? hp->nallocs : e->pph - 1;
        return 8 + (e->pph - 1 - nallocs);
    }
    uint32_t lg = hp->nallocs ? ceil_log2(hp->nallocs) : 0;
    uint32_t chunk = lg >= 7 ? 0 : 7 - lg;
    return hp->longest_free * 8u + chunk;
}

static uint32_t set_of(const tc_env_t *e, const tc_hugepage_t *hp)
{
    if (hp->donated) return TC_SET_DONATED;
    if (hp->released_pages == 0) return TC_SET_REGULAR;
    if (hp->released_pages == e->pph - hp->used_pages) return TC_SET_RELEASED;
    return TC_SET_PARTIAL;
}

static uint32_t list_key(const tc_env_t *e, const tc_hugepage_t *hp)
{
    uint32_t dense = hp->dense && e->p[TC_P_SEPARATE_DENSE].u;
    return hp->set * 2 + dense;
}

static void unlist(const tc_env_t *e, tc_filler_t *f, tc_hugepage_t *hp)
{
    uint32_t key = list_key(e, hp);
    tc_hugepage_t **head = &f->head[key * f->nlists + hp->list];
    if (hp->prev)
        hp->prev->next = hp->next;
    else
        *head = hp->next;
    if (hp->next) hp->next->prev = hp->prev;
    if (!*head)
        f->nonempty[key * f->nwords + (hp->list >> 6)] &=
            ~(1ull << (hp->list & 63));
    hp->prev = hp->next = NULL;
    f->n_in_set[hp->set]--;
}

static void enlist(const tc_env_t *e, tc_filler_t *f, tc_hugepage_t *hp)
{
    hp->set = (uint8_t)set_of(e, hp);
    hp->list = (uint16_t)as_tc_filler_index(e, hp);
    uint32_t key = list_key(e, hp);
    tc_hugepage_t **head = &f->head[key * f->nlists + hp->list];
    hp->prev = NULL;
    hp->next = *head;
    if (*head) (*head)->prev = hp;
    *head = hp;
    f->nonempty[key * f->nwords + (hp->list >> 6)] |= 1ull << (hp->list & 63);
    f->n_in_set[hp->set]++;
}

/* first non-empty list index >= from in bitmap key, or UINT32_MAX */
static uint32_t next_nonempty(const tc_filler_t *f, uint32_t key, uint32_t from)
{
    const uint64_t *bm = &f->nonempty[key * f->nwords];
    if (from >= f->nlists) return UINT32_MAX;
    uint32_t w = from >> 6;
    uint64_t word = bm[w] & (~0ull << (from & 63));
    for (;;) {
        if (word) {
            uint32_t i = w * 64 + (uint32_t)__builtin_ctzll(word);
            return i < f->nlists ? i : UINT32_MAX;
        }
        if (++w >= f->nwords) return UINT32_MAX;
        word = bm[w];
    }
}

int as_tc_filler_init(tc_env_t *e, tc_filler_t *f)
{
    as_objlist_init(&f->trackers, sizeof(tc_hugepage_t));
    f->nlists = (e->pph + 1) * 8;
    f->nwords = (f->nlists + 63) / 64;
    f->head = as_tc_meta_alloc(e, sizeof(tc_hugepage_t *) * f->nlists *
                                      TC_FILLER_SETS * 2);
    f->nonempty = as_tc_meta_alloc(e, 8ull * f->nwords * TC_FILLER_SETS * 2);
    return f->head && f->nonempty ? AS_OK : AS_ENOMEM;
}

/* ---------------------------------------------------------- placement */

uintptr_t as_tc_filler_place(tc_env_t *e, tc_filler_t *f, tc_hugepage_t *hp,
                             uint32_t n)
{
    uint32_t pos = as_tc_best_fit(hp->used, e->pph, n, NULL);
    AS_ASSERT_INTERNAL(pos != UINT32_MAX);
    unlist(e, f, hp);
    hp->donated = 0; /* used: a donated tail is now a regular hugepage */
    as_tc_bits_set(hp->used, pos, n);
    uint32_t rebacked = as_tc_bits_count(hp->released, pos, n);
    if (rebacked) {
        as_tc_bits_clear(hp->released, pos, n);
        hp->released_pages -= (uint16_t)rebacked;
        f->released_pages -= rebacked;
        if (!hp->was_released) {
            hp->was_released = 1;
            f->reused_released++;
        }
    }
    hp->used_pages += (uint16_t)n;
    hp->nallocs++;
    hp->longest_free = (uint16_t)longest_free(e, hp);
    enlist(e, f, hp);
    f->used_pages += n;
    return hp->addr + ((uintptr_t)pos << e->page_shift);
}

uintptr_t as_tc_filler_try_get(tc_env_t *e, tc_filler_t *f, uint32_t n,
                               int dense, tc_hugepage_t **where)
{
    static const uint8_t order[TC_FILLER_SETS] = {
        TC_SET_REGULAR, TC_SET_DONATED, TC_SET_PARTIAL, TC_SET_RELEASED};
    if (n > e->pph) return 0;
    int d = dense && e->p[TC_P_SEPARATE_DENSE].u;
    for (int k = 0; k < TC_FILLER_SETS; k++) {
        uint32_t set = order[k];
        if (set == TC_SET_DONATED && d) continue;
        uint32_t key = set * 2 + (uint32_t)d;
        uint32_t idx = d ? 8 : n * 8;
        while ((idx = next_nonempty(f, key, idx)) != UINT32_MAX) {
            tc_hugepage_t *hp = f->head[key * f->nlists + idx];
            for (; hp; hp = hp->next)
                if (hp->longest_free >= n) break;
            if (hp) {
                if (where) *where = hp;
                return as_tc_filler_place(e, f, hp, n);
            }
            idx++;
        }
    }
    return 0;
}

tc_hugepage_t *as_tc_filler_add(tc_env_t *e, tc_filler_t *f, uintptr_t addr,
                                int dense)
{
    tc_hugepage_t *hp = as_tc_pool_get(e, &f->trackers);
    if (!hp) return NULL;
    hp->addr = addr;
    hp->dense = (uint8_t)(dense != 0);
    hp->longest_free = (uint16_t)e->pph;
    enlist(e, f, hp);
    f->hps++;
    return hp;
}

/* release the free, still-backed pages of hp; @return pages released */
static uint32_t release_free(const tc_env_t *e, tc_hugepage_t *hp)
{
    uint32_t released = 0, i = 0;
    while (i < e->pph) {
        int busy = ((hp->used[i >> 6] | hp->released[i >> 6]) >> (i & 63)) & 1;
        if (busy) {
            i++;
            continue;
        }
        uint32_t s = i;
        while (i < e->pph &&
               !(((hp->used[i >> 6] | hp->released[i >> 6]) >> (i & 63)) & 1))
            i++;
        as_ps_release(e->ps, hp->addr + ((uintptr_t)s << e->page_shift),
                      (size_t)(i - s) << e->page_shift);
        as_tc_bits_set(hp->released, s, i - s);
        released += i - s;
    }
    return released;
}

int as_tc_filler_put(tc_env_t *e, tc_filler_t *f, tc_hugepage_t *hp,
                     uintptr_t addr, uint32_t n)
{
    uint32_t pos = (uint32_t)((addr - hp->addr) >> e->page_shift);
    AS_ASSERT_INTERNAL(pos + n <= e->pph && n <= hp->used_pages);
    AS_ASSERT_EXPENSIVE(as_tc_bits_count(hp->used, pos, n) == n);
    unlist(e, f, hp);
    hp->donated = 0;
    as_tc_bits_clear(hp->used, pos, n);
    hp->used_pages -= (uint16_t)n;
    hp->nallocs--;
    f->used_pages -= n;
    if (hp->used_pages == 0) {
        f->hps--;
        if (hp->abandoned) f->abandoned_pages -= hp->abandoned_count;
        int rc = TC_FILLER_EMPTY_BACKED;
        if (hp->released_pages) {
            f->released_pages -= hp->released_pages;
            /* the rest is unbacked now; a later release claims it */
            f->unaccounted_pages += release_free(e, hp);
            rc = TC_FILLER_EMPTY_UNBACKED;
        }
        as_objlist_push(&f->trackers, hp);
        return rc;
    }
    hp->longest_free = (uint16_t)longest_free(e, hp);
    enlist(e, f, hp);
    return TC_FILLER_KEPT;
}

tc_hugepage_t *as_tc_filler_donate(tc_env_t *e, tc_filler_t *f, uintptr_t addr,
                                   uint32_t used)
{
    tc_hugepage_t *hp = as_tc_pool_get(e, &f->trackers);
    if (!hp) return NULL;
    hp->addr = addr;
    hp->donated = 1;
    hp->abandoned_count = (uint16_t)used;
    as_tc_bits_set(hp->used, 0, used);
    hp->used_pages = (uint16_t)used;
    hp->nallocs = 1;
    hp->longest_free = (uint16_t)(e->pph - used);
    enlist(e, f, hp);
    f->hps++;
    f->used_pages += used;
    return hp;
}

void as_tc_filler_abandon(tc_filler_t *f, tc_hugepage_t *hp)
{
    hp->abandoned = 1;
    f->abandoned_pages += hp->abandoned_count;
}

uint64_t as_tc_filler_take_unaccounted(tc_filler_t *f)
{
    uint64_t n = f->unaccounted_pages;
    f->unaccounted_pages = 0;
    return n;
}

/* ---------------------------------------------------------- subrelease */

/* CompareForSubrelease: fewest used pages first, then a hugepage without
 * dense spans before one with them. TCMalloc leaves other ties to its heap
 * and list order; ours go to the lower address, so runs are reproducible. */
static int cand_before(const tc_hugepage_t *a, const tc_hugepage_t *b)
{
    if (a->used_pages != b->used_pages) return a->used_pages < b->used_pages;
    if (a->dense != b->dense) return a->dense < b->dense;
    return a->addr < b->addr;
}

static void sort_cands(tc_hugepage_t **c, uint64_t n)
{
    /* heap sort: deterministic, no recursion, O(n log n) */
    for (uint64_t start = n / 2; start-- > 0;) {
        uint64_t r = start;
        for (;;) {
            uint64_t ch = 2 * r + 1;
            if (ch >= n) break;
            if (ch + 1 < n && cand_before(c[ch], c[ch + 1])) ch++;
            if (!cand_before(c[r], c[ch])) break;
            tc_hugepage_t *x = c[r];
            c[r] = c[ch];
            c[ch] = x;
            r = ch;
        }
    }
    for (uint64_t end = n; end-- > 1;) {
        tc_hugepage_t *x = c[0];
        c[0] = c[end];
        c[end] = x;
        uint64_t r = 0;
        for (;;) {
            uint64_t ch = 2 * r + 1;
            if (ch >= end) break;
            if (ch + 1 < end && cand_before(c[ch], c[ch + 1])) ch++;
            if (!cand_before(c[r], c[ch])) break;
            tc_hugepage_t *y = c[r];
            c[r] = c[ch];
            c[ch] = y;
            r = ch;
        }
    }
}

typedef void (*tc_hp_visit)(const tc_env_t *e, const tc_filler_t *f,
                            tc_hugepage_t *hp, void *arg);

/* Call fn on every tracker of list key (set * 2 + dense) from list index
 * `from` on; fn may not unlist the one it gets. */
static void visit_key(const tc_env_t *e, const tc_filler_t *f, uint32_t key,
                      uint32_t from, tc_hp_visit fn, void *arg)
{
    for (uint32_t idx = next_nonempty(f, key, from); idx != UINT32_MAX;
         idx = next_nonempty(f, key, idx + 1))
        for (tc_hugepage_t *hp = f->head[key * f->nlists + idx]; hp;) {
            tc_hugepage_t *next = hp->next;
            fn(e, f, hp, arg);
            hp = next;
        }
}

/* Call fn on every tracker; fn may not unlist the one it gets. */
static void visit_all(const tc_env_t *e, const tc_filler_t *f, tc_hp_visit fn,
                      void *arg)
{
    for (uint32_t key = 0; key < TC_FILLER_SETS * 2; key++)
        visit_key(e, f, key, 0, fn, arg);
}

static void collect(const tc_env_t *e, const tc_filler_t *f, tc_hugepage_t *hp,
                    void *arg)
{
    uint64_t *n = arg;
    if (e->pph - hp->used_pages - hp->released_pages == 0) return;
    f->scratch[(*n)++] = hp;
}

static void sum_partial_free(const tc_env_t *e, const tc_filler_t *f,
                             tc_hugepage_t *hp, void *arg)
{
    (void)f;
    *(uint64_t *)arg += e->pph - hp->used_pages - hp->released_pages;
}

uint64_t as_tc_filler_partial_free(const tc_env_t *e, const tc_filler_t *f)
{
    uint64_t n = 0;
    visit_key(e, f, TC_SET_PARTIAL * 2, 0, sum_partial_free, &n);
    visit_key(e, f, TC_SET_PARTIAL * 2 + 1, 0, sum_partial_free, &n);
    return n;
}

/* One round: the pph emptiest candidates of the phase's lists, released
 * whole in that order until `target` pages are met (ReleaseCandidates).
 * Phase 0 looks at partly released hugepages; phase 1 at regular ones
 * (past the full lists, index < 8) and donated ones. @return pages
 * released. */
static uint64_t release_round(tc_env_t *e, tc_filler_t *f, int phase,
                              uint64_t target)
{
    uint64_t n = 0;
    if (phase == 0) {
        visit_key(e, f, TC_SET_PARTIAL * 2, 8, collect, &n);
        visit_key(e, f, TC_SET_PARTIAL * 2 + 1, 8, collect, &n);
    } else {
        visit_key(e, f, TC_SET_REGULAR * 2, 8, collect, &n);
        visit_key(e, f, TC_SET_REGULAR * 2 + 1, 8, collect, &n);
        visit_key(e, f, TC_SET_DONATED * 2, 0, collect, &n);
        visit_key(e, f, TC_SET_DONATED * 2 + 1, 0, collect, &n);
    }
    sort_cands(f->scratch, n);
    if (n > e->pph) n = e->pph; /* kCandidatesForReleasingMemory */
    uint64_t released = 0;
    for (uint64_t i = 0; i < n && released < target; i++) {
        tc_hugepage_t *hp = f->scratch[i];
        unlist(e, f, hp);
        hp->donated = 0;
        int was_whole = hp->released_pages == 0;
        uint32_t r = release_free(e, hp);
        hp->released_pages += (uint16_t)r;
        f->released_pages += r;
        if (was_whole && r) f->hugepages_broken++;
        released += r;
        enlist(e, f, hp);
    }
    return released;
}

uint64_t as_tc_filler_subrelease(tc_env_t *e, tc_filler_t *f, uint64_t pages)
{
    if (pages == 0 || f->hps == 0) return 0;
    if (f->scratch_cap < f->hps) {
        uint64_t cap = f->hps * 2;
        tc_hugepage_t **s = as_tc_meta_alloc(e, cap * sizeof *s);
        if (!s) return 0;
        as_tc_meta_free(e, f->scratch);
        f->scratch = s;
        f->scratch_cap = cap;
    }
    uint64_t released = 0;
    /* partly released hugepages first; break others only when they are
     * drained */
    for (int phase = 0; phase < 2; phase++)
        while (released < pages) {
            uint64_t r = release_round(e, f, phase, pages - released);
            if (!r) break;
            if (phase == 0) f->partial_released += r;
            released += r;
        }
    f->pages_subreleased += released;
    f->subrelease_calls++;
    return released;
}

/* ---------------------------------------------------------- statistics */

static void hist_visit(const tc_env_t *e, const tc_filler_t *f,
                       tc_hugepage_t *hp, void *arg)
{
    uint64_t *hist = arg;
    uint32_t free_pages = e->pph - hp->used_pages;
    uint32_t b = free_pages * 16 / e->pph;
    hist[b > 16 ? 16 : b]++;
}

void as_tc_filler_histogram(const tc_env_t *e, const tc_filler_t *f,
                            uint64_t hist[TC_HIST_BUCKETS])
{
    for (int i = 0; i < TC_HIST_BUCKETS; i++)
        hist[i] = 0;
    visit_all(e, f, hist_visit, hist);
}

static void hugeable_visit(const tc_env_t *e, const tc_filler_t *f,
                           tc_hugepage_t *hp, void *arg)
{
    (void)e;
    (void)f;
    if (hp->released_pages == 0) *(uint64_t *)arg += hp->used_pages;
}

uint64_t as_tc_filler_hugepageable_used(const tc_env_t *e, const tc_filler_t *f)
{
    uint64_t n = 0;
    visit_all(e, f, hugeable_visit, &n);
    return n;
}

typedef struct {
    uint64_t hps, used, released, abandoned;
    const char *bad;    /* first broken invariant, or NULL */
    uintptr_t bad_addr; /* its hugepage */
} tc_check_acc_t;

static uint32_t popcount_words(const uint64_t *w)
{
    uint32_t c = 0;
    for (int i = 0; i < TC_PPH_WORDS; i++)
        c += (uint32_t)__builtin_popcountll(w[i]);
    return c;
}

static void check_visit(const tc_env_t *e, const tc_filler_t *f,
                        tc_hugepage_t *hp, void *arg)
{
    tc_check_acc_t *a = arg;
    const char *bad = NULL;
    a->hps++;
    a->used += hp->used_pages;
    a->released += hp->released_pages;
    if (hp->abandoned) a->abandoned += hp->abandoned_count;
    if (popcount_words(hp->used) != hp->used_pages)
        bad = "filler: tracker used_pages != popcount(used)";
    else if (popcount_words(hp->released) != hp->released_pages)
        bad = "filler: tracker released_pages != popcount(released)";
    for (int i = 0; !bad && i < TC_PPH_WORDS; i++)
        if (hp->used[i] & hp->released[i])
            bad = "filler: a page both used and released";
    if (!bad && longest_free(e, hp) != hp->longest_free)
        bad = "filler: tracker longest_free != longest free run";
    if (!bad && (hp->nallocs == 0 || hp->used_pages == 0))
        bad = "filler: an empty tracker is still in the filler";
    if (!bad &&
        (hp->set != set_of(e, hp) || hp->list != as_tc_filler_index(e, hp)))
        bad = "filler: tracker listed in the wrong set or list";
    if (!bad && hp->donated && (hp->nallocs != 1 || hp->released_pages))
        bad = "filler: a donated tracker has other spans or released pages";
    if (bad && !a->bad) {
        a->bad = bad;
        a->bad_addr = hp->addr;
    }
}

int as_tc_filler_check(const tc_env_t *e, const tc_filler_t *f, as_msg_t *why)
{
    tc_check_acc_t a = {0, 0, 0, 0, NULL, 0};
    visit_all(e, f, check_visit, &a);
    if (a.bad) return as_msg_fail(why, a.bad, "hugepage_addr", a.bad_addr);
    if (a.hps != f->hps)
        return as_msg_fail(why, "filler: hps != trackers on its lists", "hps",
                           f->hps);
    if (a.used != f->used_pages)
        return as_msg_fail(why, "filler: used_pages != sum over trackers",
                           "used_pages", f->used_pages);
    if (a.released != f->released_pages)
        return as_msg_fail(why, "filler: released_pages != sum over trackers",
                           "released_pages", f->released_pages);
    if (a.abandoned != f->abandoned_pages)
        return as_msg_fail(why,
                           "filler: abandoned_pages != sum over abandoned "
                           "trackers",
                           "abandoned_pages", f->abandoned_pages);
    uint64_t in_sets = 0;
    for (int k = 0; k < TC_FILLER_SETS; k++)
        in_sets += f->n_in_set[k];
    if (in_sets != f->hps || f->trackers.live != f->hps)
        return as_msg_fail(why, "filler: set counts or live trackers != hps",
                           "hps", f->hps);
    return AS_OK;
}

typedef struct {
    uint64_t full, partial, released;
} tc_counts_t;

static void count_visit(const tc_env_t *e, const tc_filler_t *f,
                        tc_hugepage_t *hp, void *arg)
{
    tc_counts_t *c = arg;
    if (hp->released_pages)
        c->released++;
    else if (hp->used_pages == e->pph)
        c->full++;
    else
        c->partial++;
}

void as_tc_filler_counts(const tc_env_t *e, const tc_filler_t *f,
                         uint64_t *full, uint64_t *partial, uint64_t *released)
{
    tc_counts_t c = {0, 0, 0};
    visit_all(e, f, count_visit, &c);
    *full = c.full;
    *partial = c.partial;
    *released = c.released;
}

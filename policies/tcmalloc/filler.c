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
 * most allocations. Subrelease returns the free pages of the emptiest
 * hugepages to the OS (as_ps_release), breaking them into 4 KiB pages.
 * It owns the trackers and the filler lists; the hugepages themselves come
 * from hugealloc.c and go back there when empty. Never touches user memory.
 */
#include "policies/tcmalloc/tc_internal.h"

/* ---------------------------------------------------------- bit helpers */

static void bits_set(uint64_t *b, uint32_t start, uint32_t n)
{
    for (uint32_t i = start; i < start + n; i++)
        b[i >> 6] |= 1ull << (i & 63);
}

static void bits_clear(uint64_t *b, uint32_t start, uint32_t n)
{
    for (uint32_t i = start; i < start + n; i++)
        b[i >> 6] &= ~(1ull << (i & 63));
}

static uint32_t bits_count(const uint64_t *b, uint32_t start, uint32_t n)
{
    uint32_t c = 0;
    for (uint32_t i = start; i < start + n; i++)
        c += (b[i >> 6] >> (i & 63)) & 1;
    return c;
}

/* as_tc_best_fit: smallest run of zero bits of length >= n in
 * used[0..nbits), lowest address on ties. *longest gets the longest run.
 * @return its start, or UINT32_MAX. */
uint32_t as_tc_best_fit(const uint64_t *used, uint32_t nbits, uint32_t n,
                        uint32_t *longest)
{
    uint32_t best = UINT32_MAX, best_len = UINT32_MAX, lng = 0, i = 0;
    while (i < nbits) {
        uint32_t b = i & 63;
        uint64_t word = used[i >> 6] >> b;
        if (word & 1) {
            uint64_t inv = ~word;
            i += inv ? (uint32_t)__builtin_ctzll(inv) : 64 - b;
            continue;
        }
        uint32_t start = i;
        while (i < nbits) {
            b = i & 63;
            word = used[i >> 6] >> b;
            if (word == 0) {
                i += 64 - b;
                continue;
            }
            i += (uint32_t)__builtin_ctzll(word);
            break;
        }
        if (i > nbits) i = nbits;
        uint32_t len = i - start;
        if (len > lng) lng = len;
        if (len >= n && len < best_len) {
            best = start;
            best_len = len;
        }
    }
    if (longest) *longest = lng;
    return best;
}

static uint32_t longest_free(const tc_t *t, const tc_hugepage_t *hp)
{
    uint32_t lng = 0;
    as_tc_best_fit(hp->used, t->pph, UINT32_MAX, &lng);
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

uint32_t as_tc_filler_index(const tc_t *t, const tc_hugepage_t *hp)
{
    if (hp->dense && t->p[TC_P_SEPARATE_DENSE].u) {
        if (hp->longest_free == 0) return 0;
        uint32_t nallocs = hp->nallocs < t->pph ? hp->nallocs : t->pph - 1;
        return 8 + (t->pph - 1 - nallocs);
    }
    uint32_t lg = hp->nallocs ? ceil_log2(hp->nallocs) : 0;
    uint32_t chunk = lg >= 7 ? 0 : 7 - lg;
    return hp->longest_free * 8u + chunk;
}

static uint32_t set_of(const tc_t *t, const tc_hugepage_t *hp)
{
    if (hp->donated) return TC_SET_DONATED;
    if (hp->released_pages == 0) return TC_SET_REGULAR;
    if (hp->released_pages == t->pph - hp->used_pages) return TC_SET_RELEASED;
    return TC_SET_PARTIAL;
}

static uint32_t list_key(const tc_t *t, const tc_hugepage_t *hp)
{
    uint32_t dense = hp->dense && t->p[TC_P_SEPARATE_DENSE].u;
    return hp->set * 2 + dense;
}

static void unlist(tc_t *t, tc_hugepage_t *hp)
{
    tc_filler_t *f = &t->filler;
    uint32_t key = list_key(t, hp);
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

static void enlist(tc_t *t, tc_hugepage_t *hp)
{
    tc_filler_t *f = &t->filler;
    hp->set = (uint8_t)set_of(t, hp);
    hp->list = (uint16_t)as_tc_filler_index(t, hp);
    uint32_t key = list_key(t, hp);
    tc_hugepage_t **head = &f->head[key * f->nlists + hp->list];
    hp->prev = NULL;
    hp->next = *head;
    if (*head) (*head)->prev = hp;
    *head = hp;
    f->nonempty[key * f->nwords + (hp->list >> 6)] |= 1ull << (hp->list & 63);
    f->n_in_set[hp->set]++;
}

/* first non-empty list index >= from in bitmap key, or UINT32_MAX */
static uint32_t next_nonempty(const tc_t *t, uint32_t key, uint32_t from)
{
    const tc_filler_t *f = &t->filler;
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

int as_tc_filler_init(tc_t *t)
{
    tc_filler_t *f = &t->filler;
    f->nlists = (t->pph + 1) * 8;
    f->nwords = (f->nlists + 63) / 64;
    f->head = as_tc_meta_alloc(t, sizeof(tc_hugepage_t *) * f->nlists *
                                      TC_FILLER_SETS * 2);
    f->nonempty = as_tc_meta_alloc(t, 8ull * f->nwords * TC_FILLER_SETS * 2);
    return f->head && f->nonempty ? AS_OK : AS_ENOMEM;
}

/* ---------------------------------------------------------- placement */

static uintptr_t place(tc_t *t, tc_hugepage_t *hp, uint32_t n)
{
    uint32_t pos = as_tc_best_fit(hp->used, t->pph, n, NULL);
    unlist(t, hp);
    bits_set(hp->used, pos, n);
    uint32_t rebacked = bits_count(hp->released, pos, n);
    if (rebacked) {
        bits_clear(hp->released, pos, n);
        hp->released_pages -= (uint16_t)rebacked;
        t->filler.released_pages -= rebacked;
        if (!hp->was_released) {
            hp->was_released = 1;
            t->filler_reused_released++;
        }
    }
    hp->used_pages += (uint16_t)n;
    hp->nallocs++;
    hp->longest_free = (uint16_t)longest_free(t, hp);
    enlist(t, hp);
    t->filler.used_pages += n;
    as_tc_demand_record(t);
    return hp->addr + ((uintptr_t)pos << t->page_shift);
}

uintptr_t as_tc_filler_try_get(tc_t *t, uint32_t n, int dense,
                               tc_hugepage_t **where)
{
    static const uint8_t order[TC_FILLER_SETS] = {
        TC_SET_REGULAR, TC_SET_DONATED, TC_SET_PARTIAL, TC_SET_RELEASED};
    if (n > t->pph) return 0;
    int d = dense && t->p[TC_P_SEPARATE_DENSE].u;
    for (int k = 0; k < TC_FILLER_SETS; k++) {
        uint32_t set = order[k];
        if (set == TC_SET_DONATED && d) continue;
        uint32_t key = set * 2 + (uint32_t)d;
        uint32_t idx = d ? 8 : n * 8;
        while ((idx = next_nonempty(t, key, idx)) != UINT32_MAX) {
            tc_hugepage_t *hp = t->filler.head[key * t->filler.nlists + idx];
            for (; hp; hp = hp->next)
                if (hp->longest_free >= n) break;
            if (hp) {
                if (where) *where = hp;
                return place(t, hp, n);
            }
            idx++;
        }
    }
    return 0;
}

int as_tc_filler_get(tc_t *t, uint32_t n, int dense, uintptr_t *addr,
                     tc_hugepage_t **where)
{
    uintptr_t a = as_tc_filler_try_get(t, n, dense, where);
    if (a) {
        *addr = a;
        return AS_OK;
    }
    uintptr_t start;
    int rc = as_tc_hp_get(t, 1, 0, &start);
    if (rc != AS_OK) return rc;
    tc_leaf_t *leaf = as_tc_leaf_make(t, start);
    tc_hugepage_t *hp = as_tc_pool_get(t, &t->hp_pool);
    if (!leaf || !hp) {
        if (hp) as_tc_pool_put(&t->hp_pool, hp);
        as_tc_hp_put_backed(t, start, 1);
        return AS_ENOMEM;
    }
    hp->addr = start;
    hp->dense = (uint8_t)(dense != 0);
    hp->longest_free = (uint16_t)t->pph;
    leaf->tracker = hp;
    enlist(t, hp);
    t->filler.hps++;
    if (where) *where = hp;
    *addr = place(t, hp, n);
    return AS_OK;
}

/* release the free, still-backed pages of hp; @return pages released */
static uint32_t release_free(tc_t *t, tc_hugepage_t *hp)
{
    uint32_t released = 0, i = 0;
    while (i < t->pph) {
        int busy = ((hp->used[i >> 6] | hp->released[i >> 6]) >> (i & 63)) & 1;
        if (busy) {
            i++;
            continue;
        }
        uint32_t s = i;
        while (i < t->pph &&
               !(((hp->used[i >> 6] | hp->released[i >> 6]) >> (i & 63)) & 1))
            i++;
        as_ps_release(t->ps, hp->addr + ((uintptr_t)s << t->page_shift),
                      (size_t)(i - s) << t->page_shift);
        bits_set(hp->released, s, i - s);
        released += i - s;
    }
    return released;
}

void as_tc_filler_put(tc_t *t, tc_hugepage_t *hp, uintptr_t addr, uint32_t n)
{
    uint32_t pos = as_tc_page_in_hp(t, addr);
    unlist(t, hp);
    bits_clear(hp->used, pos, n);
    hp->used_pages -= (uint16_t)n;
    hp->nallocs--;
    t->filler.used_pages -= n;
    as_tc_demand_record(t);
    if (hp->used_pages == 0) {
        tc_leaf_t *leaf = as_tc_leaf(t, hp->addr);
        if (leaf) leaf->tracker = NULL;
        t->filler.hps--;
        uintptr_t start = hp->addr;
        if (hp->released_pages) {
            t->filler.released_pages -= hp->released_pages;
            release_free(t, hp);
            as_tc_pool_put(&t->hp_pool, hp);
            as_tc_hp_put_unbacked(t, start, 1);
        } else {
            as_tc_pool_put(&t->hp_pool, hp);
            as_tc_hp_put_backed(t, start, 1);
        }
        return;
    }
    hp->longest_free = (uint16_t)longest_free(t, hp);
    enlist(t, hp);
}

tc_hugepage_t *as_tc_filler_donate(tc_t *t, uintptr_t addr, uint32_t used)
{
    tc_leaf_t *leaf = as_tc_leaf_make(t, addr);
    tc_hugepage_t *hp = as_tc_pool_get(t, &t->hp_pool);
    if (!leaf || !hp) {
        if (hp) as_tc_pool_put(&t->hp_pool, hp);
        return NULL;
    }
    hp->addr = addr;
    hp->donated = 1;
    bits_set(hp->used, 0, used);
    hp->used_pages = (uint16_t)used;
    hp->nallocs = 1;
    hp->longest_free = (uint16_t)(t->pph - used);
    leaf->tracker = hp;
    enlist(t, hp);
    t->filler.hps++;
    t->filler.used_pages += used;
    t->donations++;
    as_tc_demand_record(t);
    return hp;
}

void as_tc_filler_undonate(tc_t *t, tc_hugepage_t *hp)
{
    unlist(t, hp);
    hp->donated = 0;
    enlist(t, hp);
}

/* ---------------------------------------------------------- subrelease */

/* emptiest first: fewest used pages; then partially released, regular,
 * donated; then sparse before dense; then lower address */
static int cand_before(const tc_hugepage_t *a, const tc_hugepage_t *b)
{
    static const uint8_t rank[TC_FILLER_SETS] = {1, 2, 0, 3};
    if (a->used_pages != b->used_pages) return a->used_pages < b->used_pages;
    if (a->set != b->set) return rank[a->set] < rank[b->set];
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

typedef void (*tc_hp_visit)(tc_t *t, tc_hugepage_t *hp, void *arg);

static void visit_all(tc_t *t, tc_hp_visit fn, void *arg)
{
    tc_filler_t *f = &t->filler;
    for (uint32_t key = 0; key < TC_FILLER_SETS * 2; key++)
        for (uint32_t idx = next_nonempty(t, key, 0); idx != UINT32_MAX;
             idx = next_nonempty(t, key, idx + 1))
            for (tc_hugepage_t *hp = f->head[key * f->nlists + idx]; hp;) {
                tc_hugepage_t *next = hp->next;
                fn(t, hp, arg);
                hp = next;
            }
}

static void collect(tc_t *t, tc_hugepage_t *hp, void *arg)
{
    uint64_t *n = arg;
    if (hp->set == TC_SET_RELEASED) return;
    if (t->pph - hp->used_pages - hp->released_pages == 0) return;
    t->scratch[(*n)++] = hp;
}

uint64_t as_tc_filler_subrelease(tc_t *t, uint64_t pages)
{
    if (pages == 0 || t->filler.hps == 0) return 0;
    if (t->scratch_cap < t->filler.hps) {
        uint64_t cap = t->filler.hps * 2;
        tc_hugepage_t **s = as_tc_meta_alloc(t, cap * sizeof *s);
        if (!s) return 0;
        as_tc_meta_free(t, t->scratch);
        t->scratch = s;
        t->scratch_cap = cap;
    }
    uint64_t n = 0;
    visit_all(t, collect, &n);
    sort_cands(t->scratch, n);
    uint64_t released = 0;
    for (uint64_t i = 0; i < n && released < pages; i++) {
        tc_hugepage_t *hp = t->scratch[i];
        unlist(t, hp);
        int was_whole = hp->released_pages == 0;
        uint32_t r = release_free(t, hp);
        hp->released_pages += (uint16_t)r;
        t->filler.released_pages += r;
        if (was_whole && r) t->hugepages_broken++;
        released += r;
        enlist(t, hp);
    }
    t->pages_subreleased += released;
    t->subrelease_calls++;
    return released;
}

/* ---------------------------------------------------------- statistics */

static void hist_visit(tc_t *t, tc_hugepage_t *hp, void *arg)
{
    uint64_t *hist = arg;
    uint32_t free_pages = t->pph - hp->used_pages;
    uint32_t b = free_pages * 16 / t->pph;
    hist[b > 16 ? 16 : b]++;
}

void as_tc_filler_histogram(const tc_t *t, uint64_t hist[TC_HIST_BUCKETS])
{
    for (int i = 0; i < TC_HIST_BUCKETS; i++)
        hist[i] = 0;
    visit_all((tc_t *)t, hist_visit, hist);
}

static void hugeable_visit(tc_t *t, tc_hugepage_t *hp, void *arg)
{
    if (hp->released_pages == 0) *(uint64_t *)arg += hp->used_pages;
}

uint64_t as_tc_filler_hugepageable_used(const tc_t *t)
{
    uint64_t n = 0;
    visit_all((tc_t *)t, hugeable_visit, &n);
    return n;
}

typedef struct {
    uint64_t hps, used, released;
    int bad;
} tc_check_acc_t;

static uint32_t popcount_words(const uint64_t *w)
{
    uint32_t c = 0;
    for (int i = 0; i < TC_PPH_WORDS; i++)
        for (uint64_t x = w[i]; x; x &= x - 1)
            c++;
    return c;
}

static void check_visit(tc_t *t, tc_hugepage_t *hp, void *arg)
{
    tc_check_acc_t *a = arg;
    a->hps++;
    a->used += hp->used_pages;
    a->released += hp->released_pages;
    if (popcount_words(hp->used) != hp->used_pages) a->bad = 1;
    if (popcount_words(hp->released) != hp->released_pages) a->bad = 1;
    for (int i = 0; i < TC_PPH_WORDS; i++)
        if (hp->used[i] & hp->released[i]) a->bad = 1;
    if (longest_free(t, hp) != hp->longest_free) a->bad = 1;
    if (hp->nallocs == 0 || hp->used_pages == 0) a->bad = 1;
    if (hp->set != set_of(t, hp) || hp->list != as_tc_filler_index(t, hp))
        a->bad = 1;
}

int as_tc_filler_check(const tc_t *t)
{
    tc_check_acc_t a = {0, 0, 0, 0};
    visit_all((tc_t *)t, check_visit, &a);
    if (a.bad || a.hps != t->filler.hps || a.used != t->filler.used_pages ||
        a.released != t->filler.released_pages)
        return AS_ECHECK;
    return AS_OK;
}

typedef struct {
    uint64_t full, partial, released;
} tc_counts_t;

static void count_visit(tc_t *t, tc_hugepage_t *hp, void *arg)
{
    tc_counts_t *c = arg;
    if (hp->released_pages)
        c->released++;
    else if (hp->used_pages == t->pph)
        c->full++;
    else
        c->partial++;
}

void as_tc_filler_counts(const tc_t *t, uint64_t *full, uint64_t *partial,
                         uint64_t *released)
{
    tc_counts_t c = {0, 0, 0};
    visit_all((tc_t *)t, count_visit, &c);
    *full = c.full;
    *partial = c.partial;
    *released = c.released;
}

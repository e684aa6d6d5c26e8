/* phys.c - simulated physical memory: a buddy allocator with migrate types,
 * compaction, a deferred split queue and the vmstat fragmentation indexes.
 *
 * This file owns one machine's frames and nothing above them: which frames
 * are free (free lists per order and migrate type, Linux's free_area), the
 * migrate type of every pageblock (2 MiB), and for each allocated frame its
 * owner and the owner's tag, so compaction can move a movable frame and
 * tell its owner. The processes (sim/simos.c) and the background tenants
 * (sim/tenants.c) are owners; they decide when to reclaim or compact, this
 * file does the work. docs/simos.md, "Physical memory", states the model and
 * which parts of Linux's mm/page_alloc.c, mm/compaction.c and mm/vmstat.c it
 * follows.
 *
 * Per frame it keeps 9 bytes: a flag byte and one 64-bit word, which is the
 * owner and tag of an allocated frame or the free-list links of a free
 * block's first frame. Per pageblock it keeps the migrate type and counts of
 * movable, pinned and deferred frames, so compaction picks its pageblock
 * without scanning frames.
 *
 * Never prints, never reads a clock, no randomness: the same calls give the
 * same frames.
 */
#include "sim/phys.h"

#include <stdlib.h>
#include <string.h>

#include "common/error.h"

#define NIL UINT32_MAX
#define PB_PAGES 512u
#define TAG_BITS 56
#define TAG_MASK ((1ull << TAG_BITS) - 1)

/* Frame flags (fl): 0 for a free frame. A free block's first frame is also
 * marked in hd (1 + its order). An allocated frame has
 * F_ALLOC; F_MOV when it may be migrated (movable and not part of a huge
 * page); F_COMPOUND while it belongs to an unsplit huge page; F_DEFERRED
 * when its huge page is on the deferred split queue and the owner no longer
 * uses this frame. */
enum { F_MOV = 0x10, F_COMPOUND = 0x20, F_DEFERRED = 0x40, F_ALLOC = 0x80 };

/* One pageblock. Invariants: n_movable = frames with F_ALLOC|F_MOV;
 *   n_pinned = other allocated frames; n_deferred = frames with F_DEFERRED;
 *   queued => the block is one huge page (all 512 frames F_COMPOUND). */
typedef struct {
    uint8_t mt;     /* as_migratetype_t */
    uint8_t queued; /* on the deferred split queue */
    uint16_t n_movable, n_pinned, n_deferred;
    uint32_t qnext, qprev; /* deferred queue links (pageblock indices) */
} as_pageblock_t;

typedef struct {
    as_phys_owner_ops_t ops;
    uint64_t frames; /* frames held (not deferred) */
    int used;
} as_owner_t;

struct as_phys {
    uint64_t n_frames;
    uint8_t *fl;    /* per frame flags */
    uint8_t *hd;    /* per frame: 1 + order when first of a free block */
    uint64_t *word; /* owner<<56|tag, or next<<32|prev for a free head */
    as_pageblock_t *pb;
    uint64_t n_pb;
    uint32_t head[AS_PHYS_ORDERS][AS_MT_COUNT];
    uint64_t count[AS_PHYS_ORDERS][AS_MT_COUNT];
    uint32_t qhead, qtail; /* deferred split queue, oldest first */
    as_owner_t owners[AS_PHYS_MAX_OWNERS];
    int kcompactd_woken;
    as_phys_counters_t c;
};

/* ---- free lists ---------------------------------------------------------- */

static uint32_t lnext(const as_phys_t *p, uint64_t f)
{
    return (uint32_t)(p->word[f] >> 32);
}
static uint32_t lprev(const as_phys_t *p, uint64_t f)
{
    return (uint32_t)p->word[f];
}
static void lset(as_phys_t *p, uint64_t f, uint32_t next, uint32_t prev)
{
    p->word[f] = (uint64_t)next << 32 | prev;
}

static unsigned mt_of(const as_phys_t *p, uint64_t f)
{
    return p->pb[f / PB_PAGES].mt;
}

/* Put the free block [f, f + 2^o) at the head of its list (the type of its
 * first pageblock). */
static void list_add(as_phys_t *p, uint64_t f, unsigned o)
{
    unsigned mt = mt_of(p, f);
    uint32_t h = p->head[o][mt];
    lset(p, f, h, NIL);
    if (h != NIL) lset(p, h, lnext(p, h), (uint32_t)f);
    p->head[o][mt] = (uint32_t)f;
    p->hd[f] = (uint8_t)(1 + o);
    p->count[o][mt]++;
    p->c.free_pages += 1ull << o;
}

static void list_del(as_phys_t *p, uint64_t f, unsigned o)
{
    unsigned mt = mt_of(p, f);
    uint32_t n = lnext(p, f), v = lprev(p, f);
    if (v != NIL)
        lset(p, v, n, lprev(p, v));
    else
        p->head[o][mt] = n;
    if (n != NIL) lset(p, n, lnext(p, n), v);
    p->hd[f] = 0;
    p->word[f] = 0;
    p->count[o][mt]--;
    p->c.free_pages -= 1ull << o;
}

/* ---- allocation ---------------------------------------------------------- */

/* Split the free block [f, f + 2^hi) (already off its list) down to order
 * lo: the upper halves go back on the lists of their pageblocks' types. */
static void expand(as_phys_t *p, uint64_t f, unsigned lo, unsigned hi)
{
    while (hi > lo) {
        hi--;
        list_add(p, f + (1ull << hi), hi);
    }
}

/* Mark [f, f + 2^o) allocated to owner with tags tag..; update counts. */
static void take(as_phys_t *p, uint32_t owner, uint64_t f, unsigned o,
                 as_migratetype_t mt, uint64_t tag)
{
    uint64_t n = 1ull << o;
    int compound = o == AS_PHYS_PAGEBLOCK_ORDER && mt == AS_MT_MOVABLE;
    uint8_t flags = F_ALLOC;
    if (compound)
        flags |= F_COMPOUND;
    else if (mt == AS_MT_MOVABLE)
        flags |= F_MOV;
    for (uint64_t i = 0; i < n; i++) {
        p->fl[f + i] = flags;
        p->word[f + i] = (uint64_t)owner << TAG_BITS | ((tag + i) & TAG_MASK);
        as_pageblock_t *b = &p->pb[(f + i) / PB_PAGES];
        if (flags & F_MOV)
            b->n_movable++;
        else
            b->n_pinned++;
    }
    p->owners[owner].frames += n;
    p->c.used_pages[mt] += n;
    p->c.allocs++;
}

/* Take every free block inside the pageblock at f0 off its list, into
 * first[] and order[] in address order. @return how many. */
static unsigned take_free_blocks(as_phys_t *p, uint64_t f0, uint64_t *first,
                                 unsigned *order)
{
    unsigned k = 0;
    for (uint64_t f = f0; f < f0 + PB_PAGES;) {
        if (!p->hd[f]) {
            f++;
            continue;
        }
        unsigned o = p->hd[f] - 1u;
        first[k] = f;
        order[k++] = o;
        list_del(p, f, o);
        f += 1ull << o;
    }
    return k;
}

/* Change the type of pageblock i, moving its free blocks to the new lists.
 * A free block of order 10 spans two pageblocks: both change. */
static void set_pb_type(as_phys_t *p, uint64_t i, unsigned mt)
{
    if (p->pb[i].mt == mt) return;
    uint64_t f0 = i * PB_PAGES;
    /* a free order-10 block covering this pageblock */
    uint64_t g = f0 & ~((1ull << AS_PHYS_MAX_ORDER) - 1);
    if (p->hd[g] == 1 + AS_PHYS_MAX_ORDER) {
        list_del(p, g, AS_PHYS_MAX_ORDER);
        p->pb[g / PB_PAGES].mt = (uint8_t)mt;
        p->pb[g / PB_PAGES + 1].mt = (uint8_t)mt;
        list_add(p, g, AS_PHYS_MAX_ORDER);
        p->c.steals += 2;
        return;
    }
    /* move every free block inside the pageblock */
    uint64_t moved[PB_PAGES];
    unsigned orders[PB_PAGES], k = take_free_blocks(p, f0, moved, orders);
    p->pb[i].mt = (uint8_t)mt;
    for (unsigned j = 0; j < k; j++)
        list_add(p, moved[j], orders[j]);
    p->c.steals++;
}

/* Free and allocated-alike frames of pageblock i for a request of type mt
 * (try_to_claim_block in mm/page_alloc.c): a movable request counts the
 * movable frames; an unmovable request in a movable block counts the frames
 * that are neither free nor movable. */
static uint64_t claimable(const as_phys_t *p, uint64_t i, unsigned mt)
{
    const as_pageblock_t *b = &p->pb[i];
    uint64_t used = (uint64_t)b->n_movable + b->n_pinned;
    uint64_t free_pages = PB_PAGES - used;
    uint64_t alike = mt == AS_MT_MOVABLE      ? b->n_movable
                     : b->mt == AS_MT_MOVABLE ? b->n_pinned
                                              : 0;
    return free_pages + alike;
}

/* Take a block of order o for type mt from the other type's lists
 * (__rmqueue_fallback). @return the first frame, or NIL. */
static uint32_t fallback(as_phys_t *p, unsigned o, unsigned mt)
{
    unsigned other = 1u - mt, co;
    int found = 0, steal = 0;
    /* largest block first, to claim a whole pageblock where possible */
    for (co = AS_PHYS_MAX_ORDER + 1; co-- > o;) {
        if (p->head[co][other] == NIL) continue;
        found = 1;
        steal = co >= AS_PHYS_PAGEBLOCK_ORDER / 2 || mt == AS_MT_UNMOVABLE;
        break;
    }
    if (!found) return NIL;
    if (!steal && mt == AS_MT_MOVABLE && co > o) {
        /* a movable request that cannot claim the block takes the smallest
         * block instead, to leave large ones whole */
        for (co = o; co < AS_PHYS_MAX_ORDER && p->head[co][other] == NIL; co++)
            ; /* a block exists at some order in [o, MAX]: found above */
    }
    uint64_t f = p->head[co][other];
    p->c.fallbacks++;
    if (co >= AS_PHYS_PAGEBLOCK_ORDER) {
        /* whole pageblocks: they change type */
        list_del(p, f, co);
        for (uint64_t i = f / PB_PAGES; i < (f + (1ull << co)) / PB_PAGES; i++)
            if (p->pb[i].mt != mt) {
                p->pb[i].mt = (uint8_t)mt;
                p->c.steals++;
            }
        expand(p, f, o, co);
        return (uint32_t)f;
    }
    if (steal && claimable(p, f / PB_PAGES, mt) >= PB_PAGES / 2)
        set_pb_type(p, f / PB_PAGES, mt);
    list_del(p, f, co);
    expand(p, f, o, co);
    return (uint32_t)f;
}

int as_phys_alloc(as_phys_t *p, uint32_t owner, unsigned order,
                  as_migratetype_t mt, uint64_t tag, uint64_t *frame)
{
    if (order > AS_PHYS_MAX_ORDER || (unsigned)mt >= AS_MT_COUNT ||
        owner >= AS_PHYS_MAX_OWNERS || !p->owners[owner].used)
        return AS_EINVAL;
    uint32_t f = NIL;
    for (unsigned o = order; o <= AS_PHYS_MAX_ORDER; o++) {
        if (p->head[o][mt] == NIL) continue;
        f = p->head[o][mt];
        list_del(p, f, o);
        expand(p, f, order, o);
        break;
    }
    if (f == NIL) f = fallback(p, order, mt);
    if (f == NIL) {
        p->c.alloc_failures++;
        return AS_ENOMEM;
    }
    take(p, owner, f, order, mt, tag);
    *frame = f;
    return 0;
}

/* ---- freeing ---------------------------------------------------------- */

/* Return [f, f + 2^o) (allocation state already cleared) to the free
 * lists, merging buddies; across pageblocks only of the same type. */
static void merge_free(as_phys_t *p, uint64_t f, unsigned o)
{
    while (o < AS_PHYS_MAX_ORDER) {
        uint64_t b = f ^ (1ull << o);
        if (p->hd[b] != 1 + o) break;
        if (o >= AS_PHYS_PAGEBLOCK_ORDER && mt_of(p, b) != mt_of(p, f)) break;
        list_del(p, b, o);
        if (b < f) f = b;
        o++;
    }
    list_add(p, f, o);
}

/* Clear the allocation state of one frame and update the counts. */
static void untake(as_phys_t *p, uint64_t f)
{
    uint8_t fl = p->fl[f];
    as_pageblock_t *b = &p->pb[f / PB_PAGES];
    if (fl & F_MOV)
        b->n_movable--;
    else
        b->n_pinned--;
    if (fl & F_DEFERRED) {
        b->n_deferred--;
        p->c.deferred_split_bytes -= AS_PHYS_PAGE_BYTES;
    } else {
        p->owners[p->word[f] >> TAG_BITS].frames--;
    }
    p->c.used_pages[(fl & (F_MOV | F_COMPOUND)) ? AS_MT_MOVABLE
                                                : AS_MT_UNMOVABLE]--;
    p->fl[f] = 0;
    p->word[f] = 0;
}

static void queue_del(as_phys_t *p, uint64_t i)
{
    as_pageblock_t *b = &p->pb[i];
    if (b->qprev != NIL)
        p->pb[b->qprev].qnext = b->qnext;
    else
        p->qhead = b->qnext;
    if (b->qnext != NIL)
        p->pb[b->qnext].qprev = b->qprev;
    else
        p->qtail = b->qprev;
    b->queued = 0;
    b->qnext = b->qprev = NIL;
}

/* One frame of a queued huge page is no longer used by its owner. When
 * none is used any more the whole huge page is freed. */
static void defer_frame(as_phys_t *p, uint64_t f)
{
    as_pageblock_t *b = &p->pb[f / PB_PAGES];
    if (p->fl[f] & F_DEFERRED) return;
    p->owners[p->word[f] >> TAG_BITS].frames--;
    p->fl[f] |= F_DEFERRED;
    b->n_deferred++;
    p->c.deferred_split_bytes += AS_PHYS_PAGE_BYTES;
    if (p->c.deferred_split_bytes > p->c.peak_deferred_split_bytes)
        p->c.peak_deferred_split_bytes = p->c.deferred_split_bytes;
    if (b->n_deferred == PB_PAGES) {
        uint64_t f0 = f & ~(uint64_t)(PB_PAGES - 1);
        queue_del(p, f0 / PB_PAGES);
        for (uint64_t i = 0; i < PB_PAGES; i++)
            untake(p, f0 + i);
        merge_free(p, f0, AS_PHYS_PAGEBLOCK_ORDER);
    }
}

void as_phys_free(as_phys_t *p, uint64_t frame, unsigned order)
{
    uint64_t n = 1ull << order;
    if (order < AS_PHYS_PAGEBLOCK_ORDER && (p->fl[frame] & F_COMPOUND)) {
        /* frames of a huge page: it goes on the deferred split queue */
        static const uint64_t none[8];
        if (!p->pb[frame / PB_PAGES].queued)
            as_phys_defer_split(p, frame & ~(uint64_t)(PB_PAGES - 1), none);
        for (uint64_t i = 0; i < n; i++)
            defer_frame(p, frame + i);
        return;
    }
    if (order == AS_PHYS_PAGEBLOCK_ORDER && p->pb[frame / PB_PAGES].queued)
        queue_del(p, frame / PB_PAGES);
    for (uint64_t i = 0; i < n; i++)
        untake(p, frame + i);
    if (order <= AS_PHYS_PAGEBLOCK_ORDER) {
        merge_free(p, frame, order);
    } else {
        merge_free(p, frame, AS_PHYS_PAGEBLOCK_ORDER);
        merge_free(p, frame + PB_PAGES, AS_PHYS_PAGEBLOCK_ORDER);
    }
}

void as_phys_retag(as_phys_t *p, uint64_t frame, uint64_t tag)
{
    p->word[frame] = (p->word[frame] & ~TAG_MASK) | (tag & TAG_MASK);
}

/* The huge page at f0 becomes 4 KiB frames: the used ones movable, the
 * deferred ones freed. */
static uint64_t split_block(as_phys_t *p, uint64_t f0)
{
    as_pageblock_t *b = &p->pb[f0 / PB_PAGES];
    uint64_t freed = 0;
    if (b->queued) queue_del(p, f0 / PB_PAGES);
    for (uint64_t i = 0; i < PB_PAGES; i++) {
        uint8_t fl = p->fl[f0 + i];
        p->fl[f0 + i] = (uint8_t)((fl & ~F_COMPOUND) | F_MOV);
        b->n_pinned--;
        b->n_movable++;
        if (fl & F_DEFERRED) {
            p->fl[f0 + i] &= (uint8_t)~F_DEFERRED;
            b->n_deferred--;
            p->c.deferred_split_bytes -= AS_PHYS_PAGE_BYTES;
            p->c.deferred_split_freed_bytes += AS_PHYS_PAGE_BYTES;
            p->owners[p->word[f0 + i] >> TAG_BITS].frames++; /* untake's */
            untake(p, f0 + i);
            merge_free(p, f0 + i, 0);
            freed++;
        }
    }
    return freed;
}

void as_phys_compound_split(as_phys_t *p, uint64_t frame)
{
    split_block(p, frame & ~(uint64_t)(PB_PAGES - 1));
}

void as_phys_defer_split(as_phys_t *p, uint64_t frame,
                         const uint64_t unmapped[8])
{
    uint64_t i = frame / PB_PAGES;
    as_pageblock_t *b = &p->pb[i];
    if (!b->queued) {
        b->queued = 1;
        b->qnext = NIL;
        b->qprev = p->qtail;
        if (p->qtail != NIL)
            p->pb[p->qtail].qnext = (uint32_t)i;
        else
            p->qhead = (uint32_t)i;
        p->qtail = (uint32_t)i;
        p->c.deferred_splits++;
    }
    for (unsigned k = 0; k < PB_PAGES; k++)
        if (unmapped[k / 64] >> (k % 64) & 1) defer_frame(p, frame + k);
}

uint64_t as_phys_reclaim(as_phys_t *p, uint64_t pages)
{
    uint64_t freed = 0;
    while (freed < pages && p->qhead != NIL)
        freed += split_block(p, (uint64_t)p->qhead * PB_PAGES);
    for (uint32_t i = 0; i < AS_PHYS_MAX_OWNERS && freed < pages; i++) {
        as_owner_t *o = &p->owners[i];
        if (!o->used || !o->ops.reclaim) continue;
        uint64_t n = o->ops.reclaim(o->ops.state, pages - freed);
        p->c.reclaimed_pages += n;
        freed += n;
    }
    return freed;
}

/* ---- compaction ---------------------------------------------------------- */

static int have_free_block(const as_phys_t *p, unsigned order)
{
    for (unsigned o = order; o <= AS_PHYS_MAX_ORDER; o++)
        if (p->count[o][0] + p->count[o][1]) return 1;
    return 0;
}

int as_phys_compact(as_phys_t *p, unsigned order)
{
    if (order > AS_PHYS_PAGEBLOCK_ORDER) return have_free_block(p, order);
    if (have_free_block(p, order)) return 1;
    p->c.compactions++;
    /* The pageblock with the fewest movable frames and nothing pinned; the
     * lowest such on ties. Its frames must fit in the free frames
     * elsewhere. */
    uint64_t best = UINT64_MAX, best_n = PB_PAGES + 1;
    for (uint64_t i = 0; i < p->n_pb; i++) {
        const as_pageblock_t *b = &p->pb[i];
        if (b->n_pinned || b->n_movable >= best_n) continue;
        uint64_t free_in = PB_PAGES - b->n_movable;
        if (p->c.free_pages - free_in < b->n_movable) continue;
        best = i;
        best_n = b->n_movable;
    }
    if (best == UINT64_MAX) return 0;
    /* Isolate the block's free blocks so no destination lands inside. */
    uint64_t f0 = best * PB_PAGES;
    uint64_t iso[PB_PAGES];
    unsigned iso_o[PB_PAGES], k = take_free_blocks(p, f0, iso, iso_o);
    /* Migrate in address order; the frames left behind stay off the free
     * lists until every move is done, so no destination lands inside. */
    uint64_t src[PB_PAGES];
    unsigned ns = 0;
    for (uint64_t f = f0; f < f0 + PB_PAGES; f++) {
        if (!(p->fl[f] & F_ALLOC)) continue;
        uint32_t owner = (uint32_t)(p->word[f] >> TAG_BITS);
        uint64_t tag = p->word[f] & TAG_MASK, to;
        /* cannot fail: enough free frames outside the block (checked) */
        if (as_phys_alloc(p, owner, 0, AS_MT_MOVABLE, tag, &to)) break;
        p->c.allocs--; /* a migration, not an allocation */
        untake(p, f);
        src[ns++] = f;
        p->c.pages_migrated++;
        if (p->owners[owner].ops.migrated)
            p->owners[owner].ops.migrated(p->owners[owner].ops.state, tag, to);
    }
    for (unsigned j = 0; j < ns; j++)
        merge_free(p, src[j], 0);
    for (unsigned j = 0; j < k; j++)
        merge_free(p, iso[j], iso_o[j]);
    int ok = have_free_block(p, order);
    p->c.compact_successes += (uint64_t)ok;
    return ok;
}

void as_phys_wake_kcompactd(as_phys_t *p)
{
    p->kcompactd_woken = 1;
}

int as_phys_kcompactd(as_phys_t *p)
{
    if (!p->kcompactd_woken) return 0;
    p->kcompactd_woken = 0;
    uint64_t before = p->c.pages_migrated;
    as_phys_compact(p, AS_PHYS_PAGEBLOCK_ORDER);
    if (p->c.pages_migrated == before) return 0;
    p->c.kcompactd_runs++;
    return 1;
}

/* ---- indexes -------------------------------------------------------------- */

void as_phys_free_blocks_mt(const as_phys_t *p, as_migratetype_t mt,
                            uint64_t *counts)
{
    for (unsigned o = 0; o < AS_PHYS_ORDERS; o++)
        counts[o] = p->count[o][mt];
}

void as_phys_free_blocks(const as_phys_t *p, uint64_t *counts)
{
    for (unsigned o = 0; o < AS_PHYS_ORDERS; o++)
        counts[o] = p->count[o][0] + p->count[o][1];
}

/* fill_contig_page_info of mm/vmstat.c. */
static void contig_info(const as_phys_t *p, unsigned order,
                        uint64_t *free_pages, uint64_t *blocks_total,
                        uint64_t *blocks_suitable)
{
    uint64_t n[AS_PHYS_ORDERS];
    as_phys_free_blocks(p, n);
    *free_pages = *blocks_total = *blocks_suitable = 0;
    for (unsigned o = 0; o < AS_PHYS_ORDERS; o++) {
        *blocks_total += n[o];
        *free_pages += n[o] << o;
        if (o >= order) *blocks_suitable += n[o] << (o - order);
    }
}

int as_phys_unusable_index(const as_phys_t *p, unsigned order)
{
    uint64_t fp, bt, bs;
    contig_info(p, order, &fp, &bt, &bs);
    if (fp == 0) return 1000;
    return (int)((fp - (bs << order)) * 1000 / fp);
}

int as_phys_fragmentation_index(const as_phys_t *p, unsigned order)
{
    uint64_t fp, bt, bs;
    contig_info(p, order, &fp, &bt, &bs);
    if (bt == 0) return 0;
    if (bs) return -1000;
    return (int)(1000 - (1000 + fp * 1000 / (1ull << order)) / bt);
}

/* ---- life cycle ------------------------------------------------------------ */

int as_phys_create(const as_phys_config_t *cfg, as_phys_t **out)
{
    *out = NULL;
    uint64_t unit = (uint64_t)AS_PHYS_PAGE_BYTES << AS_PHYS_MAX_ORDER;
    if (!cfg || cfg->mem_bytes == 0 || cfg->mem_bytes % unit ||
        cfg->mem_bytes > AS_PHYS_MAX_BYTES)
        return AS_EINVAL;
    as_phys_t *p = calloc(1, sizeof *p);
    if (!p) return AS_ENOMEM;
    p->n_frames = cfg->mem_bytes / AS_PHYS_PAGE_BYTES;
    p->n_pb = p->n_frames / PB_PAGES;
    p->fl = calloc(p->n_frames, 1);
    p->hd = calloc(p->n_frames, 1);
    p->word = calloc(p->n_frames, sizeof *p->word);
    p->pb = calloc(p->n_pb, sizeof *p->pb);
    if (!p->fl || !p->hd || !p->word || !p->pb) {
        as_phys_destroy(p);
        return AS_ENOMEM;
    }
    p->c.host_bytes = sizeof *p + p->n_frames * (2 + sizeof *p->word) +
                      p->n_pb * sizeof *p->pb;
    p->c.total_pages = p->n_frames;
    for (unsigned o = 0; o < AS_PHYS_ORDERS; o++)
        p->head[o][0] = p->head[o][1] = NIL;
    p->qhead = p->qtail = NIL;
    for (uint64_t i = 0; i < p->n_pb; i++) {
        p->pb[i].mt = AS_MT_MOVABLE;
        p->pb[i].qnext = p->pb[i].qprev = NIL;
    }
    /* highest block first onto the list heads: the lowest ends up first */
    for (uint64_t f = p->n_frames; f > 0;) {
        f -= 1ull << AS_PHYS_MAX_ORDER;
        list_add(p, f, AS_PHYS_MAX_ORDER);
    }
    *out = p;
    return 0;
}

void as_phys_destroy(as_phys_t *p)
{
    if (!p) return;
    free(p->fl);
    free(p->hd);
    free(p->word);
    free(p->pb);
    free(p);
}

int as_phys_owner_add(as_phys_t *p, const as_phys_owner_ops_t *ops,
                      uint32_t *id)
{
    for (uint32_t i = 0; i < AS_PHYS_MAX_OWNERS; i++) {
        if (p->owners[i].used) continue;
        memset(&p->owners[i], 0, sizeof p->owners[i]);
        if (ops) p->owners[i].ops = *ops;
        p->owners[i].used = 1;
        *id = i;
        return 0;
    }
    return AS_ENOSPACE;
}

int as_phys_owner_remove(as_phys_t *p, uint32_t id)
{
    if (id >= AS_PHYS_MAX_OWNERS || !p->owners[id].used || p->owners[id].frames)
        return AS_EINVAL;
    p->owners[id].used = 0;
    return 0;
}

as_migratetype_t as_phys_pageblock_type(const as_phys_t *p, uint64_t frame)
{
    return (as_migratetype_t)mt_of(p, frame);
}

int as_phys_frame_owner(const as_phys_t *p, uint64_t frame, uint32_t *owner,
                        uint64_t *tag)
{
    if (frame >= p->n_frames || !(p->fl[frame] & F_ALLOC) ||
        (p->fl[frame] & F_DEFERRED))
        return 0;
    if (owner) *owner = (uint32_t)(p->word[frame] >> TAG_BITS);
    if (tag) *tag = p->word[frame] & TAG_MASK;
    return 1;
}

uint64_t as_phys_owner_frames(const as_phys_t *p, uint32_t id)
{
    return id < AS_PHYS_MAX_OWNERS ? p->owners[id].frames : 0;
}

const as_phys_counters_t *as_phys_counters(const as_phys_t *p)
{
    return &p->c;
}

int as_phys_check(const as_phys_t *p)
{
    uint64_t nfree = 0, cnt[AS_PHYS_ORDERS][AS_MT_COUNT];
    memset(cnt, 0, sizeof cnt);
    /* free lists: linked both ways, heads marked, aligned, right type */
    for (unsigned o = 0; o < AS_PHYS_ORDERS; o++)
        for (unsigned mt = 0; mt < AS_MT_COUNT; mt++) {
            uint32_t prev = NIL;
            for (uint32_t f = p->head[o][mt]; f != NIL; f = lnext(p, f)) {
                if (f >= p->n_frames || p->hd[f] != 1 + o ||
                    lprev(p, f) != prev || (f & ((1u << o) - 1)) ||
                    mt_of(p, f) != mt || cnt[o][mt] > p->n_frames)
                    return AS_ECHECK;
                cnt[o][mt]++;
                prev = f;
            }
            if (cnt[o][mt] != p->count[o][mt]) return AS_ECHECK;
            nfree += cnt[o][mt] << o;
        }
    if (nfree != p->c.free_pages) return AS_ECHECK;
    /* frames: every frame is in exactly one free block or allocated; no two
     * free buddies of one order that could merge */
    uint64_t used[AS_MT_COUNT] = {0, 0}, deferred = 0;
    uint64_t owned[AS_PHYS_MAX_OWNERS];
    memset(owned, 0, sizeof owned);
    for (uint64_t i = 0; i < p->n_pb; i++) {
        const as_pageblock_t *b = &p->pb[i];
        uint64_t mov = 0, pin = 0, def = 0, comp = 0;
        for (uint64_t f = i * PB_PAGES; f < (i + 1) * PB_PAGES; f++) {
            uint8_t fl = p->fl[f];
            if (fl & F_ALLOC) {
                if (p->hd[f]) return AS_ECHECK;
                if (fl & F_MOV) {
                    mov++;
                    if (fl & (F_COMPOUND | F_DEFERRED)) return AS_ECHECK;
                } else {
                    pin++;
                }
                comp += !!(fl & F_COMPOUND);
                used[(fl & (F_MOV | F_COMPOUND)) ? 1 : 0]++;
                if (fl & F_DEFERRED) {
                    def++;
                    if (!(fl & F_COMPOUND)) return AS_ECHECK;
                } else {
                    owned[p->word[f] >> TAG_BITS]++;
                }
            } else if (fl) {
                return AS_ECHECK;
            }
        }
        if (mov != b->n_movable || pin != b->n_pinned || def != b->n_deferred ||
            (comp && comp != PB_PAGES) || (b->queued && comp != PB_PAGES) ||
            (def && !b->queued) || b->mt >= AS_MT_COUNT)
            return AS_ECHECK;
        deferred += def;
    }
    /* free blocks cover exactly the frames not allocated */
    uint64_t covered = 0;
    for (uint64_t f = 0; f < p->n_frames;) {
        if (p->hd[f]) {
            unsigned o = p->hd[f] - 1u;
            for (uint64_t j = f; j < f + (1ull << o); j++)
                if (p->fl[j] || (j > f && p->hd[j])) return AS_ECHECK;
            uint64_t bud = f ^ (1ull << o);
            if (o < AS_PHYS_MAX_ORDER && p->hd[bud] == 1 + o &&
                (o < AS_PHYS_PAGEBLOCK_ORDER || mt_of(p, bud) == mt_of(p, f)))
                return AS_ECHECK;
            covered += 1ull << o;
            f += 1ull << o;
        } else {
            if (!(p->fl[f] & F_ALLOC)) return AS_ECHECK;
            f++;
        }
    }
    if (covered != nfree || used[0] != p->c.used_pages[0] ||
        used[1] != p->c.used_pages[1] ||
        nfree + used[0] + used[1] != p->n_frames ||
        deferred * AS_PHYS_PAGE_BYTES != p->c.deferred_split_bytes)
        return AS_ECHECK;
    for (uint32_t i = 0; i < AS_PHYS_MAX_OWNERS; i++)
        if (owned[i] != p->owners[i].frames || (owned[i] && !p->owners[i].used))
            return AS_ECHECK;
    /* the deferred queue: linked both ways, every member queued */
    uint32_t prev = NIL;
    for (uint32_t i = p->qhead; i != NIL; i = p->pb[i].qnext) {
        if (i >= p->n_pb || !p->pb[i].queued || p->pb[i].qprev != prev)
            return AS_ECHECK;
        prev = i;
    }
    if (prev != p->qtail) return AS_ECHECK;
    return 0;
}

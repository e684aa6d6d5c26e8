/* superblock.c - superblock descriptors and their fullness-binned heaps.
 *
 * Owns the bookkeeping every superblock allocator repeats (Hoard, the
 * private-heap strawmen): which heap holds a superblock, how full it is,
 * which bin it sits in, and the running totals a_i (bytes of superblocks a
 * heap holds) and u_i (bytes of blocks in use). It never decides policy
 * (when to move a superblock between heaps is the caller's rule) and never
 * touches the superblock's memory: descriptors and bitmaps live in the
 * metadata arena. No libc.
 */
#include "policies/blocks/superblock.h"

#include "common/error.h"

as_superblock_t *as_superblock_new(const as_mem_t *mem, uintptr_t base,
                                   uint64_t sb_bytes)
{
    as_superblock_t *sb = as_mem_alloc(mem, as_superblock_meta_bytes(sb_bytes));
    if (!sb) return 0;
    sb->base = base;
    sb->owner = -1;
    sb->sclass = AS_SB_NO_CLASS;
    sb->block_bytes = 0;
    sb->bin = 0;
    sb->prev = sb->next = 0;
    as_slotmap_reset(&sb->slots, sb->bits, 0);
    return sb;
}

void as_superblock_delete(const as_mem_t *mem, as_superblock_t *sb,
                          uint64_t sb_bytes)
{
    as_mem_free(mem, sb, as_superblock_meta_bytes(sb_bytes));
}

void as_superblock_format(as_superblock_t *sb, uint64_t sb_bytes, int32_t c,
                          uint32_t block_bytes)
{
    sb->sclass = c;
    sb->block_bytes = block_bytes;
    as_slotmap_reset(&sb->slots, sb->bits, (uint32_t)(sb_bytes / block_bytes));
}

static uint32_t bin_of(const as_superblock_t *sb)
{
    uint32_t used = sb->slots.used, cap = sb->slots.capacity;
    if (used == 0) return 0;
    if (used >= cap) return AS_SB_BINS - 1;
    return 1 + (uint32_t)((uint64_t)used * (AS_SB_BINS - 2) / cap);
}

static as_superblock_t **list_of(as_sbheap_t *h, const as_superblock_t *sb,
                                 uint32_t bin)
{
    return bin == 0 ? &h->empty : &h->cls[sb->sclass].bins[bin];
}

static int is_partial(uint32_t bin)
{
    return bin >= 1 && bin <= AS_SB_BINS - 2;
}

static as_superblock_t *sb_of_pnode(const as_rb_node_t *n)
{
    return n ? AS_RB_ENTRY(n, as_superblock_t, pnode) : 0;
}

/* Order of a class's partial tree: base. */
static int partial_cmp(const as_rb_node_t *a, const as_rb_node_t *b)
{
    const as_superblock_t *x = sb_of_pnode(a), *y = sb_of_pnode(b);
    return x->base < y->base ? -1 : x->base > y->base;
}

static int partial_augment(as_rb_node_t *n)
{
    as_superblock_t *sb = sb_of_pnode(n);
    uint32_t m = sb->slots.used, old = sb->sub_min_used;
    for (int d = 0; d < 2; d++)
        if (n->child[d] && sb_of_pnode(n->child[d])->sub_min_used < m)
            m = sb_of_pnode(n->child[d])->sub_min_used;
    sb->sub_min_used = m;
    return m != old;
}

static int used_is(const as_rb_node_t *n, const void *used)
{
    return sb_of_pnode(n)->slots.used == *(const uint32_t *)used;
}

static int sub_min_is(const as_rb_node_t *n, const void *used)
{
    return sb_of_pnode(n)->sub_min_used == *(const uint32_t *)used;
}

/* The emptiest partly used superblock of class k: least used, then lowest
 * base (the root holds the least `used` of all, so "the subtree's least
 * equals it" is exact). */
static as_superblock_t *class_emptiest(const as_sbclass_t *k)
{
    const as_rb_node_t *root = k->partial.tree.root;
    if (!root) return 0;
    uint32_t m = sb_of_pnode(root)->sub_min_used;
    return sb_of_pnode(
        as_rb_first_match(&k->partial.tree, used_is, sub_min_is, &m));
}

static void link_sb(as_sbheap_t *h, as_superblock_t *sb)
{
    sb->bin = bin_of(sb);
    if (is_partial(sb->bin))
        as_rb_ainsert(&h->cls[sb->sclass].partial, &sb->pnode, partial_cmp);
    as_superblock_t **head = list_of(h, sb, sb->bin);
    sb->prev = 0;
    sb->next = *head;
    if (*head) (*head)->prev = sb;
    *head = sb;
    if (sb->bin == 0) h->n_empty++;
}

static void unlink_sb(as_sbheap_t *h, as_superblock_t *sb)
{
    if (is_partial(sb->bin))
        as_rb_aerase(&h->cls[sb->sclass].partial, &sb->pnode);
    if (sb->prev)
        sb->prev->next = sb->next;
    else
        *list_of(h, sb, sb->bin) = sb->next;
    if (sb->next) sb->next->prev = sb->prev;
    sb->prev = sb->next = 0;
    if (sb->bin == 0) h->n_empty--;
}

/* After sb's use changed: move it to the bin its use now says, or, in the
 * same partial bin, refresh the least-used summaries above it. */
static void rebin(as_sbheap_t *h, as_superblock_t *sb)
{
    if (bin_of(sb) == sb->bin) {
        if (is_partial(sb->bin))
            as_rb_propagate(&h->cls[sb->sclass].partial, &sb->pnode);
        return;
    }
    unlink_sb(h, sb);
    link_sb(h, sb);
}

int as_sbheap_init(as_sbheap_t *h, const as_mem_t *mem, int32_t id,
                   uint32_t n_classes, uint64_t sb_bytes)
{
    h->id = id;
    h->n_classes = n_classes;
    h->sb_bytes = sb_bytes;
    h->empty = 0;
    h->n_superblocks = h->n_empty = 0;
    h->a_bytes = h->u_bytes = 0;
    h->mem = mem;
    h->cls = as_mem_alloc(mem, n_classes * sizeof *h->cls);
    if (!h->cls) return AS_ENOMEM;
    for (uint32_t c = 0; c < n_classes; c++) {
        for (uint32_t b = 0; b < AS_SB_BINS; b++)
            h->cls[c].bins[b] = 0;
        as_rb_ainit(&h->cls[c].partial, partial_augment);
        h->cls[c].n_superblocks = h->cls[c].u_bytes = 0;
    }
    return AS_OK;
}

void as_sbheap_fini(as_sbheap_t *h)
{
    if (h->cls) as_mem_free(h->mem, h->cls, h->n_classes * sizeof *h->cls);
    h->cls = 0;
}

void as_sbheap_insert(as_sbheap_t *h, as_superblock_t *sb)
{
    uint64_t u = (uint64_t)sb->slots.used * sb->block_bytes;
    sb->owner = h->id;
    link_sb(h, sb);
    h->n_superblocks++;
    h->a_bytes += h->sb_bytes;
    h->u_bytes += u;
    h->cls[sb->sclass].n_superblocks++;
    h->cls[sb->sclass].u_bytes += u;
}

void as_sbheap_remove(as_sbheap_t *h, as_superblock_t *sb)
{
    uint64_t u = (uint64_t)sb->slots.used * sb->block_bytes;
    unlink_sb(h, sb);
    sb->owner = -1;
    h->n_superblocks--;
    h->a_bytes -= h->sb_bytes;
    h->u_bytes -= u;
    h->cls[sb->sclass].n_superblocks--;
    h->cls[sb->sclass].u_bytes -= u;
}

uintptr_t as_sbheap_take_block(as_sbheap_t *h, as_superblock_t *sb)
{
    int64_t i = as_slotmap_take(&sb->slots);
    /* callers pick superblocks with a free slot; i >= 0 */
    h->u_bytes += sb->block_bytes;
    h->cls[sb->sclass].u_bytes += sb->block_bytes;
    rebin(h, sb);
    return sb->base + (uintptr_t)i * sb->block_bytes;
}

int as_sbheap_put_block(as_sbheap_t *h, as_superblock_t *sb, uintptr_t addr)
{
    if (sb->block_bytes == 0 || addr < sb->base) return AS_EINVAL;
    uint64_t off = addr - sb->base;
    if (off % sb->block_bytes) return AS_EINVAL;
    int64_t i = as_superblock_slot_of(sb, addr);
    if (i < 0 || as_slotmap_put(&sb->slots, (uint32_t)i) != AS_OK)
        return AS_EINVAL;
    h->u_bytes -= sb->block_bytes;
    h->cls[sb->sclass].u_bytes -= sb->block_bytes;
    rebin(h, sb);
    return AS_OK;
}

as_superblock_t *as_sbheap_fullest(const as_sbheap_t *h, int32_t c)
{
    for (uint32_t b = AS_SB_BINS - 2; b >= 1; b--)
        if (h->cls[c].bins[b]) return h->cls[c].bins[b];
    return 0;
}

/* a is emptier than b: used_a/cap_a < used_b/cap_b, ties by lower base. */
static int emptier(const as_superblock_t *a, const as_superblock_t *b)
{
    uint64_t l = (uint64_t)a->slots.used * b->slots.capacity;
    uint64_t r = (uint64_t)b->slots.used * a->slots.capacity;
    return l < r || (l == r && a->base < b->base);
}

as_superblock_t *as_sbheap_emptiest(const as_sbheap_t *h)
{
    if (h->empty) return h->empty;
    as_superblock_t *best = 0;
    for (uint32_t c = 0; c < h->n_classes; c++) {
        const as_rb_node_t *root = h->cls[c].partial.tree.root;
        if (!root) continue;
        /* the root knows the class's least use: skip a class that cannot
         * win without finding its superblock */
        const as_superblock_t *r = sb_of_pnode(root);
        if (best && (uint64_t)r->sub_min_used * best->slots.capacity >
                        (uint64_t)best->slots.used * r->slots.capacity)
            continue;
        as_superblock_t *sb = class_emptiest(&h->cls[c]);
        if (sb && (!best || emptier(sb, best))) best = sb;
    }
    return best;
}

as_superblock_t *as_sbheap_emptiest_of(const as_sbheap_t *h, int32_t c)
{
    for (as_superblock_t *sb = h->empty; sb; sb = sb->next)
        if (sb->sclass == c) return sb;
    return class_emptiest(&h->cls[c]);
}

int as_sbheap_check(const as_sbheap_t *h)
{
    uint64_t n = 0, n_empty = 0, u = 0;
    for (as_superblock_t *sb = h->empty; sb; sb = sb->next, n_empty++) {
        if (sb->owner != h->id || sb->bin != 0 || sb->slots.used)
            return AS_ECHECK;
        if (sb->sclass < 0 || (uint32_t)sb->sclass >= h->n_classes)
            return AS_ECHECK;
        if (sb->next && sb->next->prev != sb) return AS_ECHECK;
        if (as_slotmap_check(&sb->slots)) return AS_ECHECK;
    }
    for (uint32_t c = 0; c < h->n_classes; c++) {
        uint64_t nc = 0, uc = 0;
        for (as_superblock_t *sb = h->empty; sb; sb = sb->next)
            nc += sb->sclass == (int32_t)c;
        for (uint32_t b = 1; b < AS_SB_BINS; b++) {
            for (as_superblock_t *sb = h->cls[c].bins[b]; sb; sb = sb->next) {
                nc++;
                uc += (uint64_t)sb->slots.used * sb->block_bytes;
                if (sb->owner != h->id || sb->sclass != (int32_t)c)
                    return AS_ECHECK;
                if (sb->bin != b || bin_of(sb) != b) return AS_ECHECK;
                if (sb->next && sb->next->prev != sb) return AS_ECHECK;
                if (sb->slots.capacity != h->sb_bytes / sb->block_bytes)
                    return AS_ECHECK;
                if (as_slotmap_check(&sb->slots)) return AS_ECHECK;
                u += (uint64_t)sb->slots.used * sb->block_bytes;
                n++;
            }
        }
        if (nc != h->cls[c].n_superblocks || uc != h->cls[c].u_bytes)
            return AS_ECHECK;
        /* the partial tree: ordered, and exactly bins 1..AS_SB_BINS-2 */
        uint64_t np = 0;
        for (uint32_t b = 1; b <= AS_SB_BINS - 2; b++)
            for (as_superblock_t *sb = h->cls[c].bins[b]; sb; sb = sb->next)
                np++;
        const as_rb_tree_t *pt = &h->cls[c].partial.tree;
        if (as_rb_check(pt, partial_cmp) || pt->count != np) return AS_ECHECK;
        for (as_rb_node_t *pn = as_rb_first(pt); pn; pn = as_rb_next(pn)) {
            const as_superblock_t *sb = sb_of_pnode(pn);
            uint32_t m = sb->slots.used;
            for (int d = 0; d < 2; d++)
                if (pn->child[d] && sb_of_pnode(pn->child[d])->sub_min_used < m)
                    m = sb_of_pnode(pn->child[d])->sub_min_used;
            if (!is_partial(sb->bin) || sb->sclass != (int32_t)c ||
                sb->sub_min_used != m)
                return AS_ECHECK;
        }
    }
    n += n_empty;
    if (n != h->n_superblocks || n_empty != h->n_empty) return AS_ECHECK;
    if (h->a_bytes != n * h->sb_bytes || h->u_bytes != u) return AS_ECHECK;
    return AS_OK;
}

/* rbtree.c - intrusive red-black tree (see rbtree.h for the invariants).
 *
 * This file owns only the rebalancing logic: it never allocates, never calls
 * libc and never looks inside the caller's objects except through the
 * compare callbacks. The algorithms are the textbook ones (Cormen et al.,
 * ch. 13) written once for both directions: child[dir] and child[!dir] stand
 * for "left" and "right" so every case has one mirrored body. The colour
 * lives in bit 0 of the parent pointer (nodes are at least 2-byte aligned).
 */
#include "policies/blocks/rbtree.h"

#include "common/error.h"

#define RB_RED ((uintptr_t)1)

static inline int is_red(const as_rb_node_t *n)
{
    return n && (n->parent_color & RB_RED);
}

static inline void set_parent(as_rb_node_t *n, as_rb_node_t *p)
{
    n->parent_color = (uintptr_t)p | (n->parent_color & RB_RED);
}

static inline void set_red(as_rb_node_t *n)
{
    n->parent_color |= RB_RED;
}

static inline void set_black(as_rb_node_t *n)
{
    n->parent_color &= ~RB_RED;
}

/* Make `repl` take `old`'s place under old's parent (or as the root). */
static inline void change_child(as_rb_tree_t *t, as_rb_node_t *parent,
                                as_rb_node_t *old, as_rb_node_t *repl)
{
    if (!parent)
        t->root = repl;
    else if (parent->child[0] == old)
        parent->child[0] = repl;
    else
        parent->child[1] = repl;
}

/* Rotate x towards `dir`: its child[!dir] y takes x's place, x becomes
 * y->child[dir]. dir 0 is a left rotation. */
static void rotate(as_rb_tree_t *t, as_rb_node_t *x, int dir,
                   as_rb_augment_fn aug)
{
    as_rb_node_t *y = x->child[!dir];
    as_rb_node_t *p = as_rb_parent(x);
    x->child[!dir] = y->child[dir];
    if (y->child[dir]) set_parent(y->child[dir], x);
    set_parent(y, p);
    change_child(t, p, x, y);
    y->child[dir] = x;
    set_parent(x, y);
    if (aug) {
        aug(x); /* x is now below y */
        aug(y);
    }
}

static void propagate(as_rb_augment_fn aug, as_rb_node_t *n)
{
    if (!aug) return;
    for (; n; n = as_rb_parent(n))
        aug(n);
}

void as_rb_propagate(const as_rb_atree_t *t, as_rb_node_t *n)
{
    /* Only n's own contribution changed: an ancestor can change only if its
     * child on the path did. */
    for (; n && t->augment(n); n = as_rb_parent(n)) {
    }
}

static void link_node(as_rb_tree_t *t, as_rb_node_t *node, as_rb_node_t *parent,
                      int dir, as_rb_augment_fn aug)
{
    node->child[0] = node->child[1] = NULL;
    node->parent_color = (uintptr_t)parent | RB_RED;
    if (parent)
        parent->child[dir] = node;
    else
        t->root = node;
    t->count++;
    propagate(aug, node); /* values correct before any rotation */

    as_rb_node_t *z = node, *p;
    while ((p = as_rb_parent(z)) && is_red(p)) {
        as_rb_node_t *g = as_rb_parent(p); /* exists: a red node isn't root */
        int d = (p == g->child[1]);
        as_rb_node_t *u = g->child[!d];
        if (is_red(u)) {
            set_black(p);
            set_black(u);
            set_red(g);
            z = g;
            continue;
        }
        if (z == p->child[!d]) {
            rotate(t, p, d, aug);
            z = p;
            p = as_rb_parent(z);
        }
        set_black(p);
        set_red(g);
        rotate(t, g, !d, aug);
    }
    set_black(t->root);
}

void as_rb_link(as_rb_tree_t *t, as_rb_node_t *node, as_rb_node_t *parent,
                int dir)
{
    link_node(t, node, parent, dir, NULL);
}

void as_rb_alink(as_rb_atree_t *t, as_rb_node_t *node, as_rb_node_t *parent,
                 int dir)
{
    link_node(&t->tree, node, parent, dir, t->augment);
}

static as_rb_node_t *insert_node(as_rb_tree_t *t, as_rb_node_t *node,
                                 as_rb_cmp_fn cmp, as_rb_augment_fn aug)
{
    as_rb_node_t *parent = NULL, *cur = t->root;
    int dir = 0;
    while (cur) {
        int c = cmp(node, cur);
        if (c == 0) return cur;
        parent = cur;
        dir = c > 0;
        cur = cur->child[dir];
    }
    link_node(t, node, parent, dir, aug);
    return NULL;
}

as_rb_node_t *as_rb_insert(as_rb_tree_t *t, as_rb_node_t *node,
                           as_rb_cmp_fn cmp)
{
    return insert_node(t, node, cmp, NULL);
}

as_rb_node_t *as_rb_ainsert(as_rb_atree_t *t, as_rb_node_t *node,
                            as_rb_cmp_fn cmp)
{
    return insert_node(&t->tree, node, cmp, t->augment);
}

/* Restore the black height after a black node was removed above position x
 * (x may be NULL, so its parent xp is passed separately). */
static void erase_fixup(as_rb_tree_t *t, as_rb_node_t *x, as_rb_node_t *xp,
                        as_rb_augment_fn aug)
{
    while (x != t->root && !is_red(x)) {
        int d = (xp->child[0] == x) ? 0 : 1;
        as_rb_node_t *w = xp->child[!d]; /* non-NULL: black height >= 1 */
        if (is_red(w)) {
            set_black(w);
            set_red(xp);
            rotate(t, xp, d, aug);
            w = xp->child[!d];
        }
        if (!is_red(w->child[0]) && !is_red(w->child[1])) {
            set_red(w);
            x = xp;
            xp = as_rb_parent(x);
        } else {
            if (!is_red(w->child[!d])) {
                set_black(w->child[d]);
                set_red(w);
                rotate(t, w, !d, aug);
                w = xp->child[!d];
            }
            if (is_red(xp))
                set_red(w);
            else
                set_black(w);
            set_black(xp);
            set_black(w->child[!d]);
            rotate(t, xp, d, aug);
            x = t->root;
            break;
        }
    }
    if (x) set_black(x);
}

static void erase_node(as_rb_tree_t *t, as_rb_node_t *z, as_rb_augment_fn aug)
{
    as_rb_node_t *y = z;
    if (z->child[0] && z->child[1]) {
        y = z->child[1];
        while (y->child[0])
            y = y->child[0];
    }
    as_rb_node_t *x = y->child[0] ? y->child[0] : y->child[1];
    as_rb_node_t *xp = as_rb_parent(y);
    int y_red = is_red(y);

    if (x) set_parent(x, xp);
    change_child(t, xp, y, x);
    if (y != z) {
        /* y (z's successor) takes z's place, links and colour. */
        if (xp == z) xp = y;
        y->child[0] = z->child[0];
        y->child[1] = z->child[1];
        if (y->child[0]) set_parent(y->child[0], y);
        if (y->child[1]) set_parent(y->child[1], y);
        y->parent_color = z->parent_color;
        change_child(t, as_rb_parent(z), z, y);
    }
    t->count--;
    propagate(aug, xp); /* every node whose subtree lost a node */
    if (!y_red) erase_fixup(t, x, xp, aug);
}

void as_rb_erase(as_rb_tree_t *t, as_rb_node_t *z)
{
    erase_node(t, z, NULL);
}

void as_rb_aerase(as_rb_atree_t *t, as_rb_node_t *z)
{
    erase_node(&t->tree, z, t->augment);
}

void as_rb_replace(as_rb_tree_t *t, as_rb_node_t *old, as_rb_node_t *repl)
{
    *repl = *old;
    change_child(t, as_rb_parent(old), old, repl);
    if (repl->child[0]) set_parent(repl->child[0], repl);
    if (repl->child[1]) set_parent(repl->child[1], repl);
}

static as_rb_node_t *extreme(as_rb_node_t *n, int dir)
{
    if (!n) return NULL;
    while (n->child[dir])
        n = n->child[dir];
    return n;
}

as_rb_node_t *as_rb_first(const as_rb_tree_t *t)
{
    return extreme(t->root, 0);
}

as_rb_node_t *as_rb_last(const as_rb_tree_t *t)
{
    return extreme(t->root, 1);
}

static as_rb_node_t *step(const as_rb_node_t *n, int dir)
{
    if (n->child[dir]) return extreme(n->child[dir], !dir);
    as_rb_node_t *p = as_rb_parent(n);
    while (p && n == p->child[dir]) {
        n = p;
        p = as_rb_parent(p);
    }
    return p;
}

as_rb_node_t *as_rb_next(const as_rb_node_t *n)
{
    return step(n, 1);
}

as_rb_node_t *as_rb_prev(const as_rb_node_t *n)
{
    return step(n, 0);
}

as_rb_node_t *as_rb_find(const as_rb_tree_t *t, const void *key,
                         as_rb_key_fn kcmp)
{
    as_rb_node_t *cur = t->root;
    while (cur) {
        int c = kcmp(key, cur);
        if (c == 0) return cur;
        cur = cur->child[c > 0];
    }
    return NULL;
}

as_rb_node_t *as_rb_lower_bound(const as_rb_tree_t *t, const void *key,
                                as_rb_key_fn kcmp)
{
    as_rb_node_t *cur = t->root, *best = NULL;
    while (cur) {
        if (kcmp(key, cur) <= 0) {
            best = cur;
            cur = cur->child[0];
        } else {
            cur = cur->child[1];
        }
    }
    return best;
}

as_rb_node_t *as_rb_floor(const as_rb_tree_t *t, const void *key,
                          as_rb_key_fn kcmp)
{
    as_rb_node_t *cur = t->root, *best = NULL;
    while (cur) {
        if (kcmp(key, cur) >= 0) {
            best = cur;
            cur = cur->child[1];
        } else {
            cur = cur->child[0];
        }
    }
    return best;
}

/* The first (d = 0: leftmost) or last (d = 1: rightmost) node of the subtree
 * at n with node_ok, or NULL. */
static as_rb_node_t *end_match(as_rb_node_t *n, int d, as_rb_pred_fn node_ok,
                               as_rb_pred_fn subtree_ok, const void *arg)
{
    while (n && subtree_ok(n, arg)) {
        if (n->child[d] && subtree_ok(n->child[d], arg)) {
            n = n->child[d];
            continue;
        }
        if (node_ok(n, arg)) return n;
        n = n->child[!d];
    }
    return NULL;
}

/* The first node after n (d = 0) or before n (d = 1) in order with node_ok,
 * or NULL. */
static as_rb_node_t *step_match(const as_rb_node_t *n, int d,
                                as_rb_pred_fn node_ok, as_rb_pred_fn subtree_ok,
                                const void *arg)
{
    as_rb_node_t *r = end_match(n->child[!d], d, node_ok, subtree_ok, arg);
    if (r) return r;
    for (as_rb_node_t *p = as_rb_parent(n); p; n = p, p = as_rb_parent(p)) {
        if (n != p->child[d]) continue;
        if (node_ok(p, arg)) return p;
        r = end_match(p->child[!d], d, node_ok, subtree_ok, arg);
        if (r) return r;
    }
    return NULL;
}

as_rb_node_t *as_rb_first_match(const as_rb_tree_t *t, as_rb_pred_fn node_ok,
                                as_rb_pred_fn subtree_ok, const void *arg)
{
    return end_match(t->root, 0, node_ok, subtree_ok, arg);
}

as_rb_node_t *as_rb_next_match(const as_rb_node_t *n, as_rb_pred_fn node_ok,
                               as_rb_pred_fn subtree_ok, const void *arg)
{
    return step_match(n, 0, node_ok, subtree_ok, arg);
}

as_rb_node_t *as_rb_prev_match(const as_rb_node_t *n, as_rb_pred_fn node_ok,
                               as_rb_pred_fn subtree_ok, const void *arg)
{
    return step_match(n, 1, node_ok, subtree_ok, arg);
}

/* @return the black height of the subtree at n, or -1 on a violation;
 * counts nodes into *count. */
static int check_node(const as_rb_node_t *n, const as_rb_node_t *parent,
                      size_t *count)
{
    if (!n) return 1;
    if (as_rb_parent(n) != parent) return -1;
    if (is_red(n) && (is_red(n->child[0]) || is_red(n->child[1]))) return -1;
    (*count)++;
    int l = check_node(n->child[0], n, count);
    int r = check_node(n->child[1], n, count);
    if (l < 0 || r < 0 || l != r) return -1;
    return l + !is_red(n);
}

int as_rb_check(const as_rb_tree_t *t, as_rb_cmp_fn cmp)
{
    if (is_red(t->root)) return AS_ECHECK;
    size_t count = 0;
    if (check_node(t->root, NULL, &count) < 0) return AS_ECHECK;
    if (count != t->count) return AS_ECHECK;
    const as_rb_node_t *prev = NULL;
    size_t seen = 0;
    for (const as_rb_node_t *n = as_rb_first(t); n; n = as_rb_next(n)) {
        if (prev && cmp(prev, n) >= 0) return AS_ECHECK;
        prev = n;
        if (++seen > count) return AS_ECHECK;
    }
    return seen == count ? 0 : AS_ECHECK;
}

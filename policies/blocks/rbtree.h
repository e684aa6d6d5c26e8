/* rbtree.h - an intrusive red-black tree ordered by the caller's compare.
 *
 * Type map
 *   as_rb_node_t  links embedded in the caller's struct (no allocation here)
 *   as_rb_tree_t  root and node count
 *   as_rb_cmp_fn  order of two nodes; as_rb_key_fn order of a key vs a node
 *
 * The tree never allocates: nodes live inside the caller's objects (which a
 * policy takes from its metadata arena, e.g. through as_pool_t). Recover the
 * object from a node with AS_RB_ENTRY(node, type, member).
 *
 * Invariants (checked by as_rb_check):
 *   in-order traversal is strictly increasing under cmp (no equal keys);
 *   the root is black; a red node has no red child;
 *   every path from a node to a NULL leaf has the same number of black nodes;
 *   parent(child[d](n)) == n; count == number of nodes.
 * Hence height <= 2 log2(count + 1): every operation below is O(log n).
 *
 * Two ways to insert: as_rb_insert() with a compare callback, or, on hot
 * paths, descend yourself and call as_rb_link() with the parent and side you
 * found (no indirect calls; Linux's rbtree works the same way).
 *
 * Augmented trees (as_rb_atree_t, changed through as_rb_a*): a value per
 * node summarises its subtree (for example the largest free range in it).
 * The tree calls `augment(n)` to recompute n's value from n and its
 * children whenever a link, erase or rotation changes n's subtree; when the
 * caller changes a node's own contribution in place (without changing its
 * order) it calls as_rb_propagate(). as_rb_first_match()/as_rb_next_match()
 * then find the first node, in order, that satisfies a predicate in
 * O(log n), skipping every subtree whose summary rules it out.
 */
#ifndef AS_POLICIES_BLOCKS_RBTREE_H
#define AS_POLICIES_BLOCKS_RBTREE_H

#include <stddef.h>
#include <stdint.h>

typedef struct as_rb_node {
    struct as_rb_node *child[2]; /* [0] smaller, [1] larger; NULL = leaf */
    uintptr_t parent_color;      /* parent pointer | 1 when red */
} as_rb_node_t;

/* Recompute n's augmented value from n and its children (either may be
 * NULL); children's values are current when it is called.
 * @return 1 when the value changed, 0 when it is what it was. */
typedef int (*as_rb_augment_fn)(as_rb_node_t *n);

typedef struct {
    as_rb_node_t *root; /* NULL when empty */
    size_t count;       /* nodes in the tree */
} as_rb_tree_t;

/* An augmented tree: navigate and search `tree` as usual, but change it
 * only through the as_rb_a* functions, which keep `augment` current. */
typedef struct {
    as_rb_tree_t tree;
    as_rb_augment_fn augment;
} as_rb_atree_t;

/* <0, 0, >0 as a orders before, equal to, after b. */
typedef int (*as_rb_cmp_fn)(const as_rb_node_t *a, const as_rb_node_t *b);
/* <0, 0, >0 as the key orders before, equal to, after node n. */
typedef int (*as_rb_key_fn)(const void *key, const as_rb_node_t *n);

#define AS_RB_ENTRY(node, type, member)                                        \
    ((type *)(void *)((char *)(node)-offsetof(type, member)))

static inline as_rb_node_t *as_rb_parent(const as_rb_node_t *n)
{
    return (as_rb_node_t *)(n->parent_color & ~(uintptr_t)1);
}

static inline void as_rb_init(as_rb_tree_t *t)
{
    t->root = NULL;
    t->count = 0;
}

/* as_rb_ainit: an empty augmented tree that keeps `fn` current. */
static inline void as_rb_ainit(as_rb_atree_t *t, as_rb_augment_fn fn)
{
    as_rb_init(&t->tree);
    t->augment = fn;
}

/* The augmented counterparts of as_rb_link, as_rb_insert and as_rb_erase
 * (same contracts), which also keep every node's value current. */
void as_rb_alink(as_rb_atree_t *t, as_rb_node_t *node, as_rb_node_t *parent,
                 int dir);
as_rb_node_t *as_rb_ainsert(as_rb_atree_t *t, as_rb_node_t *node,
                            as_rb_cmp_fn cmp);
void as_rb_aerase(as_rb_atree_t *t, as_rb_node_t *node);

/* as_rb_propagate: recompute the augmented value of n and of its ancestors
 * (after the caller changed n's own contribution in place), stopping at the
 * first node whose value did not change. O(log n), often O(1). Call it
 * right after each such change, before any insert or erase: the stop is
 * right only when every other value in the tree is current. */
void as_rb_propagate(const as_rb_atree_t *t, as_rb_node_t *n);

/* A predicate over a node (node_ok: n itself matches) or a subtree
 * (subtree_ok: some node of the subtree rooted at n matches, read from the
 * augmented value; it must be exact, never a mere "maybe"). */
typedef int (*as_rb_pred_fn)(const as_rb_node_t *n, const void *arg);

/* as_rb_first_match: the first node in order with node_ok, or NULL.
 * as_rb_next_match: the first node after n with node_ok, or NULL.
 * Both O(log n) on an augmented tree whose subtree_ok is exact. */
as_rb_node_t *as_rb_first_match(const as_rb_tree_t *t, as_rb_pred_fn node_ok,
                                as_rb_pred_fn subtree_ok, const void *arg);
as_rb_node_t *as_rb_next_match(const as_rb_node_t *n, as_rb_pred_fn node_ok,
                               as_rb_pred_fn subtree_ok, const void *arg);
/* as_rb_prev_match: the last node before n with node_ok, or NULL: the mirror
 * of as_rb_next_match (the next lower-address fit, where next_match gives
 * the next higher one; the simulated OS's top-down placement walks down
 * from a floor with it); O(log n) under the same condition. */
as_rb_node_t *as_rb_prev_match(const as_rb_node_t *n, as_rb_pred_fn node_ok,
                               as_rb_pred_fn subtree_ok, const void *arg);

/* as_rb_link: attach `node` as child[dir] of `parent` (parent NULL: as the
 * root of an empty tree), where that link is NULL and the position keeps the
 * order, then rebalance. */
void as_rb_link(as_rb_tree_t *t, as_rb_node_t *node, as_rb_node_t *parent,
                int dir);

/* as_rb_insert: insert `node` in order.
 * @return NULL when inserted, or the node already in the tree that compares
 * equal (then `node` is not inserted). */
as_rb_node_t *as_rb_insert(as_rb_tree_t *t, as_rb_node_t *node,
                           as_rb_cmp_fn cmp);

/* as_rb_erase: remove `node`, which must be in t. */
void as_rb_erase(as_rb_tree_t *t, as_rb_node_t *node);

/* as_rb_replace: put `repl` (not in any tree) where `old` is; the caller
 * guarantees it orders the same (and, augmented, has the same value). */
void as_rb_replace(as_rb_tree_t *t, as_rb_node_t *old, as_rb_node_t *repl);

/* In-order navigation. @return NULL past either end / on an empty tree. */
as_rb_node_t *as_rb_first(const as_rb_tree_t *t);
as_rb_node_t *as_rb_last(const as_rb_tree_t *t);
as_rb_node_t *as_rb_next(const as_rb_node_t *n);
as_rb_node_t *as_rb_prev(const as_rb_node_t *n);

/* Searches by key. find: the equal node; lower_bound: the first node >= key;
 * floor: the last node <= key. @return NULL when there is none. */
as_rb_node_t *as_rb_find(const as_rb_tree_t *t, const void *key,
                         as_rb_key_fn kcmp);
as_rb_node_t *as_rb_lower_bound(const as_rb_tree_t *t, const void *key,
                                as_rb_key_fn kcmp);
as_rb_node_t *as_rb_floor(const as_rb_tree_t *t, const void *key,
                          as_rb_key_fn kcmp);

/* as_rb_check: expensive tier: verify every invariant above, O(n).
 * @return 0, or AS_ECHECK naming nothing (use it in tests and asserts). */
int as_rb_check(const as_rb_tree_t *t, as_rb_cmp_fn cmp);

#endif /* AS_POLICIES_BLOCKS_RBTREE_H */

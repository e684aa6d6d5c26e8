/* check.c - the checking layer (see check.h for what it verifies).
 *
 * This file owns the wrapped instance: the inner policy's state, a page
 * source that forwards to the real one while it watches every call, and two
 * ordered interval maps, the live blocks and the reserved ranges, each a
 * red-black tree of pool-allocated nodes keyed by start address. Overlap and
 * containment are decided by the neighbours found with a floor search, so
 * every check is O(log n). Like a policy it never calls libc allocation or
 * stdio: its memory comes from an as_mem_t and its messages are formatted by
 * hand into a fixed buffer. It must never change what the inner policy sees
 * except by refusing a call that breaks the rules.
 */
#include "policies/layers/check.h"

#include "common/msg.h"
#include "common/util.h"
#include "policies/blocks/objpool.h"
#include "policies/blocks/rbtree.h"

/* A half-open interval [start, end) in a tree keyed by start. */
typedef struct {
    as_rb_node_t node; /* in live or reserved, by start */
    uintptr_t start;   /* first byte */
    uintptr_t end;     /* one past the last byte; end > start */
} range_t;

struct as_check {
    const as_policy_ops_t *inner; /* the checked policy */
    void *inner_state;            /* NULL once closed */
    as_policy_config_t cfg;       /* cfg given to the inner create, ps below */
    const as_pagesource_t *os;    /* the real page source */
    as_pagesource_t ps;           /* what the inner policy sees */
    as_mem_t mem;                 /* the layer's own metadata */
    as_pool_t ranges;             /* range_t nodes for both trees */
    as_rb_tree_t live;            /* live blocks; pairwise disjoint */
    as_rb_tree_t reserved;        /* reservations; disjoint, not adjacent */
    uint64_t live_bytes;          /* sum of live block sizes */
    uint64_t reserved_bytes;      /* sum of reserved range sizes */
    uint64_t inner_meta_bytes;    /* metadata the inner policy holds */
    uint64_t violations;          /* found so far */
    uint64_t reported;            /* violations already returned as ECHECK */
    uint64_t every;               /* run the inner check hook every this
                                     many operations; 0 = only at close */
    uint64_t ops;                 /* alloc/free/realloc calls so far */
    uint64_t ops_at_hook;         /* `ops` when the hook last ran */
    uint64_t live_factor;         /* and at least this many per live block */
    uint64_t hook_runs;           /* times the inner check hook ran */
    char msg[320];                /* last violation */
};

/* ---- messages (no stdio: common/msg.h) ---- */

/* 1 when key names a count (printed in decimal), 0 for an address (hex). */
static int is_count_key(const char *k)
{
    static const char *const suffix[] = {"bytes", "size", "align", "error",
                                         "ops"};
    size_t n = 0;
    while (k[n])
        n++;
    for (size_t i = 0; i < sizeof suffix / sizeof suffix[0]; i++) {
        size_t m = 0;
        while (suffix[i][m])
            m++;
        if (m <= n && as_str_eq(k + n - m, suffix[i])) return 1;
    }
    return 0;
}

/* Record a violation: "check: <policy>: <what> k1=v1 k2=v2 k3=v3" (keys
 * NULL from the first unused one on). */
static void violation(as_check_t *c, const char *what, const char *k1,
                      uint64_t v1, const char *k2, uint64_t v2, const char *k3,
                      uint64_t v3)
{
    as_msg_t m;
    as_msg_init(&m, c->msg, sizeof c->msg);
    as_msg_str(&m, "check: ");
    as_msg_str(&m, c->inner ? c->inner->name : "?");
    as_msg_str(&m, ": ");
    as_msg_str(&m, what);
    const char *k[3] = {k1, k2, k3};
    uint64_t v[3] = {v1, v2, v3};
    for (int i = 0; i < 3; i++) {
        if (!k[i]) break;
        as_msg_str(&m, " ");
        as_msg_str(&m, k[i]);
        as_msg_str(&m, "=");
        as_msg_u64(&m, v[i], !is_count_key(k[i]));
    }
    c->violations++;
}

/* AS_ECHECK when a violation happened since the last report, else rc. */
static int report(as_check_t *c, int rc)
{
    if (c->violations != c->reported) {
        c->reported = c->violations;
        return AS_ECHECK;
    }
    return rc;
}

/* ---- interval maps ---- */

static int range_key(const void *key, const as_rb_node_t *n)
{
    uintptr_t a = *(const uintptr_t *)key;
    uintptr_t s = AS_RB_ENTRY(n, range_t, node)->start;
    return a < s ? -1 : a > s;
}

static int range_cmp(const as_rb_node_t *a, const as_rb_node_t *b)
{
    return range_key(&AS_RB_ENTRY(a, range_t, node)->start, b);
}

static inline range_t *range_of(as_rb_node_t *n)
{
    return n ? AS_RB_ENTRY(n, range_t, node) : NULL;
}

/* The range with the greatest start <= a (inline descent: this is on every
 * call's path, so no compare callback). */
static range_t *floor_range(const as_rb_tree_t *t, uintptr_t a)
{
    as_rb_node_t *cur = t->root, *best = NULL;
    while (cur) {
        if (range_of(cur)->start <= a) {
            best = cur;
            cur = cur->child[1];
        } else {
            cur = cur->child[0];
        }
    }
    return range_of(best);
}

/* Insert r (its start not yet in t). */
static void range_insert(as_rb_tree_t *t, range_t *r)
{
    as_rb_node_t *parent = NULL, *cur = t->root;
    int dir = 0;
    while (cur) {
        dir = range_of(cur)->start < r->start;
        parent = cur;
        cur = cur->child[dir];
    }
    as_rb_link(t, &r->node, parent, dir);
}

static range_t *next_range(range_t *r)
{
    as_rb_node_t *n = as_rb_next(&r->node);
    return n ? AS_RB_ENTRY(n, range_t, node) : NULL;
}

/* The first range of t that overlaps [a, b), or NULL. */
static range_t *overlapping(const as_rb_tree_t *t, uintptr_t a, uintptr_t b)
{
    range_t *r = floor_range(t, a);
    if (r && r->end > a) return r;
    as_rb_node_t *n = r ? as_rb_next(&r->node) : as_rb_first(t);
    if (!n) return NULL;
    r = AS_RB_ENTRY(n, range_t, node);
    return r->start < b ? r : NULL;
}

/* 1 when [a, b) lies inside one reserved range. */
static int is_reserved(const as_check_t *c, uintptr_t a, uintptr_t b)
{
    range_t *r = floor_range(&c->reserved, a);
    return r && r->end >= b;
}

static range_t *new_range(as_check_t *c, uintptr_t a, uintptr_t b)
{
    range_t *r = as_pool_alloc(&c->ranges);
    if (r) {
        r->start = a;
        r->end = b;
    }
    return r;
}

/* Add [a, b) (disjoint from every range) to reserved, merging neighbours. */
static int reserved_add(as_check_t *c, uintptr_t a, uintptr_t b)
{
    range_t *prev = floor_range(&c->reserved, a);
    range_t *next = prev ? next_range(prev) : NULL;
    if (!prev && c->reserved.root)
        next = AS_RB_ENTRY(as_rb_first(&c->reserved), range_t, node);
    c->reserved_bytes += b - a;
    if (prev && prev->end == a) {
        prev->end = b;
        if (next && next->start == b) {
            prev->end = next->end;
            as_rb_erase(&c->reserved, &next->node);
            as_pool_free(&c->ranges, next);
        }
        return 0;
    }
    if (next && next->start == b) {
        next->start = a; /* still between prev and its successor */
        return 0;
    }
    range_t *r = new_range(c, a, b);
    if (!r) {
        c->reserved_bytes -= b - a;
        return AS_ENOMEM;
    }
    range_insert(&c->reserved, r);
    return 0;
}

/* Remove [a, b), which lies inside one reserved range. */
static int reserved_remove(as_check_t *c, uintptr_t a, uintptr_t b)
{
    range_t *r = floor_range(&c->reserved, a);
    if (r->start < a && b < r->end) {
        range_t *tail = new_range(c, b, r->end);
        if (!tail) return AS_ENOMEM;
        r->end = a;
        range_insert(&c->reserved, tail);
    } else if (r->start < a) {
        r->end = a;
    } else if (b < r->end) {
        r->start = b;
    } else {
        as_rb_erase(&c->reserved, &r->node);
        as_pool_free(&c->ranges, r);
    }
    c->reserved_bytes -= b - a;
    return 0;
}

/* ---- the wrapped page source ---- */

static void *meta_alloc(void *st, size_t bytes)
{
    as_check_t *c = st;
    void *p = as_mem_alloc(&c->os->meta, bytes);
    if (p) c->inner_meta_bytes += bytes;
    return p;
}

static void meta_free(void *st, void *p, size_t bytes)
{
    as_check_t *c = st;
    if (!p) return;
    if (bytes > c->inner_meta_bytes)
        violation(c, "metadata free of more bytes than held", "bytes", bytes,
                  "held_bytes", c->inner_meta_bytes, NULL, 0);
    else
        c->inner_meta_bytes -= bytes;
    as_mem_free(&c->os->meta, p, bytes);
}

static int ps_reserve(void *st, uintptr_t hint, size_t bytes, size_t align,
                      uintptr_t *addr)
{
    as_check_t *c = st;
    if (bytes == 0 || bytes % c->ps.page_bytes || !as_is_pow2(align) ||
        align < c->ps.page_bytes) {
        violation(c, "reserve with bad size or alignment", "bytes", bytes,
                  "align", align, NULL, 0);
        return AS_ECHECK;
    }
    int rc = as_ps_reserve(c->os, hint, bytes, align, addr);
    if (rc) return rc;
    uintptr_t a = *addr, b = a + bytes;
    if (a % align || b < a || overlapping(&c->reserved, a, b)) {
        violation(c, "page source returned a bad or overlapping reservation",
                  "addr", a, "bytes", bytes, "align", align);
        return AS_ECHECK;
    }
    if (reserved_add(c, a, b)) {
        as_ps_unreserve(c->os, a, bytes);
        return AS_ENOSPACE;
    }
    return 0;
}

/* Common rules of release/unreserve/hint: whole pages, reserved, no live
 * block inside. @return 1 when allowed. */
static int range_ok(as_check_t *c, const char *what, uintptr_t a, size_t bytes,
                    int live_ok)
{
    uintptr_t b = a + bytes;
    if (bytes == 0 || a % c->ps.page_bytes || bytes % c->ps.page_bytes ||
        b < a) {
        violation(c, what, "addr", a, "bytes", bytes, NULL, 0);
        return 0;
    }
    if (!is_reserved(c, a, b)) {
        violation(c, what, "addr", a, "bytes", bytes, NULL, 0);
        return 0;
    }
    range_t *l = live_ok ? NULL : overlapping(&c->live, a, b);
    if (l) {
        violation(c, what, "addr", a, "live_block", l->start, "live_end",
                  l->end);
        return 0;
    }
    return 1;
}

static int ps_release(void *st, uintptr_t addr, size_t bytes)
{
    as_check_t *c = st;
    if (!range_ok(c, "release of unreserved memory or of a live block", addr,
                  bytes, 0))
        return AS_ECHECK;
    return as_ps_release(c->os, addr, bytes);
}

static int ps_unreserve(void *st, uintptr_t addr, size_t bytes)
{
    as_check_t *c = st;
    if (!range_ok(c, "unreserve of unreserved memory or of a live block", addr,
                  bytes, 0))
        return AS_ECHECK;
    int rc = as_ps_unreserve(c->os, addr, bytes);
    if (rc) return rc;
    if (reserved_remove(c, addr, addr + bytes)) {
        violation(c, "checking layer out of memory", "bytes", bytes, NULL, 0,
                  NULL, 0);
        return AS_ECHECK;
    }
    return 0;
}

static int ps_hint(void *st, uintptr_t addr, size_t bytes, int enable)
{
    as_check_t *c = st;
    if (!range_ok(c, "hugepage hint on unreserved memory", addr, bytes, 1))
        return AS_ECHECK;
    return as_ps_hugepage_hint(c->os, addr, bytes, enable);
}

static const as_pagesource_ops_t check_ps_ops = {
    .reserve = ps_reserve,
    .release = ps_release,
    .unreserve = ps_unreserve,
    .hugepage_hint = ps_hint,
};

/* ---- live blocks ---- */

/* Verify a block just handed out and record it. @return 0 or AS_ECHECK. */
static int add_block(as_check_t *c, const char *op, size_t size, size_t align,
                     const as_block_t *b)
{
    size_t eff = align ? align : as_policy_default_align(size);
    uintptr_t a = b->addr, e = a + b->bytes;
    if (b->bytes < size || b->bytes == 0) {
        violation(c, op, "short_block", a, "bytes", b->bytes, "size", size);
        return AS_ECHECK;
    }
    if (a % eff) {
        violation(c, op, "misaligned_block", a, "align", eff, NULL, 0);
        return AS_ECHECK;
    }
    if (e < a || !is_reserved(c, a, e)) {
        violation(c, op, "unreserved_block", a, "bytes", b->bytes, NULL, 0);
        return AS_ECHECK;
    }
    range_t *o = overlapping(&c->live, a, e);
    if (o) {
        violation(c, op, "block", a, "overlaps_live", o->start, "live_end",
                  o->end);
        return AS_ECHECK;
    }
    range_t *r = new_range(c, a, e);
    if (!r) {
        violation(c, "checking layer out of memory", "bytes", b->bytes, NULL, 0,
                  NULL, 0);
        return AS_ECHECK;
    }
    range_insert(&c->live, r);
    c->live_bytes += b->bytes;
    return 0;
}

static range_t *find_live(as_check_t *c, uintptr_t addr)
{
    range_t *r = floor_range(&c->live, addr);
    return r && r->start == addr ? r : NULL;
}

static void drop_live(as_check_t *c, range_t *r)
{
    c->live_bytes -= r->end - r->start;
    as_rb_erase(&c->live, &r->node);
    as_pool_free(&c->ranges, r);
}

/* ---- the inner policy's whole-heap check ---- */

/* Run the inner policy's check hook (if any) now; a failure is a violation
 * whose message carries the policy's reason. @return 0 or AS_ECHECK. */
static int run_hook(as_check_t *c)
{
    if (!c->inner_state || !c->inner->check) return 0;
    char why[200];
    as_msg_t m;
    as_msg_init(&m, why, sizeof why);
    c->hook_runs++;
    if (c->inner->check(c->inner_state, &m) == 0) return 0;
    char what[240];
    as_msg_t w;
    as_msg_init(&w, what, sizeof what);
    as_msg_str(&w, "invariant broken: ");
    as_msg_str(&w, why[0] ? why : "(no reason given)");
    violation(c, what, "after_ops", c->ops, NULL, 0, NULL, 0);
    return AS_ECHECK;
}

/* Count one operation; the hook runs when `every` operations have passed
 * since its last run, and at least AS_CHECK_LIVE_FACTOR operations per live
 * block (default schedule; an explicit as_check_set_every is exact): its
 * O(heap) walk then costs O(1) amortized per operation however large the
 * heap grows. */
static void count_op(as_check_t *c)
{
    c->ops++;
    if (!c->every) return;
    uint64_t since = c->ops - c->ops_at_hook;
    if (since < c->every || since < c->live_factor * c->live.count) return;
    c->ops_at_hook = c->ops;
    run_hook(c);
}

/* ---- the wrapped policy ---- */

static int c_create(const as_policy_config_t *cfg, void **state)
{
    (void)cfg;
    (void)state;
    return AS_EUNSUPPORTED;
}

static int c_alloc(void *st, const as_ctx_t *ctx, size_t size, size_t align,
                   as_block_t *out)
{
    as_check_t *c = st;
    if (!c->inner_state) return AS_EINVAL;
    int rc = c->inner->alloc(c->inner_state, ctx, size, align, out);
    if (rc == 0) rc = add_block(c, "alloc", size, align, out);
    count_op(c);
    return report(c, rc);
}

/* A batch is checked as the singles it stands for (policy.h rule 9): each
 * block as one alloc, one operation each; the first bad block ends the
 * batch there (*got: the blocks before it) with AS_ECHECK. */
static int c_alloc_batch(void *st, const as_ctx_t *ctx, size_t size,
                         size_t align, unsigned n, as_block_t *out,
                         unsigned *got)
{
    as_check_t *c = st;
    *got = 0;
    if (!c->inner_state) return AS_EINVAL;
    unsigned k = 0;
    int rc = as_policy_alloc_batch(c->inner, c->inner_state, ctx, size, align,
                                   n, out, &k);
    for (unsigned i = 0; i < k; i++) {
        int bad = add_block(c, "alloc_batch", size, align, &out[i]);
        count_op(c);
        if (bad) {
            *got = i;
            return report(c, bad);
        }
    }
    *got = k;
    if (rc != 0) count_op(c); /* the call that failed is an operation too */
    return report(c, rc);
}

static int c_free(void *st, const as_ctx_t *ctx, uintptr_t addr,
                  size_t size_hint)
{
    as_check_t *c = st;
    if (!c->inner_state) return AS_EINVAL;
    range_t *r = find_live(c, addr);
    if (!r) {
        violation(c,
                  "free of an address that is not a live block (double "
                  "free or unknown)",
                  "addr", addr, NULL, 0, NULL, 0);
        return report(c, AS_ECHECK);
    }
    drop_live(c, r); /* first: the policy may unreserve the block's pages */
    int rc = c->inner->free(c->inner_state, ctx, addr, size_hint);
    if (rc)
        violation(c, "policy refused the free of a live block", "addr", addr,
                  "error", (uint64_t)-rc, NULL, 0);
    count_op(c);
    return report(c, rc);
}

/* Blocks a batch free checks at a time (their ends kept on the stack). */
#define FREE_RUN 64

/* A batch free is checked as the singles it stands for (policy.h rule 9):
 * each address must be a live block, dropped from the live set before the
 * inner policy frees it, one operation per block freed. The first address
 * that is not live (a double free inside the batch, or an unknown one) ends
 * the batch there with AS_ECHECK after the blocks before it went to the
 * inner batch; when the inner refuses a block, the ones after it (not
 * freed, by the contract) are live again. *done: the blocks freed. */
static int c_free_batch(void *st, const as_ctx_t *ctx, const uintptr_t *addrs,
                        unsigned n, unsigned *done)
{
    as_check_t *c = st;
    *done = 0;
    if (!c->inner_state) return AS_EINVAL;
    while (*done < n) {
        const uintptr_t *a = addrs + *done;
        uintptr_t end[FREE_RUN];
        unsigned m = n - *done < FREE_RUN ? n - *done : FREE_RUN, k = 0;
        for (range_t *r; k < m && (r = find_live(c, a[k])); k++) {
            end[k] = r->end;
            drop_live(c, r);
        }
        unsigned freed = 0;
        int rc = k ? as_policy_free_batch(c->inner, c->inner_state, ctx, a, k,
                                          &freed)
                   : AS_OK;
        for (unsigned i = 0; i < freed; i++)
            count_op(c);
        *done += freed;
        if (rc != AS_OK) {
            for (unsigned i = freed + 1; i < k; i++) {
                range_t *r = new_range(c, a[i], end[i]);
                if (!r) break; /* out of memory: reported at close */
                range_insert(&c->live, r);
                c->live_bytes += end[i] - a[i];
            }
            violation(c, "policy refused the free of a live block", "addr",
                      a[freed], "error", (uint64_t)-rc, NULL, 0);
            count_op(c);
            return report(c, rc);
        }
        if (k < m) {
            violation(c,
                      "free of an address that is not a live block (double "
                      "free or unknown)",
                      "addr", a[k], NULL, 0, NULL, 0);
            return report(c, AS_ECHECK);
        }
    }
    return report(c, AS_OK);
}

static int c_realloc(void *st, const as_ctx_t *ctx, uintptr_t addr,
                     size_t old_size, size_t new_size, size_t align,
                     as_block_t *out)
{
    as_check_t *c = st;
    if (!c->inner_state) return AS_EINVAL;
    range_t *r = find_live(c, addr);
    if (!r) {
        violation(c, "realloc of an address that is not a live block", "addr",
                  addr, NULL, 0, NULL, 0);
        return report(c, AS_ECHECK);
    }
    uintptr_t s = r->start, e = r->end;
    drop_live(c, r);
    int rc = c->inner->realloc(c->inner_state, ctx, addr, old_size, new_size,
                               align, out);
    if (rc == 0) {
        rc = add_block(c, "realloc", new_size, align, out);
    } else {
        /* A failed realloc leaves the old block live and untouched. */
        as_block_t old = {s, e - s};
        add_block(c, "failed realloc (old block)", 0, 1, &old);
    }
    count_op(c);
    return report(c, rc);
}

static size_t c_usable_size(void *st, uintptr_t addr)
{
    as_check_t *c = st;
    if (!c->inner_state) return 0;
    size_t n = c->inner->usable_size(c->inner_state, addr);
    range_t *r = find_live(c, addr);
    if (r && n != r->end - r->start)
        violation(c, "usable_size differs from the block handed out", "addr",
                  addr, "bytes", n, "block_bytes", r->end - r->start);
    if (!r && n)
        violation(c, "usable_size of a non-live address", "addr", addr, "bytes",
                  n, NULL, 0);
    return n;
}

static uint64_t c_tick(void *st, const as_ctx_t *ctx)
{
    as_check_t *c = st;
    if (!c->inner_state) return 0;
    return c->inner->tick(c->inner_state, ctx);
}

static void c_stats(void *st, as_stat_fn fn, void *arg)
{
    as_check_t *c = st;
    if (c->inner_state) c->inner->stats(c->inner_state, fn, arg);
}

int as_check_close(void *st)
{
    as_check_t *c = st;
    if (c->inner_state) {
        run_hook(c); /* the final state, before destroy frees it */
        /* Destroy implicitly frees every live block (a program may exit
         * without freeing): its reservations may then go back. The nodes
         * stay in the pool until c_destroy. */
        as_rb_init(&c->live);
        c->live_bytes = 0;
        c->inner->destroy(c->inner_state);
        c->inner_state = NULL;
        if (c->reserved.root) {
            range_t *r = AS_RB_ENTRY(as_rb_first(&c->reserved), range_t, node);
            violation(c, "destroy left address space reserved", "addr",
                      r->start, "bytes", r->end - r->start, "total_bytes",
                      c->reserved_bytes);
        }
        if (c->inner_meta_bytes)
            violation(c, "destroy left metadata allocated", "bytes",
                      c->inner_meta_bytes, NULL, 0, NULL, 0);
    }
    return report(c, 0);
}

/* The layer's own check hook: the inner policy's, then the layer's. */
static int c_check(const void *st, as_msg_t *why)
{
    const as_check_t *c = st;
    if (!c->inner_state) return 0;
    int rc = c->inner->check(c->inner_state, why);
    if (rc) return rc;
    if (as_check_verify(c))
        return as_msg_fail(why, "checking layer: interval maps inconsistent",
                           NULL, 0);
    return 0;
}

static void c_destroy(void *st)
{
    as_check_t *c = st;
    if (!c) return;
    as_check_close(c);
    as_pool_fini(&c->ranges);
    as_mem_t mem = c->mem;
    as_mem_free(&mem, c, sizeof *c);
}

int as_check_wrap(const as_policy_ops_t *inner, const as_policy_config_t *cfg,
                  const as_mem_t *check_mem, as_policy_ops_t *out_ops,
                  void **out_state)
{
    if (!inner || !cfg || !cfg->ps || !out_ops || !out_state) return AS_EINVAL;
    const as_mem_t *mem = check_mem ? check_mem : &cfg->ps->meta;
    as_check_t *c = as_mem_alloc(mem, sizeof *c);
    if (!c) return AS_ENOMEM;
    c->inner = inner;
    c->os = cfg->ps;
    c->mem = *mem;
    c->ps = *cfg->ps;
    c->ps.ops = &check_ps_ops;
    c->ps.state = c;
    c->ps.meta.alloc = meta_alloc;
    c->ps.meta.free = meta_free;
    c->ps.meta.state = c;
    c->cfg = *cfg;
    c->cfg.ps = &c->ps;
    as_pool_init(&c->ranges, mem, sizeof(range_t));
    as_rb_init(&c->live);
    as_rb_init(&c->reserved);
    c->every = AS_CHECK_EVERY_DEFAULT;
    c->live_factor = AS_CHECK_LIVE_FACTOR;
    c->msg[0] = 0;

    int rc = inner->create(&c->cfg, &c->inner_state);
    c->cfg.why = NULL; /* the caller's message buffer is for create only */
    if (rc) {
        c->inner_state = NULL;
        as_pool_fini(&c->ranges);
        as_mem_free(mem, c, sizeof *c);
        return rc;
    }
    *out_ops = as_policy_layer_ops(inner, (as_policy_ops_t){
                                              .create = c_create,
                                              .alloc = c_alloc,
                                              .alloc_batch = c_alloc_batch,
                                              .free = c_free,
                                              .free_batch = c_free_batch,
                                              .realloc = c_realloc,
                                              .usable_size = c_usable_size,
                                              .tick = c_tick,
                                              .stats = c_stats,
                                              .destroy = c_destroy,
                                              .check = c_check,
                                          });
    *out_state = c;
    return 0;
}

const char *as_check_last_error(const void *st)
{
    return ((const as_check_t *)st)->msg;
}

uint64_t as_check_violations(const void *st)
{
    return ((const as_check_t *)st)->violations;
}

uint64_t as_check_live_blocks(const void *st)
{
    return ((const as_check_t *)st)->live.count;
}

uint64_t as_check_reserved_bytes(const void *st)
{
    return ((const as_check_t *)st)->reserved_bytes;
}

void *as_check_inner_state(const void *st)
{
    return ((const as_check_t *)st)->inner_state;
}

int as_check_verify(const void *st)
{
    const as_check_t *c = st;
    if (as_rb_check(&c->live, range_cmp) ||
        as_rb_check(&c->reserved, range_cmp))
        return AS_ECHECK;
    uint64_t sum = 0;
    uintptr_t prev_end = 0;
    for (as_rb_node_t *n = as_rb_first(&c->reserved); n; n = as_rb_next(n)) {
        range_t *r = AS_RB_ENTRY(n, range_t, node);
        if (r->end <= r->start || (prev_end && r->start <= prev_end))
            return AS_ECHECK; /* empty, overlapping or adjacent */
        prev_end = r->end;
        sum += r->end - r->start;
    }
    if (sum != c->reserved_bytes) return AS_ECHECK;
    sum = 0;
    prev_end = 0;
    for (as_rb_node_t *n = as_rb_first(&c->live); n; n = as_rb_next(n)) {
        range_t *r = AS_RB_ENTRY(n, range_t, node);
        if (r->end <= r->start || r->start < prev_end) return AS_ECHECK;
        if (!is_reserved(c, r->start, r->end)) return AS_ECHECK;
        prev_end = r->end;
        sum += r->end - r->start;
    }
    if (sum != c->live_bytes) return AS_ECHECK;
    return as_pool_check(&c->ranges);
}

void as_check_set_every(void *st, uint64_t every)
{
    as_check_t *c = st;
    c->every = every;
    c->live_factor = 0; /* an explicit period is exact */
    c->ops_at_hook = c->ops;
}

void as_check_set_period(void *st, uint64_t every)
{
    as_check_t *c = st;
    c->every = every;
    c->live_factor = AS_CHECK_LIVE_FACTOR;
}

int as_check_run(void *st)
{
    as_check_t *c = st;
    run_hook(c);
    return report(c, 0);
}

uint64_t as_check_hook_runs(const void *st)
{
    return ((const as_check_t *)st)->hook_runs;
}

const as_param_spec_t as_check_params[AS_CHECK_N_PARAMS] = {
    {"every", AS_PARAM_U64, AS_CHECK_EVERY_DEFAULT_STR, 0, 1e15, NULL,
     "run the policy's whole-heap check hook every N allocs, frees and "
     "reallocs (0 = only before destroy)"},
};

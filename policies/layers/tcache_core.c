/* tcache_core.c - the thread cache's rules (see tcache_core.h).
 *
 * Owns the arithmetic on the counts a mechanism keeps in an
 * as_tcache_thread_t and an as_tcache_xfer_t: which class a request is in,
 * batch sizes, the slow start of max[c], when a free overflows and what it
 * gives back, the thread byte limit and its halving, the transfer cache's
 * bound, and the counters; and the arrays that hold a list's or the
 * transfer cache's blocks (grown from the caller's as_mem_t) with the
 * moves that keep their order. It never touches a block and takes no
 * lock; the preload build (malloc/tcache.c) and the simulator's layer
 * (policies/layers/tcache.c) both call it, so the two cannot drift
 * apart.
 */
#include "policies/layers/tcache_core.h"

#include "common/error.h"

unsigned as_tcache_batch(unsigned c)
{
    unsigned n = 8192u / (c * AS_TCACHE_GRANULE_BYTES);
    return n < 2 ? 2 : n > AS_TCACHE_BATCH_MAX ? AS_TCACHE_BATCH_MAX : n;
}

void as_tcache_thread_init(as_tcache_thread_t *t)
{
    *t = (as_tcache_thread_t){0};
    for (unsigned c = 1; c <= AS_TCACHE_CLASSES; c++)
        t->max[c] = as_tcache_batch(c);
}

/* A list's longest length grows by batch(c) at every refill, up to
 * AS_TCACHE_MAX_COUNT (slow start, as TCMalloc's thread caches: a thread
 * that cycles through many blocks of one class ends up keeping them all,
 * one that uses few keeps few). */
static void grow(as_tcache_thread_t *t, unsigned c)
{
    uint32_t m = t->max[c] + as_tcache_batch(c);
    t->max[c] = m > AS_TCACHE_MAX_COUNT ? AS_TCACHE_MAX_COUNT : m;
}

void as_tcache_removed(as_tcache_thread_t *t, unsigned c, unsigned k)
{
    t->count[c] -= k;
    t->bytes -= (uint64_t)k * as_tcache_class_bytes(c);
    t->flushes += k > AS_TCACHE_FLUSH_MAX
                      ? (k + AS_TCACHE_FLUSH_MAX - 1) / AS_TCACHE_FLUSH_MAX
                      : 1;
}

void as_tcache_refilled(as_tcache_thread_t *t, unsigned c)
{
    t->refills++;
    grow(t, c);
}

as_tcache_free_plan_t as_tcache_free_plan(as_tcache_thread_t *t, unsigned c)
{
    as_tcache_free_plan_t p = {0, 0};
    uint64_t size = as_tcache_class_bytes(c), bytes = t->bytes;
    if (t->count[c] >= t->max[c]) {
        /* max[c] >= batch(c), so the list has a whole batch to give */
        /* ThreadCache::ListTooLong: a list that keeps overflowing past
         * batch(c) shrinks towards it, so a thread that only frees hands
         * its blocks on (to the transfer cache) instead of hoarding them */
        uint32_t b = as_tcache_batch(c);
        p.give_back = b;
        bytes -= p.give_back * size;
        if (t->max[c] > b && ++t->overages[c] > AS_TCACHE_MAX_OVERAGES) {
            /* never below batch(c), nor below what the list keeps (the
             * push after a halving may have left count[c] == max[c] + 1) */
            uint32_t m = t->max[c] - b, left = t->count[c] - b;
            m = m < left ? left : m;
            t->max[c] = m < b ? b : m;
            t->overages[c] = 0;
        }
    }
    p.halve = bytes + size > AS_TCACHE_THREAD_BYTES;
    return p;
}

unsigned as_tcache_trim(as_tcache_thread_t *t, unsigned c, unsigned keep_num,
                        unsigned keep_den)
{
    unsigned n = t->count[c] - t->count[c] * keep_num / keep_den;
    uint32_t m = t->max[c] * keep_num / keep_den, b = as_tcache_batch(c);
    t->max[c] = m < b ? b : m; /* and start slowly again */
    return n;
}

void as_tcache_trim_all(as_tcache_thread_t *t, unsigned keep_num,
                        unsigned keep_den, uint32_t *n)
{
    n[0] = 0;
    for (unsigned c = 1; c <= AS_TCACHE_CLASSES; c++)
        n[c] = as_tcache_trim(t, c, keep_num, keep_den);
}

int as_tcache_xfer_put(as_tcache_xfer_t *x, as_tcache_thread_t *t, unsigned c)
{
    unsigned k = as_tcache_batch(c);
    uint64_t bytes = (uint64_t)k * as_tcache_class_bytes(c);
    if (t->count[c] < k || x->bytes + bytes > AS_TCACHE_XFER_BYTES) return 0;
    x->chains[c]++;
    x->bytes += bytes;
    as_tcache_removed(t, c, k);
    return 1;
}

void as_tcache_xfer_missed(as_tcache_thread_t *t)
{
    t->xfer_misses++;
}

int as_tcache_xfer_take(as_tcache_xfer_t *x, as_tcache_thread_t *t, unsigned c)
{
    if (!x->chains[c]) {
        as_tcache_xfer_missed(t);
        return 0;
    }
    x->chains[c]--;
    x->bytes -= (uint64_t)as_tcache_batch(c) * as_tcache_class_bytes(c);
    t->xfer_hits++;
    return 1;
}

uint32_t as_tcache_class_limit(unsigned c)
{
    uint64_t n = AS_TCACHE_THREAD_BYTES / as_tcache_class_bytes(c);
    return n < AS_TCACHE_MAX_COUNT ? (uint32_t)n : AS_TCACHE_MAX_COUNT;
}

uint32_t as_tcache_xfer_limit(unsigned c)
{
    uint64_t chain = (uint64_t)as_tcache_batch(c) * as_tcache_class_bytes(c);
    return (uint32_t)(AS_TCACHE_XFER_BYTES / chain) * as_tcache_batch(c);
}

uint32_t as_tcache_grown_cap(uint32_t cap, uint32_t need, uint32_t limit)
{
    uint64_t n = (uint64_t)cap * 2;
    if (n < need) n = need;
    return n > limit ? limit : (uint32_t)n;
}

void as_tcache_stack_failed(as_tcache_thread_t *t, unsigned c, uint32_t cap)
{
    if (t->max[c] > cap - 1) t->max[c] = cap - 1;
}

int as_tcache_stack_grow(as_tcache_stack_t *s, uint32_t n, uint32_t need,
                         uint32_t limit, const as_mem_t *mem)
{
    if (need <= s->cap) return AS_OK;
    uint32_t cap = as_tcache_grown_cap(s->cap, need, limit);
    if (cap < need) return AS_ENOMEM;
    uintptr_t *slot = as_mem_alloc(mem, (size_t)cap * sizeof *slot);
    if (!slot) return AS_ENOMEM;
    for (uint32_t i = 0; i < n; i++)
        slot[i] = s->slot[i];
    as_mem_free(mem, s->slot, (size_t)s->cap * sizeof *slot);
    s->slot = slot;
    s->cap = cap;
    return AS_OK;
}

void as_tcache_stack_fit(as_tcache_thread_t *t, as_tcache_stack_t *stacks,
                         unsigned c, const as_mem_t *mem)
{
    as_tcache_stack_t *s = &stacks[c];
    uint32_t need = as_tcache_stack_need(t, c);
    if (need > s->cap &&
        as_tcache_stack_grow(s, t->count[c], need, as_tcache_class_limit(c),
                             mem) != AS_OK)
        as_tcache_stack_failed(t, c, s->cap);
}

int as_tcache_stacks_init(const as_tcache_thread_t *t,
                          as_tcache_stack_t *stacks, const as_mem_t *mem)
{
    for (unsigned c = 1; c <= AS_TCACHE_CLASSES; c++)
        if (as_tcache_stack_grow(&stacks[c], 0, as_tcache_stack_need(t, c),
                                 as_tcache_class_limit(c), mem) != AS_OK) {
            as_tcache_stacks_free(stacks, mem);
            return AS_ENOMEM;
        }
    return AS_OK;
}

void as_tcache_stacks_free(as_tcache_stack_t *stacks, const as_mem_t *mem)
{
    for (unsigned c = 1; c <= AS_TCACHE_CLASSES; c++) {
        as_mem_free(mem, stacks[c].slot,
                    (size_t)stacks[c].cap * sizeof(uintptr_t));
        stacks[c] = (as_tcache_stack_t){NULL, 0};
    }
}

void as_tcache_counters_add(as_tcache_counters_t *out,
                            const as_tcache_thread_t *t)
{
    out->caches++;
    out->hits += t->hits;
    out->refills += t->refills;
    out->flushes += t->flushes;
    out->xfer_hits += t->xfer_hits;
    out->xfer_misses += t->xfer_misses;
    out->cached_bytes += t->bytes;
    for (unsigned c = 1; c <= AS_TCACHE_CLASSES; c++)
        out->cached_blocks += t->count[c];
}

void as_tcache_report(const as_tcache_counters_t *c, as_stat_fn fn, void *arg)
{
    fn(arg, "tcache_cached_bytes", (double)c->cached_bytes);
    fn(arg, "tcache_transfer_bytes", (double)c->xfer_bytes);
    fn(arg, "tcache_hits", (double)c->hits);
    fn(arg, "tcache_refills", (double)c->refills);
    fn(arg, "tcache_flushes", (double)c->flushes);
    fn(arg, "tcache_transfer_hits", (double)c->xfer_hits);
    fn(arg, "tcache_transfer_misses", (double)c->xfer_misses);
    fn(arg, "tcache_caches", (double)c->caches);
}

/* The message of a total that is not the sum of its parts (or over its
 * bound). @return AS_ECHECK. */
static int sum_mismatch(as_msg_t *why, const char *what, uint64_t total,
                        const char *parts, uint64_t sum)
{
    as_msg_str(why, what);
    as_msg_u64(why, total, 0);
    as_msg_str(why, parts);
    as_msg_u64(why, sum, 0);
    return AS_ECHECK;
}

/* Every one of the n entries of stack s has map entry c | CACHED, and n
 * fits. @return 0, or AS_ECHECK with one line naming `what`. */
static int check_stack(const as_tcache_stack_t *s, uint32_t n, unsigned c,
                       const char *what, as_tcache_entry_fn entry,
                       const void *arg, as_msg_t *why)
{
    if (n > s->cap || (n && !s->slot)) {
        as_msg_str(why, "tcache: ");
        as_msg_str(why, what);
        as_msg_str(why, " of class ");
        as_msg_u64(why, c, 0);
        as_msg_str(why, " holds ");
        as_msg_u64(why, n, 0);
        as_msg_str(why, " blocks, over its capacity ");
        as_msg_u64(why, s->cap, 0);
        return AS_ECHECK;
    }
    for (uint32_t i = 0; i < n; i++) {
        unsigned v = entry(arg, s->slot[i]);
        if (v != (c | AS_TCACHE_CACHED)) {
            as_msg_str(why, "tcache: a block of class ");
            as_msg_u64(why, c, 0);
            as_msg_str(why, " in a ");
            as_msg_str(why, what);
            as_msg_str(why, " has map entry ");
            as_msg_u64(why, v, 0);
            return AS_ECHECK;
        }
    }
    return AS_OK;
}

int as_tcache_check_thread(const as_tcache_thread_t *t,
                           const as_tcache_stack_t *stacks,
                           as_tcache_entry_fn entry, const void *arg,
                           as_msg_t *why)
{
    uint64_t bytes = 0;
    for (unsigned c = 1; c <= AS_TCACHE_CLASSES; c++) {
        if (t->count[c] > t->max[c] + 1 || t->max[c] > AS_TCACHE_MAX_COUNT ||
            t->max[c] < as_tcache_batch(c)) {
            as_msg_str(why, "tcache: class ");
            as_msg_u64(why, c, 0);
            as_msg_str(why, " count ");
            as_msg_u64(why, t->count[c], 0);
            as_msg_str(why, " or its max ");
            as_msg_u64(why, t->max[c], 0);
            as_msg_str(why, " over its limit");
            return AS_ECHECK;
        }
        int rc =
            check_stack(&stacks[c], t->count[c], c, "list", entry, arg, why);
        if (rc != AS_OK) return rc;
        bytes += (uint64_t)t->count[c] * as_tcache_class_bytes(c);
    }
    if (bytes != t->bytes || bytes > AS_TCACHE_THREAD_BYTES)
        return sum_mismatch(why, "tcache: cached bytes ", t->bytes,
                            " != sum over the lists (or over 2 MiB) ", bytes);
    return AS_OK;
}

int as_tcache_check_xfer(const as_tcache_xfer_t *x,
                         const as_tcache_stack_t *stacks,
                         as_tcache_entry_fn entry, const void *arg,
                         as_msg_t *why)
{
    uint64_t bytes = 0;
    for (unsigned c = 1; c <= AS_TCACHE_CLASSES; c++) {
        int rc = check_stack(&stacks[c], x->chains[c] * as_tcache_batch(c), c,
                             "transfer chain", entry, arg, why);
        if (rc != AS_OK) return rc;
        bytes += (uint64_t)x->chains[c] * as_tcache_batch(c) *
                 as_tcache_class_bytes(c);
    }
    if (bytes != x->bytes || bytes > AS_TCACHE_XFER_BYTES)
        return sum_mismatch(why, "tcache: transfer cache bytes ", x->bytes,
                            " != sum over its chains (or over 4 MiB) ", bytes);
    return AS_OK;
}

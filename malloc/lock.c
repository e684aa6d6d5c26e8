/* lock.c - the lock layer (see lock.h).
 *
 * Owns only the mutex; every hook is the inner hook between lock and
 * unlock. Never allocates: pthread_mutex_lock/unlock on a statically
 * initialised mutex do not call malloc, so the layer can sit under malloc.
 */
#include "malloc/lock.h"

#include "common/error.h"

static int lk_create(const as_policy_config_t *cfg, void **state)
{
    (void)cfg;
    (void)state;
    return AS_EUNSUPPORTED; /* made by as_lock_wrap only */
}

/* The context the inner policy sees: ctx with its time raised to the last
 * time seen, so that times never go backwards in call order (two threads
 * read the clock before they take the lock, in either order). Called with
 * the mutex held. */
static as_ctx_t ordered(as_lock_t *l, const as_ctx_t *ctx)
{
    as_ctx_t c = *ctx;
    if (c.now_ns < l->last_now_ns)
        c.now_ns = l->last_now_ns;
    else
        l->last_now_ns = c.now_ns;
    return c;
}

static int lk_alloc(void *st, const as_ctx_t *ctx, size_t size, size_t align,
                    as_block_t *out)
{
    as_lock_t *l = st;
    pthread_mutex_lock(&l->mutex);
    as_ctx_t c = ordered(l, ctx);
    int rc = l->inner->alloc(l->inner_state, &c, size, align, out);
    pthread_mutex_unlock(&l->mutex);
    return rc;
}

/* One hold of the mutex for the whole batch: the inner's alloc_batch, or
 * its singles (as_policy_alloc_batch), with one ordered context. */
static int lk_alloc_batch(void *st, const as_ctx_t *ctx, size_t size,
                          size_t align, unsigned n, as_block_t *out,
                          unsigned *got)
{
    as_lock_t *l = st;
    pthread_mutex_lock(&l->mutex);
    as_ctx_t c = ordered(l, ctx);
    int rc = as_policy_alloc_batch(l->inner, l->inner_state, &c, size, align, n,
                                   out, got);
    pthread_mutex_unlock(&l->mutex);
    return rc;
}

static int lk_free(void *st, const as_ctx_t *ctx, uintptr_t addr,
                   size_t size_hint)
{
    as_lock_t *l = st;
    pthread_mutex_lock(&l->mutex);
    as_ctx_t c = ordered(l, ctx);
    int rc = l->inner->free(l->inner_state, &c, addr, size_hint);
    pthread_mutex_unlock(&l->mutex);
    return rc;
}

/* One hold of the mutex for the whole batch: the inner's free_batch, or its
 * singles (as_policy_free_batch), with one ordered context. */
static int lk_free_batch(void *st, const as_ctx_t *ctx, const uintptr_t *addrs,
                         unsigned n, unsigned *done)
{
    as_lock_t *l = st;
    pthread_mutex_lock(&l->mutex);
    as_ctx_t c = ordered(l, ctx);
    int rc = as_policy_free_batch(l->inner, l->inner_state, &c, addrs, n, done);
    pthread_mutex_unlock(&l->mutex);
    return rc;
}

static int lk_realloc(void *st, const as_ctx_t *ctx, uintptr_t addr,
                      size_t old_size, size_t new_size, size_t align,
                      as_block_t *out)
{
    as_lock_t *l = st;
    pthread_mutex_lock(&l->mutex);
    as_ctx_t c = ordered(l, ctx);
    int rc = l->inner->realloc(l->inner_state, &c, addr, old_size, new_size,
                               align, out);
    pthread_mutex_unlock(&l->mutex);
    return rc;
}

static size_t lk_usable_size(void *st, uintptr_t addr)
{
    as_lock_t *l = st;
    pthread_mutex_lock(&l->mutex);
    size_t n = l->inner->usable_size(l->inner_state, addr);
    pthread_mutex_unlock(&l->mutex);
    return n;
}

static uint64_t lk_tick(void *st, const as_ctx_t *ctx)
{
    as_lock_t *l = st;
    pthread_mutex_lock(&l->mutex);
    as_ctx_t c = ordered(l, ctx);
    uint64_t next = l->inner->tick(l->inner_state, &c);
    pthread_mutex_unlock(&l->mutex);
    return next;
}

static void lk_stats(void *st, as_stat_fn fn, void *arg)
{
    as_lock_t *l = st;
    pthread_mutex_lock(&l->mutex);
    l->inner->stats(l->inner_state, fn, arg);
    pthread_mutex_unlock(&l->mutex);
}

static void lk_destroy(void *st)
{
    as_lock_t *l = st;
    pthread_mutex_lock(&l->mutex);
    l->inner->destroy(l->inner_state);
    l->inner_state = NULL;
    pthread_mutex_unlock(&l->mutex);
}

static int lk_check(const void *st, as_msg_t *why)
{
    as_lock_t *l = (as_lock_t *)st;
    pthread_mutex_lock(&l->mutex);
    int rc = l->inner->check(l->inner_state, why);
    pthread_mutex_unlock(&l->mutex);
    return rc;
}

void as_lock_wrap(as_lock_t *l, const as_policy_ops_t *inner, void *inner_state)
{
    l->inner = inner;
    l->inner_state = inner_state;
    l->last_now_ns = 0;
    pthread_mutex_init(&l->mutex, NULL);
    l->ops = as_policy_layer_ops(inner, (as_policy_ops_t){
                                            .create = lk_create,
                                            .alloc = lk_alloc,
                                            .alloc_batch = lk_alloc_batch,
                                            .free = lk_free,
                                            .free_batch = lk_free_batch,
                                            .realloc = lk_realloc,
                                            .usable_size = lk_usable_size,
                                            .tick = lk_tick,
                                            .stats = lk_stats,
                                            .destroy = lk_destroy,
                                            .check = lk_check,
                                        });
}

void as_lock_acquire(as_lock_t *l)
{
    pthread_mutex_lock(&l->mutex);
}

void as_lock_release(as_lock_t *l)
{
    pthread_mutex_unlock(&l->mutex);
}

void as_lock_prefork(as_lock_t *l)
{
    pthread_mutex_lock(&l->mutex);
}

void as_lock_postfork_parent(as_lock_t *l)
{
    pthread_mutex_unlock(&l->mutex);
}

void as_lock_postfork_child(as_lock_t *l)
{
    pthread_mutex_init(&l->mutex, NULL);
}

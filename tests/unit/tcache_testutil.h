/* tcache_testutil.h - what the thread-cache layer's unit tests
 * (test_malloc_tcache, test_malloc_flatmap, test_malloc_tcache_sim) share:
 * the empty request context the layer's ctx_fn fills, and malloc as
 * malloc/malloc.c makes it through the layer (the fast path first, then
 * the layer's alloc hook).
 */
#ifndef AS_TESTS_TCACHE_TESTUTIL_H
#define AS_TESTS_TCACHE_TESTUTIL_H

#include <string.h>

#include "common/error.h"
#include "common/lifetime.h"
#include "malloc/tcache.h"

/* as_test_ctx_zero: a context of time 0, thread 0, no lifetime class (an
 * as_tcache_ctx_fn). */
static inline void as_test_ctx_zero(as_ctx_t *ctx)
{
    memset(ctx, 0, sizeof *ctx);
    ctx->lifetime_class = AS_CLASS_NONE;
}

/* as_test_tcache_malloc: n bytes (default alignment) from layer tc as
 * malloc.c asks: as_tcache_alloc_fast, else tc->ops.alloc with a zero
 * context. @return the block, or NULL when the layer refused. */
static inline void *as_test_tcache_malloc(as_tcache_t *tc, size_t n)
{
    void *p = as_tcache_alloc_fast(tc, n);
    if (p) return p;
    as_ctx_t ctx;
    as_test_ctx_zero(&ctx);
    as_block_t b;
    return tc->ops.alloc(tc, &ctx, n, 0, &b) == AS_OK ? (void *)b.addr : NULL;
}

#endif /* AS_TESTS_TCACHE_TESTUTIL_H */

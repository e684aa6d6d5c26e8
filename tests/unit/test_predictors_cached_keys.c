/* test_predictors_cached_keys.c - the keys and the per-thread tables of
 * `cached`, against a counting inner predictor (each inner call is a miss
 * or a verification; verify_every=0, so here only misses).
 *
 * Asserted exactly: key=height aliases contexts of one height and size
 * whatever their pcs, and tells heights apart; a height of 0 falls back to
 * the stack id, which never meets a height of the same value; key=stack
 * keys on the stack id alone; key=pc (default) on the innermost pc and the
 * depth; per_thread=1 gives each thread its own table (the same key misses
 * once per thread; cached_tables counts them), per_thread=0 shares one;
 * every byte taken from the as_mem_t comes back.
 */
#include <string.h>

#include "predictors/cached/cached.h"
#include "tests/unit/testutil.h"

static int inner_calls;

/* The inner predictor: counts its calls; answers size % 7. */
static int32_t inner_predict(void *state, const as_pred_ctx_t *c)
{
    (void)state;
    inner_calls++;
    return (int32_t)(c->size % 7);
}

static const as_predictor_ops_t inner_ops = {.name = "counting",
                                             .predict = inner_predict};

static as_classes_t classes;
static as_param_value_t vals[AS_CACHED_NPARAMS];

static void *make(const char *a1, const char *a2)
{
    as_classes_default(&classes);
    const as_predictor_ops_t *C = &as_predictor_cached;
    as_param_defaults(C->params, C->n_params, vals);
    CU_ASSERT_EQUAL(
        as_param_set(C->params, C->n_params, vals, "verify_every=0"), 0);
    if (a1) CU_ASSERT_EQUAL(as_param_set(C->params, C->n_params, vals, a1), 0);
    if (a2) CU_ASSERT_EQUAL(as_param_set(C->params, C->n_params, vals, a2), 0);
    static int dummy;
    as_predictor_config_t cfg = {.classes = &classes,
                                 .params = vals,
                                 .mem = &as_test_mem,
                                 .inner_ops = &inner_ops,
                                 .inner_state = &dummy};
    void *st = NULL;
    CU_ASSERT_EQUAL_FATAL(C->create(&cfg, &st), 0);
    inner_calls = 0;
    return st;
}

typedef struct {
    const char *name;
    double v;
} stat_q_t;

static void take_stat(void *arg, const char *n, double v)
{
    stat_q_t *q = arg;
    if (!strcmp(q->name, n)) q->v = v;
}

/* @return the named statistic of st, -1 when it has none. */
static double stat_of(void *st, const char *name)
{
    stat_q_t q = {name, -1};
    as_predictor_cached.stats(st, take_stat, &q);
    return q.v;
}

/* One lookup: pc, depth, stack id, height, size, thread. */
static int32_t ask(void *st, uint64_t pc, uint32_t depth, uint32_t stack,
                   uint64_t height, uint64_t size, uint32_t thread)
{
    as_pred_ctx_t c = {.size = size,
                       .thread = thread,
                       .stack = stack,
                       .pcs = &pc,
                       .depth = depth,
                       .stack_height = height,
                       .true_class = AS_CLASS_UNKNOWN};
    return as_predictor_cached.predict(st, &c);
}

static void test_key_height(void)
{
    void *st = make("key=height", NULL);
    CU_ASSERT_EQUAL(ask(st, 0x1000, 5, 1, 4096, 24, 0), 3); /* miss */
    CU_ASSERT_EQUAL(ask(st, 0x2000, 9, 2, 4096, 24, 0), 3); /* other pc, hit */
    CU_ASSERT_EQUAL(inner_calls, 1);
    ask(st, 0x1000, 5, 1, 4160, 24, 0); /* other height: miss */
    ask(st, 0x1000, 5, 1, 4096, 25, 0); /* other size: miss */
    CU_ASSERT_EQUAL(inner_calls, 3);
    /* height 0: the stack id stands in */
    ask(st, 0x1000, 5, 7, 0, 24, 0); /* miss */
    ask(st, 0x3000, 2, 7, 0, 24, 0); /* same stack id: hit */
    CU_ASSERT_EQUAL(inner_calls, 4);
    ask(st, 0x1000, 5, 8, 0, 24, 0); /* other stack id: miss */
    CU_ASSERT_EQUAL(inner_calls, 5);
    ask(st, 0x1000, 5, 9, 7, 24, 0); /* height 7 is not stack id 7: miss */
    CU_ASSERT_EQUAL(inner_calls, 6);
    CU_ASSERT_EQUAL(stat_of(st, "cached_lookups"), 8);
    CU_ASSERT_EQUAL(stat_of(st, "cached_hits"), 2);
    CU_ASSERT_EQUAL(stat_of(st, "cached_tables"), 1);
    as_predictor_cached.destroy(st);
    CU_ASSERT_EQUAL(as_test_mem_held(), 0);
}

static void test_key_stack_and_pc(void)
{
    void *st = make("key=stack", NULL);
    ask(st, 0x1000, 5, 3, 4096, 24, 0);
    ask(st, 0x2000, 6, 3, 8192, 24, 0); /* same stack id: hit */
    ask(st, 0x1000, 5, 4, 4096, 24, 0); /* other stack id: miss */
    CU_ASSERT_EQUAL(inner_calls, 2);
    as_predictor_cached.destroy(st);
    st = make(NULL, NULL); /* key=pc */
    ask(st, 0x1000, 5, 3, 4096, 24, 0);
    ask(st, 0x1000, 5, 4, 8192, 24, 0); /* same pc and depth: hit */
    ask(st, 0x1000, 6, 3, 4096, 24, 0); /* other depth: miss */
    ask(st, 0x1001, 5, 3, 4096, 24, 0); /* other pc: miss */
    CU_ASSERT_EQUAL(inner_calls, 3);
    as_predictor_cached.destroy(st);
    CU_ASSERT_EQUAL(as_test_mem_held(), 0);
}

static void test_per_thread(void)
{
    void *st = make("key=height", "per_thread=1");
    CU_ASSERT_EQUAL(stat_of(st, "cached_tables"), 1); /* thread 0's */
    for (uint32_t t = 0; t < 3; t++)
        ask(st, 0x1000, 5, 1, 4096, 24, t * 50); /* threads 0, 50, 100 */
    CU_ASSERT_EQUAL(inner_calls, 3);             /* one miss per thread */
    for (uint32_t t = 0; t < 3; t++)
        ask(st, 0x1000, 5, 1, 4096, 24, t * 50);
    CU_ASSERT_EQUAL(inner_calls, 3); /* then hits */
    CU_ASSERT_EQUAL(stat_of(st, "cached_tables"), 3);
    ask(st, 0x1000, 5, 1, 4096, 24, 4096 + 50); /* shares thread 50's */
    CU_ASSERT_EQUAL(inner_calls, 3);
    as_predictor_cached.destroy(st);
    st = make("key=height", NULL); /* shared */
    for (uint32_t t = 0; t < 3; t++)
        ask(st, 0x1000, 5, 1, 4096, 24, t * 50);
    CU_ASSERT_EQUAL(inner_calls, 1);
    CU_ASSERT_EQUAL(stat_of(st, "cached_tables"), 1);
    as_predictor_cached.destroy(st);
    CU_ASSERT_EQUAL(as_test_mem_held(), 0);
}

int main(void)
{
    static const as_test_t tests[] = {
        {"key=height: height and size, stack id when 0", test_key_height},
        {"key=stack and key=pc", test_key_stack_and_pc},
        {"per_thread: one table per thread", test_per_thread},
        {NULL, NULL}};
    return as_test_main("predictors_cached_keys", tests);
}

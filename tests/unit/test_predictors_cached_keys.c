/* test_predictors_cached_keys.c - the keys and the per-thread tables of
 * `cached`, against a counting inner predictor (each inner call is a miss
 * or a verification; verify_every=0, so here only misses).
 *
 * Asserted exactly: key=height aliases contexts of one height and size
 * whatever their pcs, and tells heights apart; a height of 0 falls back to
 * the stack id, which never meets a height of the same value; key=stack
 * keys on the stack id alone; key=pc on the innermost pc and the depth;
 * key=height is the default; per_thread=1 gives each thread its own table
 * (the same key misses once per thread; cached_tables counts them),
 * per_thread=0 shares one; every byte taken from the as_mem_t comes back.
 *
 * Over a scripted inner predictor (it answers `answer`, which the test
 * sets, and counts its observe calls), the table itself:
 * - LRU: capacity 4 is one set of 4 ways; keys A B C D miss, A hits (now
 *   the most recent), E evicts B (the least recent), B misses again and
 *   evicts C, A and D still hit, C misses and evicts E: 3 hits, 7 misses,
 *   3 evictions, and each hit answers what its key's miss stored.
 * - key=height with an inner predictor that learns: the engine's outcome
 *   carries no stack height, yet the outcome refreshes the entry of the
 *   height the object was allocated at (the next hit returns the new
 *   answer), for 1,000 live objects dying in a scrambled order (the height
 *   record grows and shrinks, none is lost, every outcome refreshes one
 *   entry); an outcome of an object never seen refreshes nothing.
 * - over an inner predictor that does not learn, or with refresh=0, no
 *   height is kept (no cached_heights_* statistics).
 * - the heights index's memory, which a run counts as metadata bytes: 64
 *   slots of 16 bytes (1024 bytes) from create, doubled to 2048 bytes by
 *   the 33rd live object (at most half full) and not before; every live
 *   object, object 0 included, takes a slot.
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

/* The scripted inner predictor: answers `answer`; counts observe calls. */
static int32_t answer;
static int observes;

static int32_t scripted_predict(void *state, const as_pred_ctx_t *c)
{
    (void)state;
    (void)c;
    inner_calls++;
    return answer;
}

static void scripted_observe(void *state, const as_pred_ctx_t *c,
                             const as_pred_outcome_t *out)
{
    (void)state;
    (void)c;
    (void)out;
    observes++;
}

static const as_predictor_ops_t learner_ops = {.name = "learner",
                                               .predict = scripted_predict,
                                               .observe = scripted_observe};
static const as_predictor_ops_t fixed_ops = {.name = "fixed",
                                             .predict = scripted_predict};

static as_classes_t classes;
static as_param_value_t vals[AS_CACHED_NPARAMS];

static void *make_over(const as_predictor_ops_t *inner, const char *a1,
                       const char *a2)
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
                                 .inner_ops = inner,
                                 .inner_state = &dummy};
    void *st = NULL;
    CU_ASSERT_EQUAL_FATAL(C->create(&cfg, &st), 0);
    inner_calls = observes = 0;
    return st;
}

static void *make(const char *a1, const char *a2)
{
    return make_over(&inner_ops, a1, a2);
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
    void *st = make(NULL, NULL); /* key=height: the default */
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
    st = make("key=pc", NULL);
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

static as_pred_ctx_t at_height(uint64_t object, uint64_t height)
{
    return (as_pred_ctx_t){.object = object,
                           .size = 32,
                           .stack = 7,
                           .stack_height = height,
                           .true_class = AS_CLASS_UNKNOWN};
}

static void test_lru(void)
{
    CU_ASSERT_PTR_EQUAL(as_predictor_cached.predict, as_cached_predict);
    void *st = make_over(&fixed_ops, "capacity=4", NULL);
    /* keys A..E are heights 100..500; the inner predictor answers 10 + i
     * at the i-th lookup, so a hit shows which miss stored its answer */
    int32_t got[10];
    const uint64_t seq[10] = {100, 200, 300, 400, 100, 500, 200, 100, 400, 300};
    for (int i = 0; i < 10; i++) {
        as_pred_ctx_t c = at_height((uint64_t)i, seq[i]);
        answer = 10 + i;
        got[i] = as_cached_predict(st, &c);
    }
    /* misses A B C D, hit A (order A D C B), miss E evicts B (E A D C),
     * miss B evicts C (B E A D), hit A (A B E D), hit D (D A B E), miss C
     * evicts E */
    const int32_t want[10] = {10, 11, 12, 13, 10, 15, 16, 10, 13, 19};
    for (int i = 0; i < 10; i++)
        CU_ASSERT_EQUAL(got[i], want[i]);
    CU_ASSERT_EQUAL(stat_of(st, "cached_hits"), 3);
    CU_ASSERT_EQUAL(stat_of(st, "cached_misses"), 7);
    CU_ASSERT_EQUAL(stat_of(st, "cached_evictions"), 3);
    CU_ASSERT_EQUAL(inner_calls, 7);
    CU_ASSERT_EQUAL(stat_of(st, "cached_entries"), 4);
    CU_ASSERT_EQUAL(stat_of(st, "cached_heights_peak"), -1); /* no learner */
    as_predictor_cached.destroy(st);
    CU_ASSERT_EQUAL(as_test_mem_held(), 0);
}

static void test_height_refresh(void)
{
    enum { N = 1000 };
    void *st = make_over(&learner_ops, "capacity=4096", NULL);
    /* N live objects at 100 heights: 100 misses, then hits */
    answer = 1;
    for (uint64_t o = 0; o < N; o++) {
        as_pred_ctx_t c = at_height(o, 64 + 16 * (o % 100));
        CU_ASSERT_EQUAL(as_cached_predict(st, &c), 1);
    }
    CU_ASSERT_EQUAL(stat_of(st, "cached_misses"), 100);
    CU_ASSERT_EQUAL(stat_of(st, "cached_heights_peak"), N);
    /* the inner predictor learns: its answer is now 3; the outcomes come
     * without a height, as the engine gives them, in a scrambled order */
    answer = 3;
    for (uint64_t k = 0; k < N; k++) {
        uint64_t o = (k * 577) % N; /* 577 is prime to 1000 */
        as_pred_ctx_t c = at_height(o, 0);
        as_pred_outcome_t out = {.actual_class = 3, .predicted_class = 1};
        as_predictor_cached.observe(st, &c, &out);
    }
    CU_ASSERT_EQUAL(observes, N);
    CU_ASSERT_EQUAL(stat_of(st, "cached_refreshes"), N);
    CU_ASSERT_EQUAL(stat_of(st, "cached_refresh_changes"), 100);
    CU_ASSERT_EQUAL(stat_of(st, "cached_heights_lost"), 0);
    /* every height's entry now answers 3 without asking */
    answer = 5;
    int before = inner_calls;
    for (uint64_t h = 0; h < 100; h++) {
        as_pred_ctx_t c = at_height(N + h, 64 + 16 * h);
        CU_ASSERT_EQUAL(as_cached_predict(st, &c), 3);
    }
    CU_ASSERT_EQUAL(inner_calls, before);
    /* an outcome for an object the cache never saw refreshes nothing */
    as_pred_ctx_t c = at_height(5 * N, 0);
    as_pred_outcome_t out = {.actual_class = 0};
    as_predictor_cached.observe(st, &c, &out);
    CU_ASSERT_EQUAL(stat_of(st, "cached_refreshes"), N);
    as_predictor_cached.destroy(st);
    CU_ASSERT_EQUAL(as_test_mem_held(), 0);

    /* an inner predictor that does not learn: nothing is kept */
    st = make_over(&fixed_ops, NULL, NULL);
    as_pred_ctx_t a = at_height(1, 64);
    as_cached_predict(st, &a);
    CU_ASSERT_EQUAL(stat_of(st, "cached_heights_peak"), -1);
    as_predictor_cached.observe(st, &a, &out);
    CU_ASSERT_EQUAL(stat_of(st, "cached_refreshes"), 0);
    as_predictor_cached.destroy(st);
    /* refresh=0: neither */
    st = make_over(&learner_ops, "refresh=0", NULL);
    as_cached_predict(st, &a);
    CU_ASSERT_EQUAL(stat_of(st, "cached_heights_peak"), -1);
    as_predictor_cached.destroy(st);
    CU_ASSERT_EQUAL(as_test_mem_held(), 0);
}

static void test_height_memory(void)
{
    void *st = make_over(&learner_ops, "refresh=0", NULL); /* no index */
    long without = as_test_mem_held();
    as_predictor_cached.destroy(st);
    st = make_over(&learner_ops, NULL, NULL);
    long with = as_test_mem_held();
    CU_ASSERT_EQUAL(with - without, 64 * 16);
    answer = 1;
    for (uint64_t o = 0; o < 32; o++) { /* objects 0..31 */
        as_pred_ctx_t c = at_height(o, 64);
        as_cached_predict(st, &c);
    }
    CU_ASSERT_EQUAL(as_test_mem_held() - with, 0);
    as_pred_ctx_t c = at_height(32, 64);
    as_cached_predict(st, &c);
    CU_ASSERT_EQUAL(as_test_mem_held() - with, 64 * 16); /* now 128 slots */
    CU_ASSERT_EQUAL(stat_of(st, "cached_heights_peak"), 33);
    as_predictor_cached.destroy(st);
    CU_ASSERT_EQUAL(as_test_mem_held(), 0);
}

int main(void)
{
    static const as_test_t tests[] = {
        {"key=height: height and size, stack id when 0", test_key_height},
        {"key=stack and key=pc", test_key_stack_and_pc},
        {"per_thread: one table per thread", test_per_thread},
        {"4-way set: exact LRU order, counts", test_lru},
        {"key=height outcomes refresh the allocation's entry",
         test_height_refresh},
        {"key=height: the heights index's memory", test_height_memory},
        {NULL, NULL}};
    return as_test_main("predictors_cached_keys", tests);
}

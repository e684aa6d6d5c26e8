/* test_predictors_site.c - the `site`, `cached` and `adversarial` predictors,
 * with answers worked out by hand. */
#include <stdlib.h>
#include <string.h>

#include "predictors/adversarial.h"
#include "predictors/cached/cached.h"
#include "predictors/site/site.h"
#include "tests/unit/testutil.h"

static as_classes_t classes;

static void *make(const as_predictor_ops_t *ops, const char **assign,
                  const as_predictor_ops_t *inner, void *inner_state)
{
    static as_param_value_t v[16][AS_SITE_NPARAMS + 8];
    static int next;
    as_param_value_t *vals = v[next++ % 16];
    as_classes_default(&classes);
    CU_ASSERT_EQUAL_FATAL(as_param_defaults(ops->params, ops->n_params, vals),
                          0);
    for (; assign && *assign; assign++)
        CU_ASSERT_EQUAL_FATAL(
            as_param_set(ops->params, ops->n_params, vals, *assign), 0);
    as_predictor_config_t cfg = {.classes = &classes,
                                 .params = vals,
                                 .mem = &as_test_mem,
                                 .inner_ops = inner,
                                 .inner_state = inner_state};
    void *st = NULL;
    CU_ASSERT_EQUAL_FATAL(ops->create(&cfg, &st), 0);
    return st;
}

static as_pred_ctx_t at_site(uint32_t stack, uint64_t size)
{
    return (as_pred_ctx_t){
        .size = size, .stack = stack, .true_class = AS_CLASS_UNKNOWN};
}

static void tell(const as_predictor_ops_t *ops, void *st, uint32_t stack,
                 uint32_t cls, uint64_t life_ns)
{
    as_pred_ctx_t c = at_site(stack, 64);
    as_pred_outcome_t o = {
        .lifetime_ns = life_ns, .actual_class = cls, .predicted_class = 0};
    ops->observe(st, &c, &o);
}

static int32_t ask(const as_predictor_ops_t *ops, void *st, uint32_t stack)
{
    as_pred_ctx_t c = at_site(stack, 64);
    return ops->predict(st, &c);
}

#define MS 1000000ull

/* Majority mode with min_observations = 3: two outcomes of class 1 leave the
 * site undecided (the default, class 6); the third decides it. Three more of
 * class 3 tie 3:3 and ties go to the longer class. */
static void test_majority_learns_after_k(void)
{
    const as_predictor_ops_t *P = &as_predictor_site;
    const char *a[] = {"mode=majority", "min_observations=3", NULL};
    void *s = make(P, a, NULL, NULL);
    CU_ASSERT_EQUAL(ask(P, s, 5), 6);
    tell(P, s, 5, 1, 50 * MS);
    tell(P, s, 5, 1, 50 * MS);
    CU_ASSERT_EQUAL(ask(P, s, 5), 6);
    tell(P, s, 5, 1, 50 * MS);
    CU_ASSERT_EQUAL(ask(P, s, 5), 1);
    CU_ASSERT_EQUAL(ask(P, s, 9), 6); /* another site: unknown */
    tell(P, s, 5, 3, 5000 * MS);
    tell(P, s, 5, 3, 5000 * MS);
    CU_ASSERT_EQUAL(ask(P, s, 5), 1); /* 3:2 */
    tell(P, s, 5, 3, 5000 * MS);
    CU_ASSERT_EQUAL(ask(P, s, 5), 3); /* 3:3, the longer wins */
    P->destroy(s);
    CU_ASSERT_EQUAL(as_test_mem_held(), 0);
}

/* TCMalloc rule, threshold 500 ms (inside class 2, (100 ms, 1 s]), margin
 * 10: short-lived only when short > long + 10. */
static void test_tcmalloc_rule(void)
{
    const as_predictor_ops_t *P = &as_predictor_site;
    const char *a[] = {"mode=tcmalloc", "threshold=500ms", "margin=10", NULL};
    void *s = make(P, a, NULL, NULL);
    for (int i = 0; i < 10; i++)
        tell(P, s, 7, 0, 1 * MS);
    CU_ASSERT_EQUAL(ask(P, s, 7), 6); /* 10 > 0 + 10 is false */
    tell(P, s, 7, 2, 500 * MS);       /* exactly the threshold: short */
    CU_ASSERT_EQUAL(ask(P, s, 7), 2); /* 11 > 10 */
    tell(P, s, 7, 2, 501 * MS);       /* long */
    CU_ASSERT_EQUAL(ask(P, s, 7), 6); /* 11 > 11 is false */
    P->destroy(s);

    const char *b[] = {"mode=tcmalloc", "margin=0", NULL};
    s = make(P, b, NULL, NULL);
    tell(P, s, 7, 0, 1 * MS);
    CU_ASSERT_EQUAL(ask(P, s, 7), 2); /* low certainty: 1 > 0 */
    P->destroy(s);
    CU_ASSERT_EQUAL(as_test_mem_held(), 0);
}

static double stat_value;
static const char *stat_want;
static void grab(void *arg, const char *name, double v)
{
    (void)arg;
    if (strcmp(name, stat_want) == 0) stat_value = v;
}
static double stat_of(const as_predictor_ops_t *ops, void *st, const char *n)
{
    stat_want = n;
    stat_value = -1;
    ops->stats(st, grab, NULL);
    return stat_value;
}

/* Capacity 2: A and B learned; predicting A makes B the least recently used,
 * so learning C evicts B, not A. */
static void test_lru_eviction(void)
{
    const as_predictor_ops_t *P = &as_predictor_site;
    const char *a[] = {"capacity=2", NULL};
    void *s = make(P, a, NULL, NULL);
    tell(P, s, 1, 0, MS);
    tell(P, s, 2, 0, MS);
    CU_ASSERT_EQUAL(ask(P, s, 1), 0);
    tell(P, s, 3, 0, MS);
    CU_ASSERT_EQUAL(ask(P, s, 2), 6); /* evicted: default */
    CU_ASSERT_EQUAL(ask(P, s, 1), 0);
    CU_ASSERT_EQUAL(ask(P, s, 3), 0);
    CU_ASSERT_EQUAL(stat_of(P, s, "site_evictions"), 1);
    CU_ASSERT_EQUAL(stat_of(P, s, "site_entries"), 2);
    /* Many more sites churn through two slots; the index stays exact. */
    for (uint32_t k = 10; k < 1000; k++)
        tell(P, s, k, k % 7, MS);
    CU_ASSERT_EQUAL(ask(P, s, 998), 998 % 7);
    CU_ASSERT_EQUAL(ask(P, s, 999), 999 % 7);
    CU_ASSERT_EQUAL(ask(P, s, 997), 6);
    CU_ASSERT_EQUAL(stat_of(P, s, "site_evictions"), 991);
    P->destroy(s);
    CU_ASSERT_EQUAL(as_test_mem_held(), 0);
}

/* A dumped table loads into a fresh predictor with the same answers; bad
 * tables name their line. */
static void test_table_roundtrip(void)
{
    const as_predictor_ops_t *P = &as_predictor_site;
    void *s = make(P, NULL, NULL, NULL);
    tell(P, s, 4, 0, MS);
    tell(P, s, 4, 0, MS);
    tell(P, s, 8, 5, 200000 * MS);
    char buf[512];
    size_t n = as_site_dump_table(s, buf, sizeof buf);
    CU_ASSERT(n < sizeof buf);
    CU_ASSERT_STRING_EQUAL(buf, "allocsim-site-table 1\nclasses 7\n"
                                "# key short long count_0..count_n-1, oldest "
                                "first\n"
                                "4 2 0 2 0 0 0 0 0 0\n"
                                "8 0 1 0 0 0 0 0 1 0\n");
    char small[8];
    CU_ASSERT_EQUAL(as_site_dump_table(s, small, sizeof small), n);
    CU_ASSERT_EQUAL(small[7], 0);
    void *t = make(P, NULL, NULL, NULL);
    CU_ASSERT_EQUAL(as_site_load_table(t, buf, n, NULL), 0);
    CU_ASSERT_EQUAL(ask(P, t, 4), 0);
    CU_ASSERT_EQUAL(ask(P, t, 8), 5);
    CU_ASSERT_EQUAL(stat_of(P, t, "site_loaded_records"), 2);
    size_t line = 0;
    const char *bad = "allocsim-site-table 1\nclasses 7\n# c\n4 2 0 1 0\n";
    CU_ASSERT_EQUAL(as_site_load_table(t, bad, strlen(bad), &line), AS_EFORMAT);
    CU_ASSERT_EQUAL(line, 4);
    const char *wrong = "allocsim-site-table 1\nclasses 3\n";
    CU_ASSERT_EQUAL(as_site_load_table(t, wrong, strlen(wrong), &line),
                    AS_EFORMAT);
    CU_ASSERT_EQUAL(line, 2);
    P->destroy(s);
    P->destroy(t);
    CU_ASSERT_EQUAL(as_test_mem_held(), 0);
}

/* A stable-stack workload: 50 sites, each with one size and one lifetime
 * class (site s: class s % 7), 20000 allocations 1 ms apart, round robin.
 * `cached` over `site` must miss exactly once per site (hit rate
 * 19950/20000 = 0.9975) and answer exactly what a plain `site` fed the same
 * outcomes answers, on every allocation. */
static void test_cached_over_site_stable(void)
{
    const as_predictor_ops_t *S = &as_predictor_site, *C = &as_predictor_cached;
    void *inner = make(S, NULL, NULL, NULL);
    void *plain = make(S, NULL, NULL, NULL);
    const char *a[] = {"verify_every=1", NULL};
    void *c = make(C, a, S, inner);
    static const uint64_t life[7] = {5 * MS,    50 * MS,    500 * MS,
                                     5000 * MS, 50000 * MS, 500000 * MS,
                                     UINT64_MAX};
    enum { N = 20000, SITES = 50 };
    static uint32_t site_of[N];
    static uint64_t death[N];
    uint32_t next_dead[7] = {0}; /* per class, deaths are in alloc order */
    uint64_t same = 0;
    for (uint32_t i = 0; i < N; i++) {
        uint64_t now = (uint64_t)i * MS;
        for (uint32_t k = 0; k < 7; k++) {
            while (next_dead[k] < i) {
                uint32_t j = next_dead[k];
                if (site_of[j] % 7 != k) {
                    next_dead[k]++;
                    continue;
                }
                if (death[j] > now) break;
                as_pred_ctx_t pc = at_site(site_of[j] + 1, 32 + site_of[j]);
                as_pred_outcome_t o = {.lifetime_ns = life[k],
                                       .actual_class = k};
                C->observe(c, &pc, &o);
                S->observe(plain, &pc, &o);
                next_dead[k]++;
            }
        }
        uint32_t s = i % SITES;
        site_of[i] = s;
        death[i] = life[s % 7] == UINT64_MAX ? UINT64_MAX : now + life[s % 7];
        as_pred_ctx_t pc = at_site(s + 1, 32 + s);
        same += C->predict(c, &pc) == S->predict(plain, &pc);
    }
    CU_ASSERT_EQUAL(same, N);
    CU_ASSERT_EQUAL(stat_of(C, c, "cached_misses"), SITES);
    CU_ASSERT_DOUBLE_EQUAL(stat_of(C, c, "cached_hit_rate"), 0.9975, 1e-12);
    CU_ASSERT(stat_of(C, c, "cached_hit_rate") >= 0.99);
    CU_ASSERT_EQUAL(stat_of(C, c, "cached_verified"), N - SITES);
    CU_ASSERT_EQUAL(stat_of(C, c, "cached_disagreements"), 0);
    /* The inner predictor learned every finite class: site 3 (class 3). */
    CU_ASSERT_EQUAL(ask(S, plain, 4), 3);
    C->destroy(c);
    S->destroy(inner);
    S->destroy(plain);
    CU_ASSERT_EQUAL(as_test_mem_held(), 0);
}

/* Without refresh the cache keeps its first answer (the default class), so
 * once the inner predictor has learned, every verified hit disagrees; the
 * key includes the size, so a new size misses. */
static void test_cached_stale_without_refresh(void)
{
    const as_predictor_ops_t *S = &as_predictor_site, *C = &as_predictor_cached;
    void *inner = make(S, NULL, NULL, NULL);
    const char *a[] = {"verify_every=2", "refresh=0", NULL};
    void *c = make(C, a, S, inner);
    as_pred_ctx_t pc = at_site(3, 64);
    CU_ASSERT_EQUAL(C->predict(c, &pc), 6); /* miss */
    as_pred_outcome_t o = {.lifetime_ns = MS, .actual_class = 0};
    C->observe(c, &pc, &o);
    for (int i = 0; i < 4; i++)
        CU_ASSERT_EQUAL(C->predict(c, &pc), 6);
    CU_ASSERT_EQUAL(stat_of(C, c, "cached_verified"), 2);
    CU_ASSERT_EQUAL(stat_of(C, c, "cached_disagreements"), 2);
    as_pred_ctx_t other = at_site(3, 65);
    CU_ASSERT_EQUAL(C->predict(c, &other), 0); /* miss: asks site */
    CU_ASSERT_EQUAL(stat_of(C, c, "cached_misses"), 2);
    C->destroy(c);
    S->destroy(inner);
    CU_ASSERT_EQUAL(as_test_mem_held(), 0);
}

/* The cache is bounded: 4 ways per set; 5 keys in one 4-entry table evict. */
static void test_cached_bounded(void)
{
    const as_predictor_ops_t *S = &as_predictor_site, *C = &as_predictor_cached;
    void *inner = make(S, NULL, NULL, NULL);
    const char *a[] = {"capacity=4", NULL};
    void *c = make(C, a, S, inner);
    for (uint32_t k = 1; k <= 5; k++) {
        as_pred_ctx_t pc = at_site(k, 16);
        C->predict(c, &pc);
    }
    CU_ASSERT_EQUAL(stat_of(C, c, "cached_entries"), 4);
    CU_ASSERT_EQUAL(stat_of(C, c, "cached_evictions"), 1);
    as_pred_ctx_t first = at_site(1, 16); /* the LRU one went */
    C->predict(c, &first);
    CU_ASSERT_EQUAL(stat_of(C, c, "cached_misses"), 6);
    C->destroy(c);
    S->destroy(inner);
    CU_ASSERT_EQUAL(as_test_mem_held(), 0);
}

/* key=pcs: two stack ids with the same pcs are one site; other pcs, or the
 * same pcs at another depth, are another. The ops' load/save hooks are the
 * table functions. */
static void test_pcs_key_and_hooks(void)
{
    const as_predictor_ops_t *P = &as_predictor_site;
    const char *a[] = {"key=pcs", NULL};
    void *s = make(P, a, NULL, NULL);
    static const uint64_t pcs1[3] = {0x401000, 0x402000, 0x403000};
    static const uint64_t pcs2[3] = {0x401000, 0x402000, 0x403001};
    as_pred_ctx_t c1 = {.stack = 1, .pcs = pcs1, .depth = 3};
    as_pred_ctx_t c2 = {.stack = 2, .pcs = pcs1, .depth = 3};
    as_pred_ctx_t c3 = {.stack = 3, .pcs = pcs2, .depth = 3};
    as_pred_ctx_t c4 = {.stack = 4, .pcs = pcs1, .depth = 2};
    CU_ASSERT_EQUAL(as_site_key(s, &c1), as_site_key(s, &c2));
    CU_ASSERT_NOT_EQUAL(as_site_key(s, &c1), as_site_key(s, &c3));
    CU_ASSERT_NOT_EQUAL(as_site_key(s, &c1), as_site_key(s, &c4));
    as_pred_outcome_t o = {.lifetime_ns = MS, .actual_class = 0};
    P->observe(s, &c1, &o);
    CU_ASSERT_EQUAL(P->predict(s, &c2), 0);
    CU_ASSERT_EQUAL(P->predict(s, &c3), 6);
    CU_ASSERT_PTR_NOT_NULL(P->load);
    CU_ASSERT_PTR_NOT_NULL(P->save);
    char buf[256];
    size_t n = P->save(s, buf, sizeof buf);
    void *t = make(P, a, NULL, NULL);
    CU_ASSERT_EQUAL(P->load(t, buf, n, NULL), 0);
    CU_ASSERT_EQUAL(P->predict(t, &c2), 0);
    P->destroy(s);
    P->destroy(t);
    CU_ASSERT_EQUAL(as_test_mem_held(), 0);
}

static void test_adversarial(void)
{
    const as_predictor_ops_t *A = &as_predictor_adversarial;
    void *s = make(A, NULL, NULL, NULL);
    as_pred_ctx_t pc = at_site(1, 1 << 20);
    pc.true_class = 6;
    CU_ASSERT_EQUAL(A->predict(s, &pc), 0);
    CU_ASSERT_EQUAL(as_predictor_find("adversarial"), A);
    CU_ASSERT_EQUAL(as_predictor_find("site"), &as_predictor_site);
    CU_ASSERT_EQUAL(as_predictor_find("cached"), &as_predictor_cached);
    A->destroy(s);
    CU_ASSERT_EQUAL(as_test_mem_held(), 0);
}

int main(void)
{
    static const as_test_t tests[] = {
        {"majority learns after k", test_majority_learns_after_k},
        {"tcmalloc rule", test_tcmalloc_rule},
        {"lru eviction", test_lru_eviction},
        {"table roundtrip", test_table_roundtrip},
        {"cached over site, stable stacks", test_cached_over_site_stable},
        {"cached stale without refresh", test_cached_stale_without_refresh},
        {"cached bounded", test_cached_bounded},
        {"pcs key and load/save hooks", test_pcs_key_and_hooks},
        {"adversarial", test_adversarial},
        {NULL, NULL}};
    return as_test_main("predictors_site", tests);
}

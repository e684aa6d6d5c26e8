/* test_predictors_conformance.c - every registered predictor, tested the
 * moment it is added to predictors/registry.c.
 *
 * For each one (wrappers around `site`, and around `none`): it is created
 * from its parameter table's defaults; it answers a class in 0..n-1 for
 * 5000 contexts; it takes every outcome; two instances fed the same events
 * answer the same (deterministic, no hidden state); its statistics are
 * finite; destroy gives back every byte of its arena; and with 3 classes
 * instead of 7 it still answers in range.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "predictors/predictor.h"
#include "tests/unit/testutil.h"

typedef struct {
    const as_predictor_ops_t *ops, *inner_ops;
    void *state, *inner_state;
    as_param_value_t vals[64], inner_vals[64];
} inst_t;

static void create(inst_t *x, const as_predictor_ops_t *ops,
                   const as_predictor_ops_t *inner, const as_classes_t *cl)
{
    memset(x, 0, sizeof *x);
    x->ops = ops;
    CU_ASSERT_FATAL(ops->n_params <= 64);
    CU_ASSERT_EQUAL_FATAL(
        as_param_defaults(ops->params, ops->n_params, x->vals), 0);
    if (ops->wraps) {
        x->inner_ops = inner;
        CU_ASSERT_EQUAL_FATAL(
            as_param_defaults(inner->params, inner->n_params, x->inner_vals),
            0);
        as_predictor_config_t ic = {
            .classes = cl, .params = x->inner_vals, .mem = &as_test_mem};
        CU_ASSERT_EQUAL_FATAL(inner->create(&ic, &x->inner_state), 0);
    }
    as_predictor_config_t c = {.classes = cl,
                               .params = x->vals,
                               .mem = &as_test_mem,
                               .inner_ops = x->inner_ops,
                               .inner_state = x->inner_state};
    CU_ASSERT_EQUAL_FATAL(ops->create(&c, &x->state), 0);
}

static void destroy(inst_t *x)
{
    x->ops->destroy(x->state);
    if (x->inner_ops) x->inner_ops->destroy(x->inner_state);
}

static int stats_ok;
static void check_stat(void *arg, const char *name, double v)
{
    (void)arg;
    if (!name || !*name || !isfinite(v)) stats_ok = 0;
}

/* A deterministic event stream: 64 sites with 1..3 frames, sizes, true
 * classes; each object is observed 3 steps after its allocation. */
static void drive(inst_t *a, inst_t *b, const as_classes_t *cl)
{
    static uint64_t pcs[64][3];
    static uint32_t frames[64][3];
    for (int s = 0; s < 64; s++)
        for (int k = 0; k < 3; k++) {
            pcs[s][k] = 0x400000 + 0x100 * (uint64_t)s + (uint64_t)k;
            frames[s][k] = (uint32_t)(1 + s * 3 + k);
        }
    as_pred_ctx_t ring[4];
    int32_t said[4][2];
    for (uint64_t i = 0; i < 5000; i++) {
        uint64_t h = as_hash64(i + 1);
        uint32_t site = (uint32_t)(h % 64);
        as_pred_ctx_t c = {.object = i,
                           .now_ns = i * 1000,
                           .size = 16 + h % 4000,
                           .thread = (uint32_t)(h >> 20) % 4,
                           .cpu = (uint32_t)(h >> 24) % 4,
                           .stack = site + 1,
                           .frames = frames[site],
                           .pcs = pcs[site],
                           .depth = 1 + site % 3,
                           .true_class = (int32_t)(site % cl->n)};
        int32_t pa = a->ops->predict(a->state, &c);
        int32_t pb = b->ops->predict(b->state, &c);
        CU_ASSERT(pa == AS_CLASS_NONE || (pa >= 0 && (uint32_t)pa < cl->n));
        CU_ASSERT_EQUAL(pa, pb);
        if (i >= 3) {
            /* the object of step i - 3 (ring[i % 4] is still unset at
             * i = 3) */
            as_pred_ctx_t *d = &ring[(i - 3) % 4];
            uint32_t actual = (uint32_t)d->true_class;
            as_pred_outcome_t oa = {.lifetime_ns = 3000 + actual,
                                    .actual_class = actual,
                                    .predicted_class = said[(i - 3) % 4][0]};
            as_pred_outcome_t ob = oa;
            ob.predicted_class = said[(i - 3) % 4][1];
            if (a->ops->observe) a->ops->observe(a->state, d, &oa);
            if (b->ops->observe) b->ops->observe(b->state, d, &ob);
        }
        ring[i % 4] = c;
        said[i % 4][0] = pa;
        said[i % 4][1] = pb;
    }
    if (a->ops->stats) {
        stats_ok = 1;
        a->ops->stats(a->state, check_stat, NULL);
        CU_ASSERT(stats_ok);
    }
}

static void test_every_predictor(void)
{
    CU_ASSERT(as_predictor_count() >= 5);
    CU_ASSERT_PTR_NULL(as_predictor_find("no-such-predictor"));
    as_classes_t seven, three;
    as_classes_default(&seven);
    CU_ASSERT_EQUAL_FATAL(as_classes_parse(&three, "10ms,1s"), 0);
    const as_predictor_ops_t *inners[] = {as_predictor_find("site"),
                                          as_predictor_find("none")};
    CU_ASSERT_PTR_NOT_NULL_FATAL(inners[0]);
    CU_ASSERT_PTR_NOT_NULL_FATAL(inners[1]);
    for (size_t i = 0; i < as_predictor_count(); i++) {
        const as_predictor_ops_t *ops = as_predictor_at(i);
        CU_ASSERT_PTR_NOT_NULL_FATAL(ops);
        CU_ASSERT_EQUAL(as_predictor_find(ops->name), ops);
        CU_ASSERT_PTR_NOT_NULL(ops->doc);
        for (int in = 0; in < (ops->wraps ? 2 : 1); in++)
            for (int k = 0; k < 2; k++) {
                const as_classes_t *cl = k ? &three : &seven;
                inst_t a, b;
                long held = as_test_mem_held();
                create(&a, ops, inners[in], cl);
                create(&b, ops, inners[in], cl);
                drive(&a, &b, cl);
                destroy(&a);
                destroy(&b);
                if (as_test_mem_held() != held)
                    CU_FAIL("a predictor kept arena bytes after destroy");
            }
    }
}

int main(void)
{
    static const as_test_t tests[] = {
        {"every registered predictor", test_every_predictor}, {NULL, NULL}};
    return as_test_main("predictors_conformance", tests);
}

/* basic.c - predictors `none` and `oracle`.
 *
 * `none` makes no prediction (AS_CLASS_NONE): the policy decides what an
 * object without a class gets; its `class` parameter instead gives every
 * object one fixed class.
 * `oracle` answers the class of the true lifetime the engine supplies; it is
 * the upper bound every learned predictor is compared against. Neither keeps
 * per-object state, so neither allocates. The lifetime-class helpers are in
 * common/lifetime.c.
 */
#include "predictors/basic.h"

/* ------------------------------------------------------------------ none */

enum { NONE_CLASS, NONE_NPARAMS };
#define NONE_NO_CLASS AS_MAX_CLASSES /* the param value meaning "no class" */
static const as_param_spec_t none_params[] = {
    [NONE_CLASS] = {"class", AS_PARAM_U64, "16", 0, AS_MAX_CLASSES, NULL,
                    "class given to every object (clamped to the last); 16 "
                    "= no prediction: the policy decides"},
};

typedef struct {
    as_mem_t mem; /* first: basic_destroy frees through it */
    int32_t cls;
} none_state_t;

static int none_create(const as_predictor_config_t *cfg, void **state)
{
    none_state_t *s = as_mem_alloc(cfg->mem, sizeof *s);
    if (!s) return AS_ENOMEM;
    s->mem = *cfg->mem;
    uint64_t c = cfg->params[NONE_CLASS].u;
    s->cls = c == NONE_NO_CLASS     ? AS_CLASS_NONE
             : c >= cfg->classes->n ? (int32_t)cfg->classes->n - 1
                                    : (int32_t)c;
    *state = s;
    return AS_OK;
}

static int32_t none_predict(void *state, const as_pred_ctx_t *ctx)
{
    (void)ctx;
    return ((none_state_t *)state)->cls;
}

static void none_destroy(void *state)
{
    none_state_t *s = state;
    as_mem_t mem = s->mem;
    as_mem_free(&mem, s, sizeof *s);
}

const as_predictor_ops_t as_predictor_none = {
    .name = "none",
    .doc = "no prediction (or one fixed class for every object)",
    .params = none_params,
    .n_params = NONE_NPARAMS,
    .create = none_create,
    .predict = none_predict,
    .destroy = none_destroy,
};

/* ---------------------------------------------------------------- oracle */

typedef struct {
    as_mem_t mem;
    as_classes_t classes;
} oracle_state_t;

static int oracle_create(const as_predictor_config_t *cfg, void **state)
{
    oracle_state_t *s = as_mem_alloc(cfg->mem, sizeof *s);
    if (!s) return AS_ENOMEM;
    s->mem = *cfg->mem;
    s->classes = *cfg->classes;
    *state = s;
    return AS_OK;
}

static int32_t oracle_predict(void *state, const as_pred_ctx_t *ctx)
{
    const oracle_state_t *s = state;
    int32_t c = ctx->true_class;
    if (c < 0 || (uint32_t)c >= s->classes.n) c = (int32_t)s->classes.n - 1;
    return c;
}

static void oracle_destroy(void *state)
{
    oracle_state_t *s = state;
    as_mem_t mem = s->mem;
    as_mem_free(&mem, s, sizeof *s);
}

const as_predictor_ops_t as_predictor_oracle = {
    .name = "oracle",
    .doc = "the true lifetime class (from a pre-pass over the trace)",
    .needs_oracle = 1,
    .create = oracle_create,
    .predict = oracle_predict,
    .destroy = oracle_destroy,
};

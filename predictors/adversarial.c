/* adversarial.c - predictor `adversarial`: class 0 for every object.
 *
 * Keeps no state beyond its arena (so destroy can free itself) and never
 * reads the true class; it exists to measure how a lifetime-aware policy
 * degrades when every prediction is as short as possible.
 */
#include "predictors/adversarial.h"

typedef struct {
    as_mem_t mem;
    uint64_t predictions;
} adversarial_state_t;

static int adversarial_create(const as_predictor_config_t *cfg, void **state)
{
    adversarial_state_t *s = as_mem_alloc(cfg->mem, sizeof *s);
    if (!s) return AS_ENOMEM;
    s->mem = *cfg->mem;
    *state = s;
    return AS_OK;
}

static int32_t adversarial_predict(void *state, const as_pred_ctx_t *ctx)
{
    (void)ctx;
    ((adversarial_state_t *)state)->predictions++;
    return 0;
}

static void adversarial_stats(void *state, as_pred_stat_fn fn, void *arg)
{
    fn(arg, "adversarial_predictions",
       (double)((adversarial_state_t *)state)->predictions);
}

static void adversarial_destroy(void *state)
{
    adversarial_state_t *s = state;
    as_mem_t mem = s->mem;
    as_mem_free(&mem, s, sizeof *s);
}

const as_predictor_ops_t as_predictor_adversarial = {
    .name = "adversarial",
    .doc = "always the shortest class (worst case for lifetime-aware "
           "policies)",
    .create = adversarial_create,
    .predict = adversarial_predict,
    .stats = adversarial_stats,
    .destroy = adversarial_destroy,
};

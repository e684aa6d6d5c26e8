/* registry.c - the one table of lifetime predictors, by name.
 *
 * Adding a predictor: declare its ops in its own header and add one line to
 * as_predictors[] below; the command line and the conformance suite read it.
 */
#include "predictors/predictor.h"
#include "common/util.h"

#include "predictors/basic.h"
#include "predictors/adversarial.h"
#include "predictors/cached/cached.h"
#include "predictors/lstm/lstm.h"
#include "predictors/site/site.h"

static const as_predictor_ops_t *const as_predictors[] = {
    &as_predictor_none,
    &as_predictor_oracle,
    &as_predictor_adversarial,
    &as_predictor_site,
    &as_predictor_cached,
    &as_predictor_lstm,
    NULL /* keep last */
};

#define AS_N_PREDICTORS (sizeof as_predictors / sizeof as_predictors[0] - 1)

const as_predictor_ops_t *as_predictor_find(const char *name)
{
    for (size_t i = 0; i < AS_N_PREDICTORS; i++)
        if (as_str_eq(as_predictors[i]->name, name)) return as_predictors[i];
    return NULL;
}

size_t as_predictor_count(void)
{
    return AS_N_PREDICTORS;
}

const as_predictor_ops_t *as_predictor_at(size_t i)
{
    return i < AS_N_PREDICTORS ? as_predictors[i] : NULL;
}

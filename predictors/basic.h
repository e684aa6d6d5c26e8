/* basic.h - the predictors that need no model: `none` (every object in one
 * class) and `oracle` (the true lifetime class, which the engine computes in
 * a pre-pass over the trace). */
#ifndef AS_PREDICTORS_BASIC_H
#define AS_PREDICTORS_BASIC_H

#include "predictors/predictor.h"

extern const as_predictor_ops_t as_predictor_none;
extern const as_predictor_ops_t as_predictor_oracle;

#endif /* AS_PREDICTORS_BASIC_H */

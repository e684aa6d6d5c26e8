/* adversarial.h - the `adversarial` predictor: always the shortest class.
 *
 * The worst case for a lifetime-aware policy: every object is predicted to
 * die within the shortest class bound, so every long-lived object is an
 * under-prediction. LLAMA must then recover through deadline promotions; the
 * tests and docs/policies/llama.md bound its fragmentation under it.
 */
#ifndef AS_PREDICTORS_ADVERSARIAL_H
#define AS_PREDICTORS_ADVERSARIAL_H

#include "predictors/predictor.h"

extern const as_predictor_ops_t as_predictor_adversarial;

#endif /* AS_PREDICTORS_ADVERSARIAL_H */

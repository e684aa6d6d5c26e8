/* lstm.h - the `lstm` lifetime predictor: a trained LSTM over the words of
 * the symbolized stack (LLAMA's predictor).
 *
 * Type map
 *   as_predictor_lstm   the registry entry
 *
 * It reads the context's frame symbols and modules (as_pred_ctx_t.symbols,
 * .modules, which the engine fills because needs_symbols is set), cuts them
 * into words (tokens.h), looks the words up in the model's vocabulary and
 * runs the network (model.h). It learns nothing online: the model comes from
 * `allocsim train` and is loaded through the load_bytes hook (`allocsim run
 * --predictor-load MODEL`). Without a model it makes no prediction
 * (AS_CLASS_NONE). A model trained for other lifetime classes is refused.
 * predict is safe for concurrent callers once a model is loaded (up to 32
 * forward passes at once, each on scratch of its own; more wait), so one
 * instance may serve every thread, e.g. behind per-thread `cached` tables;
 * loading is not concurrent with predicting. Put it behind `cached` to skip
 * the network for repeated contexts.
 */
#ifndef AS_PREDICTORS_LSTM_LSTM_H
#define AS_PREDICTORS_LSTM_LSTM_H

#include "predictors/predictor.h"
#include "predictors/lstm/model.h"

extern const as_predictor_ops_t as_predictor_lstm;

/* as_lstm_predictor_model: @return the model an lstm predictor state holds,
 * or NULL before one is loaded (for reports: its dimensions and size). */
const as_lstm_model_t *as_lstm_predictor_model(const void *state);

#endif /* AS_PREDICTORS_LSTM_LSTM_H */

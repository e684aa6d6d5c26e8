/* lstmfit.h - training an LSTM lifetime model from traces, the part shared
 * by `allocsim train` and `allocsim eval --train`.
 *
 * Type map
 *   as_lstm_fit_opts_t  the knobs: network and training (train.h), the
 *                       vocabulary's threshold, progress on stderr
 *   as_lstm_fit_t       the result: the model file's bytes and what it
 *                       took (samples, contexts, words, epochs, seconds)
 */
#ifndef AS_SIM_LSTMFIT_H
#define AS_SIM_LSTMFIT_H

#include <stddef.h>
#include <stdint.h>

#include "common/lifetime.h"
#include "predictors/lstm/train.h"

typedef struct {
    as_lstm_hparams_t hp;
    uint32_t min_contexts;   /* words in fewer distinct contexts are OOV */
    int balanced;            /* class weights: inverse class frequency */
    int progress;            /* one line per epoch on stderr */
    uint64_t sample_bytes;   /* 0: every allocation; else the profiler's
                              byte-weighted sampling (lstmdata.h) */
    const char *export_path; /* non-NULL: write the tokenized contexts and
                                the split there before training
                                (as_lstm_export) */
} as_lstm_fit_opts_t;

typedef struct {
    double allocs;            /* allocations the samples stand for */
    uint64_t samples;         /* samples kept */
    uint32_t contexts, vocab; /* distinct contexts, words with an id */
    as_lstm_result_t res;     /* the training run */
    double read_s, train_s;   /* CPU seconds: reading, training */
    uint8_t *model;           /* the model file (free() it) */
    size_t model_len;
} as_lstm_fit_t;

/* as_lstm_export: write data's contexts to path in the sample file format
 * of docs/predictors/lstm.md (text; the split of as_lstm_split with hp).
 * @return 0, AS_EIO (err set), AS_ENOMEM. */
int as_lstm_export(const char *path, const as_lstm_data_t *data,
                   const as_lstm_hparams_t *hp, char *err, size_t errcap);

/* as_lstm_fit_defaults: train.h's defaults, min_contexts 2, unweighted. */
void as_lstm_fit_defaults(as_lstm_fit_opts_t *o);

/* as_lstm_fit: read the traces, train, write the model into out->model.
 * @return 0; a trace error with "path: offset N: what" in err; AS_EINVAL
 * when the traces hold no allocation; AS_ENOMEM. */
int as_lstm_fit(const char *const *paths, int n_paths, const as_classes_t *cl,
                const as_lstm_fit_opts_t *o, as_lstm_fit_t *out, char *err,
                size_t errcap);

#endif /* AS_SIM_LSTMFIT_H */

/* train.h - training the LSTM lifetime model (host code, not for the
 * allocator: it uses libc allocation and GSL's CBLAS).
 *
 * Type map
 *   as_lstm_data_t      training contexts: word ids and, per context, the
 *                       number of allocations that ended in each class
 *   as_lstm_hparams_t   the knobs (sizes, epochs, batch, BPTT window,
 *                       Adam, validation split, seed, class weights)
 *   as_lstm_net_t       the network in doubles, with Adam's moments
 *   as_lstm_epoch_t     one epoch's figures, for progress
 *   as_lstm_result_t    what a training run did
 *
 * The loss of a mini-batch is the cross-entropy of each context's
 * prediction against its observed class counts, weighted by class weight
 * and by the context's weight (allocations, 1 per context, or their square
 * root), divided by the batch's total weight. Gradients are exact
 * back-propagation through time over the last `bptt` steps (truncated
 * BPTT; bptt >= max_tokens is the full gradient). Updates are Adam with a
 * global-norm clip. Sequences of a batch are aligned at their last word
 * (left padding; padded steps keep the zero state). Everything random (the
 * initial weights, the validation split, the order of each epoch) comes
 * from the seed, and CBLAS runs single-threaded, so the same data and
 * seed give the same model bytes.
 */
#ifndef AS_PREDICTORS_LSTM_TRAIN_H
#define AS_PREDICTORS_LSTM_TRAIN_H

#include <stddef.h>
#include <stdint.h>

#include "predictors/lstm/model.h"

typedef struct {
    uint32_t classes, vocab;
    uint32_t n;    /* contexts */
    uint32_t *off; /* n + 1 offsets: context i is tok[off[i] .. off[i+1]) */
    uint32_t *tok; /* word ids < vocab */
    double *count; /* n x classes: allocations of context i per class */
} as_lstm_data_t;

enum { AS_LSTM_WEIGHT_ALLOCS, AS_LSTM_WEIGHT_CONTEXT, AS_LSTM_WEIGHT_SQRT };

typedef struct {
    uint32_t embed, hidden, layers, max_tokens;
    uint32_t epochs, batch, bptt, patience;
    int weighting; /* AS_LSTM_WEIGHT_* */
    double lr;     /* Adam's step */
    double clip;   /* global gradient-norm bound (0: none) */
    double valid_frac;
    uint64_t seed;
    double class_weight[AS_MAX_CLASSES]; /* 1 each unless set */
} as_lstm_hparams_t;

typedef struct as_lstm_net as_lstm_net_t;

typedef struct {
    uint32_t epoch, epochs;
    double train_loss, valid_loss, valid_acc; /* valid_*: -1 without a split */
    int best;                                 /* this epoch is the best yet */
} as_lstm_epoch_t;

typedef void (*as_lstm_progress_fn)(void *arg, const as_lstm_epoch_t *e);

typedef struct {
    uint32_t n_train, n_valid; /* contexts */
    uint32_t epochs_run, best_epoch;
    double valid_loss, valid_acc; /* of the kept model; -1 without a split */
    double train_loss;            /* last epoch's */
} as_lstm_result_t;

/* as_lstm_hparams_default: embed 16, hidden 32, 1 layer, 32 words, 30
 * epochs, batch 32, full BPTT, patience 4, sqrt weighting, lr 0.01,
 * clip 5, 10% validation, seed 1, class weights 1. */
void as_lstm_hparams_default(as_lstm_hparams_t *hp);

/* as_lstm_net_create: a network of shape d with weights drawn from seed
 * (uniform in +-1/sqrt(hidden); forget-gate bias 1). @return NULL when out
 * of memory. */
as_lstm_net_t *as_lstm_net_create(const as_lstm_dims_t *d, uint64_t seed);

void as_lstm_net_destroy(as_lstm_net_t *net);

/* as_lstm_net_params: @return the weights (layout in *lay), writable. */
double *as_lstm_net_params(as_lstm_net_t *net, as_lstm_layout_t *lay);

/* as_lstm_net_loss: the weighted loss of contexts idx[0..k) (see above) and,
 * when grad is not NULL, its gradient (lay.total doubles, overwritten).
 * weighting is AS_LSTM_WEIGHT_*; class_weight has data->classes entries.
 * @return the loss, or a negative number when out of memory. */
double as_lstm_net_loss(as_lstm_net_t *net, const as_lstm_data_t *data,
                        const uint32_t *idx, uint32_t k, int weighting,
                        const double *class_weight, uint32_t bptt,
                        double *grad);

/* as_lstm_net_classify: the most likely class of context i (double
 * precision; ties go to the longer class). */
uint32_t as_lstm_net_classify(as_lstm_net_t *net, const as_lstm_data_t *data,
                              uint32_t i);

/* as_lstm_train: train net on data with hp (validation split, early
 * stopping on the validation loss: the best epoch's weights are kept).
 * progress (may be NULL) is called after every epoch.
 * @return 0 or AS_ENOMEM. */
/* as_lstm_split: the validation split of as_lstm_train for n contexts:
 * order[0..n) receives the contexts in the seed's shuffled order, the first
 * (returned) count of them held out for validation, the rest trained on.
 * *rng (may be NULL) receives the generator's state after the shuffle, from
 * which training draws each epoch's order. @return the held-out count. */
uint32_t as_lstm_split(uint32_t n, const as_lstm_hparams_t *hp, uint32_t *order,
                       uint64_t *rng);

int as_lstm_train(as_lstm_net_t *net, const as_lstm_data_t *data,
                  const as_lstm_hparams_t *hp, as_lstm_progress_fn progress,
                  void *arg, as_lstm_result_t *res);

/* as_lstm_net_write: the model file of net (weights rounded to float32;
 * format in model.h) into buf. @return as as_lstm_model_write. */
size_t as_lstm_net_write(const as_lstm_net_t *net, const uint64_t *bound_ns,
                         const char *const *words, const uint8_t *lens,
                         uint8_t *buf, size_t cap);

#endif /* AS_PREDICTORS_LSTM_TRAIN_H */

/* lstmdata.h - training samples for the LSTM lifetime model: contexts cut
 * into words, merged, and a vocabulary.
 *
 * Type map
 *   as_lstm_corpus_t  distinct contexts (the last max_tokens words of a
 *                     stack and its size word) with the number of
 *                     allocations per true class, and every word seen
 *
 * Identical contexts are merged as they are added (same words in the same
 * order), so memory and training cost grow with distinct contexts, not
 * with allocations. build() then makes the vocabulary: id 0 is the
 * out-of-vocabulary word, and every word that occurs in at least
 * min_contexts distinct contexts gets an id (in order of first
 * appearance, so the ids depend only on the data). Rarer words train the
 * out-of-vocabulary embedding, which is what an unseen word meets later.
 */
#ifndef AS_SIM_LSTMDATA_H
#define AS_SIM_LSTMDATA_H

#include <stdint.h>

#include "common/lifetime.h"
#include "predictors/lstm/train.h"
#include "sim/lifewalk.h"

typedef struct as_lstm_corpus as_lstm_corpus_t;

/* as_lstm_corpus_create: @return an empty corpus, NULL when out of memory. */
as_lstm_corpus_t *as_lstm_corpus_create(uint32_t classes, uint32_t max_tokens);

void as_lstm_corpus_destroy(as_lstm_corpus_t *c);

/* as_lstm_corpus_add: n allocations of one context (frames innermost
 * first; symbols/modules may be NULL) that ended in class cls.
 * @return 0 or AS_ENOMEM. */
int as_lstm_corpus_add(as_lstm_corpus_t *c, const char *const *symbols,
                       const char *const *modules, uint32_t depth,
                       uint64_t size, uint32_t cls, double n);

/* as_lstm_corpus_add_trace: the allocations of a trace (lifewalk.h): all
 * of them when sample_bytes is 0; else what a production lifetime profiler
 * would see (TCMalloc samples about every 2 MiB allocated): an object of
 * size s is kept with probability p = 1 - exp(-s / sample_bytes) (byte-
 * weighted sampling; the draw is a hash of the object id and seed, so it
 * is deterministic), only when it died inside the trace (the profiler
 * reports allocation-free pairs of its window), and counts 1/p
 * allocations. @return 0 or the walk's error (message in err). */
int as_lstm_corpus_add_trace(as_lstm_corpus_t *c, const char *path,
                             const as_classes_t *cl, uint64_t sample_bytes,
                             uint64_t seed, char *err, size_t errcap);

/* as_lstm_corpus_samples: @return the samples added (allocations before
 * weighting). */
uint64_t as_lstm_corpus_samples(const as_lstm_corpus_t *c);

/* as_lstm_corpus_build: the vocabulary and the training data (owned by the
 * corpus; valid until destroy). @return 0 or AS_ENOMEM. */
int as_lstm_corpus_build(as_lstm_corpus_t *c, uint32_t min_contexts,
                         as_lstm_data_t *out);

/* as_lstm_corpus_words: after build, the words of ids 1..vocab-1 (not
 * terminated; lengths in *lens). @return vocab (ids, 0 included). */
uint32_t as_lstm_corpus_words(const as_lstm_corpus_t *c,
                              const char *const **words, const uint8_t **lens);

/* as_lstm_corpus_allocs: @return the allocations added (sum of n). */
double as_lstm_corpus_allocs(const as_lstm_corpus_t *c);

/* as_lstm_corpus_contexts: @return the distinct contexts. */
uint32_t as_lstm_corpus_contexts(const as_lstm_corpus_t *c);

#endif /* AS_SIM_LSTMDATA_H */

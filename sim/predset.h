/* predset.h - the predictors of one run: the one whose classes the policy
 * gets, its inner predictor when it wraps one, and the optional shadow
 * predictor (asked on every allocation, never heard by the policy).
 *
 * Type map
 *   as_predset_spec_t  which predictors, by registry name
 *   as_pred_query_t    an object as the engine knows it at allocation
 *   as_predset_t       the instances and their trained tables (opaque)
 *
 * Life of a set: resolve (find the predictors, add their parameter parts),
 * create (after the parameters are final), optionally load a trained table
 * and give it the oracle's table (oracle.h), then predict/observe once per
 * object (with the stacks of each batch, set_stacks), then
 * save and report statistics, destroy.
 */
#ifndef AS_SIM_PREDSET_H
#define AS_SIM_PREDSET_H

#include <stdint.h>

#include "common/lifetime.h"
#include "common/mem.h"
#include "predictors/predictor.h"
#include "sim/oracle.h"
#include "sim/params.h"
#include "sim/sink.h"
#include "sim/stackdefs.h"
#include "traces/trace.h"

typedef struct {
    const char *predictor; /* "name" or "wrapper:inner"; NULL = "none" */
    const char *inner;     /* inner of a wrapper named without ':' (NULL:
                              the wrapper wraps "none") */
    const char *shadow;    /* the shadow's "name" or "wrapper:inner"; NULL =
                              no shadow */
    const as_classes_t *classes; /* must outlive the set */
} as_predset_spec_t;

typedef struct {
    uint64_t object, now_ns, size; /* id, allocation time, requested bytes */
    uint32_t thread, cpu, stack;
    uint64_t stack_height; /* bytes, 0 = unknown (as_event_t.stack_height) */
} as_pred_query_t;

typedef struct as_predset as_predset_t;

/* as_predset_resolve: find the predictors of spec and add their parameter
 * parts to rp (predictor, its inner, shadow, shadow's inner, in that order).
 * @return 0; AS_ENOTFOUND for an unknown name (err lists the valid ones);
 * AS_EINVAL for an inner given to a predictor that wraps none; AS_ENOMEM. */
int as_predset_resolve(as_predset_t **out, const as_predset_spec_t *spec,
                       as_run_params_t *rp, char *err, size_t errcap);

/* as_predset_create: create every instance with its resolved parameters.
 * The primary predictor's tables come from `meta` (they count as allocator
 * metadata), the shadow's from `host`. The reader gives stacks and frames to
 * the predictors and the oracle's pre-pass; it must outlive the set.
 * @return 0, or the failing create's error with err naming the predictor. */
int as_predset_create(as_predset_t *ps, const as_run_params_t *rp,
                      const as_mem_t *meta, const as_mem_t *host,
                      as_trace_reader_t *reader, char *err, size_t errcap);

/* as_predset_load: read a trained table from `path` into the predictor (or
 * its inner one when only that can load). @return 0; AS_EINVAL when neither
 * can; AS_EIO; AS_EFORMAT ("path:line: not a valid ... table"); AS_ENOMEM. */
int as_predset_load(as_predset_t *ps, const char *path, char *err,
                    size_t errcap);

/* as_predset_save: write the trained table to `path` (complete or absent).
 * @return 0, AS_EINVAL when no predictor of the set can save, AS_EIO,
 * AS_ENOMEM. */
int as_predset_save(as_predset_t *ps, const char *path, char *err,
                    size_t errcap);

/* as_predset_needs_oracle: @return 1 when a predictor of the set needs
 * the true classes (an oracle.h table, built by the caller). */
int as_predset_needs_oracle(const as_predset_t *ps);

/* as_predset_use_oracle: the true classes the predictors are given (o
 * must outlive the set; built with the set's classes), read through a
 * cursor of the set's own. @return 0 or AS_ENOMEM. */
int as_predset_use_oracle(as_predset_t *ps, const as_oracle_t *o);

/* as_predset_oracle_error: @return 0, or AS_EIO when reading the oracle's
 * table failed (the classes given since are wrong: fail the run). */
int as_predset_oracle_error(const as_predset_t *ps);

/* as_predset_predict: ask the predictor (and the shadow) for q's class,
 * clamped to the run's classes; AS_CLASS_NONE passes through. *shadow is
 * -1 when there is no shadow. */
void as_predset_predict(as_predset_t *ps, const as_pred_query_t *q,
                        int32_t *predicted, int32_t *shadow);

/* as_predset_observe: tell the predictors an object's outcome, each with
 * its own prediction (the shadow only when it made one, shadow >= 0). */
void as_predset_observe(as_predset_t *ps, const as_pred_query_t *q,
                        uint64_t lifetime_ns, uint32_t actual_class,
                        int32_t predicted, int32_t shadow);

/* as_predset_set_stacks: the stacks the next predictions and outcomes
 * read (the copies of the batch being replayed; stackdefs.h). A stack
 * outside v reads as no stack. */
void as_predset_set_stacks(as_predset_t *ps, const as_stackdefs_view_t *v);

/* as_predset_needs_symbols: @return 1 when a predictor of the set reads
 * the frames' names, which come from the reader at each prediction (so
 * the replay must not decode on another thread). */
int as_predset_needs_symbols(const as_predset_t *ps);

/* as_predset_has_shadow: @return 1 when the set has a shadow predictor. */
int as_predset_has_shadow(const as_predset_t *ps);

/* as_predset_stats: append the predictors' statistics to list, named
 * predictor.*, predictor.inner.* and shadow.*. */
void as_predset_stats(const as_predset_t *ps, as_stat_list_t *list);

void as_predset_destroy(as_predset_t *ps);

#endif /* AS_SIM_PREDSET_H */

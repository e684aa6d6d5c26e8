/* outcomes.h - how well the run's predictions matched what happened.
 *
 * Type map
 *   as_outcomes_t   confusion matrices of the predictor and of the shadow,
 *                   the count of allocations without a prediction, and
 *                   per-site outcome counts (opaque)
 *   as_outcome_t    one object's outcome as the engine reports it
 *
 * The engine reports every prediction (as_outcomes_predicted) and every
 * object's outcome, once, when it is freed or at the end of the trace for
 * objects never freed. as_outcomes_finish writes the matrices, the
 * accuracies and the most-mispredicted sites into the run's result.
 * Accuracy is over predicted objects only: ok / all of the matrix.
 */
#ifndef AS_SIM_OUTCOMES_H
#define AS_SIM_OUTCOMES_H

#include <stdint.h>

#include "traces/trace.h"

struct as_run_result;

typedef struct {
    uint64_t size;     /* requested bytes */
    uint32_t stack;    /* allocation site */
    int32_t predicted; /* the predictor's class, or < 0 for none */
    int32_t shadow;    /* the shadow's class, or < 0 for none */
    uint32_t actual;   /* the class of the object's true lifetime */
} as_outcome_t;

typedef struct as_outcomes as_outcomes_t;

/* as_outcomes_create: @return 0 or AS_ENOMEM. n_classes <= AS_MAX_CLASSES. */
int as_outcomes_create(as_outcomes_t **out, uint32_t n_classes);
void as_outcomes_destroy(as_outcomes_t *o);

/* as_outcomes_predicted: one prediction of the predictor that places
 * objects (AS_CLASS_NONE counts as an allocation without a prediction). */
void as_outcomes_predicted(as_outcomes_t *o, int32_t predicted);

/* as_outcomes_add: one object's outcome. */
void as_outcomes_add(as_outcomes_t *o, const as_outcome_t *x);

/* as_outcomes_finish: fill res's prediction fields: n_classes, both
 * confusion matrices, accuracies, unpredicted_allocs, the shadow's figures
 * when has_shadow, and the AS_TOP_SITES sites with the most mispredicted
 * bytes, described from the reader's stacks and frames. */
void as_outcomes_finish(const as_outcomes_t *o, int has_shadow,
                        const as_trace_reader_t *reader,
                        struct as_run_result *res);

#endif /* AS_SIM_OUTCOMES_H */

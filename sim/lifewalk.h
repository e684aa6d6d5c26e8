/* lifewalk.h - the allocations of a trace with their true lifetime class,
 * for training and scoring lifetime predictors offline (`allocsim train`,
 * `allocsim eval`).
 *
 * Type map
 *   as_lifewalk_alloc_t  one allocation as a predictor would have seen it,
 *                        with its outcome
 *
 * The walk reads the trace once and reports each allocation when its
 * lifetime is known: at its free (or realloc), and at the end of the trace
 * for objects never freed (lifetime AS_LIFETIME_INF, the last class, as the
 * engine scores them). A realloc is the free of the old object and the
 * allocation of the new one, at the realloc's stack. The context's frame
 * names are looked up when it is reported, so they are those of the
 * trace's latest definitions.
 */
#ifndef AS_SIM_LIFEWALK_H
#define AS_SIM_LIFEWALK_H

#include <stdint.h>

#include "common/lifetime.h"
#include "predictors/predictor.h"
#include "traces/trace.h"

typedef struct {
    as_pred_ctx_t ctx;    /* stack, frames, pcs, symbols, modules, size,
                             thread, time; true_class set */
    uint64_t lifetime_ns; /* AS_LIFETIME_INF: never freed */
    uint32_t cls;         /* the true class */
} as_lifewalk_alloc_t;

typedef void (*as_lifewalk_fn)(void *arg, const as_lifewalk_alloc_t *a);

/* as_lifewalk_trace: call fn for every allocation of the trace at `path`
 * with classes `cl`. err receives "path: offset N: what" on failure.
 * @return 0, a trace error (AS_EIO, AS_EFORMAT, ...), or AS_ENOMEM. */
int as_lifewalk_trace(const char *path, const as_classes_t *cl,
                      as_lifewalk_fn fn, void *arg, char *err, size_t errcap);

#endif /* AS_SIM_LIFEWALK_H */

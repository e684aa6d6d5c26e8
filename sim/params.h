/* params.h - the parameters of one run, resolved from the parts' tables and
 * the `--param` assignments.
 *
 * Type map
 *   as_param_part_t      one part (the policy, a predictor, "os"): its spec
 *                        table and the resolved value of every row
 *   as_run_params_t      every part of a run, in the order they were added
 *   as_resolved_param_t  one resolved parameter with its part and spec, as
 *                        the summary writes it (a typed value, never text)
 *
 * A part's values start at its table's defaults; an assignment
 * "part.name=value" sets the parameter in every part of that name (a
 * predictor may appear twice: as the predictor and as the shadow), and
 * "name=value" sets it in the first part that has it. Errors name the
 * parameter and what it accepts (its choices, type or bounds), or list the
 * parameters of the part when the name is unknown.
 */
#ifndef AS_SIM_PARAMS_H
#define AS_SIM_PARAMS_H

#include <stddef.h>

#include "common/param.h"

#define AS_PART_MAX_PARAMS 64 /* rows of one part's table */
#define AS_RUN_MAX_PARTS 8 /* policy, 2 x (predictor, inner), os, check, tlb */

typedef struct {
    const char *part; /* policy or predictor name, or "os"; static storage */
    const as_param_spec_t *specs;
    size_t n;
    as_param_value_t values[AS_PART_MAX_PARAMS]; /* values[i] for specs[i] */
} as_param_part_t;

typedef struct {
    as_param_part_t parts[AS_RUN_MAX_PARTS];
    size_t n;
} as_run_params_t;

typedef struct {
    const char *part;            /* static storage (a registry name, "os") */
    const as_param_spec_t *spec; /* its row in the part's table */
    as_param_value_t value;
} as_resolved_param_t;

/* as_run_params_add: add a part with its table's defaults; *index (may be
 * NULL) receives its position. @return 0, or AS_EINVAL (too many parts or
 * rows, or a bad default: a bug in the table) with err naming the part. */
int as_run_params_add(as_run_params_t *rp, const char *part,
                      const as_param_spec_t *specs, size_t n, int *index,
                      char *err, size_t errcap);

/* as_run_params_apply: apply one "part.name=value" or "name=value".
 * @return 0; AS_ENOTFOUND (no such part or parameter: err lists the valid
 * names); AS_EINVAL (not a value of the parameter's type, err names the
 * choices or the type; or outside its bounds, err gives them). */
int as_run_params_apply(as_run_params_t *rp, const char *assignment, char *err,
                        size_t errcap);

/* as_run_params_target: the part and row that assignment `a` would set
 * (the first one, for a name several parts share). @return 1 with *part
 * and *row, or 0 when it names no parameter of the run. */
int as_run_params_target(const as_run_params_t *rp, const char *a, int *part,
                         int *row);

/* as_run_params_check: verify that every value of part `index` lies
 * within its spec's bounds (values set from a configuration struct rather
 * than parsed from text). @return 0, or AS_ERANGE with err naming
 * "part.name", the value and the bounds. */
int as_run_params_check(const as_run_params_t *rp, int index, char *err,
                        size_t errcap);

/* as_run_params_values: the resolved values of part `index`. */
const as_param_value_t *as_run_params_values(const as_run_params_t *rp,
                                             int index);

/* as_run_params_export: every resolved parameter, part by part in table
 * order, into out[0..cap). @return how many were written. */
size_t as_run_params_export(const as_run_params_t *rp, as_resolved_param_t *out,
                            size_t cap);

#endif /* AS_SIM_PARAMS_H */

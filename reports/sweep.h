/* sweep.h - a parameter sweep: its JSON spec (documented in docs/sweeps.md),
 * parsed and checked, and its expansion into one run per point of
 * traces × policies × predictors × parameter grids.
 *
 * A grid axis applies to the runs it names: a key "P.name" whose P is one of
 * the spec's policies varies only that policy's runs; one whose P is (a part
 * of) a predictor varies only that predictor's runs; any other key ("os.*")
 * varies every run. Axes keep the order of the spec.
 *
 * Map of the types: the spec owns every string (values as text, numbers in
 * shortest exact form); a run points into the spec and owns its parameter
 * array and name. A run's name is derived from its content (readable
 * fields plus a hash of the whole configuration), so editing a spec never
 * makes a finished run stand for a different configuration.
 */
#ifndef AS_REPORTS_SWEEP_H
#define AS_REPORTS_SWEEP_H

#include <stddef.h>

typedef struct {
    char *key;     /* "part.name" */
    size_t n;      /* >= 1 values */
    char **values; /* their text */
} as_sweep_axis_t;

typedef struct {
    size_t n_traces, n_policies, n_predictors, n_axes, n_run_args;
    char **traces, **policies, **predictors, **run_args;
    as_sweep_axis_t *axes;
    char *baseline; /* policy for waste_reduction, or NULL */
    char *title;    /* report title, or NULL */
} as_sweep_spec_t;

typedef struct {
    const char *trace, *policy, *predictor; /* into the spec */
    size_t n_params;
    char **params;  /* "key=value", axis order */
    char name[256]; /* run directory name, unique per configuration */
} as_sweep_run_t;

/* Limits: values of one range, and runs of one sweep. */
enum { AS_SWEEP_MAX_RANGE = 1000, AS_SWEEP_MAX_RUNS = 100000 };

/* as_sweep_parse: parse a spec from text[0..len) (need not be
 * NUL-terminated); `name` is used in messages ("NAME: line N: what").
 * @return 0, AS_EFORMAT (err), AS_ENOMEM. */
int as_sweep_parse(const char *text, size_t len, const char *name,
                   as_sweep_spec_t *s, char *err, size_t errcap);

/* as_sweep_free: release a parsed spec (safe on a zeroed one). */
void as_sweep_free(as_sweep_spec_t *s);

/* as_sweep_expand: every run of the sweep, traces outermost, then
 * policies, predictors and the axes that apply (first axis slowest).
 * @return 0, AS_ERANGE (more than AS_SWEEP_MAX_RUNS; err), AS_ENOMEM. */
int as_sweep_expand(const as_sweep_spec_t *s, as_sweep_run_t **runs, size_t *n,
                    char *err, size_t errcap);

/* as_sweep_runs_free: release the array of as_sweep_expand. */
void as_sweep_runs_free(as_sweep_run_t *runs, size_t n);

/* as_sweep_axis_applies: 1 when axis key `key` varies runs of `policy`
 * with `predictor` in spec s. */
int as_sweep_axis_applies(const as_sweep_spec_t *s, const char *key,
                          const char *policy, const char *predictor);

#endif /* AS_REPORTS_SWEEP_H */

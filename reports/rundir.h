/* rundir.h - one run directory as reports/ sees it: the figures of its
 * summary.json, read by key name, and the paths of its CSV files.
 *
 * The reader is defensive on purpose: a key it does not know is ignored, a
 * missing optional key leaves its field empty, and a parameter may be a
 * string, a number, a boolean or an object with a "value" member, so
 * summary files written by other versions of allocsim still load. Only a
 * file that is not JSON, or lacks policy.name, is an error.
 *
 * Map of the type: params and metrics are arrays owned by the run, in the
 * order of the file. Parameter keys carry their part ("tcmalloc.release_rate",
 * "os.thp", "oracle.x"); metric names are those of summary.json's `metrics`
 * object with nested objects joined by '.' ("fragmentation.jw1"), plus
 * "predictions.accuracy_by_allocs", "predictions.accuracy_by_bytes" and the
 * numeric `os` counters as "os.<name>".
 */
#ifndef AS_REPORTS_RUNDIR_H
#define AS_REPORTS_RUNDIR_H

#include <stddef.h>

typedef struct {
    char key[128];   /* "<part>.<name>" */
    char value[256]; /* the value as text: numbers in shortest exact form */
} as_run_param_t;

typedef struct {
    char name[96];
    double value;
} as_run_metric_t;

typedef struct {
    char dir[4096];        /* the directory as given (files are read here) */
    char name[4096];       /* how tables name the run (default: dir) */
    char trace_path[1024]; /* trace.path, "" when absent */
    char trace_name[256];  /* basename of trace_path ("?" when absent) */
    char trace_hash[64];   /* trace.hash, "" when absent */
    char policy[64];       /* policy.name */
    char predictor[128];   /* predictor.name, "name:inner" when wrapped */
    char command[2048];    /* the command line when recorded, else "" */
    int truncated;         /* trace.truncated: only the trace's whole
                              chunks were replayed (run --allow-truncated) */
    size_t n_params;
    as_run_param_t *params;
    size_t n_metrics;
    as_run_metric_t *metrics;
    int has_timing;      /* timing.wall_s present */
    double wall_s;       /* timing.wall_s (nondeterministic) */
    double events_per_s; /* timing.events_per_s (nondeterministic) */
} as_run_t;

/* as_run_load: read DIR/summary.json into r.
 * @return 0; AS_EIO (no summary.json), AS_EFORMAT (not JSON or no
 * policy.name), AS_ENOMEM; "DIR/summary.json: what" in err. */
int as_run_load(const char *dir, as_run_t *r, char *err, size_t errcap);

/* as_run_parse_summary: the same from a summary's text (`name` for
 * messages); the fuzzable core of as_run_load. r->dir is left empty. */
int as_run_parse_summary(const char *text, const char *name, as_run_t *r,
                         char *err, size_t errcap);

/* as_run_metric: @return 1 and the value of metric `name` in *v, or 0. */
int as_run_metric(const as_run_t *r, const char *name, double *v);

/* as_run_param: @return the value text of parameter `key`, or NULL. */
const char *as_run_param(const as_run_t *r, const char *key);

/* as_run_free: release r's arrays (safe on a zeroed run). */
void as_run_free(as_run_t *r);

/* as_run_format_number: v as the shortest decimal text that reads back as
 * v (integers without a fraction). @return buf. */
char *as_run_format_number(double v, char *buf, size_t cap);

#endif /* AS_REPORTS_RUNDIR_H */

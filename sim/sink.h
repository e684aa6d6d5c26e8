/* sink.h - how a run's figures leave the engine: the sink interface the
 * replay loop calls, and the list of named statistics it hands over.
 *
 * Type map
 *   as_stat_t       one named statistic of the policy or a predictor
 *   as_stat_list_t  a growable list of them (the stats hooks' callback
 *                   appends to it)
 *   as_run_sink_t   a consumer of a run: a table of optional hooks plus
 *                   the consumer's state
 *   as_sink_file_t  an output file a sink writes
 *
 * The loop knows nothing about files. It calls on_start once the trace is
 * open (saying whether it is truncated). At every metric sample (and once more
 * at the end of the trace) it calls on_sample with the state at that
 * instant and, when the policy keeps statistics, on_policy_stats with them;
 * when the run has succeeded it calls on_end with the configuration and the
 * complete result. Each output file is written by exactly one sink module
 * (sim/series.c, sim/tables.c, sim/summary.c). A hook returns 0 or a
 * negative error code with a message in err; the run then stops with that
 * error. Hooks that are NULL are skipped.
 */
#ifndef AS_SIM_SINK_H
#define AS_SIM_SINK_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "sim/metrics.h"
#include "sim/simos.h"

typedef struct {
    char name[64];
    double value;
} as_stat_t;

typedef struct {
    as_stat_t *v;
    size_t n, cap;
    const char *prefix; /* prepended to each name as it is added */
} as_stat_list_t;

/* as_stat_list_put: append prefix+name = value; the callback shape of the
 * policies' and predictors' stats hooks (arg is the list). A name that no
 * longer fits in memory is dropped: statistics are a report. */
void as_stat_list_put(void *arg, const char *name, double value);

struct as_run_config;
struct as_run_result;

/* What a sink learns before the first sample. */
typedef struct {
    const char *trace_path;
    /* 1: the trace has no valid footer index, so it ends truncated: the
     * run covers its whole chunks only */
    int truncated;
} as_run_start_t;

typedef struct as_run_sink {
    void *arg; /* the sink's own state, passed to every hook */
    /* on_start: the trace is open, no event replayed yet. */
    int (*on_start)(void *arg, const as_run_start_t *info, char *err,
                    size_t errcap);
    /* on_sample: the state at trace time s->t_ns, t_rel_ns after the first
     * event, with the simulated OS's counters at that instant. */
    int (*on_sample)(void *arg, uint64_t t_rel_ns, const as_sample_t *s,
                     const as_simos_counters_t *os, char *err, size_t errcap);
    /* on_policy_stats: the policy's statistics at the same instant. */
    int (*on_policy_stats)(void *arg, uint64_t t_rel_ns, const as_stat_t *v,
                           size_t n, char *err, size_t errcap);
    /* on_end: the run succeeded; res is complete. */
    int (*on_end)(void *arg, const struct as_run_config *cfg,
                  const struct as_run_result *res, char *err, size_t errcap);
} as_run_sink_t;

/* An output file handed to a sink that writes it whole at on_end. */
typedef struct {
    FILE *f;          /* open for writing; owned by the caller */
    const char *path; /* its name, for messages */
} as_sink_file_t;

/* as_sink_file_check: @return 0, or AS_EIO with "path: cannot write" in err
 * when a write to f has failed. */
int as_sink_file_check(const as_sink_file_t *o, char *err, size_t errcap);

/* as_sink_file_put_text: write text (a whole document from malloc, e.g.
 * cJSON_Print's) and a newline to o->f, then free text. text NULL means
 * building it ran out of memory.
 * @return 0; AS_ENOMEM ("path: out of memory building the document") for a
 * NULL text; AS_EIO as as_sink_file_check. */
int as_sink_file_put_text(const as_sink_file_t *o, char *text, char *err,
                          size_t errcap);

#endif /* AS_SIM_SINK_H */

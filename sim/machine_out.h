/* machine_out.h - the machine's files of a run of several programs on one
 * machine (as_engine_run_machine): machine_series.csv, a row per machine
 * sample, and machine_summary.json, the programs and the machine's
 * figures (docs/metrics.md, "Several programs on one machine"). Each is
 * written by a machine sink; the programs' own run directories are
 * written by their usual sinks (rundir.c).
 */
#ifndef AS_SIM_MACHINE_OUT_H
#define AS_SIM_MACHINE_OUT_H

#include "sim/engine.h"
#include "sim/sink.h"

/* machine_series.csv's writer state. */
typedef struct {
    as_sink_file_t out;
    uint64_t rows;
} as_machine_series_t;

/* as_machine_series_sink: a machine sink writing a header and a row per
 * sample to f. */
as_machine_sink_t as_machine_series_sink(as_machine_series_t *w, FILE *f,
                                         const char *path);

/* What machine_summary.json says of the programs besides the result:
 * their run directories (as named under the machine's directory) and
 * configurations, and the command line. */
typedef struct {
    as_sink_file_t out;
    const as_run_config_t *cfgs; /* [n] */
    const char *const *names;    /* [n] run directory names */
    size_t n;
    char *const *argv;
    int argc;
} as_machine_summary_t;

/* as_machine_summary_sink: a machine sink writing machine_summary.json to
 * f at the end. */
as_machine_sink_t as_machine_summary_sink(as_machine_summary_t *w, FILE *f,
                                          const char *path);

/* as_machine_summary_json: the same document as a string (free()), NULL
 * when out of memory. */
char *as_machine_summary_json(const as_machine_summary_t *w,
                              const as_machine_result_t *res);

#endif /* AS_SIM_MACHINE_OUT_H */

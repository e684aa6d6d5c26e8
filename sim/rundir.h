/* rundir.h - one run written as a run directory: summary.json, series.csv,
 * policy_series.csv, confusion.csv and histograms.csv, each written by its
 * sink module (summary.c, series.c, tables.c) while the engine runs.
 */
#ifndef AS_SIM_RUNDIR_H
#define AS_SIM_RUNDIR_H

#include "sim/engine.h"

/* The figures `allocsim demo` tabulates, handed back without re-reading
 * summary.json. */
typedef struct {
    as_metrics_summary_t metrics;
    double events_per_s;
} as_run_brief_t;

/* as_run_to_dir: run cfg and write DIR/summary.json, series.csv,
 * policy_series.csv, confusion.csv and histograms.csv (nothing is left under
 * those names if the run fails). Messages go to stderr. brief != NULL:
 * print no result line and fill *brief instead. @return an exit code. */
int as_run_to_dir(as_run_config_t *cfg, const char *dir,
                  void (*progress)(void *, uint64_t, uint64_t),
                  as_run_brief_t *brief);

#endif /* AS_SIM_RUNDIR_H */

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

/* as_runs_to_dirs: run cfgs[0..k) in one pass over the trace cfgs[0]
 * names (as_engine_run_many) and write each to its run directory dirs[j],
 * exactly as as_run_to_dir(&cfgs[j], dirs[j]) would: the same files, the
 * same result line, a failure dropping only its own directory. prog hears
 * the events read. @return the first non-zero exit code in order, else 0. */
int as_runs_to_dirs(as_run_config_t *cfgs, const char *const *dirs, size_t k,
                    void (*progress)(void *, uint64_t, uint64_t));

/* as_machine_to_dir: run cfgs[0..n) as programs of one machine, program
 * j starting at machine time start_ns[j] (as_engine_run_machine, the
 * other settings from base), and write each to its run directory
 * DIR/names[j], as as_run_to_dir would write it (a failure drops only its
 * own directory), and the machine's figures to DIR/machine_series.csv and
 * DIR/machine_summary.json (DIR must exist). prog hears the events
 * replayed. @return the first non-zero exit code of the programs in
 * order, else the machine's, else 0. */
int as_machine_to_dir(as_run_config_t *cfgs, const uint64_t *start_ns,
                      const char *const *names, size_t n, const char *dir,
                      const as_machine_config_t *base,
                      void (*progress)(void *, uint64_t, uint64_t));

#endif /* AS_SIM_RUNDIR_H */

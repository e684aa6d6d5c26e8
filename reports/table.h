/* table.h - the comparison table of a set of runs: one row per run directory
 * naming its trace, policy, predictor and parameters, with Johnstone–Wilson's
 * fragmentation measures and the reduction in wasted bytes against a
 * baseline run of the same trace (1 − waste_a / waste_b, as LLAMA reports).
 * Written as Markdown (to read), CSV and JSON (to process); every one of
 * them is deterministic, and timing goes to a file of its own. The columns,
 * units and formulas are documented in docs/outputs.md.
 *
 * Map of the type: rows[i] describes runs[i] (the caller's array, which must
 * outlive the table). `varying` lists the parameter keys whose values differ
 * between rows, in first-seen order; a row's `params` text names its values
 * of those keys only (every parameter is in the JSON and in summary.json).
 */
#ifndef AS_REPORTS_TABLE_H
#define AS_REPORTS_TABLE_H

#include <stddef.h>
#include <stdio.h>

#include "reports/rundir.h"

typedef struct {
    char label[512];        /* what tells this run apart from the others */
    char params[512];       /* "k=v k=v": its values of the varying keys */
    long baseline;          /* row index of its baseline run, -1 when none */
    double wasted_bytes;    /* mean_resident_bytes − mean_live_bytes */
    double waste_reduction; /* 1 − waste / waste of baseline; NAN if none */
} as_table_row_t;

typedef struct {
    const as_run_t *runs;
    size_t n;
    as_table_row_t *rows;
    size_t n_varying;
    char (*varying)[128];
    int trace_varies; /* the runs replay more than one trace */
} as_table_t;

/* as_table_build: rows for runs[0..n). The baseline of a run is the first
 * run of the same trace (same hash, else same path) whose policy is
 * `baseline_policy`, or the first run of that trace when it is NULL.
 * @return 0, AS_ENOMEM, or AS_ENOTFOUND when baseline_policy names no run
 * (message in err). */
int as_table_build(as_table_t *t, const as_run_t *runs, size_t n,
                   const char *baseline_policy, char *err, size_t errcap);

/* as_table_write_csv / _md / _json: the table in one format; the timing
 * file (run, wall_s, events_per_s) is separate: as_table_write_timing.
 * @return 0, or AS_EIO when the stream reports an error. */
int as_table_write_csv(const as_table_t *t, FILE *f);
int as_table_write_md(const as_table_t *t, FILE *f);
int as_table_write_json(const as_table_t *t, FILE *f);
int as_table_write_timing(const as_table_t *t, FILE *f);

/* as_table_write_files: compare.csv, compare.md, compare.json and
 * timing.csv in dir, each complete-or-absent. @return 0, AS_EIO (err). */
int as_table_write_files(const as_table_t *t, const char *dir, char *err,
                         size_t errcap);

/* as_table_human_cols, _header, _cell: the table as people read it
 * (Markdown, HTML): byte counts in KiB/MiB/GiB, ratios to 3 decimals, the
 * reduction in percent. cell writes row i, column c into buf. */
size_t as_table_human_cols(void);
const char *as_table_human_header(size_t c);
void as_table_human_cell(const as_table_t *t, size_t i, size_t c, char *buf,
                         size_t cap);

/* as_table_free: release the rows (not the runs). */
void as_table_free(as_table_t *t);

/* as_units_bytes: the binary unit for byte values up to max_bytes:
 * "B", "KiB", "MiB" or "GiB" and its divisor. @return the unit name. */
const char *as_units_bytes(double max_bytes, double *divisor);

/* as_same_trace: 1 when two runs replayed the same trace (same hash when
 * both have one, else the same path). */
int as_same_trace(const as_run_t *a, const as_run_t *b);

#endif /* AS_REPORTS_TABLE_H */

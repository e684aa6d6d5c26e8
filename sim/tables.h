/* tables.h - the end-of-run tables of a run directory, each written by a
 * sink's on_end (sink.h):
 *   confusion.csv   predictor,predicted_class,actual_class,allocs,bytes:
 *                   one row per (predicted, actual) pair of the predictor's
 *                   matrix, then of the shadow's when there is one
 *   histograms.csv  histogram,bucket,value: every statistic named
 *                   <name>_hist_<bucket> (e.g. tcmalloc's
 *                   filler_free_pages_hist_00..16)
 */
#ifndef AS_SIM_TABLES_H
#define AS_SIM_TABLES_H

#include <stdio.h>

#include "sim/sink.h"

/* as_confusion_sink: a sink writing confusion.csv to t->f at the end. */
as_run_sink_t as_confusion_sink(as_sink_file_t *t, FILE *f, const char *path);

/* as_histograms_sink: a sink writing histograms.csv to t->f at the end. */
as_run_sink_t as_histograms_sink(as_sink_file_t *t, FILE *f, const char *path);

#endif /* AS_SIM_TABLES_H */

/* sweepplot.h - the figures of a parameter sweep: for each swept parameter,
 * a metric against the parameter's value (one line per configuration of
 * the other dimensions, or per trace when that is the only other one; with
 * several traces a point is their mean and its error bar spans their
 * minimum to maximum), and the footprint-vs-coverage frontier along the
 * parameter (a release rate is a curve, not a point).
 */
#ifndef AS_REPORTS_SWEEPPLOT_H
#define AS_REPORTS_SWEEPPLOT_H

#include <stddef.h>

#include "reports/plot.h"
#include "reports/table.h"

/* as_plot_sweep: the figures for every parameter key in keys[0..n_keys)
 * that takes two values or more among the table's runs.
 * @return 0, AS_EIO (a file or gnuplot; err), AS_ENOMEM. */
int as_plot_sweep(as_plotset_t *ps, const as_table_t *t,
                  const char *const *keys, size_t n_keys, char *err,
                  size_t errcap);

#endif /* AS_REPORTS_SWEEPPLOT_H */

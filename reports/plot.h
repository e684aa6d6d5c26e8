/* plot.h - gnuplot figures of a set of runs, each written as NAME.dat (the
 * data, in exact units: bytes, nanoseconds) and NAME.gp (the script: one
 * style block, the plot, and an output loop) and rendered by gnuplot into
 * NAME.png, NAME.svg and NAME.pdf beside them. A user restyles a figure by
 * editing NAME.gp and running `gnuplot NAME.gp` in that directory.
 *
 * Style, the same in every figure: the Okabe–Ito colour-blind-safe palette,
 * a PDF sized for one column of a two-column paper (3.4 × 2.4 in, 8 pt
 * text) and PNG/SVG with the same proportions, byte axes in KiB/MiB/GiB and
 * time axes in µs/ms/s chosen from the data, a title naming what is shown
 * and on which trace.
 *
 * Map of the type: as_plotset_t collects the figures made into one
 * directory (for index.html), in the order they were made.
 */
#ifndef AS_REPORTS_PLOT_H
#define AS_REPORTS_PLOT_H

#include <stddef.h>
#include <stdio.h>

#include "reports/table.h"

typedef struct {
    char name[160];  /* file stem in the directory */
    char title[320]; /* the figure's title */
    char about[320]; /* one sentence: what the figure shows and from what */
} as_plot_t;

typedef struct {
    char dir[4096];      /* where the files go */
    const char *gnuplot; /* program to run ("gnuplot"), NULL = write only */
    as_plot_t *plots;
    size_t n;
    size_t skipped_notes; /* entries in notes */
    char notes[16][256];  /* figures not made and why (for the index) */
} as_plotset_t;

/* as_plotset_init: an empty set writing into dir, rendering with the
 * program `gnuplot` (NULL: write .dat and .gp only). */
void as_plotset_init(as_plotset_t *ps, const char *dir, const char *gnuplot);

/* Runs of one trace above which the per-run figures are left out (a
 * sweep's figures summarise them instead). */
enum { AS_PLOT_MAX_LINES = 8 };

/* as_plot_runs: every figure that the run directories have data for:
 * resident vs live bytes and huge-page coverage over time (per trace),
 * fragmentation per run (per trace), the confusion-matrix heat map (per
 * trace and predictor), TCMalloc's filler occupancy histogram (per tcmalloc
 * run). Figures whose data no run has are left out with a note.
 * @return 0; AS_EIO/AS_EFORMAT (a file could not be read or written, or
 * gnuplot failed; message in err), AS_ENOMEM. */
int as_plot_runs(as_plotset_t *ps, const as_table_t *t, char *err,
                 size_t errcap);

/* --- building blocks, for other figure makers (sweeps, trace statistics) */

/* as_plot_begin: open NAME.dat and NAME.gp (complete-or-absent) and write
 * the style block into the script. @return 0, AS_EIO (err). */
typedef struct {
    char name[160];
    char title[320];
    char about[320];
    FILE *dat, *gp; /* write the data and the plot commands here */
    void *priv;     /* the output files */
} as_plot_file_t;
int as_plot_begin(as_plotset_t *ps, as_plot_file_t *pf, const char *name,
                  const char *title, const char *about, char *err,
                  size_t errcap);

/* as_plot_output_loop: write the opening of the loop that renders the
 * figure in the three formats; the plot command follows, then
 * as_plot_end closes the loop. */
void as_plot_output_loop(as_plot_file_t *pf);

/* as_plot_end: close the loop and both files, render with gnuplot and add
 * the figure to the set. keep == 0 discards both files.
 * @return 0, AS_EIO (a file or gnuplot failed; err), AS_ENOMEM. */
int as_plot_end(as_plotset_t *ps, as_plot_file_t *pf, int keep, char *err,
                size_t errcap);

/* as_plot_note: record that a figure was not made, and why. */
void as_plot_note(as_plotset_t *ps, const char *fmt, ...);

/* as_plot_time_unit: the unit for a time axis spanning span_ns: "µs",
 * "ms" or "s", and its divisor in ns. @return the unit name. */
const char *as_plot_time_unit(double span_ns, double *divisor);

/* as_plot_stem: `text` reduced to [A-Za-z0-9._-] (others become '-'), for
 * file names. @return buf. */
char *as_plot_stem(const char *text, char *buf, size_t cap);

/* as_plot_gp_string: s as a gnuplot string literal in single quotes (a
 * quote inside is doubled). */
void as_plot_gp_string(FILE *f, const char *s);

/* as_plotset_free: release the list. */
void as_plotset_free(as_plotset_t *ps);

#endif /* AS_REPORTS_PLOT_H */

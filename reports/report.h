/* report.h - a report directory from run directories: the comparison
 * table (compare.csv, .md, .json, timing.csv), every figure the runs have
 * data for, and index.html. What `allocsim plot`, `compare` and `sweep`
 * have in common.
 */
#ifndef AS_REPORTS_REPORT_H
#define AS_REPORTS_REPORT_H

#include <stddef.h>

typedef struct {
    const char *out_dir;  /* the report directory (created if missing) */
    const char *title;    /* index.html heading */
    const char *command;  /* the command line, shown in index.html */
    const char *baseline; /* baseline policy for waste_reduction, or NULL */
    const char *gnuplot;  /* program, NULL = write .dat/.gp without images */
    const char *const *sweep_keys; /* swept parameters: sweep figures */
    size_t n_sweep_keys;
    const char *spec_file;     /* a sweep's spec in out_dir, linked from the
                              index, or NULL */
    const char *const *traces; /* trace files: size and lifetime figures */
    size_t n_traces;
} as_report_opts_t;

/* as_report_expand: the run directories named by `arg`: arg itself when it
 * holds summary.json, else the directories below it that do (up to 3
 * levels down, not below a run, skipping NAME.tmp.* temporaries; sorted by
 * path), appended to *dirs (malloc'd strings; *n counts them).
 * @return 0, AS_ENOTFOUND (neither; message in err), AS_ENOMEM. */
int as_report_expand(const char *arg, char ***dirs, size_t *n, char *err,
                     size_t errcap);

/* as_report_write: load runs[0..n) and write the report. A run directory
 * inside out_dir is named relative to it in the tables.
 * @return 0; AS_EIO/AS_EFORMAT (a run or output file, or gnuplot;
 * message in err), AS_ENOTFOUND (baseline), AS_ENOMEM. */
int as_report_write(const as_report_opts_t *o, char *const *run_dirs, size_t n,
                    char *err, size_t errcap);

/* as_report_command_line: argv joined with spaces, each argument quoted
 * for a POSIX shell when it needs it. @return buf. */
char *as_report_command_line(int argc, char **argv, char *buf, size_t cap);

/* as_strv_push: append a copy of s to the array *arr of *n strings.
 * @return 0, AS_ENOMEM. */
int as_strv_push(char ***arr, size_t *n, const char *s);

/* as_mkdirs: create dir and its missing parents (mode 0777 & umask).
 * @return 0, AS_EIO (message in err). */
int as_mkdirs(const char *dir, char *err, size_t errcap);

#endif /* AS_REPORTS_REPORT_H */

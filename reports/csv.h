/* csv.h - reading the simulator's CSV files (series.csv, policy_series.csv,
 * confusion.csv, histograms.csv): a header line of column names, then rows
 * of comma-separated fields. Fields are never quoted in these files, so a
 * double quote is an error rather than a guess.
 *
 * Map of the type: the whole text lives in `buf`, each field NUL-terminated
 * in place; cells[r * n_cols + c] points into it. Invariant: every row has
 * exactly n_cols fields (a short or long row is an error naming its line).
 */
#ifndef AS_REPORTS_CSV_H
#define AS_REPORTS_CSV_H

#include <stddef.h>

typedef struct {
    char *buf;     /* the file's text, fields terminated in place */
    size_t n_cols; /* columns in the header */
    char **cols;   /* n_cols column names */
    size_t n_rows; /* data rows (blank lines are skipped) */
    char **cells;  /* n_rows * n_cols fields, row-major */
} as_csv_t;

/* as_csv_parse: parse `text` (NUL-terminated). The table takes ownership:
 * as_csv_free frees it, and on error it is freed here. `name` is used in
 * messages.
 * @return 0, AS_EFORMAT ("name: line N: what" in err), AS_ENOMEM. */
int as_csv_parse(char *text, const char *name, as_csv_t *t, char *err,
                 size_t errcap);

/* as_csv_read: read and parse the file at `path`.
 * @return 0, AS_EIO (cannot read), AS_EFORMAT, AS_ENOMEM; message in err. */
int as_csv_read(const char *path, as_csv_t *t, char *err, size_t errcap);

/* as_csv_col: @return the index of column `name`, or -1 when absent. */
long as_csv_col(const as_csv_t *t, const char *name);

/* as_csv_cell: @return the text of (row, col); both must be in range. */
const char *as_csv_cell(const as_csv_t *t, size_t row, size_t col);

/* as_csv_num: the number in (row, col).
 * @return 0, or AS_EFORMAT when the field is not a finite number. */
int as_csv_num(const as_csv_t *t, size_t row, size_t col, double *v);

/* as_csv_free: release the table (safe on a zeroed one). */
void as_csv_free(as_csv_t *t);

#endif /* AS_REPORTS_CSV_H */

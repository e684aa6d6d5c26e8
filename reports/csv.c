/* csv.c - the reader of the simulator's unquoted CSV files (see csv.h).
 *
 * Host code: uses libc allocation and stdio. It splits the text in place,
 * so a table costs the file plus one pointer per field. It never guesses:
 * a row with the wrong number of fields, or a quote, is an error naming the
 * line, so a damaged file cannot turn into a silently shifted plot.
 */
#include "reports/csv.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "sim/fileio.h"

/* Split one line (without its newline) at commas into out[]; @return the
 * number of fields, or SIZE_MAX when there are more than cap. */
static size_t split(char *line, char **out, size_t cap)
{
    size_t n = 0;
    for (char *p = line;;) {
        if (n == cap) return (size_t)-1;
        out[n++] = p;
        char *c = strchr(p, ',');
        if (!c) break;
        *c = 0;
        p = c + 1;
    }
    return n;
}

int as_csv_parse(char *text, const char *name, as_csv_t *t, char *err,
                 size_t errcap)
{
    memset(t, 0, sizeof *t);
    t->buf = text;
    size_t lines = 1, commas = 0;
    for (const char *p = text; *p; p++) {
        lines += *p == '\n';
        commas += *p == ',';
        if (*p == '"') {
            size_t ln = 1;
            for (const char *q = text; q < p; q++)
                ln += *q == '\n';
            snprintf(err, errcap,
                     "%s: line %zu: quoted fields are not "
                     "supported",
                     name, ln);
            free(text);
            t->buf = NULL;
            return AS_EFORMAT;
        }
    }
    size_t maxf = lines + commas + 1;
    char **fields = malloc(maxf * sizeof *fields);
    if (!fields) {
        snprintf(err, errcap, "%s: out of memory", name);
        free(text);
        t->buf = NULL;
        return AS_ENOMEM;
    }
    size_t used = 0, ln = 0;
    char *p = text;
    while (*p) {
        ln++;
        char *nl = strchr(p, '\n');
        char *next = nl ? nl + 1 : p + strlen(p);
        if (nl) *nl = 0;
        size_t len = strlen(p);
        if (len && p[len - 1] == '\r') p[--len] = 0;
        if (len == 0) {
            p = next;
            continue;
        }
        size_t n = split(p, fields + used, maxf - used);
        if (!t->cols) {
            t->cols = fields;
            t->n_cols = n;
            for (size_t i = 0; i < n; i++)
                if (!fields[i][0]) {
                    snprintf(err, errcap, "%s: line %zu: empty column name",
                             name, ln);
                    goto fail;
                }
        } else if (n != t->n_cols) {
            snprintf(err, errcap,
                     "%s: line %zu: %zu fields, the header has "
                     "%zu",
                     name, ln, n, t->n_cols);
            goto fail;
        } else {
            t->n_rows++;
        }
        used += n;
        p = next;
    }
    if (!t->cols) {
        snprintf(err, errcap, "%s: line 1: no header line", name);
        goto fail;
    }
    t->cells = fields + t->n_cols;
    return AS_OK;
fail:
    free(fields);
    free(text);
    memset(t, 0, sizeof *t);
    return AS_EFORMAT;
}

int as_csv_read(const char *path, as_csv_t *t, char *err, size_t errcap)
{
    memset(t, 0, sizeof *t);
    char *text;
    size_t len;
    int rc = as_file_read_all(path, &text, &len, err, errcap);
    if (rc != AS_OK) return rc;
    if (strlen(text) != len) {
        free(text);
        snprintf(err, errcap, "%s: offset %zu: NUL byte in a text file", path,
                 strlen(text));
        return AS_EFORMAT;
    }
    return as_csv_parse(text, path, t, err, errcap);
}

long as_csv_col(const as_csv_t *t, const char *name)
{
    for (size_t i = 0; i < t->n_cols; i++)
        if (strcmp(t->cols[i], name) == 0) return (long)i;
    return -1;
}

const char *as_csv_cell(const as_csv_t *t, size_t row, size_t col)
{
    return t->cells[row * t->n_cols + col];
}

int as_csv_num(const as_csv_t *t, size_t row, size_t col, double *v)
{
    const char *s = as_csv_cell(t, row, col);
    char *end;
    double d = strtod(s, &end);
    if (!*s || *end || !isfinite(d)) return AS_EFORMAT;
    *v = d;
    return AS_OK;
}

void as_csv_free(as_csv_t *t)
{
    free(t->cols);
    free(t->buf);
    memset(t, 0, sizeof *t);
}

/* fuzz_run_summary.c - libFuzzer target: any byte string read as a run's
 * summary.json (reports/rundir.c) and, split at its first NUL-free half,
 * as a CSV file (reports/csv.c) must give a run / a table or an error
 * naming the input, never a crash, an out-of-bounds access or a leak; a
 * summary that loads must build a comparison table with itself. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "reports/csv.h"
#include "reports/rundir.h"
#include "reports/table.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text) return 0;
    memcpy(text, data, size);
    text[size] = 0;
    char err[512];
    as_run_t r[2];
    if (as_run_parse_summary(text, "fuzz.json", &r[0], err, sizeof err) ==
        0) {
        r[1] = r[0];
        snprintf(r[0].name, sizeof r[0].name, "a");
        snprintf(r[1].name, sizeof r[1].name, "b");
        as_table_t t;
        if (as_table_build(&t, r, 2, NULL, err, sizeof err) == 0) {
            if (t.rows[1].baseline != 0) __builtin_trap();
            as_table_free(&t);
        }
        as_run_free(&r[0]);
    } else if (!strstr(err, "fuzz.json")) {
        __builtin_trap();
    }
    as_csv_t c;
    if (as_csv_parse(text, "fuzz.csv", &c, err, sizeof err) == 0) {
        for (size_t i = 0; i < c.n_rows; i++)
            for (size_t k = 0; k < c.n_cols; k++) {
                double v;
                (void)as_csv_num(&c, i, k, &v);
                (void)as_csv_cell(&c, i, k);
            }
        as_csv_free(&c); /* frees text */
    } else if (!strstr(err, "fuzz.csv")) {
        __builtin_trap();
    }
    return 0;
}

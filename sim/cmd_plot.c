/* cmd_plot.c - `allocsim plot RUN_DIR... -o DIR`: the report of existing
 * run directories (table, figures in PNG/SVG/PDF with their data and
 * scripts, index.html) without replaying anything. The work is in
 * reports/report.c; this file only reads the command line.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "reports/report.h"
#include "sim/cli.h"

enum { OPT_OUTPUT = 1, OPT_BASELINE, OPT_NO_RENDER };

static const as_opt_t plot_opts[] = {
    AS_OPT_ROW_TEXT(OPT_OUTPUT, "output", 'o', "DIR",
                    "report directory (required)"),
    AS_OPT_ROW_TEXT(OPT_BASELINE, "baseline", 0, "POLICY",
                    "waste_reduction against POLICY's run of the same\n"
                    "trace (default: the first run of each trace)"),
    AS_OPT_ROW_FLAG(OPT_NO_RENDER, "no-render", 0,
                    "write each figure's .dat and .gp, do not run gnuplot"),
    {0},
};

const as_opt_t *const as_cmd_plot_opts[] = {plot_opts, NULL};

static void usage(FILE *f)
{
    fprintf(f, "usage: allocsim plot RUN_DIR... -o DIR [--baseline POLICY]\n\n"
               "Write the report of existing run directories (as written by\n"
               "`allocsim run -o` or `allocsim demo`) into DIR: compare.csv,\n"
               "compare.md, compare.json, timing.csv, every figure the runs\n"
               "have data for as PNG, SVG and PDF beside its .dat and .gp,\n"
               "and index.html. Nothing is replayed. A RUN_DIR without\n"
               "summary.json stands for the run directories below it (up\n"
               "to 3 levels: `allocsim plot CMP/runs` after a compare).\n"
               "Files and formulas: docs/outputs.md.\n");
    as_opts_help(f, as_cmd_plot_opts);
}

int as_cmd_plot(int argc, char **argv)
{
    const char *out = NULL, *baseline = NULL, *gnuplot = "gnuplot";
    char **dirs = NULL, err[4600];
    size_t n = 0;
    int status = AS_EXIT_OK, c;
    as_opts_t p;
    as_opts_init(&p, "plot", as_cmd_plot_opts, argc, argv);
    while (status == AS_EXIT_OK && (c = as_opts_next(&p)) != AS_OPT_END) {
        if (c == AS_OPT_ERROR) {
            status = AS_EXIT_USAGE;
        } else if (c == AS_OPT_HELP) {
            usage(stdout);
            goto done;
        } else if (c == OPT_OUTPUT) {
            out = p.text;
        } else if (c == OPT_BASELINE) {
            baseline = p.text;
        } else if (c == OPT_NO_RENDER) {
            gnuplot = NULL;
        } else if (as_report_expand(p.text, &dirs, &n, err, sizeof err) != 0) {
            as_cli_err("%s", err);
            status = AS_EXIT_USAGE;
        }
    }
    if (status == AS_EXIT_OK && (!out || !n)) {
        as_cli_err("%s (see allocsim plot --help)",
                   !n ? "no run directory given" : "-o DIR is required");
        status = AS_EXIT_USAGE;
    }
    if (status == AS_EXIT_OK) {
        char cmd[8192];
        as_report_command_line(argc, argv, cmd + 9, sizeof cmd - 9);
        memcpy(cmd, "allocsim ", 9);
        as_report_opts_t o = {.out_dir = out,
                              .title = "allocsim report",
                              .command = cmd,
                              .baseline = baseline,
                              .gnuplot = gnuplot};
        int rc = as_report_write(&o, dirs, n, err, sizeof err);
        if (rc != 0) {
            as_cli_err("%s", err);
            status = rc == AS_EFORMAT || rc == AS_ENOTFOUND ? AS_EXIT_USAGE
                                                            : AS_EXIT_FAIL;
        } else {
            printf("report in %s/index.html\n", out);
        }
    }
done:
    for (size_t i = 0; i < n; i++)
        free(dirs[i]);
    free(dirs);
    return status;
}

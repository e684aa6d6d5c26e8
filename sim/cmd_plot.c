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

static void usage(FILE *f)
{
    fprintf(f, "usage: allocsim plot RUN_DIR... -o DIR [--baseline POLICY]\n\n"
               "Write the report of existing run directories (as written by\n"
               "`allocsim run -o` or `allocsim demo`) into DIR: compare.csv,\n"
               "compare.md, compare.json, timing.csv, every figure the runs\n"
               "have data for as PNG, SVG and PDF beside its .dat and .gp,\n"
               "and index.html. Nothing is replayed. A RUN_DIR without\n"
               "summary.json stands for its subdirectories that have one.\n\n"
               "options:\n"
               "  -o, --output DIR     report directory (required)\n"
               "      --baseline P     waste_reduction against policy P's run\n"
               "                       of the same trace (default: the first\n"
               "                       run of each trace)\n"
               "      --no-render      write .dat and .gp, do not run gnuplot\n"
               "  -h, --help           this help\n\n"
               "Files and formulas: docs/outputs.md.\n");
}

int as_cmd_plot(int argc, char **argv)
{
    const char *out = NULL, *baseline = NULL, *gnuplot = "gnuplot";
    char **dirs = NULL, err[4600];
    size_t n = 0;
    int status = AS_EXIT_OK;
    for (int i = 1; i < argc && status == AS_EXIT_OK; i++) {
        const char *a = argv[i];
        if (as_cli_is_help(a)) {
            usage(stdout);
            goto done;
        } else if (!strcmp(a, "-o") || !strcmp(a, "--output") ||
                   !strcmp(a, "--baseline")) {
            if (i + 1 >= argc) {
                fprintf(stderr, "allocsim plot: %s needs a value\n", a);
                status = AS_EXIT_USAGE;
            } else if (a[1] == '-' && a[2] == 'b') {
                baseline = argv[++i];
            } else {
                out = argv[++i];
            }
        } else if (!strcmp(a, "--no-render")) {
            gnuplot = NULL;
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr,
                    "allocsim plot: unknown option '%s' (see "
                    "allocsim plot --help)\n",
                    a);
            status = AS_EXIT_USAGE;
        } else if (as_report_expand(a, &dirs, &n, err, sizeof err) != 0) {
            fprintf(stderr, "allocsim plot: %s\n", err);
            status = AS_EXIT_USAGE;
        }
    }
    if (status == AS_EXIT_OK && (!out || !n)) {
        fprintf(stderr, "allocsim plot: %s\n",
                !n ? "no run directory given" : "-o DIR is required");
        usage(stderr);
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
            fprintf(stderr, "allocsim plot: %s\n", err);
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

/* tables.c - confusion.csv and histograms.csv (see tables.h).
 *
 * The only writer of these two files. They are copies of figures the
 * result already holds, laid out for plotting: nothing is computed here.
 */
#include "sim/tables.h"

#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "sim/engine.h"

static int write_confusion(void *arg, const as_run_config_t *cfg,
                           const as_run_result_t *res, char *err, size_t cap)
{
    (void)cfg;
    as_sink_file_t *t = arg;
    FILE *f = t->f;
    fprintf(f, "predictor,predicted_class,actual_class,allocs,bytes\n");
    for (uint32_t p = 0; p < res->n_classes; p++)
        for (uint32_t a = 0; a < res->n_classes; a++)
            fprintf(f, "predictor,%u,%u,%llu,%llu\n", p, a,
                    (unsigned long long)res->confusion_allocs[p][a],
                    (unsigned long long)res->confusion_bytes[p][a]);
    if (res->has_shadow)
        for (uint32_t p = 0; p < res->n_classes; p++)
            for (uint32_t a = 0; a < res->n_classes; a++)
                fprintf(f, "shadow,%u,%u,%llu,%llu\n", p, a,
                        (unsigned long long)res->shadow_confusion_allocs[p][a],
                        (unsigned long long)res->shadow_confusion_bytes[p][a]);
    return as_sink_file_check(t, err, cap);
}

static int write_histograms(void *arg, const as_run_config_t *cfg,
                            const as_run_result_t *res, char *err, size_t cap)
{
    (void)cfg;
    as_sink_file_t *t = arg;
    fprintf(t->f, "histogram,bucket,value\n");
    for (size_t i = 0; i < res->n_stats; i++) {
        const char *n = res->stats[i].name, *h = strstr(n, "_hist_");
        if (!h) continue;
        char *end;
        long b = strtol(h + 6, &end, 10);
        if (end == h + 6 || *end) continue;
        fprintf(t->f, "%.*s,%ld,%.17g\n", (int)(h - n), n, b,
                res->stats[i].value);
    }
    return as_sink_file_check(t, err, cap);
}

as_run_sink_t as_confusion_sink(as_sink_file_t *t, FILE *f, const char *path)
{
    t->f = f;
    t->path = path;
    return (as_run_sink_t){.arg = t, .on_end = write_confusion};
}

as_run_sink_t as_histograms_sink(as_sink_file_t *t, FILE *f, const char *path)
{
    t->f = f;
    t->path = path;
    return (as_run_sink_t){.arg = t, .on_end = write_histograms};
}

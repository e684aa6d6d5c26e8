/* series.c - series.csv and policy_series.csv (see series.h).
 *
 * The only writer of these two files. Rows are formatted here; every ratio
 * in them comes from metrics.c (as_metrics_sample_ratios), never computed
 * in this file.
 */
#include "sim/series.h"

#include <string.h>

#include "common/error.h"
#include "sim/tlb.h"
#include "traces/trace.h"

/* A truncated trace is marked before the header: a figure drawn from
 * this file cannot miss it (CSV readers skip '#' lines when told to). */
static int mark_truncated(void *arg, const as_run_start_t *info, char *err,
                          size_t cap)
{
    as_series_t *w = arg;
    if (info->truncated)
        fprintf(w->out.f,
                "# truncated trace: %s has no valid footer index; these "
                "rows cover its whole chunks only\n",
                info->trace_path);
    return as_sink_file_check(&w->out, err, cap);
}

void as_series_phys_cells(FILE *f, const as_sample_t *s)
{
    fprintf(f, ",%llu,%llu,%.3f,%.3f,%llu,%llu",
            (unsigned long long)s->phys_free_bytes,
            (unsigned long long)s->phys_free_2m_blocks,
            s->unusable_index_9 / 1000.0, s->fragmentation_index_9 / 1000.0,
            (unsigned long long)s->deferred_split_bytes,
            (unsigned long long)s->tenant_bytes);
}

static int series_row(void *arg, uint64_t t, const as_sample_t *s,
                      const as_simos_counters_t *c, char *err, size_t cap)
{
    as_series_t *w = arg;
    FILE *f = w->out.f;
    if (!w->rows) {
        fputs("t_ns,live_bytes,live_objects,allocated_bytes,resident_bytes,"
              "mapped_bytes,huge_bytes,metadata_bytes,fragmentation,"
              "hugepage_coverage,releases,splits,collapses,real_rss_bytes,"
              "real_huge_bytes",
              f);
        if (s->phys_has)
            fputs("," AS_SERIES_PHYS_HEADER, f);
        if (s->tlb)
            fputs(",tlb_accesses,tlb_l1_misses,tlb_walks,tlb_huge_accesses,"
                  "tlb_l1_misses_per_1000",
                  f);
        fputc('\n', f);
    }
    as_sample_ratios_t q;
    as_metrics_sample_ratios(s, &q);
    fprintf(f,
            "%llu,%llu,%llu,%llu,%llu,%llu,%llu,%llu,%.6f,%.6f,%llu,%llu,"
            "%llu",
            (unsigned long long)t, (unsigned long long)s->live_bytes,
            (unsigned long long)s->live_objects,
            (unsigned long long)s->allocated_bytes,
            (unsigned long long)s->resident_bytes,
            (unsigned long long)s->mapped_bytes,
            (unsigned long long)s->huge_bytes,
            (unsigned long long)s->meta_bytes, q.fragmentation,
            q.hugepage_coverage, (unsigned long long)c->releases,
            (unsigned long long)c->splits, (unsigned long long)c->collapses);
    /* the recorded program's real memory: empty when not measured */
    if (s->real_has & AS_SAMPLE_HAS_RSS)
        fprintf(f, ",%llu", (unsigned long long)s->real_rss_bytes);
    else
        fputc(',', f);
    if (s->real_has & AS_SAMPLE_HAS_HUGE)
        fprintf(f, ",%llu", (unsigned long long)s->real_huge_bytes);
    else
        fputc(',', f);
    if (s->phys_has) as_series_phys_cells(f, s);
    /* the TLB model's cumulative counters, when it is on */
    if (s->tlb) {
        as_tlb_rates_t tq;
        as_tlb_rates(s->tlb, &tq);
        fprintf(f, ",%llu,%llu,%llu,%llu,%.3f",
                (unsigned long long)s->tlb->accesses,
                (unsigned long long)s->tlb->l1_misses,
                (unsigned long long)s->tlb->walks,
                (unsigned long long)s->tlb->huge_accesses,
                tq.l1_misses_per_1000);
    }
    fputc('\n', f);
    w->rows++;
    return as_sink_file_check(&w->out, err, cap);
}

static int policy_row(void *arg, uint64_t t, const as_stat_t *v, size_t n,
                      char *err, size_t cap)
{
    as_series_t *w = arg;
    FILE *f = w->out.f;
    if (!w->rows) {
        w->n_cols = n;
        fputs("t_ns", f);
        for (size_t i = 0; i < n; i++)
            fprintf(f, ",%s", v[i].name);
        fputc('\n', f);
    }
    fprintf(f, "%llu", (unsigned long long)t);
    for (size_t i = 0; i < w->n_cols; i++) {
        if (i < n)
            fprintf(f, ",%.17g", v[i].value);
        else
            fputc(',', f);
    }
    fputc('\n', f);
    w->rows++;
    return as_sink_file_check(&w->out, err, cap);
}

/* A series sink over f: the truncation mark at the start, then `sink`'s
 * rows. */
static as_run_sink_t series_sink(as_series_t *s, FILE *f, const char *path,
                                 as_run_sink_t sink)
{
    memset(s, 0, sizeof *s);
    s->out.f = f;
    s->out.path = path;
    sink.arg = s;
    sink.on_start = mark_truncated;
    return sink;
}

as_run_sink_t as_series_sink(as_series_t *s, FILE *f, const char *path)
{
    return series_sink(s, f, path, (as_run_sink_t){.on_sample = series_row});
}

as_run_sink_t as_policy_series_sink(as_series_t *s, FILE *f, const char *path)
{
    return series_sink(s, f, path,
                       (as_run_sink_t){.on_policy_stats = policy_row});
}

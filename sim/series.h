/* series.h - the time series of a run: series.csv (the memory state at each
 * sample) and policy_series.csv (the policy's statistics at each sample),
 * each written by a sink the engine feeds (sink.h).
 *
 * series.csv columns: t_ns (since the first event), live_bytes,
 * live_objects, allocated_bytes, resident_bytes, mapped_bytes, huge_bytes,
 * metadata_bytes, fragmentation, hugepage_coverage (the ratios of
 * metrics.c), releases, splits, collapses (cumulative OS counters),
 * real_rss_bytes, real_huge_bytes (the recorded program's RSS and
 * AnonHugePages: the trace's latest sample at or before t_ns; empty when
 * the trace has none, or none yet).
 * policy_series.csv columns: t_ns, then one per statistic of the first
 * sample (later samples are matched by position; a missing one is empty).
 */
#ifndef AS_SIM_SERIES_H
#define AS_SIM_SERIES_H

#include <stdio.h>

#include "sim/sink.h"

typedef struct {
    as_sink_file_t out; /* the file and its name */
    size_t n_cols;      /* policy_series: statistics per row, fixed by the
                       first sample (0 before it) */
    uint64_t rows;      /* data rows written */
} as_series_t;

/* as_series_sink: a sink writing series.csv to f (header before the first
 * row). The sink points at s, which must outlive the run. */
as_run_sink_t as_series_sink(as_series_t *s, FILE *f, const char *path);

/* as_policy_series_sink: a sink writing policy_series.csv to f. */
as_run_sink_t as_policy_series_sink(as_series_t *s, FILE *f, const char *path);

/* The columns of the physical memory below (s->phys_has), after the
 * others: their header and one row's cells (each with its leading comma),
 * shared with the machine's series (machine_out.c). */
#define AS_SERIES_PHYS_HEADER                                                  \
    "phys_free_bytes,phys_free_2m_blocks,unusable_index_9,"                    \
    "fragmentation_index_9,deferred_split_bytes,tenant_bytes"
void as_series_phys_cells(FILE *f, const as_sample_t *s);

#endif /* AS_SIM_SERIES_H */

/* metrics.h - the figures of a run, defined once (docs/metrics.md) and
 * computed here only.
 *
 * Type map
 *   as_sample_t          the instantaneous state after an event
 *   as_metrics_t         running accumulators (peaks, time integrals)
 *   as_metrics_summary_t the summary written to summary.json
 *
 * The engine calls as_metrics_update() after every event with the state at
 * that instant; a state holds from its time until the next update, so means
 * are exact time-weighted integrals over trace time, and peaks are exact
 * event-level maxima (not sampled).
 */
#ifndef AS_SIM_METRICS_H
#define AS_SIM_METRICS_H

#include <stdint.h>

__extension__ typedef unsigned __int128 as_u128_t;

typedef struct {
    uint64_t t_ns;
    uint64_t live_bytes; /* sum of requested sizes of live objects */
    uint64_t live_objects;
    uint64_t allocated_bytes; /* sum of usable sizes (after rounding) */
    uint64_t resident_bytes;  /* simulated resident heap bytes */
    uint64_t mapped_bytes;
    uint64_t huge_bytes; /* resident bytes backed by huge pages */
    uint64_t meta_bytes; /* policy + predictor metadata */
    /* the recorded program's real memory at t: the latest of the trace's
     * samples at or before t (series rows only; 0 in per-event states) */
    uint32_t real_has;        /* AS_SAMPLE_* bits (traces/trace.h); 0 none */
    uint64_t real_rss_bytes;  /* with AS_SAMPLE_HAS_RSS */
    uint64_t real_huge_bytes; /* AnonHugePages, with AS_SAMPLE_HAS_HUGE */
    /* the machine below (sim/phys.h), series rows only, with phys_has */
    int phys_has;
    uint64_t phys_free_bytes;
    uint64_t phys_free_2m_blocks; /* free 2 MiB blocks (order 10 counts 2) */
    int unusable_index_9;         /* thousandths (mm/vmstat.c) */
    int fragmentation_index_9;    /* thousandths */
    uint64_t deferred_split_bytes;
    uint64_t tenant_bytes;
    /* the TLB model's counters so far (sim/tlb.h), NULL when it is off */
    const struct as_tlb_counters *tlb;
} as_sample_t;

typedef struct {
    uint64_t peak_live_bytes;
    uint64_t peak_live_objects;
    uint64_t peak_allocated_bytes;
    uint64_t peak_resident_bytes;
    uint64_t peak_mapped_bytes;
    uint64_t peak_metadata_bytes;
    uint64_t peak_huge_bytes;
    uint64_t resident_at_peak_live_bytes; /* resident when live peaked */
    uint64_t live_at_peak_resident_bytes; /* live when resident peaked */
    uint64_t huge_at_peak_live_bytes;
    double mean_live_bytes;      /* time-weighted */
    double mean_resident_bytes;  /* time-weighted */
    double mean_huge_bytes;      /* time-weighted */
    double mean_allocated_bytes; /* time-weighted */
    /* Johnstone & Wilson's fragmentation measures, as overhead over live
     * (0.25 = 25% more memory than live data; docs/metrics.md):
     *   jw1 = mean resident / mean live - 1            (over all time)
     *   jw2 = resident at peak live / peak live - 1
     *   jw3 = peak resident / live at peak resident - 1
     *   jw4 = peak resident / peak live - 1 */
    double jw1, jw2, jw3, jw4;
    double hugepage_coverage_mean;    /* mean huge / mean resident */
    double hugepage_coverage_at_peak; /* huge / resident at peak live */
    uint64_t duration_ns;
} as_metrics_summary_t;

typedef struct {
    uint64_t t0_ns;
    int started;
    as_sample_t last;
    /* integrals of bytes x ns, exact: 128-bit integers (a 2^64-byte state
     * held for 2^64 ns still fits) */
    as_u128_t int_live, int_resident, int_huge, int_allocated;
    as_metrics_summary_t s; /* peaks maintained on the fly */
} as_metrics_t;

/* The ratios of one instant, as series.csv shows them. */
typedef struct {
    double fragmentation;     /* resident / live (0 when nothing is live) */
    double hugepage_coverage; /* huge / resident (0 when nothing is) */
} as_sample_ratios_t;

/* as_metrics_sample_ratios: the ratios of the state s. */
void as_metrics_sample_ratios(const as_sample_t *s, as_sample_ratios_t *out);

void as_metrics_init(as_metrics_t *m);

/* as_metrics_update: the state after an event at s->t_ns (non-decreasing). */
void as_metrics_update(as_metrics_t *m, const as_sample_t *s);

/* as_metrics_finish: close the integrals at end_ns and fill the summary. */
void as_metrics_finish(as_metrics_t *m, uint64_t end_ns,
                       as_metrics_summary_t *out);

#endif /* AS_SIM_METRICS_H */

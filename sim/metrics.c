/* metrics.c - peaks, time-weighted means, fragmentation and huge-page
 * coverage of a run. The one place these figures are computed; the
 * definitions are in docs/metrics.md and must match this file.
 *
 * Ratios whose denominator is zero (an empty trace) are reported as 0.
 */
#include "sim/metrics.h"

#include <string.h>

void as_metrics_init(as_metrics_t *m)
{
    memset(m, 0, sizeof *m);
}

static void integrate(as_metrics_t *m, uint64_t t)
{
    if (!m->started || t <= m->last.t_ns) return;
    as_u128_t dt = t - m->last.t_ns;
    m->int_live += dt * m->last.live_bytes;
    m->int_resident += dt * m->last.resident_bytes;
    m->int_huge += dt * m->last.huge_bytes;
    m->int_allocated += dt * m->last.allocated_bytes;
}

void as_metrics_update(as_metrics_t *m, const as_sample_t *s)
{
    if (!m->started) {
        m->t0_ns = s->t_ns;
    } else {
        integrate(m, s->t_ns);
    }
    m->started = 1;
    m->last = *s;

    as_metrics_summary_t *p = &m->s;
    /* Ties keep the first instant: the earliest time a peak was reached. */
    if (s->live_bytes > p->peak_live_bytes) {
        p->peak_live_bytes = s->live_bytes;
        p->resident_at_peak_live_bytes = s->resident_bytes;
        p->huge_at_peak_live_bytes = s->huge_bytes;
    }
    if (s->resident_bytes > p->peak_resident_bytes) {
        p->peak_resident_bytes = s->resident_bytes;
        p->live_at_peak_resident_bytes = s->live_bytes;
    }
    if (s->live_objects > p->peak_live_objects)
        p->peak_live_objects = s->live_objects;
    if (s->allocated_bytes > p->peak_allocated_bytes)
        p->peak_allocated_bytes = s->allocated_bytes;
    if (s->mapped_bytes > p->peak_mapped_bytes)
        p->peak_mapped_bytes = s->mapped_bytes;
    if (s->meta_bytes > p->peak_metadata_bytes)
        p->peak_metadata_bytes = s->meta_bytes;
    if (s->huge_bytes > p->peak_huge_bytes) p->peak_huge_bytes = s->huge_bytes;
}

/* integral / duration, with the fraction kept: quotient + remainder. */
static double mean(as_u128_t integral, uint64_t dur)
{
    as_u128_t q = integral / dur, r = integral % dur;
    return (double)q + (double)r / (double)dur;
}

static double ratio(double num, double den)
{
    return den > 0 ? num / den : 0;
}

static double overhead(double heap, double live)
{
    return live > 0 ? heap / live - 1.0 : 0;
}

void as_metrics_sample_ratios(const as_sample_t *s, as_sample_ratios_t *out)
{
    out->fragmentation =
        ratio((double)s->resident_bytes, (double)s->live_bytes);
    out->hugepage_coverage =
        ratio((double)s->huge_bytes, (double)s->resident_bytes);
}

void as_metrics_finish(as_metrics_t *m, uint64_t end_ns,
                       as_metrics_summary_t *out)
{
    integrate(m, end_ns);
    if (m->started && end_ns > m->last.t_ns) m->last.t_ns = end_ns;
    as_metrics_summary_t s = m->s;
    uint64_t dur = m->started ? m->last.t_ns - m->t0_ns : 0;
    s.duration_ns = dur;
    if (dur > 0) {
        s.mean_live_bytes = mean(m->int_live, dur);
        s.mean_resident_bytes = mean(m->int_resident, dur);
        s.mean_huge_bytes = mean(m->int_huge, dur);
        s.mean_allocated_bytes = mean(m->int_allocated, dur);
    } else {
        /* A trace without duration: the final state is the only state. */
        s.mean_live_bytes = (double)m->last.live_bytes;
        s.mean_resident_bytes = (double)m->last.resident_bytes;
        s.mean_huge_bytes = (double)m->last.huge_bytes;
        s.mean_allocated_bytes = (double)m->last.allocated_bytes;
    }
    s.jw1 = overhead(s.mean_resident_bytes, s.mean_live_bytes);
    s.jw2 = overhead((double)s.resident_at_peak_live_bytes,
                     (double)s.peak_live_bytes);
    s.jw3 = overhead((double)s.peak_resident_bytes,
                     (double)s.live_at_peak_resident_bytes);
    s.jw4 = overhead((double)s.peak_resident_bytes, (double)s.peak_live_bytes);
    s.hugepage_coverage_mean = ratio(s.mean_huge_bytes, s.mean_resident_bytes);
    s.hugepage_coverage_at_peak = ratio((double)s.huge_at_peak_live_bytes,
                                        (double)s.resident_at_peak_live_bytes);
    *out = s;
}

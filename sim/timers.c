/* timers.c - the replay's clocks and their bounds (see timers.h).
 *
 * Owns when each timer is due next and how many fired. It fires nothing
 * itself: the engine does the work of a tick, a sample or a wake-up. Every
 * addition of trace times goes through as_time_after, so no due time
 * wraps past 2^64-1, and every firing is counted against the budget, so no
 * trace makes a run idle for hours between two events.
 */
#include "sim/timers.h"

#include <stdio.h>
#include <string.h>

#include "common/error.h"

/* The most firings for a run that has reached `events` events. */
static uint64_t budget(const as_timers_t *tm, uint64_t events)
{
    uint64_t n = tm->events > events ? tm->events : events;
    if (n > (AS_TIME_NEVER - AS_TIMER_BUDGET_BASE) / AS_TIMER_BUDGET_PER_EVENT)
        return AS_TIME_NEVER;
    return AS_TIMER_BUDGET_BASE + AS_TIMER_BUDGET_PER_EVENT * n;
}

static int over_budget(const as_timers_t *tm, uint64_t span, uint64_t events,
                       char *err, size_t cap)
{
    uint64_t n = tm->events > events ? tm->events : events;
    snprintf(err, cap,
             "%s: its time span of %llu ns needs more than %llu timer "
             "firings (policy ticks, samples, khugepaged wake-ups, machine "
             "steps, TLB draws) for %llu "
             "events; refused (a run may take %llu + %llu per event)",
             tm->trace_path, (unsigned long long)span,
             (unsigned long long)budget(tm, events), (unsigned long long)n,
             (unsigned long long)AS_TIMER_BUDGET_BASE,
             (unsigned long long)AS_TIMER_BUDGET_PER_EVENT);
    return AS_ERANGE;
}

static int over_rows(const as_timers_t *tm, char *err, size_t cap)
{
    snprintf(err, cap,
             "%s: more than %llu samples (the row cap of series.csv); "
             "raise --max-rows or choose a longer --sample-interval",
             tm->trace_path, (unsigned long long)tm->max_rows);
    return AS_ERANGE;
}

int as_timers_plan(as_timers_t *tm, const as_timer_plan_t *p, char *err,
                   size_t cap)
{
    memset(tm, 0, sizeof *tm);
    for (int i = 0; i < AS_N_TIMERS; i++)
        tm->due[i] = AS_TIME_NEVER;
    tm->trace_path = p->trace_path;
    tm->events = p->events;
    if (p->sample_interval_ns &&
        p->sample_interval_ns < AS_MIN_SAMPLE_INTERVAL_NS) {
        snprintf(err, cap,
                 "sample interval %llu ns is below the minimum of %llu ns",
                 (unsigned long long)p->sample_interval_ns,
                 (unsigned long long)AS_MIN_SAMPLE_INTERVAL_NS);
        return AS_ERANGE;
    }
    uint64_t span = p->span_ns;
    tm->sample_ns = p->sample_interval_ns ? p->sample_interval_ns
                    : span >= 1000        ? span / 1000
                                          : 10000000;
    tm->khp_ns = p->khugepaged_ns;
    tm->phys_ns = p->phys_ns;
    tm->tlb_ns = p->tlb_ns;
    tm->max_rows = p->max_rows ? p->max_rows : AS_DEFAULT_MAX_ROWS;
    /* one sample at the first event, one per period, one at the end */
    uint64_t samples = span / tm->sample_ns + 2;
    if (samples > tm->max_rows) {
        snprintf(err, cap,
                 "%s: a sample every %llu ns over the trace's %llu ns takes "
                 "%llu rows, more than the row cap of %llu; choose a longer "
                 "--sample-interval or raise --max-rows",
                 p->trace_path, (unsigned long long)tm->sample_ns,
                 (unsigned long long)span, (unsigned long long)samples,
                 (unsigned long long)tm->max_rows);
        return AS_ERANGE;
    }
    uint64_t wakeups = (tm->khp_ns ? span / tm->khp_ns : 0) +
                       (tm->phys_ns ? span / tm->phys_ns : 0) +
                       (tm->tlb_ns ? span / tm->tlb_ns : 0);
    if (samples + wakeups > budget(tm, 0))
        return over_budget(tm, span, 0, err, cap);
    return AS_OK;
}

void as_timers_start(as_timers_t *tm, uint64_t t, uint64_t tick_ns)
{
    tm->t_first = t;
    tm->due[AS_TIMER_TICK] =
        tick_ns ? as_time_after(t, tick_ns) : AS_TIME_NEVER;
    tm->due[AS_TIMER_SAMPLE] = t;
    tm->due[AS_TIMER_KHUGEPAGED] =
        tm->khp_ns ? as_time_after(t, tm->khp_ns) : AS_TIME_NEVER;
    tm->due[AS_TIMER_PHYS] =
        tm->phys_ns ? as_time_after(t, tm->phys_ns) : AS_TIME_NEVER;
    tm->due[AS_TIMER_TLB] =
        tm->tlb_ns ? as_time_after(t, tm->tlb_ns) : AS_TIME_NEVER;
}

int as_timers_next(as_timers_t *tm, uint64_t t, uint64_t events,
                   as_timer_t *which, uint64_t *due, char *err, size_t cap)
{
    /* ties: tick, then sample, then khugepaged, then the machine, then the
     * TLB draw */
    as_timer_t w = AS_TIMER_TICK;
    for (int i = AS_TIMER_SAMPLE; i < AS_N_TIMERS; i++)
        if (tm->due[i] < tm->due[w]) w = (as_timer_t)i;
    *which = AS_TIMER_NONE;
    if (tm->due[w] > t || tm->due[w] == AS_TIME_NEVER) return AS_OK;
    if (++tm->firings > budget(tm, events))
        return over_budget(tm, t - tm->t_first, events, err, cap);
    if (w == AS_TIMER_SAMPLE && ++tm->samples > tm->max_rows)
        return over_rows(tm, err, cap);
    *which = w;
    *due = tm->due[w];
    return AS_OK;
}

void as_timers_rearm(as_timers_t *tm, as_timer_t which, uint64_t due,
                     uint64_t period_ns)
{
    uint64_t p = which == AS_TIMER_TICK         ? period_ns
                 : which == AS_TIMER_SAMPLE     ? tm->sample_ns
                 : which == AS_TIMER_KHUGEPAGED ? tm->khp_ns
                 : which == AS_TIMER_PHYS       ? tm->phys_ns
                                                : tm->tlb_ns;
    tm->due[which] = p ? as_time_after(due, p) : AS_TIME_NEVER;
}

int as_timers_end_sample(as_timers_t *tm, char *err, size_t cap)
{
    return ++tm->samples > tm->max_rows ? over_rows(tm, err, cap) : AS_OK;
}

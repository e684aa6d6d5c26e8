/* timers.h - the five clocks of a replay in trace time: the policy's tick,
 * metric samples, khugepaged wake-ups, the machine's step and the TLB
 * model's draws, with the bounds that keep a run finite (docs/metrics.md,
 * "Limits of a run").
 *
 * Type map
 *   as_timer_plan_t  what the run asks for: trace span and events, sample
 *                    interval, khugepaged, machine and TLB periods, row cap
 *   as_timers_t      when each timer is next due and how many have fired
 *
 * Rules
 *   - Trace time ends at AS_TIME_NEVER = 2^64-1: a timer due there is off.
 *     Rescheduling saturates (as_time_after), so nothing ever wraps.
 *   - Samples: one at the first event, one per interval, one at the end;
 *     at most max_rows of them (checked before the replay from the span).
 *   - Budget: all timers together fire at most AS_TIMER_BUDGET_BASE +
 *     AS_TIMER_BUDGET_PER_EVENT x events (the trace's, else those seen).
 * The engine fires what as_timers_next hands it, earliest first; a timer
 * due at an event's time fires before the event.
 */
#ifndef AS_SIM_TIMERS_H
#define AS_SIM_TIMERS_H

#include <stddef.h>
#include <stdint.h>

#define AS_TIME_NEVER UINT64_MAX

#define AS_DEFAULT_MAX_ROWS 1000000ull
#define AS_MIN_SAMPLE_INTERVAL_NS 1000ull /* 1 us */
#define AS_TIMER_BUDGET_BASE (1ull << 25)
#define AS_TIMER_BUDGET_PER_EVENT 64ull

typedef enum {
    AS_TIMER_NONE = -1,  /* nothing due */
    AS_TIMER_TICK = 0,   /* the policy's tick */
    AS_TIMER_SAMPLE,     /* a metric sample */
    AS_TIMER_KHUGEPAGED, /* a khugepaged wake-up */
    AS_TIMER_PHYS,       /* the machine's step: kcompactd, tenants */
    AS_TIMER_TLB         /* a draw of the TLB model's accesses */
} as_timer_t;
#define AS_N_TIMERS 5

typedef struct {
    const char *trace_path;      /* for messages */
    uint64_t span_ns;            /* last - first event time, when known */
    uint64_t events;             /* events of the trace (0: unknown) */
    uint64_t sample_interval_ns; /* 0: span/1000 (10 ms when under 1000) */
    uint64_t khugepaged_ns;      /* wake-up period; 0: khugepaged off */
    uint64_t phys_ns;            /* machine step period; 0: no machine */
    uint64_t tlb_ns;             /* TLB draw period; 0: no TLB model */
    uint64_t max_rows;           /* 0: AS_DEFAULT_MAX_ROWS */
} as_timer_plan_t;

typedef struct {
    uint64_t due[AS_N_TIMERS]; /* next due time per timer, AS_TIME_NEVER:
                                  off */
    uint64_t sample_ns;        /* sample period */
    uint64_t khp_ns;           /* khugepaged period, 0: off */
    uint64_t phys_ns;          /* machine step period, 0: off */
    uint64_t tlb_ns;           /* TLB draw period, 0: off */
    uint64_t t_first;          /* time of the first event */
    uint64_t firings;          /* timer firings so far */
    uint64_t samples;          /* of which samples (the end sample included) */
    uint64_t max_rows;         /* the row cap */
    uint64_t events;           /* the plan's events */
    const char *trace_path;
} as_timers_t;

/* as_time_after: t + d, or AS_TIME_NEVER when that reaches or passes the
 * end of time. */
static inline uint64_t as_time_after(uint64_t t, uint64_t d)
{
    return d >= AS_TIME_NEVER - t ? AS_TIME_NEVER : t + d;
}

/* as_timers_plan: set the periods and check that the run fits its bounds.
 * @return 0, or AS_ERANGE with err saying which bound (sample interval
 * under 1 us, more samples than the row cap, more samples and wake-ups than
 * the timer budget) and how to change it. All timers are off until
 * as_timers_start. */
int as_timers_plan(as_timers_t *tm, const as_timer_plan_t *plan, char *err,
                   size_t errcap);

/* as_timers_start: arm the timers at the first event's time t: the first
 * sample at t, the first wake-up, machine step and TLB draw a period later,
 * the policy's first tick
 * tick_ns later (0: the policy has no tick). */
void as_timers_start(as_timers_t *tm, uint64_t t, uint64_t tick_ns);

/* as_timers_next: the earliest timer due at or before t, in *which (with
 * its time in *due), counted against the budget; AS_TIMER_NONE when none.
 * `events` is how many events the run has reached. The caller fires it,
 * then calls as_timers_rearm. @return 0, or AS_ERANGE (over the budget or
 * the row cap; err says so). */
int as_timers_next(as_timers_t *tm, uint64_t t, uint64_t events,
                   as_timer_t *which, uint64_t *due, char *err, size_t errcap);

/* as_timers_rearm: schedule `which` one period after `due` (the tick:
 * period_ns from the policy, 0 = no more ticks). */
void as_timers_rearm(as_timers_t *tm, as_timer_t which, uint64_t due,
                     uint64_t period_ns);

/* as_timers_end_sample: count the sample taken at the end of the trace.
 * @return 0, or AS_ERANGE over the row cap. */
int as_timers_end_sample(as_timers_t *tm, char *err, size_t errcap);

#endif /* AS_SIM_TIMERS_H */

/* periods.h - the periods of time a run depends on, and which of them the
 * trace is too short to exercise.
 *
 * A mechanism that acts once per period (TCMalloc's 1 s release tick, its
 * 60 s and 300 s skip-subrelease windows, khugepaged's 10 s scan, LLAMA's
 * lifetime classes of 10 s and more) never acts on a trace shorter than
 * that period, and a comparison made on such a trace says nothing about
 * it. `allocsim run` warns then (stderr and summary.json's warnings).
 *
 * Where the periods come from (docs/metrics.md, "Periods"):
 *   - every duration parameter (AS_PARAM_NS) of the policy whose value is
 *     not 0 (0 turns a mechanism off): the convention is that a policy's
 *     durations are the periods and windows it acts on;
 *   - the finite bounds of the lifetime classes, when the policy's ops set
 *     class_periods (it times blocks by their class, as LLAMA does);
 *   - os.scan_interval when the khugepaged model runs (thp not never).
 */
#ifndef AS_SIM_PERIODS_H
#define AS_SIM_PERIODS_H

#include <stddef.h>
#include <stdint.h>

#include "common/lifetime.h"
#include "sim/params.h"
#include "sim/simos.h"

/* as_short_periods: write into buf (cap bytes, always terminated; "" when
 * none) "trace lasts X s, shorter than periods the run depends on: NAME =
 * P s, ..." for every period above longer than span_ns. `policy` is the
 * policy's resolved part. @return how many periods were longer. */
size_t as_short_periods(const as_param_part_t *policy, int class_periods,
                        const as_classes_t *classes,
                        const as_simos_config_t *os, uint64_t span_ns,
                        char *buf, size_t cap);

#endif /* AS_SIM_PERIODS_H */

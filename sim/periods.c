/* periods.c - the warning for a trace shorter than a period the run depends
 * on (periods.h). It reads the resolved parameters and the configuration
 * only; it changes nothing in the run, so it cannot move a figure.
 */
#include "sim/periods.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

typedef struct {
    char *buf;
    size_t cap, len;
    size_t n;
    uint64_t span_ns;
} acc_t;

static void addf(acc_t *a, const char *fmt, ...)
{
    if (a->len + 1 >= a->cap) return;
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(a->buf + a->len, a->cap - a->len, fmt, ap);
    va_end(ap);
    if (k > 0)
        a->len += (size_t)k < a->cap - a->len ? (size_t)k : a->cap - a->len - 1;
}

/* One period: listed when the trace is shorter. */
static void period(acc_t *a, const char *part, const char *name, uint64_t ns)
{
    if (ns == 0 || ns <= a->span_ns) return;
    if (a->n++ == 0)
        addf(a,
             "trace lasts %.3g s, shorter than periods the run depends on "
             "(mechanisms on them act rarely or never):",
             (double)a->span_ns / 1e9);
    addf(a, "%s %s.%s = %.6g s", a->n > 1 ? "," : "", part, name,
         (double)ns / 1e9);
}

size_t as_short_periods(const as_param_part_t *policy, int class_periods,
                        const as_classes_t *classes,
                        const as_simos_config_t *os, uint64_t span_ns,
                        char *buf, size_t cap)
{
    acc_t a = {buf, cap, 0, 0, span_ns};
    if (cap) buf[0] = '\0';
    for (size_t i = 0; policy && i < policy->n; i++)
        if (policy->specs[i].type == AS_PARAM_NS)
            period(&a, policy->part, policy->specs[i].name,
                   policy->values[i].u);
    if (class_periods)
        for (uint32_t c = 0; c + 1 < classes->n; c++) {
            char name[32];
            snprintf(name, sizeof name, "class_bound[%u]", c);
            period(&a, "classes", name, classes->bound_ns[c]);
        }
    if (os->khugepaged && os->thp != AS_THP_NEVER)
        period(&a, "os", "scan_interval", os->scan_interval_ns);
    return a.n;
}

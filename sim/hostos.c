/* hostos.c - default the simulated OS to the recording host's THP settings
 * (hostos.h).
 *
 * Owns the mapping from the kernel's settings to the model's parameters and
 * nothing else: the values it produces are checked against the parameter
 * table's bounds like any other, and a setting that cannot be mapped is
 * left at the model's default, never guessed.
 */
#include "sim/hostos.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/param.h"
#include "traces/trace.h"

void as_host_os_read(const char *path, as_host_os_t *h)
{
    memset(h, 0, sizeof *h);
    for (int i = 0; i < AS_SIMOS_N_PARAMS; i++)
        h->source[i] = "default";
    as_trace_reader_t *r = NULL;
    if (!path || as_trace_reader_open(&r, path) != 0) {
        as_trace_reader_close(r);
        return;
    }
    for (int i = 0; i < AS_THP_N; i++) {
        const char *v = as_trace_reader_meta(r, as_thp_meta_key[i]);
        if (!v) continue;
        h->has = 1;
        snprintf(h->value[i], sizeof h->value[i], "%s", v);
    }
    as_trace_reader_close(r);
}

/* number: the decimal value of s (at most 19 digits). @return 0 or -1. */
static int number(const char *s, uint64_t *out)
{
    if (!*s || strlen(s) > 19) return -1;
    uint64_t v = 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9') return -1;
        v = v * 10 + (uint64_t)(*s - '0');
    }
    *out = v;
    return 0;
}

/* set: v[p] = x when in bounds and not explicit; records the source. */
static void set(as_host_os_t *h, as_param_value_t *v, unsigned explicit_mask,
                int p, uint64_t x)
{
    const as_param_spec_t *sp = &as_simos_params[p];
    if (explicit_mask & (1u << p)) return;
    if (sp->type != AS_PARAM_ENUM && sp->type != AS_PARAM_BOOL &&
        ((double)x < sp->min || (double)x > sp->max))
        return;
    v[p].u = x;
    h->source[p] = "recording host";
}

void as_host_os_apply(as_host_os_t *h, as_param_value_t *v,
                      unsigned explicit_mask)
{
    if (!h->has) return;
    const char *en = h->value[AS_THP_ENABLED];
    static const char *const modes[] = {"never", "madvise", "always"};
    for (int m = 0; m < 3; m++)
        if (strcmp(en, modes[m]) == 0)
            set(h, v, explicit_mask, AS_SIMOS_P_THP, (uint64_t)m);
    uint64_t x;
    if (number(h->value[AS_THP_MAX_PTES_NONE], &x) == 0)
        set(h, v, explicit_mask, AS_SIMOS_P_MAX_PTES_NONE, x);
    if (number(h->value[AS_THP_SCAN_SLEEP_MS], &x) == 0 &&
        x <= UINT64_MAX / 1000000u)
        set(h, v, explicit_mask, AS_SIMOS_P_SCAN_INTERVAL, x * 1000000u);
    if (number(h->value[AS_THP_PAGES_TO_SCAN], &x) == 0)
        set(h, v, explicit_mask, AS_SIMOS_P_SCAN_REGIONS,
            x / 512 ? x / 512 : 1);
}

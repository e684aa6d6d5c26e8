/* hostos.h - the simulated OS configured like the host a trace was
 * recorded on.
 *
 * A trace recorded by `allocsim record` carries the host's transparent-
 * huge-page settings in its header (traces/hostthp.h). A run defaults the
 * simulated OS's parameters to them: host.thp.enabled -> os.thp,
 * khugepaged max_ptes_none -> os.max_ptes_none, scan_sleep_millisecs ->
 * os.scan_interval, pages_to_scan / 512 -> os.scan_regions (regions of
 * 2 MiB). `defrag` has no counterpart in the model (it is reported, not
 * applied). An explicit --thp or --param os.NAME wins; every value says
 * where it came from (summary.json, os.param_sources).
 *
 * Type map
 *   as_host_os_t   the host settings a trace holds, and the source of each
 *                  simulated OS parameter after they were applied
 */
#ifndef AS_SIM_HOSTOS_H
#define AS_SIM_HOSTOS_H

#include "sim/simos.h"
#include "traces/hostthp.h"

typedef struct {
    int has;                                /* any host.thp.* key found */
    char value[AS_THP_N][AS_THP_VALUE_MAX]; /* as in the trace ("" absent) */
    /* "default", "recording host", "--thp" or "--param" */
    const char *source[AS_SIMOS_N_PARAMS];
} as_host_os_t;

/* as_host_os_read: the host settings in the header metadata of the trace
 * at `path` (opened and closed here; a trace that does not open has none:
 * the run's own open reports why). Every source starts as "default". */
void as_host_os_read(const char *path, as_host_os_t *h);

/* as_host_os_apply: set the simulated OS's values `v` (table order of
 * as_simos_params) from the host settings, except those whose bit
 * (1 << AS_SIMOS_P_*) is in `explicit_mask`; a setting that is "unknown"
 * or outside the parameter's bounds is skipped. Sources of the values set
 * become "recording host". */
void as_host_os_apply(as_host_os_t *h, as_param_value_t *v,
                      unsigned explicit_mask);

#endif /* AS_SIM_HOSTOS_H */

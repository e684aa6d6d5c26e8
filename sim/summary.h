/* summary.h - a run's summary.json (the names of docs/metrics.md), built
 * from the configuration and the result and written by a sink at the end of
 * the run. Everything but the "timing" object is deterministic. */
#ifndef AS_SIM_SUMMARY_H
#define AS_SIM_SUMMARY_H

#include "sim/engine.h"

/* as_summary_sink: a sink whose on_end writes summary.json to f. */
as_run_sink_t as_summary_sink(as_sink_file_t *o, FILE *f, const char *path);

/* as_summary_json: the same document as a string (caller frees with free()). */
char *as_summary_json(const as_run_config_t *cfg, const as_run_result_t *res);

/* as_summary_add_provenance: add the "provenance" object (the command
 * line argv[0..argc), the working directory, the host) to a JSON object
 * (a cJSON *): what summary.json and machine_summary.json end with. */
struct cJSON;
void as_summary_add_provenance(struct cJSON *root, char *const *argv, int argc);

/* as_summary_add_phys: add summary.json's "phys" object of res (a run
 * with has_phys) to a JSON object: what machine_summary.json reuses for
 * the machine's physical memory. */
void as_summary_add_phys(struct cJSON *root, const as_run_result_t *res);

#endif /* AS_SIM_SUMMARY_H */

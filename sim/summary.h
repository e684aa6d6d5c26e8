/* summary.h - write a run's summary.json (the names of DESIGN.md's
 * "Summary file"). Everything but the "timing" object is deterministic. */
#ifndef AS_SIM_SUMMARY_H
#define AS_SIM_SUMMARY_H

#include "sim/engine.h"

/* as_summary_write: write `path` atomically (path.tmp, then rename).
 * @return 0, AS_EIO or AS_ENOMEM; err names the path. */
int as_summary_write(const char *path, const as_run_config_t *cfg,
                     const as_run_result_t *res, char *err, size_t errcap);

/* as_summary_json: the same document as a string (caller frees with free()). */
char *as_summary_json(const as_run_config_t *cfg, const as_run_result_t *res);

#endif /* AS_SIM_SUMMARY_H */

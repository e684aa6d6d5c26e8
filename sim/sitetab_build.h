/* sitetab_build.h - a site table (predictors/sitetab/sitetab.h) from the
 * allocations of recorded traces: `allocsim train --predictor sitetab`.
 *
 * Type map
 *   as_sitetab_build_t  the table's bytes and what went into it
 *
 * Every allocation of the traces (sim/lifewalk.c: the true lifetime class,
 * objects never freed in the last class) counts for its site, the key of
 * its innermost `frames` frames (common/sitekey.h, the function the
 * predictor calls at run time). A site's class is the most frequent class
 * of its objects, ties to the longer class: LLAMA's profile-guided table
 * maps a stack to the lifetime class its profile showed, and
 * over-predicting costs LLAMA less than under-predicting. Allocations
 * without a stack are left out (counted). Several traces add up, so one
 * table can hold the sites of several runs (one thread and many, say).
 */
#ifndef AS_SIM_SITETAB_BUILD_H
#define AS_SIM_SITETAB_BUILD_H

#include <stddef.h>
#include <stdint.h>

#include "common/lifetime.h"

typedef struct {
    unsigned char *bytes; /* the file (malloc'd; free it) */
    size_t len;
    uint64_t sites;
    uint64_t allocs;     /* allocations counted */
    uint64_t unkeyed;    /* allocations without a stack, left out */
    uint64_t agree;      /* allocations of the site's own class */
    uint64_t pc_frames;  /* frames named by pc (no module in the trace): the
                            table works on these traces only */
    uint64_t frames_all; /* frames hashed in all */
} as_sitetab_build_t;

/* as_sitetab_build: build the table of the n traces `paths` for classes cl
 * over `frames` frames (1..AS_SITEKEY_MAX_FRAMES) into *out. err receives
 * "path: offset N: what" for a bad trace. @return 0, a trace error
 * (AS_EIO, AS_EFORMAT, ...), AS_EINVAL (frames out of range), AS_ENOMEM. */
int as_sitetab_build(const char *const *paths, int n, const as_classes_t *cl,
                     uint32_t frames, as_sitetab_build_t *out, char *err,
                     size_t errcap);

#endif /* AS_SIM_SITETAB_BUILD_H */

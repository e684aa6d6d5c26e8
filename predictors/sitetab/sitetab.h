/* sitetab.h - the `sitetab` predictor: a profile-guided table of allocation
 * sites and their lifetime class, built by the simulator from recorded
 * traces (`allocsim train --predictor sitetab`) and read, unchanged, by
 * `allocsim run --predictor sitetab --predictor-load FILE` and by the real
 * allocator (ALLOCSIM_PREDICTOR=sitetab or cached:sitetab,
 * ALLOCSIM_MODEL=FILE).
 *
 * Type map
 *   as_predictor_sitetab  the registry entry (ops, parameter table)
 *   as_sitetab_rec_t      one site of the table: key, class, objects
 *
 * A site is the key of its innermost `frames` frames (common/sitekey.h:
 * module file name and offset per frame, so the key survives ASLR); the
 * class is the one the builder chose for it (sim/sitetab_build.h: the most
 * frequent class of the site's objects). A site the table does not hold is
 * predicted `default_class` (the longest class unless set); with no table
 * loaded every allocation is unpredicted (AS_CLASS_NONE), as `lstm` without
 * a model. It learns nothing (no observe): after the load the table is
 * read-only, so concurrent predictions need no lock (the counters are
 * relaxed atomics).
 *
 * File format, version 1 (little-endian; offsets in bytes):
 *   0   8      magic "ASSITTAB"
 *   8   u32    version (1)
 *   12  u32    classes n (1..AS_MAX_CLASSES), the run's class count
 *   16  u32    frames (1..AS_SITEKEY_MAX_FRAMES) hashed per site
 *   20  u32    reserved, 0
 *   24  u64    sites m
 *   32  u64[n] the class bounds in ns (the last is AS_LIFETIME_INF): a
 *              table is refused by a run with other classes
 *   ..  m x 16 records: u64 key (ascending, distinct, not 0), u32 class
 *              (< n), u32 objects of the site in the traces (>= 1,
 *              saturated at 2^32 - 1)
 *   ..  u64    FNV-1a (64-bit) of every byte before it
 * The file is exactly that long. Errors name the offset of the bad field
 * (load_bytes: *bad_offset, *what).
 *
 * No libc, no allocation outside the configuration's as_mem_t.
 */
#ifndef AS_PREDICTORS_SITETAB_SITETAB_H
#define AS_PREDICTORS_SITETAB_SITETAB_H

#include "common/sitekey.h"
#include "predictors/predictor.h"

#define AS_SITETAB_VERSION 1u
#define AS_SITETAB_HEADER_BYTES 32u
#define AS_SITETAB_RECORD_BYTES 16u

extern const as_predictor_ops_t as_predictor_sitetab;

/* Parameter rows of as_predictor_sitetab.params, in order. */
enum {
    AS_SITETAB_DEFAULT, /* class of sites not in the table (clamped) */
    AS_SITETAB_NPARAMS
};

typedef struct {
    uint64_t key;     /* as_sitekey of the site's frames */
    uint32_t cls;     /* its class */
    uint32_t objects; /* its allocations in the traces (saturated) */
} as_sitetab_rec_t;

/* as_sitetab_file_bytes: @return the length of a table of m sites for n
 * classes, or 0 when it would not fit a size_t. */
size_t as_sitetab_file_bytes(uint32_t n, uint64_t m);

/* as_sitetab_encode: write the file of the m sites recs (sorted by key,
 * distinct, not 0) hashed over `frames` frames, for classes cl, into buf
 * (cap bytes, at least as_sitetab_file_bytes). @return the bytes written,
 * 0 when cap is too small or a record breaks the rules above. */
size_t as_sitetab_encode(const as_classes_t *cl, uint32_t frames,
                         const as_sitetab_rec_t *recs, uint64_t m,
                         unsigned char *buf, size_t cap);

/* as_sitetab_key: the key the predictor in `state` gives ctx (its frames
 * are filled first), 0 when ctx has no frames. */
uint64_t as_sitetab_key(const void *state, const as_pred_ctx_t *ctx);

#endif /* AS_PREDICTORS_SITETAB_SITETAB_H */

/* site.h - the per-allocation-site lifetime predictor `site`.
 *
 * Type map
 *   as_predictor_site   the registry entry (ops, parameter table)
 *   site table text     the portable form of a trained table (below)
 *
 * `site` keeps, per allocation site, how many of the site's objects ended in
 * each lifetime class, plus a short/long split at a threshold, in a bounded
 * table with LRU eviction (TCMalloc's LifetimeDatabase keeps 1024 entries).
 * It predicts in one of two modes:
 *   tcmalloc  TCMalloc's LifetimeBasedAllocator rule: short-lived only when
 *             short > long + margin; then the class holding `threshold`,
 *             otherwise the default class (the longest).
 *   majority  Barrett & Zorn's site majority, multi-class: the class with the
 *             most outcomes (ties go to the longer class) once the site has
 *             at least min_observations outcomes; the default class before.
 * It learns online from every outcome the engine reports (observe), and can
 * start from a table trained on another trace (as_site_load_table).
 *
 * Site keys: `stack` uses the trace's stack id; `pcs` hashes the frames' pcs
 * (frame ids when the trace has no pcs), which survives renumbered stacks but
 * not a different binary layout.
 *
 * Table text format (version 1), one record per line, '#' starts a comment:
 *   allocsim-site-table 1
 *   classes <n>
 *   <key> <short> <long> <count_0> ... <count_{n-1}>
 * Keys and counts are decimal. Records are written oldest first, so loading a
 * dump reproduces the LRU order. Loading adds to the counts of sites already
 * present; a table with a different class count is refused (AS_EFORMAT).
 */
#ifndef AS_PREDICTORS_SITE_SITE_H
#define AS_PREDICTORS_SITE_SITE_H

#include "predictors/predictor.h"

extern const as_predictor_ops_t as_predictor_site;

/* Parameter rows of as_predictor_site.params, in order. */
enum {
    AS_SITE_MODE,      /* enum tcmalloc|majority */
    AS_SITE_KEY,       /* enum stack|pcs */
    AS_SITE_CAPACITY,  /* sites kept (LRU) */
    AS_SITE_THRESHOLD, /* ns: short/long split of the tcmalloc mode */
    AS_SITE_MARGIN,    /* tcmalloc mode: short > long + margin */
    AS_SITE_MIN_OBS,   /* majority mode: outcomes before trusting a site */
    AS_SITE_DEFAULT,   /* class for unknown sites (clamped to the last) */
    AS_SITE_NPARAMS
};

/* as_site_load_table: add the records of a table in text form (above) to a
 * `site` predictor's state. *bad_line (may be NULL) receives the 1-based line
 * of the first bad record. @return 0, AS_EFORMAT (malformed or wrong class
 * count), AS_ENOMEM. Sites beyond the capacity evict the oldest, as online. */
int as_site_load_table(void *state, const char *text, size_t len,
                       size_t *bad_line);

/* as_site_dump_table: write the table in text form into buf (cap bytes,
 * always terminated when cap > 0). @return the length of the whole text
 * (excluding the terminator), which may exceed cap - 1: call again with a
 * larger buffer, as with snprintf. */
size_t as_site_dump_table(const void *state, char *buf, size_t cap);

/* as_site_key: the site key this predictor would use for ctx (tests and the
 * cached predictor's documentation). */
uint64_t as_site_key(const void *state, const as_pred_ctx_t *ctx);

#endif /* AS_PREDICTORS_SITE_SITE_H */

/* tlb.h - a data-TLB reach model: what a stream of accesses to the live
 * objects costs in translation misses, given the simulated page tables.
 *
 * Type map
 *   as_tlb_config_t    geometry of the three TLB arrays, the access stream
 *   as_tlb_counters_t  accesses, L1 misses, page walks, huge-page accesses
 *   as_tlb_t           the TLB arrays, the live-byte sampler and the PRNG
 *
 * Model (docs/simos.md, "TLB reach"; the figures in docs/metrics.md):
 *   - An L1 array for 4 KiB pages, an L1 array for 2 MiB pages and a second
 *     level shared by both sizes; each set-associative with LRU
 *     replacement. An access looks up the L1 of its page's size; a miss
 *     there looks up the second level (a hit fills the L1); a miss there is
 *     a page walk, which fills both. Entries are never invalidated: a
 *     collapse or split changes the page size, so the old entries simply
 *     stop matching and age out.
 *   - The access stream: every interval of trace time, `accesses` accesses
 *     to uniformly random live bytes (an object is chosen with probability
 *     proportional to its requested size), drawn from a seeded PRNG; the
 *     page size of each comes from the simulated OS (as_simos_region).
 *   - Live bytes are kept in a tree by address whose nodes carry their
 *     subtree's byte sum: add, remove and one draw cost O(log n).
 * Deterministic: the same calls and seed give the same counters.
 */
#ifndef AS_SIM_TLB_H
#define AS_SIM_TLB_H

#include <stdint.h>

#include "common/param.h"
#include "sim/simos.h"

typedef enum { AS_TLB_OFF = 0, AS_TLB_SKYLAKE = 1 } as_tlb_model_t;

/* One set-associative array: `entries` entries in entries / ways sets. */
typedef struct {
    uint32_t entries, ways;
} as_tlb_geom_t;

typedef struct {
    as_tlb_model_t model; /* AS_TLB_OFF: no model, no cost */
    as_tlb_geom_t l1_4k;  /* default 64 entries, 4 ways (Skylake) */
    as_tlb_geom_t l1_2m;  /* default 32 entries, 4 ways */
    as_tlb_geom_t l2;     /* shared STLB; default 1536 entries, 12 ways */
    uint64_t interval_ns; /* trace time between draws; default 100 ms */
    uint64_t accesses;    /* accesses per draw; default 1000 */
    uint64_t seed;        /* PRNG seed; default 1 */
} as_tlb_config_t;

typedef struct as_tlb_counters {
    uint64_t accesses;      /* accesses made */
    uint64_t huge_accesses; /* of which to a byte in a huge page */
    uint64_t l1_misses;     /* L1 (4 KiB or 2 MiB array) misses */
    uint64_t walks;         /* second-level misses: page walks */
    uint64_t draws;         /* draws made (timer firings) */
} as_tlb_counters_t;

/* The result of one lookup. */
typedef enum {
    AS_TLB_L1_HIT = 0,
    AS_TLB_L2_HIT = 1, /* L1 miss, second-level hit */
    AS_TLB_WALK = 2    /* both missed: a page walk */
} as_tlb_outcome_t;

typedef struct as_tlb as_tlb_t;

/* The parameters of part `tlb` (`--param tlb.NAME=V`), in this order. */
enum {
    AS_TLB_P_MODEL,
    AS_TLB_P_L1_4K_ENTRIES,
    AS_TLB_P_L1_4K_WAYS,
    AS_TLB_P_L1_2M_ENTRIES,
    AS_TLB_P_L1_2M_WAYS,
    AS_TLB_P_L2_ENTRIES,
    AS_TLB_P_L2_WAYS,
    AS_TLB_P_INTERVAL,
    AS_TLB_P_ACCESSES,
    AS_TLB_P_SEED,
    AS_TLB_N_PARAMS
};
extern const as_param_spec_t as_tlb_params[AS_TLB_N_PARAMS];

/* as_tlb_config_default: model off, Skylake-SP geometry, 1000 accesses
 * every 100 ms, seed 1. */
void as_tlb_config_default(as_tlb_config_t *cfg);

/* as_tlb_config_apply: cfg from resolved values of as_tlb_params. */
void as_tlb_config_apply(as_tlb_config_t *cfg, const as_param_value_t *values);

/* as_tlb_config_check: @return 0, or AS_EINVAL when an array's entries are
 * not a multiple of its ways (err names the parameters and values). */
int as_tlb_config_check(const as_tlb_config_t *cfg, char *err, size_t errcap);

/* as_tlb_create: an empty TLB and live set. @return 0, AS_EINVAL (a bad
 * geometry, see as_tlb_config_check) or AS_ENOMEM. */
int as_tlb_create(const as_tlb_config_t *cfg, as_tlb_t **tlb);
void as_tlb_destroy(as_tlb_t *tlb);

/* as_tlb_lookup: translate addr through the arrays, its page being a
 * 2 MiB page when `huge`, and update LRU state and counters (accesses,
 * huge_accesses, l1_misses, walks). @return the outcome. */
as_tlb_outcome_t as_tlb_lookup(as_tlb_t *tlb, uintptr_t addr, int huge);

/* as_tlb_live_add: the live object [addr, addr+bytes) joins the set
 * (bytes 0, or an address already present: ignored). @return 0 or
 * AS_ENOMEM. */
int as_tlb_live_add(as_tlb_t *tlb, uintptr_t addr, uint64_t bytes);

/* as_tlb_live_remove: the object at addr leaves the set (absent: no-op). */
void as_tlb_live_remove(as_tlb_t *tlb, uintptr_t addr);

/* as_tlb_live_bytes: @return the bytes in the set. */
uint64_t as_tlb_live_bytes(const as_tlb_t *tlb);

/* as_tlb_live_pick: the address of live byte number u (0 <= u <
 * as_tlb_live_bytes), bytes numbered in address order. O(log n).
 * @return the address, or 0 when u is out of range. */
uintptr_t as_tlb_live_pick(const as_tlb_t *tlb, uint64_t u);

/* as_tlb_draw: one firing of the access stream: cfg.accesses accesses to
 * uniformly random live bytes, each translated with its page size from
 * os. Nothing when the set is empty (the draw is still counted). */
void as_tlb_draw(as_tlb_t *tlb, const as_simos_t *os);

const as_tlb_counters_t *as_tlb_counters(const as_tlb_t *tlb);

/* The figures of docs/metrics.md from counters: L1 misses and page walks
 * per 1000 accesses, and the share of accesses to huge pages (all 0 when
 * there was no access). */
typedef struct {
    double l1_misses_per_1000, walks_per_1000, huge_share;
} as_tlb_rates_t;
void as_tlb_rates(const as_tlb_counters_t *c, as_tlb_rates_t *q);

/* as_tlb_check: the sampler tree's order, balance and byte sums.
 * @return 0 or AS_ECHECK (tests). */
int as_tlb_check(const as_tlb_t *tlb);

#endif /* AS_SIM_TLB_H */

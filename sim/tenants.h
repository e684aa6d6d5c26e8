/* tenants.h - background tenants: a deterministic load on physical memory
 * besides the simulated processes (page cache, slab, other programs).
 *
 * Type map
 *   as_tenants_t          the tenants of one as_phys_t (one owner there)
 *   as_tenants_config_t   targets, their variation over time, churn, seed
 *   as_tenants_counters_t pages held per kind, reclaimed, shortfalls
 *
 * Model (docs/simos.md, "Background tenants"): two kinds of tenant pages,
 * each a set of order-0 frames. Page cache is movable and reclaimable (the
 * machine may migrate it, and a process short of memory may drop it);
 * unmovable pages stand for slab and other programs' kernel memory and are
 * never moved or dropped. At every step (an engine timer) each kind frees
 * churn_permille / 1000 of its pages, chosen by a seeded generator, and
 * then frees or takes pages until it holds its target for that time: the
 * configured level times 1 + swing_pct/100 x w(t), where w is a triangle
 * wave of period period_ns (0 at t = 0, +1 at a quarter period, -1 at
 * three quarters). A take that finds no free frame stops (a shortfall).
 * The same seed and the same sequence of steps give the same frames.
 */
#ifndef AS_SIM_TENANTS_H
#define AS_SIM_TENANTS_H

#include <stdint.h>

#include "sim/phys.h"

typedef struct {
    uint64_t cache_bytes;     /* page cache level (movable) */
    uint64_t unmovable_bytes; /* slab and other programs (unmovable) */
    uint32_t swing_pct;       /* 0..100: how far the targets vary */
    uint64_t period_ns;       /* period of the variation (0: none) */
    uint32_t churn_permille;  /* pages freed and taken again per step */
    uint64_t seed;
} as_tenants_config_t;

typedef struct {
    uint64_t pages[AS_MT_COUNT]; /* held now: [AS_MT_MOVABLE] page cache,
                                    [AS_MT_UNMOVABLE] slab and others */
    uint64_t peak_pages[AS_MT_COUNT];
    uint64_t reclaimed_pages; /* page cache dropped for a process */
    uint64_t shortfalls;      /* takes that found no free frame */
    uint64_t steps;
    uint64_t host_bytes;
} as_tenants_counters_t;

typedef struct as_tenants as_tenants_t;

/* as_tenants_create: register the tenants as an owner of phys; they hold
 * nothing until the first step. @return 0, AS_EINVAL (swing_pct above 100),
 * AS_ENOSPACE (phys has no owner slot left) or AS_ENOMEM. */
int as_tenants_create(const as_tenants_config_t *cfg, as_phys_t *phys,
                      as_tenants_t **out);

/* as_tenants_destroy: give every frame back and leave phys. */
void as_tenants_destroy(as_tenants_t *t);

/* as_tenants_step: one step at time t_ns (from the start of the run).
 * @return 0 or AS_ENOMEM (host memory). */
int as_tenants_step(as_tenants_t *t, uint64_t t_ns);

/* as_tenants_target: the target in pages of kind mt at time t_ns. */
uint64_t as_tenants_target(const as_tenants_t *t, as_migratetype_t mt,
                           uint64_t t_ns);

/* as_tenants_frame: for tests: the frame of slot i of kind mt, or
 * UINT64_MAX when i is past the pages held. */
uint64_t as_tenants_frame(const as_tenants_t *t, as_migratetype_t mt,
                          uint64_t i);

const as_tenants_counters_t *as_tenants_counters(const as_tenants_t *t);

#endif /* AS_SIM_TENANTS_H */

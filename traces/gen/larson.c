/* larson.c - the `larson` workload: server churn after Larson & Krishnan's
 * multithreaded allocator benchmark (ISMM 1998).
 *
 * T threads each own `slots` slots holding one object each. First every
 * thread fills its slots; then, every `gap` (exponential), a random thread
 * picks a slot, frees the object in it and allocates a new one of a uniform
 * size in [size_min, size_max] into it. With probability `bleed` the slot
 * belongs to another thread, so objects allocated by one thread are freed by
 * another, the way Larson's threads hand their slots on to successors.
 * Thread i runs on CPU i mod cpus. Lifetimes are geometric in the number of
 * steps, so the live set stays at T * slots objects.
 *
 * Objects are managed by hand (AS_GEN_MANUAL): in end=free mode this file
 * frees every slot at the end, and settles an odd leftover event with one
 * realloc.
 */
#include <stdlib.h>

#include "common/error.h"
#include "traces/gen/gen.h"

enum {
    P_END = AS_GEN_PARAM_END,
    P_THREADS,
    P_CPUS,
    P_SLOTS,
    P_SIZE_MIN,
    P_SIZE_MAX,
    P_BLEED,
    P_GAP,
    P_COUNT
};

static const as_param_spec_t params[P_COUNT] = {
    AS_GEN_COMMON_PARAMS,
    {"threads", AS_PARAM_U64, "4", 1, 65536, NULL, "threads"},
    {"cpus", AS_PARAM_U64, "4", 1, 4096, NULL,
     "CPUs; thread i runs on CPU i mod cpus"},
    {"slots", AS_PARAM_U64, "1000", 1, 1e8, NULL, "slots per thread"},
    {"size_min", AS_PARAM_BYTES, "16", 0, 1ull << 40, NULL, "smallest object"},
    {"size_max", AS_PARAM_BYTES, "1K", 0, 1ull << 40, NULL, "largest object"},
    {"bleed", AS_PARAM_DOUBLE, "0.1", 0, 1, NULL,
     "probability that a step replaces another thread's slot"},
    {"gap", AS_PARAM_NS, "200ns", 1, 1e12, NULL,
     "mean time between events (exponential)"},
};

enum { S_FILL, S_CHURN, S_RESIZE, S_COUNT };

static const as_gen_site_t sites[S_COUNT] = {
    {{"larson_fill", "thread_init", "larson_thread", "start_thread"},
     {AS_GEN_UNIFORM, 0, 0, 0, 0},
     {AS_GEN_CONST, 0, 0, 0, 0},
     1},
    {{"larson_alloc", "exercise_heap", "larson_thread", "start_thread"},
     {AS_GEN_UNIFORM, 0, 0, 0, 0},
     {AS_GEN_CONST, 0, 0, 0, 0},
     1},
    {{"larson_resize", "exercise_heap", "larson_thread", "start_thread"},
     {AS_GEN_UNIFORM, 0, 0, 0, 0},
     {AS_GEN_CONST, 0, 0, 0, 0},
     1},
};

static int run(as_gen_t *g, const as_param_value_t *v)
{
    if (v[P_SIZE_MIN].u > v[P_SIZE_MAX].u) return AS_EINVAL;
    uint32_t stacks[S_COUNT];
    int rc = as_gen_define_sites(g, "/usr/bin/larson", sites, S_COUNT, stacks);
    if (rc) return rc;
    as_gen_dist_t size = {AS_GEN_UNIFORM, (double)v[P_SIZE_MIN].u,
                          (double)v[P_SIZE_MAX].u, 0, 0};
    uint64_t threads = v[P_THREADS].u, per = v[P_SLOTS].u;
    uint32_t cpus = (uint32_t)v[P_CPUS].u;
    uint64_t n_slots = threads * per;
    uint64_t *slot = malloc(n_slots * sizeof *slot);
    if (!slot) return AS_ENOMEM;
    for (uint64_t i = 0; i < n_slots; i++)
        slot[i] = AS_GEN_NONE;

    as_rng_t *r = &g->rng;
    double gap = (double)v[P_GAP].u;
    uint64_t t = 0;
    as_gen_alloc_t a = {.free_ns = AS_GEN_MANUAL};

    /* Fill: thread i allocates its slots, threads interleaved. */
    for (uint64_t j = 0; j < per && as_gen_more(g); j++)
        for (uint64_t i = 0; i < threads && as_gen_more(g); i++) {
            t += (uint64_t)as_rng_exp(r, gap);
            a.t_ns = t;
            a.thread = (uint32_t)i;
            a.cpu = (uint32_t)(i % cpus);
            a.stack = stacks[S_FILL];
            a.size = as_gen_draw(r, &size);
            slot[i * per + j] = as_gen_alloc(g, &a);
        }

    /* Churn. */
    while (as_gen_more(g)) {
        uint32_t th = (uint32_t)as_rng_below(r, threads);
        uint32_t cpu = th % cpus;
        uint64_t owner = th;
        if (threads > 1 && as_rng_chance(r, v[P_BLEED].d)) {
            owner = as_rng_below(r, threads - 1);
            if (owner >= th) owner++;
        }
        uint64_t k = owner * per + as_rng_below(r, per);
        if (slot[k] != AS_GEN_NONE) {
            t += (uint64_t)as_rng_exp(r, gap);
            if (as_gen_free(g, t, th, cpu, slot[k])) break;
            slot[k] = AS_GEN_NONE;
        }
        t += (uint64_t)as_rng_exp(r, gap);
        a.t_ns = t;
        a.thread = th;
        a.cpu = cpu;
        a.stack = stacks[S_CHURN];
        a.size = as_gen_draw(r, &size);
        slot[k] = as_gen_alloc(g, &a);
    }

    /* End=free: settle the parity, then free every slot. */
    if (g->drain && !g->err) {
        if (as_gen_room(g) == 1) {
            for (uint64_t k = 0; k < n_slots; k++) {
                if (slot[k] == AS_GEN_NONE) continue;
                uint32_t th = (uint32_t)(k / per);
                t += (uint64_t)as_rng_exp(r, gap);
                slot[k] =
                    as_gen_realloc(g, t, th, th % cpus, slot[k],
                                   as_gen_draw(r, &size), stacks[S_RESIZE]);
                break;
            }
        }
        for (uint64_t k = 0; k < n_slots && !g->err; k++) {
            if (slot[k] == AS_GEN_NONE) continue;
            uint32_t th = (uint32_t)(k / per);
            t += (uint64_t)as_rng_exp(r, gap);
            as_gen_free(g, t, th, th % cpus, slot[k]);
        }
    }
    free(slot);
    return g->err;
}

const as_gen_workload_t as_gen_larson = {
    .name = "larson",
    .doc = "Larson-like server churn: threads replace random objects in "
           "their slots, sometimes in another thread's (cross-thread frees)",
    .params = params,
    .n_params = P_COUNT,
    .run = run,
};

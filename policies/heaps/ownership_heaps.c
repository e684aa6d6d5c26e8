/* ownership_heaps.c - the `ownership-heaps` policy: per-processor heaps that
 * take frees back to the owner but never release memory to a shared pool.
 *
 * This file is only the parameter table and the registry entry: the engine
 * is Hoard's (policies/hoard/hoard.c) with the global heap and the f/K rule
 * switched off, so the two policies differ in exactly that one mechanism
 * and the blowup comparison isolates it. Like every policy it keeps its
 * metadata in the page source's arena and never touches libc.
 */
#include "policies/heaps/ownership_heaps.h"

#include "policies/hoard/hoard.h"

enum {
    P_SUPERBLOCK,
    P_CLASSES,
    P_GROWTH,
    P_HEAPS,
    P_LARGE,
    P_HEAP_SELECT,
    P_COUNT
};

static const as_param_spec_t ownership_params[P_COUNT] = {
    [P_SUPERBLOCK] = {"superblock", AS_PARAM_POW2, "8K", 4096, 1 << 30, 0,
                      "superblock bytes S, a power of two"},
    [P_CLASSES] = {"classes", AS_PARAM_ENUM, "geometric", 0, 0,
                   "geometric|pow2", "size-class spacing"},
    [P_GROWTH] = {"growth", AS_PARAM_DOUBLE, "1.2", 1.01, 4, 0,
                  "geometric size-class factor b"},
    [P_HEAPS] = {"heaps", AS_PARAM_U64, "8", 1, 4096, 0,
                 "per-processor heaps P"},
    [P_LARGE] = {"large_threshold", AS_PARAM_BYTES, "0", 0, 1 << 30, 0,
                 "objects above this go straight to the page source "
                 "(0 = S/2)"},
    [P_HEAP_SELECT] = {"heap_select", AS_PARAM_ENUM, "cpu", 0, 0, "cpu|thread",
                       "heap of a request: 1 + cpu mod P, or a hash of the "
                       "thread"},
};

static int ownership_create(const as_policy_config_t *cfg, void **state)
{
    const as_param_value_t *v = cfg->params;
    as_hoard_config_t hc = {
        .sb_bytes = v[P_SUPERBLOCK].u,
        .classes = v[P_CLASSES].u ? AS_SIZECLASS_POW2 : AS_SIZECLASS_GEOMETRIC,
        .growth = v[P_GROWTH].d,
        .heaps = (uint32_t)v[P_HEAPS].u,
        .empty_fraction = 1,
        .k_superblocks = 0,
        .large_bytes = v[P_LARGE].u,
        .heap_by_thread = v[P_HEAP_SELECT].u == 1,
        .use_global = 0,
        .name = "ownership-heaps",
    };
    return as_hoard_create(cfg, &hc, state);
}

const as_policy_ops_t as_policy_ownership_heaps = {
    .name = "ownership-heaps",
    .doc = "strawman: per-CPU heaps, frees return to the owner heap, no "
           "global heap (P-fold blowup)",
    .params = ownership_params,
    .n_params = P_COUNT,
    .create = ownership_create,
    .alloc = as_hoard_alloc,
    .alloc_batch = as_hoard_alloc_batch,
    .free = as_hoard_free,
    .realloc = 0,
    .usable_size = as_hoard_usable_size,
    .tick = 0,
    .stats = as_hoard_stats,
    .destroy = as_hoard_destroy,
    .check = as_hoard_check,
};

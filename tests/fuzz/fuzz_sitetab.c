/* fuzz_sitetab.c - libFuzzer target: any byte string read as a site table
 * (predictors/sitetab/sitetab.h) by the `sitetab` predictor must load or
 * be refused with a description and an offset inside the input (or at its
 * end, for a truncated one), never crash, read out of bounds or leak. The
 * run's classes are taken from the input's header when they are in range,
 * so that the checks past the class bounds are reached; a table that
 * loads must answer a class in range (or the default) for contexts made
 * from the input's bytes, and give back every byte it took. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "predictors/sitetab/sitetab.h"
#include "tests/fuzz/fuzz_mem.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t le64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    as_classes_t cl;
    as_classes_default(&cl);
    uint32_t n = size >= 16 ? data[12] : 0;
    if (n >= 1 && n <= AS_MAX_CLASSES && size >= 32 + 8 * (size_t)n) {
        cl.n = n;
        for (uint32_t k = 0; k < n; k++)
            cl.bound_ns[k] = le64(data + 32 + 8 * k);
    }
    as_param_value_t vals[AS_SITETAB_NPARAMS];
    if (as_param_defaults(as_predictor_sitetab.params,
                          as_predictor_sitetab.n_params, vals) != 0)
        __builtin_trap();
    as_predictor_config_t cfg = {
        .classes = &cl, .params = vals, .mem = &as_fuzz_mem};
    void *st;
    if (as_predictor_sitetab.create(&cfg, &st) != 0) __builtin_trap();
    size_t off = SIZE_MAX;
    const char *what = NULL;
    int rc = as_predictor_sitetab.load_bytes(st, data, size, &off, &what);
    if (rc == 0) {
        const char *mods[4] = {"/bin/a", "", "libc.so.6", "-"};
        uint64_t offs[4], pcs[4];
        for (int i = 0; i < 4; i++) {
            offs[i] = i < (int)size ? data[i] * 977u : (uint64_t)i;
            pcs[i] = offs[i] * 31;
        }
        for (uint32_t depth = 0; depth <= 4; depth++) {
            as_pred_ctx_t ctx = {
                .depth = depth, .pcs = pcs, .modules = mods, .offsets = offs};
            int32_t p = as_predictor_sitetab.predict(st, &ctx);
            if (p < 0 || (uint32_t)p >= cl.n) __builtin_trap();
        }
    } else if (rc != AS_EFORMAT || !what || !*what || off > size) {
        __builtin_trap();
    }
    as_predictor_sitetab.destroy(st);
    if (as_fuzz_held != 0) __builtin_trap();
    return 0;
}

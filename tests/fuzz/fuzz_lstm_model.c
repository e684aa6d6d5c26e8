/* fuzz_lstm_model.c - libFuzzer target: any byte string read as an LSTM
 * model file (predictors/lstm/model.c) must load or be refused with a
 * description and an offset inside the input, never crash, read out of
 * bounds or leak; a model that loads must answer a class in range for
 * word sequences taken from the input, through the model and through the
 * `lstm` predictor, and give back every byte it took. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "predictors/lstm/lstm.h"
#include "predictors/lstm/model.h"
#include "tests/fuzz/fuzz_mem.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    as_lstm_model_t m;
    size_t off = SIZE_MAX;
    const char *what = NULL;
    if (as_lstm_model_parse(&m, &as_fuzz_mem, data, size, &off, &what) == 0) {
        uint32_t ids[40];
        for (uint32_t i = 0; i < 40; i++)
            ids[i] = i < size ? data[i] * 4099u : i;
        float probs[AS_MAX_CLASSES];
        uint32_t c = as_lstm_model_forward(&m, ids, 40, probs);
        if (c >= m.d.classes) __builtin_trap();
        as_lstm_model_free(&m);
        /* through the predictor, with the model's own classes */
        as_classes_t cl = {.n = m.d.classes};
        for (uint32_t k = 0; k + 1 < cl.n; k++)
            cl.bound_ns[k] = m.bound_ns[k];
        cl.bound_ns[cl.n - 1] = AS_LIFETIME_INF;
        as_predictor_config_t cfg = {.classes = &cl, .mem = &as_fuzz_mem};
        void *st;
        if (as_predictor_lstm.create(&cfg, &st) != 0) __builtin_trap();
        if (as_predictor_lstm.load_bytes(st, data, size, &off, &what) != 0)
            __builtin_trap();
        const char *syms[] = {"main", "std::vector<int>::push_back", "", "x"};
        const char *mods[] = {"/bin/a", "", "/lib/libc.so.6", ""};
        as_pred_ctx_t ctx = {
            .size = size, .symbols = syms, .modules = mods, .depth = 4};
        int32_t p = as_predictor_lstm.predict(st, &ctx);
        if (p < 0 || (uint32_t)p >= cl.n) __builtin_trap();
        as_predictor_lstm.destroy(st);
    } else if (!what || !*what || off > size) {
        __builtin_trap();
    }
    if (as_fuzz_held != 0) __builtin_trap();
    return 0;
}

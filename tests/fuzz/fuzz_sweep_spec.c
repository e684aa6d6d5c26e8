/* fuzz_sweep_spec.c - libFuzzer target: any byte string given to the sweep
 * spec parser must give a spec or an error naming the spec, never a crash,
 * a hang, an out-of-bounds access or a leak; a spec that parses must
 * expand (or be refused as too large) and free cleanly. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "reports/sweep.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    as_sweep_spec_t s;
    char err[512];
    if (as_sweep_parse((const char *)data, size, "fuzz.json", &s, err,
                       sizeof err) != 0) {
        if (!strstr(err, "fuzz.json")) __builtin_trap();
        return 0;
    }
    as_sweep_run_t *runs;
    size_t n;
    if (as_sweep_expand(&s, &runs, &n, err, sizeof err) == 0) {
        for (size_t i = 0; i < n; i++)
            if (!runs[i].name[0]) __builtin_trap();
        as_sweep_runs_free(runs, n);
    }
    as_sweep_free(&s);
    return 0;
}

/* testutil.h - the shared harness of the CUnit test executables.
 *
 * Each tests/unit/test_<part>_<topic>.c lists its cases in a table and calls
 * as_test_main(); the executable exits non-zero when any assertion failed.
 * Helpers here build small traces and simulated systems for tests.
 */
#ifndef AS_TESTS_TESTUTIL_H
#define AS_TESTS_TESTUTIL_H

#include <CUnit/CUnit.h>
#include <stddef.h>
#include <stdint.h>

#include "common/mem.h"
#include "policies/policy.h"
#include "sim/engine.h"
#include "traces/trace.h"

typedef struct {
    const char *name;
    void (*fn)(void);
} as_test_t;

/* as_test_mem: host memory that counts what is held (as_test_mem_held):
 * a predictor or policy must give back every byte it took. */
extern const as_mem_t as_test_mem;
long as_test_mem_held(void);

/* Run the NULL-terminated table as one CUnit suite. @return exit status. */
int as_test_main(const char *suite, const as_test_t *tests);

/* A fresh path under the test's working directory (build tree), unique per
 * call within the process: "<prefix>-<pid>-<n><suffix>". Static buffer of
 * the caller: copy before calling again. */
const char *as_test_tmpfile(const char *prefix, const char *suffix);

/* as_test_scratch: like as_test_tmpfile, but the path stays valid for the
 * whole process and the file is removed at exit (at most 256 per process;
 * more fails the test). */
const char *as_test_scratch(const char *prefix, const char *suffix);

/* as_test_write_trace: write events evs[0..n) as a trace to a fresh scratch
 * path (removed at exit). Any failure fails the test at once.
 * @return the path. */
const char *as_test_write_trace(const char *prefix, const as_event_t *evs,
                                size_t n);

/* as_test_slurp: the whole file at path in a malloc'd buffer (one spare
 * byte after it), *n its size. @return the buffer (free it), or NULL. */
uint8_t *as_test_slurp(const char *path, size_t *n);

/* as_test_one_chunk_file: into `file`, a trace file of `version` with no
 * metadata and one chunk around the payload raw[0..n), its header saying
 * `events` events, `allocs` new objects (the first id 0) and times
 * first_t..last_t, sealed with correct checksums (zstd level 1); no
 * footer. `file` must hold the header, 48 bytes and the compressed
 * payload. Any failure fails the test at once. @return the file's size. */
size_t as_test_one_chunk_file(uint8_t *file, uint32_t version,
                              const uint8_t *raw, size_t n, uint32_t events,
                              uint32_t allocs, uint64_t first_t,
                              uint64_t last_t);

/* Path of a file in the source tree (AS_SOURCE_DIR "/" rel). */
const char *as_test_srcpath(const char *rel);

/* as_test_gen: write `events` events of the generated `workload` with
 * `seed` to `path`; params are "name=value" strings ending with NULL (or
 * NULL for the defaults). Any failure fails the test at once. */
void as_test_gen(const char *path, const char *workload, uint64_t events,
                 uint64_t seed, const char *const *params);

/* as_test_stat: the value of statistic `name` in a run's result, or -1. */
double as_test_stat(const as_run_result_t *r, const char *name);

/* as_test_policy_config: a configuration of policy p over page source ps
 * for tests: p's default parameters in params (room for cap values), and
 * seven lifetime classes bounded at 10 ms, 100 ms, 1 s, 10 s, 100 s,
 * 1000 s and unbounded. @return 0, or -1 when the parameters do not fit
 * in cap or do not resolve. */
int as_test_policy_config(const as_policy_ops_t *p, const as_pagesource_t *ps,
                          as_param_value_t *params, size_t cap,
                          as_policy_config_t *cfg);

#endif

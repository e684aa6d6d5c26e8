/* predict.h - the real allocator's lifetime predictor (ALLOCSIM_PREDICTOR).
 *
 * Type map
 *   as_mpred_counters_t  what the predictor layer counted: predictions per
 *                        class, stack walks, time, lock waits that gave up
 *
 * One predictor instance per process (the registry's, with the parameters
 * of ALLOCSIM_PARAM, malloc/config.h), made at the first allocation from
 * a metadata arena of its own, its model or table read from
 * ALLOCSIM_MODEL with open/read. Each allocation of a lifetime-aware
 * policy asks it for a class, with the context the simulator builds
 * (sim/predset.c): size, thread, CPU, time and the stack height in bytes
 * (the thread's stack top minus the API function's frame, as the recorder
 * measures it) up front; the return addresses (up to 32 from the caller
 * of malloc, walked by the recorder's own code, common/stackwalk.h, in its
 * default auto mode), the frames' symbols (demangled with libstdc++'s
 * demangler when the program has it loaded) and module paths only when a
 * predictor asks for them (as_pred_ctx_frames: a miss of `cached`, or
 * `lstm` itself).
 * Names come from the shared symbol index (common/symix.h), never from
 * dladdr, and are kept per pc.
 *
 * Thread safety: one mutex serialises the predictor (its `cached` tables
 * are per thread by default, but its counters are shared). A thread that
 * cannot get it within 100 ms makes no prediction (counted as
 * lock_timeouts): the holder may be waiting for the dynamic loader's
 * lock inside dl_iterate_phdr while the loader's holder allocates, and
 * giving up is what breaks that cycle. Allocations made while predicting
 * (the demangler's, libunwind's) reach the policy without a prediction.
 * Fork: the handlers take and release the mutex (the caller orders it
 * first, before the statistics and policy locks).
 *
 * Nothing here calls libc's allocator or stdio.
 */
#ifndef AS_MALLOC_PREDICT_H
#define AS_MALLOC_PREDICT_H

#include <stdint.h>

#include "common/lifetime.h"
#include "common/msg.h"
#include "malloc/config.h"
#include "policies/policy.h"

typedef struct {
    uint64_t predictions;                 /* predictor asked */
    uint64_t unpredicted_allocs;          /* answered AS_CLASS_NONE */
    uint64_t by_class[AS_MAX_CLASSES];    /* answers per class */
    uint64_t stack_walks;                 /* contexts whose frames were read */
    uint64_t symbol_lookups;              /* pcs named (once per pc) */
    uint64_t timed_predictions, timed_ns; /* one prediction in 64, timed */
    uint64_t lock_timeouts;               /* gave up waiting (no prediction) */
    uint64_t skipped_recursive;           /* allocations made while
                                             predicting (no prediction) */
    uint64_t metadata_bytes;              /* the predictor's arena, live */
    uint64_t model_file_bytes;            /* ALLOCSIM_MODEL's size */
} as_mpred_counters_t;

/* as_mpred_init: create the predictor of c (c->pred must be set) for the
 * lifetime classes `classes`, and load the file `model_path` (NULL or "":
 * none) into it (or into its inner predictor when only that one loads,
 * as `allocsim run --predictor-load` does). On failure `why` gets one line:
 * "ALLOCSIM_MODEL=path: cannot read (No such file ...)", "ALLOCSIM_MODEL=
 * path: offset 12: ... (lstm model)", "ALLOCSIM_PREDICTOR=lstm: needs a
 * model (ALLOCSIM_MODEL)". @return 0, AS_EIO, AS_EFORMAT, AS_EINVAL,
 * AS_ENOMEM. */
int as_mpred_init(const as_malloc_config_t *c, const as_classes_t *classes,
                  const char *model_path, as_msg_t *why);

/* as_mpred_predict: the class for an allocation of `size` bytes in
 * context ctx (thread, cpu, now_ns as the policy gets them), called from
 * the API function whose frame is `frame` (built with frame pointers:
 * frame[0] is its caller's frame, frame[1] == ra) and whose caller's
 * return address is `ra`. @return a class, or AS_CLASS_NONE (no prediction, a
 * recursive call, or the lock could not be had). */
int32_t as_mpred_predict(const as_ctx_t *ctx, uint64_t size, uintptr_t ra,
                         void *frame);

/* as_mpred_counters: a copy of the counters (takes the mutex). */
void as_mpred_counters(as_mpred_counters_t *out);

/* as_mpred_json: append to m the "predictor" and "predictions" members
 * of ALLOCSIM_STATS (each followed by ",\n"): names as in the simulator's
 * summary.json (predictions.unpredicted_allocs, ...). Takes the mutex. */
void as_mpred_json(as_msg_t *m);

/* as_mpred_stats: append to m, in as_mstats_stat's form (after ", "
 * unless m is empty), the predictor's own statistics for the one "stats"
 * object, which also holds the policy's and the layers': names as in the
 * simulator's summary.json ("predictor.cached_hits",
 * "predictor.inner.lstm_predictions", ...). Nothing when no predictor is
 * on. Takes the mutex. */
void as_mpred_stats(as_msg_t *m);

/* Fork handlers (call before and after the other locks' handlers). */
void as_mpred_prefork(void);
void as_mpred_postfork_parent(void);
void as_mpred_postfork_child(void);

#endif /* AS_MALLOC_PREDICT_H */

/* predictor.h - the lifetime-predictor interface and its registry.
 *
 * Type map
 *   as_pred_ctx_t         what a predictor may look at for one allocation
 *   as_pred_outcome_t     what the engine tells it when the object dies
 *   as_predictor_config_t what create gets: classes, parameters, memory,
 *                         and for a wrapper the inner predictor
 *   as_predictor_ops_t    a predictor: name, parameter table, function table
 *   as_pred_stat_fn       sink for a predictor's named statistics
 * From common/: as_classes_t and AS_CLASS_NONE / AS_CLASS_UNKNOWN
 * (common/lifetime.h), as_mem_t (common/mem.h).
 *
 * A predictor maps an allocation context to a lifetime class 0..n-1. The
 * engine reports the true outcome of every object it predicted (at its free,
 * or at the end of the trace for objects never freed), so accuracy and online
 * learning need nothing else. Like policies, predictors build into the real
 * allocator: their memory comes from an as_mem_t, never libc malloc; they have
 * no clock and no hidden state, and they are deterministic.
 * predictors/ depends only on common/: the metadata memory (as_mem_t) and
 * the lifetime classes (as_classes_t) live in common/mem.h and
 * common/lifetime.h.
 */
#ifndef AS_PREDICTORS_PREDICTOR_H
#define AS_PREDICTORS_PREDICTOR_H

#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "common/msg.h"
#include "common/param.h"
#include "common/lifetime.h"
#include "common/mem.h"

typedef struct {
    uint64_t object; /* object id */
    uint64_t now_ns; /* allocation time */
    uint64_t size;   /* requested bytes */
    uint32_t thread, cpu;
    uint32_t stack;         /* stack id, 0 = none */
    const uint32_t *frames; /* the stack's frame ids, innermost first */
    const uint64_t *pcs;    /* the frames' pcs, innermost first (may be NULL) */
    uint32_t depth;         /* frames in the stack */
    uint64_t stack_height;  /* bytes from the top of the thread's stack to
                               the allocating call (LLAMA's cache key);
                               0 = unknown (v1 traces; also at outcomes,
                               which do not carry it) */
    const char *const *symbols; /* the frames' demangled symbols, innermost
                                   first ("" unknown); only for predictors
                                   with needs_symbols, else NULL */
    const char *const *modules; /* the frames' module paths, likewise */
    const uint64_t *offsets;    /* the frames' pcs minus their module's
                                   base (0 unknown), likewise: with the
                                   module's name, a frame's ASLR-free name
                                   (common/sitekey.h) */
    const uint64_t *frame_keys; /* optional (NULL: not kept): the frames'
                                   as_sitekey_frame names, likewise, for
                                   a caller that keeps them per pc (the
                                   real allocator) */
    int32_t true_class;         /* the oracle's input: the class of the true
                               lifetime (objects never freed: the last
                               class), computed by the engine's pre-pass;
                               AS_CLASS_UNKNOWN for predictors without
                               needs_oracle, which must not read it. The
                               engine keeps one byte per object for this,
                               not the lifetime itself (memory bound). */
    /* fill: optional (NULL in the simulator, which fills everything up
     * front): the real allocator leaves pcs, frames, depth, symbols and
     * modules empty, because walking the stack costs microseconds, and
     * sets fill; a predictor about to read them calls as_pred_ctx_frames
     * first, which calls fill(fill_arg) once and so fills them in this
     * very context (fill_arg is the caller's own, writable, copy of it). */
    void (*fill)(void *fill_arg);
    void *fill_arg;
} as_pred_ctx_t;

/* as_pred_ctx_frames: make ctx's frames (pcs, depth, and for the real
 * allocator symbols, modules and offsets) available: a no-op unless the context
 * has a fill hook (the real allocator's lazy stack walk), which runs once
 * per context. Call before reading ctx->pcs, ->depth, ->frames,
 * ->symbols, ->modules or ->offsets. */
static inline void as_pred_ctx_frames(const as_pred_ctx_t *ctx)
{
    if (ctx->fill) ctx->fill(ctx->fill_arg);
}

typedef struct {
    uint64_t lifetime_ns; /* free time - alloc time; AS_LIFETIME_INF if the
                             object outlived the trace */
    uint32_t actual_class;
    int32_t predicted_class; /* what this predictor said at allocation */
} as_pred_outcome_t;

typedef struct {
    const as_classes_t *classes;
    const as_param_value_t *params; /* one per spec row */
    const as_mem_t *mem;            /* memory for tables */
    /* wrappers (e.g. cached) receive the inner predictor here */
    const struct as_predictor_ops *inner_ops;
    void *inner_state;
} as_predictor_config_t;

typedef void (*as_pred_stat_fn)(void *arg, const char *name, double value);

typedef struct as_predictor_ops {
    const char *name;
    const char *doc;
    const as_param_spec_t *params;
    size_t n_params;
    int needs_oracle;  /* 1: the engine must fill ctx->true_class (its
                         pre-pass over the trace) */
    int wraps;         /* 1: takes an inner predictor (inner_ops) */
    int needs_symbols; /* 1: the engine must fill ctx->symbols, ->modules,
                         ->offsets */

    int (*create)(const as_predictor_config_t *cfg, void **state);
    /* predict: @return a class in 0..classes->n-1, or AS_CLASS_NONE for no
     * prediction (the policy then decides; the object is left out of the
     * confusion matrix and counted as unpredicted). */
    int32_t (*predict)(void *state, const as_pred_ctx_t *ctx);
    /* observe: optional: the outcome of an object this predictor predicted;
     * ctx is the allocation context again. */
    void (*observe)(void *state, const as_pred_ctx_t *ctx,
                    const as_pred_outcome_t *outcome);
    void (*stats)(void *state, as_pred_stat_fn fn, void *arg); /* optional */
    void (*destroy)(void *state);
    /* load: optional: add a trained table/model given in text form (the
     * caller reads the file: a predictor does no I/O). *line (may be NULL)
     * receives the 1-based line of the first bad record.
     * @return 0, AS_EFORMAT, AS_ENOMEM. */
    int (*load)(void *state, const char *text, size_t len, size_t *line);
    /* save: optional: write the table/model in text form into buf (cap
     * bytes; terminated when cap > 0). @return the whole length, which may
     * exceed cap - 1: call again with a larger buffer, as with snprintf. */
    size_t (*save)(const void *state, char *buf, size_t cap);
    /* load_bytes: optional: as load, for a binary model file. *bad_offset
     * and *what (each may be NULL) receive the byte offset and description
     * of the first bad field. @return 0, AS_EFORMAT, AS_ENOMEM. */
    int (*load_bytes)(void *state, const void *bytes, size_t len,
                      size_t *bad_offset, const char **what);
} as_predictor_ops_t;

/* The registry: one static table in predictors/registry.c. */

/* as_predictor_find: @return the predictor registered as `name`, or NULL. */
const as_predictor_ops_t *as_predictor_find(const char *name);

/* as_predictor_count: @return how many predictors are registered. */
size_t as_predictor_count(void);

/* as_predictor_at: @return the i-th registered predictor, or NULL when
 * i >= as_predictor_count(). */
const as_predictor_ops_t *as_predictor_at(size_t i);

/* as_predictor_resolve: the one reading of a predictor spec, shared by
 * `allocsim run --predictor` and the real allocator's ALLOCSIM_PREDICTOR:
 * "name" or "wrapper:inner"; a wrapper named without ':' wraps
 * inner_name when given, else `none`. *ops gets the predictor, *inner its
 * inner one (NULL for a predictor that wraps none). On failure `why` gets
 * one line: "unknown predictor 'x'; valid: none oracle ..." or "predictor
 * 'site' does not wrap another predictor". No libc, no allocation.
 * @return 0, AS_ENOTFOUND (unknown name, or an inner that is itself a
 * wrapper), AS_EINVAL (an inner given to a predictor that wraps none, or
 * a name longer than 63 bytes). */
int as_predictor_resolve(const char *spec, const char *inner_name,
                         const as_predictor_ops_t **ops,
                         const as_predictor_ops_t **inner, as_msg_t *why);

#endif /* AS_PREDICTORS_PREDICTOR_H */

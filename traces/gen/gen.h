/* gen.h - synthetic workload generators: deterministic traces with stacks.
 *
 * Type map
 *   as_gen_sink_t      where a generator's output goes: metadata, frames,
 *                      stacks, events (the trace writer, or a test collector)
 *   as_gen_config_t    what every workload takes: event count, seed
 *   as_gen_workload_t  one workload: name, doc, parameter table, run function;
 *                      all of them sit in one registry table (gen.c)
 *   as_gen_t           the emitter a workload drives: event budget, pending
 *                      frees, object ids, random generator
 *   as_gen_op_t        one pending free or realloc, kept in a min-heap by time
 *   as_gen_dist_t      a size or lifetime distribution
 *   as_gen_site_t      an allocation site: a stack (frame symbols), a size
 *                      distribution and a lifetime distribution
 *   as_gen_alloc_t     one allocation and its fate (when and where it dies,
 *                      an optional realloc on the way)
 *
 * A workload describes *what* a program allocates; the emitter guarantees the
 * trace invariants of trace.h whatever the workload does:
 *   - timestamps never decrease: before an event at time t, every pending op
 *     due at or before t is emitted, in (time, object) order;
 *   - every free or realloc names a live object (ids are dense and assigned
 *     here exactly as the writer assigns them; the writer sink checks);
 *   - the trace has exactly cfg.events events (allocs + frees + reallocs).
 *
 * Budget. With end=live (the default) the trace stops at the N-th event and
 * whatever is still pending stays live. With end=free every object is freed
 * by the end: the emitter counts the events live objects still owe
 *   owed = |pending frees| + 2 |pending reallocs| + |live manual objects|
 * and a workload may only start an allocation while
 *   room = N - events - owed
 * covers it and everything it implies. When N and the work do not match in
 * parity, an allocation that would leave room == 1 gets a realloc just
 * before its free; a trace of N = 1 event is a single allocation left live.
 * When the workload stops, whatever is still pending is emitted at the end
 * of the trace, 10 ns apart, in the order it was due (the program's
 * teardown), so a heavy-tailed lifetime never stretches the trace.
 *
 * Same workload, parameters and seed give the same events, so the same file,
 * byte for byte. traces/ depends on no other part; this header only on
 * common/ and trace.h.
 */
#ifndef AS_TRACES_GEN_GEN_H
#define AS_TRACES_GEN_GEN_H

#include <stddef.h>
#include <stdint.h>

#include "common/param.h"
#include "common/rng.h"
#include "traces/trace.h"

/* ---------------------------------------------------------------- output */

/* Where generated records go. `meta`, `frame`, `stack` may be NULL (dropped).
 * `event` gets ALLOC/REALLOC events with object/new_object already set to the
 * ids the writer will assign; a sink that assigns ids itself (the writer)
 * stores them back, and the emitter checks they agree.
 * Each hook returns 0 or a negative AS_E* code, which stops the run. */
typedef struct {
    void *arg;
    int (*meta)(void *arg, const char *key, const char *value);
    int (*frame)(void *arg, uint32_t id, const as_frame_t *frame);
    int (*stack)(void *arg, uint32_t id, const uint32_t *frames,
                 uint32_t depth);
    int (*event)(void *arg, as_event_t *ev);
} as_gen_sink_t;

/* as_gen_writer_sink: a sink that forwards everything to an open trace
 * writer `w` (which must outlive the run). */
void as_gen_writer_sink(as_trace_writer_t *w, as_gen_sink_t *out);

typedef struct {
    uint64_t events; /* exact number of events to generate */
    uint64_t seed;   /* seeds the workload's generator */
} as_gen_config_t;

/* --------------------------------------------------------------- emitter */

#define AS_GEN_NEVER UINT64_MAX        /* free_ns: the object is never freed */
#define AS_GEN_MANUAL (UINT64_MAX - 1) /* free_ns: the workload frees it */
#define AS_GEN_NONE UINT64_MAX         /* "no object": budget reached/error */
#define AS_GEN_MAX_DEPTH 8             /* frames per site stack, at most */

/* One pending operation on a live object. */
typedef struct {
    uint64_t t_ns;   /* when it happens; AS_GEN_NEVER: only at the end */
    uint64_t object; /* the live object it applies to */
    uint32_t thread; /* thread and CPU it runs on */
    uint32_t cpu;
    uint32_t kind;    /* AS_EV_FREE or AS_EV_REALLOC */
    uint32_t stack;   /* REALLOC: the new object's stack; FREE: the
                         object's own (for a last realloc at the end) */
    uint64_t size;    /* REALLOC: new size; FREE: the object's size */
    uint64_t then_ns; /* REALLOC: when the new object is freed (or NEVER) */
} as_gen_op_t;

/* The emitter. Workloads read `rng` and `cfg`, and call the functions below;
 * the other fields are the emitter's own.
 * Invariants: events <= cfg->events; live = allocs - frees (reallocs keep
 * it); in end=free mode owed is as in the header comment and
 * events + owed <= cfg->events. */
typedef struct as_gen {
    as_rng_t rng;               /* the workload's random stream */
    const as_gen_config_t *cfg; /* event count and seed */
    const as_gen_sink_t *sink;  /* output */
    int drain;                  /* end=free: free everything by the end */
    int full;                   /* 1 once the budget refused an event */
    int err;                    /* first error (sticky), 0 if none */
    uint64_t events;            /* events emitted so far */
    uint64_t owed;              /* drain mode: events live objects owe */
    uint64_t live;              /* objects allocated and not yet freed */
    uint64_t next_object;       /* id the next allocation gets */
    uint64_t now_ns;            /* time of the last event emitted */
    uint32_t next_frame;        /* next frame id to define (from 1) */
    uint32_t next_stack;        /* next stack id to define (from 1) */
    as_gen_op_t *heap;          /* pending ops, min-heap on (t_ns, object) */
    size_t heap_len, heap_cap;
} as_gen_t;

/* One allocation and its fate. */
typedef struct {
    uint64_t t_ns;        /* when (>= the emitter's now_ns) */
    uint32_t thread, cpu; /* who allocates, where */
    uint32_t stack;       /* site stack id (from as_gen_define_sites) */
    uint64_t size, align; /* request; align 0 = default */
    uint64_t free_ns;     /* absolute death time (>= t_ns, or after the
                             realloc), AS_GEN_NEVER or AS_GEN_MANUAL */
    uint32_t free_thread; /* who frees it, where */
    uint32_t free_cpu;
    int has_realloc;     /* 1: realloc at realloc_ns by the freeing
                            thread, then free the new object at free_ns */
    uint64_t realloc_ns; /* t_ns <= realloc_ns <= free_ns */
    uint64_t realloc_size;
    uint32_t realloc_stack;
} as_gen_alloc_t;

/* as_gen_more: @return 1 while the workload should keep generating (no error
 * and the budget has not refused an event yet), else 0. */
static inline int as_gen_more(const as_gen_t *g)
{
    return !g->full && !g->err;
}

/* as_gen_room: @return N - events - owed (see the header comment). */
uint64_t as_gen_room(const as_gen_t *g);

/* as_gen_alloc: emit the pending ops due by a->t_ns, then the allocation, and
 * schedule its fate. @return the new object's id, or AS_GEN_NONE when the
 * budget cannot take it (g->full is then set) or on error (g->err set).
 * In drain mode a requested realloc is dropped when only it does not fit. */
uint64_t as_gen_alloc(as_gen_t *g, const as_gen_alloc_t *a);

/* as_gen_free: free a live AS_GEN_MANUAL object now (at t_ns). @return 0
 * emitted, 1 refused by the budget (g->full set), or a negative error. */
int as_gen_free(as_gen_t *g, uint64_t t_ns, uint32_t thread, uint32_t cpu,
                uint64_t object);

/* as_gen_realloc: reallocate a live AS_GEN_MANUAL object now; the new object
 * is manual too. @return the new id, or AS_GEN_NONE (budget or error). */
uint64_t as_gen_realloc(as_gen_t *g, uint64_t t_ns, uint32_t thread,
                        uint32_t cpu, uint64_t object, uint64_t size,
                        uint32_t stack);

/* ---------------------------------------------------------- sites, draws */

typedef enum {
    AS_GEN_CONST = 0, /* a */
    AS_GEN_UNIFORM,   /* uniform integer in [a, b] */
    AS_GEN_EXP,       /* exponential, mean a */
    AS_GEN_LOGNORMAL, /* median a, sigma b */
    AS_GEN_PARETO     /* minimum a, shape b */
} as_gen_dist_kind_t;

/* A distribution of non-negative integers (bytes or nanoseconds). Draws are
 * rounded down and clamped to [lo, hi] (hi == 0: no upper clamp). */
typedef struct {
    uint8_t kind; /* as_gen_dist_kind_t */
    double a, b;  /* parameters, as the kind says */
    uint64_t lo, hi;
} as_gen_dist_t;

/* as_gen_draw: @return one draw of d from r. */
uint64_t as_gen_draw(as_rng_t *r, const as_gen_dist_t *d);

/* An allocation site. The stack names its frames innermost first. */
typedef struct {
    const char *frames[AS_GEN_MAX_DEPTH]; /* symbols, NULL-terminated */
    as_gen_dist_t size;                   /* object sizes from this site */
    as_gen_dist_t life;                   /* lifetimes (free_ns - t_ns) */
    double weight;                        /* relative frequency */
} as_gen_site_t;

/* as_gen_define_sites: define the frames (one per distinct symbol, within
 * `module`, with made-up but stable pcs) and one stack per site, emitting
 * the definitions to the sink; stacks[i] receives the stack id of sites[i].
 * @return 0 or the sink's error. */
int as_gen_define_sites(as_gen_t *g, const char *module,
                        const as_gen_site_t *sites, size_t n, uint32_t *stacks);

/* as_gen_pick: @return an index in [0, n) drawn with probability
 * proportional to weights[i] (all >= 0, sum > 0). */
size_t as_gen_pick(as_rng_t *r, const double *weights, size_t n);

/* -------------------------------------------------------------- registry */

/* Every workload's parameter table starts with this row, so index 0 is
 * always `end`. */
#define AS_GEN_PARAM_END 0
#define AS_GEN_COMMON_PARAMS                                                   \
    {                                                                          \
        "end", AS_PARAM_ENUM, "live", 0, 0, "live|free",                       \
            "live: objects pending at the N-th event stay live; free: the "    \
            "trace "                                                           \
            "frees every object by its end"                                    \
    }

typedef struct {
    const char *name;              /* e.g. "server-mix" */
    const char *doc;               /* one paragraph for --help */
    const as_param_spec_t *params; /* starts with AS_GEN_COMMON_PARAMS */
    size_t n_params;
    /* run: generate until the budget is reached (as_gen_more() == 0),
     * free its manual objects in drain mode, and return 0 or an error. */
    int (*run)(as_gen_t *g, const as_param_value_t *values);
} as_gen_workload_t;

/* as_gen_count / as_gen_at: the registry, in --help order. */
size_t as_gen_count(void);
const as_gen_workload_t *as_gen_at(size_t i);

/* as_gen_find: @return the workload called `name`, or NULL. */
const as_gen_workload_t *as_gen_find(const char *name);

/* as_gen_run: write the metadata (program=allocsim-gen, workload, seed,
 * events, params), run `wl` with `values` (one per row of wl->params), drain
 * pending ops in end=free mode, and check the event count.
 * @return 0, AS_EINVAL (bad values), AS_ENOMEM, the sink's error, or
 * AS_ECHECK (a workload broke the emitter's contract: a bug). */
int as_gen_run(const as_gen_workload_t *wl, const as_gen_config_t *cfg,
               const as_param_value_t *values, const as_gen_sink_t *sink);

/* The workloads (one file each in traces/gen/). */
extern const as_gen_workload_t as_gen_server_mix;
extern const as_gen_workload_t as_gen_producer_consumer;
extern const as_gen_workload_t as_gen_larson;

#endif /* AS_TRACES_GEN_GEN_H */

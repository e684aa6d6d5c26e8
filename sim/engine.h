/* engine.h - the discrete-event replay engine.
 *
 * Type map
 *   as_run_config_t  what to replay: trace, policy, predictor, OS model,
 *                    parameters, sampling
 *   as_run_result_t  what came out: metrics summary, OS counters, prediction
 *                    accuracy, warnings, policy statistics
 *
 * The engine merges the trace's events with timers (policy ticks, metric
 * samples, khugepaged wake-ups) in trace time. For every allocation it asks
 * the predictor for a class, the policy for a block, and the simulated OS to
 * touch the block's bytes; for every free it tells the predictor the outcome
 * and the policy the address. Bad events (free of an unknown id, double free)
 * are counted as warnings and skipped, never fatal. It writes no file: the
 * samples and the result go to the sinks of the configuration (sink.h);
 * docs/architecture.md maps the modules the loop calls.
 */
#ifndef AS_SIM_ENGINE_H
#define AS_SIM_ENGINE_H

#include <stdint.h>

#include "policies/policy.h"
#include "predictors/predictor.h"
#include "sim/hostos.h"
#include "sim/metrics.h"
#include "sim/params.h"
#include "sim/simos.h"
#include "sim/sink.h"
#include "sim/timers.h"
#include "sim/tlb.h"

#define AS_MAX_PARAMS 64
#define AS_MAX_THREADS 64 /* simulation threads of one replay */

/* as_run_config_t.check: OFF verifies nothing; FULL wraps the policy in the
 * checking layer (policies/layers/check.h: O(log n) per call, page-source
 * calls, leaks at destroy); LIGHT is the O(1)-per-operation check of
 * sim/lightcheck.h (bounds, overlap, alignment). Both run the policy's
 * whole-heap hook every check.every operations and at the end. */
enum { AS_RUN_CHECK_OFF = 0, AS_RUN_CHECK_FULL = 1, AS_RUN_CHECK_LIGHT = 2 };

/* as_run_config_t.realloc: how a realloc event is replayed. HOOK (the
 * default) calls the policy's realloc hook when it has one (an in-place
 * growth touches only the new part), else allocates the new block, touches
 * it and frees the old one. MOVE never calls the hook: always the new block
 * first, then the old one freed. PRELOAD does what liballocsim_malloc.so's
 * realloc does (malloc/malloc.c): the block stays when the new size is at
 * most its usable size and at least half of it (the grown part touched, no
 * policy call), otherwise as MOVE. */
enum {
    AS_RUN_REALLOC_HOOK = 0,
    AS_RUN_REALLOC_MOVE = 1,
    AS_RUN_REALLOC_PRELOAD = 2
};

typedef struct as_run_config {
    const char *trace_path;
    const char *policy;                /* registry name */
    const as_policy_ops_t *policy_ops; /* or a policy outside the registry
                                          (tests); overrides `policy` */
    const char *predictor;             /* registry name; default "none" */
    const char *inner_predictor;       /* for wrapping predictors (cached) */
    /* "name=value" assignments; the name may be prefixed by the part
     * ("bestfit.trim_threshold=1M", "oracle.x=..", "os.max_ptes_none=0"),
     * unprefixed names are looked up in the policy. */
    const char *params[AS_MAX_PARAMS];
    size_t n_params;
    as_classes_t classes; /* lifetime classes */
    as_simos_config_t os; /* THP mode, khugepaged */
    /* the fields of `os` an option set (bit 1 << AS_SIMOS_P_*: --thp);
     * the others default to the recording host's (sim/hostos.h) */
    unsigned os_given;
    int check;                   /* AS_RUN_CHECK_*: how the policy's answers
                                    are verified */
    int realloc;                 /* AS_RUN_REALLOC_*: how a realloc event is
                                    replayed (default HOOK) */
    uint64_t sample_interval_ns; /* series sampling; 0 = 1/1000 of the trace */
    /* the consumers of the run's samples and result (sink.h), called in
     * this order; NULL/0 = none */
    const as_run_sink_t *sinks;
    size_t n_sinks;
    /* progress: called about every 2^20 events with events done and total
     * (total 0 when unknown); may be NULL. */
    void (*progress)(void *arg, uint64_t done, uint64_t total);
    void *progress_arg;
    /* Counterfactual ("--shadow-predictor Q", issue 4): a second predictor
     * (registry name, "WRAPPER:INNER" allowed; NULL = none) asked on every
     * allocation with the same context and told every outcome with its own
     * prediction, whose answers are never given to the policy. Results in
     * the shadow_* fields of as_run_result_t. */
    const char *shadow_predictor;
    /* A trained table/model in text form for the predictor's optional load
     * hook, read from this file before the replay (NULL = none); and a file
     * the predictor's optional save hook writes after it (NULL = none). */
    const char *predictor_load_path;
    const char *predictor_save_path;
    int stats_layer; /* 1: wrap the policy in the statistics layer
                        (stats(check(policy))) */
    /* 1: put the preload build's thread-cache layer in front of the policy
     * (policies/layers/tcache.h; stats(tcache(check(policy)))), as a real
     * run with ALLOCSIM_CACHE=1 has it; 0 (default): the policy alone */
    int thread_cache;
    /* 1: a malformed event (alignment not a power of two or above
     * AS_MAX_ALIGN_BYTES) is counted and skipped; 0: it stops the run with
     * AS_EFORMAT naming the trace and the event. */
    int skip_bad_events;
    /* most samples (rows of series.csv and policy_series.csv) a run may
     * take; 0 = AS_DEFAULT_MAX_ROWS. A run that would take more is refused
     * before it starts (AS_ERANGE). */
    uint64_t max_rows;
    /* 1: a truncated trace is not an error for the caller (as_run_to_dir
     * exits 0 instead of AS_EXIT_TRUNCATED); the engine ignores it. */
    int allow_truncated;
    /* the command line that asked for this run, for summary.json's
     * provenance (argv[0] first; NULL/0 = not from a command line) */
    char *const *argv;
    int argc;
    /* Threads of the replay (as_engine_run_many reads cfgs[0]'s): 1 (the
     * default) decodes and simulates on the caller's thread; N >= 2
     * decodes on a thread of its own, ahead through a bounded ring of
     * decoded batches, and simulates the configurations on min(N, k,
     * AS_MAX_THREADS) threads (the caller's among them), configuration j
     * on thread j % that. The figures are the same for every N. A
     * predictor that reads the frames' names (needs_symbols) keeps the
     * replay on one thread. */
    int threads;
} as_run_config_t;

/* The bounds on sampling and timers are in sim/timers.h. */

/* One allocation site's prediction record (the summary's worst sites). */
#define AS_TOP_SITES 20
typedef struct {
    uint32_t stack; /* stack id */
    uint64_t mispredicted_bytes, mispredicted_allocs;
    uint64_t bytes, allocs; /* all of the site's outcomes */
    char where[160];        /* innermost frames: symbols, else pcs */
} as_site_report_t;

typedef struct as_run_result {
    /* trace */
    char trace_hash[17];         /* as_trace_reader_hash of the file */
    uint64_t trace_bytes;        /* the file's size */
    uint64_t sample_interval_ns; /* the resolved sampling period */
    uint64_t events, allocs, frees, reallocs, objects;
    uint64_t duration_ns;
    /* figures */
    as_metrics_summary_t metrics;
    as_simos_counters_t os;
    /* the machine below (sim/phys.h), when os.phys_mem is set (has_phys) */
    int has_phys;
    as_phys_counters_t phys;
    as_tenants_counters_t tenants;
    uint64_t phys_free_blocks[AS_PHYS_ORDERS]; /* buddyinfo at the end */
    uint64_t phys_index_samples;               /* samples of the indexes */
    double unusable_index_9_mean;              /* over samples, 0..1 */
    double fragmentation_index_9_mean;         /* over samples, -1..1 */
    int unusable_index_9_max, fragmentation_index_9_max; /* thousandths */
    int tlb_on;            /* the TLB model ran (tlb.model != off) */
    as_tlb_counters_t tlb; /* its counters, when tlb_on */
    /* predictions: confusion[predicted][actual] by allocations and bytes */
    uint32_t n_classes;
    uint64_t confusion_allocs[AS_MAX_CLASSES][AS_MAX_CLASSES];
    uint64_t confusion_bytes[AS_MAX_CLASSES][AS_MAX_CLASSES];
    double accuracy_by_allocs, accuracy_by_bytes; /* over predicted ones */
    uint64_t unpredicted_allocs; /* the predictor gave AS_CLASS_NONE */
    /* warnings: counted, reported, never fatal */
    uint64_t warn_unknown_free;  /* free/realloc of an id never allocated */
    uint64_t warn_double_free;   /* free/realloc of an id already freed */
    uint64_t warn_zero_size;     /* zero-byte requests (served as 1 byte) */
    uint64_t warn_too_large;     /* requests above AS_MAX_REQUEST_BYTES, or
                                    that the policy could not serve */
    uint64_t warn_policy_errors; /* other failed policy calls */
    uint64_t bad_events_skipped; /* malformed events skipped (only with
                                    cfg->skip_bad_events) */
    int warn_truncated;          /* the trace ended in a partial chunk */
    /* periods the run depends on that are longer than the trace
     * (sim/periods.h): how many, and the message ("" = none) */
    uint64_t short_periods;
    char short_periods_msg[1024];
    /* the recording host's THP settings and where each simulated OS
     * parameter came from (sim/hostos.h) */
    as_host_os_t host;
    /* the trace's real-memory samples (format v2): how many, and their
     * peaks */
    uint64_t real_samples, real_peak_rss_bytes, real_peak_huge_bytes;
    /* those with glibc's mallinfo2: how many, the largest arena + hblkhd */
    uint64_t real_mallinfo_samples, real_peak_mallinfo_heap_bytes;
    /* os.writes in effect: recorded (1) or alloc (0); with recorded, the
     * trace's record.writes_min_bytes, and the write reports replayed and
     * the bytes they named (repeats counted) */
    int writes_recorded;
    uint64_t writes_min_bytes, write_reports, write_report_bytes;
    char truncation[512]; /* the reader's description of it */
    /* every resolved parameter of every part, typed, part by part */
    as_resolved_param_t params[AS_MAX_PARAMS * 2];
    size_t n_params_out;
    /* statistics of the policy and predictor at the end of the run */
    as_stat_t *stats;
    size_t n_stats;
    double wall_s;
    int threads; /* threads the replay ran on (decode + simulation) */
    /* the allocation sites with the most mispredicted bytes, most first */
    as_site_report_t top_sites[AS_TOP_SITES];
    size_t n_top_sites;
    /* counterfactual (cfg->shadow_predictor): what the shadow predictor
     * would have said, confusion[predicted][actual] as above */
    int has_shadow;
    uint64_t shadow_confusion_allocs[AS_MAX_CLASSES][AS_MAX_CLASSES];
    uint64_t shadow_confusion_bytes[AS_MAX_CLASSES][AS_MAX_CLASSES];
    double shadow_accuracy_by_allocs, shadow_accuracy_by_bytes;
    uint64_t shadow_agree_allocs; /* allocations where shadow == primary */
} as_run_result_t;

/* as_engine_run: replay cfg->trace_path. @return 0; AS_EINVAL/AS_ENOTFOUND
 * for bad configuration (err says which name or parameter, listing valid
 * names); a trace error (AS_EFORMAT, AS_ECORRUPT, ...; err names file and
 * offset); AS_ECHECK when the checking layer caught the policy. err is always
 * set on failure. On success free the result with as_run_result_free(). */
int as_engine_run(const as_run_config_t *cfg, as_run_result_t *res, char *err,
                  size_t errcap);

/* as_engine_run_many: replay cfgs[0..k) in one pass over the trace that
 * cfgs[0] names (the others' trace_path is used only in messages): the
 * trace is opened and decoded once, and each batch of events goes to
 * every configuration in turn. Each has its own OS, policy, predictors,
 * live table, sinks, result res[j], message errs[j] (errcap bytes) and
 * status rcs[j]: what as_engine_run(cfgs[j]) would return, with the same
 * result and the same sink calls; a configuration that fails stops alone.
 * res[j].wall_s is the time spent on configuration j plus its share of
 * opening and decoding. @return 0 when every configuration succeeded,
 * else the first failure's code. Free each successful result. */
int as_engine_run_many(const as_run_config_t *const *cfgs, size_t k,
                       as_run_result_t *res, char *const *errs, size_t errcap,
                       int *rcs);

/* Several programs on one machine (as_engine_run_machine, issue 15):
 * each program is a run of its own (configuration, trace, policy stack,
 * predictors, live table, timers, simulated address space, sinks), and
 * the machine interleaves them by machine time: a program's event at
 * trace time t happens at machine time start_ns + (t - its first event's
 * time). At equal machine times the machine's own sample goes first, then
 * the programs in their order; within a program a timer due at or before
 * an event fires first, as in a run of its own. A program ends at its
 * last event: its end sample and result are taken then, its sinks' on_end
 * called and its memory given back. */
typedef struct {
    const as_run_config_t *cfg; /* the program's run (trace_path, sinks) */
    uint64_t start_ns;          /* machine time of its first event */
} as_machine_prog_t;

/* The machine at one instant: the sums over the programs running
 * (started, not ended). */
typedef struct {
    uint64_t t_ns;    /* machine time */
    uint32_t running; /* programs started and not ended */
    uint64_t live_bytes, resident_bytes, mapped_bytes, huge_bytes, meta_bytes;
    /* the physical memory (phys.phys_has: os.phys_mem set): the phys_*
     * fields of phys, as in a run's series */
    as_sample_t phys;
} as_machine_sample_t;

/* One program's part in the machine's result. */
typedef struct {
    uint64_t start_ns, end_ns; /* machine times of its first and last
                                  event (end_ns: when it stopped, failed) */
    uint64_t events;           /* events replayed */
    int rc;                    /* its status (as_engine_run's) */
    as_simos_counters_t os;    /* its OS counters at its end */
} as_machine_prog_result_t;

typedef struct as_machine_result {
    size_t n_programs;
    as_machine_prog_result_t *progs; /* [n_programs] */
    uint64_t sample_interval_ns;     /* the machine's sampling period */
    uint64_t duration_ns;            /* machine time of the last end */
    uint64_t samples;
    /* peaks of the sums over every event and timer of every program */
    uint64_t peak_live_bytes, peak_resident_bytes, peak_mapped_bytes,
        peak_huge_bytes;
    uint32_t peak_running;
    /* the shared physical memory (os.phys_mem, the same for every
     * program; NULL without), in the shape of a run's result: has_phys,
     * phys, tenants, phys_free_blocks, the indexes over the machine's
     * samples, and os holding the programs' counters summed */
    as_run_result_t *phys;
    double wall_s;
    int threads; /* threads the replay ran on */
} as_machine_result_t;

/* A consumer of the machine's figures (the programs' go to their own
 * sinks); hooks may be NULL, errors as in sink.h. */
typedef struct {
    void *arg;
    int (*on_sample)(void *arg, const as_machine_sample_t *s, char *err,
                     size_t errcap);
    int (*on_end)(void *arg, const as_machine_result_t *res, char *err,
                  size_t errcap);
} as_machine_sink_t;

typedef struct {
    const as_machine_prog_t *progs;
    size_t n_progs;
    uint64_t sample_interval_ns; /* 0: the machine's span / 1000 */
    uint64_t max_rows;           /* 0: AS_DEFAULT_MAX_ROWS */
    int threads; /* >= 2: each program's trace decoded on a thread */
    const as_machine_sink_t *sinks;
    size_t n_sinks;
    void (*progress)(void *arg, uint64_t done, uint64_t total);
    void *progress_arg;
} as_machine_config_t;

/* as_engine_run_machine: replay every program of m on one machine. The
 * machine's physical memory and tenants are the programs' os.phys_mem,
 * os.phys_interval and os.tenant_* (which must agree, else AS_EINVAL for
 * all): one as_phys_t shared by every program's simulated OS, the tenants
 * and kcompactd stepped by the machine's timer in machine time. Each
 * program gets its result res[j], message errs[j] (errcap bytes) and
 * status rcs[j] as as_engine_run would give them, and with nothing shared
 * between the programs (no physical memory limit) the same figures as
 * its run alone; a program that fails stops alone. The machine's figures
 * go to m->sinks; mres (free with as_machine_result_free) holds them.
 * @return 0 when every program and the machine's sinks succeeded, else
 * the first failure's code (a machine failure's message in merr). */
int as_engine_run_machine(const as_machine_config_t *m, as_run_result_t *res,
                          char *const *errs, size_t errcap, int *rcs,
                          as_machine_result_t *mres, char *merr,
                          size_t merrcap);

void as_machine_result_free(as_machine_result_t *mres);

void as_run_result_free(as_run_result_t *res);

/* as_run_config_default: THP always, khugepaged on, LLAMA classes, the
 * full checking layer (tests rely on it; the command line defaults to
 * light), predictor "none". */
void as_run_config_default(as_run_config_t *cfg);

#endif /* AS_SIM_ENGINE_H */

/* engine.c - the discrete-event replay loop.
 *
 * Owns one run's moving parts: the trace reader, the simulated OS, the
 * live-object table and the metric accumulators. It merges the trace's
 * events with three timers (the policy's tick, metric samples and
 * khugepaged wake-ups) in trace time: a timer due at or before an event's
 * time fires first. Everything here is deterministic; only timing.wall_s
 * reads a clock.
 *
 * What the loop does not own, it asks for: parameters are resolved by
 * params.c, the policy and its layers are polstack.c's, the timers' due
 * times and bounds are timers.c's, predictions come from the predictor set
 * (predset.c), outcomes are counted by outcomes.c, figures by metrics.c,
 * and every output file is written by a sink (sink.h) the caller passes in.
 * No file is opened here but the trace.
 *
 * The engine never interprets addresses: it hands the policy's blocks to the
 * simulated OS to touch and remembers them per object id. A realloc goes to
 * the policy's realloc when it has one (an in-place growth touches only the
 * new bytes); otherwise the new block is allocated before the old is freed.
 * cfg->realloc changes that (never the hook, or liballocsim_malloc.so's
 * rule: keep a block that still fits, else move). With os.writes
 * recorded (docs/simos.md, "Written pages") objects at least
 * record.writes_min_bytes large are not touched then: the trace's write
 * reports, queued per run from the batches like the memory samples, touch
 * the bytes they name just before the event they precede.
 * Every event is checked before any policy sees it (docs/simos.md):
 * malformed ones (a bad alignment) stop the run or are skipped and counted;
 * problems a program can cause (free of an unknown id, double free,
 * zero-size and impossible requests) are counted as warnings; problems in
 * the policy (overlap, block outside its memory) stop the run with
 * AS_ECHECK.
 */
#include "sim/engine.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/escape.h"
#include "common/limits.h"
#include "common/util.h"
#include "policies/layers/check.h"
#include "sim/batchring.h"
#include "sim/lightcheck.h"
#include "sim/livemap.h"
#include "sim/outcomes.h"
#include "sim/periods.h"
#include "sim/polstack.h"
#include "sim/predset.h"
#include "sim/tlb.h"
#include "traces/trace.h"

#include <pthread.h>

#define BATCH AS_BATCH_READ
#define BLOCK_BATCHES 16 /* batches per block with several configurations */
#define RING_SLOTS 4     /* decoded blocks in flight with a decode thread */
#define PREFETCH_AHEAD 8 /* events between a prefetch and its use */
#define MACHINE_CLOCK_EVENTS 4096 /* a machine run reads the clock */

/* The sums of a run's (or the machine's) samples of the order-9 indexes,
 * for their means (phys_figures). */
typedef struct {
    int64_t unusable_9, frag_9;
} phys_sums_t;

typedef struct {
    const as_run_config_t *cfg;
    as_run_result_t *res;
    char *err;
    size_t errcap;

    as_trace_reader_t *reader; /* shared by the configurations; not ours */
    as_simos_t *os;
    const as_pagesource_t *ps;
    as_tlb_t *tlb; /* the TLB model, or NULL when off */
    /* the machine below, when os.phys_mem is set: created here unless the
     * configuration brought one (cfg->os.phys) */
    as_phys_t *phys;
    int phys_own;
    as_tenants_t *tenants;
    phys_sums_t phys_sums;

    as_polstack_t pol;     /* the policy behind its layers: call pol.ops */
    as_lightcheck_t light; /* cfg->check == AS_RUN_CHECK_LIGHT */
    int light_on;          /* light initialised and in use */

    as_predset_t *preds;     /* the run's predictors */
    as_outcomes_t *outcomes; /* prediction accounting */

    int want_policy_stats;     /* a sink takes the policy's statistics */
    as_stat_list_t pol_sample; /* reused buffer for each sample */

    as_livemap_t live;
    uint64_t live_bytes, allocated_bytes, next_object;

    as_metrics_t metrics;
    as_timers_t timers;
    uint64_t t_now;           /* time of the current event */
    uint64_t trace_events;    /* events of the trace from its index (0 when
                              unknown: a truncated trace) */
    as_param_part_t pol_part; /* the policy's resolved parameters */
    int class_periods;        /* the policy's ops.class_periods */
    as_mem_sample_t real;     /* the latest real-memory sample used */
    as_mem_sample_t *rs;      /* samples brought by the batches: rs[head,
                                 n) not yet taken */
    size_t rs_head, rs_n, rs_cap;
    /* os.writes: recorded (objects of size >= writes_min are written by
     * the trace's write reports, ws[head, n) not yet replayed), or not
     * (every byte at allocation; the reports are not even queued) */
    int writes_recorded;
    uint64_t writes_min;
    as_write_t *ws;
    size_t ws_head, ws_n, ws_cap;

    /* the driver's (as_engine_run_many) */
    as_simos_config_t oscfg;           /* the OS as configured */
    as_tlb_config_t tlbcfg;            /* the TLB model as configured */
    int os_part, check_part, tlb_part; /* their parameter parts */
    int first;                         /* no event replayed yet */
    int rc;       /* the first error; the run stops there */
    double own_s; /* wall time spent on this configuration */
    size_t group; /* the simulation thread that replays it */
} run_t;

static void errf(char *err, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, cap, fmt, ap);
    va_end(ap);
}

static int trace_err(run_t *r, int rc)
{
    errf(r->err, r->errcap, "%s", as_trace_reader_error(r->reader));
    return rc;
}

/* The status the last batch of a trace left (0, or the reader's error)
 * becomes the run's when it has none of its own. */
static void take_status(run_t *r, long status)
{
    if (status < 0 && status != AS_ENOMEM && r->rc == AS_OK)
        r->rc = trace_err(r, (int)status);
    else if (status != 0 && r->rc == AS_OK)
        r->rc = (int)status;
}

static void sample_now(run_t *r, as_sample_t *s, uint64_t t)
{
    const as_simos_counters_t *c = as_simos_counters(r->os);
    s->t_ns = t;
    s->live_bytes = r->live_bytes;
    s->live_objects = r->live.count;
    s->allocated_bytes = r->allocated_bytes;
    s->resident_bytes = c->resident_bytes;
    s->mapped_bytes = c->mapped_bytes;
    s->huge_bytes = c->huge_bytes;
    s->meta_bytes = c->meta_bytes;
    s->real_has = 0;
    s->real_rss_bytes = s->real_huge_bytes = 0;
    s->tlb = r->tlb ? as_tlb_counters(r->tlb) : NULL;
    s->phys_has = 0;
}

/* ---- the machine below (os.phys_mem; sim/phys.h, sim/tenants.h) ---------- */

/* A result that will hold machine figures: its index maxima below any
 * sample (phys_index_add raises them). */
static void phys_result_start(as_run_result_t *res)
{
    res->has_phys = 1;
    res->unusable_index_9_max = res->fragmentation_index_9_max = -1000;
}

/* The physical memory of oc->phys_mem_bytes (> 0), in *phys, and the
 * tenants oc asks for, in *tenants (left NULL when none). @return 0,
 * AS_ERANGE for a size as_phys_create refuses (message in err), or the
 * error of a creation (no message; *phys is set when only the tenants
 * failed). */
static int phys_make(const as_simos_config_t *oc, as_phys_t **phys,
                     as_tenants_t **tenants, char *err, size_t cap)
{
    as_phys_config_t pc = {.mem_bytes = oc->phys_mem_bytes};
    int rc = as_phys_create(&pc, phys);
    if (rc == AS_EINVAL) {
        errf(err, cap,
             "os.phys_mem=%llu: must be a multiple of 4M (4194304 bytes), at "
             "most 1T",
             (unsigned long long)oc->phys_mem_bytes);
        return AS_ERANGE;
    }
    if (rc == AS_OK && (oc->tenants.cache_bytes || oc->tenants.unmovable_bytes))
        rc = as_tenants_create(&oc->tenants, *phys, tenants);
    return rc;
}

/* Create the physical memory and the tenants the OS parameters ask for,
 * before the simos (which attaches to it). @return 0 or an error (message
 * in err). */
static int phys_setup(run_t *r)
{
    as_simos_config_t *oc = &r->oscfg;
    if (oc->phys) { /* brought by the caller (several processes): the
                       tenants and the machine's timer are the caller's */
        r->phys = oc->phys;
        phys_result_start(r->res);
        return AS_OK;
    } else if (oc->phys_mem_bytes) {
        int rc = phys_make(oc, &r->phys, &r->tenants, r->err, r->errcap);
        r->phys_own = r->phys != NULL;
        oc->phys = r->phys;
        if (rc) return rc;
    } else {
        return AS_OK;
    }
    phys_result_start(r->res);
    return AS_OK;
}

/* The machine's timer: the tenants' step, then kcompactd. */
static int phys_step(run_t *r, uint64_t due)
{
    if (r->tenants) {
        int rc = as_tenants_step(r->tenants, due - r->timers.t_first);
        if (rc) return rc;
    }
    as_phys_kcompactd(r->phys);
    return AS_OK;
}

/* A series sample's machine columns (phys_fill); the run's samples of the
 * indexes also make their mean and maximum (phys_sample). */
static void phys_fill(const as_phys_t *phys, const as_tenants_t *tenants,
                      as_sample_t *s)
{
    const as_phys_counters_t *pc = as_phys_counters(phys);
    uint64_t n[AS_PHYS_ORDERS];
    as_phys_free_blocks(phys, n);
    s->phys_has = 1;
    s->phys_free_bytes = pc->free_pages * AS_PHYS_PAGE_BYTES;
    s->phys_free_2m_blocks = n[9] + 2 * n[10];
    s->unusable_index_9 = as_phys_unusable_index(phys, 9);
    s->fragmentation_index_9 = as_phys_fragmentation_index(phys, 9);
    s->deferred_split_bytes = pc->deferred_split_bytes;
    s->tenant_bytes = 0;
    if (tenants) {
        const as_tenants_counters_t *tc = as_tenants_counters(tenants);
        s->tenant_bytes = (tc->pages[0] + tc->pages[1]) * AS_PHYS_PAGE_BYTES;
    }
}

/* Sample s's indexes into res's count and maxima and into sums. */
static void phys_index_add(as_run_result_t *res, phys_sums_t *sums,
                           const as_sample_t *s)
{
    res->phys_index_samples++;
    sums->unusable_9 += s->unusable_index_9;
    sums->frag_9 += s->fragmentation_index_9;
    if (s->unusable_index_9 > res->unusable_index_9_max)
        res->unusable_index_9_max = s->unusable_index_9;
    if (s->fragmentation_index_9 > res->fragmentation_index_9_max)
        res->fragmentation_index_9_max = s->fragmentation_index_9;
}

static void phys_sample(run_t *r, as_sample_t *s)
{
    if (!r->phys) return;
    phys_fill(r->phys, r->tenants, s);
    phys_index_add(r->res, &r->phys_sums, s);
}

/* The machine's figures at the end (of a run, or of the machine's
 * programs): its counters, the tenants', the free blocks and the
 * indexes' means. */
static void phys_figures(as_run_result_t *res, const as_phys_t *phys,
                         const as_tenants_t *tenants, const phys_sums_t *sums)
{
    res->phys = *as_phys_counters(phys);
    if (tenants) res->tenants = *as_tenants_counters(tenants);
    as_phys_free_blocks(phys, res->phys_free_blocks);
    if (res->phys_index_samples) {
        res->unusable_index_9_mean =
            (double)sums->unusable_9 / 1000.0 / (double)res->phys_index_samples;
        res->fragmentation_index_9_mean =
            (double)sums->frag_9 / 1000.0 / (double)res->phys_index_samples;
    }
}

static void phys_finish(run_t *r)
{
    if (r->phys) phys_figures(r->res, r->phys, r->tenants, &r->phys_sums);
}

/* After the simos is gone: the tenants, and the memory if ours. */
static void phys_destroy(run_t *r)
{
    as_tenants_destroy(r->tenants);
    r->tenants = NULL;
    if (r->phys_own) as_phys_destroy(r->phys);
    r->phys = NULL;
}

/* Take the trace's real-memory samples that precede, in the trace, the
 * event about to be replayed (r->res->events of them are done) and are
 * not later than t (all of them with `all`); the latest becomes r->real.
 * Each configuration keeps its own queue of the samples its batches
 * brought (add_samples), so no configuration and no thread waits for
 * another to use them. */
static void take_real(run_t *r, uint64_t t, int all)
{
    const as_mem_sample_t *m = r->rs;
    size_t used = r->rs_head, n = r->rs_n;
    as_run_result_t *res = r->res;
    while (used < n && (all || (m[used].events_before <= res->events &&
                                m[used].t_ns <= t))) {
        const as_mem_sample_t *x = &m[used++];
        /* the latest sample of real memory; one with only glibc's
         * mallinfo figures leaves the RSS row as it was, and one without
         * the huge-page figure (the recorder reads it less often) keeps
         * the latest one measured */
        if ((!all || x->t_ns <= t) &&
            (x->has & (AS_SAMPLE_HAS_RSS | AS_SAMPLE_HAS_HUGE))) {
            uint64_t huge = r->real.anon_huge_bytes;
            int had = r->real.has & AS_SAMPLE_HAS_HUGE;
            r->real = *x;
            if (!(x->has & AS_SAMPLE_HAS_HUGE) && had) {
                r->real.has |= AS_SAMPLE_HAS_HUGE;
                r->real.anon_huge_bytes = huge;
            }
        }
        res->real_samples++;
        if ((x->has & AS_SAMPLE_HAS_RSS) &&
            x->rss_bytes > res->real_peak_rss_bytes)
            res->real_peak_rss_bytes = x->rss_bytes;
        if ((x->has & AS_SAMPLE_HAS_HUGE) &&
            x->anon_huge_bytes > res->real_peak_huge_bytes)
            res->real_peak_huge_bytes = x->anon_huge_bytes;
        if (x->has & AS_SAMPLE_HAS_MALLINFO) {
            uint64_t heap =
                x->mallinfo.f[AS_MI_ARENA] + x->mallinfo.f[AS_MI_HBLKHD];
            res->real_mallinfo_samples++;
            if (heap > res->real_peak_mallinfo_heap_bytes)
                res->real_peak_mallinfo_heap_bytes = heap;
        }
    }
    r->rs_head = used;
}

/* Append src[0..k) (elem bytes each) to the queue (*v)[*head, *n),
 * dropping its used head first. @return 0 or AS_ENOMEM. */
static int queue_add(void **v, size_t *head, size_t *n, size_t *cap,
                     const void *src, size_t k, size_t elem)
{
    if (*head) {
        memmove(*v, (char *)*v + *head * elem, (*n - *head) * elem);
        *n -= *head;
        *head = 0;
    }
    return as_items_append(v, n, cap, src, k, elem);
}

/* Queue the samples a batch brought, and its write reports when they are
 * replayed (os.writes recorded). @return 0 or AS_ENOMEM. */
static int add_samples(run_t *r, const as_batch_t *b)
{
    int rc = queue_add((void **)&r->rs, &r->rs_head, &r->rs_n, &r->rs_cap,
                       b->samples, b->n_samples, sizeof *b->samples);
    if (rc == AS_OK && r->writes_recorded && b->n_writes)
        rc = queue_add((void **)&r->ws, &r->ws_head, &r->ws_n, &r->ws_cap,
                       b->writes, b->n_writes, sizeof *b->writes);
    return rc;
}

/* One sample for the sinks: the state at t and, when a sink wants them, the
 * policy's statistics. @return 0 or the first sink's error. */
static int emit_sample(run_t *r, uint64_t t)
{
    const as_run_config_t *cfg = r->cfg;
    uint64_t rel = t - r->timers.t_first;
    as_stat_list_t *k = &r->pol_sample;
    if (r->want_policy_stats) {
        k->n = 0;
        k->prefix = "";
        r->pol.ops->stats(r->pol.state, as_stat_list_put, k);
    }
    as_sample_t s;
    sample_now(r, &s, t);
    phys_sample(r, &s);
    take_real(r, t, 0);
    s.real_has = r->real.has;
    s.real_rss_bytes = r->real.rss_bytes;
    s.real_huge_bytes = r->real.anon_huge_bytes;
    const as_simos_counters_t *c = as_simos_counters(r->os);
    for (size_t i = 0; i < cfg->n_sinks; i++) {
        const as_run_sink_t *sk = &cfg->sinks[i];
        int rc = AS_OK;
        if (r->want_policy_stats && sk->on_policy_stats)
            rc = sk->on_policy_stats(sk->arg, rel, k->v, k->n, r->err,
                                     r->errcap);
        if (rc == AS_OK && sk->on_sample)
            rc = sk->on_sample(sk->arg, rel, &s, c, r->err, r->errcap);
        if (rc != AS_OK) return rc;
    }
    return AS_OK;
}

/* Fire every timer due at or before t, earliest first. */
static int run_timers(run_t *r, uint64_t t)
{
    for (;;) {
        as_timer_t which;
        uint64_t due, next = 0;
        int rc = as_timers_next(&r->timers, t, r->res->events + 1, &which, &due,
                                r->err, r->errcap);
        if (rc != AS_OK || which == AS_TIMER_NONE) return rc;
        if (which == AS_TIMER_TICK) {
            as_ctx_t ctx = {.now_ns = due, .lifetime_class = AS_CLASS_NONE};
            next = r->pol.ops->tick(r->pol.state, &ctx);
        } else if (which == AS_TIMER_SAMPLE) {
            if ((rc = emit_sample(r, due)) != AS_OK) return rc;
        } else if (which == AS_TIMER_TLB) {
            as_tlb_draw(r->tlb, r->os);
        } else if (which == AS_TIMER_PHYS) {
            if ((rc = phys_step(r, due)) != AS_OK) return rc;
        } else {
            as_simos_khugepaged_scan(r->os);
            /* A collapse changes resident bytes between events. */
            as_sample_t s;
            sample_now(r, &s, due);
            as_metrics_update(&r->metrics, &s);
        }
        as_timers_rearm(&r->timers, which, due, next);
    }
}

/* An object as the predictors know it. At its outcome the cpu is not
 * known (the one that frees it is not the one that allocated it): 0. */
static as_pred_query_t query_of(const as_live_t *o)
{
    return (as_pred_query_t){.object = o->id,
                             .now_ns = o->t_alloc_ns,
                             .size = o->size,
                             .thread = o->thread,
                             .stack = o->stack};
}

/* The outcome of an object: counted, and told to the predictors. */
static void observe(run_t *r, const as_live_t *o, uint64_t t_free, int died)
{
    uint64_t life = died ? t_free - o->t_alloc_ns : AS_LIFETIME_INF;
    uint32_t actual = as_classes_of(&r->cfg->classes, life);
    as_outcome_t x = {.size = o->size,
                      .stack = o->stack,
                      .predicted = o->predicted,
                      .shadow = o->shadow,
                      .actual = actual};
    as_outcomes_add(r->outcomes, &x);
    as_pred_query_t q = query_of(o);
    as_predset_observe(r->preds, &q, life, actual, o->predicted, o->shadow);
}

static int policy_failed(run_t *r, int rc, const char *what, uint64_t id)
{
    if (rc == AS_ECHECK) {
        errf(r->err, r->errcap,
             "%s: policy %s failed the check on %s of "
             "object %llu: %s",
             r->cfg->trace_path, r->pol.ops->name, what, (unsigned long long)id,
             r->light_on ? r->light.msg : as_polstack_check_error(&r->pol));
        return AS_ECHECK;
    }
    return AS_OK;
}

/* The bytes of o's block as the light check records them: the request
 * plus the usable extra (saturated, the same in add and remove). */
static uint64_t live_block_bytes(const as_live_t *o)
{
    return o->size + o->usable_extra;
}

/* A light check's result: a violation is reported as the policy's
 * (AS_ECHECK, err set); other errors (AS_ENOMEM) pass through. */
static int light_err(run_t *r, int rc, const char *what, uint64_t id)
{
    return rc == AS_ECHECK ? policy_failed(r, rc, what, id) : rc;
}

/* One alloc/free/realloc call of the policy done: the light check's hook
 * runs when due. @return 0 or AS_ECHECK (err set). */
static int counted_op(run_t *r, const char *what, uint64_t id)
{
    if (!r->light_on) return AS_OK;
    return light_err(
        r, as_lightcheck_op(&r->light, r->pol.ops, r->pol.state, r->live.count),
        what, id);
}

/* Give a block back to the policy (o already out of the live table). */
static int free_block(run_t *r, const as_event_t *e, const as_live_t *o,
                      const char *what)
{
    as_ctx_t ctx = {.now_ns = e->t_ns,
                    .thread = e->thread,
                    .cpu = e->cpu,
                    .lifetime_class = o->predicted,
                    .stack = o->stack};
    /* Policy rule 5: every other free comes without a size, as in the real
     * allocator; the choice is by id, so it is deterministic. */
    size_t hint = (o->id & 1) ? 0 : (size_t)o->size;
    int rc;
    if (r->light_on &&
        (rc = as_lightcheck_remove(&r->light, o->addr, live_block_bytes(o))))
        return light_err(r, rc, what, o->id);
    rc = r->pol.ops->free(r->pol.state, &ctx, (uintptr_t)o->addr, hint);
    if (rc != AS_OK) {
        if (policy_failed(r, rc, what, o->id)) return AS_ECHECK;
        r->res->warn_policy_errors++;
    }
    return counted_op(r, what, o->id);
}

/* The object a free or realloc names leaves the live table: its outcome is
 * observed and its bytes stop counting as live. @return 1 when it held a
 * block (now in *o, still to be given back), 0 when there is nothing to
 * give back (a bad free, counted, or an allocation that had failed). */
static int take_freed(run_t *r, const as_event_t *e, as_live_t *o)
{
    if (!as_livemap_take(&r->live, e->object, o)) {
        if (e->object < r->next_object)
            r->res->warn_double_free++;
        else
            r->res->warn_unknown_free++;
        return 0;
    }
    if (o->flags & AS_LIVE_FAILED) return 0;
    if (r->tlb) as_tlb_live_remove(r->tlb, (uintptr_t)o->addr);
    observe(r, o, e->t_ns, 1);
    r->live_bytes -= o->size;
    r->allocated_bytes -= o->size + o->usable_extra;
    return 1;
}

/* Whether a realloc event keeps its block without asking the policy
 * (cfg->realloc PRELOAD): liballocsim_malloc.so's rule, a new size of at
 * most the block's usable bytes and at least half of them. */
static int realloc_keeps(const run_t *r, const as_event_t *e,
                         const as_live_t *old)
{
    if (!old || r->cfg->realloc != AS_RUN_REALLOC_PRELOAD) return 0;
    uint64_t usable = live_block_bytes(old);
    return e->size <= usable && e->size >= usable / 2;
}

/* The program writes [addr, addr + bytes) of the block of an object of
 * `size` bytes as it allocates or reallocates it: the pages are touched,
 * unless os.writes is recorded and the object is large enough to have
 * write reports (record.writes_min_bytes): then its reports touch what it
 * wrote (apply_writes), and the range need only be mapped. @return as
 * as_simos_touch. */
static int alloc_writes(run_t *r, uint64_t size, uint64_t addr, size_t bytes)
{
    if (r->writes_recorded && size >= r->writes_min)
        return as_simos_mapped(r->os, (uintptr_t)addr, bytes) ? AS_OK
                                                              : AS_EINVAL;
    return as_simos_touch(r->os, (uintptr_t)addr, bytes);
}

/* The message of a touch that ran out of the simulated machine's physical
 * memory, at `what` (an event or a write report). @return AS_ENOSPACE. */
static int no_space(run_t *r, const char *what, uint64_t n)
{
    errf(r->err, r->errcap,
         "%s: %s %llu: simulated physical memory exhausted "
         "(os.phys_mem=%llu bytes) after reclaiming the deferred split "
         "queue and the tenants' page cache",
         r->cfg->trace_path, what, (unsigned long long)n,
         (unsigned long long)r->oscfg.phys_mem_bytes);
    return AS_ENOSPACE;
}

/* Allocate object `id` for an alloc event, or for a realloc event with
 * `old` (the block it replaces, already taken; NULL when the old object
 * held none). A realloc goes to the policy's realloc when it has one (and
 * cfg->realloc is HOOK), keeps its block when realloc_keeps says so;
 * otherwise the new block is allocated before the old one is freed, as the
 * copy needs both. */
static int do_alloc(run_t *r, const as_event_t *e, uint64_t id,
                    const as_live_t *old)
{
    as_run_result_t *res = r->res;
    as_live_t o = {.id = id,
                   .size = e->size,
                   .t_alloc_ns = e->t_ns,
                   .stack = e->stack,
                   .thread = e->thread,
                   .predicted = -1,
                   .shadow = -1};
    as_pred_query_t q = {.object = id,
                         .now_ns = e->t_ns,
                         .size = e->size,
                         .thread = e->thread,
                         .cpu = e->cpu,
                         .stack = e->stack,
                         .stack_height = e->stack_height};
    int32_t cls, shadow;
    as_predset_predict(r->preds, &q, &cls, &shadow);
    as_outcomes_predicted(r->outcomes, cls);
    o.predicted = (int8_t)cls;
    o.shadow = (int8_t)shadow;
    as_ctx_t ctx = {.now_ns = e->t_ns,
                    .thread = e->thread,
                    .cpu = e->cpu,
                    .lifetime_class = cls,
                    .stack = e->stack};
    if (e->size == 0) res->warn_zero_size++;
    const as_policy_ops_t *pol = r->pol.ops;
    if (realloc_keeps(r, e, old)) {
        /* the block stays, as it was for the light check; the program
         * writes the part that grew */
        o.addr = old->addr;
        uint64_t kept = live_block_bytes(old) - e->size;
        o.usable_extra = kept > UINT32_MAX ? UINT32_MAX : (uint32_t)kept;
        if (e->size > old->size &&
            alloc_writes(r, e->size, old->addr + old->size,
                         (size_t)(e->size - old->size)) != AS_OK) {
            errf(r->err, r->errcap,
                 "%s: block 0x%llx of object %llu is no longer mapped",
                 r->cfg->trace_path, (unsigned long long)old->addr,
                 (unsigned long long)id);
            return AS_ECHECK;
        }
        r->live_bytes += e->size;
        r->allocated_bytes += e->size + o.usable_extra;
        return as_livemap_insert(&r->live, &o);
    }
    int in_place =
        old && pol->realloc && r->cfg->realloc == AS_RUN_REALLOC_HOOK;
    as_block_t b = {0};
    /* An in-place realloc may hand back (part of) the old block. */
    int lrc = AS_OK;
    if (in_place && r->light_on &&
        (lrc = as_lightcheck_remove(&r->light, old->addr,
                                    live_block_bytes(old))) != AS_OK)
        return light_err(r, lrc, "realloc", id);
    int rc = e->size > AS_MAX_REQUEST_BYTES ? AS_ETOO_LARGE
             : in_place ? pol->realloc(r->pol.state, &ctx, (uintptr_t)old->addr,
                                       (size_t)old->size, (size_t)e->size,
                                       (size_t)e->align, &b)
                        : pol->alloc(r->pol.state, &ctx, (size_t)e->size,
                                     (size_t)e->align, &b);
    if (e->size <= AS_MAX_REQUEST_BYTES &&
        (lrc = counted_op(r, old ? "realloc" : "alloc", id)) != AS_OK)
        return lrc;
    if (rc != AS_OK) {
        if (policy_failed(r, rc, old ? "realloc" : "alloc", id))
            return AS_ECHECK;
        /* A failed realloc leaves the old block live until freed below. */
        if (in_place && r->light_on) {
            as_block_t ob = {(uintptr_t)old->addr, live_block_bytes(old)};
            if ((lrc = as_lightcheck_add(&r->light, "realloc", &ob, ob.bytes, 0,
                                         1)) != AS_OK)
                return light_err(r, lrc, "realloc", id);
        }
        if (rc == AS_ETOO_LARGE || rc == AS_ENOMEM || rc == AS_ENOSPACE)
            res->warn_too_large++;
        else
            res->warn_policy_errors++;
        o.flags = AS_LIVE_FAILED;
        o.predicted = -1;
        o.shadow = -1;
        /* The trace says the old object is gone either way. */
        if (old && (rc = free_block(r, e, old, "realloc")) != AS_OK) return rc;
        return as_livemap_insert(&r->live, &o);
    }
    o.addr = b.addr;
    uint64_t extra = b.bytes > e->size ? b.bytes - e->size : 0;
    o.usable_extra = extra > UINT32_MAX ? UINT32_MAX : (uint32_t)extra;
    /* The program writes its bytes; a realloc that stays in place writes
     * only the part that grew. */
    uint64_t from = in_place && b.addr == old->addr
                        ? (old->size < e->size ? old->size : e->size)
                        : 0;
    int trc = e->size > from ? alloc_writes(r, e->size, b.addr + from,
                                            (size_t)(e->size - from))
                             : AS_OK;
    if (trc == AS_ENOSPACE) return no_space(r, "event", r->res->events);
    if (trc == AS_ENOMEM) return AS_ENOMEM;
    if (trc != AS_OK) {
        errf(r->err, r->errcap,
             "%s: policy %s returned block 0x%llx+%llu for "
             "object %llu that is not mapped",
             r->cfg->trace_path, pol->name, (unsigned long long)b.addr,
             (unsigned long long)e->size, (unsigned long long)id);
        return AS_ECHECK;
    }
    if (r->light_on &&
        (lrc = as_lightcheck_add(&r->light, old ? "realloc" : "alloc", &b,
                                 live_block_bytes(&o), e->size, e->align)))
        return light_err(r, lrc, old ? "realloc" : "alloc", id);
    r->live_bytes += e->size;
    r->allocated_bytes += e->size + o.usable_extra;
    if (r->tlb && (rc = as_tlb_live_add(r->tlb, b.addr, e->size)) != AS_OK)
        return rc;
    if (old && !in_place && (rc = free_block(r, e, old, "realloc")) != AS_OK)
        return rc;
    return as_livemap_insert(&r->live, &o);
}

/* 1 when write reports are queued to be replayed before the next event
 * (os.writes recorded; apply_writes replays them). */
static inline int writes_due(const run_t *r)
{
    return r->ws_head < r->ws_n &&
           r->ws[r->ws_head].events_before <= r->res->events;
}

/* Replay the write reports placed before the next event (every one left
 * with `all`: those after the last event, at the end of the trace), each
 * at its time: the timers due by then first (not with `all`: the run ends
 * at its last event), then the bytes it names of its object's block are
 * touched. A report on an object that is not live, or past its size, is
 * bad input (AS_EFORMAT, naming the file and the report); one on an
 * object whose allocation failed or was skipped in the replay touches
 * nothing. Only with os.writes recorded (otherwise none is queued).
 * @return 0 or the first error. */
static int apply_writes(run_t *r, int all)
{
    as_run_result_t *res = r->res;
    while (all ? r->ws_head < r->ws_n : writes_due(r)) {
        const as_write_t w = r->ws[r->ws_head++];
        uint64_t n = res->write_reports++;
        int rc;
        if (!all && (rc = run_timers(r, w.t_ns)) != AS_OK) return rc;
        as_live_t o;
        if (!as_livemap_get(&r->live, w.object, &o)) {
            errf(r->err, r->errcap,
                 "%s: write record %llu (before event %llu): object %llu "
                 "is not live",
                 r->cfg->trace_path, (unsigned long long)n,
                 (unsigned long long)w.events_before,
                 (unsigned long long)w.object);
            return AS_EFORMAT;
        }
        if (o.flags & AS_LIVE_FAILED) continue;
        if (w.offset > o.size || w.bytes > o.size - w.offset) {
            errf(r->err, r->errcap,
                 "%s: write record %llu (before event %llu): bytes [%llu, "
                 "%llu) of object %llu are past its size, %llu bytes",
                 r->cfg->trace_path, (unsigned long long)n,
                 (unsigned long long)w.events_before,
                 (unsigned long long)w.offset,
                 (unsigned long long)(w.offset + w.bytes),
                 (unsigned long long)w.object, (unsigned long long)o.size);
            return AS_EFORMAT;
        }
        res->write_report_bytes = /* saturating: reports repeat */
            res->write_report_bytes + w.bytes < w.bytes
                ? UINT64_MAX
                : res->write_report_bytes + w.bytes;
        /* A report names whole pages of the real process, clipped to the
         * object: k of them touch k pages of the simulated block whatever
         * its offset within its page, so the range touches the pages whose
         * first byte it holds, plus the block's first page when it starts
         * at the object's start (docs/simos.md, "Written pages"). */
        uint64_t lo = o.addr + w.offset, hi = lo + w.bytes;
        if (w.offset)
            lo = (lo + AS_SIMOS_PAGE_BYTES - 1) & ~(AS_SIMOS_PAGE_BYTES - 1);
        rc = lo < hi ? as_simos_touch(r->os, (uintptr_t)lo, (size_t)(hi - lo))
                     : AS_OK;
        if (rc == AS_ENOSPACE) return no_space(r, "write record", n);
        if (rc == AS_EINVAL) {
            errf(r->err, r->errcap,
                 "%s: write record %llu: block 0x%llx of object %llu is no "
                 "longer mapped",
                 r->cfg->trace_path, (unsigned long long)n,
                 (unsigned long long)o.addr, (unsigned long long)w.object);
            return AS_ECHECK;
        }
        if (rc != AS_OK) return rc;
        /* resident bytes changed between events */
        as_sample_t s;
        sample_now(r, &s, all || w.t_ns < r->t_now ? r->t_now : w.t_ns);
        as_metrics_update(&r->metrics, &s);
    }
    return AS_OK;
}

/* os.writes for this trace (docs/simos.md, "Written pages"): auto is
 * recorded when the trace's header says record.writes=pagemap; recorded
 * needs such a trace, and the size from which its objects have reports
 * (record.writes_min_bytes). @return 0, or AS_EFORMAT / AS_EINVAL (err
 * set). */
static int writes_setup(run_t *r)
{
    const char *how = as_trace_reader_meta(r->reader, "record.writes");
    const char *min =
        as_trace_reader_meta(r->reader, "record.writes_min_bytes");
    int pagemap = how && strcmp(how, "pagemap") == 0;
    as_writes_mode_t mode = r->oscfg.writes;
    if (mode == AS_WRITES_AUTO)
        mode = pagemap ? AS_WRITES_RECORDED : AS_WRITES_ALLOC;
    if (mode != AS_WRITES_RECORDED) return AS_OK;
    if (!pagemap) {
        errf(r->err, r->errcap,
             "%s: os.writes=recorded, but the trace has no write reports "
             "(its header has no record.writes=pagemap)",
             r->cfg->trace_path);
        return AS_EINVAL;
    }
    static const as_param_spec_t spec = {
        "record.writes_min_bytes", AS_PARAM_BYTES, "0", 0,
        18446744073709551615.0,    NULL,           NULL};
    as_param_value_t v;
    if (!min || as_param_parse_value(&spec, min, strlen(min), &v) != AS_OK) {
        char safe[64];
        as_escape(safe, sizeof safe, min ? min : "", min ? strlen(min) : 0);
        errf(r->err, r->errcap,
             "%s: record.writes=pagemap, but record.writes_min_bytes is %s%s%s "
             "(expected the size in bytes from which objects have write "
             "reports)",
             r->cfg->trace_path, min ? "'" : "missing", min ? safe : "",
             min ? "'" : "");
        return AS_EFORMAT;
    }
    r->writes_recorded = r->res->writes_recorded = 1;
    r->writes_min = r->res->writes_min_bytes = v.u;
    return AS_OK;
}

/* A malformed event: one the trace format can carry but no program can
 * make. @return its description, or NULL for a well-formed event. */
static const char *malformed(const as_event_t *e)
{
    if (e->kind != AS_EV_ALLOC && e->kind != AS_EV_REALLOC) return NULL;
    if (e->align & (e->align - 1)) return "is not a power of two";
    if (e->align > AS_MAX_ALIGN_BYTES) return "is above 1 GiB";
    return NULL;
}

/* Skip a malformed event: its new object holds nothing (its free is
 * consumed), and a realloc leaves the old object as it was, as a failed
 * realloc does. */
static int skip_event(run_t *r, const as_event_t *e)
{
    uint64_t id = e->kind == AS_EV_ALLOC ? e->object : e->new_object;
    as_live_t o = {
        .id = id, .flags = AS_LIVE_FAILED, .predicted = -1, .shadow = -1};
    r->res->bad_events_skipped++;
    r->next_object = id + 1;
    return as_livemap_insert(&r->live, &o);
}

static int do_event(run_t *r, const as_event_t *e)
{
    as_run_result_t *res = r->res;
    int rc = AS_OK;
    const char *bad = malformed(e);
    if (bad) {
        if (r->cfg->skip_bad_events) return skip_event(r, e);
        errf(r->err, r->errcap,
             "%s: event %llu: alignment %llu %s (--skip-bad-events counts "
             "and skips such events)",
             r->cfg->trace_path, (unsigned long long)res->events,
             (unsigned long long)e->align, bad);
        return AS_EFORMAT;
    }
    switch (e->kind) {
    case AS_EV_ALLOC:
        res->allocs++;
        rc = do_alloc(r, e, e->object, NULL);
        r->next_object = e->object + 1;
        break;
    case AS_EV_FREE: {
        res->frees++;
        as_live_t o;
        if (take_freed(r, e, &o)) rc = free_block(r, e, &o, "free");
        break;
    }
    case AS_EV_REALLOC: {
        res->reallocs++;
        as_live_t o;
        int had = take_freed(r, e, &o);
        rc = do_alloc(r, e, e->new_object, had ? &o : NULL);
        r->next_object = e->new_object + 1;
        break;
    }
    default:
        break;
    }
    return rc;
}

void as_run_config_default(as_run_config_t *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->predictor = "none";
    as_classes_default(&cfg->classes);
    as_simos_config_default(&cfg->os);
    cfg->check = AS_RUN_CHECK_FULL;
    cfg->threads = 1;
}

/* Find the policy and the predictors, and resolve every parameter: the
 * policy's, the predictors', then the simulated OS's (from cfg->os), the
 * checks' (check.every), then the --param assignments in order. */
static int resolve(run_t *r, as_run_params_t *rp, int *os_part, int *check_part)
{
    const as_run_config_t *cfg = r->cfg;
    char *err = r->err;
    size_t cap = r->errcap;
    int rc = as_polstack_find(&r->pol, cfg->policy_ops, cfg->policy, err, cap);
    if (rc) return rc;
    const as_policy_ops_t *pol = r->pol.ops;
    r->class_periods = pol->class_periods;
    if ((rc = as_run_params_add(rp, pol->name, pol->params, pol->n_params, NULL,
                                err, cap)))
        return rc;
    as_predset_spec_t ps = {.predictor = cfg->predictor,
                            .inner = cfg->inner_predictor,
                            .shadow = cfg->shadow_predictor,
                            .classes = &cfg->classes};
    if ((rc = as_predset_resolve(&r->preds, &ps, rp, err, cap))) return rc;
    if ((rc = as_run_params_add(rp, "os", as_simos_params, AS_SIMOS_N_PARAMS,
                                os_part, err, cap)))
        return rc;
    as_simos_params_of(&cfg->os, rp->parts[*os_part].values);
    if ((rc = as_run_params_check(rp, *os_part, err, cap))) return rc;
    /* the recording host's settings, unless an option or a --param names
     * the parameter */
    as_host_os_t *h = &r->res->host;
    unsigned assigned = 0;
    for (size_t i = 0; i < cfg->n_params; i++) {
        int part, row;
        if (as_run_params_target(rp, cfg->params[i], &part, &row) &&
            part == *os_part)
            assigned |= 1u << row;
    }
    as_host_os_apply(h, rp->parts[*os_part].values, cfg->os_given | assigned);
    for (int k = 0; k < AS_SIMOS_N_PARAMS; k++) {
        if (cfg->os_given & (1u << k)) h->source[k] = "--thp";
        if (assigned & (1u << k)) h->source[k] = "--param";
    }
    if ((rc = as_run_params_add(rp, "check", as_check_params, AS_CHECK_N_PARAMS,
                                check_part, err, cap)))
        return rc;
    if ((rc = as_run_params_add(rp, "tlb", as_tlb_params, AS_TLB_N_PARAMS,
                                &r->tlb_part, err, cap)))
        return rc;
    for (size_t i = 0; i < cfg->n_params; i++)
        if ((rc = as_run_params_apply(rp, cfg->params[i], err, cap))) return rc;
    r->pol_part = rp->parts[0];
    as_tlb_config_default(&r->tlbcfg);
    as_tlb_config_apply(&r->tlbcfg, as_run_params_values(rp, r->tlb_part));
    if (r->tlbcfg.model != AS_TLB_OFF &&
        (rc = as_tlb_config_check(&r->tlbcfg, err, cap)))
        return rc;
    r->res->tlb_on = r->tlbcfg.model != AS_TLB_OFF;
    r->res->n_params_out = as_run_params_export(
        rp, r->res->params, sizeof r->res->params / sizeof r->res->params[0]);
    return AS_OK;
}

/* The policy behind its layers, and the checks cfg->check asks for with
 * the hook period `every`; whether a sink takes its statistics. */
static int create_policy(run_t *r, const as_param_value_t *params,
                         uint64_t every)
{
    const as_run_config_t *cfg = r->cfg;
    as_policy_config_t polcfg = {.ps = r->ps,
                                 .params = params,
                                 .n_classes = cfg->classes.n,
                                 .class_bounds_ns = cfg->classes.bound_ns};
    as_polstack_layers_t layers = {.check = cfg->check == AS_RUN_CHECK_FULL,
                                   .thread_cache = cfg->thread_cache,
                                   .stats = cfg->stats_layer};
    int rc = as_polstack_create(&r->pol, &polcfg, &layers, r->err, r->errcap);
    if (rc == AS_OK) as_polstack_set_check_every(&r->pol, every);
    if (rc == AS_OK && cfg->check == AS_RUN_CHECK_LIGHT) {
        as_lightcheck_init(&r->light, r->os, r->pol.ops->name, every);
        r->light_on = 1;
    }
    for (size_t i = 0; rc == AS_OK && i < cfg->n_sinks; i++)
        if (cfg->sinks[i].on_policy_stats && r->pol.ops->stats)
            r->want_policy_stats = 1;
    return rc;
}

/* The parts of one configuration that need no trace: the policy and
 * predictors found, every parameter resolved into rp. */
static int setup_params(run_t *r, as_run_params_t *rp)
{
    as_host_os_read(r->cfg->trace_path, &r->res->host);
    int rc = resolve(r, rp, &r->os_part, &r->check_part);
    if (rc != AS_OK) return rc;
    if (r->cfg->classes.n < 1 || r->cfg->classes.n > AS_MAX_CLASSES) {
        errf(r->err, r->errcap, "bad lifetime classes");
        return AS_EINVAL;
    }
    return AS_OK;
}

/* Open the trace shared by every configuration and compute its hash.
 * @return 0, or the error (message in err). */
static int open_trace(const char *path, as_trace_reader_t **reader,
                      char hash[17], char *err, size_t errcap)
{
    int rc = as_trace_reader_open(reader, path);
    if (rc != AS_OK) {
        if (*reader)
            errf(err, errcap, "%s", as_trace_reader_error(*reader));
        else
            errf(err, errcap, "%s: cannot open: %s", path, as_strerror(rc));
        return rc;
    }
    if ((rc = as_trace_reader_hash(*reader, hash)) != AS_OK)
        errf(err, errcap, "%s", as_trace_reader_error(*reader));
    return rc;
}

/* With the trace open: build the OS, the predictors and the policy. */
static int setup(run_t *r, const as_run_params_t *rp)
{
    const as_run_config_t *cfg = r->cfg;
    int rc;
    r->res->trace_bytes = as_trace_reader_file_bytes(r->reader);
    r->oscfg = cfg->os;
    as_simos_config_apply(&r->oscfg, as_run_params_values(rp, r->os_part));
    if ((rc = writes_setup(r)) != AS_OK) return rc;
    if ((rc = phys_setup(r)) != AS_OK) return rc;
    if ((rc = as_simos_create(&r->oscfg, &r->os)) != AS_OK) return rc;
    r->ps = as_simos_pagesource(r->os);
    if (r->tlbcfg.model != AS_TLB_OFF &&
        (rc = as_tlb_create(&r->tlbcfg, &r->tlb)) != AS_OK)
        return rc;
    if ((rc = as_outcomes_create(&r->outcomes, cfg->classes.n)) != AS_OK)
        return rc;
    /* The primary predictor's tables count as allocator metadata (a real
     * allocator would carry them); the shadow's live in host memory. */
    if ((rc = as_predset_create(r->preds, rp, &r->ps->meta, &as_host_mem,
                                r->reader, r->err, r->errcap)) != AS_OK)
        return rc;
    if (cfg->predictor_load_path &&
        (rc = as_predset_load(r->preds, cfg->predictor_load_path, r->err,
                              r->errcap)) != AS_OK)
        return rc;
    if ((rc = create_policy(
             r, as_run_params_values(rp, 0),
             as_run_params_values(rp, r->check_part)[AS_CHECK_P_EVERY].u)) !=
        AS_OK)
        return rc;
    return as_livemap_init(&r->live, 1024);
}

/* The timers' periods from the trace's index and the configuration, and
 * the bounds the run must fit (timers.h). */
static int plan_timers(run_t *r)
{
    const as_simos_config_t *oscfg = &r->oscfg;
    const as_run_config_t *cfg = r->cfg;
    size_t nchunks = as_trace_reader_chunk_count(r->reader);
    const as_trace_chunk_info_t *ch = as_trace_reader_chunks(r->reader);
    as_timer_plan_t plan = {.trace_path = cfg->trace_path,
                            .sample_interval_ns = cfg->sample_interval_ns,
                            .max_rows = cfg->max_rows};
    for (size_t i = 0; i < nchunks; i++)
        plan.events += ch[i].events;
    if (nchunks) plan.span_ns = ch[nchunks - 1].last_t_ns - ch[0].first_t_ns;
    if (oscfg->khugepaged && oscfg->thp != AS_THP_NEVER)
        plan.khugepaged_ns = oscfg->scan_interval_ns;
    if (r->tlb) plan.tlb_ns = r->tlbcfg.interval_ns;
    if (r->phys_own) plan.phys_ns = oscfg->phys_interval_ns;
    r->trace_events = plan.events;
    int rc = as_timers_plan(&r->timers, &plan, r->err, r->errcap);
    r->res->sample_interval_ns = r->timers.sample_ns;
    return rc;
}

/* Before the run's first event (at t), once: the policy's first tick,
 * then the timers. The callers test r->first once per batch or program
 * start, not once per event. */
static void start_timers(run_t *r, uint64_t t)
{
    if (!r->first) return;
    r->first = 0;
    as_ctx_t ctx = {.now_ns = t, .lifetime_class = AS_CLASS_NONE};
    const as_policy_ops_t *pol = r->pol.ops;
    uint64_t tick = pol->tick ? pol->tick(r->pol.state, &ctx) : 0;
    as_timers_start(&r->timers, t, tick);
}

/* Before the first event: the timers planned, the sinks told. */
static int replay_start(run_t *r)
{
    const as_run_config_t *cfg = r->cfg;
    int rc = plan_timers(r);
    if (rc != AS_OK) return rc;
    as_run_start_t start = {.trace_path = cfg->trace_path,
                            .truncated = !as_trace_reader_indexed(r->reader)};
    for (size_t i = 0; i < cfg->n_sinks && rc == AS_OK; i++)
        if (cfg->sinks[i].on_start)
            rc = cfg->sinks[i].on_start(cfg->sinks[i].arg, &start, r->err,
                                        r->errcap);
    as_metrics_init(&r->metrics);
    r->first = 1;
    return rc;
}

/* Replay one event: the timers due at or before it first (the caller
 * has armed them, start_timers, before the run's first event).
 * @return 0, or the first error. */
static inline int replay_one(run_t *r, const as_event_t *e)
{
    int rc;
    /* write reports (os.writes recorded) placed before this event */
    if (writes_due(r) && (rc = apply_writes(r, 0)) != AS_OK) return rc;
    if ((rc = run_timers(r, e->t_ns)) != AS_OK) return rc;
    r->t_now = e->t_ns;
    if ((rc = do_event(r, e)) != AS_OK) {
        if (rc == AS_ENOMEM)
            errf(r->err, r->errcap, "out of memory at event %llu",
                 (unsigned long long)r->res->events);
        return rc;
    }
    r->res->events++;
    as_sample_t s;
    sample_now(r, &s, e->t_ns);
    as_metrics_update(&r->metrics, &s);
    return AS_OK;
}

/* Replay one batch of events. @return 0, or the first error. */
static int replay_batch(run_t *r, const as_event_t *ev, long got)
{
    int rc;
    if (got > 0) start_timers(r, ev[0].t_ns);
    for (long i = 0; i < got; i++) {
        const as_event_t *e = &ev[i];
        if (i + PREFETCH_AHEAD < got) {
            const as_event_t *a = &ev[i + PREFETCH_AHEAD];
            as_livemap_prefetch(&r->live, a->object);
            if (a->kind == AS_EV_REALLOC)
                as_livemap_prefetch(&r->live, a->new_object);
        }
        /* the entry of a free's object, once its slot is loaded */
        if (i + PREFETCH_AHEAD / 2 < got &&
            ev[i + PREFETCH_AHEAD / 2].kind != AS_EV_ALLOC)
            as_livemap_prefetch_entry(&r->live,
                                      ev[i + PREFETCH_AHEAD / 2].object);
        if ((rc = replay_one(r, e)) != AS_OK) return rc;
    }
    return AS_OK;
}

/* End of trace: the last sample, the outcomes of objects never freed, and
 * every figure of the result. */
static int finish(run_t *r)
{
    const as_run_config_t *cfg = r->cfg;
    as_run_result_t *res = r->res;
    /* the write reports after the last event (the recorder's at exit) */
    int rc = apply_writes(r, 1);
    if (rc == AS_OK) rc = as_timers_end_sample(&r->timers, r->err, r->errcap);
    if (rc == AS_OK) rc = emit_sample(r, r->t_now);
    if (rc != AS_OK) return rc;
    as_metrics_finish(&r->metrics, r->t_now, &res->metrics);
    take_real(r, r->t_now, 1); /* the samples after the last event count */
    res->short_periods =
        as_short_periods(&r->pol_part, r->class_periods, &cfg->classes,
                         &r->oscfg, res->metrics.duration_ns,
                         res->short_periods_msg, sizeof res->short_periods_msg);
    as_live_t o;
    for (uint64_t cur = 0; as_livemap_next(&r->live, &cur, &o);)
        if (!(o.flags & AS_LIVE_FAILED)) observe(r, &o, r->t_now, 0);
    if (as_predset_oracle_error(r->preds) != AS_OK) {
        errf(r->err, r->errcap, "%s: cannot read the oracle's table back",
             cfg->trace_path);
        return AS_EIO;
    }
    res->objects = r->next_object;
    res->duration_ns = res->metrics.duration_ns;
    res->os = *as_simos_counters(r->os);
    if (r->tlb) res->tlb = *as_tlb_counters(r->tlb);
    phys_finish(r);
    as_outcomes_finish(r->outcomes, as_predset_has_shadow(r->preds), r->reader,
                       res);
    if (cfg->predictor_save_path &&
        (rc = as_predset_save(r->preds, cfg->predictor_save_path, r->err,
                              r->errcap)) != AS_OK)
        return rc;
    as_stat_list_t stats = {.prefix = "policy."};
    if (r->pol.ops->stats)
        r->pol.ops->stats(r->pol.state, as_stat_list_put, &stats);
    as_predset_stats(r->preds, &stats);
    res->stats = stats.v;
    res->n_stats = stats.n;
    if (as_trace_reader_truncated(r->reader)) {
        res->warn_truncated = 1;
        snprintf(res->truncation, sizeof res->truncation, "%s",
                 as_trace_reader_error(r->reader));
    }
    /* The light check's last hook sees the final heap; with the checking
     * layer on, the policy must give back every reservation and metadata
     * byte when destroyed. */
    if (r->light_on &&
        (rc = as_lightcheck_hook(&r->light, r->pol.ops, r->pol.state)) != 0)
        return light_err(r, rc, "the end of the trace", r->next_object);
    return as_polstack_close(&r->pol, r->err, r->errcap);
}

static double wall_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void run_destroy(run_t *r)
{
    as_predset_destroy(r->preds);
    as_outcomes_destroy(r->outcomes);
    free(r->pol_sample.v);
    free(r->rs);
    free(r->ws);
    as_polstack_destroy(&r->pol);
    if (r->os) as_simos_destroy(r->os);
    as_tlb_destroy(r->tlb);
    r->os = NULL;
    phys_destroy(r);
    as_livemap_destroy(&r->live);
    if (r->light_on) as_lightcheck_destroy(&r->light);
}

/* What one simulation thread replays: the configurations of its groups
 * (ring consumers; one unless a thread could not start), every batch of
 * the ring in turn. */
typedef struct {
    run_t *runs;
    size_t k;
    size_t groups[AS_MAX_THREADS], n_groups;
    as_batchring_t *ring;
    long status; /* the last batch's status */
} sim_thread_t;

/* Replay every batch through the configurations of the thread's groups;
 * the first configuration's progress callback (group 0) hears the events
 * read. */
static void *simulate(void *arg)
{
    sim_thread_t *st = arg;
    run_t *runs = st->runs;
    const as_run_config_t *c0 = runs[0].cfg;
    uint64_t done = 0, total = runs[0].trace_events;
    for (int last = 0; !last;) {
        for (size_t i = 0; i < st->n_groups; i++) {
            size_t g = st->groups[i];
            const as_batch_t *b = as_batchring_next(st->ring, g);
            double w1 = wall_now();
            for (size_t j = 0; j < st->k; j++) {
                run_t *r = &runs[j];
                if (r->group != g || r->rc != AS_OK) continue;
                as_predset_set_stacks(r->preds, &b->stacks);
                r->rc = add_samples(r, b);
                if (r->rc == AS_OK) r->rc = replay_batch(r, b->ev, (long)b->n);
                double w2 = wall_now();
                r->own_s += w2 - w1;
                w1 = w2;
            }
            /* every time the event count crosses a multiple of 2^20 */
            if (g == 0) {
                done += b->n;
                if (c0->progress && (done >> 20) != ((done - b->n) >> 20))
                    c0->progress(c0->progress_arg, done, total);
            }
            st->status = b->status;
            last = b->last;
            as_batchring_release(st->ring, g);
        }
    }
    return NULL;
}

/* Read the trace once and hand every block of events to each
 * configuration still running, in order; a configuration that fails stops
 * alone. With threads <= 1 the caller's thread decodes and simulates;
 * otherwise a decode thread fills a ring of blocks and min(threads, k)
 * simulation threads (the caller's among them) each replay their share
 * of the configurations (j % threads). Several configurations take blocks
 * of BLOCK_BATCHES batches, so that each keeps its own tables in cache
 * for that long. The ring is left to the caller (stack copies live in it
 * until the runs finish), joined. @return the threads that ran. */
static int replay_all(run_t *runs, size_t k, as_trace_reader_t *reader,
                      int threads, as_batchring_t **ring)
{
    size_t nsim = threads <= 1 ? 1 : (size_t)threads < k ? (size_t)threads : k;
    if (nsim > AS_MAX_THREADS) nsim = AS_MAX_THREADS;
    int threaded = threads > 1;
    for (size_t j = 0; j < k; j++)
        if (runs[j].rc == AS_OK && as_predset_needs_symbols(runs[j].preds))
            threaded = 0; /* they read the reader's frames as they go */
    if (!threaded) nsim = 1;
    size_t cap = (size_t)BATCH * (k > 1 ? BLOCK_BATCHES : 1);
    /* before the decode thread starts: the timers read the reader's index */
    for (size_t j = 0; j < k; j++) {
        runs[j].group = j % nsim;
        if (runs[j].rc != AS_OK) continue;
        double w = wall_now();
        runs[j].rc = replay_start(&runs[j]);
        runs[j].own_s += wall_now() - w;
    }
    int rc = as_batchring_create(ring, reader, cap,
                                 threaded ? AS_BATCHRING_THREADED : 0,
                                 RING_SLOTS, nsim);
    if (rc != AS_OK) {
        for (size_t j = 0; j < k; j++)
            if (runs[j].rc == AS_OK) runs[j].rc = rc;
        return 1;
    }
    sim_thread_t st[AS_MAX_THREADS];
    pthread_t th[AS_MAX_THREADS];
    int joinable[AS_MAX_THREADS] = {0};
    size_t ran = 1;
    for (size_t g = 0; g < nsim; g++)
        st[g] = (sim_thread_t){
            .runs = runs, .k = k, .groups = {g}, .n_groups = 1, .ring = *ring};
    for (size_t g = 1; g < nsim; g++) {
        joinable[g] = pthread_create(&th[g], NULL, simulate, &st[g]) == 0;
        if (joinable[g]) {
            ran++;
        } else { /* no thread for this group: the caller replays it too */
            st[0].groups[st[0].n_groups++] = g;
        }
    }
    simulate(&st[0]);
    for (size_t g = 1; g < nsim; g++)
        if (joinable[g]) pthread_join(th[g], NULL);
    as_batchring_join(*ring);
    double decode_s = as_batchring_decode_s(*ring);
    for (size_t j = 0; j < k; j++) {
        runs[j].own_s += decode_s / (double)k;
        /* every group saw the same last batch */
        take_status(&runs[j], st[0].status);
    }
    return threaded ? (int)ran + 1 : 1;
}

/* The oracle's pre-pass, once per distinct set of lifetime classes among
 * the configurations that need it (oracles[0..k) holds them); each such
 * configuration gets its table, or the pre-pass's error. */
static void share_oracles(run_t *runs, size_t k, as_trace_reader_t *reader,
                          as_oracle_t *oracles, int threads)
{
    for (size_t j = 0; j < k; j++) {
        run_t *r = &runs[j];
        if (r->rc != AS_OK || !as_predset_needs_oracle(r->preds)) continue;
        double w = wall_now();
        size_t i = 0;
        while (i < j &&
               !(oracles && oracles[i].built &&
                 as_oracle_same_classes(&oracles[i].classes, &r->cfg->classes)))
            i++;
        if (!oracles)
            r->rc = AS_ENOMEM;
        else if (i == j)
            r->rc = as_oracle_build(&oracles[j], reader, &r->cfg->classes,
                                    threads, r->err, r->errcap);
        if (r->rc == AS_OK)
            r->rc = as_predset_use_oracle(r->preds, &oracles[i]);
        r->own_s += wall_now() - w;
    }
}

/* A configuration before its trace is open: its result cleared, its
 * policy and predictors found and its parameters resolved into rp. */
static void init_run(run_t *r, const as_run_config_t *cfg, as_run_result_t *res,
                     char *err, size_t errcap, as_run_params_t *rp)
{
    double w = wall_now();
    memset(res, 0, sizeof *res);
    r->cfg = cfg;
    r->res = res;
    r->err = err;
    r->errcap = errcap;
    r->err[0] = 0;
    r->os_part = r->check_part = r->tlb_part = -1;
    r->rc = setup_params(r, rp);
    r->own_s += wall_now() - w;
}

/* A configuration with its trace open (orc: how opening it went, oerr
 * its message): its OS, predictors and policy built. */
static void attach_trace(run_t *r, as_trace_reader_t *reader,
                         const char hash[17], int orc, const char *oerr,
                         const as_run_params_t *rp)
{
    if (r->rc != AS_OK) return;
    if (orc != AS_OK) {
        errf(r->err, r->errcap, "%s", oerr);
        r->rc = orc;
        return;
    }
    double w = wall_now();
    r->reader = reader;
    memcpy(r->res->trace_hash, hash, 17);
    r->rc = setup(r, rp);
    r->own_s += wall_now() - w;
}

/* The end of a configuration's run: its figures (when it replayed to the
 * end), the sinks' on_end, its parts destroyed; a failed run keeps a
 * message and no result. @return its status. */
static int close_run(run_t *r, int threads)
{
    const as_run_config_t *cfg = r->cfg;
    double w = wall_now();
    r->res->threads = threads;
    if (r->rc == AS_OK) r->rc = finish(r);
    if (r->rc == AS_OK) {
        r->res->wall_s = r->own_s + (wall_now() - w);
        for (size_t i = 0; i < cfg->n_sinks && r->rc == AS_OK; i++)
            if (cfg->sinks[i].on_end)
                r->rc = cfg->sinks[i].on_end(cfg->sinks[i].arg, cfg, r->res,
                                             r->err, r->errcap);
    }
    run_destroy(r);
    if (r->rc != AS_OK && !r->err[0])
        errf(r->err, r->errcap, "%s: %s",
             cfg->trace_path ? cfg->trace_path : "", as_strerror(r->rc));
    if (r->rc != AS_OK) as_run_result_free(r->res);
    return r->rc;
}

int as_engine_run_many(const as_run_config_t *const *cfgs, size_t k,
                       as_run_result_t *res, char *const *errs, size_t errcap,
                       int *rcs)
{
    run_t *runs = calloc(k ? k : 1, sizeof *runs);
    as_run_params_t *rps = calloc(k ? k : 1, sizeof *rps);
    if (!runs || !rps || !k) {
        free(runs);
        free(rps);
        for (size_t j = 0; j < k; j++) {
            memset(&res[j], 0, sizeof res[j]);
            errf(errs[j], errcap, "out of memory");
            rcs[j] = AS_ENOMEM;
        }
        return k ? AS_ENOMEM : AS_EINVAL;
    }
    int any = 0;
    for (size_t j = 0; j < k; j++) {
        init_run(&runs[j], cfgs[j], &res[j], errs[j], errcap, &rps[j]);
        any |= runs[j].rc == AS_OK;
    }
    /* One reader for all: the first configuration names the trace. */
    as_trace_reader_t *reader = NULL;
    char hash[17] = "", oerr[1024] = "";
    double w = wall_now();
    int orc =
        any ? open_trace(cfgs[0]->trace_path, &reader, hash, oerr, sizeof oerr)
            : AS_OK;
    double open_s = (wall_now() - w) / (double)k;
    for (size_t j = 0; j < k; j++) {
        runs[j].own_s += open_s;
        attach_trace(&runs[j], reader, hash, orc, oerr, &rps[j]);
    }
    free(rps);
    as_oracle_t *oracles = calloc(k, sizeof *oracles);
    for (size_t j = 0; oracles && j < k; j++)
        oracles[j].fd = -1; /* none open */
    if (orc == AS_OK && reader)
        share_oracles(runs, k, reader, oracles, cfgs[0]->threads);
    as_batchring_t *ring = NULL;
    int threads = 1;
    if (orc == AS_OK && reader)
        threads = replay_all(runs, k, reader, cfgs[0]->threads, &ring);
    int first_rc = AS_OK;
    for (size_t j = 0; j < k; j++) {
        rcs[j] = close_run(&runs[j], threads);
        if (first_rc == AS_OK) first_rc = rcs[j];
    }
    as_batchring_destroy(ring);
    for (size_t j = 0; oracles && j < k; j++)
        as_oracle_destroy(&oracles[j]);
    free(oracles);
    if (reader) as_trace_reader_close(reader);
    free(runs);
    return first_rc;
}

/* --- Several programs on one machine (as_engine_run_machine) --- */

/* One program as the machine's merge sees it. */
typedef struct {
    run_t *r;
    size_t idx;                /* its place on the command line */
    as_trace_reader_t *reader; /* its own trace */
    as_batchring_t *ring;
    const as_batch_t *b; /* the batch being replayed, NULL before */
    size_t pos;          /* the next event of b */
    uint64_t start_ns;   /* machine time of its first event */
    uint64_t first_ns;   /* its trace time of its first event */
    int started;         /* its first event replayed */
    uint64_t ev_since;   /* events since the machine last read the clock */
    int done;            /* ended (or failed): no more actions */
    as_oracle_t oracle;
    /* its last contribution to the machine's sums */
    uint64_t live, resident, mapped, huge, meta;
} prog_t;

/* The machine's state while the programs run. */
typedef struct {
    const as_machine_config_t *m;
    prog_t *p;
    size_t n;
    as_machine_result_t *res;
    as_timers_t timers; /* its sample clock */
    uint32_t running;   /* programs started and not ended */
    size_t left;        /* programs not ended */
    int rc;             /* the machine's first error (its sinks, timers) */
    int planned;        /* its timers are planned */
    /* the shared physical memory (NULL: unlimited) and its tenants */
    as_phys_t *phys;
    as_tenants_t *tenants;
    as_simos_config_t os; /* its settings (os.phys_mem, ...) */
    phys_sums_t phys_sums;
    uint64_t live, resident, mapped, huge, meta; /* sums over the running */
    uint64_t events, total_events;               /* for progress */
    uint64_t ev_since; /* events since the clock was last read */
    double clock_s;    /* when it was */
    char *err;
    size_t errcap;
} machine_t;

/* Machine time of trace time t of program p (times before its first
 * event count as its start; saturating). */
static uint64_t to_machine(const prog_t *p, uint64_t t)
{
    return as_time_after(p->start_ns, t > p->first_ns ? t - p->first_ns : 0);
}

/* Trace time of program p at machine time g >= p->start_ns. */
static uint64_t to_trace(const prog_t *p, uint64_t g)
{
    return as_time_after(p->first_ns, g - p->start_ns);
}

/* An action's order on the machine: its time, then who acts (0 the
 * machine, 1 + j program j). */
typedef struct {
    uint64_t t;
    size_t who;
} mkey_t;

static int key_before(mkey_t a, mkey_t b)
{
    return a.t < b.t || (a.t == b.t && a.who < b.who);
}

/* The machine time of program p's next action: its next event or the
 * earliest of its timers. */
static mkey_t next_key(const prog_t *p)
{
    mkey_t k = {AS_TIME_NEVER, p->idx + 1};
    if (p->done) return k;
    uint64_t t = p->b->ev[p->pos].t_ns;
    for (int i = 0; i < AS_N_TIMERS; i++)
        if (p->r->timers.due[i] < t) t = p->r->timers.due[i];
    k.t = to_machine(p, t);
    return k;
}

/* Bring the machine's sums up to date with program p's state. */
static void note(machine_t *mc, prog_t *p)
{
    run_t *r = p->r;
    const as_simos_counters_t *c = as_simos_counters(r->os);
    uint64_t live = r->live_bytes;
    mc->live += live - p->live;
    mc->resident += c->resident_bytes - p->resident;
    mc->mapped += c->mapped_bytes - p->mapped;
    mc->huge += c->huge_bytes - p->huge;
    mc->meta += c->meta_bytes - p->meta;
    p->live = live;
    p->resident = c->resident_bytes;
    p->mapped = c->mapped_bytes;
    p->huge = c->huge_bytes;
    p->meta = c->meta_bytes;
    as_machine_result_t *res = mc->res;
    if (mc->live > res->peak_live_bytes) res->peak_live_bytes = mc->live;
    if (mc->resident > res->peak_resident_bytes)
        res->peak_resident_bytes = mc->resident;
    if (mc->mapped > res->peak_mapped_bytes)
        res->peak_mapped_bytes = mc->mapped;
    if (mc->huge > res->peak_huge_bytes) res->peak_huge_bytes = mc->huge;
}

/* Hand the machine's state at machine time t to its sinks; the first
 * error stops the machine's figures (the programs go on). */
static void machine_emit(machine_t *mc, uint64_t t)
{
    const as_machine_config_t *m = mc->m;
    as_machine_sample_t s = {.t_ns = t,
                             .running = mc->running,
                             .live_bytes = mc->live,
                             .resident_bytes = mc->resident,
                             .mapped_bytes = mc->mapped,
                             .huge_bytes = mc->huge,
                             .meta_bytes = mc->meta};
    if (mc->phys) {
        phys_fill(mc->phys, mc->tenants, &s.phys);
        phys_index_add(mc->res->phys, &mc->phys_sums, &s.phys);
    }
    for (size_t i = 0; i < m->n_sinks && mc->rc == AS_OK; i++)
        if (m->sinks[i].on_sample)
            mc->rc =
                m->sinks[i].on_sample(m->sinks[i].arg, &s, mc->err, mc->errcap);
}

/* The machine's timer due first at or before t: its sample, or its step
 * (the tenants' step at machine time, then kcompactd). */
static void machine_timer(machine_t *mc, uint64_t t)
{
    as_timer_t which;
    uint64_t due;
    if (mc->rc == AS_OK)
        mc->rc = as_timers_next(&mc->timers, t, mc->events + 1, &which, &due,
                                mc->err, mc->errcap);
    if (mc->rc != AS_OK || which == AS_TIMER_NONE) {
        for (int i = 0; i < AS_N_TIMERS; i++)
            mc->timers.due[i] = AS_TIME_NEVER;
        return;
    }
    if (which == AS_TIMER_SAMPLE) {
        machine_emit(mc, due);
    } else {
        if (mc->tenants) mc->rc = as_tenants_step(mc->tenants, due);
        as_phys_kcompactd(mc->phys);
    }
    as_timers_rearm(&mc->timers, which, due, 0);
}

/* The machine's last sample: at the end of its last program, with that
 * program's memory still in it. */
static void machine_end_sample(machine_t *mc, uint64_t t)
{
    if (mc->rc == AS_OK)
        mc->rc = as_timers_end_sample(&mc->timers, mc->err, mc->errcap);
    if (mc->rc == AS_OK) machine_emit(mc, t);
}

/* Charge the wall time since the machine last read the clock to the
 * programs, in proportion to the events each replayed meanwhile (reading
 * the clock at every event would cost more than some events). */
static void charge_time(machine_t *mc)
{
    double now = wall_now(), dt = now - mc->clock_s;
    for (size_t j = 0; j < mc->n && mc->ev_since; j++) {
        prog_t *p = &mc->p[j];
        p->r->own_s += dt * (double)p->ev_since / (double)mc->ev_since;
        p->ev_since = 0;
    }
    mc->ev_since = 0;
    mc->clock_s = now;
}

/* Program p has ended (or failed) at machine time g: its run closed, its
 * memory out of the machine's sums. */
static void end_prog(machine_t *mc, prog_t *p, uint64_t g)
{
    run_t *r = p->r;
    as_machine_prog_result_t *pr = &mc->res->progs[p->idx];
    charge_time(mc);
    if (--mc->left == 0 && mc->planned) machine_end_sample(mc, g);
    if (p->started) mc->running--;
    p->done = 1;
    pr->end_ns = g;
    pr->events = r->res->events;
    as_batchring_join(p->ring);
    if (r->os) {
        mc->live -= p->live;
        mc->resident -= p->resident;
        mc->mapped -= p->mapped;
        mc->huge -= p->huge;
        mc->meta -= p->meta;
    }
    pr->rc = close_run(r, r->res->threads);
    pr->os = r->res->os;
    if (g > mc->res->duration_ns) mc->res->duration_ns = g;
}

/* Move program p to its next non-empty batch; at the end of its trace
 * (or an error) the program ends. */
static void next_batch(machine_t *mc, prog_t *p)
{
    run_t *r = p->r;
    uint64_t g = to_machine(p, r->first ? p->first_ns : r->t_now);
    for (;;) {
        if (p->b) {
            int last = p->b->last;
            long status = p->b->status;
            as_batchring_release(p->ring, 0);
            p->b = NULL;
            if (last) {
                take_status(r, status);
                end_prog(mc, p, g);
                return;
            }
        }
        p->b = as_batchring_next(p->ring, 0);
        p->pos = 0;
        as_predset_set_stacks(r->preds, &p->b->stacks);
        if ((r->rc = add_samples(r, p->b)) != AS_OK) {
            end_prog(mc, p, g);
            return;
        }
        if (p->b->n) return;
    }
}

/* Replay program p while its actions come before `bound` (the next
 * action of anyone else): its events (with the timers before each), then
 * the timers due before the bound. */
static void run_prog(machine_t *mc, prog_t *p, mkey_t bound)
{
    run_t *r = p->r;
    mkey_t me = {0, p->idx + 1};
    while (!p->done) {
        const as_event_t *e = &p->b->ev[p->pos];
        me.t = to_machine(p, e->t_ns);
        if (!key_before(me, bound)) break;
        if (!p->started) {
            p->started = 1;
            if (++mc->running > mc->res->peak_running)
                mc->res->peak_running = mc->running;
            start_timers(r, e->t_ns);
        }
        /* write reports before the event: the machine sees their pages
         * (noted) before the event can release them */
        if (writes_due(r)) {
            if ((r->rc = apply_writes(r, 0)) != AS_OK) {
                end_prog(mc, p, me.t);
                return;
            }
            note(mc, p);
        }
        r->rc = replay_one(r, e);
        p->ev_since++;
        if (++mc->ev_since == MACHINE_CLOCK_EVENTS) charge_time(mc);
        if (r->rc != AS_OK) {
            end_prog(mc, p, me.t);
            return;
        }
        note(mc, p);
        uint64_t done = ++mc->events;
        if (mc->m->progress && !(done & ((1u << 20) - 1)))
            mc->m->progress(mc->m->progress_arg, done, mc->total_events);
        if (++p->pos == p->b->n) next_batch(mc, p);
    }
    if (p->done || r->first || bound.t < p->start_ns) return;
    /* the timers due before the bound; at its time too when p goes first */
    uint64_t lim = to_trace(p, bound.t);
    if (p->idx + 1 > bound.who) {
        if (lim == p->first_ns) return;
        lim--;
    }
    if ((r->rc = run_timers(r, lim)) != AS_OK)
        end_prog(mc, p, bound.t);
    else
        note(mc, p);
}

/* The settings of program j's OS that belong to the machine, from its
 * resolved parameters. */
static as_simos_config_t machine_os_of(const prog_t *p,
                                       const as_run_params_t *rp)
{
    as_simos_config_t oc = p->r->cfg->os;
    as_simos_config_apply(&oc, as_run_params_values(rp, p->r->os_part));
    return oc;
}

static int same_machine(const as_simos_config_t *a, const as_simos_config_t *b)
{
    const as_tenants_config_t *x = &a->tenants, *y = &b->tenants;
    return a->phys_mem_bytes == b->phys_mem_bytes &&
           (!a->phys_mem_bytes ||
            (a->phys_interval_ns == b->phys_interval_ns &&
             x->cache_bytes == y->cache_bytes &&
             x->unmovable_bytes == y->unmovable_bytes &&
             x->swing_pct == y->swing_pct && x->period_ns == y->period_ns &&
             x->churn_permille == y->churn_permille && x->seed == y->seed));
}

/* The machine's physical memory and tenants, when the programs' OS
 * parameters ask for them (they must agree); every program's
 * configuration, copied into cc, then brings it to its OS. @return 0, or
 * the error (message in mc->err). */
static int machine_phys(machine_t *mc, const as_run_params_t *rps,
                        as_run_config_t *cc)
{
    size_t j0 = mc->n;
    for (size_t j = 0; j < mc->n; j++) {
        prog_t *p = &mc->p[j];
        if (p->r->rc != AS_OK) continue;
        as_simos_config_t oc = machine_os_of(p, &rps[j]);
        if (j0 == mc->n) {
            j0 = j;
            mc->os = oc;
        } else if (!same_machine(&mc->os, &oc)) {
            errf(mc->err, mc->errcap,
                 "programs %zu and %zu give the machine different "
                 "os.phys_mem, os.phys_interval or os.tenant_* values: the "
                 "machine has one physical memory",
                 j0 + 1, j + 1);
            return AS_EINVAL;
        }
    }
    if (j0 == mc->n || !mc->os.phys_mem_bytes) return AS_OK;
    int rc = phys_make(&mc->os, &mc->phys, &mc->tenants, mc->err, mc->errcap);
    if (rc == AS_ERANGE) return rc;
    if (rc == AS_OK && !(mc->res->phys = calloc(1, sizeof *mc->res->phys)))
        rc = AS_ENOMEM;
    if (rc != AS_OK) {
        errf(mc->err, mc->errcap, "the machine's physical memory: %s",
             as_strerror(rc));
        return rc;
    }
    phys_result_start(mc->res->phys);
    for (size_t j = 0; j < mc->n; j++) {
        run_t *r = mc->p[j].r;
        cc[j] = *r->cfg;
        cc[j].os.phys = mc->phys;
        r->cfg = &cc[j];
    }
    return AS_OK;
}

/* The machine's physical-memory figures at the end (the programs have
 * given their frames back: the tenants' remain). */
static void machine_phys_finish(machine_t *mc)
{
    as_run_result_t *pr = mc->res->phys;
    phys_figures(pr, mc->phys, mc->tenants, &mc->phys_sums);
    for (size_t j = 0; j < mc->n; j++) {
        const as_simos_counters_t *c = &mc->res->progs[j].os;
        pr->os.thp_fault_fallbacks += c->thp_fault_fallbacks;
        pr->os.compact_stalls += c->compact_stalls;
        pr->os.collapse_failures += c->collapse_failures;
        pr->os.huge_faults += c->huge_faults;
        pr->os.page_faults += c->page_faults;
    }
}

/* Open program j's trace and build its run, up to its first batch; a
 * program that cannot start has ended. */
static void start_prog(machine_t *mc, prog_t *p, as_run_params_t *rp)
{
    const as_machine_config_t *m = mc->m;
    run_t *r = p->r;
    char hash[17] = "", oerr[1024] = "";
    int orc = AS_OK;
    if (r->rc == AS_OK) {
        double w = wall_now();
        orc =
            open_trace(r->cfg->trace_path, &p->reader, hash, oerr, sizeof oerr);
        r->own_s += wall_now() - w;
    }
    attach_trace(r, p->reader, hash, orc, oerr, rp);
    if (r->rc == AS_OK) share_oracles(r, 1, p->reader, &p->oracle, m->threads);
    if (r->rc == AS_OK) r->rc = replay_start(r);
    int threaded =
        m->threads > 1 && r->rc == AS_OK && !as_predset_needs_symbols(r->preds);
    r->res->threads = threaded ? 2 : 1;
    if (r->rc == AS_OK)
        r->rc = as_batchring_create(&p->ring, p->reader, BATCH,
                                    threaded ? AS_BATCHRING_THREADED : 0,
                                    RING_SLOTS, 1);
    if (r->rc != AS_OK) {
        end_prog(mc, p, p->start_ns);
        return;
    }
    next_batch(mc, p);
    if (!p->done) p->first_ns = p->b->ev[0].t_ns;
}

/* The machine's span (the latest end its programs' indexes promise) and
 * events, for its sampling period and bounds. */
static void machine_plan(const machine_t *mc, as_timer_plan_t *plan)
{
    for (size_t j = 0; j < mc->n; j++) {
        const prog_t *p = &mc->p[j];
        if (p->done && !p->started) continue;
        size_t nch = as_trace_reader_chunk_count(p->reader);
        const as_trace_chunk_info_t *ch = as_trace_reader_chunks(p->reader);
        uint64_t span = nch ? ch[nch - 1].last_t_ns - ch[0].first_t_ns : 0;
        uint64_t end = as_time_after(p->start_ns, span);
        if (end > plan->span_ns) plan->span_ns = end;
        plan->events += p->r->trace_events;
    }
}

int as_engine_run_machine(const as_machine_config_t *m, as_run_result_t *res,
                          char *const *errs, size_t errcap, int *rcs,
                          as_machine_result_t *mres, char *merr, size_t merrcap)
{
    double w0 = wall_now();
    size_t n = m->n_progs;
    memset(mres, 0, sizeof *mres);
    merr[0] = 0;
    run_t *runs = calloc(n ? n : 1, sizeof *runs);
    prog_t *ps = calloc(n ? n : 1, sizeof *ps);
    as_run_params_t *rps = calloc(n ? n : 1, sizeof *rps);
    mres->progs = calloc(n ? n : 1, sizeof *mres->progs);
    if (!runs || !ps || !rps || !mres->progs || !n) {
        free(runs);
        free(ps);
        free(rps);
        as_machine_result_free(mres);
        for (size_t j = 0; j < n; j++) {
            memset(&res[j], 0, sizeof res[j]);
            errf(errs[j], errcap, "out of memory");
            rcs[j] = AS_ENOMEM;
        }
        errf(merr, merrcap, n ? "out of memory" : "no program to run");
        return n ? AS_ENOMEM : AS_EINVAL;
    }
    mres->n_programs = n;
    machine_t mc = {.m = m,
                    .p = ps,
                    .n = n,
                    .res = mres,
                    .left = n,
                    .err = merr,
                    .errcap = merrcap};
    for (size_t j = 0; j < n; j++) {
        prog_t *p = &ps[j];
        p->r = &runs[j];
        p->idx = j;
        p->start_ns = mres->progs[j].start_ns = m->progs[j].start_ns;
        p->oracle.fd = -1; /* none open */
        init_run(p->r, m->progs[j].cfg, &res[j], errs[j], errcap, &rps[j]);
    }
    as_run_config_t *cc = calloc(n, sizeof *cc);
    int prc = cc ? machine_phys(&mc, rps, cc) : AS_ENOMEM;
    for (size_t j = 0; j < n; j++) {
        run_t *r = ps[j].r;
        if (prc != AS_OK && r->rc == AS_OK) {
            r->rc = prc;
            errf(r->err, r->errcap, "%s", merr[0] ? merr : "out of memory");
        }
        start_prog(&mc, &ps[j], &rps[j]);
    }
    free(rps);
    as_timer_plan_t plan = {.trace_path = "the machine",
                            .sample_interval_ns = m->sample_interval_ns,
                            .max_rows = m->max_rows};
    machine_plan(&mc, &plan);
    if (mc.phys) plan.phys_ns = mc.os.phys_interval_ns;
    mc.total_events = plan.events;
    mc.rc = as_timers_plan(&mc.timers, &plan, merr, merrcap);
    mc.planned = 1;
    mres->sample_interval_ns = mc.timers.sample_ns;
    if (mc.rc == AS_OK) as_timers_start(&mc.timers, 0, 0);
    mc.clock_s = wall_now();
    for (;;) {
        mkey_t best = {AS_TIME_NEVER, SIZE_MAX}, second = best;
        size_t bi = n;
        for (size_t j = 0; j < n; j++) {
            if (ps[j].done) continue;
            mkey_t k = next_key(&ps[j]);
            if (key_before(k, best)) {
                second = best;
                best = k;
                bi = j;
            } else if (key_before(k, second)) {
                second = k;
            }
        }
        if (bi == n) break;
        mkey_t mk = {mc.timers.due[AS_TIMER_SAMPLE], 0};
        if (mc.timers.due[AS_TIMER_PHYS] < mk.t)
            mk.t = mc.timers.due[AS_TIMER_PHYS];
        if (mk.t != AS_TIME_NEVER && key_before(mk, best)) {
            machine_timer(&mc, mk.t);
            continue;
        }
        if (mk.t != AS_TIME_NEVER && key_before(mk, second)) second = mk;
        run_prog(&mc, &ps[bi], second);
    }
    int first_rc = AS_OK, threads = 1;
    for (size_t j = 0; j < n; j++) {
        rcs[j] = mres->progs[j].rc;
        if (first_rc == AS_OK) first_rc = rcs[j];
        if (res[j].threads > 1) threads++;
        as_batchring_destroy(ps[j].ring);
        as_oracle_destroy(&ps[j].oracle);
        if (ps[j].reader) as_trace_reader_close(ps[j].reader);
    }
    if (mc.phys) machine_phys_finish(&mc);
    as_tenants_destroy(mc.tenants);
    if (mc.phys) as_phys_destroy(mc.phys);
    free(cc);
    mres->samples = mc.timers.samples;
    mres->threads = threads;
    mres->wall_s = wall_now() - w0;
    for (size_t i = 0; i < m->n_sinks && mc.rc == AS_OK; i++)
        if (m->sinks[i].on_end)
            mc.rc = m->sinks[i].on_end(m->sinks[i].arg, mres, merr, merrcap);
    if (first_rc == AS_OK) first_rc = mc.rc;
    free(runs);
    free(ps);
    return first_rc;
}

void as_machine_result_free(as_machine_result_t *mres)
{
    free(mres->phys);
    mres->phys = NULL;
    free(mres->progs);
    mres->progs = NULL;
    mres->n_programs = 0;
}

int as_engine_run(const as_run_config_t *cfg, as_run_result_t *res, char *err,
                  size_t errcap)
{
    int rc;
    return as_engine_run_many(&cfg, 1, res, &err, errcap, &rc);
}

void as_run_result_free(as_run_result_t *res)
{
    free(res->stats);
    res->stats = NULL;
    res->n_stats = 0;
}

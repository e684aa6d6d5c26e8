/* engine.c - the discrete-event replay loop.
 *
 * Owns one run: the trace reader, the simulated OS, the policy and predictor
 * instances, the live-object table and the metric accumulators. It merges the
 * trace's events with three timers (the policy's tick, metric samples and
 * khugepaged wake-ups) in trace time: a timer due at or before an event's
 * time fires first. Everything here is deterministic; only timing.wall_s
 * reads a clock.
 *
 * The engine never interprets addresses: it hands the policy's blocks to the
 * simulated OS to touch and remembers them per object id. A realloc goes to
 * the policy's realloc when it has one (an in-place growth touches only the
 * new bytes); otherwise the new block is allocated before the old is freed.
 * Problems in the trace (free of an unknown id, double free, zero-size and
 * impossible requests) are counted as warnings; problems in the policy
 * (overlap, block outside its memory) stop the run with AS_ECHECK.
 */
#include "sim/engine.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/escape.h"
#include "common/util.h"
#include "policies/layers/check.h"
#include "policies/layers/stats.h"
#include "traces/trace.h"
#include "sim/fileio.h"
#include "sim/livemap.h"

#define BATCH 4096
#define PREFETCH_AHEAD 8 /* events between a prefetch and its use */

/* ------------------------------------------------------------ parameters */

enum {
    OS_THP,
    OS_KHUGEPAGED,
    OS_MAX_PTES_NONE,
    OS_SCAN_INTERVAL,
    OS_SCAN_REGIONS,
    OS_NPARAMS
};

static const as_param_spec_t os_params[] = {
    [OS_THP] = {"thp", AS_PARAM_ENUM, "always", 0, 0, "never|madvise|always",
                "transparent huge pages mode"},
    [OS_KHUGEPAGED] = {"khugepaged", AS_PARAM_BOOL, "1", 0, 1, NULL,
                       "model khugepaged collapsing regions"},
    [OS_MAX_PTES_NONE] =
        {"max_ptes_none", AS_PARAM_U64, "511", 0, 511, NULL,
         "khugepaged: most non-resident pages a collapse fills"},
    [OS_SCAN_INTERVAL] = {"scan_interval", AS_PARAM_NS, "10s", 1, 1e15, NULL,
                          "khugepaged: time between wake-ups"},
    [OS_SCAN_REGIONS] = {"scan_regions", AS_PARAM_U64, "8", 1, 1e9, NULL,
                         "khugepaged: 2 MiB regions scanned per wake-up"},
};

typedef struct {
    const char *part; /* "policy name", "predictor name", "os" */
    const as_param_spec_t *specs;
    size_t n;
    as_param_value_t values[AS_MAX_PARAMS];
} part_params_t;

static void errf(char *err, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, cap, fmt, ap);
    va_end(ap);
}

static int part_init(part_params_t *p, const char *part,
                     const as_param_spec_t *specs, size_t n, char *err,
                     size_t cap)
{
    p->part = part;
    p->specs = specs;
    p->n = n;
    if (n > AS_MAX_PARAMS) {
        errf(err, cap, "%s: too many parameters", part);
        return AS_EINVAL;
    }
    if (as_param_defaults(specs, n, p->values) != AS_OK) {
        errf(err, cap, "%s: bad default in parameter table", part);
        return AS_EINVAL;
    }
    return AS_OK;
}

static void list_params(const part_params_t *p, char *buf, size_t cap)
{
    size_t off = 0;
    buf[0] = 0;
    for (size_t i = 0; i < p->n && off + 2 < cap; i++)
        off += (size_t)snprintf(buf + off, cap - off, "%s%s", i ? ", " : "",
                                p->specs[i].name);
    if (p->n == 0) snprintf(buf, cap, "(none)");
}

/* Apply one "part.name=value" or "name=value" assignment. */
static int param_error(const part_params_t *target, const char *a,
                       const char *assign, int rc, char *err, size_t cap)
{
    size_t nlen = (size_t)(strchr(assign, '=') - assign);
    int i = as_param_find(target->specs, target->n, assign, nlen);
    if (rc == AS_ENOTFOUND) {
        char names[1024];
        list_params(target, names, sizeof names);
        errf(err, cap, "parameter '%s': %s has no parameter '%.*s'; valid: %s",
             a, target->part, (int)nlen, assign, names);
        return AS_ENOTFOUND;
    }
    const as_param_spec_t *s = &target->specs[i];
    if (rc == AS_ERANGE)
        errf(err, cap, "parameter '%s': out of range [%g, %g]", a, s->min,
             s->max);
    else
        errf(err, cap, "parameter '%s': not a valid %s", a,
             s->type == AS_PARAM_ENUM     ? s->choices
             : s->type == AS_PARAM_BOOL   ? "boolean"
             : s->type == AS_PARAM_BYTES  ? "byte count (e.g. 8K, 2M)"
             : s->type == AS_PARAM_NS     ? "duration (e.g. 10ms, 1s)"
             : s->type == AS_PARAM_DOUBLE ? "number"
                                          : "integer");
    return AS_EINVAL;
}

/* Apply one assignment. "part.name=value" sets the parameter in every part
 * of that name (a predictor may appear twice: as the predictor and inside
 * the shadow); "name=value" sets it in the first part that has it. */
static int apply_param(part_params_t *parts, size_t nparts, const char *a,
                       char *err, size_t cap)
{
    const char *eq = strchr(a, '=');
    const char *dot = strchr(a, '.');
    if (!eq) {
        errf(err, cap, "parameter '%s': expected name=value", a);
        return AS_EINVAL;
    }
    if (dot && dot < eq) {
        size_t plen = (size_t)(dot - a);
        int found = 0;
        for (size_t i = 0; i < nparts; i++) {
            if (strlen(parts[i].part) != plen ||
                strncmp(parts[i].part, a, plen) != 0)
                continue;
            found = 1;
            int rc = as_param_set(parts[i].specs, parts[i].n, parts[i].values,
                                  dot + 1);
            if (rc != AS_OK)
                return param_error(&parts[i], a, dot + 1, rc, err, cap);
        }
        if (!found) {
            errf(err, cap,
                 "parameter '%s': no part named '%.*s' in this run "
                 "(the policy, a predictor or 'os')",
                 a, (int)plen, a);
            return AS_ENOTFOUND;
        }
        return AS_OK;
    }
    for (size_t i = 0; i < nparts; i++)
        if (as_param_find(parts[i].specs, parts[i].n, a, (size_t)(eq - a)) >=
            0) {
            int rc =
                as_param_set(parts[i].specs, parts[i].n, parts[i].values, a);
            return rc == AS_OK ? AS_OK
                               : param_error(&parts[i], a, a, rc, err, cap);
        }
    errf(err, cap,
         "parameter '%s': no part of this run has a parameter "
         "'%.*s' (see allocsim run --help)",
         a, (int)(eq - a), a);
    return AS_ENOTFOUND;
}

/* ------------------------------------------------------------- the run */

typedef struct {
    as_stat_t *v;
    size_t n, cap;
    const char *prefix;
} stat_sink_t;

static void stat_put(void *arg, const char *name, double value)
{
    stat_sink_t *s = arg;
    if (s->n == s->cap) {
        size_t nc = s->cap ? s->cap * 2 : 64;
        as_stat_t *nv = realloc(s->v, nc * sizeof *nv);
        if (!nv) return;
        s->v = nv;
        s->cap = nc;
    }
    snprintf(s->v[s->n].name, sizeof s->v[s->n].name, "%s%s", s->prefix, name);
    s->v[s->n].value = value;
    s->n++;
}

/* One predictor instance, possibly a wrapper with its inner predictor;
 * `part` and `inner_part` index the run's parameter parts. */
typedef struct {
    const as_predictor_ops_t *ops, *inner;
    void *state, *inner_state;
    int part, inner_part;
} pred_inst_t;

typedef struct {
    uint64_t mis_bytes, mis_allocs, bytes, allocs;
} site_count_t;

typedef struct {
    const as_run_config_t *cfg;
    as_run_result_t *res;
    char *err;
    size_t errcap;

    as_trace_reader_t *reader;
    as_simos_t *os;
    const as_pagesource_t *ps;

    const as_policy_ops_t *pol;
    void *pol_state;
    as_policy_ops_t check_ops; /* the checking layer, when on */
    void *check_state;
    as_policy_ops_t stats_ops; /* the statistics layer, when on */

    pred_inst_t pred;   /* places objects */
    pred_inst_t shadow; /* counterfactual only (ops NULL: none) */

    /* per-site outcome counts for the most-mispredicted-sites table */
    site_count_t *sites;
    uint32_t n_sites;

    /* columns of policy_series.csv, fixed by the first sample */
    size_t n_pol_cols;
    stat_sink_t pol_sample; /* reused buffer for each sample */

    uint8_t *oracle; /* true class per object id, two per byte
                        (oracle only; classes < 16) */
    uint64_t oracle_n;

    as_livemap_t live;
    uint64_t live_bytes, allocated_bytes, next_object;

    /* per-stack pc cache for predictors: pcs[stack] (lazily built) */
    uint64_t **stack_pcs;
    uint32_t stack_pcs_n;

    as_metrics_t metrics;
    uint64_t t_first, t_now;
    uint64_t next_tick, next_sample, next_khp, sample_ns, khp_ns;
} run_t;

static int trace_err(run_t *r, int rc)
{
    errf(r->err, r->errcap, "%s", as_trace_reader_error(r->reader));
    return rc;
}

/* The oracle's table packs two 4-bit classes per byte (AS_MAX_CLASSES is
 * 16): half a byte per object of the trace. */
static inline void oracle_set(uint8_t *t, uint64_t id, uint32_t c)
{
    uint8_t *b = &t[id >> 1];
    *b = (id & 1) ? (uint8_t)((*b & 0x0f) | (c << 4))
                  : (uint8_t)((*b & 0xf0) | c);
}

static inline uint32_t oracle_get(const uint8_t *t, uint64_t id)
{
    return (t[id >> 1] >> ((id & 1) * 4)) & 0x0f;
}

/* Pre-pass for the oracle: the true class of every object. */
static int oracle_prepass(run_t *r)
{
    as_livemap_t born;
    uint64_t cap = 1 << 16; /* bytes: 2 objects each */
    uint8_t *cls = calloc(cap, 1);
    as_event_t *ev = malloc(BATCH * sizeof *ev);
    if (!cls || !ev || as_livemap_init(&born, 1024) != AS_OK) {
        free(cls);
        free(ev);
        return AS_ENOMEM;
    }
    const as_classes_t *c = &r->cfg->classes;
    uint32_t last = c->n - 1;
    uint64_t n = 0;
    long got;
    int rc = AS_OK;
    while ((got = as_trace_reader_next_batch(r->reader, ev, BATCH)) > 0) {
        for (long i = 0; i < got; i++) {
            const as_event_t *e = &ev[i];
            if (e->kind == AS_EV_FREE || e->kind == AS_EV_REALLOC) {
                as_live_t b;
                if (as_livemap_take(&born, e->object, &b))
                    oracle_set(cls, b.id,
                               as_classes_of(c, e->t_ns - b.t_alloc_ns));
            }
            if (e->kind == AS_EV_ALLOC || e->kind == AS_EV_REALLOC) {
                uint64_t id =
                    e->kind == AS_EV_ALLOC ? e->object : e->new_object;
                while ((id >> 1) >= cap) {
                    uint8_t *nc = realloc(cls, cap * 2);
                    if (!nc) {
                        rc = AS_ENOMEM;
                        goto out;
                    }
                    memset(nc + cap, 0, cap);
                    cls = nc;
                    cap *= 2;
                }
                oracle_set(cls, id, last); /* until its free: never freed */
                if (id + 1 > n) n = id + 1;
                as_live_t b = {.id = id, .t_alloc_ns = e->t_ns};
                if (as_livemap_insert(&born, &b) != AS_OK) {
                    rc = AS_ENOMEM;
                    goto out;
                }
            }
        }
    }
    if (got < 0) rc = trace_err(r, (int)got);
out:
    free(ev);
    as_livemap_destroy(&born);
    if (rc != AS_OK) {
        free(cls);
        return rc;
    }
    r->oracle = cls;
    r->oracle_n = n;
    return as_trace_reader_rewind(r->reader);
}

static const uint64_t *stack_pcs(run_t *r, uint32_t stack, uint32_t *depth,
                                 const uint32_t **frames)
{
    *depth = 0;
    *frames = NULL;
    if (!stack) return NULL;
    if (as_trace_reader_stack(r->reader, stack, frames, depth) != AS_OK)
        return NULL;
    if (stack >= r->stack_pcs_n) {
        uint32_t n = r->stack_pcs_n ? r->stack_pcs_n : 64;
        while (n <= stack)
            n *= 2;
        uint64_t **np = realloc(r->stack_pcs, n * sizeof *np);
        if (!np) return NULL;
        memset(np + r->stack_pcs_n, 0, (n - r->stack_pcs_n) * sizeof *np);
        r->stack_pcs = np;
        r->stack_pcs_n = n;
    }
    if (!r->stack_pcs[stack] && *depth) {
        uint64_t *pcs = malloc(*depth * sizeof *pcs);
        if (!pcs) return NULL;
        for (uint32_t i = 0; i < *depth; i++) {
            as_frame_t f;
            pcs[i] = as_trace_reader_frame(r->reader, (*frames)[i], &f) == AS_OK
                         ? f.pc
                         : 0;
        }
        r->stack_pcs[stack] = pcs;
    }
    return r->stack_pcs[stack];
}

static void pred_ctx(run_t *r, as_pred_ctx_t *pc, uint64_t id, uint64_t t,
                     uint64_t size, uint32_t thread, uint32_t cpu,
                     uint32_t stack)
{
    pc->object = id;
    pc->now_ns = t;
    pc->size = size;
    pc->thread = thread;
    pc->cpu = cpu;
    pc->stack = stack;
    pc->pcs = stack_pcs(r, stack, &pc->depth, &pc->frames);
    pc->true_class =
        r->oracle ? (id < r->oracle_n ? (int32_t)oracle_get(r->oracle, id)
                                      : (int32_t)r->cfg->classes.n - 1)
                  : AS_CLASS_UNKNOWN;
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
}

static void write_series_header(FILE *f)
{
    fprintf(f, "t_ns,live_bytes,live_objects,allocated_bytes,resident_bytes,"
               "mapped_bytes,huge_bytes,metadata_bytes,fragmentation,"
               "hugepage_coverage,releases,splits,collapses\n");
}

/* policy_series.csv: the policy's statistics at each sample, one column per
 * statistic of the first sample (later samples are matched by position and
 * name; a statistic that is missing is left empty). */
static void write_policy_row(run_t *r, uint64_t t)
{
    FILE *f = r->cfg->policy_series;
    if (!f || !r->pol->stats) return;
    stat_sink_t *k = &r->pol_sample;
    k->n = 0;
    k->prefix = "";
    r->pol->stats(r->pol_state, stat_put, k);
    if (!r->n_pol_cols) {
        r->n_pol_cols = k->n;
        fprintf(f, "t_ns");
        for (size_t i = 0; i < k->n; i++)
            fprintf(f, ",%s", k->v[i].name);
        fputc('\n', f);
    }
    fprintf(f, "%llu", (unsigned long long)(t - r->t_first));
    for (size_t i = 0; i < r->n_pol_cols; i++) {
        if (i < k->n)
            fprintf(f, ",%.17g", k->v[i].value);
        else
            fputc(',', f);
    }
    fputc('\n', f);
}

static void write_series_row(run_t *r, uint64_t t)
{
    write_policy_row(r, t);
    if (!r->cfg->series) return;
    as_sample_t s;
    sample_now(r, &s, t);
    const as_simos_counters_t *c = as_simos_counters(r->os);
    fprintf(
        r->cfg->series,
        "%llu,%llu,%llu,%llu,%llu,%llu,%llu,%llu,%.6f,%.6f,%llu,%llu,%llu\n",
        (unsigned long long)(t - r->t_first), (unsigned long long)s.live_bytes,
        (unsigned long long)s.live_objects,
        (unsigned long long)s.allocated_bytes,
        (unsigned long long)s.resident_bytes,
        (unsigned long long)s.mapped_bytes, (unsigned long long)s.huge_bytes,
        (unsigned long long)s.meta_bytes,
        s.live_bytes ? (double)s.resident_bytes / (double)s.live_bytes : 0.0,
        s.resident_bytes ? (double)s.huge_bytes / (double)s.resident_bytes
                         : 0.0,
        (unsigned long long)c->releases, (unsigned long long)c->splits,
        (unsigned long long)c->collapses);
}

/* Fire every timer due at or before t, earliest first. */
static int run_timers(run_t *r, uint64_t t)
{
    for (;;) {
        uint64_t due = r->next_tick;
        int which = 0;
        if (r->next_sample < due) due = r->next_sample, which = 1;
        if (r->next_khp < due) due = r->next_khp, which = 2;
        if (due > t) return AS_OK;
        if (which == 0) {
            as_ctx_t ctx = {.now_ns = due, .lifetime_class = AS_CLASS_NONE};
            uint64_t next = r->pol->tick(r->pol_state, &ctx);
            r->next_tick = next ? due + next : UINT64_MAX;
        } else if (which == 1) {
            write_series_row(r, due);
            r->next_sample = due + r->sample_ns;
        } else {
            as_simos_khugepaged_scan(r->os);
            r->next_khp = due + r->khp_ns;
            /* A collapse changes resident bytes between events. */
            as_sample_t s;
            sample_now(r, &s, due);
            as_metrics_update(&r->metrics, &s);
        }
    }
}

static void count_site(run_t *r, uint32_t stack, uint64_t size, int wrong)
{
    if (stack >= r->n_sites) {
        uint32_t n = r->n_sites ? r->n_sites : 64;
        while (n <= stack)
            n *= 2;
        site_count_t *ns = realloc(r->sites, n * sizeof *ns);
        if (!ns) return; /* the table is a report: losing it is not fatal */
        memset(ns + r->n_sites, 0, (n - r->n_sites) * sizeof *ns);
        r->sites = ns;
        r->n_sites = n;
    }
    site_count_t *c = &r->sites[stack];
    c->allocs++;
    c->bytes += size;
    if (wrong) {
        c->mis_allocs++;
        c->mis_bytes += size;
    }
}

static void observe_one(run_t *r, pred_inst_t *p, const as_live_t *o,
                        int32_t predicted, uint64_t life, uint32_t actual)
{
    if (!p->ops->observe) return;
    as_pred_ctx_t pc;
    pred_ctx(r, &pc, o->id, o->t_alloc_ns, o->size, o->thread, 0, o->stack);
    as_pred_outcome_t out = {.lifetime_ns = life,
                             .actual_class = actual,
                             .predicted_class = predicted};
    p->ops->observe(p->state, &pc, &out);
}

/* The outcome of an object: into the confusion matrices, the site table
 * and both predictors. */
static void observe(run_t *r, const as_live_t *o, uint64_t t_free, int died)
{
    as_run_result_t *res = r->res;
    uint64_t life = died ? t_free - o->t_alloc_ns : AS_LIFETIME_INF;
    uint32_t actual = as_classes_of(&r->cfg->classes, life);
    if (o->predicted >= 0) {
        res->confusion_allocs[o->predicted][actual]++;
        res->confusion_bytes[o->predicted][actual] += o->size;
        count_site(r, o->stack, o->size, (uint32_t)o->predicted != actual);
    }
    observe_one(r, &r->pred, o, o->predicted, life, actual);
    if (r->shadow.ops && o->shadow >= 0) {
        res->shadow_confusion_allocs[o->shadow][actual]++;
        res->shadow_confusion_bytes[o->shadow][actual] += o->size;
        if (o->shadow == o->predicted) res->shadow_agree_allocs++;
        observe_one(r, &r->shadow, o, o->shadow, life, actual);
    }
}

static int policy_failed(run_t *r, int rc, const char *what, uint64_t id)
{
    if (rc == AS_ECHECK) {
        errf(r->err, r->errcap,
             "%s: policy %s failed the check on %s of "
             "object %llu: %s",
             r->cfg->trace_path, r->pol->name, what, (unsigned long long)id,
             as_check_last_error(r->check_state));
        return AS_ECHECK;
    }
    return AS_OK;
}

static int32_t predict(run_t *r, pred_inst_t *p, const as_pred_ctx_t *pc)
{
    int32_t cls = p->ops->predict(p->state, pc);
    if (cls == AS_CLASS_NONE) return cls;
    if (cls < 0 || (uint32_t)cls >= r->cfg->classes.n)
        cls = (int32_t)r->cfg->classes.n - 1;
    return cls;
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
    int rc = r->pol->free(r->pol_state, &ctx, (uintptr_t)o->addr, hint);
    if (rc != AS_OK) {
        if (policy_failed(r, rc, what, o->id)) return AS_ECHECK;
        r->res->warn_policy_errors++;
    }
    return AS_OK;
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
    observe(r, o, e->t_ns, 1);
    r->live_bytes -= o->size;
    r->allocated_bytes -= o->size + o->usable_extra;
    return 1;
}

/* Allocate object `id` for an alloc event, or for a realloc event with
 * `old` (the block it replaces, already taken; NULL when the old object
 * held none). A realloc goes to the policy's realloc when it has one;
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
    as_ctx_t ctx = {.now_ns = e->t_ns,
                    .thread = e->thread,
                    .cpu = e->cpu,
                    .lifetime_class = AS_CLASS_NONE,
                    .stack = e->stack};
    as_pred_ctx_t pc;
    pred_ctx(r, &pc, id, e->t_ns, e->size, e->thread, e->cpu, e->stack);
    int32_t cls = predict(r, &r->pred, &pc);
    o.predicted = (int8_t)cls;
    if (cls == AS_CLASS_NONE) res->unpredicted_allocs++;
    if (r->shadow.ops) o.shadow = (int8_t)predict(r, &r->shadow, &pc);
    ctx.lifetime_class = cls;
    if (e->size == 0) res->warn_zero_size++;
    int in_place = old && r->pol->realloc;
    as_block_t b = {0};
    int rc = e->size > (UINT64_C(1) << 48) ? AS_ETOO_LARGE
             : in_place
                 ? r->pol->realloc(r->pol_state, &ctx, (uintptr_t)old->addr,
                                   (size_t)old->size, (size_t)e->size,
                                   (size_t)e->align, &b)
                 : r->pol->alloc(r->pol_state, &ctx, (size_t)e->size,
                                 (size_t)e->align, &b);
    if (rc != AS_OK) {
        if (policy_failed(r, rc, old ? "realloc" : "alloc", id))
            return AS_ECHECK;
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
    if (e->size > from && as_simos_touch(r->os, b.addr + from,
                                         (size_t)(e->size - from)) != AS_OK) {
        errf(r->err, r->errcap,
             "%s: policy %s returned block 0x%llx+%llu for "
             "object %llu that is not mapped",
             r->cfg->trace_path, r->pol->name, (unsigned long long)b.addr,
             (unsigned long long)e->size, (unsigned long long)id);
        return AS_ECHECK;
    }
    r->live_bytes += e->size;
    r->allocated_bytes += e->size + o.usable_extra;
    if (old && !in_place && (rc = free_block(r, e, old, "realloc")) != AS_OK)
        return rc;
    return as_livemap_insert(&r->live, &o);
}

static int do_event(run_t *r, const as_event_t *e)
{
    as_run_result_t *res = r->res;
    int rc = AS_OK;
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

/* Find a predictor from its spec ("name" or "wrapper:inner"; a wrapper
 * without an inner wraps `none`) and add its parameter parts. */
static int resolve_pred(run_t *r, const char *spec, const char *inner_name,
                        pred_inst_t *p, part_params_t *parts, size_t *n)
{
    char *err = r->err;
    size_t cap = r->errcap;
    char pname[64], iname[64] = "";
    snprintf(pname, sizeof pname, "%s", spec);
    char *colon = strchr(pname, ':');
    if (colon) {
        *colon = 0;
        snprintf(iname, sizeof iname, "%s", colon + 1);
    } else if (inner_name) {
        snprintf(iname, sizeof iname, "%s", inner_name);
    }
    const char *bad = NULL;
    p->ops = as_predictor_find(pname);
    if (!p->ops) bad = pname;
    if (p->ops && p->ops->wraps) {
        p->inner = as_predictor_find(iname[0] ? iname : "none");
        if (!p->inner || p->inner->wraps) bad = iname;
    } else if (iname[0] && p->ops) {
        errf(err, cap, "predictor '%s' does not wrap another predictor", pname);
        return AS_EINVAL;
    }
    if (bad) {
        size_t off =
            (size_t)snprintf(err, cap, "unknown predictor '%s'; valid:", bad);
        for (size_t i = 0; i < as_predictor_count() && off < cap; i++)
            off += (size_t)snprintf(err + off, cap - off, " %s",
                                    as_predictor_at(i)->name);
        return AS_ENOTFOUND;
    }
    int rc;
    p->part = (int)*n;
    if ((rc = part_init(&parts[(*n)++], p->ops->name, p->ops->params,
                        p->ops->n_params, err, cap)))
        return rc;
    p->inner_part = -1;
    if (p->inner) {
        p->inner_part = (int)*n;
        if ((rc = part_init(&parts[(*n)++], p->inner->name, p->inner->params,
                            p->inner->n_params, err, cap)))
            return rc;
    }
    return AS_OK;
}

static int setup_parts(run_t *r, part_params_t *parts, size_t *nparts)
{
    const as_run_config_t *cfg = r->cfg;
    char *err = r->err;
    size_t cap = r->errcap;
    r->pol = cfg->policy_ops ? cfg->policy_ops
             : cfg->policy   ? as_policy_find(cfg->policy)
                             : NULL;
    if (!r->pol) {
        size_t off = (size_t)snprintf(err, cap, "unknown policy '%s'; valid:",
                                      cfg->policy ? cfg->policy : "");
        for (size_t i = 0; i < as_policy_count() && off < cap; i++)
            off += (size_t)snprintf(err + off, cap - off, " %s",
                                    as_policy_at(i)->name);
        return AS_ENOTFOUND;
    }
    size_t n = 0;
    int rc;
    if ((rc = part_init(&parts[n++], r->pol->name, r->pol->params,
                        r->pol->n_params, err, cap)))
        return rc;
    if ((rc = resolve_pred(r, cfg->predictor ? cfg->predictor : "none",
                           cfg->inner_predictor, &r->pred, parts, &n)))
        return rc;
    if (cfg->shadow_predictor &&
        (rc = resolve_pred(r, cfg->shadow_predictor, NULL, &r->shadow, parts,
                           &n)))
        return rc;
    if ((rc = part_init(&parts[n], "os", os_params, OS_NPARAMS, err, cap)))
        return rc;
    part_params_t *os = &parts[n++];
    os->values[OS_THP].u = (uint64_t)cfg->os.thp;
    os->values[OS_KHUGEPAGED].u = (uint64_t)cfg->os.khugepaged;
    os->values[OS_MAX_PTES_NONE].u = cfg->os.max_ptes_none;
    os->values[OS_SCAN_INTERVAL].u = cfg->os.scan_interval_ns;
    os->values[OS_SCAN_REGIONS].u = cfg->os.scan_regions;
    for (size_t i = 0; i < cfg->n_params; i++)
        if ((rc = apply_param(parts, n, cfg->params[i], err, cap))) return rc;
    *nparts = n;
    /* Record every resolved value for the summary. */
    as_run_result_t *res = r->res;
    for (size_t p = 0; p < n; p++)
        for (size_t i = 0;
             i < parts[p].n &&
             res->n_params_out < sizeof res->params / sizeof res->params[0];
             i++) {
            char v[64];
            as_param_format(&parts[p].specs[i], parts[p].values[i], v,
                            sizeof v);
            snprintf(res->params[res->n_params_out++], sizeof res->params[0],
                     "%s.%s=%s", parts[p].part, parts[p].specs[i].name, v);
        }
    return AS_OK;
}

void as_run_config_default(as_run_config_t *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->predictor = "none";
    as_classes_default(&cfg->classes);
    as_simos_config_default(&cfg->os);
    cfg->check = 1;
}

/* The checking layer's own bookkeeping lives in host memory, so that it does
 * not count as the policy's metadata. */
static void *host_alloc(void *st, size_t bytes)
{
    (void)st;
    return calloc(1, bytes);
}

static void host_free(void *st, void *p, size_t bytes)
{
    (void)st;
    (void)bytes;
    free(p);
}

static int create_pred(run_t *r, pred_inst_t *p, const part_params_t *parts,
                       const as_mem_t *mem)
{
    int rc;
    if (p->inner) {
        as_predictor_config_t ic = {.classes = &r->cfg->classes,
                                    .params = parts[p->inner_part].values,
                                    .mem = mem};
        if ((rc = p->inner->create(&ic, &p->inner_state)) != AS_OK) {
            errf(r->err, r->errcap, "predictor %s: create failed: %s",
                 p->inner->name, as_strerror(rc));
            p->inner_state = NULL;
            return rc;
        }
    }
    as_predictor_config_t pc = {.classes = &r->cfg->classes,
                                .params = parts[p->part].values,
                                .mem = mem,
                                .inner_ops = p->inner,
                                .inner_state = p->inner_state};
    if ((rc = p->ops->create(&pc, &p->state)) != AS_OK) {
        errf(r->err, r->errcap, "predictor %s: create failed: %s", p->ops->name,
             as_strerror(rc));
        p->state = NULL;
    }
    return rc;
}

/* The predictor that takes a trained table: the primary one, or the
 * predictor it wraps when only that one can load. */
static int pred_loader(pred_inst_t *p, const as_predictor_ops_t **ops,
                       void **state, int saving)
{
    if (saving ? p->ops->save != NULL : p->ops->load != NULL) {
        *ops = p->ops;
        *state = p->state;
        return 1;
    }
    if (p->inner &&
        (saving ? p->inner->save != NULL : p->inner->load != NULL)) {
        *ops = p->inner;
        *state = p->inner_state;
        return 1;
    }
    return 0;
}

static int load_pred(run_t *r)
{
    const char *path = r->cfg->predictor_load_path;
    const as_predictor_ops_t *ops;
    void *state;
    if (!pred_loader(&r->pred, &ops, &state, 0)) {
        errf(r->err, r->errcap, "predictor %s cannot load a trained table",
             r->pred.ops->name);
        return AS_EINVAL;
    }
    char *buf;
    size_t len;
    int rrc = as_file_read_all(path, &buf, &len, r->err, r->errcap);
    if (rrc != AS_OK) return rrc;
    size_t line = 0;
    int rc = ops->load(state, buf, len, &line);
    free(buf);
    if (rc != AS_OK)
        errf(r->err, r->errcap, "%s:%zu: not a valid %s table (%s)", path, line,
             ops->name, as_strerror(rc));
    return rc == AS_OK ? AS_OK : (rc == AS_ENOMEM ? rc : AS_EFORMAT);
}

static int save_pred(run_t *r)
{
    const char *path = r->cfg->predictor_save_path;
    const as_predictor_ops_t *ops;
    void *state;
    if (!pred_loader(&r->pred, &ops, &state, 1)) {
        errf(r->err, r->errcap, "predictor %s cannot save a table",
             r->pred.ops->name);
        return AS_EINVAL;
    }
    size_t need = ops->save(state, NULL, 0);
    char *buf = malloc(need + 1);
    if (!buf) return AS_ENOMEM;
    ops->save(state, buf, need + 1);
    as_outfile_t o;
    int rc = as_outfile_open(&o, path, r->err, r->errcap);
    if (rc == AS_OK) {
        int ok = fwrite(buf, 1, need, o.f) == need;
        rc = as_outfile_close(&o, ok, r->err, r->errcap);
        if (!ok && rc == AS_OK) {
            errf(r->err, r->errcap, "%s: cannot write", path);
            rc = AS_EIO;
        }
    }
    free(buf);
    return rc;
}

static void accuracy(const uint64_t m[AS_MAX_CLASSES][AS_MAX_CLASSES],
                     uint32_t n, double *out)
{
    uint64_t ok = 0, all = 0;
    for (uint32_t p = 0; p < n; p++)
        for (uint32_t a = 0; a < n; a++) {
            all += m[p][a];
            if (p == a) ok += m[p][a];
        }
    *out = all ? (double)ok / (double)all : 0;
}

/* "where" of a site: its three innermost frames, each as its symbol, else
 * module+offset, else the pc. The names come from the trace, so the text is
 * passed through as_escape (summaries get printed; no escape sequence or
 * invalid UTF-8, not even a UTF-8 sequence cut at the end of buf). */
static void site_where(run_t *r, uint32_t stack, char *out, size_t out_cap)
{
    const uint32_t *frames;
    uint32_t depth;
    char buf[1024];
    size_t cap = sizeof buf;
    buf[0] = 0;
    out[0] = 0;
    if (!stack || as_trace_reader_stack(r->reader, stack, &frames, &depth))
        return;
    size_t off = 0;
    for (uint32_t i = 0; i < depth && i < 3 && off + 1 < cap; i++) {
        as_frame_t f;
        if (as_trace_reader_frame(r->reader, frames[i], &f) != AS_OK) continue;
        const char *mod = f.module ? strrchr(f.module, '/') : NULL;
        mod = mod ? mod + 1 : f.module;
        int w =
            f.symbol && f.symbol[0] ? snprintf(buf + off, cap - off, "%s%s",
                                               i ? " < " : "", f.symbol)
            : mod && mod[0]
                ? snprintf(buf + off, cap - off, "%s%s+0x%llx", i ? " < " : "",
                           mod, (unsigned long long)f.offset)
                : snprintf(buf + off, cap - off, "%s0x%llx", i ? " < " : "",
                           (unsigned long long)f.pc);
        if (w < 0) break;
        off += (size_t)w;
    }
    as_escape(out, out_cap, buf, strlen(buf));
}

/* Keep the AS_TOP_SITES sites with the most mispredicted bytes (ties: more
 * mispredicted allocations, then the lower stack id: deterministic). */
static void top_sites(run_t *r)
{
    as_run_result_t *res = r->res;
    res->n_top_sites = 0;
    for (uint32_t id = 0; id < r->n_sites; id++) {
        const site_count_t *c = &r->sites[id];
        if (!c->mis_bytes && !c->mis_allocs) continue;
        size_t k = res->n_top_sites;
        while (k > 0) {
            const as_site_report_t *t = &res->top_sites[k - 1];
            if (t->mispredicted_bytes > c->mis_bytes ||
                (t->mispredicted_bytes == c->mis_bytes &&
                 t->mispredicted_allocs >= c->mis_allocs))
                break;
            k--;
        }
        if (k >= AS_TOP_SITES) continue;
        size_t last = res->n_top_sites < AS_TOP_SITES ? res->n_top_sites
                                                      : AS_TOP_SITES - 1;
        memmove(&res->top_sites[k + 1], &res->top_sites[k],
                (last - k) * sizeof res->top_sites[0]);
        res->top_sites[k].stack = id;
        res->top_sites[k].mispredicted_bytes = c->mis_bytes;
        res->top_sites[k].mispredicted_allocs = c->mis_allocs;
        res->top_sites[k].bytes = c->bytes;
        res->top_sites[k].allocs = c->allocs;
        if (res->n_top_sites < AS_TOP_SITES) res->n_top_sites++;
    }
    for (size_t i = 0; i < res->n_top_sites; i++)
        site_where(r, res->top_sites[i].stack, res->top_sites[i].where,
                   sizeof res->top_sites[i].where);
}

static double wall_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void run_destroy(run_t *r)
{
    pred_inst_t *ps[2] = {&r->pred, &r->shadow};
    for (int i = 0; i < 2; i++) {
        if (ps[i]->state) ps[i]->ops->destroy(ps[i]->state);
        if (ps[i]->inner_state) ps[i]->inner->destroy(ps[i]->inner_state);
    }
    free(r->sites);
    free(r->pol_sample.v);
    if (r->pol_state) r->pol->destroy(r->pol_state);
    if (r->os) as_simos_destroy(r->os);
    if (r->reader) as_trace_reader_close(r->reader);
    as_livemap_destroy(&r->live);
    for (uint32_t i = 0; i < r->stack_pcs_n; i++)
        free(r->stack_pcs[i]);
    free(r->stack_pcs);
    free(r->oracle);
}

int as_engine_run(const as_run_config_t *cfg, as_run_result_t *res, char *err,
                  size_t errcap)
{
    double w0 = wall_now();
    memset(res, 0, sizeof *res);
    run_t r;
    memset(&r, 0, sizeof r);
    r.cfg = cfg;
    r.res = res;
    r.err = err;
    r.errcap = errcap;
    err[0] = 0;
    part_params_t *parts = calloc(6, sizeof *parts);
    as_event_t *ev = malloc(BATCH * sizeof *ev);
    int rc = (parts && ev) ? AS_OK : AS_ENOMEM;
    size_t nparts = 0;
    if (rc == AS_OK) rc = setup_parts(&r, parts, &nparts);
    if (rc != AS_OK) goto out;
    if (cfg->classes.n < 1 || cfg->classes.n > AS_MAX_CLASSES) {
        errf(err, errcap, "bad lifetime classes");
        rc = AS_EINVAL;
        goto out;
    }
    res->n_classes = cfg->classes.n;

    rc = as_trace_reader_open(&r.reader, cfg->trace_path);
    if (rc != AS_OK) {
        if (r.reader)
            trace_err(&r, rc);
        else
            errf(err, errcap, "%s: cannot open: %s", cfg->trace_path,
                 as_strerror(rc));
        goto out;
    }

    if ((rc = as_trace_reader_hash(r.reader, res->trace_hash)) != AS_OK) {
        trace_err(&r, rc);
        goto out;
    }

    /* The simulated OS with the resolved "os" parameters. */
    as_simos_config_t oscfg = cfg->os;
    part_params_t *osp = &parts[nparts - 1];
    oscfg.thp = (as_thp_mode_t)osp->values[OS_THP].u;
    oscfg.khugepaged = (int)osp->values[OS_KHUGEPAGED].u;
    oscfg.max_ptes_none = (uint32_t)osp->values[OS_MAX_PTES_NONE].u;
    oscfg.scan_interval_ns = osp->values[OS_SCAN_INTERVAL].u;
    oscfg.scan_regions = (uint32_t)osp->values[OS_SCAN_REGIONS].u;
    if ((rc = as_simos_create(&oscfg, &r.os)) != AS_OK) goto out;
    r.ps = as_simos_pagesource(r.os);

    /* Predictors. The primary one's tables count as allocator metadata (a
     * real allocator would carry them); the shadow's live in host memory. */
    static const as_mem_t host = {host_alloc, host_free, NULL};
    if ((rc = create_pred(&r, &r.pred, parts, &r.ps->meta)) != AS_OK) goto out;
    if (r.shadow.ops &&
        (rc = create_pred(&r, &r.shadow, parts, &host)) != AS_OK)
        goto out;
    if (cfg->predictor_load_path && (rc = load_pred(&r)) != AS_OK) goto out;
    int needs_oracle =
        r.pred.ops->needs_oracle ||
        (r.pred.inner && r.pred.inner->needs_oracle) ||
        (r.shadow.ops && (r.shadow.ops->needs_oracle ||
                          (r.shadow.inner && r.shadow.inner->needs_oracle)));
    if (needs_oracle && (rc = oracle_prepass(&r)) != AS_OK) goto out;

    /* Policy, behind the checking layer when asked. */
    as_policy_config_t polcfg = {.ps = r.ps,
                                 .params = parts[0].values,
                                 .n_classes = cfg->classes.n,
                                 .class_bounds_ns = cfg->classes.bound_ns};
    if (cfg->check) {
        rc = as_check_wrap(r.pol, &polcfg, &host, &r.check_ops, &r.pol_state);
        if (rc == AS_OK) {
            r.pol = &r.check_ops;
            r.check_state = r.pol_state;
        }
    } else {
        rc = r.pol->create(&polcfg, &r.pol_state);
    }
    if (rc != AS_OK) {
        errf(err, errcap, "policy %s: create failed: %s", r.pol->name,
             as_strerror(rc));
        r.pol_state = NULL;
        goto out;
    }
    if (cfg->stats_layer) {
        void *st;
        if ((rc = as_stats_wrap_instance(r.pol, r.pol_state, &host,
                                         &r.stats_ops, &st)) != AS_OK)
            goto out;
        r.pol = &r.stats_ops;
        r.pol_state = st;
    }
    if ((rc = as_livemap_init(&r.live, 1024)) != AS_OK) goto out;

    /* Timers. */
    size_t nchunks = as_trace_reader_chunk_count(r.reader);
    const as_trace_chunk_info_t *ch = as_trace_reader_chunks(r.reader);
    uint64_t total_events = 0, span = 0;
    for (size_t i = 0; i < nchunks; i++)
        total_events += ch[i].events;
    if (nchunks) span = ch[nchunks - 1].last_t_ns - ch[0].first_t_ns;
    r.sample_ns = cfg->sample_interval_ns ? cfg->sample_interval_ns
                  : span >= 1000          ? span / 1000
                                          : 10000000;
    r.khp_ns = oscfg.scan_interval_ns;
    as_metrics_init(&r.metrics);
    if (cfg->series) write_series_header(cfg->series);

    long got;
    int first = 1;
    while ((got = as_trace_reader_next_batch(r.reader, ev, BATCH)) > 0) {
        for (long i = 0; i < got; i++) {
            const as_event_t *e = &ev[i];
            if (i + PREFETCH_AHEAD < got) {
                const as_event_t *a = &ev[i + PREFETCH_AHEAD];
                as_livemap_prefetch(&r.live, a->object);
                if (a->kind == AS_EV_REALLOC)
                    as_livemap_prefetch(&r.live, a->new_object);
            }
            if (first) {
                first = 0;
                r.t_first = e->t_ns;
                as_ctx_t ctx = {.now_ns = e->t_ns,
                                .lifetime_class = AS_CLASS_NONE};
                uint64_t next =
                    r.pol->tick ? r.pol->tick(r.pol_state, &ctx) : 0;
                r.next_tick = next ? e->t_ns + next : UINT64_MAX;
                r.next_sample = e->t_ns;
                r.next_khp = (oscfg.khugepaged && oscfg.thp != AS_THP_NEVER)
                                 ? e->t_ns + r.khp_ns
                                 : UINT64_MAX;
            }
            if ((rc = run_timers(&r, e->t_ns)) != AS_OK) goto out;
            r.t_now = e->t_ns;
            if ((rc = do_event(&r, e)) != AS_OK) {
                if (rc == AS_ENOMEM)
                    errf(err, errcap, "out of memory at event %llu",
                         (unsigned long long)res->events);
                goto out;
            }
            res->events++;
            as_sample_t s;
            sample_now(&r, &s, e->t_ns);
            as_metrics_update(&r.metrics, &s);
        }
        /* every time the event count crosses a multiple of 2^20 */
        uint64_t done = res->events;
        if (cfg->progress && (done >> 20) != ((done - (uint64_t)got) >> 20))
            cfg->progress(cfg->progress_arg, done, total_events);
    }
    if (got < 0) {
        rc = trace_err(&r, (int)got);
        goto out;
    }
    /* End of trace: the last sample, outcomes of objects never freed. */
    write_series_row(&r, r.t_now);
    as_metrics_finish(&r.metrics, r.t_now, &res->metrics);
    for (uint64_t i = 0; i <= r.live.mask; i++) {
        const as_live_t *o = &r.live.slots[i];
        if (o->used && !(o->flags & AS_LIVE_FAILED)) observe(&r, o, r.t_now, 0);
    }
    res->objects = r.next_object;
    res->duration_ns = res->metrics.duration_ns;
    res->os = *as_simos_counters(r.os);
    accuracy(res->confusion_allocs, res->n_classes, &res->accuracy_by_allocs);
    accuracy(res->confusion_bytes, res->n_classes, &res->accuracy_by_bytes);
    if (r.shadow.ops) {
        res->has_shadow = 1;
        accuracy(res->shadow_confusion_allocs, res->n_classes,
                 &res->shadow_accuracy_by_allocs);
        accuracy(res->shadow_confusion_bytes, res->n_classes,
                 &res->shadow_accuracy_by_bytes);
    }
    top_sites(&r);
    if (cfg->predictor_save_path && (rc = save_pred(&r)) != AS_OK) goto out;
    stat_sink_t sink = {0};
    sink.prefix = "policy.";
    if (r.pol->stats) r.pol->stats(r.pol_state, stat_put, &sink);
    sink.prefix = "predictor.";
    if (r.pred.ops->stats) r.pred.ops->stats(r.pred.state, stat_put, &sink);
    if (r.pred.inner && r.pred.inner->stats) {
        sink.prefix = "predictor.inner.";
        r.pred.inner->stats(r.pred.inner_state, stat_put, &sink);
    }
    if (r.shadow.ops && r.shadow.ops->stats) {
        sink.prefix = "shadow.";
        r.shadow.ops->stats(r.shadow.state, stat_put, &sink);
    }
    res->stats = sink.v;
    res->n_stats = sink.n;
    if (as_trace_reader_truncated(r.reader)) {
        res->warn_truncated = 1;
        snprintf(res->truncation, sizeof res->truncation, "%s",
                 as_trace_reader_error(r.reader));
    }
    /* With the checking layer on: the policy must give back every
     * reservation and metadata byte when destroyed. */
    if (cfg->check && as_check_close(r.check_state) != AS_OK) {
        errf(err, errcap, "policy %s: %s", r.pol->name,
             as_check_last_error(r.check_state));
        rc = AS_ECHECK;
        goto out;
    }
    res->wall_s = wall_now() - w0;
out:
    run_destroy(&r);
    free(parts);
    free(ev);
    if (rc != AS_OK && !err[0])
        errf(err, errcap, "%s: %s", cfg->trace_path ? cfg->trace_path : "",
             as_strerror(rc));
    if (rc != AS_OK) as_run_result_free(res);
    return rc;
}

void as_run_result_free(as_run_result_t *res)
{
    free(res->stats);
    res->stats = NULL;
    res->n_stats = 0;
}

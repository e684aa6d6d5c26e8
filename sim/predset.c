/* predset.c - the predictors of one run (see predset.h).
 *
 * Owns the predictor instances (primary, its inner one, shadow, the shadow's
 * inner one) and the frames' names of the current context; the stacks
 * (stackdefs.h) and the oracle's table (oracle.h) are the engine's. It
 * never sees the
 * policy or the outcome tables: the engine asks it for classes and tells it
 * outcomes, and the outcome accounting (outcomes.c) counts them.
 */
#include "sim/predset.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "sim/fileio.h"

/* One predictor instance, possibly a wrapper with its inner predictor;
 * `part` and `inner_part` index the run's parameter parts. */
typedef struct {
    const as_predictor_ops_t *ops, *inner; /* ops NULL: absent */
    void *state, *inner_state;
    int part, inner_part;
} pred_inst_t;

struct as_predset {
    const as_classes_t *classes;
    as_trace_reader_t *reader;
    pred_inst_t pred;           /* places objects */
    pred_inst_t shadow;         /* counterfactual only (ops NULL: none) */
    as_oracle_cursor_t *oracle; /* reads the true classes (NULL: none) */
    as_stackdefs_view_t stacks; /* the stacks of the current batch */
    int symbols;                /* a predictor needs the frames' names */
    const char **names;         /* symbols then modules of the current context
                             (2 * names_cap; looked up per context, since a
                             trace may redefine a frame) */
    uint64_t *offsets;          /* their offsets (names_cap) */
    uint32_t names_cap;
};

static void errf(char *err, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, cap, fmt, ap);
    va_end(ap);
}

/* Find a predictor from its spec ("name" or "wrapper:inner"; a wrapper
 * without an inner wraps `none`) and add its parameter parts. */
static int resolve_one(const char *spec, const char *inner_name, pred_inst_t *p,
                       as_run_params_t *rp, char *err, size_t cap)
{
    as_msg_t why;
    as_msg_init(&why, err, cap);
    int rc = as_predictor_resolve(spec, inner_name, &p->ops, &p->inner, &why);
    if (rc != AS_OK) {
        p->ops = p->inner = NULL;
        return rc;
    }
    rc = as_run_params_add(rp, p->ops->name, p->ops->params, p->ops->n_params,
                           &p->part, err, cap);
    p->inner_part = -1;
    if (rc == AS_OK && p->inner)
        rc = as_run_params_add(rp, p->inner->name, p->inner->params,
                               p->inner->n_params, &p->inner_part, err, cap);
    return rc;
}

int as_predset_resolve(as_predset_t **out, const as_predset_spec_t *spec,
                       as_run_params_t *rp, char *err, size_t cap)
{
    as_predset_t *ps = calloc(1, sizeof *ps);
    *out = ps;
    if (!ps) return AS_ENOMEM;
    ps->classes = spec->classes;
    int rc = resolve_one(spec->predictor ? spec->predictor : "none",
                         spec->inner, &ps->pred, rp, err, cap);
    if (rc == AS_OK && spec->shadow)
        rc = resolve_one(spec->shadow, NULL, &ps->shadow, rp, err, cap);
    if (rc != AS_OK) ps->pred.ops = ps->shadow.ops = NULL;
    const pred_inst_t *all[2] = {&ps->pred, &ps->shadow};
    for (int i = 0; i < 2; i++)
        if (all[i]->ops && (all[i]->ops->needs_symbols ||
                            (all[i]->inner && all[i]->inner->needs_symbols)))
            ps->symbols = 1;
    return rc;
}

static int create_one(as_predset_t *ps, pred_inst_t *p,
                      const as_run_params_t *rp, const as_mem_t *mem, char *err,
                      size_t cap)
{
    int rc;
    if (p->inner) {
        as_predictor_config_t ic = {.classes = ps->classes,
                                    .params =
                                        as_run_params_values(rp, p->inner_part),
                                    .mem = mem};
        if ((rc = p->inner->create(&ic, &p->inner_state)) != AS_OK) {
            errf(err, cap, "predictor %s: create failed: %s", p->inner->name,
                 as_strerror(rc));
            p->inner_state = NULL;
            return rc;
        }
    }
    as_predictor_config_t pc = {.classes = ps->classes,
                                .params = as_run_params_values(rp, p->part),
                                .mem = mem,
                                .inner_ops = p->inner,
                                .inner_state = p->inner_state};
    if ((rc = p->ops->create(&pc, &p->state)) != AS_OK) {
        errf(err, cap, "predictor %s: create failed: %s", p->ops->name,
             as_strerror(rc));
        p->state = NULL;
    }
    return rc;
}

int as_predset_create(as_predset_t *ps, const as_run_params_t *rp,
                      const as_mem_t *meta, const as_mem_t *host,
                      as_trace_reader_t *reader, char *err, size_t cap)
{
    ps->reader = reader;
    int rc = create_one(ps, &ps->pred, rp, meta, err, cap);
    if (rc == AS_OK && ps->shadow.ops)
        rc = create_one(ps, &ps->shadow, rp, host, err, cap);
    return rc;
}

/* The predictor that takes a trained table: the primary one, or the
 * predictor it wraps when only that one can load (save). */
static int table_owner(const pred_inst_t *p, const as_predictor_ops_t **ops,
                       void **state, int saving)
{
    if (saving ? p->ops->save != NULL
               : (p->ops->load != NULL || p->ops->load_bytes != NULL)) {
        *ops = p->ops;
        *state = p->state;
        return 1;
    }
    if (p->inner &&
        (saving ? p->inner->save != NULL
                : (p->inner->load != NULL || p->inner->load_bytes != NULL))) {
        *ops = p->inner;
        *state = p->inner_state;
        return 1;
    }
    return 0;
}

int as_predset_load(as_predset_t *ps, const char *path, char *err, size_t cap)
{
    const as_predictor_ops_t *ops;
    void *state;
    if (!table_owner(&ps->pred, &ops, &state, 0)) {
        errf(err, cap, "predictor %s cannot load a trained table",
             ps->pred.ops->name);
        return AS_EINVAL;
    }
    char *buf;
    size_t len;
    int rrc = as_file_read_all(path, &buf, &len, err, cap);
    if (rrc != AS_OK) return rrc;
    if (ops->load_bytes) {
        size_t off = 0;
        const char *what = "not a valid model";
        int rc = ops->load_bytes(state, buf, len, &off, &what);
        free(buf);
        if (rc != AS_OK)
            errf(err, cap, "%s: offset %zu: %s (%s model)", path, off, what,
                 ops->name);
        return rc == AS_OK ? AS_OK : (rc == AS_ENOMEM ? rc : AS_EFORMAT);
    }
    size_t line = 0;
    int rc = ops->load(state, buf, len, &line);
    free(buf);
    if (rc != AS_OK)
        errf(err, cap, "%s:%zu: not a valid %s table (%s)", path, line,
             ops->name, as_strerror(rc));
    return rc == AS_OK ? AS_OK : (rc == AS_ENOMEM ? rc : AS_EFORMAT);
}

int as_predset_save(as_predset_t *ps, const char *path, char *err, size_t cap)
{
    const as_predictor_ops_t *ops;
    void *state;
    if (!table_owner(&ps->pred, &ops, &state, 1)) {
        errf(err, cap, "predictor %s cannot save a table", ps->pred.ops->name);
        return AS_EINVAL;
    }
    size_t need = ops->save(state, NULL, 0);
    char *buf = malloc(need + 1);
    if (!buf) return AS_ENOMEM;
    ops->save(state, buf, need + 1);
    as_outfile_t o;
    int rc = as_outfile_open(&o, path, err, cap);
    if (rc == AS_OK) {
        int ok = fwrite(buf, 1, need, o.f) == need;
        rc = as_outfile_close(&o, ok, err, cap);
        if (!ok && rc == AS_OK) {
            errf(err, cap, "%s: cannot write", path);
            rc = AS_EIO;
        }
    }
    free(buf);
    return rc;
}

static int needs_oracle(const pred_inst_t *p)
{
    return p->ops &&
           (p->ops->needs_oracle || (p->inner && p->inner->needs_oracle));
}

int as_predset_needs_oracle(const as_predset_t *ps)
{
    return needs_oracle(&ps->pred) || needs_oracle(&ps->shadow);
}

int as_predset_use_oracle(as_predset_t *ps, const as_oracle_t *o)
{
    if (!ps->oracle && !(ps->oracle = malloc(sizeof *ps->oracle)))
        return AS_ENOMEM;
    as_oracle_cursor_init(ps->oracle, o);
    return AS_OK;
}

int as_predset_oracle_error(const as_predset_t *ps)
{
    return ps->oracle ? ps->oracle->err : AS_OK;
}

/* The pcs, frame ids and depth of a stack, from the engine's copy. */
static const uint64_t *stack_pcs(const as_predset_t *ps, uint32_t stack,
                                 uint32_t *depth, const uint32_t **frames)
{
    const as_stackdef_t *d = as_stackdefs_get(&ps->stacks, stack);
    *depth = d ? d->depth : 0;
    *frames = d ? d->frames : NULL;
    return d ? d->pcs : NULL;
}

/* The frames' symbols and modules for a predictor that reads them. */
static void frame_names(as_predset_t *ps, as_pred_ctx_t *pc)
{
    pc->symbols = pc->modules = NULL;
    pc->offsets = NULL;
    if (!pc->depth || !pc->frames) return;
    if (pc->depth > ps->names_cap) {
        const char **nn =
            realloc(ps->names, 2 * (size_t)pc->depth * sizeof *nn);
        if (!nn) return;
        ps->names = nn;
        uint64_t *no = realloc(ps->offsets, (size_t)pc->depth * sizeof *no);
        if (!no) return;
        ps->offsets = no;
        ps->names_cap = pc->depth;
    }
    for (uint32_t i = 0; i < pc->depth; i++) {
        as_frame_t f;
        int ok = as_trace_reader_frame(ps->reader, pc->frames[i], &f) == AS_OK;
        ps->names[i] = ok ? f.symbol : "";
        ps->names[ps->names_cap + i] = ok ? f.module : "";
        ps->offsets[i] = ok ? f.offset : 0;
    }
    pc->symbols = ps->names;
    pc->modules = ps->names + ps->names_cap;
    pc->offsets = ps->offsets;
}

/* The context of q; true_class is what an oracle is told. */
static void pred_ctx(as_predset_t *ps, as_pred_ctx_t *pc,
                     const as_pred_query_t *q, int32_t true_class)
{
    pc->object = q->object;
    pc->now_ns = q->now_ns;
    pc->size = q->size;
    pc->thread = q->thread;
    pc->cpu = q->cpu;
    pc->stack = q->stack;
    pc->stack_height = q->stack_height;
    pc->pcs = stack_pcs(ps, q->stack, &pc->depth, &pc->frames);
    pc->symbols = pc->modules = NULL;
    pc->offsets = NULL;
    pc->frame_keys = NULL; /* sitetab names the frames from the above */
    if (ps->symbols) frame_names(ps, pc);
    pc->true_class = true_class;
    pc->fill = NULL; /* the frames are all here */
    pc->fill_arg = NULL;
}

static int32_t predict_one(const as_predset_t *ps, const pred_inst_t *p,
                           const as_pred_ctx_t *pc)
{
    int32_t cls = p->ops->predict(p->state, pc);
    if (cls == AS_CLASS_NONE) return cls;
    if (cls < 0 || (uint32_t)cls >= ps->classes->n)
        cls = (int32_t)ps->classes->n - 1;
    return cls;
}

void as_predset_predict(as_predset_t *ps, const as_pred_query_t *q,
                        int32_t *predicted, int32_t *shadow)
{
    as_pred_ctx_t pc;
    pred_ctx(ps, &pc, q,
             ps->oracle ? as_oracle_cursor_class(ps->oracle, q->object)
                        : AS_CLASS_UNKNOWN);
    *predicted = predict_one(ps, &ps->pred, &pc);
    *shadow = ps->shadow.ops ? predict_one(ps, &ps->shadow, &pc) : -1;
}

static void observe_one(const pred_inst_t *p, const as_pred_ctx_t *pc,
                        int32_t predicted, uint64_t life, uint32_t actual)
{
    as_pred_outcome_t out = {.lifetime_ns = life,
                             .actual_class = actual,
                             .predicted_class = predicted};
    p->ops->observe(p->state, pc, &out);
}

void as_predset_observe(as_predset_t *ps, const as_pred_query_t *q,
                        uint64_t life, uint32_t actual, int32_t predicted,
                        int32_t shadow)
{
    int main_learns = ps->pred.ops->observe != NULL;
    int shadow_learns =
        ps->shadow.ops && shadow >= 0 && ps->shadow.ops->observe;
    if (!main_learns && !shadow_learns) return;
    /* One context for both. At its outcome an object's true class is the
     * actual one (the pre-pass computed it from the same lifetime). */
    as_pred_ctx_t pc;
    pred_ctx(ps, &pc, q, ps->oracle ? (int32_t)actual : AS_CLASS_UNKNOWN);
    if (main_learns) observe_one(&ps->pred, &pc, predicted, life, actual);
    if (shadow_learns) observe_one(&ps->shadow, &pc, shadow, life, actual);
}

void as_predset_set_stacks(as_predset_t *ps, const as_stackdefs_view_t *v)
{
    ps->stacks = *v;
}

int as_predset_needs_symbols(const as_predset_t *ps)
{
    return ps->symbols;
}

int as_predset_has_shadow(const as_predset_t *ps)
{
    return ps->shadow.ops != NULL;
}

void as_predset_stats(const as_predset_t *ps, as_stat_list_t *list)
{
    const pred_inst_t *p = &ps->pred;
    list->prefix = "predictor.";
    if (p->ops->stats) p->ops->stats(p->state, as_stat_list_put, list);
    if (p->inner && p->inner->stats) {
        list->prefix = "predictor.inner.";
        p->inner->stats(p->inner_state, as_stat_list_put, list);
    }
    if (ps->shadow.ops && ps->shadow.ops->stats) {
        list->prefix = "shadow.";
        ps->shadow.ops->stats(ps->shadow.state, as_stat_list_put, list);
    }
}

void as_predset_destroy(as_predset_t *ps)
{
    if (!ps) return;
    pred_inst_t *all[2] = {&ps->pred, &ps->shadow};
    for (int i = 0; i < 2; i++) {
        if (all[i]->state) all[i]->ops->destroy(all[i]->state);
        if (all[i]->inner_state) all[i]->inner->destroy(all[i]->inner_state);
    }
    free(ps->names);
    free(ps->offsets);
    free(ps->oracle);
    free(ps);
}

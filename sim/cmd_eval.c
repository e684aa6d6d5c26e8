/* cmd_eval.c - `allocsim eval --predictor P [--model MODEL] [--train
 * TRACE]... TRACE...`: how well a lifetime predictor does on traces it did
 * not learn from, next to oracle, site and none, with its cost.
 *
 * Every allocation of the test traces (sim/lifewalk.c) is put to each
 * predictor, frozen (no online learning: observe is never called), and
 * scored against the true class: accuracy weighted by allocations, by
 * bytes and per distinct context (its majority class), on the contexts
 * absent from the training traces, a confusion matrix, per-class precision
 * and recall. `site` (key=pcs, so that a table carries over between runs of
 * one binary) learns from the --train traces; without --model, the LSTM
 * is trained from them too and its training time is reported, and a
 * `sitetab` table is built from them (sim/sitetab_build.c). Timing:
 * CPU nanoseconds (of the thread, less the clock's own cost) per predict
 * call as made (the LSTM's are
 * uncached), and for `cached:lstm` a replay of the distinct contexts once
 * cached (hits). Text on stdout, or one JSON object with --json.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/error.h"
#include "common/lifetime.h"
#include "common/util.h"
#include "predictors/cached/cached.h"
#include "predictors/lstm/lstm.h"
#include "predictors/sitetab/sitetab.h"
#include "predictors/predictor.h"
#include "sim/cli.h"
#include "sim/fileio.h"
#include "sim/lifewalk.h"
#include "sim/lstmfit.h"
#include "sim/polstack.h"
#include "sim/sitetab_build.h"

enum {
    OPT_PREDICTOR = 50,
    OPT_MODEL,
    OPT_TRAIN,
    OPT_CACHED,
    OPT_JSON,
    OPT_QUIET
};

static const as_opt_t eval_opts[] = {
    AS_OPT_ROW_TEXT(OPT_PREDICTOR, "predictor", 0, "P",
                    "the predictor to score (default lstm; also\n"
                    "cached:lstm, site, oracle, ...)"),
    AS_OPT_ROW_TEXT(OPT_MODEL, "model", 0, "MODEL",
                    "the lstm model or sitetab table (allocsim train);\n"
                    "without it the model is trained (the table built,\n"
                    "8 frames) from the --train traces"),
    AS_OPT_ROW_TEXT(OPT_TRAIN, "train", 0, "TRACE",
                    "a training trace for site (and lstm); repeatable"),
    AS_OPT_ROW_TEXT(OPT_CACHED, "cached", 0, "NAME=VALUE",
                    "a parameter of the cached column (key=height,\n"
                    "per_thread=1, capacity=4096, ...); repeatable"),
    AS_OPT_ROW_FLAG(OPT_JSON, "json", 0, "one JSON object instead of text"),
    AS_OPT_ROW_FLAG(OPT_QUIET, "quiet", 'q', "no progress"),
    {0},
};

const as_opt_t *const as_cmd_eval_opts[] = {eval_opts, as_lstm_train_opts,
                                            NULL};

static void usage(FILE *f)
{
    fprintf(f, "usage: allocsim eval [--predictor P] [--model MODEL] [--train "
               "TRACE]... TRACE...\n\n"
               "Score a lifetime predictor on the allocations of TRACE... "
               "(frozen: it learns\nnothing from them) next to oracle, site "
               "(learned from the --train traces)\nand none: accuracy by "
               "allocations, bytes and distinct contexts, on contexts\nthe "
               "training traces never showed, confusion matrix, per-class "
               "precision and\nrecall, nanoseconds per prediction, model size, "
               "training time.\n");
    as_opts_help(f, as_cmd_eval_opts);
}

/* CPU seconds of this thread (a shared machine's other work does not
 * count); each reading costs clock_overhead_s, taken off per call. */
static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double clock_overhead_s;

static void calibrate_clock(void)
{
    double t0 = now_s(), x = 0;
    for (int i = 0; i < 1000; i++)
        x += now_s() - now_s();
    (void)x;
    clock_overhead_s = (now_s() - t0) / 1000;
}

/* ------------------------------------------------------------ columns */

#define MAX_COLS 6

typedef struct {
    char name[64];
    const as_predictor_ops_t *ops, *inner;
    void *state, *inner_state;
    as_param_value_t vals[16], ivals[16];
    /* scores */
    double n, right, bytes, right_bytes, unpredicted;
    double unseen, unseen_right;
    double conf[AS_MAX_CLASSES][AS_MAX_CLASSES]; /* [true][predicted] */
    double ns, calls;
    double ctx_right;
} col_t;

static int make_col(col_t *c, const char *spec, const as_classes_t *cl,
                    const char *const *assign, char *err, size_t cap)
{
    snprintf(c->name, sizeof c->name, "%s", spec);
    char outer[64];
    snprintf(outer, sizeof outer, "%s", spec);
    char *colon = strchr(outer, ':');
    if (colon) *colon = 0;
    c->ops = as_predictor_find(outer);
    if (c->ops && c->ops->wraps)
        c->inner = as_predictor_find(colon ? colon + 1 : "none");
    if (!c->ops || (c->ops->wraps && (!c->inner || c->inner->wraps)) ||
        (!c->ops->wraps && colon)) {
        snprintf(err, cap,
                 "unknown predictor '%s' (see allocsim --list "
                 "predictors)",
                 spec);
        return AS_ENOTFOUND;
    }
    const as_predictor_ops_t *parts[2] = {c->ops, c->inner};
    as_param_value_t *vals[2] = {c->vals, c->ivals};
    for (int k = 0; k < 2; k++) {
        if (!parts[k]) continue;
        if (parts[k]->n_params > 16) return AS_EINVAL;
        as_param_defaults(parts[k]->params, parts[k]->n_params, vals[k]);
        for (const char *const *a = assign; a && *a; a++) {
            size_t ln = strlen(parts[k]->name);
            if (!strncmp(*a, parts[k]->name, ln) && (*a)[ln] == '.')
                as_param_set(parts[k]->params, parts[k]->n_params, vals[k],
                             *a + ln + 1);
        }
    }
    int rc = AS_OK;
    if (c->inner) {
        as_predictor_config_t ic = {
            .classes = cl, .params = c->ivals, .mem = &as_host_mem};
        rc = c->inner->create(&ic, &c->inner_state);
    }
    as_predictor_config_t pc = {.classes = cl,
                                .params = c->vals,
                                .mem = &as_host_mem,
                                .inner_ops = c->inner,
                                .inner_state = c->inner_state};
    if (rc == AS_OK) rc = c->ops->create(&pc, &c->state);
    if (rc != AS_OK) snprintf(err, cap, "%s: create failed", spec);
    return rc;
}

static void destroy_col(col_t *c)
{
    if (c->state) c->ops->destroy(c->state);
    if (c->inner_state) c->inner->destroy(c->inner_state);
}

/* The lstm instance of a column (itself or its inner one), or NULL. */
static void *lstm_of(const col_t *c)
{
    if (c->ops == &as_predictor_lstm) return c->state;
    if (c->inner == &as_predictor_lstm) return c->inner_state;
    return NULL;
}

/* The sitetab instance of a column (itself or its inner one), or NULL. */
static void *sitetab_of(const col_t *c)
{
    if (c->ops == &as_predictor_sitetab) return c->state;
    if (c->inner == &as_predictor_sitetab) return c->inner_state;
    return NULL;
}

/* Load the site table of --model (or, without it, one built from the
 * --train traces over 8 frames, the builder's default) into every sitetab
 * column. @return -1, or the exit code of a failure (message printed). */
static int load_sitetab(col_t *cols, int ncols, const char *model,
                        const char **train, int n_train, const as_classes_t *cl,
                        size_t *file_bytes)
{
    int any = 0;
    for (int i = 0; i < ncols; i++)
        any |= sitetab_of(&cols[i]) != NULL;
    if (!any) return -1;
    char err[1024] = "";
    char *buf = NULL;
    size_t len = 0;
    if (model) {
        if (as_file_read_all(model, &buf, &len, err, sizeof err) != AS_OK) {
            as_cli_err("%s", err);
            return AS_EXIT_USAGE;
        }
    } else if (n_train) {
        as_sitetab_build_t b;
        int rc = as_sitetab_build(train, n_train, cl, 8, &b, err, sizeof err);
        if (rc != AS_OK) {
            as_cli_err("%s", err);
            return rc == AS_ENOMEM ? AS_EXIT_FAIL : AS_EXIT_USAGE;
        }
        buf = (char *)b.bytes;
        len = b.len;
    } else {
        as_cli_err("sitetab needs --model TABLE or --train TRACE");
        return AS_EXIT_USAGE;
    }
    *file_bytes = len;
    int ex = -1;
    for (int i = 0; ex < 0 && i < ncols; i++) {
        void *st = sitetab_of(&cols[i]);
        size_t off = 0;
        const char *what = "";
        if (st && as_predictor_sitetab.load_bytes(st, buf, len, &off, &what) !=
                      AS_OK) {
            as_cli_err("%s: offset %zu: %s (sitetab model)",
                       model ? model : "(built table)", off, what);
            ex = AS_EXIT_USAGE;
        }
    }
    free(buf);
    return ex;
}

/* ------------------------------------------------------------ contexts */

typedef struct {
    uint64_t key; /* 0 = empty slot */
    uint64_t size, pc0, height;
    uint32_t depth, stack, thread;
    uint32_t count[AS_MAX_CLASSES];
    int8_t pred[MAX_COLS];
} ectx_t;

typedef struct {
    ectx_t *e;
    uint64_t mask, n;
} ctxmap_t;

static ectx_t *ctx_get(ctxmap_t *m, uint64_t key, int *fresh)
{
    if (!key) key = 1;
    if (2 * (m->n + 1) > m->mask + 1) {
        uint64_t nm = m->mask ? 2 * m->mask + 1 : 1023;
        ectx_t *ne = calloc(nm + 1, sizeof *ne);
        if (!ne) return NULL;
        for (uint64_t i = 0; m->e && i <= m->mask; i++) {
            if (!m->e[i].key) continue;
            uint64_t s = as_hash64(m->e[i].key) & nm;
            while (ne[s].key)
                s = (s + 1) & nm;
            ne[s] = m->e[i];
        }
        free(m->e);
        m->e = ne;
        m->mask = nm;
    }
    uint64_t s = as_hash64(key) & m->mask;
    while (m->e[s].key && m->e[s].key != key)
        s = (s + 1) & m->mask;
    *fresh = !m->e[s].key;
    if (*fresh) {
        m->e[s].key = key;
        m->n++;
    }
    return &m->e[s];
}

/* ctx_has: @return 1 when key is in the map. */
static int ctx_has(const ctxmap_t *m, uint64_t key)
{
    if (!m->e) return 0;
    if (!key) key = 1;
    for (uint64_t s = as_hash64(key) & m->mask; m->e[s].key;
         s = (s + 1) & m->mask)
        if (m->e[s].key == key) return 1;
    return 0;
}

/* The key `site` (key=pcs) gives a context: a hash of its pcs. */
static uint64_t pcs_key(const as_pred_ctx_t *c)
{
    if (!c->depth || !c->pcs) return c->stack;
    uint64_t h = 0x9e3779b97f4a7c15ull ^ c->depth;
    for (uint32_t i = 0; i < c->depth; i++)
        h = as_hash64(h ^ c->pcs[i]);
    return h;
}

/* ------------------------------------------------------------ walks */

typedef struct {
    col_t *site;    /* learns from the training traces */
    ctxmap_t *seen; /* the site keys the training traces showed */
    int rc;
} train_arg_t;

static void train_one(void *arg, const as_lifewalk_alloc_t *a)
{
    train_arg_t *t = arg;
    if (t->rc != AS_OK) return;
    as_pred_ctx_t c = a->ctx;
    c.true_class = AS_CLASS_UNKNOWN;
    as_pred_outcome_t o = {.lifetime_ns = a->lifetime_ns,
                           .actual_class = a->cls};
    t->site->ops->observe(t->site->state, &c, &o);
    int fresh;
    if (!ctx_get(t->seen, pcs_key(&a->ctx), &fresh)) t->rc = AS_ENOMEM;
}

typedef struct {
    col_t *cols;
    int ncols;
    const as_classes_t *cl;
    const ctxmap_t *seen; /* NULL: no training traces */
    ctxmap_t *ctx;
    uint64_t trace_no;
    int rc;
} test_arg_t;

static void test_one(void *arg, const as_lifewalk_alloc_t *a)
{
    test_arg_t *t = arg;
    if (t->rc != AS_OK) return;
    int fresh;
    uint64_t key = as_hash64(as_hash64(t->trace_no * 0x10001 + a->ctx.stack) ^
                             a->ctx.size);
    ectx_t *e = ctx_get(t->ctx, key, &fresh);
    if (!e) {
        t->rc = AS_ENOMEM;
        return;
    }
    e->count[a->cls]++;
    int unseen = t->seen && !ctx_has(t->seen, pcs_key(&a->ctx));
    for (int i = 0; i < t->ncols; i++) {
        col_t *c = &t->cols[i];
        as_pred_ctx_t pc = a->ctx;
        if (!c->ops->needs_oracle && !(c->inner && c->inner->needs_oracle))
            pc.true_class = AS_CLASS_UNKNOWN;
        double t0 = now_s();
        int32_t p = c->ops->predict(c->state, &pc);
        double dt = now_s() - t0 - clock_overhead_s;
        c->ns += (dt > 0 ? dt : 0) * 1e9;
        c->calls++;
        if (p != AS_CLASS_NONE && (p < 0 || (uint32_t)p >= t->cl->n))
            p = (int32_t)t->cl->n - 1;
        if (fresh) {
            e->pred[i] = (int8_t)p;
            e->size = a->ctx.size;
            e->depth = a->ctx.depth;
            e->pc0 = a->ctx.depth && a->ctx.pcs ? a->ctx.pcs[0] : 0;
            e->height = a->ctx.stack_height;
            e->stack = a->ctx.stack;
            e->thread = a->ctx.thread;
        }
        double sz = (double)a->ctx.size;
        c->n++;
        c->bytes += sz;
        if (p == AS_CLASS_NONE) {
            c->unpredicted++;
        } else {
            c->conf[a->cls][p]++;
            if ((uint32_t)p == a->cls) {
                c->right++;
                c->right_bytes += sz;
            }
        }
        if (unseen) {
            c->unseen++;
            c->unseen_right += (uint32_t)p == a->cls;
        }
    }
}

/* ------------------------------------------------------------ output */

static double ratio(double a, double b)
{
    return b > 0 ? a / b : 0;
}

static void json_str(const char *s)
{
    putchar('"');
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p == '"' || *p == '\\')
            printf("\\%c", *p);
        else if (*p < 0x20)
            printf("\\u%04x", *p);
        else
            putchar(*p);
    putchar('"');
}

typedef struct {
    int trained;
    as_lstm_fit_t fit;
    size_t model_file, model_mem;
    double cached_hit_ns, cached_hit_rate, cached_replays;
    double cached_score_hit_rate; /* hits / lookups while scoring */
    double contexts;
} extra_t;

static void print_text(col_t *cols, int n, const as_classes_t *cl,
                       const extra_t *x, int has_train)
{
    printf("%-26s", "");
    for (int i = 0; i < n; i++)
        printf(" %12s", cols[i].name);
    printf("\n%-26s", "allocations");
    for (int i = 0; i < n; i++)
        printf(" %12.0f", cols[i].n);
    printf("\n%-26s", "accuracy (allocations)");
    for (int i = 0; i < n; i++)
        printf(" %12.4f", ratio(cols[i].right, cols[i].n));
    printf("\n%-26s", "accuracy (bytes)");
    for (int i = 0; i < n; i++)
        printf(" %12.4f", ratio(cols[i].right_bytes, cols[i].bytes));
    printf("\n%-26s", "accuracy (contexts)");
    for (int i = 0; i < n; i++)
        printf(" %12.4f", ratio(cols[i].ctx_right, x->contexts));
    if (has_train) {
        printf("\n%-26s", "unseen allocations");
        for (int i = 0; i < n; i++)
            printf(" %12.0f", cols[i].unseen);
        printf("\n%-26s", "accuracy (unseen)");
        for (int i = 0; i < n; i++)
            printf(" %12.4f", ratio(cols[i].unseen_right, cols[i].unseen));
    }
    printf("\n%-26s", "unpredicted");
    for (int i = 0; i < n; i++)
        printf(" %12.0f", cols[i].unpredicted);
    printf("\n%-26s", "ns per prediction");
    for (int i = 0; i < n; i++)
        printf(" %12.1f", ratio(cols[i].ns, cols[i].calls));
    printf("\n\nper class (allocation-weighted): recall / precision\n%-8s",
           "class");
    for (int i = 0; i < n; i++)
        printf(" %17s", cols[i].name);
    for (uint32_t k = 0; k < cl->n; k++) {
        printf("\n%-8u", k);
        for (int i = 0; i < n; i++) {
            double tp = cols[i].conf[k][k], real = 0, said = 0;
            for (uint32_t j = 0; j < cl->n; j++) {
                real += cols[i].conf[k][j];
                said += cols[i].conf[j][k];
            }
            printf("    %6.4f/%6.4f", ratio(tp, real), ratio(tp, said));
        }
    }
    printf("\n\nconfusion matrix of %s (rows: true class, columns: "
           "predicted)\n",
           cols[0].name);
    for (uint32_t k = 0; k < cl->n; k++) {
        printf("%-4u", k);
        for (uint32_t j = 0; j < cl->n; j++)
            printf(" %9.0f", cols[0].conf[k][j]);
        printf("\n");
    }
    if (x->model_file)
        printf("\nmodel          %zu bytes on file, %zu bytes in memory\n",
               x->model_file, x->model_mem);
    if (x->cached_replays > 0)
        printf("cached hit     %.1f ns per prediction (replay of %.0f "
               "contexts, hit rate %.4f); hit rate while scoring %.4f\n",
               x->cached_hit_ns, x->cached_replays, x->cached_hit_rate,
               x->cached_score_hit_rate);
    if (x->trained)
        printf("training       %.0f allocations, %u contexts, %u words; "
               "%.2f s reading, %.2f s training (CPU), %u epochs (best %u)\n",
               x->fit.allocs, x->fit.contexts, x->fit.vocab, x->fit.read_s,
               x->fit.train_s, x->fit.res.epochs_run, x->fit.res.best_epoch);
}

static void print_json(col_t *cols, int n, const as_classes_t *cl,
                       const extra_t *x, int has_train)
{
    printf("{\"classes\": %u, \"contexts\": %.0f, \"predictors\": [", cl->n,
           x->contexts);
    for (int i = 0; i < n; i++) {
        col_t *c = &cols[i];
        printf("%s{\"name\": ", i ? ", " : "");
        json_str(c->name);
        printf(", \"allocations\": %.0f, \"accuracy_allocations\": %.6f, "
               "\"accuracy_bytes\": %.6f, \"accuracy_contexts\": %.6f, ",
               c->n, ratio(c->right, c->n), ratio(c->right_bytes, c->bytes),
               ratio(c->ctx_right, x->contexts));
        if (has_train)
            printf("\"unseen_allocations\": %.0f, \"accuracy_unseen\": %.6f, ",
                   c->unseen, ratio(c->unseen_right, c->unseen));
        printf("\"unpredicted\": %.0f, \"ns_per_prediction\": %.1f, "
               "\"recall\": [",
               c->unpredicted, ratio(c->ns, c->calls));
        for (uint32_t k = 0; k < cl->n; k++) {
            double real = 0;
            for (uint32_t j = 0; j < cl->n; j++)
                real += c->conf[k][j];
            printf("%s%.6f", k ? ", " : "", ratio(c->conf[k][k], real));
        }
        printf("], \"precision\": [");
        for (uint32_t k = 0; k < cl->n; k++) {
            double said = 0;
            for (uint32_t j = 0; j < cl->n; j++)
                said += c->conf[j][k];
            printf("%s%.6f", k ? ", " : "", ratio(c->conf[k][k], said));
        }
        printf("], \"confusion\": [");
        for (uint32_t k = 0; k < cl->n; k++) {
            printf("%s[", k ? ", " : "");
            for (uint32_t j = 0; j < cl->n; j++)
                printf("%s%.0f", j ? ", " : "", c->conf[k][j]);
            printf("]");
        }
        printf("]}");
    }
    printf("], \"model_file_bytes\": %zu, \"model_mem_bytes\": %zu, "
           "\"cached_hit_ns\": %.1f, \"cached_hit_rate\": %.6f, "
           "\"cached_score_hit_rate\": %.6f",
           x->model_file, x->model_mem, x->cached_hit_ns, x->cached_hit_rate,
           x->cached_score_hit_rate);
    if (x->trained)
        printf(", \"training\": {\"allocations\": %.0f, \"contexts\": %u, "
               "\"vocab\": %u, \"read_seconds\": %.3f, \"train_seconds\": "
               "%.3f, \"epochs\": %u, \"best_epoch\": %u}",
               x->fit.allocs, x->fit.contexts, x->fit.vocab, x->fit.read_s,
               x->fit.train_s, x->fit.res.epochs_run, x->fit.res.best_epoch);
    printf("}\n");
}

/* ------------------------------------------------------------ command */

static void hit_stat(void *arg, const char *name, double v)
{
    double *h = arg;
    if (!strcmp(name, "cached_hits")) h[0] = v;
    if (!strcmp(name, "cached_lookups")) h[1] = v;
}

int as_cmd_eval(int argc, char **argv)
{
    as_lstm_fit_opts_t fo;
    as_lstm_fit_defaults(&fo);
    as_classes_t cl;
    as_classes_default(&cl);
    const char *pred = "lstm", *model = NULL;
    int json = 0, quiet = 0, c, n_test = 0, n_train = 0;
    const char **test = calloc((size_t)argc + 1, sizeof *test);
    const char **train = calloc((size_t)argc + 1, sizeof *train);
    /* the cached column's parameters: a table as large as every context,
     * no verification, then --cached's */
    char **cached_assign = calloc((size_t)argc + 3, sizeof *cached_assign);
    int n_cached = 0;
    if (!test || !train || !cached_assign) {
        free(test);
        free(train);
        free(cached_assign);
        return AS_EXIT_FAIL;
    }
    cached_assign[n_cached++] = strdup("cached.capacity=1048576");
    cached_assign[n_cached++] = strdup("cached.verify_every=0");
    as_opts_t p;
    as_opts_init(&p, "eval", as_cmd_eval_opts, argc, argv);
    int ex = -1;
    while (ex < 0 && (c = as_opts_next(&p)) != AS_OPT_END) {
        if (c == AS_OPT_ERROR) {
            ex = AS_EXIT_USAGE;
        } else if (c == AS_OPT_HELP) {
            usage(stdout);
            ex = AS_EXIT_OK;
        } else if (c == AS_OPT_ARG) {
            test[n_test++] = p.text;
        } else if (c == OPT_PREDICTOR) {
            pred = p.text;
        } else if (c == OPT_MODEL) {
            model = p.text;
        } else if (c == OPT_TRAIN) {
            train[n_train++] = p.text;
        } else if (c == OPT_CACHED) {
            as_param_value_t v[16];
            const as_predictor_ops_t *C = as_predictor_find("cached");
            as_param_defaults(C->params, C->n_params, v);
            char *a = malloc(strlen(p.text) + 8);
            if (a) sprintf(a, "cached.%s", p.text);
            if (!a ||
                as_param_set(C->params, C->n_params, v, p.text) != AS_OK) {
                as_cli_err("--cached %s: not a parameter of cached (see "
                           "allocsim --list predictors)",
                           p.text);
                free(a);
                ex = AS_EXIT_USAGE;
            } else {
                cached_assign[n_cached++] = a;
            }
        } else if (c == OPT_JSON) {
            json = 1;
        } else if (c == OPT_QUIET) {
            quiet = 1;
        } else if (as_lstm_train_opt(&fo, &cl, &p, c) == AS_OPT_ERROR) {
            ex = AS_EXIT_USAGE;
        }
    }
    if (ex < 0 && !n_test) {
        as_cli_err("expected TRACE... to score on (see allocsim eval --help)");
        ex = AS_EXIT_USAGE;
    }
    char err[1024] = "";
    col_t *cols = calloc(MAX_COLS, sizeof *cols);
    int ncols = 0;
    extra_t x;
    memset(&x, 0, sizeof x);
    static const char *const site_assign[] = {"site.key=pcs",
                                              "site.capacity=1048576", NULL};
    if (ex < 0 && !cols) ex = AS_EXIT_FAIL;
    /* the columns: P, cached:P when P is lstm, oracle, site, none */
    const char *specs[MAX_COLS];
    int nspecs = 0;
    specs[nspecs++] = pred;
    if (!strcmp(pred, "lstm")) specs[nspecs++] = "cached:lstm";
    const char *base[] = {"oracle", "site", "none"};
    for (int i = 0; i < 3; i++)
        if (strcmp(pred, base[i]) && (strcmp(base[i], "site") || n_train))
            specs[nspecs++] = base[i];
    for (int i = 0; ex < 0 && i < nspecs; i++) {
        int rc = make_col(&cols[ncols], specs[i], &cl,
                          strncmp(specs[i], "cached", 6)
                              ? site_assign
                              : (const char *const *)cached_assign,
                          err, sizeof err);
        if (rc != AS_OK) {
            as_cli_err("%s", err);
            ex = rc == AS_ENOTFOUND ? AS_EXIT_USAGE : AS_EXIT_FAIL;
        }
        ncols++;
    }
    int needs_model = 0;
    for (int i = 0; i < ncols; i++)
        needs_model |= lstm_of(&cols[i]) != NULL;
    /* the model: from --model, or trained from the --train traces */
    uint8_t *bytes = NULL;
    size_t len = 0;
    if (ex < 0 && needs_model) {
        if (model) {
            char *buf;
            if (as_file_read_all(model, &buf, &len, err, sizeof err) != AS_OK) {
                as_cli_err("%s", err);
                ex = AS_EXIT_USAGE;
            }
            bytes = (uint8_t *)buf;
        } else if (n_train) {
            fo.progress = !quiet && as_cli_progress_on();
            int rc =
                as_lstm_fit(train, n_train, &cl, &fo, &x.fit, err, sizeof err);
            if (rc != AS_OK) {
                as_cli_err("%s", rc == AS_ENOMEM ? "out of memory" : err);
                ex = rc == AS_ENOMEM ? AS_EXIT_FAIL : AS_EXIT_USAGE;
            }
            x.trained = 1;
            bytes = x.fit.model;
            len = x.fit.model_len;
        } else {
            as_cli_err("%s needs --model MODEL or --train TRACE", pred);
            ex = AS_EXIT_USAGE;
        }
    }
    for (int i = 0; ex < 0 && i < ncols; i++) {
        void *ls = lstm_of(&cols[i]);
        size_t off = 0;
        const char *what = "";
        if (ls && as_predictor_lstm.load_bytes(ls, bytes, len, &off, &what) !=
                      AS_OK) {
            as_cli_err("%s: offset %zu: %s", model ? model : "(trained model)",
                       off, what);
            ex = AS_EXIT_USAGE;
        }
        const as_lstm_model_t *m = ls ? as_lstm_predictor_model(ls) : NULL;
        if (m) {
            x.model_file = m->file_bytes;
            x.model_mem = m->mem_bytes;
        }
    }
    free(bytes);
    if (ex < 0)
        ex = load_sitetab(cols, ncols, model, train, n_train, &cl,
                          &x.model_file);
    /* site learns from the training traces */
    ctxmap_t seen = {0};
    for (int i = 0; ex < 0 && i < ncols; i++) {
        if (cols[i].ops != as_predictor_find("site")) continue;
        train_arg_t ta = {&cols[i], &seen, AS_OK};
        for (int k = 0; ex < 0 && k < n_train; k++) {
            if (!quiet && as_cli_progress_on())
                fprintf(stderr, "\r\033[Ksite learns %s", train[k]);
            int rc = as_lifewalk_trace(train[k], &cl, train_one, &ta, err,
                                       sizeof err);
            if (rc == AS_OK) rc = ta.rc;
            if (rc != AS_OK) {
                as_cli_err("%s", rc == AS_ENOMEM ? "out of memory" : err);
                ex = rc == AS_ENOMEM ? AS_EXIT_FAIL : AS_EXIT_USAGE;
            }
        }
    }
    /* score */
    calibrate_clock();
    ctxmap_t ctx = {0};
    test_arg_t ta = {cols, ncols, &cl, n_train ? &seen : NULL, &ctx, 0, AS_OK};
    for (int k = 0; ex < 0 && k < n_test; k++) {
        if (!quiet && as_cli_progress_on())
            fprintf(stderr, "\r\033[Kscoring %s", test[k]);
        ta.trace_no = (uint64_t)k;
        int rc =
            as_lifewalk_trace(test[k], &cl, test_one, &ta, err, sizeof err);
        if (rc == AS_OK) rc = ta.rc;
        if (rc != AS_OK) {
            as_cli_err("%s", rc == AS_ENOMEM ? "out of memory" : err);
            ex = rc == AS_ENOMEM ? AS_EXIT_FAIL : AS_EXIT_USAGE;
        }
    }
    if (!quiet && as_cli_progress_on()) fprintf(stderr, "\r\033[K");
    if (ex < 0) {
        x.contexts = (double)ctx.n;
        for (uint64_t s = 0; ctx.e && s <= ctx.mask; s++) {
            const ectx_t *e = &ctx.e[s];
            if (!e->key) continue;
            uint32_t maj = 0;
            for (uint32_t k = 1; k < cl.n; k++)
                if (e->count[k] >= e->count[maj]) maj = k;
            for (int i = 0; i < ncols; i++)
                cols[i].ctx_right += e->pred[i] == (int8_t)maj;
        }
        /* cached hits: replay every distinct context's key, from a
         * compact array made first (not timed) */
        as_pred_ctx_t *replay = ctx.n ? calloc(ctx.n, sizeof *replay) : NULL;
        size_t n_replay = 0;
        for (uint64_t s = 0; replay && s <= ctx.mask; s++) {
            const ectx_t *e = &ctx.e[s];
            if (!e->key) continue;
            replay[n_replay++] =
                (as_pred_ctx_t){.size = e->size,
                                .depth = e->depth,
                                .pcs = e->depth ? &e->pc0 : NULL,
                                .stack = e->stack,
                                .thread = e->thread,
                                .stack_height = e->height,
                                .true_class = AS_CLASS_UNKNOWN};
        }
        for (int i = 0; i < ncols; i++) {
            if (cols[i].ops != &as_predictor_cached) continue;
            double before[2] = {0, 0}, after[2] = {0, 0};
            cols[i].ops->stats(cols[i].state, hit_stat, before);
            x.cached_score_hit_rate = ratio(before[0], before[1]);
            double t0 = now_s(), calls = 0;
            for (int round = 0; round < 3; round++)
                for (size_t k = 0; k < n_replay; k++)
                    cols[i].ops->predict(cols[i].state, &replay[k]);
            calls = 3.0 * (double)n_replay;
            double dt = now_s() - t0;
            cols[i].ops->stats(cols[i].state, hit_stat, after);
            x.cached_replays = calls;
            x.cached_hit_ns = ratio(dt * 1e9, calls);
            x.cached_hit_rate =
                ratio(after[0] - before[0], after[1] - before[1]);
        }
        free(replay);
        if (json)
            print_json(cols, ncols, &cl, &x, n_train > 0);
        else
            print_text(cols, ncols, &cl, &x, n_train > 0);
        ex = fflush(stdout) ? AS_EXIT_FAIL : AS_EXIT_OK;
    }
    for (int i = 0; i < ncols; i++)
        destroy_col(&cols[i]);
    free(cols);
    free(ctx.e);
    free(seen.e);
    for (int i = 0; i < n_cached; i++)
        free(cached_assign[i]);
    free(cached_assign);
    free(test);
    free(train);
    return ex;
}

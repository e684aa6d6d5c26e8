/* test_predictors_lstm.c - the LSTM lifetime predictor: its words, the
 * gradient of every layer against finite differences, a synthetic task it
 * must learn exactly where `site` cannot, determinism, concurrent
 * predictions (8 threads on one instance give the sequential answers), and
 * the model file's loader on good and hostile bytes. */
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "predictors/lstm/lstm.h"
#include "predictors/lstm/model.h"
#include "predictors/lstm/tokens.h"
#include "predictors/lstm/train.h"
#include "predictors/site/site.h"
#include "common/util.h"
#include "sim/lstmdata.h"
#include "tests/unit/testutil.h"

/* ------------------------------------------------------------ words */

static char joined[1024];
static void join(void *arg, const char *t, size_t len)
{
    (void)arg;
    size_t n = strlen(joined);
    if (n) joined[n++] = ' ';
    memcpy(joined + n, t, len);
    joined[n + len] = 0;
}

static const char *words_of(const char *sym, const char *mod)
{
    joined[0] = 0;
    as_lstm_tokenize_frame(sym, mod, join, NULL);
    return joined;
}

static void test_tokenizer(void)
{
    CU_ASSERT_STRING_EQUAL(
        words_of("std::vector<int>::push_back(int const&)", ""),
        "std :: vector < int > :: push back ( int const & )");
    CU_ASSERT_STRING_EQUAL(words_of("PyThread_allocate_lock", NULL),
                           "py thread allocate lock");
    CU_ASSERT_STRING_EQUAL(words_of("_PyRuntimeState_Init", NULL),
                           "py runtime state init");
    CU_ASSERT_STRING_EQUAL(words_of("HTTPServer::handleRequest", NULL),
                           "http server :: handle request");
    CU_ASSERT_STRING_EQUAL(words_of("sqlite3VdbeExec", NULL),
                           "sqlite 3 vdbe exec");
    CU_ASSERT_STRING_EQUAL(words_of("-", "/lib/x86_64-linux-gnu/libc.so.6"),
                           "@libc.so.6");
    CU_ASSERT_STRING_EQUAL(words_of("", ""), "@?");
    /* a module name is one word: spaces and control bytes are dropped
     * (the model file refuses them) */
    CU_ASSERT_STRING_EQUAL(words_of("-", "/memfd:jit (deleted)"),
                           "@memfd:jit(deleted)");
    CU_ASSERT_STRING_EQUAL(words_of(NULL, "/a/b\tc\x7f"), "@bc");
    CU_ASSERT_STRING_EQUAL(words_of(NULL, NULL), "@?");
    /* a long word is cut at 32 bytes; a frame keeps at most 24 words */
    CU_ASSERT_STRING_EQUAL(
        words_of("abcdefghijklmnopqrstuvwxyzabcdefghijkl", NULL),
        "abcdefghijklmnopqrstuvwxyzabcdef");
    CU_ASSERT_EQUAL(strlen(words_of("a,a,a,a,a,a,a,a,a,a,a,a,a,a,a,a,a", NULL)),
                    24 * 2 - 1);
    char b[8];
    as_lstm_size_token(0, b);
    CU_ASSERT_STRING_EQUAL(b, "#sz0");
    as_lstm_size_token(1, b);
    CU_ASSERT_STRING_EQUAL(b, "#sz0");
    as_lstm_size_token(3, b);
    CU_ASSERT_STRING_EQUAL(b, "#sz1");
    as_lstm_size_token(4096, b);
    CU_ASSERT_STRING_EQUAL(b, "#sz12");
    as_lstm_size_token(UINT64_MAX, b);
    CU_ASSERT_STRING_EQUAL(b, "#sz63");
    /* a stack reads outermost first, then the size */
    const char *syms[] = {"inner", "outer"};
    joined[0] = 0;
    as_lstm_tokenize_stack(syms, NULL, 2, 100, join, NULL);
    CU_ASSERT_STRING_EQUAL(joined, "outer inner #sz6");
}

/* Merging: the same words in the same order are one context; counts add. */
static void test_corpus_merges(void)
{
    as_lstm_corpus_t *c = as_lstm_corpus_create(7, 64);
    const char *a[] = {"fooBar", "main"}, *b[] = {"foo_bar", "main"},
               *d[] = {"baz", "main"};
    CU_ASSERT_EQUAL(as_lstm_corpus_add(c, a, NULL, 2, 64, 1, 1), 0);
    CU_ASSERT_EQUAL(as_lstm_corpus_add(c, b, NULL, 2, 127, 1, 2), 0); /* same */
    CU_ASSERT_EQUAL(as_lstm_corpus_add(c, b, NULL, 2, 128, 3, 1), 0); /* size */
    CU_ASSERT_EQUAL(as_lstm_corpus_add(c, d, NULL, 2, 64, 0, 1), 0);
    CU_ASSERT_EQUAL(as_lstm_corpus_contexts(c), 3);
    CU_ASSERT_DOUBLE_EQUAL(as_lstm_corpus_allocs(c), 5, 1e-12);
    as_lstm_data_t data;
    CU_ASSERT_EQUAL(as_lstm_corpus_build(c, 2, &data), 0);
    /* words: main foo bar #sz6 #sz7 baz; in >= 2 contexts: main foo bar
     * #sz6 (ids 1..4 in order of first appearance) */
    CU_ASSERT_EQUAL(data.vocab, 5);
    CU_ASSERT_EQUAL(data.n, 3);
    CU_ASSERT_EQUAL(data.off[1], 4);
    CU_ASSERT_DOUBLE_EQUAL(data.count[0 * 7 + 1], 3, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(data.count[1 * 7 + 3], 1, 1e-12);
    /* "main foo bar #sz6": ids 1 2 3 4; "main foo bar #sz7": 1 2 3 0;
     * "main baz #sz6": baz is out of vocabulary */
    CU_ASSERT_EQUAL(data.tok[0], 1);
    CU_ASSERT_EQUAL(data.tok[2], 3);
    CU_ASSERT_EQUAL(data.tok[3], 4);
    CU_ASSERT_EQUAL(data.tok[7], 0);
    CU_ASSERT_EQUAL(data.tok[data.off[2] + 1], 0);
    const char *const *w;
    const uint8_t *lens;
    CU_ASSERT_EQUAL(as_lstm_corpus_words(c, &w, &lens), 5);
    CU_ASSERT_EQUAL(lens[1], 3);
    CU_ASSERT_EQUAL(memcmp(w[1], "foo", 3), 0);
    as_lstm_corpus_destroy(c);
}

/* Samples of a trace: every allocation, or the profiler's byte-weighted
 * sample of the objects that died (data/demo.ast: 100,978 objects, 1,019
 * never freed, all freed ones under 1000 s). */
static void test_corpus_from_trace(void)
{
    as_classes_t cl;
    as_classes_default(&cl);
    char err[256];
    double full6 = 0, samp6 = 0;
    as_lstm_corpus_t *all = as_lstm_corpus_create(7, 32);
    CU_ASSERT_EQUAL_FATAL(
        as_lstm_corpus_add_trace(all, as_test_srcpath("data/demo.ast"), &cl, 0,
                                 1, err, sizeof err),
        0);
    CU_ASSERT_EQUAL(as_lstm_corpus_samples(all), 100978);
    CU_ASSERT_DOUBLE_EQUAL(as_lstm_corpus_allocs(all), 100978, 1e-9);
    as_lstm_corpus_t *smp = as_lstm_corpus_create(7, 32);
    CU_ASSERT_EQUAL_FATAL(
        as_lstm_corpus_add_trace(smp, as_test_srcpath("data/demo.ast"), &cl,
                                 4096, 1, err, sizeof err),
        0);
    uint64_t n = as_lstm_corpus_samples(smp);
    double est = as_lstm_corpus_allocs(smp);
    printf("\n  4 KiB sampling: %llu samples stand for %.0f of 99959 freed "
           "objects ",
           (unsigned long long)n, est);
    CU_ASSERT(n > 1000 && n < 20000);
    CU_ASSERT(fabs(est - 99959) < 0.03 * 99959); /* unbiased: 1/p each */
    as_lstm_data_t d1, d2;
    CU_ASSERT_EQUAL(as_lstm_corpus_build(all, 2, &d1), 0);
    CU_ASSERT_EQUAL(as_lstm_corpus_build(smp, 2, &d2), 0);
    for (uint32_t i = 0; i < d1.n; i++)
        full6 += d1.count[(size_t)i * 7 + 6];
    for (uint32_t i = 0; i < d2.n; i++)
        samp6 += d2.count[(size_t)i * 7 + 6];
    CU_ASSERT_DOUBLE_EQUAL(full6, 1019, 1e-9); /* never freed: last class */
    CU_ASSERT_DOUBLE_EQUAL(samp6, 0, 1e-9);    /* outside the profiler's view */
    CU_ASSERT(d2.n <= d1.n);
    as_lstm_corpus_destroy(all);
    as_lstm_corpus_destroy(smp);
}

/* ------------------------------------------------------------ gradients */

/* Central differences (step 1e-5) on every weight; returns the largest
 * relative error |a - n| / max(|a| + |n|, 1e-3) over the weights in
 * [lo, hi): relative for gradients above 1e-3, absolute (x 1e-3) below,
 * where the differences' own rounding (~1e-11) would dominate. */
static double max_rel_err(as_lstm_net_t *net, const as_lstm_data_t *data,
                          const uint32_t *idx, uint32_t k, const double *cw,
                          const double *grad, size_t lo, size_t hi)
{
    double *p = as_lstm_net_params(net, NULL), worst = 0;
    const double eps = 1e-5;
    for (size_t i = lo; i < hi; i++) {
        double keep = p[i];
        p[i] = keep + eps;
        double up = as_lstm_net_loss(net, data, idx, k, AS_LSTM_WEIGHT_SQRT, cw,
                                     1024, NULL);
        p[i] = keep - eps;
        double dn = as_lstm_net_loss(net, data, idx, k, AS_LSTM_WEIGHT_SQRT, cw,
                                     1024, NULL);
        p[i] = keep;
        double num = (up - dn) / (2 * eps);
        double den = fabs(num) + fabs(grad[i]);
        double rel = fabs(num - grad[i]) / (den > 1e-3 ? den : 1e-3);
        if (rel > worst) {
            worst = rel;
            if (getenv("AS_GRAD_DEBUG"))
                printf("\n    [%zu] analytic %.10e numeric %.10e", i, grad[i],
                       num);
        }
    }
    return worst;
}

static void gradcheck(uint32_t layers)
{
    as_lstm_dims_t d = {.classes = 3,
                        .vocab = 6,
                        .embed = 3,
                        .hidden = 4,
                        .layers = layers,
                        .max_tokens = 5};
    /* five contexts of 1..7 words (the 7-word one is cut to its last 5) */
    static uint32_t off[] = {0, 1, 3, 6, 10, 17};
    static uint32_t tok[] = {1, 2, 3, 4, 5, 0, 1, 2, 3, 4, 5, 5, 4, 3, 2, 1, 0};
    static double count[] = {1, 0, 0, 0, 2, 1, 3, 1, 0, 0, 0, 4, 2, 2, 2};
    as_lstm_data_t data = {.classes = 3,
                           .vocab = 6,
                           .n = 5,
                           .off = off,
                           .tok = tok,
                           .count = count};
    uint32_t idx[] = {0, 1, 2, 3, 4};
    double cw[3] = {1, 2, 0.5};
    as_lstm_net_t *net = as_lstm_net_create(&d, 7);
    CU_ASSERT_PTR_NOT_NULL_FATAL(net);
    as_lstm_layout_t lay;
    as_lstm_net_params(net, &lay);
    double *g = malloc(lay.total * sizeof *g);
    double loss =
        as_lstm_net_loss(net, &data, idx, 5, AS_LSTM_WEIGHT_SQRT, cw, 1024, g);
    CU_ASSERT(loss > 0);
    /* every layer: embedding, each LSTM layer's W and b, output W_y, b_y */
    const double bound = 1e-6;
    double e;
    e = max_rel_err(net, &data, idx, 5, cw, g, lay.emb, lay.w[0]);
    printf("\n  layers %u: embedding %.2e", layers, e);
    CU_ASSERT(e < bound);
    for (uint32_t l = 0; l < layers; l++) {
        e = max_rel_err(net, &data, idx, 5, cw, g, lay.w[l], lay.b[l]);
        printf(", W%u %.2e", l, e);
        CU_ASSERT(e < bound);
        size_t bend = l + 1 < layers ? lay.w[l + 1] : lay.wy;
        e = max_rel_err(net, &data, idx, 5, cw, g, lay.b[l], bend);
        printf(", b%u %.2e", l, e);
        CU_ASSERT(e < bound);
    }
    e = max_rel_err(net, &data, idx, 5, cw, g, lay.wy, lay.total);
    printf(", output %.2e ", e);
    CU_ASSERT(e < bound);
    /* truncated BPTT: with a window of 2 steps no gradient reaches the
     * embedding of a word only seen 3 or more steps before the end */
    uint32_t one = 4; /* words 5 4 3 2 1 0 (last 5: 4 3 2 1 0) */
    as_lstm_net_loss(net, &data, &one, 1, AS_LSTM_WEIGHT_SQRT, cw, 2, g);
    for (uint32_t j = 0; j < d.embed; j++) {
        CU_ASSERT_EQUAL(g[lay.emb + 4 * d.embed + j], 0.0); /* 5 steps back */
        CU_ASSERT_EQUAL(g[lay.emb + 2 * d.embed + j], 0.0); /* 3 steps back */
    }
    double s = 0;
    for (uint32_t j = 0; j < d.embed; j++)
        s += fabs(g[lay.emb + 1 * d.embed + j]); /* 2 steps back: reached */
    CU_ASSERT(s > 0);
    as_lstm_net_loss(net, &data, &one, 1, AS_LSTM_WEIGHT_SQRT, cw, 1024, g);
    s = 0;
    for (uint32_t j = 0; j < d.embed; j++)
        s += fabs(g[lay.emb + 4 * d.embed + j]);
    CU_ASSERT(s > 0); /* full BPTT reaches it */
    free(g);
    as_lstm_net_destroy(net);
}

static void test_gradcheck_one_layer(void)
{
    gradcheck(1);
}

static void test_gradcheck_two_layers(void)
{
    gradcheck(2);
}

/* ------------------------------------------------------------ synthetic */

/* A stack of 10 frames; frame 6 (counting from the innermost, 0) is the
 * marker that decides the class; the others are drawn from 20 helpers. */
#define DEPTH 10
#define MARK 6
typedef struct {
    char name[DEPTH][24];
    const char *sym[DEPTH];
    uint64_t pcs[DEPTH];
    uint32_t cls;
} stack_t_;

static const char *const markers[3] = {"alphaMarker", "beta_marker",
                                       "GammaMarker"};
static const uint32_t marker_class[3] = {0, 2, 4};

static void make_stack(stack_t_ *s, uint64_t *rng)
{
    uint32_t m = (uint32_t)(as_hash64(++*rng) % 3);
    for (int i = 0; i < DEPTH; i++) {
        if (i == MARK)
            snprintf(s->name[i], sizeof s->name[i], "%s", markers[m]);
        else
            snprintf(s->name[i], sizeof s->name[i], "helper_%u",
                     (unsigned)(as_hash64(++*rng) % 20));
        s->sym[i] = s->name[i];
        s->pcs[i] = as_hash64((uint64_t)i * 1000 + s->name[i][7] +
                              (uint64_t)s->name[i][8] * 7 +
                              (uint64_t)s->name[i][0] * 131);
    }
    s->cls = marker_class[m];
}

static uint64_t stack_key(const stack_t_ *s)
{
    uint64_t h = 1;
    for (int i = 0; i < DEPTH; i++)
        for (const char *p = s->name[i]; *p; p++)
            h = as_hash64(h ^ (uint64_t)*p);
    return h;
}

#define NTRAIN 240
#define NTEST 90

static stack_t_ train_set[NTRAIN], test_set[NTEST];

static void make_sets(void)
{
    uint64_t rng = 12345;
    for (int i = 0; i < NTRAIN; i++)
        make_stack(&train_set[i], &rng);
    for (int i = 0; i < NTEST; i++) {
        int seen;
        do { /* held out: a stack never seen in training */
            make_stack(&test_set[i], &rng);
            seen = 0;
            for (int j = 0; j < NTRAIN; j++)
                seen |= stack_key(&train_set[j]) == stack_key(&test_set[i]);
        } while (seen);
    }
}

/* Train on the training set; the model file into *buf. */
static size_t train_model(uint64_t seed, uint32_t epochs, uint8_t **buf)
{
    as_lstm_corpus_t *c = as_lstm_corpus_create(7, 32);
    for (int i = 0; i < NTRAIN; i++)
        CU_ASSERT_EQUAL(as_lstm_corpus_add(c, train_set[i].sym, NULL, DEPTH, 64,
                                           train_set[i].cls, 1),
                        0);
    as_lstm_data_t data;
    CU_ASSERT_EQUAL_FATAL(as_lstm_corpus_build(c, 2, &data), 0);
    as_lstm_hparams_t hp;
    as_lstm_hparams_default(&hp);
    hp.embed = 8;
    hp.hidden = 16;
    hp.max_tokens = 32;
    hp.epochs = epochs;
    hp.batch = 16;
    hp.lr = 0.02;
    hp.patience = 60;
    hp.seed = seed;
    as_lstm_dims_t d = {.classes = 7,
                        .vocab = data.vocab,
                        .embed = hp.embed,
                        .hidden = hp.hidden,
                        .layers = 1,
                        .max_tokens = hp.max_tokens};
    as_lstm_net_t *net = as_lstm_net_create(&d, seed);
    as_lstm_result_t res;
    CU_ASSERT_EQUAL(as_lstm_train(net, &data, &hp, NULL, NULL, &res), 0);
    printf("\n  seed %llu: %u epochs, best %u, validation accuracy %.3f ",
           (unsigned long long)seed, res.epochs_run, res.best_epoch,
           res.valid_acc);
    as_classes_t cl;
    as_classes_default(&cl);
    const char *const *w;
    const uint8_t *lens;
    as_lstm_corpus_words(c, &w, &lens);
    size_t need = as_lstm_net_write(net, cl.bound_ns, w, lens, NULL, 0);
    *buf = malloc(need);
    CU_ASSERT_EQUAL(as_lstm_net_write(net, cl.bound_ns, w, lens, *buf, need),
                    need);
    as_lstm_net_destroy(net);
    as_lstm_corpus_destroy(c);
    return need;
}

static as_classes_t classes;

static void *make_pred(const as_predictor_ops_t *ops, const char *assign)
{
    static as_param_value_t vals[16];
    as_classes_default(&classes);
    if (ops->n_params) as_param_defaults(ops->params, ops->n_params, vals);
    if (assign) as_param_set(ops->params, ops->n_params, vals, assign);
    as_predictor_config_t cfg = {
        .classes = &classes, .params = vals, .mem = &as_test_mem};
    void *st = NULL;
    CU_ASSERT_EQUAL_FATAL(ops->create(&cfg, &st), 0);
    return st;
}

static as_pred_ctx_t ctx_of(const stack_t_ *s)
{
    return (as_pred_ctx_t){.size = 64,
                           .stack = 1,
                           .pcs = s->pcs,
                           .symbols = s->sym,
                           .depth = DEPTH,
                           .true_class = AS_CLASS_UNKNOWN};
}

static uint8_t *model_seed1;
static size_t model_seed1_len;

static void test_synthetic_task(void)
{
    make_sets();
    model_seed1_len = train_model(1, 60, &model_seed1);
    const as_predictor_ops_t *L = as_predictor_find("lstm");
    CU_ASSERT_PTR_EQUAL_FATAL(L, &as_predictor_lstm);
    void *ls = make_pred(L, NULL);
    as_pred_ctx_t c0 = ctx_of(&test_set[0]);
    CU_ASSERT_EQUAL(L->predict(ls, &c0), AS_CLASS_NONE); /* no model yet */
    size_t off = 99;
    const char *what = NULL;
    CU_ASSERT_EQUAL_FATAL(
        L->load_bytes(ls, model_seed1, model_seed1_len, &off, &what), 0);
    /* site, trained on the same stacks (keyed on their pcs) */
    void *ss = make_pred(&as_predictor_site, "key=pcs");
    for (int i = 0; i < NTRAIN; i++) {
        as_pred_ctx_t c = ctx_of(&train_set[i]);
        as_pred_outcome_t o = {.actual_class = train_set[i].cls};
        as_predictor_site.observe(ss, &c, &o);
    }
    int lstm_ok = 0, site_ok = 0, site_train_ok = 0;
    for (int i = 0; i < NTEST; i++) {
        as_pred_ctx_t c = ctx_of(&test_set[i]);
        lstm_ok += L->predict(ls, &c) == (int32_t)test_set[i].cls;
        site_ok +=
            as_predictor_site.predict(ss, &c) == (int32_t)test_set[i].cls;
    }
    for (int i = 0; i < NTRAIN; i++) {
        as_pred_ctx_t c = ctx_of(&train_set[i]);
        site_train_ok +=
            as_predictor_site.predict(ss, &c) == (int32_t)train_set[i].cls;
    }
    printf("\n  held out: lstm %d/%d, site %d/%d (site on training stacks "
           "%d/%d) ",
           lstm_ok, NTEST, site_ok, NTEST, site_train_ok, NTRAIN);
    CU_ASSERT_EQUAL(lstm_ok, NTEST);        /* 100% on unseen stacks */
    CU_ASSERT_EQUAL(site_train_ok, NTRAIN); /* site memorises ... */
    CU_ASSERT_EQUAL(site_ok, 0); /* ... but unseen stacks get its default */
    as_predictor_site.destroy(ss);
    L->destroy(ls);
    CU_ASSERT_EQUAL(as_test_mem_held(), 0);
}

static void test_deterministic(void)
{
    /* 5 epochs are enough to tell models apart, and cheap under ASan */
    uint8_t *a, *b, *other;
    size_t na = train_model(1, 5, &a), nb = train_model(1, 5, &b),
           no = train_model(2, 5, &other);
    CU_ASSERT(na == nb && !memcmp(a, b, na));
    CU_ASSERT(no != na || memcmp(other, a, na) != 0);
    free(a);
    free(b);
    free(other);
}

/* ------------------------------------------------------------ threads */

#define NTHREADS 8
#define ROUNDS 20
#define NALL (NTRAIN + NTEST)

static const stack_t_ *stack_at(int k)
{
    return k < NTRAIN ? &train_set[k] : &test_set[k - NTRAIN];
}

typedef struct {
    const as_predictor_ops_t *L;
    void *st;
    uint32_t thread;
    atomic_int *go;
    int32_t got[ROUNDS][NALL];
} worker_t;

static void *predict_all(void *arg)
{
    worker_t *w = arg;
    while (!atomic_load(w->go))
        ;
    for (int r = 0; r < ROUNDS; r++)
        for (int i = 0; i < NALL; i++) {
            int k = (int)((i * 7u + w->thread * 31u + (unsigned)r) % NALL);
            as_pred_ctx_t c = ctx_of(stack_at(k));
            c.thread = w->thread;
            w->got[r][k] = w->L->predict(w->st, &c);
        }
    return NULL;
}

typedef struct {
    double predictions;
} lstm_stat_t;

static void lstm_stat(void *arg, const char *name, double value)
{
    if (!strcmp(name, "lstm_predictions"))
        ((lstm_stat_t *)arg)->predictions = value;
}

/* One instance, 8 threads predicting the 330 stacks 20 times each in
 * orders of their own, all at once: every answer is the sequential one,
 * and every prediction is counted. The forward pass on a caller's scratch
 * gives the same probabilities, bit for bit, as on the model's. */
static void test_concurrent(void)
{
    const as_predictor_ops_t *L = &as_predictor_lstm;
    void *st = make_pred(L, NULL);
    CU_ASSERT_EQUAL_FATAL(
        L->load_bytes(st, model_seed1, model_seed1_len, NULL, NULL), 0);
    static int32_t seq[NALL];
    int classes_seen = 0;
    for (int k = 0; k < NALL; k++) {
        as_pred_ctx_t c = ctx_of(stack_at(k));
        seq[k] = L->predict(st, &c);
        classes_seen |= 1 << seq[k];
    }
    CU_ASSERT_EQUAL(classes_seen, (1 << 0) | (1 << 2) | (1 << 4));
    static worker_t w[NTHREADS];
    pthread_t th[NTHREADS];
    atomic_int go = 0;
    for (uint32_t t = 0; t < NTHREADS; t++) {
        w[t] = (worker_t){.L = L, .st = st, .thread = t, .go = &go};
        CU_ASSERT_EQUAL_FATAL(pthread_create(&th[t], NULL, predict_all, &w[t]),
                              0);
    }
    atomic_store(&go, 1);
    for (int t = 0; t < NTHREADS; t++)
        pthread_join(th[t], NULL);
    int wrong = 0;
    for (int t = 0; t < NTHREADS; t++)
        for (int r = 0; r < ROUNDS; r++)
            for (int k = 0; k < NALL; k++)
                wrong += w[t].got[r][k] != seq[k];
    CU_ASSERT_EQUAL(wrong, 0);
    lstm_stat_t ls = {0};
    L->stats(st, lstm_stat, &ls);
    CU_ASSERT_EQUAL(ls.predictions, NALL + NTHREADS * ROUNDS * NALL);

    as_lstm_model_t *m = (as_lstm_model_t *)as_lstm_predictor_model(st);
    size_t nf = as_lstm_scratch_floats(&m->d);
    float *mine = calloc(nf, sizeof *mine);
    const uint32_t ids[5] = {1, 3, 2, 0, 4};
    float p1[7], p2[7];
    uint32_t c1 = as_lstm_model_forward(m, ids, 5, p1);
    uint32_t c2 = as_lstm_model_forward_with(m, mine, ids, 5, p2);
    CU_ASSERT_EQUAL(c1, c2);
    CU_ASSERT_EQUAL(memcmp(p1, p2, sizeof p1), 0);
    free(mine);
    L->destroy(st);
    CU_ASSERT_EQUAL(as_test_mem_held(), 0);
}

/* ------------------------------------------------------------ the file */

static void expect_bad(const uint8_t *b, size_t n, size_t want_off,
                       const char *want_what)
{
    as_lstm_model_t m;
    size_t off = 12345;
    const char *what = "";
    CU_ASSERT_EQUAL(as_lstm_model_parse(&m, &as_test_mem, b, n, &off, &what),
                    AS_EFORMAT);
    CU_ASSERT_EQUAL(off, want_off);
    CU_ASSERT_PTR_NOT_NULL(strstr(what, want_what));
    if (off != want_off || !strstr(what, want_what))
        printf("\n  got offset %zu '%s' ", off, what);
    CU_ASSERT_EQUAL(as_test_mem_held(), 0);
}

static void refresh_sum(uint8_t *b, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i + 8 < n; i++) {
        h ^= b[i];
        h *= 0x100000001b3ull;
    }
    for (int i = 0; i < 8; i++)
        b[n - 8 + i] = (uint8_t)(h >> (8 * i));
}

static void test_model_file(void)
{
    CU_ASSERT_PTR_NOT_NULL_FATAL(model_seed1);
    size_t n = model_seed1_len;
    const uint8_t *good = model_seed1;
    as_lstm_model_t m;
    CU_ASSERT_EQUAL_FATAL(
        as_lstm_model_parse(&m, &as_test_mem, good, n, NULL, NULL), 0);
    CU_ASSERT_EQUAL(m.d.classes, 7);
    CU_ASSERT_EQUAL(m.d.hidden, 16);
    CU_ASSERT_EQUAL(m.d.embed, 8);
    CU_ASSERT_EQUAL(m.d.max_tokens, 32);
    CU_ASSERT_EQUAL(m.file_bytes, n);
    /* size = header + 6 bounds + words + 4 * weights + checksum */
    CU_ASSERT_EQUAL(m.lay.total, (size_t)m.d.vocab * 8 + 4 * 16 * (8 + 16) +
                                     4 * 16 + 7 * 16 + 7);
    /* The forward pass's copies agree bit for bit: the AVX2 copy and the
     * baseline one, and the precomputed layer-0 input products against
     * computing them per word; the probabilities sum to 1. */
    CU_ASSERT_PTR_NOT_NULL(m.xgate);
    for (uint32_t q = 0; q < 20; q++) {
        uint32_t ids[40];
        for (uint32_t i = 0; i < 40; i++)
            ids[i] = (q * 7 + i * 3) % (m.d.vocab + 2); /* some out of range */
        float p[4][AS_MAX_CLASSES];
        float *xg = m.xgate;
        uint32_t best[4];
        for (int v = 0; v < 4; v++) {
            m.avx2 = (v & 1) && as_lstm_simd_avx2();
            m.xgate = v & 2 ? NULL : xg;
            best[v] = as_lstm_model_forward(&m, ids, 12 + q, p[v]);
        }
        m.xgate = xg;
        double sum = 0;
        for (uint32_t k = 0; k < m.d.classes; k++)
            sum += p[0][k];
        CU_ASSERT_DOUBLE_EQUAL(sum, 1.0, 1e-5);
        for (int v = 1; v < 4; v++) {
            CU_ASSERT_EQUAL(best[v], best[0]);
            CU_ASSERT_EQUAL(memcmp(p[v], p[0], m.d.classes * sizeof(float)), 0);
        }
    }
    as_lstm_model_free(&m); /* m.lay stays readable */
    uint8_t *b = malloc(n + 1);
    memcpy(b, good, n);
    b[0] = 'X';
    expect_bad(b, n, 0, "magic");
    memcpy(b, good, n);
    b[8] = 2;
    expect_bad(b, n, 8, "version");
    memcpy(b, good, n);
    b[24] = 0; /* hidden 0 */
    expect_bad(b, n, 24, "hidden width");
    memcpy(b, good, n);
    b[16] = 0; /* vocabulary 0 */
    expect_bad(b, n, 16, "vocabulary size");
    memcpy(b, good, n);
    b[40 + 8] = 0; /* second bound below the first */
    b[40 + 9] = 0;
    b[40 + 10] = 0;
    b[40 + 11] = 0;
    expect_bad(b, n, 48, "ascending");
    memcpy(b, good, n);
    b[88] = 0; /* the first word's length */
    expect_bad(b, n, 88, "word length");
    memcpy(b, good, n);
    b[89] = ' ';
    expect_bad(b, n, 89, "space or control");
    expect_bad(good, 30, 0, "shorter than the 40-byte header");
    expect_bad(good, n - 9, n - 8 - 4 * m.lay.total, "ends in the weights");
    memcpy(b, good, n);
    b[n - 20] ^= 1; /* a weight's low bit: only the checksum sees it */
    expect_bad(b, n, n - 8, "checksum");
    memcpy(b, good, n);
    b[n - 9] = 0xff; /* the last weight becomes a NaN */
    b[n - 10] = 0xff;
    refresh_sum(b, n);
    expect_bad(b, n, n - 12, "finite");
    memcpy(b, good, n);
    b[n] = 0;
    expect_bad(b, n + 1, n, "after the checksum");
    /* the predictor refuses a model for other classes, naming the field */
    const as_predictor_ops_t *L = &as_predictor_lstm;
    static as_param_value_t none[1];
    as_classes_t three;
    CU_ASSERT_EQUAL(as_classes_parse(&three, "1ms,1s"), 0);
    as_predictor_config_t cfg = {
        .classes = &three, .params = none, .mem = &as_test_mem};
    void *st;
    CU_ASSERT_EQUAL_FATAL(L->create(&cfg, &st), 0);
    size_t off = 0;
    const char *what = "";
    CU_ASSERT_EQUAL(L->load_bytes(st, good, n, &off, &what), AS_EFORMAT);
    CU_ASSERT_EQUAL(off, 12);
    CU_ASSERT_PTR_NOT_NULL(strstr(what, "other lifetime classes"));
    L->destroy(st);
    free(b);
    free(model_seed1);
    model_seed1 = NULL;
    CU_ASSERT_EQUAL(as_test_mem_held(), 0);
}

int main(void)
{
    static const as_test_t tests[] = {
        {"tokenizer", test_tokenizer},
        {"corpus merges contexts, vocabulary", test_corpus_merges},
        {"corpus from a trace, sampled like a profiler",
         test_corpus_from_trace},
        {"gradient check, one layer", test_gradcheck_one_layer},
        {"gradient check, two layers", test_gradcheck_two_layers},
        {"synthetic task: 100% held out, site 0%", test_synthetic_task},
        {"deterministic training", test_deterministic},
        {"8 threads predict at once: the sequential answers", test_concurrent},
        {"model file loader", test_model_file},
        {NULL, NULL}};
    return as_test_main("predictors_lstm", tests);
}

/* lstm.c - the `lstm` predictor (see lstm.h).
 *
 * Owns the loaded model and, per caller that may run at once, a window of
 * word ids and the network's scratch (a slot), all from the
 * configuration's as_mem_t. predict() takes a free slot, cuts the stack
 * into words, keeps the last max_tokens ids in the slot's ring and runs the
 * forward pass on the slot's scratch, so threads of a real allocator may
 * predict at once (the first slot is the one of a single caller, on the
 * memory a single caller had before, so the simulator's memory grows only
 * by the state's 24 bytes; the others are made at the first concurrent
 * call). It never reads true_class, never calls libc and never
 * prints.
 */
#include "predictors/lstm/lstm.h"

#include <stdatomic.h>

#include "predictors/lstm/tokens.h"

/* Forward passes that can run at once, each with working memory of its own
 * (a caller finding all busy waits for one). */
#define SLOTS 32

/* One caller's working memory: the window of word ids and the network's
 * scratch, with that caller's statistics. busy: 1 while a predict holds
 * it. */
typedef struct {
    atomic_uint busy;
    uint32_t n_seen;      /* words of the current context */
    uint32_t *ring, *ids; /* max_tokens each */
    float *scratch;       /* as_lstm_scratch_floats */
    uint64_t predictions, words, oov_words;
} lstm_slot_t;

/* Invariant: loaded => first's ring, ids and scratch (the model's) are
 * set; more is NULL or SLOTS - 1 slots whose buffers are all set. */
typedef struct {
    as_mem_t mem;
    as_classes_t classes;
    int loaded;
    as_lstm_model_t model;
    lstm_slot_t first;         /* the slot of a single caller, made at load */
    lstm_slot_t *_Atomic more; /* made at the first concurrent predict */
    atomic_uint mem_lock;      /* serialises making `more` */
    atomic_uint more_failed;   /* making `more` ran out of memory */
} lstm_state_t;

static int lstm_create(const as_predictor_config_t *cfg, void **state)
{
    lstm_state_t *s = as_mem_alloc(cfg->mem, sizeof *s);
    if (!s) return AS_ENOMEM;
    s->mem = *cfg->mem;
    s->classes = *cfg->classes;
    *state = s;
    return AS_OK;
}

static void slot_free(lstm_state_t *s, lstm_slot_t *x)
{
    size_t t = s->model.d.max_tokens;
    as_mem_free(&s->mem, x->ring, t * sizeof *x->ring);
    as_mem_free(&s->mem, x->ids, t * sizeof *x->ids);
    x->ring = x->ids = NULL;
}

static void unload(lstm_state_t *s)
{
    if (!s->loaded) return;
    lstm_slot_t *more = atomic_load(&s->more);
    if (more) {
        size_t f = as_lstm_scratch_floats(&s->model.d);
        for (int i = 0; i < SLOTS - 1; i++) {
            slot_free(s, &more[i]);
            as_mem_free(&s->mem, more[i].scratch, f * sizeof(float));
        }
        as_mem_free(&s->mem, more, (SLOTS - 1) * sizeof *more);
        atomic_store(&s->more, NULL);
    }
    slot_free(s, &s->first);
    as_lstm_model_free(&s->model);
    s->loaded = 0;
}

static int lstm_load_bytes(void *state, const void *bytes, size_t len,
                           size_t *bad_offset, const char **what)
{
    lstm_state_t *s = state;
    as_lstm_model_t m;
    int rc = as_lstm_model_parse(&m, &s->mem, bytes, len, bad_offset, what);
    if (rc != AS_OK) return rc;
    int same = m.d.classes == s->classes.n;
    for (uint32_t c = 0; same && c + 1 < m.d.classes; c++)
        same = m.bound_ns[c] == s->classes.bound_ns[c];
    if (!same) {
        as_lstm_model_free(&m);
        if (bad_offset) *bad_offset = 12;
        if (what)
            *what = "the model was trained for other lifetime classes "
                    "(see --classes)";
        return AS_EFORMAT;
    }
    size_t t = m.d.max_tokens;
    uint32_t *ring = as_mem_alloc(&s->mem, t * sizeof *ring);
    uint32_t *ids = as_mem_alloc(&s->mem, t * sizeof *ids);
    if (!ring || !ids) {
        as_mem_free(&s->mem, ring, t * sizeof *ring);
        as_mem_free(&s->mem, ids, t * sizeof *ids);
        as_lstm_model_free(&m);
        if (what) *what = "out of memory";
        return AS_ENOMEM;
    }
    unload(s);
    s->model = m;
    s->first.ring = ring;
    s->first.ids = ids;
    s->first.scratch = s->model.scratch;
    atomic_store(&s->more_failed, 0);
    s->loaded = 1;
    return AS_OK;
}

/* The other SLOTS - 1 slots, made once by whichever caller first finds
 * the first slot busy (the others wait for it: as_mem_t is not assumed to
 * be thread-safe). @return them, or NULL when out of memory. */
static lstm_slot_t *more_slots(lstm_state_t *s)
{
    lstm_slot_t *more = atomic_load_explicit(&s->more, memory_order_acquire);
    if (more || atomic_load(&s->more_failed)) return more;
    while (atomic_exchange_explicit(&s->mem_lock, 1, memory_order_acquire))
        ;
    more = atomic_load_explicit(&s->more, memory_order_acquire);
    if (!more && !atomic_load(&s->more_failed)) {
        size_t t = s->model.d.max_tokens,
               f = as_lstm_scratch_floats(&s->model.d);
        more = as_mem_alloc(&s->mem, (SLOTS - 1) * sizeof *more);
        int ok = more != NULL;
        for (int i = 0; ok && i < SLOTS - 1; i++) {
            more[i].ring = as_mem_alloc(&s->mem, t * sizeof *more[i].ring);
            more[i].ids = as_mem_alloc(&s->mem, t * sizeof *more[i].ids);
            more[i].scratch = as_mem_alloc(&s->mem, f * sizeof(float));
            ok = more[i].ring && more[i].ids && more[i].scratch;
        }
        if (!ok && more) {
            for (int i = 0; i < SLOTS - 1; i++) {
                slot_free(s, &more[i]);
                as_mem_free(&s->mem, more[i].scratch, f * sizeof(float));
            }
            as_mem_free(&s->mem, more, (SLOTS - 1) * sizeof *more);
            more = NULL;
        }
        if (more)
            atomic_store_explicit(&s->more, more, memory_order_release);
        else
            atomic_store(&s->more_failed, 1);
    }
    atomic_store_explicit(&s->mem_lock, 0, memory_order_release);
    return more;
}

static int try_take(lstm_slot_t *x)
{
    return !atomic_load_explicit(&x->busy, memory_order_relaxed) &&
           !atomic_exchange_explicit(&x->busy, 1, memory_order_acquire);
}

/* A free slot for this call: the first one when free (a single caller
 * always gets it), else one of the others, starting at the thread's; waits
 * when all are busy. */
static lstm_slot_t *acquire(lstm_state_t *s, uint32_t thread)
{
    for (;;) {
        if (try_take(&s->first)) return &s->first;
        lstm_slot_t *more = more_slots(s);
        for (uint32_t k = 0; more && k < SLOTS - 1; k++) {
            lstm_slot_t *x = &more[(thread + k) % (SLOTS - 1)];
            if (try_take(x)) return x;
        }
    }
}

typedef struct {
    const as_lstm_model_t *model;
    lstm_slot_t *slot;
} word_sink_t;

static void take_word(void *arg, const char *tok, size_t len)
{
    word_sink_t *w = arg;
    lstm_slot_t *x = w->slot;
    uint32_t id = as_lstm_model_word(w->model, as_lstm_token_hash(tok, len));
    x->words++;
    if (!id) x->oov_words++;
    x->ring[x->n_seen++ % w->model->d.max_tokens] = id;
}

/* Safe for concurrent callers once a model is loaded: the model is only
 * read, and each call works in a slot of its own. */
static int32_t lstm_predict(void *state, const as_pred_ctx_t *ctx)
{
    lstm_state_t *s = state;
    if (!s->loaded) return AS_CLASS_NONE;
    lstm_slot_t *x = acquire(s, ctx->thread);
    word_sink_t w = {&s->model, x};
    x->predictions++;
    x->n_seen = 0;
    as_pred_ctx_frames(ctx);
    as_lstm_tokenize_stack(ctx->symbols, ctx->modules, ctx->depth, ctx->size,
                           take_word, &w);
    uint32_t t = s->model.d.max_tokens;
    uint32_t n = x->n_seen < t ? x->n_seen : t;
    uint32_t start = x->n_seen - n;
    for (uint32_t i = 0; i < n; i++)
        x->ids[i] = x->ring[(start + i) % t];
    int32_t cls = (int32_t)as_lstm_model_forward_with(&s->model, x->scratch,
                                                      x->ids, n, NULL);
    atomic_store_explicit(&x->busy, 0, memory_order_release);
    return cls;
}

static void lstm_stats(void *state, as_pred_stat_fn fn, void *arg)
{
    lstm_state_t *s = state;
    uint64_t predictions = s->first.predictions, words = s->first.words,
             oov = s->first.oov_words;
    lstm_slot_t *more = atomic_load(&s->more);
    for (int i = 0; more && i < SLOTS - 1; i++) {
        predictions += more[i].predictions;
        words += more[i].words;
        oov += more[i].oov_words;
    }
    fn(arg, "lstm_predictions", (double)predictions);
    fn(arg, "lstm_words", (double)words);
    fn(arg, "lstm_oov_words", (double)oov);
    fn(arg, "lstm_model_file_bytes",
       s->loaded ? (double)s->model.file_bytes : 0);
    fn(arg, "lstm_model_mem_bytes", s->loaded ? (double)s->model.mem_bytes : 0);
}

static void lstm_destroy(void *state)
{
    lstm_state_t *s = state;
    unload(s);
    as_mem_t mem = s->mem;
    as_mem_free(&mem, s, sizeof *s);
}

const as_lstm_model_t *as_lstm_predictor_model(const void *state)
{
    const lstm_state_t *s = state;
    return s->loaded ? &s->model : NULL;
}

const as_predictor_ops_t as_predictor_lstm = {
    .name = "lstm",
    .doc = "LLAMA's LSTM over the words of the symbolized stack and a size "
           "bucket; trained offline (allocsim train), loaded with "
           "--predictor-load",
    .params = NULL,
    .n_params = 0,
    .needs_symbols = 1,
    .create = lstm_create,
    .predict = lstm_predict,
    .stats = lstm_stats,
    .destroy = lstm_destroy,
    .load_bytes = lstm_load_bytes,
};

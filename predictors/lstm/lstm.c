/* lstm.c - the `lstm` predictor (see lstm.h).
 *
 * Owns the loaded model and a window of word ids, all from the
 * configuration's as_mem_t. predict() cuts the stack into words, keeps the
 * last max_tokens ids in a ring and runs the forward pass; it never reads
 * true_class, never calls libc and never prints.
 */
#include "predictors/lstm/lstm.h"

#include "predictors/lstm/tokens.h"

typedef struct {
    as_mem_t mem;
    as_classes_t classes;
    int loaded;
    as_lstm_model_t model;
    uint32_t *ring, *ids; /* max_tokens each */
    uint32_t n_seen;      /* words of the current context */
    /* statistics */
    uint64_t predictions, words, oov_words;
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

static void unload(lstm_state_t *s)
{
    if (!s->loaded) return;
    size_t t = s->model.d.max_tokens;
    as_mem_free(&s->mem, s->ring, t * sizeof *s->ring);
    as_mem_free(&s->mem, s->ids, t * sizeof *s->ids);
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
    s->ring = ring;
    s->ids = ids;
    s->loaded = 1;
    return AS_OK;
}

static void take_word(void *arg, const char *tok, size_t len)
{
    lstm_state_t *s = arg;
    uint32_t id = as_lstm_model_word(&s->model, as_lstm_token_hash(tok, len));
    s->words++;
    if (!id) s->oov_words++;
    s->ring[s->n_seen++ % s->model.d.max_tokens] = id;
}

static int32_t lstm_predict(void *state, const as_pred_ctx_t *ctx)
{
    lstm_state_t *s = state;
    if (!s->loaded) return AS_CLASS_NONE;
    s->predictions++;
    s->n_seen = 0;
    as_pred_ctx_frames(ctx);
    as_lstm_tokenize_stack(ctx->symbols, ctx->modules, ctx->depth, ctx->size,
                           take_word, s);
    uint32_t t = s->model.d.max_tokens;
    uint32_t n = s->n_seen < t ? s->n_seen : t;
    uint32_t start = s->n_seen - n;
    for (uint32_t i = 0; i < n; i++)
        s->ids[i] = s->ring[(start + i) % t];
    return (int32_t)as_lstm_model_forward(&s->model, s->ids, n, NULL);
}

static void lstm_stats(void *state, as_pred_stat_fn fn, void *arg)
{
    const lstm_state_t *s = state;
    fn(arg, "lstm_predictions", (double)s->predictions);
    fn(arg, "lstm_words", (double)s->words);
    fn(arg, "lstm_oov_words", (double)s->oov_words);
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

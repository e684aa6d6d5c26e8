/* lstmdata.c - contexts, merging and vocabulary for LSTM training (see
 * lstmdata.h).
 *
 * Owns the words (strings and hashes), the distinct contexts (word-hash
 * sequences in one pool, class counts) and, after build, the id form of
 * the data. Two open-addressing indexes: words by hash, contexts by the
 * hash of their sequence (compared in full on a match). Host code.
 */
#include "sim/lstmdata.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/util.h"
#include "predictors/lstm/tokens.h"

typedef struct {
    uint64_t hash;
    char text[AS_LSTM_TOKEN_MAX];
    uint8_t len;
    uint32_t contexts; /* distinct contexts that hold it */
    uint32_t last_ctx; /* the last context counted (+1), to count once */
    uint32_t id;       /* after build; 0 = out of vocabulary */
} word_t;

typedef struct {
    uint64_t key; /* hash of the sequence */
    size_t start; /* in seq[] */
    uint32_t len; /* words */
} ctx_t;

struct as_lstm_corpus {
    uint32_t classes, max_tokens;
    word_t *w;
    uint32_t nw, wcap;
    uint32_t *widx; /* word index + 1 per slot */
    uint32_t wmask;
    ctx_t *cx;
    uint32_t nc, ccap;
    uint32_t *cidx; /* context index + 1 per slot */
    uint32_t cmask;
    uint32_t *seq; /* word indexes of all contexts */
    size_t nseq, seqcap;
    double *count; /* ccap x classes */
    double allocs;
    uint64_t samples;
    /* the context being cut */
    uint32_t *cur;
    uint32_t ncur;
    int oom;
    /* after build */
    as_lstm_data_t data;
    const char **words;
    uint8_t *lens;
};

as_lstm_corpus_t *as_lstm_corpus_create(uint32_t classes, uint32_t max_tokens)
{
    as_lstm_corpus_t *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->classes = classes;
    c->max_tokens = max_tokens;
    c->wmask = c->cmask = 1023;
    c->widx = calloc(1024, sizeof *c->widx);
    c->cidx = calloc(1024, sizeof *c->cidx);
    c->cur = malloc((size_t)max_tokens * sizeof *c->cur);
    if (!c->widx || !c->cidx || !c->cur) {
        as_lstm_corpus_destroy(c);
        return NULL;
    }
    return c;
}

void as_lstm_corpus_destroy(as_lstm_corpus_t *c)
{
    if (!c) return;
    free(c->w);
    free(c->widx);
    free(c->cx);
    free(c->cidx);
    free(c->seq);
    free(c->count);
    free(c->cur);
    free(c->data.off);
    free(c->data.tok);
    free(c->words);
    free(c->lens);
    free(c);
}

/* Double an index of mask+1 slots, re-placing every entry by its key. */
static int grow_index(uint32_t **idx, uint32_t *mask, uint32_t n,
                      uint64_t (*key)(const as_lstm_corpus_t *, uint32_t),
                      const as_lstm_corpus_t *c)
{
    uint32_t nm = 2 * (*mask + 1) - 1;
    uint32_t *ni = calloc((size_t)nm + 1, sizeof *ni);
    if (!ni) return AS_ENOMEM;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t s = (uint32_t)as_hash64(key(c, i)) & nm;
        while (ni[s])
            s = (s + 1) & nm;
        ni[s] = i + 1;
    }
    free(*idx);
    *idx = ni;
    *mask = nm;
    return AS_OK;
}

static uint64_t word_key(const as_lstm_corpus_t *c, uint32_t i)
{
    return c->w[i].hash;
}

static uint64_t ctx_key(const as_lstm_corpus_t *c, uint32_t i)
{
    return c->cx[i].key;
}

/* The index of a word, added when new; UINT32_MAX when out of memory. */
static uint32_t word_of(as_lstm_corpus_t *c, const char *t, size_t len)
{
    uint64_t h = as_lstm_token_hash(t, len);
    uint32_t s = (uint32_t)as_hash64(h) & c->wmask;
    for (; c->widx[s]; s = (s + 1) & c->wmask) {
        word_t *x = &c->w[c->widx[s] - 1];
        if (x->hash == h) return c->widx[s] - 1;
    }
    if (c->nw == c->wcap) {
        uint32_t nc = c->wcap ? 2 * c->wcap : 256;
        word_t *nw = realloc(c->w, nc * sizeof *nw);
        if (!nw) return UINT32_MAX;
        c->w = nw;
        c->wcap = nc;
    }
    word_t *x = &c->w[c->nw];
    memset(x, 0, sizeof *x);
    x->hash = h;
    x->len = (uint8_t)len;
    memcpy(x->text, t, len);
    c->widx[s] = ++c->nw;
    if (2 * c->nw > c->wmask &&
        grow_index(&c->widx, &c->wmask, c->nw, word_key, c) != AS_OK)
        return UINT32_MAX;
    return c->nw - 1;
}

/* Keep the last max_tokens words of the context being cut. */
static void take(void *arg, const char *t, size_t len)
{
    as_lstm_corpus_t *c = arg;
    uint32_t wi = word_of(c, t, len);
    if (wi == UINT32_MAX) {
        c->oom = 1;
        return;
    }
    if (c->ncur == c->max_tokens) {
        memmove(c->cur, c->cur + 1, (c->ncur - 1) * sizeof *c->cur);
        c->ncur--;
    }
    c->cur[c->ncur++] = wi;
}

int as_lstm_corpus_add(as_lstm_corpus_t *c, const char *const *symbols,
                       const char *const *modules, uint32_t depth,
                       uint64_t size, uint32_t cls, double n)
{
    c->ncur = 0;
    c->oom = 0;
    as_lstm_tokenize_stack(symbols, modules, depth, size, take, c);
    if (c->oom) return AS_ENOMEM;
    uint64_t key = 0x243f6a8885a308d3ull ^ c->ncur;
    for (uint32_t i = 0; i < c->ncur; i++)
        key = as_hash64(key ^ c->w[c->cur[i]].hash);
    uint32_t s = (uint32_t)as_hash64(key) & c->cmask;
    for (; c->cidx[s]; s = (s + 1) & c->cmask) {
        ctx_t *x = &c->cx[c->cidx[s] - 1];
        if (x->key == key && x->len == c->ncur &&
            !memcmp(c->seq + x->start, c->cur, c->ncur * sizeof *c->cur))
            break;
    }
    uint32_t ci;
    if (c->cidx[s]) {
        ci = c->cidx[s] - 1;
    } else {
        if (c->nc == c->ccap) {
            uint32_t nc = c->ccap ? 2 * c->ccap : 256;
            ctx_t *nx = realloc(c->cx, nc * sizeof *nx);
            if (nx) c->cx = nx;
            double *ncount =
                realloc(c->count, (size_t)nc * c->classes * sizeof *ncount);
            if (ncount) c->count = ncount;
            if (!nx || !ncount) return AS_ENOMEM;
            c->ccap = nc;
        }
        if (c->nseq + c->ncur > c->seqcap) {
            size_t ns = c->seqcap ? 2 * c->seqcap : 4096;
            while (ns < c->nseq + c->ncur)
                ns *= 2;
            uint32_t *nq = realloc(c->seq, ns * sizeof *nq);
            if (!nq) return AS_ENOMEM;
            c->seq = nq;
            c->seqcap = ns;
        }
        ci = c->nc++;
        ctx_t *x = &c->cx[ci];
        x->key = key;
        x->start = c->nseq;
        x->len = c->ncur;
        memcpy(c->seq + c->nseq, c->cur, c->ncur * sizeof *c->cur);
        c->nseq += c->ncur;
        memset(c->count + (size_t)ci * c->classes, 0,
               c->classes * sizeof *c->count);
        for (uint32_t i = 0; i < c->ncur; i++) {
            word_t *w = &c->w[c->cur[i]];
            if (w->last_ctx != ci + 1) {
                w->last_ctx = ci + 1;
                w->contexts++;
            }
        }
        c->cidx[s] = ci + 1;
        if (2 * c->nc > c->cmask &&
            grow_index(&c->cidx, &c->cmask, c->nc, ctx_key, c) != AS_OK)
            return AS_ENOMEM;
    }
    if (cls >= c->classes) cls = c->classes - 1;
    c->count[(size_t)ci * c->classes + cls] += n;
    c->allocs += n;
    return AS_OK;
}

typedef struct {
    as_lstm_corpus_t *c;
    uint64_t sample_bytes, seed;
    int rc;
} add_arg_t;

static void add_one(void *arg, const as_lifewalk_alloc_t *a)
{
    add_arg_t *x = arg;
    if (x->rc != AS_OK) return;
    double n = 1;
    if (x->sample_bytes) {
        if (a->lifetime_ns == AS_LIFETIME_INF) return; /* outlived the window */
        double s = a->ctx.size ? (double)a->ctx.size : 1;
        double p = 1 - exp(-s / (double)x->sample_bytes);
        double u = (double)(as_hash64(a->ctx.object ^ x->seed) >> 11) *
                   (1.0 / 9007199254740992.0);
        if (u >= p) return;
        n = 1 / p;
    }
    x->c->samples++;
    x->rc = as_lstm_corpus_add(x->c, a->ctx.symbols, a->ctx.modules,
                               a->ctx.depth, a->ctx.size, a->cls, n);
}

int as_lstm_corpus_add_trace(as_lstm_corpus_t *c, const char *path,
                             const as_classes_t *cl, uint64_t sample_bytes,
                             uint64_t seed, char *err, size_t errcap)
{
    add_arg_t x = {c, sample_bytes, as_hash64(seed ^ 0x5a3b1e), AS_OK};
    int rc = as_lifewalk_trace(path, cl, add_one, &x, err, errcap);
    return rc != AS_OK ? rc : x.rc;
}

int as_lstm_corpus_build(as_lstm_corpus_t *c, uint32_t min_contexts,
                         as_lstm_data_t *out)
{
    uint32_t v = 1;
    for (uint32_t i = 0; i < c->nw; i++)
        c->w[i].id = c->w[i].contexts >= min_contexts ? v++ : 0;
    free(c->words);
    free(c->lens);
    free(c->data.off);
    free(c->data.tok);
    c->words = malloc(v * sizeof *c->words);
    c->lens = malloc(v);
    c->data.off = malloc(((size_t)c->nc + 1) * sizeof *c->data.off);
    c->data.tok = malloc((c->nseq ? c->nseq : 1) * sizeof *c->data.tok);
    if (!c->words || !c->lens || !c->data.off || !c->data.tok) return AS_ENOMEM;
    for (uint32_t i = 0; i < c->nw; i++)
        if (c->w[i].id) {
            c->words[c->w[i].id - 1] = c->w[i].text;
            c->lens[c->w[i].id - 1] = c->w[i].len;
        }
    size_t k = 0;
    for (uint32_t i = 0; i < c->nc; i++) {
        c->data.off[i] = (uint32_t)k;
        for (uint32_t j = 0; j < c->cx[i].len; j++)
            c->data.tok[k++] = c->w[c->seq[c->cx[i].start + j]].id;
    }
    c->data.off[c->nc] = (uint32_t)k;
    c->data.classes = c->classes;
    c->data.vocab = v;
    c->data.n = c->nc;
    c->data.count = c->count;
    *out = c->data;
    return AS_OK;
}

uint32_t as_lstm_corpus_words(const as_lstm_corpus_t *c,
                              const char *const **words, const uint8_t **lens)
{
    *words = c->words;
    *lens = c->lens;
    return c->data.vocab;
}

uint64_t as_lstm_corpus_samples(const as_lstm_corpus_t *c)
{
    return c->samples;
}

double as_lstm_corpus_allocs(const as_lstm_corpus_t *c)
{
    return c->allocs;
}

uint32_t as_lstm_corpus_contexts(const as_lstm_corpus_t *c)
{
    return c->nc;
}

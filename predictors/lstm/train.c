/* train.c - mini-batch training of the LSTM lifetime model (see train.h).
 *
 * Owns the double-precision network, Adam's moments and the per-batch
 * activations kept for back-propagation. Matrix products of a batch go
 * through GSL's CBLAS (row-major dgemm); the element-wise gate arithmetic
 * is plain loops. Host code: it allocates with libc and is never linked
 * into the allocator (the model it writes is read by model.c).
 */
#include "predictors/lstm/train.h"

#include <gsl/gsl_cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"

struct as_lstm_net {
    as_lstm_dims_t d;
    as_lstm_layout_t lay;
    double *p, *m, *v; /* weights, Adam's first and second moments */
    uint64_t step;     /* Adam steps taken */
    /* Activations of the last batch: B contexts, T steps. */
    uint32_t bcap, tcap;
    uint32_t B, T;
    uint32_t *len;                   /* B: words of each context */
    uint32_t *tok;                   /* T x B word ids (0 = padding) */
    double *x0;                      /* T x B x E embeddings */
    double *hs[AS_LSTM_MAX_LAYERS];  /* (T+1) x B x H, step 0 zero */
    double *cs[AS_LSTM_MAX_LAYERS];  /* (T+1) x B x H */
    double *act[AS_LSTM_MAX_LAYERS]; /* T x B x 4H: i, f, g, o */
    double *ext;                     /* T x B x H: layer 1's dX */
    double *G, *dh, *dc, *dx;        /* B x 4H, B x H, B x H, B x E|H */
    double *logit, *dlogit;          /* B x C each */
};

/* ------------------------------------------------------------ random */

static uint64_t splitmix(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static double uniform(uint64_t *s) /* [0, 1) */
{
    return (double)(splitmix(s) >> 11) * (1.0 / 9007199254740992.0);
}

static void shuffle(uint32_t *a, uint32_t n, uint64_t *s)
{
    for (uint32_t i = n; i > 1; i--) {
        uint32_t j = (uint32_t)(splitmix(s) % i);
        uint32_t t = a[i - 1];
        a[i - 1] = a[j];
        a[j] = t;
    }
}

/* ------------------------------------------------------------ the net */

void as_lstm_hparams_default(as_lstm_hparams_t *hp)
{
    memset(hp, 0, sizeof *hp);
    hp->embed = 16;
    hp->hidden = 32;
    hp->layers = 1;
    hp->max_tokens = 32;
    hp->epochs = 30;
    hp->batch = 32;
    hp->bptt = 1024;
    hp->patience = 4;
    hp->weighting = AS_LSTM_WEIGHT_SQRT;
    hp->lr = 0.01;
    hp->clip = 5;
    hp->valid_frac = 0.1;
    hp->seed = 1;
    for (int c = 0; c < AS_MAX_CLASSES; c++)
        hp->class_weight[c] = 1;
}

as_lstm_net_t *as_lstm_net_create(const as_lstm_dims_t *d, uint64_t seed)
{
    as_lstm_net_t *n = calloc(1, sizeof *n);
    if (!n) return NULL;
    n->d = *d;
    as_lstm_layout(d, &n->lay);
    size_t t = n->lay.total;
    n->p = calloc(t, sizeof *n->p);
    n->m = calloc(t, sizeof *n->m);
    n->v = calloc(t, sizeof *n->v);
    if (!n->p || !n->m || !n->v) {
        as_lstm_net_destroy(n);
        return NULL;
    }
    uint64_t s = seed;
    double a = 1.0 / sqrt((double)d->hidden);
    for (size_t i = 0; i < t; i++)
        n->p[i] = (2 * uniform(&s) - 1) * a;
    for (size_t i = 0; i < (size_t)d->vocab * d->embed; i++)
        n->p[n->lay.emb + i] = (2 * uniform(&s) - 1) * 0.5;
    for (uint32_t l = 0; l < d->layers; l++)
        for (uint32_t k = 0; k < 4 * d->hidden; k++)
            n->p[n->lay.b[l] + k] = k / d->hidden == 1 ? 1.0 : 0.0;
    for (uint32_t k = 0; k < d->classes; k++)
        n->p[n->lay.by + k] = 0;
    return n;
}

static void free_batch(as_lstm_net_t *n)
{
    free(n->len);
    free(n->tok);
    free(n->x0);
    for (int l = 0; l < AS_LSTM_MAX_LAYERS; l++) {
        free(n->hs[l]);
        free(n->cs[l]);
        free(n->act[l]);
        n->hs[l] = n->cs[l] = n->act[l] = NULL;
    }
    free(n->ext);
    free(n->G);
    free(n->dh);
    free(n->dc);
    free(n->dx);
    free(n->logit);
    free(n->dlogit);
    n->len = n->tok = NULL;
    n->x0 = n->ext = n->G = n->dh = n->dc = n->dx = NULL;
    n->logit = n->dlogit = NULL;
    n->bcap = n->tcap = 0;
}

void as_lstm_net_destroy(as_lstm_net_t *n)
{
    if (!n) return;
    free_batch(n);
    free(n->p);
    free(n->m);
    free(n->v);
    free(n);
}

double *as_lstm_net_params(as_lstm_net_t *n, as_lstm_layout_t *lay)
{
    if (lay) *lay = n->lay;
    return n->p;
}

/* Room for B contexts of T steps. @return 0 or AS_ENOMEM. */
static int reserve(as_lstm_net_t *n, uint32_t B, uint32_t T)
{
    if (B <= n->bcap && T <= n->tcap) return AS_OK;
    if (B < n->bcap) B = n->bcap;
    if (T < n->tcap) T = n->tcap;
    free_batch(n);
    size_t b = B, t = T, H = n->d.hidden, E = n->d.embed;
    size_t wide = E > H ? E : H;
    int ok = 1;
    ok &= (n->len = calloc(b, sizeof *n->len)) != NULL;
    ok &= (n->tok = calloc(t * b, sizeof *n->tok)) != NULL;
    ok &= (n->x0 = calloc(t * b * E, sizeof *n->x0)) != NULL;
    for (uint32_t l = 0; l < n->d.layers; l++) {
        ok &= (n->hs[l] = calloc((t + 1) * b * H, sizeof(double))) != NULL;
        ok &= (n->cs[l] = calloc((t + 1) * b * H, sizeof(double))) != NULL;
        ok &= (n->act[l] = calloc(t * b * 4 * H, sizeof(double))) != NULL;
    }
    ok &= (n->ext = calloc(t * b * H, sizeof *n->ext)) != NULL;
    ok &= (n->G = calloc(b * 4 * H, sizeof *n->G)) != NULL;
    ok &= (n->dh = calloc(b * H, sizeof *n->dh)) != NULL;
    ok &= (n->dc = calloc(b * H, sizeof *n->dc)) != NULL;
    ok &= (n->dx = calloc(b * wide, sizeof *n->dx)) != NULL;
    ok &= (n->logit = calloc(b * n->d.classes, sizeof *n->logit)) != NULL;
    ok &= (n->dlogit = calloc(b * n->d.classes, sizeof *n->dlogit)) != NULL;
    if (!ok) {
        free_batch(n);
        return AS_ENOMEM;
    }
    n->bcap = B;
    n->tcap = T;
    return AS_OK;
}

static double sigm(double x)
{
    return 1.0 / (1.0 + exp(-x));
}

/* Step t of context b is a real word (the batch is aligned at the end). */
static int active(const as_lstm_net_t *n, uint32_t b, uint32_t t)
{
    return t + n->len[b] >= n->T;
}

/* Forward pass over contexts idx[0..k): activations and logits. */
static int forward(as_lstm_net_t *n, const as_lstm_data_t *data,
                   const uint32_t *idx, uint32_t k)
{
    const as_lstm_dims_t *d = &n->d;
    uint32_t T = 1;
    for (uint32_t b = 0; b < k; b++) {
        uint32_t len = data->off[idx[b] + 1] - data->off[idx[b]];
        if (len > d->max_tokens) len = d->max_tokens;
        if (len > T) T = len;
    }
    if (reserve(n, k, T) != AS_OK) return AS_ENOMEM;
    n->B = k;
    n->T = T;
    const size_t B = k, H = d->hidden, E = d->embed, H4 = 4 * H;
    for (uint32_t b = 0; b < k; b++) {
        uint32_t lo = data->off[idx[b]], hi = data->off[idx[b] + 1];
        uint32_t len = hi - lo;
        if (len > d->max_tokens) {
            lo = hi - d->max_tokens;
            len = d->max_tokens;
        }
        n->len[b] = len;
        for (uint32_t t = 0; t < T; t++) {
            uint32_t id = active(n, b, t) ? data->tok[lo + t - (T - len)] : 0;
            n->tok[t * B + b] = id;
            memcpy(n->x0 + (t * B + b) * E, n->p + n->lay.emb + id * E,
                   E * sizeof(double));
        }
    }
    for (uint32_t l = 0; l < d->layers; l++) {
        const size_t in = l == 0 ? E : H, cols = in + H;
        const double *W = n->p + n->lay.w[l], *bias = n->p + n->lay.b[l];
        memset(n->hs[l], 0, B * H * sizeof(double));
        memset(n->cs[l], 0, B * H * sizeof(double));
        for (uint32_t t = 0; t < T; t++) {
            const double *X =
                l == 0 ? n->x0 + t * B * E : n->hs[l - 1] + (t + 1) * B * H;
            const double *hp = n->hs[l] + t * B * H, *cp = n->cs[l] + t * B * H;
            double *h = n->hs[l] + (t + 1) * B * H,
                   *c = n->cs[l] + (t + 1) * B * H, *a = n->act[l] + t * B * H4;
            for (size_t b = 0; b < B; b++)
                memcpy(a + b * H4, bias, H4 * sizeof(double));
            cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)B,
                        (int)H4, (int)in, 1.0, X, (int)in, W, (int)cols, 1.0, a,
                        (int)H4);
            cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)B,
                        (int)H4, (int)H, 1.0, hp, (int)H, W + in, (int)cols,
                        1.0, a, (int)H4);
            for (size_t b = 0; b < B; b++) {
                double *ab = a + b * H4;
                if (!active(n, (uint32_t)b, t)) {
                    memset(ab, 0, H4 * sizeof(double));
                    memset(h + b * H, 0, H * sizeof(double));
                    memset(c + b * H, 0, H * sizeof(double));
                    continue;
                }
                for (size_t j = 0; j < H; j++) {
                    double ig = sigm(ab[j]), fg = sigm(ab[H + j]),
                           gg = tanh(ab[2 * H + j]), og = sigm(ab[3 * H + j]);
                    ab[j] = ig;
                    ab[H + j] = fg;
                    ab[2 * H + j] = gg;
                    ab[3 * H + j] = og;
                    double cc = fg * cp[b * H + j] + ig * gg;
                    c[b * H + j] = cc;
                    h[b * H + j] = og * tanh(cc);
                }
            }
        }
    }
    const double *top = n->hs[d->layers - 1] + (size_t)T * B * H;
    for (size_t b = 0; b < B; b++)
        memcpy(n->logit + b * d->classes, n->p + n->lay.by,
               d->classes * sizeof(double));
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)B,
                (int)d->classes, (int)H, 1.0, top, (int)H, n->p + n->lay.wy,
                (int)H, 1.0, n->logit, (int)d->classes);
    return AS_OK;
}

/* The weight of one context (before class weights). */
static double ctx_weight(const as_lstm_data_t *data, uint32_t i, int weighting)
{
    double tot = 0;
    for (uint32_t c = 0; c < data->classes; c++)
        tot += data->count[(size_t)i * data->classes + c];
    if (tot <= 0) return 0;
    if (weighting == AS_LSTM_WEIGHT_CONTEXT) return 1 / tot;
    if (weighting == AS_LSTM_WEIGHT_SQRT) return 1 / sqrt(tot);
    return 1;
}

/* Back-propagate layer l from the top step down `bptt` steps; dh holds the
 * gradient into its last hidden state, ext the gradients into each step's
 * hidden state from the layer above (layer 0 only). */
static void backward_layer(as_lstm_net_t *n, uint32_t l, uint32_t bptt,
                           double *grad)
{
    const as_lstm_dims_t *d = &n->d;
    const size_t B = n->B, T = n->T, H = d->hidden, E = d->embed, H4 = 4 * H;
    const size_t in = l == 0 ? E : H, cols = in + H;
    const double *W = n->p + n->lay.w[l];
    double *dW = grad + n->lay.w[l], *db = grad + n->lay.b[l];
    memset(n->dc, 0, B * H * sizeof(double));
    uint32_t stop = T > bptt ? (uint32_t)(T - bptt) : 0;
    for (size_t t = T; t-- > stop;) {
        const double *a = n->act[l] + t * B * H4,
                     *c = n->cs[l] + (t + 1) * B * H,
                     *cp = n->cs[l] + t * B * H, *hp = n->hs[l] + t * B * H;
        if (l + 1 < d->layers) /* from the layer above at this step */
            for (size_t i = 0; i < B * H; i++)
                n->dh[i] += n->ext[t * B * H + i];
        for (size_t b = 0; b < B; b++) {
            const double *ab = a + b * H4;
            double *g = n->G + b * H4;
            if (!active(n, (uint32_t)b, (uint32_t)t)) {
                memset(g, 0, H4 * sizeof(double));
                for (size_t j = 0; j < H; j++)
                    n->dc[b * H + j] = 0;
                continue;
            }
            for (size_t j = 0; j < H; j++) {
                double ig = ab[j], fg = ab[H + j], gg = ab[2 * H + j],
                       og = ab[3 * H + j];
                double tc = tanh(c[b * H + j]), dh = n->dh[b * H + j];
                double dc = n->dc[b * H + j] + dh * og * (1 - tc * tc);
                g[j] = dc * gg * ig * (1 - ig);
                g[H + j] = dc * cp[b * H + j] * fg * (1 - fg);
                g[2 * H + j] = dc * ig * (1 - gg * gg);
                g[3 * H + j] = dh * tc * og * (1 - og);
                n->dc[b * H + j] = dc * fg;
            }
        }
        const double *X =
            l == 0 ? n->x0 + t * B * E : n->hs[l - 1] + (t + 1) * B * H;
        /* dW_x += G^T X, dW_h += G^T h_{t-1}, db += sum G */
        cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)H4, (int)in,
                    (int)B, 1.0, n->G, (int)H4, X, (int)in, 1.0, dW, (int)cols);
        cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)H4, (int)H,
                    (int)B, 1.0, n->G, (int)H4, hp, (int)H, 1.0, dW + in,
                    (int)cols);
        for (size_t b = 0; b < B; b++)
            for (size_t j = 0; j < H4; j++)
                db[j] += n->G[b * H4 + j];
        /* dX = G W_x: into the embedding rows, or the layer below */
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)B, (int)in,
                    (int)H4, 1.0, n->G, (int)H4, W, (int)cols, 0.0, n->dx,
                    (int)in);
        if (l == 0) {
            for (size_t b = 0; b < B; b++) {
                double *de = grad + n->lay.emb + n->tok[t * B + b] * E;
                for (size_t j = 0; j < E; j++)
                    de[j] += n->dx[b * E + j];
            }
        } else {
            memcpy(n->ext + t * B * H, n->dx, B * H * sizeof(double));
        }
        /* dh_{t-1} = G W_h */
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)B, (int)H,
                    (int)H4, 1.0, n->G, (int)H4, W + in, (int)cols, 0.0, n->dh,
                    (int)H);
    }
}

double as_lstm_net_loss(as_lstm_net_t *n, const as_lstm_data_t *data,
                        const uint32_t *idx, uint32_t k, int weighting,
                        const double *class_weight, uint32_t bptt, double *grad)
{
    const as_lstm_dims_t *d = &n->d;
    if (grad) memset(grad, 0, n->lay.total * sizeof(double));
    if (k == 0) return 0;
    if (forward(n, data, idx, k) != AS_OK) return -1;
    const size_t B = k, C = d->classes, H = d->hidden;
    double loss = 0, Z = 0;
    for (size_t b = 0; b < B; b++) {
        double *z = n->logit + b * C, mx = z[0], s = 0;
        for (size_t c = 1; c < C; c++)
            if (z[c] > mx) mx = z[c];
        for (size_t c = 0; c < C; c++)
            s += exp(z[c] - mx);
        double lse = mx + log(s), w = ctx_weight(data, idx[b], weighting);
        double S = 0;
        const double *cnt = data->count + (size_t)idx[b] * C;
        for (size_t c = 0; c < C; c++) {
            double nc = cnt[c] * w * class_weight[c];
            loss += nc * (lse - z[c]);
            S += nc;
        }
        Z += S;
        /* dloss/dz times Z: the softmax times S minus the targets */
        for (size_t c = 0; c < C; c++)
            n->dlogit[b * C + c] =
                S * exp(z[c] - lse) - cnt[c] * w * class_weight[c];
    }
    if (Z <= 0) return 0;
    loss /= Z;
    if (!grad) return loss;
    for (size_t i = 0; i < B * C; i++)
        n->dlogit[i] /= Z;
    const double *top = n->hs[d->layers - 1] + (size_t)n->T * B * H;
    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)C, (int)H, (int)B,
                1.0, n->dlogit, (int)C, top, (int)H, 0.0, grad + n->lay.wy,
                (int)H);
    for (size_t b = 0; b < B; b++)
        for (size_t c = 0; c < C; c++)
            grad[n->lay.by + c] += n->dlogit[b * C + c];
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)B, (int)H,
                (int)C, 1.0, n->dlogit, (int)C, n->p + n->lay.wy, (int)H, 0.0,
                n->dh, (int)H);
    memset(n->ext, 0, (size_t)n->T * B * H * sizeof(double));
    for (uint32_t l = d->layers; l-- > 0;) {
        if (l + 1 < d->layers) memset(n->dh, 0, B * H * sizeof(double));
        backward_layer(n, l, bptt, grad);
    }
    return loss;
}

uint32_t as_lstm_net_classify(as_lstm_net_t *n, const as_lstm_data_t *data,
                              uint32_t i)
{
    if (forward(n, data, &i, 1) != AS_OK) return 0;
    uint32_t best = 0;
    for (uint32_t c = 1; c < n->d.classes; c++)
        if (n->logit[c] >= n->logit[best]) best = c;
    return best;
}

/* ------------------------------------------------------------ training */

static void adam(as_lstm_net_t *n, double *g, const as_lstm_hparams_t *hp)
{
    size_t t = n->lay.total;
    if (hp->clip > 0) {
        double ss = 0;
        for (size_t i = 0; i < t; i++)
            ss += g[i] * g[i];
        double norm = sqrt(ss);
        if (norm > hp->clip)
            for (size_t i = 0; i < t; i++)
                g[i] *= hp->clip / norm;
    }
    const double b1 = 0.9, b2 = 0.999, eps = 1e-8;
    n->step++;
    double c1 = 1 - pow(b1, (double)n->step), c2 = 1 - pow(b2, (double)n->step);
    for (size_t i = 0; i < t; i++) {
        n->m[i] = b1 * n->m[i] + (1 - b1) * g[i];
        n->v[i] = b2 * n->v[i] + (1 - b2) * g[i] * g[i];
        n->p[i] -= hp->lr * (n->m[i] / c1) / (sqrt(n->v[i] / c2) + eps);
    }
}

/* Loss and allocation-weighted accuracy over a set of contexts. */
static int evaluate(as_lstm_net_t *n, const as_lstm_data_t *data,
                    const uint32_t *set, uint32_t k,
                    const as_lstm_hparams_t *hp, double *loss, double *acc)
{
    double lsum = 0, wsum = 0, right = 0, all = 0;
    const uint32_t C = data->classes;
    for (uint32_t s = 0; s < k; s += hp->batch) {
        uint32_t m = k - s < hp->batch ? k - s : hp->batch;
        double l = as_lstm_net_loss(n, data, set + s, m, hp->weighting,
                                    hp->class_weight, hp->bptt, NULL);
        if (l < 0) return AS_ENOMEM;
        double w = 0;
        for (uint32_t b = 0; b < m; b++) {
            const double *cnt = data->count + (size_t)set[s + b] * C;
            double cw = ctx_weight(data, set[s + b], hp->weighting);
            uint32_t best = 0;
            for (uint32_t c = 0; c < C; c++) {
                w += cnt[c] * cw * hp->class_weight[c];
                all += cnt[c];
                if (n->logit[b * C + c] >= n->logit[b * C + best]) best = c;
            }
            right += cnt[best];
        }
        lsum += l * w;
        wsum += w;
    }
    *loss = wsum > 0 ? lsum / wsum : 0;
    *acc = all > 0 ? right / all : 0;
    return AS_OK;
}

uint32_t as_lstm_split(uint32_t n, const as_lstm_hparams_t *hp, uint32_t *order,
                       uint64_t *rng)
{
    uint64_t r = hp->seed ^ 0x5eed0f1a57ull;
    for (uint32_t i = 0; i < n; i++)
        order[i] = i;
    shuffle(order, n, &r);
    if (rng) *rng = r;
    return n >= 10 ? (uint32_t)(hp->valid_frac * n) : 0;
}

int as_lstm_train(as_lstm_net_t *n, const as_lstm_data_t *data,
                  const as_lstm_hparams_t *hp, as_lstm_progress_fn progress,
                  void *arg, as_lstm_result_t *res)
{
    memset(res, 0, sizeof *res);
    uint64_t rng;
    uint32_t N = data->n;
    uint32_t *order = malloc((N ? N : 1) * sizeof *order);
    double *grad = malloc(n->lay.total * sizeof *grad);
    double *best = malloc(n->lay.total * sizeof *best);
    if (!order || !grad || !best) {
        free(order);
        free(grad);
        free(best);
        return AS_ENOMEM;
    }
    uint32_t nv = as_lstm_split(N, hp, order, &rng);
    const uint32_t *valid = order, *train_set = order + nv;
    uint32_t nt = N - nv;
    uint32_t *perm = malloc((nt ? nt : 1) * sizeof *perm);
    if (!perm) {
        free(order);
        free(grad);
        free(best);
        return AS_ENOMEM;
    }
    memcpy(perm, train_set, nt * sizeof *perm);
    res->n_train = nt;
    res->n_valid = nv;
    res->valid_loss = res->valid_acc = -1;
    double best_loss = INFINITY;
    uint32_t since = 0;
    int rc = AS_OK;
    for (uint32_t ep = 1; ep <= hp->epochs && rc == AS_OK; ep++) {
        shuffle(perm, nt, &rng);
        double lsum = 0;
        uint32_t nb = 0;
        for (uint32_t s = 0; s < nt; s += hp->batch) {
            uint32_t m = nt - s < hp->batch ? nt - s : hp->batch;
            double l = as_lstm_net_loss(n, data, perm + s, m, hp->weighting,
                                        hp->class_weight, hp->bptt, grad);
            if (l < 0) {
                rc = AS_ENOMEM;
                break;
            }
            adam(n, grad, hp);
            lsum += l;
            nb++;
        }
        if (rc != AS_OK) break;
        as_lstm_epoch_t e = {.epoch = ep,
                             .epochs = hp->epochs,
                             .train_loss = nb ? lsum / nb : 0,
                             .valid_loss = -1,
                             .valid_acc = -1};
        res->epochs_run = ep;
        res->train_loss = e.train_loss;
        if (nv) {
            rc = evaluate(n, data, valid, nv, hp, &e.valid_loss, &e.valid_acc);
            if (rc != AS_OK) break;
            if (e.valid_loss < best_loss - 1e-12) {
                best_loss = e.valid_loss;
                memcpy(best, n->p, n->lay.total * sizeof *best);
                res->best_epoch = ep;
                res->valid_loss = e.valid_loss;
                res->valid_acc = e.valid_acc;
                e.best = 1;
                since = 0;
            } else {
                since++;
            }
        } else {
            res->best_epoch = ep;
            e.best = 1;
        }
        if (progress) progress(arg, &e);
        if (nv && since >= hp->patience) break;
    }
    if (rc == AS_OK && nv && res->best_epoch)
        memcpy(n->p, best, n->lay.total * sizeof *best);
    free(order);
    free(perm);
    free(grad);
    free(best);
    return rc;
}

size_t as_lstm_net_write(const as_lstm_net_t *n, const uint64_t *bound_ns,
                         const char *const *words, const uint8_t *lens,
                         uint8_t *buf, size_t cap)
{
    float *f = malloc(n->lay.total * sizeof *f);
    if (!f) return 0;
    for (size_t i = 0; i < n->lay.total; i++)
        f[i] = (float)n->p[i];
    size_t len = as_lstm_model_write(&n->d, bound_ns, words, lens, f, buf, cap);
    free(f);
    return len;
}

/* model.c - the LSTM model file: checking loader, writer, forward pass.
 *
 * Owns a loaded model's memory (weights, vocabulary index, scratch), all
 * taken from the as_mem_t given to parse and given back by free. The loader
 * treats the file as hostile: every count is bounded before it sizes
 * anything, every length is checked against the bytes left, every float
 * must be finite and the checksum must match. No libc beyond the allocator
 * shim's memcpy and the math functions (expf, tanhf); no I/O.
 */
#include "predictors/lstm/model.h"

#include <math.h>
#include <string.h>

#include "common/error.h"
#include "predictors/lstm/tokens.h"

void as_lstm_layout(const as_lstm_dims_t *d, as_lstm_layout_t *lay)
{
    size_t off = 0, h = d->hidden;
    lay->emb = off;
    off += (size_t)d->vocab * d->embed;
    for (uint32_t l = 0; l < AS_LSTM_MAX_LAYERS; l++) {
        size_t in = l == 0 ? d->embed : h;
        lay->w[l] = off;
        if (l < d->layers) off += 4 * h * (in + h);
        lay->b[l] = off;
        if (l < d->layers) off += 4 * h;
    }
    lay->wy = off;
    off += (size_t)d->classes * h;
    lay->by = off;
    off += d->classes;
    lay->total = off;
}

/* ------------------------------------------------------------ reading */

typedef struct {
    const uint8_t *p;
    size_t len, off;
    const char *what;
} rd_t;

static uint64_t fnv(const uint8_t *p, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

static int need(rd_t *r, size_t n, const char *what)
{
    if (r->len - r->off < n) {
        r->what = what;
        return 0;
    }
    return 1;
}

static uint32_t get_u32(rd_t *r)
{
    const uint8_t *p = r->p + r->off;
    r->off += 4;
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

static uint64_t get_u64(rd_t *r)
{
    uint64_t lo = get_u32(r);
    return lo | (uint64_t)get_u32(r) << 32;
}

/* A header field in [lo, hi]; on failure the offset stays at the field. */
static int field(rd_t *r, uint32_t *v, uint32_t lo, uint32_t hi,
                 const char *what)
{
    uint32_t x = get_u32(r);
    if (x < lo || x > hi) {
        r->off -= 4;
        r->what = what;
        return 0;
    }
    *v = x;
    return 1;
}

static size_t slots_for(uint32_t vocab)
{
    size_t n = 2;
    while (n < 2 * (size_t)vocab)
        n <<= 1;
    return n;
}

size_t as_lstm_scratch_floats(const as_lstm_dims_t *d)
{
    return (size_t)d->layers * 2 * d->hidden + 8 * (size_t)d->hidden +
           d->classes;
}

void as_lstm_model_free(as_lstm_model_t *m)
{
    size_t slots = m->vhash ? (size_t)m->vmask + 1 : 0;
    as_mem_free(&m->mem, m->param, m->lay.total * sizeof(float));
    as_mem_free(&m->mem, m->vhash, slots * sizeof(uint64_t));
    as_mem_free(&m->mem, m->vid, slots * sizeof(uint32_t));
    as_mem_free(&m->mem, m->scratch,
                as_lstm_scratch_floats(&m->d) * sizeof(float));
    if (m->xgate)
        as_mem_free(&m->mem, m->xgate,
                    as_lstm_xgate_floats(&m->d) * sizeof(float));
    m->xgate = NULL;
    m->param = NULL;
    m->vhash = NULL;
    m->vid = NULL;
    m->scratch = NULL;
}

uint32_t as_lstm_model_word(const as_lstm_model_t *m, uint64_t hash)
{
    for (uint32_t i = (uint32_t)hash & m->vmask;; i = (i + 1) & m->vmask) {
        if (m->vhash[i] == hash) return m->vid[i];
        if (!m->vhash[i]) return 0;
    }
}

/* Where weight i of the file goes in memory: the LSTM matrices are kept
 * transposed ((in + H) rows of 4H), so that the forward pass adds one
 * input's column to all gates at once, a loop the compiler vectorises. */
static size_t transposed(const as_lstm_model_t *m, size_t i)
{
    for (uint32_t l = 0; l < m->d.layers; l++) {
        size_t rows = 4 * (size_t)m->d.hidden, at = m->lay.w[l];
        size_t cols = (l == 0 ? m->d.embed : m->d.hidden) + m->d.hidden;
        if (i >= at && i < at + rows * cols) {
            size_t r = (i - at) / cols, k = (i - at) % cols;
            return at + k * rows + r;
        }
    }
    return i;
}

static int parse(as_lstm_model_t *m, rd_t *r)
{
    as_lstm_dims_t *d = &m->d;
    uint32_t version, reserved;
    if (!need(r, AS_LSTM_HEADER_BYTES, "file shorter than the 40-byte header"))
        return AS_EFORMAT;
    if (memcmp(r->p, AS_LSTM_MAGIC, 8) != 0) {
        r->what = "not an allocsim LSTM model (bad magic)";
        return AS_EFORMAT;
    }
    r->off = 8;
    if (!field(r, &version, AS_LSTM_VERSION, AS_LSTM_VERSION,
               "unsupported model version (this build reads 1)") ||
        !field(r, &d->classes, 2, AS_MAX_CLASSES, "classes not in 2..16") ||
        !field(r, &d->vocab, 1, AS_LSTM_MAX_VOCAB,
               "vocabulary size not in 1..1048576") ||
        !field(r, &d->embed, 1, AS_LSTM_MAX_WIDTH,
               "embedding width not in 1..256") ||
        !field(r, &d->hidden, 1, AS_LSTM_MAX_WIDTH,
               "hidden width not in 1..256") ||
        !field(r, &d->layers, 1, AS_LSTM_MAX_LAYERS, "layers not in 1..2") ||
        !field(r, &d->max_tokens, 1, AS_LSTM_MAX_WINDOW,
               "max_tokens not in 1..1024") ||
        !field(r, &reserved, 0, 0, "reserved field is not 0"))
        return AS_EFORMAT;
    if (!need(r, 8 * (size_t)(d->classes - 1), "file ends in the class bounds"))
        return AS_EFORMAT;
    for (uint32_t c = 0; c + 1 < d->classes; c++) {
        m->bound_ns[c] = get_u64(r);
        if (m->bound_ns[c] == 0 || m->bound_ns[c] == AS_LIFETIME_INF ||
            (c && m->bound_ns[c] <= m->bound_ns[c - 1])) {
            r->off -= 8;
            r->what = "class bounds not strictly ascending, finite and > 0";
            return AS_EFORMAT;
        }
    }
    /* The vocabulary index. */
    size_t slots = slots_for(d->vocab);
    m->vmask = (uint32_t)(slots - 1);
    m->vhash = as_mem_alloc(&m->mem, slots * sizeof(uint64_t));
    m->vid = as_mem_alloc(&m->mem, slots * sizeof(uint32_t));
    if (!m->vhash || !m->vid) return AS_ENOMEM;
    for (uint32_t id = 1; id < d->vocab; id++) {
        size_t at = r->off;
        if (!need(r, 1, "file ends in the vocabulary")) return AS_EFORMAT;
        uint32_t n = r->p[r->off];
        if (n < 1 || n > AS_LSTM_TOKEN_MAX) {
            r->what = "word length not in 1..32";
            return AS_EFORMAT;
        }
        r->off++;
        if (!need(r, n, "file ends in a word")) return AS_EFORMAT;
        const char *w = (const char *)r->p + r->off;
        for (uint32_t k = 0; k < n; k++) {
            uint8_t c = (uint8_t)w[k];
            if (c < 0x21 || c == 0x7f) {
                r->off += k;
                r->what = "word holds a space or control byte";
                return AS_EFORMAT;
            }
        }
        uint64_t h = as_lstm_token_hash(w, n);
        uint32_t i = (uint32_t)h & m->vmask;
        while (m->vhash[i]) {
            if (m->vhash[i] == h) {
                r->off = at;
                r->what = "word repeated (or its hash collides)";
                return AS_EFORMAT;
            }
            i = (i + 1) & m->vmask;
        }
        m->vhash[i] = h;
        m->vid[i] = id;
        r->off += n;
    }
    /* The weights. */
    as_lstm_layout(d, &m->lay);
    if (!need(r, 4 * m->lay.total, "file ends in the weights"))
        return AS_EFORMAT;
    m->param = as_mem_alloc(&m->mem, m->lay.total * sizeof(float));
    m->scratch =
        as_mem_alloc(&m->mem, as_lstm_scratch_floats(d) * sizeof(float));
    if (!m->param || !m->scratch) return AS_ENOMEM;
    for (size_t i = 0; i < m->lay.total; i++) {
        uint32_t bits = get_u32(r);
        float f;
        memcpy(&f, &bits, sizeof f);
        if (!isfinite(f)) {
            r->off -= 4;
            r->what = "weight is not a finite number";
            return AS_EFORMAT;
        }
        m->param[transposed(m, i)] = f;
    }
    if (!need(r, 8, "file ends before the checksum")) return AS_EFORMAT;
    uint64_t sum = fnv(r->p, r->off);
    if (get_u64(r) != sum) {
        r->off -= 8;
        r->what = "checksum does not match the contents";
        return AS_EFORMAT;
    }
    if (r->off != r->len) {
        r->what = "bytes after the checksum";
        return AS_EFORMAT;
    }
    m->avx2 = as_lstm_simd_avx2();
    size_t xg = as_lstm_xgate_floats(d);
    if (xg) {
        m->xgate = as_mem_alloc(&m->mem, xg * sizeof(float));
        if (!m->xgate) return AS_ENOMEM;
        as_lstm_model_prepare(m);
    }
    return AS_OK;
}

int as_lstm_model_parse(as_lstm_model_t *m, const as_mem_t *mem,
                        const void *bytes, size_t len, size_t *bad_offset,
                        const char **what)
{
    memset(m, 0, sizeof *m);
    m->mem = *mem;
    rd_t r = {bytes, len, 0, NULL};
    int rc = parse(m, &r);
    if (rc != AS_OK) {
        if (bad_offset) *bad_offset = r.off;
        if (what) *what = rc == AS_ENOMEM ? "out of memory" : r.what;
        as_lstm_model_free(m);
        return rc;
    }
    size_t slots = (size_t)m->vmask + 1;
    m->file_bytes = len;
    m->mem_bytes = m->lay.total * sizeof(float) + slots * 12 +
                   as_lstm_scratch_floats(&m->d) * sizeof(float) +
                   as_lstm_xgate_floats(&m->d) * sizeof(float);
    return AS_OK;
}

/* ------------------------------------------------------------ writing */

typedef struct {
    uint8_t *buf;
    size_t cap, len;
} wr_t;

static void put(wr_t *w, const void *p, size_t n)
{
    if (w->len <= w->cap && n <= w->cap - w->len) memcpy(w->buf + w->len, p, n);
    w->len += n;
}

static void put_u32(wr_t *w, uint32_t v)
{
    uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16),
                    (uint8_t)(v >> 24)};
    put(w, b, 4);
}

static void put_u64(wr_t *w, uint64_t v)
{
    put_u32(w, (uint32_t)v);
    put_u32(w, (uint32_t)(v >> 32));
}

size_t as_lstm_model_write(const as_lstm_dims_t *d, const uint64_t *bound_ns,
                           const char *const *words, const uint8_t *lens,
                           const float *param, uint8_t *buf, size_t cap)
{
    wr_t w = {buf, cap, 0};
    put(&w, AS_LSTM_MAGIC, 8);
    put_u32(&w, AS_LSTM_VERSION);
    put_u32(&w, d->classes);
    put_u32(&w, d->vocab);
    put_u32(&w, d->embed);
    put_u32(&w, d->hidden);
    put_u32(&w, d->layers);
    put_u32(&w, d->max_tokens);
    put_u32(&w, 0);
    for (uint32_t c = 0; c + 1 < d->classes; c++)
        put_u64(&w, bound_ns[c]);
    for (uint32_t i = 0; i + 1 < d->vocab; i++) {
        if (lens[i] < 1 || lens[i] > AS_LSTM_TOKEN_MAX) return 0;
        for (uint8_t k = 0; k < lens[i]; k++) /* what the loader accepts */
            if ((uint8_t)words[i][k] < 0x21 || (uint8_t)words[i][k] == 0x7f)
                return 0;
        uint8_t n = lens[i];
        put(&w, &n, 1);
        put(&w, words[i], n);
    }
    as_lstm_layout_t lay;
    as_lstm_layout(d, &lay);
    for (size_t i = 0; i < lay.total; i++) {
        uint32_t bits;
        memcpy(&bits, &param[i], sizeof bits);
        put_u32(&w, bits);
    }
    if (w.len <= cap) {
        uint64_t sum = fnv(buf, w.len);
        put_u64(&w, sum);
    } else {
        w.len += 8;
    }
    return w.len;
}

/* ------------------------------------------------------------ inference */

/* Inference, as profiled: with the gate products done one input column at a
 * time, 68% of a prediction went to the products and 24% to glibc's expf.
 * Three changes take it down:
 *   - layer 0's input product depends only on the word: emb[id] x W_x + b is
 *     a table of V x 4H floats made once at load (xgate), so a word costs a
 *     row copy instead of E x 4H multiply-adds;
 *   - the recurrent product h x W_h runs in blocks of 16 gate rows whose
 *     sums stay in registers across all H inputs (one pass over W_h, no
 *     loads and stores of the sums per input);
 *   - the gates use exp_fast, a branch-free exp the compiler vectorises
 *     (2^n by the exponent bits, 2^f by a degree-6 polynomial: within 2
 *     float ulps of expf over the clamped range). */

/* The kernels are inlined into two copies of the forward pass: one for the
 * build's baseline instruction set and one for AVX2 (8 floats a vector),
 * chosen once per model at load when the CPU has it. Neither contracts
 * multiply-adds (-ffp-contract=off) and every sum runs over the inputs in
 * the same order in both (the vectors span gate rows, not inputs), so both
 * give bit-identical results: a prediction does not depend on the machine. */
#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
#define KERNEL static inline __attribute__((always_inline))
#define HAVE_AVX2_COPY 1
#else
#define KERNEL static inline
#define HAVE_AVX2_COPY 0
#endif

/* 2^23 + 2^22: adding and subtracting it rounds a float to an integer. */
#define ROUNDER 12582912.0f

KERNEL float exp_fast(float x)
{
    x = x < -87.0f ? -87.0f : x > 88.0f ? 88.0f : x;
    float t = x * 1.44269504088896341f;        /* x / ln 2 */
    float n = (t + ROUNDER) - ROUNDER;         /* nearest integer */
    float f = (t - n) * 0.693147180559945309f; /* |f| <= ln2 / 2 */
    float p =
        1.0f +
        f * (1.0f +
             f * (0.5f +
                  f * (1.0f / 6 +
                       f * (1.0f / 24 + f * (1.0f / 120 + f * (1.0f / 720))))));
    union {
        uint32_t u;
        float f;
    } e = {.u = (uint32_t)((int32_t)n + 127) << 23};
    return p * e.f;
}

/* The 4H gate sums of one layer and step: g = xg + h x Wt[in..in+H) (Wt is
 * the transposed matrix, rows of G = 4H floats; xg already holds the input
 * part and the bias). */
#define BLOCK 16
KERNEL void gates(float *restrict g, const float *restrict xg,
                  const float *restrict Wh, const float *restrict h, uint32_t H)
{
    const uint32_t G = 4 * H;
    uint32_t r0 = 0;
    for (; r0 + BLOCK <= G; r0 += BLOCK) {
        float acc[BLOCK];
        for (uint32_t j = 0; j < BLOCK; j++)
            acc[j] = xg[r0 + j];
        for (uint32_t k = 0; k < H; k++) {
            const float *col = Wh + (size_t)k * G + r0;
            float a = h[k];
            for (uint32_t j = 0; j < BLOCK; j++)
                acc[j] += col[j] * a;
        }
        for (uint32_t j = 0; j < BLOCK; j++)
            g[r0 + j] = acc[j];
    }
    for (; r0 < G; r0++) {
        float s = xg[r0];
        for (uint32_t k = 0; k < H; k++)
            s += Wh[(size_t)k * G + r0] * h[k];
        g[r0] = s;
    }
}

/* v[k] = sigmoid(v[k]) = 1 / (1 + e^-v[k]), k < n. */
KERNEL void sigmoid_n(float *restrict v, uint32_t n)
{
    for (uint32_t k = 0; k < n; k++)
        v[k] = 1.0f / (1.0f + exp_fast(-v[k]));
}

/* v[k] = tanh(v[k]) = 2 sigmoid(2 v[k]) - 1, k < n. */
KERNEL void tanh_n(float *restrict v, uint32_t n)
{
    for (uint32_t k = 0; k < n; k++)
        v[k] = 2.0f / (1.0f + exp_fast(-2.0f * v[k])) - 1.0f;
}

/* One step's cell update from the gate sums g (i, f, g, o blocks of H):
 * the nonlinearities as vectorised loops over whole blocks, then c and h
 * (g's last block ends up holding tanh(c)). */
KERNEL void cell(float *restrict g, float *restrict c, float *restrict h,
                 uint32_t H)
{
    sigmoid_n(g, 2 * H);
    tanh_n(g + 2 * H, H);
    sigmoid_n(g + 3 * H, H);
    float *restrict th = g + 2 * H; /* reused: tanh(c) */
    for (uint32_t k = 0; k < H; k++) {
        c[k] = g[H + k] * c[k] + g[k] * th[k];
        th[k] = c[k];
    }
    tanh_n(th, H);
    for (uint32_t k = 0; k < H; k++)
        h[k] = g[3 * H + k] * th[k];
}

/* xg = x x Wt[0..in) + b, the input part of the gate sums. */
KERNEL void input_part(float *restrict xg, const float *restrict Wt,
                       const float *restrict b, const float *restrict x,
                       uint32_t in, uint32_t G)
{
    for (uint32_t r = 0; r < G; r++)
        xg[r] = b[r];
    for (uint32_t k = 0; k < in; k++) {
        const float *col = Wt + (size_t)k * G;
        float a = x[k];
        for (uint32_t r = 0; r < G; r++)
            xg[r] += col[r] * a;
    }
}

size_t as_lstm_xgate_floats(const as_lstm_dims_t *d)
{
    size_t n = (size_t)d->vocab * 4 * d->hidden;
    return n <= AS_LSTM_XGATE_MAX_FLOATS ? n : 0;
}

void as_lstm_model_prepare(as_lstm_model_t *m)
{
    const as_lstm_dims_t *d = &m->d;
    const uint32_t G = 4 * d->hidden;
    if (!m->xgate) return;
    for (uint32_t id = 0; id < d->vocab; id++)
        input_part(m->xgate + (size_t)id * G, m->param + m->lay.w[0],
                   m->param + m->lay.b[0],
                   m->param + m->lay.emb + (size_t)id * d->embed, d->embed, G);
}

KERNEL uint32_t forward(const as_lstm_model_t *m, float *scratch,
                        const uint32_t *ids, uint32_t n, float *probs)
{
    const as_lstm_dims_t *d = &m->d;
    const uint32_t H = d->hidden, E = d->embed, L = d->layers, G = 4 * H;
    float *h[AS_LSTM_MAX_LAYERS], *c[AS_LSTM_MAX_LAYERS];
    for (uint32_t l = 0; l < L; l++) {
        h[l] = scratch + 2 * (size_t)l * H;
        c[l] = h[l] + H;
        for (uint32_t k = 0; k < 2 * H; k++)
            h[l][k] = 0;
    }
    float *g = scratch + 2 * (size_t)L * H, *xg = g + G, *logit = xg + G;
    uint32_t first = n > d->max_tokens ? n - d->max_tokens : 0;
    for (uint32_t t = first; t < n; t++) {
        uint32_t id = ids[t] < d->vocab ? ids[t] : 0;
        const float *x = m->param + m->lay.emb + (size_t)id * E;
        uint32_t in = E;
        for (uint32_t l = 0; l < L; l++) {
            const float *Wt = m->param + m->lay.w[l],
                        *b = m->param + m->lay.b[l], *part = xg;
            if (l == 0 && m->xgate)
                part = m->xgate + (size_t)id * G;
            else
                input_part(xg, Wt, b, x, in, G);
            gates(g, part, Wt + (size_t)in * G, h[l], H);
            cell(g, c[l], h[l], H);
            x = h[l];
            in = H;
        }
    }
    const float *top = h[L - 1];
    uint32_t best = 0;
    for (uint32_t k = 0; k < d->classes; k++) {
        const float *row = m->param + m->lay.wy + (size_t)k * H;
        float s = m->param[m->lay.by + k];
        for (uint32_t j = 0; j < H; j++)
            s += row[j] * top[j];
        logit[k] = s;
        if (s >= logit[best]) best = k;
    }
    if (probs) {
        float mx = logit[best], z = 0;
        for (uint32_t k = 0; k < d->classes; k++)
            z += probs[k] = expf(logit[k] - mx);
        for (uint32_t k = 0; k < d->classes; k++)
            probs[k] /= z;
    }
    return best;
}

static uint32_t forward_base(const as_lstm_model_t *m, float *scratch,
                             const uint32_t *ids, uint32_t n, float *probs)
{
    return forward(m, scratch, ids, n, probs);
}

#if HAVE_AVX2_COPY
__attribute__((target("avx2"))) static uint32_t
forward_avx2(const as_lstm_model_t *m, float *scratch, const uint32_t *ids,
             uint32_t n, float *probs)
{
    return forward(m, scratch, ids, n, probs);
}
#endif

int as_lstm_simd_avx2(void)
{
#if HAVE_AVX2_COPY
    return __builtin_cpu_supports("avx2") != 0;
#else
    return 0;
#endif
}

uint32_t as_lstm_model_forward_with(const as_lstm_model_t *m, float *scratch,
                                    const uint32_t *ids, uint32_t n,
                                    float *probs)
{
#if HAVE_AVX2_COPY
    if (m->avx2) return forward_avx2(m, scratch, ids, n, probs);
#endif
    return forward_base(m, scratch, ids, n, probs);
}

uint32_t as_lstm_model_forward(as_lstm_model_t *m, const uint32_t *ids,
                               uint32_t n, float *probs)
{
    return as_lstm_model_forward_with(m, m->scratch, ids, n, probs);
}

/* sitetab.c - the `sitetab` predictor: a read-only table of allocation
 * sites and their lifetime class, loaded from a file the simulator wrote
 * (format in sitetab.h).
 *
 * Owns the table as two arrays from the configuration's as_mem_t, sorted
 * by key: keys[] (searched by bisection) and classes[] (one byte a site).
 * predict() computes the site's key with common/sitekey.c, the same
 * function the table's builder used on the trace, and looks it up; it
 * writes nothing but one of two relaxed atomic counters, so the real
 * allocator may call it from many threads at once. Loading replaces the
 * table; a failed load leaves the previous one. The parser checks every
 * field before it allocates and names the offset of the first bad one;
 * the encoder lives here too so that the format has one owner.
 */
#include "predictors/sitetab/sitetab.h"

#include <stdatomic.h>

#include "common/util.h"

#define MAGIC "ASSITTAB"
#define FNV_OFFSET 0xcbf29ce484222325ull
#define FNV_PRIME 0x100000001b3ull

static const as_param_spec_t sitetab_params[] = {
    [AS_SITETAB_DEFAULT] = {"default_class", AS_PARAM_U64, "15", 0,
                            AS_MAX_CLASSES - 1, NULL,
                            "class of sites the table does not hold "
                            "(clamped to the longest)"},
};

typedef struct {
    as_mem_t mem;
    as_classes_t classes;
    int32_t def_class;
    uint32_t frames; /* 0: no table loaded */
    uint64_t n;      /* sites */
    uint64_t *keys;  /* n, ascending */
    uint8_t *cls;    /* n */
    uint64_t objects;
    _Atomic uint64_t known, unknown; /* predictions: their sum */
} sitetab_state_t;

/* ------------------------------------------------------------ bytes */

static uint32_t get32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

static uint64_t get64(const unsigned char *p)
{
    return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

static void put32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static void put64(unsigned char *p, uint64_t v)
{
    put32(p, (uint32_t)v);
    put32(p + 4, (uint32_t)(v >> 32));
}

static uint64_t fnv1a(const unsigned char *p, size_t n)
{
    uint64_t h = FNV_OFFSET;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= FNV_PRIME;
    }
    return h;
}

size_t as_sitetab_file_bytes(uint32_t n, uint64_t m)
{
    size_t fixed = AS_SITETAB_HEADER_BYTES + 8 * (size_t)n + 8;
    if (m > (SIZE_MAX - fixed) / AS_SITETAB_RECORD_BYTES) return 0;
    return fixed + (size_t)m * AS_SITETAB_RECORD_BYTES;
}

size_t as_sitetab_encode(const as_classes_t *cl, uint32_t frames,
                         const as_sitetab_rec_t *recs, uint64_t m,
                         unsigned char *buf, size_t cap)
{
    size_t need = as_sitetab_file_bytes(cl->n, m);
    if (!need || cap < need || cl->n < 1 || cl->n > AS_MAX_CLASSES ||
        frames < 1 || frames > AS_SITEKEY_MAX_FRAMES)
        return 0;
    for (int i = 0; i < 8; i++)
        buf[i] = (unsigned char)MAGIC[i];
    put32(buf + 8, AS_SITETAB_VERSION);
    put32(buf + 12, cl->n);
    put32(buf + 16, frames);
    put32(buf + 20, 0);
    put64(buf + 24, m);
    unsigned char *p = buf + AS_SITETAB_HEADER_BYTES;
    for (uint32_t k = 0; k < cl->n; k++, p += 8)
        put64(p, cl->bound_ns[k]);
    for (uint64_t i = 0; i < m; i++, p += AS_SITETAB_RECORD_BYTES) {
        if (!recs[i].key || recs[i].cls >= cl->n || !recs[i].objects ||
            (i && recs[i].key <= recs[i - 1].key))
            return 0;
        put64(p, recs[i].key);
        put32(p + 8, recs[i].cls);
        put32(p + 12, recs[i].objects);
    }
    put64(p, fnv1a(buf, (size_t)(p - buf)));
    return need;
}

/* ------------------------------------------------------------ loading */

static int bad(size_t *bad_offset, const char **what, size_t off,
               const char *why)
{
    if (bad_offset) *bad_offset = off;
    if (what) *what = why;
    return AS_EFORMAT;
}

static void free_table(sitetab_state_t *s)
{
    as_mem_free(&s->mem, s->keys, (size_t)s->n * sizeof *s->keys);
    as_mem_free(&s->mem, s->cls, (size_t)s->n);
    s->keys = NULL;
    s->cls = NULL;
    s->n = 0;
    s->frames = 0;
}

static int sitetab_load_bytes(void *state, const void *bytes, size_t len,
                              size_t *bad_offset, const char **what)
{
    sitetab_state_t *s = state;
    const unsigned char *b = bytes;
    for (size_t i = 0; i < 8; i++)
        if (i >= len || b[i] != (unsigned char)MAGIC[i])
            return bad(bad_offset, what, 0,
                       "not an allocsim site table (bad magic)");
    if (len < AS_SITETAB_HEADER_BYTES)
        return bad(bad_offset, what, len,
                   "truncated: the header needs 32 bytes");
    if (get32(b + 8) != AS_SITETAB_VERSION)
        return bad(bad_offset, what, 8,
                   "unsupported version (this build reads version 1)");
    uint32_t n = get32(b + 12), frames = get32(b + 16);
    if (n < 1 || n > AS_MAX_CLASSES)
        return bad(bad_offset, what, 12, "class count out of range 1..16");
    if (n != s->classes.n)
        return bad(bad_offset, what, 12,
                   "class count differs from the run's classes (build the "
                   "table with the run's --classes)");
    if (frames < 1 || frames > AS_SITEKEY_MAX_FRAMES)
        return bad(bad_offset, what, 16, "frame count out of range 1..32");
    if (get32(b + 20) != 0)
        return bad(bad_offset, what, 20, "reserved field is not 0");
    uint64_t m = get64(b + 24);
    size_t need = as_sitetab_file_bytes(n, m);
    if (!need || len < need)
        return bad(bad_offset, what, len,
                   "truncated: shorter than its site count says");
    if (len > need)
        return bad(bad_offset, what, need, "bytes after the checksum");
    if (get64(b + need - 8) != fnv1a(b, need - 8))
        return bad(bad_offset, what, need - 8,
                   "checksum mismatch (the file is damaged)");
    const unsigned char *p = b + AS_SITETAB_HEADER_BYTES;
    for (uint32_t k = 0; k < n; k++, p += 8)
        if (get64(p) != s->classes.bound_ns[k])
            return bad(bad_offset, what, (size_t)(p - b),
                       "class bound differs from the run's classes (build "
                       "the table with the run's --classes)");
    const unsigned char *recs = p;
    uint64_t prev = 0, objects = 0;
    for (uint64_t i = 0; i < m; i++, p += AS_SITETAB_RECORD_BYTES) {
        uint64_t key = get64(p);
        if (!key || (i && key <= prev))
            return bad(bad_offset, what, (size_t)(p - b),
                       key ? "site keys not ascending and distinct"
                           : "site key 0");
        if (get32(p + 8) >= n)
            return bad(bad_offset, what, (size_t)(p - b) + 8,
                       "class out of range");
        if (!get32(p + 12))
            return bad(bad_offset, what, (size_t)(p - b) + 12,
                       "site with no objects");
        prev = key;
        objects += get32(p + 12);
    }
    uint64_t *keys = m ? as_mem_alloc(&s->mem, (size_t)m * sizeof *keys) : NULL;
    uint8_t *cls = m ? as_mem_alloc(&s->mem, (size_t)m) : NULL;
    if (m && (!keys || !cls)) {
        as_mem_free(&s->mem, keys, (size_t)m * sizeof *keys);
        as_mem_free(&s->mem, cls, (size_t)m);
        if (what) *what = "out of memory";
        return AS_ENOMEM;
    }
    p = recs;
    for (uint64_t i = 0; i < m; i++, p += AS_SITETAB_RECORD_BYTES) {
        keys[i] = get64(p);
        cls[i] = (uint8_t)get32(p + 8);
    }
    free_table(s);
    s->keys = keys;
    s->cls = cls;
    s->n = m;
    s->frames = frames;
    s->objects = objects;
    return AS_OK;
}

/* ------------------------------------------------------------ predicting */

uint64_t as_sitetab_key(const void *state, const as_pred_ctx_t *ctx)
{
    const sitetab_state_t *s = state;
    as_pred_ctx_frames(ctx);
    if (!ctx->depth) return 0;
    uint32_t frames = s->frames ? s->frames : AS_SITEKEY_MAX_FRAMES;
    if (ctx->frame_keys)
        return as_sitekey_fold(ctx->frame_keys, ctx->depth, frames);
    return as_sitekey(ctx->modules, ctx->offsets, ctx->pcs, ctx->depth, frames);
}

static int32_t sitetab_predict(void *state, const as_pred_ctx_t *ctx)
{
    sitetab_state_t *s = state;
    if (!s->frames) return AS_CLASS_NONE;
    uint64_t key = as_sitetab_key(s, ctx);
    uint64_t lo = 0, hi = s->n;
    while (key && lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2;
        if (s->keys[mid] < key)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (!key || lo >= s->n || s->keys[lo] != key) {
        atomic_fetch_add_explicit(&s->unknown, 1, memory_order_relaxed);
        return s->def_class;
    }
    atomic_fetch_add_explicit(&s->known, 1, memory_order_relaxed);
    return s->cls[lo];
}

static int sitetab_create(const as_predictor_config_t *cfg, void **state)
{
    sitetab_state_t *s = as_mem_alloc(cfg->mem, sizeof *s);
    if (!s) return AS_ENOMEM;
    s->mem = *cfg->mem;
    s->classes = *cfg->classes;
    uint64_t d = cfg->params[AS_SITETAB_DEFAULT].u;
    s->def_class = (int32_t)(d >= s->classes.n ? s->classes.n - 1 : d);
    atomic_init(&s->known, 0);
    atomic_init(&s->unknown, 0);
    *state = s;
    return AS_OK;
}

static void sitetab_stats(void *state, as_pred_stat_fn fn, void *arg)
{
    sitetab_state_t *s = state;
    uint64_t k = atomic_load_explicit(&s->known, memory_order_relaxed);
    uint64_t p = k + atomic_load_explicit(&s->unknown, memory_order_relaxed);
    fn(arg, "sitetab_sites", (double)s->n);
    fn(arg, "sitetab_frames", (double)s->frames);
    fn(arg, "sitetab_profile_objects", (double)s->objects);
    fn(arg, "sitetab_predictions", (double)p);
    fn(arg, "sitetab_known_predictions", (double)k);
    fn(arg, "sitetab_known_rate", p ? (double)k / (double)p : 0);
}

static void sitetab_destroy(void *state)
{
    sitetab_state_t *s = state;
    free_table(s);
    as_mem_t mem = s->mem;
    as_mem_free(&mem, s, sizeof *s);
}

const as_predictor_ops_t as_predictor_sitetab = {
    .name = "sitetab",
    .doc = "a profile-guided table of allocation sites (module + offset "
           "frames) and their class, from `allocsim train --predictor "
           "sitetab`",
    .params = sitetab_params,
    .n_params = AS_SITETAB_NPARAMS,
    .needs_symbols = 1,
    .create = sitetab_create,
    .predict = sitetab_predict,
    .stats = sitetab_stats,
    .destroy = sitetab_destroy,
    .load_bytes = sitetab_load_bytes,
};

/* site.c - the `site` predictor: lifetime outcomes counted per allocation site.
 *
 * Owns one bounded table of sites (an array of entries, an open-addressing
 * index over it and an LRU list through it), all from the configuration's
 * as_mem_t. predict() reads the table and refreshes the site's recency;
 * observe() adds an outcome, inserting the site and evicting the least
 * recently used one at capacity. It must never call libc (it builds into the
 * real allocator), read true_class (it is not an oracle), or print: loading
 * and dumping a trained table work on caller-provided text buffers.
 */
#include "predictors/site/site.h"

#include "common/util.h"

#define NIL UINT32_MAX

enum { MODE_TCMALLOC, MODE_MAJORITY };
enum { KEY_STACK, KEY_PCS };

static const as_param_spec_t site_params[] = {
    [AS_SITE_MODE] = {"mode", AS_PARAM_ENUM, "majority", 0, 0,
                      "tcmalloc|majority",
                      "tcmalloc: short iff short > long + margin; majority: "
                      "the most frequent class"},
    [AS_SITE_KEY] = {"key", AS_PARAM_ENUM, "stack", 0, 0, "stack|pcs",
                     "site key: stack id, or a hash of the frames' pcs"},
    [AS_SITE_CAPACITY] = {"capacity", AS_PARAM_U64, "1024", 1, 1 << 24, NULL,
                          "sites kept; the least recently used is evicted"},
    [AS_SITE_THRESHOLD] = {"threshold", AS_PARAM_NS, "500ms", 1, 1e18, NULL,
                           "tcmalloc mode: lifetimes <= this are short"},
    [AS_SITE_MARGIN] = {"margin", AS_PARAM_U64, "10", 0, 1e9, NULL,
                        "tcmalloc mode: short-lived only if short > long + "
                        "margin (0: low certainty)"},
    [AS_SITE_MIN_OBS] = {"min_observations", AS_PARAM_U64, "1", 1, 1e9, NULL,
                         "majority mode: outcomes a site needs before its "
                         "majority is used"},
    [AS_SITE_DEFAULT] = {"default_class", AS_PARAM_U64, "15", 0,
                         AS_MAX_CLASSES - 1, NULL,
                         "class of unknown or undecided sites (clamped to "
                         "the longest)"},
};

/* One site. Invariant: total == sum(count[0..n)) == n_short + n_long. */
typedef struct {
    uint64_t key;
    uint32_t prev, next;            /* LRU list: head = most recently used */
    uint64_t total;                 /* outcomes seen */
    uint64_t n_short, n_long;       /* outcomes <= threshold, > threshold */
    uint64_t count[AS_MAX_CLASSES]; /* outcomes per actual class */
} site_entry_t;

/* The table. Invariants: n <= capacity; every entry index < n appears once in
 * slots[] (as index + 1) and once on the LRU list head..tail. */
typedef struct {
    as_mem_t mem;
    as_classes_t classes;
    int mode, keymode;
    uint32_t capacity, n;
    uint64_t threshold_ns, margin, min_obs;
    int32_t def_class;   /* unknown sites */
    int32_t short_class; /* tcmalloc mode: class holding threshold_ns */
    site_entry_t *e;     /* capacity entries */
    uint32_t *slots;     /* mask + 1 slots: entry index + 1, 0 = empty */
    uint32_t mask;
    uint32_t head, tail; /* LRU ends, NIL when empty */
    /* statistics */
    uint64_t predictions, known, observations, evictions, loaded;
} site_state_t;

/* ------------------------------------------------------------ the index */

static uint32_t slot_of(const site_state_t *s, uint64_t key)
{
    return (uint32_t)as_hash64(key ^ 0x5175e5175e5ull) & s->mask;
}

static uint32_t find(const site_state_t *s, uint64_t key)
{
    for (uint32_t i = slot_of(s, key);; i = (i + 1) & s->mask) {
        uint32_t v = s->slots[i];
        if (!v) return NIL;
        if (s->e[v - 1].key == key) return v - 1;
    }
}

static void index_insert(site_state_t *s, uint32_t idx)
{
    uint32_t i = slot_of(s, s->e[idx].key);
    while (s->slots[i])
        i = (i + 1) & s->mask;
    s->slots[i] = idx + 1;
}

/* Remove entry idx from the index, shifting later probes back (no
 * tombstones, so lookups stay short however long the run). */
static void index_remove(site_state_t *s, uint32_t idx)
{
    uint32_t i = slot_of(s, s->e[idx].key);
    while (s->slots[i] != idx + 1)
        i = (i + 1) & s->mask;
    for (uint32_t j = (i + 1) & s->mask; s->slots[j]; j = (j + 1) & s->mask) {
        uint32_t home = slot_of(s, s->e[s->slots[j] - 1].key);
        /* Move j to i when its home is not in (i, j] cyclically. */
        if (((j - home) & s->mask) >= ((j - i) & s->mask)) {
            s->slots[i] = s->slots[j];
            i = j;
        }
    }
    s->slots[i] = 0;
}

/* ------------------------------------------------------------ LRU list */

static void lru_unlink(site_state_t *s, uint32_t i)
{
    site_entry_t *x = &s->e[i];
    if (x->prev != NIL)
        s->e[x->prev].next = x->next;
    else
        s->head = x->next;
    if (x->next != NIL)
        s->e[x->next].prev = x->prev;
    else
        s->tail = x->prev;
}

static void lru_push_front(site_state_t *s, uint32_t i)
{
    site_entry_t *x = &s->e[i];
    x->prev = NIL;
    x->next = s->head;
    if (s->head != NIL) s->e[s->head].prev = i;
    s->head = i;
    if (s->tail == NIL) s->tail = i;
}

static void touch(site_state_t *s, uint32_t i)
{
    if (s->head == i) return;
    lru_unlink(s, i);
    lru_push_front(s, i);
}

/* The entry of key, inserted (evicting the LRU site at capacity) if new. */
static uint32_t find_or_insert(site_state_t *s, uint64_t key)
{
    uint32_t i = find(s, key);
    if (i != NIL) {
        touch(s, i);
        return i;
    }
    if (s->n < s->capacity) {
        i = s->n++;
    } else {
        i = s->tail;
        index_remove(s, i);
        lru_unlink(s, i);
        s->evictions++;
    }
    site_entry_t *x = &s->e[i];
    for (uint32_t c = 0; c < AS_MAX_CLASSES; c++)
        x->count[c] = 0;
    x->key = key;
    x->total = x->n_short = x->n_long = 0;
    index_insert(s, i);
    lru_push_front(s, i);
    return i;
}

/* ------------------------------------------------------------ interface */

uint64_t as_site_key(const void *state, const as_pred_ctx_t *ctx)
{
    const site_state_t *s = state;
    if (s->keymode == KEY_PCS) as_pred_ctx_frames(ctx);
    if (s->keymode == KEY_STACK || ctx->depth == 0 ||
        (!ctx->pcs && !ctx->frames))
        return ctx->stack;
    uint64_t h = 0x9e3779b97f4a7c15ull ^ ctx->depth;
    for (uint32_t i = 0; i < ctx->depth; i++)
        h = as_hash64(h ^ (ctx->pcs ? ctx->pcs[i] : ctx->frames[i]));
    return h;
}

static int site_create(const as_predictor_config_t *cfg, void **state)
{
    site_state_t *s = as_mem_alloc(cfg->mem, sizeof *s);
    if (!s) return AS_ENOMEM;
    const as_param_value_t *p = cfg->params;
    s->mem = *cfg->mem;
    s->classes = *cfg->classes;
    s->mode = (int)p[AS_SITE_MODE].u;
    s->keymode = (int)p[AS_SITE_KEY].u;
    s->capacity = (uint32_t)p[AS_SITE_CAPACITY].u;
    s->threshold_ns = p[AS_SITE_THRESHOLD].u;
    s->margin = p[AS_SITE_MARGIN].u;
    s->min_obs = p[AS_SITE_MIN_OBS].u;
    uint64_t d = p[AS_SITE_DEFAULT].u;
    s->def_class = (int32_t)(d >= s->classes.n ? s->classes.n - 1 : d);
    s->short_class = (int32_t)as_classes_of(&s->classes, s->threshold_ns);
    uint32_t nslots = 2;
    while (nslots < 2 * s->capacity)
        nslots <<= 1;
    s->mask = nslots - 1;
    s->e = as_mem_alloc(&s->mem, (size_t)s->capacity * sizeof *s->e);
    s->slots = as_mem_alloc(&s->mem, (size_t)nslots * sizeof *s->slots);
    s->head = s->tail = NIL;
    if (!s->e || !s->slots) {
        as_mem_free(&s->mem, s->e, (size_t)s->capacity * sizeof *s->e);
        as_mem_free(&s->mem, s->slots, (size_t)nslots * sizeof *s->slots);
        as_mem_t mem = s->mem;
        as_mem_free(&mem, s, sizeof *s);
        return AS_ENOMEM;
    }
    *state = s;
    return AS_OK;
}

/* The class a site's counts vote for, or -1 when undecided. */
static int32_t decide(const site_state_t *s, const site_entry_t *x)
{
    if (s->mode == MODE_TCMALLOC)
        return x->n_short > x->n_long + s->margin ? s->short_class : -1;
    if (x->total < s->min_obs) return -1;
    uint32_t best = 0;
    for (uint32_t c = 1; c < s->classes.n; c++)
        if (x->count[c] >= x->count[best]) best = c; /* ties: longer */
    return (int32_t)best;
}

static int32_t site_predict(void *state, const as_pred_ctx_t *ctx)
{
    site_state_t *s = state;
    s->predictions++;
    uint32_t i = find(s, as_site_key(s, ctx));
    if (i == NIL) return s->def_class;
    s->known++;
    touch(s, i);
    int32_t c = decide(s, &s->e[i]);
    return c < 0 ? s->def_class : c;
}

static void add_outcome(site_state_t *s, uint32_t i, uint32_t cls,
                        uint64_t life_ns)
{
    site_entry_t *x = &s->e[i];
    if (cls >= s->classes.n) cls = s->classes.n - 1;
    x->count[cls]++;
    x->total++;
    if (life_ns <= s->threshold_ns)
        x->n_short++;
    else
        x->n_long++;
}

static void site_observe(void *state, const as_pred_ctx_t *ctx,
                         const as_pred_outcome_t *out)
{
    site_state_t *s = state;
    s->observations++;
    uint32_t i = find_or_insert(s, as_site_key(s, ctx));
    add_outcome(s, i, out->actual_class, out->lifetime_ns);
}

static void site_stats(void *state, as_pred_stat_fn fn, void *arg)
{
    const site_state_t *s = state;
    fn(arg, "site_entries", (double)s->n);
    fn(arg, "site_capacity", (double)s->capacity);
    fn(arg, "site_predictions", (double)s->predictions);
    fn(arg, "site_known_predictions", (double)s->known);
    fn(arg, "site_observations", (double)s->observations);
    fn(arg, "site_evictions", (double)s->evictions);
    fn(arg, "site_loaded_records", (double)s->loaded);
}

static void site_destroy(void *state)
{
    site_state_t *s = state;
    as_mem_t mem = s->mem;
    as_mem_free(&mem, s->e, (size_t)s->capacity * sizeof *s->e);
    as_mem_free(&mem, s->slots, (size_t)(s->mask + 1) * sizeof *s->slots);
    as_mem_free(&mem, s, sizeof *s);
}

const as_predictor_ops_t as_predictor_site = {
    .name = "site",
    .doc = "per-site outcome counts in an LRU table (TCMalloc rule or "
           "multi-class majority), learned online",
    .params = site_params,
    .n_params = AS_SITE_NPARAMS,
    .create = site_create,
    .predict = site_predict,
    .observe = site_observe,
    .stats = site_stats,
    .destroy = site_destroy,
    .load = as_site_load_table,
    .save = as_site_dump_table,
};

/* ------------------------------------------------------------ text form */

typedef struct {
    const char *p, *end;
} cursor_t;

static void skip_blank(cursor_t *c)
{
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\r'))
        c->p++;
}

/* A decimal number; @return 1 when one was read. */
static int read_u64(cursor_t *c, uint64_t *v)
{
    skip_blank(c);
    uint64_t x = 0;
    const char *start = c->p;
    while (c->p < c->end && *c->p >= '0' && *c->p <= '9') {
        uint64_t d = (uint64_t)(*c->p - '0');
        if (x > (UINT64_MAX - d) / 10) return 0;
        x = x * 10 + d;
        c->p++;
    }
    *v = x;
    return c->p > start;
}

static int read_word(cursor_t *c, const char *w)
{
    skip_blank(c);
    const char *q = c->p;
    while (*w && q < c->end && *q == *w)
        q++, w++;
    if (*w) return 0;
    c->p = q;
    return 1;
}

/* At end of line (blank or comment left)? Consumes up to the newline. */
static int end_of_line(cursor_t *c)
{
    skip_blank(c);
    if (c->p < c->end && *c->p == '#')
        while (c->p < c->end && *c->p != '\n')
            c->p++;
    if (c->p >= c->end) return 1;
    if (*c->p != '\n') return 0;
    c->p++;
    return 1;
}

int as_site_load_table(void *state, const char *text, size_t len,
                       size_t *bad_line)
{
    site_state_t *s = state;
    cursor_t c = {text, text + len};
    size_t line = 0;
    int stage = 0; /* 0: want magic, 1: want classes, 2: records */
    while (c.p < c.end) {
        line++;
        skip_blank(&c);
        if (end_of_line(&c)) continue; /* blank or comment line */
        uint64_t v;
        if (stage == 0) {
            if (!read_word(&c, "allocsim-site-table") || !read_u64(&c, &v) ||
                v != 1 || !end_of_line(&c))
                goto bad;
            stage = 1;
        } else if (stage == 1) {
            if (!read_word(&c, "classes") || !read_u64(&c, &v) ||
                v != s->classes.n || !end_of_line(&c))
                goto bad;
            stage = 2;
        } else {
            uint64_t key, sh, lo, cnt[AS_MAX_CLASSES], sum = 0;
            if (!read_u64(&c, &key) || !read_u64(&c, &sh) || !read_u64(&c, &lo))
                goto bad;
            for (uint32_t k = 0; k < s->classes.n; k++) {
                if (!read_u64(&c, &cnt[k])) goto bad;
                sum += cnt[k];
            }
            if (sum != sh + lo || !end_of_line(&c)) goto bad;
            uint32_t i = find_or_insert(s, key);
            site_entry_t *x = &s->e[i];
            for (uint32_t k = 0; k < s->classes.n; k++)
                x->count[k] += cnt[k];
            x->total += sum;
            x->n_short += sh;
            x->n_long += lo;
            s->loaded++;
        }
    }
    if (stage == 0) goto bad;
    return AS_OK;
bad:
    if (bad_line) *bad_line = line;
    return AS_EFORMAT;
}

typedef struct {
    char *buf;
    size_t cap, len;
} out_t;

static void put_str(out_t *o, const char *s)
{
    for (; *s; s++, o->len++)
        if (o->len + 1 < o->cap) o->buf[o->len] = *s;
}

static void put_num(out_t *o, uint64_t v)
{
    char tmp[24];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    char rev[24];
    for (int i = 0; i < n; i++)
        rev[i] = tmp[n - 1 - i];
    rev[n] = 0;
    put_str(o, rev);
}

size_t as_site_dump_table(const void *state, char *buf, size_t cap)
{
    const site_state_t *s = state;
    out_t o = {buf, cap, 0};
    put_str(&o, "allocsim-site-table 1\nclasses ");
    put_num(&o, s->classes.n);
    put_str(&o, "\n# key short long count_0..count_n-1, oldest first\n");
    for (uint32_t i = s->tail; i != NIL; i = s->e[i].prev) {
        const site_entry_t *x = &s->e[i];
        put_num(&o, x->key);
        put_str(&o, " ");
        put_num(&o, x->n_short);
        put_str(&o, " ");
        put_num(&o, x->n_long);
        for (uint32_t k = 0; k < s->classes.n; k++) {
            put_str(&o, " ");
            put_num(&o, x->count[k]);
        }
        put_str(&o, "\n");
    }
    if (cap) buf[o.len < cap ? o.len : cap - 1] = 0;
    return o.len;
}

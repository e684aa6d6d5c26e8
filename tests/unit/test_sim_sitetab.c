/* test_sim_sitetab.c - the site table: its key (common/sitekey.c), its
 * builder (sim/sitetab_build.c) on a hand-made trace whose sites' classes
 * are known, the `sitetab` predictor reading the result as the real
 * allocator would see the same calls in another process (other pcs, the
 * same module offsets), the parser's messages for every bad field, and
 * concurrent lookups. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "common/sitekey.h"
#include "predictors/sitetab/sitetab.h"
#include "sim/sitetab_build.h"
#include "tests/unit/testutil.h"

#define MS 1000000ull

static as_classes_t classes;

static void *make(const char *assign)
{
    static as_param_value_t v[8][AS_SITETAB_NPARAMS + 4];
    static int next;
    as_param_value_t *vals = v[next++ % 8];
    const as_predictor_ops_t *ops = &as_predictor_sitetab;
    as_classes_default(&classes);
    CU_ASSERT_EQUAL_FATAL(as_param_defaults(ops->params, ops->n_params, vals),
                          0);
    if (assign)
        CU_ASSERT_EQUAL_FATAL(
            as_param_set(ops->params, ops->n_params, vals, assign), 0);
    as_predictor_config_t cfg = {
        .classes = &classes, .params = vals, .mem = &as_test_mem};
    void *st = NULL;
    CU_ASSERT_EQUAL_FATAL(ops->create(&cfg, &st), 0);
    return st;
}

typedef struct {
    const char *name;
    double value;
} stat_t;

static void take_stat(void *arg, const char *name, double value)
{
    stat_t *s = arg;
    if (!strcmp(name, s->name)) s->value = value;
}

/* The predictor's statistic `name`, or -1. */
static double stat_of(void *st, const char *name)
{
    stat_t s = {name, -1};
    as_predictor_sitetab.stats(st, take_stat, &s);
    return s.value;
}

/* ------------------------------------------------------------ the key */

static void test_key(void)
{
    /* the module's file name and offset; the pc and directory do not count */
    uint64_t a = as_sitekey_frame("/usr/bin/prog", 0x1010, 0x555500001010);
    CU_ASSERT_EQUAL(a, as_sitekey_frame("./prog", 0x1010, 0x7f0000001010));
    CU_ASSERT_EQUAL(a, as_sitekey_frame("prog", 0x1010, 0));
    CU_ASSERT_NOT_EQUAL(a, as_sitekey_frame("prog", 0x1011, 0));
    CU_ASSERT_NOT_EQUAL(a, as_sitekey_frame("prog2", 0x1010, 0));
    /* no module: the pc, and "" and "-" are the same */
    CU_ASSERT_EQUAL(as_sitekey_frame("", 7, 0x4000),
                    as_sitekey_frame("-", 9, 0x4000));
    CU_ASSERT_EQUAL(as_sitekey_frame(NULL, 0, 0x4000),
                    as_sitekey_frame("", 0, 0x4000));
    CU_ASSERT_NOT_EQUAL(as_sitekey_frame("", 0, 0x4000),
                        as_sitekey_frame("", 0, 0x4001));
    /* the innermost min(depth, frames) frames */
    const char *mods[3] = {"/p/prog", "/lib/libc.so.6", "/p/prog"};
    const uint64_t offs[3] = {0x10, 0x20, 0x30}, pcs[3] = {1, 2, 3};
    uint64_t k32 = as_sitekey(mods, offs, pcs, 3, 2);
    CU_ASSERT_EQUAL(k32, as_sitekey(mods, offs, pcs, 2, 8));
    CU_ASSERT_NOT_EQUAL(as_sitekey(mods, offs, pcs, 3, 3),
                        as_sitekey(mods, offs, pcs, 2, 3));
    CU_ASSERT_NOT_EQUAL(as_sitekey(mods, offs, pcs, 1, 1), k32);
    /* frames is clamped to 1..32; no stack still gives a key, never 0 */
    CU_ASSERT_EQUAL(as_sitekey(mods, offs, pcs, 3, 0),
                    as_sitekey(mods, offs, pcs, 3, 1));
    CU_ASSERT_NOT_EQUAL(as_sitekey(NULL, NULL, NULL, 0, 8), 0);
    /* the fold of kept frame names is the same key */
    uint64_t fk[3];
    for (int i = 0; i < 3; i++)
        fk[i] = as_sitekey_frame(mods[i], offs[i], pcs[i]);
    for (uint32_t d = 0; d <= 3; d++)
        for (uint32_t f = 0; f <= 33; f++)
            CU_ASSERT_EQUAL(as_sitekey_fold(fk, d, f),
                            as_sitekey(mods, offs, pcs, d, f));
    /* without modules or offsets the pcs name the frames */
    CU_ASSERT_EQUAL(as_sitekey(NULL, NULL, pcs, 2, 8),
                    as_sitekey(mods, NULL, pcs, 2, 8));
}

/* ------------------------------------------------------------ the builder */

/* The hand-made trace: three frames in two modules (absolute pcs of the
 * recorded process), three stacks, and objects whose classes under LLAMA's
 * bounds (10 ms, 100 ms, 1 s, 10 s, 100 s, 1000 s, longer) are:
 *   stack 1 [f1 f3]: 1 ms x3 (class 0), 50 ms (class 1)   -> class 0
 *   stack 2 [f2 f3]: never freed x2 (6), 500 ms x2 (2)     -> 6 (tie: longer)
 *   stack 3 [f1 f2]: 5 s (class 3)                         -> class 3
 *   no stack: 1 ms                                          -> left out */
static const char *hand_trace(void)
{
    const char *path = as_test_scratch("sitetab", ".ast");
    as_trace_writer_opts_t wo = {0, 0, 0};
    as_trace_writer_t *w;
    CU_ASSERT_FATAL(as_trace_writer_open(&w, path, &wo) == 0);
    as_frame_t f1 = {0x555500001010, 0x1010, "/usr/bin/prog", "alloc_a"};
    as_frame_t f2 = {0x555500002020, 0x2020, "/usr/bin/prog", ""};
    as_frame_t f3 = {0x7f0000003030, 0x3030, "/lib/libc.so.6", "start"};
    CU_ASSERT_FATAL(as_trace_writer_frame(w, 1, &f1) == 0);
    CU_ASSERT_FATAL(as_trace_writer_frame(w, 2, &f2) == 0);
    CU_ASSERT_FATAL(as_trace_writer_frame(w, 3, &f3) == 0);
    const uint32_t s1[] = {1, 3}, s2[] = {2, 3}, s3[] = {1, 2};
    CU_ASSERT_FATAL(as_trace_writer_stack(w, 1, s1, 2) == 0);
    CU_ASSERT_FATAL(as_trace_writer_stack(w, 2, s2, 2) == 0);
    CU_ASSERT_FATAL(as_trace_writer_stack(w, 3, s3, 2) == 0);
    struct {
        uint32_t stack;
        uint64_t life_ns; /* 0: never freed */
    } objs[] = {{1, 1 * MS},    {1, 1 * MS}, {1, 1 * MS},   {1, 50 * MS},
                {2, 0},         {2, 0},      {2, 500 * MS}, {2, 500 * MS},
                {3, 5000 * MS}, {0, 1 * MS}};
    size_t n = sizeof objs / sizeof objs[0];
    /* allocate all at t = 1 ms apart, then free in time order */
    as_event_t ev;
    uint64_t id[16];
    for (size_t i = 0; i < n; i++) {
        ev = (as_event_t){.kind = AS_EV_ALLOC,
                          .t_ns = (i + 1) * 1000,
                          .size = 32,
                          .stack = objs[i].stack};
        CU_ASSERT_FATAL(as_trace_writer_event(w, &ev) == 0);
        id[i] = ev.object;
    }
    /* frees sorted by time: lifetimes are small against 10 us apart */
    uint64_t order[] = {0, 1, 2, 9, 3, 6, 7, 8};
    for (size_t k = 0; k < sizeof order / sizeof order[0]; k++) {
        size_t i = order[k];
        ev = (as_event_t){.kind = AS_EV_FREE,
                          .t_ns = (i + 1) * 1000 + objs[i].life_ns,
                          .object = id[i]};
        CU_ASSERT_FATAL(as_trace_writer_event(w, &ev) == 0);
    }
    CU_ASSERT_FATAL(as_trace_writer_close(w) == 0);
    return path;
}

/* A context as the real allocator shows it in another process: other
 * pcs (ASLR), a module spelled differently, the same offsets. */
static as_pred_ctx_t live_ctx(const uint64_t *offs, const char *const *mods,
                              const uint64_t *pcs, uint32_t depth)
{
    return (as_pred_ctx_t){.size = 32,
                           .depth = depth,
                           .pcs = pcs,
                           .modules = mods,
                           .offsets = offs,
                           .true_class = AS_CLASS_UNKNOWN};
}

static void test_build_and_predict(void)
{
    const char *path = hand_trace();
    as_classes_default(&classes);
    as_sitetab_build_t b;
    char err[256] = "";
    const char *paths[] = {path};
    CU_ASSERT_EQUAL_FATAL(
        as_sitetab_build(paths, 1, &classes, 8, &b, err, sizeof err), 0);
    CU_ASSERT_EQUAL(b.sites, 3);
    CU_ASSERT_EQUAL(b.allocs, 9);
    CU_ASSERT_EQUAL(b.unkeyed, 1);
    CU_ASSERT_EQUAL(b.agree, 3 + 2 + 1); /* 3 of class 0, 2 of 6, 1 of 3 */
    CU_ASSERT_EQUAL(b.pc_frames, 0);
    CU_ASSERT_EQUAL(b.frames_all, 18);
    /* 32 header + 7 bounds + 3 records + checksum */
    CU_ASSERT_EQUAL(b.len, 32 + 7 * 8 + 3 * 16 + 8);
    CU_ASSERT_EQUAL(memcmp(b.bytes, "ASSITTAB\1\0\0\0\7\0\0\0\x08\0\0\0", 20),
                    0);
    CU_ASSERT_EQUAL(b.bytes[24], 3);

    void *st = make(NULL);
    size_t off = 99;
    const char *what = NULL;
    const as_predictor_ops_t *ops = &as_predictor_sitetab;
    /* no table yet: no prediction */
    const uint64_t o13[] = {0x1010, 0x3030}, o23[] = {0x2020, 0x3030},
                   o12[] = {0x1010, 0x2020}, o9[] = {0x9999, 0x3030};
    const uint64_t pcs[] = {0x7ffe00000001, 0x7ffe00000002};
    const char *m13[] = {"./prog", "libc.so.6"}, *m23[] = {"prog", "libc.so.6"},
               *m12[] = {"/opt/prog", "/opt/prog"};
    as_pred_ctx_t c1 = live_ctx(o13, m13, pcs, 2);
    CU_ASSERT_EQUAL(ops->predict(st, &c1), AS_CLASS_NONE);
    CU_ASSERT_EQUAL_FATAL(ops->load_bytes(st, b.bytes, b.len, &off, &what), 0);
    CU_ASSERT_EQUAL(ops->predict(st, &c1), 0);
    as_pred_ctx_t c2 = live_ctx(o23, m23, pcs, 2);
    CU_ASSERT_EQUAL(ops->predict(st, &c2), 6);
    as_pred_ctx_t c3 = live_ctx(o12, m12, pcs, 2);
    CU_ASSERT_EQUAL(ops->predict(st, &c3), 3);
    /* the real allocator hands the frames' names kept per pc */
    uint64_t k3[2] = {as_sitekey_frame("x/prog", 0x1010, 5),
                      as_sitekey_frame("prog", 0x2020, 6)};
    as_pred_ctx_t c3k = {.depth = 2, .frame_keys = k3};
    CU_ASSERT_EQUAL(ops->predict(st, &c3k), 3);
    /* a deeper stack with the same two innermost frames is the same site
     * only when the table hashes 2 frames; with 8 it is another site */
    const uint64_t o3deep[] = {0x1010, 0x2020, 0x4444};
    const char *m3deep[] = {"prog", "prog", "prog"};
    const uint64_t pc3[] = {1, 2, 3};
    as_pred_ctx_t c3d = live_ctx(o3deep, m3deep, pc3, 3);
    CU_ASSERT_EQUAL(ops->predict(st, &c3d), 6); /* unknown: the default */
    /* an unknown site, and no stack: the default class (the longest) */
    as_pred_ctx_t cu = live_ctx(o9, m13, pcs, 2);
    CU_ASSERT_EQUAL(ops->predict(st, &cu), 6);
    as_pred_ctx_t c0 = live_ctx(NULL, NULL, NULL, 0);
    CU_ASSERT_EQUAL(ops->predict(st, &c0), 6);
    CU_ASSERT_EQUAL(stat_of(st, "sitetab_predictions"), 7); /* after the load */
    CU_ASSERT_EQUAL(stat_of(st, "sitetab_known_predictions"), 4);
    CU_ASSERT_EQUAL(stat_of(st, "sitetab_sites"), 3);
    CU_ASSERT_EQUAL(stat_of(st, "sitetab_frames"), 8);
    CU_ASSERT_EQUAL(stat_of(st, "sitetab_profile_objects"), 9);
    ops->destroy(st);

    /* default_class=2 answers unknown sites */
    st = make("default_class=2");
    CU_ASSERT_EQUAL_FATAL(ops->load_bytes(st, b.bytes, b.len, &off, &what), 0);
    CU_ASSERT_EQUAL(ops->predict(st, &cu), 2);
    CU_ASSERT_EQUAL(ops->predict(st, &c2), 6);
    ops->destroy(st);
    free(b.bytes);

    /* one frame: stacks 1 and 3 share their innermost frame f1, one site of
     * 3 x class 0, 1 x class 1 and 1 x class 3: class 0 */
    CU_ASSERT_EQUAL_FATAL(
        as_sitetab_build(paths, 1, &classes, 1, &b, err, sizeof err), 0);
    CU_ASSERT_EQUAL(b.sites, 2);
    CU_ASSERT_EQUAL(b.agree, 3 + 2);
    st = make(NULL);
    CU_ASSERT_EQUAL_FATAL(ops->load_bytes(st, b.bytes, b.len, &off, &what), 0);
    CU_ASSERT_EQUAL(ops->predict(st, &c3), 0);
    CU_ASSERT_EQUAL(ops->predict(st, &c3d), 0);
    CU_ASSERT_EQUAL(ops->predict(st, &c2), 6);
    ops->destroy(st);
    free(b.bytes);

    /* two copies of the trace: twice the counts, the same classes */
    const char *two[] = {path, path};
    CU_ASSERT_EQUAL_FATAL(
        as_sitetab_build(two, 2, &classes, 8, &b, err, sizeof err), 0);
    CU_ASSERT_EQUAL(b.sites, 3);
    CU_ASSERT_EQUAL(b.allocs, 18);
    CU_ASSERT_EQUAL(b.agree, 12);
    free(b.bytes);

    /* bad input */
    CU_ASSERT_EQUAL(
        as_sitetab_build(paths, 1, &classes, 33, &b, err, sizeof err),
        AS_EINVAL);
    const char *missing[] = {"no-such-trace.ast"};
    CU_ASSERT_NOT_EQUAL(
        as_sitetab_build(missing, 1, &classes, 8, &b, err, sizeof err), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "no-such-trace.ast"));
    CU_ASSERT_EQUAL(as_test_mem_held(), 0);
}

/* ------------------------------------------------------------ the parser */

static uint64_t fnv(const unsigned char *p, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

static void put64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

/* Load buf (len bytes) after fixing its checksum when `fix`; expect
 * failure at offset `at` with a message starting with `what`. */
static void expect_bad(const unsigned char *src, size_t len, int fix, size_t at,
                       const char *what)
{
    unsigned char buf[512];
    CU_ASSERT_FATAL(len <= sizeof buf);
    memcpy(buf, src, len);
    if (fix && len >= 8) put64(buf + len - 8, fnv(buf, len - 8));
    void *st = make(NULL);
    size_t off = 12345;
    const char *msg = "";
    CU_ASSERT_EQUAL(as_predictor_sitetab.load_bytes(st, buf, len, &off, &msg),
                    AS_EFORMAT);
    CU_ASSERT_EQUAL(off, at);
    CU_ASSERT_EQUAL(strncmp(msg, what, strlen(what)), 0);
    if (off != at || strncmp(msg, what, strlen(what)))
        fprintf(stderr, "\n  wanted offset %zu '%s', got %zu '%s'\n", at, what,
                off, msg);
    as_predictor_sitetab.destroy(st);
}

static void test_parser(void)
{
    as_classes_default(&classes);
    as_sitetab_rec_t recs[2] = {{10, 0, 3}, {20, 6, 1}};
    unsigned char good[256];
    size_t len = as_sitetab_file_bytes(7, 2);
    CU_ASSERT_EQUAL_FATAL(len, 32 + 56 + 32 + 8);
    CU_ASSERT_EQUAL_FATAL(as_sitetab_encode(&classes, 4, recs, 2, good, len),
                          len);
    /* the encoder refuses what the parser would */
    as_sitetab_rec_t unsorted[2] = {{20, 0, 1}, {10, 0, 1}};
    CU_ASSERT_EQUAL(as_sitetab_encode(&classes, 4, unsorted, 2, good + 0, 0),
                    0);
    unsigned char scratch[256];
    CU_ASSERT_EQUAL(
        as_sitetab_encode(&classes, 4, unsorted, 2, scratch, sizeof scratch),
        0);
    CU_ASSERT_EQUAL(
        as_sitetab_encode(&classes, 0, recs, 2, scratch, sizeof scratch), 0);

    void *st = make(NULL);
    CU_ASSERT_EQUAL(as_predictor_sitetab.load_bytes(st, good, len, NULL, NULL),
                    0);
    as_predictor_sitetab.destroy(st);

    unsigned char b[256];
    memcpy(b, good, len);
    b[0] = 'X';
    expect_bad(b, len, 0, 0, "not an allocsim site table (bad magic)");
    expect_bad(good, 5, 0, 0, "not an allocsim site table (bad magic)");
    expect_bad(good, 0, 0, 0, "not an allocsim site table (bad magic)");
    expect_bad(good, 20, 0, 20, "truncated: the header needs 32 bytes");
    memcpy(b, good, len);
    b[8] = 2;
    expect_bad(b, len, 1, 8,
               "unsupported version (this build reads version 1)");
    memcpy(b, good, len);
    b[12] = 0;
    expect_bad(b, len, 1, 12, "class count out of range 1..16");
    b[12] = 17;
    expect_bad(b, len, 1, 12, "class count out of range 1..16");
    b[12] = 6;
    expect_bad(b, len, 1, 12, "class count differs from the run's classes");
    memcpy(b, good, len);
    b[16] = 0;
    expect_bad(b, len, 1, 16, "frame count out of range 1..32");
    b[16] = 33;
    expect_bad(b, len, 1, 16, "frame count out of range 1..32");
    memcpy(b, good, len);
    b[21] = 1;
    expect_bad(b, len, 1, 20, "reserved field is not 0");
    /* site count: too many for the bytes, or for a size_t */
    memcpy(b, good, len);
    b[24] = 3;
    expect_bad(b, len, 1, len, "truncated: shorter than its site count says");
    memset(b + 24, 0xff, 8);
    expect_bad(b, len, 1, len, "truncated: shorter than its site count says");
    expect_bad(good, len - 1, 0, len - 1,
               "truncated: shorter than its site count says");
    memcpy(b, good, len);
    b[len] = 0;
    expect_bad(b, len + 1, 0, len, "bytes after the checksum");
    memcpy(b, good, len);
    b[100] ^= 1; /* a record's byte */
    expect_bad(b, len, 0, len - 8, "checksum mismatch (the file is damaged)");
    memcpy(b, good, len);
    b[32 + 8 * 2] ^= 1; /* the third class bound */
    expect_bad(b, len, 1, 48, "class bound differs from the run's classes");
    /* records at 88 and 104 */
    memcpy(b, good, len);
    put64(b + 104, 10); /* the second key equals the first */
    expect_bad(b, len, 1, 104, "site keys not ascending and distinct");
    put64(b + 104, 5);
    expect_bad(b, len, 1, 104, "site keys not ascending and distinct");
    memcpy(b, good, len);
    put64(b + 88, 0);
    expect_bad(b, len, 1, 88, "site key 0");
    memcpy(b, good, len);
    b[104 + 8] = 7;
    expect_bad(b, len, 1, 112, "class out of range");
    memcpy(b, good, len);
    memset(b + 88 + 12, 0, 4);
    expect_bad(b, len, 1, 100, "site with no objects");

    /* a failed load keeps the table loaded before */
    st = make(NULL);
    CU_ASSERT_EQUAL(as_predictor_sitetab.load_bytes(st, good, len, NULL, NULL),
                    0);
    CU_ASSERT_EQUAL(as_predictor_sitetab.load_bytes(st, good, 3, NULL, NULL),
                    AS_EFORMAT);
    as_pred_ctx_t c = {.depth = 0};
    CU_ASSERT_EQUAL(as_predictor_sitetab.predict(st, &c), 6); /* loaded */
    /* an empty table is valid: every site is unknown */
    unsigned char empty[128];
    size_t elen = as_sitetab_file_bytes(7, 0);
    CU_ASSERT_EQUAL(as_sitetab_encode(&classes, 8, NULL, 0, empty, elen), elen);
    CU_ASSERT_EQUAL(
        as_predictor_sitetab.load_bytes(st, empty, elen, NULL, NULL), 0);
    CU_ASSERT_EQUAL(as_predictor_sitetab.predict(st, &c), 6);
    as_predictor_sitetab.destroy(st);
    CU_ASSERT_EQUAL(as_test_mem_held(), 0);
}

/* ------------------------------------------------------------ threads */

typedef struct {
    void *st;
    uint64_t wrong;
} worker_t;

#define LOOKUPS 200000
#define SITES 64

static void *lookups(void *arg)
{
    worker_t *w = arg;
    for (uint32_t i = 0; i < LOOKUPS; i++) {
        uint64_t off = 0x1000 + 16 * (i % (SITES + 8)); /* 8 unknown */
        const char *mod = "prog";
        uint64_t pc = 1;
        as_pred_ctx_t c = {
            .depth = 1, .pcs = &pc, .modules = &mod, .offsets = &off};
        /* site s (i % 72 < 64) has class s % 7; the others are unknown */
        uint32_t s = i % (SITES + 8);
        int32_t want = s < SITES ? (int32_t)(s % 7) : 6;
        w->wrong += as_predictor_sitetab.predict(w->st, &c) != want;
    }
    return NULL;
}

static int by_key(const void *x, const void *y)
{
    uint64_t a = ((const as_sitetab_rec_t *)x)->key;
    uint64_t b = ((const as_sitetab_rec_t *)y)->key;
    return (a > b) - (a < b);
}

/* Four threads look up 64 known and 8 unknown sites at once: every answer
 * is the table's, and the counters add up exactly. */
static void test_concurrent(void)
{
    as_classes_default(&classes);
    as_sitetab_rec_t recs[SITES];
    for (uint32_t s = 0; s < SITES; s++) {
        uint64_t off = 0x1000 + 16 * s;
        const char *mod = "/x/prog";
        recs[s] =
            (as_sitetab_rec_t){as_sitekey(&mod, &off, NULL, 1, 1), s % 7, 1};
    }
    qsort(recs, SITES, sizeof recs[0], by_key);
    size_t len = as_sitetab_file_bytes(7, SITES);
    unsigned char *buf = malloc(len);
    CU_ASSERT_EQUAL_FATAL(as_sitetab_encode(&classes, 1, recs, SITES, buf, len),
                          len);
    void *st = make(NULL);
    CU_ASSERT_EQUAL_FATAL(
        as_predictor_sitetab.load_bytes(st, buf, len, NULL, NULL), 0);
    free(buf);
    worker_t w[4];
    pthread_t th[4];
    for (int i = 0; i < 4; i++) {
        w[i] = (worker_t){st, 0};
        CU_ASSERT_FATAL(pthread_create(&th[i], NULL, lookups, &w[i]) == 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        CU_ASSERT_EQUAL(w[i].wrong, 0);
    }
    CU_ASSERT_EQUAL(stat_of(st, "sitetab_predictions"), 4.0 * LOOKUPS);
    /* 64 of every 72 lookups are known: 200000 = 2777 x 72 + 56 */
    CU_ASSERT_EQUAL(stat_of(st, "sitetab_known_predictions"),
                    4.0 * (2777 * 64 + 56));
    as_predictor_sitetab.destroy(st);
    CU_ASSERT_EQUAL(as_test_mem_held(), 0);
}

int main(void)
{
    static const as_test_t tests[] = {
        {"site key: module file name + offset per frame", test_key},
        {"builder on a hand-made trace, predictor in another process",
         test_build_and_predict},
        {"parser: every bad field named with its offset", test_parser},
        {"concurrent lookups", test_concurrent},
        {NULL, NULL},
    };
    return as_test_main("sitetab", tests);
}

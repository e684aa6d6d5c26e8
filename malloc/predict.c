/* predict.c - the real allocator's lifetime predictor (see predict.h).
 *
 * Owns the predictor instance (and its inner one), the arena their tables
 * and model come from, the names of every pc met so far (pc -> symbol,
 * module, copied into the arena), the mutex that serialises them and the
 * counters. The context of one prediction lives on the caller's stack;
 * its frames are filled by fill_frames only when a predictor calls
 * as_pred_ctx_frames, so a `cached` hit keyed by stack height costs no
 * stack walk.
 *
 * What the simulator does and this does not: it never reports outcomes
 * (observe): that would need, per live block, the allocation time and the
 * whole context until the free, and the one predictor that learns from
 * them (`site`) is refused by the configuration. `cached` therefore keeps
 * an answer until it is evicted, as it does in the simulator in front of
 * `lstm`, which learns nothing online either.
 */
#include "malloc/predict.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/error.h"
#include "common/sitekey.h"
#include "common/stackwalk.h"
#include "common/symix.h"
#include "common/util.h"
#include "malloc/mstats.h"
#include "malloc/osmem.h"

#define MAX_FRAMES 32 /* the recorder's default depth */
#define NAME_SLOTS (1u << 16)
#define TIME_EVERY 64           /* one prediction in 64 is timed */
#define LOCK_WAIT_NS 100000000L /* 100 ms, then no prediction */
#define MODEL_MAX_BYTES ((size_t)1 << 30)

/* libstdc++'s demangler, when the program has it loaded (weak: the
 * library does not depend on libstdc++). It allocates through this
 * library: those calls are made while predicting and get no prediction. */
extern char *__cxa_demangle(const char *name, char *out, size_t *len,
                            int *status) __attribute__((weak));

typedef struct {
    uint64_t pc; /* 0 = empty */
    const char *symbol, *module;
    uint64_t offset;   /* pc - the module's base, 0 unknown */
    uint64_t site_key; /* as_sitekey_frame(module, offset, pc) */
} name_slot_t;

static int g_on;
static const as_predictor_ops_t *g_ops, *g_inner;
static void *g_state, *g_inner_state;
static int g_symbols; /* a predictor reads the frames' names */
static as_classes_t g_classes;
static as_osarena_t g_arena;
static as_mem_t g_mem;
static pthread_mutex_t g_mutex = PTHREAD_MUTEX_INITIALIZER;
static name_slot_t *g_names;    /* NAME_SLOTS, made at the first lookup */
static as_mpred_counters_t g_n; /* under g_mutex */
static _Atomic uint64_t g_lock_timeouts; /* outside it */
static _Atomic uint64_t g_recursive;
static __thread int t_in_pred;
static __thread uintptr_t t_stack_lo, t_stack_hi; /* 0: not known */
static __thread int t_stack_tried;

/* The frames of one context, filled on demand (the fill hook). */
typedef struct {
    as_pred_ctx_t *ctx;
    uintptr_t ra;
    uintptr_t *frame; /* the API function's frame (frame pointer) */
    int done;
    uint64_t pcs[MAX_FRAMES], offsets[MAX_FRAMES], keys[MAX_FRAMES];
    const char *symbols[MAX_FRAMES], *modules[MAX_FRAMES];
} frames_t;

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* --- names of pcs ----------------------------------------------------- */

static const char *copy_str(const char *s)
{
    size_t n = strlen(s);
    char *d = as_mem_alloc(&g_mem, n + 1);
    if (!d) return "";
    memcpy(d, s, n + 1);
    return d;
}

/* The symbol, module and offset from the module's base of return
 * address pc, and the frame's name in a site key (common/sitekey.h),
 * looked up once (the recorder names pc - 1: a call at the very end of a
 * function belongs to it, not to the next one; its offset is pc's, as the
 * recorder's). Unknown names are "", an unknown offset 0. */
static void name_of(uint64_t pc, const char **symbol, const char **module,
                    uint64_t *offset, uint64_t *site_key)
{
    *symbol = *module = "";
    *offset = 0;
    if (!g_names) {
        g_names = as_mem_alloc(&g_mem, NAME_SLOTS * sizeof *g_names);
        if (!g_names) {
            *site_key = as_sitekey_frame("", 0, pc);
            return;
        }
    }
    name_slot_t *slot = NULL;
    for (uint64_t s = as_hash64(pc), k = 0; k < 64; k++, s++) {
        name_slot_t *e = &g_names[s & (NAME_SLOTS - 1)];
        if (e->pc == pc) {
            *symbol = e->symbol;
            *module = e->module;
            *offset = e->offset;
            *site_key = e->site_key;
            return;
        }
        if (e->pc == 0) {
            slot = e;
            break;
        }
    }
    g_n.symbol_lookups++;
    Dl_info di;
    memset(&di, 0, sizeof di);
    const char *sym = "", *mod = "";
    uint64_t off = 0;
    char *dem = NULL;
    int indexed;
    if (as_symix_lookup((uintptr_t)(pc - 1), &di, &indexed) && di.dli_fname) {
        mod = di.dli_fname;
        off = pc - (uintptr_t)di.dli_fbase;
        if (di.dli_sname) {
            sym = di.dli_sname;
            int st = -1;
            if (__cxa_demangle && sym[0] == '_' && sym[1] == 'Z') {
                dem = __cxa_demangle(sym, NULL, NULL, &st);
                if (st == 0 && dem) sym = dem;
            }
        }
    }
    *symbol = copy_str(sym);
    *module = copy_str(mod);
    *offset = off;
    *site_key = as_sitekey_frame(mod, off, pc);
    if (dem) free(dem); /* this library's free: dem came from its malloc */
    if (slot) {         /* a full probe sequence: named again next time */
        slot->symbol = *symbol;
        slot->module = *module;
        slot->offset = off;
        slot->site_key = *site_key;
        slot->pc = pc;
    }
}

/* --- the context ------------------------------------------------------ */

/* The fill hook: walk the stack from the caller of malloc (the frame
 * whose return address is ra) and, for predictors that read them, name
 * the frames. Runs under g_mutex, at most once per context. */
static void fill_frames(void *arg)
{
    frames_t *f = arg;
    if (f->done) return;
    f->done = 1;
    g_n.stack_walks++;
    uint32_t n = as_stackwalk(AS_UNWIND_AUTO, t_stack_lo, t_stack_hi, f->frame,
                              f->ra, f->pcs, MAX_FRAMES);
    as_pred_ctx_t *c = f->ctx;
    c->pcs = f->pcs;
    c->depth = n;
    if (g_symbols) {
        for (uint32_t i = 0; i < n; i++)
            name_of(f->pcs[i], &f->symbols[i], &f->modules[i], &f->offsets[i],
                    &f->keys[i]);
        c->symbols = f->symbols;
        c->modules = f->modules;
        c->offsets = f->offsets;
        c->frame_keys = f->keys;
    }
}

/* Bytes from the top of this thread's stack to `frame`, 0 when unknown
 * (the recorder's measure). The top is read once per thread;
 * pthread_getattr_np may allocate (the main thread's reads
 * /proc/self/maps), which it does as a recursive call (no prediction). */
static uint64_t stack_height(const void *frame)
{
    if (!t_stack_tried) {
        t_stack_tried = 1;
        pthread_attr_t attr;
        if (pthread_getattr_np(pthread_self(), &attr) == 0) {
            void *addr;
            size_t size;
            if (pthread_attr_getstack(&attr, &addr, &size) == 0) {
                t_stack_lo = (uintptr_t)addr;
                t_stack_hi = (uintptr_t)addr + size;
            }
            pthread_attr_destroy(&attr);
        }
    }
    uintptr_t f = (uintptr_t)frame;
    return t_stack_hi && f < t_stack_hi ? (uint64_t)(t_stack_hi - f) : 0;
}

/* Take g_mutex, giving up after LOCK_WAIT_NS. @return 1 when held. */
static int lock_bounded(void)
{
    if (pthread_mutex_trylock(&g_mutex) == 0) return 1;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_nsec += LOCK_WAIT_NS;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    return pthread_mutex_timedlock(&g_mutex, &ts) == 0;
}

int32_t as_mpred_predict(const as_ctx_t *ctx, uint64_t size, uintptr_t ra,
                         void *frame)
{
    if (!g_on) return AS_CLASS_NONE;
    if (t_in_pred) {
        atomic_fetch_add_explicit(&g_recursive, 1, memory_order_relaxed);
        return AS_CLASS_NONE;
    }
    t_in_pred = 1;
    as_pred_ctx_t pc = {.now_ns = ctx->now_ns,
                        .size = size,
                        .thread = ctx->thread,
                        .cpu = ctx->cpu,
                        .stack_height = stack_height(frame),
                        .true_class = AS_CLASS_UNKNOWN};
    frames_t fr; /* the arrays are filled by the walk (not zeroed: 1 KiB) */
    fr.ctx = &pc;
    fr.ra = ra;
    fr.frame = (uintptr_t *)frame;
    fr.done = 0;
    pc.fill = fill_frames;
    pc.fill_arg = &fr;
    int32_t cls = AS_CLASS_NONE;
    if (lock_bounded()) {
        int timed = g_n.predictions % TIME_EVERY == 0;
        uint64_t t0 = timed ? mono_ns() : 0;
        pc.object = g_n.predictions++;
        cls = g_ops->predict(g_state, &pc);
        if (cls != AS_CLASS_NONE &&
            (cls < 0 || (uint32_t)cls >= g_classes.n)) /* as predset does */
            cls = (int32_t)g_classes.n - 1;
        if (cls == AS_CLASS_NONE)
            g_n.unpredicted_allocs++;
        else
            g_n.by_class[cls]++;
        if (timed) {
            g_n.timed_ns += mono_ns() - t0;
            g_n.timed_predictions++;
        }
        pthread_mutex_unlock(&g_mutex);
    } else {
        atomic_fetch_add_explicit(&g_lock_timeouts, 1, memory_order_relaxed);
    }
    t_in_pred = 0;
    return cls;
}

/* --- creation and the model file -------------------------------------- */

static void why_path(as_msg_t *why, const char *path, const char *what)
{
    as_msg_str(why, "ALLOCSIM_MODEL=");
    as_msg_str(why, path);
    as_msg_str(why, ": ");
    as_msg_str(why, what);
}

/* Read the whole file into arena memory: *buf (cap *cap bytes), *len. */
static int read_file(const char *path, char **buf, size_t *cap, size_t *len,
                     as_msg_t *why)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        why_path(why, path,
                 errno == ENOENT ? "no such file" : "cannot open the file");
        return AS_EIO;
    }
    size_t c = 64 << 10, n = 0;
    char *b = as_mem_alloc(&g_mem, c);
    for (;;) {
        if (!b) {
            close(fd);
            why_path(why, path, "out of memory");
            return AS_ENOMEM;
        }
        ssize_t r = read(fd, b + n, c - n);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) {
            close(fd);
            as_mem_free(&g_mem, b, c);
            why_path(why, path, "cannot read the file");
            return AS_EIO;
        }
        if (r == 0) break;
        n += (size_t)r;
        if (n == c) {
            if (c >= MODEL_MAX_BYTES) {
                close(fd);
                as_mem_free(&g_mem, b, c);
                why_path(why, path, "larger than 1 GiB");
                return AS_EFORMAT;
            }
            char *nb = as_mem_alloc(&g_mem, 2 * c);
            if (nb) memcpy(nb, b, n);
            as_mem_free(&g_mem, b, c);
            b = nb;
            c *= 2;
        }
    }
    close(fd);
    *buf = b;
    *cap = c;
    *len = n;
    return AS_OK;
}

/* Load the file into the predictor that takes one (predset's rule: the
 * predictor itself, else the one it wraps). */
static int load_model(const char *path, as_msg_t *why)
{
    const as_predictor_ops_t *ops = NULL;
    void *state = NULL;
    if (g_ops->load_bytes || g_ops->load) {
        ops = g_ops;
        state = g_state;
    } else if (g_inner && (g_inner->load_bytes || g_inner->load)) {
        ops = g_inner;
        state = g_inner_state;
    }
    int have = path && *path;
    if (!ops && !have) return AS_OK;
    if (!ops) {
        why_path(why, path, "predictor ");
        as_msg_str(why, g_ops->name);
        as_msg_str(why, " takes no model or table");
        return AS_EINVAL;
    }
    if (!have) {
        as_msg_str(why, "ALLOCSIM_PREDICTOR: ");
        as_msg_str(why, ops->name);
        as_msg_str(why, " needs a model: set ALLOCSIM_MODEL to a file from "
                        "`allocsim train --predictor ");
        as_msg_str(why, ops->name);
        as_msg_str(why, "`");
        return AS_EINVAL;
    }
    char *buf;
    size_t cap, len;
    int rc = read_file(path, &buf, &cap, &len, why);
    if (rc != AS_OK) return rc;
    g_n.model_file_bytes = len;
    size_t off = 0, line = 0;
    const char *what = "not a valid model";
    if (ops->load_bytes)
        rc = ops->load_bytes(state, buf, len, &off, &what);
    else
        rc = ops->load(state, buf, len, &line);
    as_mem_free(&g_mem, buf, cap);
    if (rc == AS_OK) return AS_OK;
    as_msg_str(why, "ALLOCSIM_MODEL=");
    as_msg_str(why, path);
    if (ops->load_bytes) {
        as_msg_str(why, ": offset ");
        as_msg_u64(why, off, 0);
        as_msg_str(why, ": ");
        as_msg_str(why, what);
        as_msg_str(why, " (");
        as_msg_str(why, ops->name);
        as_msg_str(why, " model)");
    } else {
        as_msg_str(why, ":");
        as_msg_u64(why, line, 0);
        as_msg_str(why, ": not a valid ");
        as_msg_str(why, ops->name);
        as_msg_str(why, " table");
    }
    return rc == AS_ENOMEM ? rc : AS_EFORMAT;
}

static int create_failed(const as_predictor_ops_t *p, int rc, as_msg_t *why)
{
    as_msg_str(why, "ALLOCSIM_PREDICTOR: cannot create ");
    as_msg_str(why, p->name);
    as_msg_str(why, ": ");
    as_msg_str(why, as_strerror(rc));
    return rc;
}

int as_mpred_init(const as_malloc_config_t *c, const as_classes_t *classes,
                  const char *model_path, as_msg_t *why)
{
    g_mem = as_osarena_mem(&g_arena);
    g_classes = *classes;
    g_ops = c->pred;
    g_inner = c->inner;
    g_symbols = g_ops->needs_symbols || (g_inner && g_inner->needs_symbols);
    if (as_stackwalk_init() != 0) {
        as_msg_str(why, "ALLOCSIM_PREDICTOR: no memory for the stack walk");
        return AS_ENOMEM;
    }
    int rc;
    if (g_inner) {
        as_predictor_config_t ic = {
            .classes = &g_classes, .params = c->inner_params, .mem = &g_mem};
        if ((rc = g_inner->create(&ic, &g_inner_state)) != AS_OK)
            return create_failed(g_inner, rc, why);
    }
    as_predictor_config_t pc = {.classes = &g_classes,
                                .params = c->pred_params,
                                .mem = &g_mem,
                                .inner_ops = g_inner,
                                .inner_state = g_inner_state};
    if ((rc = g_ops->create(&pc, &g_state)) != AS_OK)
        return create_failed(g_ops, rc, why);
    if ((rc = load_model(model_path, why)) != AS_OK) return rc;
    g_on = 1;
    return AS_OK;
}

/* --- figures ---------------------------------------------------------- */

void as_mpred_counters(as_mpred_counters_t *out)
{
    pthread_mutex_lock(&g_mutex);
    *out = g_n;
    out->metadata_bytes = g_arena.live_bytes;
    pthread_mutex_unlock(&g_mutex);
    out->lock_timeouts = atomic_load(&g_lock_timeouts);
    out->skipped_recursive = atomic_load(&g_recursive);
}

typedef struct {
    as_msg_t *m;
    const char *prefix;
} stat_sink_t;

static void put_stat(void *arg, const char *name, double value)
{
    stat_sink_t *s = arg;
    as_mstats_stat_as(s->m, s->prefix, name, value);
}

void as_mpred_json(as_msg_t *m)
{
    if (!g_on) return;
    as_mpred_counters_t n;
    as_mpred_counters(&n);
    as_msg_str(m, "  \"predictor\": {\"name\": \"");
    as_msg_str(m, g_ops->name);
    if (g_inner) {
        as_msg_str(m, "\", \"inner\": {\"name\": \"");
        as_msg_str(m, g_inner->name);
        as_msg_str(m, "\"}");
    } else {
        as_msg_str(m, "\"");
    }
    as_msg_str(m, "},\n  \"predictions\": {\n");
    as_mstats_json_u64(m, "predicted_allocs",
                       n.predictions - n.unpredicted_allocs, 0);
    as_mstats_json_u64(
        m, "unpredicted_allocs",
        n.unpredicted_allocs + n.lock_timeouts + n.skipped_recursive, 0);
    as_msg_str(m, "    \"by_class\": [");
    for (uint32_t c = 0; c < g_classes.n; c++) {
        if (c) as_msg_str(m, ", ");
        as_msg_u64(m, n.by_class[c], 0);
    }
    as_msg_str(m, "],\n");
    as_mstats_json_u64(m, "stack_walks", n.stack_walks, 0);
    as_mstats_json_u64(m, "symbol_lookups", n.symbol_lookups, 0);
    as_mstats_json_u64(
        m, "predict_ns_mean",
        n.timed_predictions ? n.timed_ns / n.timed_predictions : 0, 0);
    as_mstats_json_u64(m, "timed_predictions", n.timed_predictions, 0);
    as_mstats_json_u64(m, "lock_timeouts", n.lock_timeouts, 0);
    as_mstats_json_u64(m, "recursive_allocs", n.skipped_recursive, 0);
    as_mstats_json_u64(m, "model_file_bytes", n.model_file_bytes, 0);
    as_mstats_json_u64(m, "predictor_metadata_bytes", n.metadata_bytes, 1);
    as_msg_str(m, "  },\n");
}

void as_mpred_stats(as_msg_t *m)
{
    if (!g_on) return;
    stat_sink_t s = {m, "predictor."};
    pthread_mutex_lock(&g_mutex);
    if (g_ops->stats) g_ops->stats(g_state, put_stat, &s);
    if (g_inner && g_inner->stats) { /* as sim/predset.c names them */
        s.prefix = "predictor.inner.";
        g_inner->stats(g_inner_state, put_stat, &s);
    }
    pthread_mutex_unlock(&g_mutex);
}

/* --- fork --------------------------------------------------------------- */

void as_mpred_prefork(void)
{
    if (g_on) pthread_mutex_lock(&g_mutex);
}

void as_mpred_postfork_parent(void)
{
    if (g_on) pthread_mutex_unlock(&g_mutex);
}

void as_mpred_postfork_child(void)
{
    if (!g_on) return;
    pthread_mutex_init(&g_mutex, NULL);
    as_stackwalk_postfork_child();
}

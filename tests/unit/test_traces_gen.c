/* test_traces_gen.c - the synthetic workload generators (traces/gen/) and
 * the PRNG they draw from (common/rng.h).
 *
 * Most cases run a workload into a collecting sink and check the stream
 * itself: exact event counts, causal order, which thread frees what, the
 * long-lived fraction. The file cases go through the trace writer and reader:
 * byte-identical files for the same seed, different files for another seed,
 * and the same events read back as were generated.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "common/error.h"
#include "common/rng.h"
#include "tests/unit/testutil.h"
#include "traces/gen/gen.h"
#include "traces/trace.h"

/* ------------------------------------------------------------ helpers */

/* Everything a run produced. */
typedef struct {
    as_event_t *ev;
    size_t n, cap;
    uint32_t frames, stacks; /* definitions seen */
    char meta[8][2][256];    /* first keys and values */
    int n_meta;
} collect_t;

static int c_meta(void *arg, const char *k, const char *v)
{
    collect_t *c = arg;
    if (c->n_meta < 8) {
        snprintf(c->meta[c->n_meta][0], 256, "%s", k);
        snprintf(c->meta[c->n_meta][1], 256, "%s", v);
        c->n_meta++;
    }
    return 0;
}

static int c_frame(void *arg, uint32_t id, const as_frame_t *f)
{
    collect_t *c = arg;
    if (id != c->frames + 1 || !f->symbol[0]) return AS_EINVAL;
    c->frames = id;
    return 0;
}

static int c_stack(void *arg, uint32_t id, const uint32_t *fr, uint32_t d)
{
    collect_t *c = arg;
    if (id != c->stacks + 1 || d == 0) return AS_EINVAL;
    for (uint32_t i = 0; i < d; i++)
        if (fr[i] == 0 || fr[i] > c->frames) return AS_EINVAL;
    c->stacks = id;
    return 0;
}

static int c_event(void *arg, as_event_t *ev)
{
    collect_t *c = arg;
    if (c->n == c->cap) {
        c->cap = c->cap ? 2 * c->cap : 4096;
        c->ev = realloc(c->ev, c->cap * sizeof *c->ev);
        if (!c->ev) return AS_ENOMEM;
    }
    c->ev[c->n++] = *ev;
    return 0;
}

static const char *meta_of(const collect_t *c, const char *key)
{
    for (int i = 0; i < c->n_meta; i++)
        if (strcmp(c->meta[i][0], key) == 0) return c->meta[i][1];
    return NULL;
}

/* Resolve a workload's parameters: defaults, then NULL-terminated
 * "name=value" assignments. */
static const as_gen_workload_t *
resolve(const char *name, const char *const *assign, as_param_value_t *values)
{
    const as_gen_workload_t *wl = as_gen_find(name);
    CU_ASSERT_PTR_NOT_NULL_FATAL(wl);
    CU_ASSERT_EQUAL_FATAL(as_param_defaults(wl->params, wl->n_params, values),
                          0);
    for (; assign && *assign; assign++)
        CU_ASSERT_EQUAL_FATAL(
            as_param_set(wl->params, wl->n_params, values, *assign), 0);
    return wl;
}

static int gen_collect(collect_t *c, const char *name, uint64_t events,
                       uint64_t seed, const char *const *assign)
{
    as_param_value_t values[64];
    const as_gen_workload_t *wl = resolve(name, assign, values);
    memset(c, 0, sizeof *c);
    as_gen_sink_t sink = {c, c_meta, c_frame, c_stack, c_event};
    as_gen_config_t cfg = {.events = events, .seed = seed};
    return as_gen_run(wl, &cfg, values, &sink);
}

static int gen_file(const char *path, const char *name, uint64_t events,
                    uint64_t seed, const char *const *assign)
{
    as_param_value_t values[64];
    const as_gen_workload_t *wl = resolve(name, assign, values);
    as_trace_writer_t *w = NULL;
    int rc = as_trace_writer_open(&w, path, NULL);
    if (rc) {
        if (w) as_trace_writer_abort(w);
        return rc;
    }
    as_gen_sink_t sink;
    as_gen_writer_sink(w, &sink);
    as_gen_config_t cfg = {.events = events, .seed = seed};
    rc = as_gen_run(wl, &cfg, values, &sink);
    if (rc) {
        as_trace_writer_abort(w);
        return rc;
    }
    return as_trace_writer_close(w);
}

/* Per-object facts derived from a stream. */
typedef struct {
    size_t allocs, frees, reallocs;
    size_t live_at_end;
    int ok_causal; /* every free/realloc names a live id */
    int ok_time;   /* timestamps never decrease */
    int ok_dense;  /* ids are 0, 1, 2, ... in allocation order */
    int ok_stacks; /* every alloc/realloc names a defined stack */
} facts_t;

static facts_t check_stream(const collect_t *c)
{
    facts_t f = {0, 0, 0, 0, 1, 1, 1, 1};
    uint8_t *live = calloc(c->n + 1, 1);
    uint64_t next_id = 0, last_t = 0;
    for (size_t i = 0; i < c->n; i++) {
        const as_event_t *e = &c->ev[i];
        if (e->t_ns < last_t) f.ok_time = 0;
        last_t = e->t_ns;
        switch (e->kind) {
        case AS_EV_ALLOC:
            f.allocs++;
            if (e->object != next_id++)
                f.ok_dense = 0;
            else
                live[e->object] = 1;
            if (e->stack == 0 || e->stack > c->stacks) f.ok_stacks = 0;
            break;
        case AS_EV_FREE:
            f.frees++;
            if (e->object >= next_id || !live[e->object])
                f.ok_causal = 0;
            else
                live[e->object] = 0;
            break;
        case AS_EV_REALLOC:
            f.reallocs++;
            if (e->object >= next_id || !live[e->object])
                f.ok_causal = 0;
            else
                live[e->object] = 0;
            if (e->new_object != next_id++)
                f.ok_dense = 0;
            else
                live[e->new_object] = 1;
            if (e->stack == 0 || e->stack > c->stacks) f.ok_stacks = 0;
            break;
        default:
            f.ok_causal = 0;
        }
    }
    for (uint64_t id = 0; id < next_id; id++)
        f.live_at_end += live[id];
    free(live);
    return f;
}

static const char *const workloads[] = {"server-mix", "producer-consumer",
                                        "larson"};
#define N_WORKLOADS 3

/* ---------------------------------------------------------------- rng */

static void test_rng_reference(void)
{
    /* splitmix64 from state 0: the first outputs of Vigna's reference. */
    uint64_t x = 0;
    CU_ASSERT_EQUAL(as_rng_splitmix64(&x), 0xe220a8397b1dcdafull);
    CU_ASSERT_EQUAL(as_rng_splitmix64(&x), 0x6e789e6aa1b965f4ull);
    /* xoshiro256** by hand from state {1, 2, 3, 4}:
     * result = rotl(2 * 5, 7) * 9 = 1280 * 9 = 11520; then
     * t = 2 << 17; s2 ^= s0 -> 2; s3 ^= s1 -> 6; s1 ^= s2 -> 0;
     * s0 ^= s3 -> 7; s2 ^= t -> 0x40002; s3 = rotl(6, 45). */
    as_rng_t r = {{1, 2, 3, 4}};
    CU_ASSERT_EQUAL(as_rng_u64(&r), 11520u);
    CU_ASSERT_EQUAL(r.s[0], 7u);
    CU_ASSERT_EQUAL(r.s[1], 0u);
    CU_ASSERT_EQUAL(r.s[2], 0x40002u);
    CU_ASSERT_EQUAL(r.s[3], 6ull << 45);
    /* Next output: rotl(s1 * 5, 7) * 9 with s1 == 0 is 0. */
    CU_ASSERT_EQUAL(as_rng_u64(&r), 0u);
}

static void test_rng_draws(void)
{
    as_rng_t r;
    as_rng_seed(&r, 42);
    double sum_exp = 0, sum_geo = 0, sum_u = 0;
    int in_range = 1;
    const int n = 200000;
    uint64_t hist[7] = {0};
    for (int i = 0; i < n; i++) {
        sum_exp += as_rng_exp(&r, 1000.0);
        sum_geo += (double)as_rng_geometric(&r, 0.25);
        double u = as_rng_double(&r);
        sum_u += u;
        if (u < 0 || u >= 1) in_range = 0;
        uint64_t b = as_rng_below(&r, 7);
        if (b >= 7)
            in_range = 0;
        else
            hist[b]++;
        uint64_t g = as_rng_range(&r, 10, 12);
        if (g < 10 || g > 12) in_range = 0;
        if (as_rng_pareto(&r, 5.0, 1.5) < 5.0) in_range = 0;
    }
    CU_ASSERT(in_range);
    /* Means within ~5 standard errors. exp: sd 1000/sqrt(n) = 2.2. */
    CU_ASSERT_DOUBLE_EQUAL(sum_exp / n, 1000.0, 12.0);
    /* geometric(0.25): mean 3, sd sqrt(12)/sqrt(n) = 0.0077. */
    CU_ASSERT_DOUBLE_EQUAL(sum_geo / n, 3.0, 0.04);
    CU_ASSERT_DOUBLE_EQUAL(sum_u / n, 0.5, 0.004);
    for (int b = 0; b < 7; b++)
        CU_ASSERT_DOUBLE_EQUAL((double)hist[b], n / 7.0, 500);
    /* Lognormal: the median is the parameter. */
    int below = 0;
    for (int i = 0; i < n; i++)
        below += as_rng_lognormal(&r, 64, 1.0) < 64;
    CU_ASSERT_DOUBLE_EQUAL((double)below / n, 0.5, 0.006);
    /* Same seed, same stream; different seed, different stream. */
    as_rng_t a, b, c;
    as_rng_seed(&a, 7);
    as_rng_seed(&b, 7);
    as_rng_seed(&c, 8);
    int same = 1, diff = 0;
    for (int i = 0; i < 100; i++) {
        uint64_t x = as_rng_u64(&a), y = as_rng_u64(&b), z = as_rng_u64(&c);
        same &= x == y;
        diff += x != z;
    }
    CU_ASSERT(same);
    CU_ASSERT(diff >= 99);
}

/* --------------------------------------------------------- the registry */

static void test_registry(void)
{
    CU_ASSERT_EQUAL(as_gen_count(), 3);
    for (int i = 0; i < N_WORKLOADS; i++) {
        const as_gen_workload_t *wl = as_gen_find(workloads[i]);
        CU_ASSERT_PTR_NOT_NULL_FATAL(wl);
        CU_ASSERT_STRING_EQUAL(wl->params[AS_GEN_PARAM_END].name, "end");
        as_param_value_t v[64];
        CU_ASSERT_EQUAL(as_param_defaults(wl->params, wl->n_params, v), 0);
    }
    CU_ASSERT_PTR_NULL(as_gen_find("no-such-workload"));
}

/* ------------------------------------------------------------- streams */

static void test_event_counts_exact(void)
{
    static const uint64_t counts[] = {0, 1, 2, 3, 4, 7, 100, 1001, 54321};
    static const char *const modes[2][2] = {{"end=live", NULL},
                                            {"end=free", NULL}};
    for (int w = 0; w < N_WORKLOADS; w++)
        for (int m = 0; m < 2; m++)
            for (size_t k = 0; k < sizeof counts / sizeof counts[0]; k++) {
                collect_t c;
                int rc = gen_collect(&c, workloads[w], counts[k], 3, modes[m]);
                CU_ASSERT_EQUAL(rc, 0);
                CU_ASSERT_EQUAL(c.n, counts[k]);
                facts_t f = check_stream(&c);
                CU_ASSERT(f.ok_causal && f.ok_time && f.ok_dense);
                CU_ASSERT_EQUAL(f.allocs + f.frees + f.reallocs, counts[k]);
                if (m == 1) {
                    /* end=free: nothing left live, except the one-event
                     * trace (a single allocation). */
                    CU_ASSERT_EQUAL(f.live_at_end, counts[k] == 1 ? 1 : 0);
                }
                if (rc || c.n != counts[k])
                    fprintf(stderr, "  %s %s N=%llu: rc %d, %zu events\n",
                            workloads[w], modes[m][0],
                            (unsigned long long)counts[k], rc, c.n);
                free(c.ev);
            }
}

static void test_causal_order(void)
{
    static const char *const free_mode[] = {"end=free", NULL};
    for (int w = 0; w < N_WORKLOADS; w++)
        for (int m = 0; m < 2; m++) {
            collect_t c;
            CU_ASSERT_EQUAL_FATAL(
                gen_collect(&c, workloads[w], 200000, 11, m ? free_mode : NULL),
                0);
            facts_t f = check_stream(&c);
            CU_ASSERT(f.ok_causal);
            CU_ASSERT(f.ok_time);
            CU_ASSERT(f.ok_dense);
            CU_ASSERT(f.ok_stacks);
            CU_ASSERT(c.stacks >= 2);
            CU_ASSERT(c.frames >= 4);
            CU_ASSERT(f.frees > 0);
            if (m) CU_ASSERT_EQUAL(f.live_at_end, 0);
            free(c.ev);
        }
}

static void test_meta(void)
{
    collect_t c;
    static const char *const a[] = {"workers=4", NULL};
    CU_ASSERT_EQUAL_FATAL(gen_collect(&c, "server-mix", 10, 77, a), 0);
    CU_ASSERT_STRING_EQUAL(meta_of(&c, "program"), "allocsim-gen");
    CU_ASSERT_STRING_EQUAL(meta_of(&c, "workload"), "server-mix");
    CU_ASSERT_STRING_EQUAL(meta_of(&c, "seed"), "77");
    CU_ASSERT_STRING_EQUAL(meta_of(&c, "events"), "10");
    const char *p = meta_of(&c, "params");
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    CU_ASSERT_EQUAL(strncmp(p, "end=live,workers=4,cpus=8,", 26), 0);
    free(c.ev);
}

/* Same seed: identical streams; another seed: different ones. */
static void test_stream_determinism(void)
{
    for (int w = 0; w < N_WORKLOADS; w++) {
        collect_t a, b, d;
        CU_ASSERT_EQUAL_FATAL(gen_collect(&a, workloads[w], 30000, 5, NULL), 0);
        CU_ASSERT_EQUAL_FATAL(gen_collect(&b, workloads[w], 30000, 5, NULL), 0);
        CU_ASSERT_EQUAL_FATAL(gen_collect(&d, workloads[w], 30000, 6, NULL), 0);
        CU_ASSERT_EQUAL(a.n, b.n);
        int same = 1, differ = 0;
        for (size_t i = 0; i < a.n; i++) {
            same &= memcmp(&a.ev[i], &b.ev[i], sizeof a.ev[i]) == 0;
            differ +=
                a.ev[i].t_ns != d.ev[i].t_ns || a.ev[i].size != d.ev[i].size;
        }
        CU_ASSERT(same);
        CU_ASSERT(differ > 1000);
        free(a.ev);
        free(b.ev);
        free(d.ev);
    }
}

static void test_producer_consumer(void)
{
    static const char *const rr[] = {"cpus=4", "rotate=64", "consumer_cpu=3",
                                     NULL};
    collect_t c;
    CU_ASSERT_EQUAL_FATAL(gen_collect(&c, "producer-consumer", 100000, 1, rr),
                          0);
    size_t allocs = 0, frees = 0, bad_alloc = 0, bad_free = 0;
    size_t per_cpu[4] = {0};
    for (size_t i = 0; i < c.n; i++) {
        const as_event_t *e = &c.ev[i];
        if (e->kind == AS_EV_ALLOC) {
            /* Two allocations per message; message m runs on
             * CPU (m / 64) mod 4. */
            uint64_t msg = e->object / 2;
            if (e->thread != 0 || e->cpu != (msg / 64) % 4) bad_alloc++;
            if (e->cpu < 4) per_cpu[e->cpu]++;
            allocs++;
        } else if (e->kind == AS_EV_FREE) {
            if (e->thread != 1 || e->cpu != 3) bad_free++;
            frees++;
        }
    }
    CU_ASSERT_EQUAL(bad_alloc, 0);
    CU_ASSERT_EQUAL(bad_free, 0);
    CU_ASSERT(frees > 0.45 * c.n);
    CU_ASSERT_EQUAL(allocs + frees, c.n);
    /* The producer visits every CPU about equally. */
    for (int k = 0; k < 4; k++)
        CU_ASSERT_DOUBLE_EQUAL((double)per_cpu[k], allocs / 4.0, 130);
    free(c.ev);

    static const char *const fixed[] = {"mode=fixed", "producer_cpu=2", NULL};
    CU_ASSERT_EQUAL_FATAL(gen_collect(&c, "producer-consumer", 20000, 1, fixed),
                          0);
    size_t off = 0;
    for (size_t i = 0; i < c.n; i++)
        if (c.ev[i].kind == AS_EV_ALLOC && c.ev[i].cpu != 2) off++;
    CU_ASSERT_EQUAL(off, 0);
    free(c.ev);
}

/* Fraction of allocations that live at least 1 s: freed >= 1 s later, or
 * still live at the end and allocated >= 1 s before it. Allocations whose
 * class the trace cannot tell (live, younger than 1 s) are left out. */
static double long_lived_fraction(const collect_t *c)
{
    uint64_t *born = malloc((c->n + 1) * sizeof *born);
    uint8_t *from_alloc = calloc(c->n + 1, 1), *dead = calloc(c->n + 1, 1);
    uint64_t next = 0, end = c->n ? c->ev[c->n - 1].t_ns : 0;
    size_t known = 0, longl = 0;
    const uint64_t sec = 1000000000ull;
    for (size_t i = 0; i < c->n; i++) {
        const as_event_t *e = &c->ev[i];
        if (e->kind == AS_EV_ALLOC) {
            born[next] = e->t_ns;
            from_alloc[next++] = 1;
        } else {
            if (from_alloc[e->object]) {
                known++;
                longl += e->t_ns - born[e->object] >= sec;
            }
            dead[e->object] = 1;
            if (e->kind == AS_EV_REALLOC) born[next++] = e->t_ns;
        }
    }
    for (uint64_t id = 0; id < next; id++)
        if (from_alloc[id] && !dead[id] && end - born[id] >= sec) {
            known++;
            longl++;
        }
    free(born);
    free(from_alloc);
    free(dead);
    return known ? (double)longl / (double)known : -1;
}

static void test_server_mix_long_fraction(void)
{
    static const char *const a[] = {"long_frac=0.05", NULL};
    collect_t c;
    CU_ASSERT_EQUAL_FATAL(gen_collect(&c, "server-mix", 400000, 9, a), 0);
    double f = long_lived_fraction(&c);
    /* ~200k allocations: the standard error is 0.0005. */
    CU_ASSERT_DOUBLE_EQUAL(f, 0.05, 0.004);
    /* Reallocs happen, and the trace spans minutes (400 us per event). */
    facts_t facts = check_stream(&c);
    CU_ASSERT(facts.reallocs > 50);
    CU_ASSERT(c.ev[c.n - 1].t_ns > 60 * 1000000000ull);
    free(c.ev);

    CU_ASSERT_EQUAL_FATAL(gen_collect(&c, "server-mix", 400000, 9, NULL), 0);
    CU_ASSERT_DOUBLE_EQUAL(long_lived_fraction(&c), 0.02, 0.003);
    free(c.ev);

    static const char *const none[] = {"long_frac=0", NULL};
    CU_ASSERT_EQUAL_FATAL(gen_collect(&c, "server-mix", 100000, 9, none), 0);
    CU_ASSERT_EQUAL(long_lived_fraction(&c), 0.0);
    free(c.ev);
}

/* end=free: objects pending when the workload stops die at the end, 10 ns
 * apart, even when their lifetimes are astronomically long (Pareto shape
 * 0.1 from 1 s: 1 in 1000 cache entries outlives 10^30 s). */
static void test_teardown(void)
{
    static const char *const a[] = {"end=free", "cache_alpha=0.1",
                                    "long_frac=0.2", NULL};
    collect_t c;
    CU_ASSERT_EQUAL_FATAL(gen_collect(&c, "server-mix", 100000, 5, a), 0);
    facts_t f = check_stream(&c);
    CU_ASSERT_EQUAL(f.live_at_end, 0);
    /* ~40 s of trace (100k events x 400 us), not centuries. */
    CU_ASSERT(c.ev[c.n - 1].t_ns < 200 * 1000000000ull);
    /* The tail is the teardown: the last event is a free, the frees before
     * it 10 ns apart. */
    CU_ASSERT_EQUAL(c.ev[c.n - 1].kind, AS_EV_FREE);
    CU_ASSERT_EQUAL(c.ev[c.n - 1].t_ns - c.ev[c.n - 2].t_ns, 10);
    free(c.ev);
}

/* Sites fix what they allocate: only sessions (stack 7) ask for 64-byte
 * alignment, and they do so every time. */
static void test_server_mix_sites(void)
{
    collect_t c;
    CU_ASSERT_EQUAL_FATAL(gen_collect(&c, "server-mix", 100000, 8, NULL), 0);
    CU_ASSERT_EQUAL(c.stacks, 10);
    size_t aligned = 0, misplaced = 0, by_stack[11] = {0};
    for (size_t i = 0; i < c.n; i++) {
        const as_event_t *e = &c.ev[i];
        if (e->kind == AS_EV_FREE) continue;
        if (e->stack <= 10) by_stack[e->stack]++;
        if (e->kind == AS_EV_REALLOC) {
            misplaced += e->stack != 10; /* buf_grow */
            continue;
        }
        aligned += e->align == 64;
        misplaced += (e->align == 64) != (e->stack == 7);
    }
    CU_ASSERT(aligned > 100);
    CU_ASSERT_EQUAL(misplaced, 0);
    /* Every site is used. */
    for (int st = 1; st <= 10; st++)
        CU_ASSERT(by_stack[st] > 0);
    free(c.ev);
}

/* Cross-thread frees: the freeing thread is not the allocating one. */
static size_t cross_thread_frees(const collect_t *c, size_t *frees)
{
    uint32_t *owner = malloc((c->n + 1) * sizeof *owner);
    uint64_t next = 0;
    size_t cross = 0;
    *frees = 0;
    for (size_t i = 0; i < c->n; i++) {
        const as_event_t *e = &c->ev[i];
        if (e->kind == AS_EV_ALLOC) {
            owner[next++] = e->thread;
        } else {
            cross += owner[e->object] != e->thread;
            ++*frees;
            if (e->kind == AS_EV_REALLOC) owner[next++] = e->thread;
        }
    }
    free(owner);
    return cross;
}

static void test_larson_cross_thread(void)
{
    collect_t c;
    size_t frees;
    CU_ASSERT_EQUAL_FATAL(gen_collect(&c, "larson", 400000, 2, NULL), 0);
    size_t cross = cross_thread_frees(&c, &frees);
    CU_ASSERT(frees > 190000);
    /* The slot's writer is its owner with probability 1 - b, else one of the
     * T - 1 others; the next writer frees. Cross-thread unless both are the
     * owner or both the same other thread:
     * 1 - (1 - b)^2 - b^2 / (T - 1) = 1 - 0.81 - 0.01 / 3 = 0.18667 for
     * b = 0.1, T = 4 (the fill objects bias it down by ~0.002). */
    CU_ASSERT_DOUBLE_EQUAL((double)cross / (double)frees, 0.18667, 0.006);
    /* The live set stays at threads * slots = 4000 once filled. */
    facts_t f = check_stream(&c);
    CU_ASSERT_EQUAL(f.live_at_end, 4000);
    free(c.ev);

    static const char *const no_bleed[] = {"bleed=0", NULL};
    CU_ASSERT_EQUAL_FATAL(gen_collect(&c, "larson", 100000, 2, no_bleed), 0);
    CU_ASSERT_EQUAL(cross_thread_frees(&c, &frees), 0);
    CU_ASSERT(frees > 40000);
    free(c.ev);
}

static int read_file(const char *path, unsigned char **buf, size_t *len);

/* ------------------------------------------------------ command line */

/* Run the built allocsim with `args`; @return its exit status, or -1 when
 * the binary is missing (then the case fails: `make test` builds it). */
static int run_cli(const char *args)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "%s/allocsim %s >/dev/null 2>&1", AS_BINARY_DIR,
             args);
    int st = system(cmd);
    return st == -1 ? -1 : WEXITSTATUS(st);
}

static void test_cli(void)
{
    char path[256], path2[256], path3[256], args[1024];
    snprintf(path, sizeof path, "%s", as_test_tmpfile("gen-cli", ".ast"));
    snprintf(path2, sizeof path2, "%s", as_test_tmpfile("gen-cli", ".ast"));
    snprintf(path3, sizeof path3, "%s", as_test_tmpfile("gen-cli", ".ast"));
    snprintf(args, sizeof args,
             "gen larson --events 5000 --seed 3 --param slots=50 "
             "--param larson.bleed=0.5 -o %s",
             path);
    CU_ASSERT_EQUAL_FATAL(run_cli(args), 0);
    snprintf(args, sizeof args,
             "gen larson --events 5000 --seed 3 --param slots=50 "
             "--param larson.bleed=0.5 -o %s",
             path2);
    CU_ASSERT_EQUAL(run_cli(args), 0);
    /* The library with the same settings writes the same bytes. */
    static const char *const a[] = {"slots=50", "bleed=0.5", NULL};
    CU_ASSERT_EQUAL(gen_file(path3, "larson", 5000, 3, a), 0);
    unsigned char *x = NULL, *y = NULL, *z = NULL;
    size_t lx = 0, ly = 0, lz = 0;
    CU_ASSERT_EQUAL_FATAL(read_file(path, &x, &lx), 0);
    CU_ASSERT_EQUAL_FATAL(read_file(path2, &y, &ly), 0);
    CU_ASSERT_EQUAL_FATAL(read_file(path3, &z, &lz), 0);
    CU_ASSERT(lx == ly && memcmp(x, y, lx) == 0);
    CU_ASSERT(lx == lz && memcmp(x, z, lx) == 0);
    free(x);
    free(y);
    free(z);
    remove(path);
    remove(path2);
    remove(path3);

    CU_ASSERT_EQUAL(run_cli("gen --help"), 0);
    CU_ASSERT_EQUAL(run_cli("gen no-such-workload -o /dev/null"), 2);
    CU_ASSERT_EQUAL(run_cli("gen larson --param nope=1 -o /dev/null"), 2);
    CU_ASSERT_EQUAL(run_cli("gen larson --param bleed=2 -o /dev/null"), 2);
    CU_ASSERT_EQUAL(run_cli("gen larson --events x -o /dev/null"), 2);
    CU_ASSERT_EQUAL(run_cli("gen larson"), 2); /* no -o */
    /* size_min > size_max is bad input, found once the writer is open: no
     * output (nor its .tmp) is left behind. */
    snprintf(args, sizeof args, "gen larson --param size_min=2K -o %s", path);
    CU_ASSERT_EQUAL(run_cli(args), 2);
    FILE *f = fopen(path, "rb");
    CU_ASSERT_PTR_NULL(f);
    if (f) fclose(f);
    snprintf(args, sizeof args, "%s.tmp", path);
    f = fopen(args, "rb");
    CU_ASSERT_PTR_NULL(f);
    if (f) fclose(f);
    CU_ASSERT_EQUAL(run_cli("gen server-mix --events 10 -o "
                            "/nonexistent-dir/x.ast"),
                    1);
}

/* ---------------------------------------------------------------- files */

static int read_file(const char *path, unsigned char **buf, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    *buf = malloc(n > 0 ? (size_t)n : 1);
    *len = fread(*buf, 1, (size_t)n, f);
    fclose(f);
    return *len == (size_t)n ? 0 : -1;
}

static void test_file_determinism(void)
{
    for (int w = 0; w < N_WORKLOADS; w++) {
        char p1[256], p2[256], p3[256];
        snprintf(p1, sizeof p1, "%s", as_test_tmpfile("gen", ".ast"));
        snprintf(p2, sizeof p2, "%s", as_test_tmpfile("gen", ".ast"));
        snprintf(p3, sizeof p3, "%s", as_test_tmpfile("gen", ".ast"));
        CU_ASSERT_EQUAL_FATAL(gen_file(p1, workloads[w], 150000, 1, NULL), 0);
        CU_ASSERT_EQUAL_FATAL(gen_file(p2, workloads[w], 150000, 1, NULL), 0);
        CU_ASSERT_EQUAL_FATAL(gen_file(p3, workloads[w], 150000, 2, NULL), 0);
        unsigned char *a = NULL, *b = NULL, *d = NULL;
        size_t la = 0, lb = 0, ld = 0;
        CU_ASSERT_EQUAL_FATAL(read_file(p1, &a, &la), 0);
        CU_ASSERT_EQUAL_FATAL(read_file(p2, &b, &lb), 0);
        CU_ASSERT_EQUAL_FATAL(read_file(p3, &d, &ld), 0);
        CU_ASSERT(la > 1000);
        CU_ASSERT(la == lb && memcmp(a, b, la) == 0);
        CU_ASSERT(la != ld || memcmp(a, d, la) != 0);
        free(a);
        free(b);
        free(d);
        remove(p1);
        remove(p2);
        remove(p3);
    }
}

/* Generated -> written -> read back: the same events and metadata. */
static void test_file_roundtrip(void)
{
    for (int w = 0; w < N_WORKLOADS; w++) {
        const char *path = as_test_tmpfile("gen-rt", ".ast");
        collect_t c;
        CU_ASSERT_EQUAL_FATAL(gen_collect(&c, workloads[w], 70000, 4, NULL), 0);
        CU_ASSERT_EQUAL_FATAL(gen_file(path, workloads[w], 70000, 4, NULL), 0);
        as_trace_reader_t *r = NULL;
        CU_ASSERT_EQUAL_FATAL(as_trace_reader_open(&r, path), 0);
        as_event_t e;
        size_t i = 0, mismatch = 0;
        int rc;
        while ((rc = as_trace_reader_next(r, &e)) == 1) {
            if (i >= c.n) {
                mismatch++;
                break;
            }
            const as_event_t *x = &c.ev[i++];
            if (e.kind != x->kind || e.t_ns != x->t_ns ||
                e.thread != x->thread || e.cpu != x->cpu ||
                e.object != x->object)
                mismatch++;
            else if (e.kind != AS_EV_FREE &&
                     (e.size != x->size || e.stack != x->stack ||
                      (e.kind == AS_EV_REALLOC &&
                       e.new_object != x->new_object)))
                mismatch++;
        }
        CU_ASSERT_EQUAL(rc, 0);
        CU_ASSERT_EQUAL(i, c.n);
        CU_ASSERT_EQUAL(mismatch, 0);
        const char *prog = as_trace_reader_meta(r, "program");
        const char *wl = as_trace_reader_meta(r, "workload");
        CU_ASSERT(prog && strcmp(prog, "allocsim-gen") == 0);
        CU_ASSERT(wl && strcmp(wl, workloads[w]) == 0);
        CU_ASSERT_PTR_NOT_NULL(as_trace_reader_meta(r, "params"));
        CU_ASSERT_EQUAL(as_trace_reader_max_stack(r), c.stacks);
        const uint32_t *frames;
        uint32_t depth;
        CU_ASSERT_EQUAL(as_trace_reader_stack(r, 1, &frames, &depth), 0);
        CU_ASSERT(depth >= 3);
        as_frame_t fr;
        CU_ASSERT_EQUAL(as_trace_reader_frame(r, frames[0], &fr), 0);
        CU_ASSERT(fr.symbol && fr.symbol[0]);
        as_trace_reader_close(r);
        remove(path);
        free(c.ev);
    }
}

int main(void)
{
    static const as_test_t tests[] = {
        {"rng_reference", test_rng_reference},
        {"rng_draws", test_rng_draws},
        {"registry", test_registry},
        {"event_counts_exact", test_event_counts_exact},
        {"causal_order", test_causal_order},
        {"meta", test_meta},
        {"stream_determinism", test_stream_determinism},
        {"producer_consumer", test_producer_consumer},
        {"server_mix_long_fraction", test_server_mix_long_fraction},
        {"larson_cross_thread", test_larson_cross_thread},
        {"teardown", test_teardown},
        {"server_mix_sites", test_server_mix_sites},
        {"file_determinism", test_file_determinism},
        {"file_roundtrip", test_file_roundtrip},
        {"cli", test_cli},
        {NULL, NULL},
    };
    return as_test_main("traces_gen", tests);
}

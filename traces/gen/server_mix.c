/* server_mix.c - the `server-mix` workload: a request-serving process whose
 * few long-lived objects, allocated at load peaks among many short-lived
 * ones, strand huge pages once the peak passes.
 *
 * Model. W worker threads, worker w pinned to CPU w mod C, serve requests one
 * at a time. A request lasts a lognormal time (median request_time) and makes
 * 1 + Geometric allocations (mean request_allocs) spread evenly over it; each
 * allocation comes from one allocation site, and the site fixes the size and
 * lifetime distributions:
 *   - short-lived sites (request-scoped: freed by the worker when the request
 *     ends; or temporaries freed microseconds later), a few of whose buffers
 *     grow by realloc;
 *   - connection-scoped sites (fraction mid_frac): 10 ms .. 1 s;
 *   - long-lived sites (fraction long_frac): sessions (lognormal, >= 1 s),
 *     cache entries (Pareto from cache_life, heavy-tailed into hours) freed
 *     by whichever worker evicts them, and interned strings never freed
 *     (never_frac of the long-lived).
 * Requests arrive as a Poisson process whose rate follows the load; an idle
 * worker takes an arriving request, else it queues. At load 1 the arrival
 * rate is `utilization` times what the workers can serve. The load follows
 * `cycles` smooth cycles over the trace, load = m + (1 - m) sin^2(pi phase),
 * the phase advancing with the number of requests arrived, so a trace of any
 * length has the same peaks and valleys. The valley depth m is solved so
 * that the trace lasts about events * mean_gap: requests are spread evenly in
 * phase and E[1/load] = 1/sqrt(m) over a cycle. At the peaks events are
 * about a microsecond apart, the valleys are nearly idle (the request rate
 * drops by 1/m), and the default 400 us mean gap makes a 3 M-event trace
 * last ~20 minutes, so every lifetime class from 10 ms to 1000 s occurs.
 *
 * This file only decides; the emitter (gen.c) keeps the trace valid.
 */
#include <math.h>
#include <stdlib.h>

#include "common/error.h"
#include "traces/gen/gen.h"

enum {
    P_END = AS_GEN_PARAM_END,
    P_WORKERS,
    P_CPUS,
    P_REQUEST_ALLOCS,
    P_REQUEST_TIME,
    P_UTILIZATION,
    P_CYCLES,
    P_MEAN_GAP,
    P_LONG_FRAC,
    P_NEVER_FRAC,
    P_MID_FRAC,
    P_SESSION_LIFE,
    P_CACHE_LIFE,
    P_CACHE_ALPHA,
    P_MID_LIFE,
    P_SHORT_SIZE,
    P_MID_SIZE,
    P_LONG_SIZE,
    P_REALLOC_FRAC,
    P_COUNT
};

static const as_param_spec_t params[P_COUNT] = {
    AS_GEN_COMMON_PARAMS,
    {"workers", AS_PARAM_U64, "32", 1, 65536, NULL, "worker threads"},
    {"cpus", AS_PARAM_U64, "8", 1, 4096, NULL,
     "CPUs; worker w runs on CPU w mod cpus"},
    {"request_allocs", AS_PARAM_DOUBLE, "24", 1, 1e6, NULL,
     "mean allocations per request (1 + geometric)"},
    {"request_time", AS_PARAM_NS, "2ms", 1000, 1e11, NULL,
     "median request duration (lognormal, sigma 0.5)"},
    {"utilization", AS_PARAM_DOUBLE, "0.9", 0.001, 1, NULL,
     "request arrival rate at peak load, as a fraction of what the workers "
     "can serve"},
    {"cycles", AS_PARAM_DOUBLE, "3", 0.01, 1e6, NULL,
     "load cycles (valley-peak-valley) over the whole trace"},
    {"mean_gap", AS_PARAM_NS, "400us", 0, 1e12, NULL,
     "target mean time per event over the trace (sets the valley depth); "
     "0 = flat full load"},
    {"long_frac", AS_PARAM_DOUBLE, "0.02", 0, 1, NULL,
     "fraction of allocations that are long-lived (>= 1 s)"},
    {"never_frac", AS_PARAM_DOUBLE, "0.1", 0, 1, NULL,
     "fraction of long-lived allocations never freed"},
    {"mid_frac", AS_PARAM_DOUBLE, "0.05", 0, 1, NULL,
     "fraction of allocations that are connection-scoped (10 ms .. 1 s)"},
    {"session_life", AS_PARAM_NS, "30s", 1e9, 1e15, NULL,
     "median session lifetime (lognormal, sigma 1, at least 1 s)"},
    {"cache_life", AS_PARAM_NS, "1s", 1e9, 1e15, NULL,
     "minimum cache-entry lifetime (Pareto scale)"},
    {"cache_alpha", AS_PARAM_DOUBLE, "0.7", 0.05, 100, NULL,
     "Pareto shape of cache-entry lifetimes (smaller: heavier tail)"},
    {"mid_life", AS_PARAM_NS, "150ms", 1e7, 1e9, NULL,
     "median connection-scoped lifetime (lognormal, sigma 1, in [10ms,1s))"},
    {"short_size", AS_PARAM_BYTES, "64", 1, 1 << 30, NULL,
     "median size scale of request-scoped objects"},
    {"mid_size", AS_PARAM_BYTES, "8K", 1, 1 << 30, NULL,
     "median size of connection buffers"},
    {"long_size", AS_PARAM_BYTES, "512", 1, 1 << 30, NULL,
     "median size scale of long-lived objects"},
    {"realloc_frac", AS_PARAM_DOUBLE, "0.1", 0, 1, NULL,
     "fraction of response buffers grown by realloc before the request ends"},
};

/* How a site's objects die. */
enum {
    DIE_REQUEST, /* at the end of the request, by the worker */
    DIE_TEMP,    /* a draw of `life` later, at most at request end */
    DIE_LIFE,    /* a draw of `life` later, by the worker */
    DIE_EVICT,   /* a draw of `life` later, by a random worker */
    DIE_NEVER    /* never */
};

/* The sites, in stack-id order (stack id = index + 1). */
/* clang-format off */
enum {
    S_STR, S_JSON, S_RESP, S_TEMP, S_VEC, /* short-lived */
    S_CONN,                               /* connection-scoped */
    S_SESSION, S_CACHE, S_INTERN,         /* long-lived */
    S_GROW,                               /* realloc of S_RESP */
    S_COUNT
};
/* clang-format on */
#define N_SHORT 5

static const char *const site_frames[S_COUNT][AS_GEN_MAX_DEPTH] = {
    [S_STR] = {"as_strdup", "http_parse_headers", "handle_request",
               "worker_main", "start_thread"},
    [S_JSON] = {"json_node_new", "json_parse", "handle_request", "worker_main",
                "start_thread"},
    [S_RESP] = {"buf_new", "render_response", "handle_request", "worker_main",
                "start_thread"},
    [S_TEMP] = {"tmp_alloc", "compute_digest", "handle_request", "worker_main",
                "start_thread"},
    [S_VEC] = {"vec_reserve", "db_query", "handle_request", "worker_main",
               "start_thread"},
    [S_CONN] = {"conn_buf_new", "conn_read", "accept_loop", "worker_main",
                "start_thread"},
    [S_SESSION] = {"session_new", "session_lookup", "handle_request",
                   "worker_main", "start_thread"},
    [S_CACHE] = {"cache_entry_new", "cache_insert", "db_query",
                 "handle_request", "worker_main", "start_thread"},
    [S_INTERN] = {"intern_new", "intern_string", "config_load", "worker_main",
                  "start_thread"},
    [S_GROW] = {"buf_grow", "render_response", "handle_request", "worker_main",
                "start_thread"},
};

/* Relative frequencies of the short-lived sites. */
static const double short_weights[N_SHORT] = {30, 25, 10, 20, 15};

/* One worker thread. Invariant: done < allocs while it serves a request;
 * allocs == 0 and next_ns == IDLE while it waits for one. */
typedef struct {
    uint64_t next_ns;  /* time of this worker's next allocation, or IDLE */
    uint64_t start_ns; /* current request: start */
    uint64_t dur_ns;   /* current request: duration */
    uint32_t allocs;   /* current request: allocations it makes */
    uint32_t done;     /* allocations made so far */
} worker_t;

#define IDLE UINT64_MAX

typedef struct {
    as_gen_t *g;
    const as_param_value_t *v;
    worker_t *workers;
    uint32_t *heap; /* worker indices, min-heap on (next_ns, index) */
    uint32_t *pos;  /* pos[w]: index of worker w in heap */
    uint32_t *idle; /* stack of idle workers */
    uint32_t n, n_idle;
    uint64_t queued;   /* requests arrived, waiting for a worker */
    uint64_t arrivals; /* requests arrived so far */
    uint64_t next_arrival_ns;
    double requests_per_cycle;
    double load_min;    /* m */
    double peak_gap_ns; /* mean time between arrivals at load 1 */
    uint32_t stacks[S_COUNT];
    as_gen_site_t sites[S_COUNT];
    double long_weights[3];
} server_t;

static int w_before(const server_t *s, uint32_t a, uint32_t b)
{
    uint64_t ta = s->workers[a].next_ns, tb = s->workers[b].next_ns;
    return ta < tb || (ta == tb && a < b);
}

static void w_place(server_t *s, uint32_t i, uint32_t w)
{
    s->heap[i] = w;
    s->pos[w] = i;
}

/* Restore the heap after worker w's next_ns changed. */
static void w_fix(server_t *s, uint32_t w)
{
    uint32_t i = s->pos[w];
    while (i > 0 && w_before(s, w, s->heap[(i - 1) / 2])) {
        w_place(s, i, s->heap[(i - 1) / 2]);
        i = (i - 1) / 2;
    }
    for (;;) {
        uint32_t c = 2 * i + 1;
        if (c >= s->n) break;
        if (c + 1 < s->n && w_before(s, s->heap[c + 1], s->heap[c])) c++;
        if (!w_before(s, s->heap[c], w)) break;
        w_place(s, i, s->heap[c]);
        i = c;
    }
    w_place(s, i, w);
}

static double load_now(const server_t *s)
{
    double phase = 0.25 + (double)s->arrivals / s->requests_per_cycle;
    double x = sin(3.141592653589793 * phase);
    return s->load_min + (1.0 - s->load_min) * x * x;
}

/* Fill the per-run site distributions from the parameters. */
static void make_sites(server_t *s)
{
    const as_param_value_t *v = s->v;
    double sh = (double)v[P_SHORT_SIZE].u, lg = (double)v[P_LONG_SIZE].u;
    const uint64_t max_size = 1ull << 30;
    for (int i = 0; i < S_COUNT; i++) {
        for (int d = 0; d < AS_GEN_MAX_DEPTH; d++)
            s->sites[i].frames[d] = site_frames[i][d];
        s->sites[i].size =
            (as_gen_dist_t){AS_GEN_LOGNORMAL, sh, 0.5, 1, max_size};
        s->sites[i].life = (as_gen_dist_t){AS_GEN_CONST, 0, 0, 0, 0};
        s->sites[i].weight = 0;
    }
    s->sites[S_STR].size.a = 0.5 * sh, s->sites[S_STR].size.b = 0.7;
    s->sites[S_JSON].size.a = 0.75 * sh, s->sites[S_JSON].size.b = 0.2;
    s->sites[S_RESP].size.a = 8 * sh, s->sites[S_RESP].size.b = 1.0;
    s->sites[S_TEMP].size.b = 0.3;
    s->sites[S_TEMP].life = (as_gen_dist_t){AS_GEN_EXP, 20000, 0, 100, 0};
    s->sites[S_VEC].size.a = 4 * sh, s->sites[S_VEC].size.b = 1.2;
    s->sites[S_CONN].size.a = (double)v[P_MID_SIZE].u;
    s->sites[S_CONN].life = (as_gen_dist_t){
        AS_GEN_LOGNORMAL, (double)v[P_MID_LIFE].u, 1.0, 10000000, 999999999};
    s->sites[S_SESSION].size.a = lg, s->sites[S_SESSION].size.b = 0.3;
    s->sites[S_SESSION].life = (as_gen_dist_t){
        AS_GEN_LOGNORMAL, (double)v[P_SESSION_LIFE].u, 1.0, 1000000000, 0};
    s->sites[S_CACHE].size.a = 2 * lg, s->sites[S_CACHE].size.b = 1.5;
    s->sites[S_CACHE].life =
        (as_gen_dist_t){AS_GEN_PARETO, (double)v[P_CACHE_LIFE].u,
                        v[P_CACHE_ALPHA].d, 1000000000, 0};
    s->sites[S_INTERN].size.a = 0.25 * lg, s->sites[S_INTERN].size.b = 0.5;
    double nf = v[P_NEVER_FRAC].d;
    s->long_weights[0] = (1 - nf) / 2;
    s->long_weights[1] = (1 - nf) / 2;
    s->long_weights[2] = nf;
    for (int i = 0; i < N_SHORT; i++)
        s->sites[i].weight = short_weights[i];
    for (int i = 0; i < 3; i++)
        s->sites[S_SESSION + i].weight = s->long_weights[i];
}

/* Worker w starts a request at time t. */
static void start_request(server_t *s, uint32_t w, uint64_t t)
{
    as_rng_t *r = &s->g->rng;
    const as_param_value_t *v = s->v;
    worker_t *k = &s->workers[w];
    uint64_t extra = as_rng_geometric(r, 1.0 / v[P_REQUEST_ALLOCS].d);
    k->allocs = 1 + (uint32_t)(extra > 1000000 ? 1000000 : extra);
    double d = as_rng_lognormal(r, (double)v[P_REQUEST_TIME].u, 0.5);
    k->dur_ns = d < 1000 ? 1000 : (uint64_t)d;
    if (k->dur_ns > 20 * v[P_REQUEST_TIME].u)
        k->dur_ns = 20 * v[P_REQUEST_TIME].u;
    k->start_ns = t;
    k->done = 0;
    k->next_ns =
        t + (uint64_t)(as_rng_double(r) * (double)k->dur_ns / k->allocs);
    w_fix(s, w);
}

/* A request arrives: an idle worker takes it, or it queues. */
static void arrive(server_t *s)
{
    uint64_t t = s->next_arrival_ns;
    s->arrivals++;
    if (s->n_idle)
        start_request(s, s->idle[--s->n_idle], t);
    else
        s->queued++;
    double mean = s->peak_gap_ns / load_now(s);
    s->next_arrival_ns = t + (uint64_t)as_rng_exp(&s->g->rng, mean);
}

/* Worker w (the heap top) makes its next allocation at its next_ns. */
static void step(server_t *s, uint32_t w)
{
    as_gen_t *g = s->g;
    as_rng_t *r = &g->rng;
    const as_param_value_t *v = s->v;
    worker_t *k = &s->workers[w];
    uint32_t cpu = w % (uint32_t)v[P_CPUS].u;
    uint64_t t = k->next_ns;
    uint64_t end = k->start_ns + k->dur_ns;
    as_gen_alloc_t a = {
        .t_ns = t, .thread = w, .cpu = cpu, .free_thread = w, .free_cpu = cpu};
    double u = as_rng_double(r);
    int site;
    if (u < v[P_LONG_FRAC].d)
        site = S_SESSION + (int)as_gen_pick(r, s->long_weights, 3);
    else if (u < v[P_LONG_FRAC].d + v[P_MID_FRAC].d)
        site = S_CONN;
    else
        site = (int)as_gen_pick(r, short_weights, N_SHORT);
    const as_gen_site_t *st = &s->sites[site];
    a.stack = s->stacks[site];
    a.size = as_gen_draw(r, &st->size);

    switch (site) {
    case S_TEMP: {
        uint64_t f = t + as_gen_draw(r, &st->life);
        a.free_ns = f < end ? f : end;
        break;
    }
    case S_SESSION:
        a.align = 64; /* a cache-line aligned struct (posix_memalign) */
        /* fall through */
    case S_CONN:
        a.free_ns = t + as_gen_draw(r, &st->life);
        break;
    case S_CACHE: {
        a.free_ns = t + as_gen_draw(r, &st->life);
        uint32_t e = (uint32_t)as_rng_below(r, s->n);
        a.free_thread = e;
        a.free_cpu = e % (uint32_t)v[P_CPUS].u;
        break;
    }
    case S_INTERN:
        a.free_ns = AS_GEN_NEVER;
        break;
    default: /* request-scoped: freed at the end, 20 ns apart */
        a.free_ns = end + 20ull * k->done;
        if (site == S_RESP && as_rng_chance(r, v[P_REALLOC_FRAC].d)) {
            a.has_realloc = 1;
            a.realloc_ns = t + (uint64_t)(as_rng_double(r) * (double)(end - t));
            a.realloc_size = a.size * 2 + as_rng_below(r, a.size + 1);
            a.realloc_stack = s->stacks[S_GROW];
        }
        break;
    }
    as_gen_alloc(g, &a);

    if (++k->done < k->allocs) {
        double slot = (double)k->dur_ns / k->allocs;
        uint64_t next =
            k->start_ns + (uint64_t)(slot * (k->done + as_rng_double(r)));
        k->next_ns = next < t ? t : next;
        w_fix(s, w);
        return;
    }
    /* Request done once its frees are out: next request, or idle. */
    uint64_t free_at = end + 20ull * k->done;
    k->allocs = 0;
    if (s->queued) {
        s->queued--;
        start_request(s, w, free_at);
    } else {
        k->next_ns = IDLE;
        w_fix(s, w);
        s->idle[s->n_idle++] = w;
    }
}

/* Solve the valley depth m so that the trace lasts about events * mean_gap.
 * Requests arrive at rate lambda = load * utilization * workers / req_mean;
 * over a cycle, requests are spread evenly in phase and E[1/load] =
 * 1/sqrt(m), so the mean time per request is req_mean / (u W sqrt(m)). */
static double solve_load_min(const server_t *s, double events_per_request)
{
    const as_param_value_t *v = s->v;
    double gap = (double)v[P_MEAN_GAP].u;
    if (gap <= 0) return 1.0;
    double per_request = gap * events_per_request;
    double sqrt_m = s->peak_gap_ns / per_request;
    if (sqrt_m >= 1) return 1.0;
    double m = sqrt_m * sqrt_m;
    return m < 1e-12 ? 1e-12 : m;
}

static int run(as_gen_t *g, const as_param_value_t *v)
{
    server_t s = {.g = g, .v = v, .n = (uint32_t)v[P_WORKERS].u};
    int rc = 0;
    make_sites(&s);
    s.workers = calloc(s.n, sizeof *s.workers);
    s.heap = calloc(s.n, sizeof *s.heap);
    s.pos = calloc(s.n, sizeof *s.pos);
    s.idle = calloc(s.n, sizeof *s.idle);
    if (!s.workers || !s.heap || !s.pos || !s.idle) {
        rc = AS_ENOMEM;
        goto out;
    }
    rc = as_gen_define_sites(g, "/usr/bin/server-mix", s.sites, S_COUNT,
                             s.stacks);
    if (rc) goto out;

    /* Events per request: each allocation and (mostly) its free. */
    double per_request = 2.0 * v[P_REQUEST_ALLOCS].d;
    s.requests_per_cycle = (double)g->cfg->events / per_request / v[P_CYCLES].d;
    if (s.requests_per_cycle < 1) s.requests_per_cycle = 1;
    double req_mean = (double)v[P_REQUEST_TIME].u * exp(0.5 * 0.5 * 0.5);
    s.peak_gap_ns = req_mean / (v[P_UTILIZATION].d * s.n);
    s.load_min = solve_load_min(&s, per_request);

    for (uint32_t w = 0; w < s.n; w++) {
        s.workers[w].next_ns = IDLE;
        w_place(&s, w, w);
        s.idle[s.n_idle++] = s.n - 1 - w; /* worker 0 is taken first */
    }
    s.next_arrival_ns =
        (uint64_t)as_rng_exp(&g->rng, s.peak_gap_ns / load_now(&s));
    while (as_gen_more(g)) {
        uint32_t w = s.heap[0];
        if (s.next_arrival_ns <= s.workers[w].next_ns)
            arrive(&s);
        else
            step(&s, w);
    }
out:
    free(s.workers);
    free(s.heap);
    free(s.pos);
    free(s.idle);
    return rc;
}

const as_gen_workload_t as_gen_server_mix = {
    .name = "server-mix",
    .doc = "request-serving threads: many short-lived request objects, "
           "connection buffers, and a few long-lived sessions, cache "
           "entries and interned strings allocated at load peaks",
    .params = params,
    .n_params = P_COUNT,
    .run = run,
};

/* producer_consumer.c - the `producer-consumer` workload: one thread
 * allocates messages, another frees them, as in the blowup example of
 * Berger et al.'s Hoard paper (ASPLOS 2000).
 *
 * Thread 0, the producer, builds one message every `gap` (exponential): a
 * header (64 bytes) and a payload (uniform in [size_min, size_max]), from two
 * allocation sites. Thread 1, the consumer, takes messages off a FIFO queue
 * after an exponential `latency` and frees payload then header. In mode `rr`
 * the producer moves to the next CPU after every `rotate` messages, so a
 * per-CPU heap that keeps freed memory on the freeing CPU's heap never gets
 * it back to where the next allocations happen (blowup); in mode `fixed` it
 * stays on producer_cpu. The consumer always runs on consumer_cpu.
 *
 * This file only decides; the emitter (gen.c) keeps the trace valid.
 */
#include "common/error.h"
#include "traces/gen/gen.h"

enum {
    P_END = AS_GEN_PARAM_END,
    P_CPUS,
    P_MODE,
    P_ROTATE,
    P_PRODUCER_CPU,
    P_CONSUMER_CPU,
    P_GAP,
    P_LATENCY,
    P_SIZE_MIN,
    P_SIZE_MAX,
    P_COUNT
};

enum { MODE_RR = 0, MODE_FIXED = 1 };

static const as_param_spec_t params[P_COUNT] = {
    AS_GEN_COMMON_PARAMS,
    {"cpus", AS_PARAM_U64, "4", 1, 4096, NULL, "CPUs"},
    {"mode", AS_PARAM_ENUM, "rr", 0, 0, "rr|fixed",
     "rr: the producer moves round-robin across CPUs; fixed: it stays on "
     "producer_cpu"},
    {"rotate", AS_PARAM_U64, "64", 1, 1e12, NULL,
     "rr mode: messages the producer makes on one CPU before moving on"},
    {"producer_cpu", AS_PARAM_U64, "0", 0, 4095, NULL,
     "fixed mode: the producer's CPU (mod cpus)"},
    {"consumer_cpu", AS_PARAM_U64, "1", 0, 4095, NULL,
     "the consumer's CPU (mod cpus)"},
    {"gap", AS_PARAM_NS, "1us", 1, 1e12, NULL,
     "mean time between messages (exponential)"},
    {"latency", AS_PARAM_NS, "50us", 0, 1e13, NULL,
     "mean time a message waits before the consumer frees it (exponential; "
     "FIFO)"},
    {"size_min", AS_PARAM_BYTES, "16", 0, 1ull << 40, NULL, "smallest payload"},
    {"size_max", AS_PARAM_BYTES, "1K", 0, 1ull << 40, NULL, "largest payload"},
};

enum { S_HEADER, S_PAYLOAD, S_COUNT };

static const as_gen_site_t sites[S_COUNT] = {
    {{"msg_header_new", "produce_message", "producer_main", "start_thread"},
     {AS_GEN_CONST, 64, 0, 0, 0},
     {AS_GEN_CONST, 0, 0, 0, 0},
     1},
    {{"msg_payload_new", "produce_message", "producer_main", "start_thread"},
     {AS_GEN_UNIFORM, 0, 0, 0, 0},
     {AS_GEN_CONST, 0, 0, 0, 0},
     1},
};

static int run(as_gen_t *g, const as_param_value_t *v)
{
    if (v[P_SIZE_MIN].u > v[P_SIZE_MAX].u) return AS_EINVAL;
    uint32_t stacks[S_COUNT];
    int rc = as_gen_define_sites(g, "/usr/bin/producer-consumer", sites,
                                 S_COUNT, stacks);
    if (rc) return rc;
    as_gen_dist_t payload = sites[S_PAYLOAD].size;
    payload.a = (double)v[P_SIZE_MIN].u;
    payload.b = (double)v[P_SIZE_MAX].u;

    uint32_t cpus = (uint32_t)v[P_CPUS].u;
    uint32_t consumer_cpu = (uint32_t)(v[P_CONSUMER_CPU].u % cpus);
    uint64_t t = 0, last_free = 0;
    for (uint64_t msg = 0; as_gen_more(g); msg++) {
        t += (uint64_t)as_rng_exp(&g->rng, (double)v[P_GAP].u);
        uint32_t cpu = v[P_MODE].u == MODE_RR
                           ? (uint32_t)((msg / v[P_ROTATE].u) % cpus)
                           : (uint32_t)(v[P_PRODUCER_CPU].u % cpus);
        uint64_t f = t + (uint64_t)as_rng_exp(&g->rng, (double)v[P_LATENCY].u);
        if (f < last_free + 40) f = last_free + 40;
        last_free = f;
        as_gen_alloc_t a = {.t_ns = t,
                            .thread = 0,
                            .cpu = cpu,
                            .stack = stacks[S_HEADER],
                            .size = 64,
                            .free_ns = f + 20,
                            .free_thread = 1,
                            .free_cpu = consumer_cpu};
        if (as_gen_alloc(g, &a) == AS_GEN_NONE) break;
        a.t_ns = t + 30;
        a.stack = stacks[S_PAYLOAD];
        a.size = as_gen_draw(&g->rng, &payload);
        a.free_ns = f < a.t_ns ? a.t_ns : f;
        as_gen_alloc(g, &a);
        t += 30;
        if (last_free < a.free_ns) last_free = a.free_ns;
    }
    return 0;
}

const as_gen_workload_t as_gen_producer_consumer = {
    .name = "producer-consumer",
    .doc = "one thread allocates messages, another frees them; the producer "
           "moves round-robin across CPUs (Hoard's blowup example)",
    .params = params,
    .n_params = P_COUNT,
    .run = run,
};

/* alloc_bench.c - allocator microbenchmarks in the manner of the classical
 * ones, written for allocsim (bench/alloc/run.sh runs them under each
 * allocator by LD_PRELOAD and compares).
 *
 *   alloc_bench larson THREADS ROUNDS      a Larson-like server: each
 *       thread owns 1000 slots and replaces a random one 10000 times per
 *       round with a block of 16..1024 bytes (first byte written); after
 *       every round the slot arrays move to the next thread, so most blocks
 *       are freed by a thread other than the one that allocated them
 *   alloc_bench threadtest THREADS ROUNDS  threadtest-like: each thread
 *       allocates 10000 blocks of 64 bytes, writes each, frees them all,
 *       ROUNDS times; no block crosses threads
 *   alloc_bench xmalloc THREADS ROUNDS     xmalloc-like producer-consumer:
 *       THREADS / 2 pairs (at least one); each producer allocates 10000
 *       blocks of 16..256 bytes per round and hands them to its consumer
 *       through a single-producer ring, and the consumer frees them, so
 *       every free is cross-thread
 *   alloc_bench cache-scratch THREADS ROUNDS  cache-scratch-like: the main
 *       thread allocates one 8-byte object per thread (adjacent: they may
 *       share a cache line) and each thread frees its own; then each thread
 *       10000 times per round allocates 8 bytes, writes them 50 times and
 *       frees them: an allocator that hands out blocks of one cache line to
 *       several threads makes them share it (false sharing)
 * Prints "MODE THREADS ops/s" (one malloc + one free = one op) from the
 * wall time of the whole run. Uses only malloc and free.
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SLOTS 1000
#define LARSON_OPS 10000
#define TT_BLOCKS 10000
#define MAX_THREADS 64
#define XM_BLOCKS 10000
#define XM_RING 1024 /* slots of a producer's ring (power of two) */
#define CS_OPS 10000
#define CS_WRITES 50

static int n_threads, rounds;
static void **slots[MAX_THREADS];
static pthread_barrier_t barrier;

static uint64_t rng(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static void *larson(void *arg)
{
    int id = (int)(intptr_t)arg;
    uint64_t s = 0x9e3779b97f4a7c15ull * (uint64_t)(id + 1);
    for (int r = 0; r < rounds; r++) {
        void **a = slots[(id + r) % n_threads]; /* another thread's array */
        for (int i = 0; i < LARSON_OPS; i++) {
            uint64_t x = rng(&s);
            size_t k = x % SLOTS;
            free(a[k]);
            size_t n = 16 + (x >> 20) % 1009;
            a[k] = malloc(n);
            *(volatile char *)a[k] = (char)n;
        }
        pthread_barrier_wait(&barrier);
    }
    return NULL;
}

static void *threadtest(void *arg)
{
    (void)arg;
    void **a = malloc(TT_BLOCKS * sizeof *a);
    for (int r = 0; r < rounds; r++) {
        for (int i = 0; i < TT_BLOCKS; i++) {
            a[i] = malloc(64);
            *(volatile char *)a[i] = (char)i;
        }
        for (int i = 0; i < TT_BLOCKS; i++)
            free(a[i]);
    }
    free(a);
    return NULL;
}

/* One producer-consumer pair's ring: the producer writes slot head % RING
 * then publishes head; the consumer reads up to head and publishes tail. */
typedef struct {
    _Alignas(64) _Atomic size_t head;
    _Alignas(64) _Atomic size_t tail;
    void *slot[XM_RING];
} ring_t;

static ring_t rings[MAX_THREADS];

static void *xm_producer(void *arg)
{
    ring_t *r = &rings[(intptr_t)arg];
    uint64_t s = 0x2545f4914f6cdd1dull * (uint64_t)((intptr_t)arg + 1);
    size_t n = (size_t)rounds * XM_BLOCKS;
    for (size_t i = 0; i < n; i++) {
        void *p = malloc(16 + rng(&s) % 241);
        *(volatile char *)p = 1;
        while (i - atomic_load_explicit(&r->tail, memory_order_acquire) >=
               XM_RING)
            sched_yield(); /* ring full: the consumer is behind */
        r->slot[i % XM_RING] = p;
        atomic_store_explicit(&r->head, i + 1, memory_order_release);
    }
    return NULL;
}

static void *xm_consumer(void *arg)
{
    ring_t *r = &rings[(intptr_t)arg];
    size_t n = (size_t)rounds * XM_BLOCKS;
    for (size_t i = 0; i < n;) {
        size_t h = atomic_load_explicit(&r->head, memory_order_acquire);
        if (h == i) sched_yield(); /* ring empty (2 cores may be shared) */
        for (; i < h; i++)
            free(r->slot[i % XM_RING]);
        atomic_store_explicit(&r->tail, i, memory_order_release);
    }
    return NULL;
}

static void *cs_objs[MAX_THREADS];

static void *cache_scratch(void *arg)
{
    int id = (int)(intptr_t)arg;
    free(cs_objs[id]);
    for (int i = 0; i < rounds * CS_OPS; i++) {
        volatile char *p = malloc(8);
        for (int w = 0; w < CS_WRITES; w++)
            p[w % 8] = (char)(p[w % 8] + 1);
        free((void *)p);
    }
    return NULL;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
    if (argc != 4 ||
        (strcmp(argv[1], "larson") && strcmp(argv[1], "threadtest") &&
         strcmp(argv[1], "xmalloc") && strcmp(argv[1], "cache-scratch"))) {
        fprintf(stderr, "usage: alloc_bench "
                        "larson|threadtest|xmalloc|cache-scratch THREADS "
                        "ROUNDS\n");
        return 2;
    }
    n_threads = atoi(argv[2]);
    rounds = atoi(argv[3]);
    if (n_threads < 1 || n_threads > MAX_THREADS || rounds < 1) {
        fprintf(stderr, "alloc_bench: THREADS 1..64, ROUNDS >= 1\n");
        return 2;
    }
    int is_larson = strcmp(argv[1], "larson") == 0;
    if (strcmp(argv[1], "xmalloc") == 0 ||
        strcmp(argv[1], "cache-scratch") == 0) {
        int xm = argv[1][0] == 'x', pairs = n_threads / 2 ? n_threads / 2 : 1;
        pthread_t th[MAX_THREADS];
        int nth = xm ? 2 * pairs : n_threads;
        if (!xm)
            for (int t = 0; t < n_threads; t++)
                cs_objs[t] = malloc(8);
        double t0 = now_s();
        for (int t = 0; t < nth; t++)
            pthread_create(&th[t], NULL,
                           xm ? (t % 2 ? xm_consumer : xm_producer)
                              : cache_scratch,
                           (void *)(intptr_t)(xm ? t / 2 : t));
        for (int t = 0; t < nth; t++)
            pthread_join(th[t], NULL);
        double dt = now_s() - t0;
        double ops = (double)rounds * (xm ? (double)pairs * XM_BLOCKS
                                          : (double)n_threads * CS_OPS);
        printf("%s %d %.0f\n", argv[1], n_threads, ops / dt);
        return 0;
    }
    if (is_larson) {
        uint64_t s = 1;
        for (int t = 0; t < n_threads; t++) {
            slots[t] = malloc(SLOTS * sizeof(void *));
            for (int i = 0; i < SLOTS; i++)
                slots[t][i] = malloc(16 + rng(&s) % 1009);
        }
        pthread_barrier_init(&barrier, NULL, (unsigned)n_threads);
    }
    pthread_t th[MAX_THREADS];
    double t0 = now_s();
    for (int t = 0; t < n_threads; t++)
        pthread_create(&th[t], NULL, is_larson ? larson : threadtest,
                       (void *)(intptr_t)t);
    for (int t = 0; t < n_threads; t++)
        pthread_join(th[t], NULL);
    double dt = now_s() - t0;
    double ops =
        (double)n_threads * rounds * (is_larson ? LARSON_OPS : TT_BLOCKS);
    printf("%s %d %.0f\n", argv[1], n_threads, ops / dt);
    if (is_larson)
        for (int t = 0; t < n_threads; t++) {
            for (int i = 0; i < SLOTS; i++)
                free(slots[t][i]);
            free(slots[t]);
        }
    return 0;
}

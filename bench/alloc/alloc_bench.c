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
 * Prints "MODE THREADS ops/s" (one malloc + one free = one op) from the
 * wall time of the whole run. Uses only malloc and free.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SLOTS 1000
#define LARSON_OPS 10000
#define TT_BLOCKS 10000
#define MAX_THREADS 64

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

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
    if (argc != 4 ||
        (strcmp(argv[1], "larson") && strcmp(argv[1], "threadtest"))) {
        fprintf(stderr,
                "usage: alloc_bench larson|threadtest THREADS ROUNDS\n");
        return 2;
    }
    n_threads = atoi(argv[2]);
    rounds = atoi(argv[3]);
    if (n_threads < 1 || n_threads > MAX_THREADS || rounds < 1) {
        fprintf(stderr, "alloc_bench: THREADS 1..64, ROUNDS >= 1\n");
        return 2;
    }
    int is_larson = strcmp(argv[1], "larson") == 0;
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

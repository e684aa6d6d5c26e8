/* pred_target.c - a program with two allocation sites of known, very
 * different lifetimes, for tests/check_malloc_predictor.sh: the LSTM
 * trained on its recorded trace must tell the sites apart, and the real
 * allocator running it under that model must predict both classes.
 *
 * Both sites allocate 48-byte blocks (the same size word for the model):
 * only the stack tells them apart.
 *   pred_scratch_buffer  blocks freed right away (lifetime: microseconds,
 *                        class 0 under LLAMA's default bounds)
 *   pred_retained_table  blocks kept until the process exits (never freed:
 *                        the last, unbounded class), from a frame 256
 *                        bytes taller (another stack height)
 * Usage: pred_target [ROUNDS [THREADS [fork]]] (default 1000 rounds, 1
 * thread). Each round makes two scratch blocks and one retained block.
 * With THREADS > 1 every thread runs ROUNDS rounds; with "fork" the
 * process forks after the rounds and the child runs them once more. The
 * output (a checksum of the blocks' contents) is the same under every
 * allocator. Built -O0 with frame pointers and -rdynamic, so each site is
 * a frame with a dynamic symbol, as in tests/record_target.c.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define BLOCK 48

static unsigned g_rounds = 1000;

__attribute__((noinline)) uint64_t pred_scratch_buffer(unsigned i)
{
    unsigned char *p = malloc(BLOCK);
    if (!p) abort();
    memset(p, (int)(i & 0xff), BLOCK);
    uint64_t s = p[i % BLOCK] + p[0];
    free(p);
    return s;
}

__attribute__((noinline)) void *pred_retained_table(unsigned i)
{
    /* a frame 256 bytes taller than the scratch site's, so the sites
     * differ in stack height too (cached.key=height keys on it alone) */
    volatile unsigned char pad[256];
    pad[i % sizeof pad] = (unsigned char)i;
    unsigned char *p = malloc(BLOCK);
    if (!p) abort();
    memset(p, (int)((i * 7 + pad[i % sizeof pad] * 0) & 0xff), BLOCK);
    return p;
}

/* One thread's rounds: the checksum of everything it touched. The
 * retained blocks stay reachable through `keep` until exit. */
static void *rounds(void *arg)
{
    void **keep = arg;
    uint64_t sum = 0;
    for (unsigned i = 0; i < g_rounds; i++) {
        sum += pred_scratch_buffer(i);
        keep[i] = pred_retained_table(i);
        sum += pred_scratch_buffer(i + 1);
        sum += ((unsigned char *)keep[i])[i % BLOCK];
    }
    return (void *)(uintptr_t)sum;
}

static uint64_t run_threads(unsigned threads)
{
    pthread_t th[64];
    void **keep[64];
    uint64_t total = 0;
    for (unsigned t = 0; t < threads; t++) {
        keep[t] = malloc(g_rounds * sizeof(void *));
        if (!keep[t]) abort();
    }
    if (threads == 1) return (uint64_t)(uintptr_t)rounds(keep[0]);
    for (unsigned t = 0; t < threads; t++)
        if (pthread_create(&th[t], NULL, rounds, keep[t]) != 0) abort();
    for (unsigned t = 0; t < threads; t++) {
        void *r;
        pthread_join(th[t], &r);
        total += (uint64_t)(uintptr_t)r;
    }
    return total;
}

int main(int argc, char **argv)
{
    unsigned threads = 1;
    if (argc > 1) g_rounds = (unsigned)strtoul(argv[1], NULL, 10);
    if (argc > 2) threads = (unsigned)strtoul(argv[2], NULL, 10);
    if (threads < 1 || threads > 64 || g_rounds < 1) return 2;
    int forking = argc > 3 && strcmp(argv[3], "fork") == 0;
    uint64_t sum = run_threads(threads);
    if (forking) {
        fflush(stdout);
        pid_t pid = fork();
        if (pid < 0) return 1;
        if (pid == 0) {
            printf("child checksum %llu\n",
                   (unsigned long long)run_threads(threads));
            return 0;
        }
        int st;
        if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) ||
            WEXITSTATUS(st) != 0)
            return 1;
    }
    printf("checksum %llu over %u rounds x %u threads\n",
           (unsigned long long)sum, g_rounds, threads);
    return 0;
}

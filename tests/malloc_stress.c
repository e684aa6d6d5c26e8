/* malloc_stress.c - a stress program for a malloc implementation, run under
 * LD_PRELOAD of liballocsim_malloc.so for every policy
 * (tests/check_malloc_preload.sh); it uses only the C API, so it passes
 * under glibc's malloc too.
 *
 *   malloc_stress edge         the API's corner cases, one thread: zero
 *                              sizes, sizes that must fail (SIZE_MAX,
 *                              calloc and reallocarray overflow) with
 *                              ENOMEM, every power-of-two alignment from 8 B
 *                              to 64 KiB through posix_memalign,
 *                              aligned_alloc and memalign, valloc, pvalloc,
 *                              calloc zeroing a recycled block,
 *                              malloc_usable_size
 *   malloc_stress threads [N]  8 threads, N operations each (default 20000):
 *                              malloc, calloc, realloc chains and aligned
 *                              allocations of 0 B to 1 MiB; a quarter of the
 *                              blocks are freed by another thread (through
 *                              a shared mailbox); every byte written is
 *                              checked before its block is freed or moved
 *   malloc_stress fork         a thread keeps allocating while the main
 *                              thread forks 8 times; each child allocates,
 *                              checks and exits 0
 *   malloc_stress badfree      frees the address of a static variable: a
 *                              policy that knows its blocks aborts
 *   malloc_stress doublefree   frees a block twice: a policy that keeps
 *                              its live blocks aborts
 *   malloc_stress hold         holds 10 blocks of 1 MiB, every byte
 *                              written, for 300 ms (for ALLOCSIM_STATS)
 *   malloc_stress release      the same 10 MiB, freed, then 300 ms idle (for
 *                              a policy's background release)
 *   malloc_stress smallhold    2000 blocks of 100 B, all freed, then 1000
 *                              of 160 B held: the program's peak live bytes
 *                              are 200000 (plus stdio's), however many of
 *                              the first blocks a thread cache keeps
 * Prints "ok: MODE" and exits 0, or prints what broke and exits 1.
 */
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* C23 functions glibc 2.36 lacks: used when the preloaded library has them */
extern void free_sized(void *p, size_t size) __attribute__((weak));
extern void free_aligned_sized(void *p, size_t align, size_t size)
    __attribute__((weak));

/* The failing sizes go through volatiles, so the compiler cannot see (and
 * warn about, or fold away) calls whose failure is the point. */
static volatile size_t v_max = SIZE_MAX, v_half = SIZE_MAX / 2,
                       v_2e33 = (size_t)1 << 33;
static void *(*volatile v_realloc)(void *, size_t) = realloc;
static void *(*volatile v_reallocarray)(void *, size_t, size_t) = reallocarray;

#define NTHREADS 8
#define SLOTS 256
#define MAILBOX 1024

static atomic_int failures;

#define CHECK(cond, ...)                                                       \
    do {                                                                       \
        if (!(cond)) {                                                         \
            fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);               \
            fprintf(stderr, __VA_ARGS__);                                      \
            fprintf(stderr, "\n");                                             \
            atomic_fetch_add(&failures, 1);                                    \
        }                                                                      \
    } while (0)

static uint64_t rng_next(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *s = x;
}

/* The byte a block stamped with `tag` holds at offset i. */
static unsigned char pat(uint32_t tag, size_t i)
{
    return (unsigned char)(tag * 131u + i * 7u + (i >> 8));
}

static void fill(unsigned char *p, size_t n, uint32_t tag)
{
    for (size_t i = 0; i < n; i++)
        p[i] = pat(tag, i);
}

/* @return 1 when p[0..n) still holds the pattern of tag. */
static int intact(const unsigned char *p, size_t n, uint32_t tag)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != pat(tag, i)) {
            fprintf(stderr,
                    "FAIL: byte %zu of block %p (%zu bytes) is %u, "
                    "wrote %u\n",
                    i, (const void *)p, n, p[i], pat(tag, i));
            return 0;
        }
    return 1;
}

/* --- edge ------------------------------------------------------------- */

static void edge(void)
{
    void *p, *q;
    long page = sysconf(_SC_PAGESIZE);

    /* zero sizes: unique, freeable blocks */
    p = malloc(0);
    q = malloc(0);
    CHECK(p && q && p != q, "malloc(0) twice: %p %p", p, q);
    free(p);
    free(q);
    p = calloc(0, 16);
    CHECK(p != NULL, "calloc(0, 16) returned NULL");
    free(p);
    free(NULL);

    /* sizes that must fail cleanly */
    errno = 0;
    CHECK(malloc(v_max) == NULL && errno == ENOMEM,
          "malloc(SIZE_MAX): errno %d", errno);
    errno = 0;
    CHECK(malloc(v_half + 1) == NULL && errno == ENOMEM,
          "malloc(SIZE_MAX/2+1): errno %d", errno);
    errno = 0;
    CHECK(calloc(v_half, 3) == NULL && errno == ENOMEM,
          "calloc overflow: errno %d", errno);
    errno = 0;
    CHECK(calloc(v_2e33, v_2e33) == NULL && errno == ENOMEM,
          "calloc 2^33 x 2^33: errno %d", errno);
    p = malloc(64);
    fill(p, 64, 1);
    errno = 0;
    CHECK(v_reallocarray(p, v_half, 3) == NULL && errno == ENOMEM,
          "reallocarray overflow: errno %d", errno);
    errno = 0;
    CHECK(v_realloc(p, v_max) == NULL && errno == ENOMEM,
          "realloc(p, SIZE_MAX): errno %d", errno);
    CHECK(intact(p, 64, 1), "block changed by a failed realloc");
    q = NULL;
    CHECK(posix_memalign(&q, 64, v_max) == ENOMEM && q == NULL,
          "posix_memalign(64, SIZE_MAX) did not fail with ENOMEM");
    CHECK(posix_memalign(&q, 24, 8) == EINVAL, "alignment 24 accepted");
    CHECK(posix_memalign(&q, 0, 8) == EINVAL, "alignment 0 accepted");
    free(p);

    /* realloc corner cases */
    p = realloc(NULL, 100);
    CHECK(p != NULL, "realloc(NULL, 100)");
    fill(p, 100, 2);
    p = realloc(p, 10);
    CHECK(p && intact(p, 10, 2), "shrinking realloc lost bytes");
    p = realloc(p, 100000);
    CHECK(p && intact(p, 10, 2), "growing realloc lost bytes");
    free(p);
    p = reallocarray(NULL, 10, 10);
    CHECK(p && malloc_usable_size(p) >= 100, "reallocarray(NULL, 10, 10)");
    free(p);

    /* calloc zeroes a block that was written and freed */
    for (size_t n = 16; n <= (1u << 20); n *= 4) {
        p = malloc(n);
        memset(p, 0xa5, n);
        free(p);
        unsigned char *z = calloc(1, n);
        size_t bad = 0;
        for (size_t i = 0; z && i < n; i++)
            bad += z[i] != 0;
        CHECK(z && bad == 0, "calloc(1, %zu): %zu non-zero bytes", n, bad);
        free(z);
    }

    /* every alignment up to 64 KiB, several sizes, three entry points */
    uint32_t tag = 10;
    for (size_t a = 8; a <= 65536; a *= 2) {
        size_t sizes[] = {0, 1, a - 1, a, a + 1, 3 * a + 5};
        for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
            size_t n = sizes[k];
            void *blocks[3] = {NULL, NULL, NULL};
            CHECK(posix_memalign(&blocks[0], a, n) == 0,
                  "posix_memalign(%zu, %zu) failed", a, n);
            blocks[1] = aligned_alloc(a, n);
            blocks[2] = memalign(a, n);
            for (int j = 0; j < 3; j++) {
                CHECK(blocks[j] && (uintptr_t)blocks[j] % a == 0,
                      "entry %d: %p not aligned to %zu (size %zu)", j,
                      blocks[j], a, n);
                if (!blocks[j]) continue;
                CHECK(malloc_usable_size(blocks[j]) >= n, "usable %zu < %zu",
                      malloc_usable_size(blocks[j]), n);
                fill(blocks[j], n, tag + (uint32_t)j);
            }
            for (int j = 0; j < 3; j++)
                if (blocks[j])
                    CHECK(intact(blocks[j], n, tag + (uint32_t)j),
                          "aligned block overwritten (align %zu)", a);
            free(blocks[0]);
            if (free_aligned_sized)
                free_aligned_sized(blocks[1], a, n);
            else
                free(blocks[1]);
            free(blocks[2]);
            tag += 3;
        }
    }
    p = valloc(1000);
    CHECK(p && (uintptr_t)p % (uintptr_t)page == 0, "valloc not page aligned");
    free(p);
    p = pvalloc(1);
    CHECK(p && (uintptr_t)p % (uintptr_t)page == 0 &&
              malloc_usable_size(p) >= (size_t)page,
          "pvalloc(1): %p usable %zu", p, p ? malloc_usable_size(p) : 0);
    free(p);
    p = malloc(300);
    CHECK(p && malloc_usable_size(p) >= 300, "malloc_usable_size");
    CHECK(malloc_usable_size(NULL) == 0, "malloc_usable_size(NULL)");
    if (free_sized)
        free_sized(p, 300);
    else
        free(p);
}

/* --- threads ---------------------------------------------------------- */

typedef struct {
    unsigned char *p;
    size_t n;
    uint32_t tag;
} blk_t;

static struct {
    pthread_mutex_t mu;
    blk_t q[MAILBOX];
    size_t head, count;
} mailbox = {.mu = PTHREAD_MUTEX_INITIALIZER};

static int post(blk_t b)
{
    pthread_mutex_lock(&mailbox.mu);
    int ok = mailbox.count < MAILBOX;
    if (ok) mailbox.q[(mailbox.head + mailbox.count++) % MAILBOX] = b;
    pthread_mutex_unlock(&mailbox.mu);
    return ok;
}

static int take(blk_t *b)
{
    pthread_mutex_lock(&mailbox.mu);
    int ok = mailbox.count > 0;
    if (ok) {
        *b = mailbox.q[mailbox.head];
        mailbox.head = (mailbox.head + 1) % MAILBOX;
        mailbox.count--;
    }
    pthread_mutex_unlock(&mailbox.mu);
    return ok;
}

static void release(blk_t *b)
{
    if (!b->p) return;
    CHECK(intact(b->p, b->n, b->tag), "block of %zu bytes corrupted", b->n);
    free(b->p);
    b->p = NULL;
}

static size_t pick_size(uint64_t *s)
{
    uint64_t r = rng_next(s);
    switch (r % 16) {
    case 0:
        return 0;
    case 1:
        return (size_t)(r >> 8) % 16384;
    case 3:
        return (r >> 8) % 64 == 0 ? (size_t)(r >> 16) % (1u << 20) : 4096;
    default:
        return (size_t)(r >> 8) % 512;
    }
}

static long g_iters = 20000;

static void *thread_main(void *arg)
{
    uint32_t id = (uint32_t)(uintptr_t)arg;
    uint64_t s = 0x9e3779b97f4a7c15ull * (id + 1);
    blk_t slot[SLOTS] = {{0}};
    uint32_t tag = id << 24;
    for (long it = 0; it < g_iters; it++) {
        blk_t *b = &slot[rng_next(&s) % SLOTS];
        uint64_t op = rng_next(&s) % 10;
        if (b->p && op < 3) { /* realloc chain: grow or shrink, keep prefix */
            size_t n = pick_size(&s) + (op == 0 ? b->n : 0);
            unsigned char *q = realloc(b->p, n);
            if (n == 0) { /* freed */
                b->p = NULL;
                continue;
            }
            CHECK(q != NULL, "realloc to %zu failed", n);
            if (!q) continue;
            size_t keep = b->n < n ? b->n : n;
            CHECK(intact(q, keep, b->tag), "realloc lost bytes");
            b->p = q;
            b->n = n;
            b->tag = ++tag;
            fill(q, n, b->tag);
            continue;
        }
        if (b->p && op < 5 && post(*b)) { /* another thread frees it */
            b->p = NULL;
            continue;
        }
        release(b);
        blk_t got;
        if (take(&got)) release(&got);
        size_t n = pick_size(&s);
        switch (op % 4) {
        case 0:
            b->p = calloc(1, n);
            for (size_t i = 0; b->p && i < n; i++)
                if (b->p[i]) {
                    CHECK(0, "calloc(1, %zu): byte %zu not zero", n, i);
                    break;
                }
            break;
        case 1: {
            size_t a = (size_t)8 << (rng_next(&s) % 14); /* 8 B .. 64 KiB */
            void *p = NULL;
            CHECK(posix_memalign(&p, a, n) == 0 && (uintptr_t)p % a == 0,
                  "posix_memalign(%zu, %zu)", a, n);
            b->p = p;
            break;
        }
        default:
            b->p = malloc(n);
        }
        CHECK(b->p != NULL, "allocation of %zu bytes failed", n);
        b->n = b->p ? n : 0;
        b->tag = ++tag;
        if (b->p) fill(b->p, n, b->tag);
    }
    for (int i = 0; i < SLOTS; i++)
        release(&slot[i]);
    return NULL;
}

static void threads(void)
{
    pthread_t th[NTHREADS];
    for (uintptr_t i = 0; i < NTHREADS; i++)
        CHECK(pthread_create(&th[i], NULL, thread_main, (void *)i) == 0,
              "pthread_create");
    for (int i = 0; i < NTHREADS; i++)
        pthread_join(th[i], NULL);
    blk_t b;
    while (take(&b))
        release(&b);
}

/* --- fork ------------------------------------------------------------- */

static atomic_int stop;

static void *holder(void *arg)
{
    (void)arg;
    uint64_t s = 42;
    blk_t slot[64] = {{0}};
    uint32_t tag = 7u << 24;
    while (!atomic_load(&stop)) {
        blk_t *b = &slot[rng_next(&s) % 64];
        release(b);
        b->n = pick_size(&s);
        b->p = malloc(b->n);
        b->tag = ++tag;
        if (b->p) fill(b->p, b->n, b->tag);
    }
    for (int i = 0; i < 64; i++)
        release(&slot[i]);
    return NULL;
}

static void forks(void)
{
    pthread_t th;
    pthread_create(&th, NULL, holder, NULL);
    for (int k = 0; k < 8; k++) {
        pid_t pid = fork();
        if (pid == 0) {
            uint64_t s = (uint64_t)k + 1;
            blk_t b[32] = {{0}};
            for (int i = 0; i < 1000; i++) {
                blk_t *x = &b[rng_next(&s) % 32];
                release(x);
                x->n = pick_size(&s);
                x->p = malloc(x->n);
                x->tag = (uint32_t)i;
                if (!x->p) _exit(3);
                fill(x->p, x->n, x->tag);
            }
            for (int i = 0; i < 32; i++)
                release(&b[i]);
            _exit(atomic_load(&failures) ? 1 : 0);
        }
        int st = 0;
        CHECK(pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) &&
                  WEXITSTATUS(st) == 0,
              "fork child %d: status 0x%x", k, st);
    }
    atomic_store(&stop, 1);
    pthread_join(th, NULL);
}

static char not_from_malloc[64];

static void smallhold(void)
{
    static void *p[2000];
    for (int i = 0; i < 2000; i++)
        p[i] = malloc(100);
    for (int i = 0; i < 2000; i++)
        free(p[i]);
    for (int i = 0; i < 1000; i++) {
        p[i] = malloc(160);
        CHECK(p[i] != NULL, "malloc(160)");
    }
    for (int i = 0; i < 1000; i++)
        free(p[i]);
}

static void hold(int release_first)
{
    void *p[10];
    for (int i = 0; i < 10; i++) {
        p[i] = malloc((size_t)1 << 20);
        CHECK(p[i] != NULL, "malloc(1 MiB)");
        if (p[i]) memset(p[i], i + 1, (size_t)1 << 20);
    }
    struct timespec ts = {0, 300000000};
    if (release_first)
        for (int i = 0; i < 10; i++)
            free(p[i]);
    nanosleep(&ts, NULL);
    if (!release_first)
        for (int i = 0; i < 10; i++)
            free(p[i]);
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "";
    if (strcmp(mode, "edge") == 0) {
        edge();
    } else if (strcmp(mode, "threads") == 0) {
        if (argc > 2) g_iters = atol(argv[2]);
        threads();
    } else if (strcmp(mode, "fork") == 0) {
        forks();
    } else if (strcmp(mode, "badfree") == 0) {
        void *volatile p = not_from_malloc + 16;
        free(p);
        printf("free of a static address returned\n");
        return 0;
    } else if (strcmp(mode, "doublefree") == 0) {
        void *volatile p = malloc(48);
        free(p);
        free(p);
        printf("a double free returned\n");
        return 0;
    } else if (strcmp(mode, "hold") == 0) {
        hold(0);
    } else if (strcmp(mode, "release") == 0) {
        hold(1);
    } else if (strcmp(mode, "smallhold") == 0) {
        smallhold();
    } else {
        fprintf(stderr, "usage: malloc_stress edge|threads "
                        "[N]|fork|badfree|doublefree|hold|release|smallhold\n");
        return 2;
    }
    if (atomic_load(&failures)) {
        fprintf(stderr, "malloc_stress %s: %d failures\n", mode,
                atomic_load(&failures));
        return 1;
    }
    printf("ok: %s\n", mode);
    return 0;
}

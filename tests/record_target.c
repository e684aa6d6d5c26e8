/* record_target.c - a program with known allocations, run under
 * `allocsim record` by tests/unit/test_traces_record.c.
 *
 * Every allocation the tests assert is made from a function of this file
 * (built -O0, with frame pointers and -rdynamic), so the tests pick this
 * program's events out of the trace by the innermost frame's module and
 * ignore what libc and the loader allocate for themselves. The sequences are
 * written down in the tests; change them together.
 *
 * Modes (argv[1]):
 *   basic       sizes, alignments, a realloc chain, a known free order, and
 *               two threads (one allocating and freeing its own objects, one
 *               freeing an object the main thread allocated)
 *   stress N    two threads: a producer allocates N objects and hands them
 *               through a queue to a consumer that frees them
 *   sigterm     allocates 1000 objects of 3000 bytes, prints "ready", then
 *               keeps allocating until killed
 *   exit        allocates 5 objects of 555 bytes, then _exit(3)
 *   fork        allocates 1 of 4141 bytes, forks a child that allocates 50 of
 *               4242 bytes, waits for it, allocates 1 of 4343 bytes
 *   exec        allocates 1 of 1111 bytes (never freed), execs itself with
 *               "after-exec", which allocates 1 of 2222 bytes
 *   execl       the same through execl (variadic)
 *   spawn       allocates 1 of 5151 bytes, starts itself with "after-spawn"
 *               through posix_spawn, waits for it, allocates 1 of 5353
 *   vfork       the same through vfork + execv
 *   forkexec    the same through fork + execv
 *   after-spawn allocates 30 of 5252 bytes
 *   frameless   allocates 3 objects of 8080 bytes through frameless_alloc,
 *               a function built without frame pointers (like libstdc++'s
 *               operator new), called from mode_frameless
 *   threads     64 threads, 8 at a time, each allocating 100 objects of
 *               7000 + its index bytes and freeing them (rings of finished
 *               threads are reused by new ones)
 *   closefds    allocates 1 of 6161 bytes, waits 100 ms (so it is shipped),
 *               closes every descriptor from 3 up (as daemons do), makes 16
 *               socket pairs (one takes the recorder's old number),
 *               allocates 100 of 6262 bytes, waits for the recorder's
 *               drainer, and exits 5 if any socket received a byte
 *   abort       allocates and frees 50000 objects of 4244 bytes, allocates
 *               100 of 4245 (kept), then abort()s -- at once, so most of it
 *               is still in the recorder's ring when the signal arrives
 *   segv        the same, then dies by SIGSEGV (a store through NULL)
 *   rawclose    allocates 1 of 7171 bytes, waits 100 ms, closes every
 *               descriptor from 3 up with a raw close_range syscall (which
 *               no hook sees), allocates 10 of 7272 and exits 0
 *   closefrom   allocates 1 of 9191 bytes, closefrom(3), allocates 10 of
 *               9292 and exits 0
 *   dup2        allocates 1 of 8181 bytes, dup2s /dev/null onto the
 *               recorder's number (ALLOCSIM_RECORD_FD), exits 4 unless that
 *               number is then /dev/null, allocates 10 of 8282, exits 0
 *   memory      grows: 60 blocks of 1 MiB, each written, one every 5 ms
 *               (about 300 ms), then frees them; and allocates 16 bytes
 *               from mode_memory and from memory_deeper, which it calls
 *               (a larger stack height), twice each

 *   writes      write reports (tests/check_record_writes.sh): with glibc's
 *               mmap threshold set to 48 KiB, no top pad and the heap
 *               trimmed, mallocs BIG (1 MiB) and MID
 *               (64 KiB), both mmap'd (the chunk header, written by glibc,
 *               is in the first page), and REC (32 KiB, heap) with a
 *               64-byte guard after it; writes all of REC and frees it;
 *               writes one byte at offset k * 4096 of BIG for k = 0, 5,
 *               100 and of MID for k = 3; sleeps 100 ms; writes BIG's
 *               k = 200; callocs 32 KiB (CAL: REC's block again); frees
 *               BIG, MID, CAL and the guard; prints
 *               "writes BIG MID REC CAL" (decimal addresses)
 *   writes-hold mallocs 1 MiB (HOLD), writes offset 7 * 4096, prints
 *               "ready PID HOLD" and waits to be killed
 *   writes-fork mallocs 1 MiB (PARENT), writes offset 4096, forks a child
 *               that mallocs 256 KiB (CHILD), writes offset 2 * 4096,
 *               prints "child CHILD", frees it; the parent waits for it,
 *               prints "parent PARENT" and frees its block
 */
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* Keep the compiler from dropping allocations: every block is touched and
 * its address goes through a volatile sink. */
static void *volatile sink;

void touch(void *p, size_t n)
{
    if (p && n) memset(p, 0xab, n);
    sink = p;
}

void *alloc_thread(void *arg)
{
    void *p[5];
    (void)arg;
    for (int i = 0; i < 5; i++) {
        p[i] = malloc(1000 + (size_t)i);
        touch(p[i], 1000 + (size_t)i);
    }
    for (int i = 4; i >= 0; i--)
        free(p[i]);
    return NULL;
}

void *free_thread(void *arg)
{
    free(arg);
    return NULL;
}

int mode_basic(void)
{
    void *p1 = malloc(100);
    touch(p1, 100);
    void *p2 = calloc(10, 20);
    touch(p2, 200);
    void *p3 = NULL;
    if (posix_memalign(&p3, 64, 300) != 0) return 1;
    touch(p3, 300);
    void *p4 = aligned_alloc(256, 512);
    touch(p4, 512);
    void *p5 = memalign(128, 1000);
    touch(p5, 1000);
    void *p6 = valloc(5000);
    touch(p6, 5000);
    /* realloc chain: 16 -> 32 -> 64 -> 4096, then freed */
    char *r = malloc(16);
    touch(r, 16);
    r = realloc(r, 32);
    touch(r, 32);
    r = realloc(r, 64);
    touch(r, 64);
    r = realloc(r, 4096);
    touch(r, 4096);
    free(r);
    /* known free order */
    free(p3);
    free(p1);
    free(p5);
    free(p2);
    free(p4);
    free(p6);
    /* thread 1 allocates and frees 1000..1004 bytes, in reverse */
    pthread_t t;
    if (pthread_create(&t, NULL, alloc_thread, NULL) != 0) return 1;
    pthread_join(t, NULL);
    /* thread 2 frees an object of the main thread */
    void *q = malloc(777);
    touch(q, 777);
    if (pthread_create(&t, NULL, free_thread, q) != 0) return 1;
    pthread_join(t, NULL);
    return 0;
}

/* stress: a mutex-protected ring of pointers between two threads. */
#define QCAP 64
static struct {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    void *slot[QCAP];
    unsigned head, tail; /* tail - head = items queued */
    int done;
} q = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, {0}, 0, 0, 0};

void *consumer(void *arg)
{
    (void)arg;
    for (;;) {
        pthread_mutex_lock(&q.lock);
        while (q.tail == q.head && !q.done)
            pthread_cond_wait(&q.cond, &q.lock);
        if (q.tail == q.head && q.done) {
            pthread_mutex_unlock(&q.lock);
            return NULL;
        }
        void *p = q.slot[q.head++ % QCAP];
        pthread_cond_broadcast(&q.cond);
        pthread_mutex_unlock(&q.lock);
        free(p);
    }
}

void produce_one(size_t size)
{
    void *p = malloc(size);
    touch(p, 8);
    pthread_mutex_lock(&q.lock);
    while (q.tail - q.head == QCAP)
        pthread_cond_wait(&q.cond, &q.lock);
    q.slot[q.tail++ % QCAP] = p;
    pthread_cond_broadcast(&q.cond);
    pthread_mutex_unlock(&q.lock);
}

int mode_stress(long n)
{
    pthread_t t;
    if (pthread_create(&t, NULL, consumer, NULL) != 0) return 1;
    for (long i = 0; i < n; i++)
        produce_one(16 + (size_t)(i % 7) * 16);
    pthread_mutex_lock(&q.lock);
    q.done = 1;
    pthread_cond_broadcast(&q.cond);
    pthread_mutex_unlock(&q.lock);
    pthread_join(t, NULL);
    return 0;
}

/* sink_null: NULL, out of the compiler's sight. */
void *sink_null(void)
{
    return (void *)(uintptr_t)(sink == (void *)1);
}

void alloc_n(int n, size_t size, int keep)
{
    for (int i = 0; i < n; i++) {
        void *p = malloc(size);
        touch(p, size);
        if (!keep) free(p);
    }
}

int mode_sigterm(void) __attribute__((noreturn));
int mode_sigterm(void)
{
    alloc_n(1000, 3000, 1);
    printf("ready %ld\n", (long)getpid());
    fflush(stdout);
    for (;;) {
        alloc_n(1, 3001, 0);
        usleep(1000);
    }
}

/* spawn, vfork, forkexec: a child that runs this program again as
 * "after-spawn", started three ways (the third records a forked image
 * before the exec). */
int mode_spawn(const char *how, char *self)
{
    extern char **environ;
    alloc_n(1, 5151, 1);
    char *args[] = {self, "after-spawn", NULL};
    pid_t pid = -1;
    if (strcmp(how, "spawn") == 0) {
        if (posix_spawn(&pid, "/proc/self/exe", NULL, NULL, args, environ))
            return 1;
    } else if (strcmp(how, "vfork") == 0) {
        pid = vfork();
        if (pid == 0) {
            execv("/proc/self/exe", args);
            _exit(127);
        }
    } else {
        pid = fork();
        if (pid == 0) {
            execv("/proc/self/exe", args);
            _exit(127);
        }
    }
    if (pid < 0) return 1;
    int st;
    waitpid(pid, &st, 0);
    alloc_n(1, 5353, 1);
    return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : 1;
}

int mode_fork(void)
{
    alloc_n(1, 4141, 1);
    pid_t pid = fork();
    if (pid < 0) return 1;
    if (pid == 0) {
        alloc_n(50, 4242, 1);
        _exit(0);
    }
    int st;
    waitpid(pid, &st, 0);
    alloc_n(1, 4343, 1);
    return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : 1;
}

/* Built without frame pointers and at -O2, so rbp still holds the caller's
 * frame when malloc runs; the store after the call prevents a tail call. */
#if defined(__GNUC__) && !defined(__clang__)
#define AS_FRAMELESS                                                           \
    __attribute__((noinline, optimize("O2", "omit-frame-pointer")))
#else /* clang has no per-function switch: the test then checks plain code */
#define AS_FRAMELESS __attribute__((noinline))
#endif
AS_FRAMELESS void *frameless_alloc(size_t n)
{
    void *p = malloc(n);
    sink = p;
    return p;
}

int mode_frameless(void)
{
    for (int i = 0; i < 3; i++)
        touch(frameless_alloc(8080), 8080);
    return 0;
}

void *thread_n(void *arg)
{
    size_t size = 7000 + (size_t)(uintptr_t)arg;
    void *p[100];
    for (int i = 0; i < 100; i++) {
        p[i] = malloc(size);
        touch(p[i], 8);
    }
    for (int i = 0; i < 100; i++)
        free(p[i]);
    return NULL;
}

int mode_threads(void)
{
    for (int round = 0; round < 8; round++) {
        pthread_t t[8];
        for (int i = 0; i < 8; i++)
            if (pthread_create(&t[i], NULL, thread_n,
                               (void *)(uintptr_t)(round * 8 + i)) != 0)
                return 1;
        for (int i = 0; i < 8; i++)
            pthread_join(t[i], NULL);
    }
    return 0;
}

int mode_closefds(void)
{
    alloc_n(1, 6161, 1);
    usleep(100000); /* the drainer ships every 2 ms: this one is out */
    for (int fd = 3; fd < 1024; fd++)
        close(fd);
    /* take the descriptor numbers back, for sockets of our own */
    int sv[16][2];
    for (int i = 0; i < 16; i++)
        if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv[i]) != 0) return 1;
    alloc_n(100, 6262, 0);
    usleep(20000); /* several drainer periods */
    char c;
    for (int i = 0; i < 16; i++)
        for (int k = 0; k < 2; k++)
            if (recv(sv[i][k], &c, 1, MSG_DONTWAIT) > 0) return 5;
    return 0;
}

int mode_dup2(void)
{
    const char *v = getenv("ALLOCSIM_RECORD_FD");
    int fd = v ? atoi(v) : -1;
    alloc_n(1, 8181, 1);
    int nul = open("/dev/null", O_WRONLY);
    struct stat st;
    if (fd < 0 || nul < 0 || dup2(nul, fd) != fd) return 3;
    if (fstat(fd, &st) != 0 || !S_ISCHR(st.st_mode)) return 4;
    alloc_n(10, 8282, 1);
    return 0;
}

/* mode_crash: 50000 + 100 allocations, then death by `sig`. */
int mode_crash(int sig)
{
    alloc_n(50000, 4244, 0);
    alloc_n(100, 4245, 1);
    if (sig == SIGABRT) abort();
    *(volatile int *)sink_null() = 1; /* SIGSEGV */
    return 1;
}

/* memory_deeper: two allocations one call below mode_memory (exported,
 * like every function the tests name, so its symbol is in the trace). */
void memory_deeper(void **out);
__attribute__((noinline)) void memory_deeper(void **out)
{
    char pad[256];
    memset(pad, 0, sizeof pad);
    out[0] = malloc(16);
    out[1] = malloc(16 + (size_t)pad[7]);
}

/* mode_memory: real memory that grows for ~300 ms (see the header). */
static int mode_memory(void)
{
    void *small[4];
    small[0] = malloc(16);
    small[1] = malloc(16);
    memory_deeper(small + 2);
    enum { BLOCKS = 60, BYTES = 1 << 20 };
    char *blk[BLOCKS];
    for (int i = 0; i < BLOCKS; i++) {
        blk[i] = malloc(BYTES);
        if (!blk[i]) return 1;
        memset(blk[i], i + 1, BYTES);
        usleep(5000);
    }
    for (int i = 0; i < BLOCKS; i++)
        free(blk[i]);
    for (int i = 0; i < 4; i++)
        free(small[i]);
    return 0;
}

/* The write-report modes (see the list at the top). */
enum { PAGE = 4096 };

int mode_writes(void)
{
    /* an empty top chunk: MID cannot come from it, so it is mmap'd */
    mallopt(M_MMAP_THRESHOLD, 48 << 10);
    mallopt(M_TOP_PAD, 0);
    malloc_trim(0);
    char *big = malloc(1 << 20), *mid = malloc(64 << 10);
    char *rec = malloc(32 << 10), *guard = malloc(64);
    if (!big || !mid || !rec || !guard) return 1;
    touch(guard, 64);
    touch(rec, 32 << 10);
    unsigned long rec_at = (unsigned long)(uintptr_t)rec;
    free(rec);
    big[0] = big[5 * PAGE] = big[100 * PAGE] = 1;
    mid[3 * PAGE] = 1;
    usleep(100000);
    big[200 * PAGE] = 1;
    char *cal = calloc(1, 32 << 10);
    if (!cal) return 1;
    sink = cal;
    unsigned long at[3] = {(unsigned long)(uintptr_t)big,
                           (unsigned long)(uintptr_t)mid,
                           (unsigned long)(uintptr_t)cal};
    free(big);
    free(mid);
    free(cal);
    free(guard);
    printf("writes %lu %lu %lu %lu\n", at[0], at[1], rec_at, at[2]);
    return 0;
}

int mode_writes_hold(void)
{
    char *hold = malloc(1 << 20);
    if (!hold) return 1;
    hold[7 * PAGE] = 1;
    printf("ready %ld %lu\n", (long)getpid(), (unsigned long)(uintptr_t)hold);
    fflush(stdout);
    for (;;)
        pause();
}

int mode_writes_fork(void)
{
    char *parent = malloc(1 << 20);
    if (!parent) return 1;
    parent[PAGE] = 1;
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) return 1;
    if (pid == 0) {
        char *child = malloc(256 << 10);
        if (!child) _exit(1);
        child[2 * PAGE] = 1;
        unsigned long at = (unsigned long)(uintptr_t)child;
        free(child);
        printf("child %lu\n", at);
        fflush(stdout);
        exit(0);
    }
    int st;
    if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st))
        return 1;
    unsigned long at = (unsigned long)(uintptr_t)parent;
    free(parent);
    printf("parent %lu\n", at);
    return 0;
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "basic";
    if (strcmp(mode, "memory") == 0) return mode_memory();
    if (strcmp(mode, "writes") == 0) return mode_writes();
    if (strcmp(mode, "writes-hold") == 0) return mode_writes_hold();
    if (strcmp(mode, "writes-fork") == 0) return mode_writes_fork();
    if (strcmp(mode, "basic") == 0) return mode_basic();
    if (strcmp(mode, "stress") == 0)
        return mode_stress(argc > 2 ? atol(argv[2]) : 10000);
    if (strcmp(mode, "sigterm") == 0) return mode_sigterm();
    if (strcmp(mode, "exit") == 0) {
        alloc_n(5, 555, 1);
        _exit(3);
    }
    if (strcmp(mode, "fork") == 0) return mode_fork();
    if (strcmp(mode, "exec") == 0) {
        alloc_n(1, 1111, 1);
        char *args[] = {argv[0], "after-exec", NULL};
        execv("/proc/self/exe", args);
        return 1;
    }
    if (strcmp(mode, "execl") == 0) { /* the same through execl */
        alloc_n(1, 1111, 1);
        execl("/proc/self/exe", argv[0], "after-exec", (char *)NULL);
        return 1;
    }
    if (strcmp(mode, "threads") == 0) return mode_threads();
    if (strcmp(mode, "frameless") == 0) return mode_frameless();
    if (strcmp(mode, "closefds") == 0) return mode_closefds();
    if (strcmp(mode, "abort") == 0) return mode_crash(SIGABRT);
    if (strcmp(mode, "segv") == 0) return mode_crash(SIGSEGV);
    if (strcmp(mode, "closefrom") == 0) {
        alloc_n(1, 9191, 1);
        closefrom(3);
        alloc_n(10, 9292, 1);
        return 0;
    }
    if (strcmp(mode, "dup2") == 0) return mode_dup2();
    if (strcmp(mode, "rawclose") == 0) {
        alloc_n(1, 7171, 1);
        usleep(100000);
        syscall(SYS_close_range, 3u, ~0u, 0);
        alloc_n(10, 7272, 1);
        return 0;
    }
    if (strcmp(mode, "spawn") == 0 || strcmp(mode, "vfork") == 0 ||
        strcmp(mode, "forkexec") == 0)
        return mode_spawn(mode, argv[0]);
    if (strcmp(mode, "after-spawn") == 0) {
        alloc_n(30, 5252, 1);
        return 0;
    }
    if (strcmp(mode, "after-exec") == 0) {
        alloc_n(1, 2222, 1);
        return 0;
    }
    fprintf(stderr, "record_target: unknown mode %s\n", mode);
    return 2;
}

/* record.c - the LD_PRELOAD recorder (liballocsim_record.so).
 *
 * This file is loaded into the recorded program. It wraps the malloc family
 * (malloc, calloc, realloc, reallocarray, free, posix_memalign,
 * aligned_alloc, memalign, valloc, pvalloc; C++ new/delete reach these), and
 * for each call appends one fixed-layout record (traces/record/protocol.h) to
 * a per-thread ring buffer. A background thread ships the rings through a
 * socket to `allocsim record`, which orders, numbers and compresses them
 * (the collector, traces/import/recstream.c). Nothing here compresses, numbers objects or
 * writes files. A signal that would end the program ships the rings from
 * its handler, and a MARK record then tells the collector how many records
 * were numbered, so what is lost is counted (SIGKILL: at most the records
 * still in the rings, not countable).
 *
 * What it must never do: call the hooked functions for itself while
 * recording (a thread-local guard routes every allocation made while a
 * record is being built -- by libunwind, dladdr, pthread, the demangler --
 * to the recorder's own heap, below, unrecorded and unseen by the allocator
 * behind), use libc's malloc for its own state
 * (rings and tables are mmap'd), or write to the socket outside g_drain_lock
 * (records from one image never interleave mid-record).
 *
 * Causal order: every ordered record takes a number from one global counter,
 * an allocation *after* the real call returned, a free *before* the real call
 * runs, and a realloc twice (RBEGIN before, REALLOC after). Anything the
 * program does with an address happens between those two points, so in seq
 * order a free never precedes its allocation and an address is never handed
 * out twice while live. Stack definitions take their seq before the id is
 * published, so they precede every event naming them.
 *
 * Environment (set by `allocsim record`): ALLOCSIM_RECORD_FD (socket),
 * ALLOCSIM_RECORD_PID (only that process records: forked children do not,
 * unless ALLOCSIM_RECORD_LISTEN names the abstract socket they connect to,
 * --follow-forks), ALLOCSIM_RECORD_DEPTH, ALLOCSIM_RECORD_SAMPLE_BYTES,
 * ALLOCSIM_RECORD_STACK_CACHE (0|1), ALLOCSIM_RECORD_UNWIND
 * (auto|fp|libunwind), ALLOCSIM_RECORD_COLLECTOR (pid of allocsim record:
 * the socket's peer must be it), ALLOCSIM_RECORD_MEM_NS (period of the
 * real-memory samples in ns, 0 = none; default 10 ms),
 * ALLOCSIM_RECORD_MALLINFO_NS (period of glibc mallinfo2 readings, 0 =
 * none, the default); and
 * ALLOCSIM_RECORD_CLOCK=monotonic, which times events with clock_gettime
 * instead of the TSC (not set by allocsim).
 *
 * Real memory: the drainer thread reads /proc/self/smaps_rollup (Rss,
 * AnonHugePages; /proc/self/statm when that cannot be read) when it starts,
 * every ALLOCSIM_RECORD_MEM_NS, and at the end of the image, and ships each
 * reading as a numbered MEM record, so it lands among the events in time
 * order. With ALLOCSIM_RECORD_MALLINFO_NS it also asks glibc for
 * mallinfo2() on the same schedule (not from a signal handler: mallinfo2
 * takes the arena locks) and ships the figures in the MEM record.
 *
 * Built as liballocsim_record.so (traces/record/CMakeLists.txt), installed
 * to PREFIX/lib/allocsim/; docs/install.md says how `allocsim record`
 * finds it.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <malloc.h>
#include <linux/futex.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#ifdef AS_RECORD_HAVE_LIBUNWIND
#define UNW_LOCAL_ONLY
#include <libunwind.h>
#endif

#include "common/stackwalk.h"
#include "common/symix.h"
#include "common/util.h"
#include "traces/record/procmem.h"
#include "traces/record/protocol.h"

#define AS_EXPORT __attribute__((visibility("default")))
#define AS_LIKELY(x) __builtin_expect(!!(x), 1)
#define AS_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define AS_TLS __thread __attribute__((tls_model("initial-exec")))

/* ------------------------------------------------------------ real libc */

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void __libc_free(void *);
extern void *__libc_memalign(size_t, size_t);
extern void *__libc_valloc(size_t);
extern void *__libc_pvalloc(size_t);

/* The next allocator in the chain (libc's, or another preload's). */
static struct {
    void *(*malloc)(size_t);
    void *(*calloc)(size_t, size_t);
    void *(*realloc)(void *, size_t);
    void (*free)(void *);
    int (*posix_memalign)(void **, size_t, size_t);
    void *(*aligned_alloc)(size_t, size_t);
    void *(*memalign)(size_t, size_t);
    void *(*valloc)(size_t);
    void *(*pvalloc)(size_t);
    int (*execve)(const char *, char *const[], char *const[]);
    int (*execv)(const char *, char *const[]);
    int (*execvp)(const char *, char *const[]);
    int (*execvpe)(const char *, char *const[], char *const[]);
    void (*exit_)(int) __attribute__((noreturn));
    void (*Exit_)(int) __attribute__((noreturn));
    void *(*dlopen)(const char *, int);
    int (*close)(int);
    int (*close_range)(unsigned, unsigned, int);
    int (*dup2)(int, int);
    int (*dup3)(int, int, int);
    char *(*demangle)(const char *, char *, size_t *, int *);
    size_t (*usable)(void *); /* malloc_usable_size (write reports) */
} real;

/* libstdc++'s demangler: a weak reference, bound by the dynamic linker when
 * the program has libstdc++ loaded at start-up and NULL otherwise. Not
 * dlsym(RTLD_DEFAULT, ...): in a C program that lookup fails, and a failed
 * dlsym leaves the thread's dlerror state holding a message allocated
 * through the program's malloc chain. The program's next dlsym frees that
 * message from inside glibc's _dlerror_run, which is not reentrant: when the
 * free reaches this recorder (its first event on the thread makes a ring,
 * and pthread_getattr_np reallocs) and the realloc reaches a second
 * interposer behind it that resolves its own next function lazily with
 * dlsym (bench/fidelity's libfidelity_touch.so, and most malloc wrappers),
 * the nested dlsym frees the same message again: "double free detected"
 * over glibc, "invalid pointer" over allocsim (sqlite3 in
 * tests/check_record_stacked.sh). */
extern char *__cxa_demangle(const char *, char *, size_t *, int *)
    __attribute__((weak, visibility("default")));

/* dlsym() itself calls calloc: while the table above is being filled,
 * allocations come from this static buffer and their frees are ignored. */
static char boot_buf[64 << 10] __attribute__((aligned(64)));
static size_t boot_used;
static atomic_int real_state; /* 0 none, 1 filling, 2 ready */

static void *boot_alloc(size_t n)
{
    size_t off = (boot_used + 15) & ~(size_t)15;
    if (off + n > sizeof boot_buf) return NULL;
    boot_used = off + n;
    return boot_buf + off; /* static storage: already zero */
}

static int boot_owns(const void *p)
{
    return (const char *)p >= boot_buf &&
           (const char *)p < boot_buf + sizeof boot_buf;
}

/* ------------------------------------------------------------ own heap
 *
 * Allocations the recorder causes -- made while tls_in_hook > 0 by
 * pthread_getattr_np when a thread's ring is made, by the demangler and
 * dladdr on the symbolizer thread, by libunwind, by the loader -- are not
 * in the trace, so they must not reach the allocator behind the recorder
 * either: there they would move the program's blocks, open a glibc arena
 * for a thread the trace does not have, and make the recorded run differ
 * from any replay of its trace (bench/fidelity compares the two). They are
 * served from this heap instead: one MAP_NORESERVE reservation, cut by a
 * bump pointer into power-of-two blocks with a free list per size, under
 * one spinlock (these calls are rare: a few per new thread and per new
 * code address). A block starts with a 16-byte header just before the
 * pointer handed out: the size class and the block's start (an aligned
 * request pads between the two). Every free and realloc asks own_owns()
 * first, whichever thread makes it and whether or not it is in the hook,
 * so a block may be freed by the program (a dlerror message, say). When the
 * reservation is used up, or before it exists, in-hook calls go to the
 * next allocator as before; record.own_heap_fallbacks counts them. */

#define OWN_SHIFT 30 /* a 1 GiB reservation */
#define OWN_RESERVE_BYTES (1ull << OWN_SHIFT)
#define OWN_MIN_CLASS 5  /* 32-byte blocks */
#define OWN_MAX_CLASS 29 /* 512 MiB */

typedef struct {
    uintptr_t start; /* the block's first byte */
    uint32_t cls;    /* the block is 1 << cls bytes */
    uint32_t magic;  /* OWN_MAGIC while handed out */
} own_hdr_t;

#define OWN_MAGIC 0x6f776e68u

/* The reservation is OWN_RESERVE_BYTES aligned to its size, so whether a
 * pointer is in it is one shift and one compare against g_own_id, which is
 * published last and holds an impossible value until then. */
static _Atomic uintptr_t g_own_id = UINTPTR_MAX; /* base >> OWN_SHIFT */
static uintptr_t g_own_base, g_own_end; /* [base, end): the reservation */
static uintptr_t g_own_next;            /* bump pointer, under g_own_lock */
static uintptr_t g_own_free[OWN_MAX_CLASS + 1];
static atomic_flag g_own_lock = ATOMIC_FLAG_INIT;
static uint64_t g_own_peak_bytes, g_own_live_bytes; /* under g_own_lock */
static atomic_uint g_own_fallbacks;

static inline int own_owns(const void *p)
{
    return ((uintptr_t)p >> OWN_SHIFT) ==
           atomic_load_explicit(&g_own_id, memory_order_acquire);
}

static void own_lock(void)
{
    while (atomic_flag_test_and_set_explicit(&g_own_lock, memory_order_acquire))
        sched_yield();
}

static void own_unlock(void)
{
    atomic_flag_clear_explicit(&g_own_lock, memory_order_release);
}

/* own_init: reserve the heap; in-hook calls stay with the next allocator
 * when the reservation fails. */
static void own_init(void)
{
    /* twice the size, then the unaligned ends trimmed */
    size_t span = 2 * OWN_RESERVE_BYTES;
    void *m = mmap(NULL, span, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (m == MAP_FAILED) return;
    uintptr_t lo = (uintptr_t)m;
    uintptr_t base = (lo + OWN_RESERVE_BYTES - 1) & ~(OWN_RESERVE_BYTES - 1);
    if (base > lo) munmap(m, base - lo);
    if (lo + span > base + OWN_RESERVE_BYTES)
        munmap((void *)(base + OWN_RESERVE_BYTES),
               lo + span - (base + OWN_RESERVE_BYTES));
    g_own_next = base;
    g_own_end = base + OWN_RESERVE_BYTES;
    g_own_base = base;
    atomic_store_explicit(&g_own_id, base >> OWN_SHIFT, memory_order_release);
}

/* own_alloc: n bytes aligned to align (a power of two) from the own heap.
 * @return the block, or NULL when the request does not fit (the caller
 * then asks the next allocator). */
static void *own_alloc(size_t n, size_t align)
{
    if (!g_own_base) return NULL;
    if (align < 16) align = 16;
    size_t need = n + sizeof(own_hdr_t) + (align > 16 ? align : 0);
    if (need < n || need > ((size_t)1 << OWN_MAX_CLASS)) return NULL;
    uint32_t cls = OWN_MIN_CLASS;
    while (((size_t)1 << cls) < need)
        cls++;
    size_t bytes = (size_t)1 << cls;
    own_lock();
    uintptr_t s = g_own_free[cls];
    if (s) {
        g_own_free[cls] = *(uintptr_t *)s;
    } else if (g_own_end - g_own_next >= bytes) {
        s = g_own_next;
        g_own_next += bytes;
    }
    if (s) {
        g_own_live_bytes += bytes;
        if (g_own_live_bytes > g_own_peak_bytes)
            g_own_peak_bytes = g_own_live_bytes;
    }
    own_unlock();
    if (!s) return NULL;
    uintptr_t p = (s + sizeof(own_hdr_t) + align - 1) & ~(uintptr_t)(align - 1);
    own_hdr_t *h = (own_hdr_t *)(p - sizeof(own_hdr_t));
    h->start = s;
    h->cls = cls;
    h->magic = OWN_MAGIC;
    return (void *)p;
}

/* own_usable: the bytes usable at p, a block of the own heap. */
static size_t own_usable(const void *p)
{
    const own_hdr_t *h = (const own_hdr_t *)p - 1;
    return h->start + ((size_t)1 << h->cls) - (uintptr_t)p;
}

/* own_free: give back p, a block of the own heap. A pointer into the heap
 * that is not a block handed out (a double free) is ignored. */
static void own_free(void *p)
{
    own_hdr_t *h = (own_hdr_t *)p - 1;
    if (((uintptr_t)p & 15) || h->magic != OWN_MAGIC) return;
    uintptr_t s = h->start;
    uint32_t cls = h->cls;
    h->magic = 0;
    own_lock();
    *(uintptr_t *)s = g_own_free[cls];
    g_own_free[cls] = s;
    g_own_live_bytes -= (size_t)1 << cls;
    own_unlock();
}

static void real_init(void)
{
    int expect = 0;
    if (!atomic_compare_exchange_strong(&real_state, &expect, 1)) return;
#define NEXT(f) (__typeof__(real.f))dlsym(RTLD_NEXT, #f)
    real.malloc = NEXT(malloc);
    real.calloc = NEXT(calloc);
    real.realloc = NEXT(realloc);
    real.free = NEXT(free);
    real.posix_memalign = NEXT(posix_memalign);
    real.aligned_alloc = NEXT(aligned_alloc);
    real.memalign = NEXT(memalign);
    real.valloc = NEXT(valloc);
    real.pvalloc = NEXT(pvalloc);
    real.execve = NEXT(execve);
    real.execv = NEXT(execv);
    real.execvp = NEXT(execvp);
    real.execvpe = NEXT(execvpe);
    real.dlopen = NEXT(dlopen);
    real.close = NEXT(close);
    real.close_range = NEXT(close_range);
    real.dup2 = NEXT(dup2);
    real.dup3 = NEXT(dup3);
    real.usable =
        (__typeof__(real.usable))dlsym(RTLD_NEXT, "malloc_usable_size");
    real.exit_ = (__typeof__(real.exit_))dlsym(RTLD_NEXT, "_exit");
    real.Exit_ = (__typeof__(real.Exit_))dlsym(RTLD_NEXT, "_Exit");
#undef NEXT
    if (!real.malloc) real.malloc = __libc_malloc;
    if (!real.calloc) real.calloc = __libc_calloc;
    if (!real.realloc) real.realloc = __libc_realloc;
    if (!real.free) real.free = __libc_free;
    if (!real.memalign) real.memalign = __libc_memalign;
    if (!real.valloc) real.valloc = __libc_valloc;
    if (!real.pvalloc) real.pvalloc = __libc_pvalloc;
    atomic_store(&real_state, 2);
}

static inline int real_ready(void)
{
    if (AS_LIKELY(atomic_load_explicit(&real_state, memory_order_acquire) == 2))
        return 1;
    real_init();
    return atomic_load(&real_state) == 2;
}

/* ------------------------------------------------------------ state */

/* One ring per live thread. Producer: the owning thread (advances head).
 * Consumer: whoever holds g_drain_lock (advances tail).
 * Invariant: tail <= head <= tail + cap; bytes [tail, head) are whole
 * records not yet shipped, stored at index (pos % cap). */
typedef struct as_rec_ring {
    struct as_rec_ring *next; /* list of all rings, never unlinked */
    _Atomic uint64_t head;    /* bytes ever written */
    _Atomic uint64_t tail;    /* bytes ever shipped */
    atomic_int state;         /* RING_FREE, RING_OWNED, RING_DEAD */
    uint32_t thread;          /* thread number of the current owner */
    uintptr_t stack_lo;       /* owner's stack bounds (0 = unknown) */
    uintptr_t stack_hi;
    int64_t bytes_until_sample; /* sampling countdown */
    uint64_t rng;               /* xorshift state for sampling */
    uint8_t *buf;
    uint64_t cap; /* power of two */
    /* recently used stacks of this thread: hash -> id, direct-mapped, so
     * a hot stack costs no probe of the shared 16 MiB table */
    uint64_t scache_hash[256];
    uint32_t scache_id[256];
    /* --stack-cache: (return address, stack height) -> stack id of the
     * last walk from there, direct-mapped; a hit skips the walk */
    uint64_t hcache_key[1024];
    uint32_t hcache_id[1024];
} as_rec_ring_t;

enum { RING_FREE = 0, RING_OWNED = 1, RING_DEAD = 2 };

#define RING_BYTES (1u << 20)

static AS_TLS int tls_in_hook; /* > 0: do not record this thread */
static AS_TLS as_rec_ring_t *tls_ring;
static AS_TLS int tls_done; /* thread is exiting: drop its events */

static atomic_int g_enabled; /* recording on */
static int g_fd = -1;        /* socket to the collector */
static pid_t g_pid;
static uint32_t g_max_depth = 32;
static uint64_t g_sample_bytes; /* 0: record everything */
static int g_unwind;            /* AS_UNWIND_* (common/stackwalk.h) */
static int g_stack_cache;       /* reuse stacks by (ra, height) */
static char g_listen[96];       /* --follow-forks: collector's abstract
                                   socket name; "" = forks not followed */
static _Atomic uint64_t g_seq = 1;
static atomic_uint g_threads;
static _Atomic(as_rec_ring_t *) g_rings;
static pthread_mutex_t g_drain_lock = PTHREAD_MUTEX_INITIALIZER;
static atomic_int g_wake;   /* futex word of the drainer */
static atomic_int g_stop;   /* drainer: exit */
static atomic_int g_broken; /* socket failed: discard records */
static atomic_int g_finalized;
static pthread_key_t g_key;
static size_t g_page = 4096;
static uint64_t g_mem_ns = 10000000; /* real-memory sample period, 0 = off */
static uint64_t g_next_mem;          /* ns of the next sample (drainer) */
/* A reading of smaps_rollup walks every page table of the process: on a
 * large heap it takes milliseconds (17% of a recorded compile's CPU at
 * 10 ms). So every period gets the resident bytes from statm (O(1)), and
 * the full reading (resident and huge-page bytes) is kept within 5% of
 * the process's own CPU time: after one that cost C of CPU, the next waits
 * until the process has used 20 C more (all its threads; CPU clocks, so a
 * loaded machine stretches neither), or 1 s has passed. The longest gap
 * between full readings is reported at the end
 * (record.mem_interval_max_ns, when longer than 1.5 periods). */
#define MEM_COST_FACTOR 20
#define MEM_QUIET_NS 1000000000u /* a reading at least this often */
static uint64_t g_mem_cost;      /* CPU ns of the last reading */
static uint64_t g_mem_cpu_last;  /* process CPU ns after it */
static uint64_t g_mem_last;      /* its time (now_ns) */
static uint64_t g_mem_period_max;

/* Write reports: the table of live large objects and the scanner's
 * schedule ("writes" below). */
#define BIG_SETS 4096u
#define BIG_WAYS 8u
#define PM_BATCH 256u /* pagemap entries per pread */
#define WRITE_REC_BYTES 2048u
#define WRITE_RUNS ((WRITE_REC_BYTES - sizeof(as_rec_write_t)) / 16)

typedef struct {
    _Atomic uint64_t aseq; /* 0: empty or being changed */
    _Atomic uint64_t ptr;  /* 0: free to claim */
    _Atomic uint64_t size;
    uint64_t pad;
} as_big_t;

/* The scanner's own memory of a slot (drainer, or finalize under the drain
 * lock): pages it last reported written for the object alloc_seq. */
typedef struct {
    uint64_t aseq, pages;
} as_big_seen_t;

static uint64_t g_writes_min;           /* 0: no write reports */
static uint64_t g_writes_ns = 10000000; /* periodic scan period, 0 = none */
static int g_pagemap = -1;              /* /proc/self/pagemap */
static dev_t g_pagemap_dev;             /* its identity (writes_check) */
static ino_t g_pagemap_ino;
static int g_writes_lost;            /* reports stopped mid-image */
static as_big_t *g_big;              /* BIG_SETS * BIG_WAYS */
static atomic_uint *g_big_n;         /* live slots per set */
static as_big_seen_t *g_big_seen;    /* BIG_SETS * BIG_WAYS */
static atomic_uint g_big_untracked;  /* objects left out: set full */
static uint64_t g_next_writes;       /* drainer: next scan (ns) */
static uint64_t g_writes_cost;       /* CPU ns of the last scan */
static uint64_t g_writes_cpu_last;   /* process CPU ns after it */
static uint64_t g_writes_last;       /* its time (now_ns) */
static uint64_t g_writes_period_max; /* longest gap between scans */
static uint64_t g_writes_scans, g_writes_cpu_ns; /* count, total CPU */

static void writes_scan_all(uint32_t why);

static uint64_t cpu_clock_ns(clockid_t c)
{
    struct timespec t;
    if (clock_gettime(c, &t) != 0) return 0;
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}
static uint64_t g_mi_ns;   /* mallinfo2 period, 0 = off */
static uint64_t g_next_mi; /* ns of the next mallinfo2 (drainer) */
/* Periods in which no reading was taken because the drainer woke more
 * than a period late (due() below): record.mem_periods_missed and
 * record.mallinfo_periods_missed at the end, when not 0. */
static uint64_t g_mem_missed, g_mi_missed;

static void *map_zeroed(size_t bytes)
{
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

static inline uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Event times: the TSC when it is invariant (constant rate, running in
 * every C-state: the collector converts ticks to ns from SYNC pairs), else
 * clock_gettime. ALLOCSIM_RECORD_CLOCK=monotonic forces the latter. */
static int g_tsc;

static inline uint64_t event_time(void)
{
#if defined(__x86_64__)
    if (AS_LIKELY(g_tsc)) return __builtin_ia32_rdtsc();
#endif
    return now_ns();
}

static int tsc_invariant(void)
{
#if defined(__x86_64__)
    unsigned a, b, c, d;
    __asm__ volatile("cpuid"
                     : "=a"(a), "=b"(b), "=c"(c), "=d"(d)
                     : "a"(0x80000000u), "c"(0));
    if (a < 0x80000007u) return 0;
    __asm__ volatile("cpuid"
                     : "=a"(a), "=b"(b), "=c"(c), "=d"(d)
                     : "a"(0x80000007u), "c"(0));
    return (d >> 8) & 1;
#else
    return 0;
#endif
}

/* send_sync: a (tsc, ns) pair straight to the socket (caller holds
 * g_drain_lock or runs before the drainer exists). The clock is read
 * between two TSC reads, three times, and the tightest bracket kept (its
 * middle as the pair's tsc): a thread preempted between the two clocks
 * would otherwise make a pair milliseconds off, and the collector's
 * conversion with it (recstream.c) would move every time near it. */
static void send_all(struct iovec *iov, int n);
static void send_sync(void)
{
    if (!g_tsc) return;
    as_rec_sync_t r;
    memset(&r, 0, sizeof r);
    r.h.type = AS_REC_SYNC;
    r.h.len = sizeof r;
    uint64_t best = UINT64_MAX;
    for (int i = 0; i < 3; i++) {
        uint64_t a = event_time(), ns = now_ns(), b = event_time();
        if (b - a < best) {
            best = b - a;
            r.tsc = a + (b - a) / 2;
            r.h.t_ns = ns;
        }
    }
    struct iovec iov = {&r, sizeof r};
    send_all(&iov, 1);
}

static inline uint64_t next_seq(void)
{
    return atomic_fetch_add_explicit(&g_seq, 1, memory_order_relaxed);
}

/* ------------------------------------------------------------ shipping */

static void futex_wake(atomic_int *w)
{
    syscall(SYS_futex, (int *)w, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

static dev_t g_fd_dev;    /* identity of our socket, checked before writes */
static int g_fd_env = -1; /* the number ALLOCSIM_RECORD_FD gave */
/* 1 in a process recorded through the --follow-forks listener (a forked
 * child, or an image exec'd by a descendant): its trace ends at exec */
static int g_followed;
static ino_t g_fd_ino;

/* fd_is_ours: a program that closes every descriptor it did not open (as
 * daemons do) may get our number back for a file or a connection of its
 * own: never write there. */
static int fd_is_ours(void)
{
    struct stat st;
    if (g_fd < 0 || fstat(g_fd, &st) != 0 || st.st_dev != g_fd_dev ||
        st.st_ino != g_fd_ino) {
        atomic_store(&g_broken, 1);
        return 0;
    }
    return 1;
}

/* send_all: write iov fully to the socket; on error mark it broken. */
static void send_all(struct iovec *iov, int n)
{
    if (!fd_is_ours()) return;
    while (n > 0 && !atomic_load(&g_broken)) {
        struct msghdr mh = {0};
        mh.msg_iov = iov;
        mh.msg_iovlen = (size_t)n;
        ssize_t k = sendmsg(g_fd, &mh, MSG_NOSIGNAL);
        if (k < 0) {
            if (errno == EINTR) continue;
            atomic_store(&g_broken, 1);
            return;
        }
        while (n > 0 && (size_t)k >= iov->iov_len) {
            k -= (ssize_t)iov->iov_len;
            iov++, n--;
        }
        if (n > 0) {
            iov->iov_base = (char *)iov->iov_base + k;
            iov->iov_len -= (size_t)k;
        }
    }
}

/* drain_all: ship every ring's unshipped bytes, after a clock pair.
 * Caller holds g_drain_lock. */
static void drain_all(void)
{
    send_sync();
    for (as_rec_ring_t *r = atomic_load(&g_rings); r; r = r->next) {
        int st = atomic_load_explicit(&r->state, memory_order_acquire);
        uint64_t h = atomic_load_explicit(&r->head, memory_order_acquire);
        uint64_t t = atomic_load_explicit(&r->tail, memory_order_relaxed);
        if (h != t) {
            struct iovec iov[2];
            uint64_t a = t & (r->cap - 1), len = h - t;
            int n = 1;
            iov[0].iov_base = r->buf + a;
            if (a + len <= r->cap) {
                iov[0].iov_len = len;
            } else {
                iov[0].iov_len = r->cap - a;
                iov[1].iov_base = r->buf;
                iov[1].iov_len = len - (r->cap - a);
                n = 2;
            }
            send_all(iov, n);
            atomic_store_explicit(&r->tail, h, memory_order_release);
        }
        if (st == RING_DEAD) {
            int dead = RING_DEAD;
            atomic_compare_exchange_strong(&r->state, &dead, RING_FREE);
        }
    }
}

/* read_proc: the text of a /proc file into buf (at most cap bytes).
 * open/read/close only: async-signal-safe. @return bytes read, 0 if none. */
static size_t read_proc(const char *path, char *buf, size_t cap)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 0;
    size_t n = 0;
    while (n < cap) {
        ssize_t k = read(fd, buf + n, cap - n);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) break;
        n += (size_t)k;
    }
    syscall(SYS_close, fd);
    return n;
}

/* send_mem: read the process's real memory (rss: with `full` resident and
 * huge-page bytes from smaps_rollup, a walk of every page table;
 * otherwise the resident bytes alone from statm, O(1)) and/or ask glibc
 * for mallinfo2 (mi), and ship what was read as one MEM record
 * (protocol.h). Caller holds g_drain_lock (or gave up waiting for it).
 * mallinfo2 takes every arena's lock: never call it with mi from a signal
 * handler. */
static void send_mem(int rss, int full, int mi)
{
    char buf[4096];
    as_rec_mem_t m;
    memset(&m, 0, sizeof m);
    if (rss) {
        size_t n = 0;
        if (full) {
            n = read_proc("/proc/self/smaps_rollup", buf, sizeof buf);
            m.has = as_procmem_parse_rollup(buf, n, &m.rss_bytes,
                                            &m.anon_huge_bytes);
        }
        if (!(m.has & AS_SAMPLE_HAS_RSS)) {
            n = read_proc("/proc/self/statm", buf, sizeof buf);
            m.has |= as_procmem_parse_statm(buf, n, g_page, &m.rss_bytes);
        }
    }
    if (mi) {
        struct mallinfo2 x = mallinfo2();
        const size_t f[AS_MALLINFO_FIELDS] = {
            x.arena,   x.ordblks, x.smblks,   x.hblks,    x.hblkhd,
            x.usmblks, x.fsmblks, x.uordblks, x.fordblks, x.keepcost};
        for (int i = 0; i < AS_MALLINFO_FIELDS; i++)
            m.mallinfo[i] = f[i];
        m.has |= AS_SAMPLE_HAS_MALLINFO;
    }
    if (!m.has) return;
    m.h.type = AS_REC_MEM;
    m.h.len = sizeof m;
    m.h.cpu = (uint32_t)sched_getcpu();
    m.h.seq = next_seq();
    m.h.t_ns = event_time();
    struct iovec iov = {&m, sizeof m};
    send_all(&iov, 1);
}

/* due: whether a periodic reading (period ns, next at *next) is due at
 * now. The readings keep to one grid (the drainer's first reading, then
 * every period): when one is due, *next moves to the first grid point
 * after now, and the grid points it passed over without a reading (the
 * drainer woke more than a period late: a loaded machine) are added to
 * *missed, so readings + *missed = the periods elapsed. */
static int due(uint64_t period, uint64_t *next, uint64_t now, uint64_t *missed)
{
    if (!period || now < *next) return 0;
    uint64_t late = (now - *next) / period;
    *missed += late;
    *next += (late + 1) * period;
    return 1;
}

/* writes_periodic: the drainer's scan of the tracked large objects, when
 * its period has come and the last scan's CPU cost allows it: like the
 * full memory readings, the next scan waits until the process has used 20
 * times that cost more CPU (or 1 s has passed), so scanning takes at most
 * ~5% of the process's CPU time. Caller holds g_drain_lock. */
/* writes_check: whether the pagemap descriptor is still the pagemap (a
 * raw close_range that no hook saw, then a reuse of the number, would
 * make it another file). If not, reports stop (record.writes_lost).
 * @return 1 when reports go on. */
static int writes_check(void)
{
    struct stat st;
    if (g_pagemap >= 0 && fstat(g_pagemap, &st) == 0 &&
        st.st_dev == g_pagemap_dev && st.st_ino == g_pagemap_ino)
        return 1;
    g_writes_min = 0;
    g_writes_lost = 1;
    return 0;
}

static void writes_periodic(uint64_t now)
{
    if (now < g_next_writes || !writes_check()) return;
    g_next_writes += g_writes_ns;
    if (g_next_writes <= now) g_next_writes = now + g_writes_ns;
    uint64_t pcpu = cpu_clock_ns(CLOCK_PROCESS_CPUTIME_ID);
    if (g_writes_last &&
        pcpu - g_writes_cpu_last < g_writes_cost * MEM_COST_FACTOR &&
        now - g_writes_last < MEM_QUIET_NS)
        return;
    uint64_t c0 = cpu_clock_ns(CLOCK_THREAD_CPUTIME_ID);
    writes_scan_all(AS_REC_WRITE_PERIODIC);
    g_writes_cost = cpu_clock_ns(CLOCK_THREAD_CPUTIME_ID) - c0;
    g_writes_cpu_ns += g_writes_cost;
    g_writes_scans++;
    g_writes_cpu_last = cpu_clock_ns(CLOCK_PROCESS_CPUTIME_ID);
    if (g_writes_last && now - g_writes_last > g_writes_period_max)
        g_writes_period_max = now - g_writes_last;
    g_writes_last = now;
}

static void *drainer_main(void *arg)
{
    (void)arg;
    tls_in_hook = 1; /* this thread never records */
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, NULL);
    if (g_mem_ns || g_mi_ns) {
        /* not after the image's final MARK (a short program may have
         * finished before this thread first ran) */
        pthread_mutex_lock(&g_drain_lock);
        uint64_t c0 = cpu_clock_ns(CLOCK_THREAD_CPUTIME_ID);
        /* a clock pair first: until the collector has two, it gives a
         * TSC time the first pair's ns (the HELLO's), and this sample
         * would seem to come from the image's start */
        send_sync();
        /* the grid's origin: the time read before this reading, as a
         * periodic reading's `now` below is */
        g_mem_last = now_ns();
        if (!atomic_load(&g_stop)) send_mem(g_mem_ns != 0, 1, g_mi_ns != 0);
        g_mem_cost = cpu_clock_ns(CLOCK_THREAD_CPUTIME_ID) - c0;
        pthread_mutex_unlock(&g_drain_lock);
        g_mem_cpu_last = cpu_clock_ns(CLOCK_PROCESS_CPUTIME_ID);
        g_next_mem = g_mem_last + g_mem_ns;
        g_next_mi = g_mem_last + g_mi_ns;
    }
    while (!atomic_load(&g_stop)) {
        int w = atomic_load(&g_wake);
        struct timespec ts = {0, 2000000}; /* 2 ms, or to the next sample */
        uint64_t now = now_ns();
        if (g_mem_ns && g_next_mem > now && g_next_mem - now < 2000000)
            ts.tv_nsec = (long)(g_next_mem - now);
        if (g_mi_ns && g_next_mi > now &&
            g_next_mi - now < (uint64_t)ts.tv_nsec)
            ts.tv_nsec = (long)(g_next_mi - now);
        if (g_writes_min && g_writes_ns && g_next_writes > now &&
            g_next_writes - now < (uint64_t)ts.tv_nsec)
            ts.tv_nsec = (long)(g_next_writes - now);
        syscall(SYS_futex, (int *)&g_wake, FUTEX_WAIT_PRIVATE, w, &ts, NULL, 0);
        pthread_mutex_lock(&g_drain_lock);
        drain_all();
        now = now_ns();
        int rss = due(g_mem_ns, &g_next_mem, now, &g_mem_missed), full = 0;
        if (rss) {
            uint64_t pcpu = cpu_clock_ns(CLOCK_PROCESS_CPUTIME_ID);
            full = pcpu - g_mem_cpu_last >= g_mem_cost * MEM_COST_FACTOR ||
                   now - g_mem_last >= MEM_QUIET_NS;
        }
        int mi = due(g_mi_ns, &g_next_mi, now, &g_mi_missed);
        if ((rss || mi) && !atomic_load(&g_stop)) {
            if (full) { /* and the resident bytes still every period */
                uint64_t c0 = cpu_clock_ns(CLOCK_THREAD_CPUTIME_ID);
                send_mem(1, 1, mi);
                g_mem_cost = cpu_clock_ns(CLOCK_THREAD_CPUTIME_ID) - c0;
                g_mem_cpu_last = cpu_clock_ns(CLOCK_PROCESS_CPUTIME_ID);
                if (g_mem_last && now - g_mem_last > g_mem_period_max)
                    g_mem_period_max = now - g_mem_last;
                g_mem_last = now;
            } else {
                send_mem(rss, 0, mi);
            }
        }
        if (g_writes_min && g_writes_ns && !atomic_load(&g_stop))
            writes_periodic(now);
        pthread_mutex_unlock(&g_drain_lock);
    }
    return NULL;
}

/* ring_put: append one whole record; waits for room if the ring is full. */
static void ring_put(as_rec_ring_t *r, const void *rec, uint32_t len)
{
    uint64_t h = atomic_load_explicit(&r->head, memory_order_relaxed);
    for (;;) {
        uint64_t t = atomic_load_explicit(&r->tail, memory_order_acquire);
        if (h + len - t <= r->cap) {
            /* wake the drainer when usage crosses a quarter */
            uint64_t q = r->cap / 4;
            if (h - t < q && h + len - t >= q) {
                atomic_fetch_add(&g_wake, 1);
                futex_wake(&g_wake);
            }
            break;
        }
        if (atomic_load(&g_broken) || !atomic_load(&g_enabled)) return;
        atomic_fetch_add(&g_wake, 1);
        futex_wake(&g_wake);
        sched_yield();
    }
    uint64_t a = h & (r->cap - 1);
    if (a + len <= r->cap) {
        memcpy(r->buf + a, rec, len);
    } else {
        uint64_t first = r->cap - a;
        memcpy(r->buf + a, rec, first);
        memcpy(r->buf, (const uint8_t *)rec + first, len - first);
    }
    atomic_store_explicit(&r->head, h + len, memory_order_release);
}

static void thread_exit(void *arg)
{
    as_rec_ring_t *r = arg;
    tls_done = 1;
    tls_ring = NULL;
    if (r) atomic_store_explicit(&r->state, RING_DEAD, memory_order_release);
}

/* ring_self: this thread's ring, claimed or created on first use. */
static as_rec_ring_t *ring_self(void)
{
    as_rec_ring_t *r = tls_ring;
    if (AS_LIKELY(r != NULL)) return r;
    if (tls_done) return NULL;
    for (r = atomic_load(&g_rings); r; r = r->next) {
        int fr = RING_FREE;
        if (atomic_compare_exchange_strong(&r->state, &fr, RING_OWNED)) break;
    }
    if (!r) {
        r = map_zeroed(sizeof *r);
        if (!r) return NULL;
        r->cap = RING_BYTES;
        r->buf = map_zeroed(r->cap);
        if (!r->buf) return NULL;
        atomic_store(&r->state, RING_OWNED);
        as_rec_ring_t *old = atomic_load(&g_rings);
        do {
            r->next = old;
        } while (!atomic_compare_exchange_weak(&g_rings, &old, r));
    }
    r->thread = atomic_fetch_add(&g_threads, 1);
    if (r->thread >= AS_REC_MAX_THREADS) { /* the collector's bound */
        atomic_store(&r->state, RING_FREE);
        tls_done = 1;
        return NULL;
    }
    r->stack_lo = r->stack_hi = 0;
    pthread_attr_t attr;
    if (pthread_getattr_np(pthread_self(), &attr) == 0) {
        void *addr;
        size_t size;
        if (pthread_attr_getstack(&attr, &addr, &size) == 0) {
            r->stack_lo = (uintptr_t)addr;
            r->stack_hi = (uintptr_t)addr + size;
        }
        pthread_attr_destroy(&attr);
    }
    memset(r->hcache_key, 0, sizeof r->hcache_key);
    r->rng = as_hash64(0x9e3779b97f4a7c15ull + r->thread);
    r->bytes_until_sample = 0;
    tls_ring = r;
    pthread_setspecific(g_key, r);
    return r;
}

/* ------------------------------------------------------------ stacks */

/* Interned stacks: open addressing on a 64-bit hash of the pcs (two stacks
 * with the same hash are taken as one: odds ~ n^2 / 2^65). A slot is claimed
 * by CAS on `hash`; its `id` is published after the STACK record was queued,
 * so every event naming the id comes later in seq order. */
typedef struct {
    _Atomic uint64_t hash; /* 0 = empty */
    atomic_uint id;        /* 0 = being defined */
    uint32_t pad;
} as_rec_slot_t;

#define STACK_SLOTS (1u << 20)
#define PC_SLOTS (1u << 19)
static as_rec_slot_t *g_stacks; /* STACK_SLOTS */
static _Atomic uint64_t *g_pcs; /* PC_SLOTS distinct pcs (0 = empty) */
static atomic_uint g_stack_ids;

/* pc_is_new: insert pc into the set of pcs seen; @return 1 when it was not
 * there (the caller symbolizes it), 0 otherwise or when the set is full. */
static int pc_is_new(uint64_t pc)
{
    if (!g_pcs || !pc) return 0;
    for (uint64_t s = as_hash64(pc), k = 0; k < 64; k++, s++) {
        _Atomic uint64_t *slot = &g_pcs[s & (PC_SLOTS - 1)];
        uint64_t cur = atomic_load_explicit(slot, memory_order_relaxed);
        if (cur == pc) return 0;
        if (cur == 0) {
            uint64_t z = 0;
            if (atomic_compare_exchange_strong(slot, &z, pc)) return 1;
            if (z == pc) return 0;
        }
    }
    return 0;
}

static void sym_queue(as_rec_ring_t *r, uint64_t pc);
static int pcq_push(uint64_t pc);

static uint32_t stack_id_shared(as_rec_ring_t *r, const uint64_t *pcs,
                                uint32_t n, uint64_t h);

/* stack_id: intern pcs[0..n) and return its id, queueing its definition
 * into ring r when new. 0 when the table is full. */
static uint32_t stack_id(as_rec_ring_t *r, const uint64_t *pcs, uint32_t n)
{
    /* two independent multiply-rotate lanes (one multiply per pc on each
     * lane's critical path), then one full mix */
    uint64_t a = 0x51ed270b27e8f3a1ull ^ n, b = 0x9e3779b97f4a7c15ull;
    uint32_t i = 0;
    for (; i + 1 < n; i += 2) {
        a = ((a ^ pcs[i]) * 0xff51afd7ed558ccdull);
        a = (a << 29) | (a >> 35);
        b = ((b ^ pcs[i + 1]) * 0xc4ceb9fe1a85ec53ull);
        b = (b << 31) | (b >> 33);
    }
    if (i < n) a = ((a ^ pcs[i]) * 0xff51afd7ed558ccdull);
    uint64_t h = as_hash64(a ^ (b * 0x94d049bb133111ebull));
    if (h == 0) h = 1;
    uint32_t ci = (uint32_t)(h >> 56);
    if (r->scache_hash[ci] == h) return r->scache_id[ci];
    uint32_t id = stack_id_shared(r, pcs, n, h);
    if (id) {
        r->scache_hash[ci] = h;
        r->scache_id[ci] = id;
    }
    return id;
}

/* stack_id_shared: the shared table's id for hash h, defining it when new. */
static uint32_t stack_id_shared(as_rec_ring_t *r, const uint64_t *pcs,
                                uint32_t n, uint64_t h)
{
    for (uint64_t s = h, k = 0; k < 256; k++, s++) {
        as_rec_slot_t *slot = &g_stacks[s & (STACK_SLOTS - 1)];
        uint64_t cur = atomic_load_explicit(&slot->hash, memory_order_acquire);
        if (cur == 0) {
            uint64_t z = 0;
            if (atomic_compare_exchange_strong(&slot->hash, &z, h)) {
                uint32_t id = atomic_fetch_add(&g_stack_ids, 1) + 1;
                uint64_t buf[(sizeof(as_rec_stack_t) / 8) + AS_REC_MAX_DEPTH];
                as_rec_stack_t *rec = (as_rec_stack_t *)buf;
                memset(rec, 0, sizeof *rec);
                rec->h.type = AS_REC_STACK;
                rec->h.len = (uint16_t)(sizeof *rec + 8 * n);
                rec->h.thread = r->thread;
                rec->h.stack = id;
                rec->depth = n;
                memcpy(buf + sizeof *rec / 8, pcs, 8 * n);
                rec->h.seq = next_seq();
                rec->h.t_ns = event_time();
                ring_put(r, rec, rec->h.len);
                atomic_store_explicit(&slot->id, id, memory_order_release);
                /* new pcs only now: an inline dladdr may wait for the
                 * loader's lock, whose holder may be waiting for this id */
                for (uint32_t i = 0; i < n; i++)
                    if (pc_is_new(pcs[i]) && !pcq_push(pcs[i]))
                        sym_queue(r, pcs[i]);
                return id;
            }
            cur = z;
        }
        if (cur == h) {
            uint32_t id;
            while ((id = atomic_load_explicit(&slot->id,
                                              memory_order_acquire)) == 0)
                sched_yield();
            return id;
        }
    }
    return 0;
}

static uint32_t walk_stack(as_rec_ring_t *r, uintptr_t *fp, uintptr_t ra);

/* stack_height: bytes from the top of the thread's stack to the hook's
 * frame fp (what --stack-cache and LLAMA key on); 0 when unknown. */
static inline uint64_t stack_height(const as_rec_ring_t *r, const uintptr_t *fp)
{
    uintptr_t f = (uintptr_t)fp;
    return r->stack_hi && f >= r->stack_lo && f < r->stack_hi
               ? (uint64_t)(r->stack_hi - f)
               : 0;
}

/* capture_stack: the stack id of this call. With --stack-cache, a call from
 * the same return address at the same stack height (bytes from the top of
 * the thread's stack to the hook's frame) as an earlier one of this thread
 * reuses that call's stack without walking -- LLAMA's approximation of a
 * calling context by (return address, stack height): exact for code whose
 * call paths differ in height, wrong when two paths to one site have the
 * same height. */
static uint32_t capture_stack(as_rec_ring_t *r, uintptr_t *fp, uintptr_t ra)
{
    if (g_max_depth == 0) return 0;
    if (!g_stack_cache || r->stack_hi == 0) return walk_stack(r, fp, ra);
    uint64_t key = as_hash64(as_hash64(ra) + stack_height(r, fp)) | 1;
    uint32_t i = (uint32_t)(key >> 54);
    if (r->hcache_key[i] == key) return r->hcache_id[i];
    uint32_t id = walk_stack(r, fp, ra);
    r->hcache_key[i] = key;
    r->hcache_id[i] = id;
    return id;
}

static uint32_t walk_stack(as_rec_ring_t *r, uintptr_t *fp, uintptr_t ra)
{
    uint64_t pcs[AS_REC_MAX_DEPTH];
    uint32_t n = as_stackwalk(g_unwind, r->stack_lo, r->stack_hi, fp, ra, pcs,
                              g_max_depth);
    return stack_id(r, pcs, n);
}

/* ------------------------------------------------------------ events */

/* sample_take: TCMalloc-style byte sampling: a countdown drawn from an
 * exponential distribution of mean g_sample_bytes; the allocation that
 * crosses zero is sampled (so each byte has probability 1/N). */
static int sample_take(as_rec_ring_t *r, uint64_t size)
{
    r->bytes_until_sample -= (int64_t)size;
    if (r->bytes_until_sample > 0) return 0;
    while (r->bytes_until_sample <= 0) {
        uint64_t x = r->rng;
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        r->rng = x;
        double u = ((double)(x >> 11) + 0.5) * (1.0 / 9007199254740992.0);
        r->bytes_until_sample +=
            (int64_t)(-log(u) * (double)g_sample_bytes) + 1;
    }
    return 1;
}

static inline int recording(void)
{
    return AS_LIKELY(atomic_load_explicit(&g_enabled, memory_order_relaxed)) &&
           !tls_in_hook;
}

static inline void head_fill(as_rec_head_t *h, int type, uint16_t len,
                             as_rec_ring_t *r)
{
    h->type = (uint8_t)type;
    h->flags = 0;
    h->len = len;
    h->thread = r->thread;
    h->cpu = (uint32_t)sched_getcpu();
    h->stack = 0;
}

/* ------------------------------------------------------------ writes
 *
 * Write reports (--writes, protocol.h WRITE): which pages of each live
 * object of at least g_writes_min bytes the program has written, read from
 * /proc/self/pagemap (a page counts when present and exclusively mapped --
 * not the shared zero page a read of untouched memory maps -- or swapped).
 *
 * The table of live large objects: BIG_SETS sets of BIG_WAYS slots, a slot
 * claimed by CAS on its address (lock-free, so the hooks stay
 * async-signal-safe; a full set leaves the object out of the periodic
 * scans, counted in record.writes_untracked). Each slot holds the object's
 * address, requested size and the seq of the record that made it
 * (alloc_seq, unique): a writer clears alloc_seq before it changes the
 * other fields and sets it last, so a reader that sees the same nonzero
 * alloc_seq before and after reading them has read one object's values.
 *
 * When: a hook scans an object before the real free/realloc of it and
 * after calloc/realloc returned it (seq order is exact there); the
 * drainer scans every tracked object each ALLOCSIM_RECORD_WRITES_NS, at
 * most 5% of the process's CPU time (like the smaps readings); and once
 * at the end of the image. A periodic report reads the pagemap *before*
 * it takes its seq and names its object's alloc_seq, so when the object
 * was freed meanwhile (and its address perhaps reused) the collector
 * finds another object, or none, at the address and drops the report.
 */

static inline uint32_t big_set(uint64_t p)
{
    return (uint32_t)(as_hash64(p) & (BIG_SETS - 1));
}

/* big_insert: track object p (size bytes, made by the record of seq aseq). */
static void big_insert(uint64_t p, uint64_t size, uint64_t aseq)
{
    uint32_t set = big_set(p);
    as_big_t *s = g_big + (size_t)set * BIG_WAYS;
    for (uint32_t w = 0; w < BIG_WAYS; w++) {
        uint64_t z = 0;
        if (atomic_load_explicit(&s[w].ptr, memory_order_relaxed) == 0 &&
            atomic_compare_exchange_strong(&s[w].ptr, &z, p)) {
            atomic_store(&s[w].size, size);
            atomic_store(&s[w].aseq, aseq);
            atomic_fetch_add(&g_big_n[set], 1);
            return;
        }
    }
    atomic_fetch_add(&g_big_untracked, 1);
}

/* big_remove: stop tracking p. @return 1 with its size and alloc_seq, or
 * 0 when p is not tracked. */
static int big_remove(uint64_t p, uint64_t *size, uint64_t *aseq)
{
    uint32_t set = big_set(p);
    as_big_t *s = g_big + (size_t)set * BIG_WAYS;
    for (uint32_t w = 0; w < BIG_WAYS; w++) {
        if (atomic_load_explicit(&s[w].ptr, memory_order_relaxed) != p)
            continue;
        *aseq = atomic_exchange(&s[w].aseq, 0);
        *size = atomic_load(&s[w].size);
        atomic_store(&s[w].ptr, 0);
        atomic_fetch_sub(&g_big_n[set], 1);
        return *aseq != 0;
    }
    return 0;
}

/* A WRITE record being built; flushed to a thread's ring (r) or straight
 * to the socket (r == NULL: the drainer or finalize, under the drain
 * lock). */
typedef struct {
    uint64_t buf[WRITE_REC_BYTES / 8];
    as_rec_ring_t *r;
    uint32_t sent; /* records flushed so far */
} as_wbuild_t;

static void wbuild_start(as_wbuild_t *b, as_rec_ring_t *r, uint64_t ptr,
                         uint64_t aseq, uint32_t why)
{
    as_rec_write_t *w = (as_rec_write_t *)b->buf;
    memset(w, 0, sizeof *w);
    w->h.type = AS_REC_WRITE;
    w->h.thread = r ? r->thread : 0;
    w->ptr = ptr;
    w->alloc_seq = aseq;
    w->why = why;
    b->r = r;
    b->sent = 0;
}

/* wbuild_flush: send the runs gathered so far (if any) as one record. Its
 * seq is taken now, after the pagemap that showed them was read. */
static void wbuild_flush(as_wbuild_t *b)
{
    as_rec_write_t *w = (as_rec_write_t *)b->buf;
    if (!w->runs) return;
    w->h.len = (uint16_t)(sizeof *w + 16u * w->runs);
    w->h.cpu = (uint32_t)sched_getcpu();
    w->h.seq = next_seq();
    w->h.t_ns = event_time();
    if (b->r) {
        ring_put(b->r, w, w->h.len);
    } else {
        struct iovec iov = {w, w->h.len};
        send_all(&iov, 1);
    }
    w->runs = 0;
    b->sent++;
}

static void wbuild_run(as_wbuild_t *b, uint64_t start, uint64_t end)
{
    as_rec_write_t *w = (as_rec_write_t *)b->buf;
    if (w->runs == WRITE_RUNS) wbuild_flush(b);
    uint64_t *run = (uint64_t *)(w + 1) + 2u * w->runs;
    run[0] = start;
    run[1] = end;
    w->runs++;
}

/* scan_pages: read the pagemap of the pages under [ptr, ptr + size) and
 * add each run of written pages to b (flushing full records). pread only:
 * async-signal-safe. @return the number of written pages. */
static uint64_t scan_pages(as_wbuild_t *b, uint64_t ptr, uint64_t size)
{
    uint64_t pm[PM_BATCH];
    uint64_t page = g_page, a = ptr & ~(page - 1);
    uint64_t hi = (ptr + size + page - 1) & ~(page - 1);
    uint64_t written = 0, run_start = 0;
    int in_run = 0;
    while (a < hi) {
        uint64_t n = (hi - a) / page;
        if (n > PM_BATCH) n = PM_BATCH;
        ssize_t k = pread(g_pagemap, pm, n * 8, (off_t)(a / page * 8));
        if (k < 0 && errno == EINTR) continue;
        if (k < 8) break; /* unreadable: report what was read */
        n = (uint64_t)k / 8;
        for (uint64_t i = 0; i < n; i++, a += page) {
            uint64_t e = pm[i];
            int w = (((e >> 63) & 1) && ((e >> 56) & 1)) || ((e >> 62) & 1);
            if (w) {
                written++;
                if (!in_run) run_start = a, in_run = 1;
            } else if (in_run) {
                wbuild_run(b, run_start, a);
                in_run = 0;
            }
        }
    }
    if (in_run) wbuild_run(b, run_start, a);
    return written;
}

/* writes_gone: a hook is about to free or realloc p (why): report its
 * written pages now, before the memory may be gone, and stop tracking it.
 * The report's seq comes before the FREE/RBEGIN the caller sends next.
 * @return 1 when p was tracked (*size, *aseq: its size and alloc_seq). */
static int writes_gone(as_rec_ring_t *r, void *p, uint32_t why, uint64_t *size,
                       uint64_t *aseq)
{
    if (real.usable && real.usable(p) < g_writes_min) return 0;
    int tracked = big_remove((uintptr_t)p, size, aseq);
    if (!tracked) {
        /* untracked only when a set was full: the usable size bounds it,
         * the collector clips to the object it has at p (if any) */
        if (!real.usable || !atomic_load(&g_big_untracked)) return 0;
        *size = real.usable(p);
        *aseq = 0;
    }
    as_wbuild_t b;
    wbuild_start(&b, r, (uintptr_t)p, *aseq, why);
    scan_pages(&b, (uintptr_t)p, *size);
    wbuild_flush(&b);
    return tracked;
}

/* writes_new: the object p (size bytes) was just made by the record of
 * seq aseq: track it, and with `scan` (calloc, realloc: the call itself
 * wrote it) report its written pages now. */
static void writes_new(as_rec_ring_t *r, void *p, uint64_t size, uint64_t aseq,
                       int scan)
{
    if (scan) {
        as_wbuild_t b;
        wbuild_start(&b, r, (uintptr_t)p, aseq, AS_REC_WRITE_ALLOC);
        scan_pages(&b, (uintptr_t)p, size);
        wbuild_flush(&b);
    }
    big_insert((uintptr_t)p, size, aseq);
}

/* writes_scan_all: report every tracked object whose count of written
 * pages changed since its last report (the drainer's period, why
 * PERIODIC; the end of the image, EXIT). Caller holds g_drain_lock (or
 * gave up waiting for it). An object all of whose pages were reported is
 * not read again. */
static void writes_scan_all(uint32_t why)
{
    for (uint32_t set = 0; set < BIG_SETS; set++) {
        if (!atomic_load_explicit(&g_big_n[set], memory_order_relaxed))
            continue;
        for (uint32_t w = 0; w < BIG_WAYS; w++) {
            size_t i = (size_t)set * BIG_WAYS + w;
            uint64_t a1 = atomic_load(&g_big[i].aseq);
            if (!a1) continue;
            uint64_t p = atomic_load(&g_big[i].ptr);
            uint64_t size = atomic_load(&g_big[i].size);
            if (atomic_load(&g_big[i].aseq) != a1) continue; /* changed */
            as_big_seen_t *seen = &g_big_seen[i];
            if (seen->aseq != a1) seen->aseq = a1, seen->pages = 0;
            uint64_t page = g_page;
            uint64_t pages = ((p + size + page - 1) & ~(page - 1)) / page -
                             (p & ~(page - 1)) / page;
            if (seen->pages == pages) continue; /* all reported */
            as_wbuild_t b;
            wbuild_start(&b, NULL, p, a1, why);
            uint64_t n = scan_pages(&b, p, size);
            /* unchanged and still in one record: nothing new to say */
            if (n != seen->pages || b.sent) wbuild_flush(&b);
            seen->pages = n;
        }
    }
}

__attribute__((noinline)) static void on_alloc(void *p, uint64_t size,
                                               uint64_t align, uintptr_t *fp,
                                               uintptr_t ra, int scan)
{
    /* the time first: the allocator has just read its clock, and the walk
     * below may take microseconds (a time-driven policy replayed from the
     * trace should see what the allocator saw) */
    uint64_t t_ns = event_time();
    tls_in_hook++;
    as_rec_ring_t *r = ring_self();
    if (r && (!g_sample_bytes || sample_take(r, size))) {
        as_rec_alloc_t rec;
        head_fill(&rec.h, AS_REC_ALLOC, sizeof rec, r);
        rec.h.flags = AS_REC_F_SAMPLED;
        rec.h.stack = capture_stack(r, fp, ra);
        rec.ptr = (uintptr_t)p;
        rec.size = size;
        rec.align = align;
        rec.height = stack_height(r, fp);
        rec.h.seq = next_seq();
        rec.h.t_ns = t_ns;
        ring_put(r, &rec, sizeof rec);
        if (g_writes_min && size >= g_writes_min)
            writes_new(r, p, size, rec.h.seq, scan);
    }
    tls_in_hook--;
}

/* on_ptr: a FREE or RBEGIN of p, after the report of p's written pages
 * (when it is a tracked large object). @return 1 when p was tracked, with
 * its size and alloc_seq in *size and *aseq (a failed realloc tracks it
 * again). */
__attribute__((noinline)) static int on_ptr(int type, void *p, uint64_t *size,
                                            uint64_t *aseq)
{
    int tracked = 0;
    tls_in_hook++;
    as_rec_ring_t *r = ring_self();
    if (r) {
        if (g_writes_min)
            tracked = writes_gone(r, p,
                                  type == AS_REC_FREE ? AS_REC_WRITE_FREE
                                                      : AS_REC_WRITE_REALLOC,
                                  size, aseq);
        as_rec_ptr_t rec;
        head_fill(&rec.h, type, sizeof rec, r);
        rec.ptr = (uintptr_t)p;
        rec.h.seq = next_seq();
        rec.h.t_ns = event_time();
        ring_put(r, &rec, sizeof rec);
    } else if (g_writes_min) { /* no record: at least forget the object */
        big_remove((uintptr_t)p, size, aseq);
    }
    tls_in_hook--;
    return tracked;
}

/* on_realloc: realloc returned q. `old` is the block it was given; when
 * that was a tracked large object (old_tracked: its size and alloc_seq)
 * and the call failed, it is tracked again. */
__attribute__((noinline)) static void
on_realloc(void *q, uint64_t size, uintptr_t *fp, uintptr_t ra, void *old,
           int old_tracked, uint64_t old_size, uint64_t old_aseq)
{
    uint64_t t_ns = event_time(); /* as in on_alloc */
    tls_in_hook++;
    as_rec_ring_t *r = ring_self();
    if (r) {
        as_rec_realloc_t rec;
        head_fill(&rec.h, AS_REC_REALLOC, sizeof rec, r);
        if (q == NULL && size > 0)
            rec.h.flags |= AS_REC_F_FAILED;
        else if (q && (!g_sample_bytes || sample_take(r, size))) {
            rec.h.flags |= AS_REC_F_SAMPLED;
            rec.h.stack = capture_stack(r, fp, ra);
        }
        rec.ptr = (uintptr_t)q;
        rec.size = size;
        rec.height = stack_height(r, fp);
        rec.h.seq = next_seq();
        rec.h.t_ns = t_ns;
        ring_put(r, &rec, sizeof rec);
        if (old_tracked && (rec.h.flags & AS_REC_F_FAILED))
            big_insert((uintptr_t)old, old_size, old_aseq);
        else if (g_writes_min && (rec.h.flags & AS_REC_F_SAMPLED) &&
                 size >= g_writes_min)
            writes_new(r, q, size, rec.h.seq, 1); /* the copy wrote it */
    }
    tls_in_hook--;
}

#define FP() ((uintptr_t *)__builtin_frame_address(0))
#define RA() ((uintptr_t)__builtin_return_address(0))

/* ------------------------------------------------------------ hooks */

/* in_own: the call is the recorder's own (made in the hook): serve it from
 * the own heap. own_or_next counts the calls the own heap cannot take. */
#define in_own() AS_UNLIKELY(tls_in_hook &&g_own_base)

/* The next allocator's functions, called with the guard raised: whatever it
 * allocates for itself meanwhile (liballocsim_malloc.so's background thread:
 * pthread_create callocs its TLS vector) is not the program's, so it goes
 * unrecorded to the own heap and never into the next allocator's heap
 * (where the replay of the trace would not have it). */
#define NEXT_FN(ret, name, params, args)                                       \
    static ret next_##name params                                              \
    {                                                                          \
        tls_in_hook++;                                                         \
        ret r = real.name args;                                                \
        tls_in_hook--;                                                         \
        return r;                                                              \
    }
NEXT_FN(void *, malloc, (size_t n), (n))
NEXT_FN(void *, calloc, (size_t n, size_t m), (n, m))
NEXT_FN(void *, realloc, (void *p, size_t n), (p, n))
NEXT_FN(int, posix_memalign, (void **out, size_t a, size_t n), (out, a, n))
NEXT_FN(void *, aligned_alloc, (size_t a, size_t n), (a, n))
NEXT_FN(void *, memalign, (size_t a, size_t n), (a, n))
NEXT_FN(void *, valloc, (size_t n), (n))
NEXT_FN(void *, pvalloc, (size_t n), (n))
#undef NEXT_FN

static void next_free(void *p)
{
    tls_in_hook++;
    real.free(p);
    tls_in_hook--;
}

static void *own_or_next(void *p)
{
    if (!p) atomic_fetch_add(&g_own_fallbacks, 1);
    return p;
}

/* own_move: p, a block of the own heap, moved to q (n bytes, from either
 * heap; NULL: p stays). @return q. */
static void *own_move(void *p, void *q, size_t n)
{
    if (q) {
        size_t have = own_usable(p);
        memcpy(q, p, n < have ? n : have);
        own_free(p);
    }
    return q;
}

AS_EXPORT void *malloc(size_t n)
{
    if (AS_UNLIKELY(!real_ready())) return boot_alloc(n);
    if (in_own()) {
        void *o = own_or_next(own_alloc(n, 16));
        if (o) return o;
    }
    void *p = next_malloc(n);
    if (p && recording()) on_alloc(p, n, 0, FP(), RA(), 0);
    return p;
}

AS_EXPORT void *calloc(size_t n, size_t m)
{
    if (AS_UNLIKELY(!real_ready())) {
        size_t b;
        if (__builtin_mul_overflow(n, m, &b)) return NULL;
        return boot_alloc(b);
    }
    if (in_own()) {
        size_t b;
        if (__builtin_mul_overflow(n, m, &b)) {
            errno = ENOMEM;
            return NULL;
        }
        void *o = own_or_next(own_alloc(b, 16));
        if (o) return memset(o, 0, b);
    }
    void *p = next_calloc(n, m);
    if (p && recording()) on_alloc(p, (uint64_t)n * m, 0, FP(), RA(), 1);
    return p;
}

AS_EXPORT void free(void *p)
{
    if (!p || boot_owns(p)) return;
    if (own_owns(p)) {
        own_free(p);
        return;
    }
    if (AS_UNLIKELY(!real_ready())) return;
    if (recording()) {
        uint64_t size, aseq;
        on_ptr(AS_REC_FREE, p, &size, &aseq);
    }
    next_free(p);
}

static inline void *realloc_impl(void *p, size_t n, uintptr_t *fp, uintptr_t ra)
{
    if (AS_UNLIKELY(!real_ready())) return NULL;
    if (in_own() && (!p || own_owns(p))) {
        void *o = own_or_next(own_alloc(n, 16));
        if (o) return p ? own_move(p, o, n) : o;
        if (p) return own_move(p, next_malloc(n), n);
        /* p NULL: from the next allocator, below, not recorded */
    }
    if (p && (boot_owns(p) || own_owns(p))) {
        /* the program reallocs a block the recorder's calls made (the
         * bootstrap buffer's, from dlsym; the own heap's, e.g. a dlerror
         * message glibc hands out): it moves to the next allocator, and
         * the trace sees it born there */
        void *q;
        if (boot_owns(p)) {
            size_t have = (size_t)(boot_buf + sizeof boot_buf - (char *)p);
            if ((q = next_malloc(n))) memcpy(q, p, n < have ? n : have);
        } else {
            q = own_move(p, next_malloc(n), n);
        }
        if (q && recording()) on_alloc(q, n, 0, fp, ra, 1);
        return q;
    }
    if (!p) {
        void *q = next_realloc(NULL, n);
        if (q && recording()) on_alloc(q, n, 0, fp, ra, 0);
        return q;
    }
    if (!recording()) return next_realloc(p, n);
    uint64_t osize = 0, oseq = 0;
    int tracked = on_ptr(AS_REC_RBEGIN, p, &osize, &oseq);
    void *q = next_realloc(p, n);
    on_realloc(q, n, fp, ra, p, tracked, osize, oseq);
    return q;
}

AS_EXPORT void *realloc(void *p, size_t n)
{
    return realloc_impl(p, n, FP(), RA());
}

AS_EXPORT void *reallocarray(void *p, size_t n, size_t m)
{
    size_t b;
    if (__builtin_mul_overflow(n, m, &b)) {
        errno = ENOMEM;
        return NULL;
    }
    return realloc_impl(p, b, FP(), RA());
}

/* own_aligned: an aligned in-hook request from the own heap. @return the
 * block, or NULL (an alignment that is not a power of two is the next
 * allocator's to refuse). */
static void *own_aligned(size_t align, size_t n)
{
    if (!as_is_pow2(align)) return NULL;
    return own_or_next(own_alloc(n, align));
}

AS_EXPORT int posix_memalign(void **out, size_t align, size_t n)
{
    if (AS_UNLIKELY(!real_ready())) return ENOMEM;
    if (in_own() && align % sizeof(void *) == 0) {
        void *o = own_aligned(align, n);
        if (o) {
            *out = o;
            return 0;
        }
    }
    int rc;
    if (real.posix_memalign) {
        rc = next_posix_memalign(out, align, n);
    } else {
        if (!as_is_pow2(align) || align % sizeof(void *)) return EINVAL;
        void *p = next_memalign(align, n);
        if (!p) return ENOMEM;
        *out = p;
        rc = 0;
    }
    if (rc == 0 && *out && recording()) on_alloc(*out, n, align, FP(), RA(), 0);
    return rc;
}

AS_EXPORT void *aligned_alloc(size_t align, size_t n)
{
    if (AS_UNLIKELY(!real_ready())) return NULL;
    if (in_own()) {
        void *o = own_aligned(align, n);
        if (o) return o;
    }
    void *p = real.aligned_alloc ? next_aligned_alloc(align, n)
                                 : next_memalign(align, n);
    if (p && recording()) on_alloc(p, n, align, FP(), RA(), 0);
    return p;
}

AS_EXPORT void *memalign(size_t align, size_t n)
{
    if (AS_UNLIKELY(!real_ready())) return NULL;
    if (in_own()) {
        void *o = own_aligned(align, n);
        if (o) return o;
    }
    void *p = next_memalign(align, n);
    if (p && recording()) on_alloc(p, n, align, FP(), RA(), 0);
    return p;
}

AS_EXPORT void *valloc(size_t n)
{
    if (AS_UNLIKELY(!real_ready())) return NULL;
    if (in_own()) {
        void *o = own_aligned(g_page, n);
        if (o) return o;
    }
    void *p = next_valloc(n);
    if (p && recording()) on_alloc(p, n, g_page, FP(), RA(), 0);
    return p;
}

/* pvalloc gives the program whole pages: the recorded size is n rounded up
 * to the page size (at least one page). */
AS_EXPORT void *pvalloc(size_t n)
{
    if (AS_UNLIKELY(!real_ready())) return NULL;
    if (in_own()) {
        void *o = own_aligned(g_page, n ? as_align_up(n, g_page) : g_page);
        if (o) return o;
    }
    void *p = next_pvalloc(n);
    if (p && recording()) {
        uint64_t sz = n ? as_align_up(n, g_page) : g_page;
        on_alloc(p, sz, g_page, FP(), RA(), 0);
    }
    return p;
}

/* malloc_usable_size answers for the own heap's blocks itself; the rest
 * are the next allocator's. */
AS_EXPORT size_t malloc_usable_size(void *p)
{
    if (!p) return 0;
    if (own_owns(p)) return own_usable(p);
    if (boot_owns(p) || !real_ready() || !real.usable) return 0;
    return real.usable(p);
}

/* ------------------------------------------------------------ symbols */

/* sym_record: build in buf (AS_REC_MAX_LEN bytes) the SYM record of pc
 * (dladdr: module path, offset from the module base, dynamic symbol,
 * demangled when libstdc++'s demangler is loaded). @return its length. */
static uint32_t sym_record(uint64_t pc, uint32_t thread, uint64_t *buf,
                           int indexed)
{
    Dl_info di;
    const char *mod = "", *sym = "";
    char *dem = NULL;
    uint64_t off = 0;
    /* pc is a return address: look up pc-1 so a call at the very end of a
     * function is not credited to the next one */
    uintptr_t at = (uintptr_t)(pc - 1);
    int found, in_index = 0;
    if (indexed) {
        found = as_symix_lookup(at, &di, &in_index);
        /* no index for the object (too many objects, or it could not be
         * built): ask dladdr, as the index would have answered */
        if (found && !di.dli_sname && !in_index) {
            Dl_info d;
            if (dladdr((void *)at, &d) && d.dli_fname) di = d;
        }
    } else {
        found = dladdr((void *)at, &di);
    }
    if (found && di.dli_fname) {
        mod = di.dli_fname;
        off = pc - (uintptr_t)di.dli_fbase;
        if (di.dli_sname) {
            sym = di.dli_sname;
            int st = -1;
            if (real.demangle && sym[0] == '_' && sym[1] == 'Z') {
                dem = real.demangle(sym, NULL, NULL, &st);
                if (st == 0 && dem) sym = dem;
            }
        }
    }
    size_t ml = strlen(mod), sl = strlen(sym);
    if (ml > 2000) ml = 2000;
    if (sl > 4000) sl = 4000;
    size_t len = (sizeof(as_rec_sym_t) + ml + 1 + sl + 1 + 7) & ~(size_t)7;
    as_rec_sym_t *rec = (as_rec_sym_t *)buf;
    memset(rec, 0, len);
    rec->h.type = AS_REC_SYM;
    rec->h.len = (uint16_t)len;
    rec->h.thread = thread;
    rec->pc = pc;
    rec->offset = off;
    rec->module_len = (uint32_t)ml;
    rec->symbol_len = (uint32_t)sl;
    char *p = (char *)(rec + 1);
    memcpy(p, mod, ml);
    memcpy(p + ml + 1, sym, sl);
    if (dem) free(dem); /* the demangler's: from the own heap */
    return (uint32_t)len;
}

/* sym_queue: queue into ring r the SYM record of pc, built in the
 * program's thread (ALLOCSIM_RECORD_SYMBOLIZE=inline, or the symbolizer's
 * queue is full). */
static void sym_queue(as_rec_ring_t *r, uint64_t pc)
{
    uint64_t buf[AS_REC_MAX_LEN / 8];
    ring_put(r, buf, sym_record(pc, r->thread, buf, 0));
}

/* ------------------------------------------------------------ symbolizer
 *
 * dladdr costs microseconds per new code address and takes the loader's
 * lock; run in the program's threads it was 18% of a recorded C compile.
 * So a new pc only goes into a bounded lock-free queue (many producers,
 * one consumer at a time: a slot's sequence number says whether it is
 * filled, in the manner of Vyukov's bounded MPMC queue), and the
 * symbolizer thread looks it up and ships its SYM record. A SYM applies
 * whenever it arrives (the collector redefines a frame already written),
 * so only the end of an image must wait for the queue: exit and exec
 * symbolize what is left (sym_flush); a fatal signal cannot (dladdr is not
 * async-signal-safe) and counts what it leaves, record.unsymbolized_pcs.
 * The symbolizer never holds g_drain_lock while it runs dladdr, so a
 * thread that holds the loader's lock and waits for ring space is never
 * waiting on it. */

#define PCQ_SLOTS (1u << 16)
typedef struct {
    _Atomic uint64_t seq; /* pos + 1: filled for pos; pos: free for pos */
    uint64_t pc;
} pcq_slot_t;
static pcq_slot_t *g_pcq; /* NULL: symbolize inline */
static _Atomic uint64_t g_pcq_head, g_pcq_tail;
static pthread_mutex_t g_sym_lock = PTHREAD_MUTEX_INITIALIZER; /* consumer */
static atomic_int g_sym_stop;

/* pcq_init: a fresh, empty queue (at start and in a followed child).
 * @return 0, or -1 (then symbols are looked up inline). */
static int pcq_init(void)
{
    if (g_pcq) munmap(g_pcq, sizeof(pcq_slot_t) * PCQ_SLOTS);
    g_pcq = map_zeroed(sizeof(pcq_slot_t) * PCQ_SLOTS);
    if (!g_pcq) return -1;
    for (uint64_t i = 0; i < PCQ_SLOTS; i++)
        atomic_store_explicit(&g_pcq[i].seq, i, memory_order_relaxed);
    atomic_store(&g_pcq_head, 0);
    atomic_store(&g_pcq_tail, 0);
    atomic_store(&g_sym_stop, 0);
    pthread_mutex_init(&g_sym_lock, NULL);
    return 0;
}

/* pcq_push: queue pc for the symbolizer. @return 1, or 0 when the queue is
 * full or absent (the caller symbolizes inline). */
static int pcq_push(uint64_t pc)
{
    if (!g_pcq) return 0;
    uint64_t pos = atomic_load_explicit(&g_pcq_head, memory_order_relaxed);
    for (;;) {
        pcq_slot_t *sl = &g_pcq[pos & (PCQ_SLOTS - 1)];
        uint64_t seq = atomic_load_explicit(&sl->seq, memory_order_acquire);
        int64_t d = (int64_t)(seq - pos);
        if (d == 0) {
            if (atomic_compare_exchange_weak_explicit(
                    &g_pcq_head, &pos, pos + 1, memory_order_relaxed,
                    memory_order_relaxed)) {
                sl->pc = pc;
                atomic_store_explicit(&sl->seq, pos + 1, memory_order_release);
                return 1;
            }
        } else if (d < 0) {
            return 0; /* full */
        } else {
            pos = atomic_load_explicit(&g_pcq_head, memory_order_relaxed);
        }
    }
}

/* pcq_pop: the oldest queued pc (caller holds g_sym_lock). @return 1, or 0
 * when empty. */
static int pcq_pop(uint64_t *pc)
{
    uint64_t pos = atomic_load_explicit(&g_pcq_tail, memory_order_relaxed);
    pcq_slot_t *sl = &g_pcq[pos & (PCQ_SLOTS - 1)];
    if (atomic_load_explicit(&sl->seq, memory_order_acquire) != pos + 1)
        return 0;
    *pc = sl->pc;
    atomic_store_explicit(&sl->seq, pos + PCQ_SLOTS, memory_order_release);
    atomic_store_explicit(&g_pcq_tail, pos + 1, memory_order_relaxed);
    return 1;
}

/* sym_ship_one: look up one queued pc and ship its SYM (not after the
 * image's final MARK). Caller holds g_sym_lock, not g_drain_lock.
 * @return 1 if a pc was taken, 0 when the queue was empty. */
static int sym_ship_one(void)
{
    uint64_t pc, buf[AS_REC_MAX_LEN / 8];
    if (!pcq_pop(&pc)) return 0;
    uint32_t len = sym_record(pc, 0, buf, 1);
    pthread_mutex_lock(&g_drain_lock);
    if (!atomic_load(&g_stop)) {
        struct iovec iov = {buf, len};
        send_all(&iov, 1);
    }
    pthread_mutex_unlock(&g_drain_lock);
    return 1;
}

/* sym_flush: symbolize everything queued, from a program thread at the end
 * of an image (exit, exec). Gives up after ~2 s if the symbolizer is stuck
 * in a lookup (a destructor may run with the loader's lock held). */
static void sym_flush(void)
{
    if (!g_pcq) return;
    int locked = 0;
    for (int i = 0; i < 2000 && !locked; i++) {
        if (pthread_mutex_trylock(&g_sym_lock) == 0) {
            locked = 1;
        } else {
            struct timespec ts = {0, 1000000};
            nanosleep(&ts, NULL);
        }
    }
    if (!locked) return;
    while (sym_ship_one()) {
    }
    pthread_mutex_unlock(&g_sym_lock);
}

static void *symbolizer_main(void *arg)
{
    (void)arg;
    tls_in_hook = 1; /* this thread never records */
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, NULL);
    while (!atomic_load(&g_sym_stop) && !atomic_load(&g_stop)) {
        /* the lock per pc, so that a fork (sym_atfork_prepare) waits for
         * one lookup at most */
        int n = 0;
        for (int shipped = 1; n < 64 && shipped; n += shipped) {
            pthread_mutex_lock(&g_sym_lock);
            shipped = sym_ship_one();
            pthread_mutex_unlock(&g_sym_lock);
        }
        if (n == 0) {
            struct timespec ts = {0, 1000000}; /* 1 ms */
            nanosleep(&ts, NULL);
        }
    }
    return NULL;
}

/* start_symbolizer: the queue and its thread, unless
 * ALLOCSIM_RECORD_SYMBOLIZE=inline. On failure symbols are looked up
 * inline, as before. */
static void start_symbolizer(void)
{
    const char *m = getenv("ALLOCSIM_RECORD_SYMBOLIZE");
    if (m && strcmp(m, "inline") == 0) {
        if (g_pcq) munmap(g_pcq, sizeof(pcq_slot_t) * PCQ_SLOTS);
        g_pcq = NULL;
        return;
    }
    if (pcq_init() != 0) return;
    pthread_t th;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    if (pthread_create(&th, &attr, symbolizer_main, NULL) != 0) {
        munmap(g_pcq, sizeof(pcq_slot_t) * PCQ_SLOTS);
        g_pcq = NULL;
    }
    pthread_attr_destroy(&attr);
}

/* A fork must not copy the symbolizer in the middle of a lookup: glibc
 * resets the loader's load lock in the child but not the lock
 * dl_iterate_phdr holds, so a followed child's own lookups (and the
 * program's) would hang. The fork waits until no lookup runs. */
static void sym_atfork_prepare(void)
{
    if (g_pcq) pthread_mutex_lock(&g_sym_lock);
    if (g_own_base) own_lock(); /* after: the symbolizer allocates under it */
}

static void sym_atfork_parent(void)
{
    if (g_own_base) own_unlock();
    if (g_pcq) pthread_mutex_unlock(&g_sym_lock);
}

/* pcq_left: pcs queued and not symbolized (they stay unnamed). */
static uint64_t pcq_left(void)
{
    if (!g_pcq) return 0;
    return atomic_load(&g_pcq_head) - atomic_load(&g_pcq_tail);
}

/* lock_bounded: take g_drain_lock, giving up after ~2 s (signal path: the
 * holder is another thread that will finish its write). */
static int lock_bounded(void)
{
    for (int i = 0; i < 2000; i++) {
        if (pthread_mutex_trylock(&g_drain_lock) == 0) return 1;
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
    return 0;
}

/* dec: x in decimal, in v (async-signal-safe, unlike snprintf).
 * @return the first digit. */
static const char *dec(uint64_t x, char v[24])
{
    int k = 23;
    v[k] = 0;
    do
        v[--k] = (char)('0' + x % 10);
    while ((x /= 10) && k > 0);
    return v + k;
}

/* send_mark: tell the collector how far this image numbered its records
 * (protocol.h, MARK). Caller holds g_drain_lock, or gave up waiting. */
static void send_mark(uint32_t why, int sig)
{
    as_rec_mark_t m;
    memset(&m, 0, sizeof m);
    m.h.type = AS_REC_MARK;
    m.h.len = sizeof m;
    m.seq_end = atomic_load(&g_seq);
    m.why = why;
    m.signal = (uint32_t)sig;
    struct iovec iov = {&m, sizeof m};
    send_all(&iov, 1);
}

static void send_meta(const char *key, const char *value);

/* send_meta_u64: the metadata key with the decimal value x, when `when`
 * (the end-of-image figures that are written only when they say
 * something). */
static void send_meta_u64(const char *key, uint64_t x, int when)
{
    char v[24];
    if (when) send_meta(key, dec(x, v));
}
static atomic_uint g_kept_closes; /* close calls on our socket ignored */

/* finalize: stop recording, ship every ring, then the final MARK. Runs
 * once: at exit (destructor), _exit, or a fatal signal (why and sig say
 * which). Async-signal-safe apart from the bounded trylock: it only
 * copies from the rings (mmap'd, never freed) with sendmsg. */
static void finalize(uint32_t why, int sig)
{
    if (g_fd < 0 || getpid() != g_pid) return;
    if (atomic_exchange(&g_finalized, 1)) return;
    tls_in_hook++;
    /* the symbols of the pcs still queued: not from a signal handler */
    if (why != AS_REC_MARK_SIGNAL) sym_flush();
    atomic_store(&g_sym_stop, 1);
    int locked = lock_bounded();
    atomic_store(&g_enabled, 0);
    atomic_store(&g_stop, 1);
    drain_all();
    /* the memory at the end; mallinfo2 only when not in a signal handler
     * (the signal may have come inside malloc, holding an arena lock) */
    if (g_mem_ns || (g_mi_ns && why != AS_REC_MARK_SIGNAL))
        send_mem(g_mem_ns != 0, 1, g_mi_ns && why != AS_REC_MARK_SIGNAL);
    if (g_writes_min && writes_check()) /* the objects still live */
        writes_scan_all(AS_REC_WRITE_EXIT);
    if (g_pagemap >= 0) { /* what the reports cost */
        if (g_writes_lost) send_meta("record.writes_lost", "1");
        send_meta_u64("record.writes_scans", g_writes_scans, 1);
        send_meta_u64("record.writes_scan_cpu_ns", g_writes_cpu_ns, 1);
        send_meta_u64("record.writes_interval_max_ns", g_writes_period_max,
                      g_writes_period_max > g_writes_ns + g_writes_ns / 2);
        unsigned un = atomic_load(&g_big_untracked);
        send_meta_u64("record.writes_untracked", un, un != 0);
    }
    unsigned kept = atomic_load(&g_kept_closes);
    send_meta_u64("record.kept_closes", kept, kept != 0);
    send_meta_u64("record.mem_interval_max_ns", g_mem_period_max,
                  g_mem_period_max > g_mem_ns + g_mem_ns / 2);
    /* what the recorder's own calls took */
    send_meta_u64("record.own_heap_peak_bytes", g_own_peak_bytes,
                  g_own_base != 0);
    unsigned fb = atomic_load(&g_own_fallbacks);
    send_meta_u64("record.own_heap_fallbacks", fb, fb != 0);
    send_meta_u64("record.mem_periods_missed", g_mem_missed, g_mem_missed != 0);
    send_meta_u64("record.mallinfo_periods_missed", g_mi_missed,
                  g_mi_missed != 0);
    uint64_t left = pcq_left();
    send_meta_u64("record.unsymbolized_pcs", left, left != 0);
    send_mark(why, sig);
    if (locked) pthread_mutex_unlock(&g_drain_lock);
    tls_in_hook--;
}

__attribute__((destructor)) static void rec_fini(void)
{
    finalize(AS_REC_MARK_EXIT, 0);
}

AS_EXPORT void _exit(int status)
{
    real_ready();
    finalize(AS_REC_MARK_EXIT, 0);
    if (real.exit_) real.exit_(status);
    syscall(SYS_exit_group, status);
    __builtin_unreachable();
}

AS_EXPORT void _Exit(int status)
{
    real_ready();
    finalize(AS_REC_MARK_EXIT, 0);
    if (real.Exit_) real.Exit_(status);
    syscall(SYS_exit_group, status);
    __builtin_unreachable();
}

/* on_fatal_signal: a signal whose default action ends the process
 * arrived while its disposition was still the default: ship everything,
 * restore the default and re-raise, so the program dies as it would have
 * (a fault re-executes the faulting instruction under SIG_DFL; abort's
 * SIGABRT is raised again). */
static void on_fatal_signal(int sig)
{
    int saved = errno;
    finalize(AS_REC_MARK_SIGNAL, sig);
    signal(sig, SIG_DFL);
    errno = saved;
    raise(sig);
}

/* exec: ship everything (the image is about to vanish) and
 * keep the socket open across the exec; the new image says HELLO again.
 * The drain lock is held across the call so the drainer is never cut off
 * mid-write; if exec fails, recording simply goes on. */
static int exec_prepare(void)
{
    if (g_fd < 0 || getpid() != g_pid || !atomic_load(&g_enabled)) return 0;
    if (g_followed) {
        /* A followed process's socket is not handed to the new image: the
         * image connects to the listener itself (rec_init) and gets a
         * trace of its own, so this one ends here, complete (finalize
         * empties the symbol queue). If the exec fails, the process is not
         * recorded any further. */
        finalize(AS_REC_MARK_EXIT, 0);
        return 0;
    }
    tls_in_hook++; /* before the flush: the demangler allocates */
    sym_flush();   /* the image is about to vanish */
    pthread_mutex_lock(&g_drain_lock);
    drain_all();
    send_mark(AS_REC_MARK_EXEC, 0);
    fcntl(g_fd, F_SETFD, 0);
    if (g_fd != g_fd_env) { /* moved by move_ours: tell the new image */
        char v[24];
        setenv("ALLOCSIM_RECORD_FD", dec((uint64_t)g_fd, v), 1);
    }
    return 1;
}

static void exec_failed(int prepared)
{
    if (!prepared) return;
    int saved = errno;
    fcntl(g_fd, F_SETFD, FD_CLOEXEC);
    pthread_mutex_unlock(&g_drain_lock);
    tls_in_hook--;
    errno = saved;
}

AS_EXPORT int execve(const char *path, char *const argv[], char *const envp[])
{
    real_ready();
    int prep = exec_prepare();
    int rc = real.execve(path, argv, envp);
    exec_failed(prep);
    return rc;
}

AS_EXPORT int execv(const char *path, char *const argv[])
{
    real_ready();
    int prep = exec_prepare();
    int rc = real.execv(path, argv);
    exec_failed(prep);
    return rc;
}

AS_EXPORT int execvp(const char *file, char *const argv[])
{
    real_ready();
    int prep = exec_prepare();
    int rc = real.execvp(file, argv);
    exec_failed(prep);
    return rc;
}

AS_EXPORT int execvpe(const char *file, char *const argv[], char *const envp[])
{
    real_ready();
    int prep = exec_prepare();
    int rc = real.execvpe(file, argv, envp);
    exec_failed(prep);
    return rc;
}

/* execl, execlp, execle: glibc's own versions call the exec syscall
 * directly, so they are rebuilt here on the hooked execv family. */
#define AS_MAX_EXEC_ARGS 4096

/* Gather execl-style arguments (arg, ..., NULL) into argv. @return 0, or
 * -1 with errno E2BIG when there are more than AS_MAX_EXEC_ARGS. */
static int exec_args(char **argv, const char *arg, va_list *ap)
{
    int n = 0;
    argv[n++] = (char *)arg;
    while (n < AS_MAX_EXEC_ARGS && (argv[n] = va_arg(*ap, char *)))
        n++;
    if (n == AS_MAX_EXEC_ARGS) {
        errno = E2BIG;
        return -1;
    }
    argv[n] = NULL;
    return 0;
}

AS_EXPORT int execl(const char *path, const char *arg, ...)
{
    char *argv[AS_MAX_EXEC_ARGS];
    va_list ap;
    va_start(ap, arg);
    int rc = exec_args(argv, arg, &ap);
    va_end(ap);
    return rc ? rc : execv(path, argv);
}

AS_EXPORT int execlp(const char *file, const char *arg, ...)
{
    char *argv[AS_MAX_EXEC_ARGS];
    va_list ap;
    va_start(ap, arg);
    int rc = exec_args(argv, arg, &ap);
    va_end(ap);
    return rc ? rc : execvp(file, argv);
}

AS_EXPORT int execle(const char *path, const char *arg, ...)
{
    char *argv[AS_MAX_EXEC_ARGS];
    va_list ap;
    va_start(ap, arg);
    int rc = exec_args(argv, arg, &ap);
    char *const *envp = rc ? NULL : va_arg(ap, char *const *);
    va_end(ap);
    return rc ? rc : execve(path, argv, envp);
}

AS_EXPORT void *dlopen(const char *file, int mode)
{
    real_ready();
    void *h = real.dlopen ? real.dlopen(file, mode) : NULL;
    as_stackwalk_stale();
    return h;
}

/* ------------------------------------------------------------ descriptors
 *
 * Daemons close every descriptor they did not open (a loop of close, or
 * close_range/closefrom), and some dup2 onto whatever number they like.
 * The recorder's socket is kept through all of these: a close of it is
 * counted (record.kept_closes) and reported as done without closing it; a
 * dup2/dup3 onto its number first moves the socket to a high free number.
 * The number stays taken, which is the one thing the program can see. A
 * raw syscall bypasses these hooks: fd_is_ours() then stops writing, and
 * the collector reports the recording as cut off. */

static inline int is_our_fd(int fd)
{
    return fd >= 0 && fd == g_fd && getpid() == g_pid;
}

/* The pagemap descriptor of the write reports is kept the same way (its
 * closes are not counted). */
static inline int is_pagemap_fd(int fd)
{
    return fd >= 0 && fd == g_pagemap && getpid() == g_pid;
}

static int real_close(int fd)
{
    if (!real_ready() || !real.close) return (int)syscall(SYS_close, fd);
    return real.close(fd);
}

AS_EXPORT int close(int fd)
{
    if (AS_UNLIKELY(is_our_fd(fd))) {
        atomic_fetch_add(&g_kept_closes, 1);
        return 0;
    }
    if (AS_UNLIKELY(is_pagemap_fd(fd))) return 0;
    return real_close(fd);
}

static int real_close_range(unsigned first, unsigned last, int flags)
{
    if (first > last) return 0;
    if (real_ready() && real.close_range)
        return real.close_range(first, last, flags);
    return (int)syscall(SYS_close_range, first, last, flags);
}

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

/* kept_fd: the lowest of the recorder's kept descriptors (the socket,
 * the pagemap) in [first, last]. @return it, or -1 when there is none. */
static int kept_fd(unsigned first, unsigned last)
{
    int k = -1;
    if (is_our_fd(g_fd) && (unsigned)g_fd >= first && (unsigned)g_fd <= last)
        k = g_fd;
    if (is_pagemap_fd(g_pagemap) && (unsigned)g_pagemap >= first &&
        (unsigned)g_pagemap <= last && (k < 0 || g_pagemap < k))
        k = g_pagemap;
    return k;
}

AS_EXPORT int close_range(unsigned first, unsigned last, int flags)
{
    int k = kept_fd(first, last);
    if (k < 0 || (flags & CLOSE_RANGE_CLOEXEC)) /* cloexec: ours are */
        return real_close_range(first, last, flags);
    if (k == g_fd) atomic_fetch_add(&g_kept_closes, 1);
    unsigned fd = (unsigned)k;
    int a = fd > first ? real_close_range(first, fd - 1, flags) : 0;
    int b = fd < last ? close_range(fd + 1, last, flags) : 0;
    return a ? a : b;
}

AS_EXPORT void closefrom(int lowfd)
{
    if (lowfd < 0) lowfd = 0;
    if (close_range((unsigned)lowfd, ~0u, 0) == 0) return;
    long max = sysconf(_SC_OPEN_MAX); /* no close_range: one by one */
    for (long fd = lowfd; fd < max && fd < INT32_MAX; fd++)
        close((int)fd);
}

/* move_ours: the program is about to dup onto our socket's number: move
 * the socket to a free number from 512 up (low numbers are the ones
 * programs dup onto). @return 0, or -1 (recording will stop). */
static int move_ours(void)
{
    tls_in_hook++;
    int locked = lock_bounded();
    int nfd = fcntl(g_fd, F_DUPFD_CLOEXEC, 512);
    if (nfd < 0) nfd = fcntl(g_fd, F_DUPFD_CLOEXEC, g_fd + 1);
    if (nfd >= 0) {
        int old = g_fd;
        g_fd = nfd;
        real_close(old);
    }
    if (locked) pthread_mutex_unlock(&g_drain_lock);
    tls_in_hook--;
    return nfd >= 0 ? 0 : -1;
}

/* move_pagemap: the program is about to dup onto the pagemap's number:
 * move it (write reports stop if it cannot be moved). */
static void move_pagemap(void)
{
    int nfd = fcntl(g_pagemap, F_DUPFD_CLOEXEC, g_pagemap + 1);
    int old = g_pagemap;
    g_pagemap = nfd;
    if (nfd < 0) g_writes_min = 0;
    real_close(old);
}

AS_EXPORT int dup2(int oldfd, int newfd)
{
    if (AS_UNLIKELY(is_pagemap_fd(newfd)) && oldfd != newfd &&
        fcntl(oldfd, F_GETFD) >= 0)
        move_pagemap();
    if (AS_UNLIKELY(is_our_fd(newfd)) && oldfd != newfd &&
        fcntl(oldfd, F_GETFD) >= 0)
        move_ours();
    if (real_ready() && real.dup2) return real.dup2(oldfd, newfd);
    return (int)syscall(SYS_dup2, oldfd, newfd);
}

AS_EXPORT int dup3(int oldfd, int newfd, int flags)
{
    if (AS_UNLIKELY(is_pagemap_fd(newfd)) && oldfd != newfd &&
        fcntl(oldfd, F_GETFD) >= 0)
        move_pagemap();
    if (AS_UNLIKELY(is_our_fd(newfd)) && oldfd != newfd &&
        fcntl(oldfd, F_GETFD) >= 0)
        move_ours();
    if (real_ready() && real.dup3) return real.dup3(oldfd, newfd, flags);
    return (int)syscall(SYS_dup3, oldfd, newfd, flags);
}

/* writes_open: this process's pagemap and an empty table of large
 * objects (at start, and in a followed child: the parent's /proc/self was
 * another process). Turns write reports off (g_writes_min = 0) when the
 * pagemap cannot be read, so the trace never claims reports it lacks. */
static void writes_open(void)
{
    if (g_pagemap >= 0) syscall(SYS_close, g_pagemap);
    g_pagemap = -1;
    if (!g_writes_min) return;
    size_t slots = (size_t)BIG_SETS * BIG_WAYS;
    if (g_big) munmap(g_big, slots * sizeof *g_big);
    if (g_big_seen) munmap(g_big_seen, slots * sizeof *g_big_seen);
    if (g_big_n) munmap((void *)g_big_n, BIG_SETS * sizeof *g_big_n);
    g_big = map_zeroed(slots * sizeof *g_big);
    g_big_seen = map_zeroed(slots * sizeof *g_big_seen);
    g_big_n = map_zeroed(BIG_SETS * sizeof *g_big_n);
    atomic_store(&g_big_untracked, 0);
    g_writes_cost = g_writes_cpu_last = g_writes_last = 0;
    g_writes_period_max = g_writes_scans = g_writes_cpu_ns = 0;
    g_next_writes = 0;
    int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
    uint64_t e;
    uintptr_t here = (uintptr_t)&e;
    if (fd >= 0 && pread(fd, &e, 8, (off_t)(here / g_page * 8)) == 8 &&
        (e >> 63) && g_big && g_big_seen && g_big_n) {
        /* from 512 up, where programs do not dup2 onto (move_ours) */
        int hi = fcntl(fd, F_DUPFD_CLOEXEC, 512);
        if (hi >= 0) {
            syscall(SYS_close, fd);
            fd = hi;
        }
        struct stat st;
        if (fstat(fd, &st) == 0) {
            g_pagemap_dev = st.st_dev;
            g_pagemap_ino = st.st_ino;
            g_pagemap = fd;
            return;
        }
    }
    if (fd >= 0) syscall(SYS_close, fd);
    g_writes_min = 0;
}

static void send_hello(void)
{
    as_rec_hello_t hello;
    memset(&hello, 0, sizeof hello);
    hello.h.type = AS_REC_HELLO;
    hello.h.len = sizeof hello;
    if (g_tsc) {
        hello.h.flags = AS_REC_F_TSC;
        hello.tsc = event_time();
    }
    hello.h.t_ns = now_ns();
    hello.pid = (uint64_t)g_pid;
    hello.max_depth = g_max_depth;
    hello.sample_bytes = g_sample_bytes;
    hello.writes_min = g_writes_min;
    struct iovec iov = {&hello, sizeof hello};
    send_all(&iov, 1);
}

static int start_drainer(void)
{
    pthread_t th;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    int rc = pthread_create(&th, &attr, drainer_main, NULL);
    pthread_attr_destroy(&attr);
    return rc;
}

static uint64_t env_u64(const char *name, uint64_t def)
{
    const char *s = getenv(name);
    if (!s || !*s) return def;
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    return *end ? def : (uint64_t)v;
}

/* use_socket: make fd the recorder's socket (close-on-exec, identity kept
 * for fd_is_ours). @return 0, or -1 when fd is not a socket. */
static int use_socket(int fd)
{
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISSOCK(st.st_mode)) return -1;
    /* the peer must be `allocsim record` itself: after an exec the number
     * in ALLOCSIM_RECORD_FD may name a socket of the program's own */
    const char *col = getenv("ALLOCSIM_RECORD_COLLECTOR");
    if (col && *col) {
        struct ucred cr;
        socklen_t len = sizeof cr;
        if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) != 0 ||
            (uint64_t)cr.pid != env_u64("ALLOCSIM_RECORD_COLLECTOR", 0))
            return -1;
    }
    fcntl(fd, F_SETFD, FD_CLOEXEC);
    g_fd_dev = st.st_dev;
    g_fd_ino = st.st_ino;
    g_fd = fd;
    return 0;
}

/* follow_child: --follow-forks: the child connects to the collector and
 * records as a process of its own: new socket, pid, sequence, thread
 * numbers, stack and pc tables; the parent's unshipped records (copied
 * into the child's rings by fork) are dropped; a new drainer thread. */
/* connect_listener: connect to the collector's --follow-forks socket
 * (abstract name g_listen) and make it the recorder's socket.
 * @return the descriptor, or -1 (nothing is recorded then). */
static int connect_listener(void)
{
    struct sockaddr_un a;
    memset(&a, 0, sizeof a);
    a.sun_family = AF_UNIX;
    size_t len = strlen(g_listen);
    memcpy(a.sun_path + 1, g_listen, len);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    if (connect(fd, (struct sockaddr *)&a,
                (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 +
                            len)) != 0 ||
        use_socket(fd) != 0) {
        close(fd);
        return -1;
    }
    g_followed = 1;
    return fd;
}

static void follow_child(void)
{
    if (connect_listener() < 0) return;
    pthread_mutex_init(&g_drain_lock, NULL);
    as_stackwalk_postfork_child();
    g_pid = getpid();
    /* the parent's sampler figures */
    g_mem_cost = g_mem_period_max = g_mem_missed = g_mi_missed = 0;
    writes_open();
    atomic_store(&g_broken, 0);
    atomic_store(&g_finalized, 0);
    atomic_store(&g_stop, 0);
    for (as_rec_ring_t *r = atomic_load(&g_rings); r; r = r->next) {
        atomic_store(&r->tail, atomic_load(&r->head));
        if (r != tls_ring) atomic_store(&r->state, RING_FREE);
    }
    atomic_store(&g_threads, 0);
    if (tls_ring) {
        tls_ring->thread = atomic_fetch_add(&g_threads, 1);
        memset(tls_ring->scache_hash, 0, sizeof tls_ring->scache_hash);
        memset(tls_ring->hcache_key, 0, sizeof tls_ring->hcache_key);
    }
    atomic_store(&g_seq, 1);
    /* fresh tables: ids restart at 1 in the child's own trace */
    if (g_stacks) munmap(g_stacks, sizeof(as_rec_slot_t) * STACK_SLOTS);
    if (g_pcs) munmap((void *)g_pcs, sizeof(uint64_t) * PC_SLOTS);
    g_stacks = map_zeroed(sizeof(as_rec_slot_t) * STACK_SLOTS);
    g_pcs = map_zeroed(sizeof(uint64_t) * PC_SLOTS);
    atomic_store(&g_stack_ids, 0);
    if (!g_stacks) g_max_depth = 0;
    send_hello();
    if (start_drainer() == 0) {
        start_symbolizer();
        atomic_store(&g_enabled, 1);
    }
}

/* A forked child stops recording and closes its copy of the socket (or the
 * collector would wait for it to exit); with --follow-forks it then
 * records into a connection of its own. */
static void atfork_child(void)
{
    /* sym_atfork_prepare took it for the fork: free it in the child */
    if (g_pcq) pthread_mutex_init(&g_sym_lock, NULL);
    if (g_own_base) own_unlock();
    atomic_store(&g_enabled, 0);
    int was_recording = g_fd >= 0;
    if (g_fd >= 0) syscall(SYS_close, g_fd);
    g_fd = -1;
    if (was_recording && g_listen[0]) {
        tls_in_hook++;
        follow_child();
        tls_in_hook--;
    }
}

/* ------------------------------------------------------------ start */

static void send_meta(const char *key, const char *value)
{
    uint64_t buf[AS_REC_MAX_LEN / 8];
    size_t kl = strlen(key), vl = strlen(value);
    if (sizeof(as_rec_meta_t) + kl + vl + 2 + 7 > sizeof buf) return;
    size_t len = (sizeof(as_rec_meta_t) + kl + vl + 2 + 7) & ~(size_t)7;
    as_rec_meta_t *m = (as_rec_meta_t *)buf;
    memset(m, 0, len);
    m->h.type = AS_REC_META;
    m->h.len = (uint16_t)len;
    m->key_len = (uint32_t)kl;
    m->value_len = (uint32_t)vl;
    memcpy((char *)(m + 1), key, kl);
    memcpy((char *)(m + 1) + kl + 1, value, vl);
    struct iovec iov = {buf, len};
    send_all(&iov, 1);
}

__attribute__((constructor)) static void rec_init(void)
{
    real_ready();
    const char *fds = getenv("ALLOCSIM_RECORD_FD");
    if (!fds) return;
    const char *ln = getenv("ALLOCSIM_RECORD_LISTEN");
    if (ln && strlen(ln) < sizeof g_listen) strcpy(g_listen, ln);
    int fd = (int)env_u64("ALLOCSIM_RECORD_FD", (uint64_t)-1);
    tls_in_hook++;
    if ((uint64_t)getpid() == env_u64("ALLOCSIM_RECORD_PID", 0)) {
        /* the recorded program, or an image it exec'd */
        if (fd < 0 || fcntl(fd, F_GETFD) < 0 || use_socket(fd) != 0) {
            tls_in_hook--;
            return;
        }
    } else if (g_listen[0]) {
        /* --follow-forks: an image exec'd by a descendant (a child started
         * by posix_spawn or vfork + exec, or a forked child that exec'd)
         * records as a process of its own */
        fd = connect_listener();
        if (fd < 0) {
            tls_in_hook--;
            return;
        }
    } else {
        tls_in_hook--;
        return;
    }
    g_fd_env = fd;
    g_pid = getpid();
    own_init();
    long ps = sysconf(_SC_PAGESIZE);
    if (ps > 0) g_page = (size_t)ps;
    g_max_depth = (uint32_t)env_u64("ALLOCSIM_RECORD_DEPTH", 32);
    if (g_max_depth > AS_REC_MAX_DEPTH) g_max_depth = AS_REC_MAX_DEPTH;
    g_sample_bytes = env_u64("ALLOCSIM_RECORD_SAMPLE_BYTES", 0);
    g_stack_cache = env_u64("ALLOCSIM_RECORD_STACK_CACHE", 0) != 0;
    g_mem_ns = env_u64("ALLOCSIM_RECORD_MEM_NS", 10000000);
    g_mi_ns = env_u64("ALLOCSIM_RECORD_MALLINFO_NS", 0);
    g_writes_min = env_u64("ALLOCSIM_RECORD_WRITES_MIN", 8192);
    g_writes_ns = env_u64("ALLOCSIM_RECORD_WRITES_NS", 10000000);
    writes_open();
    const char *ck = getenv("ALLOCSIM_RECORD_CLOCK");
    g_tsc = !(ck && strcmp(ck, "monotonic") == 0) && tsc_invariant();
    const char *uw = getenv("ALLOCSIM_RECORD_UNWIND");
    g_unwind = AS_UNWIND_AUTO;
    if (uw && strcmp(uw, "fp") == 0) g_unwind = AS_UNWIND_FP;
    if (uw && strcmp(uw, "libunwind") == 0) g_unwind = AS_UNWIND_LIBUNWIND;
#ifdef AS_RECORD_HAVE_LIBUNWIND
    unw_set_caching_policy(unw_local_addr_space, UNW_CACHE_PER_THREAD);
#else
    if (g_unwind == AS_UNWIND_LIBUNWIND) g_unwind = AS_UNWIND_FP;
#endif
    real.demangle = __cxa_demangle;
    g_stacks = map_zeroed(sizeof(as_rec_slot_t) * STACK_SLOTS);
    g_pcs = map_zeroed(sizeof(uint64_t) * PC_SLOTS);
    as_stackwalk_init();
    if (!g_stacks) g_max_depth = 0;
    pthread_key_create(&g_key, thread_exit);
    pthread_atfork(sym_atfork_prepare, sym_atfork_parent, atfork_child);
    /* every signal whose default action ends the process, except SIGKILL
     * and SIGSTOP (which cannot be caught) and SIGTRAP (debuggers) */
    static const int sigs[] = {SIGHUP,    SIGINT,  SIGQUIT, SIGILL,  SIGABRT,
                               SIGBUS,    SIGFPE,  SIGUSR1, SIGSEGV, SIGUSR2,
                               SIGPIPE,   SIGALRM, SIGTERM, SIGXCPU, SIGXFSZ,
                               SIGVTALRM, SIGPROF, SIGSYS};
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
        struct sigaction old;
        if (sigaction(sigs[i], NULL, &old) == 0 && old.sa_handler == SIG_DFL &&
            !(old.sa_flags & SA_SIGINFO)) {
            struct sigaction sa;
            memset(&sa, 0, sizeof sa);
            sa.sa_handler = on_fatal_signal;
            sa.sa_flags = SA_ONSTACK; /* a program's own altstack, if any */
            sigemptyset(&sa.sa_mask);
            sigaction(sigs[i], &sa, NULL);
        }
    }
    send_hello();
    send_meta("event_clock", g_tsc ? "tsc, converted to CLOCK_MONOTONIC ns"
                                   : "clock_gettime(CLOCK_MONOTONIC)");
    if (g_followed) { /* which program this trace is of */
        char exe[512];
        ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
        if (n > 0) {
            exe[n] = 0;
            send_meta("record.exec_image", exe);
        }
    }
    send_meta("unwind", g_unwind == AS_UNWIND_FP          ? "fp"
                        : g_unwind == AS_UNWIND_LIBUNWIND ? "libunwind"
                                                          : "fp+libunwind");
    if (start_drainer() != 0) {
        tls_in_hook--;
        return;
    }
    start_symbolizer();
    atomic_store(&g_enabled, 1);
    /* The main thread's ring now, under the guard: making it reads the
     * stack bounds (pthread_getattr_np: fopen, getline, realloc), which
     * must not happen inside whatever call the program makes first, e.g.
     * the free of a dlerror message inside its dlsym (see __cxa_demangle
     * above). */
    ring_self();
    tls_in_hook--;
}

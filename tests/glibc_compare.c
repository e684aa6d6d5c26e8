/* glibc_compare.c - the same malloc/free/realloc sequence through the real
 * glibc and through the `glibc` policy, with mallinfo2 figures at fixed
 * points, for tests/check_glibc_real.sh.
 *
 *   glibc_compare real  SEED OPS EVERY SLOTS   ops on this process's glibc
 *   glibc_compare model SEED OPS EVERY SLOTS [glibc.KEY=VALUE...]
 *                                              the same ops on the model
 *   glibc_compare text  SEED OPS EVERY SLOTS   the ops as an allocsim text
 *                                              trace (op i at t = 1000 i + 500)
 * Every EVERY ops (and at the end) real and model print one line
 * "ops arena ordblks smblks hblks hblkhd fsmblks uordblks fordblks keepcost".
 * The sequence comes from a seeded splitmix64: SLOTS pointer slots; each op
 * picks a slot, allocates into an empty one, and frees (70 %) or reallocs
 * (30 %) a full one. Sizes: 55 % 1-256 B, 25 % to 4 KiB, 14 % to 64 KiB,
 * 6 % to 1 MiB (above the mmap threshold, so the dynamic threshold moves).
 * With GLIBC_COMPARE_THREADS=N (up to 24), each op runs on one of main and
 * N worker threads (drawn from the sequence), one at a time; the model gets
 * that thread (and CPU) number.
 * With GLIBC_COMPARE_ALIGN set, a tenth of the allocations ask for an
 * alignment of 32 B to 4 KiB (posix_memalign; the policy's align).
 * The real mode must not allocate anything itself: slots are a static array
 * and output is formatted by hand and written with write(2) (stdio would
 * malloc its buffer).
 */
#include <malloc.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "policies/glibc/glibc.h"

#define MAX_SLOTS 65536

static uint64_t rng_state;
static uint64_t next_rand(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static size_t next_size(void)
{
    uint64_t r = next_rand() % 100, x = next_rand();
    if (r < 55) return 1 + x % 256;
    if (r < 80) return 257 + x % (4096 - 256);
    if (r < 94) return 4097 + x % (65536 - 4096);
    return 65537 + x % (1048576 - 65536);
}

/* One op: *kind 'a' (alloc into empty slot), 'f' or 'r'; slot and size. */
static int with_align; /* GLIBC_COMPARE_ALIGN set: some aligned allocs */
static void next_op(size_t n_slots, const int *full, char *kind, size_t *slot,
                    size_t *size, size_t *align)
{
    *slot = next_rand() % n_slots;
    uint64_t r = next_rand() % 100;
    *size = next_size();
    *kind = !full[*slot] ? 'a' : r < 70 ? 'f' : 'r';
    *align = 0;
    if (with_align && *kind == 'a' && r < 10) *align = (size_t)32 << (r % 8);
}

static char out_buf[256];
static size_t out_len;
static void put_str(const char *s)
{
    while (*s && out_len < sizeof out_buf)
        out_buf[out_len++] = *s++;
}
static void put_u64(uint64_t v)
{
    char t[24];
    int n = 0;
    do {
        t[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n && out_len < sizeof out_buf)
        out_buf[out_len++] = t[--n];
}
static void flush_line(void)
{
    put_str("\n");
    if (write(1, out_buf, out_len) != (ssize_t)out_len) _exit(1);
    out_len = 0;
}

static void print_info(uint64_t ops, const uint64_t f[9])
{
    put_u64(ops);
    for (int i = 0; i < 9; i++) {
        put_str(" ");
        put_u64(f[i]);
    }
    flush_line();
}

static int full[MAX_SLOTS];
static void *ptrs[MAX_SLOTS];
static uint64_t ids[MAX_SLOTS];

static void real_info(uint64_t ops)
{
    struct mallinfo2 m = mallinfo2();
    uint64_t f[9] = {m.arena,   m.ordblks,  m.smblks,   m.hblks,   m.hblkhd,
                     m.fsmblks, m.uordblks, m.fordblks, m.keepcost};
    print_info(ops, f);
}

/* ---- worker threads of the real run (GLIBC_COMPARE_THREADS=N) ----
 * Worker k (1..N) waits on its own pipe for an op, runs it on glibc and
 * acknowledges on a shared pipe, so the ops run one at a time, in the
 * sequence's order, on the thread the sequence names; no thread exits. */

typedef struct {
    char kind;
    size_t slot, size, align;
} op_t;

#define MAX_THREADS 24
static int op_pipe[MAX_THREADS + 1][2], ack_pipe[2];

static void run_real_op(const op_t *o)
{
    void **p = &ptrs[o->slot];
    if (o->kind == 'a' && o->align) {
        if (posix_memalign(p, o->align, o->size)) *p = 0;
    } else if (o->kind == 'a') {
        *p = malloc(o->size);
    } else if (o->kind == 'f') {
        free(*p);
    } else {
        *p = realloc(*p, o->size);
    }
}

static void *worker(void *arg)
{
    int k = (int)(intptr_t)arg;
    op_t o;
    while (read(op_pipe[k][0], &o, sizeof o) == (ssize_t)sizeof o) {
        run_real_op(&o);
        char c = 1;
        if (write(ack_pipe[1], &c, 1) != 1) break;
    }
    return NULL;
}

/* ---- the model over a small page source: honours any free hint ---- */

typedef struct {
    uintptr_t next; /* bump pointer for unhinted reservations */
} fake_os_t;

static int fake_reserve(void *s, uintptr_t hint, size_t bytes, size_t align,
                        uintptr_t *addr)
{
    fake_os_t *os = s;
    if (hint) { /* the break region is far from the mmap region: free */
        *addr = hint;
        return 0;
    }
    uintptr_t a = (os->next + align - 1) & ~(uintptr_t)(align - 1);
    os->next = a + bytes;
    *addr = a;
    return 0;
}
static int fake_release(void *s, uintptr_t a, size_t b)
{
    (void)s, (void)a, (void)b;
    return 0;
}
static int fake_unreserve(void *s, uintptr_t a, size_t b)
{
    (void)s, (void)a, (void)b;
    return 0;
}
static void *meta_alloc(void *s, size_t bytes)
{
    (void)s;
    return calloc(1, bytes);
}
static void meta_free(void *s, void *p, size_t bytes)
{
    (void)s, (void)bytes;
    free(p);
}
static const as_pagesource_ops_t fake_ops = {fake_reserve, fake_release,
                                             fake_unreserve, NULL};

int main(int argc, char **argv)
{
    if (argc < 6) {
        static const char u[] = "usage: glibc_compare real|model|text SEED "
                                "OPS EVERY SLOTS [glibc.KEY=VALUE...]\n";
        if (write(2, u, sizeof u - 1)) return 2;
        return 2;
    }
    const char *mode = argv[1];
    rng_state = strtoull(argv[2], NULL, 10);
    uint64_t n_ops = strtoull(argv[3], NULL, 10);
    uint64_t every = strtoull(argv[4], NULL, 10);
    size_t n_slots = strtoull(argv[5], NULL, 10);
    if (!every || !n_slots || n_slots > MAX_SLOTS) return 2;
    int real = !strcmp(mode, "real"), text = !strcmp(mode, "text");
    if (!real && !text && strcmp(mode, "model")) return 2;

    /* the model */
    const as_policy_ops_t *p = &as_policy_glibc;
    fake_os_t os = {(uintptr_t)0x100000000000ull};
    as_pagesource_t ps = {
        &fake_ops, &os, {meta_alloc, meta_free, NULL}, 4096, 2u << 20};
    as_param_value_t params[AS_GLIBC_N_PARAMS];
    void *st = NULL;
    as_ctx_t ctx = {0, 0, 0, AS_CLASS_NONE, 0};
    if (!real && !text) {
        if (as_param_defaults(p->params, p->n_params, params)) return 1;
        for (int i = 6; i < argc; i++) {
            const char *a = argv[i];
            if (!strncmp(a, "glibc.", 6)) a += 6;
            if (as_param_set(p->params, p->n_params, params, a)) return 2;
        }
        as_policy_config_t cfg = {&ps, params, 1, NULL, NULL};
        if (p->create(&cfg, &st)) return 1;
    }
    if (text) {
        put_str("meta program glibc_compare");
        flush_line();
    }
    uint64_t next_id = 0;
    uintptr_t base = 0;
    int trace_addrs = getenv("GLIBC_COMPARE_ADDRS") != NULL;
    with_align = getenv("GLIBC_COMPARE_ALIGN") != NULL;
    /* threads: main is 0; each pthread_create callocs the new thread's
     * DTV, 272 bytes, in the creating thread (seen in mallinfo2 around
     * pthread_create); a warm-up malloc(5000) first gives main its tcache,
     * so those callocs come from the top as a malloc would */
    int n_threads = getenv("GLIBC_COMPARE_THREADS")
                        ? atoi(getenv("GLIBC_COMPARE_THREADS"))
                        : 0;
    if (n_threads < 0 || n_threads > MAX_THREADS) return 2;
    if (n_threads && !text) {
        for (int k = 0; k < 1 + n_threads; k++) {
            size_t sz = k == 0 ? 5000 : 272;
            if (real && k == 0) {
                if (!malloc(sz)) return 1;
            } else if (!real) {
                as_block_t b;
                if (p->alloc(st, &ctx, sz, 0, &b)) return 1;
            }
        }
        if (real) {
            if (pipe(ack_pipe)) return 1;
            for (int k = 1; k <= n_threads; k++) {
                pthread_t th;
                if (pipe(op_pipe[k]) ||
                    pthread_create(&th, NULL, worker, (void *)(intptr_t)k))
                    return 1;
            }
        }
    }
    for (uint64_t i = 0; i < n_ops; i++) {
        char kind;
        size_t slot, size, align;
        next_op(n_slots, full, &kind, &slot, &size, &align);
        uint32_t thread =
            n_threads ? (uint32_t)(next_rand() % (uint64_t)(n_threads + 1)) : 0;
        uint64_t t = 1000 * i + 500;
        ctx.thread = ctx.cpu = thread;
        if (text) { /* a|f|r t thread cpu [old] [new size align stack] */
            put_str(kind == 'a' ? "a " : kind == 'f' ? "f " : "r ");
            uint64_t head[3] = {t, thread, thread};
            for (int k = 0; k < 3; k++) {
                put_u64(head[k]);
                put_str(" ");
            }
            if (kind != 'a') put_u64(ids[slot]);
            if (kind != 'f') {
                if (kind == 'r') put_str(" ");
                uint64_t tail[3] = {next_id, size, align};
                for (int k = 0; k < 3; k++) {
                    put_u64(tail[k]);
                    put_str(" ");
                }
                put_str("0");
                ids[slot] = next_id++;
            }
            flush_line();
        } else if (real) {
            op_t o = {kind, slot, size, align};
            if (thread == 0) {
                run_real_op(&o);
            } else {
                char c;
                if (write(op_pipe[thread][1], &o, sizeof o) !=
                        (ssize_t)sizeof o ||
                    read(ack_pipe[0], &c, 1) != 1)
                    return 1;
            }
            if (kind != 'f' && !ptrs[slot]) return 1;
        } else {
            as_block_t b;
            ctx.now_ns = t;
            int rc;
            if (kind == 'a')
                rc = p->alloc(st, &ctx, size, align, &b);
            else if (kind == 'f')
                rc = p->free(st, &ctx, (uintptr_t)ptrs[slot], 0);
            else
                rc =
                    p->realloc(st, &ctx, (uintptr_t)ptrs[slot], 0, size, 0, &b);
            if (rc) return 1;
            if (kind != 'f') ptrs[slot] = (void *)b.addr;
        }
        full[slot] = kind != 'f';
        if (trace_addrs && kind != 'f') { /* offset from the first block */
            uintptr_t a = (uintptr_t)ptrs[slot];
            if (!base) base = a;
            put_u64(i);
            put_str(a - base < ((uintptr_t)1 << 32) ? " " : " mmap ");
            put_u64(a - base < ((uintptr_t)1 << 32) ? a - base : 0);
            flush_line();
        }
        if (!text && ((i + 1) % every == 0 || i + 1 == n_ops)) {
            if (real) {
                real_info(i + 1);
            } else {
                as_glibc_mallinfo_t m;
                as_glibc_mallinfo(st, &m);
                uint64_t f[9] = {m.arena,    m.ordblks,  m.smblks,
                                 m.hblks,    m.hblkhd,   m.fsmblks,
                                 m.uordblks, m.fordblks, m.keepcost};
                print_info(i + 1, f);
            }
        }
    }
    if (st) {
        if (p->check(st, NULL)) return 3;
        p->destroy(st);
    }
    return 0;
}

/* stackwalk.c - the return addresses of an allocating call, as the
 * recorder takes them (see stackwalk.h).
 *
 * Owns the executable ranges of the loaded modules (for the frame-pointer
 * walk's sanity check) and the per-site choice of walk (auto mode), both
 * in mmap'd memory and lock-free for readers. Moved here from the
 * recorder so that the real allocator's predictor walks a stack exactly
 * as the trace its model was trained on was recorded.
 */
#include "common/stackwalk.h"

#include <link.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>

#ifdef AS_HAVE_LIBUNWIND
#define UNW_LOCAL_ONLY
#include <libunwind.h>
#endif

#include "common/util.h"

static void *map_zeroed(size_t bytes)
{
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

/* Executable address ranges of the loaded modules, sorted by start: the
 * frame-pointer walk accepts a return address only inside one of them.
 * Rebuilt (into a fresh mapping; old ones are never unmapped, so a reader
 * racing a rebuild stays safe) after dlopen. */
typedef struct {
    uint32_t n;
    uintptr_t lo[1023], hi[1023];
} ranges_t;

static _Atomic(ranges_t *) g_ranges;
static atomic_int g_ranges_stale = 1;
static pthread_mutex_t g_ranges_lock = PTHREAD_MUTEX_INITIALIZER;

static int ranges_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
    ranges_t *rs = arg;
    (void)size;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_X)) continue;
        if (rs->n >= 1023) return 1;
        uintptr_t lo = info->dlpi_addr + ph->p_vaddr;
        uintptr_t hi = lo + ph->p_memsz;
        uint32_t j = rs->n++;
        while (j > 0 && rs->lo[j - 1] > lo) {
            rs->lo[j] = rs->lo[j - 1];
            rs->hi[j] = rs->hi[j - 1];
            j--;
        }
        rs->lo[j] = lo;
        rs->hi[j] = hi;
    }
    return 0;
}

static void ranges_refresh(void)
{
    if (!atomic_load(&g_ranges_stale)) return;
    if (pthread_mutex_trylock(&g_ranges_lock) != 0) return;
    if (atomic_exchange(&g_ranges_stale, 0)) {
        ranges_t *rs = map_zeroed(sizeof *rs);
        if (rs) {
            dl_iterate_phdr(ranges_cb, rs);
            atomic_store_explicit(&g_ranges, rs, memory_order_release);
        }
    }
    pthread_mutex_unlock(&g_ranges_lock);
}

static int pc_in_text(const ranges_t *rs, uintptr_t pc)
{
    if (!rs || rs->n == 0 || pc < rs->lo[0]) return 0;
    uint32_t a = 0, b = rs->n; /* last lo <= pc */
    while (b - a > 1) {
        uint32_t m = (a + b) / 2;
        if (rs->lo[m] <= pc)
            a = m;
        else
            b = m;
    }
    return pc < rs->hi[a];
}

/* walk_fp: follow the frame-pointer chain from the hook's frame `fp`
 * (whose return address ra is the caller of malloc). Every frame pointer
 * must lie above the previous one and inside the thread's stack, so a
 * garbage chain (code built without frame pointers) is never dereferenced
 * outside mapped stack memory; every return address must be in a module's
 * text. @return frames stored; *broken = 1 when the chain ended on a bad
 * link rather than at a NULL frame pointer. */
static uint32_t walk_fp(uintptr_t stack_lo, uintptr_t stack_hi, uintptr_t *fp,
                        uintptr_t ra, uint64_t *pcs, uint32_t max, int *broken)
{
    uint32_t n = 0;
    *broken = 0;
    pcs[n++] = ra;
    if (stack_hi == 0 || (uintptr_t)fp < stack_lo ||
        (uintptr_t)fp >= stack_hi) {
        *broken = 1;
        return n;
    }
    const ranges_t *rs = atomic_load_explicit(&g_ranges, memory_order_acquire);
    uintptr_t prev = (uintptr_t)fp;
    uintptr_t next = fp[0];
    while (n < max) {
        if (next == 0) break;
        if (next <= prev || next > stack_hi - 16 || (next & 7)) {
            *broken = 1;
            break;
        }
        uintptr_t *f = (uintptr_t *)next;
        uintptr_t pc = f[1];
        if (!pc_in_text(rs, pc)) {
            *broken = 1;
            break;
        }
        pcs[n++] = pc;
        prev = next;
        next = f[0];
    }
    return n;
}

#ifdef AS_HAVE_LIBUNWIND
/* The most frames of our own that walk_unwind skips before ra: the
 * recorder's hook reaches the walk through 3 or 4 of them, the real
 * allocator's predictor through up to 9 (the API function, do_alloc_at,
 * as_mpred_predict, `cached`, the predictor it wraps, the fill hook...),
 * and an optimising compiler may inline any of them. A window of 8 was
 * too short for `cached:sitetab`: ra was never found, the walk fell back
 * to frame pointers, and in code built without them (Debian's
 * redis-server) every site's key differed from the recording's. */
#define OWN_FRAMES_MAX 32

/* walk_unwind: libunwind's table-driven walk; our own frames are skipped
 * up to the caller's return address ra (within OWN_FRAMES_MAX). */
static uint32_t walk_unwind(uintptr_t ra, uint64_t *pcs, uint32_t max)
{
    void *buf[AS_STACKWALK_MAX_DEPTH + OWN_FRAMES_MAX];
    int k = unw_backtrace(buf, (int)(max + OWN_FRAMES_MAX));
    int start = -1;
    for (int i = 0; i < k && i < OWN_FRAMES_MAX; i++)
        if ((uintptr_t)buf[i] == ra) {
            start = i;
            break;
        }
    if (start < 0) return 0;
    uint32_t n = 0;
    for (int i = start; i < k && n < max; i++)
        pcs[n++] = (uintptr_t)buf[i];
    return n;
}
#endif

/* Call sites of malloc, calibrated once each (auto mode). A function built
 * without frame pointers that calls malloc and leaves rbp alone (e.g.
 * libstdc++'s operator new) makes the frame-pointer walk skip its caller;
 * a site whose chain breaks at once is no better. So the first time a site
 * (the return address into the caller of malloc) is seen, both walks run:
 * if they agree on the next frame the site uses frame pointers from then
 * on, otherwise libunwind. The table is lock-free (CAS on the address); a
 * full table or a race just means another calibration. */
typedef struct {
    _Atomic uint64_t ra; /* 0 = empty */
    atomic_int mode;     /* SITE_* */
    int pad;
} site_t;

enum { SITE_UNKNOWN = 0, SITE_FP = 1, SITE_UNWIND = 2 };
#define SITE_SLOTS (1u << 16)
static site_t *g_sites;

static site_t *site_of(uintptr_t ra)
{
    if (!g_sites) return NULL;
    for (uint64_t s = as_hash64(ra), k = 0; k < 32; k++, s++) {
        site_t *e = &g_sites[s & (SITE_SLOTS - 1)];
        uint64_t cur = atomic_load_explicit(&e->ra, memory_order_acquire);
        if (cur == ra) return e;
        if (cur == 0) {
            uint64_t z = 0;
            if (atomic_compare_exchange_strong(&e->ra, &z, ra) || z == ra)
                return e;
        }
    }
    return NULL;
}

uint32_t as_stackwalk(int how, uintptr_t stack_lo, uintptr_t stack_hi,
                      uintptr_t *fp, uintptr_t ra, uint64_t *pcs, uint32_t max)
{
    uint32_t n = 0;
    if (max == 0) return 0;
    if (max > AS_STACKWALK_MAX_DEPTH) max = AS_STACKWALK_MAX_DEPTH;
    int broken = 0;
    ranges_refresh();
#ifdef AS_HAVE_LIBUNWIND
    int use_unwind = how == AS_UNWIND_LIBUNWIND;
    site_t *site = NULL;
    int mode = SITE_FP;
    if (how == AS_UNWIND_AUTO && max > 1) {
        site = site_of((uintptr_t)ra);
        mode = site ? atomic_load_explicit(&site->mode, memory_order_relaxed)
                    : SITE_UNKNOWN;
        if (mode == SITE_UNWIND) use_unwind = 1;
    }
    if (!use_unwind) {
        n = walk_fp(stack_lo, stack_hi, fp, ra, pcs, max, &broken);
        int fp_bad = broken && n < 3;
        if (how == AS_UNWIND_AUTO && max > 1 &&
            (mode == SITE_UNKNOWN || fp_bad)) {
            uint64_t u[AS_STACKWALK_MAX_DEPTH];
            uint32_t m = walk_unwind(ra, u, max);
            /* libunwind wins when frame pointers broke early or disagree
             * with it on the caller's caller */
            int agree = m > 1 && n > 1 && u[1] == pcs[1];
            if (m > 0 && (fp_bad || !agree)) {
                memcpy(pcs, u, 8ull * m);
                n = m;
            }
            if (site && m > 0)
                atomic_store_explicit(&site->mode,
                                      agree && !fp_bad ? SITE_FP : SITE_UNWIND,
                                      memory_order_relaxed);
        }
    } else {
        n = walk_unwind(ra, pcs, max);
    }
#else
    (void)how;
    n = walk_fp(stack_lo, stack_hi, fp, ra, pcs, max, &broken);
#endif
    if (n == 0) pcs[n++] = ra;
    return n;
}

int as_stackwalk_init(void)
{
    if (!g_sites) g_sites = map_zeroed(sizeof(site_t) * SITE_SLOTS);
    ranges_refresh();
    return g_sites && atomic_load(&g_ranges) ? 0 : -1;
}

void as_stackwalk_stale(void)
{
    atomic_store(&g_ranges_stale, 1);
}

void as_stackwalk_postfork_child(void)
{
    pthread_mutex_init(&g_ranges_lock, NULL);
}

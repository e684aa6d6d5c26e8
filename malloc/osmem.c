/* osmem.c - the real page source and metadata arenas (see osmem.h).
 *
 * Reservations are anonymous private mappings with MAP_NORESERVE (address
 * space, not commitment: the policies reserve ahead of use as the simulated
 * OS lets them; the flag also keeps them in VMAs of their own, see
 * os_map). An aligned reservation over-maps by align - page and trims
 * both ends, so it costs two extra munmap calls and leaves no waste. A hint
 * is honoured with MAP_FIXED_NOREPLACE, which never clobbers an existing
 * mapping; when the kernel places the mapping elsewhere the call falls back
 * to an ordinary reservation (policy.h rule 7). Release is MADV_DONTNEED
 * (the pages read back as zero, as the simulated OS models), the huge-page
 * hint MADV_HUGEPAGE / MADV_NOHUGEPAGE, unreserve munmap.
 *
 * With a heap window (as_osmem_window) reservations are cut from it and
 * mapped over it with MAP_FIXED, and unreservations inside it map
 * PROT_NONE back, so the window stays the process's (osmem.h).
 *
 * The file also keeps the set of ranges it holds, so that the statistics can
 * tell its own mappings apart in /proc/self/smaps, and the metadata arenas.
 * Metadata mappings are carved from one address-space window of their own
 * and given back as PROT_NONE placeholders (meta_map, meta_unmap): a
 * metadata mapping between the heap's reservations, or the hole it leaves
 * there, changes where the kernel's top-down search puts the next heap
 * reservation, out of the address order the simulated OS gives (its
 * address space holds no metadata), and address-ordered policies (bestfit)
 * would place differently.
 * It never calls libc's allocator or stdio, and takes no lock (the caller
 * serialises).
 */
#include "malloc/osmem.h"

#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common/error.h"
#include "common/util.h"

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif
#ifndef MAP_NORESERVE
#define MAP_NORESERVE 0x4000
#endif

#define ARENA_CHUNK_BYTES ((size_t)1 << 20)
#define ARENA_MIN_SHIFT 4 /* 16 B */

/* Heap reservations carry MAP_NORESERVE and metadata mappings do not: the
 * flag is part of the kernel's VMA flags, so the two kinds never merge into
 * one VMA, and neither do the heap and most other anonymous mappings of the
 * process (which do not ask for it). That keeps /proc/self/smaps' per-VMA
 * figures attributable (mstats.c). */
static void *os_map(void *hint, size_t bytes, int flags)
{
    void *p = mmap(hint, bytes, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | flags, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

static void *heap_map(void *hint, size_t bytes, int flags)
{
    return os_map(hint, bytes, MAP_NORESERVE | flags);
}

/* Address space only: `bytes` mapped PROT_NONE without commitment, at p
 * (MAP_FIXED over a range of ours: its pages go, the range stays the
 * process's) or, p 0, wherever the kernel puts it. The two windows are
 * made, and give ranges back, with it. @return the range or NULL. */
static void *os_none(uintptr_t p, size_t bytes)
{
    void *m =
        mmap((void *)p, bytes, PROT_NONE,
             MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | (p ? MAP_FIXED : 0),
             -1, 0);
    return m == MAP_FAILED ? NULL : m;
}

/* --- metadata arena --------------------------------------------------- */

/* The metadata window: one PROT_NONE, MAP_NORESERVE reservation per
 * process (address space only), made by the first as_osmem_init, out of
 * which every metadata mapping of every arena is carved (bump pointer,
 * atomic: arenas are used under different locks). So no metadata mapping
 * ever lies between the heap's reservations, and none leaves a hole there
 * when it is given back: the kernel's top-down placement then orders the
 * heap's segments as the simulated OS does, whose address space holds no
 * metadata (docs/malloc.md, "Metadata stays out of the heap's way"). When
 * the window is used up or could not be made, metadata is mapped wherever
 * the kernel puts it, as before. */
#define META_WINDOW_BYTES ((size_t)64 << 30)
static _Atomic uintptr_t g_meta_next; /* next unused address of the window */
static uintptr_t g_meta_end;          /* its end; 0 when there is none */

static void meta_window_init(void)
{
    if (g_meta_end) return;
    void *w = os_none(0, META_WINDOW_BYTES);
    if (!w) return; /* e.g. RLIMIT_AS: metadata goes anywhere */
    atomic_store(&g_meta_next, (uintptr_t)w);
    g_meta_end = (uintptr_t)w + META_WINDOW_BYTES;
}

/* Map `bytes` (whole pages) of metadata for arena a: into the first of its
 * placeholders that is large enough (its low end), else from the window,
 * else wherever the kernel puts it. @return the mapping or NULL. */
static void *meta_map(as_osarena_t *a, size_t bytes)
{
    for (size_t i = 0; i < a->n_spare; i++) {
        as_osspare_t *sp = &a->spare[i];
        if (sp->bytes < bytes) continue;
        void *p = os_map((void *)sp->start, bytes, MAP_FIXED);
        if (!p) return NULL;
        sp->start += bytes;
        sp->bytes -= bytes;
        a->spare_bytes -= bytes;
        if (sp->bytes == 0) a->spare[i] = a->spare[--a->n_spare];
        return p;
    }
    if (g_meta_end && bytes <= META_WINDOW_BYTES) {
        uintptr_t p = atomic_fetch_add(&g_meta_next, bytes);
        if (p <= g_meta_end - bytes)
            return os_map((void *)p, bytes, MAP_FIXED); /* fresh zeros */
    }
    return os_map(NULL, bytes, 0);
}

/* Give back the metadata mapping [p, p + bytes) of arena a: its pages go,
 * its address range stays reserved as a PROT_NONE placeholder, kept for
 * reuse while the arena's table of them has room (a placeholder it cannot
 * keep stays reserved, unused, when it is in the window: a hole there
 * could take a heap reservation). A mapping outside the window (made when
 * the window was used up) is unmapped when it cannot be kept. */
static void meta_unmap(as_osarena_t *a, void *p, size_t bytes)
{
    uintptr_t s = (uintptr_t)p;
    int in_window =
        g_meta_end && s < g_meta_end && s >= g_meta_end - META_WINDOW_BYTES;
    int keep = a->n_spare < AS_OSARENA_SPARES;
    if ((keep || in_window) && os_none(s, bytes)) {
        if (keep) {
            a->spare[a->n_spare++] = (as_osspare_t){s, bytes};
            a->spare_bytes += bytes;
        }
        return;
    }
    munmap(p, bytes);
}

static unsigned arena_class(size_t bytes)
{
    unsigned k = 0;
    while (((size_t)1 << (k + ARENA_MIN_SHIFT)) < bytes)
        k++;
    return k;
}

static void *arena_alloc(void *st, size_t bytes)
{
    as_osarena_t *a = st;
    if (bytes == 0) bytes = 1;
    void *p;
    if (bytes > ((size_t)1 << (ARENA_MIN_SHIFT + AS_OSARENA_CLASSES - 1))) {
        size_t len = (size_t)as_align_up(bytes, 4096);
        if (!(p = meta_map(a, len))) return NULL;
        a->mapped_bytes += len;
    } else {
        unsigned k = arena_class(bytes);
        size_t csize = (size_t)1 << (k + ARENA_MIN_SHIFT);
        if (a->free_list[k]) {
            p = a->free_list[k];
            a->free_list[k] = *(void **)p;
            memset(p, 0, csize);
        } else {
            if ((size_t)(a->bump_end - a->bump) < csize) {
                /* the tail of the old chunk is lost to the arena: at most
                 * 64 KiB per MiB, and only when a big class comes along */
                char *c = meta_map(a, ARENA_CHUNK_BYTES);
                if (!c) return NULL;
                a->mapped_bytes += ARENA_CHUNK_BYTES;
                a->bump = c;
                a->bump_end = c + ARENA_CHUNK_BYTES;
            }
            p = a->bump; /* fresh mmap'd memory is zero */
            a->bump += csize;
        }
    }
    a->live_bytes += bytes;
    if (a->live_bytes > a->peak_live_bytes) a->peak_live_bytes = a->live_bytes;
    return p;
}

static void arena_free(void *st, void *p, size_t bytes)
{
    as_osarena_t *a = st;
    if (!p) return;
    if (bytes == 0) bytes = 1;
    a->live_bytes -= bytes;
    if (bytes > ((size_t)1 << (ARENA_MIN_SHIFT + AS_OSARENA_CLASSES - 1))) {
        size_t len = (size_t)as_align_up(bytes, 4096);
        meta_unmap(a, p, len);
        a->mapped_bytes -= len;
        return;
    }
    unsigned k = arena_class(bytes);
    *(void **)p = a->free_list[k];
    a->free_list[k] = p;
}

as_mem_t as_osarena_mem(as_osarena_t *a)
{
    as_mem_t m = {arena_alloc, arena_free, a};
    return m;
}

/* --- the set of held ranges ------------------------------------------- */

/* Room for `extra` more ranges. @return 0 or AS_ENOMEM. */
static int ranges_room(as_osmem_t *os, size_t extra)
{
    if (os->n_ranges + extra <= os->cap) return AS_OK;
    size_t cap = os->cap ? os->cap * 2 : 4096;
    as_osrange_t *t = meta_map(&os->meta_arena, cap * sizeof *t);
    if (!t) return AS_ENOMEM;
    if (os->ranges) {
        memcpy(t, os->ranges, os->n_ranges * sizeof *t);
        meta_unmap(&os->meta_arena, os->ranges, os->cap * sizeof *t);
    }
    os->ranges = t;
    os->cap = cap;
    return AS_OK;
}

/* Index of the first range whose end is > addr (n_ranges if none). */
static size_t ranges_first_after(const as_osmem_t *os, uintptr_t addr)
{
    size_t lo = 0, hi = os->n_ranges;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (os->ranges[mid].end > addr)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

/* Add [s, e), which overlaps no held range (room for one more exists). */
static void ranges_add(as_osmem_t *os, uintptr_t s, uintptr_t e)
{
    size_t i = ranges_first_after(os, s); /* first range after s */
    as_osrange_t *r = os->ranges;
    int join_prev = i > 0 && r[i - 1].end == s;
    int join_next = i < os->n_ranges && r[i].start == e;
    if (join_prev && join_next) {
        r[i - 1].end = r[i].end;
        memmove(&r[i], &r[i + 1], (os->n_ranges - i - 1) * sizeof *r);
        os->n_ranges--;
    } else if (join_prev) {
        r[i - 1].end = e;
    } else if (join_next) {
        r[i].start = s;
    } else {
        memmove(&r[i + 1], &r[i], (os->n_ranges - i) * sizeof *r);
        r[i].start = s;
        r[i].end = e;
        os->n_ranges++;
    }
    os->mapped_bytes += e - s;
    if (os->mapped_bytes > os->peak_mapped_bytes)
        os->peak_mapped_bytes = os->mapped_bytes;
}

/* Remove [s, e) from the held ranges (room for one more exists). */
static void ranges_remove(as_osmem_t *os, uintptr_t s, uintptr_t e)
{
    as_osrange_t *r = os->ranges;
    size_t i = ranges_first_after(os, s), j = i;
    as_osrange_t keep[2];
    size_t n_keep = 0;
    while (j < os->n_ranges && r[j].start < e) {
        uintptr_t lo = r[j].start > s ? r[j].start : s;
        uintptr_t hi = r[j].end < e ? r[j].end : e;
        os->mapped_bytes -= hi - lo;
        if (j == i && r[j].start < s)
            keep[n_keep++] = (as_osrange_t){r[j].start, s};
        if (r[j].end > e) keep[n_keep++] = (as_osrange_t){e, r[j].end};
        j++;
    }
    size_t removed = j - i;
    if (removed == 0) return;
    memmove(&r[i + n_keep], &r[j], (os->n_ranges - j) * sizeof *r);
    for (size_t k = 0; k < n_keep; k++)
        r[i + k] = keep[k];
    os->n_ranges = os->n_ranges - removed + n_keep;
}

uint64_t as_osmem_overlap(const as_osmem_t *os, uintptr_t s, uintptr_t e)
{
    uint64_t bytes = 0;
    for (size_t j = ranges_first_after(os, s);
         j < os->n_ranges && os->ranges[j].start < e; j++) {
        uintptr_t lo = os->ranges[j].start > s ? os->ranges[j].start : s;
        uintptr_t hi = os->ranges[j].end < e ? os->ranges[j].end : e;
        bytes += hi - lo;
    }
    return bytes;
}

/* --- the heap window -------------------------------------------------- */

static int in_window(const as_osmem_t *os, uintptr_t a, size_t bytes)
{
    return a >= os->win_start && a < os->win_end && bytes <= os->win_end - a;
}

/* The highest address p, align | p, with [p, p + bytes) inside [lo, hi);
 * 0 when none. */
static uintptr_t fit_below(uintptr_t lo, uintptr_t hi, size_t bytes,
                           size_t align)
{
    if (hi - lo < bytes) return 0;
    uintptr_t p = (hi - bytes) & ~(uintptr_t)(align - 1);
    return p >= lo ? p : 0;
}

/* Where in the window a reservation of bytes (align | address) goes: below
 * the part used so far, else the highest gap between held ranges that fits.
 * @return the address, or 0 when the window has no room. */
static uintptr_t window_place(as_osmem_t *os, size_t bytes, size_t align)
{
    uintptr_t p = fit_below(os->win_start, os->win_next, bytes, align);
    if (p && as_osmem_overlap(os, p, p + bytes) == 0) {
        os->win_next = p;
        return p;
    }
    size_t lo = ranges_first_after(os, os->win_start);
    size_t j = ranges_first_after(os, os->win_end);
    if (j < os->n_ranges && os->ranges[j].start < os->win_end) j++;
    uintptr_t hi = os->win_end;
    while (j > lo) { /* the gaps from the top down */
        const as_osrange_t *r = &os->ranges[--j];
        uintptr_t gap_lo = r->end < os->win_start ? os->win_start : r->end;
        if (gap_lo < hi && (p = fit_below(gap_lo, hi, bytes, align))) return p;
        if (r->start <= os->win_start) return 0;
        hi = r->start;
    }
    return fit_below(os->win_start, hi, bytes, align);
}

/* Give [s, e) back: PROT_NONE over the part inside the window, munmap for
 * the rest. @return 0, or -1 when a call failed. */
static int os_unmap(const as_osmem_t *os, uintptr_t s, uintptr_t e)
{
    uintptr_t ws = s > os->win_start ? s : os->win_start;
    uintptr_t we = e < os->win_end ? e : os->win_end;
    if (ws >= we) return munmap((void *)s, e - s);
    int rc = 0;
    if (s < ws && munmap((void *)s, ws - s) != 0) rc = -1;
    if (e > we && munmap((void *)we, e - we) != 0) rc = -1;
    if (!os_none(ws, we - ws)) rc = -1;
    return rc;
}

int as_osmem_window(as_osmem_t *os, size_t bytes)
{
    if (os->win_end || bytes == 0) return AS_EINVAL;
    bytes = (size_t)as_align_up(bytes, os->page_bytes);
    void *p = os_none(0, bytes);
    if (!p) return AS_ENOMEM;
    os->win_start = (uintptr_t)p;
    os->win_end = os->win_next = (uintptr_t)p + bytes;
    return AS_OK;
}

/* --- the page source -------------------------------------------------- */

static int ps_reserve(void *st, uintptr_t hint, size_t bytes, size_t align,
                      uintptr_t *addr)
{
    as_osmem_t *os = st;
    size_t page = os->page_bytes;
    if (bytes == 0 || bytes % page) return AS_EINVAL;
    if (align < page) align = page;
    if (ranges_room(os, 1) != AS_OK) return AS_ENOSPACE;
    char *p = NULL;
    if (hint && hint % align == 0 && in_window(os, hint, bytes)) {
        if (as_osmem_overlap(os, hint, hint + bytes) == 0)
            p = heap_map((void *)hint, bytes, MAP_FIXED); /* a free part */
    } else if (hint && hint % align == 0) {
        p = heap_map((void *)hint, bytes, MAP_FIXED_NOREPLACE);
        if (p && (uintptr_t)p != hint) { /* a kernel that ignores the flag */
            munmap(p, bytes);
            p = NULL;
        }
    }
    uintptr_t w;
    if (!p && os->win_end && (w = window_place(os, bytes, align)))
        p = heap_map((void *)w, bytes, MAP_FIXED);
    if (!p && os->win_end) os->n_window_misses++;
    if (!p && align == page) p = heap_map(NULL, bytes, 0);
    if (!p && align > page) {
        if (bytes > SIZE_MAX - align) return AS_ENOSPACE;
        size_t len = bytes + align - page;
        char *raw = heap_map(NULL, len, 0);
        if (!raw) return AS_ENOSPACE;
        p = (char *)as_align_up((uintptr_t)raw, align);
        if (p > raw) munmap(raw, (size_t)(p - raw));
        if (raw + len > p + bytes)
            munmap(p + bytes, (size_t)(raw + len - (p + bytes)));
    }
    if (!p) return AS_ENOSPACE;
    ranges_add(os, (uintptr_t)p, (uintptr_t)p + bytes);
    os->n_reserves++;
    *addr = (uintptr_t)p;
    return AS_OK;
}

static int ps_release(void *st, uintptr_t addr, size_t bytes)
{
    as_osmem_t *os = st;
    if (as_osmem_overlap(os, addr, addr + bytes) != bytes) return AS_EINVAL;
    os->n_releases++;
    return madvise((void *)addr, bytes, MADV_DONTNEED) == 0 ? AS_OK : AS_EINVAL;
}

static int ps_unreserve(void *st, uintptr_t addr, size_t bytes)
{
    as_osmem_t *os = st;
    if (as_osmem_overlap(os, addr, addr + bytes) != bytes) return AS_EINVAL;
    if (ranges_room(os, 1) != AS_OK) return AS_EINVAL;
    if (os_unmap(os, addr, addr + bytes) != 0) return AS_EINVAL;
    ranges_remove(os, addr, addr + bytes);
    os->n_unreserves++;
    return AS_OK;
}

static int ps_hint(void *st, uintptr_t addr, size_t bytes, int enable)
{
    as_osmem_t *os = st;
    if (as_osmem_overlap(os, addr, addr + bytes) != bytes) return AS_EINVAL;
    os->n_hints++;
    /* a kernel without THP refuses the advice; the hint is only a hint */
    (void)madvise((void *)addr, bytes,
                  enable ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
    return AS_OK;
}

static const as_pagesource_ops_t os_ops = {
    .reserve = ps_reserve,
    .release = ps_release,
    .unreserve = ps_unreserve,
    .hugepage_hint = ps_hint,
};

void as_osmem_init(as_osmem_t *os, as_pagesource_t *ps)
{
    memset(os, 0, sizeof *os);
    long page = sysconf(_SC_PAGESIZE);
    os->page_bytes = page > 0 ? (size_t)page : 4096;
    ps->ops = &os_ops;
    ps->state = os;
    ps->meta = as_osarena_mem(&os->meta_arena);
    ps->page_bytes = os->page_bytes;
    meta_window_init();
    ps->hugepage_bytes = (size_t)2 << 20;
}

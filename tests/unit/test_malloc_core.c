/* test_malloc_core.c - the real allocator's core (malloc/): the mmap page
 * source and its set of held ranges, the metadata arena, the configuration
 * from the environment's strings, and the lock layer, with figures computed
 * by hand from the page size.
 */
#include <CUnit/CUnit.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "common/error.h"
#include "malloc/config.h"
#include "malloc/lock.h"
#include "malloc/mstats.h"
#include "malloc/osmem.h"
#include "tests/unit/testutil.h"

static as_osmem_t os;
static as_pagesource_t ps;

/* Three pages, the middle one unreserved: two ranges, 2 pages mapped;
 * release and unreserve refuse the hole; a hint on the hole is honoured and
 * the ranges merge back into one. */
static void test_ranges(void)
{
    as_osmem_init(&os, &ps);
    size_t pg = ps.page_bytes;
    CU_ASSERT_EQUAL(pg, os.page_bytes);
    uintptr_t a = 0;
    CU_ASSERT_EQUAL(as_ps_reserve(&ps, 0, 3 * pg, pg, &a), AS_OK);
    CU_ASSERT(a != 0 && a % pg == 0);
    CU_ASSERT_EQUAL(os.mapped_bytes, 3 * pg);
    CU_ASSERT_EQUAL(os.n_ranges, 1);
    CU_ASSERT_EQUAL(as_osmem_overlap(&os, a, a + 3 * pg), 3 * pg);
    CU_ASSERT_EQUAL(as_osmem_overlap(&os, a - pg, a + pg), pg);

    /* release: the page stays mapped and reads back as zero */
    memset((void *)a, 0x5a, 3 * pg);
    CU_ASSERT_EQUAL(as_ps_release(&ps, a + pg, pg), AS_OK);
    CU_ASSERT_EQUAL(((unsigned char *)a)[pg], 0);
    CU_ASSERT_EQUAL(((unsigned char *)a)[pg - 1], 0x5a);
    CU_ASSERT_EQUAL(os.mapped_bytes, 3 * pg);

    CU_ASSERT_EQUAL(as_ps_unreserve(&ps, a + pg, pg), AS_OK);
    CU_ASSERT_EQUAL(os.mapped_bytes, 2 * pg);
    CU_ASSERT_EQUAL(os.n_ranges, 2);
    CU_ASSERT_EQUAL(as_osmem_overlap(&os, a, a + 3 * pg), 2 * pg);
    CU_ASSERT_EQUAL(as_ps_release(&ps, a + pg, pg), AS_EINVAL);
    CU_ASSERT_EQUAL(as_ps_unreserve(&ps, a + pg, pg), AS_EINVAL);
    CU_ASSERT_EQUAL(as_ps_release(&ps, a, 2 * pg), AS_EINVAL);
    CU_ASSERT_EQUAL(as_ps_hugepage_hint(&ps, a, 3 * pg, 1), AS_EINVAL);
    CU_ASSERT_EQUAL(as_ps_hugepage_hint(&ps, a, pg, 1), AS_OK);

    /* a hint on the hole: granted (MAP_FIXED_NOREPLACE); one range again */
    uintptr_t h = 0;
    CU_ASSERT_EQUAL(as_ps_reserve(&ps, a + pg, pg, pg, &h), AS_OK);
    CU_ASSERT_EQUAL(h, a + pg);
    CU_ASSERT_EQUAL(os.n_ranges, 1);
    CU_ASSERT_EQUAL(os.mapped_bytes, 3 * pg);
    CU_ASSERT_EQUAL(((unsigned char *)a)[pg], 0); /* a fresh page */

    /* a hint on a held range: elsewhere, and the held bytes are intact */
    uintptr_t o = 0;
    CU_ASSERT_EQUAL(as_ps_reserve(&ps, a, pg, pg, &o), AS_OK);
    CU_ASSERT(o != a && o != 0);
    CU_ASSERT_EQUAL(((unsigned char *)a)[0], 0x5a);
    CU_ASSERT_EQUAL(os.mapped_bytes, 4 * pg);

    /* an aligned reservation: over-mapped and trimmed, nothing left over */
    uintptr_t b = 0;
    size_t two_mib = (size_t)2 << 20;
    CU_ASSERT_EQUAL(as_ps_reserve(&ps, 0, 2 * pg, two_mib, &b), AS_OK);
    CU_ASSERT_EQUAL(b % two_mib, 0);
    CU_ASSERT_EQUAL(os.mapped_bytes, 6 * pg);
    CU_ASSERT_EQUAL(as_osmem_overlap(&os, b - two_mib, b + two_mib), 2 * pg);
    CU_ASSERT_EQUAL(os.peak_mapped_bytes, 6 * pg);

    /* cut a range in the middle of the first, then return everything */
    CU_ASSERT_EQUAL(as_ps_unreserve(&ps, a + pg, pg), AS_OK);
    CU_ASSERT_EQUAL(as_ps_unreserve(&ps, a, pg), AS_OK);
    CU_ASSERT_EQUAL(as_ps_unreserve(&ps, a + 2 * pg, pg), AS_OK);
    CU_ASSERT_EQUAL(as_ps_unreserve(&ps, o, pg), AS_OK);
    CU_ASSERT_EQUAL(as_ps_unreserve(&ps, b, 2 * pg), AS_OK);
    CU_ASSERT_EQUAL(os.mapped_bytes, 0);
    CU_ASSERT_EQUAL(os.n_ranges, 0);
    CU_ASSERT_EQUAL(os.peak_mapped_bytes, 6 * pg);
    CU_ASSERT_EQUAL(as_ps_reserve(&ps, 0, pg + 1, pg, &a), AS_EINVAL);
}

/* One reservation of 10000 pages cut into 5000 ranges by unreserving
 * every odd page: the range table grows past its first 4096 entries, and
 * every page is found held or not; then the rest goes back. */
static void test_many_ranges(void)
{
    as_osmem_init(&os, &ps);
    size_t pg = ps.page_bytes, n = 10000;
    uintptr_t a = 0;
    CU_ASSERT_EQUAL_FATAL(as_ps_reserve(&ps, 0, n * pg, pg, &a), AS_OK);
    for (size_t i = 1; i < n; i += 2)
        CU_ASSERT_EQUAL(as_ps_unreserve(&ps, a + i * pg, pg), AS_OK);
    CU_ASSERT_EQUAL(os.n_ranges, n / 2);
    CU_ASSERT(os.cap >= n / 2);
    CU_ASSERT_EQUAL(os.mapped_bytes, n / 2 * pg);
    for (size_t i = 0; i < n; i++)
        CU_ASSERT_EQUAL(as_osmem_overlap(&os, a + i * pg, a + (i + 1) * pg),
                        i % 2 ? 0 : pg);
    CU_ASSERT_EQUAL(as_osmem_overlap(&os, a, a + n * pg), n / 2 * pg);
    for (size_t i = 0; i < n; i += 2)
        CU_ASSERT_EQUAL(as_ps_unreserve(&ps, a + i * pg, pg), AS_OK);
    CU_ASSERT_EQUAL(os.mapped_bytes, 0);
    CU_ASSERT_EQUAL(os.n_ranges, 0);
}

/* The permissions of the mapping that holds address a ("---p", "rw-p"),
 * from /proc/self/maps; "" when none does. */
static const char *perms_at(uintptr_t a)
{
    static char perms[8];
    char line[512];
    perms[0] = 0;
    FILE *m = fopen("/proc/self/maps", "r");
    if (!m) return perms;
    while (fgets(line, sizeof line, m)) {
        unsigned long lo, hi;
        char pm[8];
        if (sscanf(line, "%lx-%lx %7s", &lo, &hi, pm) == 3 && a >= lo &&
            a < hi) {
            memcpy(perms, pm, sizeof perms);
            break;
        }
    }
    fclose(m);
    return perms;
}

/* The heap window, 16 pages (w0 = start, w1 = end): reservations from the
 * top down until it is full, then outside it; an unreservation inside maps
 * PROT_NONE back and leaves a gap that the next reservations fill from its
 * top; a hint on a free part of the window is honoured, one on a held range
 * is not; an aligned reservation takes the highest aligned place. */
static void test_window(void)
{
    as_osmem_init(&os, &ps);
    size_t pg = ps.page_bytes;
    CU_ASSERT_EQUAL(as_osmem_window(&os, 0), AS_EINVAL);
    CU_ASSERT_EQUAL_FATAL(as_osmem_window(&os, 16 * pg - 1), AS_OK);
    CU_ASSERT_EQUAL(as_osmem_window(&os, 16 * pg), AS_EINVAL); /* once */
    uintptr_t w0 = os.win_start, w1 = os.win_end;
    CU_ASSERT_EQUAL(w1 - w0, 16 * pg); /* rounded up to pages */
    CU_ASSERT_STRING_EQUAL(perms_at(w0), "---p");
    CU_ASSERT_EQUAL(os.mapped_bytes, 0);

    uintptr_t a = 0, x = 0, y = 0, z = 0;
    CU_ASSERT_EQUAL(as_ps_reserve(&ps, 0, 4 * pg, pg, &a), AS_OK);
    CU_ASSERT_EQUAL(a, w1 - 4 * pg);
    CU_ASSERT_STRING_EQUAL(perms_at(a), "rw-p");
    memset((void *)a, 0x5a, 4 * pg);
    CU_ASSERT_EQUAL(as_ps_reserve(&ps, 0, 8 * pg, pg, &x), AS_OK);
    CU_ASSERT_EQUAL(x, w1 - 12 * pg);
    CU_ASSERT_EQUAL(as_ps_reserve(&ps, 0, 4 * pg, pg, &y), AS_OK);
    CU_ASSERT_EQUAL(y, w0);
    CU_ASSERT_EQUAL(os.n_ranges, 1); /* adjacent: one range */
    CU_ASSERT_EQUAL(os.n_window_misses, 0);
    /* full: the next one goes to mmap, outside the window */
    CU_ASSERT_EQUAL(as_ps_reserve(&ps, 0, pg, pg, &z), AS_OK);
    CU_ASSERT(z + pg <= w0 || z >= w1);
    CU_ASSERT_EQUAL(os.n_window_misses, 1);

    /* the middle 8 pages back: PROT_NONE again, the window's */
    CU_ASSERT_EQUAL(as_ps_unreserve(&ps, x, 8 * pg), AS_OK);
    CU_ASSERT_STRING_EQUAL(perms_at(x), "---p");
    CU_ASSERT_STRING_EQUAL(perms_at(x + 7 * pg), "---p");
    CU_ASSERT_STRING_EQUAL(perms_at(a), "rw-p");
    CU_ASSERT_EQUAL(((unsigned char *)a)[0], 0x5a);
    /* a's and y's ranges, and z's unless the kernel put z right against
     * the window (below w0 or at w1), where it joined y's or a's range
     * (the ASan build's address space does that) */
    CU_ASSERT_EQUAL(os.n_ranges, (z + pg == w0 || z == w1) ? 2u : 3u);
    CU_ASSERT_EQUAL(os.mapped_bytes, 9 * pg);

    /* the gap [w1 - 12, w1 - 4) pages is filled from its top */
    uintptr_t q = 0, h = 0, o = 0;
    CU_ASSERT_EQUAL(as_ps_reserve(&ps, 0, 2 * pg, pg, &q), AS_OK);
    CU_ASSERT_EQUAL(q, w1 - 6 * pg);
    CU_ASSERT_EQUAL(((unsigned char *)q)[0], 0); /* fresh pages */
    /* a hint on the gap's bottom: granted */
    CU_ASSERT_EQUAL(as_ps_reserve(&ps, w1 - 12 * pg, 2 * pg, pg, &h), AS_OK);
    CU_ASSERT_EQUAL(h, w1 - 12 * pg);
    /* a hint on a held range: the highest free page instead */
    CU_ASSERT_EQUAL(as_ps_reserve(&ps, a, pg, pg, &o), AS_OK);
    CU_ASSERT_EQUAL(o, w1 - 7 * pg);
    CU_ASSERT_EQUAL(((unsigned char *)a)[0], 0x5a);
    CU_ASSERT_EQUAL(os.n_window_misses, 1);
    CU_ASSERT_EQUAL(os.mapped_bytes, 14 * pg);

    /* everything back; the window is all PROT_NONE and an aligned request
     * takes the highest aligned place in it */
    CU_ASSERT_EQUAL(as_ps_unreserve(&ps, a, 4 * pg), AS_OK);
    CU_ASSERT_EQUAL(as_ps_unreserve(&ps, q, 2 * pg), AS_OK);
    CU_ASSERT_EQUAL(as_ps_unreserve(&ps, o, pg), AS_OK);
    CU_ASSERT_EQUAL(as_ps_unreserve(&ps, h, 2 * pg), AS_OK);
    CU_ASSERT_EQUAL(as_ps_unreserve(&ps, y, 4 * pg), AS_OK);
    CU_ASSERT_EQUAL(as_ps_unreserve(&ps, z, pg), AS_OK);
    CU_ASSERT_EQUAL(os.mapped_bytes, 0);
    CU_ASSERT_EQUAL(os.n_ranges, 0);
    for (uintptr_t p = w0; p < w1; p += pg)
        CU_ASSERT_STRING_EQUAL(perms_at(p), "---p");
    uintptr_t b = 0;
    CU_ASSERT_EQUAL(as_ps_reserve(&ps, 0, 2 * pg, 4 * pg, &b), AS_OK);
    CU_ASSERT_EQUAL(b, (w1 - 2 * pg) & ~(uintptr_t)(4 * pg - 1));
    CU_ASSERT(b >= w0 && b % (4 * pg) == 0);
    CU_ASSERT_EQUAL(as_ps_unreserve(&ps, b, 2 * pg), AS_OK);
    CU_ASSERT_EQUAL(munmap((void *)w0, w1 - w0), 0);
}

/* The metadata arena: zeroed, 16-byte aligned, counted as asked (not
 * rounded), a freed chunk reused (and zeroed) for the next request of its
 * class, large requests mapped apart. */
static void test_arena(void)
{
    as_osarena_t a;
    memset(&a, 0, sizeof a);
    as_mem_t m = as_osarena_mem(&a);
    unsigned char *p = as_mem_alloc(&m, 24);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    CU_ASSERT_EQUAL((uintptr_t)p % 16, 0);
    CU_ASSERT_EQUAL(a.live_bytes, 24);
    CU_ASSERT_EQUAL(a.mapped_bytes, (uint64_t)1 << 20);
    memset(p, 0xff, 32);
    as_mem_free(&m, p, 24);
    CU_ASSERT_EQUAL(a.live_bytes, 0);
    unsigned char *q = as_mem_alloc(&m, 30); /* same 32-byte class */
    CU_ASSERT_PTR_EQUAL(q, p);
    int zero = 1;
    for (int i = 0; i < 32; i++)
        zero &= q[i] == 0;
    CU_ASSERT(zero);
    unsigned char *big = as_mem_alloc(&m, 100000);
    CU_ASSERT_PTR_NOT_NULL_FATAL(big);
    CU_ASSERT_EQUAL(a.live_bytes, 100030);
    CU_ASSERT_EQUAL(a.peak_live_bytes, 100030);
    CU_ASSERT_EQUAL(a.mapped_bytes, ((uint64_t)1 << 20) + 102400);
    big[99999] = 1;
    as_mem_free(&m, big, 100000);
    as_mem_free(&m, q, 30);
    CU_ASSERT_EQUAL(a.live_bytes, 0);
    CU_ASSERT_EQUAL(a.mapped_bytes, (uint64_t)1 << 20);
    CU_ASSERT_EQUAL(a.peak_live_bytes, 100030);
}

/* 1 when [p, p + bytes) is still reserved: a MAP_FIXED_NOREPLACE mapping
 * there is refused (a kernel that ignores the flag maps elsewhere). */
static int still_reserved(const void *p, size_t bytes)
{
    void *m =
        mmap((void *)p, bytes, PROT_READ,
             MAP_PRIVATE | MAP_ANONYMOUS | 0x100000 /* NOREPLACE */, -1, 0);
    if (m == MAP_FAILED) return 1;
    munmap(m, bytes);
    return m != p;
}

/* Metadata leaves no hole: a freed large request (100000 B, 25 pages)
 * keeps its range reserved as a placeholder (102400 B of spare address
 * space, no hole a heap reservation could take); the next large request
 * of at most that size (70000 B, 18 pages) gets the placeholder's low end,
 * zeroed, and leaves 7 pages of it spare; a heap reservation of 25 pages
 * made now does not land in the remaining placeholder. */
static void test_arena_placeholder(void)
{
    as_osmem_init(&os, &ps); /* the metadata window */
    as_osarena_t a;
    memset(&a, 0, sizeof a);
    as_mem_t m = as_osarena_mem(&a);
    unsigned char *big = as_mem_alloc(&m, 100000);
    CU_ASSERT_PTR_NOT_NULL_FATAL(big);
    memset(big, 0xff, 100000);
    as_mem_free(&m, big, 100000);
    CU_ASSERT_EQUAL(a.mapped_bytes, 0);
    CU_ASSERT_EQUAL(a.n_spare, 1);
    CU_ASSERT_EQUAL(a.spare_bytes, 102400);
    CU_ASSERT(still_reserved(big, 102400));
    unsigned char *again = as_mem_alloc(&m, 70000);
    CU_ASSERT_PTR_EQUAL_FATAL(again, big);
    int zero = 1;
    for (int i = 0; i < 70000; i++)
        zero &= again[i] == 0;
    CU_ASSERT(zero);
    CU_ASSERT_EQUAL(a.mapped_bytes, 73728);
    CU_ASSERT_EQUAL(a.spare_bytes, 102400 - 73728);
    uintptr_t heap = 0;
    CU_ASSERT_EQUAL_FATAL(as_ps_reserve(&ps, 0, 102400, 4096, &heap), AS_OK);
    CU_ASSERT(heap + 102400 <= (uintptr_t)big ||
              heap >= (uintptr_t)big + 102400);
    CU_ASSERT_EQUAL(as_ps_unreserve(&ps, heap, 102400), AS_OK);
    as_mem_free(&m, again, 70000);
    CU_ASSERT_EQUAL(a.spare_bytes, 102400);
    CU_ASSERT(still_reserved(big, 102400));
}

static uint64_t param_of(const as_malloc_config_t *c, const char *name)
{
    int i = as_param_find(c->policy->params, c->policy->n_params, name,
                          strlen(name));
    CU_ASSERT_FATAL(i >= 0);
    return c->params[i].u;
}

/* The environment's strings: defaults, assignments with and without the
 * part prefix, and the one-line errors. */
static void test_config(void)
{
    as_malloc_config_t c;
    char buf[1024];
    as_msg_t why;
    as_msg_init(&why, buf, sizeof buf);
    CU_ASSERT_EQUAL(
        as_malloc_config(NULL, NULL, NULL, NULL, NULL, NULL, &c, &why), AS_OK);
    CU_ASSERT_STRING_EQUAL(c.policy->name, "tcmalloc");
    CU_ASSERT_EQUAL(c.stats_path[0], 0);
    CU_ASSERT_EQUAL(c.stats_period_ns, 50000000u);
    CU_ASSERT_EQUAL(c.check_every, 0);
    CU_ASSERT_EQUAL(param_of(&c, "release_rate"), 0);

    CU_ASSERT_EQUAL(as_malloc_config("tcmalloc", NULL,
                                     "tcmalloc.release_rate=4M,,max_cpus=2",
                                     "/tmp/x-%p.json", "10ms", "5K", &c, &why),
                    AS_OK);
    CU_ASSERT_EQUAL(param_of(&c, "release_rate"), 4u << 20);
    CU_ASSERT_EQUAL(param_of(&c, "max_cpus"), 2);
    CU_ASSERT_STRING_EQUAL(c.stats_path, "/tmp/x-%p.json");
    CU_ASSERT_EQUAL(c.stats_period_ns, 10000000u);
    CU_ASSERT_EQUAL(c.check_every, 5000);

    CU_ASSERT_EQUAL(as_malloc_config("hoard", NULL, "superblock=64K", NULL,
                                     NULL, NULL, &c, &why),
                    AS_OK);
    CU_ASSERT_EQUAL(param_of(&c, "superblock"), 65536);

    as_msg_init(&why, buf, sizeof buf);
    CU_ASSERT_EQUAL(as_malloc_config("hoard", NULL, "superblock=12K", NULL,
                                     NULL, NULL, &c, &why),
                    AS_EINVAL);
    CU_ASSERT_STRING_EQUAL(buf, "ALLOCSIM_PARAM: 'superblock=12K': "
                                "hoard.superblock must be a power of two in "
                                "bytes (K, M, G, T: x1024) from 4K to 1G");
    as_msg_init(&why, buf, sizeof buf);
    CU_ASSERT_EQUAL(as_malloc_config("hoard", NULL, "tcmalloc.max_cpus=2", NULL,
                                     NULL, NULL, &c, &why),
                    AS_ENOTFOUND);
    CU_ASSERT_STRING_EQUAL(buf, "ALLOCSIM_PARAM: 'tcmalloc.max_cpus=2': no "
                                "part named 'tcmalloc' (the policy is hoard)");
    as_msg_init(&why, buf, sizeof buf);
    CU_ASSERT_EQUAL(
        as_malloc_config("nope", NULL, NULL, NULL, NULL, NULL, &c, &why),
        AS_ENOTFOUND);
    CU_ASSERT(
        strncmp(buf, "ALLOCSIM_POLICY=nope: unknown policy; valid: ", 45) == 0);
    for (size_t i = 0; i < as_policy_count(); i++)
        CU_ASSERT_PTR_NOT_NULL(strstr(buf, as_policy_at(i)->name));
    as_msg_init(&why, buf, sizeof buf);
    CU_ASSERT_EQUAL(
        as_malloc_config(NULL, NULL, NULL, NULL, "0.5ms", NULL, &c, &why),
        AS_ERANGE);
    CU_ASSERT_PTR_NOT_NULL(strstr(buf, "ALLOCSIM_STATS_PERIOD=0.5ms: must be"));
}

/* ALLOCSIM_PREDICTOR: the run's grammar, its parameters through
 * ALLOCSIM_PARAM, and the predictors a running program cannot feed. */
static void test_config_predictor(void)
{
    as_malloc_config_t c;
    char buf[1024];
    as_msg_t why;
    as_msg_init(&why, buf, sizeof buf);
    CU_ASSERT_EQUAL(
        as_malloc_config("llama", "none", NULL, NULL, NULL, NULL, &c, &why),
        AS_OK);
    CU_ASSERT_PTR_NULL(c.pred);
    CU_ASSERT_EQUAL(as_malloc_config("llama", "cached:lstm",
                                     "cached.capacity=64,key=height,"
                                     "llama.tick_interval=20ms",
                                     NULL, NULL, NULL, &c, &why),
                    AS_OK);
    CU_ASSERT_STRING_EQUAL(c.pred->name, "cached");
    CU_ASSERT_STRING_EQUAL(c.inner->name, "lstm");
    int i = as_param_find(c.pred->params, c.pred->n_params, "capacity", 8);
    CU_ASSERT_EQUAL(c.pred_params[i].u, 64);
    i = as_param_find(c.pred->params, c.pred->n_params, "per_thread", 10);
    CU_ASSERT_EQUAL(c.pred_params[i].u, 1); /* the real allocator's default */
    i = as_param_find(c.pred->params, c.pred->n_params, "key", 3);
    CU_ASSERT_EQUAL(c.pred_params[i].u, 1); /* pc|height|stack */

    as_msg_init(&why, buf, sizeof buf);
    CU_ASSERT_EQUAL(as_malloc_config("llama", "cached:lstm", "lstm.depth=2",
                                     NULL, NULL, NULL, &c, &why),
                    AS_ENOTFOUND);
    CU_ASSERT_STRING_EQUAL(buf, "ALLOCSIM_PARAM: 'lstm.depth=2': lstm has no "
                                "parameter 'depth'; valid:");
    as_msg_init(&why, buf, sizeof buf);
    CU_ASSERT_EQUAL(
        as_malloc_config("llama", "lsmt", NULL, NULL, NULL, NULL, &c, &why),
        AS_ENOTFOUND);
    CU_ASSERT(strncmp(buf,
                      "ALLOCSIM_PREDICTOR=lsmt: unknown predictor 'lsmt'; "
                      "valid: none oracle",
                      67) == 0);
    as_msg_init(&why, buf, sizeof buf);
    CU_ASSERT_EQUAL(as_malloc_config("llama", "cached:oracle", NULL, NULL, NULL,
                                     NULL, &c, &why),
                    AS_EINVAL);
    CU_ASSERT_STRING_EQUAL(buf, "ALLOCSIM_PREDICTOR=cached:oracle: oracle "
                                "needs each object's future lifetime, which "
                                "a running program does not have; usable "
                                "here: none, lstm, sitetab, cached:lstm, "
                                "cached:sitetab");
    as_msg_init(&why, buf, sizeof buf);
    CU_ASSERT_EQUAL(
        as_malloc_config("llama", "site", NULL, NULL, NULL, NULL, &c, &why),
        AS_EINVAL);
    CU_ASSERT(strncmp(buf,
                      "ALLOCSIM_PREDICTOR=site: site learns from object "
                      "outcomes",
                      57) == 0);
    as_msg_init(&why, buf, sizeof buf);
    CU_ASSERT_EQUAL(
        as_malloc_config("tcmalloc", "lstm", NULL, NULL, NULL, NULL, &c, &why),
        AS_EINVAL);
    CU_ASSERT_STRING_EQUAL(buf, "ALLOCSIM_PREDICTOR=lstm: policy tcmalloc "
                                "does not place by lifetime class "
                                "(lifetime-aware policies: llama)");
    as_msg_init(&why, buf, sizeof buf);
    CU_ASSERT_EQUAL(as_malloc_config("llama", "lstm:none", NULL, NULL, NULL,
                                     NULL, &c, &why),
                    AS_EINVAL);
    CU_ASSERT_STRING_EQUAL(buf, "ALLOCSIM_PREDICTOR=lstm:none: predictor "
                                "'lstm' does not wrap another predictor");
}

/* A policy that records the times it is called with. */
static uint64_t seen_ns[4];
static int n_seen;

static int rec_alloc(void *st, const as_ctx_t *ctx, size_t size, size_t align,
                     as_block_t *out)
{
    (void)st;
    (void)align;
    seen_ns[n_seen++ % 4] = ctx->now_ns;
    out->addr = 4096;
    out->bytes = size;
    return AS_OK;
}

static int rec_free(void *st, const as_ctx_t *ctx, uintptr_t addr, size_t sz)
{
    (void)st;
    (void)addr;
    (void)sz;
    seen_ns[n_seen++ % 4] = ctx->now_ns;
    return AS_OK;
}

/* The lock layer passes calls through, keeps optional hooks NULL where the
 * inner's are, and never lets time go backwards in call order. */
static void test_lock_layer(void)
{
    static const as_policy_ops_t rec = {
        .name = "rec", .alloc = rec_alloc, .free = rec_free};
    as_lock_t l;
    as_lock_wrap(&l, &rec, NULL);
    CU_ASSERT_PTR_NULL(l.ops.realloc);
    CU_ASSERT_PTR_NULL(l.ops.tick);
    CU_ASSERT_PTR_NULL(l.ops.usable_size);
    CU_ASSERT_STRING_EQUAL(l.ops.name, "rec");
    as_ctx_t ctx = {.now_ns = 100};
    as_block_t b;
    n_seen = 0;
    CU_ASSERT_EQUAL(l.ops.alloc(&l, &ctx, 10, 0, &b), AS_OK);
    ctx.now_ns = 90; /* read before the previous caller's, locked after */
    CU_ASSERT_EQUAL(l.ops.free(&l, &ctx, 4096, 0), AS_OK);
    ctx.now_ns = 120;
    CU_ASSERT_EQUAL(l.ops.alloc(&l, &ctx, 10, 0, &b), AS_OK);
    CU_ASSERT_EQUAL(n_seen, 3);
    CU_ASSERT_EQUAL(seen_ns[0], 100);
    CU_ASSERT_EQUAL(seen_ns[1], 100);
    CU_ASSERT_EQUAL(seen_ns[2], 120);
    CU_ASSERT_EQUAL(b.bytes, 10);
}

/* A recording policy with a batch of its own: one call, the context's
 * time as the lock layer orders it. */
static int n_batch_calls;

static int rec_alloc_batch(void *st, const as_ctx_t *ctx, size_t size,
                           size_t align, unsigned n, as_block_t *out,
                           unsigned *got)
{
    (void)st;
    (void)align;
    n_batch_calls++;
    seen_ns[n_seen++ % 4] = ctx->now_ns;
    for (*got = 0; *got < n; ++*got)
        out[*got] = (as_block_t){4096 + *got * size, size};
    return AS_OK;
}

/* The lock layer always offers alloc_batch: over a policy without one it
 * is the policy's single allocs in a row under one hold of the mutex, over
 * a policy with one it is that one call; both see the ordered time. */
static void test_lock_layer_batch(void)
{
    static const as_policy_ops_t rec = {
        .name = "rec", .alloc = rec_alloc, .free = rec_free};
    static const as_policy_ops_t recb = {.name = "recb",
                                         .alloc = rec_alloc,
                                         .alloc_batch = rec_alloc_batch,
                                         .free = rec_free};
    as_lock_t l;
    as_block_t b[3];
    unsigned got = 0;
    as_lock_wrap(&l, &rec, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(l.ops.alloc_batch);
    as_ctx_t ctx = {.now_ns = 100};
    n_seen = n_batch_calls = 0;
    CU_ASSERT_EQUAL(as_policy_alloc_batch(&l.ops, &l, &ctx, 32, 0, 3, b, &got),
                    AS_OK);
    CU_ASSERT_EQUAL(got, 3);
    CU_ASSERT_EQUAL(n_seen, 3); /* three single allocs */
    CU_ASSERT_EQUAL(n_batch_calls, 0);
    ctx.now_ns = 50; /* earlier than the last time seen: raised to it */
    n_seen = 0;
    CU_ASSERT_EQUAL(as_policy_alloc_batch(&l.ops, &l, &ctx, 32, 0, 2, b, &got),
                    AS_OK);
    CU_ASSERT_EQUAL(got, 2);
    CU_ASSERT_EQUAL(seen_ns[0], 100);
    CU_ASSERT_EQUAL(seen_ns[1], 100);
    as_lock_wrap(&l, &recb, NULL);
    ctx.now_ns = 70;
    n_seen = 0;
    got = 0;
    CU_ASSERT_EQUAL(as_policy_alloc_batch(&l.ops, &l, &ctx, 32, 0, 3, b, &got),
                    AS_OK);
    CU_ASSERT_EQUAL(got, 3);
    CU_ASSERT_EQUAL(n_batch_calls, 1); /* one call into the policy */
    CU_ASSERT_EQUAL(n_seen, 1);
    CU_ASSERT_EQUAL(seen_ns[0], 70);
    CU_ASSERT_EQUAL(b[2].addr, 4096 + 64);
    CU_ASSERT_EQUAL(b[2].bytes, 32);
}

/* A heap reservation the kernel merges with a foreign mapping of equal
 * flags (the recorder's rings are MAP_NORESERVE too): 8 foreign pages, all
 * resident, then 8 heap pages right above them, 2 resident. smaps shows one
 * VMA of 16 pages with Rss 10 pages; the heap's share is exactly its 2
 * resident pages (counted by mincore), not 10 x 8/16 = 5 pages. */
static void test_stats_merged_vma(void)
{
    as_osmem_init(&os, &ps);
    size_t pg = ps.page_bytes;
    char *f = mmap(NULL, 16 * pg, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    CU_ASSERT_FATAL(f != MAP_FAILED);
    CU_ASSERT_EQUAL_FATAL(munmap(f + 8 * pg, 8 * pg), 0);
    uintptr_t a = 0;
    CU_ASSERT_EQUAL_FATAL(
        as_ps_reserve(&ps, (uintptr_t)(f + 8 * pg), 8 * pg, pg, &a), AS_OK);
    CU_ASSERT_EQUAL_FATAL(a, (uintptr_t)(f + 8 * pg));
    memset(f, 1, 8 * pg);
    memset((void *)a, 2, 2 * pg);

    /* the kernel did merge them: one line of /proc/self/maps covers both */
    char want[64], maps[1 << 16];
    snprintf(want, sizeof want, "%lx-%lx ", (unsigned long)(uintptr_t)f,
             (unsigned long)(a + 8 * pg));
    FILE *m = fopen("/proc/self/maps", "r");
    CU_ASSERT_FATAL(m != NULL);
    size_t n = fread(maps, 1, sizeof maps - 1, m);
    fclose(m);
    maps[n] = 0;
    CU_ASSERT_PTR_NOT_NULL(strstr(maps, want));

    as_mstats_t st;
    memset(&st, 0, sizeof st);
    as_mstats_sample(&st, &os, 0, 0);
    CU_ASSERT_EQUAL(st.smaps_failed, 0);
    CU_ASSERT_EQUAL(st.last_resident_bytes, 2 * pg);
    memset((void *)(a + 5 * pg), 3, pg);
    as_mstats_sample(&st, &os, 1000, 0);
    CU_ASSERT_EQUAL(st.last_resident_bytes, 3 * pg);
    CU_ASSERT_EQUAL(st.peak_resident_bytes, 3 * pg);
    CU_ASSERT_EQUAL(as_ps_unreserve(&ps, a, 8 * pg), AS_OK);
    munmap(f, 8 * pg);
}

int main(void)
{
    static const as_test_t tests[] = {
        {"ranges", test_ranges},
        {"many_ranges", test_many_ranges},
        {"window", test_window},
        {"arena", test_arena},
        {"arena_placeholder", test_arena_placeholder},
        {"config", test_config},
        {"config_predictor", test_config_predictor},
        {"lock_layer", test_lock_layer},
        {"lock_layer_batch", test_lock_layer_batch},
        {"stats_merged_vma", test_stats_merged_vma},
        {NULL, NULL}};
    return as_test_main("malloc_core", tests);
}

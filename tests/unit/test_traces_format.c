/* test_traces_format.c - trace format v2 (and v1 files): writer -> reader
 * round trips with stack heights and real-memory samples, a byte-literal
 * v1 fixture, and bad input (truncation at every byte, bit flips, wrong
 * version, a free of an id never allocated, samples out of time order,
 * writer rejections). */
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/error.h"
#include "tests/trace_header.h"
#include "tests/unit/testutil.h"
#include "traces/codec.h"
#include "traces/trace.h"

static uint64_t rng_state = 88172645463325252ull;
static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static char path_buf[512];
static const char *tmp(const char *suffix)
{
    snprintf(path_buf, sizeof path_buf, "%s", as_test_tmpfile("fmt", suffix));
    return path_buf;
}

/* A random but valid trace: events[] receives what was written. */
typedef struct {
    as_event_t *ev;
    size_t n;
    uint32_t nstacks, nframes;
    as_mem_sample_t *smp; /* samples written, events_before filled in */
    size_t nsmp;
} gen_t;

static void gen_trace(const char *path, size_t nev, uint32_t chunk_events,
                      gen_t *g)
{
    as_trace_writer_t *w;
    as_trace_writer_opts_t o = {chunk_events, 0, 0};
    CU_ASSERT_EQUAL_FATAL(as_trace_writer_open(&w, path, &o), 0);
    CU_ASSERT_EQUAL(as_trace_writer_meta(w, "program", "redis server"), 0);
    CU_ASSERT_EQUAL(as_trace_writer_meta(w, "host", "h1"), 0);
    g->ev = calloc(nev, sizeof *g->ev);
    g->n = 0;
    g->nstacks = 0;
    g->nframes = 0;
    g->smp = calloc(nev + 1, sizeof *g->smp);
    g->nsmp = 0;
    uint64_t height = 0;
    uint64_t *live = calloc(nev, sizeof *live), nlive = 0, t = 1000;
    for (size_t i = 0; i < nev; i++) {
        if (rnd() % 50 == 0 || g->nstacks == 0) {
            uint32_t fr[4];
            for (int k = 0; k < 4; k++) {
                as_frame_t f = {0x400000 + rnd() % 4096, rnd() % 4096,
                                "/usr/lib/libc.so.6", "malloc wrapper"};
                fr[k] = ++g->nframes;
                CU_ASSERT_EQUAL(as_trace_writer_frame(w, fr[k], &f), 0);
            }
            g->nstacks++;
            CU_ASSERT_EQUAL(
                as_trace_writer_stack(w, g->nstacks, fr, 1 + rnd() % 4), 0);
        }
        as_event_t e = {0};
        t += rnd() % 3 == 0 ? 0 : rnd() % 5000;
        if (rnd() % 7 == 0) { /* a real-memory sample at this time */
            as_mem_sample_t m = {.t_ns = t,
                                 .rss_bytes = rnd() % (1ull << 40),
                                 .anon_huge_bytes = rnd() % (1ull << 22)};
            m.has = (uint32_t)(rnd() % 4);
            m.events_before = i;
            if (m.rss_bytes & 1) { /* mallinfo too: fields of every width */
                m.has |= AS_SAMPLE_HAS_MALLINFO;
                for (int f = 0; f < AS_MALLINFO_FIELDS; f++)
                    m.mallinfo.f[f] = m.rss_bytes >> (4 * f);
            }
            CU_ASSERT_EQUAL_FATAL(as_trace_writer_sample(w, &m), 0);
            if (!(m.has & AS_SAMPLE_HAS_RSS)) m.rss_bytes = 0;
            if (!(m.has & AS_SAMPLE_HAS_HUGE)) m.anon_huge_bytes = 0;
            g->smp[g->nsmp++] = m;
        }
        e.t_ns = t;
        e.thread = (uint32_t)(rnd() % 4);
        e.cpu = (uint32_t)(rnd() % 8);
        unsigned r = (unsigned)(rnd() % 10);
        if (nlive == 0 || r < 5) {
            e.kind = AS_EV_ALLOC;
        } else if (r < 9) {
            e.kind = AS_EV_FREE;
        } else {
            e.kind = AS_EV_REALLOC;
        }
        if (e.kind != AS_EV_FREE) {
            e.size = rnd() % 5 == 0 ? rnd() % 100000 : rnd() % 256;
            e.align = rnd() % 10 == 0 ? 64 : 0;
            e.stack = (uint32_t)(rnd() % (g->nstacks + 1));
            /* heights: repeated, small, 0 (unknown) and past 2^28 (the
             * decoder's slow path) */
            unsigned hk = (unsigned)(rnd() % 8);
            if (hk >= 3)
                height = hk == 3   ? 0
                         : hk == 4 ? (1ull << 40) + rnd() % 99
                                   : 64 + rnd() % 100000;
            e.stack_height = height;
        }
        if (e.kind != AS_EV_ALLOC) {
            size_t k = rnd() % nlive;
            e.object = live[k];
            live[k] = live[--nlive];
        }
        CU_ASSERT_EQUAL_FATAL(as_trace_writer_event(w, &e), 0);
        if (e.kind == AS_EV_ALLOC) live[nlive++] = e.object;
        if (e.kind == AS_EV_REALLOC) live[nlive++] = e.new_object;
        g->ev[g->n++] = e;
    }
    CU_ASSERT_EQUAL(as_trace_writer_meta(w, "symbolized", "yes"), 0);
    as_frame_t f = {0x401000, 0x1000, "/bin/prog", "main"};
    CU_ASSERT_EQUAL(as_trace_writer_frame(w, 1, &f), 0);
    CU_ASSERT_EQUAL(as_trace_writer_close(w), 0);
    free(live);
}

static int ev_eq(const as_event_t *a, const as_event_t *b)
{
    return a->kind == b->kind && a->t_ns == b->t_ns && a->thread == b->thread &&
           a->cpu == b->cpu && a->object == b->object &&
           (a->kind != AS_EV_REALLOC || a->new_object == b->new_object) &&
           (a->kind == AS_EV_FREE
                ? a->stack_height == 0 && b->stack_height == 0
                : (a->size == b->size && a->align == b->align &&
                   a->stack == b->stack && a->stack_height == b->stack_height));
}

static int smp_eq(const as_mem_sample_t *a, const as_mem_sample_t *b)
{
    return a->t_ns == b->t_ns && a->has == b->has &&
           a->rss_bytes == b->rss_bytes &&
           a->anon_huge_bytes == b->anon_huge_bytes &&
           a->events_before == b->events_before &&
           memcmp(&a->mallinfo, &b->mallinfo, sizeof a->mallinfo) == 0;
}

static void test_roundtrip(void)
{
    const char *p = tmp(".ast");
    char path[512];
    snprintf(path, sizeof path, "%s", p);
    gen_t g;
    gen_trace(path, 20000, 1000, &g);
    as_trace_reader_t *r;
    CU_ASSERT_EQUAL_FATAL(as_trace_reader_open(&r, path), 0);
    CU_ASSERT_EQUAL(as_trace_reader_has_index(r), 1);
    /* 20 full chunks + one holding the definitions after the last event */
    CU_ASSERT_EQUAL(as_trace_reader_chunk_count(r), 21);
    CU_ASSERT_STRING_EQUAL(as_trace_reader_meta(r, "program"), "redis server");
    CU_ASSERT_PTR_NULL(as_trace_reader_meta(r, "symbolized"));
    /* batch decode, odd batch size */
    as_event_t b[37];
    size_t i = 0, bad = 0;
    long n;
    while ((n = as_trace_reader_next_batch(r, b, 37)) > 0)
        for (long k = 0; k < n; k++, i++)
            if (i >= g.n || !ev_eq(&b[k], &g.ev[i])) bad++;
    CU_ASSERT_EQUAL(n, 0);
    CU_ASSERT_EQUAL(i, g.n);
    CU_ASSERT_EQUAL(bad, 0);
    CU_ASSERT_EQUAL(as_trace_reader_truncated(r), 0);
    CU_ASSERT_EQUAL(as_trace_reader_version(r), AS_TRACE_VERSION);
    /* every sample, in order, with the events before it */
    size_t ns;
    const as_mem_sample_t *sm = as_trace_reader_samples(r, &ns);
    CU_ASSERT(g.nsmp > 2000);
    CU_ASSERT_EQUAL_FATAL(ns, g.nsmp);
    CU_ASSERT_EQUAL(as_trace_reader_sample_count(r), g.nsmp);
    for (size_t k = 0; k < ns; k++)
        if (!smp_eq(&sm[k], &g.smp[k])) bad++;
    CU_ASSERT_EQUAL(bad, 0);
    as_trace_reader_drop_samples(r, ns - 1);
    sm = as_trace_reader_samples(r, &ns);
    CU_ASSERT(ns == 1 && smp_eq(&sm[0], &g.smp[g.nsmp - 1]));
    CU_ASSERT_EQUAL(as_trace_reader_sample_count(r), g.nsmp);
    uint64_t objects = 0;
    for (size_t k = 0; k < g.n; k++)
        objects += g.ev[k].kind != AS_EV_FREE;
    CU_ASSERT_EQUAL(as_trace_reader_objects(r), objects);
    CU_ASSERT_STRING_EQUAL(as_trace_reader_meta(r, "symbolized"), "yes");
    CU_ASSERT_EQUAL(as_trace_reader_max_stack(r), g.nstacks);
    CU_ASSERT_EQUAL(as_trace_reader_max_frame(r), g.nframes);
    as_frame_t f;
    CU_ASSERT_EQUAL(as_trace_reader_frame(r, 1, &f), 0);
    CU_ASSERT_STRING_EQUAL(f.symbol, "main"); /* redefined at the end */
    CU_ASSERT_EQUAL(f.pc, 0x401000);
    CU_ASSERT_EQUAL(as_trace_reader_frame(r, 2, &f), 0);
    CU_ASSERT_STRING_EQUAL(f.module, "/usr/lib/libc.so.6");
    CU_ASSERT_EQUAL(as_trace_reader_frame(r, g.nframes + 1, &f), AS_ENOTFOUND);
    const uint32_t *fr;
    uint32_t depth;
    CU_ASSERT_EQUAL(as_trace_reader_stack(r, 1, &fr, &depth), 0);
    CU_ASSERT(depth >= 1 && depth <= 4 && fr[0] == 1);
    /* the chunks' index entries add up */
    const as_trace_chunk_info_t *c = as_trace_reader_chunks(r);
    uint64_t evs = 0;
    for (size_t k = 0; k < as_trace_reader_chunk_count(r); k++)
        evs += c[k].events;
    CU_ASSERT_EQUAL(evs, 20000);
    CU_ASSERT_EQUAL(c[0].first_t_ns, g.ev[0].t_ns);
    CU_ASSERT_EQUAL(c[1].first_t_ns, g.ev[1000].t_ns);
    /* rewind and read again, one by one */
    CU_ASSERT_EQUAL(as_trace_reader_rewind(r), 0);
    as_event_t e;
    i = 0;
    bad = 0;
    int rc;
    while ((rc = as_trace_reader_next(r, &e)) == 1)
        if (!ev_eq(&e, &g.ev[i++])) bad++;
    CU_ASSERT_EQUAL(rc, 0);
    CU_ASSERT_EQUAL(i, g.n);
    CU_ASSERT_EQUAL(bad, 0);
    sm = as_trace_reader_samples(r, &ns); /* the rewind started them over */
    CU_ASSERT_EQUAL(ns, g.nsmp);
    CU_ASSERT(ns && smp_eq(&sm[ns - 1], &g.smp[g.nsmp - 1]));
    char h1[17], h2[17];
    CU_ASSERT_EQUAL(as_trace_reader_hash(r, h1), 0);
    CU_ASSERT_EQUAL(strlen(h1), 16);
    as_trace_reader_close(r);
    /* in-memory open gives the same hash and events */
    size_t len;
    uint8_t *bytes = as_test_slurp(path, &len);
    CU_ASSERT_EQUAL_FATAL(as_trace_reader_open_mem(&r, "mem", bytes, len), 0);
    CU_ASSERT_EQUAL(as_trace_reader_hash(r, h2), 0);
    CU_ASSERT_STRING_EQUAL(h1, h2);
    i = 0;
    while ((rc = as_trace_reader_next(r, &e)) == 1)
        i++;
    CU_ASSERT_EQUAL(i, g.n);
    as_trace_reader_close(r);
    free(bytes);
    free(g.ev);
    free(g.smp);
    unlink(path);
}

/* FNV-1a 64 of "a" is the published test vector 0xaf63dc4c8601ec8c. */
static void test_hash_vector(void)
{
    const char *path = tmp(".bin");
    FILE *f = fopen(path, "wb");
    fputs("a", f);
    fclose(f);
    CU_ASSERT_EQUAL(as_fnv1a64(AS_FNV64_INIT, (const uint8_t *)"a", 1),
                    0xaf63dc4c8601ec8cull);
    CU_ASSERT_EQUAL(as_fnv1a32((const uint8_t *)"a", 1), 0xe40c292cu);
    unlink(path);
}

static void test_varint(void)
{
    uint8_t b[10];
    uint64_t v;
    const uint8_t *p;
    CU_ASSERT_EQUAL(as_put_varint(b, 300), 2);
    CU_ASSERT(b[0] == 0xac && b[1] == 0x02);
    p = b;
    CU_ASSERT_EQUAL(as_get_varint(&p, b + 2, &v), 0);
    CU_ASSERT_EQUAL(v, 300);
    CU_ASSERT_EQUAL(as_put_varint(b, UINT64_MAX), 10);
    p = b;
    CU_ASSERT_EQUAL(as_get_varint(&p, b + 10, &v), 0);
    CU_ASSERT_EQUAL(v, UINT64_MAX);
    p = b;
    CU_ASSERT_EQUAL(as_get_varint(&p, b + 9, &v), -1); /* cut short */
    b[9] = 0x02; /* bit 64 set: overflow */
    p = b;
    CU_ASSERT_EQUAL(as_get_varint(&p, b + 10, &v), -1);
    /* the branch-free 8-byte decoder agrees with the byte loop */
    uint8_t buf[16] = {0};
    unsigned len;
    as_put_varint(buf, 300);
    CU_ASSERT_EQUAL(as_varint8(buf, &len), 300);
    CU_ASSERT_EQUAL(len, 2);
    memset(buf, 0, sizeof buf);
    CU_ASSERT_EQUAL(as_put_varint(buf, (1ull << 56) - 1), 8);
    CU_ASSERT_EQUAL(as_varint8(buf, &len), (1ull << 56) - 1);
    CU_ASSERT_EQUAL(len, 8);
    CU_ASSERT_EQUAL(as_put_varint(buf, 1ull << 56), 9); /* too long */
    as_varint8(buf, &len);
    CU_ASSERT_EQUAL(len, 0);
    for (uint64_t x = 1; x < (1ull << 56); x = x * 3 + 1) {
        memset(buf, 0xff, sizeof buf);
        size_t k = as_put_varint(buf, x);
        if (as_varint8(buf, &len) != x || len != k) CU_FAIL("varint8");
    }
}

/* Sizes 0 and 2^63 and an alignment of 2^40 are data, not errors. */
static void test_extreme_sizes(void)
{
    char path[512];
    snprintf(path, sizeof path, "%s", tmp(".ast"));
    as_trace_writer_t *w;
    CU_ASSERT_EQUAL_FATAL(as_trace_writer_open(&w, path, NULL), 0);
    as_event_t a = {.kind = AS_EV_ALLOC, .t_ns = 5, .size = 0};
    as_event_t b = {.kind = AS_EV_ALLOC,
                    .t_ns = 6,
                    .size = 1ull << 63,
                    .align = 1ull << 40,
                    .thread = 4000000000u,
                    .cpu = UINT32_MAX};
    as_event_t c = {.kind = AS_EV_REALLOC,
                    .t_ns = UINT64_MAX,
                    .object = 1,
                    .size = UINT64_MAX};
    CU_ASSERT_EQUAL(as_trace_writer_event(w, &a), 0);
    CU_ASSERT_EQUAL(as_trace_writer_event(w, &b), 0);
    CU_ASSERT_EQUAL(as_trace_writer_event(w, &c), 0);
    CU_ASSERT_EQUAL(a.object, 0);
    CU_ASSERT_EQUAL(b.object, 1);
    CU_ASSERT_EQUAL(c.new_object, 2);
    CU_ASSERT_EQUAL(as_trace_writer_close(w), 0);
    as_trace_reader_t *r;
    CU_ASSERT_EQUAL_FATAL(as_trace_reader_open(&r, path), 0);
    as_event_t e;
    CU_ASSERT_EQUAL(as_trace_reader_next(r, &e), 1);
    CU_ASSERT(e.kind == AS_EV_ALLOC && e.size == 0 && e.object == 0 &&
              e.t_ns == 5);
    CU_ASSERT_EQUAL(as_trace_reader_next(r, &e), 1);
    CU_ASSERT(e.size == 1ull << 63 && e.align == 1ull << 40 &&
              e.thread == 4000000000u && e.cpu == UINT32_MAX);
    CU_ASSERT_EQUAL(as_trace_reader_next(r, &e), 1);
    CU_ASSERT(e.kind == AS_EV_REALLOC && e.object == 1 && e.new_object == 2 &&
              e.size == UINT64_MAX && e.t_ns == UINT64_MAX && e.cpu == 0);
    CU_ASSERT_EQUAL(as_trace_reader_next(r, &e), 0);
    as_trace_reader_close(r);
    unlink(path);
}

/* temporaries: how many PATH.XXXXXX.tmp files exist beside path. */
static size_t temporaries(const char *path)
{
    char pat[700];
    glob_t g;
    snprintf(pat, sizeof pat, "%s.??????.tmp", path);
    if (glob(pat, 0, NULL, &g) != 0) return 0;
    size_t n = g.gl_pathc;
    globfree(&g);
    return n;
}

static void test_writer_rejects(void)
{
    char path[512];
    snprintf(path, sizeof path, "%s", tmp(".ast"));
    as_trace_writer_t *w;
    struct stat st;
    CU_ASSERT_EQUAL_FATAL(as_trace_writer_open(&w, path, NULL), 0);
    CU_ASSERT_EQUAL(temporaries(path), 1); /* writing goes to a temporary */
    CU_ASSERT_NOT_EQUAL(stat(path, &st), 0);
    as_event_t e = {.kind = AS_EV_ALLOC, .t_ns = 100, .size = 8};
    CU_ASSERT_EQUAL(as_trace_writer_event(w, &e), 0);
    e.t_ns = 99;
    CU_ASSERT_EQUAL(as_trace_writer_event(w, &e), AS_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(as_trace_writer_error(w), "backwards"));
    e.t_ns = 100;
    e.kind = 7;
    CU_ASSERT_EQUAL(as_trace_writer_event(w, &e), AS_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(as_trace_writer_error(w), "unknown kind"));
    e.kind = AS_EV_FREE;
    e.object = 1; /* only id 0 exists */
    CU_ASSERT_EQUAL(as_trace_writer_event(w, &e), AS_EINVAL);
    e.kind = AS_EV_ALLOC;
    e.stack = 3; /* not defined */
    CU_ASSERT_EQUAL(as_trace_writer_event(w, &e), AS_EINVAL);
    as_frame_t f = {1, 0, "", ""};
    CU_ASSERT_EQUAL(as_trace_writer_frame(w, 0, &f), AS_EINVAL);
    CU_ASSERT_EQUAL(as_trace_writer_frame(w, 1000000, &f), AS_EINVAL);
    as_trace_writer_abort(w);
    CU_ASSERT_EQUAL(temporaries(path), 0); /* abort removes the temporary */
    CU_ASSERT_NOT_EQUAL(stat(path, &st), 0);
}

/* ---------------------------------------------------- hand-built files */

static void test_wrong_version(void)
{
    uint8_t b[64];
    size_t n = as_test_put_trace_header(b, 4);
    as_trace_reader_t *r;
    CU_ASSERT_EQUAL(as_trace_reader_open_mem(&r, "v4.ast", b, n), AS_EVERSION);
    CU_ASSERT_PTR_NOT_NULL(strstr(as_trace_reader_error(r),
                                  "v4.ast: offset 8: expected format version "
                                  "1..3, found 4"));
    as_trace_reader_close(r);
    n = as_test_put_trace_header(b, 0);
    CU_ASSERT_EQUAL(as_trace_reader_open_mem(&r, "v0.ast", b, n), AS_EVERSION);
    as_trace_reader_close(r);
    /* version 1 with no chunks and no footer: opens, ends, truncated */
    n = as_test_put_trace_header(b, 1);
    CU_ASSERT_EQUAL_FATAL(as_trace_reader_open_mem(&r, "v1.ast", b, n), 0);
    as_event_t e;
    CU_ASSERT_EQUAL(as_trace_reader_next(r, &e), 0);
    CU_ASSERT_EQUAL(as_trace_reader_truncated(r), 1);
    as_trace_reader_close(r);
    /* not a trace at all */
    CU_ASSERT_EQUAL(as_trace_reader_open_mem(&r, "x",
                                             "hello world, this is "
                                             "text",
                                             25),
                    AS_EFORMAT);
    as_trace_reader_close(r);
}

/* Payload: alloc id 0 (size 8), then a free whose back-reference (1) names
 * id -1: an id never allocated. Columnar: 9 stream lengths (tag 2, back 1,
 * size 1, the others empty), then the tag, back and size streams. */
static void test_free_unallocated(void)
{
    uint8_t raw[] = {2,
                     0,
                     0,
                     0,
                     1,
                     1,
                     0,
                     0,
                     0,
                     AS_TAG_ALLOC | AS_TAG_ZERO_DT | AS_TAG_SAME_THREAD |
                         AS_TAG_SAME_CPU | AS_TAG_SAME_STACK,
                     AS_TAG_FREE | AS_TAG_ZERO_DT | AS_TAG_SAME_THREAD |
                         AS_TAG_SAME_CPU,
                     1,
                     8};
    as_chunk_header_t h = {0};
    h.events = 2;
    h.allocs = 1;
    h.first_t_ns = h.last_t_ns = 7;
    uint8_t *chunk = NULL;
    size_t cap = 0, len = 0;
    CU_ASSERT_EQUAL_FATAL(
        as_chunk_seal(NULL, 3, raw, sizeof raw, &h, &chunk, &cap, &len), 0);
    uint8_t file[512];
    size_t n = as_test_put_trace_header(file, 1);
    memcpy(file + n, chunk, len);
    as_trace_reader_t *r;
    CU_ASSERT_EQUAL_FATAL(
        as_trace_reader_open_mem(&r, "bad.ast", file, n + len), 0);
    as_event_t e;
    CU_ASSERT_EQUAL(as_trace_reader_next(r, &e), 1);
    CU_ASSERT(e.kind == AS_EV_ALLOC && e.object == 0 && e.size == 8 &&
              e.t_ns == 7);
    CU_ASSERT_EQUAL(as_trace_reader_next(r, &e), AS_EFORMAT);
    const char *msg = as_trace_reader_error(r);
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, "bad.ast: offset 28: chunk 0, record 1: "
                                       "expected a free of an id below 1"));
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, "id -1"));
    /* the error is sticky */
    CU_ASSERT_EQUAL(as_trace_reader_next(r, &e), AS_EFORMAT);
    as_trace_reader_close(r);
    free(chunk);
}

/* Read every event of file[0..n); @return the last reader result (0 at the
 * end, or the error) with the message in msg. */
static int read_all(const uint8_t *file, size_t n, as_event_t *evs, size_t cap,
                    size_t *got, char *msg, size_t msgcap)
{
    as_trace_reader_t *r;
    int rc = as_trace_reader_open_mem(&r, "bad.ast", file, n);
    *got = 0;
    while (rc == 0 && *got < cap) {
        if ((rc = as_trace_reader_next(r, &evs[*got])) != 1) break;
        (*got)++;
        rc = 0;
    }
    snprintf(msg, msgcap, "%s", as_trace_reader_error(r));
    as_trace_reader_close(r);
    return rc;
}

#define ALLOC_SAME                                                             \
    (AS_TAG_ALLOC | AS_TAG_ZERO_DT | AS_TAG_SAME_THREAD | AS_TAG_SAME_CPU |    \
     AS_TAG_SAME_STACK)

/* expect_bad: a one-chunk file of `version` over raw[0..n) (header
 * counts events/allocs, times t..t) reads `got` events, then fails with
 * AS_EFORMAT and a message containing `want`. */
static void expect_bad(uint32_t version, const uint8_t *raw, size_t n,
                       uint32_t events, uint32_t allocs, uint64_t t,
                       size_t want_got, const char *want)
{
    uint8_t file[512];
    char msg[400];
    as_event_t e[4];
    size_t got;
    size_t len =
        as_test_one_chunk_file(file, version, raw, n, events, allocs, t, t);
    CU_ASSERT_EQUAL(read_all(file, len, e, 4, &got, msg, sizeof msg),
                    AS_EFORMAT);
    CU_ASSERT_EQUAL(got, want_got);
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, want));
}

/* v2 by hand: an alloc with stack height 256 (height stream 80 02), one
 * with "same height", a sample; then samples and events out of time order,
 * unknown sample bits, bit 7 on a free or in a v1 file: each an error
 * naming the file, the chunk's offset and the record. */
static void test_v2_records(void)
{
    uint8_t file[512], msg[400];
    as_event_t e[4];
    size_t got;
    /* tag: alloc (height given), alloc (same height), sample;
     * size: 8, 9; definition: t=10 has=3 rss=4096 (80 20) huge=0; height */
    /* clang-format off */
    const uint8_t good[] = {3, 0, 0, 0, 0, 2, 0, 0, 5, 2,
                            ALLOC_SAME, ALLOC_SAME | AS_TAG_SAME_HEIGHT,
                            AS_TAG_SAMPLE, 8, 9, 10, 3, 0x80, 0x20, 0,
                            0x80, 0x02};
    /* clang-format on */
    size_t n = as_test_one_chunk_file(file, 2, good, sizeof good, 2, 2, 10, 10);
    as_trace_reader_t *r;
    CU_ASSERT_EQUAL_FATAL(as_trace_reader_open_mem(&r, "v2.ast", file, n), 0);
    CU_ASSERT_EQUAL(as_trace_reader_version(r), 2);
    as_trace_record_t rec;
    CU_ASSERT_EQUAL(as_trace_reader_next_record(r, &rec), 1);
    CU_ASSERT(rec.kind == AS_TRACE_REC_EVENT && rec.event.size == 8 &&
              rec.event.stack_height == 256);
    CU_ASSERT_EQUAL(as_trace_reader_next_record(r, &rec), 1);
    CU_ASSERT(rec.kind == AS_TRACE_REC_EVENT && rec.event.size == 9 &&
              rec.event.stack_height == 256 && rec.event.object == 1);
    CU_ASSERT_EQUAL(as_trace_reader_next_record(r, &rec), 1);
    CU_ASSERT_EQUAL(rec.kind, AS_TRACE_REC_SAMPLE);
    CU_ASSERT(rec.sample.t_ns == 10 && rec.sample.rss_bytes == 4096 &&
              rec.sample.anon_huge_bytes == 0 && rec.sample.has == 3 &&
              rec.sample.events_before == 2);
    CU_ASSERT_EQUAL(as_trace_reader_next_record(r, &rec), 0);
    as_trace_reader_close(r);

    /* clang-format off */
    enum { SH = AS_TAG_SAME_HEIGHT, SMP = AS_TAG_SAMPLE,
           FREE_SAME = AS_TAG_FREE | AS_TAG_ZERO_DT | AS_TAG_SAME_THREAD |
                       AS_TAG_SAME_CPU };
    /* unknown sample bits */
    const uint8_t bits[] = {1, 0, 0, 0, 0, 0, 0, 0, 2, 0, SMP, 5, 8};
    /* a mallinfo sample (bit 2) with 3 of its 10 fields */
    const uint8_t mi_short[] = {1, 0, 0, 0, 0, 0, 0, 0, 5, 0, SMP, 5, 4, 1, 2, 3};
    /* a sample before the event it follows */
    const uint8_t back[] = {2, 0, 0, 0, 0, 1, 0, 0, 3, 0,
                            ALLOC_SAME | SH, SMP, 8, 5, 1, 100};
    /* an event before the sample it follows */
    const uint8_t ahead[] = {2, 0, 0, 0, 0, 1, 0, 0, 3, 0,
                             SMP, ALLOC_SAME | SH, 8, 20, 1, 100};
    /* bit 7 on a free (v2) */
    const uint8_t fr[] = {2, 0, 0, 0, 1, 1, 0, 0, 0, 0,
                          ALLOC_SAME | SH, FREE_SAME | 0x80, 0, 8};
    /* v1: nine streams; bit 7 is reserved and there is no sample record */
    const uint8_t v1bit[] = {1, 0, 0, 0, 0, 1, 0, 0, 0, ALLOC_SAME | 0x80, 8};
    const uint8_t v1smp[] = {1, 0, 0, 0, 0, 0, 0, 0, 3, SMP, 5, 1, 100};
    /* clang-format on */
    expect_bad(2, bits, sizeof bits, 0, 0, 0, 0,
               "bad.ast: offset 28: chunk 0, record 0: expected sample field "
               "bits within 0x7, found 0x8");
    expect_bad(2, mi_short, sizeof mi_short, 0, 0, 0, 0,
               "bad.ast: offset 28: chunk 0, record 0: expected the sample's "
               "10 mallinfo fields, found the end of the definition stream");
    expect_bad(2, back, sizeof back, 1, 1, 10, 1,
               "bad.ast: offset 28: chunk 0, record 1: expected a sample at "
               "t >= 10 (the last event or sample before it), found t=5");
    expect_bad(2, ahead, sizeof ahead, 1, 1, 10, 0,
               "bad.ast: offset 28: chunk 0, record 1: expected an event at "
               "t >= 20 (the sample before it), found t=10");
    expect_bad(2, fr, sizeof fr, 2, 1, 10, 1,
               "record 1: expected tag bit 7 clear (a free has no stack "
               "height)");
    expect_bad(1, v1bit, sizeof v1bit, 1, 1, 10, 0,
               "record 0: expected tag bit 7 clear (reserved in format v1)");
    expect_bad(1, v1smp, sizeof v1smp, 0, 0, 0, 0,
               "record 0: expected a record tag (event, frame, stack, meta), "
               "found 0x10");
    /* the v1 layout of the good alloc reads with height 0 */
    const uint8_t v1ok[] = {1, 0, 0, 0, 0, 1, 0, 0, 0, ALLOC_SAME, 8};
    n = as_test_one_chunk_file(file, 1, v1ok, sizeof v1ok, 1, 1, 10, 10);
    CU_ASSERT_EQUAL(read_all(file, n, e, 4, &got, (char *)msg, sizeof msg), 0);
    CU_ASSERT(got == 1 && e[0].size == 8 && e[0].stack_height == 0);
}

/* The writer keeps samples and events in time order. */
static void test_writer_sample_order(void)
{
    char path[512];
    snprintf(path, sizeof path, "%s", tmp(".ast"));
    as_trace_writer_t *w;
    CU_ASSERT_EQUAL_FATAL(as_trace_writer_open(&w, path, NULL), 0);
    as_event_t e = {.kind = AS_EV_ALLOC, .t_ns = 100, .size = 8};
    CU_ASSERT_EQUAL(as_trace_writer_event(w, &e), 0);
    as_mem_sample_t m = {.t_ns = 99, .has = AS_SAMPLE_HAS_RSS};
    CU_ASSERT_EQUAL(as_trace_writer_sample(w, &m), AS_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(as_trace_writer_error(w), "before the last"));
    m.t_ns = 200;
    m.has = 8;
    CU_ASSERT_EQUAL(as_trace_writer_sample(w, &m), AS_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(as_trace_writer_error(w), "unknown fields"));
    m.has = AS_SAMPLE_HAS_RSS;
    CU_ASSERT_EQUAL(as_trace_writer_sample(w, &m), 0);
    e.t_ns = 150; /* after the last event, before the sample */
    CU_ASSERT_EQUAL(as_trace_writer_event(w, &e), AS_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(as_trace_writer_error(w), "backwards"));
    e.t_ns = 200;
    CU_ASSERT_EQUAL(as_trace_writer_event(w, &e), 0);
    as_trace_writer_abort(w);
}

/* A fixture written as byte literals: header (meta "k"="v"), one chunk
 * with a frame, a stack and the events
 *   alloc t=10 th=1 cpu=2 size=16 stack=1 -> id 0
 *   alloc t=10 th=1 cpu=2 size=32 align=64 stack=1 -> id 1
 *   free  t=15 th=0 cpu=3 id 0
 *   realloc t=20 th=0 cpu=3 id 1 -> id 2 size=100 stack 0
 * and the footer. Produced once with the writer and dumped with xxd. */
#include "tests/unit/trace_fixture_v1.inc"

static void test_fixture(void)
{
    as_trace_reader_t *r;
    CU_ASSERT_EQUAL_FATAL(
        as_trace_reader_open_mem(&r, "fixture", fixture_v1, sizeof fixture_v1),
        0);
    CU_ASSERT_EQUAL(as_trace_reader_has_index(r), 1);
    CU_ASSERT_EQUAL(as_trace_reader_version(r), 1); /* an old file */
    CU_ASSERT_STRING_EQUAL(as_trace_reader_meta(r, "k"), "v");
    as_event_t e[8];
    CU_ASSERT_EQUAL_FATAL(as_trace_reader_next_batch(r, e, 8), 4);
    CU_ASSERT(e[0].kind == AS_EV_ALLOC && e[0].t_ns == 10 && e[0].thread == 1 &&
              e[0].cpu == 2 && e[0].object == 0 && e[0].size == 16 &&
              e[0].align == 0 && e[0].stack == 1);
    CU_ASSERT(e[1].kind == AS_EV_ALLOC && e[1].t_ns == 10 && e[1].thread == 1 &&
              e[1].cpu == 2 && e[1].object == 1 && e[1].size == 32 &&
              e[1].align == 64 && e[1].stack == 1);
    CU_ASSERT(e[2].kind == AS_EV_FREE && e[2].t_ns == 15 && e[2].thread == 0 &&
              e[2].cpu == 3 && e[2].object == 0);
    CU_ASSERT(e[3].kind == AS_EV_REALLOC && e[3].t_ns == 20 &&
              e[3].object == 1 && e[3].new_object == 2 && e[3].size == 100 &&
              e[3].stack == 0);
    CU_ASSERT_EQUAL(as_trace_reader_next_batch(r, e, 8), 0);
    for (int k = 0; k < 4; k++) /* v1 has no stack heights, no samples */
        CU_ASSERT_EQUAL(e[k].stack_height, 0);
    size_t ns;
    as_trace_reader_samples(r, &ns);
    CU_ASSERT_EQUAL(ns, 0);
    as_frame_t f;
    CU_ASSERT_EQUAL(as_trace_reader_frame(r, 1, &f), 0);
    CU_ASSERT(f.pc == 0x4005d0 && f.offset == 0x5d0);
    CU_ASSERT_STRING_EQUAL(f.module, "/bin/a b");
    CU_ASSERT_STRING_EQUAL(f.symbol, "main");
    const uint32_t *fr;
    uint32_t d;
    CU_ASSERT_EQUAL(as_trace_reader_stack(r, 1, &fr, &d), 0);
    CU_ASSERT(d == 1 && fr[0] == 1);
    const as_trace_chunk_info_t *c = as_trace_reader_chunks(r);
    CU_ASSERT_EQUAL_FATAL(as_trace_reader_chunk_count(r), 1);
    CU_ASSERT(c[0].offset == 38 && c[0].events == 4 && c[0].first_object == 0 &&
              c[0].first_t_ns == 10 && c[0].last_t_ns == 20);
    as_trace_reader_close(r);
}

/* A small multi-chunk trace in memory, for truncation and flips. */
static uint8_t *small_trace(size_t *len, size_t *nev, as_event_t **evs_out)
{
    char path[512];
    snprintf(path, sizeof path, "%s", tmp(".ast"));
    gen_t g;
    rng_state = 12345;
    gen_trace(path, 60, 16, &g);
    uint8_t *b = as_test_slurp(path, len);
    unlink(path);
    *nev = g.n;
    *evs_out = g.ev;
    free(g.smp);
    return b;
}

/* Cut the file at every byte: the header cut -> ETRUNCATED; otherwise every
 * whole chunk before the cut is replayed, then 0 with the truncated flag. */
static void test_truncation(void)
{
    size_t len, nev;
    as_event_t *evs;
    uint8_t *b = small_trace(&len, &nev, &evs);
    as_trace_reader_t *r;
    CU_ASSERT_EQUAL_FATAL(as_trace_reader_open_mem(&r, "t", b, len), 0);
    size_t nch = as_trace_reader_chunk_count(r);
    CU_ASSERT_EQUAL_FATAL(nch, 4); /* 60 events / 16 per chunk */
    as_trace_chunk_info_t ch[8];
    memcpy(ch, as_trace_reader_chunks(r), nch * sizeof ch[0]);
    as_trace_reader_close(r);
    size_t failures = 0;
    for (size_t cut = 0; cut < len; cut++) {
        uint8_t *c = malloc(cut ? cut : 1);
        memcpy(c, b, cut);
        int rc = as_trace_reader_open_mem(&r, "cut.ast", c, cut);
        if (cut < ch[0].offset) {
            if (rc != AS_ETRUNCATED) failures++;
            as_trace_reader_close(r);
            free(c);
            continue;
        }
        if (rc != 0) {
            failures++;
            as_trace_reader_close(r);
            free(c);
            continue;
        }
        size_t whole = 0; /* whole chunks inside the cut */
        uint64_t expect = 0;
        for (size_t k = 0; k < nch; k++)
            if (ch[k].offset + ch[k].bytes <= cut) {
                whole++;
                expect += ch[k].events;
            }
        as_event_t e;
        size_t i = 0;
        int bad = 0;
        while ((rc = as_trace_reader_next(r, &e)) == 1)
            if (i >= nev || !ev_eq(&e, &evs[i++])) bad = 1;
        if (rc != 0 || bad || i != expect ||
            as_trace_reader_truncated(r) != 1 ||
            as_trace_reader_chunk_count(r) != whole)
            failures++;
        if (cut == ch[1].offset + 5 &&
            !strstr(as_trace_reader_error(r), "cut.ast: offset "))
            failures++;
        as_trace_reader_close(r);
        free(c);
    }
    CU_ASSERT_EQUAL(failures, 0);
    /* the message names the offset of the partial chunk */
    uint8_t *c = malloc(len);
    memcpy(c, b, len);
    size_t cut = ch[2].offset + 60;
    CU_ASSERT_EQUAL_FATAL(as_trace_reader_open_mem(&r, "cut.ast", c, cut), 0);
    as_event_t e;
    while (as_trace_reader_next(r, &e) == 1) {
    }
    char want[128];
    snprintf(want, sizeof want, "cut.ast: offset %llu: expected a chunk of",
             (unsigned long long)ch[2].offset);
    CU_ASSERT_PTR_NOT_NULL(strstr(as_trace_reader_error(r), want));
    as_trace_reader_close(r);
    free(c);
    free(evs);
    free(b);
}

/* Flip one bit at many positions: an error, or (flips in the footer) an
 * identical decode reported as truncated; never a wrong event. */
static void test_bit_flips(void)
{
    size_t len, nev;
    as_event_t *evs;
    uint8_t *b = small_trace(&len, &nev, &evs);
    uint8_t *c = malloc(len);
    size_t wrong = 0, errors = 0, clean = 0;
    for (size_t pos = 0; pos < len; pos++) {
        for (int bit = 0; bit < 8; bit += 3) {
            memcpy(c, b, len);
            c[pos] ^= (uint8_t)(1u << bit);
            as_trace_reader_t *r;
            int rc = as_trace_reader_open_mem(&r, "flip", c, len);
            if (rc == 0) {
                as_event_t e;
                size_t i = 0;
                while ((rc = as_trace_reader_next(r, &e)) == 1)
                    if (i >= nev || !ev_eq(&e, &evs[i++])) wrong++;
                if (rc == 0 && i != nev) wrong++;
            }
            if (rc < 0) {
                errors++;
                if (!strstr(as_trace_reader_error(r), "flip: offset ")) wrong++;
            } else {
                clean++;
            }
            as_trace_reader_close(r);
        }
    }
    CU_ASSERT_EQUAL(wrong, 0);
    CU_ASSERT(errors > len); /* most flips are caught */
    free(c);
    free(evs);
    free(b);
}

/* fd mode: every sealed chunk is on disk before close; the prefix reads. */
static void test_fd_mode(void)
{
    char path[512];
    snprintf(path, sizeof path, "%s", tmp(".ast"));
    FILE *f = fopen(path, "wb");
    as_trace_writer_t *w;
    as_trace_writer_opts_t o = {4, 0, 0};
    CU_ASSERT_EQUAL_FATAL(as_trace_writer_open_fd(&w, fileno(f), &o), 0);
    for (int i = 0; i < 10; i++) {
        as_event_t e = {.kind = AS_EV_ALLOC, .t_ns = (uint64_t)i, .size = 8};
        CU_ASSERT_EQUAL(as_trace_writer_event(w, &e), 0);
    }
    /* 2 chunks of 4 written, 2 events pending: a killed recorder's file */
    as_trace_reader_t *r;
    CU_ASSERT_EQUAL_FATAL(as_trace_reader_open(&r, path), 0);
    as_event_t e;
    int n = 0;
    while (as_trace_reader_next(r, &e) == 1)
        n++;
    CU_ASSERT_EQUAL(n, 8);
    CU_ASSERT_EQUAL(as_trace_reader_truncated(r), 1);
    as_trace_reader_close(r);
    CU_ASSERT_EQUAL(as_trace_writer_close(w), 0);
    fclose(f);
    CU_ASSERT_EQUAL_FATAL(as_trace_reader_open(&r, path), 0);
    n = 0;
    while (as_trace_reader_next(r, &e) == 1)
        n++;
    CU_ASSERT_EQUAL(n, 10);
    CU_ASSERT_EQUAL(as_trace_reader_truncated(r), 0);
    CU_ASSERT_EQUAL(as_trace_reader_chunk_count(r), 3);
    as_trace_reader_close(r);
    unlink(path);
}

/* A write failure surfacing only at close (a full device) is reported with
 * the writer's message, not just a code: /dev/full fails every write. */
static void test_close_error_message(void)
{
    int fd = open("/dev/full", O_WRONLY);
    if (fd < 0) {
        CU_PASS("no /dev/full here");
        return;
    }
    as_trace_writer_t *w = NULL;
    CU_ASSERT_EQUAL_FATAL(as_trace_writer_open_fd(&w, fd, NULL), 0);
    as_event_t e = {.kind = AS_EV_ALLOC, .t_ns = 1, .size = 8};
    int rc = as_trace_writer_event(w, &e);
    char err[512] = "";
    int rc2 = as_trace_writer_close_err(w, err, sizeof err);
    CU_ASSERT(rc != 0 || rc2 != 0);
    if (rc == 0) {
        CU_ASSERT_EQUAL(rc2, AS_EIO);
        CU_ASSERT(strlen(err) > 0);
        CU_ASSERT_PTR_NOT_NULL(strstr(err, "No space"));
    }
    close(fd);
}

int main(void)
{
    static const as_test_t tests[] = {
        {"varint", test_varint},
        {"hash_vector", test_hash_vector},
        {"roundtrip", test_roundtrip},
        {"extreme_sizes", test_extreme_sizes},
        {"writer_rejects", test_writer_rejects},
        {"wrong_version", test_wrong_version},
        {"free_unallocated", test_free_unallocated},
        {"fixture", test_fixture},
        {"v2_records", test_v2_records},
        {"writer_sample_order", test_writer_sample_order},
        {"truncation", test_truncation},
        {"bit_flips", test_bit_flips},
        {"fd_mode", test_fd_mode},
        {"close_error_message", test_close_error_message},
        {NULL, NULL},
    };
    return as_test_main("traces_format", tests);
}

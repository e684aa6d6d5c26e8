/* test_traces_import.c - the heaptrack and mtrace importers on hand-written
 * files (tests/data/), asserted event by event, and their errors.
 *
 * The expected times follow docs/importers.md: the n events between
 * heaptrack ticks Ta and Tb get Ta + (j+1)(Tb-Ta)/(n+1); mtrace event i
 * gets t = i. Dropped frees (unknown pointers, empty pairs) still take their
 * slot in the spread, so later times are what the file's order implies.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/error.h"
#include "tests/unit/testutil.h"
#include "traces/import/import.h"
#include "traces/import/ptrmap.h"
#include "traces/trace.h"

#define MAXEV 64

static as_event_t ev[MAXEV];
static size_t nev;
static as_trace_reader_t *rd;
static char err[1024];

/* import: run format `fmt` on tests/data/`rel` into a temp trace and load
 * its events. @return the importer's code. */
static int import(const char *fmt, const char *path, int lifo)
{
    const char *out = as_test_tmpfile("imp", ".ast");
    char outp[512];
    snprintf(outp, sizeof outp, "%s", out);
    as_trace_writer_t *w;
    if (as_trace_writer_open(&w, outp, NULL) != 0) return -100;
    as_import_opts_t o;
    memset(&o, 0, sizeof o);
    o.match_lifo = lifo;
    err[0] = 0;
    int rc = as_import_find(fmt)->run(path, w, &o, err, sizeof err);
    if (rc) {
        as_trace_writer_abort(w);
        if (access(outp, F_OK) == 0) return -101; /* left an output */
        return rc;
    }
    if (as_trace_writer_close(w) != 0) return -102;
    if (rd) as_trace_reader_close(rd);
    rd = NULL;
    nev = 0;
    if (as_trace_reader_open(&rd, outp) != 0) return -103;
    int k;
    while ((k = as_trace_reader_next(rd, &ev[nev])) == 1 && nev + 1 < MAXEV)
        nev++;
    remove(outp);
    return k < 0 ? k : 0;
}

static void expect(size_t i, int kind, uint64_t t, uint64_t obj, uint64_t size,
                   uint32_t stack)
{
    CU_ASSERT_FATAL(i < nev);
    CU_ASSERT_EQUAL(ev[i].kind, kind);
    CU_ASSERT_EQUAL(ev[i].t_ns, t);
    CU_ASSERT_EQUAL(ev[i].object, obj);
    CU_ASSERT_EQUAL(ev[i].thread, 0);
    CU_ASSERT_EQUAL(ev[i].cpu, 0);
    if (kind != AS_EV_FREE) {
        CU_ASSERT_EQUAL(ev[i].size, size);
        CU_ASSERT_EQUAL(ev[i].stack, stack);
        CU_ASSERT_EQUAL(ev[i].align, 0);
    }
}

static void expect_frame(uint32_t stack, uint32_t k, uint64_t pc,
                         uint64_t offset, const char *module,
                         const char *symbol)
{
    const uint32_t *ids;
    uint32_t depth;
    CU_ASSERT_FATAL(as_trace_reader_stack(rd, stack, &ids, &depth) == 0);
    CU_ASSERT_FATAL(k < depth);
    as_frame_t f;
    CU_ASSERT_FATAL(as_trace_reader_frame(rd, ids[k], &f) == 0);
    CU_ASSERT_EQUAL(f.pc, pc);
    CU_ASSERT_EQUAL(f.offset, offset);
    CU_ASSERT_STRING_EQUAL(f.module, module);
    CU_ASSERT_STRING_EQUAL(f.symbol, symbol);
}

static uint32_t depth_of(uint32_t stack)
{
    const uint32_t *ids;
    uint32_t depth = 0;
    as_trace_reader_stack(rd, stack, &ids, &depth);
    return depth;
}

/* Raw: exact pointer matching. Ticks at 10 and 20 ms; 2 events before the
 * first tick (t = 10/3, 20/3 ms), 4 between (12, 14, [16: the unknown
 * pointer 0x1234, dropped], 18 ms), 1 after (20 + 10/2 ms). */
static void check_raw(const char *rel)
{
    CU_ASSERT_EQUAL_FATAL(import("heaptrack", as_test_srcpath(rel), 0), 0);
    CU_ASSERT_EQUAL_FATAL(nev, 6);
    expect(0, AS_EV_ALLOC, 3333333, 0, 100, 1);
    expect(1, AS_EV_ALLOC, 6666666, 1, 200, 2);
    expect(2, AS_EV_FREE, 12000000, 0, 0, 0);
    expect(3, AS_EV_ALLOC, 14000000, 2, 16, 1); /* address a000 reused */
    expect(4, AS_EV_FREE, 18000000, 1, 0, 0);
    expect(5, AS_EV_ALLOC, 25000000, 3, 32, 3);
    /* stacks: node 2 = [401200, 401100], node 3 = [7f..123, 401200,
     * 401100], node 1 = [401100]; offsets from the module map, "x" is the
     * executable named by the 'x' record */
    CU_ASSERT_EQUAL(depth_of(1), 2);
    CU_ASSERT_EQUAL(depth_of(2), 3);
    CU_ASSERT_EQUAL(depth_of(3), 1);
    expect_frame(1, 0, 0x401200, 0x1200, "/bin/app", "");
    expect_frame(1, 1, 0x401100, 0x1100, "/bin/app", "");
    expect_frame(2, 0, 0x7f0000000123ull, 0x123, "/lib/libfoo.so", "");
    expect_frame(2, 1, 0x401200, 0x1200, "/bin/app", "");
    expect_frame(3, 0, 0x401100, 0x1100, "/bin/app", "");
    CU_ASSERT_STRING_EQUAL(as_trace_reader_meta(rd, "program"), "/bin/app");
    CU_ASSERT_STRING_EQUAL(as_trace_reader_meta(rd, "arguments"),
                           "/bin/app --flag");
    CU_ASSERT_STRING_EQUAL(as_trace_reader_meta(rd, "page_size"), "4096");
    CU_ASSERT_STRING_EQUAL(as_trace_reader_meta(rd, "heaptrack.version"),
                           "1.4.0");
    CU_ASSERT_STRING_EQUAL(as_trace_reader_meta(rd, "heaptrack.match"),
                           "pointer");
    CU_ASSERT_STRING_EQUAL(as_trace_reader_meta(rd, "import.unmatched_frees"),
                           "1");
    /* 'R 10' after the ticks at 10 and 30 ms: 16 pages of 4096 bytes each,
     * after the 2 and the 6 events flushed by those ticks */
    size_t ns;
    const as_mem_sample_t *m = as_trace_reader_samples(rd, &ns);
    CU_ASSERT_EQUAL_FATAL(ns, 2);
    CU_ASSERT(m[0].t_ns == 10000000 && m[0].rss_bytes == 65536 &&
              m[0].has == AS_SAMPLE_HAS_RSS && m[0].events_before == 2);
    CU_ASSERT(m[1].t_ns == 30000000 && m[1].rss_bytes == 65536 &&
              m[1].has == AS_SAMPLE_HAS_RSS && m[1].events_before == 6);
}

static void test_heaptrack_raw(void)
{
    check_raw("tests/data/heaptrack_raw.txt");
}

static void test_heaptrack_raw_zstd(void)
{
    check_raw("tests/data/heaptrack_raw.txt.zst");
}

/* Interpreted: pairs a0 = (64, trace 2), a1 = (64, trace 3). Before 10 ms:
 * + a0, + a0, + a1, + a0 (objects 0..3 at 2, 4, 6, 8 ms). 10..20 ms: - a0,
 * - a1, - a0, + a1 (12, 14, 16, 18 ms; object 4). After 20 ms: - a0, - a1,
 * - a1 (the last finds no live object: dropped) at 22.5, 25, [27.5] ms.
 * FIFO frees a0's objects in order 0, 1, 3; LIFO in order 3, 1, 0. */
static void check_interp(const char *rel, int lifo)
{
    CU_ASSERT_EQUAL_FATAL(import("heaptrack", as_test_srcpath(rel), lifo), 0);
    CU_ASSERT_EQUAL_FATAL(nev, 10);
    expect(0, AS_EV_ALLOC, 2000000, 0, 64, 1);
    expect(1, AS_EV_ALLOC, 4000000, 1, 64, 1);
    expect(2, AS_EV_ALLOC, 6000000, 2, 64, 2);
    expect(3, AS_EV_ALLOC, 8000000, 3, 64, 1);
    expect(4, AS_EV_FREE, 12000000, lifo ? 3 : 0, 0, 0);
    expect(5, AS_EV_FREE, 14000000, 2, 0, 0);
    expect(6, AS_EV_FREE, 16000000, 1, 0, 0);
    expect(7, AS_EV_ALLOC, 18000000, 4, 64, 2);
    expect(8, AS_EV_FREE, 22500000, lifo ? 0 : 3, 0, 0);
    expect(9, AS_EV_FREE, 25000000, 4, 0, 0);
    /* symbols and modules from the string table; no offsets */
    CU_ASSERT_EQUAL(depth_of(1), 2);
    CU_ASSERT_EQUAL(depth_of(2), 3);
    expect_frame(1, 0, 0x401200, 0, "/bin/app", "work");
    expect_frame(1, 1, 0x401100, 0, "/bin/app", "main");
    expect_frame(2, 0, 0x7f0000000123ull, 0, "/lib/libfoo.so", "");
    expect_frame(2, 2, 0x401100, 0, "/bin/app", "main");
    CU_ASSERT_STRING_EQUAL(as_trace_reader_meta(rd, "heaptrack.match"),
                           lifo ? "lifo" : "fifo");
    CU_ASSERT_STRING_EQUAL(as_trace_reader_meta(rd, "import.unmatched_frees"),
                           "1");
    CU_ASSERT_STRING_EQUAL(as_trace_reader_meta(rd, "source"), "heaptrack");
}

static void test_heaptrack_interp_fifo(void)
{
    check_interp("tests/data/heaptrack_interp.txt", 0);
}

static void test_heaptrack_interp_lifo(void)
{
    check_interp("tests/data/heaptrack_interp.txt", 1);
}

static void test_heaptrack_interp_gzip(void)
{
    check_interp("tests/data/heaptrack_interp.txt.gz", 0);
}

/* mtrace: t = event number; realloc from '<' + '>'; '!' changes nothing;
 * the free of 0x9999 is dropped and counted. */
static void test_mtrace(void)
{
    CU_ASSERT_EQUAL_FATAL(
        import("mtrace", as_test_srcpath("tests/data/mtrace.txt"), 0), 0);
    CU_ASSERT_EQUAL_FATAL(nev, 7);
    expect(0, AS_EV_ALLOC, 0, 0, 100, 1);
    expect(1, AS_EV_ALLOC, 1, 1, 200, 2);
    expect(2, AS_EV_REALLOC, 2, 0, 400, 1);
    CU_ASSERT_EQUAL(ev[2].new_object, 2);
    expect(3, AS_EV_FREE, 3, 1, 0, 0);
    expect(4, AS_EV_ALLOC, 4, 3, 8, 0); /* no caller: no stack */
    expect(5, AS_EV_FREE, 5, 2, 0, 0);
    expect(6, AS_EV_FREE, 6, 3, 0, 0);
    expect_frame(1, 0, 0x401210, 0, "/bin/app", "work");
    expect_frame(2, 0, 0x1220, 0x1220, "/bin/app", "");
    expect_frame(3, 0, 0x7f0000000123ull, 0, "", "");
    CU_ASSERT_STRING_EQUAL(as_trace_reader_meta(rd, "import.unmatched_frees"),
                           "1");
}

/* ----------------------------------------------------------- bad input */

static const char *write_tmp(const char *text)
{
    static char path[512];
    snprintf(path, sizeof path, "%s", as_test_tmpfile("imp-bad", ".txt"));
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
    return path;
}

/* import_str: import `text` (written to a temporary file, removed after). */
static int import_str(const char *fmt, const char *text, int lifo)
{
    char path[512];
    snprintf(path, sizeof path, "%s", write_tmp(text));
    int rc = import(fmt, path, lifo);
    remove(path);
    return rc;
}

static void expect_error(const char *fmt, const char *text, int code, int line,
                         const char *what)
{
    const char *path = write_tmp(text);
    char want[1024];
    snprintf(want, sizeof want, "%s:%d: expected %s", path, line, what);
    CU_ASSERT_EQUAL(import(fmt, path, 0), code);
    CU_ASSERT_STRING_EQUAL(err, want);
    remove(path);
}

static void test_malformed_lines(void)
{
    expect_error("heaptrack", "v 10400 3\nm 1 -\n+ 64 zz a000\n", AS_EFORMAT, 3,
                 "'+' size, trace index and pointer in hex");
    expect_error("heaptrack", "v 10400 3\nm 1 -\nt 401100 5\n", AS_EFORMAT, 3,
                 "a parent index in 0..0, found 5");
    expect_error("heaptrack", "v 10400 3\ns 4 main\n+ 3\n", AS_EFORMAT, 3,
                 "an allocation index in 0..0, found 3");
    expect_error("heaptrack", "v 10400 3\nc 14\nc a\n", AS_EFORMAT, 3,
                 "a time tick >= the previous one (20 ms)");
    expect_error("heaptrack", "v 10400 3\nQ 1\n", AS_EFORMAT, 2,
                 "a heaptrack record (v x X I m t + - c R s i a #), found 'Q'");
    expect_error("mtrace", "= Start\n@ /bin/app:[0x1220] + 0x2000\n",
                 AS_EFORMAT, 2, "'+ 0xPTR 0xSIZE'");
    expect_error("mtrace", "< 0x10\n+ 0x20 0x8\n", AS_EFORMAT, 2,
                 "'>' (the new block) after the realloc's '<'");
    expect_error("mtrace", "+ 0x10 0x8\n< 0x10\n", AS_EFORMAT, 2,
                 "'>' after the last '<' (file ends inside a realloc)");
}

/* A compressed file cut short is an error, not a shorter trace. */
static void test_truncated_compressed(void)
{
    const char *src[] = {"tests/data/heaptrack_raw.txt.zst",
                         "tests/data/heaptrack_interp.txt.gz"};
    for (int i = 0; i < 2; i++) {
        FILE *f = fopen(as_test_srcpath(src[i]), "rb");
        CU_ASSERT_FATAL(f != NULL);
        unsigned char buf[4096];
        size_t n = fread(buf, 1, sizeof buf, f);
        fclose(f);
        char path[512];
        snprintf(path, sizeof path, "%s",
                 as_test_tmpfile("imp-cut", i ? ".gz" : ".zst"));
        f = fopen(path, "wb");
        fwrite(buf, 1, n - 20, f);
        fclose(f);
        /* zstd: the frame is open at the end of the file; gzip: the
         * decoded text stops inside a line (gzip -dc also fails) */
        CU_ASSERT_EQUAL(import("heaptrack", path, 0),
                        i ? AS_ETRUNCATED : AS_ECORRUPT);
        CU_ASSERT(strstr(err, path) == err);
        remove(path);
    }
}

/* ------------------------------------------------- hostile input (issue 16) */

/* The raw fixture's header: a module map and trace node 1 = [401100]. */
#define HT_HEAD                                                                \
    "v 10400 3\nX /bin/app\nI 1000 3e8\nm 1 x 400000 0 1000 1000 2000\nt "     \
    "401100 0\n"

/* free(NULL) is a no-op: "- 0" (heaptrack) and "- 0x0" / "- (nil)" (mtrace)
 * free nothing, are not counted as unmatched, and never free a live object.
 * Times: 3 heaptrack ops without a tick share 0..10 ms: 2.5, [5], 7.5 ms. */
static void test_free_null_is_noop(void)
{
    CU_ASSERT_EQUAL_FATAL(
        import_str("heaptrack", HT_HEAD "+ 10 1 a000\n- 0\n- a000\n", 0), 0);
    CU_ASSERT_EQUAL_FATAL(nev, 2);
    expect(0, AS_EV_ALLOC, 2500000, 0, 16, 1);
    expect(1, AS_EV_FREE, 7500000, 0, 0, 0);
    CU_ASSERT_STRING_EQUAL(as_trace_reader_meta(rd, "import.unmatched_frees"),
                           "0");
    const char *mt[] = {"+ 0x1000 0x10\n- 0x0\n- 0x1000\n",
                        "+ 0x1000 0x10\n- (nil)\n- 0x1000\n"};
    for (int i = 0; i < 2; i++) {
        CU_ASSERT_EQUAL_FATAL(import_str("mtrace", mt[i], 0), 0);
        CU_ASSERT_EQUAL_FATAL(nev, 2);
        expect(0, AS_EV_ALLOC, 0, 0, 16, 0);
        expect(1, AS_EV_FREE, 1, 0, 0, 0);
        CU_ASSERT_STRING_EQUAL(
            as_trace_reader_meta(rd, "import.unmatched_frees"), "0");
    }
    /* an allocation at pointer 0 is a failed malloc: not imported, counted */
    CU_ASSERT_EQUAL_FATAL(
        import_str("heaptrack", HT_HEAD "+ 10 1 0\n+ 20 1 b000\n", 0), 0);
    CU_ASSERT_EQUAL_FATAL(nev, 1);
    expect(0, AS_EV_ALLOC, 2 * 10000000 / 3, 0, 32, 1);
    CU_ASSERT_STRING_EQUAL(as_trace_reader_meta(rd, "import.null_allocs"), "1");
    CU_ASSERT_EQUAL_FATAL(import_str("mtrace", "+ (nil) 0x10\n+ 0x20 0x8\n", 0),
                          0);
    CU_ASSERT_EQUAL_FATAL(nev, 1);
    expect(0, AS_EV_ALLOC, 0, 0, 8, 0);
    CU_ASSERT_STRING_EQUAL(as_trace_reader_meta(rd, "import.null_allocs"), "1");
}

/* The libFuzzer input that took 540 MB (a free of pointer 0 underflowed the
 * live map's count, and every later insert doubled the table): 100 rounds
 * of "- 0", "- 0", "+ 10 1 ADDR" now give 100 allocations and nothing
 * else. */
static void test_free_null_many(void)
{
    CU_ASSERT_EQUAL_FATAL(
        import("heaptrack",
               as_test_srcpath("tests/data/hostile/ht_free_null_many.txt"), 0),
        0);
    CU_ASSERT_EQUAL(nev, MAXEV - 1); /* import() keeps the first 63 */
    uint64_t allocs = 0, others = 0;
    as_trace_reader_rewind(rd);
    as_event_t e;
    while (as_trace_reader_next(rd, &e) == 1) {
        allocs += e.kind == AS_EV_ALLOC;
        others += e.kind != AS_EV_ALLOC;
    }
    CU_ASSERT_EQUAL(allocs, 100);
    CU_ASSERT_EQUAL(others, 0);
    /* stream metadata is known once the whole trace is read */
    const char *u = as_trace_reader_meta(rd, "import.unmatched_frees");
    CU_ASSERT(u && strcmp(u, "0") == 0);
}

/* The pointer map keeps key 0 beside the table: put, get, del and the
 * count behave for it exactly as for any other key. */
static void test_ptrmap_key0(void)
{
    as_ptrmap_t m = {0};
    uint64_t v = 99;
    CU_ASSERT_EQUAL(as_ptrmap_get(&m, 0, &v), 0);
    CU_ASSERT_EQUAL(as_ptrmap_del(&m, 0, &v), 0);
    CU_ASSERT_EQUAL(m.n, 0);
    CU_ASSERT_EQUAL(as_ptrmap_put(&m, 0, 7), 0);
    CU_ASSERT_EQUAL(as_ptrmap_put(&m, 0xa000, 8), 0);
    CU_ASSERT_EQUAL(m.n, 2);
    CU_ASSERT_EQUAL(as_ptrmap_put(&m, 0, 9), 1); /* replaced */
    CU_ASSERT_EQUAL(m.n, 2);
    CU_ASSERT_EQUAL(as_ptrmap_get(&m, 0, &v), 1);
    CU_ASSERT_EQUAL(v, 9);
    CU_ASSERT_EQUAL(as_ptrmap_del(&m, 0, &v), 1);
    CU_ASSERT_EQUAL(v, 9);
    CU_ASSERT_EQUAL(m.n, 1);
    /* deleting an absent 0 again must not find an empty slot's stale value */
    v = 99;
    CU_ASSERT_EQUAL(as_ptrmap_del(&m, 0, &v), 0);
    CU_ASSERT_EQUAL(v, 99);
    CU_ASSERT_EQUAL(m.n, 1);
    CU_ASSERT_EQUAL(as_ptrmap_get(&m, 0xa000, &v), 1);
    CU_ASSERT_EQUAL(v, 8);
    CU_ASSERT_EQUAL(as_ptrmap_del(&m, 0xa000, NULL), 1);
    CU_ASSERT_EQUAL(m.n, 0);
    size_t cap = m.cap;
    for (int i = 0; i < 10000; i++) { /* churn never grows the table */
        CU_ASSERT_EQUAL(as_ptrmap_del(&m, 0, NULL), 0);
        CU_ASSERT_EQUAL(as_ptrmap_put(&m, 0x1000, 1), 0);
        CU_ASSERT_EQUAL(as_ptrmap_del(&m, 0x1000, NULL), 1);
    }
    CU_ASSERT_EQUAL(m.n, 0);
    CU_ASSERT_EQUAL(m.cap, cap);
    as_ptrmap_free(&m);
}

/* Dense keys (pcs one byte apart, objects 16 bytes apart, pages, 1 MiB
 * strides) spread over the table: 40,000 keys in 131,072 slots (load
 * 0.31) stay within a few slots of home. Linear probing at this load gives
 * a mean displacement of about 0.2 slots; the former home, which kept a
 * key's page in a 256-slot window, put 4096 one-byte-apart pcs in one
 * window (mean displacement in the thousands). */
static void test_ptrmap_dense_keys_spread(void)
{
    const uint64_t strides[] = {1, 16, 64, 4096, 1u << 20};
    for (size_t s = 0; s < sizeof strides / sizeof *strides; s++) {
        as_ptrmap_t m = {0};
        const uint64_t n = 40000;
        for (uint64_t i = 0; i < n; i++)
            CU_ASSERT_EQUAL_FATAL(
                as_ptrmap_put(&m, 0x401000 + i * strides[s], i), 0);
        CU_ASSERT_EQUAL(m.cap, 131072);
        uint64_t total;
        size_t worst = as_ptrmap_max_probe(&m, &total);
        CU_ASSERT(worst <= 32);
        CU_ASSERT(total <= n / 2); /* mean displacement <= 0.5 slot */
        for (uint64_t i = 0; i < n; i += 997) {
            uint64_t v;
            CU_ASSERT(as_ptrmap_get(&m, 0x401000 + i * strides[s], &v) == 1 &&
                      v == i);
        }
        as_ptrmap_free(&m);
    }
}

/* A file with 40,000 trace nodes on consecutive pcs (the reproducer that
 * took 35 s) imports: every node is one more frame. */
static void test_heaptrack_dense_pcs(void)
{
    const char *path = as_test_tmpfile("imp-dense", ".txt");
    FILE *f = fopen(path, "w");
    CU_ASSERT_FATAL(f != NULL);
    fputs("v 10400 3\nX /bin/app\nI 1000 3e8\nm 1 x 400000 0 1000 1000 2000\n",
          f);
    for (unsigned i = 0; i < 40000; i++)
        fprintf(f, "t %x %x\n", 0x401000 + i, i);
    for (unsigned k = 1; k <= 40000; k++)
        fprintf(f, "+ 40 %x %x\n", k, 0x10000 + k * 64);
    fclose(f);
    char p[512];
    snprintf(p, sizeof p, "%s", path);
    CU_ASSERT_EQUAL_FATAL(import("heaptrack", p, 0), 0);
    CU_ASSERT_EQUAL(as_trace_reader_max_frame(rd), 40000);
    CU_ASSERT_EQUAL(as_trace_reader_max_stack(rd), 40000);
    CU_ASSERT_EQUAL(depth_of(1), 1);
    CU_ASSERT_EQUAL(depth_of(40000), 256); /* HT_MAX_DEPTH frames kept */
    /* the module covers 400000..403000: pc 401000 + i has offset 1000 + i
     * up to i = 1fff; later pcs are outside any module */
    expect_frame(1, 0, 0x401000, 0x1000, "x", "");
    expect_frame(40000, 0, 0x401000 + 39999, 0, "", "");
    remove(p);
}

/* The module list is capped (each new pc is looked up in it): 16384 'm'
 * lines load, the 16385th is an error; 'm 1 -' empties the list. */
static void test_module_cap(void)
{
    size_t cap = 64 + 16385 * 24, n = 0;
    char *text = malloc(cap);
    CU_ASSERT_FATAL(text != NULL);
    n += (size_t)snprintf(text + n, cap - n, "v 10400 3\n");
    for (unsigned i = 0; i < 16384; i++)
        n += (size_t)snprintf(text + n, cap - n, "m 1 x %x 0 10\n", i * 16);
    n += (size_t)snprintf(text + n, cap - n, "m 1 -\nm 1 x 0 0 10\nt 5 0\n");
    snprintf(text + n, cap - n, "+ 8 1 a000\n");
    CU_ASSERT_EQUAL_FATAL(import_str("heaptrack", text, 0), 0);
    expect_frame(1, 0, 5, 5, "x", "");
    /* without the reset, one module too many */
    n = (size_t)snprintf(text, cap, "v 10400 3\n");
    for (unsigned i = 0; i < 16385; i++)
        n += (size_t)snprintf(text + n, cap - n, "m 1 x %x 0 10\n", i * 16);
    expect_error("heaptrack", text, AS_EFORMAT, 16386,
                 "at most 16384 modules loaded at once (an 'm 1 -' line "
                 "clears them)");
    free(text);
}

/* Times, sizes and addresses that do not fit 64 bits are errors naming
 * the line, never wrapped or saturated values. */
static void test_overflow_is_error(void)
{
    expect_error("heaptrack", HT_HEAD "c 4189374bc6a7ef9e\n+ 64 1 a000\n",
                 AS_EFORMAT, 6,
                 "'c' elapsed milliseconds at most 10c6f7a0b5e3 (hex; the "
                 "time in ns must fit 64 bits), found 4189374bc6a7ef9e");
    expect_error("heaptrack", HT_HEAD "c ffffffffffffffff\n", AS_EFORMAT, 6,
                 "'c' elapsed milliseconds at most 10c6f7a0b5e3 (hex; the "
                 "time in ns must fit 64 bits), found ffffffffffffffff");
    expect_error("heaptrack", HT_HEAD "c 10000000000000000\n", AS_EFORMAT, 6,
                 "'c' elapsed milliseconds in hex");
    expect_error("heaptrack", "v 10400 3\nm 1 x ffffffffffff0000 0 10000\n",
                 AS_EFORMAT, 2,
                 "'m' segments inside the 64-bit address space, found load "
                 "address ffffffffffff0000 + segment 0 + size 10000");
    expect_error("heaptrack", "v 10400 10000\n", AS_EFORMAT, 1,
                 "'v' file version at most ffff, found 10000");
    expect_error("mtrace",
                 "= Start\n@ ./p:[0x11b0] + 0x1000 0x1ffffffffffffffff\n",
                 AS_EFORMAT, 2, "a hex number below 2^64 in '+ 0xPTR 0xSIZE'");
    expect_error("mtrace", "- 0x10000000000000000\n", AS_EFORMAT, 1,
                 "a hex number below 2^64 in '- 0xPTR'");
    expect_error("mtrace", "@ [0x10000000000000000] + 0x10 0x8\n", AS_EFORMAT,
                 1, "a hex address below 2^64 in the caller's [ ]");
    /* the largest tick that fits still imports: 10c6f7a0b5e3 ms */
    CU_ASSERT_EQUAL_FATAL(
        import_str("heaptrack", HT_HEAD "c 10c6f7a0b5e3\n+ 8 1 a000\n", 0), 0);
    CU_ASSERT_EQUAL_FATAL(nev, 1);
    expect(0, AS_EV_ALLOC, 0x10c6f7a0b5e3ull * 1000000 + 5000000, 0, 8, 1);
    CU_ASSERT_EQUAL_FATAL(
        import_str("mtrace", "+ 0x10 0xffffffffffffffff\n", 0), 0);
    CU_ASSERT_EQUAL_FATAL(nev, 1);
    expect(0, AS_EV_ALLOC, 0, 0, UINT64_MAX, 0);
}

/* A file cut mid-line (plain, or decompressed) and an interpreted file
 * without its closing "# strings" / "# ips" lines are truncation errors
 * naming the line and byte offset. */
static void test_truncation_detected(void)
{
    /* 34 bytes of whole lines, then 6 bytes of a cut one */
    const char *path =
        write_tmp("v 10400 3\nm 1 -\nt 1 0\n+ 10 1 a000\n+ 10 1");
    char want[1024];
    snprintf(want, sizeof want,
             "%s:5: expected a line ending in a newline, found the end of "
             "the file at byte 40 after 6 bytes of the line (the file is cut "
             "short)",
             path);
    CU_ASSERT_EQUAL(import("heaptrack", path, 0), AS_ETRUNCATED);
    CU_ASSERT_STRING_EQUAL(err, want);
    remove(path);
    CU_ASSERT_EQUAL(import_str("mtrace", "+ 0x10 0x8\n- 0x1", 0),
                    AS_ETRUNCATED);
    const char *interp = "v 10400 3\ns 8 /bin/app\ni 401100 1\nt 1 0\na 40 1\n"
                         "+ 0\n";
    const char *no_trailer =
        "the closing '# strings: N' and '# ips: N' lines of an interpreted "
        "heaptrack file, found the end of the file (the file is cut short)";
    expect_error("heaptrack", interp, AS_EFORMAT, 6, no_trailer);
    char buf[512];
    snprintf(buf, sizeof buf, "%s# strings: 1\n", interp);
    expect_error("heaptrack", buf, AS_EFORMAT, 7, no_trailer);
    snprintf(buf, sizeof buf, "%s# strings: 2\n# ips: 1\n", interp);
    expect_error("heaptrack", buf, AS_EFORMAT, 8,
                 "1 strings and 1 ips as read, found a trailer claiming 2 "
                 "and 1 (lines are missing)");
    /* a trailer followed by more records is not a trailer */
    snprintf(buf, sizeof buf, "%s# strings: 1\n# ips: 1\n- 0\n", interp);
    expect_error("heaptrack", buf, AS_EFORMAT, 9, no_trailer);
    snprintf(buf, sizeof buf, "%s# strings: 1\n# ips: 1\n", interp);
    CU_ASSERT_EQUAL_FATAL(import_str("heaptrack", buf, 0), 0);
    CU_ASSERT_EQUAL(nev, 1);
}

/* Bytes of the input quoted in an error are escaped (no terminal escape
 * sequence reaches stderr). */
static void test_error_quotes_escaped(void)
{
    expect_error("heaptrack", "v 10400 3\nQ\x1b[2J\n", AS_EFORMAT, 2,
                 "a record type followed by a space, found 'Q\\x1b[2J'");
    expect_error("mtrace", "@ \x1b]0;x\x07 + 0x1 0x2\n", AS_EFORMAT, 1,
                 "a caller 'module:[0xoff]' or '[0xaddr]', found "
                 "'\\x1b]0;x\\x07'");
    const char *path = write_tmp("zz\xff\x9b"
                                 "2J 1\n");
    char want[1024];
    snprintf(want, sizeof want,
             "%s:1: expected a record (meta, frame, stack, a, f, r, s, w) or a "
             "# comment, found 'zz\\xff\\x9b2J'",
             path);
    CU_ASSERT_EQUAL(import("text", path, 0), AS_EFORMAT);
    CU_ASSERT_STRING_EQUAL(err, want);
    remove(path);
}

/* Through the command line: exit 2, "FILE:LINE: expected ...", and no
 * output file (nor its .tmp) left behind. */
static void test_cli_error_leaves_nothing(void)
{
    const char *in = write_tmp("= Start\n@ [0x1] + 0x10 0x8\n@ [0x1] - zz\n");
    char inp[512], out[512], errf[512], cmd[2048];
    snprintf(inp, sizeof inp, "%s", in);
    snprintf(out, sizeof out, "%s", as_test_tmpfile("imp-cli", ".ast"));
    snprintf(errf, sizeof errf, "%s", as_test_tmpfile("imp-cli", ".err"));
    snprintf(cmd, sizeof cmd,
             "%s/allocsim import --format mtrace %s -o %s 2>%s", AS_BINARY_DIR,
             inp, out, errf);
    int st = system(cmd);
    CU_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 2);
    CU_ASSERT_EQUAL(access(out, F_OK), -1);
    char tmp[600];
    snprintf(tmp, sizeof tmp, "%s.tmp", out);
    CU_ASSERT_EQUAL(access(tmp, F_OK), -1);
    FILE *f = fopen(errf, "r");
    char msg[1024] = "";
    if (f) {
        if (!fgets(msg, sizeof msg, f)) msg[0] = 0;
        fclose(f);
    }
    char want[1024];
    snprintf(want, sizeof want, "allocsim import: %s:3: expected '- 0xPTR'\n",
             inp);
    CU_ASSERT_STRING_EQUAL(msg, want);
    remove(inp);
    remove(errf);
}

int main(void)
{
    static const as_test_t tests[] = {
        {"heaptrack raw: pointers, ticks, modules", test_heaptrack_raw},
        {"heaptrack raw, zstd", test_heaptrack_raw_zstd},
        {"heaptrack interpreted, FIFO", test_heaptrack_interp_fifo},
        {"heaptrack interpreted, LIFO", test_heaptrack_interp_lifo},
        {"heaptrack interpreted, gzip", test_heaptrack_interp_gzip},
        {"mtrace: callers, realloc, failed realloc", test_mtrace},
        {"malformed lines name FILE:LINE", test_malformed_lines},
        {"truncated zstd and gzip are errors", test_truncated_compressed},
        {"allocsim import: exit 2, nothing left",
         test_cli_error_leaves_nothing},
        {"free(NULL) is a no-op, malloc's NULL no object",
         test_free_null_is_noop},
        {"many frees of NULL: bounded (fuzz OOM)", test_free_null_many},
        {"ptrmap: key 0", test_ptrmap_key0},
        {"ptrmap: dense keys spread", test_ptrmap_dense_keys_spread},
        {"heaptrack: 40,000 consecutive pcs", test_heaptrack_dense_pcs},
        {"heaptrack: modules loaded at once are capped", test_module_cap},
        {"overflowing numbers are errors", test_overflow_is_error},
        {"truncated files are errors", test_truncation_detected},
        {"quoted input bytes are escaped", test_error_quotes_escaped},
        {NULL, NULL},
    };
    int rc = as_test_main("traces_import", tests);
    if (rd) as_trace_reader_close(rd);
    return rc;
}

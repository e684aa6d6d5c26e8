/* test_traces_text.c - the text form (escaping, text -> trace -> text is
 * byte-identical, malformed lines name FILE:LINE) and trace statistics
 * (as_trace_stats) on hand-written traces with hand-computed answers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/error.h"
#include "tests/unit/testutil.h"
#include "traces/import/import.h"
#include "traces/info.h"
#include "traces/textform.h"
#include "traces/trace.h"

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fputs(text, f);
    fclose(f);
}

/* Import `text` into trace `out`. @return the importer's code; err filled. */
static int import_text(const char *text, const char *out, char *err,
                       size_t errcap, char *in_path, size_t in_cap)
{
    snprintf(in_path, in_cap, "%s", as_test_tmpfile("text", ".txt"));
    write_file(in_path, text);
    as_trace_writer_t *w;
    as_trace_writer_opts_t o = {3, 0, 0}; /* tiny chunks: cross boundaries */
    CU_ASSERT_EQUAL_FATAL(as_trace_writer_open(&w, out, &o), 0);
    int rc = as_import_text(in_path, w, NULL, err, errcap);
    if (rc)
        as_trace_writer_abort(w);
    else
        rc = as_trace_writer_close(w);
    unlink(in_path);
    return rc;
}

/* What `allocsim cat` prints: header meta, then records. */
static char *cat_trace(const char *path)
{
    as_trace_reader_t *r;
    if (as_trace_reader_open(&r, path)) {
        as_trace_reader_close(r);
        return NULL;
    }
    as_textbuf_t b = {0};
    const char *k, *v;
    for (size_t i = 0; as_trace_reader_meta_at(r, i, &k, &v) == 0; i++)
        as_text_format_meta(&b, k, v);
    as_trace_record_t rec;
    int rc;
    while ((rc = as_trace_reader_next_record(r, &rec)) == 1)
        as_text_format_record(&b, &rec);
    as_trace_reader_close(r);
    if (rc != 0) {
        as_textbuf_free(&b);
        return NULL;
    }
    if (!b.p) b.p = calloc(1, 1);
    return b.p;
}

static const char canonical[] =
    "meta program redis-server%20--port%206379\n"
    "meta empty -\n"
    "meta dash %2D\n"
    "meta pct 100%25%0Aline2\n"
    "frame 1 0x4005d0 0x5d0 /usr/bin/my%20prog main\n"
    "frame 2 0x7f0000001234 0x1234 /lib/libc.so.6 -\n"
    "stack 1 2 1\n"
    "stack 2\n"
    "a 0 0 0 0 16 0 1\n"
    "a 0 0 0 1 0 0 0\n"
    "a 5 1 3 2 9223372036854775808 4096 2\n"
    "f 5 1 3 0\n"
    "w 6 2 0 4096\n"
    "meta phase steady\n"
    "r 7 2 1 1 3 24 16 1\n"
    "w 7 3 8 16\n"
    "frame 2 0x7f0000001234 0x1234 /lib/libc.so.6 malloc\n"
    "f 18446744073709551615 4294967295 4294967295 3\n";

static void test_escape(void)
{
    char out[64];
    CU_ASSERT_EQUAL(as_text_unescape("a%20b", 5, out), 3);
    CU_ASSERT_STRING_EQUAL(out, "a b");
    CU_ASSERT_EQUAL(as_text_unescape("-", 1, out), 0);
    CU_ASSERT_STRING_EQUAL(out, "");
    CU_ASSERT_EQUAL(as_text_unescape("%2D", 3, out), 1);
    CU_ASSERT_STRING_EQUAL(out, "-");
    CU_ASSERT_EQUAL(as_text_unescape("%2", 2, out), -1);  /* cut short */
    CU_ASSERT_EQUAL(as_text_unescape("%zz", 3, out), -1); /* not hex */
    CU_ASSERT_EQUAL(as_text_unescape("%00", 3, out), -1); /* NUL */
    as_textbuf_t b = {0};
    CU_ASSERT_EQUAL(as_text_format_meta(&b, "k y", "50%\t-"), 0);
    CU_ASSERT_STRING_EQUAL(b.p, "meta k%20y 50%25%09-\n");
    as_textbuf_free(&b);
}

static void test_roundtrip(void)
{
    char out[512], in[512], err[512] = "";
    snprintf(out, sizeof out, "%s", as_test_tmpfile("text", ".ast"));
    CU_ASSERT_EQUAL_FATAL(
        import_text(canonical, out, err, sizeof err, in, sizeof in), 0);
    char *back = cat_trace(out);
    CU_ASSERT_PTR_NOT_NULL_FATAL(back);
    CU_ASSERT_STRING_EQUAL(back, canonical);
    /* the events really are what the text says */
    as_trace_reader_t *r;
    CU_ASSERT_EQUAL_FATAL(as_trace_reader_open(&r, out), 0);
    CU_ASSERT_STRING_EQUAL(as_trace_reader_meta(r, "program"),
                           "redis-server --port 6379");
    CU_ASSERT_STRING_EQUAL(as_trace_reader_meta(r, "pct"), "100%\nline2");
    CU_ASSERT_STRING_EQUAL(as_trace_reader_meta(r, "dash"), "-");
    CU_ASSERT_STRING_EQUAL(as_trace_reader_meta(r, "empty"), "");
    as_event_t e[8];
    CU_ASSERT_EQUAL_FATAL(as_trace_reader_next_batch(r, e, 8), 6);
    CU_ASSERT(e[2].size == 1ull << 63 && e[2].align == 4096 &&
              e[2].stack == 2 && e[2].thread == 1 && e[2].cpu == 3);
    CU_ASSERT(e[4].kind == AS_EV_REALLOC && e[4].object == 1 &&
              e[4].new_object == 3 && e[4].align == 16);
    CU_ASSERT(e[5].t_ns == UINT64_MAX && e[5].thread == UINT32_MAX);
    /* the write reports, before events 4 and 5 */
    size_t nw;
    const as_write_t *wr = as_trace_reader_writes(r, &nw);
    CU_ASSERT_EQUAL_FATAL(nw, 2);
    CU_ASSERT(wr[0].t_ns == 6 && wr[0].object == 2 && wr[0].offset == 0 &&
              wr[0].bytes == 4096 && wr[0].events_before == 4);
    CU_ASSERT(wr[1].t_ns == 7 && wr[1].object == 3 && wr[1].offset == 8 &&
              wr[1].bytes == 16 && wr[1].events_before == 5);
    CU_ASSERT_STRING_EQUAL(as_trace_reader_meta(r, "phase"), "steady");
    as_frame_t f;
    CU_ASSERT_EQUAL(as_trace_reader_frame(r, 1, &f), 0);
    CU_ASSERT_STRING_EQUAL(f.module, "/usr/bin/my prog");
    as_trace_reader_close(r);
    free(back);
    /* a second trip is identical too */
    char out2[512];
    snprintf(out2, sizeof out2, "%s", as_test_tmpfile("text", ".ast"));
    CU_ASSERT_EQUAL(
        import_text(canonical, out2, err, sizeof err, in, sizeof in), 0);
    back = cat_trace(out2);
    CU_ASSERT_STRING_EQUAL(back, canonical);
    free(back);
    unlink(out);
    unlink(out2);
}

/* Comments, blank lines, tabs and CRLF are accepted and dropped. */
static void test_lenient_input(void)
{
    char out[512], in[512], err[512] = "";
    snprintf(out, sizeof out, "%s", as_test_tmpfile("text", ".ast"));
    CU_ASSERT_EQUAL_FATAL(
        import_text("# a hand-written trace\r\n\n  meta  k\tv\r\n"
                    "a 1 0 0 0 8 0 0   \n  # free it\nf 2 0 0 0\n",
                    out, err, sizeof err, in, sizeof in),
        0);
    char *back = cat_trace(out);
    CU_ASSERT_STRING_EQUAL(back, "meta k v\na 1 0 0 0 8 0 0\nf 2 0 0 0\n");
    free(back);
    unlink(out);
}

/* Each malformed input: AS_EFORMAT, "FILE:LINE: expected ...", no output. */
static void test_malformed(void)
{
    static const struct {
        const char *text;
        int line;
        const char *want;
    } cases[] = {
        {"a 1 0 0 0 8 0\n", 1, "expected 7 fields after 'a'"},
        {"a 1 0 0 1 8 0 0\n", 1, "expected id 0 (ids are dense"},
        {"a 1 0 0 0 8 0 0\nf 2 0 0 1\n", 2, "expected an id below 1"},
        {"a 5 0 0 0 8 0 0\na 4 0 0 1 8 0 0\n", 2, "expected t_ns >= 5"},
        {"a x 0 0 0 8 0 0\n", 1, "expected a time in ns (decimal), found 'x'"},
        {"a 1 4294967296 0 0 8 0 0\n", 1, "expected a thread number"},
        {"a 1 0 0 0 8 0 3\n", 1, "expected a stack id defined earlier"},
        {"# ok\n\nalloc 1 0 0 0 8 0 0\n", 3, "expected a record (meta, "},
        {"frame 1 4005d0 0 m s\n", 1, "expected a pc (0x hex)"},
        {"frame 1 0x1 0x0 m%2 s\n", 1, "expected an escaped module"},
        {"meta k\n", 1, "expected 2 fields after 'meta'"},
        {"stack 0 1\n", 1, "expected a stack id >= 1"},
        {"a 1 0 0 0 8 0 0\nr 2 0 0 0 2 8 0 0\n", 2, "expected new id 1"},
        {"a 1 0 0 0 99999999999999999999 0 0\n", 1, "expected a size"},
        {"a 1 0 0 0 8 0 0\nw 1 0 0\n", 2,
         "expected 4 fields after 'w' (t_ns object offset bytes), found 3"},
        {"a 1 0 0 0 8 0 0\nw 0 0 0 8\n", 2, "expected t_ns >= 1"},
        {"a 1 0 0 0 8 0 0\nw 1 1 0 8\n", 2,
         "expected an object id below 1 (one allocated earlier), found 1"},
        {"a 1 0 0 0 8 0 0\nw 1 0 0 0\n", 2,
         "expected a byte count >= 1, found 0"},
        {"a 1 0 0 0 8 0 0\nw 1 0 18446744073709551615 1\n", 2,
         "expected offset + bytes below 2^64, found 18446744073709551615 + 1"},
        {"a 1 0 0 0 8 0 0\nw 1 0 x 1\n", 2,
         "expected an offset in bytes (decimal), found 'x'"},
        {"a 5 0 0 0 8 0 0\nw 6 0 0 8\na 5 0 0 1 8 0 0\n", 3,
         "expected t_ns >= 6"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char out[512], in[512], err[512] = "", want[600];
        snprintf(out, sizeof out, "%s", as_test_tmpfile("bad", ".ast"));
        int rc =
            import_text(cases[i].text, out, err, sizeof err, in, sizeof in);
        snprintf(want, sizeof want, "%s:%d: %s", in, cases[i].line,
                 cases[i].want);
        if (rc != AS_EFORMAT || strncmp(err, want, strlen(want)) != 0)
            fprintf(stderr, "case %zu: rc %d, err '%s', want '%s'\n", i, rc,
                    err, want);
        CU_ASSERT_EQUAL(rc, AS_EFORMAT);
        CU_ASSERT_EQUAL(strncmp(err, want, strlen(want)), 0);
        struct stat st;
        char tmpp[600];
        snprintf(tmpp, sizeof tmpp, "%s.tmp", out);
        CU_ASSERT_NOT_EQUAL(stat(out, &st), 0);
        CU_ASSERT_NOT_EQUAL(stat(tmpp, &st), 0);
    }
}

/* Stats on a hand-written trace (sizes chosen so each figure is unique):
 *   t=100 a0 16 th0 cpu0   live 16 / 1
 *   t=110 a1 100 th1 cpu2  live 116 / 2
 *   t=120 a2 1000 th1 cpu2 live 1116 / 3   <- peak bytes and objects
 *   t=130 f1               live 1016 / 2
 *   t=140 r0 -> 3 size 40  live 1040 / 2
 *   t=150 f1 again         unknown free (double free)
 *   t=160 f2               live 40 / 1
 *   t=300 a4 1100 th7 cpu5 live 1140 / 2   <- new peak bytes
 * and two write reports (512 bytes of 2 at t=125, 1100 of 4 at t=300);
 * events 8 = 4 allocs + 3 frees + 1 realloc; objects 5; duration 200. */
static void test_stats(void)
{
    char out[512], in[512], err[512] = "";
    snprintf(out, sizeof out, "%s", as_test_tmpfile("stats", ".ast"));
    CU_ASSERT_EQUAL_FATAL(import_text("meta program test\n"
                                      "a 100 0 0 0 16 0 0\n"
                                      "a 110 1 2 1 100 0 0\n"
                                      "a 120 1 2 2 1000 0 0\n"
                                      "w 125 2 0 512\n"
                                      "f 130 1 2 1\n"
                                      "r 140 0 0 0 3 40 0 0\n"
                                      "f 150 1 2 1\n"
                                      "f 160 1 2 2\n"
                                      "a 300 7 5 4 1100 0 0\n"
                                      "w 300 4 0 1100\n",
                                      out, err, sizeof err, in, sizeof in),
                          0);
    as_trace_reader_t *r;
    CU_ASSERT_EQUAL_FATAL(as_trace_reader_open(&r, out), 0);
    as_trace_stats_t s;
    CU_ASSERT_EQUAL_FATAL(as_trace_stats(r, &s), 0);
    CU_ASSERT_EQUAL(s.events, 8);
    CU_ASSERT_EQUAL(s.allocs, 4);
    CU_ASSERT_EQUAL(s.frees, 3);
    CU_ASSERT_EQUAL(s.reallocs, 1);
    CU_ASSERT_EQUAL(s.objects, 5);
    CU_ASSERT_EQUAL(s.first_t_ns, 100);
    CU_ASSERT_EQUAL(s.duration_ns, 200);
    CU_ASSERT_EQUAL(s.requested_bytes, 16 + 100 + 1000 + 40 + 1100);
    CU_ASSERT_EQUAL(s.peak_live_bytes, 1140);
    CU_ASSERT_EQUAL(s.peak_live_t_ns, 300);
    CU_ASSERT_EQUAL(s.peak_live_objects, 3);
    CU_ASSERT_EQUAL(s.end_live_bytes, 1140);
    CU_ASSERT_EQUAL(s.end_live_objects, 2);
    CU_ASSERT_EQUAL(s.unknown_frees, 1);
    CU_ASSERT_EQUAL(s.threads, 3);
    CU_ASSERT_EQUAL(s.cpus, 3);
    CU_ASSERT_EQUAL(s.chunks, 3); /* 8 events, 3 per chunk */
    CU_ASSERT_EQUAL(s.writes, 2);
    CU_ASSERT_EQUAL(s.write_bytes, 512 + 1100);
    CU_ASSERT_EQUAL(s.truncated, 0);
    CU_ASSERT_EQUAL(s.file_bytes, as_trace_reader_file_bytes(r));
    /* a second pass gives the same figures */
    as_trace_stats_t s2;
    CU_ASSERT_EQUAL(as_trace_stats(r, &s2), 0);
    CU_ASSERT_EQUAL(memcmp(&s, &s2, sizeof s), 0);
    as_trace_reader_close(r);
    unlink(out);
}

/* The live map survives many inserts and deletes (growth, backward shift):
 * 100000 objects, every other freed: peak 100000 objects, end 50000. */
static void test_stats_many(void)
{
    char out[512];
    snprintf(out, sizeof out, "%s", as_test_tmpfile("many", ".ast"));
    as_trace_writer_t *w;
    CU_ASSERT_EQUAL_FATAL(as_trace_writer_open(&w, out, NULL), 0);
    for (uint64_t i = 0; i < 100000; i++) {
        as_event_t e = {.kind = AS_EV_ALLOC, .t_ns = i, .size = i % 7};
        CU_ASSERT_EQUAL_FATAL(as_trace_writer_event(w, &e), 0);
    }
    uint64_t freed_bytes = 0;
    for (uint64_t i = 0; i < 100000; i += 2) {
        as_event_t e = {.kind = AS_EV_FREE, .t_ns = 100000 + i, .object = i};
        freed_bytes += i % 7;
        CU_ASSERT_EQUAL_FATAL(as_trace_writer_event(w, &e), 0);
    }
    CU_ASSERT_EQUAL_FATAL(as_trace_writer_close(w), 0);
    uint64_t total = 0;
    for (uint64_t i = 0; i < 100000; i++)
        total += i % 7;
    as_trace_reader_t *r;
    CU_ASSERT_EQUAL_FATAL(as_trace_reader_open(&r, out), 0);
    as_trace_stats_t s;
    CU_ASSERT_EQUAL_FATAL(as_trace_stats(r, &s), 0);
    CU_ASSERT_EQUAL(s.peak_live_objects, 100000);
    CU_ASSERT_EQUAL(s.peak_live_bytes, total);
    CU_ASSERT_EQUAL(s.end_live_objects, 50000);
    CU_ASSERT_EQUAL(s.end_live_bytes, total - freed_bytes);
    CU_ASSERT_EQUAL(s.unknown_frees, 0);
    CU_ASSERT_EQUAL(s.threads, 1);
    CU_ASSERT_EQUAL(s.chunks, 3); /* 150000 events / 65536 */
    as_trace_reader_close(r);
    unlink(out);
}

int main(void)
{
    static const as_test_t tests[] = {
        {"escape", test_escape},
        {"roundtrip", test_roundtrip},
        {"lenient_input", test_lenient_input},
        {"malformed", test_malformed},
        {"stats", test_stats},
        {"stats_many", test_stats_many},
        {NULL, NULL},
    };
    return as_test_main("traces_text", tests);
}

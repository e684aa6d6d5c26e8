/* test_traces_reader_hostile.c - reader cases found by the hostile-input
 * review (issue 16) that need exact figures: an empty stack defined before
 * any frame (the fuzz input that formed NULL + 0), and the footer checks of
 * a closed file (the byte offsets and messages of each refusal). The
 * shell suite tests/check_hostile_traces.sh runs the mutation classes at
 * scale; here each is one hand-built case. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "tests/unit/testutil.h"
#include "traces/codec.h"
#include "traces/trace.h"

/* read_file: the bytes of `path` (malloc'd), length in *len. */
static uint8_t *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    CU_ASSERT_FATAL(f != NULL);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    rewind(f);
    uint8_t *b = malloc((size_t)n);
    CU_ASSERT_FATAL(b && fread(b, 1, (size_t)n, f) == (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return b;
}

/* A trace of 3 chunks of 2 allocations each (chunk_events 2). */
static uint8_t *three_chunks(size_t *len)
{
    char path[512];
    snprintf(path, sizeof path, "%s", as_test_tmpfile("rh", ".ast"));
    as_trace_writer_t *w;
    as_trace_writer_opts_t o = {2, 0, 0};
    CU_ASSERT_FATAL(as_trace_writer_open(&w, path, &o) == 0);
    for (int i = 0; i < 6; i++) {
        as_event_t e = {.kind = AS_EV_ALLOC, .t_ns = (uint64_t)i, .size = 8};
        CU_ASSERT_FATAL(as_trace_writer_event(w, &e) == 0);
    }
    CU_ASSERT_FATAL(as_trace_writer_close(w) == 0);
    uint8_t *b = read_file(path, len);
    remove(path);
    return b;
}

/* A stack of depth 0 defined before any frame: no frame pool exists yet;
 * the reader hands out a valid (never NULL + 0) pointer and depth 0. */
static void test_empty_stack_first(void)
{
    char path[512];
    snprintf(path, sizeof path, "%s", as_test_tmpfile("rh", ".ast"));
    as_trace_writer_t *w;
    CU_ASSERT_FATAL(as_trace_writer_open(&w, path, NULL) == 0);
    CU_ASSERT_FATAL(as_trace_writer_stack(w, 1, NULL, 0) == 0);
    as_event_t e = {.kind = AS_EV_ALLOC, .size = 8, .stack = 1};
    CU_ASSERT_FATAL(as_trace_writer_event(w, &e) == 0);
    CU_ASSERT_FATAL(as_trace_writer_close(w) == 0);
    as_trace_reader_t *r;
    CU_ASSERT_FATAL(as_trace_reader_open(&r, path) == 0);
    as_event_t got;
    CU_ASSERT_EQUAL(as_trace_reader_next(r, &got), 1);
    const uint32_t *frames = NULL;
    uint32_t depth = 99;
    CU_ASSERT_EQUAL(as_trace_reader_stack(r, 1, &frames, &depth), 0);
    CU_ASSERT_EQUAL(depth, 0);
    CU_ASSERT_PTR_NOT_NULL(frames);
    as_trace_reader_close(r);
    remove(path);
}

/* open: @return the code of opening b[0..len) as "m.ast"; the message in
 * msg. */
static int open_code(const uint8_t *b, size_t len, char *msg, size_t cap)
{
    as_trace_reader_t *r;
    int rc = as_trace_reader_open_mem(&r, "m.ast", b, len);
    snprintf(msg, cap, "%s", rc ? as_trace_reader_error(r) : "");
    as_trace_reader_close(r);
    return rc;
}

/* A closed file whose footer does not add up is AS_ECORRUPT at the offset
 * of what is wrong; a file without the trailer magic is scanned. */
static void test_footer_checks(void)
{
    size_t len;
    uint8_t *b = three_chunks(&len), *m = malloc(len + 4096);
    char msg[640], want[640];
    /* the layout: the trailer's index offset and size */
    uint64_t ioff = as_get_u64(b + len - 24);
    uint32_t ibytes = as_get_u32(b + len - 16);
    CU_ASSERT_EQUAL_FATAL(ibytes, 12 + 3 * AS_INDEX_ENTRY_BYTES);
    CU_ASSERT_EQUAL_FATAL(ioff + ibytes + 24, len);
    uint64_t c0 = as_get_u64(b + ioff + 8), c1 = as_get_u64(b + ioff + 64);
    CU_ASSERT_EQUAL(open_code(b, len, msg, sizeof msg), 0);

    /* trailer checksum */
    memcpy(m, b, len);
    m[len - 24] ^= 1;
    CU_ASSERT_EQUAL(open_code(m, len, msg, sizeof msg), AS_ECORRUPT);
    snprintf(want, sizeof want,
             "m.ast: offset %zu: expected trailer checksum 0x%08x, found "
             "0x%08x",
             len - 12, as_fnv1a32(m + len - 24, 12), as_get_u32(m + len - 12));
    CU_ASSERT_STRING_EQUAL(msg, want);

    /* chunk 1 duplicated, footer as it was: the trailer no longer sits
     * after the index it names */
    uint64_t c1bytes = as_get_u64(b + ioff + 8 + 56 + 8);
    memcpy(m, b, (size_t)(c1 + c1bytes));
    memcpy(m + c1 + c1bytes, b + c1, (size_t)c1bytes);
    memcpy(m + c1 + 2 * c1bytes, b + c1 + c1bytes,
           (size_t)(len - c1 - c1bytes));
    size_t dlen = len + (size_t)c1bytes;
    CU_ASSERT_EQUAL(open_code(m, dlen, msg, sizeof msg), AS_ECORRUPT);
    snprintf(want, sizeof want,
             "m.ast: offset %zu: expected the trailer to name a footer index "
             "that ends where the trailer starts, found index offset %llu "
             "and %u bytes (bytes inserted or removed?)",
             dlen - 24, (unsigned long long)ioff, ibytes);
    CU_ASSERT_STRING_EQUAL(msg, want);

    /* an index entry pointing at another chunk, checksums recomputed */
    memcpy(m, b, len);
    as_put_u64(m + ioff + 8 + 56, c0);
    as_put_u32(m + ioff + ibytes - 4, as_fnv1a32(m + ioff, ibytes - 4));
    CU_ASSERT_EQUAL(open_code(m, len, msg, sizeof msg), AS_ECORRUPT);
    snprintf(want, sizeof want,
             "m.ast: offset %llu: expected footer index entry 1 to continue "
             "the chunks before it (offset %llu, first object 2, times from "
             "1), found offset %llu, first object 2, times 2..3",
             (unsigned long long)(ioff + 8 + 56), (unsigned long long)c1,
             (unsigned long long)c0);
    CU_ASSERT_STRING_EQUAL(msg, want);

    /* the trailer magic gone: not a closed file, scanned; every chunk
     * replays and the trace is reported truncated */
    memcpy(m, b, len);
    m[len - 1] ^= 0xff;
    as_trace_reader_t *r;
    CU_ASSERT_EQUAL_FATAL(as_trace_reader_open_mem(&r, "m.ast", m, len), 0);
    as_event_t e;
    int n = 0;
    while (as_trace_reader_next(r, &e) == 1)
        n++;
    CU_ASSERT_EQUAL(n, 6);
    CU_ASSERT_EQUAL(as_trace_reader_truncated(r), 1);
    as_trace_reader_close(r);
    free(m);
    free(b);
}

int main(void)
{
    static const as_test_t tests[] = {
        {"empty stack before any frame", test_empty_stack_first},
        {"a closed file's footer must add up", test_footer_checks},
        {NULL, NULL},
    };
    return as_test_main("traces_reader_hostile", tests);
}

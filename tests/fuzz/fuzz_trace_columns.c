/* fuzz_trace_columns.c - libFuzzer target for the version-3 (columnar)
 * chunk decoder. Checksums stop random mutations at the chunk header and
 * the zstd frame, and the layout check stops payloads whose tag stream
 * disagrees with the header's counts, so this target builds a well-formed
 * file around the input: the first 16 bytes give the chunk's first_t and
 * last_t, the rest is the raw payload; the header's event and new-object
 * counts are taken from the payload's own tag stream when its layout
 * parses (else from the next 8 input bytes), and the chunk is sealed with
 * a correct checksum and zstd frame. The file is read record by record,
 * then again in batches of 5 and of 300 (segments cut by the caller and by
 * the decoder's own limit). Any payload must decode to events or a clean
 * error. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tests/trace_header.h"
#include "traces/codec.h"
#include "traces/trace.h"

/* counts: the events and new objects in the payload's tag stream, parsed
 * as docs/trace-format.md's version 3 says. @return 0, or -1 when the
 * layout does not parse. */
static int counts(const uint8_t *p, size_t n, uint32_t *events,
                  uint32_t *allocs)
{
    const uint8_t *end = p + n;
    uint64_t v, tag_len;
    if (as_get_varint(&p, end, &v)) return -1;
    for (int c = 0; c < AS_COLUMNS; c++) {
        if (as_get_varint(&p, end, &v) || p >= end) return -1;
        p++;
    }
    if (as_get_varint(&p, end, &tag_len) || as_get_varint(&p, end, &v) ||
        tag_len > (uint64_t)(end - p))
        return -1;
    *events = *allocs = 0;
    for (uint64_t i = 0; i < tag_len; i++)
        if (AS_TAG_V3_EVENT(p[i])) { /* 0x11, a write report, is not */
            ++*events;
            *allocs += p[i] & 1;
        }
    return 0;
}

static void drain(as_trace_reader_t *r, size_t batch)
{
    static as_event_t evs[300];
    uint64_t sum = 0;
    long got;
    while ((got = as_trace_reader_next_batch(r, evs, batch)) > 0)
        for (long i = 0; i < got; i++)
            sum += evs[i].t_ns ^ evs[i].object ^ evs[i].size ^ evs[i].stack;
    (void)sum;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 24 || size > (1u << 20)) return 0;
    as_chunk_header_t h = {0};
    h.first_t_ns = as_get_u64(data);
    h.last_t_ns = as_get_u64(data + 8);
    const uint8_t *raw = data + 16;
    size_t n = size - 16;
    if (counts(raw, n, &h.events, &h.allocs)) {
        h.events = as_get_u32(data + 16);
        h.allocs = as_get_u32(data + 20);
        raw += 8;
        n -= 8;
    }
    uint8_t *chunk = NULL;
    size_t cap = 0, len = 0;
    if (as_chunk_seal(NULL, 1, raw, n, &h, &chunk, &cap, &len)) return 0;
    size_t fn = AS_TEST_TRACE_HEADER_BYTES + len;
    uint8_t *file = malloc(fn);
    as_test_put_trace_header(file, 3);
    memcpy(file + AS_TEST_TRACE_HEADER_BYTES, chunk, len);
    free(chunk);
    as_trace_reader_t *r;
    if (as_trace_reader_open_mem(&r, "columns", file, fn) == 0) {
        as_trace_record_t rec;
        uint64_t sum = 0;
        while (as_trace_reader_next_record(r, &rec) == 1)
            sum += rec.event.object + rec.event.stack_height + rec.depth;
        (void)sum;
        (void)strlen(as_trace_reader_error(r));
        if (as_trace_reader_rewind(r) == 0) drain(r, 5);
        if (as_trace_reader_rewind(r) == 0) drain(r, 300);
    }
    as_trace_reader_close(r);
    free(file);
    return 0;
}

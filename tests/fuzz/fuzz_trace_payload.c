/* fuzz_trace_payload.c - libFuzzer target for the chunk payload decoder.
 * Checksums stop random mutations at the chunk header and the zstd frame,
 * so this target builds a well-formed file around the input: the first 24
 * bytes give the chunk header's events, allocs, first_t and last_t, the
 * rest is the raw payload, sealed with a correct header checksum and zstd
 * frame. The payload is decoded as a version-1 file (9 streams) and as a
 * version-2 file (10 streams, stack heights, memory samples). Any payload
 * must decode to events or a clean AS_EFORMAT. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tests/trace_header.h"
#include "traces/codec.h"
#include "traces/trace.h"

/* decode: the file (header of `version` with no metadata, then the
 * chunk) read record by record, then again in batches. */
static void decode(uint8_t *file, size_t n, uint32_t version)
{
    as_test_put_trace_header(file, version);
    as_trace_reader_t *r;
    if (as_trace_reader_open_mem(&r, "payload", file, n) == 0) {
        as_trace_record_t rec;
        uint64_t sum = 0;
        while (as_trace_reader_next_record(r, &rec) == 1) {
            sum += rec.event.object + rec.depth;
            if (rec.kind == AS_TRACE_REC_FRAME)
                sum += strlen(rec.frame.module) + strlen(rec.frame.symbol);
            if (rec.kind == AS_TRACE_REC_META)
                sum += strlen(rec.key) + strlen(rec.value);
            if (rec.kind == AS_TRACE_REC_STACK)
                for (uint32_t i = 0; i < rec.depth; i++)
                    sum += rec.frames[i];
            if (rec.kind == AS_TRACE_REC_SAMPLE)
                sum += rec.sample.t_ns + rec.sample.rss_bytes;
            sum += rec.event.stack_height;
        }
        (void)sum;
        (void)strlen(as_trace_reader_error(r));
        if (as_trace_reader_rewind(r) == 0) {
            as_event_t evs[16];
            while (as_trace_reader_next_batch(r, evs, 16) > 0) {
            }
        }
    }
    as_trace_reader_close(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 24 || size > (1u << 20)) return 0;
    as_chunk_header_t h = {0};
    h.events = as_get_u32(data);
    h.allocs = as_get_u32(data + 4);
    h.first_t_ns = as_get_u64(data + 8);
    h.last_t_ns = as_get_u64(data + 16);
    uint8_t *chunk = NULL;
    size_t cap = 0, len = 0;
    if (as_chunk_seal(NULL, 1, data + 24, size - 24, &h, &chunk, &cap, &len))
        return 0;
    size_t n = AS_TEST_TRACE_HEADER_BYTES + len;
    uint8_t *file = malloc(n);
    memcpy(file + AS_TEST_TRACE_HEADER_BYTES, chunk, len);
    free(chunk);
    for (uint32_t version = 1; version <= AS_TRACE_VERSION; version++)
        decode(file, n, version);
    free(file);
    return 0;
}

/* trace_header.h - the one hand-built trace file header that the unit
 * tests and the fuzz targets put in front of the chunks they make: magic,
 * `version`, no flags, no metadata, checksum (docs/trace-format.md).
 * Header-only, since the fuzz targets link no test harness. */
#ifndef AS_TESTS_TRACE_HEADER_H
#define AS_TESTS_TRACE_HEADER_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "traces/codec.h"

/* as_test_put_trace_header: write a file header of `version` with no
 * metadata at b (AS_TEST_TRACE_HEADER_BYTES bytes). @return its length. */
#define AS_TEST_TRACE_HEADER_BYTES (AS_TRACE_HEADER_FIXED + 4u)
static inline size_t as_test_put_trace_header(uint8_t *b, uint32_t version)
{
    memcpy(b, AS_TRACE_MAGIC, 8);
    as_put_u32(b + 8, version);
    as_put_u32(b + 12, 0); /* flags */
    as_put_u32(b + 16, 4); /* meta_bytes: the count alone */
    as_put_u32(b + 20, 0); /* no metadata */
    as_put_u32(b + 24, as_fnv1a32(b, 24));
    return AS_TEST_TRACE_HEADER_BYTES;
}

#endif /* AS_TESTS_TRACE_HEADER_H */

/* codec.h - byte-level building blocks of trace format v2 (internal to
 * traces/): little-endian integers, LEB128 varints, the FNV-1a checksums,
 * the on-disk constants, and the sealing of one chunk (header + zstd frame).
 *
 * The writer, the reader and the tests (which hand-build bad files) share
 * these so that the layout of docs/trace-format.md is written down in code
 * exactly once.
 *
 * Type map
 *   as_chunk_header_t   the 48-byte uncompressed header in front of a chunk
 *
 * Layout constants (all sizes in bytes):
 *   file header   = AS_TRACE_HEADER_FIXED + meta_bytes
 *   chunk         = AS_CHUNK_HEADER_BYTES + compressed_bytes
 *   index         = 8 + count * AS_INDEX_ENTRY_BYTES + 4
 *   trailer       = AS_TRAILER_BYTES, the last bytes of a complete file
 */
#ifndef AS_TRACES_CODEC_H
#define AS_TRACES_CODEC_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define AS_TRACE_MAGIC "ASTRACE\0" /* 8 bytes at offset 0 */
#define AS_TRACE_HEADER_FIXED 24u  /* magic, version, flags, meta, check */
#define AS_TRACE_MAX_META_BYTES (16u << 20)

#define AS_CHUNK_MAGIC 0x4b484341u /* "ACHK" little-endian */
#define AS_CHUNK_HEADER_BYTES 48u
#define AS_CHUNK_MAX_RAW_BYTES (64u << 20)

#define AS_INDEX_MAGIC 0x58444941u /* "AIDX" little-endian */
#define AS_INDEX_ENTRY_BYTES 56u
#define AS_TRAILER_MAGIC "ASTREND\0" /* last 8 bytes of a complete file */
#define AS_TRAILER_BYTES 24u

/* Record tags inside a chunk payload: bits 0-1 are the kind. */
#define AS_TAG_KIND_MASK 0x03u
#define AS_TAG_DEF 0x00u /* definition; bits 2-7 say which */
#define AS_TAG_ALLOC 0x01u
#define AS_TAG_FREE 0x02u
#define AS_TAG_REALLOC 0x03u
/* Event flag bits. */
#define AS_TAG_SAME_THREAD 0x04u /* thread == previous event's thread */
#define AS_TAG_SAME_CPU 0x08u    /* cpu == last cpu of thread % AS_CPU_SLOTS */
#define AS_TAG_HAS_ALIGN 0x10u   /* alloc/realloc: an align varint follows */
#define AS_TAG_SAME_STACK 0x20u  /* alloc/realloc: stack == previous stack */
#define AS_TAG_ZERO_DT 0x40u     /* t == previous event's t (no dt varint) */
#define AS_TAG_RESERVED 0x80u    /* must be 0 in v1 */
/* v2: bit 7 of an alloc/realloc tag: stack height == the previous
 * alloc/realloc's in the chunk (no height varint); must be 0 on a free. */
#define AS_TAG_SAME_HEIGHT 0x80u
/* Definition tags (kind bits 00). */
#define AS_TAG_FRAME 0x04u
#define AS_TAG_STACK 0x08u
#define AS_TAG_META 0x0cu
#define AS_TAG_SAMPLE 0x10u /* v2: a real-memory sample */
/* v3 only: a write report. Its kind bits are 01 (an alloc's), which is
 * why format 2 cannot carry it (there 0x11 is an alloc with an align);
 * format 3 event tags are exactly 0x01..0x03, so in v3 a tag is an event
 * when AS_TAG_V3_EVENT holds and a definition otherwise. */
#define AS_TAG_WRITE 0x11u
#define AS_TAG_V3_EVENT(tag) ((unsigned)(tag)-1u < 3u)

/* A chunk payload is columnar: a header of AS_STREAMS varints (the byte
 * length of each stream, in this order), then the streams back to back.
 * The tag stream has one byte per record; every other field goes to its own
 * stream, so that like values sit together (better compression) and each
 * field is decoded by an independent cursor (no serial dependency). */
enum {
    AS_S_TAG = 0,     /* tag byte of every record */
    AS_S_DT = 1,      /* time deltas */
    AS_S_THREAD = 2,  /* thread numbers (absolute) */
    AS_S_CPU = 3,     /* cpu numbers (absolute) */
    AS_S_BACK = 4,    /* free/realloc back-references */
    AS_S_SIZE = 5,    /* sizes */
    AS_S_ALIGN = 6,   /* alignments */
    AS_S_STACK = 7,   /* stack ids (absolute) */
    AS_S_DEFS = 8,    /* bodies of definition records */
    AS_S_HEIGHT = 9,  /* v2: stack heights of alloc/realloc */
    AS_STREAMS = 10,  /* streams of a v2 payload */
    AS_STREAMS_V1 = 9 /* a v1 payload has streams 0..8 only */
};
/* Version 3 replaces the event streams by columns (docs/trace-format.md,
 * "Version 3"). A v3 payload holds the tag stream and the definition
 * stream as above, then one column per event field: every value of the
 * field in the chunk, minus the column's base, in `width` bytes stored as
 * byte planes (all low bytes, then all second bytes, ...). Time is either
 * the delta from the previous event (AS_TIME_DELTA) or, per thread slot,
 * the zigzag difference from the time predicted by that slot's last delta
 * (AS_TIME_DOD: delta-of-delta). */
enum {
    AS_C_TIME = 0,   /* every event: the time code of AS_TIME_* */
    AS_C_THREAD = 1, /* every event: thread number */
    AS_C_CPU = 2,    /* every event: cpu number */
    AS_C_BACK = 3,   /* free and realloc: back-reference */
    AS_C_SIZE = 4,   /* alloc and realloc: size */
    AS_C_ALIGN = 5,  /* alloc and realloc: alignment (0 = default) */
    AS_C_STACK = 6,  /* alloc and realloc: stack id */
    AS_C_HEIGHT = 7, /* alloc and realloc: stack height */
    AS_COLUMNS = 8
};
#define AS_TIME_DELTA 0u /* t - previous event's t */
#define AS_TIME_DOD 1u   /* zigzag(t - (prev_t + prev_dt)) per thread slot */
/* Per-thread time state of AS_TIME_DOD is kept per thread % AS_TIME_SLOTS. */
#define AS_TIME_SLOTS 64u

/* Zigzag: a signed difference (two's complement, mod 2^64) as an unsigned
 * value that is small when the difference is near 0. */
static inline uint64_t as_zigzag(uint64_t d)
{
    return (d << 1) ^ ((uint64_t)0 - (d >> 63));
}
static inline uint64_t as_unzigzag(uint64_t z)
{
    return (z >> 1) ^ ((uint64_t)0 - (z & 1));
}

/* Bytes needed to hold v (0 for v == 0). */
static inline unsigned as_width_bytes(uint64_t v)
{
    return v ? (unsigned)(71 - __builtin_clzll(v)) / 8 : 0;
}

/* SAME_CPU compares with the cpu last seen for thread % AS_CPU_SLOTS. */
#define AS_CPU_SLOTS 64u
/* Readable zero bytes after a decoded payload: a fast run of 256 events
 * reads at most 8 bytes per event and field beyond a stream's end. */
#define AS_PAYLOAD_PAD (8u * 256u + 64u)

/* Bounds the writer enforces and the reader checks before allocating. */
#define AS_TRACE_MAX_STRING (1u << 20) /* module, symbol, meta key/value */
#define AS_TRACE_MAX_DEPTH 65536u      /* frames in one stack */
#define AS_TRACE_ID_SLACK 4096u        /* def id <= 2*defined + slack */

/* The chunk header, decoded. On disk: magic u32, compressed u32, raw u32,
 * events u32, allocs u32, first_object u64, first_t u64, last_t u64,
 * check u32 (FNV-1a 32 of the 44 bytes before it). */
typedef struct {
    uint32_t compressed_bytes; /* zstd frame bytes that follow the header */
    uint32_t raw_bytes;        /* payload bytes once decompressed */
    uint32_t events;           /* alloc + free + realloc records */
    uint32_t allocs;           /* new ids assigned: allocs + reallocs */
    uint64_t first_object;     /* id of the chunk's first new object */
    uint64_t first_t_ns;       /* t of the first event (== last if none) */
    uint64_t last_t_ns;        /* t of the last event */
} as_chunk_header_t;

static inline void as_put_u32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static inline void as_put_u64(uint8_t *p, uint64_t v)
{
    as_put_u32(p, (uint32_t)v);
    as_put_u32(p + 4, (uint32_t)(v >> 32));
}

static inline uint32_t as_get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

static inline uint64_t as_get_u64(const uint8_t *p)
{
    return (uint64_t)as_get_u32(p) | (uint64_t)as_get_u32(p + 4) << 32;
}

/* LEB128: 7 bits per byte, low first, high bit = more. At most 10 bytes.
 * @return bytes written. */
static inline size_t as_put_varint(uint8_t *p, uint64_t v)
{
    size_t n = 0;
    while (v >= 0x80) {
        p[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    p[n++] = (uint8_t)v;
    return n;
}

/* Decode a varint from [*pp, end). @return 0, or -1 when the input ends
 * first or the value needs more than 64 bits. */
static inline int as_get_varint(const uint8_t **pp, const uint8_t *end,
                                uint64_t *out)
{
    const uint8_t *p = *pp;
    if (p < end && *p < 0x80) { /* fast path: one byte */
        *out = *p;
        *pp = p + 1;
        return 0;
    }
    uint64_t v = 0;
    for (unsigned shift = 0; shift < 64; shift += 7) {
        if (p >= end) return -1;
        uint8_t b = *p++;
        if (shift == 63 && b > 1) return -1;
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *out = v;
            *pp = p;
            return 0;
        }
    }
    return -1;
}

/* as_varint8: decode the varint at p, reading exactly 8 bytes (the caller
 * guarantees they are readable), without branching on its length.
 * @return the value, with *len = its bytes (1..8); *len = 0 when the varint
 * is longer than 8 bytes (the caller falls back to as_get_varint). */
/* as_varint4: like as_varint8 for varints of at most 4 bytes (values below
 * 2^28), with 32-bit arithmetic; reads 4 bytes. *len = 0 when longer. */
static inline uint32_t as_varint4(const uint8_t *p, unsigned *len)
{
    uint32_t x;
    memcpy(&x, p, 4);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    x = __builtin_bswap32(x);
#endif
    uint32_t m = ~x & 0x80808080u;
    if (m == 0) {
        *len = 0;
        return 0;
    }
    unsigned bits = (unsigned)__builtin_ctz(m) + 1; /* 8 * length */
    *len = bits >> 3;
    x &= 0x7f7f7f7fu >> (32 - bits);
    x = ((x & 0x7f007f00u) >> 1) | (x & 0x007f007fu);
    x = ((x & 0x3fff0000u) >> 2) | (x & 0x00003fffu);
    return x;
}

static inline uint64_t as_varint8(const uint8_t *p, unsigned *len)
{
    uint64_t x;
    memcpy(&x, p, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    x = __builtin_bswap64(x);
#endif
    uint64_t m = ~x & 0x8080808080808080ull;
    if (m == 0) {
        *len = 0;
        return 0;
    }
    unsigned bits = (unsigned)__builtin_ctzll(m) + 1; /* 8 * length */
    *len = bits >> 3;
    x &= ~0ull >> (64 - bits);
    x &= 0x7f7f7f7f7f7f7f7full;
    x = ((x & 0x7f007f007f007f00ull) >> 1) | (x & 0x007f007f007f007full);
    x = ((x & 0x3fff00003fff0000ull) >> 2) | (x & 0x00003fff00003fffull);
    x = ((x & 0x0fffffff00000000ull) >> 4) | (x & 0x000000000fffffffull);
    return x;
}

/* FNV-1a, 32-bit: the checksum of headers, index and trailer. */
static inline uint32_t as_fnv1a32(const uint8_t *p, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 16777619u;
    return h;
}

/* FNV-1a, 64-bit, continued from `h` (start with AS_FNV64_INIT): the file
 * hash of as_trace_reader_hash. */
#define AS_FNV64_INIT 0xcbf29ce484222325ull
static inline uint64_t as_fnv1a64(uint64_t h, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 0x100000001b3ull;
    return h;
}

/* as_chunk_header_encode: write the 48 header bytes (checksum included). */
void as_chunk_header_encode(uint8_t out[AS_CHUNK_HEADER_BYTES],
                            const as_chunk_header_t *h);

/* as_chunk_header_decode: parse and check magic and checksum.
 * @return 0, or -1 (bad magic), -2 (bad checksum). */
int as_chunk_header_decode(const uint8_t in[AS_CHUNK_HEADER_BYTES],
                           as_chunk_header_t *h);

/* as_chunk_seal: compress `raw` (one zstd frame with content size and
 * content checksum) and prepend its header, filling h->compressed_bytes and
 * h->raw_bytes. *out is (re)allocated as needed; *out_len is the chunk's
 * size on disk. `cctx` is a ZSTD_CCtx* or NULL (a temporary one is used).
 * @return 0, AS_ENOMEM, AS_EINVAL (raw too large), AS_EIO (zstd failed). */
int as_chunk_seal(void *cctx, int level, const uint8_t *raw, size_t raw_len,
                  as_chunk_header_t *h, uint8_t **out, size_t *out_cap,
                  size_t *out_len);

#endif /* AS_TRACES_CODEC_H */

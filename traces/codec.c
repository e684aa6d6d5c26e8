/* codec.c - the chunk header codec and chunk sealing of trace format v1.
 *
 * This file owns the one place where a chunk's bytes are produced: the
 * 48-byte header (with its FNV-1a checksum) followed by exactly one zstd
 * frame carrying the content size and zstd's own content checksum, so that
 * a reader can detect a flipped bit in either part. It never touches files;
 * the writer decides where the bytes go.
 */
#include "traces/codec.h"

#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "common/error.h"

void as_chunk_header_encode(uint8_t out[AS_CHUNK_HEADER_BYTES],
                            const as_chunk_header_t *h)
{
    as_put_u32(out + 0, AS_CHUNK_MAGIC);
    as_put_u32(out + 4, h->compressed_bytes);
    as_put_u32(out + 8, h->raw_bytes);
    as_put_u32(out + 12, h->events);
    as_put_u32(out + 16, h->allocs);
    as_put_u64(out + 20, h->first_object);
    as_put_u64(out + 28, h->first_t_ns);
    as_put_u64(out + 36, h->last_t_ns);
    as_put_u32(out + 44, as_fnv1a32(out, 44));
}

int as_chunk_header_decode(const uint8_t in[AS_CHUNK_HEADER_BYTES],
                           as_chunk_header_t *h)
{
    if (as_get_u32(in) != AS_CHUNK_MAGIC) return -1;
    if (as_get_u32(in + 44) != as_fnv1a32(in, 44)) return -2;
    h->compressed_bytes = as_get_u32(in + 4);
    h->raw_bytes = as_get_u32(in + 8);
    h->events = as_get_u32(in + 12);
    h->allocs = as_get_u32(in + 16);
    h->first_object = as_get_u64(in + 20);
    h->first_t_ns = as_get_u64(in + 28);
    h->last_t_ns = as_get_u64(in + 36);
    return 0;
}

int as_chunk_seal(void *cctx, int level, const uint8_t *raw, size_t raw_len,
                  as_chunk_header_t *h, uint8_t **out, size_t *out_cap,
                  size_t *out_len)
{
    if (raw_len > AS_CHUNK_MAX_RAW_BYTES) return AS_EINVAL;
    size_t need = AS_CHUNK_HEADER_BYTES + ZSTD_compressBound(raw_len);
    if (*out_cap < need) {
        uint8_t *p = realloc(*out, need);
        if (!p) return AS_ENOMEM;
        *out = p;
        *out_cap = need;
    }
    ZSTD_CCtx *c = cctx;
    ZSTD_CCtx *tmp = NULL;
    if (!c) {
        c = tmp = ZSTD_createCCtx();
        if (!c) return AS_ENOMEM;
    }
    ZSTD_CCtx_reset(c, ZSTD_reset_session_and_parameters);
    ZSTD_CCtx_setParameter(c, ZSTD_c_compressionLevel, level);
    ZSTD_CCtx_setParameter(c, ZSTD_c_checksumFlag, 1);
    ZSTD_CCtx_setParameter(c, ZSTD_c_contentSizeFlag, 1);
    size_t n = ZSTD_compress2(c, *out + AS_CHUNK_HEADER_BYTES,
                              *out_cap - AS_CHUNK_HEADER_BYTES, raw, raw_len);
    if (tmp) ZSTD_freeCCtx(tmp);
    if (ZSTD_isError(n) || n > UINT32_MAX) return AS_EIO;
    h->compressed_bytes = (uint32_t)n;
    h->raw_bytes = (uint32_t)raw_len;
    as_chunk_header_encode(*out, h);
    *out_len = AS_CHUNK_HEADER_BYTES + n;
    return 0;
}

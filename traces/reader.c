/* reader.c - the validating, streaming reader of trace formats v1 and v2.
 *
 * The reader owns an open trace (a file read with pread, or a caller's
 * memory buffer), the merged metadata, the stack and frame definitions met
 * so far, the chunk list (from the footer index, or discovered by scanning
 * when the footer is missing), and the decompressed payload of the current
 * chunk. The hot path, decode_events(), walks that payload's streams with
 * one cursor per field, decodes every field without branching on the tag
 * (fields absent from an event are decoded and masked away), and fills a
 * caller's batch of events; anything unusual (a long varint, a failed check)
 * sends that one event through decode_event_careful(), which also writes the
 * error message.
 *
 * Every byte that comes from the file is checked before it is trusted:
 * sizes are bounded before anything is allocated, the chunk header and the
 * zstd frame carry checksums, ids, times and counts are checked against the
 * chunk header and the index. A failure is sticky and described as
 * "path: offset N: expected X, found Y". It must never crash, hang, or
 * return an event that is not in the file. It does not track liveness of
 * objects (the engine does), only that ids are below the next free id.
 */
#include "traces/trace.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include "common/error.h"
#include "traces/codec.h"

typedef struct {
    char *key;
    char *value;
} as_rmeta_t;

typedef struct {
    uint32_t off;   /* first frame id in the pool */
    uint32_t depth; /* frames; valid when defined */
    uint8_t defined;
} as_rstack_t;

typedef struct {
    uint64_t pc, offset;
    char *module, *symbol; /* owned; NULL when undefined */
} as_rframe_t;

/* Invariants: chunks[0..nchunks) are in file order and contiguous from
 * data_start; with have_index they come from the footer and
 * chunks[nchunks-1] ends at data_end. Within the loaded chunk:
 * cur[i] <= end[i] for every stream, raw has AS_PAYLOAD_PAD zero bytes
 * after the payload, next_id - ch.first_object == allocs decoded so far. */
struct as_trace_reader {
    char *path;
    int fd;              /* -1 in memory mode */
    const uint8_t *mem;  /* memory mode: the whole file */
    uint64_t size;       /* file bytes */
    uint64_t data_start; /* offset of the first chunk */
    uint64_t data_end;   /* index offset (have_index) or file size */
    int have_index;      /* the footer index was valid */
    uint32_t version;    /* the file's format version (1 or 2) */
    int nstreams;        /* streams in a payload: AS_STREAMS_V1 or _STREAMS */
    uint32_t height_bit; /* v2: AS_TAG_SAME_HEIGHT may be set; v1: 0 */
    uint8_t bad_bits[4]; /* tag bits an event of each kind must not set */

    as_rmeta_t *meta; /* merged metadata: header first, stream after */
    size_t nmeta, meta_cap;

    as_trace_chunk_info_t *chunks; /* footer index, or found by scanning */
    uint64_t *chunk_allocs;        /* new ids each chunk assigns */
    size_t nchunks, chunks_cap, allocs_cap;

    /* position */
    size_t cur_chunk;     /* index of the next chunk to load */
    uint64_t next_off;    /* offset of the next chunk to load */
    int in_chunk;         /* a chunk is loaded and not finished */
    int done;             /* end of trace reached */
    int truncated;        /* the trace ended without a valid footer */
    int err;              /* sticky error */
    uint64_t next_id;     /* id the next allocation gets */
    uint64_t prev_last_t; /* last_t of the previous chunk */
    uint64_t events_done; /* events of the chunks finished */
    uint64_t floor_t;     /* t of the last sample: later events are >= */

    /* real-memory samples read and not dropped (v2) */
    as_mem_sample_t *samples;
    size_t nsamples, samples_cap;
    uint64_t samples_total; /* read since the start, dropped included */
    /* write reports read and not dropped (v3), kept as samples are */
    as_write_t *writes;
    size_t nwrites, writes_cap;
    uint64_t writes_total; /* read since the start, dropped included */

    /* the loaded chunk */
    uint64_t chunk_off;   /* its file offset */
    as_chunk_header_t ch; /* its header */
    uint8_t *comp, *raw;
    size_t comp_cap, raw_cap;
    const uint8_t *cur[AS_STREAMS]; /* decode position in each stream */
    const uint8_t *end[AS_STREAMS]; /* end of each stream */
    uint64_t t;                     /* decode state: previous event's t */
    uint32_t thread, stack;         /* previous thread and stack */
    uint64_t height;                /* previous stack height */
    uint32_t lastcpu[AS_CPU_SLOTS]; /* cpu last seen per thread slot */
    uint32_t ch_events;             /* events decoded in this chunk */
    const uint8_t *tag_start;       /* first byte of the tag stream */
    /* v3: the loaded chunk's columns (codec.h AS_C_*); value i of column c
     * is col_base[c] + the col_w[c] bytes at col[c] + b * col_n[c] + i
     * (b = 0 .. col_w[c] - 1, least significant first) */
    const uint8_t *col[AS_COLUMNS];
    uint64_t col_n[AS_COLUMNS];      /* values in the column */
    uint64_t col_i[AS_COLUMNS];      /* values decoded so far */
    uint64_t col_base[AS_COLUMNS];   /* added to every value */
    unsigned col_w[AS_COLUMNS];      /* bytes per value, 0..8 */
    unsigned time_mode;              /* AS_TIME_DELTA or AS_TIME_DOD */
    uint64_t slot_t[AS_TIME_SLOTS];  /* AS_TIME_DOD: last t per thread slot */
    uint64_t slot_dt[AS_TIME_SLOTS]; /* and the delta that led to it */
    struct as_seg *seg;              /* v3: one segment's columns (scratch) */
    ZSTD_DCtx *dctx;

    /* definitions */
    as_rstack_t *stacks;
    uint32_t stacks_cap, max_stack;
    uint64_t nstack_defs;
    uint32_t *pool; /* frame ids of every stack definition */
    size_t pool_len, pool_cap;
    as_rframe_t *frames;
    uint32_t frames_cap, max_frame;
    uint64_t nframe_defs;

    /* detached (as_trace_reader_seek_chunk): chunks [cur_chunk, end_chunk)
     * only, definitions counted and not kept, the checks that need earlier
     * chunks' records left to the caller through det */
    int detached;
    size_t end_chunk;
    uint64_t seek_events; /* events before the first chunk read */
    as_trace_detached_t det;

    /* the definition returned by next_record */
    int last_def; /* AS_TAG_FRAME / _STACK / _META */
    uint32_t last_def_id;
    size_t last_meta;

    char msg[640];
};

static int errorf(as_trace_reader_t *r, int code, uint64_t off, const char *fmt,
                  ...)
{
    va_list ap;
    int n = snprintf(r->msg, sizeof r->msg, "%s: offset %llu: ", r->path,
                     (unsigned long long)off);
    va_start(ap, fmt);
    if (n >= 0 && (size_t)n < sizeof r->msg)
        vsnprintf(r->msg + n, sizeof r->msg - (size_t)n, fmt, ap);
    va_end(ap);
    r->err = code;
    return code;
}

/* An error inside a chunk's payload: names the chunk and the record (the
 * position of its tag in the tag stream). */
static int payload_error(as_trace_reader_t *r, const uint8_t *tagp,
                         const char *fmt, ...)
{
    char what[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return errorf(r, AS_EFORMAT, r->chunk_off, "chunk %zu, record %zu: %s",
                  r->cur_chunk - 1, (size_t)(tagp - r->tag_start), what);
}

static int read_at(as_trace_reader_t *r, uint64_t off, void *buf, size_t n)
{
    if (off > r->size || n > r->size - off)
        return errorf(r, AS_ETRUNCATED, off,
                      "expected %zu bytes, file ends "
                      "at %llu",
                      n, (unsigned long long)r->size);
    if (r->mem) {
        memcpy(buf, r->mem + off, n);
        return 0;
    }
    uint8_t *b = buf;
    while (n > 0) {
        ssize_t k = pread(r->fd, b, n, (off_t)off);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0)
            return errorf(r, AS_EIO, off, "read failed: %s",
                          k < 0 ? strerror(errno) : "unexpected end of file");
        b += k;
        n -= (size_t)k;
        off += (uint64_t)k;
    }
    return 0;
}

static int grow(void **p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap) return 0;
    size_t c = *cap ? *cap : 16;
    while (c < need)
        c *= 2;
    void *q = realloc(*p, c * elem);
    if (!q) return AS_ENOMEM;
    *p = q;
    *cap = c;
    return 0;
}

static char *dup_n(const uint8_t *s, size_t n)
{
    char *d = malloc(n + 1);
    if (!d) return NULL;
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

/* Set key=value in the merged table (a later value replaces an earlier). */
static int meta_set(as_trace_reader_t *r, const uint8_t *k, size_t kl,
                    const uint8_t *v, size_t vl, size_t *at)
{
    char *vv = dup_n(v, vl);
    if (!vv) return AS_ENOMEM;
    for (size_t i = 0; i < r->nmeta; i++)
        if (strlen(r->meta[i].key) == kl &&
            memcmp(r->meta[i].key, k, kl) == 0) {
            free(r->meta[i].value);
            r->meta[i].value = vv;
            *at = i;
            return 0;
        }
    char *kk = dup_n(k, kl);
    if (!kk ||
        grow((void **)&r->meta, &r->meta_cap, r->nmeta + 1, sizeof *r->meta)) {
        free(kk);
        free(vv);
        return AS_ENOMEM;
    }
    r->meta[r->nmeta].key = kk;
    r->meta[r->nmeta].value = vv;
    *at = r->nmeta++;
    return 0;
}

/* ------------------------------------------------------------ opening */

static int parse_header(as_trace_reader_t *r)
{
    uint8_t fixed[20];
    if (r->size < AS_TRACE_HEADER_FIXED) {
        size_t n = (size_t)r->size;
        uint8_t head[AS_TRACE_HEADER_FIXED];
        if (n && read_at(r, 0, head, n)) return r->err;
        if (memcmp(head, AS_TRACE_MAGIC, n < 8 ? n : 8) != 0)
            return errorf(r, AS_EFORMAT, 0,
                          "expected the magic \"ASTRACE\", "
                          "found other bytes (not an allocsim trace)");
        return errorf(r, AS_ETRUNCATED, n,
                      "expected a file header of at "
                      "least %u bytes, found %zu",
                      AS_TRACE_HEADER_FIXED, n);
    }
    if (read_at(r, 0, fixed, sizeof fixed)) return r->err;
    if (memcmp(fixed, AS_TRACE_MAGIC, 8) != 0)
        return errorf(r, AS_EFORMAT, 0,
                      "expected the magic \"ASTRACE\", "
                      "found other bytes (not an allocsim trace)");
    uint32_t version = as_get_u32(fixed + 8);
    if (version < AS_TRACE_VERSION_MIN || version > AS_TRACE_VERSION)
        return errorf(r, AS_EVERSION, 8,
                      "expected format version %u..%u, "
                      "found %u",
                      AS_TRACE_VERSION_MIN, AS_TRACE_VERSION, version);
    r->version = version;
    r->nstreams = version == 1 ? AS_STREAMS_V1 : AS_STREAMS; /* v1, v2 */
    r->height_bit = version == 2 ? AS_TAG_SAME_HEIGHT : 0;
    /* bit 7 is reserved in v1 and "same height" in v2 (not on a free); a
     * free has no align or stack */
    r->bad_bits[AS_TAG_ALLOC] = r->bad_bits[AS_TAG_REALLOC] =
        version == 1 ? AS_TAG_RESERVED : 0;
    r->bad_bits[AS_TAG_FREE] =
        AS_TAG_RESERVED | AS_TAG_HAS_ALIGN | AS_TAG_SAME_STACK;
    uint32_t flags = as_get_u32(fixed + 12);
    if (flags != 0)
        return errorf(r, AS_EFORMAT, 12,
                      "expected header flags 0, found "
                      "0x%x",
                      flags);
    uint32_t meta_bytes = as_get_u32(fixed + 16);
    if (meta_bytes < 4 || meta_bytes > AS_TRACE_MAX_META_BYTES)
        return errorf(r, AS_EFORMAT, 16,
                      "expected a metadata size of 4..%u "
                      "bytes, found %u",
                      AS_TRACE_MAX_META_BYTES, meta_bytes);
    uint64_t hlen = AS_TRACE_HEADER_FIXED + (uint64_t)meta_bytes;
    if (hlen > r->size)
        return errorf(r, AS_ETRUNCATED, r->size,
                      "expected a file header of "
                      "%llu bytes, file has %llu",
                      (unsigned long long)hlen, (unsigned long long)r->size);
    uint8_t *h = malloc((size_t)hlen);
    if (!h) return errorf(r, AS_ENOMEM, 0, "out of memory (header)");
    if (read_at(r, 0, h, (size_t)hlen)) {
        free(h);
        return r->err;
    }
    uint32_t want = as_get_u32(h + hlen - 4), got = as_fnv1a32(h, hlen - 4);
    if (want != got) {
        free(h);
        return errorf(r, AS_ECORRUPT, hlen - 4,
                      "expected header checksum "
                      "0x%08x, found 0x%08x",
                      got, want);
    }
    const uint8_t *p = h + 24, *end = h + 20 + meta_bytes;
    uint32_t count = as_get_u32(h + 20);
    int rc = 0;
    for (uint32_t i = 0; i < count && !rc; i++) {
        uint32_t len[2];
        const uint8_t *s[2];
        for (int j = 0; j < 2 && !rc; j++) {
            uint64_t at = (uint64_t)(p - h);
            if (end - p < 4 || (len[j] = as_get_u32(p)) > (size_t)(end - p - 4))
                rc = errorf(r, AS_EFORMAT, at,
                            "expected metadata entry %u of "
                            "%u, found the end of the metadata block",
                            i, count);
            else if (memchr(p + 4, 0, len[j]))
                rc = errorf(r, AS_EFORMAT, at,
                            "expected a metadata string, "
                            "found a NUL byte");
            else {
                s[j] = p + 4;
                p += 4 + len[j];
            }
        }
        size_t at;
        if (!rc && meta_set(r, s[0], len[0], s[1], len[1], &at))
            rc = errorf(r, AS_ENOMEM, 0, "out of memory (metadata)");
    }
    if (!rc && p != end)
        rc = errorf(r, AS_EFORMAT, (uint64_t)(p - h),
                    "expected the end of "
                    "the metadata block, found %zu more bytes",
                    (size_t)(end - p));
    free(h);
    if (rc) return rc;
    r->data_start = hlen;
    return 0;
}

/* Load and check the footer. A file that does not end with the trailer
 * magic was not closed (a killed recorder, a cut copy): the reader scans
 * its chunks and reports a truncated trace. A file that does end with it
 * was written whole, so a trailer, index or chunk layout that does not add
 * up means damage or tampering (a chunk duplicated, removed, moved or
 * spliced in from another trace): that is AS_ECORRUPT, never a quiet
 * fallback to scanning, which would replay a duplicated or foreign chunk
 * as if it belonged. @return 0 (index loaded, or no trailer: scan) or the
 * error. */
static int load_index(as_trace_reader_t *r)
{
    uint8_t t[AS_TRAILER_BYTES];
    if (r->size < r->data_start + AS_TRAILER_BYTES + 12) return 0;
    uint64_t toff = r->size - AS_TRAILER_BYTES;
    if (read_at(r, toff, t, sizeof t)) return r->err;
    if (memcmp(t + 16, AS_TRAILER_MAGIC, 8) != 0) return 0;
    if (as_get_u32(t + 12) != as_fnv1a32(t, 12))
        return errorf(r, AS_ECORRUPT, toff + 12,
                      "expected trailer checksum 0x%08x, found 0x%08x",
                      as_fnv1a32(t, 12), as_get_u32(t + 12));
    uint64_t ioff = as_get_u64(t);
    uint64_t ibytes = as_get_u32(t + 8);
    if (ioff < r->data_start || ibytes < 12 || ibytes > toff ||
        ioff != toff - ibytes || (ibytes - 12) % AS_INDEX_ENTRY_BYTES != 0)
        return errorf(r, AS_ECORRUPT, toff,
                      "expected the trailer to name a footer index that "
                      "ends where the trailer starts, found index offset "
                      "%llu and %llu bytes (bytes inserted or removed?)",
                      (unsigned long long)ioff, (unsigned long long)ibytes);
    uint8_t *b = malloc((size_t)ibytes);
    if (!b) return errorf(r, AS_ENOMEM, ioff, "out of memory (footer index)");
    if (read_at(r, ioff, b, (size_t)ibytes)) {
        free(b);
        return r->err;
    }
    uint64_t count = (ibytes - 12) / AS_INDEX_ENTRY_BYTES;
    if (as_get_u32(b) != AS_INDEX_MAGIC || as_get_u32(b + 4) != count ||
        as_get_u32(b + ibytes - 4) != as_fnv1a32(b, (size_t)ibytes - 4)) {
        free(b);
        return errorf(r, AS_ECORRUPT, ioff,
                      "expected a footer index (\"AIDX\", %llu entries, "
                      "checksum), found a damaged one",
                      (unsigned long long)count);
    }
    if (grow((void **)&r->chunks, &r->chunks_cap, (size_t)count + 1,
             sizeof *r->chunks) ||
        grow((void **)&r->chunk_allocs, &r->allocs_cap, (size_t)count + 1,
             sizeof *r->chunk_allocs)) {
        free(b);
        return errorf(r, AS_ENOMEM, ioff, "out of memory (footer index)");
    }
    uint64_t off = r->data_start, obj = 0, t_ns = 0, i;
    for (i = 0; i < count; i++) {
        const uint8_t *e = b + 8 + i * AS_INDEX_ENTRY_BYTES;
        as_trace_chunk_info_t *c = &r->chunks[i];
        uint64_t allocs = as_get_u64(e + 48);
        r->chunk_allocs[i] = allocs;
        c->offset = as_get_u64(e);
        c->bytes = as_get_u64(e + 8);
        c->events = as_get_u64(e + 16);
        c->first_object = as_get_u64(e + 24);
        c->first_t_ns = as_get_u64(e + 32);
        c->last_t_ns = as_get_u64(e + 40);
        if (c->offset != off || c->bytes < AS_CHUNK_HEADER_BYTES ||
            c->bytes > ioff - off || c->first_object != obj ||
            allocs > c->events || c->first_t_ns < t_ns ||
            c->last_t_ns < c->first_t_ns)
            break;
        off += c->bytes;
        obj += allocs;
        t_ns = c->last_t_ns;
    }
    free(b);
    if (i < count) {
        const as_trace_chunk_info_t *c = &r->chunks[i];
        return errorf(r, AS_ECORRUPT, ioff + 8 + i * AS_INDEX_ENTRY_BYTES,
                      "expected footer index entry %llu to continue the "
                      "chunks before it (offset %llu, first object %llu, "
                      "times from %llu), found offset %llu, first object "
                      "%llu, times %llu..%llu",
                      (unsigned long long)i, (unsigned long long)off,
                      (unsigned long long)obj, (unsigned long long)t_ns,
                      (unsigned long long)c->offset,
                      (unsigned long long)c->first_object,
                      (unsigned long long)c->first_t_ns,
                      (unsigned long long)c->last_t_ns);
    }
    if (off != ioff)
        return errorf(r, AS_ECORRUPT, ioff,
                      "expected the %llu indexed chunks to end at the "
                      "footer index, found them ending at offset %llu",
                      (unsigned long long)count, (unsigned long long)off);
    r->nchunks = (size_t)count;
    r->have_index = 1;
    r->data_end = ioff;
    return 0;
}

static int open_common(as_trace_reader_t *r)
{
    r->dctx = ZSTD_createDCtx();
    if (!r->dctx) return errorf(r, AS_ENOMEM, 0, "out of memory");
    int rc = parse_header(r);
    if (rc) return rc;
    r->data_end = r->size;
    if ((rc = load_index(r))) return rc;
    if (!r->have_index) r->nchunks = 0;
    r->next_off = r->data_start;
    return 0;
}

static as_trace_reader_t *alloc_reader(const char *path)
{
    as_trace_reader_t *r = calloc(1, sizeof *r);
    if (!r) return NULL;
    r->fd = -1;
    size_t n = strlen(path);
    r->path = malloc(n + 1);
    if (!r->path) {
        free(r);
        return NULL;
    }
    memcpy(r->path, path, n + 1);
    return r;
}

int as_trace_reader_open(as_trace_reader_t **rp, const char *path)
{
    as_trace_reader_t *r = alloc_reader(path);
    *rp = r;
    if (!r) return AS_ENOMEM;
    r->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (r->fd < 0)
        return errorf(r, AS_EIO, 0, "cannot open: %s", strerror(errno));
    struct stat st;
    if (fstat(r->fd, &st) != 0)
        return errorf(r, AS_EIO, 0, "cannot stat: %s", strerror(errno));
    if (!S_ISREG(st.st_mode))
        return errorf(r, AS_EIO, 0, "expected a regular file");
    r->size = (uint64_t)st.st_size;
    return open_common(r);
}

int as_trace_reader_open_mem(as_trace_reader_t **rp, const char *name,
                             const void *data, size_t size)
{
    as_trace_reader_t *r = alloc_reader(name ? name : "<memory>");
    *rp = r;
    if (!r) return AS_ENOMEM;
    r->mem = data;
    r->size = size;
    return open_common(r);
}

void as_trace_reader_close(as_trace_reader_t *r)
{
    if (!r) return;
    if (r->fd >= 0) close(r->fd);
    for (size_t i = 0; i < r->nmeta; i++) {
        free(r->meta[i].key);
        free(r->meta[i].value);
    }
    free(r->meta);
    free(r->chunks);
    free(r->chunk_allocs);
    free(r->samples);
    free(r->writes);
    free(r->comp);
    free(r->raw);
    free(r->seg);
    ZSTD_freeDCtx(r->dctx);
    free(r->stacks);
    free(r->pool);
    for (uint32_t i = 0; i < r->frames_cap; i++) {
        free(r->frames[i].module);
        free(r->frames[i].symbol);
    }
    free(r->frames);
    free(r->path);
    free(r);
}

/* ------------------------------------------------------------ chunks */

static int end_of_trace(as_trace_reader_t *r, int truncated, const char *fmt,
                        ...)
{
    r->done = 1;
    if (truncated) {
        r->truncated = 1;
        va_list ap;
        int n = snprintf(r->msg, sizeof r->msg, "%s: ", r->path);
        va_start(ap, fmt);
        if (n >= 0 && (size_t)n < sizeof r->msg)
            vsnprintf(r->msg + n, sizeof r->msg - (size_t)n, fmt, ap);
        va_end(ap);
    }
    return 0;
}

/* Versions 1 and 2: the length of every stream, then the streams, which
 * must fill the payload exactly. @return 0 or the error. */
static int layout_v2(as_trace_reader_t *r, uint64_t off)
{
    const as_chunk_header_t *h = &r->ch;
    /* The payload header: the length of every stream; they must fill the
     * payload exactly. */
    const uint8_t *p = r->raw, *pend = r->raw + h->raw_bytes;
    uint64_t len[AS_STREAMS] = {0}, total = 0;
    for (int i = 0; i < r->nstreams; i++) {
        if (as_get_varint(&p, pend, &len[i]) || len[i] > h->raw_bytes)
            return errorf(r, AS_EFORMAT, off,
                          "chunk %zu: expected %d stream "
                          "lengths at the start of the payload, found a bad "
                          "one (stream %d)",
                          r->cur_chunk, r->nstreams, i);
        total += len[i];
    }
    if (total != (uint64_t)(pend - p) || len[AS_S_TAG] < h->events)
        return errorf(r, AS_EFORMAT, off,
                      "chunk %zu: expected streams "
                      "filling the %llu payload bytes after their lengths with "
                      "at least %u tags, found %llu bytes and %llu tags",
                      r->cur_chunk, (unsigned long long)(pend - p), h->events,
                      (unsigned long long)total,
                      (unsigned long long)len[AS_S_TAG]);
    for (int i = 0; i < AS_STREAMS; i++) {
        r->cur[i] = p;
        p += len[i];
        r->end[i] = p;
    }
    return 0;
}

/* Version 3: the time code, each column's base and width, the tag and
 * definition stream lengths, the two streams, then the columns, whose
 * sizes follow from the kinds in the tag stream (which is therefore read
 * once here: every event tag must be a bare kind). Everything must fill
 * the payload exactly. @return 0 or the error. */
static int layout_v3(as_trace_reader_t *r, uint64_t off)
{
    const as_chunk_header_t *h = &r->ch;
    const uint8_t *p = r->raw, *pend = r->raw + h->raw_bytes;
    uint64_t mode, len[2];
    if (as_get_varint(&p, pend, &mode) || mode > AS_TIME_DOD)
        return errorf(r, AS_EFORMAT, off,
                      "chunk %zu: expected the time code %u or %u at the "
                      "start of the payload, found a bad one",
                      r->cur_chunk, AS_TIME_DELTA, AS_TIME_DOD);
    r->time_mode = (unsigned)mode;
    for (int c = 0; c < AS_COLUMNS; c++) {
        if (as_get_varint(&p, pend, &r->col_base[c]) || p >= pend || *p > 8)
            return errorf(r, AS_EFORMAT, off,
                          "chunk %zu: expected the base and the width "
                          "(0..8 bytes) of column %d, found a bad one",
                          r->cur_chunk, c);
        r->col_w[c] = *p++;
    }
    for (int i = 0; i < 2; i++)
        if (as_get_varint(&p, pend, &len[i]) || len[i] > (uint64_t)(pend - p))
            return errorf(r, AS_EFORMAT, off,
                          "chunk %zu: expected the length of the %s stream "
                          "within the payload, found a bad one",
                          r->cur_chunk, i ? "definition" : "tag");
    const uint8_t *tags = p, *defs = p + len[0], *cols = defs + len[1];
    if (len[0] + len[1] > (uint64_t)(pend - p))
        return errorf(r, AS_EFORMAT, off,
                      "chunk %zu: expected the tag and definition streams "
                      "within the payload, found %llu + %llu bytes",
                      r->cur_chunk, (unsigned long long)len[0],
                      (unsigned long long)len[1]);
    uint64_t nev = 0, nback = 0, nnew = 0;
    for (uint64_t i = 0; i < len[0]; i++) {
        unsigned tag = tags[i];
        if ((tag & AS_TAG_KIND_MASK) == AS_TAG_DEF || tag == AS_TAG_WRITE)
            continue; /* a definition (decode_def checks which) */
        if (tag > AS_TAG_REALLOC)
            return errorf(r, AS_EFORMAT, off,
                          "chunk %zu, record %llu: expected an event tag "
                          "0x01..0x03 (format v3 has no flags), found 0x%02x",
                          r->cur_chunk, (unsigned long long)i, tag);
        nev++;
        nback += tag >> 1;
        nnew += tag & 1;
    }
    if (nev != h->events || nnew != h->allocs)
        return errorf(r, AS_EFORMAT, off,
                      "chunk %zu: expected %u events and %u new objects in "
                      "the tag stream (chunk header), found %llu and %llu",
                      r->cur_chunk, h->events, h->allocs,
                      (unsigned long long)nev, (unsigned long long)nnew);
    uint64_t total = 0;
    for (int c = 0; c < AS_COLUMNS; c++) {
        r->col_n[c] = c < AS_C_BACK ? nev : c == AS_C_BACK ? nback : nnew;
        r->col[c] = cols + total;
        r->col_i[c] = 0;
        total += r->col_n[c] * r->col_w[c];
    }
    if (total != (uint64_t)(pend - cols))
        return errorf(r, AS_EFORMAT, off,
                      "chunk %zu: expected columns of %llu bytes (their "
                      "widths times their values) to fill the payload, "
                      "found %llu bytes",
                      r->cur_chunk, (unsigned long long)total,
                      (unsigned long long)(pend - cols));
    for (int i = 0; i < AS_STREAMS; i++)
        r->cur[i] = r->end[i] = pend; /* the v2 streams are unused */
    r->cur[AS_S_TAG] = tags;
    r->end[AS_S_TAG] = defs;
    r->cur[AS_S_DEFS] = defs;
    r->end[AS_S_DEFS] = cols;
    for (unsigned k = 0; k < AS_TIME_SLOTS; k++) {
        r->slot_t[k] = h->first_t_ns;
        r->slot_dt[k] = 0;
    }
    return 0;
}

/* Load the next chunk. @return 1 loaded, 0 end of trace, <0 error. */
static int load_chunk(as_trace_reader_t *r)
{
    uint64_t off;
    if (r->have_index) {
        if (r->cur_chunk >= r->nchunks ||
            (r->detached && r->cur_chunk >= r->end_chunk))
            return end_of_trace(r, 0, NULL);
        off = r->chunks[r->cur_chunk].offset;
    } else {
        off = r->next_off;
        size_t whole = r->cur_chunk;
        if (off == r->size)
            return end_of_trace(r, 1,
                                "offset %llu: expected a footer index "
                                "after the last chunk, found the end of the "
                                "file (truncated trace; %zu whole chunks "
                                "replayed)",
                                (unsigned long long)off, whole);
        uint64_t left = r->size - off;
        uint8_t hb[AS_CHUNK_HEADER_BYTES];
        if (read_at(r, off, hb, left < sizeof hb ? (size_t)left : sizeof hb))
            return r->err;
        if (left >= 4 && as_get_u32(hb) == AS_INDEX_MAGIC)
            return end_of_trace(r, 1,
                                "offset %llu: expected a valid footer "
                                "index and trailer, found a damaged or "
                                "incomplete one (truncated trace; %zu whole "
                                "chunks replayed)",
                                (unsigned long long)off, whole);
        if (left < AS_CHUNK_HEADER_BYTES)
            return end_of_trace(r, 1,
                                "offset %llu: expected a %u-byte chunk "
                                "header, found only %llu bytes (truncated "
                                "trace; partial chunk dropped after %zu whole "
                                "chunks)",
                                (unsigned long long)off, AS_CHUNK_HEADER_BYTES,
                                (unsigned long long)left, whole);
        as_chunk_header_t h;
        int d = as_chunk_header_decode(hb, &h);
        if (d == 0 &&
            AS_CHUNK_HEADER_BYTES + (uint64_t)h.compressed_bytes > left)
            return end_of_trace(r, 1,
                                "offset %llu: expected a chunk of "
                                "%llu bytes, found only %llu bytes (truncated "
                                "trace; partial chunk dropped after %zu whole "
                                "chunks)",
                                (unsigned long long)off,
                                (unsigned long long)(AS_CHUNK_HEADER_BYTES +
                                                     h.compressed_bytes),
                                (unsigned long long)left, whole);
    }
    /* Read and check the header. */
    uint8_t hb[AS_CHUNK_HEADER_BYTES];
    if (off > r->data_end || r->data_end - off < AS_CHUNK_HEADER_BYTES)
        return errorf(r, AS_EFORMAT, off,
                      "expected a chunk header, found "
                      "the end of the chunk area");
    if (read_at(r, off, hb, sizeof hb)) return r->err;
    as_chunk_header_t *h = &r->ch;
    int d = as_chunk_header_decode(hb, h);
    if (d == -1)
        return errorf(r, AS_ECORRUPT, off,
                      "expected the chunk magic "
                      "\"ACHK\", found 0x%08x",
                      as_get_u32(hb));
    if (d == -2)
        return errorf(r, AS_ECORRUPT, off + 44,
                      "expected chunk header "
                      "checksum 0x%08x, found 0x%08x",
                      as_fnv1a32(hb, 44), as_get_u32(hb + 44));
    uint64_t bytes = AS_CHUNK_HEADER_BYTES + (uint64_t)h->compressed_bytes;
    if (h->raw_bytes > AS_CHUNK_MAX_RAW_BYTES)
        return errorf(r, AS_EFORMAT, off + 8,
                      "expected at most %u payload "
                      "bytes, found %u",
                      AS_CHUNK_MAX_RAW_BYTES, h->raw_bytes);
    if (h->compressed_bytes > ZSTD_compressBound(h->raw_bytes) ||
        bytes > r->data_end - off)
        return errorf(r, AS_EFORMAT, off + 4,
                      "expected a compressed size "
                      "within the file and the bound for %u bytes, found %u",
                      h->raw_bytes, h->compressed_bytes);
    if (h->events > h->raw_bytes || h->allocs > h->events)
        return errorf(r, AS_EFORMAT, off + 12,
                      "expected allocs <= events <= "
                      "payload bytes, found %u allocs, %u events, %u bytes",
                      h->allocs, h->events, h->raw_bytes);
    if (h->first_object != r->next_id)
        return errorf(r, AS_EFORMAT, off + 20,
                      "expected first object id "
                      "%llu, found %llu",
                      (unsigned long long)r->next_id,
                      (unsigned long long)h->first_object);
    if (h->first_t_ns < r->prev_last_t || h->last_t_ns < h->first_t_ns ||
        (h->events == 0 && h->last_t_ns != h->first_t_ns))
        return errorf(r, AS_EFORMAT, off + 28,
                      "expected chunk times %llu <= "
                      "first <= last, found first %llu, last %llu",
                      (unsigned long long)r->prev_last_t,
                      (unsigned long long)h->first_t_ns,
                      (unsigned long long)h->last_t_ns);
    if (r->have_index) {
        const as_trace_chunk_info_t *c = &r->chunks[r->cur_chunk];
        if (c->bytes != bytes || c->events != h->events ||
            c->first_object != h->first_object ||
            c->first_t_ns != h->first_t_ns || c->last_t_ns != h->last_t_ns ||
            r->chunk_allocs[r->cur_chunk] != h->allocs)
            return errorf(r, AS_ECORRUPT, off,
                          "expected the chunk header to "
                          "match footer index entry %zu, found a mismatch",
                          r->cur_chunk);
    }
    /* Read, check and decompress the frame. */
    if (grow((void **)&r->comp, &r->comp_cap, h->compressed_bytes + 1, 1) ||
        grow((void **)&r->raw, &r->raw_cap,
             (size_t)h->raw_bytes + AS_PAYLOAD_PAD, 1))
        return errorf(r, AS_ENOMEM, off, "out of memory (chunk of %u bytes)",
                      h->raw_bytes);
    if (read_at(r, off + AS_CHUNK_HEADER_BYTES, r->comp, h->compressed_bytes))
        return r->err;
    uint64_t foff = off + AS_CHUNK_HEADER_BYTES;
    /* RFC 8878: magic 0xFD2FB528, then the frame header descriptor whose
     * bit 2 is the content-checksum flag. */
    unsigned long long csize =
        ZSTD_getFrameContentSize(r->comp, h->compressed_bytes);
    if (h->compressed_bytes < 5 || as_get_u32(r->comp) != ZSTD_MAGICNUMBER ||
        !(r->comp[4] & 0x04) || csize != h->raw_bytes)
        return errorf(r, AS_ECORRUPT, foff,
                      "expected a zstd frame of %u "
                      "bytes with a content checksum, found a bad frame "
                      "header",
                      h->raw_bytes);
    size_t fsize = ZSTD_findFrameCompressedSize(r->comp, h->compressed_bytes);
    if (ZSTD_isError(fsize) || fsize != h->compressed_bytes)
        return errorf(r, AS_ECORRUPT, foff,
                      "expected one zstd frame of %u "
                      "bytes, found %s",
                      h->compressed_bytes,
                      ZSTD_isError(fsize) ? ZSTD_getErrorName(fsize)
                                          : "a different size");
    size_t got = ZSTD_decompressDCtx(r->dctx, r->raw, h->raw_bytes, r->comp,
                                     h->compressed_bytes);
    if (ZSTD_isError(got) || got != h->raw_bytes)
        return errorf(r, AS_ECORRUPT, foff,
                      "expected a valid zstd frame, "
                      "found: %s",
                      ZSTD_isError(got) ? ZSTD_getErrorName(got)
                                        : "short content");
    if (!r->have_index && r->cur_chunk >= r->nchunks) {
        if (grow((void **)&r->chunks, &r->chunks_cap, r->nchunks + 1,
                 sizeof *r->chunks) ||
            grow((void **)&r->chunk_allocs, &r->allocs_cap, r->nchunks + 1,
                 sizeof *r->chunk_allocs))
            return errorf(r, AS_ENOMEM, off, "out of memory (chunk list)");
        r->chunk_allocs[r->nchunks] = h->allocs;
        as_trace_chunk_info_t *c = &r->chunks[r->nchunks++];
        c->offset = off;
        c->bytes = bytes;
        c->events = h->events;
        c->first_object = h->first_object;
        c->first_t_ns = h->first_t_ns;
        c->last_t_ns = h->last_t_ns;
    }
    memset(r->raw + h->raw_bytes, 0, AS_PAYLOAD_PAD);
    int lrc = r->version >= 3 ? layout_v3(r, off) : layout_v2(r, off);
    if (lrc) return lrc;
    r->tag_start = r->cur[AS_S_TAG];
    r->chunk_off = off;
    r->next_off = off + bytes;
    r->cur_chunk++;
    r->t = h->first_t_ns;
    r->thread = r->stack = 0;
    r->height = 0;
    memset(r->lastcpu, 0, sizeof r->lastcpu);
    r->ch_events = 0;
    r->in_chunk = 1;
    return 1;
}

static const char *const stream_name[AS_STREAMS] = {
    "tag",  "time",  "thread", "cpu",        "back-reference",
    "size", "align", "stack",  "definition", "height"};

static int finish_chunk(as_trace_reader_t *r)
{
    const as_chunk_header_t *h = &r->ch;
    for (int i = 1; i < AS_STREAMS; i++)
        if (r->cur[i] != r->end[i])
            return errorf(r, AS_EFORMAT, r->chunk_off,
                          "chunk %zu: expected "
                          "the %s stream to be used up by its records, found "
                          "%zu bytes left",
                          r->cur_chunk - 1, stream_name[i],
                          (size_t)(r->end[i] - r->cur[i]));
    if (r->ch_events != h->events)
        return errorf(r, AS_EFORMAT, r->chunk_off + 12,
                      "expected %u events "
                      "in chunk %zu, found %u",
                      h->events, r->cur_chunk - 1, r->ch_events);
    if (r->next_id - h->first_object != h->allocs)
        return errorf(r, AS_EFORMAT, r->chunk_off + 16,
                      "expected %u new "
                      "objects in chunk %zu, found %llu",
                      h->allocs, r->cur_chunk - 1,
                      (unsigned long long)(r->next_id - h->first_object));
    if (r->t != h->last_t_ns)
        return errorf(r, AS_EFORMAT, r->chunk_off + 36,
                      "expected the last "
                      "event of chunk %zu at t=%llu, found t=%llu",
                      r->cur_chunk - 1, (unsigned long long)h->last_t_ns,
                      (unsigned long long)r->t);
    r->prev_last_t = h->last_t_ns;
    r->events_done += h->events;
    r->in_chunk = 0;
    return 0;
}

/* ------------------------------------------------------------ definitions */

static int get_v(as_trace_reader_t *r, int s, uint64_t *v)
{
    return as_get_varint(&r->cur[s], r->end[s], v);
}

static int get_string(as_trace_reader_t *r, const uint8_t *tagp,
                      const uint8_t **str, size_t *n, const char *what)
{
    uint64_t len;
    const uint8_t **pp = &r->cur[AS_S_DEFS], *end = r->end[AS_S_DEFS];
    if (as_get_varint(pp, end, &len) || len > AS_TRACE_MAX_STRING ||
        len > (uint64_t)(end - *pp))
        return payload_error(r, tagp,
                             "expected the length of a %s (<= %u "
                             "and within the definition stream), found a "
                             "bad length",
                             what, AS_TRACE_MAX_STRING);
    *str = *pp;
    *n = (size_t)len;
    if (memchr(*str, 0, *n))
        return payload_error(r, tagp,
                             "expected a %s, found a NUL byte in "
                             "it",
                             what);
    *pp += len;
    return 0;
}

/* The earliest time a sample or write report may have: that of the last
 * event before it (this chunk's, or the previous chunks'), or of the last
 * sample or write report, whichever is later. */
static uint64_t time_floor(const as_trace_reader_t *r)
{
    uint64_t last = r->ch_events ? r->t : r->prev_last_t;
    return last < r->floor_t ? r->floor_t : last;
}

/* Decode a real-memory sample (v2) whose tag is at tagp: t_ns, has, then
 * rss_bytes, anon_huge_bytes and the ten mallinfo fields when `has` says
 * so. Its time must not be
 * before the last event or sample; it becomes the floor of later events.
 * It joins r->samples. */
static int decode_sample(as_trace_reader_t *r, const uint8_t *tagp)
{
    as_mem_sample_t m = {0};
    uint64_t has;
    if (get_v(r, AS_S_DEFS, &m.t_ns) || get_v(r, AS_S_DEFS, &has))
        return payload_error(r, tagp,
                             "expected a sample's time and fields, found "
                             "the end of the definition stream");
    if (has & ~(uint64_t)AS_SAMPLE_KNOWN)
        return payload_error(r, tagp,
                             "expected sample field bits within 0x%x, "
                             "found 0x%llx",
                             AS_SAMPLE_KNOWN, (unsigned long long)has);
    m.has = (uint32_t)has;
    if (((has & AS_SAMPLE_HAS_RSS) && get_v(r, AS_S_DEFS, &m.rss_bytes)) ||
        ((has & AS_SAMPLE_HAS_HUGE) && get_v(r, AS_S_DEFS, &m.anon_huge_bytes)))
        return payload_error(r, tagp,
                             "expected the sample's byte counts, found the "
                             "end of the definition stream");
    if (has & AS_SAMPLE_HAS_MALLINFO) {
        uint64_t *f = m.mallinfo.f;
        for (int i = 0; i < AS_MALLINFO_FIELDS; i++)
            if (get_v(r, AS_S_DEFS, &f[i]))
                return payload_error(r, tagp,
                                     "expected the sample's %d mallinfo "
                                     "fields, found the end of the "
                                     "definition stream",
                                     AS_MALLINFO_FIELDS);
    }
    uint64_t last = time_floor(r);
    if (m.t_ns < last)
        return payload_error(r, tagp,
                             "expected a sample at t >= %llu (the last "
                             "event or sample before it), found t=%llu",
                             (unsigned long long)last,
                             (unsigned long long)m.t_ns);
    if (grow((void **)&r->samples, &r->samples_cap, r->nsamples + 1,
             sizeof *r->samples))
        return errorf(r, AS_ENOMEM, r->chunk_off, "out of memory (samples)");
    m.events_before = r->events_done + r->ch_events;
    if (r->detached) {
        if (!r->det.samples) {
            r->det.first_sample_t = m.t_ns;
            r->det.events_before_first_sample =
                m.events_before - r->seek_events;
        }
        r->det.samples++;
        r->det.last_sample_t = m.t_ns;
    }
    r->samples[r->nsamples++] = m;
    r->samples_total++;
    r->floor_t = m.t_ns;
    return 0;
}

/* Decode a write report (v3) whose tag is at tagp: t_ns, object, offset,
 * bytes. It must cover at least one byte without wrapping, name an id
 * already allocated, and not go back in time; like a sample it becomes the
 * floor of later events. It joins r->writes. (Whether the object is live
 * and the range within its size is for the engine, which knows both.) */
static int decode_write(as_trace_reader_t *r, const uint8_t *tagp)
{
    as_write_t w = {0};
    if (get_v(r, AS_S_DEFS, &w.t_ns) || get_v(r, AS_S_DEFS, &w.object) ||
        get_v(r, AS_S_DEFS, &w.offset) || get_v(r, AS_S_DEFS, &w.bytes))
        return payload_error(r, tagp,
                             "expected a write report's time, object, "
                             "offset and bytes, found the end of the "
                             "definition stream");
    if (w.bytes == 0)
        return payload_error(r, tagp,
                             "expected a write report of at least 1 byte, "
                             "found 0 bytes");
    if (w.offset + w.bytes < w.offset)
        return payload_error(r, tagp,
                             "expected a write report's offset + bytes "
                             "below 2^64, found offset %llu and %llu bytes",
                             (unsigned long long)w.offset,
                             (unsigned long long)w.bytes);
    if (w.object >= r->next_id)
        return payload_error(r, tagp,
                             "expected a write report on an object id "
                             "below %llu (the next unallocated id), found "
                             "object %llu",
                             (unsigned long long)r->next_id,
                             (unsigned long long)w.object);
    uint64_t last = time_floor(r);
    if (w.t_ns < last)
        return payload_error(r, tagp,
                             "expected a write report at t >= %llu (the "
                             "last event, sample or write report before "
                             "it), found t=%llu",
                             (unsigned long long)last,
                             (unsigned long long)w.t_ns);
    if (grow((void **)&r->writes, &r->writes_cap, r->nwrites + 1,
             sizeof *r->writes))
        return errorf(r, AS_ENOMEM, r->chunk_off,
                      "out of memory (write reports)");
    w.events_before = r->events_done + r->ch_events;
    if (r->detached) {
        if (!r->det.writes) {
            r->det.first_write_t = w.t_ns;
            r->det.events_before_first_write = w.events_before - r->seek_events;
        }
        r->det.writes++;
        r->det.last_write_t = w.t_ns;
    }
    r->writes[r->nwrites++] = w;
    r->writes_total++;
    r->floor_t = w.t_ns;
    return 0;
}

/* Detached: keep the largest id - lim of a definition (id <= 2^32 - 1),
 * which the caller compares with twice the definitions before the seek. */
static void note_excess(int64_t *excess, uint64_t id, uint64_t lim)
{
    int64_t e = (int64_t)id - (int64_t)lim;
    if (e > *excess) *excess = e;
}

/* Detached: the stacks events [0, n) name, all after the definitions
 * absorbed so far but the one pending (decoded after them): an id above
 * those defined since the seek must be defined before it. */
static void note_stacks(as_trace_reader_t *r, const as_event_t *ev, size_t n)
{
    uint64_t need = r->det.stack_need, have = r->det.max_stack_def;
    for (size_t i = 0; i < n; i++)
        if (ev[i].stack > have && ev[i].stack > need) need = ev[i].stack;
    r->det.stack_need = need;
    if (r->det.pending_stack > r->det.max_stack_def)
        r->det.max_stack_def = r->det.pending_stack;
    r->det.pending_stack = 0;
}

/* Decode the definition whose tag is at tagp (body in the defs stream). */
static int decode_def(as_trace_reader_t *r, const uint8_t *tagp)
{
    uint8_t tag = *tagp;
    uint64_t id = 0, v1, v2;
    if (tag == AS_TAG_FRAME) {
        const uint8_t *mod, *sym;
        size_t ml, sl;
        if (get_v(r, AS_S_DEFS, &id) || get_v(r, AS_S_DEFS, &v1) ||
            get_v(r, AS_S_DEFS, &v2))
            return payload_error(r, tagp,
                                 "expected frame id, pc and offset, "
                                 "found the end of the definition stream");
        uint64_t lim = 2 * r->nframe_defs + AS_TRACE_ID_SLACK;
        if (r->detached && id > 0 && id <= UINT32_MAX)
            note_excess(&r->det.frame_excess, id, lim);
        else if (id == 0 || id > lim)
            return payload_error(r, tagp,
                                 "expected a frame id in 1..%llu, "
                                 "found %llu",
                                 (unsigned long long)lim,
                                 (unsigned long long)id);
        int rc;
        if ((rc = get_string(r, tagp, &mod, &ml, "module")) ||
            (rc = get_string(r, tagp, &sym, &sl, "symbol")))
            return rc;
        if (r->detached) {
            r->nframe_defs++;
            r->det.frame_defs++;
            goto done;
        }
        if (id >= r->frames_cap) {
            size_t cap = r->frames_cap, old = cap;
            if (grow((void **)&r->frames, &cap, (size_t)id + 1,
                     sizeof *r->frames))
                return errorf(r, AS_ENOMEM, r->chunk_off, "out of memory");
            memset(r->frames + old, 0, (cap - old) * sizeof *r->frames);
            r->frames_cap = (uint32_t)cap;
        }
        as_rframe_t *f = &r->frames[id];
        char *m = dup_n(mod, ml), *sy = dup_n(sym, sl);
        if (!m || !sy) {
            free(m);
            free(sy);
            return errorf(r, AS_ENOMEM, r->chunk_off, "out of memory");
        }
        free(f->module);
        free(f->symbol);
        f->module = m;
        f->symbol = sy;
        f->pc = v1;
        f->offset = v2;
        r->nframe_defs++;
        if (id > r->max_frame) r->max_frame = (uint32_t)id;
    } else if (tag == AS_TAG_STACK) {
        if (get_v(r, AS_S_DEFS, &id) || get_v(r, AS_S_DEFS, &v1))
            return payload_error(r, tagp,
                                 "expected stack id and depth, found "
                                 "the end of the definition stream");
        uint64_t lim = 2 * r->nstack_defs + AS_TRACE_ID_SLACK;
        if (r->detached && id > 0 && id <= UINT32_MAX)
            note_excess(&r->det.stack_excess, id, lim);
        else if (id == 0 || id > lim)
            return payload_error(r, tagp,
                                 "expected a stack id in 1..%llu, "
                                 "found %llu",
                                 (unsigned long long)lim,
                                 (unsigned long long)id);
        if (v1 > AS_TRACE_MAX_DEPTH ||
            v1 > (uint64_t)(r->end[AS_S_DEFS] - r->cur[AS_S_DEFS]))
            return payload_error(r, tagp,
                                 "expected a stack depth <= %u and "
                                 "within the definition stream, found %llu",
                                 AS_TRACE_MAX_DEPTH, (unsigned long long)v1);
        if (!r->detached && (r->pool_len + v1 > UINT32_MAX ||
                             grow((void **)&r->pool, &r->pool_cap,
                                  r->pool_len + (size_t)v1, sizeof *r->pool)))
            return errorf(r, AS_ENOMEM, r->chunk_off, "out of memory");
        for (uint64_t i = 0; i < v1; i++) {
            if (get_v(r, AS_S_DEFS, &v2) || v2 > UINT32_MAX)
                return payload_error(r, tagp,
                                     "expected %llu frame ids in "
                                     "stack %llu, found a bad one at %llu",
                                     (unsigned long long)v1,
                                     (unsigned long long)id,
                                     (unsigned long long)i);
            if (!r->detached) r->pool[r->pool_len + i] = (uint32_t)v2;
        }
        if (r->detached) {
            r->nstack_defs++;
            r->det.stack_defs++;
            r->det.pending_stack = (uint32_t)id; /* see note_stacks */
            goto done;
        }
        if (id >= r->stacks_cap) {
            size_t cap = r->stacks_cap, old = cap;
            if (grow((void **)&r->stacks, &cap, (size_t)id + 1,
                     sizeof *r->stacks))
                return errorf(r, AS_ENOMEM, r->chunk_off, "out of memory");
            memset(r->stacks + old, 0, (cap - old) * sizeof *r->stacks);
            r->stacks_cap = (uint32_t)cap;
        }
        as_rstack_t *st = &r->stacks[id];
        st->off = (uint32_t)r->pool_len;
        st->depth = (uint32_t)v1;
        st->defined = 1;
        r->pool_len += (size_t)v1;
        r->nstack_defs++;
        if (id > r->max_stack) r->max_stack = (uint32_t)id;
    } else if (tag == AS_TAG_META) {
        const uint8_t *k, *v;
        size_t kl, vl;
        int rc;
        if ((rc = get_string(r, tagp, &k, &kl, "meta key")) ||
            (rc = get_string(r, tagp, &v, &vl, "meta value")))
            return rc;
        if (meta_set(r, k, kl, v, vl, &r->last_meta))
            return errorf(r, AS_ENOMEM, r->chunk_off, "out of memory");
    } else if (tag == AS_TAG_SAMPLE && r->version >= 2) {
        int rc = decode_sample(r, tagp);
        if (rc) return rc;
    } else if (tag == AS_TAG_WRITE && r->version >= 3) {
        int rc = decode_write(r, tagp);
        if (rc) return rc;
    } else {
        return payload_error(r, tagp,
                             "expected a record tag (event, frame, "
                             "stack, meta%s), found 0x%02x",
                             r->version >= 3   ? ", sample or write"
                             : r->version >= 2 ? " or sample"
                                               : "",
                             tag);
    }
done:
    r->last_def = tag;
    r->last_def_id = (uint32_t)id;
    return 0;
}

/* ------------------------------------------------------------ events */

/* Decode the event whose tag is at r->cur[AS_S_TAG] one field at a time,
 * checking each: the slow path for long varints, and the one that words
 * the error when the fast path's combined check fails. Advances every
 * cursor and the decode state. @return 0 or AS_EFORMAT. */
static int decode_event_careful(as_trace_reader_t *r, as_event_t *ev)
{
    const uint8_t *tagp = r->cur[AS_S_TAG];
    unsigned tag = *tagp, kind = tag & AS_TAG_KIND_MASK;
    uint64_t v, last_t = r->ch.last_t_ns;
#define GET(s)                                                                 \
    do {                                                                       \
        if (get_v(r, s, &v))                                                   \
            return payload_error(                                              \
                r, tagp,                                                       \
                "expected a varint in the %s "                                 \
                "stream, found %s",                                            \
                stream_name[s],                                                \
                r->cur[s] >= r->end[s] ? "its end" : "an overlong varint");    \
    } while (0)
    if ((tag & AS_TAG_RESERVED) &&
        (r->version == 1 || kind == AS_TAG_FREE || kind == AS_TAG_DEF))
        return payload_error(r, tagp,
                             "expected tag bit 7 clear (%s), "
                             "found tag 0x%02x",
                             r->version == 1 ? "reserved in format v1"
                                             : "a free has no stack height",
                             tag);
    if (kind == AS_TAG_DEF)
        return payload_error(r, tagp,
                             "expected an event, found a "
                             "definition tag 0x%02x",
                             tag);
    if (kind == AS_TAG_FREE && (tag & (AS_TAG_HAS_ALIGN | AS_TAG_SAME_STACK)))
        return payload_error(r, tagp,
                             "expected a free tag without "
                             "align/stack bits, found 0x%02x",
                             tag);
    if (!(tag & AS_TAG_ZERO_DT)) {
        GET(AS_S_DT);
        if (r->ch_events == 0 || v > last_t - r->t)
            return payload_error(r, tagp,
                                 "expected a time delta keeping t "
                                 "within the chunk's [%llu, %llu] (none on "
                                 "its first event), found %llu after t=%llu",
                                 (unsigned long long)r->ch.first_t_ns,
                                 (unsigned long long)last_t,
                                 (unsigned long long)v,
                                 (unsigned long long)r->t);
        r->t += v;
    }
    if (r->t < r->floor_t)
        return payload_error(r, tagp,
                             "expected an event at t >= %llu (the sample "
                             "before it), found t=%llu",
                             (unsigned long long)r->floor_t,
                             (unsigned long long)r->t);
    if (!(tag & AS_TAG_SAME_THREAD)) {
        GET(AS_S_THREAD);
        if (v > UINT32_MAX)
            return payload_error(r, tagp,
                                 "expected a 32-bit thread, found "
                                 "%llu",
                                 (unsigned long long)v);
        r->thread = (uint32_t)v;
    }
    uint32_t *slot = &r->lastcpu[r->thread % AS_CPU_SLOTS];
    if (!(tag & AS_TAG_SAME_CPU)) {
        GET(AS_S_CPU);
        if (v > UINT32_MAX)
            return payload_error(r, tagp, "expected a 32-bit cpu, found %llu",
                                 (unsigned long long)v);
        *slot = (uint32_t)v;
    }
    ev->kind = (uint8_t)kind;
    ev->t_ns = r->t;
    ev->thread = r->thread;
    ev->cpu = *slot;
    ev->object = r->next_id;
    ev->new_object = 0;
    ev->size = ev->align = 0;
    ev->stack = 0;
    ev->stack_height = 0;
    if (kind != AS_TAG_ALLOC) {
        GET(AS_S_BACK);
        if (v >= r->next_id)
            return payload_error(r, tagp,
                                 "expected a %s of an id below %llu "
                                 "(the next unallocated id), found a "
                                 "back-reference of %llu, naming id %lld "
                                 "which was never allocated",
                                 kind == AS_TAG_FREE ? "free" : "realloc",
                                 (unsigned long long)r->next_id,
                                 (unsigned long long)v,
                                 (long long)(r->next_id - 1 - v));
        ev->object = r->next_id - 1 - v;
    }
    if (kind != AS_TAG_FREE) {
        GET(AS_S_SIZE);
        ev->size = v;
        if (tag & AS_TAG_HAS_ALIGN) {
            GET(AS_S_ALIGN);
            ev->align = v;
        }
        if (!(tag & AS_TAG_SAME_STACK)) {
            GET(AS_S_STACK);
            if (v > r->max_stack)
                return payload_error(r, tagp,
                                     "expected a defined stack id "
                                     "(0..%u), found %llu",
                                     r->max_stack, (unsigned long long)v);
            r->stack = (uint32_t)v;
        }
        ev->stack = r->stack;
        if (r->version >= 2 && !(tag & AS_TAG_SAME_HEIGHT)) {
            GET(AS_S_HEIGHT);
            r->height = v;
        }
        ev->stack_height = r->height;
        if (kind == AS_TAG_REALLOC) ev->new_object = r->next_id;
        r->next_id++;
    }
#undef GET
    r->cur[AS_S_TAG]++;
    r->ch_events++;
    return 0;
}

#define AS_DECODE_DEF 1   /* decode_events stopped after a definition */
#define AS_RUN_EVENTS 256 /* events per fast run; AS_PAYLOAD_PAD covers it */

/* Decode state saved at the start of a fast run. */
typedef struct {
    const uint8_t *cur[AS_STREAMS];
    uint64_t t, next_id, height;
    uint32_t thread, stack, ch_events;
    uint32_t lastcpu[AS_CPU_SLOTS];
} as_run_state_t;

/* The hot path: decode events of the loaded chunk into evs[*n..cap).
 * Events are decoded in runs of at most AS_RUN_EVENTS. Within a run each
 * field comes from its own stream: time, back-reference, size and align
 * with the branch-free as_varint4, thread, cpu and stack as one byte (a
 * longer value takes the careful path), all masked by the tag's flags so the
 * tag is not branched on. Every rule is folded into one flag per event; stream
 * overruns are checked once per run (the zero padding after the payload
 * keeps a run's reads inside the buffer) and a run that overran is
 * replayed through decode_event_careful(), which words the error.
 * @return 0 (cap reached or tag stream used up), AS_DECODE_DEF (stopped
 * after a definition, with stop_at_def), or an error. */
static int decode_events(as_trace_reader_t *r, as_event_t *evs, size_t cap,
                         size_t *n_io, int stop_at_def)
{
    size_t n = *n_io;
    const uint8_t *const et = r->end[AS_S_TAG];
    while (n < cap && r->cur[AS_S_TAG] < et) {
        const uint8_t *ct = r->cur[AS_S_TAG];
        if (__builtin_expect((*ct & AS_TAG_KIND_MASK) == AS_TAG_DEF, 0)) {
            int rc = decode_def(r, ct);
            if (rc) return rc;
            r->cur[AS_S_TAG] = ct + 1;
            if (stop_at_def) {
                *n_io = n;
                return AS_DECODE_DEF;
            }
            continue;
        }
        /* An event right after a sample later than the decode time: the
         * careful path checks it against the sample (events after it are
         * at or after it, so a run never needs the check). */
        if (__builtin_expect(r->floor_t > r->t, 0)) {
            int rc = decode_event_careful(r, &evs[n]);
            if (rc) return rc;
            n++;
            continue;
        }
        /* One run. */
        as_run_state_t snap;
        memcpy(snap.cur, r->cur, sizeof snap.cur);
        snap.t = r->t;
        snap.next_id = r->next_id;
        snap.thread = r->thread;
        snap.stack = r->stack;
        snap.height = r->height;
        snap.ch_events = r->ch_events;
        memcpy(snap.lastcpu, r->lastcpu, sizeof snap.lastcpu);
        size_t run_end = cap - n > AS_RUN_EVENTS ? n + AS_RUN_EVENTS : cap;
        size_t run_start = n;
        const uint8_t *cd = r->cur[AS_S_DT], *ch = r->cur[AS_S_THREAD];
        const uint8_t *cc = r->cur[AS_S_CPU], *cb = r->cur[AS_S_BACK];
        const uint8_t *cs = r->cur[AS_S_SIZE], *ca = r->cur[AS_S_ALIGN];
        const uint8_t *ck = r->cur[AS_S_STACK];
        const uint8_t *cg = r->cur[AS_S_HEIGHT];
        const uint64_t v2 = r->height_bit != 0;
        const uint8_t *const bad_bits = r->bad_bits;
        uint64_t height = r->height;
        uint64_t t = r->t, next_id = r->next_id;
        const uint64_t last_t = r->ch.last_t_ns;
        uint64_t thread = r->thread, stack = r->stack;
        const uint64_t max_stack = r->max_stack;
        uint32_t nev = r->ch_events;
        uint32_t *const lastcpu = r->lastcpu;
        uint64_t bad = 0;
        while (n < run_end && ct < et) {
            unsigned tag = *ct;
            unsigned kind = tag & AS_TAG_KIND_MASK;
            if (kind == AS_TAG_DEF) break;
            uint64_t has_dt = !(tag & AS_TAG_ZERO_DT);
            uint64_t has_th = !(tag & AS_TAG_SAME_THREAD);
            uint64_t has_cpu = !(tag & AS_TAG_SAME_CPU);
            uint64_t has_back = kind != AS_TAG_ALLOC;
            uint64_t has_new = kind != AS_TAG_FREE;
            uint64_t has_stack = has_new & !(tag & AS_TAG_SAME_STACK);
            unsigned l;
            uint64_t v, m;
            /* time */
            v = as_varint4(cd, &l);
            m = (uint64_t)0 - has_dt;
            bad |= (uint64_t)(l == 0) & has_dt;
            uint64_t dt = v & m;
            const uint8_t *nd = cd + (l & (unsigned)m);
            /* thread, cpu: one byte each */
            v = *ch;
            bad |= (v >> 7) & has_th;
            uint64_t th = has_th ? v : thread;
            const uint8_t *nh = ch + has_th;
            uint32_t *slot = &lastcpu[th % AS_CPU_SLOTS];
            v = *cc;
            bad |= (v >> 7) & has_cpu;
            uint64_t cpu = has_cpu ? v : *slot;
            const uint8_t *nc = cc + has_cpu;
            /* back-reference */
            v = as_varint4(cb, &l);
            m = (uint64_t)0 - has_back;
            bad |= (uint64_t)(l == 0) & has_back;
            uint64_t back = v & m;
            const uint8_t *nb = cb + (l & (unsigned)m);
            /* size */
            v = as_varint4(cs, &l);
            m = (uint64_t)0 - has_new;
            bad |= (uint64_t)(l == 0) & has_new;
            uint64_t size = v & m;
            const uint8_t *ns = cs + (l & (unsigned)m);
            /* align: rare, so a predictable branch */
            uint64_t align = 0;
            const uint8_t *na = ca;
            if (tag & AS_TAG_HAS_ALIGN) {
                align = as_varint4(ca, &l);
                bad |= (uint64_t)(l == 0);
                na = ca + l;
            }
            /* stack: one byte */
            v = *ck;
            bad |= (v >> 7) & has_stack;
            uint64_t stk = has_stack ? v : stack;
            const uint8_t *nk = ck + has_stack;
            /* stack height (v2): bit 7 says "same as before"; a height
             * that changes is a branch (none in v1 or generated traces,
             * so it costs them nothing but the test) */
            uint64_t bit7 = (tag >> 7) & 1;
            uint64_t hgt = height;
            const uint8_t *ng = cg;
            if (has_new & v2 & (bit7 ^ 1)) {
                hgt = as_varint4(cg, &l);
                bad |= (uint64_t)(l == 0);
                ng = cg + l;
            }
            bad |= (tag & bad_bits[kind]) | (dt > last_t - t) |
                   (has_dt & (nev == 0)) | (has_back & (back >= next_id)) |
                   (stk > max_stack);
            if (__builtin_expect(bad != 0, 0)) break;
            cd = nd;
            ch = nh;
            cc = nc;
            cb = nb;
            cs = ns;
            ca = na;
            ck = nk;
            cg = ng;
            t += dt;
            thread = th;
            *slot = (uint32_t)cpu;
            stack = stk;
            height = hgt;
            as_event_t *ev = &evs[n];
            ev->kind = (uint8_t)kind;
            ev->t_ns = t;
            ev->thread = (uint32_t)th;
            ev->cpu = (uint32_t)cpu;
            ev->object = has_back ? next_id - 1 - back : next_id;
            ev->new_object = kind == AS_TAG_REALLOC ? next_id : 0;
            ev->size = size;
            ev->align = align;
            ev->stack = (uint32_t)(stk & ((uint64_t)0 - has_new));
            ev->stack_height = hgt & ((uint64_t)0 - has_new);
            next_id += has_new;
            nev++;
            ct++;
            n++;
        }
        /* The run's reads stayed in the buffer; were they in the streams? */
        uint64_t over = (cd > r->end[AS_S_DT]) | (ch > r->end[AS_S_THREAD]) |
                        (cc > r->end[AS_S_CPU]) | (cb > r->end[AS_S_BACK]) |
                        (cs > r->end[AS_S_SIZE]) | (ca > r->end[AS_S_ALIGN]) |
                        (ck > r->end[AS_S_STACK]) | (cg > r->end[AS_S_HEIGHT]);
        if (__builtin_expect(over != 0, 0)) {
            /* Replay the run carefully from its start: it fails where the
             * fast path first read past a stream. */
            memcpy(r->cur, snap.cur, sizeof snap.cur);
            r->t = snap.t;
            r->next_id = snap.next_id;
            r->thread = snap.thread;
            r->stack = snap.stack;
            r->height = snap.height;
            r->ch_events = snap.ch_events;
            memcpy(r->lastcpu, snap.lastcpu, sizeof snap.lastcpu);
            for (n = run_start;
                 n < run_end && r->cur[AS_S_TAG] < et &&
                 (*r->cur[AS_S_TAG] & AS_TAG_KIND_MASK) != AS_TAG_DEF;
                 n++) {
                int rc = decode_event_careful(r, &evs[n]);
                if (rc) return rc;
            }
            return errorf(r, AS_EFORMAT, r->chunk_off,
                          "chunk %zu: expected "
                          "the streams to hold every field, found an overrun",
                          r->cur_chunk - 1);
        }
        r->cur[AS_S_TAG] = ct;
        r->cur[AS_S_DT] = cd;
        r->cur[AS_S_THREAD] = ch;
        r->cur[AS_S_CPU] = cc;
        r->cur[AS_S_BACK] = cb;
        r->cur[AS_S_SIZE] = cs;
        r->cur[AS_S_ALIGN] = ca;
        r->cur[AS_S_STACK] = ck;
        r->cur[AS_S_HEIGHT] = cg;
        r->height = height;
        r->t = t;
        r->next_id = next_id;
        r->thread = (uint32_t)thread;
        r->stack = (uint32_t)stack;
        r->ch_events = nev;
        if (bad) { /* this event breaks a rule or needs the slow path */
            int rc = decode_event_careful(r, &evs[n]);
            if (rc) return rc;
            n++;
        }
    }
    *n_io = n;
    return 0;
}

/* ------------------------------------------------------- version 3 */

#define AS_SEG_EVENTS 256 /* events decoded per columnar segment */

/* unpack: the next cnt values of column c into out[0..cnt), out[cnt] = 0
 * (a sentinel the scatter loop may read and mask). One pass per byte
 * plane over a contiguous run of bytes: no per-value branches. */
static void unpack(as_trace_reader_t *r, int c, size_t cnt, uint64_t *out)
{
    const uint64_t base = r->col_base[c], n = r->col_n[c];
    const uint8_t *p = r->col[c] + r->col_i[c];
    for (size_t i = 0; i < cnt; i++)
        out[i] = base;
    for (unsigned b = 0; b < r->col_w[c]; b++, p += n) {
        const unsigned sh = 8 * b;
        for (size_t i = 0; i < cnt; i++)
            out[i] += (uint64_t)p[i] << sh;
    }
    out[cnt] = 0;
    r->col_i[c] += cnt;
}

/* The columns of one segment of events (between definitions). */
typedef struct as_seg {
    uint64_t v[AS_COLUMNS][AS_SEG_EVENTS + 1];
} as_seg_t;

/* Word the error for the first event of a segment that breaks a rule
 * (the fast loops only know that one did). t[] holds the decoded times. */
static int segment_error(as_trace_reader_t *r, const uint8_t *ct, size_t m,
                         const as_seg_t *sg, const uint64_t *t)
{
    uint64_t prev = r->t > r->floor_t ? r->t : r->floor_t;
    uint64_t next_id = r->next_id, last_t = r->ch.last_t_ns;
    size_t ia = 0, ib = 0;
    for (size_t i = 0; i < m; i++) {
        unsigned tag = ct[i];
        if (r->ch_events == 0 && i == 0 && t[0] != r->ch.first_t_ns)
            return payload_error(r, ct,
                                 "expected the chunk's first event at "
                                 "t=%llu (its header), found t=%llu",
                                 (unsigned long long)r->ch.first_t_ns,
                                 (unsigned long long)t[0]);
        if (t[i] < prev || t[i] > last_t)
            return payload_error(r, ct + i,
                                 "expected a time in [%llu, %llu] "
                                 "(the event or sample before it, the "
                                 "chunk's last), found t=%llu",
                                 (unsigned long long)prev,
                                 (unsigned long long)last_t,
                                 (unsigned long long)t[i]);
        prev = t[i];
        if (sg->v[AS_C_THREAD][i] > UINT32_MAX ||
            sg->v[AS_C_CPU][i] > UINT32_MAX)
            return payload_error(r, ct + i,
                                 "expected a 32-bit thread and "
                                 "cpu, found %llu and %llu",
                                 (unsigned long long)sg->v[AS_C_THREAD][i],
                                 (unsigned long long)sg->v[AS_C_CPU][i]);
        if ((tag >> 1) && sg->v[AS_C_BACK][ib] >= next_id)
            return payload_error(r, ct + i,
                                 "expected a %s of an id below "
                                 "%llu (the next unallocated id), found a "
                                 "back-reference of %llu, naming an id "
                                 "never allocated",
                                 tag == AS_TAG_FREE ? "free" : "realloc",
                                 (unsigned long long)next_id,
                                 (unsigned long long)sg->v[AS_C_BACK][ib]);
        if ((tag & 1) && sg->v[AS_C_STACK][ia] > r->max_stack)
            return payload_error(r, ct + i,
                                 "expected a defined stack id "
                                 "(0..%u), found %llu",
                                 r->max_stack,
                                 (unsigned long long)sg->v[AS_C_STACK][ia]);
        ib += tag >> 1;
        ia += tag & 1;
        next_id += tag & 1;
    }
    return payload_error(r, ct, "expected a valid segment, found a bad one");
}

/* Decode the m event records whose tags are at ct (no definitions among
 * them) into evs[0..m): each column is unpacked by its own loop, times are
 * rebuilt by one loop, and one more loop assembles the events and folds
 * every rule into one flag. @return 0 or AS_EFORMAT. */
static int decode_segment_v3(as_trace_reader_t *r, const uint8_t *ct, size_t m,
                             as_event_t *evs)
{
    as_seg_t *sg = r->seg;
    size_t nb = 0, na = 0;
    for (size_t i = 0; i < m; i++) {
        nb += ct[i] >> 1;
        na += ct[i] & 1;
    }
    unpack(r, AS_C_TIME, m, sg->v[AS_C_TIME]);
    unpack(r, AS_C_THREAD, m, sg->v[AS_C_THREAD]);
    unpack(r, AS_C_CPU, m, sg->v[AS_C_CPU]);
    unpack(r, AS_C_BACK, nb, sg->v[AS_C_BACK]);
    for (int c = AS_C_SIZE; c < AS_COLUMNS; c++)
        unpack(r, c, na, sg->v[c]);
    /* times: the code becomes t in place */
    uint64_t *t = sg->v[AS_C_TIME];
    const uint64_t *th = sg->v[AS_C_THREAD], last_t = r->ch.last_t_ns;
    uint64_t prev = r->t > r->floor_t ? r->t : r->floor_t, bad = 0;
    if (r->time_mode == AS_TIME_DELTA) {
        uint64_t cur = r->t;
        for (size_t i = 0; i < m; i++) {
            uint64_t d = t[i];
            bad |= d > last_t - cur;
            cur += d;
            t[i] = cur;
        }
    } else {
        uint64_t *st = r->slot_t, *sd = r->slot_dt;
        for (size_t i = 0; i < m; i++) {
            unsigned k = (unsigned)(th[i] % AS_TIME_SLOTS);
            uint64_t ti = st[k] + sd[k] + as_unzigzag(t[i]);
            sd[k] = ti - st[k];
            st[k] = ti;
            t[i] = ti;
        }
    }
    for (size_t i = 0; i < m; i++) {
        bad |= (t[i] < prev) | (t[i] > last_t);
        prev = t[i];
    }
    if (r->ch_events == 0 && m) bad |= t[0] != r->ch.first_t_ns;
    const uint64_t *cpu = sg->v[AS_C_CPU], *back = sg->v[AS_C_BACK];
    const uint64_t *size = sg->v[AS_C_SIZE], *align = sg->v[AS_C_ALIGN];
    const uint64_t *stack = sg->v[AS_C_STACK], *hgt = sg->v[AS_C_HEIGHT];
    const uint64_t max_stack = r->max_stack;
    uint64_t next_id = r->next_id;
    size_t ia = 0, ib = 0;
    for (size_t i = 0; i < m; i++) {
        uint64_t tag = ct[i], hb = tag >> 1, hn = tag & 1;
        uint64_t mn = (uint64_t)0 - hn, b = back[ib];
        bad |= (th[i] | cpu[i]) >> 32;
        bad |= hb & (b >= next_id);
        bad |= hn & (stack[ia] > max_stack);
        as_event_t *ev = &evs[i];
        ev->kind = (uint8_t)tag;
        ev->t_ns = t[i];
        ev->thread = (uint32_t)th[i];
        ev->cpu = (uint32_t)cpu[i];
        ev->object = hb ? next_id - 1 - b : next_id;
        ev->new_object = tag == AS_TAG_REALLOC ? next_id : 0;
        ev->size = size[ia] & mn;
        ev->align = align[ia] & mn;
        ev->stack = (uint32_t)(stack[ia] & mn);
        ev->stack_height = hgt[ia] & mn;
        next_id += hn;
        ia += hn;
        ib += hb;
    }
    if (__builtin_expect(bad != 0, 0)) return segment_error(r, ct, m, sg, t);
    if (m) r->t = t[m - 1];
    r->next_id = next_id;
    r->ch_events += (uint32_t)m;
    return 0;
}

/* The v3 hot path: like decode_events, a segment of up to AS_SEG_EVENTS
 * event records at a time. */
static int decode_events_v3(as_trace_reader_t *r, as_event_t *evs, size_t cap,
                            size_t *n_io, int stop_at_def)
{
    size_t n = *n_io;
    const uint8_t *const et = r->end[AS_S_TAG];
    if (!r->seg && !(r->seg = malloc(sizeof *r->seg)))
        return errorf(r, AS_ENOMEM, r->chunk_off, "out of memory (segment)");
    while (n < cap && r->cur[AS_S_TAG] < et) {
        const uint8_t *ct = r->cur[AS_S_TAG];
        if (!AS_TAG_V3_EVENT(*ct)) {
            int rc = decode_def(r, ct);
            if (rc) return rc;
            r->cur[AS_S_TAG] = ct + 1;
            if (stop_at_def) {
                *n_io = n;
                return AS_DECODE_DEF;
            }
            continue;
        }
        size_t lim = cap - n < AS_SEG_EVENTS ? cap - n : AS_SEG_EVENTS;
        if ((size_t)(et - ct) < lim) lim = (size_t)(et - ct);
        size_t m = 1;
        while (m < lim && AS_TAG_V3_EVENT(ct[m]))
            m++;
        int rc = decode_segment_v3(r, ct, m, evs + n);
        if (rc) return rc;
        r->cur[AS_S_TAG] = ct + m;
        n += m;
    }
    *n_io = n;
    return 0;
}

/* Fill evs with up to cap events. With def non-NULL, stop after a
 * definition record (absorbed; *def = 1) and return the events before it;
 * *def = 0 otherwise. @return the events stored, or a negative error. */
static long next_common(as_trace_reader_t *r, as_event_t *evs, size_t cap,
                        int *def)
{
    if (def) *def = 0;
    if (r->err) return r->err;
    size_t n = 0;
    while (n < cap) {
        if (!r->in_chunk) {
            if (r->done) break;
            int rc = load_chunk(r);
            if (rc < 0) return rc;
            if (rc == 0) break;
        }
        if (r->cur[AS_S_TAG] == r->end[AS_S_TAG]) {
            int rc = finish_chunk(r);
            if (rc) return rc;
            continue;
        }
        size_t n0 = n;
        int stop = def || r->detached;
        int rc = r->version >= 3 ? decode_events_v3(r, evs, cap, &n, stop)
                                 : decode_events(r, evs, cap, &n, stop);
        if (rc < 0) return rc;
        if (r->detached) note_stacks(r, evs + n0, n - n0);
        if (rc == AS_DECODE_DEF && def) {
            *def = 1;
            break;
        }
    }
    return (long)n;
}

long as_trace_reader_next_batch(as_trace_reader_t *r, as_event_t *evs,
                                size_t cap)
{
    if (cap == 0) return r->err ? r->err : 0;
    return next_common(r, evs, cap, NULL);
}

int as_trace_reader_next(as_trace_reader_t *r, as_event_t *ev)
{
    return (int)next_common(r, ev, 1, NULL);
}

long as_trace_reader_next_span(as_trace_reader_t *r, as_event_t *evs,
                               size_t cap, int *def)
{
    *def = 0;
    if (cap == 0) return r->err ? r->err : 0;
    return next_common(r, evs, cap, def);
}

void as_trace_reader_last_def(const as_trace_reader_t *r,
                              as_trace_record_t *rec)
{
    memset(rec, 0, sizeof *rec);
    rec->id = r->last_def_id;
    if (r->last_def == AS_TAG_FRAME) {
        rec->kind = AS_TRACE_REC_FRAME;
        as_trace_reader_frame(r, rec->id, &rec->frame);
    } else if (r->last_def == AS_TAG_STACK) {
        rec->kind = AS_TRACE_REC_STACK;
        as_trace_reader_stack(r, rec->id, &rec->frames, &rec->depth);
    } else if (r->last_def == AS_TAG_SAMPLE) {
        rec->kind = AS_TRACE_REC_SAMPLE;
        rec->id = 0;
        rec->sample = r->samples[r->nsamples - 1];
    } else if (r->last_def == AS_TAG_WRITE) {
        rec->kind = AS_TRACE_REC_WRITE;
        rec->id = 0;
        rec->write = r->writes[r->nwrites - 1];
    } else {
        rec->kind = AS_TRACE_REC_META;
        rec->id = 0;
        rec->key = r->meta[r->last_meta].key;
        rec->value = r->meta[r->last_meta].value;
    }
}

int as_trace_reader_next_record(as_trace_reader_t *r, as_trace_record_t *rec)
{
    memset(rec, 0, sizeof *rec);
    int def;
    long rc = next_common(r, &rec->event, 1, &def);
    if (rc == 1) {
        rec->kind = AS_TRACE_REC_EVENT;
        return 1;
    }
    if (rc < 0 || !def) return (int)rc;
    as_trace_reader_last_def(r, rec);
    return 1;
}

int as_trace_reader_seek_chunk(as_trace_reader_t *r, size_t k, size_t count)
{
    if (!r->have_index || k > r->nchunks) return AS_EINVAL;
    if (r->err) return r->err;
    r->detached = 1;
    r->end_chunk = count > r->nchunks - k ? r->nchunks : k + count;
    r->cur_chunk = k;
    r->next_off = k < r->nchunks ? r->chunks[k].offset : r->data_end;
    r->in_chunk = 0;
    r->done = 0;
    r->next_id =
        k < r->nchunks
            ? r->chunks[k].first_object
            : (k ? r->chunks[k - 1].first_object + r->chunk_allocs[k - 1] : 0);
    r->prev_last_t = k ? r->chunks[k - 1].last_t_ns : 0;
    uint64_t ev = 0;
    for (size_t i = 0; i < k; i++)
        ev += r->chunks[i].events;
    r->events_done = r->seek_events = ev;
    r->floor_t = 0;
    r->nsamples = 0;
    r->nwrites = 0;
    r->max_stack = UINT32_MAX; /* stack ids are checked by the caller */
    r->nstack_defs = r->nframe_defs = 0;
    memset(&r->det, 0, sizeof r->det);
    r->det.stack_excess = r->det.frame_excess = INT64_MIN;
    return 0;
}

const as_trace_detached_t *as_trace_reader_detached(const as_trace_reader_t *r)
{
    return &r->det;
}

int as_trace_reader_clone(const as_trace_reader_t *r, as_trace_reader_t **out)
{
    if (r->mem) return as_trace_reader_open_mem(out, r->path, r->mem, r->size);
    return as_trace_reader_open(out, r->path);
}

int as_trace_reader_rewind(as_trace_reader_t *r)
{
    if (r->err && r->err != AS_EFORMAT && r->err != AS_ECORRUPT &&
        r->err != AS_ETRUNCATED)
        return r->err;
    r->err = 0;
    r->msg[0] = '\0';
    r->cur_chunk = 0;
    r->next_off = r->data_start;
    r->in_chunk = 0;
    r->done = 0;
    r->truncated = 0;
    r->next_id = 0;
    r->prev_last_t = 0;
    r->events_done = 0;
    r->floor_t = 0;
    r->nsamples = 0;
    r->samples_total = 0;
    r->nwrites = 0;
    r->writes_total = 0;
    return 0;
}

uint32_t as_trace_reader_version(const as_trace_reader_t *r)
{
    return r->version;
}

const as_mem_sample_t *as_trace_reader_samples(const as_trace_reader_t *r,
                                               size_t *n)
{
    *n = r->nsamples;
    return r->samples;
}

/* Forget the first k of the *n elements (elem bytes each) at v. */
static void drop_front(void *v, size_t *n, size_t k, size_t elem)
{
    if (k >= *n) {
        *n = 0;
        return;
    }
    memmove(v, (char *)v + k * elem, (*n - k) * elem);
    *n -= k;
}

void as_trace_reader_drop_samples(as_trace_reader_t *r, size_t n)
{
    drop_front(r->samples, &r->nsamples, n, sizeof *r->samples);
}

uint64_t as_trace_reader_sample_count(const as_trace_reader_t *r)
{
    return r->samples_total;
}

const as_write_t *as_trace_reader_writes(const as_trace_reader_t *r, size_t *n)
{
    *n = r->nwrites;
    return r->writes;
}

void as_trace_reader_drop_writes(as_trace_reader_t *r, size_t n)
{
    drop_front(r->writes, &r->nwrites, n, sizeof *r->writes);
}

uint64_t as_trace_reader_write_count(const as_trace_reader_t *r)
{
    return r->writes_total;
}

void as_trace_reader_drop_kept(as_trace_reader_t *r)
{
    r->nsamples = 0;
    r->nwrites = 0;
}

/* ------------------------------------------------------------ accessors */

size_t as_trace_reader_meta_count(const as_trace_reader_t *r)
{
    return r->nmeta;
}

int as_trace_reader_meta_at(const as_trace_reader_t *r, size_t i,
                            const char **key, const char **value)
{
    if (i >= r->nmeta) return AS_ENOTFOUND;
    *key = r->meta[i].key;
    *value = r->meta[i].value;
    return 0;
}

const char *as_trace_reader_meta(const as_trace_reader_t *r, const char *key)
{
    for (size_t i = 0; i < r->nmeta; i++)
        if (strcmp(r->meta[i].key, key) == 0) return r->meta[i].value;
    return NULL;
}

int as_trace_reader_stack(const as_trace_reader_t *r, uint32_t id,
                          const uint32_t **frames, uint32_t *depth)
{
    if (id == 0 || id >= r->stacks_cap || !r->stacks[id].defined)
        return AS_ENOTFOUND;
    /* an empty stack may come before any frame is pooled (pool NULL):
     * never form NULL + 0 */
    static const uint32_t no_frames[1];
    *depth = r->stacks[id].depth;
    *frames = *depth ? r->pool + r->stacks[id].off : no_frames;
    return 0;
}

int as_trace_reader_frame(const as_trace_reader_t *r, uint32_t id,
                          as_frame_t *frame)
{
    if (id == 0 || id >= r->frames_cap || !r->frames[id].module)
        return AS_ENOTFOUND;
    const as_rframe_t *f = &r->frames[id];
    frame->pc = f->pc;
    frame->offset = f->offset;
    frame->module = f->module;
    frame->symbol = f->symbol;
    return 0;
}

uint32_t as_trace_reader_max_stack(const as_trace_reader_t *r)
{
    return r->max_stack;
}

uint32_t as_trace_reader_max_frame(const as_trace_reader_t *r)
{
    return r->max_frame;
}

size_t as_trace_reader_chunk_count(const as_trace_reader_t *r)
{
    return r->nchunks;
}

const as_trace_chunk_info_t *as_trace_reader_chunks(const as_trace_reader_t *r)
{
    return r->chunks;
}

int as_trace_reader_truncated(const as_trace_reader_t *r)
{
    return r->truncated;
}

int as_trace_reader_indexed(const as_trace_reader_t *r)
{
    return r->have_index;
}

int as_trace_reader_has_index(const as_trace_reader_t *r)
{
    return r->have_index;
}

uint64_t as_trace_reader_file_bytes(const as_trace_reader_t *r)
{
    return r->size;
}

uint64_t as_trace_reader_objects(const as_trace_reader_t *r)
{
    return r->next_id;
}

const char *as_trace_reader_path(const as_trace_reader_t *r)
{
    return r->path;
}

const char *as_trace_reader_error(const as_trace_reader_t *r)
{
    if (!r) return "no reader";
    return r->msg[0] ? r->msg : "no error";
}

int as_trace_reader_hash(as_trace_reader_t *r, char out[17])
{
    uint64_t h = AS_FNV64_INIT;
    if (r->mem) {
        h = as_fnv1a64(h, r->mem, (size_t)r->size);
    } else {
        size_t bs = 1 << 20;
        uint8_t *b = malloc(bs);
        if (!b) return AS_ENOMEM;
        for (uint64_t off = 0; off < r->size;) {
            size_t n = r->size - off < bs ? (size_t)(r->size - off) : bs;
            int saved = r->err;
            if (read_at(r, off, b, n)) {
                int rc = r->err;
                r->err = saved;
                free(b);
                return rc;
            }
            h = as_fnv1a64(h, b, n);
            off += n;
        }
        free(b);
    }
    snprintf(out, 17, "%016llx", (unsigned long long)h);
    return 0;
}

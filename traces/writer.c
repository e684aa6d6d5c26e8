/* writer.c - the streaming writer of trace formats v3 and v2.
 *
 * The writer owns one output (a path, opened through traces/outfile.c --
 * a temporary renamed onto the target on close, or a device written in
 * place -- or a caller's fd written chunk by chunk for the recorder),
 * the payload streams of the chunk being filled, and the footer index of the
 * chunks already written. In version 3 (the default) an event's tag (its
 * kind) goes to the tag stream and each field to its column; when the chunk
 * is sealed every column is coded at once (time as a delta or a per-thread
 * delta of deltas, whichever is smaller; every column minus its minimum, in
 * the fewest bytes that hold its largest value, as byte planes). In version
 * 2 events are encoded as they arrive (a tag byte with "same as before"
 * flags, each present field as a LEB128 varint into its own stream). State
 * restarts per chunk; when a chunk is full it is sealed into one zstd frame
 * by codec.c and
 * written out at once. The file header is written in front of the first
 * chunk, so metadata given before the first record lands in it.
 *
 * It must never leave a half-written file under the final name, never accept
 * an event that would make the trace invalid (time going backwards, a free
 * of an id not yet allocated, an undefined stack), and never print: errors
 * are returned and described by as_trace_writer_error().
 */
#include "traces/trace.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zstd.h>

#include "common/error.h"
#include "traces/codec.h"
#include "traces/outfile.h"

#define AS_WRITER_DEFAULT_CHUNK_EVENTS 65536u
#define AS_WRITER_DEFAULT_LEVEL 3
#define AS_WRITER_SEAL_RAW_BYTES (8u << 20) /* seal early past this payload */

typedef struct {
    char *key;
    char *value;
} as_wmeta_t;

typedef struct {
    as_trace_chunk_info_t info;
    uint64_t allocs;
} as_windex_t;

/* Invariants: payload_len == sum of st_len == payload of the open chunk;
 * ch.first_object + ch.allocs == next_id; offset == bytes written so far;
 * header_written || (nindex == 0 && offset == 0). */
struct as_trace_writer {
    int fd;                /* output; -1 once closed */
    as_output_t *outfile;  /* path mode: the output (outfile.h); else NULL */
    char *path;            /* name for messages: the path, or "fd N" */
    ZSTD_CCtx *cctx;       /* reused for every chunk */
    int level;             /* zstd level */
    uint32_t chunk_events; /* events per chunk */
    uint32_t version;      /* 3: columns; 2: the v2 streams */
    int header_written;    /* file header is on disk */
    int any_record;        /* a record entered the stream: meta goes there */
    as_wmeta_t *meta;      /* header metadata (deduplicated by key) */
    size_t nmeta, meta_cap;
    uint8_t *st[AS_STREAMS]; /* the open chunk's streams (codec.h) */
    size_t st_len[AS_STREAMS], st_cap[AS_STREAMS];
    size_t payload_len; /* sum of st_len (v3: plus a bound on the columns) */
    /* v3: the open chunk's event fields, one array per column (codec.h
     * AS_C_*); time holds absolute times until the chunk is sealed */
    uint64_t *col[AS_COLUMNS];
    size_t col_len[AS_COLUMNS], col_cap[AS_COLUMNS];
    uint8_t *raw; /* assembled payload (scratch) */
    size_t raw_cap;
    uint8_t *trial; /* v3: a time column compressed on trial (scratch) */
    size_t trial_cap;
    uint8_t *out; /* sealed chunk bytes (scratch) */
    size_t out_cap;
    as_chunk_header_t ch; /* open chunk: events, allocs, first ids/times */
    uint64_t prev_t;      /* previous event's t within the chunk */
    uint32_t prev_thread, prev_stack; /* chunk-local "same" state */
    uint64_t prev_height;             /* chunk-local: last stack height */
    uint64_t floor_t; /* t of the last sample: no event may precede it */
    uint32_t lastcpu[AS_CPU_SLOTS]; /* cpu last seen per thread slot */
    uint64_t next_id;               /* id the next allocation gets */
    uint64_t last_t;                /* t of the last event in the whole trace */
    uint64_t nevents;               /* events written */
    uint64_t offset;                /* file offset of the next byte */
    as_windex_t *index;             /* chunks written */
    size_t nindex, index_cap;
    uint32_t max_stack;                /* highest stack id defined */
    uint64_t nstack_defs, nframe_defs; /* definition records so far */
    int err;                           /* first sticky I/O error, 0 if none */
    char msg[512];                     /* last error message */
};

/* The message "path: fmt..." into w->msg. */
static void vset_msg(as_trace_writer_t *w, const char *fmt, va_list ap)
{
    int n = snprintf(w->msg, sizeof w->msg, "%s: ", w->path ? w->path : "?");
    if (n >= 0 && (size_t)n < sizeof w->msg)
        vsnprintf(w->msg + n, sizeof w->msg - (size_t)n, fmt, ap);
}

static int fail(as_trace_writer_t *w, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vset_msg(w, fmt, ap);
    va_end(ap);
    return code;
}

/* fail, and the error sticks: every later call returns it. */
static int fail_io(as_trace_writer_t *w, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vset_msg(w, fmt, ap);
    va_end(ap);
    if (!w->err) w->err = code;
    return code;
}

static int write_all(as_trace_writer_t *w, const uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t k = write(w->fd, p, n);
        if (k < 0) {
            if (errno == EINTR) continue;
            return fail_io(w, AS_EIO, "write failed at offset %llu: %s",
                           (unsigned long long)w->offset, strerror(errno));
        }
        p += k;
        n -= (size_t)k;
        w->offset += (uint64_t)k;
    }
    return 0;
}

static int reserve(as_trace_writer_t *w, int s, size_t extra)
{
    if (w->st_len[s] + extra <= w->st_cap[s]) return 0;
    size_t cap = w->st_cap[s] ? w->st_cap[s] : 1 << 12;
    while (cap < w->st_len[s] + extra)
        cap *= 2;
    uint8_t *p = realloc(w->st[s], cap);
    if (!p) return fail(w, AS_ENOMEM, "out of memory (chunk buffer)");
    w->st[s] = p;
    w->st_cap[s] = cap;
    return 0;
}

/* Append a varint to stream s (room for 10 bytes reserved by the caller). */
static inline void put_v(as_trace_writer_t *w, int s, uint64_t v)
{
    size_t n = as_put_varint(w->st[s] + w->st_len[s], v);
    w->st_len[s] += n;
    w->payload_len += n;
}

static inline void put_tag(as_trace_writer_t *w, uint8_t tag)
{
    w->st[AS_S_TAG][w->st_len[AS_S_TAG]++] = tag;
    w->payload_len++;
}

static int init_common(as_trace_writer_t **out, const as_trace_writer_opts_t *o)
{
    as_trace_writer_t *w = calloc(1, sizeof *w);
    *out = w;
    if (!w) return AS_ENOMEM;
    w->fd = -1;
    w->chunk_events = (o && o->chunk_events) ? o->chunk_events
                                             : AS_WRITER_DEFAULT_CHUNK_EVENTS;
    w->level = (o && o->zstd_level) ? o->zstd_level : AS_WRITER_DEFAULT_LEVEL;
    w->version = (o && o->version) ? o->version : AS_TRACE_VERSION;
    if (w->version != 2 && w->version != AS_TRACE_VERSION) return AS_EINVAL;
    w->cctx = ZSTD_createCCtx();
    if (!w->cctx) return AS_ENOMEM;
    return 0;
}

static void free_writer(as_trace_writer_t *w)
{
    if (!w) return;
    for (size_t i = 0; i < w->nmeta; i++) {
        free(w->meta[i].key);
        free(w->meta[i].value);
    }
    free(w->meta);
    for (int i = 0; i < AS_STREAMS; i++)
        free(w->st[i]);
    for (int i = 0; i < AS_COLUMNS; i++)
        free(w->col[i]);
    free(w->raw);
    free(w->trial);
    free(w->out);
    free(w->index);
    ZSTD_freeCCtx(w->cctx);
    free(w->path);
    free(w->outfile);
    free(w);
}

int as_trace_writer_open(as_trace_writer_t **wp, const char *path,
                         const as_trace_writer_opts_t *opts)
{
    as_trace_writer_t *w;
    int rc = init_common(&w, opts);
    *wp = NULL;
    if (rc) {
        free_writer(w);
        return rc;
    }
    size_t n = strlen(path);
    w->path = malloc(n + 1);
    w->outfile = malloc(sizeof *w->outfile);
    if (!w->path || !w->outfile) {
        free_writer(w);
        return AS_ENOMEM;
    }
    memcpy(w->path, path, n + 1);
    *wp = w;
    char err[sizeof w->msg];
    rc = as_output_open(w->outfile, path, err, sizeof err);
    if (rc) {
        free(w->outfile);
        w->outfile = NULL;
        snprintf(w->msg, sizeof w->msg, "%s", err);
        w->err = rc;
        return rc;
    }
    w->fd = w->outfile->fd;
    return 0;
}

int as_trace_writer_open_fd(as_trace_writer_t **wp, int fd,
                            const as_trace_writer_opts_t *opts)
{
    as_trace_writer_t *w;
    int rc = init_common(&w, opts);
    *wp = NULL;
    if (rc) {
        free_writer(w);
        return rc;
    }
    w->path = malloc(32);
    if (!w->path) {
        free_writer(w);
        return AS_ENOMEM;
    }
    snprintf(w->path, 32, "fd %d", fd);
    w->fd = fd;
    *wp = w;
    return 0;
}

const char *as_trace_writer_error(const as_trace_writer_t *w)
{
    return w ? w->msg : "no writer";
}

/* The file header: magic, version, flags, meta_bytes, meta block, check. */
static int write_header(as_trace_writer_t *w)
{
    size_t meta_bytes = 4;
    for (size_t i = 0; i < w->nmeta; i++)
        meta_bytes += 8 + strlen(w->meta[i].key) + strlen(w->meta[i].value);
    if (meta_bytes > AS_TRACE_MAX_META_BYTES)
        return fail(w, AS_EINVAL, "header metadata too large (%zu bytes)",
                    meta_bytes);
    size_t total = AS_TRACE_HEADER_FIXED + meta_bytes;
    uint8_t *b = malloc(total);
    if (!b) return fail(w, AS_ENOMEM, "out of memory (header)");
    memcpy(b, AS_TRACE_MAGIC, 8);
    as_put_u32(b + 8, w->version);
    as_put_u32(b + 12, 0);
    as_put_u32(b + 16, (uint32_t)meta_bytes);
    uint8_t *p = b + 20;
    as_put_u32(p, (uint32_t)w->nmeta);
    p += 4;
    for (size_t i = 0; i < w->nmeta; i++) {
        size_t kl = strlen(w->meta[i].key), vl = strlen(w->meta[i].value);
        as_put_u32(p, (uint32_t)kl);
        memcpy(p + 4, w->meta[i].key, kl);
        p += 4 + kl;
        as_put_u32(p, (uint32_t)vl);
        memcpy(p + 4, w->meta[i].value, vl);
        p += 4 + vl;
    }
    as_put_u32(p, as_fnv1a32(b, (size_t)(p - b)));
    int rc = write_all(w, b, total);
    free(b);
    if (rc == 0) w->header_written = 1;
    return rc;
}

static int raw_reserve(as_trace_writer_t *w, size_t need)
{
    if (need <= w->raw_cap) return 0;
    uint8_t *p = realloc(w->raw, need);
    if (!p) return fail(w, AS_ENOMEM, "out of memory (chunk buffer)");
    w->raw = p;
    w->raw_cap = need;
    return 0;
}

/* Version 2: stream lengths, then the streams. */
static int assemble_v2(as_trace_writer_t *w, size_t *raw_len)
{
    int rc = raw_reserve(w, AS_STREAMS * 10 + w->payload_len);
    if (rc) return rc;
    size_t n = 0;
    for (int i = 0; i < AS_STREAMS; i++)
        n += as_put_varint(w->raw + n, w->st_len[i]);
    for (int i = 0; i < AS_STREAMS; i++) {
        if (w->st_len[i]) memcpy(w->raw + n, w->st[i], w->st_len[i]);
        n += w->st_len[i];
    }
    *raw_len = n;
    return 0;
}

static uint64_t min_of(const uint64_t *v, size_t n)
{
    uint64_t m = n ? v[0] : 0;
    for (size_t i = 1; i < n; i++)
        if (v[i] < m) m = v[i];
    return m;
}

static uint64_t max_of(const uint64_t *v, size_t n)
{
    uint64_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (v[i] > m) m = v[i];
    return m;
}

/* Write v[0..n) minus base as `width` byte planes. @return bytes. */
static size_t put_planes(uint8_t *o, const uint64_t *v, size_t n, uint64_t base,
                         unsigned width)
{
    for (unsigned b = 0; b < width; b++, o += n)
        for (size_t i = 0; i < n; i++)
            o[i] = (uint8_t)((v[i] - base) >> (8 * b));
    return n * width;
}

/* The compressed size of v[0..n) as a column (zstd level 1): which time
 * code to keep is decided by what it costs on disk, since a code with
 * smaller values can still compress worse (delta-of-delta on one thread's
 * irregular times does). */
static int trial_size(as_trace_writer_t *w, const uint64_t *v, size_t n,
                      size_t *out)
{
    uint64_t base = min_of(v, n);
    unsigned width = as_width_bytes(max_of(v, n) - base);
    size_t raw = n * width, bound = ZSTD_compressBound(raw);
    if (raw + bound > w->trial_cap) {
        uint8_t *p = realloc(w->trial, raw + bound);
        if (!p) return fail(w, AS_ENOMEM, "out of memory (chunk buffer)");
        w->trial = p;
        w->trial_cap = raw + bound;
    }
    put_planes(w->trial, v, n, base, width);
    size_t z =
        ZSTD_compressCCtx(w->cctx, w->trial + raw, bound, w->trial, raw, 1);
    if (ZSTD_isError(z)) return fail_io(w, AS_EIO, "cannot compress chunk");
    *out = z;
    return 0;
}

/* Version 3 (docs/trace-format.md): the time code, the base and width of
 * every column, the tag and definition stream lengths, the two streams,
 * then every column as byte planes. The time column holds absolute times
 * until here; it is turned into both codes and the smaller one kept. */
static int assemble_v3(as_trace_writer_t *w, size_t *raw_len)
{
    size_t nev = w->col_len[AS_C_TIME];
    uint64_t *t = w->col[AS_C_TIME];
    /* both time codes: the delta into the spare half of the column */
    if (nev > w->col_cap[AS_C_TIME] / 2) {
        size_t cap = 2 * nev;
        uint64_t *p = realloc(t, cap * sizeof *p);
        if (!p) return fail(w, AS_ENOMEM, "out of memory (chunk buffer)");
        w->col[AS_C_TIME] = t = p;
        w->col_cap[AS_C_TIME] = cap;
    }
    /* (a chunk of definitions alone has no time column: t may be NULL) */
    uint64_t *delta = nev ? t + nev : t, prev = w->ch.first_t_ns;
    uint64_t slot_t[AS_TIME_SLOTS], slot_dt[AS_TIME_SLOTS];
    for (unsigned k = 0; k < AS_TIME_SLOTS; k++) {
        slot_t[k] = w->ch.first_t_ns;
        slot_dt[k] = 0;
    }
    const uint64_t *th = w->col[AS_C_THREAD];
    for (size_t i = 0; i < nev; i++) {
        uint64_t ti = t[i];
        unsigned k = (unsigned)(th[i] % AS_TIME_SLOTS);
        delta[i] = ti - prev;
        prev = ti;
        t[i] = as_zigzag(ti - (slot_t[k] + slot_dt[k]));
        slot_dt[k] = ti - slot_t[k];
        slot_t[k] = ti;
    }
    unsigned mode = AS_TIME_DELTA;
    size_t dsize, zsize;
    int rc;
    if ((rc = trial_size(w, delta, nev, &dsize)) ||
        (rc = trial_size(w, t, nev, &zsize)))
        return rc;
    if (zsize < dsize)
        mode = AS_TIME_DOD;
    else if (nev) /* a chunk of definitions alone has no time column */
        memcpy(t, delta, nev * sizeof *t);
    uint64_t base[AS_COLUMNS];
    unsigned width[AS_COLUMNS];
    size_t need =
        16 + AS_COLUMNS * 11 + w->st_len[AS_S_TAG] + w->st_len[AS_S_DEFS];
    for (int c = 0; c < AS_COLUMNS; c++) {
        size_t n = w->col_len[c];
        base[c] = min_of(w->col[c], n);
        width[c] = as_width_bytes(max_of(w->col[c], n) - base[c]);
        need += n * width[c];
    }
    if ((rc = raw_reserve(w, need))) return rc;
    uint8_t *o = w->raw;
    size_t n = as_put_varint(o, mode);
    for (int c = 0; c < AS_COLUMNS; c++) {
        n += as_put_varint(o + n, base[c]);
        o[n++] = (uint8_t)width[c];
    }
    n += as_put_varint(o + n, w->st_len[AS_S_TAG]);
    n += as_put_varint(o + n, w->st_len[AS_S_DEFS]);
    if (w->st_len[AS_S_TAG])
        memcpy(o + n, w->st[AS_S_TAG], w->st_len[AS_S_TAG]);
    n += w->st_len[AS_S_TAG];
    if (w->st_len[AS_S_DEFS])
        memcpy(o + n, w->st[AS_S_DEFS], w->st_len[AS_S_DEFS]);
    n += w->st_len[AS_S_DEFS];
    for (int c = 0; c < AS_COLUMNS; c++)
        n += put_planes(o + n, w->col[c], w->col_len[c], base[c], width[c]);
    *raw_len = n;
    return 0;
}

/* Seal the open chunk (if it holds anything) and write it out. */
static int seal_chunk(as_trace_writer_t *w)
{
    if (w->err) return w->err;
    if (!w->header_written) {
        int rc = write_header(w);
        if (rc) return rc;
    }
    if (w->st_len[AS_S_TAG] == 0) return 0;
    if (w->ch.events == 0) w->ch.first_t_ns = w->ch.last_t_ns = w->last_t;
    size_t raw_len = 0;
    int rc =
        w->version >= 3 ? assemble_v3(w, &raw_len) : assemble_v2(w, &raw_len);
    if (rc) return rc;
    size_t len;
    rc = as_chunk_seal(w->cctx, w->level, w->raw, raw_len, &w->ch, &w->out,
                       &w->out_cap, &len);
    if (rc) return fail_io(w, rc, "cannot compress chunk %zu", w->nindex);
    if (w->nindex == w->index_cap) {
        size_t cap = w->index_cap ? w->index_cap * 2 : 64;
        as_windex_t *p = realloc(w->index, cap * sizeof *p);
        if (!p) return fail(w, AS_ENOMEM, "out of memory (index)");
        w->index = p;
        w->index_cap = cap;
    }
    as_windex_t *e = &w->index[w->nindex];
    e->info.offset = w->offset;
    e->info.bytes = len;
    e->info.events = w->ch.events;
    e->info.first_object = w->ch.first_object;
    e->info.first_t_ns = w->ch.first_t_ns;
    e->info.last_t_ns = w->ch.last_t_ns;
    e->allocs = w->ch.allocs;
    rc = write_all(w, w->out, len);
    if (rc) return rc;
    w->nindex++;
    /* Start the next chunk: all state restarts. */
    memset(w->st_len, 0, sizeof w->st_len);
    memset(w->col_len, 0, sizeof w->col_len);
    w->payload_len = 0;
    memset(&w->ch, 0, sizeof w->ch);
    w->ch.first_object = w->next_id;
    w->prev_thread = w->prev_stack = 0;
    w->prev_height = 0;
    memset(w->lastcpu, 0, sizeof w->lastcpu);
    w->prev_t = 0;
    return 0;
}

static int maybe_seal(as_trace_writer_t *w)
{
    if (w->ch.events >= w->chunk_events ||
        w->payload_len >= AS_WRITER_SEAL_RAW_BYTES)
        return seal_chunk(w);
    return 0;
}

static int put_string(as_trace_writer_t *w, const char *s, const char *what)
{
    size_t n = strlen(s);
    if (n > AS_TRACE_MAX_STRING)
        return fail(w, AS_EINVAL, "%s longer than %u bytes", what,
                    AS_TRACE_MAX_STRING);
    int rc = reserve(w, AS_S_DEFS, n + 10);
    if (rc) return rc;
    put_v(w, AS_S_DEFS, n);
    memcpy(w->st[AS_S_DEFS] + w->st_len[AS_S_DEFS], s, n);
    w->st_len[AS_S_DEFS] += n;
    w->payload_len += n;
    return 0;
}

int as_trace_writer_meta(as_trace_writer_t *w, const char *key,
                         const char *value)
{
    if (w->err) return w->err;
    if (!key || !value) return fail(w, AS_EINVAL, "meta: NULL key or value");
    size_t kl = strlen(key), vl = strlen(value);
    if (kl > AS_TRACE_MAX_STRING || vl > AS_TRACE_MAX_STRING)
        return fail(w, AS_EINVAL, "meta '%.40s': longer than %u bytes", key,
                    AS_TRACE_MAX_STRING);
    if (!w->any_record && !w->header_written) {
        char *v = malloc(vl + 1);
        if (!v) return fail(w, AS_ENOMEM, "out of memory (meta)");
        memcpy(v, value, vl + 1);
        for (size_t i = 0; i < w->nmeta; i++)
            if (strcmp(w->meta[i].key, key) == 0) {
                free(w->meta[i].value);
                w->meta[i].value = v;
                return 0;
            }
        if (w->nmeta == w->meta_cap) {
            size_t cap = w->meta_cap ? w->meta_cap * 2 : 16;
            as_wmeta_t *p = realloc(w->meta, cap * sizeof *p);
            if (!p) {
                free(v);
                return fail(w, AS_ENOMEM, "out of memory (meta)");
            }
            w->meta = p;
            w->meta_cap = cap;
        }
        char *k = malloc(kl + 1);
        if (!k) {
            free(v);
            return fail(w, AS_ENOMEM, "out of memory (meta)");
        }
        memcpy(k, key, kl + 1);
        w->meta[w->nmeta].key = k;
        w->meta[w->nmeta].value = v;
        w->nmeta++;
        return 0;
    }
    int rc = reserve(w, AS_S_TAG, 1);
    if (rc) return rc;
    put_tag(w, AS_TAG_META);
    if ((rc = put_string(w, key, "meta key")) ||
        (rc = put_string(w, value, "meta value")))
        return rc;
    w->any_record = 1;
    return maybe_seal(w);
}

int as_trace_writer_frame(as_trace_writer_t *w, uint32_t id,
                          const as_frame_t *f)
{
    if (w->err) return w->err;
    if (id == 0 || id > 2 * w->nframe_defs + AS_TRACE_ID_SLACK)
        return fail(
            w, AS_EINVAL, "frame id %u: expected 1..%llu (ids must be dense)",
            id, (unsigned long long)(2 * w->nframe_defs + AS_TRACE_ID_SLACK));
    const char *mod = f->module ? f->module : "";
    const char *sym = f->symbol ? f->symbol : "";
    int rc;
    if ((rc = reserve(w, AS_S_TAG, 1)) || (rc = reserve(w, AS_S_DEFS, 30)))
        return rc;
    put_tag(w, AS_TAG_FRAME);
    put_v(w, AS_S_DEFS, id);
    put_v(w, AS_S_DEFS, f->pc);
    put_v(w, AS_S_DEFS, f->offset);
    if ((rc = put_string(w, mod, "frame module")) ||
        (rc = put_string(w, sym, "frame symbol")))
        return rc;
    w->nframe_defs++;
    w->any_record = 1;
    return maybe_seal(w);
}

int as_trace_writer_stack(as_trace_writer_t *w, uint32_t id,
                          const uint32_t *frames, uint32_t depth)
{
    if (w->err) return w->err;
    if (id == 0 || id > 2 * w->nstack_defs + AS_TRACE_ID_SLACK)
        return fail(
            w, AS_EINVAL, "stack id %u: expected 1..%llu (ids must be dense)",
            id, (unsigned long long)(2 * w->nstack_defs + AS_TRACE_ID_SLACK));
    if (depth > AS_TRACE_MAX_DEPTH)
        return fail(w, AS_EINVAL, "stack %u: depth %u exceeds %u", id, depth,
                    AS_TRACE_MAX_DEPTH);
    int rc;
    if ((rc = reserve(w, AS_S_TAG, 1)) ||
        (rc = reserve(w, AS_S_DEFS, 20 + (size_t)depth * 5)))
        return rc;
    put_tag(w, AS_TAG_STACK);
    put_v(w, AS_S_DEFS, id);
    put_v(w, AS_S_DEFS, depth);
    for (uint32_t i = 0; i < depth; i++)
        put_v(w, AS_S_DEFS, frames[i]);
    w->nstack_defs++;
    if (id > w->max_stack) w->max_stack = id;
    w->any_record = 1;
    return maybe_seal(w);
}

/* The earliest time the next record may have: the last event's, or the
 * last sample's or write report's when later. */
static inline uint64_t time_floor(const as_trace_writer_t *w)
{
    return w->last_t > w->floor_t ? w->last_t : w->floor_t;
}

/* Append one value to column c. */
static inline int col_push(as_trace_writer_t *w, int c, uint64_t v)
{
    if (w->col_len[c] == w->col_cap[c]) {
        size_t cap = w->col_cap[c] ? 2 * w->col_cap[c] : 1024;
        uint64_t *p = realloc(w->col[c], cap * sizeof *p);
        if (!p) return fail(w, AS_ENOMEM, "out of memory (chunk buffer)");
        w->col[c] = p;
        w->col_cap[c] = cap;
    }
    w->col[c][w->col_len[c]++] = v;
    return 0;
}

/* The one place ids are given out: allocation ev (or realloc ev's new
 * object) gets the next id, in the order of the events. */
static inline void assign_id(as_trace_writer_t *w, as_event_t *ev)
{
    if (ev->kind == AS_EV_ALLOC)
        ev->object = w->next_id;
    else
        ev->new_object = w->next_id;
    w->next_id++;
    w->ch.allocs++;
}

/* An event at t_ns is in the chunk (either version): the counts and the
 * last time, then the chunk sealed when full. @return 0 or the error. */
static inline int event_done(as_trace_writer_t *w, uint64_t t_ns)
{
    w->last_t = t_ns;
    w->ch.last_t_ns = t_ns;
    w->ch.events++;
    w->nevents++;
    w->any_record = 1;
    return maybe_seal(w);
}

/* Version 3: the tag is the kind alone; every field goes to its column
 * (encoded when the chunk is sealed). The event was checked by the
 * caller. payload_len grows by the most the event can take on disk. */
static int event_v3(as_trace_writer_t *w, as_event_t *ev)
{
    int rc = reserve(w, AS_S_TAG, 1);
    if (rc) return rc;
    if (w->ch.events == 0) w->ch.first_t_ns = ev->t_ns;
    if ((rc = col_push(w, AS_C_TIME, ev->t_ns)) ||
        (rc = col_push(w, AS_C_THREAD, ev->thread)) ||
        (rc = col_push(w, AS_C_CPU, ev->cpu)))
        return rc;
    if (ev->kind != AS_EV_ALLOC &&
        (rc = col_push(w, AS_C_BACK, w->next_id - 1 - ev->object)))
        return rc;
    if (ev->kind != AS_EV_FREE) {
        if ((rc = col_push(w, AS_C_SIZE, ev->size)) ||
            (rc = col_push(w, AS_C_ALIGN, ev->align)) ||
            (rc = col_push(w, AS_C_STACK, ev->stack)) ||
            (rc = col_push(w, AS_C_HEIGHT, ev->stack_height)))
            return rc;
        assign_id(w, ev);
    }
    put_tag(w, (uint8_t)ev->kind);
    w->payload_len += 8 * AS_COLUMNS;
    return event_done(w, ev->t_ns);
}

int as_trace_writer_event(as_trace_writer_t *w, as_event_t *ev)
{
    if (w->err) return w->err;
    if (ev->kind < AS_EV_ALLOC || ev->kind > AS_EV_REALLOC)
        return fail(w, AS_EINVAL, "event %llu: unknown kind %u",
                    (unsigned long long)w->nevents, ev->kind);
    uint64_t floor = time_floor(w);
    if (ev->t_ns < floor)
        return fail(w, AS_EINVAL,
                    "event %llu: time went backwards (t=%llu ns after %llu ns)",
                    (unsigned long long)w->nevents,
                    (unsigned long long)ev->t_ns, (unsigned long long)floor);
    if (ev->kind != AS_EV_ALLOC && ev->object >= w->next_id)
        return fail(w, AS_EINVAL,
                    "event %llu: %s of object %llu, but only %llu objects "
                    "were allocated",
                    (unsigned long long)w->nevents,
                    ev->kind == AS_EV_FREE ? "free" : "realloc",
                    (unsigned long long)ev->object,
                    (unsigned long long)w->next_id);
    if (ev->kind != AS_EV_FREE && ev->stack > w->max_stack)
        return fail(w, AS_EINVAL, "event %llu: stack %u is not defined",
                    (unsigned long long)w->nevents, ev->stack);
    if (w->version >= 3) return event_v3(w, ev);
    for (int k = 0; k < AS_STREAMS; k++)
        if (k != AS_S_DEFS && w->st_len[k] + 10 > w->st_cap[k]) {
            int rc = reserve(w, k, 10);
            if (rc) return rc;
        }
    if (w->ch.events == 0) {
        w->ch.first_t_ns = ev->t_ns;
        w->prev_t = ev->t_ns;
    }
    unsigned tag = ev->kind; /* AS_EV_* == AS_TAG_* for the kind bits */
    uint64_t dt = ev->t_ns - w->prev_t;
    if (dt == 0)
        tag |= AS_TAG_ZERO_DT;
    else
        put_v(w, AS_S_DT, dt);
    if (ev->thread == w->prev_thread)
        tag |= AS_TAG_SAME_THREAD;
    else
        put_v(w, AS_S_THREAD, ev->thread);
    uint32_t *slot = &w->lastcpu[ev->thread % AS_CPU_SLOTS];
    if (ev->cpu == *slot)
        tag |= AS_TAG_SAME_CPU;
    else
        put_v(w, AS_S_CPU, ev->cpu);
    *slot = ev->cpu;
    if (ev->kind != AS_EV_ALLOC)
        put_v(w, AS_S_BACK, w->next_id - 1 - ev->object);
    if (ev->kind != AS_EV_FREE) {
        put_v(w, AS_S_SIZE, ev->size);
        if (ev->align) {
            tag |= AS_TAG_HAS_ALIGN;
            put_v(w, AS_S_ALIGN, ev->align);
        }
        if (ev->stack == w->prev_stack)
            tag |= AS_TAG_SAME_STACK;
        else
            put_v(w, AS_S_STACK, ev->stack);
        w->prev_stack = ev->stack;
        if (ev->stack_height == w->prev_height)
            tag |= AS_TAG_SAME_HEIGHT;
        else
            put_v(w, AS_S_HEIGHT, ev->stack_height);
        w->prev_height = ev->stack_height;
        assign_id(w, ev);
    }
    put_tag(w, (uint8_t)tag);
    w->prev_t = ev->t_ns;
    w->prev_thread = ev->thread;
    return event_done(w, ev->t_ns);
}

int as_trace_writer_sample(as_trace_writer_t *w, const as_mem_sample_t *s)
{
    if (w->err) return w->err;
    uint64_t floor = time_floor(w);
    if (s->t_ns < floor)
        return fail(w, AS_EINVAL,
                    "sample at t=%llu ns: before the last event or sample "
                    "(t=%llu ns)",
                    (unsigned long long)s->t_ns, (unsigned long long)floor);
    if (s->has & ~AS_SAMPLE_KNOWN)
        return fail(w, AS_EINVAL, "sample at t=%llu ns: unknown fields 0x%x",
                    (unsigned long long)s->t_ns, s->has);
    int rc;
    if ((rc = reserve(w, AS_S_TAG, 1)) ||
        (rc = reserve(w, AS_S_DEFS, 10 * (4 + AS_MALLINFO_FIELDS))))
        return rc;
    put_tag(w, AS_TAG_SAMPLE);
    put_v(w, AS_S_DEFS, s->t_ns);
    put_v(w, AS_S_DEFS, s->has);
    if (s->has & AS_SAMPLE_HAS_RSS) put_v(w, AS_S_DEFS, s->rss_bytes);
    if (s->has & AS_SAMPLE_HAS_HUGE) put_v(w, AS_S_DEFS, s->anon_huge_bytes);
    if (s->has & AS_SAMPLE_HAS_MALLINFO) {
        const uint64_t *f = s->mallinfo.f;
        for (int i = 0; i < AS_MALLINFO_FIELDS; i++)
            put_v(w, AS_S_DEFS, f[i]);
    }
    w->floor_t = s->t_ns;
    w->any_record = 1;
    return maybe_seal(w);
}

int as_trace_writer_write(as_trace_writer_t *w, const as_write_t *wr)
{
    if (w->err) return w->err;
    if (w->version < 3)
        return fail(w, AS_EINVAL,
                    "write report at t=%llu ns: format version %u cannot "
                    "hold write reports (they need version 3)",
                    (unsigned long long)wr->t_ns, w->version);
    uint64_t floor = time_floor(w);
    if (wr->t_ns < floor)
        return fail(w, AS_EINVAL,
                    "write report at t=%llu ns: before the last event, "
                    "sample or write report (t=%llu ns)",
                    (unsigned long long)wr->t_ns, (unsigned long long)floor);
    if (wr->bytes == 0)
        return fail(w, AS_EINVAL, "write report at t=%llu ns: 0 bytes",
                    (unsigned long long)wr->t_ns);
    if (wr->offset + wr->bytes < wr->offset)
        return fail(w, AS_EINVAL,
                    "write report at t=%llu ns: offset %llu + %llu bytes "
                    "passes 2^64",
                    (unsigned long long)wr->t_ns,
                    (unsigned long long)wr->offset,
                    (unsigned long long)wr->bytes);
    if (wr->object >= w->next_id)
        return fail(w, AS_EINVAL,
                    "write report at t=%llu ns: object %llu, but only %llu "
                    "objects were allocated",
                    (unsigned long long)wr->t_ns,
                    (unsigned long long)wr->object,
                    (unsigned long long)w->next_id);
    int rc;
    if ((rc = reserve(w, AS_S_TAG, 1)) || (rc = reserve(w, AS_S_DEFS, 40)))
        return rc;
    put_tag(w, AS_TAG_WRITE);
    put_v(w, AS_S_DEFS, wr->t_ns);
    put_v(w, AS_S_DEFS, wr->object);
    put_v(w, AS_S_DEFS, wr->offset);
    put_v(w, AS_S_DEFS, wr->bytes);
    w->floor_t = wr->t_ns;
    w->any_record = 1;
    return maybe_seal(w);
}

int as_trace_writer_flush(as_trace_writer_t *w)
{
    return seal_chunk(w);
}

/* Footer: index (magic, count, entries, check) and the fixed trailer. */
static int write_footer(as_trace_writer_t *w)
{
    size_t n = 8 + w->nindex * AS_INDEX_ENTRY_BYTES + 4;
    uint8_t *b = malloc(n + AS_TRAILER_BYTES);
    if (!b) return fail(w, AS_ENOMEM, "out of memory (index)");
    as_put_u32(b, AS_INDEX_MAGIC);
    as_put_u32(b + 4, (uint32_t)w->nindex);
    uint8_t *p = b + 8;
    for (size_t i = 0; i < w->nindex; i++, p += AS_INDEX_ENTRY_BYTES) {
        const as_windex_t *e = &w->index[i];
        as_put_u64(p + 0, e->info.offset);
        as_put_u64(p + 8, e->info.bytes);
        as_put_u64(p + 16, e->info.events);
        as_put_u64(p + 24, e->info.first_object);
        as_put_u64(p + 32, e->info.first_t_ns);
        as_put_u64(p + 40, e->info.last_t_ns);
        as_put_u64(p + 48, e->allocs);
    }
    as_put_u32(p, as_fnv1a32(b, (size_t)(p - b)));
    p += 4;
    as_put_u64(p, w->offset);
    as_put_u32(p + 8, (uint32_t)n);
    as_put_u32(p + 12, as_fnv1a32(p, 12));
    memcpy(p + 16, AS_TRAILER_MAGIC, 8);
    int rc = write_all(w, b, n + AS_TRAILER_BYTES);
    free(b);
    return rc;
}

int as_trace_writer_close(as_trace_writer_t *w)
{
    return as_trace_writer_close_err(w, NULL, 0);
}

int as_trace_writer_close_err(as_trace_writer_t *w, char *err, size_t errcap)
{
    if (!w) return AS_EINVAL;
    int rc = w->err;
    if (!rc) rc = seal_chunk(w);
    if (!rc && w->nindex > UINT32_MAX)
        rc = fail(w, AS_EINVAL, "too many chunks");
    if (!rc) rc = write_footer(w);
    if (w->outfile) {
        w->fd = -1;
        char cerr[sizeof w->msg];
        if (rc)
            as_output_discard(w->outfile);
        else if ((rc = as_output_commit(w->outfile, cerr, sizeof cerr)) != 0)
            snprintf(w->msg, sizeof w->msg, "%s", cerr);
    }
    if (rc && err && errcap)
        snprintf(err, errcap, "%s", as_trace_writer_error(w));
    free_writer(w);
    return rc;
}

void as_trace_writer_abort(as_trace_writer_t *w)
{
    if (!w) return;
    if (w->outfile) as_output_discard(w->outfile);
    free_writer(w);
}

/* oracle.c - the oracle's pre-pass and its table (see oracle.h).
 *
 * The pre-pass keeps the allocation time of every live object in a live
 * table (livemap.h; O(live) memory) and the classes of the ids [lo, lo +
 * 2 * AS_ORACLE_WINDOW_BYTES) in a window; every new id is first set to
 * the last class (never freed), and an object's class is written when its
 * free or realloc comes. When a new id falls past the window, the
 * window's first half goes to the temporary file and the window slides;
 * a free of an id already written out is queued as a patch, and patches
 * are applied to the file, sorted, a block at a time, whenever the queue
 * fills and at the end. A trace whose ids fit the window never makes a
 * file. The decoding goes through the batch ring (batchring.h), on a
 * thread of its own when asked, so on two cores decoding and classifying
 * overlap.
 *
 * Chunks in parallel: with two or more threads and a trace whose footer
 * indexes its chunks, `threads` workers each decode whole chunks with a
 * reader of their own (as_trace_reader_seek_chunk), and classify on the
 * spot every object allocated and freed in the same chunk (its ids are
 * dense from the chunk's first id: an array, no hashing). The caller's
 * thread takes the chunks' results in order: it makes the checks a
 * detached reader leaves to it (stack ids, definition ids, samples; the
 * same the sequential reader makes), frees of objects from earlier chunks
 * through the live table, the chunk's classes into the window, and its
 * survivors into the live table. The table is the same as the sequential
 * pre-pass's; on any error or failed check the pre-pass starts again
 * sequentially from the first event, which words the error as before.
 */
#include "sim/oracle.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/error.h"
#include "sim/batchring.h"
#include "sim/livemap.h"

#define PATCH_BLOCK_BYTES 65536

typedef struct {
    uint64_t id;
    uint32_t cls;
} patch_t;

/* The pre-pass's state. */
typedef struct {
    as_oracle_t *o;
    uint8_t *win; /* ids [lo, lo + 2 * win_bytes) */
    size_t win_bytes;
    uint64_t lo; /* even */
    patch_t *patch;
    size_t n_patch, max_patch;
    char *err;
    size_t errcap;
    char path[4096]; /* of the temporary file, for messages */
} build_t;

static inline void nibble_set(uint8_t *t, uint64_t i, uint32_t c)
{
    uint8_t *b = &t[i >> 1];
    *b = (i & 1) ? (uint8_t)((*b & 0x0f) | (c << 4))
                 : (uint8_t)((*b & 0xf0) | c);
}

static inline uint32_t nibble_get(const uint8_t *t, uint64_t i)
{
    return (t[i >> 1] >> ((i & 1) * 4)) & 0x0f;
}

int as_oracle_same_classes(const as_classes_t *a, const as_classes_t *b)
{
    if (a->n != b->n) return 0;
    for (uint32_t i = 0; i < a->n; i++)
        if (a->bound_ns[i] != b->bound_ns[i]) return 0;
    return 1;
}

static int io_err(build_t *b, const char *what)
{
    snprintf(b->err, b->errcap, "%s: cannot %s the oracle's table: %s", b->path,
             what, strerror(errno));
    return AS_EIO;
}

static int write_all(build_t *b, const uint8_t *p, size_t n, uint64_t off)
{
    while (n) {
        ssize_t w = pwrite(b->o->fd, p, n, (off_t)off);
        if (w <= 0) return io_err(b, "write");
        p += w;
        n -= (size_t)w;
        off += (uint64_t)w;
    }
    return AS_OK;
}

/* Read up to n bytes at off; bytes past the end of the file read as 0. */
static int read_some(int fd, uint8_t *p, size_t n, uint64_t off)
{
    memset(p, 0, n);
    while (n) {
        ssize_t r = pread(fd, p, n, (off_t)off);
        if (r < 0) return AS_EIO;
        if (r == 0) break;
        p += r;
        n -= (size_t)r;
        off += (uint64_t)r;
    }
    return AS_OK;
}

static int open_file(build_t *b)
{
    const char *dir = getenv("TMPDIR");
    snprintf(b->path, sizeof b->path, "%s/allocsim-oracle-XXXXXX",
             dir && *dir ? dir : "/tmp");
    int fd = mkstemp(b->path);
    if (fd < 0) return io_err(b, "create");
    unlink(b->path);
    b->o->fd = fd;
    return AS_OK;
}

static int cmp_patch(const void *x, const void *y)
{
    const patch_t *a = x, *b = y;
    return a->id < b->id ? -1 : a->id > b->id;
}

/* Apply the queued patches to the file, a block at a time. */
static int apply_patches(build_t *b)
{
    qsort(b->patch, b->n_patch, sizeof *b->patch, cmp_patch);
    uint8_t *blk = malloc(PATCH_BLOCK_BYTES);
    if (!blk) return AS_ENOMEM;
    int rc = AS_OK;
    for (size_t i = 0; rc == AS_OK && i < b->n_patch;) {
        uint64_t off =
            (b->patch[i].id >> 1) / PATCH_BLOCK_BYTES * PATCH_BLOCK_BYTES;
        uint64_t first = off * 2, end = first + 2 * PATCH_BLOCK_BYTES;
        if (read_some(b->o->fd, blk, PATCH_BLOCK_BYTES, off) != AS_OK) {
            rc = io_err(b, "read");
            break;
        }
        for (; i < b->n_patch && b->patch[i].id < end; i++)
            nibble_set(blk, b->patch[i].id - first, b->patch[i].cls);
        /* never past the part of the file written so far */
        size_t len = PATCH_BLOCK_BYTES;
        if (off + len > b->lo / 2) len = (size_t)(b->lo / 2 - off);
        rc = write_all(b, blk, len, off);
    }
    free(blk);
    b->n_patch = 0;
    return rc;
}

/* Slide the window until it holds id: its first half goes to the file. */
static int slide(build_t *b, uint64_t id)
{
    size_t half = b->win_bytes;
    while (id >= b->lo + 4 * (uint64_t)half) {
        int rc = b->o->fd < 0 ? open_file(b) : AS_OK;
        if (rc == AS_OK) rc = write_all(b, b->win, half, b->lo / 2);
        if (rc != AS_OK) return rc;
        memmove(b->win, b->win + half, half);
        memset(b->win + half, 0, half);
        b->lo += 2 * (uint64_t)half;
    }
    return AS_OK;
}

static int set_class(build_t *b, uint64_t id, uint32_t cls)
{
    if (id >= b->lo) {
        nibble_set(b->win, id - b->lo, cls);
        return AS_OK;
    }
    b->patch[b->n_patch++] = (patch_t){id, cls};
    return b->n_patch == b->max_patch ? apply_patches(b) : AS_OK;
}

/* Classify one batch of events. */
static int classify(build_t *b, as_livemap_t *born, const as_event_t *ev,
                    size_t n)
{
    const as_classes_t *c = &b->o->classes;
    uint32_t last = c->n - 1;
    for (size_t i = 0; i < n; i++) {
        const as_event_t *e = &ev[i];
        int rc = AS_OK;
        if (e->kind == AS_EV_FREE || e->kind == AS_EV_REALLOC) {
            as_live_t x;
            if (as_livemap_take(born, e->object, &x))
                rc = set_class(b, x.id,
                               as_classes_of(c, e->t_ns - x.t_alloc_ns));
        }
        if (rc != AS_OK) return rc;
        if (e->kind != AS_EV_ALLOC && e->kind != AS_EV_REALLOC) continue;
        uint64_t id = e->kind == AS_EV_ALLOC ? e->object : e->new_object;
        if ((rc = slide(b, id)) != AS_OK) return rc;
        /* until its free: never freed (an id behind the window comes
         * only from a trace that reuses ids; the reader refuses those) */
        if (id >= b->lo) nibble_set(b->win, id - b->lo, last);
        if (id + 1 > b->o->n) b->o->n = id + 1;
        as_live_t x = {.id = id, .t_alloc_ns = e->t_ns};
        if (as_livemap_insert(born, &x) != AS_OK) return AS_ENOMEM;
    }
    return AS_OK;
}

/* End of the pre-pass: the window and the patches to the file, or the
 * window kept as the table when no file was needed. */
static int finish(build_t *b)
{
    if (b->o->fd < 0) {
        b->o->mem = b->win;
        b->win = NULL;
        return AS_OK;
    }
    uint64_t end = (b->o->n + 1) / 2; /* bytes of the table */
    int rc = write_all(b, b->win, (size_t)(end - b->lo / 2), b->lo / 2);
    b->lo = 2 * end; /* patches may now cover everything written */
    if (rc == AS_OK && b->n_patch) rc = apply_patches(b);
    return rc;
}

/* ------------------------------------------------ chunks in parallel */

#define LIVE_BIT 0x80u /* chunk_res_t.cls: still live at the chunk's end */

/* One chunk's classification by a worker. */
typedef struct {
    uint64_t first, n_ids; /* ids [first, first + n_ids) allocated */
    uint8_t *cls;          /* their classes (| LIVE_BIT: never freed in
                                the chunk, class = the last) */
    uint64_t *t_alloc;     /* their allocation times */
    size_t ids_cap;
    as_live_t *ext; /* frees of earlier ids: id, time of the free */
    size_t n_ext, ext_cap;
    as_trace_detached_t det; /* the checks left to the caller */
    int rc;                  /* 0, or the chunk failed (start again) */
} chunk_res_t;

typedef struct par par_t;

typedef struct {
    par_t *p;
    as_trace_reader_t *rd;
    as_event_t *ev;
    pthread_t th;
    int started;
} worker_t;

struct par {
    const as_classes_t *classes;
    size_t n_chunks, n_slots;
    chunk_res_t *slot; /* chunk k in slot k % n_slots */
    uint64_t *ready;   /* slot holds chunk ready[s] - 1 when done */
    size_t next;       /* next chunk to hand out */
    size_t consumed;   /* chunks taken by the caller */
    int stop;
    pthread_mutex_t mu;
    pthread_cond_t cv_ready, cv_space;
};

static int grow_ids(chunk_res_t *c, uint64_t need)
{
    if (need <= c->ids_cap) return AS_OK;
    size_t cap = c->ids_cap ? c->ids_cap : 4096;
    while (cap < need)
        cap *= 2;
    uint8_t *cls = realloc(c->cls, cap);
    if (cls) c->cls = cls;
    uint64_t *t = cls ? realloc(c->t_alloc, cap * sizeof *t) : NULL;
    if (!t) return AS_ENOMEM;
    c->t_alloc = t;
    c->ids_cap = cap;
    return AS_OK;
}

/* Decode chunk k with rd and classify what it can. */
static void work_chunk(par_t *p, worker_t *w, chunk_res_t *c, size_t k)
{
    const as_classes_t *cl = p->classes;
    const uint8_t last = (uint8_t)(cl->n - 1);
    c->n_ids = c->n_ext = 0;
    c->rc = as_trace_reader_seek_chunk(w->rd, k, 1);
    c->first = as_trace_reader_objects(w->rd);
    while (c->rc == AS_OK) {
        long n = as_trace_reader_next_batch(w->rd, w->ev, AS_BATCH_READ);
        if (n <= 0) {
            c->rc = (int)n;
            break;
        }
        size_t ns;
        as_trace_reader_samples(w->rd, &ns);
        as_trace_reader_drop_samples(w->rd, ns);
        as_trace_reader_writes(w->rd, &ns);
        as_trace_reader_drop_writes(w->rd, ns);
        for (long i = 0; i < n && c->rc == AS_OK; i++) {
            const as_event_t *e = &w->ev[i];
            if (e->kind != AS_EV_ALLOC) { /* free, realloc: the old one */
                uint64_t id = e->object;
                if (id >= c->first) {
                    uint64_t j = id - c->first;
                    if (c->cls[j] & LIVE_BIT)
                        c->cls[j] =
                            (uint8_t)as_classes_of(cl, e->t_ns - c->t_alloc[j]);
                } else {
                    if (c->n_ext == c->ext_cap) {
                        size_t cap = c->ext_cap ? 2 * c->ext_cap : 1024;
                        as_live_t *x = realloc(c->ext, cap * sizeof *x);
                        if (!x) {
                            c->rc = AS_ENOMEM;
                            break;
                        }
                        c->ext = x;
                        c->ext_cap = cap;
                    }
                    c->ext[c->n_ext++] =
                        (as_live_t){.id = id, .t_alloc_ns = e->t_ns};
                }
            }
            if (e->kind == AS_EV_FREE) continue;
            uint64_t id = e->kind == AS_EV_ALLOC ? e->object : e->new_object;
            uint64_t j = id - c->first;
            if (grow_ids(c, j + 1) != AS_OK) {
                c->rc = AS_ENOMEM;
                break;
            }
            c->cls[j] = last | LIVE_BIT;
            c->t_alloc[j] = e->t_ns;
            c->n_ids = j + 1;
        }
    }
    c->det = *as_trace_reader_detached(w->rd);
}

static void *worker_main(void *arg)
{
    worker_t *w = arg;
    par_t *p = w->p;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (!p->stop && p->next < p->n_chunks &&
               p->next >= p->consumed + p->n_slots)
            pthread_cond_wait(&p->cv_space, &p->mu);
        if (p->stop || p->next >= p->n_chunks) break;
        size_t k = p->next++;
        chunk_res_t *c = &p->slot[k % p->n_slots];
        pthread_mutex_unlock(&p->mu);
        work_chunk(p, w, c, k);
        pthread_mutex_lock(&p->mu);
        p->ready[k % p->n_slots] = k + 1;
        pthread_cond_broadcast(&p->cv_ready);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

/* The caller's part for chunk c (index k): the checks, then the classes.
 * The running state: the highest stack id defined before the chunk, the
 * definitions before it, the time of the last sample or write report
 * before it. */
typedef struct {
    uint64_t max_stack, stack_defs, frame_defs, floor_t;
} par_state_t; /* floor_t: of the last sample or write report */

static int take_chunk(build_t *b, as_livemap_t *born, par_state_t *g,
                      const chunk_res_t *c, const as_trace_chunk_info_t *info)
{
    if (c->rc != AS_OK) return c->rc;
    const as_trace_detached_t *d = &c->det;
    if (d->stack_need > g->max_stack ||
        (d->stack_excess != INT64_MIN &&
         d->stack_excess > (int64_t)(2 * g->stack_defs)) ||
        (d->frame_excess != INT64_MIN &&
         d->frame_excess > (int64_t)(2 * g->frame_defs)) ||
        (info->events && (!d->samples || d->events_before_first_sample) &&
         (!d->writes || d->events_before_first_write) &&
         info->first_t_ns < g->floor_t) ||
        (d->samples && d->first_sample_t < g->floor_t) ||
        (d->writes && d->first_write_t < g->floor_t))
        return AS_EFORMAT; /* the sequential pass words it */
    if (d->max_stack_def > g->max_stack) g->max_stack = d->max_stack_def;
    g->stack_defs += d->stack_defs;
    g->frame_defs += d->frame_defs;
    /* samples and write reports are in time order: the later last one */
    if (d->samples && d->last_sample_t > g->floor_t)
        g->floor_t = d->last_sample_t;
    if (d->writes && d->last_write_t > g->floor_t) g->floor_t = d->last_write_t;
    const as_classes_t *cl = &b->o->classes;
    int rc = AS_OK;
    for (size_t i = 0; i < c->n_ext && rc == AS_OK; i++) {
        as_live_t x;
        if (as_livemap_take(born, c->ext[i].id, &x))
            rc = set_class(
                b, x.id,
                as_classes_of(cl, c->ext[i].t_alloc_ns - x.t_alloc_ns));
    }
    for (uint64_t j = 0; j < c->n_ids && rc == AS_OK; j++) {
        uint64_t id = c->first + j;
        if ((rc = slide(b, id)) != AS_OK) break;
        nibble_set(b->win, id - b->lo, c->cls[j] & 0x0fu);
        if (c->cls[j] & LIVE_BIT) {
            as_live_t x = {.id = id, .t_alloc_ns = c->t_alloc[j]};
            if (as_livemap_insert(born, &x) != AS_OK) rc = AS_ENOMEM;
        }
    }
    if (c->n_ids && c->first + c->n_ids > b->o->n)
        b->o->n = c->first + c->n_ids;
    return rc;
}

/* The pre-pass over chunks in parallel with `workers` workers. @return
 * AS_OK, or non-zero when it must be made again sequentially. */
static int classify_parallel(build_t *b, as_livemap_t *born,
                             as_trace_reader_t *rd, int workers)
{
    size_t n = as_trace_reader_chunk_count(rd);
    const as_trace_chunk_info_t *info = as_trace_reader_chunks(rd);
    if ((size_t)workers > n) workers = (int)n; /* a reader each: no idle */
    par_t p = {.classes = &b->o->classes,
               .n_chunks = n,
               .n_slots = 2 * (size_t)workers};
    p.slot = calloc(p.n_slots, sizeof *p.slot);
    p.ready = calloc(p.n_slots, sizeof *p.ready);
    worker_t *w = calloc((size_t)workers, sizeof *w);
    int rc = p.slot && p.ready && w ? AS_OK : AS_ENOMEM;
    pthread_mutex_init(&p.mu, NULL);
    pthread_cond_init(&p.cv_ready, NULL);
    pthread_cond_init(&p.cv_space, NULL);
    for (int i = 0; rc == AS_OK && i < workers; i++) {
        w[i].p = &p;
        w[i].ev = malloc(AS_BATCH_READ * sizeof *w[i].ev);
        if (!w[i].ev || as_trace_reader_clone(rd, &w[i].rd) != AS_OK)
            rc = AS_ENOMEM;
    }
    for (int i = 0; rc == AS_OK && i < workers; i++) {
        w[i].started = pthread_create(&w[i].th, NULL, worker_main, &w[i]) == 0;
        if (!w[i].started) rc = AS_EIO;
    }
    par_state_t g = {0};
    for (size_t k = 0; rc == AS_OK && k < n; k++) {
        size_t s = k % p.n_slots;
        pthread_mutex_lock(&p.mu);
        while (p.ready[s] != k + 1)
            pthread_cond_wait(&p.cv_ready, &p.mu);
        pthread_mutex_unlock(&p.mu);
        rc = take_chunk(b, born, &g, &p.slot[s], &info[k]);
        pthread_mutex_lock(&p.mu);
        p.consumed = k + 1;
        pthread_cond_broadcast(&p.cv_space);
        pthread_mutex_unlock(&p.mu);
    }
    pthread_mutex_lock(&p.mu);
    p.stop = 1;
    pthread_cond_broadcast(&p.cv_space);
    pthread_mutex_unlock(&p.mu);
    for (int i = 0; w && i < workers; i++) {
        if (w[i].started) pthread_join(w[i].th, NULL);
        as_trace_reader_close(w[i].rd);
        free(w[i].ev);
    }
    for (size_t i = 0; p.slot && i < p.n_slots; i++) {
        free(p.slot[i].cls);
        free(p.slot[i].t_alloc);
        free(p.slot[i].ext);
    }
    pthread_mutex_destroy(&p.mu);
    pthread_cond_destroy(&p.cv_ready);
    pthread_cond_destroy(&p.cv_space);
    free(p.slot);
    free(p.ready);
    free(w);
    return rc;
}

int as_oracle_build(as_oracle_t *o, as_trace_reader_t *rd,
                    const as_classes_t *classes, int threads, char *err,
                    size_t cap)
{
    return as_oracle_build_sized(o, rd, classes, threads,
                                 AS_ORACLE_WINDOW_BYTES, AS_ORACLE_PATCHES, err,
                                 cap);
}

int as_oracle_build_sized(as_oracle_t *o, as_trace_reader_t *rd,
                          const as_classes_t *classes, int threads,
                          size_t window_bytes, size_t patches, char *err,
                          size_t cap)
{
    memset(o, 0, sizeof *o);
    o->classes = *classes;
    o->fd = -1;
    build_t b = {.o = o,
                 .win_bytes = window_bytes ? window_bytes : 1,
                 .max_patch = patches ? patches : 1,
                 .err = err,
                 .errcap = cap};
    b.win = calloc(2, b.win_bytes);
    b.patch = malloc(b.max_patch * sizeof *b.patch);
    as_livemap_t born;
    as_batchring_t *ring = NULL;
    int rc = b.win && b.patch ? as_livemap_init(&born, 1024) : AS_ENOMEM;
    if (rc != AS_OK) {
        free(b.win);
        free(b.patch);
        return rc;
    }
    /* chunks in parallel when the trace is indexed and read from its start;
     * any failure: everything again, sequentially */
    int tried = threads > 1 && as_trace_reader_has_index(rd) &&
                as_trace_reader_chunk_count(rd) > 1 &&
                as_trace_reader_objects(rd) == 0;
    int parallel = tried && classify_parallel(&b, &born, rd, threads) == AS_OK;
    if (tried && !parallel) { /* start afresh */
        as_livemap_destroy(&born);
        if (o->fd >= 0) close(o->fd);
        o->fd = -1;
        o->n = 0;
        b.lo = 0;
        b.n_patch = 0;
        memset(b.win, 0, 2 * b.win_bytes);
        if ((rc = as_livemap_init(&born, 1024)) != AS_OK) {
            free(b.win);
            free(b.patch);
            return rc;
        }
    }
    long status = 0;
    if (!parallel)
        rc = as_batchring_create(/* classify reads no stacks */
                                 &ring, rd, AS_BATCH_READ,
                                 AS_BATCHRING_NO_STACKS |
                                     (threads > 1 ? AS_BATCHRING_THREADED : 0),
                                 4, 1);
    for (int last = 0; !parallel && rc == AS_OK && !last;) {
        const as_batch_t *x = as_batchring_next(ring, 0);
        rc = classify(&b, &born, x->ev, x->n);
        status = x->status;
        last = x->last;
        as_batchring_release(ring, 0);
    }
    as_batchring_destroy(ring); /* joined: the reader is ours again */
    as_livemap_destroy(&born);
    if (rc == AS_OK && status < 0) {
        rc = (int)status;
        snprintf(err, cap, "%s", as_trace_reader_error(rd));
    } else if (rc == AS_OK && status != 0) {
        rc = (int)status;
    }
    if (rc == AS_OK) rc = finish(&b);
    free(b.win);
    free(b.patch);
    if (rc == AS_OK) rc = as_trace_reader_rewind(rd);
    if (rc != AS_OK) {
        as_oracle_destroy(o);
        return rc;
    }
    o->built = 1;
    o->parallel = parallel;
    return AS_OK;
}

void as_oracle_cursor_init(as_oracle_cursor_t *c, const as_oracle_t *o)
{
    c->o = o;
    c->lo = c->hi = 0;
    c->err = 0;
}

int32_t as_oracle_cursor_fill(as_oracle_cursor_t *c, uint64_t id)
{
    const as_oracle_t *o = c->o;
    uint64_t lo = id & ~(uint64_t)1;
    if (read_some(o->fd, c->buf, sizeof c->buf, lo / 2) != AS_OK) {
        c->err = AS_EIO;
        c->lo = c->hi = 0;
        return (int32_t)o->classes.n - 1;
    }
    c->lo = lo;
    c->hi = lo + 2 * sizeof c->buf;
    return (int32_t)nibble_get(c->buf, id - lo);
}

void as_oracle_destroy(as_oracle_t *o)
{
    free(o->mem);
    o->mem = NULL;
    if (o->fd >= 0) close(o->fd);
    o->fd = -1;
    o->n = 0;
    o->built = 0;
}

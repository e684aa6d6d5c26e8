/* batchring.c - the decoded batches of a replay (see batchring.h).
 *
 * Owns the slots, the stack copies and, when threaded, the decode thread:
 * the only code that calls the reader between create and destroy. The
 * thread fills slot produced % slots once every consumer has released
 * it; consumer c takes slot taken[c] % slots once it is produced. One
 * mutex and two condition variables guard the counters; the slots'
 * contents are written only while no consumer can see them, so a
 * consumer reads its batch without the lock.
 */
#include "sim/batchring.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/error.h"

struct as_batchring {
    as_trace_reader_t *rd;
    as_stackdefs_t defs;
    as_batch_t *slot;
    size_t n_slots, batch_events, consumers;
    int threaded, sync, started, stop;
    int copy_stacks; /* 0: AS_BATCHRING_NO_STACKS */
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t ready, space;
    uint64_t produced;  /* slots filled */
    uint64_t *taken;    /* by consumer: slots taken */
    uint64_t *released; /* by consumer: slots given back */
    double decode_s;    /* written by the decoding side only */
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

int as_items_append(void **v, size_t *n, size_t *cap, const void *src, size_t k,
                    size_t elem)
{
    if (*n + k > *cap) {
        size_t c = *cap ? *cap : 16;
        while (c < *n + k)
            c *= 2;
        void *nv = realloc(*v, c * elem);
        if (!nv) return AS_ENOMEM;
        *v = nv;
        *cap = c;
    }
    if (k) memcpy((char *)*v + *n * elem, src, k * elem);
    *n += k;
    return AS_OK;
}

/* Move the samples and write reports the reader holds into b. */
static int take_samples(as_batchring_t *q, as_batch_t *b)
{
    size_t n;
    const as_mem_sample_t *m = as_trace_reader_samples(q->rd, &n);
    int rc = as_items_append((void **)&b->samples, &b->n_samples,
                             &b->samples_cap, m, n, sizeof *m);
    if (rc == AS_OK) as_trace_reader_drop_samples(q->rd, n);
    const as_write_t *w = as_trace_reader_writes(q->rd, &n);
    if (rc == AS_OK)
        rc = as_items_append((void **)&b->writes, &b->n_writes, &b->writes_cap,
                             w, n, sizeof *w);
    if (rc == AS_OK) as_trace_reader_drop_writes(q->rd, n);
    return rc;
}

/* Decode the next batch into b. */
static void fill(as_batchring_t *q, as_batch_t *b)
{
    double t0 = now_s();
    b->n = b->n_samples = b->n_writes = 0;
    b->status = 0;
    b->last = 0;
    while (b->n < q->batch_events) {
        long got =
            as_trace_reader_next_batch(q->rd, b->ev + b->n, AS_BATCH_READ);
        int rc = got > 0 && q->copy_stacks
                     ? as_stackdefs_absorb(&q->defs, q->rd, b->ev + b->n,
                                           (size_t)got)
                     : AS_OK;
        if (rc == AS_OK) rc = take_samples(q, b);
        if (got > 0) b->n += (size_t)got;
        if (rc != AS_OK || got <= 0) {
            b->status = got < 0 ? got : rc;
            b->last = 1;
            break;
        }
    }
    b->stacks = as_stackdefs_view(&q->defs);
    q->decode_s += now_s() - t0;
}

static uint64_t min_released(const as_batchring_t *q)
{
    uint64_t m = UINT64_MAX;
    for (size_t c = 0; c < q->consumers; c++)
        if (q->released[c] < m) m = q->released[c];
    return m;
}

static void *decode_thread(void *arg)
{
    as_batchring_t *q = arg;
    for (;;) {
        pthread_mutex_lock(&q->mu);
        while (!q->stop && q->produced - min_released(q) >= q->n_slots)
            pthread_cond_wait(&q->space, &q->mu);
        int stop = q->stop;
        pthread_mutex_unlock(&q->mu);
        if (stop) return NULL;
        as_batch_t *b = &q->slot[q->produced % q->n_slots];
        fill(q, b);
        pthread_mutex_lock(&q->mu);
        q->produced++;
        pthread_cond_broadcast(&q->ready);
        pthread_mutex_unlock(&q->mu);
        if (b->last) return NULL;
    }
}

int as_batchring_create(as_batchring_t **out, as_trace_reader_t *rd,
                        size_t batch_events, unsigned flags, size_t slots,
                        size_t consumers)
{
    *out = NULL;
    as_batchring_t *q = calloc(1, sizeof *q);
    if (!q) return AS_ENOMEM;
    int threaded = (flags & AS_BATCHRING_THREADED) != 0;
    q->rd = rd;
    q->threaded = threaded;
    q->copy_stacks = !(flags & AS_BATCHRING_NO_STACKS);
    q->n_slots = threaded ? (slots < 2 ? 2 : slots) : 1;
    q->consumers = threaded ? (consumers ? consumers : 1) : 1;
    q->batch_events =
        batch_events < AS_BATCH_READ ? AS_BATCH_READ : batch_events;
    q->slot = calloc(q->n_slots, sizeof *q->slot);
    q->taken = calloc(q->consumers, sizeof *q->taken);
    q->released = calloc(q->consumers, sizeof *q->released);
    int rc = q->slot && q->taken && q->released ? AS_OK : AS_ENOMEM;
    for (size_t i = 0; rc == AS_OK && i < q->n_slots; i++)
        if (!(q->slot[i].ev = malloc(q->batch_events * sizeof(as_event_t))))
            rc = AS_ENOMEM;
    if (rc == AS_OK && threaded) {
        pthread_mutex_init(&q->mu, NULL);
        pthread_cond_init(&q->ready, NULL);
        pthread_cond_init(&q->space, NULL);
        q->sync = q->started = 1;
        if (pthread_create(&q->thread, NULL, decode_thread, q) != 0) {
            q->started = 0;
            rc = AS_EIO;
        }
    }
    if (rc != AS_OK) {
        as_batchring_destroy(q);
        return rc;
    }
    *out = q;
    return AS_OK;
}

const as_batch_t *as_batchring_next(as_batchring_t *q, size_t c)
{
    if (!q->threaded) {
        fill(q, &q->slot[0]);
        return &q->slot[0];
    }
    pthread_mutex_lock(&q->mu);
    while (q->taken[c] >= q->produced)
        pthread_cond_wait(&q->ready, &q->mu);
    const as_batch_t *b = &q->slot[q->taken[c]++ % q->n_slots];
    pthread_mutex_unlock(&q->mu);
    return b;
}

void as_batchring_release(as_batchring_t *q, size_t c)
{
    if (!q->threaded) return;
    pthread_mutex_lock(&q->mu);
    q->released[c]++;
    pthread_cond_signal(&q->space);
    pthread_mutex_unlock(&q->mu);
}

double as_batchring_decode_s(const as_batchring_t *q)
{
    return q->decode_s;
}

void as_batchring_join(as_batchring_t *q)
{
    if (!q || !q->started) return;
    pthread_mutex_lock(&q->mu);
    q->stop = 1;
    pthread_cond_broadcast(&q->space);
    pthread_mutex_unlock(&q->mu);
    pthread_join(q->thread, NULL);
    q->started = 0;
}

void as_batchring_destroy(as_batchring_t *q)
{
    if (!q) return;
    as_batchring_join(q);
    if (q->sync) {
        pthread_mutex_destroy(&q->mu);
        pthread_cond_destroy(&q->ready);
        pthread_cond_destroy(&q->space);
    }
    for (size_t i = 0; q->slot && i < q->n_slots; i++) {
        free(q->slot[i].ev);
        free(q->slot[i].samples);
        free(q->slot[i].writes);
    }
    free(q->slot);
    free(q->taken);
    free(q->released);
    as_stackdefs_destroy(&q->defs);
    free(q);
}

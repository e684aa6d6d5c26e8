/* oracle.c - the oracle's pre-pass (see oracle.h).
 *
 * Owns the table of true classes. The pre-pass keeps the allocation time
 * of every live object in a live table (livemap.h; O(live) memory) and
 * writes an object's class when its free or realloc comes; every new id
 * is first set to the last class (never freed). The decoding goes through
 * the batch ring (batchring.h), on a thread of its own when asked, so on
 * two cores decoding and classifying overlap.
 */
#include "sim/oracle.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "sim/batchring.h"
#include "sim/livemap.h"

static inline void oracle_set(uint8_t *t, uint64_t id, uint32_t c)
{
    uint8_t *b = &t[id >> 1];
    *b = (id & 1) ? (uint8_t)((*b & 0x0f) | (c << 4))
                  : (uint8_t)((*b & 0xf0) | c);
}

int as_oracle_same_classes(const as_classes_t *a, const as_classes_t *b)
{
    if (a->n != b->n) return 0;
    for (uint32_t i = 0; i < a->n; i++)
        if (a->bound_ns[i] != b->bound_ns[i]) return 0;
    return 1;
}

/* Classify one batch of events into o (bytes: the table's size). */
static int classify(as_oracle_t *o, uint64_t *bytes, as_livemap_t *born,
                    const as_event_t *ev, size_t n)
{
    const as_classes_t *c = &o->classes;
    uint32_t last = c->n - 1;
    for (size_t i = 0; i < n; i++) {
        const as_event_t *e = &ev[i];
        if (e->kind == AS_EV_FREE || e->kind == AS_EV_REALLOC) {
            as_live_t b;
            if (as_livemap_take(born, e->object, &b))
                oracle_set(o->cls, b.id,
                           as_classes_of(c, e->t_ns - b.t_alloc_ns));
        }
        if (e->kind != AS_EV_ALLOC && e->kind != AS_EV_REALLOC) continue;
        uint64_t id = e->kind == AS_EV_ALLOC ? e->object : e->new_object;
        while ((id >> 1) >= *bytes) {
            uint8_t *nc = realloc(o->cls, *bytes * 2);
            if (!nc) return AS_ENOMEM;
            memset(nc + *bytes, 0, *bytes);
            o->cls = nc;
            *bytes *= 2;
        }
        oracle_set(o->cls, id, last); /* until its free: never freed */
        if (id + 1 > o->n) o->n = id + 1;
        as_live_t b = {.id = id, .t_alloc_ns = e->t_ns};
        if (as_livemap_insert(born, &b) != AS_OK) return AS_ENOMEM;
    }
    return AS_OK;
}

int as_oracle_build(as_oracle_t *o, as_trace_reader_t *rd,
                    const as_classes_t *classes, int threads, char *err,
                    size_t cap)
{
    memset(o, 0, sizeof *o);
    o->classes = *classes;
    uint64_t bytes = 1 << 16; /* 2 objects each */
    as_livemap_t born;
    as_batchring_t *ring = NULL;
    o->cls = calloc(bytes, 1);
    int rc = o->cls ? as_livemap_init(&born, 1024) : AS_ENOMEM;
    if (rc != AS_OK) {
        free(o->cls);
        o->cls = NULL;
        return rc;
    }
    rc = as_batchring_create(&ring, rd, 4 * AS_BATCH_READ, threads > 1, 4, 1);
    long status = 0;
    for (int last = 0; rc == AS_OK && !last;) {
        const as_batch_t *b = as_batchring_next(ring, 0);
        rc = classify(o, &bytes, &born, b->ev, b->n);
        status = b->status;
        last = b->last;
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
    if (rc == AS_OK) rc = as_trace_reader_rewind(rd);
    if (rc != AS_OK) as_oracle_destroy(o);
    return rc;
}

void as_oracle_destroy(as_oracle_t *o)
{
    free(o->cls);
    o->cls = NULL;
    o->n = 0;
}

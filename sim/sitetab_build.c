/* sitetab_build.c - count each site's objects per lifetime class over the
 * traces, pick each site's class, sort and encode (see sitetab_build.h).
 *
 * Owns one open-addressing map of sites (key -> per-class counts), grown
 * at half full, for the duration of the build. The key and the file's
 * bytes come from the predictor's own code (common/sitekey.c,
 * as_sitetab_encode), so the table cannot drift from its reader.
 */
#include "sim/sitetab_build.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/sitekey.h"
#include "common/util.h"
#include "predictors/sitetab/sitetab.h"
#include "sim/lifewalk.h"

typedef struct {
    uint64_t key; /* 0 = empty */
    uint64_t count[AS_MAX_CLASSES];
} site_t;

typedef struct {
    site_t *e;
    uint64_t mask, n;
    uint32_t frames;
    as_sitetab_build_t *out;
    int rc;
} build_t;

/* The site of key (not 0), inserted when new; NULL when out of memory. */
static site_t *site_get(build_t *b, uint64_t key)
{
    if (2 * (b->n + 1) > b->mask + 1) {
        uint64_t nm = b->mask ? 2 * b->mask + 1 : 1023;
        site_t *ne = calloc(nm + 1, sizeof *ne);
        if (!ne) return NULL;
        for (uint64_t i = 0; b->e && i <= b->mask; i++) {
            if (!b->e[i].key) continue;
            uint64_t s = as_hash64(b->e[i].key) & nm;
            while (ne[s].key)
                s = (s + 1) & nm;
            ne[s] = b->e[i];
        }
        free(b->e);
        b->e = ne;
        b->mask = nm;
    }
    uint64_t s = as_hash64(key) & b->mask;
    while (b->e[s].key && b->e[s].key != key)
        s = (s + 1) & b->mask;
    if (!b->e[s].key) {
        b->e[s].key = key;
        b->n++;
    }
    return &b->e[s];
}

static void count_one(void *arg, const as_lifewalk_alloc_t *a)
{
    build_t *b = arg;
    if (b->rc != AS_OK) return;
    const as_pred_ctx_t *c = &a->ctx;
    if (!c->depth) {
        b->out->unkeyed++;
        return;
    }
    uint32_t n = c->depth < b->frames ? c->depth : b->frames;
    for (uint32_t i = 0; i < n; i++) {
        const char *m = c->modules ? c->modules[i] : NULL;
        b->out->pc_frames += !m || !m[0] || (m[0] == '-' && !m[1]);
    }
    b->out->frames_all += n;
    site_t *s = site_get(
        b, as_sitekey(c->modules, c->offsets, c->pcs, c->depth, b->frames));
    if (!s) {
        b->rc = AS_ENOMEM;
        return;
    }
    s->count[a->cls]++;
    b->out->allocs++;
}

static int by_key(const void *x, const void *y)
{
    uint64_t a = ((const as_sitetab_rec_t *)x)->key;
    uint64_t b = ((const as_sitetab_rec_t *)y)->key;
    return (a > b) - (a < b);
}

int as_sitetab_build(const char *const *paths, int n, const as_classes_t *cl,
                     uint32_t frames, as_sitetab_build_t *out, char *err,
                     size_t errcap)
{
    memset(out, 0, sizeof *out);
    if (frames < 1 || frames > AS_SITEKEY_MAX_FRAMES) {
        snprintf(err, errcap, "frames must be from 1 to %u",
                 AS_SITEKEY_MAX_FRAMES);
        return AS_EINVAL;
    }
    build_t b = {.frames = frames, .out = out, .rc = AS_OK};
    int rc = AS_OK;
    for (int i = 0; i < n && rc == AS_OK; i++) {
        rc = as_lifewalk_trace(paths[i], cl, count_one, &b, err, errcap);
        if (rc == AS_OK) rc = b.rc;
    }
    as_sitetab_rec_t *recs = NULL;
    if (rc == AS_OK && b.n && !(recs = malloc((size_t)b.n * sizeof *recs)))
        rc = AS_ENOMEM;
    uint64_t m = 0;
    for (uint64_t i = 0; rc == AS_OK && b.e && i <= b.mask; i++) {
        const site_t *s = &b.e[i];
        if (!s->key) continue;
        uint32_t best = 0;
        uint64_t total = 0;
        for (uint32_t k = 0; k < cl->n; k++) {
            total += s->count[k];
            if (s->count[k] >= s->count[best]) best = k; /* ties: longer */
        }
        out->agree += s->count[best];
        recs[m].key = s->key;
        recs[m].cls = best;
        recs[m].objects = total > UINT32_MAX ? UINT32_MAX : (uint32_t)total;
        m++;
    }
    free(b.e);
    if (rc == AS_OK) {
        if (m) qsort(recs, (size_t)m, sizeof *recs, by_key);
        size_t len = as_sitetab_file_bytes(cl->n, m);
        out->bytes = len ? malloc(len) : NULL;
        if (!out->bytes) {
            rc = AS_ENOMEM;
        } else {
            out->len = as_sitetab_encode(cl, frames, recs, m, out->bytes, len);
            out->sites = m;
            if (out->len != len) rc = AS_EINVAL; /* cannot happen */
        }
    }
    free(recs);
    if (rc != AS_OK) {
        free(out->bytes);
        out->bytes = NULL;
        out->len = 0;
        if (rc == AS_ENOMEM) snprintf(err, errcap, "out of memory");
    }
    return rc;
}

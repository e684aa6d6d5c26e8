/* outcomes.c - prediction accounting (see outcomes.h).
 *
 * Owns the confusion matrices (rows: predicted class, columns: actual
 * class; by allocations and by bytes) of the predictor and the shadow, and
 * one outcome counter per allocation site. Nothing here feeds back into the
 * replay: these are report figures, written into the result at the end.
 */
#include "sim/outcomes.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/escape.h"
#include "sim/engine.h"

typedef struct {
    uint64_t mis_bytes, mis_allocs, bytes, allocs;
} site_count_t;

struct as_outcomes {
    uint32_t n_classes;
    uint64_t unpredicted_allocs;
    uint64_t allocs[AS_MAX_CLASSES][AS_MAX_CLASSES];
    uint64_t bytes[AS_MAX_CLASSES][AS_MAX_CLASSES];
    uint64_t shadow_allocs[AS_MAX_CLASSES][AS_MAX_CLASSES];
    uint64_t shadow_bytes[AS_MAX_CLASSES][AS_MAX_CLASSES];
    uint64_t shadow_agree_allocs; /* shadow == predictor */
    site_count_t *sites;          /* sites[stack], n_sites entries */
    uint32_t n_sites;
};

int as_outcomes_create(as_outcomes_t **out, uint32_t n_classes)
{
    *out = calloc(1, sizeof **out);
    if (!*out) return AS_ENOMEM;
    (*out)->n_classes = n_classes;
    return AS_OK;
}

void as_outcomes_destroy(as_outcomes_t *o)
{
    if (!o) return;
    free(o->sites);
    free(o);
}

void as_outcomes_predicted(as_outcomes_t *o, int32_t predicted)
{
    if (predicted == AS_CLASS_NONE) o->unpredicted_allocs++;
}

static void count_site(as_outcomes_t *o, uint32_t stack, uint64_t size,
                       int wrong)
{
    if (stack >= o->n_sites) {
        uint32_t n = o->n_sites ? o->n_sites : 64;
        while (n <= stack)
            n *= 2;
        site_count_t *ns = realloc(o->sites, n * sizeof *ns);
        if (!ns) return; /* the table is a report: losing it is not fatal */
        memset(ns + o->n_sites, 0, (n - o->n_sites) * sizeof *ns);
        o->sites = ns;
        o->n_sites = n;
    }
    site_count_t *c = &o->sites[stack];
    c->allocs++;
    c->bytes += size;
    if (wrong) {
        c->mis_allocs++;
        c->mis_bytes += size;
    }
}

void as_outcomes_add(as_outcomes_t *o, const as_outcome_t *x)
{
    if (x->predicted >= 0) {
        o->allocs[x->predicted][x->actual]++;
        o->bytes[x->predicted][x->actual] += x->size;
        count_site(o, x->stack, x->size, (uint32_t)x->predicted != x->actual);
    }
    if (x->shadow >= 0) {
        o->shadow_allocs[x->shadow][x->actual]++;
        o->shadow_bytes[x->shadow][x->actual] += x->size;
        if (x->shadow == x->predicted) o->shadow_agree_allocs++;
    }
}

static double accuracy(const uint64_t m[AS_MAX_CLASSES][AS_MAX_CLASSES],
                       uint32_t n)
{
    uint64_t ok = 0, all = 0;
    for (uint32_t p = 0; p < n; p++)
        for (uint32_t a = 0; a < n; a++) {
            all += m[p][a];
            if (p == a) ok += m[p][a];
        }
    return all ? (double)ok / (double)all : 0;
}

/* "where" of a site: its three innermost frames, each as its symbol, else
 * module+offset, else the pc. The names come from the trace, so the text is
 * passed through as_escape (summaries get printed; no escape sequence or
 * invalid UTF-8, not even a UTF-8 sequence cut at the end of buf). */
static void site_where(const as_trace_reader_t *reader, uint32_t stack,
                       char *out, size_t out_cap)
{
    const uint32_t *frames;
    uint32_t depth;
    char buf[1024];
    size_t cap = sizeof buf;
    buf[0] = 0;
    out[0] = 0;
    if (!stack || as_trace_reader_stack(reader, stack, &frames, &depth)) return;
    size_t off = 0;
    for (uint32_t i = 0; i < depth && i < 3 && off + 1 < cap; i++) {
        as_frame_t f;
        if (as_trace_reader_frame(reader, frames[i], &f) != AS_OK) continue;
        const char *mod = f.module ? strrchr(f.module, '/') : NULL;
        mod = mod ? mod + 1 : f.module;
        int w =
            f.symbol && f.symbol[0] ? snprintf(buf + off, cap - off, "%s%s",
                                               i ? " < " : "", f.symbol)
            : mod && mod[0]
                ? snprintf(buf + off, cap - off, "%s%s+0x%llx", i ? " < " : "",
                           mod, (unsigned long long)f.offset)
                : snprintf(buf + off, cap - off, "%s0x%llx", i ? " < " : "",
                           (unsigned long long)f.pc);
        if (w < 0) break;
        off += (size_t)w;
    }
    as_escape(out, out_cap, buf, strlen(buf));
}

/* Keep the AS_TOP_SITES sites with the most mispredicted bytes (ties: more
 * mispredicted allocations, then the lower stack id: deterministic). */
static void top_sites(const as_outcomes_t *o, const as_trace_reader_t *reader,
                      as_run_result_t *res)
{
    res->n_top_sites = 0;
    for (uint32_t id = 0; id < o->n_sites; id++) {
        const site_count_t *c = &o->sites[id];
        if (!c->mis_bytes && !c->mis_allocs) continue;
        size_t k = res->n_top_sites;
        while (k > 0) {
            const as_site_report_t *t = &res->top_sites[k - 1];
            if (t->mispredicted_bytes > c->mis_bytes ||
                (t->mispredicted_bytes == c->mis_bytes &&
                 t->mispredicted_allocs >= c->mis_allocs))
                break;
            k--;
        }
        if (k >= AS_TOP_SITES) continue;
        size_t last = res->n_top_sites < AS_TOP_SITES ? res->n_top_sites
                                                      : AS_TOP_SITES - 1;
        memmove(&res->top_sites[k + 1], &res->top_sites[k],
                (last - k) * sizeof res->top_sites[0]);
        res->top_sites[k].stack = id;
        res->top_sites[k].mispredicted_bytes = c->mis_bytes;
        res->top_sites[k].mispredicted_allocs = c->mis_allocs;
        res->top_sites[k].bytes = c->bytes;
        res->top_sites[k].allocs = c->allocs;
        if (res->n_top_sites < AS_TOP_SITES) res->n_top_sites++;
    }
    for (size_t i = 0; i < res->n_top_sites; i++)
        site_where(reader, res->top_sites[i].stack, res->top_sites[i].where,
                   sizeof res->top_sites[i].where);
}

void as_outcomes_finish(const as_outcomes_t *o, int has_shadow,
                        const as_trace_reader_t *reader, as_run_result_t *res)
{
    uint32_t n = o->n_classes;
    res->n_classes = n;
    res->unpredicted_allocs = o->unpredicted_allocs;
    memcpy(res->confusion_allocs, o->allocs, sizeof o->allocs);
    memcpy(res->confusion_bytes, o->bytes, sizeof o->bytes);
    res->accuracy_by_allocs = accuracy(o->allocs, n);
    res->accuracy_by_bytes = accuracy(o->bytes, n);
    res->has_shadow = has_shadow;
    if (has_shadow) {
        memcpy(res->shadow_confusion_allocs, o->shadow_allocs,
               sizeof o->shadow_allocs);
        memcpy(res->shadow_confusion_bytes, o->shadow_bytes,
               sizeof o->shadow_bytes);
        res->shadow_accuracy_by_allocs = accuracy(o->shadow_allocs, n);
        res->shadow_accuracy_by_bytes = accuracy(o->shadow_bytes, n);
        res->shadow_agree_allocs = o->shadow_agree_allocs;
    }
    top_sites(o, reader, res);
}

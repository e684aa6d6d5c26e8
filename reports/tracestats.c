/* tracestats.c - size and lifetime distributions of a trace, and their
 * figures (tracestats.h).
 *
 * Host code. It reads the trace through traces/ (the format's reader) and
 * nothing of the simulator: these figures describe the workload, not a
 * policy, so they are the same for every run of the trace. Object ids are
 * dense, so the birth time and size of live objects sit in two arrays
 * indexed by id.
 */
#include "reports/tracestats.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "traces/trace.h"

size_t as_tracestats_lifetime_bin(uint64_t ns)
{
    if (ns < 1) return 0;
    double k = floor(10 * log10((double)ns) + 1e-9);
    if (k < 0) k = 0;
    return k >= AS_TS_LIFE_BINS - 1 ? AS_TS_LIFE_BINS - 1 : (size_t)k;
}

static size_t size_bucket(uint64_t size)
{
    size_t k = 0;
    while (k + 1 < AS_TS_SIZE_BUCKETS && size >> (k + 1))
        k++;
    return k;
}

typedef struct {
    uint64_t *born_ns, *size; /* by object id; size UINT64_MAX: not live */
    size_t cap;
} objs_t;

static int ensure(objs_t *o, uint64_t id)
{
    if (id < o->cap) return AS_OK;
    if (id > ((size_t)1 << 40)) return AS_ENOMEM;
    size_t cap = o->cap ? o->cap : 4096;
    while (cap <= id)
        cap *= 2;
    uint64_t *b = realloc(o->born_ns, cap * sizeof *b);
    if (!b) return AS_ENOMEM;
    o->born_ns = b;
    uint64_t *s = realloc(o->size, cap * sizeof *s);
    if (!s) return AS_ENOMEM;
    o->size = s;
    for (size_t i = o->cap; i < cap; i++)
        s[i] = UINT64_MAX;
    o->cap = cap;
    return AS_OK;
}

static int born(objs_t *o, as_tracestats_t *s, uint64_t id, uint64_t t,
                uint64_t size)
{
    if (ensure(o, id) != AS_OK) return AS_ENOMEM;
    o->born_ns[id] = t;
    o->size[id] = size;
    size_t k = size_bucket(size);
    s->allocs++;
    s->bytes += size;
    s->size_allocs[k]++;
    s->size_bytes[k] += size;
    return AS_OK;
}

static void died(objs_t *o, as_tracestats_t *s, uint64_t id, uint64_t t)
{
    if (id >= o->cap || o->size[id] == UINT64_MAX) {
        s->unknown_frees++;
        return;
    }
    uint64_t b = o->born_ns[id];
    size_t k = as_tracestats_lifetime_bin(t >= b ? t - b : 0);
    s->life_allocs[k]++;
    s->life_bytes[k] += o->size[id];
    o->size[id] = UINT64_MAX;
}

int as_tracestats_compute(const char *path, as_tracestats_t *s, char *err,
                          size_t errcap)
{
    memset(s, 0, sizeof *s);
    const char *slash = strrchr(path, '/');
    snprintf(s->trace_name, sizeof s->trace_name, "%.255s",
             slash ? slash + 1 : path);
    as_trace_reader_t *r = NULL;
    int rc = as_trace_reader_open(&r, path);
    objs_t o = {0};
    as_event_t ev;
    while (rc == AS_OK) {
        int got = as_trace_reader_next(r, &ev);
        as_trace_reader_drop_kept(r); /* events only */
        if (got <= 0) {
            rc = got;
            break;
        }
        if (ev.kind == AS_EV_ALLOC) {
            rc = born(&o, s, ev.object, ev.t_ns, ev.size);
        } else if (ev.kind == AS_EV_FREE) {
            died(&o, s, ev.object, ev.t_ns);
        } else if (ev.kind == AS_EV_REALLOC) {
            died(&o, s, ev.object, ev.t_ns);
            rc = born(&o, s, ev.new_object, ev.t_ns, ev.size);
        }
    }
    if (rc == AS_ENOMEM)
        snprintf(err, errcap, "%s: out of memory tracking objects", path);
    else if (rc != AS_OK)
        snprintf(err, errcap, "%s",
                 r ? as_trace_reader_error(r) : "cannot open the trace");
    for (size_t i = 0; rc == AS_OK && i < o.cap; i++)
        if (o.size[i] != UINT64_MAX) {
            s->never_allocs++;
            s->never_bytes += o.size[i];
        }
    free(o.born_ns);
    free(o.size);
    if (r) as_trace_reader_close(r);
    return rc;
}

static const char *size_label(size_t k, char *buf, size_t cap)
{
    static const char *u[] = {"", "K", "M", "G", "T", "P", "E"};
    snprintf(buf, cap, "%llu%s", 1ull << (k % 10), u[k / 10]);
    return buf;
}

int as_plot_trace(as_plotset_t *ps, const as_tracestats_t *s, char *err,
                  size_t errcap)
{
    char stem[200], name[160], title[320];
    as_plot_stem(s->trace_name, stem, sizeof stem);

    /* lifetime CDF */
    snprintf(name, sizeof name, "lifetime-%.60s", stem);
    snprintf(title, sizeof title, "Object lifetimes (CDF) — %s", s->trace_name);
    as_plot_file_t pf;
    int rc = as_plot_begin(ps, &pf, name, title,
                           "share of all allocations (and of their bytes) "
                           "freed within a lifetime of at most t; objects "
                           "never freed keep the curves below 100%. "
                           "Columns: t_ns cdf_allocs cdf_bytes",
                           err, errcap);
    if (rc != AS_OK) return rc;
    fprintf(pf.dat,
            "# allocations %llu (%llu bytes); never freed %llu "
            "(%llu bytes)\n# t_ns cdf_allocs cdf_bytes\n",
            (unsigned long long)s->allocs, (unsigned long long)s->bytes,
            (unsigned long long)s->never_allocs,
            (unsigned long long)s->never_bytes);
    uint64_t ca = 0, cb = 0;
    size_t first = AS_TS_LIFE_BINS, last = 0;
    for (size_t k = 0; k < AS_TS_LIFE_BINS; k++)
        if (s->life_allocs[k]) {
            if (first == AS_TS_LIFE_BINS) first = k;
            last = k;
        }
    for (size_t k = first; k <= last && first < AS_TS_LIFE_BINS; k++) {
        ca += s->life_allocs[k];
        cb += s->life_bytes[k];
        /* the value at the upper edge of bin k */
        fprintf(pf.dat, "%.6g %.9f %.9f\n", pow(10, (double)(k + 1) / 10),
                s->allocs ? (double)ca / (double)s->allocs : 0,
                s->bytes ? (double)cb / (double)s->bytes : 0);
    }
    double never =
        s->allocs ? 100.0 * (double)s->never_allocs / (double)s->allocs : 0;
    fprintf(pf.gp,
            "set logscale x 10\n"
            "set xtics ('' 1)\nset for [e=1:13] xtics add ('' 10**e)\n"
            "set xtics add ('1 ns' 1, '1 µs' 1e3, '1 ms' 1e6, '1 s' 1e9, "
            "'1000 s' 1e12)\n"
            "set xlabel 'lifetime'\nset ylabel 'freed within (%%)'\n"
            "set yrange [0:100]\nset key bottom right\n"
            "# LLAMA's class bounds: 10 ms .. 1000 s\n"
            "do for [e=7:12] { set arrow from 10**e, graph 0 to 10**e, "
            "graph 1 nohead lc rgb '#999999' dt 3 lw 0.5 }\n"
            "set label 1 sprintf('never freed: %%.1f%%%% of allocations', "
            "%.6f) at graph 0.97, graph 0.28 right\n\n",
            never);
    as_plot_output_loop(&pf);
    fprintf(pf.gp,
            "  plot '%s.dat' using 1:(100*$2) with steps lt 1 title 'by "
            "allocations', \\\n"
            "       '' using 1:(100*$3) with steps lt 2 title 'by bytes'\n",
            name);
    rc = as_plot_end(ps, &pf, s->allocs > 0, err, errcap);
    if (rc != AS_OK || !s->allocs) return rc;

    /* size histogram */
    snprintf(name, sizeof name, "sizes-%.60s", stem);
    snprintf(title, sizeof title, "Requested sizes — %s", s->trace_name);
    rc = as_plot_begin(ps, &pf, name, title,
                       "allocations (and their bytes) by requested size, in "
                       "power-of-two buckets [2^k, 2^(k+1)). Columns: k "
                       "lower_bytes allocs bytes label",
                       err, errcap);
    if (rc != AS_OK) return rc;
    size_t lo = AS_TS_SIZE_BUCKETS, hi = 0;
    for (size_t k = 0; k < AS_TS_SIZE_BUCKETS; k++)
        if (s->size_allocs[k]) {
            if (lo == AS_TS_SIZE_BUCKETS) lo = k;
            hi = k;
        }
    fprintf(pf.dat, "# k lower_bytes allocs bytes label\n");
    for (size_t k = lo; k <= hi && lo < AS_TS_SIZE_BUCKETS; k++) {
        char lab[32];
        fprintf(pf.dat, "%zu %llu %llu %llu \"%s\"\n", k,
                (unsigned long long)(1ull << k),
                (unsigned long long)s->size_allocs[k],
                (unsigned long long)s->size_bytes[k],
                size_label(k, lab, sizeof lab));
    }
    fprintf(pf.gp,
            "set style data histograms\nset style histogram clustered gap 1\n"
            "set style fill solid 1.0 border -1\n"
            "set xlabel 'requested size (bytes, power-of-two buckets)'\n"
            "set ylabel 'share (%%)'\nset yrange [0:*]\n"
            "set key top right\nset xtics rotate by -45 left\n"
            "A = %llu.0  # allocations\nB = %llu.0  # bytes\n\n",
            (unsigned long long)s->allocs,
            (unsigned long long)(s->bytes ? s->bytes : 1));
    as_plot_output_loop(&pf);
    fprintf(pf.gp,
            "  plot '%s.dat' using (100*$3/A):xtic(int($1) %% 2 == 0 ? "
            "stringcolumn(5) : '') lt 1 title 'allocations', \\\n"
            "       '' using (100*$4/B) lt 2 title 'bytes'\n",
            name);
    return as_plot_end(ps, &pf, 1, err, errcap);
}

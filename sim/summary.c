/* summary.c - build summary.json from a run's configuration and result.
 *
 * The one writer of the summary format; sweeps, plots and the real
 * allocator's exit report read these names. Byte counts are written as
 * integers (means are rounded to the nearest byte), ratios as plain numbers.
 */
#include "sim/summary.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/error.h"
#include "sim/fileio.h"
#include "sim/version.h"

static void add_u64(cJSON *o, const char *k, uint64_t v)
{
    cJSON_AddNumberToObject(o, k, (double)v);
}

/* One resolved parameter as what it is: a count, size or duration (in
 * bytes or ns) or a real number as a JSON number, a switch as a boolean, a
 * choice as its name. */
static void add_param(cJSON *o, const as_resolved_param_t *p)
{
    const char *k = p->spec->name;
    switch (p->spec->type) {
    case AS_PARAM_BOOL:
        cJSON_AddBoolToObject(o, k, p->value.u != 0);
        break;
    case AS_PARAM_ENUM: {
        char name[64];
        if (as_param_format(p->spec, p->value, name, sizeof name) < 0)
            name[0] = 0;
        cJSON_AddStringToObject(o, k, name);
        break;
    }
    case AS_PARAM_DOUBLE:
        cJSON_AddNumberToObject(o, k, p->value.d);
        break;
    default:
        add_u64(o, k, p->value.u);
        break;
    }
}

/* The resolved parameters of one part. */
static cJSON *params_of(const as_run_result_t *res, const char *part)
{
    cJSON *o = cJSON_CreateObject();
    for (size_t i = 0; i < res->n_params_out; i++)
        if (strcmp(res->params[i].part, part) == 0)
            add_param(o, &res->params[i]);
    return o;
}

static cJSON *matrix(const uint64_t m[AS_MAX_CLASSES][AS_MAX_CLASSES],
                     uint32_t n)
{
    cJSON *rows = cJSON_CreateArray();
    for (uint32_t p = 0; p < n; p++) {
        cJSON *row = cJSON_CreateArray();
        for (uint32_t a = 0; a < n; a++)
            cJSON_AddItemToArray(row, cJSON_CreateNumber((double)m[p][a]));
        cJSON_AddItemToArray(rows, row);
    }
    return rows;
}

/* The machine below (docs/metrics.md, "Physical memory"): present only when
 * os.phys_mem is set. */
static void add_phys(cJSON *root, const as_run_result_t *res)
{
    const as_phys_counters_t *p = &res->phys;
    const as_simos_counters_t *c = &res->os;
    cJSON *ph = cJSON_AddObjectToObject(root, "phys");
    add_u64(ph, "mem_bytes", p->total_pages * AS_PHYS_PAGE_BYTES);
    add_u64(ph, "free_bytes", p->free_pages * AS_PHYS_PAGE_BYTES);
    add_u64(ph, "process_frames", c->frames);
    add_u64(ph, "thp_fault_fallbacks", c->thp_fault_fallbacks);
    add_u64(ph, "compact_stalls", c->compact_stalls);
    add_u64(ph, "collapse_failures", c->collapse_failures);
    add_u64(ph, "compactions", p->compactions);
    add_u64(ph, "compact_successes", p->compact_successes);
    add_u64(ph, "pages_migrated", p->pages_migrated);
    add_u64(ph, "kcompactd_runs", p->kcompactd_runs);
    add_u64(ph, "fallbacks", p->fallbacks);
    add_u64(ph, "pageblock_steals", p->steals);
    add_u64(ph, "deferred_splits", p->deferred_splits);
    add_u64(ph, "deferred_split_bytes", p->deferred_split_bytes);
    add_u64(ph, "peak_deferred_split_bytes", p->peak_deferred_split_bytes);
    add_u64(ph, "deferred_split_freed_bytes", p->deferred_split_freed_bytes);
    add_u64(ph, "reclaimed_pages", p->reclaimed_pages);
    const as_tenants_counters_t *t = &res->tenants;
    add_u64(ph, "tenant_cache_bytes",
            t->pages[AS_MT_MOVABLE] * AS_PHYS_PAGE_BYTES);
    add_u64(ph, "tenant_unmovable_bytes",
            t->pages[AS_MT_UNMOVABLE] * AS_PHYS_PAGE_BYTES);
    add_u64(ph, "peak_tenant_cache_bytes",
            t->peak_pages[AS_MT_MOVABLE] * AS_PHYS_PAGE_BYTES);
    add_u64(ph, "peak_tenant_unmovable_bytes",
            t->peak_pages[AS_MT_UNMOVABLE] * AS_PHYS_PAGE_BYTES);
    add_u64(ph, "tenant_shortfalls", t->shortfalls);
    cJSON *fb = cJSON_AddArrayToObject(ph, "free_blocks");
    for (unsigned o = 0; o < AS_PHYS_ORDERS; o++)
        cJSON_AddItemToArray(
            fb, cJSON_CreateNumber((double)res->phys_free_blocks[o]));
    cJSON *u = cJSON_AddObjectToObject(ph, "unusable_index_9");
    cJSON_AddNumberToObject(u, "mean", res->unusable_index_9_mean);
    cJSON_AddNumberToObject(u, "max", res->unusable_index_9_max / 1000.0);
    cJSON *f = cJSON_AddObjectToObject(ph, "fragmentation_index_9");
    cJSON_AddNumberToObject(f, "mean", res->fragmentation_index_9_mean);
    cJSON_AddNumberToObject(f, "max", res->fragmentation_index_9_max / 1000.0);
}

void as_summary_add_phys(cJSON *root, const as_run_result_t *res)
{
    add_phys(root, res);
}

/* What reproduces the run beyond its parameters, and where it ran: the
 * command line and working directory (relative trace paths are relative to
 * it) and the host, for information. Like "timing" it differs from run to
 * run, so it comes last and comparisons leave it out. */
void as_summary_add_provenance(cJSON *root, char *const *argv, int argc)
{
    cJSON *pv = cJSON_AddObjectToObject(root, "provenance");
    cJSON *cl = cJSON_AddArrayToObject(pv, "command_line");
    for (int i = 0; argv && i < argc; i++)
        cJSON_AddItemToArray(cl, cJSON_CreateString(argv[i]));
    char buf[4096];
    cJSON_AddStringToObject(pv, "cwd", getcwd(buf, sizeof buf) ? buf : "");
    if (gethostname(buf, sizeof buf) != 0) buf[0] = 0;
    buf[sizeof buf - 1] = 0;
    cJSON_AddStringToObject(pv, "host", buf);
}

char *as_summary_json(const as_run_config_t *cfg, const as_run_result_t *res)
{
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "allocsim_version", ALLOCSIM_VERSION);
    cJSON_AddStringToObject(root, "allocsim_revision", as_revision);

    cJSON *tr = cJSON_AddObjectToObject(root, "trace");
    cJSON_AddStringToObject(tr, "path", cfg->trace_path);
    cJSON_AddStringToObject(tr, "hash", res->trace_hash);
    add_u64(tr, "size_bytes", res->trace_bytes);
    add_u64(tr, "events", res->events);
    add_u64(tr, "objects", res->objects);
    add_u64(tr, "allocs", res->allocs);
    add_u64(tr, "frees", res->frees);
    add_u64(tr, "reallocs", res->reallocs);
    add_u64(tr, "duration_ns", res->duration_ns);
    cJSON_AddBoolToObject(tr, "truncated", res->warn_truncated);
    if (res->real_samples) { /* the trace's samples of real memory */
        cJSON *rm = cJSON_AddObjectToObject(tr, "real_memory");
        add_u64(rm, "samples", res->real_samples);
        add_u64(rm, "peak_rss_bytes", res->real_peak_rss_bytes);
        add_u64(rm, "peak_anon_huge_bytes", res->real_peak_huge_bytes);
        if (res->real_mallinfo_samples) { /* record --mallinfo-interval */
            add_u64(rm, "mallinfo_samples", res->real_mallinfo_samples);
            add_u64(rm, "peak_mallinfo_heap_bytes",
                    res->real_peak_mallinfo_heap_bytes);
        }
    }

    const char *pol = cfg->policy_ops ? cfg->policy_ops->name : cfg->policy;
    cJSON *po = cJSON_AddObjectToObject(root, "policy");
    cJSON_AddStringToObject(po, "name", pol);
    cJSON_AddItemToObject(po, "params", params_of(res, pol));
    cJSON_AddBoolToObject(po, "checked", cfg->check);
    cJSON_AddBoolToObject(po, "stats_layer", cfg->stats_layer);
    /* only when on, so every summary without the cache is as it was */
    if (cfg->thread_cache) cJSON_AddBoolToObject(po, "thread_cache", 1);
    /* Only for a lifetime-aware policy, so every other summary is as it
     * was: with predictor "none" its placement followed its unknown-class
     * rule (a parameter in policy.params, e.g. llama.unknown_class). */
    const as_policy_ops_t *pops =
        cfg->policy_ops ? cfg->policy_ops : as_policy_find(pol);
    if (pops && pops->lifetime_aware)
        cJSON_AddBoolToObject(po, "lifetime_aware", 1);
    static const char *const check_mode[] = {[AS_RUN_CHECK_OFF] = "off",
                                             [AS_RUN_CHECK_FULL] = "full",
                                             [AS_RUN_CHECK_LIGHT] = "light"};
    cJSON *ck = cJSON_AddObjectToObject(root, "check");
    cJSON_AddStringToObject(
        ck, "mode",
        cfg->check >= 0 && cfg->check <= 2 ? check_mode[cfg->check] : "?");
    cJSON_AddItemToObject(ck, "params", params_of(res, "check"));

    char pname[64], iname[64] = "";
    snprintf(pname, sizeof pname, "%s",
             cfg->predictor ? cfg->predictor : "none");
    char *colon = strchr(pname, ':');
    if (colon) {
        *colon = 0;
        snprintf(iname, sizeof iname, "%s", colon + 1);
    } else if (cfg->inner_predictor) {
        snprintf(iname, sizeof iname, "%s", cfg->inner_predictor);
    }
    cJSON *pr = cJSON_AddObjectToObject(root, "predictor");
    cJSON_AddStringToObject(pr, "name", pname);
    cJSON_AddItemToObject(pr, "params", params_of(res, pname));
    if (iname[0]) {
        cJSON *in = cJSON_AddObjectToObject(pr, "inner");
        cJSON_AddStringToObject(in, "name", iname);
        cJSON_AddItemToObject(in, "params", params_of(res, iname));
    }
    cJSON *cl = cJSON_AddArrayToObject(pr, "class_bounds_ns");
    for (uint32_t i = 0; i < res->n_classes; i++)
        cJSON_AddItemToArray(
            cl, i + 1 == res->n_classes
                    ? cJSON_CreateString("inf")
                    : cJSON_CreateNumber((double)cfg->classes.bound_ns[i]));

    cJSON *os = cJSON_AddObjectToObject(root, "os");
    cJSON_AddItemToObject(os, "params", params_of(res, "os"));
    if (res->host.has) { /* a trace that carries its host's settings */
        cJSON *src = cJSON_AddObjectToObject(os, "param_sources");
        for (int k = 0; k < AS_SIMOS_N_PARAMS; k++)
            cJSON_AddStringToObject(src, as_simos_params[k].name,
                                    res->host.source[k]);
        cJSON *ht = cJSON_AddObjectToObject(os, "recording_host_thp");
        for (int k = 0; k < AS_THP_N; k++)
            if (res->host.value[k][0])
                cJSON_AddStringToObject(ht, as_thp_meta_key[k] + 9,
                                        res->host.value[k]);
    }
    /* Only when the trace's write reports were replayed (os.writes), so
     * every other summary is as it was before they existed. */
    if (res->writes_recorded) {
        cJSON *wr = cJSON_AddObjectToObject(os, "writes");
        cJSON_AddStringToObject(wr, "mode", "recorded");
        add_u64(wr, "min_bytes", res->writes_min_bytes);
        add_u64(wr, "reports", res->write_reports);
        add_u64(wr, "reported_bytes", res->write_report_bytes);
    }
    const as_simos_counters_t *c = &res->os;
    add_u64(os, "reserves", c->reserves);
    add_u64(os, "releases", c->releases);
    add_u64(os, "unreserves", c->unreserves);
    add_u64(os, "released_bytes", c->released_bytes);
    add_u64(os, "huge_faults", c->huge_faults);
    add_u64(os, "page_faults", c->page_faults);
    add_u64(os, "splits", c->splits);
    add_u64(os, "collapses", c->collapses);
    if (res->has_phys) add_phys(root, res);

    if (res->tlb_on) { /* only when the model ran: default runs unchanged */
        const as_tlb_counters_t *t = &res->tlb;
        as_tlb_rates_t tq;
        as_tlb_rates(t, &tq);
        cJSON *tl = cJSON_AddObjectToObject(root, "tlb");
        cJSON_AddItemToObject(tl, "params", params_of(res, "tlb"));
        add_u64(tl, "draws", t->draws);
        add_u64(tl, "accesses", t->accesses);
        add_u64(tl, "huge_accesses", t->huge_accesses);
        add_u64(tl, "l1_misses", t->l1_misses);
        add_u64(tl, "walks", t->walks);
        cJSON_AddNumberToObject(tl, "l1_misses_per_1000",
                                tq.l1_misses_per_1000);
        cJSON_AddNumberToObject(tl, "walks_per_1000", tq.walks_per_1000);
        cJSON_AddNumberToObject(tl, "huge_share", tq.huge_share);
    }

    cJSON *rp = cJSON_AddObjectToObject(root, "replay");
    add_u64(rp, "sample_interval_ns", res->sample_interval_ns);
    add_u64(rp, "max_rows",
            cfg->max_rows ? cfg->max_rows : AS_DEFAULT_MAX_ROWS);
    cJSON_AddBoolToObject(rp, "skip_bad_events", cfg->skip_bad_events);
    cJSON_AddBoolToObject(rp, "allow_truncated", cfg->allow_truncated);
    /* Only when not the default (hook), so every other summary is as it
     * was before the option existed. */
    static const char *const realloc_mode[] = {
        [AS_RUN_REALLOC_MOVE] = "move", [AS_RUN_REALLOC_PRELOAD] = "preload"};
    if (cfg->realloc == AS_RUN_REALLOC_MOVE ||
        cfg->realloc == AS_RUN_REALLOC_PRELOAD)
        cJSON_AddStringToObject(rp, "realloc", realloc_mode[cfg->realloc]);

    const as_metrics_summary_t *m = &res->metrics;
    cJSON *me = cJSON_AddObjectToObject(root, "metrics");
    add_u64(me, "peak_live_bytes", m->peak_live_bytes);
    add_u64(me, "peak_live_objects", m->peak_live_objects);
    add_u64(me, "peak_allocated_bytes", m->peak_allocated_bytes);
    add_u64(me, "peak_resident_bytes", m->peak_resident_bytes);
    add_u64(me, "peak_mapped_bytes", m->peak_mapped_bytes);
    add_u64(me, "peak_huge_bytes", m->peak_huge_bytes);
    add_u64(me, "resident_at_peak_live_bytes", m->resident_at_peak_live_bytes);
    add_u64(me, "live_at_peak_resident_bytes", m->live_at_peak_resident_bytes);
    add_u64(me, "mean_live_bytes", (uint64_t)llround(m->mean_live_bytes));
    add_u64(me, "mean_allocated_bytes",
            (uint64_t)llround(m->mean_allocated_bytes));
    add_u64(me, "mean_resident_bytes",
            (uint64_t)llround(m->mean_resident_bytes));
    add_u64(me, "mean_huge_bytes", (uint64_t)llround(m->mean_huge_bytes));
    add_u64(me, "peak_metadata_bytes", m->peak_metadata_bytes);
    cJSON *fr = cJSON_AddObjectToObject(me, "fragmentation");
    cJSON_AddNumberToObject(fr, "jw1", m->jw1);
    cJSON_AddNumberToObject(fr, "jw2", m->jw2);
    cJSON_AddNumberToObject(fr, "jw3", m->jw3);
    cJSON_AddNumberToObject(fr, "jw4", m->jw4);
    cJSON_AddNumberToObject(me, "hugepage_coverage_mean",
                            m->hugepage_coverage_mean);
    cJSON_AddNumberToObject(me, "hugepage_coverage_at_peak",
                            m->hugepage_coverage_at_peak);

    cJSON *pd = cJSON_AddObjectToObject(root, "predictions");
    cJSON_AddNumberToObject(pd, "accuracy_by_allocs", res->accuracy_by_allocs);
    cJSON_AddNumberToObject(pd, "accuracy_by_bytes", res->accuracy_by_bytes);
    add_u64(pd, "unpredicted_allocs", res->unpredicted_allocs);
    cJSON *cf = cJSON_AddObjectToObject(pd, "confusion");
    cJSON_AddStringToObject(cf, "layout",
                            "rows: predicted class, columns: actual class");
    cJSON_AddItemToObject(cf, "by_allocs",
                          matrix(res->confusion_allocs, res->n_classes));
    cJSON_AddItemToObject(cf, "by_bytes",
                          matrix(res->confusion_bytes, res->n_classes));

    cJSON *ts = cJSON_AddArrayToObject(pd, "top_mispredicted_sites");
    for (size_t i = 0; i < res->n_top_sites; i++) {
        const as_site_report_t *t = &res->top_sites[i];
        cJSON *o = cJSON_CreateObject();
        add_u64(o, "stack", t->stack);
        cJSON_AddStringToObject(o, "where", t->where);
        add_u64(o, "mispredicted_bytes", t->mispredicted_bytes);
        add_u64(o, "mispredicted_allocs", t->mispredicted_allocs);
        add_u64(o, "bytes", t->bytes);
        add_u64(o, "allocs", t->allocs);
        cJSON_AddItemToArray(ts, o);
    }
    if (res->has_shadow) {
        cJSON *sh = cJSON_AddObjectToObject(pd, "shadow");
        cJSON_AddStringToObject(sh, "name", cfg->shadow_predictor);
        cJSON_AddNumberToObject(sh, "accuracy_by_allocs",
                                res->shadow_accuracy_by_allocs);
        cJSON_AddNumberToObject(sh, "accuracy_by_bytes",
                                res->shadow_accuracy_by_bytes);
        add_u64(sh, "agree_with_predictor_allocs", res->shadow_agree_allocs);
        cJSON *sc = cJSON_AddObjectToObject(sh, "confusion");
        cJSON_AddItemToObject(
            sc, "by_allocs",
            matrix(res->shadow_confusion_allocs, res->n_classes));
        cJSON_AddItemToObject(
            sc, "by_bytes",
            matrix(res->shadow_confusion_bytes, res->n_classes));
    }

    cJSON *w = cJSON_AddObjectToObject(root, "warnings");
    add_u64(w, "unknown_free", res->warn_unknown_free);
    add_u64(w, "double_free", res->warn_double_free);
    add_u64(w, "zero_size", res->warn_zero_size);
    add_u64(w, "too_large", res->warn_too_large);
    add_u64(w, "policy_errors", res->warn_policy_errors);
    if (cfg->skip_bad_events)
        add_u64(w, "bad_events_skipped", res->bad_events_skipped);
    if (res->warn_truncated)
        cJSON_AddStringToObject(w, "truncated", res->truncation);
    if (res->short_periods)
        cJSON_AddStringToObject(w, "trace_shorter_than_periods",
                                res->short_periods_msg);

    cJSON *st = cJSON_AddObjectToObject(root, "stats");
    for (size_t i = 0; i < res->n_stats; i++)
        cJSON_AddNumberToObject(st, res->stats[i].name, res->stats[i].value);

    cJSON *ti = cJSON_AddObjectToObject(root, "timing");
    cJSON_AddNumberToObject(ti, "wall_s", res->wall_s);
    cJSON_AddNumberToObject(ti, "threads", res->threads);
    cJSON_AddNumberToObject(ti, "events_per_s",
                            res->wall_s > 0 ? (double)res->events / res->wall_s
                                            : 0);

    as_summary_add_provenance(root, cfg->argv, cfg->argc);
    char *text = cJSON_Print(root);
    cJSON_Delete(root);
    return text;
}

static int write_summary(void *arg, const as_run_config_t *cfg,
                         const as_run_result_t *res, char *err, size_t errcap)
{
    return as_sink_file_put_text(arg, as_summary_json(cfg, res), err, errcap);
}

as_run_sink_t as_summary_sink(as_sink_file_t *o, FILE *f, const char *path)
{
    o->f = f;
    o->path = path;
    return (as_run_sink_t){.arg = o, .on_end = write_summary};
}

/* machine_out.c - machine_series.csv and machine_summary.json (see
 * machine_out.h).
 *
 * The only writer of these two files. The programs' figures are in their
 * own run directories; these hold what belongs to the machine: the sums
 * over the programs running at each sample, when each program ran, and
 * the peaks of the sums. Like summary.json, everything but "timing" and
 * "provenance" is deterministic.
 */
#include "sim/machine_out.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "sim/series.h"
#include "sim/summary.h"
#include "sim/version.h"

static int series_row(void *arg, const as_machine_sample_t *s, char *err,
                      size_t cap)
{
    as_machine_series_t *w = arg;
    FILE *f = w->out.f;
    if (!w->rows++)
        fputs(s->phys.phys_has ? "t_ns,running,live_bytes,resident_bytes,"
                                 "mapped_bytes,huge_bytes,metadata_"
                                 "bytes," AS_SERIES_PHYS_HEADER "\n"
                               : "t_ns,running,live_bytes,resident_bytes,"
                                 "mapped_bytes,huge_bytes,metadata_bytes\n",
              f);
    fprintf(f, "%llu,%u,%llu,%llu,%llu,%llu,%llu", (unsigned long long)s->t_ns,
            s->running, (unsigned long long)s->live_bytes,
            (unsigned long long)s->resident_bytes,
            (unsigned long long)s->mapped_bytes,
            (unsigned long long)s->huge_bytes,
            (unsigned long long)s->meta_bytes);
    if (s->phys.phys_has) as_series_phys_cells(f, &s->phys);
    fputc('\n', f);
    return as_sink_file_check(&w->out, err, cap);
}

as_machine_sink_t as_machine_series_sink(as_machine_series_t *w, FILE *f,
                                         const char *path)
{
    memset(w, 0, sizeof *w);
    w->out.f = f;
    w->out.path = path;
    return (as_machine_sink_t){.arg = w, .on_sample = series_row};
}

static void add_u64(cJSON *o, const char *k, uint64_t v)
{
    cJSON_AddNumberToObject(o, k, (double)v);
}

char *as_machine_summary_json(const as_machine_summary_t *w,
                              const as_machine_result_t *res)
{
    cJSON *root = cJSON_CreateObject();
    if (!root) return NULL;
    cJSON_AddStringToObject(root, "allocsim_version", ALLOCSIM_VERSION);
    cJSON_AddStringToObject(root, "allocsim_revision", as_revision);
    cJSON *progs = cJSON_AddArrayToObject(root, "programs");
    for (size_t j = 0; j < w->n && j < res->n_programs; j++) {
        const as_run_config_t *cfg = &w->cfgs[j];
        const as_machine_prog_result_t *pr = &res->progs[j];
        cJSON *p = cJSON_CreateObject();
        cJSON_AddItemToArray(progs, p);
        cJSON_AddStringToObject(p, "dir", w->names[j]);
        cJSON_AddStringToObject(p, "trace", cfg->trace_path);
        cJSON_AddStringToObject(
            p, "policy", cfg->policy_ops ? cfg->policy_ops->name : cfg->policy);
        cJSON_AddStringToObject(p, "predictor",
                                cfg->predictor ? cfg->predictor : "none");
        add_u64(p, "start_ns", pr->start_ns);
        add_u64(p, "end_ns", pr->end_ns);
        add_u64(p, "events", pr->events);
        add_u64(p, "huge_faults", pr->os.huge_faults);
        add_u64(p, "page_faults", pr->os.page_faults);
        if (res->phys) {
            add_u64(p, "thp_fault_fallbacks", pr->os.thp_fault_fallbacks);
            add_u64(p, "compact_stalls", pr->os.compact_stalls);
            add_u64(p, "collapse_failures", pr->os.collapse_failures);
        }
        cJSON_AddStringToObject(p, "status",
                                pr->rc == AS_OK ? "ok" : as_strerror(pr->rc));
    }
    cJSON *m = cJSON_AddObjectToObject(root, "machine");
    add_u64(m, "programs", res->n_programs);
    add_u64(m, "duration_ns", res->duration_ns);
    add_u64(m, "sample_interval_ns", res->sample_interval_ns);
    add_u64(m, "samples", res->samples);
    add_u64(m, "peak_running", res->peak_running);
    add_u64(m, "peak_live_bytes", res->peak_live_bytes);
    add_u64(m, "peak_resident_bytes", res->peak_resident_bytes);
    add_u64(m, "peak_mapped_bytes", res->peak_mapped_bytes);
    add_u64(m, "peak_huge_bytes", res->peak_huge_bytes);
    if (res->phys) as_summary_add_phys(root, res->phys);
    cJSON *ti = cJSON_AddObjectToObject(root, "timing");
    cJSON_AddNumberToObject(ti, "wall_s", res->wall_s);
    add_u64(ti, "threads", (uint64_t)res->threads);
    as_summary_add_provenance(root, w->argv, w->argc);
    char *text = cJSON_Print(root);
    cJSON_Delete(root);
    return text;
}

static int write_summary(void *arg, const as_machine_result_t *res, char *err,
                         size_t cap)
{
    as_machine_summary_t *w = arg;
    return as_sink_file_put_text(&w->out, as_machine_summary_json(w, res), err,
                                 cap);
}

as_machine_sink_t as_machine_summary_sink(as_machine_summary_t *w, FILE *f,
                                          const char *path)
{
    w->out.f = f;
    w->out.path = path;
    return (as_machine_sink_t){.arg = w, .on_end = write_summary};
}

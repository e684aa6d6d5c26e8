/* cmd_gen.c - `allocsim gen`: write a synthetic workload's trace.
 *
 *   allocsim gen WORKLOAD [--events N] [--seed S] [--param k=v ...] -o TRACE
 *
 * Resolves the workload by name from the generator registry
 * (traces/gen/gen.c), applies --param assignments to its parameter table,
 * and streams the generated records into the trace writer. Same workload,
 * parameters and seed give a byte-identical file. The output is written to
 * TRACE.tmp and renamed only when complete (the writer's contract). Progress
 * goes to stderr on a terminal only.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "traces/gen/gen.h"
#include "traces/trace.h"
#include "sim/cli.h"

#define GEN_DEFAULT_EVENTS 1000000ull
#define GEN_MAX_PARAMS 64

static void print_params(FILE *f, const as_gen_workload_t *wl)
{
    for (size_t i = 0; i < wl->n_params; i++) {
        const as_param_spec_t *p = &wl->params[i];
        fprintf(f, "    %-15s %-8s %s", p->name, p->def, p->doc);
        if (p->type == AS_PARAM_ENUM)
            fprintf(f, " [%s]", p->choices);
        else if (p->type == AS_PARAM_DOUBLE)
            fprintf(f, " [%g..%g]", p->min, p->max);
        else if (p->type != AS_PARAM_BOOL)
            fprintf(f, " [%.0f..%.0f]", p->min, p->max);
        fprintf(f, "\n");
    }
}

static void usage(FILE *f, const as_gen_workload_t *only)
{
    fprintf(f,
            "usage: allocsim gen WORKLOAD [--events N] [--seed S] "
            "[--param k=v ...] -o TRACE\n\n"
            "Write a deterministic synthetic trace (with stacks) of exactly N "
            "events\n(allocs + frees + reallocs; default %llu, seed 1). The "
            "same workload,\nparameters and seed give a byte-identical "
            "file. --param takes name=value\nor WORKLOAD.name=value; sizes "
            "take K/M/G, durations ns/us/ms/s/min.\n\n"
            "workloads and their parameters (default, bounds):\n",
            (unsigned long long)GEN_DEFAULT_EVENTS);
    for (size_t i = 0; i < as_gen_count(); i++) {
        const as_gen_workload_t *wl = as_gen_at(i);
        if (only && wl != only) continue;
        fprintf(f, "  %s: %s\n", wl->name, wl->doc);
        print_params(f, wl);
    }
}

static int parse_u64_arg(const char *opt, const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 0);
    if (errno || end == s || *end || s[0] == '-') {
        fprintf(stderr,
                "allocsim gen: %s expects a non-negative integer, "
                "got '%s'\n",
                opt, s);
        return -1;
    }
    *out = v;
    return 0;
}

/* Progress: a sink wrapper that counts events. */
typedef struct {
    as_gen_sink_t inner;
    uint64_t events, total, next_report;
} progress_t;

static int p_meta(void *arg, const char *k, const char *v)
{
    progress_t *p = arg;
    return p->inner.meta(p->inner.arg, k, v);
}

static int p_frame(void *arg, uint32_t id, const as_frame_t *f)
{
    progress_t *p = arg;
    return p->inner.frame(p->inner.arg, id, f);
}

static int p_stack(void *arg, uint32_t id, const uint32_t *fr, uint32_t d)
{
    progress_t *p = arg;
    return p->inner.stack(p->inner.arg, id, fr, d);
}

static int p_event(void *arg, as_event_t *ev)
{
    progress_t *p = arg;
    if (++p->events >= p->next_report) {
        fprintf(stderr, "\rallocsim gen: %llu / %llu events (%.0f%%)",
                (unsigned long long)p->events, (unsigned long long)p->total,
                100.0 * (double)p->events / (double)p->total);
        p->next_report += 1000000;
    }
    return p->inner.event(p->inner.arg, ev);
}

int as_cmd_gen(int argc, char **argv)
{
    const char *name = NULL, *out = NULL;
    const char *assign[GEN_MAX_PARAMS];
    size_t n_assign = 0;
    as_gen_config_t cfg = {.events = GEN_DEFAULT_EVENTS, .seed = 1};

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (as_cli_is_help(a)) {
            usage(stdout, name ? as_gen_find(name) : NULL);
            return AS_EXIT_OK;
        }
        int has_val = i + 1 < argc;
        if (strcmp(a, "--events") == 0 || strcmp(a, "-n") == 0) {
            if (!has_val || parse_u64_arg(a, argv[++i], &cfg.events))
                return AS_EXIT_USAGE;
        } else if (strcmp(a, "--seed") == 0) {
            if (!has_val || parse_u64_arg(a, argv[++i], &cfg.seed))
                return AS_EXIT_USAGE;
        } else if (strcmp(a, "--param") == 0 || strcmp(a, "-p") == 0) {
            if (!has_val) {
                fprintf(stderr, "allocsim gen: %s needs name=value\n", a);
                return AS_EXIT_USAGE;
            }
            if (n_assign == GEN_MAX_PARAMS) {
                fprintf(stderr, "allocsim gen: too many --param\n");
                return AS_EXIT_USAGE;
            }
            assign[n_assign++] = argv[++i];
        } else if (strcmp(a, "-o") == 0 || strcmp(a, "--output") == 0) {
            if (!has_val) {
                fprintf(stderr, "allocsim gen: -o needs a path\n");
                return AS_EXIT_USAGE;
            }
            out = argv[++i];
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr,
                    "allocsim gen: unknown option '%s' (see "
                    "allocsim gen --help)\n",
                    a);
            return AS_EXIT_USAGE;
        } else if (!name) {
            name = a;
        } else {
            fprintf(stderr, "allocsim gen: unexpected argument '%s'\n", a);
            return AS_EXIT_USAGE;
        }
    }
    if (!name) {
        usage(stderr, NULL);
        return AS_EXIT_USAGE;
    }
    const as_gen_workload_t *wl = as_gen_find(name);
    if (!wl) {
        fprintf(stderr,
                "allocsim gen: unknown workload '%s'; workloads:", name);
        for (size_t i = 0; i < as_gen_count(); i++)
            fprintf(stderr, " %s", as_gen_at(i)->name);
        fprintf(stderr, "\n");
        return AS_EXIT_USAGE;
    }
    if (!out) {
        fprintf(stderr, "allocsim gen: -o TRACE is required\n");
        return AS_EXIT_USAGE;
    }

    as_param_value_t values[GEN_MAX_PARAMS];
    if (wl->n_params > GEN_MAX_PARAMS ||
        as_param_defaults(wl->params, wl->n_params, values)) {
        fprintf(stderr, "allocsim gen: %s: bad parameter table\n", wl->name);
        return AS_EXIT_FAIL;
    }
    size_t prefix = strlen(wl->name);
    for (size_t i = 0; i < n_assign; i++) {
        const char *s = assign[i];
        if (strncmp(s, wl->name, prefix) == 0 && s[prefix] == '.')
            s += prefix + 1;
        int rc = as_param_set(wl->params, wl->n_params, values, s);
        if (rc) {
            fprintf(stderr, "allocsim gen: --param %s: %s", assign[i],
                    as_strerror(rc));
            if (rc == AS_ENOTFOUND) {
                fprintf(stderr, "; %s takes:", wl->name);
                for (size_t j = 0; j < wl->n_params; j++)
                    fprintf(stderr, " %s", wl->params[j].name);
            }
            fprintf(stderr, "\n");
            return AS_EXIT_USAGE;
        }
    }

    as_trace_writer_t *w = NULL;
    int rc = as_trace_writer_open(&w, out, NULL);
    if (rc) {
        fprintf(stderr, "allocsim gen: %s\n",
                w ? as_trace_writer_error(w) : as_strerror(rc));
        if (w) as_trace_writer_abort(w);
        return rc == AS_EINVAL ? AS_EXIT_USAGE : AS_EXIT_FAIL;
    }
    as_gen_sink_t sink;
    as_gen_writer_sink(w, &sink);
    progress_t prog = {
        .inner = sink, .total = cfg.events, .next_report = 1000000};
    as_gen_sink_t psink = {&prog, p_meta, p_frame, p_stack, p_event};
    int show = as_cli_progress_on() && cfg.events >= 2000000;
    rc = as_gen_run(wl, &cfg, values, show ? &psink : &sink);
    if (show) fprintf(stderr, "\n");
    if (rc) {
        fprintf(stderr, "allocsim gen: %s: %s: %s\n", wl->name, as_strerror(rc),
                as_trace_writer_error(w));
        as_trace_writer_abort(w);
        return rc == AS_EINVAL ? AS_EXIT_USAGE : AS_EXIT_FAIL;
    }
    char cerr[1024];
    rc = as_trace_writer_close_err(w, cerr, sizeof cerr);
    if (rc) {
        fprintf(stderr, "allocsim gen: %s\n", cerr);
        return AS_EXIT_FAIL;
    }
    return AS_EXIT_OK;
}

/* cmd_gen.c - `allocsim gen`: write a synthetic workload's trace.
 *
 *   allocsim gen WORKLOAD [-n N] [--seed S] [-P k=v ...] [-q] -o TRACE
 *
 * Resolves the workload by name from the generator registry
 * (traces/gen/gen.c), applies --param assignments to its parameter table,
 * and streams the generated records into the trace writer. Same workload,
 * parameters and seed give a byte-identical file. The output is written to
 * TRACE.tmp and renamed only when complete (the writer's contract); `-o -`
 * streams it to standard output instead. Progress goes to stderr on a
 * terminal only, and never with -q.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/error.h"
#include "traces/gen/gen.h"
#include "traces/trace.h"
#include "sim/cli.h"

#define GEN_DEFAULT_EVENTS 1000000ull
#define GEN_MAX_PARAMS 64

enum { OPT_EVENTS = 1, OPT_SEED, OPT_PARAM, OPT_OUTPUT, OPT_QUIET };

static const as_opt_t gen_opts[] = {
    AS_OPT_ROW_NUM(OPT_EVENTS, "events", 'n', AS_PARAM_U64, 1, 1e12, "N",
                   "events to write, e.g. 1M (default 1M)"),
    AS_OPT_ROW_NUM(OPT_SEED, "seed", 0, AS_PARAM_U64, 0, 18446744073709551615.0,
                   "S", "random seed (default 1)"),
    AS_OPT_ROW_TEXT(OPT_PARAM, "param", 'P', "K=V",
                    "workload parameter, name=value or WORKLOAD.name=value;\n"
                    "repeatable"),
    AS_OPT_ROW_TEXT(OPT_OUTPUT, "output", 'o', "TRACE",
                    "output trace (required); - for standard output"),
    AS_OPT_ROW_FLAG(OPT_QUIET, "quiet", 'q', "no progress"),
    {0},
};

const as_opt_t *const as_cmd_gen_opts[] = {gen_opts, NULL};

static void print_params(FILE *f, const as_gen_workload_t *wl)
{
    for (size_t i = 0; i < wl->n_params; i++) {
        const as_param_spec_t *p = &wl->params[i];
        fprintf(f, "    %-15s %-8s %s", p->name, p->def, p->doc);
        char range[96];
        if (p->type == AS_PARAM_ENUM)
            fprintf(f, " [%s]", p->choices);
        else if (p->type != AS_PARAM_BOOL &&
                 as_param_range(p, range, sizeof range))
            fprintf(f, " [%s]", range);
        fprintf(f, "\n");
    }
}

static void usage(FILE *f, const as_gen_workload_t *only)
{
    fprintf(f,
            "usage: allocsim gen WORKLOAD [-n N] [--seed S] [-P K=V ...] "
            "-o TRACE\n\n"
            "Write a deterministic synthetic trace (with stacks) of exactly N "
            "events\n(allocs + frees + reallocs; default %llu, seed 1). The "
            "same workload,\nparameters and seed give a byte-identical "
            "file.\n",
            (unsigned long long)GEN_DEFAULT_EVENTS);
    as_opts_help(f, as_cmd_gen_opts);
    fprintf(f, "\nworkloads and their parameters (default, bounds):\n");
    for (size_t i = 0; i < as_gen_count(); i++) {
        const as_gen_workload_t *wl = as_gen_at(i);
        if (only && wl != only) continue;
        fprintf(f, "  %s: %s\n", wl->name, wl->doc);
        print_params(f, wl);
    }
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

/* param_error: "--param A: NAME must be ..." or the names it takes. */
static void param_error(const as_gen_workload_t *wl, const char *assign,
                        const char *unprefixed)
{
    const char *eq = strchr(unprefixed, '=');
    int i = eq ? as_param_find(wl->params, wl->n_params, unprefixed,
                               (size_t)(eq - unprefixed))
               : -1;
    if (i < 0) {
        char names[1024];
        size_t off = 0;
        for (size_t j = 0; j < wl->n_params && off < sizeof names; j++)
            off += (size_t)snprintf(names + off, sizeof names - off, " %s",
                                    wl->params[j].name);
        as_cli_err("--param '%s': %s; %s takes:%s", assign,
                   eq ? "no such parameter" : "expected name=value", wl->name,
                   names);
        return;
    }
    char allowed[256];
    as_param_explain(&wl->params[i], allowed, sizeof allowed);
    as_cli_err("--param '%s': %s.%s must be %s", assign, wl->name,
               wl->params[i].name, allowed);
}

int as_cmd_gen(int argc, char **argv)
{
    const char *name = NULL, *out = NULL;
    const char *assign[GEN_MAX_PARAMS];
    size_t n_assign = 0;
    as_gen_config_t cfg = {.events = GEN_DEFAULT_EVENTS, .seed = 1};

    int help = 0, quiet = 0, c;
    as_opts_t p;
    as_opts_init(&p, "gen", as_cmd_gen_opts, argc, argv);
    while ((c = as_opts_next(&p)) != AS_OPT_END) {
        switch (c) {
        case AS_OPT_ERROR:
            return AS_EXIT_USAGE;
        case AS_OPT_HELP:
            help = 1;
            break;
        case OPT_EVENTS:
            cfg.events = p.value.u;
            break;
        case OPT_SEED:
            cfg.seed = p.value.u;
            break;
        case OPT_PARAM:
            if (n_assign == GEN_MAX_PARAMS) {
                as_cli_err("too many --param (at most %d)", GEN_MAX_PARAMS);
                return AS_EXIT_USAGE;
            }
            assign[n_assign++] = p.text;
            break;
        case OPT_OUTPUT:
            out = p.text;
            break;
        case OPT_QUIET:
            quiet = 1;
            break;
        default: /* AS_OPT_ARG */
            if (name) {
                as_cli_err("expected one WORKLOAD, found '%s' too", p.text);
                return AS_EXIT_USAGE;
            }
            name = p.text;
        }
    }
    if (help) {
        usage(stdout, name ? as_gen_find(name) : NULL);
        return AS_EXIT_OK;
    }
    if (!name) {
        as_cli_err("expected a WORKLOAD (see allocsim gen --help)");
        return AS_EXIT_USAGE;
    }
    const as_gen_workload_t *wl = as_gen_find(name);
    if (!wl) {
        char names[512];
        size_t off = 0;
        for (size_t i = 0; i < as_gen_count() && off < sizeof names; i++)
            off += (size_t)snprintf(names + off, sizeof names - off, " %s",
                                    as_gen_at(i)->name);
        as_cli_err("unknown workload '%s'; workloads:%s", name, names);
        return AS_EXIT_USAGE;
    }
    if (!out) {
        as_cli_err("-o TRACE is required (- for standard output)");
        return AS_EXIT_USAGE;
    }
    if (as_cli_is_stdio(out) && isatty(1)) {
        as_cli_err("-o -: standard output is a terminal; a trace is binary");
        return AS_EXIT_USAGE;
    }

    as_param_value_t values[GEN_MAX_PARAMS];
    if (wl->n_params > GEN_MAX_PARAMS ||
        as_param_defaults(wl->params, wl->n_params, values)) {
        as_cli_err("%s: bad parameter table", wl->name);
        return AS_EXIT_FAIL;
    }
    size_t prefix = strlen(wl->name);
    for (size_t i = 0; i < n_assign; i++) {
        const char *s = assign[i];
        if (strncmp(s, wl->name, prefix) == 0 && s[prefix] == '.')
            s += prefix + 1;
        int rc = as_param_set(wl->params, wl->n_params, values, s);
        if (rc) {
            param_error(wl, assign[i], s);
            return AS_EXIT_USAGE;
        }
    }

    as_trace_writer_t *w = NULL;
    int rc = as_cli_is_stdio(out) ? as_trace_writer_open_fd(&w, 1, NULL)
                                  : as_trace_writer_open(&w, out, NULL);
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
    int show = !quiet && as_cli_progress_on() && cfg.events >= 2000000;
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

/* sink.c - the small helpers every sink shares (see sink.h): the growable
 * statistics list, the write check of an output file and the writing of a
 * whole document (summary.json, machine_summary.json) into one.
 */
#include "sim/sink.h"

#include <stdlib.h>

#include "common/error.h"

void as_stat_list_put(void *arg, const char *name, double value)
{
    as_stat_list_t *s = arg;
    if (s->n == s->cap) {
        size_t nc = s->cap ? s->cap * 2 : 64;
        as_stat_t *nv = realloc(s->v, nc * sizeof *nv);
        if (!nv) return;
        s->v = nv;
        s->cap = nc;
    }
    snprintf(s->v[s->n].name, sizeof s->v[s->n].name, "%s%s",
             s->prefix ? s->prefix : "", name);
    s->v[s->n].value = value;
    s->n++;
}

int as_sink_file_check(const as_sink_file_t *o, char *err, size_t cap)
{
    if (!ferror(o->f)) return AS_OK;
    snprintf(err, cap, "%s: cannot write", o->path);
    return AS_EIO;
}

int as_sink_file_put_text(const as_sink_file_t *o, char *text, char *err,
                          size_t cap)
{
    if (!text) {
        snprintf(err, cap, "%s: out of memory building the document", o->path);
        return AS_ENOMEM;
    }
    fputs(text, o->f);
    fputc('\n', o->f);
    free(text);
    return as_sink_file_check(o, err, cap);
}

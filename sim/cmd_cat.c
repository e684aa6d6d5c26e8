/* cmd_cat.c - `allocsim cat TRACE`: print a trace in the text form.
 *
 * Prints the header metadata first, then every record in file order
 * (definitions where they occur, so they precede their first use), one per
 * line, in the canonical spelling of traces/textform.c; `allocsim import
 * --format text` reads it back to a trace that prints identically. A
 * truncated trace is printed up to its last whole chunk with a warning on
 * stderr; a corrupt one stops at the error (exit 2). TRACE `-` is standard
 * input.
 *
 * Speed: the reader decodes a span of events at a time (up to the next
 * definition) and the events are formatted by one loop without printf. On
 * two or more CPUs the decoding runs on a thread of its own, up to
 * CAT_SLOTS spans ahead of the formatting (a definition that ends a span
 * is formatted on the decoding side, since its strings live in the
 * reader). A span that meets an error is lost whole, so after an error
 * the trace is read again by a fresh reader one record at a time from the
 * first record not printed, which prints every record before the bad one
 * and words the error as before. The output is the same bytes either way.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/error.h"
#include "traces/textform.h"
#include "traces/trace.h"
#include "sim/cli.h"
#include "sim/fileio.h"

#define CAT_SPAN 4096 /* events per span */
#define CAT_SLOTS 4   /* spans decoded ahead */

/* One decoded span: events, then the text of the definition that ended
 * it (if any). status < 0: the reader's error after these; last: nothing
 * follows. */
typedef struct {
    as_event_t ev[CAT_SPAN];
    long n;
    as_textbuf_t def;
    long status;
    int last;
} cat_span_t;

typedef struct {
    as_trace_reader_t *r;
    cat_span_t *slot;
    size_t n_slots;
    uint64_t produced, consumed;
    int stop;
    pthread_mutex_t mu;
    pthread_cond_t ready, space;
} cat_ring_t;

/* Decode the next span into s. */
static void cat_fill(as_trace_reader_t *r, cat_span_t *s)
{
    int def;
    s->def.len = 0;
    s->status = 0;
    s->n = as_trace_reader_next_span(r, s->ev, CAT_SPAN, &def);
    if (s->n < 0) {
        s->status = s->n;
        s->n = 0;
    } else if (def) {
        as_trace_record_t rec;
        as_trace_reader_last_def(r, &rec);
        if (as_text_format_record(&s->def, &rec)) s->status = AS_ENOMEM;
    }
    as_trace_reader_drop_kept(r); /* each printed as its record came */
    s->last = s->status != 0 || (s->n == 0 && !def);
}

static void *cat_decode(void *arg)
{
    cat_ring_t *q = arg;
    for (;;) {
        pthread_mutex_lock(&q->mu);
        while (!q->stop && q->produced - q->consumed >= q->n_slots)
            pthread_cond_wait(&q->space, &q->mu);
        int stop = q->stop;
        pthread_mutex_unlock(&q->mu);
        if (stop) return NULL;
        cat_span_t *s = &q->slot[q->produced % q->n_slots];
        cat_fill(q->r, s);
        pthread_mutex_lock(&q->mu);
        q->produced++;
        pthread_cond_signal(&q->ready);
        pthread_mutex_unlock(&q->mu);
        if (s->last) return NULL;
    }
}

/* After an error: a fresh reader of path (*r2) skips the `printed`
 * records already out and prints the rest one record at a time, as far as
 * the bad one. @return as cat_records. */
static int cat_slow(const char *path, uint64_t printed, as_textbuf_t *b,
                    as_trace_reader_t **r2)
{
    int rc = as_trace_reader_open(r2, path);
    as_trace_record_t rec;
    for (uint64_t i = 0; !rc && i < printed; i++)
        if ((rc = as_trace_reader_next_record(*r2, &rec)) == 1) {
            as_trace_reader_drop_kept(*r2);
            rc = 0;
        } else if (rc == 0)
            rc = AS_EIO; /* the file changed under us */
    while (!rc && (rc = as_trace_reader_next_record(*r2, &rec)) == 1) {
        rc = as_text_format_record(b, &rec);
        as_trace_reader_drop_kept(*r2);
        if (!rc && b->len >= (1 << 16)) {
            fwrite(b->p, 1, b->len, stdout);
            b->len = 0;
            if (ferror(stdout)) break;
        }
    }
    return rc;
}

/* Print every record of r after the header metadata already in b;
 * *printed counts the records formatted. @return 0 at the end, a negative
 * reader error, AS_ENOMEM. */
static int cat_records(as_trace_reader_t *r, as_textbuf_t *b, uint64_t *printed)
{
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    cat_ring_t q = {.r = r, .n_slots = cpus > 1 ? CAT_SLOTS : 1};
    q.slot = calloc(q.n_slots, sizeof *q.slot);
    if (!q.slot) return AS_ENOMEM;
    pthread_t th;
    int threaded = q.n_slots > 1;
    if (threaded) {
        pthread_mutex_init(&q.mu, NULL);
        pthread_cond_init(&q.ready, NULL);
        pthread_cond_init(&q.space, NULL);
        threaded = pthread_create(&th, NULL, cat_decode, &q) == 0;
        if (!threaded) q.n_slots = 1;
    }
    int rc = 0;
    for (int last = 0; !last;) {
        cat_span_t *s = &q.slot[q.consumed % q.n_slots];
        if (threaded) {
            pthread_mutex_lock(&q.mu);
            while (q.consumed >= q.produced)
                pthread_cond_wait(&q.ready, &q.mu);
            pthread_mutex_unlock(&q.mu);
        } else {
            cat_fill(r, s);
        }
        if (as_text_format_events(b, s->ev, (size_t)s->n) ||
            as_text_append(b, s->def.p ? s->def.p : "", s->def.len))
            rc = AS_ENOMEM;
        else
            *printed += (uint64_t)s->n + (s->def.len != 0);
        if (!rc) rc = (int)s->status;
        last = s->last || rc != 0;
        if (threaded) {
            pthread_mutex_lock(&q.mu);
            q.consumed++;
            q.stop = last;
            pthread_cond_signal(&q.space);
            pthread_mutex_unlock(&q.mu);
        } else {
            q.consumed++;
        }
        if (b->len >= (1 << 16)) {
            fwrite(b->p, 1, b->len, stdout);
            b->len = 0;
            if (ferror(stdout)) last = 1; /* full disk, closed pipe: stop */
        }
        if (last && threaded) {
            pthread_mutex_lock(&q.mu);
            q.stop = 1;
            pthread_cond_signal(&q.space);
            pthread_mutex_unlock(&q.mu);
        }
    }
    if (threaded) {
        pthread_join(th, NULL);
        pthread_mutex_destroy(&q.mu);
        pthread_cond_destroy(&q.ready);
        pthread_cond_destroy(&q.space);
    }
    for (size_t i = 0; i < q.n_slots; i++)
        as_textbuf_free(&q.slot[i].def);
    free(q.slot);
    return rc;
}

static const as_opt_t cat_opts[] = {{0}};

const as_opt_t *const as_cmd_cat_opts[] = {cat_opts, NULL};

static void usage(FILE *f)
{
    fprintf(f, "usage: allocsim cat TRACE   (TRACE - is standard input)\n\n"
               "Print TRACE as text: header metadata, then one record per "
               "line:\n"
               "  meta KEY VALUE\n"
               "  frame ID 0xPC 0xOFFSET MODULE SYMBOL\n"
               "  stack ID FRAME...\n"
               "  a T_NS THREAD CPU ID SIZE ALIGN STACK [HEIGHT]\n"
               "  f T_NS THREAD CPU ID\n"
               "  r T_NS THREAD CPU OLD NEW SIZE ALIGN STACK [HEIGHT]\n"
               "  s T_NS RSS_BYTES ANON_HUGE_BYTES   (a real-memory sample; "
               "- = not measured)\n"
               "  w T_NS OBJECT OFFSET BYTES   (a write report: those bytes "
               "of the object\n"
               "                                were written by T_NS)\n"
               "HEIGHT, the stack height in bytes, is printed when the "
               "trace has it.\n"
               "Strings are escaped (%%XX for space, control bytes and %%; "
               "'-' for empty).\n"
               "See docs/trace-format.md. `allocsim import --format text` "
               "reads it back.\n");
    as_opts_help(f, as_cmd_cat_opts);
}

int as_cmd_cat(int argc, char **argv)
{
    const char *path = NULL;
    as_opts_t p;
    as_opts_init(&p, "cat", as_cmd_cat_opts, argc, argv);
    for (int c; (c = as_opts_next(&p)) != AS_OPT_END;) {
        if (c == AS_OPT_ERROR) return AS_EXIT_USAGE;
        if (c == AS_OPT_HELP) {
            usage(stdout);
            return AS_EXIT_OK;
        }
        if (path) {
            as_cli_err("expected one TRACE, found '%s' too", p.text);
            return AS_EXIT_USAGE;
        }
        path = p.text;
    }
    if (!path) {
        as_cli_err("expected a TRACE (see allocsim cat --help)");
        return AS_EXIT_USAGE;
    }
    if (!(path = as_cli_input(path))) return AS_EXIT_FAIL;
    as_trace_reader_t *r;
    int rc = as_trace_reader_open(&r, path);
    if (rc) {
        as_cli_err("%s", r ? as_trace_reader_error(r) : as_strerror(rc));
        as_trace_reader_close(r);
        return rc == AS_ENOMEM ? AS_EXIT_FAIL : AS_EXIT_USAGE;
    }
    static char obuf[1 << 16];
    setvbuf(stdout, obuf, _IOFBF, sizeof obuf);
    as_textbuf_t b = {0};
    const char *k, *v;
    for (size_t i = 0; as_trace_reader_meta_at(r, i, &k, &v) == 0; i++)
        if (as_text_format_meta(&b, k, v)) rc = AS_ENOMEM;
    uint64_t printed = 0;
    as_trace_reader_t *r2 = NULL;
    if (!rc) rc = cat_records(r, &b, &printed);
    if (rc < 0 && rc != AS_ENOMEM && !ferror(stdout)) {
        rc = cat_slow(path, printed, &b, &r2);
        if (r2) {
            as_trace_reader_close(r);
            r = r2;
        }
    }
    if (b.len) fwrite(b.p, 1, b.len, stdout);
    as_textbuf_free(&b);
    int exit_code = AS_EXIT_OK;
    if (as_stdout_flush("allocsim cat")) {
        exit_code = AS_EXIT_FAIL;
    } else if (rc < 0) {
        as_cli_err("%s", rc == AS_ENOMEM ? "out of memory"
                                         : as_trace_reader_error(r));
        exit_code = rc == AS_ENOMEM ? AS_EXIT_FAIL : AS_EXIT_USAGE;
    } else if (as_trace_reader_truncated(r)) {
        as_cli_err("warning: %s", as_trace_reader_error(r));
    }
    as_trace_reader_close(r);
    return exit_code;
}

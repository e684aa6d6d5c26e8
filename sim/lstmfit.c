/* lstmfit.c - traces -> corpus -> trained network -> model file (see
 * lstmfit.h). Owns nothing after it returns but the model bytes it hands
 * over; prints only the optional progress line.
 */
#include "sim/lstmfit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/error.h"
#include "sim/lstmdata.h"

/* CPU seconds of this thread: what the work costs, whatever else the
 * machine runs (the trainer is single-threaded). */
static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void as_lstm_fit_defaults(as_lstm_fit_opts_t *o)
{
    memset(o, 0, sizeof *o);
    as_lstm_hparams_default(&o->hp);
    o->min_contexts = 2;
}

static void progress(void *arg, const as_lstm_epoch_t *e)
{
    (void)arg;
    if (e->valid_loss >= 0)
        fprintf(stderr,
                "\r\033[Kepoch %u/%u  loss %.4f  validation loss %.4f  "
                "accuracy %.4f%s",
                e->epoch, e->epochs, e->train_loss, e->valid_loss, e->valid_acc,
                e->best ? "  (best)" : "");
    else
        fprintf(stderr, "\r\033[Kepoch %u/%u  loss %.4f", e->epoch, e->epochs,
                e->train_loss);
    fflush(stderr);
}

int as_lstm_export(const char *path, const as_lstm_data_t *data,
                   const as_lstm_hparams_t *hp, char *err, size_t errcap)
{
    uint32_t n = data->n, C = data->classes;
    uint32_t *order = malloc((n ? n : 1) * sizeof *order);
    uint8_t *held = calloc(n ? n : 1, 1);
    if (!order || !held) {
        free(order);
        free(held);
        return AS_ENOMEM;
    }
    uint32_t nv = as_lstm_split(n, hp, order, NULL);
    for (uint32_t i = 0; i < nv; i++)
        held[order[i]] = 1;
    FILE *f = fopen(path, "w");
    if (f) {
        fprintf(f,
                "allocsim-lstm-samples 1\nclasses %u vocab %u max_tokens %u "
                "contexts %u valid %u\n",
                C, data->vocab, hp->max_tokens, n, nv);
        for (uint32_t i = 0; i < n; i++) {
            fputc(held[i] ? 'v' : 't', f);
            for (uint32_t k = 0; k < C; k++)
                fprintf(f, " %.17g", data->count[(size_t)i * C + k]);
            fputs(" :", f);
            for (uint32_t t = data->off[i]; t < data->off[i + 1]; t++)
                fprintf(f, " %u", data->tok[t]);
            fputc('\n', f);
        }
    }
    int bad = !f || ferror(f);
    if (f && fclose(f)) bad = 1;
    free(order);
    free(held);
    if (bad) {
        snprintf(err, errcap, "%s: cannot write the samples", path);
        return AS_EIO;
    }
    return AS_OK;
}

int as_lstm_fit(const char *const *paths, int n_paths, const as_classes_t *cl,
                const as_lstm_fit_opts_t *o, as_lstm_fit_t *out, char *err,
                size_t errcap)
{
    memset(out, 0, sizeof *out);
    double t0 = now_s();
    as_lstm_corpus_t *c = as_lstm_corpus_create(cl->n, o->hp.max_tokens);
    if (!c) return AS_ENOMEM;
    int rc = AS_OK;
    for (int i = 0; i < n_paths && rc == AS_OK; i++) {
        if (o->progress) fprintf(stderr, "\r\033[Kreading %s", paths[i]);
        rc = as_lstm_corpus_add_trace(c, paths[i], cl, o->sample_bytes,
                                      o->hp.seed, err, errcap);
    }
    as_lstm_data_t data;
    if (rc == AS_OK) rc = as_lstm_corpus_build(c, o->min_contexts, &data);
    if (rc == AS_OK && data.n == 0) {
        snprintf(err, errcap, "the traces hold no allocation to learn from");
        rc = AS_EINVAL;
    }
    if (rc != AS_OK) {
        if (o->progress) fprintf(stderr, "\r\033[K");
        as_lstm_corpus_destroy(c);
        return rc;
    }
    if (o->export_path)
        rc = as_lstm_export(o->export_path, &data, &o->hp, err, errcap);
    if (rc != AS_OK) {
        as_lstm_corpus_destroy(c);
        return rc;
    }
    out->allocs = as_lstm_corpus_allocs(c);
    out->samples = as_lstm_corpus_samples(c);
    out->contexts = data.n;
    out->vocab = data.vocab;
    as_lstm_hparams_t hp = o->hp;
    if (o->balanced) { /* weight class k by total / (classes seen * n_k) */
        double per[AS_MAX_CLASSES] = {0}, tot = 0;
        uint32_t seen = 0;
        for (uint32_t i = 0; i < data.n; i++)
            for (uint32_t k = 0; k < cl->n; k++)
                per[k] += data.count[(size_t)i * cl->n + k];
        for (uint32_t k = 0; k < cl->n; k++) {
            tot += per[k];
            seen += per[k] > 0;
        }
        for (uint32_t k = 0; k < cl->n; k++)
            hp.class_weight[k] = per[k] > 0 ? tot / (seen * per[k]) : 1;
    }
    as_lstm_dims_t d = {.classes = cl->n,
                        .vocab = data.vocab,
                        .embed = hp.embed,
                        .hidden = hp.hidden,
                        .layers = hp.layers,
                        .max_tokens = hp.max_tokens};
    double t1 = now_s();
    out->read_s = t1 - t0;
    as_lstm_net_t *net = as_lstm_net_create(&d, hp.seed);
    rc = net ? as_lstm_train(net, &data, &hp, o->progress ? progress : NULL,
                             NULL, &out->res)
             : AS_ENOMEM;
    out->train_s = now_s() - t1;
    if (o->progress) fprintf(stderr, "\r\033[K");
    if (rc == AS_OK) {
        const char *const *w;
        const uint8_t *lens;
        as_lstm_corpus_words(c, &w, &lens);
        size_t need = as_lstm_net_write(net, cl->bound_ns, w, lens, NULL, 0);
        out->model = need ? malloc(need) : NULL;
        if (!out->model || as_lstm_net_write(net, cl->bound_ns, w, lens,
                                             out->model, need) != need) {
            free(out->model);
            out->model = NULL;
            rc = AS_ENOMEM;
        } else {
            out->model_len = need;
        }
    }
    as_lstm_net_destroy(net);
    as_lstm_corpus_destroy(c);
    return rc;
}

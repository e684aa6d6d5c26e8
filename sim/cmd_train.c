/* cmd_train.c - `allocsim train --predictor lstm|sitetab TRACE... -o
 * MODEL`: learn an LSTM lifetime model, or build a site table, from
 * recorded traces.
 *
 * Reads every allocation of the traces with its true lifetime class
 * (sim/lifewalk.c). For lstm: merges identical contexts (sim/lstmdata.c),
 * trains with a validation split and early stopping
 * (predictors/lstm/train.c) and writes the model file (format in
 * predictors/lstm/model.h and docs/predictors/lstm.md). For sitetab:
 * counts each site's classes (sim/sitetab_build.c) and writes the table
 * (predictors/sitetab/sitetab.h). Either file is written complete or not
 * at all. Progress (one line per epoch) only on a terminal; a summary on
 * stdout, as text or --json.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/lifetime.h"
#include "sim/cli.h"
#include "sim/fileio.h"
#include "sim/lstmfit.h"
#include "sim/sitetab_build.h"

enum {
    OPT_PREDICTOR = 1,
    OPT_OUTPUT,
    OPT_CLASSES,
    OPT_EMBED,
    OPT_HIDDEN,
    OPT_LAYERS,
    OPT_MAX_TOKENS,
    OPT_EPOCHS,
    OPT_BATCH,
    OPT_BPTT,
    OPT_PATIENCE,
    OPT_LR,
    OPT_VALID,
    OPT_SEED,
    OPT_MIN_CONTEXTS,
    OPT_WEIGHTING,
    OPT_CLASS_WEIGHTS,
    OPT_SAMPLE,
    OPT_QUIET,
    OPT_JSON,
    OPT_EXPORT,
    OPT_FRAMES,
};

/* The training knobs, shared with `allocsim eval --train`. */
const as_opt_t as_lstm_train_opts[] = {
    AS_OPT_ROW_TEXT(OPT_CLASSES, "classes", 0, "LIST",
                    "lifetime class bounds (default LLAMA's: "
                    "10ms,100ms,1s,10s,100s,1000s)"),
    AS_OPT_ROW_NUM(OPT_EMBED, "embed", 0, AS_PARAM_U64, 1, 256, "N",
                   "embedding width (16)"),
    AS_OPT_ROW_NUM(OPT_HIDDEN, "hidden", 0, AS_PARAM_U64, 1, 256, "N",
                   "LSTM units per layer (32)"),
    AS_OPT_ROW_NUM(OPT_LAYERS, "layers", 0, AS_PARAM_U64, 1, 2, "N",
                   "LSTM layers, 1 or 2 (1)"),
    AS_OPT_ROW_NUM(OPT_MAX_TOKENS, "max-tokens", 0, AS_PARAM_U64, 1, 1024, "N",
                   "words read per context, the innermost (32)"),
    AS_OPT_ROW_NUM(OPT_EPOCHS, "epochs", 0, AS_PARAM_U64, 1, 100000, "N",
                   "most epochs (30)"),
    AS_OPT_ROW_NUM(OPT_BATCH, "batch", 0, AS_PARAM_U64, 1, 65536, "N",
                   "contexts per mini-batch (32)"),
    AS_OPT_ROW_NUM(OPT_BPTT, "bptt", 0, AS_PARAM_U64, 1, 1024, "N",
                   "steps back-propagated (truncated BPTT; default all)"),
    AS_OPT_ROW_NUM(OPT_PATIENCE, "patience", 0, AS_PARAM_U64, 1, 100000, "N",
                   "stop after N epochs without a better validation loss "
                   "(4)"),
    AS_OPT_ROW_NUM(OPT_LR, "lr", 0, AS_PARAM_DOUBLE, 1e-6, 10, "X",
                   "Adam's learning rate (0.01)"),
    AS_OPT_ROW_NUM(OPT_VALID, "valid", 0, AS_PARAM_DOUBLE, 0, 0.9, "F",
                   "fraction of contexts held out for validation (0.1)"),
    AS_OPT_ROW_NUM(OPT_SEED, "seed", 0, AS_PARAM_U64, 0, 18446744073709551615.0,
                   "S", "seed of weights, split and order (1)"),
    AS_OPT_ROW_NUM(OPT_MIN_CONTEXTS, "min-contexts", 0, AS_PARAM_U64, 1, 1e9,
                   "N",
                   "words in fewer distinct contexts are out of\n"
                   "vocabulary (2)"),
    AS_OPT_ROW_CHOICE(OPT_WEIGHTING, "weighting", 0, "allocs|context|sqrt", "W",
                      "weight of a context in the loss: its allocations,\n"
                      "1, or their square root (sqrt)"),
    AS_OPT_ROW_CHOICE(OPT_CLASS_WEIGHTS, "class-weights", 0, "none|balanced",
                      "W", "balanced: weight classes by inverse frequency"),
    AS_OPT_ROW_NUM(OPT_SAMPLE, "sample-bytes", 0, AS_PARAM_BYTES, 0, 1e15, "B",
                   "keep only what a lifetime profiler sampling every\n"
                   "B bytes would see (TCMalloc: 2M); 0: all (default)"),
    {0},
};

static const as_opt_t train_opts[] = {
    AS_OPT_ROW_TEXT(OPT_PREDICTOR, "predictor", 0, "NAME",
                    "the predictor to train: lstm or sitetab (required)"),
    AS_OPT_ROW_TEXT(OPT_OUTPUT, "output", 'o', "MODEL",
                    "the model file (lstm) or site table (sitetab) to\n"
                    "write (required)"),
    AS_OPT_ROW_NUM(OPT_FRAMES, "frames", 0, AS_PARAM_U64, 1, 32, "N",
                   "sitetab: innermost frames that name a site (8)"),
    AS_OPT_ROW_FLAG(OPT_QUIET, "quiet", 'q', "no progress"),
    AS_OPT_ROW_FLAG(OPT_JSON, "json", 0, "the summary as one JSON object"),
    AS_OPT_ROW_TEXT(OPT_EXPORT, "export-samples", 0, "FILE",
                    "also write the tokenized contexts, their class\n"
                    "counts and the validation split to FILE (text;\n"
                    "docs/predictors/lstm.md), e.g. for a reference\n"
                    "trainer"),
    {0},
};

const as_opt_t *const as_cmd_train_opts[] = {train_opts, as_lstm_train_opts,
                                             NULL};

static void usage(FILE *f)
{
    fprintf(f, "usage: allocsim train --predictor lstm [options] TRACE... -o "
               "MODEL\n"
               "       allocsim train --predictor sitetab [--frames N] "
               "[--classes LIST] TRACE...\n"
               "                      -o TABLE\n\n"
               "lstm: learn an LSTM lifetime model from the allocations of "
               "recorded traces:\nthe words of each symbolized stack and its "
               "size, labelled with the class of\nthe object's true lifetime.\n"
               "sitetab: a table of allocation sites (the innermost N frames, "
               "each named by\nits module's file name and offset, so it "
               "matches in a new process) and the\nmost frequent class of each "
               "site's objects (ties: the longer class).\n"
               "The same traces and options give the same bytes. Run it with "
               "`allocsim run\n--predictor [cached:]lstm|sitetab "
               "--predictor-load FILE`, or in the real\nallocator with "
               "ALLOCSIM_PREDICTOR and ALLOCSIM_MODEL=FILE; score it with\n"
               "`allocsim eval`.\n");
    as_opts_help(f, as_cmd_train_opts);
}

int as_lstm_train_opt(as_lstm_fit_opts_t *o, as_classes_t *cl,
                      const as_opts_t *p, int id)
{
    as_lstm_hparams_t *hp = &o->hp;
    switch (id) {
    case OPT_CLASSES:
        if (as_classes_parse(cl, p->text)) {
            as_opts_bad_value(p, "ascending durations with units, e.g. "
                                 "10ms,1s");
            return AS_OPT_ERROR;
        }
        break;
    case OPT_EMBED:
        hp->embed = (uint32_t)p->value.u;
        break;
    case OPT_HIDDEN:
        hp->hidden = (uint32_t)p->value.u;
        break;
    case OPT_LAYERS:
        hp->layers = (uint32_t)p->value.u;
        break;
    case OPT_MAX_TOKENS:
        hp->max_tokens = (uint32_t)p->value.u;
        break;
    case OPT_EPOCHS:
        hp->epochs = (uint32_t)p->value.u;
        break;
    case OPT_BATCH:
        hp->batch = (uint32_t)p->value.u;
        break;
    case OPT_BPTT:
        hp->bptt = (uint32_t)p->value.u;
        break;
    case OPT_PATIENCE:
        hp->patience = (uint32_t)p->value.u;
        break;
    case OPT_LR:
        hp->lr = p->value.d;
        break;
    case OPT_VALID:
        hp->valid_frac = p->value.d;
        break;
    case OPT_SEED:
        hp->seed = p->value.u;
        break;
    case OPT_MIN_CONTEXTS:
        o->min_contexts = (uint32_t)p->value.u;
        break;
    case OPT_WEIGHTING:
        hp->weighting = (int)p->value.u;
        break;
    case OPT_CLASS_WEIGHTS:
        o->balanced = p->value.u == 1;
        break;
    case OPT_SAMPLE:
        o->sample_bytes = p->value.u;
        break;
    default:
        return 0;
    }
    return 1;
}

/* Write len bytes to out, complete or not at all (as_outfile_t).
 * @return 0, or the failure (message printed). */
static int write_whole(const char *out, const void *bytes, size_t len)
{
    char err[1024] = "";
    as_outfile_t o;
    memset(&o, 0, sizeof o);
    int rc = as_outfile_open(&o, out, err, sizeof err);
    if (rc == AS_OK) {
        int ok = fwrite(bytes, 1, len, o.f) == len;
        rc = as_outfile_close(&o, ok, err, sizeof err);
        if (!ok && rc == AS_OK) {
            snprintf(err, sizeof err, "%s: cannot write", out);
            rc = AS_EIO;
        }
    }
    if (rc != AS_OK) as_cli_err("%s", err);
    return rc;
}

/* `train --predictor sitetab`: build and write the table, print the
 * summary. @return the exit code. */
static int train_sitetab(const char **in, int n_in, const char *out,
                         const as_classes_t *cl, uint32_t frames, int json)
{
    char err[1024] = "";
    as_sitetab_build_t b;
    int rc = as_sitetab_build(in, n_in, cl, frames, &b, err, sizeof err);
    if (rc != AS_OK) {
        as_cli_err("%s", err);
        return rc == AS_ENOMEM ? AS_EXIT_FAIL : AS_EXIT_USAGE;
    }
    rc = write_whole(out, b.bytes, b.len);
    free(b.bytes);
    if (rc != AS_OK) return AS_EXIT_FAIL;
    double agree = b.allocs ? (double)b.agree / (double)b.allocs : 0;
    if (json)
        printf("{\"predictor\": \"sitetab\", \"sites\": %llu, "
               "\"allocations\": %llu, \"unkeyed_allocations\": %llu, "
               "\"frames\": %u, \"frames_by_pc\": %llu, "
               "\"frames_hashed\": %llu, \"own_accuracy\": %.6f, "
               "\"table_bytes\": %zu}\n",
               (unsigned long long)b.sites, (unsigned long long)b.allocs,
               (unsigned long long)b.unkeyed, frames,
               (unsigned long long)b.pc_frames,
               (unsigned long long)b.frames_all, agree, b.len);
    else
        printf("sites        %llu (from %llu allocations; %llu without a "
               "stack left out)\n"
               "frames       %u per site; %llu of %llu hashed frames had no "
               "module (named by pc:\n"
               "             such sites match only the traces they came "
               "from)\n"
               "agreement    %.4f of the allocations are of their site's "
               "class\n"
               "table        %s, %zu bytes\n",
               (unsigned long long)b.sites, (unsigned long long)b.allocs,
               (unsigned long long)b.unkeyed, frames,
               (unsigned long long)b.pc_frames,
               (unsigned long long)b.frames_all, agree, out, b.len);
    return AS_EXIT_OK;
}

int as_cmd_train(int argc, char **argv)
{
    as_lstm_fit_opts_t fo;
    as_lstm_fit_defaults(&fo);
    as_classes_t cl;
    as_classes_default(&cl);
    const char *out = NULL, *pred = NULL, *lstm_only = NULL;
    int quiet = 0, json = 0, c, n_in = 0, frames_set = 0;
    uint32_t frames = 8;
    const char **in = calloc((size_t)argc + 1, sizeof *in);
    if (!in) return AS_EXIT_FAIL;
    as_opts_t p;
    as_opts_init(&p, "train", as_cmd_train_opts, argc, argv);
    int rc_exit = -1;
    while (rc_exit < 0 && (c = as_opts_next(&p)) != AS_OPT_END) {
        if (c == AS_OPT_ERROR) {
            rc_exit = AS_EXIT_USAGE;
        } else if (c == AS_OPT_HELP) {
            usage(stdout);
            rc_exit = AS_EXIT_OK;
        } else if (c == AS_OPT_ARG) {
            in[n_in++] = p.text;
        } else if (c == OPT_PREDICTOR) {
            pred = p.text;
        } else if (c == OPT_OUTPUT) {
            out = p.text;
        } else if (c == OPT_QUIET) {
            quiet = 1;
        } else if (c == OPT_JSON) {
            json = 1;
        } else if (c == OPT_EXPORT) {
            fo.export_path = p.text;
            lstm_only = "export-samples";
        } else if (c == OPT_FRAMES) {
            frames = (uint32_t)p.value.u;
            frames_set = 1;
        } else {
            int r = as_lstm_train_opt(&fo, &cl, &p, c);
            if (r == AS_OPT_ERROR) rc_exit = AS_EXIT_USAGE;
            if (r == 1 && c != OPT_CLASSES) lstm_only = p.opt->name;
        }
    }
    int sitetab = pred && strcmp(pred, "sitetab") == 0;
    if (rc_exit < 0 && (!pred || (strcmp(pred, "lstm") != 0 && !sitetab))) {
        as_cli_err(pred ? "cannot train predictor '%s'; trainable: lstm "
                          "sitetab"
                        : "expected --predictor lstm or sitetab%s",
                   pred ? pred : "");
        rc_exit = AS_EXIT_USAGE;
    }
    if (rc_exit < 0 && sitetab && lstm_only) {
        as_cli_err("--%s applies to --predictor lstm only", lstm_only);
        rc_exit = AS_EXIT_USAGE;
    }
    if (rc_exit < 0 && !sitetab && frames_set) {
        as_cli_err("--frames applies to --predictor sitetab only");
        rc_exit = AS_EXIT_USAGE;
    }
    if (rc_exit < 0 && (!n_in || !out)) {
        as_cli_err("expected TRACE... and -o MODEL (see allocsim train "
                   "--help)");
        rc_exit = AS_EXIT_USAGE;
    }
    if (rc_exit >= 0) {
        free(in);
        return rc_exit;
    }
    char err[1024] = "";
    for (int i = 0; i < n_in; i++) {
        if (as_outfile_check_input(out, in[i], err, sizeof err) != AS_OK) {
            as_cli_err("%s", err);
            free(in);
            return AS_EXIT_USAGE;
        }
    }
    if (sitetab) {
        int rc = train_sitetab(in, n_in, out, &cl, frames, json);
        free(in);
        return rc;
    }
    fo.progress = !quiet && as_cli_progress_on();
    if (fo.export_path) { /* a runtime failure, found before training */
        FILE *ef = fopen(fo.export_path, "w");
        if (!ef || fclose(ef)) {
            as_cli_err("%s: cannot write the samples", fo.export_path);
            free(in);
            return AS_EXIT_FAIL;
        }
    }
    as_lstm_fit_t fit;
    int rc = as_lstm_fit(in, n_in, &cl, &fo, &fit, err, sizeof err);
    free(in);
    if (rc != AS_OK) {
        as_cli_err("%s", rc == AS_ENOMEM ? "out of memory" : err);
        return rc == AS_ENOMEM ? AS_EXIT_FAIL : AS_EXIT_USAGE;
    }
    rc = write_whole(out, fit.model, fit.model_len);
    free(fit.model);
    if (rc != AS_OK) return AS_EXIT_FAIL;
    const as_lstm_result_t *r = &fit.res;
    if (json)
        printf("{\"samples\": %llu, \"allocations\": %.0f, \"contexts\": %u, "
               "\"vocab\": %u, "
               "\"train_contexts\": %u, \"valid_contexts\": %u, "
               "\"epochs\": %u, \"best_epoch\": %u, \"train_loss\": %.6f, "
               "\"valid_loss\": %.6f, \"valid_accuracy\": %.6f, "
               "\"read_seconds\": %.3f, \"train_seconds\": %.3f, "
               "\"model_bytes\": %zu}\n",
               (unsigned long long)fit.samples, fit.allocs, fit.contexts,
               fit.vocab, r->n_train, r->n_valid, r->epochs_run, r->best_epoch,
               r->train_loss, r->valid_loss, r->valid_acc, fit.read_s,
               fit.train_s, fit.model_len);
    else
        printf("samples      %llu (for %.0f allocations), %u distinct "
               "contexts, %u words\n"
               "split        %u training, %u validation contexts\n"
               "epochs       %u run, best %u (validation loss %.4f, "
               "allocation-weighted accuracy %.4f)\n"
               "time         %.2f s reading, %.2f s training (CPU)\n"
               "model        %s, %zu bytes\n",
               (unsigned long long)fit.samples, fit.allocs, fit.contexts,
               fit.vocab, r->n_train, r->n_valid, r->epochs_run, r->best_epoch,
               r->valid_loss, r->valid_acc, fit.read_s, fit.train_s, out,
               fit.model_len);
    return AS_EXIT_OK;
}

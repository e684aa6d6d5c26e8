/* model.h - a trained LSTM lifetime model: its file format, its loader and
 * its forward pass.
 *
 * Type map
 *   as_lstm_dims_t    the shape: vocabulary, embedding, hidden, layers,
 *                     classes, window of words
 *   as_lstm_model_t   a loaded model: float32 weights, the vocabulary's
 *                     hash index and the scratch of one forward pass, all
 *                     from one as_mem_t
 *
 * The network: word id -> embedding (E) -> L LSTM layers (H units each;
 * gates i, f, g, o stacked in that order, 4H rows of W = [W_x | W_h]) -> the
 * last step's top hidden state -> C logits (W_y, b_y) -> argmax. Only the
 * last max_tokens words of a context are read (the innermost frames and the
 * size). Id 0 is the out-of-vocabulary word.
 *
 * File format, version 1 (all little-endian; docs/predictors/lstm.md):
 *   off  0  8   magic "ASLSTM\0\n"
 *   off  8  u32 version (1)
 *   off 12  u32 classes C          2..16
 *   off 16  u32 vocab V            1..1048576 (id 0 = out of vocabulary)
 *   off 20  u32 embed E            1..256
 *   off 24  u32 hidden H           1..256
 *   off 28  u32 layers L           1..2
 *   off 32  u32 max_tokens T       1..1024
 *   off 36  u32 reserved (0)
 *   off 40  u64 x (C-1)            class bounds in ns, strictly ascending
 *           then the words of ids 1..V-1: u8 length (1..32) and the bytes
 *           (0x21..0x7e or >= 0x80), no two with the same hash;
 *           then float32 arrays, all finite: embedding V*E; per layer
 *           W (4H x (in+H), in = E for layer 0, H above) and b (4H); W_y
 *           (C x H); b_y (C);
 *           then u64 FNV-1a 64 of every byte before it. Nothing follows.
 * A model file is untrusted input: the loader checks every field above and
 * names the byte offset of the first bad one.
 *
 * No libc: the loader and the forward pass build into the real allocator.
 */
#ifndef AS_PREDICTORS_LSTM_MODEL_H
#define AS_PREDICTORS_LSTM_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "common/lifetime.h"
#include "common/mem.h"

#define AS_LSTM_MAGIC "ASLSTM\0\n"
#define AS_LSTM_VERSION 1u
#define AS_LSTM_HEADER_BYTES 40
#define AS_LSTM_MAX_VOCAB (1u << 20)
#define AS_LSTM_MAX_WIDTH 256 /* embed and hidden */
#define AS_LSTM_MAX_LAYERS 2
#define AS_LSTM_MAX_WINDOW 1024
/* Layer 0's input products per word (V x 4H floats) are precomputed at load
 * when they take at most this many floats (16 MiB); larger models compute
 * them per word. */
#define AS_LSTM_XGATE_MAX_FLOATS ((size_t)1 << 22)

typedef struct {
    uint32_t classes, vocab, embed, hidden, layers, max_tokens;
} as_lstm_dims_t;

/* Where each weight array starts in one flat array (in floats or doubles:
 * the trainer uses the same layout). Invariant: the arrays follow one
 * another in the file's order and total is the sum of their sizes. */
typedef struct {
    size_t emb, w[AS_LSTM_MAX_LAYERS], b[AS_LSTM_MAX_LAYERS], wy, by, total;
} as_lstm_layout_t;

typedef struct {
    as_mem_t mem;
    as_lstm_dims_t d;
    as_lstm_layout_t lay;
    uint64_t bound_ns[AS_MAX_CLASSES]; /* C-1 bounds; the last class is
                                          unbounded */
    float *param;                      /* lay.total floats */
    uint64_t *vhash; /* vmask + 1 slots: a word's hash, 0 = empty */
    uint32_t *vid;   /* the word id of each slot */
    uint32_t vmask;
    float *scratch;    /* h, c per layer, gates, input part, logits */
    float *xgate;      /* V x 4H: emb[id] x W_x + b of layer 0, or NULL
                          (as_lstm_xgate_floats) */
    int avx2;          /* 1: forward runs its AVX2 copy (same results) */
    size_t file_bytes; /* the size of the file it came from */
    size_t mem_bytes;  /* what it took from mem */
} as_lstm_model_t;

/* as_lstm_layout: the flat layout of dims d. */
void as_lstm_layout(const as_lstm_dims_t *d, as_lstm_layout_t *lay);

/* as_lstm_model_parse: check and load a model file held in memory.
 * *bad_offset and *what (each may be NULL) receive the byte offset and a
 * description of the first bad field ("hidden size 0 is not in 1..256").
 * @return 0, AS_EFORMAT, AS_ENOMEM. */
int as_lstm_model_parse(as_lstm_model_t *m, const as_mem_t *mem,
                        const void *bytes, size_t len, size_t *bad_offset,
                        const char **what);

/* as_lstm_model_free: give back everything parse took. */
void as_lstm_model_free(as_lstm_model_t *m);

/* as_lstm_model_word: @return the id of a word (0: out of vocabulary). */
uint32_t as_lstm_model_word(const as_lstm_model_t *m, uint64_t hash);

/* as_lstm_xgate_floats: @return the floats of the precomputed layer-0 input
 * products of a model of dims d (V x 4H), or 0 when they would exceed
 * AS_LSTM_XGATE_MAX_FLOATS and are computed per word instead. */
size_t as_lstm_xgate_floats(const as_lstm_dims_t *d);

/* as_lstm_model_prepare: (re)compute m->xgate from the weights (parse does
 * it; call again after changing m->param). No-op when xgate is NULL. */
void as_lstm_model_prepare(as_lstm_model_t *m);

/* as_lstm_simd_avx2: @return 1 when this CPU runs the forward pass's AVX2
 * copy (parse sets m->avx2 from it; clear it to force the baseline copy,
 * which gives bit-identical results). */
int as_lstm_simd_avx2(void);

/* as_lstm_model_forward: run ids[0..n) (only the last max_tokens count)
 * through the network. probs (may be NULL) receives C probabilities.
 * Uses the model's scratch: one caller at a time.
 * @return the most likely class (ties: the longer). */
uint32_t as_lstm_model_forward(as_lstm_model_t *m, const uint32_t *ids,
                               uint32_t n, float *probs);

/* as_lstm_scratch_floats: @return the floats of one forward pass's scratch
 * for a model of dims d (its h and c per layer, gates, logits). */
size_t as_lstm_scratch_floats(const as_lstm_dims_t *d);

/* as_lstm_model_forward_with: as_lstm_model_forward with the caller's
 * scratch (as_lstm_scratch_floats(&m->d) floats). The model is only read,
 * so any number of threads may run it at once, each with a scratch of its
 * own; the answer is the same as as_lstm_model_forward's.
 * @return the most likely class (ties: the longer). */
uint32_t as_lstm_model_forward_with(const as_lstm_model_t *m, float *scratch,
                                    const uint32_t *ids, uint32_t n,
                                    float *probs);

/* as_lstm_model_write: the file form of a model into buf (cap bytes): dims,
 * C-1 class bounds, V-1 words (ids 1..V-1; words[i-1] of length lens[i-1])
 * and lay.total float weights. @return the file's length, which may exceed
 * cap (call again with a larger buffer); 0 when a word is empty, too long
 * or holds a space or control byte.
 */
size_t as_lstm_model_write(const as_lstm_dims_t *d, const uint64_t *bound_ns,
                           const char *const *words, const uint8_t *lens,
                           const float *param, uint8_t *buf, size_t cap);

#endif /* AS_PREDICTORS_LSTM_MODEL_H */

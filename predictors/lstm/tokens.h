/* tokens.h - the words an LSTM reads in a symbolized stack.
 *
 * A stack is read like a sentence, outermost frame first and the innermost
 * (the caller of malloc) last, then one size-bucket word:
 *   frame with a symbol  its demangled name cut into words: "::" and each
 *                        other punctuation character ("<", ">", "(", ",",
 *                        "&", "*", ...) are words of their own; letters and
 *                        digits are cut at '_', at spaces, at camelCase
 *                        humps ("allocateLock" -> allocate lock,
 *                        "HTTPServer" -> http server) and between letters
 *                        and digits ("sqlite3Vdbe" -> sqlite 3 vdbe), and
 *                        lower-cased;
 *   frame without one    "@" + the module's file name ("@libc.so.6"), or
 *                        "@?" when the module is unknown too;
 *   the size             "#sz" + floor(log2(size)) ("#sz0" for 0 and 1).
 * A word keeps at most AS_LSTM_TOKEN_MAX bytes and a frame at most
 * AS_LSTM_FRAME_TOKENS words, so one huge template cannot fill the window.
 * Token ids come from a vocabulary keyed on as_lstm_token_hash.
 *
 * No libc, no allocation: it builds into the real allocator.
 */
#ifndef AS_PREDICTORS_LSTM_TOKENS_H
#define AS_PREDICTORS_LSTM_TOKENS_H

#include <stddef.h>
#include <stdint.h>

#define AS_LSTM_TOKEN_MAX 32    /* bytes of one word, longer ones cut */
#define AS_LSTM_FRAME_TOKENS 24 /* words of one frame, more are dropped */

/* Called once per word, in reading order; tok is not terminated. */
typedef void (*as_lstm_token_fn)(void *arg, const char *tok, size_t len);

/* as_lstm_tokenize_frame: the words of one frame. symbol and module may be
 * NULL or "" (or "-") for unknown. */
void as_lstm_tokenize_frame(const char *symbol, const char *module,
                            as_lstm_token_fn fn, void *arg);

/* as_lstm_tokenize_stack: the words of a whole allocation context: frames
 * depth-1 (outermost) .. 0 (innermost), then the size word. symbols or
 * modules may be NULL (all unknown), and their entries NULL. */
void as_lstm_tokenize_stack(const char *const *symbols,
                            const char *const *modules, uint32_t depth,
                            uint64_t size, as_lstm_token_fn fn, void *arg);

/* as_lstm_size_token: write the size word into buf (terminated).
 * @return its length. */
size_t as_lstm_size_token(uint64_t size, char buf[8]);

/* as_lstm_token_hash: @return the 64-bit FNV-1a hash of a word, never 0
 * (0 marks an empty vocabulary slot). */
uint64_t as_lstm_token_hash(const char *tok, size_t len);

#endif /* AS_PREDICTORS_LSTM_TOKENS_H */

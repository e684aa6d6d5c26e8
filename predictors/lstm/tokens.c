/* tokens.c - cutting symbolized stack frames into words (see tokens.h).
 *
 * A single forward scan per symbol with a small word buffer on the stack. It
 * owns nothing, allocates nothing and calls no libc, so the same code splits
 * stacks in the trainer and inside an allocator.
 */
#include "predictors/lstm/tokens.h"

static int is_lower(int c)
{
    return c >= 'a' && c <= 'z';
}
static int is_upper(int c)
{
    return c >= 'A' && c <= 'Z';
}
static int is_digit(int c)
{
    return c >= '0' && c <= '9';
}
/* Letters, digits and non-ASCII bytes make words. */
static int is_word(int c)
{
    return is_lower(c) || is_upper(c) || is_digit(c) || c >= 0x80;
}
static int is_space(int c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '_';
}

typedef struct {
    as_lstm_token_fn fn;
    void *arg;
    unsigned n; /* words given for this frame */
} emit_t;

static void emit(emit_t *e, const char *tok, size_t len)
{
    if (len == 0 || e->n >= AS_LSTM_FRAME_TOKENS) return;
    e->n++;
    e->fn(e->arg, tok, len > AS_LSTM_TOKEN_MAX ? AS_LSTM_TOKEN_MAX : len);
}

/* A run of word bytes [p, end): cut at humps and letter/digit changes. */
static void split_word(emit_t *e, const unsigned char *p,
                       const unsigned char *end)
{
    char w[AS_LSTM_TOKEN_MAX];
    size_t n = 0;
    for (const unsigned char *q = p; q < end; q++) {
        int c = *q, prev = q > p ? q[-1] : 0, next = q + 1 < end ? q[1] : 0;
        int cut = 0;
        if (q > p) {
            if (is_digit(c) != is_digit(prev)) cut = 1; /* sqlite|3 */
            if (is_upper(c) && is_lower(prev)) cut = 1; /* allocate|Lock */
            if (is_upper(c) && is_upper(prev) && is_lower(next))
                cut = 1; /* HTTP|Server */
        }
        if (cut && n) {
            emit(e, w, n);
            n = 0;
        }
        if (n < sizeof w) w[n++] = (char)(is_upper(c) ? c - 'A' + 'a' : c);
    }
    if (n) emit(e, w, n);
}

void as_lstm_tokenize_frame(const char *symbol, const char *module,
                            as_lstm_token_fn fn, void *arg)
{
    emit_t e = {fn, arg, 0};
    int has_sym = symbol && symbol[0] && !(symbol[0] == '-' && !symbol[1]);
    if (!has_sym) {
        char w[AS_LSTM_TOKEN_MAX];
        size_t n = 0;
        w[n++] = '@';
        const char *base =
            module && !(module[0] == '-' && !module[1]) ? module : "";
        for (const char *q = base; *q; q++)
            if (*q == '/') base = q + 1;
        if (!*base) base = "?";
        for (; *base && n < sizeof w; base++) /* "x (deleted)": no spaces */
            if ((unsigned char)*base >= 0x21 && *base != 0x7f) w[n++] = *base;
        emit(&e, w, n);
        return;
    }
    const unsigned char *p = (const unsigned char *)symbol;
    while (*p) {
        if (is_space(*p)) {
            p++;
        } else if (is_word(*p)) {
            const unsigned char *s = p;
            while (*p && is_word(*p))
                p++;
            split_word(&e, s, p);
        } else if (p[0] == ':' && p[1] == ':') {
            emit(&e, "::", 2);
            p += 2;
        } else if (*p >= 0x21 && *p <= 0x7e) {
            emit(&e, (const char *)p, 1);
            p++;
        } else {
            p++; /* control characters say nothing */
        }
    }
}

size_t as_lstm_size_token(uint64_t size, char buf[8])
{
    unsigned lg = 0;
    while (lg < 63 && (size >> (lg + 1)) != 0)
        lg++;
    size_t n = 0;
    buf[n++] = '#';
    buf[n++] = 's';
    buf[n++] = 'z';
    if (lg >= 10) buf[n++] = (char)('0' + lg / 10);
    buf[n++] = (char)('0' + lg % 10);
    buf[n] = 0;
    return n;
}

void as_lstm_tokenize_stack(const char *const *symbols,
                            const char *const *modules, uint32_t depth,
                            uint64_t size, as_lstm_token_fn fn, void *arg)
{
    for (uint32_t i = depth; i-- > 0;)
        as_lstm_tokenize_frame(symbols ? symbols[i] : NULL,
                               modules ? modules[i] : NULL, fn, arg);
    char w[8];
    size_t n = as_lstm_size_token(size, w);
    fn(arg, w, n);
}

uint64_t as_lstm_token_hash(const char *tok, size_t len)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)tok[i];
        h *= 0x100000001b3ull;
    }
    return h ? h : 1;
}

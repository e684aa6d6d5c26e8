/* param.c - parse and print typed parameter values.
 *
 * Owns nothing but code: values live in arrays the caller provides. It must
 * never allocate or print: the real allocator is to parse its ALLOCSIM_*
 * environment with it before any heap exists. Number parsing is done by hand
 * for that reason, and it is the only number parser of allocsim: the command
 * line's numeric options (sim/cliopt.c) call as_param_parse_value too, so a
 * number means the same in `--events 1M` and in `--param x.y=1M`.
 */
#include "common/param.h"

#include "common/error.h"

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static int lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? c + 32 : c;
}

static int str_ieq(const char *a, size_t alen, const char *b)
{
    size_t i = 0;
    for (; i < alen && b[i]; i++)
        if (lower(a[i]) != lower(b[i])) return 0;
    return i == alen && b[i] == 0;
}

static size_t cstrlen(const char *s)
{
    size_t n = 0;
    while (s[n])
        n++;
    return n;
}

/* A unit suffix and its multiplier. Suffixes match case-insensitively. */
typedef struct {
    const char *name;
    uint64_t mul;
} unit_t;

static const unit_t count_units[] = {{"", 1},
                                     {"k", 1000ull},
                                     {"m", 1000000ull},
                                     {"g", 1000000000ull},
                                     {"t", 1000000000000ull},
                                     {0, 0}};
static const unit_t byte_units[] = {{"", 1},
                                    {"b", 1},
                                    {"k", 1ull << 10},
                                    {"kb", 1ull << 10},
                                    {"kib", 1ull << 10},
                                    {"m", 1ull << 20},
                                    {"mb", 1ull << 20},
                                    {"mib", 1ull << 20},
                                    {"g", 1ull << 30},
                                    {"gb", 1ull << 30},
                                    {"gib", 1ull << 30},
                                    {"t", 1ull << 40},
                                    {"tb", 1ull << 40},
                                    {"tib", 1ull << 40},
                                    {0, 0}};
static const unit_t time_units[] = {{"ns", 1},
                                    {"us", 1000ull},
                                    {"ms", 1000000ull},
                                    {"s", 1000000000ull},
                                    {"min", 60000000000ull},
                                    {"h", 3600000000000ull},
                                    {0, 0}};

static uint64_t gcd_u64(uint64_t a, uint64_t b)
{
    while (b) {
        uint64_t t = a % b;
        a = b;
        b = t;
    }
    return a;
}

/* Parse all of s[0, len) as an unsigned number with one of `units`:
 * 0x-hex (not for durations; no unit), or digits[.digits][unit]. The result
 * must be whole after the unit: frac / 10^k * mul is added exactly as
 * (frac / d) * (mul / g) with g = gcd(mul, 10^k), d = 10^k / g, which is
 * below mul and so cannot overflow. A duration without a unit is refused
 * unless it is zero. @return AS_OK, AS_EINVAL or AS_ERANGE (overflow). */
static int parse_unsigned(const char *s, size_t len, const unit_t *units,
                          uint64_t *out)
{
    size_t i = 0;
    uint64_t v = 0;
    if (len == 0 || !is_digit(s[0])) return AS_EINVAL; /* blank, sign, empty */
    if (units != time_units && len >= 2 && s[0] == '0' &&
        (s[1] == 'x' || s[1] == 'X')) {
        if (len == 2) return AS_EINVAL;
        for (i = 2; i < len; i++) {
            int c = lower(s[i]), d;
            if (is_digit((char)c))
                d = c - '0';
            else if (c >= 'a' && c <= 'f')
                d = c - 'a' + 10;
            else
                return AS_EINVAL;
            if (v >> 60) return AS_ERANGE;
            v = v * 16 + (uint64_t)d;
        }
        *out = v;
        return AS_OK;
    }
    int overflow = 0;
    for (; i < len && is_digit(s[i]); i++) {
        uint64_t d = (uint64_t)(s[i] - '0');
        if (v > (UINT64_MAX - d) / 10) overflow = 1;
        v = v * 10 + d;
    }
    uint64_t frac = 0;
    unsigned k = 0;
    if (i < len && s[i] == '.') {
        size_t f0 = ++i;
        while (i < len && is_digit(s[i]))
            i++;
        if (i == f0) return AS_EINVAL; /* "1." */
        size_t f1 = i;
        while (f1 > f0 && s[f1 - 1] == '0') /* trailing zeros say nothing */
            f1--;
        if (f1 - f0 > 18) return AS_EINVAL; /* finer than any unit */
        for (size_t j = f0; j < f1; j++, k++)
            frac = frac * 10 + (uint64_t)(s[j] - '0');
    }
    const unit_t *u = units;
    for (; u->name; u++)
        if (str_ieq(s + i, len - i, u->name)) break;
    if (!u->name) {
        /* A bare zero is zero in every unit. */
        if (units == time_units && i == len && v == 0 && frac == 0 &&
            !overflow) {
            *out = 0;
            return AS_OK;
        }
        return AS_EINVAL;
    }
    if (overflow) return AS_ERANGE;
    if (u->mul && v > UINT64_MAX / u->mul) return AS_ERANGE;
    v *= u->mul;
    if (k) {
        uint64_t p10 = 1;
        for (unsigned j = 0; j < k; j++)
            p10 *= 10;
        uint64_t g = gcd_u64(u->mul, p10), d = p10 / g;
        if (frac % d) return AS_EINVAL; /* not a whole number of the base */
        uint64_t add = (frac / d) * (u->mul / g);
        if (v > UINT64_MAX - add) return AS_ERANGE;
        v += add;
    }
    *out = v;
    return AS_OK;
}

/* Parse a real number: [-]digits[.digits][e[+-]digits] (no '+' in front,
 * no blanks: the caller checks that all of s was used). */
static int parse_double(const char *s, size_t len, double *out, size_t *end)
{
    size_t i = 0;
    int neg = 0, any = 0;
    double v = 0;
    if (i < len && s[i] == '-') neg = 1, i++;
    for (; i < len && is_digit(s[i]); i++, any = 1)
        v = v * 10 + (s[i] - '0');
    if (i < len && s[i] == '.') {
        double scale = 0.1;
        for (i++; i < len && is_digit(s[i]); i++, any = 1, scale *= 0.1)
            v += (s[i] - '0') * scale;
    }
    if (!any) return AS_EINVAL;
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        size_t j = i + 1;
        int eneg = 0, e = 0, eany = 0;
        if (j < len && (s[j] == '-' || s[j] == '+')) eneg = s[j++] == '-';
        for (; j < len && is_digit(s[j]) && e < 400; j++, eany = 1)
            e = e * 10 + (s[j] - '0');
        if (!eany) return AS_EINVAL;
        while (e-- > 0)
            v = eneg ? v / 10 : v * 10;
        i = j;
    }
    *out = neg ? -v : v;
    *end = i;
    return AS_OK;
}

int as_param_parse_value(const as_param_spec_t *spec, const char *s, size_t len,
                         as_param_value_t *out)
{
    size_t end = 0;
    int rc;
    switch (spec->type) {
    case AS_PARAM_BOOL:
        if (str_ieq(s, len, "1") || str_ieq(s, len, "true") ||
            str_ieq(s, len, "on") || str_ieq(s, len, "yes"))
            out->u = 1;
        else if (str_ieq(s, len, "0") || str_ieq(s, len, "false") ||
                 str_ieq(s, len, "off") || str_ieq(s, len, "no"))
            out->u = 0;
        else
            return AS_EINVAL;
        return AS_OK;
    case AS_PARAM_ENUM: {
        const char *c = spec->choices ? spec->choices : "";
        uint64_t idx = 0;
        while (*c) {
            size_t n = 0;
            while (c[n] && c[n] != '|')
                n++;
            if (n == len) {
                size_t k = 0;
                while (k < n && lower(c[k]) == lower(s[k]))
                    k++;
                if (k == n) {
                    out->u = idx;
                    return AS_OK;
                }
            }
            c += n;
            if (*c == '|') c++;
            idx++;
        }
        return AS_EINVAL;
    }
    case AS_PARAM_DOUBLE: {
        double d;
        if ((rc = parse_double(s, len, &d, &end)) != AS_OK) return rc;
        if (end != len) return AS_EINVAL;
        if (d < spec->min || d > spec->max) return AS_ERANGE;
        out->d = d;
        return AS_OK;
    }
    case AS_PARAM_U64:
    case AS_PARAM_BYTES:
    case AS_PARAM_NS:
    case AS_PARAM_POW2: {
        uint64_t v;
        const unit_t *units = spec->type == AS_PARAM_U64  ? count_units
                              : spec->type == AS_PARAM_NS ? time_units
                                                          : byte_units;
        if ((rc = parse_unsigned(s, len, units, &v)) != AS_OK) return rc;
        if (spec->type == AS_PARAM_POW2 && (v == 0 || (v & (v - 1))))
            return AS_EINVAL;
        if ((double)v < spec->min || (double)v > spec->max) return AS_ERANGE;
        out->u = v;
        return AS_OK;
    }
    }
    return AS_EINVAL;
}

int as_param_defaults(const as_param_spec_t *specs, size_t n,
                      as_param_value_t *values)
{
    for (size_t i = 0; i < n; i++) {
        int rc = as_param_parse_value(&specs[i], specs[i].def,
                                      cstrlen(specs[i].def), &values[i]);
        if (rc != AS_OK) return rc;
    }
    return AS_OK;
}

int as_param_find(const as_param_spec_t *specs, size_t n, const char *name,
                  size_t len)
{
    for (size_t i = 0; i < n; i++) {
        const char *p = specs[i].name;
        size_t k = 0;
        while (k < len && p[k] && p[k] == name[k])
            k++;
        if (k == len && p[k] == 0) return (int)i;
    }
    return -1;
}

int as_param_set(const as_param_spec_t *specs, size_t n,
                 as_param_value_t *values, const char *assignment)
{
    size_t eq = 0;
    while (assignment[eq] && assignment[eq] != '=')
        eq++;
    if (!assignment[eq]) return AS_EINVAL;
    int idx = as_param_find(specs, n, assignment, eq);
    if (idx < 0) return AS_ENOTFOUND;
    const char *v = assignment + eq + 1;
    return as_param_parse_value(&specs[idx], v, cstrlen(v), &values[idx]);
}

static int put_u64(uint64_t v, char *buf, size_t cap)
{
    char tmp[24];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    if ((size_t)n + 1 > cap) return AS_EINVAL;
    for (int i = 0; i < n; i++)
        buf[i] = tmp[n - 1 - i];
    buf[n] = 0;
    return n;
}

/* Text building for as_param_explain: appends, always terminated, cut at
 * cap. */
typedef struct {
    char *p;
    size_t cap, len;
} text_t;

static void put_str(text_t *t, const char *s)
{
    for (; *s && t->len + 1 < t->cap; s++)
        t->p[t->len++] = *s;
    if (t->cap) t->p[t->len < t->cap ? t->len : t->cap - 1] = 0;
}

static void put_num(text_t *t, uint64_t v)
{
    char tmp[24];
    put_u64(v, tmp, sizeof tmp);
    put_str(t, tmp);
}

/* A bound as the user would write it: the largest unit it is a whole
 * number of (4096 bytes -> 4K, 10^9 ns -> 1s). */
static void put_bound(text_t *t, const as_param_spec_t *spec, double b)
{
    if (spec->type == AS_PARAM_DOUBLE) {
        char tmp[48];
        as_param_value_t v = {.d = b};
        if (as_param_format(spec, v, tmp, sizeof tmp) < 0) tmp[0] = 0;
        put_str(t, tmp);
        return;
    }
    uint64_t v = b <= 0                        ? 0
                 : b >= 18446744073709551615.0 ? UINT64_MAX
                                               : (uint64_t)b;
    const unit_t *units = spec->type == AS_PARAM_NS    ? time_units
                          : spec->type == AS_PARAM_U64 ? NULL
                                                       : byte_units;
    const unit_t *best = NULL;
    if (units && v)
        for (const unit_t *u = units; u->name; u++)
            if (u->name[0] && u->mul <= v && v % u->mul == 0 &&
                (!best || u->mul > best->mul) &&
                (units != byte_units || u->name[1] == 0))
                best = u;
    if (!best) {
        put_num(t, v);
        if (units == time_units && v) put_str(t, "ns");
        return;
    }
    put_num(t, v / best->mul);
    if (units == byte_units) {
        char up[2] = {(char)(best->name[0] - 32), 0}; /* 4K, not 4k */
        put_str(t, best->name[0] == 'b' ? "" : up);
    } else {
        put_str(t, best->name);
    }
}

static void put_choices(text_t *t, const char *c)
{
    for (size_t i = 0; c[i]; i++) {
        char one[2] = {c[i], 0};
        put_str(t, c[i] == '|' ? ", " : one);
    }
}

size_t as_param_range(const as_param_spec_t *spec, char *buf, size_t cap)
{
    text_t t = {buf, cap, 0};
    if (cap) buf[0] = 0;
    put_bound(&t, spec, spec->min);
    put_str(&t, "..");
    put_bound(&t, spec, spec->max);
    return t.len;
}

size_t as_param_explain(const as_param_spec_t *spec, char *buf, size_t cap)
{
    text_t t = {buf, cap, 0};
    if (cap) buf[0] = 0;
    switch (spec->type) {
    case AS_PARAM_BOOL:
        put_str(&t, "one of 1, 0, true, false, on, off, yes, no");
        return t.len;
    case AS_PARAM_ENUM:
        put_str(&t, "one of ");
        put_choices(&t, spec->choices ? spec->choices : "");
        return t.len;
    case AS_PARAM_U64:
        put_str(&t, "a whole number (K, M, G, T: x1000) from ");
        break;
    case AS_PARAM_BYTES:
        put_str(&t, "a size in bytes (K, M, G, T: x1024) from ");
        break;
    case AS_PARAM_POW2:
        put_str(&t, "a power of two in bytes (K, M, G, T: x1024) from ");
        break;
    case AS_PARAM_NS:
        put_str(&t, "a duration with a unit (ns, us, ms, s, min, h) from ");
        break;
    case AS_PARAM_DOUBLE:
        put_str(&t, "a number from ");
        break;
    }
    put_bound(&t, spec, spec->min);
    put_str(&t, " to ");
    put_bound(&t, spec, spec->max);
    return t.len;
}

int as_param_format(const as_param_spec_t *spec, as_param_value_t v, char *buf,
                    size_t cap)
{
    if (cap == 0) return AS_EINVAL;
    switch (spec->type) {
    case AS_PARAM_BOOL:
        return put_u64(v.u ? 1 : 0, buf, cap);
    case AS_PARAM_ENUM: {
        const char *c = spec->choices ? spec->choices : "";
        for (uint64_t i = 0; i < v.u && *c; i++) {
            while (*c && *c != '|')
                c++;
            if (*c == '|') c++;
        }
        size_t n = 0;
        while (c[n] && c[n] != '|')
            n++;
        if (n + 1 > cap) return AS_EINVAL;
        for (size_t i = 0; i < n; i++)
            buf[i] = c[i];
        buf[n] = 0;
        return (int)n;
    }
    case AS_PARAM_DOUBLE: {
        /* Fixed 9 significant decimals, enough to round-trip the tables. */
        double d = v.d;
        size_t p = 0;
        if (d < 0) {
            if (cap < 2) return AS_EINVAL;
            buf[p++] = '-';
            d = -d;
        }
        uint64_t ip = (uint64_t)d;
        int n = put_u64(ip, buf + p, cap - p);
        if (n < 0) return n;
        p += (size_t)n;
        double frac = d - (double)ip;
        uint64_t f = (uint64_t)(frac * 1e9 + 0.5);
        if (f >= 1000000000ull) f = 999999999ull;
        if (f) {
            char digits[10];
            for (int i = 8; i >= 0; i--) {
                digits[i] = (char)('0' + f % 10);
                f /= 10;
            }
            int last = 8;
            while (last > 0 && digits[last] == '0')
                last--;
            if (p + (size_t)last + 3 > cap) return AS_EINVAL;
            buf[p++] = '.';
            for (int i = 0; i <= last; i++)
                buf[p++] = digits[i];
            buf[p] = 0;
        }
        return (int)p;
    }
    default:
        return put_u64(v.u, buf, cap);
    }
}

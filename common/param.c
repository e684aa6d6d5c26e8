/* param.c - parse and print typed parameter values.
 *
 * Owns nothing but code: values live in arrays the caller provides. It must
 * never allocate or print, because the real allocator calls it from its
 * constructor (see malloc/). Number parsing is done by hand for that reason.
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

/* Parse a non-negative decimal or 0x-hex integer prefix; *end = chars used. */
static int parse_u64(const char *s, size_t len, uint64_t *out, size_t *end)
{
    size_t i = 0;
    uint64_t v = 0;
    if (len >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        i = 2;
        size_t start = i;
        for (; i < len; i++) {
            int c = lower(s[i]), d;
            if (is_digit((char)c))
                d = c - '0';
            else if (c >= 'a' && c <= 'f')
                d = c - 'a' + 10;
            else
                break;
            if (v >> 60) return AS_ERANGE;
            v = v * 16 + (uint64_t)d;
        }
        if (i == start) return AS_EINVAL;
    } else {
        if (len == 0 || !is_digit(s[0])) return AS_EINVAL;
        for (; i < len && is_digit(s[i]); i++) {
            uint64_t d = (uint64_t)(s[i] - '0');
            if (v > (UINT64_MAX - d) / 10) return AS_ERANGE;
            v = v * 10 + d;
        }
    }
    *out = v;
    *end = i;
    return AS_OK;
}

/* Parse a real number: [-]digits[.digits][e[-]digits]. */
static int parse_double(const char *s, size_t len, double *out, size_t *end)
{
    size_t i = 0;
    int neg = 0, any = 0;
    double v = 0;
    if (i < len && (s[i] == '-' || s[i] == '+')) neg = s[i++] == '-';
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

static int mul_check(uint64_t v, uint64_t m, uint64_t *out)
{
    if (m && v > UINT64_MAX / m) return AS_ERANGE;
    *out = v * m;
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
    case AS_PARAM_NS: {
        uint64_t v;
        if ((rc = parse_u64(s, len, &v, &end)) != AS_OK) return rc;
        const char *suf = s + end;
        size_t slen = len - end;
        uint64_t m = 1;
        if (spec->type == AS_PARAM_BYTES && slen) {
            if (str_ieq(suf, slen, "k") || str_ieq(suf, slen, "kib") ||
                str_ieq(suf, slen, "kb"))
                m = 1ull << 10;
            else if (str_ieq(suf, slen, "m") || str_ieq(suf, slen, "mib") ||
                     str_ieq(suf, slen, "mb"))
                m = 1ull << 20;
            else if (str_ieq(suf, slen, "g") || str_ieq(suf, slen, "gib") ||
                     str_ieq(suf, slen, "gb"))
                m = 1ull << 30;
            else if (str_ieq(suf, slen, "t") || str_ieq(suf, slen, "tib") ||
                     str_ieq(suf, slen, "tb"))
                m = 1ull << 40;
            else if (str_ieq(suf, slen, "b"))
                m = 1;
            else
                return AS_EINVAL;
        } else if (spec->type == AS_PARAM_NS && slen) {
            if (str_ieq(suf, slen, "ns"))
                m = 1;
            else if (str_ieq(suf, slen, "us"))
                m = 1000ull;
            else if (str_ieq(suf, slen, "ms"))
                m = 1000000ull;
            else if (str_ieq(suf, slen, "s"))
                m = 1000000000ull;
            else if (str_ieq(suf, slen, "min"))
                m = 60000000000ull;
            else
                return AS_EINVAL;
        } else if (slen) {
            return AS_EINVAL;
        }
        if ((rc = mul_check(v, m, &v)) != AS_OK) return rc;
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

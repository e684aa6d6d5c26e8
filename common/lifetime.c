/* lifetime.c - the default lifetime classes and their parser.
 *
 * Owns nothing: pure functions over as_classes_t. Like everything in
 * common/, it never allocates and never prints.
 */
#include "common/lifetime.h"

#include "common/error.h"
#include "common/param.h"

void as_classes_default(as_classes_t *c)
{
    static const uint64_t ms = 1000000ull;
    const uint64_t b[] = {10 * ms,    100 * ms,    1000 * ms,
                          10000 * ms, 100000 * ms, 1000000 * ms};
    c->n = 7;
    for (uint32_t i = 0; i < 6; i++)
        c->bound_ns[i] = b[i];
    c->bound_ns[6] = AS_LIFETIME_INF;
}

int as_classes_parse(as_classes_t *c, const char *text)
{
    static const as_param_spec_t dur = {"class", AS_PARAM_NS, "0", 1,
                                        1e19,    NULL,        ""};
    as_classes_t out = {0};
    const char *p = text;
    while (*p) {
        size_t n = 0;
        while (p[n] && p[n] != ',')
            n++;
        as_param_value_t v;
        int rc = as_param_parse_value(&dur, p, n, &v);
        if (rc) return rc;
        if (out.n + 1 >= AS_MAX_CLASSES) return AS_ERANGE;
        if (out.n && v.u <= out.bound_ns[out.n - 1]) return AS_EINVAL;
        out.bound_ns[out.n++] = v.u;
        p += n;
        if (*p == ',') p++;
    }
    if (out.n == 0) return AS_EINVAL;
    out.bound_ns[out.n++] = AS_LIFETIME_INF;
    *c = out;
    return AS_OK;
}

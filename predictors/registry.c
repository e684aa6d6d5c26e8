/* registry.c - the one table of lifetime predictors, by name.
 *
 * Adding a predictor: declare its ops in its own header and add one line to
 * as_predictors[] below; the command line and the conformance suite read it.
 */
#include "predictors/predictor.h"

#include <string.h>

#include "common/util.h"

#include "predictors/basic.h"
#include "predictors/adversarial.h"
#include "predictors/cached/cached.h"
#include "predictors/lstm/lstm.h"
#include "predictors/site/site.h"
#include "predictors/sitetab/sitetab.h"

static const as_predictor_ops_t *const as_predictors[] = {
    &as_predictor_none,
    &as_predictor_oracle,
    &as_predictor_adversarial,
    &as_predictor_site,
    &as_predictor_cached,
    &as_predictor_lstm,
    &as_predictor_sitetab,
    NULL /* keep last */
};

#define AS_N_PREDICTORS (sizeof as_predictors / sizeof as_predictors[0] - 1)

const as_predictor_ops_t *as_predictor_find(const char *name)
{
    for (size_t i = 0; i < AS_N_PREDICTORS; i++)
        if (as_str_eq(as_predictors[i]->name, name)) return as_predictors[i];
    return NULL;
}

size_t as_predictor_count(void)
{
    return AS_N_PREDICTORS;
}

const as_predictor_ops_t *as_predictor_at(size_t i)
{
    return i < AS_N_PREDICTORS ? as_predictors[i] : NULL;
}

static int unknown(const char *bad, as_msg_t *why)
{
    as_msg_str(why, "unknown predictor '");
    as_msg_str(why, bad);
    as_msg_str(why, "'; valid:");
    for (size_t i = 0; i < AS_N_PREDICTORS; i++) {
        as_msg_str(why, " ");
        as_msg_str(why, as_predictors[i]->name);
    }
    return AS_ENOTFOUND;
}

int as_predictor_resolve(const char *spec, const char *inner_name,
                         const as_predictor_ops_t **ops,
                         const as_predictor_ops_t **inner, as_msg_t *why)
{
    char pname[64], iname[64];
    *ops = *inner = NULL;
    const char *colon = spec;
    while (*colon && *colon != ':')
        colon++;
    if (!*colon) colon = NULL;
    size_t plen = colon ? (size_t)(colon - spec) : strlen(spec);
    const char *in = colon ? colon + 1 : (inner_name ? inner_name : "");
    size_t ilen = strlen(in);
    if (plen >= sizeof pname || ilen >= sizeof iname) {
        as_msg_str(why, "predictor name longer than 63 bytes");
        return AS_EINVAL;
    }
    memcpy(pname, spec, plen);
    pname[plen] = 0;
    memcpy(iname, in, ilen + 1);
    const as_predictor_ops_t *p = as_predictor_find(pname);
    if (!p) return unknown(pname, why);
    if (!p->wraps) {
        if (iname[0]) {
            as_msg_str(why, "predictor '");
            as_msg_str(why, pname);
            as_msg_str(why, "' does not wrap another predictor");
            return AS_EINVAL;
        }
        *ops = p;
        return AS_OK;
    }
    const as_predictor_ops_t *i = as_predictor_find(iname[0] ? iname : "none");
    if (!i || i->wraps) return unknown(iname, why);
    *ops = p;
    *inner = i;
    return AS_OK;
}

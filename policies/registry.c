/* registry.c - the one table of placement policies, by name.
 *
 * Adding a policy: declare its ops in its own header and add one line to
 * as_policies[] below. Nothing else in the tree lists policies: the command
 * line, --help, `allocsim demo` and the conformance suite all read this table.
 */
#include "policies/policy.h"
#include "common/util.h"
#include "policies/bestfit/bestfit.h"
#include "policies/glibc/glibc.h"
#include "policies/hoard/hoard.h"
#include "policies/llama/llama.h"
#include "policies/heaps/private_heaps.h"
#include "policies/heaps/ownership_heaps.h"
#include "policies/tcmalloc/tcmalloc.h"

static const as_policy_ops_t *const as_policies[] = {
    &as_policy_bestfit,
    &as_policy_hoard,
    &as_policy_llama,
    &as_policy_private_heaps,
    &as_policy_ownership_heaps,
    &as_policy_tcmalloc,
    &as_policy_glibc,
    NULL /* keep last */
};

#define AS_N_POLICIES (sizeof as_policies / sizeof as_policies[0] - 1)

const as_policy_ops_t *as_policy_find(const char *name)
{
    for (size_t i = 0; i < AS_N_POLICIES; i++)
        if (as_str_eq(as_policies[i]->name, name)) return as_policies[i];
    return NULL;
}

size_t as_policy_count(void)
{
    return AS_N_POLICIES;
}

const as_policy_ops_t *as_policy_at(size_t i)
{
    return i < AS_N_POLICIES ? as_policies[i] : NULL;
}

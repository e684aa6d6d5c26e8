/* tcmalloc.h - the TCMalloc-like policy ("tcmalloc"): per-CPU caches over a
 * hugepage-aware page heap (Temeraire). See docs/policies/tcmalloc.md. */
#ifndef AS_POLICIES_TCMALLOC_TCMALLOC_H
#define AS_POLICIES_TCMALLOC_TCMALLOC_H

#include "policies/policy.h"

extern const as_policy_ops_t as_policy_tcmalloc;

#endif /* AS_POLICIES_TCMALLOC_TCMALLOC_H */

/* lifetime.h - lifetime classes, shared by predictors, policies and the engine.
 *
 * A lifetime class is an index 0..n-1 into ascending upper bounds; the last
 * class is unbounded. A predictor answers a class (or AS_CLASS_NONE: no
 * prediction), the engine passes it to the policy in as_ctx_t, and the engine
 * scores it against the class of the object's true lifetime.
 *
 * Invariant of as_classes_t: 1 <= n <= AS_MAX_CLASSES,
 * bound_ns[0] < bound_ns[1] < ... < bound_ns[n-1] == AS_LIFETIME_INF.
 */
#ifndef AS_COMMON_LIFETIME_H
#define AS_COMMON_LIFETIME_H

#include <stdint.h>

#define AS_MAX_CLASSES 16
#define AS_LIFETIME_INF UINT64_MAX /* lifetime of an object never freed */
#define AS_CLASS_NONE (-1)         /* no prediction: the policy decides */
#define AS_CLASS_UNKNOWN (-1)      /* true class not supplied (non-oracle) */

typedef struct {
    uint32_t n;                        /* 1..AS_MAX_CLASSES */
    uint64_t bound_ns[AS_MAX_CLASSES]; /* class i holds lifetimes <=
                                          bound_ns[i]; bound_ns[n-1] is
                                          AS_LIFETIME_INF */
} as_classes_t;

/* as_classes_default: LLAMA's bounds, 10 ms, 100 ms, 1 s, 10 s, 100 s,
 * 1000 s, then unbounded (7 classes). */
void as_classes_default(as_classes_t *c);

/* as_classes_parse: "10ms,100ms,1s" (ascending durations with units; an
 * unbounded class is appended). On error *c is unchanged.
 * @return 0, AS_EINVAL (syntax, not ascending, empty), AS_ERANGE (too many). */
int as_classes_parse(as_classes_t *c, const char *text);

/* as_classes_of: @return the class of a lifetime. */
static inline uint32_t as_classes_of(const as_classes_t *c, uint64_t life_ns)
{
    uint32_t i = 0;
    while (i + 1 < c->n && life_ns > c->bound_ns[i])
        i++;
    return i;
}

#endif /* AS_COMMON_LIFETIME_H */

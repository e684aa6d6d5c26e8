/* assert.h - tiered assertions for code that may run inside malloc.
 *
 * Three tiers, in the style of mimalloc's mi_assert / mi_assert_internal /
 * mi_assert_expensive, switched by one compile definition, AS_DEBUG:
 *
 *   tier        macro                  on when      cost
 *   cheap       AS_ASSERT(c)           always       O(1), on no hot path
 *   internal    AS_ASSERT_INTERNAL(c)  AS_DEBUG>=1  O(1) or O(small), any path
 *   expensive   AS_ASSERT_EXPENSIVE(c) AS_DEBUG>=2  whole structures (walks a
 *                                                   list, recounts a bitmap)
 *
 * The build sets AS_DEBUG from the CMake cache variable ALLOCSIM_DEBUG:
 * 0 for the release build, 2 for the sanitizer build that `make test` runs
 * (so the expensive tier runs in tests). A disabled tier compiles its
 * condition away but still type-checks it (inside sizeof), so an assertion
 * cannot rot in the build that does not run it.
 *
 * Whole-heap invariants are not assertions: they are each policy's `check`
 * hook (policies/policy.h), which returns AS_ECHECK instead of stopping, and
 * which the checking layer calls every N operations.
 *
 * A failed assertion calls as_assert_fail(). Policies, predictors and
 * common/ may not call libc's printf or abort (tests/check_policy_libc_refs.sh),
 * so the default action is __builtin_trap(): the process stops with SIGILL
 * and a debugger or the sanitizer shows the frame. A program (the simulator's
 * tests) may install a handler with as_assert_set_handler(); the handler gets
 * the expression text, file and line, and if it returns the failing code
 * continues (tests use this to observe a firing assertion).
 */
#ifndef AS_COMMON_ASSERT_H
#define AS_COMMON_ASSERT_H

#ifndef AS_DEBUG
#define AS_DEBUG 0
#endif

/* A handler for failed assertions: expression text, file, line. */
typedef void (*as_assert_handler_fn)(const char *expr, const char *file,
                                     int line);

/* as_assert_set_handler: install fn (NULL restores the default trap).
 * Process-wide; meant for a program's start-up or a test, not for policies.
 * @return the previous handler (NULL when it was the default). */
as_assert_handler_fn as_assert_set_handler(as_assert_handler_fn fn);

/* as_assert_fail: report a failed assertion: the handler if one is set,
 * else __builtin_trap(). Called by the macros below. */
void as_assert_fail(const char *expr, const char *file, int line);

#define AS_ASSERT(c) ((c) ? (void)0 : as_assert_fail(#c, __FILE__, __LINE__))

#define AS_ASSERT_OFF_(c) ((void)sizeof((c) ? 1 : 0))

#if AS_DEBUG >= 1
#define AS_ASSERT_INTERNAL(c) AS_ASSERT(c)
#else
#define AS_ASSERT_INTERNAL(c) AS_ASSERT_OFF_(c)
#endif

#if AS_DEBUG >= 2
#define AS_ASSERT_EXPENSIVE(c) AS_ASSERT(c)
#else
#define AS_ASSERT_EXPENSIVE(c) AS_ASSERT_OFF_(c)
#endif

#endif /* AS_COMMON_ASSERT_H */

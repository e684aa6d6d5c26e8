/* stackwalk.h - the return addresses of an allocating call, walked the
 * way `allocsim record` walks them, for code loaded into a program (the
 * recorder, traces/record/record.c, and the real allocator's predictor,
 * malloc/predict.c): a model trained on a recorded trace then reads the
 * same frames in the real allocator.
 *
 * Modes (ALLOCSIM_RECORD_UNWIND):
 *   AS_UNWIND_FP         follow the frame-pointer chain; every frame
 *                        pointer must lie above the last and inside the
 *                        thread's stack, every return address in a loaded
 *                        module's text
 *   AS_UNWIND_LIBUNWIND  libunwind's table-driven unw_backtrace
 *   AS_UNWIND_AUTO       per call site (return address into the caller),
 *                        calibrated once: both walks run, and the site
 *                        keeps frame pointers when they agree with
 *                        libunwind on the caller's caller, else libunwind
 * Without libunwind at build time (AS_HAVE_LIBUNWIND unset) every mode
 * walks frame pointers.
 *
 * The caller's frame `fp` must be a frame with a frame pointer (built
 * with -fno-omit-frame-pointer), whose return address is `ra`, the
 * innermost pc. Thread-safe; no libc allocation (libunwind's own may
 * reach malloc: the caller must tolerate that).
 */
#ifndef AS_COMMON_STACKWALK_H
#define AS_COMMON_STACKWALK_H

#include <stdint.h>

#define AS_STACKWALK_MAX_DEPTH 128u

enum { AS_UNWIND_AUTO = 0, AS_UNWIND_FP = 1, AS_UNWIND_LIBUNWIND = 2 };

/* as_stackwalk_init: the site table and the module ranges (call once,
 * before the first walk; a walk without them checks nothing and walks
 * frame pointers only as far as the stack bounds allow). @return 0, or -1
 * when mmap failed. */
int as_stackwalk_init(void);

/* as_stackwalk_stale: the set of loaded modules changed (dlopen): the
 * ranges are rebuilt before the next walk. */
void as_stackwalk_stale(void);

/* as_stackwalk_postfork_child: in a forked child, the ranges' rebuild lock
 * (which another thread of the parent may have held) is free again. */
void as_stackwalk_postfork_child(void);

/* as_stackwalk: up to max (<= AS_STACKWALK_MAX_DEPTH) return addresses
 * into pcs, innermost (ra) first, by mode `how`; the thread's stack is
 * [stack_lo, stack_hi) (0, 0: unknown, then frame pointers are not
 * followed). @return the frames stored, >= 1 when max >= 1. */
uint32_t as_stackwalk(int how, uintptr_t stack_lo, uintptr_t stack_hi,
                      uintptr_t *fp, uintptr_t ra, uint64_t *pcs, uint32_t max);

#endif /* AS_COMMON_STACKWALK_H */

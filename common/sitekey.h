/* sitekey.h - the key of an allocation site that carries over from a
 * recorded trace to a new process of the same program: one function, used
 * by the simulator (the `sitetab` predictor on a trace, `allocsim train
 * --predictor sitetab`) and by the real allocator (the same predictor
 * behind ALLOCSIM_PREDICTOR), so that both find the same site for the
 * same call.
 *
 * A frame is named by its module's file name (the path's last component:
 * the main program is argv[0], which may be spelled differently from one
 * run to the next) and its return address's offset from the module's base
 * (common/symix.h's dli_fbase, which the recorder writes into each frame
 * as `offset`). Both survive ASLR and a different working directory; they
 * do not survive a rebuild of the module. A frame whose module is unknown
 * ("" or "-", e.g. every frame of the bundled v1 traces) is named by its
 * absolute pc instead, tagged so that it never meets a module's name:
 * such a key matches only within the trace it came from.
 *
 * The site is the innermost `frames` frames (the caller of malloc first);
 * a shallower stack is hashed with its own depth, so a stack of 2 frames
 * is never the prefix of a deeper one's key. No libc, no allocation.
 */
#ifndef AS_COMMON_SITEKEY_H
#define AS_COMMON_SITEKEY_H

#include <stdint.h>

#define AS_SITEKEY_MAX_FRAMES 32 /* the recorder's default depth */

/* as_sitekey_frame: the name of one frame as a 64-bit hash: module's file
 * name and offset, or pc when module is NULL, "" or "-". */
uint64_t as_sitekey_frame(const char *module, uint64_t offset, uint64_t pc);

/* as_sitekey_fold: the key of the site whose innermost frames have the
 * names frame_keys[0..min(depth, frames)) (as_sitekey_frame's values,
 * innermost first; NULL only when depth is 0): what as_sitekey computes,
 * for a caller that keeps each frame's name (the real allocator, per pc).
 * frames is clamped as below. @return the key, never 0. */
uint64_t as_sitekey_fold(const uint64_t *frame_keys, uint32_t depth,
                         uint32_t frames);

/* as_sitekey: the key of the site whose innermost min(depth, frames)
 * frames are modules[i], offsets[i], pcs[i] (i = 0 innermost; modules or
 * offsets NULL: all unknown, then pcs is used; pcs NULL: 0). frames is
 * clamped to 1..AS_SITEKEY_MAX_FRAMES. @return the key, never 0 (0 marks
 * no site). */
uint64_t as_sitekey(const char *const *modules, const uint64_t *offsets,
                    const uint64_t *pcs, uint32_t depth, uint32_t frames);

#endif /* AS_COMMON_SITEKEY_H */

/* sitekey.c - an allocation site's key from its frames' module names and
 * offsets (see sitekey.h).
 *
 * A frame's name is FNV-1a over the module's file name, then the offset
 * mixed in with the splitmix finalizer (common/util.h); a frame without a
 * module is the pc mixed with a tag no FNV-1a state is likely to equal.
 * The stack's key folds the frames' names in order, innermost first,
 * starting from a seed that includes the number of frames folded. Both
 * sides of the key (a trace's frames, a live stack) go through these two
 * functions only; changing either changes every table's keys, so the
 * table format's version (predictors/sitetab/sitetab.h) must move with
 * them.
 */
#include "common/sitekey.h"

#include <stddef.h>

#include "common/util.h"

#define FNV_OFFSET 0xcbf29ce484222325ull
#define FNV_PRIME 0x100000001b3ull
#define PC_TAG 0x70636f6e6c792121ull /* "pconly!!" */

uint64_t as_sitekey_frame(const char *module, uint64_t offset, uint64_t pc)
{
    if (!module || !module[0] || (module[0] == '-' && !module[1]))
        return as_hash64(pc ^ PC_TAG) ^ PC_TAG;
    const char *base = module;
    for (const char *p = module; *p; p++)
        if (*p == '/') base = p + 1;
    uint64_t h = FNV_OFFSET;
    for (const unsigned char *p = (const unsigned char *)base; *p; p++) {
        h ^= *p;
        h *= FNV_PRIME;
    }
    return as_hash64(h ^ as_hash64(offset + 1));
}

/* The number of frames a key folds. */
static uint32_t kept(uint32_t depth, uint32_t frames)
{
    if (frames < 1) frames = 1;
    if (frames > AS_SITEKEY_MAX_FRAMES) frames = AS_SITEKEY_MAX_FRAMES;
    return depth < frames ? depth : frames;
}

static uint64_t fold_start(uint32_t n)
{
    return as_hash64(0x517e7ab1e0000000ull + n);
}

static uint64_t fold_one(uint64_t h, uint64_t frame_key)
{
    return as_hash64(h ^ frame_key) + 0x9e3779b97f4a7c15ull;
}

uint64_t as_sitekey_fold(const uint64_t *frame_keys, uint32_t depth,
                         uint32_t frames)
{
    uint32_t n = kept(depth, frames);
    uint64_t h = fold_start(n);
    for (uint32_t i = 0; i < n; i++)
        h = fold_one(h, frame_keys[i]);
    return h ? h : 1;
}

uint64_t as_sitekey(const char *const *modules, const uint64_t *offsets,
                    const uint64_t *pcs, uint32_t depth, uint32_t frames)
{
    uint32_t n = kept(depth, frames);
    uint64_t h = fold_start(n);
    for (uint32_t i = 0; i < n; i++) {
        const char *m = modules && offsets ? modules[i] : NULL;
        h = fold_one(
            h, as_sitekey_frame(m, offsets ? offsets[i] : 0, pcs ? pcs[i] : 0));
    }
    return h ? h : 1;
}

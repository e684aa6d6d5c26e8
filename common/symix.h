/* symix.h - what dladdr says about a code address, from an index of the
 * loaded objects' dynamic symbols built without libc's allocator.
 *
 * dladdr scans every dynamic symbol of an object per lookup and takes the
 * dynamic loader's lock (the one dlopen holds while it runs constructors
 * and allocates). The index is built once per object, on its first lookup,
 * from dl_iterate_phdr (which takes only the loader's short write lock)
 * into mmap'd memory, and answers what dladdr would (the rule is in
 * symix.c). The recorder names its SYM records with it; the real allocator
 * names the frames its lstm predictor reads with it.
 *
 * Not thread-safe: the caller serialises every lookup with one lock of
 * its own. No libc allocation, no stdio.
 */
#ifndef AS_COMMON_SYMIX_H
#define AS_COMMON_SYMIX_H

#include <dlfcn.h>
#include <stdint.h>

/* as_symix_lookup: dladdr's answer for addr into *di (dli_fname: the
 * object's path, the program's argv[0] for the main program; dli_fbase;
 * dli_sname and dli_saddr, NULL when no dynamic symbol contains addr).
 * *indexed is 0 when the object could not be indexed (more than 512
 * objects, or no symbol tables): then only the file is known, and a
 * caller that may take the loader's lock (the recorder's symbolizer, not
 * the real allocator) can ask dladdr itself. @return nonzero when addr
 * lies in a loaded object. */
int as_symix_lookup(uintptr_t addr, Dl_info *di, int *indexed);

#endif /* AS_COMMON_SYMIX_H */

/* touch.c - the "touch everything" control of bench/fidelity
 * (libfidelity_touch.so, an LD_PRELOAD interposer).
 *
 * The simulator assumes that a program writes every byte it asks for when it
 * gets the block (the engine touches [addr, addr + size) of every allocation
 * and of a realloc's new block). Real programs often do not: a compiler's
 * obstack chunk or a vector's reserve is filled bit by bit, a hash table's
 * spare capacity stays untouched, and the kernel never makes those pages
 * resident. This library, preloaded between the recorder and the allocator
 * under test, makes the real program do what the simulator assumes: after
 * malloc and realloc return a block of n bytes it reads and writes back one
 * byte of every page of [p, p + n) (the contents do not change), so the
 * pages become resident as the simulator's touch makes them. calloc is left
 * alone: liballocsim_malloc.so already clears the whole block. Comparing a
 * run with and without it separates the model's error (what remains with
 * it) from the program's untouched bytes (the difference it makes).
 *
 * The real functions come from dlsym(RTLD_NEXT): with
 * LD_PRELOAD=liballocsim_record.so:libfidelity_touch.so:liballocsim_malloc.so
 * the recorder calls this library and this library calls allocsim's. A
 * benchmark tool, not part of the allocator: it allocates nothing itself.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stddef.h>

static void *(*real_malloc)(size_t);
static void *(*real_realloc)(void *, size_t);

/* Fault in every page of [p, p + n) without changing a byte. */
static void touch(void *p, size_t n)
{
    volatile char *c = p;
    for (size_t i = 0; i < n; i += 4096)
        c[i] = c[i];
    if (n) c[n - 1] = c[n - 1];
}

/* malloc: the next malloc in the lookup order, then every page touched.
 * @return its block, or NULL with its errno. */
void *malloc(size_t n)
{
    if (!real_malloc)
        real_malloc = (void *(*)(size_t))dlsym(RTLD_NEXT, "malloc");
    void *p = real_malloc(n);
    if (p) touch(p, n);
    return p;
}

/* realloc: the next realloc, then every page of the new block touched.
 * @return its block, or NULL with its errno. */
void *realloc(void *old, size_t n)
{
    if (!real_realloc)
        real_realloc = (void *(*)(void *, size_t))dlsym(RTLD_NEXT, "realloc");
    void *p = real_realloc(old, n);
    if (p) touch(p, n);
    return p;
}

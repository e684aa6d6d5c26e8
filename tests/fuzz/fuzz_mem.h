/* fuzz_mem.h - the metadata memory the predictor fuzz targets hand to what
 * they load: host memory that counts the bytes held, so a target can check
 * that a refused or destroyed model gave every byte back. */
#ifndef AS_TESTS_FUZZ_MEM_H
#define AS_TESTS_FUZZ_MEM_H

#include <stddef.h>
#include <stdlib.h>

#include "common/mem.h"

static long as_fuzz_held; /* bytes taken and not yet given back */

static void *as_fuzz_alloc(void *st, size_t n)
{
    (void)st;
    as_fuzz_held += (long)n;
    return calloc(1, n);
}

static void as_fuzz_free(void *st, void *p, size_t n)
{
    (void)st;
    as_fuzz_held -= (long)n;
    free(p);
}

static const as_mem_t as_fuzz_mem = {as_fuzz_alloc, as_fuzz_free, NULL};

#endif /* AS_TESTS_FUZZ_MEM_H */

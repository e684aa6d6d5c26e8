/* import.c - the one table of import formats. Add a format with one line
 * here (and its declaration in import.h). */
#include "traces/import/import.h"

#include <string.h>

/* One line per format. */
/* clang-format off */
const as_import_format_t as_import_formats[] = {
    {"text", "allocsim's text form (what `allocsim cat` prints)", as_import_text},
    /* AS_IMPORT_FORMATS: one line per format */
    {"heaptrack", "heaptrack file, raw or interpreted, zstd/gzip/plain", as_import_heaptrack},
    {"mtrace", "glibc mtrace() text (MALLOC_TRACE)", as_import_mtrace},
    {NULL, NULL, NULL},
};
/* clang-format on */

const as_import_format_t *as_import_find(const char *name)
{
    for (const as_import_format_t *f = as_import_formats; f->name; f++)
        if (strcmp(f->name, name) == 0) return f;
    return NULL;
}

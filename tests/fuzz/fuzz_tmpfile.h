/* fuzz_tmpfile.h - the one helper the file-reading fuzz targets share:
 * write the input to a per-process file under /tmp, since the importers
 * read paths, not memory. */
#ifndef AS_TESTS_FUZZ_TMPFILE_H
#define AS_TESTS_FUZZ_TMPFILE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

/* as_fuzz_tmpfile: write data[0..size) to "/tmp/allocsim-fuzz-TAG-PID" in
 * path (cap bytes). @return 0, or -1 when the file cannot be written. */
static inline int as_fuzz_tmpfile(char *path, size_t cap, const char *tag,
                                  const uint8_t *data, size_t size)
{
    snprintf(path, cap, "/tmp/allocsim-fuzz-%s-%ld", tag, (long)getpid());
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    size_t n = fwrite(data, 1, size, f);
    return fclose(f) == 0 && n == size ? 0 : -1;
}

#endif /* AS_TESTS_FUZZ_TMPFILE_H */

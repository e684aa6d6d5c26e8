/* fuzz_import.c - libFuzzer target: any byte string, written to a file and
 * imported as heaptrack (first byte even; bit 1 picks LIFO matching) or
 * mtrace (first byte odd), must give a trace or an error naming the file,
 * never a crash, a hang, an out-of-bounds access or a leak. Compressed
 * inputs (zstd magic) run through the zstd path; the trace goes to
 * /dev/null. */
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "tests/fuzz/fuzz_tmpfile.h"
#include "traces/import/import.h"
#include "traces/trace.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    uint8_t sel = data[0];
    data++, size--;
    /* gzip input would run gzip(1) per input: too slow for fuzzing */
    if (size >= 2 && data[0] == 0x1f && data[1] == 0x8b) return 0;
    char path[64];
    if (as_fuzz_tmpfile(path, sizeof path, "import", data, size)) return 0;
    int fd = open("/dev/null", O_WRONLY);
    as_trace_writer_t *w;
    if (fd < 0 || as_trace_writer_open_fd(&w, fd, NULL) != 0) {
        if (fd >= 0) close(fd);
        unlink(path);
        return 0;
    }
    as_import_opts_t o;
    memset(&o, 0, sizeof o);
    o.match_lifo = (sel >> 1) & 1;
    char err[512] = "";
    const as_import_format_t *fmt =
        as_import_find((sel & 1) ? "mtrace" : "heaptrack");
    int rc = fmt->run(path, w, &o, err, sizeof err);
    if (rc == 0)
        as_trace_writer_close(w);
    else
        as_trace_writer_abort(w);
    close(fd);
    unlink(path);
    return 0;
}

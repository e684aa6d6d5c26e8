/* fuzz_recstream.c - libFuzzer target: any byte string, fed to the
 * recorder's collector (traces/import/recstream.c) as the stream from a
 * recorded program, in pieces whose size the first byte picks, must give a
 * trace or a clean error: never a crash, a hang, an out-of-bounds access, a
 * leak or a huge allocation. The trace goes to /dev/null. */
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "traces/import/recstream.h"
#include "traces/trace.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    size_t step = (size_t)data[0] * 7 + 1;
    data++, size--;
    int fd = open("/dev/null", O_WRONLY);
    if (fd < 0) return 0;
    as_trace_writer_t *w;
    if (as_trace_writer_open_fd(&w, fd, NULL) != 0) {
        close(fd);
        return 0;
    }
    as_recstream_t *s;
    if (as_recstream_open(&s, w) != 0) {
        as_trace_writer_abort(w);
        close(fd);
        return 0;
    }
    int rc = 0;
    for (size_t off = 0; off < size && rc == 0; off += step)
        rc = as_recstream_feed(s, data + off,
                               size - off < step ? size - off : step);
    if (rc == 0) rc = as_recstream_finish(s, NULL);
    (void)strlen(as_recstream_error(s));
    as_recstream_free(s);
    if (rc == 0)
        as_trace_writer_close(w);
    else
        as_trace_writer_abort(w);
    close(fd);
    return 0;
}

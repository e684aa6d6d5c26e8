/* fuzz_trace_reader.c - libFuzzer target: any byte string, opened as a
 * trace, must give events or a clean error, never a crash, a hang, an
 * out-of-bounds access or a leak. It reads the whole trace twice (batch,
 * then record by record after a rewind), touches every definition, reads
 * it a third time a span at a time (as `cat` does), and decodes each of
 * its first chunks detached by a second reader (as the oracle's parallel
 * pre-pass does), so the reader's hot path, its definitions, its scanning
 * mode and its chunk seeking all run. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "traces/trace.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    as_trace_reader_t *r;
    if (as_trace_reader_open_mem(&r, "fuzz", data, size) != 0) {
        (void)strlen(as_trace_reader_error(r));
        as_trace_reader_close(r);
        return 0;
    }
    as_event_t evs[64];
    uint64_t sum = 0;
    long n;
    while ((n = as_trace_reader_next_batch(r, evs, 64)) > 0) {
        for (long i = 0; i < n; i++)
            sum += evs[i].size ^ evs[i].object;
        size_t nw;
        const as_write_t *w = as_trace_reader_writes(r, &nw);
        for (size_t i = 0; i < nw; i++)
            sum += w[i].object + w[i].offset + w[i].bytes + w[i].events_before;
        as_trace_reader_drop_writes(r, nw);
    }
    (void)strlen(as_trace_reader_error(r));
    for (uint32_t id = 0; id <= as_trace_reader_max_stack(r) && id < 1000;
         id++) {
        const uint32_t *fr;
        uint32_t depth;
        if (as_trace_reader_stack(r, id, &fr, &depth) == 0)
            for (uint32_t k = 0; k < depth; k++)
                sum += fr[k];
    }
    for (uint32_t id = 0; id <= as_trace_reader_max_frame(r) && id < 1000;
         id++) {
        as_frame_t f;
        if (as_trace_reader_frame(r, id, &f) == 0)
            sum += strlen(f.module) + strlen(f.symbol);
    }
    const char *k, *v;
    for (size_t i = 0; as_trace_reader_meta_at(r, i, &k, &v) == 0; i++)
        sum += strlen(k) + strlen(v);
    if (as_trace_reader_rewind(r) == 0) {
        as_trace_record_t rec;
        while (as_trace_reader_next_record(r, &rec) == 1)
            sum += rec.kind;
    }
    if (as_trace_reader_rewind(r) == 0) {
        int def;
        while ((n = as_trace_reader_next_span(r, evs, 64, &def)) > 0 || def) {
            for (long i = 0; i < n; i++)
                sum += evs[i].t_ns;
            if (def) {
                as_trace_record_t rec;
                as_trace_reader_last_def(r, &rec);
                sum += rec.kind + rec.id;
            }
        }
    }
    (void)as_trace_reader_truncated(r);
    as_trace_reader_t *c;
    if (as_trace_reader_clone(r, &c) == 0)
        for (size_t ch = 0; ch < as_trace_reader_chunk_count(c) && ch < 64;
             ch++) {
            if (as_trace_reader_seek_chunk(c, ch, 1) != 0) break;
            while ((n = as_trace_reader_next_batch(c, evs, 64)) > 0)
                sum += evs[0].stack;
            const as_trace_detached_t *d = as_trace_reader_detached(c);
            sum += d->stack_need + (uint64_t)d->stack_excess + d->samples +
                   d->writes + d->first_write_t;
            size_t ns;
            as_trace_reader_samples(c, &ns);
            as_trace_reader_drop_samples(c, ns);
            as_trace_reader_writes(c, &ns);
            as_trace_reader_drop_writes(c, ns);
            if (n < 0) break;
        }
    as_trace_reader_close(c);
    as_trace_reader_close(r);
    return (int)(sum & 0);
}

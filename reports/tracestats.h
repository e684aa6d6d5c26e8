/* tracestats.h - what a trace asks of an allocator, independent of any
 * policy: the distribution of requested sizes and the distribution of
 * object lifetimes (free time − allocation time), and their figures (a
 * size histogram and a lifetime CDF, by allocations and by bytes).
 *
 * Size bucket k holds requests of [2^k, 2^(k+1)) bytes (sizes 0 and 1 are
 * in bucket 0). Lifetime bin k holds lifetimes of [10^(k/10), 10^((k+1)/10))
 * ns (lifetime 0 is in bin 0); the last bin holds everything from 10^13 ns
 * (about 2.8 hours) up. Objects never freed have no lifetime and are counted
 * apart, so a CDF ends at the share of objects that died.
 */
#ifndef AS_REPORTS_TRACESTATS_H
#define AS_REPORTS_TRACESTATS_H

#include <stddef.h>
#include <stdint.h>

#include "reports/plot.h"

enum { AS_TS_SIZE_BUCKETS = 64, AS_TS_LIFE_BINS = 131 };

typedef struct {
    char trace_name[256];
    uint64_t allocs, bytes; /* every allocation (realloc's new object too) */
    uint64_t size_allocs[AS_TS_SIZE_BUCKETS], size_bytes[AS_TS_SIZE_BUCKETS];
    uint64_t life_allocs[AS_TS_LIFE_BINS], life_bytes[AS_TS_LIFE_BINS];
    uint64_t never_allocs, never_bytes; /* still live at the end */
    uint64_t unknown_frees;             /* frees of ids not live (ignored) */
} as_tracestats_t;

/* as_tracestats_compute: read the trace at `path` once.
 * @return 0, or the reader's error (AS_EIO, AS_EFORMAT, ...; message naming
 * the file and offset in err), AS_ENOMEM. */
int as_tracestats_compute(const char *path, as_tracestats_t *s, char *err,
                          size_t errcap);

/* as_tracestats_lifetime_bin: the bin of a lifetime in ns. */
size_t as_tracestats_lifetime_bin(uint64_t ns);

/* as_plot_trace: the lifetime CDF and the size histogram of one trace.
 * @return 0, AS_EIO (a file or gnuplot; err), AS_ENOMEM. */
int as_plot_trace(as_plotset_t *ps, const as_tracestats_t *s, char *err,
                  size_t errcap);

#endif /* AS_REPORTS_TRACESTATS_H */

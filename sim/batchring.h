/* batchring.h - decoded batches of a trace, handed from the decoding side
 * to the simulations: on the caller's thread (one thread) or through a
 * bounded ring filled by a decode thread (two or more).
 *
 * Type map
 *   as_batch_t      one decoded batch: events, the real-memory samples met
 *                   while decoding them, the stack copies they may name
 *   as_batchring_t  the ring and its decode thread (opaque)
 *
 * Every batch is made the same way whatever the threads: the reader is
 * called for AS_BATCH_READ events at a time and after each call the
 * stacks its events name are copied (stackdefs.h; unless the consumers
 * asked for none, AS_BATCHRING_NO_STACKS), the samples and the write
 * reports it met
 * are moved into the batch and dropped from the reader. So what a
 * simulation sees depends on the trace only, never on how far the decode
 * has run ahead, and the figures are the same with any number of threads.
 *
 * Each of `consumers` consumers takes every batch in order (next) and
 * gives it back (release) when done with it; a slot is refilled when all
 * have given it back. The last batch (end of trace or error) has last = 1;
 * every consumer must take batches until it has seen it.
 */
#ifndef AS_SIM_BATCHRING_H
#define AS_SIM_BATCHRING_H

#include <stddef.h>
#include <stdint.h>

#include "sim/stackdefs.h"
#include "traces/trace.h"

#define AS_BATCH_READ 4096 /* events per call of the reader */

typedef struct {
    as_event_t *ev; /* events [0, n) */
    size_t n;
    as_mem_sample_t *samples; /* samples met while decoding them, in
                                   trace order */
    size_t n_samples, samples_cap;
    as_write_t *writes; /* write reports met while decoding them, in
                           trace order */
    size_t n_writes, writes_cap;
    as_stackdefs_view_t stacks; /* every stack ev names is in it */
    long status;                /* 0, or the reader's (negative) error
                                   after these events; AS_ENOMEM */
    int last;                   /* nothing follows this batch */
} as_batch_t;

typedef struct as_batchring as_batchring_t;

/* as_batchring_create flags. */
#define AS_BATCHRING_THREADED 1u /* a decode thread fills the slots */
#define AS_BATCHRING_NO_STACKS                                                 \
    2u /* copy no stacks (a consumer that never
                                     reads them, like the oracle's pre-pass):
                                     every batch's stacks view is empty */

/* as_batchring_create: batches of `batch_events` (a multiple of
 * AS_BATCH_READ) from rd, which the ring reads alone until destroyed.
 * Without AS_BATCHRING_THREADED in flags: one consumer, each batch decoded
 * when taken; with it: a decode thread filling `slots` slots ahead of
 * `consumers` consumers. @return 0, AS_ENOMEM, AS_EIO (no thread could
 * start). */
int as_batchring_create(as_batchring_t **out, as_trace_reader_t *rd,
                        size_t batch_events, unsigned flags, size_t slots,
                        size_t consumers);

/* as_batchring_next: the next batch for consumer c (waits for it). */
const as_batch_t *as_batchring_next(as_batchring_t *q, size_t c);

/* as_batchring_release: consumer c is done with the batch it took last. */
void as_batchring_release(as_batchring_t *q, size_t c);

/* as_batchring_decode_s: seconds spent decoding so far. */
double as_batchring_decode_s(const as_batchring_t *q);

/* as_batchring_join: stop and join the decode thread, if any: the reader
 * is the caller's again. The stack copies stay valid until destroy. */
void as_batchring_join(as_batchring_t *q);

/* as_items_append: append the k elements of `elem` bytes at src to the
 * growing array (*v, *n, *cap) (v: the address of a T * cast to void **,
 * elem = sizeof(T)). @return 0 or AS_ENOMEM (the array as it was). */
int as_items_append(void **v, size_t *n, size_t *cap, const void *src, size_t k,
                    size_t elem);

/* as_batchring_destroy: join, then free everything (the stack copies
 * too). */
void as_batchring_destroy(as_batchring_t *q);

#endif /* AS_SIM_BATCHRING_H */

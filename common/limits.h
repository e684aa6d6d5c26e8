/* limits.h - the bounds of what a simulated program may ask for.
 *
 * The simulated address space (sim/simos.c) spans 47 bits, as x86-64 Linux
 * user space does, and every part sizes its structures by what is live, so
 * a single request must stay far below the address space for a run to be
 * meaningful. The engine applies these bounds before any policy sees an
 * event (docs/simos.md, "Requests the engine refuses"):
 *   - a request above AS_MAX_REQUEST_BYTES fails, as malloc returns NULL
 *     for a size it cannot serve: counted as warnings.too_large, the object
 *     holds nothing, its free is consumed;
 *   - an alignment that is not 0 (default) or a power of two, or is above
 *     AS_MAX_ALIGN_BYTES, is a malformed event: the run stops with the
 *     trace's name and the event's number, unless bad events are skipped.
 */
#ifndef AS_COMMON_LIMITS_H
#define AS_COMMON_LIMITS_H

#include <stdint.h>

/* The largest request a simulated program can be served: 1 TiB. */
#define AS_MAX_REQUEST_BYTES (UINT64_C(1) << 40)

/* The largest alignment a request may ask for: 1 GiB (the largest x86-64
 * page). */
#define AS_MAX_ALIGN_BYTES (UINT64_C(1) << 30)

#endif /* AS_COMMON_LIMITS_H */

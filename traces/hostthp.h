/* hostthp.h - the host's transparent-huge-page settings, as a recorded
 * trace carries them.
 *
 * `allocsim record` reads them once, at the start, from
 * /sys/kernel/mm/transparent_hugepage/ and stores them as header metadata
 * (keys as_thp_meta_key[], values as the kernel shows them: the selected
 * word of `enabled` and `defrag`, the decimal number of the khugepaged
 * files, "unknown" for a file that is missing or unreadable).
 * `allocsim run` turns them back into defaults of the simulated OS
 * (sim/engine.c). docs/trace-format.md lists the keys.
 */
#ifndef AS_TRACES_HOSTTHP_H
#define AS_TRACES_HOSTTHP_H

#include <stddef.h>

enum {
    AS_THP_ENABLED = 0,   /* enabled: always | madvise | never */
    AS_THP_DEFRAG,        /* defrag: always | defer | defer+madvise | ... */
    AS_THP_MAX_PTES_NONE, /* khugepaged/max_ptes_none (pages) */
    AS_THP_SCAN_SLEEP_MS, /* khugepaged/scan_sleep_millisecs */
    AS_THP_PAGES_TO_SCAN, /* khugepaged/pages_to_scan (4 KiB pages) */
    AS_THP_N
};

#define AS_THP_DIR "/sys/kernel/mm/transparent_hugepage"
#define AS_THP_VALUE_MAX 32 /* bytes of a value, NUL included */

/* The metadata key of each setting ("host.thp.enabled", ...). */
extern const char *const as_thp_meta_key[AS_THP_N];
/* Its file below AS_THP_DIR ("enabled", "khugepaged/max_ptes_none", ...). */
extern const char *const as_thp_file[AS_THP_N];

/* as_host_thp_read: read every setting below `dir` (AS_THP_DIR, or a copy
 * of it in tests) into value[i]: the bracketed word of a choice file
 * ("always [madvise] never" -> "madvise"), the number of a numeric one,
 * or "unknown" when the file is missing, unreadable or not of that form. */
void as_host_thp_read(const char *dir, char value[AS_THP_N][AS_THP_VALUE_MAX]);

/* as_host_thp_parse: one setting's value from the text of its file (n
 * bytes), as as_host_thp_read stores it. @return 0, or -1 ("unknown"
 * stored) when the text has no bracketed word (choice files) or is not a
 * decimal number (numeric ones). */
int as_host_thp_parse(int which, const char *text, size_t n,
                      char out[AS_THP_VALUE_MAX]);

#endif /* AS_TRACES_HOSTTHP_H */

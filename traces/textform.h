/* textform.h - the text form of a trace: one record per line (see
 * docs/trace-format.md, "Text form"). This module formats records; the
 * parser is the `text` importer (traces/import/text.c). Both share the
 * string escaping defined here, so that text -> trace -> text is
 * byte-identical.
 *
 * Lines (fields separated by one space; strings escaped):
 *   meta <key> <value>
 *   frame <id> 0x<pc> 0x<offset> <module> <symbol>
 *   stack <id> <frame id>...
 *   a <t_ns> <thread> <cpu> <id> <size> <align> <stack> [<height>]
 *   f <t_ns> <thread> <cpu> <id>
 *   r <t_ns> <thread> <cpu> <old id> <new id> <size> <align> <stack> [<height>]
 *   s <t_ns> <rss_bytes> <anon_huge_bytes>
 *   w <t_ns> <object> <offset> <bytes>     (a write report, format 3)
 * The stack height is written only when known (not 0); an unmeasured
 * sample field is "-".
 * Escaping: the empty string is "-"; bytes <= 0x20, bytes >= 0x7f and '%'
 * (and a lone "-") are written %XX with upper-case hex digits, so the text
 * form is printable ASCII whatever a trace holds (no terminal escape, no
 * invalid UTF-8 reaches `allocsim cat`'s reader).
 */
#ifndef AS_TRACES_TEXTFORM_H
#define AS_TRACES_TEXTFORM_H

#include <stddef.h>

#include "traces/trace.h"

/* A growable output buffer: p[0..len) holds text, p[len] == '\0'. */
typedef struct {
    char *p;
    size_t len, cap;
} as_textbuf_t;

/* as_text_format_record: append the line (with '\n') of `rec` to `b`.
 * @return 0 or AS_ENOMEM. */
int as_text_format_record(as_textbuf_t *b, const as_trace_record_t *rec);

/* as_text_format_events: append the lines of the n events ev[0..n), the
 * same bytes as n calls of as_text_format_record (the fast path of
 * `allocsim cat`). @return 0 or AS_ENOMEM. */
int as_text_format_events(as_textbuf_t *b, const as_event_t *ev, size_t n);

/* as_text_append: append the n bytes at p. @return 0 or AS_ENOMEM. */
int as_text_append(as_textbuf_t *b, const char *p, size_t n);

/* as_text_format_meta: append "meta <key> <value>\n". */
int as_text_format_meta(as_textbuf_t *b, const char *key, const char *value);

/* as_text_unescape: decode token s[0..n) in place into `out` (room for n+1
 * bytes); "-" decodes to "". @return the decoded length, or -1 when the
 * token has a bad %XX escape or decodes to a NUL byte. */
long as_text_unescape(const char *s, size_t n, char *out);

void as_textbuf_free(as_textbuf_t *b);

#endif /* AS_TRACES_TEXTFORM_H */

/* html.h - index.html of a report directory: the comparison table, the
 * figures (PNG inline, links to SVG, PDF, data and script) and the command
 * that renders each one. Self-contained: no script, no font or style from
 * the network, only files of the same directory.
 */
#ifndef AS_REPORTS_HTML_H
#define AS_REPORTS_HTML_H

#include <stddef.h>
#include <stdio.h>

#include "reports/plot.h"
#include "reports/table.h"

typedef struct {
    const char *title;       /* page heading */
    const char *command;     /* the allocsim command that made the directory */
    const as_table_t *table; /* NULL: no comparison table */
    const as_plotset_t *plots;   /* figures and notes */
    const char *extra_tables[4]; /* other files of the directory to link
                                    (NULL-terminated) */
} as_html_page_t;

/* as_html_write: write the page to f. @return 0, AS_EIO. */
int as_html_write(const as_html_page_t *p, FILE *f);

/* as_html_write_file: DIR/index.html, complete-or-absent.
 * @return 0, AS_EIO (message in err). */
int as_html_write_file(const as_html_page_t *p, const char *dir, char *err,
                       size_t errcap);

#endif /* AS_REPORTS_HTML_H */

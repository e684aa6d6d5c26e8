/* html.c - index.html of a report directory (html.h).
 *
 * Host code. The page is static HTML with an inline style sheet: it must
 * open from a laptop's file system or a cluster's shared storage without
 * a network, so it references nothing but files beside it. Every piece of
 * text that comes from data (paths, labels, parameters) is escaped.
 */
#include "reports/html.h"

#include "common/error.h"
#include "sim/fileio.h"

static void esc(FILE *f, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '<':
            fputs("&lt;", f);
            break;
        case '>':
            fputs("&gt;", f);
            break;
        case '&':
            fputs("&amp;", f);
            break;
        case '"':
            fputs("&quot;", f);
            break;
        default:
            fputc(*s, f);
        }
    }
}

static const char *css =
    "body{font-family:'DejaVu Sans',Helvetica,Arial,sans-serif;margin:2em;"
    "color:#222;max-width:1200px}\n"
    "h1{font-size:1.5em}h2{font-size:1.2em;margin-top:2em}\n"
    "pre,code{font-family:'DejaVu Sans Mono',monospace;font-size:0.9em;"
    "background:#f4f4f4}\npre{padding:0.6em;overflow-x:auto}\n"
    "table{border-collapse:collapse;font-size:0.8em}\n"
    "th,td{border:1px solid #ccc;padding:0.25em 0.5em}\n"
    "td.n{text-align:right;white-space:nowrap}th{background:#eef}\n"
    ".scroll{overflow-x:auto}\n"
    "figure{display:inline-block;vertical-align:top;margin:0 1.5em 2em 0;"
    "width:520px}\nfigure img{width:510px;height:auto;border:1px solid "
    "#eee}\nfigcaption{font-size:0.85em}\n";

int as_html_write(const as_html_page_t *p, FILE *f)
{
    fprintf(f, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta "
               "charset=\"utf-8\">\n<title>");
    esc(f, p->title);
    fprintf(f, "</title>\n<style>\n%s</style>\n</head>\n<body>\n<h1>", css);
    esc(f, p->title);
    fprintf(f, "</h1>\n");
    if (p->command && *p->command) {
        fprintf(f, "<p>Made by:</p>\n<pre>");
        esc(f, p->command);
        fprintf(f, "</pre>\n");
    }
    if (p->table) {
        const as_table_t *t = p->table;
        fprintf(f, "<h2>Comparison</h2>\n<p>Also as <a href=\"compare.csv\">"
                   "compare.csv</a>, <a href=\"compare.md\">compare.md</a>, "
                   "<a href=\"compare.json\">compare.json</a>; run times in "
                   "<a href=\"timing.csv\">timing.csv</a>. Fragmentation "
                   "jw1&ndash;jw4 = resident / live &minus; 1 (Johnstone "
                   "&amp; Wilson); wasted_bytes = mean resident &minus; "
                   "mean live; waste_reduction = 1 &minus; wasted / wasted "
                   "of the baseline run of the same trace.</p>\n"
                   "<div class=\"scroll\"><table>\n<tr>");
        size_t nc = as_table_human_cols();
        for (size_t c = 0; c < nc; c++) {
            fprintf(f, "<th>");
            esc(f, as_table_human_header(c));
            fprintf(f, "</th>");
        }
        fprintf(f, "</tr>\n");
        for (size_t i = 0; i < t->n; i++) {
            fprintf(f, "<tr>");
            for (size_t c = 0; c < nc; c++) {
                char b[600];
                as_table_human_cell(t, i, c, b, sizeof b);
                fprintf(f, "<td%s>", c >= 5 ? " class=\"n\"" : "");
                esc(f, b);
                fprintf(f, "</td>");
            }
            fprintf(f, "</tr>\n");
        }
        fprintf(f, "</table></div>\n");
    }
    for (size_t i = 0; i < 4 && p->extra_tables[i]; i++) {
        fprintf(f, "<p>File: <a href=\"");
        esc(f, p->extra_tables[i]);
        fprintf(f, "\">");
        esc(f, p->extra_tables[i]);
        fprintf(f, "</a></p>\n");
    }
    const as_plotset_t *ps = p->plots;
    if (ps) {
        fprintf(f, "<h2>Figures</h2>\n<p>Each figure is beside its data "
                   "(<code>.dat</code>) and gnuplot script (<code>.gp</code>)"
                   "; edit the script and run the command under the figure "
                   "in this directory to restyle it.</p>\n");
        for (size_t i = 0; i < ps->n; i++) {
            const as_plot_t *pl = &ps->plots[i];
            fprintf(f, "<figure id=\"");
            esc(f, pl->name);
            fprintf(f, "\">\n<img src=\"");
            esc(f, pl->name);
            fprintf(f, ".png\" alt=\"");
            esc(f, pl->title);
            fprintf(f, "\">\n<figcaption><b>");
            esc(f, pl->title);
            fprintf(f, "</b><br>");
            esc(f, pl->about);
            fprintf(f, "<br>");
            static const char *ext[] = {"svg", "pdf", "dat", "gp"};
            for (size_t e = 0; e < 4; e++) {
                fprintf(f, "%s<a href=\"", e ? " · " : "");
                esc(f, pl->name);
                fprintf(f, ".%s\">%s</a>", ext[e], ext[e]);
            }
            fprintf(f, "<br><code>gnuplot ");
            esc(f, pl->name);
            fprintf(f, ".gp</code></figcaption>\n</figure>\n");
        }
        if (ps->skipped_notes) {
            fprintf(f, "<h2>Figures not made</h2>\n<ul>\n");
            for (size_t i = 0; i < ps->skipped_notes; i++) {
                fprintf(f, "<li>");
                esc(f, ps->notes[i]);
                fprintf(f, "</li>\n");
            }
            fprintf(f, "</ul>\n");
        }
    }
    fprintf(f, "</body>\n</html>\n");
    return ferror(f) ? AS_EIO : AS_OK;
}

int as_html_write_file(const as_html_page_t *p, const char *dir, char *err,
                       size_t errcap)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/index.html", dir);
    as_outfile_t o;
    int rc = as_outfile_open(&o, path, err, errcap);
    if (rc != AS_OK) return rc;
    int ok = as_html_write(p, o.f) == AS_OK;
    rc = as_outfile_close(&o, ok, err, errcap);
    if (rc == AS_OK && !ok) {
        snprintf(err, errcap, "%s: cannot write", path);
        rc = AS_EIO;
    }
    return rc;
}

/* The frame shared by the HTML reports: doctype, inline stylesheet, and
 * the closing tags. */
#ifndef CHEVAL_REPORT_HTML_PAGE_H
#define CHEVAL_REPORT_HTML_PAGE_H

#include <stdio.h>

/* Writes everything up to and including <body> with an <h1> of title. */
void chv_html_page_begin(FILE *out, const char *title);

void chv_html_page_end(FILE *out);

#endif

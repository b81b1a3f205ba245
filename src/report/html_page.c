#include "report/html_page.h"

#include "report/format.h"

/* Colours: bars #4c78a8, chance #c0392b, improvements #2e8b57, regressions
 * #c0392b, with paler tints for noisy or not significant rows. System fonts only, so the file needs no network. */
static const char stylesheet[] =
    "body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,'DejaVu Sans',sans-serif;"
    "color:#1f2328;background:#fff;margin:0 auto;max-width:1200px;padding:24px 32px;"
    "line-height:1.45}\n"
    "h1{font-size:1.6em;margin:0 0 .2em}h2{font-size:1.25em;margin-top:2em;"
    "border-bottom:1px solid #d0d7de;padding-bottom:.2em}h3{font-size:1.05em;margin-top:1.6em}\n"
    "table{border-collapse:collapse;margin:.6em 0;font-size:.88em}\n"
    ".metric{color:#57606a;font-size:.9em}\n"
    "th,td{border:1px solid #d0d7de;padding:3px 8px;white-space:nowrap}th{background:#f6f8fa;text-align:left}\n"
    "td.num{text-align:right;font-variant-numeric:tabular-nums}\n"
    ".scroll{overflow-x:auto;max-width:100%}\n"
    "td.better{color:#2e8b57;font-weight:600}td.worse{color:#c0392b;font-weight:600}\n"
    "tr.noisy td{color:#6e7781}\n"
    ".meta{color:#57606a;font-size:.92em;margin:.2em 0 1em;padding:0;list-style:none}\n"
    ".meta li{display:inline-block;margin-right:1.4em}\n"
    ".note{color:#57606a;font-size:.9em}\n"
    ".warning{background:#fff8c5;border:1px solid #d4a72c;border-radius:6px;padding:6px 12px;"
    "margin:.6em 0}\n.warning ul{margin:.3em 0}\n"
    ".legend{font-size:.85em;color:#57606a;margin:.2em 0 .6em}\n"
    ".swatch{display:inline-block;width:12px;height:10px;margin:0 4px 0 10px;"
    "vertical-align:middle}\n"
    "svg.chart{display:block;margin:.4em 0 1em;font-size:12px}\n"
    "svg .label,svg .value,svg .tick{fill:#1f2328}svg .tick{fill:#6e7781;font-size:11px}\n"
    "svg .bar{fill:#4c78a8}svg .bar.muted{fill:#a8c1dc}\n"
    "svg .bar.up{fill:#2e8b57}svg .bar.down{fill:#c0392b}\n"
    "svg .bar.up.muted{fill:#a9d5b9}svg .bar.down.muted{fill:#eab0a9}\n"
    "svg .err{stroke:#1f2328;stroke-width:1.2}\n"
    "svg .chance{stroke:#c0392b;stroke-width:2;stroke-dasharray:3 2}\n"
    "svg .grid{stroke:#eaeef2}svg .axis{stroke:#6e7781}\n"
    "details{margin:.4em 0}summary{cursor:pointer;font-weight:600}\n"
    ".doc{border:1px solid #d0d7de;border-radius:6px;padding:4px 12px;margin:6px 0}\n"
    ".docid{color:#57606a;font-size:.85em}\n"
    ".doc pre{white-space:pre-wrap;word-break:break-word;background:#f6f8fa;padding:6px;"
    "margin:4px 0;font-size:.9em}\n"
    ".doc ol{margin:4px 0;padding-left:2.2em}.doc li.gold{color:#2e8b57;font-weight:600}\n"
    ".doc li.chosen{color:#c0392b}\n"
    ".tag{font-size:.78em;border-radius:4px;padding:0 5px;margin-left:6px;color:#fff}\n"
    ".tag.gold{background:#2e8b57}.tag.chosen{background:#c0392b}\n"
    "code{background:#f6f8fa;padding:0 3px;border-radius:3px}\n";

void chv_html_page_begin(FILE *out, const char *title) {
    fprintf(out, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                 "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
                 "<title>");
    chv_html_text(out, title);
    fprintf(out, "</title>\n<style>\n%s</style>\n</head>\n<body>\n<h1>", stylesheet);
    chv_html_text(out, title);
    fprintf(out, "</h1>\n");
}

void chv_html_page_end(FILE *out) {
    fprintf(out, "<p class=\"note\">Written by cheval from the run folder's results.json and "
                 "sample logs.</p>\n</body>\n</html>\n");
}

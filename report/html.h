/*
 * html.h - the frame of dmarc-report's HTML page and the one way text goes
 * into it.
 *
 * Owns: the document head (a Content-Security-Policy that allows nothing
 * but the page's own style sheet, pinned by its SHA-256), the style sheet
 * (light and dark, print on A4, the colour-blind-safe palette the charts
 * use through the classes c0..c7), and escaping.
 *
 * Promises:
 *  - html_text() is the only way a value from a report, the store, DNS or
 *    the command line reaches the page.  It escapes & < > " ' so the result
 *    is inert both as element text and inside a quoted attribute, and it
 *    shows what a browser would hide or act on -- C0 and C1 controls,
 *    DEL, bidirectional overrides and isolates, bytes that are not UTF-8 --
 *    as visible \xNN or \uNNNN text.  Nothing a report holds can add an
 *    element, an attribute, a script or a URL.
 *  - The page loads nothing: no script, no font, no image, no link; the
 *    CSP forbids every fetch, so even a bug in the escaping could not make
 *    the browser reach the network.
 */
#ifndef DMARCSIFT_HTML_H
#define DMARCSIFT_HTML_H

#include <stdio.h>

#include "err.h"

/* Writes s escaped (see above).  NULL writes nothing. */
void html_text(FILE *f, const char *s);

/* The page up to <body>: doctype, head with charset, CSP, viewport, the
 * escaped title and the style sheet.  Fails only when hashing fails. */
int html_begin(FILE *f, const char *title, struct err *e);

/* Closes what html_begin() opened. */
void html_end(FILE *f);

#endif

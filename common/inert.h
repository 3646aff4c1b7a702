/*
 * inert.h - text from reports, file names, DNS and mail headers made inert
 * for a terminal: the one escaper of the table format and of every message
 * on stderr (common/log.c passes each message through it).
 *
 * Promises: the result holds no byte that moves the cursor, changes the
 * terminal's state or reorders what follows.  Shown visibly instead:
 *   newline, CR, TAB        as \n \r \t
 *   other C0 controls, DEL  as \xHH (ESC is \x1b)
 *   C1 controls U+0080-U+009F, bidi embeddings, overrides and isolates
 *   (U+202A-U+202E, U+2066-U+2069), the marks U+200E U+200F U+061C and the
 *   separators U+2028 U+2029           as \uXXXX
 *   a byte that is not part of valid UTF-8   as \xHH
 * Everything else (printable ASCII, valid UTF-8) is copied.  The escaping
 * is for reading, not reversible: a backslash stays a backslash.  CSV and
 * JSON do not use it: they keep the bytes, quoted by their own rules.
 */
#ifndef DMARCSIFT_INERT_H
#define DMARCSIFT_INERT_H

#include <stddef.h>

/* Writes the escaped form of s[0..n) to out (cap bytes, NUL included; cap
 * > 0), cut at a character or escape boundary when it does not fit.
 * Returns the length the whole escaped text has (like snprintf). */
size_t inert_copy(char *out, size_t cap, const char *s, size_t n);

/* The escaped form of the C string s, allocated (the caller frees it);
 * NULL when out of memory. */
char *inert_dup(const char *s);

/* Whether s[0..n) is already inert (inert_dup would return a copy). */
int inert_is_clean(const char *s, size_t n);

#endif

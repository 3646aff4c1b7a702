/*
 * warn.h - a bounded, de-duplicated list of warnings about one report.
 *
 * A hostile or merely sloppy report can trigger the same defect a million
 * times (every record with an empty source_ip); the operator needs one line
 * saying what and how often, not a million lines.  Warnings are keyed by a
 * short static kind; the first occurrence's text is kept with a count.
 */
#ifndef DMARCSIFT_WARN_H
#define DMARCSIFT_WARN_H

#include <stddef.h>

#define WARN_MAX  16
#define WARN_TEXT 240

struct warning {
	const char *kind; /* static string, the de-duplication key */
	char text[WARN_TEXT];
	unsigned long count;
};

struct warnings {
	struct warning w[WARN_MAX];
	size_t n;
	unsigned long dropped; /* warnings of kinds beyond WARN_MAX */
};

void warn_init(struct warnings *ws);
void warn_add(struct warnings *ws, const char *kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Formats all warnings as "text; text (x3); ..." into out. */
void warn_format(const struct warnings *ws, char *out, size_t outlen);

#endif

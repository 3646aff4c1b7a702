/*
 * text.h - sentences written into a caller's fixed buffer.
 *
 * Owns the one appender behind the prose of diagnose.c (a cause's
 * explanation) and view-policy.c (a domain's reason).
 *
 * Promises: a write never overruns the buffer; one that does not fit is
 * cut short and the text stays NUL-terminated (vsnprintf's guarantee),
 * and every later write into a full text does nothing.
 */
#ifndef DMARCSIFT_TEXT_H
#define DMARCSIFT_TEXT_H

#include <stdarg.h>
#include <stddef.h>

struct text {
	char *p;     /* the caller's buffer */
	size_t len;  /* its size (> 0) */
	size_t used; /* the bytes written so far, at most len */
};

/* Appends the printf-style fmt to t, cut short when t is full. */
void text_put(struct text *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void text_vput(struct text *t, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

#endif

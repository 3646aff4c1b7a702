/*
 * err.c - see err.h.  Messages are truncated, never overflowed: a long file
 * name must not turn an error path into a crash.
 */
#include "err.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* the analyzer's macros of err.h would rename the definitions below */
#undef err_set
#undef err_prefix
#undef err_errno

int
err_set(struct err *e, const char *fmt, ...)
{
	va_list ap;

	if (e == NULL)
		return -1;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return -1;
}

int
err_prefix(struct err *e, const char *fmt, ...)
{
	char prefix[ERR_MSG_MAX / 2], old[ERR_MSG_MAX];
	va_list ap;

	if (e == NULL)
		return -1;
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	memcpy(old, e->msg, sizeof(old));
	snprintf(e->msg, sizeof(e->msg), "%s: %.*s", prefix,
	    (int)(sizeof(e->msg) - strlen(prefix) - 3), old);
	return -1;
}

int
err_errno(struct err *e, const char *fmt, ...)
{
	char what[ERR_MSG_MAX / 2];
	int saved = errno;
	va_list ap;

	if (e == NULL)
		return -1;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	snprintf(e->msg, sizeof(e->msg), "%s: %.200s", what, strerror(saved));
	errno = saved;
	return -1;
}

/*
 * text.c - see text.h.
 */
#include "text.h"

#include <stdio.h>

void
text_vput(struct text *t, const char *fmt, va_list ap)
{
	int n;

	if (t->used >= t->len)
		return;
	n = vsnprintf(t->p + t->used, t->len - t->used, fmt, ap);
	/* vsnprintf() returns the length it wanted: used may pass len,
	 * which marks the text full */
	if (n > 0)
		t->used += (size_t)n;
}

void
text_put(struct text *t, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	text_vput(t, fmt, ap);
	va_end(ap);
}

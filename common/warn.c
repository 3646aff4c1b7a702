/*
 * warn.c - see warn.h.
 */
#include "warn.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void
warn_init(struct warnings *ws)
{
	ws->n = 0;
	ws->dropped = 0;
}

void
warn_add(struct warnings *ws, const char *kind, const char *fmt, ...)
{
	va_list ap;
	size_t i;

	for (i = 0; i < ws->n; i++) {
		if (strcmp(ws->w[i].kind, kind) == 0) {
			ws->w[i].count++;
			return;
		}
	}
	if (ws->n == WARN_MAX) {
		ws->dropped++;
		return;
	}
	ws->w[ws->n].kind = kind;
	ws->w[ws->n].count = 1;
	va_start(ap, fmt);
	vsnprintf(ws->w[ws->n].text, WARN_TEXT, fmt, ap);
	va_end(ap);
	ws->n++;
}

void
warn_format(const struct warnings *ws, char *out, size_t outlen)
{
	size_t i, used = 0;
	int n;

	if (outlen == 0)
		return;
	out[0] = '\0';
	for (i = 0; i < ws->n && used < outlen; i++) {
		if (ws->w[i].count > 1)
			n = snprintf(out + used, outlen - used, "%s%s (%lu times)",
			    i ? "; " : "", ws->w[i].text, ws->w[i].count);
		else
			n = snprintf(out + used, outlen - used, "%s%s",
			    i ? "; " : "", ws->w[i].text);
		if (n < 0)
			break;
		used += (size_t)n;
	}
	if (ws->dropped > 0 && used < outlen)
		snprintf(out + used, outlen - used, "; %lu more warnings",
		    ws->dropped);
}

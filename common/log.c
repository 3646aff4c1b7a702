/*
 * log.c - see log.h.  Each message is written with a single fprintf so that
 * lines from concurrent runs do not interleave mid-line.  Messages carry
 * file names, report values, server answers and header fields: the whole
 * line goes through inert_copy(), so none of them can move the cursor,
 * recolour the terminal or forge a line of its own (issue 17).
 */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "inert.h"

void
log_init(struct logger *lg, const char *prog, int level)
{
	lg->prog = prog;
	lg->level = level;
	lg->out = stderr;
}

static void
log_emit(const struct logger *lg, const char *tag, const char *fmt,
    va_list ap)
{
	char line[4096], shown[4 * sizeof(line)];

	vsnprintf(line, sizeof(line), fmt, ap);
	inert_copy(shown, sizeof(shown), line, strlen(line));
	if (tag != NULL)
		fprintf(lg->out, "%s: %s: %s\n", lg->prog, tag, shown);
	else
		fprintf(lg->out, "%s\n", shown);
}

void
log_error(const struct logger *lg, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_emit(lg, "error", fmt, ap);
	va_end(ap);
}

void
log_warn(const struct logger *lg, const char *fmt, ...)
{
	va_list ap;

	if (lg->level < LOG_NORMAL)
		return;
	va_start(ap, fmt);
	log_emit(lg, "warning", fmt, ap);
	va_end(ap);
}

void
log_info(const struct logger *lg, const char *fmt, ...)
{
	va_list ap;

	if (lg->level < LOG_VERBOSE)
		return;
	va_start(ap, fmt);
	log_emit(lg, NULL, fmt, ap);
	va_end(ap);
}

void
log_debug(const struct logger *lg, const char *fmt, ...)
{
	va_list ap;

	if (lg->level < LOG_DEBUG)
		return;
	va_start(ap, fmt);
	log_emit(lg, "debug", fmt, ap);
	va_end(ap);
}

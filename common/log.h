/*
 * log.h - messages for the operator, on stderr.
 *
 * dmarc-ingest runs from cron, where anything printed becomes a mail to
 * root: so the default is to print only warnings and errors, -q keeps only
 * errors, -v adds one line per report and a summary.  The logger is a plain
 * struct owned by main() and passed down; there is no global state.
 * Every message is printed inert (common/inert.h): callers pass file names
 * and report values as they are, one line per message, no newline.
 */
#ifndef DMARCSIFT_LOG_H
#define DMARCSIFT_LOG_H

#include <stdio.h>

enum log_level {
	LOG_QUIET = -1, /* errors only */
	LOG_NORMAL = 0, /* errors and warnings */
	LOG_VERBOSE = 1,
	LOG_DEBUG = 2,
};

struct logger {
	const char *prog;
	int level;
	FILE *out;
};

void log_init(struct logger *lg, const char *prog, int level);
void log_error(const struct logger *lg, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void log_warn(const struct logger *lg, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void log_info(const struct logger *lg, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void log_debug(const struct logger *lg, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif

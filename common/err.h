/*
 * err.h - error messages that a user can act on.
 *
 * Every function in dmarcsift that can fail returns a status (0 on success,
 * -1 on failure) and, on failure, fills a caller-owned struct err with one
 * line of text.  The message is built from the inside out: the innermost
 * function states what went wrong ("gzip data is truncated"), and each caller
 * on the way up may prepend where it happened ("report.xml.gz: ").  There is
 * no global errno-like state; the struct lives on the caller's stack.
 */
#ifndef DMARCSIFT_ERR_H
#define DMARCSIFT_ERR_H

#include <stddef.h>

#define ERR_MSG_MAX 1024

struct err {
	char msg[ERR_MSG_MAX];
};

/* Sets the message; always returns -1 so that "return err_set(...)" reads
 * naturally. */
int err_set(struct err *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Prepends context to an existing message: "<context>: <old message>". */
int err_prefix(struct err *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Sets the message from errno: "<what>: <strerror(errno)>". */
int err_errno(struct err *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * The static analyzer (scripts/lint) sees one file at a time and cannot
 * know that these return -1 always; without that, every "return
 * err_set(...)" is a path on which the caller's outputs look unset.  A
 * statement expression tells it, for the analyzer only.
 */
#ifdef __clang_analyzer__
#define err_set(e, ...) ({ err_set(e, __VA_ARGS__); -1; })
#define err_prefix(e, ...) ({ err_prefix(e, __VA_ARGS__); -1; })
#define err_errno(e, ...) ({ err_errno(e, __VA_ARGS__); -1; })
#endif

#endif

/*
 * buf.h - a growable byte buffer with an explicit size cap.
 *
 * Used wherever input of unknown length is collected (element text, a
 * decompressed archive member, a message read from stdin).  Every buffer has
 * a cap; growing past it fails with a message instead of eating memory, which
 * is how size limits on hostile input are enforced in one place.  The buffer
 * is always NUL-terminated so text can be used as a C string.
 */
#ifndef DMARCSIFT_BUF_H
#define DMARCSIFT_BUF_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

struct buf {
	char *data;
	size_t len;
	size_t cap;   /* allocated bytes (excluding the NUL) */
	size_t limit; /* largest len allowed; 0 = SIZE_MAX */
};

void buf_init(struct buf *b, size_t limit);
void buf_free(struct buf *b);
void buf_reset(struct buf *b);
/* Ensures room for n more bytes. */
int buf_reserve(struct buf *b, size_t n, struct err *e);
int buf_append(struct buf *b, const void *p, size_t n, struct err *e);
int buf_appendc(struct buf *b, char c, struct err *e);
/* Takes ownership of the data; the buffer is left empty. */
char *buf_steal(struct buf *b, size_t *len);

#endif

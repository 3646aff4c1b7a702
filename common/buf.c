/*
 * buf.c - see buf.h.  Growth doubles so appends are amortised O(1); the cap
 * check happens before any allocation.
 */
#include "buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
buf_init(struct buf *b, size_t limit)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	b->limit = limit ? limit : SIZE_MAX - 1;
}

void
buf_free(struct buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

void
buf_reset(struct buf *b)
{
	b->len = 0;
	if (b->data != NULL)
		b->data[0] = '\0';
}

int
buf_reserve(struct buf *b, size_t n, struct err *e)
{
	size_t want, ncap;
	char *p;

	if (n > b->limit - b->len)
		return err_set(e, "size limit of %zu bytes exceeded", b->limit);
	want = b->len + n;
	if (want <= b->cap && b->data != NULL)
		return 0;
	ncap = b->cap ? b->cap : 64;
	while (ncap < want)
		ncap = ncap > SIZE_MAX / 2 ? want : ncap * 2;
	if (ncap > b->limit)
		ncap = b->limit;
	p = realloc(b->data, ncap + 1);
	if (p == NULL)
		return err_set(e, "out of memory (%zu bytes)", ncap + 1);
	b->data = p;
	b->cap = ncap;
	return 0;
}

int
buf_append(struct buf *b, const void *p, size_t n, struct err *e)
{
	if (buf_reserve(b, n, e) == -1)
		return -1;
	if (n > 0)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

int
buf_appendc(struct buf *b, char c, struct err *e)
{
	return buf_append(b, &c, 1, e);
}

char *
buf_steal(struct buf *b, size_t *len)
{
	char *p = b->data;

	if (len != NULL)
		*len = b->len;
	b->data = NULL;
	b->len = b->cap = 0;
	return p;
}

/*
 * record-copy.c - see record-copy.h.  Strings are stored as offset + 1
 * (0 = NULL) until record_copy_view() makes them pointers.
 */
#include "record-copy.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

void
record_copy_init(struct record_copy *c, size_t limit, size_t keep)
{
	memset(c, 0, sizeof(*c));
	buf_init(&c->data, limit);
	c->keep = keep;
}

void
record_copy_free(struct record_copy *c)
{
	buf_free(&c->data);
	free(c->reasons);
	free(c->dkim);
	free(c->spf);
}

size_t
record_copy_bytes(const struct record_copy *c)
{
	return c->data.len;
}

static const char *
put(struct buf *b, const char *s, int *oom)
{
	size_t off = b->len;
	struct err e;

	if (s == NULL)
		return NULL;
	if (buf_append(b, s, strlen(s) + 1, &e) == -1) {
		*oom = 1;
		return NULL;
	}
	return (const char *)(uintptr_t)(off + 1);
}

static const char *
fix(const struct buf *b, const char *off)
{
	return off == NULL ? NULL : b->data + ((uintptr_t)off - 1);
}

static int
grow(void **arr, size_t *cap, size_t n, size_t size)
{
	void *p;

	if (n <= *cap)
		return 0;
	if ((p = realloc(*arr, n * size)) == NULL)
		return -1;
	*arr = p;
	*cap = n;
	return 0;
}

int
record_copy(struct record_copy *s, const struct dmarc_record *r)
{
	struct dmarc_record *c = &s->rec;
	int oom = 0;
	size_t i;

	if (s->keep > 0 && s->data.cap > s->keep)
		buf_free(&s->data);
	buf_reset(&s->data);
	if (grow((void **)&s->reasons, &s->capreasons, r->nreasons,
	         sizeof(*s->reasons)) == -1 ||
	    grow((void **)&s->dkim, &s->capdkim, r->ndkim, sizeof(*s->dkim)) ==
	        -1 ||
	    grow((void **)&s->spf, &s->capspf, r->nspf, sizeof(*s->spf)) == -1)
		return -1;
	*c = *r;
	c->source_ip = put(&s->data, r->source_ip, &oom);
	c->disposition = put(&s->data, r->disposition, &oom);
	c->dkim = put(&s->data, r->dkim, &oom);
	c->spf = put(&s->data, r->spf, &oom);
	c->header_from = put(&s->data, r->header_from, &oom);
	c->envelope_from = put(&s->data, r->envelope_from, &oom);
	c->envelope_to = put(&s->data, r->envelope_to, &oom);
	for (i = 0; i < r->nreasons; i++) {
		s->reasons[i].type = put(&s->data, r->reasons[i].type, &oom);
		s->reasons[i].type_original =
		    put(&s->data, r->reasons[i].type_original, &oom);
		s->reasons[i].comment =
		    put(&s->data, r->reasons[i].comment, &oom);
	}
	for (i = 0; i < r->ndkim; i++) {
		s->dkim[i].domain =
		    put(&s->data, r->dkim_results[i].domain, &oom);
		s->dkim[i].selector =
		    put(&s->data, r->dkim_results[i].selector, &oom);
		s->dkim[i].result =
		    put(&s->data, r->dkim_results[i].result, &oom);
		s->dkim[i].human_result =
		    put(&s->data, r->dkim_results[i].human_result, &oom);
	}
	for (i = 0; i < r->nspf; i++) {
		s->spf[i].domain =
		    put(&s->data, r->spf_results[i].domain, &oom);
		s->spf[i].scope = put(&s->data, r->spf_results[i].scope, &oom);
		s->spf[i].result =
		    put(&s->data, r->spf_results[i].result, &oom);
		s->spf[i].human_result =
		    put(&s->data, r->spf_results[i].human_result, &oom);
	}
	return oom ? -1 : 0;
}

void
record_copy_view(struct record_copy *s)
{
	struct dmarc_record *c = &s->rec;
	const struct buf *b = &s->data;
	size_t i;

	c->source_ip = fix(b, c->source_ip);
	c->disposition = fix(b, c->disposition);
	c->dkim = fix(b, c->dkim);
	c->spf = fix(b, c->spf);
	c->header_from = fix(b, c->header_from);
	c->envelope_from = fix(b, c->envelope_from);
	c->envelope_to = fix(b, c->envelope_to);
	for (i = 0; i < c->nreasons; i++) {
		s->reasons[i].type = fix(b, s->reasons[i].type);
		s->reasons[i].type_original =
		    fix(b, s->reasons[i].type_original);
		s->reasons[i].comment = fix(b, s->reasons[i].comment);
	}
	for (i = 0; i < c->ndkim; i++) {
		s->dkim[i].domain = fix(b, s->dkim[i].domain);
		s->dkim[i].selector = fix(b, s->dkim[i].selector);
		s->dkim[i].result = fix(b, s->dkim[i].result);
		s->dkim[i].human_result = fix(b, s->dkim[i].human_result);
	}
	for (i = 0; i < c->nspf; i++) {
		s->spf[i].domain = fix(b, s->spf[i].domain);
		s->spf[i].scope = fix(b, s->spf[i].scope);
		s->spf[i].result = fix(b, s->spf[i].result);
		s->spf[i].human_result = fix(b, s->spf[i].human_result);
	}
	c->reasons = s->reasons;
	c->dkim_results = s->dkim;
	c->spf_results = s->spf;
}

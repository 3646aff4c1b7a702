/*
 * lists.c - see lists.h.
 */
#include "lists.h"

#include <string.h>

/* Splits one list text (bytes long) into t->item[0..n). */
static int
split(struct triples *t, const unsigned char *text, int bytes)
{
	char *p, *end, *item_end, *field_end;
	void *tmp;
	size_t k;

	t->n = 0;
	if (text == NULL || bytes <= 0)
		return 0;
	if (GROW(t->buf, t->cap, (size_t)bytes + 1, tmp) == -1)
		return -1;
	memcpy(t->buf, text, (size_t)bytes);
	t->buf[bytes] = '\0';
	for (p = t->buf, end = t->buf + bytes; p <= end; p = item_end + 1) {
		if ((item_end = memchr(p, 30, (size_t)(end - p))) == NULL)
			item_end = end;
		*item_end = '\0';
		if (GROW(t->item, t->icap, t->n + 1, tmp) == -1)
			return -1;
		for (k = 0; k < 3; k++) {
			field_end = p != NULL && k < 2 ? strchr(p, 31) : NULL;
			if (field_end != NULL)
				*field_end = '\0';
			t->item[t->n][k] = p != NULL && *p != '\0' ? p : NULL;
			p = field_end != NULL ? field_end + 1 : NULL;
		}
		t->n++;
	}
	return 0;
}

int
lists_dkim(struct lists *l, const unsigned char *text, int bytes)
{
	void *tmp;
	size_t i;

	if (split(&l->t[0], text, bytes) == -1 ||
	    GROW(l->dkim, l->dcap, l->t[0].n, tmp) == -1)
		return -1;
	for (i = 0; i < l->t[0].n; i++) {
		l->dkim[i].domain = l->t[0].item[i][0];
		l->dkim[i].selector = l->t[0].item[i][1];
		l->dkim[i].result = l->t[0].item[i][2];
		l->dkim[i].human_result = NULL;
	}
	return 0;
}

int
lists_spf(struct lists *l, const unsigned char *text, int bytes)
{
	void *tmp;
	size_t i;

	if (split(&l->t[1], text, bytes) == -1 ||
	    GROW(l->spf, l->scap, l->t[1].n, tmp) == -1)
		return -1;
	for (i = 0; i < l->t[1].n; i++) {
		l->spf[i].domain = l->t[1].item[i][0];
		l->spf[i].scope = l->t[1].item[i][1];
		l->spf[i].result = l->t[1].item[i][2];
		l->spf[i].human_result = NULL;
	}
	return 0;
}

int
lists_reasons(struct lists *l, const unsigned char *text, int bytes)
{
	void *tmp;
	size_t i;

	if (split(&l->t[2], text, bytes) == -1 ||
	    GROW(l->reason, l->rcap, l->t[2].n, tmp) == -1)
		return -1;
	for (i = 0; i < l->t[2].n; i++) {
		l->reason[i].type = l->t[2].item[i][0];
		l->reason[i].comment = l->t[2].item[i][1];
		l->reason[i].type_original = l->t[2].item[i][2];
	}
	return 0;
}

void
lists_free(struct lists *l)
{
	int i;

	for (i = 0; i < 3; i++) {
		free(l->t[i].buf);
		free(l->t[i].item);
	}
	free(l->dkim);
	free(l->spf);
	free(l->reason);
}

uint64_t
lists_count(double d)
{
	if (!(d > 0)) /* also NaN */
		return 0;
	return d >= 18446744073709551615.0 ? UINT64_MAX : (uint64_t)d;
}


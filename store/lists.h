/*
 * lists.h - a record's DKIM, SPF and override-reason lists as the
 * backends' queries return them: one text per list, items separated by RS
 * (char 30), three fields each separated by US (char 31), NULL written as
 * ''.  XML 1.0 does not allow either character in a document, so no value
 * the parser stored contains them; if one did, the split would only
 * garble that value.  Shared by the SQLite and PostgreSQL queries, so that
 * both hand report/ exactly the same structures.
 */
#ifndef DMARCSIFT_LISTS_H
#define DMARCSIFT_LISTS_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "report.h"

struct triples {
	char *buf;
	size_t cap;
	const char *(*item)[3];
	size_t n, icap;
};

/* The lists of one row; the pointers stay valid until the next fill. */
struct lists {
	struct triples t[3]; /* DKIM, SPF, reasons: t[k].n items */
	struct dmarc_dkim *dkim;
	struct dmarc_spf *spf;
	struct dmarc_reason *reason;
	size_t dcap, scap, rcap;
};

static inline size_t
next_cap(size_t cap, size_t need)
{
	size_t n = cap ? cap : 8;

	while (n < need)
		n *= 2;
	return n;
}

/* Makes room for `need` elements in the array ptr of capacity cap;
 * evaluates to 0, or -1 when out of memory (ptr unchanged).  `tmp` is a
 * void * of the caller's. */
#define GROW(ptr, cap, need, tmp)                                            \
	((need) <= (cap)                                                     \
		? 0                                                          \
		: ((tmp) = realloc((ptr),                                    \
		       next_cap((cap), (need)) * sizeof(*(ptr)))) == NULL    \
		? -1                                                         \
		: ((ptr) = (tmp), (cap) = next_cap((cap), (need)), 0))

/* Fill l->dkim (domain, selector, result), l->spf (domain, scope, result)
 * or l->reason (type, comment, type_original) from a list text of `bytes`
 * bytes (NULL: none); -1 when out of memory. */
int lists_dkim(struct lists *l, const unsigned char *text, int bytes);
int lists_spf(struct lists *l, const unsigned char *text, int bytes);
int lists_reasons(struct lists *l, const unsigned char *text, int bytes);
void lists_free(struct lists *l);

/* A count summed as a double (exact up to 2^53): 0 when not positive,
 * capped at UINT64_MAX. */
uint64_t lists_count(double d);

#endif

/*
 * align.c - organizational domains and identifier alignment through
 * libpsl.  See align.h.
 */
#include "align.h"

#include <libpsl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ascii.h"
#include "strmap.h"

/* Names whose organizational domain the memo keeps at most: enough for
 * every signer and From domain of a busy domain's reports; a flood of
 * distinct names beyond it is looked up each time. */
#define MEMO_MAX 100000

/* The organizational domains already found, by normalised name: each
 * is the offset of the registrable domain within the name.  The PSL
 * lookup costs thousands of instructions, and `ses` asks about the same
 * few names hundreds of thousands of times.  A separate allocation, so
 * that lookups through a const struct align can fill it. */
struct org_memo {
	struct strmap names; /* name -> size_t offset */
};

struct align {
	psl_ctx_t *owned;     /* from psl_latest(), freed on close */
	const psl_ctx_t *psl; /* owned, or libpsl's static built-in list */
	struct org_memo *memo;
};

int
align_open(struct align **out, struct err *e)
{
	struct align *a;

	if ((a = calloc(1, sizeof(*a))) == NULL)
		return err_set(e, "out of memory");
	/* psl_latest() picks the newer of the distribution's file
	 * (/usr/share/publicsuffix, updated by the publicsuffix package)
	 * and the list compiled into libpsl. */
	a->owned = psl_latest(NULL);
	a->psl = a->owned != NULL ? a->owned : psl_builtin();
	if ((a->memo = calloc(1, sizeof(*a->memo))) == NULL) {
		psl_free(a->owned);
		free(a);
		return err_set(e, "out of memory");
	}
	if (a->psl == NULL) {
		free(a->memo);
		free(a);
		return err_set(e, "cannot load the Public Suffix List: install "
				  "Debian's publicsuffix package (libpsl has no "
				  "built-in copy)");
	}
	*out = a;
	return 0;
}

void
align_close(struct align *a)
{
	if (a == NULL)
		return;
	psl_free(a->owned);
	strmap_free(&a->memo->names, NULL);
	free(a->memo);
	free(a);
}

int
align_normalize(const char *name, char *out, size_t len)
{
	size_t n, i;

	if (name == NULL)
		return -1;
	n = strlen(name);
	while (n > 0 && name[n - 1] == '.')
		n--;
	if (n == 0 || n >= ALIGN_NAME_MAX || n >= len)
		return -1;
	for (i = 0; i < n; i++) {
		char c = name[i];

		out[i] = (char)ascii_lower((unsigned char)c);
	}
	out[n] = '\0';
	return 0;
}

/* The organizational domain of a normalised name: a suffix of it. */
static const char *
org_of(const struct align *a, const char *norm)
{
	struct strmap *m = &a->memo->names;
	const char *reg;
	size_t *off, n;

	if ((off = strmap_get(m, norm)) != NULL)
		return norm + *off;
	/* NULL for a public suffix (or a name under none): then the name
	 * is its own organizational domain.  libpsl answers with a pointer
	 * into the name. */
	if ((reg = psl_registrable_domain(a->psl, norm)) == NULL)
		reg = norm;
	n = strlen(norm);
	if ((uintptr_t)reg - (uintptr_t)norm <= n && strmap_len(m) < MEMO_MAX &&
	    (off = strmap_upsert(m, norm, sizeof(*off), NULL)) != NULL)
		*off = (size_t)(reg - norm);
	return reg;
}

int
align_org_domain(const struct align *a, const char *name, char *out,
    size_t len)
{
	char norm[ALIGN_NAME_MAX];
	const char *reg;

	if (align_normalize(name, norm, sizeof(norm)) == -1)
		return -1;
	reg = org_of(a, norm);
	if (strlen(reg) >= len)
		return -1;
	memmove(out, reg, strlen(reg) + 1);
	return 0;
}

enum align_level
align_compare(const struct align *a, const char *id, const char *from)
{
	char ni[ALIGN_NAME_MAX], nf[ALIGN_NAME_MAX];

	if (align_normalize(id, ni, sizeof(ni)) == -1 ||
	    align_normalize(from, nf, sizeof(nf)) == -1)
		return ALIGN_NONE;
	if (strcmp(ni, nf) == 0)
		return ALIGN_STRICT;
	return strcmp(org_of(a, ni), org_of(a, nf)) == 0 ? ALIGN_RELAXED
							  : ALIGN_NONE;
}

int
align_ok(const struct align *a, const char *id, const char *from, char mode)
{
	enum align_level l = align_compare(a, id, from);

	return mode == 's' ? l == ALIGN_STRICT : l != ALIGN_NONE;
}

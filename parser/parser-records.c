/*
 * parser-records.c - records: collected as offsets into a per-record arena,
 * handed over at their end tag, summed (bounded by 2^53) and fingerprinted.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parser-impl.h"
#include "ascii.h"
#include "hash.h"

/* ---------------------------------------------------------------------
 * Records
 */

size_t
parser_arena_put(struct parser *p, const char *s)
{
	size_t off = p->arena.len;
	struct err e;

	if (s == NULL)
		return NOFF;
	if (buf_append(&p->arena, s, strlen(s) + 1, &e) == -1) {
		parser_fail(p, "record too large: %s", e.msg);
		return NOFF;
	}
	return off;
}

static const char *
arena_get(const struct parser *p, size_t off)
{
	return off == NOFF ? NULL : p->arena.data + off;
}

void
parser_rec_reset(struct parser *p)
{
	struct rec *r = &p->rec;

	r->line = parser_line(p);
	r->ip = r->disp = r->pe_dkim = r->pe_spf = NOFF;
	r->hf = r->ef = r->et = NOFF;
	r->count = 0;
	r->has_count = r->count_seen = 0;
	r->row_seen = r->ids_seen = r->auth_seen = 0;
	r->nreasons = r->ndkim = r->nspf = 0;
	buf_reset(&p->arena);
	memset(p->seen + ST_ROW_IP, 0, ST_COUNT - ST_ROW_IP);
}

/* Grows one of the per-record arrays; returns the new element or NULL. */
void *
parser_grow(struct parser *p, void **arr, size_t *n, size_t *cap, size_t size,
            const char *what)
{
	void *np;
	size_t ncap;

	if (*n >= p->lim.max_results) {
		parser_fail(p, "record has more than %zu %s entries",
		            p->lim.max_results, what);
		return NULL;
	}
	if (*n == *cap) {
		ncap = *cap ? *cap * 2 : 4;
		if ((np = realloc(*arr, ncap * size)) == NULL) {
			parser_fail(p, "out of memory");
			return NULL;
		}
		*arr = np;
		*cap = ncap;
	}
	return (char *)*arr + (*n)++ * size;
}

static int
ensure_out(struct parser *p, void **arr, size_t *cap, size_t n, size_t size)
{
	void *np;

	if (n <= *cap)
		return 0;
	if ((np = realloc(*arr, n * size)) == NULL) {
		parser_fail(p, "out of memory");
		return -1;
	}
	*arr = np;
	*cap = n;
	return 0;
}

/* One field of the record fingerprint, added to both of the report's
 * chains: its bytes, then a separator, so that ("ab", "c") and ("a", "bc")
 * differ; NULL is not "".  FNV-1a waits for one multiply per byte, so the
 * two chains go through the bytes in one loop, side by side, in the time
 * one of them would take alone. */
static void
fnv2(uint64_t h[2], const char *s)
{
	const unsigned char *c = (const unsigned char *)(s ? s : "\x01");
	uint64_t a = h[0], b = h[1];

	for (; *c != '\0'; c++) {
		a = fnv1a_byte(a, *c);
		b = fnv1a_byte(b, *c);
	}
	h[0] = fnv1a_byte(a, 0x1f);
	h[1] = fnv1a_byte(b, 0x1f);
}

/* Spreads a record's hash over 64 bits before it is added to the report's
 * sum (splitmix64's finaliser): a plain sum of FNV values would let two
 * pairs of records cancel out too easily. */
static uint64_t
mix64(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* The record's fingerprint: every stored value, in document order,
 * chained onto both h[0] and h[1]. */
static void
rec_hash(uint64_t h[2], const struct dmarc_record *r)
{
	char num[32];
	size_t i;

	ascii_decimal(num, r->count);
	fnv2(h, r->source_ip);
	fnv2(h, num);
	fnv2(h, r->disposition);
	fnv2(h, r->dkim);
	fnv2(h, r->spf);
	fnv2(h, r->header_from);
	fnv2(h, r->envelope_from);
	fnv2(h, r->envelope_to);
	for (i = 0; i < r->nreasons; i++) {
		fnv2(h, r->reasons[i].type);
		fnv2(h, r->reasons[i].comment);
	}
	for (i = 0; i < r->ndkim; i++) {
		fnv2(h, r->dkim_results[i].domain);
		fnv2(h, r->dkim_results[i].selector);
		fnv2(h, r->dkim_results[i].result);
	}
	for (i = 0; i < r->nspf; i++) {
		fnv2(h, r->spf_results[i].domain);
		fnv2(h, r->spf_results[i].scope);
		fnv2(h, r->spf_results[i].result);
	}
}

/* Adds the record to the report's totals.  Counts are bounded by 2^53 (a
 * double holds every integer up to there, so JSON and every summary stay
 * exact) and so is their sum, which therefore never wraps. */
static int
rec_count(struct parser *p, const struct dmarc_record *r)
{
	uint64_t h[2];

	if ((uint64_t)r->count > COUNT_MAX) {
		parser_fail(
		    p,
		    "record count %lld at line %lu is larger than 2^53: "
		    "not a real count (refused rather than stored "
		    "wrapped)",
		    (long long)r->count, r->line);
		return -1;
	}
	if (p->res->messages + (uint64_t)r->count > COUNT_MAX) {
		parser_fail(
		    p,
		    "the record counts add up to more than 2^53 messages "
		    "by line %lu: not a real report (refused rather than "
		    "stored wrapped)",
		    r->line);
		return -1;
	}
	p->res->messages += (uint64_t)r->count;
	p->res->records++;
	/* Order-independent: the sum of the records' mixed hashes, so the
	 * same records in another order are the same report.  The chained
	 * hash of earlier versions is kept for reports they stored. */
	h[0] = FNV1A_BASIS;
	h[1] = p->res->hash_ordered;
	rec_hash(h, r);
	p->res->hash += mix64(h[0]);
	p->res->hash_ordered = h[1];
	return 0;
}

static void
rec_warn(struct parser *p, const struct rec *r)
{
	if (!r->row_seen)
		warn_add(&p->res->warnings, "norow",
		         "record at line %lu has no <row>", r->line);
	if (!r->count_seen && r->row_seen)
		warn_add(&p->res->warnings, "nocount",
		         "record at line %lu has no count, taken as 0",
		         r->line);
	if (r->ip == NOFF && r->row_seen)
		warn_add(
		    &p->res->warnings, "noip",
		    "record at line %lu has no usable source_ip (count %lld); "
		    "stored without an address",
		    r->line, (long long)r->count);
}

/* Builds the record from its arena offsets into out. */
static void
rec_build(struct parser *p, struct dmarc_record *out)
{
	struct rec *r = &p->rec;
	size_t i;

	memset(out, 0, sizeof(*out));
	out->line = r->line;
	out->source_ip = arena_get(p, r->ip);
	out->count = r->count;
	out->disposition = arena_get(p, r->disp);
	out->dkim = arena_get(p, r->pe_dkim);
	out->spf = arena_get(p, r->pe_spf);
	out->header_from = arena_get(p, r->hf);
	out->envelope_from = arena_get(p, r->ef);
	out->envelope_to = arena_get(p, r->et);
	for (i = 0; i < r->nreasons; i++) {
		p->reasons[i].type = arena_get(p, r->reasons[i].type);
		p->reasons[i].type_original = arena_get(p, r->reasons[i].orig);
		p->reasons[i].comment = arena_get(p, r->reasons[i].comment);
	}
	for (i = 0; i < r->ndkim; i++) {
		p->dkim[i].domain = arena_get(p, r->dkim[i].domain);
		p->dkim[i].selector = arena_get(p, r->dkim[i].selector);
		p->dkim[i].result = arena_get(p, r->dkim[i].result);
		p->dkim[i].human_result = arena_get(p, r->dkim[i].human);
	}
	for (i = 0; i < r->nspf; i++) {
		p->spf[i].domain = arena_get(p, r->spf[i].domain);
		p->spf[i].scope = arena_get(p, r->spf[i].scope);
		p->spf[i].result = arena_get(p, r->spf[i].result);
		p->spf[i].human_result = arena_get(p, r->spf[i].human);
	}
	out->reasons = p->reasons;
	out->nreasons = r->nreasons;
	out->dkim_results = p->dkim;
	out->ndkim = r->ndkim;
	out->spf_results = p->spf;
	out->nspf = r->nspf;
}

void
parser_rec_finish(struct parser *p)
{
	struct rec *r = &p->rec;
	struct dmarc_record out;
	struct err e;

	if (p->failed)
		return;
	if (ensure_out(p, (void **)&p->reasons, &p->capreasons, r->nreasons,
	               sizeof(*p->reasons)) == -1 ||
	    ensure_out(p, (void **)&p->dkim, &p->capdkim, r->ndkim,
	               sizeof(*p->dkim)) == -1 ||
	    ensure_out(p, (void **)&p->spf, &p->capspf, r->nspf,
	               sizeof(*p->spf)) == -1)
		return;
	rec_warn(p, r);
	rec_build(p, &out);
	if (rec_count(p, &out) == -1)
		return;
	if (p->h->record != NULL && p->h->record(p->h->arg, &out, &e) == -1) {
		err_set(p->e, "%s", e.msg);
		p->failed = p->handler_failed = 1;
		xmlStopParser(p->ctxt);
	}
}

/*
 * pg-rows.c - a record as the rows PostgreSQL's COPY reads (text format):
 * its fields escaped as COPY wants them, its DKIM and SPF results as
 * array literals, its override reasons as rows of their own.  Shared by
 * the two write paths, staging (store-pg-write.c) and the tables
 * (store-pg-direct.c), which say where each row goes (pg_emit_fn).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "ascii.h"
#include "pg-impl.h"

/* Room in b for a value of n bytes, every byte escaped, and 3 more,
 * reserved once so that the bytes are written in place rather than
 * appended run by run: where to write, or NULL with e filled. */
static char *
escaped_room(struct buf *b, size_t n, struct err *e)
{
	if (n > (SIZE_MAX - 3) / 2) {
		err_set(e, "a value of %zu bytes is too long to store", n);
		return NULL;
	}
	return buf_reserve(b, 3 + 2 * n, e) == -1 ? NULL : b->data + b->len;
}

int
pg_copy_field(struct buf *b, const char *s, struct err *e)
{
	size_t n = s != NULL ? strlen(s) : 0;
	char *w = escaped_room(b, n, e);

	if (w == NULL)
		return -1;
	*w++ = '\t';
	if (s == NULL) {
		*w++ = '\\';
		*w++ = 'N';
	}
	for (; n > 0; n--, s++) {
		char esc = *s == '\\'   ? '\\'
		           : *s == '\n' ? 'n'
		           : *s == '\r' ? 'r'
		           : *s == '\t' ? 't'
		                        : 0;
		if (esc != 0) {
			*w++ = '\\';
			*w++ = esc;
		} else
			*w++ = *s;
	}
	b->len = (size_t)(w - b->data);
	b->data[b->len] = '\0';
	return 0;
}

int
pg_copy_int(struct buf *b, int64_t v, struct err *e)
{
	char d[1 + ASCII_DECIMAL_MAX];

	d[0] = '\t';
	return buf_append(b, d, 1 + ascii_decimal(d + 1, v), e);
}

/* s quoted as an element of an array literal, " and \ escaped. */
static int
array_element(struct buf *b, const char *s, struct err *e)
{
	size_t n = strlen(s);
	char *w = escaped_room(b, n, e);

	if (w == NULL)
		return -1;
	*w++ = '"';
	for (; n > 0; n--, s++) {
		if (*s == '"' || *s == '\\')
			*w++ = '\\';
		*w++ = *s;
	}
	*w++ = '"';
	b->len = (size_t)(w - b->data);
	return 0;
}

/* The n results at v (structs of `size` bytes, their four fields at
 * off[]) as a two-dimensional text[] literal and its NUL, appended to b:
 * a row per result, every element quoted (NULL unquoted). */
static int
results_literal(struct buf *b, const void *v, size_t size, size_t n,
                const size_t off[4], struct err *e)
{
	size_t i, k;

	if (buf_appendc(b, '{', e) == -1)
		return -1;
	for (i = 0; i < n; i++) {
		if ((i > 0 && buf_appendc(b, ',', e) == -1) ||
		    buf_appendc(b, '{', e) == -1)
			return -1;
		for (k = 0; k < 4; k++) {
			const char *s =
			    *(const char *const *)((const char *)v + i * size +
			                           off[k]);

			if ((k > 0 && buf_appendc(b, ',', e) == -1) ||
			    (s == NULL ? buf_append(b, "NULL", 4, e)
			               : array_element(b, s, e)) == -1)
				return -1;
		}
		if (buf_appendc(b, '}', e) == -1)
			return -1;
	}
	return buf_append(b, "}", 2, e); /* and the NUL */
}

/* Record r's DKIM and SPF results as the arrays of its row
 * (PG_RECORD_FIELDS), into f[0] and f[1]: NULL for a kind the record has
 * none of. */
static int
record_arrays(const struct dmarc_record *r, struct buf *b, const char **f,
              struct err *e)
{
	static const size_t dkim[4] = {
	    offsetof(struct dmarc_dkim, domain),
	    offsetof(struct dmarc_dkim, selector),
	    offsetof(struct dmarc_dkim, result),
	    offsetof(struct dmarc_dkim, human_result)};
	static const size_t spf[4] = {offsetof(struct dmarc_spf, domain),
	                              offsetof(struct dmarc_spf, scope),
	                              offsetof(struct dmarc_spf, result),
	                              offsetof(struct dmarc_spf, human_result)};
	size_t spf_at;

	buf_reset(b);
	if (r->ndkim > 0 &&
	    results_literal(b, r->dkim_results, sizeof(struct dmarc_dkim),
	                    r->ndkim, dkim, e) == -1)
		return -1;
	spf_at = b->len;
	if (r->nspf > 0 &&
	    results_literal(b, r->spf_results, sizeof(struct dmarc_spf),
	                    r->nspf, spf, e) == -1)
		return -1;
	/* b's data may have moved while it grew */
	f[0] = r->ndkim > 0 ? b->data : NULL;
	f[1] = r->nspf > 0 ? b->data + spf_at : NULL;
	return 0;
}

/* The rows of one record, kind by kind (PG_T_RECORDS, PG_T_REASONS),
 * each as its fields, to emit: for staging or for the tables. */
int
pg_record_rows(const struct dmarc_record *r, int32_t rec, struct buf *arrays,
               pg_emit_fn emit, void *arg, struct err *e)
{
	char count[ASCII_DECIMAL_MAX];
	const char *f[PG_RECORD_FIELDS] = {
	    r->source_ip, count,          r->disposition,   r->dkim,
	    r->spf,       r->header_from, r->envelope_from, r->envelope_to};
	size_t i;

	ascii_decimal(count, r->count);
	if (record_arrays(r, arrays, f + 8, e) == -1 ||
	    emit(arg, PG_T_RECORDS, rec, 0, f, PG_RECORD_FIELDS, e) == -1)
		return -1;
	for (i = 0; i < r->nreasons; i++) {
		const struct dmarc_reason *o = &r->reasons[i];
		const char *g[3] = {o->type, o->type_original, o->comment};
		if (emit(arg, PG_T_REASONS, rec, i, g, 3, e) == -1)
			return -1;
	}
	return 0;
}

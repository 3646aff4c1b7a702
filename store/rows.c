/*
 * rows.c - decoding the report queries' rows, and the row callbacks both
 * backends' walkers share (rows.h).
 */
#include "rows.h"

#include <stdlib.h>
#include <string.h>

#include "arf.h"

static const char *
t(const struct row *r, int col)
{
	return r->text(r->res, col, NULL);
}

static int64_t
n(const struct row *r, int col)
{
	return r->i64(r->res, col);
}

/* pct is NULL when the report did not give it: -1, as the parser says */
static int
pct(const struct row *r, int col)
{
	return t(r, col) == NULL ? -1 : (int)n(r, col);
}

void
row_report(const struct row *r, struct store_report_row *out)
{
	out->org_name = t(r, 0);
	out->report_id = t(r, 1);
	out->domain = t(r, 2);
	out->begin = n(r, 3);
	out->end = n(r, 4);
	out->records = (uint64_t)n(r, 5);
	out->messages = (uint64_t)n(r, 6);
	out->salvaged = (int)n(r, 7);
}

void
row_domain(const struct row *r, struct store_domain *d,
    struct dmarc_meta *m)
{
	memset(d, 0, sizeof(*d));
	memset(m, 0, sizeof(*m));
	m->domain = t(r, 0);
	d->first = n(r, 1);
	d->last = n(r, 2);
	d->reports = (uint64_t)n(r, 3);
	d->days = (uint64_t)n(r, 4);
	m->org_name = t(r, 5);
	m->report_id = t(r, 6);
	m->begin = n(r, 7);
	m->end = n(r, 8);
	m->has_begin = m->has_end = 1;
	m->adkim = t(r, 9);
	m->aspf = t(r, 10);
	m->p = t(r, 11);
	m->sp = t(r, 12);
	m->np = t(r, 13);
	m->pct = pct(r, 14);
	m->fo = t(r, 15);
	m->testing = t(r, 16);
	d->latest = m;
}

static void
record_meta(const struct row *r, struct dmarc_meta *m)
{
	memset(m, 0, sizeof(*m));
	m->org_name = t(r, 0);
	m->org_name_derived = (int)n(r, 1);
	m->email = t(r, 2);
	m->extra_contact_info = t(r, 3);
	m->report_id = t(r, 4);
	m->begin = n(r, 5);
	m->end = n(r, 6);
	m->has_begin = m->has_end = 1;
	m->errors = t(r, 7);
	m->generator = t(r, 8);
	m->version = t(r, 9);
	m->xmlns = t(r, 10);
	m->domain = t(r, 11);
	m->adkim = t(r, 12);
	m->aspf = t(r, 13);
	m->p = t(r, 14);
	m->sp = t(r, 15);
	m->np = t(r, 16);
	m->pct = pct(r, 17);
	m->fo = t(r, 18);
	m->testing = t(r, 19);
	m->discovery_method = t(r, 20);
}

int
row_record(const struct row *r, struct lists *l, struct dmarc_meta *m,
    struct dmarc_record *rec, struct err *e)
{
	const unsigned char *list[3];
	int len[3], i;

	record_meta(r, m);
	memset(rec, 0, sizeof(*rec));
	rec->source_ip = t(r, 21);
	rec->count = n(r, 22);
	rec->disposition = t(r, 23);
	rec->dkim = t(r, 24);
	rec->spf = t(r, 25);
	rec->header_from = t(r, 26);
	rec->envelope_from = t(r, 27);
	rec->envelope_to = t(r, 28);
	for (i = 0; i < 3; i++) {
		len[i] = 0;
		list[i] = (const unsigned char *)r->text(r->res, 29 + i,
		    &len[i]);
	}
	if (lists_dkim(l, list[0], len[0]) == -1 ||
	    lists_spf(l, list[1], len[1]) == -1 ||
	    lists_reasons(l, list[2], len[2]) == -1)
		return err_set(e, "out of memory");
	rec->dkim_results = l->dkim;
	rec->ndkim = l->t[0].n;
	rec->spf_results = l->spf;
	rec->nspf = l->t[1].n;
	rec->reasons = l->reason;
	rec->nreasons = l->t[2].n;
	return 0;
}

void
row_failure(const struct row *r, struct store_failure_row *out)
{
	const char **s[] = {&out->reported_domain, &out->source_ip,
	    &out->auth_failure, &out->original_mail_from,
	    &out->original_rcpt_to, &out->dkim_domain, &out->dkim_selector,
	    &out->identity_alignment, &out->delivery_result, &out->reporter,
	    &out->subject, &out->arrival_date};
	int i;

	out->at = n(r, 0);
	for (i = 0; i < 12; i++)
		*s[i] = t(r, i + 1);
}

void
row_name(const struct row *r, struct store_name *out)
{
	out->ip = t(r, 0);
	out->result = t(r, 1);
	out->name = t(r, 2);
	out->confirmed = (int)n(r, 3);
	out->ttl = n(r, 4);
	out->resolved_at = n(r, 5);
	out->expires_at = n(r, 6);
}

int
row_each_record(const struct row *r, void *arg, struct err *e)
{
	struct row_records *w = arg;
	struct dmarc_meta m;
	struct dmarc_record rec;

	if (row_record(r, &w->l, &m, &rec, e) == -1)
		return -1;
	return w->cb(w->arg, &m, &rec, e);
}

int
row_each_domain(const struct row *r, void *arg, struct err *e)
{
	struct row_domains *w = arg;
	struct store_domain d;
	struct dmarc_meta m;

	row_domain(r, &d, &m);
	return w->cb(w->arg, &d, e);
}

int
row_each_failure(const struct row *r, void *arg, struct err *e)
{
	struct row_failures *w = arg;
	struct store_failure_row out;

	row_failure(r, &out);
	return w->cb(w->arg, &out, e);
}

int
row_each_name(const struct row *r, void *arg, struct err *e)
{
	struct row_names *w = arg;
	struct store_name n;

	row_name(r, &n);
	return w->cb(w->arg, &n, e);
}

static int
hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* The body column: hex from either backend (SQLite's hex() is upper case,
 * PostgreSQL's encode() lower case). */
static int
hex_body(const struct row *r, int col, struct arf_report *a, struct err *e)
{
	const char *h;
	int len = 0, hi, lo;

	a->body = NULL;
	a->body_len = 0;
	if ((h = r->text(r->res, col, &len)) == NULL)
		return 0;
	if (len % 2 != 0)
		return err_set(e, "a kept failure report's body is not hex");
	/* one byte more, so that an empty body is not NULL (none kept) */
	if ((a->body = malloc((size_t)len / 2 + 1)) == NULL)
		return err_set(e, "out of memory");
	for (int i = 0; i < len; i += 2) {
		if ((hi = hex_digit(h[i])) < 0 || (lo = hex_digit(h[i + 1])) < 0) {
			free(a->body);
			a->body = NULL;
			return err_set(e,
			    "a kept failure report's body is not hex");
		}
		a->body[a->body_len++] = (unsigned char)(hi << 4 | lo);
	}
	return 0;
}

/* A kept row's text as the report's field: the report is only read. */
static char *
field(const struct row *r, int col)
{
	return (char *)t(r, col);
}

int
row_each_failure_kept(const struct row *r, void *arg, struct err *e)
{
	struct row_failures_kept *w = arg;
	struct store_failure_kept k;
	struct arf_report a;
	const char *fp;
	int rc;

	memset(&a, 0, sizeof(a));
	k.id = n(r, 0);
	k.source = t(r, 1);
	k.r = &a;
	if ((fp = t(r, 2)) == NULL || strlen(fp) >= sizeof(a.fingerprint))
		return err_set(e, "failure report %lld: its fingerprint is "
				  "not a SHA-256", (long long)k.id);
	memcpy(a.fingerprint, fp, strlen(fp) + 1);
	a.feedback_type = field(r, 3);
	a.auth_failure = field(r, 4);
	a.source_ip = field(r, 5);
	a.reported_domain = field(r, 6);
	a.original_mail_from = field(r, 7);
	a.original_rcpt_to = field(r, 8);
	a.arrival_date = field(r, 9);
	a.at = n(r, 10);
	a.dkim_domain = field(r, 11);
	a.dkim_selector = field(r, 12);
	a.identity_alignment = field(r, 13);
	a.delivery_result = field(r, 14);
	a.reporter = field(r, 15);
	a.subject = field(r, 16);
	a.feedback = field(r, 17);
	a.headers = field(r, 18);
	if (hex_body(r, ROW_FAILURE_KEPT_COLUMNS - 1, &a, e) == -1)
		return -1;
	rc = w->cb(w->arg, &k, e);
	free(a.body);
	return rc;
}

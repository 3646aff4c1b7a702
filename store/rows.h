/*
 * rows.h - the rows of the report queries decoded once for both backends.
 * Private to store/.
 *
 * The SQLite and PostgreSQL queries select the same columns in the same
 * order (so that dmarc-report prints the same on both); a backend wraps
 * its current result row in a struct row (three accessors) and the
 * functions here fill the structures of store.h from it.  The pointers
 * they set are the backend's, valid until its next row.
 *
 * Both backends walk a query's rows the same way (sq_walk(), pg_stream()),
 * calling a row_fn for each row; the row_each_*() callbacks below are the
 * ones both use, each handing the decoded row to report/'s callback.
 */
#ifndef DMARCSIFT_ROWS_H
#define DMARCSIFT_ROWS_H

#include <stddef.h>
#include <stdint.h>

#include "lists.h"
#include "store.h"

struct row {
	const void *res; /* the backend's statement or result */
	/* column col as text, NULL for SQL NULL; *len its bytes (len may
	 * be NULL) */
	const char *(*text)(const void *res, int col, int *len);
	/* column col as an integer, 0 for NULL */
	int64_t (*i64)(const void *res, int col);
};

/* SELECT org_name, report_id, domain, begin, end, record_count,
 * message_count, salvaged */
void row_report(const struct row *r, struct store_report_row *out);

/* SELECT domain, first, last, reports, days, then the latest report's
 * org_name, report_id, begin, end, adkim, aspf, p, sp, np, pct, fo,
 * testing */
void row_domain(const struct row *r, struct store_domain *d,
    struct dmarc_meta *latest);

/* SELECT the report's 21 header columns (org_name ... discovery_method,
 * as pg_each_record), the record's 8, then its DKIM, SPF and reason lists
 * (lists.h); the lists are split into l.  -1 out of memory. */
int row_record(const struct row *r, struct lists *l, struct dmarc_meta *m,
    struct dmarc_record *rec, struct err *e);

/* SELECT at, reported_domain, source_ip, auth_failure, original_mail_from,
 * original_rcpt_to, dkim_domain, dkim_selector, identity_alignment,
 * delivery_result, reporter, subject, arrival_date */
void row_failure(const struct row *r, struct store_failure_row *out);

/* SELECT id, source, fingerprint, feedback_type, auth_failure, source_ip,
 * reported_domain, original_mail_from, original_rcpt_to, arrival_date, at,
 * dkim_domain, dkim_selector, identity_alignment, delivery_result,
 * reporter, subject, feedback, original_headers, then the body in hex
 * (either case; NULL when none was kept): both backends give bytes the
 * same way.  The body is decoded into memory the walker frees. */
#define ROW_FAILURE_KEPT_COLUMNS 20

/* SELECT ip, result, name, confirmed, ttl, resolved_at, expires_at */
void row_name(const struct row *r, struct store_name *out);

/* Called by a backend's walker for each row of a query; -1 stops it. */
typedef int (*row_fn)(const struct row *r, void *arg, struct err *e);

/* The walkers' arguments: the caller's callback and its argument (and,
 * for records, the lists the rows are split into, freed by the caller
 * with lists_free()). */
struct row_records {
	struct lists l;
	int (*cb)(void *arg, const struct dmarc_meta *m,
	    const struct dmarc_record *r, struct err *e);
	void *arg;
};
struct row_domains {
	int (*cb)(void *arg, const struct store_domain *d, struct err *e);
	void *arg;
};
struct row_failures {
	int (*cb)(void *arg, const struct store_failure_row *r, struct err *e);
	void *arg;
};
struct row_failures_kept {
	int (*cb)(void *arg, const struct store_failure_kept *k,
	    struct err *e);
	void *arg;
};
struct row_names {
	int (*cb)(void *arg, const struct store_name *n, struct err *e);
	void *arg;
};

/* row_fns: arg is the struct row_records (row_domains...) above; each
 * decodes the row as row_record() (row_domain()...) and calls cb. */
int row_each_record(const struct row *r, void *arg, struct err *e);
int row_each_domain(const struct row *r, void *arg, struct err *e);
int row_each_failure(const struct row *r, void *arg, struct err *e);
int row_each_name(const struct row *r, void *arg, struct err *e);
int row_each_failure_kept(const struct row *r, void *arg, struct err *e);

#endif

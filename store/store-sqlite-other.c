/*
 * store-sqlite-other.c - the SQLite backend's part of store.h for reports
 * that are not DMARC aggregate reports (SMTP TLS reports, DMARC failure
 * reports), and retention (prune) for every kind.
 *
 * These reports come by the handful a day, so their statements are
 * prepared when used rather than kept open like the aggregate path's.
 * Each report is written inside a savepoint of the current batch: whole or
 * not at all.  The tables are made by migration-other.h.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "arf.h"
#include "migrations.h"
#include "rows.h"
#include "sqlite-impl.h"
#include "tlsrpt.h"

static int
prepare(struct sq *q, const char *sql, sqlite3_stmt **st, struct err *e,
        const char *what)
{
	if (sqlite3_prepare_v2(q->db, sql, -1, st, NULL) != SQLITE_OK) {
		*st = NULL;
		return sq_err(q, e, what);
	}
	return 0;
}

/* Steps a statement that returns no rows and finalizes it. */
static int
done(struct sq *q, sqlite3_stmt *st, struct err *e, const char *what)
{
	return sq_finish(q, st, sqlite3_step(st), e, what);
}

/* Looks a key up: *id is the row's id, 0 when absent. */
static int
find_id(struct sq *q, const char *sql, const char *a, const char *b,
        int64_t *id, struct err *e)
{
	sqlite3_stmt *st;
	int rc;

	if (prepare(q, sql, &st, e, "cannot look up the report") == -1)
		return -1;
	sq_bind_str(st, 1, a);
	if (sqlite3_bind_parameter_count(st) > 1)
		sq_bind_str(st, 2, b);
	rc = sqlite3_step(st);
	*id = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return sq_err(q, e, "cannot look up the report");
	return 0;
}

/* --- SMTP TLS reports ---------------------------------------------------- */

static int
insert_failure(struct sq *q, sqlite3_stmt *st, int64_t policy, size_t idx,
               const struct tlsrpt_failure *f, struct err *e)
{
	sqlite3_reset(st);
	sqlite3_bind_int64(st, 1, policy);
	sqlite3_bind_int64(st, 2, (int64_t)idx);
	sq_bind_str(st, 3, f->result_type);
	sq_bind_str(st, 4, f->sending_mta_ip);
	sq_bind_str(st, 5, f->receiving_mx_hostname);
	sq_bind_str(st, 6, f->receiving_mx_helo);
	sq_bind_str(st, 7, f->receiving_ip);
	sqlite3_bind_int64(st, 8, f->failed_sessions);
	sq_bind_str(st, 9, f->additional_info);
	sq_bind_str(st, 10, f->failure_reason_code);
	if (sqlite3_step(st) != SQLITE_DONE)
		return sq_err(q, e, "cannot store a TLS failure detail");
	return 0;
}

static int
insert_policies(struct sq *q, int64_t report, const struct tlsrpt_report *r,
                struct err *e)
{
	sqlite3_stmt *pst = NULL, *fst = NULL;
	int64_t pid;
	size_t i, k;
	int rc = -1;

	if (prepare(q,
	            "INSERT INTO tls_policies (report, idx, policy_type, "
	            "policy_domain, policy_string, mx_host, successful, "
	            "failed) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
	            &pst, e, "cannot store a TLS policy") == -1 ||
	    prepare(q,
	            "INSERT INTO tls_failures (policy, idx, result_type, "
	            "sending_mta_ip, receiving_mx_hostname, "
	            "receiving_mx_helo, receiving_ip, failed_sessions, "
	            "additional_info, failure_reason_code) VALUES "
	            "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
	            &fst, e, "cannot store a TLS failure detail") == -1)
		goto out;
	for (i = 0; i < r->npolicies; i++) {
		const struct tlsrpt_policy *p = &r->policies[i];
		sqlite3_reset(pst);
		sqlite3_bind_int64(pst, 1, report);
		sqlite3_bind_int64(pst, 2, (int64_t)i);
		sq_bind_str(pst, 3, p->policy_type);
		sq_bind_str(pst, 4, p->policy_domain);
		sq_bind_str(pst, 5, p->policy_string);
		sq_bind_str(pst, 6, p->mx_host);
		sqlite3_bind_int64(pst, 7, p->successful);
		sqlite3_bind_int64(pst, 8, p->failed);
		if (sqlite3_step(pst) != SQLITE_DONE) {
			sq_err(q, e, "cannot store a TLS policy");
			goto out;
		}
		pid = sqlite3_last_insert_rowid(q->db);
		for (k = 0; k < p->nfailures; k++)
			if (insert_failure(q, fst, pid, k, &p->failures[k],
			                   e) == -1)
				goto out;
	}
	rc = 0;
out:
	sqlite3_finalize(pst);
	sqlite3_finalize(fst);
	return rc;
}

static int
insert_tls(struct sq *q, const struct tlsrpt_report *r,
           struct store_payload *raw, const char *source, const char *member,
           int64_t *id, struct err *e)
{
	sqlite3_stmt *st;

	if (raw != NULL && raw->stored_id == 0) {
		if (sq_store_raw(q, raw, e) == -1)
			return -1;
		q->raw_new = NULL; /* ours to forget on rollback */
	}
	if (prepare(q,
	            "INSERT INTO tls_reports (organization, report_id, "
	            "contact_info, begin_ts, end_ts, source, ingested_at, "
	            "raw_payload, raw_member) VALUES (?, ?, ?, ?, ?, ?, ?, "
	            "?, ?)",
	            &st, e, "cannot store the TLS report") == -1)
		return -1;
	sq_bind_str(st, 1, r->organization);
	sq_bind_str(st, 2, r->report_id);
	sq_bind_str(st, 3, r->contact_info);
	sqlite3_bind_int64(st, 4, r->begin);
	sqlite3_bind_int64(st, 5, r->end);
	sq_bind_str(st, 6, source);
	sqlite3_bind_int64(st, 7, (int64_t)time(NULL));
	if (raw != NULL && raw->stored_id != 0)
		sqlite3_bind_int64(st, 8, raw->stored_id);
	else
		sqlite3_bind_null(st, 8);
	sq_bind_str(st, 9, member && member[0] ? member : NULL);
	if (done(q, st, e, "cannot store the TLS report") == -1)
		return -1;
	*id = sqlite3_last_insert_rowid(q->db);
	return insert_policies(q, *id, r, e);
}

int
sq_tls_report(void *impl, const struct tlsrpt_report *r,
              struct store_payload *raw, const char *source, const char *member,
              enum store_outcome *outcome, int64_t *id, struct err *e)
{
	struct sq *q = impl;
	int64_t had = raw ? raw->stored_id : 0;

	if (find_id(q,
	            "SELECT id FROM tls_reports WHERE organization = ? AND "
	            "report_id = ?",
	            r->organization, r->report_id, id, e) == -1)
		return -1;
	if (*id != 0) {
		*outcome = STORE_DUPLICATE;
		return 0;
	}
	if (sq_exec(q, "SAVEPOINT tls_report", e,
	          "cannot store the TLS report") == -1)
		return -1;
	if (insert_tls(q, r, raw, source, member, id, e) == -1) {
		sq_exec(q, "ROLLBACK TO tls_report; RELEASE tls_report", e, "x");
		if (raw != NULL)
			raw->stored_id = had; /* its row is gone too */
		return -1;
	}
	*outcome = STORE_STORED;
	return sq_exec(q, "RELEASE tls_report", e, "cannot store the TLS report");
}

/* --- DMARC failure reports ----------------------------------------------- */

int
sq_failure_report(void *impl, const struct arf_report *r, const char *source,
                  enum store_outcome *outcome, int64_t *id, struct err *e)
{
	struct sq *q = impl;
	sqlite3_stmt *st;

	if (find_id(q, "SELECT id FROM failure_reports WHERE fingerprint = ?",
	            r->fingerprint, NULL, id, e) == -1)
		return -1;
	if (*id != 0) {
		*outcome = STORE_DUPLICATE;
		return 0;
	}
	if (prepare(q,
	            "INSERT INTO failure_reports (fingerprint, "
	            "feedback_type, auth_failure, source_ip, "
	            "reported_domain, original_mail_from, original_rcpt_to, "
	            "arrival_date, at_ts, dkim_domain, dkim_selector, "
	            "identity_alignment, delivery_result, reporter, subject, "
	            "feedback, original_headers, original_body, source, "
	            "ingested_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, "
	            "?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20)",
	            &st, e, "cannot store the failure report") == -1)
		return -1;
	sq_bind_str(st, 1, r->fingerprint);
	sq_bind_str(st, 2, r->feedback_type);
	sq_bind_str(st, 3, r->auth_failure);
	sq_bind_str(st, 4, r->source_ip);
	sq_bind_str(st, 5, r->reported_domain);
	sq_bind_str(st, 6, r->original_mail_from);
	sq_bind_str(st, 7, r->original_rcpt_to);
	sq_bind_str(st, 8, r->arrival_date);
	sqlite3_bind_int64(st, 9, r->at ? r->at : (int64_t)time(NULL));
	sq_bind_str(st, 10, r->dkim_domain);
	sq_bind_str(st, 11, r->dkim_selector);
	sq_bind_str(st, 12, r->identity_alignment);
	sq_bind_str(st, 13, r->delivery_result);
	sq_bind_str(st, 14, r->reporter);
	sq_bind_str(st, 15, r->subject);
	sq_bind_str(st, 16, r->feedback);
	sq_bind_str(st, 17, r->headers);
	if (r->body != NULL)
		sqlite3_bind_blob64(st, 18, r->body, r->body_len,
		                    SQLITE_STATIC);
	else
		sqlite3_bind_null(st, 18);
	sq_bind_str(st, 19, source);
	sqlite3_bind_int64(st, 20, (int64_t)time(NULL));
	if (done(q, st, e, "cannot store the failure report") == -1)
		return -1;
	*id = sqlite3_last_insert_rowid(q->db);
	*outcome = STORE_STORED;
	return 0;
}

/* The columns rows.h's row_each_failure_kept() reads, in its order. */
#define FAILURE_KEPT_COLUMNS                                                  \
	"id, source, fingerprint, feedback_type, auth_failure, source_ip, "   \
	"reported_domain, original_mail_from, original_rcpt_to, "             \
	"arrival_date, at_ts, dkim_domain, dkim_selector, "                   \
	"identity_alignment, delivery_result, reporter, subject, feedback, "  \
	"original_headers, "

int
sq_each_failure_kept(void *impl,
                     int (*cb)(void *arg, const struct store_failure_kept *k,
                               struct err *e),
                     void *arg, struct err *e)
{
	struct sq *q = impl;
	struct row_failures_kept w = {cb, arg};
	sqlite3_stmt *st;

	/* hex(NULL) is '', not NULL: a body never kept must stay NULL */
	if (prepare(q,
	            "SELECT " FAILURE_KEPT_COLUMNS
	            "CASE WHEN original_body IS NULL THEN NULL ELSE "
	            "hex(original_body) END FROM failure_reports ORDER BY id",
	            &st, e, "cannot read the failure reports") == -1)
		return -1;
	return sq_walk(q, st, row_each_failure_kept, &w, e,
	               "cannot read the failure reports");
}

/* --- queries -------------------------------------------------------------- */

#define TLS_FAILURES_MAX 64 /* failure types listed per domain and day */

/* The failure types of one domain and day. */
static int
tls_failures(struct sq *q, sqlite3_stmt *st, struct store_tls_day *d,
             const struct store_filter *f, struct store_tls_failure *out,
             struct err *e)
{
	int rc;

	sqlite3_reset(st);
	sq_bind_str(st, 1, d->domain);
	sqlite3_bind_int64(st, 2, d->day);
	sqlite3_bind_int64(st, 3, f->since);
	sqlite3_bind_int64(st, 4, f->until ? f->until : INT64_MAX);
	d->nfailures = 0;
	/* the texts are copied: a step invalidates the previous row's */
	while ((rc = sqlite3_step(st)) == SQLITE_ROW &&
	       d->nfailures < TLS_FAILURES_MAX) {
		struct store_tls_failure *x = &out[d->nfailures];
		const char *t = (const char *)sqlite3_column_text(st, 0);
		const char *mx = (const char *)sqlite3_column_text(st, 1);
		x->result_type = t ? strdup(t) : NULL;
		x->receiving_mx = mx ? strdup(mx) : NULL;
		x->sessions = (uint64_t)sqlite3_column_int64(st, 2);
		d->nfailures++;
		if ((t && !x->result_type) || (mx && !x->receiving_mx))
			return err_set(e, "out of memory");
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		sq_err(q, e, "cannot query the TLS failures");
		return -1; /* the caller frees the rows copied so far */
	}
	d->failures = out;
	return 0;
}

int
sq_each_tls_day(void *impl, const struct store_filter *f,
                int (*cb)(void *arg, const struct store_tls_day *d,
                          struct err *e),
                void *arg, struct err *e)
{
	struct sq *q = impl;
	struct store_tls_failure fl[TLS_FAILURES_MAX];
	struct store_tls_day d;
	sqlite3_stmt *st, *fst;
	int rc = SQLITE_DONE, rc2;

	if (sq_prepare_filtered(
	        q,
	        "SELECT p.policy_domain, t.begin_ts / 86400 * 86400 AS day, "
	        "group_concat(DISTINCT p.policy_type), count(DISTINCT t.id), "
	        "sum(p.successful), sum(p.failed) FROM tls_reports t JOIN "
	        "tls_policies p ON p.report = t.id WHERE t.begin_ts >= ?1 AND "
	        "t.begin_ts < ?2",
	        "p.policy_domain",
	        " GROUP BY p.policy_domain, day ORDER BY "
	        "p.policy_domain, day",
	        f, &st, e, "cannot query the TLS reports") == -1)
		return -1;
	/* the sessions of the same rows, by failure type and receiving MX */
	if (prepare(
	        q,
	        "SELECT f.result_type, coalesce(f.receiving_mx_hostname, "
	        "f.receiving_ip), sum(f.failed_sessions) FROM tls_failures f "
	        "JOIN tls_policies p ON f.policy = p.id JOIN tls_reports t ON "
	        "p.report = t.id WHERE p.policy_domain = ?1 AND t.begin_ts / "
	        "86400 * 86400 = ?2 AND t.begin_ts >= ?3 AND t.begin_ts < ?4 "
	        "GROUP BY 1, 2 ORDER BY 3 DESC, 1, 2",
	        &fst, e, "cannot query the TLS failures") == -1) {
		sqlite3_finalize(st);
		return -1;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		memset(&d, 0, sizeof(d));
		d.domain = (const char *)sqlite3_column_text(st, 0);
		d.day = sqlite3_column_int64(st, 1);
		d.policy_type = (const char *)sqlite3_column_text(st, 2);
		d.reports = (uint64_t)sqlite3_column_int64(st, 3);
		d.successful = (uint64_t)sqlite3_column_int64(st, 4);
		d.failed = (uint64_t)sqlite3_column_int64(st, 5);
		rc2 = tls_failures(q, fst, &d, f, fl, e) == -1 ||
		      cb(arg, &d, e) == -1;
		for (size_t i = 0; i < d.nfailures; i++) {
			free((char *)fl[i].result_type);
			free((char *)fl[i].receiving_mx);
		}
		if (rc2)
			break;
	}
	sqlite3_finalize(fst);
	sqlite3_finalize(st);
	if (rc == SQLITE_ROW)
		return -1;
	if (rc != SQLITE_DONE)
		return sq_err(q, e, "cannot query the TLS reports");
	return 0;
}

int
sq_each_failure(void *impl, const struct store_filter *f,
                int (*cb)(void *arg, const struct store_failure_row *r,
                          struct err *e),
                void *arg, struct err *e)
{
	struct sq *q = impl;
	struct row_failures w = {cb, arg};
	sqlite3_stmt *st;

	if (sq_prepare_filtered(
	        q,
	        "SELECT at_ts, reported_domain, source_ip, auth_failure, "
	        "original_mail_from, original_rcpt_to, dkim_domain, "
	        "dkim_selector, identity_alignment, delivery_result, reporter, "
	        "subject, arrival_date FROM failure_reports WHERE at_ts >= ?1 "
	        "AND at_ts < ?2",
	        "reported_domain", " ORDER BY at_ts, id", f, &st, e,
	        "cannot query the failure reports") == -1)
		return -1;
	return sq_walk(q, st, row_each_failure, &w, e,
	               "cannot query the failure reports");
}

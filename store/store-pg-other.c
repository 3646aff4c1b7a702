/*
 * store-pg-other.c - the PostgreSQL backend's part of store.h for the
 * reports that are not DMARC aggregate reports (SMTP TLS reports, DMARC
 * failure reports) and for the names of source addresses: what
 * store-sqlite-other.c and store-sqlite-names.c do on SQLite, on the
 * tables of pg-schema.c step 2, handing report/ the same rows in the same
 * order.
 *
 * These come by the handful a day: one statement per row, no COPY.  A
 * report is written in a savepoint of the batch (or a transaction of its
 * own outside one): whole or not at all.  Its key is claimed with ON
 * CONFLICT DO NOTHING, so that two writers storing the same report at once
 * store it once, as for aggregate reports (store-pg.c).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "arf.h"
#include "pg-impl.h"
#include "rows.h"
#include "tlsrpt.h"

#define I64(buf, v) (snprintf((buf), sizeof(buf), "%" PRId64, (int64_t)(v)), (buf))

/* Runs sql and returns the first column of its first row in *id (0 when
 * there is no row). */
static int
returning(struct pg *p, const char *sql, int n, const char *const *params,
    int64_t *id, struct err *e, const char *what)
{
	PGresult *r = pg_exec(p, sql, n, params, PGRES_TUPLES_OK, e, what);

	if (r == NULL)
		return -1;
	*id = PQntuples(r) > 0 ? pg_i64(r, 0) : 0;
	PQclear(r);
	return 0;
}

/* A savepoint in the batch, or a transaction when there is none. */
static int
part_begin(struct pg *p, struct err *e)
{
	return pg_run(p, p->in_batch ? "SAVEPOINT other" : "BEGIN", e,
	    "cannot start the report");
}

static int
part_end(struct pg *p, int ok, struct err *e)
{
	if (ok)
		return pg_run(p, p->in_batch ? "RELEASE SAVEPOINT other" : "COMMIT",
		    e, "cannot complete the report");
	PQclear(PQexec(p->c, p->in_batch
				 ? "ROLLBACK TO SAVEPOINT other; RELEASE "
				   "SAVEPOINT other"
				 : "ROLLBACK"));
	return -1;
}

/* --- SMTP TLS reports ---------------------------------------------------- */

static int
insert_failures(struct pg *p, int64_t policy, const struct tlsrpt_policy *pol,
    struct err *e)
{
	char pid[24], idx[24], n[24];
	size_t k;

	for (k = 0; k < pol->nfailures; k++) {
		const struct tlsrpt_failure *f = &pol->failures[k];
		const char *params[10] = {I64(pid, policy), I64(idx, k),
		    f->result_type, f->sending_mta_ip, f->receiving_mx_hostname,
		    f->receiving_mx_helo, f->receiving_ip,
		    I64(n, f->failed_sessions), f->additional_info,
		    f->failure_reason_code};
		PGresult *r = pg_exec(p,
		    "INSERT INTO tls_failures (policy, idx, result_type, "
		    "sending_mta_ip, receiving_mx_hostname, receiving_mx_helo, "
		    "receiving_ip, failed_sessions, additional_info, "
		    "failure_reason_code) VALUES ($1, $2, $3, $4, $5, $6, $7, "
		    "$8, $9, $10)",
		    10, params, PGRES_COMMAND_OK, e,
		    "cannot store a TLS failure detail");
		if (r == NULL)
			return -1;
		PQclear(r);
	}
	return 0;
}

static int
insert_policies(struct pg *p, int64_t report, const struct tlsrpt_report *r,
    struct err *e)
{
	char rid[24], idx[24], ok[24], bad[24];
	int64_t pid;
	size_t i;

	for (i = 0; i < r->npolicies; i++) {
		const struct tlsrpt_policy *pol = &r->policies[i];
		const char *params[8] = {I64(rid, report), I64(idx, i),
		    pol->policy_type, pol->policy_domain, pol->policy_string,
		    pol->mx_host, I64(ok, pol->successful),
		    I64(bad, pol->failed)};

		if (returning(p,
			"INSERT INTO tls_policies (report, idx, policy_type, "
			"policy_domain, policy_string, mx_host, successful, "
			"failed) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) "
			"RETURNING id",
			8, params, &pid, e, "cannot store a TLS policy") == -1 ||
		    insert_failures(p, pid, pol, e) == -1)
			return -1;
	}
	return 0;
}

/* *id 0: another writer stored the report meanwhile. */
static int
insert_tls(struct pg *p, const struct tlsrpt_report *r,
    struct store_payload *raw, const char *source, const char *member,
    int64_t *id, struct err *e)
{
	char b[24], en[24], rawid[24];
	const char *params[8];

	if (raw != NULL && raw->stored_id == 0 && pg_store_raw(p, raw, e) == -1)
		return -1;
	params[0] = r->organization;
	params[1] = r->report_id;
	params[2] = r->contact_info;
	params[3] = I64(b, r->begin);
	params[4] = I64(en, r->end);
	params[5] = source;
	params[6] = raw != NULL && raw->stored_id != 0
			? I64(rawid, raw->stored_id)
			: NULL;
	params[7] = member != NULL && member[0] != '\0' ? member : NULL;
	if (returning(p,
		"INSERT INTO tls_reports (organization, report_id, "
		"contact_info, begin_ts, end_ts, source, ingested_at, "
		"raw_payload, raw_member) VALUES ($1, $2, $3, "
		"to_timestamp($4::bigint), to_timestamp($5::bigint), $6, now(), "
		"$7, $8) ON CONFLICT (organization, report_id) DO NOTHING "
		"RETURNING id",
		8, params, id, e, "cannot store the TLS report") == -1)
		return -1;
	return *id != 0 ? insert_policies(p, *id, r, e) : 0;
}

static int
find_tls(struct pg *p, const struct tlsrpt_report *r, int64_t *id,
    struct err *e)
{
	const char *params[2] = {r->organization, r->report_id};

	return returning(p,
	    "SELECT id FROM tls_reports WHERE organization = $1 AND "
	    "report_id = $2",
	    2, params, id, e, "cannot look up the report");
}

int
pg_tls_report(void *impl, const struct tlsrpt_report *r,
    struct store_payload *raw, const char *source, const char *member,
    enum store_outcome *outcome, int64_t *id, struct err *e)
{
	struct pg *p = impl;
	int64_t had = raw != NULL ? raw->stored_id : 0;

	if (find_tls(p, r, id, e) == -1)
		return -1;
	if (*id == 0) {
		if (part_begin(p, e) == -1)
			return -1;
		if (insert_tls(p, r, raw, source, member, id, e) == -1 ||
		    *id == 0) {
			part_end(p, 0, e);
			if (raw != NULL)
				raw->stored_id = had; /* its row is gone too */
			p->raw_new = NULL;
			if (*id == 0 && find_tls(p, r, id, e) == 0 && *id != 0)
				goto duplicate;
			return -1;
		}
		p->raw_new = NULL;
		*outcome = STORE_STORED;
		return part_end(p, 1, e);
	}
duplicate:
	*outcome = STORE_DUPLICATE;
	return 0;
}

/* --- DMARC failure reports ----------------------------------------------- */

int
pg_failure_report(void *impl, const struct arf_report *r, const char *source,
    enum store_outcome *outcome, int64_t *id, struct err *e)
{
	struct pg *p = impl;
	char at[24];
	const char *params[19] = {r->fingerprint, r->feedback_type,
	    r->auth_failure, r->source_ip, r->reported_domain,
	    r->original_mail_from, r->original_rcpt_to, r->arrival_date,
	    I64(at, r->at ? r->at : (int64_t)time(NULL)), r->dkim_domain,
	    r->dkim_selector, r->identity_alignment, r->delivery_result,
	    r->reporter, r->subject, r->feedback, r->headers,
	    (const char *)r->body, source};
	int lens[19] = {0}, formats[19] = {0};
	PGresult *res;

	lens[17] = (int)r->body_len;
	formats[17] = 1; /* the body as bytes */
	res = PQexecParams(p->c,
	    "INSERT INTO failure_reports (fingerprint, feedback_type, "
	    "auth_failure, source_ip, reported_domain, original_mail_from, "
	    "original_rcpt_to, arrival_date, at_ts, dkim_domain, "
	    "dkim_selector, identity_alignment, delivery_result, reporter, "
	    "subject, feedback, original_headers, original_body, source, "
	    "ingested_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, "
	    "to_timestamp($9::bigint), $10, $11, $12, $13, $14, $15, $16, $17, "
	    "$18, $19, now()) ON CONFLICT (fingerprint) DO NOTHING RETURNING id",
	    19, NULL, params, lens, formats, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		pg_err(p, res, e, "cannot store the failure report");
		PQclear(res);
		return -1;
	}
	*id = PQntuples(res) > 0 ? pg_i64(res, 0) : 0;
	PQclear(res);
	*outcome = STORE_STORED;
	if (*id != 0)
		return 0;
	*outcome = STORE_DUPLICATE;
	return returning(p, "SELECT id FROM failure_reports WHERE fingerprint = $1",
	    1, params, id, e, "cannot look up the report");
}

/* --- queries -------------------------------------------------------------- */

#define TLS_FAILURES_MAX 64 /* failure types listed per domain and day */

struct tls_walk {
	struct pg *p;
	const struct store_filter *f;
	struct pg_query q;
	int (*cb)(void *arg, const struct store_tls_day *d, struct err *e);
	void *arg;
};

/* The failure types of one domain and day, by sessions (as SQLite). */
static int
tls_failures(struct tls_walk *w, struct store_tls_day *d,
    struct store_tls_failure *out, PGresult **res, struct err *e)
{
	char day[24];
	const char *params[4] = {d->domain, I64(day, d->day),
	    w->q.params[0], w->q.params[1]};
	int i, n;

	*res = pg_exec(w->p,
	    "SELECT f.result_type, coalesce(f.receiving_mx_hostname, "
	    "f.receiving_ip), sum(f.failed_sessions) FROM tls_failures f "
	    "JOIN tls_policies p ON f.policy = p.id JOIN tls_reports t ON "
	    "p.report = t.id WHERE p.policy_domain = $1 AND "
	    PG_EPOCH("t.begin_ts") " / 86400 * 86400 = $2::bigint AND "
	    "t.begin_ts >= to_timestamp($3::float8) AND t.begin_ts < "
	    "to_timestamp($4::float8) GROUP BY 1, 2 ORDER BY 3 DESC, 1, 2",
	    4, params, PGRES_TUPLES_OK, e, "cannot query the TLS failures");
	if (*res == NULL)
		return -1;
	n = PQntuples(*res);
	d->nfailures = 0;
	for (i = 0; i < n && i < TLS_FAILURES_MAX; i++) {
		struct store_tls_failure *x = &out[d->nfailures++];

		x->result_type = PQgetisnull(*res, i, 0) ? NULL
							 : PQgetvalue(*res, i, 0);
		x->receiving_mx = PQgetisnull(*res, i, 1)
				      ? NULL
				      : PQgetvalue(*res, i, 1);
		x->sessions = strtoull(PQgetvalue(*res, i, 2), NULL, 10);
	}
	d->failures = out;
	return 0;
}

/* Row i of a result: text or NULL, integer or 0. */
static const char *
cell(const PGresult *r, int i, int col)
{
	return PQgetisnull(r, i, col) ? NULL : PQgetvalue(r, i, col);
}

static uint64_t
count(const PGresult *r, int i, int col)
{
	return PQgetisnull(r, i, col) ? 0
				      : strtoull(PQgetvalue(r, i, col), NULL, 10);
}

static int
tls_day(struct tls_walk *w, const PGresult *r, int i, struct err *e)
{
	struct store_tls_failure fl[TLS_FAILURES_MAX];
	struct store_tls_day d;
	PGresult *res = NULL;
	int rc;

	memset(&d, 0, sizeof(d));
	d.domain = cell(r, i, 0);
	d.day = strtoll(PQgetvalue(r, i, 1), NULL, 10);
	d.policy_type = cell(r, i, 2);
	d.reports = count(r, i, 3);
	d.successful = count(r, i, 4);
	d.failed = count(r, i, 5);
	rc = tls_failures(w, &d, fl, &res, e) == -1 || w->cb(w->arg, &d, e) == -1
		 ? -1
		 : 0;
	PQclear(res);
	return rc;
}

/* The days are read whole (one row per domain and day, few), then each
 * day's failures asked for: a connection runs one query at a time. */
int
pg_each_tls_day(void *impl, const struct store_filter *f,
    int (*cb)(void *arg, const struct store_tls_day *d, struct err *e),
    void *arg, struct err *e)
{
	struct tls_walk w;
	PGresult *days;
	int i, n, rc = 0;

	memset(&w, 0, sizeof(w));
	w.p = impl;
	w.f = f;
	w.cb = cb;
	w.arg = arg;
	if (pg_query_build(&w.q,
		"SELECT p.policy_domain, " PG_EPOCH("t.begin_ts") " / 86400 * "
		"86400 AS day, string_agg(DISTINCT p.policy_type, ','), "
		"count(DISTINCT t.id), sum(p.successful), sum(p.failed) FROM "
		"tls_reports t JOIN tls_policies p ON p.report = t.id WHERE "
		"t.begin_ts >= to_timestamp($1::float8) AND t.begin_ts < "
		"to_timestamp($2::float8)",
		"p.policy_domain",
		" GROUP BY p.policy_domain, day ORDER BY p.policy_domain, day", f,
		0, e, "cannot query the TLS reports") == -1)
		return -1;
	days = pg_exec(w.p, w.q.sql, w.q.n, w.q.params, PGRES_TUPLES_OK, e,
	    "cannot query the TLS reports");
	if (days == NULL)
		return -1;
	n = PQntuples(days);
	for (i = 0; i < n && rc == 0; i++)
		rc = tls_day(&w, days, i, e);
	PQclear(days);
	return rc;
}

int
pg_each_failure(void *impl, const struct store_filter *f,
    int (*cb)(void *arg, const struct store_failure_row *r, struct err *e),
    void *arg, struct err *e)
{
	struct row_failures w = {cb, arg};
	struct pg_query q;

	if (pg_query_build(&q,
		"SELECT " PG_EPOCH("at_ts") ", reported_domain, source_ip, "
		"auth_failure, original_mail_from, original_rcpt_to, "
		"dkim_domain, dkim_selector, identity_alignment, "
		"delivery_result, reporter, subject, arrival_date FROM "
		"failure_reports WHERE at_ts >= to_timestamp($1::float8) AND "
		"at_ts < to_timestamp($2::float8)",
		"reported_domain", " ORDER BY at_ts, id", f, 0, e,
		"cannot query the failure reports") == -1)
		return -1;
	return pg_stream(impl, &q, row_each_failure, &w, e,
	    "cannot query the failure reports");
}

int
pg_each_failure_kept(void *impl,
    int (*cb)(void *arg, const struct store_failure_kept *k, struct err *e),
    void *arg, struct err *e)
{
	struct row_failures_kept w = {cb, arg};
	struct pg_query q;

	memset(&q, 0, sizeof(q));
	snprintf(q.sql, sizeof(q.sql),
	    "SELECT id, source, fingerprint, feedback_type, auth_failure, "
	    "source_ip, reported_domain, original_mail_from, "
	    "original_rcpt_to, arrival_date, " PG_EPOCH("at_ts") ", "
	    "dkim_domain, dkim_selector, identity_alignment, delivery_result, "
	    "reporter, subject, feedback, original_headers, "
	    "encode(original_body, 'hex') FROM failure_reports ORDER BY id");
	return pg_stream(impl, &q, row_each_failure_kept, &w, e,
	    "cannot read the failure reports");
}

/* --- names of source addresses -------------------------------------------- */

struct due_walk {
	int (*cb)(void *arg, const char *ip, struct err *e);
	void *arg;
};

static int
due_row(const struct row *r, void *arg, struct err *e)
{
	struct due_walk *w = arg;

	return w->cb(w->arg, r->text(r->res, 0, NULL), e);
}

/* As sq_names_due(): addresses from the rollup, never looked up first. */
int
pg_names_due(void *impl, int64_t now, size_t limit,
    int (*cb)(void *arg, const char *ip, struct err *e), void *arg,
    struct err *e)
{
	struct due_walk w = {cb, arg};
	struct pg_query q;

	memset(&q, 0, sizeof(q));
	snprintf(q.sql, sizeof(q.sql),
	    "SELECT t.ip FROM (SELECT DISTINCT source_ip AS ip FROM traffic "
	    "WHERE source_ip <> '') t LEFT JOIN source_names n ON n.ip = t.ip "
	    "WHERE n.ip IS NULL OR n.expires_at <= to_timestamp($1::bigint) "
	    "ORDER BY n.ip IS NOT NULL, t.ip LIMIT $2::bigint");
	I64(q.since, now);
	I64(q.until, limit > INT64_MAX ? INT64_MAX : (int64_t)limit);
	q.params[0] = q.since;
	q.params[1] = q.until;
	q.n = 2;
	return pg_stream(impl, &q, due_row, &w, e,
	    "cannot list the addresses to look up");
}

static int
put_one(struct pg *p, const struct store_name *n, struct err *e)
{
	char ttl[24], at[24], ex[24];
	const char *params[7] = {n->ip, n->result, n->name,
	    n->confirmed ? "1" : "0", I64(ttl, n->ttl), I64(at, n->resolved_at),
	    I64(ex, n->expires_at)};
	PGresult *r;

	r = pg_exec(p, "INSERT INTO source_names (ip, result, name, confirmed, "
		       "ttl, resolved_at, expires_at) VALUES ($1, $2, $3, $4, "
		       "$5, to_timestamp($6::bigint), to_timestamp($7::bigint)) "
		       "ON CONFLICT (ip) DO UPDATE SET result = $2, name = $3, "
		       "confirmed = $4, ttl = $5, resolved_at = "
		       "to_timestamp($6::bigint), expires_at = "
		       "to_timestamp($7::bigint)",
	    7, params, PGRES_COMMAND_OK, e,
	    "cannot store the name of an address");
	PQclear(r);
	return r != NULL ? 0 : -1;
}

int
pg_names_put(void *impl, const struct store_name *names, size_t n,
    struct err *e)
{
	struct pg *p = impl;
	size_t i;

	if (p->readonly)
		return err_set(e, "internal error: names stored in a "
				  "read-only store");
	if (n == 0)
		return 0;
	if (part_begin(p, e) == -1)
		return -1;
	for (i = 0; i < n; i++)
		if (put_one(p, &names[i], e) == -1)
			return part_end(p, 0, e);
	return part_end(p, 1, e);
}

int
pg_each_name(void *impl,
    int (*cb)(void *arg, const struct store_name *n, struct err *e),
    void *arg, struct err *e)
{
	struct row_names w = {cb, arg};
	struct pg_query q;

	memset(&q, 0, sizeof(q));
	snprintf(q.sql, sizeof(q.sql),
	    "SELECT ip, result, name, confirmed, ttl, "
	    PG_EPOCH("resolved_at") ", " PG_EPOCH("expires_at") " FROM "
	    "source_names ORDER BY ip");
	return pg_stream(impl, &q, row_each_name, &w, e,
	    "cannot read the names of addresses");
}

/* --- the kept payloads ----------------------------------------------------- */

/* One payload at a time, by id, in binary: a payload may be large, and a
 * result is held whole by libpq. */
int
pg_each_payload(void *impl,
    int (*cb)(void *arg, const struct store_raw_row *r, struct err *e),
    void *arg, struct err *e)
{
	struct pg *p = impl;
	struct store_raw_row row;
	char last[24];
	const char *params[1] = {last};
	PGresult *r;
	int64_t id = 0;
	int rc = 0;

	for (;;) {
		I64(last, id);
		r = PQexecParams(p->c, "SELECT id, name, format, data FROM "
				       "raw_payloads WHERE id > $1::bigint ORDER "
				       "BY id LIMIT 1",
		    1, NULL, params, NULL, NULL, 1);
		if (PQresultStatus(r) != PGRES_TUPLES_OK) {
			pg_err(p, r, e, "cannot read the kept payloads");
			PQclear(r);
			return -1;
		}
		if (PQntuples(r) == 0)
			break;
		/* binary: id is a big-endian int8 */
		id = 0;
		for (int i = 0; i < 8; i++)
			id = (int64_t)((uint64_t)id << 8 |
				       (unsigned char)PQgetvalue(r, 0, 0)[i]);
		row.id = id;
		row.name = PQgetisnull(r, 0, 1) ? NULL : PQgetvalue(r, 0, 1);
		row.format = PQgetvalue(r, 0, 2);
		row.data = (const unsigned char *)PQgetvalue(r, 0, 3);
		row.len = (size_t)PQgetlength(r, 0, 3);
		rc = cb(arg, &row, e);
		PQclear(r);
		if (rc == -1)
			return -1;
	}
	PQclear(r);
	return 0;
}

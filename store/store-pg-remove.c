/*
 * store-pg-remove.c - taking aggregate reports out again on PostgreSQL:
 * a salvaged copy replaced by the complete one (store_report_replace) and
 * retention (store_prune), as store-sqlite-replace.c and
 * store-sqlite-prune.c do on SQLite, with the same counts and meaning.
 *
 * Both take a set of reports out of the traffic rollup the same way: the
 * rows those reports added (the same key and counters as the write path's
 * traffic_sql) are added again negated, and the rows of the days and
 * domains touched that are left at zero records are deleted.  The rollup
 * then equals what the remaining records give, without reading them.
 *
 * Children are deleted by report id across the month partitions; the
 * ingest log loses its reference through its foreign key (ON DELETE SET
 * NULL), a TLS report's policies and failures go with it (ON DELETE
 * CASCADE).  Everything runs in one transaction (prune) or in the report's
 * savepoint (replace): a lost connection leaves the store as it was.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pg-impl.h"

#define I64(buf, v) (snprintf((buf), sizeof(buf), "%" PRId64, (int64_t)(v)), (buf))

#define NEG_IF(cond) "-sum(CASE WHEN " cond " THEN r.count ELSE 0 END)::bigint"

/* The rollup rows of the reports `where` selects (over reports rp),
 * negated. */
#define TRAFFIC_SUB_SQL(where)                                               \
	"INSERT INTO traffic (day, domain, adkim, aspf, source_ip, "         \
	"header_from, envelope_from, dkim, spf, records, messages, "         \
	"dkim_aligned, spf_aligned, dmarc_pass, quarantined, rejected) "     \
	"SELECT " PG_EPOCH("rp.begin_ts") " / 86400, rp.domain, "            \
	"coalesce(rp.adkim, ''), coalesce(rp.aspf, ''), "                    \
	"coalesce(host(r.source_ip), ''), coalesce(r.header_from, ''), "     \
	"coalesce(r.envelope_from, ''), coalesce(" PG_ARRAY3("auth_dkim")   \
	", ''), coalesce(" PG_ARRAY3("auth_spf") ", ''), "                  \
	"-count(*), -sum(r.count)::bigint, " NEG_IF("r.dkim = 'pass'") ", "  \
	NEG_IF("r.spf = 'pass'") ", " NEG_IF("r.dkim = 'pass' OR r.spf = "   \
	"'pass'") ", " NEG_IF("r.disposition = 'quarantine'") ", "           \
	NEG_IF("r.disposition = 'reject'") " FROM reports rp JOIN records r " \
	"ON r.report = rp.id AND r.begin_ts = rp.begin_ts WHERE " where      \
	" GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9 " PG_TRAFFIC_UPSERT

/* A statement and how many of the caller's parameters it takes. */
struct step {
	const char *sql;
	int nparams;
};

static int
run_steps(struct pg *p, const struct step *steps, size_t n,
    const char *const *params, struct err *e, const char *what)
{
	PGresult *r;
	size_t i;

	for (i = 0; i < n; i++) {
		r = pg_exec(p, steps[i].sql, steps[i].nparams, params,
		    PGRES_COMMAND_OK, e, what);
		if (r == NULL)
			return -1;
		PQclear(r);
	}
	return 0;
}

/* Row 0 of sql's result: its first two columns (0 for NULL). */
static int
select2(struct pg *p, const char *sql, int n, const char *const *params,
    int64_t *a, int64_t *b, struct err *e, const char *what)
{
	PGresult *r = pg_exec(p, sql, n, params, PGRES_TUPLES_OK, e, what);

	if (r == NULL)
		return -1;
	*a = PQntuples(r) > 0 ? pg_i64(r, 0) : 0;
	if (b != NULL)
		*b = PQntuples(r) > 0 && PQnfields(r) > 1 ? pg_i64(r, 1) : 0;
	PQclear(r);
	return 0;
}

/* --- a salvaged copy replaced -------------------------------------------- */

#define CHILDREN(table) "DELETE FROM " table " WHERE report = $1::bigint"

static const struct step replace_steps[] = {
    {TRAFFIC_SUB_SQL("rp.id = $1::bigint"), 1},
    {"DELETE FROM traffic WHERE records = 0 AND (day, domain) IN (SELECT "
     PG_EPOCH("begin_ts") " / 86400, domain FROM reports WHERE id = "
     "$1::bigint)", 1},
    {CHILDREN("override_reasons"), 1},
    {CHILDREN("records"), 1},
    {"DELETE FROM reports WHERE id = $1::bigint", 1},
};

void
pg_replace_forget(struct pg *p)
{
	free(p->replaced_logs);
	p->replaced_logs = NULL;
}

/* The old copy's log lines, remembered before its row goes (the foreign
 * key then clears them) to name the new copy once it has an id: on
 * PostgreSQL the report row is written when the report is complete. */
static int
remember_logs(struct pg *p, const char *const *params, struct err *e)
{
	PGresult *r;

	r = pg_exec(p, "SELECT array_agg(id) FROM ingest_log WHERE report = "
		       "$1::bigint",
	    1, params, PGRES_TUPLES_OK, e, "cannot replace the salvaged copy");
	if (r == NULL)
		return -1;
	pg_replace_forget(p);
	if (!PQgetisnull(r, 0, 0) &&
	    (p->replaced_logs = strdup(PQgetvalue(r, 0, 0))) == NULL) {
		PQclear(r);
		return err_set(e, "out of memory");
	}
	PQclear(r);
	return 0;
}

/* The COPY of the report's records is open (pg_report_begin): it is ended
 * (nothing was sent yet) for the statements here, and opened again. */
int
pg_report_replace(void *impl, int64_t old, int *replaced, struct err *e)
{
	struct pg *p = impl;
	char id[24];
	const char *params[1] = {I64(id, old)};
	int64_t salvaged = 0;

	*replaced = 0;
	if (!p->in_report)
		return err_set(e, "internal error: no report to replace with");
	if (p->rec != 0)
		return err_set(e, "internal error: replace after records");
	if (pg_copy_end(p, NULL, e) == -1)
		return -1;
	if (select2(p, "SELECT salvaged FROM reports WHERE id = $1::bigint",
		1, params, &salvaged, NULL, e,
		"cannot look up the stored copy") == -1)
		return -1;
	*replaced = salvaged != 0;
	if (*replaced &&
	    (remember_logs(p, params, e) == -1 ||
		run_steps(p, replace_steps,
		    sizeof(replace_steps) / sizeof(replace_steps[0]), params, e,
		    "cannot replace the salvaged copy") == -1))
		return -1;
	return pg_copy_start(p, e);
}

int
pg_replace_relog_step(const struct pg *p, const char *sid,
                      const char *params[2], struct pg_step *st)
{
	if (p->replaced_logs == NULL)
		return 0;
	params[0] = sid;
	params[1] = p->replaced_logs;
	*st = (struct pg_step){"UPDATE ingest_log SET report = $1::bigint "
	                       "WHERE id = ANY ($2::bigint[])",
	                       2, params, "cannot replace the salvaged copy"};
	return 1;
}

/* --- retention ------------------------------------------------------------ */

/* $1 the cutoff in seconds, $2 1 when domains are selected. */
#define IN_DOMAINS(col)                                                      \
	"($2::integer = 0 OR " col " IN (SELECT domain FROM prune_domains))"

static const struct step prune_tables[] = {
    {"CREATE TEMP TABLE prune_domains (domain text COLLATE \"C\" PRIMARY "
     "KEY) ON COMMIT DROP", 0},
    {"CREATE TEMP TABLE prune_reports (id bigint PRIMARY KEY, day bigint, "
     "domain text COLLATE \"C\", raw bigint) ON COMMIT DROP", 0},
    {"CREATE TEMP TABLE prune_tls (id bigint PRIMARY KEY, raw bigint) ON "
     "COMMIT DROP", 0},
    {"CREATE TEMP TABLE prune_raw (id bigint PRIMARY KEY) ON COMMIT DROP",
     0},
};

/* After the victims are chosen: children before parents, the rollup
 * before the records it is computed from. */
static const struct step prune_deletes[] = {
    {TRAFFIC_SUB_SQL("rp.id IN (SELECT id FROM prune_reports)"), 0},
    {"DELETE FROM traffic WHERE records = 0 AND (day, domain) IN (SELECT "
     "day, domain FROM prune_reports)", 0},
    {"DELETE FROM override_reasons WHERE report IN (SELECT id FROM "
     "prune_reports)", 0},
    {"DELETE FROM records WHERE report IN (SELECT id FROM prune_reports)",
     0},
    {"DELETE FROM reports WHERE id IN (SELECT id FROM prune_reports)", 0},
    {"DELETE FROM tls_reports WHERE id IN (SELECT id FROM prune_tls)", 0},
    /* the payloads no report refers to any more */
    {"DELETE FROM prune_raw WHERE id IN (SELECT raw_payload FROM reports "
     "WHERE raw_payload IS NOT NULL) OR id IN (SELECT raw_payload FROM "
     "tls_reports WHERE raw_payload IS NOT NULL)", 0},
};

static int
select_domains(struct pg *p, const struct store_prune *pr, struct err *e)
{
	const char *params[1];
	PGresult *r;
	size_t i;

	for (i = 0; pr->domains != NULL && pr->domains[i] != NULL; i++) {
		params[0] = pr->domains[i];
		r = pg_exec(p, "INSERT INTO prune_domains VALUES ($1) ON "
			       "CONFLICT DO NOTHING",
		    1, params, PGRES_COMMAND_OK, e, "cannot prune");
		if (r == NULL)
			return -1;
		PQclear(r);
	}
	return 0;
}

/* Fills the temporary tables with what goes, and counts it. */
static int
select_victims(struct pg *p, const struct store_prune *pr,
    const char *const *params, struct store_prune_result *r, struct err *e)
{
	static const struct step victims[] = {
	    {"INSERT INTO prune_reports SELECT id, " PG_EPOCH("begin_ts")
	     " / 86400, domain, raw_payload FROM reports WHERE begin_ts < "
	     "to_timestamp($1::bigint) AND " IN_DOMAINS("domain"), 2},
	    /* a TLS report goes with --domain when all its policies are
	     * for the selected domains */
	    {"INSERT INTO prune_tls SELECT id, raw_payload FROM tls_reports t "
	     "WHERE begin_ts < to_timestamp($1::bigint) AND ($2::integer = 0 "
	     "OR NOT EXISTS (SELECT 1 FROM tls_policies p WHERE p.report = "
	     "t.id AND p.policy_domain NOT IN (SELECT domain FROM "
	     "prune_domains)))", 2},
	    {"INSERT INTO prune_raw SELECT raw FROM prune_reports WHERE raw IS "
	     "NOT NULL UNION SELECT raw FROM prune_tls WHERE raw IS NOT NULL",
	     0},
	};
	int64_t a = 0, b = 0;

	if (run_steps(p, prune_tables,
		sizeof(prune_tables) / sizeof(prune_tables[0]), params, e,
		"cannot prune") == -1 ||
	    select_domains(p, pr, e) == -1 ||
	    run_steps(p, victims, sizeof(victims) / sizeof(victims[0]), params,
		e, "cannot prune") == -1 ||
	    select2(p, "SELECT count(*) FROM prune_reports", 0, NULL, &a, NULL,
		e, "cannot prune") == -1)
		return -1;
	r->reports = (uint64_t)a;
	if (select2(p, "SELECT count(*), coalesce(sum(count), 0) FROM records "
		       "WHERE report IN (SELECT id FROM prune_reports)",
		0, NULL, &a, &b, e, "cannot prune") == -1)
		return -1;
	r->records = (uint64_t)a;
	r->messages = (uint64_t)b;
	if (select2(p, "SELECT count(*) FROM prune_tls", 0, NULL, &a, NULL, e,
		"cannot prune") == -1)
		return -1;
	r->tls_reports = (uint64_t)a;
	return 0;
}

static int
delete_victims(struct pg *p, const char *const *params,
    struct store_prune_result *r, struct err *e)
{
	PGresult *res;
	int64_t a = 0, b = 0;

	if (run_steps(p, prune_deletes,
		sizeof(prune_deletes) / sizeof(prune_deletes[0]), params, e,
		"cannot prune") == -1)
		return -1;
	res = pg_exec(p, "DELETE FROM failure_reports WHERE at_ts < "
			 "to_timestamp($1::bigint) AND " IN_DOMAINS(
			     "reported_domain"),
	    2, params, PGRES_COMMAND_OK, e, "cannot prune");
	if (res == NULL)
		return -1;
	r->failure_reports = strtoull(PQcmdTuples(res), NULL, 10);
	PQclear(res);
	if (select2(p, "SELECT count(*), coalesce(sum(size), 0) FROM "
		       "raw_payloads WHERE id IN (SELECT id FROM prune_raw)",
		0, NULL, &a, &b, e, "cannot prune") == -1 ||
	    pg_run(p, "DELETE FROM raw_payloads WHERE id IN (SELECT id FROM "
		      "prune_raw)",
		e, "cannot prune") == -1)
		return -1;
	r->payloads = (uint64_t)a;
	r->payload_bytes = (uint64_t)b;
	return 0;
}

/* What the database takes on disk: the "file" of store_prune_result.
 * The space freed is reused by the server (autovacuum), not given back. */
static int64_t
database_size(struct pg *p)
{
	int64_t n = 0;
	struct err e;

	if (select2(p, "SELECT pg_database_size(current_database())", 0, NULL,
		&n, NULL, &e, "size") == -1)
		return 0;
	return n;
}

int
pg_prune(void *impl, const struct store_prune *pr, struct store_prune_result *r,
    struct err *e)
{
	struct pg *p = impl;
	char before[24];
	const char *params[2] = {I64(before, pr->before),
	    pr->domains != NULL ? "1" : "0"};

	memset(r, 0, sizeof(*r));
	if (p->readonly || p->in_batch)
		return err_set(e, "internal error: prune needs a read-write "
				  "store without an open batch");
	r->file_before = r->file_after = database_size(p);
	if (pg_run(p, "BEGIN", e, "cannot start pruning") == -1)
		return -1;
	if (select_victims(p, pr, params, r, e) == -1 ||
	    delete_victims(p, params, r, e) == -1) {
		PQclear(PQexec(p->c, "ROLLBACK"));
		return -1;
	}
	if (pr->dry_run)
		return pg_run(p, "ROLLBACK", e, "cannot end the dry run");
	if (pg_run(p, "COMMIT", e, "cannot commit the prune") == -1) {
		PQclear(PQexec(p->c, "ROLLBACK"));
		return -1;
	}
	r->file_after = database_size(p);
	return 0;
}

/*
 * store-sqlite-prune.c - retention for the SQLite backend: store_prune()
 * (store.h).
 *
 * Everything goes in one transaction, so a kill at any moment leaves the
 * database as it was or fully pruned.  The selected ids are gathered in
 * temporary tables first; then the children are deleted before their
 * parents (this connection does not enforce the foreign keys: see
 * store-sqlite.c), ingest_log rows lose their reference (ids may be reused
 * later), and the traffic rollup is recomputed for every (day, domain) the
 * pruned reports touched: its rows are deleted and filled again from the
 * records that remain, with the very statement that builds the rollup
 * (TRAFFIC_FILL_SQL), so that it cannot drift from `records`.  A dry run
 * does the same and rolls back, so its counts are exact.
 *
 * Freed pages go back to the file system: the first prune switches the
 * file to auto_vacuum = INCREMENTAL with one VACUUM, later ones run
 * incremental_vacuum; the WAL is then checkpointed and truncated.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "migrations.h"
#include "sqlite-impl.h"

/* ?1 is the cutoff, ?2 1 when domains are selected (temp.prune_domains). */
#define IN_DOMAINS(col)                                                        \
	"(?2 = 0 OR " col " IN (SELECT domain FROM temp.prune_domains))"

/* The ids that go, and the (day, domain) pairs of the rollup they touch. */
#define TEMP_TABLES_SQL                                                        \
	"CREATE TEMP TABLE prune_domains (domain TEXT PRIMARY KEY); "          \
	"CREATE TEMP TABLE prune_reports (id INTEGER PRIMARY KEY, day "        \
	"INTEGER, domain TEXT, raw INTEGER); "                                 \
	"CREATE TEMP TABLE prune_tls (id INTEGER PRIMARY KEY, raw INTEGER); "  \
	"CREATE TEMP TABLE prune_raw (id INTEGER PRIMARY KEY)"

/* Run in order: children before parents, the rollup after the records. */
static const char *const delete_sql[] = {
    "DELETE FROM dkim_results WHERE record IN (SELECT id FROM records WHERE "
    "report IN (SELECT id FROM temp.prune_reports))",
    "DELETE FROM spf_results WHERE record IN (SELECT id FROM records WHERE "
    "report IN (SELECT id FROM temp.prune_reports))",
    "DELETE FROM override_reasons WHERE record IN (SELECT id FROM records "
    "WHERE report IN (SELECT id FROM temp.prune_reports))",
    "DELETE FROM records WHERE report IN (SELECT id FROM temp.prune_reports)",
    "UPDATE ingest_log SET report = NULL WHERE report IN (SELECT id FROM "
    "temp.prune_reports)",
    "DELETE FROM reports WHERE id IN (SELECT id FROM temp.prune_reports)",
    "DELETE FROM traffic WHERE (day, domain) IN (SELECT day, domain FROM "
    "temp.prune_reports)",
    TRAFFIC_FILL_SQL("WHERE (rp.begin_ts / 86400, rp.domain) IN (SELECT "
                     "day, domain FROM temp.prune_reports)"),
    "DELETE FROM tls_failures WHERE policy IN (SELECT id FROM tls_policies "
    "WHERE report IN (SELECT id FROM temp.prune_tls))",
    "DELETE FROM tls_policies WHERE report IN (SELECT id FROM "
    "temp.prune_tls)",
    "DELETE FROM tls_reports WHERE id IN (SELECT id FROM temp.prune_tls)",
};

/* Steps sql once with the cutoff and the domain flag bound; the first
 * column of a row, if any, goes to *v1 and the second to *v2. */
static int
step(struct sq *q, const char *sql, const struct store_prune *p, int64_t *v1,
     int64_t *v2, struct err *e)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(q->db, sql, -1, &st, NULL) != SQLITE_OK)
		return sq_err(q, e, "cannot prune");
	if (sqlite3_bind_parameter_count(st) >= 1)
		sqlite3_bind_int64(st, 1, p->before);
	if (sqlite3_bind_parameter_count(st) >= 2)
		sqlite3_bind_int(st, 2, p->domains != NULL);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		if (v1 != NULL)
			*v1 = sqlite3_column_int64(st, 0);
		if (v2 != NULL)
			*v2 = sqlite3_column_int64(st, 1);
		rc = sqlite3_step(st);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return sq_err(q, e, "cannot prune");
	return 0;
}

static int
select_domains(struct sq *q, const struct store_prune *p, struct err *e)
{
	sqlite3_stmt *st;
	size_t i;

	if (p->domains == NULL)
		return 0;
	if (sqlite3_prepare_v2(q->db,
	                       "INSERT OR IGNORE INTO "
	                       "temp.prune_domains VALUES (?)",
	                       -1, &st, NULL) != SQLITE_OK)
		return sq_err(q, e, "cannot prune");
	for (i = 0; p->domains[i] != NULL; i++) {
		sqlite3_reset(st);
		sq_bind_str(st, 1, p->domains[i]);
		if (sqlite3_step(st) != SQLITE_DONE) {
			sqlite3_finalize(st);
			return sq_err(q, e, "cannot prune");
		}
	}
	sqlite3_finalize(st);
	return 0;
}

/* Fills the temporary tables with what goes, and counts it. */
static int
select_victims(struct sq *q, const struct store_prune *p,
               struct store_prune_result *r, struct err *e)
{
	int64_t a = 0, b = 0;

	if (sq_exec(q, TEMP_TABLES_SQL, e, "cannot prune") == -1 ||
	    select_domains(q, p, e) == -1 ||
	    step(q,
	         "INSERT INTO temp.prune_reports SELECT id, begin_ts / "
	         "86400, domain, raw_payload FROM reports WHERE begin_ts < ?1 "
	         "AND " IN_DOMAINS("domain"),
	         p, NULL, NULL, e) == -1 ||
	    step(q, "SELECT count(*) FROM temp.prune_reports", p, &a, NULL,
	         e) == -1)
		return -1;
	r->reports = (uint64_t)a;
	if (step(q,
	         "SELECT count(*), total(count) FROM records WHERE report "
	         "IN (SELECT id FROM temp.prune_reports)",
	         p, &a, &b, e) == -1)
		return -1;
	r->records = (uint64_t)a;
	r->messages = (uint64_t)b;
	/* a TLS report goes with --domain when all its policies are for the
	 * selected domains */
	if (step(q,
	         "INSERT INTO temp.prune_tls SELECT id, raw_payload FROM "
	         "tls_reports t WHERE begin_ts < ?1 AND (?2 = 0 OR NOT "
	         "EXISTS (SELECT 1 FROM tls_policies p WHERE p.report = t.id "
	         "AND p.policy_domain NOT IN (SELECT domain FROM "
	         "temp.prune_domains)))",
	         p, NULL, NULL, e) == -1 ||
	    step(q, "SELECT count(*) FROM temp.prune_tls", p, &a, NULL, e) ==
	        -1)
		return -1;
	r->tls_reports = (uint64_t)a;
	return step(q,
	            "INSERT OR IGNORE INTO temp.prune_raw SELECT raw FROM "
	            "temp.prune_reports WHERE raw IS NOT NULL UNION SELECT raw "
	            "FROM temp.prune_tls WHERE raw IS "
	            "NOT NULL",
	            p, NULL, NULL, e);
}

static int
delete_victims(struct sq *q, const struct store_prune *p,
               struct store_prune_result *r, struct err *e)
{
	int64_t a = 0, b = 0;
	size_t i;

	for (i = 0; i < sizeof(delete_sql) / sizeof(delete_sql[0]); i++)
		if (step(q, delete_sql[i], p, NULL, NULL, e) == -1)
			return -1;
	if (step(q,
	         "DELETE FROM failure_reports WHERE at_ts < ?1 AND " IN_DOMAINS(
	             "reported_domain"),
	         p, NULL, NULL, e) == -1)
		return -1;
	r->failure_reports = (uint64_t)sqlite3_changes(q->db);
	/* the payloads no report refers to any more */
	if (step(q,
	         "DELETE FROM temp.prune_raw WHERE (id IN (SELECT "
	         "raw_payload FROM reports) OR id IN (SELECT raw_payload FROM "
	         "tls_reports))",
	         p, NULL, NULL, e) == -1 ||
	    step(q,
	         "SELECT count(*), total(size) FROM raw_payloads WHERE id "
	         "IN (SELECT id FROM temp.prune_raw)",
	         p, &a, &b, e) == -1 ||
	    step(q,
	         "DELETE FROM raw_payloads WHERE id IN (SELECT id FROM "
	         "temp.prune_raw)",
	         p, NULL, NULL, e) == -1)
		return -1;
	r->payloads = (uint64_t)a;
	r->payload_bytes = (uint64_t)b;
	return 0;
}

static int64_t
file_size(const char *path)
{
	struct stat sb;

	return stat(path, &sb) == 0 ? (int64_t)sb.st_size : 0;
}

/* Gives freed pages back: see the header comment. */
static int
shrink(struct sq *q, struct err *e)
{
	sqlite3_stmt *st;
	int mode = 0;

	if (sqlite3_prepare_v2(q->db, "PRAGMA auto_vacuum", -1, &st, NULL) !=
	    SQLITE_OK)
		return sq_err(q, e, "cannot vacuum the database");
	if (sqlite3_step(st) == SQLITE_ROW)
		mode = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	if (mode != 2) {
		if (sq_exec(q, "PRAGMA auto_vacuum = INCREMENTAL; VACUUM", e,
		               "cannot vacuum the database") == -1)
			return -1;
	} else if (sq_exec(q, "PRAGMA incremental_vacuum", e,
	                      "cannot vacuum the database") == -1) {
		return -1;
	}
	return sq_exec(q, "PRAGMA wal_checkpoint(TRUNCATE)", e,
	                  "cannot checkpoint the database");
}

int
sq_prune(void *impl, const struct store_prune *p, struct store_prune_result *r,
         struct err *e)
{
	struct sq *q = impl;

	memset(r, 0, sizeof(*r));
	if (q->readonly || q->in_batch)
		return err_set(e, "internal error: prune needs a read-write "
		                  "store without an open batch");
	r->file_before = r->file_after = file_size(q->path);
	if (sq_exec(q, "BEGIN IMMEDIATE", e, "cannot start pruning") == -1)
		return -1;
	if (select_victims(q, p, r, e) == -1 ||
	    delete_victims(q, p, r, e) == -1 ||
	    sq_exec(q,
	               "DROP TABLE temp.prune_domains; DROP TABLE "
	               "temp.prune_reports; DROP TABLE temp.prune_tls; "
	               "DROP TABLE temp.prune_raw",
	               e, "cannot prune") == -1) {
		sqlite3_exec(q->db, "ROLLBACK", NULL, NULL, NULL);
		return -1;
	}
	if (p->dry_run)
		return sq_exec(q, "ROLLBACK", e, "cannot end the dry run");
	if (sq_exec(q, "COMMIT", e, "cannot commit the prune") == -1) {
		sqlite3_exec(q->db, "ROLLBACK", NULL, NULL, NULL);
		return -1;
	}
	if (r->reports + r->tls_reports + r->failure_reports > 0 &&
	    shrink(q, e) == -1)
		return -1;
	r->file_after = file_size(q->path);
	return 0;
}

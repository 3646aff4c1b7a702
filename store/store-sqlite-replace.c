/*
 * store-sqlite-replace.c - sq_report_replace(): a complete copy of a report
 * takes the key of the salvaged copy stored before it (store.h).
 *
 * Rare (a report stored salvaged, then re-sent whole), so the statements
 * are prepared when needed rather than kept open.  Everything happens in
 * the savepoint of the report being written: if that report is abandoned,
 * the salvaged copy is back as it was.  The foreign keys are off
 * (store-sqlite.c says why), so the children are deleted explicitly.
 */
#include <sqlite3.h>

#include "migrations.h"
#include "sqlite-impl.h"

/* The old report's records taken out of the traffic rollup: the same
 * rows TRAFFIC_FILL_SQL added, with every counter negated, then the rows
 * left at zero records removed. */
#define TRAFFIC_SUB_SQL                                                      \
	"INSERT INTO traffic SELECT rp.begin_ts / 86400, rp.domain, "        \
	"ifnull(rp.adkim, ''), ifnull(rp.aspf, ''), ifnull(r.source_ip, ''), " \
	"ifnull(r.header_from, ''), ifnull(r.envelope_from, ''), "           \
	TRAFFIC_DKIM_SQL ", " TRAFFIC_SPF_SQL ", -1, -r.count, "             \
	"-iif(r.dkim = 'pass', r.count, 0), -iif(r.spf = 'pass', r.count, 0), " \
	"-iif(r.dkim = 'pass' OR r.spf = 'pass', r.count, 0), "              \
	"-iif(r.disposition = 'quarantine', r.count, 0), "                   \
	"-iif(r.disposition = 'reject', r.count, 0) "                        \
	"FROM reports rp JOIN records r ON r.report = rp.id "                \
	"WHERE rp.id = ?1 " TRAFFIC_UPSERT_SQL

#define CHILDREN(table)                                                      \
	"DELETE FROM " table " WHERE record IN "                             \
	"(SELECT id FROM records WHERE report = ?1)"

int
sq_report_replace(void *impl, int64_t old, int *replaced, struct err *e)
{
	static const char *const steps[] = {
	    TRAFFIC_SUB_SQL,
	    "DELETE FROM traffic WHERE records = 0 AND "
	    "day = (SELECT begin_ts / 86400 FROM reports WHERE id = ?1) AND "
	    "domain = (SELECT domain FROM reports WHERE id = ?1)",
	    CHILDREN("dkim_results"),
	    CHILDREN("spf_results"),
	    CHILDREN("override_reasons"),
	    "DELETE FROM records WHERE report = ?1",
	    /* the old copy's log lines now name the copy that replaced it */
	    "UPDATE ingest_log SET report = ?2 WHERE report = ?1",
	    "DELETE FROM reports WHERE id = ?1",
	};
	struct sq *q = impl;
	sqlite3_stmt *st = NULL;
	size_t i;
	int rc;

	*replaced = 0;
	if (!q->in_report)
		return err_set(e, "internal error: no report to replace with");
	if (sqlite3_prepare_v2(q->db,
		"SELECT salvaged FROM reports WHERE id = ?1", -1, &st,
		NULL) != SQLITE_OK)
		return sq_err(q, e, "cannot look up the stored copy");
	sqlite3_bind_int64(st, 1, old);
	rc = sqlite3_step(st);
	*replaced = rc == SQLITE_ROW && sqlite3_column_int(st, 0) != 0;
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return sq_err(q, e, "cannot look up the stored copy");
	for (i = 0; *replaced && i < sizeof(steps) / sizeof(steps[0]); i++) {
		if (sqlite3_prepare_v2(q->db, steps[i], -1, &st, NULL) !=
		    SQLITE_OK)
			return sq_err(q, e, "cannot replace the salvaged copy");
		sqlite3_bind_int64(st, 1, old);
		if (sqlite3_bind_parameter_count(st) >= 2)
			sqlite3_bind_int64(st, 2, q->report);
		rc = sqlite3_step(st);
		sqlite3_finalize(st);
		if (rc != SQLITE_DONE)
			return sq_err(q, e, "cannot replace the salvaged copy");
	}
	return 0;
}

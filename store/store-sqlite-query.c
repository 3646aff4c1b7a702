/*
 * store-sqlite-query.c - the read-only queries of the SQLite backend, the
 * ones report/ needs.  Aggregation happens in SQL, in one pass over the
 * tables, never by loading rows into C.
 */
#include <stdio.h>
#include <string.h>

#include "sqlite-impl.h"

/* Only the number of placeholders comes from the input, never its
 * values. */
int
sq_filter_sql(char *sql, size_t len, const char *column,
    const struct store_filter *f, int *nd)
{
	size_t used = strlen(sql);
	int n = 0;

	if (f->domains != NULL)
		while (f->domains[n] != NULL)
			n++;
	*nd = n;
	if (n > 0) {
		used += (size_t)snprintf(sql + used, len - used,
		    " AND %s IN (?", column);
		for (int i = 1; i < n && used < len; i++)
			used += (size_t)snprintf(sql + used, len - used, ", ?");
		used += (size_t)snprintf(sql + used, len - used, ")");
	}
	return used < len ? 0 : -1;
}

int
sq_each_report(void *impl, const struct store_filter *f,
    int (*cb)(void *arg, const struct store_report_row *r), void *arg,
    struct err *e)
{
	struct sq *q = impl;
	struct store_report_row row;
	sqlite3_stmt *st;
	char sql[8192] = "SELECT org_name, report_id, domain, begin_ts, end_ts, "
			 "record_count, message_count, salvaged FROM reports "
			 "WHERE begin_ts >= ? AND begin_ts < ?";
	int nd, i, rc;

	if (sq_filter_sql(sql, sizeof(sql) - 64, "domain", f, &nd) == -1)
		return err_set(e, "too many --domain options");
	strcat(sql, " ORDER BY begin_ts, org_name, report_id");
	if (sqlite3_prepare_v2(q->db, sql, -1, &st, NULL) != SQLITE_OK)
		return sq_err(q, e, "cannot query reports");
	sqlite3_bind_int64(st, 1, f->since);
	sqlite3_bind_int64(st, 2, f->until ? f->until : INT64_MAX);
	for (i = 0; i < nd; i++)
		sq_bind_str(st, 3 + i, f->domains[i]);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		row.org_name = (const char *)sqlite3_column_text(st, 0);
		row.report_id = (const char *)sqlite3_column_text(st, 1);
		row.domain = (const char *)sqlite3_column_text(st, 2);
		row.begin = sqlite3_column_int64(st, 3);
		row.end = sqlite3_column_int64(st, 4);
		row.records = (uint64_t)sqlite3_column_int64(st, 5);
		row.messages = (uint64_t)sqlite3_column_int64(st, 6);
		row.salvaged = sqlite3_column_int(st, 7);
		if (cb(arg, &row) == -1) {
			sqlite3_finalize(st);
			return err_set(e, "output failed");
		}
	}
	if (rc != SQLITE_DONE) {
		sq_err(q, e, "cannot query reports");
		sqlite3_finalize(st);
		return -1;
	}
	sqlite3_finalize(st);
	return 0;
}


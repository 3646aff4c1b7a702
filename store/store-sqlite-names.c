/*
 * store-sqlite-names.c - the names of source addresses in SQLite: the
 * table source_names (migration 3).  See store.h.
 *
 * The statements are prepared per call, not kept with the connection's:
 * each call handles a whole run's worth of names (one query, or one
 * transaction of inserts), so a prepare per call costs nothing measurable.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "rows.h"
#include "sqlite-impl.h"
#include "sqlite-names.h"

/* Addresses from the traffic rollup (one row per distinct source and
 * day, far fewer than records); never looked up first. */
#define DUE_SQL                                                                \
	"SELECT t.ip FROM (SELECT DISTINCT source_ip AS ip FROM traffic "      \
	"WHERE source_ip <> '') t LEFT JOIN source_names n ON n.ip = t.ip "    \
	"WHERE n.ip IS NULL OR n.expires_at <= ?1 "                            \
	"ORDER BY n.ip IS NOT NULL, t.ip LIMIT ?2"

#define PUT_SQL                                                                \
	"INSERT INTO source_names (ip, result, name, confirmed, ttl, "         \
	"resolved_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) "        \
	"ON CONFLICT (ip) DO UPDATE SET result = ?2, name = ?3, "              \
	"confirmed = ?4, ttl = ?5, resolved_at = ?6, expires_at = ?7"

#define EACH_SQL                                                               \
	"SELECT ip, result, name, confirmed, ttl, resolved_at, expires_at "    \
	"FROM source_names ORDER BY ip"

int
sq_names_due(void *impl, int64_t now, size_t limit,
             int (*cb)(void *arg, const char *ip, struct err *e), void *arg,
             struct err *e)
{
	struct sq *q = impl;
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(q->db, DUE_SQL, -1, &st, NULL) != SQLITE_OK)
		return sq_err(q, e, "cannot list the addresses to look up");
	sqlite3_bind_int64(st, 1, now);
	sqlite3_bind_int64(st, 2,
	                   limit > INT64_MAX ? INT64_MAX : (int64_t)limit);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (cb(arg, (const char *)sqlite3_column_text(st, 0), e) ==
		    -1) {
			sqlite3_finalize(st);
			return -1;
		}
	}
	if (rc != SQLITE_DONE) {
		sq_err(q, e, "cannot list the addresses to look up");
		sqlite3_finalize(st);
		return -1;
	}
	sqlite3_finalize(st);
	return 0;
}

static int
put_one(struct sq *q, sqlite3_stmt *st, const struct store_name *n,
        struct err *e)
{
	int rc;

	sq_bind_str(st, 1, n->ip);
	sq_bind_str(st, 2, n->result);
	sq_bind_str(st, 3, n->name);
	sqlite3_bind_int(st, 4, n->confirmed != 0);
	sqlite3_bind_int64(st, 5, n->ttl);
	sqlite3_bind_int64(st, 6, n->resolved_at);
	sqlite3_bind_int64(st, 7, n->expires_at);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return sq_err(q, e, "cannot store the name of an address");
	return 0;
}

int
sq_names_put(void *impl, const struct store_name *names, size_t n,
             struct err *e)
{
	struct sq *q = impl;
	sqlite3_stmt *st;
	int own = !q->in_batch;
	size_t i;

	if (q->readonly)
		return err_set(e, "internal error: names stored in a "
		                  "read-only store");
	if (n == 0)
		return 0;
	if (sqlite3_prepare_v2(q->db, PUT_SQL, -1, &st, NULL) != SQLITE_OK)
		return sq_err(q, e, "cannot store the names of addresses");
	if (own && sqlite3_exec(q->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) !=
	               SQLITE_OK) {
		sq_err(q, e, "cannot store the names of addresses");
		sqlite3_finalize(st);
		return -1;
	}
	for (i = 0; i < n; i++)
		if (put_one(q, st, &names[i], e) == -1)
			break;
	sqlite3_finalize(st);
	if (i < n) {
		if (own)
			sqlite3_exec(q->db, "ROLLBACK", NULL, NULL, NULL);
		return -1;
	}
	if (own &&
	    sqlite3_exec(q->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		sq_err(q, e, "cannot store the names of addresses");
		sqlite3_exec(q->db, "ROLLBACK", NULL, NULL, NULL);
		return -1;
	}
	return 0;
}

int
sq_each_name(void *impl,
             int (*cb)(void *arg, const struct store_name *n, struct err *e),
             void *arg, struct err *e)
{
	struct sq *q = impl;
	struct row_names w = {cb, arg};
	sqlite3_stmt *st;

	if (sqlite3_prepare_v2(q->db, EACH_SQL, -1, &st, NULL) != SQLITE_OK)
		return sq_err(q, e, "cannot read the names of addresses");
	return sq_walk(q, st, row_each_name, &w, e,
	               "cannot read the names of addresses");
}

/*
 * store-sqlite.c - the embedded SQLite backend of store.h.
 *
 * Durability model: WAL with synchronous=NORMAL.  A committed batch survives
 * a crash of the process; a power loss may lose the last commits but never
 * corrupts the file or leaves half a report (SQLite's WAL guarantee).  The
 * ingester never marks mail as processed before the commit that stored it,
 * so a lost commit means mail that is fetched again, and deduplicated.
 *
 * Every statement is prepared once when the store is opened and reused for
 * every report and record; the hot path (one record and its DKIM/SPF
 * results) is a handful of bind/step/reset calls and no allocation.
 */
#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "migrations.h"
#include "payload.h"
#include "sqlite-impl.h"

#define TRAFFIC_BYTES (3u << 20) /* the rollup's sums: see sq_open() */

static const char *const sql_text[S_COUNT] = {
    [S_SAVEPOINT] = "SAVEPOINT report",
    [S_RELEASE] = "RELEASE report",
    [S_ROLLBACK_TO] = "ROLLBACK TO report",
    [S_BEGIN] = "BEGIN IMMEDIATE",
    [S_COMMIT] = "COMMIT",
    [S_ROLLBACK] = "ROLLBACK",
    [S_INS_RAW] = "INSERT INTO raw_payloads (name, format, size, data) "
		  "VALUES (?, ?, ?, zeroblob(?))",
    /* A provisional row: the real key is set by S_UPD_REPORT when the
     * report is complete, which is where a duplicate key is detected. */
    [S_INS_REPORT] = "INSERT INTO reports (org_name, report_id, domain, "
		     "begin_ts, end_ts, source, ingested_at, raw_payload) "
		     "VALUES ('', '', '', 0, 0, '', 0, ?)",
    [S_UPD_REPORT] = "UPDATE reports SET org_name = ?1, "
		     "org_name_derived = ?2, email = ?3, "
		     "extra_contact_info = ?4, report_id = ?5, domain = ?6, "
		     "begin_ts = ?7, end_ts = ?8, errors = ?9, "
		     "generator = ?10, version = ?11, xmlns = ?12, "
		     "adkim = ?13, aspf = ?14, p = ?15, sp = ?16, np = ?17, "
		     "pct = ?18, fo = ?19, testing = ?20, "
		     "discovery_method = ?21, record_count = ?22, "
		     "message_count = ?23, content_hash = ?24, "
		     "salvaged = ?25, warnings = ?26, source = ?27, "
		     "ingested_at = ?28, raw_member = ?29 WHERE id = ?30",
    [S_INS_RECORD] = "INSERT INTO records (report, source_ip, count, "
		     "disposition, dkim, spf, header_from, envelope_from, "
		     "envelope_to) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    /* One statement inserts up to MULTI results: most records carry one
     * to three, and one statement per row was a third of the insert time.
     * OR IGNORE, because a statement of several rows that may abort half
     * way gets a statement savepoint (see sq_open()); no row can conflict
     * (the record is new, idx its position), and insert_results() checks
     * that every row went in. */
#define DKIM_SQL "INSERT OR IGNORE INTO dkim_results (record, idx, domain, " \
		 "selector, result, human_result) VALUES (?, ?, ?, ?, ?, ?)"
#define SPF_SQL	 "INSERT OR IGNORE INTO spf_results (record, idx, domain, "   \
		 "scope, result, human_result) VALUES (?, ?, ?, ?, ?, ?)"
#define MORE	 ", (?, ?, ?, ?, ?, ?)"
    [S_INS_DKIM] = DKIM_SQL,
    [S_INS_DKIM2] = DKIM_SQL MORE,
    [S_INS_DKIM3] = DKIM_SQL MORE MORE,
    [S_INS_DKIM4] = DKIM_SQL MORE MORE MORE,
    [S_INS_SPF] = SPF_SQL,
    [S_INS_SPF2] = SPF_SQL MORE,
    [S_INS_SPF3] = SPF_SQL MORE MORE,
    [S_INS_SPF4] = SPF_SQL MORE MORE MORE,
    [S_INS_REASON] = "INSERT INTO override_reasons (record, idx, type, "
		     "type_original, comment) VALUES (?, ?, ?, ?, ?)",
    [S_FIND] = "SELECT id, record_count, message_count, content_hash, "
	       "ingested_at, source FROM reports WHERE org_name = ? AND "
	       "report_id = ? AND domain = ? AND begin_ts = ? AND end_ts = ?",
    [S_LOG] = "INSERT INTO ingest_log (at, source, outcome, report, "
	      "org_name, report_id, domain, begin_ts, end_ts, message) "
	      "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    [S_IMAP_GET] = "SELECT uidvalidity, last_uid FROM imap_state "
		   "WHERE mailbox = ?",
    [S_TRAFFIC] = "INSERT INTO traffic " TRAFFIC_COLUMNS_SQL
		  " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, "
		  "?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16) "
		  TRAFFIC_UPSERT_SQL,
    [S_TRAFFIC_REPORT] = TRAFFIC_FILL_SQL("WHERE rp.id = ?1"),
    [S_IMAP_SET] = "INSERT INTO imap_state (mailbox, uidvalidity, last_uid, "
		   "updated_at) VALUES (?1, ?2, ?3, ?4) ON CONFLICT (mailbox) "
		   "DO UPDATE SET uidvalidity = ?2, last_uid = ?3, "
		   "updated_at = ?4",
};



int
sq_err(struct sq *q, struct err *e, const char *what)
{
	int code = sqlite3_extended_errcode(q->db);

	if ((code & 0xff) == SQLITE_BUSY)
		return err_set(e, "%s: the database %s is locked by another "
				  "process (busy for 30 s)",
		    what, q->path);
	if ((code & 0xff) == SQLITE_FULL)
		return err_set(e, "%s: the disk holding %s is full", what,
		    q->path);
	return err_set(e, "%s: %s (%s)", what, sqlite3_errmsg(q->db), q->path);
}

void
sq_bind_str(sqlite3_stmt *st, int i, const char *s)
{
	if (s == NULL)
		sqlite3_bind_null(st, i);
	else
		sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
}

/* Steps a statement that returns no rows, then resets it. */
static int
run(struct sq *q, enum stmt id, struct err *e, const char *what)
{
	sqlite3_stmt *st = q->st[id];
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return sq_err(q, e, what);
	return 0;
}

/* run() for an INSERT OR IGNORE of n rows: all n must have gone in. */
static int
run_rows(struct sq *q, enum stmt id, size_t n, struct err *e,
    const char *what)
{
	if (run(q, id, e, what) == -1)
		return -1;
	if ((size_t)sqlite3_changes(q->db) != n)
		return err_set(e, "%s: %zu of %zu rows stored (internal error: "
				  "a duplicate result index)",
		    what, (size_t)sqlite3_changes(q->db), n);
	return 0;
}

static int
exec_sql(struct sq *q, const char *sql, struct err *e, const char *what)
{
	char *msg = NULL;

	if (sqlite3_exec(q->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		err_set(e, "%s: %s (%s)", what, msg ? msg : "error", q->path);
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

static int
user_version(struct sq *q, int *v, struct err *e)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(q->db, "PRAGMA user_version", -1, &st, NULL) !=
	    SQLITE_OK)
		return sq_err(q, e, "cannot read the schema version");
	rc = sqlite3_step(st);
	*v = rc == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW)
		return sq_err(q, e, "cannot read the schema version");
	return 0;
}

static int
migrate(struct sq *q, struct err *e)
{
	char setv[64];
	int v, latest = migration_latest();

	if (user_version(q, &v, e) == -1)
		return -1;
	if (v > latest)
		return err_set(e, "database %s has schema version %d; this "
				  "dmarcsift knows up to %d: upgrade dmarcsift",
		    q->path, v, latest);
	while (v < latest) {
		if (exec_sql(q, "BEGIN IMMEDIATE", e, "cannot migrate") == -1)
			return -1;
		/* read again under the write lock: two runs on two mailboxes
		 * may open a new database at once, and the other one may have
		 * migrated meanwhile */
		if (user_version(q, &v, e) == -1) {
			sqlite3_exec(q->db, "ROLLBACK", NULL, NULL, NULL);
			return -1;
		}
		if (v >= latest) {
			sqlite3_exec(q->db, "ROLLBACK", NULL, NULL, NULL);
			break;
		}
		v++;
		snprintf(setv, sizeof(setv), "PRAGMA user_version = %d", v);
		if (exec_sql(q, migration_step(v), e, "schema migration") ==
			-1 ||
		    exec_sql(q, setv, e, "schema migration") == -1) {
			sqlite3_exec(q->db, "ROLLBACK", NULL, NULL, NULL);
			return err_prefix(e, "migrating to schema version %d", v);
		}
		if (exec_sql(q, "COMMIT", e, "schema migration") == -1)
			return -1;
	}
	return 0;
}

void
sq_close(void *impl)
{
	struct sq *q = impl;
	int i;

	if (q == NULL)
		return;
	if (q->in_batch)
		sqlite3_exec(q->db, "ROLLBACK", NULL, NULL, NULL);
	for (i = 0; i < S_COUNT; i++)
		sqlite3_finalize(q->st[i]);
	sqlite3_close(q->db);
	free(q->path);
	buf_free(&q->sig_dkim);
	buf_free(&q->sig_spf);
	traffic_free(&q->traffic);
	free(q);
}

/* Prepares the statements: all of them for a writer, the two lookups a
 * reader uses after checking that the schema is the one this build
 * knows. */
static int
prepare_all(struct sq *q, struct err *e)
{
	int i, v;

	if (!q->readonly) {
		for (i = 0; i < S_COUNT; i++)
			if (sqlite3_prepare_v3(q->db, sql_text[i], -1,
				SQLITE_PREPARE_PERSISTENT, &q->st[i],
				NULL) != SQLITE_OK)
				return sq_err(q, e, "cannot prepare a statement");
		return 0;
	}
	if (user_version(q, &v, e) == -1)
		return -1;
	if (v != migration_latest())
		return err_set(e, "database %s has schema version %d, this "
				  "dmarcsift uses %d: run dmarc-ingest once to "
				  "upgrade it",
		    q->path, v, migration_latest());
	if (sqlite3_prepare_v2(q->db, sql_text[S_FIND], -1, &q->st[S_FIND],
		NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(q->db, sql_text[S_IMAP_GET], -1,
		&q->st[S_IMAP_GET], NULL) != SQLITE_OK)
		return sq_err(q, e, "cannot prepare a statement");
	return 0;
}

int
sq_connect(const char *name, const char *target, int flags,
    enum store_mode mode, const char *note, void **impl, struct err *e)
{
	struct sq *q;

	if ((q = calloc(1, sizeof(*q))) == NULL ||
	    (q->path = strdup(name)) == NULL) {
		free(q);
		return err_set(e, "out of memory");
	}
	snprintf(q->note, sizeof(q->note), "%s", note ? note : "");
	buf_init(&q->sig_dkim, 0);
	buf_init(&q->sig_spf, 0);
	/* The rollup's sums: 3 MB hold some 16,000 groups (traffic.h).  A
	 * larger table is written out less often (8 MB made a 1M-record
	 * import 15% faster) but then peak memory grows with the report up to
	 * that size; at 3 MB it stays within 12% of a small report's. */
	traffic_init(&q->traffic, TRAFFIC_BYTES);
	q->readonly = mode == STORE_READONLY;
	if (sqlite3_open_v2(target, &q->db, flags | SQLITE_OPEN_NOMUTEX,
		NULL) != SQLITE_OK) {
		sq_err(q, e, "cannot open the database");
		goto fail;
	}
	sqlite3_extended_result_codes(q->db, 1);
	sqlite3_busy_timeout(q->db, 30000);
	/*
	 * Foreign keys are not enforced on this connection.  The writer
	 * inserts a report's children with the row id its parent's INSERT
	 * has just returned, in the same transaction, and never deletes or
	 * re-keys a row, so the checks could only ever pass; but while they
	 * are on, every INSERT "may abort" and SQLite wraps each one in a
	 * statement savepoint of its own (a journal bitmap allocated and
	 * released per statement): 28% of the instructions spent storing a
	 * record.  The schema keeps its REFERENCES ... ON DELETE CASCADE for
	 * any connection that turns them on (docs/schema.md).
	 */
	if (exec_sql(q, "PRAGMA trusted_schema = OFF",
		e, "cannot configure the database") == -1)
		goto fail;
	/* temp_store = MEMORY: the statement journal of each report's
	 * savepoint then lives in memory.  It only holds pages that existed
	 * before the report (the right edge of each B-tree), so it stays
	 * small, and on disk it cost more writes than the reports
	 * themselves. */
	if (!q->readonly &&
	    (exec_sql(q, "PRAGMA journal_mode = WAL; "
			 "PRAGMA synchronous = NORMAL; "
			 "PRAGMA temp_store = MEMORY",
		 e, "cannot configure the database") == -1 ||
		migrate(q, e) == -1))
		goto fail;
	if (prepare_all(q, e) == -1)
		goto fail;
	*impl = q;
	return 0;
fail:
	sq_close(q);
	return -1;
}

int
sq_open(const char *location, enum store_mode mode, void **impl,
    struct err *e)
{
	char uri[8192], note[1024];
	int fd, wal_pending;

	if (mode == STORE_READONLY) {
		if (sq_reader_uri(location, uri, sizeof(uri), note,
			sizeof(note), &wal_pending, e) == -1)
			return -1;
		if (sq_connect(location, uri[0] ? uri : location,
			SQLITE_OPEN_READONLY | (uri[0] ? SQLITE_OPEN_URI : 0),
			mode, note, impl, e) == 0)
			return 0;
		if (wal_pending)
			err_prefix(e, "%s-wal holds changes not yet in %s (an "
				      "import is running, or was interrupted), "
				      "and reading them needs write access to "
				      "its folder: read it as its owner, or "
				      "once dmarc-ingest has finished",
			    location, location);
		return -1;
	}
	/* Created by us, readable by the owner only: reports name every
	 * server that sends mail as you. */
	if ((fd = open(location, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) == -1)
		return err_errno(e, "cannot create the database %s", location);
	close(fd);
	return sq_connect(location, location,
	    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, mode, NULL, impl, e);
}

const char *
sq_note(const void *impl)
{
	const struct sq *q = impl;

	return q->note[0] != '\0' ? q->note : NULL;
}

int
sq_batch_begin(void *impl, struct err *e)
{
	struct sq *q = impl;

	if (q->in_batch)
		return err_set(e, "internal error: nested batch");
	if (run(q, S_BEGIN, e, "cannot start a transaction") == -1)
		return -1;
	q->in_batch = 1;
	return 0;
}

int
sq_batch_commit(void *impl, struct err *e)
{
	struct sq *q = impl;

	if (!q->in_batch)
		return 0;
	if (run(q, S_COMMIT, e, "cannot commit") == -1) {
		sqlite3_exec(q->db, "ROLLBACK", NULL, NULL, NULL);
		q->in_batch = 0;
		return -1;
	}
	q->in_batch = 0;
	return 0;
}

void
sq_batch_rollback(void *impl)
{
	struct sq *q = impl;
	struct err e;

	if (q->in_batch)
		run(q, S_ROLLBACK, &e, "rollback");
	q->in_batch = 0;
}

int
sq_in_batch(const void *impl)
{
	return ((const struct sq *)impl)->in_batch;
}

static void
fill_existing(sqlite3_stmt *st, struct store_existing *ex)
{
	const unsigned char *src;

	ex->id = sqlite3_column_int64(st, 0);
	ex->records = (uint64_t)sqlite3_column_int64(st, 1);
	ex->messages = (uint64_t)sqlite3_column_int64(st, 2);
	ex->hash = (uint64_t)sqlite3_column_int64(st, 3);
	ex->ingested_at = sqlite3_column_int64(st, 4);
	src = sqlite3_column_text(st, 5);
	snprintf(ex->source, sizeof(ex->source), "%s",
	    src ? (const char *)src : "");
}

int
sq_find_report(void *impl, const struct dmarc_meta *m,
    struct store_existing *ex, int *found, struct err *e)
{
	struct sq *q = impl;
	sqlite3_stmt *st = q->st[S_FIND];
	int rc;

	sq_bind_str(st, 1, m->org_name);
	sq_bind_str(st, 2, m->report_id);
	sq_bind_str(st, 3, m->domain);
	sqlite3_bind_int64(st, 4, m->begin);
	sqlite3_bind_int64(st, 5, m->end);
	rc = sqlite3_step(st);
	*found = rc == SQLITE_ROW;
	if (*found)
		fill_existing(st, ex);
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return sq_err(q, e, "cannot look up the report");
	return 0;
}

/* Copies the payload into a blob without holding it in memory twice: a
 * file is streamed in 1 MB pieces through incremental blob I/O.  Plain XML
 * is compressed first (payload.h). */
static int
store_raw(struct sq *q, struct store_payload *given, struct err *e)
{
	struct store_payload packed_view, *raw = given;
	struct buf packed;
	const char *format;
	int compressed;
	sqlite3_stmt *st = q->st[S_INS_RAW];
	sqlite3_blob *blob = NULL;
	unsigned char *chunk = NULL;
	struct stat sb;
	int64_t size, id, off = 0;
	ssize_t n;
	int fd = -1, rc = -1;

	buf_init(&packed, 0);
	if (payload_prepare(given, &packed, &format, &compressed, e) == -1)
		goto out;
	if (compressed) {
		packed_view = *given;
		packed_view.mem = (const unsigned char *)packed.data;
		packed_view.len = packed.len;
		packed_view.path = NULL;
		raw = &packed_view;
	}
	if (raw->path != NULL) {
		if ((fd = open(raw->path, O_RDONLY | O_CLOEXEC)) == -1 ||
		    fstat(fd, &sb) == -1) {
			err_errno(e, "cannot read %s to store it", raw->path);
			goto out;
		}
		size = sb.st_size;
	} else {
		size = (int64_t)raw->len;
	}
	if (size > PAYLOAD_MAX) {
		err_set(e, "payload of %lld bytes is too large to keep",
		    (long long)size);
		goto out;
	}
	sq_bind_str(st, 1, raw->name);
	sq_bind_str(st, 2, format);
	sqlite3_bind_int64(st, 3, size);
	sqlite3_bind_int64(st, 4, size);
	if (run(q, S_INS_RAW, e, "cannot store the raw report") == -1)
		goto out;
	id = sqlite3_last_insert_rowid(q->db);
	if (size > 0 && sqlite3_blob_open(q->db, "main", "raw_payloads", "data",
			    id, 1, &blob) != SQLITE_OK) {
		sq_err(q, e, "cannot store the raw report");
		goto out;
	}
	if (raw->path == NULL) {
		while (off < size) {
			int k = size - off > (1 << 20) ? (1 << 20)
						       : (int)(size - off);
			if (sqlite3_blob_write(blob, raw->mem + off, k,
				(int)off) != SQLITE_OK) {
				sq_err(q, e, "cannot store the raw report");
				goto out;
			}
			off += k;
		}
	} else {
		if ((chunk = malloc(1 << 20)) == NULL) {
			err_set(e, "out of memory");
			goto out;
		}
		while (off < size) {
			n = read(fd, chunk, 1 << 20);
			if (n == -1 && errno == EINTR)
				continue;
			if (n <= 0) {
				err_set(e, "%s changed while it was read",
				    raw->path);
				goto out;
			}
			if (n > size - off)
				n = (ssize_t)(size - off);
			if (sqlite3_blob_write(blob, chunk, (int)n, (int)off) !=
			    SQLITE_OK) {
				sq_err(q, e, "cannot store the raw report");
				goto out;
			}
			off += n;
		}
	}
	given->stored_id = id;
	q->raw_new = given;
	rc = 0;
out:
	buf_free(&packed);
	if (blob != NULL)
		sqlite3_blob_close(blob);
	if (fd != -1)
		close(fd);
	free(chunk);
	return rc;
}

/* The part of the traffic key that comes from the report's header.
 * Returns 0 when it is not known yet (or too long to key in memory). */
static int
set_traffic_key(struct sq *q, const struct dmarc_meta *m)
{
	if (m->domain == NULL || !m->has_begin ||
	    strlen(m->domain) >= sizeof(q->domain) ||
	    (m->adkim && strlen(m->adkim) >= sizeof(q->adkim)) ||
	    (m->aspf && strlen(m->aspf) >= sizeof(q->aspf)))
		return 0;
	q->day = m->begin / 86400;
	snprintf(q->domain, sizeof(q->domain), "%s", m->domain);
	snprintf(q->adkim, sizeof(q->adkim), "%s", m->adkim ? m->adkim : "");
	snprintf(q->aspf, sizeof(q->aspf), "%s", m->aspf ? m->aspf : "");
	return 1;
}

void
sq_report_abort(void *impl)
{
	struct sq *q = impl;
	struct err e;

	if (!q->in_report)
		return;
	run(q, S_ROLLBACK_TO, &e, "rollback");
	run(q, S_RELEASE, &e, "rollback");
	if (q->raw_new != NULL)
		q->raw_new->stored_id = 0; /* its row is gone too */
	q->raw_new = NULL;
	q->in_report = 0;
	traffic_reset(&q->traffic);
}

int
sq_report_begin(void *impl, const struct dmarc_meta *m,
    struct store_payload *raw, struct err *e)
{
	struct sq *q = impl;
	sqlite3_stmt *st = q->st[S_INS_REPORT];

	(void)m;
	if (q->in_report)
		return err_set(e, "internal error: report already open");
	if (run(q, S_SAVEPOINT, e, "cannot start the report") == -1)
		return -1;
	q->in_report = 1;
	q->raw_new = NULL;
	if (raw != NULL && raw->stored_id == 0 && store_raw(q, raw, e) == -1)
		goto fail;
	if (raw != NULL)
		sqlite3_bind_int64(st, 1, raw->stored_id);
	else
		sqlite3_bind_null(st, 1);
	if (run(q, S_INS_REPORT, e, "cannot store the report") == -1)
		goto fail;
	q->report = sqlite3_last_insert_rowid(q->db);
	traffic_reset(&q->traffic);
	q->traffic_spilled = 0;
	q->header_known = set_traffic_key(q, m);
	return 0;
fail:
	sq_report_abort(q);
	return -1;
}

/* Appends one result, its fields separated by U+001F, to a list whose
 * entries are separated by U+001E; NULL fields are empty. */
static int
sig_entry(struct buf *b, const char *x, const char *y, const char *z,
    struct err *e)
{
	if ((b->len > 0 && buf_appendc(b, '\x1e', e) == -1) ||
	    buf_append(b, x ? x : "", x ? strlen(x) : 0, e) == -1 ||
	    buf_appendc(b, '\x1f', e) == -1 ||
	    buf_append(b, y ? y : "", y ? strlen(y) : 0, e) == -1 ||
	    buf_appendc(b, '\x1f', e) == -1 ||
	    buf_append(b, z ? z : "", z ? strlen(z) : 0, e) == -1)
		return -1;
	return 0;
}

static int
write_entry(void *arg, const struct traffic_entry *en)
{
	struct sq *q = arg;
	sqlite3_stmt *st = q->st[S_TRAFFIC];
	int i, rc;

	sqlite3_bind_int64(st, 1, q->day);
	sqlite3_bind_text(st, 2, q->domain, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, q->adkim, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, q->aspf, -1, SQLITE_STATIC);
	for (i = 0; i < TK_COUNT; i++)
		sqlite3_bind_text(st, 5 + i, en->field[i], -1, SQLITE_STATIC);
	for (i = 0; i < TC_COUNT; i++)
		sqlite3_bind_int64(st, 10 + i, en->c[i]);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* Writes the summed rows, in key order, and empties the sums. */
static int
traffic_flush(struct sq *q, struct err *e)
{
	int rc = traffic_sorted(&q->traffic, write_entry, q);

	traffic_reset(&q->traffic);
	if (rc == -1)
		return sq_err(q, e, "cannot add the report to the traffic");
	return 0;
}

/* Adds one record to the report's sums.  The DKIM and SPF texts are the
 * ones TRAFFIC_DKIM_SQL and TRAFFIC_SPF_SQL make (migrations.h), so that
 * records summed here and reports added in SQL land on the same rows. */
static int
traffic_record(struct sq *q, const struct dmarc_record *r, struct err *e)
{
	const char *field[TK_COUNT];
	int64_t c[TC_COUNT], n = r->count;
	int dk = r->dkim != NULL && strcmp(r->dkim, "pass") == 0;
	int sp = r->spf != NULL && strcmp(r->spf, "pass") == 0;
	size_t i;
	int rc;

	if (q->traffic_spilled)
		return 0;
	buf_reset(&q->sig_dkim);
	buf_reset(&q->sig_spf);
	for (i = 0; i < r->ndkim; i++)
		if (sig_entry(&q->sig_dkim, r->dkim_results[i].domain,
			r->dkim_results[i].selector, r->dkim_results[i].result,
			e) == -1)
			return -1;
	for (i = 0; i < r->nspf; i++)
		if (sig_entry(&q->sig_spf, r->spf_results[i].domain,
			r->spf_results[i].scope, r->spf_results[i].result,
			e) == -1)
			return -1;
	field[TK_SOURCE_IP] = r->source_ip;
	field[TK_HEADER_FROM] = r->header_from;
	field[TK_ENVELOPE_FROM] = r->envelope_from;
	field[TK_DKIM] = q->sig_dkim.len ? q->sig_dkim.data : "";
	field[TK_SPF] = q->sig_spf.len ? q->sig_spf.data : "";
	c[TC_RECORDS] = 1;
	c[TC_MESSAGES] = n;
	c[TC_DKIM_ALIGNED] = dk ? n : 0;
	c[TC_SPF_ALIGNED] = sp ? n : 0;
	c[TC_DMARC_PASS] = dk || sp ? n : 0;
	c[TC_QUARANTINED] = r->disposition != NULL &&
				    strcmp(r->disposition, "quarantine") == 0
				? n
				: 0;
	c[TC_REJECTED] = r->disposition != NULL &&
				 strcmp(r->disposition, "reject") == 0
			     ? n
			     : 0;
	if ((rc = traffic_add(&q->traffic, field, c)) == 1) {
		if (!q->header_known) {
			q->traffic_spilled = 1;
			traffic_reset(&q->traffic);
			return 0;
		}
		if (traffic_flush(q, e) == -1)
			return -1;
		rc = traffic_add(&q->traffic, field, c);
	}
	if (rc == -1)
		return err_set(e, "out of memory summing the traffic");
	return 0;
}

int
sq_report_record(void *impl, const struct dmarc_record *r, struct err *e)
{
	struct sq *q = impl;
	sqlite3_stmt *st = q->st[S_INS_RECORD];
	int64_t rec;
	size_t i, k, n;

	sqlite3_bind_int64(st, 1, q->report);
	sq_bind_str(st, 2, r->source_ip);
	sqlite3_bind_int64(st, 3, r->count);
	sq_bind_str(st, 4, r->disposition);
	sq_bind_str(st, 5, r->dkim);
	sq_bind_str(st, 6, r->spf);
	sq_bind_str(st, 7, r->header_from);
	sq_bind_str(st, 8, r->envelope_from);
	sq_bind_str(st, 9, r->envelope_to);
	if (run(q, S_INS_RECORD, e, "cannot store a record") == -1)
		return -1;
	rec = sqlite3_last_insert_rowid(q->db);

	for (i = 0; i < r->ndkim; i += n) {
		n = r->ndkim - i < MULTI ? r->ndkim - i : MULTI;
		st = q->st[S_INS_DKIM + n - 1];
		for (k = 0; k < n; k++) {
			const struct dmarc_dkim *d = &r->dkim_results[i + k];
			int b = (int)k * 6;
			sqlite3_bind_int64(st, b + 1, rec);
			sqlite3_bind_int64(st, b + 2, (int64_t)(i + k));
			sq_bind_str(st, b + 3, d->domain);
			sq_bind_str(st, b + 4, d->selector);
			sq_bind_str(st, b + 5, d->result);
			sq_bind_str(st, b + 6, d->human_result);
		}
		if (run_rows(q, S_INS_DKIM + n - 1, n, e,
			"cannot store a DKIM result") == -1)
			return -1;
	}
	for (i = 0; i < r->nspf; i += n) {
		n = r->nspf - i < MULTI ? r->nspf - i : MULTI;
		st = q->st[S_INS_SPF + n - 1];
		for (k = 0; k < n; k++) {
			const struct dmarc_spf *d = &r->spf_results[i + k];
			int b = (int)k * 6;
			sqlite3_bind_int64(st, b + 1, rec);
			sqlite3_bind_int64(st, b + 2, (int64_t)(i + k));
			sq_bind_str(st, b + 3, d->domain);
			sq_bind_str(st, b + 4, d->scope);
			sq_bind_str(st, b + 5, d->result);
			sq_bind_str(st, b + 6, d->human_result);
		}
		if (run_rows(q, S_INS_SPF + n - 1, n, e,
			"cannot store an SPF result") == -1)
			return -1;
	}
	st = q->st[S_INS_REASON];
	for (i = 0; i < r->nreasons; i++) {
		sqlite3_bind_int64(st, 1, rec);
		sqlite3_bind_int64(st, 2, (int64_t)i);
		sq_bind_str(st, 3, r->reasons[i].type);
		sq_bind_str(st, 4, r->reasons[i].type_original);
		sq_bind_str(st, 5, r->reasons[i].comment);
		if (run(q, S_INS_REASON, e, "cannot store an override reason") ==
		    -1)
			return -1;
	}
	return traffic_record(q, r, e);
}

int
sq_report_finish(void *impl, const struct dmarc_meta *m,
    const struct store_report_info *info, enum store_outcome *outcome,
    struct store_existing *ex, struct err *e)
{
	struct sq *q = impl;
	sqlite3_stmt *st = q->st[S_UPD_REPORT];
	int rc, found;

	sq_bind_str(st, 1, m->org_name);
	sqlite3_bind_int(st, 2, m->org_name_derived);
	sq_bind_str(st, 3, m->email);
	sq_bind_str(st, 4, m->extra_contact_info);
	sq_bind_str(st, 5, m->report_id);
	sq_bind_str(st, 6, m->domain);
	sqlite3_bind_int64(st, 7, m->begin);
	sqlite3_bind_int64(st, 8, m->end);
	sq_bind_str(st, 9, m->errors);
	sq_bind_str(st, 10, m->generator);
	sq_bind_str(st, 11, m->version);
	sq_bind_str(st, 12, m->xmlns);
	sq_bind_str(st, 13, m->adkim);
	sq_bind_str(st, 14, m->aspf);
	sq_bind_str(st, 15, m->p);
	sq_bind_str(st, 16, m->sp);
	sq_bind_str(st, 17, m->np);
	if (m->pct >= 0)
		sqlite3_bind_int(st, 18, m->pct);
	else
		sqlite3_bind_null(st, 18);
	sq_bind_str(st, 19, m->fo);
	sq_bind_str(st, 20, m->testing);
	sq_bind_str(st, 21, m->discovery_method);
	sqlite3_bind_int64(st, 22, (int64_t)info->records);
	sqlite3_bind_int64(st, 23, (int64_t)info->messages);
	sqlite3_bind_int64(st, 24, (int64_t)info->hash);
	sqlite3_bind_int(st, 25, info->salvaged);
	sq_bind_str(st, 26, info->warnings);
	sq_bind_str(st, 27, info->source);
	sqlite3_bind_int64(st, 28, (int64_t)time(NULL));
	sq_bind_str(st, 29, info->member);
	sqlite3_bind_int64(st, 30, q->report);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc == SQLITE_CONSTRAINT_UNIQUE) {
		/* A report with this key is already stored. */
		sq_report_abort(q);
		if (sq_find_report(q, m, ex, &found, e) == -1)
			return -1;
		if (!found)
			return err_set(e, "internal error: duplicate key but no "
					  "report");
		*outcome = STORE_DUPLICATE;
		return 0;
	}
	if (rc != SQLITE_DONE) {
		sq_err(q, e, "cannot complete the report");
		sq_report_abort(q);
		return -1;
	}
	/* the rest of the report's traffic, under its final header; when
	 * the sums overflowed before that header was known, from SQL */
	if (q->traffic_spilled || !set_traffic_key(q, m)) {
		sqlite3_bind_int64(q->st[S_TRAFFIC_REPORT], 1, q->report);
		if (run(q, S_TRAFFIC_REPORT, e,
			"cannot add the report to the traffic") == -1) {
			sq_report_abort(q);
			return -1;
		}
		traffic_reset(&q->traffic);
	} else if (traffic_flush(q, e) == -1) {
		sq_report_abort(q);
		return -1;
	}
	if (run(q, S_RELEASE, e, "cannot complete the report") == -1) {
		sq_report_abort(q);
		return -1;
	}
	q->in_report = 0;
	q->raw_new = NULL;
	ex->id = q->report;
	*outcome = STORE_STORED;
	return 0;
}

int
sq_log(void *impl, const char *source, const char *outcome,
    const struct dmarc_meta *m, int64_t report, const char *message,
    struct err *e)
{
	struct sq *q = impl;
	sqlite3_stmt *st = q->st[S_LOG];

	sqlite3_bind_int64(st, 1, (int64_t)time(NULL));
	sq_bind_str(st, 2, source);
	sq_bind_str(st, 3, outcome);
	if (report > 0)
		sqlite3_bind_int64(st, 4, report);
	else
		sqlite3_bind_null(st, 4);
	sq_bind_str(st, 5, m ? m->org_name : NULL);
	sq_bind_str(st, 6, m ? m->report_id : NULL);
	sq_bind_str(st, 7, m ? m->domain : NULL);
	if (m != NULL && m->has_begin)
		sqlite3_bind_int64(st, 8, m->begin);
	else
		sqlite3_bind_null(st, 8);
	if (m != NULL && m->has_end)
		sqlite3_bind_int64(st, 9, m->end);
	else
		sqlite3_bind_null(st, 9);
	sq_bind_str(st, 10, message);
	return run(q, S_LOG, e, "cannot write the ingest log");
}

int
sq_imap_get(void *impl, const char *mailbox, uint32_t *uidvalidity,
    uint32_t *last_uid, int *found, struct err *e)
{
	struct sq *q = impl;
	sqlite3_stmt *st = q->st[S_IMAP_GET];
	int rc;

	sq_bind_str(st, 1, mailbox);
	rc = sqlite3_step(st);
	*found = rc == SQLITE_ROW;
	if (*found) {
		*uidvalidity = (uint32_t)sqlite3_column_int64(st, 0);
		*last_uid = (uint32_t)sqlite3_column_int64(st, 1);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return sq_err(q, e, "cannot read the IMAP state");
	return 0;
}

int
sq_imap_set(void *impl, const char *mailbox, uint32_t uidvalidity,
    uint32_t last_uid, struct err *e)
{
	struct sq *q = impl;
	sqlite3_stmt *st = q->st[S_IMAP_SET];

	sq_bind_str(st, 1, mailbox);
	sqlite3_bind_int64(st, 2, uidvalidity);
	sqlite3_bind_int64(st, 3, last_uid);
	sqlite3_bind_int64(st, 4, (int64_t)time(NULL));
	return run(q, S_IMAP_SET, e, "cannot save the IMAP state");
}


int
sq_store_raw(struct sq *q, struct store_payload *raw, struct err *e)
{
	return store_raw(q, raw, e);
}

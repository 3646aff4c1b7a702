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
 *
 * This file: the statements, opening and migrating, batches.  The write
 * path of a report is store-sqlite-write.c.
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

/* how long a write waits for another run's transaction to end */
#define BUSY_TIMEOUT_MS 30000

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
    /* explicit ids: see struct sq */
    [S_NEXT_RECORD] = "SELECT coalesce(max(id), 0) + 1 FROM records",
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

int
sq_finish(struct sq *q, sqlite3_stmt *st, int rc, struct err *e,
    const char *what)
{
	/* the error is read before sqlite3_finalize(), which may reset it */
	if (rc != SQLITE_DONE)
		sq_err(q, e, what);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

void
sq_bind_str(sqlite3_stmt *st, int i, const char *s)
{
	if (s == NULL)
		sqlite3_bind_null(st, i);
	else
		sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
}

int
sq_run(struct sq *q, enum stmt id, struct err *e, const char *what)
{
	sqlite3_stmt *st = q->st[id];
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return sq_err(q, e, what);
	return 0;
}

int
sq_exec(struct sq *q, const char *sql, struct err *e, const char *what)
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
		if (sq_exec(q, "BEGIN IMMEDIATE", e, "cannot migrate") == -1)
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
		if (sq_exec(q, migration_step(v), e, "schema migration") ==
			-1 ||
		    sq_exec(q, setv, e, "schema migration") == -1) {
			sqlite3_exec(q->db, "ROLLBACK", NULL, NULL, NULL);
			return err_prefix(e, "migrating to schema version %d", v);
		}
		if (sq_exec(q, "COMMIT", e, "schema migration") == -1)
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
	rows_free(&q->rec_rows);
	rows_free(&q->dkim_rows);
	rows_free(&q->spf_rows);
	rows_free(&q->traffic_rows);
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

/*
 * Turns the database to WAL (a no-op once it is).  On a new file several
 * runs may get here at once (two mailboxes' cron lines; a mailbox is only
 * locked once the store is open): each reads the header under the shared
 * lock and then asks for the exclusive one, and SQLite answers all but one
 * "database is locked" at once, without calling the busy handler, since
 * waiting while holding the shared lock could deadlock.  So try again here,
 * for as long as the busy timeout would have waited.
 */
static int
set_wal(struct sq *q, struct err *e)
{
	int rc, waited;

	for (waited = 0;; waited += 10) {
		rc = sqlite3_exec(q->db, "PRAGMA journal_mode = WAL", NULL,
		    NULL, NULL);
		if ((rc & 0xff) != SQLITE_BUSY || waited >= BUSY_TIMEOUT_MS)
			break;
		sqlite3_sleep(10);
	}
	if (rc != SQLITE_OK)
		return sq_err(q, e, "cannot configure the database");
	return 0;
}

/*
 * The writer's held-back rows (sqlite-rows.h): for each table, the INSERTs
 * of 1, 2, 4 ... rows.  OR IGNORE: see there.
 */
#define RECORD_HEAD                                                          \
	"INSERT OR IGNORE INTO records (id, report, source_ip, count, "      \
	"disposition, dkim, spf, header_from, envelope_from, envelope_to) "  \
	"VALUES "
#define DKIM_HEAD                                                            \
	"INSERT OR IGNORE INTO dkim_results (record, idx, domain, selector, " \
	"result, human_result) VALUES "
#define SPF_HEAD                                                             \
	"INSERT OR IGNORE INTO spf_results (record, idx, domain, scope, "    \
	"result, human_result) VALUES "
#define TRAFFIC_HEAD "INSERT INTO traffic " TRAFFIC_COLUMNS_SQL " VALUES "
#define TRAFFIC_TAIL " " TRAFFIC_UPSERT_SQL
#define ROW6         "(?, ?, ?, ?, ?, ?)"
#define ROW10        "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
#define ROW16        "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
#define TWICE(rows)  rows ", " rows

static const char *const record_sql[] = {
    RECORD_HEAD ROW10,
    RECORD_HEAD TWICE(ROW10),
    RECORD_HEAD TWICE(TWICE(ROW10)),
    RECORD_HEAD TWICE(TWICE(TWICE(ROW10))),
    RECORD_HEAD TWICE(TWICE(TWICE(TWICE(ROW10)))),
};
/* DKIM and SPF side by side: [2k] inserts 2^k DKIM results, [2k + 1] as
 * many SPF results. */
static const char *const result_sql[] = {
    DKIM_HEAD ROW6,
    SPF_HEAD ROW6,
    DKIM_HEAD TWICE(ROW6),
    SPF_HEAD TWICE(ROW6),
    DKIM_HEAD TWICE(TWICE(ROW6)),
    SPF_HEAD TWICE(TWICE(ROW6)),
    DKIM_HEAD TWICE(TWICE(TWICE(ROW6))),
    SPF_HEAD TWICE(TWICE(TWICE(ROW6))),
    DKIM_HEAD TWICE(TWICE(TWICE(TWICE(ROW6)))),
    SPF_HEAD TWICE(TWICE(TWICE(TWICE(ROW6)))),
    DKIM_HEAD TWICE(TWICE(TWICE(TWICE(TWICE(ROW6))))),
    SPF_HEAD TWICE(TWICE(TWICE(TWICE(TWICE(ROW6))))),
};
static const char *const traffic_sql[] = {
    TRAFFIC_HEAD ROW16 TRAFFIC_TAIL,
    TRAFFIC_HEAD TWICE(ROW16) TRAFFIC_TAIL,
    TRAFFIC_HEAD TWICE(TWICE(ROW16)) TRAFFIC_TAIL,
    TRAFFIC_HEAD TWICE(TWICE(TWICE(ROW16))) TRAFFIC_TAIL,
    TRAFFIC_HEAD TWICE(TWICE(TWICE(TWICE(ROW16)))) TRAFFIC_TAIL,
};

enum rows_kind { RK_RECORD, RK_DKIM, RK_SPF, RK_TRAFFIC };

/* The INSERT of 2^k rows of a kind. */
static const char *
rows_sql(enum rows_kind kind, size_t k)
{
	switch (kind) {
	case RK_RECORD:
		return record_sql[k];
	case RK_DKIM:
		return result_sql[2 * k];
	case RK_SPF:
		return result_sql[2 * k + 1];
	case RK_TRAFFIC:
		return traffic_sql[k];
	}
	return NULL;
}

static int
prepare_rows(struct sq *q, struct rows *r, enum rows_kind kind, size_t nst,
             size_t ncols, const char *what, struct err *e)
{
	sqlite3_stmt *st[ROWS_SIZES] = {NULL};
	size_t k;

	for (k = 0; k < nst; k++) {
		if (sqlite3_prepare_v2(q->db, rows_sql(kind, k), -1, &st[k],
		                       NULL) != SQLITE_OK) {
			sq_err(q, e, what);
			while (k > 0)
				sqlite3_finalize(st[--k]);
			return -1;
		}
	}
	return rows_init(r, st, nst, ncols, what, e);
}

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static int
init_rows(struct sq *q, struct err *e)
{
	if (prepare_rows(q, &q->rec_rows, RK_RECORD, NELEM(record_sql), 10,
	                 "cannot store a record", e) == -1 ||
	    prepare_rows(q, &q->dkim_rows, RK_DKIM, NELEM(result_sql) / 2, 6,
	                 "cannot store a DKIM result", e) == -1 ||
	    prepare_rows(q, &q->spf_rows, RK_SPF, NELEM(result_sql) / 2, 6,
	                 "cannot store an SPF result", e) == -1 ||
	    prepare_rows(q, &q->traffic_rows, RK_TRAFFIC, NELEM(traffic_sql),
	                 16, "cannot add the report to the traffic", e) == -1)
		return -1;
	return 0;
}

/*
 * SQLite counts every allocation under a global mutex, for
 * sqlite3_memory_used() and the soft heap limit, which dmarcsift uses
 * neither of: about twenty mutex calls per record stored (a 100,000-record
 * import locked it 2 million times).  Only possible before the library
 * initialises, hence once per process, from main().
 */
void
sq_process_init(void)
{
	(void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
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
	traffic_init(&q->traffic, TRAFFIC_BYTES);
	q->readonly = mode == STORE_READONLY;
	if (sqlite3_open_v2(target, &q->db, flags | SQLITE_OPEN_NOMUTEX,
		NULL) != SQLITE_OK) {
		sq_err(q, e, "cannot open the database");
		goto fail;
	}
	sqlite3_extended_result_codes(q->db, 1);
	sqlite3_busy_timeout(q->db, BUSY_TIMEOUT_MS);
	/*
	 * Foreign keys are not enforced on this connection.  The writer
	 * inserts a report's children with the ids it gave their parents
	 * (struct sq), in the same transaction, and never deletes or re-keys
	 * a row, so by the commit the checks could only pass; but while they
	 * are on, every INSERT "may abort" and SQLite wraps each one in a
	 * statement savepoint of its own (a journal bitmap allocated and
	 * released per statement): 28% of the instructions spent storing a
	 * record.  The schema keeps its REFERENCES ... ON DELETE CASCADE for
	 * any connection that turns them on (docs/schema.md).
	 */
	if (sq_exec(q, "PRAGMA trusted_schema = OFF",
		e, "cannot configure the database") == -1)
		goto fail;
	/*
	 * 16 KB pages for a new file (an existing one keeps its size): a
	 * large import's pages go to the write-ahead log when the cache
	 * spills and again into the file at the checkpoint, a system call
	 * per page each way, and on a virtual machine each costs several
	 * microseconds.  A 100,000-record report made 33,000 writes and
	 * 18,000 reads with 4 KB pages; with 16 KB it imported 10% faster
	 * (1M records: 8.4 s against 7.8 s), and the summaries read no
	 * slower.  A no-op on a file that has pages already.
	 */
	if (!q->readonly && sq_exec(q, "PRAGMA page_size = 16384", e,
	                            "cannot configure the database") == -1)
		goto fail;
	/* temp_store = MEMORY: the statement journal of each report's
	 * savepoint then lives in memory.  It only holds pages that existed
	 * before the report (the right edge of each B-tree), so it stays
	 * small, and on disk it cost more writes than the reports
	 * themselves. */
	if (!q->readonly &&
	    (set_wal(q, e) == -1 ||
		sq_exec(q, "PRAGMA synchronous = NORMAL; "
			   "PRAGMA temp_store = MEMORY",
		    e, "cannot configure the database") == -1 ||
		migrate(q, e) == -1))
		goto fail;
	if (prepare_all(q, e) == -1 || (!q->readonly && init_rows(q, e) == -1))
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
	if (sq_run(q, S_BEGIN, e, "cannot start a transaction") == -1)
		return -1;
	q->in_batch = 1;
	q->next_record = 0;
	return 0;
}

int
sq_batch_commit(void *impl, struct err *e)
{
	struct sq *q = impl;

	if (!q->in_batch)
		return 0;
	if (sq_run(q, S_COMMIT, e, "cannot commit") == -1) {
		sqlite3_exec(q->db, "ROLLBACK", NULL, NULL, NULL);
		q->in_batch = 0;
		q->next_record = 0;
		return -1;
	}
	q->in_batch = 0;
	q->next_record = 0;
	return 0;
}

void
sq_batch_rollback(void *impl)
{
	struct sq *q = impl;
	struct err e;

	if (q->in_batch)
		sq_run(q, S_ROLLBACK, &e, "rollback");
	q->in_batch = 0;
	q->next_record = 0;
}

int
sq_in_batch(const void *impl)
{
	return ((const struct sq *)impl)->in_batch;
}

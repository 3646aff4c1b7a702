/*
 * test_store_location.c - the store as a location (issue 11): released
 * migration steps are frozen, and a backend whose location is not a file
 * opens, locks and migrates through the generic layer of store.c.
 *
 * The "test:" backend below is test-only: its stores are SQLite databases
 * in memory (shared-cache URIs), its lock a row in a table of the same
 * database, held by a connection of the lock's own.  It is what a new
 * backend is: one struct store_ops, here borrowing the SQLite write path
 * and queries and replacing every location operation.
 */
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "migrations.h"
#include "sqlite-impl.h"
#include "store-impl.h"

/* FNV-1a, 64 bits: enough to notice any edit of a step. */
static uint64_t
text_hash(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ULL;
	}
	return h;
}

/* The hashes of the released steps, as shipped.  NEVER update one of these
 * to make this test pass: a released step is frozen (store/migrations.c);
 * change the schema with a new step instead.  A new step's hash is added
 * here when it is released (migration_released). */
static const uint64_t released_hash[] = {
    0x00182ef6ff1a1e7cULL, /* 1 */
    0xb5308e9c928cb3afULL, /* 2 */
};

TEST(released_steps_are_frozen)
{
	int v;

	CHECK_INT(migration_released,
	    (int)(sizeof(released_hash) / sizeof(released_hash[0])));
	for (v = 1; v <= migration_released; v++) {
		uint64_t h = text_hash(migration_step(v));

		if (h != released_hash[v - 1])
			fprintf(stderr, "step %d: hash 0x%016llxULL\n", v,
			    (unsigned long long)h);
		CHECK(h == released_hash[v - 1]);
	}
}

/* PostgreSQL's steps, likewise (store/pg-schema.c). */
static const uint64_t pg_released_hash[] = {
    0x41d5f276e6b3f4e3ULL, /* 1 */
    0x1eab638a9257530eULL, /* 2 */
    0x7a48994d75f2b550ULL, /* 3 */
    0x904610b4ed92812cULL, /* 4 */
};

TEST(released_pg_steps_are_frozen)
{
	int v;

	CHECK_INT(pg_migration_released,
	    (int)(sizeof(pg_released_hash) / sizeof(pg_released_hash[0])));
	for (v = 1; v <= pg_migration_released; v++) {
		uint64_t h = text_hash(pg_migration_step(v));

		if (h != pg_released_hash[v - 1])
			fprintf(stderr, "pg step %d: hash 0x%016llxULL\n", v,
			    (unsigned long long)h);
		CHECK(h == pg_released_hash[v - 1]);
	}
}

/* "INSERT INTO t SELECT" or "INSERT INTO t VALUES" depends on the order
 * of the table's columns at the time it runs. */
TEST(released_inserts_name_their_columns)
{
	int v;

	for (v = 1; v <= migration_released; v++) {
		const char *p = migration_step(v);
		int inserts = 0;

		while ((p = strstr(p, "INSERT INTO ")) != NULL) {
			p += strlen("INSERT INTO ");
			while (*p != ' ' && *p != '\0')
				p++; /* the table */
			CHECK(strncmp(p, " (", 2) == 0);
			inserts++;
		}
		if (v == 2)
			CHECK_INT(inserts, 1);
	}
}

/* --- the test: backend ------------------------------------------------ */

static int
t_claims(const char *location)
{
	return strncmp(location, "test:", 5) == 0;
}

static int
t_uri(const char *location, char *uri, size_t len, struct err *e)
{
	if ((size_t)snprintf(uri, len, "file:dmarcsift-%s?mode=memory&"
				       "cache=shared",
		location + 5) >= len)
		return err_set(e, "location too long");
	return 0;
}

static int
t_connect(const char *location, sqlite3 **db, struct err *e)
{
	char uri[512];

	if (t_uri(location, uri, sizeof(uri), e) == -1)
		return -1;
	if (sqlite3_open_v2(uri, db,
		SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_URI,
		NULL) != SQLITE_OK) {
		err_set(e, "%s: %s", location, sqlite3_errmsg(*db));
		sqlite3_close(*db);
		return -1;
	}
	return 0;
}

/* A store is there when its reports table is. */
static int
t_exists(const char *location, int *exists, struct err *e)
{
	sqlite3 *db;
	sqlite3_stmt *st;

	if (t_connect(location, &db, e) == -1)
		return -1;
	*exists = sqlite3_prepare_v2(db, "SELECT 1 FROM reports", -1, &st,
		      NULL) == SQLITE_OK;
	sqlite3_finalize(st);
	sqlite3_close(db);
	return 0;
}

struct t_lock {
	sqlite3 *db;
	sqlite3_stmt *del;
};

static int
t_lock(const char *location, const char *scope, void **lock, struct err *e)
{
	struct t_lock *l;
	sqlite3_stmt *st;
	int rc;

	if ((l = calloc(1, sizeof(*l))) == NULL)
		return err_set(e, "out of memory");
	if (t_connect(location, &l->db, e) == -1) {
		free(l);
		return -1;
	}
	sqlite3_exec(l->db, "CREATE TABLE IF NOT EXISTS test_locks (scope "
			    "TEXT PRIMARY KEY)",
	    NULL, NULL, NULL);
	sqlite3_prepare_v2(l->db, "INSERT INTO test_locks VALUES (?)", -1, &st,
	    NULL);
	sqlite3_bind_text(st, 1, scope ? scope : "", -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		sqlite3_close(l->db);
		free(l);
		err_set(e, "%s is held by another writer", location);
		return 1;
	}
	sqlite3_prepare_v2(l->db, "DELETE FROM test_locks WHERE scope = ?", -1,
	    &l->del, NULL);
	sqlite3_bind_text(l->del, 1, scope ? scope : "", -1, SQLITE_TRANSIENT);
	*lock = l;
	return 0;
}

static void
t_unlock(void *lock)
{
	struct t_lock *l = lock;

	sqlite3_step(l->del);
	sqlite3_finalize(l->del);
	sqlite3_close(l->db);
	free(l);
}

static int
t_state_dir(const char *location, char *out, size_t len, struct err *e)
{
	(void)location;
	if ((size_t)snprintf(out, len, "/nonexistent-test-store") >= len)
		return err_set(e, "too long");
	return 0;
}

static int
t_open(const char *location, enum store_mode mode, void **impl,
    struct err *e)
{
	char uri[512];
	int flags = SQLITE_OPEN_URI | (mode == STORE_READONLY
					      ? SQLITE_OPEN_READONLY
					      : SQLITE_OPEN_READWRITE |
						    SQLITE_OPEN_CREATE);

	if (t_uri(location, uri, sizeof(uri), e) == -1)
		return -1;
	return sq_connect(location, uri, flags, mode, NULL, impl, e);
}

static const struct store_ops *
test_ops(void)
{
	static struct store_ops ops;

	ops = store_sqlite_ops;
	ops.name = "test";
	ops.claims = t_claims;
	ops.exists = t_exists;
	ops.lock = t_lock;
	ops.unlock = t_unlock;
	ops.state_dir = t_state_dir;
	ops.open = t_open;
	return &ops;
}

static int64_t
count(const char *location, const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	struct err e;
	int64_t n = -1;

	if (t_connect(location, &db, &e) == -1)
		return -1;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return n;
}

TEST(test_location_opens_locks_and_migrates)
{
	const struct store_ops *ops = test_ops();
	const char *loc = "test:one";
	struct store_lock *lock = NULL, *again = NULL;
	struct store *st = NULL, *ro = NULL;
	struct err e;
	int exists = -1;

	CHECK(ops->claims(loc));
	CHECK(!store_sqlite_ops.claims("postgresql://u@h/db"));
	/* held: the database lives while the lock's connection does */
	CHECK_INT(store_lock_ops(ops, loc, NULL, &lock, &e), 0);
	CHECK_INT(store_lock_ops(ops, loc, NULL, &again, &e), 1);
	CHECK_CONTAINS(e.msg, "held by another writer");
	CHECK_INT(store_lock_ops(ops, loc, "other-mailbox", &again, &e), 0);
	store_unlock(again);

	CHECK_INT(ops->exists(loc, &exists, &e), 0);
	CHECK_INT(exists, 0);
	CHECK_INT(store_open_ops(ops, loc, STORE_READWRITE, &st, &e), 0);
	CHECK_INT(ops->exists(loc, &exists, &e), 0);
	CHECK_INT(exists, 1);
	CHECK_INT(count(loc, "PRAGMA user_version"), migration_latest());
	CHECK_INT(count(loc, "SELECT count(*) FROM sqlite_master WHERE name "
			     "IN ('reports', 'records', 'traffic')"),
	    3);

	/* and it stores: a report, through the SQLite write path */
	{
		struct dmarc_meta m = {0};
		struct dmarc_record r = {0};
		struct store_report_info info = {0};
		struct store_existing ex;
		enum store_outcome out;

		m.org_name = "Example Org";
		m.report_id = "r1";
		m.domain = "example.com";
		m.begin = 86400 * 20000;
		m.end = m.begin + 86399;
		m.has_begin = m.has_end = 1;
		m.pct = -1;
		r.source_ip = "192.0.2.1";
		r.count = 3;
		info.records = 1;
		info.messages = 3;
		info.source = "unit";
		CHECK_INT(store_batch_begin(st, &e), 0);
		CHECK_INT(store_report_begin(st, &m, NULL, &e), 0);
		CHECK_INT(store_report_record(st, &r, &e), 0);
		CHECK_INT(store_report_finish(st, &m, &info, &out, &ex, &e), 0);
		CHECK_INT(out, STORE_STORED);
		CHECK_INT(store_batch_commit(st, &e), 0);
	}
	CHECK_INT(count(loc, "SELECT sum(messages) FROM traffic"), 3);
	/* a second open finds the schema migrated and does nothing */
	CHECK_INT(store_open_ops(ops, loc, STORE_READONLY, &ro, &e), 0);
	CHECK(store_note(ro) == NULL);
	store_close(ro);
	store_close(st);
	store_unlock(lock);
}

/*
 * Several runs opening a new database at once (two mailboxes' cron lines,
 * or two runs on one mailbox, whose lock is only taken per mailbox after
 * the store is open) all get it.  Turning a new file to WAL needs its
 * exclusive lock; when two connections both hold the shared one and ask for
 * it, SQLite answers one of them "database is locked" at once, without
 * calling the busy handler (waiting could deadlock), so the open must try
 * again itself.  The race is narrow: many rounds of several processes.
 */
TEST(concurrent_first_opens_all_succeed)
{
	char dir[] = "/tmp/dmarcsift-opens-XXXXXX", path[256], side[300];
	const char *suffix[] = {"", "-wal", "-shm"};
	int round, i, k, status, failed = 0;
	int go[2];
	pid_t pid[4];

	CHECK(mkdtemp(dir) != NULL);
	for (round = 0; round < 150 && failed == 0; round++) {
		snprintf(path, sizeof(path), "%s/r%d.db", dir, round);
		CHECK(pipe(go) == 0);
		for (i = 0; i < 4; i++) {
			if ((pid[i] = fork()) == 0) {
				struct store *st;
				struct err e;
				char c;

				/* all start together: each waits for the
				 * pipe's end of file */
				close(go[1]);
				if (read(go[0], &c, 1) != 0)
					_exit(2);
				if (store_open(path, STORE_READWRITE, &st, &e) ==
				    -1) {
					fprintf(stderr, "round %d: %s\n", round,
					    e.msg);
					_exit(1);
				}
				store_close(st);
				_exit(0);
			}
			CHECK(pid[i] > 0);
		}
		close(go[0]);
		close(go[1]);
		for (i = 0; i < 4; i++) {
			CHECK(waitpid(pid[i], &status, 0) == pid[i]);
			if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
				failed++;
		}
		for (k = 0; k < 3; k++) {
			snprintf(side, sizeof(side), "%s%s", path, suffix[k]);
			unlink(side);
		}
	}
	rmdir(dir);
	CHECK_INT(failed, 0);
}

/*
 * store_process_init() turns off SQLite's count of its allocations (a
 * global mutex taken about twenty times per record stored): after it, a
 * store opened and written reports no memory in use, where SQLite's
 * default counts every byte.  The library is shut down around the case,
 * so it holds whichever case ran before it in the same process.
 */
TEST(process_init_stops_sqlite_counting_allocations)
{
	char dir[] = "/tmp/dmarcsift-init-XXXXXX", path[256], side[300];
	const char *suffix[] = {"", "-wal", "-shm", ".lock"};
	struct store *st;
	struct err e;
	int k;

	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/s.db", dir);
	CHECK(sqlite3_shutdown() == SQLITE_OK);
	CHECK(store_open(path, STORE_READWRITE, &st, &e) == 0);
	CHECK(sqlite3_memory_used() > 0);
	store_close(st);

	CHECK(sqlite3_shutdown() == SQLITE_OK);
	store_process_init();
	CHECK(store_open(path, STORE_READWRITE, &st, &e) == 0);
	CHECK(store_batch_begin(st, &e) == 0);
	CHECK(store_log(st, "test", "stored", NULL, 0, "x", &e) == 0);
	CHECK(store_batch_commit(st, &e) == 0);
	CHECK(sqlite3_memory_used() == 0);
	store_close(st);

	CHECK(sqlite3_shutdown() == SQLITE_OK);
	CHECK(sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 1) == SQLITE_OK);
	for (k = 0; k < 4; k++) {
		snprintf(side, sizeof(side), "%s%s", path, suffix[k]);
		unlink(side);
	}
	CHECK(rmdir(dir) == 0);
}

/*
 * test_sqlite_rows.c - rows held back and inserted many to a statement
 * (store/sqlite-rows.h), and the record ids the SQLite writer gives itself
 * with them: two writers taking turns on one file never give the same id.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "sqlite-rows.h"
#include "testdb.h"

static sqlite3 *
memdb(void)
{
	sqlite3 *db;

	CHECK(sqlite3_open(":memory:", &db) == SQLITE_OK);
	CHECK(sqlite3_exec(
	          db,
	          "CREATE TABLE t (k INTEGER PRIMARY KEY, a TEXT, b INTEGER)",
	          NULL, NULL, NULL) == SQLITE_OK);
	return db;
}

static long long
count(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;
	long long n = -1;

	CHECK(sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

/* rows_init() with the INSERTs of 1, 2, 4 ... 2^(nst - 1) rows: head,
 * the rows (each "(?, ?...)" of ncols), tail. */
static int
init(struct rows *r, sqlite3 *db, const char *head, const char *tail,
     size_t nst, size_t ncols, struct err *e)
{
	sqlite3_stmt *st[ROWS_SIZES] = {NULL};
	char sql[8192];
	size_t k, i, c, len;

	for (k = 0; k < nst; k++) {
		len = (size_t)snprintf(sql, sizeof(sql), "%s", head);
		for (i = 0; i < ((size_t)1 << k); i++)
			for (c = 0; c < ncols; c++)
				len += (size_t)snprintf(
				    sql + len, sizeof(sql) - len, "%s?%s",
				    c ? "" : (i ? ", (" : "("),
				    c + 1 < ncols ? ", " : ")");
		snprintf(sql + len, sizeof(sql) - len, " %s", tail ? tail : "");
		CHECK(sqlite3_prepare_v2(db, sql, -1, &st[k], NULL) ==
		      SQLITE_OK);
	}
	return rows_init(r, st, nst, ncols, "cannot store a row", e);
}

static int
add(struct rows *r, int64_t k, const char *a, int64_t b, struct err *e)
{
	if (rows_add_int(r, k, e) == -1 || rows_add_text(r, a, e) == -1 ||
	    rows_add_int(r, b, e) == -1)
		return -1;
	return 0;
}

TEST(rows_go_in_when_max_wait_and_at_the_flush)
{
	sqlite3 *db = memdb();
	struct rows r;
	struct err e;
	char a[16];
	int64_t k;

	/* 8 at a time, the 7 left by statements of 4, 2 and 1 rows */
	CHECK(init(&r, db, "INSERT OR IGNORE INTO t (k, a, b) VALUES ", NULL, 4,
	           3, &e) == 0);
	for (k = 1; k <= 15; k++) {
		snprintf(a, sizeof(a), "v%lld", (long long)k);
		CHECK(add(&r, k, k == 5 ? NULL : a, k * 10, &e) == 0);
		/* the caller's text may go away at once */
		memset(a, 'x', sizeof(a) - 1);
		CHECK_INT(count(db, "SELECT count(*) FROM t"), k / 8 * 8);
	}
	CHECK(rows_flush(&r, &e) == 0);
	CHECK_INT(count(db, "SELECT count(*) FROM t"), 15);
	CHECK_INT(count(db, "SELECT count(*) FROM t WHERE a = 'v' || k AND "
	                    "b = k * 10"),
	          14);
	CHECK_INT(count(db, "SELECT count(*) FROM t WHERE k = 5 AND a IS NULL"),
	          1);
	CHECK(rows_flush(&r, &e) == 0); /* nothing waits: nothing to do */
	CHECK_INT(count(db, "SELECT count(*) FROM t"), 15);
	rows_free(&r);
	sqlite3_close(db);
}

TEST(a_row_that_does_not_go_in_is_an_error)
{
	sqlite3 *db = memdb();
	struct rows r;
	struct err e;

	CHECK(init(&r, db, "INSERT OR IGNORE INTO t (k, a, b) VALUES ", NULL, 4,
	           3, &e) == 0);
	CHECK(add(&r, 1, "one", 1, &e) == 0);
	CHECK(add(&r, 2, "two", 2, &e) == 0);
	CHECK(add(&r, 1, "again", 3, &e) == 0);
	CHECK(rows_flush(&r, &e) == -1);
	CHECK(strstr(e.msg, "cannot store a row: 0 of 1 rows stored "
	                    "(internal error: a duplicate key)") != NULL);
	rows_free(&r);
	sqlite3_close(db);
}

TEST(discarded_rows_never_go_in_and_large_text_is_given_back)
{
	sqlite3 *db = memdb();
	struct rows r;
	struct err e;
	char *big = malloc(1 << 20);

	CHECK(big != NULL);
	memset(big, 'a', (1 << 20) - 1);
	big[(1 << 20) - 1] = '\0';
	CHECK(init(&r, db, "INSERT OR IGNORE INTO t (k, a, b) VALUES ", NULL, 4,
	           3, &e) == 0);
	CHECK(add(&r, 1, "one", 1, &e) == 0);
	CHECK(rows_add_int(&r, 2, &e) == 0); /* a row left half way */
	rows_discard(&r);
	CHECK(add(&r, 3, big, 3, &e) == 0);
	CHECK(rows_flush(&r, &e) == 0);
	CHECK_INT(count(db, "SELECT count(*) FROM t"), 1);
	CHECK_INT(count(db, "SELECT length(a) FROM t WHERE k = 3 AND b = 3"),
	          (1 << 20) - 1);
	CHECK(r.text.cap < (1u << 20));
	rows_free(&r);
	sqlite3_close(db);
	free(big);
}

TEST(an_upsert_row_updated_counts_as_gone_in)
{
	sqlite3 *db = memdb();
	struct rows r;
	struct err e;
	int64_t kn[][2] = {{1, 1}, {2, 2}, {1, 10}, {3, 3}};
	int i;

	CHECK(init(&r, db, "INSERT INTO t (k, b) VALUES ",
	           "ON CONFLICT (k) DO UPDATE SET b = b + excluded.b", 4, 2,
	           &e) == 0);
	for (i = 0; i < 4; i++) {
		CHECK(rows_add_int(&r, kn[i][0], &e) == 0);
		CHECK(rows_add_int(&r, kn[i][1], &e) == 0);
		if (i == 1)
			CHECK(rows_flush(&r, &e) == 0);
	}
	CHECK(rows_flush(&r, &e) == 0);
	CHECK_INT(count(db, "SELECT count(*) FROM t"), 3);
	CHECK_INT(count(db, "SELECT b FROM t WHERE k = 1"), 11);
	CHECK_INT(count(db, "SELECT sum(b) FROM t"), 16);
	rows_free(&r);
	sqlite3_close(db);
}

/* Writes reports of n records each, in batches of three reports, and
 * pauses after each batch so that the two writers take turns. */
static int
write_reports(const char *path, const char *who, int reports, int n)
{
	struct dmarc_record rec[40];
	struct dmarc_dkim dk = {"example.com", "s1", "pass", NULL};
	struct dmarc_meta m;
	struct store *st;
	struct err e;
	char id[64];
	int i, k, failed = test_failed; /* the parent's, before the fork */

	memset(rec, 0, sizeof(rec));
	for (k = 0; k < n; k++) {
		rec[k].source_ip = "192.0.2.1";
		rec[k].count = 1;
		rec[k].header_from = "example.com";
		rec[k].dkim_results = &dk;
		rec[k].ndkim = 1;
	}
	if (store_open(path, STORE_READWRITE, &st, &e) == -1) {
		fprintf(stderr, "%s: %s\n", who, e.msg);
		return 1;
	}
	for (i = 0; i < reports; i++) {
		if (i % 3 == 0 && store_batch_begin(st, &e) == -1) {
			fprintf(stderr, "%s: %s\n", who, e.msg);
			return 2;
		}
		snprintf(id, sizeof(id), "%s-%d", who, i);
		testdb_meta(&m, "example.com", id);
		testdb_put(st, &m, rec, (size_t)n, (uint64_t)i, who);
		if (i % 3 == 2 || i == reports - 1) {
			if (store_batch_commit(st, &e) == -1) {
				fprintf(stderr, "%s: %s\n", who, e.msg);
				return 3;
			}
			usleep(2000); /* the other writer's turn */
		}
	}
	store_close(st);
	return test_failed != failed ? 4 : 0;
}

TEST(two_writers_taking_turns_never_share_a_record_id)
{
	char dir[] = "/tmp/dmarcsift-rows-XXXXXX", path[256], lock[300];
	struct store *st;
	struct err e;
	pid_t pid[2];
	int i, status;
	sqlite3 *db;

	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/s.db", dir);
	CHECK(store_open(path, STORE_READWRITE, &st, &e) == 0);
	store_close(st);
	for (i = 0; i < 2; i++)
		if ((pid[i] = fork()) == 0)
			_exit(write_reports(path, i ? "b" : "a", 30, 37));
	for (i = 0; i < 2; i++) {
		CHECK(waitpid(pid[i], &status, 0) == pid[i]);
		CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	CHECK(sqlite3_open(path, &db) == SQLITE_OK);
	CHECK_INT(count(db, "SELECT count(*) FROM records"), 2 * 30 * 37);
	CHECK_INT(count(db, "SELECT count(*) FROM dkim_results d JOIN "
	                    "records r ON r.id = d.record"),
	          2 * 30 * 37);
	CHECK_INT(count(db, "SELECT count(*) FROM (SELECT report FROM records "
	                    "GROUP BY report HAVING count(*) = 37)"),
	          60);
	sqlite3_close(db);
	snprintf(lock, sizeof(lock), "%s.lock", path);
	unlink(lock);
	testdb_remove(path, dir);
}

/*
 * fuzz-store.h - a real importer and SQLite store for the mailbox targets
 * (fuzz_mbox, fuzz_maildir), in a temporary directory (on /dev/shm when
 * there is one, to keep commits cheap).
 *
 * After every input the batch is committed and the database is checked
 * through a second connection: no report may be half stored (its record
 * and message counts are the rows it has, it has its raw payload, no
 * provisional row is left); then every table is emptied so that each input
 * starts from an empty database and a crash reproduces from its input
 * alone.
 */
#ifndef DMARCSIFT_FUZZ_STORE_H
#define DMARCSIFT_FUZZ_STORE_H

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fetch.h"
#include "fuzz.h"
#include "import.h"
#include "input-limits.h"
#include "log.h"
#include "store.h"

static struct {
	char dir[256], db[300];
	struct limits lim;
	struct logger lg;
	struct store *st;
	struct importer *imp;
	sqlite3 *check;
	struct fetch_ctx fc;
} fs;

static void
fuzz_store_cleanup(void)
{
	char cmd[400];

	if (fs.check != NULL)
		sqlite3_close(fs.check);
	if (fs.imp != NULL)
		importer_free(fs.imp);
	if (fs.st != NULL)
		store_close(fs.st);
	fs.check = NULL;
	fs.imp = NULL;
	fs.st = NULL;
	if (fs.dir[0] != '\0') {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fs.dir);
		if (system(cmd) != 0)
			fprintf(stderr, "cannot remove %s\n", fs.dir);
	}
}

static void
fuzz_store_init(void)
{
	const char *tmp = access("/dev/shm", W_OK) == 0 ? "/dev/shm"
	    : getenv("TMPDIR") ? getenv("TMPDIR")
			       : "/tmp";
	struct err e;

	snprintf(fs.dir, sizeof(fs.dir), "%s/dmarcsift-fuzz-XXXXXX", tmp);
	if (mkdtemp(fs.dir) == NULL) {
		perror("mkdtemp");
		abort();
	}
	atexit(fuzz_store_cleanup);
	snprintf(fs.db, sizeof(fs.db), "%s/fuzz.db", fs.dir);
	limits_default(&fs.lim);
	log_init(&fs.lg, "fuzz", LOG_QUIET);
	if ((fs.lg.out = fopen("/dev/null", "w")) == NULL)
		abort();
	if (store_open(fs.db, STORE_READWRITE, &fs.st, &e) == -1) {
		fprintf(stderr, "%s\n", e.msg);
		abort();
	}
	if ((fs.imp = importer_new(fs.st, &fs.lim, &fs.lg)) == NULL)
		abort();
	if (sqlite3_open(fs.db, &fs.check) != SQLITE_OK)
		abort();
	sqlite3_busy_timeout(fs.check, 10000);
	memset(&fs.fc, 0, sizeof(fs.fc));
	fs.fc.imp = fs.imp;
	fs.fc.lim = &fs.lim;
	fs.fc.lg = &fs.lg;
}

static long long
fuzz_store_count(const char *sql)
{
	sqlite3_stmt *st;
	long long n;

	if (sqlite3_prepare_v2(fs.check, sql, -1, &st, NULL) != SQLITE_OK) {
		fprintf(stderr, "%s: %s\n", sql, sqlite3_errmsg(fs.check));
		abort();
	}
	FUZZ_CHECK(sqlite3_step(st) == SQLITE_ROW);
	n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

/* Commits, checks that nothing is half stored, empties the database. */
static void
fuzz_store_after(void)
{
	struct err e;

	FUZZ_CHECK(!store_in_batch(fs.st) || import_flush(fs.imp, &e) == 0);
	FUZZ_CHECK(!store_in_batch(fs.st));
	FUZZ_CHECK(fuzz_store_count(
		       "SELECT count(*) FROM reports r WHERE record_count != "
		       "(SELECT count(*) FROM records WHERE report = r.id) OR "
		       "message_count != (SELECT coalesce(sum(count), 0) FROM "
		       "records WHERE report = r.id)") == 0);
	FUZZ_CHECK(fuzz_store_count(
		       "SELECT count(*) FROM reports r WHERE ingested_at = 0 "
		       "OR source = '' OR org_name = '' OR report_id = '' OR "
		       "domain = '' OR NOT EXISTS (SELECT 1 FROM raw_payloads "
		       "p WHERE p.id = r.raw_payload AND length(p.data) = "
		       "p.size)") == 0);
	FUZZ_CHECK(fuzz_store_count(
		       "SELECT count(*) FROM records c WHERE NOT EXISTS "
		       "(SELECT 1 FROM reports r WHERE r.id = c.report)") == 0);
	/* every report and every rejection is in the log */
	FUZZ_CHECK(fuzz_store_count(
		       "SELECT count(*) FROM reports r WHERE NOT EXISTS "
		       "(SELECT 1 FROM ingest_log l WHERE l.report = r.id)") ==
	    0);
	if (sqlite3_exec(fs.check,
		"DELETE FROM override_reasons; DELETE FROM dkim_results; "
		"DELETE FROM spf_results; DELETE FROM records; "
		"DELETE FROM ingest_log; DELETE FROM reports; "
		"DELETE FROM raw_payloads",
		NULL, NULL, NULL) != SQLITE_OK) {
		fprintf(stderr, "cleanup: %s\n", sqlite3_errmsg(fs.check));
		abort();
	}
}

#endif

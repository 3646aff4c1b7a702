/*
 * store-pg.c - the PostgreSQL backend of store.h (libpq): the location,
 * the connection, the migrations and the write path.  See pg-impl.h for
 * how a report is written, docs/postgresql.md for running it.
 *
 * Durability: a batch is one transaction; a report a savepoint in it.
 * Whatever a kill -9 or a lost connection interrupts, the server rolls
 * back; the ingester marks mail as processed only after the commit.
 *
 * Several writers: each batch takes a transaction-level advisory lock
 * first, so the batches of concurrent ingesters (other hosts, other
 * mailboxes) take turns.  A report is stored with INSERT ... ON CONFLICT
 * DO NOTHING on its key: the second copy, from whichever writer, finds the
 * first committed and is a duplicate; no unique-violation races, and no
 * deadlock between two writers' rollup updates.  The run lock
 * (store_lock) is a session advisory lock per scope, held by a connection
 * of its own: the server drops it when the process dies.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dbpath.h"
#include "migrations.h"
#include "pg-impl.h"

/* Advisory lock keys: (DMARCSIFT_KEY, what). */
#define DMARCSIFT_KEY 1146897235 /* "DMRC" */
#define KEY_MIGRATE   1
#define KEY_PARTITION 2
#define KEY_BATCH     3


int
pg_claims(const char *location)
{
	return strncmp(location, "postgresql://", 13) == 0 ||
	       strncmp(location, "postgres://", 11) == 0 ||
	       strncmp(location, "service=", 8) == 0 ||
	       strncmp(location, "dbname=", 7) == 0 ||
	       strncmp(location, "host=", 5) == 0;
}

/* The location for messages: a URL's password (which should not be there:
 * .pgpass) cut out. */
static char *
redact(const char *location)
{
	const char *at = strchr(location, '@'), *scheme = strstr(location, "://");
	const char *colon;
	char *out;

	if ((out = strdup(location)) == NULL)
		return NULL;
	if (scheme == NULL || at == NULL)
		return out;
	colon = memchr(scheme + 3, ':', (size_t)(at - scheme - 3));
	if (colon != NULL)
		memmove(out + (colon - location), out + (at - location),
		    strlen(at) + 1);
	return out;
}

int
pg_err(struct pg *p, const PGresult *r, struct err *e, const char *what)
{
	const char *msg = r != NULL ? PQresultErrorMessage(r) : "";
	const char *state = r != NULL ? PQresultErrorField(r, PG_DIAG_SQLSTATE)
	                              : NULL;
	char one[512];
	size_t n;

	/* A terminated backend (pg_terminate_backend(), a shutdown) sends
	 * 57P01-57P03 before it closes the socket; libpq's status says so
	 * only once it has read that close, which may not be yet.  Class 08
	 * is the connection's own failures. */
	if (state != NULL &&
	    (strncmp(state, "08", 2) == 0 || strncmp(state, "57P0", 4) == 0))
		p->lost = 1;
	if (msg == NULL || msg[0] == '\0')
		msg = PQerrorMessage(p->c);
	snprintf(one, sizeof(one), "%s", msg);
	n = strlen(one);
	while (n > 0 && (one[n - 1] == '\n' || one[n - 1] == ' '))
		one[--n] = '\0';
	for (char *q = one; *q != '\0'; q++)
		if (*q == '\n')
			*q = ' ';
	return err_set(e, "%s: %s (%s)", what, one, p->name);
}

PGresult *
pg_exec(struct pg *p, const char *sql, int n, const char *const *params,
    ExecStatusType want, struct err *e, const char *what)
{
	PGresult *r = PQexecParams(p->c, sql, n, NULL, params, NULL, NULL, 0);

	if (PQresultStatus(r) != want) {
		pg_err(p, r, e, what);
		PQclear(r);
		return NULL;
	}
	return r;
}

int
pg_prepared_name(struct pg *p, const char *sql, int n, char *name,
    size_t len, struct err *e, const char *what)
{
	PGresult *r;
	int i;

	for (i = 0; i < p->nprepared && p->prepared[i] != sql; i++)
		;
	if (i == PG_PREPARED_MAX)
		return 1;
	snprintf(name, len, "dmarcsift_%d", i);
	if (i == p->nprepared) {
		r = PQprepare(p->c, name, sql, n, NULL);
		if (PQresultStatus(r) != PGRES_COMMAND_OK) {
			pg_err(p, r, e, what);
			PQclear(r);
			return -1;
		}
		PQclear(r);
		p->prepared[p->nprepared++] = sql;
	}
	return 0;
}

PGresult *
pg_exec_prepared(struct pg *p, const char *sql, int n,
    const char *const *params, ExecStatusType want, struct err *e,
    const char *what)
{
	char name[32];
	PGresult *r;
	int rc;

	rc = pg_prepared_name(p, sql, n, name, sizeof(name), e, what);
	if (rc == 1)
		return pg_exec(p, sql, n, params, want, e, what);
	if (rc == -1)
		return NULL;
	r = PQexecPrepared(p->c, name, n, params, NULL, NULL, 0);
	if (PQresultStatus(r) != want) {
		pg_err(p, r, e, what);
		PQclear(r);
		return NULL;
	}
	return r;
}

/* Reads the results of the n steps sent and of the sync after them, so
 * that the connection leaves pipeline mode clean; rc is -1 when e already
 * holds a failure, which stays the one told. */
static int
steps_results(struct pg *p, const struct pg_step *steps, size_t n, int rc,
              struct err *e)
{
	PGresult *r;
	size_t i;

	for (i = 0; i <= n; i++) {
		while ((r = PQgetResult(p->c)) != NULL) {
			ExecStatusType st = PQresultStatus(r);

			if (st == PGRES_PIPELINE_SYNC) {
				PQclear(r);
				return rc;
			}
			if (st != PGRES_COMMAND_OK && rc == 0)
				rc = pg_err(
				    p, st == PGRES_PIPELINE_ABORTED ? NULL : r,
				    e, steps[i < n ? i : n - 1].what);
			PQclear(r);
		}
	}
	/* no sync came back: the connection is gone */
	return rc == 0 ? pg_err(p, NULL, e, steps[n > 0 ? n - 1 : 0].what) : rc;
}

int
pg_exec_steps(struct pg *p, const struct pg_step *steps, size_t n,
              struct err *e)
{
	char name[PG_STEPS_MAX][32];
	int named[PG_STEPS_MAX], rc = 0;
	size_t i;

	if (n == 0)
		return 0;
	if (n > PG_STEPS_MAX)
		return err_set(e,
		               "%s: internal error: %zu statements in one "
		               "round trip",
		               steps[0].what, n);
	/* prepared beforehand: PQprepare() waits for its answer */
	for (i = 0; i < n; i++)
		if ((named[i] = pg_prepared_name(p, steps[i].sql, steps[i].n,
		                                 name[i], sizeof(name[i]), e,
		                                 steps[i].what)) == -1)
			return -1;
	if (!PQenterPipelineMode(p->c))
		return pg_err(p, NULL, e, steps[0].what);
	for (i = 0; i < n && rc == 0; i++) {
		int sent;

		if (named[i] == 0)
			sent =
			    PQsendQueryPrepared(p->c, name[i], steps[i].n,
			                        steps[i].params, NULL, NULL, 0);
		else /* past PG_PREPARED_MAX */
			sent = PQsendQueryParams(p->c, steps[i].sql, steps[i].n,
			                         NULL, steps[i].params, NULL,
			                         NULL, 0);
		if (!sent)
			rc = pg_err(p, NULL, e, steps[i].what);
	}
	if (!PQpipelineSync(p->c) && rc == 0)
		rc = pg_err(p, NULL, e, steps[0].what);
	rc = steps_results(p, steps, i, rc, e);
	if (!PQexitPipelineMode(p->c) && rc == 0)
		rc = pg_err(p, NULL, e, steps[0].what);
	return rc;
}

int
pg_run(struct pg *p, const char *sql, struct err *e, const char *what)
{
	PGresult *r = pg_exec(p, sql, 0, NULL, PGRES_COMMAND_OK, e, what);

	PQclear(r);
	return r != NULL ? 0 : -1;
}

/* CREATE ... IF NOT EXISTS says "already exists, skipping" as a NOTICE,
 * which libpq would print on stderr: under cron, nothing must. */
static void
quiet(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

static int
connect_to(const char *location, PGconn **c, char **name, struct err *e)
{
	const char *const keys[] = {"dbname", "fallback_application_name",
	    "client_encoding", NULL};
	const char *const values[] = {location, "dmarcsift", "UTF8", NULL};

	if ((*name = redact(location)) == NULL)
		return err_set(e, "out of memory");
	*c = PQconnectdbParams(keys, values, 1);
	if (*c == NULL) {
		free(*name);
		*name = NULL;
		return err_set(e, "out of memory");
	}
	if (PQstatus(*c) != CONNECTION_OK) {
		char msg[512];
		size_t n;

		snprintf(msg, sizeof(msg), "%s", PQerrorMessage(*c));
		n = strlen(msg);
		while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
			msg[--n] = '\0';
		for (char *q = msg; *q != '\0'; q++)
			if (*q == '\n')
				*q = ' ';
		err_set(e, "cannot connect to the database %s: %s", *name, msg);
		PQfinish(*c);
		*c = NULL;
		free(*name);
		*name = NULL;
		return -1;
	}
	PQsetNoticeProcessor(*c, quiet, NULL);
	return 0;
}

/* The schema version: 0 when the table is not there. */
static int
schema_version(struct pg *p, int *v, struct err *e)
{
	PGresult *r;

	r = pg_exec(p, "SELECT CASE WHEN to_regclass('dmarcsift_schema') IS "
		       "NULL THEN 0 ELSE -1 END",
	    0, NULL, PGRES_TUPLES_OK, e, "cannot read the schema version");
	if (r == NULL)
		return -1;
	*v = atoi(PQgetvalue(r, 0, 0));
	PQclear(r);
	if (*v == 0)
		return 0;
	r = pg_exec(p, "SELECT max(version) FROM dmarcsift_schema", 0, NULL,
	    PGRES_TUPLES_OK, e, "cannot read the schema version");
	if (r == NULL)
		return -1;
	*v = PQgetisnull(r, 0, 0) ? 0 : atoi(PQgetvalue(r, 0, 0));
	PQclear(r);
	return 0;
}

int
pg_exists(const char *location, int *exists, struct err *e)
{
	struct pg p;
	int v;

	memset(&p, 0, sizeof(p));
	if (connect_to(location, &p.c, &p.name, e) == -1)
		return -1;
	v = 0;
	*exists = 0;
	if (schema_version(&p, &v, e) == 0)
		*exists = v > 0;
	PQfinish(p.c);
	free(p.name);
	return 0;
}

/* All steps in one transaction, under a lock: two ingesters starting at
 * once do not both migrate, and a failed step leaves the old schema. */
static int
migrate(struct pg *p, struct err *e)
{
	char setv[64], key[32];
	const char *params[1] = {key};
	PGresult *r;
	int v, latest = pg_migration_latest();

	/* up to date: nothing to lock, and no DDL right needed (the ingest
	 * role of docs/postgresql.md has none) */
	if (schema_version(p, &v, e) == -1)
		return -1;
	if (v == latest)
		return 0;
	snprintf(key, sizeof(key), "%d", KEY_MIGRATE);
	if (pg_run(p, "BEGIN", e, "cannot migrate") == -1)
		return -1;
	r = pg_exec(p, "SELECT pg_advisory_xact_lock(" "1146897235" ", $1)",
	    1, params, PGRES_TUPLES_OK, e, "cannot migrate");
	PQclear(r);
	if (r == NULL ||
	    pg_run(p, "CREATE TABLE IF NOT EXISTS dmarcsift_schema (version "
		      "integer NOT NULL)",
		e, "cannot migrate") == -1 ||
	    schema_version(p, &v, e) == -1)
		goto fail;
	if (v > latest) {
		err_set(e, "database %s has schema version %d; this dmarcsift "
			   "knows up to %d: upgrade dmarcsift",
		    p->name, v, latest);
		goto fail;
	}
	while (v < latest) {
		v++;
		/* several statements: the simple query protocol, no values */
		r = PQexec(p->c, pg_migration_step(v));
		if (PQresultStatus(r) != PGRES_COMMAND_OK) {
			pg_err(p, r, e, "schema migration");
			PQclear(r);
			err_prefix(e, "migrating to schema version %d", v);
			goto fail;
		}
		PQclear(r);
	}
	snprintf(setv, sizeof(setv), "%d", v);
	params[0] = setv;
	if (pg_run(p, "DELETE FROM dmarcsift_schema", e, "schema migration") ==
	    -1)
		goto fail;
	r = pg_exec(p, "INSERT INTO dmarcsift_schema (version) VALUES ($1)", 1,
	    params, PGRES_COMMAND_OK, e, "schema migration");
	PQclear(r);
	if (r == NULL || pg_run(p, "COMMIT", e, "schema migration") == -1)
		goto fail;
	return 0;
fail:
	PQclear(PQexec(p->c, "ROLLBACK"));
	return -1;
}

/*
 * The month partitions around now (two back, one ahead): where nearly
 * every report lands.  Others go to the DEFAULT partitions.  Best effort:
 * a month whose rows already sit in a DEFAULT partition cannot get a
 * partition of its own (PostgreSQL refuses), and stays there.  The table
 * names and bounds are made of integers formatted here.
 */
static void
ensure_partitions(struct pg *p)
{
	static const char *const tables[] = {"records", "override_reasons"};
	time_t now = time(NULL);
	struct tm tm;
	char sql[512], lock[96];
	int k, t, y, m, y2, m2;

	if (gmtime_r(&now, &tm) == NULL)
		return;
	snprintf(lock, sizeof(lock),
	    "SELECT pg_advisory_xact_lock(%d, %d)", DMARCSIFT_KEY,
	    KEY_PARTITION);
	for (k = -2; k <= 1; k++) {
		m = tm.tm_mon + k; /* 0-based */
		y = tm.tm_year + 1900 + (m < 0 ? -1 : m / 12);
		m = (m + 12) % 12 + 1;
		y2 = m == 12 ? y + 1 : y;
		m2 = m == 12 ? 1 : m + 1;
		PQclear(PQexec(p->c, "BEGIN"));
		PQclear(PQexec(p->c, lock));
		for (t = 0; t < (int)(sizeof(tables) / sizeof(tables[0]));
		     t++) {
			snprintf(sql, sizeof(sql),
			    "CREATE TABLE IF NOT EXISTS %s_%04d_%02d PARTITION "
			    "OF %s FOR VALUES FROM ('%04d-%02d-01 00:00:00+00') "
			    "TO ('%04d-%02d-01 00:00:00+00')",
			    tables[t], y, m, tables[t], y, m, y2, m2);
			PQclear(PQexec(p->c, sql));
		}
		PQclear(PQexec(p->c, "COMMIT")); /* a ROLLBACK if one failed */
	}
}

/* A run that stored this many records or more analyses the rollup as it
 * ends, as PostgreSQL advises after a bulk load.  Until autovacuum gets
 * to it, the planner has no statistics and sums the groups on one core:
 * over 10 million records `sources` took 3.0 s and `ses` 3.5 s, against
 * 2.4 s and 2.9 s analysed (medians of 5).  A daily run stores far fewer
 * and leaves it to autovacuum. */
#define ANALYZE_AFTER 50000

void
pg_close(void *impl)
{
	struct pg *p = impl;

	if (p == NULL)
		return;
	pg_direct_free(p); /* its thread, if any, uses the connection */
	/* an optimisation only: a role that does not own the table gets a
	 * warning, which is not shown, and autovacuum does it later anyway */
	if (p->c != NULL && !p->in_batch && p->run_records >= ANALYZE_AFTER)
		PQclear(PQexec(p->c, "ANALYZE traffic"));
	if (p->c != NULL)
		PQfinish(p->c); /* an open transaction is rolled back */
	buf_free(&p->copy);
	buf_free(&p->sig_dkim);
	buf_free(&p->sig_spf);
	buf_free(&p->arrays);
	traffic_free(&p->traffic);
	sum_runs_free(&p->runs);
	free(p->name);
	free(p->replaced_logs);
	free(p);
}

/* The traffic keys' collation: the rollup's sums are grouped and sorted
 * by f1..f5, and sorted as its primary key (COLLATE "C", pg-schema.c)
 * they go into it in index order, whatever the database's locale. */
#define SC " COLLATE \"C\""

/* A partition of staging for the rows of one kind. */
#define STAGING_PART(k)                                                      \
	"CREATE TEMP TABLE staging_" k " PARTITION OF staging FOR VALUES "   \
	"IN ('" k "')"

static const char *const staging[] = {
    "CREATE TEMP TABLE staging (kind \"char\" NOT NULL, rec integer NOT "
    "NULL, idx integer NOT NULL, f1 text" SC ", f2 text" SC ", f3 text" SC
    ", f4 text" SC ", f5 text" SC ", f6 text, f7 text, f8 text, f9 text, "
    "f10 text) PARTITION BY LIST (kind)",
    STAGING_PART("r"),
    STAGING_PART("o"),
    STAGING_PART("t"),
};

int
pg_open(const char *location, enum store_mode mode, void **impl,
    struct err *e)
{
	struct pg *p;
	size_t i;
	int v;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		return err_set(e, "out of memory");
	buf_init(&p->copy, 0);
	pg_direct_init(p);
	buf_init(&p->sig_dkim, 0);
	buf_init(&p->sig_spf, 0);
	buf_init(&p->arrays, 0);
	traffic_init(&p->traffic, TRAFFIC_BYTES);
	sum_runs_init(&p->runs);
	p->readonly = mode == STORE_READONLY;
	if (connect_to(location, &p->c, &p->name, e) == -1)
		goto fail;
	if (p->readonly) {
		if (schema_version(p, &v, e) == -1)
			goto fail;
		if (v != pg_migration_latest()) {
			err_set(e, "database %s has schema version %d, this "
				   "dmarcsift uses %d: run dmarc-ingest "
				   "--migrate-only once to upgrade it",
			    p->name, v, pg_migration_latest());
			goto fail;
		}
		/* a reader sees one snapshot per statement at most; nothing
		 * it runs may write */
		if (pg_run(p, "SET default_transaction_read_only = on", e,
			"cannot configure the connection") == -1)
			goto fail;
	} else {
		if (migrate(p, e) == -1)
			goto fail;
		ensure_partitions(p);
		/* one partition per kind of row (store-pg-write.c): each
		 * move reads its own rows, not all of them; a 1M-record
		 * report stages some 3 million rows */
		for (i = 0; i < sizeof(staging) / sizeof(staging[0]); i++)
			if (pg_run(p, staging[i], e,
				"cannot prepare the connection") == -1)
				goto fail;
	}
	*impl = p;
	return 0;
fail:
	pg_close(p);
	return -1;
}

/* --- locks -------------------------------------------------------------- */

struct pg_lock {
	PGconn *c;
};

int
pg_lock(const char *location, const char *scope, void **lock, struct err *e)
{
	struct pg p;
	struct pg_lock *l;
	char key[16], name[600];
	const char *params[2] = {key, name};
	PGresult *r;
	int held;

	memset(&p, 0, sizeof(p));
	if (connect_to(location, &p.c, &p.name, e) == -1)
		return -1;
	/* a class of keys of its own: a scope's hash never meets KEY_* */
	snprintf(key, sizeof(key), "%d", DMARCSIFT_KEY + 1);
	snprintf(name, sizeof(name), "dmarcsift-run:%s", scope ? scope : "");
	r = pg_exec(&p, "SELECT pg_try_advisory_lock($1::integer, "
			"hashtext($2))",
	    2, params, PGRES_TUPLES_OK, e, "cannot take the run lock");
	if (r == NULL) {
		PQfinish(p.c);
		free(p.name);
		return -1;
	}
	held = strcmp(PQgetvalue(r, 0, 0), "t") == 0;
	PQclear(r);
	if (!held) {
		err_set(e, "another dmarc-ingest is running on %s%s%s (its "
			   "advisory lock is held); try again later",
		    p.name, scope ? " for " : "", scope ? scope : "");
		PQfinish(p.c);
		free(p.name);
		return 1;
	}
	free(p.name);
	if ((l = malloc(sizeof(*l))) == NULL) {
		PQfinish(p.c);
		return err_set(e, "out of memory");
	}
	l->c = p.c;
	*lock = l;
	return 0;
}

void
pg_unlock(void *lock)
{
	struct pg_lock *l = lock;

	if (l == NULL)
		return;
	PQfinish(l->c); /* the session's lock goes with it */
	free(l);
}

/* Files that go with a server's store (the IMAP quarantine) live in the
 * default data directory of the user running. */
int
pg_state_dir(const char *location, char *out, size_t len, struct err *e)
{
	(void)location;
	return db_default_dir(1, out, len, e);
}

/* --- batches ------------------------------------------------------------ */

int
pg_batch_begin(void *impl, struct err *e)
{
	struct pg *p = impl;
	char sql[96];

	if (p->in_batch)
		return err_set(e, "internal error: nested batch");
	snprintf(sql, sizeof(sql), "SELECT pg_advisory_xact_lock(%d, %d)",
	    DMARCSIFT_KEY, KEY_BATCH);
	if (pg_run(p, "BEGIN", e, "cannot start a transaction") == -1)
		return -1;
	PGresult *r = pg_exec(p, sql, 0, NULL, PGRES_TUPLES_OK, e,
	    "cannot start a transaction");
	if (r == NULL) {
		PQclear(PQexec(p->c, "ROLLBACK"));
		return -1;
	}
	PQclear(r);
	p->in_batch = 1;
	return 0;
}

int
pg_batch_commit(void *impl, struct err *e)
{
	struct pg *p = impl;

	if (!p->in_batch)
		return 0;
	p->in_batch = 0;
	if (pg_run(p, "COMMIT", e, "cannot commit") == -1) {
		PQclear(PQexec(p->c, "ROLLBACK"));
		p->batch_records = 0;
		return -1;
	}
	p->run_records += p->batch_records;
	p->batch_records = 0;
	return 0;
}

void
pg_batch_rollback(void *impl)
{
	struct pg *p = impl;

	if (p->in_batch)
		PQclear(PQexec(p->c, "ROLLBACK"));
	p->in_batch = 0;
	p->batch_records = 0;
}

int
pg_in_batch(const void *impl)
{
	return ((const struct pg *)impl)->in_batch;
}

/*
 * pg-impl.h - what the files of the PostgreSQL backend share.  Private to
 * store/; built only when CMake finds libpq (DMARCSIFT_HAVE_LIBPQ).
 *
 *   store-pg.c        the location, connection, migrations, batches
 *   store-pg-write.c  reports: staging by COPY, the move, the rollup
 *   store-pg-query.c  the queries report/ needs, and the table of ops
 *
 * Writing: one transaction per batch (store_batch_begin/commit), a
 * savepoint per report.  A report's records and results are streamed with
 * COPY into a temporary staging table as they are parsed (the header may
 * come last), then moved into the partitioned tables and summed into the
 * traffic rollup by a few INSERT ... SELECT when the report is complete:
 * one round trip per report instead of one per row, and nothing half
 * stored (a failure rolls back to the savepoint).
 */
#ifndef DMARCSIFT_PG_IMPL_H
#define DMARCSIFT_PG_IMPL_H

#include <libpq-fe.h>

#include "buf.h"
#include "store-impl.h"

struct pg {
	PGconn *c;
	char *name; /* the location without a password, for messages */
	int readonly;
	int in_batch, auto_batch;
	int in_report;
	int copying;    /* a COPY into staging is open */
	int32_t rec;    /* records of the open report so far */
	struct buf copy; /* COPY data not yet sent */
	struct store_payload *raw_new; /* payload stored by this report */
	int64_t raw_id;
};

/* Fills e with the connection's or result's error: "<what>: <message>
 * (<location>)".  Returns -1. */
int pg_err(struct pg *p, const PGresult *r, struct err *e, const char *what);
/* Runs sql with text parameters (NULL: SQL NULL); returns the result
 * (the caller PQclear()s it) or NULL with e filled when its status is not
 * `want`. */
PGresult *pg_exec(struct pg *p, const char *sql, int n,
    const char *const *params, ExecStatusType want, struct err *e,
    const char *what);

/* store-pg.c */
int pg_claims(const char *location);
int pg_exists(const char *location, int *exists, struct err *e);
int pg_lock(const char *location, const char *scope, void **lock,
    struct err *e);
void pg_unlock(void *lock);
int pg_state_dir(const char *location, char *out, size_t len,
    struct err *e);
int pg_open(const char *location, enum store_mode mode, void **impl,
    struct err *e);
void pg_close(void *impl);
int pg_batch_begin(void *impl, struct err *e);
int pg_batch_commit(void *impl, struct err *e);
void pg_batch_rollback(void *impl);
int pg_in_batch(const void *impl);
int pg_find_report(void *impl, const struct dmarc_meta *m,
    struct store_existing *ex, int *found, struct err *e);
int pg_report_begin(void *impl, const struct dmarc_meta *m,
    struct store_payload *raw, struct err *e);
int pg_report_record(void *impl, const struct dmarc_record *r,
    struct err *e);
int pg_report_finish(void *impl, const struct dmarc_meta *m,
    const struct store_report_info *info, enum store_outcome *outcome,
    struct store_existing *ex, struct err *e);
void pg_report_abort(void *impl);
int pg_log(void *impl, const char *source, const char *outcome,
    const struct dmarc_meta *m, int64_t report, const char *message,
    struct err *e);
int pg_imap_get(void *impl, const char *mailbox, uint32_t *uidvalidity,
    uint32_t *last_uid, int *found, struct err *e);
int pg_imap_set(void *impl, const char *mailbox, uint32_t uidvalidity,
    uint32_t last_uid, struct err *e);

/* store-pg-query.c */
int pg_each_report(void *impl, const struct store_filter *f,
    int (*cb)(void *arg, const struct store_report_row *r), void *arg,
    struct err *e);
int pg_each_group(void *impl, const struct store_filter *f,
    int (*cb)(void *arg, const struct store_group *g, struct err *e),
    void *arg, struct err *e);
int pg_each_record(void *impl, const struct store_filter *f,
    int (*cb)(void *arg, const struct dmarc_meta *m,
	const struct dmarc_record *r, struct err *e),
    void *arg, struct err *e);
int pg_each_domain(void *impl, const struct store_filter *f,
    int (*cb)(void *arg, const struct store_domain *d, struct err *e),
    void *arg, struct err *e);

#endif

/*
 * sqlite-impl.h - what the files of the SQLite backend share: the
 * connection with its prepared statements, and the functions that fill
 * struct store_ops (store-sqlite-ops.c).  Private to store/.
 *
 *   store-sqlite-location.c  the location: a path, its lock, readers
 *   store-sqlite.c        the statements, opening, migrations, batches
 *   store-sqlite-write.c  the write path, the kept payloads read back
 *   sqlite-rows.c         rows held back and inserted many to a statement
 *   store-sqlite-query.c  the read-only queries report/ needs
 *   store-sqlite-ops.c    the table of operations
 */
#ifndef DMARCSIFT_SQLITE_IMPL_H
#define DMARCSIFT_SQLITE_IMPL_H

#include <sqlite3.h>

#include "buf.h"
#include "sqlite-rows.h"
#include "traffic.h"

#include "store-impl.h"

enum stmt {
	S_SAVEPOINT,
	S_RELEASE,
	S_ROLLBACK_TO,
	S_BEGIN,
	S_COMMIT,
	S_ROLLBACK,
	S_INS_RAW,
	S_INS_REPORT,
	S_UPD_REPORT,
	S_NEXT_RECORD,
	S_INS_REASON,
	S_FIND,
	S_LOG,
	S_IMAP_GET,
	S_IMAP_SET,
	S_TRAFFIC_REPORT, /* a whole report into the rollup */
	S_COUNT
};

struct sq {
	sqlite3 *db;
	char *path;
	sqlite3_stmt *st[S_COUNT];
	int readonly;
	char note[1024]; /* what opening did differently (store_note) */
	int in_batch;
	int in_report;
	int64_t report;
	struct store_payload *raw_new; /* payload stored by this report */

	/* A report's records and results wait here for their INSERT, many
	 * to a statement (sqlite-rows.h), so a record's id is given here:
	 * the next after the largest stored, read once the transaction
	 * holds the write lock (0: not read yet). */
	struct rows rec_rows, dkim_rows, spf_rows;
	struct rows traffic_rows; /* the sums, in key order */
	int64_t next_record;

	/* The report's share of the traffic rollup, summed in memory and
	 * written in key order (traffic.h) when full and at the end.  When
	 * it fills up before the report's header is known (records first),
	 * the rollup is filled from the stored records in SQL instead. */
	struct traffic traffic;
	int traffic_spilled;
	int header_known;
	int64_t day;
	char domain[256], adkim[8], aspf[8];
	struct buf sig_dkim, sig_spf; /* the record's results as keyed */
};

/* Fills e with the database's last error: "<what>: <message> (<path>)". */
int sq_err(struct sq *q, struct err *e, const char *what);
/* Finalizes st, whose last step returned rc: 0 when that was SQLITE_DONE,
 * else -1 with e filled as sq_err() fills it. */
int sq_finish(struct sq *q, sqlite3_stmt *st, int rc, struct err *e,
    const char *what);
/* Binds a string, or NULL, without copying (valid until the reset). */
void sq_bind_str(sqlite3_stmt *st, int i, const char *s);
/* Runs sql (statements without parameters) with sqlite3_exec. */
int sq_exec(struct sq *q, const char *sql, struct err *e, const char *what);
/* Steps prepared statement id, which returns no rows, then resets it. */
int sq_run(struct sq *q, enum stmt id, struct err *e, const char *what);

/* store-sqlite-location.c */
int sq_claims(const char *location);
int sq_exists(const char *location, int *exists, struct err *e);
int sq_lock(const char *location, const char *scope, void **lock,
    struct err *e);
void sq_unlock(void *lock);
int sq_state_dir(const char *location, char *out, size_t len,
    struct err *e);
/* How a reader opens path: *uri a file: URI ("" for the path itself),
 * *note what was done differently, *wal_pending when a write-ahead log
 * holds changes that the folder's permissions may keep from the reader. */
int sq_reader_uri(const char *path, char *uri, size_t len, char *note,
    size_t nlen, int *wal_pending, struct err *e);

void sq_process_init(void);
int sq_open(const char *location, enum store_mode mode, void **impl,
    struct err *e);
/* Opens target (a path, or a URI with SQLITE_OPEN_URI in flags) and, for
 * a writer, migrates it; name is what messages call it.  For backends
 * that keep their data in SQLite somewhere else than a plain file. */
int sq_connect(const char *name, const char *target, int flags,
    enum store_mode mode, const char *note, void **impl, struct err *e);
const char *sq_note(const void *impl);
void sq_close(void *impl);
int sq_batch_begin(void *impl, struct err *e);
int sq_batch_commit(void *impl, struct err *e);
void sq_batch_rollback(void *impl);
int sq_in_batch(const void *impl);
int sq_find_report(void *impl, const struct dmarc_meta *m,
    struct store_existing *ex, int *found, struct err *e);
int sq_report_begin(void *impl, const struct dmarc_meta *m,
    struct store_payload *raw, struct err *e);
int sq_report_record(void *impl, const struct dmarc_record *r,
    struct err *e);
int sq_report_finish(void *impl, const struct dmarc_meta *m,
    const struct store_report_info *info, enum store_outcome *outcome,
    struct store_existing *ex, struct err *e);
void sq_report_abort(void *impl);
int sq_report_replace(void *impl, int64_t old, int *replaced, struct err *e);
int sq_log(void *impl, const char *source, const char *outcome,
    const struct dmarc_meta *m, int64_t report, const char *message,
    struct err *e);
int sq_imap_get(void *impl, const char *mailbox, uint32_t *uidvalidity,
    uint32_t *last_uid, int *found, struct err *e);
int sq_imap_set(void *impl, const char *mailbox, uint32_t uidvalidity,
    uint32_t last_uid, struct err *e);

/* store-sqlite-query.c */
struct row;
/* The statement's current row for rows.h (valid until the next step). */
void sq_row(struct row *r, sqlite3_stmt *st);
/* Prepares head + the filter's " AND column IN (?...)" + tail, and binds
 * the period (?1, ?2) and the domains (?3...). */
int sq_prepare_filtered(struct sq *q, const char *head, const char *column,
    const char *tail, const struct store_filter *f, sqlite3_stmt **st,
    struct err *e, const char *what);
/* Steps st to the end, calling row() for each row (rows.h's row_fn; the
 * row's res is st); finalizes st.  what prefixes a database error. */
int sq_walk(struct sq *q, sqlite3_stmt *st,
    int (*row)(const struct row *r, void *arg, struct err *e), void *arg,
    struct err *e, const char *what);
int sq_each_report(void *impl, const struct store_filter *f,
    int (*cb)(void *arg, const struct store_report_row *r), void *arg,
    struct err *e);
int sq_each_group(void *impl, const struct store_filter *f,
    int (*cb)(void *arg, const struct store_group *g, struct err *e),
    void *arg, struct err *e);
int sq_each_record(void *impl, const struct store_filter *f,
    int (*cb)(void *arg, const struct dmarc_meta *m,
	const struct dmarc_record *r, struct err *e),
    void *arg, struct err *e);
int sq_each_domain(void *impl, const struct store_filter *f,
    int (*cb)(void *arg, const struct store_domain *d, struct err *e),
    void *arg, struct err *e);
/* Appends " AND domain IN (?, ...)" (with the given column name) for the
 * filter's domains to sql; *nd is the number of placeholders added. */
int sq_filter_sql(char *sql, size_t len, const char *column,
    const struct store_filter *f, int *nd);

/* store-sqlite-write.c: every kept payload, for --from-store */
int sq_each_payload(void *impl,
    int (*cb)(void *arg, const struct store_raw_row *r, struct err *e),
    void *arg, struct err *e);

/* store-sqlite-write.c: stores a payload (raw->stored_id set), for the other
 * kinds of reports. */
int sq_store_raw(struct sq *q, struct store_payload *raw, struct err *e);

/* store-sqlite-other.c, store-sqlite-prune.c */
int sq_tls_report(void *impl, const struct tlsrpt_report *r,
    struct store_payload *raw, const char *source, const char *member,
    enum store_outcome *outcome, int64_t *id, struct err *e);
int sq_failure_report(void *impl, const struct arf_report *r,
    const char *source, enum store_outcome *outcome, int64_t *id,
    struct err *e);
int sq_each_tls_day(void *impl, const struct store_filter *f,
    int (*cb)(void *arg, const struct store_tls_day *d, struct err *e),
    void *arg, struct err *e);
int sq_each_failure(void *impl, const struct store_filter *f,
    int (*cb)(void *arg, const struct store_failure_row *r, struct err *e),
    void *arg, struct err *e);
int sq_each_failure_kept(void *impl,
    int (*cb)(void *arg, const struct store_failure_kept *k, struct err *e),
    void *arg, struct err *e);
int sq_prune(void *impl, const struct store_prune *p,
    struct store_prune_result *r, struct err *e);

#endif

/*
 * pg-impl.h - what the files of the PostgreSQL backend share.  Private to
 * store/; built only when CMake finds libpq (DMARCSIFT_HAVE_LIBPQ).
 *
 *   store-pg.c        the location, connection, migrations, batches
 *   store-pg-write.c  reports: staging by COPY, the move, the rollup
 *   pg-rows.c         a record as COPY rows: escaping, results' arrays
 *   store-pg-direct.c a big report's rows COPYed into the tables
 *   store-pg-query.c  the queries report/ needs, and the table of ops
 *   store-pg-other.c  TLS and failure reports, names of addresses
 *   store-pg-remove.c a salvaged copy replaced, retention (prune)
 *
 * Writing: one transaction per batch (store_batch_begin/commit), a
 * savepoint per report.  A report's records and results are streamed with
 * COPY into a temporary staging table (one partition per kind of row) as
 * they are parsed (the header may come last), then moved into the
 * partitioned tables and summed into the traffic rollup by a few INSERT
 * ... SELECT when the report is complete: one round trip per report
 * instead of one per row, and nothing half stored (a failure rolls back to
 * the savepoint).  A big report whose begin came first goes straight into
 * the tables by COPY while it is parsed (store-pg-direct.c), so that the
 * client and the server work at once.
 */
#ifndef DMARCSIFT_PG_IMPL_H
#define DMARCSIFT_PG_IMPL_H

#include <libpq-fe.h>
#include <pthread.h>

#include "buf.h"
#include "store-impl.h"
#include "sum-runs.h"
#include "traffic.h"

#define PG_PREPARED_MAX 16

/* The kinds of a record's rows, and the rollup's sums: the tables a big
 * report is COPYed into (store-pg-direct.c), in move_sql's order.  A
 * record's DKIM and SPF results are arrays in its row (pg-schema.c, step
 * 4). */
enum { PG_T_RECORDS, PG_T_REASONS, PG_T_SUMS, PG_T_COUNT };

/* A record's fields: the 8 of its row in the report, then its DKIM and
 * its SPF results, each kind as a two-dimensional array (a row per result:
 * domain, selector or scope, result, human_result). */
#define PG_RECORD_FIELDS 10

#define PG_STAGING_COPY                                                        \
	"COPY staging (kind, rec, idx, f1, f2, f3, f4, f5, f6, f7, f8, f9, "   \
	"f10) FROM STDIN"

/* A report goes into the tables directly once it has this many records
 * (staged and moved once) and its begin came first: fewer round trips for
 * a small report through staging, fewer writes for a big one without. */
#define PG_DIRECT_AFTER 2000

/* The rows of the open report's next chunk, gathered per table while the
 * last chunk is COPYed by a thread of its own (store-pg-direct.c).  The
 * thread alone uses the connection while it runs. */
struct pg_direct {
	int on;         /* the open report goes into the tables */
	char id[24];    /* the report's reserved id, as text */
	char begin[40]; /* its begin, as a timestamptz after a tab */
	size_t idlen, beginlen;
	int32_t filled; /* records in fill */
	struct buf fill[PG_T_SUMS], send[PG_T_COUNT];
	pthread_t thread;
	int sending; /* the thread runs */
	int rc;      /* its outcome, and its message */
	struct err err;
};

struct pg {
	PGconn *c;
	char *name; /* the location without a password, for messages */
	int readonly;
	int lost; /* an error said the server ended the session (pg_err()) */
	int in_batch, auto_batch;
	int in_report;
	int copying;    /* a COPY into staging is open */
	int32_t rec;    /* records of the open report so far */
	struct buf copy; /* COPY data not yet sent */
	/* The report's share of the traffic rollup, summed in memory as on
	 * SQLite (traffic.h), written out as a run (sum-runs.h) whenever the
	 * sums fill, and at the end COPYed into traffic (pg-sums.c) or staged
	 * as rows of kind 't', each group once; staged_rows counts the rows
	 * staging holds, deleted ones too, since it was last truncated. */
	struct traffic traffic;
	struct sum_runs runs;
	int sums_staged; /* the open report's sums are staged */
	struct buf sig_dkim, sig_spf; /* the record's results as keyed */
	struct buf arrays; /* the record's results as array literals */
	int64_t staged_rows;
	unsigned staged_kinds; /* bits: the open report staged r, o */
	/* records stored in the open batch, and committed by this run */
	int64_t batch_records, run_records;
	/* A big report goes into the tables while it is parsed
	 * (store-pg-write.c, store-pg-direct.c): chunk_ok when its begin came
	 * before its records; its id, reserved at the switch (0 before); the
	 * begin its rows carry; moving while the switch's move is in flight. */
	int chunk_ok, moving;
	int64_t chunk_id, chunk_begin;
	struct pg_direct direct;
	/* statements prepared on this connection (pg_exec_prepared()) */
	const char *prepared[PG_PREPARED_MAX];
	int nprepared;
	struct store_payload *raw_new; /* payload stored by this report */
	int64_t raw_id;
	/* the ingest log lines of the salvaged copy this report replaces
	 * (store-pg-remove.c), as a bigint[] literal; NULL if none */
	char *replaced_logs;
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
/* pg_exec() for a statement run for every report: sql, a string that
 * lives as long as the program (it is known by its address), is prepared
 * on the connection the first time, so that the server parses and plans it
 * once and not at every report (a third of its time on small reports).
 * Past PG_PREPARED_MAX statements, it is pg_exec(). */
PGresult *pg_exec_prepared(struct pg *p, const char *sql, int n,
    const char *const *params, ExecStatusType want, struct err *e,
    const char *what);
/* One statement of pg_exec_steps(): sql as for pg_exec_prepared(), and
 * what to call it when it fails. */
struct pg_step {
	const char *sql;
	int n;
	const char *const *params;
	const char *what;
};
/* Runs the n statements (at most PG_STEPS_MAX) in order, in one round
 * trip (libpq's pipeline mode): 0, or -1 with e filled for the first one
 * that failed (those after it do not run).  Each must return no rows. */
#define PG_STEPS_MAX 8
int pg_exec_steps(struct pg *p, const struct pg_step *steps, size_t n,
                  struct err *e);
/* The name sql is prepared under on the connection (prepared now if it
 * is not yet), for a query that runs it by EXECUTE: 0, 1 when no more
 * statements can be prepared, or -1 with e filled. */
int pg_prepared_name(struct pg *p, const char *sql, int n, char *name,
    size_t len, struct err *e, const char *what);

/* store-pg-write.c: a COPY opened (sql), and ended after what b holds (b
 * is emptied), or cancelled with a message: -1 then.  pg_copy_start() and
 * pg_copy_end() do it for staging and p->copy. */
int pg_copy_open(struct pg *p, const char *sql, struct err *e);
int pg_copy_close(struct pg *p, struct buf *b, const char *cancel,
                  struct err *e);
int pg_copy_start(struct pg *p, struct err *e);
/* What b holds, to the open COPY; b is emptied.  The writers send it
 * every PG_COPY_FLUSH bytes, so that the server works as they write. */
#define PG_COPY_FLUSH (256u << 10)
int pg_copy_send(struct pg *p, struct buf *b, struct err *e);
int pg_copy_end(struct pg *p, const char *cancel, struct err *e);
/* s as a field of COPY's text format, after a tab: NULL as \N, and the
 * four characters COPY gives a meaning escaped. */
int pg_copy_field(struct buf *b, const char *s, struct err *e);
/* v as a field of COPY's text format, after a tab (ascii_decimal()). */
int pg_copy_int(struct buf *b, int64_t v, struct err *e);
/* One row of a record: its kind (PG_T_RECORDS ... PG_T_REASONS), the
 * record's number in the report, the row's among its kind, its fields. */
typedef int (*pg_emit_fn)(void *arg, int kind, int32_t rec, size_t idx,
                          const char *const *f, int nf, struct err *e);
/* Emits every row of record r, numbered rec, kind by kind; arrays holds
 * the literals of its results' arrays until the next call. */
int pg_record_rows(const struct dmarc_record *r, int32_t rec,
                   struct buf *arrays, pg_emit_fn emit, void *arg,
                   struct err *e);
/* pg-sums.c: wanted, whether the open report's sums are many enough (or
 * were written out) to be worth looking at traffic first; copy, that look
 * for a row with head (the report's day, domain, adkim and aspf as text)
 * and, when there is none, the sums and their runs merged and COPYed into
 * traffic: *copied 1 (the sums emptied), 0 when rows are there.  -1 with e
 * filled when a statement failed.  Inside the report's savepoint. */
int pg_sums_copy_wanted(const struct pg *p);
int pg_sums_copy(struct pg *p, const char *const head[4], int *copied,
                 struct err *e);
/* Waits for the move sent at the switch to the tables, if it is in
 * flight: 0, or -1 with e filled when it failed. */
int pg_chunk_wait(struct pg *p, struct err *e);
/* store-pg-direct.c, see struct pg_direct.  usable: a begin the tables
 * take as text; start: the switch (chunk_id and chunk_begin set); record:
 * a record's rows into fill; full: time to send; send: waits for the last
 * chunk and sends fill and the staged sums in p->copy (last: and waits for
 * them, the report ends direct); abort: waits and forgets; init and free:
 * at open and close. */
int pg_direct_usable(int64_t begin);
int pg_direct_start(struct pg *p, struct err *e);
int pg_direct_record(struct pg *p, const struct dmarc_record *r, struct err *e);
int pg_direct_full(const struct pg *p);
int pg_direct_send(struct pg *p, int last, struct err *e);
void pg_direct_abort(struct pg *p);
void pg_direct_init(struct pg *p);
void pg_direct_free(struct pg *p);
/* store-pg-write.c: a payload stored (raw->stored_id set, p->raw_new
 * remembers it). */
int pg_store_raw(struct pg *p, struct store_payload *raw, struct err *e);

/* store-pg-remove.c: taking reports out again */
int pg_report_replace(void *impl, int64_t old, int *replaced, struct err *e);
/* After the report whose id is sid replaced a salvaged copy: the step
 * that makes the old copy's log lines name it, in *st (params: room for
 * its two parameters), and 1; 0 when nothing was replaced. */
int pg_replace_relog_step(const struct pg *p, const char *sid,
                          const char *params[2], struct pg_step *st);
void pg_replace_forget(struct pg *p);
int pg_prune(void *impl, const struct store_prune *pr,
    struct store_prune_result *r, struct err *e);
/* Runs sql ($1: the report ids' bigint[] ...) in the open transaction. */
int pg_run(struct pg *p, const char *sql, struct err *e, const char *what);

/* store-pg-other.c: TLS and failure reports, names of addresses */
int pg_tls_report(void *impl, const struct tlsrpt_report *r,
    struct store_payload *raw, const char *source, const char *member,
    enum store_outcome *outcome, int64_t *id, struct err *e);
int pg_failure_report(void *impl, const struct arf_report *r,
    const char *source, enum store_outcome *outcome, int64_t *id,
    struct err *e);
int pg_each_tls_day(void *impl, const struct store_filter *f,
    int (*cb)(void *arg, const struct store_tls_day *d, struct err *e),
    void *arg, struct err *e);
int pg_each_failure(void *impl, const struct store_filter *f,
    int (*cb)(void *arg, const struct store_failure_row *r, struct err *e),
    void *arg, struct err *e);
int pg_each_failure_kept(void *impl,
    int (*cb)(void *arg, const struct store_failure_kept *k, struct err *e),
    void *arg, struct err *e);
int pg_names_due(void *impl, int64_t now, size_t limit,
    int (*cb)(void *arg, const char *ip, struct err *e), void *arg,
    struct err *e);
int pg_names_put(void *impl, const struct store_name *names, size_t n,
    struct err *e);
int pg_each_payload(void *impl,
    int (*cb)(void *arg, const struct store_raw_row *r, struct err *e),
    void *arg, struct err *e);
int pg_each_name(void *impl,
    int (*cb)(void *arg, const struct store_name *n, struct err *e),
    void *arg, struct err *e);

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

/* Seconds since 1970 of a timestamptz column, as SQLite stores times. */
#define PG_EPOCH(col) "extract(epoch FROM " col ")::bigint"

/* The results of record r (a row of records) as one text, as the rollup
 * keys them and lists.c reads them (migrations.h: TRAFFIC_LIST_SQL): from
 * the record's array of one kind (column "auth_dkim" or "auth_spf"), or
 * from a table of rows (override_reasons). */
#define PG_ARRAY3(column)                                                      \
	"(SELECT string_agg(coalesce(r." column "[i][1], '') || chr(31) || "   \
	"coalesce(r." column "[i][2], '') || chr(31) || coalesce(r." column    \
	"[i][3], ''), chr(30) ORDER BY i) FROM generate_subscripts(r." column  \
	", 1) AS i)"
#define PG_LIST3(a, b, c, table)                                             \
	"(SELECT string_agg(coalesce(" a ", '') || chr(31) || coalesce(" b   \
	", '') || chr(31) || coalesce(" c ", ''), chr(30) ORDER BY idx) "    \
	"FROM " table " x WHERE x.report = r.report AND x.rec = r.rec AND "  \
	"x.begin_ts = r.begin_ts)"

/* The end of every INSERT INTO traffic: rows of the same key add up. */
#define PG_TRAFFIC_UPSERT                                                    \
	"ON CONFLICT (day, domain, adkim, aspf, source_ip, header_from, "    \
	"envelope_from, dkim, spf) DO UPDATE SET "                          \
	"records = traffic.records + excluded.records, "                    \
	"messages = traffic.messages + excluded.messages, "                 \
	"dkim_aligned = traffic.dkim_aligned + excluded.dkim_aligned, "     \
	"spf_aligned = traffic.spf_aligned + excluded.spf_aligned, "        \
	"dmarc_pass = traffic.dmarc_pass + excluded.dmarc_pass, "           \
	"quarantined = traffic.quarantined + excluded.quarantined, "        \
	"rejected = traffic.rejected + excluded.rejected"

/* A query: head + " AND column IN ($3, ...)" for the filter's domains +
 * tail, with the period as $1, $2 (seconds, or days with `days`). */
#define PG_MAX_PARAMS 300
struct pg_query {
	char sql[8192];
	const char *params[PG_MAX_PARAMS];
	char since[32], until[32];
	int n;
};
int pg_query_build(struct pg_query *q, const char *head, const char *column,
    const char *tail, const struct store_filter *f, int days, struct err *e,
    const char *what);
struct row;
/* Runs q, calling row() for each row as it arrives (single-row mode); the
 * row's res is its PGresult (rows.h's row_fn). */
int pg_stream(struct pg *p, const struct pg_query *q,
    int (*row)(const struct row *r, void *arg, struct err *e), void *arg,
    struct err *e, const char *what);
/* Row 0's column: NULL for SQL NULL; 0 for NULL. */
const char *pg_text(const PGresult *r, int col);
/* Row 0 of a result for rows.h. */
void pg_row(struct row *r, const PGresult *res);
int64_t pg_i64(const PGresult *r, int col);

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

/*
 * store.h - where reports live: the storage interface shared by ingest/
 * (writing) and report/ (reading).
 *
 * Promises:
 *  - A report is stored whole or not at all.  Between store_report_begin()
 *    and store_report_finish() its rows are inside a savepoint of the current
 *    batch transaction; store_report_abort() or any failure removes them.  A
 *    batch (store_batch_begin/commit) groups reports so that thousands of
 *    small reports do not pay one fsync each; whatever a kill -9 interrupts
 *    is rolled back by the database on the next open.
 *  - Duplicates are detected durably by the report's key: org_name +
 *    report_id + policy domain + begin + end (report_id alone is not unique:
 *    Google and Mimecast reuse ids across date ranges).
 *  - The raw bytes each report arrived in are kept, so a later version can
 *    parse them again.
 *  - Only prepared statements touch the database; values from reports are
 *    always bound, never formatted into SQL.
 *
 * The interface knows nothing of SQLite: a backend is a struct store_ops
 * (store-impl.h); store.c picks one from the location given to
 * store_open().  SQLite, embedded, is the default (any path); PostgreSQL
 * takes postgresql:// and postgres:// URLs and "service=..." strings when
 * built with libpq.
 *
 * A location is only a name: the callers never look at it.  Whether a store
 * is there, how one writer keeps others out, and where local files that go
 * with it (the IMAP quarantine) live are all asked of the store below.
 */
#ifndef DMARCSIFT_STORE_H
#define DMARCSIFT_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "report.h"

struct store;

/* What is known about a report already in the store. */
struct store_existing {
	int64_t id;
	uint64_t records, messages, hash;
	int64_t ingested_at;
	char source[256];
};

/* The bytes a report came in, as received. */
struct store_payload {
	const char *name;   /* file or attachment name */
	const char *format; /* gzip | zip | zlib | xml */
	const unsigned char *mem; /* either in memory ... */
	size_t len;
	const char *path;   /* ... or in a file */
	int64_t stored_id;  /* 0 until stored; reused for further reports */
};

/* Totals and provenance given when a report is complete. */
struct store_report_info {
	uint64_t records, messages, hash;
	int salvaged;
	const char *warnings; /* may be NULL */
	const char *source;   /* where it came from: path, imap://... */
	const char *member;   /* where inside the payload, may be "" */
};

enum store_outcome {
	STORE_STORED,
	STORE_DUPLICATE,
};

enum store_mode {
	STORE_READWRITE, /* creates the database and migrates the schema */
	STORE_READONLY,
};

/* ---------------------------------------------------------------------
 * Locations
 */

/* The location to use: `option` (--db, or the config's db) when given,
 * else $DMARCSIFT_DB, else ${XDG_DATA_HOME:-~/.local/share}/dmarcsift/
 * dmarc.db (its directory created, mode 0700, when create_dir).  An empty
 * option is refused. */
int store_locate(const char *option, int create_dir, char *out, size_t len,
    struct err *e);

/* *exists = 1 when a store is at the location.  Something there that
 * cannot be a store (a directory given as a SQLite file) is an error that
 * says so. */
int store_exists(const char *location, int *exists, struct err *e);

/* One writer at a time per location and scope (NULL: the whole store):
 * returns 0 with *out held until store_unlock(), 1 when another process
 * holds it (e says which), -1 on error.  SQLite: flock() on <db>.lock;
 * PostgreSQL: a session advisory lock. */
struct store_lock;
int store_lock(const char *location, const char *scope,
    struct store_lock **out, struct err *e);
void store_unlock(struct store_lock *l);

/* The local directory where files that belong with this store are kept:
 * beside a SQLite file; for a server, the default data directory. */
int store_state_dir(const char *location, char *out, size_t len,
    struct err *e);

/* Sets up every backend's library for this process: call it once from
 * main(), before any other thread starts and before any store is opened.
 * A program that does not still works, only slower. */
void store_process_init(void);

/* Opens (and creates, and migrates) the store at `location`. */
int store_open(const char *location, enum store_mode mode, struct store **out,
    struct err *e);
void store_close(struct store *s);
/* What opening had to do differently, worth telling the user (read-only
 * snapshot...), or NULL. */
const char *store_note(const struct store *s);
/* 1 when the store is a server and the connection to it was lost (the
 * server stopped, the connection was terminated): the open batch is gone,
 * rolled back by the server, and a later run can complete it, so the
 * caller's failure is temporary (EX_TEMPFAIL), not an I/O error. */
int store_lost(const struct store *s);

/* Groups reports into one durable commit.  Nested calls are not allowed. */
int store_batch_begin(struct store *s, struct err *e);
int store_batch_commit(struct store *s, struct err *e);
void store_batch_rollback(struct store *s);
int store_in_batch(const struct store *s);

/* Looks a report up by its key; *found is 0 or 1. */
int store_find_report(struct store *s, const struct dmarc_meta *m,
    struct store_existing *ex, int *found, struct err *e);

/* Starts a report.  `m` may be provisional (records before the header);
 * the final header is given to store_report_finish(). */
int store_report_begin(struct store *s, const struct dmarc_meta *m,
    struct store_payload *raw, struct err *e);
int store_report_record(struct store *s, const struct dmarc_record *r,
    struct err *e);
/* Completes the report.  When the key turns out to be taken, the report is
 * rolled back, *outcome is STORE_DUPLICATE and *ex describes the one kept. */
int store_report_finish(struct store *s, const struct dmarc_meta *m,
    const struct store_report_info *info, enum store_outcome *outcome,
    struct store_existing *ex, struct err *e);
void store_report_abort(struct store *s);
/* The best copy wins: called inside an open report (after
 * store_report_begin()), removes the stored report `old` when it was
 * stored as salvaged (*replaced = 1) - its records, their results and
 * reasons, and its sums in the traffic rollup; its ingest log lines then
 * name the new report - so that the report being written takes its key.
 * Rolled back with the report.  *replaced = 0 (nothing done) when `old`
 * is a complete report. */
int store_report_replace(struct store *s, int64_t old, int *replaced,
    struct err *e);

/* One line in the ingest log: outcome is stored, duplicate, salvaged or
 * rejected; m and report may be NULL/0. */
int store_log(struct store *s, const char *source, const char *outcome,
    const struct dmarc_meta *m, int64_t report, const char *message,
    struct err *e);

/* Per-folder IMAP progress: UIDVALIDITY and highest UID done. */
int store_imap_get(struct store *s, const char *mailbox, uint32_t *uidvalidity,
    uint32_t *last_uid, int *found, struct err *e);
int store_imap_set(struct store *s, const char *mailbox, uint32_t uidvalidity,
    uint32_t last_uid, struct err *e);

/* ---------------------------------------------------------------------
 * Queries for report/
 */

struct store_filter {
	const char *const *domains; /* NULL-terminated, or NULL for all */
	int64_t since, until;       /* report begin >= since, begin < until;
				       0 = unbounded */
};

struct store_report_row {
	const char *org_name, *report_id, *domain;
	int64_t begin, end;
	uint64_t records, messages;
	int salvaged;
};

int store_each_report(struct store *s, const struct store_filter *f,
    int (*cb)(void *arg, const struct store_report_row *r), void *arg,
    struct err *e);

/*
 * Records summed over everything that decides their sending source and
 * explains their alignment: the unit report/ classifies (one pass over the
 * selected records, aggregated by the database).  Records with the same
 * values fall into one group; groups come in no particular order, and two
 * groups may differ only in the order of their authentication results.
 * The pointers are valid during the callback only.
 */
struct store_group {
	const char *domain;	  /* policy domain of the reports */
	const char *adkim, *aspf; /* as published; NULL when not reported */
	const char *source_ip;	  /* NULL when the report had none */
	const char *header_from, *envelope_from; /* NULL when absent */
	const struct dmarc_dkim *dkim; /* auth_results, as stored (no */
	size_t ndkim;		       /* human_result) */
	const struct dmarc_spf *spf;
	size_t nspf;
	uint64_t records;  /* how many records were summed */
	uint64_t messages; /* sum of their counts, and of those with: */
	uint64_t dkim_aligned; /* policy_evaluated dkim = pass */
	uint64_t spf_aligned;  /* policy_evaluated spf = pass */
	uint64_t dmarc_pass;   /* either of them */
	uint64_t quarantined, rejected; /* disposition */
};

/* Calls cb for each group of the selected records.  A callback that
 * returns -1 stops the walk; its message in e is kept. */
int store_each_group(struct store *s, const struct store_filter *f,
    int (*cb)(void *arg, const struct store_group *g, struct err *e),
    void *arg, struct err *e);

/* Calls cb for each selected record with its report's header, in the
 * order of the reports' periods, then reports, then records as stored.
 * m carries what the store keeps of the header (errors, the published
 * policy...; pct -1 when absent); r carries the record with its DKIM, SPF
 * and override-reason lists (no human_result, r->line 0). */
int store_each_record(struct store *s, const struct store_filter *f,
    int (*cb)(void *arg, const struct dmarc_meta *m,
	const struct dmarc_record *r, struct err *e),
    void *arg, struct err *e);

/* Per policy domain of the selected reports. */
struct store_domain {
	const struct dmarc_meta *latest; /* the latest report's header and
					    published policy (latest begin,
					    then end, then stored last) */
	int64_t first, last; /* earliest begin, latest end */
	uint64_t reports;
	uint64_t days;	     /* distinct UTC days on which reports begin */
};

/* Calls cb for each policy domain, in name order. */
int store_each_domain(struct store *s, const struct store_filter *f,
    int (*cb)(void *arg, const struct store_domain *d, struct err *e),
    void *arg, struct err *e);

/* ---------------------------------------------------------------------
 * Reports of other kinds (store-sqlite-other.c): SMTP TLS reports
 * (parser/tlsrpt.h) and DMARC failure reports (parser/arf.h), and
 * retention.  Each report is stored whole or not at all, inside the
 * current batch; a duplicate (TLS: organization + report-id; failure: the
 * fingerprint) is not stored again and *outcome says STORE_DUPLICATE.
 */
struct tlsrpt_report;
struct arf_report;

int store_tls_report(struct store *s, const struct tlsrpt_report *r,
    struct store_payload *raw, const char *source, const char *member,
    enum store_outcome *outcome, int64_t *id, struct err *e);
/* The original body is stored only when r->body is set (the caller reads
 * it only under [store] keep_failure_bodies). */
int store_failure_report(struct store *s, const struct arf_report *r,
    const char *source, enum store_outcome *outcome, int64_t *id,
    struct err *e);

/* `dmarc-report tls`: per policy domain and UTC day, in that order.  The
 * failure types of a day come with it, most failed sessions first. */
struct store_tls_failure {
	const char *result_type, *receiving_mx; /* mx NULL when unreported */
	uint64_t sessions;
};
struct store_tls_day {
	const char *domain, *policy_type; /* the types seen, joined by "," */
	int64_t day;			  /* epoch seconds of 00:00 UTC */
	uint64_t reports, successful, failed;
	const struct store_tls_failure *failures;
	size_t nfailures;
};
int store_each_tls_day(struct store *s, const struct store_filter *f,
    int (*cb)(void *arg, const struct store_tls_day *d, struct err *e),
    void *arg, struct err *e);

/* `dmarc-report failures`: one row per failure report, oldest first;
 * store_filter.since/until select on the time of the failure. */
struct store_failure_row {
	int64_t at;
	const char *reported_domain, *source_ip, *auth_failure,
	    *original_mail_from, *original_rcpt_to, *dkim_domain,
	    *dkim_selector, *identity_alignment, *delivery_result, *reporter,
	    *subject, *arrival_date;
};
/* 1 when the backend keeps failure reports (`ses` then reads them as
 * evidence; a backend without them has none to read). */
int store_has_failures(const struct store *s);
int store_each_failure(struct store *s, const struct store_filter *f,
    int (*cb)(void *arg, const struct store_failure_row *r, struct err *e),
    void *arg, struct err *e);

/* Retention: removes every report (aggregate, TLS, failure) from before
 * `before` (epoch seconds; aggregate and TLS reports by the start of their
 * period, failure reports by the time of the failure), of the given policy
 * domains only when domains is not NULL, with their records, their share
 * of the traffic rollup and the raw payloads no report uses any more, in
 * one transaction; then gives the freed pages back to the file system.
 * With dry_run nothing changes and the counts say what would go.  Needs a
 * store opened STORE_READWRITE and no batch open. */
struct store_prune {
	int64_t before;
	const char *const *domains;
	int dry_run;
};
struct store_prune_result {
	uint64_t reports, records, messages; /* aggregate */
	uint64_t tls_reports, failure_reports;
	uint64_t payloads, payload_bytes;
	int64_t file_before, file_after; /* bytes of the database file */
};
int store_prune(struct store *s, const struct store_prune *p,
    struct store_prune_result *r, struct err *e);

/* Every kept raw payload (as received, or gzip-compressed when it came as
 * plain XML: payload.h), in the order stored: for dmarc-ingest
 * --from-store, which parses them again into another store.  The row's
 * pointers are valid during the call. */
struct store_raw_row {
	int64_t id;
	const char *name;   /* file or attachment name, or NULL */
	const char *format; /* gzip | zip | zlib | xml | json */
	const unsigned char *data;
	size_t len;
};
int store_each_payload(struct store *s,
    int (*cb)(void *arg, const struct store_raw_row *r, struct err *e),
    void *arg, struct err *e);

/* Every failure report kept, whole, in the order stored: for --from-store,
 * which has no payload to parse again (a failure report's message is the
 * mail of someone else and is not kept; its fields are).  r is what
 * store_failure_report() was given: the fingerprint, every field, at (the
 * time stored when the report had none), the body only when one was kept.
 * source is the input it came from.  The pointers are valid during the
 * call. */
struct store_failure_kept {
	int64_t id;
	const char *source;
	const struct arf_report *r;
};
int store_each_failure_kept(struct store *s,
    int (*cb)(void *arg, const struct store_failure_kept *k, struct err *e),
    void *arg, struct err *e);

/* ---------------------------------------------------------------------
 * Names of source addresses, from DNS (dns/; issue 13).  A name is data:
 * the store keeps what dns/ checked, bound as a value like any other.
 */

struct store_name {
	const char *ip;
	const char *result; /* name | nxdomain | timeout | error | malformed */
	const char *name;   /* a host name; NULL unless result is "name" */
	int confirmed;	    /* its A/AAAA records hold ip */
	int64_t ttl, resolved_at, expires_at;
};

/* Calls cb with each source address of the stored records that has no
 * name entry, or one that expired at or before `now`: never looked up
 * first, then in address order; at most `limit`. */
int store_names_due(struct store *s, int64_t now, size_t limit,
    int (*cb)(void *arg, const char *ip, struct err *e), void *arg,
    struct err *e);

/* Stores n entries (replacing those of the same addresses) in one
 * transaction, or in the current batch when there is one. */
int store_names_put(struct store *s, const struct store_name *names,
    size_t n, struct err *e);

/* Calls cb for each stored entry, in address order; the pointers are
 * valid during the call only. */
int store_each_name(struct store *s,
    int (*cb)(void *arg, const struct store_name *n, struct err *e),
    void *arg, struct err *e);

#endif

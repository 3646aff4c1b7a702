/*
 * store-impl.h - what a storage backend implements.  Private to store/
 * (and to tests that bring a backend of their own): ingest/ and report/
 * see only store.h.
 *
 * A backend owns a kind of location.  To add one: write store-<name>.c
 * filling a struct store_ops, and add it to the table in store.c (the
 * first backend whose claims() accepts a location gets it; SQLite, which
 * takes any path, comes last).  Nothing outside store/ changes.
 *
 * The entries are in three groups: the location (what exists, who holds
 * it, where local state goes), the write path, and the queries.  A new
 * operation is one member here, one wrapper in store.c and one line in
 * each backend's table.
 */
#ifndef DMARCSIFT_STORE_IMPL_H
#define DMARCSIFT_STORE_IMPL_H

#include "store.h"

struct store_ops {
	const char *name;

	/* --- once per process --- */
	/* Sets up the backend's library before any store is opened
	 * (optional). */
	void (*process_init)(void);

	/* --- the location, before anything is opened --- */
	/* 1 if the location is this backend's. */
	int (*claims)(const char *location);
	/* *exists = 1 if a store is there (0: nothing to read yet). */
	int (*exists)(const char *location, int *exists, struct err *e);
	/* Holds the location for one writer of `scope` (NULL: the whole
	 * store): 0 held (*lock set), 1 held by another process (e says
	 * who/what), -1 error. */
	int (*lock)(const char *location, const char *scope, void **lock,
	    struct err *e);
	void (*unlock)(void *lock);
	/* The local directory for files kept beside the store (IMAP
	 * quarantine), created by the caller. */
	int (*state_dir)(const char *location, char *out, size_t len,
	    struct err *e);

	/* --- an open store --- */
	int (*open)(const char *location, enum store_mode mode, void **impl,
	    struct err *e);
	void (*close)(void *impl);
	/* What open() had to do differently, for the user; NULL if nothing
	 * (e.g. "opened read-only, as an immutable snapshot"). */
	const char *(*note)(const void *impl);
	/* 1 when the connection to the store's server is gone (optional:
	 * a file is never lost). */
	int (*lost)(const void *impl);
	int (*batch_begin)(void *impl, struct err *e);
	int (*batch_commit)(void *impl, struct err *e);
	void (*batch_rollback)(void *impl);
	int (*in_batch)(const void *impl);
	int (*find_report)(void *impl, const struct dmarc_meta *m,
	    struct store_existing *ex, int *found, struct err *e);
	int (*report_begin)(void *impl, const struct dmarc_meta *m,
	    struct store_payload *raw, struct err *e);
	int (*report_record)(void *impl, const struct dmarc_record *r,
	    struct err *e);
	int (*report_finish)(void *impl, const struct dmarc_meta *m,
	    const struct store_report_info *info, enum store_outcome *outcome,
	    struct store_existing *ex, struct err *e);
	void (*report_abort)(void *impl);
	int (*report_replace)(void *impl, int64_t old, int *replaced,
	    struct err *e);
	int (*log)(void *impl, const char *source, const char *outcome,
	    const struct dmarc_meta *m, int64_t report, const char *message,
	    struct err *e);
	int (*imap_get)(void *impl, const char *mailbox, uint32_t *uidvalidity,
	    uint32_t *last_uid, int *found, struct err *e);
	int (*imap_set)(void *impl, const char *mailbox, uint32_t uidvalidity,
	    uint32_t last_uid, struct err *e);

	/* --- queries for report/ --- */
	int (*each_report)(void *impl, const struct store_filter *f,
	    int (*cb)(void *arg, const struct store_report_row *r), void *arg,
	    struct err *e);
	int (*each_group)(void *impl, const struct store_filter *f,
	    int (*cb)(void *arg, const struct store_group *g, struct err *e),
	    void *arg, struct err *e);
	int (*each_record)(void *impl, const struct store_filter *f,
	    int (*cb)(void *arg, const struct dmarc_meta *m,
		const struct dmarc_record *r, struct err *e),
	    void *arg, struct err *e);
	int (*each_domain)(void *impl, const struct store_filter *f,
	    int (*cb)(void *arg, const struct store_domain *d, struct err *e),
	    void *arg, struct err *e);
	/* store-sqlite-other.c (store.h: reports of other kinds) */
	int (*tls_report)(void *impl, const struct tlsrpt_report *r,
	    struct store_payload *raw, const char *source, const char *member,
	    enum store_outcome *outcome, int64_t *id, struct err *e);
	int (*failure_report)(void *impl, const struct arf_report *r,
	    const char *source, enum store_outcome *outcome, int64_t *id,
	    struct err *e);
	int (*each_tls_day)(void *impl, const struct store_filter *f,
	    int (*cb)(void *arg, const struct store_tls_day *d, struct err *e),
	    void *arg, struct err *e);
	int (*each_failure)(void *impl, const struct store_filter *f,
	    int (*cb)(void *arg, const struct store_failure_row *r,
		struct err *e),
	    void *arg, struct err *e);
	int (*each_payload)(void *impl,
	    int (*cb)(void *arg, const struct store_raw_row *r, struct err *e),
	    void *arg, struct err *e);
	int (*each_failure_kept)(void *impl,
	    int (*cb)(void *arg, const struct store_failure_kept *k,
		struct err *e),
	    void *arg, struct err *e);
	int (*prune)(void *impl, const struct store_prune *p,
	    struct store_prune_result *r, struct err *e);
	/* names of source addresses (store-sqlite-names.c) */
	int (*names_due)(void *impl, int64_t now, size_t limit,
	    int (*cb)(void *arg, const char *ip, struct err *e), void *arg,
	    struct err *e);
	int (*names_put)(void *impl, const struct store_name *names, size_t n,
	    struct err *e);
	int (*each_name)(void *impl,
	    int (*cb)(void *arg, const struct store_name *n, struct err *e),
	    void *arg, struct err *e);
};

extern const struct store_ops store_sqlite_ops;
#ifdef DMARCSIFT_HAVE_LIBPQ
extern const struct store_ops store_pg_ops;
#endif

/* The store.h entry points with the backend given instead of chosen from
 * the location: for tests that bring a backend of their own. */
int store_open_ops(const struct store_ops *ops, const char *location,
    enum store_mode mode, struct store **out, struct err *e);
int store_lock_ops(const struct store_ops *ops, const char *location,
    const char *scope, struct store_lock **out, struct err *e);

#endif

/*
 * store-impl.h - what a storage backend implements.  Private to store/:
 * ingest/ and report/ see only store.h.
 *
 * To add a backend (PostgreSQL, say): write store-<name>.c filling a
 * struct store_ops, and teach store_open() in store.c which locations
 * belong to it.  Nothing outside store/ changes.
 */
#ifndef DMARCSIFT_STORE_IMPL_H
#define DMARCSIFT_STORE_IMPL_H

#include "store.h"

struct store_ops {
	const char *name;
	int (*open)(const char *location, enum store_mode mode, void **impl,
	    struct err *e);
	void (*close)(void *impl);
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
	int (*log)(void *impl, const char *source, const char *outcome,
	    const struct dmarc_meta *m, int64_t report, const char *message,
	    struct err *e);
	int (*imap_get)(void *impl, const char *mailbox, uint32_t *uidvalidity,
	    uint32_t *last_uid, int *found, struct err *e);
	int (*imap_set)(void *impl, const char *mailbox, uint32_t uidvalidity,
	    uint32_t last_uid, struct err *e);
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

#endif

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
	int (*prune)(void *impl, const struct store_prune *p,
	    struct store_prune_result *r, struct err *e);
};

extern const struct store_ops store_sqlite_ops;

#endif

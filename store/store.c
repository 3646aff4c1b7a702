/*
 * store.c - picks the backend for a location and forwards to it.  See
 * store.h.
 */
#include "store.h"

#include <stdlib.h>

#include "dbpath.h"
#include "store-impl.h"

struct store {
	const struct store_ops *ops;
	void *impl;
};

struct store_lock {
	const struct store_ops *ops;
	void *impl;
};

/* In order: the first that claims a location gets it.  SQLite takes any
 * path, so it is last. */
static const struct store_ops *const backends[] = {
#ifdef DMARCSIFT_HAVE_LIBPQ
    &store_pg_ops,
#endif
    &store_sqlite_ops,
};

static const struct store_ops *
backend_for(const char *location)
{
	size_t i;

	for (i = 0; i + 1 < sizeof(backends) / sizeof(backends[0]); i++)
		if (backends[i]->claims(location))
			return backends[i];
	return &store_sqlite_ops;
}

/* A URL-like location no backend of this build takes would otherwise be
 * taken for a file name. */
static int
check_known(const char *location, struct err *e)
{
	if (backend_for(location) == &store_sqlite_ops &&
	    store_sqlite_ops.claims(location) == 0)
		return err_set(e, "%s is not a location this dmarcsift can open: "
				  "give a SQLite file%s",
		    location,
#ifdef DMARCSIFT_HAVE_LIBPQ
		    " or a postgresql:// URL"
#else
		    " (this build has no PostgreSQL support: it needs libpq)"
#endif
		);
	return 0;
}

int
store_locate(const char *option, int create_dir, char *out, size_t len,
    struct err *e)
{
	return db_path_resolve(option, create_dir, out, len, e);
}

int
store_exists(const char *location, int *exists, struct err *e)
{
	if (check_known(location, e) == -1)
		return -1;
	return backend_for(location)->exists(location, exists, e);
}

int
store_lock_ops(const struct store_ops *ops, const char *location,
    const char *scope, struct store_lock **out, struct err *e)
{
	struct store_lock *l;
	int rc;

	if ((l = calloc(1, sizeof(*l))) == NULL)
		return err_set(e, "out of memory");
	l->ops = ops;
	if ((rc = ops->lock(location, scope, &l->impl, e)) != 0) {
		free(l);
		return rc;
	}
	*out = l;
	return 0;
}

int
store_lock(const char *location, const char *scope, struct store_lock **out,
    struct err *e)
{
	if (check_known(location, e) == -1)
		return -1;
	return store_lock_ops(backend_for(location), location, scope, out, e);
}

void
store_unlock(struct store_lock *l)
{
	if (l == NULL)
		return;
	l->ops->unlock(l->impl);
	free(l);
}

int
store_state_dir(const char *location, char *out, size_t len, struct err *e)
{
	return backend_for(location)->state_dir(location, out, len, e);
}

int
store_open_ops(const struct store_ops *ops, const char *location,
    enum store_mode mode, struct store **out, struct err *e)
{
	struct store *s;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return err_set(e, "out of memory");
	s->ops = ops;
	if (s->ops->open(location, mode, &s->impl, e) == -1) {
		free(s);
		return -1;
	}
	*out = s;
	return 0;
}

void
store_process_init(void)
{
	size_t i;

	for (i = 0; i < sizeof(backends) / sizeof(backends[0]); i++)
		if (backends[i]->process_init != NULL)
			backends[i]->process_init();
}

int
store_open(const char *location, enum store_mode mode, struct store **out,
    struct err *e)
{
	if (check_known(location, e) == -1)
		return -1;
	return store_open_ops(backend_for(location), location, mode, out, e);
}

const char *
store_note(const struct store *s)
{
	return s->ops->note != NULL ? s->ops->note(s->impl) : NULL;
}

int
store_lost(const struct store *s)
{
	return s->ops->lost != NULL && s->ops->lost(s->impl);
}

void
store_close(struct store *s)
{
	if (s == NULL)
		return;
	s->ops->close(s->impl);
	free(s);
}

int
store_batch_begin(struct store *s, struct err *e)
{
	return s->ops->batch_begin(s->impl, e);
}

int
store_batch_commit(struct store *s, struct err *e)
{
	return s->ops->batch_commit(s->impl, e);
}

void
store_batch_rollback(struct store *s)
{
	s->ops->batch_rollback(s->impl);
}

int
store_in_batch(const struct store *s)
{
	return s->ops->in_batch(s->impl);
}

int
store_find_report(struct store *s, const struct dmarc_meta *m,
    struct store_existing *ex, int *found, struct err *e)
{
	return s->ops->find_report(s->impl, m, ex, found, e);
}

int
store_report_begin(struct store *s, const struct dmarc_meta *m,
    struct store_payload *raw, struct err *e)
{
	return s->ops->report_begin(s->impl, m, raw, e);
}

int
store_report_record(struct store *s, const struct dmarc_record *r,
    struct err *e)
{
	return s->ops->report_record(s->impl, r, e);
}

int
store_report_finish(struct store *s, const struct dmarc_meta *m,
    const struct store_report_info *info, enum store_outcome *outcome,
    struct store_existing *ex, struct err *e)
{
	return s->ops->report_finish(s->impl, m, info, outcome, ex, e);
}

/* An operation a backend does not have (yet): said, never a crash. */
static int
unsupported(const struct store *s, const char *what, struct err *e)
{
	return err_set(e, "%s: not supported by the %s store", what,
	    s->ops->name);
}

int
store_report_replace(struct store *s, int64_t old, int *replaced,
    struct err *e)
{
	/* without it the first (salvaged) copy stays, as before */
	if (s->ops->report_replace == NULL) {
		*replaced = 0;
		return 0;
	}
	return s->ops->report_replace(s->impl, old, replaced, e);
}

void
store_report_abort(struct store *s)
{
	s->ops->report_abort(s->impl);
}

int
store_log(struct store *s, const char *source, const char *outcome,
    const struct dmarc_meta *m, int64_t report, const char *message,
    struct err *e)
{
	return s->ops->log(s->impl, source, outcome, m, report, message, e);
}

int
store_imap_get(struct store *s, const char *mailbox, uint32_t *uidvalidity,
    uint32_t *last_uid, int *found, struct err *e)
{
	return s->ops->imap_get(s->impl, mailbox, uidvalidity, last_uid, found,
	    e);
}

int
store_imap_set(struct store *s, const char *mailbox, uint32_t uidvalidity,
    uint32_t last_uid, struct err *e)
{
	return s->ops->imap_set(s->impl, mailbox, uidvalidity, last_uid, e);
}

int
store_each_report(struct store *s, const struct store_filter *f,
    int (*cb)(void *arg, const struct store_report_row *r), void *arg,
    struct err *e)
{
	return s->ops->each_report(s->impl, f, cb, arg, e);
}

int
store_each_group(struct store *s, const struct store_filter *f,
    int (*cb)(void *arg, const struct store_group *g, struct err *e),
    void *arg, struct err *e)
{
	return s->ops->each_group(s->impl, f, cb, arg, e);
}

int
store_each_record(struct store *s, const struct store_filter *f,
    int (*cb)(void *arg, const struct dmarc_meta *m,
	const struct dmarc_record *r, struct err *e),
    void *arg, struct err *e)
{
	return s->ops->each_record(s->impl, f, cb, arg, e);
}

int
store_each_domain(struct store *s, const struct store_filter *f,
    int (*cb)(void *arg, const struct store_domain *d, struct err *e),
    void *arg, struct err *e)
{
	return s->ops->each_domain(s->impl, f, cb, arg, e);
}

int
store_tls_report(struct store *s, const struct tlsrpt_report *r,
    struct store_payload *raw, const char *source, const char *member,
    enum store_outcome *outcome, int64_t *id, struct err *e)
{
	if (s->ops->tls_report == NULL)
		return unsupported(s, "SMTP TLS reports", e);
	return s->ops->tls_report(s->impl, r, raw, source, member, outcome, id,
	    e);
}

int
store_failure_report(struct store *s, const struct arf_report *r,
    const char *source, enum store_outcome *outcome, int64_t *id,
    struct err *e)
{
	if (s->ops->failure_report == NULL)
		return unsupported(s, "DMARC failure reports", e);
	return s->ops->failure_report(s->impl, r, source, outcome, id, e);
}

int
store_each_tls_day(struct store *s, const struct store_filter *f,
    int (*cb)(void *arg, const struct store_tls_day *d, struct err *e),
    void *arg, struct err *e)
{
	if (s->ops->each_tls_day == NULL)
		return unsupported(s, "SMTP TLS reports", e);
	return s->ops->each_tls_day(s->impl, f, cb, arg, e);
}

int
store_has_failures(const struct store *s)
{
	return s->ops->each_failure != NULL;
}

int
store_each_failure(struct store *s, const struct store_filter *f,
    int (*cb)(void *arg, const struct store_failure_row *r, struct err *e),
    void *arg, struct err *e)
{
	if (s->ops->each_failure == NULL)
		return unsupported(s, "DMARC failure reports", e);
	return s->ops->each_failure(s->impl, f, cb, arg, e);
}

int
store_each_payload(struct store *s,
    int (*cb)(void *arg, const struct store_raw_row *r, struct err *e),
    void *arg, struct err *e)
{
	if (s->ops->each_payload == NULL)
		return unsupported(s, "reading the kept payloads", e);
	return s->ops->each_payload(s->impl, cb, arg, e);
}

int
store_each_failure_kept(struct store *s,
    int (*cb)(void *arg, const struct store_failure_kept *k, struct err *e),
    void *arg, struct err *e)
{
	if (s->ops->each_failure_kept == NULL)
		return unsupported(s, "reading the kept failure reports", e);
	return s->ops->each_failure_kept(s->impl, cb, arg, e);
}

int
store_prune(struct store *s, const struct store_prune *p,
    struct store_prune_result *r, struct err *e)
{
	if (s->ops->prune == NULL)
		return unsupported(s, "prune", e);
	return s->ops->prune(s->impl, p, r, e);
}

int
store_names_due(struct store *s, int64_t now, size_t limit,
    int (*cb)(void *arg, const char *ip, struct err *e), void *arg,
    struct err *e)
{
	return s->ops->names_due(s->impl, now, limit, cb, arg, e);
}

int
store_names_put(struct store *s, const struct store_name *names, size_t n,
    struct err *e)
{
	return s->ops->names_put(s->impl, names, n, e);
}

int
store_each_name(struct store *s,
    int (*cb)(void *arg, const struct store_name *n, struct err *e),
    void *arg, struct err *e)
{
	if (s->ops->each_name == NULL)
		return 0; /* a backend that keeps no names has none */
	return s->ops->each_name(s->impl, cb, arg, e);
}

/*
 * store.c - picks the backend and forwards to it.  See store.h.
 */
#include "store.h"

#include <stdlib.h>

#include "store-impl.h"

struct store {
	const struct store_ops *ops;
	void *impl;
};

int
store_open(const char *location, enum store_mode mode, struct store **out,
    struct err *e)
{
	struct store *s;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return err_set(e, "out of memory");
	/* Every location is a SQLite file for now; a "postgresql://" URI
	 * would select another backend here. */
	s->ops = &store_sqlite_ops;
	if (s->ops->open(location, mode, &s->impl, e) == -1) {
		free(s);
		return -1;
	}
	*out = s;
	return 0;
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
	return s->ops->each_name(s->impl, cb, arg, e);
}

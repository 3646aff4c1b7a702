/*
 * view-reports.c - see view-reports.h.
 */
#include "view-reports.h"

#include <string.h>

struct walk {
	int (*cb)(void *arg, const struct report_row *row, struct err *e);
	void *arg;
	struct err err; /* the callback's: the store's callback has no err,
	                   and the store writes its own on failure */
	int failed;
	uint64_t rows;
};

static int
one(void *arg, const struct store_report_row *r)
{
	struct walk *w = arg;
	struct report_row row;

	memset(&row, 0, sizeof(row));
	row.org_name = r->org_name;
	row.report_id = r->report_id;
	row.domain = r->domain;
	row.begin = r->begin;
	row.end = r->end;
	row.hours = (r->end - r->begin + 1800) / 3600;
	row.records = r->records;
	row.messages = r->messages;
	w->rows++;
	if (w->cb(w->arg, &row, &w->err) == -1) {
		w->failed = 1;
		return -1;
	}
	return 0;
}

int
reports_collect(struct store *st, const struct store_filter *f,
                int (*cb)(void *arg, const struct report_row *row,
                          struct err *e),
                void *arg, uint64_t *rows, struct err *e)
{
	struct walk w;
	int rc;

	memset(&w, 0, sizeof(w));
	w.cb = cb;
	w.arg = arg;
	rc = store_each_report(st, f, one, &w, e);
	if (rc == -1 && w.failed)
		*e = w.err;
	if (rows != NULL)
		*rows = w.rows;
	return rc;
}

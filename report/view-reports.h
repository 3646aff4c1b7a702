/*
 * view-reports.h - the data behind `dmarc-report reports`: one row per
 * selected aggregate report, with nothing about how it is printed.
 * cmd-reports.c renders the rows as a table, CSV or JSON.
 *
 * The rows stream, in the store's order (newest period first), as
 * records' do (view-records.h): a store may hold more reports than are
 * worth holding in memory at once.  The pointers of a row are valid
 * during the callback only.
 */
#ifndef DMARCSIFT_VIEW_REPORTS_H
#define DMARCSIFT_VIEW_REPORTS_H

#include <stdint.h>

#include "err.h"
#include "store.h"

struct report_row {
	const char *org_name, *report_id, *domain; /* NULL: absent */
	int64_t begin, end;                        /* the period, epoch s */
	int64_t hours;                             /* its length, rounded */
	uint64_t records, messages;
};

/* Calls cb with each selected report; *rows (may be NULL) counts them.
 * Returns 0, or -1 with e filled (cb's failure included: cb fills e). */
int reports_collect(struct store *st, const struct store_filter *f,
                    int (*cb)(void *arg, const struct report_row *row,
                              struct err *e),
                    void *arg, uint64_t *rows, struct err *e);

#endif

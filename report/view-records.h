/*
 * view-records.h - the data behind `dmarc-report records`: every selected
 * record with what the program derives from it (its sender, classified
 * with the source's confirmed DNS name; the SES cause when SES mail
 * fails; the address's name; the per-signature lists), with nothing about
 * how it is printed.  cmd-records.c renders the rows as a table, CSV or
 * JSON.
 *
 * The rows stream: a store holds millions of records, so each row is
 * handed to the caller and forgotten; only the set of From domains with
 * healthy SES mail (for the region-gap cause) is computed first, from the
 * grouped pass the ses command uses.
 *
 * Promises: rows in the store's report order; the pointers of a row are
 * valid during the callback only; every list keeps one item per
 * signature (or reason, or error line), missing values as NULL, so that
 * the n-th item of each describes the n-th signature (issue 12).
 */
#ifndef DMARCSIFT_VIEW_RECORDS_H
#define DMARCSIFT_VIEW_RECORDS_H

#include <stddef.h>
#include <stdint.h>

#include "classify.h"
#include "err.h"
#include "source-names.h"
#include "store.h"

struct align;

enum record_list {
	RL_DKIM_DOMAINS,
	RL_DKIM_SELECTORS,
	RL_DKIM_RESULTS,
	RL_SPF_DOMAINS,
	RL_SPF_SCOPES,
	RL_SPF_RESULTS,
	RL_REASONS,
	RL_COMMENTS,
	RL_ERRORS, /* the report's errors, one a line */
	RL_COUNT
};

struct record_items {
	const char *const *v;
	size_t n;
};

struct record_row {
	const struct dmarc_meta *m;    /* the report's header */
	const struct dmarc_record *r;  /* the record */
	int spf_ok, dkim_ok;           /* the receiver's verdicts */
	struct sender snd;             /* with the PTR name, if confirmed */
	char cause[160];               /* SES failing: the causes, else "" */
	const struct source_name *dns; /* the address's name, or NULL */
	struct record_items list[RL_COUNT];
};

/* Calls cb with each selected record; *rows (may be NULL) counts them.
 * cl classifies (with its names, classify_attach_names()), al finds the
 * causes.  Returns 0, or -1 with e filled (cb's failure included). */
int records_collect(struct store *st, const struct store_filter *f,
                    const struct classifier *cl, const struct align *al,
                    int (*cb)(void *arg, const struct record_row *row,
                              struct err *e),
                    void *arg, uint64_t *rows, struct err *e);

#endif

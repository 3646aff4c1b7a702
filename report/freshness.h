/*
 * freshness.h - whether the selected reports are recent enough for a
 * verdict to mean anything (exit status 3 of `ses` and `policy`).
 *
 * A cron job that alerts on findings goes quiet exactly when ingestion
 * breaks (an expired password, a full disk): no new reports, no findings.
 * This check turns "nothing new arrived" into its own answer.
 *
 * Owns the rule: the selection is stale when it holds no report, or when
 * the newest end of a selected report's period is more than max_age
 * seconds before now.  Any command can use it (check-dns later).
 */
#ifndef DMARCSIFT_FRESHNESS_H
#define DMARCSIFT_FRESHNESS_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "store.h"

/* The exit status of a stale or empty selection (not a sysexits code:
 * 1 is "findings", 64 and up are errors). */
#define EXIT_STALE 3

/* The default of --max-age and [report] max_age, in days. */
#define MAX_AGE_DEFAULT_DAYS 3

enum freshness {
	FRESH,
	STALE_EMPTY, /* the selection holds no report */
	STALE_OLD,   /* its newest report ended before now - max_age */
};

/* Looks at the selected reports.  *state says which case holds; `why`
 * (len bytes) gets a sentence for standard error when not FRESH. */
int freshness_check(struct store *st, const struct store_filter *f, int64_t now,
                    int64_t max_age, enum freshness *state, char *why,
                    size_t len, struct err *e);

#endif

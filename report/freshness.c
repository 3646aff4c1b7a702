/*
 * freshness.c - see freshness.h.
 */
#include "freshness.h"

#include <stdio.h>
#include <time.h>

struct newest {
	uint64_t reports;
	int64_t last; /* latest end of a report's period */
};

static int
one_domain(void *arg, const struct store_domain *d, struct err *e)
{
	struct newest *n = arg;

	(void)e;
	n->reports += d->reports;
	if (d->last > n->last)
		n->last = d->last;
	return 0;
}

int
freshness_check(struct store *st, const struct store_filter *f, int64_t now,
                int64_t max_age, enum freshness *state, char *why, size_t len,
                struct err *e)
{
	struct newest n = {0, 0};
	char day[32];
	time_t t;
	struct tm tm;

	if (store_each_domain(st, f, one_domain, &n, e) == -1)
		return -1;
	if (n.reports == 0) {
		*state = STALE_EMPTY;
		snprintf(why, len,
		         "no report in the selection: is "
		         "dmarc-ingest running? (exit status 3)");
		return 0;
	}
	if (now - n.last <= max_age) {
		*state = FRESH;
		if (len > 0)
			why[0] = '\0';
		return 0;
	}
	*state = STALE_OLD;
	t = (time_t)n.last;
	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(day, sizeof(day), "%Y-%m-%d %H:%M", &tm) == 0)
		snprintf(day, sizeof(day), "%lld", (long long)n.last);
	snprintf(why, len,
	         "the newest report in the selection ended %s UTC, %lld days "
	         "ago, more than --max-age %lld days: is dmarc-ingest running? "
	         "(exit status 3)",
	         day, (long long)((now - n.last) / 86400),
	         (long long)(max_age / 86400));
	return 0;
}

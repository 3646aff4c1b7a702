/*
 * view-policy.h - the data behind `dmarc-report policy`: per policy
 * domain, the policy published in the latest report, how much of the
 * period the reports cover, the share of messages passing DMARC, each
 * source's traffic, and the verdict on tightening the policy.  Plain
 * data, collected from the store; cmd-policy.c renders it.
 *
 * The verdict:
 *  - ready: every identified source (one the senders table or the user's
 *    sources file names) fails DMARC on at most `tolerance` percent of its
 *    messages, and no unidentified source (named by its address) fails on
 *    more than 1% of the domain's messages.  Small unidentified volumes
 *    are what enforcement is for: spoofing, or forwarders, which receivers
 *    judge by their own rules.
 *  - not-ready: an identified source fails beyond the tolerance, or an
 *    unidentified source fails on more than 1% of the domain's messages
 *    (flagged: is it yours? add it to the sources file).
 *  - review: the selected reports hold no message for the domain, so
 *    there is nothing to judge.
 *
 * The quarantine counts are an upper bound: every message failing DMARC,
 * times pct/100, rounded; receivers may exempt forwarded and mailing-list
 * mail (override reasons), and sp/np govern subdomains when published
 * differently.
 *
 * An unidentified source is its address, or the organisational domain of
 * its confirmed DNS name (one source for the organisation's addresses),
 * as in `sources` (view-sources.h).
 *
 * Promises: domains in name order; sources most messages first, then name
 * and region; the model owns its memory (policy_view_free) and holds no
 * pointer into the store.
 */
#ifndef DMARCSIFT_VIEW_POLICY_H
#define DMARCSIFT_VIEW_POLICY_H

#include <stddef.h>
#include <stdint.h>

#include "classify.h"
#include "err.h"
#include "store.h"
#include "view-sources.h"

/* The default of --tolerance and [report] tolerance, in percent. */
#define TOLERANCE_DEFAULT 0.5

/* An unidentified source failing on more than this share of a domain's
 * messages (per million) blocks the verdict. */
#define UNIDENTIFIED_PPM 10000

enum verdict {
	VERDICT_READY,
	VERDICT_NOT_READY,
	VERDICT_REVIEW,
};

struct policy_source {
	char name[256];          /* sender's name, the address, or the org */
	char region[REGION_MAX]; /* SES only, else "" */
	int known;               /* identified by the table or the file */
	/* unidentified: as in view-sources.h (source_row) */
	char addr[256], dns_name[256];
	enum name_state name_state;
	uint64_t ips;
	int flagged;             /* blocks the verdict (see above) */
	uint64_t messages, dmarc_pass;
};

/* The header fields of the latest report; "" when absent. */
struct policy_published {
	char domain[256], org_name[256];
	char p[16], sp[16], np[16], adkim[4], aspf[4], testing[4];
	int pct; /* -1 when absent */
	int64_t begin;
};

struct policy_domain {
	struct policy_published pub;
	int64_t first, last; /* earliest begin, latest end */
	uint64_t reports, days;
	uint64_t messages, dmarc_pass;
	struct policy_source *sources;
	size_t nsources;
	enum verdict verdict;
	double tolerance; /* percent, as judged */
	size_t known_flagged, unknown_flagged;
	uint64_t unknown_fail; /* failing messages of unidentified sources */
	uint64_t known_fail;   /* ... and of identified ones */
};

struct policy_view {
	struct policy_domain *domains;
	size_t n;
	double tolerance; /* percent */
};

/* Reads the selected reports and records from st and fills v (zeroed
 * first), judging each domain with the given tolerance (percent). */
int policy_collect(struct store *st, const struct store_filter *f,
                   const struct classifier *cl, double tolerance,
                   struct policy_view *v, struct err *e);

void policy_view_free(struct policy_view *v);

/* "ready", "not-ready" or "review". */
const char *verdict_name(enum verdict v);

/* The verdict as a sentence (the table's line, the CSV's reason): what
 * holds the domain back, naming the flagged sources (at most 20
 * unidentified ones, then how many more). */
void policy_reason(const struct policy_domain *d, char *out, size_t len);

/* What p=quarantine at pct would have caught: the failing messages
 * sampled. */
uint64_t policy_at_pct(const struct policy_source *s, unsigned pct);

/* The source as a table and the reason show it: the name, or the address
 * with its DNS name (source_names_label()). */
void policy_source_label(const struct policy_source *s, char *out,
                         size_t len);

#endif

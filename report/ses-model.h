/*
 * ses-model.h - what `dmarc-report ses` found, as plain data: the rows
 * (one per SES region, source IP and From domain with messages failing
 * SPF or DKIM alignment), their severity, causes and the details the
 * fixes name, and the lines around them.  ses-collect.c fills it from the
 * store; cmd-ses.c renders it (table, CSV, JSON); an HTML view can render
 * the same model.
 *
 * Promises:
 *  - A row's counts sum every SES message of its key over the selected
 *    reports and receivers; its causes come only from the groups that
 *    fail an alignment; region-gap and the working MAIL FROM are added
 *    once every group was seen.
 *  - severity: SES_FAIL when some of the row's messages fail DMARC (what
 *    enforcement would quarantine or reject), SES_WARN when all pass but
 *    through one mechanism only (a key rotation or a MAIL FROM fallback
 *    then breaks them), SES_OK for healthy rows (not shown).
 *  - Mail that a non-SES host delivered with its SES signatures broken
 *    (classify_in_transit()) is no row: it is counted in transit_*.
 *  - After ses_collect() the rows are sorted: fail before warn, then
 *    known regions by name ("unknown" last), From domain, causes, most
 *    messages, address.
 *  - Every string a row points to lives in the model's pool until
 *    ses_model_free().
 */
#ifndef DMARCSIFT_SES_MODEL_H
#define DMARCSIFT_SES_MODEL_H

#include <stdint.h>

#include "align.h"
#include "classify.h"
#include "diagnose.h"
#include "store.h"
#include "strmap.h"

enum ses_severity {
	SES_OK,
	SES_WARN,
	SES_FAIL,
};

/* Small sets of pooled strings: the MAIL FROM and DKIM domains of a row.
 * A row rarely has more than two or three; beyond SES_SET_MAX, "more"
 * says that more were seen (the records export has them all). */
#define SES_SET_MAX 6

struct ses_set {
	const char *s[SES_SET_MAX];
	size_t n;
	int more;
};

/*
 * What the DMARC failure reports (RFC 6591) matched to a row say: they
 * are evidence for the row's region and causes, never part of its counts
 * (a receiver sends one for some failed messages, not all).  A report is
 * matched by its Source-IP and Reported-Domain (the row's address and
 * From domain), else by the region its own signals name and the From
 * domain.  Strings are pooled; NULL when no report had one.
 */
enum ses_auth_failure {
	SES_AF_SPF = 1 << 0,
	SES_AF_DKIM = 1 << 1, /* signature, bodyhash, revoked, adsp */
	SES_AF_DMARC = 1 << 2,
	SES_AF_OTHER = 1 << 3, /* another value, or none given */
};

struct ses_failures {
	uint64_t reports; /* matched to the row */
	uint64_t same_ip; /* of them from the row's address */
	unsigned auth;    /* enum ses_auth_failure bits */
	const char *dkim_domain, *dkim_selector; /* the first signature */
	const char *mail_from;                   /* the first MAIL FROM domain */
	const char *subject;                     /* a sample */
	/* the region the reports' own signals name, and how ("" none) */
	char region[REGION_MAX];
	enum region_evidence region_by;
	int regions_differ; /* two reports named different regions */
};

struct ses_row {
	char region[REGION_MAX];
	int unknown; /* region is REGION_UNKNOWN */
	/* the strongest evidence for the region among the row's records,
	 * and the first note about a disagreement (pooled, or NULL) */
	enum region_evidence evidence;
	const char *region_note;
	const char *unknown_selector; /* pooled, or NULL */
	const char *ip, *hf;          /* pooled, or NULL */
	uint64_t messages, spf_aligned, dkim_aligned, dmarc_pass;
	int flagged; /* some message fails an alignment */
	enum ses_severity severity;
	unsigned causes;
	struct diag_hint hint; /* pooled strings */
	struct ses_set mail_from, dkim_domains;
	struct ses_failures failures; /* evidence, never counts */
};

/* An amazonses.com DKIM selector found in no table. */
struct ses_unknown_selector {
	uint64_t messages;
	char region[REGION_MAX]; /* what other evidence said, or unknown */
};

struct ses_model {
	struct strmap rows;      /* key -> struct ses_row */
	struct strmap healthy;   /* header_from -> struct ses_healthy */
	struct strmap selectors; /* selector -> struct ses_unknown_selector */
	struct strmap pool;      /* every string the rows point to */
	uint64_t groups;         /* groups of records read */
	uint64_t ses_messages;   /* in SES rows, healthy ones too */
	uint64_t transit_messages, transit_groups;
	size_t fails, warns; /* rows of each severity */
	/* failure reports from SES sources: matched to a row, or not
	 * (their finding is healthy, or none has their From domain) */
	uint64_t failure_matched, failure_unmatched;
};

/* Reads the selected records into m (zeroed here); -1 with e filled. */
int ses_collect(struct ses_model *m, struct store *st,
                const struct store_filter *f, const struct classifier *cl,
                const struct align *al, struct err *e);

void ses_model_free(struct ses_model *m);

/* Joins the selected failure reports (f's domains select on
 * Reported-Domain, since/until on the time of the failure) to the flagged
 * rows of m as evidence (ses-evidence.c); ses_collect() calls it. */
int ses_join_failures(struct ses_model *m, struct store *st,
                      const struct store_filter *f,
                      const struct classifier *cl, struct err *e);

/* What a row's failure reports say, for people and the `evidence`
 * column: "" when none matched.  Names the source (failure reports) and
 * their count; a region they name is theirs, never the row's. */
void ses_row_evidence(const struct ses_row *r, char *out, size_t len);

/* The row at i, after ses_collect(). */
const struct ses_row *ses_row_at(const struct ses_model *m, size_t i);

/* "fail", "warn" or "" (SES_OK). */
const char *ses_severity_name(enum ses_severity s);

/* The set's members in name order, joined with ',' (",..." when more). */
/* The set's items sorted, then "..." when it had more than it keeps:
 * out has room for SES_SET_MAX + 1; returns how many. */
size_t ses_set_items(const struct ses_set *set, const char **out);

void ses_set_join(const struct ses_set *set, char *out, size_t len);

/* The row's notes for people: the region's disagreement, an unknown
 * amazonses.com selector, the product; "" when none. */
void ses_row_notes(const struct ses_row *r, char *out, size_t len);

#endif

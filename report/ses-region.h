/*
 * ses-region.h - which Amazon SES region sent a message, and how that is
 * known (../shared/reference/ses-region-evidence.md has the facts).
 *
 * Owns two dated tables observed in real message headers (AWS documents
 * neither): the selector of the d=amazonses.com DKIM signature per region,
 * and source /24s per region; and the user's additions to both, read from
 * the --sources file as "ses-selector:<selector>,<region>" and
 * "ses-prefix:<cidr>,<region>" lines (region "-" takes a built-in entry
 * away).
 *
 * Promises:
 *  - The region comes from the strongest signal present, in this order:
 *    the MAIL FROM (envelope_from or an SPF domain) amazonses.com
 *    (us-east-1) or <region>.amazonses.com; the selector of the
 *    amazonses.com signature; a forward-confirmed PTR name
 *    (*.smtp-out.amazonses.com is us-east-1, *.smtp-out.<region>.
 *    amazonses.com that region); the /24 table.  The user's entries are
 *    tried before the built-in ones of the same kind.
 *  - When a weaker signal names another region, the result keeps the
 *    stronger one and says so in its note.
 *  - An amazonses.com selector found in no table is returned, so that
 *    callers can list it for the user to add.
 */
#ifndef DMARCSIFT_SES_REGION_H
#define DMARCSIFT_SES_REGION_H

#include <stddef.h>

#include "err.h"
#include "report.h"

#define REGION_UNKNOWN  "unknown"
#define REGION_MAX      32
#define REGION_NOTE_MAX 200

/* Weakest first: a larger value is stronger evidence. */
enum region_evidence {
	EVIDENCE_NONE,
	EVIDENCE_IP,
	EVIDENCE_PTR,
	EVIDENCE_DKIM_SELECTOR,
	EVIDENCE_MAIL_FROM,
};

struct ses_regions;

struct region_guess {
	char region[REGION_MAX]; /* REGION_UNKNOWN when nothing says */
	enum region_evidence evidence;
	char note[REGION_NOTE_MAX]; /* "" or what disagreed */
	/* the selector of an amazonses.com signature that is in no table
	 * (points into the dkim array given), or NULL */
	const char *unknown_selector;
};

/* The built-in tables; the user's lines are added with
 * ses_regions_user_line(). */
int ses_regions_open(struct ses_regions **out, struct err *e);
void ses_regions_close(struct ses_regions *t);

/* A line of the user's file whose key starts "ses-selector:" or
 * "ses-prefix:": returns 1 and adds it (rc set to 0, or -1 with e filled
 * naming file:line), or returns 0 when key is no such line. */
int ses_regions_user_line(struct ses_regions *t, const char *key,
                          const char *value, const char *file,
                          unsigned long line, int *rc, struct err *e);

/* The region of a message from SES; ptr is the forward-confirmed PTR
 * name of source_ip (NULL when unknown). */
void ses_region_guess(const struct ses_regions *t, const char *source_ip,
                      const char *ptr, const char *envelope_from,
                      const struct dmarc_spf *spf, size_t nspf,
                      const struct dmarc_dkim *dkim, size_t ndkim,
                      struct region_guess *out);

/* "mail-from", "dkim-selector", "ptr", "ip" or "none". */
const char *region_evidence_name(enum region_evidence ev);

/* 1 when name is a PTR name of an SES host, the region (or
 * REGION_UNKNOWN) written to region; 0 otherwise. */
int ses_ptr_region(const char *name, char *region, size_t len);

/* 1 when domain is amazonses.com or below it, the region written as for
 * classify_ses_domain() (classify.h); 0 otherwise. */
int ses_domain_region(const char *domain, char *region, size_t len);

/* name is pattern or a name below it (case-insensitive, trailing dots of
 * name ignored). */
int ses_domain_matches(const char *name, const char *pattern);

/* When the region tables were last checked against their sources. */
const char *ses_regions_table_date(void);

#endif

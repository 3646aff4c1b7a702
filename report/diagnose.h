/*
 * diagnose.h - why Amazon SES mail fails DMARC alignment and what to
 * change: the cause codes of `dmarc-report ses` and their fixes
 * (docs/ses.md explains each one).
 *
 * Promises:
 *  - The receiver's verdicts (policy_evaluated) say *whether* SPF or DKIM
 *    alignment failed; the authentication results and identifiers, with
 *    align.h, say *why*.  A cause is only given for an alignment the
 *    receiver failed.
 *  - Codes are always listed in this order, joined with ';':
 *    default-mail-from, no-easy-dkim, dkim-fail, mail-from-spf-fail,
 *    strict-alignment, region-gap, then the codes that say why a
 *    signature for the From domain fails (always next to dkim-fail):
 *    dkim-records-changed (an Easy DKIM token's records changed after
 *    verification), byodkim-mismatch (a BYODKIM selector: its TXT key
 *    does not match), signed-before-ses (a selector of another signer:
 *    the message was signed before SES changed it).  The first six never
 *    change meaning; new codes are only ever added after the last.
 *  - SES signs with the customer's domain only once DKIM is verified, so
 *    "Pending" or "Failed" is no-easy-dkim (no signature), never
 *    dkim-fail.
 *  - A fix is a sentence or two per cause naming the SES setting, the DNS
 *    record and the region; a region that the report does not show is
 *    called so, never guessed.  It respects AWS's rules: one MX record
 *    for a MAIL FROM domain whatever the region (never "add that region's
 *    MX"); a region gap is fixed on that region's identity with the MAIL
 *    FROM domain that already works elsewhere.
 */
#ifndef DMARCSIFT_DIAGNOSE_H
#define DMARCSIFT_DIAGNOSE_H

#include <stddef.h>

#include "align.h"
#include "classify.h"
#include "report.h"

enum cause {
	CAUSE_DEFAULT_MAIL_FROM = 1 << 0,
	CAUSE_NO_EASY_DKIM = 1 << 1,
	CAUSE_DKIM_FAIL = 1 << 2,
	CAUSE_MAIL_FROM_SPF_FAIL = 1 << 3,
	CAUSE_STRICT_ALIGNMENT = 1 << 4,
	CAUSE_REGION_GAP = 1 << 5,
	CAUSE_DKIM_RECORDS_CHANGED = 1 << 6,
	CAUSE_BYODKIM_MISMATCH = 1 << 7,
	CAUSE_SIGNED_BEFORE_SES = 1 << 8,
};

#define CAUSE_COUNT 9

/* What one record (or group of records) from SES shows. */
struct diag_input {
	const char *domain; /* policy domain (where _dmarc lives) */
	const char *source_ip, *header_from, *envelope_from;
	const char *adkim, *aspf; /* NULL: r */
	const struct dmarc_dkim *dkim;
	size_t ndkim;
	const struct dmarc_spf *spf;
	size_t nspf;
	int spf_fails;	/* some of its messages fail SPF alignment */
	int dkim_fails; /* ... DKIM alignment (policy_evaluated) */
};

/* What the fixes name: the first of each that diagnose() saw.  The
 * strings point into the diag_input they came from; a caller that keeps
 * a hint beyond that copies them. */
struct diag_hint {
	const char *policy_domain;
	const char *mail_from;	   /* mail-from-spf-fail */
	unsigned spf_results;	   /* ... every SPF result seen: SPF_* bits */
	const char *dkim_domain;   /* dkim-fail: the failing signature */
	const char *dkim_selector;
	const char *strict_spf;	   /* strict: the MAIL FROM domain */
	const char *strict_dkim;   /* strict: the d= that passed */
	const char *product;	   /* an SES-based product: "Resend", "Amazon
				      WorkMail" (static strings), or NULL */
	int ses_dkim_fails;	   /* the amazonses.com signature fails too */
	/* Filled by the caller from every row, for the fixes: a custom MAIL
	 * FROM domain passing both alignments for this From domain through
	 * SES, and in which region ("unknown" or NULL when not known); and
	 * whether that healthy mail is in this same region. */
	const char *working_mail_from;
	const char *working_region;
	int same_region_healthy;
};

/* SPF results, for diag_hint.spf_results. */
enum {
	SPF_NONE = 1 << 0,
	SPF_NEUTRAL = 1 << 1,
	SPF_FAIL = 1 << 2,
	SPF_SOFTFAIL = 1 << 3,
	SPF_POLICY = 1 << 4,
	SPF_TEMPERROR = 1 << 5,
	SPF_PERMERROR = 1 << 6,
	SPF_OTHER = 1 << 7,
};

/* The MAIL FROM domain of a record: envelope_from, else the domain of its
 * first SPF result that is not for HELO; NULL when neither is known. */
const char *diag_mail_from(const char *envelope_from,
    const struct dmarc_spf *spf, size_t nspf);

/* The product name when the record is an SES-based product's mail (Resend:
 * MAIL FROM send.<domain> or a selector "resend"; Amazon WorkMail: the MAIL
 * FROM is the From domain itself, which SES's own custom MAIL FROM never
 * is), else NULL. */
const char *diag_product(const struct diag_input *in);

/* The causes (enum cause bits, region-gap excepted: it needs every row)
 * for one SES input; hint (may be NULL) collects what the fix names. */
unsigned diagnose(const struct align *a, const struct classifier *c,
    const struct diag_input *in, struct diag_hint *hint);

/* The code of one cause bit, e.g. "default-mail-from". */
const char *cause_code(unsigned bit);

/* The codes of causes joined with ';' in the fixed order ("" for none). */
void causes_format(unsigned causes, char *out, size_t len);

/* The fix for causes (may be 0: nothing in SES explains the failure). */
void fix_format(unsigned causes, const char *region, const char *header_from,
    const struct diag_hint *hint, char *out, size_t len);

#endif

/*
 * classify.h - which sending service a record's mail came through.
 *
 * Owns the table of known senders (one dated table in classify.c, each
 * entry with its source) and the user's additions to it (--sources FILE),
 * and reads the Amazon SES region from a MAIL FROM domain.
 *
 * Promises:
 *  - The strongest signal decides, in this order: the MAIL FROM (bounce)
 *    domain -- envelope_from, then the domains of the SPF results -- then
 *    the domains of *passing* DKIM signatures, then the source IP.  (A
 *    failing signature proves only that the message passed through the
 *    service once: forwarded or mailing-list copies carry them, sent from
 *    other addresses.)  Within each kind of signal the user's entries are
 *    tried before the built-in ones.
 *  - A domain entry matches the name itself and every name below it.
 *  - The SES region comes only from a MAIL FROM or SPF domain:
 *    amazonses.com is us-east-1, <region>.amazonses.com is that region;
 *    anything else, including SES recognised by DKIM or IP, is "unknown".
 *    It is never guessed.
 *  - Sources that match nothing have no name; callers name them by IP.
 *
 * The user file: one entry a line, "cidr_or_domain,name" (RFC 4180
 * quoting allowed in the name; blank lines, lines starting with '#' and a
 * header line "cidr_or_domain,name" are skipped).  The name "Amazon SES"
 * adds to SES (dedicated or BYOIP addresses, a changed range); the name
 * "-" takes a built-in entry away (an address range SES no longer uses).
 */
#ifndef DMARCSIFT_CLASSIFY_H
#define DMARCSIFT_CLASSIFY_H

#include <stddef.h>

#include "err.h"
#include "report.h"

#define SENDER_SES "Amazon SES"
#define REGION_UNKNOWN "unknown"
#define REGION_MAX 32

struct classifier;

enum signal {
	SIGNAL_NONE,   /* matched nothing */
	SIGNAL_BOUNCE, /* MAIL FROM or SPF domain */
	SIGNAL_DKIM,   /* a passing DKIM signature's d= */
	SIGNAL_IP,     /* source IP in a listed range */
};

struct sender {
	const char *name;	 /* NULL: unknown (name it by IP) */
	int ses;		 /* Amazon SES */
	char region[REGION_MAX]; /* SES only: a region or "unknown" */
	enum signal via;
};

/* Builds the classifier from the built-in table and, when user_file is
 * not NULL, the user's entries. */
int classify_open(struct classifier **out, const char *user_file,
    struct err *e);
void classify_close(struct classifier *c);

/* Classifies one record (or group of records). */
void classify(const struct classifier *c, const char *source_ip,
    const char *envelope_from, const struct dmarc_spf *spf, size_t nspf,
    const struct dmarc_dkim *dkim, size_t ndkim, struct sender *out);

/* 1 when domain is amazonses.com or below it, with the region written to
 * region ("unknown" unless the name is exactly amazonses.com or
 * <region>.amazonses.com with a well-formed region); 0 otherwise. */
int classify_ses_domain(const char *domain, char *region, size_t len);

/* 1 when ip is inside SES's address ranges (built-in or the user's). */
int classify_ip_is_ses(const struct classifier *c, const char *ip);

/* When the built-in table was last checked against its sources. */
const char *classify_table_date(void);

#endif

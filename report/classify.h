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
 *  - After the address: the source's forward-confirmed PTR name (the
 *    input's, else the names attached with classify_attach_names(); an
 *    unconfirmed name is never used): the user's domain entries, then a
 *    name under smtp-out.[<region>.]amazonses.com (an SES host), then the
 *    PTR table of classify-host.c (*.outbound.protection.outlook.com...);
 *    such a sender says via SIGNAL_PTR.
 *  - The SES region comes from ses-region.h, with its evidence: the MAIL
 *    FROM, the amazonses.com DKIM selector, the PTR, the /24 table, in
 *    that order; a region nothing shows is "unknown", never guessed.
 *  - Mail changed in transit (classify_in_transit()) is never SES: its
 *    MAIL FROM and signatures name the original sender, so only its
 *    address classifies it (a forwarder in Google's ranges is "Google
 *    Workspace").
 *  - Sources that match nothing have no name; callers name them by IP.
 *
 * The user file: one entry a line, "cidr_or_domain,name" (RFC 4180
 * quoting allowed in the name; blank lines, lines starting with '#' and a
 * header line "cidr_or_domain,name" are skipped).  The name "Amazon SES"
 * adds to SES (dedicated or BYOIP addresses, a changed range); the name
 * "-" takes a built-in entry away (an address range SES no longer uses).
 * Lines "ses-selector:<selector>,<region>" and "ses-prefix:<cidr>,<region>"
 * add to (or, with region "-", take away from) the SES region tables
 * (ses-region.h).
 */
#ifndef DMARCSIFT_CLASSIFY_H
#define DMARCSIFT_CLASSIFY_H

#include <stddef.h>

#include "err.h"
#include "report.h"
#include "ses-region.h"

#define SENDER_SES "Amazon SES"

struct classifier;

enum signal {
	SIGNAL_NONE,   /* matched nothing */
	SIGNAL_BOUNCE, /* MAIL FROM or SPF domain */
	SIGNAL_DKIM,   /* a passing DKIM signature's d= */
	SIGNAL_IP,     /* source IP in a listed range */
	SIGNAL_PTR,    /* forward-confirmed PTR of an SES host */
};

struct sender {
	const char *name;	 /* NULL: unknown (name it by IP) */
	int ses;		 /* Amazon SES */
	char region[REGION_MAX]; /* SES only: a region or "unknown" */
	enum signal via;
	int in_transit; /* classify_in_transit(): never SES */
	/* SES only: how the region is known, what disagreed ("" when
	 * nothing did), an amazonses.com selector in no table (points into
	 * the input's dkim array) or NULL */
	enum region_evidence evidence;
	char note[REGION_NOTE_MAX];
	const char *unknown_selector;
};

/* What classify_record() reads of a record (or group of records). */
struct classify_input {
	const char *source_ip;	   /* NULL: none reported */
	const char *ptr;	   /* forward-confirmed PTR name, NULL: unknown */
	const char *envelope_from; /* NULL: absent */
	const struct dmarc_spf *spf;
	size_t nspf;
	const struct dmarc_dkim *dkim;
	size_t ndkim;
};

/* Builds the classifier from the built-in table and, when user_file is
 * not NULL, the user's entries. */
int classify_open(struct classifier **out, const char *user_file,
    struct err *e);
void classify_close(struct classifier *c);

/* Hands the names of source addresses (source-names.h) to c, which owns
 * them from then on (classify_close frees them): classify_record() takes
 * the PTR from there when the input has none.  names may be NULL. */
struct source_names;
void classify_attach_names(struct classifier *c, struct source_names *names);

/* The names attached, or NULL. */
const struct source_names *classify_names(const struct classifier *c);

/* The sender a PTR name names by the PTR table (classify-host.c), or
 * NULL: SES's names are ses_ptr_region()'s. */
const char *classify_ptr_sender(const char *ptr);

/* "mail-from", "dkim", "ip" or "ptr": what named the sender; NULL for
 * SIGNAL_NONE. */
const char *classify_signal_name(enum signal s);

/* Classifies one record (or group of records). */
void classify_record(const struct classifier *c,
    const struct classify_input *in, struct sender *out);

/* classify_record() without a PTR name of its own: the names attached
 * (classify_attach_names()) may still give one. */
void classify(const struct classifier *c, const char *source_ip,
    const char *envelope_from, const struct dmarc_spf *spf, size_t nspf,
    const struct dmarc_dkim *dkim, size_t ndkim, struct sender *out);

/* 1 when domain is amazonses.com or below it, with the region written to
 * region ("unknown" unless the name is exactly amazonses.com or
 * <region>.amazonses.com with a well-formed region); 0 otherwise. */
int classify_ses_domain(const char *domain, char *region, size_t len);

/* 1 when ip is inside SES's address ranges (built-in or the user's). */
int classify_ip_is_ses(const struct classifier *c, const char *ip);

/*
 * 1 when the input is SES mail that a host other than SES delivered with
 * SES's marks broken: a forwarder, mailing list or gateway changed it in
 * transit, which no SES setting fixes.  That is: an amazonses.com
 * signature is there and none passes (SES signs every message it sends,
 * from dedicated and BYOIP addresses too), or the MAIL FROM is SES's and
 * SPF says fail or softfail for the address; SPF for an SES MAIL FROM
 * does not pass; and the address is known, in none of SES's ranges and
 * not named like an SES host.
 */
int classify_in_transit(const struct classifier *c,
    const struct classify_input *in);

/* When the built-in table was last checked against its sources. */
const char *classify_table_date(void);

#endif

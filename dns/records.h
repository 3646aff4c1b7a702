/*
 * records.h - reading the DNS records check-dns looks at: a DMARC policy
 * record (RFC 7489 section 6.3, with RFC 9989's np and t), and an SPF
 * policy evaluated for what it costs (RFC 7208): the DNS lookups it needs
 * (limit 10, section 4.6.4), its void lookups (limit 2), its syntax, and
 * whether it authorises a given domain's include (amazonses.com).
 *
 * Promises: parsing never trusts the text (every value is checked and
 * bounded); problems are returned as text for a finding, with the record
 * quoted through dns_escape().  The SPF walk asks the given struct dns,
 * follows include and redirect at most 10 levels deep and never the same
 * domain twice.
 */
#ifndef DMARCSIFT_RECORDS_H
#define DMARCSIFT_RECORDS_H

#include <stddef.h>

#include "dns.h"

#define RECORDS_MAX_URIS 8

struct dmarc_policy {
	char p[16], sp[16], np[16]; /* "" when absent */
	int pct;                    /* -1 when absent */
	char adkim, aspf;           /* 'r', 's', or 0 when absent */
	char rua[RECORDS_MAX_URIS][DNS_NAME_MAX]; /* domains of mailto: */
	size_t nrua;
	char ruf[RECORDS_MAX_URIS][DNS_NAME_MAX];
	size_t nruf;
	char t; /* 'y', 'n' or 0 */
};

/* 1 when txt is a DMARC record (starts with v=DMARC1), else 0. */
int records_is_dmarc(const char *txt);

/* Parses a DMARC record; -1 with the reason in why (a finding's text)
 * when it is not valid: a bad p/sp/np/pct/adkim/aspf value or a rua/ruf
 * that is not a mailto: URI.  Unknown tags are ignored (RFC 9989). */
int records_dmarc_parse(const char *txt, struct dmarc_policy *out, char *why,
                        size_t len);

/* 1 when txt is an SPF record ("v=spf1" then a space or the end). */
int records_is_spf(const char *txt);

struct spf_eval {
	int records;                /* SPF records at the domain (1 is right) */
	unsigned lookups;           /* DNS-querying terms, includes followed */
	unsigned voids;             /* lookups that found no records */
	int authorises;             /* includes `want` (directly or nested) */
	int all_pass;               /* ends with +all (or all) */
	int uses_ptr;               /* the ptr mechanism (do not use, 5.5) */
	int too_deep;               /* nesting over 10 */
	char syntax[384];           /* the first syntax error, or "" */
	char text[DNS_TXT_MAX + 1]; /* the record at the top, as found */
};

/* Reads and evaluates the SPF record of domain; `want` (may be NULL) is
 * the include looked for.  -1 only when DNS cannot be reached (e). */
int records_spf_eval(struct dns *d, const char *domain, const char *want,
                     struct spf_eval *out, struct err *e);

/* The SES region named by a host name under amazonses.com:
 * feedback-smtp.<region>.amazonses.com, <x>.smtp-out.<region>.amazonses.com
 * (smtp-out.amazonses.com alone is us-east-1), <token>.dkim.<region>.
 * amazonses.com.  Writes it to out and returns 1, or 0 for other names. */
int records_ses_region(const char *name, const char *kind, char *out,
                       size_t len);

#endif

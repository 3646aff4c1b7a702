/*
 * check-dns-ses.c - the Amazon SES records of check-dns (see
 * check-dns.h): the custom MAIL FROM domain's MX and SPF, and the DKIM
 * records of the selectors SES signs with.  The fixes follow the SES
 * guide: exactly one MX for all regions (a second MX breaks the setup
 * everywhere), the SPF record on the MAIL FROM domain itself, Easy DKIM
 * CNAMEs to <token>.dkim.amazonses.com or the region's DKIM zone.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "check-dns.h"
#include "records.h"

#define ADD CHECK_ADD

static int
check_mx(struct dns *d, const char *mail_from, const char *region,
         struct findings *f, struct err *e)
{
	char fix[1400], r[64];
	const char *reg = region[0] ? region : "<region>";
	struct dns_answer a;
	int rc;

	if (dns_query(d, mail_from, DNS_T_MX, &a, e) == -1)
		return -1;
	if ((rc = check_unreadable(f, "mail-from-mx", mail_from, &a, e)) != 0) {
		dns_answer_free(&a);
		return rc < 0 ? -1 : 0;
	}
	if (a.n == 0) {
		snprintf(fix, sizeof(fix),
		         "publish exactly one MX at %s: 10 "
		         "feedback-smtp.%s.amazonses.com",
		         mail_from, reg);
		ADD(f, "mail-from-mx", mail_from, "error", fix,
		    "no MX record: "
		    "SES cannot use the custom MAIL FROM domain and falls back "
		    "to amazonses.com, so SPF does not align");
	} else if (a.n > 1) {
		snprintf(
		    fix, sizeof(fix),
		    "keep exactly one MX at %s, 10 "
		    "feedback-smtp.%s.amazonses.com; for another region, set "
		    "the MAIL FROM on that region's identity and keep this MX "
		    "(never add that region's MX)",
		    mail_from, reg);
		ADD(f, "mail-from-mx", mail_from, "error", fix,
		    "%zu MX "
		    "records: SES's custom MAIL FROM setup fails with more "
		    "than "
		    "one MX, in every region",
		    a.n);
	} else if (!records_ses_region(a.rr[0].target, "feedback-smtp", r,
	                               sizeof(r))) {
		snprintf(fix, sizeof(fix),
		         "point the one MX at %s to "
		         "feedback-smtp.%s.amazonses.com",
		         mail_from, reg);
		ADD(f, "mail-from-mx", mail_from, "error", fix,
		    "the MX points "
		    "to %s, not to SES's feedback-smtp.%s.amazonses.com",
		    a.rr[0].target[0] ? a.rr[0].target : "(null MX)", reg);
	} else {
		ADD(f, "mail-from-mx", mail_from, "ok", NULL, "one MX, to %s",
		    a.rr[0].target);
	}
	dns_answer_free(&a);
	return 0;
}

/* SPF at the MAIL FROM domain; "SPF on the wrong domain" when the parent
 * has the include and the MAIL FROM domain none. */
static int
check_mf_spf(struct dns *d, const char *domain, const char *mail_from,
             struct findings *f, struct spf_eval *ev, struct err *e)
{
	char fix[1400];

	snprintf(fix, sizeof(fix),
	         "publish TXT \"v=spf1 include:amazonses.com "
	         "~all\" at %s",
	         mail_from);
	if (records_spf_eval(d, mail_from, "amazonses.com", ev, e) == -1)
		return -1;
	if (ev->records > 1) {
		ADD(f, "mail-from-spf", mail_from, "error",
		    "merge them into "
		    "one record",
		    "%d SPF records: receivers return permerror", ev->records);
	} else if (ev->records == 1 && !ev->authorises) {
		ADD(f, "mail-from-spf", mail_from, "error",
		    "add "
		    "include:amazonses.com to the record",
		    "the SPF record does "
		    "not authorise amazonses.com, which sends as this MAIL "
		    "FROM "
		    "domain");
	} else if (ev->records == 1) {
		ADD(f, "mail-from-spf", mail_from, "ok", NULL,
		    "SPF authorises "
		    "amazonses.com (%u DNS lookups)",
		    ev->lookups);
	} else {
		if (strcasecmp(domain, mail_from) != 0 &&
		    records_spf_eval(d, domain, "amazonses.com", ev, e) == -1)
			return -1;
		if (strcasecmp(domain, mail_from) != 0 && ev->authorises)
			ADD(f, "mail-from-spf", mail_from, "error", fix,
			    "SPF on "
			    "the wrong domain: include:amazonses.com is in the "
			    "SPF of %s, but receivers check the MAIL FROM "
			    "domain %s, which has no SPF record",
			    domain, mail_from);
		else
			ADD(f, "mail-from-spf", mail_from, "error", fix,
			    "no SPF "
			    "record: SPF fails for mail SES sends with this "
			    "MAIL FROM domain");
	}
	return 0;
}

int
check_mail_from(struct dns *d, const char *domain, const char *mail_from,
                const char *region, char aspf, struct findings *f,
                struct err *e)
{
	struct spf_eval *ev;
	int rc;

	if (check_mx(d, mail_from, region, f, e) == -1)
		return -1;
	if ((ev = malloc(sizeof(*ev))) == NULL)
		return err_set(e, "out of memory");
	rc = check_mf_spf(d, domain, mail_from, f, ev, e);
	free(ev);
	if (rc == 0 && aspf == 's' && strcasecmp(domain, mail_from) != 0)
		ADD(f, "mail-from-spf", mail_from, "warning",
		    "use aspf=r (the "
		    "default) in the DMARC record, or rely on DKIM",
		    "aspf=s: "
		    "SPF of the MAIL FROM %s can never align with %s",
		    mail_from, domain);
	return rc;
}

/* Whether a DKIM record's text holds a key: a p= tag with a value. */
static int
has_key(const char *txt)
{
	const char *p = txt;

	while ((p = strstr(p, "p=")) != NULL) {
		const char *before = p;
		while (before > txt &&
		       (before[-1] == ' ' || before[-1] == '\t'))
			before--;
		if (before == txt || before[-1] == ';') {
			p += 2;
			while (*p == ' ' || *p == '\t')
				p++;
			return *p != '\0' && *p != ';';
		}
		p += 2;
	}
	return 0;
}

/* Whether any TXT record at name holds a DKIM key; -2 unreadable. */
static int
key_at(struct dns *d, const char *name, struct err *e)
{
	struct dns_answer a;
	int found = 0;

	if (dns_query(d, name, DNS_T_TXT, &a, e) == -1)
		return -1;
	for (size_t i = 0; i < a.n; i++)
		found |= has_key(a.rr[i].txt);
	if (a.status != DNS_OK && a.status != DNS_NXDOMAIN &&
	    a.status != DNS_NODATA)
		found = -2;
	dns_answer_free(&a);
	return found;
}

static int
check_cname(struct dns *d, const char *name, const char *selector,
            const char *target, struct findings *f, struct err *e)
{
	char want[DNS_NAME_MAX + 32], r[64];
	int key;

	snprintf(want, sizeof(want), "%s.dkim.amazonses.com", selector);
	if (strcasecmp(target, want) != 0 &&
	    (!records_ses_region(target, "dkim", r, sizeof(r)) ||
	     strncasecmp(target, selector, strlen(selector)) != 0))
		ADD(f, "dkim", name, "warning",
		    "copy the CNAME exactly as the "
		    "SES console shows it for this identity",
		    "the CNAME points "
		    "to %s, not to %s or the region's DKIM zone",
		    target, want);
	if ((key = key_at(d, target, e)) == -1)
		return -1;
	if (key == 1)
		ADD(f, "dkim", name, "ok", NULL,
		    "CNAME to %s, which holds a "
		    "key",
		    target);
	else if (key == -2)
		ADD(f, "dkim", name, "warning", "check again later",
		    "the "
		    "CNAME's target %s could not be read",
		    target);
	else
		ADD(f, "dkim", name, "error",
		    "copy the CNAME again from the "
		    "SES console (a token of a deleted identity finds no key)",
		    "the CNAME points to %s, which holds no DKIM key: "
		    "signatures with this selector fail",
		    target);
	return 0;
}

int
check_dkim(struct dns *d, const char *dkim_domain, const char *selector,
           const char *region, struct findings *f, struct err *e)
{
	char name[DNS_NAME_MAX], raw[DNS_NAME_MAX * 2], fix[1400];
	struct dns_answer a;
	int key, rc = 0;

	snprintf(raw, sizeof(raw), "%s._domainkey.%s", selector, dkim_domain);
	if (dns_name_check(raw, name, sizeof(name), 1) == -1)
		return 0; /* not a name DNS can hold: nothing to ask */
	if (dns_query(d, name, DNS_T_CNAME, &a, e) == -1)
		return -1;
	if ((rc = check_unreadable(f, "dkim", name, &a, e)) != 0) {
		dns_answer_free(&a);
		return rc < 0 ? -1 : 0;
	}
	if (a.n > 0) {
		rc = check_cname(d, name, selector, a.rr[0].target, f, e);
		dns_answer_free(&a);
		return rc;
	}
	dns_answer_free(&a);
	if ((key = key_at(d, name, e)) == -1)
		return -1;
	if (key == 1) {
		ADD(f, "dkim", name, "ok", NULL,
		    "TXT with a key (BYODKIM or "
		    "manual signing)");
		return 0;
	}
	snprintf(
	    fix, sizeof(fix),
	    "publish CNAME %s -> %s.dkim.amazonses.com "
	    "(dkim.%s.amazonses.com in the regions with their own DKIM zone) "
	    "as the SES console shows it; for BYODKIM, a TXT with your "
	    "public key",
	    name, selector, region[0] ? region : "<region>");
	ADD(f, "dkim", name, "error", fix,
	    "no DKIM record: mail SES signs "
	    "with selector %s fails DKIM",
	    selector);
	return 0;
}

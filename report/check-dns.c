/*
 * check-dns.c - the checks of check-dns (see check-dns.h).  Each reads
 * what DNS says now and adds findings; a record that cannot be read
 * (timeout, SERVFAIL) is a warning of its own, never a guess.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "align.h"
#include "check-dns.h"
#include "records.h"

#define TEXT_MAX 1024

int
finding_add(struct findings *f, const char *check, const char *name,
            const char *severity, const char *fix, const char *fmt, ...)
{
	struct finding *grown, *x;
	char text[TEXT_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (f->n == f->cap) {
		size_t cap = f->cap ? f->cap * 2 : 16;
		if ((grown = realloc(f->v, cap * sizeof(*grown))) == NULL)
			return -1;
		f->v = grown;
		f->cap = cap;
	}
	x = &f->v[f->n];
	x->domain = strdup(f->domain);
	x->check = strdup(check);
	x->name = strdup(name);
	x->severity = strdup(severity);
	x->text = strdup(text);
	x->fix = fix ? strdup(fix) : NULL;
	if (!x->domain || !x->check || !x->name || !x->severity || !x->text ||
	    (fix && !x->fix)) {
		free(x->domain), free(x->check), free(x->name);
		free(x->severity), free(x->text), free(x->fix);
		return -1;
	}
	f->n++;
	return 0;
}

void
findings_free(struct findings *f)
{
	for (size_t i = 0; i < f->n; i++) {
		struct finding *x = &f->v[i];
		free(x->domain), free(x->check), free(x->name);
		free(x->severity), free(x->text), free(x->fix);
	}
	free(f->v);
	memset(f, 0, sizeof(*f));
}

#define ADD CHECK_ADD

int
check_unreadable(struct findings *f, const char *check, const char *name,
                 const struct dns_answer *a, struct err *e)
{
	if (a->status == DNS_OK || a->status == DNS_NXDOMAIN ||
	    a->status == DNS_NODATA)
		return 0;
	ADD(f, check, name, "warning",
	    "check again later; the domain's name servers must answer",
	    "could not be read: %s", dns_status_name(a->status));
	return 1;
}

/* The authorisation record of an external rua destination (RFC 7489
 * section 7.1). */
static int
check_external(struct dns *d, const struct align *al, const char *domain,
               const char *dest, struct findings *f, struct err *e)
{
	char od[ALIGN_NAME_MAX], odest[ALIGN_NAME_MAX], name[600], fix[1400];
	struct dns_answer a;
	int ok = 0, rc;

	if (align_org_domain(al, domain, od, sizeof(od)) == -1 ||
	    align_org_domain(al, dest, odest, sizeof(odest)) == -1 ||
	    strcmp(od, odest) == 0)
		return 0;
	snprintf(name, sizeof(name), "%s._report._dmarc.%s", domain, dest);
	if (dns_query(d, name, DNS_T_TXT, &a, e) == -1)
		return -1;
	for (size_t i = 0; i < a.n; i++)
		ok |= records_is_dmarc(a.rr[i].txt);
	if ((rc = check_unreadable(f, "dmarc-rua", name, &a, e)) != 0) {
		dns_answer_free(&a);
		return rc < 0 ? -1 : 0;
	}
	dns_answer_free(&a);
	if (ok) {
		ADD(f, "dmarc-rua", name, "ok", NULL,
		    "%s accepts reports "
		    "for %s",
		    dest, domain);
		return 0;
	}
	snprintf(fix, sizeof(fix),
	         "ask the operator of %s to publish TXT "
	         "\"v=DMARC1\" at %s, or send rua to an address in %s",
	         dest, name, od);
	ADD(f, "dmarc-rua", name, "error", fix,
	    "rua sends reports to %s, "
	    "another organisation, which does not authorise them: receivers "
	    "drop those reports (RFC 7489 section 7.1)",
	    dest);
	return 0;
}

/* The findings on a valid DMARC record. */
static int
dmarc_policy(struct dns *d, const struct align *al, const char *domain,
             const char *name, const struct dmarc_policy *pol,
             struct findings *f, struct err *e)
{
	char fix[1400];

	ADD(f, "dmarc", name, "ok", NULL,
	    "one DMARC record: p=%s%s%s%s%s "
	    "adkim=%c aspf=%c pct=%d, %zu rua",
	    pol->p[0] ? pol->p : "(none)", pol->sp[0] ? " sp=" : "", pol->sp,
	    pol->np[0] ? " np=" : "", pol->np, pol->adkim ? pol->adkim : 'r',
	    pol->aspf ? pol->aspf : 'r', pol->pct < 0 ? 100 : pol->pct,
	    pol->nrua);
	if (pol->p[0] == '\0')
		ADD(f, "dmarc", name, "warning",
		    "add p=none (then quarantine, "
		    "then reject) to the record",
		    "no p= tag: receivers treat "
		    "it as p=none");
	else if (strcmp(pol->p, "none") == 0)
		ADD(f, "dmarc", name, "info",
		    "once `dmarc-report policy` "
		    "shows all your sources pass, publish p=quarantine (then "
		    "reject)",
		    "p=none: receivers report but quarantine nothing");
	if (pol->pct >= 0 && pol->pct < 100)
		ADD(f, "dmarc", name, "info", "pct=100, or remove the tag",
		    "pct=%d: the policy applies to %d%% of failing mail "
		    "(RFC 9989 removed pct)",
		    pol->pct, pol->pct);
	if (pol->nrua == 0) {
		snprintf(fix, sizeof(fix),
		         "add rua=mailto:dmarc-reports@%s "
		         "(an address that reaches dmarc-ingest)",
		         domain);
		ADD(f, "dmarc", name, "warning", fix,
		    "no rua: no aggregate "
		    "reports are sent for %s",
		    domain);
	}
	for (size_t i = 0; i < pol->nrua; i++)
		if (check_external(d, al, domain, pol->rua[i], f, e) == -1)
			return -1;
	return 0;
}

int
check_dmarc(struct dns *d, const struct align *al, const char *domain,
            struct findings *f, char *aspf, struct err *e)
{
	char name[DNS_NAME_MAX + 8], why[256], fix[1400];
	struct dmarc_policy pol;
	struct dns_answer a;
	const char *txt = NULL;
	int n = 0, rc;

	*aspf = 0;
	snprintf(name, sizeof(name), "_dmarc.%s", domain);
	if (dns_query(d, name, DNS_T_TXT, &a, e) == -1)
		return -1;
	if ((rc = check_unreadable(f, "dmarc", name, &a, e)) != 0) {
		dns_answer_free(&a);
		return rc < 0 ? -1 : 0;
	}
	for (size_t i = 0; i < a.n; i++)
		if (records_is_dmarc(a.rr[i].txt) && n++ == 0)
			txt = a.rr[i].txt;
	if (n == 0) {
		dns_answer_free(&a);
		snprintf(fix, sizeof(fix),
		         "publish TXT \"v=DMARC1; p=none; "
		         "rua=mailto:dmarc-reports@%s\" at %s",
		         domain, name);
		ADD(f, "dmarc", name, "error", fix, "no DMARC record");
		return 0;
	}
	if (n > 1) {
		dns_answer_free(&a);
		snprintf(fix, sizeof(fix),
		         "keep exactly one TXT record "
		         "starting v=DMARC1 at %s",
		         name);
		ADD(f, "dmarc", name, "error", fix,
		    "%d DMARC records: "
		    "receivers ignore them all, as if there were none (RFC "
		    "7489 section 6.6.3)",
		    n);
		return 0;
	}
	if (records_dmarc_parse(txt, &pol, why, sizeof(why)) == -1) {
		dns_answer_free(&a);
		ADD(f, "dmarc", name, "error",
		    "correct the record (RFC 7489 "
		    "section 6.3)",
		    "the DMARC record is invalid: %s", why);
		return 0;
	}
	dns_answer_free(&a);
	*aspf = pol.aspf ? pol.aspf : 'r';
	rc = dmarc_policy(d, al, domain, name, &pol, f, e);
	return rc;
}

/* The findings of one evaluated SPF record. */
static int
spf_findings(const char *name, const struct spf_eval *ev, struct findings *f,
             struct err *e)
{
	int bad = 0;

	if (ev->records > 1) {
		ADD(f, "spf", name, "error", "merge them into one record",
		    "%d SPF records: receivers return permerror", ev->records);
		return 0;
	}
	if (ev->syntax[0] != '\0') {
		bad = 1;
		ADD(f, "spf", name, "error",
		    "correct the record "
		    "(RFC 7208 section 12)",
		    "%s", ev->syntax);
	}
	if (ev->lookups > 10) {
		bad = 1;
		ADD(f, "spf", name, "error",
		    "remove includes of "
		    "services you no longer use, or replace some with their "
		    "ip4/ip6 ranges",
		    "needs %u DNS lookups; the limit is 10 "
		    "(RFC 7208 section 4.6.4): receivers return permerror",
		    ev->lookups);
	}
	if (ev->voids > 2) {
		bad = 1;
		ADD(f, "spf", name, "error",
		    "remove the terms that "
		    "name domains without records",
		    "%u lookups find nothing "
		    "(void); the limit is 2: receivers return permerror",
		    ev->voids);
	}
	if (ev->too_deep) {
		bad = 1;
		ADD(f, "spf", name, "error", "flatten the includes",
		    "includes nest deeper than 10");
	}
	if (ev->all_pass) {
		bad = 1;
		ADD(f, "spf", name, "error",
		    "end the record with "
		    "~all or -all",
		    "+all authorises every host on the "
		    "Internet");
	}
	if (ev->uses_ptr)
		ADD(f, "spf", name, "warning",
		    "replace ptr with ip4/ip6 or "
		    "a",
		    "the ptr mechanism is slow and many receivers skip it "
		    "(RFC 7208 section 5.5: do not use)");
	if (!bad)
		ADD(f, "spf", name, "ok", NULL,
		    "one SPF record, %u DNS "
		    "lookups, %u void",
		    ev->lookups, ev->voids);
	return 0;
}

int
check_spf(struct dns *d, const char *domain, struct findings *f, struct err *e)
{
	struct spf_eval *ev;
	int rc = 0;

	if ((ev = malloc(sizeof(*ev))) == NULL)
		return err_set(e, "out of memory");
	if (records_spf_eval(d, domain, NULL, ev, e) == -1)
		rc = -1;
	else if (ev->records == 0 &&
	         finding_add(
	             f, "spf", domain, "warning",
	             "publish one SPF record "
	             "listing the services that send as this domain (\"v=spf1 "
	             "-all\" if none does)",
	             "no SPF record") == -1)
		rc = err_set(e, "out of memory");
	else if (ev->records > 0)
		rc = spf_findings(domain, ev, f, e);
	free(ev);
	return rc;
}

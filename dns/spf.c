/*
 * spf.c - an SPF policy evaluated for what it costs, not for an address
 * (see records.h): the terms that query DNS are counted through includes
 * and redirects, as RFC 7208 section 4.6.4 counts them (include, a, mx,
 * ptr, exists, redirect), and so are the void lookups (an a, mx, include
 * or redirect that finds nothing).  Domain specs with macros are counted
 * but not followed (their names depend on the message).
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "records.h"

#define SPF_DEPTH_MAX 10
#define SPF_SEEN_MAX  32

struct walk {
	struct dns *d;
	const char *want;
	struct spf_eval *out;
	char seen[SPF_SEEN_MAX][DNS_NAME_MAX];
	int nseen;
};

int
records_is_spf(const char *txt)
{
	return strncasecmp(txt, "v=spf1", 6) == 0 &&
	       (txt[6] == '\0' || txt[6] == ' ');
}

static void
syntax(struct walk *w, const char *fmt, const char *a, const char *b)
{
	char ea[128], eb[128];

	if (w->out->syntax[0] != '\0')
		return;
	dns_escape(a, ea, sizeof(ea));
	dns_escape(b ? b : "", eb, sizeof(eb));
	snprintf(w->out->syntax, sizeof(w->out->syntax), fmt, ea, eb);
}

/* Whether domain was followed already (a loop, or an include twice);
 * remembers it otherwise. */
static int
seen(struct walk *w, const char *domain)
{
	for (int i = 0; i < w->nseen; i++)
		if (strcasecmp(w->seen[i], domain) == 0)
			return 1;
	if (w->nseen < SPF_SEEN_MAX)
		snprintf(w->seen[w->nseen++], DNS_NAME_MAX, "%s", domain);
	return 0;
}

/* An a or mx lookup: counted, and void when it finds nothing. */
static int
lookup_void(struct walk *w, const char *name, int type, struct err *e)
{
	struct dns_answer a;

	if (strchr(name, '%') != NULL)
		return 0;
	if (dns_query(w->d, name, type, &a, e) == -1)
		return -1;
	if (a.status == DNS_NXDOMAIN || a.status == DNS_NODATA)
		w->out->voids++;
	dns_answer_free(&a);
	return 0;
}

static int eval(struct walk *w, const char *domain, int depth, int top,
                struct err *e);

static int
ip_ok(const char *v, int family)
{
	char buf[64], *slash;
	unsigned char bin[16];
	long bits;

	snprintf(buf, sizeof(buf), "%s", v);
	if ((slash = strchr(buf, '/')) != NULL) {
		bits = strtol(slash + 1, NULL, 10);
		if (slash[1] < '0' || slash[1] > '9' || bits < 0 ||
		    bits > (family == AF_INET ? 32 : 128))
			return 0;
		*slash = '\0';
	}
	return inet_pton(family, buf, bin) == 1;
}

/* One term of a record.  *redirect gets a redirect= target. */
static int
term(struct walk *w, const char *domain, char *t, int depth, int top,
     char *redirect, int *has_all, struct err *e)
{
	char q = '+', *v = NULL, *eq, *colon;
	const char *target;

	if (*t == '+' || *t == '-' || *t == '~' || *t == '?')
		q = *t++;
	eq = strchr(t, '=');
	colon = strpbrk(t, ":/");
	if (eq != NULL && (colon == NULL || eq < colon)) { /* a modifier */
		*eq = '\0';
		if (strcasecmp(t, "redirect") == 0)
			snprintf(redirect, DNS_NAME_MAX, "%s", eq + 1);
		return 0;
	}
	if (colon != NULL && *colon == ':') {
		*colon = '\0';
		v = colon + 1;
	} else if (colon != NULL) { /* a/24, mx/24 */
		*colon = '\0';
	}
	target = v != NULL ? v : domain;
	if (strcasecmp(t, "all") == 0) {
		*has_all = 1;
		if (top && q == '+')
			w->out->all_pass = 1;
	} else if (strcasecmp(t, "include") == 0) {
		w->out->lookups++;
		if (v == NULL || *v == '\0')
			syntax(w, "include without a domain%s%s", "", NULL);
		else if (w->want != NULL && strcasecmp(v, w->want) == 0)
			w->out->authorises = 1;
		if (v != NULL && *v != '\0' && strchr(v, '%') == NULL &&
		    !seen(w, v))
			return eval(w, v, depth + 1, 0, e);
	} else if (strcasecmp(t, "a") == 0 || strcasecmp(t, "mx") == 0) {
		w->out->lookups++;
		return lookup_void(
		    w, target, strcasecmp(t, "a") == 0 ? DNS_T_A : DNS_T_MX, e);
	} else if (strcasecmp(t, "ptr") == 0) {
		w->out->lookups++;
		w->out->uses_ptr = 1;
	} else if (strcasecmp(t, "exists") == 0) {
		w->out->lookups++;
	} else if (strcasecmp(t, "ip4") == 0 || strcasecmp(t, "ip6") == 0) {
		if (v == NULL || !ip_ok(v, t[2] == '4' ? AF_INET : AF_INET6))
			syntax(w, "%s:%s is not an address or network", t,
			       v ? v : "");
	} else {
		syntax(w, "unknown mechanism '%s' (permerror)%s", t, NULL);
	}
	(void)top;
	return 0;
}

/* The SPF record of domain: found, counted, its terms walked. */
static int
eval(struct walk *w, const char *domain, int depth, int top, struct err *e)
{
	struct dns_answer a;
	char rec[DNS_TXT_MAX + 1], redirect[DNS_NAME_MAX] = "", *t, *save;
	int nrec = 0, has_all = 0, rc = 0;

	if (depth > SPF_DEPTH_MAX) {
		w->out->too_deep = 1;
		return 0;
	}
	if (dns_query(w->d, domain, DNS_T_TXT, &a, e) == -1)
		return -1;
	for (size_t i = 0; i < a.n; i++)
		if (records_is_spf(a.rr[i].txt) && nrec++ == 0)
			snprintf(rec, sizeof(rec), "%s", a.rr[i].txt);
	if (top) {
		w->out->records = nrec;
		if (nrec > 0)
			snprintf(w->out->text, sizeof(w->out->text), "%s", rec);
	}
	if (nrec == 0 && !top &&
	    (a.status == DNS_NXDOMAIN || a.status == DNS_NODATA))
		w->out->voids++;
	dns_answer_free(&a);
	if (nrec == 0) {
		if (!top)
			syntax(w,
			       "%s has no SPF record, so the include or "
			       "redirect that names it is a permerror%s",
			       domain, NULL);
		return 0;
	}
	if (nrec > 1 && !top)
		syntax(w, "%s has more than one SPF record (permerror)%s",
		       domain, NULL);
	for (t = strtok_r(rec + 6, " ", &save); t != NULL && rc == 0;
	     t = strtok_r(NULL, " ", &save))
		rc = term(w, domain, t, depth, top, redirect, &has_all, e);
	if (rc == 0 && redirect[0] != '\0' && !has_all) {
		w->out->lookups++;
		if (w->want != NULL && strcasecmp(redirect, w->want) == 0)
			w->out->authorises = 1;
		if (strchr(redirect, '%') == NULL && !seen(w, redirect))
			rc = eval(w, redirect, depth + 1, 0, e);
	}
	return rc;
}

int
records_spf_eval(struct dns *d, const char *domain, const char *want,
                 struct spf_eval *out, struct err *e)
{
	struct walk *w;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((w = calloc(1, sizeof(*w))) == NULL)
		return err_set(e, "out of memory");
	w->d = d;
	w->want = want;
	w->out = out;
	seen(w, domain);
	rc = eval(w, domain, 0, 1, e);
	free(w);
	return rc;
}

/*
 * view-policy.c - see view-policy.h.
 */
#include "view-policy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "command.h"
#include "strmap.h"
#include "text.h"

/* Unidentified sources the reason names at most. */
#define REASON_UNKNOWN_MAX 20

/* While summing: per domain, its sources. */
struct acc_domain {
	struct strmap sources; /* name US region -> struct policy_source */
	struct strmap addrs;   /* name US region US ip: addresses counted */
	uint64_t messages, dmarc_pass;
};

struct walk {
	const struct classifier *cl;
	double tolerance;
	struct strmap domains; /* domain -> struct acc_domain */
	struct policy_domain *out;
	size_t n, cap;
};

/* An unidentified source's addresses: the one it has, with its DNS name,
 * or how many (the organisation's, grouped by name). */
static int
count_address(struct acc_domain *d, struct policy_source *s, const char *key,
              const char *ip, const struct source_name *dns)
{
	const char *parts[2] = {key, ip};
	char k[512];
	int created;

	strmap_key(k, sizeof(k), parts, 2);
	if (strmap_upsert(&d->addrs, k, 1, &created) == NULL)
		return -1;
	if (!created)
		return 0;
	if (++s->ips > 1) {
		snprintf(s->dns_name, sizeof(s->dns_name), "%s", s->name);
		s->addr[0] = '\0';
		s->name_state = NAME_CONFIRMED;
		return 0;
	}
	snprintf(s->addr, sizeof(s->addr), "%s", ip);
	if (dns != NULL) {
		snprintf(s->dns_name, sizeof(s->dns_name), "%s", dns->name);
		s->name_state = dns->confirmed ? NAME_CONFIRMED
		                               : NAME_UNCONFIRMED;
	}
	return 0;
}

static int
add_group(void *arg, const struct store_group *g, struct err *e)
{
	struct walk *w = arg;
	struct acc_domain *d;
	struct policy_source *s;
	struct source_id id;
	const char *parts[2];
	char key[256];

	source_identify(w->cl, g, &id);
	if ((d = strmap_upsert(&w->domains, g->domain ? g->domain : "",
	                       sizeof(*d), NULL)) == NULL)
		return err_set(e, "out of memory");
	parts[0] = id.label;
	parts[1] = id.region;
	strmap_key(key, sizeof(key), parts, 2);
	if ((s = strmap_upsert(&d->sources, key, sizeof(*s), NULL)) == NULL)
		return err_set(e, "out of memory");
	if (s->name[0] == '\0') {
		snprintf(s->name, sizeof(s->name), "%s", id.label);
		snprintf(s->region, sizeof(s->region), "%s", id.region);
		s->known = id.snd.name != NULL;
	}
	if (!s->known && g->source_ip != NULL &&
	    count_address(d, s, key, g->source_ip, id.dns) == -1)
		return err_set(e, "out of memory");
	s->messages += g->messages;
	s->dmarc_pass += g->dmarc_pass;
	d->messages += g->messages;
	d->dmarc_pass += g->dmarc_pass;
	return 0;
}

static int
by_messages(const void *a, const void *b)
{
	const struct policy_source *x = a, *y = b;

	return source_cmp(x->messages, x->addr[0] ? x->addr : x->name,
	    x->region, y->messages, y->addr[0] ? y->addr : y->name,
	    y->region);
}

static void
free_acc(void *v)
{
	strmap_free(&((struct acc_domain *)v)->sources, NULL);
	strmap_free(&((struct acc_domain *)v)->addrs, NULL);
}

static void
copy(char *dst, size_t len, const char *src)
{
	snprintf(dst, len, "%s", src != NULL ? src : "");
}

static void
copy_published(struct policy_published *p, const struct dmarc_meta *m)
{
	copy(p->domain, sizeof(p->domain), m->domain);
	copy(p->org_name, sizeof(p->org_name), m->org_name);
	copy(p->p, sizeof(p->p), m->p);
	copy(p->sp, sizeof(p->sp), m->sp);
	copy(p->np, sizeof(p->np), m->np);
	copy(p->adkim, sizeof(p->adkim), m->adkim);
	copy(p->aspf, sizeof(p->aspf), m->aspf);
	copy(p->testing, sizeof(p->testing), m->testing);
	p->pct = m->pct;
	p->begin = m->begin;
}

/* Flags the sources that block the verdict and sets it. */
static void
judge(struct policy_domain *d, double tolerance)
{
	/* in parts per million, so that 0.3% of 1,000 is exactly 3 */
	long double ppm = (long double)(uint64_t)(tolerance * 10000.0 + 0.5);
	size_t i;

	d->tolerance = tolerance;
	for (i = 0; i < d->nsources; i++) {
		struct policy_source *s = &d->sources[i];
		uint64_t fail = s->messages - s->dmarc_pass;

		/* long double: products of counts up to 2^53 stay exact
		 * enough to compare */
		if (s->known) {
			d->known_fail += fail;
			s->flagged = (long double)fail * 1000000.0L >
			             (long double)s->messages * ppm;
			d->known_flagged += (size_t)s->flagged;
		} else {
			d->unknown_fail += fail;
			s->flagged =
			    (long double)fail * 1000000.0L >
			    (long double)d->messages * UNIDENTIFIED_PPM;
			d->unknown_flagged += (size_t)s->flagged;
		}
	}
	if (d->messages == 0)
		d->verdict = VERDICT_REVIEW;
	else if (d->known_flagged + d->unknown_flagged > 0)
		d->verdict = VERDICT_NOT_READY;
	else
		d->verdict = VERDICT_READY;
}

/* Moves one domain's sources out of the map into d->sources, sorted. */
static int
take_sources(struct policy_domain *d, struct acc_domain *a, struct err *e)
{
	size_t i, n = strmap_len(&a->sources);

	d->messages = a->messages;
	d->dmarc_pass = a->dmarc_pass;
	if (n == 0)
		return 0;
	if ((d->sources = calloc(n, sizeof(*d->sources))) == NULL)
		return err_set(e, "out of memory");
	for (i = 0; i < n; i++)
		d->sources[i] =
		    *(struct policy_source *)strmap_at(&a->sources, i)->value;
	d->nsources = n;
	qsort(d->sources, n, sizeof(*d->sources), by_messages);
	return 0;
}

static int
one_domain(void *arg, const struct store_domain *sd, struct err *e)
{
	struct walk *w = arg;
	struct policy_domain *d, *grown;
	struct acc_domain *a;

	if (w->n == w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 8;

		if ((grown = realloc(w->out, cap * sizeof(*grown))) == NULL)
			return err_set(e, "out of memory");
		w->out = grown;
		w->cap = cap;
	}
	d = &w->out[w->n++];
	memset(d, 0, sizeof(*d));
	copy_published(&d->pub, sd->latest);
	d->first = sd->first;
	d->last = sd->last;
	d->reports = sd->reports;
	d->days = sd->days;
	a = strmap_get(&w->domains, d->pub.domain);
	if (a != NULL && take_sources(d, a, e) == -1)
		return -1;
	judge(d, w->tolerance);
	return 0;
}

int
policy_collect(struct store *st, const struct store_filter *f,
               const struct classifier *cl, double tolerance,
               struct policy_view *v, struct err *e)
{
	struct walk w;
	int rc;

	memset(v, 0, sizeof(*v));
	memset(&w, 0, sizeof(w));
	w.cl = cl;
	w.tolerance = tolerance;
	rc = store_each_group(st, f, add_group, &w, e);
	if (rc == 0)
		rc = store_each_domain(st, f, one_domain, &w, e);
	strmap_free(&w.domains, free_acc);
	v->domains = w.out;
	v->n = w.n;
	v->tolerance = tolerance;
	if (rc == -1)
		policy_view_free(v);
	return rc;
}

void
policy_view_free(struct policy_view *v)
{
	size_t i;

	for (i = 0; i < v->n; i++)
		free(v->domains[i].sources);
	free(v->domains);
	memset(v, 0, sizeof(*v));
}

const char *
verdict_name(enum verdict v)
{
	switch (v) {
	case VERDICT_READY:
		return "ready";
	case VERDICT_NOT_READY:
		return "not-ready";
	default:
		return "review";
	}
}

uint64_t
policy_at_pct(const struct policy_source *s, unsigned pct)
{
	uint64_t fail = s->messages - s->dmarc_pass;

	return pct >= 100 ? fail : (uint64_t)(fail * (pct / 100.0) + 0.5);
}

/* --- the sentence -------------------------------------------------------- */


/* "the 12 failing messages" and its parts, for a ready domain. */
static void
put_failing(struct text *t, const struct policy_domain *d, double tol)
{
	uint64_t all = d->known_fail + d->unknown_fail;

	if (d->known_fail == 0) {
		text_put(t, "the %llu failing message%s from unidentified sources",
		    (unsigned long long)all, plural(all));
		return;
	}
	text_put(t,
	    "the %llu failing message%s (%llu from identified sources, "
	    "within the %g%% tolerance: forwarding, for instance; %llu "
	    "from unidentified sources)",
	    (unsigned long long)all, plural(all),
	    (unsigned long long)d->known_fail, tol,
	    (unsigned long long)d->unknown_fail);
}

static void
reason_ready(struct text *t, const struct policy_domain *d, double tol)
{
	const char *p = d->pub.p;
	const char *every = d->known_fail > 0
	                        ? "every identified source passes DMARC "
	                          "within the tolerance"
	                        : "every identified source passes DMARC";

	if (strcmp(p, "reject") == 0) {
		text_put(t, "Ready: %s; p=reject is already published.", every);
		return;
	}
	if (strcmp(p, "quarantine") == 0)
		text_put(t, "Ready to tighten to p=reject: %s; ", every);
	else
		text_put(t, "Ready to tighten: %s; ", every);
	if (d->known_fail + d->unknown_fail == 0) {
		text_put(t, "no message fails DMARC.");
		return;
	}
	text_put(t, "%s would only catch ",
	    strcmp(p, "quarantine") == 0 ? "p=reject" : "p=quarantine");
	put_failing(t, d, tol);
	text_put(t, ".");
}

/* The flagged sources of one kind, "A (1 of 2 messages failing), B ...". */
static void
put_flagged(struct text *t, const struct policy_domain *d, int known,
            size_t max)
{
	size_t i, k = 0, more = 0, n;
	char label[SOURCE_LABEL_MAX];
	const char *open;

	for (i = 0; i < d->nsources; i++) {
		const struct policy_source *s = &d->sources[i];

		if (!s->flagged || s->known != known)
			continue;
		if (k == max) {
			more++;
			continue;
		}
		policy_source_label(s, label, sizeof(label));
		/* a label that ends in brackets already, "example.com (2
		 * addresses)", takes the count inside them */
		n = strlen(label);
		open = " (";
		if (s->region[0] == '\0' && n > 0 && label[n - 1] == ')') {
			label[n - 1] = '\0';
			open = ", ";
		}
		text_put(t, "%s%s%s%s%s%llu of %llu message%s failing)",
		    k++ ? ", " : "", label, s->region[0] ? " " : "",
		    s->region, open,
		    (unsigned long long)(s->messages - s->dmarc_pass),
		    (unsigned long long)s->messages, plural(s->messages));
	}
	if (more > 0)
		text_put(t, " and %zu more (--format csv lists every source)", more);
}

void
policy_reason(const struct policy_domain *d, char *out, size_t len)
{
	struct text t = {out, len, 0};
	const char *p = d->pub.p;
	double tol = d->tolerance;

	if (len == 0)
		return;
	out[0] = '\0';
	if (d->verdict == VERDICT_REVIEW) {
		text_put(&t, "Review: no messages in the selected reports, nothing "
		        "to judge.");
		return;
	}
	if (d->verdict == VERDICT_READY) {
		reason_ready(&t, d, tol);
		return;
	}
	if (strcmp(p, "quarantine") == 0 || strcmp(p, "reject") == 0)
		text_put(&t,
		    "Not ready: under p=%s, mail that may be yours fails "
		    "DMARC now:",
		    p);
	else
		text_put(&t, "Not ready to tighten:");
	if (d->known_flagged > 0) {
		text_put(&t,
		    " %zu identified source%s fail%s DMARC beyond the "
		    "%g%% tolerance: ",
		    d->known_flagged, plural(d->known_flagged),
		    d->known_flagged == 1 ? "s" : "", tol);
		put_flagged(&t, d, 1, (size_t)-1);
		text_put(&t, d->unknown_flagged > 0 ? ";" : ".");
	}
	if (d->unknown_flagged > 0) {
		text_put(&t,
		    " %zu unidentified source%s fail%s DMARC on more than "
		    "1%% of the domain's messages: ",
		    d->unknown_flagged, plural(d->unknown_flagged),
		    d->unknown_flagged == 1 ? "s" : "");
		put_flagged(&t, d, 0, REASON_UNKNOWN_MAX);
		text_put(&t, " -- unidentified: is it yours? add it to the sources "
		        "file.");
	}
}

void
policy_source_label(const struct policy_source *s, char *out, size_t len)
{
	source_names_label(out, len, s->addr[0] ? s->addr : s->name,
	                   s->name_state != NAME_NONE ? s->dns_name : NULL,
	                   s->name_state == NAME_CONFIRMED, s->ips);
}

/*
 * cmd-check-dns.c - `dmarc-report check-dns [DOMAIN...]`: what each
 * domain's reports show it needs, checked against what DNS says now
 * (check-dns.h).  Default domains: every policy domain in the store (with
 * --domain/--since/--until applied).
 *
 * From the stored records, per policy domain, the SES traffic (classify()
 * says SES) gives the custom MAIL FROM domains (envelope_from, else the
 * SPF domains, that are not under amazonses.com) and the customer DKIM
 * selectors (signatures of the domain or below it, not amazonses.com's).
 * The region of each comes from classify(), which reads the source's
 * forward-confirmed name (smtp-out.<region>.amazonses.com) from the names
 * tools_open() attached, as every view does; unconfirmed names are never
 * used.
 *
 * Output: the table prints each domain's findings as prose (with their
 * fixes); CSV and JSON have one row per finding, ok rows included.
 * --exit-code: 0 no error or warning, 1 some, 3 nothing to check.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sysexits.h>

#include "align.h"
#include "check-dns.h"
#include "classify.h"
#include "command.h"
#include "records.h"
#include "strmap.h"

static const struct column cols[] = {
    {"domain", NULL, COL_TEXT, 0},  {"check", NULL, COL_TEXT, 0},
    {"name", NULL, COL_TEXT, 0},    {"severity", NULL, COL_TEXT, 0},
    {"finding", NULL, COL_TEXT, 0}, {"fix", NULL, COL_TEXT, 0},
};

#define NCOLS (sizeof(cols) / sizeof(cols[0]))

/* What a policy domain's reports show it needs. */
struct need {
	struct strmap mail_from; /* MAIL FROM domain -> struct seen */
	struct strmap dkim;      /* "d=" US selector -> struct seen */
};

struct seen {
	char region[REGION_MAX]; /* "" unknown */
};

struct collect {
	struct report_ctx *ctx;
	struct strmap domains; /* policy domain -> struct need */
	int explicit_domains;  /* given as arguments: add no others */
};

static int
add_domain(void *arg, const struct store_domain *d, struct err *e)
{
	struct collect *c = arg;

	if (strmap_upsert(&c->domains, d->latest->domain, sizeof(struct need),
	                  NULL) == NULL)
		return err_set(e, "out of memory");
	return 0;
}

static void
note(struct strmap *m, const char *key, const char *region)
{
	struct seen *s = strmap_upsert(m, key, sizeof(*s), NULL);

	if (s != NULL && s->region[0] == '\0' && region[0] != '\0')
		snprintf(s->region, sizeof(s->region), "%s", region);
}

/* A domain under (or equal to) parent. */
static int
under(const char *name, const char *parent)
{
	size_t n = strlen(name), p = strlen(parent);

	return n >= p && strcasecmp(name + n - p, parent) == 0 &&
	       (n == p || name[n - p - 1] == '.');
}

/* The MAIL FROM domains and DKIM selectors of one SES group. */
static void
note_group(struct need *nd, const struct store_group *g, const char *region)
{
	char dom[DNS_NAME_MAX], key[DNS_NAME_MAX * 2], r[REGION_MAX];
	const char *parts[2];
	size_t i;

	if (g->envelope_from != NULL &&
	    dns_name_check(g->envelope_from, dom, sizeof(dom), 0) == 0) {
		if (!classify_ses_domain(dom, r, sizeof(r)))
			note(&nd->mail_from, dom, region);
	} else {
		for (i = 0; i < g->nspf; i++)
			if (dns_name_check(g->spf[i].domain, dom, sizeof(dom),
			                   0) == 0 &&
			    !classify_ses_domain(dom, r, sizeof(r)))
				note(&nd->mail_from, dom, region);
	}
	for (i = 0; i < g->ndkim; i++) {
		if (g->dkim[i].selector == NULL ||
		    dns_name_check(g->dkim[i].domain, dom, sizeof(dom), 0) ==
		        -1 ||
		    classify_ses_domain(dom, r, sizeof(r)) ||
		    !under(dom, g->domain))
			continue;
		parts[0] = dom;
		parts[1] = g->dkim[i].selector;
		strmap_key(key, sizeof(key), parts, 2);
		note(&nd->dkim, key, region);
	}
}

static int
each_group(void *arg, const struct store_group *g, struct err *e)
{
	struct collect *c = arg;
	struct need *nd = strmap_get(&c->domains, g->domain);
	struct sender s;
	char region[REGION_MAX] = "";

	(void)e;
	if (nd == NULL)
		return 0;
	classify(c->ctx->cl, g->source_ip, g->envelope_from, g->spf, g->nspf,
	         g->dkim, g->ndkim, &s);
	if (!s.ses)
		return 0;
	if (strcmp(s.region, REGION_UNKNOWN) != 0)
		snprintf(region, sizeof(region), "%s", s.region);
	note_group(nd, g, region);
	return 0;
}

static int
by_key(const void *a, const void *b)
{
	return strcmp(((const struct strmap_entry *)a)->key,
	              ((const struct strmap_entry *)b)->key);
}

/* Runs every check of one domain. */
static int
check_domain(struct dns *d, const struct align *al, const char *domain,
             struct need *nd, struct findings *f, struct err *e)
{
	const struct strmap_entry *x;
	const struct seen *s;
	char aspf, dom[DNS_NAME_MAX];
	const char *sep;
	size_t i;

	f->domain = domain;
	if (check_dmarc(d, al, domain, f, &aspf, e) == -1 ||
	    check_spf(d, domain, f, e) == -1)
		return -1;
	strmap_sort(&nd->mail_from, by_key);
	for (i = 0; i < strmap_len(&nd->mail_from); i++) {
		x = strmap_at(&nd->mail_from, i);
		s = x->value;
		if (check_mail_from(d, domain, x->key, s->region, aspf, f, e) ==
		    -1)
			return -1;
	}
	strmap_sort(&nd->dkim, by_key);
	for (i = 0; i < strmap_len(&nd->dkim); i++) {
		x = strmap_at(&nd->dkim, i);
		s = x->value;
		if ((sep = strchr(x->key, '\x1f')) == NULL ||
		    (size_t)(sep - x->key) >= sizeof(dom))
			continue;
		snprintf(dom, sizeof(dom), "%.*s", (int)(sep - x->key), x->key);
		if (check_dkim(d, dom, sep + 1, s->region, f, e) == -1)
			return -1;
	}
	return 0;
}

static void
print_table(struct report_ctx *ctx, const struct findings *f)
{
	FILE *o = ctx->out;
	const char *last = "";
	char first[32];
	size_t i;
	int bold = output_use_color(o);

	for (i = 0; i < f->n; i++) {
		const struct finding *x = &f->v[i];
		char line[2048];

		if (strcmp(x->domain, last) != 0) {
			fprintf(o, "%s", i ? "\n" : "");
			output_text(o, bold, "", "", x->domain, 100);
			last = x->domain;
		}
		snprintf(first, sizeof(first), "  %-8s ", x->severity);
		snprintf(line, sizeof(line), "%s %s: %s", x->check, x->name,
		         x->text);
		output_text(o, 0, first, "           ", line, 100);
		if (x->fix != NULL)
			output_text(o, 0,
			            "           fix: ", "                ",
			            x->fix, 100);
	}
}

static int
print_rows(struct report_ctx *ctx, const struct findings *f, struct err *e)
{
	struct output o;
	struct cell c[NCOLS];

	if (output_begin(&o, ctx->format, ctx->out, cols, NCOLS) == -1)
		return err_set(e, "output failed");
	for (size_t i = 0; i < f->n; i++) {
		memset(c, 0, sizeof(c));
		c[0].s = f->v[i].domain;
		c[1].s = f->v[i].check;
		c[2].s = f->v[i].name;
		c[3].s = f->v[i].severity;
		c[4].s = f->v[i].text;
		c[5].s = f->v[i].fix;
		if (output_row(&o, c) == -1)
			return err_set(e, "output failed");
	}
	return output_end(&o) == -1 ? err_set(e, "output failed") : 0;
}

static void
free_need(void *v)
{
	struct need *nd = v;

	strmap_free(&nd->mail_from, NULL);
	strmap_free(&nd->dkim, NULL);
}

/* The domains given as arguments, checked and lower-cased. */
static int
add_args(struct collect *c, struct err *e)
{
	char dom[DNS_NAME_MAX];

	for (int i = 0; i < c->ctx->nargs; i++) {
		if (dns_name_check(c->ctx->args[i], dom, sizeof(dom), 0) ==
		    -1) {
			char esc[128];
			dns_escape(c->ctx->args[i], esc, sizeof(esc));
			c->ctx->fail_status = EX_USAGE;
			return err_set(
			    e, "check-dns: '%s' is not a domain name", esc);
		}
		if (strmap_upsert(&c->domains, dom, sizeof(struct need),
		                  NULL) == NULL)
			return err_set(e, "out of memory");
	}
	return 0;
}

static int
check_all(struct report_ctx *ctx, struct collect *c, struct findings *f,
          struct err *e)
{
	struct dns_options o;
	struct dns *d;
	int rc = 0;

	report_dns_options(ctx, &o);
	if (dns_open(&d, &o, e) == -1)
		return -1;
	strmap_sort(&c->domains, by_key);
	for (size_t i = 0; i < strmap_len(&c->domains) && rc == 0; i++) {
		const struct strmap_entry *x = strmap_at(&c->domains, i);
		rc = check_domain(d, ctx->al, x->key, x->value, f, e);
	}
	if (rc == -1 && ctx->fail_status == 0)
		ctx->fail_status = EX_UNAVAILABLE;
	dns_close(d);
	return rc;
}

int
check_dns_collect(struct report_ctx *ctx, struct findings *f, struct err *e)
{
	struct collect c;
	int rc = -1;

	memset(&c, 0, sizeof(c));
	memset(f, 0, sizeof(*f));
	c.ctx = ctx;
	if (report_dns_allowed(ctx, e) == -1 || tools_open(ctx, e) == -1)
		return -1;
	if (add_args(&c, e) == -1 ||
	    (ctx->nargs == 0 && store_each_domain(ctx->st, &ctx->filter,
	                                          add_domain, &c, e) == -1) ||
	    store_each_group(ctx->st, &ctx->filter, each_group, &c, e) == -1)
		goto out;
	if (strmap_len(&c.domains) == 0)
		ctx->nothing_checked = 1;
	else if (check_all(ctx, &c, f, e) == -1)
		goto out;
	rc = 0;
out:
	strmap_free(&c.domains, free_need);
	return rc;
}

static int
run(struct report_ctx *ctx, struct err *e)
{
	struct findings f;
	int rc = -1;

	if (check_dns_collect(ctx, &f, e) == -1)
		goto out;
	if (ctx->nothing_checked) {
		say_empty(ctx, "policy domains");
		rc = 0;
		goto out;
	}
	for (size_t i = 0; i < f.n; i++)
		if (strcmp(f.v[i].severity, "error") == 0 ||
		    strcmp(f.v[i].severity, "warning") == 0)
			ctx->problems++;
	if (ctx->format == &output_table)
		print_table(ctx, &f);
	else if (print_rows(ctx, &f, e) == -1)
		goto out;
	rc = 0;
out:
	findings_free(&f);
	return rc;
}

const struct command cmd_check_dns = {
    "check-dns",
    "check the DNS records the reports show a domain needs (DMARC, SPF, "
    "SES MAIL FROM and DKIM)",
    run, 1};

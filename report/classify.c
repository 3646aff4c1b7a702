/*
 * classify.c - the senders table and the classification of records.
 * See classify.h.
 */
#include "classify.h"
#include "netaddr.h"
#include "ses-region.h"

#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ascii.h"
#include "hash.h"
#include "source-names.h"

/*
 * THE SENDERS TABLE -- the one place to update.  Last checked 2026-11.
 *
 * Only signals a service controls and a report shows are listed: the
 * domains of its bounce (MAIL FROM) addresses, the d= of the DKIM
 * signature it adds, and address ranges it publishes.  Sources:
 *
 *  [ses-mf]   AWS, Amazon SES Developer Guide, "Using a custom MAIL FROM
 *             domain": without one, SES uses a subdomain of amazonses.com
 *             that varies with the region (amazonses.com in us-east-1,
 *             <region>.amazonses.com elsewhere, as real headers show).
 *  [ses-dkim] same guide, "Authenticating email with DKIM": every message
 *             also carries a signature with d=amazonses.com.
 *  [ses-spf]  the TXT record of amazonses.com (what include:amazonses.com
 *             authorises), as published in 2026.  AWS does not promise it:
 *             add or remove ranges with a --sources file.
 *  [google]   Google Workspace: the default DKIM signature when the
 *             customer has set none is d=<domain>.<date>.gappssmtp.com;
 *             outbound ranges from the TXT records of
 *             _netblocks.google.com, _netblocks2.google.com and
 *             _netblocks3.google.com (what include:_spf.google.com
 *             authorises), as last seen published.
 *  [m365]     Microsoft 365: the default DKIM signature is
 *             d=<tenant>.onmicrosoft.com, tenant addresses are
 *             <name>@<tenant>.onmicrosoft.com; outbound ranges from the
 *             TXT record of spf.protection.outlook.com (what
 *             include:spf.protection.outlook.com authorises), as last
 *             seen published.
 *  [vendors]  each vendor's sending documentation and their messages'
 *             headers: SendGrid bounces via sendgrid.net and signs with
 *             sendgrid.net / sendgrid.info by default; Mailgun's shared
 *             and sandbox domains are under mailgun.org / mailgun.net;
 *             Mailchimp bounces via mcsv.net, mcdlv.net, rsgsv.net;
 *             Mailchimp Transactional (Mandrill) via mandrillapp.com;
 *             Postmark via pm.mtasv.net (its default Return-Path and
 *             signature); SparkPost via sparkpostmail.com; Zendesk signs
 *             with d=zendesk.com by default and sends from zdsys.com;
 *             HubSpot bounces and signs via hubspotemail.net; Salesforce
 *             bounces via *.bnc.salesforce.com, Salesforce Marketing
 *             Cloud via exacttarget.com.
 *
 * Google's and Microsoft's own ranges also carry their consumer mail
 * (Gmail, Outlook.com) when it forwards yours; such rows say "Google
 * Workspace" although the sender is a forwarding user.
 */
#define TABLE_DATE "2026-11"

enum kind {
	K_BOUNCE, /* MAIL FROM / SPF domain */
	K_DKIM,	  /* d= of a passing signature */
	K_CIDR,	  /* source address range */
};

struct entry {
	enum kind kind;
	const char *pattern;
	const char *name;
};

#define GOOGLE "Google Workspace"
#define M365 "Microsoft 365"

static const struct entry table[] = {
    /* Amazon SES [ses-mf] [ses-dkim] [ses-spf] */
    {K_BOUNCE, "amazonses.com", SENDER_SES},
    {K_DKIM, "amazonses.com", SENDER_SES},
    {K_CIDR, "199.255.192.0/22", SENDER_SES},
    {K_CIDR, "199.127.232.0/22", SENDER_SES},
    {K_CIDR, "54.240.0.0/18", SENDER_SES},
    {K_CIDR, "69.169.224.0/20", SENDER_SES},
    {K_CIDR, "23.249.208.0/20", SENDER_SES},
    {K_CIDR, "23.251.224.0/19", SENDER_SES},
    {K_CIDR, "76.223.176.0/20", SENDER_SES},
    {K_CIDR, "54.240.64.0/18", SENDER_SES},
    {K_CIDR, "76.223.128.0/19", SENDER_SES},
    {K_CIDR, "216.221.160.0/19", SENDER_SES},
    {K_CIDR, "206.55.144.0/20", SENDER_SES},
    {K_CIDR, "24.110.64.0/18", SENDER_SES},

    /* Google Workspace [google] */
    {K_DKIM, "gappssmtp.com", GOOGLE},
    {K_CIDR, "35.190.247.0/24", GOOGLE},
    {K_CIDR, "64.233.160.0/19", GOOGLE},
    {K_CIDR, "66.102.0.0/20", GOOGLE},
    {K_CIDR, "66.249.80.0/20", GOOGLE},
    {K_CIDR, "72.14.192.0/18", GOOGLE},
    {K_CIDR, "74.125.0.0/16", GOOGLE},
    {K_CIDR, "108.177.8.0/21", GOOGLE},
    {K_CIDR, "173.194.0.0/16", GOOGLE},
    {K_CIDR, "209.85.128.0/17", GOOGLE},
    {K_CIDR, "216.58.192.0/19", GOOGLE},
    {K_CIDR, "216.239.32.0/19", GOOGLE},
    {K_CIDR, "2001:4860:4000::/36", GOOGLE},
    {K_CIDR, "2404:6800:4000::/36", GOOGLE},
    {K_CIDR, "2607:f8b0:4000::/36", GOOGLE},
    {K_CIDR, "2800:3f0:4000::/36", GOOGLE},
    {K_CIDR, "2a00:1450:4000::/36", GOOGLE},
    {K_CIDR, "2c0f:fb50:4000::/36", GOOGLE},
    {K_CIDR, "172.217.0.0/19", GOOGLE},
    {K_CIDR, "172.217.32.0/20", GOOGLE},
    {K_CIDR, "172.217.128.0/19", GOOGLE},
    {K_CIDR, "172.217.160.0/20", GOOGLE},
    {K_CIDR, "172.217.192.0/19", GOOGLE},
    {K_CIDR, "172.253.56.0/21", GOOGLE},
    {K_CIDR, "172.253.112.0/20", GOOGLE},
    {K_CIDR, "108.177.96.0/19", GOOGLE},
    {K_CIDR, "35.191.0.0/16", GOOGLE},
    {K_CIDR, "130.211.0.0/22", GOOGLE},

    /* Microsoft 365 [m365] */
    {K_BOUNCE, "onmicrosoft.com", M365},
    {K_DKIM, "onmicrosoft.com", M365},
    {K_CIDR, "40.92.0.0/15", M365},
    {K_CIDR, "40.107.0.0/16", M365},
    {K_CIDR, "52.100.0.0/15", M365},
    {K_CIDR, "52.102.0.0/16", M365},
    {K_CIDR, "52.103.0.0/17", M365},
    {K_CIDR, "104.47.0.0/17", M365},
    {K_CIDR, "2a01:111:f400::/48", M365},
    {K_CIDR, "2a01:111:f403::/49", M365},
    {K_CIDR, "2a01:111:f403:8000::/51", M365},
    {K_CIDR, "2a01:111:f403:c000::/51", M365},
    {K_CIDR, "2a01:111:f403:f000::/52", M365},

    /* [vendors] */
    {K_BOUNCE, "sendgrid.net", "SendGrid"},
    {K_DKIM, "sendgrid.net", "SendGrid"},
    {K_DKIM, "sendgrid.info", "SendGrid"},
    {K_BOUNCE, "mailgun.org", "Mailgun"},
    {K_BOUNCE, "mailgun.net", "Mailgun"},
    {K_DKIM, "mailgun.org", "Mailgun"},
    {K_DKIM, "mailgun.net", "Mailgun"},
    {K_BOUNCE, "mcsv.net", "Mailchimp"},
    {K_BOUNCE, "mcdlv.net", "Mailchimp"},
    {K_BOUNCE, "rsgsv.net", "Mailchimp"},
    {K_DKIM, "mcsv.net", "Mailchimp"},
    {K_DKIM, "mcdlv.net", "Mailchimp"},
    {K_BOUNCE, "mandrillapp.com", "Mailchimp Transactional"},
    {K_DKIM, "mandrillapp.com", "Mailchimp Transactional"},
    {K_BOUNCE, "mtasv.net", "Postmark"},
    {K_DKIM, "mtasv.net", "Postmark"},
    {K_BOUNCE, "sparkpostmail.com", "SparkPost"},
    {K_DKIM, "sparkpostmail.com", "SparkPost"},
    {K_BOUNCE, "zdsys.com", "Zendesk"},
    {K_DKIM, "zendesk.com", "Zendesk"},
    {K_DKIM, "zdsys.com", "Zendesk"},
    {K_BOUNCE, "hubspotemail.net", "HubSpot"},
    {K_DKIM, "hubspotemail.net", "HubSpot"},
    {K_BOUNCE, "bnc.salesforce.com", "Salesforce"},
    {K_BOUNCE, "exacttarget.com", "Salesforce Marketing Cloud"},
    {K_DKIM, "exacttarget.com", "Salesforce Marketing Cloud"},
};

#define NTABLE (sizeof(table) / sizeof(table[0]))

/* One entry ready for matching: a built-in one, or one of the user's. */
struct rule {
	enum kind kind; /* the user's domains are K_BOUNCE and K_DKIM both */
	const char *domain;
	struct net net;
	const char *name; /* NULL: "-", takes the built-in entry away */
	int ses;
};

/*
 * The domain rules by name.  A name matches a rule when the rule's domain
 * is one of the name's suffixes that start a label; so match_domain()
 * looks each such suffix up here, a few hash probes, instead of trying
 * every rule on every name (most of the time `sources` spent classifying).
 */
struct dslot {
	const char *domain; /* NULL: empty */
	size_t len;
	uint64_t hash;
	/* the first rule with exactly this domain, as index + 1 (0: none):
	 * of the user's (either kind), and of the built-in ones by kind */
	size_t user, bounce, dkim;
};

struct classifier {
	struct ses_regions *regions; /* the SES region tables */
	struct rule *builtin, *user;
	size_t nbuiltin, nuser;
	char **strings; /* the user's domains and names */
	size_t nstrings;
	struct dslot *dom;
	size_t ndom; /* slots, a power of two */
	/* The built-in ranges by family (0 IPv4, 1 IPv6) and first byte:
	 * ipx[ipoff[f][b] .. ipoff[f][b + 1]) are the indexes, in table
	 * order, of those that can hold an address starting with b. */
	size_t *ipx;
	size_t ipoff[2][257];
	struct source_names *names; /* attached, owned; NULL: none */
};

const char *
classify_table_date(void)
{
	return TABLE_DATE;
}

/* snprintf(dst, len, "%s", src) without the format machinery: this runs
 * for every group of records. */
static void
scopy(char *dst, size_t len, const char *src)
{
	size_t n = strlen(src);

	if (len == 0)
		return;
	if (n >= len)
		n = len - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

static void
set_sender(struct sender *out, const struct rule *r, enum signal via)
{
	out->name = r->name;
	out->ses = r->ses;
	out->via = via;
	scopy(out->region, sizeof(out->region), r->ses ? REGION_UNKNOWN : "");
}

/*
 * The hash of a name, in ASCII lower case as strncasecmp() compares in the
 * C locale: FNV-1a taken over the bytes from the last to the first, so
 * that one pass from the end of a name yields the hash of each of its
 * suffixes on the way.
 */
static uint64_t
dhash_step(uint64_t h, unsigned char ch)
{
	return fnv1a_byte(h, ascii_lower(ch));
}

#define DHASH_INIT FNV1A_BASIS

static uint64_t
dhash(const char *s, size_t n)
{
	uint64_t h = DHASH_INIT;

	while (n-- > 0)
		h = dhash_step(h, (unsigned char)s[n]);
	return h;
}

/* The slot of the domain s (n bytes, any case), or its empty slot. */
static struct dslot *
dslot_find(const struct classifier *c, const char *s, size_t n, uint64_t h)
{
	size_t i = (size_t)h & (c->ndom - 1);

	while (c->dom[i].domain != NULL &&
	    (c->dom[i].hash != h || c->dom[i].len != n ||
		strncasecmp(c->dom[i].domain, s, n) != 0))
		i = (i + 1) & (c->ndom - 1);
	return &c->dom[i];
}

/* Indexes the domain rules (after the user's file is read). */
static int
index_domains(struct classifier *c)
{
	size_t n = c->nbuiltin + c->nuser, i, k;

	for (c->ndom = 16; c->ndom < 2 * n; c->ndom *= 2)
		;
	if ((c->dom = calloc(c->ndom, sizeof(*c->dom))) == NULL)
		return -1;
	for (i = 0; i < n; i++) {
		const struct rule *r = i < c->nuser ? &c->user[i]
						     : &c->builtin[i - c->nuser];
		struct dslot *d;
		size_t *first;
		uint64_t h;

		if (r->domain == NULL)
			continue;
		h = dhash(r->domain, strlen(r->domain));
		d = dslot_find(c, r->domain, strlen(r->domain), h);
		if (d->domain == NULL) {
			d->domain = r->domain;
			d->len = strlen(r->domain);
			d->hash = h;
		}
		k = i < c->nuser ? i : i - c->nuser;
		first = i < c->nuser	  ? &d->user
			: r->kind == K_DKIM ? &d->dkim
					    : &d->bounce;
		if (*first == 0)
			*first = k + 1;
	}
	return 0;
}

/* Looks a domain up in the user's rules (the longest match), then the
 * built-in ones of kind k (the first in the table).  A user's "-" rule is
 * returned too: it hides the built-in entries from this domain.  As
 * ses_domain_matches() says: case-insensitive, trailing dots ignored, the rule
 * a suffix of the name that starts a label. */
static const struct rule *
match_domain(const struct classifier *c, const char *domain, enum kind k)
{
	const struct dslot *d;
	size_t n, i, user = 0, first = 0, b;
	uint64_t h = DHASH_INIT;

	if (domain == NULL)
		return NULL;
	n = strlen(domain);
	while (n > 0 && domain[n - 1] == '.')
		n--;
	/* the suffixes from the shortest: a user's rule found later is a
	 * longer match */
	for (i = n; i-- > 0;) {
		h = dhash_step(h, (unsigned char)domain[i]);
		if (i > 0 && domain[i - 1] != '.')
			continue;
		d = dslot_find(c, domain + i, n - i, h);
		if (d->domain == NULL)
			continue;
		if (d->user != 0)
			user = d->user;
		b = k == K_DKIM ? d->dkim : k == K_BOUNCE ? d->bounce : 0;
		if (b != 0 && (first == 0 || b < first))
			first = b;
	}
	if (user != 0)
		return &c->user[user - 1];
	return first != 0 ? &c->builtin[first - 1] : NULL;
}

/* Whether the range can hold an address whose first byte is b. */
static int
range_covers(const struct net *n, int b)
{
	if (n->bits >= 8)
		return n->addr[0] == b;
	return ((n->addr[0] ^ b) & (0xff << (8 - n->bits)) & 0xff) == 0;
}

/* Builds ipx and ipoff: the first byte of an address leaves a few of the
 * built-in ranges to try instead of all of them. */
static int
index_ranges(struct classifier *c)
{
	size_t i, n = 0;
	int f, b;

	for (f = 0; f < 2; f++)
		for (b = 0; b < 256; b++)
			for (i = 0; i < c->nbuiltin; i++)
				if (c->builtin[i].kind == K_CIDR &&
				    c->builtin[i].net.family ==
					(f ? AF_INET6 : AF_INET) &&
				    range_covers(&c->builtin[i].net, b))
					n++;
	if ((c->ipx = calloc(n ? n : 1, sizeof(*c->ipx))) == NULL)
		return -1;
	n = 0;
	for (f = 0; f < 2; f++) {
		for (b = 0; b < 256; b++) {
			c->ipoff[f][b] = n;
			for (i = 0; i < c->nbuiltin; i++)
				if (c->builtin[i].kind == K_CIDR &&
				    c->builtin[i].net.family ==
					(f ? AF_INET6 : AF_INET) &&
				    range_covers(&c->builtin[i].net, b))
					c->ipx[n++] = i;
		}
		c->ipoff[f][256] = n;
	}
	return 0;
}

/* The user's most specific range first, then the first built-in one. */
static const struct rule *
match_ip(const struct classifier *c, const struct net *a)
{
	const struct rule *best = NULL;
	size_t i;
	int f = a->family == AF_INET6;

	for (i = 0; i < c->nuser; i++)
		if (c->user[i].domain == NULL &&
		    net_contains(&c->user[i].net, a) &&
		    (best == NULL || c->user[i].net.bits > best->net.bits))
			best = &c->user[i];
	if (best != NULL)
		return best;
	for (i = c->ipoff[f][a->addr[0]]; i < c->ipoff[f][a->addr[0] + 1]; i++)
		if (net_contains(&c->builtin[c->ipx[i]].net, a))
			return &c->builtin[c->ipx[i]];
	return NULL;
}

/* The SES rule, for an SES host that only its PTR name shows. */
static const struct rule ses_by_ptr = {K_CIDR, NULL, {0, {0}, 0}, SENDER_SES,
    1};

/* The rule a forward-confirmed PTR name matches (classify.h), or NULL;
 * tmp holds a rule of the PTR table. */
static const struct rule *
match_ptr(const struct classifier *c, const char *ptr, struct rule *tmp)
{
	const struct rule *r = match_domain(c, ptr, K_CIDR); /* user's only */
	char region[REGION_MAX];

	if (r != NULL || ptr == NULL)
		return r;
	if (ses_ptr_region(ptr, region, sizeof(region)))
		return &ses_by_ptr;
	memset(tmp, 0, sizeof(*tmp));
	tmp->kind = K_CIDR;
	tmp->name = classify_ptr_sender(ptr);
	return tmp->name != NULL ? tmp : NULL;
}

void
classify_record(const struct classifier *c, const struct classify_input *in,
    struct sender *out)
{
	const struct rule *r, *by_ptr = NULL;
	struct classify_input named;
	struct region_guess g;
	struct rule tmp;
	struct net a;
	size_t i;
	enum signal via;

	memset(out, 0, sizeof(*out));
	if (in->ptr == NULL && c->names != NULL) {
		named = *in;
		named.ptr = source_names_confirmed(c->names, in->source_ip);
		in = &named;
	}
	/* SES's marks on mail another host delivered name the original
	 * sender, not this one: only the address speaks */
	out->in_transit = classify_in_transit(c, in);
	r = NULL;
	/* 1. the bounce domain: envelope_from, then the SPF domains */
	if (!out->in_transit)
		r = match_domain(c, in->envelope_from, K_BOUNCE);
	for (i = 0; !out->in_transit && (r == NULL || r->name == NULL) &&
	     i < in->nspf; i++)
		r = match_domain(c, in->spf[i].domain, K_BOUNCE);
	/* 2. passing DKIM signatures */
	for (i = 0; (r == NULL || r->name == NULL) && i < in->ndkim; i++)
		if (in->dkim[i].result != NULL &&
		    strcmp(in->dkim[i].result, "pass") == 0)
			r = match_domain(c, in->dkim[i].domain, K_DKIM);
	/* 3. the address, then its PTR name */
	if ((r == NULL || r->name == NULL) && in->source_ip != NULL &&
	    net_parse_addr(in->source_ip, &a) == 0)
		r = match_ip(c, &a);
	if ((r == NULL || r->name == NULL) &&
	    (by_ptr = match_ptr(c, in->ptr, &tmp)) != NULL)
		r = by_ptr;
	if (r == NULL || r->name == NULL)
		return;
	via = r == by_ptr	   ? SIGNAL_PTR
	      : r->kind == K_CIDR ? SIGNAL_IP
	      : r->kind == K_DKIM ? SIGNAL_DKIM
				  : SIGNAL_BOUNCE;
	set_sender(out, r, via);
	if (out->in_transit && out->ses) { /* a user's range says SES */
		out->ses = 0;
		out->name = NULL;
		out->region[0] = '\0';
		return;
	}
	if (!out->ses)
		return;
	ses_region_guess(c->regions, in->source_ip, in->ptr, in->envelope_from,
	    in->spf, in->nspf, in->dkim, in->ndkim, &g);
	scopy(out->region, sizeof(out->region), g.region);
	scopy(out->note, sizeof(out->note), g.note);
	out->evidence = g.evidence;
	out->unknown_selector = g.unknown_selector;
}

void
classify(const struct classifier *c, const char *source_ip,
    const char *envelope_from, const struct dmarc_spf *spf, size_t nspf,
    const struct dmarc_dkim *dkim, size_t ndkim, struct sender *out)
{
	struct classify_input in = {source_ip, NULL, envelope_from, spf, nspf,
	    dkim, ndkim};

	classify_record(c, &in, out);
}

void
classify_attach_names(struct classifier *c, struct source_names *names)
{
	source_names_free(c->names);
	c->names = names;
}

const struct source_names *
classify_names(const struct classifier *c)
{
	return c->names;
}

int
classify_ses_domain(const char *domain, char *region, size_t len)
{
	return ses_domain_region(domain, region, len);
}

int
classify_ip_is_ses(const struct classifier *c, const char *ip)
{
	const struct rule *r;
	struct net a;

	if (ip == NULL || net_parse_addr(ip, &a) == -1)
		return 0;
	r = match_ip(c, &a);
	return r != NULL && r->name != NULL && r->ses;
}

/* ---------------------------------------------------------------------
 * The user's file.
 */

static char *
keep(struct classifier *c, const char *s, size_t n)
{
	char **ns, *copy;

	if ((copy = strndup(s, n)) == NULL)
		return NULL;
	if ((ns = realloc(c->strings, (c->nstrings + 1) * sizeof(*ns))) ==
	    NULL) {
		free(copy);
		return NULL;
	}
	c->strings = ns;
	c->strings[c->nstrings++] = copy;
	return copy;
}

static char *
trim(char *s)
{
	char *end;

	while (*s == ' ' || *s == '\t')
		s++;
	end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t' ||
			      end[-1] == '\r' || end[-1] == '\n'))
		*--end = '\0';
	return s;
}

/* The name field: plain, or quoted with "" for a quote. */
static int
unquote(char *s)
{
	char *w = s, *r = s + 1;

	if (*s != '"')
		return strchr(s, '"') == NULL ? 0 : -1;
	for (;;) {
		if (*r == '\0')
			return -1;
		if (*r == '"') {
			if (r[1] == '"') {
				*w++ = '"';
				r += 2;
				continue;
			}
			if (*trim(r + 1) != '\0')
				return -1;
			break;
		}
		*w++ = *r++;
	}
	*w = '\0';
	return 0;
}

static int
valid_domain(const char *d)
{
	const char *p;

	if (*d == '\0' || *d == '.' || *d == '-' || strlen(d) > 253 ||
	    d[strlen(d) - 1] == '.' || strstr(d, "..") != NULL)
		return 0;
	for (p = d; *p != '\0'; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
			*p == '-' || *p == '.' || *p == '_'))
			return 0;
	/* no top-level domain is all digits: "300.1.2.3" is a bad address */
	p = strrchr(d, '.') != NULL ? strrchr(d, '.') + 1 : d;
	return strspn(p, "0123456789") != strlen(p);
}

static int
add_user_rule(struct classifier *c, char *key, char *name, const char *file,
    unsigned long line, struct err *e)
{
	struct rule r, *nr;
	char *p;

	memset(&r, 0, sizeof(r));
	ascii_lower_str(key);
	if (net_parse(key, &r.net) == 0) {
		r.kind = K_CIDR;
	} else {
		if (strncmp(key, "*.", 2) == 0)
			key += 2;
		else if (key[0] == '.')
			key++;
		if (key[0] != '\0' && key[strlen(key) - 1] == '.')
			key[strlen(key) - 1] = '\0';
		if (!valid_domain(key))
			return err_set(e, "%s:%lu: '%.80s' is neither an address "
					  "range (192.0.2.0/24, 2001:db8::/32) "
					  "nor a domain name",
			    file, line, key);
		r.kind = K_BOUNCE;
		if ((r.domain = keep(c, key, strlen(key))) == NULL)
			return err_set(e, "out of memory");
	}
	if (name[0] == '\0')
		return err_set(e, "%s:%lu: no name after the comma (write - "
				  "to take a built-in entry away)",
		    file, line);
	for (p = name; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return err_set(e, "%s:%lu: the name contains a control "
					  "character",
			    file, line);
	if (strlen(name) > 64)
		return err_set(e, "%s:%lu: the name is longer than 64 bytes",
		    file, line);
	if (strcmp(name, "-") == 0) {
		r.name = NULL;
	} else if (strcasecmp(name, SENDER_SES) == 0) {
		r.name = SENDER_SES;
		r.ses = 1;
	} else if ((r.name = keep(c, name, strlen(name))) == NULL) {
		return err_set(e, "out of memory");
	}
	if ((nr = realloc(c->user, (c->nuser + 1) * sizeof(*nr))) == NULL)
		return err_set(e, "out of memory");
	c->user = nr;
	c->user[c->nuser++] = r;
	return 0;
}

static int
load_user_file(struct classifier *c, const char *file, struct err *e)
{
	char line[1024], *s, *comma, *key, *name;
	unsigned long n = 0;
	FILE *f;
	int rc = 0;

	if ((f = fopen(file, "r")) == NULL)
		return err_errno(e, "--sources %s", file);
	while (rc == 0 && fgets(line, sizeof(line), f) != NULL) {
		n++;
		if (strchr(line, '\n') == NULL && !feof(f)) {
			rc = err_set(e, "%s:%lu: line longer than %zu bytes",
			    file, n, sizeof(line) - 2);
			break;
		}
		s = trim(line);
		if (n == 1 && strncmp(s, "\xef\xbb\xbf", 3) == 0)
			s = trim(s + 3); /* a spreadsheet's byte-order mark */
		if (*s == '\0' || *s == '#')
			continue;
		if ((comma = strchr(s, ',')) == NULL) {
			rc = err_set(e, "%s:%lu: expected cidr_or_domain,name",
			    file, n);
			break;
		}
		*comma = '\0';
		key = trim(s);
		name = trim(comma + 1);
		if (n == 1 && strcasecmp(key, "cidr_or_domain") == 0)
			continue;
		if (ses_regions_user_line(c->regions, key, name, file, n, &rc,
			e))
			continue;
		if (unquote(name) == -1) {
			rc = err_set(e, "%s:%lu: badly quoted name", file, n);
			break;
		}
		rc = add_user_rule(c, key, name, file, n, e);
	}
	if (rc == 0 && ferror(f))
		rc = err_errno(e, "--sources %s", file);
	fclose(f);
	return rc;
}

int
classify_open(struct classifier **out, const char *user_file, struct err *e)
{
	struct classifier *c;
	size_t i;

	if ((c = calloc(1, sizeof(*c))) == NULL ||
	    (c->builtin = calloc(NTABLE, sizeof(*c->builtin))) == NULL) {
		free(c);
		return err_set(e, "out of memory");
	}
	for (i = 0; i < NTABLE; i++) {
		struct rule *r = &c->builtin[i];

		r->kind = table[i].kind;
		r->name = table[i].name;
		r->ses = strcmp(table[i].name, SENDER_SES) == 0;
		if (r->kind != K_CIDR)
			r->domain = table[i].pattern;
		else if (net_parse(table[i].pattern, &r->net) == -1) {
			classify_close(c);
			return err_set(e, "internal error: bad range %s in the "
					  "senders table",
			    table[i].pattern);
		}
	}
	c->nbuiltin = NTABLE;
	if (ses_regions_open(&c->regions, e) == -1) {
		classify_close(c);
		return -1;
	}
	if (user_file != NULL && load_user_file(c, user_file, e) == -1) {
		classify_close(c);
		return -1;
	}
	if (index_domains(c) == -1 || index_ranges(c) == -1) {
		classify_close(c);
		return err_set(e, "out of memory");
	}
	*out = c;
	return 0;
}

void
classify_close(struct classifier *c)
{
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < c->nstrings; i++)
		free(c->strings[i]);
	free(c->strings);
	free(c->builtin);
	free(c->user);
	free(c->dom);
	free(c->ipx);
	ses_regions_close(c->regions);
	source_names_free(c->names);
	free(c);
}

/*
 * ses-region.c - the SES region of a message and its evidence.  See
 * ses-region.h.
 */
#include "ascii.h"
#include "ses-region.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "netaddr.h"

/*
 * THE REGION TABLES -- observed, dated data.  Last checked 2026-12.
 *
 *  [sel]  The selector of the d=amazonses.com signature SES adds to every
 *         message, per region, as seen in public message headers
 *         2015-2026 that also name the region (Feedback-ID, the
 *         smtp-out.<region> host, <region>.amazonses.com).  No selector
 *         was seen in two regions.
 *  [net]  Source /24s per region from the same headers.  SES publishes
 *         only its whole ranges (the amazonses.com SPF record); parts of
 *         them were at times announced as EC2 space, so this is the
 *         weakest signal.
 *
 * Neither is documented by AWS: users add and take away entries with
 * "ses-selector:" and "ses-prefix:" lines in their --sources file.
 */
#define REGION_TABLE_DATE "2026-12"

struct pair {
	const char *key, *region;
};

static const struct pair selectors[] = {
    {"6gbrjpgwjskckoa6a5zn6fwqkn67xbtw", "us-east-1"},
    {"ug7nbtf4gccmlpwj322ax3p6ow6yfsug", "us-east-1"},
    {"224i4yxa5dv7c2xz3womw6peuasteono", "us-east-1"},
    {"xplzuhjr4seloozmmorg6obznvt7ijlt", "us-east-2"},
    {"voqdhibj3ww47nmt5hkqcrgg7xiynmza", "us-west-1"},
    {"7v7vs6w47njt4pimodk5mmttbegzsi6n", "us-west-2"},
    {"gdwg2y3kokkkj5a55z2ilkup5wp5hhxx", "us-west-2"},
    {"hsbnp7p3ensaochzwyq5wwmceodymuwv", "us-west-2"},
    {"uku4taia5b5tsbglxyj6zym32efj7xqv", "eu-west-1"},
    {"shh3fegwg5fppqsuzphvschd53n6ihuv", "eu-west-1"},
    {"ihchhvubuqgjsxyuhssfvqohv7z3u4hn", "eu-west-1"},
    {"oovztaqzkyknbrqeeifugvu4e7zh66l3", "eu-west-2"},
    {"4f4zjvqxldhskhj4hokzolcvnsn5qejk", "eu-west-3"},
    {"54ecsf3zk7z4mwxwwox7z7bg6e5gwjsz", "eu-central-1"},
    {"bw45wyq3hkghdoq32obql4uyexcghmc7", "eu-north-1"},
    {"zpkik46mrueu52d3326ufxxchortqmoc", "ap-south-1"},
    {"pd64dbxfdcqqbvadj6zks7h7qe3c33ao", "ap-southeast-1"},
    {"o6ptibvfbllhpdhtxr7klizy2riobquz", "ap-southeast-2"},
    {"ulrbq2zjesb42hdt6rpnifgor3epinsy", "ap-southeast-2"},
    {"zh4gjftm6etwoq6afzugpky45synznly", "ap-northeast-1"},
    {"cwxpcqz2jsbnzswvvpljj7cdg74la37w", "ap-northeast-2"},
};

static const struct pair prefixes[] = {
    {"54.240.8.0/24", "us-east-1"},
    {"54.240.9.0/24", "us-east-1"},
    {"54.240.10.0/24", "us-east-1"},
    {"54.240.35.0/24", "us-east-1"},
    {"54.240.37.0/24", "us-east-1"},
    {"54.240.48.0/24", "us-east-1"},
    {"23.251.226.0/24", "us-east-2"},
    {"23.251.242.0/24", "us-west-1"},
    {"54.240.27.0/24", "us-west-2"},
    {"54.240.6.0/24", "eu-west-1"},
    {"54.240.7.0/24", "eu-west-1"},
    {"23.249.218.0/24", "eu-west-2"},
    {"76.223.132.0/24", "eu-west-2"},
    {"23.251.246.0/24", "eu-west-3"},
    {"69.169.224.0/24", "eu-central-1"},
    {"69.169.227.0/24", "eu-central-1"},
    {"69.169.228.0/24", "eu-central-1"},
    {"23.251.240.0/24", "eu-north-1"},
    {"76.223.180.0/24", "ap-south-1"},
    {"23.251.232.0/24", "ap-southeast-1"},
    {"69.169.232.0/24", "ap-southeast-2"},
    {"23.251.234.0/24", "ap-northeast-1"},
    {"23.251.235.0/24", "ap-northeast-1"},
    {"76.223.177.0/24", "ap-northeast-2"},
    {"23.249.208.0/24", "ca-central-1"},
};

#define NSEL    (sizeof(selectors) / sizeof(selectors[0]))
#define NPREFIX (sizeof(prefixes) / sizeof(prefixes[0]))

/* The user's entries; region NULL takes the built-in entry away. */
struct user_selector {
	char *selector, *region;
};

struct user_prefix {
	struct net net;
	char *region;
};

struct ses_regions {
	struct net builtin_net[NPREFIX];
	struct user_selector *usel;
	size_t nusel;
	struct user_prefix *upre;
	size_t nupre;
};

static const char *const evidence_names[] = {"none", "ip", "ptr",
                                             "dkim-selector", "mail-from"};

const char *
region_evidence_name(enum region_evidence ev)
{
	return evidence_names[ev];
}

const char *
ses_regions_table_date(void)
{
	return REGION_TABLE_DATE;
}

int
ses_regions_open(struct ses_regions **out, struct err *e)
{
	struct ses_regions *t;
	size_t i;

	if ((t = calloc(1, sizeof(*t))) == NULL)
		return err_set(e, "out of memory");
	for (i = 0; i < NPREFIX; i++)
		if (net_parse(prefixes[i].key, &t->builtin_net[i]) == -1) {
			free(t);
			return err_set(e,
			               "internal error: bad prefix %s in "
			               "the SES region table",
			               prefixes[i].key);
		}
	*out = t;
	return 0;
}

void
ses_regions_close(struct ses_regions *t)
{
	size_t i;

	if (t == NULL)
		return;
	for (i = 0; i < t->nusel; i++) {
		free(t->usel[i].selector);
		free(t->usel[i].region);
	}
	for (i = 0; i < t->nupre; i++)
		free(t->upre[i].region);
	free(t->usel);
	free(t->upre);
	free(t);
}

int
ses_domain_matches(const char *name, const char *pattern)
{
	size_t n = strlen(name), p = strlen(pattern);

	while (n > 0 && name[n - 1] == '.')
		n--;
	if (n < p || strncasecmp(name + n - p, pattern, p) != 0)
		return 0;
	return n == p || name[n - p - 1] == '.';
}

/* Shaped like an AWS region: two letters, one or more words, a number
 * ("eu-west-1", "us-gov-west-1", "ap-southeast-5"). */
static int
region_shaped(const char *s, size_t n)
{
	size_t i = 0, part = 0, len;

	while (i <= n) {
		len = 0;
		while (i + len < n && s[i + len] != '-')
			len++;
		if (len == 0)
			return 0;
		for (size_t k = 0; k < len; k++) {
			char ch = s[i + k];
			int letter = ch >= 'a' && ch <= 'z';
			int digit = ch >= '0' && ch <= '9';

			if (i + len == n ? !digit : !letter)
				return 0;
		}
		if (part == 0 && len != 2)
			return 0;
		part++;
		i += len + 1;
	}
	return part >= 3;
}

/* The region label of s (n bytes, any case) into region, when it is
 * shaped like one; else REGION_UNKNOWN. */
static void
region_label(const char *s, size_t n, char *region, size_t len)
{
	char r[REGION_MAX];
	size_t i;

	snprintf(region, len, "%s", REGION_UNKNOWN);
	if (n >= sizeof(r))
		return;
	for (i = 0; i < n; i++)
		r[i] = (char)ascii_lower((unsigned char)s[i]);
	r[n] = '\0';
	if (region_shaped(r, n))
		snprintf(region, len, "%s", r);
}

int
ses_domain_region(const char *domain, char *region, size_t len)
{
	static const char base[] = "amazonses.com";
	size_t n, b = sizeof(base) - 1;

	if (domain == NULL || !ses_domain_matches(domain, base))
		return 0;
	snprintf(region, len, "%s", REGION_UNKNOWN);
	n = strlen(domain);
	while (n > 0 && domain[n - 1] == '.')
		n--;
	if (n == b) {
		snprintf(region, len, "us-east-1");
		return 1;
	}
	/* exactly one label before ".amazonses.com" */
	n -= b + 1;
	if (memchr(domain, '.', n) == NULL)
		region_label(domain, n, region, len);
	return 1;
}

/*
 * <host>.smtp-out.amazonses.com is us-east-1 and
 * <host>.smtp-out.<region>.amazonses.com that region (every region but
 * us-east-1 has its label in the name): exactly one host label.
 */
int
ses_ptr_region(const char *name, char *region, size_t len)
{
	static const char base[] = ".amazonses.com", mid[] = ".smtp-out";
	const char *dot, *rest;
	size_t n;

	if (name == NULL)
		return 0;
	n = strlen(name);
	while (n > 0 && name[n - 1] == '.')
		n--;
	if (n < sizeof(base) || strncasecmp(name + n - (sizeof(base) - 1), base,
	                                    sizeof(base) - 1) != 0)
		return 0;
	n -= sizeof(base) - 1; /* name[0..n) is "<host>.smtp-out[.<r>]" */
	if ((dot = memchr(name, '.', n)) == NULL || dot == name)
		return 0;
	rest = dot; /* ".smtp-out[.<region>]" */
	if ((size_t)(name + n - rest) < sizeof(mid) - 1 ||
	    strncasecmp(rest, mid, sizeof(mid) - 1) != 0)
		return 0;
	rest += sizeof(mid) - 1;
	if (rest == name + n) {
		snprintf(region, len, "us-east-1");
		return 1;
	}
	if (*rest != '.' ||
	    memchr(rest + 1, '.', (size_t)(name + n - rest - 1)))
		return 0;
	region_label(rest + 1, (size_t)(name + n - rest - 1), region, len);
	return 1;
}

/* ---------------------------------------------------------------------
 * Look-ups.
 */

/* The region of an amazonses.com selector: the user's entries, then the
 * built-in ones; NULL when none has it (or the user took it away, *found
 * then set). */
static const char *
selector_region(const struct ses_regions *t, const char *sel, int *found)
{
	size_t i;

	*found = 1;
	for (i = 0; i < t->nusel; i++)
		if (strcasecmp(t->usel[i].selector, sel) == 0)
			return t->usel[i].region;
	for (i = 0; i < NSEL; i++)
		if (strcasecmp(selectors[i].key, sel) == 0)
			return selectors[i].region;
	*found = 0;
	return NULL;
}

/* The user's most specific prefix, then the built-in table. */
static const char *
prefix_region(const struct ses_regions *t, const char *ip)
{
	const struct user_prefix *best = NULL;
	struct net a;
	size_t i;

	if (ip == NULL || net_parse_addr(ip, &a) == -1)
		return NULL;
	for (i = 0; i < t->nupre; i++)
		if (net_contains(&t->upre[i].net, &a) &&
		    (best == NULL || t->upre[i].net.bits > best->net.bits))
			best = &t->upre[i];
	if (best != NULL)
		return best->region;
	for (i = 0; i < NPREFIX; i++)
		if (net_contains(&t->builtin_net[i], &a))
			return prefixes[i].region;
	return NULL;
}

static int
is_pass(const char *s)
{
	return s != NULL && strcmp(s, "pass") == 0;
}

/* The MAIL FROM's region: envelope_from, then the SPF domains (not for
 * HELO); NULL when none names one. */
static const char *
mail_from_region(const char *envelope_from, const struct dmarc_spf *spf,
                 size_t nspf, char *buf, size_t len)
{
	size_t i;

	if (ses_domain_region(envelope_from, buf, len) &&
	    strcmp(buf, REGION_UNKNOWN) != 0)
		return buf;
	for (i = 0; i < nspf; i++)
		if ((spf[i].scope == NULL ||
		     strcmp(spf[i].scope, "helo") != 0) &&
		    ses_domain_region(spf[i].domain, buf, len) &&
		    strcmp(buf, REGION_UNKNOWN) != 0)
			return buf;
	return NULL;
}

/* The name is amazonses.com itself (any case, trailing dots). */
static int
is_amazonses(const char *d)
{
	size_t n = strlen(d);

	while (n > 0 && d[n - 1] == '.')
		n--;
	return n == 13 && strncasecmp(d, "amazonses.com", 13) == 0;
}

/* The region of the amazonses.com signatures' selectors, passing ones
 * first; the first selector in no table goes to *unknown. */
static const char *
dkim_region(const struct ses_regions *t, const struct dmarc_dkim *dkim,
            size_t ndkim, const char **unknown)
{
	const char *r;
	size_t i;
	int pass, found;

	for (pass = 1; pass >= 0; pass--)
		for (i = 0; i < ndkim; i++) {
			if (dkim[i].domain == NULL ||
			    dkim[i].selector == NULL ||
			    is_pass(dkim[i].result) != pass ||
			    !is_amazonses(dkim[i].domain))
				continue;
			if ((r = selector_region(t, dkim[i].selector,
			                         &found)) != NULL)
				return r;
			if (!found && *unknown == NULL)
				*unknown = dkim[i].selector;
		}
	return NULL;
}

void
ses_region_guess(const struct ses_regions *t, const char *source_ip,
                 const char *ptr, const char *envelope_from,
                 const struct dmarc_spf *spf, size_t nspf,
                 const struct dmarc_dkim *dkim, size_t ndkim,
                 struct region_guess *out)
{
	char mf[REGION_MAX], pr[REGION_MAX];
	const char *said[EVIDENCE_MAIL_FROM + 1] = {NULL};
	size_t used = 0;
	int ev, best = EVIDENCE_NONE;

	memset(out, 0, sizeof(*out));
	said[EVIDENCE_MAIL_FROM] =
	    mail_from_region(envelope_from, spf, nspf, mf, sizeof(mf));
	said[EVIDENCE_DKIM_SELECTOR] =
	    dkim_region(t, dkim, ndkim, &out->unknown_selector);
	if (ses_ptr_region(ptr, pr, sizeof(pr)) &&
	    strcmp(pr, REGION_UNKNOWN) != 0)
		said[EVIDENCE_PTR] = pr;
	said[EVIDENCE_IP] = prefix_region(t, source_ip);
	for (ev = EVIDENCE_MAIL_FROM; ev > EVIDENCE_NONE; ev--)
		if (said[ev] != NULL && best == EVIDENCE_NONE)
			best = ev;
	out->evidence = (enum region_evidence)best;
	snprintf(out->region, sizeof(out->region), "%s",
	         best != EVIDENCE_NONE ? said[best] : REGION_UNKNOWN);
	/* a weaker signal that names another region: say so */
	for (ev = best - 1; ev > EVIDENCE_NONE; ev--) {
		if (said[ev] == NULL || strcmp(said[ev], out->region) == 0)
			continue;
		if (used == 0)
			used = (size_t)snprintf(
			    out->note, sizeof(out->note), "region from %s (%s)",
			    evidence_names[best], out->region);
		if (used < sizeof(out->note))
			used += (size_t)snprintf(
			    out->note + used, sizeof(out->note) - used,
			    "; %s says %s", evidence_names[ev], said[ev]);
	}
}

/* ---------------------------------------------------------------------
 * The user's lines.
 */

static int
valid_selector(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && n <= 63 &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyz"
	                 "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") == n;
}

static int
add_selector(struct ses_regions *t, const char *sel, const char *region)
{
	struct user_selector *n;

	if ((n = realloc(t->usel, (t->nusel + 1) * sizeof(*n))) == NULL)
		return -1;
	t->usel = n;
	n[t->nusel].selector = strdup(sel);
	n[t->nusel].region = region ? strdup(region) : NULL;
	if (n[t->nusel].selector == NULL || (region && !n[t->nusel].region)) {
		free(n[t->nusel].selector);
		free(n[t->nusel].region);
		return -1;
	}
	t->nusel++;
	return 0;
}

static int
add_prefix(struct ses_regions *t, const struct net *net, const char *region)
{
	struct user_prefix *n;

	if ((n = realloc(t->upre, (t->nupre + 1) * sizeof(*n))) == NULL)
		return -1;
	t->upre = n;
	n[t->nupre].net = *net;
	n[t->nupre].region = region ? strdup(region) : NULL;
	if (region && !n[t->nupre].region)
		return -1;
	t->nupre++;
	return 0;
}

int
ses_regions_user_line(struct ses_regions *t, const char *key, const char *value,
                      const char *file, unsigned long line, int *rc,
                      struct err *e)
{
	static const char ksel[] = "ses-selector:", kpre[] = "ses-prefix:";
	const char *region = value;
	struct net net;
	int is_sel = strncasecmp(key, ksel, sizeof(ksel) - 1) == 0;

	if (!is_sel && strncasecmp(key, kpre, sizeof(kpre) - 1) != 0)
		return 0;
	key += is_sel ? sizeof(ksel) - 1 : sizeof(kpre) - 1;
	if (strcmp(value, "-") == 0)
		region = NULL;
	else if (!region_shaped(value, strlen(value))) {
		*rc = err_set(e,
		              "%s:%lu: '%.40s' is not an AWS region name "
		              "such as eu-west-1 (or - to take a built-in "
		              "entry away)",
		              file, line, value);
		return 1;
	}
	if (is_sel && !valid_selector(key)) {
		*rc = err_set(e,
		              "%s:%lu: '%.80s' is not a DKIM selector "
		              "(letters, digits, '-', '_', '.')",
		              file, line, key);
		return 1;
	}
	if (!is_sel && net_parse(key, &net) == -1) {
		*rc = err_set(e,
		              "%s:%lu: '%.80s' is not an address range "
		              "(54.240.8.0/24, 2001:db8::/32)",
		              file, line, key);
		return 1;
	}
	if ((is_sel ? add_selector(t, key, region)
	            : add_prefix(t, &net, region)) == -1)
		*rc = err_set(e, "out of memory");
	else
		*rc = 0;
	return 1;
}

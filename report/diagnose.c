/*
 * diagnose.c - the SES causes and their fixes.  See diagnose.h and
 * docs/ses.md.
 */
#include "diagnose.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char *const codes[CAUSE_COUNT] = {
    "default-mail-from",
    "no-easy-dkim",
    "dkim-fail",
    "mail-from-spf-fail",
    "strict-alignment",
    "region-gap",
};

const char *
cause_code(unsigned bit)
{
	int i;

	for (i = 0; i < CAUSE_COUNT; i++)
		if (bit == 1u << i)
			return codes[i];
	return NULL;
}

void
causes_format(unsigned causes, char *out, size_t len)
{
	size_t used = 0;
	int i;

	if (len == 0)
		return;
	out[0] = '\0';
	for (i = 0; i < CAUSE_COUNT; i++)
		if (causes & (1u << i) && used < len)
			used += (size_t)snprintf(out + used, len - used, "%s%s",
			    used ? ";" : "", codes[i]);
}

static int
is(const char *s, const char *word)
{
	return s != NULL && strcmp(s, word) == 0;
}

const char *
diag_mail_from(const char *envelope_from, const struct dmarc_spf *spf,
    size_t nspf)
{
	size_t i;

	if (envelope_from != NULL)
		return envelope_from;
	for (i = 0; i < nspf; i++)
		if (spf[i].domain != NULL && !is(spf[i].scope, "helo"))
			return spf[i].domain;
	return NULL;
}

/* The SPF result reported for domain (not a HELO check); NULL when the
 * receiver reports none for it. */
static const char *
spf_result_for(const char *domain, const struct dmarc_spf *spf, size_t nspf)
{
	size_t i;

	for (i = 0; domain != NULL && i < nspf; i++)
		if (spf[i].domain != NULL && !is(spf[i].scope, "helo") &&
		    strcasecmp(spf[i].domain, domain) == 0)
			return spf[i].result;
	return NULL;
}

static void
keep(const char **dst, const char *src)
{
	if (*dst == NULL)
		*dst = src;
}

static unsigned
spf_bit(const char *res)
{
	static const char *const words[] = {"none", "neutral", "fail",
	    "softfail", "policy", "temperror", "permerror"};
	unsigned i;

	if (res == NULL)
		return SPF_NONE;
	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (strcmp(res, words[i]) == 0)
			return 1u << i;
	return SPF_OTHER;
}

static char
mode(const char *m)
{
	return m != NULL && m[0] == 's' ? 's' : 'r';
}

/*
 * SPF side, when the receiver failed SPF alignment:
 *  - the MAIL FROM (or an SPF domain) is SES's own: default-mail-from;
 *  - it is in the From domain's organization but SPF did not pass:
 *    mail-from-spf-fail -- when no record answered (none, permerror), or
 *    when the record answered no for an address SES sends from.  A fail
 *    from anywhere else is mail forwarded by a third party, which no DNS
 *    change fixes;
 *  - it passed, is in the organization, but aspf=s: strict-alignment.
 */
static unsigned
spf_causes(const struct align *a, const struct classifier *c,
    const struct diag_input *in, struct diag_hint *h)
{
	const char *mf = diag_mail_from(in->envelope_from, in->spf, in->nspf);
	const char *res;
	char region[REGION_MAX];
	enum align_level l;
	size_t i;

	if (classify_ses_domain(in->envelope_from, region, sizeof(region)))
		return CAUSE_DEFAULT_MAIL_FROM;
	for (i = 0; i < in->nspf; i++)
		if (!is(in->spf[i].scope, "helo") &&
		    classify_ses_domain(in->spf[i].domain, region,
			sizeof(region)))
			return CAUSE_DEFAULT_MAIL_FROM;
	if (mf == NULL ||
	    (l = align_compare(a, mf, in->header_from)) == ALIGN_NONE)
		return 0;
	res = spf_result_for(mf, in->spf, in->nspf);
	if (!is(res, "pass")) {
		if (res != NULL && !is(res, "none") && !is(res, "permerror") &&
		    !classify_ip_is_ses(c, in->source_ip))
			return 0;
		keep(&h->mail_from, mf);
		h->spf_results |= spf_bit(res);
		return CAUSE_MAIL_FROM_SPF_FAIL;
	}
	if (mode(in->aspf) == 's' && l == ALIGN_RELAXED) {
		keep(&h->strict_spf, mf);
		return CAUSE_STRICT_ALIGNMENT;
	}
	return 0;
}

/*
 * DKIM side, when the receiver failed DKIM alignment, looking at the
 * signatures in the From domain's organization ("own"):
 *  - none (only d=amazonses.com, or nothing): no-easy-dkim;
 *  - some, none passing: dkim-fail;
 *  - one passing, but adkim=s and none for the exact name: strict.
 */
static unsigned
dkim_causes(const struct align *a, const struct diag_input *in,
    struct diag_hint *h)
{
	const struct dmarc_dkim *fail = NULL, *pass = NULL;
	enum align_level l;
	size_t i, own = 0;

	for (i = 0; i < in->ndkim; i++) {
		l = align_compare(a, in->dkim[i].domain, in->header_from);
		if (l == ALIGN_NONE)
			continue;
		own++;
		if (is(in->dkim[i].result, "pass")) {
			if (l == ALIGN_STRICT || mode(in->adkim) == 'r')
				return 0; /* aligned and passing */
			if (pass == NULL)
				pass = &in->dkim[i];
		} else if (fail == NULL) {
			fail = &in->dkim[i];
		}
	}
	if (own == 0)
		return CAUSE_NO_EASY_DKIM;
	if (pass != NULL) {
		keep(&h->strict_dkim, pass->domain);
		return CAUSE_STRICT_ALIGNMENT;
	}
	if (h->dkim_domain == NULL) {
		h->dkim_domain = fail->domain;
		h->dkim_selector = fail->selector;
	}
	return CAUSE_DKIM_FAIL;
}

unsigned
diagnose(const struct align *a, const struct classifier *c,
    const struct diag_input *in, struct diag_hint *hint)
{
	struct diag_hint scratch;
	unsigned causes = 0;

	if (hint == NULL) {
		memset(&scratch, 0, sizeof(scratch));
		hint = &scratch;
	}
	keep(&hint->policy_domain, in->domain);
	if (in->spf_fails)
		causes |= spf_causes(a, c, in, hint);
	if (in->dkim_fails)
		causes |= dkim_causes(a, in, hint);
	return causes;
}

/* ---------------------------------------------------------------------
 * Fixes.
 */

struct text {
	char *p;
	size_t len, used;
};

static void
say(struct text *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
say(struct text *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (t->used >= t->len)
		return;
	if (t->used > 0)
		t->p[t->used++] = ' ';
	if (t->used >= t->len) {
		t->p[t->len - 1] = '\0';
		return;
	}
	va_start(ap, fmt);
	n = vsnprintf(t->p + t->used, t->len - t->used, fmt, ap);
	va_end(ap);
	if (n > 0)
		t->used += (size_t)n;
}

/* "none or softfail" */
static void
spf_words(unsigned bits, char *out, size_t len)
{
	static const char *const words[] = {"none", "neutral", "fail",
	    "softfail", "policy", "temperror", "permerror", "another result"};
	size_t used = 0, i, n = 0, k = 0;

	for (i = 0; i < 8; i++)
		n += (bits >> i) & 1;
	out[0] = '\0';
	for (i = 0; i < 8 && used < len; i++)
		if (bits & (1u << i))
			used += (size_t)snprintf(out + used, len - used, "%s%s",
			    k++ == 0 ? "" : k == n ? " or " : ", ", words[i]);
	if (n == 0)
		snprintf(out, len, "no pass");
}

void
fix_format(unsigned causes, const char *region, const char *header_from,
    const struct diag_hint *h, char *out, size_t len)
{
	static const struct diag_hint no_hint;
	struct text t = {out, len, 0};
	int known = region != NULL && strcmp(region, REGION_UNKNOWN) != 0;
	const char *hf = header_from != NULL ? header_from : "your domain";
	const char *pd = hf;
	char where[96], mx[96], results[96];

	if (len == 0)
		return;
	out[0] = '\0';
	if (h == NULL)
		h = &no_hint;
	if (h->policy_domain != NULL)
		pd = h->policy_domain;
	if (known) {
		snprintf(where, sizeof(where), "SES region %s", region);
		snprintf(mx, sizeof(mx), "feedback-smtp.%s.amazonses.com",
		    region);
	} else {
		snprintf(where, sizeof(where),
		    "the SES region that sends this mail (the report does not "
		    "show which)");
		snprintf(mx, sizeof(mx),
		    "feedback-smtp.<region>.amazonses.com");
	}
	if (causes & CAUSE_DEFAULT_MAIL_FROM)
		say(&t, "In %s, give the identity %s a custom MAIL FROM "
			"domain (a subdomain used for nothing else, e.g. "
			"bounce-%s.%s) and publish on it MX 10 %s and TXT "
			"\"v=spf1 include:amazonses.com ~all\".",
		    where, hf, known ? region : "ses", hf, mx);
	if (causes & CAUSE_NO_EASY_DKIM)
		say(&t, "In %s, enable Easy DKIM on the identity %s and "
			"publish the three <token>._domainkey.%s CNAME "
			"records it shows.",
		    where, hf, hf);
	if (causes & CAUSE_DKIM_FAIL) {
		const char *d = h->dkim_domain ? h->dkim_domain : hf;

		if (h->dkim_selector != NULL)
			say(&t, "The DKIM signature for %s fails: Easy DKIM in "
				"%s is Pending or Failed, so check that the "
				"CNAME %s._domainkey.%s and its two siblings "
				"exist and point exactly where SES shows.",
			    d, where, h->dkim_selector, d);
		else
			say(&t, "The DKIM signature for %s fails: Easy DKIM in "
				"%s is Pending or Failed, so check that its "
				"three <token>._domainkey.%s CNAME records "
				"exist and point exactly where SES shows.",
			    d, where, d);
	}
	if (causes & CAUSE_MAIL_FROM_SPF_FAIL) {
		const char *mf = h->mail_from ? h->mail_from
					      : "the MAIL FROM domain";

		spf_words(h->spf_results, results, sizeof(results));
		say(&t, "SPF for the custom MAIL FROM domain %s gives %s: "
			"publish TXT \"v=spf1 include:amazonses.com ~all\" on "
			"%s itself (a record on %s does not cover it), next "
			"to its MX 10 %s%s.",
		    mf, results, mf, pd, mx,
		    known ? "" : ", for the SES region that sends this mail "
				 "(the report does not show which)");
	}
	if (causes & CAUSE_STRICT_ALIGNMENT) {
		if (h->strict_spf != NULL)
			say(&t, "%s publishes aspf=s, and an SES custom MAIL "
				"FROM such as %s must be a subdomain, so SPF "
				"can never align with %s: set aspf=r in the "
				"TXT record at _dmarc.%s, or rely on DKIM "
				"alone.",
			    pd, h->strict_spf, hf, pd);
		if (h->strict_dkim != NULL)
			say(&t, "%s publishes adkim=s, so the DKIM signature "
				"for %s cannot align with %s: set adkim=r in "
				"the TXT record at _dmarc.%s, or verify %s "
				"itself in %s and sign with it.",
			    pd, h->strict_dkim, hf, pd, hf, where);
	}
	if (causes & CAUSE_REGION_GAP)
		say(&t, "Mail for %s passes both alignments through SES "
			"elsewhere: repeat that setup (custom MAIL FROM and "
			"Easy DKIM, or a Deterministic Easy DKIM replica) in "
			"%s, as identities are set up per region.",
		    hf, where);
	if (causes == 0)
		say(&t, "No SES setting explains these failures: the records "
			"show the identifiers aligned and passing, or mail "
			"relayed by a forwarder or mailing list; see "
			"dmarc-report records for the details.");
}

/*
 * diagnose.c - the SES causes and their fixes.  See diagnose.h and
 * docs/ses.md.
 */
#include "diagnose.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "text.h"

static const char *const codes[CAUSE_COUNT] = {
    "default-mail-from",
    "no-easy-dkim",
    "dkim-fail",
    "mail-from-spf-fail",
    "strict-alignment",
    "region-gap",
    "dkim-records-changed",
    "byodkim-mismatch",
    "signed-before-ses",
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

/* An Easy DKIM token: 32 characters of base32 (a-z, 2-7). */
static int
easy_dkim_token(const char *sel)
{
	return strlen(sel) == 32 &&
	       strspn(sel, "abcdefghijklmnopqrstuvwxyz234567") == 32;
}

/* Selectors other signers use (Google Workspace, Microsoft 365, SendGrid,
 * Mailchimp, Mandrill, Zendesk, HubSpot, and the usual names of an own
 * MTA's signer): such a signature was made before the message reached
 * SES, and SES's changes to the message (headers it adds or rewrites)
 * broke it. */
static int
other_signer(const char *sel)
{
	static const char *const names[] = {"google", "selector1",
	    "selector2", "s1", "s2", "k1", "k2", "k3", "mte1", "mte2",
	    "zendesk1", "zendesk2", "hs1", "hs2", "default", "mail", "dkim",
	    "smtp", "mx"};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcasecmp(sel, names[i]) == 0)
			return 1;
	return strlen(sel) == 8 && strspn(sel, "0123456789") == 8; /* date */
}

/* Why a signature for the From domain fails, from its selector (0 when
 * the report gives none). */
static unsigned
dkim_fail_kind(const char *sel)
{
	if (sel == NULL || *sel == '\0')
		return 0;
	if (easy_dkim_token(sel) || strcasecmp(sel, "resend") == 0)
		return CAUSE_DKIM_RECORDS_CHANGED;
	if (other_signer(sel))
		return CAUSE_SIGNED_BEFORE_SES;
	return CAUSE_BYODKIM_MISMATCH;
}

/* Whether an amazonses.com signature is there and fails. */
static int
ses_signature_fails(const struct diag_input *in)
{
	size_t i;

	for (i = 0; i < in->ndkim; i++)
		if (in->dkim[i].domain != NULL &&
		    strcasecmp(in->dkim[i].domain, "amazonses.com") == 0 &&
		    !is(in->dkim[i].result, "pass"))
			return 1;
	return 0;
}

/*
 * DKIM side, when the receiver failed DKIM alignment, looking at the
 * signatures in the From domain's organization ("own"):
 *  - none (only d=amazonses.com, or nothing): no-easy-dkim;
 *  - some, none passing: dkim-fail, with what the selectors of the
 *    failing ones say (dkim_fail_kind);
 *  - one passing, but adkim=s and none for the exact name: strict.
 */
static unsigned
dkim_causes(const struct align *a, const struct diag_input *in,
    struct diag_hint *h)
{
	const struct dmarc_dkim *fail = NULL, *pass = NULL;
	enum align_level l;
	unsigned kinds = 0;
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
		} else {
			kinds |= dkim_fail_kind(in->dkim[i].selector);
			if (fail == NULL)
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
	if (ses_signature_fails(in))
		h->ses_dkim_fails = 1;
	return CAUSE_DKIM_FAIL | kinds;
}

const char *
diag_product(const struct diag_input *in)
{
	const char *mf = diag_mail_from(in->envelope_from, in->spf, in->nspf);
	size_t i;

	for (i = 0; i < in->ndkim; i++)
		if (in->dkim[i].selector != NULL &&
		    strcasecmp(in->dkim[i].selector, "resend") == 0)
			return "Resend";
	if (mf == NULL || in->header_from == NULL)
		return NULL;
	if (strncasecmp(mf, "send.", 5) == 0 &&
	    strcasecmp(mf + 5, in->header_from) == 0)
		return "Resend";
	if (strcasecmp(mf, in->header_from) == 0)
		return "Amazon WorkMail";
	return NULL;
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
	if (hint->product == NULL)
		hint->product = diag_product(in);
	if (in->spf_fails)
		causes |= spf_causes(a, c, in, hint);
	if (in->dkim_fails)
		causes |= dkim_causes(a, in, hint);
	return causes;
}

/* ---------------------------------------------------------------------
 * Fixes.
 */

static void
say(struct text *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Appends a sentence to t, after a space when t holds one already. */
static void
say(struct text *t, const char *fmt, ...)
{
	va_list ap;

	if (t->used >= t->len)
		return;
	if (t->used > 0)
		t->p[t->used++] = ' ';
	if (t->used >= t->len) {
		t->p[t->len - 1] = '\0';
		return;
	}
	va_start(ap, fmt);
	text_vput(t, fmt, ap);
	va_end(ap);
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

/* Where the fixes happen and the MX a new MAIL FROM domain gets. */
struct place {
	int known;
	char where[96], mx[96];
};

static void
place_of(const char *region, struct place *p)
{
	p->known = region != NULL && strcmp(region, REGION_UNKNOWN) != 0;
	if (p->known) {
		snprintf(p->where, sizeof(p->where), "SES region %s", region);
		snprintf(p->mx, sizeof(p->mx),
		    "feedback-smtp.%s.amazonses.com", region);
	} else {
		snprintf(p->where, sizeof(p->where),
		    "the SES region that sends this mail (the report does not "
		    "show which)");
		snprintf(p->mx, sizeof(p->mx),
		    "feedback-smtp.<region>.amazonses.com");
	}
}

/* "bounce.example.com, the MAIL FROM domain already working in
 * us-east-1".  (The words come as arguments: a format naming "MAIL FROM"
 * reads as SQL to tests/integration/test_sql_lint.py.) */
static void
working_words(const struct diag_hint *h, char *out, size_t len)
{
	static const char mf[] = "MAIL FROM";

	if (h->working_region != NULL &&
	    strcmp(h->working_region, REGION_UNKNOWN) != 0)
		snprintf(out, len, "%s, the %s domain already working in %s",
		    h->working_mail_from, mf, h->working_region);
	else
		snprintf(out, len, "%s, the %s domain already working for it "
				   "elsewhere",
		    h->working_mail_from, mf);
}

static void
fix_mail_from(struct text *t, const struct place *p, const char *hf,
    const struct diag_hint *h, unsigned causes)
{
	char working[256];

	if (h->working_mail_from != NULL) {
		working_words(h, working, sizeof(working));
		say(t, "In %s, set the MAIL FROM attribute of the identity %s "
		       "to %s; keep that domain's one MX record as it is (one "
		       "MX serves every region: a second MX breaks the custom "
		       "MAIL FROM everywhere).",
		    p->where, hf, working);
	} else
		say(t, "In %s, give the identity %s a custom MAIL FROM domain "
		       "(a subdomain used for nothing else, e.g. bounce.%s) "
		       "and publish on it exactly one MX record, 10 %s (it "
		       "serves every region), and TXT \"v=spf1 "
		       "include:amazonses.com ~all\".",
		    p->where, hf, hf, p->mx);
	if (!(causes & CAUSE_NO_EASY_DKIM))
		say(t, "If the identity has a custom MAIL FROM already, SES "
		       "fell back to its default because the MAIL FROM status "
		       "is Pending or Failed: check MailFromDomainStatus and "
		       "that the domain has exactly one MX record.");
}

static void
fix_no_dkim(struct text *t, const struct place *p, const char *hf,
    const struct diag_hint *h, unsigned causes)
{
	say(t, "In %s, enable Easy DKIM on the identity %s (or make it a "
	       "Deterministic Easy DKIM replica of an identity that signs "
	       "elsewhere) and publish the three <token>._domainkey.%s CNAME "
	       "records it shows; while its DKIM status is Pending or Failed "
	       "SES does not sign with %s at all.",
	    p->where, hf, hf, hf);
	if ((causes & CAUSE_DEFAULT_MAIL_FROM) || h->same_region_healthy)
		say(t, "SES sends only for an identity it has, so one exists "
		       "there without this setup: an individually verified "
		       "e-mail address (it uses its own MAIL FROM and DKIM "
		       "settings, not the domain's), a domain verified by the "
		       "legacy TXT record, or DKIM signing turned off (aws "
		       "sesv2 put-email-identity-dkim-attributes "
		       "--signing-enabled).");
}

static void
fix_dkim_fail(struct text *t, const struct place *p, const char *hf,
    const struct diag_hint *h, unsigned causes)
{
	const char *d = h->dkim_domain ? h->dkim_domain : hf;
	const char *sel = h->dkim_selector ? h->dkim_selector : "<selector>";

	if (h->ses_dkim_fails) {
		say(t, "The signature for %s and SES's amazonses.com signature "
		       "both fail: the message was changed after SES sent it "
		       "(a gateway or list on the way); no SES setting fixes "
		       "that.",
		    d);
		return;
	}
	say(t, "The signature for %s (selector %s) fails while SES's own "
	       "passes; SES signs with %s only once its DKIM is verified, so "
	       "this is not a Pending setup.",
	    d, sel, d);
	if (causes & CAUSE_DKIM_RECORDS_CHANGED)
		say(t, "The records changed after verification: check that "
		       "%s._domainkey.%s still points exactly where %s shows "
		       "(dig +short CNAME %s._domainkey.%s).",
		    sel, d, p->where, sel, d);
	if (causes & CAUSE_BYODKIM_MISMATCH)
		say(t, "With Bring Your Own DKIM, the TXT record (not a CNAME) "
		       "at %s._domainkey.%s must hold the public key of the "
		       "private key and selector given to SES in %s.",
		    sel, d, p->where);
	if (causes & CAUSE_SIGNED_BEFORE_SES)
		say(t, "Selector %s is another signer's: the message was signed "
		       "before it reached SES (your application or MTA), and "
		       "SES's changes broke that signature; sign in SES "
		       "instead (Easy DKIM) or stop the earlier signing.",
		    sel);
	if (!(causes & (CAUSE_DKIM_RECORDS_CHANGED | CAUSE_BYODKIM_MISMATCH |
			  CAUSE_SIGNED_BEFORE_SES)))
		say(t, "Check the records at %s._domainkey.%s against what %s "
		       "shows for the identity.",
		    sel, d, p->where);
}

static void
fix_spf(struct text *t, const struct place *p, const char *pd,
    const struct diag_hint *h)
{
	const char *mf = h->mail_from ? h->mail_from : "the MAIL FROM domain";
	char results[96];

	spf_words(h->spf_results, results, sizeof(results));
	if (h->product != NULL && strcmp(h->product, "Amazon WorkMail") == 0) {
		say(t, "SPF for %s gives %s: publish include:amazonses.com in "
		       "the SPF record of %s itself.",
		    mf, results, mf);
		return;
	}
	say(t, "SPF for the custom MAIL FROM domain %s gives %s: publish TXT "
	       "\"v=spf1 include:amazonses.com ~all\" on %s itself (a record "
	       "on %s does not cover it), beside its one MX record, 10 %s%s.",
	    mf, results, mf, pd, p->mx,
	    p->known ? "" : " of the SES region that sends this mail (the "
			    "report does not show which)");
}

static void
fix_strict(struct text *t, const struct place *p, const char *pd,
    const char *hf, const struct diag_hint *h)
{
	if (h->strict_spf != NULL)
		say(t, "%s publishes aspf=s (strict): SPF aligns only when "
		       "the MAIL FROM is exactly %s, and an SES custom MAIL "
		       "FROM such as %s is a subdomain (sending From that "
		       "subdomain is what AWS advises against): set aspf=r in "
		       "the TXT record at _dmarc.%s, or rely on DKIM alone.",
		    pd, hf, h->strict_spf, pd);
	if (h->strict_dkim != NULL)
		say(t, "%s publishes adkim=s (strict): the signature for %s is "
		       "not exactly %s, so it cannot align: set adkim=r in the "
		       "TXT record at _dmarc.%s, or verify %s itself in %s and "
		       "sign with it.",
		    pd, h->strict_dkim, hf, pd, hf, p->where);
}

static void
fix_region_gap(struct text *t, const struct place *p, const char *hf,
    const struct diag_hint *h, unsigned causes)
{
	char working[256];

	if (causes & (CAUSE_DEFAULT_MAIL_FROM | CAUSE_NO_EASY_DKIM)) {
		say(t, "Mail for %s passes both alignments through SES "
		       "elsewhere, and identities are per region: the steps "
		       "above give %s the same setup.",
		    hf, p->where);
	} else if (h->working_mail_from != NULL) {
		working_words(h, working, sizeof(working));
		say(t, "Mail for %s passes both alignments through SES "
		       "elsewhere, and identities are per region: in %s, set "
		       "the identity's MAIL FROM attribute to %s (its one MX "
		       "record stays as it is: never add a second) and enable "
		       "Easy DKIM there, or make the identity a Deterministic "
		       "Easy DKIM replica of the working one.",
		    hf, p->where, working);
	} else
		say(t, "Mail for %s passes both alignments through SES "
		       "elsewhere, and identities are per region: repeat that "
		       "setup in %s (the same custom MAIL FROM domain with its "
		       "one MX record, and Easy DKIM or a Deterministic Easy "
		       "DKIM replica).",
		    hf, p->where);
}

static void
fix_product(struct text *t, const char *product)
{
	if (strcmp(product, "Resend") == 0)
		say(t, "This is Resend mail (sent through SES): its MAIL FROM "
		       "(send.<domain>) and DKIM (selector resend) are set in "
		       "Resend's Domains page, not in the SES console; compare "
		       "the DNS records with the ones Resend lists there.");
	else
		say(t, "This looks like Amazon WorkMail mail (the MAIL FROM is "
		       "the From domain itself, which an SES custom MAIL FROM "
		       "never is): DKIM and SPF for it are set for the "
		       "WorkMail organization's domain (WorkMail console, "
		       "Domains), not for an SES sending identity.");
}

void
fix_format(unsigned causes, const char *region, const char *header_from,
    const struct diag_hint *h, char *out, size_t len)
{
	static const struct diag_hint no_hint;
	struct text t = {out, len, 0};
	const char *hf = header_from != NULL ? header_from : "your domain";
	const char *pd = hf;
	struct place p;

	if (len == 0)
		return;
	out[0] = '\0';
	if (h == NULL)
		h = &no_hint;
	if (h->policy_domain != NULL)
		pd = h->policy_domain;
	place_of(region, &p);
	if (h->product != NULL)
		fix_product(&t, h->product);
	if (causes & CAUSE_DEFAULT_MAIL_FROM)
		fix_mail_from(&t, &p, hf, h, causes);
	if (causes & CAUSE_NO_EASY_DKIM)
		fix_no_dkim(&t, &p, hf, h, causes);
	if (causes & CAUSE_DKIM_FAIL)
		fix_dkim_fail(&t, &p, hf, h, causes);
	if (causes & CAUSE_MAIL_FROM_SPF_FAIL)
		fix_spf(&t, &p, pd, h);
	if (causes & CAUSE_STRICT_ALIGNMENT)
		fix_strict(&t, &p, pd, hf, h);
	if (causes & CAUSE_REGION_GAP)
		fix_region_gap(&t, &p, hf, h, causes);
	if (causes == 0)
		say(&t, "No SES setting explains these failures: the records "
			"show the identifiers aligned and passing, or mail "
			"relayed by a forwarder or mailing list; see "
			"dmarc-report records for the details.");
}

/*
 * test_classify.c - the senders table, the user's --sources file, the SES
 * region, and the SES causes and fixes (report/classify.c, diagnose.c).
 */
#include <stdio.h>
#include <unistd.h>

#include "align.h"
#include "check.h"
#include "classify.h"
#include "diagnose.h"

static struct classifier *
open_table(const char *user_text)
{
	struct classifier *c = NULL;
	char path[] = "/tmp/dmarcsift-classify-XXXXXX";
	struct err e;
	FILE *f;
	int fd;

	if (user_text == NULL) {
		CHECK_INT(classify_open(&c, NULL, &e), 0);
		return c;
	}
	fd = mkstemp(path);
	CHECK(fd != -1);
	f = fdopen(fd, "w");
	fputs(user_text, f);
	fclose(f);
	if (classify_open(&c, path, &e) == -1) {
		fprintf(stderr, "classify_open: %s\n", e.msg);
		c = NULL;
	}
	unlink(path);
	return c;
}

/* The error classify_open gives for a user file. */
static const char *
open_error(const char *user_text)
{
	static struct err e;
	struct classifier *c = NULL;
	char path[] = "/tmp/dmarcsift-classify-XXXXXX";
	FILE *f;
	int fd = mkstemp(path);

	f = fdopen(fd, "w");
	fputs(user_text, f);
	fclose(f);
	if (classify_open(&c, path, &e) == 0) {
		classify_close(c);
		snprintf(e.msg, sizeof(e.msg), "(accepted)");
	}
	unlink(path);
	return e.msg;
}

static struct sender
run(struct classifier *c, const char *ip, const char *env,
    const char *spf_domain, const char *dkim_domain, const char *dkim_result)
{
	struct dmarc_spf spf = {spf_domain, "mfrom", "pass", NULL};
	struct dmarc_dkim dkim = {dkim_domain, "sel", dkim_result, NULL};
	struct sender s;

	classify(c, ip, env, &spf, spf_domain ? 1 : 0, &dkim,
	    dkim_domain ? 1 : 0, &s);
	return s;
}

static const char *
region_of(const char *domain)
{
	static char r[REGION_MAX];

	if (!classify_ses_domain(domain, r, sizeof(r)))
		return NULL;
	return r;
}

TEST(ses_region_from_mail_from)
{
	CHECK_STR(region_of("amazonses.com"), "us-east-1");
	CHECK_STR(region_of("AmazonSES.com."), "us-east-1");
	CHECK_STR(region_of("eu-west-1.amazonses.com"), "eu-west-1");
	CHECK_STR(region_of("us-gov-west-1.amazonses.com"), "us-gov-west-1");
	CHECK_STR(region_of("ap-southeast-5.amazonses.com"), "ap-southeast-5");
	/* SES, but no region is readable: never guessed */
	CHECK_STR(region_of("email.amazonses.com"), REGION_UNKNOWN);
	CHECK_STR(region_of("a8-70.smtp-out.amazonses.com"), REGION_UNKNOWN);
	CHECK_STR(region_of("x.eu-west-1.amazonses.com"), REGION_UNKNOWN);
	CHECK_STR(region_of("eu-west.amazonses.com"), REGION_UNKNOWN);
	CHECK_STR(region_of("eu-west-1x.amazonses.com"), REGION_UNKNOWN);
	CHECK_STR(region_of("e-west-1.amazonses.com"), REGION_UNKNOWN);
	CHECK_STR(region_of("eu--1.amazonses.com"), REGION_UNKNOWN);
	/* not SES at all */
	CHECK(region_of("notamazonses.com") == NULL);
	CHECK(region_of("amazonses.com.example.net") == NULL);
	CHECK(region_of("example.com") == NULL);
	CHECK(region_of(NULL) == NULL);
}

TEST(ses_signals_strongest_first)
{
	struct classifier *c = open_table(NULL);
	struct sender s;

	/* the MAIL FROM gives the region */
	s = run(c, "54.240.7.12", "eu-west-1.amazonses.com", NULL, NULL, NULL);
	CHECK_STR(s.name, SENDER_SES);
	CHECK(s.ses);
	CHECK_STR(s.region, "eu-west-1");
	CHECK_INT(s.via, SIGNAL_BOUNCE);
	/* no envelope_from (Google, Yahoo): the SPF domain does */
	s = run(c, "192.0.2.1", NULL, "amazonses.com", NULL, NULL);
	CHECK_STR(s.region, "us-east-1");
	CHECK_INT(s.via, SIGNAL_BOUNCE);
	/* the d=amazonses.com signature: SES, region unknown */
	s = run(c, "192.0.2.1", "bounce.example.com", "bounce.example.com",
	    "amazonses.com", "pass");
	CHECK(s.ses);
	CHECK_STR(s.region, REGION_UNKNOWN);
	CHECK_INT(s.via, SIGNAL_DKIM);
	/* a failing signature proves nothing about the sending address */
	s = run(c, "192.0.2.1", "lists.example.org", "lists.example.org",
	    "amazonses.com", "fail");
	CHECK(s.name == NULL);
	/* the address only */
	s = run(c, "69.169.224.5", "mail.example.com", "mail.example.com",
	    "example.com", "pass");
	CHECK(s.ses);
	CHECK_STR(s.region, "eu-central-1"); /* the /24 table */
	CHECK_INT(s.evidence, EVIDENCE_IP);
	CHECK_INT(s.via, SIGNAL_IP);
	s = run(c, "54.240.94.118", "mail.example.com", "mail.example.com",
	    "example.com", "pass");
	CHECK_STR(s.region, REGION_UNKNOWN); /* a /24 in no table */
	CHECK_INT(s.evidence, EVIDENCE_NONE);
	s = run(c, "24.110.127.255", NULL, NULL, NULL, NULL);
	CHECK(s.ses);
	s = run(c, "24.110.128.0", NULL, NULL, NULL, NULL);
	CHECK(s.name == NULL);
	/* IPv4-mapped IPv6 is the IPv4 address */
	s = run(c, "::ffff:54.240.8.70", NULL, NULL, NULL, NULL);
	CHECK(s.ses);
	CHECK(classify_ip_is_ses(c, "54.240.63.255"));
	CHECK(!classify_ip_is_ses(c, "54.240.128.0"));
	CHECK(!classify_ip_is_ses(c, "not an address"));
	CHECK(!classify_ip_is_ses(c, NULL));
	classify_close(c);
}

TEST(other_senders)
{
	struct classifier *c = open_table(NULL);
	struct sender s;

	s = run(c, "209.85.220.41", "example.com", "example.com",
	    "example.com", "pass");
	CHECK_STR(s.name, "Google Workspace");
	CHECK_INT(s.via, SIGNAL_IP);
	CHECK_STR(s.region, "");
	s = run(c, "192.0.2.9", "example.com", "example.com",
	    "example-com.20230601.gappssmtp.com", "pass");
	CHECK_STR(s.name, "Google Workspace");
	CHECK_INT(s.via, SIGNAL_DKIM);
	s = run(c, "2a00:1450:4864:20::62e", NULL, NULL, NULL, NULL);
	CHECK_STR(s.name, "Google Workspace");
	s = run(c, "192.0.2.9", "example.com", "example.com",
	    "contoso.onmicrosoft.com", "pass");
	CHECK_STR(s.name, "Microsoft 365");
	s = run(c, "40.107.243.101", "example.com", "example.com",
	    "example.com", "pass");
	CHECK_STR(s.name, "Microsoft 365");
	CHECK_INT(s.via, SIGNAL_IP);
	s = run(c, "2a01:111:f403:c000::1", NULL, NULL, NULL, NULL);
	CHECK_STR(s.name, "Microsoft 365");
	s = run(c, "149.72.123.24", "sendgrid.net", "sendgrid.net",
	    "example.com", "pass");
	CHECK_STR(s.name, "SendGrid");
	CHECK_INT(s.via, SIGNAL_BOUNCE);
	s = run(c, "192.0.2.9", "mg.example.com", "mg.example.com",
	    "mailgun.org", "pass");
	CHECK_STR(s.name, "Mailgun");
	s = run(c, "192.0.2.9", "mail229.wdc02.mcdlv.net", NULL, NULL, NULL);
	CHECK_STR(s.name, "Mailchimp");
	s = run(c, "192.0.2.9", "mandrillapp.com", NULL, NULL, NULL);
	CHECK_STR(s.name, "Mailchimp Transactional");
	s = run(c, "192.0.2.9", "pm.mtasv.net", NULL, NULL, NULL);
	CHECK_STR(s.name, "Postmark");
	s = run(c, "192.0.2.9", "sparkpostmail.com", NULL, NULL, NULL);
	CHECK_STR(s.name, "SparkPost");
	s = run(c, "192.0.2.9", "example.com", "example.com", "zendesk.com",
	    "pass");
	CHECK_STR(s.name, "Zendesk");
	s = run(c, "192.0.2.9", "bf05x.hubspotemail.net", NULL, NULL, NULL);
	CHECK_STR(s.name, "HubSpot");
	s = run(c, "192.0.2.9", "x.y.bnc.salesforce.com", NULL, NULL, NULL);
	CHECK_STR(s.name, "Salesforce");
	/* a look-alike is not the sender */
	s = run(c, "192.0.2.9", "notsendgrid.net", "notsendgrid.net", NULL,
	    NULL);
	CHECK(s.name == NULL);
	/* unknown: no name, callers name it by address */
	s = run(c, "198.51.100.23", "mx.cheap-deals.test",
	    "mx.cheap-deals.test", NULL, NULL);
	CHECK(s.name == NULL);
	CHECK(!s.ses);
	CHECK_INT(s.via, SIGNAL_NONE);
	CHECK(classify_table_date()[0] == '2');
	classify_close(c);
}

TEST(user_file_extends_and_overrides)
{
	struct classifier *c = open_table(
	    "\xef\xbb\xbf" "cidr_or_domain,name\r\n"
	    "# our own relays\n"
	    "\n"
	    "192.0.2.0/24, Office relay\n"
	    "192.0.2.128/25,\"Relay, DMZ \"\"B\"\"\"\n"
	    "2001:DB8::/32,Lab\n"
	    "203.0.113.7,Amazon SES\n"
	    "*.bounces.example.org,Newsletter Co\n"
	    "24.110.64.0/18,-\n"
	    "sendgrid.net,-\n");
	struct sender s;

	CHECK(c != NULL);
	if (c == NULL)
		return;
	s = run(c, "192.0.2.9", NULL, NULL, NULL, NULL);
	CHECK_STR(s.name, "Office relay");
	/* the most specific range wins */
	s = run(c, "192.0.2.200", NULL, NULL, NULL, NULL);
	CHECK_STR(s.name, "Relay, DMZ \"B\"");
	s = run(c, "2001:db8:4b1::25", NULL, NULL, NULL, NULL);
	CHECK_STR(s.name, "Lab");
	/* a dedicated SES address */
	s = run(c, "203.0.113.7", NULL, NULL, NULL, NULL);
	CHECK(s.ses);
	CHECK_STR(s.region, REGION_UNKNOWN);
	CHECK(classify_ip_is_ses(c, "203.0.113.7"));
	/* domains match below themselves */
	s = run(c, "198.51.100.1", "x.bounces.example.org", NULL, NULL, NULL);
	CHECK_STR(s.name, "Newsletter Co");
	/* "-" takes a built-in range away */
	s = run(c, "24.110.64.1", NULL, NULL, NULL, NULL);
	CHECK(s.name == NULL);
	CHECK(!classify_ip_is_ses(c, "24.110.64.1"));
	/* ... and a built-in domain, so the next signal decides */
	s = run(c, "149.72.123.24", "sendgrid.net", "sendgrid.net", NULL, NULL);
	CHECK(s.name == NULL);
	/* a domain signal still beats a user's range */
	s = run(c, "192.0.2.9", "amazonses.com", NULL, NULL, NULL);
	CHECK(s.ses);
	CHECK_STR(s.region, "us-east-1");
	classify_close(c);
}

TEST(user_file_errors)
{
	struct classifier *c = NULL;
	struct err e;

	CHECK_CONTAINS(open_error("192.0.2.0/33,X\n"), ":1:");
	CHECK_CONTAINS(open_error("192.0.2.0/33,X\n"), "neither an address");
	CHECK_CONTAINS(open_error("# c\nexample..com,X\n"), ":2:");
	CHECK_CONTAINS(open_error("example.com\n"),
	    "expected cidr_or_domain,name");
	CHECK_CONTAINS(open_error("example.com,\n"), "no name");
	CHECK_CONTAINS(open_error("example.com,\"open\n"), "badly quoted");
	CHECK_CONTAINS(open_error("300.1.2.3,X\n"), "neither an address");
	CHECK_STR(open_error("example.com,A\n10.0.0.0/8,B\n"), "(accepted)");
	CHECK_INT(classify_open(&c, "/nonexistent/sources.csv", &e), -1);
	CHECK_CONTAINS(e.msg, "/nonexistent/sources.csv");
	CHECK_CONTAINS(e.msg, "No such file");
}

/* ---------------------------------------------------------------------
 * Causes, in the shapes of examples/README.md's scenarios.
 */

struct fixture {
	struct align *a;
	struct classifier *c;
};

static struct fixture
fixture(void)
{
	struct fixture f;
	struct err e;

	CHECK_INT(align_open(&f.a, &e), 0);
	CHECK_INT(classify_open(&f.c, NULL, &e), 0);
	return f;
}

static void
fixture_close(struct fixture *f)
{
	align_close(f->a);
	classify_close(f->c);
}

static const char *
causes(struct fixture *f, const char *ip, const char *hf, const char *env,
    const char *spf_domain, const char *spf_result,
    const struct dmarc_dkim *dkim, size_t ndkim, const char *mode,
    int spf_fails, int dkim_fails, struct diag_hint *hint)
{
	static char out[160];
	struct dmarc_spf spf = {spf_domain, NULL, spf_result, NULL};
	struct diag_input in;

	memset(&in, 0, sizeof(in));
	in.domain = hf;
	in.source_ip = ip;
	in.header_from = hf;
	in.envelope_from = env;
	in.adkim = in.aspf = mode;
	in.dkim = dkim;
	in.ndkim = ndkim;
	in.spf = &spf;
	in.nspf = spf_domain ? 1 : 0;
	in.spf_fails = spf_fails;
	in.dkim_fails = dkim_fails;
	causes_format(diagnose(f->a, f->c, &in, hint), out, sizeof(out));
	return out;
}

TEST(causes_of_the_scenarios)
{
	struct fixture f = fixture();
	const struct dmarc_dkim both_pass[] = {
	    {"example.com", "h3kq", "pass", NULL},
	    {"amazonses.com", "rmx7", "pass", NULL}};
	const struct dmarc_dkim ses_only[] = {
	    {"amazonses.com", "5bk2", "pass", NULL}};
	const struct dmarc_dkim own_fails[] = {
	    {"example.com", "wq5bn3ezk7dtcj2mxh6pyvlfogr4asiu", "fail", NULL},
	    {"amazonses.com", "vjy3", "pass", NULL}};
	const struct dmarc_dkim net_pass[] = {
	    {"example.net", "ce2a", "pass", NULL},
	    {"amazonses.com", "rmx7", "pass", NULL}};
	struct diag_hint h;

	/* A: default MAIL FROM, DKIM aligned */
	CHECK_STR(causes(&f, "54.240.8.70", "example.com", NULL,
		      "amazonses.com", "pass", both_pass, 2, "r", 1, 0, NULL),
	    "default-mail-from");
	/* B: default MAIL FROM, only d=amazonses.com */
	CHECK_STR(causes(&f, "54.240.7.12", "example.com",
		      "eu-west-1.amazonses.com", "eu-west-1.amazonses.com",
		      "pass", ses_only, 1, "r", 1, 1, NULL),
	    "default-mail-from;no-easy-dkim");
	/* C: healthy */
	CHECK_STR(causes(&f, "69.169.224.5", "example.com", "mail.example.com",
		      "mail.example.com", "pass", both_pass, 2, "r", 0, 0,
		      NULL),
	    "");
	/* D: custom MAIL FROM without SPF: none anywhere, softfail at an
	 * SES address */
	memset(&h, 0, sizeof(h));
	CHECK_STR(causes(&f, "23.251.226.12", "example.com",
		      "bounce.example.com", "bounce.example.com", "none",
		      both_pass, 2, "r", 1, 0, &h),
	    "mail-from-spf-fail");
	CHECK_STR(causes(&f, "54.240.94.118", "example.com",
		      "bounce.example.com", "bounce.example.com", "softfail",
		      both_pass, 2, "r", 1, 0, &h),
	    "mail-from-spf-fail");
	CHECK_STR(h.mail_from, "bounce.example.com");
	CHECK_INT(h.spf_results, SPF_NONE | SPF_SOFTFAIL);
	/* ... but a softfail from a forwarder's address is not SES's */
	CHECK_STR(causes(&f, "192.0.2.77", "example.com", "bounce.example.com",
		      "bounce.example.com", "softfail", both_pass, 2, "r", 1,
		      0, NULL),
	    "");
	/* E: default MAIL FROM, the From domain's signature fails */
	memset(&h, 0, sizeof(h));
	CHECK_STR(causes(&f, "54.240.27.22", "example.com",
		      "us-west-2.amazonses.com", "us-west-2.amazonses.com",
		      "pass", own_fails, 2, "r", 1, 1, &h),
	    "default-mail-from;dkim-fail;dkim-records-changed");
	CHECK_STR(h.dkim_selector, "wq5bn3ezk7dtcj2mxh6pyvlfogr4asiu");
	/* F: aspf=s with a subdomain MAIL FROM */
	memset(&h, 0, sizeof(h));
	CHECK_STR(causes(&f, "54.240.8.83", "example.net", "mail.example.net",
		      "mail.example.net", "pass", net_pass, 2, "s", 1, 0, &h),
	    "strict-alignment");
	CHECK_STR(h.strict_spf, "mail.example.net");
	/* adkim=s, signed by the parent, From a subdomain */
	CHECK_STR(causes(&f, "54.240.8.83", "news.example.net",
		      "news.example.net", "news.example.net", "pass", net_pass,
		      2, "s", 0, 1, NULL),
	    "strict-alignment");
	/* a cause only for an alignment the receiver failed */
	CHECK_STR(causes(&f, "54.240.7.12", "example.com",
		      "eu-west-1.amazonses.com", "eu-west-1.amazonses.com",
		      "pass", ses_only, 1, "r", 0, 0, NULL),
	    "");
	fixture_close(&f);
}

TEST(cause_order_and_codes)
{
	char out[200];

	causes_format(CAUSE_REGION_GAP | CAUSE_DEFAULT_MAIL_FROM |
		CAUSE_STRICT_ALIGNMENT | CAUSE_DKIM_FAIL |
		CAUSE_MAIL_FROM_SPF_FAIL | CAUSE_NO_EASY_DKIM,
	    out, sizeof(out));
	CHECK_STR(out, "default-mail-from;no-easy-dkim;dkim-fail;"
		       "mail-from-spf-fail;strict-alignment;region-gap");
	causes_format(0, out, sizeof(out));
	CHECK_STR(out, "");
	CHECK_STR(cause_code(CAUSE_NO_EASY_DKIM), "no-easy-dkim");
	CHECK(cause_code(3) == NULL);
}

TEST(fixes_name_setting_record_and_region)
{
	struct diag_hint h;
	char out[4096];

	memset(&h, 0, sizeof(h));
	fix_format(CAUSE_DEFAULT_MAIL_FROM, "eu-west-1", "example.com", &h,
	    out, sizeof(out));
	CHECK_CONTAINS(out, "SES region eu-west-1");
	CHECK_CONTAINS(out, "custom MAIL FROM");
	CHECK_CONTAINS(out,
	    "exactly one MX record, 10 feedback-smtp.eu-west-1.amazonses.com");
	CHECK_CONTAINS(out, "\"v=spf1 include:amazonses.com ~all\"");
	fix_format(CAUSE_NO_EASY_DKIM, "us-east-1", "example.com", &h, out,
	    sizeof(out));
	CHECK_CONTAINS(out, "Easy DKIM");
	CHECK_CONTAINS(out, "three");
	CHECK_CONTAINS(out, "CNAME");
	CHECK_CONTAINS(out, "us-east-1");
	h.dkim_domain = "example.com";
	h.dkim_selector = "wq5bn3ez";
	fix_format(CAUSE_DKIM_FAIL, "us-west-2", "example.com", &h, out,
	    sizeof(out));
	CHECK_CONTAINS(out, "wq5bn3ez._domainkey.example.com");
	CHECK_CONTAINS(out, "us-west-2");
	h.mail_from = "bounce.example.com";
	h.spf_results = SPF_NONE | SPF_SOFTFAIL;
	fix_format(CAUSE_MAIL_FROM_SPF_FAIL, REGION_UNKNOWN, "example.com", &h,
	    out, sizeof(out));
	CHECK_CONTAINS(out, "none or softfail");
	CHECK_CONTAINS(out, "on bounce.example.com itself");
	CHECK_CONTAINS(out, "does not show which");
	CHECK(strstr(out, "us-east-1") == NULL); /* never guessed */
	h.strict_spf = "mail.example.net";
	fix_format(CAUSE_STRICT_ALIGNMENT, REGION_UNKNOWN, "example.net", &h,
	    out, sizeof(out));
	CHECK_CONTAINS(out, "aspf=r");
	CHECK_CONTAINS(out, "_dmarc.example.net");
	fix_format(CAUSE_REGION_GAP, "eu-west-1", "example.com", NULL, out,
	    sizeof(out));
	CHECK_CONTAINS(out, "repeat");
	CHECK_CONTAINS(out, "eu-west-1");
	fix_format(0, "eu-west-1", "example.com", NULL, out, sizeof(out));
	CHECK_CONTAINS(out, "No SES setting");
	/* a small buffer is cut, never overrun */
	fix_format(CAUSE_DEFAULT_MAIL_FROM | CAUSE_REGION_GAP, "eu-west-1",
	    "example.com", NULL, out, 10);
	CHECK_INT(strlen(out), 9);
}

TEST(mail_from_of_a_record)
{
	const struct dmarc_spf spf[] = {
	    {"helo.example.org", "helo", "pass", NULL},
	    {"bounce.example.com", NULL, "none", NULL}};

	CHECK_STR(diag_mail_from("env.example.com", spf, 2), "env.example.com");
	CHECK_STR(diag_mail_from(NULL, spf, 2), "bounce.example.com");
	CHECK(diag_mail_from(NULL, spf, 1) == NULL);
	CHECK(diag_mail_from(NULL, NULL, 0) == NULL);
}

/* ---------------------------------------------------------------------
 * The SES region and its evidence (ses-region.c).
 */

static const char *
ptr_region(const char *name)
{
	static char r[REGION_MAX];

	if (!ses_ptr_region(name, r, sizeof(r)))
		return NULL;
	return r;
}

TEST(ptr_names_of_ses_hosts)
{
	CHECK_STR(ptr_region("a8-70.smtp-out.amazonses.com"), "us-east-1");
	CHECK_STR(ptr_region("A8-70.SMTP-OUT.AmazonSES.com."), "us-east-1");
	CHECK_STR(ptr_region("a7-12.smtp-out.eu-west-1.amazonses.com"),
	    "eu-west-1");
	CHECK_STR(ptr_region("e234-52.smtp-out.ap-northeast-1.amazonses.com"),
	    "ap-northeast-1");
	/* SES, but the label is no region */
	CHECK_STR(ptr_region("b1-2.smtp-out.eu-west.amazonses.com"),
	    REGION_UNKNOWN);
	/* not an SES host name */
	CHECK(ptr_region("smtp-out.amazonses.com") == NULL);
	CHECK(ptr_region(".smtp-out.amazonses.com") == NULL);
	CHECK(ptr_region("x.y.smtp-out.amazonses.com") == NULL);
	CHECK(ptr_region("a1.smtp-out.a.b.amazonses.com") == NULL);
	CHECK(ptr_region("a1.smtp-in.amazonses.com") == NULL);
	CHECK(ptr_region("a1.smtp-out.amazonses.com.evil.test") == NULL);
	CHECK(ptr_region("mail-sor-f65.google.com") == NULL);
	CHECK(ptr_region(NULL) == NULL);
}

static struct sender
run_ptr(struct classifier *c, const char *ip, const char *ptr,
    const char *env, const char *ses_selector)
{
	struct dmarc_spf spf = {env, "mfrom", "pass", NULL};
	struct dmarc_dkim dkim = {"amazonses.com", ses_selector, "pass", NULL};
	struct classify_input in = {ip, ptr, env, &spf, env ? 1 : 0, &dkim,
	    ses_selector ? 1 : 0};
	struct sender s;

	classify_record(c, &in, &s);
	return s;
}

TEST(region_evidence_strongest_first)
{
	struct classifier *c = open_table(NULL);
	struct sender s;

	/* the PTR beats the /24 and says so */
	s = run_ptr(c, "54.240.8.9", "a8-9.smtp-out.eu-west-1.amazonses.com",
	    "mail.example.com", NULL);
	CHECK_STR(s.region, "eu-west-1");
	CHECK_INT(s.evidence, EVIDENCE_PTR);
	CHECK_STR(s.note, "region from ptr (eu-west-1); ip says us-east-1");
	/* ... and a bare smtp-out name is us-east-1 */
	s = run_ptr(c, "54.240.94.1", "a94-1.smtp-out.amazonses.com",
	    "mail.example.com", NULL);
	CHECK_STR(s.region, "us-east-1");
	CHECK_INT(s.evidence, EVIDENCE_PTR);
	CHECK_STR(s.note, "");
	/* the selector beats the PTR */
	s = run_ptr(c, "54.240.94.1", "a94-1.smtp-out.amazonses.com",
	    "mail.example.com", "uku4taia5b5tsbglxyj6zym32efj7xqv");
	CHECK_STR(s.region, "eu-west-1");
	CHECK_INT(s.evidence, EVIDENCE_DKIM_SELECTOR);
	CHECK_STR(s.note, "region from dkim-selector (eu-west-1); ptr says "
			  "us-east-1");
	/* the MAIL FROM beats everything */
	s = run_ptr(c, "54.240.8.9", "a8-9.smtp-out.amazonses.com",
	    "eu-north-1.amazonses.com", "xplzuhjr4seloozmmorg6obznvt7ijlt");
	CHECK_STR(s.region, "eu-north-1");
	CHECK_INT(s.evidence, EVIDENCE_MAIL_FROM);
	CHECK_STR(s.note, "region from mail-from (eu-north-1); dkim-selector "
			  "says us-east-2; ptr says us-east-1; ip says us-east-1");
	/* signals that agree make no note */
	s = run_ptr(c, "54.240.7.5", NULL, "eu-west-1.amazonses.com",
	    "shh3fegwg5fppqsuzphvschd53n6ihuv");
	CHECK_STR(s.region, "eu-west-1");
	CHECK_STR(s.note, "");
	/* a selector in no table is handed back; the region stays unknown */
	s = run_ptr(c, "54.240.94.1", NULL, "mail.example.com", "nosuchsel");
	CHECK_STR(s.region, REGION_UNKNOWN);
	CHECK_INT(s.evidence, EVIDENCE_NONE);
	CHECK_STR(s.unknown_selector, "nosuchsel");
	/* an address in no SES range, named like an SES host: SES by PTR */
	s = run_ptr(c, "198.51.100.4", "d1-2.smtp-out.ca-central-1.amazonses.com",
	    NULL, NULL);
	CHECK(s.ses);
	CHECK_INT(s.via, SIGNAL_PTR);
	CHECK_STR(s.region, "ca-central-1");
	/* other senders carry no evidence */
	s = run_ptr(c, "209.85.220.41", NULL, "example.com", NULL);
	CHECK(!s.ses);
	CHECK_INT(s.evidence, EVIDENCE_NONE);
	CHECK_STR(region_evidence_name(EVIDENCE_MAIL_FROM), "mail-from");
	CHECK_STR(region_evidence_name(EVIDENCE_NONE), "none");
	classify_close(c);
}

TEST(user_region_lines)
{
	struct classifier *c = open_table(
	    "cidr_or_domain,name\n"
	    "ses-selector:mysel1,sa-east-1\n"
	    "SES-SELECTOR:uku4taia5b5tsbglxyj6zym32efj7xqv,-\n"
	    "ses-prefix:54.240.94.0/24,me-south-1\n"
	    "ses-prefix:54.240.94.128/25,af-south-1\n"
	    "ses-prefix:54.240.8.0/24,-\n");
	struct sender s;

	CHECK(c != NULL);
	if (c == NULL)
		return;
	s = run_ptr(c, "192.0.2.1", NULL, "amazonses.com", "mysel1");
	CHECK_STR(s.region, "us-east-1");
	CHECK_STR(s.note, "region from mail-from (us-east-1); dkim-selector "
			  "says sa-east-1");
	/* a built-in selector taken away is neither a region nor unknown */
	s = run_ptr(c, "54.240.94.1", NULL, "mail.example.com",
	    "uku4taia5b5tsbglxyj6zym32efj7xqv");
	CHECK_STR(s.region, "me-south-1");
	CHECK_INT(s.evidence, EVIDENCE_IP);
	CHECK(s.unknown_selector == NULL);
	/* the most specific prefix wins */
	s = run_ptr(c, "54.240.94.200", NULL, "mail.example.com", NULL);
	CHECK_STR(s.region, "af-south-1");
	/* a built-in /24 taken away */
	s = run_ptr(c, "54.240.8.70", NULL, "mail.example.com", NULL);
	CHECK(s.ses);
	CHECK_STR(s.region, REGION_UNKNOWN);
	classify_close(c);
	CHECK_CONTAINS(open_error("ses-selector:x,Europe\n"),
	    "not an AWS region name");
	CHECK_CONTAINS(open_error("ses-prefix:10.0.0.0/40,eu-west-1\n"),
	    "not an address range");
	CHECK_CONTAINS(open_error("ses-selector:,eu-west-1\n"),
	    "not a DKIM selector");
	CHECK_STR(open_error("ses-prefix:2001:db8::/32,eu-west-1\n"),
	    "(accepted)");
}

static int
transit(struct classifier *c, const char *ip, const char *spf_domain,
    const char *spf_result, const char *ses_dkim_result)
{
	struct dmarc_spf spf = {spf_domain, "mfrom", spf_result, NULL};
	struct dmarc_dkim dkim[] = {{"example.com", "tok", "fail", NULL},
	    {"amazonses.com", "sel", ses_dkim_result, NULL}};
	struct classify_input in = {ip, NULL, spf_domain, &spf,
	    spf_domain ? 1 : 0, dkim, ses_dkim_result ? 2 : 1};

	return classify_in_transit(c, &in);
}

TEST(mail_changed_in_transit)
{
	struct classifier *c = open_table(NULL);
	struct sender s;
	struct dmarc_spf spf = {"amazonses.com", "mfrom", "fail", NULL};
	struct dmarc_dkim dkim = {"amazonses.com", "sel", "fail", NULL};
	struct classify_input in = {"209.85.220.101", NULL, "amazonses.com",
	    &spf, 1, &dkim, 1};

	/* a Google forwarder: SPF fails for amazonses.com, signatures broke */
	CHECK_INT(transit(c, "209.85.220.101", "amazonses.com", "fail", "fail"),
	    1);
	/* a list with a custom MAIL FROM: the broken SES signature says it */
	CHECK_INT(transit(c, "198.51.100.7", "bounce.example.com", "fail",
		      "fail"),
	    1);
	/* SES's signature survived: SES sent it (a dedicated address) */
	CHECK_INT(transit(c, "198.51.100.7", "amazonses.com", "fail", "pass"),
	    0);
	/* SPF for SES's MAIL FROM passed: an address SES authorises */
	CHECK_INT(transit(c, "198.51.100.7", "amazonses.com", "pass", "fail"),
	    0);
	/* from an SES address: a failure there is SES's row */
	CHECK_INT(transit(c, "54.240.8.70", "amazonses.com", "fail", "fail"),
	    0);
	/* nothing of SES's broken: no SES signature, SPF none */
	CHECK_INT(transit(c, "198.51.100.7", "amazonses.com", "none", NULL), 0);
	/* no address known */
	CHECK_INT(transit(c, NULL, "amazonses.com", "fail", "fail"), 0);
	/* an SES host by its PTR */
	in.ptr = "a8-70.smtp-out.amazonses.com";
	CHECK_INT(classify_in_transit(c, &in), 0);
	in.ptr = NULL;
	/* classified by its address only, never as SES */
	classify_record(c, &in, &s);
	CHECK(s.in_transit);
	CHECK(!s.ses);
	CHECK_STR(s.name, "Google Workspace");
	classify_close(c);
}

TEST(dkim_fail_split_and_products)
{
	struct fixture f = fixture();
	const struct dmarc_dkim byod[] = {{"example.com", "mykey", "fail", NULL},
	    {"amazonses.com", "s", "pass", NULL}};
	const struct dmarc_dkim before[] = {
	    {"example.com", "selector1", "fail", NULL},
	    {"amazonses.com", "s", "pass", NULL}};
	const struct dmarc_dkim resend[] = {{"example.com", "resend", "fail", NULL},
	    {"amazonses.com", "s", "pass", NULL}};
	const struct dmarc_dkim none[] = {{"example.com", NULL, "fail", NULL},
	    {"amazonses.com", "s", "pass", NULL}};
	struct diag_hint h;
	char out[4096];

	CHECK_STR(causes(&f, "54.240.8.1", "example.com", "mail.example.com",
		      "mail.example.com", "pass", byod, 2, "r", 0, 1, NULL),
	    "dkim-fail;byodkim-mismatch");
	CHECK_STR(causes(&f, "54.240.8.1", "example.com", "mail.example.com",
		      "mail.example.com", "pass", before, 2, "r", 0, 1, NULL),
	    "dkim-fail;signed-before-ses");
	CHECK_STR(causes(&f, "54.240.8.1", "example.com", "mail.example.com",
		      "mail.example.com", "pass", none, 2, "r", 0, 1, NULL),
	    "dkim-fail");
	memset(&h, 0, sizeof(h));
	CHECK_STR(causes(&f, "54.240.8.1", "example.com", "send.example.com",
		      "send.example.com", "pass", resend, 2, "r", 0, 1, &h),
	    "dkim-fail;dkim-records-changed");
	CHECK_STR(h.product, "Resend");
	memset(&h, 0, sizeof(h));
	causes(&f, "54.240.8.1", "example.com", "example.com", "example.com",
	    "none", byod, 2, "r", 1, 1, &h);
	CHECK_STR(h.product, "Amazon WorkMail");
	fix_format(CAUSE_MAIL_FROM_SPF_FAIL, "eu-west-1", "example.com", &h, out,
	    sizeof(out));
	CHECK_CONTAINS(out, "WorkMail console");
	CHECK(strstr(out, "feedback-smtp") == NULL); /* its MX is the inbox */
	causes_format(CAUSE_SIGNED_BEFORE_SES | CAUSE_DKIM_FAIL |
		CAUSE_REGION_GAP | CAUSE_BYODKIM_MISMATCH |
		CAUSE_DKIM_RECORDS_CHANGED,
	    out, sizeof(out));
	CHECK_STR(out, "dkim-fail;region-gap;dkim-records-changed;"
		       "byodkim-mismatch;signed-before-ses");
	fixture_close(&f);
}

TEST(region_gap_fix_keeps_one_mx)
{
	struct diag_hint h;
	char out[4096];

	memset(&h, 0, sizeof(h));
	h.working_mail_from = "bounce.example.com";
	h.working_region = "us-east-1";
	fix_format(CAUSE_REGION_GAP | CAUSE_DKIM_FAIL, "eu-west-1",
	    "example.com", &h, out, sizeof(out));
	CHECK_CONTAINS(out, "set the identity's MAIL FROM attribute to "
			    "bounce.example.com, the MAIL FROM domain already "
			    "working in us-east-1");
	CHECK_CONTAINS(out, "never add a second");
	CHECK(strstr(out, "feedback-smtp.eu-west-1") == NULL);
	h.working_region = REGION_UNKNOWN;
	fix_format(CAUSE_DEFAULT_MAIL_FROM, "eu-west-1", "example.com", &h, out,
	    sizeof(out));
	CHECK_CONTAINS(out, "already working for it elsewhere");
	CHECK(strstr(out, "feedback-smtp.eu-west-1") == NULL);
}

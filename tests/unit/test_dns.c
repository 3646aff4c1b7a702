/*
 * test_dns.c - the parts of dns/ that need no server: host-name checks,
 * reverse names, server lists, escaping, the DNS message reader (with
 * hostile messages), DMARC record parsing and SES names.  The resolver
 * itself is tested against Knot in tests/integration/test_dns_*.py.
 */
#include <arpa/inet.h>

#include "check.h"
#include "dns-impl.h"
#include "records.h"

static int
name_ok(const char *in, const char *want)
{
	char out[DNS_NAME_MAX];

	if (dns_name_check(in, out, sizeof(out), 0) == -1)
		return want == NULL;
	return want != NULL && strcmp(out, want) == 0;
}

TEST(host_names)
{
	char long_label[80], long_name[300];

	CHECK(name_ok("MX1.Example.COM.", "mx1.example.com"));
	CHECK(name_ok("a27-22.smtp-out.us-west-2.amazonses.com",
	              "a27-22.smtp-out.us-west-2.amazonses.com"));
	CHECK(name_ok("bad name.example.com", NULL));
	CHECK(name_ok("-lead.example.com", NULL));
	CHECK(name_ok("trail-.example.com", NULL));
	CHECK(name_ok("a..b", NULL));
	CHECK(name_ok("", NULL));
	CHECK(name_ok(".", NULL));
	CHECK(name_ok("x\x1b[31m.example", NULL));
	CHECK(name_ok("caf\xc3\xa9.example", NULL));
	CHECK(name_ok("_dmarc.example.com", NULL));
	memset(long_label, 'a', 64);
	long_label[64] = '\0';
	CHECK(name_ok(long_label, NULL));
	long_label[63] = '\0';
	CHECK(name_ok(long_label, long_label));
	memset(long_name, 'a', sizeof(long_name));
	for (int i = 50; i < 299; i += 50)
		long_name[i] = '.';
	long_name[254] = '\0'; /* 254 bytes: one too many */
	CHECK(name_ok(long_name, NULL));
	{
		char out[DNS_NAME_MAX];
		CHECK_INT(
		    dns_name_check("_dmarc.example.com", out, sizeof(out), 1),
		    0);
		CHECK_INT(
		    dns_name_check("a_b.example.com", out, sizeof(out), 1), -1);
	}
}

TEST(reverse_names)
{
	char out[80];
	unsigned char a[16];
	int fam;

	CHECK_INT(dns_reverse_name("198.51.100.10", out, sizeof(out), a, &fam),
	          0);
	CHECK_STR(out, "10.100.51.198.in-addr.arpa");
	CHECK_INT(fam, AF_INET);
	CHECK_INT(dns_reverse_name("2001:db8::10", out, sizeof(out), a, &fam),
	          0);
	CHECK_STR(out, "0.1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d."
	               "0.1.0.0.2.ip6.arpa");
	CHECK_INT(dns_reverse_name("198.51.100", out, sizeof(out), a, &fam),
	          -1);
	CHECK_INT(dns_reverse_name("x; rm -rf /", out, sizeof(out), a, &fam),
	          -1);
}

TEST(server_lists)
{
	struct err e;

	CHECK_INT(dns_check_servers("127.0.0.1", &e), 0);
	CHECK_INT(dns_check_servers("127.0.0.1:5353, [::1]:53,::1", &e), 0);
	CHECK_INT(dns_check_servers("localhost:53", &e), -1);
	CHECK(strstr(e.msg, "not an IP address") != NULL);
	CHECK_INT(dns_check_servers("127.0.0.1:0", &e), -1);
	CHECK_INT(dns_check_servers("127.0.0.1:65536", &e), -1);
	CHECK_INT(dns_check_servers("127.0.0.1:53x", &e), -1);
	CHECK_INT(dns_check_servers("[::1", &e), -1);
	CHECK_INT(dns_check_servers("", &e), -1);
	CHECK_INT(dns_check_servers("1.1.1.1,1.1.1.2,1.1.1.3,1.1.1.4,1.1.1.5,"
	                            "1.1.1.6,1.1.1.7,1.1.1.8,1.1.1.9",
	                            &e),
	          -1);
	CHECK(strstr(e.msg, "more than 8") != NULL);
}

TEST(escape)
{
	char out[32];

	dns_escape("a\x1b[31m\\b\x7f", out, sizeof(out));
	CHECK_STR(out, "a\\x1b[31m\\\\b\\x7f");
	dns_escape("abcdef", out, 4);
	CHECK_STR(out, "abc");
	dns_escape("ab\x01", out, 5); /* never half an escape */
	CHECK_STR(out, "ab");
}

/* A DNS response with one question and the given answer records. */
static size_t
message(unsigned char *m, const unsigned char *answers, size_t alen,
        int ancount)
{
	static const unsigned char head[] = {
	    0x12, 0x34, 0x81, 0x80, 0,   1,   0,   0,   0,   0,
	    0,    0,    7,    'e',  'x', 'a', 'm', 'p', 'l', 'e',
	    3,    'c',  'o',  'm',  0,   0,   16,  0,   1};
	memcpy(m, head, sizeof(head));
	m[7] = (unsigned char)ancount;
	memcpy(m + sizeof(head), answers, alen);
	return sizeof(head) + alen;
}

TEST(answer_txt_and_hostile)
{
	/* owner = pointer to the question name (offset 12) */
	static const unsigned char txt[] = {
	    0xc0, 12, 0,   16,  0,   1,   0, 0,   1,   0x2c, 0,
	    10,   4,  'v', '=', 's', 'p', 4, 'f', '1', ' ',  'x'};
	static const unsigned char nul[] = {0xc0, 12,   0, 16, 0, 1,   0, 0,
	                                    1,    0x2c, 0, 3,  2, 'a', 0};
	static const unsigned char overrun[] = {
	    0xc0, 12, 0, 16, 0, 1, 0, 0, 1, 0x2c, 0, 40, 2, 'a', 'b'};
	static const unsigned char loop[] = {0xc0, 29, 0,    16, 0, 1, 0,
	                                     0,    1,  0x2c, 0,  1, 0};
	unsigned char m[512];
	struct dns_answer a;
	unsigned long bad = 0;
	size_t n;

	memset(&a, 0, sizeof(a));
	n = message(m, txt, sizeof(txt), 1);
	CHECK_INT(dns_parse_answer(m, (int)n, DNS_T_TXT, &a, &bad), 0);
	CHECK(a.n == 1 && strcmp(a.rr[0].txt, "v=spf1 x") == 0);
	CHECK(a.n == 1 && a.rr[0].ttl == 300);
	dns_answer_free(&a);
	n = message(m, nul, sizeof(nul), 1);
	CHECK_INT(dns_parse_answer(m, (int)n, DNS_T_TXT, &a, &bad), 0);
	CHECK(a.n == 0 && bad == 1); /* a NUL in TXT: dropped, counted */
	dns_answer_free(&a);
	n = message(m, overrun, sizeof(overrun), 1);
	CHECK_INT(dns_parse_answer(m, (int)n, DNS_T_TXT, &a, &bad), -1);
	CHECK(bad == 2);
	dns_answer_free(&a);
	n = message(m, loop, sizeof(loop), 1); /* a name pointing at itself */
	CHECK_INT(dns_parse_answer(m, (int)n, DNS_T_TXT, &a, &bad), -1);
	dns_answer_free(&a);
	n = message(m, txt, sizeof(txt), 5); /* claims more than it holds */
	CHECK_INT(dns_parse_answer(m, (int)n, DNS_T_TXT, &a, &bad), -1);
	dns_answer_free(&a);
	CHECK_INT(dns_parse_answer(m, 11, DNS_T_TXT, &a, &bad), -1);
	CHECK_INT(dns_parse_answer(m, DNS_ANSWER_MAX + 1, DNS_T_TXT, &a, &bad),
	          -1);
}

TEST(dmarc_records)
{
	struct dmarc_policy p;
	char why[256];

	CHECK_INT(
	    records_dmarc_parse("v=DMARC1; p=reject; sp=none; pct=50; "
	                        "adkim=s; rua=mailto:a@Reports.Example!10m,"
	                        " mailto:b@x.example; foo=bar",
	                        &p, why, sizeof(why)),
	    0);
	CHECK_STR(p.p, "reject");
	CHECK_STR(p.sp, "none");
	CHECK_INT(p.pct, 50);
	CHECK(p.adkim == 's' && p.aspf == 0);
	CHECK_INT((int)p.nrua, 2);
	CHECK_STR(p.rua[0], "reports.example");
	CHECK_INT(
	    records_dmarc_parse("v=DMARC1; p=maybe", &p, why, sizeof(why)), -1);
	CHECK(strstr(why, "p=maybe") != NULL);
	CHECK_INT(
	    records_dmarc_parse("v=DMARC1; pct=101", &p, why, sizeof(why)), -1);
	CHECK_INT(records_dmarc_parse("v=DMARC1; rua=https://x.example/", &p,
	                              why, sizeof(why)),
	          -1);
	CHECK_INT(records_dmarc_parse("v=spf1 -all", &p, why, sizeof(why)), -1);
	CHECK(records_is_dmarc("v = DMARC1;p=none"));
	CHECK(!records_is_dmarc("v=DMARC10; p=none"));
	CHECK(records_is_spf("v=spf1 -all") && records_is_spf("V=SPF1"));
	CHECK(!records_is_spf("v=spf10 -all"));
}

TEST(ses_regions)
{
	char r[32];

	CHECK_INT(records_ses_region("a27-22.smtp-out.us-west-2.amazonses.com",
	                             "smtp-out", r, sizeof(r)),
	          1);
	CHECK_STR(r, "us-west-2");
	CHECK_INT(records_ses_region("a8-70.smtp-out.amazonses.com", "smtp-out",
	                             r, sizeof(r)),
	          1);
	CHECK_STR(r, "us-east-1");
	CHECK_INT(records_ses_region("feedback-smtp.eu-west-1.amazonses.com",
	                             "feedback-smtp", r, sizeof(r)),
	          1);
	CHECK_STR(r, "eu-west-1");
	CHECK_INT(records_ses_region("feedback-smtp.amazonses.com",
	                             "feedback-smtp", r, sizeof(r)),
	          0);
	CHECK_INT(records_ses_region("mx.smtp-out.us-west-2.example.com",
	                             "smtp-out", r, sizeof(r)),
	          0);
	CHECK_INT(records_ses_region("a.smtp-out.x.y.amazonses.com", "smtp-out",
	                             r, sizeof(r)),
	          0);
	CHECK_INT(records_ses_region("tok.dkim.eu-south-1.amazonses.com",
	                             "dkim", r, sizeof(r)),
	          1);
	CHECK_STR(r, "eu-south-1");
}

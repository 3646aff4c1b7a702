/*
 * test_tlsrpt.c - the SMTP TLS report parser and the failure report reader
 * on small documents written here: dates, types, normalised values.
 */
#include <string.h>

#include "arf.h"
#include "check.h"
#include "tlsrpt.h"

#define HEAD                                                                   \
	"{\"organization-name\": \"Org\", \"report-id\": \"r1\", "             \
	"\"date-range\": {\"start-datetime\": \"%s\", \"end-datetime\": "      \
	"\"2016-04-02T00:00:00Z\"}, \"policies\": [{\"policy\": "              \
	"{\"policy-type\": \"tlsa\", \"policy-domain\": \"Mail.Example.\", "   \
	"\"mx-host\": [\"a.example\", \"b.example\"]}, \"summary\": "          \
	"{\"total-successful-session-count\": 1, "                             \
	"\"total-failure-session-count\": %s}%s}]}"

static int
parse(const char *start, const char *failed, const char *rest,
      struct tlsrpt_report *r, struct err *e)
{
	char doc[2048];

	snprintf(doc, sizeof(doc), HEAD, start, failed, rest);
	return tlsrpt_parse((const unsigned char *)doc, strlen(doc), r, e);
}

TEST(tlsrpt_values_normalised)
{
	struct tlsrpt_report r;
	struct err e;

	CHECK(
	    parse(
	        "2016-04-01T00:00:00Z", "2",
	        ", \"failure-details\": [{\"result-type\": \"dane-required\", "
	        "\"receiving-ip\": \"2001:DB8:0::1\", "
	        "\"failed-session-count\": 2}]",
	        &r, &e) == 0);
	CHECK_STR(r.organization, "Org");
	CHECK(r.begin == 1459468800 && r.end == 1459555200);
	CHECK(r.npolicies == 1);
	CHECK_STR(r.policies[0].policy_type, "tlsa");
	CHECK_STR(r.policies[0].policy_domain, "mail.example");
	CHECK_STR(r.policies[0].mx_host, "a.example\nb.example");
	CHECK(r.policies[0].nfailures == 1);
	CHECK_STR(r.policies[0].failures[0].receiving_ip, "2001:db8::1");
	CHECK(r.successful == 1 && r.failed == 2);
	tlsrpt_free(&r);
}

TEST(tlsrpt_dates)
{
	struct tlsrpt_report r;
	struct err e;

	/* fractions and offsets: 02:00+02:00 is midnight UTC */
	CHECK(parse("2016-04-01T02:00:00.250+02:00", "0", "", &r, &e) == 0);
	CHECK(r.begin == 1459468800);
	tlsrpt_free(&r);
	CHECK(parse("2016-04-01", "0", "", &r, &e) == -1);
	CHECK(strstr(e.msg, "date-range.start-datetime") != NULL);
	CHECK(parse("2016-13-01T00:00:00Z", "0", "", &r, &e) == -1);
	CHECK(parse("2016-04-01T00:00:00Zjunk", "0", "", &r, &e) == -1);
	/* the end before the start */
	CHECK(parse("2016-04-03T00:00:00Z", "0", "", &r, &e) == -1);
	CHECK(strstr(e.msg, "ends before it starts") != NULL);
}

TEST(tlsrpt_types)
{
	struct tlsrpt_report r;
	struct err e;

	CHECK(parse("2016-04-01T00:00:00Z", "true", "", &r, &e) == -1);
	CHECK_STR(e.msg, "SMTP TLS report: policies[0].summary."
	                 "total-failure-session-count: not an integer");
	CHECK(parse("2016-04-01T00:00:00Z", "0",
	            ", \"failure-details\": [{\"failed-session-count\": 1}]",
	            &r, &e) == -1);
	CHECK(strstr(e.msg, "failure-details[0].result-type: missing") != NULL);
	CHECK(tlsrpt_parse((const unsigned char *)"[1]", 3, &r, &e) == -1);
	CHECK(strstr(e.msg, "not an object") != NULL);
	CHECK(tlsrpt_looks_like((const unsigned char *)" {\"policies\": []}",
	                        17));
	CHECK(!tlsrpt_looks_like((const unsigned char *)"{\"a\": 1}", 8));
}

#define ARF                                                                    \
	"From: r@example.org\r\nDate: Mon, 1 Oct 2018 11:20:27 +0200\r\n"      \
	"MIME-Version: 1.0\r\nContent-Type: multipart/report; "                \
	"report-type=feedback-report; boundary=b\r\n\r\n--b\r\n"               \
	"Content-Type: text/plain\r\n\r\nx\r\n--b\r\n"                         \
	"Content-Type: message/feedback-report\r\n\r\n%s\r\n--b\r\n"           \
	"Content-Type: message/rfc822\r\n\r\nSubject: hi\r\n  there\r\n"       \
	"From: a@b\r\n\r\nbody line\r\n--b--\r\n"

TEST(arf_fields)
{
	struct arf_report r;
	struct err e;
	char msg[2048];

	snprintf(msg, sizeof(msg), ARF,
	         "Feedback-Type: Auth-Failure\r\nSource-IP: 192.0.2.010\r\n"
	         "Reported-Domain: Example.COM.\r\nOriginal-Rcpt-To: a@x\r\n"
	         "Original-Rcpt-To: b@x\r\nDKIM-Selector:  s1 \r\n"
	         "Original-Mail-From: <>\r\n");
	CHECK(arf_parse((unsigned char *)msg, strlen(msg), 0, &r, &e) == 0);
	CHECK_STR(r.feedback_type, "auth-failure");
	CHECK_STR(r.reported_domain, "example.com");
	CHECK_STR(r.source_ip, "192.0.2.010"); /* not an address: as written */
	CHECK_STR(r.original_rcpt_to, "a@x, b@x");
	CHECK_STR(r.dkim_selector, "s1");
	CHECK(r.original_mail_from == NULL);
	CHECK_STR(r.subject, "hi there"); /* unfolded, decoded */
	CHECK(r.body == NULL);
	CHECK(strstr(r.headers, "body line") == NULL);
	CHECK(r.at == 1538385627); /* no Arrival-Date: the report's Date */
	CHECK(strlen(r.fingerprint) == 64);
	arf_free(&r);
	CHECK(arf_parse((unsigned char *)msg, strlen(msg), 1, &r, &e) == 0);
	CHECK(r.body_len == 9 && memcmp(r.body, "body line", 9) == 0);
	arf_free(&r);
}

TEST(arf_refusals)
{
	struct arf_report r;
	struct err e;
	char msg[2048];

	snprintf(msg, sizeof(msg), ARF, "Feedback-Type: abuse\r\n");
	CHECK(arf_parse((unsigned char *)msg, strlen(msg), 0, &r, &e) == -1);
	CHECK(strstr(e.msg, "Feedback-Type is 'abuse'") != NULL);
	snprintf(msg, sizeof(msg), ARF, "Feedback-Type: auth-failure\r\n");
	CHECK(arf_parse((unsigned char *)msg, strlen(msg), 0, &r, &e) == -1);
	CHECK(strstr(e.msg, "neither Reported-Domain nor Source-IP") != NULL);
	CHECK(strstr(e.msg, "failure (forensic) report (ARF") != NULL);
}

/*
 * test_normalize.c - the canonical forms values are stored in.
 */
#include "check.h"
#include "normalize.h"

static char *
w(const char *s)
{
	return test_track(strdup(s));
}

TEST(trim_and_words)
{
	CHECK_STR(norm_trim(w(" \t\r\n x y \n")), "x y");
	CHECK(norm_trim(w(" \n ")) == NULL);
	CHECK_STR(norm_word(w(" PermError ")), "permerror");
	CHECK(norm_word(w("")) == NULL);
}

TEST(domains)
{
	CHECK_STR(norm_domain(w(" Mail.Example.COM. ")), "mail.example.com");
	CHECK_STR(norm_domain(w("bounce@Example.org")), "example.org");
	CHECK(norm_domain(w(".")) == NULL);
	CHECK_STR(norm_domain(w("example.com..")), "example.com");
	CHECK(norm_domain(w("...")) == NULL);
	CHECK(norm_domain(w("  ")) == NULL);
}

TEST(addresses)
{
	char out[NORM_IP_MAX];

	CHECK_INT(norm_ip(" 192.0.2.1 ", out), 0);
	CHECK_STR(out, "192.0.2.1");
	CHECK_INT(norm_ip("2001:DB8:0:0:0:0:0:1", out), 0);
	CHECK_STR(out, "2001:db8::1");
	CHECK_INT(norm_ip("dead:beef:1:abc::", out), 0);
	CHECK_STR(out, "dead:beef:1:abc::");
	CHECK_INT(norm_ip("::FFFF:192.0.2.7", out), 0);
	CHECK_STR(out, "::ffff:192.0.2.7");
	CHECK_INT(norm_ip("192.0.2", out), -1);
	CHECK_INT(norm_ip("192.0.2.256", out), -1);
	CHECK_INT(norm_ip("", out), -1);
	CHECK_INT(norm_ip("example.com", out), -1);
}

TEST(numbers)
{
	int64_t v;

	CHECK_INT(norm_uint(" 1361404799 ", 0, &v), 0);
	CHECK_INT(v, 1361404799);
	CHECK_INT(norm_uint("1538204542.0", 1, &v), 0);
	CHECK_INT(v, 1538204542);
	CHECK_INT(norm_uint("1538204542.0", 0, &v), -1);
	CHECK_INT(norm_uint("-5", 1, &v), -1);
	CHECK_INT(norm_uint("12abc", 1, &v), -1);
	CHECK_INT(norm_uint("99999999999999999999", 1, &v), -1);
	CHECK_INT(norm_uint("9223372036854775807", 0, &v), 0);
	CHECK_INT(norm_uint("", 0, &v), -1);
}

TEST(report_ids)
{
	CHECK_STR(norm_report_id(w(" <abc@host> ")), "abc@host");
	CHECK_STR(norm_report_id(w("plain")), "plain");
	CHECK_STR(norm_report_id(w("<>x")), "<>x");
}

TEST(results_and_reasons)
{
	CHECK_STR(norm_auth_result(w("hardfail"), 0), "fail");
	CHECK_STR(norm_auth_result(w("unknown"), 1), "temperror");
	CHECK_STR(norm_auth_result(w("error"), 1), "permerror");
	CHECK_STR(norm_auth_result(w("unknown"), 0), "unknown");
	CHECK_STR(norm_reason_type("policy_test_mode"), "policy_test_mode");
	CHECK_STR(norm_reason_type("sampled_out"), "sampled_out");
	CHECK(norm_reason_type("bogus") == NULL);
}

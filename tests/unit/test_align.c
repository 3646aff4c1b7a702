/*
 * test_align.c - organizational domains and DMARC identifier alignment
 * through libpsl (report/align.c).
 */
#include "align.h"
#include "check.h"

static struct align *
open_align(void)
{
	struct align *a = NULL;
	struct err e;

	CHECK_INT(align_open(&a, &e), 0);
	return a;
}

static const char *
org(struct align *a, const char *name)
{
	static char buf[ALIGN_NAME_MAX];

	if (align_org_domain(a, name, buf, sizeof(buf)) == -1)
		return NULL;
	return buf;
}

TEST(org_domain_public_suffixes)
{
	struct align *a = open_align();

	CHECK_STR(org(a, "mail.example.co.uk"), "example.co.uk");
	CHECK_STR(org(a, "example.co.uk"), "example.co.uk");
	CHECK_STR(org(a, "a.b.c.example.com"), "example.com");
	CHECK_STR(org(a, "eu-west-1.amazonses.com"), "amazonses.com");
	/* a public suffix is its own organizational domain */
	CHECK_STR(org(a, "co.uk"), "co.uk");
	CHECK_STR(org(a, "com"), "com");
	/* the PSL's private section counts: github.io hosts users */
	CHECK_STR(org(a, "www.someone.github.io"), "someone.github.io");
	/* wildcard and exception rules (*.ck, !www.ck) */
	CHECK_STR(org(a, "a.b.example.ck"), "b.example.ck");
	CHECK_STR(org(a, "www.ck"), "www.ck");
	align_close(a);
}

TEST(org_domain_case_and_trailing_dot)
{
	struct align *a = open_align();

	CHECK_STR(org(a, "Mail.Example.CO.UK."), "example.co.uk");
	CHECK_STR(org(a, "EXAMPLE.COM"), "example.com");
	CHECK_STR(org(a, "example.com.."), "example.com");
	CHECK(org(a, "") == NULL);
	CHECK(org(a, ".") == NULL);
	CHECK(org(a, NULL) == NULL);
	align_close(a);
}

TEST(relaxed_and_strict)
{
	struct align *a = open_align();

	/* the brief's case: a subdomain against its parent */
	CHECK_INT(align_compare(a, "mail.example.co.uk", "example.co.uk"),
	    ALIGN_RELAXED);
	CHECK(align_ok(a, "mail.example.co.uk", "example.co.uk", 'r'));
	CHECK(!align_ok(a, "mail.example.co.uk", "example.co.uk", 's'));
	/* and the other way round (From a subdomain, d= the parent) */
	CHECK(align_ok(a, "example.co.uk", "news.example.co.uk", 'r'));
	CHECK(!align_ok(a, "example.co.uk", "news.example.co.uk", 's'));
	/* siblings under a public suffix are different organizations */
	CHECK_INT(align_compare(a, "other.co.uk", "example.co.uk"),
	    ALIGN_NONE);
	CHECK(!align_ok(a, "other.co.uk", "example.co.uk", 'r'));
	/* a name and its public suffix never align */
	CHECK(!align_ok(a, "co.uk", "example.co.uk", 'r'));
	/* the same name is strict, whatever the case or the trailing dot */
	CHECK_INT(align_compare(a, "Example.COM.", "example.com"),
	    ALIGN_STRICT);
	CHECK(align_ok(a, "Example.COM.", "example.com", 's'));
	/* SES's own domains are never aligned with a customer's */
	CHECK(!align_ok(a, "amazonses.com", "example.com", 'r'));
	CHECK(!align_ok(a, "eu-west-1.amazonses.com", "example.com", 'r'));
	/* absent mode means relaxed, the DMARC default */
	CHECK(align_ok(a, "bounce.example.com", "example.com", 0));
	CHECK(!align_ok(a, NULL, "example.com", 'r'));
	CHECK(!align_ok(a, "example.com", "", 'r'));
	align_close(a);
}

TEST(public_suffix_from_domain)
{
	struct align *a = open_align();

	/* a From domain that is itself a public suffix aligns only with
	 * the same name */
	CHECK(align_ok(a, "co.uk", "co.uk", 's'));
	CHECK(!align_ok(a, "example.co.uk", "co.uk", 'r'));
	align_close(a);
}

TEST(normalize)
{
	char out[ALIGN_NAME_MAX], longname[300];

	CHECK_INT(align_normalize("A.B.C.", out, sizeof(out)), 0);
	CHECK_STR(out, "a.b.c");
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	CHECK_INT(align_normalize(longname, out, sizeof(out)), -1);
	CHECK_INT(align_normalize("abc", out, 3), -1);
}

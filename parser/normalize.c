/*
 * normalize.c - see normalize.h.  No locale-dependent calls: tolower() and
 * isspace() change meaning under some locales, so ASCII is handled by hand.
 */
#include "normalize.h"

#include <arpa/inet.h>
#include <idn2.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ascii.h"

static int
is_xml_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

char *
norm_trim(char *s)
{
	size_t n;

	if (s == NULL)
		return NULL;
	while (is_xml_space(*s))
		s++;
	n = strlen(s);
	while (n > 0 && is_xml_space(s[n - 1]))
		n--;
	s[n] = '\0';
	return n ? s : NULL;
}

char *
norm_word(char *s)
{
	char *p;

	if ((s = norm_trim(s)) == NULL)
		return NULL;
	for (p = s; *p != '\0'; p++)
		*p = (char)ascii_lower((unsigned char)*p);
	return s;
}

/* Lower-cases a non-ASCII domain the IDNA way (UTS #46 mapping, NFC): to
 * its A-label form and back, so BÜCHER.EXAMPLE, bücher.example and
 * xn--bcher-kva.example all become bücher.example.  A name IDNA refuses
 * (or whose mapped form would be longer) is left as it is. */
static void
idna_lower(char *s)
{
	char *a = NULL, *u = NULL;

	if (idn2_to_ascii_8z(s, &a, IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL) ==
		IDN2_OK &&
	    idn2_to_unicode_8z8z(a, &u, 0) == IDN2_OK && strlen(u) <= strlen(s))
		memcpy(s, u, strlen(u) + 1);
	idn2_free(a);
	idn2_free(u);
}

char *
norm_domain(char *s)
{
	char *at;
	size_t n;

	if ((s = norm_word(s)) == NULL)
		return NULL;
	if ((at = strrchr(s, '@')) != NULL)
		s = at + 1;
	n = strlen(s);
	/* every trailing dot, not only the root's: "example.com.." would
	 * otherwise keep one (found by fuzz_tlsrpt) */
	while (n > 0 && s[n - 1] == '.')
		s[--n] = '\0';
	if (n > 0 && (ascii_has_8bit(s) || strstr(s, "xn--") != NULL)) {
		idna_lower(s);
		n = strlen(s);
	}
	return n ? s : NULL;
}

const char *
norm_domain_defect(const char *s)
{
	const unsigned char *u = (const unsigned char *)s;

	for (; *u != '\0'; u++) {
		if (*u == ' ' || *u == '\t' || *u == '\n' || *u == '\r')
			return "white space";
		if (*u < 0x20 || *u == 0x7f)
			return "a control character";
		if (u[0] == 0xc2 && u[1] >= 0x80 && u[1] <= 0x9f)
			return "a C1 control character";
		/* U+200B..U+200F, U+202A..U+202E, U+2066..U+2069 */
		if (u[0] == 0xe2 && u[1] == 0x80 &&
		    ((u[2] >= 0x8b && u[2] <= 0x8f) ||
			(u[2] >= 0xaa && u[2] <= 0xae)))
			return "an invisible or bidirectional-text control";
		if (u[0] == 0xe2 && u[1] == 0x81 && u[2] >= 0xa6 &&
		    u[2] <= 0xa9)
			return "a bidirectional-text control";
	}
	return NULL;
}

int
norm_ip(const char *s, char out[NORM_IP_MAX])
{
	unsigned char addr[16];
	char tmp[NORM_IP_MAX + 8];
	size_t n;

	while (is_xml_space(*s))
		s++;
	n = strlen(s);
	while (n > 0 && is_xml_space(s[n - 1]))
		n--;
	if (n == 0 || n >= sizeof(tmp))
		return -1;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	/* inet_pton() takes IPv4 only as four decimal numbers without
	 * leading zeros, which is already the canonical text: what it
	 * accepts is kept as is (inet_ntop() formats through sprintf, 2,000
	 * instructions an address, for every record). */
	if (inet_pton(AF_INET, tmp, addr) == 1) {
		memcpy(out, tmp, n + 1);
		return 0;
	}
	if (inet_pton(AF_INET6, tmp, addr) == 1)
		return inet_ntop(AF_INET6, addr, out, NORM_IP_MAX) ? 0 : -1;
	return -1;
}

int
norm_uint(const char *s, int allow_fraction, int64_t *out)
{
	int64_t v = 0;
	int digits = 0;

	while (is_xml_space(*s))
		s++;
	if (*s == '+')
		s++;
	for (; *s >= '0' && *s <= '9'; s++, digits++) {
		if (v > (INT64_MAX - (*s - '0')) / 10)
			return -1;
		v = v * 10 + (*s - '0');
	}
	if (digits == 0)
		return -1;
	if (*s == '.' && allow_fraction) {
		for (s++; *s >= '0' && *s <= '9'; s++)
			;
	}
	while (is_xml_space(*s))
		s++;
	if (*s != '\0')
		return -1;
	*out = v;
	return 0;
}

char *
norm_report_id(char *s)
{
	size_t n;

	if ((s = norm_trim(s)) == NULL)
		return NULL;
	n = strlen(s);
	if (n >= 2 && s[0] == '<' && s[n - 1] == '>') {
		s[n - 1] = '\0';
		s = norm_trim(s + 1);
	}
	return s;
}

const char *const norm_dkim_results[] = {"none", "pass", "fail", "policy",
    "neutral", "temperror", "permerror", NULL};
const char *const norm_spf_results[] = {"none", "neutral", "pass", "fail",
    "softfail", "policy", "temperror", "permerror", NULL};

const char *
norm_auth_result(char *s, int spf)
{
	if (s == NULL)
		return NULL;
	if (strcmp(s, "hardfail") == 0)
		return "fail";
	if (spf && strcmp(s, "unknown") == 0)
		return "temperror";
	if (spf && strcmp(s, "error") == 0)
		return "permerror";
	return s;
}

const char *
norm_reason_type(const char *word)
{
	static const char *const types[] = {
	    "forwarded",	 "sampled_out",	 "trusted_forwarder",
	    "mailing_list",	 "local_policy", "other",
	    "policy_test_mode",
	};
	size_t i;

	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (strcmp(word, types[i]) == 0)
			return types[i];
	return NULL;
}

/*
 * normalize.c - see normalize.h.  No locale-dependent calls: tolower() and
 * isspace() change meaning under some locales, so ASCII is handled by hand.
 */
#include "normalize.h"

#include <arpa/inet.h>
#include <stdint.h>
#include <string.h>

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
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	return s;
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
	if (n > 0 && s[n - 1] == '.')
		s[--n] = '\0';
	return n ? s : NULL;
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

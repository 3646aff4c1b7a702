/*
 * name.c - the checks and conversions of names and addresses that the
 * resolver and its callers share (see dns.h).  No DNS traffic here.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns.h"

void
dns_options_default(struct dns_options *o)
{
	memset(o, 0, sizeof(*o));
	o->max_inflight = 32;
	o->timeout_ms = 1500;
	o->tries = 2;
	o->budget_ms = 20000;
}

const char *
dns_status_name(enum dns_status s)
{
	switch (s) {
	case DNS_OK:
		return "name";
	case DNS_NXDOMAIN:
		return "nxdomain";
	case DNS_NODATA:
		return "nodata";
	case DNS_TIMEOUT:
		return "timeout";
	case DNS_ERROR:
		return "error";
	case DNS_MALFORMED:
		return "malformed";
	case DNS_NOT_DONE:
		return "not-done";
	}
	return "error";
}

static int
is_ldh(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
}

int
dns_name_check(const char *in, char *out, size_t len, int underscore)
{
	size_t n, i, label = 0;
	char c;

	if (in == NULL || (n = strlen(in)) == 0)
		return -1;
	if (n > 1 && in[n - 1] == '.')
		n--;
	if (n > DNS_NAME_MAX - 1 || n + 1 > len)
		return -1;
	for (i = 0; i < n; i++) {
		c = in[i];
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (c == '.') {
			/* no empty label, none ending in a hyphen */
			if (label == 0 || out[i - 1] == '-')
				return -1;
			label = 0;
		} else if (is_ldh(c) ||
		           (underscore && c == '_' && label == 0)) {
			if (label == 0 && c == '-')
				return -1;
			if (++label > 63)
				return -1;
		} else {
			return -1;
		}
		out[i] = c;
	}
	if (label == 0 || out[n - 1] == '-')
		return -1;
	out[n] = '\0';
	return 0;
}

int
dns_reverse_name(const char *ip, char *out, size_t len, unsigned char addr[16],
                 int *family)
{
	static const char hex[] = "0123456789abcdef";
	size_t used = 0;
	int i;

	if (ip == NULL)
		return -1;
	if (inet_pton(AF_INET, ip, addr) == 1) {
		*family = AF_INET;
		if ((size_t)snprintf(out, len, "%u.%u.%u.%u.in-addr.arpa",
		                     addr[3], addr[2], addr[1], addr[0]) >= len)
			return -1;
		return 0;
	}
	if (inet_pton(AF_INET6, ip, addr) != 1)
		return -1;
	*family = AF_INET6;
	if (len < 64 + sizeof("ip6.arpa"))
		return -1;
	for (i = 15; i >= 0; i--) {
		out[used++] = hex[addr[i] & 0xf];
		out[used++] = '.';
		out[used++] = hex[addr[i] >> 4];
		out[used++] = '.';
	}
	memcpy(out + used, "ip6.arpa", sizeof("ip6.arpa"));
	return 0;
}

void
dns_escape(const char *s, char *out, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	size_t used = 0;
	unsigned char c;

	if (len == 0)
		return;
	for (; s != NULL && *s != '\0'; s++) {
		c = (unsigned char)*s;
		if (c >= 0x20 && c < 0x7f && c != '\\') {
			if (used + 1 >= len)
				break;
			out[used++] = (char)c;
		} else if (c == '\\') {
			if (used + 2 >= len)
				break;
			out[used++] = '\\';
			out[used++] = '\\';
		} else {
			if (used + 4 >= len)
				break;
			out[used++] = '\\';
			out[used++] = 'x';
			out[used++] = hex[c >> 4];
			out[used++] = hex[c & 0xf];
		}
	}
	out[used] = '\0';
}

/* One "ADDR", "ADDR:PORT" or "[ADDR6]:PORT" of a server list: the n
 * bytes at s. */
static int
check_server(const char *s, size_t n, struct err *e)
{
	const char *end = s + n, *host = s, *port = NULL, *close, *colon;
	char hbuf[64];
	unsigned char addr[16];
	size_t hl = n;
	unsigned long p = 0;

	if (n > 0 && s[0] == '[') {
		if ((close = memchr(s, ']', n)) == NULL)
			return err_set(e, "'%.*s': missing ']'", (int)n, s);
		host = s + 1;
		hl = (size_t)(close - host);
		if (close + 1 < end) {
			if (close[1] != ':')
				return err_set(e,
				               "'%.*s': expected :PORT "
				               "after ']'",
				               (int)n, s);
			port = close + 2;
		}
	} else if ((colon = memchr(s, ':', n)) != NULL &&
	           memchr(colon + 1, ':', (size_t)(end - colon - 1)) == NULL) {
		hl = (size_t)(colon - s);
		port = colon + 1;
	}
	if (hl == 0 || hl >= sizeof(hbuf))
		return err_set(e, "'%.*s' is not an IP address", (int)n, s);
	memcpy(hbuf, host, hl);
	hbuf[hl] = '\0';
	if (inet_pton(AF_INET, hbuf, addr) != 1 &&
	    inet_pton(AF_INET6, hbuf, addr) != 1)
		return err_set(e,
		               "'%s' is not an IP address (a DNS server "
		               "is given by address, as ADDR or ADDR:PORT)",
		               hbuf);
	if (port != NULL) {
		if (port == end)
			return err_set(e, "'%.*s': empty port", (int)n, s);
		for (const char *q = port; q < end; q++) {
			if (*q < '0' || *q > '9' || p > 65535)
				return err_set(e,
				               "'%.*s': the port is not a "
				               "number between 1 and 65535",
				               (int)n, s);
			p = p * 10 + (unsigned long)(*q - '0');
		}
		if (p < 1 || p > 65535)
			return err_set(e,
			               "'%.*s': the port is not a number "
			               "between 1 and 65535",
			               (int)n, s);
	}
	return 0;
}

int
dns_check_servers(const char *spec, struct err *e)
{
	const char *p = spec, *comma;
	size_t n;
	int count = 0;

	if (spec == NULL || spec[0] == '\0')
		return err_set(e, "empty list of DNS servers");
	if (strlen(spec) >= DNS_SERVERS_MAX)
		return err_set(e, "list of DNS servers longer than %d bytes",
		               DNS_SERVERS_MAX - 1);
	for (;;) {
		comma = strchr(p, ',');
		n = comma ? (size_t)(comma - p) : strlen(p);
		while (n > 0 && *p == ' ')
			p++, n--;
		while (n > 0 && p[n - 1] == ' ')
			n--;
		if (++count > 8)
			return err_set(e, "more than 8 DNS servers");
		if (check_server(p, n, e) == -1)
			return -1;
		if (comma == NULL)
			return 0;
		p = comma + 1;
	}
}

/*
 * netaddr.c - parsing and matching addresses and ranges.  See netaddr.h.
 */
#include "netaddr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

int
net_parse_addr(const char *s, struct net *n)
{
	static const unsigned char mapped[12] = {0, 0, 0, 0, 0,    0,
	                                         0, 0, 0, 0, 0xff, 0xff};

	memset(n, 0, sizeof(*n));
	if (inet_pton(AF_INET, s, n->addr) == 1) {
		n->family = AF_INET;
		n->bits = 32;
		return 0;
	}
	if (inet_pton(AF_INET6, s, n->addr) == 1) {
		if (memcmp(n->addr, mapped, sizeof(mapped)) == 0) {
			memmove(n->addr, n->addr + 12, 4);
			memset(n->addr + 4, 0, 12);
			n->family = AF_INET;
			n->bits = 32;
			return 0;
		}
		n->family = AF_INET6;
		n->bits = 128;
		return 0;
	}
	return -1;
}

int
net_parse(const char *s, struct net *n)
{
	char buf[64], *slash, *end;
	long bits;

	if (strlen(s) >= sizeof(buf))
		return -1;
	strcpy(buf, s);
	if ((slash = strchr(buf, '/')) != NULL)
		*slash = '\0';
	if (strchr(buf, ':') == NULL && strchr(buf, '.') == NULL)
		return -1;
	if (net_parse_addr(buf, n) == -1)
		return -1;
	if (slash == NULL)
		return 0;
	errno = 0;
	bits = strtol(slash + 1, &end, 10);
	if (slash[1] < '0' || slash[1] > '9' || *end != '\0' || errno != 0 ||
	    bits < 0 || bits > (n->family == AF_INET ? 32 : 128))
		return -1;
	/* A mapped network: its prefix counted the 96 mapping bits. */
	if (n->family == AF_INET && strchr(buf, ':') != NULL)
		bits = bits >= 96 ? bits - 96 : 0;
	n->bits = (int)bits;
	return 0;
}

int
net_contains(const struct net *net, const struct net *addr)
{
	int full = net->bits / 8, rest = net->bits % 8;

	if (addr->family != net->family)
		return 0;
	if (memcmp(addr->addr, net->addr, (size_t)full) != 0)
		return 0;
	if (rest == 0)
		return 1;
	return ((addr->addr[full] ^ net->addr[full]) &
	        (unsigned char)(0xff << (8 - rest))) == 0;
}

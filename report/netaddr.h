/*
 * netaddr.h - IP addresses and ranges as the senders table and the SES
 * region table hold them.
 *
 * Promises: an IPv4-mapped IPv6 address or range is the IPv4 one; a range
 * is "a.b.c.d/len", "x::/len" or a single address (all bits); nothing is
 * resolved (no DNS).
 */
#ifndef DMARCSIFT_NETADDR_H
#define DMARCSIFT_NETADDR_H

struct net {
	int family; /* AF_INET or AF_INET6 */
	unsigned char addr[16];
	int bits;
};

/* Parses an address into n with all bits; -1 when it is none. */
int net_parse_addr(const char *s, struct net *n);

/* Parses a range or a single address; -1 when it is none. */
int net_parse(const char *s, struct net *n);

/* 1 when the address addr is inside the range net. */
int net_contains(const struct net *net, const struct net *addr);

#endif

/*
 * dns-impl.h - what the files of dns/ share.  Private to dns/.
 *
 *   name.c      names, addresses, server lists, escaping (no traffic)
 *   resolver.c  the c-ares channel, the event loop, one waited-for query
 *   answer.c    reading a DNS message into struct dns_answer
 *   names.c     names for many addresses at once (PTR + A/AAAA)
 */
#ifndef DMARCSIFT_DNS_IMPL_H
#define DMARCSIFT_DNS_IMPL_H

#include <ares.h>

#include "dns.h"

struct dns {
	ares_channel ch;
	int have_channel;
	struct dns_options o;
	uint64_t deadline; /* monotonic ms */
	int stopped;       /* budget spent, or unreachable: cancel */
	int cancelled;
	int budget_spent;
	int unreachable;
	struct err why;                    /* when unreachable */
	unsigned long answered;            /* answers of any kind */
	unsigned long timeouts_unanswered; /* timeouts before the first */
	struct dns_stats st;               /* of dns_query() */
};

uint64_t dns_now_ms(void);
void dns_pump(struct dns *d);
void dns_cancel_if_stopped(struct dns *d);
enum dns_status dns_map_status(struct dns *d, int status, unsigned dead_after);

/* Reads the answer section of a DNS message: the records of `type` into
 * out->rr (out->n), the last CNAME's target into out->cname.  Records
 * whose data is not what the type allows (a PTR, CNAME or MX target that
 * is not a host name, TXT with a NUL or longer than DNS_TXT_MAX) are
 * skipped and counted in *malformed; -1 (and one count) for a message that
 * does not parse.  An empty result is not an error. */
int dns_parse_answer(const unsigned char *abuf, int alen, int type,
                     struct dns_answer *out, unsigned long *malformed);

#define DNS_T_PTR 12

#endif

/*
 * names.c - names for many addresses at once (dns_resolve_names(), see
 * dns.h).  Each address is one job of two steps: the PTR query, then the
 * A or AAAA query of the name found, whose answer confirms the name when
 * it holds the address.  At most max_inflight jobs are open; the loop
 * opens new ones as old ones finish, until all are done, the budget is
 * spent or the servers are found dead.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "dns-impl.h"

struct run {
	struct dns *d;
	const char *const *ips;
	size_t n, next;
	unsigned inflight;
	void (*cb)(void *arg, const struct dns_name *r);
	void *arg;
	struct dns_stats *st;
};

struct job {
	struct run *run;
	const char *ip;
	unsigned char addr[16];
	int family;
	char name[DNS_NAME_MAX];
	uint32_t ttl;
};

static void
finish(struct job *j, enum dns_status status, int confirmed)
{
	struct run *r = j->run;
	struct dns_name res;

	r->inflight--;
	/* once the servers are found dead, nothing more is a result */
	if (r->d->unreachable)
		status = DNS_NOT_DONE;
	if (status == DNS_NOT_DONE) {
		r->st->not_done++;
		free(j);
		return;
	}
	res.ip = j->ip;
	res.status = status;
	res.name = status == DNS_OK ? j->name : NULL;
	res.confirmed = confirmed;
	res.ttl = j->ttl;
	switch (status) {
	case DNS_OK:
		r->st->names++;
		r->st->confirmed += confirmed != 0;
		break;
	case DNS_NXDOMAIN:
	case DNS_NODATA:
		r->st->nxdomain++;
		break;
	case DNS_TIMEOUT:
		r->st->timeouts++;
		break;
	case DNS_MALFORMED:
		break; /* counted where it was dropped */
	default:
		r->st->errors++;
	}
	r->cb(r->arg, &res);
	free(j);
}

static uint32_t
min_ttl(const struct dns_answer *a, uint32_t ttl)
{
	for (size_t i = 0; i < a->n; i++)
		if (a->rr[i].ttl < ttl)
			ttl = a->rr[i].ttl;
	return ttl;
}

static void
on_forward(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
	struct job *j = arg;
	struct dns *d = j->run->d;
	struct dns_answer a;
	unsigned char bin[16];
	int confirmed = 0;
	size_t len = j->family == AF_INET ? 4 : 16;
	enum dns_status s = dns_map_status(d, status, d->o.max_inflight);

	(void)timeouts;
	if (s == DNS_NOT_DONE) {
		finish(j, DNS_NOT_DONE, 0);
		return;
	}
	memset(&a, 0, sizeof(a));
	if (s == DNS_OK &&
	    dns_parse_answer(abuf, alen,
	                     j->family == AF_INET ? DNS_T_A : DNS_T_AAAA, &a,
	                     &j->run->st->malformed) == 0) {
		for (size_t i = 0; i < a.n && !confirmed; i++)
			if (inet_pton(j->family, a.rr[i].txt, bin) == 1 &&
			    memcmp(bin, j->addr, len) == 0)
				confirmed = 1;
		if (confirmed)
			j->ttl = min_ttl(&a, j->ttl);
	}
	dns_answer_free(&a);
	/* the name stands, confirmed or not, whatever the forward said */
	finish(j, DNS_OK, confirmed);
}

/* The first PTR target that is a host name (others were dropped and
 * counted by the parser). */
static enum dns_status
read_ptr(struct job *j, unsigned char *abuf, int alen)
{
	struct dns_answer a;
	unsigned long *bad = &j->run->st->malformed, before = *bad;
	enum dns_status s = DNS_NODATA;

	memset(&a, 0, sizeof(a));
	if (alen > DNS_ANSWER_MAX ||
	    dns_parse_answer(abuf, alen, DNS_T_PTR, &a, bad) == -1) {
		if (alen > DNS_ANSWER_MAX)
			(*bad)++;
		s = DNS_MALFORMED;
	} else if (a.n > 0) {
		memcpy(j->name, a.rr[0].target, sizeof(j->name));
		j->ttl = a.rr[0].ttl;
		s = j->name[0] != '\0' ? DNS_OK : DNS_MALFORMED;
	} else if (*bad > before) {
		s = DNS_MALFORMED;
	}
	dns_answer_free(&a);
	return s;
}

static void
on_ptr(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
	struct job *j = arg;
	struct dns *d = j->run->d;
	enum dns_status s = dns_map_status(d, status, d->o.max_inflight);

	(void)timeouts;
	if (s == DNS_OK)
		s = read_ptr(j, abuf, alen);
	if (s != DNS_OK || d->stopped) {
		finish(j, d->stopped && s == DNS_OK ? DNS_NOT_DONE : s, 0);
		return;
	}
	ares_query(d->ch, j->name, 1,
	           j->family == AF_INET ? DNS_T_A : DNS_T_AAAA, on_forward, j);
}

/* Opens jobs up to the limit. */
static void
start_jobs(struct run *r)
{
	char rev[80];
	struct job *j;

	while (!r->d->stopped && r->inflight < r->d->o.max_inflight &&
	       r->next < r->n) {
		if ((j = calloc(1, sizeof(*j))) == NULL) {
			r->d->stopped = 1;
			return;
		}
		j->run = r;
		j->ip = r->ips[r->next++];
		r->st->asked++;
		r->inflight++;
		if (dns_reverse_name(j->ip, rev, sizeof(rev), j->addr,
		                     &j->family) == -1) {
			finish(j, DNS_ERROR, 0);
			continue;
		}
		ares_query(r->d->ch, rev, 1, DNS_T_PTR, on_ptr, j);
	}
}

int
dns_resolve_names(struct dns *d, const char *const *ips, size_t n,
                  void (*cb)(void *arg, const struct dns_name *r), void *arg,
                  struct dns_stats *st, struct err *e)
{
	struct run r;
	uint64_t start = dns_now_ms();

	memset(&r, 0, sizeof(r));
	r.d = d;
	r.ips = ips;
	r.n = n;
	r.cb = cb;
	r.arg = arg;
	r.st = st;
	while (!d->stopped && (r.next < n || r.inflight > 0)) {
		start_jobs(&r);
		if (r.inflight > 0)
			dns_pump(d);
		dns_cancel_if_stopped(d);
	}
	dns_cancel_if_stopped(d);
	/* Every lookup timed out and nothing ever answered: the same as
	 * servers that cannot be reached, whatever the count. */
	if (!d->unreachable && d->answered == 0 && d->timeouts_unanswered > 0) {
		d->unreachable = 1;
		err_set(&d->why,
		        "no answer from the DNS servers (%s) to %lu "
		        "queries",
		        d->o.servers ? d->o.servers : "the system's",
		        d->timeouts_unanswered);
	}
	st->not_done += n - r.next;
	st->elapsed_ms += (unsigned long)(dns_now_ms() - start);
	if (d->unreachable) {
		*e = d->why;
		return -1;
	}
	return 0;
}

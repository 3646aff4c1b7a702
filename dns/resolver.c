/*
 * resolver.c - the c-ares channel, its event loop and the budget (see
 * dns.h).  answer.c reads the answers; this file only asks and waits.
 *
 * The loop is poll() over the sockets c-ares names (ares_getsock), with
 * the timeout c-ares wants capped by what is left of the budget.  When
 * the budget is spent, or the servers turn out to be unreachable, the
 * flag `stopped` is raised (callbacks may raise it) and the loop, never a
 * callback, cancels what is in flight: c-ares then calls each callback
 * once more with ARES_ECANCELLED.
 */
#include <ares.h>
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dns-impl.h"

/* Timeouts in a row, with no answer of any kind before them, after which
 * dns_query() gives up on the servers: a dead resolver costs a few
 * timeouts, not one per record asked. */
#define QUERY_DEAD_TIMEOUTS 3

uint64_t
dns_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Copies the list without the spaces users put after commas. */
static int
set_servers(struct dns *d, const char *spec, struct err *e)
{
	char buf[DNS_SERVERS_MAX];
	size_t n = 0;
	int rc;

	if (dns_check_servers(spec, e) == -1)
		return -1;
	for (; *spec != '\0' && n + 1 < sizeof(buf); spec++)
		if (*spec != ' ')
			buf[n++] = *spec;
	buf[n] = '\0';
	if ((rc = ares_set_servers_ports_csv(d->ch, buf)) != ARES_SUCCESS)
		return err_set(e, "DNS servers '%s': %s", buf,
		               ares_strerror(rc));
	return 0;
}

int
dns_open(struct dns **out, const struct dns_options *o, struct err *e)
{
	struct ares_options ao;
	struct dns *d;
	int rc;

	if ((d = calloc(1, sizeof(*d))) == NULL)
		return err_set(e, "out of memory");
	d->o = *o;
	if (d->o.max_inflight == 0)
		d->o.max_inflight = 1;
	if ((rc = ares_library_init(ARES_LIB_INIT_ALL)) != ARES_SUCCESS) {
		free(d);
		return err_set(e, "cannot start c-ares: %s", ares_strerror(rc));
	}
	memset(&ao, 0, sizeof(ao));
	/* No search domains: the names asked are always absolute. */
	ao.flags = ARES_FLAG_NOSEARCH | ARES_FLAG_NOALIASES | ARES_FLAG_EDNS;
	ao.timeout = (int)o->timeout_ms;
	ao.tries = (int)o->tries;
	ao.ednspsz = 1232;
	rc = ares_init_options(&d->ch, &ao,
	                       ARES_OPT_FLAGS | ARES_OPT_TIMEOUTMS |
	                           ARES_OPT_TRIES | ARES_OPT_EDNSPSZ);
	if (rc != ARES_SUCCESS) {
		ares_library_cleanup();
		free(d);
		return err_set(e, "cannot set up the resolver: %s",
		               ares_strerror(rc));
	}
	d->have_channel = 1;
	if (o->servers != NULL && set_servers(d, o->servers, e) == -1) {
		dns_close(d);
		return -1;
	}
	d->deadline = dns_now_ms() + o->budget_ms;
	*out = d;
	return 0;
}

void
dns_close(struct dns *d)
{
	if (d == NULL)
		return;
	if (d->have_channel) {
		ares_destroy(d->ch);
		ares_library_cleanup();
	}
	free(d);
}

const struct dns_stats *
dns_stats(const struct dns *d)
{
	return &d->st;
}

/* The status of an answer, with the bookkeeping that finds dead servers:
 * `dead_after` timeouts with no answer before them stop the run. */
enum dns_status
dns_map_status(struct dns *d, int status, unsigned dead_after)
{
	switch (status) {
	case ARES_SUCCESS:
		d->answered++;
		return DNS_OK;
	case ARES_ENOTFOUND:
		d->answered++;
		return DNS_NXDOMAIN;
	case ARES_ENODATA:
		d->answered++;
		return DNS_NODATA;
	case ARES_ETIMEOUT:
		if (d->answered == 0 &&
		    ++d->timeouts_unanswered >= dead_after && !d->unreachable) {
			d->unreachable = 1;
			err_set(&d->why,
			        "no answer from the DNS servers (%s) "
			        "to %lu queries in a row",
			        d->o.servers ? d->o.servers : "the system's",
			        d->timeouts_unanswered);
			d->stopped = 1;
		}
		return DNS_TIMEOUT;
	case ARES_ECONNREFUSED:
	case ARES_ESERVFAIL:
		if (status == ARES_ECONNREFUSED && d->answered == 0 &&
		    !d->unreachable) {
			d->unreachable = 1;
			err_set(&d->why,
			        "the DNS servers (%s) cannot be "
			        "reached: %s",
			        d->o.servers ? d->o.servers : "the system's",
			        ares_strerror(status));
			d->stopped = 1;
		}
		return DNS_ERROR;
	case ARES_EBADRESP:
	case ARES_EFORMERR:
		d->answered++;
		return DNS_MALFORMED;
	case ARES_ECANCELLED:
	case ARES_EDESTRUCTION:
		return DNS_NOT_DONE;
	default:
		d->answered++;
		return DNS_ERROR;
	}
}

/* Waits for c-ares' sockets or its next timeout, at most until the
 * deadline, and lets c-ares process what happened. */
void
dns_pump(struct dns *d)
{
	ares_socket_t socks[ARES_GETSOCK_MAXNUM];
	struct pollfd pf[ARES_GETSOCK_MAXNUM];
	struct timeval maxtv, tv, *tvp;
	uint64_t now = dns_now_ms(), left;
	int bits, i, n = 0, ms, rc;

	if (now >= d->deadline) {
		d->stopped = 1;
		d->budget_spent = 1;
		return;
	}
	left = d->deadline - now;
	bits = ares_getsock(d->ch, socks, ARES_GETSOCK_MAXNUM);
	for (i = 0; i < ARES_GETSOCK_MAXNUM; i++) {
		short ev = 0;

		/* c-ares' ARES_GETSOCK_WRITABLE shifts a signed 1 by up to
		 * 31 places (undefined): read the bits unsigned instead */
		if (((unsigned)bits >> i) & 1u)
			ev |= POLLIN;
		if (((unsigned)bits >> (i + ARES_GETSOCK_MAXNUM)) & 1u)
			ev |= POLLOUT;
		if (ev == 0)
			continue;
		pf[n].fd = socks[i];
		pf[n].events = ev;
		pf[n].revents = 0;
		n++;
	}
	maxtv.tv_sec = (time_t)(left / 1000);
	maxtv.tv_usec = (suseconds_t)(left % 1000) * 1000;
	tvp = ares_timeout(d->ch, &maxtv, &tv);
	ms = (int)(tvp->tv_sec * 1000 + (tvp->tv_usec + 999) / 1000);
	rc = poll(pf, (nfds_t)n, ms);
	if (rc <= 0) { /* a timeout (or EINTR): let c-ares retry or fail */
		ares_process_fd(d->ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
		return;
	}
	for (i = 0; i < n; i++) {
		if (pf[i].revents == 0)
			continue;
		ares_process_fd(d->ch,
		                pf[i].revents & (POLLIN | POLLERR | POLLHUP)
		                    ? pf[i].fd
		                    : ARES_SOCKET_BAD,
		                pf[i].revents & POLLOUT ? pf[i].fd
		                                        : ARES_SOCKET_BAD);
	}
}

void
dns_cancel_if_stopped(struct dns *d)
{
	if (d->stopped && !d->cancelled) {
		d->cancelled = 1;
		ares_cancel(d->ch);
	}
}

/* --- one query, waited for: check-dns ---------------------------------- */

struct wait {
	struct dns *d;
	int done, status;
	unsigned char *abuf;
	int alen;
};

static void
on_answer(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
	struct wait *w = arg;

	(void)timeouts;
	w->done = 1;
	w->status = status;
	if (status == ARES_SUCCESS && abuf != NULL && alen > 0 &&
	    alen <= DNS_ANSWER_MAX &&
	    (w->abuf = malloc((size_t)alen)) != NULL) {
		memcpy(w->abuf, abuf, (size_t)alen);
		w->alen = alen;
	} else if (status == ARES_SUCCESS) {
		w->status = ARES_EBADRESP; /* too large, or out of memory */
	}
}

int
dns_query(struct dns *d, const char *name, int type, struct dns_answer *out,
          struct err *e)
{
	struct wait w;
	unsigned long before = d->st.malformed;

	memset(out, 0, sizeof(*out));
	memset(&w, 0, sizeof(w));
	w.d = d;
	if (d->unreachable) {
		*e = d->why;
		return -1;
	}
	out->status = DNS_NOT_DONE;
	if (d->stopped)
		return 0;
	d->st.asked++;
	ares_query(d->ch, name, 1 /* IN */, type, on_answer, &w);
	while (!w.done) {
		dns_pump(d);
		dns_cancel_if_stopped(d);
	}
	out->status = dns_map_status(d, w.status, QUERY_DEAD_TIMEOUTS);
	if (out->status == DNS_OK && dns_parse_answer(w.abuf, w.alen, type, out,
	                                              &d->st.malformed) == -1) {
		dns_answer_free(out);
		out->status = DNS_MALFORMED;
	} else if (out->status == DNS_MALFORMED) {
		d->st.malformed++;
	}
	free(w.abuf);
	if (out->status == DNS_OK && out->n == 0)
		out->status =
		    d->st.malformed > before ? DNS_MALFORMED : DNS_NODATA;
	if (out->status == DNS_TIMEOUT)
		d->st.timeouts++;
	if (out->status == DNS_NOT_DONE)
		d->st.not_done++;
	if (d->unreachable) {
		dns_answer_free(out);
		*e = d->why;
		return -1;
	}
	return 0;
}

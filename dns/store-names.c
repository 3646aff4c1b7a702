/*
 * store-names.c - names for the addresses in the store: the due ones are
 * read, looked up and written back in one transaction (see dns.h,
 * dns_resolve_store()).  The import has committed before this runs, so a
 * slow or dead resolver never holds a report back.
 */
#include <stdlib.h>
#include <string.h>

#include "dns.h"
#include "store.h"

/* Addresses read per run at most: far more than a budget of 20 s gets
 * through (some 10,000 on a local server), so the cap only bounds the
 * memory of a store with millions of distinct senders. */
#define DUE_MAX 200000

#define HOUR 3600
#define DAY  86400

struct list {
	char **ip;
	size_t n, cap;
};

struct results {
	struct store_name *v;
	size_t n, cap;
	int64_t now;
	int oom;
	void (*cb)(void *arg, const struct dns_name *r);
	void *arg;
};

int64_t
dns_entry_lifetime(enum dns_status s, uint32_t ttl)
{
	switch (s) {
	case DNS_OK:
		return ttl < HOUR ? HOUR : ttl > 7 * DAY ? 7 * DAY : ttl;
	case DNS_NXDOMAIN:
	case DNS_NODATA:
	case DNS_MALFORMED:
		return DAY;
	default:
		return HOUR;
	}
}

static int
add_due(void *arg, const char *ip, struct err *e)
{
	struct list *l = arg;
	char **grown;

	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 256;
		if ((grown = realloc(l->ip, l->cap * sizeof(*grown))) == NULL)
			return err_set(e, "out of memory");
		l->ip = grown;
	}
	if ((l->ip[l->n] = strdup(ip)) == NULL)
		return err_set(e, "out of memory");
	l->n++;
	return 0;
}

/* Keeps one result for the store; the strings are copied. */
static void
on_name(void *arg, const struct dns_name *r)
{
	struct results *res = arg;
	struct store_name *n, *grown;

	if (res->cb != NULL)
		res->cb(res->arg, r);
	if (res->n == res->cap) {
		size_t cap = res->cap ? res->cap * 2 : 256;
		if ((grown = realloc(res->v, cap * sizeof(*grown))) == NULL) {
			res->oom = 1;
			return;
		}
		res->v = grown;
		res->cap = cap;
	}
	n = &res->v[res->n];
	memset(n, 0, sizeof(*n));
	n->ip = strdup(r->ip);
	n->name = r->name ? strdup(r->name) : NULL;
	if (n->ip == NULL || (r->name != NULL && n->name == NULL)) {
		free((char *)n->ip);
		free((char *)n->name);
		res->oom = 1;
		return;
	}
	/* nodata is an address without a name, as nxdomain is */
	n->result =
	    dns_status_name(r->status == DNS_NODATA ? DNS_NXDOMAIN : r->status);
	n->confirmed = r->confirmed;
	n->ttl = r->status == DNS_OK ? (int64_t)r->ttl : 0;
	n->resolved_at = res->now;
	n->expires_at = res->now + dns_entry_lifetime(r->status, r->ttl);
	res->n++;
}

static void
free_all(struct list *l, struct results *res)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->ip[i]);
	free(l->ip);
	for (i = 0; i < res->n; i++) {
		free((char *)res->v[i].ip);
		free((char *)res->v[i].name);
	}
	free(res->v);
}

int
dns_resolve_store(struct store *st, const struct dns_options *o, int64_t now,
                  void (*cb)(void *arg, const struct dns_name *r), void *arg,
                  struct dns_stats *stats, struct err *e)
{
	struct list due = {0};
	struct results res = {0};
	struct dns *d = NULL;
	struct err dead;
	int rc = -1, unreachable = 0;

	res.now = now;
	res.cb = cb;
	res.arg = arg;
	if (store_names_due(st, now, DUE_MAX, add_due, &due, e) == -1)
		goto out;
	if (due.n == 0) {
		rc = 0;
		goto out;
	}
	if (dns_open(&d, o, e) == -1)
		goto out;
	if (dns_resolve_names(d, (const char *const *)due.ip, due.n, on_name,
	                      &res, stats, &dead) == -1)
		unreachable = 1;
	if (res.oom) {
		err_set(e, "out of memory");
		goto out;
	}
	if (store_names_put(st, res.v, res.n, e) == -1)
		goto out;
	if (unreachable) {
		*e = dead;
		goto out;
	}
	rc = 0;
out:
	dns_close(d);
	free_all(&due, &res);
	return rc;
}

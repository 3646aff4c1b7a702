/*
 * cmd-resolve.c - `dmarc-report resolve`: names for the source addresses
 * of the stored reports, on demand (what dmarc-ingest does after a run;
 * for a store filled elsewhere, or after --offline runs).  Looks up the
 * addresses without a name entry or whose entry expired, within the time
 * budget (--dns-budget), stores the results and shows one row per address
 * looked up, in address order.  Names are checked host names (dns.h).
 *
 * Exit status: 0, also when the budget left addresses for the next run;
 * 69 when the DNS servers cannot be reached.
 */
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>

#include "command.h"
#include "dns.h"

static const struct column cols[] = {
    {"source_ip", "SOURCE IP", COL_TEXT, 0},
    {"result", "RESULT", COL_TEXT, 0},
    {"source_name", "NAME", COL_TEXT, 1},
    {"source_name_confirmed", "CONFIRMED", COL_BOOL, 0},
    {"ttl", "TTL", COL_INT, 0},
};

#define NCOLS (sizeof(cols) / sizeof(cols[0]))

struct row {
	char *ip, *name;
	const char *result;
	int confirmed;
	uint32_t ttl;
};

struct rows {
	struct row *v;
	size_t n, cap;
	int oom;
};

void
report_dns_options(const struct report_ctx *ctx, struct dns_options *o)
{
	dns_options_default(o);
	o->servers = ctx->dns_servers;
	if (ctx->dns_timeout_ms)
		o->timeout_ms = ctx->dns_timeout_ms;
	if (ctx->dns_budget_s)
		o->budget_ms = ctx->dns_budget_s * 1000u;
}

int
report_dns_allowed(struct report_ctx *ctx, struct err *e)
{
	const char *off = getenv("DMARCSIFT_OFFLINE");

	if (ctx->dns_servers != NULL || off == NULL || off[0] == '\0' ||
	    strcmp(off, "0") == 0)
		return 0;
	ctx->fail_status = EX_UNAVAILABLE;
	return err_set(e, "DMARCSIFT_OFFLINE is set: no DNS lookups (give "
			  "--dns-server to ask a server anyway)");
}

static void
keep(void *arg, const struct dns_name *r)
{
	struct rows *rs = arg;
	struct row *grown, *w;

	if (rs->n == rs->cap) {
		size_t cap = rs->cap ? rs->cap * 2 : 64;
		if ((grown = realloc(rs->v, cap * sizeof(*grown))) == NULL) {
			rs->oom = 1;
			return;
		}
		rs->v = grown;
		rs->cap = cap;
	}
	w = &rs->v[rs->n];
	w->ip = strdup(r->ip);
	w->name = r->name ? strdup(r->name) : NULL;
	if (w->ip == NULL || (r->name && w->name == NULL)) {
		free(w->ip);
		free(w->name);
		rs->oom = 1;
		return;
	}
	w->result =
	    dns_status_name(r->status == DNS_NODATA ? DNS_NXDOMAIN : r->status);
	w->confirmed = r->confirmed;
	w->ttl = r->ttl;
	rs->n++;
}

static int
by_ip(const void *a, const void *b)
{
	return strcmp(((const struct row *)a)->ip, ((const struct row *)b)->ip);
}

static int
show(struct report_ctx *ctx, struct rows *rs, struct err *e)
{
	struct output o;
	struct cell c[NCOLS];
	size_t i;

	qsort(rs->v, rs->n, sizeof(*rs->v), by_ip);
	if (output_begin(&o, ctx->format, ctx->out, cols, NCOLS) == -1)
		return err_set(e, "output failed");
	for (i = 0; i < rs->n; i++) {
		memset(c, 0, sizeof(c));
		c[0].s = rs->v[i].ip;
		c[1].s = rs->v[i].result;
		c[2].s = rs->v[i].name;
		c[3].i = rs->v[i].confirmed;
		c[3].null = rs->v[i].name == NULL;
		c[4].i = rs->v[i].ttl;
		c[4].null = rs->v[i].name == NULL;
		if (output_row(&o, c) == -1)
			return err_set(e, "output failed");
	}
	if (output_end(&o) == -1)
		return err_set(e, "output failed");
	return 0;
}

static void
summary(struct report_ctx *ctx, const struct dns_stats *s)
{
	FILE *f = ctx->format == &output_table ? ctx->out : stderr;

	if (s->asked == 0) {
		fprintf(f, "Every source address has a name entry that has "
		           "not expired: nothing to look up.\n");
		return;
	}
	fprintf(f,
	        "Looked up %lu addresses in %lu ms: %lu names (%lu "
	        "forward-confirmed), %lu without a name, %lu timed out, %lu "
	        "errors, %lu answers dropped as malformed; %lu left for the "
	        "next run.\n",
	        s->asked, s->elapsed_ms, s->names, s->confirmed, s->nxdomain,
	        s->timeouts, s->errors, s->malformed, s->not_done);
}

static int
run(struct report_ctx *ctx, struct err *e)
{
	struct dns_options o;
	struct dns_stats s = {0};
	struct rows rs = {0};
	int rc;

	if (report_dns_allowed(ctx, e) == -1)
		return -1;
	report_dns_options(ctx, &o);
	rc = dns_resolve_store(ctx->st, &o, (int64_t)time(NULL), keep, &rs, &s,
	                       e);
	if (rc == -1)
		ctx->fail_status = s.asked > 0 ? EX_UNAVAILABLE : 0;
	if (rc == 0 && rs.oom)
		rc = err_set(e, "out of memory");
	if (rc == 0 && rs.n > 0)
		rc = show(ctx, &rs, e);
	if (rc == 0)
		summary(ctx, &s);
	for (size_t i = 0; i < rs.n; i++) {
		free(rs.v[i].ip);
		free(rs.v[i].name);
	}
	free(rs.v);
	return rc;
}

const struct command cmd_resolve = {
    "resolve",
    "look up the names of the source addresses (PTR, forward-confirmed)", run, 0};

/*
 * cmd-tls.c - `dmarc-report tls`: the SMTP TLS reports (RFC 8460), per
 * policy domain and UTC day: sessions that negotiated TLS against those
 * that failed, and for the failures their type, the receiving MX and what
 * to change.  One row per failure type and MX (a day without failures has
 * one row with empty failure columns).  With --exit-code, a day with
 * failed sessions is a problem.
 */
#include <string.h>

#include "command.h"

/* RFC 8460 section 4.3's result types, and what the receiving domain
 * (you) changes for each. */
static const struct {
	const char *type, *fix;
} fixes[] = {
    {"starttls-not-supported", "the MX does not offer STARTTLS: enable TLS "
                               "on it, or take it out of the MX records and "
                               "the MTA-STS policy"},
    {"certificate-host-mismatch", "the MX's certificate does not name it: "
                                  "reissue it with the MX host name"},
    {"certificate-expired", "the MX's certificate has expired: renew it "
                            "(and automate the renewal)"},
    {"certificate-not-trusted", "the MX's certificate chain is not "
                                "trusted: serve the intermediate "
                                "certificates, use a public CA"},
    {"validation-failure", "the MX's certificate did not validate: check "
                           "its chain and name (failure-reason-code says "
                           "why)"},
    {"tlsa-invalid", "the TLSA record does not match the MX's certificate: "
                     "update _25._tcp TLSA records before rotating keys"},
    {"dnssec-invalid", "DNSSEC validation failed for the MX's TLSA or "
                       "address records: fix the zone's signatures"},
    {"dane-required", "DANE is required but no usable TLSA record was "
                      "found: publish TLSA records in a signed zone"},
    {"sts-policy-fetch-error", "the MTA-STS policy could not be fetched: "
                               "serve https://mta-sts.<domain>/.well-known/"
                               "mta-sts.txt (valid certificate, HTTP 200)"},
    {"sts-policy-invalid", "the MTA-STS policy file is invalid: fix its "
                           "version, mode, mx and max_age lines"},
    {"sts-webpki-invalid", "the mta-sts.<domain> web server's certificate "
                           "is invalid: renew or fix it"},
};

const char *
tls_fix_for(const char *type)
{
	size_t i;

	for (i = 0; type != NULL && i < sizeof(fixes) / sizeof(fixes[0]); i++)
		if (strcmp(type, fixes[i].type) == 0)
			return fixes[i].fix;
	return type ? "see the report's additional-information and "
	              "failure-reason-code (dmarc-report has no advice for "
	              "this type)"
	            : NULL;
}

static const struct column cols[] = {
    {"domain", NULL, COL_TEXT, 0},          {"day", NULL, COL_TEXT, 0},
    {"policy_type", NULL, COL_TEXT, 0},     {"reports", NULL, COL_INT, 0},
    {"successful", NULL, COL_INT, 0},       {"failed", NULL, COL_INT, 0},
    {"result_type", NULL, COL_TEXT, 0},     {"receiving_mx", NULL, COL_TEXT, 0},
    {"failure_sessions", NULL, COL_INT, 0}, {"fix", NULL, COL_TEXT, 0},
};

/* The table leaves the fixes to the lines below it. */
static const struct column table_cols[] = {
    {"domain", "DOMAIN", COL_TEXT, 1},
    {"day", "DAY (UTC)", COL_TEXT, 0},
    {"policy_type", "POLICY", COL_TEXT, 0},
    {"successful", "OK", COL_INT, 0},
    {"failed", "FAILED", COL_INT, 0},
    {"result_type", "FAILURE", COL_TEXT, 1},
    {"receiving_mx", "RECEIVING MX", COL_TEXT, 1},
    {"failure_sessions", "SESSIONS", COL_INT, 0},
};

#define NCOLS       (sizeof(cols) / sizeof(cols[0]))
#define NTABLE_COLS (sizeof(table_cols) / sizeof(table_cols[0]))

struct tls_ctx {
	struct report_ctx *ctx;
	struct output out;
	int started, table;
	unsigned seen; /* bit i: fixes[i] was shown */
};

static int
row(struct tls_ctx *t, const struct store_tls_day *d, const char *day,
    const struct store_tls_failure *f)
{
	struct cell c[NCOLS];
	size_t i;

	memset(c, 0, sizeof(c));
	if (t->table) {
		c[0].s = d->domain;
		c[1].s = day;
		c[2].s = d->policy_type;
		c[3].i = (int64_t)d->successful;
		c[4].i = (int64_t)d->failed;
		c[5].s = f ? f->result_type : NULL;
		c[6].s = f ? f->receiving_mx : NULL;
		c[7].i = f ? (int64_t)f->sessions : 0;
		c[7].null = f == NULL;
		for (i = 0; f && i < sizeof(fixes) / sizeof(fixes[0]); i++)
			if (strcmp(f->result_type, fixes[i].type) == 0)
				t->seen |= 1u << i;
		return output_row(&t->out, c);
	}
	c[0].s = d->domain;
	c[1].s = day;
	c[2].s = d->policy_type;
	c[3].i = (int64_t)d->reports;
	c[4].i = (int64_t)d->successful;
	c[5].i = (int64_t)d->failed;
	c[6].s = f ? f->result_type : NULL;
	c[7].s = f ? f->receiving_mx : NULL;
	c[8].i = f ? (int64_t)f->sessions : 0;
	c[8].null = f == NULL;
	c[9].s = f ? tls_fix_for(f->result_type) : NULL;
	return output_row(&t->out, c);
}

static int
one_day(void *arg, const struct store_tls_day *d, struct err *e)
{
	struct tls_ctx *t = arg;
	char day[32];
	size_t i;

	if (!t->started) {
		if (output_begin(&t->out, t->ctx->format, t->ctx->out,
		                 t->table ? table_cols : cols,
		                 t->table ? NTABLE_COLS : NCOLS) == -1)
			return err_set(e, "cannot write the output");
		t->started = 1;
	}
	format_time(d->day, day, sizeof(day));
	day[10] = '\0';
	if (d->failed > 0)
		t->ctx->problems++;
	if (d->nfailures == 0)
		return row(t, d, day, NULL) == -1
		           ? err_set(e, "cannot write the output")
		           : 0;
	for (i = 0; i < d->nfailures; i++)
		if (row(t, d, day, &d->failures[i]) == -1)
			return err_set(e, "cannot write the output");
	return 0;
}

/* Under the table: what to change for each failure type shown. */
static void
say_fixes(struct tls_ctx *t)
{
	size_t i;
	char first[64];

	if (t->seen == 0)
		return;
	fputs("\nWhat to fix:\n", t->ctx->out);
	for (i = 0; i < sizeof(fixes) / sizeof(fixes[0]); i++) {
		if (!(t->seen & (1u << i)))
			continue;
		snprintf(first, sizeof(first), "  %s: ", fixes[i].type);
		output_text(t->ctx->out, 0, first, "    ", fixes[i].fix, 100);
	}
}

static int
tls_run(struct report_ctx *ctx, struct err *e)
{
	struct tls_ctx t;

	memset(&t, 0, sizeof(t));
	t.ctx = ctx;
	t.table = ctx->format == &output_table;
	if (store_each_tls_day(ctx->st, &ctx->filter, one_day, &t, e) == -1)
		return -1;
	if (!t.started) {
		say_empty(ctx, "SMTP TLS reports");
		if (t.table)
			return 0;
		if (output_begin(&t.out, ctx->format, ctx->out, cols, NCOLS) ==
		    -1)
			return err_set(e, "cannot write the output");
	}
	if (output_end(&t.out) == -1)
		return err_set(e, "cannot write the output");
	if (t.table)
		say_fixes(&t);
	return 0;
}

const struct command cmd_tls = {
    "tls", "SMTP TLS reports: sessions and failures by domain and day",
    tls_run, 1};

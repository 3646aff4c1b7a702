/*
 * cmd-failures.c - `dmarc-report failures`: one row per stored DMARC
 * failure report (RFC 6591), oldest first: when, which domain and source,
 * what failed, the DKIM signature seen and the original's subject.
 * --since/--until select on the time of the failure, --domain on
 * Reported-Domain.
 */
#include <string.h>

#include "command.h"

static const struct column cols[] = {
    {"time", NULL, COL_TEXT, 0},
    {"reported_domain", NULL, COL_TEXT, 0},
    {"source_ip", NULL, COL_TEXT, 0},
    {"auth_failure", NULL, COL_TEXT, 0},
    {"original_mail_from", NULL, COL_TEXT, 0},
    {"original_rcpt_to", NULL, COL_TEXT, 0},
    {"dkim_domain", NULL, COL_TEXT, 0},
    {"dkim_selector", NULL, COL_TEXT, 0},
    {"identity_alignment", NULL, COL_TEXT, 0},
    {"delivery_result", NULL, COL_TEXT, 0},
    {"reporter", NULL, COL_TEXT, 0},
    {"subject", NULL, COL_TEXT, 0},
    {"arrival_date", NULL, COL_TEXT, 0},
};

static const struct column table_cols[] = {
    {"time", "TIME (UTC)", COL_TEXT, 0},
    {"reported_domain", "DOMAIN", COL_TEXT, 1},
    {"source_ip", "SOURCE", COL_TEXT, 0},
    {"auth_failure", "FAILED", COL_TEXT, 0},
    {"dkim", "DKIM SIGNATURE", COL_TEXT, 0},
    {"subject", "SUBJECT", COL_TEXT, 1},
};

#define NCOLS (sizeof(cols) / sizeof(cols[0]))
#define NTAB  (sizeof(table_cols) / sizeof(table_cols[0]))

struct fail_ctx {
	struct report_ctx *ctx;
	struct output out;
	int started, table;
};

static int
table_row(struct fail_ctx *f, const struct store_failure_row *r,
          const char *when)
{
	struct cell c[NTAB];
	char dkim[512];

	memset(c, 0, sizeof(c));
	dkim[0] = '\0';
	if (r->dkim_domain != NULL)
		snprintf(dkim, sizeof(dkim), "%s%s%s",
		         r->dkim_selector ? r->dkim_selector : "",
		         r->dkim_selector ? "._domainkey." : "",
		         r->dkim_domain);
	c[0].s = when;
	c[1].s = r->reported_domain;
	c[2].s = r->source_ip;
	c[3].s = r->auth_failure;
	c[4].s = dkim[0] ? dkim : NULL;
	c[5].s = r->subject;
	return output_row(&f->out, c);
}

static int
one(void *arg, const struct store_failure_row *r, struct err *e)
{
	struct fail_ctx *f = arg;
	struct cell c[NCOLS];
	char when[32];

	if (!f->started) {
		if (output_begin(&f->out, f->ctx->format, f->ctx->out,
		                 f->table ? table_cols : cols,
		                 f->table ? NTAB : NCOLS) == -1)
			return err_set(e, "cannot write the output");
		f->started = 1;
	}
	format_time(r->at, when, sizeof(when));
	if (f->table) {
		when[16] = '\0'; /* YYYY-MM-DD HH:MM */
		return table_row(f, r, when) == -1
		           ? err_set(e, "cannot write the output")
		           : 0;
	}
	memset(c, 0, sizeof(c));
	c[0].s = when;
	c[1].s = r->reported_domain;
	c[2].s = r->source_ip;
	c[3].s = r->auth_failure;
	c[4].s = r->original_mail_from;
	c[5].s = r->original_rcpt_to;
	c[6].s = r->dkim_domain;
	c[7].s = r->dkim_selector;
	c[8].s = r->identity_alignment;
	c[9].s = r->delivery_result;
	c[10].s = r->reporter;
	c[11].s = r->subject;
	c[12].s = r->arrival_date;
	if (output_row(&f->out, c) == -1)
		return err_set(e, "cannot write the output");
	return 0;
}

static int
failures_run(struct report_ctx *ctx, struct err *e)
{
	struct fail_ctx f;

	memset(&f, 0, sizeof(f));
	f.ctx = ctx;
	f.table = ctx->format == &output_table;
	if (store_each_failure(ctx->st, &ctx->filter, one, &f, e) == -1)
		return -1;
	if (!f.started) {
		say_empty(ctx, "DMARC failure reports");
		if (f.table)
			return 0;
		if (output_begin(&f.out, ctx->format, ctx->out, cols, NCOLS) ==
		    -1)
			return err_set(e, "cannot write the output");
	}
	if (output_end(&f.out) == -1)
		return err_set(e, "cannot write the output");
	return 0;
}

const struct command cmd_failures = {
    "failures", "DMARC failure reports (ruf=): one row per failed message",
    failures_run, 1};

/*
 * cmd-reports.c - `dmarc-report reports`: one row per stored report.
 */
#include <string.h>

#include "command.h"

/* CSV and JSON: the exact columns scripts rely on. */
static const struct column cols[] = {
    {"org_name", NULL, COL_TEXT, 0},
    {"report_id", NULL, COL_TEXT, 0},
    {"domain", NULL, COL_TEXT, 0},
    {"begin", NULL, COL_TIME, 0},
    {"end", NULL, COL_TIME, 0},
    {"records", NULL, COL_INT, 0},
    {"messages", NULL, COL_INT, 0},
};

/* The table: the period as its start and length, to leave room for the
 * names within 100 columns. */
static const struct column table_cols[] = {
    {"org_name", "ORG", COL_TEXT, 1},
    {"report_id", "REPORT ID", COL_TEXT, 1},
    {"domain", "DOMAIN", COL_TEXT, 1},
    {"begin", "BEGIN (UTC)", COL_TIME, 0},
    {"hours", "HOURS", COL_INT, 0},
    {"records", "RECORDS", COL_INT, 0},
    {"messages", "MESSAGES", COL_INT, 0},
};

struct rows_ctx {
	struct report_ctx *ctx;
	struct output out;
	int started;
};

static int
one(void *arg, const struct store_report_row *r)
{
	struct rows_ctx *rc = arg;
	struct cell c[7];
	int table = rc->ctx->format == &output_table;

	if (!rc->started) {
		if (output_begin(&rc->out, rc->ctx->format, rc->ctx->out,
			table ? table_cols : cols, 7) == -1)
			return -1;
		rc->started = 1;
	}
	memset(c, 0, sizeof(c));
	c[0].s = r->org_name;
	c[1].s = r->report_id;
	c[2].s = r->domain;
	c[3].i = r->begin;
	c[4].i = table ? (r->end - r->begin + 1800) / 3600 : r->end;
	c[5].i = (int64_t)r->records;
	c[6].i = (int64_t)r->messages;
	return output_row(&rc->out, c);
}

static int
reports_run(struct report_ctx *ctx, struct err *e)
{
	struct rows_ctx rc;

	memset(&rc, 0, sizeof(rc));
	rc.ctx = ctx;
	if (store_each_report(ctx->st, &ctx->filter, one, &rc, e) == -1)
		return -1;
	if (!rc.started) {
		say_empty(ctx, "reports");
		if (ctx->format == &output_table)
			return 0;
		/* scripts still get a header or an empty array */
		if (output_begin(&rc.out, ctx->format, ctx->out, cols,
			sizeof(cols) / sizeof(cols[0])) == -1)
			return err_set(e, "output failed");
	}
	if (output_end(&rc.out) == -1)
		return err_set(e, "cannot write the output");
	return 0;
}

const struct command cmd_reports = {"reports",
    "one row per stored report", reports_run, 0};

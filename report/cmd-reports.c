/*
 * cmd-reports.c - `dmarc-report reports`: one row per stored report.
 * The rows are view-reports.c's; this file renders them.
 */
#include <string.h>

#include "command.h"
#include "view-reports.h"

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

#define NCOLS (sizeof(cols) / sizeof(cols[0]))

struct render {
	struct report_ctx *ctx;
	struct output out;
	int started;
};

static int
one(void *arg, const struct report_row *r, struct err *e)
{
	struct render *w = arg;
	struct cell c[NCOLS];
	int table = w->ctx->format == &output_table;

	if (!w->started) {
		if (output_begin(&w->out, w->ctx->format, w->ctx->out,
			table ? table_cols : cols, NCOLS) == -1)
			return err_set(e, "out of memory");
		w->started = 1;
	}
	memset(c, 0, sizeof(c));
	c[0].s = r->org_name;
	c[1].s = r->report_id;
	c[2].s = r->domain;
	c[3].i = r->begin;
	c[4].i = table ? r->hours : r->end;
	c[5].i = (int64_t)r->records;
	c[6].i = (int64_t)r->messages;
	if (output_row(&w->out, c) == -1)
		return err_set(e, "cannot write the output");
	return 0;
}

static int
reports_run(struct report_ctx *ctx, struct err *e)
{
	struct render w;

	memset(&w, 0, sizeof(w));
	w.ctx = ctx;
	if (reports_collect(ctx->st, &ctx->filter, one, &w, NULL, e) == -1) {
		if (w.started)
			output_end(&w.out);
		return -1;
	}
	if (!w.started) {
		say_empty(ctx, "reports");
		if (ctx->format == &output_table)
			return 0;
		/* scripts still get a header or an empty array */
		return view_empty(ctx, cols, NCOLS, e);
	}
	return view_end(&w.out, e);
}

const struct command cmd_reports = {"reports",
    "one row per stored report", reports_run, 0};

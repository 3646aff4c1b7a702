/*
 * cmd-records.c - `dmarc-report records`: the row-level export for
 * spreadsheets, one row per stored record.
 *
 * Columns that mean the same as in parsedmarc's aggregate CSV carry its
 * names, so spreadsheets and dashboards built on parsedmarc carry over;
 * ours follow (ses_region, cause).  Lists are JSON arrays; in CSV they are
 * joined with ',' -- except the free-text ones (errors,
 * policy_override_comments), joined with '|' as parsedmarc does, since
 * their items may contain commas.  The per-signature lists keep one item
 * per signature, empty ones included, so that the n-th item of each
 * describes the n-th signature (issue 12).
 *
 * The rows are view-records.c's (collected, streaming); this file
 * renders them.  The names of addresses (source-names.h) fill
 * parsedmarc's source_reverse_dns and source_base_domain (the
 * organisational domain of a confirmed name only), and the table shows a
 * name beside its address.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "command.h"
#include "view-records.h"

static const struct column cols[] = {
    {"org_name", NULL, COL_TEXT, 0},
    {"org_email", NULL, COL_TEXT, 0},
    {"report_id", NULL, COL_TEXT, 0},
    {"begin_date", NULL, COL_TIME, 0},
    {"end_date", NULL, COL_TIME, 0},
    {"errors", NULL, COL_LIST_BAR, 0},
    {"domain", NULL, COL_TEXT, 0},
    {"adkim", NULL, COL_TEXT, 0},
    {"aspf", NULL, COL_TEXT, 0},
    {"p", NULL, COL_TEXT, 0},
    {"sp", NULL, COL_TEXT, 0},
    {"np", NULL, COL_TEXT, 0},
    {"pct", NULL, COL_INT, 0},
    {"fo", NULL, COL_TEXT, 0},
    {"testing", NULL, COL_TEXT, 0},
    {"source_ip_address", NULL, COL_TEXT, 0},
    {"source_name", NULL, COL_TEXT, 0},
    {"count", NULL, COL_INT, 0},
    {"spf_aligned", NULL, COL_BOOL, 0},
    {"dkim_aligned", NULL, COL_BOOL, 0},
    {"dmarc_aligned", NULL, COL_BOOL, 0},
    {"disposition", NULL, COL_TEXT, 0},
    {"policy_override_reasons", NULL, COL_LIST, 0},
    {"policy_override_comments", NULL, COL_LIST_BAR, 0},
    {"envelope_from", NULL, COL_TEXT, 0},
    {"header_from", NULL, COL_TEXT, 0},
    {"envelope_to", NULL, COL_TEXT, 0},
    {"dkim_domains", NULL, COL_LIST, 0},
    {"dkim_selectors", NULL, COL_LIST_NONE, 0},
    {"dkim_results", NULL, COL_LIST, 0},
    {"spf_domains", NULL, COL_LIST, 0},
    {"spf_scopes", NULL, COL_LIST, 0},
    {"spf_results", NULL, COL_LIST, 0},
    {"ses_region", NULL, COL_TEXT, 0},
    {"cause", NULL, COL_TEXT, 0},
    {"region_evidence", NULL, COL_TEXT, 0}, /* SES: ses-region.h */
    {"source_reverse_dns", NULL, COL_TEXT, 0}, /* DNS: source-names.h */
    {"source_base_domain", NULL, COL_TEXT, 0},
    {"source_name_confirmed", NULL, COL_BOOL, 0},
    {"name_evidence", NULL, COL_TEXT, 0},
};

#define NCOLS (sizeof(cols) / sizeof(cols[0]))

/* The table cannot hold 40 columns in 100: it shows the essentials (and
 * says where the rest is). */
static const struct column table_cols[] = {
    {"begin_date", "DAY", COL_TEXT, 0},
    {"org_name", "REPORTER", COL_TEXT, 1},
    {"source_ip_address", "SOURCE IP", COL_TEXT, 0},
    {"count", "COUNT", COL_INT, 0},
    {"spf_aligned", "SPF", COL_BOOL, 0},
    {"dkim_aligned", "DKIM", COL_BOOL, 0},
    {"header_from", "FROM", COL_TEXT, 1},
    {"cause", "SES CAUSE", COL_TEXT, 1},
};

#define NTABLE (sizeof(table_cols) / sizeof(table_cols[0]))

struct render {
	struct report_ctx *ctx;
	struct output out;
	int started; /* out is begun */
	char label[SOURCE_LABEL_MAX];
};

/* Sets a list cell. */
static void
list(struct cell *c, const struct record_row *row, enum record_list i)
{
	c->v = row->list[i].v;
	c->i = (int64_t)row->list[i].n;
}

/* The CSV and JSON columns of one row. */
static void
fill(const struct record_row *row, struct cell *c)
{
	const struct dmarc_meta *m = row->m;
	const struct dmarc_record *r = row->r;
	const struct sender *snd = &row->snd;

	memset(c, 0, sizeof(*c) * NCOLS);
	c[0].s = m->org_name;
	c[1].s = m->email;
	c[2].s = m->report_id;
	c[3].i = m->begin;
	c[4].i = m->end;
	list(&c[5], row, RL_ERRORS);
	c[6].s = m->domain;
	c[7].s = m->adkim;
	c[8].s = m->aspf;
	c[9].s = m->p;
	c[10].s = m->sp;
	c[11].s = m->np;
	c[12].i = m->pct;
	c[12].null = m->pct < 0;
	c[13].s = m->fo;
	c[14].s = m->testing;
	c[15].s = r->source_ip;
	c[16].s = snd->name;
	c[17].i = r->count;
	c[18].i = row->spf_ok;
	c[19].i = row->dkim_ok;
	c[20].i = row->spf_ok || row->dkim_ok;
	c[21].s = r->disposition;
	list(&c[22], row, RL_REASONS);
	list(&c[23], row, RL_COMMENTS);
	c[24].s = r->envelope_from;
	c[25].s = r->header_from;
	c[26].s = r->envelope_to;
	list(&c[27], row, RL_DKIM_DOMAINS);
	list(&c[28], row, RL_DKIM_SELECTORS);
	list(&c[29], row, RL_DKIM_RESULTS);
	list(&c[30], row, RL_SPF_DOMAINS);
	list(&c[31], row, RL_SPF_SCOPES);
	list(&c[32], row, RL_SPF_RESULTS);
	c[33].s = snd->ses ? snd->region : NULL;
	c[34].s = snd->ses ? row->cause : NULL;
	c[35].s = snd->ses ? region_evidence_name(snd->evidence) : NULL;
	c[36].s = row->dns != NULL ? row->dns->name : NULL;
	c[37].s = row->dns != NULL ? row->dns->org : NULL;
	c[38].i = row->dns != NULL && row->dns->confirmed;
	c[38].null = row->dns == NULL;
	c[39].s = classify_signal_name(snd->via);
}

static int
one(void *arg, const struct record_row *row, struct err *e)
{
	struct render *w = arg;
	struct report_ctx *ctx = w->ctx;
	int table = ctx->format == &output_table;
	struct cell c[NCOLS], tc[NTABLE];
	char b[32];

	if (!w->started) {
		if (output_begin(&w->out, ctx->format, ctx->out,
			table ? table_cols : cols, table ? NTABLE : NCOLS) == -1)
			return err_set(e, "out of memory");
		w->started = 1;
	}
	if (!table) {
		fill(row, c);
		return output_row(&w->out, c) == -1
			   ? err_set(e, "cannot write the output")
			   : 0;
	}
	memset(tc, 0, sizeof(tc));
	format_time(row->m->begin, b, sizeof(b));
	b[10] = '\0'; /* YYYY-MM-DD */
	tc[0].s = b;
	tc[1].s = row->m->org_name;
	tc[2].s = row->r->source_ip;
	if (row->dns != NULL && row->r->source_ip != NULL) {
		source_names_label(w->label, sizeof(w->label),
		    row->r->source_ip, row->dns->name, row->dns->confirmed, 1);
		tc[2].s = w->label;
	}
	tc[3].i = row->r->count;
	tc[4].i = row->spf_ok;
	tc[5].i = row->dkim_ok;
	tc[6].s = row->r->header_from;
	tc[7].s = row->cause;
	return output_row(&w->out, tc) == -1
		   ? err_set(e, "cannot write the output")
		   : 0;
}

static int
records_run(struct report_ctx *ctx, struct err *e)
{
	struct render w;
	uint64_t rows = 0;
	int rc;

	if (tools_open(ctx, e) == -1)
		return -1;
	memset(&w, 0, sizeof(w));
	w.ctx = ctx;
	rc = records_collect(ctx->st, &ctx->filter, ctx->cl, ctx->al, one, &w,
	    &rows, e);
	if (rc == 0 && rows == 0) {
		say_empty(ctx, "records");
		/* scripts still get a header or an empty array */
		if (ctx->format != &output_table) {
			if (output_begin(&w.out, ctx->format, ctx->out, cols,
				NCOLS) == -1)
				rc = err_set(e, "out of memory");
			else
				w.started = 1;
		}
	}
	if (w.started && output_end(&w.out) == -1 && rc == 0)
		rc = err_set(e, "cannot write the output");
	if (rc == 0 && rows > 0 && ctx->format == &output_table)
		fprintf(ctx->out, "%llu record%s; --format csv or json gives "
				  "all %zu columns.\n",
		    (unsigned long long)rows, rows == 1 ? "" : "s", NCOLS);
	return rc;
}

const struct command cmd_records = {"records",
    "one row per record, for spreadsheets (parsedmarc's column names)",
    records_run, 0};

/*
 * cmd-sources.c - `dmarc-report sources`: one row per sending source,
 * most messages first, for each policy domain.
 *
 * Collecting is view-sources.c's (a plain model); this file renders it.
 * The table groups the rows by policy domain when the selection holds
 * more than one; CSV and JSON carry the domain in every row.
 */
#include <stdio.h>
#include <string.h>

#include "command.h"
#include "percent.h"
#include "view-sources.h"

/* Existing columns keep their order; new ones are appended. */
static const struct column cols[] = {
    {"source", NULL, COL_TEXT, 0},
    {"region", NULL, COL_TEXT, 0},
    {"ips", NULL, COL_INT, 0},
    {"messages", NULL, COL_INT, 0},
    {"dmarc_pass", NULL, COL_INT, 0},
    {"spf_aligned", NULL, COL_INT, 0},
    {"dkim_aligned", NULL, COL_INT, 0},
    {"quarantined", NULL, COL_INT, 0},
    {"rejected", NULL, COL_INT, 0},
    {"region_evidence", NULL, COL_TEXT, 0}, /* SES: ses-region.h */
    {"domain", NULL, COL_TEXT, 0},
    {"source_name", NULL, COL_TEXT, 0}, /* DNS: source-names.h */
    {"source_name_confirmed", NULL, COL_BOOL, 0},
    {"name_evidence", NULL, COL_TEXT, 0},
};

/* The table: shares of the messages instead of the three counts, to keep
 * within 100 columns (the CSV has the counts); the domain is a heading. */
static const struct column table_cols[] = {
    {"source", "SOURCE", COL_TEXT, 1},
    {"region", "REGION", COL_TEXT, 1},
    {"ips", "IPS", COL_INT, 0},
    {"messages", "MESSAGES", COL_INT, 0},
    {"dmarc_pass", "DMARC OK", COL_PERCENT, 0},
    {"spf_aligned", "SPF OK", COL_PERCENT, 0},
    {"dkim_aligned", "DKIM OK", COL_PERCENT, 0},
    {"quarantined", "QUARANTINED", COL_INT, 0},
    {"rejected", "REJECTED", COL_INT, 0},
};

#define NCOLS (sizeof(cols) / sizeof(cols[0]))
#define NTABLE (sizeof(table_cols) / sizeof(table_cols[0]))

/* Unknown sources (named by address) the table shows at most, per
 * domain: spoofing can bring thousands of addresses. */
#define TABLE_UNKNOWN_MAX 20

/* label: room for the table's SOURCE (source_row_label()) */
static void
fill(const struct source_row *s, int table, struct cell *c, char *label,
    size_t len)
{
	int confirmed = name_state_bool(s->name_state);

	memset(c, 0, sizeof(*c) * NCOLS);
	c[0].s = source_row_source(s);
	if (table) {
		source_row_label(s, label, len);
		c[0].s = label;
	}
	c[1].s = s->region;
	c[2].i = (int64_t)s->ips;
	c[3].i = (int64_t)s->messages;
	c[4].i = (int64_t)s->dmarc_pass;
	c[5].i = (int64_t)s->spf_aligned;
	c[6].i = (int64_t)s->dkim_aligned;
	if (table) {
		c[4].i = percent_permille(s->dmarc_pass, s->messages);
		c[5].i = percent_permille(s->spf_aligned, s->messages);
		c[6].i = percent_permille(s->dkim_aligned, s->messages);
	}
	c[7].i = (int64_t)s->quarantined;
	c[8].i = (int64_t)s->rejected;
	c[9].s = s->region[0] ? region_evidence_name(s->evidence) : NULL;
	c[10].s = s->domain;
	c[11].s = s->name_state != NAME_NONE ? s->dns_name : NULL;
	c[12].i = confirmed == 1;
	c[12].null = confirmed == -1;
	c[13].s = classify_signal_name(s->via);
}

static int
print_flat(struct report_ctx *ctx, const struct sources_view *v,
    struct err *e)
{
	struct cell c[NCOLS];
	struct output out;
	size_t i;

	if (view_begin(&out, ctx, cols, NCOLS, e) == -1)
		return -1;
	for (i = 0; i < v->n; i++) {
		fill(&v->rows[i], 0, c, NULL, 0);
		if (view_row(&out, c, e) == -1)
			return -1;
	}
	return view_end(&out, e);
}

/* One domain's table: rows [from, to) of v.  Returns 0 or -1. */
static int
print_table_domain(struct report_ctx *ctx, const struct sources_view *v,
    size_t from, size_t to, struct err *e)
{
	uint64_t total = 0, pass = 0, hidden_messages = 0;
	struct cell c[NCOLS];
	struct output out;
	size_t i, unknown = 0, hidden = 0;
	char line[300], share[16], label[SOURCE_LABEL_MAX];

	if (view_begin(&out, ctx, table_cols, NTABLE, e) == -1)
		return -1;
	for (i = from; i < to; i++) {
		const struct source_row *s = &v->rows[i];

		total += s->messages;
		pass += s->dmarc_pass;
		if (s->by_ip && unknown++ >= TABLE_UNKNOWN_MAX) {
			hidden++;
			hidden_messages += s->messages;
			continue;
		}
		fill(s, 1, c, label, sizeof(label));
		if (view_row(&out, c, e) == -1)
			return -1;
	}
	if (view_end(&out, e) == -1)
		return -1;
	view_hidden(ctx, "unknown", hidden, hidden_messages);
	snprintf(line, sizeof(line), "%zu source%s, %llu message%s, %s "
				     "passing DMARC.",
	    to - from, plural(to - from), (unsigned long long)total,
	    plural(total), percent_format(pass, total, share, sizeof(share)));
	output_text(ctx->out, 0, "", "", line, 100);
	return 0;
}

/* After several domains' blocks: the sum of them all. */
static void
print_total(struct report_ctx *ctx, const struct sources_view *v)
{
	uint64_t total = 0, pass = 0;
	char line[300], share[16];
	size_t i;

	for (i = 0; i < v->n; i++) {
		total += v->rows[i].messages;
		pass += v->rows[i].dmarc_pass;
	}
	snprintf(line, sizeof(line),
	    "All %zu domains: %llu message%s, %s passing DMARC.",
	    v->ndomains, (unsigned long long)total, plural(total),
	    percent_format(pass, total, share, sizeof(share)));
	fputc('\n', ctx->out);
	output_text(ctx->out, 0, "", "", line, 100);
}

/* The table, one block per policy domain when there are several. */
static int
print_table(struct report_ctx *ctx, const struct sources_view *v,
    struct err *e)
{
	size_t from = 0, to;
	char line[300];

	while (from < v->n) {
		for (to = from + 1; to < v->n && strcmp(v->rows[to].domain,
						     v->rows[from].domain) == 0;
		     to++)
			;
		if (v->ndomains > 1) {
			if (from > 0)
				fputc('\n', ctx->out);
			snprintf(line, sizeof(line), "%s:",
			    v->rows[from].domain[0] ? v->rows[from].domain
						    : "(no domain)");
			output_text(ctx->out, 1, "", "", line, 100);
		}
		if (print_table_domain(ctx, v, from, to, e) == -1)
			return -1;
		from = to;
	}
	if (v->ndomains > 1)
		print_total(ctx, v);
	return 0;
}

static int
sources_run(struct report_ctx *ctx, struct err *e)
{
	struct sources_view v;
	int rc;

	if (tools_open(ctx, e) == -1)
		return -1;
	if (sources_collect(ctx->st, &ctx->filter, ctx->cl, &v, e) == -1)
		return -1;
	if (v.groups == 0) {
		say_empty(ctx, "reports");
		rc = ctx->format == &output_table ? 0
						  : view_empty(ctx, cols, NCOLS, e);
	} else if (ctx->format == &output_table) {
		rc = print_table(ctx, &v, e);
	} else {
		rc = print_flat(ctx, &v, e);
	}
	sources_view_free(&v);
	return rc;
}

const struct command cmd_sources = {"sources",
    "one row per sending source, most messages first", sources_run, 0};

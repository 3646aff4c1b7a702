/*
 * cmd-policy.c - `dmarc-report policy`: renders the model of
 * view-policy.h (per policy domain: the published policy, coverage, the
 * DMARC pass share, the verdict on tightening and what p=quarantine would
 * have caught, by source) as a table, CSV or JSON.  With --exit-code,
 * every domain whose verdict is not "ready" counts as a finding.
 */
#include <stdio.h>
#include <string.h>

#include "command.h"
#include "percent.h"
#include "view-policy.h"

/* Existing columns keep their order; new ones are appended. */
static const struct column cols[] = {
    {"domain", NULL, COL_TEXT, 0},
    {"p", NULL, COL_TEXT, 0},
    {"sp", NULL, COL_TEXT, 0},
    {"adkim", NULL, COL_TEXT, 0},
    {"aspf", NULL, COL_TEXT, 0},
    {"pct", NULL, COL_INT, 0},
    {"reports", NULL, COL_INT, 0},
    {"days", NULL, COL_INT, 0},
    {"first_day", NULL, COL_TEXT, 0},
    {"last_day", NULL, COL_TEXT, 0},
    {"domain_messages", NULL, COL_INT, 0},
    {"domain_dmarc_pass", NULL, COL_INT, 0},
    {"domain_dmarc_pass_pct", NULL, COL_PERCENT, 0},
    {"ready", NULL, COL_BOOL, 0},
    {"source", NULL, COL_TEXT, 0},
    {"region", NULL, COL_TEXT, 0},
    {"known_source", NULL, COL_BOOL, 0},
    {"messages", NULL, COL_INT, 0},
    {"dmarc_pass", NULL, COL_INT, 0},
    {"quarantine_at_pct25", NULL, COL_INT, 0},
    {"quarantine_at_pct100", NULL, COL_INT, 0},
    {"verdict", NULL, COL_TEXT, 0},
    {"reason", NULL, COL_TEXT, 0},
    {"source_name", NULL, COL_TEXT, 0}, /* DNS: source-names.h */
    {"source_name_confirmed", NULL, COL_BOOL, 0},
};

#define NCOLS (sizeof(cols) / sizeof(cols[0]))

static const struct column table_cols[] = {
    {"source", "SOURCE", COL_TEXT, 1},
    {"region", "REGION", COL_TEXT, 1},
    {"known_source", "KNOWN", COL_BOOL, 0},
    {"messages", "MESSAGES", COL_INT, 0},
    {"dmarc_pass", "DMARC OK", COL_PERCENT, 0},
    {"quarantine_at_pct25", "AT PCT=25", COL_INT, 0},
    {"quarantine_at_pct100", "AT PCT=100", COL_INT, 0},
};

#define NTABLE (sizeof(table_cols) / sizeof(table_cols[0]))

/* Unidentified sources (named by address) the table lists at most. */
#define TABLE_UNKNOWN_MAX 20

/* Room for the reason: 20 unidentified sources and every failing
 * identified one. */
#define REASON_MAX 8192

static const char *
opt(const char *s)
{
	return s[0] != '\0' ? s : NULL;
}

/* Appends " name=value" when value is known. */
static void
tag(char *line, size_t len, size_t *used, const char *name, const char *value)
{
	if (value[0] != '\0' && *used < len)
		*used += (size_t)snprintf(line + *used, len - *used, " %s=%s",
		    name, value);
}

/* The heading: the tags the latest report shows (absent ones are left
 * out), then the coverage sentence. */
static void
print_heading(FILE *f, const struct policy_domain *d)
{
	const struct policy_published *m = &d->pub;
	char line[2048], first[32], last[32], latest[32], pct[16], share[16];
	size_t used;

	format_time(d->first, first, sizeof(first));
	format_time(d->last, last, sizeof(last));
	format_time(m->begin, latest, sizeof(latest));
	first[10] = last[10] = latest[10] = '\0';
	used = (size_t)snprintf(line, sizeof(line), "%s:",
	    m->domain[0] ? m->domain : "?");
	tag(line, sizeof(line), &used, "p", m->p);
	tag(line, sizeof(line), &used, "sp", m->sp);
	tag(line, sizeof(line), &used, "np", m->np);
	tag(line, sizeof(line), &used, "adkim", m->adkim);
	tag(line, sizeof(line), &used, "aspf", m->aspf);
	if (m->pct >= 0) {
		snprintf(pct, sizeof(pct), "%d", m->pct);
		tag(line, sizeof(line), &used, "pct", pct);
	}
	tag(line, sizeof(line), &used, "t", m->testing);
	output_text(f, 1, "", "  ", line, 100);
	snprintf(line, sizeof(line),
	    "as published in the latest report (%s, %s); %llu report%s "
	    "beginning on %llu day%s from %s to %s; %llu message%s, %s "
	    "passing DMARC.",
	    latest, m->org_name[0] ? m->org_name : "?",
	    (unsigned long long)d->reports, plural(d->reports),
	    (unsigned long long)d->days, plural(d->days), first, last,
	    (unsigned long long)d->messages, plural(d->messages),
	    percent_format(d->dmarc_pass, d->messages, share, sizeof(share)));
	output_text(f, 0, "", "", line, 100);
}

/* c: the source's cells (the table's, or the CSV's from "source" on);
 * names: the CSV's source_name cell, or NULL; label: room for the
 * table's SOURCE. */
static void
fill_source(const struct policy_source *s, int table, struct cell *c,
    struct cell *names, char *label, size_t len)
{
	int confirmed = name_state_bool(s->name_state);

	c[0].s = s->addr[0] ? s->addr : s->name;
	if (table) {
		policy_source_label(s, label, len);
		c[0].s = label;
	}
	if (names != NULL) {
		names[0].s = s->name_state != NAME_NONE ? s->dns_name : NULL;
		names[1].i = confirmed == 1;
		names[1].null = confirmed == -1;
	}
	c[1].s = s->region;
	c[2].i = s->known;
	c[3].i = (int64_t)s->messages;
	c[4].i = table ? percent_permille(s->dmarc_pass, s->messages)
		       : (int64_t)s->dmarc_pass;
	c[5].i = (int64_t)policy_at_pct(s, 25);
	c[6].i = (int64_t)policy_at_pct(s, 100);
}

static int
print_table_domain(struct report_ctx *ctx, const struct policy_domain *d,
    size_t index, struct err *e)
{
	char reason[REASON_MAX], label[SOURCE_LABEL_MAX];
	uint64_t hidden_messages = 0;
	struct cell c[NTABLE];
	struct output out;
	size_t i, unknown = 0, hidden = 0;

	if (index > 0)
		fputc('\n', ctx->out);
	print_heading(ctx->out, d);
	policy_reason(d, reason, sizeof(reason));
	output_text(ctx->out, 0, "", "", reason, 100);
	if (d->nsources == 0)
		return 0;
	output_text(ctx->out, 0, "", "",
	    "Messages p=quarantine would have quarantined, by source:", 100);
	if (view_begin(&out, ctx, table_cols, NTABLE, e) == -1)
		return -1;
	for (i = 0; i < d->nsources; i++) {
		const struct policy_source *s = &d->sources[i];

		if (!s->known && unknown++ >= TABLE_UNKNOWN_MAX) {
			hidden++;
			hidden_messages += s->messages;
			continue;
		}
		memset(c, 0, sizeof(c));
		fill_source(s, 1, c, NULL, label, sizeof(label));
		if (view_row(&out, c, e) == -1)
			return -1;
	}
	if (view_end(&out, e) == -1)
		return -1;
	view_hidden(ctx, "unidentified", hidden, hidden_messages);
	return 0;
}

/* The columns every row of a domain repeats. */
static void
fill_domain(const struct policy_domain *d, const char *first,
    const char *last, const char *reason, struct cell *c)
{
	const struct policy_published *m = &d->pub;

	c[0].s = opt(m->domain);
	c[1].s = opt(m->p);
	c[2].s = opt(m->sp);
	c[3].s = opt(m->adkim);
	c[4].s = opt(m->aspf);
	c[5].i = m->pct;
	c[5].null = m->pct < 0;
	c[6].i = (int64_t)d->reports;
	c[7].i = (int64_t)d->days;
	c[8].s = first;
	c[9].s = last;
	c[10].i = (int64_t)d->messages;
	c[11].i = (int64_t)d->dmarc_pass;
	c[12].i = percent_permille(d->dmarc_pass, d->messages);
	c[13].i = d->verdict == VERDICT_READY;
	c[21].s = verdict_name(d->verdict);
	c[22].s = reason;
}

static int
print_flat_domain(struct output *out, const struct policy_domain *d,
    struct err *e)
{
	char reason[REASON_MAX];
	char first[32], last[32];
	struct cell c[NCOLS];
	size_t i;

	policy_reason(d, reason, sizeof(reason));
	format_time(d->first, first, sizeof(first));
	format_time(d->last, last, sizeof(last));
	first[10] = last[10] = '\0';
	/* a domain without sources still gets its row */
	for (i = 0; i < d->nsources || (i == 0 && d->nsources == 0); i++) {
		memset(c, 0, sizeof(c));
		fill_domain(d, first, last, reason, c);
		if (d->nsources > 0) {
			fill_source(&d->sources[i], 0, c + 14, c + 23, NULL,
			    0);
		} else {
			c[16].null = c[17].null = c[18].null = 1;
			c[19].null = c[20].null = 1;
			c[24].null = 1;
		}
		if (view_row(out, c, e) == -1)
			return -1;
	}
	return 0;
}

static int
print_flat(struct report_ctx *ctx, const struct policy_view *v,
    struct err *e)
{
	struct output out;
	size_t i;

	if (view_begin(&out, ctx, cols, NCOLS, e) == -1)
		return -1;
	for (i = 0; i < v->n; i++)
		if (print_flat_domain(&out, &v->domains[i], e) == -1)
			return -1;
	return view_end(&out, e);
}

static int
policy_run(struct report_ctx *ctx, struct err *e)
{
	struct policy_view v;
	size_t i;
	int rc = 0;

	if (tools_open(ctx, e) == -1)
		return -1;
	if (policy_collect(ctx->st, &ctx->filter, ctx->cl, ctx->tolerance, &v,
		e) == -1)
		return -1;
	for (i = 0; i < v.n; i++)
		if (v.domains[i].verdict != VERDICT_READY)
			ctx->problems++;
	if (v.n == 0) {
		say_empty(ctx, "reports");
		if (ctx->format != &output_table)
			rc = view_empty(ctx, cols, NCOLS, e);
	} else if (ctx->format == &output_table) {
		for (i = 0; i < v.n && rc == 0; i++)
			rc = print_table_domain(ctx, &v.domains[i], i, e);
	} else {
		rc = print_flat(ctx, &v, e);
	}
	policy_view_free(&v);
	return rc;
}

const struct command cmd_policy = {"policy",
    "per domain: published policy, DMARC pass share, readiness to tighten",
    policy_run, 0};

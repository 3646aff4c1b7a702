/*
 * cmd-policy.c - `dmarc-report policy`: per policy domain, the policy
 * published in the latest report, how much of the period the reports
 * cover, the share of messages passing DMARC, and what p=quarantine (at
 * pct=25, then 100) would have quarantined, by source.
 *
 * "Ready to tighten" only when every known source -- one the senders
 * table or the user's --sources file names -- passes DMARC for all its
 * messages.  Unknown sources (named by IP) are what enforcement is for:
 * spoofing, or forwarders, which receivers judge by their own rules.
 *
 * The quarantine counts are an upper bound: every message failing DMARC,
 * times pct/100, rounded; receivers may exempt forwarded and mailing-list
 * mail (override reasons), and sp/np govern subdomains when published
 * differently.
 */
#include <stdio.h>
#include <string.h>

#include "classify.h"
#include "command.h"
#include "strmap.h"

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

struct psource {
	char name[128];
	char region[REGION_MAX];
	int known;
	uint64_t messages, dmarc_pass;
};

struct pdomain {
	struct strmap sources;
	uint64_t messages, dmarc_pass;
};

struct walk {
	struct report_ctx *ctx;
	struct strmap domains;
	uint64_t ndomains;
	struct output out;
	int started;
};

static int
add_group(void *arg, const struct store_group *g, struct err *e)
{
	struct walk *w = arg;
	struct pdomain *d;
	struct psource *s;
	struct sender snd;
	const char *parts[2];
	char key[256];

	classify(w->ctx->cl, g->source_ip, g->envelope_from, g->spf, g->nspf,
	    g->dkim, g->ndkim, &snd);
	if ((d = strmap_upsert(&w->domains, g->domain ? g->domain : "",
		 sizeof(*d), NULL)) == NULL)
		return err_set(e, "out of memory");
	parts[0] = source_label(snd.name, g->source_ip);
	parts[1] = snd.ses ? snd.region : "";
	strmap_key(key, sizeof(key), parts, 2);
	if ((s = strmap_upsert(&d->sources, key, sizeof(*s), NULL)) == NULL)
		return err_set(e, "out of memory");
	if (s->name[0] == '\0') {
		snprintf(s->name, sizeof(s->name), "%s",
		    source_label(snd.name, g->source_ip));
		snprintf(s->region, sizeof(s->region), "%s",
		    snd.ses ? snd.region : "");
		s->known = snd.name != NULL;
	}
	s->messages += g->messages;
	s->dmarc_pass += g->dmarc_pass;
	d->messages += g->messages;
	d->dmarc_pass += g->dmarc_pass;
	return 0;
}

static int
by_messages(const void *a, const void *b)
{
	const struct psource *x = ((const struct strmap_entry *)a)->value;
	const struct psource *y = ((const struct strmap_entry *)b)->value;
	int c;

	if (x->messages != y->messages)
		return x->messages > y->messages ? -1 : 1;
	if ((c = strcmp(x->name, y->name)) != 0)
		return c;
	return strcmp(x->region, y->region);
}

static void
free_domain(void *v)
{
	strmap_free(&((struct pdomain *)v)->sources, NULL);
}

static int64_t
permille(uint64_t part, uint64_t whole)
{
	return whole ? (int64_t)((part * 1000.0) / whole + 0.5) : 0;
}

/* What quarantine at pct would catch: the failing messages sampled. */
static uint64_t
at_pct(const struct psource *s, unsigned pct)
{
	uint64_t fail = s->messages - s->dmarc_pass;

	return pct >= 100 ? fail : (uint64_t)(fail * (pct / 100.0) + 0.5);
}

static const char *
word(const char *s)
{
	return s != NULL ? s : "?";
}

/* The verdict line for the table, and *ready. */
static void
verdict(const struct store_domain *sd, const struct pdomain *d, char *out,
    size_t len, int *ready)
{
	const struct dmarc_meta *m = sd->latest;
	size_t used, i, k, failing = 0;
	uint64_t unknown_fail = 0;

	for (i = 0; d != NULL && i < strmap_len(&d->sources); i++) {
		const struct psource *s = strmap_at(&d->sources, i)->value;

		if (s->known && s->dmarc_pass < s->messages)
			failing++;
		else if (!s->known)
			unknown_fail += s->messages - s->dmarc_pass;
	}
	*ready = failing == 0;
	if (d == NULL || d->messages == 0) {
		snprintf(out, len, "No messages in the selected reports.");
		return;
	}
	if (failing == 0) {
		if (m->p != NULL && strcmp(m->p, "reject") == 0)
			snprintf(out, len, "Every known source passes DMARC; "
					   "p=reject is already published.");
		else if (m->p != NULL && strcmp(m->p, "quarantine") == 0)
			snprintf(out, len,
			    "Ready to tighten to p=reject: every known source "
			    "passes DMARC; only the %llu failing messages from "
			    "unknown sources would be rejected.",
			    (unsigned long long)unknown_fail);
		else
			snprintf(out, len,
			    "Ready to tighten: every known source passes "
			    "DMARC; p=quarantine would only catch the %llu "
			    "failing messages from unknown sources.",
			    (unsigned long long)unknown_fail);
		return;
	}
	if (m->p != NULL && strcmp(m->p, "none") != 0)
		used = (size_t)snprintf(out, len,
		    "Known sources fail DMARC under p=%s, so their mail is at "
		    "risk now:",
		    m->p);
	else
		used = (size_t)snprintf(out, len,
		    "Not ready to tighten: %zu known source%s fail%s DMARC:",
		    failing, failing == 1 ? "" : "s", failing == 1 ? "s" : "");
	for (i = 0, k = 0; i < strmap_len(&d->sources) && used < len; i++) {
		const struct psource *s = strmap_at(&d->sources, i)->value;

		if (!s->known || s->dmarc_pass >= s->messages)
			continue;
		used += (size_t)snprintf(out + used, len - used,
		    "%s %s%s%s (%llu of %llu messages)", k++ ? "," : "",
		    s->name, s->region[0] ? " " : "", s->region,
		    (unsigned long long)(s->messages - s->dmarc_pass),
		    (unsigned long long)s->messages);
	}
	if (used < len)
		snprintf(out + used, len - used, ".");
}

/* Appends " name=value" when value is known. */
static void
tag(char *line, size_t len, size_t *used, const char *name, const char *value)
{
	if (value != NULL && *used < len)
		*used += (size_t)snprintf(line + *used, len - *used, " %s=%s",
		    name, value);
}

static int
print_table_domain(struct walk *w, const struct store_domain *sd,
    struct pdomain *d, struct err *e)
{
	const struct dmarc_meta *m = sd->latest;
	FILE *f = w->ctx->out;
	char line[2048], first[32], last[32], pct[32] = "", latest[32];
	struct cell c[NTABLE];
	struct output out;
	size_t i, used;
	int ready;

	format_time(sd->first, first, sizeof(first));
	format_time(sd->last, last, sizeof(last));
	format_time(m->begin, latest, sizeof(latest));
	first[10] = last[10] = latest[10] = '\0';
	if (w->ndomains++ > 0)
		fputc('\n', f);
	/* the tags the latest report shows; absent ones are left out */
	used = (size_t)snprintf(line, sizeof(line), "%s:", word(m->domain));
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
	    "beginning on %llu day%s from %s to %s; %llu messages, %.1f%% "
	    "passing DMARC.",
	    latest, word(m->org_name), (unsigned long long)sd->reports,
	    sd->reports == 1 ? "" : "s", (unsigned long long)sd->days,
	    sd->days == 1 ? "" : "s", first, last,
	    (unsigned long long)(d ? d->messages : 0),
	    (double)permille(d ? d->dmarc_pass : 0, d ? d->messages : 0) /
		10.0);
	output_text(f, 0, "", "", line, 100);
	verdict(sd, d, line, sizeof(line), &ready);
	output_text(f, 0, "", "", line, 100);
	if (d == NULL || strmap_len(&d->sources) == 0)
		return 0;
	output_text(f, 0, "", "",
	    "Messages p=quarantine would have quarantined, by source:", 100);
	if (output_begin(&out, &output_table, f, table_cols, NTABLE) == -1)
		return err_set(e, "out of memory");
	for (i = 0; i < strmap_len(&d->sources); i++) {
		const struct psource *s = strmap_at(&d->sources, i)->value;

		memset(c, 0, sizeof(c));
		c[0].s = s->name;
		c[1].s = s->region;
		c[2].i = s->known;
		c[3].i = (int64_t)s->messages;
		c[4].i = permille(s->dmarc_pass, s->messages);
		c[5].i = (int64_t)at_pct(s, 25);
		c[6].i = (int64_t)at_pct(s, 100);
		if (output_row(&out, c) == -1) {
			output_end(&out);
			return err_set(e, "cannot write the output");
		}
	}
	if (output_end(&out) == -1)
		return err_set(e, "cannot write the output");
	return 0;
}

static int
print_flat_domain(struct walk *w, const struct store_domain *sd,
    struct pdomain *d, struct err *e)
{
	const struct dmarc_meta *m = sd->latest;
	char first[32], last[32], text[2048];
	struct cell c[NCOLS];
	size_t i, n = d ? strmap_len(&d->sources) : 0;
	int ready;

	verdict(sd, d, text, sizeof(text), &ready);
	format_time(sd->first, first, sizeof(first));
	format_time(sd->last, last, sizeof(last));
	first[10] = last[10] = '\0';
	for (i = 0; i < n || (i == 0 && n == 0); i++) {
		const struct psource *s =
		    n ? strmap_at(&d->sources, i)->value : NULL;

		memset(c, 0, sizeof(c));
		c[0].s = m->domain;
		c[1].s = m->p;
		c[2].s = m->sp;
		c[3].s = m->adkim;
		c[4].s = m->aspf;
		c[5].i = m->pct;
		c[5].null = m->pct < 0;
		c[6].i = (int64_t)sd->reports;
		c[7].i = (int64_t)sd->days;
		c[8].s = first;
		c[9].s = last;
		c[10].i = (int64_t)(d ? d->messages : 0);
		c[11].i = (int64_t)(d ? d->dmarc_pass : 0);
		c[12].i = permille(d ? d->dmarc_pass : 0, d ? d->messages : 0);
		c[13].i = ready;
		if (s != NULL) {
			c[14].s = s->name;
			c[15].s = s->region;
			c[16].i = s->known;
			c[17].i = (int64_t)s->messages;
			c[18].i = (int64_t)s->dmarc_pass;
			c[19].i = (int64_t)at_pct(s, 25);
			c[20].i = (int64_t)at_pct(s, 100);
		} else {
			c[16].null = c[17].null = c[18].null = 1;
			c[19].null = c[20].null = 1;
		}
		if (output_row(&w->out, c) == -1)
			return err_set(e, "cannot write the output");
	}
	return 0;
}

static int
one_domain(void *arg, const struct store_domain *sd, struct err *e)
{
	struct walk *w = arg;
	struct pdomain *d = strmap_get(&w->domains, sd->latest->domain
							? sd->latest->domain
							: "");

	if (d != NULL)
		strmap_sort(&d->sources, by_messages);
	if (w->ctx->format == &output_table)
		return print_table_domain(w, sd, d, e);
	if (!w->started) {
		if (output_begin(&w->out, w->ctx->format, w->ctx->out, cols,
			NCOLS) == -1)
			return err_set(e, "out of memory");
		w->started = 1;
	}
	w->ndomains++;
	return print_flat_domain(w, sd, d, e);
}

static int
policy_run(struct report_ctx *ctx, struct err *e)
{
	struct walk w;
	int rc;

	if (tools_open(ctx, e) == -1)
		return -1;
	memset(&w, 0, sizeof(w));
	w.ctx = ctx;
	rc = store_each_group(ctx->st, &ctx->filter, add_group, &w, e);
	if (rc == 0)
		rc = store_each_domain(ctx->st, &ctx->filter, one_domain, &w, e);
	if (rc == 0 && w.ndomains == 0) {
		say_empty(ctx, "reports");
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
	strmap_free(&w.domains, free_domain);
	return rc;
}

const struct command cmd_policy = {"policy",
    "per domain: published policy, DMARC pass share, readiness to tighten",
    policy_run};

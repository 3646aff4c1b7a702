/*
 * cmd-sources.c - `dmarc-report sources`: one row per sending source,
 * most messages first.
 *
 * A source is a known sender from the senders table (Amazon SES split by
 * region), or, for mail that matches nothing, its IP address.  The store
 * sums the records by everything that decides the source (one pass, in
 * SQL); the groups, far fewer than the records, are classified here.
 */
#include <stdio.h>
#include <string.h>

#include "classify.h"
#include "command.h"
#include "strmap.h"

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
};

/* The table: shares of the messages instead of the three counts, to keep
 * within 100 columns (the CSV has the counts). */
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

/* Unknown sources (named by address) the table shows at most. */
#define TABLE_UNKNOWN_MAX 20

struct source {
	char name[128];
	char region[REGION_MAX];
	int by_ip;	   /* unknown: named by its one address */
	struct strmap ips; /* named sources: the set of addresses */
	uint64_t messages, dmarc_pass, spf_aligned, dkim_aligned;
	uint64_t quarantined, rejected;
};

struct walk {
	struct report_ctx *ctx;
	struct strmap sources;
	uint64_t groups;
};

static int
add_group(void *arg, const struct store_group *g, struct err *e)
{
	struct walk *w = arg;
	struct source *s;
	struct sender snd;
	const char *parts[2];
	char key[256];

	w->groups++;
	classify(w->ctx->cl, g->source_ip, g->envelope_from, g->spf, g->nspf,
	    g->dkim, g->ndkim, &snd);
	/* US separates a name from its region; an address has neither. */
	parts[0] = source_label(snd.name, g->source_ip);
	parts[1] = snd.ses ? snd.region : "";
	strmap_key(key, sizeof(key), parts, 2);
	if ((s = strmap_upsert(&w->sources, key, sizeof(*s), NULL)) == NULL)
		return err_set(e, "out of memory");
	if (s->name[0] == '\0') {
		snprintf(s->name, sizeof(s->name), "%s",
		    source_label(snd.name, g->source_ip));
		snprintf(s->region, sizeof(s->region), "%s",
		    snd.ses ? snd.region : "");
		s->by_ip = snd.name == NULL && g->source_ip != NULL;
	}
	if (!s->by_ip && g->source_ip != NULL &&
	    strmap_upsert(&s->ips, g->source_ip, 1, NULL) == NULL)
		return err_set(e, "out of memory");
	s->messages += g->messages;
	s->dmarc_pass += g->dmarc_pass;
	s->spf_aligned += g->spf_aligned;
	s->dkim_aligned += g->dkim_aligned;
	s->quarantined += g->quarantined;
	s->rejected += g->rejected;
	return 0;
}

static int
by_messages(const void *a, const void *b)
{
	const struct source *x = ((const struct strmap_entry *)a)->value;
	const struct source *y = ((const struct strmap_entry *)b)->value;
	int c;

	if (x->messages != y->messages)
		return x->messages > y->messages ? -1 : 1;
	if ((c = strcmp(x->name, y->name)) != 0)
		return c;
	return strcmp(x->region, y->region);
}

static void
free_source(void *v)
{
	strmap_free(&((struct source *)v)->ips, NULL);
}

/* Tenths of a percent, for COL_PERCENT. */
static int64_t
permille(uint64_t part, uint64_t whole)
{
	return whole ? (int64_t)((part * 1000.0) / whole + 0.5) : 0;
}

static int
print(struct walk *w, struct err *e)
{
	struct report_ctx *ctx = w->ctx;
	int table = ctx->format == &output_table;
	uint64_t total = 0, pass = 0, hidden_messages = 0;
	struct cell c[NCOLS];
	struct output out;
	size_t i, unknown = 0, hidden = 0;

	if (output_begin(&out, ctx->format, ctx->out, table ? table_cols : cols,
		NCOLS) == -1)
		return err_set(e, "out of memory");
	for (i = 0; i < strmap_len(&w->sources); i++) {
		const struct source *s = strmap_at(&w->sources, i)->value;

		total += s->messages;
		pass += s->dmarc_pass;
		/* a terminal gets the biggest unknown sources only: spoofing
		 * can bring thousands of addresses */
		if (table && s->by_ip && unknown++ >= TABLE_UNKNOWN_MAX) {
			hidden++;
			hidden_messages += s->messages;
			continue;
		}
		memset(c, 0, sizeof(c));
		c[0].s = s->name;
		c[1].s = s->region;
		c[2].i = s->by_ip ? 1 : (int64_t)strmap_len(&s->ips);
		c[3].i = (int64_t)s->messages;
		c[4].i = (int64_t)s->dmarc_pass;
		c[5].i = (int64_t)s->spf_aligned;
		c[6].i = (int64_t)s->dkim_aligned;
		if (table) {
			c[4].i = permille(s->dmarc_pass, s->messages);
			c[5].i = permille(s->spf_aligned, s->messages);
			c[6].i = permille(s->dkim_aligned, s->messages);
		}
		c[7].i = (int64_t)s->quarantined;
		c[8].i = (int64_t)s->rejected;
		if (output_row(&out, c) == -1) {
			output_end(&out);
			return err_set(e, "cannot write the output");
		}
	}
	if (output_end(&out) == -1)
		return err_set(e, "cannot write the output");
	if (table && hidden > 0) {
		char line[200];

		snprintf(line, sizeof(line),
		    "... and %zu more unknown sources with %llu messages "
		    "(--format csv lists every one).",
		    hidden, (unsigned long long)hidden_messages);
		output_text(ctx->out, 0, "", "", line, 100);
	}
	if (table) {
		char line[160];

		snprintf(line, sizeof(line),
		    "%zu source%s, %llu messages, %.1f%% passing DMARC.",
		    strmap_len(&w->sources),
		    strmap_len(&w->sources) == 1 ? "" : "s",
		    (unsigned long long)total,
		    (double)permille(pass, total) / 10.0);
		output_text(ctx->out, 0, "", "", line, 100);
	}
	return 0;
}

static int
sources_run(struct report_ctx *ctx, struct err *e)
{
	struct walk w;
	int rc;

	if (tools_open(ctx, e) == -1)
		return -1;
	memset(&w, 0, sizeof(w));
	w.ctx = ctx;
	rc = store_each_group(ctx->st, &ctx->filter, add_group, &w, e);
	if (rc == 0 && w.groups == 0) {
		say_empty(ctx, "reports");
		if (ctx->format != &output_table)
			rc = print(&w, e); /* a header, or [] */
	} else if (rc == 0) {
		strmap_sort(&w.sources, by_messages);
		rc = print(&w, e);
	}
	strmap_free(&w.sources, free_source);
	return rc;
}

const struct command cmd_sources = {"sources",
    "one row per sending source, most messages first", sources_run};

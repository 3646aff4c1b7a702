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
 * Rows stream from the store in report order; only the set of From
 * domains with healthy SES mail (for region-gap) is computed first, from
 * the grouped pass the ses command uses.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "align.h"
#include "classify.h"
#include "command.h"
#include "diagnose.h"
#include "strmap.h"

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
};

#define NCOLS (sizeof(cols) / sizeof(cols[0]))

/* The table cannot hold 35 columns in 100: it shows the essentials (and
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

/* A list of one record's items: pointers into the record (valid during
 * the callback) or into the walk's copy of the report's errors. */
struct plist {
	const char **v;
	size_t n, cap;
};

/* Appends item, NULL included: a missing value keeps its place. */
static int
pl_add(struct plist *l, const char *item)
{
	const char **nv;
	size_t cap;

	if (l->n == l->cap) {
		cap = l->cap ? l->cap * 2 : 8;
		if ((nv = realloc(l->v, cap * sizeof(*nv))) == NULL)
			return -1;
		l->v = nv;
		l->cap = cap;
	}
	l->v[l->n++] = item;
	return 0;
}

enum {
	L_DKIM_D,
	L_DKIM_S,
	L_DKIM_R,
	L_SPF_D,
	L_SPF_S,
	L_SPF_R,
	L_REASONS,
	L_COMMENTS,
	L_ERRORS,
	L_COUNT
};

struct walk {
	struct report_ctx *ctx;
	struct strmap healthy;
	struct output out;
	int started; /* out is begun */
	struct plist list[L_COUNT];
	char *errors; /* the report's errors, split at newlines */
	size_t errors_cap;
	uint64_t rows;
};

static int
find_healthy(void *arg, const struct store_group *g, struct err *e)
{
	struct walk *w = arg;
	struct sender snd;

	if (g->header_from == NULL ||
	    g->spf_aligned + g->dkim_aligned <= g->dmarc_pass)
		return 0;
	classify(w->ctx->cl, g->source_ip, g->envelope_from, g->spf, g->nspf,
	    g->dkim, g->ndkim, &snd);
	if (snd.ses &&
	    strmap_upsert(&w->healthy, g->header_from, 1, NULL) == NULL)
		return err_set(e, "out of memory");
	return 0;
}

/* The report's errors, stored joined with newlines, as items. */
static int
split_errors(struct walk *w, const char *errors)
{
	size_t n = strlen(errors) + 1;
	char *p, *nl, *np;

	if (n > w->errors_cap) {
		if ((np = realloc(w->errors, n)) == NULL)
			return -1;
		w->errors = np;
		w->errors_cap = n;
	}
	memcpy(w->errors, errors, n);
	for (p = w->errors; p != NULL; p = nl ? nl + 1 : NULL) {
		if ((nl = strchr(p, '\n')) != NULL)
			*nl = '\0';
		if (pl_add(&w->list[L_ERRORS], p) == -1)
			return -1;
	}
	return 0;
}

static int
build_lists(struct walk *w, const struct dmarc_meta *m,
    const struct dmarc_record *r)
{
	size_t i;
	int rc = 0;

	for (i = 0; i < L_COUNT; i++)
		w->list[i].n = 0;
	for (i = 0; i < r->ndkim; i++) {
		const struct dmarc_dkim *d = &r->dkim_results[i];

		/* a missing selector is written none in CSV, as parsedmarc
		 * does, and null in JSON */
		rc |= pl_add(&w->list[L_DKIM_D], d->domain);
		rc |= pl_add(&w->list[L_DKIM_S], d->selector);
		rc |= pl_add(&w->list[L_DKIM_R], d->result);
	}
	for (i = 0; i < r->nspf; i++) {
		const struct dmarc_spf *sp = &r->spf_results[i];

		rc |= pl_add(&w->list[L_SPF_D], sp->domain);
		rc |= pl_add(&w->list[L_SPF_S], sp->scope);
		rc |= pl_add(&w->list[L_SPF_R], sp->result);
	}
	for (i = 0; i < r->nreasons; i++) {
		rc |= pl_add(&w->list[L_REASONS], r->reasons[i].type);
		rc |= pl_add(&w->list[L_COMMENTS], r->reasons[i].comment);
	}
	if (m->errors != NULL && m->errors[0] != '\0')
		rc |= split_errors(w, m->errors);
	return rc;
}

/* Sets a list cell. */
static void
list(struct cell *c, const struct walk *w, int i)
{
	c->v = w->list[i].v;
	c->i = (int64_t)w->list[i].n;
}

static int
one(void *arg, const struct dmarc_meta *m, const struct dmarc_record *r,
    struct err *e)
{
	struct walk *w = arg;
	struct report_ctx *ctx = w->ctx;
	int table = ctx->format == &output_table;
	struct cell c[NCOLS], tc[NTABLE];
	char b[32], cause[160] = "";
	struct sender snd;
	int spf_ok = r->spf != NULL && strcmp(r->spf, "pass") == 0;
	int dkim_ok = r->dkim != NULL && strcmp(r->dkim, "pass") == 0;

	if (!w->started) {
		if (output_begin(&w->out, ctx->format, ctx->out,
			table ? table_cols : cols, table ? NTABLE : NCOLS) == -1)
			return err_set(e, "out of memory");
		w->started = 1;
	}
	w->rows++;
	if (build_lists(w, m, r) != 0)
		return err_set(e, "out of memory");
	classify(ctx->cl, r->source_ip, r->envelope_from, r->spf_results,
	    r->nspf, r->dkim_results, r->ndkim, &snd);
	if (snd.ses && (!spf_ok || !dkim_ok)) {
		struct diag_input in;
		unsigned causes;

		memset(&in, 0, sizeof(in));
		in.domain = m->domain;
		in.source_ip = r->source_ip;
		in.header_from = r->header_from;
		in.envelope_from = r->envelope_from;
		in.adkim = m->adkim;
		in.aspf = m->aspf;
		in.dkim = r->dkim_results;
		in.ndkim = r->ndkim;
		in.spf = r->spf_results;
		in.nspf = r->nspf;
		in.spf_fails = !spf_ok;
		in.dkim_fails = !dkim_ok;
		causes = diagnose(ctx->al, ctx->cl, &in, NULL);
		if (strcmp(snd.region, REGION_UNKNOWN) != 0 && !spf_ok &&
		    !dkim_ok && r->header_from != NULL &&
		    strmap_get(&w->healthy, r->header_from) != NULL)
			causes |= CAUSE_REGION_GAP;
		causes_format(causes, cause, sizeof(cause));
	}
	memset(c, 0, sizeof(c));
	c[0].s = m->org_name;
	c[1].s = m->email;
	c[2].s = m->report_id;
	c[3].i = m->begin;
	c[4].i = m->end;
	list(&c[5], w, L_ERRORS);
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
	c[16].s = snd.name;
	c[17].i = r->count;
	c[18].i = spf_ok;
	c[19].i = dkim_ok;
	c[20].i = spf_ok || dkim_ok;
	c[21].s = r->disposition;
	list(&c[22], w, L_REASONS);
	list(&c[23], w, L_COMMENTS);
	c[24].s = r->envelope_from;
	c[25].s = r->header_from;
	c[26].s = r->envelope_to;
	list(&c[27], w, L_DKIM_D);
	list(&c[28], w, L_DKIM_S);
	list(&c[29], w, L_DKIM_R);
	list(&c[30], w, L_SPF_D);
	list(&c[31], w, L_SPF_S);
	list(&c[32], w, L_SPF_R);
	c[33].s = snd.ses ? snd.region : NULL;
	c[34].s = snd.ses ? cause : NULL;
	c[35].s = snd.ses ? region_evidence_name(snd.evidence) : NULL;
	if (!table)
		return output_row(&w->out, c) == -1
			   ? err_set(e, "cannot write the output")
			   : 0;
	memset(tc, 0, sizeof(tc));
	format_time(m->begin, b, sizeof(b));
	b[10] = '\0'; /* YYYY-MM-DD */
	tc[0].s = b;
	tc[1].s = m->org_name;
	tc[2].s = r->source_ip;
	tc[3].i = r->count;
	tc[4].i = spf_ok;
	tc[5].i = dkim_ok;
	tc[6].s = r->header_from;
	tc[7].s = cause;
	return output_row(&w->out, tc) == -1
		   ? err_set(e, "cannot write the output")
		   : 0;
}

static int
records_run(struct report_ctx *ctx, struct err *e)
{
	struct walk w;
	size_t i;
	int rc;

	if (tools_open(ctx, e) == -1)
		return -1;
	memset(&w, 0, sizeof(w));
	w.ctx = ctx;
	rc = store_each_group(ctx->st, &ctx->filter, find_healthy, &w, e);
	if (rc == 0)
		rc = store_each_record(ctx->st, &ctx->filter, one, &w, e);
	if (rc == 0 && w.rows == 0) {
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
	if (rc == 0 && w.rows > 0 && ctx->format == &output_table)
		fprintf(ctx->out, "%llu record%s; --format csv or json gives "
				  "all %zu columns.\n",
		    (unsigned long long)w.rows, w.rows == 1 ? "" : "s", NCOLS);
	for (i = 0; i < L_COUNT; i++)
		free(w.list[i].v);
	free(w.errors);
	strmap_free(&w.healthy, NULL);
	return rc;
}

const struct command cmd_records = {"records",
    "one row per record, for spreadsheets (parsedmarc's column names)",
    records_run, 0};

/*
 * cmd-ses.c - `dmarc-report ses`: renders the SES model (ses-model.h) as a
 * table, CSV or JSON.  One row per (SES region, source IP, header_from)
 * that has messages failing SPF or DKIM alignment, with its severity, the
 * evidence for its region, the causes and the fix (diagnose.h).  Healthy
 * SES traffic is not shown.  With --exit-code, a fail row makes the exit
 * status 1 (with --exit-code=warn, a warn row too).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "command.h"
#include "ses-model.h"

/* The first ten keep their names and order; new ones are appended. */
static const struct column cols[] = {
    {"region", NULL, COL_TEXT, 0},
    {"source_ip", NULL, COL_TEXT, 0},
    {"header_from", NULL, COL_TEXT, 0},
    {"messages", NULL, COL_INT, 0},
    {"spf_aligned", NULL, COL_INT, 0},
    {"dkim_aligned", NULL, COL_INT, 0},
    {"envelope_from", NULL, COL_LIST, 0},
    {"dkim_domains", NULL, COL_LIST, 0},
    {"cause", NULL, COL_TEXT, 0},
    {"fix", NULL, COL_TEXT, 0},
    {"severity", NULL, COL_TEXT, 0},
    {"region_evidence", NULL, COL_TEXT, 0},
    {"notes", NULL, COL_TEXT, 0},
    {"evidence", NULL, COL_TEXT, 0},
};

#define NCOLS (sizeof(cols) / sizeof(cols[0]))

/* The table shows rows in blocks of the same severity, region, From
 * domain and causes, each followed by its fix. */
static const struct column block_cols[] = {
    {"source_ip", "SOURCE IP", COL_TEXT, 0},
    {"region_evidence", "REGION BY", COL_TEXT, 0},
    {"messages", "MESSAGES", COL_INT, 0},
    {"spf_aligned", "SPF ALIGNED", COL_INT, 0},
    {"dkim_aligned", "DKIM ALIGNED", COL_INT, 0},
    {"envelope_from", "MAIL FROM", COL_TEXT, 1},
    {"dkim_domains", "DKIM DOMAINS", COL_TEXT, 1},
};

#define NBLOCK (sizeof(block_cols) / sizeof(block_cols[0]))

/* Rows a block of the table shows at most (the most messages first), and
 * notes under it. */
#define BLOCK_ROWS_MAX 10
#define BLOCK_NOTES_MAX 3

/*
 * A row's texts, and what they were made from.  Rows come sorted by
 * severity, region, From domain and causes, so a row's texts are mostly
 * the previous row's: those are kept when the inputs are the same (pooled
 * strings, so the same pointers), instead of formatting a fix of several
 * hundred bytes for each of hundreds of thousands of rows.  Zero it
 * before the first use.
 */
struct texts {
	char mail_from[2048], dkim[2048], cause[200], fix[4096], notes[600];
	char evidence[1024];
	int have_mail_from, have_dkim, have_cause, have_fix;
	struct ses_set mail_from_of, dkim_of;
	unsigned cause_of;
	struct ses_row fix_of; /* region, hf, causes, hint */
};

static int
same_set(const struct ses_set *a, const struct ses_set *b)
{
	size_t i;

	if (a->n != b->n || a->more != b->more)
		return 0;
	for (i = 0; i < a->n; i++)
		if (a->s[i] != b->s[i])
			return 0;
	return 1;
}

/* Member by member, not memcmp: the padding between members is not
 * ours to compare.  The strings are pooled, so equal pointers are equal
 * texts. */
static int
same_hint(const struct diag_hint *x, const struct diag_hint *y)
{
	return x->policy_domain == y->policy_domain &&
	       x->mail_from == y->mail_from &&
	       x->spf_results == y->spf_results &&
	       x->dkim_domain == y->dkim_domain &&
	       x->dkim_selector == y->dkim_selector &&
	       x->strict_spf == y->strict_spf &&
	       x->strict_dkim == y->strict_dkim && x->product == y->product &&
	       x->ses_dkim_fails == y->ses_dkim_fails &&
	       x->working_mail_from == y->working_mail_from &&
	       x->working_region == y->working_region &&
	       x->same_region_healthy == y->same_region_healthy;
}

static int
same_fix(const struct ses_row *a, const struct ses_row *b)
{
	return a->causes == b->causes && a->hf == b->hf &&
	       strcmp(a->region, b->region) == 0 && same_hint(&a->hint, &b->hint);
}

static void
row_texts(const struct ses_row *r, struct texts *t)
{
	if (!t->have_mail_from || !same_set(&t->mail_from_of, &r->mail_from)) {
		ses_set_join(&r->mail_from, t->mail_from, sizeof(t->mail_from));
		t->mail_from_of = r->mail_from;
		t->have_mail_from = 1;
	}
	if (!t->have_dkim || !same_set(&t->dkim_of, &r->dkim_domains)) {
		ses_set_join(&r->dkim_domains, t->dkim, sizeof(t->dkim));
		t->dkim_of = r->dkim_domains;
		t->have_dkim = 1;
	}
	if (!t->have_cause || t->cause_of != r->causes) {
		causes_format(r->causes, t->cause, sizeof(t->cause));
		t->cause_of = r->causes;
		t->have_cause = 1;
	}
	if (!t->have_fix || !same_fix(&t->fix_of, r)) {
		fix_format(r->causes, r->region, r->hf, &r->hint, t->fix,
		    sizeof(t->fix));
		t->fix_of = *r;
		t->have_fix = 1;
	}
	ses_row_notes(r, t->notes, sizeof(t->notes));
	ses_row_evidence(r, t->evidence, sizeof(t->evidence));
}

static int
print_flat(struct report_ctx *ctx, const struct ses_model *m, struct err *e)
{
	const char *mail_from[SES_SET_MAX + 1], *dkim[SES_SET_MAX + 1];
	struct cell c[NCOLS];
	struct output out;
	struct texts *t;
	size_t i;
	int rc = 0;

	if ((t = calloc(1, sizeof(*t))) == NULL ||
	    output_begin(&out, ctx->format, ctx->out, cols, NCOLS) == -1) {
		free(t);
		return err_set(e, "out of memory");
	}
	for (i = 0; rc == 0 && i < strmap_len(&m->rows); i++) {
		const struct ses_row *r = ses_row_at(m, i);

		if (!r->flagged)
			continue;
		row_texts(r, t);
		memset(c, 0, sizeof(c));
		c[0].s = r->region;
		c[1].s = r->ip;
		c[2].s = r->hf;
		c[3].i = (int64_t)r->messages;
		c[4].i = (int64_t)r->spf_aligned;
		c[5].i = (int64_t)r->dkim_aligned;
		/* lists: a JSON array, joined with ',' in CSV as before */
		c[6].v = mail_from;
		c[6].i = (int64_t)ses_set_items(&r->mail_from, mail_from);
		c[7].v = dkim;
		c[7].i = (int64_t)ses_set_items(&r->dkim_domains, dkim);
		c[8].s = t->cause;
		c[9].s = t->fix;
		c[10].s = ses_severity_name(r->severity);
		c[11].s = region_evidence_name(r->evidence);
		c[12].s = t->notes;
		c[13].s = t->evidence;
		rc = output_row(&out, c);
	}
	if (output_end(&out) == -1)
		rc = -1;
	free(t);
	return rc == -1 ? err_set(e, "cannot write the output") : 0;
}

static int
same_block(const struct ses_row *a, const struct ses_row *b)
{
	return a->severity == b->severity && strcmp(a->region, b->region) == 0 &&
	       a->causes == b->causes &&
	       strcmp(a->hf ? a->hf : "", b->hf ? b->hf : "") == 0;
}

/* The state of the block being printed. */
struct block {
	const struct ses_row *first;
	struct output out;
	unsigned spf_results;
	size_t shown, hidden, nnotes;
	uint64_t hidden_messages;
	const char *notes[BLOCK_NOTES_MAX]; /* pooled region notes */
	/* the rows with failure-report evidence, the first few kept */
	const struct ses_row *evidence[BLOCK_NOTES_MAX];
	size_t nevidence;
};

static void
block_note(struct block *b, const struct ses_row *r)
{
	size_t i;

	if (r->region_note == NULL)
		return;
	for (i = 0; i < b->nnotes; i++)
		if (b->notes[i] == r->region_note)
			return;
	if (b->nnotes < BLOCK_NOTES_MAX)
		b->notes[b->nnotes++] = r->region_note;
}

/* Ends a block: the count of the rows not shown, the notes, the fix. */
static int
block_end(FILE *f, struct block *b, struct texts *t)
{
	struct ses_row merged = *b->first;
	char line[1100];
	size_t i;

	if (output_end(&b->out) == -1)
		return -1;
	if (b->hidden > 0) {
		snprintf(line, sizeof(line),
		    "... and %zu more addresses with %llu messages (--format "
		    "csv lists every one).",
		    b->hidden, (unsigned long long)b->hidden_messages);
		output_text(f, 0, "", "", line, 100);
	}
	for (i = 0; i < b->nnotes; i++)
		output_text(f, 0, "Note: ", "      ", b->notes[i], 100);
	for (i = 0; i < b->nevidence; i++) {
		char ev[1200 + 64];
		const struct ses_row *r = b->evidence[i];

		ses_row_evidence(r, line, sizeof(line));
		snprintf(ev, sizeof(ev), "%s: %s", r->ip ? r->ip : "(no address)",
		    line);
		output_text(f, 0, "Evidence: ", "          ", ev, 100);
	}
	/* the fix of the block: the first row's details, with every SPF
	 * result the block saw */
	merged.hint.spf_results = b->spf_results;
	row_texts(&merged, t);
	output_text(f, 0, "Fix: ", "     ", t->fix, 100);
	b->first = NULL;
	return 0;
}

static int
block_begin(FILE *f, struct block *b, const struct ses_row *r,
    const struct texts *t, size_t nblocks)
{
	char head[600];

	memset(b, 0, sizeof(*b));
	b->first = r;
	if (nblocks > 0)
		fputc('\n', f);
	snprintf(head, sizeof(head), "%s  %s  %s  %s",
	    r->severity == SES_FAIL ? "FAIL" : "WARN", r->region,
	    r->hf ? r->hf : "(no From domain)",
	    t->cause[0] ? t->cause : "(no cause found)");
	output_text(f, 1, "", "    ", head, 100);
	return output_begin(&b->out, &output_table, f, block_cols, NBLOCK);
}

static int
block_row(struct block *b, const struct ses_row *r, const struct texts *t)
{
	struct cell c[NBLOCK];

	b->spf_results |= r->hint.spf_results;
	block_note(b, r);
	if (r->failures.reports > 0 && b->nevidence < BLOCK_NOTES_MAX)
		b->evidence[b->nevidence++] = r;
	/* a block of a big address pool shows its busiest ones */
	if (b->shown++ >= BLOCK_ROWS_MAX) {
		b->hidden++;
		b->hidden_messages += r->messages;
		return 0;
	}
	memset(c, 0, sizeof(c));
	c[0].s = r->ip ? r->ip : "(no address)";
	c[1].s = region_evidence_name(r->evidence);
	c[2].i = (int64_t)r->messages;
	c[3].i = (int64_t)r->spf_aligned;
	c[4].i = (int64_t)r->dkim_aligned;
	c[5].s = t->mail_from;
	c[6].s = t->dkim;
	return output_row(&b->out, c);
}

static int
print_blocks(struct report_ctx *ctx, const struct ses_model *m,
    struct texts *t)
{
	FILE *f = ctx->out;
	const struct ses_row *r;
	struct block b = {0};
	size_t i, nblocks = 0;

	for (i = 0; i <= strmap_len(&m->rows); i++) {
		r = i < strmap_len(&m->rows) ? ses_row_at(m, i) : NULL;
		if (r != NULL && !r->flagged)
			continue;
		if (b.first != NULL && (r == NULL || !same_block(b.first, r)) &&
		    block_end(f, &b, t) == -1)
			return -1;
		if (r == NULL)
			break;
		row_texts(r, t);
		if (b.first == NULL && block_begin(f, &b, r, t, nblocks++) == -1)
			return -1;
		if (block_row(&b, r, t) == -1) {
			output_end(&b.out);
			return -1;
		}
	}
	return 0;
}

/* The lines after the rows: mail changed in transit, and the
 * amazonses.com selectors in no table. */
static void
print_trailer(struct report_ctx *ctx, const struct ses_model *m, int table)
{
	char line[600];
	size_t i;

	if (m->fails + m->warns == 0)
		return; /* the all-clear stays one line */
	if (table && m->transit_messages > 0) {
		snprintf(line, sizeof(line),
		    "%llu message%s were forwarded or modified in transit; no "
		    "SES setting changes that.",
		    (unsigned long long)m->transit_messages,
		    m->transit_messages == 1 ? "" : "s");
		fputc('\n', ctx->out);
		output_text(ctx->out, 0, "", "", line, 100);
	}
	if (table && m->failure_unmatched > 0) {
		snprintf(line, sizeof(line),
		    "%llu DMARC failure report%s from SES sources match%s no "
		    "finding above (dmarc-report failures lists them).",
		    (unsigned long long)m->failure_unmatched,
		    m->failure_unmatched == 1 ? "" : "s",
		    m->failure_unmatched == 1 ? "es" : "");
		output_text(ctx->out, 0, "", "", line, 100);
	}
	for (i = 0; i < strmap_len(&m->selectors); i++) {
		const struct strmap_entry *s = strmap_at(&m->selectors, i);
		const struct ses_unknown_selector *u = s->value;
		int known = strcmp(u->region, REGION_UNKNOWN) != 0;

		snprintf(line, sizeof(line),
		    "amazonses.com DKIM selector %s is in no region table "
		    "(%llu messages%s%s): add \"ses-selector:%s,%s\" to your "
		    "--sources file.",
		    s->key, (unsigned long long)u->messages,
		    known ? ", region by other evidence " : "",
		    known ? u->region : "", s->key, known ? u->region : "<region>");
		if (table)
			output_text(ctx->out, 0, "", "  ", line, 100);
	}
	/* CSV and JSON have them in the notes column; one line for people */
	if (!table && strmap_len(&m->selectors) > 0)
		fprintf(stderr, "dmarc-report: note: %zu amazonses.com DKIM "
				"selector%s in no region table (the notes column "
				"names them): add ses-selector lines to your "
				"--sources file\n",
		    strmap_len(&m->selectors),
		    strmap_len(&m->selectors) == 1 ? " is" : "s are");
}

/* The exit status counts fail rows, and warn rows with --exit-code=warn
 * (ctx->exit_code 2). */
static void
count_problems(struct report_ctx *ctx, const struct ses_model *m)
{
	ctx->problems += (int)m->fails;
	if (ctx->exit_code == 2)
		ctx->problems += (int)m->warns;
}

static int
ses_run(struct report_ctx *ctx, struct err *e)
{
	int table = ctx->format == &output_table;
	struct ses_model m = {0};
	struct texts *t = NULL;
	int rc;

	if (tools_open(ctx, e) == -1)
		return -1;
	rc = ses_collect(&m, ctx->st, &ctx->filter, ctx->cl, ctx->al, e);
	if (rc == -1)
		goto out;
	count_problems(ctx, &m);
	if (!table) {
		if (m.groups == 0)
			say_empty(ctx, "reports");
		rc = print_flat(ctx, &m, e);
	} else if (m.groups == 0) {
		say_empty(ctx, "reports");
	} else if (m.fails + m.warns == 0) {
		if (m.ses_messages == 0 && m.transit_messages == 0)
			fputs("No Amazon SES mail in the selected reports.\n",
			    ctx->out);
		else if (m.transit_messages == 0)
			fprintf(ctx->out,
			    "No SES problems: all %llu messages sent through "
			    "Amazon SES pass SPF and DKIM alignment.\n",
			    (unsigned long long)m.ses_messages);
		else
			fprintf(ctx->out,
			    "No SES problems: all %llu messages sent through "
			    "Amazon SES pass SPF and DKIM alignment; %llu more "
			    "were forwarded or modified in transit, which no SES "
			    "setting changes.\n",
			    (unsigned long long)m.ses_messages,
			    (unsigned long long)m.transit_messages);
	} else if ((t = calloc(1, sizeof(*t))) == NULL) {
		rc = err_set(e, "out of memory");
	} else if (print_blocks(ctx, &m, t) == -1) {
		rc = err_set(e, "cannot write the output");
	}
	if (rc == 0 && m.groups > 0)
		print_trailer(ctx, &m, table);
	if (rc == 0 && (fflush(ctx->out) == EOF || ferror(ctx->out)))
		rc = err_set(e, "cannot write the output");
out:
	free(t);
	ses_model_free(&m);
	return rc;
}

const struct command cmd_ses = {"ses",
    "Amazon SES sources failing alignment: severity, cause and fix",
    ses_run, 0};

/*
 * cmd-ses.c - `dmarc-report ses`: the Amazon SES diagnosis.  One row per
 * (SES region, source IP, header_from) that has messages failing SPF or
 * DKIM alignment, with the causes and the fix (diagnose.h).  Healthy SES
 * traffic is not shown.  With --exit-code, any row shown makes the exit
 * status 1.
 *
 * Rows sum every SES message of their key (so the counts add up across
 * reports and receivers); causes come only from the groups that fail.
 * region-gap needs all rows: it is added once the walk is over.
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
    {"region", NULL, COL_TEXT, 0},
    {"source_ip", NULL, COL_TEXT, 0},
    {"header_from", NULL, COL_TEXT, 0},
    {"messages", NULL, COL_INT, 0},
    {"spf_aligned", NULL, COL_INT, 0},
    {"dkim_aligned", NULL, COL_INT, 0},
    {"envelope_from", NULL, COL_TEXT, 0},
    {"dkim_domains", NULL, COL_TEXT, 0},
    {"cause", NULL, COL_TEXT, 0},
    {"fix", NULL, COL_TEXT, 0},
};

#define NCOLS (sizeof(cols) / sizeof(cols[0]))

/* The table shows rows in blocks of the same region, From domain and
 * causes, each followed by its fix. */
static const struct column block_cols[] = {
    {"source_ip", "SOURCE IP", COL_TEXT, 0},
    {"messages", "MESSAGES", COL_INT, 0},
    {"spf_aligned", "SPF ALIGNED", COL_INT, 0},
    {"dkim_aligned", "DKIM ALIGNED", COL_INT, 0},
    {"envelope_from", "MAIL FROM", COL_TEXT, 1},
    {"dkim_domains", "DKIM DOMAINS", COL_TEXT, 1},
};

#define NBLOCK (sizeof(block_cols) / sizeof(block_cols[0]))

/* Rows a block of the table shows at most (the most messages first). */
#define BLOCK_ROWS_MAX 10

/* Small sets of pooled strings: the MAIL FROM and DKIM domains of a row.
 * A row rarely has more than two or three; beyond SET_MAX, "..." says
 * that more were seen (the records export has them all). */
#define SET_MAX 6

struct set {
	const char *s[SET_MAX];
	size_t n;
	int more;
};

struct row {
	char region[REGION_MAX];
	int unknown;	     /* region is REGION_UNKNOWN */
	const char *ip, *hf; /* pooled, or NULL */
	uint64_t messages, spf_aligned, dkim_aligned, dmarc_pass;
	int flagged;
	unsigned causes;
	struct diag_hint hint; /* pooled strings */
	struct set mail_from, dkim_domains;
};

struct walk {
	struct report_ctx *ctx;
	struct strmap rows;
	struct strmap healthy; /* header_froms passing both through SES */
	struct strmap pool;    /* every string the rows point to */
	uint64_t groups, ses_messages;
};

/* The pooled copy of s (NULL stays NULL); -1 when out of memory. */
static int
pooled(struct walk *w, const char *s, const char **out)
{
	*out = NULL;
	if (s != NULL && (*out = strmap_intern(&w->pool, s)) == NULL)
		return -1;
	return 0;
}

static int
set_add(struct walk *w, struct set *set, const char *s)
{
	const char *p;
	size_t i;

	for (i = 0; i < set->n; i++)
		if (strcmp(set->s[i], s) == 0)
			return 0;
	if (set->n == SET_MAX) {
		set->more = 1;
		return 0;
	}
	if (pooled(w, s, &p) == -1)
		return -1;
	set->s[set->n++] = p;
	return 0;
}

/* Keeps the first of each detail the fixes name, pooled. */
static int
hint_merge(struct walk *w, struct diag_hint *h, const struct diag_hint *n)
{
	const char **dst[] = {&h->policy_domain, &h->mail_from,
	    &h->dkim_domain, &h->strict_spf, &h->strict_dkim};
	const char *const src[] = {n->policy_domain, n->mail_from,
	    n->dkim_domain, n->strict_spf, n->strict_dkim};
	size_t i;

	for (i = 0; i < sizeof(src) / sizeof(src[0]); i++)
		if (*dst[i] == NULL && pooled(w, src[i], dst[i]) == -1)
			return -1;
	if (h->dkim_domain != NULL && h->dkim_selector == NULL &&
	    n->dkim_domain != NULL && strcmp(n->dkim_domain, h->dkim_domain) == 0 &&
	    pooled(w, n->dkim_selector, &h->dkim_selector) == -1)
		return -1;
	h->spf_results |= n->spf_results;
	return 0;
}

static int
add_group(void *arg, const struct store_group *g, struct err *e)
{
	struct walk *w = arg;
	struct diag_input in;
	struct diag_hint hint;
	struct sender snd;
	struct row *r;
	const char *mf;
	const char *parts[3];
	char key[600];
	size_t i;
	int created;

	w->groups++;
	classify(w->ctx->cl, g->source_ip, g->envelope_from, g->spf, g->nspf,
	    g->dkim, g->ndkim, &snd);
	if (!snd.ses)
		return 0;
	w->ses_messages += g->messages;
	/* both aligned = |SPF| + |DKIM| - |either| */
	if (g->spf_aligned + g->dkim_aligned > g->dmarc_pass &&
	    g->header_from != NULL &&
	    strmap_upsert(&w->healthy, g->header_from, 1, NULL) == NULL)
		return err_set(e, "out of memory");
	parts[0] = snd.region;
	parts[1] = g->source_ip ? g->source_ip : "";
	parts[2] = g->header_from ? g->header_from : "";
	strmap_key(key, sizeof(key), parts, 3);
	if ((r = strmap_upsert(&w->rows, key, sizeof(*r), &created)) == NULL)
		return err_set(e, "out of memory");
	if (created) {
		snprintf(r->region, sizeof(r->region), "%s", snd.region);
		r->unknown = strcmp(r->region, REGION_UNKNOWN) == 0;
		if (pooled(w, g->source_ip, &r->ip) == -1 ||
		    pooled(w, g->header_from, &r->hf) == -1)
			return err_set(e, "out of memory");
	}
	r->messages += g->messages;
	r->spf_aligned += g->spf_aligned;
	r->dkim_aligned += g->dkim_aligned;
	r->dmarc_pass += g->dmarc_pass;
	if ((mf = diag_mail_from(g->envelope_from, g->spf, g->nspf)) != NULL &&
	    set_add(w, &r->mail_from, mf) == -1)
		return err_set(e, "out of memory");
	for (i = 0; i < g->ndkim; i++)
		if (g->dkim[i].domain != NULL &&
		    set_add(w, &r->dkim_domains, g->dkim[i].domain) == -1)
			return err_set(e, "out of memory");
	if (g->spf_aligned >= g->messages && g->dkim_aligned >= g->messages)
		return 0;
	r->flagged = 1;
	memset(&in, 0, sizeof(in));
	in.domain = g->domain;
	in.source_ip = g->source_ip;
	in.header_from = g->header_from;
	in.envelope_from = g->envelope_from;
	in.adkim = g->adkim;
	in.aspf = g->aspf;
	in.dkim = g->dkim;
	in.ndkim = g->ndkim;
	in.spf = g->spf;
	in.nspf = g->nspf;
	in.spf_fails = g->spf_aligned < g->messages;
	in.dkim_fails = g->dkim_aligned < g->messages;
	memset(&hint, 0, sizeof(hint));
	r->causes |= diagnose(w->ctx->al, w->ctx->cl, &in, &hint);
	if (hint_merge(w, &r->hint, &hint) == -1)
		return err_set(e, "out of memory");
	return 0;
}

/* Known regions by name, "unknown" last; then From domain, causes, most
 * messages, address. */
static int
row_order(const void *a, const void *b)
{
	const struct row *x = ((const struct strmap_entry *)a)->value;
	const struct row *y = ((const struct strmap_entry *)b)->value;
	int c;

	/* (pooled strings: the same text is the same pointer) */
	if (x->unknown != y->unknown)
		return x->unknown - y->unknown;
	if ((c = strcmp(x->region, y->region)) != 0)
		return c;
	if (x->hf != y->hf &&
	    (c = strcmp(x->hf ? x->hf : "", y->hf ? y->hf : "")) != 0)
		return c;
	if (x->causes != y->causes)
		return x->causes < y->causes ? -1 : 1;
	if (x->messages != y->messages)
		return x->messages > y->messages ? -1 : 1;
	if (x->ip == y->ip)
		return 0;
	return strcmp(x->ip ? x->ip : "", y->ip ? y->ip : "");
}

static int
by_string(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The set's members in name order, joined with ','. */
static void
join(const struct set *set, char *out, size_t len)
{
	const char *s[SET_MAX];
	size_t used = 0, i;

	memcpy(s, set->s, set->n * sizeof(s[0]));
	qsort(s, set->n, sizeof(s[0]), by_string);
	out[0] = '\0';
	for (i = 0; i < set->n && used < len; i++)
		used += (size_t)snprintf(out + used, len - used, "%s%s",
		    i ? "," : "", s[i]);
	if (set->more && used < len)
		snprintf(out + used, len - used, ",...");
}

/*
 * A row's texts, and what they were made from.  Rows come sorted by
 * region, From domain and causes, so a row's texts are mostly the previous
 * row's: those are kept when the inputs are the same (pooled strings, so
 * the same pointers), instead of formatting a fix of several hundred bytes
 * for each of hundreds of thousands of rows.  Zero it before the first
 * use.
 */
struct texts {
	char mail_from[2048], dkim[2048], cause[160], fix[4096];
	int have_mail_from, have_dkim, have_cause, have_fix;
	struct set mail_from_of, dkim_of;
	unsigned cause_of;
	struct row fix_of; /* region, hf, causes, hint */
};

static int
same_set(const struct set *a, const struct set *b)
{
	size_t i;

	if (a->n != b->n || a->more != b->more)
		return 0;
	for (i = 0; i < a->n; i++)
		if (a->s[i] != b->s[i])
			return 0;
	return 1;
}

static int
same_fix(const struct row *a, const struct row *b)
{
	const struct diag_hint *x = &a->hint, *y = &b->hint;

	return a->causes == b->causes && a->hf == b->hf &&
	       strcmp(a->region, b->region) == 0 &&
	       x->policy_domain == y->policy_domain &&
	       x->mail_from == y->mail_from &&
	       x->spf_results == y->spf_results &&
	       x->dkim_domain == y->dkim_domain &&
	       x->dkim_selector == y->dkim_selector &&
	       x->strict_spf == y->strict_spf &&
	       x->strict_dkim == y->strict_dkim;
}

static void
row_texts(const struct row *r, struct texts *t)
{
	if (!t->have_mail_from || !same_set(&t->mail_from_of, &r->mail_from)) {
		join(&r->mail_from, t->mail_from, sizeof(t->mail_from));
		t->mail_from_of = r->mail_from;
		t->have_mail_from = 1;
	}
	if (!t->have_dkim || !same_set(&t->dkim_of, &r->dkim_domains)) {
		join(&r->dkim_domains, t->dkim, sizeof(t->dkim));
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
}

static int
print_flat(struct walk *w, struct err *e)
{
	struct cell c[NCOLS];
	struct output out;
	struct texts t;
	size_t i;

	memset(&t, 0, sizeof(t));
	if (output_begin(&out, w->ctx->format, w->ctx->out, cols, NCOLS) == -1)
		return err_set(e, "out of memory");
	for (i = 0; i < strmap_len(&w->rows); i++) {
		const struct row *r = strmap_at(&w->rows, i)->value;

		if (!r->flagged)
			continue;
		row_texts(r, &t);
		memset(c, 0, sizeof(c));
		c[0].s = r->region;
		c[1].s = r->ip;
		c[2].s = r->hf;
		c[3].i = (int64_t)r->messages;
		c[4].i = (int64_t)r->spf_aligned;
		c[5].i = (int64_t)r->dkim_aligned;
		c[6].s = t.mail_from;
		c[7].s = t.dkim;
		c[8].s = t.cause;
		c[9].s = t.fix;
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
same_block(const struct row *a, const struct row *b)
{
	return strcmp(a->region, b->region) == 0 && a->causes == b->causes &&
	       strcmp(a->hf ? a->hf : "", b->hf ? b->hf : "") == 0;
}

static int
print_blocks(struct walk *w, struct err *e)
{
	FILE *f = w->ctx->out;
	const struct row *first = NULL, *r;
	struct cell c[NBLOCK];
	struct output out;
	struct texts t;
	char head[600];
	unsigned spf_results = 0;
	uint64_t hidden_messages = 0;
	size_t i, blocks = 0, shown = 0, hidden = 0;

	memset(&t, 0, sizeof(t));
	for (i = 0; i <= strmap_len(&w->rows); i++) {
		r = i < strmap_len(&w->rows) ? strmap_at(&w->rows, i)->value
					     : NULL;
		if (r != NULL && !r->flagged)
			continue;
		if (first != NULL && (r == NULL || !same_block(first, r))) {
			struct row merged = *first;

			if (output_end(&out) == -1)
				return err_set(e, "cannot write the output");
			if (hidden > 0) {
				snprintf(head, sizeof(head),
				    "... and %zu more addresses with %llu "
				    "messages (--format csv lists every one).",
				    hidden, (unsigned long long)hidden_messages);
				output_text(f, 0, "", "", head, 100);
			}
			/* the fix of the block: the first row's details, with
			 * every SPF result the block saw */
			merged.hint.spf_results = spf_results;
			row_texts(&merged, &t);
			output_text(f, 0, "Fix: ", "     ", t.fix, 100);
			first = NULL;
		}
		if (r == NULL)
			break;
		row_texts(r, &t);
		if (first == NULL) {
			first = r;
			spf_results = 0;
			shown = hidden = 0;
			hidden_messages = 0;
			if (blocks++ > 0)
				fputc('\n', f);
			snprintf(head, sizeof(head), "%s  %s  %s", r->region,
			    r->hf ? r->hf : "(no From domain)",
			    t.cause[0] ? t.cause : "(no cause found)");
			output_text(f, 1, "", "    ", head, 100);
			if (output_begin(&out, &output_table, f, block_cols,
				NBLOCK) == -1)
				return err_set(e, "out of memory");
		}
		spf_results |= r->hint.spf_results;
		/* a block of a big address pool shows its busiest ones */
		if (shown++ >= BLOCK_ROWS_MAX) {
			hidden++;
			hidden_messages += r->messages;
			continue;
		}
		memset(c, 0, sizeof(c));
		c[0].s = r->ip ? r->ip : "(no address)";
		c[1].i = (int64_t)r->messages;
		c[2].i = (int64_t)r->spf_aligned;
		c[3].i = (int64_t)r->dkim_aligned;
		c[4].s = t.mail_from;
		c[5].s = t.dkim;
		if (output_row(&out, c) == -1) {
			output_end(&out);
			return err_set(e, "cannot write the output");
		}
	}
	if (fflush(f) == EOF || ferror(f))
		return err_set(e, "cannot write the output");
	return 0;
}

static int
ses_run(struct report_ctx *ctx, struct err *e)
{
	int table = ctx->format == &output_table;
	struct walk w;
	size_t i;
	int rc;

	if (tools_open(ctx, e) == -1)
		return -1;
	memset(&w, 0, sizeof(w));
	w.ctx = ctx;
	rc = store_each_group(ctx->st, &ctx->filter, add_group, &w, e);
	if (rc == -1)
		goto out;
	/* region-gap: this region fails DMARC for a From domain that
	 * passes both alignments through SES elsewhere */
	for (i = 0; i < strmap_len(&w.rows); i++) {
		struct row *r = strmap_at(&w.rows, i)->value;

		if (!r->flagged)
			continue;
		ctx->problems++;
		if (strcmp(r->region, REGION_UNKNOWN) != 0 &&
		    r->dmarc_pass < r->messages && r->hf != NULL &&
		    strmap_get(&w.healthy, r->hf) != NULL)
			r->causes |= CAUSE_REGION_GAP;
	}
	strmap_sort(&w.rows, row_order);
	if (w.groups == 0) {
		say_empty(ctx, "reports");
		rc = table ? 0 : print_flat(&w, e);
	} else if (ctx->problems == 0) {
		if (table && w.ses_messages == 0)
			fputs("No Amazon SES mail in the selected reports.\n",
			    ctx->out);
		else if (table)
			fprintf(ctx->out,
			    "No SES problems: all %llu messages sent through "
			    "Amazon SES pass SPF and DKIM alignment.\n",
			    (unsigned long long)w.ses_messages);
		rc = table ? 0 : print_flat(&w, e);
	} else {
		rc = table ? print_blocks(&w, e) : print_flat(&w, e);
	}
out:
	strmap_free(&w.rows, NULL);
	strmap_free(&w.healthy, NULL);
	strmap_free(&w.pool, NULL);
	return rc;
}

const struct command cmd_ses = {"ses",
    "Amazon SES sources failing alignment: cause and fix", ses_run};

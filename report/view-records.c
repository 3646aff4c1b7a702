/*
 * view-records.c - see view-records.h.
 */
#include "view-records.h"

#include <stdlib.h>
#include <string.h>

#include "diagnose.h"
#include "strmap.h"

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

struct walk {
	const struct classifier *cl;
	const struct align *al;
	int (*cb)(void *arg, const struct record_row *row, struct err *e);
	void *arg;
	struct strmap healthy; /* From domains with healthy SES mail */
	struct plist list[RL_COUNT];
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
	classify(w->cl, g->source_ip, g->envelope_from, g->spf, g->nspf,
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
		if (pl_add(&w->list[RL_ERRORS], p) == -1)
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

	for (i = 0; i < RL_COUNT; i++)
		w->list[i].n = 0;
	for (i = 0; i < r->ndkim; i++) {
		const struct dmarc_dkim *d = &r->dkim_results[i];

		rc |= pl_add(&w->list[RL_DKIM_DOMAINS], d->domain);
		rc |= pl_add(&w->list[RL_DKIM_SELECTORS], d->selector);
		rc |= pl_add(&w->list[RL_DKIM_RESULTS], d->result);
	}
	for (i = 0; i < r->nspf; i++) {
		const struct dmarc_spf *sp = &r->spf_results[i];

		rc |= pl_add(&w->list[RL_SPF_DOMAINS], sp->domain);
		rc |= pl_add(&w->list[RL_SPF_SCOPES], sp->scope);
		rc |= pl_add(&w->list[RL_SPF_RESULTS], sp->result);
	}
	for (i = 0; i < r->nreasons; i++) {
		rc |= pl_add(&w->list[RL_REASONS], r->reasons[i].type);
		rc |= pl_add(&w->list[RL_COMMENTS], r->reasons[i].comment);
	}
	if (m->errors != NULL && m->errors[0] != '\0')
		rc |= split_errors(w, m->errors);
	return rc;
}

/* Why failing SES mail fails (diagnose.h), into row->cause. */
static void
find_cause(const struct walk *w, const struct dmarc_meta *m,
           const struct dmarc_record *r, struct record_row *row)
{
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
	in.spf_fails = !row->spf_ok;
	in.dkim_fails = !row->dkim_ok;
	causes = diagnose(w->al, w->cl, &in, NULL);
	if (strcmp(row->snd.region, REGION_UNKNOWN) != 0 && !row->spf_ok &&
	    !row->dkim_ok && r->header_from != NULL &&
	    strmap_get(&w->healthy, r->header_from) != NULL)
		causes |= CAUSE_REGION_GAP;
	causes_format(causes, row->cause, sizeof(row->cause));
}

static int
one(void *arg, const struct dmarc_meta *m, const struct dmarc_record *r,
    struct err *e)
{
	struct walk *w = arg;
	struct record_row row;
	size_t i;

	memset(&row, 0, sizeof(row));
	row.m = m;
	row.r = r;
	row.spf_ok = r->spf != NULL && strcmp(r->spf, "pass") == 0;
	row.dkim_ok = r->dkim != NULL && strcmp(r->dkim, "pass") == 0;
	w->rows++;
	if (build_lists(w, m, r) != 0)
		return err_set(e, "out of memory");
	for (i = 0; i < RL_COUNT; i++) {
		row.list[i].v = w->list[i].v;
		row.list[i].n = w->list[i].n;
	}
	classify(w->cl, r->source_ip, r->envelope_from, r->spf_results, r->nspf,
	         r->dkim_results, r->ndkim, &row.snd);
	if (row.snd.ses && (!row.spf_ok || !row.dkim_ok))
		find_cause(w, m, r, &row);
	row.dns = source_names_get(classify_names(w->cl), r->source_ip);
	return w->cb(w->arg, &row, e);
}

int
records_collect(struct store *st, const struct store_filter *f,
                const struct classifier *cl, const struct align *al,
                int (*cb)(void *arg, const struct record_row *row,
                          struct err *e),
                void *arg, uint64_t *rows, struct err *e)
{
	struct walk w;
	size_t i;
	int rc;

	memset(&w, 0, sizeof(w));
	w.cl = cl;
	w.al = al;
	w.cb = cb;
	w.arg = arg;
	rc = store_each_group(st, f, find_healthy, &w, e);
	if (rc == 0)
		rc = store_each_record(st, f, one, &w, e);
	if (rows != NULL)
		*rows = w.rows;
	for (i = 0; i < RL_COUNT; i++)
		free(w.list[i].v);
	free(w.errors);
	strmap_free(&w.healthy, NULL);
	return rc;
}

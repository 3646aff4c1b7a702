/*
 * html-model.c - collecting what the HTML page shows (html-model.h).
 *
 * Four walks over the store, each bounded by the selection: the domains;
 * the reports (receivers, and which days are covered); the groups of
 * records once for the totals, which rank the sources; then the groups
 * again one day at a time for the charts.  Reading the rollup twice costs
 * less than keeping every source's daily figures: spoofing alone can
 * bring ten thousand sources, and only the biggest few are drawn.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "html-model.h"
#include "view-sources.h"

struct walk {
	struct report_ctx *ctx;
	struct html_model *m;
	int oom;       /* add_report() ran out of memory */
	int daily;     /* the per-day walk: fill series, not totals */
	size_t bucket; /* ... of this bucket */
};

static struct html_domain *
domain_of(const struct html_model *m, const char *name)
{
	return name != NULL ? strmap_get(&m->domains, name) : NULL;
}

static void
copy_word(char *out, size_t len, const char *s)
{
	snprintf(out, len, "%s", s != NULL ? s : "");
}

static int
add_domain(void *arg, const struct store_domain *sd, struct err *e)
{
	struct walk *w = arg;
	struct html_domain *d;
	const struct dmarc_meta *lm = sd->latest;

	d = strmap_upsert(&w->m->domains, lm->domain, sizeof(*d), NULL);
	if (d == NULL)
		return err_set(e, "out of memory");
	d->first = sd->first;
	d->last = sd->last;
	d->reports = sd->reports;
	copy_word(d->p, sizeof(d->p), lm->p);
	copy_word(d->sp, sizeof(d->sp), lm->sp);
	d->pct = lm->pct;
	return 0;
}

/* The last day a report ending at `end` covers (an end at midnight
 * belongs to the day before). */
static int64_t
end_day(int64_t end)
{
	return end > 0 && end % 86400 == 0 ? end / 86400 - 1 : end / 86400;
}

static int
cover_alloc(struct html_domain *d, struct err *e)
{
	int64_t from = d->first / 86400, to = end_day(d->last);

	if (to < from || to - from >= HTML_MAX_COVER)
		return 0;
	d->cover_start = from;
	d->ncover = (size_t)(to - from + 1);
	if ((d->cover = calloc(d->ncover, 1)) == NULL)
		return err_set(e, "out of memory");
	return 0;
}

static int
add_report(void *arg, const struct store_report_row *r)
{
	struct walk *w = arg;
	struct html_domain *d = domain_of(w->m, r->domain);
	struct html_receiver *rc;
	int64_t day;

	if (d == NULL)
		return 0;
	rc = strmap_upsert(&d->receivers, r->org_name, sizeof(*rc), NULL);
	if (rc == NULL) {
		w->oom = 1;
		return -1;
	}
	rc->reports++;
	if (rc->reports == 1 || r->end > rc->newest)
		rc->newest = r->end;
	for (day = r->begin / 86400; d->ncover > 0 && day <= end_day(r->end);
	     day++)
		if (day >= d->cover_start &&
		    day < d->cover_start + (int64_t)d->ncover)
			d->cover[day - d->cover_start] = 1;
	return 0;
}

/* The key of a source in m->sources: domain, label and region. */
static void
source_key(char *key, size_t len, const char *domain, const char *label,
           const char *region)
{
	const char *parts[3];

	parts[0] = domain;
	parts[1] = label;
	parts[2] = region;
	strmap_key(key, len, parts, 3);
}

/* The per-day walk: each group's traffic into its source's slot. */
static int
add_group(void *arg, const struct store_group *g, struct err *e)
{
	struct walk *w = arg;
	struct html_domain *d = domain_of(w->m, g->domain);
	struct html_source *s;
	struct source_id id;
	char key[512];
	uint64_t *cell;

	(void)e;
	if (d == NULL)
		return 0;
	source_identify(w->ctx->cl, g, &id);
	source_key(key, sizeof(key), g->domain, id.label, id.region);
	/* every group was counted by sources_collect() */
	if ((s = strmap_get(&w->m->sources, key)) == NULL)
		return 0;
	cell = d->series + (w->bucket * HTML_SLOTS + (size_t)s->slot) * 2;
	cell[0] += g->dmarc_pass;
	cell[1] += g->messages - g->dmarc_pass;
	return 0;
}

/* The totals, from the same view `sources` prints (rows by domain, most
 * messages first): each domain's sources in that order, the biggest
 * HTML_TOP with their own series. */
static int
add_sources(struct html_model *m, const struct sources_view *v, struct err *e)
{
	struct html_domain *d;
	struct html_source *s;
	char key[512];
	size_t i;

	for (i = 0; i < v->n; i++)
		if ((d = domain_of(m, v->rows[i].domain)) != NULL)
			d->nsrc++;
	for (i = 0; i < strmap_len(&m->domains); i++) {
		d = strmap_at(&m->domains, i)->value;
		/* an array of pointers: sizeof(*d->src) is one pointer */
		if (d->nsrc > 0 &&
		    /* NOLINTNEXTLINE(bugprone-sizeof-expression) */
		    (d->src = calloc(d->nsrc, sizeof(*d->src))) == NULL)
			return err_set(e, "out of memory");
		d->nsrc = 0;
	}
	for (i = 0; i < v->n; i++) {
		const struct source_row *r = &v->rows[i];

		if ((d = domain_of(m, r->domain)) == NULL)
			continue;
		source_key(key, sizeof(key), r->domain, r->name, r->region);
		if ((s = strmap_upsert(&m->sources, key, sizeof(*s), NULL)) ==
		    NULL)
			return err_set(e, "out of memory");
		s->domain = d;
		copy_word(s->name, sizeof(s->name), r->name);
		copy_word(s->region, sizeof(s->region), r->region);
		s->by_ip = r->by_ip;
		source_row_label(r, s->label, sizeof(s->label));
		s->messages = r->messages;
		s->dmarc_pass = r->dmarc_pass;
		s->spf_aligned = r->spf_aligned;
		s->dkim_aligned = r->dkim_aligned;
		s->slot = d->nsrc < HTML_TOP ? (int)d->nsrc : HTML_TOP;
		d->src[d->nsrc++] = s;
		d->messages += r->messages;
		d->dmarc_pass += r->dmarc_pass;
	}
	return 0;
}

/* Each domain's verdict, from the view `policy` prints. */
static int
add_verdicts(struct report_ctx *ctx, struct html_model *m, struct err *e)
{
	struct html_domain *d;
	size_t i;

	if (policy_collect(ctx->st, &ctx->filter, ctx->cl, ctx->tolerance,
	                   &m->policy, e) == -1)
		return -1;
	for (i = 0; i < m->policy.n; i++)
		if ((d = domain_of(m, m->policy.domains[i].pub.domain)) != NULL)
			d->policy = &m->policy.domains[i];
	return 0;
}

/* The days to draw: the domains' reports clipped to the selection, cut
 * into buckets; the more domains, the fewer buckets each, so that 500
 * domains make a page of a few megabytes, not tens. */
static void
plan_buckets(struct report_ctx *ctx, struct html_model *m)
{
	int64_t from = INT64_MAX, to = INT64_MIN, span;
	size_t i, nd = strmap_len(&m->domains), max = HTML_MAX_BUCKETS;

	for (i = 0; i < nd; i++) {
		const struct html_domain *d = strmap_at(&m->domains, i)->value;

		if (d->first / 86400 < from)
			from = d->first / 86400;
		if (end_day(d->last) > to)
			to = end_day(d->last);
	}
	if (ctx->filter.since > 0 && ctx->filter.since / 86400 > from)
		from = ctx->filter.since / 86400;
	if (ctx->filter.until > 0 && (ctx->filter.until - 1) / 86400 < to)
		to = (ctx->filter.until - 1) / 86400;
	if (to < from)
		to = from;
	if (nd > HTML_FULL_DOMAINS)
		max = 1200 / nd < 8 ? 8 : 1200 / nd > 60 ? 60 : 1200 / nd;
	span = to - from + 1;
	m->start = from;
	m->days = (unsigned)((span + (int64_t)max - 1) / (int64_t)max);
	m->nb = (size_t)((span + m->days - 1) / m->days);
}

/* The per-day walk: one selection a day, so every group lands in the
 * bucket of its day. */
static int
collect_daily(struct walk *w, struct err *e)
{
	struct html_model *m = w->m;
	struct store_filter f = w->ctx->filter;
	int64_t day, last = m->start + (int64_t)(m->nb * m->days) - 1;
	size_t i;

	for (i = 0; i < strmap_len(&m->domains); i++) {
		struct html_domain *d = strmap_at(&m->domains, i)->value;

		d->series = calloc(m->nb * HTML_SLOTS * 2, sizeof(uint64_t));
		if (d->series == NULL)
			return err_set(e, "out of memory");
	}
	for (day = m->start; day <= last; day++) {
		f.since = day * 86400;
		f.until = (day + 1) * 86400;
		if (w->ctx->filter.since > f.since ||
		    (w->ctx->filter.until > 0 &&
		     w->ctx->filter.until < f.until))
			continue;
		w->bucket = (size_t)((day - m->start) / m->days);
		if (store_each_group(w->ctx->st, &f, add_group, w, e) == -1)
			return -1;
	}
	return 0;
}

int
html_collect(struct report_ctx *ctx, struct html_model *m, struct err *e)
{
	struct sources_view sv;
	struct walk w;
	size_t i;
	int rc;

	memset(m, 0, sizeof(*m));
	m->generated = (int64_t)time(NULL);
	memset(&w, 0, sizeof(w));
	w.ctx = ctx;
	w.m = m;
	if (store_each_domain(ctx->st, &ctx->filter, add_domain, &w, e) == -1)
		return -1;
	/* the store gives the domains in name order, once each */
	for (i = 0; i < strmap_len(&m->domains); i++) {
		const struct strmap_entry *en = strmap_at(&m->domains, i);
		struct html_domain *d = en->value;

		d->name = en->key;
		if (cover_alloc(d, e) == -1)
			return -1;
	}
	if (strmap_len(&m->domains) == 0)
		return 0;
	if (store_each_report(ctx->st, &ctx->filter, add_report, &w, e) == -1)
		return w.oom ? err_set(e, "out of memory") : -1;
	if (sources_collect(ctx->st, &ctx->filter, ctx->cl, &sv, e) == -1)
		return -1;
	rc = add_sources(m, &sv, e);
	sources_view_free(&sv);
	if (rc == -1 || add_verdicts(ctx, m, e) == -1)
		return -1;
	plan_buckets(ctx, m);
	return collect_daily(&w, e);
}

static void
free_domain(void *v)
{
	struct html_domain *d = v;

	free(d->src);
	free(d->cover);
	free(d->series);
	strmap_free(&d->receivers, NULL);
}

void
html_model_free(struct html_model *m)
{
	strmap_free(&m->domains, free_domain);
	strmap_free(&m->sources, NULL);
	policy_view_free(&m->policy);
}

uint64_t
html_series(const struct html_model *m, const struct html_domain *d,
            size_t bucket, size_t slot, int fail)
{
	(void)m;
	return d->series[(bucket * HTML_SLOTS + slot) * 2 + (fail ? 1 : 0)];
}

/*
 * ses-collect.c - fills the SES model from the store.  See ses-model.h.
 *
 * One pass over the groups of records: each SES group adds to its row
 * (region, source IP, From domain) and, when it fails an alignment, its
 * causes and the details the fixes name.  Then, with every row seen, the
 * pass over the rows adds what needs all of them: region-gap, the custom
 * MAIL FROM domain that works for the same From domain, the severity.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ses-model.h"

/* A From domain with SES mail passing both alignments. */
struct ses_healthy {
	const char *mail_from;      /* pooled: its custom MAIL FROM */
	char mf_region[REGION_MAX]; /* where that MAIL FROM was seen */
	struct ses_set regions;     /* pooled region names */
};

struct collect {
	struct ses_model *m;
	const struct classifier *cl;
	const struct align *al;
};

/* The pooled copy of s (NULL stays NULL); -1 when out of memory. */
static int
pooled(struct ses_model *m, const char *s, const char **out)
{
	*out = NULL;
	if (s != NULL && (*out = strmap_intern(&m->pool, s)) == NULL)
		return -1;
	return 0;
}

static int
set_add(struct ses_model *m, struct ses_set *set, const char *s)
{
	const char *p;
	size_t i;

	for (i = 0; i < set->n; i++)
		if (strcmp(set->s[i], s) == 0)
			return 0;
	if (set->n == SES_SET_MAX) {
		set->more = 1;
		return 0;
	}
	if (pooled(m, s, &p) == -1)
		return -1;
	set->s[set->n++] = p;
	return 0;
}

/* Keeps the first of each detail the fixes name, pooled. */
static int
hint_merge(struct ses_model *m, struct diag_hint *h, const struct diag_hint *n)
{
	const char **dst[] = {&h->policy_domain, &h->mail_from, &h->dkim_domain,
	                      &h->strict_spf, &h->strict_dkim};
	const char *const src[] = {n->policy_domain, n->mail_from,
	                           n->dkim_domain, n->strict_spf,
	                           n->strict_dkim};
	size_t i;

	for (i = 0; i < sizeof(src) / sizeof(src[0]); i++)
		if (*dst[i] == NULL && pooled(m, src[i], dst[i]) == -1)
			return -1;
	if (h->dkim_domain != NULL && h->dkim_selector == NULL &&
	    n->dkim_domain != NULL &&
	    strcmp(n->dkim_domain, h->dkim_domain) == 0 &&
	    pooled(m, n->dkim_selector, &h->dkim_selector) == -1)
		return -1;
	if (h->product == NULL)
		h->product = n->product; /* static strings */
	h->spf_results |= n->spf_results;
	h->ses_dkim_fails |= n->ses_dkim_fails;
	return 0;
}

/* Remembers a From domain passing both alignments through SES, with its
 * region and custom MAIL FROM. */
static int
note_healthy(struct ses_model *m, const struct store_group *g,
             const struct sender *snd)
{
	struct ses_healthy *h;
	const char *mf = diag_mail_from(g->envelope_from, g->spf, g->nspf);
	char region[REGION_MAX];

	if ((h = strmap_upsert(&m->healthy, g->header_from, sizeof(*h),
	                       NULL)) == NULL ||
	    set_add(m, &h->regions, snd->region) == -1)
		return -1;
	if (h->mail_from == NULL && mf != NULL &&
	    !classify_ses_domain(mf, region, sizeof(region))) {
		if (pooled(m, mf, &h->mail_from) == -1)
			return -1;
		snprintf(h->mf_region, sizeof(h->mf_region), "%s", snd->region);
	}
	return 0;
}

static int
note_selector(struct ses_model *m, const struct sender *snd, uint64_t messages)
{
	struct ses_unknown_selector *u;
	int created;

	if ((u = strmap_upsert(&m->selectors, snd->unknown_selector, sizeof(*u),
	                       &created)) == NULL)
		return -1;
	if (created || strcmp(u->region, REGION_UNKNOWN) == 0)
		snprintf(u->region, sizeof(u->region), "%s", snd->region);
	u->messages += messages;
	return 0;
}

/* The row of a group, created with its key's fields when new. */
static struct ses_row *
row_of(struct ses_model *m, const struct store_group *g,
       const struct sender *snd)
{
	const char *parts[3];
	char key[600];
	struct ses_row *r;
	int created;

	parts[0] = snd->region;
	parts[1] = g->source_ip ? g->source_ip : "";
	parts[2] = g->header_from ? g->header_from : "";
	strmap_key(key, sizeof(key), parts, 3);
	if ((r = strmap_upsert(&m->rows, key, sizeof(*r), &created)) == NULL)
		return NULL;
	if (created) {
		snprintf(r->region, sizeof(r->region), "%s", snd->region);
		r->unknown = strcmp(r->region, REGION_UNKNOWN) == 0;
		if (pooled(m, g->source_ip, &r->ip) == -1 ||
		    pooled(m, g->header_from, &r->hf) == -1)
			return NULL;
	}
	if (snd->evidence > r->evidence)
		r->evidence = snd->evidence;
	if (r->region_note == NULL && snd->note[0] != '\0' &&
	    pooled(m, snd->note, &r->region_note) == -1)
		return NULL;
	if (r->unknown_selector == NULL &&
	    pooled(m, snd->unknown_selector, &r->unknown_selector) == -1)
		return NULL;
	return r;
}

/* The causes of a group that fails an alignment, into its row. */
static int
diagnose_group(struct collect *c, const struct store_group *g,
               struct ses_row *r)
{
	struct diag_input in;
	struct diag_hint hint;

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
	r->causes |= diagnose(c->al, c->cl, &in, &hint);
	return hint_merge(c->m, &r->hint, &hint);
}

static int
add_group(void *arg, const struct store_group *g, struct err *e)
{
	struct collect *c = arg;
	struct ses_model *m = c->m;
	struct classify_input ci = {g->source_ip, NULL,    g->envelope_from,
	                            g->spf,       g->nspf, g->dkim,
	                            g->ndkim};
	struct sender snd;
	struct ses_row *r;
	const char *mf;
	size_t i;

	m->groups++;
	classify_record(c->cl, &ci, &snd);
	if (snd.in_transit) {
		m->transit_groups++;
		m->transit_messages += g->messages;
		return 0;
	}
	if (!snd.ses)
		return 0;
	m->ses_messages += g->messages;
	if (snd.unknown_selector != NULL &&
	    note_selector(m, &snd, g->messages) == -1)
		return err_set(e, "out of memory");
	/* both aligned = |SPF| + |DKIM| - |either| */
	if (g->spf_aligned + g->dkim_aligned > g->dmarc_pass &&
	    g->header_from != NULL && note_healthy(m, g, &snd) == -1)
		return err_set(e, "out of memory");
	if ((r = row_of(m, g, &snd)) == NULL)
		return err_set(e, "out of memory");
	r->messages += g->messages;
	r->spf_aligned += g->spf_aligned;
	r->dkim_aligned += g->dkim_aligned;
	r->dmarc_pass += g->dmarc_pass;
	if ((mf = diag_mail_from(g->envelope_from, g->spf, g->nspf)) != NULL &&
	    set_add(m, &r->mail_from, mf) == -1)
		return err_set(e, "out of memory");
	for (i = 0; i < g->ndkim; i++)
		if (g->dkim[i].domain != NULL &&
		    set_add(m, &r->dkim_domains, g->dkim[i].domain) == -1)
			return err_set(e, "out of memory");
	if (g->spf_aligned >= g->messages && g->dkim_aligned >= g->messages)
		return 0;
	r->flagged = 1;
	if (diagnose_group(c, g, r) == -1)
		return err_set(e, "out of memory");
	return 0;
}

static int
set_has(const struct ses_set *set, const char *s)
{
	size_t i;

	for (i = 0; i < set->n; i++)
		if (strcmp(set->s[i], s) == 0)
			return 1;
	return 0;
}

/*
 * What needs every row: the severity; the custom MAIL FROM that works for
 * the From domain (the fixes name it: one MX serves every region); and
 * region-gap -- this known region fails DMARC for a From domain whose SES
 * mail passes both alignments in another region (or one the report does
 * not show), and in none passes in this one.  Healthy mail in the same
 * region points at an e-mail address identity or a MAIL FROM fallback
 * instead (hint.same_region_healthy).
 */
static void
finish_rows(struct ses_model *m)
{
	size_t i, k;

	for (i = 0; i < strmap_len(&m->rows); i++) {
		struct ses_row *r = strmap_at(&m->rows, i)->value;
		const struct ses_healthy *h;
		int elsewhere = 0;

		if (!r->flagged)
			continue;
		r->severity = r->dmarc_pass < r->messages ? SES_FAIL : SES_WARN;
		if (r->severity == SES_FAIL)
			m->fails++;
		else
			m->warns++;
		if (r->hf == NULL ||
		    (h = strmap_get(&m->healthy, r->hf)) == NULL)
			continue;
		r->hint.working_mail_from = h->mail_from;
		r->hint.working_region = h->mail_from ? h->mf_region : NULL;
		r->hint.same_region_healthy = set_has(&h->regions, r->region);
		for (k = 0; k < h->regions.n; k++)
			if (strcmp(h->regions.s[k], r->region) != 0)
				elsewhere = 1;
		if (!r->unknown && r->severity == SES_FAIL && elsewhere &&
		    !r->hint.same_region_healthy)
			r->causes |= CAUSE_REGION_GAP;
	}
}

/* Fail before warn; known regions by name, "unknown" last; then From
 * domain, causes, most messages, address. */
static int
row_order(const void *a, const void *b)
{
	const struct ses_row *x = ((const struct strmap_entry *)a)->value;
	const struct ses_row *y = ((const struct strmap_entry *)b)->value;
	int c;

	if (x->severity != y->severity)
		return x->severity > y->severity ? -1 : 1;
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

int
ses_collect(struct ses_model *m, struct store *st, const struct store_filter *f,
            const struct classifier *cl, const struct align *al, struct err *e)
{
	struct collect c = {m, cl, al};

	memset(m, 0, sizeof(*m));
	if (store_each_group(st, f, add_group, &c, e) == -1)
		return -1;
	finish_rows(m);
	if (ses_join_failures(m, st, f, cl, e) == -1)
		return -1;
	strmap_sort(&m->rows, row_order);
	return 0;
}

void
ses_model_free(struct ses_model *m)
{
	strmap_free(&m->rows, NULL);
	strmap_free(&m->healthy, NULL);
	strmap_free(&m->selectors, NULL);
	strmap_free(&m->pool, NULL);
}

const struct ses_row *
ses_row_at(const struct ses_model *m, size_t i)
{
	return strmap_at(&m->rows, i)->value;
}

const char *
ses_severity_name(enum ses_severity s)
{
	return s == SES_FAIL ? "fail" : s == SES_WARN ? "warn" : "";
}

static int
by_string(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

size_t
ses_set_items(const struct ses_set *set, const char **out)
{
	size_t n = set->n;

	memcpy(out, set->s, n * sizeof(out[0]));
	qsort(out, n, sizeof(out[0]), by_string);
	if (set->more)
		out[n++] = "...";
	return n;
}

void
ses_set_join(const struct ses_set *set, char *out, size_t len)
{
	const char *s[SES_SET_MAX + 1];
	size_t used = 0, i, n = ses_set_items(set, s);

	out[0] = '\0';
	for (i = 0; i < n && used < len; i++)
		used += (size_t)snprintf(out + used, len - used, "%s%s",
		                         i ? "," : "", s[i]);
}

void
ses_row_notes(const struct ses_row *r, char *out, size_t len)
{
	size_t used = 0;

	out[0] = '\0';
	if (r->region_note != NULL && used < len)
		used += (size_t)snprintf(out + used, len - used, "%s",
		                         r->region_note);
	if (r->unknown_selector != NULL && used < len)
		used += (size_t)snprintf(
		    out + used, len - used,
		    "%samazonses.com selector %s is in no table (add "
		    "ses-selector:%s,<region> to the sources file)",
		    used ? "; " : "", r->unknown_selector, r->unknown_selector);
	if (r->hint.product != NULL && used < len)
		snprintf(out + used, len - used, "%s%s (built on SES)",
		         used ? "; " : "", r->hint.product);
}

/*
 * view-sources.c - see view-sources.h.
 */
#include "view-sources.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "command.h"
#include "strmap.h"

/* A row while it is being summed: the set of addresses beside it. */
struct acc {
	struct source_row row;
	struct strmap ips; /* named sources and orgs: the set of addresses */
	int by_org;        /* unidentified, named by its name's org */
	const struct source_name *dns; /* of its (first) address */
};

struct walk {
	const struct classifier *cl;
	struct strmap *strings; /* the view's */
	struct strmap sources; /* domain US name US region -> struct acc */
	uint64_t groups;
};

static int
add_group(void *arg, const struct store_group *g, struct err *e)
{
	struct walk *w = arg;
	struct source_id id;
	struct acc *a;
	const char *parts[3];
	char key[512];
	int created;

	w->groups++;
	source_identify(w->cl, g, &id);
	parts[0] = g->domain != NULL ? g->domain : "";
	parts[1] = id.label;
	parts[2] = id.region;
	strmap_key(key, sizeof(key), parts, 3);
	if ((a = strmap_upsert(&w->sources, key, sizeof(*a), &created)) == NULL)
		return err_set(e, "out of memory");
	if (created) {
		a->row.domain = strmap_intern(w->strings, parts[0]);
		a->row.name = strmap_intern(w->strings, id.label);
		if (a->row.domain == NULL || a->row.name == NULL)
			return err_set(e, "out of memory");
		a->row.addr = a->row.dns_name = "";
		snprintf(a->row.region, sizeof(a->row.region), "%s", id.region);
		a->row.by_ip = id.snd.name == NULL && g->source_ip != NULL;
		a->by_org = id.by_org;
		a->dns = id.dns;
	}
	if ((!a->row.by_ip || a->by_org) && g->source_ip != NULL &&
	    strmap_upsert(&a->ips, g->source_ip, 1, NULL) == NULL)
		return err_set(e, "out of memory");
	if (id.snd.name != NULL &&
	    (a->row.via == SIGNAL_NONE || id.snd.via < a->row.via))
		a->row.via = id.snd.via;
	a->row.messages += g->messages;
	a->row.dmarc_pass += g->dmarc_pass;
	a->row.spf_aligned += g->spf_aligned;
	a->row.dkim_aligned += g->dkim_aligned;
	a->row.quarantined += g->quarantined;
	a->row.rejected += g->rejected;
	if (id.snd.ses && id.snd.evidence > a->row.evidence)
		a->row.evidence = id.snd.evidence;
	return 0;
}

static int
row_order(const void *a, const void *b)
{
	const struct source_row *x = a, *y = b;
	int c;

	if ((c = strcmp(x->domain, y->domain)) != 0)
		return c;
	return source_cmp(x->messages, source_row_source(x), x->region,
	    y->messages, source_row_source(y), y->region);
}

static void
free_acc(void *v)
{
	strmap_free(&((struct acc *)v)->ips, NULL);
}

/* An unidentified row's address and DNS name: one address shows its own
 * name; the addresses of one organisation its organisational domain.
 * Returns 0, or -1 when out of memory. */
static int
name_row(struct source_row *r, const struct acc *a, struct strmap *strings)
{
	if (r->ips > 1) {
		r->dns_name = r->name;
		r->name_state = NAME_CONFIRMED;
		return 0;
	}
	r->addr = a->by_org ? strmap_intern(strings, strmap_at(&a->ips, 0)->key)
	                    : r->name;
	if (r->addr == NULL)
		return -1;
	if (a->dns != NULL) {
		if ((r->dns_name = strmap_intern(strings, a->dns->name)) ==
		    NULL)
			return -1;
		r->name_state =
		    a->dns->confirmed ? NAME_CONFIRMED : NAME_UNCONFIRMED;
	}
	return 0;
}

/* Copies the sums out of the map into v->rows, in order. */
static int
flatten(struct walk *w, struct sources_view *v, struct err *e)
{
	size_t i, n = strmap_len(&w->sources);

	if (n > 0 && (v->rows = calloc(n, sizeof(*v->rows))) == NULL)
		return err_set(e, "out of memory");
	for (i = 0; i < n; i++) {
		struct acc *a = strmap_at(&w->sources, i)->value;

		v->rows[i] = a->row;
		v->rows[i].ips =
		    a->row.by_ip && !a->by_org ? 1 : strmap_len(&a->ips);
		if (a->row.by_ip && name_row(&v->rows[i], a, &v->strings) == -1)
			return err_set(e, "out of memory");
	}
	v->n = n;
	if (n > 0)
		qsort(v->rows, n, sizeof(*v->rows), row_order);
	for (i = 0; i < n; i++)
		if (i == 0 ||
		    strcmp(v->rows[i].domain, v->rows[i - 1].domain) != 0)
			v->ndomains++;
	return 0;
}

int
sources_collect(struct store *st, const struct store_filter *f,
                const struct classifier *cl, struct sources_view *v,
                struct err *e)
{
	struct walk w;
	int rc;

	memset(v, 0, sizeof(*v));
	memset(&w, 0, sizeof(w));
	w.cl = cl;
	w.strings = &v->strings;
	rc = store_each_group(st, f, add_group, &w, e);
	if (rc == 0)
		rc = flatten(&w, v, e);
	v->groups = w.groups;
	strmap_free(&w.sources, free_acc);
	if (rc == -1)
		sources_view_free(v);
	return rc;
}

void
sources_view_free(struct sources_view *v)
{
	free(v->rows);
	strmap_free(&v->strings, NULL);
	memset(v, 0, sizeof(*v));
}

const char *
source_row_source(const struct source_row *r)
{
	return r->addr[0] != '\0' ? r->addr : r->name;
}

void
source_row_label(const struct source_row *r, char *out, size_t len)
{
	source_names_label(out, len, source_row_source(r),
	    r->name_state != NAME_NONE ? r->dns_name : NULL,
	    r->name_state == NAME_CONFIRMED, r->by_ip ? r->ips : 1);
}

int
name_state_bool(enum name_state s)
{
	return s == NAME_NONE ? -1 : s == NAME_CONFIRMED;
}

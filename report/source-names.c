/*
 * source-names.c - see source-names.h.
 */
#include "source-names.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "align.h"
#include "dns.h"
#include "store.h"
#include "strmap.h"

struct source_names {
	struct strmap by_ip; /* ip -> struct source_name; strings interned */
};

static const char *
intern_cut(struct strmap *m, const char *s)
{
	char cut[SOURCE_NAME_MAX];

	snprintf(cut, sizeof(cut), "%s", s);
	return strmap_intern(m, cut);
}

int
source_names_add(struct source_names **np, const struct align *al,
                 const char *ip, const char *name, int confirmed)
{
	char host[DNS_NAME_MAX], org[ALIGN_NAME_MAX];
	struct source_name *v;

	if (*np == NULL && (*np = calloc(1, sizeof(**np))) == NULL)
		return -1;
	if ((v = strmap_upsert(&(*np)->by_ip, ip, sizeof(*v), NULL)) == NULL ||
	    (v->name = intern_cut(&(*np)->by_ip, name)) == NULL)
		return -1;
	/* what dns/ would not have stored is not trusted, whatever the
	 * store's flag says */
	v->confirmed = confirmed &&
	               dns_name_check(name, host, sizeof(host), 0) == 0 &&
	               strcmp(host, name) == 0;
	v->org = NULL;
	if (v->confirmed && al != NULL &&
	    align_org_domain(al, name, org, sizeof(org)) == 0 &&
	    (v->org = strmap_intern(&(*np)->by_ip, org)) == NULL)
		return -1;
	return 0;
}

struct load {
	struct source_names *n;
	const struct align *al;
};

static int
keep(void *arg, const struct store_name *sn, struct err *e)
{
	struct load *l = arg;

	if (sn->ip == NULL || sn->name == NULL)
		return 0; /* NXDOMAIN, timeout...: nothing to show */
	if (source_names_add(&l->n, l->al, sn->ip, sn->name, sn->confirmed) ==
	    -1)
		return err_set(e, "out of memory");
	return 0;
}

int
source_names_load(struct store *st, const struct align *al,
                  struct source_names **out, struct err *e)
{
	struct load l = {NULL, al};

	if (store_each_name(st, keep, &l, e) == -1) {
		source_names_free(l.n);
		return -1;
	}
	*out = l.n;
	return 0;
}

void
source_names_free(struct source_names *n)
{
	if (n == NULL)
		return;
	strmap_free(&n->by_ip, NULL);
	free(n);
}

const struct source_name *
source_names_get(const struct source_names *n, const char *ip)
{
	if (n == NULL || ip == NULL)
		return NULL;
	return strmap_get(&n->by_ip, ip);
}

const char *
source_names_confirmed(const struct source_names *n, const char *ip)
{
	const struct source_name *v = source_names_get(n, ip);

	return v != NULL && v->confirmed ? v->name : NULL;
}

void
source_names_label(char *out, size_t len, const char *base, const char *name,
                   int confirmed, uint64_t ips)
{
	if (ips > 1)
		snprintf(out, len, "%s (%llu addresses)", base,
		         (unsigned long long)ips);
	else if (name != NULL)
		snprintf(out, len, "%s (%s%s)", base, name,
		         confirmed ? "" : ", unconfirmed");
	else
		snprintf(out, len, "%s", base);
}

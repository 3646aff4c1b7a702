/*
 * selection.c - see selection.h.  Messages quote the option as given,
 * through inert_copy(): it may hold any byte.
 */
#include "ascii.h"
#include "selection.h"

#include <string.h>
#include <time.h>

#include "inert.h"

/* 2000-01-01T00:00:00Z: DMARC dates from 2012, so anything earlier is a
 * typo for a recent date (or a millisecond value), not a selection. */
#define DATE_MIN 946684800

int
selection_date(const char *option, const char *text, int64_t t, int64_t now,
    FILE *note, struct err *e)
{
	char shown[128];

	inert_copy(shown, sizeof(shown), text, strlen(text));
	if (t < DATE_MIN)
		return err_set(e,
		    "%s %s: before 2000, older than any DMARC report; give "
		    "a date as YYYY-MM-DD, or leave %s out to select from the "
		    "first report",
		    option, shown, option);
	if (t >= (now / 86400 + 2) * 86400)
		fprintf(note,
		    "dmarc-report: note: %s %s is after tomorrow: %s\n", option,
		    shown,
		    strcmp(option, "--since") == 0
			? "no report can match"
			: "the same as no --until");
	return 0;
}

/* Lower-cases d, drops one trailing dot (saying so); refuses what cannot
 * be a domain. */
static int
check_domain(char *d, FILE *note, struct err *e)
{
	char shown[300];
	size_t n = strlen(d), i;

	inert_copy(shown, sizeof(shown), d, n);
	if (n == 0)
		return err_set(e, "--domain: an empty domain; give the policy "
				  "domain, as in --domain example.com");
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)d[i];

		if (c <= ' ' || c == 0x7f)
			return err_set(e, "--domain '%s': a domain has no "
					  "white space or control characters",
			    shown);
		d[i] = (char)ascii_lower(c);
	}
	if (d[n - 1] == '.') {
		if (n == 1 || d[n - 2] == '.')
			return err_set(e, "--domain '%s' is not a domain",
			    shown);
		d[n - 1] = '\0';
		fprintf(note,
		    "dmarc-report: note: --domain %s: using %s (stored domains "
		    "have no trailing dot)\n",
		    shown, d);
	}
	return 0;
}

int
selection_check(const struct store_filter *f, char **domains, FILE *note,
    struct err *e)
{
	char a[16], b[16];
	time_t t;
	size_t i;

	/* until is the end of its day: since after until means an empty
	 * range, which is never what was meant */
	if (f->since != 0 && f->until != 0 && f->since >= f->until) {
		t = (time_t)f->since;
		strftime(a, sizeof(a), "%Y-%m-%d", gmtime(&t));
		t = (time_t)(f->until - 86400);
		strftime(b, sizeof(b), "%Y-%m-%d", gmtime(&t));
		return err_set(e, "--since %s is after --until %s: nothing "
				  "can match (swap them?)",
		    a, b);
	}
	for (i = 0; domains != NULL && domains[i] != NULL; i++)
		if (check_domain(domains[i], note, e) == -1)
			return -1;
	return 0;
}

/* The stored domains, joined with ", " into a bounded text. */
struct known {
	char list[512];
	size_t used, count;
	int cut; /* the list ends with "..." */
	const char *const *wanted;
	unsigned char found[64];
};

static int
one_domain(void *arg, const struct store_domain *d, struct err *e)
{
	struct known *k = arg;
	const char *name = d->latest->domain ? d->latest->domain : "";
	char shown[300];
	size_t i, n;

	(void)e;
	for (i = 0; i < sizeof(k->found) && k->wanted[i] != NULL; i++)
		if (strcmp(k->wanted[i], name) == 0)
			k->found[i] = 1;
	n = inert_copy(shown, sizeof(shown), name, strlen(name));
	if (!k->cut && k->used + n + 8 < sizeof(k->list)) {
		k->used += (size_t)snprintf(k->list + k->used,
		    sizeof(k->list) - k->used, "%s%s", k->count ? ", " : "",
		    shown);
	} else if (!k->cut) {
		snprintf(k->list + k->used, sizeof(k->list) - k->used, ", ...");
		k->cut = 1;
	}
	k->count++;
	return 0;
}

int
selection_known_domains(struct store *st, const char *const *domains,
    struct err *e)
{
	struct store_filter all;
	struct known k;
	char shown[300];
	size_t i;

	memset(&all, 0, sizeof(all));
	memset(&k, 0, sizeof(k));
	k.wanted = domains;
	if (store_each_domain(st, &all, one_domain, &k, e) == -1)
		return -1;
	if (k.count == 0)
		return 0;
	for (i = 0; i < sizeof(k.found) && domains[i] != NULL; i++)
		if (!k.found[i]) {
			inert_copy(shown, sizeof(shown), domains[i],
			    strlen(domains[i]));
			return err_set(e,
			    "--domain %s: no stored report is for it; the "
			    "database has %s: %s",
			    shown, k.count == 1 ? "this domain" : "these domains",
			    k.list);
		}
	return 0;
}

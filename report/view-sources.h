/*
 * view-sources.h - the data behind `dmarc-report sources`: one row per
 * policy domain and sending source, collected from the store and
 * classified, with nothing about how it is printed.  cmd-sources.c renders
 * it as a table, CSV or JSON; an HTML view can render the same model.
 *
 * A source is a known sender from the senders table (Amazon SES split by
 * region), or, for mail that matches nothing, its IP address -- or, when
 * the address has a confirmed name (source-names.h), the organisational
 * domain of that name, one source for all the organisation's addresses.  The store
 * sums the records by everything that decides the source (one pass, in
 * SQL); the groups, far fewer than the records, are classified here.
 *
 * Promises: rows are ordered by policy domain (name order), then most
 * messages first, then name and region; the model owns all its memory
 * (sources_view_free) and holds no pointer into the store.
 */
#ifndef DMARCSIFT_VIEW_SOURCES_H
#define DMARCSIFT_VIEW_SOURCES_H

#include <stddef.h>
#include <stdint.h>

#include "classify.h"
#include "err.h"
#include "source-names.h"
#include "store.h"
#include "strmap.h"

/* What a source's name is from DNS (source-names.h). */
enum name_state {
	NAME_NONE,        /* no name, or several addresses */
	NAME_UNCONFIRMED, /* shown, never used */
	NAME_CONFIRMED,
};

/* The strings are the view's (never NULL): a row is small, as a view
 * over ten million records holds some 65,000 of them. */
struct source_row {
	const char *domain; /* the reports' policy domain ("" when absent) */
	const char *name;   /* the sender's name, the address, or the org */
	char region[REGION_MAX]; /* SES only, else "" */
	int by_ip;    /* unidentified: named by its address or its org */
	const char *addr;     /* unidentified with one address: it; else "" */
	const char *dns_name; /* unidentified: the name, or the org */
	enum name_state name_state;
	enum signal via; /* known: the strongest signal of its groups */
	uint64_t ips;    /* distinct addresses */
	uint64_t messages, dmarc_pass, spf_aligned, dkim_aligned;
	uint64_t quarantined, rejected;
	enum region_evidence evidence; /* SES: the strongest of its groups */
};

struct sources_view {
	struct source_row *rows;
	size_t n;
	size_t ndomains; /* distinct policy domains among the rows */
	uint64_t groups; /* groups of records read: 0 = empty selection */
	struct strmap strings; /* what the rows' strings point to */
};

/* Reads the selected records from st and fills v (zeroed first). */
int sources_collect(struct store *st, const struct store_filter *f,
                    const struct classifier *cl, struct sources_view *v,
                    struct err *e);

void sources_view_free(struct sources_view *v);

/* What the CSV's source column holds: the one address of an unidentified
 * source, else its name. */
const char *source_row_source(const struct source_row *r);

/* What a table shows: source_row_source() with the DNS name beside it
 * (source_names_label()). */
void source_row_label(const struct source_row *r, char *out, size_t len);

/* "confirmed" state as the CSV's source_name_confirmed: 1, 0, or -1 for
 * no name (null). */
int name_state_bool(enum name_state s);

#endif

/*
 * html-model.h - what `dmarc-report html` shows, collected from the store
 * before anything is drawn: per policy domain, its sources with their
 * totals, the daily traffic of its biggest sources, its receivers and the
 * days its reports cover.
 *
 * Owns the collection; the page (cmd-html.c) only reads the model.
 *
 * Promises:
 *  - The totals and the verdicts are `dmarc-report sources`' and
 *    `policy`'s own views (view-sources.h, view-policy.h): a source's
 *    messages and DMARC passes, a domain's verdict and its reason, are
 *    what those commands print, to the message.  The daily figures are the same
 * traffic read a day at a time (the store's rollup is daily), so they add up to
 * the totals.
 *  - Time is cut into at most HTML_MAX_BUCKETS buckets of whole days (fewer
 *    when the page has many domains, to keep it small); memory is bounded
 *    by domains x buckets x (HTML_TOP + 1), whatever the number of records.
 */
#ifndef DMARCSIFT_HTML_MODEL_H
#define DMARCSIFT_HTML_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "classify.h"
#include "command.h"
#include "source-names.h"
#include "strmap.h"
#include "view-policy.h"

#define HTML_TOP         5 /* sources drawn on their own; the rest are one series */
#define HTML_SLOTS       (HTML_TOP + 1)
#define HTML_MAX_BUCKETS 120
#define HTML_MAX_COVER   4000 /* days of report coverage checked for gaps */
/* With more domains than this, each gets the DMARC result chart and its
 * biggest sources only (select fewer with --domain for the rest), and
 * fewer buckets: 500 domains over three years stay under 5 MB. */
#define HTML_FULL_DOMAINS 20

struct html_domain;

struct html_source {
	struct html_domain *domain;
	char name[256];
	char region[REGION_MAX];
	int by_ip; /* unidentified: named by its address */
	/* unidentified: the address (or organisation) with its DNS name, as
	 * `sources` shows it (source_row_label()) */
	char label[SOURCE_LABEL_MAX];
	int slot;  /* 0..HTML_TOP-1, or HTML_TOP: drawn with the rest */
	uint64_t messages, dmarc_pass, spf_aligned, dkim_aligned;
};

struct html_receiver {
	uint64_t reports;
	int64_t newest; /* latest end of its reports */
};

struct html_domain {
	const char *name;
	int64_t first, last; /* earliest begin, latest end */
	uint64_t reports;
	char p[16], sp[16]; /* published policy of the latest report */
	int pct;            /* -1 when not published */
	uint64_t messages, dmarc_pass;
	struct html_source **src; /* most messages first */
	size_t nsrc;
	struct strmap receivers; /* org_name -> struct html_receiver */
	int64_t cover_start;     /* first day of cover[] */
	size_t ncover;           /* 0: range too long to check */
	unsigned char *cover;    /* 1: some report covers the day */
	uint64_t *series;        /* [bucket][slot][0 pass, 1 fail] */
	const struct policy_domain *policy; /* its verdict, or NULL */
};

struct html_model {
	struct strmap domains;     /* name -> struct html_domain, name order */
	struct strmap sources;     /* domain US name US region -> html_source */
	int64_t start;             /* first bucket's day */
	unsigned days;             /* days per bucket */
	size_t nb;                 /* buckets */
	int64_t generated;         /* when the page was made */
	struct policy_view policy; /* the verdicts `policy` prints */
};

/* Collects everything for ctx's selection (ctx->cl must be open).
 * Returns 0 or -1 (e filled); an empty selection gives an empty model. */
int html_collect(struct report_ctx *ctx, struct html_model *m, struct err *e);
void html_model_free(struct html_model *m);

/* The domain's series value of a slot in a bucket: pass (0) or fail (1). */
uint64_t html_series(const struct html_model *m, const struct html_domain *d,
                     size_t bucket, size_t slot, int fail);

#endif

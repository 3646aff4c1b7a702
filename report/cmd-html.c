/*
 * cmd-html.c - `dmarc-report html`: one self-contained page with charts,
 * for a person to look at (or for the cron job to write next to the
 * database, or to mail).
 *
 * The page is drawn from html-model.h's collection, built from the same
 * groups of records as `sources`; it holds no script and fetches nothing
 * (html.h).  Per domain: what was published, the totals, the daily
 * messages by source and by DMARC result, the pass rate of the biggest
 * sources over time, the sources and the unidentified ones, and who
 * reported and how fresh that is.  With several domains an overview
 * comes first.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "html-model.h"
#include "freshness.h"
#include "html-findings.h"
#include "html.h"
#include "percent.h"
#include "ses-model.h"
#include "svg.h"

#ifndef DMARCSIFT_VERSION
#define DMARCSIFT_VERSION "0"
#endif

/* Table rows per domain: all of them for one domain, fewer for many (the
 * CSV of `sources` has every one). */
#define ROWS_ONE         40
#define ROWS_SOME        10
#define ROWS_MANY        5
#define UNIDENTIFIED_MAX 20
#define GAPS_SHOWN       5

static const char *const slot_class[HTML_SLOTS] = {"c0", "c1", "c2",
                                                   "c3", "c4", "c7"};
static const char *const line_class[HTML_SLOTS] = {"l0", "l1", "l2",
                                                   "l3", "l4", "l7"};

/* The share as `sources` prints it (percent.h: never 100.0% when some
 * failed, nor 0.0% when some passed); "-" for nothing. */
static void
pct(FILE *f, uint64_t part, uint64_t whole)
{
	char s[16];

	fputs(whole == 0 ? "-" : percent_format(part, whole, s, sizeof(s)), f);
}

static void
date(FILE *f, int64_t t)
{
	char s[32];

	format_time(t, s, sizeof(s));
	s[10] = '\0'; /* the day */
	fputs(s, f);
}

static void
header(FILE *f, struct report_ctx *ctx, const struct html_model *m)
{
	char when[32];
	size_t i;

	format_time(m->generated, when, sizeof(when));
	fputs("<header>\n<h1>DMARC aggregate reports</h1>\n<p class=\"meta\">",
	      f);
	if (strmap_len(&m->domains) == 1)
		html_text(f,
		          ((const struct html_domain *)strmap_at(&m->domains, 0)
		               ->value)
		              ->name);
	else
		fprintf(f, "%zu domains", strmap_len(&m->domains));
	if (ctx->filter.since > 0) {
		fputs(", from ", f);
		date(f, ctx->filter.since);
	}
	if (ctx->filter.until > 0) {
		fputs(", before ", f);
		date(f, ctx->filter.until);
	}
	fprintf(f, ". Made %s UTC by dmarcsift %s", when, DMARCSIFT_VERSION);
	if (m->nb > 0 && m->days > 1)
		fprintf(f, "; the charts sum %u days a bar", m->days);
	fputs(".</p>\n</header>\n", f);
	for (i = 0; ctx->filter.domains != NULL && ctx->filter.domains[i]; i++)
		if (strmap_get(&m->domains, ctx->filter.domains[i]) == NULL) {
			fputs("<p class=\"mute\">No reports for ", f);
			html_text(f, ctx->filter.domains[i]);
			fputs(".</p>\n", f);
		}
}

/* The bucket totals of a domain, for its sparkline. */
static void
overview(FILE *f, const struct html_model *m)
{
	uint64_t *v;
	size_t i, b, s;

	if ((v = calloc(m->nb ? m->nb : 1, sizeof(*v))) == NULL)
		return;
	fputs("<section>\n<h2>Overview</h2>\n<table><thead><tr><th>Domain</th>"
	      "<th class=\"n\">Messages</th><th class=\"n\">DMARC pass</th>"
	      "<th>Policy</th><th>Verdict</th><th>Messages over "
	      "time</th></tr></thead><tbody>\n",
	      f);
	for (i = 0; i < strmap_len(&m->domains); i++) {
		const struct html_domain *d = strmap_at(&m->domains, i)->value;

		for (b = 0; b < m->nb; b++) {
			v[b] = 0;
			for (s = 0; s < HTML_SLOTS; s++)
				v[b] += html_series(m, d, b, s, 0) +
				        html_series(m, d, b, s, 1);
		}
		fprintf(f, "<tr data-domain=\"");
		html_text(f, d->name);
		fprintf(f, "\"><td><a href=\"#d%zu\">", i + 1);
		html_text(f, d->name);
		fprintf(f,
		        "</a></td><td class=\"n\" data-messages=\"%" PRIu64
		        "\">%" PRIu64 "</td><td class=\"n\">",
		        d->messages, d->messages);
		pct(f, d->dmarc_pass, d->messages);
		fputs("</td><td>p=", f);
		html_text(f, d->p[0] ? d->p : "?");
		fprintf(f,
		        "</td><td class=\"v-%s\">%s</td><td class=\"spark\">",
		        d->policy ? verdict_name(d->policy->verdict) : "none",
		        d->policy ? verdict_name(d->policy->verdict) : "-");
		svg_spark(f, v, m->nb,
		          m->days == 1 ? "messages per day"
		                       : "messages per period");
		fputs("</td></tr>\n", f);
	}
	fputs("</tbody></table>\n</section>\n", f);
	free(v);
}

static int
charts(FILE *f, const struct html_model *m, const struct html_domain *d,
       size_t idx, int full)
{
	const char *labels[HTML_SLOTS], *rl[2] = {"DMARC pass", "DMARC fail"};
	const char *rc[2] = {"pass", "fail"};
	uint64_t *stack, *result;
	int *rate;
	size_t ns = d->nsrc < HTML_TOP ? d->nsrc : HTML_TOP, b, s, k;
	char id[32], title[96], unit[32], names[HTML_TOP][300];
	struct svg_chart c;
	int rc_ = -1;

	if (d->nsrc > HTML_TOP)
		ns++; /* "other sources" */
	stack = calloc(m->nb * HTML_SLOTS, sizeof(*stack));
	result = calloc(m->nb * 2, sizeof(*result));
	rate = calloc(m->nb * HTML_SLOTS, sizeof(*rate));
	if (ns == 0 || stack == NULL || result == NULL || rate == NULL)
		goto out;
	for (s = 0; s < ns; s++) {
		if (s == HTML_TOP)
			labels[s] = "other sources";
		else if (d->src[s]->region[0] != '\0') {
			snprintf(names[s], sizeof(names[s]), "%s (%s)",
			         d->src[s]->name, d->src[s]->region);
			labels[s] = names[s];
		} else
			labels[s] = d->src[s]->name;
	}
	for (b = 0; b < m->nb; b++)
		for (s = 0; s < ns; s++) {
			uint64_t p, x;

			k = s < HTML_TOP ? s : HTML_TOP;
			p = html_series(m, d, b, k, 0);
			x = html_series(m, d, b, k, 1);
			stack[b * ns + s] = p + x;
			result[b * 2] += p;
			result[b * 2 + 1] += x;
			rate[b * ns + s] =
			    p + x ? (int)percent_permille(p, p + x) : -1;
		}
	snprintf(unit, sizeof(unit), m->days == 1 ? "day" : "%u days", m->days);
	memset(&c, 0, sizeof(c));
	c.id = id;
	c.title = title;
	c.start = m->start;
	c.days = m->days;
	c.nb = m->nb;
	c.ns = ns;
	c.labels = labels;
	c.classes = slot_class;
	c.table = full;
	snprintf(id, sizeof(id), "d%zu-src", idx);
	snprintf(title, sizeof(title), "Messages per %s by source", unit);
	c.desc = "Stacked bars: the messages each of the biggest sending "
	         "sources sent, per period; the table below has the numbers.";
	if (full && svg_stacked(f, &c, stack) == -1)
		goto out;
	snprintf(id, sizeof(id), "d%zu-res", idx);
	snprintf(title, sizeof(title), "DMARC result per %s", unit);
	c.desc = "Stacked bars: messages that passed DMARC and messages that "
	         "failed it, per period.";
	c.ns = 2;
	c.labels = rl;
	c.classes = rc;
	if (svg_stacked(f, &c, result) == -1)
		goto out;
	if (!full) {
		rc_ = 0;
		goto out;
	}
	snprintf(id, sizeof(id), "d%zu-rate", idx);
	snprintf(title, sizeof(title), "DMARC pass rate per %s by source",
	         unit);
	c.desc =
	    "Lines: the share of each source's messages that passed "
	    "DMARC, per period; a line breaks where a source sent nothing.";
	c.ns = ns;
	c.labels = labels;
	c.classes = line_class;
	svg_lines(f, &c, rate);
	rc_ = 0;
out:
	free(stack);
	free(result);
	free(rate);
	return rc_ == 0 || ns == 0 ? 0 : -1;
}

static void
source_row(FILE *f, const struct html_source *s)
{
	fputs("<tr data-source=\"", f);
	html_text(f, s->name);
	fputs("\" data-region=\"", f);
	html_text(f, s->region);
	fprintf(f,
	        "\" data-messages=\"%" PRIu64 "\" data-dmarc-pass=\"%" PRIu64
	        "\"><td>",
	        s->messages, s->dmarc_pass);
	html_text(f, s->name);
	fputs("</td><td>", f);
	html_text(f, s->region);
	fprintf(f, "</td><td class=\"n\">%" PRIu64 "</td><td class=\"n\">",
	        s->messages);
	pct(f, s->dmarc_pass, s->messages);
	fputs("</td><td class=\"n\">", f);
	pct(f, s->spf_aligned, s->messages);
	fputs("</td><td class=\"n\">", f);
	pct(f, s->dkim_aligned, s->messages);
	fputs("</td></tr>\n", f);
}

static void
sources_table(FILE *f, const struct html_domain *d, size_t rows)
{
	uint64_t rest = 0, restn = 0, unid = 0, unid_fail = 0;
	size_t i, shown = 0;

	fputs("<h3>Sources</h3>\n<table class=\"sources\"><thead><tr>"
	      "<th>Source</th><th>Region</th><th class=\"n\">Messages</th>"
	      "<th class=\"n\">DMARC pass</th><th class=\"n\">SPF aligned</th>"
	      "<th class=\"n\">DKIM aligned</th></tr></thead><tbody>\n",
	      f);
	for (i = 0; i < d->nsrc; i++) {
		if (shown < rows) {
			source_row(f, d->src[i]);
			shown++;
		} else {
			rest += d->src[i]->messages;
			restn++;
		}
	}
	fputs("</tbody></table>\n", f);
	if (restn > 0)
		fprintf(f,
		        "<p class=\"mute\">... and %" PRIu64
		        " more %s with %" PRIu64
		        " message%s (<code>dmarc-report sources --format "
		        "csv</code> lists "
		        "every one).</p>\n",
		        restn, restn == 1 ? "source" : "sources", rest,
		        plural(rest));
	for (i = 0; i < d->nsrc; i++)
		if (d->src[i]->by_ip) {
			unid += d->src[i]->messages;
			unid_fail +=
			    d->src[i]->messages - d->src[i]->dmarc_pass;
		}
	if (unid == 0)
		return;
	fprintf(
	    f,
	    "<h3>Unidentified sources</h3>\n<p>Addresses in no sender table "
	    "sent %" PRIu64 " message%s, %" PRIu64
	    " of them failing DMARC. If one of them is yours (a relay, a "
	    "server, a service), add it to the sources file; the rest is "
	    "what enforcement is for.</p>\n<table class=\"unidentified\">"
	    "<thead><tr><th>Address</th><th class=\"n\">Messages</th>"
	    "<th class=\"n\">DMARC fail</th></tr></thead><tbody>\n",
	    unid, plural(unid), unid_fail);
	for (i = 0, shown = 0; i < d->nsrc && shown < UNIDENTIFIED_MAX; i++) {
		const struct html_source *s = d->src[i];

		if (!s->by_ip)
			continue;
		shown++;
		fputs("<tr><td>", f);
		html_text(f, s->label); /* with its DNS name, if any */
		fprintf(f,
		        "</td><td class=\"n\">%" PRIu64
		        "</td><td class=\"n\">%" PRIu64 "</td></tr>\n",
		        s->messages, s->messages - s->dmarc_pass);
	}
	fputs("</tbody></table>\n", f);
}

/* The rows `ses --domain D` prints, fail first, with the cause and the
 * fix in its words: collected for the one domain, as that command does
 * (its rows are keyed by region, address and From domain, not by policy
 * domain). */
static int
ses_findings(FILE *f, struct report_ctx *ctx, const struct html_domain *d,
    struct err *e)
{
	const char *one[2] = {d->name, NULL};
	struct store_filter fl = ctx->filter;
	char cause[256], fix[2048], evidence[1024];
	struct ses_model sm = {0};
	size_t i, n = 0;

	fl.domains = one;
	if (ses_collect(&sm, ctx->st, &fl, ctx->cl, ctx->al, e) == -1) {
		ses_model_free(&sm);
		return -1;
	}
	for (i = 0; i < strmap_len(&sm.rows); i++) {
		const struct ses_row *r = ses_row_at(&sm, i);

		if (!r->flagged)
			continue;
		if (n++ == 0)
			fputs("<h3>Amazon SES findings</h3>\n<table class=\"ses\">"
			      "<thead><tr><th>Severity</th><th>Region</th>"
			      "<th>Source</th><th>From</th><th class=\"n\">"
			      "Messages</th><th>Cause</th><th>Fix</th>"
			      "<th>Failure reports</th></tr></thead><tbody>\n",
			    f);
		causes_format(r->causes, cause, sizeof(cause));
		fix_format(r->causes, r->region, r->hf, &r->hint, fix,
		    sizeof(fix));
		fprintf(f, "<tr data-severity=\"%s\" data-messages=\"%" PRIu64
		    "\" data-region=\"", ses_severity_name(r->severity),
		    r->messages);
		html_text(f, r->region);
		fputs("\" data-ip=\"", f);
		html_text(f, r->ip);
		fprintf(f, "\"><td class=\"sev-%s\">%s</td><td>",
		    ses_severity_name(r->severity),
		    ses_severity_name(r->severity));
		html_text(f, r->region);
		fprintf(f, " <span class=\"mute\">(%s)</span></td><td>",
		    region_evidence_name(r->evidence));
		html_text(f, r->ip);
		fputs("</td><td>", f);
		html_text(f, r->hf);
		fprintf(f, "</td><td class=\"n\">%" PRIu64 "</td><td>",
		    r->messages);
		html_text(f, cause);
		fputs("</td><td>", f);
		html_text(f, fix);
		fputs("</td><td>", f);
		ses_row_evidence(r, evidence, sizeof(evidence));
		html_text(f, evidence[0] ? evidence : "-");
		fputs("</td></tr>\n", f);
	}
	if (n > 0)
		fputs("</tbody></table>\n", f);
	ses_model_free(&sm);
	return 0;
}

/* Runs of days that no report covers, between the first and the last. */
static void
gaps(FILE *f, const struct html_domain *d)
{
	size_t i = 0, runs = 0, missing = 0;

	if (d->ncover == 0) {
		fputs("<p class=\"mute\">The reports span too long a time to "
		      "check for missing days.</p>\n",
		      f);
		return;
	}
	for (i = 0; i < d->ncover; i++)
		missing += d->cover[i] == 0;
	if (missing == 0) {
		fputs("<p>Every day from the first report to the last is "
		      "covered by a report.</p>\n",
		      f);
		return;
	}
	fprintf(f,
	        "<p class=\"sev-warn\">%zu %s between the first report and the "
	        "last %s no report:</p>\n<ul class=\"gaps\">",
	        missing, missing == 1 ? "day" : "days",
	        missing == 1 ? "has" : "have");
	for (i = 0; i < d->ncover && runs < GAPS_SHOWN; i++) {
		size_t j = i;
		char a[16], b[16];

		if (d->cover[i])
			continue;
		while (j + 1 < d->ncover && !d->cover[j + 1])
			j++;
		svg_day(d->cover_start + (int64_t)i, a, sizeof(a));
		svg_day(d->cover_start + (int64_t)j, b, sizeof(b));
		if (i == j)
			fprintf(f, "<li>%s</li>", a);
		else
			fprintf(f, "<li>%s to %s (%zu days)</li>", a, b,
			        j - i + 1);
		runs++;
		i = j;
	}
	fputs("</ul>\n", f);
}

static void
receivers(FILE *f, const struct html_model *m, const struct html_domain *d)
{
	int64_t newest = INT64_MIN;
	size_t i;

	fputs("<h3>Receivers and freshness</h3>\n<table class=\"receivers\">"
	      "<thead><tr><th>Receiver</th><th class=\"n\">Reports</th>"
	      "<th>Newest report ends</th></tr></thead><tbody>\n",
	      f);
	for (i = 0; i < strmap_len(&d->receivers); i++) {
		const struct strmap_entry *en = strmap_at(&d->receivers, i);
		const struct html_receiver *r = en->value;

		if (r->newest > newest)
			newest = r->newest;
		fputs("<tr><td>", f);
		html_text(f, en->key);
		fprintf(f, "</td><td class=\"n\">%" PRIu64 "</td><td>",
		        r->reports);
		date(f, r->newest);
		fputs("</td></tr>\n", f);
	}
	fputs("</tbody></table>\n", f);
	if (newest != INT64_MIN) {
		int64_t age = (m->generated - newest) / 86400;

		fprintf(f, "<p class=\"%s\">The newest report ends ",
		        age > MAX_AGE_DEFAULT_DAYS ? "sev-warn" : "fresh");
		date(f, newest);
		if (age > MAX_AGE_DEFAULT_DAYS)
			fprintf(f,
			        ", %" PRId64
			        " days ago: if reports should still "
			        "arrive, check that dmarc-ingest runs.</p>\n",
			        age);
		else
			fputs(".</p>\n", f);
	}
	gaps(f, d);
}

/* The verdict of `dmarc-report policy`, first thing under the domain:
 * its sentence, which starts with the verdict. */
static void
verdict(FILE *f, const struct html_domain *d)
{
	char why[4096];

	if (d->policy == NULL)
		return;
	policy_reason(d->policy, why, sizeof(why));
	fprintf(f, "<div class=\"verdict v-%s\" data-verdict=\"%s\"><b>",
	        verdict_name(d->policy->verdict),
	        verdict_name(d->policy->verdict));
	html_text(f, why);
	fputs("</b><br><span class=\"mute\">The verdict of "
	      "<code>dmarc-report policy</code>.</span></div>\n",
	      f);
}

/* How much each domain gets: all its charts and more rows when the page
 * has few domains. */
struct layout {
	size_t rows;
	int full;
	const struct findings *dns; /* --check-dns, or NULL */
};

static int
domain_section(struct report_ctx *ctx, const struct html_model *m,
               const struct html_domain *d, size_t idx,
               const struct layout *lay, struct err *e)
{
	FILE *f = ctx->out;

	fprintf(f, "<section class=\"domain\" id=\"d%zu\" data-domain=\"", idx);
	html_text(f, d->name);
	fputs("\">\n<h2>", f);
	html_text(f, d->name);
	fputs("</h2>\n<p class=\"meta\">Published: p=", f);
	html_text(f, d->p[0] ? d->p : "?");
	if (d->sp[0]) {
		fputs(", sp=", f);
		html_text(f, d->sp);
	}
	if (d->pct >= 0)
		fprintf(f, ", pct=%d", d->pct);
	fprintf(f, ". %" PRIu64 " report%s, ", d->reports, plural(d->reports));
	date(f, d->first);
	fputs(" to ", f);
	date(f, d->last);
	fprintf(f,
	        ".</p>\n<p class=\"totals\" data-messages=\"%" PRIu64
	        "\" data-dmarc-pass=\"%" PRIu64 "\">%" PRIu64
	        " message%s, %" PRIu64 " passing DMARC (",
	        d->messages, d->dmarc_pass, d->messages, plural(d->messages),
	        d->dmarc_pass);
	pct(f, d->dmarc_pass, d->messages);
	fputs(").</p>\n", f);
	verdict(f, d);
	if (charts(f, m, d, idx, lay->full) == -1)
		return err_set(e, "out of memory");
	sources_table(f, d, lay->rows);
	if (ses_findings(f, ctx, d, e) == -1 ||
	    html_tls_section(f, ctx, d->name, idx, e) == -1)
		return -1;
	if (lay->dns != NULL)
		html_dns_section(f, lay->dns, d->name);
	receivers(f, m, d);
	fputs("</section>\n", f);
	return 0;
}

static int
html_run(struct report_ctx *ctx, struct err *e)
{
	struct html_model m;
	struct findings dns;
	struct layout lay;
	size_t i, n;
	int rc = -1;

	memset(&dns, 0, sizeof(dns));
	memset(&lay, 0, sizeof(lay));
	if (tools_open(ctx, e) == -1)
		return -1;
	if (html_collect(ctx, &m, e) == -1)
		goto out;
	/* asked for: the network, before the page starts (a DNS failure
	 * leaves no half page) */
	if (ctx->html_check_dns) {
		if (check_dns_collect(ctx, &dns, e) == -1)
			goto out;
		lay.dns = &dns;
	}
	n = strmap_len(&m.domains);
	if (html_begin(ctx->out, "DMARC reports", e) == -1)
		goto out;
	header(ctx->out, ctx, &m);
	if (n == 0) {
		fputs("<p>No reports match the selection.</p>\n", ctx->out);
		fputs("dmarc-report: html: no reports match the selection; "
		      "the page says so\n",
		      stderr);
	}
	if (n > 1)
		overview(ctx->out, &m);
	lay.full = n <= HTML_FULL_DOMAINS;
	lay.rows = n == 1 ? ROWS_ONE : lay.full ? ROWS_SOME : ROWS_MANY;
	for (i = 0; i < n; i++)
		if (domain_section(ctx, &m, strmap_at(&m.domains, i)->value,
		                   i + 1, &lay, e) == -1)
			goto out;
	html_end(ctx->out);
	rc = ferror(ctx->out) ? err_set(e, "cannot write the page") : 0;
out:
	findings_free(&dns);
	html_model_free(&m);
	return rc;
}

const struct command cmd_html = {
    "html", "one self-contained HTML page with charts (no script, no network)",
    html_run, 0};

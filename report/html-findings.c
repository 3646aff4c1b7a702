/*
 * html-findings.c - the TLS and check-dns sections of `dmarc-report html`.
 * See html-findings.h.
 *
 * TLS: the days `tls --domain D` prints (store_each_tls_day() with the
 * page's selection narrowed to the domain) are copied, then drawn: the
 * totals, a chart of successful against failed sessions, the failure
 * types by receiving MX summed over the days with `tls`'s fix, and the
 * days that had failures.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "html-findings.h"
#include "html.h"
#include "percent.h"
#include "svg.h"

#define TLS_BUCKETS_MAX 60 /* bars of the sessions chart */
#define TLS_DAYS_SHOWN  31 /* days with failures listed */
#define TLS_TYPES_MAX   40 /* failure type x MX rows kept */

struct tls_type {
	char *type, *mx; /* mx NULL when unreported */
	uint64_t sessions;
	size_t days;
};

struct tls_day {
	int64_t day; /* days since the epoch */
	uint64_t ok, failed;
	char *types; /* "type (mx) n, ..." of the day, or NULL */
};

struct tls_sum {
	struct tls_day *d;
	size_t n, cap;
	struct tls_type t[TLS_TYPES_MAX];
	size_t nt;
	uint64_t reports, ok, failed, other_sessions; /* other: past nt */
};

static int
same(const char *a, const char *b)
{
	return a == b || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

static int
add_type(struct tls_sum *s, const struct store_tls_failure *x)
{
	size_t i;

	for (i = 0; i < s->nt; i++)
		if (same(s->t[i].type, x->result_type) &&
		    same(s->t[i].mx, x->receiving_mx))
			break;
	if (i == s->nt) {
		if (s->nt == TLS_TYPES_MAX) {
			s->other_sessions += x->sessions;
			return 0;
		}
		s->t[i].type = strdup(x->result_type ? x->result_type : "");
		s->t[i].mx = x->receiving_mx ? strdup(x->receiving_mx) : NULL;
		if (s->t[i].type == NULL ||
		    (x->receiving_mx != NULL && s->t[i].mx == NULL))
			return -1;
		s->nt++;
	}
	s->t[i].sessions += x->sessions;
	s->t[i].days++;
	return 0;
}

/* "certificate-expired at mx1.example.com: 3; ..." for the day table. */
static char *
day_types(const struct store_tls_day *d)
{
	size_t len = 1, i, o = 0;
	char *out;

	for (i = 0; i < d->nfailures; i++)
		len += strlen(d->failures[i].result_type) + 48 +
		       (d->failures[i].receiving_mx
		            ? strlen(d->failures[i].receiving_mx)
		            : 0);
	if ((out = malloc(len)) == NULL)
		return NULL;
	out[0] = '\0';
	for (i = 0; i < d->nfailures; i++) {
		const struct store_tls_failure *x = &d->failures[i];

		o += (size_t)snprintf(
		    out + o, len - o, "%s%s%s%s: %" PRIu64, i ? "; " : "",
		    x->result_type, x->receiving_mx ? " at " : "",
		    x->receiving_mx ? x->receiving_mx : "", x->sessions);
	}
	return out;
}

static int
one_day(void *arg, const struct store_tls_day *d, struct err *e)
{
	struct tls_sum *s = arg;
	struct tls_day *x;
	size_t i;

	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 64;
		void *p = realloc(s->d, cap * sizeof(*s->d));

		if (p == NULL)
			return err_set(e, "out of memory");
		s->d = p;
		s->cap = cap;
	}
	x = &s->d[s->n++];
	memset(x, 0, sizeof(*x));
	x->day = d->day / 86400;
	x->ok = d->successful;
	x->failed = d->failed;
	s->reports += d->reports;
	s->ok += d->successful;
	s->failed += d->failed;
	if (d->nfailures > 0 && (x->types = day_types(d)) == NULL)
		return err_set(e, "out of memory");
	for (i = 0; i < d->nfailures; i++)
		if (add_type(s, &d->failures[i]) == -1)
			return err_set(e, "out of memory");
	return 0;
}

static void
sum_free(struct tls_sum *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		free(s->d[i].types);
	for (i = 0; i < s->nt; i++) {
		free(s->t[i].type);
		free(s->t[i].mx);
	}
	free(s->d);
}

/* Successful against failed sessions over time, at most TLS_BUCKETS_MAX
 * bars; the numbers are in the chart's table (its text alternative). */
static int
tls_chart(FILE *f, const struct tls_sum *s, size_t idx)
{
	static const char *const labels[2] = {"successful sessions",
	                                      "failed sessions"};
	static const char *const classes[2] = {"pass", "fail"};
	int64_t first = s->d[0].day, last = s->d[s->n - 1].day;
	uint64_t span = (uint64_t)(last - first) + 1, *v;
	struct svg_chart c;
	char id[32], title[64];
	size_t i, b;
	int rc;

	memset(&c, 0, sizeof(c));
	c.days = (unsigned)((span + TLS_BUCKETS_MAX - 1) / TLS_BUCKETS_MAX);
	c.nb = (size_t)((span + c.days - 1) / c.days);
	if ((v = calloc(c.nb * 2, sizeof(*v))) == NULL)
		return -1;
	for (i = 0; i < s->n; i++) {
		b = (size_t)(s->d[i].day - first) / c.days;
		v[b * 2] += s->d[i].ok;
		v[b * 2 + 1] += s->d[i].failed;
	}
	snprintf(id, sizeof(id), "d%zu-tls", idx);
	snprintf(title, sizeof(title), "SMTP TLS sessions per %s",
	         c.days == 1 ? "day" : "period");
	c.id = id;
	c.title = title;
	c.desc = "Stacked bars: the sessions that negotiated TLS and the "
	         "sessions that failed, as the sending servers reported them.";
	c.start = first;
	c.ns = 2;
	c.labels = labels;
	c.classes = classes;
	c.table = 1;
	rc = svg_stacked(f, &c, v);
	free(v);
	return rc;
}

static void
tls_types(FILE *f, const struct tls_sum *s)
{
	const char *fix;
	size_t i;

	fputs("<table class=\"tls\"><thead><tr><th>Failure</th>"
	      "<th>Receiving MX</th><th class=\"n\">Failed sessions</th>"
	      "<th class=\"n\">Days</th><th>Fix</th></tr></thead><tbody>\n",
	      f);
	for (i = 0; i < s->nt; i++) {
		const struct tls_type *t = &s->t[i];

		fputs("<tr data-tls-type=\"", f);
		html_text(f, t->type);
		fputs("\" data-tls-mx=\"", f);
		html_text(f, t->mx ? t->mx : "");
		fprintf(f, "\" data-tls-sessions=\"%" PRIu64 "\"><td>",
		        t->sessions);
		html_text(f, t->type);
		fputs("</td><td>", f);
		html_text(f, t->mx ? t->mx : "(not reported)");
		fprintf(f,
		        "</td><td class=\"n\">%" PRIu64
		        "</td><td class=\"n\">%zu</td><td>",
		        t->sessions, t->days);
		fix = tls_fix_for(t->type);
		html_text(f, fix);
		fputs("</td></tr>\n", f);
	}
	fputs("</tbody></table>\n", f);
	if (s->other_sessions > 0)
		fprintf(
		    f,
		    "<p class=\"mute\">... and %" PRIu64
		    " failed sessions of other types and MX hosts "
		    "(<code>dmarc-report tls</code> lists every one).</p>\n",
		    s->other_sessions);
}

/* The days with failures, newest first. */
static void
tls_days(FILE *f, const struct tls_sum *s)
{
	size_t i, shown = 0, bad = 0;
	char day[16];

	for (i = 0; i < s->n; i++)
		bad += s->d[i].failed > 0;
	if (bad == 0)
		return;
	fputs("<table class=\"tls-days\"><thead><tr><th>Day (UTC)</th>"
	      "<th class=\"n\">Successful</th><th class=\"n\">Failed</th>"
	      "<th>Failures</th></tr></thead><tbody>\n",
	      f);
	for (i = s->n; i-- > 0 && shown < TLS_DAYS_SHOWN;) {
		const struct tls_day *d = &s->d[i];

		if (d->failed == 0)
			continue;
		shown++;
		svg_day(d->day, day, sizeof(day));
		fprintf(f,
		        "<tr data-tls-day=\"%s\" data-tls-successful=\"%" PRIu64
		        "\" data-tls-failed=\"%" PRIu64 "\"><td>%s</td>"
		        "<td class=\"n\">%" PRIu64
		        "</td><td class=\"n\">%" PRIu64 "</td><td>",
		        day, d->ok, d->failed, day, d->ok, d->failed);
		html_text(f, d->types ? d->types : "-");
		fputs("</td></tr>\n", f);
	}
	fputs("</tbody></table>\n", f);
	if (bad > shown)
		fprintf(f,
		        "<p class=\"mute\">... and %zu earlier days with "
		        "failures.</p>\n",
		        bad - shown);
}

int
html_tls_section(FILE *f, struct report_ctx *ctx, const char *domain,
                 size_t idx, struct err *e)
{
	const char *one[2] = {domain, NULL};
	struct store_filter fl = ctx->filter;
	struct tls_sum s;
	char share[16];
	int rc = 0;

	memset(&s, 0, sizeof(s));
	fl.domains = one;
	if (store_each_tls_day(ctx->st, &fl, one_day, &s, e) == -1) {
		sum_free(&s);
		return -1;
	}
	if (s.n == 0) {
		sum_free(&s);
		return 0;
	}
	fprintf(f,
	        "<h3>SMTP TLS reports</h3>\n<p class=\"tls-totals %s\" "
	        "data-tls-successful=\"%" PRIu64 "\" data-tls-failed=\"%" PRIu64
	        "\">%" PRIu64 " report%s over %zu day%s: %" PRIu64
	        " successful session%s, %" PRIu64 " failed (%s).</p>\n",
	        s.failed ? "sev-warn" : "fresh", s.ok, s.failed, s.reports,
	        plural(s.reports), s.n, s.n == 1 ? "" : "s", s.ok, plural(s.ok),
	        s.failed,
	        s.ok + s.failed ? percent_format(s.failed, s.ok + s.failed,
	                                         share, sizeof(share))
	                        : "-");
	if (tls_chart(f, &s, idx) == -1)
		rc = err_set(e, "out of memory");
	else if (s.failed > 0) {
		tls_types(f, &s);
		tls_days(f, &s);
	}
	sum_free(&s);
	return rc;
}

void
html_dns_section(FILE *f, const struct findings *all, const char *domain)
{
	size_t i, n = 0;

	for (i = 0; i < all->n; i++) {
		const struct finding *x = &all->v[i];
		int bad = strcmp(x->severity, "error") == 0;

		if (strcmp(x->domain, domain) != 0)
			continue;
		if (n++ == 0)
			fputs("<h3>DNS records now (check-dns)</h3>\n<table "
			      "class=\"dns\"><thead><tr><th>Severity</th>"
			      "<th>Check</th><th>Name</th><th>Finding</th>"
			      "<th>Fix</th></tr></thead><tbody>\n",
			      f);
		fputs("<tr data-dns-severity=\"", f);
		html_text(f, x->severity);
		fputs("\" data-dns-check=\"", f);
		html_text(f, x->check);
		fprintf(f, "\"><td class=\"%s\">",
		        bad                                   ? "sev-fail"
		        : strcmp(x->severity, "warning") == 0 ? "sev-warn"
		                                              : "mute");
		html_text(f, x->severity);
		fputs("</td><td>", f);
		html_text(f, x->check);
		fputs("</td><td>", f);
		html_text(f, x->name);
		fputs("</td><td>", f);
		html_text(f, x->text);
		fputs("</td><td>", f);
		html_text(f, x->fix ? x->fix : "-");
		fputs("</td></tr>\n", f);
	}
	if (n > 0)
		fputs("</tbody></table>\n", f);
}

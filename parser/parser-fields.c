/*
 * parser-fields.c - the report's header and the text of its leaf elements,
 * normalised (normalize.h), validated and put in place.
 */
#include <strings.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parser-impl.h"
#include "normalize.h"

/* ---------------------------------------------------------------------
 * Header
 */

void
parser_hdr_set(struct parser *p, enum hfield f, const char *v)
{
	free(p->hdr[f]);
	p->hdr[f] = v ? strdup(v) : NULL;
	if (v != NULL && p->hdr[f] == NULL)
		parser_fail(p, "out of memory");
}

static void
hdr_append_error(struct parser *p, const char *v)
{
	char *old = p->hdr[HF_ERRORS], *n;
	size_t a, b;

	if (old == NULL) {
		parser_hdr_set(p, HF_ERRORS, v);
		return;
	}
	a = strlen(old);
	b = strlen(v);
	if (a > 16 * 1024)
		return; /* enough errors for anyone */
	if ((n = malloc(a + b + 2)) == NULL) {
		parser_fail(p, "out of memory");
		return;
	}
	memcpy(n, old, a);
	n[a] = '\n';
	memcpy(n + a + 1, v, b + 1);
	free(old);
	p->hdr[HF_ERRORS] = n;
}

/* Fills p->meta from the header strings, deriving org_name when empty. */
static void
meta_refresh(struct parser *p)
{
	struct dmarc_meta *m = &p->meta;
	const char *src, *at;

	m->xmlns = p->hdr[HF_XMLNS];
	m->version = p->hdr[HF_VERSION];
	m->email = p->hdr[HF_EMAIL];
	m->extra_contact_info = p->hdr[HF_EXTRA];
	m->report_id = p->hdr[HF_ID];
	m->errors = p->hdr[HF_ERRORS];
	m->generator = p->hdr[HF_GEN];
	m->domain = p->hdr[HF_DOMAIN];
	m->adkim = p->hdr[HF_ADKIM];
	m->aspf = p->hdr[HF_ASPF];
	m->p = p->hdr[HF_P];
	m->sp = p->hdr[HF_SP];
	m->np = p->hdr[HF_NP];
	m->fo = p->hdr[HF_FO];
	m->testing = p->hdr[HF_TESTING];
	m->discovery_method = p->hdr[HF_DISC];
	m->org_name = p->hdr[HF_ORG];
	m->org_name_derived = 0;
	if (m->org_name == NULL) {
		/* Some reporters leave org_name empty; the domain of the
		 * report's address names the organisation well enough. */
		src = m->email ? m->email : m->report_id;
		at = src ? strrchr(src, '@') : NULL;
		if (at != NULL && at[1] != '\0' &&
		    p->hdr[HF_DERIVED_ORG] == NULL) {
			char tmp[256];
			snprintf(tmp, sizeof(tmp), "%s", at + 1);
			parser_hdr_set(p, HF_DERIVED_ORG, norm_domain(tmp));
		}
		m->org_name = p->hdr[HF_DERIVED_ORG];
		m->org_name_derived = 1;
	}
}

/* The fields without which a report cannot be identified or placed in
 * time.  Returns 0 or fails the parse naming the first one missing. */
int
parser_meta_check(struct parser *p)
{
	const char *missing = NULL;

	if (!p->meta_seen)
		missing = "<report_metadata>";
	else if (p->hdr[HF_ID] == NULL)
		missing = "report_metadata/report_id";
	else if (!p->date_seen || !p->meta.has_begin)
		missing = "report_metadata/date_range/begin";
	else if (!p->meta.has_end)
		missing = "report_metadata/date_range/end";
	else if (!p->pol_seen)
		missing = "<policy_published>";
	else if (p->hdr[HF_DOMAIN] == NULL)
		missing = "policy_published/domain";
	if (missing != NULL) {
		parser_fail(
		    p, "not a usable aggregate report: %s is missing or empty",
		    missing);
		return -1;
	}
	meta_refresh(p);
	if (p->meta.org_name == NULL) {
		parser_fail(
		    p, "not a usable aggregate report: org_name is empty and "
		       "cannot be derived (no email)");
		return -1;
	}
	if (p->meta.org_name_derived)
		warn_add(
		    &p->res->warnings, "org",
		    "empty org_name, derived '%s' from the report's address",
		    p->meta.org_name);
	if (p->meta.begin > p->meta.end)
		warn_add(&p->res->warnings, "dates",
		         "date_range begin %lld is after end %lld",
		         (long long)p->meta.begin, (long long)p->meta.end);
	return 0;
}

void
parser_call_begin(struct parser *p, int complete)
{
	struct err e;

	p->begun = 1;
	p->begun_complete = complete;
	if (complete && parser_meta_check(p) == -1)
		return;
	if (!complete)
		meta_refresh(p); /* provisional: final at </feedback> */
	if (p->h->begin != NULL &&
	    p->h->begin(p->h->arg, &p->meta, complete, &e) == -1) {
		err_set(p->e, "%s", e.msg);
		p->failed = p->handler_failed = 1;
		xmlStopParser(p->ctxt);
	}
}

/* ---------------------------------------------------------------------
 * Leaf values
 */

const char *
parser_leaf_name(enum state st)
{
	size_t i;

	for (i = 0; i < NEDGES; i++)
		if (parser_edges[i].child == st)
			return parser_edges[i].name;
	return "?";
}

/* Returns 1 if this leaf was already read in its scope (first one wins). */
static int
seen_before(struct parser *p, enum state st)
{
	if (p->seen[st]) {
		warn_add(
		    &p->res->warnings, "dupfield",
		    "duplicate <%s> at line %lu ignored (the first is used)",
		    parser_leaf_name(st), parser_line(p));
		return 1;
	}
	p->seen[st] = 1;
	return 0;
}

static const char *
known_word(struct parser *p, char *w, const char *const *allowed,
           const char *what)
{
	size_t i;

	if (w == NULL)
		return NULL;
	for (i = 0; allowed[i] != NULL; i++)
		if (strcmp(w, allowed[i]) == 0)
			return allowed[i];
	warn_add(&p->res->warnings, what, "unexpected %s '%.40s' at line %lu",
	         what, w, parser_line(p));
	return w;
}

static const char *const w_disposition[] = {"none", "quarantine", "reject",
                                            "pass", NULL};
static const char *const w_policy[] = {"none", "quarantine", "reject", NULL};
static const char *const w_align[] = {"r", "s", NULL};
static const char *const w_passfail[] = {"pass", "fail", NULL};
#define w_dkim norm_dkim_results
#define w_spf  norm_spf_results
static const char *const w_scope[] = {"mfrom", "helo", NULL};

/* Seconds since the epoch of 9999-12-31T23:59:59Z: later dates are not
 * dates a report can mean. */
#define EPOCH_MAX INT64_C(253402300799)
/* From here on a date in seconds would be after the year 5138: such a
 * value is a date in milliseconds (Java's currentTimeMillis()). */
#define EPOCH_MS_FROM INT64_C(100000000000)
#define EPOCH_2000    INT64_C(946684800)

static void
set_date(struct parser *p, char *v, int64_t *dst, int *has, const char *which)
{
	int64_t t;

	if ((v = norm_trim(v)) == NULL)
		return;
	if (norm_uint(v, 1, &t) == -1) {
		parser_fail(p,
		            "date_range/%s '%.40s' is not a number of seconds",
		            which, v);
		return;
	}
	if (t >= EPOCH_MS_FROM && t / 1000 <= EPOCH_MAX) {
		warn_add(&p->res->warnings, "ms",
		         "date_range/%s %lld looks like milliseconds, taken as "
		         "%lld seconds",
		         which, (long long)t, (long long)(t / 1000));
		t /= 1000;
	} else if (t > EPOCH_MAX) {
		parser_fail(
		    p,
		    "date_range/%s %.40s is after the year 9999 (even as "
		    "milliseconds): not a date",
		    which, v);
		return;
	}
	if (t < EPOCH_2000 && strcmp(which, "begin") == 0)
		warn_add(
		    &p->res->warnings, "old",
		    "date_range/%s %lld is before the year 2000 (DMARC dates "
		    "from 2012): a wrong clock at the reporter?",
		    which, (long long)t);
	*dst = t;
	*has = 1;
}

/* A domain, normalised; a domain with white space or control characters
 * fails the report (it would forge lines wherever it is printed, and no
 * DNS name has them). */
static char *
domain(struct parser *p, char *v, const char *what)
{
	const char *bad;
	char *d;

	if ((d = norm_domain(v)) == NULL)
		return NULL;
	if ((bad = norm_domain_defect(d)) != NULL) {
		parser_fail(p, "%s contains %s: not a domain name", what, bad);
		return NULL;
	}
	return d;
}

/* A count is a whole number: "12" or "12.0", never "3.5" or "" (which
 * earlier versions stored as 3 and 0). */
static void
set_count(struct parser *p, char *v)
{
	struct rec *r = &p->rec;
	const char *dot;
	int64_t n;

	r->count_seen = 1;
	if ((v = norm_trim(v)) == NULL) {
		parser_fail(
		    p,
		    "record at line %lu has an empty <count>: the number "
		    "of messages is unknown",
		    r->line);
		return;
	}
	if (norm_uint(v, 1, &n) == -1) {
		parser_fail(p, "record count '%.40s' is not a number", v);
		return;
	}
	if ((dot = strchr(v, '.')) != NULL &&
	    strspn(dot + 1, "0") != strlen(dot + 1)) {
		parser_fail(p,
		            "record count '%.40s' is not a whole number of "
		            "messages",
		            v);
		return;
	}
	r->count = n;
	r->has_count = 1;
}

static void
leaf_header(struct parser *p, enum state st, char *v)
{
	int64_t n;

	switch (st) {
	case ST_VERSION:
		parser_hdr_set(p, HF_VERSION, norm_trim(v));
		break;
	case ST_META_ORG:
		parser_hdr_set(p, HF_ORG, norm_trim(v));
		break;
	case ST_META_EMAIL:
		parser_hdr_set(p, HF_EMAIL, norm_trim(v));
		break;
	case ST_META_EXTRA:
		parser_hdr_set(p, HF_EXTRA, norm_trim(v));
		break;
	case ST_META_ID:
		parser_hdr_set(p, HF_ID, norm_report_id(v));
		break;
	case ST_META_GEN:
		parser_hdr_set(p, HF_GEN, norm_trim(v));
		break;
	case ST_DATE_BEGIN:
		set_date(p, v, &p->meta.begin, &p->meta.has_begin, "begin");
		break;
	case ST_DATE_END:
		set_date(p, v, &p->meta.end, &p->meta.has_end, "end");
		break;
	case ST_POL_DOMAIN:
		parser_hdr_set(p, HF_DOMAIN,
		               domain(p, v, "policy_published/domain"));
		break;
	case ST_POL_ADKIM:
		parser_hdr_set(p, HF_ADKIM,
		               known_word(p, norm_word(v), w_align, "adkim"));
		break;
	case ST_POL_ASPF:
		parser_hdr_set(p, HF_ASPF,
		               known_word(p, norm_word(v), w_align, "aspf"));
		break;
	case ST_POL_P:
		parser_hdr_set(p, HF_P,
		               known_word(p, norm_word(v), w_policy, "policy"));
		break;
	case ST_POL_SP:
		parser_hdr_set(p, HF_SP,
		               known_word(p, norm_word(v), w_policy, "policy"));
		break;
	case ST_POL_NP:
		parser_hdr_set(p, HF_NP,
		               known_word(p, norm_word(v), w_policy, "policy"));
		break;
	case ST_POL_PCT:
		if ((v = norm_trim(v)) == NULL)
			break;
		if (norm_uint(v, 1, &n) == -1 || n > 100)
			warn_add(&p->res->warnings, "pct",
			         "pct '%.20s' is not 0..100, ignored", v);
		else
			p->meta.pct = (int)n;
		break;
	case ST_POL_FO:
		parser_hdr_set(p, HF_FO, norm_trim(v));
		break;
	case ST_POL_TESTING:
		parser_hdr_set(p, HF_TESTING, norm_word(v));
		break;
	case ST_POL_DISC:
		parser_hdr_set(p, HF_DISC, norm_word(v));
		break;
	default:
		break;
	}
}

/* The value of a record's leaf, by state.  Long because it is one short
 * case per leaf element: split, the cases would only be harder to check
 * against the table of edges. */
static void
leaf_record(struct parser *p, enum state st, char *v)
{
	struct rec *r = &p->rec;
	char ip[NORM_IP_MAX];
	const char *w;

	switch (st) {
	case ST_ROW_IP:
		if ((v = norm_trim(v)) == NULL)
			break;
		if (norm_ip(v, ip) == 0)
			r->ip = parser_arena_put(p, ip);
		else
			warn_add(&p->res->warnings, "badip",
			         "source_ip '%.60s' at line %lu is not an IP "
			         "address; stored without an address",
			         v, parser_line(p));
		break;
	case ST_ROW_COUNT:
		set_count(p, v);
		break;
	case ST_PE_DISP:
		w = known_word(p, norm_word(v), w_disposition, "disposition");
		r->disp = parser_arena_put(p, w);
		break;
	case ST_PE_DKIM:
		w = known_word(p, norm_word(v), w_passfail, "dmarc result");
		r->pe_dkim = parser_arena_put(p, w);
		break;
	case ST_PE_SPF:
		w = known_word(p, norm_word(v), w_passfail, "dmarc result");
		r->pe_spf = parser_arena_put(p, w);
		break;
	case ST_REASON_TYPE:
		if ((v = norm_word(v)) == NULL)
			break;
		if ((w = norm_reason_type(v)) != NULL) {
			r->reasons[r->nreasons - 1].type =
			    parser_arena_put(p, w);
		} else {
			r->reasons[r->nreasons - 1].type =
			    parser_arena_put(p, "other");
			r->reasons[r->nreasons - 1].orig =
			    parser_arena_put(p, v);
		}
		break;
	case ST_REASON_COMMENT:
		r->reasons[r->nreasons - 1].comment =
		    parser_arena_put(p, norm_trim(v));
		break;
	case ST_ID_HF:
		r->hf = parser_arena_put(p, domain(p, v, "header_from"));
		break;
	case ST_ID_EF:
		r->ef = parser_arena_put(p, domain(p, v, "envelope_from"));
		break;
	case ST_ID_ET:
		r->et = parser_arena_put(p, domain(p, v, "envelope_to"));
		break;
	case ST_ADKIM_DOMAIN:
		r->dkim[r->ndkim - 1].domain = parser_arena_put(
		    p, domain(p, v, "auth_results/dkim/domain"));
		break;
	case ST_ADKIM_SEL:
		r->dkim[r->ndkim - 1].selector =
		    parser_arena_put(p, norm_trim(v));
		break;
	case ST_ADKIM_RESULT:
		w = norm_auth_result(norm_word(v), 0);
		w = known_word(p, (char *)w, w_dkim, "dkim result");
		r->dkim[r->ndkim - 1].result = parser_arena_put(p, w);
		break;
	case ST_ADKIM_HUMAN:
		r->dkim[r->ndkim - 1].human = parser_arena_put(p, norm_trim(v));
		break;
	case ST_ASPF_DOMAIN:
		r->spf[r->nspf - 1].domain = parser_arena_put(
		    p, domain(p, v, "auth_results/spf/domain"));
		break;
	case ST_ASPF_SCOPE:
		w = known_word(p, norm_word(v), w_scope, "spf scope");
		r->spf[r->nspf - 1].scope = parser_arena_put(p, w);
		break;
	case ST_ASPF_RESULT:
		w = norm_auth_result(norm_word(v), 1);
		w = known_word(p, (char *)w, w_spf, "spf result");
		r->spf[r->nspf - 1].result = parser_arena_put(p, w);
		break;
	case ST_ASPF_HUMAN:
		r->spf[r->nspf - 1].human = parser_arena_put(p, norm_trim(v));
		break;
	default:
		break;
	}
}

void
parser_leaf_end(struct parser *p, enum state st)
{
	char *v = p->text.data ? p->text.data : (char *)"";
	char empty[1] = "";

	if (p->text.data == NULL)
		v = empty;
	if (st == ST_META_ERROR) {
		if ((v = norm_trim(v)) != NULL)
			hdr_append_error(p, v);
		return;
	}
	if (seen_before(p, st))
		return;
	if (st < ST_ROW_IP)
		leaf_header(p, st, v);
	else
		leaf_record(p, st, v);
}

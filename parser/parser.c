/*
 * parser.c - SAX2 push parser for DMARC aggregate reports.  See parser.h.
 *
 * Why SAX2 and not xmlTextReader: the reader builds (and frees) a node for
 * every element; SAX2 only calls us back.  On a million-record report that
 * is the difference between keeping up with `xmllint --stream` and being
 * well behind it, and memory stays flat either way.
 *
 * Elements are matched by local name through a small state machine: each
 * state knows which children it expects (the table `edges` below); anything
 * else is skipped with its whole subtree, which is how RFC 9990 extensions,
 * foreign namespaces and future elements are ignored without a special case.
 * Matching on local names (not on the namespace) is deliberate: reporters
 * send RFC 9990 elements without the RFC 9990 namespace and RFC 7489
 * reports with assorted namespaces.
 */
#include "parser.h"

#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/SAX2.h>
#include <libxml/tree.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "hash.h"
#include "normalize.h"

#define CHUNK 65536
#define NOFF  ((size_t)-1) /* "no value" for an arena offset */
#define COUNT_MAX (1ULL << 53) /* largest count or sum of counts */
/* Salvage recovers a document of up to this many bytes as a whole when
 * libxml2's push parser gives up on it (see salvage()). */
#define RECOVER_MAX (4u << 20)

/* Bytes of distinct names (elements, attributes, prefixes, namespaces) in
 * one document.  libxml2 2.9 keeps them in a dictionary whose lookups slow
 * down as it fills: 8 MB of distinct element names took 22 s, 50 MB ten
 * minutes.  A report uses a few dozen names. */
#define NAMES_LIMIT (1u << 20)

/* Namespace declarations in scope.  libxml2 2.9 resolves each prefix by
 * going through every declaration in scope: 7,000 of them (256 on each of
 * 28 nested elements) make 12 MB of prefixed elements take 7 s.  A report
 * declares one or two. */
#define MAX_NS_IN_SCOPE 64

enum state {
	ST_DOC,
	ST_SKIP,
	ST_WRAPPER,
	ST_FEEDBACK,
	ST_META,
	ST_DATE,
	ST_POL,
	ST_REC,
	ST_ROW,
	ST_PE,
	ST_REASON,
	ST_IDS,
	ST_AUTH,
	ST_ADKIM,
	ST_ASPF,
	/* leaves whose text is collected: everything from here on */
	ST_TEXT_FIRST,
	ST_VERSION = ST_TEXT_FIRST,
	ST_META_ORG,
	ST_META_EMAIL,
	ST_META_EXTRA,
	ST_META_ID,
	ST_META_ERROR,
	ST_META_GEN,
	ST_DATE_BEGIN,
	ST_DATE_END,
	ST_POL_DOMAIN,
	ST_POL_ADKIM,
	ST_POL_ASPF,
	ST_POL_P,
	ST_POL_SP,
	ST_POL_NP,
	ST_POL_PCT,
	ST_POL_FO,
	ST_POL_TESTING,
	ST_POL_DISC,
	ST_ROW_IP,
	ST_ROW_COUNT,
	ST_PE_DISP,
	ST_PE_DKIM,
	ST_PE_SPF,
	ST_REASON_TYPE,
	ST_REASON_COMMENT,
	ST_ID_HF,
	ST_ID_EF,
	ST_ID_ET,
	ST_ADKIM_DOMAIN,
	ST_ADKIM_SEL,
	ST_ADKIM_RESULT,
	ST_ADKIM_HUMAN,
	ST_ASPF_DOMAIN,
	ST_ASPF_SCOPE,
	ST_ASPF_RESULT,
	ST_ASPF_HUMAN,
	ST_COUNT
};

static const struct edge {
	unsigned char parent;
	unsigned char child;
	const char *name;
} edges[] = {
    {ST_FEEDBACK, ST_VERSION, "version"},
    {ST_FEEDBACK, ST_META, "report_metadata"},
    {ST_FEEDBACK, ST_POL, "policy_published"},
    {ST_FEEDBACK, ST_REC, "record"},
    {ST_META, ST_META_ORG, "org_name"},
    {ST_META, ST_META_EMAIL, "email"},
    {ST_META, ST_META_EXTRA, "extra_contact_info"},
    {ST_META, ST_META_ID, "report_id"},
    {ST_META, ST_DATE, "date_range"},
    {ST_META, ST_DATE, "data_range"}, /* KDDI */
    {ST_META, ST_META_ERROR, "error"},
    {ST_META, ST_META_GEN, "generator"},
    {ST_DATE, ST_DATE_BEGIN, "begin"},
    {ST_DATE, ST_DATE_END, "end"},
    {ST_POL, ST_POL_DOMAIN, "domain"},
    {ST_POL, ST_POL_ADKIM, "adkim"},
    {ST_POL, ST_POL_ASPF, "aspf"},
    {ST_POL, ST_POL_P, "p"},
    {ST_POL, ST_POL_SP, "sp"},
    {ST_POL, ST_POL_NP, "np"},
    {ST_POL, ST_POL_PCT, "pct"},
    {ST_POL, ST_POL_FO, "fo"},
    {ST_POL, ST_POL_TESTING, "testing"},
    {ST_POL, ST_POL_DISC, "discovery_method"},
    {ST_REC, ST_ROW, "row"},
    {ST_REC, ST_IDS, "identifiers"},
    {ST_REC, ST_IDS, "identities"},
    {ST_REC, ST_AUTH, "auth_results"},
    {ST_ROW, ST_ROW_IP, "source_ip"},
    {ST_ROW, ST_ROW_COUNT, "count"},
    {ST_ROW, ST_PE, "policy_evaluated"},
    {ST_PE, ST_PE_DISP, "disposition"},
    {ST_PE, ST_PE_DKIM, "dkim"},
    {ST_PE, ST_PE_SPF, "spf"},
    {ST_PE, ST_REASON, "reason"},
    {ST_REASON, ST_REASON_TYPE, "type"},
    {ST_REASON, ST_REASON_COMMENT, "comment"},
    {ST_IDS, ST_ID_HF, "header_from"},
    {ST_IDS, ST_ID_EF, "envelope_from"},
    {ST_IDS, ST_ID_ET, "envelope_to"},
    {ST_AUTH, ST_ADKIM, "dkim"},
    {ST_AUTH, ST_ASPF, "spf"},
    {ST_ADKIM, ST_ADKIM_DOMAIN, "domain"},
    {ST_ADKIM, ST_ADKIM_SEL, "selector"},
    {ST_ADKIM, ST_ADKIM_RESULT, "result"},
    {ST_ADKIM, ST_ADKIM_HUMAN, "human_result"},
    {ST_ASPF, ST_ASPF_DOMAIN, "domain"},
    {ST_ASPF, ST_ASPF_SCOPE, "scope"},
    {ST_ASPF, ST_ASPF_RESULT, "result"},
    {ST_ASPF, ST_ASPF_HUMAN, "human_result"},
};

/* Header fields, kept as separately allocated strings (one report, few
 * fields: allocation cost is irrelevant here). */
enum hfield {
	HF_XMLNS,
	HF_VERSION,
	HF_ORG,
	HF_EMAIL,
	HF_EXTRA,
	HF_ID,
	HF_ERRORS,
	HF_GEN,
	HF_DOMAIN,
	HF_ADKIM,
	HF_ASPF,
	HF_P,
	HF_SP,
	HF_NP,
	HF_FO,
	HF_TESTING,
	HF_DISC,
	HF_DERIVED_ORG,
	HF_COUNT
};

struct off_reason {
	size_t type, orig, comment;
};
struct off_dkim {
	size_t domain, selector, result, human;
};
struct off_spf {
	size_t domain, scope, result, human;
};

/* One record being collected: offsets into the arena until the end tag. */
struct rec {
	unsigned long line;
	size_t ip, disp, pe_dkim, pe_spf, hf, ef, et;
	int64_t count;
	int has_count, count_seen;
	int row_seen, ids_seen, auth_seen;
	struct off_reason *reasons;
	size_t nreasons, capreasons;
	struct off_dkim *dkim;
	size_t ndkim, capdkim;
	struct off_spf *spf;
	size_t nspf, capspf;
};

struct parser {
	struct parse_limits lim;
	xmlParserCtxtPtr ctxt;
	enum parse_mode mode;
	const struct parse_handler *h;
	struct parse_result *res;
	struct err *e;

	unsigned char *stack; /* state per open element */
	unsigned short *nsdecl; /* namespace declarations of each */
	unsigned ns_in_scope;   /* their sum */
	char (*names)[32];    /* their names, kept in salvage mode only */
	char real_end[32];    /* salvage: the end tag actually written */
	const xmlChar *edge_name[sizeof(edges) / sizeof(edges[0])];
	size_t first_edge[ST_COUNT], end_edge[ST_COUNT];
	unsigned depth;
	struct buf text; /* text of the current leaf element */

	char *hdr[HF_COUNT];
	struct dmarc_meta meta;
	int meta_seen, pol_seen, meta_done, pol_done, date_seen;
	int feedback_seen, feedback_done, begun, begun_complete;
	char wrapper[64];     /* name of a stray element around <feedback> */
	char root[64];        /* name of the root element */
	unsigned char seen[ST_COUNT]; /* leaf already read, for "first wins" */

	struct rec rec;
	struct buf arena; /* strings of the current record */
	struct dmarc_reason *reasons;
	struct dmarc_dkim *dkim;
	struct dmarc_spf *spf;
	size_t capreasons, capdkim, capspf;

	int failed;         /* a fatal problem: stop and reject */
	int handler_failed; /* ... caused by a handler callback */
	int xml_error;      /* libxml2 reported a well-formedness error */
	char xml_msg[200];  /* the first such error */
	char generic[200];  /* a message of libxml2's generic handler, as it
			       comes in pieces */
	unsigned long xml_line, xml_col;
	uint64_t root_end; /* input bytes up to the end of <feedback> */
	uint64_t record_tags; /* <record> start tags in the input */
	uint64_t input_bytes; /* read so far */
	uint64_t nul_pad;     /* salvage: NUL bytes dropped at the end */
	int recover_whole;    /* salvage: recover the whole document at once */
	const char *charset;  /* the container's charset (reader.h) */
};

static void fail(struct parser *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void pop_one(struct parser *p);

void
parse_limits_default(struct parse_limits *lim)
{
	lim->max_depth = 32;
	lim->max_text = 64 * 1024;
	lim->max_records = 10000000;
	lim->max_results = 1000;
}

static unsigned long
cur_line(const struct parser *p)
{
	return p->ctxt ? (unsigned long)xmlSAX2GetLineNumber(p->ctxt) : 0;
}

static unsigned long
cur_col(const struct parser *p)
{
	return p->ctxt ? (unsigned long)xmlSAX2GetColumnNumber(p->ctxt) : 0;
}

/* Records a fatal problem (the first one wins) and stops libxml2. */
static void
fail(struct parser *p, const char *fmt, ...)
{
	char msg[ERR_MSG_MAX - 64];
	va_list ap;

	if (p->failed)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (p->ctxt != NULL)
		err_set(p->e, "line %lu:%lu: %s", cur_line(p), cur_col(p), msg);
	else
		err_set(p->e, "%s", msg);
	p->failed = 1;
	if (p->ctxt != NULL)
		xmlStopParser(p->ctxt);
}

/* ---------------------------------------------------------------------
 * Header
 */

static void
hdr_set(struct parser *p, enum hfield f, const char *v)
{
	free(p->hdr[f]);
	p->hdr[f] = v ? strdup(v) : NULL;
	if (v != NULL && p->hdr[f] == NULL)
		fail(p, "out of memory");
}

static void
hdr_append_error(struct parser *p, const char *v)
{
	char *old = p->hdr[HF_ERRORS], *n;
	size_t a, b;

	if (old == NULL) {
		hdr_set(p, HF_ERRORS, v);
		return;
	}
	a = strlen(old);
	b = strlen(v);
	if (a > 16 * 1024)
		return; /* enough errors for anyone */
	if ((n = malloc(a + b + 2)) == NULL) {
		fail(p, "out of memory");
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
		if (at != NULL && at[1] != '\0' && p->hdr[HF_DERIVED_ORG] == NULL) {
			char tmp[256];
			snprintf(tmp, sizeof(tmp), "%s", at + 1);
			hdr_set(p, HF_DERIVED_ORG, norm_domain(tmp));
		}
		m->org_name = p->hdr[HF_DERIVED_ORG];
		m->org_name_derived = 1;
	}
}

/* The fields without which a report cannot be identified or placed in
 * time.  Returns 0 or fails the parse naming the first one missing. */
static int
meta_check(struct parser *p)
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
		fail(p, "not a usable aggregate report: %s is missing or empty",
		    missing);
		return -1;
	}
	meta_refresh(p);
	if (p->meta.org_name == NULL) {
		fail(p, "not a usable aggregate report: org_name is empty and "
			"cannot be derived (no email)");
		return -1;
	}
	if (p->meta.org_name_derived)
		warn_add(&p->res->warnings, "org",
		    "empty org_name, derived '%s' from the report's address",
		    p->meta.org_name);
	if (p->meta.begin > p->meta.end)
		warn_add(&p->res->warnings, "dates",
		    "date_range begin %lld is after end %lld",
		    (long long)p->meta.begin, (long long)p->meta.end);
	return 0;
}

static void
call_begin(struct parser *p, int complete)
{
	struct err e;

	p->begun = 1;
	p->begun_complete = complete;
	if (complete && meta_check(p) == -1)
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
 * Records
 */

static size_t
arena_put(struct parser *p, const char *s)
{
	size_t off = p->arena.len;
	struct err e;

	if (s == NULL)
		return NOFF;
	if (buf_append(&p->arena, s, strlen(s) + 1, &e) == -1) {
		fail(p, "record too large: %s", e.msg);
		return NOFF;
	}
	return off;
}

static const char *
arena_get(const struct parser *p, size_t off)
{
	return off == NOFF ? NULL : p->arena.data + off;
}

static void
rec_reset(struct parser *p)
{
	struct rec *r = &p->rec;

	r->line = cur_line(p);
	r->ip = r->disp = r->pe_dkim = r->pe_spf = NOFF;
	r->hf = r->ef = r->et = NOFF;
	r->count = 0;
	r->has_count = r->count_seen = 0;
	r->row_seen = r->ids_seen = r->auth_seen = 0;
	r->nreasons = r->ndkim = r->nspf = 0;
	buf_reset(&p->arena);
	memset(p->seen + ST_ROW_IP, 0, ST_COUNT - ST_ROW_IP);
}

/* Grows one of the per-record arrays; returns the new element or NULL. */
static void *
grow(struct parser *p, void **arr, size_t *n, size_t *cap, size_t size,
    const char *what)
{
	void *np;
	size_t ncap;

	if (*n >= p->lim.max_results) {
		fail(p, "record has more than %zu %s entries", p->lim.max_results,
		    what);
		return NULL;
	}
	if (*n == *cap) {
		ncap = *cap ? *cap * 2 : 4;
		if ((np = realloc(*arr, ncap * size)) == NULL) {
			fail(p, "out of memory");
			return NULL;
		}
		*arr = np;
		*cap = ncap;
	}
	return (char *)*arr + (*n)++ * size;
}

static int
ensure_out(struct parser *p, void **arr, size_t *cap, size_t n, size_t size)
{
	void *np;

	if (n <= *cap)
		return 0;
	if ((np = realloc(*arr, n * size)) == NULL) {
		fail(p, "out of memory");
		return -1;
	}
	*arr = np;
	*cap = n;
	return 0;
}

/* One field of the record fingerprint: its bytes, then a separator, so
 * that ("ab", "c") and ("a", "bc") differ; NULL is not "". */
static uint64_t
fnv(uint64_t h, const char *s)
{
	h = fnv1a_str(h, s == NULL ? "\x01" : s, NULL);
	return fnv1a_byte(h, 0x1f);
}

/* Spreads a record's hash over 64 bits before it is added to the report's
 * sum (splitmix64's finaliser): a plain sum of FNV values would let two
 * pairs of records cancel out too easily. */
static uint64_t
mix64(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* snprintf(buf, 32, "%lld", v) for the fingerprint, without printf's
 * machinery (once per record). */
static void
decimal(char buf[32], int64_t v)
{
	char tmp[24];
	uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
	size_t n = 0, i = 0;

	do {
		tmp[n++] = (char)('0' + u % 10);
		u /= 10;
	} while (u > 0);
	if (v < 0)
		buf[i++] = '-';
	while (n > 0)
		buf[i++] = tmp[--n];
	buf[i] = '\0';
}

/* The record's fingerprint: every stored value, in document order,
 * chained onto h. */
static uint64_t
rec_hash(uint64_t h, const struct dmarc_record *r)
{
	char num[32];
	size_t i;

	decimal(num, r->count);
	h = fnv(fnv(fnv(h, r->source_ip), num), r->disposition);
	h = fnv(fnv(fnv(h, r->dkim), r->spf), r->header_from);
	h = fnv(fnv(h, r->envelope_from), r->envelope_to);
	for (i = 0; i < r->nreasons; i++)
		h = fnv(fnv(h, r->reasons[i].type), r->reasons[i].comment);
	for (i = 0; i < r->ndkim; i++)
		h = fnv(fnv(fnv(h, r->dkim_results[i].domain),
			    r->dkim_results[i].selector),
		    r->dkim_results[i].result);
	for (i = 0; i < r->nspf; i++)
		h = fnv(fnv(fnv(h, r->spf_results[i].domain),
			    r->spf_results[i].scope),
		    r->spf_results[i].result);
	return h;
}

/* Adds the record to the report's totals.  Counts are bounded by 2^53 (a
 * double holds every integer up to there, so JSON and every summary stay
 * exact) and so is their sum, which therefore never wraps. */
static int
rec_count(struct parser *p, const struct dmarc_record *r)
{
	if ((uint64_t)r->count > COUNT_MAX) {
		fail(p, "record count %lld at line %lu is larger than 2^53: "
			"not a real count (refused rather than stored "
			"wrapped)",
		    (long long)r->count, r->line);
		return -1;
	}
	if (p->res->messages + (uint64_t)r->count > COUNT_MAX) {
		fail(p, "the record counts add up to more than 2^53 messages "
			"by line %lu: not a real report (refused rather than "
			"stored wrapped)",
		    r->line);
		return -1;
	}
	p->res->messages += (uint64_t)r->count;
	p->res->records++;
	/* Order-independent: the sum of the records' mixed hashes, so the
	 * same records in another order are the same report.  The chained
	 * hash of earlier versions is kept for reports they stored. */
	p->res->hash += mix64(rec_hash(FNV1A_BASIS, r));
	p->res->hash_ordered = rec_hash(p->res->hash_ordered, r);
	return 0;
}

static void
rec_warn(struct parser *p, const struct rec *r)
{
	if (!r->row_seen)
		warn_add(&p->res->warnings, "norow",
		    "record at line %lu has no <row>", r->line);
	if (!r->count_seen && r->row_seen)
		warn_add(&p->res->warnings, "nocount",
		    "record at line %lu has no count, taken as 0", r->line);
	if (r->ip == NOFF && r->row_seen)
		warn_add(&p->res->warnings, "noip",
		    "record at line %lu has no usable source_ip (count %lld); "
		    "stored without an address",
		    r->line, (long long)r->count);
}

/* Builds the record from its arena offsets into out. */
static void
rec_build(struct parser *p, struct dmarc_record *out)
{
	struct rec *r = &p->rec;
	size_t i;

	memset(out, 0, sizeof(*out));
	out->line = r->line;
	out->source_ip = arena_get(p, r->ip);
	out->count = r->count;
	out->disposition = arena_get(p, r->disp);
	out->dkim = arena_get(p, r->pe_dkim);
	out->spf = arena_get(p, r->pe_spf);
	out->header_from = arena_get(p, r->hf);
	out->envelope_from = arena_get(p, r->ef);
	out->envelope_to = arena_get(p, r->et);
	for (i = 0; i < r->nreasons; i++) {
		p->reasons[i].type = arena_get(p, r->reasons[i].type);
		p->reasons[i].type_original = arena_get(p, r->reasons[i].orig);
		p->reasons[i].comment = arena_get(p, r->reasons[i].comment);
	}
	for (i = 0; i < r->ndkim; i++) {
		p->dkim[i].domain = arena_get(p, r->dkim[i].domain);
		p->dkim[i].selector = arena_get(p, r->dkim[i].selector);
		p->dkim[i].result = arena_get(p, r->dkim[i].result);
		p->dkim[i].human_result = arena_get(p, r->dkim[i].human);
	}
	for (i = 0; i < r->nspf; i++) {
		p->spf[i].domain = arena_get(p, r->spf[i].domain);
		p->spf[i].scope = arena_get(p, r->spf[i].scope);
		p->spf[i].result = arena_get(p, r->spf[i].result);
		p->spf[i].human_result = arena_get(p, r->spf[i].human);
	}
	out->reasons = p->reasons;
	out->nreasons = r->nreasons;
	out->dkim_results = p->dkim;
	out->ndkim = r->ndkim;
	out->spf_results = p->spf;
	out->nspf = r->nspf;
}

static void
rec_finish(struct parser *p)
{
	struct rec *r = &p->rec;
	struct dmarc_record out;
	struct err e;

	if (p->failed)
		return;
	if (ensure_out(p, (void **)&p->reasons, &p->capreasons, r->nreasons,
		sizeof(*p->reasons)) == -1 ||
	    ensure_out(p, (void **)&p->dkim, &p->capdkim, r->ndkim,
		sizeof(*p->dkim)) == -1 ||
	    ensure_out(p, (void **)&p->spf, &p->capspf, r->nspf,
		sizeof(*p->spf)) == -1)
		return;
	rec_warn(p, r);
	rec_build(p, &out);
	if (rec_count(p, &out) == -1)
		return;
	if (p->h->record != NULL && p->h->record(p->h->arg, &out, &e) == -1) {
		err_set(p->e, "%s", e.msg);
		p->failed = p->handler_failed = 1;
		xmlStopParser(p->ctxt);
	}
}

/* ---------------------------------------------------------------------
 * Leaf values
 */

static const char *
leaf_name(enum state st)
{
	size_t i;

	for (i = 0; i < sizeof(edges) / sizeof(edges[0]); i++)
		if (edges[i].child == st)
			return edges[i].name;
	return "?";
}

/* Returns 1 if this leaf was already read in its scope (first one wins). */
static int
seen_before(struct parser *p, enum state st)
{
	if (p->seen[st]) {
		warn_add(&p->res->warnings, "dupfield",
		    "duplicate <%s> at line %lu ignored (the first is used)",
		    leaf_name(st), cur_line(p));
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
	    what, w, cur_line(p));
	return w;
}

static const char *const w_disposition[] = {"none", "quarantine", "reject",
    "pass", NULL};
static const char *const w_policy[] = {"none", "quarantine", "reject", NULL};
static const char *const w_align[] = {"r", "s", NULL};
static const char *const w_passfail[] = {"pass", "fail", NULL};
static const char *const w_dkim[] = {"none", "pass", "fail", "policy",
    "neutral", "temperror", "permerror", NULL};
static const char *const w_spf[] = {"none", "neutral", "pass", "fail",
    "softfail", "policy", "temperror", "permerror", NULL};
static const char *const w_scope[] = {"mfrom", "helo", NULL};

/* Seconds since the epoch of 9999-12-31T23:59:59Z: later dates are not
 * dates a report can mean. */
#define EPOCH_MAX INT64_C(253402300799)
/* From here on a date in seconds would be after the year 5138: such a
 * value is a date in milliseconds (Java's currentTimeMillis()). */
#define EPOCH_MS_FROM INT64_C(100000000000)
#define EPOCH_2000 INT64_C(946684800)

static void
set_date(struct parser *p, char *v, int64_t *dst, int *has, const char *which)
{
	int64_t t;

	if ((v = norm_trim(v)) == NULL)
		return;
	if (norm_uint(v, 1, &t) == -1) {
		fail(p, "date_range/%s '%.40s' is not a number of seconds",
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
		fail(p, "date_range/%s %.40s is after the year 9999 (even as "
			"milliseconds): not a date",
		    which, v);
		return;
	}
	if (t < EPOCH_2000 && strcmp(which, "begin") == 0)
		warn_add(&p->res->warnings, "old",
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
		fail(p, "%s contains %s: not a domain name", what, bad);
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
		fail(p, "record at line %lu has an empty <count>: the number "
			"of messages is unknown",
		    r->line);
		return;
	}
	if (norm_uint(v, 1, &n) == -1) {
		fail(p, "record count '%.40s' is not a number", v);
		return;
	}
	if ((dot = strchr(v, '.')) != NULL &&
	    strspn(dot + 1, "0") != strlen(dot + 1)) {
		fail(p, "record count '%.40s' is not a whole number of "
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
		hdr_set(p, HF_VERSION, norm_trim(v));
		break;
	case ST_META_ORG:
		hdr_set(p, HF_ORG, norm_trim(v));
		break;
	case ST_META_EMAIL:
		hdr_set(p, HF_EMAIL, norm_trim(v));
		break;
	case ST_META_EXTRA:
		hdr_set(p, HF_EXTRA, norm_trim(v));
		break;
	case ST_META_ID:
		hdr_set(p, HF_ID, norm_report_id(v));
		break;
	case ST_META_GEN:
		hdr_set(p, HF_GEN, norm_trim(v));
		break;
	case ST_DATE_BEGIN:
		set_date(p, v, &p->meta.begin, &p->meta.has_begin, "begin");
		break;
	case ST_DATE_END:
		set_date(p, v, &p->meta.end, &p->meta.has_end, "end");
		break;
	case ST_POL_DOMAIN:
		hdr_set(p, HF_DOMAIN, domain(p, v, "policy_published/domain"));
		break;
	case ST_POL_ADKIM:
		hdr_set(p, HF_ADKIM,
		    known_word(p, norm_word(v), w_align, "adkim"));
		break;
	case ST_POL_ASPF:
		hdr_set(p, HF_ASPF, known_word(p, norm_word(v), w_align, "aspf"));
		break;
	case ST_POL_P:
		hdr_set(p, HF_P, known_word(p, norm_word(v), w_policy, "policy"));
		break;
	case ST_POL_SP:
		hdr_set(p, HF_SP, known_word(p, norm_word(v), w_policy, "policy"));
		break;
	case ST_POL_NP:
		hdr_set(p, HF_NP, known_word(p, norm_word(v), w_policy, "policy"));
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
		hdr_set(p, HF_FO, norm_trim(v));
		break;
	case ST_POL_TESTING:
		hdr_set(p, HF_TESTING, norm_word(v));
		break;
	case ST_POL_DISC:
		hdr_set(p, HF_DISC, norm_word(v));
		break;
	default:
		break;
	}
}

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
			r->ip = arena_put(p, ip);
		else
			warn_add(&p->res->warnings, "badip",
			    "source_ip '%.60s' at line %lu is not an IP "
			    "address; stored without an address",
			    v, cur_line(p));
		break;
	case ST_ROW_COUNT:
		set_count(p, v);
		break;
	case ST_PE_DISP:
		w = known_word(p, norm_word(v), w_disposition, "disposition");
		r->disp = arena_put(p, w);
		break;
	case ST_PE_DKIM:
		w = known_word(p, norm_word(v), w_passfail, "dmarc result");
		r->pe_dkim = arena_put(p, w);
		break;
	case ST_PE_SPF:
		w = known_word(p, norm_word(v), w_passfail, "dmarc result");
		r->pe_spf = arena_put(p, w);
		break;
	case ST_REASON_TYPE:
		if ((v = norm_word(v)) == NULL)
			break;
		if ((w = norm_reason_type(v)) != NULL) {
			r->reasons[r->nreasons - 1].type = arena_put(p, w);
		} else {
			r->reasons[r->nreasons - 1].type = arena_put(p, "other");
			r->reasons[r->nreasons - 1].orig = arena_put(p, v);
		}
		break;
	case ST_REASON_COMMENT:
		r->reasons[r->nreasons - 1].comment = arena_put(p, norm_trim(v));
		break;
	case ST_ID_HF:
		r->hf = arena_put(p, domain(p, v, "header_from"));
		break;
	case ST_ID_EF:
		r->ef = arena_put(p, domain(p, v, "envelope_from"));
		break;
	case ST_ID_ET:
		r->et = arena_put(p, domain(p, v, "envelope_to"));
		break;
	case ST_ADKIM_DOMAIN:
		r->dkim[r->ndkim - 1].domain =
		    arena_put(p, domain(p, v, "auth_results/dkim/domain"));
		break;
	case ST_ADKIM_SEL:
		r->dkim[r->ndkim - 1].selector = arena_put(p, norm_trim(v));
		break;
	case ST_ADKIM_RESULT:
		w = norm_auth_result(norm_word(v), 0);
		w = known_word(p, (char *)w, w_dkim, "dkim result");
		r->dkim[r->ndkim - 1].result = arena_put(p, w);
		break;
	case ST_ADKIM_HUMAN:
		r->dkim[r->ndkim - 1].human = arena_put(p, norm_trim(v));
		break;
	case ST_ASPF_DOMAIN:
		r->spf[r->nspf - 1].domain =
		    arena_put(p, domain(p, v, "auth_results/spf/domain"));
		break;
	case ST_ASPF_SCOPE:
		w = known_word(p, norm_word(v), w_scope, "spf scope");
		r->spf[r->nspf - 1].scope = arena_put(p, w);
		break;
	case ST_ASPF_RESULT:
		w = norm_auth_result(norm_word(v), 1);
		w = known_word(p, (char *)w, w_spf, "spf result");
		r->spf[r->nspf - 1].result = arena_put(p, w);
		break;
	case ST_ASPF_HUMAN:
		r->spf[r->nspf - 1].human = arena_put(p, norm_trim(v));
		break;
	default:
		break;
	}
}

static void
leaf_end(struct parser *p, enum state st)
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

/* ---------------------------------------------------------------------
 * SAX callbacks
 */

static enum state
child_state(struct parser *p, enum state parent, const xmlChar *name)
{
	size_t i;

	/* Element names come from libxml2's dictionary, which interns each
	 * name once: comparing pointers is enough (see intern_names()). */
	for (i = p->first_edge[parent]; i < p->end_edge[parent]; i++)
		if (p->edge_name[i] == name)
			return (enum state)edges[i].child;
	return ST_SKIP;
}

/* Looks our element names up in the parser's dictionary once per
 * document.  Edges are grouped by parent in the table. */
static void
intern_names(struct parser *p)
{
	size_t i, n = sizeof(edges) / sizeof(edges[0]);

	memset(p->first_edge, 0, sizeof(p->first_edge));
	memset(p->end_edge, 0, sizeof(p->end_edge));
	for (i = 0; i < n; i++) {
		p->edge_name[i] = xmlDictLookup(p->ctxt->dict,
		    (const xmlChar *)edges[i].name, -1);
		if (p->end_edge[edges[i].parent] == 0)
			p->first_edge[edges[i].parent] = i;
		p->end_edge[edges[i].parent] = i + 1;
	}
}

/* Entering a container: duplicates and per-scope bookkeeping. */
static enum state
enter(struct parser *p, enum state parent, enum state st, const char *name,
    const char *uri)
{
	struct rec *r = &p->rec;

	switch (st) {
	case ST_FEEDBACK:
		if (p->feedback_seen) {
			warn_add(&p->res->warnings, "feedback2",
			    "second <feedback> at line %lu ignored",
			    cur_line(p));
			return ST_SKIP;
		}
		p->feedback_seen = 1;
		hdr_set(p, HF_XMLNS, uri);
		if (parent == ST_WRAPPER)
			warn_add(&p->res->warnings, "wrapper",
			    "report wrapped in a stray <%s> element",
			    p->wrapper);
		break;
	case ST_META:
		if (p->meta_seen) {
			warn_add(&p->res->warnings, "dupmeta",
			    "duplicate <report_metadata> at line %lu ignored "
			    "(the first is used)",
			    cur_line(p));
			return ST_SKIP;
		}
		p->meta_seen = 1;
		break;
	case ST_POL:
		if (p->pol_seen) {
			warn_add(&p->res->warnings, "duppol",
			    "duplicate <policy_published> at line %lu ignored "
			    "(the first is used)",
			    cur_line(p));
			return ST_SKIP;
		}
		p->pol_seen = 1;
		break;
	case ST_DATE:
		if (p->date_seen) {
			warn_add(&p->res->warnings, "dupdate",
			    "duplicate <%s> ignored", name);
			return ST_SKIP;
		}
		p->date_seen = 1;
		break;
	case ST_REC:
		if (p->res->records >= p->lim.max_records) {
			fail(p, "more than %llu records in one report "
				"(limit --max-records)",
			    (unsigned long long)p->lim.max_records);
			return ST_SKIP;
		}
		if (!p->begun)
			call_begin(p, p->meta_done && p->pol_done);
		rec_reset(p);
		break;
	case ST_ROW:
	case ST_IDS:
	case ST_AUTH: {
		int *flag = st == ST_ROW ? &r->row_seen
		    : st == ST_IDS	 ? &r->ids_seen
					 : &r->auth_seen;
		if (*flag) {
			warn_add(&p->res->warnings, "duprow",
			    "duplicate <%s> in the record at line %lu ignored "
			    "(the first is used)",
			    name, r->line);
			return ST_SKIP;
		}
		*flag = 1;
		break;
	}
	case ST_REASON: {
		struct off_reason *o = grow(p, (void **)&r->reasons,
		    &r->nreasons, &r->capreasons, sizeof(*o), "reason");
		if (o == NULL)
			return ST_SKIP;
		o->type = o->orig = o->comment = NOFF;
		memset(p->seen + ST_REASON_TYPE, 0, 2);
		break;
	}
	case ST_ADKIM: {
		struct off_dkim *o = grow(p, (void **)&r->dkim, &r->ndkim,
		    &r->capdkim, sizeof(*o), "dkim");
		if (o == NULL)
			return ST_SKIP;
		o->domain = o->selector = o->result = o->human = NOFF;
		memset(p->seen + ST_ADKIM_DOMAIN, 0, 4);
		break;
	}
	case ST_ASPF: {
		struct off_spf *o = grow(p, (void **)&r->spf, &r->nspf,
		    &r->capspf, sizeof(*o), "spf");
		if (o == NULL)
			return ST_SKIP;
		o->domain = o->scope = o->result = o->human = NOFF;
		memset(p->seen + ST_ASPF_DOMAIN, 0, 4);
		break;
	}
	default:
		break;
	}
	return st;
}

/* Salvage: a <record> (or another part of <feedback>) that starts while
 * a previous part is still open closes that part first, as its writer
 * meant.  libxml2's recovery nests it inside the unclosed one, where it
 * would be skipped with every record after it. */
static void
close_unclosed(struct parser *p, const char *name)
{
	unsigned k, i;
	size_t e;

	for (k = 0; k < p->depth && p->stack[k] != ST_FEEDBACK; k++)
		;
	if (k + 1 >= p->depth)
		return; /* no <feedback>, or nothing open inside it */
	for (i = k + 1; i < p->depth; i++)
		if (p->stack[i] == ST_SKIP || p->stack[i] == ST_WRAPPER)
			return; /* inside something we do not read */
	for (e = p->first_edge[ST_FEEDBACK]; e < p->end_edge[ST_FEEDBACK]; e++)
		if (strcmp(edges[e].name, name) == 0)
			break;
	if (e == p->end_edge[ST_FEEDBACK])
		return;
	warn_add(&p->res->warnings, "unclosed",
	    "<%s> at line %lu starts before the previous <%s> was closed; "
	    "closed it there",
	    name, cur_line(p), p->names[k + 1]);
	while (p->depth > k + 1 && !p->failed)
		pop_one(p);
}

static void
on_start(void *ctx, const xmlChar *localname, const xmlChar *prefix,
    const xmlChar *uri, int nns, const xmlChar **ns, int nattr, int ndef,
    const xmlChar **attrs)
{
	struct parser *p = ctx;
	const char *name = (const char *)localname;
	enum state parent, st;

	(void)prefix;
	(void)ns;
	(void)nattr;
	(void)ndef;
	(void)attrs;
	if (p->failed)
		return;
	if (p->mode == PARSE_SALVAGE)
		close_unclosed(p, name);
	if (p->depth >= p->lim.max_depth) {
		fail(p, "elements nested deeper than %u levels (limit "
			"--max-depth)",
		    p->lim.max_depth);
		return;
	}
	if (nns < 0 || p->ns_in_scope + (unsigned)nns > MAX_NS_IN_SCOPE) {
		fail(p, "more than %d XML namespace declarations in scope: "
			"not a report (and too slow to parse)",
		    MAX_NS_IN_SCOPE);
		return;
	}
	parent = p->depth ? (enum state)p->stack[p->depth - 1] : ST_DOC;
	if (p->depth == 0)
		snprintf(p->root, sizeof(p->root), "%s", name);

	if (parent == ST_DOC || parent == ST_WRAPPER) {
		if (strcmp(name, "feedback") == 0 && !p->feedback_seen) {
			st = ST_FEEDBACK;
		} else if (!p->feedback_seen) {
			/* Possibly a stray wrapper (<xs:schema>) around the
			 * report; look inside it. */
			st = ST_WRAPPER;
			if (p->wrapper[0] == '\0')
				snprintf(p->wrapper, sizeof(p->wrapper), "%s%s%s",
				    prefix ? (const char *)prefix : "",
				    prefix ? ":" : "", name);
		} else {
			st = ST_SKIP;
		}
	} else if (parent == ST_SKIP || parent >= ST_TEXT_FIRST) {
		st = ST_SKIP;
	} else {
		st = child_state(p, parent, localname);
	}
	if (st != ST_SKIP && st != ST_WRAPPER)
		st = enter(p, parent, st, name, (const char *)uri);
	if (p->failed)
		return;
	if (p->mode == PARSE_SALVAGE)
		snprintf(p->names[p->depth], sizeof(p->names[0]), "%s", name);
	p->nsdecl[p->depth] = (unsigned short)nns;
	p->ns_in_scope += (unsigned)nns;
	p->stack[p->depth++] = (unsigned char)st;
	if (st >= ST_TEXT_FIRST)
		buf_reset(&p->text);
}

/* Closes the innermost open element. */
static void
pop_one(struct parser *p)
{
	enum state st = (enum state)p->stack[--p->depth];

	p->ns_in_scope -= p->nsdecl[p->depth];

	if (st >= ST_TEXT_FIRST) {
		leaf_end(p, st);
		return;
	}
	switch (st) {
	case ST_META:
		p->meta_done = 1;
		break;
	case ST_POL:
		p->pol_done = 1;
		break;
	case ST_REC:
		rec_finish(p);
		break;
	case ST_FEEDBACK:
		p->feedback_done = 1;
		if (p->depth == 0 && p->mode == PARSE_STRICT)
			p->root_end = (uint64_t)xmlByteConsumed(p->ctxt);
		if (!p->begun)
			call_begin(p, 1);
		else if (!p->begun_complete)
			meta_check(p);
		break;
	default:
		break;
	}
}

static void
on_end(void *ctx, const xmlChar *localname, const xmlChar *prefix,
    const xmlChar *uri)
{
	struct parser *p = ctx;
	const char *name = (const char *)localname;
	unsigned k;

	(void)prefix;
	(void)uri;
	if (p->failed || p->depth == 0)
		return;
	if (p->mode == PARSE_SALVAGE) {
		/* After a tag mismatch libxml2's recovery closes its own
		 * innermost element, which is not the one the document
		 * closed: follow the document (the end tag named in the
		 * mismatch error) and ignore end tags that match nothing. */
		if (p->real_end[0] != '\0')
			name = p->real_end;
		for (k = p->depth; k > 0; k--)
			if (strncmp(p->names[k - 1], name,
				sizeof(p->names[0]) - 1) == 0)
				break;
		p->real_end[0] = '\0';
		if (k == 0)
			return;
		while (p->depth >= k && !p->failed)
			pop_one(p);
		return;
	}
	pop_one(p);
}

static void
on_chars(void *ctx, const xmlChar *ch, int len)
{
	struct parser *p = ctx;
	struct err e;
	enum state st;

	if (p->failed || p->depth == 0)
		return;
	st = (enum state)p->stack[p->depth - 1];
	if (st < ST_TEXT_FIRST)
		return;
	if (p->text.len + (size_t)len > p->lim.max_text) {
		fail(p, "text of <%s> is longer than %zu bytes (limit "
			"--max-text)", leaf_name(st),
		    p->lim.max_text);
		return;
	}
	if (buf_append(&p->text, ch, (size_t)len, &e) == -1)
		fail(p, "%s", e.msg);
}

static void
on_entity_decl(void *ctx, const xmlChar *name, int type,
    const xmlChar *public_id, const xmlChar *system_id, xmlChar *content)
{
	struct parser *p = ctx;

	(void)type;
	(void)public_id;
	(void)system_id;
	(void)content;
	/* No report needs entities; declaring them is how entity-expansion
	 * ("billion laughs") and external-entity (XXE) attacks start. */
	fail(p, "the document declares the entity '%.40s': entity "
		"declarations are refused (possible entity-expansion or "
		"external-entity attack)",
	    (const char *)name);
}

static void
on_reference(void *ctx, const xmlChar *name)
{
	struct parser *p = ctx;

	fail(p, "entity reference &%.40s; refused", (const char *)name);
}

/* 1 when the error is libxml2 meeting the start of a second document
 * after the report's </feedback> (an XML declaration or a start tag):
 * two reports one after the other in one file, or the members of a
 * multi-member gzip.  Only a strict parse of a report that is its own root
 * splits there. */
static int
another_document(const struct parser *p, const xmlError *err)
{
	const xmlChar *c;

	if (p->mode != PARSE_STRICT || !p->feedback_done || p->depth != 0 ||
	    p->root_end == 0 || p->failed || p->ctxt == NULL ||
	    p->ctxt->input == NULL)
		return 0;
	if (err->code == XML_ERR_RESERVED_XML_NAME)
		return 1; /* "<?xml" again */
	if (err->code != XML_ERR_DOCUMENT_END)
		return 0;
	c = p->ctxt->input->cur;
	return c != NULL && c + 1 < p->ctxt->input->end && c[0] == '<' &&
	       ((c[1] >= 'a' && c[1] <= 'z') || (c[1] >= 'A' && c[1] <= 'Z') ||
		   c[1] == '_' || c[1] >= 0x80);
}

static void
on_error(void *ctx, xmlErrorPtr err)
{
	struct parser *p = ctx;
	size_t n;

	if (err == NULL || err->level < XML_ERR_ERROR)
		return;
	if (err->domain == XML_FROM_NAMESPACE) {
		/* an undeclared prefix does not make a report unreadable */
		warn_add(&p->res->warnings, "ns", "XML namespace error at "
		    "line %d: %.80s", err->line, err->message ? err->message : "");
		return;
	}
	if (err->code == XML_ERR_NO_MEMORY && p->ctxt != NULL &&
	    xmlDictGetUsage(p->ctxt->dict) >= NAMES_LIMIT) {
		/* the dictionary refused a name (xmlDictSetLimit) */
		fail(p, "the document uses more than %u bytes of distinct "
			"names: not a report (and too slow to parse)",
		    NAMES_LIMIT);
		return;
	}
	if (another_document(p, err)) {
		/* not a defect of this report: the caller parses the next
		 * document from res->next_doc on */
		p->res->next_doc = p->root_end;
		xmlStopParser(p->ctxt);
		return;
	}
	if (p->mode == PARSE_SALVAGE && err->code == XML_ERR_TAG_NAME_MISMATCH &&
	    err->str2 != NULL)
		snprintf(p->real_end, sizeof(p->real_end), "%s", err->str2);
	if (!p->xml_error) {
		p->xml_error = 1;
		p->xml_line = (unsigned long)err->line;
		p->xml_col = (unsigned long)err->int2;
		snprintf(p->xml_msg, sizeof(p->xml_msg), "%s",
		    err->message ? err->message : "malformed XML");
		p->xml_msg[strcspn(p->xml_msg, "\n")] = '\0';
		n = strlen(p->xml_msg);
		while (n > 0 && (p->xml_msg[n - 1] == '\n' ||
				    p->xml_msg[n - 1] == ' '))
			p->xml_msg[--n] = '\0';
	}
	if (p->mode == PARSE_STRICT && p->ctxt != NULL)
		xmlStopParser(p->ctxt);
}

/* libxml2 reports a few errors, bytes invalid in the declared encoding
 * above all, only through its generic handler, which prints them on stderr
 * ("input conversion failed due to input error, bytes 0xA0...") and leaves
 * the parse to end as if the document were cut short.  They are taken as the document's
 * defect instead: the first line of the first one. */
static void
on_generic(void *ctx, const char *fmt, ...)
{
	struct parser *p = ctx;
	char piece[200];
	const char *msg;
	va_list ap;
	size_t n;

	va_start(ap, fmt);
	vsnprintf(piece, sizeof(piece), fmt, ap);
	va_end(ap);
	n = strlen(p->generic);
	snprintf(p->generic + n, sizeof(p->generic) - n, "%s", piece);
	if (strchr(p->generic, '\n') == NULL &&
	    strlen(p->generic) < sizeof(p->generic) - 1)
		return; /* the line goes on in the next piece */
	p->generic[strcspn(p->generic, "\n")] = '\0';
	if (!p->xml_error && p->generic[0] != '\0') {
		msg = strstr(p->generic, "conversion failed") != NULL
		    ? "bytes not valid in the declared encoding: "
		    : "";
		p->xml_error = 1;
		p->xml_line = cur_line(p);
		p->xml_col = cur_col(p);
		snprintf(p->xml_msg, sizeof(p->xml_msg), "%s%.150s", msg,
		    p->generic);
		n = strlen(p->xml_msg);
		while (n > 0 && p->xml_msg[n - 1] == ' ')
			p->xml_msg[--n] = '\0';
	}
	p->generic[0] = '\0';
}

/* ---------------------------------------------------------------------
 * Input filter for salvage mode
 */

struct salvage_filter {
	int started;   /* leading white space already dropped */
	int repair;    /* replace invalid UTF-8 */
	int replaced;  /* invalid bytes replaced so far */
	int foreign;   /* the container declared a charset other than UTF-8 */
	unsigned char pend[4];
	size_t npend;
};

/* Length of the UTF-8 sequence starting with byte c, 0 if c cannot start
 * one. */
static size_t
utf8_len(unsigned char c)
{
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		return 2;
	if (c >= 0xe0 && c <= 0xef)
		return 3;
	if (c >= 0xf0 && c <= 0xf4)
		return 4;
	return 0;
}

static int
utf8_valid(const unsigned char *s, size_t n)
{
	size_t i;

	for (i = 1; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	if (n == 3 && s[0] == 0xe0 && s[1] < 0xa0)
		return 0;
	if (n == 3 && s[0] == 0xed && s[1] >= 0xa0)
		return 0; /* surrogates */
	if (n == 4 && s[0] == 0xf0 && s[1] < 0x90)
		return 0;
	if (n == 4 && s[0] == 0xf4 && s[1] >= 0x90)
		return 0;
	return 1;
}

/* Declared encoding of the document, from its XML declaration; 1 when it
 * is UTF-8 or not declared (so invalid UTF-8 can be repaired). */
static int
declares_utf8(const unsigned char *s, size_t n)
{
	char head[256], *enc, q;
	size_t i, k = 0;

	for (i = 0; i < n && k < sizeof(head) - 1; i++) {
		if (s[i] == '>')
			break;
		head[k++] = (char)s[i];
	}
	head[k] = '\0';
	if (strncmp(head, "<?xml", 5) != 0 ||
	    (enc = strstr(head, "encoding")) == NULL)
		return 1;
	enc += 8;
	while (*enc == ' ' || *enc == '=')
		enc++;
	q = *enc++;
	if (q != '"' && q != '\'')
		return 1;
	return strncasecmp(enc, "utf-8", 5) == 0 ||
	       strncasecmp(enc, "utf8", 4) == 0 ||
	       strncasecmp(enc, "us-ascii", 8) == 0;
}

static size_t
put_fffd(unsigned char *out, struct salvage_filter *f)
{
	out[0] = 0xef;
	out[1] = 0xbf;
	out[2] = 0xbd;
	f->replaced++;
	return 3;
}

/* Filters one chunk into out (which must hold 3 * n + 12 bytes).  Returns
 * the number of bytes written.  The output does not depend on how the
 * input is cut into chunks. */
static size_t
salvage_chunk(struct salvage_filter *f, const unsigned char *in, size_t n,
    unsigned char *out, int last)
{
	size_t i = 0, o = 0, need, k, taken;
	unsigned char seq[4];

	if (!f->started) {
		if (n >= 3 && in[0] == 0xef && in[1] == 0xbb && in[2] == 0xbf)
			i = 3;
		while (i < n && (in[i] == ' ' || in[i] == '\t' ||
				    in[i] == '\r' || in[i] == '\n'))
			i++;
		if (i == n && !last)
			return 0;
		f->started = 1;
		f->repair = !f->foreign && declares_utf8(in + i, n - i);
	}
	if (!f->repair) {
		memcpy(out, in + i, n - i);
		return n - i;
	}
	while (f->npend > 0 || i < n) {
		if (f->npend > 0) {
			/* A sequence split across chunks: its first bytes,
			 * from the previous chunk, are in pend (at most 3,
			 * not checked yet, so pend[0] may be a byte left
			 * over from an invalid sequence). */
			need = utf8_len(f->pend[0]);
			if (need <= 1) {
				if (need == 1)
					out[o++] = f->pend[0];
				else
					o += put_fffd(out + o, f);
				memmove(f->pend, f->pend + 1, --f->npend);
				continue;
			}
			memcpy(seq, f->pend, f->npend);
			for (k = f->npend, taken = 0; k < need && i < n; taken++)
				seq[k++] = in[i++];
			if (k < need && !last) {
				/* still incomplete: all of it is pending */
				memcpy(f->pend, seq, k);
				f->npend = k;
				return o;
			}
			if (k == need && utf8_valid(seq, need)) {
				memcpy(out + o, seq, need);
				o += need;
				f->npend = 0;
				continue;
			}
			/* Invalid: replace the lead byte and look again at
			 * what followed it, the bytes taken from this chunk
			 * where they are, the others from pend. */
			o += put_fffd(out + o, f);
			i -= taken;
			memmove(f->pend, f->pend + 1, --f->npend);
			continue;
		}
		need = utf8_len(in[i]);
		if (need == 1) {
			out[o++] = in[i++];
		} else if (need == 0) {
			o += put_fffd(out + o, f);
			i++;
		} else if (i + need > n) {
			memcpy(f->pend, in + i, n - i);
			f->npend = n - i;
			i = n;
		} else if (utf8_valid(in + i, need)) {
			memcpy(out + o, in + i, need);
			o += need;
			i += need;
		} else {
			o += put_fffd(out + o, f);
			i++;
		}
	}
	return o;
}

/* ---------------------------------------------------------------------
 * Driver
 */

struct parser *
parser_new(const struct parse_limits *lim)
{
	struct parser *p;

	xmlInitParser();
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return NULL;
	if (lim != NULL)
		p->lim = *lim;
	else
		parse_limits_default(&p->lim);
	if (p->lim.max_depth == 0 || p->lim.max_depth > 255)
		p->lim.max_depth = 255;
	p->stack = calloc(p->lim.max_depth + 1, 1);
	p->nsdecl = calloc(p->lim.max_depth + 1, sizeof(p->nsdecl[0]));
	p->names = calloc(p->lim.max_depth + 1, sizeof(p->names[0]));
	if (p->stack == NULL || p->nsdecl == NULL || p->names == NULL) {
		free(p->stack);
		free(p->nsdecl);
		free(p->names);
		free(p);
		return NULL;
	}
	buf_init(&p->text, 0);
	/* a real record is a few hundred bytes; this bounds hostile ones */
	buf_init(&p->arena, 1u << 20);
	return p;
}

static void
parser_clear(struct parser *p)
{
	size_t i;

	for (i = 0; i < HF_COUNT; i++) {
		free(p->hdr[i]);
		p->hdr[i] = NULL;
	}
	memset(&p->meta, 0, sizeof(p->meta));
	p->meta.pct = -1;
	p->meta_seen = p->pol_seen = p->meta_done = p->pol_done = 0;
	p->date_seen = p->feedback_seen = p->feedback_done = p->begun = 0;
	p->begun_complete = 0;
	p->wrapper[0] = p->root[0] = p->real_end[0] = '\0';
	memset(p->seen, 0, sizeof(p->seen));
	p->depth = 0;
	p->ns_in_scope = 0;
	p->failed = p->handler_failed = p->xml_error = 0;
	p->xml_msg[0] = '\0';
	p->xml_line = p->xml_col = 0;
	p->root_end = 0;
	p->input_bytes = p->nul_pad = 0;
}

void
parser_free(struct parser *p)
{
	if (p == NULL)
		return;
	parser_clear(p);
	buf_free(&p->text);
	buf_free(&p->arena);
	free(p->rec.reasons);
	free(p->rec.dkim);
	free(p->rec.spf);
	free(p->reasons);
	free(p->dkim);
	free(p->spf);
	free(p->stack);
	free(p->nsdecl);
	free(p->names);
	free(p);
}

int
parser_handler_failed(const struct parser *p)
{
	return p->handler_failed;
}

const struct dmarc_meta *
parser_meta(const struct parser *p)
{
	return &p->meta;
}

static void
sax_init(xmlSAXHandler *sax)
{
	memset(sax, 0, sizeof(*sax));
	sax->initialized = XML_SAX2_MAGIC;
	sax->startElementNs = on_start;
	sax->endElementNs = on_end;
	sax->characters = on_chars;
	sax->cdataBlock = on_chars;
	sax->entityDecl = on_entity_decl;
	sax->reference = on_reference;
	sax->serror = on_error;
	/* Everything else stays NULL: no tree is built, no external
	 * subset or entity is ever resolved. */
}

/* ---------------------------------------------------------------------
 * Start tags with too many attributes
 *
 * libxml2 2.9 checks each attribute of a start tag against all the others
 * before any callback of ours runs: 200,000 attributes (2 MB) take 12 s,
 * the 100 MB --max-input allows would take days.  No report needs more
 * than a few (namespace declarations), so the bytes are watched on their
 * way in and a tag with more than MAX_ATTRS is refused before libxml2 sees
 * it.  The scan follows XML's syntax (quotes, comments, end tags) only as
 * far as needed to count the '=' of a start tag outside its values.
 */

#define MAX_ATTRS 256

enum tag_state { TS_TEXT, TS_OPEN, TS_TAG, TS_QUOTE, TS_OTHER };

struct tag_scan {
	enum tag_state st;
	unsigned char quote;
	unsigned attrs; /* '=' seen in the current start tag */
	int in_name;	/* reading the start tag's name */
	size_t nlen;	/* bytes of its local name so far */
	char name[8];	/* its first bytes */
	uint64_t records; /* <record> start tags: what a salvage could have
			     read, for "N records could not be read" */
};

/* Follows the name of a start tag; at its end, counts it when it is a
 * <record> (with any prefix). */
static void
tag_name(struct tag_scan *t, unsigned char c)
{
	if (c == ':') {
		t->nlen = 0;
	} else if (c == ' ' || c == '\t' || c == '\r' || c == '\n' ||
		   c == '>' || c == '/' || c == '<') {
		t->in_name = 0;
		if (t->nlen == 6 && memcmp(t->name, "record", 6) == 0)
			t->records++;
	} else if (t->nlen < sizeof(t->name)) {
		t->name[t->nlen++] = (char)c;
	}
}

/* Returns -1 when a start tag has more than MAX_ATTRS attributes. */
static int
tag_scan(struct tag_scan *t, const unsigned char *s, size_t n)
{
	size_t i;
	unsigned char c;

	for (i = 0; i < n; i++) {
		c = s[i];
		switch (t->st) {
		case TS_TEXT:
			if (c == '<')
				t->st = TS_OPEN;
			break;
		case TS_OPEN: /* just after '<' */
			t->attrs = 0;
			t->st = c == '!' || c == '?' || c == '/' ? TS_OTHER
			    : c == '<'				    ? TS_OPEN
								    : TS_TAG;
			if (t->st == TS_TAG) {
				t->in_name = 1;
				t->nlen = 0;
				tag_name(t, c);
			}
			break;
		case TS_TAG:
			if (t->in_name)
				tag_name(t, c);
			if (c == '"' || c == '\'') {
				t->quote = c;
				t->st = TS_QUOTE;
			} else if (c == '=' && ++t->attrs > MAX_ATTRS) {
				return -1;
			} else if (c == '>') {
				t->st = TS_TEXT;
			} else if (c == '<') {
				t->st = TS_OPEN;
			}
			break;
		case TS_QUOTE: /* '<' cannot be in a value: a new tag */
			if (c == t->quote)
				t->st = TS_TAG;
			else if (c == '<')
				t->st = TS_OPEN;
			break;
		case TS_OTHER: /* end tag, comment, PI, DOCTYPE, CDATA */
			if (c == '>')
				t->st = TS_TEXT;
			break;
		}
	}
	return 0;
}

/* Reads until the chunk is full or the input ends; 0 only at the end.
 * libxml2's recovery (and the positions in its errors) depend on where
 * chunks end, and a report must get the same result whether it came as a
 * file, in a gzip or in a zip, whose readers cut it differently. */
static ssize_t
fill_chunk(struct reader *in, unsigned char *chunk, int *eof, struct err *e)
{
	size_t got = 0;
	ssize_t n;

	while (got < CHUNK && !*eof) {
		n = in->read(in->ctx, chunk + got, CHUNK - got, e);
		if (n < 0)
			return -1;
		if (n == 0)
			*eof = 1;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

/* What feed() keeps between chunks. */
struct feeder {
	struct salvage_filter sf;
	struct tag_scan ts;
	unsigned char *fbuf; /* salvage: the filtered chunk */
	xmlSAXHandler sax;
	struct buf whole;    /* recover: the whole filtered document */
};

/* Salvage: NUL bytes are binary data, except as padding at the end (a
 * truncated report written into a preallocated file): those are dropped
 * and counted.  Returns the bytes of the chunk to keep, or -1 (e filled)
 * when NUL bytes are followed by data. */
static ssize_t
strip_nul_padding(struct parser *p, const unsigned char *c, size_t n,
    struct err *e)
{
	const unsigned char *z = memchr(c, '\0', n);
	size_t i, keep = z ? (size_t)(z - c) : n;

	if (p->nul_pad > 0 && keep > 0)
		z = c, keep = 0; /* data after padding: not padding */
	for (i = keep; i < n; i++)
		if (c[i] != '\0')
			return err_set(e, "the document contains NUL bytes "
					  "followed by more data (at byte "
					  "%llu): binary data, not a report",
			    (unsigned long long)(p->input_bytes + keep));
	p->nul_pad += n - keep;
	return (ssize_t)keep;
}

/* 1 when the document says its own encoding: a byte order mark, or an
 * XML declaration with encoding="...". */
static int
declares_encoding(const unsigned char *s, size_t n)
{
	size_t i, end;

	if (n >= 2 && ((s[0] == 0xfe && s[1] == 0xff) ||
			  (s[0] == 0xff && s[1] == 0xfe) ||
			  (n >= 3 && s[0] == 0xef && s[1] == 0xbb &&
			      s[2] == 0xbf)))
		return 1;
	if (n < 5 || memcmp(s, "<?xml", 5) != 0)
		return 0;
	for (end = 5; end + 1 < n && !(s[end] == '?' && s[end + 1] == '>');
	     end++)
		;
	for (i = 5; i + 8 <= end; i++)
		if (memcmp(s + i, "encoding", 8) == 0)
			return 1;
	return 0;
}

/* 1 when the container's charset is one libxml2 would not assume. */
static int
foreign_charset(const char *cs)
{
	return cs != NULL && strcasecmp(cs, "utf-8") != 0 &&
	       strcasecmp(cs, "utf8") != 0 && strcasecmp(cs, "us-ascii") != 0;
}

/* RFC 7303: a document without an encoding declaration is in the charset
 * its MIME part declares. */
static void
apply_charset(struct parser *p, const unsigned char *data, size_t len)
{
	xmlCharEncodingHandlerPtr hd;

	if (!foreign_charset(p->charset) || declares_encoding(data, len))
		return;
	if ((hd = xmlFindCharEncodingHandler(p->charset)) == NULL) {
		warn_add(&p->res->warnings, "charset",
		    "unknown MIME charset '%.40s' ignored", p->charset);
		return;
	}
	xmlSwitchToEncoding(p->ctxt, hd);
	warn_add(&p->res->warnings, "charset",
	    "no encoding declaration: read as %.40s, the MIME part's charset",
	    p->charset);
}

/* The push parser, created at the first bytes (libxml2 sniffs the
 * encoding from them). */
static int
push_start(struct parser *p, struct feeder *f, const unsigned char *data,
    size_t len, struct err *e)
{
	sax_init(&f->sax);
	p->ctxt = xmlCreatePushParserCtxt(&f->sax, p, NULL, 0, NULL);
	if (p->ctxt == NULL)
		return err_set(e, "cannot create XML parser");
	apply_charset(p, data, len);
	intern_names(p);
	xmlCtxtUseOptions(p->ctxt,
	    XML_PARSE_NONET |
		(p->mode == PARSE_SALVAGE ? XML_PARSE_RECOVER : 0));
	xmlDictSetLimit(p->ctxt->dict, NAMES_LIMIT);
	return 0;
}

/* Passes one chunk on: to libxml2, or into the whole document when it is
 * to be recovered at once.  Returns 0 to go on, 1 to stop, -1 with e
 * filled. */
static int
feed_chunk(struct parser *p, struct feeder *f, const unsigned char *chunk,
    size_t n, int last, struct err *e)
{
	const unsigned char *data = chunk;
	size_t len = n;
	ssize_t keep;

	if (tag_scan(&f->ts, chunk, n) == -1)
		return err_set(e, "an element has more than %d attributes: "
				  "not a report (and too slow to parse)",
		    MAX_ATTRS);
	if (p->mode == PARSE_SALVAGE) {
		/* recovery must not turn binary data into a report */
		if ((keep = strip_nul_padding(p, chunk, n, e)) < 0)
			return -1;
		len = salvage_chunk(&f->sf, chunk, (size_t)keep, f->fbuf, last);
		data = f->fbuf;
	}
	p->input_bytes += n;
	if (p->recover_whole)
		return buf_append(&f->whole, data, len, e);
	if (p->ctxt == NULL) {
		if (len == 0 && !last)
			return 0;
		if (push_start(p, f, data, len, e) == -1)
			return -1;
	}
	if (p->failed || p->ctxt->instate == XML_PARSER_EOF)
		return 1;
	xmlParseChunk(p->ctxt, (const char *)data, (int)len, last);
	if (p->failed || (p->xml_error && p->mode == PARSE_STRICT))
		return 1;
	return 0;
}

/* Recovery as xmllint --recover does it: the pull parser over the whole
 * (bounded) document.  The push parser stops at some errors even in
 * recover mode (an element name that starts with '<'); this one goes on
 * to the end. */
static int
recover_at_once(struct parser *p, struct feeder *f, struct err *e)
{
	if (f->whole.len > INT32_MAX)
		return err_set(e, "document too large to recover");
	p->ctxt = xmlCreateMemoryParserCtxt(
	    f->whole.data ? f->whole.data : "", (int)f->whole.len);
	if (p->ctxt == NULL)
		return err_set(e, "cannot create XML parser");
	sax_init(&f->sax);
	memcpy(p->ctxt->sax, &f->sax, sizeof(f->sax));
	p->ctxt->userData = p;
	apply_charset(p, (const unsigned char *)f->whole.data, f->whole.len);
	intern_names(p);
	xmlCtxtUseOptions(p->ctxt, XML_PARSE_NONET | XML_PARSE_RECOVER);
	xmlDictSetLimit(p->ctxt->dict, NAMES_LIMIT);
	xmlParseDocument(p->ctxt);
	return 0;
}

/* Feeds the whole input to libxml2.  Returns 0, or -1 when the reader
 * failed (e is filled). */
static int
feed(struct parser *p, struct reader *in, struct err *e)
{
	struct feeder f;
	struct err rest;
	unsigned char *chunk;
	ssize_t n;
	int rc = 0, eof = 0;
	/* the handler is per thread (the pipeline parses on its own) */
	xmlGenericErrorFunc gfunc = xmlGenericError;
	void *gctx = xmlGenericErrorContext;

	memset(&f, 0, sizeof(f));
	buf_init(&f.whole, RECOVER_MAX);
	f.sf.foreign = foreign_charset(p->charset);
	chunk = malloc(CHUNK);
	if (chunk == NULL || (p->mode == PARSE_SALVAGE &&
				 (f.fbuf = malloc(3 * CHUNK + 16)) == NULL)) {
		free(chunk);
		return err_set(e, "out of memory");
	}
	p->generic[0] = '\0';
	xmlSetGenericErrorFunc(p, on_generic);
	while (rc == 0) {
		if ((n = fill_chunk(in, chunk, &eof, e)) < 0)
			rc = -1;
		else
			rc = feed_chunk(p, &f, chunk, (size_t)n, n == 0, e);
		if (n == 0)
			break;
	}
	if (rc == 1)
		rc = 0;
	if (rc == 0 && p->recover_whole)
		rc = recover_at_once(p, &f, e);
	xmlSetGenericErrorFunc(gctx, gfunc);
	/* A salvage that stopped early still counts the records it could
	 * not read, so that the warning says how many were lost. */
	while (p->mode == PARSE_SALVAGE && rc == 0 && !eof &&
	       (n = fill_chunk(in, chunk, &eof, &rest)) > 0)
		(void)tag_scan(&f.ts, chunk, (size_t)n);
	p->record_tags = f.ts.records;
	if (f.sf.replaced > 0)
		warn_add(&p->res->warnings, "utf8",
		    "%d byte(s) not valid UTF-8 replaced with U+FFFD",
		    f.sf.replaced);
	free(chunk);
	free(f.fbuf);
	buf_free(&f.whole);
	return rc;
}

/* One pass over the input: the parse and its verdict.  Long because the
 * verdict is one decision over many cases, each with its message; they
 * read best together. */
static enum parse_status
run_once(struct parser *p, struct reader *in, enum parse_mode mode,
    int recover_whole, const struct parse_handler *h,
    struct parse_result *res, struct err *e)
{
	enum parse_status st = PARSE_OK;
	int rc;

	parser_clear(p);
	memset(res, 0, sizeof(*res));
	res->hash = 0;
	res->hash_ordered = FNV1A_BASIS;
	warn_init(&res->warnings);
	p->mode = mode;
	p->recover_whole = recover_whole;
	p->charset = in->charset;
	p->h = h;
	p->res = res;
	p->e = e;

	rc = feed(p, in, e);
	if (rc == -1) {
		st = PARSE_REJECT; /* the reader's error: truncated gzip, ... */
	} else if (p->failed) {
		st = PARSE_REJECT;
	} else if (p->xml_error && !p->feedback_done) {
		if (mode == PARSE_STRICT && p->feedback_seen) {
			st = PARSE_TRY_SALVAGE;
			snprintf(res->defect, sizeof(res->defect),
			    "not well-formed XML at line %lu:%lu: %s",
			    p->xml_line, p->xml_col, p->xml_msg);
			err_set(e, "%s", res->defect);
		} else if (mode == PARSE_STRICT && p->ctxt != NULL &&
			   p->depth == 0 && p->root[0] == '\0') {
			/* failed before the first element: maybe junk before
			 * the XML declaration, worth a salvage pass */
			st = PARSE_TRY_SALVAGE;
			snprintf(res->defect, sizeof(res->defect),
			    "not well-formed XML at line %lu:%lu: %s",
			    p->xml_line, p->xml_col, p->xml_msg);
			err_set(e, "%s", res->defect);
		} else if (p->feedback_seen) {
			st = PARSE_REJECT;
			err_set(e,
			    "not well-formed XML at line %lu:%lu: %s; the "
			    "report could not be salvaged (</feedback> never "
			    "reached)",
			    p->xml_line, p->xml_col, p->xml_msg);
		} else {
			st = PARSE_REJECT;
			err_set(e, "not XML: line %lu:%lu: %s", p->xml_line,
			    p->xml_col, p->xml_msg);
		}
	} else if (!p->feedback_seen) {
		st = PARSE_REJECT;
		if (p->root[0] != '\0')
			err_set(e,
			    "root element <%s> is not <feedback>: not a DMARC "
			    "aggregate report",
			    p->root);
		else
			err_set(e, "no XML element found: not a DMARC "
				   "aggregate report");
	} else if (!p->feedback_done) {
		st = PARSE_REJECT;
		err_set(e, "the report is truncated: </feedback> is missing");
	} else {
		/* A complete report.  Errors after </feedback> (an unclosed
		 * wrapper, trailing junk) or fixed by recovery make it a
		 * salvaged one. */
		if (p->xml_error) {
			res->salvaged = 1;
			if (res->defect[0] == '\0')
				snprintf(res->defect, sizeof(res->defect),
				    "not well-formed XML at line %lu:%lu: %s",
				    p->xml_line, p->xml_col, p->xml_msg);
		}
		if (p->wrapper[0] != '\0' && !res->salvaged) {
			res->salvaged = 1;
			snprintf(res->defect, sizeof(res->defect),
			    "report wrapped in a stray <%s> element",
			    p->wrapper);
		}
		if (mode == PARSE_SALVAGE)
			res->salvaged = 1;
		if (mode == PARSE_SALVAGE && p->record_tags > res->records)
			res->lost = p->record_tags - res->records;
	}
	if (p->ctxt != NULL) {
		/* libxml2 builds a document to hold a DTD's declarations
		 * ("expat compatibility") even in SAX mode; it is ours to free */
		if (p->ctxt->myDoc != NULL)
			xmlFreeDoc(p->ctxt->myDoc);
		p->ctxt->myDoc = NULL;
		xmlFreeParserCtxt(p->ctxt);
		p->ctxt = NULL;
	}
	return st;
}

/* Bytes read ahead, then the rest of the input. */
struct replay {
	const unsigned char *data;
	size_t len, pos;
	struct reader *rest; /* NULL: the data is all of it */
};

static ssize_t
replay_read(void *ctx, void *out, size_t n, struct err *e)
{
	struct replay *r = ctx;

	if (r->pos == r->len)
		return r->rest ? r->rest->read(r->rest->ctx, out, n, e) : 0;
	if (n > r->len - r->pos)
		n = r->len - r->pos;
	memcpy(out, r->data + r->pos, n);
	r->pos += n;
	return (ssize_t)n;
}

/* Salvage.  A document of at most RECOVER_MAX bytes is read first and
 * parsed without the handler: when libxml2's push parser recovers it to
 * </feedback>, the real pass is that same parse; when it stops early (it
 * does at some errors even in recover mode), the real pass recovers the
 * whole document at once, as xmllint --recover does.  A larger document
 * gets the push parse only (its memory must not grow with its size). */
static enum parse_status
salvage(struct parser *p, struct reader *in, const struct parse_handler *h,
    struct parse_result *res, struct err *e)
{
	static const struct parse_handler dry = {NULL, NULL, NULL};
	struct replay rp;
	struct reader rd = {replay_read, &rp, in->charset};
	struct buf ahead;
	enum parse_status st;
	unsigned char chunk[4096];
	ssize_t n = 1;
	int whole;

	buf_init(&ahead, 0);
	while (ahead.len <= RECOVER_MAX &&
	       (n = in->read(in->ctx, chunk, sizeof(chunk), e)) > 0)
		if (buf_append(&ahead, chunk, (size_t)n, e) == -1) {
			n = -1;
			break;
		}
	if (n < 0) {
		buf_free(&ahead);
		return PARSE_REJECT;
	}
	rp.data = (const unsigned char *)ahead.data;
	rp.len = ahead.len;
	rp.pos = 0;
	rp.rest = n == 0 ? NULL : in;
	whole = 0;
	if (rp.rest == NULL) {
		st = run_once(p, &rd, PARSE_SALVAGE, 0, &dry, res, e);
		whole = !p->feedback_done && !p->failed;
		rp.pos = 0;
	}
	st = run_once(p, &rd, PARSE_SALVAGE, whole, h, res, e);
	buf_free(&ahead);
	return st;
}

enum parse_status
parser_run(struct parser *p, struct reader *in, enum parse_mode mode,
    const struct parse_handler *h, struct parse_result *res, struct err *e)
{
	enum parse_status st;
	char msg[ERR_MSG_MAX];

	if (mode == PARSE_SALVAGE)
		st = salvage(p, in, h, res, e);
	else
		st = run_once(p, in, mode, 0, h, res, e);
	if (st == PARSE_REJECT && p->nul_pad > 0 && !p->handler_failed) {
		/* what the input really is: a report cut short, padded */
		snprintf(msg, sizeof(msg), "%.900s (the document ends in %llu "
		    "NUL bytes of padding)", e->msg,
		    (unsigned long long)p->nul_pad);
		err_set(e, "%s", msg);
	}
	return st;
}

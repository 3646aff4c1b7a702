/*
 * test_parser2.c - the parser against issue 17's smaller items, issue 10's
 * counts and issue 11's salvage: each case fails on the parser before them.
 */
#include "check.h"
#include "hash.h"
#include "normalize.h"
#include "parser.h"

struct mem {
	const char *p;
	size_t len, pos;
};

static ssize_t
mem_read(void *ctx, void *buf, size_t n, struct err *e)
{
	struct mem *m = ctx;

	(void)e;
	if (n > m->len - m->pos)
		n = m->len - m->pos;
	memcpy(buf, m->p + m->pos, n);
	m->pos += n;
	return (ssize_t)n;
}

struct got {
	enum parse_status st;
	struct err e;
	struct parse_result res;
	char domain[64], hf[64], warnings[2048];
	long long begin, end, count0;
	size_t nrec;
};

static int
on_record(void *arg, const struct dmarc_record *r, struct err *e)
{
	struct got *g = arg;

	(void)e;
	if (g->nrec++ == 0) {
		g->count0 = r->count;
		snprintf(g->hf, sizeof(g->hf), "%s",
		    r->header_from ? r->header_from : "(null)");
	}
	return 0;
}

/* Strict, then salvage when asked, as the importer does. */
static struct got *
parse(const char *xml)
{
	struct got *g = test_track(calloc(1, sizeof(*g)));
	struct parser *p = parser_new(NULL);
	struct parse_handler h = {g, NULL, on_record};
	struct mem m = {xml, strlen(xml), 0};
	struct reader r = {mem_read, &m, NULL};
	const struct dmarc_meta *mt;

	g->st = parser_run(p, &r, PARSE_STRICT, &h, &g->res, &g->e);
	if (g->st == PARSE_TRY_SALVAGE) {
		g->nrec = 0;
		m.pos = 0;
		g->st = parser_run(p, &r, PARSE_SALVAGE, &h, &g->res, &g->e);
	}
	mt = parser_meta(p);
	snprintf(g->domain, sizeof(g->domain), "%s",
	    mt->domain ? mt->domain : "(null)");
	g->begin = mt->begin;
	g->end = mt->end;
	warn_format(&g->res.warnings, g->warnings, sizeof(g->warnings));
	parser_free(p);
	return g;
}

#define HEAD(begin, end, domain)                                             \
	"<?xml version=\"1.0\"?><feedback><report_metadata>"                 \
	"<org_name>Org</org_name><email>d@org.example</email>"               \
	"<report_id>r1</report_id><date_range><begin>" begin "</begin>"      \
	"<end>" end "</end></date_range></report_metadata>"                  \
	"<policy_published><domain>" domain "</domain><p>none</p>"           \
	"</policy_published>"
#define REC(n, hf)                                                           \
	"<record><row><source_ip>192.0.2.1</source_ip><count>" n "</count>"  \
	"<policy_evaluated><disposition>none</disposition><dkim>pass</dkim>" \
	"<spf>pass</spf></policy_evaluated></row><identifiers>"              \
	"<header_from>" hf "</header_from></identifiers></record>"
#define TAIL "</feedback>"
#define OK_HEAD HEAD("1700000000", "1700086399", "example.com")

TEST(fraction_count_rejected)
{
	struct got *g = parse(OK_HEAD REC("3.5", "example.com") TAIL);

	CHECK(g->st == PARSE_REJECT);
	CHECK(strstr(g->e.msg, "'3.5' is not a whole number") != NULL);
	g = parse(OK_HEAD REC("3.0", "example.com") TAIL);
	CHECK(g->st == PARSE_OK && g->count0 == 3);
}

TEST(empty_count_rejected)
{
	struct got *g = parse(OK_HEAD REC("  ", "example.com") TAIL);

	CHECK(g->st == PARSE_REJECT);
	CHECK(strstr(g->e.msg, "empty <count>") != NULL);
}

TEST(count_over_2_53_rejected)
{
	struct got *g = parse(OK_HEAD REC("9007199254740993", "example.com")
	    TAIL);

	CHECK(g->st == PARSE_REJECT);
	CHECK(strstr(g->e.msg, "larger than 2^53") != NULL);
}

TEST(int64_max_counts_never_wrap)
{
	struct got *g = parse(OK_HEAD REC("9223372036854775807", "a.example")
	    REC("9223372036854775807", "a.example") TAIL);

	CHECK(g->st == PARSE_REJECT);
	CHECK(g->res.messages <= (1ULL << 53));
}

TEST(sum_over_2_53_rejected)
{
	struct got *g = parse(OK_HEAD REC("9007199254740992", "a.example")
	    REC("1", "a.example") TAIL);

	CHECK(g->st == PARSE_REJECT);
	CHECK(strstr(g->e.msg, "add up to more than 2^53") != NULL);
	g = parse(OK_HEAD REC("9007199254740991", "a.example")
	    REC("1", "a.example") TAIL);
	CHECK(g->st == PARSE_OK && g->res.messages == (1ULL << 53));
}

TEST(millisecond_dates_converted_with_a_note)
{
	struct got *g = parse(HEAD("1700000000000", "1700086399000",
	    "example.com") REC("1", "example.com") TAIL);

	CHECK(g->st == PARSE_OK);
	CHECK(g->begin == 1700000000 && g->end == 1700086399);
	CHECK(strstr(g->warnings, "looks like milliseconds") != NULL);
}

TEST(int64_max_dates_rejected)
{
	struct got *g = parse(HEAD("9223372036854775807",
	    "9223372036854775807", "example.com") REC("1", "example.com")
	    TAIL);

	CHECK(g->st == PARSE_REJECT);
	CHECK(strstr(g->e.msg, "after the year 9999") != NULL);
}

TEST(report_before_2000_warned)
{
	struct got *g = parse(HEAD("915148800", "915235199", "example.com")
	    REC("1", "example.com") TAIL);

	CHECK(g->st == PARSE_OK);
	CHECK(strstr(g->warnings, "before the year 2000") != NULL);
}

TEST(idna_lower_case)
{
	struct got *g = parse(HEAD("1700000000", "1700086399",
	    "B\xc3\x9c" "CHER.EXAMPLE") REC("1", "XN--BCHER-KVA.Example.")
	    TAIL);

	CHECK(g->st == PARSE_OK);
	CHECK(strcmp(g->domain, "b\xc3\xbc" "cher.example") == 0);
	CHECK(strcmp(g->hf, "b\xc3\xbc" "cher.example") == 0);
}

TEST(domain_with_space_or_control_refused)
{
	struct got *g = parse(HEAD("1700000000", "1700086399",
	    "exa mple.com") REC("1", "example.com") TAIL);

	CHECK(g->st == PARSE_REJECT);
	CHECK(strstr(g->e.msg, "policy_published/domain contains white "
			       "space") != NULL);
	g = parse(OK_HEAD REC("1", "example.com&#10;forged") TAIL);
	CHECK(g->st == PARSE_REJECT);
	g = parse(OK_HEAD REC("1", "example.com\xe2\x80\xae") TAIL);
	CHECK(g->st == PARSE_REJECT);
	CHECK(strstr(g->e.msg, "bidirectional") != NULL);
	g = parse(OK_HEAD REC("1", "x\xc2\x9b" "example.com") TAIL);
	CHECK(g->st == PARSE_REJECT);
	CHECK(strstr(g->e.msg, "C1 control") != NULL);
}

TEST(hash_ignores_record_order)
{
	struct got *a = parse(OK_HEAD REC("1", "a.example") REC("2",
	    "b.example") TAIL);
	struct got *b = parse(OK_HEAD REC("2", "b.example") REC("1",
	    "a.example") TAIL);
	struct got *c = parse(OK_HEAD REC("2", "a.example") REC("1",
	    "b.example") TAIL);

	CHECK(a->st == PARSE_OK && b->st == PARSE_OK && c->st == PARSE_OK);
	CHECK(a->res.hash == b->res.hash);
	CHECK(a->res.hash != c->res.hash);
	CHECK(a->res.hash_ordered != b->res.hash_ordered);
}

/* The fingerprint as the stores keep it: FNV-1a over each field and a
 * 0x1f after it ("\x01" for a missing one), in document order, computed
 * here apart from the parser's own loop, so that stored reports keep
 * matching their copies. */
static uint64_t
field(uint64_t h, const char *s)
{
	return fnv1a_byte(fnv1a_str(h, s ? s : "\x01", NULL), 0x1f);
}

static uint64_t
chain(uint64_t h, const char *count, const char *hf)
{
	const char *f[] = {"192.0.2.9",
	                   count,
	                   "none",
	                   "pass",
	                   "fail",
	                   hf,
	                   "bounce.example.com",
	                   NULL,
	                   hf,
	                   "s1",
	                   "pass",
	                   "bounce.example.com",
	                   "mfrom",
	                   "fail"};
	size_t i;

	for (i = 0; i < sizeof(f) / sizeof(f[0]); i++)
		h = field(h, f[i]);
	return h;
}

static uint64_t
mixed(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

#define FULL_REC(n, hf)                                                        \
	"<record><row><source_ip>192.0.2.9</source_ip><count>" n "</count>"    \
	"<policy_evaluated><disposition>none</disposition><dkim>pass</dkim>"   \
	"<spf>fail</spf></policy_evaluated></row><identifiers>"                \
	"<header_from>" hf "</header_from><envelope_from>bounce.example.com"   \
	"</envelope_from></identifiers><auth_results><dkim><domain>" hf        \
	"</domain><selector>s1</selector><result>pass</result></dkim><spf>"    \
	"<domain>bounce.example.com</domain><scope>mfrom</scope><result>"      \
	"fail</result></spf></auth_results></record>"

TEST(hash_is_fnv1a_of_the_fields)
{
	struct got *g = parse(OK_HEAD FULL_REC("3", "a.example")
	                          FULL_REC("4", "b.example") TAIL);
	uint64_t a = chain(FNV1A_BASIS, "3", "a.example");
	uint64_t b = chain(FNV1A_BASIS, "4", "b.example");

	CHECK(g->st == PARSE_OK);
	CHECK(g->res.hash == mixed(a) + mixed(b));
	CHECK(g->res.hash_ordered ==
	      chain(chain(FNV1A_BASIS, "3", "a.example"), "4", "b.example"));
}

TEST(second_document_announced)
{
	const char *one = OK_HEAD REC("1", "example.com") TAIL;
	char doc[4096];
	struct got *g;

	snprintf(doc, sizeof(doc), "%s\n%s", one, one);
	g = parse(doc);
	CHECK(g->st == PARSE_OK);
	CHECK(!g->res.salvaged);
	CHECK(g->res.next_doc == strlen(one));
	snprintf(doc, sizeof(doc), "%sjunk", one);
	g = parse(doc);
	CHECK(g->st == PARSE_OK && g->res.salvaged && g->res.next_doc == 0);
}

TEST(salvage_like_xmllint_recover)
{
	struct got *g = parse(HEAD("1700000000", "1700086399",
	    "sturla.dev<<<") REC("1", "example.com") REC("2", "example.com")
	    TAIL);

	CHECK(g->st == PARSE_OK);
	CHECK(g->res.salvaged);
	CHECK(strcmp(g->domain, "sturla.dev") == 0);
	CHECK(g->nrec == 2 && g->res.messages == 3);
}

TEST(unclosed_record_closed_by_the_next)
{
	struct got *g = parse(OK_HEAD "<record><row><source_ip>192.0.2.9"
	    "</source_ip><count>4</count></row>" REC("5", "example.com")
	    REC("6", "example.com") TAIL);

	CHECK(g->st == PARSE_OK && g->res.salvaged);
	CHECK(g->nrec == 3 && g->res.messages == 15);
}

/* The FNV reference's test vectors for FNV-1a 64. */
TEST(fnv1a_standard_vectors)
{
	CHECK(fnv1a_str(FNV1A_BASIS, "", NULL) == 0xcbf29ce484222325ULL);
	CHECK(fnv1a_str(FNV1A_BASIS, "a", NULL) == 0xaf63dc4c8601ec8cULL);
	CHECK(fnv1a_str(FNV1A_BASIS, "foobar", NULL) == 0x85944171f73967e8ULL);
	CHECK(fnv1a_mem(FNV1A_BASIS, "foobar", 6) == 0x85944171f73967e8ULL);
}


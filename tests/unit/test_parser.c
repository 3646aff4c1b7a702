/*
 * test_parser.c - the report parser against every quirk, limit and attack
 * the issues name, fed from strings so each case shows its input.
 */
#include <stdarg.h>

#include "check.h"
#include "parser.h"

#define MAXREC 8

struct rec_copy {
	char *ip, *disp, *dkim, *spf, *hf, *ef, *et;
	long long count;
	size_t ndkim, nspf, nreasons;
	char *dkim_domain[4], *dkim_sel[4], *dkim_result[4];
	char *spf_domain[4], *spf_scope[4], *spf_result[4];
	char *reason_type[4], *reason_orig[4], *reason_comment[4];
};

struct got {
	enum parse_status status;
	struct err e;
	struct parse_result res;
	int begins, complete;
	char *org, *id, *domain, *xmlns, *p, *np, *adkim, *email, *errors;
	char *generator, *testing, *disc;
	int derived, pct;
	long long begin, end;
	size_t nrec;
	struct rec_copy rec[MAXREC];
	char warnings[2048];
};

static char *
dup(const char *s)
{
	return s ? test_track(strdup(s)) : NULL;
}

struct mem {
	const char *p;
	size_t len, pos;
};

static ssize_t
mem_read(void *ctx, void *buf, size_t n, struct err *e)
{
	struct mem *m = ctx;

	(void)e;
	/* small reads, to cross chunk boundaries in multi-byte text */
	if (n > 7)
		n = 7;
	if (n > m->len - m->pos)
		n = m->len - m->pos;
	memcpy(buf, m->p + m->pos, n);
	m->pos += n;
	return (ssize_t)n;
}

static int
on_begin(void *arg, const struct dmarc_meta *m, int complete, struct err *e)
{
	struct got *g = arg;

	(void)e;
	g->begins++;
	g->complete = complete;
	(void)m;
	return 0;
}

static int
on_record(void *arg, const struct dmarc_record *r, struct err *e)
{
	struct got *g = arg;
	struct rec_copy *c;
	size_t i;

	(void)e;
	if (g->nrec >= MAXREC)
		return 0;
	c = &g->rec[g->nrec++];
	c->ip = dup(r->source_ip);
	c->disp = dup(r->disposition);
	c->dkim = dup(r->dkim);
	c->spf = dup(r->spf);
	c->hf = dup(r->header_from);
	c->ef = dup(r->envelope_from);
	c->et = dup(r->envelope_to);
	c->count = r->count;
	c->ndkim = r->ndkim;
	c->nspf = r->nspf;
	c->nreasons = r->nreasons;
	for (i = 0; i < r->ndkim && i < 4; i++) {
		c->dkim_domain[i] = dup(r->dkim_results[i].domain);
		c->dkim_sel[i] = dup(r->dkim_results[i].selector);
		c->dkim_result[i] = dup(r->dkim_results[i].result);
	}
	for (i = 0; i < r->nspf && i < 4; i++) {
		c->spf_domain[i] = dup(r->spf_results[i].domain);
		c->spf_scope[i] = dup(r->spf_results[i].scope);
		c->spf_result[i] = dup(r->spf_results[i].result);
	}
	for (i = 0; i < r->nreasons && i < 4; i++) {
		c->reason_type[i] = dup(r->reasons[i].type);
		c->reason_orig[i] = dup(r->reasons[i].type_original);
		c->reason_comment[i] = dup(r->reasons[i].comment);
	}
	return 0;
}

/* Parses like the importer does: strict, then salvage if asked to. */
static struct got *
parse_lim(const char *xml, size_t len, const struct parse_limits *lim)
{
	struct got *g = test_track(calloc(1, sizeof(*g)));
	struct parser *p = parser_new(lim);
	struct parse_handler h = {g, on_begin, on_record};
	struct mem m = {xml, len, 0};
	struct reader r = {mem_read, &m, NULL};
	const struct dmarc_meta *mt;
	char defect[256] = "";

	g->status = parser_run(p, &r, PARSE_STRICT, &h, &g->res, &g->e);
	if (g->status == PARSE_TRY_SALVAGE) {
		snprintf(defect, sizeof(defect), "%s", g->res.defect);
		memset(g, 0, sizeof(*g));
		m.pos = 0;
		g->status = parser_run(p, &r, PARSE_SALVAGE, &h, &g->res, &g->e);
		if (g->res.defect[0] == '\0')
			snprintf(g->res.defect, sizeof(g->res.defect), "%s",
			    defect);
	}
	mt = parser_meta(p);
	g->org = dup(mt->org_name);
	g->id = dup(mt->report_id);
	g->domain = dup(mt->domain);
	g->xmlns = dup(mt->xmlns);
	g->p = dup(mt->p);
	g->np = dup(mt->np);
	g->adkim = dup(mt->adkim);
	g->email = dup(mt->email);
	g->errors = dup(mt->errors);
	g->generator = dup(mt->generator);
	g->testing = dup(mt->testing);
	g->disc = dup(mt->discovery_method);
	g->derived = mt->org_name_derived;
	g->pct = mt->pct;
	g->begin = mt->begin;
	g->end = mt->end;
	warn_format(&g->res.warnings, g->warnings, sizeof(g->warnings));
	parser_free(p);
	return g;
}

static struct got *
parse(const char *xml)
{
	return parse_lim(xml, strlen(xml), NULL);
}

#define META                                                                 \
	"<report_metadata><org_name>Example Org</org_name>"                  \
	"<email>dmarc@example.org</email><report_id>r1</report_id>"          \
	"<date_range><begin>1700000000</begin><end>1700086399</end>"         \
	"</date_range></report_metadata>"
#define POLICY                                                               \
	"<policy_published><domain>example.com</domain><adkim>r</adkim>"     \
	"<aspf>r</aspf><p>none</p><sp>none</sp><pct>100</pct>"               \
	"</policy_published>"
#define RECORD(ip, n)                                                        \
	"<record><row><source_ip>" ip "</source_ip><count>" n "</count>"     \
	"<policy_evaluated><disposition>none</disposition><dkim>pass</dkim>" \
	"<spf>fail</spf></policy_evaluated></row><identifiers>"              \
	"<header_from>example.com</header_from></identifiers>"               \
	"<auth_results><dkim><domain>example.com</domain><result>pass"       \
	"</result></dkim><spf><domain>example.com</domain><result>fail"      \
	"</result></spf></auth_results></record>"

TEST(plain_rfc7489)
{
	struct got *g = parse("<?xml version=\"1.0\"?><feedback>" META POLICY
	    RECORD("192.0.2.1", "3") RECORD("192.0.2.2", "4") "</feedback>");

	CHECK_INT(g->status, PARSE_OK);
	CHECK_STR(g->org, "Example Org");
	CHECK_STR(g->id, "r1");
	CHECK_STR(g->domain, "example.com");
	CHECK_INT(g->begin, 1700000000);
	CHECK_INT(g->end, 1700086399);
	CHECK_INT(g->pct, 100);
	CHECK_INT(g->res.records, 2);
	CHECK_INT(g->res.messages, 7);
	CHECK_INT(g->begins, 1);
	CHECK_INT(g->complete, 1);
	CHECK_INT(g->res.salvaged, 0);
	CHECK_STR(g->rec[0].ip, "192.0.2.1");
	CHECK_INT(g->rec[1].count, 4);
	CHECK_STR(g->rec[0].dkim_domain[0], "example.com");
	CHECK_STR(g->rec[0].spf_result[0], "fail");
	CHECK(g->xmlns == NULL);
}

TEST(rfc9990_namespace_and_fields)
{
	struct got *g = parse(
	    "<feedback xmlns=\"urn:ietf:params:xml:ns:dmarc-2.0\">"
	    "<version>1.0</version><report_metadata><org_name>GMX</org_name>"
	    "<email>a@gmx.net</email><report_id>x9</report_id>"
	    "<date_range><begin>1</begin><end>2</end></date_range>"
	    "<generator>gen 1.2</generator></report_metadata>"
	    "<policy_published><domain>Example.COM.</domain><p>reject</p>"
	    "<np>quarantine</np><testing>n</testing>"
	    "<discovery_method>treewalk</discovery_method>"
	    "</policy_published>"
	    "<extension><foo:bar xmlns:foo=\"urn:x\"><record>no</record>"
	    "</foo:bar></extension>"
	    "<record><row><source_ip>2001:DB8::0:1</source_ip>"
	    "<count>5</count><policy_evaluated><disposition>pass"
	    "</disposition><dkim>pass</dkim><spf>pass</spf>"
	    "</policy_evaluated></row><identifiers><header_from>example.com"
	    "</header_from><envelope_from></envelope_from></identifiers>"
	    "<auth_results><dkim><domain>example.com</domain><selector>s1"
	    "</selector><result>pass</result><human_result>ok</human_result>"
	    "</dkim></auth_results><x:ext xmlns:x=\"urn:y\"><count>9</count>"
	    "</x:ext></record></feedback>");

	CHECK_INT(g->status, PARSE_OK);
	CHECK_STR(g->xmlns, "urn:ietf:params:xml:ns:dmarc-2.0");
	CHECK_STR(g->domain, "example.com");
	CHECK_STR(g->np, "quarantine");
	CHECK_STR(g->testing, "n");
	CHECK_STR(g->disc, "treewalk");
	CHECK_STR(g->generator, "gen 1.2");
	CHECK_INT(g->pct, -1);
	CHECK_INT(g->res.records, 1); /* the extension's <record> is not one */
	CHECK_INT(g->res.messages, 5);
	CHECK_STR(g->rec[0].ip, "2001:db8::1");
	CHECK_STR(g->rec[0].disp, "pass");
	CHECK(g->rec[0].ef == NULL);
	CHECK_INT(g->rec[0].nspf, 0);
	CHECK_STR(g->rec[0].dkim_sel[0], "s1");
}

TEST(normalisation)
{
	struct got *g = parse(
	    "<feedback><report_metadata><org_name> Yahoo </org_name>"
	    "<email>x@y</email><report_id>&lt;abc@host&gt;</report_id>"
	    "<date_range><begin>1361404800 </begin><end>1538204542.0</end>"
	    "</date_range></report_metadata>" POLICY
	    "<record><row><source_ip> ::ffff:192.0.2.7 </source_ip>"
	    "<count> 2 </count><policy_evaluated><disposition>None"
	    "</disposition><dkim>Pass</dkim><spf>FAIL</spf><reason><type>"
	    "Forwarded</type></reason><reason><type>weird_thing</type>"
	    "<comment> why </comment></reason></policy_evaluated></row>"
	    "<identifiers><header_from>Mail.Example.COM.</header_from>"
	    "<envelope_from>bounce@Sub.Example.com</envelope_from>"
	    "</identifiers><auth_results><spf><domain>x.com</domain><scope>"
	    "MFROM</scope><result>HardFail</result></spf><spf><domain>y"
	    "</domain><result>unknown</result></spf><dkim><domain>d.com"
	    "</domain><result>TempError</result></dkim></auth_results>"
	    "</record></feedback>");

	CHECK_INT(g->status, PARSE_OK);
	CHECK_STR(g->org, "Yahoo");
	CHECK_STR(g->id, "abc@host");
	CHECK_INT(g->begin, 1361404800);
	CHECK_INT(g->end, 1538204542);
	CHECK_STR(g->rec[0].ip, "::ffff:192.0.2.7");
	CHECK_INT(g->rec[0].count, 2);
	CHECK_STR(g->rec[0].disp, "none");
	CHECK_STR(g->rec[0].dkim, "pass");
	CHECK_STR(g->rec[0].spf, "fail");
	CHECK_STR(g->rec[0].hf, "mail.example.com");
	CHECK_STR(g->rec[0].ef, "sub.example.com");
	/* spf before dkim, several spf results */
	CHECK_INT(g->rec[0].nspf, 2);
	CHECK_STR(g->rec[0].spf_scope[0], "mfrom");
	CHECK_STR(g->rec[0].spf_result[0], "fail");
	CHECK_STR(g->rec[0].spf_result[1], "temperror");
	CHECK_STR(g->rec[0].dkim_result[0], "temperror");
	CHECK_INT(g->rec[0].nreasons, 2);
	CHECK_STR(g->rec[0].reason_type[0], "forwarded");
	CHECK(g->rec[0].reason_orig[0] == NULL);
	CHECK_STR(g->rec[0].reason_type[1], "other");
	CHECK_STR(g->rec[0].reason_orig[1], "weird_thing");
	CHECK_STR(g->rec[0].reason_comment[1], "why");
}

TEST(real_world_shapes)
{
	/* no declaration, BOM, identities, data_range (KDDI), elements out
	 * of order, no auth_results, no selector/scope */
	struct got *g = parse(
	    "\xef\xbb\xbf<feedback><policy_published><p>none</p><domain>"
	    "example.jp</domain></policy_published><report_metadata>"
	    "<report_id>k1</report_id><data_range><end>20</end><begin>10"
	    "</begin></data_range><email>r@kddi.example</email><org_name>"
	    "KDDI</org_name></report_metadata><record><identities>"
	    "<header_from>example.jp</header_from></identities><row>"
	    "<count>1</count><source_ip>198.51.100.1</source_ip>"
	    "<policy_evaluated><spf>pass</spf><dkim>fail</dkim>"
	    "<disposition>none</disposition></policy_evaluated></row>"
	    "</record></feedback>");

	CHECK_INT(g->status, PARSE_OK);
	CHECK_STR(g->org, "KDDI");
	CHECK_INT(g->begin, 10);
	CHECK_INT(g->end, 20);
	CHECK_STR(g->domain, "example.jp");
	CHECK_INT(g->res.records, 1);
	CHECK_STR(g->rec[0].hf, "example.jp");
	CHECK_INT(g->rec[0].ndkim, 0);
	CHECK_INT(g->rec[0].nspf, 0);
}

TEST(windows_1252)
{
	const char *xml =
	    "<?xml version=\"1.0\" encoding=\"windows-1252\"?><feedback>"
	    "<report_metadata><org_name>Caf\xe9 \x80</org_name><email>a@b"
	    "</email><report_id>w</report_id><date_range><begin>1</begin>"
	    "<end>2</end></date_range></report_metadata>" POLICY
	    "</feedback>";
	struct got *g = parse(xml);

	CHECK_INT(g->status, PARSE_OK);
	CHECK_STR(g->org, "Caf\xc3\xa9 \xe2\x82\xac"); /* UTF-8 now */
	CHECK_INT(g->res.records, 0);
	CHECK_INT(g->begins, 1);
}

TEST(records_before_header)
{
	struct got *g = parse("<feedback>" RECORD("192.0.2.9", "1") META POLICY
			      "</feedback>");

	CHECK_INT(g->status, PARSE_OK);
	CHECK_INT(g->begins, 1);
	CHECK_INT(g->complete, 0); /* store must take the final header */
	CHECK_STR(g->id, "r1");
	CHECK_INT(g->res.records, 1);
}

TEST(empty_ip_and_org)
{
	struct got *g = parse(
	    "<feedback><report_metadata><org_name></org_name><email>"
	    "noreply@Reports.Example.NET</email><report_id>e</report_id>"
	    "<date_range><begin>1</begin><end>2</end></date_range>"
	    "</report_metadata>" POLICY
	    "<record><row><source_ip></source_ip><count>0</count>"
	    "<policy_evaluated><disposition></disposition></policy_evaluated>"
	    "</row><identifiers><header_from></header_from></identifiers>"
	    "</record><record><row><source_ip>not-an-ip</source_ip><count>1"
	    "</count></row></record></feedback>");

	CHECK_INT(g->status, PARSE_OK);
	CHECK_STR(g->org, "reports.example.net");
	CHECK_INT(g->derived, 1);
	CHECK_INT(g->res.records, 2);
	CHECK(g->rec[0].ip == NULL);
	CHECK(g->rec[0].disp == NULL);
	CHECK(g->rec[1].ip == NULL);
	CHECK_CONTAINS(g->warnings, "no usable source_ip");
	CHECK_CONTAINS(g->warnings, "not-an-ip");
	CHECK_CONTAINS(g->warnings, "derived 'reports.example.net'");
}

TEST(duplicated_sections_first_wins)
{
	struct got *g = parse(
	    "<feedback>" META
	    "<report_metadata><org_name>Other</org_name><report_id>r2"
	    "</report_id></report_metadata>" POLICY
	    "<policy_published><domain>other.com</domain></policy_published>"
	    "<record><row><source_ip>192.0.2.1</source_ip><count>1</count>"
	    "</row><row><source_ip>192.0.2.2</source_ip><count>50</count>"
	    "</row></record></feedback>");

	CHECK_INT(g->status, PARSE_OK);
	CHECK_STR(g->org, "Example Org");
	CHECK_STR(g->id, "r1");
	CHECK_STR(g->domain, "example.com");
	CHECK_STR(g->rec[0].ip, "192.0.2.1");
	CHECK_INT(g->res.messages, 1);
	CHECK_CONTAINS(g->warnings, "duplicate <report_metadata>");
	CHECK_CONTAINS(g->warnings, "duplicate <policy_published>");
	CHECK_CONTAINS(g->warnings, "duplicate <row>");
}

TEST(metadata_errors_joined)
{
	struct got *g = parse("<feedback><report_metadata><org_name>o"
			      "</org_name><email>a@b</email><report_id>i"
			      "</report_id><date_range><begin>1</begin><end>"
			      "2</end></date_range><error>one</error><error>"
			      "two</error></report_metadata>" POLICY
			      "</feedback>");

	CHECK_INT(g->status, PARSE_OK);
	CHECK_STR(g->errors, "one\ntwo");
}

TEST(salvage_stray_wrapper)
{
	struct got *g = parse(
	    "<?xml version=\"1.0\"?> <xs:schema xmlns:xs=\"http://www.w3."
	    "org/2001/XMLSchema\">\n<feedback>" META POLICY
	    RECORD("192.0.2.1", "1") "</feedback>\n");

	CHECK_INT(g->status, PARSE_OK);
	CHECK_INT(g->res.salvaged, 1);
	CHECK_CONTAINS(g->res.defect, "line");
	CHECK_CONTAINS(g->warnings, "xs:schema");
	CHECK_INT(g->res.records, 1);
}

TEST(salvage_broken_attribute)
{
	struct got *g = parse("<?xml version=\"1.0\"?>\n<feedback>\n"
			      "<report_metadata><org_name>veeam.com</org_name>"
			      "\n<email><bad-xml@bad-xml.net></email>\n"
			      "<report_id>v1</report_id><date_range><begin>1"
			      "</begin><end>2</end></date_range>"
			      "</report_metadata>" POLICY
			      RECORD("192.0.2.1", "6") "</feedback>\n");

	CHECK_INT(g->status, PARSE_OK);
	CHECK_INT(g->res.salvaged, 1);
	CHECK_CONTAINS(g->res.defect, "line 4:");
	CHECK_STR(g->org, "veeam.com");
	CHECK_STR(g->id, "v1");
	CHECK_INT(g->res.messages, 6);
}

TEST(salvage_invalid_utf8)
{
	struct got *g = parse("<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
			      "<feedback>" META POLICY
			      "<record><row><source_ip>192.0.2.1</source_ip>"
			      "<count>1</count></row><identifiers><header_from>"
			      "bad\x91\xff</header_from></identifiers></record>"
			      "</feedback>");

	CHECK_INT(g->status, PARSE_OK);
	CHECK_INT(g->res.salvaged, 1);
	CHECK_CONTAINS(g->res.defect, "UTF-8");
	CHECK_STR(g->rec[0].hf, "bad\xef\xbf\xbd\xef\xbf\xbd");
	CHECK_CONTAINS(g->warnings, "replaced with U+FFFD");
}

TEST(salvage_space_before_declaration)
{
	struct got *g = parse("\n  <?xml version=\"1.0\"?><feedback>" META
	    POLICY RECORD("192.0.2.1", "2") "</feedback>");

	CHECK_INT(g->status, PARSE_OK);
	CHECK_INT(g->res.salvaged, 1);
	CHECK_INT(g->res.messages, 2);
}

TEST(truncated_is_rejected)
{
	struct got *g = parse("<feedback>" META POLICY RECORD("192.0.2.1", "1")
	    "<record><row><source_ip>192.0");

	CHECK_INT(g->status, PARSE_REJECT);
	CHECK_CONTAINS(g->e.msg, "</feedback>");
	CHECK_INT(g->res.salvaged, 0);
}

TEST(missing_identification_rejected)
{
	struct got *g = parse("<feedback><report_metadata><org_name>o"
			      "</org_name><date_range><begin>1</begin><end>2"
			      "</end></date_range></report_metadata>" POLICY
			      "</feedback>");

	CHECK_INT(g->status, PARSE_REJECT);
	CHECK_CONTAINS(g->e.msg, "report_id");
	g = parse("<feedback>" META "<policy_published><p>none</p>"
		  "</policy_published>" RECORD("192.0.2.1", "1") "</feedback>");
	CHECK_INT(g->status, PARSE_REJECT);
	CHECK_CONTAINS(g->e.msg, "policy_published/domain");
	g = parse("<feedback><report_metadata><org_name>o</org_name>"
		  "<report_id>i</report_id></report_metadata>" POLICY
		  "</feedback>");
	CHECK_INT(g->status, PARSE_REJECT);
	CHECK_CONTAINS(g->e.msg, "date_range");
	g = parse("<feedback><report_metadata><org_name>o</org_name>"
		  "<report_id>i</report_id><date_range><begin>yesterday"
		  "</begin><end>2</end></date_range></report_metadata>" POLICY
		  "</feedback>");
	CHECK_INT(g->status, PARSE_REJECT);
	CHECK_CONTAINS(g->e.msg, "yesterday");
	CHECK_CONTAINS(g->e.msg, "line 1:");
}

TEST(not_a_report)
{
	struct got *g = parse("<invalid></invalid>");

	CHECK_INT(g->status, PARSE_REJECT);
	CHECK_CONTAINS(g->e.msg, "root element <invalid> is not <feedback>");
	g = parse("<html><body>hello</body></html>");
	CHECK_INT(g->status, PARSE_REJECT);
	CHECK_CONTAINS(g->e.msg, "<html>");
}

TEST(billion_laughs_refused)
{
	struct got *g = parse(
	    "<?xml version=\"1.0\"?><!DOCTYPE lolz [<!ENTITY lol \"lol\">"
	    "<!ENTITY lol2 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">"
	    "<!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">]>"
	    "<feedback><report_metadata><org_name>&lol3;</org_name>"
	    "</report_metadata></feedback>");

	CHECK_INT(g->status, PARSE_REJECT);
	CHECK_CONTAINS(g->e.msg, "entity");
	CHECK(g->org == NULL);
}

TEST(external_entity_never_read)
{
	struct got *g = parse(
	    "<?xml version=\"1.0\"?><!DOCTYPE feedback [<!ENTITY xxe SYSTEM "
	    "\"file:///etc/passwd\">]><feedback><report_metadata><org_name>"
	    "&xxe;</org_name><email>a@b</email><report_id>x</report_id>"
	    "<date_range><begin>1</begin><end>2</end></date_range>"
	    "</report_metadata>" POLICY "</feedback>");

	CHECK_INT(g->status, PARSE_REJECT);
	CHECK_CONTAINS(g->e.msg, "xxe");
	CHECK(g->org == NULL || strstr(g->org, "root:") == NULL);
	/* an external DTD is not fetched either */
	g = parse("<?xml version=\"1.0\"?><!DOCTYPE feedback SYSTEM "
		  "\"http://192.0.2.1/evil.dtd\"><feedback>" META POLICY
		  "</feedback>");
	CHECK_INT(g->status, PARSE_OK);
	CHECK_STR(g->org, "Example Org");
}

TEST(undeclared_entity_rejected)
{
	struct got *g = parse("<feedback>" META POLICY
			      "<record><row><source_ip>&foo;</source_ip>"
			      "</row></record></feedback>");

	CHECK(g->status != PARSE_OK || g->rec[0].ip == NULL);
}

TEST(depth_limit)
{
	char *xml = test_track(malloc(200000));
	size_t n = 0;
	int i;

	n += (size_t)sprintf(xml + n, "<feedback>" META POLICY "<record>");
	for (i = 0; i < 20000; i++)
		n += (size_t)sprintf(xml + n, "<a>");
	struct got *g = parse_lim(xml, n, NULL);
	CHECK_INT(g->status, PARSE_REJECT);
	CHECK_CONTAINS(g->e.msg, "nested deeper than 32");
}

TEST(text_limit)
{
	size_t big = 70000, n;
	char *xml = test_track(malloc(big + 1000));
	struct got *g;

	n = (size_t)sprintf(xml, "<feedback><report_metadata><org_name>");
	memset(xml + n, 'a', big);
	n += big;
	n += (size_t)sprintf(xml + n, "</org_name></report_metadata></feedback>");
	g = parse_lim(xml, n, NULL);
	CHECK_INT(g->status, PARSE_REJECT);
	CHECK_CONTAINS(g->e.msg, "longer than 65536 bytes");
}

TEST(records_limit)
{
	struct parse_limits lim;
	struct got *g;
	const char *xml = "<feedback>" META POLICY RECORD("192.0.2.1", "1")
	    RECORD("192.0.2.2", "1") RECORD("192.0.2.3", "1") "</feedback>";

	parse_limits_default(&lim);
	lim.max_records = 2;
	g = parse_lim(xml, strlen(xml), &lim);
	CHECK_INT(g->status, PARSE_REJECT);
	CHECK_CONTAINS(g->e.msg, "more than 2 records");
}

TEST(nul_byte_rejected)
{
	const char xml[] = "<feedback><report_metadata><org_name>a\0b"
			   "</org_name></report_metadata></feedback>";
	struct got *g = parse_lim(xml, sizeof(xml) - 1, NULL);

	CHECK_INT(g->status, PARSE_REJECT);
}

TEST(bad_count_rejected)
{
	struct got *g = parse("<feedback>" META POLICY
			      "<record><row><source_ip>192.0.2.1</source_ip>"
			      "<count>many</count></row></record></feedback>");

	CHECK_INT(g->status, PARSE_REJECT);
	CHECK_CONTAINS(g->e.msg, "count 'many'");
}

TEST(same_content_same_hash)
{
	struct got *a = parse("<feedback>" META POLICY RECORD("192.0.2.1", "1")
	    "</feedback>");
	struct got *b = parse("<?xml version=\"1.0\"?>\n<feedback>\n  " META
	    "\n" POLICY "\n" RECORD("192.0.2.1", " 1 ") "\n</feedback>\n");
	struct got *c = parse("<feedback>" META POLICY RECORD("192.0.2.1", "2")
	    "</feedback>");

	CHECK(a->res.hash == b->res.hash);
	CHECK(a->res.hash != c->res.hash);
}

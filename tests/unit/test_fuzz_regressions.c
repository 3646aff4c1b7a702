/*
 * test_fuzz_regressions.c - what the fuzzers (tests/fuzz) found, one case
 * per defect, each from a small input written here.  The fuzzers' own
 * invariants are repeated: the pipeline keeps parser_run()'s contract, the
 * way a reader cuts the bytes does not change the result, an empty buffer
 * is a valid input.
 */
#include "check.h"
#include "mime.h"
#include "parser.h"
#include "pipeline.h"
#include "stream.h"

#define META                                                                 \
	"<report_metadata><org_name>Example Org</org_name>"                  \
	"<email>dmarc@example.org</email><report_id>r1</report_id>"          \
	"<date_range><begin>1700000000</begin><end>1700086399</end>"         \
	"</date_range></report_metadata>"
#define POLICY                                                               \
	"<policy_published><domain>example.com</domain><p>none</p>"          \
	"</policy_published>"
#define RECORD                                                               \
	"<record><row><source_ip>192.0.2.1</source_ip><count>2</count>"      \
	"<policy_evaluated><disposition>none</disposition><dkim>pass</dkim>" \
	"<spf>fail</spf></policy_evaluated></row><identifiers>"              \
	"<header_from>example.com</header_from></identifiers></record>"

/* A reader over a string: whole (step 0), or `step` bytes at a time, or
 * (step -1) 1 to 13 bytes in a pseudo-random pattern, as the fuzzer's. */
struct mem {
	const char *p;
	size_t len, pos;
	int step;
	unsigned rng;
};

static ssize_t
mem_read(void *ctx, void *buf, size_t n, struct err *e)
{
	struct mem *m = ctx;

	(void)e;
	if (m->step == -1) {
		m->rng = m->rng * 1103515245u + 12345u;
		if (n > 1 + (m->rng >> 16) % 13)
			n = 1 + (m->rng >> 16) % 13;
	} else if (m->step > 0 && n > (size_t)m->step) {
		n = (size_t)m->step;
	}
	if (n > m->len - m->pos)
		n = m->len - m->pos;
	memcpy(buf, m->p + m->pos, n);
	m->pos += n;
	return (ssize_t)n;
}

struct got {
	enum parse_status st;
	struct parse_result res;
	struct err e;
	unsigned begins, records, fail_at, fail_begin;
	char defect[256];
	char hf[64]; /* header_from of the first record */
};

static int
on_begin(void *arg, const struct dmarc_meta *m, int complete, struct err *e)
{
	struct got *g = arg;

	(void)m;
	(void)complete;
	g->begins++;
	if (g->fail_begin)
		return err_set(e, "handler refused the report");
	return 0;
}

static int
on_record(void *arg, const struct dmarc_record *r, struct err *e)
{
	struct got *g = arg;

	g->records++;
	if (g->records == 1)
		snprintf(g->hf, sizeof(g->hf), "%s",
		    r->header_from ? r->header_from : "(null)");
	if (g->records == g->fail_at)
		return err_set(e, "handler refused record %u", g->fail_at);
	return 0;
}

/* Strict, then salvage when asked, as the importer parses. */
static void
parse(const char *xml, size_t len, int step, int pipeline, struct got *g)
{
	struct parser *p = parser_new(NULL);
	struct parse_handler h = {g, on_begin, on_record};
	struct mem m = {xml, len, 0, step, (unsigned)len};
	struct reader r = {mem_read, &m, NULL};
	enum parse_mode mode = PARSE_STRICT;

	for (;;) {
		g->begins = g->records = 0;
		m.pos = 0;
		m.rng = (unsigned)len;
		g->st = pipeline ? pipeline_parse(p, &r, mode, &h, &g->res, &g->e)
				 : parser_run(p, &r, mode, &h, &g->res, &g->e);
		if (g->st != PARSE_TRY_SALVAGE || mode == PARSE_SALVAGE)
			break;
		snprintf(g->defect, sizeof(g->defect), "%s", g->res.defect);
		mode = PARSE_SALVAGE;
	}
	parser_free(p);
}

static char *
report_with(unsigned nrec)
{
	size_t len = strlen("<feedback>" META POLICY "</feedback>") +
	    nrec * strlen(RECORD) + 1;
	char *xml = test_track(malloc(len));
	unsigned i;

	strcpy(xml, "<feedback>" META POLICY);
	for (i = 0; i < nrec; i++)
		strcat(xml, RECORD);
	strcat(xml, "</feedback>");
	return xml;
}

/*
 * fuzz_parser: pipeline_parse() returned PARSE_OK when the handler refused
 * one of the last records.  The worker had parsed to the end before the
 * calling thread ran the handler, so it never saw the abort, and its
 * status won.  parser_run() rejects; so must the pipeline.
 */
TEST(pipeline_handler_refuses_last_record)
{
	unsigned n[] = {1, 2, 31, 300};
	struct got g;
	size_t i;

	for (i = 0; i < sizeof(n) / sizeof(n[0]); i++) {
		char *xml = report_with(n[i]);

		memset(&g, 0, sizeof(g));
		g.fail_at = n[i];
		parse(xml, strlen(xml), 0, 1, &g);
		CHECK_INT(g.st, PARSE_REJECT);
		CHECK_CONTAINS(g.e.msg, "handler refused record");
		CHECK_INT(g.records, n[i]);

		memset(&g, 0, sizeof(g));
		g.fail_at = n[i];
		parse(xml, strlen(xml), 0, 0, &g);
		CHECK_INT(g.st, PARSE_REJECT);
		CHECK_CONTAINS(g.e.msg, "handler refused record");
	}
}

TEST(pipeline_handler_refuses_begin_or_middle)
{
	char *xml = report_with(600); /* more than the ring's 256 slots */
	struct got g;

	memset(&g, 0, sizeof(g));
	g.fail_begin = 1;
	parse(xml, strlen(xml), 0, 1, &g);
	CHECK_INT(g.st, PARSE_REJECT);
	CHECK_CONTAINS(g.e.msg, "refused the report");
	CHECK_INT(g.records, 0);

	memset(&g, 0, sizeof(g));
	g.fail_at = 300;
	parse(xml, strlen(xml), 0, 1, &g);
	CHECK_INT(g.st, PARSE_REJECT);
	CHECK_CONTAINS(g.e.msg, "record 300");
	CHECK_INT(g.records, 300); /* none handed over after the refusal */
}

TEST(pipeline_same_result_as_parser_run)
{
	char *xml = report_with(600);
	struct got a, b;

	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	parse(xml, strlen(xml), 0, 0, &a);
	parse(xml, strlen(xml), 0, 1, &b);
	CHECK_INT(a.st, PARSE_OK);
	CHECK_INT(b.st, PARSE_OK);
	CHECK_INT(b.records, 600);
	CHECK_INT(a.res.records, b.res.records);
	CHECK_INT(a.res.messages, 1200);
	CHECK(a.res.hash == b.res.hash);
}

/*
 * fuzz_parser: the same bytes were stored as a salvaged report when read
 * in one piece and rejected ("report_id is missing") when read a few bytes
 * at a time: libxml2's recovery depends on where the chunks it is given
 * end, and the parser passed on whatever the reader returned.  A gzip, a
 * zip member and a plain file cut a report differently, so one report
 * could be stored from the .xml and rejected from the .xml.gz.  The parser
 * now fills its chunks whatever the reader returns.
 */
TEST(result_does_not_depend_on_read_sizes)
{
	const char *docs[] = {
	    /* an encoding name libxml2 does not know */
	    "<?xml version=\"1.0\" encoding=\"windows,1252\"?><feedback>"
	    "<report_metadata><org_name>Caf\xe9 \x80</org_name><email>"
	    "dmarc@seed.example</email><report_id>seed-1</report_id>"
	    "<date_range><begin>1700000000</begin><end>1700086399</end>"
	    "</date_range></report_metadata><policy_published><domain>"
	    "example.com</domain><p>none</p></policy_published></feedback>",
	    /* invalid UTF-8 in a text, repaired in salvage mode */
	    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<feedback>" META
	    POLICY "<record><row><source_ip>192.0.2.1</source_ip><count>1"
	    "</count></row><identifiers><header_from>bad_byte\x91\xe2\x82"
	    "</header_from></identifiers></record></feedback>\n",
	    /* white space before the declaration */
	    "\n \t<?xml version=\"1.0\"?><feedback>" META POLICY RECORD
	    "</feedback>",
	};
	int steps[] = {1, 2, 3, 7, 13, -1};
	size_t i, k;

	for (i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
		struct got whole;

		memset(&whole, 0, sizeof(whole));
		parse(docs[i], strlen(docs[i]), 0, 0, &whole);
		for (k = 0; k < sizeof(steps) / sizeof(steps[0]); k++) {
			struct got g;

			memset(&g, 0, sizeof(g));
			parse(docs[i], strlen(docs[i]), steps[k], 0, &g);
			CHECK_INT(g.st, whole.st);
			CHECK_INT(g.res.salvaged, whole.res.salvaged);
			CHECK_INT(g.res.records, whole.res.records);
			CHECK(g.res.hash == whole.res.hash);
			CHECK_STR(g.defect, whole.defect);
			CHECK_STR(g.res.defect, whole.res.defect);
			if (g.st != PARSE_OK)
				CHECK_STR(g.e.msg, whole.e.msg);
		}
	}
}

/*
 * fuzz_mbox: an mbox message with no lines (a "From " line followed by
 * the next one, or by the end) is an empty buffer whose pointer is NULL;
 * reading it did NULL + 0 and memcpy(dst, NULL, 0), undefined behaviour
 * that UBSan stops on (the sanitizer build runs this case).
 */
TEST(empty_buffer_without_memory)
{
	struct limits lim;
	struct origin o;
	struct stream s;
	struct err e;
	const unsigned char *p;
	unsigned char buf[16];
	size_t n = 1;

	limits_default(&lim);
	memset(&o, 0, sizeof(o));
	o.kind = ORIGIN_MEM;
	o.mem = NULL;
	o.len = 0;
	CHECK_INT(stream_open(&s, &o, &lim, NULL, &e), 0);
	CHECK_INT(stream_peek(&s, &p, &n, &e), 0);
	CHECK_INT(n, 0);
	CHECK_INT(stream_read(&s, buf, sizeof(buf), &e), 0);
	stream_close(&s);
}

/*
 * fuzz_salvage: the UTF-8 repair lost data when an invalid sequence was
 * split between two chunks.  After replacing the lead byte it stepped back
 * over the bytes that followed it as if they were all in the current chunk
 * (i -= npend - 1): with two of them in the previous chunk the index
 * wrapped around and the rest of the chunk, up to 64 KiB, was dropped.
 * (A sequence still incomplete after a short chunk also kept stale bytes.)
 * Here "\xe2\x82" ends the first 64 KiB chunk and "</header_from>" starts
 * the next.
 */
TEST(salvage_repair_across_chunks)
{
	const char *head = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
			   "<feedback>" META POLICY "<!--";
	const char *rec = "--><record><row><source_ip>192.0.2.1</source_ip>"
			  "<count>1</count></row><identifiers><header_from>ab"
			  "\xe2\x82";
	const char *tail = "</header_from></identifiers></record>" RECORD
			   "</feedback>\n";
	size_t chunk = 65536, len = chunk + strlen(tail), pad;
	char *xml = test_track(malloc(len + 1));
	int steps[] = {0, 4096, -1};
	size_t k;

	pad = chunk - strlen(head) - strlen(rec);
	strcpy(xml, head);
	memset(xml + strlen(head), 'x', pad);
	strcpy(xml + strlen(head) + pad, rec);
	CHECK_INT(strlen(xml), chunk);
	strcat(xml, tail);
	for (k = 0; k < sizeof(steps) / sizeof(steps[0]); k++) {
		struct got g;

		memset(&g, 0, sizeof(g));
		parse(xml, len, steps[k], 0, &g);
		CHECK_INT(g.st, PARSE_OK);
		CHECK_INT(g.res.salvaged, 1);
		CHECK_INT(g.res.records, 2);
		/* both bytes replaced, nothing after them lost */
		CHECK_STR(g.hf, "ab\xef\xbf\xbd\xef\xbf\xbd");
	}
}

/*
 * fuzz_mime, fuzz_unpack: a quoted-printable part that ends the buffer
 * with a cut escape ("=3") made libetpan's decoder read two bytes past the
 * end (heap-buffer-overflow under ASan; garbage or a crash otherwise, when
 * the message is the last thing in its allocation).  Such a part is now
 * decoded from a padded copy.  The message is in a buffer of its exact
 * size, as a fuzzer's input or a read file is.
 */
struct parts {
	unsigned n;
	char first[64];
};

static int
on_part(void *arg, const struct mime_part *p, struct err *e)
{
	struct parts *ps = arg;

	(void)e;
	if (ps->n++ == 0)
		snprintf(ps->first, sizeof(ps->first), "%.*s",
		    (int)(p->len < 20 ? p->len : 20), (const char *)p->data);
	return 0;
}

TEST(quoted_printable_cut_at_the_end)
{
	const char *texts[] = {
	    "From: a@b\r\nContent-Type: text/xml\r\n"
	    "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
	    "=3Cfeedback>=3",
	    "From: a@b\r\nContent-Type: text/xml\r\n"
	    "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
	    "=3Cfeedback>=",
	    "From: a@b\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; "
	    "boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/xml\r\n"
	    "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
	    "=3Cfeedback>=3",
	};
	struct limits lim;
	size_t i;

	limits_default(&lim);
	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		size_t n = strlen(texts[i]);
		unsigned char *msg = test_track(malloc(n)); /* no NUL after */
		struct parts ps = {0, ""};
		struct mime_handler h = {&ps, on_part};
		struct mime_info info;
		struct err e;

		memcpy(msg, texts[i], n);
		CHECK_INT(mime_walk(msg, n, &lim, &h, &info, &e), 0);
		CHECK_INT(ps.n, 1);
		CHECK(strncmp(ps.first, "<feedback>", 10) == 0);
	}
}

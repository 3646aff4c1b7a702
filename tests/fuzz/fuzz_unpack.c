/*
 * fuzz_unpack.c - unpack_input() on raw bytes (see fuzz.h): content
 * detection, gzip (multi-member, trailing data), zlib, zip, containers in
 * containers and messages, with the default limits.
 *
 * The sink does what the importer's does with each XML document: opens the
 * origin (as often as needed: the origin must give the same bytes each
 * time), parses strict then salvage, and reads the payload's bytes as the
 * store would keep them.
 */
#include "fuzz.h"

#include "parser.h"
#include "stream.h"
#include "unpack.h"

static struct limits lim;
static struct parser *parser;

struct sink_state {
	unsigned calls;
};

static int
on_begin(void *arg, const struct dmarc_meta *m, int complete, struct err *e)
{
	uint64_t *h = arg;

	(void)e;
	(void)complete;
	*h = fuzz_hash_meta(*h, m);
	return 0;
}

static int
on_record(void *arg, const struct dmarc_record *r, struct err *e)
{
	uint64_t *h = arg;

	(void)e;
	*h = fuzz_hash_record(*h, r);
	return 0;
}

/* The first bytes of the document, read twice: opening an origin again
 * must give the same bytes (the salvage pass depends on it). */
static void
check_reopen(const struct origin *o)
{
	unsigned char a[600], b[600];
	struct stream s;
	struct err e;
	ssize_t na = 0, nb = 0, r;

	if (stream_open(&s, o, &lim, NULL, &e) == -1)
		return;
	while (na < (ssize_t)sizeof(a) &&
	    (r = stream_read(&s, a + na, sizeof(a) - (size_t)na, &e)) > 0)
		na += r;
	stream_close(&s);
	FUZZ_CHECK(stream_open(&s, o, &lim, NULL, &e) == 0);
	while (nb < (ssize_t)sizeof(b) &&
	    (r = stream_read(&s, b + nb, sizeof(b) - (size_t)nb, &e)) > 0)
		nb += r;
	stream_close(&s);
	FUZZ_CHECK(na == nb && memcmp(a, b, (size_t)na) == 0);
}

static int
sink_xml(void *arg, struct unpack_payload *pl, const struct origin *o,
    const char *where, struct err *fatal)
{
	struct sink_state *ss = arg;
	struct parse_handler h;
	struct parse_result res;
	struct warnings sw;
	enum parse_status st;
	enum parse_mode mode = PARSE_STRICT;
	struct stream s;
	struct reader rd;
	struct err e;
	uint64_t digest = 0;

	(void)fatal;
	ss->calls++;
	/* what the importer logs and stores about the payload */
	digest = fuzz_hash_str(digest, where);
	digest = fuzz_hash_str(digest, pl->name);
	FUZZ_CHECK(pl->format != NULL);
	digest = fuzz_hash_str(digest, pl->format);
	FUZZ_CHECK(pl->o.layers == 0);
	FUZZ_CHECK(pl->o.kind == ORIGIN_MEM);
	digest = fuzz_hash_mem(digest, pl->o.mem, pl->o.len);
	check_reopen(o);

	h.arg = &digest;
	h.begin = on_begin;
	h.record = on_record;
	for (;;) {
		warn_init(&sw);
		if (stream_open(&s, o, &lim, &sw, &e) == -1)
			return 0;
		rd = stream_reader(&s);
		st = parser_run(parser, &rd, mode, &h, &res, &e);
		stream_close(&s);
		if (st != PARSE_TRY_SALVAGE)
			break;
		FUZZ_CHECK(mode == PARSE_STRICT);
		mode = PARSE_SALVAGE;
	}
	if (st == PARSE_OK)
		FUZZ_CHECK(parser_meta(parser)->report_id != NULL);
	return 0;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	limits_default(&lim);
	if ((parser = parser_new(&lim.xml)) == NULL)
		abort();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sink_state ss = {0};
	struct unpack_sink sink = {.arg = &ss, .xml = sink_xml};
	struct unpack_result res;
	struct origin o;
	struct err e;

	memset(&o, 0, sizeof(o));
	o.kind = ORIGIN_MEM;
	o.mem = data;
	o.len = size;
	FUZZ_CHECK(unpack_input(&o, "fuzz", &lim, &sink, &res, &e) == 0);
	FUZZ_CHECK(res.xml == ss.calls);
	FUZZ_CHECK(memchr(res.failure, '\0', sizeof(res.failure)) != NULL);
	FUZZ_CHECK(memchr(res.note, '\0', sizeof(res.note)) != NULL);
	return 0;
}

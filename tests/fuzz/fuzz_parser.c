/*
 * fuzz_parser.c - the report parser on raw bytes (see fuzz.h).
 *
 * Each input is parsed as the importer parses it: strict, then salvage when
 * the strict pass asks for it.  That is done five ways:
 *   A  read in whole chunks, parser_run()
 *   B  read in 1..13-byte pieces, parser_run()
 *   C  read in whole chunks, pipeline_parse() (worker thread)
 *   D  like A, with a handler that fails at the Nth record
 *   E  like C, with the same failing handler
 *   F  like A, with tiny limits (depth, text, records, results), so that
 *      every limit trips somewhere in the middle of a report
 * and the results must agree: A = C and D = E exactly (the pipeline
 * promises parser_run()'s contract), A = B in outcome and content (how the
 * bytes are cut must not change what is stored).  Beyond that, a report
 * accepted must carry what the store needs (its key), and the record count
 * must be the records actually handed over.
 */
#include "fuzz.h"

#include "parser.h"
#include "pipeline.h"

struct outcome {
	enum parse_status st;
	int passes;	     /* 2 when a salvage pass ran */
	int handler_failed;  /* from the handler's own bookkeeping */
	unsigned begins;
	int complete;
	uint64_t delivered;  /* digest of everything the handler was given */
	uint64_t ncb;	     /* record callbacks */
	unsigned fail_at;    /* fail at this record callback; 0 never */
	struct parse_result res;
	char defect[256];    /* the strict pass's, as the importer keeps it */
	uint64_t meta_hash;  /* parser_meta() after the run */
	int key_ok;	     /* the final header has a complete key */
	struct err e;
};

static int
on_begin(void *arg, const struct dmarc_meta *m, int complete, struct err *e)
{
	struct outcome *o = arg;

	(void)e;
	o->begins++;
	o->complete = complete;
	/* a complete header has passed the parser's checks: the store
	 * looks the report up by this key at once */
	if (complete)
		FUZZ_CHECK(m->org_name != NULL && m->report_id != NULL &&
		    m->domain != NULL && m->has_begin && m->has_end);
	o->delivered = fuzz_hash_meta(o->delivered, m);
	o->delivered = fuzz_hash_mem(o->delivered, &complete,
	    sizeof(complete));
	return 0;
}

static int
on_record(void *arg, const struct dmarc_record *r, struct err *e)
{
	struct outcome *o = arg;

	FUZZ_CHECK(o->begins == 1); /* begin always comes first */
	o->ncb++;
	o->delivered = fuzz_hash_record(o->delivered, r);
	if (o->fail_at != 0 && o->ncb == o->fail_at) {
		o->handler_failed = 1;
		return err_set(e, "handler refused record %u", o->fail_at);
	}
	return 0;
}

static void
run(struct parser *p, const uint8_t *data, size_t size, int small,
    int pipeline, unsigned fail_at, struct outcome *o)
{
	struct parse_handler h = {o, on_begin, on_record};
	enum parse_mode mode = PARSE_STRICT;
	const struct dmarc_meta *m;
	struct fuzz_mem mem;
	struct reader rd;

	memset(o, 0, sizeof(*o));
	o->fail_at = fail_at;
	for (;;) {
		/* a new pass starts from scratch, as the importer's does
		 * after rolling the first one back */
		o->begins = 0;
		o->ncb = 0;
		o->delivered = 0;
		o->handler_failed = 0;
		o->passes++;
		rd = fuzz_mem_reader(&mem, data, size, small);
		if (pipeline)
			o->st = pipeline_parse(p, &rd, mode, &h, &o->res, &o->e);
		else
			o->st = parser_run(p, &rd, mode, &h, &o->res, &o->e);
		if (o->st != PARSE_TRY_SALVAGE)
			break;
		FUZZ_CHECK(mode == PARSE_STRICT);
		FUZZ_CHECK(o->res.defect[0] != '\0');
		snprintf(o->defect, sizeof(o->defect), "%s", o->res.defect);
		mode = PARSE_SALVAGE;
	}
	m = parser_meta(p);
	o->meta_hash = fuzz_hash_meta(0, m);
	o->key_ok = m->org_name != NULL && m->report_id != NULL &&
	    m->domain != NULL && m->has_begin && m->has_end;
	FUZZ_CHECK(o->st == PARSE_OK || o->st == PARSE_REJECT);
	FUZZ_CHECK(o->begins <= 1);
	if (o->st == PARSE_REJECT) {
		FUZZ_CHECK(o->e.msg[0] != '\0');
		FUZZ_CHECK(memchr(o->e.msg, '\0', sizeof(o->e.msg)) != NULL);
	} else {
		/* what the importer stores */
		FUZZ_CHECK(!o->handler_failed);
		FUZZ_CHECK(o->begins == 1);
		FUZZ_CHECK(o->key_ok);
		FUZZ_CHECK(o->res.records == o->ncb);
		/* a salvaged report says what was wrong with it */
		FUZZ_CHECK(!o->res.salvaged || o->res.defect[0] != '\0' ||
		    o->defect[0] != '\0');
		FUZZ_CHECK(o->passes == 1 || o->res.salvaged);
	}
	if (o->handler_failed)
		FUZZ_CHECK(o->st == PARSE_REJECT);
}

static void
dump(const char *name, const struct outcome *o)
{
	fprintf(stderr,
	    "%s: status %d, passes %d, handler failed %d, begins %u, "
	    "records %llu (callbacks %llu), messages %llu, salvaged %d\n"
	    "  error: %s\n  defect: %s\n  strict defect: %s\n",
	    name, o->st, o->passes, o->handler_failed, o->begins,
	    (unsigned long long)o->res.records, (unsigned long long)o->ncb,
	    (unsigned long long)o->res.messages, o->res.salvaged,
	    o->st == PARSE_OK ? "" : o->e.msg, o->res.defect, o->defect);
}

/* Two ways of parsing the same bytes that must agree. */
#define SAME(cond)                                                           \
	do {                                                                 \
		if (!(cond)) {                                               \
			fprintf(stderr, "%s and %s differ: %s\n", an, bn,    \
			    #cond);                                          \
			dump(an, a);                                         \
			dump(bn, b);                                         \
			abort();                                             \
		}                                                            \
	} while (0)

static void
same(const char *an, const struct outcome *a, const char *bn,
    const struct outcome *b, int exact)
{
	SAME(a->st == b->st);
	SAME(a->handler_failed == b->handler_failed);
	if (a->st == PARSE_OK) {
		SAME(a->res.records == b->res.records);
		SAME(a->res.messages == b->res.messages);
		SAME(a->res.hash == b->res.hash);
		SAME(a->res.salvaged == b->res.salvaged);
		SAME(a->meta_hash == b->meta_hash);
	}
	if (a->st == PARSE_OK || exact) {
		/* what the handler was given */
		SAME(a->delivered == b->delivered);
		SAME(a->ncb == b->ncb);
		SAME(a->begins == b->begins);
	}
	if (exact) {
		/* A rejected parse's counters are not part of the contract
		 * (the pipeline's worker may have read further before it
		 * heard of the failure); its message is. */
		SAME(a->passes == b->passes);
		/* the message of a rejection (a parse that succeeded has none
		 * to compare: a salvage's first pass may leave one behind) */
		if (a->st != PARSE_OK)
			SAME(strcmp(a->e.msg, b->e.msg) == 0);
		SAME(strcmp(a->defect, b->defect) == 0);
		if (a->st == PARSE_OK)
			SAME(strcmp(a->res.defect, b->res.defect) == 0);
	}
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct parser *p, *tiny;
	static struct outcome a, b, c, d, e, f;
	struct parse_limits lim;

	if (p == NULL && (p = parser_new(NULL)) == NULL)
		abort();
	if (tiny == NULL) {
		lim.max_depth = 6;
		lim.max_text = 24;
		lim.max_records = 3;
		lim.max_results = 2;
		if ((tiny = parser_new(&lim)) == NULL)
			abort();
	}
	run(tiny, data, size, 0, 0, 0, &f);
	run(p, data, size, 0, 0, 0, &a);
	run(p, data, size, 1, 0, 0, &b);
	run(p, data, size, 0, 1, 0, &c);
	same("whole", &a, "pipeline", &c, 1);
	same("whole", &a, "small reads", &b, 0);
	if (a.ncb > 0) {
		/* fail at one of the records a plain run delivers */
		unsigned at = 1 + (unsigned)(size % a.ncb);
		run(p, data, size, 0, 0, at, &d);
		run(p, data, size, 0, 1, at, &e);
		FUZZ_CHECK(d.handler_failed);
		same("failing handler", &d, "failing handler, pipeline", &e,
		    1);
	}
	return 0;
}

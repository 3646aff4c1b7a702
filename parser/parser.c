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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "parser-impl.h"

void
parse_limits_default(struct parse_limits *lim)
{
	lim->max_depth = 32;
	lim->max_text = 64 * 1024;
	lim->max_records = 10000000;
	lim->max_results = 1000;
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

const struct dmarc_meta *
parser_meta(const struct parser *p)
{
	return &p->meta;
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

	rc = parser_feed(p, in, e);
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
			err_set(
			    e,
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
			err_set(
			    e,
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
				snprintf(
				    res->defect, sizeof(res->defect),
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
		 * ("expat compatibility") even in SAX mode; it is ours to free
		 */
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
		/* a dry run only to learn whether the document is whole */
		(void)run_once(p, &rd, PARSE_SALVAGE, 0, &dry, res, e);
		whole = !p->feedback_done && !p->failed;
		rp.pos = 0;
	}
	st = run_once(p, &rd, PARSE_SALVAGE, whole, h, res, e);
	buf_free(&ahead);
	return st;
}

enum parse_status
parser_run(struct parser *p, struct reader *in, enum parse_mode mode,
           const struct parse_handler *h, struct parse_result *res,
           struct err *e)
{
	enum parse_status st;
	char msg[ERR_MSG_MAX];

	if (mode == PARSE_SALVAGE)
		st = salvage(p, in, h, res, e);
	else
		st = run_once(p, in, mode, 0, h, res, e);
	if (st == PARSE_REJECT && p->nul_pad > 0 && !p->handler_failed) {
		/* what the input really is: a report cut short, padded */
		snprintf(msg, sizeof(msg),
		         "%.900s (the document ends in %llu "
		         "NUL bytes of padding)",
		         e->msg, (unsigned long long)p->nul_pad);
		err_set(e, "%s", msg);
	}
	return st;
}

/*
 * parser-feed.c - bytes into libxml2: whole chunks, the attribute guard, NUL
 * padding, the MIME charset, and the whole-document recovery of salvage.
 */
#include <libxml/parserInternals.h>
#include <stdarg.h>
#include <strings.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parser-impl.h"

/* ---------------------------------------------------------------------
 * Start tags with too many attributes
 *
 * libxml2 2.9 checks each attribute of a start tag against all the others
 * before any callback of ours runs: 200,000 attributes (2 MB) take 12 s,
 * the 100 MB --max-input allows would take days.  No report needs more
 * than a few (namespace declarations), so the bytes are watched on their
 * way in and a tag with more than MAX_ATTRS is refused before libxml2 sees
 * it.  The scan follows XML's syntax (quotes, comments) only as far as
 * needed to count the '=' of a start tag outside its values.  An end tag
 * is passed over like text, to the next '<': it has no attributes, and a
 * '<' inside a broken one is then taken for the start of a tag, which can
 * only count more.
 */

#define MAX_ATTRS 256

enum tag_state { TS_TEXT, TS_OPEN, TS_TAG, TS_QUOTE, TS_OTHER };

struct tag_scan {
	enum tag_state st;
	unsigned char quote;
	unsigned attrs;   /* '=' seen in the current start tag */
	int in_name;      /* reading the start tag's name */
	size_t nlen;      /* bytes of its local name so far */
	char name[8];     /* its first bytes */
	uint64_t records; /* <record> start tags: what a salvage could have
	                     read, for "N records could not be read" */
};

/* Follows the name of a start tag; at its end, counts it when it is a
 * <record> (with any prefix). */
static void
tag_name(struct tag_scan *t, unsigned char c)
{
	if (c > '>') { /* letters and '_': most bytes of a name, tested once */
		if (t->nlen < sizeof(t->name))
			t->name[t->nlen++] = (char)c;
	} else if (c == ':') {
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

/* The position of byte c in s[i..n), or n: memchr runs many bytes a
 * step, and text and end tags, most of a report, need no more. */
static size_t
skip_to(const unsigned char *s, size_t i, size_t n, unsigned char c)
{
	const unsigned char *p = memchr(s + i, c, n - i);

	return p != NULL ? (size_t)(p - s) : n;
}

/* The bytes that change the state inside a start tag. */
static const unsigned char tag_stop[256] = {
    ['"'] = 1, ['\''] = 1, ['='] = 1, ['>'] = 1, ['<'] = 1,
};

/* Returns -1 when a start tag has more than MAX_ATTRS attributes.  Each
 * state runs its bytes in a loop of its own: the switch is taken once per
 * change of state, not once per byte. */
static int
tag_scan(struct tag_scan *t, const unsigned char *s, size_t n)
{
	size_t i;
	unsigned char c;

	for (i = 0; i < n; i++) {
		c = s[i];
		switch (t->st) {
		case TS_TEXT:
			if (c != '<' && (i = skip_to(s, i, n, '<')) == n)
				return 0;
			t->st = TS_OPEN;
			break;
		case TS_OPEN: /* just after '<' */
			t->attrs = 0;
			t->st = c == '/'               ? TS_TEXT
			        : c == '!' || c == '?' ? TS_OTHER
			        : c == '<'             ? TS_OPEN
			                               : TS_TAG;
			if (t->st == TS_TAG) {
				t->in_name = 1;
				t->nlen = 0;
				tag_name(t, c);
			}
			break;
		case TS_TAG:
			for (;;) {
				if (t->in_name)
					tag_name(t, c);
				if (tag_stop[c])
					break;
				if (++i == n)
					return 0;
				c = s[i];
			}
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
			while (c != t->quote && c != '<') {
				if (++i == n)
					return 0;
				c = s[i];
			}
			t->st = c == '<' ? TS_OPEN : TS_TAG;
			break;
		case TS_OTHER: /* comment, PI, DOCTYPE, CDATA */
			if (c != '>' && (i = skip_to(s, i, n, '>')) == n)
				return 0;
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

/* What parser_feed() keeps between chunks. */
struct feeder {
	struct salvage_filter sf;
	struct tag_scan ts;
	unsigned char *fbuf; /* salvage: the filtered chunk */
	xmlSAXHandler sax;
	struct buf whole; /* recover: the whole filtered document */
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
		keep = 0; /* data after padding: not padding */
	for (i = keep; i < n; i++)
		if (c[i] != '\0')
			return err_set(
			    e,
			    "the document contains NUL bytes "
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

	if (n >= 2 &&
	    ((s[0] == 0xfe && s[1] == 0xff) || (s[0] == 0xff && s[1] == 0xfe) ||
	     (n >= 3 && s[0] == 0xef && s[1] == 0xbb && s[2] == 0xbf)))
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
	warn_add(
	    &p->res->warnings, "charset",
	    "no encoding declaration: read as %.40s, the MIME part's charset",
	    p->charset);
}

/* The push parser, created at the first bytes (libxml2 sniffs the
 * encoding from them). */
static int
push_start(struct parser *p, struct feeder *f, const unsigned char *data,
           size_t len, struct err *e)
{
	parser_sax_init(&f->sax);
	p->ctxt = xmlCreatePushParserCtxt(&f->sax, p, NULL, 0, NULL);
	if (p->ctxt == NULL)
		return err_set(e, "cannot create XML parser");
	apply_charset(p, data, len);
	parser_intern_names(p);
	xmlCtxtUseOptions(
	    p->ctxt, XML_PARSE_NONET |
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
		return err_set(e,
		               "an element has more than %d attributes: "
		               "not a report (and too slow to parse)",
		               MAX_ATTRS);
	if (p->mode == PARSE_SALVAGE) {
		/* recovery must not turn binary data into a report */
		if ((keep = strip_nul_padding(p, chunk, n, e)) < 0)
			return -1;
		len = parser_salvage_chunk(&f->sf, chunk, (size_t)keep, f->fbuf,
		                           last);
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
	p->ctxt = xmlCreateMemoryParserCtxt(f->whole.data ? f->whole.data : "",
	                                    (int)f->whole.len);
	if (p->ctxt == NULL)
		return err_set(e, "cannot create XML parser");
	parser_sax_init(&f->sax);
	memcpy(p->ctxt->sax, &f->sax, sizeof(f->sax));
	p->ctxt->userData = p;
	apply_charset(p, (const unsigned char *)f->whole.data, f->whole.len);
	parser_intern_names(p);
	xmlCtxtUseOptions(p->ctxt, XML_PARSE_NONET | XML_PARSE_RECOVER);
	xmlDictSetLimit(p->ctxt->dict, NAMES_LIMIT);
	xmlParseDocument(p->ctxt);
	return 0;
}

/* Feeds the whole input to libxml2.  Returns 0, or -1 when the reader
 * failed (e is filled). */
int
parser_feed(struct parser *p, struct reader *in, struct err *e)
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
	xmlSetGenericErrorFunc(p, parser_on_generic);
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

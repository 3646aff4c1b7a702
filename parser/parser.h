/*
 * parser.h - streaming parser for DMARC aggregate reports (RFC 7489,
 * RFC 9990 and what real reporters actually send).
 *
 * The parser owns: reading XML from a struct reader with libxml2's SAX2 push
 * interface, matching elements by local name whatever their namespace,
 * normalising values, enforcing the XML limits (depth, text length, records)
 * and deciding whether a document is a report, a salvageable report or not
 * a report at all.  It does not own where the bytes come from (ingest/) or
 * where records go (the handler, normally store/).
 *
 * Memory does not grow with the number of records: the header is handed
 * over once, then each record in turn, and nothing of a record is kept after
 * its callback returns.  No DOM is ever built.
 *
 * Safety: no entity substitution, no DTD loading, no network (XML_PARSE_NONET),
 * no XML_PARSE_HUGE; a document that declares entities is refused outright.
 */
#ifndef DMARCSIFT_PARSER_H
#define DMARCSIFT_PARSER_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "reader.h"
#include "report.h"
#include "warn.h"

struct parse_limits {
	unsigned max_depth;   /* element nesting (default 32) */
	size_t max_text;      /* bytes of text in one element (64 KiB) */
	uint64_t max_records; /* <record>s per report (10 million) */
	size_t max_results;   /* dkim, spf or reason entries per record (1000) */
};

void parse_limits_default(struct parse_limits *lim);

enum parse_mode {
	PARSE_STRICT,  /* well-formed XML only */
	PARSE_SALVAGE, /* libxml2 recovery, invalid UTF-8 repaired, leading
			  white space before <?xml dropped */
};

struct parse_handler {
	void *arg;
	/* Called once per report, before the first record, or at the end
	 * for a report without records.  complete is 1 when report_metadata
	 * and policy_published were both read before the first record (so
	 * the identifying fields are final); 0 when the report puts records
	 * first and the header must be taken from parser_meta() at the end. */
	int (*begin)(void *arg, const struct dmarc_meta *m, int complete,
	    struct err *e);
	/* Called for each <record> at its end tag. */
	int (*record)(void *arg, const struct dmarc_record *r, struct err *e);
};

struct parse_result {
	uint64_t records;  /* <record> elements handed over */
	uint64_t messages; /* sum of their counts */
	uint64_t hash;	   /* of the normalised records, whatever their
			      order (the sum of each record's mixed FNV-1a),
			      to tell re-sent copies of a report from
			      different reports that share its key */
	uint64_t hash_ordered; /* the records' FNV-1a chained in document
				  order: the content_hash stored before the
				  order-independent one, compared too so that
				  copies of those reports stay duplicates */
	int salvaged;	   /* stored despite not being well-formed */
	uint64_t lost;	   /* salvaged: <record> start tags in the input
			      that gave no record (records not read) */
	uint64_t next_doc; /* > 0: another document starts after this
			      report, and this is where this one's input
			      ended (after </feedback>): the caller parses
			      the input again from there (unpack.c) */
	char defect[256];  /* what was not well-formed, with line:column */
	struct warnings warnings;
};

enum parse_status {
	PARSE_OK = 0,
	PARSE_REJECT = -1,     /* not a (usable) report: see the error */
	PARSE_TRY_SALVAGE = 1, /* strict parse found malformed XML before the
				  report was complete: run again with
				  PARSE_SALVAGE (the handler must discard what
				  it got from this pass) */
};

/* What the store keeps as the content hash of a salvaged report: its
 * hash xor this, so that a complete copy never matches a salvaged one (and
 * replaces it: import.c), while two salvaged copies still match. */
#define PARSE_HASH_SALVAGED 0x5a17a6ed5a17a6edULL

struct parser;

struct parser *parser_new(const struct parse_limits *lim);
void parser_free(struct parser *p);

/* Parses one document.  On PARSE_REJECT the error says why, with
 * line:column when the XML is at fault.  A handler callback that fails makes
 * the parse fail with the callback's error. */
enum parse_status parser_run(struct parser *p, struct reader *in,
    enum parse_mode mode, const struct parse_handler *h,
    struct parse_result *res, struct err *e);

/* The header of the last parsed report; valid until the next parser_run. */
const struct dmarc_meta *parser_meta(const struct parser *p);

#endif

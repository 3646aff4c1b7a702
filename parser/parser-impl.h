/*
 * parser-impl.h - what the files of the report parser share.  Private to
 * parser/: the rest of the tree sees parser.h.
 *
 *   parser.c          the driver: parser_new(), parser_run(), the verdict
 *   parser-sax.c      the state machine: libxml2's SAX callbacks
 *   parser-fields.c   the header and the leaf values, normalised
 *   parser-records.c  records: their arena, totals and fingerprint
 *   parser-feed.c     bytes into libxml2: chunks, limits, charset, recovery
 *   salvage.c         the salvage mode's UTF-8 repair
 *   record-copy.c     deep copies of a record (pipeline.c)
 */
#ifndef DMARCSIFT_PARSER_IMPL_H
#define DMARCSIFT_PARSER_IMPL_H

#include <libxml/parser.h>
#include <stdint.h>

#include "buf.h"
#include "parser.h"

#define CHUNK     65536
#define NOFF      ((size_t)-1) /* "no value" for an arena offset */
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

struct edge {
	unsigned char parent;
	unsigned char child;
	const char *name;
};
#define NEDGES 50
extern const struct edge parser_edges[NEDGES];

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

	unsigned char *stack;   /* state per open element */
	unsigned short *nsdecl; /* namespace declarations of each */
	unsigned ns_in_scope;   /* their sum */
	char (*names)[32];      /* their names, kept in salvage mode only */
	char real_end[32];      /* salvage: the end tag actually written */
	const xmlChar *edge_name[NEDGES];
	size_t first_edge[ST_COUNT], end_edge[ST_COUNT];
	unsigned depth;
	struct buf text; /* text of the current leaf element */

	char *hdr[HF_COUNT];
	struct dmarc_meta meta;
	int meta_seen, pol_seen, meta_done, pol_done, date_seen;
	int feedback_seen, feedback_done, begun, begun_complete;
	char wrapper[64]; /* name of a stray element around <feedback> */
	char root[64];    /* name of the root element */
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
	uint64_t root_end;    /* input bytes up to the end of <feedback> */
	uint64_t record_tags; /* <record> start tags in the input */
	uint64_t input_bytes; /* read so far */
	uint64_t nul_pad;     /* salvage: NUL bytes dropped at the end */
	int recover_whole;    /* salvage: recover the whole document at once */
	const char *charset;  /* the container's charset (reader.h) */
};

struct salvage_filter {
	int started;  /* leading white space already dropped */
	int repair;   /* replace invalid UTF-8 */
	int replaced; /* invalid bytes replaced so far */
	int foreign;  /* the container declared a charset other than UTF-8 */
	unsigned char pend[4];
	size_t npend;
};

/* parser-sax.c */
void parser_fail(struct parser *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
unsigned long parser_line(const struct parser *p);
unsigned long parser_col(const struct parser *p);
const char *parser_leaf_name(enum state st);
void parser_intern_names(struct parser *p);
void parser_sax_init(xmlSAXHandler *sax);
void parser_on_generic(void *ctx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* parser-fields.c */
void parser_hdr_set(struct parser *p, enum hfield f, const char *v);
int parser_meta_check(struct parser *p);
void parser_call_begin(struct parser *p, int complete);
void parser_leaf_end(struct parser *p, enum state st);

/* parser-records.c */
size_t parser_arena_put(struct parser *p, const char *s);
void parser_rec_reset(struct parser *p);
void *parser_grow(struct parser *p, void **arr, size_t *n, size_t *cap,
                  size_t size, const char *what);
void parser_rec_finish(struct parser *p);

/* parser-feed.c */
int parser_feed(struct parser *p, struct reader *in, struct err *e);

/* salvage.c */
size_t parser_salvage_chunk(struct salvage_filter *f, const unsigned char *in,
                            size_t n, unsigned char *out, int last);

#endif

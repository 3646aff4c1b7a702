/*
 * parser-sax.c - the state machine: libxml2's SAX2 callbacks, matching elements
 * by local name (see parser.c for why) and following the document's
 * structure through the table parser_edges.
 */
#include <libxml/parserInternals.h>
#include <libxml/SAX2.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parser-impl.h"

const struct edge parser_edges[] = {
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
_Static_assert(sizeof(parser_edges) / sizeof(parser_edges[0]) == NEDGES,
               "NEDGES (parser-impl.h) is the number of edges");

static void pop_one(struct parser *p);

unsigned long
parser_line(const struct parser *p)
{
	return p->ctxt ? (unsigned long)xmlSAX2GetLineNumber(p->ctxt) : 0;
}

unsigned long
parser_col(const struct parser *p)
{
	return p->ctxt ? (unsigned long)xmlSAX2GetColumnNumber(p->ctxt) : 0;
}

/* Records a fatal problem (the first one wins) and stops libxml2. */
void
parser_fail(struct parser *p, const char *fmt, ...)
{
	char msg[ERR_MSG_MAX - 64];
	va_list ap;

	if (p->failed)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (p->ctxt != NULL)
		err_set(p->e, "line %lu:%lu: %s", parser_line(p), parser_col(p),
		        msg);
	else
		err_set(p->e, "%s", msg);
	p->failed = 1;
	if (p->ctxt != NULL)
		xmlStopParser(p->ctxt);
}

/* ---------------------------------------------------------------------
 * SAX callbacks
 */

static enum state
child_state(struct parser *p, enum state parent, const xmlChar *name)
{
	size_t i;

	/* Element names come from libxml2's dictionary, which interns each
	 * name once: comparing pointers is enough (see parser_intern_names()).
	 */
	for (i = p->first_edge[parent]; i < p->end_edge[parent]; i++)
		if (p->edge_name[i] == name)
			return (enum state)parser_edges[i].child;
	return ST_SKIP;
}

/* Looks our element names up in the parser's dictionary once per
 * document.  Edges are grouped by parent in the table. */
void
parser_intern_names(struct parser *p)
{
	size_t i, n = NEDGES;

	memset(p->first_edge, 0, sizeof(p->first_edge));
	memset(p->end_edge, 0, sizeof(p->end_edge));
	for (i = 0; i < n; i++) {
		p->edge_name[i] = xmlDictLookup(
		    p->ctxt->dict, (const xmlChar *)parser_edges[i].name, -1);
		if (p->end_edge[parser_edges[i].parent] == 0)
			p->first_edge[parser_edges[i].parent] = i;
		p->end_edge[parser_edges[i].parent] = i + 1;
	}
}

/* Entering a container: duplicates and per-scope bookkeeping.  Long
 * because it is one case per container state, each a few lines: together
 * they show every "first one wins" rule at once. */
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
			         parser_line(p));
			return ST_SKIP;
		}
		p->feedback_seen = 1;
		parser_hdr_set(p, HF_XMLNS, uri);
		if (parent == ST_WRAPPER)
			warn_add(&p->res->warnings, "wrapper",
			         "report wrapped in a stray <%s> element",
			         p->wrapper);
		break;
	case ST_META:
		if (p->meta_seen) {
			warn_add(
			    &p->res->warnings, "dupmeta",
			    "duplicate <report_metadata> at line %lu ignored "
			    "(the first is used)",
			    parser_line(p));
			return ST_SKIP;
		}
		p->meta_seen = 1;
		break;
	case ST_POL:
		if (p->pol_seen) {
			warn_add(
			    &p->res->warnings, "duppol",
			    "duplicate <policy_published> at line %lu ignored "
			    "(the first is used)",
			    parser_line(p));
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
			parser_fail(p,
			            "more than %llu records in one report "
			            "(limit --max-records)",
			            (unsigned long long)p->lim.max_records);
			return ST_SKIP;
		}
		if (!p->begun)
			parser_call_begin(p, p->meta_done && p->pol_done);
		parser_rec_reset(p);
		break;
	case ST_ROW:
	case ST_IDS:
	case ST_AUTH: {
		int *flag = st == ST_ROW   ? &r->row_seen
		            : st == ST_IDS ? &r->ids_seen
		                           : &r->auth_seen;
		if (*flag) {
			warn_add(
			    &p->res->warnings, "duprow",
			    "duplicate <%s> in the record at line %lu ignored "
			    "(the first is used)",
			    name, r->line);
			return ST_SKIP;
		}
		*flag = 1;
		break;
	}
	case ST_REASON: {
		struct off_reason *o =
		    parser_grow(p, (void **)&r->reasons, &r->nreasons,
		                &r->capreasons, sizeof(*o), "reason");
		if (o == NULL)
			return ST_SKIP;
		o->type = o->orig = o->comment = NOFF;
		memset(p->seen + ST_REASON_TYPE, 0, 2);
		break;
	}
	case ST_ADKIM: {
		struct off_dkim *o =
		    parser_grow(p, (void **)&r->dkim, &r->ndkim, &r->capdkim,
		                sizeof(*o), "dkim");
		if (o == NULL)
			return ST_SKIP;
		o->domain = o->selector = o->result = o->human = NOFF;
		memset(p->seen + ST_ADKIM_DOMAIN, 0, 4);
		break;
	}
	case ST_ASPF: {
		struct off_spf *o = parser_grow(p, (void **)&r->spf, &r->nspf,
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
		if (strcmp(parser_edges[e].name, name) == 0)
			break;
	if (e == p->end_edge[ST_FEEDBACK])
		return;
	warn_add(&p->res->warnings, "unclosed",
	         "<%s> at line %lu starts before the previous <%s> was closed; "
	         "closed it there",
	         name, parser_line(p), p->names[k + 1]);
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
		parser_fail(p,
		            "elements nested deeper than %u levels (limit "
		            "--max-depth)",
		            p->lim.max_depth);
		return;
	}
	if (nns < 0 || p->ns_in_scope + (unsigned)nns > MAX_NS_IN_SCOPE) {
		parser_fail(p,
		            "more than %d XML namespace declarations in scope: "
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
				snprintf(p->wrapper, sizeof(p->wrapper),
				         "%s%s%s",
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
		parser_leaf_end(p, st);
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
		parser_rec_finish(p);
		break;
	case ST_FEEDBACK:
		p->feedback_done = 1;
		if (p->depth == 0 && p->mode == PARSE_STRICT)
			p->root_end = (uint64_t)xmlByteConsumed(p->ctxt);
		if (!p->begun)
			parser_call_begin(p, 1);
		else if (!p->begun_complete)
			parser_meta_check(p);
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
		parser_fail(p,
		            "text of <%s> is longer than %zu bytes (limit "
		            "--max-text)",
		            parser_leaf_name(st), p->lim.max_text);
		return;
	}
	if (buf_append(&p->text, ch, (size_t)len, &e) == -1)
		parser_fail(p, "%s", e.msg);
}

static void
on_entity_decl(void *ctx, const xmlChar *name, int type,
               const xmlChar *public_id, const xmlChar *system_id,
               xmlChar *content)
{
	struct parser *p = ctx;

	(void)type;
	(void)public_id;
	(void)system_id;
	(void)content;
	/* No report needs entities; declaring them is how entity-expansion
	 * ("billion laughs") and external-entity (XXE) attacks start. */
	parser_fail(p,
	            "the document declares the entity '%.40s': entity "
	            "declarations are refused (possible entity-expansion or "
	            "external-entity attack)",
	            (const char *)name);
}

static void
on_reference(void *ctx, const xmlChar *name)
{
	struct parser *p = ctx;

	parser_fail(p, "entity reference &%.40s; refused", (const char *)name);
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
		warn_add(&p->res->warnings, "ns",
		         "XML namespace error at "
		         "line %d: %.80s",
		         err->line, err->message ? err->message : "");
		return;
	}
	if (err->code == XML_ERR_NO_MEMORY && p->ctxt != NULL &&
	    xmlDictGetUsage(p->ctxt->dict) >= NAMES_LIMIT) {
		/* the dictionary refused a name (xmlDictSetLimit) */
		parser_fail(p,
		            "the document uses more than %u bytes of distinct "
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
	if (p->mode == PARSE_SALVAGE &&
	    err->code == XML_ERR_TAG_NAME_MISMATCH && err->str2 != NULL)
		snprintf(p->real_end, sizeof(p->real_end), "%s", err->str2);
	if (!p->xml_error) {
		p->xml_error = 1;
		p->xml_line = (unsigned long)err->line;
		p->xml_col = (unsigned long)err->int2;
		snprintf(p->xml_msg, sizeof(p->xml_msg), "%s",
		         err->message ? err->message : "malformed XML");
		p->xml_msg[strcspn(p->xml_msg, "\n")] = '\0';
		n = strlen(p->xml_msg);
		while (n > 0 &&
		       (p->xml_msg[n - 1] == '\n' || p->xml_msg[n - 1] == ' '))
			p->xml_msg[--n] = '\0';
	}
	if (p->mode == PARSE_STRICT && p->ctxt != NULL)
		xmlStopParser(p->ctxt);
}

/* libxml2 reports a few errors, bytes invalid in the declared encoding
 * above all, only through its generic handler, which prints them on stderr
 * ("input conversion failed due to input error, bytes 0xA0...") and leaves
 * the parse to end as if the document were cut short.  They are taken as the
 * document's defect instead: the first line of the first one. */
void
parser_on_generic(void *ctx, const char *fmt, ...)
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
		p->xml_line = parser_line(p);
		p->xml_col = parser_col(p);
		snprintf(p->xml_msg, sizeof(p->xml_msg), "%s%.150s", msg,
		         p->generic);
		n = strlen(p->xml_msg);
		while (n > 0 && p->xml_msg[n - 1] == ' ')
			p->xml_msg[--n] = '\0';
	}
	p->generic[0] = '\0';
}

void
parser_sax_init(xmlSAXHandler *sax)
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

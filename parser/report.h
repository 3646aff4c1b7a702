/*
 * report.h - the data model of one DMARC aggregate report, as handed from
 * the parser to the store.
 *
 * Values are already normalised (see normalize.h): trimmed, enum words in
 * lower case, domains in lower case without a trailing dot, IP addresses in
 * canonical text form.  An absent or empty element is NULL, never "".
 *
 * The strings in a struct dmarc_record point into the parser's per-record
 * arena and are valid only during the callback that receives the record;
 * a consumer that keeps them must copy.  The header (struct dmarc_meta) is
 * valid until the parser is reset or freed.
 */
#ifndef DMARCSIFT_REPORT_H
#define DMARCSIFT_REPORT_H

#include <stddef.h>
#include <stdint.h>

struct dmarc_meta {
	/* <feedback> */
	const char *xmlns;   /* namespace of <feedback>, NULL when none */
	const char *version; /* <version> as written */

	/* <report_metadata> */
	const char *org_name;
	int org_name_derived; /* 1: org_name was empty, derived from email */
	const char *email;
	const char *extra_contact_info;
	const char *report_id; /* without surrounding <> */
	const char *errors;    /* every <error>, joined with "\n" */
	const char *generator; /* RFC 9990 */
	int64_t begin, end;    /* epoch seconds, UTC */
	int has_begin, has_end;

	/* <policy_published> */
	const char *domain;
	const char *adkim, *aspf; /* "r" | "s" */
	const char *p, *sp, *np;  /* none | quarantine | reject */
	int pct;                  /* -1 when absent (RFC 9990 removed it) */
	const char *fo;
	const char *testing;          /* RFC 9990: "n" | "y" */
	const char *discovery_method; /* RFC 9990: "psl" | "treewalk" */
};

struct dmarc_reason {
	const char *type;          /* a known override type, else "other" */
	const char *type_original; /* the word as written when it was unknown */
	const char *comment;
};

struct dmarc_dkim {
	const char *domain;
	const char *selector;
	const char *result;
	const char *human_result;
};

struct dmarc_spf {
	const char *domain;
	const char *scope; /* "mfrom" | "helo" | NULL */
	const char *result;
	const char *human_result;
};

struct dmarc_record {
	unsigned long line;    /* line of the <record> start tag */
	const char *source_ip; /* canonical; NULL when empty or invalid */
	int64_t count;
	const char *disposition; /* none | quarantine | reject | pass */
	const char *dkim, *spf;  /* policy_evaluated: pass | fail */
	const struct dmarc_reason *reasons;
	size_t nreasons;
	const char *header_from;
	const char *envelope_from;
	const char *envelope_to;
	const struct dmarc_dkim *dkim_results;
	size_t ndkim;
	const struct dmarc_spf *spf_results;
	size_t nspf;
};

#endif

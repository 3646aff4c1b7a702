/*
 * tlsrpt.h - SMTP TLS reports (RFC 8460): the JSON document a sending MTA
 * mails to the address in a domain's _smtp._tls TXT record, read into one
 * validated structure.
 *
 * Owns: recognising such a document by content (tlsrpt_looks_like), parsing
 * it with jansson (duplicate keys refused, no NUL in strings, top level an
 * object), and checking the type of every field the store keeps, with a
 * message that names the field ("policies[2].summary.total-failure-session-
 * count: not an integer").  Counts are integers from 0 to 10^15; dates are
 * RFC 3339 date-times; domains are lower-cased without a trailing dot; IP
 * addresses are kept in their canonical form when they are addresses.
 *
 * Does not own: the size of the input (the caller reads at most its limit
 * before calling), storage, or what to do with a rejected report.
 */
#ifndef DMARCSIFT_TLSRPT_H
#define DMARCSIFT_TLSRPT_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

/* Largest JSON document read whatever --max-xml-size says: jansson keeps a
 * document in memory at several times its size. */
#define TLSRPT_MAX_BYTES (64u << 20)
#define TLSRPT_MAX_COUNT 1000000000000000LL

struct tlsrpt_failure {
	const char *result_type; /* "certificate-expired"... as written */
	const char *sending_mta_ip, *receiving_mx_hostname, *receiving_mx_helo,
	    *receiving_ip; /* NULL when absent */
	const char *additional_info, *failure_reason_code;
	int64_t failed_sessions;
};

struct tlsrpt_policy {
	const char *policy_type; /* "sts" | "tlsa" | "no-policy-found" */
	const char *policy_domain;
	const char *policy_string; /* the strings joined by "\n", or NULL */
	const char *mx_host;       /* the names joined by "\n", or NULL */
	int64_t successful, failed;
	struct tlsrpt_failure *failures;
	size_t nfailures;
};

struct tlsrpt_report {
	const char *organization, *report_id, *contact_info;
	int64_t begin, end; /* epoch seconds, UTC */
	struct tlsrpt_policy *policies;
	size_t npolicies;
	int64_t successful, failed; /* summed over the policies */
	void *owner;                /* everything the pointers point into */
};

/* 1 when the first bytes of a document look like an SMTP TLS report: a
 * JSON object naming "organization-name", "report-id" or "policies". */
int tlsrpt_looks_like(const unsigned char *p, size_t n);

/* Parses and validates a whole document.  On success r is filled and must
 * be given to tlsrpt_free(); on failure e says what is wrong and r needs
 * no freeing. */
int tlsrpt_parse(const unsigned char *data, size_t len, struct tlsrpt_report *r,
                 struct err *e);
void tlsrpt_free(struct tlsrpt_report *r);

#endif

/*
 * normalize.h - turning the text of a report element into the one canonical
 * form the store keeps.
 *
 * Reporters disagree on case ("Pass"), whitespace ("1361404799 "), decimals
 * in integers ("1538204542.0"), trailing dots on domains and IPv6 spelling.
 * Every comparison the report queries make (GROUP BY header_from, source_ip
 * in a CIDR) depends on these being settled once, at ingest time.
 *
 * The functions work in place on a NUL-terminated, writable string and
 * return a pointer into it (or NULL for "empty").
 */
#ifndef DMARCSIFT_NORMALIZE_H
#define DMARCSIFT_NORMALIZE_H

#include <stddef.h>
#include <stdint.h>

#define NORM_IP_MAX 46 /* INET6_ADDRSTRLEN */

/* Strips leading and trailing XML white space; NULL when nothing is left. */
char *norm_trim(char *s);

/* Trims and lower-cases ASCII letters; NULL when empty. */
char *norm_word(char *s);

/* Trims, lower-cases, drops one trailing dot, keeps the part after the last
 * '@' (some reporters write an address where a domain belongs).  A domain
 * with non-ASCII letters or an xn-- label is mapped by IDNA (UTS #46, NFC)
 * and kept in its Unicode form: BÜCHER.EXAMPLE, bücher.example and
 * xn--bcher-kva.example are all stored as bücher.example. */
char *norm_domain(char *s);

/* What makes a (normalised) domain unusable: "white space", "a control
 * character", ... or NULL when it has none of these.  Such a value would
 * forge lines or reorder text wherever it is printed. */
const char *norm_domain_defect(const char *s);

/* Canonical text form of an IPv4 or IPv6 address (inet_ntop of inet_pton),
 * IPv4-mapped IPv6 kept as such.  Returns 0, or -1 when s is not an IP. */
int norm_ip(const char *s, char out[NORM_IP_MAX]);

/* Parses a non-negative decimal integer, surrounding white space allowed.
 * With allow_fraction, "1538204542.0" and "1538204542.75" give 1538204542.
 * Returns 0, or -1 when s is not such a number or overflows int64. */
int norm_uint(const char *s, int allow_fraction, int64_t *out);

/* Report ids are sometimes written as <msg-id>: strips one pair of <>. */
char *norm_report_id(char *s);

/* Maps an SPF/DKIM result word to its RFC 8601 spelling: "hardfail" ->
 * "fail", and for SPF the RFC 7489 aliases "unknown" -> "temperror",
 * "error" -> "permerror".  Returns a static string, or s itself when the
 * word is not one of those. */
const char *norm_auth_result(char *s, int spf);

/* The DKIM and SPF result words of RFC 8601 (after norm_auth_result()),
 * NULL-terminated: the one table of them. */
extern const char *const norm_dkim_results[];
extern const char *const norm_spf_results[];

/* Returns the static canonical override-reason type for a lower-cased word,
 * or NULL when the word is not a type defined by RFC 7489 or RFC 9990. */
const char *norm_reason_type(const char *word);

#endif

/*
 * dns.h - DNS lookups on c-ares: names for the source addresses of the
 * reports (PTR, then A/AAAA of that name: forward-confirmed), and the
 * records `dmarc-report check-dns` reads (TXT, MX, CNAME).
 *
 * Owns the c-ares channel: its servers (the system's resolver, or the
 * ones given as "HOST[:PORT],..."), the number of lookups in flight, the
 * timeout of each query and the time budget of the whole run.
 *
 * Promises:
 *  - at most max_inflight addresses are being looked up at once; each
 *    query is tried `tries` times (c-ares doubles the timeout on each
 *    retry); nothing runs past the budget: what is left when it is spent
 *    is reported as DNS_NOT_DONE, which is never stored as a result;
 *  - a name from DNS is data: dns_name_check() accepts only host names
 *    (letters, digits, hyphens and dots, labels of 1..63, at most 253
 *    bytes), lower-cased.  A PTR or target that is not one, and any answer
 *    longer than DNS_ANSWER_MAX or that does not parse, is dropped and
 *    counted (dns_stats.malformed), never passed on;
 *  - when the servers cannot be reached at all (refused, unreachable, or
 *    the first max_inflight lookups all time out with no answer of any
 *    kind), the run stops at once with one error, not one per address;
 *  - TXT text is returned as received (the strings of a record joined,
 *    RFC 7208 section 3.3), NUL bytes refused; print it with dns_escape().
 *
 * No global state: everything lives in the struct dns of a run.
 */
#ifndef DMARCSIFT_DNS_H
#define DMARCSIFT_DNS_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define DNS_NAME_MAX    254   /* 253 bytes of name and the NUL */
#define DNS_ANSWER_MAX  16384 /* bytes of one DNS message */
#define DNS_TXT_MAX     4096  /* bytes of one TXT record, joined */
#define DNS_SERVERS_MAX 512   /* bytes of a server list */

struct dns_options {
	const char *servers;   /* "HOST[:PORT],..." or NULL: the system's */
	unsigned max_inflight; /* addresses looked up at once (32) */
	unsigned timeout_ms;   /* of a query's first try (1500) */
	unsigned tries;        /* per query (2) */
	unsigned budget_ms;    /* of the whole run (20000) */
};

void dns_options_default(struct dns_options *o);

/* Checks a server list: 1 to 8 IP addresses, each with an optional
 * :PORT ([v6]:PORT for IPv6).  Host names are refused (the resolver
 * cannot be used to find the resolver). */
int dns_check_servers(const char *spec, struct err *e);

enum dns_status {
	DNS_OK,
	DNS_NXDOMAIN,  /* the name does not exist */
	DNS_NODATA,    /* it exists, without records of that type */
	DNS_TIMEOUT,   /* no answer in time */
	DNS_ERROR,     /* SERVFAIL, REFUSED... */
	DNS_MALFORMED, /* an answer that was dropped (see above) */
	DNS_NOT_DONE,  /* the budget ran out first */
};

const char *dns_status_name(enum dns_status s);

struct dns;

int dns_open(struct dns **out, const struct dns_options *o, struct err *e);
void dns_close(struct dns *d);

struct dns_stats {
	unsigned long asked, names, confirmed, nxdomain, timeouts, errors;
	unsigned long malformed; /* answers dropped */
	unsigned long not_done;  /* left for the next run */
	unsigned long elapsed_ms;
};

/* The name found for one address.  name is NULL unless status is DNS_OK;
 * confirmed is 1 when the name's A/AAAA records hold the address; ttl is
 * the smaller of the PTR's and, when confirmed, the A/AAAA's. */
struct dns_name {
	const char *ip;
	enum dns_status status;
	const char *name;
	int confirmed;
	uint32_t ttl;
};

/* Looks up the names of n addresses (textual IPv4 or IPv6; others get
 * DNS_ERROR) and calls cb once for each, in no particular order; the
 * pointers are valid during the call only.  Adds to *st.  Returns -1 (e
 * filled, the rest DNS_NOT_DONE and not called back) when the servers
 * cannot be reached. */
int dns_resolve_names(struct dns *d, const char *const *ips, size_t n,
                      void (*cb)(void *arg, const struct dns_name *r),
                      void *arg, struct dns_stats *st, struct err *e);

/* One resource record of an answer, of the type asked for (or a CNAME). */
struct dns_rr {
	uint16_t type; /* 5 CNAME, 15 MX, 16 TXT, 1 A, 28 AAAA */
	uint32_t ttl;
	uint16_t pref;             /* MX */
	char target[DNS_NAME_MAX]; /* CNAME, MX; checked host names */
	char *txt;                 /* TXT, joined; A/AAAA as text */
};

struct dns_answer {
	enum dns_status status;
	struct dns_rr *rr;
	size_t n;
	char cname[DNS_NAME_MAX]; /* the last CNAME followed, or "" */
};

#define DNS_T_A     1
#define DNS_T_CNAME 5
#define DNS_T_MX    15
#define DNS_T_TXT   16
#define DNS_T_AAAA  28

/* Asks for records of one type at name and waits for the answer (within
 * the budget).  The status says what DNS said; -1 only when the servers
 * cannot be reached at all or out of memory. */
int dns_query(struct dns *d, const char *name, int type, struct dns_answer *out,
              struct err *e);
void dns_answer_free(struct dns_answer *a);

/* Counters of the queries made with dns_query(): the SPF lookup budget
 * is counted by the caller, these only report. */
const struct dns_stats *dns_stats(const struct dns *d);

/* ---------------------------------------------------------------------
 * With the store (store-names.c): what dmarc-ingest does after a run and
 * `dmarc-report resolve` on demand.
 */
struct store;

/* How long an entry is kept before it is looked up again: the TTL for a
 * name, clamped to 1 hour .. 7 days; a day for NXDOMAIN, no data and
 * malformed answers; an hour for timeouts and errors. */
int64_t dns_entry_lifetime(enum dns_status s, uint32_t ttl);

/* Looks up the addresses of the store's records that have no name yet, or
 * whose entry expired (store_names_due), within o's budget, and stores the
 * results (store_names_put); what the budget leaves waits for the next
 * run.  cb (may be NULL) sees each result.  -1 with e filled when the
 * servers cannot be reached (what was found before is still stored) or
 * the store fails. */
int dns_resolve_store(struct store *st, const struct dns_options *o,
                      int64_t now,
                      void (*cb)(void *arg, const struct dns_name *r),
                      void *arg, struct dns_stats *stats, struct err *e);

struct logger;

/* What dmarc-ingest runs once a run's reports are committed:
 * dns_resolve_store() with the default options but the given servers (NULL:
 * the system's) and budget.  Never fails the run: a problem is one
 * warning (servers unreachable, lookups timed out, answers dropped), the
 * counts one line at -v. */
void dns_after_import(struct store *st, const char *servers, unsigned budget_s,
                      const struct logger *lg);

/* Normalises a host name from DNS or the user into out (lower case, no
 * trailing dot); -1 when it is not a host name (see above).  `underscore`
 * also allows '_' at the start of labels (_dmarc, _domainkey). */
int dns_name_check(const char *in, char *out, size_t len, int underscore);

/* The reverse-lookup name of an address (4.3.2.1.in-addr.arpa, nibbles
 * under ip6.arpa) and its binary form; -1 for an invalid address. */
int dns_reverse_name(const char *ip, char *out, size_t len,
                     unsigned char addr[16], int *family);

/* Copies s into out with bytes outside printable ASCII written as \xNN and
 * a backslash as \\, cut at len - 1 bytes (never inside an escape). */
void dns_escape(const char *s, char *out, size_t len);

#endif

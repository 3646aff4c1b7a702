/*
 * source-names.h - the names of source addresses as the views use them:
 * the store's entries (dns/ looked them up, `dmarc-report resolve` or
 * dmarc-ingest after a run) read once into memory, with each confirmed
 * name's organisational domain (libpsl, align.h).
 *
 * Owns the copy of the names and the rules for using them:
 *  - a name is data: it is kept cut to SOURCE_NAME_MAX - 1 bytes, and
 *    whoever prints it goes through the table writer or output_text()
 *    (escaped, common/inert.h); CSV and JSON keep the bytes;
 *  - only a name that is forward-confirmed AND a host name (dns_name_check:
 *    the store may hold anything another writer put there) is "confirmed"
 *    here: such a name may classify a source (classify.h) and group the
 *    unidentified addresses of one organisation; any other name is shown,
 *    marked unconfirmed, and never used;
 *  - a store without names (or a backend that keeps none) gives an empty
 *    set, and the views then print exactly what they printed before names
 *    existed.
 */
#ifndef DMARCSIFT_SOURCE_NAMES_H
#define DMARCSIFT_SOURCE_NAMES_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define SOURCE_NAME_MAX 254 /* a host name (253 bytes) and the NUL */
/* Room for source_names_label(): an address or org, a name, the words. */
#define SOURCE_LABEL_MAX 600

struct align;
struct store;
struct source_names;

struct source_name {
	const char *name; /* as stored (cut), never NULL */
	int confirmed;    /* forward-confirmed host name: may be used */
	const char *org;  /* confirmed: its organisational domain, or NULL */
};

/* Reads every name entry of st (entries without a name are skipped).
 * al gives the organisational domains; *out is freed with
 * source_names_free(). */
int source_names_load(struct store *st, const struct align *al,
                      struct source_names **out, struct err *e);
void source_names_free(struct source_names *n);

/* The entry of ip, or NULL (also when n or ip is NULL). */
const struct source_name *source_names_get(const struct source_names *n,
                                           const char *ip);

/* The confirmed name of ip, or NULL: what may classify. */
const char *source_names_confirmed(const struct source_names *n,
                                   const char *ip);

/* Adds one entry (for tests and for the loader); 0 or -1 (out of
 * memory).  n is created when *n is NULL; al may be NULL (no org). */
int source_names_add(struct source_names **n, const struct align *al,
                     const char *ip, const char *name, int confirmed);

/*
 * How a table shows a source named by address or by organisation:
 *   "198.51.100.10 (mx1.example.com)"               confirmed
 *   "198.51.100.11 (spoof.example.com, unconfirmed)"
 *   "example.com (2 addresses)"                      org group (ips > 1)
 * base is the address (or the organisation); nm may be NULL (base alone).
 */
void source_names_label(char *out, size_t len, const char *base,
                        const char *name, int confirmed, uint64_t ips);

#endif

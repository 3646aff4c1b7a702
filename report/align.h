/*
 * align.h - DMARC identifier alignment (RFC 7489 section 3.1): whether an
 * authenticated domain (a DKIM d= or the SPF MAIL FROM domain) is aligned
 * with the RFC5322.From domain.
 *
 * Owns the Public Suffix List context (libpsl).  Promises:
 *  - strict alignment is the same name; relaxed alignment is the same
 *    organizational domain, which is the registrable domain the PSL gives
 *    (public suffix plus one label), private section included, as
 *    OpenDMARC and the receivers that still use the PSL do;
 *  - names are compared case-insensitively (ASCII) and without a trailing
 *    dot; a name that is itself a public suffix ("co.uk") is its own
 *    organizational domain, so it aligns only with itself;
 *  - NULL or empty names never align.
 * Receivers that use the RFC 9989 DNS tree walk may draw the organizational
 * boundary elsewhere; the receiver's verdict is in policy_evaluated, and this
 * module only explains it.
 */
#ifndef DMARCSIFT_ALIGN_H
#define DMARCSIFT_ALIGN_H

#include <stddef.h>

#include "err.h"

/* Longest domain name in text form (RFC 1035), plus the NUL. */
#define ALIGN_NAME_MAX 254

struct align;

enum align_level {
	ALIGN_NONE,	/* different organizational domains */
	ALIGN_RELAXED,	/* same organizational domain, different names */
	ALIGN_STRICT,	/* the same name */
};

/* Loads the newest Public Suffix List on the system (the publicsuffix
 * package's, or libpsl's built-in copy, whichever is newer). */
int align_open(struct align **out, struct err *e);
void align_close(struct align *a);

/* Writes the normalised name (lower case, no trailing dot) into out;
 * -1 if it is NULL, empty or longer than a domain name can be. */
int align_normalize(const char *name, char *out, size_t len);

/* Writes the organizational domain of name into out (normalised); -1 for
 * a name that align_normalize() refuses. */
int align_org_domain(const struct align *a, const char *name, char *out,
    size_t len);

/* How closely id (the authenticated domain) matches from. */
enum align_level align_compare(const struct align *a, const char *id,
    const char *from);

/* Whether id aligns with from in the given mode: 's' strict, anything else
 * (including 0, absent) relaxed, the default of adkim and aspf. */
int align_ok(const struct align *a, const char *id, const char *from,
    char mode);

#endif

/*
 * import-other.h - the fate of the reports that are not DMARC aggregate
 * reports: SMTP TLS reports (RFC 8460) and DMARC failure reports (RFC
 * 6591), found by unpack.c and handed over by import.c.
 *
 * Owns: reading a TLS report's JSON within the size limit, parsing it
 * (parser/tlsrpt.h) or the failure report (parser/arf.h), storing it
 * (stored, duplicate; also a failure report moved whole from another
 * store) or rejecting it with the parser's reason, the -v line and the
 * ingest log line for each, and their share of the run's counters.  The caller (import.c) owns the batch around the call.
 * Also the store's view of an unpacked payload (import_raw()), which
 * import.c's aggregate reports use too.
 */
#ifndef DMARCSIFT_IMPORT_OTHER_H
#define DMARCSIFT_IMPORT_OTHER_H

#include "import.h"
#include "unpack.h"

struct other_ctx {
	struct store *st;
	const struct limits *lim;
	const struct logger *lg;
	struct import_stats *stats;
	int keep_bodies;    /* [store] keep_failure_bodies */
	const char *source; /* the input */
	unsigned *rejected; /* the input's rejections, incremented */
};

/* raw describes pl's bytes for the store (store_payload): the payload's
 * row, stored once and shared by every report it holds; after the store
 * call, pl->stored_id = raw->stored_id remembers it. */
void import_raw(struct store_payload *raw, const struct unpack_payload *pl);

/* Both return 0 whatever the report's fate, -1 only when the database
 * cannot be written (fatal filled). */
int import_tlsrpt(struct other_ctx *c, struct unpack_payload *pl,
                  const struct origin *o, const char *where, struct err *fatal);
int import_arf(struct other_ctx *c, const unsigned char *msg, size_t len,
               const char *where, struct err *fatal);
/* A failure report another store kept (--from-store), stored as it was;
 * its body only under keep_bodies, as for a message read now. */
int import_arf_kept(struct other_ctx *c, const struct arf_report *r,
                    struct err *fatal);

#endif

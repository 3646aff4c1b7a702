/*
 * import.h - one input in, its reports stored: the glue between unpack
 * (what is in the input), the parser (what the report says) and the store.
 *
 * Owns: the fate of every report (stored, salvaged, duplicate, rejected),
 * the retry in salvage mode, duplicate detection with a content comparison,
 * the per-report line under -v and the ingest log, batching of commits, and
 * the run's counters.  Every source (files, maildir, mbox, stdin, IMAP)
 * hands its inputs here, so they all behave the same.
 */
#ifndef DMARCSIFT_IMPORT_H
#define DMARCSIFT_IMPORT_H

#include <stdint.h>

#include "err.h"
#include "input-limits.h"
#include "log.h"
#include "store.h"
#include "stream.h"

struct import_stats {
	unsigned long inputs;	  /* files, messages read */
	unsigned long reports;	  /* XML documents examined */
	unsigned long stored;	  /* new reports (salvaged included) */
	unsigned long salvaged;	  /* of which salvaged */
	unsigned long duplicates; /* already stored, the same */
	unsigned long conflicts;  /* key stored with other records: kept out */
	unsigned long rejected;	  /* reports or inputs that failed */
	unsigned long records;	  /* records stored */
	unsigned long tls;	  /* of the reports: SMTP TLS reports */
	unsigned long failures;	  /* ... and DMARC failure reports */
};

enum input_result {
	INPUT_OK,	/* every report in it is stored (or was already) */
	INPUT_REJECTED, /* something in it could not be used */
};

struct importer;

struct importer *importer_new(struct store *st, const struct limits *lim,
    const struct logger *lg);
void importer_free(struct importer *imp);
/* [store] keep_failure_bodies: store the original message's body with a
 * DMARC failure report (off by default: it is someone's mail). */
void importer_keep_failure_bodies(struct importer *imp, int keep);

/* Imports one input.  *result says whether everything in it was usable;
 * the return value is -1 only for failures that must end the run (the
 * database cannot be written), with e filled. */
int import_input(struct importer *imp, const struct origin *o,
    const char *source, enum input_result *result, struct err *e);

/* Stores a DMARC failure report kept by another store (--from-store: its
 * message is gone, its fields were kept) as one input named source; a
 * duplicate by its fingerprint is counted as one.  -1 as import_input(). */
struct arf_report;
int import_failure_kept(struct importer *imp, const struct arf_report *r,
    const char *source, struct err *e);

/* Records an input that could not even be read (a missing file, a message
 * over the size limit) as rejected. */
int import_reject_input(struct importer *imp, const char *source,
    const char *why, struct err *e);

/* Commits the reports imported so far.  Sources that must act only on
 * stored reports (IMAP: move the message) call this first. */
int import_flush(struct importer *imp, struct err *e);

/* What is committed: for the summary and the exit status. */
const struct import_stats *import_stats(const struct importer *imp);

/* Committed plus the open batch: for the progress line on a terminal,
 * which follows the work as it goes. */
void import_stats_live(const struct importer *imp, struct import_stats *out);

#endif

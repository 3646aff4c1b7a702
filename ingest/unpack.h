/*
 * unpack.h - from one input (a file, a message, a decoded attachment) to
 * the XML documents inside it, deciding everything by content.
 *
 * Owns: content detection (gzip, zlib, zip, XML, RFC 5322 message, JSON,
 * text; SMTP TLS reports and DMARC failure reports, handed to the sink's
 * tlsrpt and arf functions when it has them), walking containers recursively (zip members, gzip in gzip, zip in
 * an e-mail) within the nesting and count limits, and explaining in one line
 * why an input holds no aggregate report ("a DMARC failure report (ARF)",
 * "an SMTP TLS report", "the text 'unused'").
 *
 * Does not own: parsing the XML (the sink does, normally import.c), storage,
 * or where inputs come from (the fetch-*.c sources).
 */
#ifndef DMARCSIFT_UNPACK_H
#define DMARCSIFT_UNPACK_H

#include <stdint.h>

#include "err.h"
#include "input-limits.h"
#include "stream.h"

/* The outermost bytes a report arrived in (a file, or an attachment once
 * its transfer encoding is undone): what the store keeps as "raw". */
struct unpack_payload {
	struct origin o;    /* ORIGIN_MEM or ORIGIN_FILE, no layers */
	const char *name;   /* file or attachment name, may be "" */
	const char *format; /* "gzip", "zip", "zlib", "xml" */
	int64_t stored_id;  /* set by the sink once the bytes are stored */
	uint64_t next_doc;  /* set by the sink after an XML document: > 0
			       when another document follows the report in
			       the same stream, counted from the start of
			       the document given (parse_result.next_doc) */
};

struct unpack_sink {
	void *arg;
	/* An XML document that may be a report (one of several when the
	 * sink says another follows: see unpack_payload.next_doc).  `o` can be opened as often
	 * as needed while the call lasts.  Returns 0 whatever the report's
	 * fate, -1 only for a failure that must end the run (the database
	 * is gone). */
	int (*xml)(void *arg, struct unpack_payload *pl, const struct origin *o,
	    const char *where, struct err *e);
	/* Optional, same contract (NULL: only described, as any JSON or
	 * ARF message).  An SMTP TLS report: JSON that tlsrpt_looks_like()
	 * (parser/tlsrpt.h); a DMARC failure report: the whole message that
	 * mime_walk() found to be ARF. */
	int (*tlsrpt)(void *arg, struct unpack_payload *pl,
	    const struct origin *o, const char *where, struct err *e);
	int (*arf)(void *arg, const unsigned char *msg, size_t len,
	    const char *where, struct err *e);
};

struct unpack_result {
	unsigned xml;	   /* XML documents handed to the sink */
	unsigned other;	   /* TLS and failure reports handed to the sink */
	unsigned failures; /* parts that could not be read (corrupt, limits) */
	char failure[512]; /* the first such problem */
	char note[512];	   /* why no report was found, when none was */
	int note_strength; /* internal: a more specific note wins */
};

/* Unpacks one input.  Returns 0, or -1 when the sink failed fatally. */
int unpack_input(const struct origin *o, const char *name,
    const struct limits *lim, const struct unpack_sink *sink,
    struct unpack_result *res, struct err *e);

#endif

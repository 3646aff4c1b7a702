/*
 * input-limits.h - every size limit dmarc-ingest enforces on input, in one place.
 *
 * Anyone on the Internet can mail the rua address, so every dimension of
 * the input is capped: bytes in, bytes out of decompression, the ratio
 * between the two (a few KB of gzip must not become 10 GB), archive member
 * and MIME part counts, nesting depth.  Each limit has a default and a
 * command-line option, and each violation produces a message that names the
 * limit and the option that raises it.
 */
#ifndef DMARCSIFT_LIMITS_H
#define DMARCSIFT_LIMITS_H

#include <stdint.h>

#include "parser.h"

struct limits {
	uint64_t max_input;	   /* bytes of one file, message or attachment */
	uint64_t max_decompressed; /* bytes of XML out of one input */
	unsigned max_ratio;	   /* decompressed : compressed */
	unsigned max_zip_members;  /* members of one zip archive */
	unsigned max_mime_parts;   /* parts of one message */
	unsigned max_mime_depth;   /* multipart / message nesting */
	unsigned max_nesting;	   /* containers in containers (gz in zip...) */
	struct parse_limits xml;
};

void limits_default(struct limits *l);

/* Parses a size such as "512M", "64k", "2G" or "1000".  Returns 0 or -1. */
int limits_parse_size(const char *s, uint64_t *out);

#endif

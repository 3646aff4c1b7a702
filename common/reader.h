/*
 * reader.h - the one interface through which bytes flow from a source
 * (a file, a decoded MIME part, a gzip or zip member) into a consumer (the
 * report parser, a content sniffer).  Pull-based, so decompression happens
 * only as fast as the parser consumes and nothing is inflated into memory
 * first.
 */
#ifndef DMARCSIFT_READER_H
#define DMARCSIFT_READER_H

#include <sys/types.h>

#include "err.h"

struct reader {
	/* Returns the number of bytes read (> 0), 0 at the end of the data,
	 * or -1 with e filled. */
	ssize_t (*read)(void *ctx, void *buf, size_t len, struct err *e);
	void *ctx;
	/* The charset the container declared (a MIME part's Content-Type),
	 * or NULL: what a document without an encoding declaration is in
	 * (RFC 7303). */
	const char *charset;
};

#endif

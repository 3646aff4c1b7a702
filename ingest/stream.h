/*
 * stream.h - bytes from a file, a memory buffer or a zip member, through
 * zero or more inflate layers (gzip, multi-member gzip, zlib), with the
 * decompression limits enforced while inflating.
 *
 * A stream is described by a struct origin, which is plain data: opening the
 * same origin again gives the same bytes.  That is what lets the importer
 * parse a report a second time in salvage mode without ever holding the
 * decompressed XML in memory.
 *
 * The stream owns its zlib state and buffers; it does not own the memory,
 * file or zip archive it reads from.
 */
#ifndef DMARCSIFT_STREAM_H
#define DMARCSIFT_STREAM_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <zip.h>
#include <zlib.h>

#include "err.h"
#include "input-limits.h"
#include "reader.h"
#include "warn.h"

#define STREAM_MAX_LAYERS 8
#define STREAM_PEEK	  512

enum origin_kind {
	ORIGIN_MEM,  /* a buffer owned by someone else */
	ORIGIN_FILE, /* a file, opened by path */
	ORIGIN_ZIP,  /* member `index` of an open zip archive */
};

struct origin {
	enum origin_kind kind;
	const unsigned char *mem;
	size_t len;
	const char *path;
	zip_t *zip;
	zip_uint64_t index;
	uint64_t comp_size; /* compressed size of a zip member */
	unsigned layers;    /* inflate layers on top of the base */
	const char *charset; /* a MIME part's charset, or NULL */
	uint64_t skip;	    /* bytes of the top layer's output skipped on
			       opening: where a further document of a
			       stream of several starts (unpack.c) */
};

struct inflater {
	z_stream z;
	unsigned char *in;
	int done;    /* the last member ended; the rest is ignored */
	int zlib;    /* a raw zlib stream (not gzip): single member */
};

struct stream {
	struct origin o;
	const struct limits *lim;
	struct warnings *warn; /* where "trailing garbage" goes; may be NULL */

	int fd;
	zip_file_t *zf;
	size_t mem_pos;
	uint64_t base_bytes; /* bytes read from the base */
	uint64_t out_bytes;  /* bytes handed out through the top layer */

	struct inflater layer[STREAM_MAX_LAYERS];
	unsigned nlayers;

	unsigned char peek[STREAM_PEEK];
	size_t peek_len, peek_pos;
};

/* Opens the origin (and its inflate layers).  warn may be NULL. */
int stream_open(struct stream *s, const struct origin *o,
    const struct limits *lim, struct warnings *warn, struct err *e);
void stream_close(struct stream *s);

/* Reads up to n bytes; returns the count, 0 at the end, -1 on error. */
ssize_t stream_read(struct stream *s, void *buf, size_t n, struct err *e);

/* Makes up to STREAM_PEEK bytes available without consuming them. */
int stream_peek(struct stream *s, const unsigned char **p, size_t *n,
    struct err *e);

/* Adds an inflate layer on top (the peeked bytes become its input). */
int stream_push_inflate(struct stream *s, struct err *e);

/* Reads the rest of the stream into a malloc'd buffer of at most max
 * bytes. */
int stream_slurp(struct stream *s, uint64_t max, unsigned char **out,
    size_t *len, struct err *e);

/* A struct reader that reads from the stream (for the parser). */
struct reader stream_reader(struct stream *s);

#endif

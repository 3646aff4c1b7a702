/*
 * payload.h - a raw payload as the store keeps it.
 *
 * The bytes a report came in are kept so that a later version can parse
 * them again.  Compressed forms (gzip, zip, zlib) are kept exactly as
 * received.  A report that came as plain XML is kept gzip-compressed
 * (format "gzip"; gunzip gives back the bytes received): a 78 MB report
 * otherwise made a 118 MB database, against 41 MB from the same report
 * gzipped.  Both backends store what payload_prepare() gives them.
 */
#ifndef DMARCSIFT_PAYLOAD_H
#define DMARCSIFT_PAYLOAD_H

#include "buf.h"
#include "store.h"

#define PAYLOAD_MAX 1000000000 /* bytes kept for one payload, at most */

/* When raw is plain XML, fills out with its bytes gzip-compressed
 * (reading raw->mem or raw->path) and sets *format to "gzip"; otherwise
 * leaves out empty and *format to raw's (or "other").  *compressed says
 * which. */
int payload_prepare(const struct store_payload *raw, struct buf *out,
    const char **format, int *compressed, struct err *e);

#endif

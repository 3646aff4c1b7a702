/*
 * record-copy.h - the one deep copy of a struct dmarc_record.
 *
 * A record handed to a parse_handler lives in the parser's arena only
 * during the callback (report.h); whoever keeps it longer copies it here.
 * The copy owns its strings (one buffer) and its result arrays, and is
 * reusable: copying into it again reuses the memory, and a buffer that
 * grew past `keep` bytes is given back first, so a long run of records
 * keeps memory flat even when one of them was huge.
 *
 * The copy is made in two steps so that it can cross threads: record_copy()
 * stores strings as offsets (the buffer may move while it grows), and
 * record_copy_view() turns them into pointers once the buffer is final;
 * call it once per copy, then read `rec`.
 */
#ifndef DMARCSIFT_RECORD_COPY_H
#define DMARCSIFT_RECORD_COPY_H

#include <stddef.h>

#include "buf.h"
#include "report.h"

struct record_copy {
	struct dmarc_record rec; /* after record_copy_view() */
	struct buf data;
	struct dmarc_reason *reasons;
	struct dmarc_dkim *dkim;
	struct dmarc_spf *spf;
	size_t capreasons, capdkim, capspf;
	size_t keep;
};

/* An empty copy; limit caps its string bytes (0: none), keep as above. */
void record_copy_init(struct record_copy *c, size_t limit, size_t keep);
void record_copy_free(struct record_copy *c);

/* Copies r into c.  Returns 0, or -1 when out of memory (or over the
 * limit). */
int record_copy(struct record_copy *c, const struct dmarc_record *r);

/* Makes c->rec point into the copy. */
void record_copy_view(struct record_copy *c);

/* Bytes of strings the copy holds. */
size_t record_copy_bytes(const struct record_copy *c);

#endif

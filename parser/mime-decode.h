/*
 * mime-decode.h - undoing a MIME part's content-transfer-encoding, the one
 * way for every message part dmarcsift reads (ingest/mime.c's report
 * attachments, arf.c's failure-report parts).
 *
 * Owns: the choice of decoder from the part's Content-Transfer-Encoding
 * (an unknown or broken one is read as 8bit, i.e. as it is) and the guard
 * against libetpan's quoted-printable decoder, which reads past the end
 * of the data it is given when that ends in a cut escape ("=3"): data not
 * followed by MIME_DECODE_PAD readable bytes is decoded from a zero-padded
 * copy.
 */
#ifndef DMARCSIFT_MIME_DECODE_H
#define DMARCSIFT_MIME_DECODE_H

#include <libetpan/libetpan.h>
#include <stddef.h>

#define MIME_DECODE_PAD 8

/* Decodes data[0..n), the body of the part whose fields are sf, into *out
 * (libetpan's: mmap_string_unref() it) of *outlen bytes.  room: how many
 * bytes after data[n - 1] may be read (0 when unknown).  0, or -1 when the
 * encoding cannot be undone, -2 out of memory. */
int mime_decode(const struct mailmime_single_fields *sf, const char *data,
                size_t n, size_t room, char **out, size_t *outlen);

#endif

/*
 * payload.c - see payload.h.
 */
#include "payload.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#define CHUNK (1u << 20)

/* Deflates n bytes at in into out (gzip framing, level 6); with last,
 * finishes the stream. */
static int
deflate_some(z_stream *z, const unsigned char *in, size_t n, int last,
    struct buf *out, struct err *e)
{
	int rc;

	z->next_in = (unsigned char *)in;
	z->avail_in = (uInt)n;
	do {
		if (buf_reserve(out, CHUNK / 4, e) == -1)
			return -1;
		z->next_out = (unsigned char *)out->data + out->len;
		z->avail_out = (uInt)(out->cap - out->len);
		rc = deflate(z, last ? Z_FINISH : Z_NO_FLUSH);
		out->len = out->cap - z->avail_out;
		if (rc == Z_STREAM_ERROR)
			return err_set(e, "cannot compress the raw report");
		if (out->len > PAYLOAD_MAX)
			return err_set(e, "payload too large to keep");
	} while (z->avail_out == 0 || (last && rc != Z_STREAM_END));
	return 0;
}

static int
gzip_file(z_stream *z, const char *path, struct buf *out, struct err *e)
{
	unsigned char *chunk;
	ssize_t n;
	int fd, rc = -1;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return err_errno(e, "cannot read %s to store it", path);
	if ((chunk = malloc(CHUNK)) == NULL) {
		close(fd);
		return err_set(e, "out of memory");
	}
	for (;;) {
		n = read(fd, chunk, CHUNK);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			err_errno(e, "cannot read %s to store it", path);
			break;
		}
		if (deflate_some(z, chunk, (size_t)n, n == 0, out, e) == -1)
			break;
		if (n == 0) {
			rc = 0;
			break;
		}
	}
	free(chunk);
	close(fd);
	return rc;
}

int
payload_prepare(const struct store_payload *raw, struct buf *out,
    const char **format, int *compressed, struct err *e)
{
	z_stream z;
	int rc;

	*format = raw->format ? raw->format : "other";
	*compressed = 0;
	buf_reset(out);
	if (strcmp(*format, "xml") != 0)
		return 0;
	memset(&z, 0, sizeof(z));
	if (deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) !=
	    Z_OK)
		return err_set(e, "cannot compress the raw report");
	if (raw->path != NULL)
		rc = gzip_file(&z, raw->path, out, e);
	else
		rc = deflate_some(&z, raw->mem, raw->len, 1, out, e);
	deflateEnd(&z);
	if (rc == -1)
		return -1;
	*format = "gzip";
	*compressed = 1;
	return 0;
}

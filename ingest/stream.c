/*
 * stream.c - see stream.h.
 *
 * Each inflate layer pulls compressed bytes from the layer below on demand,
 * so a 1 GB report in a 20 MB .gz passes through a few 64 KB buffers.  The
 * size and ratio limits are checked on every read of the top layer, which
 * stops a decompression bomb while it inflates rather than after.
 */
#include "stream.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CHUNK	  65536
#define RATIO_MIN (1u << 20) /* ratio is checked above this many bytes */

static ssize_t
base_read(struct stream *s, unsigned char *buf, size_t n, struct err *e)
{
	zip_int64_t zr;
	ssize_t r;

	switch (s->o.kind) {
	case ORIGIN_MEM:
		if (n > s->o.len - s->mem_pos)
			n = s->o.len - s->mem_pos;
		/* an empty buffer may be NULL (an empty mbox message):
		 * no arithmetic on it, no memcpy from it */
		if (n > 0)
			memcpy(buf, s->o.mem + s->mem_pos, n);
		s->mem_pos += n;
		r = (ssize_t)n;
		break;
	case ORIGIN_FILE:
		do
			r = read(s->fd, buf, n);
		while (r == -1 && errno == EINTR);
		if (r == -1)
			return err_errno(e, "read");
		break;
	case ORIGIN_ZIP:
		zr = zip_fread(s->zf, buf, n);
		if (zr < 0)
			return err_set(e, "zip member: %s",
			    zip_error_strerror(zip_file_get_error(s->zf)));
		r = (ssize_t)zr;
		break;
	default:
		return err_set(e, "bad stream origin");
	}
	s->base_bytes += (uint64_t)r;
	return r;
}

static ssize_t level_read(struct stream *s, unsigned lvl, unsigned char *buf,
    size_t n, struct err *e);

/* Makes sure at least `want` input bytes are buffered for layer L (fewer
 * only at the end of the data).  Returns 0 or -1. */
static int
fill_input(struct stream *s, unsigned lvl, size_t want, struct err *e)
{
	struct inflater *L = &s->layer[lvl - 1];
	ssize_t r;

	while (L->z.avail_in < want) {
		if (L->z.avail_in > 0 && L->z.next_in != L->in)
			memmove(L->in, L->z.next_in, L->z.avail_in);
		L->z.next_in = L->in;
		r = level_read(s, lvl - 1, L->in + L->z.avail_in,
		    CHUNK - L->z.avail_in, e);
		if (r < 0)
			return -1;
		if (r == 0)
			break;
		L->z.avail_in += (uInt)r;
	}
	return 0;
}

/* Called at the end of a gzip member: either another member follows
 * (multi-member gzip, e.g. from concatenated files) or what follows is not
 * gzip and is ignored with a warning (Mimecast appends CRLF). */
static int
member_end(struct stream *s, unsigned lvl, struct err *e)
{
	struct inflater *L = &s->layer[lvl - 1];

	if (fill_input(s, lvl, 2, e) == -1)
		return -1;
	if (L->z.avail_in == 0) {
		L->done = 1;
		return 0;
	}
	if (!L->zlib && L->z.avail_in >= 2 && L->z.next_in[0] == 0x1f &&
	    L->z.next_in[1] == 0x8b) {
		if (inflateReset(&L->z) != Z_OK)
			return err_set(e, "inflateReset failed");
		return 0;
	}
	if (s->warn != NULL)
		warn_add(s->warn, "trailing",
		    "data after the end of the %s stream ignored",
		    L->zlib ? "zlib" : "gzip");
	L->done = 1;
	return 0;
}

static ssize_t
inflate_read(struct stream *s, unsigned lvl, unsigned char *buf, size_t n,
    struct err *e)
{
	struct inflater *L = &s->layer[lvl - 1];
	size_t produced;
	int ret;

	if (n > UINT32_MAX)
		n = UINT32_MAX;
	while (!L->done) {
		if (L->z.avail_in == 0) {
			if (fill_input(s, lvl, 1, e) == -1)
				return -1;
			if (L->z.avail_in == 0)
				return err_set(e, "%s data is truncated "
					"(the stream ends before its end marker)",
				    L->zlib ? "zlib" : "gzip");
		}
		L->z.next_out = buf;
		L->z.avail_out = (uInt)n;
		ret = inflate(&L->z, Z_NO_FLUSH);
		produced = n - L->z.avail_out;
		switch (ret) {
		case Z_OK:
		case Z_BUF_ERROR:
			break;
		case Z_STREAM_END:
			if (member_end(s, lvl, e) == -1)
				return -1;
			break;
		case Z_NEED_DICT:
			return err_set(e, "zlib data needs a preset "
					  "dictionary: not a report");
		case Z_MEM_ERROR:
			return err_set(e, "out of memory while inflating");
		default:
			return err_set(e, "corrupt %s data: %s",
			    L->zlib ? "zlib" : "gzip",
			    L->z.msg ? L->z.msg : "inflate failed");
		}
		if (produced > 0)
			return (ssize_t)produced;
	}
	return 0;
}

static ssize_t
level_read(struct stream *s, unsigned lvl, unsigned char *buf, size_t n,
    struct err *e)
{
	if (lvl == 0)
		return base_read(s, buf, n, e);
	return inflate_read(s, lvl, buf, n, e);
}

/* Reads from the top layer and applies the output limits. */
static ssize_t
top_read(struct stream *s, unsigned char *buf, size_t n, struct err *e)
{
	uint64_t comp;
	ssize_t r;

	r = level_read(s, s->nlayers, buf, n, e);
	if (r <= 0)
		return r;
	s->out_bytes += (uint64_t)r;
	if (s->nlayers == 0 && s->o.kind != ORIGIN_ZIP)
		return r; /* nothing was decompressed */
	if (s->out_bytes > s->lim->max_decompressed)
		return err_set(e,
		    "decompresses to more than %llu bytes (limit; raise it "
		    "with --max-xml-size)",
		    (unsigned long long)s->lim->max_decompressed);
	comp = s->o.kind == ORIGIN_ZIP ? s->o.comp_size : s->base_bytes;
	if (comp == 0)
		comp = 1;
	if (s->out_bytes > RATIO_MIN &&
	    s->out_bytes / comp > s->lim->max_ratio)
		return err_set(e,
		    "compression ratio above %u:1 (%llu bytes from %llu): "
		    "looks like a decompression bomb (raise the limit with "
		    "--max-ratio)",
		    s->lim->max_ratio, (unsigned long long)s->out_bytes,
		    (unsigned long long)comp);
	return r;
}

/* Reads and drops the first n bytes of the top layer (the limits still
 * count them: they were inflated). */
static int
skip_bytes(struct stream *s, uint64_t n, struct err *e)
{
	unsigned char buf[4096];
	ssize_t r;

	while (n > 0) {
		r = top_read(s, buf, n < sizeof(buf) ? (size_t)n : sizeof(buf),
		    e);
		if (r < 0)
			return -1;
		if (r == 0)
			return err_set(e, "internal error: a document starts "
					  "after the end of its stream");
		n -= (uint64_t)r;
	}
	return 0;
}

int
stream_open(struct stream *s, const struct origin *o,
    const struct limits *lim, struct warnings *warn, struct err *e)
{
	struct stat st;
	unsigned i;

	memset(s, 0, sizeof(*s));
	s->o = *o;
	s->lim = lim;
	s->warn = warn;
	s->fd = -1;
	switch (o->kind) {
	case ORIGIN_MEM:
		if (o->len > lim->max_input)
			return err_set(e, "input is %zu bytes, over the limit "
					  "of %llu (--max-input)",
			    o->len, (unsigned long long)lim->max_input);
		break;
	case ORIGIN_FILE:
		if ((s->fd = open(o->path, O_RDONLY | O_CLOEXEC)) == -1)
			return err_errno(e, "open");
		if (fstat(s->fd, &st) == -1) {
			err_errno(e, "fstat");
			stream_close(s);
			return -1;
		}
		if ((uint64_t)st.st_size > lim->max_input) {
			err_set(e, "file is %llu bytes, over the limit of %llu "
				   "(--max-input)",
			    (unsigned long long)st.st_size,
			    (unsigned long long)lim->max_input);
			stream_close(s);
			return -1;
		}
		break;
	case ORIGIN_ZIP:
		if (o->comp_size > lim->max_input)
			return err_set(e, "zip member is %llu bytes compressed, "
					  "over the limit of %llu (--max-input)",
			    (unsigned long long)o->comp_size,
			    (unsigned long long)lim->max_input);
		s->zf = zip_fopen_index(o->zip, o->index, 0);
		if (s->zf == NULL)
			return err_set(e, "cannot open zip member: %s",
			    zip_strerror(o->zip));
		break;
	}
	s->o.layers = 0;
	for (i = 0; i < o->layers; i++)
		if (stream_push_inflate(s, e) == -1) {
			stream_close(s);
			return -1;
		}
	if (o->skip > 0 && skip_bytes(s, o->skip, e) == -1) {
		stream_close(s);
		return -1;
	}
	return 0;
}

void
stream_close(struct stream *s)
{
	unsigned i;

	for (i = 0; i < s->nlayers; i++) {
		inflateEnd(&s->layer[i].z);
		free(s->layer[i].in);
	}
	s->nlayers = 0;
	if (s->fd != -1)
		close(s->fd);
	s->fd = -1;
	if (s->zf != NULL)
		zip_fclose(s->zf);
	s->zf = NULL;
}

int
stream_push_inflate(struct stream *s, struct err *e)
{
	struct inflater *L;

	if (s->nlayers == STREAM_MAX_LAYERS)
		return err_set(e, "too many nested compression layers");
	L = &s->layer[s->nlayers];
	memset(L, 0, sizeof(*L));
	if ((L->in = malloc(CHUNK)) == NULL)
		return err_set(e, "out of memory");
	/* The bytes already peeked at this level are the start of the
	 * compressed data. */
	memcpy(L->in, s->peek + s->peek_pos, s->peek_len - s->peek_pos);
	L->z.next_in = L->in;
	L->z.avail_in = (uInt)(s->peek_len - s->peek_pos);
	s->peek_len = s->peek_pos = 0;
	/* 15 + 32: zlib or gzip header, detected automatically */
	if (inflateInit2(&L->z, 15 + 32) != Z_OK) {
		free(L->in);
		return err_set(e, "inflateInit2 failed");
	}
	s->nlayers++;
	s->o.layers = s->nlayers;
	s->out_bytes = 0;
	if (fill_input(s, s->nlayers, 2, e) == -1)
		return -1;
	/* only gzip has members; a zlib stream ends at its first end */
	L->zlib = !(L->z.avail_in >= 2 && L->z.next_in[0] == 0x1f &&
	    L->z.next_in[1] == 0x8b);
	return 0;
}

int
stream_peek(struct stream *s, const unsigned char **p, size_t *n,
    struct err *e)
{
	ssize_t r;

	while (s->peek_len < STREAM_PEEK) {
		r = top_read(s, s->peek + s->peek_len,
		    STREAM_PEEK - s->peek_len, e);
		if (r < 0)
			return -1;
		if (r == 0)
			break;
		s->peek_len += (size_t)r;
	}
	*p = s->peek + s->peek_pos;
	*n = s->peek_len - s->peek_pos;
	return 0;
}

ssize_t
stream_read(struct stream *s, void *buf, size_t n, struct err *e)
{
	size_t k;

	if (s->peek_pos < s->peek_len) {
		k = s->peek_len - s->peek_pos;
		if (k > n)
			k = n;
		memcpy(buf, s->peek + s->peek_pos, k);
		s->peek_pos += k;
		return (ssize_t)k;
	}
	return top_read(s, buf, n, e);
}

int
stream_slurp(struct stream *s, uint64_t max, unsigned char **out, size_t *len,
    struct err *e)
{
	unsigned char *p = NULL, *np;
	size_t cap = 0, used = 0;
	ssize_t r;

	for (;;) {
		if (cap - used < CHUNK) {
			cap = cap ? cap * 2 : 4 * CHUNK;
			if ((np = realloc(p, cap)) == NULL) {
				free(p);
				return err_set(e, "out of memory");
			}
			p = np;
		}
		r = stream_read(s, p + used, cap - used, e);
		if (r < 0) {
			free(p);
			return -1;
		}
		if (r == 0)
			break;
		used += (size_t)r;
		if (used > max) {
			free(p);
			return err_set(e, "more than %llu bytes (--max-input)",
			    (unsigned long long)max);
		}
	}
	*out = p;
	*len = used;
	return 0;
}

static ssize_t
reader_cb(void *ctx, void *buf, size_t n, struct err *e)
{
	return stream_read(ctx, buf, n, e);
}

struct reader
stream_reader(struct stream *s)
{
	struct reader r = {reader_cb, s, s->o.charset};

	return r;
}

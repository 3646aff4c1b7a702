/*
 * test_stream.c - inflate layers and the decompression limits, on real
 * zlib output made here.
 */
#include <zlib.h>

#include "check.h"
#include "stream.h"

/* Compresses src with the given windowBits (31: gzip, 15: zlib). */
static unsigned char *
deflate_all(const unsigned char *src, size_t n, int bits, size_t *out)
{
	z_stream z;
	size_t cap = deflateBound(NULL, n) + 64;
	unsigned char *dst = test_track(malloc(cap));

	memset(&z, 0, sizeof(z));
	deflateInit2(&z, 9, Z_DEFLATED, bits, 9, Z_DEFAULT_STRATEGY);
	z.next_in = (unsigned char *)src;
	z.avail_in = (uInt)n;
	z.next_out = dst;
	z.avail_out = (uInt)cap;
	deflate(&z, Z_FINISH);
	*out = cap - z.avail_out;
	deflateEnd(&z);
	return dst;
}

/* Reads the stream to the end; returns bytes read or -1. */
static long
drain(struct stream *s, struct err *e, unsigned char *copy, size_t cap)
{
	unsigned char buf[1000];
	long total = 0;
	ssize_t r;

	while ((r = stream_read(s, buf, sizeof(buf), e)) > 0) {
		if (copy && (size_t)total + (size_t)r <= cap)
			memcpy(copy + total, buf, (size_t)r);
		total += r;
	}
	return r < 0 ? -1 : total;
}

static void
open_mem(struct stream *s, const unsigned char *p, size_t n, unsigned layers,
    const struct limits *lim, struct warnings *ws)
{
	struct origin o;
	struct err e;

	memset(&o, 0, sizeof(o));
	o.kind = ORIGIN_MEM;
	o.mem = p;
	o.len = n;
	o.layers = layers;
	CHECK_INT(stream_open(s, &o, lim, ws, &e), 0);
}

TEST(gzip_multimember_and_trailing)
{
	const char *a = "<feedback>", *b = "</feedback>";
	size_t na, nb, len;
	unsigned char *ga = deflate_all((const unsigned char *)a, strlen(a), 31, &na);
	unsigned char *gb = deflate_all((const unsigned char *)b, strlen(b), 31, &nb);
	unsigned char *both = test_track(malloc(na + nb + 2)), got[64];
	struct limits lim;
	struct warnings ws;
	struct stream s;
	struct err e;

	limits_default(&lim);
	memcpy(both, ga, na);
	memcpy(both + na, gb, nb);
	memcpy(both + na + nb, "\r\n", 2);
	len = na + nb + 2;
	warn_init(&ws);
	open_mem(&s, both, len, 1, &lim, &ws);
	memset(got, 0, sizeof(got));
	CHECK_INT(drain(&s, &e, got, sizeof(got)), 21);
	CHECK_STR((char *)got, "<feedback></feedback>");
	CHECK_INT(ws.n, 1);
	CHECK_CONTAINS(ws.w[0].text, "data after the end of the gzip stream");
	stream_close(&s);
}

TEST(zlib_stream)
{
	const char *a = "<feedback/>";
	size_t n;
	unsigned char *z = deflate_all((const unsigned char *)a, strlen(a), 15, &n);
	struct limits lim;
	struct stream s;
	struct err e;

	limits_default(&lim);
	open_mem(&s, z, n, 1, &lim, NULL);
	CHECK_INT(drain(&s, &e, NULL, 0), (long)strlen(a));
	stream_close(&s);
}

TEST(truncated_gzip)
{
	unsigned char src[5000];
	size_t n;
	unsigned char *g;
	struct limits lim;
	struct stream s;
	struct err e;

	for (size_t i = 0; i < sizeof(src); i++)
		src[i] = (unsigned char)(i * 7919 % 251);
	g = deflate_all(src, sizeof(src), 31, &n);
	limits_default(&lim);
	open_mem(&s, g, n - 10, 1, &lim, NULL);
	CHECK_INT(drain(&s, &e, NULL, 0), -1);
	CHECK_CONTAINS(e.msg, "truncated");
	stream_close(&s);
}

TEST(corrupt_gzip)
{
	unsigned char src[2000];
	size_t n;
	unsigned char *g;
	struct limits lim;
	struct stream s;
	struct err e;

	memset(src, 'x', sizeof(src));
	g = deflate_all(src, sizeof(src), 31, &n);
	g[12] ^= 0xff;
	g[13] ^= 0x55;
	limits_default(&lim);
	open_mem(&s, g, n, 1, &lim, NULL);
	CHECK_INT(drain(&s, &e, NULL, 0), -1);
	CHECK_CONTAINS(e.msg, "gzip");
	stream_close(&s);
}

TEST(ratio_limit_stops_a_bomb_early)
{
	size_t big = 64u << 20, n;
	unsigned char *zeros = calloc(1, big);
	unsigned char *g = deflate_all(zeros, big, 31, &n);
	struct limits lim;
	struct stream s;
	struct err e;
	long got;

	free(zeros);
	limits_default(&lim);
	open_mem(&s, g, n, 1, &lim, NULL);
	got = drain(&s, &e, NULL, 0);
	CHECK_INT(got, -1);
	CHECK_CONTAINS(e.msg, "compression ratio above 250:1");
	CHECK_CONTAINS(e.msg, "--max-ratio");
	/* stopped as soon as the output passed 250 times the input */
	CHECK(s.out_bytes <= 250 * n + 65536);
	CHECK(s.out_bytes < big / 2);
	stream_close(&s);

	lim.max_ratio = 100000;
	lim.max_decompressed = 8u << 20;
	open_mem(&s, g, n, 1, &lim, NULL);
	CHECK_INT(drain(&s, &e, NULL, 0), -1);
	CHECK_CONTAINS(e.msg, "decompresses to more than 8388608 bytes");
	CHECK_CONTAINS(e.msg, "--max-xml-size");
	stream_close(&s);
}

TEST(input_size_limit)
{
	unsigned char data[100] = {0};
	struct limits lim;
	struct stream s;
	struct origin o;
	struct err e;

	limits_default(&lim);
	lim.max_input = 50;
	memset(&o, 0, sizeof(o));
	o.kind = ORIGIN_MEM;
	o.mem = data;
	o.len = sizeof(data);
	CHECK_INT(stream_open(&s, &o, &lim, NULL, &e), -1);
	CHECK_CONTAINS(e.msg, "--max-input");
}

TEST(peek_then_read_and_reopen)
{
	const char *a = "hello, peeking world";
	size_t n;
	unsigned char *g = deflate_all((const unsigned char *)a, strlen(a), 31, &n);
	const unsigned char *p;
	unsigned char got[64];
	struct limits lim;
	struct stream s;
	struct origin o;
	struct err e;

	limits_default(&lim);
	open_mem(&s, g, n, 0, &lim, NULL);
	CHECK_INT(stream_peek(&s, &p, &n, &e), 0);
	CHECK(p[0] == 0x1f && p[1] == 0x8b);
	CHECK_INT(stream_push_inflate(&s, &e), 0);
	CHECK_INT(stream_peek(&s, &p, &n, &e), 0);
	CHECK_INT(n, strlen(a));
	o = s.o; /* the recipe to reopen: base plus one layer */
	CHECK_INT(o.layers, 1);
	memset(got, 0, sizeof(got));
	CHECK_INT(drain(&s, &e, got, sizeof(got)), (long)strlen(a));
	CHECK_STR((char *)got, a);
	stream_close(&s);
	CHECK_INT(stream_open(&s, &o, &lim, NULL, &e), 0);
	memset(got, 0, sizeof(got));
	CHECK_INT(drain(&s, &e, got, sizeof(got)), (long)strlen(a));
	CHECK_STR((char *)got, a);
	stream_close(&s);
}

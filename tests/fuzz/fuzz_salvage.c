/*
 * fuzz_salvage.c - the salvage mode's input filter (the UTF-8 repair in
 * parser/salvage.c, static functions, hence the #include) on raw bytes.
 *
 * The parser hands the filter its input in 64 KiB chunks, so a fuzzer
 * working on short inputs through parser_run() never sees a sequence split
 * between chunks.  Here the same bytes go through the filter whole and cut
 * into 1..13-byte pieces; both outputs must be the same bytes with the same
 * number of replacements, each call must stay within the output size the
 * caller allocates (3 n + 12; ASan checks it, the buffer is exact), the
 * output of a repairing filter must be valid UTF-8, and valid UTF-8 must
 * come out unchanged.
 */
#include "../../parser/salvage.c"

#include "fuzz.h"

struct out {
	unsigned char *p;
	size_t len, cap;
};

static void
append(struct out *o, const unsigned char *p, size_t n)
{
	if (n == 0)
		return;
	if (o->len + n > o->cap) {
		o->cap = (o->len + n) * 2;
		if ((o->p = realloc(o->p, o->cap)) == NULL)
			abort();
	}
	memcpy(o->p + o->len, p, n);
	o->len += n;
}

/* Runs one call with an output buffer of exactly the documented size. */
static void
call(struct salvage_filter *f, const uint8_t *in, size_t n, int last,
    struct out *o)
{
	size_t cap = 3 * n + 12, w;
	unsigned char *buf = malloc(cap);

	if (buf == NULL)
		abort();
	w = parser_salvage_chunk(f, in, n, buf, last);
	FUZZ_CHECK(w <= cap);
	append(o, buf, w);
	free(buf);
}

/* Strict UTF-8 (no overlong forms, no surrogates, nothing above U+10FFFF):
 * what libxml2 accepts. */
static int
valid_utf8(const unsigned char *s, size_t n)
{
	size_t i = 0, k;

	while (i < n) {
		k = utf8_len(s[i]);
		if (k == 0 || i + k > n || !utf8_valid(s + i, k))
			return 0;
		i += k;
	}
	return 1;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t empty[1];
	struct salvage_filter a, b;
	struct out oa = {NULL, 0, 0}, ob = {NULL, 0, 0};
	uint32_t rng = (uint32_t)size;
	size_t pos = 0, n, skip = 0;

	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	/* as feed() calls it: the data, then an empty last chunk */
	call(&a, data, size, 0, &oa);
	call(&a, empty, 0, 1, &oa);
	/* The parser's first chunk is 64 KiB: it holds the XML declaration
	 * (the filter decides from it whether to repair UTF-8) unless 64 KiB
	 * of white space come first, which is not modelled here. */
	if (size >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0)
		skip = 3;
	while (skip < size && data[skip] != '\0' &&
	    strchr(" \t\r\n", data[skip]) != NULL)
		skip++;
	n = skip + 256 < size ? skip + 256 : size;
	if (n > 0)
		call(&b, data, n, 0, &ob);
	pos = n;
	while (pos < size) {
		rng = rng * 1103515245u + 12345u;
		n = 1 + (rng >> 16) % 13;
		if (n > size - pos)
			n = size - pos;
		call(&b, data + pos, n, 0, &ob);
		pos += n;
	}
	call(&b, empty, 0, 1, &ob);

	FUZZ_CHECK(a.npend == 0 && b.npend == 0);
	FUZZ_CHECK(a.replaced == b.replaced);
	FUZZ_CHECK(oa.len == ob.len);
	FUZZ_CHECK(oa.len == 0 || memcmp(oa.p, ob.p, oa.len) == 0);
	if (a.repair) {
		FUZZ_CHECK(valid_utf8(oa.p, oa.len));
		/* the filter drops what is in front: a BOM, white space */
		if (valid_utf8(data + skip, size - skip)) {
			FUZZ_CHECK(a.replaced == 0);
			FUZZ_CHECK(oa.len == size - skip);
			FUZZ_CHECK(oa.len == 0 ||
			    memcmp(oa.p, data + skip, oa.len) == 0);
		}
	}
	free(oa.p);
	free(ob.p);
	return 0;
}

/*
 * test_strmap.c - the string-keyed table report/ sums its views in, big
 * enough that its pool grows past the huge-page chunks (strmap.c).
 */
#include "check.h"
#include "strmap.h"

#include <stdio.h>

#define ENTRIES 200000
#define VALUE   96 /* bytes: 200,000 of them fill several 4 MB chunks */

struct value {
	unsigned char bytes[VALUE];
};

static void
fill(struct value *v, unsigned long i)
{
	size_t k;

	for (k = 0; k < VALUE; k++)
		v->bytes[k] = (unsigned char)(i * 31 + k);
}

static int
same(const struct value *v, unsigned long i)
{
	struct value want;

	fill(&want, i);
	return memcmp(v->bytes, want.bytes, VALUE) == 0;
}

/* Every value written stays whole and findable by its key while the
 * pool grows from 256-byte chunks to huge-page ones. */
TEST(many_entries)
{
	struct strmap m;
	struct value *v;
	char key[32];
	unsigned long i, bad = 0;
	int created;

	memset(&m, 0, sizeof(m));
	for (i = 0; i < ENTRIES; i++) {
		snprintf(key, sizeof(key), "key-%lu", i);
		v = strmap_upsert(&m, key, sizeof(*v), &created);
		CHECK(v != NULL);
		if (v == NULL)
			break;
		bad += !created || v->bytes[0] != 0 || v->bytes[VALUE - 1] != 0;
		fill(v, i);
	}
	CHECK_INT(bad, 0);
	CHECK_INT(strmap_len(&m), ENTRIES);
	for (i = 0; i < ENTRIES; i++) {
		snprintf(key, sizeof(key), "key-%lu", i);
		v = strmap_get(&m, key);
		bad += v == NULL || !same(v, i) ||
		       strcmp(strmap_at(&m, i)->key, key) != 0;
	}
	CHECK_INT(bad, 0);
	/* a second upsert finds the entry, as it was */
	v = strmap_upsert(&m, "key-4242", sizeof(*v), &created);
	CHECK(v != NULL && !created && same(v, 4242));
	CHECK(strmap_get(&m, "key-200000") == NULL);
	strmap_free(&m, NULL);
}

/* A value bigger than any chunk gets a chunk of its own, in whole huge
 * pages with room for the chunk's header and the key. */
TEST(value_bigger_than_a_chunk)
{
	static const size_t sizes[] = {(2u << 20) - 8, 2u << 20, 5u << 20};
	struct strmap m;
	unsigned char *p;
	size_t i, k;
	char key[32];

	memset(&m, 0, sizeof(m));
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		snprintf(key, sizeof(key), "big-%zu", sizes[i]);
		p = strmap_upsert(&m, key, sizes[i], NULL);
		CHECK(p != NULL);
		if (p == NULL)
			continue;
		for (k = 0; k < sizes[i] && p[k] == 0; k++)
			;
		CHECK(k == sizes[i]); /* zeroed to its last byte */
		memset(p, 0xa5, sizes[i]);
		CHECK_STR(strmap_at(&m, i)->key, key);
	}
	CHECK(strmap_intern(&m, "small") != NULL);
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		snprintf(key, sizeof(key), "big-%zu", sizes[i]);
		p = strmap_get(&m, key);
		CHECK(p != NULL && p[0] == 0xa5 && p[sizes[i] - 1] == 0xa5);
	}
	strmap_free(&m, NULL);
}

/* An interned string is the table's one copy. */
TEST(intern)
{
	struct strmap m;
	char buf[16];
	const char *a, *b;

	memset(&m, 0, sizeof(m));
	snprintf(buf, sizeof(buf), "example.com");
	a = strmap_intern(&m, buf);
	buf[0] = 'X';
	b = strmap_intern(&m, "example.com");
	CHECK(a != NULL && a == b);
	CHECK_STR(a, "example.com");
	CHECK_INT(strmap_len(&m), 1);
	strmap_free(&m, NULL);
}

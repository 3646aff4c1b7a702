/*
 * test_traffic.c - the in-memory sums of store/traffic.c: equal keys add
 * up, a full table refuses a new key (and only a new key) and starts again
 * after a reset, and the sums come out in SQLite's BINARY order.
 */
#include <stdio.h>

#include "check.h"
#include "traffic.h"

struct seen {
	char key[20][5][40];
	int64_t c[20][TC_COUNT];
	size_t n;
};

static int
collect(void *arg, const struct traffic_entry *en)
{
	struct seen *s = arg;
	size_t k;

	if (s->n == 20)
		return -1;
	for (k = 0; k < TK_COUNT; k++)
		snprintf(s->key[s->n][k], sizeof(s->key[0][0]), "%s",
		    en->field[k]);
	memcpy(s->c[s->n], en->c, sizeof(en->c));
	s->n++;
	return 0;
}

static void
counts(int64_t c[TC_COUNT], int64_t v)
{
	size_t i;

	for (i = 0; i < TC_COUNT; i++)
		c[i] = v + (int64_t)i;
}

TEST(equal_keys_add_up_in_key_order)
{
	struct traffic t;
	struct seen s = {0};
	struct err e;
	const char *a[TK_COUNT] = {"192.0.2.2", "example.com", NULL, "d", ""};
	const char *b[TK_COUNT] = {"192.0.2.10", "example.com", "", "d", ""};
	const char *c[TK_COUNT] = {"192.0.2.2", "example.co", "", "d", ""};
	int64_t v[TC_COUNT];

	traffic_init(&t, 1u << 20);
	counts(v, 1);
	CHECK_INT(traffic_add(&t, a, v), 0);
	CHECK_INT(traffic_add(&t, b, v), 0);
	counts(v, 10);
	CHECK_INT(traffic_add(&t, a, v), 0); /* NULL and "" are one key */
	CHECK_INT(traffic_add(&t, c, v), 0);
	CHECK_INT(traffic_sorted(&t, collect, &s, &e), 0);
	CHECK_INT((long long)s.n, 3);
	/* byte order: "192.0.2.10" < "192.0.2.2"; "example.co" <
	 * "example.com" */
	CHECK_STR(s.key[0][0], "192.0.2.10");
	CHECK_STR(s.key[1][1], "example.co");
	CHECK_STR(s.key[2][1], "example.com");
	CHECK_STR(s.key[2][2], "");
	CHECK_INT((long long)s.c[2][0], 11);		  /* 1 + 10 */
	CHECK_INT((long long)s.c[2][TC_COUNT - 1], 23); /* 7 + 16 */
	CHECK_INT((long long)s.c[0][0], 1);
	traffic_free(&t);
}

TEST(full_refuses_only_new_keys_then_starts_again)
{
	struct traffic t;
	struct seen s;
	struct err e;
	char ip[32];
	const char *f[TK_COUNT] = {ip, "example.com", "bounce.example.com",
	    "example.com\x1fsel\x1fpass", "bounce.example.com\x1fmfrom\x1fpass"};
	int64_t v[TC_COUNT];
	size_t added = 0, i;
	int rc = 0;

	counts(v, 1);
	traffic_init(&t, 65536);
	for (i = 0; i < 100000 && rc == 0; i++) {
		snprintf(ip, sizeof(ip), "198.51.100.%zu", i);
		if ((rc = traffic_add(&t, f, v)) == 0)
			added++;
	}
	CHECK_INT(rc, 1); /* full, long before 100,000 keys */
	CHECK(added > 100 && added < 5000);
	/* a key it holds still adds up when full */
	snprintf(ip, sizeof(ip), "198.51.100.0");
	CHECK_INT(traffic_add(&t, f, v), 0);
	/* the refused one goes in after a reset, alone */
	traffic_reset(&t);
	snprintf(ip, sizeof(ip), "198.51.100.%zu", added);
	CHECK_INT(traffic_add(&t, f, v), 0);
	memset(&s, 0, sizeof(s));
	CHECK_INT(traffic_sorted(&t, collect, &s, &e), 0);
	CHECK_INT((long long)s.n, 1);
	CHECK_STR(s.key[0][0], ip);
	CHECK_STR(s.key[0][4], "bounce.example.com\x1fmfrom\x1fpass");
	CHECK_INT((long long)s.c[0][1], 2);
	traffic_free(&t);
}

TEST(full_only_when_the_budget_is_used)
{
	struct traffic t;
	char ip[32];
	const char *f[TK_COUNT] = {ip, "example.com", "", "", ""};
	int64_t v[TC_COUNT];
	size_t added = 0, over = 0, i;
	int rc = 0;

	/* Doubling alone stopped a 3 MB table at 16,384 groups: the next
	 * doubling of the groups did not fit, and half the budget lay
	 * unused.  Growth now takes what is left of it. */
	counts(v, 1);
	traffic_init(&t, TRAFFIC_BYTES);
	for (i = 0; i < 100000 && rc == 0; i++) {
		snprintf(ip, sizeof(ip), "10.%zu.%zu.%zu", i >> 16,
		         (i >> 8) & 255, i & 255);
		if ((rc = traffic_add(&t, f, v)) == 0)
			added++;
		if (added > 1 && traffic_bytes(&t) > TRAFFIC_BYTES)
			over++;
	}
	CHECK_INT(rc, 1);
	CHECK_INT((long long)over, 0);
	CHECK(added > 20000);
	/* full means nearly all of it: a new group would not fit */
	CHECK(traffic_bytes(&t) > TRAFFIC_BYTES / 10 * 9);
	traffic_free(&t);
}

TEST(one_huge_key_fits_alone_and_is_let_go)
{
	struct traffic t;
	static char big[100000];
	const char *f[TK_COUNT] = {big, "", "", "", ""};
	const char *g[TK_COUNT] = {"192.0.2.1", "", "", "", ""};
	int64_t v[TC_COUNT];

	memset(big, 'x', sizeof(big) - 1);
	counts(v, 1);
	traffic_init(&t, 4096);
	CHECK_INT(traffic_add(&t, f, v), 0); /* the first key always fits */
	CHECK_INT(traffic_add(&t, g, v), 1);
	traffic_reset(&t); /* gives back what outgrew the limit */
	CHECK_INT(traffic_add(&t, g, v), 0);
	traffic_free(&t);
}

TEST(empty_sums_write_nothing)
{
	struct traffic t;
	struct seen s = {0};
	struct err e;

	/* a report without records (fuzz_maildir found qsort_r() given NULL) */
	traffic_init(&t, 1u << 20);
	CHECK_INT(traffic_sorted(&t, collect, &s, &e), 0);
	CHECK_INT((long long)s.n, 0);
	traffic_reset(&t);
	CHECK_INT(traffic_sorted(&t, collect, &s, &e), 0);
	CHECK_INT((long long)s.n, 0);
	traffic_free(&t);
}

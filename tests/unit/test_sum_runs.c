/*
 * test_sum_runs.c - store/sum-runs.c: sums that filled their budget many
 * times, written out as runs and merged back, come out exactly as one
 * table large enough for all of them gives them (every key once, counters
 * summed, the same order); values longer than a read; runs forgotten on
 * reset and after a merge, even a failed one; an unusable TMPDIR named in
 * the error.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "sum-runs.h"

struct list {
	char **key; /* TK_COUNT a row */
	int64_t *c; /* TC_COUNT a row */
	size_t n, cap;
	size_t stop_at; /* collect() fails at this row (0: never) */
};

static int
collect(void *arg, const struct traffic_entry *en)
{
	struct list *l = arg;
	size_t k;

	if (l->stop_at != 0 && l->n + 1 == l->stop_at)
		return -1;
	if (l->n == l->cap) {
		l->cap = l->cap * 2 + 64;
		l->key = realloc(l->key, l->cap * TK_COUNT * sizeof(*l->key));
		l->c = realloc(l->c, l->cap * TC_COUNT * sizeof(*l->c));
		if (l->key == NULL || l->c == NULL)
			return -1;
	}
	for (k = 0; k < TK_COUNT; k++)
		if ((l->key[l->n * TK_COUNT + k] = strdup(en->field[k])) ==
		    NULL)
			return -1;
	memcpy(l->c + l->n * TC_COUNT, en->c, sizeof(en->c));
	l->n++;
	return 0;
}

static void
list_free(struct list *l)
{
	size_t i;

	for (i = 0; i < l->n * TK_COUNT; i++)
		free(l->key[i]);
	free(l->key);
	free(l->c);
	memset(l, 0, sizeof(*l));
}

static int
same(const struct list *a, const struct list *b)
{
	size_t i;

	if (a->n != b->n)
		return 0;
	for (i = 0; i < a->n * TK_COUNT; i++)
		if (strcmp(a->key[i], b->key[i]) != 0)
			return 0;
	return memcmp(a->c, b->c, a->n * TC_COUNT * sizeof(*a->c)) == 0;
}

static uint32_t
rnd(uint32_t *s)
{
	*s = *s * 1103515245u + 12345u;
	return *s >> 8;
}

/* n additions of keys drawn from `keys` distinct ones (field 0 long when
 * long_len > 0) into t, a run written out whenever t fills; and into big,
 * which never fills. */
static void
add_many(struct traffic *t, struct sum_runs *sr, struct traffic *big, size_t n,
         uint32_t keys, size_t long_len, uint32_t seed)
{
	char ip[64], *longv = NULL;
	const char *f[TK_COUNT];
	static const char *const dom[] = {"example.com", "shop.example.com", "",
	                                  "example.net"};
	int64_t v[TC_COUNT];
	struct err e;
	size_t i, k;
	uint32_t x;

	if (long_len > 0) {
		CHECK((longv = malloc(long_len + 16)) != NULL);
		memset(longv, 'a', long_len);
	}
	for (i = 0; i < n; i++) {
		x = rnd(&seed) % keys;
		if (longv != NULL) {
			snprintf(longv + long_len, 16, "%u", x);
			f[0] = longv;
		} else {
			if (x % 3)
				snprintf(ip, sizeof(ip), "10.%u.%u.%u", x >> 16,
				         (x >> 8) & 255, x & 255);
			else
				snprintf(ip, sizeof(ip), "2001:db8::%x", x);
			f[0] = ip;
		}
		f[1] = dom[x % 4];
		f[2] = dom[(x / 4) % 4];
		f[3] = x % 5 ? "example.com\x1fs1\x1fpass" : "";
		f[4] = dom[(x / 16) % 4];
		for (k = 0; k < TC_COUNT; k++)
			v[k] = (int64_t)(rnd(&seed) % 1000) - (k == 6 ? 10 : 0);
		if (traffic_add(t, f, v) == 1) {
			CHECK_INT(sum_runs_add(sr, t, &e), 0);
			CHECK_INT(traffic_add(t, f, v), 0);
		}
		CHECK_INT(traffic_add(big, f, v), 0);
	}
	free(longv);
}

/* The sums under test (t, its runs sr) and the same sums in one table
 * (big) that never fills. */
struct fx {
	struct traffic t, big;
	struct sum_runs sr;
};

static void
fx_init(struct fx *x, size_t t_bytes, size_t big_bytes)
{
	traffic_init(&x->t, t_bytes);
	traffic_init(&x->big, big_bytes);
	sum_runs_init(&x->sr);
}

static void
fx_free(struct fx *x)
{
	sum_runs_free(&x->sr);
	traffic_free(&x->t);
	traffic_free(&x->big);
}

/* Merges the runs and t, which must come out as big has them (big is
 * emptied); got keeps what came out.  Returns the rows. */
static size_t
merged_as_one(struct fx *x, struct list *got)
{
	struct list want = {0};
	struct err e;
	size_t n;

	CHECK_INT(sum_runs_merge(&x->sr, &x->t, collect, got, &e), 0);
	CHECK_INT(traffic_sorted(&x->big, collect, &want, &e), 0);
	CHECK(same(got, &want));
	CHECK_INT((long long)sum_runs_count(&x->sr), 0);
	CHECK_INT((long long)x->t.n, 0);
	traffic_reset(&x->big);
	n = want.n;
	list_free(&want);
	return n;
}

TEST(runs_merge_to_what_one_table_holds)
{
	struct fx x;
	struct list got = {0};
	size_t n;

	fx_init(&x, 64u << 10, 256u << 20);
	add_many(&x.t, &x.sr, &x.big, 60000, 9000, 0, 1);
	CHECK(sum_runs_count(&x.sr) > 20); /* a heap of many runs */
	CHECK(x.t.n > 0);                  /* and some still in memory */
	n = merged_as_one(&x, &got);
	CHECK(n > 8000 && n <= 9000);
	list_free(&got);
	/* the next report's runs start afresh in the same file */
	add_many(&x.t, &x.sr, &x.big, 5000, 3000, 0, 7);
	CHECK(sum_runs_count(&x.sr) > 1);
	CHECK(merged_as_one(&x, &got) > 2000);
	list_free(&got);
	fx_free(&x);
}

TEST(values_longer_than_a_read)
{
	struct fx x;
	struct list got = {0};

	/* 100 kB keys: each read of 32 kB holds part of one */
	fx_init(&x, 1u << 20, 64u << 20);
	add_many(&x.t, &x.sr, &x.big, 300, 40, 100000, 3);
	CHECK(sum_runs_count(&x.sr) > 3);
	CHECK_INT((long long)merged_as_one(&x, &got), 40);
	CHECK_INT((long long)strlen(got.key[0]), 100001);
	list_free(&got);
	fx_free(&x);
}

TEST(reset_and_failed_merge_forget_the_runs)
{
	struct fx x;
	struct list got = {0};
	struct err e;

	fx_init(&x, 64u << 10, 64u << 20);
	add_many(&x.t, &x.sr, &x.big, 20000, 5000, 0, 5);
	CHECK(sum_runs_count(&x.sr) > 2);
	/* a report rolled back: its runs and sums go */
	sum_runs_reset(&x.sr);
	traffic_reset(&x.t);
	traffic_reset(&x.big);
	CHECK_INT((long long)sum_runs_count(&x.sr), 0);
	add_many(&x.t, &x.sr, &x.big, 50, 30, 0, 9);
	CHECK_INT((long long)sum_runs_count(&x.sr), 0);
	CHECK(merged_as_one(&x, &got) > 20);
	list_free(&got);

	/* the callback fails half way: -1, and nothing is left */
	add_many(&x.t, &x.sr, &x.big, 20000, 5000, 0, 11);
	CHECK(sum_runs_count(&x.sr) > 2);
	got.stop_at = 100;
	CHECK_INT(sum_runs_merge(&x.sr, &x.t, collect, &got, &e), -1);
	CHECK_INT((long long)got.n, 99);
	CHECK_INT((long long)sum_runs_count(&x.sr), 0);
	CHECK_INT((long long)x.t.n, 0);
	list_free(&got);
	fx_free(&x);
}

TEST(an_unusable_tmpdir_is_named)
{
	struct traffic t, big;
	struct sum_runs sr;
	struct err e;
	const char *f[TK_COUNT] = {"192.0.2.1", "example.com", "", "", ""};
	int64_t v[TC_COUNT] = {1, 1, 1, 1, 1, 0, 0};

	traffic_init(&t, 1u << 20);
	traffic_init(&big, 1u << 20);
	sum_runs_init(&sr);
	CHECK_INT(traffic_add(&t, f, v), 0);
	CHECK_INT(setenv("TMPDIR", "/nonexistent/dmarcsift", 1), 0);
	CHECK_INT(sum_runs_add(&sr, &t, &e), -1);
	CHECK(strstr(e.msg, "/nonexistent/dmarcsift (TMPDIR)") != NULL);
	CHECK(strstr(e.msg, "No such file") != NULL);
	CHECK_INT(unsetenv("TMPDIR"), 0);
	/* nothing was lost: the sums are still there, and go out now */
	CHECK_INT((long long)t.n, 1);
	CHECK_INT(sum_runs_add(&sr, &t, &e), 0);
	CHECK_INT((long long)sum_runs_count(&sr), 1);
	sum_runs_free(&sr);
	traffic_free(&t);
	traffic_free(&big);
}

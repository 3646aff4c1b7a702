/*
 * traffic.c - see traffic.h.  An open-addressing hash table over keys kept
 * in one buffer (offsets, not pointers, since the buffer grows).
 */
#include "traffic.h"

#include <stdlib.h>
#include <string.h>

struct traffic_slot {
	uint64_t hash;
	size_t off, len; /* the key in t->keys; len 0: empty slot */
	int64_t c[TC_COUNT];
};

void
traffic_init(struct traffic *t, size_t max_bytes)
{
	memset(t, 0, sizeof(*t));
	buf_init(&t->keys, 0);
	t->max_bytes = max_bytes;
}

void
traffic_free(struct traffic *t)
{
	buf_free(&t->keys);
	free(t->slot);
	free(t->order);
	memset(t, 0, sizeof(*t));
}

void
traffic_reset(struct traffic *t)
{
	buf_reset(&t->keys);
	if (t->slot != NULL)
		memset(t->slot, 0, t->cap * sizeof(*t->slot));
	t->n = 0;
}

static uint64_t
hash(const char *p, size_t n)
{
	uint64_t h = 14695981039346656037ULL;

	while (n-- > 0) {
		h ^= (unsigned char)*p++;
		h *= 1099511628211ULL;
	}
	return h;
}

static int
grow(struct traffic *t)
{
	struct traffic_slot *old = t->slot, *ns;
	size_t oldcap = t->cap, ncap = oldcap ? oldcap * 2 : 1024, i, j;

	if ((ns = calloc(ncap, sizeof(*ns))) == NULL)
		return -1;
	for (i = 0; i < oldcap; i++) {
		if (old[i].len == 0)
			continue;
		for (j = old[i].hash & (ncap - 1); ns[j].len != 0;
		     j = (j + 1) & (ncap - 1))
			;
		ns[j] = old[i];
	}
	free(old);
	t->slot = ns;
	t->cap = ncap;
	return 0;
}

int
traffic_add(struct traffic *t, const char *const field[TK_COUNT],
    const int64_t c[TC_COUNT])
{
	size_t start = t->keys.len, len, i, j;
	struct traffic_slot *s;
	struct err e;
	uint64_t h;

	for (i = 0; i < TK_COUNT; i++) {
		const char *f = field[i] ? field[i] : "";
		if (buf_append(&t->keys, f, strlen(f) + 1, &e) == -1)
			return -1;
	}
	len = t->keys.len - start;
	h = hash(t->keys.data + start, len);
	if (t->cap == 0 && grow(t) == -1)
		return -1;
	for (j = h & (t->cap - 1); t->slot[j].len != 0; j = (j + 1) & (t->cap - 1)) {
		s = &t->slot[j];
		if (s->hash == h && s->len == len &&
		    memcmp(t->keys.data + s->off, t->keys.data + start, len) == 0) {
			t->keys.len = start; /* known key: drop the copy */
			for (i = 0; i < TC_COUNT; i++)
				s->c[i] += c[i];
			return 0;
		}
	}
	/* a new key: room for it? (slots count too) */
	if (t->keys.len + (t->n + 1) * sizeof(*t->slot) * 2 > t->max_bytes &&
	    t->n > 0) {
		t->keys.len = start;
		return 1;
	}
	if ((t->n + 1) * 2 > t->cap) {
		if (grow(t) == -1)
			return -1;
		for (j = h & (t->cap - 1); t->slot[j].len != 0;
		     j = (j + 1) & (t->cap - 1))
			;
	}
	s = &t->slot[j];
	s->hash = h;
	s->off = start;
	s->len = len;
	memcpy(s->c, c, sizeof(s->c));
	t->n++;
	return 0;
}

/* Keys are their fields joined by NUL, so comparing them as bytes compares
 * field by field: a field that is a prefix of the other ends with NUL,
 * which sorts first, as the shorter string does in SQLite. */
static int
cmp(const void *a, const void *b, void *arg)
{
	const struct traffic *t = arg;
	const struct traffic_slot *x = &t->slot[*(const size_t *)a];
	const struct traffic_slot *y = &t->slot[*(const size_t *)b];
	size_t n = x->len < y->len ? x->len : y->len;
	int r = memcmp(t->keys.data + x->off, t->keys.data + y->off, n);

	return r != 0 ? r : (x->len > y->len) - (x->len < y->len);
}

int
traffic_sorted(struct traffic *t,
    int (*cb)(void *arg, const struct traffic_entry *en), void *arg)
{
	struct traffic_entry en;
	size_t i, k, n = 0;
	const char *p;
	void *np;

	if (t->n > t->order_cap) {
		if ((np = realloc(t->order, t->n * sizeof(*t->order))) == NULL)
			return -1;
		t->order = np;
		t->order_cap = t->n;
	}
	for (i = 0; i < t->cap; i++)
		if (t->slot[i].len != 0)
			t->order[n++] = i;
	qsort_r(t->order, n, sizeof(*t->order), cmp, t);
	for (i = 0; i < n; i++) {
		const struct traffic_slot *s = &t->slot[t->order[i]];
		p = t->keys.data + s->off;
		for (k = 0; k < TK_COUNT; k++) {
			en.field[k] = p;
			p += strlen(p) + 1;
		}
		memcpy(en.c, s->c, sizeof(en.c));
		if (cb(arg, &en) == -1)
			return -1;
	}
	return 0;
}

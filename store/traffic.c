/*
 * traffic.c - see traffic.h.
 *
 * Two open-addressing hash tables (linear probing, at most half full): one
 * interns the field strings into an arena, the other finds a group by its
 * five string ids.  Since equal strings have equal ids, a group is found by
 * comparing ids, never text.  Before anything grows, the bytes it would
 * take are counted against max_bytes; when they would not fit, traffic_add()
 * adds nothing and says "full", and the caller writes the sums out.
 */
#include "traffic.h"

#include <stdlib.h>
#include <string.h>

#include "hash.h"

struct traffic_group {
	uint32_t id[TK_COUNT];
	uint32_t hash;
	int64_t c[TC_COUNT];
};

static size_t footprint(size_t arena, size_t str, size_t nsslot, size_t gcap,
    size_t nslot);

void
traffic_init(struct traffic *t, size_t max_bytes)
{
	memset(t, 0, sizeof(*t));
	t->max_bytes = max_bytes;
}

void
traffic_free(struct traffic *t)
{
	free(t->arena);
	free(t->soff);
	free(t->shash);
	free(t->sslot);
	free(t->g);
	free(t->slot);
	free(t->order);
	memset(t, 0, sizeof(*t));
}

size_t
traffic_bytes(const struct traffic *t)
{
	return footprint(t->arena_cap, t->str_cap, t->nsslot, t->gcap,
	                 t->nslot);
}

/* Empties the sums; the memory is kept for the next ones, unless a single
 * huge key made it outgrow max_bytes. */
void
traffic_reset(struct traffic *t)
{
	if (traffic_bytes(t) > t->max_bytes) {
		size_t max = t->max_bytes;

		traffic_free(t);
		traffic_init(t, max);
		return;
	}
	t->arena_len = 0;
	t->nstr = 0;
	if (t->sslot != NULL)
		memset(t->sslot, 0, t->nsslot * sizeof(*t->sslot));
	t->n = 0;
	if (t->slot != NULL)
		memset(t->slot, 0, t->nslot * sizeof(*t->slot));
}

static uint32_t
str_hash(const char *s, size_t *len)
{
	uint64_t h = fnv1a_str(FNV1A_BASIS, s, len);

	return (uint32_t)(h ^ (h >> 32));
}

static uint32_t
group_hash(const uint32_t id[TK_COUNT])
{
	uint64_t h = 0x9e3779b97f4a7c15ULL;
	size_t i;

	for (i = 0; i < TK_COUNT; i++) {
		h ^= id[i];
		h *= 0xff51afd7ed558ccdULL;
		h ^= h >> 33;
	}
	return (uint32_t)h;
}

/* The id of s, or 0 when it is not interned; *slot is where it is or
 * belongs. */
static uint32_t
str_find(const struct traffic *t, const char *s, uint32_t h, size_t *slot)
{
	size_t i = h & (t->nsslot - 1);
	uint32_t id;

	while ((id = t->sslot[i]) != 0) {
		if (t->shash[id] == h && strcmp(t->arena + t->soff[id], s) == 0)
			break;
		i = (i + 1) & (t->nsslot - 1);
	}
	*slot = i;
	return id;
}

/* The index + 1 of the group with these ids, or 0; *slot as above. */
static uint32_t
group_find(const struct traffic *t, const uint32_t id[TK_COUNT], uint32_t h,
    size_t *slot)
{
	size_t i = h & (t->nslot - 1);
	uint32_t k;

	while ((k = t->slot[i]) != 0) {
		const struct traffic_group *g = &t->g[k - 1];
		if (g->hash == h && memcmp(g->id, id, sizeof(g->id)) == 0)
			break;
		i = (i + 1) & (t->nslot - 1);
	}
	*slot = i;
	return k;
}

/* The capacity that holds need, growing from cap by doubling (from min). */
static size_t
grown(size_t cap, size_t need, size_t min)
{
	if (need <= cap)
		return cap;
	if (cap < min)
		cap = min;
	while (cap < need)
		cap *= 2;
	return cap;
}

/* What the sums would take with these capacities; a group's share counts
 * its slot in order[], the scratch traffic_sorted() sizes to the groups. */
static size_t
footprint(size_t arena, size_t str, size_t nsslot, size_t gcap, size_t nslot)
{
	return arena + str * 2 * sizeof(uint32_t) + nsslot * sizeof(uint32_t) +
	       gcap * (sizeof(struct traffic_group) + sizeof(uint32_t)) +
	       nslot * sizeof(uint32_t);
}

/*
 * Doubling overshot the budget: the arena and the groups, the two that
 * grow large, take only what is left of it.  Without this a table was full
 * when doubling could not fit, with up to half of max_bytes unused (3 MB
 * held 16,384 groups), and a large report wrote its sums out twice as often,
 * each time into the middle of what the last flush wrote.  Returns -1 when
 * even the bare need does not fit (the table is full).
 */
static int
fit_budget(const struct traffic *t, size_t arena_need, size_t str,
           size_t nsslot, size_t nslot, size_t *arena, size_t *gcap)
{
	const size_t per_group =
	    sizeof(struct traffic_group) + sizeof(uint32_t);
	size_t fixed = footprint(0, str, nsslot, 0, nslot), room;
	size_t gneed = t->gcap > t->n + 1 ? t->gcap : t->n + 1;

	if (arena_need < t->arena_cap)
		arena_need = t->arena_cap;
	if (fixed > t->max_bytes || t->max_bytes - fixed < arena_need)
		return -1;
	room = t->max_bytes - fixed;
	if ((room - arena_need) / per_group < gneed)
		return -1;
	if (*arena > room - gneed * per_group)
		*arena = room - gneed * per_group;
	if (*gcap > (room - *arena) / per_group)
		*gcap = (room - *arena) / per_group;
	return 0;
}

static int
resize(void **p, size_t n, size_t size)
{
	void *np = realloc(*p, n * size);

	if (np == NULL)
		return -1;
	*p = np;
	return 0;
}

/* Rebuilds the string hash table with n slots. */
static int
str_rehash(struct traffic *t, size_t n)
{
	uint32_t *ns = calloc(n, sizeof(*ns));
	size_t id, i;

	if (ns == NULL)
		return -1;
	for (id = 1; id <= t->nstr; id++) {
		for (i = t->shash[id] & (n - 1); ns[i] != 0; i = (i + 1) & (n - 1))
			;
		ns[i] = (uint32_t)id;
	}
	free(t->sslot);
	t->sslot = ns;
	t->nsslot = n;
	return 0;
}

static int
group_rehash(struct traffic *t, size_t n)
{
	uint32_t *ns = calloc(n, sizeof(*ns));
	size_t k, i;

	if (ns == NULL)
		return -1;
	for (k = 0; k < t->n; k++) {
		for (i = t->g[k].hash & (n - 1); ns[i] != 0; i = (i + 1) & (n - 1))
			;
		ns[i] = (uint32_t)(k + 1);
	}
	free(t->slot);
	t->slot = ns;
	t->nslot = n;
	return 0;
}

/* Interns s (known to be new, of length len and hash h): its id. */
static uint32_t
str_add(struct traffic *t, const char *s, size_t len, uint32_t h)
{
	uint32_t id;
	size_t slot;

	memcpy(t->arena + t->arena_len, s, len + 1);
	id = (uint32_t)++t->nstr;
	t->soff[id] = (uint32_t)t->arena_len;
	t->shash[id] = h;
	t->arena_len += len + 1;
	(void)str_find(t, s, h, &slot); /* the empty slot it belongs in */
	t->sslot[slot] = id;
	return id;
}

int
traffic_add(struct traffic *t, const char *const field[TK_COUNT],
    const int64_t c[TC_COUNT])
{
	const char *s[TK_COUNT];
	uint32_t id[TK_COUNT], sh[TK_COUNT], h;
	size_t len[TK_COUNT], slot, i, k, newstr = 0, newbytes = 0;
	size_t arena, str, nsslot, gcap, nslot;
	struct traffic_group *g;

	if (t->sslot == NULL && str_rehash(t, 64) == -1)
		return -1;
	if (t->slot == NULL && group_rehash(t, 64) == -1)
		return -1;
	for (i = 0; i < TK_COUNT; i++) {
		s[i] = field[i] != NULL ? field[i] : "";
		sh[i] = str_hash(s[i], &len[i]);
		id[i] = str_find(t, s[i], sh[i], &slot);
		if (id[i] == 0) {
			/* the same new string twice in one key counts once
			 * too many: harmless, the estimate is high */
			newstr++;
			newbytes += len[i] + 1;
		}
	}
	if (newstr == 0) {
		h = group_hash(id);
		if ((k = group_find(t, id, h, &slot)) != 0) {
			for (i = 0; i < TC_COUNT; i++)
				t->g[k - 1].c[i] += c[i];
			return 0;
		}
	}

	/* A new group (and perhaps new strings): does it fit? */
	if (t->arena_len + newbytes > UINT32_MAX || t->nstr + newstr >= UINT32_MAX ||
	    t->n + 1 >= UINT32_MAX)
		return t->n > 0 ? 1 : -1;
	arena = grown(t->arena_cap, t->arena_len + newbytes, 4096);
	str = grown(t->str_cap, t->nstr + newstr + 1, 256);
	nsslot = grown(t->nsslot, 2 * (t->nstr + newstr), 64);
	gcap = grown(t->gcap, t->n + 1, 256);
	nslot = grown(t->nslot, 2 * (t->n + 1), 64);
	if (t->n > 0 &&
	    footprint(arena, str, nsslot, gcap, nslot) > t->max_bytes &&
	    fit_budget(t, t->arena_len + newbytes, str, nsslot, nslot, &arena,
	               &gcap) == -1)
		return 1;
	if ((arena != t->arena_cap &&
		resize((void **)&t->arena, arena, 1) == -1) ||
	    (str != t->str_cap &&
		(resize((void **)&t->soff, str, sizeof(uint32_t)) == -1 ||
		    resize((void **)&t->shash, str, sizeof(uint32_t)) == -1)) ||
	    (gcap != t->gcap &&
		resize((void **)&t->g, gcap, sizeof(*t->g)) == -1))
		return -1;
	t->arena_cap = arena;
	t->str_cap = str;
	t->gcap = gcap;
	if ((nsslot != t->nsslot && str_rehash(t, nsslot) == -1) ||
	    (nslot != t->nslot && group_rehash(t, nslot) == -1))
		return -1;

	for (i = 0; i < TK_COUNT; i++)
		if ((id[i] = str_find(t, s[i], sh[i], &slot)) == 0)
			id[i] = str_add(t, s[i], len[i], sh[i]);
	h = group_hash(id);
	(void)group_find(t, id, h, &slot);
	g = &t->g[t->n];
	memcpy(g->id, id, sizeof(g->id));
	g->hash = h;
	memcpy(g->c, c, sizeof(g->c));
	t->slot[slot] = (uint32_t)++t->n;
	return 0;
}

/* Field by field, each as bytes (strcmp() on UTF-8 is SQLite's BINARY). */
static int
cmp(const void *a, const void *b, void *arg)
{
	const struct traffic *t = arg;
	const struct traffic_group *x = &t->g[*(const uint32_t *)a];
	const struct traffic_group *y = &t->g[*(const uint32_t *)b];
	size_t i;
	int r;

	for (i = 0; i < TK_COUNT; i++)
		if (x->id[i] != y->id[i] &&
		    (r = strcmp(t->arena + t->soff[x->id[i]],
			 t->arena + t->soff[y->id[i]])) != 0)
			return r;
	return 0;
}

int
traffic_sorted(struct traffic *t,
    int (*cb)(void *arg, const struct traffic_entry *en), void *arg,
    struct err *e)
{
	struct traffic_entry en;
	size_t i, k;

	if (t->n == 0) /* a report without records: order may be NULL */
		return 0;
	if (t->n > t->order_cap) {
		if (resize((void **)&t->order, t->n, sizeof(*t->order)) == -1)
			return err_set(e, "cannot sort the traffic sums: out of "
			                  "memory for %zu groups", t->n);
		t->order_cap = t->n;
	}
	for (i = 0; i < t->n; i++)
		t->order[i] = (uint32_t)i;
	qsort_r(t->order, t->n, sizeof(*t->order), cmp, t);
	for (i = 0; i < t->n; i++) {
		const struct traffic_group *g = &t->g[t->order[i]];
		for (k = 0; k < TK_COUNT; k++)
			en.field[k] = t->arena + t->soff[g->id[k]];
		memcpy(en.c, g->c, sizeof(en.c));
		if (cb(arg, &en) == -1)
			return -1;
	}
	return 0;
}

/* Appends one result, its fields separated by U+001F, to a list whose
 * entries are separated by U+001E; NULL fields are empty. */
static int
sig_entry(struct buf *b, const char *x, const char *y, const char *z,
    struct err *e)
{
	if ((b->len > 0 && buf_appendc(b, '\x1e', e) == -1) ||
	    buf_append(b, x ? x : "", x ? strlen(x) : 0, e) == -1 ||
	    buf_appendc(b, '\x1f', e) == -1 ||
	    buf_append(b, y ? y : "", y ? strlen(y) : 0, e) == -1 ||
	    buf_appendc(b, '\x1f', e) == -1 ||
	    buf_append(b, z ? z : "", z ? strlen(z) : 0, e) == -1)
		return -1;
	return 0;
}

static int
is(const char *s, const char *want)
{
	return s != NULL && strcmp(s, want) == 0;
}

/* The key and counters of record r (see traffic_add_record()). */
static int
traffic_key(const struct dmarc_record *r, struct buf *dkim, struct buf *spf,
    const char *field[TK_COUNT], int64_t c[TC_COUNT], struct err *e)
{
	int64_t n = r->count;
	int dk = is(r->dkim, "pass"), sp = is(r->spf, "pass");
	size_t i;

	buf_reset(dkim);
	buf_reset(spf);
	for (i = 0; i < r->ndkim; i++)
		if (sig_entry(dkim, r->dkim_results[i].domain,
			r->dkim_results[i].selector, r->dkim_results[i].result,
			e) == -1)
			return -1;
	for (i = 0; i < r->nspf; i++)
		if (sig_entry(spf, r->spf_results[i].domain,
			r->spf_results[i].scope, r->spf_results[i].result,
			e) == -1)
			return -1;
	field[TK_SOURCE_IP] = r->source_ip;
	field[TK_HEADER_FROM] = r->header_from;
	field[TK_ENVELOPE_FROM] = r->envelope_from;
	field[TK_DKIM] = dkim->len ? dkim->data : "";
	field[TK_SPF] = spf->len ? spf->data : "";
	c[TC_RECORDS] = 1;
	c[TC_MESSAGES] = n;
	c[TC_DKIM_ALIGNED] = dk ? n : 0;
	c[TC_SPF_ALIGNED] = sp ? n : 0;
	c[TC_DMARC_PASS] = dk || sp ? n : 0;
	c[TC_QUARANTINED] = is(r->disposition, "quarantine") ? n : 0;
	c[TC_REJECTED] = is(r->disposition, "reject") ? n : 0;
	return 0;
}

int
traffic_add_record(struct traffic *t, const struct dmarc_record *r,
    struct buf *dkim, struct buf *spf,
    int (*flush)(void *arg, struct err *e), void *arg, struct err *e)
{
	const char *field[TK_COUNT];
	int64_t c[TC_COUNT];
	int rc;

	if (traffic_key(r, dkim, spf, field, c, e) == -1)
		return -1;
	if ((rc = traffic_add(t, field, c)) == 1) {
		if ((rc = flush(arg, e)) != 0)
			return rc;
		rc = traffic_add(t, field, c);
	}
	if (rc == -1)
		return err_set(e, "out of memory summing the traffic");
	return 0;
}

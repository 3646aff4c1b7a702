/*
 * strmap.c - string-keyed table: an array of entries indexed by an
 * open-addressing hash (FNV-1a, linear probing, at most half full).
 *
 * Each entry's value and key share one piece of a pool of growing chunks,
 * freed together: `sources` and `ses` add hundreds of thousands of small
 * entries (an address to a set, a row), and a malloc() for each key and
 * each value cost more than the lookups.  The hash is kept with the entry,
 * so that probing compares it before the key and rehashing and sorting do
 * not hash again.
 */
#include "strmap.h"

#include "hash.h"

#include <stdalign.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

/* Chunk sizes: small at first (many maps hold a few entries), doubling
 * up to CHUNK_MAX.
 *
 * Chunks of HUGE_PAGE and more are aligned to it and offered to the
 * kernel for transparent huge pages.  A big map's memory is new to the
 * process and faults in page by page: `ses` over 10 million records took
 * 39,000 page faults, 16% of its time on a virtual machine, and 10,000
 * with these chunks (2.2 s to 1.9 s).  Where the kernel declines, they
 * are ordinary memory. */
#define CHUNK_MIN 256
#define CHUNK_MAX (4u << 20)
#define HUGE_PAGE (2u << 20)

struct strmap_chunk {
	struct strmap_chunk *next;
	size_t size, used;
	alignas(max_align_t) unsigned char data[];
};

static uint64_t
hash(const char *s)
{
	return fnv1a_str(FNV1A_BASIS, s, NULL);
}

/* A chunk with room for at least size bytes; NULL when out of memory. */
static struct strmap_chunk *
chunk_new(size_t size)
{
	struct strmap_chunk *c;
	size_t total = sizeof(*c) + size;

	if (size < HUGE_PAGE) {
		if ((c = malloc(total)) == NULL)
			return NULL;
	} else {
		/* whole huge pages, the header inside the first */
		total = (size + HUGE_PAGE - 1) & ~(size_t)(HUGE_PAGE - 1);
		if (total - sizeof(*c) < size)
			total += HUGE_PAGE;
		if ((c = aligned_alloc(HUGE_PAGE, total)) == NULL)
			return NULL;
#ifdef MADV_HUGEPAGE
		(void)madvise(c, total, MADV_HUGEPAGE); /* a hint only */
#endif
	}
	c->size = total - sizeof(*c);
	c->used = 0;
	return c;
}

/* n bytes from the pool, aligned for any value; NULL when out of memory. */
static void *
pool_alloc(struct strmap *m, size_t n)
{
	struct strmap_chunk *c = m->pool;
	size_t size;
	void *p;

	n = (n + alignof(max_align_t) - 1) & ~(alignof(max_align_t) - 1);
	if (c == NULL || c->size - c->used < n) {
		size = c == NULL ? CHUNK_MIN : c->size < CHUNK_MAX ? c->size * 2
								   : CHUNK_MAX;
		if (size < n)
			size = n;
		if ((c = chunk_new(size)) == NULL)
			return NULL;
		c->next = m->pool;
		m->pool = c;
	}
	p = c->data + c->used;
	c->used += n;
	return p;
}

/* The slot holding key (of hash h), or the empty slot where it belongs. */
static size_t
find(const struct strmap *m, const char *key, uint64_t h)
{
	size_t i = (size_t)h & (m->nslot - 1), k;

	while ((k = m->slot[i]) != 0 &&
	    (m->e[k - 1].hash != h || strcmp(m->e[k - 1].key, key) != 0))
		i = (i + 1) & (m->nslot - 1);
	return i;
}

/* Puts every entry in its slot again, by its kept hash. */
static void
reslot(struct strmap *m)
{
	size_t i, j;

	memset(m->slot, 0, m->nslot * sizeof(*m->slot));
	for (i = 0; i < m->n; i++) {
		for (j = (size_t)m->e[i].hash & (m->nslot - 1); m->slot[j] != 0;
		     j = (j + 1) & (m->nslot - 1))
			;
		m->slot[j] = i + 1;
	}
}

static int
rehash(struct strmap *m, size_t nslot)
{
	size_t *ns;

	if ((ns = calloc(nslot, sizeof(*ns))) == NULL)
		return -1;
	free(m->slot);
	m->slot = ns;
	m->nslot = nslot;
	reslot(m);
	return 0;
}

void *
strmap_get(const struct strmap *m, const char *key)
{
	size_t i;

	if (m->nslot == 0)
		return NULL;
	i = find(m, key, hash(key));
	return m->slot[i] ? m->e[m->slot[i] - 1].value : NULL;
}

/* The entry for key, created when missing; NULL when out of memory. */
static struct strmap_entry *
upsert(struct strmap *m, const char *key, size_t vsize, int *created)
{
	struct strmap_entry *ne;
	uint64_t h = hash(key);
	size_t i, klen;
	unsigned char *p;

	if (created != NULL)
		*created = 0;
	if ((m->n + 1) * 2 > m->nslot &&
	    rehash(m, m->nslot ? m->nslot * 2 : 8) == -1)
		return NULL;
	i = find(m, key, h);
	if (m->slot[i] != 0)
		return &m->e[m->slot[i] - 1];
	if (m->n == m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 4;

		if ((ne = realloc(m->e, cap * sizeof(*ne))) == NULL)
			return NULL;
		m->e = ne;
		m->cap = cap;
	}
	/* the value first (aligned), the key after it */
	if (vsize == 0)
		vsize = 1;
	klen = strlen(key) + 1;
	if ((p = pool_alloc(m, vsize + klen)) == NULL)
		return NULL;
	memset(p, 0, vsize);
	memcpy(p + vsize, key, klen);
	ne = &m->e[m->n];
	ne->value = p;
	ne->key = (char *)p + vsize;
	ne->hash = h;
	m->slot[i] = ++m->n;
	if (created != NULL)
		*created = 1;
	return ne;
}

void *
strmap_upsert(struct strmap *m, const char *key, size_t vsize, int *created)
{
	struct strmap_entry *en = upsert(m, key, vsize, created);

	return en != NULL ? en->value : NULL;
}

const char *
strmap_intern(struct strmap *m, const char *key)
{
	struct strmap_entry *en = upsert(m, key, 1, NULL);

	return en != NULL ? en->key : NULL;
}

size_t
strmap_len(const struct strmap *m)
{
	return m->n;
}

const struct strmap_entry *
strmap_at(const struct strmap *m, size_t i)
{
	return i < m->n ? &m->e[i] : NULL;
}

void
strmap_sort(struct strmap *m,
    int (*cmp)(const void *a, const void *b))
{
	if (m->n < 2)
		return;
	qsort(m->e, m->n, sizeof(*m->e), cmp);
	reslot(m);
}

void
strmap_key(char *out, size_t len, const char *const *parts, size_t n)
{
	size_t used = 0, i, k;

	if (len == 0)
		return;
	for (i = 0; i < n && used < len - 1; i++) {
		if (i > 0)
			out[used++] = '\x1f';
		k = strlen(parts[i]);
		if (k > len - 1 - used)
			k = len - 1 - used;
		memcpy(out + used, parts[i], k);
		used += k;
	}
	out[used] = '\0';
}

void
strmap_free(struct strmap *m, void (*free_value)(void *value))
{
	struct strmap_chunk *c, *next;
	size_t i;

	if (free_value != NULL)
		for (i = 0; i < m->n; i++)
			free_value(m->e[i].value);
	for (c = m->pool; c != NULL; c = next) {
		next = c->next;
		free(c);
	}
	free(m->e);
	free(m->slot);
	memset(m, 0, sizeof(*m));
}

/*
 * strmap.c - string-keyed table: an array of entries indexed by an
 * open-addressing hash (FNV-1a, linear probing, at most half full).
 */
#include "strmap.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static uint64_t
hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return h;
}

/* The slot holding key, or the empty slot where it belongs. */
static size_t
find(const struct strmap *m, const char *key)
{
	size_t i = (size_t)hash(key) & (m->nslot - 1);

	while (m->slot[i] != 0 && strcmp(m->e[m->slot[i] - 1].key, key) != 0)
		i = (i + 1) & (m->nslot - 1);
	return i;
}

static int
rehash(struct strmap *m, size_t nslot)
{
	size_t *old = m->slot, i;

	if ((m->slot = calloc(nslot, sizeof(*m->slot))) == NULL) {
		m->slot = old;
		return -1;
	}
	free(old);
	m->nslot = nslot;
	for (i = 0; i < m->n; i++)
		m->slot[find(m, m->e[i].key)] = i + 1;
	return 0;
}

void *
strmap_get(const struct strmap *m, const char *key)
{
	size_t i;

	if (m->nslot == 0)
		return NULL;
	i = find(m, key);
	return m->slot[i] ? m->e[m->slot[i] - 1].value : NULL;
}

void *
strmap_upsert(struct strmap *m, const char *key, size_t vsize, int *created)
{
	struct strmap_entry *ne;
	size_t i;

	if (created != NULL)
		*created = 0;
	if ((m->n + 1) * 2 > m->nslot &&
	    rehash(m, m->nslot ? m->nslot * 2 : 8) == -1)
		return NULL;
	i = find(m, key);
	if (m->slot[i] != 0)
		return m->e[m->slot[i] - 1].value;
	if (m->n == m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 4;

		if ((ne = realloc(m->e, cap * sizeof(*ne))) == NULL)
			return NULL;
		m->e = ne;
		m->cap = cap;
	}
	if ((m->e[m->n].key = strdup(key)) == NULL)
		return NULL;
	if ((m->e[m->n].value = calloc(1, vsize ? vsize : 1)) == NULL) {
		free(m->e[m->n].key);
		return NULL;
	}
	m->slot[i] = ++m->n;
	if (created != NULL)
		*created = 1;
	return m->e[m->n - 1].value;
}

const char *
strmap_intern(struct strmap *m, const char *key)
{
	size_t i;

	if (strmap_upsert(m, key, 1, NULL) == NULL)
		return NULL;
	i = find(m, key);
	return m->e[m->slot[i] - 1].key;
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
	size_t i;

	if (m->n < 2)
		return;
	qsort(m->e, m->n, sizeof(*m->e), cmp);
	for (i = 0; i < m->nslot; i++)
		m->slot[i] = 0;
	for (i = 0; i < m->n; i++)
		m->slot[find(m, m->e[i].key)] = i + 1;
}

void
strmap_free(struct strmap *m, void (*free_value)(void *value))
{
	size_t i;

	for (i = 0; i < m->n; i++) {
		if (free_value != NULL)
			free_value(m->e[i].value);
		free(m->e[i].value);
		free(m->e[i].key);
	}
	free(m->e);
	free(m->slot);
	memset(m, 0, sizeof(*m));
}

/*
 * strmap.h - a table from strings to records of the caller's, for the
 * commands' aggregation in memory (sources, SES rows, sets of IPs).
 *
 * Promises: lookups and inserts in constant expected time; entries stay in
 * insertion order (strmap_at) until sorted with strmap_sort; values are
 * zeroed when created and freed (after the caller's free_value) by
 * strmap_free; until then neither a value nor the table's copy of a key
 * moves.  Keys are copied.
 */
#ifndef DMARCSIFT_STRMAP_H
#define DMARCSIFT_STRMAP_H

#include <stddef.h>
#include <stdint.h>

struct strmap_entry {
	char *key;
	void *value;
	uint64_t hash; /* of key */
};

struct strmap_chunk;

struct strmap {
	struct strmap_entry *e;
	size_t n, cap;
	size_t *slot; /* open addressing: entry index + 1, 0 empty */
	size_t nslot;
	struct strmap_chunk *pool; /* where the values and keys live */
};

/* The value for key, or NULL. */
void *strmap_get(const struct strmap *m, const char *key);

/* The value for key, created (vsize bytes, zeroed) when missing; NULL when
 * out of memory.  *created tells which, when not NULL. */
void *strmap_upsert(struct strmap *m, const char *key, size_t vsize,
    int *created);

/* The table's own copy of key, added when missing: a string pool whose
 * strings live until strmap_free.  NULL when out of memory. */
const char *strmap_intern(struct strmap *m, const char *key);

size_t strmap_len(const struct strmap *m);
const struct strmap_entry *strmap_at(const struct strmap *m, size_t i);

/* Sorts the entries with a qsort comparator whose arguments point to
 * const struct strmap_entry (lookups keep working). */
void strmap_sort(struct strmap *m,
    int (*cmp)(const void *a, const void *b));

/* Writes the n parts joined with US (0x1f) into out, cut short to len - 1
 * bytes as snprintf() would: a key made of several strings, built for
 * every group of records. */
void strmap_key(char *out, size_t len, const char *const *parts, size_t n);

/* Frees everything; free_value (may be NULL) runs on each value first. */
void strmap_free(struct strmap *m, void (*free_value)(void *value));

#endif

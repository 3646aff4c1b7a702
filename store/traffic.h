/*
 * traffic.h - one report's share of the traffic rollup, summed in memory
 * and handed back in key order.
 *
 * Why: each record adds to a row of the traffic table (migrations.c, step
 * 2), keyed by source, identifiers and results.  Adding record by record
 * touches that table's B-tree at random places, which for a large report
 * costs far more than storing the records themselves.  Summing the report
 * here first and writing the sums in key order visits each page once.
 *
 * Memory is bounded: when the sums would exceed the size given to
 * traffic_init(), traffic_add() says so and the caller writes what it has
 * (in order) and starts again.
 */
#ifndef DMARCSIFT_TRAFFIC_H
#define DMARCSIFT_TRAFFIC_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

enum {
	TC_RECORDS,
	TC_MESSAGES,
	TC_DKIM_ALIGNED,
	TC_SPF_ALIGNED,
	TC_DMARC_PASS,
	TC_QUARANTINED,
	TC_REJECTED,
	TC_COUNT
};

/* The key fields, in the order of the table's primary key after day,
 * domain, adkim and aspf. */
enum {
	TK_SOURCE_IP,
	TK_HEADER_FROM,
	TK_ENVELOPE_FROM,
	TK_DKIM,
	TK_SPF,
	TK_COUNT
};

struct traffic_entry {
	const char *field[TK_COUNT]; /* NUL-terminated, never NULL */
	int64_t c[TC_COUNT];
};

struct traffic_slot;

struct traffic {
	struct buf keys; /* the keys, fields separated by NUL */
	struct traffic_slot *slot;
	size_t cap, n;	 /* hash table size (power of 2), entries */
	size_t max_bytes;
	size_t *order;	 /* scratch for traffic_sorted() */
	size_t order_cap;
};

void traffic_init(struct traffic *t, size_t max_bytes);
void traffic_free(struct traffic *t);
void traffic_reset(struct traffic *t);

/* Adds counters under the key made of the fields (NULL counts as "").
 * Returns 0, 1 when the sums are full (nothing added: write them out,
 * reset, add again), or -1 when out of memory. */
int traffic_add(struct traffic *t, const char *const field[TK_COUNT],
    const int64_t c[TC_COUNT]);

/* Calls cb for every entry in key order (each field compared as bytes,
 * the first difference deciding, as SQLite's BINARY collation does). */
int traffic_sorted(struct traffic *t,
    int (*cb)(void *arg, const struct traffic_entry *en), void *arg);

#endif

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
#include "err.h"
#include "report.h"

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

/* The sums' memory per report: 3 MB hold some 20,000 groups.  A larger
 * table is written out less often (8 MB made a 1M-record import 15% faster
 * on SQLite) but then peak memory grows with the report up to that size;
 * at 3 MB it stays within 12% of a small report's. */
#define TRAFFIC_BYTES (3u << 20)

struct traffic_entry {
	const char *field[TK_COUNT]; /* NUL-terminated, never NULL */
	int64_t c[TC_COUNT];
};

struct traffic_group;

/*
 * The sums are kept compact, so that the table holds many groups in little
 * memory and fills (and is written out) rarely: each distinct field value
 * is stored once (interned: a report repeats the same From domains, MAIL
 * FROM domains and DKIM/SPF results on most of its records), and a group
 * is five string ids and its counters, 80 bytes.  Every allocation counts
 * against max_bytes, capacity and all.
 */
struct traffic {
	/* interned strings: id i (from 1) is arena + soff[i] */
	char *arena;
	size_t arena_len, arena_cap;
	uint32_t *soff, *shash; /* by id: offset, hash */
	size_t nstr, str_cap;	/* ids used, room in soff/shash */
	uint32_t *sslot;	/* hash table over the ids (0: empty) */
	size_t nsslot;		/* a power of 2, at least twice nstr */

	/* groups, and a hash table over them (index + 1; 0: empty) */
	struct traffic_group *g;
	size_t n, gcap;
	uint32_t *slot;
	size_t nslot;

	uint32_t *order; /* scratch for traffic_sorted() */
	size_t order_cap;
	size_t max_bytes;
};

void traffic_init(struct traffic *t, size_t max_bytes);
void traffic_free(struct traffic *t);
void traffic_reset(struct traffic *t);

/* The bytes the sums take, capacity and all.  Once they hold two groups or
 * more this is at most max_bytes: growth that would double past it takes
 * only what is left, and the sums are full when not even the next group
 * fits. */
size_t traffic_bytes(const struct traffic *t);

/* Adds counters under the key made of the fields (NULL counts as "").
 * Returns 0, 1 when the sums are full (nothing added: write them out,
 * reset, add again), or -1 when out of memory. */
int traffic_add(struct traffic *t, const char *const field[TK_COUNT],
    const int64_t c[TC_COUNT]);

/* Adds record r under its key: source, identifiers, and its DKIM and SPF
 * results listed in dkim and spf (scratch buffers; the texts
 * TRAFFIC_DKIM_SQL and TRAFFIC_SPF_SQL make, migrations.h, so that records
 * summed here and reports added in SQL land on the same rows).  When the
 * sums are full, calls flush(arg, e), which writes them out, empties them
 * and returns 0 (r is then added to the empty sums), 1 (r is not added:
 * the caller stops summing) or -1 with e filled.  Returns 0, 1 or -1 (e
 * filled). */
int traffic_add_record(struct traffic *t, const struct dmarc_record *r,
    struct buf *dkim, struct buf *spf,
    int (*flush)(void *arg, struct err *e), void *arg, struct err *e);

/* Calls cb for every entry in key order (each field compared as bytes,
 * the first difference deciding, as SQLite's BINARY collation does).
 * Returns 0, or -1 when cb did (having filled e) or when out of memory (e
 * filled here). */
int traffic_sorted(struct traffic *t,
    int (*cb)(void *arg, const struct traffic_entry *en), void *arg,
    struct err *e);

#endif

/*
 * pg-sums.c - a big report's share of the rollup COPYed straight into
 * traffic, when none of its rows can be there yet.
 *
 * Why: the usual way (store-pg-write.c) stages the sums and adds them
 * with INSERT ... ON CONFLICT DO UPDATE, which looks every key up before
 * it inserts it, and writes every row twice.  For the 28,500 groups of a
 * 100,000-record report the server spent 40 ms staging them and 350 ms on
 * the upsert, all of it after the last record, while the client waited:
 * the same rows COPYed into traffic took 160 ms.  Sums that filled their
 * memory budget were staged piece by piece and grouped by the server
 * (115 and 470 ms for the same groups); they are now written out as runs
 * (sum-runs.h) and merged back here, every group once.
 *
 * When: a report's rows in traffic all share its day, policy domain and
 * alignment modes, the first four columns of the key.  If no row has
 * those four yet, none of its groups can conflict, and a COPY does.  Batches
 * take turns (the batch lock, store-pg.c), so no other import adds such a
 * row between the look and the COPY; a prune, which does not take that
 * lock, only subtracts from rows that are there.  Should a row appear all
 * the same, the COPY fails on the key and the report is rolled back with
 * its savepoint, to be imported again by the next run: never added twice.
 * When rows are there, the merged groups are staged and upserted, each
 * once.  Small reports skip the look, one round trip more than it saves
 * them, and stage their sums with their records.
 */
#include <string.h>

#include "pg-impl.h"

/* groups from which the look and the COPY are cheaper than the upsert */
#define SUMS_COPY_MIN 1000

static const char taken_sql[] =
    "SELECT 1 FROM traffic WHERE day = $1::bigint AND domain = $2 AND "
    "adkim = $3 AND aspf = $4 LIMIT 1";
static const char copy_sql[] =
    "COPY traffic (day, domain, adkim, aspf, source_ip, header_from, "
    "envelope_from, dkim, spf, records, messages, dkim_aligned, "
    "spf_aligned, dmarc_pass, quarantined, rejected) FROM STDIN";

struct sums_copy {
	struct pg *p;
	struct buf *b;
	const char *const *head; /* day, domain, adkim, aspf */
	struct err *e;
};

/* One group as a row of traffic. */
static int
copy_entry(void *arg, const struct traffic_entry *en)
{
	struct sums_copy *sc = arg;
	struct err *e = sc->e;
	int i;

	if (buf_append(sc->b, sc->head[0], strlen(sc->head[0]), e) == -1)
		return -1;
	for (i = 1; i < 4; i++)
		if (pg_copy_field(sc->b, sc->head[i], e) == -1)
			return -1;
	for (i = 0; i < TK_COUNT; i++)
		if (pg_copy_field(sc->b, en->field[i], e) == -1)
			return -1;
	for (i = 0; i < TC_COUNT; i++)
		if (pg_copy_int(sc->b, en->c[i], e) == -1)
			return -1;
	if (buf_appendc(sc->b, '\n', e) == -1)
		return -1;
	return sc->b->len < PG_COPY_FLUSH ? 0 : pg_copy_send(sc->p, sc->b, e);
}

int
pg_sums_copy_wanted(const struct pg *p)
{
	return sum_runs_count(&p->runs) > 0 || p->traffic.n >= SUMS_COPY_MIN;
}

/* Whether no row of traffic has head yet. */
static int
look(struct pg *p, const char *const head[4], int *fresh, struct err *e)
{
	PGresult *r =
	    pg_exec_prepared(p, taken_sql, 4, head, PGRES_TUPLES_OK, e,
	                     "cannot add the report to the traffic");

	if (r != NULL)
		*fresh = PQntuples(r) == 0;
	PQclear(r);
	return r != NULL ? 0 : -1;
}

int
pg_sums_copy(struct pg *p, const char *const head[4], int *copied,
             struct err *e)
{
	struct sums_copy sc = {p, &p->copy, head, e};
	int fresh;

	*copied = 0;
	if (look(p, head, &fresh, e) == -1)
		return -1;
	if (!fresh)
		return 0;
	if (pg_copy_open(p, copy_sql, e) == -1)
		return -1;
	if (sum_runs_merge(&p->runs, &p->traffic, copy_entry, &sc, e) == -1) {
		(void)pg_copy_close(p, &p->copy, "client error", e);
		return -1;
	}
	if (pg_copy_close(p, &p->copy, NULL, e) == -1)
		return -1;
	*copied = 1;
	return 0;
}

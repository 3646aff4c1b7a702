/*
 * store-pg-direct.c - a big report's rows COPYed straight into the
 * partitioned tables while it is parsed (see struct pg_direct).
 *
 * Why not staging: every staged row was written twice, once by the COPY
 * into staging and once by the move, and the move's INSERT ... SELECT
 * inserts row by row where COPY inserts in batches.  For a 100,000-record
 * report the server spent 0.8 s on the COPY into staging and 1.95 s on the
 * moves, against 1.1 s to COPY the same rows into the tables.
 *
 * Only one COPY can be open on a connection, so each table's rows are
 * gathered in memory a chunk at a time and sent table after table by a
 * thread of their own, while the next chunk is parsed: the client and the
 * server work at once, as the moves in flight did before.  The rows carry
 * the id reserved for the report and its begin (the partition key), which
 * is why only a report whose begin came before its records goes direct.
 * The rollup's sums wait for the report's end (pg-sums.c), since they are
 * added under the report's header, which may come last, and all at once:
 * adding the sums staged with each chunk as it went (when the policy came
 * first) made a million-record report 75% slower, since each group whose
 * sums filled the memory budget more than once was updated that many
 * times.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "pg-impl.h"

/* A chunk: enough rows that a COPY's fixed cost does not count, few
 * enough that the last one, sent while the client waits, is short. */
#define DIRECT_RECORDS 5000
#define DIRECT_BYTES   (8u << 20)

/* the years PostgreSQL reads as YYYY-MM-DD; others stay in staging,
 * where to_timestamp() takes them */
#define BEGIN_MAX 253402300799 /* 9999-12-31 23:59:59 UTC */

static const char *const copy_sql[PG_T_COUNT] = {
    "COPY records (report, rec, begin_ts, source_ip, count, disposition, "
    "dkim, spf, header_from, envelope_from, envelope_to, auth_dkim, "
    "auth_spf) FROM STDIN",
    "COPY override_reasons (report, rec, idx, begin_ts, type, "
    "type_original, comment) FROM STDIN",
    PG_STAGING_COPY,
};

int
pg_direct_usable(int64_t begin)
{
	return begin >= 0 && begin <= BEGIN_MAX;
}

void
pg_direct_init(struct pg *p)
{
	struct pg_direct *d = &p->direct;
	int i;

	memset(d, 0, sizeof(*d));
	for (i = 0; i < PG_T_SUMS; i++)
		buf_init(&d->fill[i], 0);
	for (i = 0; i < PG_T_COUNT; i++)
		buf_init(&d->send[i], 0);
}

void
pg_direct_free(struct pg *p)
{
	struct pg_direct *d = &p->direct;
	int i;

	pg_direct_abort(p);
	for (i = 0; i < PG_T_SUMS; i++)
		buf_free(&d->fill[i]);
	for (i = 0; i < PG_T_COUNT; i++)
		buf_free(&d->send[i]);
}

int
pg_direct_start(struct pg *p, struct err *e)
{
	struct pg_direct *d = &p->direct;
	time_t t = (time_t)p->chunk_begin;
	struct tm tm;

	if (!pg_direct_usable(p->chunk_begin) || gmtime_r(&t, &tm) == NULL)
		return err_set(e,
		               "internal error: begin %" PRId64 " cannot be "
		               "stored directly",
		               p->chunk_begin);
	d->idlen =
	    (size_t)snprintf(d->id, sizeof(d->id), "%" PRId64, p->chunk_id);
	d->beginlen =
	    strftime(d->begin, sizeof(d->begin), "\t%Y-%m-%d %H:%M:%S+00", &tm);
	d->filled = 0;
	d->on = 1;
	return 0;
}

/* A row as the table's COPY reads it: the report's id, the record's
 * number, the row's index among its kind (not for a record), the begin,
 * then its fields. */
static int
direct_row(void *arg, int kind, int32_t rec, size_t idx, const char *const *f,
           int nf, struct err *e)
{
	struct pg *p = arg;
	struct pg_direct *d = &p->direct;
	struct buf *b = &d->fill[kind];
	int i;

	if (buf_append(b, d->id, d->idlen, e) == -1 ||
	    pg_copy_int(b, rec, e) == -1 ||
	    (kind != PG_T_RECORDS && pg_copy_int(b, (int64_t)idx, e) == -1) ||
	    buf_append(b, d->begin, d->beginlen, e) == -1)
		return -1;
	for (i = 0; i < nf; i++)
		if (pg_copy_field(b, f[i], e) == -1)
			return -1;
	return buf_appendc(b, '\n', e);
}

int
pg_direct_record(struct pg *p, const struct dmarc_record *r, struct err *e)
{
	p->direct.filled++;
	return pg_record_rows(r, p->rec, &p->arrays, direct_row, p, e);
}

int
pg_direct_full(const struct pg *p)
{
	const struct pg_direct *d = &p->direct;
	size_t bytes = p->copy.len;
	int i;

	if (d->filled >= DIRECT_RECORDS)
		return 1;
	for (i = 0; i < PG_T_SUMS; i++)
		bytes += d->fill[i].len;
	return bytes >= DIRECT_BYTES;
}

/* What send holds, table after table; send is emptied. */
static int
send_chunk(struct pg *p, struct buf *send, struct err *e)
{
	int i, rc = 0;

	for (i = 0; i < PG_T_COUNT; i++) {
		if (send[i].len == 0)
			continue;
		if (rc == 0 && (pg_copy_open(p, copy_sql[i], e) == -1 ||
		                pg_copy_close(p, &send[i], NULL, e) == -1))
			rc = -1;
		buf_reset(&send[i]);
	}
	return rc;
}

static void *
sender(void *arg)
{
	struct pg *p = arg;

	p->direct.rc = send_chunk(p, p->direct.send, &p->direct.err);
	return NULL;
}

/* Waits for the chunk in flight, if any: its outcome. */
static int
direct_wait(struct pg *p, struct err *e)
{
	struct pg_direct *d = &p->direct;

	if (!d->sending)
		return 0;
	pthread_join(d->thread, NULL);
	d->sending = 0;
	if (d->rc == -1) {
		memcpy(e, &d->err, sizeof(*e));
		return -1;
	}
	return 0;
}

int
pg_direct_send(struct pg *p, int last, struct err *e)
{
	struct pg_direct *d = &p->direct;
	struct buf t;
	int i;

	if (direct_wait(p, e) == -1 || pg_chunk_wait(p, e) == -1)
		return -1;
	for (i = 0; i < PG_T_SUMS; i++) {
		t = d->send[i];
		d->send[i] = d->fill[i];
		d->fill[i] = t;
	}
	t = d->send[PG_T_SUMS];
	d->send[PG_T_SUMS] = p->copy;
	p->copy = t;
	d->filled = 0;
	if (last) {
		d->on = 0;
		return send_chunk(p, d->send, e);
	}
	/* without a thread, the chunk is sent here: slower, not wrong */
	if (pthread_create(&d->thread, NULL, sender, p) != 0)
		return send_chunk(p, d->send, e);
	d->sending = 1;
	return 0;
}

void
pg_direct_abort(struct pg *p)
{
	struct pg_direct *d = &p->direct;
	struct err e;
	int i;

	(void)direct_wait(p, &e);
	for (i = 0; i < PG_T_SUMS; i++)
		buf_reset(&d->fill[i]);
	for (i = 0; i < PG_T_COUNT; i++)
		buf_reset(&d->send[i]);
	d->filled = 0;
	d->on = 0;
}

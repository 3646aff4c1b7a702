/*
 * store-pg-write.c - the PostgreSQL write path: one report at a time,
 * inside the batch's transaction (see pg-impl.h).
 *
 * Staging rows (temporary table "staging", one COPY per report):
 *   kind 'r': rec, f1 source_ip, f2 count, f3 disposition, f4 dkim, f5 spf,
 *             f6 header_from, f7 envelope_from, f8 envelope_to, f9 and
 *             f10 the DKIM and SPF results' arrays (PG_RECORD_FIELDS)
 *   kind 'o': rec, idx, f1 type, f2 type_original, f3 comment
 *   kind 't': f1..f5 a traffic key (source_ip, header_from, envelope_from,
 *             dkim, spf), f6 its seven counters separated by spaces
 *
 * The rollup's sums are made here, in memory (traffic.h), as on SQLite,
 * not by the server: grouping a million staged records with their results
 * in SQL took 37% of the server's time for a 1M-record report.  They are
 * added to traffic under the report's final header, which may come after
 * the records: a small report's staged as 't' rows with its records (a
 * COPY is open while they stream in, so nothing else can be sent), a big
 * one's COPYed into traffic or staged after the records (pg-sums.c),
 * with the runs written out whenever they filled (sum-runs.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ascii.h"
#include "payload.h"
#include "pg-impl.h"

#define I64(buf, v) (snprintf((buf), sizeof(buf), "%" PRId64, (int64_t)(v)), (buf))

static int
copy_row(struct buf *b, char kind, int32_t rec, size_t idx,
    const char *const *f, int nf, struct err *e)
{
	int i;

	if (buf_appendc(b, kind, e) == -1 || pg_copy_int(b, rec, e) == -1 ||
	    pg_copy_int(b, (int64_t)idx, e) == -1)
		return -1;
	for (i = 0; i < PG_RECORD_FIELDS; i++)
		if (pg_copy_field(b, i < nf ? f[i] : NULL, e) == -1)
			return -1;
	return buf_appendc(b, '\n', e);
}

int
pg_copy_send(struct pg *p, struct buf *b, struct err *e)
{
	if (b->len == 0)
		return 0;
	if (PQputCopyData(p->c, b->data, (int)b->len) != 1)
		return pg_err(p, NULL, e, "cannot store the records");
	buf_reset(b);
	return 0;
}

int
pg_copy_close(struct pg *p, struct buf *b, const char *cancel, struct err *e)
{
	PGresult *r;
	int rc = 0;

	if (!p->copying)
		return 0;
	p->copying = 0;
	if (cancel == NULL && pg_copy_send(p, b, e) == -1)
		cancel = "client error";
	buf_reset(b);
	if (PQputCopyEnd(p->c, cancel) != 1)
		rc = pg_err(p, NULL, e, "cannot store the records");
	while ((r = PQgetResult(p->c)) != NULL) {
		if (cancel == NULL && rc == 0 &&
		    PQresultStatus(r) != PGRES_COMMAND_OK)
			rc = pg_err(p, r, e, "cannot store the records");
		PQclear(r);
	}
	return cancel != NULL ? -1 : rc;
}

int
pg_copy_end(struct pg *p, const char *cancel, struct err *e)
{
	return pg_copy_close(p, &p->copy, cancel, e);
}

static void
fill_existing(const PGresult *r, struct store_existing *ex)
{
	ex->id = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	ex->records = strtoull(PQgetvalue(r, 0, 1), NULL, 10);
	ex->messages = strtoull(PQgetvalue(r, 0, 2), NULL, 10);
	ex->hash = (uint64_t)strtoll(PQgetvalue(r, 0, 3), NULL, 10);
	ex->ingested_at = strtoll(PQgetvalue(r, 0, 4), NULL, 10);
	snprintf(ex->source, sizeof(ex->source), "%s", PQgetvalue(r, 0, 5));
}

int
pg_find_report(void *impl, const struct dmarc_meta *m,
    struct store_existing *ex, int *found, struct err *e)
{
	struct pg *p = impl;
	char b[24], en[24];
	const char *params[5] = {m->org_name, m->report_id, m->domain,
	    I64(b, m->begin), I64(en, m->end)};
	PGresult *r;

	r = pg_exec_prepared(p, "SELECT id, record_count, message_count, "
		       "coalesce(content_hash, 0), extract(epoch FROM "
		       "ingested_at)::bigint, source FROM reports WHERE "
		       "org_name = $1 AND report_id = $2 AND domain = $3 AND "
		       "begin_ts = to_timestamp($4::bigint) AND end_ts = "
		       "to_timestamp($5::bigint)",
	    5, params, PGRES_TUPLES_OK, e, "cannot look up the report");
	if (r == NULL)
		return -1;
	*found = PQntuples(r) > 0;
	if (*found)
		fill_existing(r, ex);
	PQclear(r);
	return 0;
}

/* The payload's bytes: its memory, or its file read whole (libpq sends a
 * parameter in one piece). */
static int
payload_bytes(const struct store_payload *raw, unsigned char **copy,
    const unsigned char **data, size_t *len, struct err *e)
{
	struct stat sb;
	size_t off = 0;
	ssize_t n;
	int fd;

	*copy = NULL;
	if (raw->path == NULL) {
		*data = raw->mem;
		*len = raw->len;
	} else {
		if ((fd = open(raw->path, O_RDONLY | O_CLOEXEC)) == -1 ||
		    fstat(fd, &sb) == -1) {
			err_errno(e, "cannot read %s to store it", raw->path);
			if (fd != -1)
				close(fd);
			return -1;
		}
		*len = (size_t)sb.st_size;
		if (*len > PAYLOAD_MAX || (*copy = malloc(*len + 1)) == NULL) {
			close(fd);
			return err_set(e, "payload of %zu bytes is too large to "
					  "keep",
			    *len);
		}
		while (off < *len) {
			n = read(fd, *copy + off, *len - off);
			if (n == -1 && errno == EINTR)
				continue;
			if (n <= 0) {
				close(fd);
				free(*copy);
				return err_set(e, "%s changed while it was read",
				    raw->path);
			}
			off += (size_t)n;
		}
		close(fd);
		*data = *copy;
	}
	if (*len > PAYLOAD_MAX)
		return err_set(e, "payload of %zu bytes is too large to keep",
		    *len);
	return 0;
}

int
pg_store_raw(struct pg *p, struct store_payload *raw, struct err *e)
{
	const unsigned char *data = NULL;
	unsigned char *copy = NULL;
	size_t len;
	char size[24];
	const char *params[4], *format;
	int lens[4] = {0, 0, 0, 0}, formats[4] = {0, 0, 0, 1}, compressed;
	struct buf packed;
	PGresult *r;

	buf_init(&packed, 0);
	if (payload_prepare(raw, &packed, &format, &compressed, e) == -1) {
		buf_free(&packed);
		return -1;
	}
	if (compressed) {
		data = (const unsigned char *)packed.data;
		len = packed.len;
	} else if (payload_bytes(raw, &copy, &data, &len, e) == -1) {
		buf_free(&packed);
		return -1;
	}
	params[0] = raw->name;
	params[1] = format;
	params[2] = I64(size, len);
	params[3] = (const char *)data;
	lens[3] = (int)len;
	r = PQexecParams(p->c, "INSERT INTO raw_payloads (name, format, size, "
			       "data) VALUES ($1, $2, $3, $4) RETURNING id",
	    4, NULL, params, lens, formats, 0);
	free(copy);
	buf_free(&packed);
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		pg_err(p, r, e, "cannot store the raw report");
		PQclear(r);
		return -1;
	}
	raw->stored_id = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	p->raw_new = raw;
	PQclear(r);
	return 0;
}

int
pg_copy_open(struct pg *p, const char *sql, struct err *e)
{
	PGresult *r;

	r = pg_exec(p, sql, 0, NULL, PGRES_COPY_IN, e,
	            "cannot store the records");
	if (r == NULL)
		return -1;
	PQclear(r);
	p->copying = 1;
	return 0;
}

int
pg_copy_start(struct pg *p, struct err *e)
{
	return pg_copy_open(p, PG_STAGING_COPY, e);
}

/* Rolls back the batch that pg_report_begin() opened for a report stored
 * outside one (auto_batch), if it did. */
static void
auto_rollback(struct pg *p)
{
	if (p->auto_batch) {
		p->auto_batch = 0;
		pg_batch_rollback(p);
	}
}

void
pg_report_abort(void *impl)
{
	struct pg *p = impl;
	struct err e;

	if (!p->in_report)
		return;
	/* a chunk in flight ends before its savepoint is rolled back */
	pg_direct_abort(p);
	(void)pg_chunk_wait(p, &e);
	pg_copy_end(p, "report abandoned", &e);
	/* rows not sent yet (the sums a direct report staged since its last
	 * chunk) are this report's: the next one must not send them */
	buf_reset(&p->copy);
	PQclear(PQexec(p->c, "ROLLBACK TO SAVEPOINT report"));
	PQclear(PQexec(p->c, "RELEASE SAVEPOINT report"));
	if (p->raw_new != NULL)
		p->raw_new->stored_id = 0; /* its row is gone too */
	p->raw_new = NULL;
	pg_replace_forget(p);
	traffic_reset(&p->traffic);
	sum_runs_reset(&p->runs);
	p->in_report = 0;
	auto_rollback(p);
}

int
pg_report_begin(void *impl, const struct dmarc_meta *m,
    struct store_payload *raw, struct err *e)
{
	struct pg *p = impl;

	if (p->in_report)
		return err_set(e, "internal error: report already open");
	if (!p->in_batch) {
		if (pg_batch_begin(p, e) == -1)
			return -1;
		p->auto_batch = 1;
	}
	if (pg_run(p, "SAVEPOINT report", e, "cannot start the report") == -1) {
		auto_rollback(p);
		return -1;
	}
	p->in_report = 1;
	p->raw_new = NULL;
	p->raw_id = 0;
	p->rec = 0;
	p->staged_kinds = 0;
	p->sums_staged = 0;
	p->chunk_ok = m != NULL && m->has_begin && pg_direct_usable(m->begin);
	p->chunk_id = 0;
	p->chunk_begin = m != NULL ? m->begin : 0;
	traffic_reset(&p->traffic);
	sum_runs_reset(&p->runs);
	if (raw != NULL && raw->stored_id == 0 && pg_store_raw(p, raw, e) == -1)
		goto fail;
	if (raw != NULL)
		p->raw_id = raw->stored_id;
	if (pg_copy_start(p, e) == -1)
		goto fail;
	return 0;
fail:
	pg_report_abort(p); /* and the batch it opened for the report */
	return -1;
}

struct stage {
	struct pg *p;
	struct err *e;
	size_t groups;
};

/* One group of the sums as a staging row of kind 't'. */
static int
stage_entry(void *arg, const struct traffic_entry *en)
{
	struct stage *st = arg;
	char counts[TC_COUNT * ASCII_DECIMAL_MAX];
	const char *f[TK_COUNT + 1];
	size_t len = 0;
	int i;

	for (i = 0; i < TC_COUNT; i++) {
		if (i > 0)
			counts[len++] = ' ';
		len += ascii_decimal(counts + len, en->c[i]);
	}
	for (i = 0; i < TK_COUNT; i++)
		f[i] = en->field[i];
	f[TK_COUNT] = counts;
	st->p->staged_rows++;
	st->groups++;
	return copy_row(&st->p->copy, 't', 0, 0, f, TK_COUNT + 1, st->e);
}

/* Stages the sums, every group once (with the runs written out, if
 * any), and empties them. */
static int
stage_sums(struct pg *p, struct err *e)
{
	struct stage st = {p, e, 0};
	int rc;

	rc = sum_runs_merge(&p->runs, &p->traffic, stage_entry, &st, e);
	if (st.groups > 0)
		p->sums_staged = 1;
	return rc;
}

/* traffic_add_record()'s flush: the full sums written out as a run. */
static int
spill_sums(void *arg, struct err *e)
{
	struct pg *p = arg;

	return sum_runs_add(&p->runs, &p->traffic, e);
}

/* One row into staging, its kind a letter. */
static int
stage_row(void *arg, int kind, int32_t rec, size_t idx, const char *const *f,
          int nf, struct err *e)
{
	struct pg *p = arg;

	p->staged_rows++;
	p->staged_kinds |= 1u << kind; /* in move_sql's order */
	return copy_row(&p->copy, "ro"[kind], rec, idx, f, nf, e);
}

static int chunk_move(struct pg *p, struct err *e);

int
pg_report_record(void *impl, const struct dmarc_record *r, struct err *e)
{
	struct pg *p = impl;

	p->rec++;
	if ((p->direct.on ? pg_direct_record(p, r, e)
	                  : pg_record_rows(r, p->rec, &p->arrays, stage_row, p,
	                                   e)) == -1 ||
	    traffic_add_record(&p->traffic, r, &p->sig_dkim, &p->sig_spf,
	                       spill_sums, p, e) == -1)
		return -1;
	if (p->direct.on)
		return pg_direct_full(p) ? pg_direct_send(p, 0, e) : 0;
	if (p->chunk_ok && p->rec == PG_DIRECT_AFTER)
		return chunk_move(p, e);
	if (p->copy.len < PG_COPY_FLUSH)
		return 0;
	return pg_copy_send(p, &p->copy, e);
}

/* The report row, if its key is free: *id 0 when it is taken (by a
 * committed report, or one committed meanwhile by another writer, which
 * ON CONFLICT waits for). */
static int
insert_report(struct pg *p, const struct dmarc_meta *m,
    const struct store_report_info *info, int64_t *id, struct err *e)
{
	char derived[24], b[24], en[24], pct[24], rc[24], mc[24], h[24], sv[24],
	    raw[24];
	const char *v[28] = {m->org_name, I64(derived, m->org_name_derived),
	    m->email, m->extra_contact_info, m->report_id, m->domain,
	    I64(b, m->begin), I64(en, m->end), m->errors, m->generator,
	    m->version, m->xmlns, m->adkim, m->aspf, m->p, m->sp, m->np,
	    m->pct >= 0 ? I64(pct, m->pct) : NULL, m->fo, m->testing,
	    m->discovery_method, I64(rc, info->records),
	    I64(mc, info->messages), I64(h, info->hash),
	    I64(sv, info->salvaged), info->warnings, info->source,
	    info->member};
	char cid[24];
	const char *params[30];
	PGresult *r;

	memcpy(params, v, sizeof(v));
	params[28] = p->raw_id > 0 ? I64(raw, p->raw_id) : NULL;
	/* the id the chunks were moved under, if any */
	params[29] = p->chunk_id > 0 ? I64(cid, p->chunk_id) : NULL;
	r = pg_exec_prepared(p,
	    "INSERT INTO reports (id, org_name, org_name_derived, email, "
	    "extra_contact_info, report_id, domain, begin_ts, end_ts, errors, "
	    "generator, version, xmlns, adkim, aspf, p, sp, np, pct, fo, "
	    "testing, discovery_method, record_count, message_count, "
	    "content_hash, salvaged, warnings, source, ingested_at, "
	    "raw_member, raw_payload) VALUES (coalesce($30::bigint, "
	    "nextval(pg_get_serial_sequence('reports', 'id'))), $1, $2, $3, "
	    "$4, $5, $6, to_timestamp($7::bigint), to_timestamp($8::bigint), "
	    "$9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, "
	    "$22, $23, $24, $25, $26, $27, now(), $28, $29) ON CONFLICT "
	    "(org_name, report_id, domain, begin_ts, end_ts) DO NOTHING "
	    "RETURNING id",
	    30, params, PGRES_TUPLES_OK, e, "cannot store the report");
	if (r == NULL)
		return -1;
	*id = PQntuples(r) > 0 ? strtoll(PQgetvalue(r, 0, 0), NULL, 10) : 0;
	PQclear(r);
	return 0;
}

#define COUNTER(i) "split_part(f6, ' ', " #i ")::bigint"

/* From staging into the tables, and the report's records summed into the
 * rollup: the same rows and keys as SQLite's (TRAFFIC_FILL_SQL). */
static const char *const move_sql[] = {
    "INSERT INTO records (report, rec, begin_ts, source_ip, count, "
    "disposition, dkim, spf, header_from, envelope_from, envelope_to, "
    "auth_dkim, auth_spf) SELECT $1, rec, to_timestamp($2::bigint), "
    "f1::inet, f2::bigint, f3, f4, f5, f6, f7, f8, f9::text[], f10::text[] "
    "FROM staging WHERE kind = 'r'",
    "INSERT INTO override_reasons (report, rec, idx, begin_ts, type, "
    "type_original, comment) SELECT $1, rec, idx, to_timestamp($2::bigint), "
    "f1, f2, f3 FROM staging WHERE kind = 'o'",
};

/* the moves, the rollup's, the emptying, the log lines of a replaced copy
 * and the savepoint's release go in one round trip */
_Static_assert(sizeof(move_sql) / sizeof(move_sql[0]) + 4 <= PG_STEPS_MAX,
               "move_staged() sends more than pg_exec_steps() takes");

#define TRAFFIC_INTO                                                           \
	"INSERT INTO traffic (day, domain, adkim, aspf, source_ip, "         \
	"header_from, envelope_from, dkim, spf, records, messages, "         \
	"dkim_aligned, spf_aligned, dmarc_pass, quarantined, rejected) "     \
	"SELECT $1::bigint, $2, $3, $4, f1, f2, f3, f4, f5, "

/* The staged sums under the report's header: each group one row, in the
 * order of its key (stage_sums()). */
static const char traffic_sql[] =
    TRAFFIC_INTO COUNTER(1) ", " COUNTER(2) ", " COUNTER(3) ", " COUNTER(4)
    ", " COUNTER(5) ", " COUNTER(6) ", " COUNTER(7) " FROM staging WHERE "
    "kind = 't' " PG_TRAFFIC_UPSERT;

/* ---------------------------------------------------------------------
 * Big reports: the switch to the tables.
 *
 * A report's rows wait in staging for its end, since the header (the
 * begin, the records' partition key) may come last.  For a big report
 * that leaves the server idle while the client parses, then the client
 * idle while the server moves the rows.  So when the begin came before the
 * records, at PG_DIRECT_AFTER records the staged rows are moved under an
 * id reserved for the report, by one query sent without waiting for it,
 * and the rest of the report goes straight into the tables as it is
 * parsed (store-pg-direct.c).  The report row still comes last, under the
 * reserved id; a duplicate or a failure rolls everything back with the
 * report's savepoint.
 */
static const char chunk_id_sql[] =
    "SELECT nextval(pg_get_serial_sequence('reports', 'id'))";

int
pg_chunk_wait(struct pg *p, struct err *e)
{
	PGresult *r;
	int rc = 0;

	if (!p->moving)
		return 0;
	p->moving = 0;
	while ((r = PQgetResult(p->c)) != NULL) {
		if (rc == 0 && PQresultStatus(r) != PGRES_COMMAND_OK)
			rc = pg_err(p, r, e, "cannot store the records");
		PQclear(r);
	}
	return rc;
}

/* Sends the move of what staging holds without waiting for it, and
 * switches the report to the tables; or, when no statement can be
 * prepared, leaves it in staging to the end. */
static int
chunk_move(struct pg *p, struct err *e)
{
	char sql[1024], name[32];
	size_t len = 0, i;
	PGresult *r;
	int rc;

	if (pg_copy_end(p, NULL, e) == -1)
		return -1;
	r = pg_exec_prepared(p, chunk_id_sql, 0, NULL, PGRES_TUPLES_OK, e,
	                     "cannot store the report");
	if (r == NULL)
		return -1;
	p->chunk_id = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	PQclear(r);
	for (i = 0; i < sizeof(move_sql) / sizeof(move_sql[0]); i++) {
		rc = pg_prepared_name(p, move_sql[i], 2, name, sizeof(name), e,
		    "cannot store the records");
		if (rc == -1)
			return -1;
		if (rc == 1) {
			/* no room to prepare: the rest waits for the end */
			p->chunk_ok = 0;
			p->chunk_id = 0;
			return pg_copy_start(p, e);
		}
		len += (size_t)snprintf(sql + len, sizeof(sql) - len,
		    "EXECUTE %s(%" PRId64 ", %" PRId64 "); ", name, p->chunk_id,
		    p->chunk_begin);
	}
	snprintf(sql + len, sizeof(sql) - len, "TRUNCATE staging_r, staging_o");
	if (!PQsendQuery(p->c, sql))
		return pg_err(p, NULL, e, "cannot store the records");
	p->moving = 1;
	p->staged_kinds = 0; /* the sums wait in memory and runs */
	return pg_direct_start(p, e);
}

/* The parser keeps the first date range (a second one is ignored), so
 * a begin known before the records is the report's: the moved rows carry
 * it.  Should that change, the report fails rather than be filed under
 * two dates. */
static int
chunk_check(const struct pg *p, const struct dmarc_meta *m, struct err *e)
{
	if (p->chunk_id != 0 && m->begin != p->chunk_begin)
		return err_set(e, "internal error: the report's begin changed "
				  "after its records were stored");
	return 0;
}

/* Empties staging.  TRUNCATE gives the table a new file, a fixed cost of
 * some 3 ms that dominates a small report; DELETE is cheaper there, but
 * its dead rows stay until the batch commits (and a temporary table is
 * never vacuumed), and every later scan of staging reads them again: so
 * DELETE while they are few, and TRUNCATE to start afresh (1,000 rows:
 * 2,000 small reports imported 20% faster than with 20,000). */
#define STAGING_DELETE_MAX 1000

/* The sums of a big report, kept back by pg_report_finish(): COPYed into
 * traffic when they can be (pg-sums.c), else staged after all. */
static int
sums_late(struct pg *p, const char *const tp[4], struct err *e)
{
	int copied;

	if (pg_sums_copy(p, tp, &copied, e) == -1)
		return -1;
	if (copied)
		return 0;
	if (pg_copy_start(p, e) == -1 || stage_sums(p, e) == -1)
		return -1;
	return pg_copy_end(p, NULL, e);
}

/* The staged rows into the tables and the rollup, staging emptied, and
 * the report's savepoint released: in one round trip, since a small report
 * is mostly waiting for them.  A kind of row the report has none of is not
 * moved. */
static int
move_staged(struct pg *p, const struct dmarc_meta *m, int64_t id,
    int late_sums, struct err *e)
{
	char sid[24], b[24], day[24];
	const char *params[2] = {I64(sid, id), I64(b, m->begin)};
	const char *tp[4] = {I64(day, m->begin / 86400), m->domain,
	    m->adkim ? m->adkim : "", m->aspf ? m->aspf : ""};
	const char *rp[2];
	struct pg_step st[PG_STEPS_MAX];
	size_t i, n = 0;
	int big;

	if (late_sums && sums_late(p, tp, e) == -1)
		return -1;
	big = p->staged_rows > STAGING_DELETE_MAX;
	for (i = 0; i < sizeof(move_sql) / sizeof(move_sql[0]); i++)
		if (p->staged_kinds & (1u << i))
			st[n++] = (struct pg_step){move_sql[i], 2, params,
			                           "cannot store the records"};
	if (p->sums_staged)
		st[n++] = (struct pg_step){traffic_sql, 4, tp,
		                           "cannot add the report to the traffic"};
	st[n++] =
	    (struct pg_step){big ? "TRUNCATE staging" : "DELETE FROM staging",
	                     0, NULL, "cannot store the records"};
	n += (size_t)pg_replace_relog_step(p, sid, rp, &st[n]);
	st[n++] = (struct pg_step){"RELEASE SAVEPOINT report", 0, NULL,
	                           "cannot complete the report"};
	if (pg_exec_steps(p, st, n, e) == -1)
		return -1;
	pg_replace_forget(p);
	if (big)
		p->staged_rows = 0;
	return 0;
}

int
pg_report_finish(void *impl, const struct dmarc_meta *m,
    const struct store_report_info *info, enum store_outcome *outcome,
    struct store_existing *ex, struct err *e)
{
	struct pg *p = impl;
	int64_t id;
	int found, autob = p->auto_batch;
	int late_sums = pg_sums_copy_wanted(p);

	/* the sums go with the records' COPY, unless kept for traffic's */
	if ((!late_sums && stage_sums(p, e) == -1) ||
	    (p->direct.on ? pg_direct_send(p, 1, e)
	                  : pg_copy_end(p, NULL, e)) == -1 ||
	    chunk_check(p, m, e) == -1 ||
	    insert_report(p, m, info, &id, e) == -1)
		goto fail;
	if (id == 0) {
		/* the key is taken: this copy leaves nothing */
		p->auto_batch = 0;
		pg_report_abort(p);
		p->auto_batch = autob;
		if (pg_find_report(p, m, ex, &found, e) == -1)
			goto fail_batch;
		if (!found) {
			err_set(e, "internal error: duplicate key but no report");
			goto fail_batch;
		}
		*outcome = STORE_DUPLICATE;
		goto done;
	}
	if (move_staged(p, m, id, late_sums, e) == -1)
		goto fail;
	p->in_report = 0;
	p->raw_new = NULL;
	ex->id = id;
	*outcome = STORE_STORED;
	p->batch_records += p->rec;
done:
	if (p->auto_batch) {
		p->auto_batch = 0;
		return pg_batch_commit(p, e);
	}
	return 0;
fail:
	pg_report_abort(p);
	return -1;
fail_batch:
	auto_rollback(p);
	return -1;
}

int
pg_log(void *impl, const char *source, const char *outcome,
    const struct dmarc_meta *m, int64_t report, const char *message,
    struct err *e)
{
	struct pg *p = impl;
	char rid[24], b[24], en[24];
	const char *params[9] = {source, outcome,
	    report > 0 ? I64(rid, report) : NULL, m ? m->org_name : NULL,
	    m ? m->report_id : NULL, m ? m->domain : NULL,
	    m != NULL && m->has_begin ? I64(b, m->begin) : NULL,
	    m != NULL && m->has_end ? I64(en, m->end) : NULL, message};
	PGresult *r;

	r = pg_exec_prepared(p,
	    "INSERT INTO ingest_log (at, source, outcome, report, org_name, "
	    "report_id, domain, begin_ts, end_ts, message) VALUES (now(), $1, "
	    "$2, $3, $4, $5, $6, to_timestamp($7::bigint), "
	    "to_timestamp($8::bigint), $9)",
	    9, params, PGRES_COMMAND_OK, e, "cannot write the ingest log");
	PQclear(r);
	return r != NULL ? 0 : -1;
}

int
pg_imap_get(void *impl, const char *mailbox, uint32_t *uidvalidity,
    uint32_t *last_uid, int *found, struct err *e)
{
	struct pg *p = impl;
	const char *params[1] = {mailbox};
	PGresult *r;

	r = pg_exec(p, "SELECT uidvalidity, last_uid FROM imap_state WHERE "
		       "mailbox = $1",
	    1, params, PGRES_TUPLES_OK, e, "cannot read the IMAP state");
	if (r == NULL)
		return -1;
	*found = PQntuples(r) > 0;
	if (*found) {
		*uidvalidity = (uint32_t)strtoul(PQgetvalue(r, 0, 0), NULL, 10);
		*last_uid = (uint32_t)strtoul(PQgetvalue(r, 0, 1), NULL, 10);
	}
	PQclear(r);
	return 0;
}

int
pg_imap_set(void *impl, const char *mailbox, uint32_t uidvalidity,
    uint32_t last_uid, struct err *e)
{
	struct pg *p = impl;
	char v[16], u[16];
	const char *params[3] = {mailbox, v, u};
	PGresult *r;

	snprintf(v, sizeof(v), "%" PRIu32, uidvalidity);
	snprintf(u, sizeof(u), "%" PRIu32, last_uid);
	r = pg_exec(p, "INSERT INTO imap_state (mailbox, uidvalidity, "
		       "last_uid, updated_at) VALUES ($1, $2, $3, now()) ON "
		       "CONFLICT (mailbox) DO UPDATE SET uidvalidity = $2, "
		       "last_uid = $3, updated_at = now()",
	    3, params, PGRES_COMMAND_OK, e, "cannot save the IMAP state");
	PQclear(r);
	return r != NULL ? 0 : -1;
}

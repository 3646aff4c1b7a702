/*
 * store-sqlite-write.c - the SQLite write path (store.h): a report's
 * payload, header, records and results through the statements prepared by
 * store-sqlite.c, its share of the traffic rollup (traffic.h), the ingest
 * log and the IMAP state; and the kept payloads read back for
 * dmarc-ingest --from-store.
 *
 * A report is written inside a savepoint of the batch: whole or not at
 * all (sq_report_abort rolls back to it).
 */
#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "migrations.h"
#include "payload.h"
#include "sqlite-impl.h"

static void
fill_existing(sqlite3_stmt *st, struct store_existing *ex)
{
	const unsigned char *src;

	ex->id = sqlite3_column_int64(st, 0);
	ex->records = (uint64_t)sqlite3_column_int64(st, 1);
	ex->messages = (uint64_t)sqlite3_column_int64(st, 2);
	ex->hash = (uint64_t)sqlite3_column_int64(st, 3);
	ex->ingested_at = sqlite3_column_int64(st, 4);
	src = sqlite3_column_text(st, 5);
	snprintf(ex->source, sizeof(ex->source), "%s",
	    src ? (const char *)src : "");
}

int
sq_find_report(void *impl, const struct dmarc_meta *m,
    struct store_existing *ex, int *found, struct err *e)
{
	struct sq *q = impl;
	sqlite3_stmt *st = q->st[S_FIND];
	int rc;

	sq_bind_str(st, 1, m->org_name);
	sq_bind_str(st, 2, m->report_id);
	sq_bind_str(st, 3, m->domain);
	sqlite3_bind_int64(st, 4, m->begin);
	sqlite3_bind_int64(st, 5, m->end);
	rc = sqlite3_step(st);
	*found = rc == SQLITE_ROW;
	if (*found)
		fill_existing(st, ex);
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return sq_err(q, e, "cannot look up the report");
	return 0;
}

/* Copies the payload into a blob without holding it in memory twice: a
 * file is streamed in 1 MB pieces through incremental blob I/O.  Plain XML
 * is compressed first (payload.h). */
static int
store_raw(struct sq *q, struct store_payload *given, struct err *e)
{
	struct store_payload packed_view, *raw = given;
	struct buf packed;
	const char *format;
	int compressed;
	sqlite3_stmt *st = q->st[S_INS_RAW];
	sqlite3_blob *blob = NULL;
	unsigned char *chunk = NULL;
	struct stat sb;
	int64_t size, id, off = 0;
	ssize_t n;
	int fd = -1, rc = -1;

	buf_init(&packed, 0);
	if (payload_prepare(given, &packed, &format, &compressed, e) == -1)
		goto out;
	if (compressed) {
		packed_view = *given;
		packed_view.mem = (const unsigned char *)packed.data;
		packed_view.len = packed.len;
		packed_view.path = NULL;
		raw = &packed_view;
	}
	if (raw->path != NULL) {
		if ((fd = open(raw->path, O_RDONLY | O_CLOEXEC)) == -1 ||
		    fstat(fd, &sb) == -1) {
			err_errno(e, "cannot read %s to store it", raw->path);
			goto out;
		}
		size = sb.st_size;
	} else {
		size = (int64_t)raw->len;
	}
	if (size > PAYLOAD_MAX) {
		err_set(e, "payload of %lld bytes is too large to keep",
		    (long long)size);
		goto out;
	}
	sq_bind_str(st, 1, raw->name);
	sq_bind_str(st, 2, format);
	sqlite3_bind_int64(st, 3, size);
	sqlite3_bind_int64(st, 4, size);
	if (sq_run(q, S_INS_RAW, e, "cannot store the raw report") == -1)
		goto out;
	id = sqlite3_last_insert_rowid(q->db);
	if (size > 0 && sqlite3_blob_open(q->db, "main", "raw_payloads", "data",
			    id, 1, &blob) != SQLITE_OK) {
		sq_err(q, e, "cannot store the raw report");
		goto out;
	}
	if (raw->path == NULL) {
		while (off < size) {
			int k = size - off > (1 << 20) ? (1 << 20)
						       : (int)(size - off);
			if (sqlite3_blob_write(blob, raw->mem + off, k,
				(int)off) != SQLITE_OK) {
				sq_err(q, e, "cannot store the raw report");
				goto out;
			}
			off += k;
		}
	} else {
		if ((chunk = malloc(1 << 20)) == NULL) {
			err_set(e, "out of memory");
			goto out;
		}
		while (off < size) {
			n = read(fd, chunk, 1 << 20);
			if (n == -1 && errno == EINTR)
				continue;
			if (n <= 0) {
				err_set(e, "%s changed while it was read",
				    raw->path);
				goto out;
			}
			if (n > size - off)
				n = (ssize_t)(size - off);
			if (sqlite3_blob_write(blob, chunk, (int)n, (int)off) !=
			    SQLITE_OK) {
				sq_err(q, e, "cannot store the raw report");
				goto out;
			}
			off += n;
		}
	}
	given->stored_id = id;
	q->raw_new = given;
	rc = 0;
out:
	buf_free(&packed);
	if (blob != NULL)
		sqlite3_blob_close(blob);
	if (fd != -1)
		close(fd);
	free(chunk);
	return rc;
}

/* The part of the traffic key that comes from the report's header.
 * Returns 0 when it is not known yet (or too long to key in memory). */
static int
set_traffic_key(struct sq *q, const struct dmarc_meta *m)
{
	if (m->domain == NULL || !m->has_begin ||
	    strlen(m->domain) >= sizeof(q->domain) ||
	    (m->adkim && strlen(m->adkim) >= sizeof(q->adkim)) ||
	    (m->aspf && strlen(m->aspf) >= sizeof(q->aspf)))
		return 0;
	q->day = m->begin / 86400;
	snprintf(q->domain, sizeof(q->domain), "%s", m->domain);
	snprintf(q->adkim, sizeof(q->adkim), "%s", m->adkim ? m->adkim : "");
	snprintf(q->aspf, sizeof(q->aspf), "%s", m->aspf ? m->aspf : "");
	return 1;
}

/* The id the next record gets: see struct sq. */
static int
next_record(struct sq *q, int64_t *id, struct err *e)
{
	sqlite3_stmt *st = q->st[S_NEXT_RECORD];

	if (q->next_record == 0) {
		if (sqlite3_step(st) != SQLITE_ROW) {
			sq_err(q, e, "cannot store a record");
			sqlite3_reset(st);
			return -1;
		}
		q->next_record = sqlite3_column_int64(st, 0);
		sqlite3_reset(st);
	}
	*id = q->next_record++;
	return 0;
}

static int
add_record(struct sq *q, int64_t rec, const struct dmarc_record *r,
           struct err *e)
{
	struct rows *w = &q->rec_rows;

	if (rows_add_int(w, rec, e) == -1 ||
	    rows_add_int(w, q->report, e) == -1 ||
	    rows_add_text(w, r->source_ip, e) == -1 ||
	    rows_add_int(w, r->count, e) == -1 ||
	    rows_add_text(w, r->disposition, e) == -1 ||
	    rows_add_text(w, r->dkim, e) == -1 ||
	    rows_add_text(w, r->spf, e) == -1 ||
	    rows_add_text(w, r->header_from, e) == -1 ||
	    rows_add_text(w, r->envelope_from, e) == -1 ||
	    rows_add_text(w, r->envelope_to, e) == -1)
		return -1;
	return 0;
}

/* One DKIM or SPF result: d is its domain, s the selector or the scope. */
static int
add_result(struct rows *w, int64_t rec, size_t idx, const char *d,
           const char *s, const char *result, const char *human, struct err *e)
{
	if (rows_add_int(w, rec, e) == -1 ||
	    rows_add_int(w, (int64_t)idx, e) == -1 ||
	    rows_add_text(w, d, e) == -1 || rows_add_text(w, s, e) == -1 ||
	    rows_add_text(w, result, e) == -1 ||
	    rows_add_text(w, human, e) == -1)
		return -1;
	return 0;
}

/* Inserts what waits of the report's rows. */
static int
flush_rows(struct sq *q, struct err *e)
{
	if (rows_flush(&q->rec_rows, e) == -1 ||
	    rows_flush(&q->dkim_rows, e) == -1 ||
	    rows_flush(&q->spf_rows, e) == -1)
		return -1;
	return 0;
}

static void
discard_rows(struct sq *q)
{
	rows_discard(&q->rec_rows);
	rows_discard(&q->dkim_rows);
	rows_discard(&q->spf_rows);
	rows_discard(&q->traffic_rows);
}

void
sq_report_abort(void *impl)
{
	struct sq *q = impl;
	struct err e;

	if (!q->in_report)
		return;
	discard_rows(q);
	q->next_record = 0;
	sq_run(q, S_ROLLBACK_TO, &e, "rollback");
	sq_run(q, S_RELEASE, &e, "rollback");
	if (q->raw_new != NULL)
		q->raw_new->stored_id = 0; /* its row is gone too */
	q->raw_new = NULL;
	q->in_report = 0;
	traffic_reset(&q->traffic);
}

int
sq_report_begin(void *impl, const struct dmarc_meta *m,
    struct store_payload *raw, struct err *e)
{
	struct sq *q = impl;
	sqlite3_stmt *st = q->st[S_INS_REPORT];

	(void)m;
	if (q->in_report)
		return err_set(e, "internal error: report already open");
	if (sq_run(q, S_SAVEPOINT, e, "cannot start the report") == -1)
		return -1;
	q->in_report = 1;
	q->raw_new = NULL;
	if (raw != NULL && raw->stored_id == 0 && store_raw(q, raw, e) == -1)
		goto fail;
	if (raw != NULL)
		sqlite3_bind_int64(st, 1, raw->stored_id);
	else
		sqlite3_bind_null(st, 1);
	if (sq_run(q, S_INS_REPORT, e, "cannot store the report") == -1)
		goto fail;
	q->report = sqlite3_last_insert_rowid(q->db);
	traffic_reset(&q->traffic);
	q->traffic_spilled = 0;
	q->header_known = set_traffic_key(q, m);
	return 0;
fail:
	sq_report_abort(q);
	return -1;
}

struct entry_ctx {
	struct sq *q;
	struct err *e;
};

/* One row of the sums under the report's header, to traffic_rows. */
static int
write_entry(void *arg, const struct traffic_entry *en)
{
	struct entry_ctx *c = arg;
	struct sq *q = c->q;
	struct rows *w = &q->traffic_rows;
	int i;

	if (rows_add_int(w, q->day, c->e) == -1 ||
	    rows_add_text(w, q->domain, c->e) == -1 ||
	    rows_add_text(w, q->adkim, c->e) == -1 ||
	    rows_add_text(w, q->aspf, c->e) == -1)
		return -1;
	for (i = 0; i < TK_COUNT; i++)
		if (rows_add_text(w, en->field[i], c->e) == -1)
			return -1;
	for (i = 0; i < TC_COUNT; i++)
		if (rows_add_int(w, en->c[i], c->e) == -1)
			return -1;
	return 0;
}

/* Writes the summed rows, in key order, and empties the sums. */
static int
traffic_flush(struct sq *q, struct err *e)
{
	struct entry_ctx c = {q, e};
	int rc = traffic_sorted(&q->traffic, write_entry, &c, e);

	if (rc == 0)
		rc = rows_flush(&q->traffic_rows, e);
	traffic_reset(&q->traffic);
	return rc;
}

/* The sums are full: written out under the report's header, or, when
 * that header has not come yet, given up (the report's traffic is then
 * added from SQL at the end). */
static int
traffic_full(void *arg, struct err *e)
{
	struct sq *q = arg;

	if (!q->header_known) {
		q->traffic_spilled = 1;
		traffic_reset(&q->traffic);
		return 1;
	}
	return traffic_flush(q, e);
}

/* Adds one record to the report's sums. */
static int
traffic_record(struct sq *q, const struct dmarc_record *r, struct err *e)
{
	if (q->traffic_spilled)
		return 0;
	if (traffic_add_record(&q->traffic, r, &q->sig_dkim, &q->sig_spf,
		traffic_full, q, e) == -1)
		return -1;
	return 0;
}

int
sq_report_record(void *impl, const struct dmarc_record *r, struct err *e)
{
	struct sq *q = impl;
	sqlite3_stmt *st = q->st[S_INS_REASON];
	const struct dmarc_dkim *d;
	const struct dmarc_spf *s;
	int64_t rec;
	size_t i;

	if (next_record(q, &rec, e) == -1 || add_record(q, rec, r, e) == -1)
		return -1;
	for (i = 0; i < r->ndkim; i++) {
		d = &r->dkim_results[i];
		if (add_result(&q->dkim_rows, rec, i, d->domain, d->selector,
		               d->result, d->human_result, e) == -1)
			return -1;
	}
	for (i = 0; i < r->nspf; i++) {
		s = &r->spf_results[i];
		if (add_result(&q->spf_rows, rec, i, s->domain, s->scope,
		               s->result, s->human_result, e) == -1)
			return -1;
	}
	/* rare: inserted at once, before their record's row (the writer
	 * does not enforce foreign keys, and all are in by the end) */
	for (i = 0; i < r->nreasons; i++) {
		sqlite3_bind_int64(st, 1, rec);
		sqlite3_bind_int64(st, 2, (int64_t)i);
		sq_bind_str(st, 3, r->reasons[i].type);
		sq_bind_str(st, 4, r->reasons[i].type_original);
		sq_bind_str(st, 5, r->reasons[i].comment);
		if (sq_run(q, S_INS_REASON, e, "cannot store an override reason") ==
		    -1)
			return -1;
	}
	return traffic_record(q, r, e);
}

int
sq_report_finish(void *impl, const struct dmarc_meta *m,
    const struct store_report_info *info, enum store_outcome *outcome,
    struct store_existing *ex, struct err *e)
{
	struct sq *q = impl;
	sqlite3_stmt *st = q->st[S_UPD_REPORT];
	int rc, found;

	sq_bind_str(st, 1, m->org_name);
	sqlite3_bind_int(st, 2, m->org_name_derived);
	sq_bind_str(st, 3, m->email);
	sq_bind_str(st, 4, m->extra_contact_info);
	sq_bind_str(st, 5, m->report_id);
	sq_bind_str(st, 6, m->domain);
	sqlite3_bind_int64(st, 7, m->begin);
	sqlite3_bind_int64(st, 8, m->end);
	sq_bind_str(st, 9, m->errors);
	sq_bind_str(st, 10, m->generator);
	sq_bind_str(st, 11, m->version);
	sq_bind_str(st, 12, m->xmlns);
	sq_bind_str(st, 13, m->adkim);
	sq_bind_str(st, 14, m->aspf);
	sq_bind_str(st, 15, m->p);
	sq_bind_str(st, 16, m->sp);
	sq_bind_str(st, 17, m->np);
	if (m->pct >= 0)
		sqlite3_bind_int(st, 18, m->pct);
	else
		sqlite3_bind_null(st, 18);
	sq_bind_str(st, 19, m->fo);
	sq_bind_str(st, 20, m->testing);
	sq_bind_str(st, 21, m->discovery_method);
	sqlite3_bind_int64(st, 22, (int64_t)info->records);
	sqlite3_bind_int64(st, 23, (int64_t)info->messages);
	sqlite3_bind_int64(st, 24, (int64_t)info->hash);
	sqlite3_bind_int(st, 25, info->salvaged);
	sq_bind_str(st, 26, info->warnings);
	sq_bind_str(st, 27, info->source);
	sqlite3_bind_int64(st, 28, (int64_t)time(NULL));
	sq_bind_str(st, 29, info->member);
	sqlite3_bind_int64(st, 30, q->report);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc == SQLITE_CONSTRAINT_UNIQUE) {
		/* A report with this key is already stored. */
		sq_report_abort(q);
		if (sq_find_report(q, m, ex, &found, e) == -1)
			return -1;
		if (!found)
			return err_set(e, "internal error: duplicate key but no "
					  "report");
		*outcome = STORE_DUPLICATE;
		return 0;
	}
	if (rc != SQLITE_DONE) {
		sq_err(q, e, "cannot complete the report");
		sq_report_abort(q);
		return -1;
	}
	if (flush_rows(q, e) == -1) {
		sq_report_abort(q);
		return -1;
	}
	/* the rest of the report's traffic, under its final header; when
	 * the sums overflowed before that header was known, from SQL */
	if (q->traffic_spilled || !set_traffic_key(q, m)) {
		sqlite3_bind_int64(q->st[S_TRAFFIC_REPORT], 1, q->report);
		if (sq_run(q, S_TRAFFIC_REPORT, e,
			"cannot add the report to the traffic") == -1) {
			sq_report_abort(q);
			return -1;
		}
		traffic_reset(&q->traffic);
	} else if (traffic_flush(q, e) == -1) {
		sq_report_abort(q);
		return -1;
	}
	if (sq_run(q, S_RELEASE, e, "cannot complete the report") == -1) {
		sq_report_abort(q);
		return -1;
	}
	q->in_report = 0;
	q->raw_new = NULL;
	if (!q->in_batch) /* the write lock is gone with the savepoint */
		q->next_record = 0;
	ex->id = q->report;
	*outcome = STORE_STORED;
	return 0;
}

int
sq_log(void *impl, const char *source, const char *outcome,
    const struct dmarc_meta *m, int64_t report, const char *message,
    struct err *e)
{
	struct sq *q = impl;
	sqlite3_stmt *st = q->st[S_LOG];

	sqlite3_bind_int64(st, 1, (int64_t)time(NULL));
	sq_bind_str(st, 2, source);
	sq_bind_str(st, 3, outcome);
	if (report > 0)
		sqlite3_bind_int64(st, 4, report);
	else
		sqlite3_bind_null(st, 4);
	sq_bind_str(st, 5, m ? m->org_name : NULL);
	sq_bind_str(st, 6, m ? m->report_id : NULL);
	sq_bind_str(st, 7, m ? m->domain : NULL);
	if (m != NULL && m->has_begin)
		sqlite3_bind_int64(st, 8, m->begin);
	else
		sqlite3_bind_null(st, 8);
	if (m != NULL && m->has_end)
		sqlite3_bind_int64(st, 9, m->end);
	else
		sqlite3_bind_null(st, 9);
	sq_bind_str(st, 10, message);
	return sq_run(q, S_LOG, e, "cannot write the ingest log");
}

int
sq_imap_get(void *impl, const char *mailbox, uint32_t *uidvalidity,
    uint32_t *last_uid, int *found, struct err *e)
{
	struct sq *q = impl;
	sqlite3_stmt *st = q->st[S_IMAP_GET];
	int rc;

	sq_bind_str(st, 1, mailbox);
	rc = sqlite3_step(st);
	*found = rc == SQLITE_ROW;
	if (*found) {
		*uidvalidity = (uint32_t)sqlite3_column_int64(st, 0);
		*last_uid = (uint32_t)sqlite3_column_int64(st, 1);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return sq_err(q, e, "cannot read the IMAP state");
	return 0;
}

int
sq_imap_set(void *impl, const char *mailbox, uint32_t uidvalidity,
    uint32_t last_uid, struct err *e)
{
	struct sq *q = impl;
	sqlite3_stmt *st = q->st[S_IMAP_SET];

	sq_bind_str(st, 1, mailbox);
	sqlite3_bind_int64(st, 2, uidvalidity);
	sqlite3_bind_int64(st, 3, last_uid);
	sqlite3_bind_int64(st, 4, (int64_t)time(NULL));
	return sq_run(q, S_IMAP_SET, e, "cannot save the IMAP state");
}


int
sq_store_raw(struct sq *q, struct store_payload *raw, struct err *e)
{
	return store_raw(q, raw, e);
}

int
sq_each_payload(void *impl,
    int (*cb)(void *arg, const struct store_raw_row *r, struct err *e),
    void *arg, struct err *e)
{
	struct sq *q = impl;
	struct store_raw_row r;
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(q->db,
		"SELECT id, name, format, data FROM raw_payloads ORDER BY id",
		-1, &st, NULL) != SQLITE_OK)
		return sq_err(q, e, "cannot read the kept payloads");
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		r.id = sqlite3_column_int64(st, 0);
		r.name = (const char *)sqlite3_column_text(st, 1);
		r.format = (const char *)sqlite3_column_text(st, 2);
		r.data = sqlite3_column_blob(st, 3);
		r.len = (size_t)sqlite3_column_bytes(st, 3);
		if (r.data == NULL)
			r.data = (const unsigned char *)"";
		if (cb(arg, &r, e) == -1) {
			sqlite3_finalize(st);
			return -1;
		}
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return sq_err(q, e, "cannot read the kept payloads");
	return 0;
}

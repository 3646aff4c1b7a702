/*
 * store-sqlite-query.c - the read-only queries of the SQLite backend, the
 * ones report/ needs.  Aggregation happens in SQL, in one pass over the
 * tables, never by loading rows into C.  Also the pieces every query of
 * the backend shares: the domain filter (sq_filter_sql(),
 * sq_prepare_filtered()) and the walk over a statement's rows (sq_walk(),
 * handing each to a rows.h callback).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lists.h"
#include "rows.h"
#include "sqlite-impl.h"

/* Only the number of placeholders comes from the input, never its
 * values. */
int
sq_filter_sql(char *sql, size_t len, const char *column,
    const struct store_filter *f, int *nd)
{
	size_t used = strlen(sql);
	int n = 0;

	if (f->domains != NULL)
		while (f->domains[n] != NULL)
			n++;
	*nd = n;
	/* Stop at the first write that does not fit: len - used must never
	 * wrap around. */
	if (n > 0 && used < len)
		used += (size_t)snprintf(sql + used, len - used,
		    " AND %s IN (?", column);
	for (int i = 1; i < n && used < len; i++)
		used += (size_t)snprintf(sql + used, len - used, ", ?");
	if (n > 0 && used < len)
		used += (size_t)snprintf(sql + used, len - used, ")");
	return used < len ? 0 : -1;
}

int
sq_each_report(void *impl, const struct store_filter *f,
    int (*cb)(void *arg, const struct store_report_row *r), void *arg,
    struct err *e)
{
	struct sq *q = impl;
	struct store_report_row row;
	struct row cols;
	sqlite3_stmt *st;
	char sql[8192] = "SELECT org_name, report_id, domain, begin_ts, end_ts, "
			 "record_count, message_count, salvaged FROM reports "
			 "WHERE begin_ts >= ? AND begin_ts < ?";
	int nd, i, rc;

	if (sq_filter_sql(sql, sizeof(sql) - 64, "domain", f, &nd) == -1)
		return err_set(e, "too many --domain options");
	strcat(sql, " ORDER BY begin_ts, org_name COLLATE NOCASE, org_name, "
		    "report_id");
	if (sqlite3_prepare_v2(q->db, sql, -1, &st, NULL) != SQLITE_OK)
		return sq_err(q, e, "cannot query reports");
	sqlite3_bind_int64(st, 1, f->since);
	sqlite3_bind_int64(st, 2, f->until ? f->until : INT64_MAX);
	for (i = 0; i < nd; i++)
		sq_bind_str(st, 3 + i, f->domains[i]);
	sq_row(&cols, st);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		row_report(&cols, &row);
		if (cb(arg, &row) == -1) {
			sqlite3_finalize(st);
			return err_set(e, "output failed");
		}
	}
	if (rc != SQLITE_DONE) {
		sq_err(q, e, "cannot query reports");
		sqlite3_finalize(st);
		return -1;
	}
	sqlite3_finalize(st);
	return 0;
}


/* ---------------------------------------------------------------------
 * Groups, records and domains for report/.
 *
 * A record's DKIM, SPF and override-reason lists come out of SQLite as one
 * text each: items separated by RS (char 30), three fields each separated
 * by US (char 31), NULL written as ''.  XML 1.0 does not allow either
 * character in a document, so no value the parser stored contains them;
 * if one did, the split (lists.c) would only garble that value.  The scan of
 * a record's results by their primary key (record, idx) yields them in
 * document order.
 */
#define LIST3(a, b, c, table)                                                \
	"(SELECT group_concat(ifnull(" a ", '') || char(31) || ifnull(" b   \
	", '') || char(31) || ifnull(" c ", ''), char(30)) FROM " table      \
	" WHERE record = r.id)"
#define DKIM_LIST   LIST3("domain", "selector", "result", "dkim_results")
#define SPF_LIST    LIST3("domain", "scope", "result", "spf_results")
#define REASON_LIST LIST3("type", "comment", "type_original", \
    "override_reasons")

/* Message counts are summed with total() (a double, exact up to 2^53):
 * sum() fails the whole query with "integer overflow" when a hostile
 * report claims counts near 2^63. */
#define SUM_IF(cond) "total(CASE WHEN " cond " THEN count ELSE 0 END)"

static const char *
row_text(const void *res, int col, int *len)
{
	sqlite3_stmt *st = (sqlite3_stmt *)res;
	const char *s = (const char *)sqlite3_column_text(st, col);

	if (len != NULL)
		*len = sqlite3_column_bytes(st, col);
	return s;
}

static int64_t
row_i64(const void *res, int col)
{
	return sqlite3_column_int64((sqlite3_stmt *)res, col);
}

void
sq_row(struct row *r, sqlite3_stmt *st)
{
	r->res = st;
	r->text = row_text;
	r->i64 = row_i64;
}

int
sq_prepare_filtered(struct sq *q, const char *head, const char *column,
    const char *tail, const struct store_filter *f, sqlite3_stmt **st,
    struct err *e, const char *what)
{
	char sql[8192];
	int nd, i;

	if (strlen(head) >= sizeof(sql))
		return err_set(e, "%s: internal error: query too long", what);
	strcpy(sql, head);
	if (sq_filter_sql(sql, sizeof(sql), column, f, &nd) == -1 ||
	    strlen(sql) + strlen(tail) >= sizeof(sql))
		return err_set(e, "%s: too many --domain options", what);
	strcat(sql, tail);
	if (sqlite3_prepare_v2(q->db, sql, -1, st, NULL) != SQLITE_OK)
		return sq_err(q, e, what);
	sqlite3_bind_int64(*st, 1, f->since);
	sqlite3_bind_int64(*st, 2, f->until ? f->until : INT64_MAX);
	for (i = 0; i < nd; i++)
		sq_bind_str(*st, 3 + i, f->domains[i]);
	return 0;
}

int
sq_walk(struct sq *q, sqlite3_stmt *st, row_fn row, void *arg, struct err *e,
    const char *what)
{
	struct row cols;
	int rc;

	sq_row(&cols, st);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		if (row(&cols, arg, e) == -1) {
			sqlite3_finalize(st);
			return -1;
		}
	return sq_finish(q, st, rc, e, what);
}

/* ---------------------------------------------------------------------
 * Groups: the traffic rollup merged across days.
 *
 * The rollup (migrations.c step 2) has one row per day and group, keyed
 * (day, domain, adkim, aspf, source_ip, header_from, envelope_from, dkim,
 * spf).  Summing a group over several days means bringing its rows of
 * every day together.  A GROUP BY does that by sorting all the rows: with
 * ten days of a busy domain (914,058 rows) the sort was 85% of `sources`,
 * 23 billion instructions, and a bigger cache or temp_store = MEMORY only
 * trade a little of it for 390 MB.  An index in group order spares the
 * sort but not much else (7.8 billion instructions to aggregate through
 * it), and it makes ingest 1.6x slower on a big database, each report's
 * rows landing all over it.
 *
 * Yet with the day fixed, the primary key already yields a day's rows in
 * group order.  So this reads each selected day by the primary key, one
 * statement per day, and merges the days' streams on the group key (a
 * heap), adding up rows whose keys are equal: the same sums as GROUP BY,
 * in the same order, in one pass, holding one row per day.  The days are
 * read in one transaction, so they are one snapshot.
 */

#define GROUP_KEYS 8 /* domain ... spf, the columns a group is keyed by */

struct stream {
	sqlite3_stmt *st;
	const unsigned char *key[GROUP_KEYS]; /* the row's, from SQLite */
	int len[GROUP_KEYS];
	unsigned char *enc; /* the key as one string, for key_cmp() */
	size_t nenc, cap;
};

struct merge {
	struct stream *s;
	size_t n;
	size_t *heap; /* indexes into s; the least key on top */
	size_t nheap;
	size_t *pend; /* the streams whose rows make the current group */
	size_t npend;
};

/* Compares two rows' keys as the GROUP BY's BINARY collation does (each
 * column as bytes, then by length), through their encodings: one memcmp()
 * instead of one per column (the heap compares each row several times). */
static int
key_cmp(const struct stream *a, const struct stream *b)
{
	int c = memcmp(a->enc, b->enc, a->nenc < b->nenc ? a->nenc : b->nenc);

	if (c != 0 || a->nenc == b->nenc)
		return c;
	return a->nenc < b->nenc ? -1 : 1;
}

/*
 * Encodes the key so that comparing encodings as bytes orders them as the
 * columns would be: each column's bytes, a NUL written as 00 FF, then 00 00
 * to end it.  A column that is a prefix of another ends first, and 00 00 is
 * less than any byte that can follow (00 FF for a NUL), so the shorter
 * sorts first.  (Text from XML has no NUL; the escape is for a database
 * written by something else.)
 */
static int
encode_key(struct stream *s)
{
	size_t need = 0, i, n;
	unsigned char *p;
	void *tmp;

	for (i = 0; i < GROUP_KEYS; i++)
		need += 2 * (size_t)s->len[i] + 2;
	if (GROW(s->enc, s->cap, need, tmp) == -1)
		return -1;
	for (p = s->enc, i = 0; i < GROUP_KEYS; i++) {
		n = (size_t)s->len[i];
		if (n > 0 && memchr(s->key[i], 0, n) == NULL) {
			memcpy(p, s->key[i], n);
			p += n;
		} else {
			for (size_t k = 0; k < n; k++)
				if ((*p++ = s->key[i][k]) == 0)
					*p++ = 0xff;
		}
		*p++ = 0;
		*p++ = 0;
	}
	s->nenc = (size_t)(p - s->enc);
	return 0;
}

/* Heap order: by key, then by day, so that equal keys come out in day
 * order and the sums are the same on every run. */
static int
heap_less(const struct merge *m, size_t a, size_t b)
{
	int c = key_cmp(&m->s[a], &m->s[b]);

	return c < 0 || (c == 0 && a < b);
}

static void
heap_push(struct merge *m, size_t i)
{
	size_t k = m->nheap++, parent;

	while (k > 0 && heap_less(m, i, m->heap[parent = (k - 1) / 2])) {
		m->heap[k] = m->heap[parent];
		k = parent;
	}
	m->heap[k] = i;
}

static size_t
heap_pop(struct merge *m)
{
	size_t top = m->heap[0], last = m->heap[--m->nheap], k = 0, c;

	while ((c = 2 * k + 1) < m->nheap) {
		if (c + 1 < m->nheap && heap_less(m, m->heap[c + 1], m->heap[c]))
			c++;
		if (!heap_less(m, m->heap[c], last))
			break;
		m->heap[k] = m->heap[c];
		k = c;
	}
	if (m->nheap > 0)
		m->heap[k] = last;
	return top;
}

/* Steps a stream: 1 with its next row's key, 0 at its end, -1 on error
 * (-2 out of memory). */
static int
stream_next(struct stream *s)
{
	int rc = sqlite3_step(s->st), i;

	if (rc == SQLITE_DONE)
		return 0;
	if (rc != SQLITE_ROW)
		return -1;
	for (i = 0; i < GROUP_KEYS; i++) {
		s->key[i] = sqlite3_column_text(s->st, i);
		s->len[i] = sqlite3_column_bytes(s->st, i);
	}
	return encode_key(s) == -1 ? -2 : 1;
}

/* The text of column i of the group's key: NULL for '' when nullable
 * (the rollup stores an absent value as ''). */
static const char *
key_text(const struct stream *s, int i, int nullable)
{
	if (nullable && s->len[i] == 0)
		return NULL;
	return (const char *)s->key[i];
}

/* Hands the group made of the pending streams' rows to cb. */
static int
emit_group(struct merge *m, struct lists *l,
    int (*cb)(void *arg, const struct store_group *g, struct err *e),
    void *arg, struct err *e)
{
	const struct stream *first = &m->s[m->pend[0]];
	double sum[6] = {0, 0, 0, 0, 0, 0};
	struct store_group g;
	uint64_t records = 0;
	size_t i;
	int k;

	/* As total() summed them: as doubles (exact up to 2^53, and no
	 * failure on a hostile count near 2^63, see SUM_IF), in day order */
	for (i = 0; i < m->npend; i++) {
		sqlite3_stmt *st = m->s[m->pend[i]].st;

		records += (uint64_t)sqlite3_column_int64(st, GROUP_KEYS);
		for (k = 0; k < 6; k++)
			sum[k] += (double)sqlite3_column_int64(st,
			    GROUP_KEYS + 1 + k);
	}
	memset(&g, 0, sizeof(g));
	g.domain = key_text(first, 0, 0);
	g.adkim = key_text(first, 1, 1);
	g.aspf = key_text(first, 2, 1);
	g.source_ip = key_text(first, 3, 1);
	g.header_from = key_text(first, 4, 1);
	g.envelope_from = key_text(first, 5, 1);
	if (lists_dkim(l, first->key[6], first->len[6]) == -1 ||
	    lists_spf(l, first->key[7], first->len[7]) == -1)
		return err_set(e, "out of memory");
	g.dkim = l->dkim;
	g.ndkim = l->t[0].n;
	g.spf = l->spf;
	g.nspf = l->t[1].n;
	g.records = records;
	g.messages = lists_count(sum[0]);
	g.dkim_aligned = lists_count(sum[1]);
	g.spf_aligned = lists_count(sum[2]);
	g.dmarc_pass = lists_count(sum[3]);
	g.quarantined = lists_count(sum[4]);
	g.rejected = lists_count(sum[5]);
	return cb(arg, &g, e);
}

/* The selected days that have traffic, in order, by a seek each. */
static int
group_days(struct sq *q, int64_t since, int64_t until, int64_t **days,
    size_t *ndays, struct err *e)
{
	static const char sql[] = "SELECT day FROM traffic WHERE day >= ?1 "
				  "AND day < ?2 ORDER BY day LIMIT 1";
	sqlite3_stmt *st;
	size_t cap = 0;
	int64_t *nd;
	int rc;

	*days = NULL;
	*ndays = 0;
	if (sqlite3_prepare_v2(q->db, sql, -1, &st, NULL) != SQLITE_OK)
		return sq_err(q, e, "cannot summarise the records");
	sqlite3_bind_int64(st, 2, until);
	for (;;) {
		sqlite3_bind_int64(st, 1, since);
		if ((rc = sqlite3_step(st)) != SQLITE_ROW)
			break;
		since = sqlite3_column_int64(st, 0);
		sqlite3_reset(st);
		if (*ndays == cap) {
			cap = cap ? cap * 2 : 64;
			if ((nd = realloc(*days, cap * sizeof(*nd))) == NULL) {
				sqlite3_finalize(st);
				return err_set(e, "out of memory");
			}
			*days = nd;
		}
		(*days)[(*ndays)++] = since;
		if (since == INT64_MAX)
			break;
		since++;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		sq_err(q, e, "cannot summarise the records");
		sqlite3_finalize(st);
		return -1;
	}
	sqlite3_finalize(st);
	return 0;
}

#define STREAM_HEAD                                                          \
	"SELECT domain, adkim, aspf, source_ip, header_from, envelope_from, " \
	"dkim, spf, records, messages, dkim_aligned, spf_aligned, "          \
	"dmarc_pass, quarantined, rejected FROM traffic WHERE day = ?1"
#define STREAM_TAIL                                                          \
	" ORDER BY domain, adkim, aspf, source_ip, header_from, "            \
	"envelope_from, dkim, spf"

/* One statement per day, each reading its day in group order (the primary
 * key with the day fixed: no sorting), the domain filter applied. */
static int
open_streams(struct sq *q, struct merge *m, const int64_t *days,
    size_t ndays, const struct store_filter *f, struct err *e)
{
	char sql[8192];
	size_t d;
	int nd, i, rc;

	strcpy(sql, STREAM_HEAD);
	if (sq_filter_sql(sql, sizeof(sql), "domain", f, &nd) == -1 ||
	    strlen(sql) + strlen(STREAM_TAIL) >= sizeof(sql))
		return err_set(e, "cannot summarise the records: too many "
				  "--domain options");
	strcat(sql, STREAM_TAIL);
	if ((m->s = calloc(ndays ? ndays : 1, sizeof(*m->s))) == NULL ||
	    (m->heap = calloc(ndays ? ndays : 1, sizeof(*m->heap))) == NULL ||
	    (m->pend = calloc(ndays ? ndays : 1, sizeof(*m->pend))) == NULL)
		return err_set(e, "out of memory");
	for (d = 0; d < ndays; d++) {
		struct stream *s = &m->s[m->n];

		if (sqlite3_prepare_v2(q->db, sql, -1, &s->st, NULL) !=
		    SQLITE_OK)
			return sq_err(q, e, "cannot summarise the records");
		m->n++;
		sqlite3_bind_int64(s->st, 1, days[d]);
		/* the domain list's "?"s follow ?1 */
		for (i = 0; i < nd; i++)
			sq_bind_str(s->st, 2 + i, f->domains[i]);
		if ((rc = stream_next(s)) == -1)
			return sq_err(q, e, "cannot summarise the records");
		if (rc == -2)
			return err_set(e, "out of memory");
		if (rc == 1)
			heap_push(m, m->n - 1);
	}
	return 0;
}

static void
merge_free(struct merge *m)
{
	size_t i;

	for (i = 0; i < m->n; i++) {
		sqlite3_finalize(m->s[i].st);
		free(m->s[i].enc);
	}
	free(m->s);
	free(m->heap);
	free(m->pend);
}

/* The rollup counts whole days: the selection is taken to whole UTC days,
 * which is what dmarc-report's options give. */
int
sq_each_group(void *impl, const struct store_filter *f,
    int (*cb)(void *arg, const struct store_group *g, struct err *e),
    void *arg, struct err *e)
{
	struct sq *q = impl;
	struct merge m;
	struct lists l;
	int64_t *days = NULL, since, until;
	size_t ndays = 0, i;
	int rc = -1, txn = 0;

	since = f->since > 0 ? f->since / 86400 : 0;
	until = f->until > 0 ? (f->until + 86399) / 86400 : INT64_MAX;
	memset(&m, 0, sizeof(m));
	memset(&l, 0, sizeof(l));
	if (sqlite3_get_autocommit(q->db)) {
		if (sqlite3_exec(q->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
			return sq_err(q, e, "cannot summarise the records");
		txn = 1;
	}
	if (group_days(q, since, until, &days, &ndays, e) == -1 ||
	    open_streams(q, &m, days, ndays, f, e) == -1)
		goto out;
	while (m.nheap > 0) {
		/* the least key, and every other day's row with that key */
		m.npend = 0;
		m.pend[m.npend++] = heap_pop(&m);
		while (m.nheap > 0 &&
		    key_cmp(&m.s[m.heap[0]], &m.s[m.pend[0]]) == 0)
			m.pend[m.npend++] = heap_pop(&m);
		if (emit_group(&m, &l, cb, arg, e) == -1)
			goto out;
		for (i = 0; i < m.npend; i++) {
			int more = stream_next(&m.s[m.pend[i]]);

			if (more < 0) {
				if (more == -1)
					sq_err(q, e,
					    "cannot summarise the records");
				else
					err_set(e, "out of memory");
				goto out;
			}
			if (more)
				heap_push(&m, m.pend[i]);
		}
	}
	rc = 0;
out:
	merge_free(&m);
	lists_free(&l);
	free(days);
	if (txn)
		sqlite3_exec(q->db, "COMMIT", NULL, NULL, NULL);
	return rc;
}

/* Ordered by (begin_ts, report id, record id): the reports_begin index
 * (whose entries end with the rowid) and records_report give that order
 * without sorting millions of rows. */
int
sq_each_record(void *impl, const struct store_filter *f,
    int (*cb)(void *arg, const struct dmarc_meta *m,
	const struct dmarc_record *r, struct err *e),
    void *arg, struct err *e)
{
	static const char head[] =
	    "SELECT rp.org_name, rp.org_name_derived, rp.email, "
	    "rp.extra_contact_info, rp.report_id, rp.begin_ts, rp.end_ts, "
	    "rp.errors, rp.generator, rp.version, rp.xmlns, rp.domain, "
	    "rp.adkim, rp.aspf, rp.p, rp.sp, rp.np, rp.pct, rp.fo, "
	    "rp.testing, rp.discovery_method, r.source_ip, r.count, "
	    "r.disposition, r.dkim, r.spf, r.header_from, r.envelope_from, "
	    "r.envelope_to, " DKIM_LIST ", " SPF_LIST ", " REASON_LIST " "
	    "FROM reports rp JOIN records r ON r.report = rp.id "
	    "WHERE rp.begin_ts >= ?1 AND rp.begin_ts < ?2";
	struct sq *q = impl;
	struct row_records w = {.cb = cb, .arg = arg};
	sqlite3_stmt *st;
	int rc;

	if (sq_prepare_filtered(q, head, "rp.domain",
		" ORDER BY rp.begin_ts, rp.id, r.id", f, &st, e,
		"cannot read the records") == -1)
		return -1;
	rc = sq_walk(q, st, row_each_record, &w, e, "cannot read the records");
	lists_free(&w.l);
	return rc;
}

int
sq_each_domain(void *impl, const struct store_filter *f,
    int (*cb)(void *arg, const struct store_domain *d, struct err *e),
    void *arg, struct err *e)
{
	/* The latest report of each domain by a correlated lookup on
	 * (begin_ts) within the domain; the filter's domain list applies
	 * to the outer query only, the period (?1, ?2) to both. */
	static const char head[] =
	    "SELECT a.domain, a.first, a.last, a.n, a.days, l.org_name, "
	    "l.report_id, l.begin_ts, l.end_ts, l.adkim, l.aspf, l.p, l.sp, "
	    "l.np, l.pct, l.fo, l.testing FROM (SELECT domain, "
	    "min(begin_ts) AS first, max(end_ts) AS last, count(*) AS n, "
	    "count(DISTINCT begin_ts / 86400) AS days FROM reports "
	    "WHERE begin_ts >= ?1 AND begin_ts < ?2";
	static const char tail[] =
	    " GROUP BY domain) a JOIN reports l ON l.id = (SELECT id FROM "
	    "reports WHERE domain = a.domain AND begin_ts >= ?1 AND "
	    "begin_ts < ?2 ORDER BY begin_ts DESC, end_ts DESC, id DESC "
	    "LIMIT 1) ORDER BY a.domain";
	struct sq *q = impl;
	struct row_domains w;
	sqlite3_stmt *st;

	w.cb = cb;
	w.arg = arg;
	if (sq_prepare_filtered(q, head, "domain", tail, f, &st, e,
		"cannot summarise the policy domains") == -1)
		return -1;
	return sq_walk(q, st, row_each_domain, &w, e,
	    "cannot summarise the policy domains");
}

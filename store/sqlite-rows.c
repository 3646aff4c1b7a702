/*
 * sqlite-rows.c - see sqlite-rows.h.
 */
#include "sqlite-rows.h"

#include <stdlib.h>
#include <string.h>

enum { ROWS_INT, ROWS_TEXT, ROWS_NULL };

/* Text kept between flushes beyond this is given back. */
#define ROWS_TEXT_KEEP (256u << 10)

int
rows_init(struct rows *r, sqlite3 *db, const char *head, const char *tail,
          size_t ncols, size_t max, const char *what, struct err *e)
{
	*r = (struct rows){.db = db,
	                   .head = head,
	                   .tail = tail,
	                   .what = what,
	                   .ncols = ncols,
	                   .max = max};
	buf_init(&r->text, 0);
	r->v = calloc(max * ncols, sizeof(*r->v));
	r->st = calloc(max + 1, sizeof(sqlite3_stmt *));
	if (r->v != NULL && r->st != NULL)
		return 0;
	rows_free(r);
	return err_set(e, "out of memory");
}

/* Every statement prepared, the values and their text. */
void
rows_free(struct rows *r)
{
	sqlite3_stmt **st = r->st;

	while (st != NULL && st <= r->st + r->max)
		sqlite3_finalize(*st++);
	free(r->st);
	free(r->v);
	buf_free(&r->text);
	memset(r, 0, sizeof(*r));
}

/* The INSERT of k rows: head, k groups of ncols parameters, tail. */
static sqlite3_stmt *
statement(struct rows *r, size_t k, struct err *e)
{
	struct buf sql;
	size_t i, c;
	int ok = 1;

	if (r->st[k] != NULL)
		return r->st[k];
	buf_init(&sql, 0);
	ok = buf_append(&sql, r->head, strlen(r->head), e) == 0;
	for (i = 0; ok && i < k; i++) {
		ok = buf_append(&sql, i ? ", (?" : "(?", i ? 4 : 2, e) == 0;
		for (c = 1; ok && c < r->ncols; c++)
			ok = buf_append(&sql, ", ?", 3, e) == 0;
		ok = ok && buf_appendc(&sql, ')', e) == 0;
	}
	if (ok && r->tail != NULL)
		ok = buf_appendc(&sql, ' ', e) == 0 &&
		     buf_append(&sql, r->tail, strlen(r->tail), e) == 0;
	if (ok && sqlite3_prepare_v2(r->db, sql.data, (int)sql.len, &r->st[k],
	                             NULL) != SQLITE_OK) {
		err_set(e, "%s: %s", r->what, sqlite3_errmsg(r->db));
		ok = 0;
	}
	buf_free(&sql);
	return ok ? r->st[k] : NULL;
}

int
rows_flush(struct rows *r, struct err *e)
{
	sqlite3_stmt *st;
	const struct rows_val *v;
	size_t i, n = r->n;
	int rc;

	if (n == 0)
		return 0;
	r->n = 0;
	if ((st = statement(r, n, e)) == NULL)
		return -1;
	for (i = 0; i < n * r->ncols; i++) {
		v = &r->v[i];
		if (v->kind == ROWS_INT)
			sqlite3_bind_int64(st, (int)i + 1, v->i);
		else if (v->kind == ROWS_TEXT)
			sqlite3_bind_text(st, (int)i + 1, r->text.data + v->i,
			                  (int)v->len, SQLITE_STATIC);
		else
			sqlite3_bind_null(st, (int)i + 1);
	}
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	/* the text the statement pointed into is reused from here */
	if (r->text.cap > ROWS_TEXT_KEEP) {
		buf_free(&r->text);
		buf_init(&r->text, 0);
	} else {
		buf_reset(&r->text);
	}
	if (rc != SQLITE_DONE)
		return err_set(e, "%s: %s", r->what, sqlite3_errmsg(r->db));
	if ((size_t)sqlite3_changes(r->db) != n)
		return err_set(e,
		               "%s: %d of %zu rows stored (internal error: "
		               "a duplicate key)",
		               r->what, sqlite3_changes(r->db), n);
	return 0;
}

void
rows_discard(struct rows *r)
{
	r->n = 0;
	r->col = 0;
	buf_reset(&r->text);
}

/* Moves to the next column; at the end of a row, counts it and inserts
 * once max rows wait. */
static int
next_col(struct rows *r, struct err *e)
{
	if (++r->col < r->ncols)
		return 0;
	r->col = 0;
	if (++r->n < r->max)
		return 0;
	return rows_flush(r, e);
}

int
rows_add_int(struct rows *r, int64_t i, struct err *e)
{
	struct rows_val *v = &r->v[r->n * r->ncols + r->col];

	v->kind = ROWS_INT;
	v->i = i;
	return next_col(r, e);
}

int
rows_add_text(struct rows *r, const char *s, struct err *e)
{
	struct rows_val *v = &r->v[r->n * r->ncols + r->col];
	size_t len;

	if (s == NULL) {
		v->kind = ROWS_NULL;
		return next_col(r, e);
	}
	len = strlen(s);
	v->kind = ROWS_TEXT;
	v->i = (int64_t)r->text.len;
	v->len = len;
	if (buf_append(&r->text, s, len, e) == -1)
		return -1;
	return next_col(r, e);
}

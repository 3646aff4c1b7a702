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
rows_init(struct rows *r, sqlite3_stmt *const st[], size_t nst, size_t ncols,
          const char *what, struct err *e)
{
	memset(r, 0, sizeof(*r));
	if (nst == 0 || nst > ROWS_SIZES) {
		while (nst > 0)
			sqlite3_finalize(st[--nst]);
		return err_set(e,
		               "internal error: a wrong number of "
		               "statements for %s",
		               what);
	}
	r->nst = nst;
	memcpy(r->st, st, r->nst * sizeof(sqlite3_stmt *));
	r->what = what;
	r->ncols = ncols;
	r->max = (size_t)1 << (r->nst - 1);
	buf_init(&r->text, 0);
	if ((r->v = calloc(r->max * ncols, sizeof(*r->v))) != NULL)
		return 0;
	rows_free(r);
	return err_set(e, "out of memory");
}

/* The statements, the values and their text. */
void
rows_free(struct rows *r)
{
	size_t k;

	for (k = 0; k < r->nst; k++)
		sqlite3_finalize(r->st[k]);
	free(r->v);
	buf_free(&r->text);
	memset(r, 0, sizeof(*r));
}

/* Inserts the k rows from row first with st, which inserts k rows. */
static int
insert(struct rows *r, sqlite3_stmt *st, size_t first, size_t k, struct err *e)
{
	const struct rows_val *v = &r->v[first * r->ncols];
	sqlite3 *db = sqlite3_db_handle(st);
	size_t i;
	int rc;

	for (i = 0; i < k * r->ncols; i++, v++) {
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
	if (rc != SQLITE_DONE)
		return err_set(e, "%s: %s", r->what, sqlite3_errmsg(db));
	if ((size_t)sqlite3_changes(db) != k)
		return err_set(e,
		               "%s: %d of %zu rows stored (internal error: "
		               "a duplicate key)",
		               r->what, sqlite3_changes(db), k);
	return 0;
}

int
rows_flush(struct rows *r, struct err *e)
{
	size_t done = 0, k = r->nst - 1, n = r->n;
	int rc = 0;

	r->n = 0;
	/* 2^k rows at a time, the largest that fits, so at most one
	 * statement of each size after the full ones */
	while (rc == 0 && done < n) {
		while (((size_t)1 << k) > n - done)
			k--;
		rc = insert(r, r->st[k], done, (size_t)1 << k, e);
		done += (size_t)1 << k;
	}
	/* the text the statements pointed into is reused from here */
	if (r->text.cap > ROWS_TEXT_KEEP) {
		buf_free(&r->text);
		buf_init(&r->text, 0);
	} else {
		buf_reset(&r->text);
	}
	return rc;
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

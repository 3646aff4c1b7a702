/*
 * sqlite-rows.h - a report's rows, held back and inserted many to a
 * statement.  Private to store/.
 *
 * Each INSERT statement SQLite runs opens a cursor per B-tree it writes,
 * seeks it from the root for every row, and closes it at the end: for a
 * record and its one to three DKIM and SPF results, three statements and
 * about seventy key comparisons.  Held back and inserted sixteen records,
 * or thirty-two results, to a statement, the cursors stay where the last
 * row went, which is where the next one goes: the same rows took a third
 * less time (100,000 records, 0.28 s against 0.19 s).  The traffic sums
 * go the same way, sixteen upserts to a statement.
 *
 * Promises:
 *  - rows_add_*() copy the values (the caller's strings can go away) and
 *    insert them once max rows are waiting; rows_flush() inserts the rest,
 *    by statements of 2^k rows, largest first.  The rows go in in the
 *    order they were added.
 *  - The statements are the caller's SQL, prepared by the caller (so that
 *    every SQL text stays a constant of store-sqlite.c, which the SQL lint
 *    checks): st[k] inserts 2^k rows.  Each is an INSERT OR IGNORE whose
 *    row count is checked: a statement of several rows that may abort half
 *    way gets a statement journal (see sq_connect()), and no row can
 *    conflict (keys are new), so a row not inserted is an internal error,
 *    reported as one.  An upsert's ON CONFLICT clause does as well: a row
 *    updated counts as one that went in.
 *  - rows_discard() forgets what waits (the report was rolled back).
 *  - Memory: max rows of values, and their text, trimmed back after a
 *    flush when hostile values made it large.
 */
#ifndef DMARCSIFT_SQLITE_ROWS_H
#define DMARCSIFT_SQLITE_ROWS_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"

#define ROWS_SIZES 6 /* statements of 1, 2, 4 ... 32 rows at most */

struct rows_val {
	int64_t i;  /* an integer, or the text's offset */
	size_t len; /* the text's length */
	int kind;   /* ROWS_INT, ROWS_TEXT, ROWS_NULL */
};

struct rows {
	const char *what; /* for errors: "cannot store a record" */
	size_t ncols, max, n, col;
	size_t nst;
	sqlite3_stmt *st[ROWS_SIZES]; /* st[k] inserts 2^k rows */
	struct rows_val *v;           /* max * ncols */
	struct buf text;
};

/* Takes the nst statements st (ROWS_SIZES at most; st[k] inserts 2^k rows,
 * so max is 2^(nst - 1)) and finalizes them in rows_free(), even when this
 * fails.  0, or -1 (out of memory) with e filled. */
int rows_init(struct rows *r, sqlite3_stmt *const st[], size_t nst,
              size_t ncols, const char *what, struct err *e);
void rows_free(struct rows *r);

/* The next value of the current row; the row ends with its last column,
 * and max rows are inserted then.  s NULL is SQL NULL. */
int rows_add_int(struct rows *r, int64_t i, struct err *e);
int rows_add_text(struct rows *r, const char *s, struct err *e);

/* Inserts every row waiting. */
int rows_flush(struct rows *r, struct err *e);
void rows_discard(struct rows *r);

#endif

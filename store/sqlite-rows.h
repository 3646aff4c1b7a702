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
 *    insert them once max rows are waiting; rows_flush() inserts the rest.
 *    The rows go in in the order they were added.
 *  - An INSERT OR IGNORE whose row count is checked: a statement of several
 *    rows that may abort half way gets a statement journal (see
 *    sq_connect()), and no row can conflict (keys are new), so a row not
 *    inserted is an internal error, reported as one.
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

#define ROWS_MAX_COLS 10

struct rows_val {
	int64_t i;  /* an integer, or the text's offset */
	size_t len; /* the text's length */
	int kind;   /* ROWS_INT, ROWS_TEXT, ROWS_NULL */
};

struct rows {
	sqlite3 *db;
	const char *head; /* "INSERT OR IGNORE INTO t (a, b) VALUES " */
	const char *tail; /* after the rows ("ON CONFLICT ..."), or NULL */
	const char *what; /* for errors: "cannot store a record" */
	size_t ncols, max, n, col;
	struct rows_val *v; /* max * ncols */
	struct buf text;
	sqlite3_stmt **st; /* st[k]: the INSERT of k rows, prepared when
	                      first needed */
};

/* 0, or -1 (out of memory) with e filled.  tail, when not NULL, follows
 * the rows: an upsert's ON CONFLICT clause, for which a row updated
 * counts as one that went in. */
int rows_init(struct rows *r, sqlite3 *db, const char *head, const char *tail,
              size_t ncols, size_t max, const char *what, struct err *e);
void rows_free(struct rows *r);

/* The next value of the current row; the row ends with its last column,
 * and max rows are inserted then.  s NULL is SQL NULL. */
int rows_add_int(struct rows *r, int64_t i, struct err *e);
int rows_add_text(struct rows *r, const char *s, struct err *e);

/* Inserts every row waiting. */
int rows_flush(struct rows *r, struct err *e);
void rows_discard(struct rows *r);

#endif

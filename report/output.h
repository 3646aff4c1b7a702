/*
 * output.h - how dmarc-report prints a result: one struct output_ops per
 * format (output-table.c, output-csv.c, output-json.c), chosen by --format.
 * Commands describe their columns and hand over rows; they never format.
 *
 * Promises: CSV is RFC 4180 and inert in spreadsheets (a text field that
 * starts with = + - @ TAB or CR gets a leading '); JSON is produced by
 * jansson, never by hand; the table is aligned, numbers to the right,
 * fits the width output_width() gives (cutting the columns marked shrink,
 * never the others), and uses colour only on a terminal without NO_COLOR.
 * CSV and JSON keep a value's bytes; the table and output_text() show
 * controls, C1 and bidi characters escaped (common/inert.h).
 */
#ifndef DMARCSIFT_OUTPUT_H
#define DMARCSIFT_OUTPUT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum col_type {
	COL_TEXT,
	COL_INT,
	COL_BOOL,
	COL_PERCENT, /* an int 0..1000 in tenths of a percent; table only */
	COL_TIME,    /* epoch seconds in i: CSV and JSON 2026-11-24T00:00:00Z,
			the table 2026-11-24 00:00 */
	COL_LIST,    /* i strings in v: a JSON array (a NULL item is null);
			in CSV and the table joined with ',' (NULL: empty) */
	COL_LIST_NONE, /* the same, a NULL item written none in CSV */
	COL_LIST_BAR,  /* free text: joined with '|', a NULL item none */
};

struct column {
	const char *name; /* the CSV/JSON name */
	const char *title; /* the table heading (NULL: name) */
	enum col_type type;
	int shrink; /* the table may cut this column to fit */
};

struct cell {
	union {
		const char *s;	      /* COL_TEXT; NULL is empty (JSON null) */
		const char *const *v; /* COL_LIST*: i items, each may be NULL */
	};
	int64_t i; /* COL_INT, COL_BOOL, COL_PERCENT, COL_TIME; COL_LIST*: the
		      number of items */
	int null;  /* JSON null for numbers and times */
};

struct output;

struct output_ops {
	const char *name;
	int (*begin)(struct output *o);
	int (*row)(struct output *o, const struct cell *cells);
	int (*end)(struct output *o);
};

struct output {
	const struct output_ops *ops;
	FILE *f;
	const struct column *cols;
	size_t ncols;
	int color;
	size_t width; /* table width limit (output_width()) */
	void *state;  /* the format's own */
};

extern const struct output_ops output_table;
extern const struct output_ops output_csv;
extern const struct output_ops output_json;

/* Looks a format up by name; NULL if unknown. */
const struct output_ops *output_find(const char *name);

/* Starts an output of the given columns on f. */
int output_begin(struct output *o, const struct output_ops *ops, FILE *f,
    const struct column *cols, size_t ncols);
int output_row(struct output *o, const struct cell *cells);
int output_end(struct output *o);

/* The width a table on f may take: $COLUMNS when set to a number (0 means
 * no limit: --wide sets it), else the terminal's width when f is one, else
 * no limit (SIZE_MAX: a pipe or a file gets every character).  At least 20. */
size_t output_width(FILE *f);

/* Whether a column type is one of the COL_LIST kinds. */
#define COL_IS_LIST(t)                                                       \
	((t) == COL_LIST || (t) == COL_LIST_NONE || (t) == COL_LIST_BAR)

/* A list cell's items joined for CSV and the table, with the separator and
 * the text for a NULL item its column type says (allocated; NULL when out
 * of memory). */
char *output_list_join(const struct column *col, const struct cell *c);

/* A COL_TIME value: 2026-11-24T00:00:00Z (RFC 3339, UTC), or with `table`
 * 2026-11-24 00:00; a time beyond gmtime() as its number. */
void output_time(int64_t t, int table, char *out, size_t len);

/* Whether text on f may be coloured: a terminal, and NO_COLOR unset or
 * empty. */
int output_use_color(FILE *f);

/* For the table format's lines of prose around tables: writes text
 * wrapped at word boundaries to at most `width` columns, the first line
 * after `first`, the others after `cont` (both count in the width), in
 * bold when `bold` and f takes colour.  The text is printed inert
 * (common/inert.h): a newline in it is shown as \n, not followed. */
void output_text(FILE *f, int bold, const char *first, const char *cont,
    const char *text, size_t width);

#endif

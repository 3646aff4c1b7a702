/*
 * output.h - how dmarc-report prints a result: one struct output_ops per
 * format (output-table.c, output-csv.c, output-json.c), chosen by --format.
 * Commands describe their columns and hand over rows; they never format.
 *
 * Promises: CSV is RFC 4180 and inert in spreadsheets (a text field that
 * starts with = + - @ TAB or CR gets a leading '); JSON is produced by
 * jansson, never by hand; the table is aligned, numbers to the right,
 * fits in 100 columns, and uses colour only on a terminal without NO_COLOR.
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
};

struct column {
	const char *name; /* the CSV/JSON name */
	const char *title; /* the table heading (NULL: name) */
	enum col_type type;
	int shrink; /* the table may cut this column to fit */
};

struct cell {
	const char *s; /* COL_TEXT; NULL is empty (JSON null) */
	int64_t i;     /* COL_INT, COL_BOOL, COL_PERCENT */
	int null;      /* JSON null for numbers */
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
	size_t width; /* table width limit */
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

/* Whether text on f may be coloured: a terminal, and NO_COLOR unset or
 * empty. */
int output_use_color(FILE *f);

/* For the table format's lines of prose around tables: writes text
 * wrapped at word boundaries to at most `width` columns, the first line
 * after `first`, the others after `cont` (both count in the width), in
 * bold when `bold` and f takes colour. */
void output_text(FILE *f, int bold, const char *first, const char *cont,
    const char *text, size_t width);

#endif

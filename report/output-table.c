/*
 * output-table.c - an aligned table for a terminal.  Rows are kept until
 * the end, since column widths depend on every row; text columns marked
 * shrinkable are cut (with "...") until the table fits o->width columns.
 * Widths count UTF-8 characters, not bytes.  Text cells are printed
 * through inert_dup() (common/inert.h).
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "inert.h"
#include "output.h"

struct table_state {
	char **cells; /* rows * ncols formatted strings */
	size_t rows, cap;
};

static size_t
u8len(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	return n;
}

/* Byte offset of the first `chars` characters of s. */
static size_t
u8prefix(const char *s, size_t chars)
{
	size_t i = 0, n = 0;

	while (s[i] != '\0') {
		if (((unsigned char)s[i] & 0xc0) != 0x80) {
			if (n == chars)
				break;
			n++;
		}
		i++;
	}
	return i;
}

static int
table_begin(struct output *o)
{
	o->state = calloc(1, sizeof(struct table_state));
	return o->state ? 0 : -1;
}

static char *
format_cell(const struct column *col, const struct cell *c)
{
	char buf[64], *s;

	switch (col->type) {
	case COL_TEXT:
		/* a report's values may hold newlines, ESC, bidi overrides:
		 * shown escaped, so no row or column can be forged */
		return inert_dup(c->s ? c->s : "");
	case COL_LIST:
	case COL_LIST_NONE:
	case COL_LIST_BAR:
		if ((s = output_list_join(col, c)) != NULL) {
			char *shown = inert_dup(s);

			free(s);
			return shown;
		}
		return NULL;
	case COL_TIME:
		if (c->null)
			return strdup("");
		output_time(c->i, 1, buf, sizeof(buf));
		return strdup(buf);
	case COL_BOOL:
		return strdup(c->null ? "" : c->i ? "yes" : "no");
	case COL_PERCENT:
		if (c->null)
			return strdup("");
		snprintf(buf, sizeof(buf), "%" PRId64 ".%" PRId64 "%%",
		    c->i / 10, c->i % 10);
		return strdup(buf);
	default:
		if (c->null)
			return strdup("");
		snprintf(buf, sizeof(buf), "%" PRId64, c->i);
		s = strdup(buf);
		return s;
	}
}

static int
table_row(struct output *o, const struct cell *c)
{
	struct table_state *t = o->state;
	char **nc;
	size_t i;

	if (t->rows == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 64;
		nc = realloc(t->cells, t->cap * o->ncols * sizeof(char *));
		if (nc == NULL)
			return -1;
		t->cells = nc;
	}
	for (i = 0; i < o->ncols; i++)
		if ((t->cells[t->rows * o->ncols + i] =
			    format_cell(&o->cols[i], &c[i])) == NULL)
			return -1;
	t->rows++;
	return 0;
}

static void
put_cell(struct output *o, const char *s, size_t width, int right, int last)
{
	size_t len = u8len(s), pad = len < width ? width - len : 0;
	size_t bytes = len > width ? u8prefix(s, width > 3 ? width - 3 : width)
				   : strlen(s);

	if (right)
		fprintf(o->f, "%*s", (int)pad, "");
	fwrite(s, 1, bytes, o->f);
	if (len > width)
		fputs(width > 3 ? "..." : "", o->f);
	if (!right && !last)
		fprintf(o->f, "%*s", (int)pad, "");
}

static int
table_end(struct output *o)
{
	struct table_state *t = o->state;
	size_t *w, i, r, total, widest;
	const char *title;
	int rc = 0;

	if ((w = calloc(o->ncols, sizeof(*w))) == NULL)
		return -1;
	for (i = 0; i < o->ncols; i++) {
		title = o->cols[i].title ? o->cols[i].title : o->cols[i].name;
		w[i] = u8len(title);
		for (r = 0; r < t->rows; r++) {
			size_t l = u8len(t->cells[r * o->ncols + i]);
			if (l > w[i])
				w[i] = l;
		}
	}
	/* Shrink the widest shrinkable column until the table fits. */
	for (;;) {
		total = o->ncols ? 2 * (o->ncols - 1) : 0;
		for (i = 0; i < o->ncols; i++)
			total += w[i];
		if (total <= o->width)
			break;
		widest = o->ncols;
		for (i = 0; i < o->ncols; i++)
			if (o->cols[i].shrink && w[i] > 8 &&
			    (widest == o->ncols || w[i] > w[widest]))
				widest = i;
		if (widest == o->ncols)
			break;
		w[widest]--;
	}
	if (o->color)
		fputs("\033[1m", o->f);
	for (i = 0; i < o->ncols; i++) {
		title = o->cols[i].title ? o->cols[i].title : o->cols[i].name;
		put_cell(o, title, w[i], o->cols[i].type != COL_TEXT,
		    i + 1 == o->ncols);
		if (i + 1 < o->ncols)
			fputs("  ", o->f);
	}
	if (o->color)
		fputs("\033[0m", o->f);
	fputc('\n', o->f);
	for (r = 0; r < t->rows; r++) {
		for (i = 0; i < o->ncols; i++) {
			put_cell(o, t->cells[r * o->ncols + i], w[i],
			    o->cols[i].type != COL_TEXT, i + 1 == o->ncols);
			if (i + 1 < o->ncols)
				fputs("  ", o->f);
		}
		fputc('\n', o->f);
	}
	for (r = 0; r < t->rows * o->ncols; r++)
		free(t->cells[r]);
	free(t->cells);
	free(t);
	free(w);
	o->state = NULL;
	return rc;
}

const struct output_ops output_table = {"table", table_begin, table_row,
    table_end};

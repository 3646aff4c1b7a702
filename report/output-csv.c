/*
 * output-csv.c - RFC 4180 CSV: comma-separated, CRLF line ends, fields
 * with a comma, quote, CR or LF quoted with quotes doubled.
 *
 * Report values come from strangers.  A spreadsheet treats a cell that
 * starts with = + - @ (and TAB or CR, which some strip) as a formula, so
 * such text gets a leading apostrophe, which spreadsheets show as text.
 * Numbers are never changed (a negative number is a number, not a
 * formula).
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "output.h"

/* A plain decimal number: [+-]digits[.digits][(e|E)[+-]digits].  Not
 * strtod(), which also takes leading white space ("\t5"), "inf", "nan"
 * and hex -- none of which is a number a spreadsheet should get raw. */
static int
looks_numeric(const char *s)
{
	const char *p = s;
	size_t d;

	if (*p == '+' || *p == '-')
		p++;
	d = strspn(p, "0123456789");
	p += d;
	if (*p == '.') {
		p++;
		d += strspn(p, "0123456789");
		p += strspn(p, "0123456789");
	}
	if (d == 0)
		return 0;
	if (*p == 'e' || *p == 'E') {
		p++;
		if (*p == '+' || *p == '-')
			p++;
		if ((d = strspn(p, "0123456789")) == 0)
			return 0;
		p += d;
	}
	return *p == '\0';
}

static void
put_text(FILE *f, const char *s)
{
	const char *q;
	int quote = strpbrk(s, ",\"\r\n") != NULL;
	int neutralise = (s[0] == '=' || s[0] == '+' || s[0] == '-' ||
			     s[0] == '@' || s[0] == '\t' || s[0] == '\r') &&
			 !looks_numeric(s);

	if (neutralise)
		quote = 1;
	if (quote)
		fputc('"', f);
	if (neutralise)
		fputc('\'', f);
	/* a quote is doubled; the text between quotes goes out in one
	 * write (`ses` writes tens of megabytes of fixes) */
	while ((q = strchr(s, '"')) != NULL) {
		fwrite(s, 1, (size_t)(q - s) + 1, f);
		fputc('"', f);
		s = q + 1;
	}
	fputs(s, f);
	if (quote)
		fputc('"', f);
}

/* fprintf(f, "%" PRId64, v) without the format machinery: `ses` and
 * `records` write several numbers per row, for hundreds of thousands of
 * rows. */
static void
put_int(FILE *f, int64_t v)
{
	char tmp[24], *p = tmp + sizeof(tmp);
	uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;

	do {
		*--p = (char)('0' + u % 10);
		u /= 10;
	} while (u > 0);
	if (v < 0)
		*--p = '-';
	fwrite(p, 1, (size_t)(tmp + sizeof(tmp) - p), f);
}

static int
csv_begin(struct output *o)
{
	size_t i;

	for (i = 0; i < o->ncols; i++) {
		if (i > 0)
			fputc(',', o->f);
		put_text(o->f, o->cols[i].name);
	}
	fputs("\r\n", o->f);
	return 0;
}

static int
csv_row(struct output *o, const struct cell *c)
{
	size_t i;

	for (i = 0; i < o->ncols; i++) {
		if (i > 0)
			fputc(',', o->f);
		switch (o->cols[i].type) {
		case COL_TEXT:
			if (c[i].s != NULL)
				put_text(o->f, c[i].s);
			break;
		case COL_LIST:
		case COL_LIST_NONE:
		case COL_LIST_BAR: {
			char *s = output_list_join(&o->cols[i], &c[i]);

			if (s == NULL)
				return -1;
			put_text(o->f, s);
			free(s);
			break;
		}
		case COL_TIME:
			if (!c[i].null) {
				char t[40];

				output_time(c[i].i, 0, t, sizeof(t));
				fputs(t, o->f);
			}
			break;
		case COL_BOOL:
			if (!c[i].null)
				fputs(c[i].i ? "true" : "false", o->f);
			break;
		case COL_PERCENT:
			if (!c[i].null)
				fprintf(o->f, "%" PRId64 ".%" PRId64,
				    c[i].i / 10, c[i].i % 10);
			break;
		default:
			if (!c[i].null)
				put_int(o->f, c[i].i);
			break;
		}
	}
	fputs("\r\n", o->f);
	return ferror(o->f) ? -1 : 0;
}

static int
csv_end(struct output *o)
{
	(void)o;
	return 0;
}

const struct output_ops output_csv = {"csv", csv_begin, csv_row, csv_end};

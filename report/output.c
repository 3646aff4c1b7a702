/*
 * output.c - format lookup and the calls shared by every format.
 */
#include "output.h"

#include "inert.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

const struct output_ops *
output_find(const char *name)
{
	static const struct output_ops *const all[] = {&output_table,
	    &output_csv, &output_json};
	size_t i;

	for (i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		if (strcmp(all[i]->name, name) == 0)
			return all[i];
	return NULL;
}

int
output_begin(struct output *o, const struct output_ops *ops, FILE *f,
    const struct column *cols, size_t ncols)
{
	memset(o, 0, sizeof(*o));
	o->ops = ops;
	o->f = f;
	o->cols = cols;
	o->ncols = ncols;
	o->width = output_width(f);
	o->color = output_use_color(f);
	return ops->begin(o);
}

int
output_row(struct output *o, const struct cell *cells)
{
	return o->ops->row(o, cells);
}

int
output_end(struct output *o)
{
	int rc = o->ops->end(o);

	if (fflush(o->f) == EOF || ferror(o->f))
		rc = -1;
	return rc;
}

char *
output_list_join(const struct column *col, const struct cell *c)
{
	const char *sep = col->type == COL_LIST_BAR ? "|" : ",";
	const char *absent = col->type == COL_LIST ? "" : "none";
	size_t len = 1, i, at = 0, n = c->i > 0 ? (size_t)c->i : 0;
	char *out;

	for (i = 0; i < n; i++)
		len += strlen(c->v[i] ? c->v[i] : absent) + strlen(sep);
	if ((out = malloc(len)) == NULL)
		return NULL;
	out[0] = '\0';
	for (i = 0; i < n; i++) {
		const char *item = c->v[i] ? c->v[i] : absent;

		if (i > 0) {
			memcpy(out + at, sep, strlen(sep));
			at += strlen(sep);
		}
		memcpy(out + at, item, strlen(item));
		at += strlen(item);
	}
	out[at] = '\0';
	return out;
}

void
output_time(int64_t t, int table, char *out, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL || tm.tm_year > 9999 - 1900)
		snprintf(out, len, "%lld", (long long)t);
	else
		strftime(out, len, table ? "%Y-%m-%d %H:%M" : "%Y-%m-%dT%H:%M:%SZ",
		    &tm);
}

size_t
output_width(FILE *f)
{
	const char *env = getenv("COLUMNS");
	struct winsize ws;
	unsigned long n;
	char *end;

	if (env != NULL && env[0] != '\0') {
		errno = 0;
		n = strtoul(env, &end, 10);
		/* COLUMNS=0 is --wide; a value that is no width is ignored */
		if (errno == 0 && *end == '\0' && env[0] != '-')
			return n == 0 ? SIZE_MAX : n < 20 ? 20 : (size_t)n;
	}
	if (!isatty(fileno(f)))
		return SIZE_MAX;
	if (ioctl(fileno(f), TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		return ws.ws_col < 20 ? 20 : ws.ws_col;
	return 80;
}

int
output_use_color(FILE *f)
{
	const char *nc = getenv("NO_COLOR");

	return isatty(fileno(f)) && (nc == NULL || nc[0] == '\0');
}

/* Characters (not bytes) in s[0..n). */
static size_t
chars(const char *s, size_t n)
{
	size_t c = 0, i;

	for (i = 0; i < n; i++)
		if (((unsigned char)s[i] & 0xc0) != 0x80)
			c++;
	return c;
}

void
output_text(FILE *f, int bold, const char *first, const char *cont,
    const char *raw, size_t width)
{
	char *text = inert_dup(raw);
	const char *p, *prefix = first, *end, *brk;
	size_t room, w;

	/* the prose quotes report values (domains, org names, selectors):
	 * made inert as a whole, since no sentence has a control of its own */
	if (text == NULL) {
		fputs("(out of memory)\n", f);
		return;
	}
	p = text;
	/* prose is wrapped at the caller's width, or the terminal's when
	 * narrower; never cut */
	if (output_width(f) < width)
		width = output_width(f);
	bold = bold && output_use_color(f);
	do {
		fputs(prefix, f);
		room = width > chars(prefix, strlen(prefix))
			   ? width - chars(prefix, strlen(prefix))
			   : 1;
		/* the longest run of whole words that fits; a word longer
		 * than the line is cut */
		brk = NULL;
		for (end = p, w = 0; *end != '\0' && *end != '\n'; end++) {
			if (((unsigned char)*end & 0xc0) != 0x80 && ++w > room)
				break;
			if (*end == ' ')
				brk = end;
		}
		if (*end != '\0' && *end != '\n' && brk != NULL && brk > p)
			end = brk;
		if (bold)
			fputs("\033[1m", f);
		fwrite(p, 1, (size_t)(end - p), f);
		if (bold)
			fputs("\033[0m", f);
		fputc('\n', f);
		p = end;
		while (*p == ' ' || *p == '\n')
			p++;
		prefix = cont;
	} while (*p != '\0');
	free(text);
}

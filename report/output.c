/*
 * output.c - format lookup and the calls shared by every format.
 */
#include "output.h"

#include <stdlib.h>
#include <string.h>
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
	o->width = 100;
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
    const char *text, size_t width)
{
	const char *p = text, *prefix = first, *end, *brk;
	size_t room, w;

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
}

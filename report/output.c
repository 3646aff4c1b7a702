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
	const char *nc = getenv("NO_COLOR");

	memset(o, 0, sizeof(*o));
	o->ops = ops;
	o->f = f;
	o->cols = cols;
	o->ncols = ncols;
	o->width = 100;
	o->color = isatty(fileno(f)) && (nc == NULL || nc[0] == '\0');
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

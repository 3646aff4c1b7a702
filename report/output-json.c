/*
 * output-json.c - a JSON array of objects, one per row, keyed by column
 * name; built and escaped by jansson.  Rows are written as they come, so
 * memory does not grow with the result.
 */
#include <jansson.h>
#include <string.h>
#include <stdlib.h>

#include "output.h"

struct json_state {
	size_t rows;
};

static int
json_begin(struct output *o)
{
	struct json_state *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return -1;
	o->state = s;
	fputs("[", o->f);
	return 0;
}

static int
json_row(struct output *o, const struct cell *c)
{
	struct json_state *s = o->state;
	json_t *obj = json_object(), *v;
	char *text;
	size_t i;
	int rc = 0;

	if (obj == NULL)
		return -1;
	for (i = 0; i < o->ncols; i++) {
		switch (o->cols[i].type) {
		case COL_TEXT:
			v = c[i].s ? json_string(c[i].s) : json_null();
			/* not UTF-8 (a salvaged report): keep the bytes
			 * visible rather than dropping the row */
			if (v == NULL && c[i].s != NULL)
				v = json_stringn_nocheck(c[i].s, strlen(c[i].s));
			break;
		case COL_BOOL:
			v = c[i].null ? json_null() : json_boolean(c[i].i);
			break;
		case COL_PERCENT:
			v = c[i].null ? json_null()
				      : json_real((double)c[i].i / 10.0);
			break;
		default:
			v = c[i].null ? json_null() : json_integer(c[i].i);
			break;
		}
		if (v == NULL || json_object_set_new(obj, o->cols[i].name, v)) {
			rc = -1;
			break;
		}
	}
	if (rc == 0 && (text = json_dumps(obj, JSON_PRESERVE_ORDER |
						  JSON_COMPACT)) != NULL) {
		fprintf(o->f, "%s\n%s", s->rows ? "," : "", text);
		free(text);
		s->rows++;
	} else {
		rc = -1;
	}
	json_decref(obj);
	return rc;
}

static int
json_end(struct output *o)
{
	fputs(((struct json_state *)o->state)->rows ? "\n]\n" : "]\n", o->f);
	free(o->state);
	o->state = NULL;
	return 0;
}

const struct output_ops output_json = {"json", json_begin, json_row,
    json_end};

/*
 * output-json.c - a JSON array of objects, one per row, keyed by column
 * name; built and escaped by jansson.  Percentages are written with ten
 * significant digits (92.4, not 92.400000000000006).  Rows are written as
 * they come, so memory does not grow with the result.
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

/* A text value: null when absent or empty (dmarcsift never stores an empty
 * string for a value: "" is always "not there"). */
static json_t *
json_text(const char *s)
{
	json_t *v;

	if (s == NULL || s[0] == '\0')
		return json_null();
	/* not UTF-8 (a salvaged report): keep the bytes visible rather than
	 * dropping the row */
	if ((v = json_string(s)) == NULL)
		v = json_stringn_nocheck(s, strlen(s));
	return v;
}

static json_t *
json_list(const struct cell *c)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; a != NULL && c->i > 0 && i < (size_t)c->i; i++)
		if (json_array_append_new(a, json_text(c->v[i])) == -1) {
			json_decref(a);
			return NULL;
		}
	return a;
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
			v = json_text(c[i].s);
			break;
		case COL_LIST:
		case COL_LIST_NONE:
		case COL_LIST_BAR:
			v = json_list(&c[i]);
			break;
		case COL_TIME: {
			char t[40];

			output_time(c[i].i, 0, t, sizeof(t));
			v = c[i].null ? json_null() : json_string(t);
			break;
		}
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
						  JSON_COMPACT |
						  JSON_REAL_PRECISION(10))) != NULL) {
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
